"""A failure as one data-free line, the same for `eikis` on the command line and for every Airflow task.

A task's exception would otherwise reach Airflow's log whole: its message (which may quote a value read from a
file, or a URL) and its chain of causes with their tracebacks. `one_line_errors` wraps each DAG task body so the
task fails with the one line the CLI prints instead (`one_line`): an expected failure says the file, the record and
the reason; anything else says its kind and where in the code, with the details withheld. Airflow's own control
exceptions (skip, defer, reschedule, timeout) pass through untouched, so sensors and deferrable waits keep working.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pipeline.errors import EikisError

F = TypeVar("F", bound=Callable[..., Any])


class TaskFailed(EikisError):
    """A task's failure reduced to its one line (the original exception is not chained: it may carry data)."""


def one_line(exc: BaseException) -> str | None:
    """The one-line reason for an expected failure, without personal data; None for a bug.

    EikisError messages are written to be safe. An OSError names the path and the system's reason (paths hold
    no personal data). A store error names the store without its password (pipeline.store.health). A ValueError
    that escaped the readers' checks is named by class only, because its message may quote the value.
    """
    if isinstance(exc, EikisError):
        return exc.one_line()
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or type(exc).__name__}".replace("\n", " ")
    if type(exc).__module__.startswith("sqlalchemy"):
        # lazy: the store's libraries only when a failure is described, not at DAG parse
        from pipeline.store.health import describe

        return f"store error: {describe(exc)}"  # type: ignore[arg-type]
    if isinstance(exc, ValueError):
        return f"an input or option value could not be read ({type(exc).__name__}; details withheld, -v logs them)"
    return None


def unexpected(exc: BaseException) -> str:
    """A bug's line: its kind and the innermost line of code it came from, never its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"unexpected {type(exc).__name__}{where} (details withheld)"


def one_line_errors(function: F) -> F:
    """Wrap a DAG task body: any failure becomes `TaskFailed(<one line>)`, raised without its cause."""

    @functools.wraps(function)
    def task_body(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except TaskFailed:
            raise
        except Exception as exc:
            if type(exc).__module__.split(".")[0] == "airflow":  # skip, defer, reschedule, timeout: Airflow's own
                raise
            line = one_line(exc) or unexpected(exc)
        raise TaskFailed(line)

    task_body.one_line_errors = True  # type: ignore[attr-defined]  # what the DAG tests look for
    return task_body  # type: ignore[return-value]
