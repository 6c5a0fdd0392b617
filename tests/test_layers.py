"""The layers of the package (docs/architecture.md), enforced by import-linter.

The contracts live in `.importlinter`; each is shown to fail on a copy of the package where
its rule is broken on purpose, so a green run means the rules hold, not that nothing ran.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".importlinter"


def _lint(package_parent: Path) -> subprocess.CompletedProcess:
    """Run lint-imports on the `cucs_analysis` package found in `package_parent`."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename=sys.argv[2], no_cache=True))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(package_parent), str(CONFIG)],
        cwd=package_parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_keeps_every_layer_contract():
    res = _lint(ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout


BREAKS = {
    "analysis imports plotting": (
        "analysis/trends.py",
        "import matplotlib  # noqa\n",
        "Analysis is pure",
    ),
    "analysis imports the data readers (I/O)": (
        "analysis/funding.py",
        "from cucs_analysis.data import readers  # noqa\n",
        "Analysis is pure",
    ),
    "data imports a report": (
        "data/dataset.py",
        "from cucs_analysis.reports import q1  # noqa\n",
        "Layers",
    ),
    "a report imports the pipeline": (
        "reports/q4.py",
        "from cucs_analysis.pipeline import results  # noqa\n",
        "Layers",
    ),
    "the pipeline imports the cli": (
        "pipeline/runner.py",
        "from cucs_analysis import cli  # noqa\n",
        "Nothing imports the cli",
    ),
    "one question's report imports another's": (
        "reports/q4.py",
        "from cucs_analysis.reports import q1  # noqa\n",
        "Question reports are independent",
    ),
    "the formatter imports the package": (
        "present/text.py",
        "from cucs_analysis.data import schema  # noqa\n",
        "The French formatter imports nothing",
    ),
}


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_a_broken_rule_fails_the_contracts(case, tmp_path):
    module, line, contract = BREAKS[case]
    copy = tmp_path / "cucs_analysis"
    shutil.copytree(ROOT / "cucs_analysis", copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    source = target.read_text(encoding="utf-8")
    # After the module docstring and `from __future__`, where an import may stand.
    anchor = "from __future__ import annotations\n"
    assert anchor in source, module
    target.write_text(source.replace(anchor, anchor + line, 1), encoding="utf-8")
    res = _lint(tmp_path)
    assert res.returncode != 0, f"{case}: the contracts did not notice\n{res.stdout}"
    broken = [ln for ln in res.stdout.splitlines() if " BROKEN" in ln]
    assert any(ln.startswith(contract) for ln in broken), res.stdout
