"""Tests of cucs_analysis.analysis.funding on small hand-made frames with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cucs_analysis.analysis.funding import (
    MOTIFS_SUBSTITUTION,
    actions_at_stake,
    classify_substitution,
    deflate_mainstream,
    dispositif_dashboard,
    dispositif_mainstream_cross,
    dispositif_yearly_budget,
    funding_by_source,
    leverage,
    main_actions,
    mainstream_by_institution_domain,
    price_factors,
    specific_vs_mainstream,
    substitution_typology,
    to_constant_euros,
)

# --- classify_substitution: the rule's edge cases --------------------------------------------


def series(values: dict[int, float]) -> pd.Series:
    return pd.Series(values, dtype=float)


BASE = {2005: 100.0, 2006: 100.0}
SP = series({y: 50.0 for y in range(2005, 2015)})


def dc_with(after: list[float]) -> pd.Series:
    """Baseline 100 in 2005-2006, then `after` from 2007 on."""
    return series({**BASE, **{2007 + i: v for i, v in enumerate(after)}})


def test_no_year_below_is_complementarite():
    t, d = classify_substitution(dc_with([100, 105, 95, 110, 120]), SP)
    assert t == "complementarite"
    assert d["base"] == 100
    assert d["plus_longue_serie"] == 0


def test_exactly_at_tolerance_is_not_below():
    dc = series({2005: 100.0, 2006: 100.0, 2007: 0.9 * 100, 2008: 90.0, 2009: 90.0, 2010: 90.0, 2011: 90.0})
    t, d = classify_substitution(dc, SP)
    assert t == "complementarite"
    assert d["annees_sous_seuil"] == 0


def test_just_below_tolerance_is_below():
    # 0.8999·B for one year then recovery: below, hence temporaire
    t, d = classify_substitution(dc_with([89.99, 100, 100, 100]), SP)
    assert t == "substitution_temporaire"
    assert d["annees_sous_seuil"] == 1


def test_run_equal_to_duration_then_recovery_is_temporaire():
    t, d = classify_substitution(dc_with([50, 50, 50, 100, 100]), SP, duree_max=3)
    assert t == "substitution_temporaire"
    assert d["plus_longue_serie"] == 3


def test_run_longer_than_duration_is_durable():
    t, d = classify_substitution(dc_with([50, 50, 50, 50, 100]), SP, duree_max=3)
    assert t == "substitution_durable"
    assert d["plus_longue_serie"] == 4


def test_two_short_runs_separated_are_not_durable():
    t, d = classify_substitution(dc_with([50, 50, 100, 50, 50, 100]), SP, duree_max=3)
    assert t == "substitution_temporaire"
    assert d["annees_sous_seuil"] == 4
    assert d["plus_longue_serie"] == 2


def test_missing_year_breaks_a_run():
    dc = series({**BASE, 2007: 50, 2008: 50, 2010: 50, 2011: 50, 2012: 100})
    t, d = classify_substitution(dc, SP, duree_max=3)
    assert t == "substitution_temporaire"
    assert d["plus_longue_serie"] == 2


def test_ends_below_with_short_run_is_indetermine():
    t, d = classify_substitution(dc_with([100, 100, 100, 50, 50]), SP, duree_max=3)
    assert t == "indetermine"
    assert d["motif"] == "finit_sous_seuil"


def test_ends_below_with_long_run_is_durable():
    t, _ = classify_substitution(dc_with([100, 50, 50, 50, 50]), SP, duree_max=3)
    assert t == "substitution_durable"


def test_short_series_is_indetermine():
    # duree_max + 1 = 4 years needed from 2007 on; 3 observed
    t, d = classify_substitution(dc_with([50, 50, 100]), SP, duree_max=3)
    assert t == "indetermine"
    assert d["motif"] == "serie_courte"
    # exactly 4 observed years is enough
    t, _ = classify_substitution(dc_with([50, 50, 100, 100]), SP, duree_max=3)
    assert t == "substitution_temporaire"


def test_no_specific_credits_is_indetermine():
    t, d = classify_substitution(dc_with([50, 50, 100, 100, 100]), SP * 0)
    assert t == "indetermine"
    assert d["motif"] == "sans_credits_specifiques"
    t, _ = classify_substitution(dc_with([50, 50, 100, 100, 100]), series({}))
    assert t == "indetermine"


def test_zero_or_missing_baseline_is_indetermine():
    dc = series({2005: 0.0, 2006: 0.0, 2007: 10, 2008: 10, 2009: 10, 2010: 10})
    t, d = classify_substitution(dc, SP)
    assert (t, d["motif"]) == ("indetermine", "base_nulle")
    dc = series({2007: 10, 2008: 10, 2009: 10, 2010: 10})
    t, d = classify_substitution(dc, SP)
    assert (t, d["motif"]) == ("indetermine", "base_absente")


def test_parameters_are_honoured():
    dc = dc_with([85, 85, 85, 85, 85])
    assert classify_substitution(dc, SP, tolerance=0.10)[0] == "substitution_durable"
    assert classify_substitution(dc, SP, tolerance=0.20)[0] == "complementarite"
    assert classify_substitution(dc, SP, duree_max=5, tolerance=0.10)[0] == "indetermine"
    # baseline over other reference years
    dc2 = series({2004: 200.0, 2005: 100.0, 2006: 100.0, 2007: 150, 2008: 150, 2009: 150, 2010: 150})
    assert classify_substitution(dc2, SP, annees_reference=(2004,))[0] == "substitution_durable"
    assert classify_substitution(dc2, SP)[0] == "complementarite"


# --- substitution_typology on tables ---------------------------------------------------------


def make_tables():
    years = range(2005, 2013)
    dc_edu = [100, 100, 50, 50, 50, 50, 50, 50]  # durable
    dc_emp = [200, 200, 200, 100, 200, 200, 200, 200]  # temporaire
    dc_san = [10, 10, 10, 10, 10, 10, 10, 10]  # complementarite
    rows = []
    for dom, vals in (("education", dc_edu), ("emploi", dc_emp), ("sante", dc_san)):
        for y, v in zip(years, vals, strict=True):
            # split across two institutions: the rule sums them
            for inst in ("État", "département"):
                rows.append(("20001", dom, y, inst, v / 2, "credits"))
            rows.append(("20001", dom, y, "État", 999.0, "postes"))  # other mesure ignored
            rows.append(("20002", dom, y, "État", 1.0, "credits"))  # other commune ignored
    dc = pd.DataFrame(
        rows, columns=["code_territoire", "domaine", "annee", "institution", "valeur", "mesure"]
    )
    dc["niveau"] = "commune"
    actions = pd.DataFrame(
        {
            "id_action": ["A1", "A1", "A2", "A3", "B1"],
            "annee": [2007, 2008, 2008, 2009, 2008],
            "thematique": ["education", "education", "emploi", "sante", "prevention"],
            "dispositif": ["CLAS", "CLAS", "autre", "ASV", "CLSPD"],
            "code_commune": ["20001", "20001", "20001", "20001", "20002"],
        }
    )
    fin = pd.DataFrame(
        {
            "id_action": ["A1", "A1", "A2", "A3", "A3", "B1"],
            "annee": [2007, 2008, 2008, 2009, 2009, 2008],
            "financeur": ["ACSé", "ACSé", "ACSé", "ACSé", "CG", "ACSé"],
            "institution": ["État", "État", "État", "État", "département", "État"],
            "type_credit": [
                "specifique",
                "specifique",
                "specifique",
                "specifique",
                "droit_commun",
                "specifique",
            ],
            "montant_demande": [1000.0, 1000, 500, 300, 300, 50],
            "montant_accorde": [800.0, 900, 400, 300, 200, 50],
        }
    )
    return dc, fin, actions


def test_substitution_typology_table():
    dc, fin, actions = make_tables()
    out = substitution_typology(dc, fin, actions, "20001")
    assert list(out.columns) == [
        "code_territoire",
        "domaine",
        "type",
        "base",
        "derniere_valeur",
        "annees_sous_seuil",
        "plus_longue_serie",
        "annees_observees",
        "motif",
        "debut_plus_longue_serie",
    ]
    got = dict(zip(out["domaine"], out["type"], strict=True))
    assert got == {
        "education": "substitution_durable",
        "emploi": "substitution_temporaire",
        "sante": "complementarite",
    }
    edu = out.set_index("domaine").loc["education"]
    assert edu["base"] == 100
    assert edu["derniere_valeur"] == 50
    assert edu["annees_sous_seuil"] == 6
    assert edu["plus_longue_serie"] == 6
    assert edu["annees_observees"] == 6
    assert edu["debut_plus_longue_serie"] == 2007  # 6 years below, 2007-2012
    assert pd.isna(out.set_index("domaine").loc["sante", "debut_plus_longue_serie"])
    assert (out["code_territoire"] == "20001").all()
    # Codes and numbers only: the French reading is written by the report (reports.q1).
    assert dict(zip(out["domaine"], out["motif"], strict=True)) == {
        "education": "serie_longue",
        "emploi": "reprise",
        "sante": "aucune_annee_sous_seuil",
    }
    assert out["motif"].isin(MOTIFS_SUBSTITUTION).all()
    texts = out.select_dtypes(exclude="number").astype(str)
    assert not texts.apply(lambda c: c.str.contains(r"\s|€|%", regex=True)).any().any(), texts


def test_substitution_typology_domain_with_only_specific_credits():
    dc, fin, actions = make_tables()
    out = substitution_typology(dc, fin, actions, "20002")
    got = dict(zip(out["domaine"], out["type"], strict=True))
    # prevention has specific credits but no mainstream data: indetermine (no base)
    assert got["prevention"] == "indetermine"
    assert out.set_index("domaine").loc["prevention", "motif"] == "base_absente"


def test_substitution_typology_empty():
    dc, fin, actions = make_tables()
    out = substitution_typology(dc, fin, actions, "99999")
    assert out.empty
    assert "type" in out.columns


# --- specific vs mainstream and sources ------------------------------------------------------


def test_specific_vs_mainstream_by_year_and_domain():
    _, fin, actions = make_tables()
    out = specific_vs_mainstream(fin, actions, by=("annee",)).set_index("annee")
    assert out.loc[2009, "specifique"] == 300
    assert out.loc[2009, "droit_commun"] == 200
    assert out.loc[2009, "part_droit_commun"] == pytest.approx(0.4)
    assert out.loc[2008, "part_droit_commun"] == 0
    by_dom = specific_vs_mainstream(fin, actions, by=("thematique",)).set_index("thematique")
    assert by_dom.loc["education", "total"] == 1700
    assert by_dom.loc["sante", "part_droit_commun"] == pytest.approx(0.4)


def test_funding_by_source():
    _, fin, _ = make_tables()
    out = funding_by_source(fin).set_index(["institution", "annee"])
    assert out.loc[("État", 2008), "montant_accorde"] == 1350
    assert out.loc[("État", 2008), "actions"] == 3
    assert out.loc[("État", 2009), "part_annee"] == pytest.approx(0.6)
    assert out.loc[("département", 2009), "taux_accord"] == pytest.approx(200 / 300)


def test_mainstream_by_institution_domain():
    dc, _, _ = make_tables()
    m = mainstream_by_institution_domain(dc, "20001", annees=[2005, 2006])
    assert m.loc["État", "education"] == 100
    assert m.loc["département", "emploi"] == 200
    assert set(m.columns) == {"education", "emploi", "sante"}
    posts = mainstream_by_institution_domain(dc, "20001", annees=[2005], mesure="postes")
    assert posts.loc["État", "sante"] == 999


# --- dispositifs -----------------------------------------------------------------------------


def test_dispositif_dashboard():
    actions = pd.DataFrame(
        {
            "id_action": ["A", "A", "A", "B", "C"],
            "annee": [2007, 2008, 2009, 2007, 2009],
            "dispositif": ["CLAS", "CLAS", "CLAS", "CLAS", "PRE"],
            "beneficiaires_prevus": [10, 10, 10, 20, 5],
            "beneficiaires_realises": [8, 10, np.nan, 10, 5],
        }
    )
    fin = pd.DataFrame(
        {
            "id_action": ["A", "A", "A", "B", "C"],
            "annee": [2007, 2008, 2009, 2007, 2009],
            "type_credit": ["specifique", "specifique", "droit_commun", "specifique", "specifique"],
            "montant_accorde": [100.0, 200.0, 300.0, 100.0, 50.0],
        }
    )
    out = dispositif_dashboard(actions, fin).set_index("dispositif")
    # the loader's nullable dtypes (Int64 years and counts) give the same table
    nullable = actions.astype(
        {"annee": "Int64", "beneficiaires_prevus": "Int64", "beneficiaires_realises": "Int64"}
    )
    same = dispositif_dashboard(nullable, fin.astype({"annee": "Int64"})).set_index("dispositif")
    assert same["pente_budget"].astype(float).equals(out["pente_budget"])
    assert out.loc["CLAS", "premiere_annee"] == 2007
    clas = out.loc["CLAS"]
    assert clas["actions"] == 2
    assert clas["actions_annees"] == 4
    assert clas["budget"] == 700
    assert clas["budget_droit_commun"] == 300
    # yearly CLAS budget 200, 200, 300 → slope 50 €/an
    assert clas["pente_budget"] == pytest.approx(50.0)
    # no mixed-base rate and no first-year / last-year change to show by mistake (issue 8)
    assert not {"taux_realisation", "evolution_budget", "beneficiaires_prevus"} & set(out.columns)
    assert np.isnan(out.loc["PRE", "pente_budget"])
    assert list(out.index) == ["CLAS", "PRE"]  # largest budget first


# --- actions at stake ------------------------------------------------------------------------


def test_actions_at_stake():
    years = [2009, 2010, 2011, 2012]
    acts = []
    fins = []

    def add(aid, yrs, sp, dc, statut_last="réalisée"):
        for i, y in enumerate(yrs):
            acts.append((aid, y, "réalisée" if y != yrs[-1] else statut_last))
            fins.append((aid, y, "specifique", sp[i]))
            fins.append((aid, y, "droit_commun", dc[i]))

    add("OK3", years[1:], [80, 90, 100], [20, 10, 0])  # 3 years at >= 80 % (80 exactly) → at stake
    add("SHORT", years, [100, 50, 100, 100], [0, 50, 0, 0])  # run of 2 at the end → no
    add("TAKEN", years, [100, 100, 100, 10], [0, 0, 0, 90])  # taken over → no
    add("STOP", years, [100, 100, 100, 100], [0, 0, 0, 0], statut_last="abandonnée")  # stopped → no
    add("OLD", [2008, 2009, 2010], [100, 100, 100], [0, 0, 0])  # not running in 2012 → no
    add("GAP", [2009, 2011, 2012], [100, 100, 100], [0, 0, 0])  # missing 2010 breaks the run → no
    add("BIG", years, [1000, 1000, 1000, 1000], [0, 0, 0, 0])  # 4 years → yes, largest first
    actions = pd.DataFrame(acts, columns=["id_action", "annee", "statut"])
    for c in ("intitule", "thematique", "dispositif", "id_operateur", "code_quartier"):
        actions[c] = "x"
    fin = pd.DataFrame(fins, columns=["id_action", "annee", "type_credit", "montant_accorde"])
    out = actions_at_stake(actions, fin)
    assert list(out["id_action"]) == ["BIG", "OK3"]
    assert list(out["annees_consecutives"]) == [4, 3]
    assert list(out["debut_serie"]) == [2009, 2010]
    assert out.iloc[1]["part_specifique"] == pytest.approx(1.0)
    # a stricter threshold drops OK3 (its 2010 share is exactly 80 %)
    assert list(actions_at_stake(actions, fin, seuil_specifique=0.85)["id_action"]) == ["BIG"]


# --- leverage --------------------------------------------------------------------------------


def test_leverage():
    fin = pd.DataFrame(
        {
            "id_action": ["A", "A", "B", "B", "C"],
            "annee": [2008, 2008, 2008, 2009, 2008],
            "type_credit": ["specifique", "droit_commun", "specifique", "droit_commun", "droit_commun"],
            "montant_accorde": [100.0, 150.0, 100.0, 500.0, 1000.0],
            "institution": ["État", "commune", "État", "commune", "commune"],
        }
    )
    # only A-2008 and B-2008 receive specific credits: 150 / 200
    assert leverage(fin) == pytest.approx(0.75)
    by = leverage(fin, by=["annee"]).set_index("annee")
    assert by.loc[2008, "effet_levier"] == pytest.approx(0.75)
    assert 2009 not in by.index
    assert np.isnan(leverage(fin[fin["type_credit"] == "droit_commun"]))


# --- planted truths of the demo data ---------------------------------------------------------

DEMO = __import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "demo"


def read_demo(table: str, numeric: tuple[str, ...] = (), ints: tuple[str, ...] = ("annee",)) -> pd.DataFrame:
    """A demo table read with plain pandas: codes stay strings, the named columns converted."""
    df = pd.read_csv(DEMO / f"{table}.csv", dtype=str, keep_default_na=False, na_values=[""])
    for c in numeric:
        df[c] = pd.to_numeric(df[c])
    for c in ints:
        if c in df.columns:
            df[c] = pd.to_numeric(df[c]).astype(int)
    return df


@pytest.mark.skipif(not (DEMO / "truth.json").exists(), reason="données de démonstration absentes")
def test_demo_substitution_truth_is_recovered():
    import json

    truth = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))["substitution"]
    assert truth, "truth.json plants no substitution type"
    dc = read_demo("droit_commun", numeric=("valeur",))
    fin = read_demo("financements", numeric=("montant_accorde", "montant_demande"))
    actions = read_demo("actions")
    found = pd.concat(
        [substitution_typology(dc, fin, actions, c) for c in sorted({t["code_territoire"] for t in truth})],
        ignore_index=True,
    ).set_index(["code_territoire", "domaine"])["type"]
    wrong = [
        (t["code_territoire"], t["domaine"], t["type"], found.get((t["code_territoire"], t["domaine"])))
        for t in truth
        if found.get((t["code_territoire"], t["domaine"])) != t["type"]
    ]
    assert not wrong, f"types not recovered (commune, domain, planted, found): {wrong}"
    assert {t["type"] for t in truth} >= {
        "complementarite",
        "substitution_temporaire",
        "substitution_durable",
    }


def test_start_of_the_longest_run_below():
    # below in 2007, then 2009-2012 (the longest), then back: the run starts in 2009
    t, d = classify_substitution(dc_with([50, 100, 50, 50, 50, 50, 100]), SP, duree_max=3)
    assert t == "substitution_durable"
    assert d["plus_longue_serie"] == 4 and d["debut_plus_longue_serie"] == 2009
    _, d = classify_substitution(dc_with([100, 100, 100, 100]), SP)
    assert d["debut_plus_longue_serie"] is None


# --- constant euros ------------------------------------------------------------------------------

INFLATION = {2005: 0.018, 2006: 0.016, 2007: 0.015, 2008: 0.028}


def test_price_factors_chain_the_annual_rates():
    f = price_factors(INFLATION, 2008)
    # P(2004) = 1, P(t) = P(t-1)·(1 + r_t): euros of 2005 in 2008 euros are × (1.016·1.015·1.028)
    assert list(f.index) == [2004, 2005, 2006, 2007, 2008]
    assert f[2008] == 1.0
    assert f[2005] == pytest.approx(1.016 * 1.015 * 1.028)
    assert f[2004] == pytest.approx(1.018 * 1.016 * 1.015 * 1.028)
    # a year after the reference is brought back: 2008 euros in 2006 euros
    back = price_factors(INFLATION, 2006)
    assert back[2008] == pytest.approx(1 / (1.015 * 1.028))
    # the reference year only rescales: the ratio of two years does not depend on it
    assert f[2005] / f[2007] == pytest.approx(back[2005] / back[2007])


def test_price_factors_zero_and_negative_inflation():
    f = price_factors({2015: 0.0, 2016: -0.01}, 2016)
    assert f[2015] == pytest.approx(0.99) and f[2014] == pytest.approx(0.99)


def test_price_factors_refuse_a_gap_or_an_unreachable_reference():
    with pytest.raises(ValueError, match="no inflation rate for \\[2007\\]"):
        price_factors({2005: 0.01, 2006: 0.01, 2008: 0.01}, 2006)
    with pytest.raises(ValueError, match="reference year 2010"):
        price_factors(INFLATION, 2010)
    with pytest.raises(ValueError, match="empty"):
        price_factors({}, 2010)


def test_to_constant_euros_multiplies_each_year_by_its_factor():
    f = price_factors(INFLATION, 2008)
    df = pd.DataFrame({"annee": [2005, 2008, 2005], "montant": [100.0, 100.0, 0.0], "autre": [1, 2, 3]})
    out = to_constant_euros(df, f, "montant")
    assert out["montant"].tolist() == pytest.approx([100 * f[2005], 100.0, 0.0])
    assert df["montant"].tolist() == [100.0, 100.0, 0.0]  # the input is left alone
    assert out["autre"].tolist() == [1, 2, 3]
    # nullable years (the loader's Int64) work the same
    same = to_constant_euros(df.astype({"annee": "Int64"}), f, "montant")
    assert same["montant"].tolist() == pytest.approx(out["montant"].tolist())
    with pytest.raises(ValueError, match="no price factor for \\[2012\\]"):
        to_constant_euros(pd.DataFrame({"annee": [2012], "montant": [1.0]}), f, "montant")
    assert to_constant_euros(df.iloc[0:0], f, "montant").empty


def test_deflate_mainstream_touches_euro_rows_only():
    f = price_factors(INFLATION, 2008)
    dc = pd.DataFrame(
        {
            "annee": [2005, 2005],
            "mesure": ["credits", "postes"],
            "valeur": [1000.0, 4.0],
            "unite": ["€", "ETP"],
        }
    )
    out = deflate_mainstream(dc, f)
    assert out["valeur"].tolist() == pytest.approx([1000 * f[2005], 4.0])


def test_constant_euros_turn_a_flat_budget_into_a_fall():
    # 100 € every year in current euros; prices +5 % a year from 2007: in 2012 euros the
    # reference years are worth 128 €, and the later years fall more than 10 % below them
    rates = {y: (0.0 if y < 2007 else 0.05) for y in range(2005, 2013)}
    f = price_factors(rates, 2012)
    years = range(2005, 2013)
    flat = series({y: 100.0 for y in years})
    assert classify_substitution(flat, SP)[0] == "complementarite"
    real = series({y: 100.0 * f[y] for y in years})
    t, d = classify_substitution(real, SP)
    assert t == "substitution_durable" and d["liste_annees_sous_seuil"] == [2009, 2010, 2011, 2012]


# --- dispositifs over the periods, programmes, cross with the mainstream ------------------------


def small_programme():
    actions = pd.DataFrame(
        {
            "id_action": ["A", "A", "A", "B", "C", "C"],
            "annee": [2005, 2007, 2008, 2008, 2007, 2008],
            "intitule": ["a", "a", "a", "b", "c", "c"],
            "id_operateur": ["O1", "O1", "O1", "O2", "O3", "O3"],
            "thematique": ["education", "education", "education", "education", "sante", "sante"],
            "dispositif": ["CLAS", "CLAS", "CLAS", "CLAS", "ASV", "ASV"],
            "code_commune": "20001",
        }
    )
    fin = pd.DataFrame(
        {
            "id_action": ["A", "A", "A", "B", "C"],
            "annee": [2005, 2007, 2008, 2008, 2007],
            "type_credit": ["specifique", "specifique", "droit_commun", "specifique", "specifique"],
            "montant_accorde": [100.0, 200.0, 50.0, 400.0, 30.0],
        }
    )
    return actions, fin


def test_dispositif_yearly_budget_counts_unfunded_years_as_zero():
    actions, fin = small_programme()
    out = dispositif_yearly_budget(actions, fin).set_index(["dispositif", "annee"])
    assert out.loc[("CLAS", 2005), "budget"] == 100
    assert out.loc[("CLAS", 2008), "budget"] == 450 and out.loc[("CLAS", 2008), "budget_droit_commun"] == 50
    assert out.loc[("ASV", 2008), "budget"] == 0  # an action but no funding that year
    assert ("ASV", 2005) not in out.index  # no action: no row (not a zero)


def test_main_actions_names_the_largest_per_dispositif():
    actions, fin = small_programme()
    out = main_actions(actions, fin, ("dispositif",), n=1)
    clas = out[out["dispositif"] == "CLAS"].iloc[0]
    assert clas["id_action"] == "B" and clas["budget"] == 400 and clas["rang"] == 1  # B 400 > A 350
    two = main_actions(actions, fin, ("dispositif",), n=2)
    a = two[two["id_action"] == "A"].iloc[0]
    assert (a["premiere_annee"], a["derniere_annee"], a["annees"], a["budget"]) == (2005, 2008, 3, 350)
    assert a["id_operateur"] == "O1" and a["rang"] == 2


def test_dispositif_mainstream_cross_compares_periods_of_the_domain():
    actions, fin = small_programme()
    dc = pd.DataFrame(
        {
            "code_territoire": "20001",
            "niveau": "commune",
            "mesure": "credits",
            "domaine": ["education"] * 4 + ["sante"] * 2,
            "annee": [2005, 2006, 2007, 2008, 2007, 2008],
            "valeur": [1000.0, 1000.0, 600.0, 800.0, 50.0, 70.0],
        }
    )
    typo = pd.DataFrame({"domaine": ["education", "sante"], "type": ["substitution_durable", "indetermine"]})
    out = dispositif_mainstream_cross(
        actions, fin, dc, "20001", typo, annee_debut_cucs=2007, debut=2005, fin=2008
    ).set_index("dispositif")
    clas = out.loc["CLAS"]
    assert clas["dc_avant"] == 1000 and clas["dc_pendant"] == 700 and clas["dc_difference"] == -300
    assert clas["sp_avant"] == 100 and clas["sp_pendant"] == 300  # (200 + 400) / 2 years
    assert clas["type"] == "substitution_durable" and clas["dc_avant_testable"]
    asv = out.loc["ASV"]
    assert pd.isna(asv["dc_avant"]) and not asv["dc_avant_testable"]  # the series starts with the CUCS
    assert asv["sp_annees_avant"] == 0 and pd.isna(asv["sp_avant"])
    assert list(out.index) == ["CLAS", "ASV"]  # largest specific credits during first
