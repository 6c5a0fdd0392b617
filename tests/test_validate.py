"""Validation: the corpus of bad inputs, the report, and rules on small frames."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cucs_analysis.data import schema
from cucs_analysis.data.errors import DataError, Problem, count_problems
from cucs_analysis.data.readers import coerce_table
from cucs_analysis.data.validate import check_keys, check_values, format_report, validate_dir

HERE = Path(__file__).parent
MINIMAL = HERE / "fixtures" / "minimal"
CORPUS = HERE / "bad_inputs"
DEMO = HERE.parent / "data" / "demo"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def build_case(case: str, tmp_path: Path) -> Path:
    """The minimal fixture with the case's files overlaid (and those in supprimer.txt removed)."""
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    src = CORPUS / case
    remove = src / "supprimer.txt"
    if remove.exists():
        for name in remove.read_text(encoding="utf-8").split():
            (d / name).unlink()
    for f in src.iterdir():
        if f.name not in ("expected.txt", "supprimer.txt"):
            shutil.copy(f, d / f.name)
    return d


def hashes(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*"))}


def test_corpus_is_large_enough():
    bad = [c for c in CASES if not c.startswith("ok_")]
    assert len(bad) >= 17


def test_minimal_fixture_is_valid():
    assert validate_dir(MINIMAL) == []


@pytest.mark.parametrize("case", CASES)
def test_corpus_case(case, tmp_path):
    d = build_case(case, tmp_path)
    before = hashes(d)
    problems = validate_dir(d)
    report = format_report(problems)
    expected = [s for s in (CORPUS / case / "expected.txt").read_text(encoding="utf-8").splitlines() if s]
    for s in expected:
        assert s in report, f"{case}: « {s} » absent du rapport :\n{report}"
    if case.startswith("ok_"):
        assert problems == []
    else:
        assert len(problems) >= 1
        assert all(p.fichier and p.regle and p.message for p in problems)
    # Validation reads only: same files, same bytes, nothing added.
    assert hashes(d) == before


def test_every_problem_listed_in_one_pass(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    for case in ("likert_7", "montant_negatif", "operateur_inconnu", "code_nombre"):
        for f in (CORPUS / case).iterdir():
            if f.suffix == ".csv":
                shutil.copy(f, d / f.name)
    rules = {(p.fichier, p.regle) for p in validate_dir(d)}
    assert {
        ("enquetes.csv", "maximum"),
        ("financements.csv", "minimum"),
        ("actions.csv", "référence inconnue"),
        ("communes.csv", "forme du code"),
    } <= rules


def test_listing_is_capped_with_summary(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    header = (MINIMAL / "gup.csv").read_text(encoding="utf-8").splitlines()[0]
    rows = [f"G{i:03d},2011-05-02,QP020001,propreté,-1,résolu" for i in range(30)]
    (d / "gup.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    problems = [p for p in validate_dir(d) if p.colonne == "delai_resolution_jours"]
    assert len(problems) == 21
    assert problems[-1].autres == 10 and problems[-1].ligne is None
    assert count_problems(problems) == 30
    assert "… et 10 autres lignes" in format_report(problems)
    assert format_report(problems).endswith("30 problèmes trouvés dans 1 fichier.")


def test_missing_directory():
    problems = validate_dir("/nonexistent/cucs-data")
    assert len(problems) == 1 and problems[0].regle == "dossier absent"


# --- errors and report -------------------------------------------------------------------------


def test_problem_str_is_french_and_complete():
    p = Problem(
        "quartiers.csv",
        5,
        "code_commune",
        "1001",
        "forme du code",
        "le code commune doit avoir 5 caractères (ex. « 01001 »)",
    )
    assert str(p) == (
        "quartiers.csv, ligne 5, colonne « code_commune », valeur « 1001 » : le code commune doit avoir "
        "5 caractères (ex. « 01001 ») [règle : forme du code]"
    )
    assert str(Problem("a.csv", None, None, None, "fichier vide", "le fichier est vide")) == (
        "a.csv : le fichier est vide [règle : fichier vide]"
    )


def test_data_error_lists_problems_and_count():
    err = DataError(
        [Problem("a.csv", 2, "x", "1", "type", "m1"), Problem("b.csv", 3, "y", "2", "type", "m2")]
    )
    text = str(err)
    assert text.startswith("2 problèmes dans les données")
    assert "a.csv, ligne 2" in text and "b.csv, ligne 3" in text
    assert len(err.problems) == 2


def test_format_report_groups_by_file_and_counts():
    problems = [
        Problem("a.csv", 2, "x", "1", "type", "m1"),
        Problem("b.csv", 3, "y", "2", "type", "m2"),
        Problem("a.csv", 4, "x", "3", "type", "m3"),
    ]
    report = format_report(problems)
    lines = report.splitlines()
    assert lines[0] == "a.csv (2 problèmes)"
    assert lines[1].startswith("  - ligne 2, colonne « x »")
    assert lines[2].startswith("  - ligne 4")
    assert lines[3] == "b.csv (1 problème)"
    assert lines[-1] == "3 problèmes trouvés dans 2 fichiers."
    assert (
        format_report([]) == f"Aucun problème : le jeu de données est valide ({len(schema.TABLES)} tables)."
    )


def test_counts_in_messages_use_the_french_digit_groups():
    # The data layer writes its numbers with cucs_analysis.present.text (narrow no-break space).
    many = [Problem("a.csv", None, "x", None, "type", "m", autres=1234)]
    assert str(DataError(many)).startswith("1\u202f234 problèmes dans les données :")
    report = format_report(many).splitlines()
    assert report[0] == "a.csv (1\u202f234 problèmes)"
    assert report[-1] == "1\u202f234 problèmes trouvés dans 1 fichier."


def test_range_messages_write_bounds_in_french():
    from cucs_analysis.data.validate import _range_message

    col = schema.Column("part", "float", "Part", minimum=0.5, maximum=1e6)
    assert _range_message(col, "minimum") == "la valeur doit être comprise entre 0,5 et 1\u202f000\u202f000"
    assert _range_message(schema.Column("n", "float", "N", minimum=2.25), "minimum") == (
        "la valeur doit être supérieure ou égale à 2,25"
    )
    assert _range_message(schema.Column("n", "float", "N", maximum=100.0), "maximum") == (
        "la valeur doit être inférieure ou égale à 100"
    )
    assert _range_message(schema.Column("n", "int", "N", minimum=0), "minimum") == (
        "la valeur ne peut pas être négative"
    )
    # Years are written without digit groups ("1800", not "1 800").
    creation = next(c for c in schema.TABLES["operateurs"].columns if c.name == "annee_creation")
    assert _range_message(creation, "maximum") == "la valeur doit être comprise entre 1800 et 2035"


# --- rules on hand-made frames -----------------------------------------------------------------


def _coerced(table: str, rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    cols = schema.TABLES[table].column_names
    raw = pd.DataFrame([{c: r.get(c, "") for c in cols} for r in rows], dtype="str")
    raw.index = pd.Index(range(2, len(rows) + 2), name="ligne")
    df, _ = coerce_table(raw, schema.TABLES[table], f"{table}.csv")
    return df, raw


def test_check_values_finds_each_failure_on_the_right_line():
    base = {
        "id_reponse": "R1",
        "type_repondant": "habitant",
        "code_quartier": "QP020001",
        "question": "q",
        "reponse": "3",
        "annee": "2010",
    }
    rows = [
        base,
        {**base, "id_reponse": "R2", "reponse": "0"},
        {**base, "id_reponse": "R3", "type_repondant": "élu", "code_quartier": "X1"},
        {**base, "id_reponse": "R4", "question": ""},
    ]
    df, raw = _coerced("enquetes", rows)
    found = {
        (p.ligne, p.colonne, p.regle)
        for p in check_values(df, raw, schema.TABLES["enquetes"], "enquetes.csv")
    }
    assert found == {
        (3, "reponse", "minimum"),
        (4, "type_repondant", "valeurs admises"),
        (4, "code_quartier", "forme du code"),
        (5, "question", "valeur obligatoire"),
    }


def test_check_keys_names_the_first_line():
    rows = [
        {"id_operateur": "OP1"},
        {"id_operateur": "OP2"},
        {"id_operateur": "OP1"},
        {"id_operateur": "OP1"},
    ]
    df, raw = _coerced("operateurs", rows)
    problems = check_keys(df, raw, schema.TABLES["operateurs"], "operateurs.csv")
    assert [(p.ligne, p.valeur) for p in problems] == [(4, "OP1"), (5, "OP1")]
    assert all("à la ligne 2" in p.message for p in problems)


def test_code_hint_only_when_zero_padding_fixes_it():
    rows = [{"code_commune": "1001"}, {"code_commune": "123456"}]
    df, raw = _coerced("communes", rows)
    by_line = {
        p.ligne: p.message
        for p in check_values(df, raw, schema.TABLES["communes"], "communes.csv")
        if p.colonne == "code_commune"
    }
    assert "zéro initial" in by_line[2] and "« 01001 »" in by_line[2]
    assert "zéro initial" not in by_line[3]


@pytest.mark.skipif(not (DEMO / "metadonnees.yaml").exists(), reason="données de démonstration absentes")
def test_demo_validates_cleanly():
    problems = validate_dir(DEMO)
    assert problems == [], format_report(problems)


def test_success_line_names_absent_optional_tables():
    assert format_report([], absentes=["gup", "parcours"]) == (
        f"Aucun problème : le jeu de données est valide ({len(schema.TABLES) - 2} tables ; "
        "tables facultatives absentes : gup, parcours)."
    )
