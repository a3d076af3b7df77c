"""Licence inventory of EIKIS's runtime dependencies: writes or checks docs/licences.md.

EIKIS is licensed under the EUPL-1.2 (LICENSE). A public body that distributes it, or the image built from it,
must know under which terms every library it ships is used, and a new dependency must not bring in a licence that
cannot sit beside the EUPL. The runtime part of `requirements.lock` is what `pip install eikis[airflow]` pulls in:
the dependency closure of the installed `eikis` distribution (its core requirements and the `airflow` extra, never
`dev`), walked through each installed distribution's own metadata. Each licence is taken, in this order, from
the PEP 639 `License-Expression` field, the `License` field when it is an SPDX expression or a known name, the
`License ::` classifiers, or a reviewed entry in `REVIEWED` (for metadata that is ambiguous, like "BSD License").

    python scripts/licences.py            # rewrite docs/licences.md
    python scripts/licences.py --check    # fail (exit 1) on an unknown or incompatible licence, or a stale file

An unknown licence, an incompatible one, or a dependency missing from the lock fails both modes with one line per
distribution; the check also fails when docs/licences.md differs from what the installed metadata gives.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
INVENTORY = ROOT / "docs" / "licences.md"
LOCK = ROOT / "requirements.lock"
PROJECT = "eikis"
RUNTIME_EXTRAS = ("airflow",)

# Licences a runtime dependency of an EUPL-1.2 work may carry, by class. Permissive licences ask for a notice
# only. Weak copyleft covers the library itself, which EIKIS uses unmodified. The strong copyleft licences are
# those the EUPL-1.2 appendix lists as compatible (Article 5): a combined work may be distributed under them.
# The deprecated SPDX forms (`LGPL-2.1` = `-only`, `LGPL-2.1+` = `-or-later`) still appear in metadata.
# Anything else (proprietary, SSPL, a licence with a field-of-use restriction, …) is incompatible until reviewed.
COMPATIBLE: dict[str, str] = {
    **dict.fromkeys(("0BSD", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "CC0-1.0", "HPND", "ISC", "MIT", "MIT-0",
                     "PSF-2.0", "Python-2.0", "Unlicense", "Zlib"), "permissive"),
    **dict.fromkeys(("EPL-2.0", "LGPL-2.1", "LGPL-2.1+", "LGPL-2.1-only", "LGPL-2.1-or-later", "LGPL-3.0",
                     "LGPL-3.0+", "LGPL-3.0-only",
                     "LGPL-3.0-or-later", "MPL-2.0"), "weak copyleft"),
    **dict.fromkeys(("AGPL-3.0-only", "AGPL-3.0-or-later", "EUPL-1.1", "EUPL-1.2", "GPL-2.0-only",
                     "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later"), "copyleft (EUPL-1.2 appendix)"),
}

# Free-text `License` values and `License ::` classifiers that name exactly one licence.
KNOWN_NAMES: dict[str, str] = {
    "Apache License 2.0": "Apache-2.0",
    "Apache Software License": "Apache-2.0",
    "BSD 2-Clause License": "BSD-2-Clause",
    "3-Clause BSD License": "BSD-3-Clause",
    "ISC License": "ISC",
    "ISC License (ISCL)": "ISC",
    "MIT License": "MIT",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "Python Software Foundation License": "PSF-2.0",
    "The Unlicense (Unlicense)": "Unlicense",
}

# Distributions whose metadata is ambiguous or wrong, each read from the licence file it ships (checked for the
# version in requirements.lock when the entry was written; re-read it when a new version changes its metadata).
REVIEWED: dict[str, tuple[str, str]] = {
    "altair": ("BSD-3-Clause", "classifier says only 'BSD License'; its LICENSE is the 3-clause text"),
    "amqp": ("BSD-3-Clause", "License field 'BSD'; its LICENSE: 'The BSD License (3 Clause)'"),
    "billiard": ("BSD-3-Clause", "License field 'BSD'; its LICENSE.txt is the 3-clause text"),
    "click-plugins": ("BSD-3-Clause", "License field 'New BSD'; its LICENSE.txt is the 3-clause text"),
    "colorama": ("BSD-3-Clause", "classifier 'BSD License'; its LICENSE.txt is the 3-clause text"),
    "flask-appbuilder": ("BSD-3-Clause", "License field 'BSD'; its LICENSE is the 3-clause text"),
    "flask-session": ("BSD-3-Clause", "classifier 'BSD License'; its LICENSE.rst is the 3-clause text"),
    "flask-sqlalchemy": ("BSD-3-Clause", "classifier 'BSD License'; Pallets' LICENSE.rst is the 3-clause text"),
    "flask-wtf": ("BSD-3-Clause", "License field is the copyright line; its LICENSE.rst is the 3-clause text"),
    "flower": ("BSD-3-Clause", "License field 'BSD'; its LICENSE is the 3-clause text"),
    "itsdangerous": ("BSD-3-Clause", "classifier 'BSD License'; Pallets' LICENSE.txt is the 3-clause text"),
    "jinja2": ("BSD-3-Clause", "classifier 'BSD License'; Pallets' LICENSE.txt is the 3-clause text"),
    "libcst": ("MIT AND PSF-2.0 AND Apache-2.0", "its LICENSE: MIT, files derived from CPython (PSF) and "
               "dataclasses (Apache-2.0)"),
    "prompt-toolkit": ("BSD-3-Clause", "classifier 'BSD License'; its LICENSE is the 3-clause text"),
    "psycopg2": ("LGPL-3.0-or-later", "License field 'LGPL with exceptions'; its LICENSE: LGPL 3 or later, with "
                 "an exception for linking OpenSSL"),
    "python-dateutil": ("Apache-2.0 AND BSD-3-Clause", "License field 'Dual License'; its LICENSE: Apache-2.0 "
                        "for contributions since 2017, BSD-3-Clause for the earlier code"),
    "scipy": ("BSD-3-Clause", "License field is the copyright text; its LICENSE.txt is the 3-clause text"),
    "sqlparse": ("BSD-3-Clause", "classifier 'BSD License'; its LICENSE is the 3-clause text"),
    "vine": ("BSD-3-Clause", "License field 'BSD'; its LICENSE: 'The BSD License (3 Clause)'"),
    "wtforms": ("BSD-3-Clause", "License field is the copyright line; its LICENSE.rst is the 3-clause text"),
    "text-unidecode": ("Artistic-1.0-Perl OR GPL-2.0-or-later", "its LICENSE.txt: GPL 2 or later, or the "
                       "Artistic License (Perl's)"),
}


@dataclass(frozen=True)
class Licence:
    """One runtime dependency's licence: an SPDX expression, where it was read, and how it sits beside EUPL."""

    name: str
    version: str
    expression: str | None
    evidence: str
    verdict: str | None  # a class of COMPATIBLE, or None when incompatible or unknown

    @property
    def problem(self) -> str | None:
        """One line naming the distribution and the reason it fails the inventory, or None."""
        if self.expression is None:
            return f"{self.name} {self.version}: unknown licence ({self.evidence}); add it to REVIEWED"
        if self.verdict is None:
            return f"{self.name} {self.version}: licence {self.expression} is not compatible with EUPL-1.2"
        return None


def runtime_closure(project: str = PROJECT, extras: Iterable[str] = RUNTIME_EXTRAS) -> dict[str, str]:
    """{canonical name: installed version} of every distribution `project[extras]` needs at run time."""
    found: dict[str, set[str]] = {}
    pending: list[tuple[str, frozenset[str]]] = [(project, frozenset(extras))]
    while pending:
        name, wanted = pending.pop()
        key = canonicalize_name(name)
        if key in found and wanted <= found[key]:
            continue
        found.setdefault(key, set()).update(wanted)
        for line in metadata.distribution(key).requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or _applies(requirement.marker, wanted):
                pending.append((requirement.name, frozenset(requirement.extras)))
    found.pop(canonicalize_name(project))
    return {name: metadata.version(name) for name in sorted(found)}


def _applies(marker: Marker, extras: frozenset[str]) -> bool:
    """Whether a requirement's marker holds on this interpreter for the extras asked of its distribution."""
    return any(marker.evaluate({"extra": extra}) for extra in (extras or {""}))


def locked_names(lock: Path = LOCK) -> set[str]:
    """The canonical names pinned in requirements.lock (`name==version \\` lines)."""
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", lock.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {canonicalize_name(name) for name in pins}


def licence_of(name: str, version: str, fields: metadata.PackageMetadata) -> Licence:
    """Read one distribution's licence from its metadata (see the module docstring for the order)."""
    expression, evidence = _declared(fields)
    if expression is None and name in REVIEWED:
        expression, reason = REVIEWED[name]
        evidence = f"reviewed: {reason}"
    return Licence(name, version, expression, evidence, None if expression is None else verdict(expression))


def _declared(fields: metadata.PackageMetadata) -> tuple[str | None, str]:
    """The SPDX expression the metadata states unambiguously, and which field said it."""
    if fields.get("License-Expression"):
        return _spdx(fields["License-Expression"]), "License-Expression"
    text = (fields.get("License") or "").strip()
    if text and "\n" not in text:
        if text in KNOWN_NAMES:
            return KNOWN_NAMES[text], "License"
        if _spdx(text):
            return _spdx(text), "License"
    classifiers = [c.rsplit("::", 1)[-1].strip() for c in fields.get_all("Classifier") or []
                   if c.startswith("License ::")]
    named = sorted({KNOWN_NAMES[c] for c in classifiers if c in KNOWN_NAMES})
    if named and len(named) == len(set(classifiers)):
        return " OR ".join(named), "classifiers"
    shown = text.splitlines()[0][:60] if text else ", ".join(classifiers) or "no licence metadata"
    return None, shown


def _spdx(text: str) -> str | None:
    try:
        return str(canonicalize_license_expression(text))
    except InvalidLicenseExpression:
        return None


def verdict(expression: str) -> str | None:
    """The class under which the expression is compatible with EUPL-1.2, or None.

    `A OR B` needs one compatible side (EIKIS chooses it), `A AND B` both; `X WITH exception` is judged as X,
    since an exception only adds permissions.
    """
    tokens = re.findall(r"\(|\)|[^\s()]+", expression)
    result, rest = _or(tokens)
    if rest:
        raise ValueError(f"cannot read licence expression {expression!r}")
    return result


def _or(tokens: list[str]) -> tuple[str | None, list[str]]:
    left, tokens = _and(tokens)
    while tokens and tokens[0].upper() == "OR":
        right, tokens = _and(tokens[1:])
        left = _best(left, right)
    return left, tokens


def _and(tokens: list[str]) -> tuple[str | None, list[str]]:
    left, tokens = _term(tokens)
    while tokens and tokens[0].upper() == "AND":
        right, tokens = _term(tokens[1:])
        left = None if left is None or right is None else _strictest(left, right)
    return left, tokens


def _term(tokens: list[str]) -> tuple[str | None, list[str]]:
    if tokens[0] == "(":
        inner, rest = _or(tokens[1:])
        return inner, rest[1:]
    identifier, rest = tokens[0], tokens[1:]
    if rest and rest[0].upper() == "WITH":
        rest = rest[2:]
    return COMPATIBLE.get(identifier), rest


_ORDER = ("permissive", "weak copyleft", "copyleft (EUPL-1.2 appendix)")


def _best(a: str | None, b: str | None) -> str | None:
    options = [c for c in (a, b) if c is not None]
    return min(options, key=_ORDER.index) if options else None


def _strictest(a: str, b: str) -> str:
    return max(a, b, key=_ORDER.index)


def inventory() -> list[Licence]:
    """Every runtime dependency with its licence, sorted by name."""
    return [licence_of(name, version, metadata.metadata(name)) for name, version in runtime_closure().items()]


def problems(licences: Iterable[Licence], locked: set[str]) -> Iterator[str]:
    """One line per dependency that is unknown, incompatible, or not pinned in the lock."""
    for licence in licences:
        if licence.problem:
            yield licence.problem
        if licence.name not in locked:
            yield f"{licence.name} {licence.version}: installed as a runtime dependency but not in requirements.lock"


def render(licences: list[Licence]) -> str:
    """docs/licences.md: one row per runtime dependency (no versions: the lock has them)."""
    counts = {c: sum(1 for licence in licences if licence.verdict == c) for c in _ORDER}
    lines = [
        "# Licences of the runtime dependencies",
        "",
        "EIKIS is licensed under the [EUPL-1.2](../LICENSE). This file lists the licence of every distribution that",
        "`eikis[airflow]` installs from `requirements.lock` at run time (development tools excluded). It is",
        "generated by `python scripts/licences.py` (`make licences`) from the installed metadata, and `make test`",
        "fails when a dependency's licence is unknown or not compatible with the EUPL-1.2, or when this file is",
        "stale. `reviewed` rows were read from the licence file the distribution ships (`scripts/licences.py`,",
        "`REVIEWED`). The packages of the base image (`Dockerfile`) that the lock does not install are not listed.",
        "",
        f"{len(licences)} distributions: " + ", ".join(f"{counts[c]} {c}" for c in _ORDER) + ".",
        "",
        "| distribution | licence (SPDX) | read from | beside EUPL-1.2 |",
        "|---|---|---|---|",
    ]
    for licence in licences:
        evidence = "reviewed" if licence.evidence.startswith("reviewed") else licence.evidence
        lines.append(f"| {licence.name} | {licence.expression} | {evidence} | {licence.verdict} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/licences.md is stale; write nothing")
    args = parser.parse_args(argv)
    licences = inventory()
    failures = list(problems(licences, locked_names()))
    for line in failures:
        print(f"licences: {line}", file=sys.stderr)
    if failures:
        return 1
    text = render(licences)
    if not args.check:
        INVENTORY.write_text(text, encoding="utf-8")
        print(f"licences: wrote {INVENTORY.relative_to(ROOT)} ({len(licences)} distributions)")
        return 0
    if not INVENTORY.is_file() or INVENTORY.read_text(encoding="utf-8") != text:
        print("licences: docs/licences.md is stale: run `make licences` and commit it", file=sys.stderr)
        return 1
    print(f"licences: {len(licences)} runtime distributions, every licence compatible with EUPL-1.2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
