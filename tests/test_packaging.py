"""The project's own housekeeping: dependency lists agree, notebooks are stripped, the
README's two commands exist."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _names(requirements: list[str]) -> dict[str, str]:
    """Requirement strings → {normalised name: version spec}."""
    out = {}
    for req in requirements:
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", req)
        assert m, req
        out[m.group(1).lower().replace("_", "-")] = m.group(3).replace(" ", "")
    return out


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = _names(project["dependencies"])
    for extra in ("dev", "lab"):
        wanted.update(_names(project["optional-dependencies"][extra]))
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = _names([d for d in env["dependencies"] if isinstance(d, str) and d not in ("pip",)])
    conda.pop("python")
    assert conda == wanted


def test_notebooks_are_committed_without_outputs():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [], f"{path.name} contient des sorties"
                assert cell.get("execution_count") is None, f"{path.name} a des compteurs d'exécution"


def test_readme_commands_exist_in_makefile():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^make ([a-z]+)$", readme, flags=re.M)
    assert commands[:2] == ["demo", "test"], commands
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in commands:
        assert re.search(rf"^{target}:", makefile, flags=re.M), target


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
