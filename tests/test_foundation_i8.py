"""The shared pieces of issue 8: achievement on one base, reasons for absence, French agreement."""

import pandas as pd
import pytest

from cucs_analysis.analysis import funding, motifs
from cucs_analysis.present import labels, text


def _actions(rows):
    return pd.DataFrame(
        rows, columns=["id_action", "dispositif", "statut", "beneficiaires_prevus", "beneficiaires_realises"]
    )


def test_realisation_rate_on_one_base():
    a = _actions(
        [
            ("A1", "PRE", "réalisée", 100, 110),
            ("A2", "PRE", "non pourvue", 50, None),
            ("A3", "PRE", "abandonnée", 30, None),
            ("A4", "PRE", "programmée", 20, None),
            ("A5", "CLAS", "réalisée", 40, 20),
        ]
    )
    r = funding.realisation(a, ["dispositif"]).set_index("dispositif")
    pre = r.loc["PRE"]
    assert pre["prevus"] == 200 and pre["prevus_realisees"] == 100 and pre["realises"] == 110
    assert pre["taux_realisation"] == pytest.approx(1.1)  # 110 / 100: same rows above and below
    assert pre["prevus_non_realisees"] == 80
    assert (pre["annees_non_pourvues"], pre["annees_abandonnees"], pre["annees_en_cours"]) == (1, 1, 1)
    assert r.loc["CLAS", "taux_realisation"] == pytest.approx(0.5)
    whole = funding.realisation(a)
    assert len(whole) == 1 and whole.loc[0, "realises"] == 130 and whole.loc[0, "prevus_realisees"] == 140


def test_realisation_without_base_is_nan_not_zero():
    a = _actions([("A1", "PRE", "non pourvue", 50, None)])
    r = funding.realisation(a, ["dispositif"])
    assert pd.isna(r.loc[0, "taux_realisation"]) and r.loc[0, "annees_non_pourvues"] == 1
    assert funding.realisation(a.iloc[:0], ["dispositif"]).empty


def test_motif_commune_keeps_three_cases_apart():
    assert motifs.motif_commune(False, False) == motifs.HORS_CUCS
    assert motifs.motif_commune(False, True) == motifs.HORS_CUCS
    assert motifs.motif_commune(True, False) == motifs.DONNEE_ABSENTE
    assert motifs.motif_commune(True, True) is None
    assert set(labels.MOTIF_LIBELLES) == set(motifs.MOTIFS)
    assert labels.MOTIF_LIBELLES[motifs.HORS_CUCS] == "hors CUCS"


@pytest.mark.parametrize(
    ("n", "total", "attendu"),
    [
        (0, 4, "aucun des 4 quartiers"),
        (1, 4, "1 quartier sur 4"),
        (3, 4, "3 quartiers sur 4"),
        (0, 1, "aucun quartier"),
    ],
)
def test_parmi(n, total, attendu):
    assert text.parmi(n, total, "quartier") == attendu


def test_agreement_helpers():
    assert text.de("Esterbourg") == "d'Esterbourg" and text.de("Valbrune") == "de Valbrune"
    assert text.aucun(0, "action", feminin=True) == "aucune action"
    assert text.aucun(2, "action") == "2 actions"
    assert text.points(-2.0) == "\u22122,0\u00a0points"


@pytest.mark.parametrize(
    ("brut", "attendu"),
    [
        ("Constat : ok ; vraiment ?", "Constat\u00a0: ok\u00a0; vraiment\u00a0?"),
        ("« Le CUCS »", "«\u00a0Le CUCS\u00a0»"),
        ("«\u00a0déjà\u00a0»", "«\u00a0déjà\u00a0»"),
        ("95 % et 25 €", "95\u00a0% et 25\u00a0€"),
        ("https://x.fr/a à 10:30", "https://x.fr/a à 10:30"),
    ],
)
def test_typographie(brut, attendu):
    assert text.typographie(brut) == attendu


def test_compare_periods_pools_rates_by_period():
    from cucs_analysis.analysis import trends

    df = pd.DataFrame(
        {
            "q": ["A"] * 4 + ["B"] * 2,
            "annee": [2005, 2006, 2008, 2009, 2008, 2009],
            "num": [10, 20, 30, 30, 8, 8],
            "den": [100, 100, 100, 100, 14, 12],
        }
    )
    r = trends.compare_periods(
        df, by=["q"], annee_debut_cucs=2007, debut=2005, fin=2014, numerateur="num", denominateur="den"
    ).set_index("q")
    assert r.loc["A", "valeur_avant"] == pytest.approx(15.0) and r.loc[
        "A", "valeur_pendant"
    ] == pytest.approx(30.0)
    assert r.loc["A", "difference"] == pytest.approx(15.0) and not r.loc["A", "petite_base"]
    # B starts with the contract: no "before", so no difference is claimed.
    assert not r.loc["B", "avant_testable"] and pd.isna(r.loc["B", "difference"])
    assert r.loc["B", "denominateur_pendant"] == 26


def test_compare_periods_flags_small_bases_and_levels():
    from cucs_analysis.analysis import trends

    df = pd.DataFrame(
        {"annee": [2005, 2006, 2010], "num": [8, 8, 8], "den": [14, 14, 12], "eur": [1.0, 3.0, 5.0]}
    )
    rate = trends.compare_periods(
        df, annee_debut_cucs=2007, debut=2005, fin=2014, numerateur="num", denominateur="den"
    )
    assert bool(rate.loc[0, "petite_base"])
    level = trends.compare_periods(df, annee_debut_cucs=2007, debut=2005, fin=2014, valeur="eur")
    assert level.loc[0, "valeur_avant"] == 2.0 and level.loc[0, "difference"] == 3.0
    with pytest.raises(ValueError):
        trends.compare_periods(df, annee_debut_cucs=2007, debut=2005, fin=2014)


def test_difference_from_displayed_values():
    assert text.difference_affichee(100 * 8 / 14, 100 * 8 / 12) == pytest.approx(9.6)  # 57,1 → 66,7
    assert text.difference_affichee(None, 3) is None


def test_an_empty_view_says_its_reason():
    from cucs_analysis.present import display

    v = display.vue(pd.DataFrame({"a": []}), {"a": ("A", "nombre")}, vide="le tableau de bord")
    assert display.tableau(v).texte == "Données non disponibles : le tableau de bord."
    v.attrs["motif"] = motifs.HORS_CUCS
    assert display.tableau(v).texte == "Hors CUCS : le tableau de bord."
    assert display.figure(None, "la carte", motifs.SECRET).texte == "Secret statistique : la carte."
    assert set(display.ENTREES_MOTIF) == set(motifs.MOTIFS)


def test_reading_rules_state_the_periods_of_the_parameters():
    from cucs_analysis.present import methode

    regles = dict(methode.regles_lecture(debut=2004, fin=2013, annee_debut_cucs=2008))
    assert "2004-2007" in regles["Avant et pendant le CUCS"] and "2008-2013" in regles["Convergence"]
    assert "jamais une première et une dernière année" in regles["Avant et pendant le CUCS"]
    assert "hors CUCS" in regles["Hors CUCS, données non disponibles, zéro"]
