"""q3 (géographie prioritaire): the report recovers the planted truths of the demo, its views
hold numbers, and it copes with missing data (the end-to-end run is in
test_site_end_to_end.py)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import region_of

from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params
from cucs_analysis.present import display, text
from cucs_analysis.reports import q3

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
TRUTH = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))
COMMUNES = pd.read_csv(DEMO / "communes.csv", dtype=str)["code_commune"].tolist()


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def _report(code: str, data_dir: Path = DEMO):
    p = params.load_params(code, ROOT)
    return q3.build(load.load_territory(data_dir, code), region_of(data_dir, p), p)


def test_qpv2014_eligibility_recovers_the_planted_list():
    flagged = set()
    for code in COMMUNES:
        res = _report(code).resultats()
        flagged |= {e["code_quartier"] for e in res["eligibilite"] if e["regle_qpv2014"] is True}
    assert sorted(flagged) == sorted(TRUTH["eligibles_qpv2014"])


def test_report_values_and_sentences_for_a_commune():
    r = _report("20001")
    res = r.resultats()
    assert res["seuil_qpv2014"] == 11300.0
    assert {e["code_quartier"] for e in res["eligibilite"]} == set(
        pd.read_csv(DEMO / "quartiers.csv", dtype=str).query("code_commune == '20001'")["code_quartier"]
    )
    n = sum(e["regle_qpv2014"] for e in res["eligibilite"])
    compte = text.parmi(n, len(res["eligibilite"]), "quartier étudié", "quartiers étudiés")
    assert any(f"{compte} sont éligibles" in c for c in r.constats)
    assert any("11\u202f300\u00a0€" in c for c in r.constats)
    # every quartier of the commune has a class, and classes are described in words
    assert {t["code_quartier"] for t in res["typologie"]} == {e["code_quartier"] for e in res["eligibilite"]}
    assert all(d.startswith("Quartiers ") for d in r.typologie.descriptions.values())
    # the scale table holds every level once per indicator
    chom = r.echelles[r.echelles["indicateur"] == "taux_chomage"]
    assert set(chom["niveau"]) == {"quartier", "commune", "epci", "departement", "region"}
    assert chom["comparaison"].dropna().isin(["plus élevé", "comparable", "plus faible"]).all()


def test_zus_and_dynamique_rules_on_the_region_are_consistent():
    r = _report("20001")
    region = r.eligibilite_region
    # ZUS rule: exactly the quartiers at or above the median index
    median = region["indice_zus"].median()
    assert (region["regle_zus"] == (region["indice_zus"] >= median)).all()
    # dynamique rule: the gap widened by at least the threshold
    seuil = params.load_params("20001", ROOT).dynamique.seuil_points
    assert (region["regle_dynamique"] == (region["variation"] >= seuil)).all()


@pytest.fixture(scope="module")
def partial_data(tmp_path_factory) -> Path:
    """The demo without contours and without any indicator for commune 20008's quartiers."""
    d = tmp_path_factory.mktemp("partiel") / "data"
    shutil.copytree(DEMO, d)
    for f in ("quartiers.geojson", "communes.geojson", "truth.json"):
        (d / f).unlink()
    q = pd.read_csv(d / "quartiers.csv", dtype=str)
    gone = set(q.loc[q["code_commune"] == "20008", "code_quartier"])
    ind = pd.read_csv(d / "indicateurs.csv", dtype=str, keep_default_na=False)
    ind[~ind["code_territoire"].isin(gone)].to_csv(d / "indicateurs.csv", index=False)
    return d


def test_partial_data_gives_not_available_sections(partial_data, monkeypatch):
    r = _report("20008", partial_data)
    assert not r.eligibilite["regle_qpv2014"].any()
    assert q3.carte_commune(r, load.load_territory(partial_data, "20008")) is None
    assert q3.figure_revenus(r) is None
    assert q3.figure_echelles(r) is not None  # upper levels
    echelles = q3.vue_echelles(r)
    assert echelles["Territoire"].tolist() == ["Commune (Villefrêne)", "EPCI", "Département", "Région"]
    assert (echelles["Écart significatif à la commune"] == "").all()  # no quartier row left


def test_views_hold_numbers_for_the_analyst():
    r = _report("20001")
    t = r.tables
    assert set(t) == {
        "echelles",
        "eligibilite",
        "entrees_sorties",
        "transitions",
        "classes",
        "classes_commune",
        "repartition",
        "ciblage",
        "credits_quartiers",
        "bilans",
        "jeunesse",
        "entrees",
    }
    for name, vue in t.items():
        assert not vue.empty, name
        for col, unite in vue.attrs["unites"].items():
            if unite != "texte":  # numbers, or « s » where statistical secrecy hides a count
                publie = vue[col][vue[col] != text.SECRET]
                assert pd.api.types.is_numeric_dtype(publie.astype(float)), (name, col)
    classes = t["classes"]
    assert classes["Quartiers"].sum() == 30  # every quartier of the region is classed
    assert classes["Classe"].tolist() == sorted(classes["Classe"])
    regles = t["entrees_sorties"]["Règle"].tolist()
    assert len(regles) == len(q3.REGLES_COURTES)
    for libelle, court in zip(regles, q3.REGLES_COURTES.values(), strict=True):
        assert libelle.lower().startswith(court.lower()) and re.search(r"\(.*\d{4}.*\)$", libelle)
    elig = t["eligibilite"]
    assert elig["Revenu médian par UC (2011)"].tolist() == r.eligibilite["revenu_median_uc"].tolist()
    # each verdict says why: « oui », « non : <reason> » (no bare « non »)
    for cell, ok in zip(elig["Règle de revenu 2014"], r.eligibilite["regle_qpv2014"], strict=True):
        assert cell == "oui" if ok else cell.startswith("non : ")
    # indicators at every scale: numbers in the catalogue's unit, quartiers first
    e = t["echelles"]
    chomage = e["Taux de chômage des 15-64 ans"]
    assert pd.api.types.is_float_dtype(chomage) and e.attrs["unites"][chomage.name] == "pourcentage"
    assert e.attrs["unites"]["Revenu fiscal médian par unité de consommation"] == "euros"
    n = len(r.eligibilite)
    assert e["Territoire"].tolist()[n:] == ["Commune (Valbrune-sur-Lèze)", "EPCI", "Département", "Région"]
    quartier = r.echelles[(r.echelles["niveau"] == "quartier") & (r.echelles["indicateur"] == "taux_chomage")]
    assert sorted(chomage.iloc[:n]) == sorted(quartier["valeur"])
    # each significant gap to the commune is named on its quartier's row
    noms = dict(zip(r.eligibilite["code_quartier"], r.eligibilite["nom"], strict=True))
    ecarts = dict(zip(e["Territoire"], e["Écart significatif à la commune"], strict=True))
    libelles = r.catalogue.set_index("indicateur")["libelle"]
    for row in r.echelles[r.echelles["comparaison"].isin(["plus élevé", "plus faible"])].itertuples():
        assert text.minuscule_initiale(libelles[row.indicateur]) in ecarts[noms[row.code_territoire]]
        assert row.comparaison in ecarts[noms[row.code_territoire]]
    html = display.tableau(e).fragment
    assert "27,0\u00a0%" in html and "9\u202f880\u00a0€" in html


def test_a_secret_value_stays_secret_in_the_scale_view():
    r = _report("20005")
    e = q3.vue_echelles(r)
    secret = r.echelles[r.echelles["secret"].fillna(False).astype(bool)]
    assert not secret.empty
    for ind in set(secret["indicateur"]):
        col = e[r.catalogue.set_index("indicateur").loc[ind, "libelle"]]
        assert (col == text.SECRET).sum() == (secret["indicateur"] == ind).sum()
        assert all(isinstance(v, float) for v in col if v != text.SECRET)  # the others stay numbers
    assert ">s<" in display.tableau(e).fragment


def test_disagreement_sentence_counts_each_rule():
    r = _report("20001")
    e = r.eligibilite
    sentence = next(c for c in r.constats if c.startswith("Les règles ne concordent pas"))

    def n(col):  # a count of zero reads « aucun »
        k = int(e[col].fillna(False).astype(bool).sum())
        return str(k) if k else "aucun"

    assert (
        f"la règle de revenu en retient {n('regle_qpv2014')}, l'indice de type ZUS "
        f"{n('regle_zus')} et la règle « dynamique » {n('regle_dynamique')}, sur {len(e)}."
    ) in sentence


LECTURES_ECHELLE = ("nettement surreprésentés", "pas plus nombreux qu'ailleurs", "moins représentés")


@pytest.mark.parametrize("code", ["20001", "20010"])
def test_the_reading_of_the_unemployed_share_is_said_once_when_it_is_published(code):
    """The reading of the unemployed's share against the residents' share follows the published
    share, once: it was inside the loop over hidden shares (absent when all were published)."""
    r = _report(code)
    lectures = [p for p in r.phrases["echelle"] if any(m in p for m in LECTURES_ECHELLE)]
    rep = r.repartition.set_index("indicateur") if not r.repartition.empty else pd.DataFrame()
    publie = "taux_chomage" in rep.index and not text.manquant(rep.loc["taux_chomage", "part"])
    assert len(lectures) == (1 if publie else 0), r.phrases["echelle"]
