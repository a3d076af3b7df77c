"""Issue 21.4: no function-local import in `pipeline/` without its reason written beside it.

A function-local import is a decision (a heavy library kept out of DAG parsing, an optional wheel, Alembic's `op`
that exists only inside a migration); without the reason next to it nobody can tell whether it may move to the
top. The reason is a comment on the import's line, on the line above it, or on an earlier import of the same
uninterrupted block of imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"


def unexplained_local_imports(source: str) -> list[int]:
    """Line numbers of the function-local imports in `source` that have no reason comment (module doc)."""
    lines = source.splitlines()
    found: set[int] = set()
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for owner in ast.walk(function):
            for body in (getattr(owner, name, None) for name in ("body", "orelse", "finalbody")):
                if not isinstance(body, list):
                    continue
                explained = False
                for statement in body:
                    if not isinstance(statement, ast.Import | ast.ImportFrom):
                        explained = False
                        continue
                    own = lines[statement.lineno - 1:statement.end_lineno]
                    above = lines[statement.lineno - 2].strip() if statement.lineno >= 2 else ""
                    explained = explained or any("#" in line for line in own) or above.startswith("#")
                    if not explained:
                        found.add(statement.lineno)
    return sorted(found)


def test_every_function_local_import_in_pipeline_says_why() -> None:
    missing = [f"{path.relative_to(PIPELINE.parent)}:{line}" for path in sorted(PIPELINE.rglob("*.py"))
               for line in unexplained_local_imports(path.read_text(encoding="utf-8"))]
    assert not missing, ("function-local imports without a reason comment (move them to the module top, or write "
                         "why beside them, e.g. '# lazy: loaded when the task runs, not at DAG parse'): "
                         + ", ".join(missing))


def test_the_check_finds_an_unexplained_import_and_accepts_explained_ones() -> None:
    source = '''
def bare():
    import json
    return json

def explained():
    import json  # lazy: a reason
    from os import path
    return json, path

def above():
    # lazy: a reason
    import json

    from os import path
    x = 1
    import re
    return json, path, re, x
'''
    assert unexplained_local_imports(source) == [3, 17]
