"""q2 tables: the commune's association actions, their publics and reports, the trends and gaps
of the funded quartiers, the region's DiD (from the region stage) and the surveys."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cucs_analysis.analysis import impact, privacy, trends
from cucs_analysis.data.schema import DOMAINE_LIBELLES
from cucs_analysis.present import text
from cucs_analysis.reports.rapport import AvecVues

#: How many actions the "most significant" table keeps (largest specific credits).
N_ACTIONS = 10
#: The workshop's caveat on this question, quoted verbatim.
CITATION_ATELIER = "Comment prouver qu'une amélioration est due à une action ?"
REPONDANTS = {"habitant": "Habitants", "opérateur": "Opérateurs", "partenaire": "Partenaires"}
GROUPES = {"traite": "quartier financé", "comparaison": "quartier de comparaison", "exclu": "intermédiaire"}
SERIES = {
    "finances": "Quartiers financés de la commune",
    "commune": "Commune",
    "comparaison": "Quartiers de comparaison (région)",
}
#: Survey statement read as the residents' view of an improvement.
QUESTION_AMELIORATION = "Le quartier s'est amélioré ces trois dernières années"
ACCORD = (4, 5)  # "plutôt" and "tout à fait d'accord" on the 1-5 scale
LECTURES = ("concordant", "partiel", "non concordant", "non établi", "non disponible")

ACTION_COLUMNS = [
    "id_action",
    "intitule",
    "operateur",
    "quartier",
    "thematique",
    "dispositif",
    "public_cible",
    "objectif",
    "periode",
    "credits_specifiques",
    "cofinancements",
    "beneficiaires_prevus",
    "beneficiaires_realises",
    "taux_realisation",
    "cout_par_beneficiaire",
]


@dataclass
class RapportQ2(AvecVues):
    MODULE_VUES = "cucs_analysis.reports.q2.views"

    code_commune: str
    nom_commune: str
    annee_traitement: int
    seuil_secret: int
    indicateurs: list[str]  # indicators followed (params.did.indicateurs)
    libelles: dict[str, str]
    unites: dict[str, str]
    credits_specifiques: float  # commune, all operators, whole period
    credits_associations: float  # commune, associations only
    actions: pd.DataFrame  # association actions of the commune, one row per action (ACTION_COLUMNS)
    actions_significatives: pd.DataFrame  # the N_ACTIONS largest, counts after secrecy
    publics: pd.DataFrame  # per declared public, counts after secrecy
    bilans: pd.DataFrame  # coded report statements of the significant actions, by category
    intensite: pd.DataFrame  # the commune's quartiers: nom, intensite_moyenne, groupe
    groupes_region: pd.DataFrame  # treated / comparison status of every quartier of the region
    series: pd.DataFrame  # indicateur, serie, annee, valeur, ic_bas, ic_haut
    ecarts: pd.DataFrame  # commune's quartiers × indicator: gap, convergence, flags, trend
    did: pd.DataFrame  # region-wide DiD per indicator (impact.did_all)
    etudes_evenement: dict[str, pd.DataFrame]  # indicator → event-study coefficients
    enquetes: pd.DataFrame  # type_repondant × question × annee: n, accord, interval, secret
    reponses: pd.DataFrame  # answers of the non-secret groups (type_repondant, question, annee, reponse)
    contribution: pd.DataFrame  # etape, constat, lecture
    seuil_intensite: float = 25.0  # €/inhabitant/year above which a quartier is "financé"
    sens: dict[str, str] = field(default_factory=dict)  # catalogue's sens per indicator
    constats: list[str] = field(default_factory=list)
    reserves: list[str] = field(default_factory=list)
    debat: list[str] = field(default_factory=list)
    phrases_did: list[str] = field(default_factory=list)
    phrases_ecarts: list[str] = field(default_factory=list)
    phrases_enquetes: list[str] = field(default_factory=list)
    reponse_atelier: list[str] = field(default_factory=list)
    chiffres_cles: list[dict] = field(default_factory=list)

    def resultats(self) -> dict:
        """The q2 keys of the results contract (DESIGN.md §6)."""
        did = (
            self.did[list(impact.DID_COLUMNS)]
            if not self.did.empty
            else pd.DataFrame(columns=impact.DID_COLUMNS)
        )
        ecarts = self.ecarts[list(impact.GAP_COLUMNS)] if not self.ecarts.empty else None
        return {
            "did": [
                {
                    "indicateur": str(r.indicateur),
                    "estimation": _num(r.estimation),
                    "ic_bas": _num(r.ic_bas),
                    "ic_haut": _num(r.ic_haut),
                    "p_value": _num(r.p_value),
                    "n_quartiers": int(r.n_quartiers),
                    "pre_tendance_ok": None if text.manquant(r.pre_tendance_ok) else bool(r.pre_tendance_ok),
                }
                for r in did.itertuples()
            ],
            "ecarts": []
            if ecarts is None
            else [
                {
                    "code_quartier": str(r.code_quartier),
                    "indicateur": str(r.indicateur),
                    "annee_debut": None if text.manquant(r.annee_debut) else int(r.annee_debut),
                    "ecart_debut": _num(r.ecart_debut),
                    "annee_fin": None if text.manquant(r.annee_fin) else int(r.annee_fin),
                    "ecart_fin": _num(r.ecart_fin),
                    "convergence": None if text.manquant(r.convergence) else str(r.convergence),
                }
                for r in ecarts.itertuples()
            ],
        }


def _num(x: object) -> float | None:
    return None if text.manquant(x) else float(x)


# --- means: the commune's association actions -----------------------------------------------


def association_actions(territoire) -> pd.DataFrame:
    """One row per action of the commune run by an association (ACTION_COLUMNS).

    Declared attributes (title, public, objective) come from the action's last year;
    amounts are summed over the years; beneficiaries over the years with status
    `réalisée` (planned and achieved compare like with like).
    """
    actions = territoire.actions
    if actions is None or actions.empty:
        return pd.DataFrame(columns=ACTION_COLUMNS)
    ops = territoire.operateurs
    ops = ops.drop_duplicates("id_operateur").set_index("id_operateur")
    assoc = actions[actions["id_operateur"].map(ops["statut_juridique"]).eq("association").fillna(False)]
    if assoc.empty:
        return pd.DataFrame(columns=ACTION_COLUMNS)
    last = (
        assoc.sort_values(["id_action", "annee"])
        .drop_duplicates("id_action", keep="last")
        .set_index("id_action")
    )
    years = assoc.groupby("id_action")["annee"].agg(["min", "max"])
    fin = territoire.financements
    fin = fin[fin["id_action"].isin(last.index)]
    montants = fin.pivot_table(
        index="id_action", columns="type_credit", values="montant_accorde", aggfunc="sum", fill_value=0.0
    ).reindex(columns=["specifique", "droit_commun"], fill_value=0.0)
    done = assoc[assoc["statut"] == "réalisée"]
    benef = done.groupby("id_action")[["beneficiaires_prevus", "beneficiaires_realises"]].sum()
    noms_q = dict(zip(territoire.quartiers["code_quartier"], territoire.quartiers["nom"], strict=False))
    out = pd.DataFrame(index=last.index)
    out["intitule"] = last["intitule"]
    out["operateur"] = last["id_operateur"].map(ops["nom"]).fillna(last["id_operateur"])
    out["quartier"] = last["code_quartier"].map(noms_q).fillna("Toute la commune")
    out["thematique"] = last["thematique"].map(DOMAINE_LIBELLES).fillna(last["thematique"])
    out["dispositif"] = last["dispositif"]
    out["public_cible"] = last["public_cible"]
    out["objectif"] = last["objectif"] if "objectif" in last else pd.NA
    out["periode"] = [text.annee_periode(a, b) for a, b in zip(years["min"], years["max"], strict=True)]
    out["credits_specifiques"] = montants["specifique"].reindex(out.index).fillna(0.0)
    out["cofinancements"] = montants["droit_commun"].reindex(out.index).fillna(0.0)
    out["beneficiaires_prevus"] = benef["beneficiaires_prevus"].reindex(out.index).astype("Float64")
    out["beneficiaires_realises"] = benef["beneficiaires_realises"].reindex(out.index).astype("Float64")
    prevus = out["beneficiaires_prevus"].where(out["beneficiaires_prevus"] > 0)
    out["taux_realisation"] = (out["beneficiaires_realises"] / prevus).astype(float)
    realises = out["beneficiaires_realises"].where(out["beneficiaires_realises"] > 0)
    out["cout_par_beneficiaire"] = (out["credits_specifiques"] / realises).astype(float)
    out = out.reset_index().sort_values(["credits_specifiques", "id_action"], ascending=[False, True])
    return out[ACTION_COLUMNS].reset_index(drop=True)


def _secret(df: pd.DataFrame, columns: list[str], seuil: int) -> pd.DataFrame:
    """Counts below the secrecy threshold replaced by NaN, with a `<col>_secret` flag each."""
    if df.empty:
        return df.assign(**{f"{c}_secret": pd.Series(dtype=bool) for c in columns})
    st = privacy.apply_secrecy(df[columns].astype(float), columns, seuil, margins="none")
    out = df.copy()
    for c in columns:
        out[c] = st.values[c]
        out[f"{c}_secret"] = st.mask[c].to_numpy()
    # A rate or a cost computed on a hidden count would reveal it.
    hidden = out[[f"{c}_secret" for c in columns]].any(axis=1)
    for c in ("taux_realisation", "cout_par_beneficiaire"):
        if c in out:
            out[c] = out[c].where(~hidden)
    return out


def publics_table(territoire, actions: pd.DataFrame) -> pd.DataFrame:
    """Per declared public: actions, specific credits, planned and achieved beneficiaries."""
    cols = [
        "public_cible",
        "actions",
        "credits_specifiques",
        "beneficiaires_prevus",
        "beneficiaires_realises",
    ]
    if actions.empty:
        return pd.DataFrame(columns=[*cols, "taux_realisation"])
    g = actions.groupby("public_cible", dropna=False)
    out = g.agg(
        actions=("id_action", "nunique"),
        credits_specifiques=("credits_specifiques", "sum"),
        beneficiaires_prevus=("beneficiaires_prevus", "sum"),
        beneficiaires_realises=("beneficiaires_realises", "sum"),
    ).reset_index()
    out["public_cible"] = out["public_cible"].fillna("Public non précisé")
    prevus = out["beneficiaires_prevus"].where(out["beneficiaires_prevus"] > 0)
    out["taux_realisation"] = (out["beneficiaires_realises"] / prevus).astype(float)
    return out.sort_values("credits_specifiques", ascending=False).reset_index(drop=True)


def bilans_table(territoire, significatives: pd.DataFrame) -> pd.DataFrame:
    """Coded statements of the activity reports of the significant actions, by category."""
    from cucs_analysis.data.schema import CATEGORIES_BILAN

    bilans = territoire.bilans
    cols = ["id_action", "intitule", *CATEGORIES_BILAN, "theme_principal"]
    if bilans is None or bilans.empty or significatives.empty:
        return pd.DataFrame(columns=cols)
    b = bilans[bilans["id_action"].isin(significatives["id_action"])]
    if b.empty:
        return pd.DataFrame(columns=cols)
    counts = pd.crosstab(b["id_action"], b["categorie"]).reindex(columns=list(CATEGORIES_BILAN), fill_value=0)
    theme = b.groupby(["id_action", "theme"]).size().rename("n").reset_index()
    theme = theme.sort_values(["id_action", "n", "theme"], ascending=[True, False, True]).drop_duplicates(
        "id_action"
    )
    out = significatives[["id_action", "intitule"]].merge(counts.reset_index(), on="id_action", how="inner")
    out["theme_principal"] = out["id_action"].map(theme.set_index("id_action")["theme"])
    out[list(CATEGORIES_BILAN)] = out[list(CATEGORIES_BILAN)].astype("int64")
    return out[cols].reset_index(drop=True)


# --- outcomes: trends, gaps, DiD ---------------------------------------------------------------


def series_table(territoire, region, indicateurs: list[str]) -> pd.DataFrame:
    """Funded quartiers of the commune (pooled) vs the commune vs the region's comparison
    quartiers (pooled, from the region stage), per indicator and year."""
    cols = ["indicateur", "serie", "annee", "valeur", "ic_bas", "ic_haut", "n_quartiers"]
    code = territoire.code_commune
    own = set(territoire.quartiers["code_quartier"]) if territoire.quartiers is not None else set()
    g = region.groupes.set_index("code_quartier")["groupe"]
    funded = [q for q in own if g.get(q) == "traite"]
    ind_commune = territoire.indicateurs
    comparison = region.series_comparaison
    parts = []
    for ind in indicateurs:  # two or three indicators
        parts.append(trends.pooled_series(ind_commune, funded, ind, "finances"))
        com = ind_commune[
            (ind_commune["niveau"] == "commune")
            & (ind_commune["code_territoire"] == code)
            & (ind_commune["indicateur"] == ind)
        ]
        com = trends.with_intervals(com[com["valeur"].notna()])
        parts.append(com.assign(serie="commune", n_quartiers=np.nan)[cols])
        parts.append(comparison[comparison["indicateur"] == ind][cols])
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


def gaps_table(territoire, groupes: pd.DataFrame, indicateurs: list[str], tolerance: float) -> pd.DataFrame:
    """The commune's quartiers × indicators: gap to the commune at the first and last years,
    convergence, the last year's significance flag (Wilson intervals) and the quartier's own
    trend (slope and its interval)."""
    extra = ["nom", "groupe", "comparaison_fin", "tendance"]
    cols = [*impact.GAP_COLUMNS, "evolution_ecart", *extra]
    q = territoire.quartiers
    if q is None or q.empty:
        return pd.DataFrame(columns=cols)
    ind = territoire.indicateurs
    own = ind[(ind["niveau"] != "quartier") | ind["code_territoire"].isin(q["code_quartier"])]
    own = own[(own["niveau"] != "commune") | (own["code_territoire"] == territoire.code_commune)]
    gaps = impact.gap_convergence(own, q, indicateurs_list=indicateurs, tolerance=tolerance)
    if gaps.empty:
        return pd.DataFrame(columns=cols)
    quart = own[(own["niveau"] == "quartier") & own["indicateur"].isin(indicateurs) & own["valeur"].notna()]
    ref = own[(own["niveau"] == "commune") & own["indicateur"].isin(indicateurs)].drop_duplicates(
        ["indicateur", "annee"]
    )
    fin = gaps[["code_quartier", "indicateur", "annee_fin"]].dropna()
    last = quart.merge(
        fin.astype({"annee_fin": "int64"}),
        left_on=["code_territoire", "indicateur", "annee"],
        right_on=["code_quartier", "indicateur", "annee_fin"],
    )
    flags = trends.compare_to_reference(
        last.drop(columns=["code_quartier", "annee_fin"]), ref, catalogue=territoire.catalogue
    )
    flags = flags.rename(columns={"code_territoire": "code_quartier", "comparaison": "comparaison_fin"})
    evo = trends.evolution(quart[["niveau", "code_territoire", "indicateur", "annee", "valeur"]])
    evo = evo.rename(columns={"code_territoire": "code_quartier"})
    out = gaps.merge(flags[["code_quartier", "indicateur", "comparaison_fin"]], how="left").merge(
        evo[["code_quartier", "indicateur", "tendance"]], how="left"
    )
    out["nom"] = out["code_quartier"].map(dict(zip(q["code_quartier"], q["nom"], strict=False)))
    out["groupe"] = out["code_quartier"].map(groupes.set_index("code_quartier")["groupe"]).map(GROUPES)
    return out[cols].sort_values(["indicateur", "code_quartier"]).reset_index(drop=True)


# --- crossed viewpoints: surveys ----------------------------------------------------------------


def survey_table(territoire, seuil: int) -> pd.DataFrame:
    """Share of agreement (4 or 5 on the 1-5 scale) per respondent type × statement × year, over
    the commune's own quartiers, with its Wilson interval. A group of fewer than `seuil`
    respondents is secret: its count and its shares are hidden."""
    cols = ["type_repondant", "question", "annee", "n", "accord", "desaccord", "ic_bas", "ic_haut", "secret"]
    e = territoire.enquetes
    q = territoire.quartiers
    if e is None or e.empty or q is None or q.empty:
        return pd.DataFrame(columns=cols)
    e = e[e["code_quartier"].isin(q["code_quartier"]) & e["reponse"].notna()]
    if e.empty:
        return pd.DataFrame(columns=cols)
    e = e.assign(ok=e["reponse"].isin(ACCORD).astype(int), non=e["reponse"].isin((1, 2)).astype(int))
    out = (
        e.groupby(["type_repondant", "question", "annee"], observed=True)
        .agg(n=("ok", "size"), oui=("ok", "sum"), non=("non", "sum"))
        .reset_index()
    )
    lo, hi = trends.wilson_interval(out["oui"], out["n"])
    secret = privacy.primary_mask(out["n"], seuil).to_numpy()
    out["accord"] = (100 * out["oui"] / out["n"]).where(~secret)
    out["desaccord"] = (100 * out["non"] / out["n"]).where(~secret)
    out["ic_bas"], out["ic_haut"] = lo.where(~secret), hi.where(~secret)
    out["n"] = out["n"].astype(float).where(~secret)
    out["secret"] = secret
    out["type_repondant"] = out["type_repondant"].astype(str)
    order = {k: i for i, k in enumerate(REPONDANTS)}
    out = out.sort_values(
        ["question", "type_repondant", "annee"],
        key=lambda s: s.map(order) if s.name == "type_repondant" else s,
    )
    return out[cols].reset_index(drop=True)


def survey_answers(territoire, table: pd.DataFrame) -> pd.DataFrame:
    """The raw 1-5 answers of the groups `survey_table` publishes (the figure shows them as
    shares only)."""
    cols = ["type_repondant", "question", "annee", "reponse"]
    if table.empty:
        return pd.DataFrame(columns=cols)
    e = territoire.enquetes
    e = e[e["code_quartier"].isin(territoire.quartiers["code_quartier"]) & e["reponse"].notna()]
    e = e.assign(type_repondant=e["type_repondant"].astype(str))[cols]
    keep = table.loc[~table["secret"], ["type_repondant", "question", "annee"]]
    return e.merge(keep, on=["type_repondant", "question", "annee"], how="inner").reset_index(drop=True)


# --- the report -------------------------------------------------------------------------------


def compute(territoire, region, params) -> RapportQ2:
    """The q2 tables of one commune (no sentences yet); `region` is the region stage."""
    code = territoire.code_commune
    nom = str((territoire.commune or {}).get("nom", code))
    indicateurs = list(params.did.indicateurs)
    cat = territoire.catalogue.set_index("indicateur")
    libelles = {i: str(cat["libelle"].get(i, i)) for i in indicateurs}
    unites = {i: str(cat["unite"].get(i, "")) for i in indicateurs}
    seuil = int(params.seuil_secret)

    actions = association_actions(territoire)
    fin = territoire.financements
    spec = fin[fin["type_credit"] == "specifique"] if fin is not None and not fin.empty else None
    credits_spec = float(spec["montant_accorde"].sum()) if spec is not None else 0.0
    credits_assoc = float(actions["credits_specifiques"].sum()) if not actions.empty else 0.0
    benef = ["beneficiaires_prevus", "beneficiaires_realises"]
    significatives = _secret(actions.head(N_ACTIONS).reset_index(drop=True), benef, seuil)
    publics = _secret(publics_table(territoire, actions), benef, seuil)
    bilans = bilans_table(territoire, significatives)

    did, events, groupes = region.did, region.etudes_evenement, region.groupes
    q = territoire.quartiers
    if q is not None and not q.empty and not groupes.empty:
        intens = q[["code_quartier", "nom"]].merge(groupes, on="code_quartier", how="left")
        intens["statut"] = intens["groupe"].map(GROUPES).fillna("non classé")
        intens = pd.DataFrame(intens.drop(columns="geometry", errors="ignore"))
    else:
        intens = pd.DataFrame(columns=["code_quartier", "nom", "intensite_moyenne", "groupe", "statut"])
    series = series_table(territoire, region, indicateurs) if not groupes.empty else pd.DataFrame()
    ecarts = gaps_table(
        territoire,
        groupes if not groupes.empty else pd.DataFrame(columns=["code_quartier", "groupe"]),
        indicateurs,
        params.convergence.tolerance_points,
    )
    enquetes = survey_table(territoire, seuil)
    reponses = survey_answers(territoire, enquetes)

    r = RapportQ2(
        code_commune=code,
        nom_commune=nom,
        annee_traitement=int(params.did.annee_traitement),
        seuil_secret=seuil,
        indicateurs=indicateurs,
        libelles=libelles,
        unites=unites,
        credits_specifiques=credits_spec,
        credits_associations=credits_assoc,
        actions=actions,
        actions_significatives=significatives,
        publics=publics,
        bilans=bilans,
        intensite=intens,
        groupes_region=groupes,
        series=series,
        ecarts=ecarts,
        did=did,
        etudes_evenement=events,
        enquetes=enquetes,
        reponses=reponses,
        contribution=pd.DataFrame(columns=["etape", "constat", "lecture"]),
        seuil_intensite=float(params.did.seuil_intensite),
        sens={i: str(cat["sens"].get(i, "")) for i in indicateurs},
    )
    return r
