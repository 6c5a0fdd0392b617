"""Reasons of each eligibility verdict (issue 8, point 4): codes of the failed conditions,
« n.d. » with a motif where a rule cannot be computed, never a bare « non »."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cucs_analysis.analysis import geography as g
from cucs_analysis.analysis import motifs


def _frame(**over):
    base = {
        "revenu_median_uc": 10000.0,
        "population": 2000.0,
        "revenu_median_uu": 18400.0,
        "population_unite_urbaine": 200_000.0,
    }
    base.update(over)
    return pd.DataFrame({k: [v] for k, v in base.items()})


def _one(df, national=19000, secret=None):
    out = g.qpv2014_verdict(df, national, 1000, 10000, secret)
    row = out.iloc[0]
    v = row["regle_qpv2014"]
    return (
        (None if v is pd.NA else bool(v)),
        row["raisons_qpv2014"].split(g.SEP_RAISONS),
        row["motif_qpv2014"],
    )


def test_each_failed_condition_gives_its_reason():
    assert _one(_frame()) == (True, [""], None)
    assert _one(_frame(revenu_median_uc=11300.0))[:2] == (False, [g.REVENU_AU_DESSUS])
    assert _one(_frame(population=999.0))[:2] == (False, [g.TAILLE_QUARTIER])
    assert _one(_frame(population_unite_urbaine=9999.0))[:2] == (False, [g.TAILLE_UU])
    # several failed conditions: every reason is given
    v, raisons, _ = _one(_frame(revenu_median_uc=13000.0, population=800.0))
    assert v is False and set(raisons) == {g.REVENU_AU_DESSUS, g.TAILLE_QUARTIER}


def test_a_missing_value_is_nd_with_its_motif_not_non():
    secret = pd.Series([True])
    assert _one(_frame(revenu_median_uc=math.nan), secret=secret) == (None, [""], motifs.SECRET)
    assert _one(_frame(revenu_median_uc=math.nan)) == (None, [""], motifs.DONNEE_ABSENTE)
    assert _one(_frame(), national=None)[0] is None
    # issue 11: a rule is computed only when its whole test can run. A failed size with an
    # unknown income (or threshold) is n.d., its failed condition kept as an observation.
    v, raisons, motif = _one(_frame(revenu_median_uc=math.nan, population=500.0), secret=secret)
    assert (v, raisons, motif) == (None, [""], motifs.SECRET)
    out = g.qpv2014_verdict(_frame(population=994.0), None, 1000, 10000)
    assert out["regle_qpv2014"].isna().all() and out["seuil_qpv2014"].isna().all()
    assert out["observations_qpv2014"].tolist() == [g.TAILLE_QUARTIER]
    assert out["raisons_qpv2014"].tolist() == [""]
    # a computed « non » has no observation
    out = g.qpv2014_verdict(_frame(population=994.0), 19000, 1000, 10000)
    assert out["regle_qpv2014"].tolist() == [False] and out["observations_qpv2014"].tolist() == [""]


@pytest.mark.parametrize("value", [math.inf, -math.inf])
@pytest.mark.parametrize("column", ["revenu_median_uu", "revenu_median_uc", "population_unite_urbaine"])
def test_a_non_finite_input_is_nd_never_eligible(column, value):
    """Issue 9: an infinite urban-unit median gave « seuil de n.d. … 4 quartiers éligibles sur 4 ».
    The validator refuses it (and 1e308, beyond the plausible bound); the rule itself also reads
    a non-finite value as unknown, never as a number every income is below."""
    v, _raisons, motif = _one(_frame(**{column: value}))
    assert v is None and motif == motifs.DONNEE_ABSENTE
    for national in (math.inf, math.nan):
        assert _one(_frame(), national=national)[0] is None


@pytest.mark.parametrize(
    "over",
    [
        {},
        {"revenu_median_uc": 11300.0},
        {"population": 999.0},
        {"population_unite_urbaine": 9999.0},
        {"revenu_median_uc": math.nan},
        {"population_unite_urbaine": 5_000_000.0, "revenu_median_uc": 11250.0},
    ],
)
def test_verdict_agrees_with_the_boolean_rule(over):
    df = _frame(**over)
    verdict = g.qpv2014_verdict(df, 19000)["regle_qpv2014"].fillna(False).astype(bool)
    assert verdict.tolist() == g.qpv2014_eligible(df, 19000).tolist()


def test_zus_and_dynamique_verdicts():
    idx = pd.Series([1.0, 2.0, 3.0, np.nan], index=list("abcd"))
    z = g.zus_verdict(idx, 0.5, pd.Series([False, False, False, True], index=list("abcd")))
    assert z["regle_zus"].tolist()[:3] == [False, True, True]
    assert z["regle_zus"].isna().tolist() == [False, False, False, True]
    assert z.loc["a", "raisons_zus"] == g.INDICE_SOUS_SEUIL and z.loc["d", "motif_zus"] == motifs.SECRET
    d = g.dynamique_verdict(pd.Series([3.0, 1.0, np.nan]), 2.0)
    assert d["regle_dynamique"].tolist()[:2] == [True, False]
    assert d.loc[1, "raisons_dynamique"] == g.ECART_NON_CREUSE
    assert d.loc[2, "motif_dynamique"] == motifs.DONNEE_ABSENTE


def test_rules_never_said_to_agree_when_none_selects_any():
    none = pd.DataFrame({"regle_a": [False, False], "regle_b": [False, False]})
    assert g.rules_agree(none, ["regle_a", "regle_b"])["meme_liste"] is False
    same = pd.DataFrame({"regle_a": [True, False], "regle_b": [True, False]})
    assert g.rules_agree(same, ["regle_a", "regle_b"])["meme_liste"] is True
    nd = pd.DataFrame({"regle_a": pd.array([True, pd.NA], dtype="boolean"), "regle_b": [False, True]})
    out = g.rules_agree(nd, ["regle_a", "regle_b"])
    assert out["n_calculables"] == 1 and out["n_discordants"] == 1


def test_a_rule_that_cannot_be_computed_is_neither_entry_nor_exit():
    e = pd.DataFrame({"regle_x": pd.array([True, False, pd.NA, pd.NA], dtype="boolean")}, index=list("abcd"))
    out = g.entries_exits(e, pd.Series([True, True, True, False], index=list("abcd"))).iloc[0]
    assert (out["maintenus"], out["sortants"], out["entrants"], out["non_calculables"]) == (1, 1, 0, 2)


def _ind(rows):
    return pd.DataFrame(
        rows, columns=["niveau", "code_territoire", "indicateur", "annee", "valeur", "numerateur", "secret"]
    )


def test_share_in_quartiers_and_a_missing_count():
    ind = _ind(
        [
            ("quartier", "q1", "taux_chomage", 2014, 20.0, 100, False),
            ("quartier", "q2", "taux_chomage", 2014, 25.0, 50, False),
            ("commune", "c", "taux_chomage", 2014, 10.0, 600, False),
            ("quartier", "q1", "taux_pauvrete", 2014, np.nan, np.nan, True),
            ("quartier", "q2", "taux_pauvrete", 2014, 30.0, 90, False),
            ("commune", "c", "taux_pauvrete", 2014, 15.0, 900, False),
        ]
    )
    out = g.share_in_quartiers(
        ind, "c", ["q1", "q2"], 2014, {"taux_chomage": "numerateur", "taux_pauvrete": "numerateur"}
    )
    out = out.set_index("indicateur")
    assert out.loc["taux_chomage", "part"] == pytest.approx(25.0)
    assert out.loc["taux_chomage", "personnes_quartiers"] == 150
    assert math.isnan(out.loc["taux_pauvrete", "part"]) and out.loc["taux_pauvrete", "secret"]


def test_credits_by_targeting():
    actions = pd.DataFrame(
        {"id_action": ["A", "A", "B"], "annee": [2008, 2009, 2008], "code_quartier": ["q1", "q1", None]}
    )
    fin = pd.DataFrame(
        {
            "id_action": ["A", "A", "A", "B"],
            "annee": [2008, 2008, 2009, 2008],
            "type_credit": ["specifique", "droit_commun", "specifique", "specifique"],
            "montant_accorde": [100.0, 50.0, 200.0, 100.0],
        }
    )
    out = g.credits_by_targeting(actions, fin).set_index("ciblage")
    assert out.loc[g.CIBLE_QUARTIER, "credits_specifiques"] == 300.0
    assert out.loc[g.CIBLE_COMMUNE, "credits_specifiques"] == 100.0
    assert out.loc[g.CIBLE_QUARTIER, "part_credits_specifiques"] == pytest.approx(75.0)
    assert out.loc[g.CIBLE_QUARTIER, "credits_total"] == 350.0
