"""TRUST.md stays true: every test it cites exists, every figure a test records is in its table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRUST = ROOT / "TRUST.md"
CITE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
RECORD = re.compile(r"""enregistrer\(\s*f?["']([\w.]+)["']""")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_cited_test_exists():
    cites = CITE.findall(TRUST.read_text(encoding="utf-8"))
    assert len(cites) >= 10, "TRUST.md doit citer les tests qui prouvent chaque garantie"
    missing = [f"{f}::{n}" for f, n in cites if not (ROOT / f).is_file() or n not in _test_names(ROOT / f)]
    assert not missing, f"TRUST.md cite des tests absents : {missing}"


def test_every_recorded_figure_is_in_the_table():
    doc = TRUST.read_text(encoding="utf-8")
    table = doc.split("<!-- chiffres:debut -->", 1)[1].split("<!-- chiffres:fin -->", 1)[0]
    keys = {k for p in (ROOT / "tests").glob("*.py") for k in RECORD.findall(p.read_text(encoding="utf-8"))}
    assert keys, "aucun test n'enregistre de chiffre"
    absent = sorted(k for k in keys if f"`{k}`" not in table)
    assert not absent, f"chiffres absents de TRUST.md (lancez python benchmarks/confiance.py) : {absent}"


def test_the_citation_check_can_fail(tmp_path):
    fake = tmp_path / "t.py"
    fake.write_text("def test_a():\n    pass\n", encoding="utf-8")
    assert "test_a" in _test_names(fake) and "test_b" not in _test_names(fake)
