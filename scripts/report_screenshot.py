"""Make `docs/report.png`: the run report of the sample month after five earlier synthetic months, in Chromium.

The earlier months are generated with other seeds (`eikis generate`), so their counts differ the way real months
do; each goes past the anomaly gate with an explicit, recorded reason. Needs a `chromium` binary and the dev
extras (playwright). Run: `.venv/bin/python scripts/report_screenshot.py [--out docs/report.png]`.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from pipeline.cli import main as eikis

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PERIOD = "2026-11"
EARLIER = ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10")


def build(work: Path) -> Path:
    inbox, outbox, workdir = work / "inbox", work / "outbox", work / "work"
    db = f"sqlite:///{work / 'eikis.sqlite'}"
    for seed, period in enumerate(EARLIER, start=11):
        assert eikis(["generate", "--period", period, "--out", str(inbox), "--scale", "sample", "--seed", str(seed),
                      "--inject-bad"]) == 0
    shutil.copytree(ROOT / "sample_data" / "inbox" / SAMPLE_PERIOD, inbox / SAMPLE_PERIOD)
    for period in (*EARLIER, SAMPLE_PERIOD):
        code = eikis(["run", "--period", period, "--inbox", str(inbox), "--outbox", str(outbox), "--policy",
                      str(ROOT / "policy" / "eikis_policy.yaml"), "--workdir", str(workdir), "--db", db,
                      "--accept-anomaly", "synthetic demonstration months (different generator seeds)"])
        assert code == 0, period
    return workdir / SAMPLE_PERIOD / "report" / "report.html"


def screenshot(page_path: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        page = browser.new_page(viewport={"width": 1200, "height": 1700}, device_scale_factor=1)
        page.goto(page_path.as_uri())
        page.screenshot(path=str(out), full_page=False)
        browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        screenshot(build(Path(tmp)), args.out)
    print(f"wrote {args.out}")
