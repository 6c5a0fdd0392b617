"""Outcomes: funding intensity, difference-in-differences, event study, gaps and convergence.

Pure functions on the project's tables (column names of `cucs_analysis.data.schema`); no I/O, no
plotting. The rules (treated / comparison quartiers, pre-trend check) are those of
docs/rules.md (q2). Estimates describe an association between funding and trends; the
narrative must never read them as causal proof.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from cucs_analysis.analysis import trends

PANEL_COLUMNS = ["quartier", "annee", "y", "traite", "post", "traite_post"]
DID_COLUMNS = ["indicateur", "estimation", "ic_bas", "ic_haut", "p_value", "n_quartiers", "pre_tendance_ok"]
GAP_COLUMNS = [
    "code_quartier",
    "indicateur",
    "annee_debut",
    "ecart_debut",
    "annee_fin",
    "ecart_fin",
    "convergence",
]


@dataclass(frozen=True)
class DidResult:
    """Two-way fixed-effects difference-in-differences estimate and its context.

    estimation: coefficient of traite_post (indicator's unit); ic_bas / ic_haut: 95 % interval
    (clustered by quartier, Student t with n_clusters - 1 df); pre_tendance_ok: True when the
    pre-period slope difference is not significant (p >= 0.05), None when it cannot be tested.
    """

    estimation: float
    ic_bas: float
    ic_haut: float
    p_value: float
    n_quartiers: int
    n_traites: int
    n_obs: int
    pre_tendance_ok: bool | None
    pre_tendance_p: float

    def as_dict(self) -> dict:
        return asdict(self)


# --- funding intensity -----------------------------------------------------------------------


def _population_frame(population: pd.DataFrame) -> pd.DataFrame:
    """code_quartier, annee, population from either a long `indicateurs` frame or a ready one."""
    if "indicateur" in population.columns:
        pop = population[(population["indicateur"] == "population") & (population["niveau"] == "quartier")]
        pop = pop.rename(columns={"code_territoire": "code_quartier", "valeur": "population"})
    else:
        pop = population
    pop = pop[["code_quartier", "annee", "population"]].dropna(subset=["population"])
    return pop.groupby(["code_quartier", "annee"], as_index=False)["population"].sum()


def funding_intensity(
    financements: pd.DataFrame,
    actions: pd.DataFrame,
    operateurs: pd.DataFrame,
    population: pd.DataFrame,
) -> pd.DataFrame:
    """Specific credits to associations' actions per inhabitant, quartier × year (rules.md q2).

    Specific credits (`type_credit == "specifique"`, granted) of actions whose operator is an
    association and that target a quartier (`actions.code_quartier`), divided by the
    quartier's population that year. `population` is either the long `indicateurs` table
    (rows `indicateur == "population"`, `niveau == "quartier"`) or a frame with
    code_quartier, annee, population. Every quartier × year with a population is kept (0 €
    when unfunded), so comparison quartiers appear. Columns: code_quartier, annee,
    credits_specifiques_associations, population, intensite (€/hab., NaN if population 0).
    """
    pop = _population_frame(population)
    assoc = operateurs.loc[operateurs["statut_juridique"] == "association", "id_operateur"]
    act = actions[actions["id_operateur"].isin(assoc) & actions["code_quartier"].notna()]
    fin = financements[financements["type_credit"] == "specifique"]
    fin = fin.merge(
        act[["id_action", "annee", "code_quartier"]].drop_duplicates(["id_action", "annee"]),
        on=["id_action", "annee"],
        how="inner",
    )
    credits = (
        fin.groupby(["code_quartier", "annee"], as_index=False)["montant_accorde"]
        .sum()
        .rename(columns={"montant_accorde": "credits_specifiques_associations"})
    )
    out = pop.merge(credits, on=["code_quartier", "annee"], how="left")
    out["credits_specifiques_associations"] = out["credits_specifiques_associations"].fillna(0.0)
    out["intensite"] = (out["credits_specifiques_associations"] / out["population"]).where(
        out["population"] > 0
    )
    cols = ["code_quartier", "annee", "credits_specifiques_associations", "population", "intensite"]
    return out[cols].sort_values(["code_quartier", "annee"]).reset_index(drop=True)


def treatment_groups(
    intensity: pd.DataFrame,
    annee_traitement: int = 2009,
    seuil_intensite: float = 25.0,
    seuil_comparaison: float = 10.0,
) -> pd.DataFrame:
    """Treated / comparison status per quartier (rules.md q2).

    Mean intensity over the years >= annee_traitement: treated when >= seuil_intensite,
    comparison when < seuil_comparaison, left out in between (groupe "exclu").
    Columns: code_quartier, intensite_moyenne, groupe ("traite", "comparaison", "exclu").
    """
    post = intensity[intensity["annee"] >= annee_traitement]
    mean = post.groupby("code_quartier")["intensite"].mean().rename("intensite_moyenne").reset_index()
    mean["groupe"] = np.select(
        [mean["intensite_moyenne"] >= seuil_intensite, mean["intensite_moyenne"] < seuil_comparaison],
        ["traite", "comparaison"],
        default="exclu",
    )
    return mean


#: The group of a quartier whose CUCS category is unknown (`categorie_cucs == "inconnu"`): it
#: is neither treated nor comparison (an unfunded-looking quartier may be funded by actions the
#: data lack), so it is left out of the difference-in-differences and counted.
CATEGORIE_INCONNUE = "categorie_inconnue"


def unknown_category_codes(quartiers: pd.DataFrame | None) -> set[str]:
    """The quartiers whose CUCS category is the value "inconnu" (any case, trimmed); a blank
    category is « hors CUCS », a known state, and is not among them."""
    if quartiers is None or quartiers.empty or "categorie_cucs" not in quartiers.columns:
        return set()
    cat = quartiers["categorie_cucs"].astype(object)
    inconnu = cat.map(lambda v: isinstance(v, str) and v.strip().lower() == "inconnu")
    return set(quartiers.loc[inconnu.astype(bool), "code_quartier"].astype(str))


def without_unknown_category(
    intensity: pd.DataFrame, quartiers: pd.DataFrame | None
) -> tuple[pd.DataFrame, set[str]]:
    """The intensity rows of the quartiers of known category, and the codes left out."""
    codes = unknown_category_codes(quartiers)
    if not codes:
        return intensity, set()
    garde = ~intensity["code_quartier"].astype(str).isin(codes)
    return intensity[garde].reset_index(drop=True), codes & set(intensity["code_quartier"].astype(str))


# --- panel and estimators ---------------------------------------------------------------------


def build_panel(
    indicateurs: pd.DataFrame,
    intensity: pd.DataFrame,
    indicateur: str,
    annee_traitement: int = 2009,
    seuil_intensite: float = 25.0,
    seuil_comparaison: float = 10.0,
) -> pd.DataFrame:
    """Quartier × year panel of one indicator for the DiD (rules.md q2).

    Keeps quartier-level rows of `indicateur` that are neither secret nor missing, for the
    treated and comparison quartiers of `treatment_groups`. Columns: quartier, annee, y,
    traite (0/1), post (annee >= annee_traitement, 0/1), traite_post (0/1). The treatment
    year is stored in `panel.attrs["annee_traitement"]`.
    """
    ind = indicateurs[(indicateurs["niveau"] == "quartier") & (indicateurs["indicateur"] == indicateur)]
    if "secret" in ind.columns:
        ind = ind[~ind["secret"].fillna(False).astype(bool)]
    ind = ind[ind["valeur"].notna()]
    groups = treatment_groups(intensity, annee_traitement, seuil_intensite, seuil_comparaison)
    groups = groups[groups["groupe"] != "exclu"]
    panel = ind[["code_territoire", "annee", "valeur"]].merge(
        groups[["code_quartier", "groupe"]], left_on="code_territoire", right_on="code_quartier", how="inner"
    )
    panel = pd.DataFrame(
        {
            "quartier": panel["code_territoire"].astype(str),
            "annee": panel["annee"].astype(int),
            "y": panel["valeur"].astype(float),
            "traite": (panel["groupe"] == "traite").astype(int),
            "post": (panel["annee"] >= annee_traitement).astype(int),
        }
    )
    panel["traite_post"] = panel["traite"] * panel["post"]
    panel = panel.sort_values(["quartier", "annee"]).reset_index(drop=True)[PANEL_COLUMNS]
    panel.attrs["annee_traitement"] = annee_traitement
    return panel


def _numpy_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """The panel with plain numpy dtypes (patsy rejects pandas' nullable Int64 / boolean)."""
    out = panel.dropna(subset=["y"]).copy()
    out["quartier"] = out["quartier"].astype(str).astype(object)
    out["y"] = out["y"].astype("float64")
    for c in ("annee", "traite", "post", "traite_post"):
        out[c] = out[c].astype("int64")
    return out


class _FitFE:
    """Coefficients of the terms of interest of `_clustered_fit`, with the statsmodels-like
    accessors the estimators use: `params`, `bse`, `pvalues` (Series by term) and
    `conf_int(alpha)` (DataFrame, columns 0 and 1)."""

    def __init__(self, terms: list[str], params, bse, df: int):
        self.params = pd.Series(params, index=terms, dtype=float)
        self.bse = pd.Series(bse, index=terms, dtype=float)
        self.df_resid_inference = df
        with np.errstate(divide="ignore", invalid="ignore"):
            t = self.params.to_numpy() / self.bse.to_numpy()
        self.tvalues = pd.Series(t, index=terms)
        self.pvalues = pd.Series(stats.t.sf(np.abs(t), df) * 2, index=terms)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        q = stats.t.ppf(1 - alpha / 2, self.df_resid_inference)
        lower = self.params - q * self.bse
        upper = self.params + q * self.bse
        return pd.DataFrame({0: lower, 1: upper})


def _group_sums(codes: np.ndarray, x: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums of `x` (n × p) by group code (0..n_groups-1): an n_groups × p array."""
    return np.column_stack(
        [np.bincount(codes, weights=x[:, j], minlength=n_groups) for j in range(x.shape[1])]
    )


def _clustered_fit(terms: Sequence[str], data: pd.DataFrame) -> _FitFE:
    """OLS of y on `terms` + C(quartier) + C(annee), errors clustered by quartier, t-based
    inference with n_quartiers - 1 df (few clusters): the results of statsmodels'
    ``smf.ols("y ~ terms + C(quartier) + C(annee)").fit(cov_type="cluster", use_t=True)``
    for the terms, without building the 1,500 quartier dummies.

    The quartier effects are absorbed by the within transformation (Frisch–Waugh–Lovell): y,
    the year dummies (first year as reference, as patsy codes them) and the terms are demeaned
    by quartier and the demeaned regression solved by SVD. Its residuals are those of the
    dummy-variable model, and the rows of its pseudo-inverse are the terms' rows of the full
    model's, so the cluster sandwich Σ_g (R_g u_g)(R_g u_g)' is the full model's block; the
    small-sample factor is statsmodels' G/(G-1)·(N-1)/(N-K), K the number of columns of the
    dummy-variable design. A rank-deficient design gets statsmodels' (pinv) minimum-norm
    solution of the full model: the null directions of the demeaned design are completed
    with their quartier-effect part (intercept + quartier dummies, first quartier as
    reference) before projecting the solution off them.
    """
    terms = list(terms)
    y = data["y"].to_numpy(dtype=float)
    n = len(y)
    q_levels, q_codes = np.unique(data["quartier"].to_numpy(), return_inverse=True)
    a_levels, a_codes = np.unique(data["annee"].to_numpy(), return_inverse=True)
    n_q, n_a, k = len(q_levels), len(a_levels), len(terms)
    df = n_q - 1
    n_cols = 1 + (n_q - 1) + (n_a - 1) + k  # statsmodels' dummy-variable design
    nan = np.full(k, np.nan)
    if n_q < 2 or n == 0:
        return _FitFE(terms, nan, nan, max(df, 1))
    # V: the year dummies then the terms; all-zero columns (a dummy never switched on) are
    # separable null directions: pinv gives them 0 with a zero row, as here.
    dummies = (a_codes[:, None] == np.arange(1, n_a)[None, :]).astype(float)
    v_all = np.hstack([dummies, data[terms].to_numpy(dtype=float)])
    live = np.flatnonzero((v_all != 0).any(axis=0))
    if not live.size:
        return _FitFE(terms, np.zeros(k), np.zeros(k), df)
    v = v_all[:, live]
    counts = np.bincount(q_codes, minlength=n_q).astype(float)
    v_sums = _group_sums(q_codes, v, n_q)
    v_w = v - (v_sums / counts[:, None])[q_codes]
    y_w = y - (np.bincount(q_codes, weights=y, minlength=n_q) / counts)[q_codes]
    u_svd, s, vt = np.linalg.svd(v_w, full_matrices=False)
    tol = (s.max() if s.size else 0.0) * max(v_w.shape) * np.finfo(float).eps  # matrix_rank's
    r = int((s > tol).sum())
    pinv = vt[:r].T @ (u_svd[:, :r] / s[:r]).T  # p × n
    resid = y_w - v_w @ (pinv @ y_w)
    rows = pinv
    if r < v.shape[1]:
        # Null directions of the full model: (w, nv) with V nv constant within each
        # quartier (c_g) and w = -(c_ref, c_g - c_ref) on the intercept and the dummies.
        nv = vt[r:].T  # p × m
        c = _group_sums(q_codes, v @ nv, n_q) / counts[:, None]  # n_q × m
        wn = np.vstack([-c[:1], -(c[1:] - c[:1])])
        gram = wn.T @ wn + nv.T @ nv
        # wn' applied to the quartier-effect part of a particular solution, as a linear map
        # of y: the group-mean coefficients of y - V pinv y, weighted by kappa.
        kappa = np.vstack([(wn[:1] - wn[1:].sum(axis=0, keepdims=True)), wn[1:]]) / counts[:, None]
        e = kappa[q_codes].T  # m × n
        h = e - (kappa.T @ v_sums) @ pinv
        rows = pinv - nv @ np.linalg.solve(gram, h + nv.T @ pinv)
    params_live = rows @ y
    scores = _group_sums(q_codes, rows.T * resid[:, None], n_q)  # n_q × p
    meat = scores.T @ scores
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = n_q / (n_q - 1.0) * ((n - 1.0) / (n - n_cols)) if n != n_cols else np.nan
        bse_live = np.sqrt(np.diag(meat) * scale)
    params = np.zeros(v_all.shape[1])
    bse = np.zeros(v_all.shape[1])
    params[live] = params_live
    bse[live] = bse_live
    return _FitFE(terms, params[n_a - 1 :], bse[n_a - 1 :], df)


def _annee_traitement(panel: pd.DataFrame) -> int | None:
    if "annee_traitement" in panel.attrs:
        return int(panel.attrs["annee_traitement"])
    post = panel.loc[panel["post"] == 1, "annee"]
    return int(post.min()) if len(post) else None


def pre_trend_test(panel: pd.DataFrame) -> float:
    """p-value of the treated × year slope on pre-treatment years (NaN if not testable).

    Model on years with post == 0: y ~ traite:annee + C(quartier) + C(annee), clustered by
    quartier. Needs at least two pre-years and quartiers of both groups.
    """
    pre = panel[panel["post"] == 0]
    if pre["annee"].nunique() < 2 or pre["traite"].nunique() < 2 or pre["quartier"].nunique() < 3:
        return float("nan")
    pre = pre.assign(t_annee=pre["traite"] * (pre["annee"] - pre["annee"].min()))
    try:
        res = _clustered_fit(["t_annee"], pre)
        return float(res.pvalues["t_annee"])
    except (ValueError, np.linalg.LinAlgError):
        return float("nan")


def did_twfe(panel: pd.DataFrame, alpha: float = 0.05, seuil_pre_tendance: float = 0.05) -> DidResult:
    """Two-way fixed-effects DiD: y ~ traite_post + C(quartier) + C(annee), clustered by quartier.

    The interval is (1 - alpha) with Student t on n_quartiers - 1 df (statsmodels' cluster
    covariance with small-sample correction; the quartier effects absorbed, `_clustered_fit`).
    Pre-trend: `pre_trend_test`, ok when
    p >= seuil_pre_tendance. A panel without treated or comparison quartiers, or without
    pre/post years, gives NaN estimates (never an exception) with the counts filled in.
    """
    panel = _numpy_panel(panel)
    n_q = int(panel["quartier"].nunique())
    n_t = int(panel.loc[panel["traite"] == 1, "quartier"].nunique())
    nan = float("nan")
    estimable = (
        n_t > 0
        and n_q - n_t > 0
        and panel["post"].nunique() == 2
        and panel["traite_post"].nunique() == 2
        and n_q >= 3
    )
    est = lo = hi = p = nan
    if estimable:
        try:
            res = _clustered_fit(["traite_post"], panel)
            est = float(res.params["traite_post"])
            lo, hi = (float(v) for v in res.conf_int(alpha=alpha).loc["traite_post"])
            p = float(res.pvalues["traite_post"])
        except (ValueError, np.linalg.LinAlgError):
            pass
    p_pre = pre_trend_test(panel) if estimable else nan
    return DidResult(
        estimation=est,
        ic_bas=lo,
        ic_haut=hi,
        p_value=p,
        n_quartiers=n_q,
        n_traites=n_t,
        n_obs=int(len(panel)),
        pre_tendance_ok=None if np.isnan(p_pre) else bool(p_pre >= seuil_pre_tendance),
        pre_tendance_p=p_pre,
    )


def event_study(
    panel: pd.DataFrame,
    reference: int | None = None,
    annee_traitement: int | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Event-study coefficients: treated × relative-year dummies with quartier and year FE.

    Relative year = annee - annee_traitement (taken from `panel.attrs`, else the first post
    year). `reference` is the calendar year normalised to 0 (default annee_traitement - 1,
    the year before treatment). Columns: annee_relative, annee, coefficient, ic_bas, ic_haut,
    p_value (the reference row has 0, a zero-width interval and no p-value, as has a relative
    year without any treated observation); errors clustered by quartier. Empty frame when not
    estimable.
    """
    cols = ["annee_relative", "annee", "coefficient", "ic_bas", "ic_haut", "p_value"]
    attrs = dict(panel.attrs)
    panel = _numpy_panel(panel)
    panel.attrs.update(attrs)
    if annee_traitement is None:
        annee_traitement = _annee_traitement(panel)
    if annee_traitement is None or panel["traite"].nunique() < 2 or panel["quartier"].nunique() < 3:
        return pd.DataFrame(columns=cols)
    ref_rel = (annee_traitement - 1 if reference is None else int(reference)) - annee_traitement
    rel = (panel["annee"] - annee_traitement).astype(int)
    years = sorted(set(rel) - {ref_rel})
    if ref_rel not in set(rel) or not years:
        return pd.DataFrame(columns=cols)
    # One dummy per non-reference relative year, switched on for treated quartiers only.
    names = {k: f"ev_m{-k}" if k < 0 else f"ev_p{k}" for k in years}
    dummies = pd.DataFrame(
        {names[k]: ((rel == k) & (panel["traite"] == 1)).astype(int) for k in years}, index=panel.index
    )
    data = pd.concat([panel, dummies], axis=1)
    try:
        res = _clustered_fit(list(names.values()), data)
    except (ValueError, np.linalg.LinAlgError):
        return pd.DataFrame(columns=cols)
    ci = res.conf_int(alpha=alpha)
    terms = list(names.values())
    out = pd.DataFrame(
        {
            "annee_relative": list(years),
            "coefficient": res.params[terms].to_numpy(),
            "ic_bas": ci.loc[terms, 0].to_numpy(),
            "ic_haut": ci.loc[terms, 1].to_numpy(),
            "p_value": res.pvalues[terms].to_numpy(),
        }
    )
    ref = pd.DataFrame(
        {
            "annee_relative": [ref_rel],
            "coefficient": [0.0],
            "ic_bas": [0.0],
            "ic_haut": [0.0],
            "p_value": [np.nan],
        }
    )
    out = pd.concat([out, ref], ignore_index=True).sort_values("annee_relative").reset_index(drop=True)
    out["annee"] = out["annee_relative"] + annee_traitement
    return out[cols]


def did_all(
    indicateurs: pd.DataFrame,
    intensity: pd.DataFrame,
    indicateurs_list: Sequence[str],
    annee_traitement: int = 2009,
    seuil_intensite: float = 25.0,
    seuil_comparaison: float = 10.0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """`did_twfe` for each indicator; the results-contract columns (DESIGN.md §6 q2) plus
    n_traites, n_obs and pre_tendance_p. One row per indicator, NaN where not estimable."""
    rows = []
    for ind in indicateurs_list:  # a handful of indicators, one model each
        panel = build_panel(indicateurs, intensity, ind, annee_traitement, seuil_intensite, seuil_comparaison)
        rows.append({"indicateur": ind, **did_twfe(panel, alpha=alpha).as_dict()})
    extra = ["n_traites", "n_obs", "pre_tendance_p"]
    out = pd.DataFrame(rows, columns=[*DID_COLUMNS, *extra])
    return out.astype({"pre_tendance_ok": object})


# --- gaps and convergence ---------------------------------------------------------------------


def gap_convergence(
    indicateurs: pd.DataFrame,
    quartiers: pd.DataFrame,
    reference_level: str = "commune",
    annee_debut: int | None = None,
    annee_fin: int | None = None,
    indicateurs_list: Sequence[str] | None = None,
    communes: pd.DataFrame | None = None,
    tolerance: float | Mapping[str, float] = 0.5,
) -> pd.DataFrame:
    """Gap of each quartier to its reference territory at two years, and its change.

    Built on `trends.gap_series` and `trends.convergence`. Gap = quartier value - reference
    value (points for a rate). Reference: the quartier's commune (`reference_level=
    "commune"`) or its EPCI (`"epci"`, needs `communes` for code_epci). Secret or missing
    cells are ignored. Without `annee_debut` / `annee_fin`, each quartier × indicator uses
    its first and last years with a known gap. convergence (label of `trends.convergence`):
    "convergence" when |gap| shrank by at least `tolerance` (indicator's unit), "divergence"
    when it grew by at least `tolerance`, "stable" otherwise, missing when not computable.
    Columns: code_quartier, indicateur, annee_debut, ecart_debut, annee_fin, ecart_fin,
    convergence, evolution_ecart (ecart_fin - ecart_debut).
    """
    if reference_level not in ("commune", "epci"):
        raise ValueError(f"Niveau de référence inconnu : {reference_level!r} (commune ou epci).")
    cols = [*GAP_COLUMNS, "evolution_ecart"]
    ind = indicateurs
    if "secret" in ind.columns:
        ind = ind[~ind["secret"].fillna(False).astype(bool)]
    ind = ind[ind["valeur"].notna()]
    if indicateurs_list is not None:
        ind = ind[ind["indicateur"].isin(list(indicateurs_list))]
    ref_map = quartiers[["code_quartier", "code_commune"]].rename(columns={"code_commune": "code_reference_"})
    if reference_level == "epci":
        if communes is None:
            raise ValueError("La table des communes est nécessaire pour comparer à l'EPCI.")
        ref_map = ref_map.merge(
            communes[["code_commune", "code_epci"]], left_on="code_reference_", right_on="code_commune"
        )[["code_quartier", "code_epci"]].rename(columns={"code_epci": "code_reference_"})
    q = ind[ind["niveau"] == "quartier"][["niveau", "code_territoire", "indicateur", "annee", "valeur"]]
    q = q.merge(ref_map, left_on="code_territoire", right_on="code_quartier")
    q = q.drop(columns="code_quartier")
    r = ind[ind["niveau"] == reference_level][["niveau", "code_territoire", "indicateur", "annee", "valeur"]]
    r = r.assign(code_reference_=r["code_territoire"]).drop_duplicates(
        ["code_reference_", "indicateur", "annee"]
    )
    if q.empty or r.empty:
        return pd.DataFrame(columns=cols)
    gaps = trends.gap_series(q, r, on=("code_reference_", "indicateur", "annee"))
    if annee_debut is not None:
        gaps = gaps[gaps["annee"] >= annee_debut]
    if annee_fin is not None:
        gaps = gaps[gaps["annee"] <= annee_fin]
    gaps = gaps[gaps["ecart"].notna()]
    if gaps.empty:
        return pd.DataFrame(columns=cols)
    out = trends.convergence(
        gaps, annee_debut, annee_fin, tolerance=tolerance, by=["code_territoire", "indicateur"]
    )
    out = out.rename(columns={"code_territoire": "code_quartier", "variation_ecart": "evolution_ecart"})
    return out[cols].reset_index(drop=True)


# --- gaps before / during the contract --------------------------------------------------------

#: What `gap_periods` adds to GAP_COLUMNS: the two periods, the values on each side, their bases.
GAP_PERIOD_COLUMNS = [
    "annee_fin_avant",
    "annee_debut_pendant",
    "valeur_avant",
    "valeur_pendant",
    "valeur_reference_avant",
    "valeur_reference_pendant",
    "numerateur_avant",
    "denominateur_avant",
    "numerateur_pendant",
    "denominateur_pendant",
    "ecart_avant",
    "ecart_pendant",
    "evolution_ecart",
    "avant_testable",
    "petite_base",
    "methode",
]


def gap_periods(
    indicateurs: pd.DataFrame,
    quartiers: pd.DataFrame,
    *,
    annee_debut_cucs: int,
    debut: int,
    fin: int,
    indicateurs_list: Sequence[str] | None = None,
    tolerance: float = 0.5,
    decimales: int = 1,
    base_min: float = 30,
) -> pd.DataFrame:
    """Gap of each quartier to its commune before the contract and during it (not first year
    vs last year).

    For each quartier × indicator and for its commune, `trends.compare_periods_auto` gives the
    value of each period (pooled rate Σ numerator / Σ denominator when counts exist, else the
    mean yearly level). Both values are rounded to `decimales` as they are printed, and the gap
    is computed from the rounded values, so a reader recomputes every printed gap and change.
    ``ecart_avant`` / ``ecart_pendant`` are the gaps of the two periods (``ecart_debut`` /
    ``ecart_fin`` of the results contract hold the same values, ``annee_debut`` / ``annee_fin``
    the first and last years observed); ``evolution_ecart`` = ecart_pendant − ecart_avant;
    ``convergence``: |gap| shrank by at least `tolerance` (``convergence``), grew by at least
    `tolerance` (``divergence``), else ``stable``; missing when "before" cannot be tested (no
    year observed before `annee_debut_cucs`). ``petite_base``: the quartier's or the commune's
    denominator is below `base_min` in a period.
    """
    cols = [*GAP_COLUMNS, *GAP_PERIOD_COLUMNS]
    ind = indicateurs
    if indicateurs_list is not None:
        ind = ind[ind["indicateur"].isin(list(indicateurs_list))]
    ind = ind[(ind["annee"] >= debut) & (ind["annee"] <= fin) & ind["valeur"].notna()]
    if "secret" in ind:
        ind = ind[~ind["secret"].fillna(False).astype(bool)]
    q = ind[(ind["niveau"] == "quartier") & ind["code_territoire"].isin(quartiers["code_quartier"])]
    c = ind[ind["niveau"] == "commune"]
    if q.empty or c.empty:
        return pd.DataFrame(columns=cols)
    kw = {"annee_debut_cucs": annee_debut_cucs, "debut": debut, "fin": fin, "base_min": base_min}
    pq = trends.compare_periods_auto(q, by=["code_territoire", "indicateur"], **kw)
    pc = trends.compare_periods_auto(c, by=["code_territoire", "indicateur"], **kw)
    pq = pq.rename(columns={"code_territoire": "code_quartier"})
    pq["code_commune"] = pq["code_quartier"].map(quartiers.set_index("code_quartier")["code_commune"])
    pc = pc.rename(columns={"code_territoire": "code_commune"})
    ref = pc[["code_commune", "indicateur", "valeur_avant", "valeur_pendant", "petite_base"]].rename(
        columns={
            "valeur_avant": "valeur_reference_avant",
            "valeur_pendant": "valeur_reference_pendant",
            "petite_base": "petite_base_reference",
        }
    )
    out = pq.merge(ref, on=["code_commune", "indicateur"], how="inner")
    if out.empty:
        return pd.DataFrame(columns=cols)
    r = trends.arrondi
    out["ecart_avant"] = r(out["valeur_avant"], decimales) - r(out["valeur_reference_avant"], decimales)
    out["ecart_pendant"] = r(out["valeur_pendant"], decimales) - r(out["valeur_reference_pendant"], decimales)
    out["ecart_avant"] = r(out["ecart_avant"], decimales)
    out["ecart_pendant"] = r(out["ecart_pendant"], decimales)
    out["evolution_ecart"] = r(out["ecart_pendant"] - out["ecart_avant"], decimales)
    change = r(out["ecart_pendant"].abs() - out["ecart_avant"].abs(), decimales)
    tol = float(tolerance)
    label = np.select([change <= -tol, change >= tol], ["convergence", "divergence"], "stable").astype(object)
    out["convergence"] = pd.Series(label, index=out.index).where(change.notna() & out["avant_testable"])
    out["petite_base"] = out["petite_base"].astype(bool) | out["petite_base_reference"].fillna(False).astype(
        bool
    )
    years = q.groupby(["code_territoire", "indicateur"])["annee"].agg(["min", "max"])
    years.index = years.index.set_names(["code_quartier", "indicateur"])
    out = out.join(years, on=["code_quartier", "indicateur"])
    out["annee_debut"] = out["min"].astype("Int64")
    out["annee_fin"] = out["max"].astype("Int64")
    out["annee_fin_avant"] = annee_debut_cucs - 1
    out["annee_debut_pendant"] = annee_debut_cucs
    out["ecart_debut"] = out["ecart_avant"]
    out["ecart_fin"] = out["ecart_pendant"]
    return out[cols].sort_values(["indicateur", "code_quartier"]).reset_index(drop=True)
