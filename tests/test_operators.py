"""analysis.operators on small hand-made frames: each expected value is worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cucs_analysis.analysis import motifs, operators


def _actions(rows):
    cols = [
        "id_action",
        "annee",
        "id_operateur",
        "code_commune",
        "statut",
        "beneficiaires_prevus",
        "beneficiaires_realises",
        "prioritaire",
    ]
    return pd.DataFrame(rows, columns=cols)


def _op_rows(op, n, prevu, realise, statut="réalisée", commune="1", start=2007, action=None):
    return [(action or f"{op}-{i}", start + i, op, commune, statut, prevu, realise, False) for i in range(n)]


# --- performance ---------------------------------------------------------------------------------


def test_performance_flags_below_threshold_with_enough_years():
    a = _actions(
        _op_rows("A", 3, 100, 50)  # 50 % over 3 realised years: flagged
        + _op_rows("B", 3, 100, 80)  # 80 %: not flagged
        + _op_rows("C", 2, 100, 10)  # too few years: not judged
    )
    p = operators.performance(a, None, 0.7, 3).set_index("id_operateur")
    assert p.loc["A", "taux_realisation"] == pytest.approx(0.5)
    assert p.loc["A", "sous_performant"] is True or p.loc["A", "sous_performant"] == True  # noqa: E712
    assert p.loc["B", "sous_performant"] == False  # noqa: E712
    assert p.loc["C", "sous_performant"] is None and p.loc["C", "motif"] == motifs.NON_CALCULABLE
    assert p.loc["A", "motif"] is None
    assert operators.underperformers(p.reset_index()) == ["A"]


def test_performance_threshold_is_strict_and_follows_the_parameter():
    a = _actions(_op_rows("A", 3, 100, 70))
    assert operators.underperformers(operators.performance(a, None, 0.7, 3)) == []
    assert operators.underperformers(operators.performance(a, None, 0.71, 3)) == ["A"]
    assert operators.underperformers(operators.performance(a, None, 0.7, 4)) == []


def test_performance_one_base_leaves_unfilled_years_and_missing_figures_out():
    rows = _op_rows("A", 3, 100, 90)
    rows += [("X", 2011, "A", "1", "non pourvue", 500, np.nan, True)]
    rows += [("Y", 2012, "A", "1", "réalisée", 400, np.nan, False)]  # no achieved figure
    p = operators.performance(_actions(rows), None, 0.7, 3).iloc[0]
    assert p["prevus_realisees"] == 300 and p["realises"] == 270
    assert p["annees_non_pourvues"] == 1 and p["prevus_non_realisees"] == 500
    assert p["annees_realisees"] == 4


def test_performance_zero_base_is_not_calculable():
    p = operators.performance(_actions(_op_rows("A", 3, 0, 0)), None, 0.7, 3).iloc[0]
    assert np.isnan(p["taux_realisation"]) and p["sous_performant"] is None
    assert p["motif"] == motifs.NON_CALCULABLE


def test_performance_money_on_requested_lines_only():
    a = _actions(_op_rows("A", 2, 10, 10, action="X"))
    fin = pd.DataFrame(
        {
            "id_action": ["X", "X", "X"],
            "annee": [2007, 2008, 2008],
            "type_credit": ["specifique"] * 3,
            "montant_demande": [100.0, 200.0, np.nan],  # the NaN line is off the base
            "montant_accorde": [80.0, 100.0, 999.0],
        }
    )
    p = operators.performance(a, fin, 0.7, 3).iloc[0]
    assert p["demandes"] == 2 and p["montant_demande"] == 300 and p["montant_accorde"] == 180
    assert p["taux_accord"] == pytest.approx(0.6)


def test_performance_empty_or_missing_column():
    assert operators.performance(_actions([]), None, 0.7, 3).empty
    assert list(operators.performance(_actions([]), None, 0.7, 3).columns) == operators.PERFORMANCE_COLUMNS
    assert operators.performance(pd.DataFrame({"id_action": ["X"]}), None, 0.7, 3).empty
    assert operators.underperformers(operators.performance(_actions([]), None, 0.7, 3)) == []


# --- coded reports ---------------------------------------------------------------------------------


def _bilans():
    return pd.DataFrame(
        {
            "id_action": ["A-0", "A-0", "A-1", "B-0", "B-0"],
            "annee": [2007, 2007, 2008, 2007, 2009],  # B-0 2009 has no action-year: dropped
            "categorie": ["écart expliqué", "réussite", "écart expliqué", "blocage", "blocage"],
            "theme": ["locaux", "résultats", "locaux", "financement", "financement"],
        }
    )


def test_statements_by_theme_per_category_with_total():
    a = _actions(_op_rows("A", 2, 10, 5) + _op_rows("B", 1, 10, 10))
    t = operators.statements_by_theme(_bilans(), a).set_index("theme")
    assert t.loc["locaux", "écart expliqué"] == 2 and t.loc["locaux", "total"] == 2
    assert t.loc["financement", "blocage"] == 1
    assert t["total"].sum() == 4
    only_a = operators.statements_by_theme(_bilans(), a, ["A"])
    assert set(only_a["theme"]) == {"locaux", "résultats"}
    assert operators.statements_by_theme(_bilans().iloc[0:0], a).empty
    assert operators.statements_by_theme(None, a).empty


def test_statements_by_operator_one_category():
    a = _actions(_op_rows("A", 2, 10, 5) + _op_rows("B", 1, 10, 10))
    s = operators.statements_by_operator(_bilans(), a, ["A", "B"], "écart expliqué")
    assert s.to_dict(orient="records") == [{"id_operateur": "A", "theme": "locaux", "enonces": 2}]
    assert operators.statements_by_operator(_bilans(), a, [], "blocage").empty


# --- nature and scale ------------------------------------------------------------------------------


def _ops():
    return pd.DataFrame(
        {
            "id_operateur": ["A", "B", "C"],
            "nom": ["a", "b", "c"],
            "statut_juridique": ["association", "association", "SCOP"],
            "budget_annuel": [10_000.0, 300_000.0, np.nan],
            "echelle": ["quartier", "commune", "quartier"],
            "domaines": ["education;emploi", "emploi", ""],
            "code_commune": ["1", "2", "1"],
        }
    )


def test_active_operators_and_domains_by_scale():
    a = _actions(_op_rows("A", 2, 10, 5) + _op_rows("B", 1, 10, 10))
    act = operators.active_operators(_ops(), a)
    assert list(act["id_operateur"]) == ["A", "B"]  # C has no action
    assert act.set_index("id_operateur").loc["A", "actions_annees"] == 2
    d = operators.domains_by_scale(act).set_index(["domaine", "echelle"])["operateurs"]
    assert d.to_dict() == {("education", "quartier"): 1, ("emploi", "commune"): 1, ("emploi", "quartier"): 1}
    assert operators.domains_by_scale(_ops().iloc[2:3]).empty  # an empty domain list
    home = operators.operators_by_home(act).set_index("code_commune")["operateurs"].to_dict()
    assert home == {"1": 1, "2": 1}


# --- unfilled priority actions ------------------------------------------------------------------------


def test_unfilled_priority_actions_distinct_and_priority_only():
    a = _actions(
        [
            ("X", 2008, None, "1", "non pourvue", 10, np.nan, True),
            ("X", 2009, None, "1", "non pourvue", 10, np.nan, True),
            ("Y", 2008, None, "1", "non pourvue", 10, np.nan, False),  # not a priority
            ("Z", 2010, "A", "1", "réalisée", 10, 10, True),  # carried out
            ("W", 2011, None, "1", "non pourvue", 10, np.nan, "oui"),  # raw French yes
        ]
    ).assign(intitule="t", thematique="sante", dispositif="ASV", code_quartier="")
    u = operators.unfilled_priority_actions(a)
    assert list(u["id_action"]) == ["X", "W"]
    x = u.set_index("id_action").loc["X"]
    assert x["annees_non_pourvues"] == 2 and x["premiere_annee"] == 2008 and x["derniere_annee"] == 2009
    assert operators.unfilled_priority_actions(a.iloc[0:0]).empty


# --- renewal and survival --------------------------------------------------------------------------


def test_size_class_with_missing_budget():
    c = operators.size_class(pd.Series([10.0, 50.0, 199.0, 200.0, np.nan]), [50, 200])
    assert list(c) == ["petite", "moyenne", "moyenne", "grande", "inconnue"]


def test_funded_years_specific_credits_above_zero():
    a = _actions(_op_rows("A", 3, 10, 10, action="X"))
    fin = pd.DataFrame(
        {
            "id_action": ["X", "X", "X", "X"],
            "annee": [2007, 2008, 2009, 2009],
            "type_credit": ["specifique", "specifique", "droit_commun", "specifique"],
            "montant_accorde": [10.0, 0.0, 50.0, 5.0],
        }
    )
    f = operators.funded_years(a, fin)
    assert list(f["annee"]) == [2007, 2009] and f["montant_accorde"].tolist() == [10.0, 5.0]
    assert operators.funded_years(a, None).empty


def test_renewal_and_survival_by_class():
    funded = pd.DataFrame(
        {"id_operateur": ["A", "A", "A", "B", "C", "C"], "annee": [2005, 2006, 2007, 2005, 2013, 2014]}
    )
    classes = pd.Series({"A": "petite", "B": "petite", "C": "grande"})
    r = operators.renewal_by_year(funded, classes, 2005, 2014).set_index(["classe", "annee"])
    # 2006: A and B were funded in 2005, A again in 2006
    assert r.loc[("petite", 2006), "finances_precedente"] == 2 and r.loc[("petite", 2006), "renouveles"] == 1
    assert r.loc[("petite", 2008), "renouveles"] == 0  # A stops after 2007
    assert r.loc[("grande", 2014), "renouveles"] == 1
    s = operators.funding_survival(funded, classes, 2014).set_index("classe")
    assert s.loc["petite", "operateurs"] == 2 and s.loc["petite", "encore_finances"] == 0
    assert s.loc["grande", "part_encore_financees"] == 1.0
    assert s.loc["petite", "annees_financees_mediane"] == 2.0
    assert operators.renewal_by_year(funded.iloc[0:0], classes, 2005, 2014).empty
    assert operators.funding_survival(funded.iloc[0:0], classes, 2014).empty


# --- steering ---------------------------------------------------------------------------------------


def _instances(code, coll, cons, soutien=0):
    types = ["réunion collective de travail"] * coll + ["réunion de consignes"] * cons
    types += ["rencontre individuelle de soutien"] * soutien
    return pd.DataFrame({"code_commune": code, "type": types, "date": pd.Timestamp("2008-01-01")})


def _model(ins, acts, communes):
    return operators.steering_model(
        ins,
        acts,
        communes,
        annee_debut_cucs=2007,
        decalage_annees=2,
        seuil_participatif=0.5,
        seuil_adaptable=0.25,
    ).set_index("code_commune")


def test_steering_model_axes_thresholds_and_motifs():
    communes = pd.DataFrame(
        {
            "code_commune": ["1", "2", "3", "4"],
            "nom": list("abcd"),
            "signataire_cucs": [True, True, True, False],
        }
    )
    ins = pd.concat(
        [
            _instances("1", 1, 1, 5),  # exactly 50 %: participatif (>=)
            _instances("2", 0, 0, 3),  # only support meetings: no base
        ]
    )
    # commune 1: 4 actions, first years 2005, 2009 (new), 2010 (new), 2008 → 50 % adaptable
    acts = pd.DataFrame(
        {
            "code_commune": ["1"] * 5 + ["3"],
            "id_action": ["a", "b", "c", "d", "d", "e"],
            "annee": [2005, 2009, 2010, 2008, 2011, 2005],
        }
    )
    m = _model(ins, acts, communes)
    one = m.loc["1"]
    assert one["axe_descendant_participatif"] == "participatif" and one["part_participatif"] == 0.5
    assert one["rencontres_soutien"] == 5
    assert one["actions"] == 4 and one["actions_nouvelles"] == 2 and one["axe_fige_adaptable"] == "adaptable"
    two = m.loc["2"]
    assert two["axe_descendant_participatif"] is None
    assert two["motif_descendant_participatif"] == motifs.NON_CALCULABLE
    assert two["motif_fige_adaptable"] == motifs.DONNEE_ABSENTE
    three = m.loc["3"]
    assert three["motif_descendant_participatif"] == motifs.DONNEE_ABSENTE
    assert three["axe_fige_adaptable"] == "fige" and three["part_adaptable"] == 0.0  # a measured zero
    four = m.loc["4"]
    assert four["axe_descendant_participatif"] is None and four["axe_fige_adaptable"] is None
    assert four["motif_descendant_participatif"] == four["motif_fige_adaptable"] == motifs.HORS_CUCS


def test_steering_model_descendant_and_fige_just_below_thresholds():
    communes = pd.DataFrame({"code_commune": ["1"], "signataire_cucs": [True]})
    acts = pd.DataFrame(
        {"code_commune": "1", "id_action": list("abcde"), "annee": [2005, 2005, 2005, 2005, 2009]}
    )
    m = _model(_instances("1", 49, 51), acts, communes).loc["1"]
    assert (
        m["axe_descendant_participatif"] == "descendant" and m["axe_fige_adaptable"] == "fige"
    )  # 20 % < 25 %
    assert m["nom"] == "1"  # no name column: the code stands in


def test_steering_model_without_tables():
    communes = pd.DataFrame({"code_commune": ["1"], "signataire_cucs": ["oui"]})
    m = _model(None, None, communes).loc["1"]
    assert m["motif_descendant_participatif"] == m["motif_fige_adaptable"] == motifs.DONNEE_ABSENTE


def test_meetings_by_type_and_family_year():
    ins = pd.concat(
        [
            _instances("1", 2, 1, 1),
            pd.DataFrame({"code_commune": ["1"], "type": ["visite"], "date": [pd.Timestamp("2009-05-01")]}),
        ]
    )
    t = operators.meetings_by_type(ins).set_index("type")
    assert t.loc["réunion collective de travail", "nombre"] == 2
    assert t.loc["visite", "famille"] == "autre"
    fy = operators.meetings_by_family_year(ins).set_index(["famille", "annee"])["nombre"]
    assert fy[("travail_collectif", 2008)] == 2 and fy[("autre", 2009)] == 1
    assert operators.meetings_by_type(None).empty and operators.meetings_by_family_year(ins.iloc[0:0]).empty


# --- fix 10: measured zeros in the renewal grid, early actions of the contract ----------------------


def test_renewal_grid_has_a_measured_zero_when_no_one_was_funded_the_year_before():
    # C (grande) is first funded in 2013: in 2006-2013 no grande association was funded the year
    # before → rows of 0, not missing rows (the « avant » base is a measured 0)
    funded = pd.DataFrame({"id_operateur": ["A", "A", "C", "C"], "annee": [2005, 2006, 2013, 2014]})
    classes = pd.Series({"A": "petite", "C": "grande"})
    r = operators.renewal_by_year(funded, classes, 2005, 2014).set_index(["classe", "annee"])
    assert r.loc[("grande", 2006), "finances_precedente"] == 0
    assert r.loc[("grande", 2006), "renouveles"] == 0
    assert r.loc[("grande", 2014), "finances_precedente"] == 1
    assert r.loc[("petite", 2010), "finances_precedente"] == 0
    # years start after the first funded year: 2005 itself has no « year before »
    assert 2005 not in r.index.get_level_values("annee")
    assert len(r) == 2 * 9


def test_steering_model_counts_the_early_actions_of_the_contract_and_the_never_filled_ones():
    communes = pd.DataFrame({"code_commune": ["1"], "signataire_cucs": [True]})
    acts = pd.DataFrame(
        {
            "code_commune": "1",
            "id_action": ["a", "b", "c", "c", "d", "e"],
            "annee": [2005, 2007, 2008, 2009, 2008, 2009],
            "statut": ["réalisée", "réalisée", "non pourvue", "réalisée", "non pourvue", "réalisée"],
        }
    )
    m = _model(None, acts, communes).loc["1"]
    # b (2007), c (2008) and d (2008) first programmed in 2007-2008; d never filled, c filled in 2009
    assert m["actions_debut_contrat"] == 3 and m["actions_debut_contrat_non_pourvues"] == 1
    assert m["actions_nouvelles"] == 1  # e, 2009: only it counts for the axis
    no_status = _model(None, acts.drop(columns="statut"), communes).loc["1"]
    assert no_status["actions_debut_contrat_non_pourvues"] == 0
