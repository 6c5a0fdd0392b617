"""The Méthode page's catalogue gives each indicator its own years (not the data set's span),
and says when the importer attributed them (the INSEE QPV file has none)."""

from __future__ import annotations

import pandas as pd

from cucs_analysis.pipeline.publish import _annees_par_indicateur
from cucs_analysis.present import methode

CAT = pd.DataFrame(
    {
        "indicateur": ["taux_pauvrete", "population", "delits"],
        "libelle": ["Taux de pauvreté", "Population", "Délits"],
        "unite": ["%", "hab.", "‰"],
        "source": ["INSEE"] * 3,
        "definition": ["…"] * 3,
    }
)


def test_each_indicator_reads_its_own_years_from_the_data(tmp_path):
    (tmp_path / "indicateurs.csv").write_text(
        "niveau;code_territoire;indicateur;annee;valeur\n"
        "quartier;QP031001;taux_pauvrete;2017;43,9\nquartier;QP031002;taux_pauvrete;2017;40,1\n"
        "quartier;QP031001;population;2015;1962\nquartier;QP031001;population;2016;1970\n"
        "quartier;QP031001;population;2017;1980\n",
        encoding="utf-8",
    )
    annees = _annees_par_indicateur(tmp_path)
    assert annees == {"population": [2015, 2016, 2017], "taux_pauvrete": [2017]}
    rows = {
        r["indicateur"]: r["annees"]
        for r in methode.catalogue(CAT, {"annee_debut": 2015, "annee_fin": 2023}, annees)
    }
    assert rows == {
        "taux_pauvrete": "2017",
        "population": "2015-2017",
        "delits": "aucune valeur dans les données",
    }
    # without the per-indicator years, the data set's span (the old behaviour) is kept
    assert {r["annees"] for r in methode.catalogue(CAT, {"annee_debut": 2015, "annee_fin": 2023})} == {
        "2015-2023"
    }
    assert _annees_par_indicateur(tmp_path / "absent") == {}


def test_years_attributed_by_the_insee_import_are_said():
    meta = {"annee_debut": 2015, "annee_fin": 2020, "import": {"insee_qpv": {"compteurs": {}}}}
    rows = {r["indicateur"]: r["annees"] for r in methode.catalogue(CAT, meta, {"taux_pauvrete": [2017]})}
    assert rows["taux_pauvrete"].startswith("2017 (année attribuée à l'import")
    assert methode.annees_indicateur([2015, 2017]) == "2015, 2017"


def test_methode_rules_cite_the_years_of_the_run():
    """The DiD and QPV 2014 rules name the years this run used, not the demo's defaults."""
    from cucs_analysis.pipeline import publish

    ctx = publish._methode_context(
        {"did": {"annee_traitement": 2017}, "qpv2014": {"annee_revenus": 2017}}, None
    )
    page = (
        publish._jinja_env()
        .get_template("methode.html.j2")
        .render(
            racine="",
            titre_page="Méthode",
            **ctx,
            avertissements_parametres=[],
            avertissements_donnees=[],
            tables_carnets=publish.tables_des_carnets(),
        )
    )
    assert "2017 dans cette exécution, paramètre did.annee_traitement" in page
    assert "revenus 2017 demandés dans cette exécution" in page
    assert "2009 par défaut" not in page and "avant 2009" not in page
