"""Kernel: database, migrations, crypto, passwords, tokens, errors. Imports no domain."""
