"""The project's own XSDs, written from CONTRACTS.md §3-§5 and §8 (v1).

They fix the structure (root, namespace, element names, order, presence). Values are typed loosely on purpose:
a bad value in one record is quarantined with a reason code by the record checks, while a structural break stops
the whole file.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from lxml import etree


@cache
def load_schema(name: str) -> etree.XMLSchema:
    """Compile a bundled XSD once per process (parsing it without network or DTD loading)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    text = resources.files(__package__).joinpath(name).read_bytes()
    return etree.XMLSchema(etree.fromstring(text, parser))
