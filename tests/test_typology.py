import numpy as np
import pandas as pd

from cucs_analysis.analysis.typology import (
    Trait,
    build_typology,
    cluster_quartiers,
    distinctive_traits,
    standardise,
)


def _two_groups() -> pd.DataFrame:
    # Three poor quartiers (high unemployment, low income) and five better-off ones.
    return pd.DataFrame(
        {
            "taux_chomage": [25.0, 24.0, 26.0, 10.0, 11.0, 9.0, 10.5, 9.5],
            "revenu_median_uc": [9000, 9200, 8800, 17000, 17500, 16800, 17200, 16900],
        },
        index=[f"QP0200{i:02d}" for i in range(1, 9)],
    )


def test_clusters_separate_obvious_groups_and_number_by_size():
    classes = cluster_quartiers(_two_groups(), 2)
    assert classes.loc[["QP020001", "QP020002", "QP020003"]].nunique() == 1
    assert classes.loc["QP020001"] == 2  # the smaller group is class 2
    assert (classes.iloc[3:] == 1).all()


def test_clustering_is_deterministic_and_order_independent():
    df = _two_groups()
    a = cluster_quartiers(df, 2)
    b = cluster_quartiers(df.iloc[::-1], 2).loc[a.index]
    pd.testing.assert_series_equal(a, b)


def test_standardise_constant_column_is_zero():
    z = standardise(pd.DataFrame({"a": [1.0, 1.0, 1.0], "b": [1.0, 2.0, 3.0]}))
    assert (z["a"] == 0).all()
    assert np.isclose(z["b"].mean(), 0) and np.isclose(z["b"].std(ddof=0), 1)


def test_distinctive_traits_are_codes_strongest_first():
    traits = distinctive_traits(pd.Series({"taux_chomage": 1.4, "revenu_median_uc": -0.7, "x": 0.1}))
    assert traits == [
        Trait("taux_chomage", "nettement", "au_dessus", 1.4),
        Trait("revenu_median_uc", "plutot", "en_dessous", -0.7),
    ]
    # Only the max_traits furthest from 0, and none below PLUTOT (0.5 standard deviation).
    assert [t.indicateur for t in distinctive_traits(pd.Series({"a": 2.0, "b": -1.5, "c": 0.9}), 2)] == [
        "a",
        "b",
    ]
    assert distinctive_traits(pd.Series({"a": 0.2, "b": -0.49})) == []
    # The thresholds: 1.0 is "nettement", 0.5 is "plutot", both inclusive.
    assert [t.force for t in distinctive_traits(pd.Series({"a": 1.0, "b": -0.5}))] == ["nettement", "plutot"]


def test_build_typology_drops_incomplete_rows_and_finds_each_class_traits():
    df = _two_groups()
    df.loc["QP020099"] = [np.nan, 10000]
    libelles = {"taux_chomage": "Taux de chômage", "revenu_median_uc": "Revenu médian"}
    t = build_typology(df, 2, libelles)
    assert "QP020099" not in t.classes.index
    assert t.effectifs.to_dict() == {1: 5, 2: 3}
    assert set(t.traits) == {1, 2}
    poor = {tr.indicateur: (tr.force, tr.sens) for tr in t.traits[2]}
    assert poor == {
        "taux_chomage": ("nettement", "au_dessus"),
        "revenu_median_uc": ("nettement", "en_dessous"),
    }
    assert t.libelles == libelles
    assert t.moyennes.loc[2, "taux_chomage"] == 25.0


def test_typology_holds_no_french_sentence():
    t = build_typology(_two_groups(), 2)
    assert not hasattr(t, "descriptions")
    for traits in t.traits.values():
        for tr in traits:
            assert tr.force in ("nettement", "plutot") and tr.sens in ("au_dessus", "en_dessous")


def test_single_quartier_and_empty():
    one = _two_groups().iloc[:1]
    assert cluster_quartiers(one, 3).tolist() == [1]
    assert cluster_quartiers(one.iloc[:0], 3).empty
