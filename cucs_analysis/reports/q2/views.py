"""q2 views: the tables the notebook shows, as numbers with French headers and units
(`present.display.vue`); an empty view, which says what is missing, when the section's data is
absent for the commune."""

from __future__ import annotations

import pandas as pd

from cucs_analysis.present import display, text
from cucs_analysis.reports.q2.tables import REPONDANTS, RapportQ2

CONVERGENCE = {"convergence": "réduit", "divergence": "creusé", "stable": "stable"}
TENDANCES = {"hausse": "en hausse", "baisse": "en baisse", "stable": "pas de tendance nette"}
BILANS = {
    "réussite": "Réussites",
    "difficulté": "Difficultés",
    "blocage": "Blocages",
    "écart expliqué": "Écarts expliqués",
}


def _count(values: pd.Series, secret: pd.Series) -> pd.Series:
    """Counts after secrecy: the number, or « s » where the cell is secret."""
    return values.astype(object).where(~secret.fillna(False).astype(bool), text.SECRET)


def _unit_of_gaps(r: RapportQ2, indicateurs: pd.Series) -> str:
    """Points when every indicator shown is a rate, else plain numbers (with a unit column)."""
    return "points" if indicateurs.map(r.unites).eq("%").all() else "decimal"


def vue_actions(r: RapportQ2) -> pd.DataFrame:
    """The most significant actions: means and achievements."""
    a = r.actions_significatives
    df = None
    if not r.actions.empty:
        df = a.assign(
            rang=range(1, len(a) + 1),
            prevus=_count(a["beneficiaires_prevus"], a["beneficiaires_prevus_secret"]),
            touches=_count(a["beneficiaires_realises"], a["beneficiaires_realises_secret"]),
        )
    return display.vue(
        df,
        {
            "rang": ("Rang", "nombre"),
            "intitule": ("Action", "texte"),
            "quartier": ("Quartier", "texte"),
            "periode": ("Années", "texte"),
            "credits_specifiques": ("Crédits spécifiques", "euros"),
            "cofinancements": ("Cofinancements de droit commun", "euros"),
            "prevus": ("Bénéficiaires prévus", "nombre"),
            "touches": ("Bénéficiaires touchés", "nombre"),
            "taux_realisation": ("Réalisation", "part"),
            "cout_par_beneficiaire": ("Crédits par bénéficiaire", "euros"),
        },
        vide="aucune action associative financée dans la commune",
    )


def vue_actions_declarees(r: RapportQ2) -> pd.DataFrame:
    """The most significant actions as declared: operator, theme, public and objective."""
    a = r.actions_significatives
    return display.vue(
        None if r.actions.empty else a.assign(rang=range(1, len(a) + 1)),
        {
            "rang": ("Rang", "nombre"),
            "intitule": ("Action", "texte"),
            "operateur": ("Opérateur", "texte"),
            "thematique": ("Thématique", "texte"),
            "dispositif": ("Dispositif", "texte"),
            "public_cible": ("Public visé (déclaré)", "texte"),
            "objectif": ("Objectif (déclaré)", "texte"),
        },
        vide="aucune action associative financée dans la commune",
    )


def vue_publics(r: RapportQ2) -> pd.DataFrame:
    """Means and beneficiaries per declared public."""
    p = r.publics
    df = None
    if not r.actions.empty:
        df = p.assign(
            prevus=_count(p["beneficiaires_prevus"], p["beneficiaires_prevus_secret"]),
            touches=_count(p["beneficiaires_realises"], p["beneficiaires_realises_secret"]),
        )
    return display.vue(
        df,
        {
            "public_cible": ("Public visé (déclaré)", "texte"),
            "actions": ("Actions", "nombre"),
            "credits_specifiques": ("Crédits spécifiques", "euros"),
            "prevus": ("Bénéficiaires prévus", "nombre"),
            "touches": ("Bénéficiaires touchés", "nombre"),
            "taux_realisation": ("Réalisation", "part"),
        },
        vide="aucune action associative financée dans la commune",
    )


def vue_bilans(r: RapportQ2) -> pd.DataFrame:
    """Coded statements of the activity reports of the most significant actions."""
    b = r.bilans
    cols = {"intitule": ("Action", "texte")}
    cols.update({c: (h, "nombre") for c, h in BILANS.items() if c in b or b.empty})
    cols["theme_principal"] = ("Thème le plus cité", "texte")
    return display.vue(
        None if b.empty else b, cols, vide="bilans d'activité des actions les plus significatives"
    )


def vue_intensite(r: RapportQ2) -> pd.DataFrame:
    """Funding intensity of each quartier of the commune and its group in the comparison."""
    i = r.intensite
    entete = f"Crédits aux associations par habitant et par an (depuis {text.annee(r.annee_traitement)})"
    return display.vue(
        i,
        {
            "nom": ("Quartier", "texte"),
            "intensite_moyenne": (entete, "euros_decimal"),
            "statut": ("Groupe", "texte"),
        },
        vide=f"aucun quartier suivi à {r.nom_commune}",
    )


def vue_ecarts(r: RapportQ2) -> pd.DataFrame:
    """Gaps of the commune's quartiers to the commune, at the first and last years, and their trend."""
    e = r.ecarts
    unite = _unit_of_gaps(r, e["indicateur"])
    df = (
        None
        if e.empty
        else e.assign(
            libelle=e["indicateur"].map(r.libelles).fillna(e["indicateur"]),
            groupe=e["groupe"].fillna("non classé"),
            evolution=e["convergence"].map(CONVERGENCE),
            tendance=e["tendance"].map(TENDANCES).fillna("non calculable"),
            unite=e["indicateur"].map(r.unites),
        )
    )
    cols = {
        "nom": ("Quartier", "texte"),
        "groupe": ("Groupe", "texte"),
        "libelle": ("Indicateur", "texte"),
        "annee_debut": ("Première année", "annee"),
        "ecart_debut": ("Écart la première année", unite),
        "annee_fin": ("Dernière année", "annee"),
        "ecart_fin": ("Écart la dernière année", unite),
        "evolution": ("Évolution de l'écart", "texte"),
        "comparaison_fin": ("Écart significatif (dernière année)", "texte"),
        "tendance": ("Tendance du quartier", "texte"),
    }
    if unite != "points":
        cols["unite"] = ("Unité", "texte")
    return display.vue(df, cols, vide=f"aucun quartier suivi à {r.nom_commune}")


def vue_did(r: RapportQ2) -> pd.DataFrame:
    """The region-wide difference-in-differences, one row per indicator."""
    d = r.did
    unite = _unit_of_gaps(r, d["indicateur"])
    df = (
        None
        if d.empty
        else d.assign(
            libelle=d["indicateur"].map(r.libelles).fillna(d["indicateur"]),
            n_comparaison=d["n_quartiers"] - d["n_traites"],
            paralleles=d["pre_tendance_ok"].map(
                lambda v: "non testable" if text.manquant(v) else ("oui" if v else "non")
            ),
            unite=d["indicateur"].map(r.unites),
        )
    )
    cols = {
        "libelle": ("Indicateur", "texte"),
        "estimation": ("Écart d'évolution estimé", unite),
        "ic_bas": ("IC à 95 % : borne basse", unite),
        "ic_haut": ("IC à 95 % : borne haute", unite),
        "p_value": ("p-valeur", "p_valeur"),
        "n_traites": ("Quartiers financés", "nombre"),
        "n_comparaison": ("Quartiers de comparaison", "nombre"),
        "paralleles": ("Évolutions parallèles avant le financement", "texte"),
    }
    if unite != "points":
        cols["unite"] = ("Unité", "texte")
    return display.vue(df, cols, vide="comparaison entre quartiers financés et de comparaison")


def vue_enquetes(r: RapportQ2) -> pd.DataFrame:
    """Share of respondents agreeing with each statement, per respondent type and year."""
    s = r.enquetes
    order = {k: i for i, k in enumerate(REPONDANTS)}
    df = None
    if not s.empty:
        df = s.assign(
            repondants=s["type_repondant"].map(REPONDANTS).fillna(s["type_repondant"]),
            n_publie=_count(s["n"], s["secret"]),
            rang=s["type_repondant"].map(order),
        ).sort_values(["question", "rang", "annee"])
    return display.vue(
        df,
        {
            "question": ("Affirmation", "texte"),
            "repondants": ("Répondants", "texte"),
            "annee": ("Année", "annee"),
            "n_publie": ("Réponses", "nombre"),
            "accord": ("D'accord", "pourcentage"),
            "ic_bas": ("IC à 95 % : borne basse", "pourcentage"),
            "ic_haut": ("IC à 95 % : borne haute", "pourcentage"),
        },
        vide="aucune enquête ne porte sur les quartiers de la commune",
    )


def vue_contribution(r: RapportQ2) -> pd.DataFrame:
    """The contribution chain: each link, what the data show, and its reading."""
    c = r.contribution
    return display.vue(
        None if c.empty else c,
        {
            "etape": ("Maillon de la chaîne de contribution", "texte"),
            "constat": ("Ce que montrent les données", "texte"),
            "lecture": ("Lecture", "texte"),
        },
        vide="chaîne de contribution",
    )
