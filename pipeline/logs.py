"""Logging for engineers: counts and timings per stage, never a personal code, name or income."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

LOGGER_NAME = "eikis"
NOISY_LOGGERS = ("great_expectations", "py4j", "paramiko", "asyncssh")
CLI_FORMAT = "%(asctime)s %(levelname)s %(name)s%(source)s: %(message)s"
_SOURCE: ContextVar[str] = ContextVar("eikis_source", default="")


def get_logger(name: str) -> logging.Logger:
    """A child of the `eikis` logger, so one handler (CLI or Airflow's) sees every stage."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}")


def configure_cli_logging(verbose: bool = False) -> None:
    """Plain timestamped lines on stderr for the embedded CLI (Airflow configures its own handlers)."""
    handler = logging.StreamHandler()
    handler.setFormatter(SourceFormatter(CLI_FORMAT))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    quiet_noisy_loggers()


@contextmanager
def naming_source(source: str) -> Iterator[None]:
    """Every line logged in the block, by this process and by the workers it forks, names `source`: `eikis run`
    ingests several sources at once, and their lines (a library's warning too) meet on one stderr."""
    token = _SOURCE.set(source)
    try:
        yield
    finally:
        _SOURCE.reset(token)


class SourceFormatter(logging.Formatter):
    """The CLI's line, with ` [source]` after the logger's name while a source is ingested (`naming_source`)."""

    def format(self, record: logging.LogRecord) -> str:
        source = _SOURCE.get()
        record.source = f" [{source}]" if source else ""
        return super().format(record)


def quiet_noisy_loggers() -> None:
    """Only warnings from libraries whose INFO lines bury ours (GX logs ~200 "Skipping registering function"
    lines on import). The CLI calls it at start; Airflow task bodies call it because Airflow owns the handlers."""
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextmanager
def timed(logger: logging.Logger, stage: str) -> Iterator[dict[str, float]]:
    """Log how long a stage took; yields a dict that receives `seconds` when the block ends."""
    started = time.perf_counter()
    result: dict[str, float] = {}
    logger.info("%s: started", stage)
    try:
        yield result
    except BaseException as exc:  # a failed stage says so (class only: a message may hold data), never "finished"
        result["seconds"] = time.perf_counter() - started
        logger.error("%s: failed after %.2f s (%s)", stage, result["seconds"], type(exc).__name__)
        raise
    result["seconds"] = time.perf_counter() - started
    logger.info("%s: finished in %.2f s", stage, result["seconds"])
