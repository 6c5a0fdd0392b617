"""The evaluative questions of the workshop and the notebook that answers each.

The French titles are quoted from the workshop report (atelier de qualification collective 1);
the runner, the site and the notebooks all read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Question:
    id: str
    notebook: str
    titre: str  # short French title for menus
    question: str  # the workshop's question, verbatim
    groupe: str  # the working group that asked it
    required_keys: tuple[str, ...]  # results-contract keys (DESIGN.md §6)
    regional: bool = False  # run once for the whole region rather than per commune
    etape_region: bool = False  # its report reads the region stage: build(territoire, region, params)
    # The parameters its report reads (sections or dotted leaves of params/defaults.yaml): the
    # notebook's « Paramètres utilisés » table (`Contexte.vue_parametres`) lists their values.
    sections_parametres: tuple[str, ...] = ()
    # The data tables its notebook cannot answer without (read from what its report uses):
    # when one is absent from the data set, `cucs run` does not execute the notebook and
    # publishes instead a page naming the missing tables. Optional tables whose absence the
    # report states section by section (droit_commun, instances, parcours…) are not listed.
    tables_requises: tuple[str, ...] = ()


QUESTIONS: tuple[Question, ...] = (
    Question(
        "q1",
        "q1_droit_commun.ipynb",
        "Droit commun et dispositifs",
        "Le CUCS a-t-il réussi à mettre en cohérence le droit commun avec les différents "
        "dispositifs sectoriels de la politique de la ville ? CLAS, OVV, etc. ?",
        "Groupe 1 : services de l'État",
        ("substitution", "part_droit_commun"),
        sections_parametres=("periode", "annee_debut_cucs", "substitution", "reprise", "seuil_secret"),
        tables_requises=("communes", "actions", "financements"),
    ),
    Question(
        "q2",
        "q2_moyens_associations.ipynb",
        "Moyens aux associations",
        "Les moyens alloués aux associations dans le cadre du CUCS ont-ils contribué à "
        "améliorer la situation sociale des publics visés ?",
        "Groupe 1 : services de l'État",
        ("did", "ecarts"),
        etape_region=True,
        sections_parametres=("did", "convergence", "operateurs.seuil_realisation", "seuil_secret"),
        tables_requises=(
            "communes",
            "quartiers",
            "indicateurs",
            "catalogue_indicateurs",
            "actions",
            "financements",
            "operateurs",
        ),
    ),
    Question(
        "q3",
        "q3_geographie_prioritaire.ipynb",
        "Géographie prioritaire",
        "Géographie prioritaire : En quoi l'échelle du quartier prioritaire est une échelle "
        "pertinente dans l'intervention Etat ? Quelle géographie prioritaire ?",
        "Groupe 1 : services de l'État, et groupe 4 : pilotes CUCS des communes",
        ("eligibilite", "seuil_qpv2014", "typologie"),
        etape_region=True,
        sections_parametres=("periode.fin", "qpv2014", "zus", "dynamique", "typologie", "seuil_secret"),
        tables_requises=("communes", "quartiers", "indicateurs", "catalogue_indicateurs"),
    ),
    Question(
        "q4",
        "q4_partenaires.ipynb",
        "Implication des partenaires",
        "Le CUCS a-t-il permis une meilleure implication des partenaires institutionnels pour "
        "réussir les actions et les repositionner à l'avenir ?",
        "Groupe 2 : opérateurs",
        ("instances", "cofinancement", "mobilisation"),
        sections_parametres=("periode", "annee_debut_cucs", "substitution", "reprise", "seuil_secret"),
        tables_requises=("communes", "actions", "financements"),
    ),
    Question(
        "q5",
        "q5_insertion.ipynb",
        "Insertion",
        "Est ce que les actions du CUCS dans son volet insertion a-t-il permis de répondre aux "
        "besoins identifiés sur le territoire ?",
        "Groupe 2 : opérateurs",
        ("recouvrement", "progression"),
        sections_parametres=("periode", "annee_debut_cucs", "seuil_secret"),
        tables_requises=("communes", "quartiers", "indicateurs", "actions", "financements"),
    ),
    Question(
        "q6",
        "q6_operateurs.ipynb",
        "Opérateurs",
        "Comment l'action du CUCS permet d'avoir des opérateurs adaptés aux besoins des territoires ?",
        "Groupe 3 : collectivités",
        ("sous_performants", "actions_non_pourvues", "modele_pilotage"),
        etape_region=True,
        sections_parametres=("periode", "annee_debut_cucs", "operateurs", "pilotage", "seuil_secret"),
        tables_requises=("communes", "actions", "financements", "operateurs"),
    ),
    Question(
        "q7",
        "q7_pilotage.ipynb",
        "Outils de pilotage",
        "Les outils de Pilotage spécifique « politique de la ville », GIP, sont ils toujours légitimes ?",
        "Groupe 4 : pilotes CUCS des communes",
        (
            "structure",
            "effet_levier",
            "delai_decision_median_jours",
            "delai_paiement_median_jours",
            "taux_renouvellement",
        ),
        etape_region=True,
        sections_parametres=("periode", "annee_debut_cucs"),
        tables_requises=("communes", "actions", "financements"),
    ),
    Question(
        "q8",
        "q8_proximite.ipynb",
        "Proximité",
        "Comment la culture de « la proximité » de la politique de la ville peut elle "
        "réinterroger l'action conduite sur les quartiers ?",
        "Groupe 4 : pilotes CUCS des communes",
        ("gup", "equipements"),
        sections_parametres=("periode", "annee_debut_cucs", "gup", "quartiers_experimentaux", "seuil_secret"),
        tables_requises=("communes", "quartiers", "actions"),
    ),
    Question(
        "synthese",
        "synthese_commune.ipynb",
        "Synthèse communale",
        "Synthèse des constats pour la commune",
        "Centre de ressources",
        (),
        tables_requises=("communes",),
    ),
    Question(
        "synthese_regionale",
        "synthese_regionale.ipynb",
        "Synthèse régionale",
        "Synthèse régionale : toutes les communes côte à côte",
        "Centre de ressources",
        (),
        regional=True,
        tables_requises=("communes",),
    ),
)

BY_ID: dict[str, Question] = {q.id: q for q in QUESTIONS}


def get(question_id: str) -> Question:
    """The question with this id; a French error lists the valid ids."""
    try:
        return BY_ID[question_id]
    except KeyError:
        valides = ", ".join(BY_ID)
        raise KeyError(f"Question inconnue « {question_id} » (questions valides : {valides}).") from None


def avec_carnet(dossier_carnets: Path | str) -> tuple[str, ...]:
    """The ids of the questions whose notebook exists in `dossier_carnets` (q5-q8 have none
    yet): a synthesis counts and lists only those."""
    dossier = Path(dossier_carnets)
    return tuple(q.id for q in QUESTIONS if (dossier / q.notebook).is_file())
