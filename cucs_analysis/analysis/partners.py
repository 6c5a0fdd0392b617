"""Partners (q4): steering bodies, co-funding, mainstream competences mobilised.

Pure functions on the project's tables (column names of `cucs_analysis.data.schema`); no I/O, no
plotting. `instances.institutions` is a ";"-separated list of institutions present.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


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
