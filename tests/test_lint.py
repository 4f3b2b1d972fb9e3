"""ruff over the whole tree with the rule set in pyproject.toml ([tool.ruff]): a finding fails the
suite, so unused imports, undefined names and dead assignments do not accumulate."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ruff() -> list[str]:
    exe = shutil.which("ruff")
    if exe:
        return [exe]
    try:
        import ruff  # noqa: F401
    except ImportError:
        pytest.fail("ruff is not installed: pip install -e '.[test]' installs it")
    return [sys.executable, "-m", "ruff"]


def test_ruff_finds_nothing() -> None:
    run = subprocess.run([*_ruff(), "check", "--no-cache", "--output-format", "concise", "."], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
