"""q2 — « Les moyens alloués aux associations dans le cadre du CUCS ont-ils contribué à améliorer
la situation sociale des publics visés ? »: everything the notebook shows, computed from one
commune's Territory.

The notebook calls `build(territoire, params)` and displays the fields of the returned
report; the French findings are generated here so that they are tested. The
difference-in-differences is estimated on the whole region (a commune alone has too few
quartiers); every sentence reads it as a trend, never as proof.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cucs_analysis.analysis import impact, privacy, trends
from cucs_analysis.data.schema import DOMAINE_LIBELLES
from cucs_analysis.present import text

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
class RapportQ2:
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


def build(territoire, region, params) -> RapportQ2:
    """The q2 report of one commune; `region` is the region stage (DiD, groups, comparison)."""
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
    _narrate(r, params)
    return r


# --- French sentences -----------------------------------------------------------------------


def _ecart(x: object, unite: str) -> str:
    """A signed difference in the indicator's unit (points for a rate)."""
    if unite == "%":
        return text.points(x)
    if text.manquant(x):
        return text.ND
    s = text.nombre(x, 0 if unite in ("€", "hab.", "nombre") else 1, signe=True)
    return f"{s}{text.ESPACE_UNITE}{unite}" if unite not in ("", "nombre") else s


def _intervalle(lo: object, hi: object, unite: str) -> str:
    return f"de {_ecart(lo, unite)} à {_ecart(hi, unite)}"


def phrase_did(row, libelle: str, unite: str, annee_traitement: int, sens: str | None = None) -> str:
    """One sentence on a DiD estimate, phrased as a trend with its interval (never as proof)."""
    sujet = text.minuscule_initiale(libelle)
    n_t = int(row["n_traites"]) if "n_traites" in row and not text.manquant(row["n_traites"]) else None
    n_c = int(row["n_quartiers"]) - n_t if n_t is not None else None
    if text.manquant(row["estimation"]):
        return (
            f"Pour l'indicateur « {sujet} », la comparaison entre quartiers financés et quartiers de comparaison "
            "n'est pas possible avec ces données (trop peu de quartiers dans l'un des deux groupes ou d'années)."
        )
    groupes = (
        f" ({text.pluriel(n_t, 'quartier financé', 'quartiers financés')} et "
        f"{text.pluriel(n_c, 'quartier de comparaison', 'quartiers de comparaison')} de la région)"
        if n_t is not None
        else ""
    )
    ic = _intervalle(row["ic_bas"], row["ic_haut"], unite)
    net = row["ic_bas"] > 0 or row["ic_haut"] < 0
    if net:
        better = (sens == "hausse_degradation" and row["estimation"] < 0) or (
            sens == "hausse_amelioration" and row["estimation"] > 0
        )
        sens_txt = ""
        if sens in ("hausse_degradation", "hausse_amelioration"):
            sens_txt = ", soit une évolution relativement " + ("plus" if better else "moins") + " favorable"
        phrase = (
            f"Pour l'indicateur « {sujet} », l'écart d'évolution entre les quartiers fortement financés et les "
            f"quartiers de comparaison{groupes} est de {_ecart(row['estimation'], unite)} à partir de "
            f"{annee_traitement}{sens_txt} (intervalle de confiance à 95 % {ic}) : une tendance nette, qui va dans "
            "le sens d'une contribution des actions sans la démontrer."
        )
    else:
        phrase = (
            f"Pour l'indicateur « {sujet} », aucune différence d'évolution nette n'apparaît entre les quartiers "
            f"fortement financés et les quartiers de comparaison{groupes} à partir de {annee_traitement} "
            f"({_ecart(row['estimation'], unite)}, intervalle de confiance à 95 % {ic})."
        )
    ok = row["pre_tendance_ok"]
    if text.manquant(ok):
        phrase += " Les évolutions antérieures n'ont pas pu être comparées."
    elif bool(ok):
        phrase += (
            f" Avant {annee_traitement}, les deux groupes évoluaient de façon parallèle, ce qui rend la "
            "comparaison plus crédible."
        )
    else:
        phrase += (
            f" Attention : avant {annee_traitement}, les deux groupes évoluaient déjà différemment ; "
            "l'estimation est fragile."
        )
    return phrase


def _narrate(r: RapportQ2, params) -> None:
    _narrate_means(r, params.operateurs.seuil_realisation)
    _narrate_did(r, params)
    _narrate_gaps(r)
    _narrate_surveys(r)
    _contribution(r)
    _caveats(r)
    _key_figures(r)


def _narrate_means(r: RapportQ2, seuil_realisation: float = 0.7) -> None:
    a = r.actions
    if a.empty:
        r.constats.append(
            f"Aucune action portée par une association n'est financée à {r.nom_commune} dans les données : "
            "la commune sert de point de comparaison."
        )
        return
    part = 100 * r.credits_associations / r.credits_specifiques if r.credits_specifiques else None
    r.constats.append(
        f"À {r.nom_commune}, les associations ont reçu {text.euros(r.credits_associations)} de crédits spécifiques "
        f"pour {text.pluriel(len(a), 'action')}"
        + (
            f", soit {text.pourcentage(part)} des crédits spécifiques de la commune."
            if part is not None
            else "."
        )
    )
    top = r.actions_significatives
    share = (
        100 * top["credits_specifiques"].sum() / r.credits_associations if r.credits_associations else None
    )
    if share is not None and len(a) > len(top):
        r.constats.append(
            f"Les {len(top)} actions les mieux dotées concentrent {text.pourcentage(share)} de ces crédits ; "
            f"la première, « {top['intitule'].iloc[0]} », en a reçu {text.euros(top['credits_specifiques'].iloc[0])}."
        )
    i = r.intensite
    finances = i[i["groupe"] == "traite"]
    if not i.empty:
        r.constats.append(
            f"{text.pluriel(len(finances), 'quartier')} de la commune sur {len(i)} "
            f"{'reçoit' if len(finances) < 2 else 'reçoivent'} en moyenne au moins "
            f"{text.nombre(r.seuil_intensite, 0)} € par habitant et par an depuis {r.annee_traitement}"
            + (f" ({text.liste_fr(finances['nom'])})." if len(finances) else ".")
        )
    low = top[top["taux_realisation"] < seuil_realisation]
    for row in low.head(3).itertuples():  # the three largest under-achievements
        r.debat.append(
            f"L'action « {row.intitule} » a touché {text.pourcentage(100 * row.taux_realisation, 0)} des "
            "bénéficiaires prévus : le public visé était-il le bon, et comment l'atteindre ?"
        )


def _narrate_did(r: RapportQ2, params) -> None:
    for row in r.did.to_dict("records"):  # one sentence per indicator
        ind = row["indicateur"]
        r.phrases_did.append(
            phrase_did(
                row, r.libelles.get(ind, ind), r.unites.get(ind, ""), r.annee_traitement, r.sens.get(ind)
            )
        )
    r.constats.extend(r.phrases_did)
    if r.did.empty:
        r.phrases_did.append(
            "La comparaison entre quartiers financés et quartiers de comparaison n'est pas possible : "
            "les financements ou les indicateurs de la région manquent."
        )


def _narrate_gaps(r: RapportQ2) -> None:
    e = r.ecarts
    if e.empty:
        r.phrases_ecarts.append(
            f"Aucun quartier de {r.nom_commune} n'a d'indicateur suivi dans les données : les écarts ne peuvent "
            "pas être calculés."
        )
        return
    for ind, grp in e.groupby("indicateur", sort=False):  # a handful of indicators
        known = grp[grp["convergence"].notna()]
        if known.empty:
            continue
        n_conv = int((known["convergence"] == "convergence").sum())
        n_div = int((known["convergence"] == "divergence").sum())
        a, b = int(known["annee_debut"].min()), int(known["annee_fin"].max())
        phrase = (
            f"Indicateur « {text.minuscule_initiale(r.libelles.get(ind, ind))} » : entre {a} et {b}, l'écart avec la "
            f"commune s'est réduit dans {text.pluriel(n_conv, 'quartier')} sur {len(known)}, s'est creusé dans "
            f"{n_div} et est resté stable dans {len(known) - n_conv - n_div}."
        )
        r.phrases_ecarts.append(phrase)
        for row in known[known["convergence"] == "divergence"].itertuples():
            if row.groupe == GROUPES["traite"]:
                r.debat.append(
                    f"Dans le quartier {row.nom}, financé, l'écart de « {text.minuscule_initiale(r.libelles.get(ind, ind))} » "
                    f"avec la commune s'est creusé ({_ecart(row.ecart_debut, r.unites.get(ind, ''))} en "
                    f"{row.annee_debut}, {_ecart(row.ecart_fin, r.unites.get(ind, ''))} en {row.annee_fin}) : "
                    "qu'en disent les acteurs du quartier ?"
                )
    r.constats.extend(r.phrases_ecarts)


def _narrate_surveys(r: RapportQ2) -> None:
    s = r.enquetes
    if s.empty:
        r.phrases_enquetes.append(
            "Aucune enquête auprès des habitants, des opérateurs ou des partenaires ne porte sur les quartiers de la "
            "commune."
        )
        return
    annee = int(s["annee"].max())
    last = s[(s["annee"] == annee) & ~s["secret"]]
    q = last[last["question"] == QUESTION_AMELIORATION]
    if not q.empty:
        parts = [
            f"{text.pourcentage(v, 0)} des {REPONDANTS.get(t, t).lower()}"
            for t, v in zip(q["type_repondant"], q["accord"], strict=False)
        ]
        r.phrases_enquetes.append(
            f"En {annee}, « {QUESTION_AMELIORATION.lower()} » : c'est l'avis de {text.liste_fr(parts)} interrogés."
        )
    n_secret = int(s.loc[s["annee"] == annee, "secret"].sum())
    if n_secret:
        r.phrases_enquetes.append(
            f"{text.pluriel(n_secret, 'groupe de répondants', 'groupes de répondants')} de moins de {r.seuil_secret} "
            "personnes ne sont pas publiés (secret statistique)."
        )
    wide = last.pivot_table(index="question", columns="type_repondant", values="accord")
    if {"habitant", "opérateur"} <= set(wide.columns):
        diff = (wide["opérateur"] - wide["habitant"]).dropna()
        if not diff.empty:
            qmax = diff.abs().idxmax()
            d = diff[qmax]
            r.phrases_enquetes.append(
                f"Le plus grand écart de points de vue porte sur « {qmax} » : "
                f"{text.pourcentage(wide.loc[qmax, 'habitant'], 0)} des habitants sont d'accord, contre "
                f"{text.pourcentage(wide.loc[qmax, 'opérateur'], 0)} des opérateurs."
            )
            if abs(d) >= 10:
                r.debat.append(
                    f"Habitants et opérateurs ne voient pas « {qmax.lower()} » de la même façon "
                    f"({text.points(-d, 0)} pour les habitants) : comment l'expliquer, et comment associer davantage "
                    "les habitants à l'évaluation ?"
                )
    r.constats.extend(r.phrases_enquetes[:1])


def _contribution(r: RapportQ2) -> None:
    """The contribution chain (theory of change): for each link, what the data show and
    whether it fits."""
    rows = []
    a = r.actions
    fin = r.intensite[r.intensite["groupe"] == "traite"] if not r.intensite.empty else r.intensite
    if a.empty:
        rows.append(
            (
                "1. Des moyens ont été alloués aux associations",
                "Aucune action financée dans la commune.",
                "non disponible",
            )
        )
    else:
        rows.append(
            (
                "1. Des moyens ont été alloués aux associations",
                f"{text.euros(r.credits_associations)} de crédits spécifiques ; "
                f"{text.pluriel(len(fin), 'quartier financé', 'quartiers financés')} au-delà de "
                f"{text.euros(r.seuil_intensite)} par habitant et par an.",
                "concordant" if len(fin) else "partiel",
            )
        )
    done = a.dropna(subset=["beneficiaires_prevus", "beneficiaires_realises"]) if not a.empty else a
    if done.empty or float(done["beneficiaires_prevus"].sum()) == 0:
        rows.append(
            ("2. Les actions ont touché les publics visés", "Bénéficiaires non renseignés.", "non disponible")
        )
    else:
        taux = float(done["beneficiaires_realises"].sum()) / float(done["beneficiaires_prevus"].sum())
        rows.append(
            (
                "2. Les actions ont touché les publics visés",
                f"{text.pourcentage(100 * taux, 0)} des bénéficiaires prévus ont été touchés (années réalisées).",
                "concordant" if taux >= 0.9 else ("partiel" if taux >= 0.7 else "non concordant"),
            )
        )
    e = r.ecarts
    finances_e = e[(e["groupe"] == GROUPES["traite"]) & e["convergence"].notna()] if not e.empty else e
    if finances_e.empty:
        rows.append(
            (
                "3. L'écart des quartiers financés avec la commune s'est réduit",
                "Pas de quartier financé suivi.",
                "non disponible",
            )
        )
    else:
        n_conv = int((finances_e["convergence"] == "convergence").sum())
        n_div = int((finances_e["convergence"] == "divergence").sum())
        lecture = (
            "concordant"
            if n_conv > n_div and n_div == 0
            else ("partiel" if n_conv >= n_div else "non concordant")
        )
        rows.append(
            (
                "3. L'écart des quartiers financés avec la commune s'est réduit",
                f"Écart réduit dans {n_conv} cas, creusé dans {n_div} cas, sur "
                f"{text.pluriel(len(finances_e), 'couple', 'couples')} quartier × indicateur.",
                lecture,
            )
        )
    d = r.did.dropna(subset=["estimation"]) if not r.did.empty else r.did
    if d.empty:
        rows.append(
            (
                "4. L'évolution est plus favorable que dans des quartiers comparables",
                "Comparaison impossible.",
                "non disponible",
            )
        )
    else:
        nets = [
            f"{text.minuscule_initiale(r.libelles.get(x.indicateur, x.indicateur))} : {_ecart(x.estimation, r.unites.get(x.indicateur, ''))}"
            + ("" if (x.ic_bas > 0 or x.ic_haut < 0) else " (non significatif)")
            for x in d.itertuples()
        ]
        favorable = [
            (x.ic_haut < 0 and r.sens.get(x.indicateur) != "hausse_amelioration")
            or (x.ic_bas > 0 and r.sens.get(x.indicateur) == "hausse_amelioration")
            for x in d.itertuples()
        ]
        lecture = "concordant" if all(favorable) else ("partiel" if any(favorable) else "non concordant")
        rows.append(
            (
                "4. L'évolution est plus favorable que dans des quartiers comparables",
                text.liste_fr(nets) + ".",
                lecture,
            )
        )
    s = r.enquetes
    hab = (
        s[(s["type_repondant"] == "habitant") & (s["question"] == QUESTION_AMELIORATION) & ~s["secret"]]
        if not s.empty
        else s
    )
    if hab.empty:
        rows.append(
            (
                "5. Les habitants perçoivent une amélioration",
                "Pas d'enquête auprès des habitants.",
                "non disponible",
            )
        )
    else:
        last = hab.sort_values("annee").iloc[-1]
        v = float(last["accord"])
        rows.append(
            (
                "5. Les habitants perçoivent une amélioration",
                f"{text.pourcentage(v, 0)} des habitants interrogés en {int(last['annee'])} jugent que le quartier "
                "s'est amélioré.",
                "concordant" if v >= 50 else ("partiel" if v >= 33 else "non concordant"),
            )
        )
    pre = r.did["pre_tendance_ok"].dropna() if not r.did.empty else pd.Series(dtype=object)
    rows.append(
        (
            "6. Les explications concurrentes sont écartées",
            (
                "Évolutions parallèles avant le financement. "
                if len(pre) and pre.astype(bool).all()
                else "Évolutions antérieures non comparables. "
            )
            + "Effets de composition (départs, arrivées), conjoncture, droit commun et rénovation urbaine non mesurés.",
            "non établi",
        )
    )
    r.contribution = pd.DataFrame(rows, columns=["etape", "constat", "lecture"])
    lect = r.contribution["lecture"]
    n_ok = int((lect == "concordant").sum())
    n_known = int(lect.isin(["concordant", "partiel", "non concordant"]).sum())
    r.reponse_atelier = [
        f"L'atelier le disait : « {CITATION_ATELIER} » Avec des données d'observation, on ne le peut pas : un quartier "
        "change pour bien d'autres raisons qu'une action (conjoncture, départs et arrivées d'habitants, autres "
        "politiques publiques).",
        "Ce carnet pratique donc une analyse de contribution : il vérifie, maillon par maillon, si les faits "
        "observés sont cohérents avec l'idée que les moyens alloués aux associations ont contribué à l'amélioration, "
        "et si les explications concurrentes peuvent être écartées.",
        (
            f"Ici, {n_ok} maillon{'s' if n_ok > 1 else ''} sur {n_known} "
            f"renseigné{'s' if n_known > 1 else ''} {'vont' if n_ok > 1 else 'va'} nettement dans ce sens ; "
            "le dernier (écarter les autres explications) reste à établir avec les acteurs : c'est une tendance à "
            "discuter, pas une preuve."
        )
        if not a.empty
        else (
            f"{r.nom_commune} n'ayant pas d'action associative financée dans les données, seule la tendance "
            "régionale est présentée ; les quartiers de la commune servent de point de comparaison."
        ),
    ]


def _caveats(r: RapportQ2) -> None:
    d = r.did
    if not d.empty and "n_traites" in d:
        n_t = int(d["n_traites"].max())
        n_q = int(d["n_quartiers"].max())
        r.reserves.append(
            f"La comparaison porte sur toute la région ({text.pluriel(n_t, 'quartier financé', 'quartiers financés')} "
            f"et {text.pluriel(n_q - n_t, 'quartier de comparaison', 'quartiers de comparaison')}) : ces petits "
            "nombres rendent les estimations fragiles, et le résultat régional ne se lit pas quartier par quartier."
        )
    r.reserves.append(
        "Effets de composition : les habitants qui trouvent un emploi quittent souvent le quartier et d'autres, plus "
        "pauvres, s'y installent ; un indicateur stable peut cacher des trajectoires individuelles favorables."
    )
    r.reserves.append(
        "Les périmètres changent (quartiers CUCS, puis quartiers prioritaires de 2015 et de 2024) : les séries d'un "
        "même quartier ne couvrent pas toujours exactement le même territoire."
    )
    r.reserves.append(
        "Une différence d'évolution entre quartiers financés et quartiers de comparaison est une tendance : les "
        "quartiers financés ont été choisis parce qu'ils allaient mal, et d'autres politiques y ont agi en même temps."
    )
    if not r.enquetes.empty:
        r.reserves.append(
            "Les enquêtes recueillent des opinions de répondants volontaires : elles éclairent les points de vue, "
            "sans mesurer la situation de tous les habitants."
        )
    hidden = 0
    for t in (r.actions_significatives, r.publics):
        hidden += int(t.filter(like="_secret").to_numpy().sum()) if not t.empty else 0
    hidden += int(r.enquetes["secret"].sum()) if not r.enquetes.empty else 0
    if hidden:
        r.reserves.append(
            f"{text.pluriel(hidden, 'effectif masqué', 'effectifs masqués')} (moins de {r.seuil_secret} personnes, "
            "secret statistique)."
        )
    r.debat.append(
        "Quelles actions faut-il choisir collectivement comme « les plus significatives » pour une évaluation "
        "approfondie, et avec quels critères ?"
    )
    r.debat.append(
        "Les bilans d'activité précisent-ils assez les objectifs et la situation des publics pour suivre leur "
        "progression ?"
    )


def _key_figures(r: RapportQ2) -> None:
    d = r.did.set_index("indicateur") if not r.did.empty else pd.DataFrame()
    r.chiffres_cles = [
        {
            "id": "credits_associations",
            "libelle": "Crédits spécifiques aux associations",
            "valeur": r.credits_associations,
            "unite": "€",
        },
        {
            "id": "actions_associations",
            "libelle": "Actions portées par des associations",
            "valeur": len(r.actions),
            "unite": "actions",
        },
        {
            "id": "quartiers_finances",
            "libelle": "Quartiers financés de la commune",
            "valeur": int((r.intensite["groupe"] == "traite").sum()) if not r.intensite.empty else 0,
            "unite": "quartiers",
        },
    ]
    for ind in r.indicateurs:
        if ind in d.index and not text.manquant(d.loc[ind, "estimation"]):
            r.chiffres_cles.append(
                {
                    "id": f"did_{ind}",
                    "libelle": f"Écart d'évolution, quartiers financés / comparaison : {text.minuscule_initiale(r.libelles[ind])}",
                    "valeur": float(d.loc[ind, "estimation"]),
                    "unite": "points" if r.unites.get(ind) == "%" else r.unites.get(ind, ""),
                }
            )


# --- figures (each returns a matplotlib Figure with its French alt text, or None) ------------


def _court(s: object, n: int = 48) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


def figure_actions(r: RapportQ2):
    """The most significant actions by specific credits (horizontal bars)."""
    from cucs_analysis.present import plots

    top = r.actions_significatives
    if top.empty:
        return None
    # The rank keeps labels unique (two actions may share a title).
    data = top.assign(libelle=[f"{i}. {_court(t)}" for i, t in enumerate(top["intitule"], start=1)])
    fig = plots.barres_horizontales(
        data,
        "libelle",
        "credits_specifiques",
        f"Les {len(top)} actions associatives les mieux dotées",
        "Crédits spécifiques accordés sur la période (€)",
        unite="€",
    )
    details = text.liste_fr(
        [f"{t} : {text.euros(v)}" for t, v in zip(top["intitule"], top["credits_specifiques"], strict=False)]
    )
    return plots.set_alt(
        fig,
        f"Diagramme en barres : crédits spécifiques accordés aux {len(top)} actions associatives les mieux "
        f"dotées de {r.nom_commune}. {details}.",
    )


def figure_tendances(r: RapportQ2, indicateur: str):
    """Funded quartiers of the commune vs commune vs comparison quartiers, with 95 % intervals."""
    from matplotlib.ticker import MaxNLocator

    from cucs_analysis.present import plots

    s = r.series
    if s.empty:
        return None
    s = s[s["indicateur"] == indicateur]
    if s.empty or not (s["serie"] == "finances").any():
        return None
    libelle, unite = r.libelles.get(indicateur, indicateur), r.unites.get(indicateur, "")
    order = {k: i for i, k in enumerate(SERIES)}
    s = s.sort_values(["serie", "annee"], key=lambda c: c.map(order) if c.name == "serie" else c)
    fig = plots.series_temporelles(
        s,
        "annee",
        "valeur",
        "serie",
        f"{libelle} :\nquartiers financés, commune et quartiers de comparaison",
        libelle + (f" ({unite})" if unite and unite != "nombre" else ""),
        unite=unite if unite in ("%", "€") else None,
        bas="ic_bas",
        haut="ic_haut",
        libelles=SERIES,
    )
    ax = fig.axes[0]
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # no "22,5 %" shown as "23 %"
    ax.axvline(r.annee_traitement - 0.5, color=plots.GRIS, ls="--", lw=1)
    ax.annotate(
        f"financement renforcé (à partir de {r.annee_traitement})",
        (r.annee_traitement - 0.4, 1.0),
        xycoords=("data", "axes fraction"),
        va="top",
        fontsize=9,
        color=plots.GRIS,
    )
    fin = s.sort_values("annee").groupby("serie", sort=False).last()
    valeurs = text.liste_fr(
        [
            f"{SERIES[k]} : {text.valeur_unite(v, unite)} en {int(a)}"
            for k, v, a in zip(fin.index, fin["valeur"], fin["annee"], strict=False)
        ]
    )
    return plots.set_alt(
        fig,
        f"Courbes de {text.minuscule_initiale(libelle)} par année, avec intervalles de confiance à 95 %, pour les "
        f"quartiers financés de {r.nom_commune}, pour la commune et pour les quartiers de comparaison de la région. "
        f"Dernières valeurs : {valeurs}.",
    )


def figure_ecarts(r: RapportQ2, indicateur: str):
    """Gap of each quartier to the commune, first year vs last year (dumbbell)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from cucs_analysis.present import plots

    e = r.ecarts
    if e.empty:
        return None
    e = e[(e["indicateur"] == indicateur) & e["ecart_debut"].notna() & e["ecart_fin"].notna()]
    if e.empty:
        return None
    libelle, unite = r.libelles.get(indicateur, indicateur), r.unites.get(indicateur, "")
    e = e.sort_values("ecart_fin")
    y = list(range(len(e)))
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(e) + 1.8))
    ax.hlines(y, e["ecart_debut"], e["ecart_fin"], color=plots.GRIS, lw=2)
    a0, a1 = int(e["annee_debut"].min()), int(e["annee_fin"].max())
    ax.scatter(e["ecart_debut"], y, color=plots.OKABE_ITO["orange"], s=60, zorder=3, label=str(a0))
    ax.scatter(e["ecart_fin"], y, color=plots.OKABE_ITO["bleu"], s=60, zorder=3, label=str(a1))
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [f"{n} ({g})" for n, g in zip(e["nom"], e["groupe"].fillna("non classé"), strict=False)])
    ax.set_title(f"Écart à la commune : {text.minuscule_initiale(libelle)}")
    ax.set_xlabel("Écart au taux de la commune (points)" if unite == "%" else f"Écart à la commune ({unite})")
    ax.grid(axis="x", visible=True)
    ax.grid(axis="y", visible=False)
    plots.franciser_axes(ax, x="nombre", y=None, decimales=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="best")
    details = text.liste_fr(
        [
            f"{n} : {_ecart(d, unite)} puis {_ecart(f, unite)}"
            for n, d, f in zip(e["nom"], e["ecart_debut"], e["ecart_fin"], strict=False)
        ]
    )
    return plots.set_alt(
        fig,
        f"Graphique en haltères : écart de {text.minuscule_initiale(libelle)} entre chaque quartier de "
        f"{r.nom_commune} et la commune, en {a0} et en {a1}. {details}.",
    )


def figure_etude_evenement(r: RapportQ2, indicateur: str):
    """Event study: difference between funded and comparison quartiers year by year, relative
    to the year before the funding, with 95 % intervals."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from cucs_analysis.present import plots

    ev = r.etudes_evenement.get(indicateur)
    if ev is None or ev.empty:
        return None
    libelle, unite = r.libelles.get(indicateur, indicateur), r.unites.get(indicateur, "")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    pre = ev["annee"] < r.annee_traitement
    for mask, colour, label in (
        (pre, plots.GRIS, f"avant {r.annee_traitement}"),
        (~pre, plots.OKABE_ITO["bleu"], f"à partir de {r.annee_traitement}"),
    ):
        part = ev[mask]
        ax.errorbar(
            part["annee"],
            part["coefficient"],
            yerr=[part["coefficient"] - part["ic_bas"], part["ic_haut"] - part["coefficient"]],
            fmt="o",
            color=colour,
            capsize=3,
            label=label,
        )
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(r.annee_traitement - 0.5, color=plots.GRIS, ls="--", lw=1)
    ax.set_title(f"Étude d'événement : {text.minuscule_initiale(libelle)}")
    ax.set_xlabel("Année")
    ax.set_ylabel("Différence avec l'année de référence (points)" if unite == "%" else "Différence")
    plots.franciser_axes(ax, x=None, y="nombre", decimales=1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="best")
    ref = (
        int(ev.loc[ev["ic_bas"].eq(ev["ic_haut"]), "annee"].iloc[0])
        if ev["ic_bas"].eq(ev["ic_haut"]).any()
        else None
    )
    valeurs = text.liste_fr(
        [f"{int(a)} : {_ecart(c, unite)}" for a, c in zip(ev["annee"], ev["coefficient"], strict=False)]
    )
    return plots.set_alt(
        fig,
        f"Points avec intervalles de confiance à 95 % : pour chaque année, différence d'évolution de "
        f"{text.minuscule_initiale(libelle)} entre les quartiers financés et les quartiers de comparaison de la "
        f"région, par rapport à {ref if ref else 'l’année de référence'}. Des points proches de zéro avant "
        f"{r.annee_traitement} indiquent des évolutions parallèles avant le financement. Valeurs : {valeurs}.",
    )


def figure_enquetes(r: RapportQ2, annee: int | None = None):
    """Likert answers per statement and respondent type (diverging bars), with the 95 %
    interval of the agreement share; secret groups (fewer than the threshold) left out."""
    from cucs_analysis.present import plots

    s = r.enquetes
    if s.empty:
        return None
    annee = int(s["annee"].max()) if annee is None else annee
    shown = s[(s["annee"] == annee) & ~s["secret"]]
    if shown.empty:
        return None
    raw = r.reponses[r.reponses["annee"] == annee]
    if raw.empty:
        return None
    raw = raw.assign(
        libelle=[
            f"{_court(q, 55)} — {REPONDANTS.get(t, t).lower()}"
            for q, t in zip(raw["question"], raw["type_repondant"], strict=False)
        ]
    )
    fig = plots.barres_divergentes(
        raw, "libelle", "reponse", f"Points de vue croisés sur les quartiers ({annee})"
    )
    ax = fig.axes[0]
    # Keep the legend just under the axis whatever the figure's height.
    height = ax.get_position().height * fig.get_size_inches()[1]
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.9 / height), ncol=3, fontsize=9)
    # Bars are drawn in the crosstab's (sorted) label order: put each interval on its bar.
    counts = pd.crosstab(raw["libelle"], raw["reponse"]).reindex(columns=range(1, 6), fill_value=0)
    shares = counts.div(counts.sum(axis=1), axis=0) * 100
    start = shares[3] / 2  # agreement starts at the middle of the neutral answers
    idx = {lab: i for i, lab in enumerate(shares.index.astype(str))}
    n = counts.sum(axis=1)
    ok = counts[4] + counts[5]
    lo, hi = trends.wilson_interval(ok, n)
    centre = start + shares[4] + shares[5]
    ax.errorbar(
        centre,
        [idx[str(k)] for k in shares.index],
        xerr=[(centre - (start + lo)).clip(lower=0), ((start + hi) - centre).clip(lower=0)],
        fmt="none",
        ecolor="black",
        capsize=3,
        lw=1,
    )
    details = text.liste_fr(
        [
            f"{q} ({REPONDANTS.get(t, t).lower()}) : {text.pourcentage(v, 0)} d'accord"
            for t, q, v in zip(shown["type_repondant"], shown["question"], shown["accord"], strict=False)
        ]
    )
    return plots.set_alt(
        fig,
        f"Barres divergentes : réponses des habitants, des opérateurs et des partenaires aux affirmations de "
        f"l'enquête {annee} sur les quartiers de {r.nom_commune}, du désaccord (à gauche) à l'accord (à droite), "
        f"avec l'intervalle de confiance à 95 % de la part d'accord. {details}.",
    )


# --- tables as the notebook shows them (French strings, French headers) -----------------------


def _compte(v: object, secret: object) -> str:
    return text.SECRET if bool(secret) else text.nombre(v)


def _taux(v: object) -> str:
    return text.ND if text.manquant(v) else text.pourcentage(100 * float(v), 0)


def colonnes(df: pd.DataFrame) -> dict[str, str]:
    """Identity header mapping for `display.tableau` on a frame already in French."""
    return {c: c for c in df.columns}


def vue_actions(r: RapportQ2) -> pd.DataFrame:
    """The most significant actions: means and achievements."""
    a = r.actions_significatives
    if a.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "Rang": [str(i) for i in range(1, len(a) + 1)],
            "Action": a["intitule"],
            "Quartier": a["quartier"],
            "Années": a["periode"],
            "Crédits spécifiques": a["credits_specifiques"].map(text.euros),
            "Cofinancements de droit commun": a["cofinancements"].map(text.euros),
            "Bénéficiaires prévus": [
                _compte(v, s)
                for v, s in zip(a["beneficiaires_prevus"], a["beneficiaires_prevus_secret"], strict=False)
            ],
            "Bénéficiaires touchés": [
                _compte(v, s)
                for v, s in zip(a["beneficiaires_realises"], a["beneficiaires_realises_secret"], strict=False)
            ],
            "Réalisation": a["taux_realisation"].map(_taux),
            "Crédits par bénéficiaire": a["cout_par_beneficiaire"].map(text.euros),
        }
    )


def vue_actions_declarees(r: RapportQ2) -> pd.DataFrame:
    """The most significant actions as declared: operator, theme, public and objective."""
    a = r.actions_significatives
    if a.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "Rang": [str(i) for i in range(1, len(a) + 1)],
            "Action": a["intitule"],
            "Opérateur": a["operateur"],
            "Thématique": a["thematique"],
            "Dispositif": a["dispositif"].fillna(text.ND),
            "Public visé (déclaré)": a["public_cible"].fillna(text.ND),
            "Objectif (déclaré)": a["objectif"].fillna(text.ND),
        }
    )


def vue_publics(r: RapportQ2) -> pd.DataFrame:
    p = r.publics
    if p.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "Public visé (déclaré)": p["public_cible"],
            "Actions": p["actions"].map(text.nombre),
            "Crédits spécifiques": p["credits_specifiques"].map(text.euros),
            "Bénéficiaires prévus": [
                _compte(v, s)
                for v, s in zip(p["beneficiaires_prevus"], p["beneficiaires_prevus_secret"], strict=False)
            ],
            "Bénéficiaires touchés": [
                _compte(v, s)
                for v, s in zip(p["beneficiaires_realises"], p["beneficiaires_realises_secret"], strict=False)
            ],
            "Réalisation": p["taux_realisation"].map(_taux),
        }
    )


def vue_bilans(r: RapportQ2) -> pd.DataFrame:
    b = r.bilans
    if b.empty:
        return pd.DataFrame()
    entetes = {
        "réussite": "Réussites",
        "difficulté": "Difficultés",
        "blocage": "Blocages",
        "écart expliqué": "Écarts expliqués",
    }
    out = pd.DataFrame({"Action": b["intitule"]})
    for c, h in entetes.items():
        if c in b:
            out[h] = b[c].map(text.nombre)
    out["Thème le plus cité"] = b["theme_principal"].fillna(text.ND)
    return out


def vue_intensite(r: RapportQ2) -> pd.DataFrame:
    i = r.intensite
    if i.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "Quartier": i["nom"],
            f"Crédits aux associations par habitant et par an (depuis {r.annee_traitement})": i[
                "intensite_moyenne"
            ].map(lambda v: text.euros(v, 1)),
            "Groupe": i["statut"],
        }
    )


def vue_ecarts(r: RapportQ2) -> pd.DataFrame:
    e = r.ecarts
    if e.empty:
        return pd.DataFrame()
    unite = e["indicateur"].map(r.unites).fillna("")
    tendances = {"hausse": "en hausse", "baisse": "en baisse", "stable": "pas de tendance nette"}
    return pd.DataFrame(
        {
            "Quartier": e["nom"],
            "Groupe": e["groupe"].fillna("non classé"),
            "Indicateur": e["indicateur"].map(r.libelles).fillna(e["indicateur"]),
            "Écart au début": [
                f"{_ecart(v, u)} ({int(a)})" if not text.manquant(v) else text.ND
                for v, u, a in zip(e["ecart_debut"], unite, e["annee_debut"].fillna(0), strict=False)
            ],
            "Écart à la fin": [
                f"{_ecart(v, u)} ({int(a)})" if not text.manquant(v) else text.ND
                for v, u, a in zip(e["ecart_fin"], unite, e["annee_fin"].fillna(0), strict=False)
            ],
            "Évolution de l'écart": e["convergence"]
            .map({"convergence": "réduit", "divergence": "creusé", "stable": "stable"})
            .fillna(text.ND),
            "Écart significatif (dernière année)": e["comparaison_fin"].fillna(text.ND),
            "Tendance du quartier": e["tendance"].map(tendances).fillna("non calculable"),
        }
    )


def vue_did(r: RapportQ2) -> pd.DataFrame:
    d = r.did
    if d.empty:
        return pd.DataFrame()
    unite = d["indicateur"].map(r.unites).fillna("")
    ok = {True: "oui", False: "non"}
    return pd.DataFrame(
        {
            "Indicateur": d["indicateur"].map(r.libelles).fillna(d["indicateur"]),
            "Écart d'évolution estimé": [_ecart(v, u) for v, u in zip(d["estimation"], unite, strict=False)],
            "Intervalle de confiance à 95 %": [
                _intervalle(lo, hi, u) for lo, hi, u in zip(d["ic_bas"], d["ic_haut"], unite, strict=False)
            ],
            "p-valeur": d["p_value"].map(
                lambda v: text.ND if text.manquant(v) else ("< 0,001" if v < 0.001 else text.nombre(v, 3))
            ),
            "Quartiers financés": d["n_traites"].map(text.nombre),
            "Quartiers de comparaison": (d["n_quartiers"] - d["n_traites"]).map(text.nombre),
            "Évolutions parallèles avant le financement": d["pre_tendance_ok"].map(
                lambda v: "non testable" if text.manquant(v) else ok[bool(v)]
            ),
        }
    )


def vue_enquetes(r: RapportQ2) -> pd.DataFrame:
    """One row per statement × respondent type, one pair of columns per survey year."""
    s = r.enquetes
    if s.empty:
        return pd.DataFrame()
    cell_n = [_compte(v, sec) for v, sec in zip(s["n"], s["secret"], strict=False)]
    cell_ok = [
        text.SECRET
        if sec
        else f"{text.pourcentage(v, 0)} ({text.pourcentage(lo, 0)} à {text.pourcentage(hi, 0)})"
        for v, lo, hi, sec in zip(s["accord"], s["ic_bas"], s["ic_haut"], s["secret"], strict=False)
    ]
    long = s[["question", "type_repondant", "annee"]].assign(n=cell_n, ok=cell_ok)
    wide = long.pivot(index=["question", "type_repondant"], columns="annee", values=["n", "ok"])
    out = pd.DataFrame(
        {
            "Affirmation": wide.index.get_level_values(0),
            "Répondants": [REPONDANTS.get(t, t) for t in wide.index.get_level_values(1)],
        }
    )
    for a in sorted(s["annee"].unique()):
        out[f"Réponses {int(a)}"] = wide[("n", a)].fillna(text.ND).to_numpy()
        out[f"D'accord {int(a)} (IC à 95 %)"] = wide[("ok", a)].fillna(text.ND).to_numpy()
    order = {k: i for i, k in enumerate(REPONDANTS.values())}
    return out.sort_values(
        ["Affirmation", "Répondants"], key=lambda c: c.map(order) if c.name == "Répondants" else c
    ).reset_index(drop=True)


def vue_contribution(r: RapportQ2) -> pd.DataFrame:
    c = r.contribution
    if c.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "Maillon de la chaîne de contribution": c["etape"],
            "Ce que montrent les données": c["constat"],
            "Lecture": c["lecture"],
        }
    )


def sources(r: RapportQ2, params, metadata) -> list[str]:
    """The 'Sources et méthode' list, with the values actually used."""
    p = params.did
    return [
        f"Données : {metadata.nom} ({text.annee_periode(metadata.annee_debut, metadata.annee_fin)})"
        + (" — données synthétiques de démonstration." if metadata.synthetique else "."),
        "Moyens : crédits spécifiques accordés (type de crédit « spécifique ») aux actions dont l'opérateur est "
        "une association ; bénéficiaires prévus et touchés sommés sur les années où l'action est réalisée.",
        f"Actions les plus significatives : les {N_ACTIONS} actions associatives ayant reçu le plus de crédits "
        "spécifiques sur la période ; intitulés, publics et objectifs tels que déclarés dans la programmation.",
        f"Intensité du financement : crédits spécifiques aux associations par habitant du quartier ; quartier "
        f"« financé » au-delà de {text.euros(p.seuil_intensite)} par habitant et par an en moyenne à partir de "
        f"{p.annee_traitement}, « de comparaison » en deçà de {text.euros(p.seuil_comparaison)}, les autres sont "
        "écartés de la comparaison.",
        "Écarts : différence entre le quartier et sa commune (en points pour un taux), à la première et à la dernière "
        f"année connues ; écart « réduit » ou « creusé » au-delà de {text.nombre(params.convergence.tolerance_points, 1)} "
        "point ; un écart n'est dit significatif que si les intervalles de confiance à 95 % (méthode de Wilson) ne se "
        "chevauchent pas ; la tendance d'un quartier est la pente de la régression sur les années, retenue si son "
        "intervalle à 95 % exclut zéro.",
        "Séries « quartiers financés » et « quartiers de comparaison » : taux recalculés sur l'ensemble des quartiers "
        "du groupe (somme des numérateurs sur somme des dénominateurs), valeurs secrètes exclues.",
        f"Différence de différences : panel quartier × année de toute la région, effets fixes quartier et année "
        f"(modèle « y ~ financé × après {p.annee_traitement} + quartier + année »), erreurs types regroupées par "
        "quartier, intervalle à 95 % (loi de Student) ; vérification des évolutions parallèles avant le financement "
        "(pente différente des deux groupes non significative au seuil de 5 %) ; étude d'événement par rapport à "
        f"l'année {p.annee_traitement - 1}.",
        "Enquêtes : part des réponses « plutôt » ou « tout à fait d'accord » (échelle de 1 à 5) sur les quartiers de "
        "la commune, avec un intervalle de confiance à 95 % (méthode de Wilson).",
        f"Secret statistique : aucun effectif inférieur à {r.seuil_secret} n'est publié (affiché « s ») ; les parts "
        "et les taux calculés sur un effectif secret sont masqués aussi.",
        "Analyse de contribution : lecture de la chaîne moyens → réalisations → évolution des indicateurs → "
        "comparaison → perception, et examen des explications concurrentes ; elle indique une tendance, pas une preuve.",
    ]
