"""Money: specific credits vs mainstream ("droit commun"), substitution typology, leverage.

Pure functions on the project's tables (column names of `cucs_analysis.data.schema`): DataFrames in,
DataFrames or small values out; no I/O, no plotting. Amounts are `montant_accorde` (granted)
unless stated otherwise. The substitution rule is exactly the one of docs/rules.md.

Codes and numbers only: the French reading of a substitution type (why a domain got it) is
written by the report from the `motif` code and the numbers (`reports.q1.raison_substitution`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cucs_analysis.analysis import trends

SPECIFIQUE = "specifique"
DROIT_COMMUN = "droit_commun"

TYPES_SUBSTITUTION = ("complementarite", "substitution_temporaire", "substitution_durable", "indetermine")
#: Codes of the reason of a substitution type (`classify_substitution`, details["motif"]).
MOTIFS_SUBSTITUTION = (
    "base_absente",
    "base_nulle",
    "sans_credits_specifiques",
    "serie_courte",
    "aucune_annee_sous_seuil",
    "serie_longue",
    "finit_sous_seuil",
    "reprise",
)

SUBSTITUTION_COLUMNS = [
    "code_territoire",
    "domaine",
    "type",
    "base",
    "derniere_valeur",
    "annees_sous_seuil",
    "plus_longue_serie",
    "annees_observees",
    "motif",
    "debut_plus_longue_serie",
]

# Statuses under which an action is considered running in a given year.
_STATUTS_EN_COURS = ("programmée", "réalisée")


# --- small helpers ---------------------------------------------------------------------------


def with_action_attrs(
    financements: pd.DataFrame, actions: pd.DataFrame, cols: Sequence[str], how: str = "left"
) -> pd.DataFrame:
    """Add action attributes (thematique, dispositif, code_commune, …) to funding rows via
    (id_action, annee); `how="inner"` keeps only the funding rows of an action-year of `actions`."""
    cols = [c for c in cols if c not in financements.columns]
    if not cols:
        return financements
    attrs = actions[["id_action", "annee", *cols]].drop_duplicates(["id_action", "annee"])
    return financements.merge(attrs, on=["id_action", "annee"], how=how, validate="many_to_one")


def _by_credit_type(fin: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Granted amounts in two columns (specifique, droit_commun) by `by`."""
    out = (
        fin.groupby([*by, "type_credit"], dropna=False, observed=True)["montant_accorde"]
        .sum()
        .unstack("type_credit", fill_value=0.0)
    )
    out = out.reindex(columns=[SPECIFIQUE, DROIT_COMMUN], fill_value=0.0)
    out.columns.name = None
    return out.astype(float)


def _runs(flags: pd.Series) -> pd.Series:
    """Length of the run of consecutive True values ending at each position (0 where False).

    Vectorised: a new group starts at every False, so the cumulative sum of the flags within
    a group is the length of the current run.
    """
    f = flags.astype(bool).to_numpy()
    groups = np.cumsum(~f)
    run = pd.Series(f.astype(int)).groupby(groups).cumsum().to_numpy()
    return pd.Series(run, index=flags.index)


# --- specific vs mainstream ------------------------------------------------------------------


def specific_vs_mainstream(
    financements: pd.DataFrame, actions: pd.DataFrame | None = None, by: Sequence[str] = ("annee",)
) -> pd.DataFrame:
    """Granted amounts by credit type and the mainstream share, by `by`.

    `by` may name any column of `financements` (annee, institution, financeur…) or of
    `actions` (thematique, dispositif, code_quartier…), joined on (id_action, annee).
    Columns: *by, specifique, droit_commun, total, part_droit_commun (share in [0, 1], NaN
    when the total is 0).
    """
    by = list(by)
    fin = financements
    if actions is not None:
        fin = with_action_attrs(fin, actions, by)
    out = _by_credit_type(fin, by)
    out["total"] = out[SPECIFIQUE] + out[DROIT_COMMUN]
    out["part_droit_commun"] = (out[DROIT_COMMUN] / out["total"]).where(out["total"] > 0)
    return out.reset_index()


def funding_by_source(
    financements: pd.DataFrame, by: Sequence[str] = ("institution", "annee")
) -> pd.DataFrame:
    """Requested and granted amounts by funder group (default institution × year).

    Columns: *by, montant_demande (NaN when every request is unknown), montant_accorde, actions
    (distinct funded actions), demande_inconnue (rows whose request is unknown), taux_accord
    (granted / requested over the rows whose request is known), part_annee (share of the year's granted total, when
    `annee` is in `by`).
    """
    by = list(by)
    # An unknown requested amount (NA) is not 0: taux_accord is computed on the rows whose
    # request is known only (same base for both sums); demande_inconnue counts the rows left out.
    fin = financements.assign(
        montant_demande=pd.to_numeric(financements["montant_demande"], errors="coerce").astype(float),
        montant_accorde=pd.to_numeric(financements["montant_accorde"], errors="coerce").astype(float),
    )
    connue = fin["montant_demande"].notna()
    fin["_accorde_base"] = fin["montant_accorde"].where(connue)
    fin["_inconnue"] = (~connue).astype(int)
    g = fin.groupby(by, dropna=False, observed=True)
    out = g.agg(
        montant_accorde=("montant_accorde", "sum"),
        actions=("id_action", "nunique"),
        demande_inconnue=("_inconnue", "sum"),
    )
    # NaN (not 0) where every request of the group is unknown; vectorised (no Python lambda).
    sommes = g[["montant_demande", "_accorde_base"]].sum(min_count=1)
    out = out.join(sommes).reset_index()
    out = out[[*by, "montant_demande", "montant_accorde", "actions", "_accorde_base", "demande_inconnue"]]
    out["taux_accord"] = (out["_accorde_base"] / out["montant_demande"]).where(out["montant_demande"] > 0)
    out = out.drop(columns="_accorde_base")
    if "annee" in by:
        total = out.groupby("annee")["montant_accorde"].transform("sum")
        out["part_annee"] = (out["montant_accorde"] / total).where(total > 0)
    return out


def mainstream_by_institution_domain(
    droit_commun: pd.DataFrame,
    code_territoire: str,
    annees: Sequence[int] | None = None,
    mesure: str = "credits",
    niveau: str | None = None,
) -> pd.DataFrame:
    """Institution × domain matrix of mainstream means in a territory (sum over `annees`).

    For the default mesure "credits" the values are euros. Rows: institutions, columns: domains
    (only those with data); empty frame when nothing matches.
    """
    dc = droit_commun[
        (droit_commun["code_territoire"] == code_territoire) & (droit_commun["mesure"] == mesure)
    ]
    if niveau is not None:
        dc = dc[dc["niveau"] == niveau]
    if annees is not None:
        dc = dc[dc["annee"].isin(list(annees))]
    out = dc.pivot_table(
        index="institution", columns="domaine", values="valeur", aggfunc="sum", fill_value=0.0, observed=True
    )
    out.index.name = "institution"
    out.columns.name = "domaine"
    return out.astype(float)


# --- dispositifs -------------------------------------------------------------------------------


STATUT_REALISEE = "réalisée"
STATUT_PROGRAMMEE = "programmée"  # still running (the last year of the data): not yet closed
STATUTS_NON_REALISEES = ("non pourvue", "abandonnée")

REALISATION_COLUMNS = [
    "actions_annees",
    "annees_realisees",
    "annees_en_cours",
    "annees_non_pourvues",
    "annees_abandonnees",
    "prevus",
    "prevus_realisees",
    "realises",
    "taux_realisation",
    "prevus_non_realisees",
    "annees_statut_inconnu",  # status unknown (NA): counted apart, never a status
    "annees_hors_taux",  # realised with an achieved figure but planned unknown: left out of the rate
]


def realisation(actions: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Achievement of planned beneficiaries, numerator and denominator on one base.

    Per group of `by` (one row for the whole table when empty), counted in action-years:
    actions_annees (all), annees_realisees, annees_en_cours (status "programmée"),
    annees_non_pourvues, annees_abandonnees; prevus (planned beneficiaries, all rows);
    prevus_realisees and realises (planned and achieved over the same rows: realised action-years
    that report an achieved figure); taux_realisation = realises / prevus_realisees (NaN when the
    base is 0); prevus_non_realisees (planned beneficiaries of actions never carried out or
    abandoned, named apart rather than mixed into the rate). An unknown status (NA) is counted
    in annees_statut_inconnu, never as a status; a realised year whose planned figure is unknown
    is left out of the rate and counted in annees_hors_taux.
    """
    by = list(by)
    if actions.empty:
        return pd.DataFrame(columns=[*by, *REALISATION_COLUMNS])
    statut = actions["statut"]
    inconnu = statut.isna()
    st = statut.astype(object).where(~inconnu, "").astype(str)
    prevus = pd.to_numeric(actions["beneficiaires_prevus"], errors="coerce").astype(float)
    realises = pd.to_numeric(actions["beneficiaires_realises"], errors="coerce").astype(float)
    mesure = (st == STATUT_REALISEE) & realises.notna()
    done = mesure & prevus.notna()
    not_done = st.isin(STATUTS_NON_REALISEES)
    work = pd.DataFrame(
        {
            "actions_annees": 1,
            "annees_realisees": (st == STATUT_REALISEE).astype(int),
            "annees_en_cours": (st == STATUT_PROGRAMMEE).astype(int),
            "annees_non_pourvues": (st == "non pourvue").astype(int),
            "annees_abandonnees": (st == "abandonnée").astype(int),
            "prevus": prevus.fillna(0.0),
            "prevus_realisees": prevus.where(done, 0.0).fillna(0.0),
            "realises": realises.where(done, 0.0),
            "prevus_non_realisees": prevus.where(not_done, 0.0).fillna(0.0),
            "annees_statut_inconnu": inconnu.astype(int),
            "annees_hors_taux": (mesure & prevus.isna()).astype(int),
        },
        index=actions.index,
    )
    if by:
        for c in by:
            work[c] = actions[c]
        out = work.groupby(by, observed=True, dropna=False).sum().reset_index()
    else:
        out = work.sum().to_frame().T
    out["taux_realisation"] = (out["realises"] / out["prevus_realisees"]).where(out["prevus_realisees"] > 0)
    counts = [c for c in REALISATION_COLUMNS if c.startswith(("actions_", "annees_"))]
    out[counts] = out[counts].astype("int64")
    return out[[*by, *REALISATION_COLUMNS]].reset_index(drop=True)


def dispositif_dashboard(actions: pd.DataFrame, financements: pd.DataFrame) -> pd.DataFrame:
    """One row per dispositif: actions, budget and years.

    Columns: dispositif, actions (distinct id_action), actions_annees, budget (granted, all
    credit types), budget_specifique, budget_droit_commun, premiere_annee, derniere_annee,
    pente_budget (OLS slope of the yearly budget, € per year; NaN with fewer than two years).
    Achievement is `realisation` (one base) and an evolution is `trends.compare_periods`
    (before / during the contract): neither a mixed-base rate nor a first-year / last-year
    change is computed here, so neither can be shown by mistake.
    """
    cols = [
        "dispositif",
        "actions",
        "actions_annees",
        "budget",
        "budget_specifique",
        "budget_droit_commun",
        "premiere_annee",
        "derniere_annee",
        "pente_budget",
    ]
    if actions.empty:
        return pd.DataFrame(columns=cols)
    act = actions.copy()
    base = act.groupby("dispositif", observed=True).agg(
        actions=("id_action", "nunique"), actions_annees=("id_action", "size")
    )

    fin = with_action_attrs(financements, actions, ["dispositif"])
    fin = fin[fin["dispositif"].notna()]
    money = _by_credit_type(fin, ["dispositif"]).rename(
        columns={SPECIFIQUE: "budget_specifique", DROIT_COMMUN: "budget_droit_commun"}
    )
    money["budget"] = money["budget_specifique"] + money["budget_droit_commun"]

    # Yearly budget per dispositif over the years the dispositif has actions (0 when unfunded).
    years = act[["dispositif", "annee"]].drop_duplicates()
    yearly = (
        fin.groupby(["dispositif", "annee"], observed=True)["montant_accorde"].sum().rename("b").reset_index()
    )
    yearly = years.merge(yearly, on=["dispositif", "annee"], how="left").fillna({"b": 0.0})
    # Plain floats: nullable Int64 years would turn the slope into pd.NA instead of NaN.
    yearly = yearly.astype({"annee": "float64", "b": "float64"})
    yearly = yearly.sort_values(["dispositif", "annee"])
    g = yearly.groupby("dispositif", observed=True)
    trend = g.agg(premiere_annee=("annee", "min"), derniere_annee=("annee", "max"))
    trend = trend.astype({"premiere_annee": "int64", "derniere_annee": "int64"})
    # OLS slope = cov(year, budget) / var(year), computed from centred columns.
    yearly["_x"] = yearly["annee"] - g["annee"].transform("mean")
    yearly["_y"] = yearly["b"] - g["b"].transform("mean")
    yearly["_xy"] = yearly["_x"] * yearly["_y"]
    yearly["_xx"] = yearly["_x"] ** 2
    s = yearly.groupby("dispositif", observed=True)[["_xy", "_xx"]].sum()
    trend["pente_budget"] = (s["_xy"] / s["_xx"]).where(s["_xx"] > 0)

    out = base.join(money, how="left").join(trend, how="left")
    out[["budget", "budget_specifique", "budget_droit_commun"]] = out[
        ["budget", "budget_specifique", "budget_droit_commun"]
    ].fillna(0.0)
    out = out.reset_index().sort_values("budget", ascending=False, kind="stable")
    return out[cols].reset_index(drop=True)


# --- substitution typology ---------------------------------------------------------------------


def classify_substitution(
    dc: pd.Series,
    sp: pd.Series,
    annees_reference: Sequence[int] = (2005, 2006),
    annee_debut: int = 2007,
    tolerance: float = 0.10,
    duree_max: int = 3,
) -> tuple[str, dict[str, Any]]:
    """Substitution type of one territory × domain (docs/rules.md, q1).

    `dc`: mainstream credits by year (index = year), `sp`: specific credits by year.
    A year t >= annee_debut is *below* when DC_t < (1 - tolerance) * B, B the mean of DC over
    `annees_reference` (a value exactly at the threshold is not below). Runs of consecutive
    below-years count calendar years: a year without a DC value breaks a run.

    - indetermine: B missing or 0, no specific credits at all (sum over every year of `sp`
      is 0), fewer than duree_max + 1 observed DC years from annee_debut on, or a series
      that ends below with a run of at most duree_max years (too early to say);
    - complementarite: no year below;
    - substitution_durable: the longest run of below-years is longer than duree_max;
    - substitution_temporaire: some years below, longest run <= duree_max, last observed
      year not below.

    Returns (type, details) with details: base, derniere_valeur, annees_sous_seuil (count),
    liste_annees_sous_seuil, plus_longue_serie, debut_plus_longue_serie (first year of the
    longest run, None without one), annees_observees, seuil, motif (the code of the reason,
    one of MOTIFS_SUBSTITUTION; the report writes the French sentence from it).
    """
    dc = pd.Series(dc, dtype=float).dropna().sort_index()
    sp = pd.Series(sp, dtype=float).fillna(0.0)
    ref = dc[dc.index.isin(list(annees_reference))]
    base = float(ref.mean()) if len(ref) else float("nan")
    obs = dc[dc.index >= annee_debut]
    seuil = (1 - tolerance) * base if np.isfinite(base) else float("nan")
    details: dict[str, Any] = {
        "base": base,
        "derniere_valeur": float(obs.iloc[-1]) if len(obs) else float("nan"),
        "annees_sous_seuil": 0,
        "liste_annees_sous_seuil": [],
        "plus_longue_serie": 0,
        "annees_observees": len(obs),
        "seuil": seuil,
        "debut_plus_longue_serie": None,
        "motif": "",
    }
    if not np.isfinite(base) or base == 0:
        details["motif"] = "base_absente" if not np.isfinite(base) else "base_nulle"
        return "indetermine", details
    if not (sp.sum() > 0):
        details["motif"] = "sans_credits_specifiques"
        return "indetermine", details
    if len(obs) < duree_max + 1:
        details["motif"] = "serie_courte"
        return "indetermine", details

    # A value equal to the threshold up to rounding noise is not below (rule: strict <).
    below = (obs < seuil) & ~np.isclose(obs, seuil, rtol=1e-12, atol=0.0)
    years = np.arange(int(obs.index.min()), int(obs.index.max()) + 1)
    below_cal = below.reindex(years, fill_value=False)
    runs = _runs(below_cal)
    longest = int(runs.max())
    details["annees_sous_seuil"] = int(below.sum())
    details["liste_annees_sous_seuil"] = [int(y) for y in below.index[below.to_numpy()]]
    details["plus_longue_serie"] = longest
    if longest:
        fin_serie = int(years[int(np.argmax(runs.to_numpy()))])  # the year the first longest run ends
        details["debut_plus_longue_serie"] = fin_serie - longest + 1

    if longest == 0:
        details["motif"] = "aucune_annee_sous_seuil"
        return "complementarite", details
    if longest > duree_max:
        details["motif"] = "serie_longue"
        return "substitution_durable", details
    if bool(below.iloc[-1]):
        details["motif"] = "finit_sous_seuil"
        return "indetermine", details
    details["motif"] = "reprise"
    return "substitution_temporaire", details


def substitution_series(
    droit_commun: pd.DataFrame, financements: pd.DataFrame, actions: pd.DataFrame, code_commune: str
) -> pd.DataFrame:
    """Yearly DC_t and SP_t of one commune by domain (long: domaine, annee, dc, sp).

    DC_t: droit_commun credits (mesure "credits") at niveau commune for that commune, all
    institutions; SP_t: specific credits granted to the commune's actions of that domain.
    `dc` is NaN for a year without mainstream data.
    """
    dc = droit_commun[
        (droit_commun["mesure"] == "credits")
        & (droit_commun["niveau"] == "commune")
        & (droit_commun["code_territoire"] == code_commune)
    ]
    dc = dc.groupby(["domaine", "annee"], observed=True)["valeur"].sum().rename("dc")
    act = actions[actions["code_commune"] == code_commune]
    fin = financements[financements["type_credit"] == SPECIFIQUE]
    fin = fin.merge(
        act[["id_action", "annee", "thematique"]].drop_duplicates(["id_action", "annee"]),
        on=["id_action", "annee"],
        how="inner",
    )
    sp = fin.groupby(["thematique", "annee"], observed=True)["montant_accorde"].sum().rename("sp")
    sp.index = sp.index.set_names(["domaine", "annee"])
    out = pd.concat([dc, sp], axis=1).reset_index()
    out["sp"] = out["sp"].fillna(0.0)
    out["domaine"] = out["domaine"].astype(str)
    return out.sort_values(["domaine", "annee"]).reset_index(drop=True)


def substitution_typology(
    droit_commun: pd.DataFrame,
    financements: pd.DataFrame,
    actions: pd.DataFrame,
    code_commune: str,
    annees_reference: Sequence[int] = (2005, 2006),
    annee_debut: int = 2007,
    tolerance: float = 0.10,
    duree_max: int = 3,
) -> pd.DataFrame:
    """Substitution type per domain of one commune (docs/rules.md q1), one row per domain with
    data (mainstream or specific). Columns: code_territoire, domaine, type, base,
    derniere_valeur, annees_sous_seuil (count), plus_longue_serie, annees_observees (years
    observed from annee_debut on), motif (code of the reason, MOTIFS_SUBSTITUTION),
    debut_plus_longue_serie (first year of the longest run below, <NA> without one)."""
    series = substitution_series(droit_commun, financements, actions, code_commune)
    if series.empty:
        return pd.DataFrame(columns=SUBSTITUTION_COLUMNS)

    def one(g: pd.DataFrame) -> pd.Series:
        type_, d = classify_substitution(
            g.set_index("annee")["dc"],
            g.set_index("annee")["sp"],
            annees_reference=annees_reference,
            annee_debut=annee_debut,
            tolerance=tolerance,
            duree_max=duree_max,
        )
        return pd.Series(
            {
                "type": type_,
                "base": d["base"],
                "derniere_valeur": d["derniere_valeur"],
                "annees_sous_seuil": d["annees_sous_seuil"],
                "plus_longue_serie": d["plus_longue_serie"],
                "annees_observees": d["annees_observees"],
                "motif": d["motif"],
                "debut_plus_longue_serie": d["debut_plus_longue_serie"],
            }
        )

    out = series.groupby("domaine")[["annee", "dc", "sp"]].apply(one).reset_index()
    out.insert(0, "code_territoire", code_commune)
    out["annees_sous_seuil"] = out["annees_sous_seuil"].astype(int)
    out["plus_longue_serie"] = out["plus_longue_serie"].astype(int)
    out["annees_observees"] = out["annees_observees"].astype(int)
    out["base"] = out["base"].astype(float)
    out["derniere_valeur"] = out["derniere_valeur"].astype(float)
    out["debut_plus_longue_serie"] = pd.to_numeric(out["debut_plus_longue_serie"]).astype("Int64")
    return out[SUBSTITUTION_COLUMNS]


# --- actions whose future depends on a mainstream takeover ---------------------------------------


def actions_at_stake(
    actions: pd.DataFrame,
    financements: pd.DataFrame,
    seuil_specifique: float = 0.8,
    duree_min: int = 3,
    annee_fin: int | None = None,
) -> pd.DataFrame:
    """Actions whose continuation depends on a mainstream takeover (effet levier at stake).

    Rule: an action-year is *mostly specific* when specific credits are >= `seuil_specifique`
    (80 %) of its granted funding (years with no granted funding are not). An action is at
    stake when it runs in the last year `annee_fin` (default: last year of `actions`), with
    status programmée or réalisée, and its years mostly specific form a run of at least
    `duree_min` (3) consecutive calendar years ending in that last year.

    Columns: id_action, intitule, thematique, dispositif, id_operateur, code_quartier,
    annees_consecutives, debut_serie, montant_specifique (last year), montant_total (last
    year), part_specifique (last year); sorted by montant_specifique, largest first.
    """
    cols = [
        "id_action",
        "intitule",
        "thematique",
        "dispositif",
        "id_operateur",
        "code_quartier",
        "annees_consecutives",
        "debut_serie",
        "montant_specifique",
        "montant_total",
        "part_specifique",
    ]
    if actions.empty:
        return pd.DataFrame(columns=cols)
    if annee_fin is None:
        annee_fin = int(actions["annee"].max())
    money = _by_credit_type(financements, ["id_action", "annee"]).reset_index()
    money["montant_total"] = money[SPECIFIQUE] + money[DROIT_COMMUN]
    money["part_specifique"] = (money[SPECIFIQUE] / money["montant_total"]).where(money["montant_total"] > 0)
    money["_maj"] = money["part_specifique"] >= seuil_specifique

    # Complete calendar of each action up to annee_fin so that a missing year breaks a run.
    span = money[money["annee"] <= annee_fin].groupby("id_action")["annee"].min()
    lengths = annee_fin - span.to_numpy().astype(int) + 1
    starts = np.repeat(span.to_numpy().astype(int), lengths)
    # Position within each action's block: global position minus the block's first position.
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    cal = pd.DataFrame({"id_action": span.index.repeat(lengths), "annee": starts + offsets})
    cal = cal.merge(money, on=["id_action", "annee"], how="left")
    cal["_maj"] = cal["_maj"].fillna(False).astype(bool)
    cal = cal.sort_values(["id_action", "annee"]).reset_index(drop=True)
    # Run length per action: a new group at every non-majority year or new action.
    new_group = (~cal["_maj"]) | (cal["id_action"] != cal["id_action"].shift())
    grp = new_group.cumsum()
    cal["_run"] = cal["_maj"].astype(int).groupby(grp).cumsum()

    last = cal[cal["annee"] == annee_fin]
    last = last[last["_run"] >= duree_min]
    running = actions[(actions["annee"] == annee_fin) & actions["statut"].isin(_STATUTS_EN_COURS)]
    attrs = running[["id_action", "intitule", "thematique", "dispositif", "id_operateur", "code_quartier"]]
    out = attrs.merge(last, on="id_action", how="inner")
    out["annees_consecutives"] = out["_run"].astype(int)
    out["debut_serie"] = (annee_fin - out["annees_consecutives"] + 1).astype(int)
    out = out.rename(columns={SPECIFIQUE: "montant_specifique"})
    out = out.sort_values(["montant_specifique", "id_action"], ascending=[False, True], kind="stable")
    return out[cols].reset_index(drop=True)


# --- leverage --------------------------------------------------------------------------------


def leverage(financements: pd.DataFrame, by: Sequence[str] | None = None) -> float | pd.DataFrame:
    """Co-funding per euro of specific credits (docs/rules.md q7).

    Over action-years that receive specific credits (granted > 0):
    sum(droit_commun granted) / sum(specifique granted). Without `by`, a float (NaN when no
    specific credits); with `by` (columns of `financements`, e.g. annee or a column joined
    beforehand such as structure_pilotage), a DataFrame: *by, specifique, droit_commun,
    effet_levier.
    """
    by = list(by) if by is not None else []
    keys = list(dict.fromkeys(["id_action", "annee", *by]))
    money = _by_credit_type(financements, keys).reset_index()
    money = money[money[SPECIFIQUE] > 0]
    if not by:
        sp = money[SPECIFIQUE].sum()
        return float(money[DROIT_COMMUN].sum() / sp) if sp > 0 else float("nan")
    out = money.groupby(by, observed=True)[[SPECIFIQUE, DROIT_COMMUN]].sum().reset_index()
    out["effet_levier"] = out[DROIT_COMMUN] / out[SPECIFIQUE]
    return out


def actions_in_durable_domains(
    actions: pd.DataFrame, financements: pd.DataFrame, substitution: pd.DataFrame
) -> pd.DataFrame:
    """Actions running in the last year whose domain is in durable substitution: the specific
    credits stand in for mainstream means, so their future depends on a takeover.

    Columns: id_action, intitule, thematique, dispositif, montant_specifique,
    montant_droit_commun (last year); largest specific amount first.
    """
    cols = ["id_action", "intitule", "thematique", "dispositif", "montant_specifique", "montant_droit_commun"]
    domaines = substitution.loc[substitution["type"] == "substitution_durable", "domaine"].astype(str)
    if actions.empty or domaines.empty:
        return pd.DataFrame(columns=cols)
    last = int(actions["annee"].max())
    act = actions[
        (actions["annee"] == last)
        & actions["statut"].isin(["programmée", "réalisée"])
        & actions["thematique"].astype(str).isin(set(domaines))
    ]
    fin = financements[financements["annee"] == last]
    money = specific_vs_mainstream(fin, by=("id_action",))
    out = act[["id_action", "intitule", "thematique", "dispositif"]].merge(money, on="id_action", how="left")
    out = out.rename(columns={SPECIFIQUE: "montant_specifique", DROIT_COMMUN: "montant_droit_commun"})
    out[["montant_specifique", "montant_droit_commun"]] = out[
        ["montant_specifique", "montant_droit_commun"]
    ].fillna(0.0)
    out = out.sort_values(["montant_specifique", "id_action"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)[cols]


# --- constant euros ------------------------------------------------------------------------------


def price_factors(inflation: Mapping[int, float], annee_reference: int) -> pd.Series:
    """Factors that turn current euros of each year into euros of `annee_reference`.

    `inflation`: the annual change of consumer prices by year, as a fraction (year t against
    year t-1: 0.018 for +1.8 %), with no gap. The price level is P(t) = P(t-1) · (1 + r_t), so
    the table reaches from its first year minus one to its last; the factor of year t is
    P(annee_reference) / P(t) (above 1 for a year before the reference when prices rose).
    Returns a Series indexed by year (int). ValueError on a gap or a reference out of reach.
    """
    if not inflation:
        raise ValueError("price_factors: empty inflation table")
    years = sorted(int(y) for y in inflation)
    gaps = sorted(set(range(years[0], years[-1] + 1)) - set(years))
    if gaps:
        raise ValueError(f"price_factors: no inflation rate for {gaps}")
    rates = np.array([float(inflation[y]) for y in years])
    index = pd.Series(
        np.concatenate([[1.0], np.cumprod(1.0 + rates)]), index=range(years[0] - 1, years[-1] + 1)
    )
    if int(annee_reference) not in index.index:
        raise ValueError(
            f"price_factors: reference year {annee_reference} outside {years[0] - 1}-{years[-1]}"
        )
    return (index[int(annee_reference)] / index).rename("facteur")


def to_constant_euros(
    df: pd.DataFrame, facteurs: pd.Series, colonne: str, annee: str = "annee"
) -> pd.DataFrame:
    """A copy of `df` whose `colonne` (current euros) is in constant euros: multiplied by the
    factor of its year (`price_factors`). ValueError when a year of `df` has no factor."""
    if df.empty:
        return df.copy()
    years = pd.to_numeric(df[annee]).astype("int64")
    missing = sorted(set(years) - set(int(y) for y in facteurs.index))
    if missing:
        raise ValueError(f"to_constant_euros: no price factor for {missing}")
    out = df.copy()
    out[colonne] = out[colonne].astype(float) * years.map(facteurs).to_numpy()
    return out


def deflate_mainstream(droit_commun: pd.DataFrame, facteurs: pd.Series) -> pd.DataFrame:
    """`droit_commun` with its euro rows (mesure "credits") in constant euros, other means as is."""
    if droit_commun.empty:
        return droit_commun.copy()
    euros = droit_commun["mesure"] == "credits"
    out = droit_commun.copy()
    out["valeur"] = out["valeur"].astype(float)
    out.loc[euros, "valeur"] = to_constant_euros(droit_commun[euros], facteurs, "valeur")["valeur"]
    return out


# --- dispositifs over the periods, their actions, and the mainstream of their domain ------------


def dispositif_yearly_budget(
    actions: pd.DataFrame, financements: pd.DataFrame, by: Sequence[str] = ("dispositif",)
) -> pd.DataFrame:
    """Granted funding per group of `by` (columns of `actions`) and year, over the years the group
    has actions (0 € for a year with actions but no funding; no row for a year without actions).
    Columns: *by, annee, budget, budget_specifique, budget_droit_commun."""
    by = list(by)
    cols = [*by, "annee", "budget", "budget_specifique", "budget_droit_commun"]
    if actions.empty:
        return pd.DataFrame(columns=cols)
    years = actions[[*by, "annee"]].drop_duplicates()
    fin = with_action_attrs(financements, actions, by)
    fin = fin.dropna(subset=by)
    money = _by_credit_type(fin, [*by, "annee"]).reset_index()
    money = money.rename(columns={SPECIFIQUE: "budget_specifique", DROIT_COMMUN: "budget_droit_commun"})
    out = years.merge(money, on=[*by, "annee"], how="left")
    out[["budget_specifique", "budget_droit_commun"]] = (
        out[["budget_specifique", "budget_droit_commun"]].astype(float).fillna(0.0)
    )
    out["budget"] = out["budget_specifique"] + out["budget_droit_commun"]
    out["annee"] = out["annee"].astype("int64")
    return out.sort_values([*by, "annee"]).reset_index(drop=True)[cols]


def main_actions(
    actions: pd.DataFrame, financements: pd.DataFrame, by: Sequence[str] = ("dispositif",), n: int = 3
) -> pd.DataFrame:
    """The `n` actions with the largest granted funding in each group of `by` (the programmes by
    name, not only euros). Columns: *by, rang, id_action, intitule, id_operateur,
    premiere_annee, derniere_annee, annees (action-years), budget, budget_specifique;
    groups in the order of `by`, actions largest first."""
    by = list(by)
    cols = [
        *by,
        "rang",
        "id_action",
        "intitule",
        "id_operateur",
        "premiere_annee",
        "derniere_annee",
        "annees",
        "budget",
        "budget_specifique",
    ]
    if actions.empty:
        return pd.DataFrame(columns=cols)
    keys = [*by, "id_action"]
    a = actions.groupby(keys, observed=True, dropna=False).agg(
        intitule=("intitule", "last"),
        id_operateur=("id_operateur", "last"),
        premiere_annee=("annee", "min"),
        derniere_annee=("annee", "max"),
        annees=("annee", "nunique"),
    )
    money = (
        dispositif_yearly_budget(actions, financements, keys)
        .groupby(keys, observed=True)[["budget", "budget_specifique"]]
        .sum()
    )
    out = a.join(money, how="left").fillna({"budget": 0.0, "budget_specifique": 0.0}).reset_index()
    out = out.sort_values([*by, "budget", "id_action"], ascending=[*([True] * len(by)), False, True])
    out["rang"] = out.groupby(by, observed=True).cumcount() + 1
    out = out[out["rang"] <= n]
    out[["premiere_annee", "derniere_annee", "annees"]] = out[
        ["premiere_annee", "derniere_annee", "annees"]
    ].astype("int64")
    return out.reset_index(drop=True)[cols]


CROISEMENT_COLUMNS = [
    "dispositif",
    "domaine",
    "sp_annees_avant",
    "sp_avant",
    "sp_annees_pendant",
    "sp_pendant",
    "dc_annees_avant",
    "dc_avant",
    "dc_annees_pendant",
    "dc_pendant",
    "dc_difference",
    "dc_avant_testable",
    "type",
]


def dispositif_mainstream_cross(
    actions: pd.DataFrame,
    financements: pd.DataFrame,
    droit_commun: pd.DataFrame,
    code_commune: str,
    substitution: pd.DataFrame,
    *,
    annee_debut_cucs: int,
    debut: int,
    fin: int,
) -> pd.DataFrame:
    """Each dispositif beside the mainstream credits of its domain: the « cohérence » question.

    One row per dispositif × domain (`thematique`) of the commune's actions: the dispositif's
    specific credits (mean per year over the years it has actions) before the contract
    (debut..annee_debut_cucs-1) and during it (annee_debut_cucs..fin); the domain's mainstream
    credits (`droit_commun`, mesure "credits", niveau commune, all institutions: mean per year
    of each period) and their difference; `dc_avant_testable` (mainstream observed before);
    `type`, the domain's substitution type (`substitution_typology`). Means are NaN for a
    period without a year; the caller chooses the euros (give deflated tables for constant euros).
    """
    # An action of unknown domain (thematique NA) is in no domain: counted apart by the caller.
    actions = actions[actions["thematique"].notna()]
    if actions.empty:
        return pd.DataFrame(columns=CROISEMENT_COLUMNS)
    periodes = {"annee_debut_cucs": annee_debut_cucs, "debut": debut, "fin": fin}
    act = actions.assign(
        domaine=actions["thematique"].astype(str), dispositif=actions["dispositif"].astype(str)
    )
    sp = dispositif_yearly_budget(act, financements, ("dispositif", "domaine"))
    sp_cmp = trends.compare_periods(sp, by=["dispositif", "domaine"], valeur="budget_specifique", **periodes)
    sp_cmp = sp_cmp.rename(
        columns={
            "annees_avant": "sp_annees_avant",
            "valeur_avant": "sp_avant",
            "annees_pendant": "sp_annees_pendant",
            "valeur_pendant": "sp_pendant",
        }
    )[["dispositif", "domaine", "sp_annees_avant", "sp_avant", "sp_annees_pendant", "sp_pendant"]]
    dc = droit_commun[
        (droit_commun["mesure"] == "credits")
        & (droit_commun["niveau"] == "commune")
        & (droit_commun["code_territoire"] == code_commune)
    ]
    dc_y = dc.groupby(["domaine", "annee"], observed=True)["valeur"].sum().reset_index()
    dc_y["domaine"] = dc_y["domaine"].astype(str)
    dc_cmp = trends.compare_periods(dc_y, by=["domaine"], valeur="valeur", **periodes).rename(
        columns={
            "annees_avant": "dc_annees_avant",
            "valeur_avant": "dc_avant",
            "annees_pendant": "dc_annees_pendant",
            "valeur_pendant": "dc_pendant",
            "difference": "dc_difference",
            "avant_testable": "dc_avant_testable",
        }
    )
    dc_cmp = dc_cmp[
        [
            "domaine",
            "dc_annees_avant",
            "dc_avant",
            "dc_annees_pendant",
            "dc_pendant",
            "dc_difference",
            "dc_avant_testable",
        ]
    ]
    types = substitution[["domaine", "type"]].astype({"domaine": str}) if not substitution.empty else None
    out = sp_cmp.merge(dc_cmp, on="domaine", how="left")
    out = out.merge(types, on="domaine", how="left") if types is not None else out.assign(type=np.nan)
    out[["dc_annees_avant", "dc_annees_pendant"]] = (
        out[["dc_annees_avant", "dc_annees_pendant"]].fillna(0).astype("int64")
    )
    out["dc_avant_testable"] = out["dc_avant_testable"].astype("boolean").fillna(False).astype(bool)
    order = out.assign(_sp=out["sp_pendant"].fillna(0)).sort_values(
        ["_sp", "dispositif", "domaine"], ascending=[False, True, True], kind="stable"
    )
    return order.reset_index(drop=True)[CROISEMENT_COLUMNS]
