"""The skeleton every question's report shares (reports/rapport.py), on a hand-made report."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cucs_analysis.analysis import motifs
from cucs_analysis.present import display, text
from cucs_analysis.reports import rapport


@dataclass
class _R(rapport.Rapport):
    signataire: bool
    a_programme: bool
    a_gup: bool
    periode: tuple[int, int] = (2000, 2014)
    annee_debut_cucs: int = 2007

    @property
    def motif_gup(self):
        return self.motif_table(self.a_gup)


def test_findings_and_section_sentences():
    r = _R(signataire=True, a_programme=True, a_gup=True)
    r.constat("a", "Un constat.")
    r.dit("a", "Une phrase.")
    assert r.constats == ["Un constat."]
    assert r.texte("a") == ["Un constat.", "Une phrase."] and r.texte("b") == []
    # every report gets its own lists
    assert _R(signataire=True, a_programme=True, a_gup=True).constats == []


def test_absence_carries_the_reason_of_its_table():
    hors = _R(signataire=False, a_programme=False, a_gup=False)
    a = hors.absence("actions")
    assert a == "actions" and a.motif == motifs.HORS_CUCS
    manque = _R(signataire=True, a_programme=True, a_gup=False)
    g = manque.absence("signalements", "gup")
    assert g == "signalements pour cette commune" and g.motif == motifs.DONNEE_ABSENTE
    assert manque.motif_programme is None and manque.absence("actions").motif is None
    assert display.vue(None, {"x": ("X", "nombre")}, vide=g).attrs["motif"] == motifs.DONNEE_ABSENTE


def test_periods_are_said_with_their_years():
    r = _R(signataire=True, a_programme=True, a_gup=True)
    assert r.avant == f"avant le CUCS ({text.annee_periode(2000, 2006)})"
    assert r.pendant == f"pendant le CUCS ({text.annee_periode(2007, 2014)})"


def test_key_figure_and_verdict():
    assert rapport.chiffre_cle("x", "X", 3, "%") == {"id": "x", "libelle": "X", "valeur": 3, "unite": "%"}
    assert rapport.chiffre_cle("x", "X", None, "%")["motif"] == motifs.NON_CALCULABLE
    assert rapport.chiffre_cle("x", "X", None, "%", motifs.SECRET)["motif"] == motifs.SECRET
    assert rapport.chiffre_cle("x", "X", 0, "%", motifs.SECRET) == {
        "id": "x",
        "libelle": "X",
        "valeur": 0,
        "unite": "%",
    }
    v = rapport.verdict_hors_cucs("Pilotage", "Esterbourg", "## 1. Titre")
    assert v == {
        "texte": "Pilotage : hors CUCS — Esterbourg n'a pas signé de CUCS et sert de comparaison.",
        "motif": motifs.HORS_CUCS,
        "section": "## 1. Titre",
    }
    d = rapport.verdict_donnee_absente("Pilotage", "financements absents", "s")
    assert (
        d["texte"] == "Pilotage : données non disponibles (financements absents)."
        and d["motif"] == motifs.DONNEE_ABSENTE
    )


def test_numbers_for_results_and_displayed_differences():
    assert rapport.nombre_json(np.float64(3.0)) == 3 and isinstance(rapport.nombre_json(3.0), int)
    assert rapport.nombre_json(np.nan) is None and rapport.nombre_json(float("inf")) is None
    assert rapport.nombre_json(None) is None and rapport.nombre_json(1.23456, 2) == 1.23
    e = rapport.ecarts_affiches(
        pd.Series([57.14, np.nan], index=[3, 4]), pd.Series([66.66, 1.0], index=[3, 4])
    )
    assert e.index.tolist() == [3, 4] and e.iloc[0] == text.difference_affichee(57.14, 66.66, 1)
    assert np.isnan(e.iloc[1])


def test_a_view_is_marked_with_the_reason_of_its_absence():
    v = display.vue(None, {"x": ("X", "nombre")}, vide="actions")
    assert "motif" not in rapport.marque_motif(v, None).attrs
    assert rapport.marque_motif(v, motifs.HORS_CUCS).attrs["motif"] == motifs.HORS_CUCS
    w = rapport.marque_vide(
        display.vue(None, {"x": ("X", "nombre")}, vide="x"),
        rapport.vide_motif("actions", motifs.DONNEE_ABSENTE),
    )
    assert w.attrs["vide"] == "actions pour cette commune" and w.attrs["motif"] == motifs.DONNEE_ABSENTE


def test_periods_rows_for_the_results_file():
    df = pd.DataFrame(
        {
            "mesure": ["a", "b"],
            "valeur_avant": [np.nan, 2.5],
            "valeur_pendant": [3.0, 4.25],
            "avant_testable": [False, True],
            "petite_base": [np.True_, np.False_],
            "sens": ["stable", "hausse"],
        }
    )
    rows = rapport.periodes_json(df, "mesure", None)
    assert rows[0] == {
        "mesure": "a",
        "valeur_avant": None,
        "valeur_pendant": 3,
        "avant_testable": False,
        "petite_base": True,
        "sens": "stable",
        "motif": motifs.NON_CALCULABLE,
    }
    assert rows[1]["motif"] is None and rows[1]["valeur_avant"] == 2.5
    # the table's reason wins; only the columns asked are written, numbers as the report rounds them
    only = rapport.periodes_json(df, None, motifs.HORS_CUCS, ["valeur_pendant"], lambda v: round(v))
    assert only == [
        {"valeur_pendant": 3, "motif": motifs.HORS_CUCS},
        {"valeur_pendant": 4, "motif": motifs.HORS_CUCS},
    ]


def test_sources_say_when_the_data_follow_the_cucs():
    """Data of 2015 and after belong to the contrats de ville: the sources line says what
    « CUCS » means on such pages; the demo's 2005-2014 says nothing of the kind."""
    from cucs_analysis.data.schema import DatasetMetadata
    from cucs_analysis.reports import rapport

    apres = rapport.source_donnees(DatasetMetadata(nom="QPV", annee_debut=2015, annee_fin=2023))
    assert "Ces années suivent la fin des CUCS (2007-2014)" in apres and "contrat de ville" in apres
    avant = rapport.source_donnees(DatasetMetadata(nom="Démo", annee_debut=2005, annee_fin=2014))
    assert "suivent la fin des CUCS" not in avant
