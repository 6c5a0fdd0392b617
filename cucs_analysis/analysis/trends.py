"""Trends, gaps to a reference, convergence and confidence intervals (DESIGN.md §5).

Every function works on the long `indicateurs` layout of `schema.TABLES["indicateurs"]`
(``niveau, code_territoire, indicateur, annee, valeur, numerateur, denominateur, secret``)
and returns a new DataFrame whose columns are listed in its docstring. Rates are stored in
percent in that table, so intervals are returned in percent too (``echelle=100``; ``‰``
indicators use 1 000 when a catalogue is given). Secret or missing values (``valeur`` NaN)
never produce a finding: their flags are missing (``<NA>``).

Vocabulary of the outputs (French, shown to readers through `text`):
- ``comparaison``: ``plus élevé`` / ``comparable`` / ``plus faible`` (the Fingertips rule).
- ``appreciation``: ``meilleur`` / ``moins bon`` / ``comparable`` / ``sans objet``
  (``sans objet`` when the catalogue's ``sens`` is ``neutre`` or unknown).
- ``tendance``: ``hausse`` / ``baisse`` / ``stable`` (``stable`` = the slope's interval
  contains zero).
- ``convergence``: ``convergence`` / ``divergence`` / ``stable``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "MOTIF_DEUX_ANNEES_CONSECUTIVES",
    "arrondi",
    "compare_periods",
    "compare_periods_auto",
    "compare_to_reference",
    "convergence",
    "evolution",
    "gap_series",
    "wilson_interval",
    "with_intervals",
]

GROUP_COLUMNS = ("niveau", "code_territoire", "indicateur")
MOTIF_DEUX_ANNEES_CONSECUTIVES = "deux années consécutives"
MOTIF_UNE_ANNEE = "une seule année"
MOTIF_DEUX_ANNEES = "deux années seulement"
INFRA_COMMUNAL = ("quartier",)


# --- confidence intervals ---------------------------------------------------------------------


def wilson_interval(numerator, denominator, confidence: float = 0.95, percent: bool = True):
    """Wilson score interval of the proportion numerator / denominator, vectorised.

    Returns ``(low, high)`` in percent (``percent=True``, to match the rates of the
    `indicateurs` table) or as proportions. Series in → Series out (index of `numerator`);
    arrays or scalars in → arrays out. A denominator of 0 or missing, a negative numerator or
    one above the denominator give NaN.
    """
    index = numerator.index if isinstance(numerator, pd.Series) else None
    x = np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(numerator)), errors="coerce"), dtype=float)
    n = np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(denominator)), errors="coerce"), dtype=float)
    x, n = np.broadcast_arrays(x, n)
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    valid = (n > 0) & (x >= 0) & (x <= n)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    low = np.where(valid, np.clip(centre - half, 0, 1), np.nan)
    high = np.where(valid, np.clip(centre + half, 0, 1), np.nan)
    if percent:
        low, high = low * 100, high * 100
    if index is not None:
        return pd.Series(low, index=index, name="ic_bas"), pd.Series(high, index=index, name="ic_haut")
    return low, high


def _echelle(df: pd.DataFrame, catalogue: pd.DataFrame | None, echelle: float) -> np.ndarray:
    """Scale of each row's rate: 1 000 for a per-mille indicator of the catalogue, else `echelle`."""
    if catalogue is None or "unite" not in catalogue:
        return np.full(len(df), float(echelle))
    unites = df["indicateur"].map(catalogue.set_index("indicateur")["unite"])
    return np.where(unites.eq("‰").fillna(False).to_numpy(dtype=bool), 1000.0, float(echelle))


def with_intervals(
    df: pd.DataFrame,
    confidence: float = 0.95,
    catalogue: pd.DataFrame | None = None,
    echelle: float = 100,
) -> pd.DataFrame:
    """A copy of a long indicator table with ``ic_bas`` and ``ic_haut`` (NaN without counts)."""
    out = df.copy()
    num = out["numerateur"] if "numerateur" in out else pd.Series(np.nan, index=out.index)
    den = out["denominateur"] if "denominateur" in out else pd.Series(np.nan, index=out.index)
    low, high = wilson_interval(num, den, confidence, percent=False)
    scale = _echelle(out, catalogue, echelle)
    secret = out["valeur"].isna().to_numpy()
    out["ic_bas"] = np.where(secret, np.nan, low.to_numpy() * scale)
    out["ic_haut"] = np.where(secret, np.nan, high.to_numpy() * scale)
    return out


# --- gaps to a reference -----------------------------------------------------------------------


def _merge_reference(
    df: pd.DataFrame, ref: pd.DataFrame, on: Sequence[str], keep: Sequence[str]
) -> pd.DataFrame:
    on = list(on)
    if ref.duplicated(on).any():
        raise ValueError(
            f"La référence doit avoir une seule ligne par {', '.join(on)} : "
            f"{int(ref.duplicated(on).sum())} doublon(s)."
        )
    cols = [c for c in ("niveau", "code_territoire", *keep) if c in ref.columns and c not in on]
    renamed = ref[on + cols].rename(
        columns={"niveau": "niveau_reference", "code_territoire": "code_reference"}
        | {c: f"{c}_reference" for c in keep}
    )
    return df.merge(renamed, on=on, how="left", validate="many_to_one")


def gap_series(
    quartier_df: pd.DataFrame,
    reference_df: pd.DataFrame,
    on: Sequence[str] = ("indicateur", "annee"),
) -> pd.DataFrame:
    """Gap of each territory to its reference, year by year.

    reference_df has one row per `on` key (e.g. the commune's values per indicator × year;
    add a column such as ``code_commune`` to both frames and to `on` to give each quartier its
    own commune). Returns quartier_df's columns plus ``niveau_reference``, ``code_reference``,
    ``valeur_reference``, ``ecart`` (valeur − reference, in points for a rate) and ``ratio``
    (valeur / reference; NaN when the reference is 0).
    """
    out = _merge_reference(quartier_df, reference_df, on, keep=("valeur",))
    out["ecart"] = out["valeur"] - out["valeur_reference"]
    ref = out["valeur_reference"].where(out["valeur_reference"] != 0)
    out["ratio"] = out["valeur"] / ref
    return out


def _sens(df: pd.DataFrame, catalogue: pd.DataFrame | None) -> pd.Series:
    if catalogue is not None and "sens" in catalogue:
        return df["indicateur"].map(catalogue.set_index("indicateur")["sens"])
    if "sens" in df:
        return df["sens"]
    return pd.Series(pd.NA, index=df.index, dtype="object")


def compare_to_reference(
    df: pd.DataFrame,
    ref: pd.DataFrame,
    on: Sequence[str] = ("indicateur", "annee"),
    catalogue: pd.DataFrame | None = None,
    confidence: float = 0.95,
    sans_intervalle: Literal["comparable", "ecart"] = "comparable",
    echelle: float = 100,
) -> pd.DataFrame:
    """Gap, ratio and the Fingertips flag of each territory against its reference.

    The flag ``comparaison`` is ``plus élevé`` or ``plus faible`` only when the two Wilson
    intervals (from ``numerateur``/``denominateur``) do not overlap, else ``comparable``.
    Without counts on either side (medians, amounts, secret counts), the flag is
    ``comparable`` by default — no significance can be claimed; ``sans_intervalle="ecart"``
    uses the sign of the gap instead (for exhaustive data such as registers, where there is no
    sampling error). The column ``methode`` says which rule applied: ``intervalles`` or
    ``sans intervalle``. ``appreciation`` reads the flag with the catalogue's ``sens`` (from
    `catalogue`, or a ``sens`` column of `df`).

    Returns df's columns plus: ``niveau_reference, code_reference, valeur_reference,
    numerateur_reference, denominateur_reference, ecart, ratio, ic_bas, ic_haut,
    ic_bas_reference, ic_haut_reference, methode, comparaison, appreciation``.
    """
    left = df.copy()
    for c in ("numerateur", "denominateur"):
        if c not in left:
            left[c] = np.nan
    right = ref.copy()
    for c in ("numerateur", "denominateur"):
        if c not in right:
            right[c] = np.nan
    out = _merge_reference(left, right, on, keep=("valeur", "numerateur", "denominateur"))
    out["ecart"] = out["valeur"] - out["valeur_reference"]
    out["ratio"] = out["valeur"] / out["valeur_reference"].where(out["valeur_reference"] != 0)

    scale = _echelle(out, catalogue, echelle)
    lo, hi = wilson_interval(out["numerateur"], out["denominateur"], confidence, percent=False)
    rlo, rhi = wilson_interval(
        out["numerateur_reference"], out["denominateur_reference"], confidence, percent=False
    )
    out["ic_bas"], out["ic_haut"] = lo * scale, hi * scale
    out["ic_bas_reference"], out["ic_haut_reference"] = rlo * scale, rhi * scale

    known = out["valeur"].notna() & out["valeur_reference"].notna()
    with_ic = known & out[["ic_bas", "ic_haut", "ic_bas_reference", "ic_haut_reference"]].notna().all(axis=1)
    higher_ic = out["ic_bas"] > out["ic_haut_reference"]
    lower_ic = out["ic_haut"] < out["ic_bas_reference"]
    if sans_intervalle == "ecart":
        higher_no_ic, lower_no_ic = out["ecart"] > 0, out["ecart"] < 0
    elif sans_intervalle == "comparable":
        higher_no_ic = lower_no_ic = pd.Series(False, index=out.index)
    else:
        raise ValueError(f"sans_intervalle doit valoir « comparable » ou « ecart », pas {sans_intervalle!r}.")
    higher = np.where(with_ic, higher_ic, higher_no_ic)
    lower = np.where(with_ic, lower_ic, lower_no_ic)
    flag = np.select([higher, lower], ["plus élevé", "plus faible"], "comparable").astype(object)
    out["methode"] = pd.Series(np.where(with_ic, "intervalles", "sans intervalle"), index=out.index).where(
        known
    )
    out["comparaison"] = pd.Series(flag, index=out.index).where(known)

    sens = _sens(out, catalogue)
    better = ((sens == "hausse_amelioration") & (out["comparaison"] == "plus élevé")) | (
        (sens == "hausse_degradation") & (out["comparaison"] == "plus faible")
    )
    worse = ((sens == "hausse_amelioration") & (out["comparaison"] == "plus faible")) | (
        (sens == "hausse_degradation") & (out["comparaison"] == "plus élevé")
    )
    directed = sens.isin(["hausse_amelioration", "hausse_degradation"]).fillna(False)
    appreciation = np.select(
        [
            ~directed.to_numpy(dtype=bool),
            better.fillna(False).to_numpy(dtype=bool),
            worse.fillna(False).to_numpy(dtype=bool),
        ],
        ["sans objet", "meilleur", "moins bon"],
        "comparable",
    ).astype(object)
    out["appreciation"] = pd.Series(appreciation, index=out.index).where(known)
    return out


# --- evolution and trend -----------------------------------------------------------------------


def evolution(
    data: pd.DataFrame | pd.Series,
    niveau: str | None = None,
    annee_debut: int | None = None,
    annee_fin: int | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Change and trend of each series (territory × indicator) over the years.

    data: a long indicator table (grouped by the columns among ``niveau, code_territoire,
    indicateur`` it has) or a Series of values indexed by year. `niveau` applies when data
    has no ``niveau`` column (required then). Missing/secret values are left out.

    Returns one row per series with: ``annee_debut, annee_fin, n_annees, valeur_debut,
    valeur_fin, variation_absolue`` (in the unit, points for a rate), ``variation_relative``
    (%), ``taux_annuel_moyen`` (% a year, compound; NaN if a value is ≤ 0), ``pente`` (OLS
    slope per year), ``pente_ic_bas``, ``pente_ic_haut`` (interval at `confidence`),
    ``p_value``, ``tendance`` and ``motif`` (why no trend is given, else missing).

    No trend is claimed from fewer than three years. Two consecutive years below commune
    level (``niveau == "quartier"``) give no slope at all, with the motif
    ``deux années consécutives`` (INSEE's warning against comparing them); two years otherwise
    give a slope without interval (``deux années seulement``).
    """
    if isinstance(data, pd.Series):
        df = pd.DataFrame({"annee": data.index.to_numpy(), "valeur": data.to_numpy()})
    else:
        df = data.copy()
    if "niveau" not in df:
        if niveau is None:
            raise ValueError("Le niveau géographique (niveau) est nécessaire pour juger d'une tendance.")
        df["niveau"] = niveau
    groups = [c for c in GROUP_COLUMNS if c in df]
    df = df[df["valeur"].notna()]
    if annee_debut is not None:
        df = df[df["annee"] >= annee_debut]
    if annee_fin is not None:
        df = df[df["annee"] <= annee_fin]
    if df.duplicated([*groups, "annee"]).any():
        raise ValueError("Plusieurs valeurs pour une même année d'une même série.")
    df = df.assign(annee=df["annee"].astype(float), valeur=df["valeur"].astype(float))
    df = df.sort_values([*groups, "annee"])

    g = df.groupby(groups, sort=True, dropna=False)
    res = g.agg(
        annee_debut=("annee", "first"),
        annee_fin=("annee", "last"),
        n_annees=("annee", "size"),
        valeur_debut=("valeur", "first"),
        valeur_fin=("valeur", "last"),
    )
    # Vectorised OLS: per-group sums instead of one regression per series.
    xm = g["annee"].transform("mean")
    ym = g["valeur"].transform("mean")
    dx, dy = df["annee"] - xm, df["valeur"] - ym
    key = [df[c] for c in groups]
    sxx_row = (dx * dx).groupby(key, dropna=False).transform("sum")
    sxy_row = (dx * dy).groupby(key, dropna=False).transform("sum")
    resid = dy - (sxy_row / sxx_row.where(sxx_row > 0)) * dx
    sxx = (dx * dx).groupby(key, dropna=False).sum()
    sxy = (dx * dy).groupby(key, dropna=False).sum()
    sse = (resid**2).groupby(key, dropna=False).sum()
    slope = sxy / sxx.where(sxx > 0)

    n = res["n_annees"].astype(float)
    dof = n - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt((sse / dof.where(dof > 0)) / sxx.where(sxx > 0))
        tcrit = pd.Series(stats.t.ppf(1 - (1 - confidence) / 2, dof.where(dof > 0)), index=res.index)
        tstat = slope / se
    res["variation_absolue"] = res["valeur_fin"] - res["valeur_debut"]
    start = res["valeur_debut"].where(res["valeur_debut"] != 0)
    res["variation_relative"] = 100 * (res["valeur_fin"] / start - 1)
    span = res["annee_fin"] - res["annee_debut"]
    positive = (res["valeur_debut"] > 0) & (res["valeur_fin"] > 0) & (span > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cagr = 100 * ((res["valeur_fin"] / res["valeur_debut"]) ** (1 / span) - 1)
    res["taux_annuel_moyen"] = cagr.where(positive)

    niveau_g = g["niveau"].first()
    consecutive_infra = (n == 2) & (span == 1) & niveau_g.isin(INFRA_COMMUNAL)
    motif = np.select(
        [n < 2, consecutive_infra, n == 2],
        [MOTIF_UNE_ANNEE, MOTIF_DEUX_ANNEES_CONSECUTIVES, MOTIF_DEUX_ANNEES],
        "",
    )
    res["pente"] = slope.where(~consecutive_infra & (n >= 2))
    res["pente_ic_bas"] = (slope - tcrit * se).where(n >= 3)
    res["pente_ic_haut"] = (slope + tcrit * se).where(n >= 3)
    p = pd.Series(2 * stats.t.sf(np.abs(tstat), dof.where(dof > 0)), index=res.index)
    res["p_value"] = p.where(n >= 3)
    tendance = np.select(
        [res["pente_ic_bas"] > 0, res["pente_ic_haut"] < 0, res["pente_ic_bas"].notna()],
        ["hausse", "baisse", "stable"],
        "",
    )
    res["tendance"] = pd.Series(tendance, index=res.index).replace("", pd.NA)
    res["motif"] = pd.Series(motif, index=res.index).replace("", pd.NA)
    res[["annee_debut", "annee_fin"]] = res[["annee_debut", "annee_fin"]].astype(int)
    return res.reset_index()


# --- convergence of gaps -----------------------------------------------------------------------


def convergence(
    gaps: pd.DataFrame,
    year_start: int | None = None,
    year_end: int | None = None,
    tolerance: float | Mapping[str, float] = 1.0,
    by: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Change of the gap between two years, per territory × indicator (× reference).

    gaps: output of `gap_series` (needs ``annee`` and ``ecart``). year_start / year_end: the
    two years compared; by default each series' first and last years with a known gap.
    tolerance: in the indicator's unit (points for a rate), a number or a mapping
    indicator → tolerance (default 1.0 for indicators the mapping does not name).

    The label compares the absolute gaps (distance to the reference, whichever side):
    ``convergence`` when |ecart_fin| − |ecart_debut| ≤ −tolerance, ``divergence`` when it is
    ≥ tolerance, else ``stable``; missing when either gap is unknown or the years coincide.

    Returns: the grouping columns, ``annee_debut, ecart_debut, annee_fin, ecart_fin,
    variation_ecart`` (ecart_fin − ecart_debut), ``convergence``.
    """
    if by is None:
        by = [c for c in (*GROUP_COLUMNS, "code_reference") if c in gaps]
    by = list(by)
    known = gaps[gaps["ecart"].notna()].sort_values([*by, "annee"])
    keys = gaps[by].drop_duplicates().sort_values(by)

    def pick(year: int | None, which: str) -> pd.DataFrame:
        if year is not None:
            sel = known[known["annee"] == year]
        else:
            sel = known.groupby(by, sort=False, dropna=False).nth(0 if which == "debut" else -1)
        return sel[[*by, "annee", "ecart"]].rename(
            columns={"annee": f"annee_{which}", "ecart": f"ecart_{which}"}
        )

    out = keys.merge(pick(year_start, "debut"), on=by, how="left").merge(
        pick(year_end, "fin"), on=by, how="left"
    )
    if year_start is not None:
        out["annee_debut"] = out["annee_debut"].fillna(year_start)
    if year_end is not None:
        out["annee_fin"] = out["annee_fin"].fillna(year_end)
    out["variation_ecart"] = out["ecart_fin"] - out["ecart_debut"]
    if isinstance(tolerance, Mapping):
        if "indicateur" not in out:
            raise ValueError("Une tolérance par indicateur demande la colonne « indicateur ».")
        tol = out["indicateur"].map(tolerance).fillna(1.0).astype(float)
    else:
        tol = pd.Series(float(tolerance), index=out.index)
    change = out["ecart_fin"].abs() - out["ecart_debut"].abs()
    valid = change.notna() & (out["annee_fin"] > out["annee_debut"])
    label = np.select([change <= -tol, change >= tol], ["convergence", "divergence"], "stable").astype(object)
    out["convergence"] = pd.Series(label, index=out.index).where(valid)
    for c in ("annee_debut", "annee_fin"):
        out[c] = out[c].astype("Int64")
    return out.reset_index(drop=True)


def pooled_series(ind: pd.DataFrame, codes, indicateur: str, serie: str) -> pd.DataFrame:
    """One series from several quartiers: sum of numerators over sum of denominators (a
    population-weighted rate) with its Wilson interval; the mean when counts are missing."""
    rows = ind[
        (ind["niveau"] == "quartier")
        & ind["code_territoire"].isin(list(codes))
        & (ind["indicateur"] == indicateur)
        & ind["valeur"].notna()
    ]
    if "secret" in rows:
        rows = rows[~rows["secret"].fillna(False).astype(bool)]
    cols = ["indicateur", "serie", "annee", "valeur", "ic_bas", "ic_haut", "n_quartiers"]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    g = rows.groupby("annee")
    out = g.agg(
        num=("numerateur", "sum"),
        den=("denominateur", "sum"),
        moyenne=("valeur", "mean"),
        n_quartiers=("code_territoire", "nunique"),
        complet=("denominateur", lambda s: bool(s.notna().all())),
    ).reset_index()
    rate = (100 * out["num"] / out["den"].where(out["den"] > 0)).where(out["complet"])
    out["valeur"] = rate.fillna(out["moyenne"])
    lo, hi = wilson_interval(out["num"].where(out["complet"]), out["den"].where(out["complet"]))
    out["ic_bas"], out["ic_haut"] = lo, hi
    out["indicateur"], out["serie"] = indicateur, serie
    return out[cols]


# --- before / during the contract ---------------------------------------------------------------

PERIODE_COLUMNS = [
    "annees_avant",
    "annees_pendant",
    "numerateur_avant",
    "denominateur_avant",
    "valeur_avant",
    "numerateur_pendant",
    "denominateur_pendant",
    "valeur_pendant",
    "difference",
    "avant_testable",
    "petite_base",
]


def compare_periods(
    df: pd.DataFrame,
    *,
    annee_debut_cucs: int,
    debut: int,
    fin: int,
    by: Sequence[str] = (),
    valeur: str | None = None,
    numerateur: str | None = None,
    denominateur: str | None = None,
    echelle: float = 100.0,
    base_min: float = 30,
) -> pd.DataFrame:
    """Compare the period before the contract with the period during it, not a first and a last year.

    Before = [debut, annee_debut_cucs - 1], during = [annee_debut_cucs, fin]. Give either
    `numerateur` and `denominateur` (a rate: the pooled rate of each period, echelle ×
    Σ numerator / Σ denominator, so both periods stand on their own stated base) or `valeur`
    (a level: the mean of the yearly values of each period). Per group of `by`: the years
    observed in each period, the numerators and denominators (NaN for a level), the value of
    each period, their difference (during − before), `avant_testable` (some year before the
    contract was observed: a series that starts with the contract cannot say what changed)
    and `petite_base` (a rate whose denominator is below `base_min` in either period).
    """
    if (valeur is None) == (numerateur is None or denominateur is None):
        raise ValueError("compare_periods: give valeur, or numerateur and denominateur")
    by = list(by)
    cols = [*by, *PERIODE_COLUMNS]
    d = df[(df["annee"] >= debut) & (df["annee"] <= fin)].copy()
    if d.empty:
        return pd.DataFrame(columns=cols)
    d["_periode"] = np.where(d["annee"] < annee_debut_cucs, "avant", "pendant")
    d["_tout"] = 0  # one group when `by` is empty, so the frame unstacks the same way
    keys = [*(by or ["_tout"]), "_periode"]
    if valeur is not None:
        g = d.groupby(keys, observed=True, dropna=False).agg(
            annees=("annee", "nunique"), valeur=(valeur, "mean")
        )
        g["numerateur"] = np.nan
        g["denominateur"] = np.nan
    else:
        g = d.groupby(keys, observed=True, dropna=False).agg(
            annees=("annee", "nunique"), numerateur=(numerateur, "sum"), denominateur=(denominateur, "sum")
        )
        g["valeur"] = (echelle * g["numerateur"] / g["denominateur"]).where(g["denominateur"] > 0)
    wide = g.unstack("_periode")
    out = pd.DataFrame(index=wide.index)
    for p in ("avant", "pendant"):
        for c in ("annees", "numerateur", "denominateur", "valeur"):
            out[f"{c}_{p}"] = wide[(c, p)] if (c, p) in wide.columns else np.nan
    out[["annees_avant", "annees_pendant"]] = (
        out[["annees_avant", "annees_pendant"]].fillna(0).astype("int64")
    )
    out["difference"] = out["valeur_pendant"] - out["valeur_avant"]
    out["avant_testable"] = out["annees_avant"] > 0
    if valeur is None:
        small = (out["denominateur_avant"].fillna(0) < base_min) | (
            out["denominateur_pendant"].fillna(0) < base_min
        )
        out["petite_base"] = small & out["avant_testable"]
    else:
        out["petite_base"] = False
    out = out.reset_index() if by else out.reset_index(drop=True)
    return out[cols]


def arrondi(x, decimales: int = 1):
    """Half-up rounding, vectorised (``2.25`` → ``2.3``, ``−2.25`` → ``−2.3``), as the French
    formatter rounds: a comparison made on rounded values agrees with the figures printed."""
    a = np.asarray(x, dtype=float)
    f = 10.0**decimales
    # repr-level correction so 2.675 (stored 2.67499…) still rounds up like its printed form
    out = np.sign(a) * np.floor(np.abs(a) * f + 0.5 + 1e-9) / f
    if isinstance(x, pd.Series):
        return pd.Series(out, index=x.index, name=x.name)
    return out if out.ndim else float(out)


def compare_periods_auto(
    df: pd.DataFrame,
    *,
    annee_debut_cucs: int,
    debut: int,
    fin: int,
    by: Sequence[str],
    echelle: float = 100.0,
    base_min: float = 30,
) -> pd.DataFrame:
    """`compare_periods` per indicator, on the right base for each: pooled rates (Σ numerator /
    Σ denominator) when every kept row has its counts, mean yearly levels otherwise. Secret or
    missing values are left out. `by` must hold ``indicateur``. Adds ``methode``: ``taux``
    (pooled rate), ``moyenne`` (mean of yearly values of one territory) or ``sans_effectifs``
    (several territories pooled without their counts: a mean of their rates would weigh a
    quartier of 1 000 inhabitants like one of 30 000, so the values are left missing)."""
    cols = [*by, *PERIODE_COLUMNS, "methode"]
    d = df[df["valeur"].notna()]
    if "secret" in d:
        d = d[~d["secret"].fillna(False).astype(bool)]
    parts = []
    for _ind, grp in d.groupby("indicateur", sort=True):  # a handful of indicators
        counts = {"numerateur", "denominateur"} <= set(grp.columns) and bool(
            grp[["numerateur", "denominateur"]].notna().all().all()
        )
        kw = {"numerateur": "numerateur", "denominateur": "denominateur"} if counts else {"valeur": "valeur"}
        res = compare_periods(
            grp,
            annee_debut_cucs=annee_debut_cucs,
            debut=debut,
            fin=fin,
            by=by,
            echelle=echelle,
            base_min=base_min,
            **kw,
        )
        methode = "taux" if counts else "moyenne"
        if not counts and "code_territoire" in grp and "code_territoire" not in by:
            several = grp.groupby(list(by))["code_territoire"].nunique().gt(1).rename("_plusieurs")
            res = res.merge(several.reset_index(), on=list(by), how="left")
            pooled = res.pop("_plusieurs").fillna(False).astype(bool)
            res.loc[pooled, ["valeur_avant", "valeur_pendant", "difference"]] = np.nan
            methode = np.where(pooled, "sans_effectifs", "moyenne")
        parts.append(res.assign(methode=methode))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]
