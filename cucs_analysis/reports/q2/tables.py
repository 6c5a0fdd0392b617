"""q2 tables: the commune's association actions, their publics and reports, the trends and gaps
of the funded quartiers, the region's DiD (from the region stage) and the surveys."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cucs_analysis.analysis import funding, impact, motifs, privacy, trends
from cucs_analysis.data.schema import CATEGORIES_BILAN, DOMAINE_LIBELLES
from cucs_analysis.present import text
from cucs_analysis.reports import programme, rapport
from cucs_analysis.reports.rapport import AvecVues

#: How many actions the "most significant" table keeps (largest specific credits).
N_ACTIONS = 10
#: The workshop's caveat on this question, quoted verbatim.
CITATION_ATELIER = "Comment prouver qu'une amélioration est due à une action ?"
REPONDANTS = {"habitant": "Habitants", "opérateur": "Opérateurs", "partenaire": "Partenaires"}
GROUPES = {
    "traite": "quartier financé",
    "comparaison": "quartier de comparaison",
    "exclu": "intermédiaire",
    impact.CATEGORIE_INCONNUE: "catégorie CUCS inconnue (hors comparaison)",
}
SERIES = {
    "finances": "Quartiers financés de la commune",
    "quartiers": "Quartiers de la commune (aucun financé)",
    # the funding of each quartier is unknown (no credit attached to a quartier, unknown
    # categories): « aucun financé » would be a finding the data do not hold
    "quartiers_inconnus": "Quartiers de la commune (financement par quartier inconnu)",
    "commune": "Commune",
    "comparaison": "Quartiers de comparaison (région)",
}
#: Survey statement read as the residents' view of an improvement.
QUESTION_AMELIORATION = "Le quartier s'est amélioré ces trois dernières années"
ACCORD = (4, 5)  # "plutôt" and "tout à fait d'accord" on the 1-5 scale
LECTURES = ("concordant", "partiel", "non concordant", "non établi", "non disponible", "hors CUCS")
#: The notebook's headings (exact text after « ## »): the verdict points to the one holding the evidence.
SECTIONS = {
    "actions": "1. Les actions les plus significatives",
    "publics": "2. Objectifs et qualification des publics",
    "bilans": "3. Les rapports et bilans d'activité",
    "tendances": "4. La situation sociale des quartiers, avant et pendant le CUCS",
    "did": "5. Quartiers financés et quartiers de comparaison : différence de différences",
    "enquetes": "6. Des points de vue croisés : habitants, opérateurs, partenaires",
    "contribution": "7. « Comment prouver qu'une amélioration est due à une action ? »",
}
#: Precision of a declared public: what it names (an age bracket, a social situation), in display order.
PRECISIONS = {
    "age_situation": "Âge et situation précisés",
    "age": "Âge précisé",
    "situation": "Situation précisée",
    "general": "Public général (habitants, tout public)",
    "non_declare": "Public non déclaré",
}
_AGE = re.compile(
    r"\d+\s*(?:à|-)\s*\d+\s*ans|\d+\s*ans|\b(?:enfants?|jeunes?|adolescents?|collégiens?|lycéens?|seniors?|"
    r"retraités?|personnes âgées|moins de|plus de)\b",
    re.I,
)
_SITUATION = re.compile(
    r"\b(?:cmu|rsa|demandeurs? d'emploi|chômeurs?|sans qualification|sans diplôme|locataires?|parents?|"
    r"familles?|femmes?|isolée?s?|handicap\w*|bénéficiaires?|allocataires?|primo-arrivants?|"
    r"décrocheurs?|salariés?)\b",
    re.I,
)


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
    "annees_realisees",
    "annees_base",
    "annees_en_cours",
    "annees_non_pourvues",
    "annees_abandonnees",
    "prevus_non_realisees",
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
    publics: pd.DataFrame  # per declared public, achievement on one base, counts after secrecy
    bilans: pd.DataFrame  # what the activity reports of the significant actions say, per action
    intensite: pd.DataFrame  # the commune's quartiers: nom, intensite_moyenne, groupe
    groupes_region: pd.DataFrame  # treated / comparison status of every quartier of the region
    series: pd.DataFrame  # indicateur, serie, annee, valeur, ic_bas, ic_haut
    ecarts: pd.DataFrame  # commune's quartiers × indicator: gaps before / during the CUCS, convergence
    did: pd.DataFrame  # region-wide DiD per indicator (impact.did_all)
    etudes_evenement: dict[str, pd.DataFrame]  # indicator → event-study coefficients
    enquetes: pd.DataFrame  # type_repondant × question × annee: n, accord, interval, secret
    reponses: pd.DataFrame  # answers of the non-secret groups (type_repondant, question, annee, reponse)
    contribution: pd.DataFrame  # etape, constat, lecture
    seuil_intensite: float = 25.0  # €/inhabitant/year above which a quartier is "financé"
    seuil_comparaison: float = 10.0  # €/inhabitant/year below which a quartier is "de comparaison"
    quartiers_commune_categorie: tuple[int, int] = (
        0,
        0,
    )  # the commune's quartiers, those of unknown category
    derniere_annee_population: int | None = None  # latest year of a quartier population in the data
    sens: dict[str, str] = field(default_factory=dict)  # catalogue's sens per indicator
    signataire: bool | None = True  # communes.signataire_cucs (None: unknown); outside the CUCS, a comparison
    etat_seul: bool = False  # the funding source holds only the State's share (metadata)
    quartiers_categorie_inconnue: int = 0  # region quartiers of unknown CUCS category, left out of the DiD
    motif: str | None = None  # analysis.motifs code when the commune has no programme to show
    enquetes_disponibles: bool = True  # the data set has survey rows for the commune's quartiers
    annee_debut_cucs: int = 2007
    periode_debut: int = 2005
    periode_fin: int = 2014
    tolerance: float = 0.5
    credits_commune_entiere: float = 0.0  # association credits to actions without a quartier
    population: float | None = None  # communes.population
    realisation: pd.DataFrame = field(default_factory=pd.DataFrame)  # funding.realisation, whole commune
    non_realisees: pd.DataFrame = field(default_factory=pd.DataFrame)  # actions with years not carried out
    qualification: pd.DataFrame = field(default_factory=pd.DataFrame)  # per precision of the declared public
    bilans_themes: pd.DataFrame = field(default_factory=pd.DataFrame)  # category × theme, after secrecy
    bilans_categories: pd.DataFrame = field(default_factory=pd.DataFrame)  # per category, after secrecy
    bilans_constats: int = 0  # coded statements of the significant actions (printed through secrecy)
    periodes: pd.DataFrame = field(default_factory=pd.DataFrame)  # series × indicator, before / during
    constats: list[str] = field(default_factory=list)
    reserves: list[str] = field(default_factory=list)
    debat: list[str] = field(default_factory=list)
    phrases_actions: list[str] = field(default_factory=list)
    phrases_publics: list[str] = field(default_factory=list)
    phrases_bilans: list[str] = field(default_factory=list)
    phrases_tendances: list[str] = field(default_factory=list)
    phrases_did: list[str] = field(default_factory=list)
    phrases_ecarts: list[str] = field(default_factory=list)
    phrases_enquetes: list[str] = field(default_factory=list)
    reponse_atelier: list[str] = field(default_factory=list)
    chiffres_cles: list[dict] = field(default_factory=list)
    verdict: dict = field(default_factory=dict)

    @property
    def par_habitant(self) -> float | None:
        """Association credits over the period per inhabitant of the commune (None without population)."""
        if text.manquant(self.population) or not self.population:
            return None
        return self.credits_associations / float(self.population)

    @property
    def n_finances(self) -> int:
        """The commune's quartiers in the treated group (funded above the intensity threshold)."""
        i = self.intensite
        return int((i["groupe"] == "traite").sum()) if not i.empty else 0

    @property
    def did_groupes(self) -> tuple[int, int]:
        """The region's funded and comparison quartiers, the two groups of the DiD."""
        g = self.groupes_region
        if g.empty:
            return 0, 0
        return int((g["groupe"] == "traite").sum()), int((g["groupe"] == "comparaison").sum())

    @property
    def did_raison(self) -> str | None:
        """Why the region-wide DiD has no estimate at all — a group without any quartier — in
        French, or None when both groups have quartiers (then an estimate may still be n.d.
        for too few years, said per indicator)."""
        n_t, n_c = self.did_groupes
        if n_t and n_c:
            return None
        g = self.groupes_region
        if g.empty and self.did.empty:
            return (
                "les actions, leurs financements, leurs opérateurs ou les indicateurs des quartiers manquent "
                "dans les données"
            )
        raisons = []
        n_inconnus = self.quartiers_categorie_inconnue
        n_q, n_q_inconnus = self.quartiers_commune_categorie
        if (n_inconnus and n_inconnus == len(g)) or (g.empty and n_q and n_q_inconnus == n_q):
            raisons.append(
                "la catégorie CUCS des quartiers est inconnue dans les données"
                + (f" ({n_inconnus} quartiers de la région)" if n_inconnus > 1 else "")
                + ", et un quartier sans catégorie connue n'est classé ni financé ni de comparaison"
            )
        a_pop = self.derniere_annee_population
        if g.empty and (a_pop is None or a_pop < self.annee_traitement):
            raisons.append(
                f"la population des quartiers, qui mesure l'intensité du financement à partir de {self.annee_traitement}, "
                + ("est absente des données" if a_pop is None else f"n'est connue que jusqu'en {a_pop}")
            )
        if not g.empty and not (g["intensite_moyenne"].fillna(0) > 0).any():
            raisons.append(
                "aucun crédit spécifique aux associations n'est rattaché à un quartier dans les données (actions "
                "au niveau de la commune ou du contrat) : l'intensité du financement des quartiers n'est pas connue"
            )
        if not raisons:
            raisons.append(
                f"aucun quartier de la région n'est financé au-delà de {text.euros(self.seuil_intensite)} par "
                "habitant et par an"
                if not n_t
                else f"aucun quartier de la région n'est financé à moins de {text.euros(self.seuil_comparaison)} "
                "par habitant et par an"
            )
        return " ; ".join(raisons)

    @property
    def did_nd(self) -> bool:
        """The region stage ran (its tables are present) and its DiD has a group without any
        quartier: « n.d. » with `did_raison` everywhere, no row of empty estimates."""
        return self.did_raison is not None and (not self.did.empty or not self.groupes_region.empty)

    @property
    def n_finances_connu(self) -> bool:
        """Whether the count of the commune's funded quartiers is known: the region stage has
        classed at least one of its quartiers (known CUCS category, funding attached to a
        quartier somewhere in the region)."""
        i = self.intensite
        if i.empty or self.groupes_region.empty:
            return False
        if not (self.groupes_region["intensite_moyenne"].fillna(0) > 0).any():
            return False  # no credit attached to any quartier: intensities are unknown, not 0
        return bool(i["groupe"].isin(["traite", "comparaison", "exclu"]).any())

    def texte(self, section: str) -> list[str]:
        """The sentences of a notebook section (keys of SECTIONS); empty when its data is missing,
        so the section's one « Données non disponibles » sentence is said once."""
        return {
            "actions": self.phrases_actions,
            "publics": self.phrases_publics,
            "bilans": self.phrases_bilans,
            "tendances": self.phrases_tendances,
            "ecarts": self.phrases_ecarts,
            "did": self.phrases_did,
            "enquetes": self.phrases_enquetes,
            "contribution": self.reponse_atelier,
        }[section]

    def resultats(self) -> dict:
        """The q2 keys of the results contract (DESIGN.md §6), with the period values of each gap,
        the achievement on one base and the verdict."""
        did = (
            self.did[list(impact.DID_COLUMNS)]
            if not self.did.empty
            else pd.DataFrame(columns=impact.DID_COLUMNS)
        )
        e = self.ecarts
        ecarts = []
        for r in e.itertuples():
            ecarts.append(
                {
                    "code_quartier": str(r.code_quartier),
                    "indicateur": str(r.indicateur),
                    "annee_debut": _int(r.annee_debut),
                    "ecart_debut": _num(r.ecart_debut),
                    "annee_fin": _int(r.annee_fin),
                    "ecart_fin": _num(r.ecart_fin),
                    "convergence": None if text.manquant(r.convergence) else str(r.convergence),
                    "periode_avant": text.annee_periode(r.annee_debut, r.annee_fin_avant)
                    if r.avant_testable
                    else None,
                    "periode_pendant": text.annee_periode(r.annee_debut_pendant, r.annee_fin),
                    "valeur_avant": _num(r.valeur_avant),
                    "valeur_pendant": _num(r.valeur_pendant),
                    "valeur_commune_avant": _num(r.valeur_reference_avant),
                    "valeur_commune_pendant": _num(r.valeur_reference_pendant),
                    "numerateur_avant": _num(r.numerateur_avant),
                    "denominateur_avant": _num(r.denominateur_avant),
                    "numerateur_pendant": _num(r.numerateur_pendant),
                    "denominateur_pendant": _num(r.denominateur_pendant),
                    "ecart_avant": _num(r.ecart_avant),
                    "ecart_pendant": _num(r.ecart_pendant),
                    "evolution_ecart": _num(r.evolution_ecart),
                    "avant_testable": bool(r.avant_testable),
                    "petite_base": bool(r.petite_base),
                    "motif": motifs.SECRET
                    if r.secret
                    else (None if not text.manquant(r.convergence) else motifs.NON_CALCULABLE),
                }
            )
        real = self.realisation.iloc[0] if not self.realisation.empty else None
        if real is not None:
            # The commune's totals are counts of people: through secrecy, the rate with them.
            real = real.copy()
            petit = privacy.primary_mask(
                pd.Series([real["prevus_realisees"], real["realises"]], dtype=float), self.seuil_secret
            ).any()
            if petit:
                real[["prevus_realisees", "realises", "taux_realisation"]] = np.nan
            if privacy.primary_mask(
                pd.Series([real["prevus_non_realisees"]], dtype=float), self.seuil_secret
            ).any():
                real["prevus_non_realisees"] = np.nan
        return {
            # null when the data leave it unknown (the pipeline writes only a known status).
            "signataire_cucs": self.signataire,
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
            # The DiD is region-wide: it is a finding for the commune only through its funded quartiers.
            "did_portee": {
                "echelle": "region",
                "quartiers_finances_commune": self.n_finances
                if self.signataire is not False and self.n_finances_connu
                else None,
                "quartiers_finances_region": self.did_groupes[0],
                "quartiers_comparaison_region": self.did_groupes[1],
                # the DiD has no estimate at all (a group without quartier), and why
                "motif_nd": None if self.did_raison is None else motifs.DONNEE_ABSENTE,
                "raison_nd": self.did_raison,
                "resultat_de_la_commune": bool(self.signataire is not False and self.n_finances > 0),
                "motif": self.motif if self.signataire is False else None,
                "quartiers_categorie_inconnue_exclus": self.quartiers_categorie_inconnue,
            },
            "ecarts": ecarts,
            "realisation": None
            if real is None
            else {
                "base": "actions-années réalisées déclarant un effectif touché",
                "prevus": _num(real["prevus_realisees"]),
                "realises": _num(real["realises"]),
                "taux": _num(real["taux_realisation"]),
                "annees_base": _int(real["annees_base"]),
                "annees_non_pourvues": _int(real["annees_non_pourvues"]),
                "annees_abandonnees": _int(real["annees_abandonnees"]),
                "annees_en_cours": _int(real["annees_en_cours"]),
                "prevus_non_realisees": _num(real["prevus_non_realisees"]),
            },
            "realisation_motif": (
                None if not text.manquant(real["realises"]) or real["annees_base"] == 0 else motifs.SECRET
            )
            if real is not None
            else (self.motif or motifs.DONNEE_ABSENTE),
            "enquetes_motif": None if not self.enquetes.empty else (self.motif or motifs.DONNEE_ABSENTE),
            "tendances": [
                {
                    "indicateur": str(t.indicateur),
                    "serie": str(t.serie),
                    "methode": str(t.methode),
                    "periode_avant": text.periode_avant(self.periode_debut, self.annee_debut_cucs)
                    if t.avant_testable
                    else None,
                    "periode_pendant": text.annee_periode(self.annee_debut_cucs, self.periode_fin),
                    "valeur_avant": _num(t.valeur_avant),
                    "valeur_pendant": _num(t.valeur_pendant),
                    "difference_affichee": text.difference_affichee(t.valeur_avant, t.valeur_pendant, 1),
                    "numerateur_avant": _num(t.numerateur_avant),
                    "denominateur_avant": _num(t.denominateur_avant),
                    "numerateur_pendant": _num(t.numerateur_pendant),
                    "denominateur_pendant": _num(t.denominateur_pendant),
                    "avant_testable": bool(t.avant_testable),
                    "petite_base": bool(t.petite_base),
                    "motif": motifs.SECRET
                    if t.secret
                    else (None if t.avant_testable else motifs.NON_CALCULABLE),
                }
                for t in self.periodes.itertuples()
            ],
            "verdict": self.verdict,
        }


def _num(x: object) -> float | None:
    return None if text.manquant(x) else float(x)


def _int(x: object) -> int | None:
    return None if text.manquant(x) else int(x)


# --- means: the commune's association actions -----------------------------------------------


def association_rows(territoire) -> pd.DataFrame:
    """The commune's action-years whose operator is an association."""
    actions = territoire.actions
    if actions is None or actions.empty:
        return pd.DataFrame(columns=[] if actions is None else actions.columns)
    ops = territoire.operateurs.drop_duplicates("id_operateur").set_index("id_operateur")
    statut = actions["id_operateur"].map(ops["statut_juridique"])
    return actions[statut.eq("association").fillna(False).astype(bool)].reset_index(drop=True)


def _realisation(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """`funding.realisation` plus `annees_base`: the action-years the rate stands on."""
    out = funding.realisation(rows, by=by)
    if rows.empty:
        return out.assign(annees_base=pd.Series(dtype="int64"))
    # The rate's rows: realised, with both the achieved and the planned figure known.
    base = (
        rows["statut"].astype(object).eq(funding.STATUT_REALISEE).fillna(False).astype(bool)
        & rows["beneficiaires_realises"].notna()
        & rows["beneficiaires_prevus"].notna()
    )
    if by:
        n = base.groupby([rows[c] for c in by], dropna=False, observed=True).sum().rename("annees_base")
        out = out.merge(n.reset_index(), on=by, how="left")
    else:
        out["annees_base"] = int(base.sum())
    out["annees_base"] = out["annees_base"].fillna(0).astype("int64")
    return out


def association_actions(territoire) -> pd.DataFrame:
    """One row per action of the commune run by an association (ACTION_COLUMNS).

    Declared attributes (title, public, objective) come from the action's last year; amounts
    are summed over the years. Beneficiaries stand on one base (`funding.realisation`): planned
    and achieved over the same action-years, those of status `réalisée` that report an achieved
    figure (`annees_base`); years `non pourvue`, `abandonnée` and `programmée` are counted apart,
    with the beneficiaries they had planned (`prevus_non_realisees`).
    """
    assoc = association_rows(territoire)
    if assoc.empty:
        return pd.DataFrame(columns=ACTION_COLUMNS)
    ops = territoire.operateurs.drop_duplicates("id_operateur").set_index("id_operateur")
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
    real = _realisation(assoc, ["id_action"]).set_index("id_action")
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
    base = real["annees_base"].reindex(out.index).fillna(0)
    # No achieved figure at all: the counts are unknown (n.d.), not zero.
    out["beneficiaires_prevus"] = real["prevus_realisees"].reindex(out.index).where(base > 0).astype(float)
    out["beneficiaires_realises"] = real["realises"].reindex(out.index).where(base > 0).astype(float)
    out["taux_realisation"] = real["taux_realisation"].reindex(out.index).astype(float)
    realises = out["beneficiaires_realises"].where(out["beneficiaires_realises"] > 0)
    out["cout_par_beneficiaire"] = (out["credits_specifiques"] / realises).astype(float)
    for c in (
        "annees_realisees",
        "annees_base",
        "annees_en_cours",
        "annees_non_pourvues",
        "annees_abandonnees",
    ):
        out[c] = real[c].reindex(out.index).fillna(0).astype("int64")
    out["prevus_non_realisees"] = real["prevus_non_realisees"].reindex(out.index).fillna(0.0)
    out = out.reset_index().sort_values(["credits_specifiques", "id_action"], ascending=[False, True])
    return out[ACTION_COLUMNS].reset_index(drop=True)


#: Rates of people in the gaps table: each count (numerator, denominator of a period) with the
#: values computed from it (`privacy.hide_small_bases`). The first and last years' gaps rest on
#: yearly counts of the same people: hidden with either period's base.
_AVANT = ["valeur_avant", "ecart_avant", "evolution_ecart", "ecart_debut", "convergence"]
_PENDANT = ["valeur_pendant", "ecart_pendant", "evolution_ecart", "ecart_fin", "convergence"]
GAP_BASES = {
    "numerateur_avant": _AVANT,
    "denominateur_avant": _AVANT,
    "numerateur_pendant": _PENDANT,
    "denominateur_pendant": _PENDANT,
}
#: The same for the pooled series before / during the CUCS.
PERIOD_BASES = {
    "numerateur_avant": ["valeur_avant", "difference"],
    "denominateur_avant": ["valeur_avant", "difference"],
    "numerateur_pendant": ["valeur_pendant", "difference"],
    "denominateur_pendant": ["valeur_pendant", "difference"],
}


def _secret_bases(df: pd.DataFrame, bases: dict, seuil: int) -> pd.DataFrame:
    """`privacy.hide_small_bases` with a `<col>_secret` flag for each base and a `secret` flag
    per row (some value of the row is hidden)."""
    st = privacy.hide_small_bases(df, bases, seuil)
    out = st.values.copy()
    for c in bases:
        out[f"{c}_secret"] = st.mask[c].to_numpy() if c in st.mask else False
    out["secret"] = st.mask.any(axis=1).to_numpy() if len(out) else pd.Series(dtype=bool)
    return out


def _secret(df: pd.DataFrame, columns: list[str], seuil: int, margins: str = "none") -> pd.DataFrame:
    """Counts below the secrecy threshold replaced by NaN, with a `<col>_secret` flag each;
    margins="columns" when the page prints the column totals (secondary secrecy)."""
    out = privacy.secret_columns(df, columns, seuil, margins)
    # A rate or a cost computed on a hidden count would reveal it.
    hidden = out[[f"{c}_secret" for c in columns]].any(axis=1)
    for c in ("taux_realisation", "cout_par_beneficiaire"):
        if c in out:
            out[c] = out[c].where(~hidden)
    return out


def precision_public(public: pd.Series) -> pd.Series:
    """Code of what a declared public names (keys of PRECISIONS): an age bracket, a social
    situation, both, neither (« Habitants du quartier ») or nothing declared."""
    s = public.astype("string").str.strip()
    declared = s.notna() & (s.fillna("") != "")
    age = s.fillna("").str.contains(_AGE)
    situation = s.fillna("").str.contains(_SITUATION)
    code = np.select(
        [~declared, age & situation, age, situation],
        ["non_declare", "age_situation", "age", "situation"],
        "general",
    )
    return pd.Series(code, index=public.index, dtype=object)


def _declared(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip().fillna("").ne("")


def publics_table(territoire, actions: pd.DataFrame) -> pd.DataFrame:
    """Per declared public: actions, specific credits and the achievement on one base
    (`funding.realisation` over the association action-years of that public)."""
    cols = [
        "public_cible",
        "precision",
        "actions",
        "credits_specifiques",
        "beneficiaires_prevus",
        "beneficiaires_realises",
        "taux_realisation",
        "annees_base",
        "annees_non_pourvues",
        "annees_abandonnees",
        "annees_en_cours",
    ]
    if actions.empty:
        return pd.DataFrame(columns=cols)
    rows = association_rows(territoire)
    # The public declared on the action's last year, as in the actions table.
    public = actions.set_index("id_action")["public_cible"]
    rows = rows.assign(public_cible=rows["id_action"].map(public).fillna("Public non déclaré"))
    real = _realisation(rows, ["public_cible"])
    a = actions.assign(public_cible=actions["public_cible"].fillna("Public non déclaré"))
    g = a.groupby("public_cible", dropna=False).agg(
        actions=("id_action", "nunique"), credits_specifiques=("credits_specifiques", "sum")
    )
    out = g.reset_index().merge(real, on="public_cible", how="left")
    base = out["annees_base"].fillna(0)
    out["beneficiaires_prevus"] = out["prevus_realisees"].where(base > 0).astype(float)
    out["beneficiaires_realises"] = out["realises"].where(base > 0).astype(float)
    out["precision"] = precision_public(
        out["public_cible"].where(out["public_cible"] != "Public non déclaré")
    )
    out = out.sort_values(["credits_specifiques", "public_cible"], ascending=[False, True])
    return out[cols].reset_index(drop=True)


def qualification_table(actions: pd.DataFrame) -> pd.DataFrame:
    """How precisely the programme qualifies its publics: per precision level (PRECISIONS),
    the actions, their share, their specific credits and share, and how many also declare an
    objective."""
    cols = [
        "precision",
        "libelle",
        "actions",
        "part_actions",
        "credits_specifiques",
        "part_credits",
        "objectif_declare",
    ]
    if actions.empty:
        return pd.DataFrame(columns=cols)
    a = actions.assign(
        precision=precision_public(actions["public_cible"]), objectif_ok=_declared(actions["objectif"])
    )
    g = a.groupby("precision").agg(
        actions=("id_action", "nunique"),
        credits_specifiques=("credits_specifiques", "sum"),
        objectif_declare=("objectif_ok", "sum"),
    )
    g = g.reindex(list(PRECISIONS), fill_value=0).reset_index()
    g = g[g["actions"] > 0].copy()
    g["libelle"] = g["precision"].map(PRECISIONS)
    g["part_actions"] = g["actions"] / g["actions"].sum()
    total = g["credits_specifiques"].sum()
    g["part_credits"] = g["credits_specifiques"] / total if total else np.nan
    g["objectif_declare"] = g["objectif_declare"].astype("int64")
    return g[cols].reset_index(drop=True)


def bilans_table(territoire, significatives: pd.DataFrame) -> pd.DataFrame:
    """What the activity reports of the significant actions say: per action, the years
    reported, the number of coded statements and the statements themselves (quoted, with their
    years), by category (successes; difficulties and blockages; explained gaps)."""
    cols = [
        "id_action",
        "intitule",
        "annees",
        "constats",
        "reussite",
        "difficulte",
        "ecart",
        "theme_principal",
    ]
    bilans = territoire.bilans
    if bilans is None or bilans.empty or significatives.empty:
        return pd.DataFrame(columns=cols)
    b = bilans[bilans["id_action"].isin(significatives["id_action"])].copy()
    if b.empty:
        return pd.DataFrame(columns=cols)
    b["categorie"] = b["categorie"].astype(str)
    b["groupe"] = b["categorie"].map(
        {
            "réussite": "reussite",
            "difficulté": "difficulte",
            "blocage": "difficulte",
            "écart expliqué": "ecart",
        }
    )

    def quotes(df: pd.DataFrame) -> str:
        years = df.groupby("texte", sort=False)["annee"].apply(
            lambda y: text.liste_fr(sorted(set(int(v) for v in y)))
        )
        return " ; ".join(f"« {t} » ({a})" for t, a in years.items())

    per = b.sort_values(["id_action", "annee", "id_bilan"]).groupby(["id_action", "groupe"])
    cites = (
        per.apply(quotes, include_groups=False)
        .unstack("groupe")
        .reindex(columns=["reussite", "difficulte", "ecart"])
    )
    summary = b.groupby("id_action").agg(
        debut=("annee", "min"), fin=("annee", "max"), constats=("id_bilan", "count")
    )
    theme = b.groupby(["id_action", "theme"]).size().rename("n").reset_index()
    theme = theme.sort_values(["id_action", "n", "theme"], ascending=[True, False, True]).drop_duplicates(
        "id_action"
    )
    out = significatives[["id_action", "intitule"]].merge(summary.reset_index(), on="id_action", how="inner")
    out = out.merge(cites.reset_index(), on="id_action", how="left")
    out["annees"] = [text.annee_periode(a, z) for a, z in zip(out["debut"], out["fin"], strict=True)]
    out["theme_principal"] = out["id_action"].map(theme.set_index("id_action")["theme"])
    out["constats"] = out["constats"].astype("int64")
    return out[cols].reset_index(drop=True)


def bilans_counts(territoire, significatives: pd.DataFrame, seuil: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts of coded statements of the significant actions' reports, through statistical
    secrecy: category × theme (with row and column totals known) and per category."""
    bilans = territoire.bilans
    cats = list(CATEGORIES_BILAN)
    empty = (
        pd.DataFrame(columns=["theme", *cats, "total"]),
        pd.DataFrame(columns=["categorie", "n", "n_secret"]),
    )
    if bilans is None or bilans.empty or significatives.empty:
        return empty
    b = bilans[bilans["id_action"].isin(significatives["id_action"])]
    if b.empty:
        return empty
    ct = pd.crosstab(b["theme"].astype(str), b["categorie"].astype(str)).reindex(columns=cats, fill_value=0)
    ct["total"] = ct.sum(axis=1)
    st = privacy.apply_secrecy(ct, [*cats, "total"], seuil, margins="both", total_column="total")
    themes = st.values.reset_index().rename(columns={"index": "theme"})
    themes.columns = ["theme", *cats, "total"]
    for c in [*cats, "total"]:
        themes[f"{c}_secret"] = st.mask[c].to_numpy()
    per_cat = b["categorie"].astype(str).value_counts().reindex(cats, fill_value=0)
    # The findings print the total of coded statements beside the categories: a single hidden
    # category would be the total minus the others (secondary secrecy).
    sc = privacy.secret_counts(per_cat, seuil, total_known=True)
    categories = pd.DataFrame({"categorie": cats, "n": sc.values.to_numpy(), "n_secret": sc.mask.to_numpy()})
    return themes, categories


# --- outcomes: trends, gaps, DiD ---------------------------------------------------------------


def _funded_codes(territoire, groupes: pd.DataFrame) -> list[str]:
    own = list(territoire.quartiers["code_quartier"]) if territoire.quartiers is not None else []
    g = groupes.set_index("code_quartier")["groupe"] if not groupes.empty else pd.Series(dtype=object)
    return [q for q in own if g.get(q) == "traite"]


def _serie_quartiers(territoire, groupes: pd.DataFrame) -> str:
    """The series of the commune's quartiers when none is funded: « quartiers » (none funded,
    a measured state) when the region stage classed one of them on known credits, else
    « quartiers_inconnus »."""
    own = set(territoire.quartiers["code_quartier"]) if territoire.quartiers is not None else set()
    if groupes.empty or not (groupes["intensite_moyenne"].fillna(0) > 0).any():
        return "quartiers_inconnus"
    g = groupes[groupes["code_quartier"].isin(own)]
    return "quartiers" if g["groupe"].isin(["traite", "comparaison", "exclu"]).any() else "quartiers_inconnus"


def series_table(territoire, region, indicateurs: list[str], seuil: int | None = None) -> pd.DataFrame:
    """Funded quartiers of the commune (pooled; all its quartiers when it has none funded) vs the
    commune vs the region's comparison quartiers (pooled, from the region stage), per
    indicator and year."""
    cols = ["indicateur", "serie", "annee", "valeur", "ic_bas", "ic_haut", "n_quartiers"]
    code = territoire.code_commune
    funded = _funded_codes(territoire, region.groupes)
    own = list(territoire.quartiers["code_quartier"]) if territoire.quartiers is not None else []
    codes, nom = (funded, "finances") if funded else (own, _serie_quartiers(territoire, region.groupes))
    ind_commune = territoire.indicateurs
    comparison = region.series_comparaison
    parts = []
    for ind in indicateurs:  # two or three indicators
        parts.append(trends.pooled_series(ind_commune, codes, ind, nom))
        com = ind_commune[
            (ind_commune["niveau"] == "commune")
            & (ind_commune["code_territoire"] == code)
            & (ind_commune["indicateur"] == ind)
        ]
        com = trends.with_intervals(com[com["valeur"].notna()])
        parts.append(com.assign(serie="commune", n_quartiers=np.nan)[cols])
        parts.append(comparison[comparison["indicateur"] == ind][cols])
    parts = [p for p in parts if not p.empty]
    if not codes or not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)[cols]
    # A yearly pooled rate of the commune's quartiers on fewer than `seuil` people (numerator
    # or denominator) is hidden, with its interval: the figures draw only published values.
    q = ind_commune[(ind_commune["niveau"] == "quartier") & ind_commune["code_territoire"].isin(codes)]
    if seuil is not None and not q.empty and {"numerateur", "denominateur"} <= set(q.columns):
        sums = q.groupby(["indicateur", "annee"])[["numerateur", "denominateur"]].sum(min_count=1)
        small = privacy.primary_mask(sums["numerateur"], seuil) | privacy.primary_mask(
            sums["denominateur"], seuil
        )
        keys = pd.MultiIndex.from_frame(out[["indicateur", "annee"]])
        hidden = (out["serie"] == nom).to_numpy() & small.reindex(keys, fill_value=False).to_numpy()
        out.loc[hidden, ["valeur", "ic_bas", "ic_haut"]] = np.nan
    return out


PERIODE_SERIES_COLUMNS = [
    "indicateur",
    "serie",
    "n_quartiers",
    "methode",
    *trends.PERIODE_COLUMNS,
]


def periods_table(territoire, region, indicateurs: list[str], params) -> pd.DataFrame:
    """Each series of `series_table` before the CUCS and during it (`trends.compare_periods`):
    the funded quartiers and the commune as pooled rates (Σ numerators / Σ denominators of each
    period, the bases shown), the region's comparison quartiers as the mean of their yearly
    pooled rates (the region stage keeps rates, not counts)."""
    kw = {
        "annee_debut_cucs": int(params.annee_debut_cucs),
        "debut": int(params.periode.debut),
        "fin": int(params.periode.fin),
    }
    ind = territoire.indicateurs
    ind = ind[ind["indicateur"].isin(indicateurs)]
    funded = _funded_codes(territoire, region.groupes)
    own = list(territoire.quartiers["code_quartier"]) if territoire.quartiers is not None else []
    codes, nom = (funded, "finances") if funded else (own, _serie_quartiers(territoire, region.groupes))
    parts = []
    q = ind[(ind["niveau"] == "quartier") & ind["code_territoire"].isin(codes)]
    if not q.empty:
        p = trends.compare_periods_auto(q, by=["indicateur"], **kw)
        n = q.groupby("indicateur")["code_territoire"].nunique().rename("n_quartiers")
        parts.append(p.merge(n.reset_index(), on="indicateur", how="left").assign(serie=nom))
    c = ind[(ind["niveau"] == "commune") & (ind["code_territoire"] == territoire.code_commune)]
    if not q.empty and not c.empty:
        parts.append(
            trends.compare_periods_auto(c, by=["indicateur"], **kw).assign(
                serie="commune", n_quartiers=np.nan
            )
        )
    comp = region.series_comparaison
    comp = comp[comp["indicateur"].isin(indicateurs)] if not comp.empty else comp
    if not q.empty and not comp.empty:
        p = trends.compare_periods(comp, by=["indicateur"], valeur="valeur", **kw).assign(methode="moyenne")
        n = comp.groupby("indicateur")["n_quartiers"].max().rename("n_quartiers")
        parts.append(p.merge(n.reset_index(), on="indicateur", how="left").assign(serie="comparaison"))
    if not parts:
        return pd.DataFrame(columns=PERIODE_SERIES_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    order = {k: i for i, k in enumerate(SERIES)}
    out = out.assign(
        _o=out["serie"].map(order), _i=out["indicateur"].map({k: i for i, k in enumerate(indicateurs)})
    )
    return out.sort_values(["_i", "_o"])[PERIODE_SERIES_COLUMNS].reset_index(drop=True)


def gaps_table(territoire, groupes: pd.DataFrame, indicateurs: list[str], params) -> pd.DataFrame:
    """The commune's quartiers × indicators: gap to the commune before the CUCS and during it
    (`impact.gap_periods`), convergence, the significance flag of the last year (Wilson
    intervals) and the quartier's own trend over all its years (slope and its interval; never
    from two consecutive years: `trends.evolution`)."""
    extra = ["nom", "groupe", "comparaison_fin", "tendance"]
    cols = [*impact.GAP_COLUMNS, *impact.GAP_PERIOD_COLUMNS, *extra]
    q = territoire.quartiers
    if q is None or q.empty:
        return pd.DataFrame(columns=cols)
    ind = territoire.indicateurs
    own = ind[(ind["niveau"] != "quartier") | ind["code_territoire"].isin(q["code_quartier"])]
    own = own[(own["niveau"] != "commune") | (own["code_territoire"] == territoire.code_commune)]
    gaps = impact.gap_periods(
        own,
        q,
        annee_debut_cucs=int(params.annee_debut_cucs),
        debut=int(params.periode.debut),
        fin=int(params.periode.fin),
        indicateurs_list=indicateurs,
        tolerance=float(params.convergence.tolerance_points),
    )
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
    g = groupes.set_index("code_quartier")["groupe"] if not groupes.empty else pd.Series(dtype=object)
    out["groupe"] = out["code_quartier"].map(g).map(GROUPES)
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


def _derniere_annee_population(indicateurs: pd.DataFrame | None) -> int | None:
    """The latest year of a quartier's population (what the funding intensity is divided by)."""
    if indicateurs is None or indicateurs.empty:
        return None
    pop = indicateurs[
        (indicateurs["indicateur"] == "population")
        & (indicateurs["niveau"] == "quartier")
        & indicateurs["valeur"].notna()
    ]
    return None if pop.empty else int(pop["annee"].max())


def compute(territoire, region, params) -> RapportQ2:
    """The q2 tables of one commune (no sentences yet); `region` is the region stage."""
    code = territoire.code_commune
    nom = str((territoire.commune or {}).get("nom", code))
    # Unknown status (None) is not « hors CUCS »: the actions in the data are shown.
    signataire = rapport.statut_signataire(territoire) if getattr(territoire, "commune", None) else True
    available = getattr(territoire, "available", {}) or {}
    motif = rapport.motif_commune(signataire, bool(available.get("actions", True)))
    indicateurs = list(params.did.indicateurs)
    cat = territoire.catalogue.set_index("indicateur")
    libelles = {i: str(cat["libelle"].get(i, i)) for i in indicateurs}
    unites = {i: str(cat["unite"].get(i, "")) for i in indicateurs}
    seuil = int(params.seuil_secret)

    actions = association_actions(territoire)
    rows = association_rows(territoire)
    fin = territoire.financements
    spec = fin[fin["type_credit"] == "specifique"] if fin is not None and not fin.empty else None
    credits_spec = float(spec["montant_accorde"].sum()) if spec is not None else 0.0
    credits_assoc = float(actions["credits_specifiques"].sum()) if not actions.empty else 0.0
    sans_quartier = (
        actions.loc[actions["quartier"] == "Toute la commune", "credits_specifiques"]
        if not actions.empty
        else None
    )
    credits_commune = float(sans_quartier.sum()) if sans_quartier is not None else 0.0
    benef = ["beneficiaires_prevus", "beneficiaires_realises"]
    # The page prints the commune's totals (achievement sentence): a table that lists every
    # association action (a small commune) or every public sums to them, hence the column margins.
    complet = "columns" if len(actions) <= N_ACTIONS else "none"
    significatives = _secret(actions.head(N_ACTIONS).reset_index(drop=True), benef, seuil, complet)
    publics = _secret(publics_table(territoire, actions), benef, seuil, "columns")
    bilans = bilans_table(territoire, significatives)
    themes, categories = bilans_counts(territoire, significatives, seuil)
    realisation = _realisation(rows, []) if not rows.empty else pd.DataFrame()
    cols_nr = [
        "id_action",
        "intitule",
        "quartier",
        "periode",
        "annees_non_pourvues",
        "annees_abandonnees",
        "prevus_non_realisees",
    ]
    non_realisees = (
        actions[(actions["annees_non_pourvues"] + actions["annees_abandonnees"]) > 0][cols_nr].reset_index(
            drop=True
        )
        if not actions.empty
        else pd.DataFrame(columns=cols_nr)
    )

    did, events, groupes = region.did, region.etudes_evenement, region.groupes
    q = territoire.quartiers
    if q is not None and not q.empty and not groupes.empty:
        intens = q[["code_quartier", "nom"]].merge(groupes, on="code_quartier", how="left")
        intens["statut"] = intens["groupe"].map(GROUPES).fillna("non classé")
        if signataire is False:
            intens["statut"] = intens["statut"] + " (hors CUCS)"
        intens = pd.DataFrame(intens.drop(columns="geometry", errors="ignore"))
    else:
        intens = pd.DataFrame(columns=["code_quartier", "nom", "intensite_moyenne", "groupe", "statut"])
    series = series_table(territoire, region, indicateurs, seuil) if not groupes.empty else pd.DataFrame()
    periodes = periods_table(territoire, region, indicateurs, params)
    ecarts = gaps_table(
        territoire,
        groupes if not groupes.empty else pd.DataFrame(columns=["code_quartier", "groupe"]),
        indicateurs,
        params,
    )
    # Counts of people behind the rates (numerators, denominators) and what is computed from
    # them pass through secrecy, whatever the input's `secret` flag says.
    ecarts = _secret_bases(ecarts, GAP_BASES, seuil)
    periodes = _secret_bases(periodes, PERIOD_BASES, seuil)
    # One decision for every page that shows these counts (`programme.secret_non_realisees`,
    # which q1 applies too): an action's planned beneficiaries of unfilled years are hidden on
    # q1 and q2 alike, and the totals both pages print cannot give one back.
    canon = programme.secret_non_realisees(territoire.actions, territoire.operateurs, seuil)
    cache = non_realisees["id_action"].map(canon).fillna(False).astype(bool)
    cache |= privacy.primary_mask(non_realisees["prevus_non_realisees"].astype(float), seuil).fillna(False)
    non_realisees = non_realisees.assign(
        prevus_non_realisees=non_realisees["prevus_non_realisees"].where(~cache),
        prevus_non_realisees_secret=cache.to_numpy(),
    )
    # The total of coded statements is printed in the findings: secondary secrecy on the column.
    bilans_constats = int(bilans["constats"].sum()) if not bilans.empty else 0
    if not bilans.empty:
        sc = privacy.secret_counts(bilans["constats"], seuil, total_known=True)
        bilans = bilans.assign(constats=sc.values.to_numpy(), constats_secret=sc.mask.to_numpy())
    else:
        bilans = bilans.assign(constats_secret=pd.Series(dtype=bool))
    enquetes = survey_table(territoire, seuil)
    reponses = survey_answers(territoire, enquetes)
    e = territoire.enquetes
    enq_dispo = (
        e is not None and not e.empty and bool(e["code_quartier"].isin(q["code_quartier"]).any())
        if q is not None
        else False
    )

    return RapportQ2(
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
        seuil_comparaison=float(params.did.seuil_comparaison),
        quartiers_commune_categorie=(
            0 if q is None else len(q),
            len(impact.unknown_category_codes(q)),
        ),
        derniere_annee_population=_derniere_annee_population(territoire.indicateurs),
        sens={i: str(cat["sens"].get(i, "")) for i in indicateurs},
        signataire=signataire,
        etat_seul=rapport.financements_etat_seul(getattr(territoire, "metadata", None)),
        quartiers_categorie_inconnue=int((groupes["groupe"] == impact.CATEGORIE_INCONNUE).sum())
        if not groupes.empty
        else 0,
        motif=motif,
        enquetes_disponibles=enq_dispo,
        annee_debut_cucs=int(params.annee_debut_cucs),
        periode_debut=int(params.periode.debut),
        periode_fin=int(params.periode.fin),
        tolerance=float(params.convergence.tolerance_points),
        credits_commune_entiere=credits_commune,
        population=(territoire.commune or {}).get("population"),
        realisation=realisation,
        non_realisees=non_realisees,
        qualification=qualification_table(actions),
        bilans_themes=themes,
        bilans_constats=bilans_constats,
        bilans_categories=categories,
        periodes=periodes,
    )
