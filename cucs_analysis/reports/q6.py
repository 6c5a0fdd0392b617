"""q6 — « Comment l'action du CUCS permet d'avoir des opérateurs adaptés aux besoins des
territoires ? »: everything the notebook shows, computed from one commune's Territory and the
region stage (the steering model of every commune, to place this one among the others).

The notebook calls `build(territoire, region, params)`, then shows each table as
`d.tableau(q6.vue_<name>(r), legende=…)` and each figure as `d.figure(q6.figure_<name>(r), …)`;
the French findings are generated here so that they are tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cucs_analysis.analysis import motifs, operators, privacy, trends
from cucs_analysis.data.schema import TABLES
from cucs_analysis.present import display, labels, text
from cucs_analysis.present.labels import libelle_domaine, majuscule
from cucs_analysis.reports import rapport
from cucs_analysis.reports.rapport import Rapport, chiffre_cle

#: Below this base (operators funded the year before) in either period a renewal rate is a
#: « petite base » (docs/rules.md).
BASE_MIN = 30
#: Why granted vs requested is not computed from a State-only funding source (issue 11).
RAISON_ETAT_SEUL = rapport.RAISON_ETAT_SEUL
#: Why granted vs requested is not computed when no requested amount is known.
RAISON_DEMANDE_INCONNUE = "montant demandé inconnu"
#: Why nothing of the CUCS is read for a commune whose signatory status is unknown.
RAISON_SIGNATAIRE_INCONNU = rapport.SIGNATAIRE_INCONNU
#: The columns of an absent table (issue 11: actions and operateurs are optional).
ACTION_COLUMNS = list(TABLES["actions"].column_names)
OPERATEUR_COLUMNS = list(TABLES["operateurs"].column_names)


#: The funding source holds only the State's share (`financements_perimetre: etat_seul`).
perimetre_etat_seul = rapport.financements_etat_seul


#: The shared reading of `communes.signataire_cucs` (True, False, None when unknown).
statut_signataire = rapport.statut_signataire


#: The beneficiary counts of the performance table and the values computed from them.
BASES_BENEFICIAIRES = {
    "prevus_realisees": ["realises", "taux_realisation"],
    "realises": ["prevus_realisees", "taux_realisation"],
    "prevus": [],
    "prevus_non_realisees": [],
}
#: The notebook's section headings (exact text of its « ## » lines): the verdict links to one.
SECTIONS = {
    "en_bref": "En bref",
    "performance": "1. La performance des opérateurs : bénéficiaires et moyens",
    "ecarts": "2. Les écarts expliqués dans les bilans des opérateurs",
    "reperage": "3. Les opérateurs par nature d'intervention et par échelle",
    "non_pourvues": "4. Les actions prioritaires jamais réalisées faute d'opérateur",
    "associations": "5. Les petites associations face aux appels à projets",
    "pilotage": "6. Les rencontres avec les opérateurs et le modèle de pilotage",
}
#: What each section describes, for the one « hors CUCS » sentence of a non-signatory commune.
OBJETS_SECTIONS = {
    "performance": "la performance des opérateurs du CUCS",
    "ecarts": "l'analyse des bilans des opérateurs du CUCS",
    "reperage": "le repérage des opérateurs du CUCS",
    "non_pourvues": "le suivi des actions prioritaires du CUCS",
    "associations": "le renouvellement des financements du CUCS aux associations",
    "pilotage": "le modèle de pilotage du CUCS",
}
#: French titles of the list-valued results keys (the published CSV files).
LIBELLES_TABLES = {
    "sous_performants": "Opérateurs en dessous du seuil de réalisation",
    "actions_non_pourvues_liste": "Actions prioritaires restées sans opérateur",
    "reunions": "Réunions avec les opérateurs par type et par nature",
    "renouvellement_periodes": "Renouvellement des financements des associations avant et pendant le CUCS",
}
FAMILLES_LIBELLES = {
    "travail_collectif": "Travail collectif (réunions collectives, groupes thématiques)",
    "consignes": "Transmission de consignes",
    "soutien_individuel": "Soutien individuel",
    "instances_pilotage": "Instances de pilotage (comités)",
    "autre": "Autre",
}
CLASSES_LIBELLES = {
    "petite": "petites",
    "moyenne": "moyennes",
    "grande": "grandes",
    "inconnue": "de budget inconnu",
}
AXES_LIBELLES = {
    "participatif": "participatif",
    "descendant": "descendant",
    "adaptable": "adaptable",
    "fige": "figé",
}
CATEGORIES_PLURIELS = {
    "réussite": "réussites",
    "difficulté": "difficultés",
    "blocage": "blocages",
    "écart expliqué": "écarts expliqués",
}


@dataclass
class RapportQ6(Rapport):
    code_commune: str
    nom_commune: str
    signataire: bool | None  # None: the signatory status is unknown (never « hors CUCS »)
    a_programme: bool  # the commune has actions in the data
    a_instances: bool
    a_bilans: bool
    periode: tuple[int, int]
    annee_debut_cucs: int
    seuil_realisation: float
    min_annees: int
    bornes_budget: tuple[float, float]
    seuil_participatif: float
    seuil_adaptable: float
    decalage_annees: int
    seuil_secret: int
    performance: pd.DataFrame  # operators.performance + names, beneficiaries after secrecy (NaN + *_secret)
    sous_performants: list[str]
    bilans_themes: pd.DataFrame  # operators.statements_by_theme, every operator, after secrecy
    bilans_sous_performants: pd.DataFrame  # the same for the under-performing operators
    ecarts_operateurs: pd.DataFrame  # per under-performing operator: themes of its explained gaps
    operateurs: pd.DataFrame  # operators.active_operators
    domaines_echelles: pd.DataFrame  # operators.domains_by_scale
    origine: pd.DataFrame  # operators.operators_by_home (active operators)
    non_pourvues: pd.DataFrame  # operators.unfilled_priority_actions + quartier name
    survie: pd.DataFrame  # operators.funding_survival (associations)
    renouvellement: pd.DataFrame  # operators.renewal_by_year (associations)
    renouvellement_periodes: pd.DataFrame  # trends.compare_periods by classe
    reunions: pd.DataFrame  # operators.meetings_by_type
    reunions_familles: pd.DataFrame  # operators.meetings_by_family_year
    modele: dict  # this commune's row of region.modeles_pilotage
    modeles: pd.DataFrame  # region.modeles_pilotage
    contours_communes: pd.DataFrame | None = None
    base_min: int = BASE_MIN
    etat_seul: bool = False  # the funding source holds only the State's share
    statuts_inconnus: int = 0  # active operators whose legal status is unknown (not counted as associations)
    actions_priorite_inconnue: int = 0  # distinct actions whose priority flag or status is unknown

    # absence(quoi, table): table `programme` (default), `instances` or `bilans` (rapport.Rapport)

    @property
    def decrit(self) -> bool:
        """The commune's operators are described: a signatory, or a commune whose signatory status
        is unknown but whose programme rows are in the data (with one caveat)."""
        return bool(self.signataire) or (
            self.signataire is None and (self.a_programme or self.a_instances or self.a_bilans)
        )

    @property
    def inconnu_sans_donnees(self) -> bool:
        """Unknown signatory status and no programme rows: « données non disponibles »."""
        return self.signataire is None and not self.decrit

    @property
    def raison_accord(self) -> str | None:
        """Why granted vs requested is n.d. (State-only source, no requested amount known), or None."""
        if self.etat_seul:
            return RAISON_ETAT_SEUL
        p = self.performance
        if self.a_programme and not p.empty and p["montant_demande"].fillna(0).sum() <= 0:
            if int(p["demandes_montant_inconnu"].sum()) > 0:
                return RAISON_DEMANDE_INCONNUE
        return None

    def vide_texte(self, section: str, defaut: str) -> str:
        """What a section's list says when it has no sentence: for a non-signatory commune, the one
        « Hors CUCS » sentence of the section; else `defaut` (« Données non disponibles : … »)."""
        if self.inconnu_sans_donnees:
            return f"Données non disponibles : {RAISON_SIGNATAIRE_INCONNU} — on ne peut pas évaluer {OBJETS_SECTIONS[section]}."
        if self.decrit:
            return defaut
        if section == "pilotage":
            return f"Hors CUCS : {self.nom_commune} n'a pas de modèle de pilotage du CUCS à situer."
        return f"Hors CUCS : {OBJETS_SECTIONS[section]} est sans objet à {self.nom_commune}."

    @property
    def motif_instances(self) -> str | None:
        return self.motif_table(self.a_instances)

    @property
    def motif_bilans(self) -> str | None:
        return self.motif_table(self.a_bilans)

    @property
    def juges(self) -> pd.DataFrame:
        p = self.performance
        return p[p["sous_performant"].notna()] if not p.empty else p

    def resultats(self) -> dict:
        """The q6 keys of the results contract (DESIGN.md §6), with `verdict`."""
        mp = self.motif_programme
        m = self.modele
        mi = m.get("motif_descendant_participatif") in (motifs.HORS_CUCS, motifs.DONNEE_ABSENTE)
        ma = m.get("motif_fige_adaptable") in (motifs.HORS_CUCS, motifs.DONNEE_ABSENTE)
        modele = {
            "axe_descendant_participatif": m.get("axe_descendant_participatif"),
            "motif_descendant_participatif": m.get("motif_descendant_participatif"),
            "part_participatif": _num(m.get("part_participatif")),
            "reunions_collectives": None if mi else _num(m.get("reunions_collectives")),
            "reunions_consignes": None if mi else _num(m.get("reunions_consignes")),
            "seuil_participatif": self.seuil_participatif,
            "axe_fige_adaptable": m.get("axe_fige_adaptable"),
            "motif_fige_adaptable": m.get("motif_fige_adaptable"),
            "part_adaptable": _num(m.get("part_adaptable")),
            "actions": None if ma else _num(m.get("actions")),
            "actions_nouvelles": None if ma else _num(m.get("actions_nouvelles")),
            "seuil_adaptable": self.seuil_adaptable,
        }
        np_ = self.non_pourvues
        return {
            "sous_performants": None if mp else list(self.sous_performants),
            "sous_performants_motif": mp,
            "operateurs_juges": None if mp else len(self.juges),
            # unknown priority or status with none found: n.d., never a measured 0
            "actions_non_pourvues": None
            if mp or (np_.empty and self.actions_priorite_inconnue)
            else len(np_),
            "actions_non_pourvues_motif": mp
            or (motifs.DONNEE_ABSENTE if np_.empty and self.actions_priorite_inconnue else None),
            "actions_non_pourvues_liste": [
                {
                    "id_action": str(row.id_action),
                    "intitule": str(row.intitule),
                    "thematique": str(row.thematique),
                    "premiere_annee": int(row.premiere_annee),
                    "derniere_annee": int(row.derniere_annee),
                }
                for row in np_.itertuples()
            ],
            "modele_pilotage": modele,
            "reunions": [
                {"type": str(t), "famille": str(f), "nombre": int(n)}
                for t, f, n in zip(
                    self.reunions["type"], self.reunions["famille"], self.reunions["nombre"], strict=True
                )
            ],
            "reunions_motif": self.motif_instances,
            "renouvellement_periodes": [
                # a null rate always carries its reason (a measured base of 0: non calculable)
                d | ({"motif": d["motif"] or motifs.NON_CALCULABLE} if d.get("valeur_avant") is None else {})
                for d in rapport.periodes_json(
                    self.renouvellement_periodes, "classe", mp, trends.PERIODE_COLUMNS, _num
                )
            ],
            "verdict": self.verdict,
            "libelles_tables": dict(LIBELLES_TABLES),
            "libelles_codes": {
                "famille": {k: v for k, v in FAMILLES_LIBELLES.items()},
                "classe": {c: _libelle_classe(self, c) for c in operators.CLASSES_TAILLE},
            },
        }


def _num(x: object) -> float | int | None:
    return rapport.nombre_json(x, 4)


# --- computations ------------------------------------------------------------------------------


def petite_base_renouvellement(rp: pd.DataFrame, base_min: int) -> pd.Series:
    """A renewal rate's base is small when the base of a period is under `base_min`: « pendant »
    always, « avant » when that period is measured (a measured 0 counts: no association of that
    size funded before the CUCS)."""
    avant = rp["avant_testable"].astype(bool) & (rp["denominateur_avant"].fillna(0) < base_min)
    return avant | (rp["denominateur_pendant"].fillna(0) < base_min)


def _secret_bilans(df: pd.DataFrame, seuil: int) -> pd.DataFrame:
    """Statement counts (theme × category + total) under secrecy, with a `<col>_secret` flag each."""
    cols = [*operators.CATEGORIES_BILANS, "total"]
    return privacy.secret_columns(df, cols, seuil, "both", "total")


def _secret_performance(perf: pd.DataFrame, seuil: int) -> pd.DataFrame:
    """Beneficiary counts of each operator hidden below the threshold, with the rate that rests on
    them (`privacy.hide_small_bases`); `<col>_secret` flags."""
    cols = ["prevus_realisees", "realises", "taux_realisation", "prevus", "prevus_non_realisees"]
    if perf.empty:
        return perf.assign(**{f"{c}_secret": pd.Series(dtype=bool) for c in cols})
    return privacy.hide_small_bases(perf, BASES_BENEFICIAIRES, seuil).with_flags(cols)


#: The categories of the statements that rank the themes of the « écarts » (réussites apart).
CATEGORIES_DIFFICULTES = ("difficulté", "blocage", "écart expliqué")


def classer_difficultes(df: pd.DataFrame) -> pd.DataFrame:
    """Themes ranked by their difficultés + blocages + écarts expliqués (then by total, theme):
    `rang_difficultes` 1, 2… for themes with at least one such statement, NaN for the others."""
    if df.empty:
        return df.assign(rang_difficultes=pd.Series(dtype=float))
    cles = df[list(CATEGORIES_DIFFICULTES)].sum(axis=1)
    out = (
        df.assign(_cle=cles)
        .sort_values(["_cle", "total", "theme"], ascending=[False, False, True], kind="stable")
        .reset_index(drop=True)
    )
    out["rang_difficultes"] = pd.Series(np.arange(1, len(out) + 1), dtype=float).where(out["_cle"] > 0)
    return out.drop(columns="_cle")


def _themes(df: pd.DataFrame) -> pd.Series:
    """id_operateur → its themes (most frequent first), joined in French."""
    if df.empty:
        return pd.Series(dtype=object)
    return df.groupby("id_operateur", sort=False)["theme"].agg(lambda s: text.liste_fr(list(s)))


def _priorite_inconnue(actions: pd.DataFrame) -> int:
    """Distinct actions whose `prioritaire` flag or `statut` is unknown: « never filled » cannot be
    decided for them."""
    if actions is None or actions.empty:
        return 0
    inconnu = pd.Series(False, index=actions.index)
    for c in ("prioritaire", "statut"):
        if c in actions:
            v = actions[c].astype("string").str.strip()
            inconnu |= (v.isna() | (v == "") | (v.str.lower() == "inconnu")).fillna(True).astype(bool)
    return int(actions.loc[inconnu, "id_action"].nunique())


def build(territoire, region, params) -> RapportQ6:
    code = territoire.code_commune
    nom = str((territoire.commune or {}).get("nom") or code)
    signataire = statut_signataire(territoire)
    etat_seul = perimetre_etat_seul(territoire.metadata)
    # an unknown status (None) is never « hors CUCS »: the programme rows present are read
    lit = rapport.lit_programme(signataire)

    def part_de(df):
        return df if lit and df is not None else (df.iloc[0:0] if df is not None else pd.DataFrame())

    actions, fin, inst, bilans = (
        part_de(territoire.actions),
        part_de(territoire.financements),
        part_de(territoire.instances),
        part_de(territoire.bilans),
    )
    if actions.empty or "id_operateur" not in actions:  # an absent table (issue 11)
        actions = pd.DataFrame(columns=ACTION_COLUMNS) if actions.empty else actions
    a_programme = lit and not actions.empty
    a_instances = lit and not inst.empty
    a_bilans = lit and not bilans.empty
    debut, fin_periode = int(params.periode.debut), int(params.periode.fin)
    annee_cucs = int(params.annee_debut_cucs)
    po, pp = params.operateurs, params.pilotage
    seuil_secret = int(params.seuil_secret)

    ops = territoire.operateurs
    if ops is None or ops.empty or "id_operateur" not in ops:
        ops = pd.DataFrame(columns=OPERATEUR_COLUMNS)
    actifs = operators.active_operators(ops, actions)
    perf = operators.performance(actions, fin, float(po.seuil_realisation), int(po.min_annees_realisees))
    if etat_seul:
        # only the State's share is in the source: what was requested of and granted by all the
        # funders is unknown
        perf = perf.assign(montant_demande=np.nan, montant_accorde=np.nan, taux_accord=np.nan)
    sous = operators.underperformers(perf)
    info = ["id_operateur", "nom", "statut_juridique", "echelle", "budget_annuel"]
    perf = perf.merge(ops[[c for c in info if c in ops]], on="id_operateur", how="left")
    perf = _secret_performance(perf, seuil_secret)

    b_all = _secret_bilans(classer_difficultes(operators.statements_by_theme(bilans, actions)), seuil_secret)
    b_sous = _secret_bilans(
        classer_difficultes(operators.statements_by_theme(bilans, actions, sous)), seuil_secret
    )
    ecarts = pd.DataFrame({"id_operateur": sous})
    if sous:
        ecarts["themes_ecarts"] = ecarts["id_operateur"].map(
            _themes(operators.statements_by_operator(bilans, actions, sous, "écart expliqué"))
        )
        ecarts["themes_difficultes"] = ecarts["id_operateur"].map(
            _themes(
                pd.concat(
                    [
                        operators.statements_by_operator(bilans, actions, sous, "difficulté"),
                        operators.statements_by_operator(bilans, actions, sous, "blocage"),
                    ]
                )
                .groupby(["id_operateur", "theme"], as_index=False)["enonces"]
                .sum()
                .sort_values(["id_operateur", "enonces", "theme"], ascending=[True, False, True])
            )
        )
        ecarts = ecarts.merge(perf[["id_operateur", "nom", "taux_realisation", "taux_realisation_secret"]])
    else:
        ecarts = ecarts.assign(
            themes_ecarts=pd.Series(dtype=object),
            themes_difficultes=pd.Series(dtype=object),
            nom=pd.Series(dtype=object),
            taux_realisation=pd.Series(dtype=float),
            taux_realisation_secret=pd.Series(dtype=bool),
        )

    nonp = operators.unfilled_priority_actions(actions)
    noms_q = dict(zip(territoire.quartiers["code_quartier"], territoire.quartiers["nom"], strict=False))
    nonp["quartier"] = nonp["code_quartier"].map(noms_q)
    nonp["quartier"] = nonp["quartier"].where(nonp["quartier"].notna(), "Toute la commune")

    statut = (
        actifs["statut_juridique"].astype("string").str.strip()
        if not actifs.empty
        else pd.Series(dtype="string")
    )
    statuts_inconnus = int((statut.isna() | (statut == "") | (statut.str.lower() == "inconnu")).sum())
    assoc = actifs[(statut == "association").fillna(False).astype(bool)] if not actifs.empty else actifs
    classes = pd.Series(
        operators.size_class(assoc["budget_annuel"], po.bornes_budget).to_numpy()
        if not assoc.empty
        else np.array([], dtype=object),
        index=assoc["id_operateur"].to_numpy() if not assoc.empty else [],
        dtype=object,
    )
    funded = operators.funded_years(actions[actions["id_operateur"].isin(classes.index)], fin)
    renouv = operators.renewal_by_year(funded, classes, debut, fin_periode)
    kw = {"annee_debut_cucs": annee_cucs, "debut": debut, "fin": fin_periode}
    if renouv.empty:
        renouv_p = pd.DataFrame(columns=["classe", *trends.PERIODE_COLUMNS])
    else:
        renouv_p = trends.compare_periods(
            renouv,
            numerateur="renouveles",
            denominateur="finances_precedente",
            by=["classe"],
            base_min=BASE_MIN,
            **kw,
        )
        ordre = {c: i for i, c in enumerate(operators.CLASSES_TAILLE)}
        renouv_p = renouv_p.sort_values("classe", key=lambda s: s.map(ordre)).reset_index(drop=True)
        renouv_p["petite_base"] = petite_base_renouvellement(renouv_p, BASE_MIN)
    survie = operators.funding_survival(funded, classes, fin_periode)

    modeles = getattr(region, "modeles_pilotage", None)
    if modeles is None or modeles.empty:
        modeles = operators.steering_model(
            inst,
            actions,
            pd.DataFrame([territoire.commune or {"code_commune": code}]).assign(code_commune=code),
            annee_debut_cucs=annee_cucs,
            decalage_annees=int(pp.decalage_annees),
            seuil_participatif=float(pp.seuil_participatif),
            seuil_adaptable=float(pp.seuil_adaptable),
        )
    row = modeles[modeles["code_commune"].astype(str) == code]
    modele = (
        {k: (None if text.manquant(v) else v) for k, v in row.iloc[0].to_dict().items()} if len(row) else {}
    )
    if not modele:
        modele = {
            "axe_descendant_participatif": None,
            "axe_fige_adaptable": None,
            "motif_descendant_participatif": motifs.DONNEE_ABSENTE
            if signataire is None
            else motifs.motif_commune(signataire, False),
            "motif_fige_adaptable": motifs.DONNEE_ABSENTE
            if signataire is None
            else motifs.motif_commune(signataire, False),
        }

    r = RapportQ6(
        code_commune=code,
        nom_commune=nom,
        signataire=signataire,
        a_programme=a_programme,
        a_instances=a_instances,
        a_bilans=a_bilans,
        periode=(debut, fin_periode),
        annee_debut_cucs=annee_cucs,
        seuil_realisation=float(po.seuil_realisation),
        min_annees=int(po.min_annees_realisees),
        bornes_budget=(float(po.bornes_budget[0]), float(po.bornes_budget[1])),
        seuil_participatif=float(pp.seuil_participatif),
        seuil_adaptable=float(pp.seuil_adaptable),
        decalage_annees=int(pp.decalage_annees),
        seuil_secret=seuil_secret,
        performance=perf,
        sous_performants=sous,
        bilans_themes=b_all,
        bilans_sous_performants=b_sous,
        ecarts_operateurs=ecarts,
        operateurs=actifs,
        domaines_echelles=operators.domains_by_scale(actifs),
        origine=operators.operators_by_home(actifs),
        non_pourvues=nonp,
        survie=survie,
        renouvellement=renouv,
        renouvellement_periodes=renouv_p,
        reunions=operators.meetings_by_type(inst),
        reunions_familles=operators.meetings_by_family_year(inst),
        modele=modele,
        modeles=modeles,
        contours_communes=getattr(region, "contours_communes", None),
        etat_seul=etat_seul,
        statuts_inconnus=statuts_inconnus,
        actions_priorite_inconnue=_priorite_inconnue(actions),
    )
    _narrate(r)
    rapport.constat_contrat(r, territoire, r.a_programme)
    return r


# --- French sentences ------------------------------------------------------------------------------


def _pct(x: float, d: int = 1) -> str:
    return text.pourcentage(100 * float(x), d)


def _seuil(r: RapportQ6) -> str:
    """« seuil de réalisation de 70 % »."""
    return f"seuil de réalisation de {_pct(r.seuil_realisation, 0)}"


def _entete_seuil(r: RapportQ6) -> str:
    """The header of the performance table's yes/no column."""
    return f"En dessous du {_seuil(r)}"


#: Below this gap (in points) between the share granted to the operators under the threshold and
#: to all operators, the two shares are « comparable ».
ECART_ACCORD_COMPARABLE = 2.0


def phrase_accord_sous_seuil(
    r: RapportQ6, n: int, accorde: float, demande: float, acc_tous: float, dem_tous: float
) -> str:
    """The share of the requested amounts granted to the operators under the threshold, with its
    amounts, against all operators; a description, not a cause."""
    t, t_tous = 100 * accorde / demande, 100 * acc_tous / dem_tous
    ecart = text.difference_affichee(t_tous, t, 1)
    if abs(ecart) < ECART_ACCORD_COMPARABLE:
        lecture = (
            "une part comparable, qui n'oriente pas vers un financement réduit ; les autres pistes (objectif, public, "
            "calendrier) sont à mettre en débat"
        )
    elif ecart < 0:
        lecture = (
            f"une part plus faible de {text.points(-ecart)} ; un financement réduit est une piste à examiner avec les "
            "autres (objectif, public, calendrier)"
        )
    else:
        lecture = (
            f"une part plus élevée de {text.points(ecart)}, qui n'oriente pas vers un financement réduit ; les autres "
            "pistes (objectif, public, calendrier) sont à mettre en débat"
        )
    sujet = (
        f"Les {text.nombre(n)} opérateurs sous le seuil obtiennent"
        if n >= 2
        else "L'opérateur sous le seuil obtient"
    )
    return (
        f"{sujet} {text.pourcentage(t)} des montants demandés ({text.euros(accorde)} sur {text.euros(demande)}), "
        f"contre {text.pourcentage(t_tous)} pour l'ensemble des opérateurs, {lecture}."
    )


def _annees_nouvelles(r: RapportQ6) -> tuple[int, str]:
    """The first year counted as « programmed well after the start » and the early years, as text."""
    a = r.annee_debut_cucs + r.decalage_annees
    return a, text.annee_periode(r.annee_debut_cucs, a - 1)


def _libelle_adaptable(r: RapportQ6) -> str:
    """« programmées pour la première fois en 2009 ou après (2 ans ou plus après le début du CUCS) »."""
    a, _ = _annees_nouvelles(r)
    return (
        f"programmées pour la première fois en {a} ou après ({text.pluriel(r.decalage_annees, 'an')} ou plus après "
        "le début du CUCS)"
    )


def _regle_participatif(r: RapportQ6) -> str:
    return (
        f"participatif quand les réunions de travail collectif font au moins {_pct(r.seuil_participatif, 0)} "
        "des réunions collectives et de consignes, descendant sinon"
    )


def _regle_adaptable(r: RapportQ6) -> str:
    return f"adaptable quand au moins {_pct(r.seuil_adaptable, 0)} des actions ont été {_libelle_adaptable(r)}, figé sinon"


def _narrate_hors_cucs(r: RapportQ6) -> None:
    r.constats.append(labels.phrase_hors_cucs(r.nom_commune, "l'adaptation des opérateurs du CUCS"))
    # no section sentence: each section says it once, as the « vide » of its list (`vide_texte`)
    r.reserves.append(
        f"{r.nom_commune} n'étant pas signataire, aucun opérateur n'y est financé au titre du CUCS ; elle sert de "
        "comparaison aux communes signataires."
    )


def _narrate_performance(r: RapportQ6) -> None:
    p = r.performance
    if p.empty:
        return
    j = r.juges
    n_sous = len(r.sous_performants)
    minimum = text.pluriel(r.min_annees, "action-année réalisée", "actions-années réalisées")
    r.constat(
        "performance",
        f"{text.pluriel(len(p), 'opérateur porte', 'opérateurs portent')} des actions à {r.nom_commune} ; "
        + (
            f"{text.parmi(len(j), len(p), 'opérateur', 'opérateurs')} {'ont' if len(j) >= 2 else 'a'} au moins "
            f"{minimum}, le minimum pour juger de leur performance."
            if len(j)
            else f"aucun n'a au moins {minimum} avec ses bénéficiaires prévus et réalisés, le minimum pour juger de "
            "sa performance."
        ),
    )
    if n_sous:
        # the En bref gives the count; the names are in the section's table (workshop: the procedure
        # is not judged through the operators)
        r.constat(
            "performance",
            f"{text.parmi(n_sous, len(j), 'opérateur jugé', 'opérateurs jugés')} "
            f"{'restent' if n_sous >= 2 else 'reste'} en dessous du {_seuil(r)} des bénéficiaires prévus "
            f"(détail en section 1, colonne « {_entete_seuil(r)} »).",
        )
    elif len(j):  # nobody judged: no « aucun en dessous » (an empty base is not a measured zero)
        r.constat(
            "performance",
            f"Aucun des {text.nombre(len(j))} opérateurs jugés ne réalise moins de {_pct(r.seuil_realisation, 0)} "
            "des bénéficiaires prévus sur ses actions réalisées."
            if len(j) >= 2
            else f"Aucun opérateur jugé ne réalise moins de {_pct(r.seuil_realisation, 0)} des bénéficiaires prévus.",
        )
    inconnus = int(p["annees_prevus_inconnus"].sum()) if "annees_prevus_inconnus" in p else 0
    if inconnus:
        r.dit(
            "performance",
            f"{text.pluriel(inconnus, 'action-année réalisée', 'actions-années réalisées')} dont le nombre de "
            f"bénéficiaires prévus est inconnu {'est laissée' if inconnus < 2 else 'sont laissées'} hors du taux de "
            "réalisation (ni au numérateur ni au dénominateur).",
        )
    raison = r.raison_accord
    if raison:
        r.constat(
            "performance",
            f"Part des montants demandés accordée aux opérateurs : n.d. — {raison}.",
        )
        return
    m = p[p["montant_demande"].fillna(0) > 0]
    sans_demande = int(p["demandes_montant_inconnu"].sum()) if "demandes_montant_inconnu" in p else 0
    if sans_demande and not m.empty:
        r.dit(
            "performance",
            f"{text.pluriel(sans_demande, 'ligne de financement', 'lignes de financement')} dont le montant demandé "
            f"est inconnu {'est laissée' if sans_demande < 2 else 'sont laissées'} hors de la part accordée.",
        )
    if not m.empty:
        dem, acc = float(m["montant_demande"].sum()), float(m["montant_accorde"].sum())
        t = m["taux_accord"]
        r.constat(
            "performance",
            f"Les financeurs accordent aux opérateurs {_pct(acc / dem)} des montants demandés ({text.euros(acc)} sur "
            f"{text.euros(dem)}, euros courants) ; selon l'opérateur, cette part va de {_pct(t.min())} à {_pct(t.max())}.",
        )
        if n_sous:
            ts = m[m["id_operateur"].isin(r.sous_performants)]
            if not ts.empty:
                a2, d2 = float(ts["montant_accorde"].sum()), float(ts["montant_demande"].sum())
                r.constat("performance", phrase_accord_sous_seuil(r, len(ts), a2, d2, acc, dem))


def _narrate_ecarts(r: RapportQ6) -> None:
    b = r.bilans_themes
    if b.empty:
        if r.decrit:
            r.reserves.append(
                "Aucun bilan d'activité codé n'est disponible pour les actions de la commune (données non disponibles)."
            )
        return
    # b is ranked by difficultés + blocages + écarts expliqués (`rang_difficultes`), réussites apart
    ex = b[b["rang_difficultes"].notna()] if "rang_difficultes" in b else b.iloc[0:0]
    if not ex.empty:
        parts = [f"« {t} »" for t in ex["theme"].head(3)]
        r.constat(
            "ecarts",
            f"Parmi les difficultés, blocages et écarts expliqués des bilans des opérateurs, "
            f"{'les thèmes les plus fréquents sont' if len(parts) >= 2 else 'le seul thème est'} "
            f"{text.liste_fr(parts)} (les réussites sont comptées à part ; détail par catégorie dans le tableau).",
        )
    e = r.ecarts_operateurs
    for row in e.to_dict(orient="records"):
        th = row.get("themes_ecarts")
        if isinstance(th, str) and th:
            r.dit(
                "ecarts",
                f"{row['nom']} (en dessous du {_seuil(r)}) explique ses écarts par les thèmes : {th}"
                + (
                    f" ; ses bilans signalent aussi des difficultés ou blocages sur : {row['themes_difficultes']}."
                    if isinstance(row.get("themes_difficultes"), str) and row["themes_difficultes"]
                    else "."
                ),
            )
        else:
            r.dit(
                "ecarts",
                f"{row['nom']} (en dessous du {_seuil(r)}) n'explique son écart dans aucun bilan codé : l'écart reste "
                "à documenter avec l'opérateur.",
            )


def _narrate_reperage(r: RapportQ6) -> None:
    o = r.operateurs
    if o.empty:
        return
    ech = operators.echelle_code(o["echelle"]).value_counts()
    inconnue = int(ech.pop(operators.ECHELLE_INCONNUE)) if operators.ECHELLE_INCONNUE in ech.index else 0
    ordre = [e for e in ("quartier", "commune", "agglomération", "département") if e in ech.index]
    ordre += [e for e in ech.index if e not in ordre]
    parts = [f"{text.nombre(ech[e])} à l'échelle {_echelle_de(e)}" for e in ordre]
    if inconnue:  # apart: an unknown scale is never a scale
        parts.append(f"{text.nombre(inconnue)} dont l'échelle est inconnue (n.d.)")
    r.constat(
        "reperage",
        f"L'échelle d'intervention des {text.nombre(len(o))} opérateurs des actions de la commune n'est pas "
        "renseignée (n.d.)."
        if len(o) >= 2 and not ordre
        else f"Les {text.nombre(len(o))} opérateurs des actions de la commune interviennent : {text.liste_fr(parts)}."
        if len(o) >= 2
        else (
            f"Un seul opérateur porte les actions de la commune, à l'échelle {_echelle_de(ordre[0])}."
            if ordre
            else "Un seul opérateur porte les actions de la commune ; son échelle d'intervention est inconnue (n.d.)."
        ),
    )
    sans_domaine = operators.unknown_domains(o)
    if sans_domaine:
        r.dit(
            "reperage",
            f"{text.pluriel(sans_domaine, 'opérateur', 'opérateurs')} dont les domaines d'intervention sont inconnus "
            f"{'n’est' if sans_domaine < 2 else 'ne sont'} compté{'' if sans_domaine < 2 else 's'} dans aucun domaine.".replace(
                "’", "'"
            ),
        )
    d = r.domaines_echelles.groupby("domaine")["operateurs"].sum().sort_values(ascending=False)
    if not d.empty:
        parts = [f"{text.minuscule_initiale(libelle_domaine(k))} ({text.nombre(v)})" for k, v in d.items()]
        r.constat(
            "reperage",
            f"Par nature d'intervention (un opérateur compte dans chacun de ses domaines) : {text.liste_fr(parts)}.",
        )
    og = r.origine
    loc = int(og.loc[og["code_commune"] == r.code_commune, "operateurs"].sum()) if not og.empty else 0
    lieu = (
        o["code_commune"].astype("string").str.strip()
        if "code_commune" in o
        else pd.Series(pd.NA, index=o.index)
    )
    sans_lieu = int((lieu.isna() | (lieu == "")).sum())
    if sans_lieu == len(o):
        r.constat("reperage", "La commune où les opérateurs sont établis n'est pas renseignée (n.d.).")
    elif sans_lieu:
        r.constat(
            "reperage",
            f"{text.parmi(loc, len(o), 'opérateur', 'opérateurs')} {'sont établis' if loc >= 2 else 'est établi'} "
            f"dans la commune ; pour {text.pluriel(sans_lieu, 'opérateur', 'opérateurs')}, la commune "
            "d'établissement n'est pas renseignée (n.d.).",
        )
    elif loc == len(o):
        r.constat("reperage", "Tous les opérateurs des actions sont établis dans la commune.")
    else:
        r.constat(
            "reperage",
            f"{text.parmi(loc, len(o), 'opérateur', 'opérateurs')} {'sont établis' if loc >= 2 else 'est établi'} "
            "dans la commune ; les autres viennent d'autres communes de la région.",
        )


def _echelle_de(e: str) -> str:
    return {
        operators.ECHELLE_INCONNUE: "inconnue",
        "quartier": "du quartier",
        "commune": "de la commune",
        "agglomération": "de l'agglomération",
        "département": "du département",
    }.get(e, f"« {e} »")


def _narrate_non_pourvues(r: RapportQ6) -> None:
    if not r.a_programme:
        return
    n = r.non_pourvues
    if n.empty and r.actions_priorite_inconnue:
        r.constat(
            "non_pourvues",
            "Actions prioritaires restées sans opérateur : n.d. — le caractère prioritaire ou le statut de "
            f"{text.pluriel(r.actions_priorite_inconnue, 'action', 'actions')} n'est pas renseigné.",
        )
        return
    if n.empty:
        r.constat(
            "non_pourvues",
            "Aucune action prioritaire n'est restée sans opérateur : toutes ont été pourvues au moins une année.",
        )
        return
    items = [
        f"« {t} » ({text.minuscule_initiale(libelle_domaine(d))}, {text.annee_periode(a, b)})"
        for t, d, a, b in zip(
            n["intitule"], n["thematique"], n["premiere_annee"], n["derniere_annee"], strict=True
        )
    ]
    r.constat(
        "non_pourvues",
        f"{text.pluriel(len(n), 'action prioritaire n’a', 'actions prioritaires n’ont')} pas trouvé d'opérateur "
        f"(statut « non pourvue ») : {text.liste_fr(items)}.".replace("’", "'"),
    )


def _narrate_associations(r: RapportQ6) -> None:
    s = r.survie
    if r.statuts_inconnus:
        k = r.statuts_inconnus
        r.dit(
            "associations",
            f"{text.pluriel(k, 'opérateur', 'opérateurs')} dont le statut juridique est inconnu "
            f"{'n’est' if k < 2 else 'ne sont'} pas compté{'' if k < 2 else 's'} parmi les associations (n.d.).".replace(
                "’", "'"
            ),
        )
    if s.empty:
        if r.a_programme and r.statuts_inconnus:
            r.constat(
                "associations",
                "Financements des associations : n.d. — le statut juridique des opérateurs n'est pas toujours "
                "renseigné, les associations ne peuvent pas toutes être repérées.",
            )
        elif r.a_programme:
            r.constat(
                "associations",
                "Aucune association n'a reçu de crédits spécifiques pour les actions de la commune.",
            )
        return
    b1, b2 = r.bornes_budget
    parts = [
        f"les {text.nombre(n)} {CLASSES_NOMS.get(c, (c, c))[1]} (toutes)"
        if n >= 2 and e == n
        else f"la seule {CLASSES_NOMS.get(c, (c, c))[0]}"
        if n == 1 and e == 1
        else f"{text.parmi(e, n, *CLASSES_NOMS.get(c, (c, c)), feminin=True)}"
        for c, n, e in zip(s["classe"], s["operateurs"], s["encore_finances"], strict=True)
    ]
    r.constat(
        "associations",
        f"Parmi les associations financées sur crédits spécifiques, sont encore financées en {r.periode[1]} : "
        f"{text.liste_fr(parts)} (petites : budget annuel inférieur à {text.euros(b1)} ; grandes : {text.euros(b2)} "
        "ou plus).",
    )
    rp = r.renouvellement_periodes
    for row in rp.to_dict(orient="records"):
        c = majuscule(CLASSES_NOMS.get(row["classe"], (row["classe"],) * 2)[1])
        prudence = (
            f" ; petite base (moins de {text.nombre(r.base_min)} financements dans une période) : une tendance à "
            "lire avec prudence"
            if bool(row["petite_base"])
            else ""
        )
        if not bool(row["avant_testable"]) or text.manquant(row["valeur_avant"]):
            if not text.manquant(row["valeur_pendant"]):
                avant = (
                    f"aucune association de cette taille financée {r.avant}"
                    if bool(row["avant_testable"])
                    else "aucun financement avant le CUCS"
                )
                r.constat(
                    "associations",
                    f"{c} : le financement d'une année est renouvelé l'année suivante "
                    f"{_cas(row['numerateur_pendant'], row['denominateur_pendant'], row['valeur_pendant'])} "
                    f"{r.pendant} ; {avant} : l'évolution ne peut pas être testée{prudence}.",
                )
            continue
        phrase = (
            f"{c} : le financement d'une année est renouvelé l'année suivante "
            f"{_cas(row['numerateur_avant'], row['denominateur_avant'], row['valeur_avant'])} {r.avant} et "
            f"{_cas(row['numerateur_pendant'], row['denominateur_pendant'], row['valeur_pendant'])} {r.pendant}, "
            f"soit {text.points(text.difference_affichee(row['valeur_avant'], row['valeur_pendant'], 1))}"
        )
        r.constat("associations", phrase + prudence + ".")


def _cas(num: object, den: object, valeur: object) -> str:
    """« dans 9 cas sur 9 (100,0 %) »: the count first, the rate (as in the table) after."""
    n, d = int(float(num)), int(float(den))
    return f"dans {text.nombre(n)} cas sur {text.nombre(d)} ({text.pourcentage(valeur)})"


def phrase_encore_financees(k: int, n: int, annee: int) -> str:
    """« Les 11 petites associations financées le sont toutes encore en 2014 », « 4 petites
    associations financées sur 5 le sont encore en 2014 »."""
    if n >= 2 and k == n:
        return f"Les {text.nombre(n)} petites associations financées le sont toutes encore en {annee}"
    if n == 1 and k == 1:
        return f"La seule petite association financée l'est encore en {annee}"
    verbe = "le sont" if k >= 2 else ("l'est" if k == 1 else "ne l'est")
    debut = majuscule(
        text.parmi(k, n, "petite association financée", "petites associations financées", feminin=True)
    )
    return f"{debut} {verbe} encore en {annee}"


CLASSES_NOMS = {
    "petite": ("petite association", "petites associations"),
    "moyenne": ("association moyenne", "associations moyennes"),
    "grande": ("grande association", "grandes associations"),
    "inconnue": ("association de budget inconnu", "associations de budget inconnu"),
}


def _axe(r: RapportQ6, axe: str) -> str:
    v = r.modele.get(f"axe_{axe}")
    if v:
        return AXES_LIBELLES.get(v, v)
    return labels.MOTIF_LIBELLES.get(r.modele.get(f"motif_{axe}") or motifs.NON_CALCULABLE, "non calculable")


def _periode_reunions(r: RapportQ6) -> str:
    """« (2007-2014) »: the years of the recorded meetings, or nothing."""
    f = r.reunions_familles
    if f is None or f.empty or "annee" not in f:
        return ""
    return f" ({text.annee_periode(int(f['annee'].min()), int(f['annee'].max()))})"


def phrase_adaptable(r: RapportQ6) -> str:
    """The figé / adaptable axis in words: what is counted (actions first programmed `decalage_annees`
    years or more after the start of the CUCS), and the actions that appear in the first years of the
    contract, which q7 counts as new each year."""
    m = r.modele
    k, n = int(m["actions_nouvelles"]), int(m["actions"])
    a, debut = _annees_nouvelles(r)
    verbe = "ont été programmées" if k >= 2 else ("a été programmée" if k == 1 else "n'a été programmée")
    phrase = (
        f"Pilotage {_axe(r, 'fige_adaptable')} : {text.parmi(k, n, 'action', feminin=True)} {verbe} pour la "
        f"première fois {text.pluriel(r.decalage_annees, 'an')} ou plus après le début du contrat ({a} ou après), "
        f"soit {_pct(m['part_adaptable'])} (adaptable à partir de {_pct(r.seuil_adaptable, 0)})"
    )
    e = m.get("actions_debut_contrat")
    if e is not None and not text.manquant(e):
        e = int(e)
        apparait = "apparaissent" if e >= 2 else ("apparaît" if e == 1 else "n'apparaît")
        phrase += (
            f" ; {text.aucun(e, 'action nouvelle', 'actions nouvelles', feminin=True)} {apparait} en {debut}, "
            "au début du contrat"
        )
        jamais = m.get("actions_debut_contrat_non_pourvues")
        if e and jamais is not None and not text.manquant(jamais) and int(jamais) > 0:
            jamais = int(jamais)
            phrase += (
                f", dont {text.nombre(jamais)} {'jamais pourvues' if jamais >= 2 else 'jamais pourvue'} (la page "
                "« Outils de pilotage », qui écarte les actions non pourvues, compte les actions nouvelles de chaque "
                "année)"
            )
        elif e:
            phrase += " (la page « Outils de pilotage » compte les actions nouvelles de chaque année)"
    return phrase + "."


def _narrate_pilotage(r: RapportQ6) -> None:
    m = r.modele
    if r.a_instances:
        rt = r.reunions
        fam = rt.groupby("famille")["nombre"].sum()
        parts = [
            f"{FAMILLES_LIBELLES[f].split(' (')[0].lower()} : {text.pluriel(int(fam[f]), 'réunion')}"
            for f in operators.FAMILLES
            if f in fam.index
        ]
        r.constat(
            "pilotage",
            f"Les comptes rendus d'instances recensent {text.pluriel(int(rt['nombre'].sum()), 'réunion')}"
            f"{_periode_reunions(r)} avec les opérateurs et les partenaires ; par nature : {text.liste_fr(parts)}.",
        )
    if m.get("axe_descendant_participatif"):
        coll, cons = int(m["reunions_collectives"]), int(m["reunions_consignes"])
        r.constat(
            "pilotage",
            f"Pilotage {_axe(r, 'descendant_participatif')} : les réunions de travail collectif font "
            f"{_pct(m['part_participatif'])} des réunions collectives et de consignes ({text.nombre(coll)} sur "
            f"{text.nombre(coll + cons)}) ; règle : {_regle_participatif(r)}.",
        )
    elif r.decrit:
        r.constat(
            "pilotage",
            "Axe descendant ou participatif : données non disponibles (aucune réunion consignée pour la commune) ; "
            "cela ne veut pas dire qu'aucune réunion n'a eu lieu."
            if m.get("motif_descendant_participatif") == motifs.DONNEE_ABSENTE
            else "Axe descendant ou participatif : non calculable (aucune réunion collective ni de consignes).",
        )
    if m.get("axe_fige_adaptable"):
        r.constat("pilotage", phrase_adaptable(r))
    if r.decrit and not r.modeles.empty:
        autres = r.modeles[r.modeles["signataire"].eq(True) & (r.modeles["code_commune"] != r.code_commune)]
        if not autres.empty:
            same = autres[
                (autres["axe_descendant_participatif"] == m.get("axe_descendant_participatif"))
                & (autres["axe_fige_adaptable"] == m.get("axe_fige_adaptable"))
            ]
            if m.get("axe_descendant_participatif") and m.get("axe_fige_adaptable"):
                noms = sorted(str(x) for x in same["nom"])
                r.constat(
                    "pilotage",
                    f"Parmi les {text.nombre(len(autres))} autres communes signataires, "
                    f"{text.aucun(len(same), 'commune partage', 'communes partagent', feminin=True)} ce modèle "
                    f"({_axe(r, 'descendant_participatif')} et {_axe(r, 'fige_adaptable')})"
                    + (f" : {text.liste_fr(noms)}." if noms else "."),
                )
        if m.get("axe_descendant_participatif") or m.get("axe_fige_adaptable"):  # else nothing to place
            r.dit(
                "pilotage",
                "Les deux axes et leurs seuils sont énoncés ci-dessus ; la figure et le dernier tableau placent la "
                "commune parmi les autres communes signataires.",
            )


def _debat(r: RapportQ6) -> None:
    if r.inconnu_sans_donnees:
        return
    if r.signataire is False:
        r.debat.append(
            f"Hors CUCS : {r.nom_commune} n'a pas d'opérateurs financés au titre du CUCS dont la performance ou "
            "l'accompagnement seraient à mettre en débat."
        )
        return
    n_sous = len(r.sous_performants)
    if n_sous:
        r.debat.append(
            f"{majuscule(text.pluriel(n_sous, 'opérateur reste', 'opérateurs restent'))} en dessous du {_seuil(r)} "
            "(section 1) : les objectifs étaient-ils réalistes, un accompagnement ou une formation "
            "aideraient-ils, ou faut-il chercher d'autres partenaires ?"
        )
    if not r.non_pourvues.empty:
        r.debat.append(
            f"{text.pluriel(len(r.non_pourvues), 'action prioritaire est restée', 'actions prioritaires sont restées')} "
            "sans opérateur : manque-t-il des opérateurs qualifiés sur ces domaines, ou la procédure d'appel à projets "
            "les a-t-elle écartés ?"
        )
    s = r.survie
    if not s.empty and "petite" in set(s["classe"]):
        row = s[s["classe"] == "petite"].iloc[0]
        k, n = int(row["encore_finances"]), int(row["operateurs"])
        r.debat.append(
            f"{phrase_encore_financees(k, n, r.periode[1])} : les procédures ont-elles préservé les petites "
            "associations dont l'utilité est reconnue ?"
        )
    if r.modele.get("axe_descendant_participatif") == "descendant":
        r.debat.append(
            "Le pilotage passe surtout par des réunions de consignes : comment ménager des « espaces de confiance » où "
            "les opérateurs expriment collectivement leurs réussites et leurs difficultés ?"
        )
    if r.modele.get("axe_fige_adaptable") == "fige":
        r.debat.append(
            f"Peu d'actions ont été {_libelle_adaptable(r)} : la programmation a-t-elle pu s'adapter aux "
            "besoins nouveaux des territoires ?"
        )
    r.debat.append(
        "Le modèle de pilotage correspond-il aux orientations du projet, aux enjeux du territoire et aux exigences de "
        "la mise en œuvre ?"
    )


def _verdict(r: RapportQ6) -> dict:
    if r.inconnu_sans_donnees:
        return rapport.verdict_donnee_absente("Opérateurs", RAISON_SIGNATAIRE_INCONNU, SECTIONS["en_bref"])
    if r.signataire is False:
        return rapport.verdict_hors_cucs("Opérateurs", r.nom_commune, SECTIONS["en_bref"])
    if not r.a_programme:
        return rapport.verdict_donnee_absente(
            "Opérateurs", "programmation des actions absente des données", SECTIONS["performance"]
        )
    m = r.modele
    connus, inconnus = [], []
    if m.get("axe_descendant_participatif"):
        connus.append(
            f"{_axe(r, 'descendant_participatif')} ({_pct(m['part_participatif'])} de réunions collectives)"
        )
    else:
        inconnus.append(f"axe descendant ou participatif non établi ({_axe(r, 'descendant_participatif')})")
    if m.get("axe_fige_adaptable"):
        connus.append(
            f"{_axe(r, 'fige_adaptable')} ({_pct(m['part_adaptable'])} d'actions programmées pour la première fois "
            f"en {_annees_nouvelles(r)[0]} ou après)"
        )
    else:
        inconnus.append(f"axe figé ou adaptable non établi ({_axe(r, 'fige_adaptable')})")
    p = ", ".join(([f"pilotage {' et '.join(connus)}"] if connus else []) + inconnus)
    n, j = len(r.sous_performants), len(r.juges)
    sous = (
        f"{text.parmi(n, j, 'opérateur jugé', 'opérateurs jugés')} en dessous du {_seuil(r)}"
        if n
        else f"aucun opérateur en dessous du {_seuil(r)} sur {text.nombre(j)} jugé{'s' if j >= 2 else ''}"
        if j
        else "performance des opérateurs n.d. (aucun n'a assez d'années réalisées renseignées)"
    )
    k = len(r.non_pourvues)
    nonp = (
        text.aucun(
            k, "action prioritaire jamais réalisée", "actions prioritaires jamais réalisées", feminin=True
        )
        + " faute d'opérateur"
        if k or not r.actions_priorite_inconnue
        else "actions prioritaires sans opérateur n.d. (priorité ou statut non renseigné)"
    )
    return rapport.verdict(f"Opérateurs : {p} ; {sous} ; {nonp}.", SECTIONS["pilotage"])


def _narrate(r: RapportQ6) -> None:
    if r.inconnu_sans_donnees:
        r.constats.append(
            f"Données non disponibles : {RAISON_SIGNATAIRE_INCONNU} — les données ne disent pas si {r.nom_commune} a "
            "signé un CUCS, et aucune action, réunion ni bilan de la commune n'y figure : ses opérateurs ne peuvent pas "
            "être évalués."
        )
    elif r.signataire is False:
        _narrate_hors_cucs(r)
    else:
        if r.signataire is None:  # rows present: described as usual, with one caveat
            r.reserves.append(rapport.reserve_signataire_inconnu(r.nom_commune))
        if not r.a_programme:
            r.constat(
                "performance",
                f"La programmation CUCS {text.de(r.nom_commune)} est absente des données (données non disponibles).",
            )
        _narrate_performance(r)
        _narrate_ecarts(r)
        _narrate_reperage(r)
        _narrate_non_pourvues(r)
        _narrate_associations(r)
        _narrate_pilotage(r)
        if not r.a_instances:
            r.reserves.append(
                "Les réunions avec les opérateurs ne sont pas renseignées pour cette commune (données non disponibles) : "
                "l'axe descendant ou participatif du pilotage ne peut pas être établi."
            )
    r.reserves.append(
        "Rappel de l'atelier : « l'évaluation de la procédure ne peut s'envisager par la seule évaluation de la "
        "performance des opérateurs » ; un taux de réalisation bas peut tenir à un objectif mal calibré, à un public "
        "difficile à mobiliser ou à un financement tardif, et non à l'opérateur."
    )
    if r.decrit:
        r.reserves.append(
            "La performance compare les bénéficiaires réalisés aux bénéficiaires prévus, sur les seules actions-années "
            "réalisées qui déclarent un nombre réalisé ; les actions non pourvues ou abandonnées sont comptées à part. "
            "Les nombres de bénéficiaires et d'énoncés inférieurs à "
            f"{text.nombre(r.seuil_secret)} sont soumis au secret statistique."
        )
        r.reserves.append(
            "Le modèle de pilotage est une lecture de deux indicateurs simples (types de réunions, actions "
            f"programmées pour la première fois en {_annees_nouvelles(r)[0]} ou après) : une tendance à discuter avec les acteurs, pas un jugement sur la qualité du "
            "pilotage."
        )
    _debat(r)

    mp = r.motif_programme
    m = r.modele
    p = r.performance
    dem = p["montant_demande"].fillna(0).sum() if not p.empty else 0
    taux_acc = (
        None
        if mp or r.raison_accord or dem <= 0
        else round(100 * float(p["montant_accorde"].fillna(0).sum() / dem), 1)
    )
    motif_acc = mp or (motifs.DONNEE_ABSENTE if r.raison_accord else None)
    ren = r.renouvellement_periodes
    petite = ren[ren["classe"] == "petite"] if not ren.empty else ren
    ren_p = (
        None
        if petite.empty or text.manquant(petite.iloc[0]["valeur_pendant"])
        else round(float(petite.iloc[0]["valeur_pendant"]), 1)
    )

    def part(k: str):
        v = m.get(k)
        return None if v is None or text.manquant(v) else round(100 * float(v), 1)

    r.chiffres_cles = [
        chiffre_cle(
            "operateurs_sous_performants",
            f"Opérateurs réalisant moins de {_pct(r.seuil_realisation, 0)} des bénéficiaires prévus",
            None if mp or not len(r.juges) else len(r.sous_performants),  # nobody judged: n.d., not 0
            "opérateurs",
            mp,
        ),
        chiffre_cle(
            "operateurs_juges",
            "Opérateurs dont la performance peut être jugée",
            None if mp else len(r.juges),
            "opérateurs",
            mp,
        ),
        chiffre_cle(
            "actions_non_pourvues",
            "Actions prioritaires jamais réalisées faute d'opérateur",
            None if mp or (r.non_pourvues.empty and r.actions_priorite_inconnue) else len(r.non_pourvues),
            "actions",
            mp or (motifs.DONNEE_ABSENTE if r.actions_priorite_inconnue else None),
        ),
        chiffre_cle(
            "part_reunions_collectives",
            "Part des réunions de travail collectif (parmi les réunions collectives et de consignes)",
            part("part_participatif"),
            "%",
            m.get("motif_descendant_participatif"),
        ),
        chiffre_cle(
            "part_actions_nouvelles",
            f"Part des actions {_libelle_adaptable(r)}",
            part("part_adaptable"),
            "%",
            m.get("motif_fige_adaptable"),
        ),
        chiffre_cle(
            "taux_accord_operateurs",
            "Part des montants demandés accordée aux opérateurs",
            taux_acc,
            "%",
            motif_acc,
        ),
        chiffre_cle(
            "renouvellement_petites_associations",
            "Financements des petites associations renouvelés d'une année sur l'autre pendant le CUCS",
            ren_p,
            "%",
            mp,
        ),
    ]
    r.verdict = _verdict(r)


# --- views -------------------------------------------------------------------------------------


COLONNES_PERFORMANCE = {
    "nom": ("Opérateur", "texte"),
    "echelle": ("Échelle", "texte"),
    "annees_realisees": ("Actions-années réalisées", "nombre"),
    "prevus_realisees": ("Bénéficiaires prévus (actions réalisées)", "nombre"),
    "realises": ("Bénéficiaires réalisés", "nombre"),
    "taux_realisation": ("Taux de réalisation", "part"),
    "annees_non_pourvues": ("Années non pourvues", "nombre"),
    "annees_abandonnees": ("Années abandonnées", "nombre"),
    "montant_demande": ("Montant demandé (euros courants)", "euros"),
    "montant_accorde": ("Montant accordé (euros courants)", "euros"),
    "taux_accord": ("Part accordée", "part"),
    "jugement": ("En dessous du seuil de réalisation", "texte"),
}
COLONNES_BILANS = {
    "theme": ("Thème", "texte"),
    **{c: (majuscule(CATEGORIES_PLURIELS[c]), "nombre") for c in operators.CATEGORIES_BILANS},
    "total": ("Total des énoncés", "nombre"),
}
COLONNES_ECARTS = {
    "nom": ("Opérateur en dessous du seuil de réalisation", "texte"),
    "taux_realisation": ("Taux de réalisation", "part"),
    "themes_ecarts": ("Thèmes des écarts expliqués (les plus fréquents d'abord)", "texte"),
    "themes_difficultes": ("Thèmes des difficultés et blocages", "texte"),
}
COLONNES_OPERATEURS = {
    "nom": ("Opérateur", "texte"),
    "statut_juridique": ("Statut", "texte"),
    "echelle": ("Échelle", "texte"),
    "domaines": ("Domaines d'intervention", "texte"),
    "budget_annuel": ("Budget annuel", "euros"),
    "salaries_etp": ("Salariés (ETP)", "decimal"),
    "actions": ("Actions dans la commune", "nombre"),
    "premiere_annee": ("Première année", "annee"),
    "derniere_annee": ("Dernière année", "annee"),
}
COLONNES_NON_POURVUES = {
    "intitule": ("Action prioritaire", "texte"),
    "domaine": ("Domaine", "texte"),
    "dispositif": ("Dispositif", "texte"),
    "quartier": ("Quartier", "texte"),
    "annees_non_pourvues": ("Années sans opérateur", "nombre"),
    "premiere_annee": ("Première année", "annee"),
    "derniere_annee": ("Dernière année", "annee"),
}
COLONNES_SURVIE = {
    "classe": ("Taille de l'association", "texte"),
    "operateurs": ("Associations financées", "nombre"),
    "encore_finances": ("Encore financées la dernière année", "nombre"),
    "part_encore_financees": ("Part encore financée", "part"),
    "annees_financees_mediane": ("Années financées (médiane)", "decimal"),
}
COLONNES_RENOUVELLEMENT = {
    "classe": ("Taille de l'association", "texte"),
    "denominateur_avant": ("Financées l'année précédente (avant le CUCS)", "nombre"),
    "numerateur_avant": ("Dont renouvelées (avant)", "nombre"),
    "valeur_avant": ("Taux de renouvellement avant", "pourcentage"),
    "denominateur_pendant": ("Financées l'année précédente (pendant le CUCS)", "nombre"),
    "numerateur_pendant": ("Dont renouvelées (pendant)", "nombre"),
    "valeur_pendant": ("Taux de renouvellement pendant", "pourcentage"),
    "ecart": ("Écart", "points"),
    "petite_base": (f"Petite base (moins de {BASE_MIN})", "oui_non"),
}
COLONNES_REUNIONS = {
    "type": ("Type de réunion", "texte"),
    "famille": ("Nature", "texte"),
    "nombre": ("Réunions", "nombre"),
}
COLONNES_MODELES = {
    "nom": ("Commune", "texte"),
    "part_participatif": ("Part des réunions de travail collectif", "part"),
    "descendant_participatif": ("Descendant ou participatif", "texte"),
    "part_adaptable": ("Part des actions programmées pour la première fois après le début du CUCS", "part"),
    "fige_adaptable": ("Figé ou adaptable", "texte"),
}


def _libelle_classe(r: RapportQ6, c: str) -> str:
    b1, b2 = r.bornes_budget
    return {
        "petite": f"Petite (moins de {text.euros(b1)})",
        "moyenne": f"Moyenne ({text.euros(b1)} à moins de {text.euros(b2)})",
        "grande": f"Grande ({text.euros(b2)} ou plus)",
        "inconnue": "Budget inconnu",
    }.get(c, c)


def vue_performance(r: RapportQ6) -> pd.DataFrame:
    """Per operator: beneficiaries planned and achieved on one base (realised action-years),
    unfilled and abandoned years apart, amounts requested and granted; « s » where secret."""
    p = r.performance
    df = None
    if r.a_programme and not p.empty:
        hidden = [c for c in ("prevus_realisees", "realises", "taux_realisation") if p[f"{c}_secret"].any()]
        df = display.colonnes_avec_secret(p, hidden).assign(
            echelle=p["echelle"].map(lambda e: majuscule(e) if isinstance(e, str) else e),
            jugement=[
                "non jugé (moins de " + text.pluriel(r.min_annees, "année réalisée", "années réalisées") + ")"
                if s is None
                else ("oui" if s else "non")
                for s in p["sous_performant"]
            ],
        )
        df = df.sort_values(
            "taux_realisation", key=lambda s: pd.to_numeric(s, errors="coerce"), kind="stable"
        )
    colonnes = COLONNES_PERFORMANCE | {"jugement": (_entete_seuil(r), "texte")}
    return display.vue(df, colonnes, vide=r.absence("performance des opérateurs"))


def _vue_bilans(r: RapportQ6, b: pd.DataFrame, quoi: str) -> pd.DataFrame:
    df = None
    if not b.empty:
        cols = [*operators.CATEGORIES_BILANS, "total"]
        df = display.colonnes_avec_secret(b, cols).assign(theme=b["theme"].map(majuscule))
    return display.vue(df, COLONNES_BILANS, vide=r.absence(quoi, "bilans"))


def vue_bilans_themes(r: RapportQ6) -> pd.DataFrame:
    """Coded statements of every operator's reports, theme × category (« s » where secret)."""
    return _vue_bilans(r, r.bilans_themes, "énoncés codés des bilans des opérateurs")


def vue_bilans_sous_performants(r: RapportQ6) -> pd.DataFrame:
    """The same for the under-performing operators only."""
    v = _vue_bilans(r, r.bilans_sous_performants, "énoncés des bilans des opérateurs en dessous du seuil")
    if r.a_bilans and not r.sous_performants:
        v.attrs["vide"] = f"aucun opérateur en dessous du {_seuil(r)} : pas d'écart à expliquer"
    return v


def vue_ecarts_operateurs(r: RapportQ6) -> pd.DataFrame:
    """Per under-performing operator: the themes of its explained gaps and of its difficulties."""
    e = r.ecarts_operateurs
    df = None
    if not e.empty:
        df = display.colonnes_avec_secret(e, ["taux_realisation"]).assign(
            themes_ecarts=e["themes_ecarts"].where(e["themes_ecarts"].notna(), "aucun écart expliqué"),
            themes_difficultes=e["themes_difficultes"].where(e["themes_difficultes"].notna(), "aucune"),
        )
    vide = (
        r.absence("opérateurs en dessous du seuil de réalisation")
        if r.motif_programme
        else f"aucun opérateur en dessous du {_seuil(r)} dans la commune"
    )
    return display.vue(df, COLONNES_ECARTS, vide=vide)


def vue_operateurs(r: RapportQ6) -> pd.DataFrame:
    """The operators of the commune's actions: status, scale, domains, size, years."""
    o = r.operateurs
    df = None
    if r.a_programme and not o.empty:
        df = o.assign(
            statut_juridique=o["statut_juridique"].map(lambda s: majuscule(s) if isinstance(s, str) else s),
            echelle=o["echelle"].map(lambda s: majuscule(s) if isinstance(s, str) else s),
            domaines=o["domaines"]
            .fillna("")
            .astype(str)
            .str.split(";")
            .map(
                lambda ds: ", ".join(
                    text.minuscule_initiale(libelle_domaine(d.strip())) for d in ds if d.strip()
                )
            ),
        ).sort_values(["actions", "nom"], ascending=[False, True])
    return display.vue(df, COLONNES_OPERATEURS, vide=r.absence("opérateurs des actions"))


def vue_domaines_echelles(r: RapportQ6) -> pd.DataFrame:
    """Operators per domain (rows) and scale (columns)."""
    d = r.domaines_echelles
    colonnes = {"domaine": ("Domaine d'intervention", "texte")}
    df = None
    if r.a_programme and not d.empty:
        wide = d.pivot_table(
            index="domaine", columns="echelle", values="operateurs", aggfunc="sum", fill_value=0
        )
        ordre = [e for e in ("quartier", "commune", "agglomération", "département") if e in wide.columns]
        ordre += [e for e in wide.columns if e not in ordre and e != operators.ECHELLE_INCONNUE]
        ordre += [e for e in wide.columns if e == operators.ECHELLE_INCONNUE]  # apart, last
        wide = wide[ordre]
        colonnes |= {str(e): (f"Échelle {_echelle_de(str(e))}", "nombre") for e in ordre}
        df = wide.rename_axis(index="domaine", columns=None).reset_index()
        df.columns = [str(c) for c in df.columns]
        df["domaine"] = df["domaine"].map(libelle_domaine)
    return display.vue(df, colonnes, vide=r.absence("opérateurs par domaine et par échelle"))


def vue_non_pourvues(r: RapportQ6) -> pd.DataFrame:
    """The priority actions never carried out for lack of an operator, named."""
    n = r.non_pourvues
    df = None
    if r.a_programme and not n.empty:
        df = n.assign(
            domaine=n["thematique"].map(libelle_domaine),
            dispositif=n["dispositif"].map(lambda x: majuscule(x) if isinstance(x, str) else x),
        )
    vide = (
        r.absence("actions prioritaires non pourvues")
        if r.motif_programme
        else "aucune action prioritaire n'est restée sans opérateur"
    )
    return display.vue(df, COLONNES_NON_POURVUES, vide=vide)


def vue_survie(r: RapportQ6) -> pd.DataFrame:
    """Associations funded on specific credits by size class: still funded in the last year."""
    s = r.survie
    df = s.assign(classe=s["classe"].map(lambda c: _libelle_classe(r, c))) if not s.empty else None
    colonnes = COLONNES_SURVIE
    med = s["annees_financees_mediane"].dropna() if not s.empty else pd.Series(dtype=float)
    if (med == med.round()).all():  # a median of whole years is written « 10 », not « 10,0 »
        colonnes = COLONNES_SURVIE | {"annees_financees_mediane": ("Années financées (médiane)", "nombre")}
    return display.vue(
        df,
        colonnes,
        vide=r.absence("financement des associations par taille"),
    )


def vue_renouvellement(r: RapportQ6) -> pd.DataFrame:
    """Renewal of the associations' funding from one year to the next, before / during the CUCS."""
    rp = r.renouvellement_periodes
    df = None
    if not rp.empty:
        mesure = rp["avant_testable"].astype(bool)
        df = rp.assign(
            classe=rp["classe"].map(lambda c: _libelle_classe(r, c)),
            ecart=rapport.ecarts_affiches(rp["valeur_avant"], rp["valeur_pendant"]),
            # a measured period with no association funded the year before is 0, not n.d.
            denominateur_avant=rp["denominateur_avant"].where(~mesure, rp["denominateur_avant"].fillna(0)),
            numerateur_avant=rp["numerateur_avant"].where(~mesure, rp["numerateur_avant"].fillna(0)),
            valeur_avant=[
                text.pourcentage(v)
                if not text.manquant(v)
                else (
                    f"{text.ND} (aucune association de cette taille financée en "
                    f"{rapport.periode_avant(r.periode, r.annee_debut_cucs)})"
                    if m_ and (text.manquant(d) or d == 0)
                    else text.ND
                )
                for v, d, m_ in zip(rp["valeur_avant"], rp["denominateur_avant"], mesure, strict=True)
            ],
        )
    return display.vue(
        df,
        COLONNES_RENOUVELLEMENT | {"valeur_avant": (COLONNES_RENOUVELLEMENT["valeur_avant"][0], "texte")},
        vide=r.absence("renouvellement des financements des associations"),
    )


def vue_reunions(r: RapportQ6) -> pd.DataFrame:
    """Meetings per type and nature (collective work, instructions, individual support…)."""
    t = r.reunions
    df = None
    if r.a_instances and not t.empty:
        df = t.assign(type=t["type"].map(majuscule), famille=t["famille"].map(FAMILLES_LIBELLES))
    return display.vue(df, COLONNES_REUNIONS, vide=r.absence("réunions avec les opérateurs", "instances"))


def _libelle_axe(v, motif) -> str:
    if isinstance(v, str) and v:
        return AXES_LIBELLES.get(v, v)
    return labels.MOTIF_LIBELLES.get(motif or motifs.NON_CALCULABLE, "non calculable")


def vue_modeles(r: RapportQ6) -> pd.DataFrame:
    """The steering model of every signatory commune of the region (this one first)."""
    m = r.modeles
    df = None
    if r.signataire and not m.empty:
        s = m[m["signataire"].astype(bool)].copy()
        s["_ordre"] = (s["code_commune"] != r.code_commune).astype(int)
        s = s.sort_values(["_ordre", "nom"])
        s["descendant_participatif"] = [
            _libelle_axe(v, mo)
            for v, mo in zip(
                s["axe_descendant_participatif"], s["motif_descendant_participatif"], strict=True
            )
        ]
        s["fige_adaptable"] = [
            _libelle_axe(v, mo)
            for v, mo in zip(s["axe_fige_adaptable"], s["motif_fige_adaptable"], strict=True)
        ]
        df = s
    colonnes = COLONNES_MODELES | {"part_adaptable": (f"Part des actions {_libelle_adaptable(r)}", "part")}
    return display.vue(df, colonnes, vide=rapport.vide_motif("modèle de pilotage", labels_motif(r)))


def labels_motif(r: RapportQ6) -> str | None:
    if r.signataire is None:
        return motifs.DONNEE_ABSENTE
    return motifs.HORS_CUCS if not r.signataire else None


# --- figures ------------------------------------------------------------------------------------


def figure_performance(r: RapportQ6):
    """Horizontal bars: each judged operator's achievement rate, the threshold as a line."""
    from cucs_analysis.present import plots

    j = r.juges
    if j.empty:
        return None
    j = j[~j["taux_realisation_secret"].astype(bool) & j["taux_realisation"].notna()]
    if j.empty:
        return None
    df = pd.DataFrame(
        {"operateur": j["nom"].astype(str).str.slice(0, 45), "taux": 100 * j["taux_realisation"]}
    )
    fig = plots.barres_horizontales(
        df,
        "operateur",
        "taux",
        "Bénéficiaires réalisés / prévus, par opérateur (actions réalisées)",
        "Taux de réalisation",
        unite="%",
        reference=100 * r.seuil_realisation,
        libelle_reference=majuscule(_seuil(r)),
    )
    plots.textes_de_donnees(fig)
    n = len(r.sous_performants)
    return plots.set_alt(
        fig,
        f"Barres horizontales : taux de réalisation des bénéficiaires prévus de {text.pluriel(len(df), 'opérateur')} "
        f"{text.de(r.nom_commune)}, de {_pct(df['taux'].min() / 100)} à {_pct(df['taux'].max() / 100)} ; "
        f"{text.aucun(n, 'opérateur', 'opérateurs')} sous le seuil de {_pct(r.seuil_realisation, 0)}.",
    )


def figure_domaines_echelles(r: RapportQ6):
    """Heatmap: operators per domain × scale."""
    from cucs_analysis.present import plots

    d = r.domaines_echelles
    if d.empty:
        return None
    wide = d.pivot_table(index="domaine", columns="echelle", values="operateurs", aggfunc="sum", fill_value=0)
    ordre = [e for e in ("quartier", "commune", "agglomération", "département") if e in wide.columns]
    # an unknown scale last, apart
    reste = [e for e in wide.columns if e not in ordre and e != operators.ECHELLE_INCONNUE]
    wide = wide[ordre + reste + [e for e in wide.columns if e == operators.ECHELLE_INCONNUE]]
    wide.index = [libelle_domaine(i) for i in wide.index]
    wide.columns = [
        "Inconnue (n.d.)" if c == operators.ECHELLE_INCONNUE else majuscule(c) for c in wide.columns
    ]
    fig = plots.heatmap(wide, "Opérateurs par domaine d'intervention et par échelle", "Échelle", "Domaine")
    plots.textes_de_donnees(fig)
    tot = wide.sum(axis=0)
    return plots.set_alt(
        fig,
        f"Carte de chaleur : nombre d'opérateurs des actions {text.de(r.nom_commune)} par domaine et par échelle "
        "d'intervention. Par échelle (un opérateur compte dans chacun de ses domaines) : "
        + text.liste_fr([f"{c.lower()} {text.nombre(v)}" for c, v in tot.items()])
        + ".",
    )


def carte_operateurs(r: RapportQ6):
    """Map of the region's communes coloured by the number of the commune's operators based there."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from cucs_analysis.present import plots

    geo = r.contours_communes
    o = r.origine
    if geo is None or getattr(geo, "empty", True) or o.empty:
        return None
    gdf = geo.merge(o, on="code_commune", how="left")
    fig, ax = plt.subplots(figsize=(7, 7))
    gdf[gdf["operateurs"].isna()].plot(ax=ax, color="#EEEEEE", edgecolor="white", linewidth=0.8)
    valeurs = sorted({int(v) for v in o["operateurs"]})
    couleurs = plt.get_cmap("cividis_r")(np.linspace(0.15, 0.9, max(len(valeurs), 2)))
    handles = [Patch(facecolor="#EEEEEE", label="Aucun opérateur")]
    for v, c in zip(valeurs, couleurs, strict=False):
        gdf[gdf["operateurs"] == v].plot(ax=ax, color=c, edgecolor="white", linewidth=0.8)
        handles.append(Patch(facecolor=c, label=text.pluriel(v, "opérateur")))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)
    ax.set_title("Communes où sont établis les opérateurs des actions")
    ax.set_axis_off()
    ax.set_aspect("equal")
    fig.tight_layout()
    ax = fig.axes[0]
    ici = geo[geo["code_commune"] == r.code_commune]
    if not ici.empty:
        ici.boundary.plot(ax=ax, color=plots.OKABE_ITO["vermillon"], linewidth=2)
    plots.textes_de_donnees(fig)
    loc = int(o.loc[o["code_commune"] == r.code_commune, "operateurs"].sum())
    ailleurs = int(o["operateurs"].sum()) - loc
    detail = (
        "tous sont établis dans la commune"
        if ailleurs == 0
        else f"{text.nombre(loc)} dans la commune et {text.nombre(ailleurs)} dans "
        f"{text.pluriel(int((o['code_commune'] != r.code_commune).sum()), 'autre commune', 'autres communes')}"
    )
    return plots.set_alt(
        fig,
        f"Carte des communes de la région, colorées selon le nombre d'opérateurs des actions {text.de(r.nom_commune)} "
        f"qui y sont établis (commune entourée en rouge) : {detail} ; les communes sans opérateur sont en gris clair.",
    )


def figure_modele(r: RapportQ6):
    """Two-axis chart: each signatory commune's share of collective meetings (x) and of actions
    introduced mid-course (y), the thresholds as lines, this commune highlighted."""
    import matplotlib.pyplot as plt

    from cucs_analysis.present import plots

    m = r.modeles
    if not r.signataire or m.empty:
        return None
    s = m[m["signataire"].astype(bool) & m["part_participatif"].notna() & m["part_adaptable"].notna()]
    if s.empty:
        return None
    fig, ax = plt.subplots(figsize=(7, 6))
    ici = s["code_commune"] == r.code_commune
    ax.scatter(
        100 * s.loc[~ici, "part_participatif"],
        100 * s.loc[~ici, "part_adaptable"],
        color=plots.GRIS,
        s=40,
        label="Autres communes signataires",
    )
    if ici.any():
        ax.scatter(
            100 * s.loc[ici, "part_participatif"],
            100 * s.loc[ici, "part_adaptable"],
            color=plots.OKABE_ITO["vermillon"],
            s=90,
            label=str(r.nom_commune),
            zorder=3,
        )
    xs, ys = (100 * s["part_participatif"]).to_numpy(), (100 * s["part_adaptable"]).to_numpy()
    vus: list[tuple[float, float]] = []
    for x, y, nom in zip(xs, ys, s["nom"], strict=True):  # a handful of communes
        proches = sum(1 for a, b in vus if abs(a - x) < 8 and abs(b - y) < 4)
        vus.append((x, y))
        ax.annotate(str(nom), (x, y), textcoords="offset points", xytext=(6, 4 - 11 * proches), fontsize=8)
    ax.axvline(100 * r.seuil_participatif, color=plots.GRIS, linestyle="--", linewidth=1)
    ax.axhline(100 * r.seuil_adaptable, color=plots.GRIS, linestyle="--", linewidth=1)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, max(100 * float(s["part_adaptable"].max()) + 10, 100 * r.seuil_adaptable + 10))
    ax.set_xlabel("Part des réunions de travail collectif (descendant ← → participatif)")
    ax.set_ylabel(
        f"Part des actions programmées pour la première fois en {_annees_nouvelles(r)[0]} ou après (figé ↓ ↑ adaptable)"
    )
    ax.set_title("Modèle de pilotage des communes signataires")
    plots.franciser_axes(ax, x="%", y="%")
    ax.legend(loc="upper left", fontsize=8)
    plots.textes_de_donnees(fig)
    sig = m[m["signataire"].astype(bool)]
    absentes = sig[~sig["code_commune"].isin(s["code_commune"])]
    autres = absentes[absentes["code_commune"] != r.code_commune]
    places = (
        f"{text.pluriel(len(s), 'commune signataire placée', 'communes signataires placées')}"
        if absentes.empty
        else f"{text.nombre(len(s))} des {text.pluriel(len(sig), 'commune signataire', 'communes signataires')} "
        f"{'placées' if len(s) >= 2 else 'placée'}"
    )
    manque = (
        " ; "
        + text.liste_fr(
            [
                f"{nm} non placée ({_raison_absente(row)})"
                for nm, row in zip(autres["nom"], autres.to_dict(orient="records"), strict=True)
            ]
        )
        if not autres.empty
        else ""
    )
    place = (
        f"{r.nom_commune} est en rouge ({_pct(r.modele['part_participatif'])} de réunions collectives, "
        f"{_pct(r.modele['part_adaptable'])} d'actions programmées pour la première fois en {_annees_nouvelles(r)[0]} "
        "ou après)"
        if ici.any()
        else f"{r.nom_commune} n'y figure pas (axe descendant ou participatif : {_axe(r, 'descendant_participatif')})"
    )
    return plots.set_alt(
        fig,
        f"Nuage de points : {places} selon la part "
        f"des réunions de travail collectif (seuil {_pct(r.seuil_participatif, 0)}, ligne verticale) et la part des "
        f"actions {_libelle_adaptable(r)} (seuil {_pct(r.seuil_adaptable, 0)}, ligne horizontale) ; {place}{manque}.",
    )


def _raison_absente(row: dict) -> str:
    """Why a signatory commune is missing from the scatter: « réunions non disponibles »…"""
    raisons = []
    for axe, quoi in (("descendant_participatif", "réunions"), ("fige_adaptable", "programmation")):
        if text.manquant(
            row.get(f"part_{'participatif' if axe == 'descendant_participatif' else 'adaptable'}")
        ):
            motif = row.get(f"motif_{axe}")
            raisons.append(
                f"{quoi} non {'disponible' if quoi == 'programmation' else 'disponibles'}"
                if motif == motifs.DONNEE_ABSENTE
                else f"{quoi} : non calculable"
            )
    return ", ".join(raisons) or "non calculable"


def sources(r: RapportQ6, params, metadata) -> list[str]:
    """The 'Sources et méthode' list, with the values actually used."""
    b1, b2 = r.bornes_budget
    return [
        rapport.source_donnees(metadata),
        f"Performance d'un opérateur : bénéficiaires réalisés sur bénéficiaires prévus, sur ses actions-années "
        f"réalisées qui déclarent un nombre réalisé ; jugée à partir de "
        f"{text.pluriel(r.min_annees, 'action-année réalisée', 'actions-années réalisées')} ; « en dessous du seuil de "
        f"réalisation » quand ce taux est inférieur à {_pct(r.seuil_realisation, 0)}. Les années non pourvues ou abandonnées sont comptées à part.",
        "Moyens : montants accordés sur montants demandés, sur les lignes de financement dont le montant demandé est "
        "connu et non nul (euros courants).",
        "Écarts expliqués : énoncés codés des bilans d'activité (catégories réussite, difficulté, blocage, écart "
        "expliqué ; thèmes codés), rattachés à l'opérateur de l'action l'année du bilan ; le texte libre n'est pas lu.",
        "Actions prioritaires non pourvues : actions distinctes marquées prioritaires dont au moins une année a le "
        "statut « non pourvue » (aucun opérateur pour la réaliser).",
        f"Petites associations : associations classées selon leur budget annuel (petite en dessous de {text.euros(b1)}, "
        f"grande à partir de {text.euros(b2)}). Une association est financée une année quand ses actions dans la commune "
        "reçoivent des crédits spécifiques ; le taux de renouvellement rapporte les associations financées l'année t et "
        "l'année t − 1 à celles financées l'année t − 1, cumulé sur chaque période (avant et pendant le CUCS) ; une base "
        f"de moins de {text.nombre(r.base_min)} est signalée « petite base ».",
        f"Modèle de pilotage : {_regle_participatif(r)} (réunions collectives de travail et groupes thématiques contre "
        f"réunions de consignes) ; {_regle_adaptable(r)}. Les communes sont placées à partir des mêmes règles, calculées "
        "une fois pour toute la région.",
        f"Secret statistique : aucun nombre de bénéficiaires ni d'énoncés inférieur à {params.seuil_secret} n'est publié.",
    ]
