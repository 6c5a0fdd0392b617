"""French labels of codes (cucs_analysis.present.labels): typology sentences, domains, institutions."""

from __future__ import annotations

import pandas as pd

from cucs_analysis.analysis.typology import Trait, build_typology
from cucs_analysis.present import labels
from cucs_analysis.reports import q1, q4

LIBELLES = {"taux_chomage": "Taux de chômage", "revenu_median_uc": "Revenu médian"}


def test_describe_class_words():
    traits = [
        Trait("taux_chomage", "nettement", "au_dessus", 1.4),
        Trait("revenu_median_uc", "plutot", "en_dessous", -0.7),
    ]
    assert labels.describe_class(traits, LIBELLES) == (
        "Quartiers avec taux de chômage nettement au-dessus de la moyenne et "
        "revenu médian plutôt en dessous de la moyenne."
    )
    assert labels.describe_class(traits[:1], LIBELLES) == (
        "Quartiers avec taux de chômage nettement au-dessus de la moyenne."
    )
    three = [*traits, Trait("x", "plutot", "au_dessus", 0.6)]
    assert labels.describe_class(three, LIBELLES).startswith(
        "Quartiers avec taux de chômage nettement au-dessus de la moyenne, revenu médian"
    )
    # An indicator without label is named by its code.
    assert "x plutôt au-dessus de la moyenne" in labels.describe_class(three, LIBELLES)
    assert labels.describe_class([], {}) == (
        "Quartiers proches de la moyenne des quartiers étudiés sur tous les indicateurs."
    )


def test_every_trait_code_has_words():
    from cucs_analysis.analysis import typology

    assert set(labels.FORCE_LIBELLES) == set(typology.FORCES)
    assert set(labels.SENS_LIBELLES) == set(typology.SENS)


def _two_groups() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "taux_chomage": [25.0, 24.0, 26.0, 10.0, 11.0, 9.0, 10.5, 9.5],
            "revenu_median_uc": [9000, 9200, 8800, 17000, 17500, 16800, 17200, 16900],
        },
        index=[f"QP0200{i:02d}" for i in range(1, 9)],
    )


def test_typology_descriptions_are_built_in_present():
    t = build_typology(_two_groups(), 2, LIBELLES)
    d = labels.descriptions_typologie(t)
    assert list(d) == [1, 2]
    # Strongest trait first (|z| 1.289 for income, 1.284 for unemployment).
    assert d[2] == (
        "Quartiers avec revenu médian nettement en dessous de la moyenne et "
        "taux de chômage nettement au-dessus de la moyenne."
    )
    assert d[1] == (
        "Quartiers avec revenu médian plutôt au-dessus de la moyenne et "
        "taux de chômage plutôt en dessous de la moyenne."
    )


def test_typologie_decrite_keeps_the_typology_and_adds_descriptions():
    t = build_typology(_two_groups(), 2, LIBELLES)
    td = labels.typologie_decrite(t)
    assert td.descriptions == labels.descriptions_typologie(t)
    pd.testing.assert_series_equal(td.classes, t.classes)
    assert td.traits == t.traits and td.libelles == t.libelles
    assert labels.typologie_decrite(None) is None


def test_domain_and_institution_labels():
    assert labels.libelle_domaine("inconnu") == "inconnu"
    assert labels.avec_article("département") == "le département"
    assert labels.de_institution("département") == "du département"
    assert labels.de_institution("État") == "de l'État"
    assert labels.de_institution("inconnue") == "de inconnue"
    assert labels.majuscule("état civil") == "État civil"


def test_reports_share_the_labels_of_present():
    # q1 and q4 (and the notebooks, which call q1.libelle_domaine / q4.libelle_domaine) use the
    # same functions as present.labels: one place for the French of a code.
    for module in (q1, q4):
        assert module.libelle_domaine is labels.libelle_domaine
        assert module.avec_article is labels.avec_article
        assert module.majuscule is labels.majuscule
    assert q1.de_institution is labels.de_institution
