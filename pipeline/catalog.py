"""The names of the sources in ingest order, importable without pandas (the DAG file reads them at parse time).

ARIS comes first because every other source is checked against it; the rest are independent of one another.
"""

from __future__ import annotations

SOURCE_ORDER = ("aris", "pmlp", "vid", "vsaa", "electricity", "gas", "heat", "prices", "sopa")
SOURCES_AFTER_ARIS = SOURCE_ORDER[1:]
CONNECTION_COMMODITIES = ("electricity", "gas", "heat")  # the connection lists of §6 (not the §7 price series)
