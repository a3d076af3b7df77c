"""The names of the sources in ingest order, importable without pandas (the DAG file reads them at parse time).

ARIS comes first because every other source is checked against it; the rest are independent of one another.
"""

from __future__ import annotations

SOURCE_ORDER = ("aris", "pmlp", "vid", "vsaa", "electricity", "gas", "heat", "prices", "sopa")
SOURCES_AFTER_ARIS = SOURCE_ORDER[1:]
# sources whose staging never looks an address up in ARIS (PMLP and the connection lists do): their staging does
# not load ARIS's address statuses (`pipeline.ingest`)
SOURCES_WITHOUT_ADDRESSES = ("vid", "vsaa", "prices", "sopa")
CONNECTION_COMMODITIES = ("electricity", "gas", "heat")  # the connection lists of §6 (not the §7 price series)
