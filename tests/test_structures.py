"""analysis.structures (q7): co-funding per euro of specific credits, mainstream share, delays,
renewal, per commune and per structure — on small hand-made frames whose answers are worked
out by hand in each test."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cucs_analysis.analysis import funding, structures

KW = {"annee_debut_cucs": 2007, "debut": 2005, "fin": 2010}


def _fin(rows) -> pd.DataFrame:
    """(id_action, annee, type_credit, montant_accorde[, date_depot, date_decision, date_paiement])."""
    cols = [
        "id_action",
        "annee",
        "type_credit",
        "montant_accorde",
        "date_depot",
        "date_decision",
        "date_paiement",
    ]
    df = pd.DataFrame([list(r) + [None] * (len(cols) - len(r)) for r in rows], columns=cols)
    for c in ("date_depot", "date_decision", "date_paiement"):
        df[c] = pd.to_datetime(df[c])
    df["institution"] = np.where(df["type_credit"] == "specifique", "État", "commune")
    df["montant_demande"] = df["montant_accorde"]
    return df


def _act(rows) -> pd.DataFrame:
    """(id_action, annee, id_operateur, code_commune, statut)."""
    return pd.DataFrame(rows, columns=["id_action", "annee", "id_operateur", "code_commune", "statut"])


# --- co-funding per euro of specific credits ------------------------------------------------------


def test_leverage_counts_only_action_years_with_specific_credits():
    fin = _fin(
        [
            ("A", 2010, "specifique", 100.0),
            ("A", 2010, "droit_commun", 150.0),
            ("B", 2010, "droit_commun", 200.0),  # no specific credits: left out
            ("C", 2011, "specifique", 50.0),
            ("C", 2011, "droit_commun", 0.0),
        ]
    )
    out = structures.leverage_by(fin)
    assert len(out) == 1
    row = out.iloc[0]
    assert row["actions_annees"] == 2
    assert row["specifique"] == 150 and row["droit_commun"] == 150
    assert row["effet_levier"] == pytest.approx(1.0)
    assert row["effet_levier"] == pytest.approx(funding.leverage(fin))  # the one definition


def test_leverage_by_year_and_a_zero_specific_credit():
    fin = _fin(
        [
            ("A", 2010, "specifique", 100.0),
            ("A", 2010, "droit_commun", 300.0),
            ("A", 2011, "specifique", 0.0),  # a measured zero: not an action-year with specific credits
            ("A", 2011, "droit_commun", 80.0),
        ]
    )
    out = structures.leverage_by(fin, ["annee"])
    assert out["annee"].tolist() == [2010]
    assert out["effet_levier"].tolist() == [3.0]


def test_leverage_without_specific_credits_or_rows_is_nan_not_zero():
    only_dc = structures.leverage_by(_fin([("A", 2010, "droit_commun", 10.0)]))
    assert only_dc["actions_annees"].iloc[0] == 0 and math.isnan(only_dc["effet_levier"].iloc[0])
    empty = structures.leverage_by(_fin([]).iloc[0:0])
    assert len(empty) == 1 and math.isnan(empty["effet_levier"].iloc[0])
    assert structures.leverage_by(_fin([]).iloc[0:0], ["annee"]).empty


def test_money_periods_pool_each_period_and_flag_small_bases():
    fin = _fin(
        [
            ("A", 2006, "specifique", 100.0),
            ("A", 2006, "droit_commun", 100.0),
            ("A", 2008, "specifique", 100.0),
            ("A", 2008, "droit_commun", 300.0),
            ("B", 2009, "specifique", 200.0),
            ("B", 2009, "droit_commun", 0.0),
            ("C", 2009, "droit_commun", 400.0),  # no specific credits: only in the mainstream share
        ]
    )
    out = structures.money_periods(fin, base_min=2, **KW).set_index("mesure")
    lev = out.loc["effet_levier"]
    assert lev["valeur_avant"] == pytest.approx(1.0)
    assert lev["valeur_pendant"] == pytest.approx(300 / 300)  # (300 + 0) / (100 + 200)
    assert lev["actions_annees_avant"] == 1 and lev["actions_annees_pendant"] == 2
    assert bool(lev["petite_base"])  # 1 action-year before < 2
    part = out.loc["part_droit_commun"]
    assert part["valeur_avant"] == pytest.approx(50.0)
    assert part["valeur_pendant"] == pytest.approx(100 * 700 / 1000)


def test_money_periods_series_starting_with_the_contract_cannot_test_before():
    fin = _fin([("A", 2008, "specifique", 100.0), ("A", 2008, "droit_commun", 50.0)])
    out = structures.money_periods(fin, **KW)
    assert not out["avant_testable"].any()
    assert out["valeur_avant"].isna().all()
    assert structures.money_periods(_fin([]).iloc[0:0], **KW).empty


# --- delays --------------------------------------------------------------------------------------


def test_delays_in_days_inconsistent_or_missing_dates_are_not_delays():
    fin = _fin(
        [
            ("A", 2010, "specifique", 1.0, "2010-01-10", "2010-02-09", "2010-03-11"),  # 30, 60
            ("A", 2010, "droit_commun", 1.0, "2010-01-10", "2010-01-05", None),  # decision before: NaN
            ("B", 2010, "specifique", 1.0, None, "2010-02-01", "2010-03-01"),  # no application date
        ]
    )
    d = structures.funding_delays(fin)
    assert d["delai_decision"].tolist()[0] == 30
    assert d["delai_paiement"].tolist()[0] == 60
    assert d["delai_decision"].isna().tolist() == [False, True, True]
    assert d["delai_paiement"].isna().tolist() == [False, True, True]


def test_median_delays_whole_period_and_by_group():
    fin = _fin(
        [
            ("A", 2010, "specifique", 1.0, "2010-01-01", "2010-01-11", "2010-02-01"),  # 10, 31
            ("B", 2010, "specifique", 1.0, "2010-01-01", "2010-01-21", None),  # 20, -
            ("C", 2011, "specifique", 1.0, "2011-01-01", "2011-03-02", "2011-04-01"),  # 60, 90
        ]
    )
    one = structures.median_delays(fin).iloc[0]
    assert (one["demandes"], one["decisions"], one["paiements"]) == (3, 3, 2)
    assert one["delai_decision_median"] == 20
    assert one["delai_paiement_median"] == pytest.approx((31 + 90) / 2)
    by = structures.median_delays(fin, ["annee"]).set_index("annee")
    assert by.loc[2010, "delai_decision_median"] == 15
    assert by.loc[2011, "paiements"] == 1


def test_median_delays_of_an_empty_table_or_without_payment_column():
    e = structures.median_delays(_fin([]).iloc[0:0]).iloc[0]
    assert e["demandes"] == 0 and math.isnan(e["delai_decision_median"])
    fin = _fin([("A", 2010, "specifique", 1.0, "2010-01-01", "2010-01-11")]).drop(columns="date_paiement")
    d = structures.median_delays(fin).iloc[0]
    assert d["delai_decision_median"] == 10 and d["paiements"] == 0


def test_median_delays_periods_before_and_during():
    fin = _fin(
        [
            ("A", 2006, "specifique", 1.0, "2006-01-01", "2006-01-11", "2006-01-31"),  # 10, 30
            ("A", 2008, "specifique", 1.0, "2008-01-01", "2008-01-21", "2008-02-10"),  # 20, 40
            ("B", 2009, "specifique", 1.0, "2009-01-01", "2009-01-31", None),  # 30, -
        ]
    )
    out = structures.median_delays_periods(fin, base_min=2, **KW).set_index("mesure")
    dec = out.loc["delai_decision"]
    assert (dec["valeur_avant"], dec["valeur_pendant"]) == (10, 25)
    assert (dec["n_avant"], dec["n_pendant"]) == (1, 2)
    assert dec["difference"] == 15 and bool(dec["petite_base"])
    pay = out.loc["delai_paiement"]
    assert (pay["valeur_avant"], pay["valeur_pendant"], pay["n_pendant"]) == (30, 40, 1)
    assert structures.median_delays_periods(_fin([]).iloc[0:0], **KW).empty


# --- renewal ---------------------------------------------------------------------------------------


def _programme() -> pd.DataFrame:
    return _act(
        [
            ("A", 2005, "OP1", "1", "réalisée"),
            ("B", 2005, "OP1", "1", "réalisée"),
            ("A", 2006, "OP1", "1", "réalisée"),
            ("C", 2006, "OP2", "1", "réalisée"),
            ("D", 2006, None, "1", "non pourvue"),  # never carried out: not in the programme
            ("A", 2007, "OP1", "1", "réalisée"),
            ("C", 2007, "OP2", "1", "abandonnée"),
            ("E", 2007, "OP3", "1", "programmée"),
            ("F", 2007, "OP3", "1", "réalisée"),
        ]
    )


def test_renewal_new_actions_and_operators_per_year():
    r = structures.renewal(_programme()).set_index("annee")
    assert bool(r.loc[2005, "premiere_annee"]) and math.isnan(r.loc[2005, "part_nouvelles_actions"])
    assert (r.loc[2006, "actions"], r.loc[2006, "nouvelles_actions"]) == (2, 1)  # D left out, C new
    assert r.loc[2006, "part_nouvelles_actions"] == pytest.approx(0.5)
    assert (r.loc[2006, "operateurs"], r.loc[2006, "nouveaux_operateurs"]) == (2, 1)
    assert (r.loc[2007, "actions"], r.loc[2007, "nouvelles_actions"]) == (4, 2)
    assert (r.loc[2007, "operateurs"], r.loc[2007, "nouveaux_operateurs"]) == (3, 1)
    assert r.loc[2007, "part_nouveaux_operateurs"] == pytest.approx(1 / 3)


def test_renewal_per_group_each_starts_its_own_first_year():
    a = pd.concat([_programme(), _act([("Z", 2007, "OP1", "2", "réalisée")])], ignore_index=True)
    r = structures.renewal(a, ["code_commune"])
    z = r[r["code_commune"] == "2"].iloc[0]
    assert bool(z["premiere_annee"]) and z["annee"] == 2007  # OP1 is new in commune 2, not "known"
    assert z["nouveaux_operateurs"] == 1


def test_renewal_of_an_empty_table_a_single_row_and_no_operator_column():
    assert structures.renewal(_programme().iloc[0:0]).empty
    assert structures.renewal(None).empty
    one = structures.renewal(_programme().iloc[:1])
    assert len(one) == 1 and bool(one["premiere_annee"].iloc[0])
    no_op = structures.renewal(_programme().drop(columns="id_operateur"))
    assert (no_op["operateurs"] == 0).all() and no_op["part_nouveaux_operateurs"].isna().all()


def test_renewal_periods_pool_the_years_without_the_first():
    out = structures.renewal_periods(_programme(), base_min=3, **KW).set_index("mesure")
    a = out.loc["nouvelles_actions"]
    assert (a["numerateur_avant"], a["denominateur_avant"]) == (1, 2)  # 2006 only
    assert (a["numerateur_pendant"], a["denominateur_pendant"]) == (2, 4)
    assert a["valeur_pendant"] == pytest.approx(50.0)
    assert bool(a["petite_base"])
    o = out.loc["nouveaux_operateurs"]
    assert o["valeur_avant"] == pytest.approx(50.0) and o["valeur_pendant"] == pytest.approx(100 / 3)
    assert structures.renewal_periods(_programme().iloc[:1], **KW).empty  # a single year


# --- every commune, every structure --------------------------------------------------------------


def _communes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code_commune": ["1", "2", "3", "9"],
            "nom": ["Un", "Deux", "Trois", "Neuf"],
            "structure_pilotage": ["GIP", "GIP", None, "aucune"],
            "signataire_cucs": [True, True, True, False],
        }
    )


def _region_tables():
    actions = _act(
        [
            ("A", 2006, "OP1", "1", "réalisée"),
            ("A", 2008, "OP1", "1", "réalisée"),
            ("B", 2008, "OP2", "2", "réalisée"),
            ("C", 2008, "OP3", "3", "réalisée"),
        ]
    )
    fin = _fin(
        [
            ("A", 2006, "specifique", 100.0, "2006-01-01", "2006-01-11", "2006-02-10"),
            ("A", 2006, "droit_commun", 100.0, "2006-01-01", "2006-01-21", "2006-02-20"),
            ("A", 2008, "specifique", 100.0, "2008-01-01", "2008-01-31", "2008-03-01"),
            ("A", 2008, "droit_commun", 300.0, "2008-01-01", "2008-01-31", "2008-03-01"),
            ("B", 2008, "specifique", 200.0, "2008-01-01", "2008-04-10", None),
            ("B", 2008, "droit_commun", 100.0, "2008-01-01", "2008-04-10", None),
            ("C", 2008, "droit_commun", 50.0, "2008-01-01", "2008-01-02", None),
        ]
    )
    return actions, fin


def test_commune_indicators_one_row_per_commune_with_its_structure():
    actions, fin = _region_tables()
    ind = structures.commune_indicators(_communes(), actions, fin, **KW).set_index("code_commune")
    assert list(ind.index) == ["1", "2", "3", "9"]
    assert ind.loc["3", "structure"] == structures.INCONNUE
    assert ind.loc["1", "effet_levier"] == pytest.approx(400 / 200)
    assert ind.loc["1", "actions_annees"] == 2
    assert ind.loc["1", "part_droit_commun"] == pytest.approx(100 * 400 / 600)
    assert ind.loc["1", "delai_decision_median"] == pytest.approx(25)  # 10, 20, 30, 30
    assert ind.loc["2", "effet_levier"] == pytest.approx(0.5)
    assert math.isnan(ind.loc["3", "effet_levier"])  # no specific credits: not computable
    assert ind.loc["3", "actions_annees"] == 0  # a measured zero
    assert not ind.loc["9", "a_financements"] and math.isnan(ind.loc["9", "actions_annees"])


def test_commune_indicators_without_programme_tables():
    ind = structures.commune_indicators(_communes(), None, None, **KW)
    assert not ind["a_financements"].any()
    assert ind["effet_levier"].isna().all()
    assert list(ind.columns) == structures.INDICATEURS_COLUMNS


def test_by_structure_pools_the_communes_and_gives_their_spread():
    actions, fin = _region_tables()
    ind = structures.commune_indicators(_communes(), actions, fin, **KW)
    res = structures.by_structure(ind).set_index("structure")
    assert "aucune" not in res.index  # the non-signatory is not compared
    gip = res.loc["GIP"]
    assert gip["communes"] == 2
    assert gip["effet_levier"] == pytest.approx((400 + 100) / (200 + 200))  # pooled, not a mean of ratios
    assert (gip["effet_levier_min"], gip["effet_levier_max"]) == (pytest.approx(0.5), pytest.approx(2.0))
    assert gip["effet_levier_n"] == 2
    # an unknown structure is not a class of its own: left out, and counted
    assert structures.INCONNUE not in res.index
    assert structures.unknown_structures(ind) == int(
        (ind["structure"].eq(structures.INCONNUE) & ind["signataire"].eq(True) & ind["a_financements"]).sum()
    )
    assert structures.unknown_structures(ind) >= 1
    assert structures.by_structure(ind.iloc[0:0]).empty


def test_structure_code_trims_and_names_an_unknown_structure():
    s = structures.structure_code(pd.Series([" GIP ", "", None, "service municipal"]))
    assert s.tolist() == ["GIP", structures.INCONNUE, structures.INCONNUE, "service municipal"]


def test_in_period_keeps_the_years_between_the_bounds():
    df = pd.DataFrame({"annee": [2004, 2005, 2010, 2011, None], "x": range(5)})
    assert structures.in_period(df, 2005, 2010)["x"].tolist() == [1, 2]
    assert structures.in_period(df, None, 2005)["x"].tolist() == [0, 1]
    assert structures.in_period(df, None, None) is df
    assert structures.in_period(None, 2005, 2010).empty
    assert structures.in_period(df.iloc[:0], 2005, 2010).empty


def test_with_action_attrs_left_keeps_every_funding_row_inner_only_those_of_the_actions():
    fin = pd.DataFrame({"id_action": ["a", "b"], "annee": [2008, 2008], "montant_accorde": [1.0, 2.0]})
    act = pd.DataFrame({"id_action": ["a", "a"], "annee": [2008, 2008], "code_commune": ["20001", "20001"]})
    left = funding.with_action_attrs(fin, act, ["code_commune"])
    assert left["code_commune"].tolist()[0] == "20001" and pd.isna(left["code_commune"].iloc[1])
    inner = funding.with_action_attrs(fin, act, ["code_commune"], how="inner")
    assert inner["id_action"].tolist() == ["a"] and inner["code_commune"].tolist() == ["20001"]
    assert funding.with_action_attrs(fin, act, ["montant_accorde"]) is fin  # nothing to add


def test_unpaid_last_year_counts_the_censored_requests():
    f = pd.DataFrame(
        {
            "id_action": ["a", "b", "c", "d", "e", "f"],
            "annee": [2006, 2008, 2009, 2010, 2010, 2010],
            "date_depot": [
                "2006-01-01",
                "2008-01-01",
                "2009-01-01",
                "2010-01-01",
                "2010-02-01",
                "2010-03-01",
            ],
            "date_decision": ["2006-02-01"] * 6,
            "date_paiement": ["2006-03-02", None, "2009-01-31", "2010-01-11", None, None],
        }
    )
    u = structures.unpaid_last_year(f, annee_debut_cucs=2007, debut=2005, fin=2014)
    assert (u["annee"], u["demandes"], u["non_payees"], u["non_payees_total"]) == (2010, 3, 2, 3)
    # during the contract without the last year: only 2009's request (30 days) was paid
    assert u["delai_paiement_pendant_sans_derniere"] == 30 and u["paiements_pendant_sans_derniere"] == 1
    empty = structures.unpaid_last_year(f.iloc[:0], annee_debut_cucs=2007, debut=2005, fin=2014)
    assert empty["annee"] is None and empty["non_payees"] == 0
    assert math.isnan(empty["delai_paiement_pendant_sans_derniere"])
    one = structures.unpaid_last_year(f.iloc[[3]], annee_debut_cucs=2007, debut=2005, fin=2014)
    assert one["non_payees"] == 0 and math.isnan(one["delai_paiement_pendant_sans_derniere"])
