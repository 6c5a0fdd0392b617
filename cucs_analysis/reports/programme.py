"""What q1 and q4 share about a commune's CUCS programme: why a view is empty, and the
actions whose takeover by mainstream means is at stake (the "effet levier" both questions
discuss). Their reports re-export the two views, so each notebook shows them as its own."""

from __future__ import annotations

import pandas as pd

from cucs_analysis.present import display, text
from cucs_analysis.present.labels import libelle_domaine

#: The actions whose continuation depends on a takeover by mainstream means (q1 and q4 show them).
COLONNES_ACTIONS_EN_JEU = {
    "intitule": ("Action", "texte"),
    "dispositif": ("Dispositif", "texte"),
    "thematique": ("Domaine", "texte"),
    "annees_consecutives": ("Années de suite", "nombre"),
    "montant_specifique": ("Crédits spécifiques (dernière année)", "euros"),
    "part_specifique": ("Part des crédits spécifiques", "part"),
}
#: The running actions of the domains in durable substitution (q1 and q4 show them).
COLONNES_ACTIONS_SUBSTITUTION = {
    "intitule": ("Action", "texte"),
    "dispositif": ("Dispositif", "texte"),
    "thematique": ("Domaine", "texte"),
    "montant_specifique": ("Crédits spécifiques", "euros"),
    "montant_droit_commun": ("Droit commun", "euros"),
}
#: How many actions of the durable-substitution domains the table shows (largest specific first).
N_ACTIONS_SUBSTITUTION = 15


def manque(r, quoi: str) -> str:
    """What an empty view of `r` lacks: `quoi`, with the reason when the commune has no CUCS
    programme (q1 and q4): « tableau de bord des dispositifs (pas de programmation CUCS dans
    cette commune) »."""
    return quoi if r.signataire else f"{quoi} (pas de programmation CUCS dans cette commune)"


def vue_actions_en_jeu(r) -> pd.DataFrame:
    """Actions funded mostly by specific credits for several years running; `r` is q1's or q4's report."""
    a = r.actions_en_jeu
    if not r.signataire:
        return display.vue(
            None, COLONNES_ACTIONS_EN_JEU, vide=manque(r, "actions dépendant des crédits spécifiques")
        )
    return display.vue(
        a.assign(thematique=a["thematique"].map(libelle_domaine)),
        COLONNES_ACTIONS_EN_JEU,
        vide=f"aucune action financée à {text.pourcentage(100 * r.seuil_specifique, 0)} ou plus par les "
        f"crédits spécifiques depuis {text.pluriel(r.duree_min_reprise, 'an')}",
    )


def vue_actions_substitution(r) -> pd.DataFrame:
    """The running actions (last year) of the domains in durable substitution, the
    `N_ACTIONS_SUBSTITUTION` largest specific amounts; `r` is q1's or q4's report."""
    a = r.actions_substitution.head(N_ACTIONS_SUBSTITUTION)
    return display.vue(
        a.assign(thematique=a["thematique"].map(libelle_domaine)) if r.signataire else None,
        COLONNES_ACTIONS_SUBSTITUTION,
        vide="aucune action en cours dans un domaine en substitution durable"
        if r.signataire
        else manque(r, "actions des domaines en substitution durable"),
    )
