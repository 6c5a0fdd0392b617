"""analysis.proximity on small hand-made frames: each expected value is worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cucs_analysis.analysis import proximity as p


def _gup(rows):
    return pd.DataFrame(
        rows, columns=["date", "code_quartier", "categorie", "delai_resolution_jours", "statut"]
    )


def test_gup_counts_full_grid_with_measured_zeros():
    g = _gup([("2005-03-01", "Q1", "propreté", 3, "résolu"), ("2006-05-01", "Q1", "propreté", 5, "résolu")])
    c = p.gup_counts(g, ["Q1", "Q2"], 2005, 2007, categories=["propreté", "voirie"])
    assert len(c) == 2 * 2 * 3
    assert c["signalements"].sum() == 2
    q2 = c[c["code_quartier"] == "Q2"]
    assert (q2["signalements"] == 0).all()  # a quartier without report is a measured 0


def test_gup_counts_none_empty_and_out_of_period():
    assert p.gup_counts(None, ["Q1"], 2005, 2006).empty
    empty = p.gup_counts(_gup([]), ["Q1"], 2005, 2006, categories=["propreté"])
    assert list(empty["signalements"]) == [0, 0]
    late = p.gup_counts(
        _gup([("2010-01-01", "Q1", "propreté", 1, "résolu")]), ["Q1"], 2005, 2006, ["propreté"]
    )
    assert late["signalements"].sum() == 0
    # a category outside the schema found in the data is kept
    other = p.gup_counts(_gup([("2005-01-01", "Q1", "bruit", 1, "résolu")]), ["Q1"], 2005, 2005)
    assert "bruit" in set(other["categorie"])


def test_poisson_trend_rising_falling_flat():
    years = np.arange(2005, 2015)
    up = np.round(20 * 2 ** ((years - 2005) / 9))
    r = p.poisson_trend(years, up, 0.2)
    assert r["tendance"] == p.HAUSSE
    assert r["variation_periode"] == pytest.approx(1.0, abs=0.05)  # doubled over the period
    assert r["ic_bas"] < r["variation_annuelle"] < r["ic_haut"]
    assert p.poisson_trend(years, up[::-1], 0.2)["tendance"] == p.BAISSE
    flat = np.array([10, 12, 11, 9, 10, 10, 9, 11, 12, 10])
    assert p.poisson_trend(years, flat, 0.2)["tendance"] == p.SANS_TENDANCE


def test_poisson_trend_small_change_is_not_a_trend_even_when_significant():
    years = np.arange(2005, 2015)
    counts = np.round(5000 * 1.1 ** ((years - 2005) / 9))  # +10 % over the period, huge counts
    r = p.poisson_trend(years, counts, 0.2)
    assert r["p_value"] < 0.05
    assert r["tendance"] == p.SANS_TENDANCE
    assert p.poisson_trend(years, counts, 0.05)["tendance"] == p.HAUSSE


def test_poisson_trend_not_computable():
    years = np.arange(2005, 2015)
    assert p.poisson_trend(years, np.zeros(10), 0.2)["tendance"] is None
    assert p.poisson_trend(years[:2], np.array([3, 4]), 0.2)["tendance"] is None


def test_gup_trends_per_group():
    counts = pd.DataFrame(
        {
            "code_quartier": ["Q1"] * 10,
            "categorie": ["propreté"] * 10,
            "annee": range(2005, 2015),
            "signalements": [40, 36, 31, 27, 22, 19, 15, 12, 10, 8],
        }
    )
    t = p.gup_trends(counts, 0.2)
    assert list(t["tendance"]) == [p.BAISSE]
    assert p.gup_trends(counts.iloc[0:0], 0.2).empty


def _pops(rows):
    return pd.DataFrame(
        rows, columns=["niveau", "code_territoire", "annee", "population", "annee_population"]
    )


def test_gup_rates_pooled_on_the_same_years():
    counts = pd.DataFrame(
        {
            "code_quartier": "Q1",
            "categorie": "voirie",
            "annee": [2005, 2006, 2007],
            "signalements": [5, 15, 7],
        }
    )
    pops = _pops([("quartier", "Q1", 2005, 1000, 2005), ("quartier", "Q1", 2006, 1000, 2006)])
    r = p.gup_rates(counts, pops)
    assert r.iloc[0]["signalements"] == 20  # 2007 has no population: left out of both terms
    assert r.iloc[0]["pour_1000_hab"] == pytest.approx(10.0)
    assert p.gup_rates(counts, pops.iloc[0:0]).empty


def test_populations_nearest_year():
    ind = pd.DataFrame(
        {
            "niveau": "quartier",
            "code_territoire": "Q1",
            "indicateur": "population",
            "annee": [2006, 2009],
            "valeur": [1000.0, 1200.0],
        }
    )
    pop = p.populations(ind, 2005, 2010).set_index("annee")
    assert pop.loc[2005, "population"] == 1000 and pop.loc[2005, "annee_population"] == 2006  # later year
    assert pop.loc[2008, "population"] == 1000 and pop.loc[2008, "annee_population"] == 2006  # earlier first
    assert pop.loc[2010, "population"] == 1200
    assert p.populations(ind.iloc[0:0], 2005, 2010).empty
    zero = ind.assign(valeur=0.0)
    assert p.populations(zero, 2005, 2006).empty  # a zero population is no base


def test_resolution_delays_median_of_resolved_only():
    g = _gup(
        [
            ("2005-01-01", "Q1", "voirie", 10, "résolu"),
            ("2005-02-01", "Q1", "voirie", 30, "résolu"),
            ("2005-03-01", "Q1", "voirie", None, "résolu"),  # no delay: not in the median
            ("2005-04-01", "Q1", "voirie", None, "en cours"),
            ("2005-05-01", "Q1", "voirie", 900, "classé sans suite"),
            ("2008-05-01", "Q1", "voirie", 50, "résolu"),
        ]
    )
    d = p.resolution_delays(g, ["categorie"])
    row = d.iloc[0]
    assert (row["signalements"], row["resolus"], row["en_cours"], row["sans_suite"]) == (6, 3, 1, 1)
    assert row["delai_median_jours"] == 30
    per = p.resolution_delays(g, ["categorie"], annee_debut_cucs=2007).set_index("periode")
    assert per.loc["avant", "delai_median_jours"] == 20 and per.loc["pendant", "delai_median_jours"] == 50
    assert p.resolution_delays(_gup([]), ["categorie"]).empty


def test_facilities_per_1000_same_year_and_zero_population():
    eq = pd.DataFrame(
        {
            "niveau": ["commune", "commune", "quartier", "quartier"],
            "code_territoire": ["C", "C", "Q1", "Q1"],
            "type_equipement": ["A", "A", "A", "A"],
            "gamme": "proximité",
            "nombre": [20, 30, 2, 3],
            "annee": [2013, 2014, 2013, 2014],
        }
    )
    assert p.facilities_year(eq, 2014) == 2014 and p.facilities_year(eq, 2013) == 2013
    assert p.facilities_year(None, 2014) is None
    pops = _pops([("commune", "C", 2014, 10000, 2014), ("quartier", "Q1", 2014, 0, 2014)])
    f = p.facilities_per_1000(eq, pops, 2014).set_index("code_territoire")
    assert f.loc["C", "pour_1000_hab"] == pytest.approx(3.0)
    assert np.isnan(f.loc["Q1", "pour_1000_hab"])  # a zero population gives no rate
    assert p.facilities_per_1000(eq, pops, None).empty
    ens = p.pooled_facilities(
        p.facilities_per_1000(eq, _pops([("quartier", "Q1", 2014, 1500, 2014)]), 2014), ["Q1"]
    )
    assert ens.iloc[0]["pour_1000_hab"] == pytest.approx(2.0)


def test_safety_indicators_by_theme_or_code():
    cat = pd.DataFrame(
        {
            "indicateur": ["delits_pour_1000", "taux_chomage", "x_espace_public"],
            "theme": ["sécurité", "emploi", None],
        }
    )
    assert p.safety_indicators(cat) == ["delits_pour_1000", "x_espace_public"]
    assert p.safety_indicators(cat[cat["indicateur"] == "taux_chomage"]) == []
    assert p.safety_indicators(None) == []


def test_proximity_actions_and_groups():
    act = pd.DataFrame(
        {
            "id_action": ["A", "A", "B", "C"],
            "annee": [2005, 2006, 2006, 2006],
            "intitule": ["a", "a", "b", "c"],
            "thematique": ["lien_social"] * 4,
            "dispositif": ["autre"] * 4,
            "code_quartier": ["Q1"] * 4,
            "public_cible": ["Parents", "Parents", "Jeunes", "Jeunes"],
            "proximite": pd.array([True, True, False, None], dtype="boolean"),
        }
    )
    fin = pd.DataFrame(
        {
            "id_action": ["A", "A", "B"],
            "annee": [2005, 2006, 2006],
            "montant_accorde": [100.0, 50.0, 1000.0],
            "type_credit": ["specifique", "droit_commun", "specifique"],
        }
    )
    pa = p.proximity_actions(act, fin)
    assert list(pa["id_action"]) == ["A"]  # NaN proximite is not proximity
    assert pa.iloc[0]["montant_accorde"] == 150 and pa.iloc[0]["montant_specifique"] == 100
    assert pa.iloc[0]["actions_annees"] == 2
    y = p.proximity_by_year(act, fin).set_index("annee")
    # C's flag is unknown: out of the base (not « not proximity »), counted apart
    assert y.loc[2006, "actions_annees"] == 2 and y.loc[2006, "actions_annees_proximite"] == 1
    assert (
        y.loc[2006, "actions_annees_non_renseignees"] == 1
        and y.loc[2005, "actions_annees_non_renseignees"] == 0
    )
    assert y.loc[2006, "montant_total"] == 1050 and y.loc[2006, "montant_proximite"] == 50
    g = p.proximity_by_group(act, fin, ["public_cible"])
    assert list(g["public_cible"]) == ["Parents"] and g.iloc[0]["actions"] == 1
    assert p.proximity_actions(act.drop(columns="proximite"), fin).empty
    assert p.proximity_actions(act, None).iloc[0]["montant_accorde"] == 0


def test_indicator_profile_latest_common_year():
    ind = pd.DataFrame(
        {
            "niveau": ["quartier", "quartier", "commune"],
            "code_territoire": ["Q1", "Q1", "C"],
            "indicateur": "taux_chomage",
            "annee": [2010, 2012, 2010],
            "valeur": [20.0, 25.0, 10.0],
            "numerateur": [20, 25, 100],
            "denominateur": [100, 100, 1000],
        }
    )
    pr = p.indicator_profile(ind, "Q1", "C", 2014)
    assert pr.iloc[0]["annee"] == 2010 and pr.iloc[0]["ecart"] == pytest.approx(10.0)
    assert p.indicator_profile(ind, "Q9", "C", 2014).empty


def test_facilities_above_commune_per_type_and_year():
    eq = pd.DataFrame(
        {
            "niveau": ["commune", "quartier", "quartier", "commune", "quartier", "quartier", "quartier"],
            "code_territoire": ["C", "Q1", "Q2", "C", "Q1", "Q1", "Q9"],
            "type_equipement": ["A", "A", "A", "B", "B", "D", "A"],
            "nombre": [3, 2, 2, 5, 5, 1, 50],
            "annee": [2014, 2014, 2014, 2014, 2014, 2013, 2014],
        }
    )
    out = p.facilities_above_commune(eq, "C", ["Q1", "Q2"])
    # A: 4 in the quartiers > 3 in the commune; B equal is fine; D absent from the commune in 2013;
    # Q9 is not one of the commune's quartiers
    assert out.to_dict(orient="records") == [
        {"annee": 2013, "type_equipement": "D", "nombre_commune": 0.0, "nombre_quartiers": 1.0},
        {"annee": 2014, "type_equipement": "A", "nombre_commune": 3.0, "nombre_quartiers": 4.0},
    ]
    assert p.facilities_above_commune(None, "C", ["Q1"]).empty
    assert p.facilities_above_commune(eq.iloc[0:0], "C", ["Q1"]).empty
    assert p.facilities_above_commune(eq.drop(columns=["type_equipement"]), "C", ["Q1"]).empty
    assert p.facilities_above_commune(eq, "C", []).empty


def test_indicator_profile_carries_the_commune_base():
    ind = pd.DataFrame(
        {
            "niveau": ["quartier", "commune"],
            "code_territoire": ["Q1", "C"],
            "indicateur": "taux_chomage",
            "annee": [2012, 2012],
            "valeur": [25.0, 10.0],
            "numerateur": [25, 100],
            "denominateur": [100, 1000],
        }
    )
    row = p.indicator_profile(ind, "Q1", "C", 2014).iloc[0]
    assert (row["numerateur"], row["denominateur"]) == (25, 100)
    assert (row["numerateur_commune"], row["denominateur_commune"]) == (100, 1000)
    no_base = p.indicator_profile(ind.drop(columns=["numerateur", "denominateur"]), "Q1", "C", 2014)
    assert no_base["numerateur_commune"].isna().all()
