"""A static map of the package: every module, its imports (lazy ones too) and its SQL strings.

Read from the source with `ast`, nothing imported, so the architecture tests see exactly what
the code says.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "modelpilot"
# A statement's start, or a fragment of one (a clause with a placeholder, a sub-select).
SQL = re.compile(r"^\s*(SELECT|INSERT INTO|INSERT OR|UPDATE \w+ SET|DELETE FROM|REPLACE INTO|CREATE|DROP|ALTER TABLE"
                 r"|WITH \w+|PRAGMA|BEGIN|VACUUM)\b"
                 r"|\b(SELECT .+ FROM|JOIN \w+ \w+ ON|WHERE \w)|[\w.]+ (=|<|>|<=|>=|IN) \(?\?")


@dataclass
class Module:
    name: str  # modelpilot.chat.service
    path: Path
    tree: ast.Module
    imports: list[tuple[str, int]] = field(default_factory=list)  # (module or module.attr, line)

    @property
    def domain(self) -> str:
        """The first-level folder (chat, core, rag, ...), or the module's own name at top level."""
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else parts[0]

    @property
    def leaf(self) -> str:
        return self.name.rsplit(".", 1)[-1]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(module: Module) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
            found += [(f"{node.module}.{alias.name}", node.lineno) for alias in node.names]
    return found


@lru_cache(maxsize=1)
def modules() -> dict[str, Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = Module(_module_name(path), path, ast.parse(path.read_text(), str(path)))
        module.imports = _imports(module)
        out[module.name] = module
    return out


def internal_edges() -> dict[str, set[str]]:
    """module -> the project modules it imports (an `from a import b` names a.b when b is a module)."""
    known = modules()
    edges: dict[str, set[str]] = {}
    for module in known.values():
        targets = set()
        for name, _ in module.imports:
            if name in known and name != module.name:
                targets.add(name)
        edges[module.name] = targets
    return edges


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _sql_literals(module: Module):
    """(node, text) of every string literal (f-strings included, their holes as {}) that reads like SQL."""
    for node in ast.walk(module.tree):
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values)
        if text and SQL.search(text):
            yield node, text


def sql_strings(module: Module) -> list[tuple[int, str]]:
    """String literals (f-strings included) that start like an SQL statement."""
    found, seen = [], set()
    for node, text in _sql_literals(module):
        if node.lineno not in seen:
            seen.add(node.lineno)
            found.append((node.lineno, text.strip().splitlines()[0][:60]))
    return found


TABLE_REF = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+\"?([a-z_][a-z0-9_]*)", re.IGNORECASE)


def tables_named(module: Module) -> set[str]:
    """Table names after FROM / JOIN / INTO / UPDATE / TABLE in the module's SQL literals."""
    return {match.group(1).lower() for _, text in _sql_literals(module) for match in TABLE_REF.finditer(text)}
