"""The layers README's "How it is built" draws hold: pyproject's import-linter contracts
are kept (every import counts, also one inside a function), and no app is reached
around them by name."""

import re
import subprocess
from pathlib import Path

from importlinter import api as importlinter

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "registry", "queues", "complaints")


def test_the_import_contracts_are_kept():
    contracts = importlinter.read_configuration(str(ROOT / "pyproject.toml"))["contracts_options"]
    assert len(contracts) == 2  # the apps over the core, and the layers inside registry/
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "lint-imports"), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_no_app_is_reached_by_name_around_the_contracts():
    """`apps.get_model("queues", ...)` or `import_module("queues...")` in the code would be
    the same dependency, hidden from the linter (migrations are Django's own)."""
    by_name = re.compile(r"apps\.get_model\(|import_module\(")
    found = [f"{path.relative_to(ROOT)}:{number}"
             for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
             if "migrations" not in path.parts
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if by_name.search(line)]
    assert found == []
