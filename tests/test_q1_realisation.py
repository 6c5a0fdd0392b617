"""q1's dispositif dashboard: achievement on one base (issue 8, point 1), recomputed from the
demo's actions.csv in plain pandas and compared with the results JSON and the view."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params
from cucs_analysis.present import display
from cucs_analysis.reports import q1

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def rapport():
    return q1.build(load.load_territory(DEMO, "20001"), params.load_params("20001", ROOT))


def _actions(code: str, dispositif: str) -> pd.DataFrame:
    a = pd.read_csv(DEMO / "actions.csv", dtype={"code_commune": str})
    return a[(a["code_commune"] == code) & (a["dispositif"] == dispositif)]


@pytest.mark.parametrize("dispositif", ["PRE", "FONJEP", "CLAS"])
def test_rate_recomputed_from_actions_csv_equals_json_and_view(rapport, dispositif):
    a = _actions("20001", dispositif)
    done = a[(a["statut"] == "réalisée") & a["beneficiaires_realises"].notna()]
    prevus, realises = done["beneficiaires_prevus"].sum(), done["beneficiaires_realises"].sum()
    res = json.loads(json.dumps(rapport.resultats(), allow_nan=False))  # what the results file holds
    row = next(d for d in res["tableau_de_bord"] if d["dispositif"] == dispositif)
    assert row["prevus_realisees"] == prevus and row["realises"] == realises
    assert row["taux_realisation"] == pytest.approx(realises / prevus)
    # the rate is not achieved over ALL planned beneficiaries (the old mixed base)
    if (a["statut"] != "réalisée").any():
        assert row["taux_realisation"] != pytest.approx(realises / a["beneficiaires_prevus"].sum())
    # non-pourvues / abandoned counted apart, with their planned beneficiaries
    non = a[a["statut"].isin(["non pourvue", "abandonnée"])]
    assert row["annees_non_pourvues"] == (a["statut"] == "non pourvue").sum()
    assert row["annees_abandonnees"] == (a["statut"] == "abandonnée").sum()
    assert row["annees_en_cours"] == (a["statut"] == "programmée").sum()
    assert row["prevus_non_realisees"] == non["beneficiaires_prevus"].sum()
    # the view shows the same numerator, denominator and rate, under headers that name the base
    v = q1.vue_realisation(rapport).set_index("Dispositif").loc[dispositif]
    assert v["Bénéficiaires prévus (actions réalisées)"] == prevus
    assert v["Bénéficiaires touchés (actions réalisées)"] == realises
    assert v["Taux de réalisation (touchés / prévus, actions réalisées)"] == pytest.approx(realises / prevus)


def test_non_realised_actions_are_named(rapport):
    a = pd.read_csv(DEMO / "actions.csv", dtype={"code_commune": str})
    a = a[(a["code_commune"] == "20001") & a["statut"].isin(["non pourvue", "abandonnée", "programmée"])]
    v = q1.vue_actions_non_realisees(rapport)
    assert set(v["Action"]) == set(a["intitule"])
    assert v["Actions-années"].sum() == len(a)
    assert v["Bénéficiaires prévus"].sum() == a["beneficiaires_prevus"].sum()
    # the sentence gives the rate on its base and the non-realised apart
    phrase = next(p for p in rapport.texte("dispositifs") if p.startswith("Sur les actions réalisées"))
    assert "sur cette même base" in phrase and "À part :" in phrase


def test_the_old_mixed_columns_are_gone(rapport):
    html = (
        display.tableau(q1.vue_tableau_de_bord(rapport)).fragment
        + display.tableau(q1.vue_realisation(rapport)).fragment
    )
    assert ">Bénéficiaires prévus<" not in html  # a planned count always says its base
    assert ">Taux de réalisation<" not in html
