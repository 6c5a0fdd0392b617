"""Statistical secrecy of published counts (DESIGN.md §9).

Rules applied (the "Méthode" page states them in French):

- **Primary secrecy**: a count ``c`` with ``0 < c < threshold`` (default 11, as INSEE does
  for households) is hidden. A zero is published: it says that nobody is concerned and
  describes no one; hiding zeros would also hide most of a sparse table for nothing.
- **Secondary secrecy** (against recovery by difference): in every line of the table whose
  total is known — a row when the row totals are published (in the table as a total column,
  or elsewhere), a column when the column totals are — a line with exactly one hidden cell
  would let a reader recompute it from the total. The smallest other published cell of that
  line is then hidden as well: a positive interior cell first, then a zero, then the total
  itself as a last resort. Rows and columns are re-examined until nothing changes, since a
  cell hidden for its row may leave its column with a single hidden cell. The total row and
  total column take part as ordinary lines (the grand total closes them).

The result is a `SecretTable`: the numeric values with NaN where secret, the boolean mask of
secret cells, and `display()` for the published frame with ``"s"`` in secret cells. The
original values of the hidden cells are not kept in it.

`check_no_small_counts` is for tests of published outputs: it fails, in French, on any count
that should have been hidden.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from cucs_analysis.data.schema import SECRECY_CODES

DEFAULT_THRESHOLD = 11
#: The code put in a secret cell by `display()`. The presentation layer shows it as is: its
#: symbol `cucs_analysis.present.text.SECRET` is the same string (tests/test_text.py).
SECRET = "s"
Margins = Literal["both", "rows", "columns", "none"]

__all__ = [
    "DEFAULT_THRESHOLD",
    "SECRET",
    "SecretSeries",
    "SecretTable",
    "SmallCountError",
    "apply_secrecy",
    "check_no_small_counts",
    "hide_small_bases",
    "primary_mask",
    "secret_counts",
    "secret_with_totals",
    "small_counts",
]


@dataclass(frozen=True)
class SecretTable:
    """A table after secrecy.

    values: the input table, count columns as float with NaN where secret (other columns as
    they were). mask: same shape and labels, True where a cell is secret (False outside the
    count columns). count_columns: the columns that hold counts.
    """

    values: pd.DataFrame
    mask: pd.DataFrame
    count_columns: tuple[Hashable, ...] = ()

    def display(self, formatter: Callable[[object], str] | None = None) -> pd.DataFrame:
        """The frame to publish: ``"s"`` in secret cells; counts as integers or formatted.

        formatter: e.g. ``text.nombre`` to get French strings; by default counts stay
        integers (``Int64``-like Python ints in an object column).
        """
        out = self.values.astype(object)
        for c in self.count_columns or tuple(self.mask.columns[self.mask.any()]):
            col = self.values[c]
            if formatter is not None:
                shown = col.map(formatter, na_action="ignore")
            else:
                shown = col.map(_as_int, na_action="ignore")
            out[c] = shown.astype(object).where(~self.mask[c], SECRET)
        return out

    @property
    def n_secret(self) -> int:
        return int(self.mask.to_numpy().sum())

    def with_flags(self, columns: Sequence[Hashable] | None = None) -> pd.DataFrame:
        """`values` with a boolean ``<col>_secret`` column for each of `columns` (default: the
        count columns)."""
        out = self.values.copy()
        for c in self.count_columns if columns is None else columns:
            out[f"{c}_secret"] = self.mask[c].to_numpy()
        return out


@dataclass(frozen=True)
class SecretSeries:
    """A list of counts after secrecy: values (NaN where secret) and the mask."""

    values: pd.Series
    mask: pd.Series

    def display(self, formatter: Callable[[object], str] | None = None) -> pd.Series:
        shown = self.values.map(formatter or _as_int, na_action="ignore").astype(object)
        return shown.where(~self.mask, SECRET)


class SmallCountError(AssertionError):
    """A published table holds a count below the secrecy threshold."""


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _as_int(x: object) -> object:
    f = float(x)
    return int(f) if f.is_integer() else f


def primary_mask(values: pd.DataFrame | pd.Series, threshold: int = DEFAULT_THRESHOLD):
    """True where ``0 < count < threshold`` (NaN and zero are not secret)."""
    v = values.astype(float)
    return (v > 0) & (v < threshold)


def is_small(n: object, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Whether one count is secret: ``0 < n < threshold`` (missing and zero are not), the rule of
    `primary_mask` for a single value."""
    try:
        f = float(n)
    except (TypeError, ValueError):
        return False
    return bool(0 < f < threshold)


def _protect_lines(v: np.ndarray, mask: np.ndarray, avoid: np.ndarray) -> np.ndarray:
    """One pass over the rows of `v`: rows with exactly one secret cell get a second one.

    The chosen cell is the smallest published one, preferring positive interior cells,
    then zeros, then cells in `avoid` (totals). Vectorised over rows with argmin on a cost.
    """
    single = mask.sum(axis=1) == 1
    if not single.any():
        return mask
    finite = np.isfinite(v)
    # Cost tiers keep the preference order; within a tier the smallest value wins.
    big = np.nanmax(np.abs(np.where(finite, v, 0))) + 1.0
    cost = np.where(v > 0, v, big)  # zeros after positive cells
    cost = np.where(avoid, cost + 2 * big, cost)  # totals last
    cost = np.where(mask | ~finite, np.inf, cost)  # never pick a secret or missing cell
    candidate = np.argmin(cost, axis=1)
    has_candidate = np.isfinite(cost[np.arange(len(v)), candidate])
    rows = np.flatnonzero(single & has_candidate)
    new = mask.copy()
    new[rows, candidate[rows]] = True
    return new


def apply_secrecy(
    table: pd.DataFrame,
    count_columns: Sequence[Hashable] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    margins: Margins = "both",
    total_row: Hashable | None = None,
    total_column: Hashable | None = None,
) -> SecretTable:
    """Primary and secondary secrecy on a cross-table of counts (see the module docstring).

    table: rows × columns of counts; other columns (labels) are kept untouched.
    count_columns: the count columns (default: every numeric column), including
        `total_column` if the table has one.
    margins: which totals a reader knows, in the table or from another publication:
        "both" (default, the safe choice), "rows" (row totals), "columns", or "none"
        (primary secrecy only).
    total_row / total_column: the index label of a total row / the name of a total column
        in the table; they are protected like any cell but hidden only as a last resort.
        Giving one implies the corresponding margin.
    """
    if count_columns is None:
        count_columns = [c for c in table.columns if _is_numeric(table[c])]
    count_columns = list(count_columns)
    missing = [c for c in count_columns if c not in table.columns]
    if missing:
        raise KeyError(f"Colonnes de comptage absentes du tableau : {missing}")
    if total_column is not None and total_column not in count_columns:
        count_columns.append(total_column)
    v = table[count_columns].apply(pd.to_numeric, errors="coerce").astype(float).to_numpy()
    if np.any(v[np.isfinite(v)] < 0):
        raise ValueError("Un effectif négatif ne peut pas être soumis au secret statistique.")

    mask = primary_mask(pd.DataFrame(v), threshold).to_numpy()
    avoid = np.zeros_like(mask)
    if total_column is not None:
        avoid[:, count_columns.index(total_column)] = True
    if total_row is not None:
        avoid[table.index.get_indexer([total_row])[0], :] = True
    check_rows = margins in ("both", "rows") or total_column is not None
    check_cols = margins in ("both", "columns") or total_row is not None

    # Each pass only adds secret cells, so the loop ends after at most v.size passes.
    for _ in range(v.size + 1):
        before = mask.copy()
        if check_rows:
            mask = _protect_lines(v, mask, avoid)
        if check_cols:
            mask = _protect_lines(v.T, mask.T, avoid.T).T
        if np.array_equal(before, mask):
            break

    values = table.copy()
    mask_df = pd.DataFrame(False, index=table.index, columns=table.columns)
    for j, c in enumerate(count_columns):
        values[c] = np.where(mask[:, j], np.nan, v[:, j])
        mask_df[c] = mask[:, j]
    return SecretTable(values=values, mask=mask_df, count_columns=tuple(count_columns))


def secret_counts(
    series: pd.Series,
    threshold: int = DEFAULT_THRESHOLD,
    total_known: bool = False,
) -> SecretSeries:
    """Secrecy on a simple list of counts.

    With ``total_known=True`` (the sum is published elsewhere), a single hidden count is
    protected by hiding the next-smallest one, as in `apply_secrecy`.
    """
    frame = series.astype(float).to_frame("n")
    st = apply_secrecy(frame, ["n"], threshold, margins="columns" if total_known else "none")
    return SecretSeries(values=st.values["n"].rename(series.name), mask=st.mask["n"].rename(series.name))


def secret_columns(
    df: pd.DataFrame,
    columns: Sequence[Hashable],
    threshold: int = DEFAULT_THRESHOLD,
    margins: Margins = "none",
    total_column: Hashable | None = None,
) -> pd.DataFrame:
    """`df` with its count `columns` through `apply_secrecy` (NaN where secret) and a boolean
    ``<col>_secret`` column each; an empty `df` gets empty flags."""
    columns = list(columns)
    if df.empty:
        return df.assign(**{f"{c}_secret": pd.Series(dtype=bool) for c in columns})
    st = apply_secrecy(
        df[columns].astype(float), columns, threshold, margins=margins, total_column=total_column
    )
    out = df.copy()
    for c in columns:
        out[c] = st.values[c]
        out[f"{c}_secret"] = st.mask[c].to_numpy()
    return out


def hide_small_bases(
    df: pd.DataFrame,
    bases: Mapping[Hashable, Sequence[Hashable]],
    threshold: int = DEFAULT_THRESHOLD,
) -> SecretTable:
    """Primary secrecy on the counts of people behind rates, and on what is computed from them.

    bases: {count column: columns computed from it} — e.g. ``{"numerateur_avant":
    ["valeur_avant", "ecart_avant"], "denominateur_avant": ["valeur_avant", "ecart_avant"]}``.
    A count ``0 < c < threshold`` is hidden, and so is every value computed from it in the same
    row (a rate on 7 people gives the 7 back with its published base). No totals are published
    beside such counts (the numerators of different rows are not summed on a page), so there is
    no secondary secrecy. Returns a `SecretTable` over the columns named (NaN where secret).
    """
    out = df.copy()
    mask = pd.DataFrame(False, index=df.index, columns=df.columns)
    for base, dependants in bases.items():
        if base not in df.columns:
            continue
        small = primary_mask(pd.to_numeric(df[base], errors="coerce"), threshold).to_numpy()
        for c in (base, *dependants):
            if c in df.columns:
                mask[c] = mask[c].to_numpy() | small
    for c in mask.columns[mask.any()]:
        out[c] = out[c].where(~mask[c])
    return SecretTable(values=out, mask=mask, count_columns=tuple(c for c in bases if c in df.columns))


def secret_with_totals(
    counts: pd.Series,
    lines: Sequence[pd.Series] = (),
    threshold: int = DEFAULT_THRESHOLD,
) -> SecretSeries:
    """Secrecy on one list of counts whose subtotals are published (on any page).

    counts: one count per item (e.g. per action). lines: boolean Series over the same index,
    each the members of a subset whose total is printed somewhere (all the items, the
    association actions…). Primary secrecy, then, in every line with exactly one hidden
    member, the smallest other published member is hidden (a positive one first, then a zero),
    until no line changes. Every page that shows an item's count hides it when this mask does:
    the decision depends on the data, not on the page.
    """
    v = counts.astype(float)
    mask = primary_mask(v, threshold).fillna(False).astype(bool)
    members = [ln.reindex(v.index, fill_value=False).fillna(False).astype(bool) & v.notna() for ln in lines]
    for _ in range(len(v) + 1):
        changed = False
        for m in members:
            if int((mask & m).sum()) != 1:
                continue
            free = m & ~mask
            if not free.any():
                continue
            cand = v[free]
            pos = cand[cand > 0]
            pick = (pos if len(pos) else cand).sort_values(kind="stable").index[0]
            mask[pick] = True
            changed = True
        if not changed:
            break
    return SecretSeries(values=v.where(~mask), mask=mask)


def _parse_fr(s: pd.Series) -> pd.Series:
    """Numbers from a column that may hold French-formatted strings (``1 234``, ``−5``)."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    txt = (
        s.astype("string")
        .str.replace("[\u202f\u00a0 ]", "", regex=True)
        .str.replace("\u2212", "-", regex=False)
        .str.replace(",", ".", regex=False)
    )
    return pd.to_numeric(txt, errors="coerce").astype(float)


def _looks_like_counts(s: pd.Series) -> bool:
    """Integer columns, and text columns of whole numbers mixed with secrecy markers."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_float_dtype(s):
        return False
    if pd.api.types.is_integer_dtype(s):
        return True
    present = s[s.notna()]
    numbers = _parse_fr(present)
    others = present[numbers.isna()].astype(str).str.strip().str.lower()
    whole = numbers.dropna()
    return (
        len(whole) > 0
        and bool((whole == whole.round()).all())
        and bool(others.isin((*SECRECY_CODES, "n.d.")).all())
    )


def small_counts(
    df: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    columns: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Cells holding a count ``0 < c < threshold``: columns ``ligne``, ``colonne``, ``valeur``.

    columns: the count columns to check; by default every integer column and every object
    column of integers and secrecy markers, as `SecretTable.display()` gives (float columns,
    such as rates and amounts, are not taken as counts unless named). The marker ``"s"`` and
    empty cells are ignored.
    """
    if columns is None:
        columns = [c for c in df.columns if _looks_like_counts(df[c])]
    columns = list(columns)
    if not columns:
        return pd.DataFrame({"ligne": [], "colonne": [], "valeur": []})
    numeric = df[columns].apply(_parse_fr)  # "s" → NaN
    stacked = numeric.stack()
    stacked = stacked[stacked.notna()]
    bad = stacked[(stacked > 0) & (stacked < threshold)]
    idx = bad.index.to_frame(index=False)
    return pd.DataFrame(
        {"ligne": idx.iloc[:, 0].to_numpy(), "colonne": idx.iloc[:, -1].to_numpy(), "valeur": bad.to_numpy()}
    )


def check_no_small_counts(
    df: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    columns: Sequence[Hashable] | None = None,
) -> None:
    """Raise `SmallCountError` (French message) if `df` publishes a count below `threshold`."""
    bad = small_counts(df, threshold, columns)
    if len(bad):
        raise SmallCountError(
            f"{len(bad)} effectif(s) inférieur(s) au seuil du secret statistique ({threshold}) "
            "seraient publiés : "
            + "; ".join(
                f"ligne {r!s}, colonne {c!s} : {v:g}" for r, c, v in bad.head(10).itertuples(index=False)
            )
            + "."
        )
