"""Run `eikis` as the operator does: a separate process, a clean environment, stdout/stderr captured."""

from __future__ import annotations

import subprocess
import sys

BASE_ENV = {"EIKIS_DATA_DOCS": "0", "EIKIS_WORKERS": "1", "EIKIS_DEV_MODE": "1", "PATH": "/usr/bin"}


def eikis(*args: str, env: dict[str, str] | None = None, base: dict[str, str] | None = None,
          timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`python -m pipeline.cli ARGS` with `base` (default: BASE_ENV, development mode) updated by `env`."""
    environment = {**(BASE_ENV if base is None else base), **(env or {})}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *map(str, args)], capture_output=True, text=True,
                          check=False, timeout=timeout, env=environment)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The last stderr line of a failed command, checked to be exit 2, `eikis: error: …` and no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("eikis: error: "), line
    return line
