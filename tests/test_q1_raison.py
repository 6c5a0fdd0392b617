"""The French reading of the substitution typology, written by the q1 report from the codes and
numbers of `funding.substitution_typology` (the analysis layer writes no French)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from cucs_analysis.analysis import funding
from cucs_analysis.pipeline import publish
from cucs_analysis.present import text
from cucs_analysis.reports import q1

NBSP = "\u00a0"


def ligne(motif: str, **kw) -> dict:
    base = {
        "motif": motif,
        "base": 12500.0,
        "derniere_valeur": 9800.0,
        "annees_observees": 6,
        "annees_sous_seuil": 2,
        "plus_longue_serie": 2,
    }
    return {**base, **kw}


@pytest.mark.parametrize(
    ("motif", "debut"),
    [
        ("base_absente", "Indéterminé : pas de crédits de droit commun sur les années de référence."),
        ("base_nulle", "Indéterminé : crédits de droit commun nuls sur les années de référence."),
        ("sans_credits_specifiques", "Indéterminé : aucun crédit spécifique sur ce domaine."),
        (
            "serie_courte",
            "Indéterminé : 6 années observées depuis le début du contrat, il en faut au moins 4.",
        ),
        ("aucune_annee_sous_seuil", "Complémentarité : "),
        ("serie_longue", "Substitution durable : "),
        ("finit_sous_seuil", "Indéterminé : le droit commun est sous sa base la dernière année"),
        ("reprise", "Substitution temporaire (effet levier) : "),
    ],
)
def test_every_motif_has_its_sentence(motif, debut):
    phrase = q1.raison_substitution(ligne(motif), 0.10, 3)
    assert phrase.startswith(debut)
    assert phrase.endswith(".")


def test_every_motif_of_the_analysis_is_read():
    for motif in funding.MOTIFS_SUBSTITUTION:
        assert q1.raison_substitution(ligne(motif), 0.10, 3)
    with pytest.raises(ValueError, match="inconnu"):
        q1.raison_substitution(ligne("nouveau_motif"), 0.10, 3)


def test_sentences_write_numbers_with_the_one_formatter():
    assert q1.raison_substitution(ligne("aucune_annee_sous_seuil"), 0.10, 3) == (
        f"Complémentarité : le droit commun ne passe jamais de plus de 10{NBSP}% sous sa base "
        f"(12\u202f500{NBSP}€) ; les crédits spécifiques s'y ajoutent."
    )
    assert q1.raison_substitution(ligne("serie_longue", plus_longue_serie=5), 0.10, 3) == (
        f"Substitution durable : le droit commun reste 5 ans de suite à plus de 10{NBSP}% sous sa base "
        f"(12\u202f500{NBSP}€), au-delà de la durée admise (3 ans)."
    )
    assert q1.raison_substitution(ligne("reprise", annees_sous_seuil=1, plus_longue_serie=1), 0.10, 3) == (
        "Substitution temporaire (effet levier) : le droit commun passe sous sa base pendant 1 an "
        f"(1 an de suite au plus) puis revient à 9\u202f800{NBSP}€."
    )
    assert "(1 an de suite au plus)" in q1.raison_substitution(
        ligne("finit_sous_seuil", plus_longue_serie=1), 0.10, 3
    )
    # The tolerance as the rule states it on the same page (q1.regle).
    assert f"plus de 15{NBSP}%" in q1.raison_substitution(ligne("serie_longue"), 0.15, 3)


def test_amounts_read_as_the_table_and_the_index_show_them():
    # 2.5 € is "3 €" everywhere: half up, as text.euros rounds (the former funding._eur said "2 €").
    phrase = q1.raison_substitution(ligne("aucune_annee_sous_seuil", base=2.5), 0.10, 3)
    assert f"({text.euros(2.5)})" in phrase
    assert text.euros(2.5) == f"3{NBSP}€"
    # The notebook's substitution table formats the base with text.euros; the site index shows a
    # key figure in euros with publish.format_chiffre: the same string.
    assert publish.format_chiffre(2.5, "€") == text.euros(2.5)


def test_tableau_substitution_adds_the_reading_of_each_domain():
    typo = pd.DataFrame(
        [
            {
                "code_territoire": "20001",
                "domaine": "education",
                "type": "substitution_durable",
                "base": 100.0,
                "derniere_valeur": 50.0,
                "annees_sous_seuil": 6,
                "plus_longue_serie": 6,
                "annees_observees": 6,
                "motif": "serie_longue",
            },
            {
                "code_territoire": "20001",
                "domaine": "sante",
                "type": "complementarite",
                "base": 10.0,
                "derniere_valeur": 10.0,
                "annees_sous_seuil": 0,
                "plus_longue_serie": 0,
                "annees_observees": 6,
                "motif": "aucune_annee_sous_seuil",
            },
        ],
        columns=funding.SUBSTITUTION_COLUMNS,
    )
    r = SimpleNamespace(substitution=typo, tolerance=0.10, duree_max=3)
    t = q1.tableau_substitution(r)
    assert t["type"].tolist() == ["Substitution durable", "Complémentarité"]
    assert t["raison"].iloc[0].startswith("Substitution durable : le droit commun reste 6 ans de suite")
    assert f"({text.euros(100)})" in t["raison"].iloc[0]
    assert t["raison"].iloc[1] == q1.raison_substitution(typo.iloc[1], 0.10, 3)
    empty = q1.tableau_substitution(SimpleNamespace(substitution=typo.iloc[:0], tolerance=0.1, duree_max=3))
    assert empty.empty and "raison" in empty.columns


def test_typology_rows_from_the_analysis_are_read():
    # End to end on a small frame: funding gives codes, q1 the sentence.
    years = range(2005, 2013)
    dc = pd.DataFrame(
        {
            "code_territoire": "20001",
            "domaine": "education",
            "annee": list(years),
            "institution": "État",
            "valeur": [100.0, 100, 50, 50, 50, 50, 50, 50],
            "mesure": "credits",
            "niveau": "commune",
        }
    )
    actions = pd.DataFrame(
        {"id_action": ["A1"], "annee": [2008], "thematique": ["education"], "code_commune": ["20001"]}
    )
    fin = pd.DataFrame(
        {"id_action": ["A1"], "annee": [2008], "type_credit": ["specifique"], "montant_accorde": [800.0]}
    )
    row = funding.substitution_typology(dc, fin, actions, "20001").iloc[0]
    assert (row["type"], row["motif"]) == ("substitution_durable", "serie_longue")
    assert q1.raison_substitution(row, 0.10, 3) == (
        f"Substitution durable : le droit commun reste 6 ans de suite à plus de 10{NBSP}% sous sa base "
        f"(100{NBSP}€), au-delà de la durée admise (3 ans)."
    )
