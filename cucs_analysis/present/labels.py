"""French labels of codes: domains, institutions with their article, typology traits.

The analysis layer returns codes and numbers only; this module turns the codes the reports
share into French words and sentences (numbers go through `cucs_analysis.present.text`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from cucs_analysis.analysis import motifs
from cucs_analysis.analysis.typology import Trait, Typology
from cucs_analysis.data.schema import DOMAINE_LIBELLES
from cucs_analysis.present import text

__all__ = [
    "FORCE_LIBELLES",
    "MOTIF_LIBELLES",
    "phrase_hors_cucs",
    "INSTITUTION_ARTICLES",
    "SENS_LIBELLES",
    "TypologieDecrite",
    "avec_article",
    "de_institution",
    "describe_class",
    "descriptions_typologie",
    "libelle_domaine",
    "majuscule",
    "typologie_decrite",
]

# --- why a value is absent ----------------------------------------------------------------------

#: One label per reason (`analysis.motifs`): what a table cell, an index cell or a key figure shows.
MOTIF_LIBELLES = {
    motifs.HORS_CUCS: "hors CUCS",
    motifs.DONNEE_ABSENTE: "données non disponibles",
    motifs.SECRET: "secret statistique",
    motifs.NON_CALCULABLE: "non calculable",
}


def phrase_hors_cucs(nom_commune: object, objet: str) -> str:
    """The one sentence for a commune outside the CUCS: it has no programme, it is a comparison."""
    return (
        f"{nom_commune} n'a pas signé de CUCS : {objet} est sans objet ici (hors CUCS). "
        f"Ses données servent de comparaison aux communes signataires."
    )


# --- domains and institutions -------------------------------------------------------------------

#: Institutions with their article, for sentences ("celle de l'État", "du département").
INSTITUTION_ARTICLES = {
    "État": "l'État",
    "région": "la région",
    "département": "le département",
    "commune": "la commune",
    "EPCI": "l'EPCI",
    "CAF": "la CAF",
    "bailleur": "le bailleur",
    "autre": "un autre financeur",
}


def libelle_domaine(d: object) -> str:
    """The French label of a domain code (``education`` → ``Éducation``); unknown codes as is."""
    return DOMAINE_LIBELLES.get(str(d), str(d))


def majuscule(s: object) -> str:
    """Upper-case the first letter (``département`` → ``Département``)."""
    s = str(s)
    return s[:1].upper() + s[1:]


def avec_article(institution: object) -> str:
    """« l'État », « le département »…; an unknown institution as is."""
    return INSTITUTION_ARTICLES.get(str(institution), str(institution))


def de_institution(institution: object) -> str:
    """« de l'État », « du département », « de la région »."""
    a = avec_article(institution)
    if a.startswith("le "):
        return "du " + a[3:]
    return "de " + a


# --- typology of quartiers -----------------------------------------------------------------------

#: Words of the strength codes of `analysis.typology.Trait`.
FORCE_LIBELLES = {"nettement": "nettement", "plutot": "plutôt"}
#: Words of the direction codes of `analysis.typology.Trait`.
SENS_LIBELLES = {"au_dessus": "au-dessus", "en_dessous": "en dessous"}


def describe_class(traits: Iterable[Trait], libelles: Mapping[str, str] | None = None) -> str:
    """One French sentence from a class's distinctive traits (`typology.distinctive_traits`),
    in their order: « Quartiers avec taux de chômage nettement au-dessus de la moyenne et
    revenu médian plutôt en dessous de la moyenne. »"""
    libelles = libelles or {}
    parts = [
        f"{libelles.get(t.indicateur, t.indicateur).lower()} {FORCE_LIBELLES[t.force]} "
        f"{SENS_LIBELLES[t.sens]} de la moyenne"
        for t in traits
    ]
    if not parts:
        return "Quartiers proches de la moyenne des quartiers étudiés sur tous les indicateurs."
    return f"Quartiers avec {text.liste_fr(parts)}."


def descriptions_typologie(typo: Typology) -> dict[int, str]:
    """Class → its French description, in class order (what q3 shows for each class)."""
    return {int(c): describe_class(traits, typo.libelles) for c, traits in typo.traits.items()}


@dataclasses.dataclass(frozen=True)
class TypologieDecrite(Typology):
    """A typology with each class described in French: ``descriptions`` (class → sentence)."""

    descriptions: dict[int, str] = dataclasses.field(default_factory=dict)


def typologie_decrite(typo: Typology | None) -> TypologieDecrite | None:
    """The typology with its French descriptions (None stays None), for the q3 report."""
    if typo is None:
        return None
    champs = {f.name: getattr(typo, f.name) for f in dataclasses.fields(Typology)}
    return TypologieDecrite(**champs, descriptions=descriptions_typologie(typo))
