"""The q3 rules besides the QPV income rule: ZUS-style index, 'dynamique', entries/exits."""

import numpy as np
import pandas as pd
import pytest

from cucs_analysis.analysis.geography import (
    dynamique_rule,
    entries_exits,
    indicator_matrix,
    list_transitions,
    zus_eligible,
    zus_index,
)


def test_zus_index_formula():
    f = pd.DataFrame(
        {
            "population": [5000, 2000],
            "taux_chomage": [20.0, 10.0],
            "part_moins_25_ans": [40.0, 30.0],
            "part_sans_diplome": [30.0, 20.0],
            "potentiel_fiscal_hab": [500.0, 1000.0],
        },
        index=["QP020001", "QP020002"],
    )
    idx = zus_index(f)
    assert idx["QP020001"] == pytest.approx(5000 * 0.2 * 0.4 * 0.3 / 500)
    assert idx["QP020002"] == pytest.approx(2000 * 0.1 * 0.3 * 0.2 / 1000)


def test_zus_eligible_quantile_and_missing():
    idx = pd.Series([1.0, 2.0, 3.0, 4.0, np.nan], index=list("abcde"))
    assert zus_eligible(idx, 0.5).tolist() == [False, False, True, True, False]
    assert zus_eligible(idx, 0.0).tolist() == [True, True, True, True, False]


def _ind(rows):
    return pd.DataFrame(rows, columns=["niveau", "code_territoire", "indicateur", "annee", "valeur"])


def test_dynamique_rule_gap_widening():
    ind = _ind(
        [
            ("quartier", "QP020001", "taux_chomage", 2005, 20.0),
            ("quartier", "QP020001", "taux_chomage", 2014, 25.0),  # gap 10 → 14: +4
            ("quartier", "QP020002", "taux_chomage", 2005, 18.0),
            ("quartier", "QP020002", "taux_chomage", 2014, 19.0),  # gap 8 → 8: 0
            ("quartier", "QP020003", "taux_chomage", 2005, 18.0),  # no 2014 value
            ("commune", "20001", "taux_chomage", 2005, 10.0),
            ("commune", "20001", "taux_chomage", 2014, 11.0),
        ]
    )
    q = pd.DataFrame({"code_quartier": ["QP020001", "QP020002", "QP020003"], "code_commune": ["20001"] * 3})
    out = dynamique_rule(ind, q, "taux_chomage", 2005, 2014, 2.0, annee_debut_cucs=2007)
    assert out.loc["QP020001", "variation"] == pytest.approx(4.0)
    assert out["regle_dynamique"].tolist() == [True, False, False]
    # exactly at the threshold counts
    rule = dynamique_rule(ind, q, "taux_chomage", 2005, 2014, 4.0, annee_debut_cucs=2007)
    assert rule.loc["QP020001", "regle_dynamique"]


def test_dynamique_rule_compares_period_means_not_two_years():
    """A spike in the last year alone does not make a widening: the mean gap of 2007-2014 does."""
    rows = []
    for a in range(2005, 2015):
        rows.append(("commune", "20001", "taux_chomage", a, 10.0))
        rows.append(("quartier", "QP020001", "taux_chomage", a, 30.0 if a == 2014 else 20.0))  # spike in 2014
        rows.append(("quartier", "QP020002", "taux_chomage", a, 20.0 if a < 2007 else 23.0))  # lasting +3
    q = pd.DataFrame({"code_quartier": ["QP020001", "QP020002"], "code_commune": ["20001"] * 2})
    out = dynamique_rule(_ind(rows), q, "taux_chomage", 2005, 2014, 2.0, annee_debut_cucs=2007)
    assert out.loc["QP020001", "ecart_debut"] == pytest.approx(10.0)
    assert out.loc["QP020001", "ecart_fin"] == pytest.approx(10.0 + 10.0 / 8)  # one spiked year in eight
    assert out["regle_dynamique"].tolist() == [False, True]


def test_entries_exits_counts():
    elig = pd.DataFrame(
        {"regle_a": [True, True, False, False], "regle_b": [False, False, False, True]},
        index=["q1", "q2", "q3", "q4"],
    )
    current = pd.Series([True, False, True, False], index=elig.index)
    out = entries_exits(elig, current).set_index("regle")
    assert out.loc["regle_a", ["eligibles", "maintenus", "entrants", "sortants"]].tolist() == [2, 1, 1, 1]
    assert out.loc["regle_a", "codes_entrants"] == ["q2"]
    assert out.loc["regle_b", "codes_sortants"] == ["q1", "q3"]


def test_list_transitions():
    q = pd.DataFrame(
        {
            "code_quartier": ["a", "b", "c", "d"],
            "categorie_cucs": ["1", "2", None, None],
            "qpv_2015": [True, False, True, False],
            "qpv_2024": [True, False, False, True],
        }
    )
    out = list_transitions(q).set_index("etape")
    assert out.loc["CUCS → QPV 2015"].tolist() == [1, 1, 1, 0]
    assert out.loc["QPV 2015 → QPV 2024"].tolist() == [1, 1, 1, 0]


def test_list_transitions_unknown_category_and_lists_are_not_entries():
    """An unknown CUCS category is neither on the list nor hors CUCS; an unknown QPV 2024 flag
    neither keeps nor drops: both are n.d. (counted apart), never « entrant »."""
    q = pd.DataFrame(
        {
            "code_quartier": ["a", "b", "c"],
            "categorie_cucs": ["inconnu", "Inconnu", None],
            "qpv_2015": pd.array([True, True, True], dtype="boolean"),
            "qpv_2024": pd.array([pd.NA, True, pd.NA], dtype="boolean"),
        }
    )
    out = list_transitions(q).set_index("etape")
    # only c (blank = hors CUCS, a known state) enters the QPV 2015 list
    assert out.loc["CUCS → QPV 2015", ["maintenus", "entrants", "sortants", "non_calculables"]].tolist() == [
        0,
        1,
        0,
        2,
    ]
    assert out.loc[
        "QPV 2015 → QPV 2024", ["maintenus", "entrants", "sortants", "non_calculables"]
    ].tolist() == [
        1,
        0,
        0,
        2,
    ]


def test_indicator_matrix():
    ind = _ind(
        [
            ("quartier", "a", "x", 2010, 1.0),
            ("quartier", "a", "y", 2010, 2.0),
            ("quartier", "b", "x", 2010, np.nan),
            ("quartier", "a", "x", 2011, 9.0),
        ]
    )
    m = indicator_matrix(ind, "quartier", 2010, ["x", "y"])
    assert m.loc["a"].tolist() == [1.0, 2.0]
    assert np.isnan(m.loc["b", "x"])
