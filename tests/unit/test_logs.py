"""The CLI's log lines name the source being ingested: `eikis run` ingests several at once on one stderr."""

from __future__ import annotations

import io
import logging

from pipeline.logs import CLI_FORMAT, SourceFormatter, get_logger, naming_source


def test_a_line_logged_while_a_source_is_ingested_names_it_and_no_other_line_does():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SourceFormatter(CLI_FORMAT))
    logger = get_logger("test_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("before")
        with naming_source("vid"):
            logger.info("staging")
            logging.getLogger("a_library").addHandler(handler)
            logging.getLogger("a_library").warning("its own warning")
        logger.info("after")
    finally:
        logger.removeHandler(handler)
        logging.getLogger("a_library").removeHandler(handler)
    lines = [line.split(" ", 3)[3] for line in stream.getvalue().splitlines()]
    assert lines == ["eikis.test_logs: before", "eikis.test_logs [vid]: staging", "a_library [vid]: its own warning",
                     "eikis.test_logs: after"]
