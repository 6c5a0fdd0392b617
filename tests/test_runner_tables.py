"""A data set with only communes, quartiers, indicators, catalogue and contours (issue 11,
point 4): q3 runs; q1, which needs actions and financements, is not executed and its page, its
results and the syntheses say which tables are missing; years of the parameters absent from the
data give warnings (printed once, shown on the site), not errors. One small run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cucs_analysis.pipeline import runner
from tests.projet import donnees_sans_programme, projet_sur

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
CODE = "20001"
QUESTIONS = ["q1", "q3", "synthese", "synthese_regionale"]
AVERTISSEMENT_IMPORT = "<b>qp.csv</b> n'a pas de colonne d'année : 2015 supposée"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_minimal(tmp_path_factory):
    base = tmp_path_factory.mktemp("tables")
    data = donnees_sans_programme(base / "donnees")
    projet = projet_sur(
        data,
        base / "projet",
        [
            "q1_droit_commun.ipynb",
            "q3_geographie_prioritaire.ipynb",
            "synthese_commune.ipynb",
            "synthese_regionale.ipynb",
        ],
    )
    # what an importer records in metadonnees.yaml: a warning (with markup, shown as text)
    meta = yaml.safe_load((data / "metadonnees.yaml").read_text(encoding="utf-8"))
    meta["import"] = {"insee-qpv": {"avertissements": [AVERTISSEMENT_IMPORT]}}
    (data / "metadonnees.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    defaults = projet / "params" / "defaults.yaml"
    raw = yaml.safe_load(defaults.read_text(encoding="utf-8"))
    annee_zus = int(yaml.safe_load((data / "metadonnees.yaml").read_text())["annee_debut"]) - 2
    defaults.write_text(
        defaults.read_text(encoding="utf-8").replace(
            f"  annee: {raw['zus']['annee']}\n", f"  annee: {annee_zus}\n"
        ),
        encoding="utf-8",
    )
    return projet, data, annee_zus


@pytest.fixture(scope="module")
def resultat(run_minimal, tmp_path_factory):
    import contextlib
    import io

    projet, _data, _annee = run_minimal
    sortie = io.StringIO()
    with contextlib.redirect_stdout(sortie):
        summary = runner.run(projet, [CODE], QUESTIONS, jobs=2, resume=False, progress=False)
    return summary, sortie.getvalue()


def test_q3_runs_and_q1_is_not_executed(run_minimal, resultat):
    projet, _data, _ = run_minimal
    summary, sortie = resultat
    assert summary.exit_code == 0, summary.message
    assert (summary.executes, summary.echecs, summary.sans_tables) == (3, 0, 1)
    assert "1 carnet non exécuté faute de tables (actions, financements)" in summary.message
    manifest = json.loads((projet / "out" / "manifest.json").read_text(encoding="utf-8"))
    runs = {e["question"]: e for e in manifest["runs"]}
    assert runs["q3"]["statut"] == "ok" and not runs["q3"].get("tables_absentes")
    assert runs["q1"]["statut"] == "ok" and runs["q1"]["tables_absentes"] == ["actions", "financements"]
    # q1's notebook never ran; q3's did
    assert not (projet / "out" / "notebooks" / CODE / "q1_droit_commun.ipynb").exists()
    assert (projet / "out" / "notebooks" / CODE / "q3_geographie_prioritaire.ipynb").is_file()
    assert (projet / "out" / "results" / CODE / "q3.json").is_file()


def test_the_page_and_results_say_which_tables_are_missing(run_minimal, resultat):
    projet, _data, _ = run_minimal
    res = json.loads((projet / "out" / "results" / CODE / "q1.json").read_text(encoding="utf-8"))
    assert res["verdict"]["motif"] == "donnee_absente"
    assert "tables actions et financements absentes du jeu de données" in res["verdict"]["texte"]
    assert res["tables_absentes"] == ["actions", "financements"]
    assert res["substitution"] is None and res["part_droit_commun"] is None
    page = (projet / "out" / "site" / "pages" / CODE / "q1.html").read_text(encoding="utf-8")
    assert "Ce carnet a besoin des tables actions et financements, absentes du jeu de données" in page
    assert "cucs template" in page and "cucs import modele" in page
    index = (projet / "out" / "site" / "index.html").read_text(encoding="utf-8")
    assert "données non disponibles" in index
    commune = (projet / "out" / "site" / "communes" / f"{CODE}.html").read_text(encoding="utf-8")
    assert "tables actions et financements absentes du jeu de données" in commune
    # the commune synthesis (which ran after) carries the same verdict and its reason
    synthese = json.loads((projet / "out" / "results" / CODE / "synthese.json").read_text(encoding="utf-8"))
    (v,) = [v for v in synthese["verdicts"] if v["question"] == "q1"]
    assert v["motif"] == "donnee_absente" and "tables actions et financements" in v["texte"]
    # the regional synthesis: q1's column says why for the commune
    region = json.loads(
        (projet / "out" / "results" / "region" / "synthese_regionale.json").read_text(encoding="utf-8")
    )
    colonnes = {c["cle"]: c["libelle"] for c in region["colonnes"]}
    assert colonnes["q1_tables_absentes"] == "Droit commun et dispositifs — Tables actions et financements"
    (ligne,) = [c for c in region["communes"] if c["code_commune"] == CODE]
    assert ligne["q1_tables_absentes"] == "données non disponibles"
    methode = (projet / "out" / "site" / "methode.html").read_text(encoding="utf-8")
    assert "Tables nécessaires à chaque carnet" in methode
    # nothing measured, nothing to download for q1; q3's tables are there
    telechargements = projet / "out" / "site" / "telechargements" / CODE
    assert not list(telechargements.glob("q1_*.csv")) and list(telechargements.glob("q3_*.csv"))


def test_years_absent_from_the_data_warn_and_the_run_goes_on(run_minimal, resultat):
    projet, _data, annee = run_minimal
    summary, sortie = resultat
    attendu = f"params/defaults.yaml, clé « zus.annee » : {annee} est hors des années du jeu de données"
    assert "Avertissements sur les paramètres" in sortie
    assert sortie.count(attendu) == 1  # once, not per commune and region
    manifest = json.loads((projet / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert any(attendu in m for m in manifest["avertissements_parametres"][CODE])
    commune = (projet / "out" / "site" / "communes" / f"{CODE}.html").read_text(encoding="utf-8")
    methode = (projet / "out" / "site" / "methode.html").read_text(encoding="utf-8")
    for page in (commune, methode):
        assert "Avertissements sur les paramètres" in page and f"{annee} est hors des années" in page


def test_resume_keeps_the_page_without_tables(run_minimal, resultat):
    projet, _data, _ = run_minimal
    summary = runner.run(projet, [CODE], QUESTIONS, jobs=1, resume=True, progress=False)
    assert (summary.inchanges, summary.executes, summary.sans_tables) == (4, 0, 0)
    assert (projet / "out" / "site" / "pages" / CODE / "q1.html").is_file()


def test_data_warnings_are_printed_and_on_the_methode_page(run_minimal, resultat):
    projet, _data, _ = run_minimal
    _summary, sortie = resultat
    attendu = f"Import insee-qpv : {AVERTISSEMENT_IMPORT}"
    assert "Avertissements sur les données : 1" in sortie and attendu in sortie
    manifest = json.loads((projet / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["avertissements_donnees"] == [attendu]
    methode = (projet / "out" / "site" / "methode.html").read_text(encoding="utf-8")
    assert "Avertissements sur les données" in methode
    assert "&lt;b&gt;qp.csv&lt;/b&gt; n" in methode and "<b>qp.csv</b>" not in methode  # data stay text


def test_validation_and_import_warnings_in_french():
    from types import SimpleNamespace

    from cucs_analysis.data.errors import AVERTISSEMENT, Problem

    p = Problem("quartiers.csv", None, "zus", None, "inconnu", "3 valeurs « inconnu »", niveau=AVERTISSEMENT)
    ds = SimpleNamespace(
        avertissements=[p, p],
        metadata=SimpleNamespace(import_={"civille": {"avertissements": ["12 doublons retirés"]}}, extra={}),
    )
    assert runner.avertissements_jeu(ds) == [str(p), "Import civille : 12 doublons retirés"]
    assert runner.avertissements_jeu(SimpleNamespace()) == []
