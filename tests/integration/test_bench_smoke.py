"""CI runs the benchmark command at a tiny scale only (never the national run): it must work and report."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_benchmark_smoke_prints_stage_figures_and_targets(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench.py"), "--smoke", "--scales", "0.001",
                          "--data", str(tmp_path)], capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for stage in ("ingest:aris", "ingest:vid", "decide", "publish", "total"):
        assert f"  {stage}" in run.stdout
    assert "\n  ingest " in run.stdout  # the whole ingest's line, after the sources' own (which ran at once)
    stages = json.loads((tmp_path / "results.json").read_text())["scales"][0]["stages"]
    assert [s["stage"] for s in stages if not s["part_of"]] == ["ingest", "decide", "publish"]
    assert sorted(s["stage"] for s in stages if s["part_of"] == "ingest") == sorted(
        f"ingest:{source}" for source in ("aris", "pmlp", "vid", "vsaa", "electricity", "gas", "heat", "prices",
                                          "sopa"))
    assert "rec/s" in run.stdout and " MB" in run.stdout
    assert "pandas.read_xml" in run.stdout and "x faster" in run.stdout
    assert "targets" in run.stdout and (tmp_path / "results.json").exists()
    lines = run.stdout.splitlines()
    for index, line in enumerate(lines):  # a missed target says by how much and where the next step is written
        if line.lstrip().startswith("MISS"):
            following = "\n".join(lines[index + 1:index + 4])
            assert "gap:" in following and "next step:" in following, following
