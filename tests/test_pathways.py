"""analysis.pathways (q5) on small hand-made frames: insertion supply by codes, needs, coverage
on one base, multi-dispositif households (and the planted truth on the whole demo), published
combinations with secondary secrecy, sequences, points de rencontre, transition matrix."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cucs_analysis.analysis import pathways as pw

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


def _actions(rows):
    cols = ["id_action", "annee", "thematique", "dispositif", "code_quartier", "beneficiaires_prevus", "statut",
            "intitule"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _par(rows):
    cols = ["id_personne", "id_menage", "dispositif", "date_entree", "date_sortie", "tranche_age", "niveau_entree",
            "niveau_sortie", "motif_sortie"]  # fmt: skip
    df = pd.DataFrame(rows, columns=cols)
    df["date_entree"] = pd.to_datetime(df["date_entree"])
    df["date_sortie"] = pd.to_datetime(df["date_sortie"])
    return df


# --- supply and needs ------------------------------------------------------------------------------


def test_insertion_actions_by_codes_never_by_title():
    a = _actions(
        [
            ["A1", 2008, "emploi", "autre", "Q1", 10, "réalisée", "Permanence emploi"],
            ["A2", 2008, "sante", "chantier d'insertion", "Q1", 12, "réalisée", "Chantier"],
            ["A3", 2008, "sante", "ASV", "Q1", 20, "réalisée", "Insertion par la santé"],  # title only
        ]
    )
    assert pw.insertion_actions(a)["id_action"].tolist() == ["A1", "A2"]
    assert pw.insertion_actions(a.iloc[0:0]).empty
    assert pw.insertion_actions(a.drop(columns="dispositif")).empty  # missing column: nothing, no error


def test_supply_keeps_commune_wide_apart_and_unfilled_years_apart():
    a = _actions(
        [
            ["A1", 2008, "emploi", "autre", "Q1", 10, "réalisée", "x"],
            ["A2", 2008, "emploi", "autre", None, 30, "programmée", "x"],
            ["A3", 2008, "emploi", "autre", "Q1", 50, "non pourvue", "x"],
            [
                "A4",
                2009,
                "emploi",
                "autre",
                "Q1",
                None,
                "réalisée",
                "x",
            ],  # NaN planned: 0 place, still an action
        ]
    )
    f = pd.DataFrame(
        {
            "id_action": ["A1", "A1", "A2", "A3"],
            "annee": [2008, 2008, 2008, 2008],
            "montant_accorde": [100, 50, 7, 999],
        }
    )
    s = pw.supply_by_territory_year(a, f).set_index(["code_territoire", "annee"])
    assert s.loc[("Q1", 2008), "places"] == 10
    assert s.loc[("Q1", 2008), "montant_accorde"] == 150  # unfilled A3's money not in the supply
    assert s.loc[("Q1", 2008), "places_non_pourvues"] == 50
    assert s.loc[("Q1", 2008), "actions_non_pourvues"] == 1
    assert s.loc[(pw.COMMUNE, 2008), "places"] == 30
    assert s.loc[("Q1", 2009), "places"] == 0 and s.loc[("Q1", 2009), "actions"] == 1
    assert pw.supply_by_territory_year(a.iloc[0:0], f).empty
    assert (
        pw.supply_by_territory_year(a, None).loc[lambda d: d["annee"] == 2008, "montant_accorde"].sum() == 0
    )


def _ind(rows):
    return pd.DataFrame(
        rows,
        columns=[
            "niveau",
            "code_territoire",
            "indicateur",
            "annee",
            "valeur",
            "numerateur",
            "denominateur",
            "secret",
        ],
    )


def test_needs_and_coverage_on_one_base():
    ind = _ind(
        [
            ["quartier", "Q1", "demandeurs_emploi", 2006, 100, None, None, False],
            ["quartier", "Q1", "demandeurs_emploi", 2008, 200, None, None, False],
            ["quartier", "Q1", "demandeurs_emploi", 2009, 200, None, None, False],
            ["quartier", "Q1", "taux_chomage", 2008, 20.0, 40, 200, False],
            ["quartier", "Q1", "taux_chomage", 2009, 30.0, 60, 200, True],  # secret: left out
            ["commune", "C", "demandeurs_emploi", 2008, 1000, None, None, False],
        ]
    )
    n = pw.needs_by_territory_year(ind)
    q = n[n["code_territoire"] == "Q1"].set_index("annee")
    assert q.loc[2008, "chomeurs"] == 40 and q.loc[2008, "actifs"] == 200
    assert pd.isna(q.loc[2009, "chomeurs"])
    summ = pw.needs_summary(n, 2007, 2014).set_index("code_territoire")
    assert summ.loc["Q1", "taux_chomage"] == pytest.approx(20.0)
    assert summ.loc["Q1", "demandeurs_emploi"] == pytest.approx(200)
    supply = pd.DataFrame(
        {
            "code_territoire": ["Q1", pw.COMMUNE],
            "annee": [2008, 2008],
            "places": [10.0, 5.0],
            "montant_accorde": [1000.0, 0.0],
        }
    )
    cov = pw.coverage(n, supply, annee_debut_cucs=2007, debut=2005, fin=2014)
    p = cov[cov["mesure"] == "places_pour_100"].set_index("code_territoire")
    # Q1: 10 places over 400 job-seeker-years during (2009 has no action: a measured zero)
    assert p.loc["Q1", "numerateur_pendant"] == 10 and p.loc["Q1", "denominateur_pendant"] == 400
    assert p.loc["Q1", "valeur_pendant"] == pytest.approx(2.5)
    assert p.loc["Q1", "valeur_avant"] == 0  # 2006: job seekers counted, no supply: 0, not NaN
    # the commune: every line of the commune (quartier + commune-wide), no year before 2007
    assert p.loc["C", "numerateur_pendant"] == 15 and not bool(p.loc["C", "avant_testable"])
    e = cov[cov["mesure"] == "euros_par_demandeur"].set_index("code_territoire")
    assert e.loc["Q1", "valeur_pendant"] == pytest.approx(2.5)
    assert pw.coverage(n.iloc[0:0], supply, annee_debut_cucs=2007, debut=2005, fin=2014).empty
    assert pw.needs_by_territory_year(ind.iloc[0:0]).empty


# --- households ----------------------------------------------------------------------------------


def _menages():
    return _par(
        [
            # M1: a child in the PRE, a young adult in a chantier, entered in that order
            ["P1", "M1", "PRE", "2008-01-01", "2009-01-01", "0-15", 1, 2, "fin de parcours"],
            ["P2", "M1", "chantier d'insertion", "2009-03-01", None, "16-25", 2, None, None],
            # M2: one person, the same dispositif twice: not multi
            ["P3", "M2", "ASV", "2008-01-01", "2008-06-01", "26-44", 3, 3, "emploi"],
            ["P3", "M2", "ASV", "2010-01-01", "2010-06-01", "26-44", 2, 1, "abandon"],
            # M3: one person, two dispositifs (the same person counts)
            ["P4", "M3", "atelier parents", "2010-01-01", "2010-09-01", "26-44", 1, 3, "formation"],
            ["P4", "M3", "ASV", "2009-01-01", "2009-09-01", "26-44", 2, 2, "emploi"],
        ]
    )


def test_multi_dispositif_households_and_overlap():
    p = _menages()
    assert pw.multi_dispositif_households(p) == 2
    o = pw.overlap(p)
    assert o == {"menages_suivis": 3, "menages_multi_dispositifs": 2, "part": pytest.approx(2 / 3)}
    assert pw.multi_dispositif_households(p.iloc[0:0]) == 0
    assert pw.overlap(None)["part"] is None
    assert pw.multi_dispositif_households(p.iloc[[0]]) == 0  # a single row


def test_combinations_and_sequences_follow_first_entry():
    p = _menages()
    c = pw.combinations(p)
    assert set(c["combinaison"]) == {"PRE|chantier d'insertion", "ASV|atelier parents"}
    s = pw.sequences(p).set_index(["premier", "suivant"])["menages"]
    assert s[("PRE", "chantier d'insertion")] == 1
    assert s[("ASV", "atelier parents")] == 1  # ASV entered first (2009) though listed second
    h = pw.household_dispositifs(p)
    assert h.loc[(h["id_menage"] == "M3") & (h["dispositif"] == "ASV"), "rang"].item() == 1
    assert pw.combinations(p.iloc[0:0]).empty and pw.sequences(p.iloc[0:0]).empty


def test_published_combinations_groups_small_ones_with_secondary_secrecy():
    comb = pd.DataFrame(
        {
            "combinaison": ["A|B", "A|C", "B|C", "C|D"],
            "n_dispositifs": [2, 2, 2, 2],
            "menages": [40, 15, 3, 2],
        }
    )
    p = pw.published_combinations(comb, 11)
    autres = p[p["combinaison"] == pw.AUTRES].iloc[0]
    assert autres["n_combinaisons"] == 2
    # 5 households in « autres » are hidden; the total being published, 15 is hidden too
    assert bool(autres["secret"]) and np.isnan(autres["menages"])
    assert bool(p.loc[p["combinaison"] == "A|C", "secret"].item())
    assert p.loc[p["combinaison"] == "A|B", "menages"].item() == 40
    # a large enough « autres » line is published, and nothing else is hidden
    comb2 = comb.assign(menages=[40, 15, 8, 7])
    p2 = pw.published_combinations(comb2, 11)
    assert not p2["secret"].any() and p2.loc[p2["combinaison"] == pw.AUTRES, "menages"].item() == 15
    assert pw.published_combinations(comb.iloc[0:0], 11).empty


def test_meeting_points_need_another_member():
    p = _menages()
    m = pw.meeting_points(p).set_index("point")
    assert m.loc["pre_enfants", "menages"] == 1 and m.loc["pre_enfants", "menages_famille"] == 1
    assert m.loc["chantier_jeunes", "menages_famille"] == 1
    # M3's parent is in an atelier and in the ASV, but alone: no other member
    assert m.loc["ateliers_parents", "menages"] == 1 and m.loc["ateliers_parents", "menages_famille"] == 0
    assert pw.meeting_points(p.iloc[0:0])["menages"].sum() == 0


def test_transition_matrix_progression_and_exits_on_one_base():
    p = _menages()
    m = pw.transition_matrix(p)
    assert list(m.index) == [1, 2, 3, 4] and list(m.columns) == [1, 2, 3, 4]
    assert int(m.to_numpy().sum()) == 5  # the running episode (no exit) is left out
    assert m.loc[2, 1] == 1 and m.loc[1, 3] == 1
    r = pw.progression_summary(p)
    assert r == {"base": 5, "progresse": 2, "stable": 2, "regresse": 1}
    d = pw.progression_by_dispositif(p).set_index("dispositif")
    assert d.loc["ASV", "base"] == 3 and d.loc["ASV", "progresse"] == 0
    e = pw.exits_by_motif(p).set_index("motif_sortie")["sorties"]
    assert e["emploi"] == 2 and e["déménagement"] == 0  # zeros kept
    assert "non_renseigne" not in e.index
    p2 = p.copy()
    p2.loc[0, "motif_sortie"] = None
    assert pw.exits_by_motif(p2).set_index("motif_sortie").loc["non_renseigne", "sorties"] == 1
    assert int(pw.transition_matrix(p.iloc[0:0]).to_numpy().sum()) == 0
    assert pw.progression_summary(None)["base"] == 0


# --- the planted truth -----------------------------------------------------------------------------


def test_planted_truth_multi_dispositif_households_on_the_whole_demo():
    """The definition of `_truth_from_tables` (demo.py): distinct households with at least two
    distinct dispositifs in the whole parcours table."""
    truth = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))["menages_multi_dispositifs"]
    par = pd.read_csv(DEMO / "parcours.csv", dtype=str)
    assert pw.multi_dispositif_households(par) == truth
    # Per commune (the territory's cut: households living in its quartiers), the counts add up
    # to the truth: in the demo every household lives in one quartier, hence one commune.
    qua = pd.read_csv(DEMO / "quartiers.csv", dtype=str)[["code_quartier", "code_commune"]]
    par = par.merge(qua, on="code_quartier", how="left")
    assert par.groupby("id_menage")["code_commune"].nunique().max() == 1
    total = sum(pw.multi_dispositif_households(g) for _, g in par.groupby("code_commune"))
    assert total == truth


# --- lecture 10 (M11, M13) -------------------------------------------------------------------------


def _prog(rows):
    return pd.DataFrame(rows, columns=["dispositif", "base", "progresse"])


def test_merge_small_lines_keeps_the_key_dispositifs_apart():
    d = _prog([["CLAS", 75, 44], ["PRE", 68, 32], ["atelier parents", 50, 20], ["autre", 3, 2]])
    m = pw.merge_small_lines(d, 11, proteges=("PRE", "atelier parents"))
    assert m["dispositif"].tolist() == ["PRE", "atelier parents", pw.AUTRES]
    assert (
        m.iloc[-1]["membres"] == ("CLAS", "autre")
        and m.iloc[-1]["base"] == 78
        and m.iloc[-1]["progresse"] == 46
    )
    assert m["base"].sum() == d["base"].sum() and (m["base"] >= 11).all()
    # small lines that reach the threshold together are merged among themselves only
    d2 = _prog([["CLAS", 75, 44], ["ASV", 6, 1], ["autre", 7, 2]])
    m2 = pw.merge_small_lines(d2, 11)
    assert m2.iloc[-1]["membres"] == ("ASV", "autre") and m2.iloc[-1]["base"] == 13
    # nothing small: unchanged; empty: empty; a single small line and nothing else: kept alone
    assert pw.merge_small_lines(d.iloc[:2], 11)["dispositif"].tolist() == ["CLAS", "PRE"]
    assert pw.merge_small_lines(d.iloc[0:0], 11).empty
    assert pw.merge_small_lines(_prog([["autre", 3, 1]]), 11)["base"].tolist() == [3]


def test_households_with_at_least():
    p = _par(
        [
            ["P1", "M1", "CLAS", "2008-01-01", None, "0-15", 1, None, None],
            ["P2", "M1", "PRE", "2008-02-01", None, "0-15", 1, None, None],
            ["P3", "M1", "ASV", "2008-03-01", None, "26-44", 1, None, None],
            ["P4", "M2", "ASV", "2008-03-01", None, "26-44", 1, None, None],
            ["P5", "M2", "ASV", "2009-03-01", None, "26-44", 1, None, None],
        ]
    )
    assert pw.households_with_at_least(p, 3) == 1 and pw.households_with_at_least(p, 2) == 1
    assert pw.households_with_at_least(p, 1) == 2 and pw.households_with_at_least(p.iloc[0:0], 3) == 0
