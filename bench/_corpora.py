"""The retrieval evaluation's corpora: real documentation sites shipped by Debian packages, each
with questions written in our own words and the page that answers each one.

- python: Python 3.11's library reference (python3.11-doc), 45 questions, one module page each,
  plus 20 confusable pages no question is about.
- postgres: PostgreSQL 15's manual (postgresql-doc-15), 48 questions phrased as a visitor would
  (not the headings' words), over ~190 pages of which many are long and share vocabulary: the
  CREATE/ALTER TABLE, CREATE INDEX, VACUUM, pg_dump/pg_restore, backup and runtime-config pages
  all speak of tables, indexes, columns and options.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Corpus:
    name: str
    root: Path                          # the HTML tree served over 127.0.0.1
    package: str                        # the Debian package that ships it
    probe: str                          # a file whose presence says it is installed
    questions: list[tuple[str, str]]    # (question, the page that answers it, relative to root)
    distractors: list[str]              # pages no question is about

    @property
    def pages(self) -> list[str]:
        return list(dict.fromkeys([page for _, page in self.questions] + self.distractors))


_PYTHON_QUESTIONS = [
    ("How do I turn a Python dictionary into a JSON string?", "json"),
    ("Which class represents a filesystem path and has methods like glob and read_text?", "pathlib"),
    ("How can I find every non-overlapping match of a regular expression in a string?", "re"),
    ("How do I format a date as text using strftime codes?", "datetime"),
    ("Which container counts hashable items, like a multiset?", "collections"),
    ("How do I get all combinations of r elements from an iterable?", "itertools"),
    ("How can I memoize the results of an expensive function?", "functools"),
    ("How do I parse command-line options and positional arguments in a script?", "argparse"),
    ("How do I emit log messages at different severity levels like warning and error?", "logging"),
    ("How do I run an external program and capture what it prints?", "subprocess"),
    ("How do I copy a whole directory tree recursively?", "shutil"),
    ("How do I read rows of a comma-separated file as dictionaries keyed by the header?", "csv"),
    ("How do I open a connection to an SQLite database file and run SQL?", "sqlite3"),
    ("How do I shuffle a list in place at random?", "random"),
    ("How do I compute the median of some numbers?", "statistics"),
    ("Which function gives the greatest common divisor of integers?", "math"),
    ("How do I pause execution for a number of seconds?", "time"),
    ("How do I compute a SHA-256 digest of some bytes?", "hashlib"),
    ("How should I generate a hard-to-guess token for a password reset link?", "secrets"),
    ("How do I make a random universally unique identifier?", "uuid"),
    ("How do I read and write ZIP archives?", "zipfile"),
    ("How do I create a temporary directory that is cleaned up automatically?", "tempfile"),
    ("How do I list file names that match a shell-style wildcard pattern like *.txt?", "glob"),
    ("Which module implements a priority queue on top of a binary heap?", "heapq"),
    ("How do I insert an item into a sorted list and keep it sorted?", "bisect"),
    ("How do I define a set of symbolic names bound to unique constant values?", "enum"),
    ("Which decorator adds __init__ and __repr__ to a class generated from its fields?", "dataclasses"),
    ("How do I wrap a long paragraph so every line fits a given width?", "textwrap"),
    ("How do I split a URL into scheme, network location and path?", "urllib.parse"),
    ("How do I protect shared data with a mutual exclusion lock between threads?", "threading"),
    ("Which class gives a thread-safe FIFO for producers and consumers?", "queue"),
    ("What is the difference between a shallow copy and a deep copy of an object?", "copy"),
    ("How do I serialize a Python object to bytes and load it back later?", "pickle"),
    ("How do I encode binary data as base64 text?", "base64"),
    ("How do I pack integers into bytes with a chosen byte order?", "struct"),
    ("How do I do exact decimal arithmetic for money without floating-point rounding errors?", "decimal"),
    ("How do I represent a rational number such as one third exactly?", "fractions"),
    ("How do I print a plain-text calendar for one month?", "calendar"),
    ("How can I compare two lists of lines and show what changed between them?", "difflib"),
    ("How do I check whether a path refers to an existing regular file?", "os.path"),
    ("Which class substitutes $name placeholders in a template string?", "string"),
    ("How do I compress a file with gzip from Python code?", "gzip"),
    ("How do I measure how long a small snippet of code takes to run?", "timeit"),
    ("How do I print nested data structures in a readable, indented layout?", "pprint"),
    ("How do I split a string into words the way a Unix shell would, respecting quotes?", "shlex"),
]
# Pages no question is about, chosen to be easy to confuse with the answers (optparse and getopt
# next to argparse, zlib/bz2/lzma next to gzip, shelve/marshal next to pickle, ...).
_PYTHON_DISTRACTORS = ["optparse", "getopt", "zlib", "bz2", "lzma", "tarfile", "shelve", "marshal", "hmac", "array",
                       "cmath", "operator", "contextlib", "filecmp", "fileinput", "configparser", "mimetypes", "binascii",
                       "numbers", "sched"]

# PostgreSQL: each question names what a user wants, rarely the command or the heading; where the
# manual answers it in a reference page and a chapter alike, the question asks for what only the
# expected page has (the pg_dump option, the VACUUM variant, ...).
_POSTGRES_QUESTIONS = [
    ("How do I add a new column to a table that already has data in it?", "sql-altertable"),
    ("I need to change a column from integer to bigint, what is the statement?", "sql-altertable"),
    ("How can I stop people from inserting an order whose customer does not exist?", "ddl-constraints"),
    ("How do I make sure no two rows have the same email address?", "ddl-constraints"),
    ("Can I build an index on a busy table without blocking inserts while it is built?", "sql-createindex"),
    ("Why does the database have to freeze old rows, what is transaction ID wraparound?", "routine-vacuuming"),
    ("Which vacuum variant rewrites the whole table and gives disk space back to the OS?", "sql-vacuum"),
    ("How do I refresh the planner's statistics for just one table?", "sql-analyze"),
    ("With pg_dump, how do I export only the table definitions and no data?", "app-pgdump"),
    ("How do I restore a custom-format archive using several jobs in parallel?", "app-pgrestore"),
    ("How do I save the roles and tablespaces that all databases share?", "app-pg-dumpall"),
    ("How do I load a plain SQL dump file back into a new database with psql?", "backup-dump"),
    ("How can I recover the database to how it was at 3pm yesterday using archived WAL?", "continuous-archiving"),
    ("How can I see the plan the database picks for a slow query and the real row counts?", "using-explain"),
    ("How do I let clients on another machine log in with a password?", "auth-pg-hba-conf"),
    ("How much memory can each sort or hash operation use before it spills to disk?", "runtime-config-resource"),
    ("How do I get every statement that takes longer than one second written to the server log?",
     "runtime-config-logging"),
    ("How do I get an id column that counts up by itself?", "datatype-numeric"),
    ("How can I insert a row, or update the existing one when the key is already taken?", "sql-insert"),
    ("How do I split a huge table into pieces by month so old months can be dropped quickly?",
     "ddl-partitioning"),
    ("Should I store my documents as json or jsonb, what is the difference?", "datatype-json"),
    ("Which operator pulls a field out of a jsonb value as text?", "functions-json"),
    ("How do I let a reporting user read a table without being able to change it?", "sql-grant"),
    ("How do I create a login for a new user with a password that expires at the end of the year?",
     "sql-createrole"),
    ("How do I order full text search results so the most relevant documents come first?",
     "textsearch-controls"),
    ("How do I match strings with a pattern ignoring upper and lower case?", "functions-matching"),
    ("How do I turn a timestamp into text like 2024-03-01 14:05?", "functions-formatting"),
    ("How do I get just the year or the day of the week from a date?", "functions-datetime"),
    ("Which table lock modes conflict with each other?", "explicit-locking"),
    ("Which isolation level guarantees my transactions behave as if they ran one after another?",
     "transaction-iso"),
    ("In a stored function, how do I loop over the rows a query returns?", "plpgsql-control-structures"),
    ("How do I run my own function automatically every time a row is updated?", "sql-createtrigger"),
    ("How can I keep the result of an expensive query stored like a table?", "sql-creatematerializedview"),
    ("Can a standby server answer read-only queries while it is replaying WAL?", "hot-standby"),
    ("How do I load a CSV file into a table quickly?", "sql-copy"),
    ("How do I delete rows based on values found in another table?", "sql-delete"),
    ("How do I query a tree of parent and child rows to any depth?", "queries-with"),
    ("How do I number the rows within each group of a result?", "functions-window"),
    ("How do I find out how much disk space a table and its indexes take?", "functions-admin"),
    ("How can I see which queries are running right now and who runs them?", "monitoring-stats"),
    ("How do I move to a newer major version without dumping and reloading all the data?", "pgupgrade"),
    ("How do I run a script of SQL commands from a file with the command-line client?", "app-psql"),
    ("What does a connection URI look like, with host, port and database name?", "libpq-connect"),
    ("How do I remove a table together with the views that depend on it?", "sql-droptable"),
    ("Is there any performance difference between varchar(n) and text?", "datatype-character"),
    ("How do I make a table that only exists for my session and disappears afterwards?", "sql-createtable"),
    ("Why does my query not use several worker processes even though parallel query is on?",
     "how-parallel-query-works"),
    ("How do I physically reorder a table's rows to follow an index?", "sql-cluster"),
]
_POSTGRES_DISTRACTORS = """
sql-createview sql-update sql-reindex sql-alterrole sql-revoke sql-droprole sql-createschema sql-createsequence
sql-truncate sql-createfunction sql-createprocedure sql-createtype sql-createdatabase sql-dropindex sql-alterindex
sql-lock sql-begin sql-set-transaction sql-explain sql-prepare sql-merge sql-createtableas sql-selectinto
sql-createpolicy sql-createextension sql-alterdefaultprivileges sql-altersystem sql-set sql-show sql-checkpoint
sql-notify sql-comment sql-reassign-owned sql-drop-owned sql-createrule sql-alterview sql-createdomain sql-select
sql-refreshmaterializedview sql-createtablespace sql-altertablespace sql-alterdatabase sql-createuser
sql-altertrigger sql-droptrigger sql-createeventtrigger sql-altersequence sql-createforeigntable
sql-importforeignschema sql-createpublication sql-createsubscription sql-discard sql-commit sql-rollback
sql-savepoint sql-security-label sql-values sql-fetch sql-declare
app-createdb app-dropdb app-pgbasebackup app-pg-ctl app-initdb app-pgreceivewal app-vacuumdb app-reindexdb
app-pgcontroldata app-pgresetwal app-pgrewind app-pgverifybackup app-createuser app-clusterdb pgbench app-pg-isready
runtime-config-connection runtime-config-query runtime-config-autovacuum runtime-config-replication
runtime-config-wal runtime-config-client runtime-config-locks runtime-config-error-handling
runtime-config-statistics runtime-config-file-locations
backup backup-file ddl-basics ddl-default ddl-alter ddl-priv ddl-rowsecurity ddl-schemas ddl-inherit
ddl-generated-columns ddl-system-columns ddl-depend
indexes-types indexes-multicolumn indexes-unique indexes-partial indexes-expressional indexes-index-only-scans
indexes-intro indexes-examine
datatype-datetime datatype-boolean datatype-enum datatype-uuid arrays datatype-textsearch datatype-money
datatype-binary
functions-string functions-math functions-aggregate functions-conditional functions-array functions-sequence
functions-textsearch functions-comparison
textsearch-intro textsearch-tables mvcc-intro routine-reindex maintenance monitoring-locks planner-stats populate
performance-tips queries-table-expressions warm-standby logical-replication high-availability plpgsql-structure
plpgsql-declarations plpgsql-statements trigger-definition rules-materializedviews auth-password
client-authentication libpq-exec tutorial-window tutorial-transactions sql-expressions parallel-plans
wal-configuration
""".split()

PYTHON = Corpus("python", Path("/usr/share/doc/python3.11/html"), "python3.11-doc", "library/json.html",
                [(question, f"library/{module}.html") for question, module in _PYTHON_QUESTIONS],
                [f"library/{module}.html" for module in _PYTHON_DISTRACTORS])
POSTGRES = Corpus("postgres", Path("/usr/share/doc/postgresql-doc-15/html"), "postgresql-doc-15", "sql-altertable.html",
                  [(question, f"{page}.html") for question, page in _POSTGRES_QUESTIONS],
                  [f"{page}.html" for page in _POSTGRES_DISTRACTORS])
CORPORA = {corpus.name: corpus for corpus in (PYTHON, POSTGRES)}
