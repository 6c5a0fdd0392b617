"""Steering structures (q7): what a commune's structure (GIP, municipal or intercommunal service)
brings, in numbers (docs/rules.md, q7).

- co-funding per euro of specific credits: on the action-years that receive specific credits
  (granted > 0), Σ mainstream granted / Σ specific granted (`funding.leverage`);
- share of mainstream funding: Σ mainstream / Σ (specific + mainstream) granted, all action-years;
- processing delays: days from application (`date_depot`) to decision (`date_decision`) and to
  payment (`date_paiement`), one delay per funding request (row of `financements`), medians;
- novelty (« part d'actions nouvelles », « taux de nouveauté »; the results key is
  `taux_renouvellement`, DESIGN §6): per year, the actions (resp. operators) seen for the first
  time in the group's programme, as a share of the year's actions (resp. operators); the
  group's first year cannot say what is new and is left out.

Pure functions: DataFrames in, DataFrames out; codes and numbers only, no French sentences.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cucs_analysis.analysis import funding, trends

#: The structure code of a commune whose `structure_pilotage` is empty.
INCONNUE = "inconnue"
#: The structure code of a commune without a specific steering structure (non-signatories).
AUCUNE = "aucune"
#: Actions never carried out (no operator): not part of a year's programme for renewal.
STATUTS_HORS_PROGRAMME = ("non pourvue",)
#: The measures of the renewal comparison (`renewal_periods`).
MESURES_RENOUVELLEMENT = ("nouvelles_actions", "nouveaux_operateurs")
#: The measures of the delays (`median_delays`, `median_delays_periods`).
MESURES_DELAIS = ("delai_decision", "delai_paiement")

LEVIER_COLUMNS = ["actions_annees", "specifique", "droit_commun", "effet_levier"]
DELAIS_COLUMNS = ["demandes", "decisions", "delai_decision_median", "paiements", "delai_paiement_median"]
RENOUVELLEMENT_COLUMNS = [
    "annee",
    "actions",
    "nouvelles_actions",
    "part_nouvelles_actions",
    "operateurs",
    "nouveaux_operateurs",
    "part_nouveaux_operateurs",
    "premiere_annee",
]
DELAIS_PERIODES_COLUMNS = [
    "mesure",
    "annees_avant",
    "n_avant",
    "valeur_avant",
    "annees_pendant",
    "n_pendant",
    "valeur_pendant",
    "difference",
    "avant_testable",
    "petite_base",
]
INDICATEURS_COLUMNS = [
    "code_commune",
    "nom",
    "structure",
    "signataire",
    "a_financements",
    "actions_annees",
    "specifique",
    "droit_commun",
    "effet_levier",
    "financement_total",
    "part_droit_commun",
    "demandes",
    "delai_decision_median",
    "paiements",
    "delai_paiement_median",
    "actions_pendant",
    "nouvelles_actions_pendant",
    "taux_renouvellement",
    "operateurs_pendant",
    "nouveaux_operateurs_pendant",
    "taux_renouvellement_operateurs",
]
#: The commune values summarised per structure (min–max) by `by_structure`.
VALEURS_COMPAREES = (
    "effet_levier",
    "part_droit_commun",
    "delai_decision_median",
    "delai_paiement_median",
    "taux_renouvellement",
)


def structure_code(s: pd.Series) -> pd.Series:
    """The steering structure as stored, trimmed; empty, missing or « inconnu » → `INCONNUE`."""
    out = s.astype("string").str.strip()
    known = out.notna() & (out != "") & (out.str.lower() != "inconnu")
    return out.where(known.fillna(False).astype(bool), INCONNUE).astype(object)


def _signataire(s: pd.Series) -> np.ndarray:
    """True, False or None (unknown: never read as a non-signatory), object dtype."""
    b = s.astype("boolean")
    return np.array([None if pd.isna(v) else bool(v) for v in b], dtype=object)


def in_period(df: pd.DataFrame | None, debut: int | None, fin: int | None) -> pd.DataFrame:
    """The rows of `df` whose `annee` lies in debut..fin (either bound may be None); an absent
    table is an empty frame, an empty one is returned as it is."""
    if df is None:
        return pd.DataFrame()
    if df.empty or (debut is None and fin is None):
        return df
    a = pd.to_numeric(df["annee"], errors="coerce")
    keep = pd.Series(True, index=df.index)
    if debut is not None:
        keep &= a >= debut
    if fin is not None:
        keep &= a <= fin
    return df[keep.fillna(False).astype(bool)]


# --- co-funding per euro of specific credits, share of mainstream --------------------------------


def action_year_money(financements: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Granted amounts per action-year: *by, id_action, annee, specifique, droit_commun, total
    (`funding.specific_vs_mainstream` by action-year)."""
    keys = list(dict.fromkeys([*by, "id_action", "annee"]))
    cols = [*keys, funding.SPECIFIQUE, funding.DROIT_COMMUN, "total"]
    if financements is None or financements.empty:
        return pd.DataFrame(columns=cols)
    f = financements.assign(
        montant_accorde=pd.to_numeric(financements["montant_accorde"], errors="coerce").astype(float)
    )
    return funding.specific_vs_mainstream(f, by=keys)[cols]


def leverage_by(financements: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Co-funding per euro of specific credits per group of `by` (columns of `financements`):
    *by, actions_annees (action-years with specific credits), specifique, droit_commun (granted
    on those action-years), effet_levier (droit_commun / specifique; NaN without specific
    credits). The same definition as `funding.leverage`; one row when `by` is empty."""
    by = list(by)
    money = action_year_money(financements, by)
    money = money[money[funding.SPECIFIQUE] > 0].assign(_tout=0)
    keys = by or ["_tout"]
    out = money.groupby(keys, observed=True, dropna=False).agg(
        actions_annees=("id_action", "size"),
        specifique=(funding.SPECIFIQUE, "sum"),
        droit_commun=(funding.DROIT_COMMUN, "sum"),
    )
    if not by and out.empty:
        out = pd.DataFrame({"actions_annees": [0], "specifique": [0.0], "droit_commun": [0.0]})
    out["effet_levier"] = (out["droit_commun"] / out["specifique"]).where(out["specifique"] > 0)
    out = out.reset_index() if by else out.reset_index(drop=True)
    return out[[*by, *LEVIER_COLUMNS]]


def money_periods(
    financements: pd.DataFrame,
    *,
    annee_debut_cucs: int,
    debut: int,
    fin: int,
    base_min: float = 30,
) -> pd.DataFrame:
    """Before / during the contract (`trends.compare_periods`, pooled over each period):
    `mesure` = ``effet_levier`` (Σ mainstream / Σ specific on action-years with specific credits,
    as a ratio) and ``part_droit_commun`` (Σ mainstream / Σ granted over all funded action-years,
    in percent). `actions_annees_avant` / `_pendant`: the action-years behind each period;
    `petite_base` when either period has fewer than `base_min` of them."""
    cols = ["mesure", *trends.PERIODE_COLUMNS, "actions_annees_avant", "actions_annees_pendant"]
    money = action_year_money(financements)
    money = money[money["total"] > 0]
    if money.empty:
        return pd.DataFrame(columns=cols)
    kw = {"annee_debut_cucs": annee_debut_cucs, "debut": debut, "fin": fin, "base_min": 0}
    parts = []
    for mesure, d, num, den, echelle in (
        ("effet_levier", money[money[funding.SPECIFIQUE] > 0], funding.DROIT_COMMUN, funding.SPECIFIQUE, 1.0),
        ("part_droit_commun", money, funding.DROIT_COMMUN, "total", 100.0),
    ):
        yearly = d.groupby("annee", observed=True).agg(
            num=(num, "sum"), den=(den, "sum"), actions_annees=("id_action", "size")
        )
        yearly = yearly.reset_index()
        res = trends.compare_periods(yearly, numerateur="num", denominateur="den", echelle=echelle, **kw)
        n = trends.compare_periods(yearly, numerateur="actions_annees", denominateur="actions_annees", **kw)
        if res.empty:
            continue
        res["actions_annees_avant"] = n["numerateur_avant"].fillna(0).to_numpy()
        res["actions_annees_pendant"] = n["numerateur_pendant"].fillna(0).to_numpy()
        small = (res["actions_annees_avant"] < base_min) | (res["actions_annees_pendant"] < base_min)
        res["petite_base"] = small & res["avant_testable"]
        parts.append(res.assign(mesure=mesure))
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


# --- processing delays ---------------------------------------------------------------------------


def funding_delays(financements: pd.DataFrame) -> pd.DataFrame:
    """One row per funding request: id_action, annee, type_credit, delai_decision and
    delai_paiement in days (NaN when a date is missing or the later date precedes the
    application: an inconsistent date is not a delay)."""
    cols = ["id_action", "annee", "type_credit", *MESURES_DELAIS]
    if financements is None or financements.empty:
        return pd.DataFrame(columns=cols)
    f = financements
    depot = pd.to_datetime(f.get("date_depot"), errors="coerce")
    out = f[[c for c in ("id_action", "annee", "type_credit") if c in f.columns]].copy()
    for mesure, col in (("delai_decision", "date_decision"), ("delai_paiement", "date_paiement")):
        if col in f.columns and depot is not None:
            d = (pd.to_datetime(f[col], errors="coerce") - depot).dt.days.astype("float64")
            out[mesure] = d.where(d >= 0)
        else:
            out[mesure] = np.nan
    return out.reindex(columns=cols)


def median_delays(financements: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Median delays per group of `by` (columns of `financements`): *by, demandes (requests),
    decisions (requests with a decision delay), delai_decision_median, paiements (requests
    with a payment delay), delai_paiement_median (days; NaN without any)."""
    by = list(by)
    if financements is None or financements.empty:
        if by:
            return pd.DataFrame(columns=[*by, *DELAIS_COLUMNS])
        return pd.DataFrame([{"demandes": 0, "decisions": 0, "paiements": 0}]).reindex(columns=DELAIS_COLUMNS)
    d = funding_delays(financements)
    for c in by:
        d[c] = financements[c].to_numpy()
    d["_tout"] = 0
    out = d.groupby(by or ["_tout"], observed=True, dropna=False).agg(
        demandes=("delai_decision", "size"),
        decisions=("delai_decision", "count"),
        delai_decision_median=("delai_decision", "median"),
        paiements=("delai_paiement", "count"),
        delai_paiement_median=("delai_paiement", "median"),
    )
    out = out.reset_index() if by else out.reset_index(drop=True)
    return out[[*by, *DELAIS_COLUMNS]]


def median_delays_periods(
    financements: pd.DataFrame,
    *,
    annee_debut_cucs: int,
    debut: int,
    fin: int,
    base_min: float = 30,
) -> pd.DataFrame:
    """The median delays before vs during the contract, one row per measure (`MESURES_DELAIS`):
    years observed, requests with a delay (`n_*`) and the median of each period (`valeur_*`,
    days), difference (during − before), `avant_testable` (a year before the contract was
    observed), `petite_base` (fewer than `base_min` requests in either period). A median is
    not a pooled rate: it is taken over the requests of the whole period, never a first and a
    last year."""
    if financements is None or financements.empty:
        return pd.DataFrame(columns=DELAIS_PERIODES_COLUMNS)
    f = in_period(financements, debut, fin).copy()
    if f.empty:
        return pd.DataFrame(columns=DELAIS_PERIODES_COLUMNS)
    f["periode"] = np.where(pd.to_numeric(f["annee"]) < annee_debut_cucs, "avant", "pendant")
    d = funding_delays(f).assign(periode=f["periode"].to_numpy())
    rows = []
    for mesure in MESURES_DELAIS:
        row: dict = {"mesure": mesure}
        for p in ("avant", "pendant"):
            s = d[d["periode"] == p]
            row[f"annees_{p}"] = int(s.loc[s[mesure].notna(), "annee"].nunique())
            row[f"n_{p}"] = int(s[mesure].notna().sum())
            row[f"valeur_{p}"] = float(s[mesure].median()) if row[f"n_{p}"] else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    out["difference"] = out["valeur_pendant"] - out["valeur_avant"]
    out["avant_testable"] = out["n_avant"] > 0
    out["petite_base"] = out["avant_testable"] & ((out["n_avant"] < base_min) | (out["n_pendant"] < base_min))
    return out[DELAIS_PERIODES_COLUMNS]


def unpaid_last_year(
    financements: pd.DataFrame,
    *,
    annee_debut_cucs: int,
    debut: int,
    fin: int,
) -> dict:
    """Payment delays are right-censored: a request still unpaid when the data end has no
    payment delay, so the medians of the last year (and, less, of the whole period) only count
    the requests paid fast. For the last year of the period with requests: `annee`, its
    `demandes` and `non_payees` (requests without a payment delay), `non_payees_total` over the
    period, and the median payment delay during the contract without that year
    (`delai_paiement_pendant_sans_derniere`, days; NaN without any paid request) with its base
    (`paiements_pendant_sans_derniere`). An empty table gives zeros and NaN."""
    f = in_period(financements, debut, fin)
    if f is None or f.empty:
        return {
            "annee": None,
            "demandes": 0,
            "non_payees": 0,
            "non_payees_total": 0,
            "delai_paiement_pendant_sans_derniere": np.nan,
            "paiements_pendant_sans_derniere": 0,
        }
    d = funding_delays(f)
    annee = pd.to_numeric(d["annee"], errors="coerce")
    derniere = int(annee.max())
    unpaid = d["delai_paiement"].isna()
    last = annee == derniere
    kept = d.loc[(annee >= annee_debut_cucs) & (annee < derniere), "delai_paiement"].dropna()
    return {
        "annee": derniere,
        "demandes": int(last.sum()),
        "non_payees": int((last & unpaid).sum()),
        "non_payees_total": int(unpaid.sum()),
        "delai_paiement_pendant_sans_derniere": float(kept.median()) if len(kept) else np.nan,
        "paiements_pendant_sans_derniere": int(len(kept)),
    }


# --- renewal and innovation ------------------------------------------------------------------------


def renewal(actions: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """New actions and new operators per year of each group of `by` (columns of `actions`).

    The year's programme is its actions except those never carried out (`STATUTS_HORS_PROGRAMME`).
    An action (operator) is new in the first year it appears in the group's programme.
    Columns: *by, annee, actions, nouvelles_actions, part_nouvelles_actions, operateurs,
    nouveaux_operateurs, part_nouveaux_operateurs (shares in [0, 1]), premiere_annee (the
    group's first year: everything is "new" then, so its shares are NaN)."""
    by = list(by)
    cols = [*by, *RENOUVELLEMENT_COLUMNS]
    if actions is None or actions.empty:
        return pd.DataFrame(columns=cols)
    a = actions
    if "statut" in a.columns:
        a = a[~a["statut"].isin(STATUTS_HORS_PROGRAMME)]
    if a.empty:
        return pd.DataFrame(columns=cols)
    a = a[[*by, "id_action", "annee", *(["id_operateur"] if "id_operateur" in a.columns else [])]].copy()
    a["_tout"] = 0
    keys = by or ["_tout"]
    a["annee"] = pd.to_numeric(a["annee"]).astype("int64")
    a["_premiere_action"] = a.groupby([*keys, "id_action"], dropna=False)["annee"].transform("min")
    a["_nouvelle"] = a["_premiere_action"] == a["annee"]
    out = a.groupby([*keys, "annee"], dropna=False).agg(
        actions=("id_action", "nunique"),
    )
    nouv = a[a["_nouvelle"]].groupby([*keys, "annee"], dropna=False)["id_action"].nunique()
    out["nouvelles_actions"] = nouv.reindex(out.index).fillna(0).astype("int64")
    if "id_operateur" in a.columns:
        o = a[a["id_operateur"].notna() & (a["id_operateur"].astype("string").str.strip() != "")]
        o = o[[*keys, "annee", "id_operateur"]].drop_duplicates()
        o["_premiere"] = o.groupby([*keys, "id_operateur"], dropna=False)["annee"].transform("min")
        ops = o.groupby([*keys, "annee"], dropna=False)["id_operateur"].nunique()
        new_ops = (
            o[o["_premiere"] == o["annee"]].groupby([*keys, "annee"], dropna=False)["id_operateur"].nunique()
        )
        out["operateurs"] = ops.reindex(out.index).fillna(0).astype("int64")
        out["nouveaux_operateurs"] = new_ops.reindex(out.index).fillna(0).astype("int64")
    else:
        out["operateurs"] = 0
        out["nouveaux_operateurs"] = 0
    out = out.reset_index()
    first = out.groupby(keys, dropna=False)["annee"].transform("min")
    out["premiere_annee"] = out["annee"] == first
    for n, d in (("nouvelles_actions", "actions"), ("nouveaux_operateurs", "operateurs")):
        part = out[n] / out[d].where(out[d] > 0)
        out[f"part_{n}"] = part.where(~out["premiere_annee"])
    return out[cols].reset_index(drop=True)


def renewal_periods(
    actions: pd.DataFrame,
    *,
    annee_debut_cucs: int,
    debut: int,
    fin: int,
    by: Sequence[str] = (),
    base_min: float = 30,
) -> pd.DataFrame:
    """The share of new actions and of new operators before vs during the contract, pooled over
    each period (`trends.compare_periods`, in percent), the group's first year left out.
    Columns: *by, mesure (`MESURES_RENOUVELLEMENT`), then `trends.PERIODE_COLUMNS`."""
    by = list(by)
    cols = [*by, "mesure", *trends.PERIODE_COLUMNS]
    r = renewal(actions, by)
    r = r[~r["premiere_annee"].astype(bool)] if not r.empty else r
    if r.empty:
        return pd.DataFrame(columns=cols)
    kw = {"annee_debut_cucs": annee_debut_cucs, "debut": debut, "fin": fin, "by": by, "base_min": base_min}
    parts = []
    for mesure, den in (("nouvelles_actions", "actions"), ("nouveaux_operateurs", "operateurs")):
        res = trends.compare_periods(r, numerateur=mesure, denominateur=den, **kw)
        if not res.empty:
            parts.append(res.assign(mesure=mesure))
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


# --- every commune, every structure -----------------------------------------------------------------


def commune_indicators(
    communes: pd.DataFrame,
    actions: pd.DataFrame | None,
    financements: pd.DataFrame | None,
    *,
    annee_debut_cucs: int,
    debut: int,
    fin: int,
    etat_seul: bool = False,
) -> pd.DataFrame:
    """One row per commune of `communes` (`INDICATEURS_COLUMNS`): its structure, whether it signed
    (None when unknown) and has funding rows, and over the period [debut, fin] its co-funding per
    euro of specific credits (with its base), share of mainstream (percent), median delays (days)
    and the shares of new actions and new operators during the contract (percent, pooled, first
    year left out). A commune without funding rows has NaN figures (its reason is the report's to
    say). `etat_seul`: the funding source holds only the State's share, so the mainstream
    amount, the co-funding per euro and the share of mainstream are unknown (NaN)."""
    c = communes
    base = pd.DataFrame(
        {
            "code_commune": c["code_commune"].astype(str).to_numpy(),
            "nom": (c["nom"] if "nom" in c.columns else c["code_commune"]).astype(str).to_numpy(),
            "structure": structure_code(
                c["structure_pilotage"]
                if "structure_pilotage" in c.columns
                else pd.Series(pd.NA, index=c.index)
            ).to_numpy(),
            "signataire": (
                _signataire(c["signataire_cucs"])
                if "signataire_cucs" in c.columns
                else np.full(len(c), True, dtype=object)
            ),
        }
    ).drop_duplicates("code_commune")
    base = base.set_index("code_commune")
    have = actions is not None and not actions.empty and financements is not None and not financements.empty
    if have:
        act = in_period(actions, debut, fin)
        fin_ = funding.with_action_attrs(
            in_period(financements, debut, fin), act, ["code_commune"], how="inner"
        )
        fin_ = fin_.assign(code_commune=fin_["code_commune"].astype(str))
        act = act.assign(code_commune=act["code_commune"].astype(str))
        lev = leverage_by(fin_, ["code_commune"]).set_index("code_commune")
        money = (
            action_year_money(fin_, ["code_commune"]).groupby("code_commune")[["droit_commun", "total"]].sum()
        )
        dl = median_delays(fin_, ["code_commune"]).set_index("code_commune")
        kw = {"annee_debut_cucs": annee_debut_cucs, "debut": debut, "fin": fin, "by": ["code_commune"]}
        ren = renewal_periods(act, **kw)
        base["a_financements"] = base.index.isin(fin_["code_commune"].unique())
        base = base.join(lev).join(
            money.rename(columns={"droit_commun": "_dc", "total": "financement_total"})
        )
        base["part_droit_commun"] = (100 * base["_dc"] / base["financement_total"]).where(
            base["financement_total"] > 0
        )
        base = base.join(dl)
        for mesure, n, d, taux in (
            ("nouvelles_actions", "nouvelles_actions_pendant", "actions_pendant", "taux_renouvellement"),
            (
                "nouveaux_operateurs",
                "nouveaux_operateurs_pendant",
                "operateurs_pendant",
                "taux_renouvellement_operateurs",
            ),
        ):
            r = ren[ren["mesure"] == mesure].set_index("code_commune")
            base[n] = r["numerateur_pendant"].reindex(base.index)
            base[d] = r["denominateur_pendant"].reindex(base.index)
            base[taux] = r["valeur_pendant"].reindex(base.index)
    else:
        base["a_financements"] = False
    out = base.reset_index().reindex(columns=INDICATEURS_COLUMNS)
    out["a_financements"] = out["a_financements"].fillna(False).astype(bool)
    # A commune with funding rows but no specific credit (or no paid request) has measured zeros.
    for col in ("actions_annees", "specifique", "droit_commun", "demandes", "paiements"):
        out[col] = out[col].astype("float64").fillna(0.0).where(out["a_financements"])
    if etat_seul:
        # the source holds no mainstream line: its absence is not a measured 0 €
        for col in ("droit_commun", "effet_levier", "financement_total", "part_droit_commun"):
            out[col] = np.nan
    return out


def comparable(indicateurs: pd.DataFrame) -> pd.Series:
    """The communes a comparison of structures reads: signatory (known), with funding rows and a
    known structure."""
    if indicateurs is None or indicateurs.empty:
        return pd.Series(dtype=bool)
    return (
        indicateurs["signataire"].eq(True)
        & indicateurs["a_financements"].astype(bool)
        & (indicateurs["structure"].astype(str) != INCONNUE)
    )


def unknown_structures(indicateurs: pd.DataFrame) -> int:
    """The signatory communes with funding rows whose steering structure is unknown: left out
    of the comparison of structures (never a structure class of their own)."""
    if indicateurs is None or indicateurs.empty:
        return 0
    i = indicateurs
    return int(
        (
            i["signataire"].eq(True)
            & i["a_financements"].astype(bool)
            & (i["structure"].astype(str) == INCONNUE)
        ).sum()
    )


def by_structure(indicateurs: pd.DataFrame) -> pd.DataFrame:
    """Per known steering structure, over the signatory communes that have funding (`comparable`:
    an unknown structure or signatory status is left out, `unknown_structures` counts them): communes,
    specifique and droit_commun summed and the pooled co-funding per euro of specific credits
    (`effet_levier`, Σ droit_commun / Σ specifique: the structure's figure), and for each of
    `VALEURS_COMPAREES` the spread of the commune values (`<v>_min`, `<v>_max`, `<v>_n`: the
    communes with a value). Largest pooled co-funding first (an order, not a ranking)."""
    spread = [f"{v}_{s}" for v in VALEURS_COMPAREES for s in ("min", "max", "n")]
    cols = ["structure", "communes", "specifique", "droit_commun", "effet_levier", *spread]
    if indicateurs is None or indicateurs.empty:
        return pd.DataFrame(columns=cols)
    d = indicateurs[comparable(indicateurs)]
    if d.empty:
        return pd.DataFrame(columns=cols)
    g = d.groupby("structure", observed=True)
    out = g.agg(communes=("code_commune", "nunique"))
    # min_count: an unknown mainstream amount (State-only source) stays unknown, not 0 €
    out["specifique"] = g["specifique"].sum(min_count=1)
    out["droit_commun"] = g["droit_commun"].sum(min_count=1)
    out["effet_levier"] = (out["droit_commun"] / out["specifique"]).where(out["specifique"] > 0)
    for v in VALEURS_COMPAREES:
        out[f"{v}_min"] = g[v].min()
        out[f"{v}_max"] = g[v].max()
        out[f"{v}_n"] = g[v].count()
    out = out.reset_index().sort_values(["effet_levier", "structure"], ascending=[False, True], kind="stable")
    return out[cols].reset_index(drop=True)
