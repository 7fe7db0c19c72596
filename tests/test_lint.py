"""Ruff as part of the suite, so CI (which runs the README's test command) fails on a lint finding.

Runs the venv's own ruff (pinned in requirements-dev.txt) with the configuration in pyproject.toml.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"ruff check found problems:\n{done.stdout}{done.stderr}"


def _ruff_on(tmp_path, source: str) -> subprocess.CompletedProcess:
    sample = tmp_path / "sample.py"
    sample.write_text(source, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           "--config", str(PROJECT_ROOT / "pyproject.toml"), str(sample)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)


def test_the_project_configuration_sets_the_rules(tmp_path):
    """The suite's check is only as strict as pyproject.toml's [tool.ruff]: lines up to 120 characters pass
    (ruff's own default is 88), longer ones and unused imports are reported."""
    assert _ruff_on(tmp_path, "VALUE = '" + "x" * 100 + "'\n").returncode == 0
    findings = _ruff_on(tmp_path, "import os\n\nVALUE = '" + "x" * 130 + "'\n")
    assert findings.returncode == 1
    assert "F401" in findings.stdout and "E501" in findings.stdout
