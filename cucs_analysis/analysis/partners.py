"""Partners (q4): steering bodies, co-funding, mainstream competences mobilised.

Pure functions on the project's tables (column names of `cucs_analysis.data.schema`); no I/O, no
plotting. `instances.institutions` is a ";"-separated list of institutions present.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cucs_analysis.analysis import trends


def _exploded_institutions(instances: pd.DataFrame) -> pd.DataFrame:
    """One row per meeting × institution present (duplicates within a meeting removed)."""
    inst = instances[["id_instance", "date", "type", "institutions"]].copy()
    inst["annee"] = pd.to_datetime(inst["date"]).dt.year
    inst["institution"] = inst["institutions"].fillna("").astype(str).str.split(";")
    inst = inst.explode("institution")
    inst["institution"] = inst["institution"].str.strip()
    inst = inst[inst["institution"] != ""]
    return inst.drop_duplicates(["id_instance", "institution"])[
        ["id_instance", "annee", "type", "institution"]
    ]


def steering_bodies(instances: pd.DataFrame, by: Sequence[str] = ("type", "annee")) -> pd.DataFrame:
    """Meetings counted by type and year (or other `by` among type, annee, code_commune).

    Columns: *by, nombre (meetings), participants (total), habitants (total),
    part_habitants (habitants / participants), institutions_moyennes (mean number of
    distinct institutions present per meeting).
    """
    by = list(by)
    cols = [*by, "nombre", "participants", "habitants", "part_habitants", "institutions_moyennes"]
    if instances.empty:
        return pd.DataFrame(columns=cols)
    inst = instances.copy()
    inst["annee"] = pd.to_datetime(inst["date"]).dt.year
    n_inst = _exploded_institutions(instances).groupby("id_instance").size()
    inst["_n_inst"] = inst["id_instance"].map(n_inst).fillna(0)
    out = (
        inst.groupby(by, observed=True)
        .agg(
            nombre=("id_instance", "size"),
            participants=("participants", "sum"),
            habitants=("habitants", "sum"),
            institutions_moyennes=("_n_inst", "mean"),
        )
        .reset_index()
    )
    out["part_habitants"] = (out["habitants"] / out["participants"]).where(out["participants"] > 0)
    return out[cols]


def institutions_presence(instances: pd.DataFrame, by: Sequence[str] = ("annee",)) -> pd.DataFrame:
    """How often each institution attends meetings, by `by` (annee and/or type).

    Columns: institution, *by, reunions (meetings attended), reunions_total (meetings held
    in the group), part_presence (attended / held).
    """
    by = list(by)
    cols = ["institution", *by, "reunions", "reunions_total", "part_presence"]
    if instances.empty:
        return pd.DataFrame(columns=cols)
    ex = _exploded_institutions(instances)
    att = ex.groupby(["institution", *by], observed=True).size().rename("reunions").reset_index()
    held = instances.assign(annee=pd.to_datetime(instances["date"]).dt.year)
    if by:
        total = held.groupby(by, observed=True).size().rename("reunions_total").reset_index()
        att = att.merge(total, on=by, how="left")
    else:
        att["reunions_total"] = len(held)
    att["part_presence"] = att["reunions"] / att["reunions_total"]
    return att.sort_values([*by, "reunions"], ascending=[True] * len(by) + [False]).reset_index(drop=True)[
        cols
    ]


def interinstitutional_share(instances: pd.DataFrame, by: Sequence[str] = ("annee",)) -> pd.DataFrame:
    """Share of meetings attended by at least two distinct institutions, by `by`.

    `by` among type, annee, code_commune. Meetings with no institution listed count as
    meetings, not as inter-institutional ones. Columns: *by, reunions,
    interinstitutionnelles, part_interinstitutionnelles.
    """
    by = list(by)
    cols = [*by, "reunions", "interinstitutionnelles", "part_interinstitutionnelles"]
    if instances.empty:
        return pd.DataFrame(columns=cols)
    inst = instances.assign(annee=pd.to_datetime(instances["date"]).dt.year)
    n_inst = _exploded_institutions(instances).groupby("id_instance").size()
    inst["_inter"] = inst["id_instance"].map(n_inst).fillna(0) >= 2
    out = inst.groupby(by, observed=True).agg(
        reunions=("id_instance", "size"), interinstitutionnelles=("_inter", "sum")
    )
    out["part_interinstitutionnelles"] = out["interinstitutionnelles"] / out["reunions"]
    return out.reset_index()[cols]


def cofunding(financements: pd.DataFrame) -> dict:
    """Co-funding of action-years by distinct institutions (granted amount > 0).

    An action-year is co-funded when at least two distinct institutions granted it money.
    Returns a dict:
    - part_actions_cofinancees: share of funded action-years that are co-funded (NaN if none);
    - par_annee: DataFrame annee, actions_financees, actions_cofinancees, part;
    - institutions: DataFrame institution, actions_financees (distinct actions it funded),
      actions_cofinancees (distinct actions it co-funded with another institution in the
      same year), montant_accorde; largest first.
    """
    fin = financements[financements["montant_accorde"] > 0]
    per = fin.groupby(["id_action", "annee"]).agg(n_inst=("institution", "nunique")).reset_index()
    per["cofinancee"] = per["n_inst"] >= 2
    par_annee = (
        per.groupby("annee")
        .agg(actions_financees=("cofinancee", "size"), actions_cofinancees=("cofinancee", "sum"))
        .reset_index()
    )
    par_annee["part"] = par_annee["actions_cofinancees"] / par_annee["actions_financees"]
    part = float(per["cofinancee"].mean()) if len(per) else float("nan")

    tagged = fin.merge(per[["id_action", "annee", "cofinancee"]], on=["id_action", "annee"])
    tagged["_id_co"] = tagged["id_action"].where(tagged["cofinancee"])
    inst = (
        tagged.groupby("institution", observed=True)
        .agg(
            actions_financees=("id_action", "nunique"),
            actions_cofinancees=("_id_co", "nunique"),
            montant_accorde=("montant_accorde", "sum"),
        )
        .reset_index()
        .sort_values(["actions_cofinancees", "montant_accorde"], ascending=False)
        .reset_index(drop=True)
    )
    return {"part_actions_cofinancees": part, "par_annee": par_annee, "institutions": inst}


def mainstream_mobilised(
    financements: pd.DataFrame,
    droit_commun: pd.DataFrame | None,
    actions: pd.DataFrame,
    code_territoire: str | None = None,
    annees: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Mainstream ("droit commun") means mobilised per institution × domain.

    - montant_actions: `financements` granted with type_credit "droit_commun" on the
      programmed actions (domain = `actions.thematique`, joined on id_action, annee);
    - montant_territoire: `droit_commun` credits (mesure "credits", €) in the territory
      `code_territoire` (all territories when None);
    - montant: montant_actions + montant_territoire (the two tables record different
      things: co-funding of programmed actions vs mainstream budgets of the territory).
    Restricted to `annees` when given. Columns: institution, domaine, montant_actions,
    montant_territoire, montant; largest first.
    """
    cols = ["institution", "domaine", "montant_actions", "montant_territoire", "montant"]
    fin = financements[financements["type_credit"] == "droit_commun"]
    fin = fin.merge(
        actions[["id_action", "annee", "thematique"]].drop_duplicates(["id_action", "annee"]),
        on=["id_action", "annee"],
        how="inner",
    )
    if annees is not None:
        fin = fin[fin["annee"].isin(list(annees))]
    on_actions = (
        fin.groupby(["institution", "thematique"], observed=True)["montant_accorde"]
        .sum()
        .rename("montant_actions")
        .rename_axis(["institution", "domaine"])
    )
    parts = [on_actions]
    if droit_commun is not None and not droit_commun.empty:
        dc = droit_commun[droit_commun["mesure"] == "credits"]
        if code_territoire is not None:
            dc = dc[dc["code_territoire"] == code_territoire]
        if annees is not None:
            dc = dc[dc["annee"].isin(list(annees))]
        parts.append(
            dc.groupby(["institution", "domaine"], observed=True)["valeur"].sum().rename("montant_territoire")
        )
    out = pd.concat(parts, axis=1).reindex(columns=["montant_actions", "montant_territoire"]).fillna(0.0)
    if out.empty:
        return pd.DataFrame(columns=cols)
    out["montant"] = out["montant_actions"] + out["montant_territoire"]
    out = out.reset_index()
    out[["institution", "domaine"]] = out[["institution", "domaine"]].astype(str)
    return out.sort_values(["montant", "institution"], ascending=[False, True]).reset_index(drop=True)[cols]


# --- before / during the contract --------------------------------------------------------------


def _sens(bas_avant, haut_avant, bas_pendant, haut_pendant) -> pd.Series:
    """`hausse` / `baisse` when the two periods' intervals do not overlap, else `stable`."""
    sens = np.where(
        bas_pendant > haut_avant, "hausse", np.where(haut_pendant < bas_avant, "baisse", "stable")
    )
    known = pd.notna(bas_avant) & pd.notna(bas_pendant)
    return pd.Series(sens, index=getattr(bas_avant, "index", None)).where(known)


def cofunding_periods(
    financements: pd.DataFrame,
    *,
    annee_debut_cucs: int,
    debut: int,
    fin: int,
    base_min: float = 30,
) -> pd.DataFrame:
    """The co-funded share of funded action-years before vs during the contract (one row).

    Pooled rates of each period (`trends.compare_periods`: numerator = co-funded action-years,
    denominator = funded action-years, in percent), each with its 95 % Wilson interval
    (ic_bas_avant, ic_haut_avant, ic_bas_pendant, ic_haut_pendant) and `sens`: `hausse` /
    `baisse` when the intervals do not overlap, `stable` when they do, missing when "before"
    cannot be tested. Empty frame when nothing is funded.
    """
    cols = [
        *trends.PERIODE_COLUMNS,
        "ic_bas_avant",
        "ic_haut_avant",
        "ic_bas_pendant",
        "ic_haut_pendant",
        "sens",
    ]
    par_annee = cofunding(financements)["par_annee"] if not financements.empty else pd.DataFrame()
    if par_annee.empty:
        return pd.DataFrame(columns=cols)
    out = trends.compare_periods(
        par_annee,
        annee_debut_cucs=annee_debut_cucs,
        debut=debut,
        fin=fin,
        numerateur="actions_cofinancees",
        denominateur="actions_financees",
        base_min=base_min,
    )
    if out.empty:
        return pd.DataFrame(columns=cols)
    for p in ("avant", "pendant"):
        out[f"ic_bas_{p}"], out[f"ic_haut_{p}"] = trends.wilson_interval(
            out[f"numerateur_{p}"], out[f"denominateur_{p}"]
        )
    out["sens"] = _sens(
        out["ic_bas_avant"], out["ic_haut_avant"], out["ic_bas_pendant"], out["ic_haut_pendant"]
    )
    out["sens"] = out["sens"].where(out["avant_testable"])
    return out[cols]


def granted_by_institution_year(financements: pd.DataFrame) -> pd.DataFrame:
    """Amount granted by each institution each year, with 0 € for the years of the programme
    (years with any funding row) in which the institution granted nothing, so that a mean per
    year counts those years. Columns: institution, annee, montant_accorde."""
    cols = ["institution", "annee", "montant_accorde"]
    if financements.empty:
        return pd.DataFrame(columns=cols)
    g = financements.groupby(["institution", "annee"], observed=True)["montant_accorde"].sum()
    grid = pd.MultiIndex.from_product(
        [sorted(financements["institution"].astype(str).unique()), sorted(financements["annee"].unique())],
        names=["institution", "annee"],
    )
    g.index = g.index.set_levels(g.index.levels[0].astype(str), level=0)
    return g.reindex(grid, fill_value=0.0).reset_index()[cols]


def requests_granted(financements: pd.DataFrame, by: Sequence[str] = ("institution",)) -> pd.DataFrame:
    """Requested vs granted amounts on one base: the funding rows with a requested amount > 0
    and a known granted amount (rows without a request are left out of both sums).

    Columns: *by, demandes (rows), demandes_reduites (0 < granted < requested),
    demandes_refusees (granted == 0), montant_demande, montant_accorde, taux_accord (granted /
    requested, a fraction).
    """
    by = list(by)
    cols = [
        *by,
        "demandes",
        "demandes_reduites",
        "demandes_refusees",
        "montant_demande",
        "montant_accorde",
        "taux_accord",
    ]
    # An unknown requested amount (NA) is left out of both sums, like a row without a request.
    demande = pd.to_numeric(financements["montant_demande"], errors="coerce").astype(float)
    accorde = pd.to_numeric(financements["montant_accorde"], errors="coerce").astype(float)
    garde = (demande > 0) & accorde.notna()
    f = financements[garde].assign(montant_demande=demande[garde], montant_accorde=accorde[garde])
    if f.empty:
        return pd.DataFrame(columns=cols)
    f = f.assign(
        _reduite=(f["montant_accorde"] > 0) & (f["montant_accorde"] < f["montant_demande"]),
        _refusee=f["montant_accorde"] == 0,
    )
    out = (
        f.groupby(by, observed=True)
        .agg(
            demandes=("montant_demande", "size"),
            demandes_reduites=("_reduite", "sum"),
            demandes_refusees=("_refusee", "sum"),
            montant_demande=("montant_demande", "sum"),
            montant_accorde=("montant_accorde", "sum"),
        )
        .reset_index()
    )
    out["taux_accord"] = out["montant_accorde"] / out["montant_demande"]
    return out[cols]


def requests_granted_periods(
    financements: pd.DataFrame,
    *,
    annee_debut_cucs: int,
    debut: int,
    fin: int,
    base_min: float = 30,
) -> pd.DataFrame:
    """Granted / requested per institution, before vs during the contract, on one base.

    The rate of each period is Σ granted / Σ requested over the requests of that period (in
    percent, `trends.compare_periods`); demandes_avant / demandes_pendant count those
    requests, and `petite_base` flags fewer than `base_min` requests in either period (the
    denominator in euros says nothing of the base). Columns: institution, demandes_avant,
    demandes_pendant, and the columns of `trends.PERIODE_COLUMNS` (numerators: granted €,
    denominators: requested €).
    """
    cols = ["institution", "demandes_avant", "demandes_pendant", *trends.PERIODE_COLUMNS]
    per_year = requests_granted(financements, ("institution", "annee"))
    if per_year.empty:
        return pd.DataFrame(columns=cols)
    per_year["institution"] = per_year["institution"].astype(str)
    kw = {"annee_debut_cucs": annee_debut_cucs, "debut": debut, "fin": fin, "by": ["institution"]}
    rate = trends.compare_periods(
        per_year, numerateur="montant_accorde", denominateur="montant_demande", **kw
    )
    n = trends.compare_periods(per_year, numerateur="demandes", denominateur="demandes", **kw)
    rate = rate.merge(
        n[["institution", "numerateur_avant", "numerateur_pendant"]].rename(
            columns={"numerateur_avant": "demandes_avant", "numerateur_pendant": "demandes_pendant"}
        ),
        on="institution",
    )
    rate[["demandes_avant", "demandes_pendant"]] = rate[["demandes_avant", "demandes_pendant"]].fillna(0)
    small = (rate["demandes_avant"] < base_min) | (rate["demandes_pendant"] < base_min)
    rate["petite_base"] = small & rate["avant_testable"]
    return rate[cols].reset_index(drop=True)


# --- coded statements of the activity reports about partners --------------------------------------

#: Themes of `bilans` that concern the institutional partners: cooperation, and the funding
#: they grant (a grant below the request, a late payment).
THEMES_PARTENAIRES = ("partenariat", "financement")


def partner_statements(
    bilans: pd.DataFrame, *, annee_debut_cucs: int, themes: Sequence[str] = THEMES_PARTENAIRES
) -> pd.DataFrame:
    """Coded report statements about partners, per theme × category (réussite, difficulté,
    blocage, écart expliqué): enonces (statements), enonces_avant / enonces_pendant (report
    year before / from `annee_debut_cucs`), actions (distinct actions concerned). Counts of
    reports, before any secrecy."""
    cols = ["theme", "categorie", "enonces_avant", "enonces_pendant", "enonces", "actions"]
    b = bilans[bilans["theme"].isin(list(themes))] if bilans is not None and not bilans.empty else None
    if b is None or b.empty:
        return pd.DataFrame(columns=cols)
    b = b.assign(
        theme=b["theme"].astype(str),
        categorie=b["categorie"].astype(str),
        _avant=(b["annee"] < annee_debut_cucs).astype(int),
        _pendant=(b["annee"] >= annee_debut_cucs).astype(int),
    )
    out = (
        b.groupby(["theme", "categorie"], observed=True)
        .agg(
            enonces_avant=("_avant", "sum"),
            enonces_pendant=("_pendant", "sum"),
            enonces=("id_action", "size"),
            actions=("id_action", "nunique"),
        )
        .reset_index()
    )
    order = {t: i for i, t in enumerate(themes)}
    out = out.sort_values(["theme", "enonces"], key=lambda s: s.map(order) if s.name == "theme" else -s)
    return out[cols].reset_index(drop=True)


def partner_statement_examples(
    bilans: pd.DataFrame, themes: Sequence[str] = THEMES_PARTENAIRES
) -> pd.DataFrame:
    """The distinct statements about partners, most frequent first: theme, categorie, texte,
    enonces (times it is reported), actions (distinct actions), annee_min, annee_max."""
    cols = ["theme", "categorie", "texte", "enonces", "actions", "annee_min", "annee_max"]
    b = bilans[bilans["theme"].isin(list(themes))] if bilans is not None and not bilans.empty else None
    if b is None or b.empty:
        return pd.DataFrame(columns=cols)
    b = b.assign(
        theme=b["theme"].astype(str), categorie=b["categorie"].astype(str), texte=b["texte"].astype(str)
    )
    out = (
        b.groupby(["theme", "categorie", "texte"], observed=True)
        .agg(
            enonces=("id_action", "size"),
            actions=("id_action", "nunique"),
            annee_min=("annee", "min"),
            annee_max=("annee", "max"),
        )
        .reset_index()
        .sort_values(["enonces", "texte"], ascending=[False, True])
    )
    return out[cols].reset_index(drop=True)
