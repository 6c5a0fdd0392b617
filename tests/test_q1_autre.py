"""q1 reads the actions outside the sector dispositifs (« autre ») by programme, so that no
residual « autre » line tops the dashboard (issue 8, point 5)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params
from cucs_analysis.reports import q1

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
COMMUNES = pd.read_csv(DEMO / "communes.csv", dtype=str)
SIGNATAIRES = COMMUNES.loc[COMMUNES["signataire_cucs"] == "oui", "code_commune"].tolist()


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def test_programme_of_an_action():
    assert q1.programme_de_l_action("Jardins partagés — Le Haut-Val") == "Jardins partagés"
    assert q1.programme_de_l_action("Jardins partagés (école Jules-Ferry)") == "Jardins partagés"
    assert q1.programme_de_l_action("Club lecture et écriture (médiathèque) — Les Acacias") == (
        "Club lecture et écriture"
    )
    assert q1.libelle_dispositif("CLAS", "Accompagnement (école)") == "CLAS"
    assert q1.libelle_dispositif("autre", "Fête de quartier — X") == "Fête de quartier (hors dispositif)"


@pytest.mark.parametrize("code", SIGNATAIRES)
def test_autre_is_split_and_never_the_largest_row(code):
    a = pd.read_csv(DEMO / "actions.csv", dtype={"code_commune": str})
    a = a[a["code_commune"] == code]
    f = pd.read_csv(DEMO / "financements.csv")
    f = f[f["id_action"].isin(set(a["id_action"]))]
    autre_ids = set(a.loc[a["dispositif"] == "autre", "id_action"])
    autre_total = f.loc[f["id_action"].isin(autre_ids), "montant_accorde"].sum()
    r = q1.build(load.load_territory(DEMO, code), params.load_params(code, ROOT))
    board = r.tableau_de_bord
    assert "autre" not in set(board["dispositif"])  # no residual line
    hors = board[board["dispositif"].str.endswith(q1.HORS_DISPOSITIF)]
    assert hors["budget"].sum() == pytest.approx(autre_total)  # split, nothing lost
    assert len(hors) >= 2 and (hors["budget"] < autre_total).all()
    # before the split, « autre » was the largest line in most communes
    sector = f.merge(a[["id_action", "annee", "dispositif"]].drop_duplicates(), on=["id_action", "annee"])
    top = sector.groupby("dispositif")["montant_accorde"].sum().idxmax()
    assert board.iloc[0]["dispositif"] != "autre" and (
        top != "autre" or board.iloc[0]["budget"] < autre_total
    )
    # every programme line is one domain, so that it can meet its domain's mainstream (section 4)
    cross = r.croisement[r.croisement["dispositif"].str.endswith(q1.HORS_DISPOSITIF)]
    assert not cross.empty and cross["type"].notna().all()


def test_a_right_to_left_title_is_isolated_in_its_programme_label():
    titre = "\u202eMédiation \u0645\u0631\u0643\u0632 sociale — Le Haut-Val"
    label = q1.libelle_dispositif("autre", titre)
    assert label == "\u2068\u202eMédiation \u0645\u0631\u0643\u0632 sociale\u2069 (hors dispositif)"
    assert q1.libelle_dispositif("autre", "Jardins partagés") == "Jardins partagés (hors dispositif)"


def test_data_strings_in_sentences_are_isolated_only_when_needed():
    assert q1.isole("Jardins partagés") == "Jardins partagés"
    assert q1.isole("\u202eabc") == "\u2068\u202eabc\u2069"
