"""The method's sentences stated once: the pages and the Méthode page print the same words.

A rule written twice drifts; every page that states the substitution rule (q1, q4, the
syntheses) and the site's Méthode page call the functions here with the parameters used.
"""

from __future__ import annotations

from collections.abc import Sequence

from cucs_analysis.present import text

__all__ = ["regle_substitution"]


def regle_substitution(
    *, annees_reference: Sequence[int], annee_debut_cucs: int, tolerance: float, duree_max: int
) -> str:
    """The substitution rule with the parameter values actually used."""
    return (
        f"Règle appliquée à chaque domaine : la base est la moyenne des crédits de droit commun de "
        f"{text.liste_fr(text.annee(a) for a in annees_reference)} ; à partir de {text.annee(annee_debut_cucs)}, "
        f"une année est « en dessous » quand le droit commun est inférieur de plus de "
        f"{text.pourcentage(100 * tolerance, 0)} à cette base. "
        f"Complémentarité : aucune année en dessous ; substitution temporaire (effet levier) : des années en "
        f"dessous, au plus {text.pluriel(duree_max, 'an')} de suite, puis le droit commun revient ; "
        f"substitution durable : plus de {text.pluriel(duree_max, 'an')} de suite en dessous ; indéterminé : "
        f"pas de base, pas de crédits spécifiques, moins de "
        f"{text.pluriel(duree_max + 1, 'année observée', 'années observées')} ou série qui finit en dessous."
    )
