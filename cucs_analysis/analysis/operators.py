"""Operators of the CUCS (q6): performance on one base, explained gaps, nature and scale of
intervention, priority actions never carried out, funding continuity by size, and the steering
model of each commune.

Pure functions: DataFrames in, DataFrames (codes and numbers) out; no I/O, no French sentences.
The rules and thresholds are in docs/rules.md (« Operators (q6) »).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cucs_analysis.analysis import funding, motifs

#: Meeting types that are collective work with the operators (docs/rules.md, q6).
TYPES_COLLECTIFS = ("réunion collective de travail", "groupe thématique")
#: Meetings that pass instructions down to the operators.
TYPE_CONSIGNES = "réunion de consignes"
#: One-to-one support meetings with an operator.
TYPE_SOUTIEN = "rencontre individuelle de soutien"
#: The family of each meeting type (codes): collective work, instructions, individual support,
#: steering bodies.
FAMILLES_REUNIONS = {
    "réunion collective de travail": "travail_collectif",
    "groupe thématique": "travail_collectif",
    "réunion de consignes": "consignes",
    "rencontre individuelle de soutien": "soutien_individuel",
    "comité de pilotage": "instances_pilotage",
    "comité technique": "instances_pilotage",
}
FAMILLES = ("travail_collectif", "consignes", "soutien_individuel", "instances_pilotage", "autre")
#: Categories of the coded activity reports, in reading order.
CATEGORIES_BILANS = ("réussite", "difficulté", "blocage", "écart expliqué")
#: Size classes of operators by annual budget (codes); `inconnue` when the budget is missing.
CLASSES_TAILLE = ("petite", "moyenne", "grande", "inconnue")
#: The scale code of an operator whose `echelle` is unknown: counted apart, never a scale.
ECHELLE_INCONNUE = "inconnue"

PERFORMANCE_COLUMNS = [
    "id_operateur",
    *funding.REALISATION_COLUMNS,
    "demandes",
    "montant_demande",
    "montant_accorde",
    "taux_accord",
    "sous_performant",
    "motif",
    "annees_prevus_inconnus",
    "demandes_montant_inconnu",
]
MODELE_COLUMNS = [
    "code_commune",
    "nom",
    "signataire",
    "reunions_collectives",
    "reunions_consignes",
    "rencontres_soutien",
    "part_participatif",
    "axe_descendant_participatif",
    "motif_descendant_participatif",
    "actions",
    "actions_nouvelles",
    "actions_debut_contrat",
    "actions_debut_contrat_non_pourvues",
    "part_adaptable",
    "axe_fige_adaptable",
    "motif_fige_adaptable",
]


def _bool(s: pd.Series) -> pd.Series:
    """A yes/no column as booleans (bools, or the French « oui » / « non » of a raw file)."""
    if s.dtype == bool:
        return s
    return s.map(lambda v: v is True or str(v).strip().lower() in ("oui", "true", "1")).astype(bool)


def _tri(s: pd.Series) -> pd.Series:
    """A yes/no column as True, False or None (unknown: NA, blank or « inconnu »), object dtype:
    an unknown value is never read as False."""

    def one(v):
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, bool | np.bool_):
            return bool(v)
        t = str(v).strip().lower()
        if t in ("oui", "true", "1"):
            return True
        if t in ("non", "false", "0"):
            return False
        return None

    return pd.Series([one(v) for v in s], index=s.index, dtype=object)


# --- performance ----------------------------------------------------------------------------


def performance(
    actions: pd.DataFrame,
    financements: pd.DataFrame | None,
    seuil_realisation: float,
    min_annees_realisees: int,
) -> pd.DataFrame:
    """Achievement and funding of each operator, on one base each.

    Beneficiaries: `funding.realisation` by operator (achieved / planned over the realised
    action-years that report an achieved figure and whose planned figure is known: those whose
    planned figure is unknown are left out of both and counted in `annees_prevus_inconnus`).
    Funding: granted / requested over the funding lines of its action-years whose requested
    amount is known and above 0 (`demandes` lines); lines whose requested amount is unknown are
    counted in `demandes_montant_inconnu` (no rate when every line is unknown).
    `sous_performant` is True when the operator has at least `min_annees_realisees` realised
    action-years and its rate is below `seuil_realisation`, False when it has them and is not,
    None (with `motif` ``non_calculable``) when it has too few realised action-years or no base.
    """
    if actions is None or actions.empty or "id_operateur" not in actions:
        return pd.DataFrame(columns=PERFORMANCE_COLUMNS)
    acts = actions[actions["id_operateur"].notna()]
    # a realised year whose planned figure is unknown has no base: out of the rate, counted apart
    prevus_inconnu = pd.to_numeric(acts["beneficiaires_prevus"], errors="coerce").isna()
    realisee = (acts["statut"].astype("string") == funding.STATUT_REALISEE).fillna(False)
    sans_base = (prevus_inconnu & realisee).astype(bool)
    base = acts.assign(beneficiaires_realises=acts["beneficiaires_realises"].astype(float).where(~sans_base))
    out = funding.realisation(base, by=["id_operateur"])
    inconnus = sans_base.groupby(acts["id_operateur"]).sum()
    out["annees_prevus_inconnus"] = out["id_operateur"].map(inconnus).fillna(0).astype("int64")
    money = pd.DataFrame(
        columns=["id_operateur", "demandes", "montant_demande", "montant_accorde", "demandes_montant_inconnu"]
    )
    if financements is not None and not financements.empty:
        f = financements.merge(
            acts[["id_action", "annee", "id_operateur"]].drop_duplicates(["id_action", "annee"]),
            on=["id_action", "annee"],
        )
        # float NaN, not pd.NA: an unknown requested amount compares as « not above 0 »
        dem = pd.to_numeric(f["montant_demande"], errors="coerce").astype(float)
        f = f.assign(
            montant_demande=dem,
            montant_accorde=pd.to_numeric(f["montant_accorde"], errors="coerce").astype(float),
        )
        unknown = dem.isna().groupby(f["id_operateur"]).sum().rename("demandes_montant_inconnu")
        f = f[dem.gt(0).to_numpy()]
        money = (
            f.groupby("id_operateur")
            .agg(
                demandes=("montant_demande", "size"),
                montant_demande=("montant_demande", "sum"),
                montant_accorde=("montant_accorde", "sum"),
            )
            .reset_index()
            .merge(unknown.reset_index(), on="id_operateur", how="outer")
        )
    out = out.merge(money, on="id_operateur", how="left")
    out["demandes"] = out["demandes"].fillna(0).astype("int64")
    out["demandes_montant_inconnu"] = out["demandes_montant_inconnu"].fillna(0).astype("int64")
    out["taux_accord"] = (out["montant_accorde"] / out["montant_demande"]).where(out["montant_demande"] > 0)
    jugeable = (out["annees_realisees"] >= min_annees_realisees) & out["taux_realisation"].notna()
    flag = out["taux_realisation"] < seuil_realisation
    out["sous_performant"] = pd.Series(np.where(jugeable, flag, None), index=out.index, dtype=object)
    out["motif"] = pd.Series(np.where(jugeable, None, motifs.NON_CALCULABLE), index=out.index, dtype=object)
    return out.sort_values("id_operateur").reset_index(drop=True)[PERFORMANCE_COLUMNS]


def underperformers(perf: pd.DataFrame) -> list[str]:
    """The ids of the operators `performance` flags as under-performing, sorted."""
    if perf.empty:
        return []
    return sorted(perf.loc[perf["sous_performant"].eq(True), "id_operateur"].astype(str))


# --- coded reports --------------------------------------------------------------------------


def statements_by_theme(
    bilans: pd.DataFrame | None, actions: pd.DataFrame, operateurs: Sequence[str] | None = None
) -> pd.DataFrame:
    """Coded report statements per theme × category (one column per category of
    `CATEGORIES_BILANS`, plus `total`), for the actions of `operateurs` (all when None).

    The statements are joined to their action's operator through `id_action` and `annee`
    (an action-year has one operator). Codes only: the free text is not read.
    """
    cols = ["theme", *CATEGORIES_BILANS, "total"]
    if bilans is None or bilans.empty or actions is None or actions.empty:
        return pd.DataFrame(columns=cols)
    keys = actions[["id_action", "annee", "id_operateur"]].drop_duplicates(["id_action", "annee"])
    b = bilans.merge(keys, on=["id_action", "annee"], how="inner")
    if operateurs is not None:
        b = b[b["id_operateur"].isin(list(operateurs))]
    if b.empty:
        return pd.DataFrame(columns=cols)
    wide = pd.crosstab(b["theme"].astype(str), b["categorie"].astype(str))
    wide = wide.reindex(columns=list(CATEGORIES_BILANS), fill_value=0)
    wide["total"] = wide.sum(axis=1)
    wide = wide.sort_values(["total"], ascending=False, kind="stable")
    return (
        wide.rename_axis(index="theme", columns=None)
        .reset_index()[cols]
        .astype({c: "int64" for c in cols[1:]})
    )


def statements_by_operator(
    bilans: pd.DataFrame | None, actions: pd.DataFrame, operateurs: Sequence[str], categorie: str
) -> pd.DataFrame:
    """For each operator of `operateurs`: its statements of one category per theme (long form:
    id_operateur, theme, enonces), most frequent first."""
    cols = ["id_operateur", "theme", "enonces"]
    if bilans is None or bilans.empty or actions is None or actions.empty or not len(operateurs):
        return pd.DataFrame(columns=cols)
    keys = actions[["id_action", "annee", "id_operateur"]].drop_duplicates(["id_action", "annee"])
    b = bilans.merge(keys, on=["id_action", "annee"], how="inner")
    b = b[b["id_operateur"].isin(list(operateurs)) & (b["categorie"].astype(str) == categorie)]
    if b.empty:
        return pd.DataFrame(columns=cols)
    g = b.groupby(["id_operateur", "theme"], observed=True).size().rename("enonces").reset_index()
    g["theme"] = g["theme"].astype(str)
    return g.sort_values(["id_operateur", "enonces", "theme"], ascending=[True, False, True]).reset_index(
        drop=True
    )[cols]


# --- nature and scale of intervention -------------------------------------------------------


def active_operators(operateurs: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """The operators that carry at least one action-year of `actions`, with their number of
    action-years, distinct actions, first and last year, and `domaines` as a list."""
    cols = ["id_operateur", "actions_annees", "actions", "premiere_annee", "derniere_annee"]
    if operateurs is None or operateurs.empty or actions is None or actions.empty:
        return pd.DataFrame(columns=[*operateurs.columns, *cols[1:]] if operateurs is not None else cols)
    g = (
        actions.groupby("id_operateur")
        .agg(
            actions_annees=("id_action", "size"),
            actions=("id_action", "nunique"),
            premiere_annee=("annee", "min"),
            derniere_annee=("annee", "max"),
        )
        .reset_index()
    )
    out = operateurs.merge(g, on="id_operateur", how="inner")
    return out.sort_values("id_operateur").reset_index(drop=True)


def _domaines(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.split(";")


def domains_by_scale(operateurs: pd.DataFrame) -> pd.DataFrame:
    """Operators per domain of intervention × scale (long form: domaine, echelle, operateurs).
    An operator with several domains counts once in each; an unknown scale is
    `ECHELLE_INCONNUE` (apart, never a scale); an operator whose domains are unknown is left out
    (`unknown_domains` counts them)."""
    cols = ["domaine", "echelle", "operateurs"]
    if operateurs is None or operateurs.empty:
        return pd.DataFrame(columns=cols)
    ex = operateurs.assign(domaine=_domaines(operateurs["domaines"])).explode("domaine")
    ex["domaine"] = ex["domaine"].str.strip()
    ex = ex[ex["domaine"] != ""]
    if ex.empty:
        return pd.DataFrame(columns=cols)
    ex["echelle"] = echelle_code(ex["echelle"])
    g = ex.groupby(["domaine", "echelle"]).agg(operateurs=("id_operateur", "nunique")).reset_index()
    return g[cols]


def echelle_code(s: pd.Series) -> pd.Series:
    """The scale as stored, trimmed; unknown (NA, blank, « inconnu ») → `ECHELLE_INCONNUE`."""
    e = s.astype("string").str.strip()
    unknown = e.isna() | (e == "") | (e.str.lower() == "inconnu")
    return e.where(~unknown, ECHELLE_INCONNUE).astype(object)


def unknown_domains(operateurs: pd.DataFrame) -> int:
    """The operators whose domains of intervention are unknown (NA or blank)."""
    if operateurs is None or operateurs.empty or "domaines" not in operateurs:
        return 0
    d = operateurs["domaines"].astype("string").str.strip()
    return int((d.isna() | (d == "") | (d.str.lower() == "inconnu")).sum())


def operators_by_home(operateurs: pd.DataFrame) -> pd.DataFrame:
    """Operators per commune where they are based (code_commune, operateurs); operators without
    a known commune are left out."""
    cols = ["code_commune", "operateurs"]
    if operateurs is None or operateurs.empty or "code_commune" not in operateurs:
        return pd.DataFrame(columns=cols)
    o = operateurs[operateurs["code_commune"].notna() & (operateurs["code_commune"].astype(str) != "")]
    g = o.groupby(o["code_commune"].astype(str))["id_operateur"].nunique().rename("operateurs")
    return g.reset_index()[cols]


# --- priority actions never carried out ------------------------------------------------------


def unfilled_priority_actions(actions: pd.DataFrame) -> pd.DataFrame:
    """The priority actions with at least one year of status « non pourvue » (no operator to
    carry them out), one row per distinct action: its title, domain, dispositif, quartier, the
    number of such years and the first and last of them."""
    cols = [
        "id_action",
        "intitule",
        "thematique",
        "dispositif",
        "code_quartier",
        "annees_non_pourvues",
        "premiere_annee",
        "derniere_annee",
    ]
    if actions is None or actions.empty:
        return pd.DataFrame(columns=cols)
    np_ = actions[_bool(actions["prioritaire"]) & (actions["statut"].astype(str) == "non pourvue")]
    if np_.empty:
        return pd.DataFrame(columns=cols)
    g = (
        np_.groupby("id_action")
        .agg(
            intitule=("intitule", "first"),
            thematique=("thematique", "first"),
            dispositif=("dispositif", "first"),
            code_quartier=("code_quartier", "first"),
            annees_non_pourvues=("annee", "nunique"),
            premiere_annee=("annee", "min"),
            derniere_annee=("annee", "max"),
        )
        .reset_index()
    )
    return g.sort_values(["premiere_annee", "id_action"]).reset_index(drop=True)[cols]


# --- small associations: renewal and survival of their funding --------------------------------


def size_class(budget: pd.Series, bornes: Sequence[float]) -> pd.Series:
    """`petite` below the first bound, `moyenne` below the second, `grande` above; `inconnue`
    when the budget is missing."""
    b = pd.to_numeric(budget, errors="coerce")
    lo, hi = float(bornes[0]), float(bornes[-1])
    out = np.select([b.isna(), b < lo, b < hi], ["inconnue", "petite", "moyenne"], "grande")
    return pd.Series(out, index=budget.index, dtype=object)


def funded_years(
    actions: pd.DataFrame, financements: pd.DataFrame | None, type_credit: str = funding.SPECIFIQUE
) -> pd.DataFrame:
    """Operator × year with a granted amount above 0 of `type_credit` on the actions of
    `actions` (id_operateur, annee, montant_accorde)."""
    cols = ["id_operateur", "annee", "montant_accorde"]
    if actions is None or actions.empty or financements is None or financements.empty:
        return pd.DataFrame(columns=cols)
    f = financements[financements["type_credit"].astype(str) == type_credit]
    f = f.merge(
        actions[["id_action", "annee", "id_operateur"]].drop_duplicates(["id_action", "annee"]),
        on=["id_action", "annee"],
    )
    g = f.groupby(["id_operateur", "annee"])["montant_accorde"].sum().reset_index()
    return g[g["montant_accorde"] > 0].reset_index(drop=True)[cols]


def renewal_by_year(funded: pd.DataFrame, classes: pd.Series, debut: int, fin: int) -> pd.DataFrame:
    """Renewal of funding per size class and year: among the operators funded in year t − 1
    (`finances_precedente`), those funded again in t (`renouveles`), for t in (debut, fin].
    `classes` maps id_operateur → size class. Every class seen in `funded` has a row for every
    year after the first funded year (0 when none of its operators was funded the year before)."""
    cols = ["classe", "annee", "finances_precedente", "renouveles"]
    if funded.empty:
        return pd.DataFrame(columns=cols)
    f = funded[(funded["annee"] >= debut) & (funded["annee"] <= fin)][["id_operateur", "annee"]]
    f = f.drop_duplicates()
    prev = f.assign(annee=f["annee"] + 1)
    prev = prev[prev["annee"] <= fin]
    both = prev.merge(f.assign(encore=1), on=["id_operateur", "annee"], how="left")
    both["encore"] = both["encore"].fillna(0).astype("int64")
    both["classe"] = both["id_operateur"].map(classes).fillna("inconnue")
    g = both.groupby(["classe", "annee"]).agg(
        finances_precedente=("id_operateur", "size"), renouveles=("encore", "sum")
    )
    # every class funded at some point × every year from the first funded one: a year in which
    # no association of a class was funded the year before is a measured 0, not a missing row
    seen = pd.Index(f["id_operateur"].map(classes).fillna("inconnue").unique(), name="classe")
    years = pd.RangeIndex(int(f["annee"].min()) + 1, fin + 1, name="annee") if not f.empty else []
    grid = pd.MultiIndex.from_product([seen, years], names=["classe", "annee"])
    g = g.reindex(grid, fill_value=0).astype("int64")
    return g.reset_index()[cols]


def funding_survival(funded: pd.DataFrame, classes: pd.Series, fin: int) -> pd.DataFrame:
    """Per size class: operators funded at least once (`operateurs`), still funded in the last
    year `fin` (`encore_finances`), their share, and the median number of funded years."""
    cols = ["classe", "operateurs", "encore_finances", "part_encore_financees", "annees_financees_mediane"]
    if funded.empty:
        return pd.DataFrame(columns=cols)
    per = funded.groupby("id_operateur").agg(annees=("annee", "nunique"), derniere=("annee", "max"))
    per["classe"] = per.index.map(classes).fillna("inconnue")
    per["encore"] = (per["derniere"] >= fin).astype("int64")
    g = per.groupby("classe").agg(
        operateurs=("annees", "size"),
        encore_finances=("encore", "sum"),
        annees_financees_mediane=("annees", "median"),
    )
    g["part_encore_financees"] = g["encore_finances"] / g["operateurs"]
    g = g.reindex([c for c in CLASSES_TAILLE if c in g.index])
    return g.reset_index()[cols]


# --- steering ---------------------------------------------------------------------------------


def meetings_by_type(instances: pd.DataFrame | None) -> pd.DataFrame:
    """Meetings per type with their family (`FAMILLES_REUNIONS`, `autre` for an unknown type),
    most frequent first: type, famille, nombre."""
    cols = ["type", "famille", "nombre"]
    if instances is None or instances.empty:
        return pd.DataFrame(columns=cols)
    t = instances["type"].astype(str)
    g = t.value_counts().rename_axis("type").rename("nombre").reset_index()
    g["famille"] = g["type"].map(FAMILLES_REUNIONS).fillna("autre")
    return g.sort_values(["nombre", "type"], ascending=[False, True]).reset_index(drop=True)[cols]


def meetings_by_family_year(instances: pd.DataFrame | None) -> pd.DataFrame:
    """Meetings per family and year (famille, annee, nombre), from the meeting dates."""
    cols = ["famille", "annee", "nombre"]
    if instances is None or instances.empty:
        return pd.DataFrame(columns=cols)
    annee = pd.to_datetime(instances["date"], errors="coerce").dt.year
    fam = instances["type"].astype(str).map(FAMILLES_REUNIONS).fillna("autre")
    d = pd.DataFrame({"famille": fam, "annee": annee}).dropna()
    g = d.groupby(["famille", "annee"]).size().rename("nombre").reset_index()
    g["annee"] = g["annee"].astype("int64")
    return g[cols]


def steering_model(
    instances: pd.DataFrame | None,
    actions: pd.DataFrame | None,
    communes: pd.DataFrame,
    *,
    annee_debut_cucs: int,
    decalage_annees: int,
    seuil_participatif: float,
    seuil_adaptable: float,
) -> pd.DataFrame:
    """The steering model of every commune of `communes` on two axes (docs/rules.md, q6).

    Descendant / participatif: collective work meetings (`TYPES_COLLECTIFS`) over collective +
    instruction meetings; `participatif` when the share is at least `seuil_participatif`.
    Figé / adaptable: share of the commune's distinct actions whose first year is at least
    `annee_debut_cucs + decalage_annees` (first programmed `decalage_annees` years or more after the
    start of the contract; those first programmed in between are `actions_debut_contrat`); `adaptable` when at least
    `seuil_adaptable`. An axis that cannot be decided is None with its motif: `hors_cucs` for
    a commune that did not sign, `donnee_absente` when its signatory status is unknown
    (`signataire` None) or its table has no row for it,
    `non_calculable` when the base is 0.
    """
    codes = communes["code_commune"].astype(str)
    if "signataire_cucs" in communes:
        sig = _tri(communes["signataire_cucs"]).to_numpy()
    else:
        sig = np.full(len(communes), True, dtype=object)
    noms = communes["nom"].astype(str).to_numpy() if "nom" in communes else codes.to_numpy()
    out = pd.DataFrame({"code_commune": codes.to_numpy(), "nom": noms, "signataire": sig})
    out = out.drop_duplicates("code_commune").set_index("code_commune")

    # an absent table may come as None or as a frame without columns
    ins = (
        instances
        if instances is not None and not instances.empty
        else pd.DataFrame(columns=["code_commune", "type"])
    )
    c_ins = ins["code_commune"].astype(str)
    ty = ins["type"].astype(str)
    n_ins = c_ins.value_counts()
    out["reunions_collectives"] = ty.isin(TYPES_COLLECTIFS).groupby(c_ins).sum().reindex(out.index).fillna(0)
    out["reunions_consignes"] = (ty == TYPE_CONSIGNES).groupby(c_ins).sum().reindex(out.index).fillna(0)
    out["rencontres_soutien"] = (ty == TYPE_SOUTIEN).groupby(c_ins).sum().reindex(out.index).fillna(0)
    for c in ("reunions_collectives", "reunions_consignes", "rencontres_soutien"):
        out[c] = out[c].astype("int64")
    base_p = out["reunions_collectives"] + out["reunions_consignes"]
    out["part_participatif"] = (out["reunions_collectives"] / base_p).where(base_p > 0)
    has_ins = out.index.isin(n_ins.index[n_ins > 0])

    acts = (
        actions
        if actions is not None and not actions.empty
        else pd.DataFrame(columns=["code_commune", "id_action", "annee"])
    )
    first = acts.groupby([acts["code_commune"].astype(str), "id_action"])["annee"].min()
    new = (first >= annee_debut_cucs + decalage_annees).groupby(level=0)
    out["actions"] = new.size().reindex(out.index).fillna(0).astype("int64")
    out["actions_nouvelles"] = new.sum().reindex(out.index).fillna(0).astype("int64")
    # first programmed in the first years of the contract (not counted as « new » by the axis)
    early = (first >= annee_debut_cucs) & (first < annee_debut_cucs + decalage_annees)
    out["actions_debut_contrat"] = early.groupby(level=0).sum().reindex(out.index).fillna(0).astype("int64")
    # … of which never filled (every year « non pourvue »): q7 leaves them out of its new actions
    if "statut" in acts and not acts.empty:
        pourvue = (
            (acts["statut"].astype(str) != "non pourvue")
            .groupby([acts["code_commune"].astype(str), acts["id_action"]])
            .any()
        )
        jamais = early & ~pourvue.reindex(early.index, fill_value=True)
    else:
        jamais = early & False
    out["actions_debut_contrat_non_pourvues"] = (
        jamais.groupby(level=0).sum().reindex(out.index).fillna(0).astype("int64")
    )
    out["part_adaptable"] = (out["actions_nouvelles"] / out["actions"]).where(out["actions"] > 0)

    def axis(part: pd.Series, present: np.ndarray, seuil: float, yes: str, no: str):
        value = np.where(part >= seuil, yes, no).astype(object)
        s = out["signataire"]
        # an unknown signatory status is « données non disponibles », never « hors CUCS »
        motif = np.select(
            [s.isna().to_numpy(), s.eq(False).to_numpy(), ~present, part.isna().to_numpy()],
            [motifs.DONNEE_ABSENTE, motifs.HORS_CUCS, motifs.DONNEE_ABSENTE, motifs.NON_CALCULABLE],
            "",
        ).astype(object)
        value[motif != ""] = None
        motif[motif == ""] = None
        # object columns: None stays None (a string dtype would turn it into NaN)
        return pd.Series(value, index=out.index, dtype=object), pd.Series(
            motif, index=out.index, dtype=object
        )

    out["axe_descendant_participatif"], out["motif_descendant_participatif"] = axis(
        out["part_participatif"], has_ins, seuil_participatif, "participatif", "descendant"
    )
    out["axe_fige_adaptable"], out["motif_fige_adaptable"] = axis(
        out["part_adaptable"], (out["actions"] > 0).to_numpy(), seuil_adaptable, "adaptable", "fige"
    )
    return out.reset_index()[MODELE_COLUMNS]
