"""The `sql/*.sql` files of the store's migrations, split into statements executed one by one.

Each Alembic revision (`pipeline/store/migrations/versions/`) names the `sql/` files it applies; a released file is
never edited (a change is a new file and a new revision), so a store's version says exactly what DDL it holds.

Two things a plain `split(";")` gets wrong, both needed by the payout ledger's append-only triggers:
- a PostgreSQL function body is a dollar-quoted string (`$$ … ; … $$`) full of `;`;
- an SQLite trigger body is `BEGIN …; END` with a `;` after each inner statement.
So the splitter skips `--` comments, single-quoted strings and dollar-quoted bodies, and inside a
`CREATE TRIGGER … BEGIN` it splits only at the `;` after the closing `END`.

A file may hold dialect sections: a line `-- dialect: postgresql` (or `sqlite`, or `all`, the default) applies to
the statements after it, so one numbered file keeps a feature's portable and dialect-specific DDL together.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_MARKER = re.compile(r"^\s*--\s*dialect:\s*([a-z]+)\s*$")
_DOLLAR = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_TRIGGER_WITH_BODY = re.compile(r"^\s*CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?TRIGGER\b.*\bBEGIN\b", re.I | re.S)
_ENDS_BLOCK = re.compile(r"\bEND\s*$", re.I)


def sql_dir() -> Path:
    configured = os.environ.get("EIKIS_SQL_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "sql"


def execute_sql_files(*names: str) -> None:
    """Inside a migration: run each named `sql/` file's statements for this database's dialect, in order."""
    from alembic import op  # alembic's `op` works only inside a running migration

    bind = op.get_bind()
    # The DB-API cursor directly, without parameters: no driver reads `%` or `:name` in a function body.
    cursor = bind.connection.cursor()
    for name in names:
        script = for_dialect((sql_dir() / name).read_text(encoding="utf-8"), bind.dialect.name)
        for statement in split_statements(script):
            cursor.execute(statement)


def for_dialect(script: str, dialect: str) -> str:
    """The lines of `script` that apply to `dialect` (section markers removed)."""
    current = "all"
    kept = []
    for line in script.splitlines():
        marker = _MARKER.match(line)
        if marker:
            current = marker.group(1)
            continue
        if current in ("all", dialect):
            kept.append(line)
    return "\n".join(kept)


def split_statements(script: str) -> list[str]:
    """The statements of `script`, without comments, each stripped and without its final `;`."""
    statements: list[str] = []
    buffer: list[str] = []
    i, n = 0, len(script)
    while i < n:
        char = script[i]
        if script.startswith("--", i):
            end = script.find("\n", i)
            i = n if end < 0 else end
            continue
        if char == "'":
            end = i + 1
            while True:
                end = script.find("'", end)
                if end < 0:
                    raise ValueError("unterminated string literal in SQL")
                if script.startswith("''", end):
                    end += 2
                    continue
                break
            buffer.append(script[i:end + 1])
            i = end + 1
            continue
        if char == "$" and (tag := _DOLLAR.match(script, i)):
            end = script.find(tag.group(0), tag.end())
            if end < 0:
                raise ValueError(f"unterminated {tag.group(0)} block in SQL")
            buffer.append(script[i:end + len(tag.group(0))])
            i = end + len(tag.group(0))
            continue
        if char == ";":
            statement = "".join(buffer)
            if _TRIGGER_WITH_BODY.match(statement) and not _ENDS_BLOCK.search(statement):
                buffer.append(char)
            else:
                if statement.strip():
                    statements.append(statement.strip())
                buffer = []
            i += 1
            continue
        buffer.append(char)
        i += 1
    if "".join(buffer).strip():
        statements.append("".join(buffer).strip())
    return statements
