"""The tables each notebook needs (`Question.tables_requises`, issue 11 point 4): declared for
every question from what its report reads, found missing on a data set, said in French, and the
page published in place of the notebook escapes data and carries the anchor the syntheses link to."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from cucs_analysis.data import schema
from cucs_analysis.pipeline import publish, runner
from cucs_analysis.reports import questions, synthese

REPORTS = Path(__file__).resolve().parents[1] / "cucs_analysis" / "reports"
#: How a report names a table: the Territory attribute (catalogue_indicateurs is `catalogue`).
ATTRIBUT = {"catalogue_indicateurs": "catalogue"}


def _source(qid: str) -> str:
    path = REPORTS / f"{qid}.py"
    files = [path] if path.is_file() else sorted((REPORTS / qid).glob("*.py"))
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def test_every_question_declares_known_tables():
    for q in questions.QUESTIONS:
        assert q.tables_requises, f"{q.id} ne déclare pas ses tables"
        assert set(q.tables_requises) <= set(schema.TABLES), q.id
        assert "communes" in q.tables_requises  # every notebook reads its commune


@pytest.mark.parametrize("q", [q for q in questions.QUESTIONS if q.required_keys], ids=lambda q: q.id)
def test_each_required_table_is_read_by_the_report(q):
    """A table is declared only if the report (or the region stage it reads) uses it."""
    source = _source(q.id)
    if q.etape_region:
        source += _source("region")
    for table in q.tables_requises:
        if table in ("communes", "quartiers"):
            continue  # load_territory cuts the commune and its quartiers for every report
        attr = ATTRIBUT.get(table, table)
        assert re.search(rf"territoire\.{attr}\b|\[\"{table}\"\]|\(\"{table}\"", source), (q.id, table)


def test_the_programme_questions_need_actions_and_q3_does_not():
    by = questions.BY_ID
    for qid in ("q1", "q2", "q4", "q5", "q6", "q7", "q8"):
        assert "actions" in by[qid].tables_requises, qid
    assert not {"actions", "financements", "operateurs"} & set(by["q3"].tables_requises)
    assert by["q1"].tables_requises == ("communes", "actions", "financements")


def _dataset(available, vides=()):
    tables = {n: pd.DataFrame({"x": [1]}) for n in available}
    tables.update({n: pd.DataFrame({"x": []}) for n in vides})
    return SimpleNamespace(available=frozenset(available) | set(vides), tables=tables)


def test_missing_tables_absent_or_empty():
    q1 = questions.BY_ID["q1"]
    assert runner.tables_manquantes(q1, _dataset(["communes", "actions", "financements"])) == {}
    assert runner.tables_manquantes(q1, _dataset(["communes"])) == {
        "actions": "absente",
        "financements": "absente",
    }
    assert runner.tables_manquantes(q1, _dataset(["communes", "actions"], vides=["financements"])) == {
        "financements": "vide"
    }


def test_french_wording_of_the_missing_tables():
    deux = {"actions": "absente", "financements": "absente"}
    assert runner.phrase_tables(deux) == "tables actions et financements absentes du jeu de données"
    assert runner.phrase_tables({"actions": "absente"}) == "table actions absente du jeu de données"
    assert (
        runner.phrase_tables({"a": "absente", "b": "vide"})
        == "tables a et b absentes ou vides dans le jeu de données"
    )
    assert runner.phrase_besoin(deux, "Jeu") == (
        "Ce carnet a besoin des tables actions et financements, absentes du jeu de données « Jeu » : "
        "il n'a pas été exécuté."
    )
    assert runner.phrase_besoin({"actions": "vide"}).startswith(
        "Ce carnet a besoin de la table actions, vide"
    )
    assert "cucs template" in runner.conseil_tables(deux)
    assert "cucs template" not in runner.conseil_tables({"parcours": "absente"})


def test_the_page_escapes_data_and_carries_the_anchor():
    nom = "<script>alert(1)</script> & Cie"
    page = publish.render_page_tables_absentes(
        "q1",
        "20001",
        nom,
        ["Ce carnet a besoin de <b>x</b>.", "Ajoutez-les."],
        ("communes", "actions"),
        "Tables nécessaires",
    )
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert f'id="{synthese.ancre("Tables nécessaires")}"' in page
    assert "Tables lues par ce carnet : communes et actions." in page
    assert questions.BY_ID["q1"].question in page
