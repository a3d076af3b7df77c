"""Logging for engineers: counts and timings per stage, never a personal code, name or income."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

LOGGER_NAME = "eikis"
NOISY_LOGGERS = ("great_expectations", "py4j", "paramiko", "asyncssh")


def get_logger(name: str) -> logging.Logger:
    """A child of the `eikis` logger, so one handler (CLI or Airflow's) sees every stage."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}")


def configure_cli_logging(verbose: bool = False) -> None:
    """Plain timestamped lines on stderr for the embedded CLI (Airflow configures its own handlers)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet_noisy_loggers()


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
