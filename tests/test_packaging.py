"""The project's own housekeeping: dependency lists agree, notebooks are stripped, the
README's two commands exist."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
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


def test_notebooks_saved_from_jupyterlab_stay_clean_in_git():
    """nbstripout is the git filter of notebooks (.gitattributes), installed by the Makefile's
    install step, and a dev dependency."""
    attributes = (ROOT / ".gitattributes").read_text(encoding="utf-8").splitlines()
    assert "*.ipynb filter=nbstripout" in attributes and "*.ipynb diff=ipynb" in attributes
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "nbstripout --install --attributes .gitattributes" in makefile
    assert re.search(r"^install: \$\(STAMP\)\n\t@\$\(GIT_FILTER\)$", makefile, flags=re.M)
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "nbstripout" in _names(dev["optional-dependencies"]["dev"])
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    for pattern in ("/out/", "*.nbconvert.ipynb", "notebooks/.ipynb_checkpoints/"):
        assert pattern in ignored, pattern


@pytest.mark.skipif(shutil.which("git") is None, reason="git absent")
def test_installing_the_git_filter_is_idempotent(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copy(ROOT / ".gitattributes", tmp_path / ".gitattributes")
    before = (tmp_path / ".gitattributes").read_text(encoding="utf-8")
    for _ in range(2):
        subprocess.run(
            [sys.executable, "-m", "nbstripout", "--install", "--attributes", ".gitattributes"],
            cwd=tmp_path,
            check=True,
        )
    assert (tmp_path / ".gitattributes").read_text(encoding="utf-8") == before
    clean = subprocess.run(
        ["git", "config", "filter.nbstripout.clean"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert "nbstripout" in clean.stdout


def test_make_lab_opens_the_project_root_on_the_notebooks():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lab = re.search(r"^lab:.*?(?=^\S|\Z)", makefile, flags=re.M | re.S).group(0)
    assert '--ServerApp.root_dir="$(CURDIR)"' in lab and "--LabApp.default_url=/lab/tree/notebooks" in lab
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "jupyterlab" in _names(project["optional-dependencies"]["lab"])


def test_make_test_runs_ruff_the_tests_and_every_notebook():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    test = re.search(r"^test:.*?(?=^\S|\Z)", makefile, flags=re.M | re.S).group(0)
    assert "ruff check ." in test
    assert re.search(r"pytest -q$", test, flags=re.M)
    assert "pytest -q --nbval-lax --nbval-current-env notebooks/" in test
