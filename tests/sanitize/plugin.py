"""pytest plugin of the sanitizer job (scripts/sanitize_canonscan.sh): the tests run against the build of
`_canonscan.c` named by EIKIS_SANITIZED_CANONSCAN (AddressSanitizer and UndefinedBehaviorSanitizer) instead of the
installed one. Loaded with `-p tests.sanitize.plugin`, before any test module imports `xmlcanon`."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

_NAME = "pipeline.sources._canonscan"
_BUILD = os.environ.get("EIKIS_SANITIZED_CANONSCAN")

if _BUILD:
    if _NAME in sys.modules:
        raise RuntimeError(f"{_NAME} was imported before the sanitized build could replace it")
    spec = importlib.util.spec_from_file_location(_NAME, _BUILD)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {_BUILD}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[_NAME] = module


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to run (and so to pass) on anything but the sanitized build."""
    if not _BUILD:
        raise pytest.UsageError("EIKIS_SANITIZED_CANONSCAN is not set: nothing to test under the sanitizers")
    from pipeline.sources import xmlcanon

    if xmlcanon._canonscan is None or os.path.realpath(xmlcanon._canonscan.__file__) != os.path.realpath(_BUILD):
        raise pytest.UsageError(f"xmlcanon does not use the sanitized build {_BUILD}")
