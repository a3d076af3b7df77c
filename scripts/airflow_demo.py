"""`make airflow`: Airflow on this machine, every DAG runnable on its first trigger with only a month.

It starts, beside `airflow standalone`:
- a loopback SFTP server (`tests/sftp_server.py`) serving `OUT/sftp`, whose host key goes into the Airflow
  connection `eikis_sftp` (so delivery is verified exactly as in production), and the demo recipients files in
  `config/demo/` naming that connection;
- the deployment's settings, every path under OUT (absolute or relative), in dev mode (`EIKIS_DEV_MODE=1`: the
  built-in demo secrets); a variable already set in the shell wins;
- the suppliers' side of the claims flow: once a month is published by the monthly and the ALDIS DAGs, sample
  claims for it appear in `OUT/claims/<P>/` (`eikis generate-claims`), as suppliers would upload them.

Airflow itself: `.venv/bin` first on PATH (standalone starts its components by the bare name `airflow`), the UI on
`--port` (the execution API URL follows it, or task logs stay empty), no examples, and no scheduled runs
(`use_job_schedule` off: unpausing a DAG on trigger must not queue the schedule's runs ahead of the manual one),
and two users, `admin` (triggers) and `approver` (approves a claims payout: four eyes), passwords printed at start.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.sftp_server import USER, LoopbackSFTPServer  # noqa: E402 - the repository root first

BIN = Path(sys.executable).parent
CLAIMS_SEED = 7


def deployment(out: Path, port: int, server: LoopbackSFTPServer, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment `airflow standalone` runs in: Airflow's settings and the EIKIS deployment's."""
    out = out.resolve()
    own = {
        "AIRFLOW_HOME": str(out / "airflow"), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        # two people: whoever triggers a claims run may not approve its payout (four eyes), so `approver` answers
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,approver:admin",
        "EIKIS_CLAIMS_APPROVERS": environ.get("EIKIS_CLAIMS_APPROVERS") or "approver",
        "AIRFLOW_CONN_EIKIS_SFTP": json.dumps({
            "conn_type": "sftp", "host": "127.0.0.1", "port": server.port, "login": USER, "password": server.password,
            "extra": {"host_key": server.host_key_line, "conn_timeout": 20}}),
        "EIKIS_DEV_MODE": "1",
    }
    paths = {
        "EIKIS_INBOX": out / "inbox", "EIKIS_POLICY": ROOT / "policy" / "eikis_policy.yaml",
        "EIKIS_TRADERS": ROOT / "policy" / "traders.yaml", "EIKIS_OUTBOX": out / "outbox",
        "EIKIS_WORKDIR": out / "work", "EIKIS_ALDIS_OUTBOX": out / "aldis_outbox", "EIKIS_CLAIMS": out / "claims",
        "EIKIS_CLAIMS_OUTBOX": out / "claims_outbox", "EIKIS_SIMULATION_OUT": out / "simulations",
        "EIKIS_RECIPIENTS": ROOT / "config" / "demo" / "recipients.yaml",
        "EIKIS_ALDIS_RECIPIENTS": ROOT / "config" / "demo" / "aldis_recipients.yaml",
        "EIKIS_CLAIMS_RECIPIENTS": ROOT / "config" / "demo" / "claims_recipients.yaml",
    }
    settings = {name: environ.get(name) or str(path) for name, path in paths.items()}
    return {**environ, "PATH": f"{BIN}:{environ.get('PATH', '')}", **own, **settings}


def stage_sample_inbox(env: Mapping[str, str]) -> None:
    """Copy the bundled sample month into the demo's own inbox, once: retention deletes expired inbox months
    (CONTRACTS §15), and it must never reach the repository's `sample_data/`."""
    inbox = Path(env["EIKIS_INBOX"])
    if not inbox.exists():
        shutil.copytree(ROOT / "sample_data" / "inbox", inbox)


def supply_sample_claims(env: Mapping[str, str]) -> list[str]:
    """For each month published in the outbox and the ALDIS outbox (the claims check reads both) without claims
    yet: write the suppliers' sample claims, protected-user claims included."""
    from pipeline.generate.claims import generate_claims

    outbox, claims, aldis = Path(env["EIKIS_OUTBOX"]), Path(env["EIKIS_CLAIMS"]), Path(env["EIKIS_ALDIS_OUTBOX"])
    supplied = []
    for manifest in sorted(outbox.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]/manifest.json")):
        period = manifest.parent.name
        if (aldis / period / "manifest.json").is_file() and not (claims / period).exists():
            generate_claims(period, outbox, aldis, claims, Path(env["EIKIS_POLICY"]), seed=CLAIMS_SEED)
            supplied.append(period)
    return supplied


def _suppliers(env: Mapping[str, str], stop: threading.Event) -> None:
    while not stop.wait(5):
        try:
            for period in supply_sample_claims(env):
                print(f"airflow_demo: the suppliers' sample claims for {period} are in {env['EIKIS_CLAIMS']}",
                      flush=True)
        except Exception as exc:  # noqa: BLE001 - the demo's supplier stand-in must not stop Airflow
            print(f"airflow_demo: sample claims not written ({type(exc).__name__})", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("var"), help="where everything is written (default var)")
    parser.add_argument("--port", type=int, default=8080, help="the Airflow UI's port (default 8080)")
    args = parser.parse_args(argv)
    server = LoopbackSFTPServer(args.out.resolve() / "sftp").start()
    env = deployment(args.out, args.port, server, os.environ)
    stage_sample_inbox(env)
    stop = threading.Event()
    threading.Thread(target=_suppliers, args=(env, stop), daemon=True).start()
    print(f"airflow_demo: UI on http://localhost:{args.port}; deliveries land in {server.root} "
          f"(sftp://{USER}@127.0.0.1:{server.port}); everything else under {args.out.resolve()}", flush=True)
    try:
        return subprocess.run([str(BIN / "airflow"), "standalone"], env=env, check=False).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        stop.set()
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
