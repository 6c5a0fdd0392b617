"""q1's dispositif dashboard publishes counts of people only through secrecy (issue 9, point 3):
a dispositif that reached 3 people of 4 planned shows « s », its rate too, in the view and in
the results file; the column totals printed in the findings do not give the cell back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cucs_analysis.analysis import privacy
from cucs_analysis.data import dataset
from cucs_analysis.pipeline.params import load_params
from cucs_analysis.reports import q1

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def petit(tmp_path_factory):
    """A copy of the demo where one dispositif of 20001 planned 4 and reached 3 people a year."""
    data = tmp_path_factory.mktemp("petit") / "demo"
    shutil.copytree(ROOT / "data" / "demo", data)
    a = pd.read_csv(data / "actions.csv", dtype=str, keep_default_na=False)
    cible = (a["code_commune"] == "20001") & (a["dispositif"] == "PRE") & (a["statut"] == "réalisée")
    assert cible.any()
    a.loc[cible, "beneficiaires_prevus"] = "1"
    a.loc[cible, "beneficiaires_realises"] = "1"
    first = a.index[cible][0]
    a.loc[first, ["beneficiaires_prevus", "beneficiaires_realises"]] = ["4", "3"]
    others = a.index[cible][1:]
    a.loc[others, ["beneficiaires_prevus", "beneficiaires_realises"]] = "0"
    a.to_csv(data / "actions.csv", index=False)
    dataset.clear_memo()
    t = dataset.load_territory(data, "20001")
    return q1.build(t, load_params("20001", ROOT))


def test_small_counts_are_secret_in_the_view_and_the_results(petit):
    b = petit.tableau_de_bord.set_index("dispositif")
    assert (b.loc["PRE", "prevus_realisees"], b.loc["PRE", "realises"]) == (4, 3)  # the raw table
    vue = q1.vue_realisation(petit).set_index("Dispositif")
    assert vue.loc["PRE", "Bénéficiaires prévus (actions réalisées)"] == privacy.SECRET
    assert vue.loc["PRE", "Bénéficiaires touchés (actions réalisées)"] == privacy.SECRET
    assert vue.loc["PRE", "Taux de réalisation (touchés / prévus, actions réalisées)"] == privacy.SECRET
    res = {x["dispositif"]: x for x in petit.resultats()["tableau_de_bord"]}
    assert res["PRE"]["prevus_realisees"] is None and res["PRE"]["realises"] is None
    assert res["PRE"]["taux_realisation"] is None


def test_the_printed_totals_do_not_give_a_hidden_cell_back(petit):
    """The findings print the column totals: each column with a hidden cell hides a second one."""
    m = petit.secret["tableau_de_bord"]
    for c in q1.BENEFICIAIRES_TABLEAU_DE_BORD:
        assert m[c].sum() != 1, c
    # and no published count of people is below the threshold
    vue = q1.vue_realisation(petit)
    for col in ("Bénéficiaires prévus (actions réalisées)", "Bénéficiaires touchés (actions réalisées)"):
        nombres = [v for v in vue[col] if v != privacy.SECRET]
        assert all(v == 0 or v >= 11 for v in nombres), col
