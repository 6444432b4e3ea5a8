"""Every benchmark starts: `python -m tests.benchmarks NAME --help` answers its usage.
A benchmark that fails at import (Django not yet set up when a module is imported) is
only found when someone needs its figure; this finds it in the suite."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks.__main__ import benchmarks

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(benchmarks()))
def test_benchmark_starts(name):
    done = subprocess.run([sys.executable, "-m", "tests.benchmarks", name, "--help"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
