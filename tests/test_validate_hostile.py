"""Issue 9, points 1: the validator never crashes and refuses the absurd.

Each case mutates a copy of `data/demo` (never the demo itself) and runs `validate_dir`, the
function `cucs validate` calls: the answer is a French problem naming the file, the line,
the column and the rule, never an exception. Every case here raised a traceback
(`OverflowError`, `TypeError: cannot safely cast`, `ValueError: cannot reindex…`) or passed
validation before the fix.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cucs_analysis.data import schema
from cucs_analysis.data.errors import Problem
from cucs_analysis.data.validate import format_report, validate_dir

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"

#: Values a spreadsheet or a hostile user can put in a numeric cell that crashed the cast.
NON_FINITE = ["inf", "-inf", "Infinity", "1e400"]
TOO_LARGE = ["1e20", "12345678901234567890"]


def demo_copy(tmp_path: Path) -> Path:
    d = tmp_path / "demo"
    shutil.copytree(DEMO, d)
    return d


def _read(path: Path) -> tuple[list[list[str]], str]:
    text = path.read_text(encoding="utf-8")
    sep = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=sep)), sep


def _write(path: Path, rows: list[list[str]], sep: str) -> None:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def set_cells(d: Path, table: str, column: str, values: dict[int, str]) -> None:
    """Put `values` (file line number → text) in `column` of `table`.csv (header = line 1)."""
    path = d / f"{table}.csv"
    rows, sep = _read(path)
    i = rows[0].index(column)
    for line, v in values.items():
        rows[line - 1][i] = v
    _write(path, rows, sep)


def checksums(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


def find(problems: list[Problem], fichier: str, ligne: int | None, colonne: str) -> list[Problem]:
    return [p for p in problems if p.fichier == fichier and p.ligne == ligne and p.colonne == colonne]


def assert_one_french_line(problems: list[Problem]) -> None:
    for p in problems:
        s = str(p)
        assert "\n" not in s and "Traceback" not in s and "Error" not in s, s
        assert p.fichier and p.regle and p.message


def test_demo_is_still_valid():
    assert validate_dir(DEMO) == []


@pytest.mark.parametrize(
    ("table", "column"),
    [("communes", "population"), ("actions", "annee"), ("operateurs", "annee_creation")],
)
def test_non_finite_and_huge_numbers_in_integer_or_year_columns(tmp_path, table, column):
    d = demo_copy(tmp_path)
    values = {line: v for line, v in enumerate(NON_FINITE + TOO_LARGE, start=2)}
    set_cells(d, table, column, values)
    before = checksums(d)
    problems = validate_dir(d)  # raised OverflowError / TypeError before
    assert_one_french_line(problems)
    for line, v in values.items():
        found = find(problems, f"{table}.csv", line, column)
        assert found, f"{v} : aucun problème ligne {line}\n{format_report(problems)}"
        rule = "nombre non fini" if v in NON_FINITE else "hors limites"
        assert [p.regle for p in found] == [rule], found
        assert found[0].valeur == v
    assert checksums(d) == before


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("financements", "montant_accorde"),
        ("communes", "revenu_median_uu"),
        ("operateurs", "budget_annuel"),
        ("indicateurs", "valeur"),
    ],
)
def test_non_finite_values_anywhere_are_refused(tmp_path, table, column):
    d = demo_copy(tmp_path)
    values = {line: v for line, v in enumerate(NON_FINITE, start=2)}
    set_cells(d, table, column, values)
    problems = validate_dir(d)  # passed validation before
    assert_one_french_line(problems)
    for line in values:
        found = find(problems, f"{table}.csv", line, column)
        assert [p.regle for p in found] == ["nombre non fini"], format_report(problems)


@pytest.mark.parametrize("table", sorted(t for t in schema.TABLES if (DEMO / f"{t}.csv").exists()))
def test_duplicated_header_names_are_a_problem_not_a_crash(tmp_path, table):
    d = demo_copy(tmp_path)
    path = d / f"{table}.csv"
    rows, sep = _read(path)
    first = rows[0][0]
    for r in rows:
        r.append(r[0])  # the first column given twice
    _write(path, rows, sep)
    problems = validate_dir(d)  # ValueError: cannot reindex on an axis with duplicate labels
    assert_one_french_line(problems)
    found = find(problems, f"{table}.csv", 1, first)
    assert [p.regle for p in found] == ["colonne en double"], format_report(problems)
    # The first occurrence is read: nothing else is wrong with the table.
    assert {p.regle for p in problems if p.fichier == f"{table}.csv"} == {"colonne en double"}


def test_an_empty_header_name_given_twice(tmp_path):
    d = demo_copy(tmp_path)
    path = d / "communes.csv"
    rows, sep = _read(path)
    for r in rows:
        r += ["", ""] if r is rows[0] else ["x", "y"]
    _write(path, rows, sep)
    problems = validate_dir(d)
    assert_one_french_line(problems)
    assert {p.regle for p in problems if p.fichier == "communes.csv"} >= {"colonne en double"}


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("annee_debut", "-2005", "hors limites"),
        ("annee_debut", ".inf", "métadonnées"),
        ("annee_debut", "1.0e+308", "hors limites"),
        ("annee_fin", "-.inf", "métadonnées"),
        ("annee_fin", "99999999999999999999", "hors limites"),
        ("annee_revenus_qpv", ".nan", "métadonnées"),
        ("revenu_median_national", ".inf", "métadonnées"),
        ("revenu_median_national", "1.0e+308", "hors limites"),
        ("revenu_median_national", "-19000", "hors limites"),
        ("annee_debut", "deux mille cinq", "métadonnées"),
        ("annee_debut", "[2005, 2006]", "métadonnées"),
        ("synthetique", "peut-être", "métadonnées"),
    ],
)
def test_absurd_metadata_values(tmp_path, key, value, rule):
    d = demo_copy(tmp_path)
    path = d / schema.METADATA_FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(i for i, ln in enumerate(lines, start=1) if ln.startswith(f"{key}:"))
    lines[line - 1] = f"{key}: {value}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = validate_dir(d)  # ValueError / OverflowError before (years)
    assert_one_french_line(problems)
    found = find(problems, schema.METADATA_FILE, line, key)
    assert [p.regle for p in found] == [rule], format_report(problems)


def _indicator_lines(d: Path, indicateur: str, with_rate: bool = False) -> list[int]:
    rows, _ = _read(d / "indicateurs.csv")
    h = rows[0]
    out = []
    for n, r in enumerate(rows[1:], start=2):
        if r[h.index("indicateur")] == indicateur and (not with_rate or r[h.index("numerateur")]):
            out.append(n)
    return out


@pytest.mark.parametrize(
    ("indicateur", "value"),
    [("taux_chomage", "150"), ("taux_chomage", "-3"), ("delits_pour_1000", "1500"), ("population", "-5")],
)
def test_indicator_values_within_the_bounds_of_their_unit(tmp_path, indicateur, value):
    d = demo_copy(tmp_path)
    line = _indicator_lines(d, indicateur)[0]
    set_cells(d, "indicateurs", "valeur", {line: value})
    problems = validate_dir(d)
    assert_one_french_line(problems)
    found = find(problems, "indicateurs.csv", line, "valeur")
    assert [p.regle for p in found] == ["bornes"], format_report(problems)


def test_a_numerator_above_its_denominator(tmp_path):
    d = demo_copy(tmp_path)
    line = _indicator_lines(d, "taux_chomage", with_rate=True)[0]
    rows, _ = _read(d / "indicateurs.csv")
    den = rows[line - 1][rows[0].index("denominateur")]
    set_cells(d, "indicateurs", "numerateur", {line: str(float(den) + 1)})
    problems = validate_dir(d)
    found = find(problems, "indicateurs.csv", line, "numerateur")
    assert [p.regle for p in found] == ["numérateur ≤ dénominateur"], format_report(problems)
    assert "dénominateur" in found[0].message


def test_more_inhabitants_than_participants(tmp_path):
    d = demo_copy(tmp_path)
    set_cells(d, "instances", "habitants", {2: "500"})
    problems = validate_dir(d)
    assert [p.regle for p in find(problems, "instances.csv", 2, "habitants")] == ["habitants ≤ participants"]


@pytest.mark.parametrize(
    ("table", "column", "value", "rule"),
    [
        ("financements", "montant_accorde", "1e308", "valeur invraisemblable"),
        ("financements", "montant_demande", "20000000000", "valeur invraisemblable"),
        ("operateurs", "budget_annuel", "1e12", "valeur invraisemblable"),
        ("communes", "population", "200000000", "valeur invraisemblable"),
        ("communes", "population", "-4100", "minimum"),
        ("communes", "revenu_median_uu", "1e9", "valeur invraisemblable"),
        ("actions", "beneficiaires_prevus", "-3", "minimum"),
        ("droit_commun", "valeur", "1e15", "valeur invraisemblable"),
        ("indicateurs", "denominateur", "1e12", "valeur invraisemblable"),
        ("actions", "annee", "1850", "période"),
        ("actions", "annee", "3000", "période"),
        ("operateurs", "annee_creation", "1066", "minimum"),
        ("gup", "delai_resolution_jours", "10000000", "valeur invraisemblable"),
    ],
)
def test_values_beyond_plausible_bounds(tmp_path, table, column, value, rule):
    d = demo_copy(tmp_path)
    set_cells(d, table, column, {2: value})
    problems = validate_dir(d)
    assert_one_french_line(problems)
    found = find(problems, f"{table}.csv", 2, column)
    assert [p.regle for p in found] == [rule], format_report(problems)


def test_cucs_validate_reports_in_french_without_a_traceback(tmp_path):
    d = demo_copy(tmp_path)
    set_cells(d, "communes", "population", {2: "inf"})
    set_cells(d, "actions", "annee", {3: "1e400"})
    p = d / schema.METADATA_FILE
    p.write_text(p.read_text(encoding="utf-8").replace("annee_debut: 2005", "annee_debut: -2005"), "utf-8")
    res = subprocess.run(
        [sys.executable, "-m", "cucs_analysis.cli", "validate", str(d)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "Traceback" not in out, out
    assert "communes.csv" in out and "ligne 2" in out and "nombre non fini" in out
    assert "metadonnees.yaml" in out and "annee_debut" in out


def _edit_layer(d: Path, layer: str, edit) -> None:
    path = d / f"{layer}.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_absent_and_self_intersecting_geometries(tmp_path):
    d = demo_copy(tmp_path)

    def edit(data):
        data["features"][0]["geometry"] = None
        data["features"][1]["geometry"] = {
            "type": "Polygon",
            "coordinates": [
                [
                    [700000, 6200000],
                    [701000, 6201000],
                    [701000, 6200000],
                    [700000, 6201000],
                    [700000, 6200000],
                ]
            ],
        }

    _edit_layer(d, "quartiers", edit)
    problems = validate_dir(d)  # passed validation before
    assert_one_french_line(problems)
    msgs = [p.message for p in problems if p.fichier == "quartiers.geojson"]
    assert any("entité n° 1" in m and "absente ou vide" in m for m in msgs), msgs
    assert any("entité n° 2" in m and "géométrie invalide" in m for m in msgs), msgs


def test_projected_coordinates_without_a_declared_system(tmp_path):
    d = demo_copy(tmp_path)
    _edit_layer(d, "communes", lambda data: data.pop("crs"))  # read as degrees (RFC 7946)
    problems = validate_dir(d)
    found = [p for p in problems if p.fichier == "communes.geojson"]
    assert [p.regle for p in found] == ["système de coordonnées"], format_report(problems)
    assert "EPSG:2154" in found[0].message


def test_unreadable_files_are_said_in_french_without_python_class_names(tmp_path):
    """A damaged workbook, Parquet file or geographic layer reads « illisible (fichier abîmé ou
    format non reconnu) », never the name of the Python exception (DataSourceError…)."""
    from cucs_analysis.data import readers

    for nom, reader in (
        ("t.xlsx", readers.read_raw_xlsx),
        ("t.parquet", readers.read_raw_parquet),
        ("quartiers.geojson", readers.read_geometry),
    ):
        path = tmp_path / nom
        path.write_bytes(b"\x00\x01 pas un fichier \xff")
        _, problems = reader(path)
        assert problems and all("Error" not in p.message for p in problems), problems
        assert any("fichier abîmé ou format non reconnu" in p.message for p in problems)
