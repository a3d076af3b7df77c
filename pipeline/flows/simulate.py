"""The policy simulation flow (CONTRACTS §17): `eikis simulate` and the `eikis_simulate` DAG call `simulate`.

It re-decides an already ingested month P from its staging (`<workdir>/<P>/staging`, no re-ingest) under the
baseline policy and each variant (`decide.simulate`, the monthly run's own rule functions), and writes
`<out>/<P>/simulation.csv` and `simulation.html` (`publish.simulation`: aggregates, small cells suppressed),
built aside and renamed into place at once. It holds P's lock shared on the workdir (a monthly run of P, which
rewrites the staging, cannot start meanwhile; other readers can) and exclusively on the output folder.

The DAG may name variants only as policy files inside one folder the deployment configures
(`EIKIS_SIMULATION_POLICIES`, default `variants/` beside `EIKIS_POLICY`), never as paths: `SimulateConfig`.
As in the monthly flow, the pipeline's heavy imports (pandas, pyarrow) stay inside the functions, so the DAG file
that imports this module parses fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.catalog import CONNECTION_COMMODITIES
from pipeline.config import FlowConfig, WorkLayout, deployed, derived, private_files, switch
from pipeline.errors import EikisError, PolicyError
from pipeline.logs import get_logger, timed
from pipeline.runlock import period_lock

log = get_logger("flows.simulate")

VARIANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
POLICY_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}\.ya?ml")


class SimulationError(EikisError):
    """The simulation cannot run: P is not ingested in the workdir, or a variant is named wrongly."""


@dataclass(frozen=True)
class SimulationResult:
    period: str
    folder: str
    variants: list[str]
    eligible: dict[str, str]        # variant -> its published total of eligible households (maybe `<5`)

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "folder": self.folder, "variants": self.variants, "eligible": self.eligible}


def parse_variant(text: str) -> tuple[str, Path]:
    """`NAME=FILE` of the command line: a plain name (letters, digits, `_ . -`; not `baseline`) and a path."""
    name, sep, path = text.partition("=")
    if not sep or not path:
        raise SimulationError(f"variant {text[:60]!r} must be NAME=FILE")
    check_variant_name(name)
    return name, Path(path)


def check_variant_name(name: str) -> None:
    from pipeline.decide.simulate import BASELINE  # lazy: not at DAG parse

    if not VARIANT_NAME.fullmatch(name) or name == BASELINE:
        raise SimulationError(f"variant name {name[:60]!r} must be 1-40 letters, digits, '_', '.' or '-', start "
                              f"with a letter or digit, and not be {BASELINE!r}")


def simulate(period: str, workdir: Path, policy: Path, variants: list[tuple[str, Path]], out: Path) -> SimulationResult:
    """Decide P's staging under `policy` (the baseline) and each named variant; publish `<out>/<P>/`."""
    from pipeline.decide.simulate import BASELINE, Variant, simulate_month  # lazy: not at DAG parse
    from pipeline.publish.atomic import build_folder
    from pipeline.publish.atomic import publish as publish_folder
    from pipeline.publish.simulation import suppressed_rows, write_simulation

    names = [name for name, _ in variants]
    for name in names:
        check_variant_name(name)
    if len(set(names)) != len(names):
        raise SimulationError(f"variant names must differ: {', '.join(names)}")
    decided_under = [Variant(BASELINE, *policy_of(policy, period))]
    decided_under += [Variant(name, *policy_of(path, period)) for name, path in variants]
    layout = WorkLayout(Path(workdir), period)
    with period_lock(period, Path(workdir), shared=True), period_lock(period, Path(out)), \
            timed(log, f"simulate {period} ({len(decided_under)} policies)"):
        _require_staging(layout)
        month = simulate_month(layout, decided_under)
        with private_files(), build_folder(Path(out), period) as build:
            write_simulation(build, month)
            published = publish_folder(build, Path(out), period)
    totals = {row.variant: row for row in month.rows if row.breakdown == "total"}
    shown = {row["variant"]: row["eligible_households"] for row in suppressed_rows(list(totals.values()))}
    return SimulationResult(period, str(published), [BASELINE, *names], shown)


def policy_of(path: Path, period: str) -> tuple[Any, Any]:
    """A variant file's version in force for P and its compensation rates (None when it has no such section),
    each checked by the loader the monthly run and the claims flow use."""
    from pipeline.decide.claims_policy import load_claims_policy  # lazy: not at DAG parse
    from pipeline.policy import load_policy

    policy = load_policy(Path(path), period)
    rates = load_claims_policy(Path(path), period).rates if policy.section("compensation") is not None else None
    return policy, rates


def _require_staging(layout: Any) -> None:
    for source in ("aris", "pmlp", "vid", "vsaa", "prices", *CONNECTION_COMMODITIES):
        if not layout.staged(source).exists():
            raise SimulationError(f"{layout.period} is not ingested here (no staged {source}): run `eikis ingest` "
                                  "or the monthly run for it first", file=layout.root)


# ---------------------------------------------------------------- the DAG's request
def _variant_files(resolved: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """Each variant named in the `variants` param, as (its stem, its file) inside the simulation policies folder.
    A name with a path in it, or a file that resolves outside the folder (a symbolic link out), is refused."""
    names, folder = resolved["variants"], Path(resolved["policies"]).resolve()
    if not isinstance(names, list | tuple) or not names:
        raise SimulationError("variants must be a non-empty list of policy file names")
    variants = []
    for name in names:
        if not isinstance(name, str) or not POLICY_FILE.fullmatch(name):
            raise SimulationError(f"variant {str(name)[:60]!r} must be a policy file name (NAME.yaml) in the "
                                  "simulation policies folder, not a path")
        path = (folder / name).resolve()
        if path.parent != folder or not path.is_file():
            raise PolicyError("no such variant policy in the simulation policies folder", file=folder / name)
        variants.append((path.stem, str(path)))
    return tuple(variants)


@dataclass(frozen=True)
class SimulateConfig(FlowConfig):
    """The DAG's request: the month and the variants (policy file names) from the trigger; the workdir, the
    baseline policy, the output folder and the variants' folder from `EIKIS_WORKDIR`, `EIKIS_POLICY`,
    `EIKIS_SIMULATION_OUT` and `EIKIS_SIMULATION_POLICIES` (default: `variants/` beside the policy)."""

    period: str
    workdir: str = deployed()
    policy: str = deployed()
    out: str = deployed("simulation_out")
    policies: str = deployed("simulation_policies")
    variants: tuple[str, ...] = switch()
    variant_files: tuple[tuple[str, str], ...] = derived(_variant_files)


def simulate_request(params: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The DAG's one task: resolve the params, simulate, return the result (an XCom)."""
    config = SimulateConfig.resolve(params, None, environ)
    result = simulate(config.period, Path(config.workdir), Path(config.policy),
                      [(name, Path(path)) for name, path in config.variant_files], Path(config.out))
    return result.to_dict()
