"""Proximity (q8): actions that build proximity ties, GUP reports, facilities, safety indicators.

Pure functions: DataFrames in, DataFrames out (codes and numbers, no sentences). The GUP trend
is the rule of docs/rules.md (« GUP trend (q8) »), the same as the demo generator's planted
truth (`data.demo._truth_from_tables`): yearly report counts per quartier × category over the
whole period (a year without report counts 0), Poisson regression of the count on the year;
`hausse` / `baisse` when the slope is significant (p < `alpha`) and the fitted change over the
period, ``exp(slope × (last year − first year)) − 1``, is at least `seuil_variation` in absolute
value, otherwise `pas_de_tendance`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cucs_analysis.data.schema import CATEGORIES_GUP

HAUSSE = "hausse"
BAISSE = "baisse"
SANS_TENDANCE = "pas_de_tendance"
TENDANCES = (HAUSSE, BAISSE, SANS_TENDANCE)
RESOLU = "résolu"
EN_COURS = "en cours"
SANS_SUITE = "classé sans suite"
#: Catalogue themes that hold delinquency or public-space indicators (compared lower-case).
THEMES_SECURITE = ("sécurité", "délinquance", "tranquillité", "tranquillité publique", "espace public")
#: Indicator codes read as delinquency / public-space ones whatever their theme (substrings).
CODES_SECURITE = ("delit", "delinquance", "espace_public", "incivilite")
Z95 = 1.959963984540054

TREND_COLUMNS = [
    "signalements",
    "annees",
    "pente",
    "variation_annuelle",
    "ic_bas",
    "ic_haut",
    "p_value",
    "variation_periode",
    "tendance",
]


def _empty(cols: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=list(cols))


def _proximite(actions: pd.DataFrame) -> pd.Series:
    """True for the action-years flagged `proximite` (an unknown flag is not a proximity action)."""
    if "proximite" not in actions.columns:
        return pd.Series(False, index=actions.index)
    return actions["proximite"].astype("boolean").fillna(False).astype(bool)


def _proximite_connue(actions: pd.DataFrame) -> pd.Series:
    """True where the `proximite` flag is known: an unknown flag is neither proximity nor not."""
    if "proximite" not in actions.columns:
        return pd.Series(True, index=actions.index)
    return actions["proximite"].astype("boolean").notna().astype(bool)


def _granted(actions: pd.DataFrame, financements: pd.DataFrame | None) -> pd.DataFrame:
    """Granted amounts per action-year (total and specific credits), 0 where none."""
    keys = ["id_action", "annee"]
    a = actions[keys].drop_duplicates()
    if financements is None or financements.empty or "montant_accorde" not in financements.columns:
        return a.assign(montant_accorde=0.0, montant_specifique=0.0)
    f = financements.assign(
        montant_accorde=pd.to_numeric(financements["montant_accorde"], errors="coerce").fillna(0.0)
    )
    f["montant_specifique"] = f["montant_accorde"].where(f.get("type_credit") == "specifique", 0.0)
    g = f.groupby(keys, observed=True)[["montant_accorde", "montant_specifique"]].sum().reset_index()
    out = a.merge(g, on=keys, how="left")
    return out.fillna({"montant_accorde": 0.0, "montant_specifique": 0.0})


def proximity_actions(actions: pd.DataFrame, financements: pd.DataFrame | None) -> pd.DataFrame:
    """One row per action flagged `proximite`: its fields (latest year's), years, action-years
    and the amounts granted over the period (all credits, specific credits); largest first."""
    cols = [
        "id_action",
        "intitule",
        "thematique",
        "dispositif",
        "code_quartier",
        "public_cible",
        "annee_min",
        "annee_max",
        "actions_annees",
        "montant_accorde",
        "montant_specifique",
    ]
    if actions is None or actions.empty:
        return _empty(cols)
    p = actions[_proximite(actions)]
    if p.empty:
        return _empty(cols)
    money = _granted(p, financements)
    per = money.groupby("id_action")[["montant_accorde", "montant_specifique"]].sum()
    yrs = p.groupby("id_action")["annee"].agg(annee_min="min", annee_max="max", actions_annees="count")
    info_cols = [c for c in cols[1:6] if c in p.columns]
    info = p.sort_values("annee").groupby("id_action")[info_cols].last()
    out = info.join(yrs).join(per).reset_index()
    for c in cols:
        if c not in out.columns:
            out[c] = np.nan
    out = out.sort_values(["montant_accorde", "id_action"], ascending=[False, True], kind="stable")
    return out[cols].reset_index(drop=True)


def proximity_by_year(actions: pd.DataFrame, financements: pd.DataFrame | None) -> pd.DataFrame:
    """Per year: action-years (all, of proximity), amounts granted (all actions, proximity
    actions), on the action-years whose `proximite` flag is known; those whose flag is unknown
    are counted apart (`actions_annees_non_renseignees`, `montant_non_renseigne`), never read
    as « not proximity »."""
    cols = [
        "annee",
        "actions_annees",
        "actions_annees_proximite",
        "montant_total",
        "montant_proximite",
        "actions_annees_non_renseignees",
        "montant_non_renseigne",
    ]
    if actions is None or actions.empty:
        return _empty(cols)
    a = actions[["id_action", "annee"]].assign(
        prox=_proximite(actions).to_numpy(), connue=_proximite_connue(actions).to_numpy()
    )
    money = _granted(actions, financements)
    a = a.merge(money, on=["id_action", "annee"], how="left").fillna({"montant_accorde": 0.0})
    a["montant_prox"] = a["montant_accorde"].where(a["prox"], 0.0)
    a["montant_connu"] = a["montant_accorde"].where(a["connue"], 0.0)
    a["montant_inconnu"] = a["montant_accorde"].where(~a["connue"], 0.0)
    g = a.groupby("annee").agg(
        actions_annees=("connue", "sum"),
        actions_annees_proximite=("prox", "sum"),
        montant_total=("montant_connu", "sum"),
        montant_proximite=("montant_prox", "sum"),
        actions_annees_non_renseignees=("connue", lambda s: int((~s).sum())),
        montant_non_renseigne=("montant_inconnu", "sum"),
    )
    for c in ("actions_annees", "actions_annees_proximite", "actions_annees_non_renseignees"):
        g[c] = g[c].astype("int64")
    return g.reset_index()[cols]


def proximity_by_group(
    actions: pd.DataFrame, financements: pd.DataFrame | None, by: Sequence[str]
) -> pd.DataFrame:
    """The proximity actions per group (e.g. `public_cible`, or `thematique` × `dispositif`):
    distinct actions, action-years and amounts granted; largest amount first."""
    by = list(by)
    cols = [*by, "actions", "actions_annees", "montant_accorde"]
    pa = proximity_actions(actions, financements)
    if pa.empty or any(c not in pa.columns for c in by):
        return _empty(cols)
    g = (
        pa.fillna({c: "" for c in by})
        .groupby(by, observed=True)
        .agg(
            actions=("id_action", "nunique"),
            actions_annees=("actions_annees", "sum"),
            montant_accorde=("montant_accorde", "sum"),
        )
        .reset_index()
    )
    g = g.sort_values(["montant_accorde", *by], ascending=[False, *([True] * len(by))], kind="stable")
    return g[cols].reset_index(drop=True)


# --- populations ---------------------------------------------------------------------------------


def populations(indicateurs: pd.DataFrame, debut: int, fin: int) -> pd.DataFrame:
    """Population of every territory of `indicateurs` (indicator `population`) for each year of
    [debut, fin]: the year's value, else the nearest earlier year's, else the nearest later
    one's (a census is not yearly everywhere). Columns: niveau, code_territoire, annee,
    population, annee_population (the year the value comes from)."""
    cols = ["niveau", "code_territoire", "annee", "population", "annee_population"]
    if indicateurs is None or indicateurs.empty:
        return _empty(cols)
    p = indicateurs[(indicateurs["indicateur"] == "population") & indicateurs["valeur"].notna()]
    p = p[pd.to_numeric(p["valeur"], errors="coerce") > 0]
    if p.empty:
        return _empty(cols)
    p = p.assign(annee=p["annee"].astype(int), valeur=p["valeur"].astype(float))
    p = p.drop_duplicates(["niveau", "code_territoire", "annee"])
    wide = p.pivot(index=["niveau", "code_territoire"], columns="annee", values="valeur")
    years = list(range(int(debut), int(fin) + 1))
    allyears = sorted(set(wide.columns) | set(years))
    wide = wide.reindex(columns=allyears)
    src = pd.DataFrame(
        np.where(wide.notna(), np.array(allyears, dtype=float)[None, :], np.nan),
        index=wide.index,
        columns=allyears,
    )
    val = wide.ffill(axis=1).bfill(axis=1)
    src = src.ffill(axis=1).bfill(axis=1)
    val, src = val[years], src[years]
    val.columns.name = src.columns.name = "annee"
    out = val.stack().rename("population").reset_index()
    out["annee_population"] = src.stack().to_numpy()
    out["annee"] = out["annee"].astype(int)
    out["annee_population"] = out["annee_population"].astype(int)
    return out[cols]


# --- GUP reports --------------------------------------------------------------------------------


def gup_counts(
    gup: pd.DataFrame | None,
    quartiers: Sequence[str],
    debut: int,
    fin: int,
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Reports per quartier × category × year on the full grid (a year without report is a
    measured 0): the quartiers given, the categories of the schema plus any other found in the
    data, the years [debut, fin]. Columns: code_quartier, categorie, annee, signalements."""
    cols = ["code_quartier", "categorie", "annee", "signalements"]
    quartiers = [str(q) for q in quartiers]
    if gup is None:
        return _empty(cols)
    g = gup[gup["code_quartier"].isin(quartiers)]
    annee = pd.to_datetime(g["date"], errors="coerce").dt.year
    g = g.assign(annee=annee)[annee.between(debut, fin)]
    cats = list(categories) if categories is not None else list(CATEGORIES_GUP)
    cats += sorted(set(g["categorie"].dropna().astype(str)) - set(cats))
    if not quartiers or not cats:
        return _empty(cols)
    cnt = g.groupby(["code_quartier", "categorie", "annee"], observed=True).size()
    full = pd.MultiIndex.from_product(
        [quartiers, cats, range(int(debut), int(fin) + 1)], names=["code_quartier", "categorie", "annee"]
    )
    out = cnt.reindex(full, fill_value=0).rename("signalements").reset_index()
    out["signalements"] = out["signalements"].astype("int64")
    return out[cols]


def poisson_trend(
    annees: np.ndarray, counts: np.ndarray, seuil_variation: float, alpha: float = 0.05
) -> dict:
    """Poisson regression of yearly counts on the year (statsmodels GLM, log link).

    Returns the slope, the yearly change ``exp(slope) − 1`` with its 95 % interval (from the
    slope's Wald interval), the p-value, the fitted change over the period ``exp(slope ×
    (last − first year)) − 1`` and the trend code. No report at all, or fewer than 3 years:
    values NaN and trend None (not computable)."""
    import statsmodels.api as sm

    y = np.asarray(counts, dtype=float)
    t = np.asarray(annees, dtype=float)
    out = {
        "signalements": int(y.sum()),
        "annees": int(len(y)),
        "pente": np.nan,
        "variation_annuelle": np.nan,
        "ic_bas": np.nan,
        "ic_haut": np.nan,
        "p_value": np.nan,
        "variation_periode": np.nan,
        "tendance": None,
    }
    if len(y) < 3 or y.sum() <= 0 or np.ptp(t) == 0:
        return out
    x = sm.add_constant(t - t.min())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.GLM(y, x, family=sm.families.Poisson()).fit()
        slope, se, p = float(fit.params[1]), float(fit.bse[1]), float(fit.pvalues[1])
    except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - degenerate design
        return out
    if not (np.isfinite(slope) and np.isfinite(se) and np.isfinite(p)):
        return out
    change = float(np.exp(slope * (t.max() - t.min())) - 1)
    tendance = SANS_TENDANCE
    if p < alpha and abs(change) >= seuil_variation:
        tendance = HAUSSE if slope > 0 else BAISSE
    out.update(
        pente=slope,
        variation_annuelle=float(np.exp(slope) - 1),
        ic_bas=float(np.exp(slope - Z95 * se) - 1),
        ic_haut=float(np.exp(slope + Z95 * se) - 1),
        p_value=p,
        variation_periode=change,
        tendance=tendance,
    )
    return out


def gup_trends(
    counts: pd.DataFrame,
    seuil_variation: float,
    alpha: float = 0.05,
    by: Sequence[str] = ("code_quartier", "categorie"),
) -> pd.DataFrame:
    """`poisson_trend` per group of `by` of `gup_counts` (one fit per quartier × category: a
    handful of groups, not rows)."""
    by = list(by)
    cols = [*by, *TREND_COLUMNS]
    if counts is None or counts.empty:
        return _empty(cols)
    c = counts.groupby([*by, "annee"], observed=True)["signalements"].sum().reset_index()
    rows = []
    for key, g in c.groupby(by, sort=True, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                **poisson_trend(g["annee"].to_numpy(), g["signalements"].to_numpy(), seuil_variation, alpha),
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    out["tendance"] = out["tendance"].astype(object)
    return out


def gup_rates(
    counts: pd.DataFrame, pops: pd.DataFrame, by: Sequence[str] = ("code_quartier", "categorie")
) -> pd.DataFrame:
    """Reports per year per 1,000 inhabitants, pooled over the years: 1,000 × Σ reports / Σ
    population of the same years (each year's population, `populations`). Columns: by,
    signalements, population_annees, annees, pour_1000_hab (NaN without population)."""
    by = list(by)
    cols = [*by, "signalements", "population_annees", "annees", "pour_1000_hab"]
    if counts is None or counts.empty:
        return _empty(cols)
    d = with_population(counts, pops)
    d = d[d["population"].notna()]
    if d.empty:
        return _empty(cols)
    g = d.groupby(by, observed=True).agg(
        signalements=("signalements", "sum"),
        population_annees=("population", "sum"),
        annees=("annee", "nunique"),
    )
    g["pour_1000_hab"] = (1000 * g["signalements"] / g["population_annees"]).where(g["population_annees"] > 0)
    return g.reset_index()[cols]


def with_population(counts: pd.DataFrame, pops: pd.DataFrame) -> pd.DataFrame:
    """`gup_counts` with the quartier's population of each year (NaN where unknown)."""
    p = pops[pops["niveau"] == "quartier"][["code_territoire", "annee", "population"]]
    p = p.rename(columns={"code_territoire": "code_quartier"})
    return counts.merge(p, on=["code_quartier", "annee"], how="left")


def resolution_delays(
    gup: pd.DataFrame | None,
    by: Sequence[str] = ("code_quartier", "categorie"),
    debut: int | None = None,
    fin: int | None = None,
    annee_debut_cucs: int | None = None,
) -> pd.DataFrame:
    """Median resolution delay over the resolved reports only (status `résolu` with a delay),
    per group of `by`; the reports still open (`en cours`) and closed without follow-up
    (`classé sans suite`) are counted apart. With `annee_debut_cucs`, `periode` is added to
    the groups (`avant` / `pendant` the contract). Columns: by, signalements, resolus,
    en_cours, sans_suite, delai_median_jours."""
    by = list(by)
    if annee_debut_cucs is not None:
        by = [*by, "periode"]
    cols = [*by, "signalements", "resolus", "en_cours", "sans_suite", "delai_median_jours"]
    if gup is None or gup.empty:
        return _empty(cols)
    g = gup.assign(annee=pd.to_datetime(gup["date"], errors="coerce").dt.year)
    if debut is not None and fin is not None:
        g = g[g["annee"].between(debut, fin)]
    if annee_debut_cucs is not None:
        g = g.assign(periode=np.where(g["annee"] < annee_debut_cucs, "avant", "pendant"))
    if g.empty:
        return _empty(cols)
    delai = pd.to_numeric(g["delai_resolution_jours"], errors="coerce")
    resolu = (g["statut"] == RESOLU) & delai.notna()
    g = g.assign(
        _resolu=resolu,
        _en_cours=g["statut"] == EN_COURS,
        _sans_suite=g["statut"] == SANS_SUITE,
        _delai=delai.where(resolu),
    )
    out = g.groupby(by, observed=True).agg(
        signalements=("statut", "size"),
        resolus=("_resolu", "sum"),
        en_cours=("_en_cours", "sum"),
        sans_suite=("_sans_suite", "sum"),
        delai_median_jours=("_delai", "median"),
    )
    for c in ("resolus", "en_cours", "sans_suite"):
        out[c] = out[c].astype("int64")
    return out.reset_index()[cols]


# --- facilities -------------------------------------------------------------------------------------


def facilities_year(equipements: pd.DataFrame | None, fin: int) -> int | None:
    """The latest year up to `fin` with facility counts (None without any)."""
    if equipements is None or equipements.empty:
        return None
    a = pd.to_numeric(equipements["annee"], errors="coerce")
    a = a[a <= fin]
    return None if a.empty else int(a.max())


def facilities_per_1000(
    equipements: pd.DataFrame | None,
    pops: pd.DataFrame,
    annee: int | None,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Facilities per 1,000 inhabitants of the same year, per territory (and `by`, e.g. `gamme`
    or `type_equipement`): nombre, population, annee_population, pour_1000_hab (NaN with the
    population unknown or 0)."""
    by = list(by)
    keys = ["niveau", "code_territoire", *by]
    cols = [*keys, "nombre", "population", "annee_population", "pour_1000_hab"]
    if equipements is None or equipements.empty or annee is None:
        return _empty(cols)
    e = equipements[pd.to_numeric(equipements["annee"], errors="coerce") == annee]
    if e.empty:
        return _empty(cols)
    g = e.groupby(keys, observed=True)["nombre"].sum().reset_index()
    p = pops[pops["annee"] == annee][["niveau", "code_territoire", "population", "annee_population"]]
    g = g.merge(p, on=["niveau", "code_territoire"], how="left")
    g["pour_1000_hab"] = (1000 * g["nombre"] / g["population"]).where(g["population"] > 0)
    return g[cols].reset_index(drop=True)


def pooled_facilities(per: pd.DataFrame, codes: Sequence[str], by: Sequence[str] = ()) -> pd.DataFrame:
    """Facilities per 1,000 inhabitants of a set of quartiers taken together (Σ facilities /
    Σ population of the quartiers with a known population)."""
    by = list(by)
    cols = [*by, "nombre", "population", "pour_1000_hab"]
    d = per[
        (per["niveau"] == "quartier") & per["code_territoire"].isin(list(codes)) & per["population"].notna()
    ]
    if d.empty:
        return _empty(cols)
    if by:
        g = d.groupby(by, observed=True)[["nombre", "population"]].sum().reset_index()
    else:
        g = pd.DataFrame({"nombre": [d["nombre"].sum()], "population": [d["population"].sum()]})
    # the population of each quartier counted once per group
    pop = d.drop_duplicates("code_territoire")["population"].sum()
    g["population"] = pop
    g["pour_1000_hab"] = 1000 * g["nombre"] / pop if pop > 0 else np.nan
    return g[cols]


def facilities_above_commune(
    equipements: pd.DataFrame | None, code_commune: str, quartiers: Sequence[str]
) -> pd.DataFrame:
    """The (year, facility type) where the commune's quartiers together count more facilities
    than the commune itself: two sources that do not agree (a quartier lies inside its commune).
    Columns: annee, type_equipement, nombre_commune (0 when the commune has no row),
    nombre_quartiers; one row per inconsistent pair, by year then type."""
    cols = ["annee", "type_equipement", "nombre_commune", "nombre_quartiers"]
    if (
        equipements is None
        or equipements.empty
        or not {"niveau", "code_territoire", "type_equipement"} <= set(equipements.columns)
    ):
        return _empty(cols)
    e = equipements.assign(
        annee=pd.to_numeric(equipements["annee"], errors="coerce"),
        nombre=pd.to_numeric(equipements["nombre"], errors="coerce").fillna(0),
    ).dropna(subset=["annee"])
    com = e[(e["niveau"] == "commune") & (e["code_territoire"].astype(str) == str(code_commune))]
    qua = e[(e["niveau"] == "quartier") & e["code_territoire"].astype(str).isin([str(q) for q in quartiers])]
    if qua.empty:
        return _empty(cols)
    keys = ["annee", "type_equipement"]
    q = qua.groupby(keys)["nombre"].sum().rename("nombre_quartiers")
    c = com.groupby(keys)["nombre"].sum().rename("nombre_commune")
    both = pd.concat([c, q], axis=1).fillna(0).reset_index()
    out = both[both["nombre_quartiers"] > both["nombre_commune"]]
    out = out.assign(annee=out["annee"].astype(int)).sort_values(keys)
    return out[cols].reset_index(drop=True)


# --- indicators ---------------------------------------------------------------------------------------


def safety_indicators(catalogue: pd.DataFrame | None) -> list[str]:
    """The catalogue's delinquency and public-space indicators (theme in `THEMES_SECURITE`, or
    a code containing one of `CODES_SECURITE`), sorted."""
    if catalogue is None or catalogue.empty or "indicateur" not in catalogue.columns:
        return []
    theme = catalogue.get("theme", pd.Series("", index=catalogue.index)).fillna("").astype(str).str.lower()
    code = catalogue["indicateur"].astype(str)
    hit = theme.str.strip().isin(THEMES_SECURITE) | code.str.lower().str.contains("|".join(CODES_SECURITE))
    return sorted(code[hit].unique().tolist())


def indicator_profile(
    indicateurs: pd.DataFrame | None, code_quartier: str, code_commune: str, fin: int
) -> pd.DataFrame:
    """Each indicator of a quartier against its commune at the latest year up to `fin` where
    both have a value: annee, valeur_quartier, valeur_commune, ecart (quartier − commune),
    numerateur / denominateur of the quartier (for secrecy of its base), numerateur_commune /
    denominateur_commune (the commune's base, NaN where the data have none)."""
    cols = [
        "indicateur",
        "annee",
        "valeur_quartier",
        "valeur_commune",
        "ecart",
        "numerateur",
        "denominateur",
        "numerateur_commune",
        "denominateur_commune",
    ]
    if indicateurs is None or indicateurs.empty:
        return _empty(cols)
    i = indicateurs[(indicateurs["annee"] <= fin) & indicateurs["valeur"].notna()]
    if "secret" in i.columns:
        i = i[~i["secret"].astype("boolean").fillna(False).astype(bool)]
    q = i[(i["niveau"] == "quartier") & (i["code_territoire"] == code_quartier)]
    c = i[(i["niveau"] == "commune") & (i["code_territoire"] == code_commune)]
    base = [x for x in ("numerateur", "denominateur") if x in c.columns]
    c = c[["indicateur", "annee", "valeur", *base]].rename(columns={x: f"{x}_commune" for x in base})
    m = q.merge(c, on=["indicateur", "annee"], suffixes=("_quartier", "_commune"))
    if m.empty:
        return _empty(cols)
    m = m.sort_values("annee").groupby("indicateur").tail(1)
    m = m.assign(ecart=m["valeur_quartier"] - m["valeur_commune"])
    for c_ in ("numerateur", "denominateur", "numerateur_commune", "denominateur_commune"):
        if c_ not in m.columns:
            m[c_] = np.nan
    return m.sort_values("indicateur")[cols].reset_index(drop=True)
