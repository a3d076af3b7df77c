"""National-scale benchmark of one EIKIS month: `make bench` (full) or `make bench-smoke` (tiny, for CI).

For each scale (10 %, 50 %, 100 % of Latvia by default) it generates the inbox once (cached under bench_data/),
then runs the month in one child process, as `eikis run` does — ingest (the sources one after the other, each
source's files parsed in worker processes, `ingest_all`), decide, publish (delivery excluded) — and prints per
stage the wall time, CPU seconds, records per second and peak memory (PSS summed over the process tree, worker
processes included, sampled every 0.5 s). Each source's line has the wall and CPU of its ingest (its workers'
CPU included); the `ingest` line is the whole ingest (wall, CPU of every process, peak of the tree), and the
total adds ingest, decide and publish.
It then compares the project's VID reader with `pandas.read_xml` on one VID file, times `pandas.read_xml` reading
only the VID files of the month at 4 % (the issue-14 yardstick: the whole month must be ≥ 5× faster than that),
and prints how time and memory grow with scale, with a plain PASS / MISS against each target.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026-11"
SOURCES = ("aris", "pmlp", "vid", "vsaa", "electricity", "gas", "heat", "prices", "sopa")
TARGET_SECONDS = 90                 # the whole national month on two cores (issue 14; it was 300 before)
TARGET_RSS_BYTES = 4 * 1024**3
TARGET_READER_SPEEDUP = 10
MONTH_VS_PANDAS_FRACTION = 0.04     # the month at this scale against pandas.read_xml reading only its VID files
TARGET_MONTH_VS_PANDAS = 5
PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 0.5  # reading PSS makes the kernel walk page tables: sampled more often, it slows the run


# ---------------------------------------------------------------- memory of a process tree
def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def tree_rss(root: int, tree: dict[int, list[int]] | None = None) -> int:
    """Memory of a process tree: the sum of each process's PSS (proportional set size), so pages that forked
    workers share copy-on-write with their parent are counted once, not once per process."""
    tree, stack, total = tree if tree is not None else _children(), [root], 0
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
                total += next(int(line.split()[1]) * 1024 for line in handle if line.startswith("Pss:"))
        except (OSError, StopIteration):
            pass
        stack.extend(tree.get(pid, []))
    return total


@dataclass
class StageResult:
    stage: str
    seconds: float
    records: int
    peak_rss: int
    cpu_seconds: float = 0.0  # CPU of the run and its reaped workers: comparable even on a loaded machine
    part_of: str = ""         # "ingest" for a source: it ran beside others, its time is inside the ingest line

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def run_measured_output(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run a command; return the peak memory (summed PSS) of its process tree and its output."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        sys.stderr.write(output[-4000:])
        raise SystemExit(f"stage failed: {' '.join(command[-6:])}")
    return peak, output


# ---------------------------------------------------------------- the month, inside one process (as `eikis run`)
STAGES = ("ingest", "decide", "publish")
MARK = "@@stage"    # `@@stage <name> <wall seconds> <cpu seconds>`: a stage, or a source (`ingest:<source>`)
STARTED = "@@start"  # `@@start ingest:<source> <pid>`: the process whose tree the source's memory is sampled in


def run_month_marked(inbox: Path, workdir: Path, outbox: Path) -> None:
    """Run the month's stages in this process as `eikis run` does, printing a `@@stage` line after each source
    (wall and CPU from its own process), after the whole ingest, and after decide and publish."""
    import pipeline.quality.expectations  # noqa: F401 - import cost counted once, as in `eikis run`
    from pipeline.config import Settings
    from pipeline.flows import monthly
    from pipeline.flows.monthly import Finished, cpu_seconds

    def started(source: str, pid: int) -> None:
        print(f"{STARTED} ingest:{source} {pid}", flush=True)

    def finished(done: Finished) -> None:
        print(f"{MARK} ingest:{done.name} {done.seconds:.3f} {done.cpu_seconds:.3f}", flush=True)

    for stage in STAGES:
        begun, cpu = time.perf_counter(), cpu_seconds()
        if stage == "ingest":
            monthly.ingest_all(month_config(inbox, workdir, outbox), Settings.from_env(), started, finished)
        else:
            run_stage(stage, inbox, workdir, outbox)
        monthly.release_memory()
        print(f"{MARK} {stage} {time.perf_counter() - begun:.3f} {cpu_seconds() - cpu:.3f}", flush=True)


def month_config(inbox: Path, workdir: Path, outbox: Path) -> Any:
    """The monthly flow's config for the benchmark month."""
    from pipeline.flows import monthly

    return monthly.RunConfig(period=PERIOD, inbox=str(inbox), workdir=str(workdir), outbox=str(outbox),
                             policy=str(ROOT / "policy" / "eikis_policy.yaml"))


def run_stage(stage: str, inbox: Path, workdir: Path, outbox: Path) -> None:
    """Decide or publish through the monthly flow's own functions (`pipeline.flows.monthly`), as `eikis run`
    calls them."""
    from pipeline.config import Settings, WorkLayout
    from pipeline.flows import monthly
    from pipeline.handoff import DecisionSummary

    config = month_config(inbox, workdir, outbox)
    if stage == "decide":
        monthly.decide(config, Settings.from_env())
    elif stage == "publish":
        monthly.publish(config, DecisionSummary.load(WorkLayout(workdir, PERIOD)))


def stage_records(stage: str, workdir: Path, outbox: Path) -> int:
    layout = workdir / PERIOD
    if stage.startswith("ingest:"):
        return json.loads((layout / "summaries" / f"{stage.split(':')[1]}.json").read_text())["records"]
    if stage == "ingest":
        return sum(json.loads((layout / "summaries" / f"{source}.json").read_text())["records"] for source in SOURCES)
    if stage == "decide":
        return sum(json.loads((layout / "summaries" / f"{s}.json").read_text())["staged"] for s in ("pmlp", "vid",
                                                                                                     "vsaa"))
    manifest = json.loads((outbox / PERIOD / "manifest.json").read_text())
    return sum(entry["rows"] for entry in manifest["files"])


# ---------------------------------------------------------------- the benchmark
@dataclass
class ScaleResult:
    fraction: float
    stages: list[StageResult] = field(default_factory=list)
    generate_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.stages if not s.part_of)

    @property
    def cpu_seconds(self) -> float:
        return sum(s.cpu_seconds for s in self.stages if not s.part_of)

    @property
    def peak_rss(self) -> int:
        return max(s.peak_rss for s in self.stages)


def inbox_for(data: Path, fraction: float, seed: int) -> tuple[Path, float]:
    inbox = data / f"inbox-{fraction:g}"
    marker = inbox / PERIOD / ".complete"
    if marker.exists():
        return inbox, 0.0
    shutil.rmtree(inbox, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline.cli", "generate", "--period", PERIOD, "--out", str(inbox),
                    "--scale", "national", "--fraction", str(fraction), "--seed", str(seed)], check=True,
                   cwd=ROOT, stdout=subprocess.DEVNULL)
    marker.write_text("generated\n")
    return inbox, time.perf_counter() - started


def bench_scale(data: Path, fraction: float, seed: int, env: dict[str, str]) -> ScaleResult:
    """One child process runs the whole month; RSS samples are attributed to the stage it is in."""
    inbox, generated = inbox_for(data, fraction, seed)
    result = ScaleResult(fraction, generate_seconds=generated)
    run_dir = data / f"run-{fraction:g}"
    shutil.rmtree(run_dir, ignore_errors=True)
    workdir, outbox = run_dir / "work", run_dir / "outbox"
    command = [sys.executable, __file__, "--run-month", "--inbox", str(inbox), "--workdir", str(workdir),
               "--outbox", str(outbox)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    phase = {"stage": STAGES[0]}
    watched: dict[str, int] = {}  # source -> the pid whose tree it runs in, while it runs
    peaks: dict[str, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            tree = _children()
            for name, pid in [(phase["stage"], process.pid), *watched.items()]:
                peaks[name] = max(peaks.get(name, 0), tree_rss(pid, tree))
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    tail: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        tail = (tail + [line])[-40:]
        if line.startswith(STARTED):
            _, stage, pid = line.split()
            watched[stage] = int(pid)
            continue
        if not line.startswith(MARK):
            continue
        _, stage, seconds, cpu = line.split()
        watched.pop(stage, None)
        part_of = stage.split(":")[0] if ":" in stage else ""
        record = StageResult(stage, float(seconds), stage_records(stage, workdir, outbox), peaks.get(stage, 0),
                             float(cpu), part_of)
        result.stages.append(record)
        if not part_of:
            phase["stage"] = STAGES[min(STAGES.index(stage) + 1, len(STAGES) - 1)]
        print(f"  {stage:<18}{record.seconds:>9.1f} s{record.cpu_seconds:>8.1f} s cpu{record.records:>13,} rec"
              f"{record.rate:>13,.0f} rec/s"
              f"{record.peak_rss / 1024**2:>10,.0f} MB", flush=True)
    process.wait()
    done.set()
    sampler.join()
    if process.returncode != 0:
        sys.stderr.write("".join(tail))
        raise SystemExit("the month failed; see the lines above")
    print(f"  {'total':<18}{result.seconds:>9.1f} s{result.cpu_seconds:>8.1f} s cpu{'':>31}"
          f"{result.peak_rss / 1024**2:>10,.0f} MB peak", flush=True)
    return result


def reader_comparison(data: Path, fraction: float, env: dict[str, str]) -> dict[str, float]:
    """The project's VID reader against pandas.read_xml on the same file (one process each)."""
    vid = sorted((data / f"inbox-{fraction:g}" / PERIOD / "vid").glob("income_*.xml"))[0]
    code = (
        "import sys, time; from pathlib import Path; from pipeline.sources import vid; "
        "from pipeline.config import Settings, WorkLayout; from pipeline.sources.base import StageContext; "
        "ctx = StageContext('2026-11', WorkLayout(Path(sys.argv[2]), '2026-11'), Settings.from_env(), "
        "Path(sys.argv[1]).parent); "
        "t = time.perf_counter(); result = vid.stage([Path(sys.argv[1])], ctx); "
        "print(sum(result.records_per_file.values()), time.perf_counter() - t)"
    )
    shutil.rmtree(data / "reader-work", ignore_errors=True)
    ours = subprocess.run([sys.executable, "-c", code, str(vid), str(data / "reader-work")], env=env,
                          capture_output=True, text=True, check=True).stdout.split()
    records, ours_seconds = int(ours[0]), float(ours[1])
    pandas_code = (
        "import sys, time, pandas as pd; t = time.perf_counter(); "
        "df = pd.read_xml(sys.argv[1], xpath='//v:Income', namespaces={'v': 'urn:eikis:vid:income:v1'}); "
        "print(len(df), time.perf_counter() - t)"
    )
    pandas_peak, output = run_measured_output([sys.executable, "-c", pandas_code, str(vid)], env)
    pandas_seconds = float(output.split()[-1])
    return {"file": str(vid.name), "records": records, "eikis_seconds": ours_seconds,
            "pandas_seconds": pandas_seconds, "pandas_peak_rss": pandas_peak, "speedup": pandas_seconds / ours_seconds}


def pandas_vid_files(inbox: Path, env: dict[str, str]) -> dict[str, float]:
    """`pandas.read_xml` reading every VID file of a month, one after the other in one process (its wall time)."""
    files = sorted((inbox / PERIOD / "vid").glob("income_*.xml"))
    code = (
        "import sys, time, pandas as pd; t, c = time.perf_counter(), time.process_time(); "
        "n = sum(len(pd.read_xml(f, xpath='//v:Income', namespaces={'v': 'urn:eikis:vid:income:v1'})) "
        "for f in sys.argv[1:]); print(n, time.perf_counter() - t, time.process_time() - c)"
    )
    peak, output = run_measured_output([sys.executable, "-c", code, *map(str, files)], env)
    records, seconds, cpu = output.split()[-3:]
    return {"files": len(files), "records": int(records), "seconds": float(seconds), "cpu_seconds": float(cpu),
            "peak_rss": peak}


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


NEXT_STEPS = "docs/benchmarks.md, section \"Next steps after session 6\""


def where_time_goes(result: ScaleResult, top: int = 5) -> str:
    """The month's largest sources and stages by CPU seconds with their share of the month's CPU and their wall
    time (sources run at once, so CPU is what adds up): the profile printed under a missed target (per-stage
    figures are above; finer profiles and what to do next are in docs/benchmarks.md)."""
    steps = [stage for stage in result.stages if stage.stage != "ingest"]
    ranked = sorted(steps, key=lambda stage: stage.cpu_seconds, reverse=True)[:top]
    return ", ".join(f"{s.stage} {s.cpu_seconds:.0f} s cpu ({s.cpu_seconds / result.cpu_seconds:.0%}, "
                     f"{s.seconds:.0f} s wall)" for s in ranked)


def print_gap(over: str, result: ScaleResult | None = None) -> None:
    """Under a MISS: how far off, where the month's time goes, and where the next step is written."""
    print(f"       gap: {over}")
    if result is not None:
        print(f"       where the time goes: {where_time_goes(result)}")
    print(f"       next step: {NEXT_STEPS}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny scales only (CI); never the national run")
    parser.add_argument("--scales", default=None, help="comma-separated fractions of national scale")
    parser.add_argument("--data", type=Path, default=ROOT / "bench_data")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--run-month", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--inbox", type=Path)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--outbox", type=Path)
    args = parser.parse_args()
    if args.run_month:
        run_month_marked(args.inbox, args.workdir, args.outbox)
        return 0

    default_scales = "0.001,0.002" if args.smoke else f"{MONTH_VS_PANDAS_FRACTION},0.1,0.5,1.0"
    fractions = [float(f) for f in (args.scales or default_scales).split(",")]
    env = {**os.environ, "EIKIS_PSEUDONYM_SECRET": "benchmark", "EIKIS_PORTAL_DATA_KEY": "benchmark-data-key",
           "PYTHONPATH": str(ROOT)}  # throwaway keys: the benchmark's outputs are synthetic and deleted
    args.data.mkdir(parents=True, exist_ok=True)
    print(f"EIKIS benchmark on {os.cpu_count()} cores, {os.sysconf('SC_PHYS_PAGES') * PAGE / 1024**3:.0f} GiB; "
          f"scales {', '.join(f'{f:.1%}' for f in fractions)}", flush=True)
    results = []
    for fraction in fractions:
        print(f"\nscale {fraction:.1%} of Latvia", flush=True)
        results.append(bench_scale(args.data, fraction, args.seed, env))
        if results[-1].generate_seconds:
            print(f"  (inbox generated in {results[-1].generate_seconds:.0f} s, not counted)")

    print("\nXML reader: one VID file, project reader (staging it, all cores) vs pandas.read_xml", flush=True)
    reader = reader_comparison(args.data, fractions[-1], env)
    print(f"  {reader['records']:,} records: eikis {reader['eikis_seconds']:.1f} s, pandas.read_xml "
          f"{reader['pandas_seconds']:.1f} s ({reader['pandas_peak_rss'] / 1024**3:.1f} GB), "
          f"{reader['speedup']:.1f}x faster")

    yardstick = next((r for r in results if r.fraction == MONTH_VS_PANDAS_FRACTION), results[0])
    print(f"\npandas.read_xml reading only the VID files of the month at {yardstick.fraction:.1%}", flush=True)
    pandas_month = pandas_vid_files(args.data / f"inbox-{yardstick.fraction:g}", env)
    month_ratio = pandas_month["seconds"] / yardstick.seconds
    print(f"  {pandas_month['files']} files, {pandas_month['records']:,} records: {pandas_month['seconds']:.1f} s "
          f"({pandas_month['cpu_seconds']:.1f} s cpu, {pandas_month['peak_rss'] / 1024**3:.1f} GB); the whole month "
          f"{yardstick.seconds:.1f} s ({yardstick.cpu_seconds:.1f} s cpu): ratio {month_ratio:.1f}x wall, "
          f"{pandas_month['cpu_seconds'] / yardstick.cpu_seconds:.1f}x cpu")

    print("\ngrowth (relative to the smallest scale)")
    base = results[0]
    for result in results:
        data_factor = result.fraction / base.fraction
        print(f"  {result.fraction:>6.1%}: data x{data_factor:<5.1f} time x{result.seconds / base.seconds:<6.2f} "
              f"memory x{result.peak_rss / base.peak_rss:.2f}")
    largest = results[-1]
    linear = all(r.seconds / base.seconds <= 1.15 * r.fraction / base.fraction for r in results[1:]) and all(
        r.peak_rss / base.peak_rss <= 1.15 * r.fraction / base.fraction for r in results[1:])
    print("\ntargets")
    if largest.fraction >= 1:
        print(f"  {verdict(largest.seconds <= TARGET_SECONDS)} whole national month {largest.seconds:.0f} s "
              f"(target <= {TARGET_SECONDS} s)")
        if largest.seconds > TARGET_SECONDS:
            print_gap(f"{largest.seconds - TARGET_SECONDS:.0f} s over "
                      f"({largest.seconds / TARGET_SECONDS:.1f}x the target; "
                      f"{largest.cpu_seconds:.0f} cpu-seconds on {os.cpu_count()} cores)", largest)
        print(f"  {verdict(largest.peak_rss <= TARGET_RSS_BYTES)} peak RSS {largest.peak_rss / 1024**3:.2f} GB "
              f"(target <= 4 GB)")
    else:
        print(f"  (national targets not judged: largest scale run is {largest.fraction:.1%})")
    print(f"  {verdict(reader['speedup'] >= TARGET_READER_SPEEDUP)} XML reader {reader['speedup']:.1f}x faster "
          f"than pandas.read_xml (target >= {TARGET_READER_SPEEDUP}x)")
    if reader["speedup"] < TARGET_READER_SPEEDUP:
        print_gap(f"staging the file took {reader['eikis_seconds']:.1f} s; "
                  f"{reader['pandas_seconds'] / TARGET_READER_SPEEDUP:.1f} s would meet it")
    if yardstick.fraction == MONTH_VS_PANDAS_FRACTION:
        print(f"  {verdict(month_ratio >= TARGET_MONTH_VS_PANDAS)} whole month at {yardstick.fraction:.1%} "
              f"{month_ratio:.1f}x faster than pandas.read_xml reading only its VID files "
              f"(target >= {TARGET_MONTH_VS_PANDAS}x)")
        if month_ratio < TARGET_MONTH_VS_PANDAS:
            needed = pandas_month["seconds"] / TARGET_MONTH_VS_PANDAS
            print_gap(f"the month takes {yardstick.seconds:.1f} s; {needed:.1f} s would meet it", yardstick)
    else:
        print(f"  (month vs pandas.read_xml not judged: the target is at {MONTH_VS_PANDAS_FRACTION:.0%}, this run's "
              f"smallest scale is {yardstick.fraction:.1%}, ratio {month_ratio:.1f}x)")
    print(f"  {verdict(linear)} time and memory grow no faster than linearly")
    report = {"scales": [{"fraction": r.fraction, "seconds": r.seconds, "cpu_seconds": r.cpu_seconds,
                          "peak_rss": r.peak_rss,
                          "stages": [asdict(s) for s in r.stages]} for r in results], "reader": reader,
              "month_vs_pandas": {**pandas_month, "fraction": yardstick.fraction, "month_seconds": yardstick.seconds,
                                  "ratio": month_ratio}}
    (args.data / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nfigures saved to {args.data / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
