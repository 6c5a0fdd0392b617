"""Statistical secrecy on hand-made tables with known masks."""

import numpy as np
import pandas as pd
import pytest

from cucs_analysis.analysis import privacy as p
from cucs_analysis.present import text


def _no_line_with_single_secret(mask: pd.DataFrame) -> bool:
    return not (mask.sum(axis=1) == 1).any() and not (mask.sum(axis=0) == 1).any()


def test_primary_only_zero_is_published():
    df = pd.DataFrame({"a": [5, 20, 0], "b": [30, 11, 10]}, index=["x", "y", "z"])
    st = p.apply_secrecy(df, margins="none")
    expected = pd.DataFrame({"a": [True, False, False], "b": [False, False, True]}, index=df.index)
    pd.testing.assert_frame_equal(st.mask, expected)
    assert np.isnan(st.values.loc["x", "a"]) and st.values.loc["z", "a"] == 0
    assert st.display().loc["x", "a"] == "s" and st.display().loc["y", "b"] == 11
    assert st.n_secret == 2


def test_threshold_is_a_parameter():
    df = pd.DataFrame({"a": [5, 20]})
    assert p.apply_secrecy(df, threshold=5, margins="none").mask["a"].tolist() == [False, False]
    assert p.apply_secrecy(df, threshold=21, margins="none").mask["a"].tolist() == [True, True]


def test_single_secret_recoverable_from_total_column():
    # 5 could be recomputed as 65 - 20 - 40: the next-smallest cell (20) is hidden too.
    df = pd.DataFrame(
        {"libelle": ["r1", "r2"], "a": [5, 30], "b": [20, 25], "c": [40, 50], "total": [65, 105]}
    )
    st = p.apply_secrecy(df, ["a", "b", "c"], total_column="total", margins="rows")
    assert st.mask.loc[0].tolist() == [False, True, True, False, False]
    assert st.mask.loc[1].tolist() == [False] * 5
    shown = st.display()
    assert shown.loc[0].tolist() == ["r1", "s", "s", 40, 65]
    assert shown["libelle"].tolist() == ["r1", "r2"]  # labels untouched


def test_small_total_is_secret_too():
    df = pd.DataFrame({"a": [3], "b": [4], "total": [7]})
    st = p.apply_secrecy(df, total_column="total", margins="rows")
    assert st.mask.loc[0].tolist() == [True, True, True]


def test_two_dimensional_rectangle():
    df = pd.DataFrame(
        {"a": [5, 25, 35, 65], "b": [30, 50, 70, 150], "c": [40, 60, 80, 180]},
        index=["r1", "r2", "r3", "total"],
    )
    df["total"] = df.sum(axis=1)
    st = p.apply_secrecy(df, total_row="total", total_column="total")
    expected = pd.DataFrame(False, index=df.index, columns=df.columns)
    expected.loc[["r1", "r2"], ["a", "b"]] = True
    pd.testing.assert_frame_equal(st.mask, expected)


def test_two_dimensional_needs_several_passes():
    df = pd.DataFrame(
        {"a": [5, 25, 35], "b": [30, 90, 45], "c": [40, 60, 80]},
        index=["r1", "r2", "r3"],
    )
    df.loc["total"] = df.sum()
    df["total"] = df.sum(axis=1)
    st = p.apply_secrecy(df, total_row="total", total_column="total")
    expected = pd.DataFrame(False, index=df.index, columns=df.columns)
    expected.loc["r1", ["a", "b", "c"]] = True
    expected.loc["r2", ["a", "c"]] = True
    expected.loc["r3", ["a", "b"]] = True
    pd.testing.assert_frame_equal(st.mask, expected)
    assert _no_line_with_single_secret(st.mask)
    # Totals are never hidden when interior cells can be.
    assert not st.mask["total"].any() and not st.mask.loc["total"].any()


def test_margins_none_keeps_single_secret():
    df = pd.DataFrame({"a": [5, 25], "b": [30, 50]})
    st = p.apply_secrecy(df, margins="none")
    assert st.n_secret == 1


def test_margins_rows_only_checks_rows():
    df = pd.DataFrame({"a": [5, 25], "b": [30, 50]})
    st = p.apply_secrecy(df, margins="rows")
    assert st.mask.to_numpy().tolist() == [[True, True], [False, False]]


def test_display_with_french_formatter():
    df = pd.DataFrame({"a": [5, 1234]})
    shown = p.apply_secrecy(df, margins="none").display(text.nombre)
    assert shown["a"].tolist() == ["s", "1\u202f234"]


def test_negative_count_rejected():
    with pytest.raises(ValueError, match="négatif"):
        p.apply_secrecy(pd.DataFrame({"a": [-1, 20]}))


def test_secret_counts():
    s = pd.Series([5, 20, 30, 0], index=list("wxyz"), name="n")
    simple = p.secret_counts(s)
    assert simple.mask.tolist() == [True, False, False, False]
    protected = p.secret_counts(s, total_known=True)
    assert protected.mask.tolist() == [True, True, False, False]
    assert protected.display().tolist() == ["s", "s", 30, 0]
    assert protected.values.name == "n"


def test_small_counts_and_check():
    df = pd.DataFrame({"quartier": ["A", "B"], "effectif": [3, 40], "taux": [5.2, 12.0]})
    bad = p.small_counts(df)
    assert bad.to_dict("records") == [{"ligne": 0, "colonne": "effectif", "valeur": 3.0}]
    with pytest.raises(p.SmallCountError, match="seuil du secret statistique"):
        p.check_no_small_counts(df)
    # A rate column is checked only when named.
    assert len(p.small_counts(df, columns=["taux"])) == 1


def test_published_display_passes_check():
    df = pd.DataFrame({"a": [5, 25, 35], "b": [30, 90, 45]})
    shown = p.apply_secrecy(df).display()
    p.check_no_small_counts(shown)  # no exception
    french = p.apply_secrecy(df).display(text.nombre)
    p.check_no_small_counts(french)
    leaked = french.copy()
    leaked.loc[0, "a"] = "5"
    with pytest.raises(p.SmallCountError):
        p.check_no_small_counts(leaked)


def test_secret_with_totals_protects_every_printed_subtotal():
    """Counts per action with three printed totals (all, associations, others): every line
    ends with zero or at least two hidden members, and the same input gives the same mask."""
    counts = pd.Series([4, 30, 12, 50, 20, 3], index=list("abcdef"), dtype=float)
    assoc = pd.Series([True, True, True, False, False, False], index=counts.index)
    lines = [pd.Series(True, index=counts.index), assoc, ~assoc]
    st = p.secret_with_totals(counts, lines, 11)
    assert st.mask["a"] and st.mask["f"]  # primary
    for line in lines:
        assert int((st.mask & line).sum()) != 1
    assert st.mask["c"] and st.mask["e"]  # the smallest other member of each subset
    assert not st.mask["b"] and not st.mask["d"]
    assert p.secret_with_totals(counts, lines, 11).mask.equals(st.mask)
    # primary only without printed totals
    assert p.secret_with_totals(counts, [], 11).mask.sum() == 2


def test_is_small_is_the_rule_of_primary_mask_for_one_count():
    values = [None, np.nan, 0, 1, 10, 11, 12, "x", -0.0]
    for v in values:
        expected = bool(
            p.primary_mask(pd.Series([v]).map(lambda x: pd.to_numeric(x, errors="coerce")), 11).iloc[0]
        )
        assert p.is_small(v, 11) is expected, v
    assert p.is_small(10, 11) and not p.is_small(11, 11)
    assert p.is_small(11, 12)  # the threshold is a parameter


def test_secret_columns_hides_and_flags_each_count_column():
    df = pd.DataFrame({"nom": ["a", "b", "c"], "x": [5, 20, 30], "y": [40, 50, 60]})
    out = p.secret_columns(df, ["x", "y"], 11)
    assert out["nom"].tolist() == ["a", "b", "c"] and df["x"].tolist() == [5, 20, 30]
    assert np.isnan(out["x"].iloc[0]) and out["x_secret"].tolist() == [True, False, False]
    assert out["y_secret"].tolist() == [False, False, False]
    # with the column totals known, a single hidden cell of a column is protected by a second one
    both = p.secret_columns(df, ["x", "y"], 11, margins="columns")
    assert both["x_secret"].sum() == 2
    empty = p.secret_columns(df.iloc[:0], ["x", "y"], 11)
    assert empty.empty and {"x_secret", "y_secret"} <= set(empty.columns)


def test_with_flags_adds_one_flag_per_column_asked():
    df = pd.DataFrame({"base": [5, 40], "n": [2, 30], "part": [0.4, 0.75]})
    st = p.hide_small_bases(df, {"base": ["part"]}, 11)
    out = st.with_flags(["base", "part"])
    assert out["base_secret"].tolist() == [True, False] and out["part_secret"].tolist() == [True, False]
    assert "n_secret" not in out and np.isnan(out["part"].iloc[0])
