"""q3 on data that lack what the demo has (issue 11): every rule, gap and list movement that
cannot be computed reads « n.d. » with its reason, never « non », « 0 quartier éligible », « hors
CUCS » or « aucun écart significatif ». Hand-made frames in memory (the layout of the tables
after loading: an unknown value is NA, an unknown CUCS category is the value "inconnu")."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cucs_analysis.analysis import geography
from cucs_analysis.data import schema
from cucs_analysis.data.dataset import Dataset, Territory
from cucs_analysis.pipeline import params as P
from cucs_analysis.present import display
from cucs_analysis.reports import q3, region

ROOT = Path(__file__).resolve().parents[1]
QUARTIERS = ["QP031001", "QP031002", "QP031003"]


def _params(**over):
    return P.load_params("20001", ROOT, overrides=over or None)


def _tables(
    *,
    categorie="inconnu",
    revenu_uu=np.nan,
    pop_uu=np.nan,
    annee_revenus=2017,
    annee_pauvrete=2017,
    commune_pauvrete=False,
    indicateurs_typo=("taux_pauvrete", "revenu_median_uc"),
) -> dict[str, pd.DataFrame]:
    """Two communes (31555 with three quartiers, 65440 sharing the third), income of one year."""
    communes = pd.DataFrame(
        {
            "code_commune": ["31555", "65440"],
            "nom": ["Toulouse", "Tarbes"],
            "code_epci": pd.array([pd.NA, pd.NA], dtype=object),
            "code_departement": ["31", "65"],
            "code_region": ["76", "76"],
            "population": [470_000, 40_000],
            "structure_pilotage": pd.array([pd.NA, pd.NA], dtype=object),
            "signataire_cucs": pd.array([pd.NA, pd.NA], dtype="boolean"),
            "population_unite_urbaine": [pop_uu, pop_uu],
            "revenu_median_uu": [revenu_uu, revenu_uu],
        }
    )
    quartiers = pd.DataFrame(
        {
            "code_quartier": QUARTIERS,
            "nom": ["Bourbaki", "Empalot", "Les Izards"],
            "code_commune": ["31555"] * 3,
            "categorie_cucs": [categorie] * 3,
            "zus": pd.array([pd.NA] * 3, dtype="boolean"),
            "qpv_2015": pd.array([True] * 3, dtype="boolean"),
            "qpv_2024": pd.array([pd.NA] * 3, dtype="boolean"),
            "veille": pd.array([False] * 3, dtype="boolean"),
        }
    )
    rows = []
    valeurs = {
        "population": (2015, [3000.0, 5000.0, 4000.0]),
        "revenu_median_uc": (annee_revenus, [8000.0, 12000.0, 9500.0]),
        "taux_pauvrete": (annee_pauvrete, [45.0, 30.0, 41.0]),
        "demandeurs_emploi": (2020, [300.0, 420.0, 380.0]),
    }
    for ind, (annee, vals) in valeurs.items():
        if ind in ("revenu_median_uc", "taux_pauvrete") and ind not in indicateurs_typo:
            continue
        rows += [("quartier", q, ind, annee, v) for q, v in zip(QUARTIERS, vals, strict=True)]
    rows.append(("commune", "31555", "population", 2015, 470_000.0))
    if commune_pauvrete:
        rows.append(("commune", "31555", "taux_pauvrete", annee_pauvrete, 18.0))
    ind = pd.DataFrame(rows, columns=["niveau", "code_territoire", "indicateur", "annee", "valeur"])
    ind = ind.assign(
        numerateur=np.nan,
        denominateur=np.nan,
        source="INSEE",
        secret=pd.array([False] * len(ind), dtype="boolean"),
    )
    cat = pd.DataFrame(
        [
            ("population", "Population municipale", "hab.", "hausse_amelioration"),
            ("revenu_median_uc", "Revenu médian par UC", "€", "hausse_amelioration"),
            ("taux_pauvrete", "Taux de pauvreté", "%", "hausse_degradation"),
            ("demandeurs_emploi", "Demandeurs d'emploi", "nombre", "hausse_degradation"),
        ],
        columns=["indicateur", "libelle", "unite", "sens"],
    ).assign(theme="", source="INSEE", definition="")
    tables = {"communes": communes, "quartiers": quartiers, "indicateurs": ind, "catalogue_indicateurs": cat}
    tables["quartiers_communes"] = pd.DataFrame(
        {
            "code_quartier": [*QUARTIERS, "QP031003"],
            "code_commune": ["31555", "31555", "31555", "65440"],
            "principale": [True, True, True, False],
        }
    )
    for t in schema.TABLES.values():
        tables.setdefault(t.name, pd.DataFrame(columns=[c.name for c in t.columns]))
    return tables


def _build(tables, p, national=None):
    ds = Dataset(
        Path("/nonexistent"),
        schema.DatasetMetadata(revenu_median_national=national, annee_debut=2015, annee_fin=2020),
        tables,
        {},
        frozenset(tables),
        "fp",
    )
    reg = region.build(ds, p)
    e = lambda n: tables[n].iloc[0:0]  # noqa: E731
    q = tables["quartiers"]
    ind = tables["indicateurs"]
    commune = {k: (None if pd.isna(v) else v) for k, v in tables["communes"].iloc[0].to_dict().items()}
    t = Territory(
        code_commune="31555",
        commune=commune,
        source=ds.path,
        fingerprint="fp",
        quartiers=q.assign(geometry=None),
        quartiers_comparaison=q.iloc[0:0].assign(geometry=None),
        indicateurs=ind[ind["code_territoire"].isin([*QUARTIERS, "31555"])].reset_index(drop=True),
        catalogue=tables["catalogue_indicateurs"],
        actions=e("actions"),
        financements=e("financements"),
        droit_commun=e("droit_commun"),
        operateurs=e("operateurs"),
        instances=e("instances"),
        parcours=e("parcours"),
        enquetes=e("enquetes"),
        gup=e("gup"),
        bilans=e("bilans"),
        equipements=e("equipements"),
        metadata=ds.metadata,
        available={},
    )
    return reg, q3.build(t, reg, p)


def _texts(r) -> list[str]:
    out = [*r.constats, *r.reserves, *r.debat, r.verdict["texte"]]
    for v in r.phrases.values():
        out += v
    return out


def _cells(r) -> list[str]:
    t = q3.tableau_eligibilite(r)
    return [str(v) for regle in q3.REGLES for v in t[regle]]


def test_unknown_median_income_gives_nd_with_its_reason_not_non():
    """No urban-unit median (NA) and one of 0: no threshold, the income rule is n.d. for every
    quartier with the missing inputs named; never « non », never « aucun quartier éligible »."""
    for revenu_uu in (np.nan, 0.0):
        reg, r = _build(_tables(revenu_uu=revenu_uu, pop_uu=900_000), _params(), national=21_000)
        assert r.seuil_qpv2014 is None
        e = r.eligibilite
        assert e["regle_qpv2014"].isna().all()
        assert (e["manque_qpv2014"].str.contains(region.MANQUE_MEDIANE_UU)).all()
        # the same reason everywhere: said once, above the table, each cell « n.d. »
        assert (q3.tableau_eligibilite(r)["regle_qpv2014"] == q3.ND_MEME_RAISON).all()
        one = r.eligibilite.iloc[[0]]
        cell = q3.tableau_eligibilite(dataclasses.replace(r, eligibilite=one))["regle_qpv2014"].iloc[0]
        assert cell.startswith("n.d.") and "revenu médian de l'unité urbaine inconnu" in cell
        texts = _texts(r)
        assert not any("n'est éligible" in s or "0 quartier" in s for s in texts)
        assert any("ne peut être appliquée à aucun des 3 quartiers" in s for s in texts)
        assert r.resultats()["eligibilite"][0]["regle_qpv2014"] is None


@pytest.mark.parametrize("national", [None, 0.0, float("nan")])
def test_absent_national_median_is_named(national):
    reg, r = _build(_tables(revenu_uu=19_000.0, pop_uu=900_000), _params(), national=national)
    assert r.seuil_qpv2014 is None
    assert r.eligibilite["regle_qpv2014"].isna().all()
    assert all(region.MANQUE_MEDIANE_NATIONALE in m for m in r.eligibilite["manque_qpv2014"])
    # issue 11: the analyst reads a French reason; the file and parameter names are for the
    # technician, in « Sources et méthode » only
    assert any("la médiane nationale des revenus n'est pas fournie" in c for c in r.phrases["eligibilite"])
    assert not any("qpv2014.revenu_median_national" in c for c in [*r.phrases["eligibilite"], *r.constats])
    assert any(
        "qpv2014.revenu_median_national" in s for s in q3.sources(r, _params(), schema.DatasetMetadata())
    )
    assert r.verdict["texte"].count("«") == r.verdict["texte"].count("»")


def test_missing_income_year_uses_the_latest_and_says_so():
    """The parameter asks for 2011 incomes; the data hold 2017 only: the rule reads 2017 (and
    the population of its nearest held year, 2015) and every page says which."""
    tables = _tables(revenu_uu=19_000.0, pop_uu=900_000)
    p = _params()
    assert p.qpv2014.annee_revenus == 2011
    reg, r = _build(tables, p, national=21_000)
    years = reg.annees_eligibilite
    assert years["revenu_median_uc"] == {"niveau": "quartier", "demandee": 2011, "utilisee": 2017}
    assert years["population"]["utilisee"] == 2015
    assert r.resultats()["annees"]["regles"]["revenu_median_uc"]["utilisee"] == 2017
    seuil = geography.qpv2014_threshold(21_000, 19_000.0, 900_000)
    revenus = (
        tables["indicateurs"].query("indicateur == 'revenu_median_uc'").set_index("code_territoire")["valeur"]
    )
    e = r.eligibilite.set_index("code_quartier")
    assert e["regle_qpv2014"].astype(bool).to_dict() == (revenus < seuil).to_dict()
    assert any("revenus de 2017, l'année 2011 demandée est absente" in s for s in r.phrases["eligibilite"])
    assert any(
        "revenus de 2017, l'année 2011 demandée est absente" in s
        for s in q3.sources(r, p, schema.DatasetMetadata())
    )
    assert q3.colonnes_eligibilite(r)["population"][0] == "Habitants (2015)"


def test_a_year_the_rule_needs_exactly_gives_nd():
    """The « dynamique » rule needs its periods (before / during the contract) at the quartier
    and the commune: without them it is n.d. with the reason, no other year stands in."""
    reg, r = _build(_tables(), _params(), national=21_000)
    e = r.eligibilite
    assert e["regle_dynamique"].isna().all()
    assert all(region.MANQUE_VALEUR_COMMUNE in m for m in e["manque_dynamique"])
    assert any("la commune n'a pas de valeur" in c for c in r.phrases["eligibilite"])


def test_unknown_cucs_category_is_neither_a_category_nor_hors_cucs():
    reg, r = _build(_tables(categorie="inconnu"), _params(), national=21_000)
    assert r.eligibilite["dans_cucs"].isna().all()
    t = q3.vue_transitions(r)
    cucs = t[t["Étape"] == "CUCS → QPV 2015"].iloc[0]
    assert cucs[["Entrants", "Sortants", "Maintenus"]].isna().all()  # shown « n.d. », never 0
    es = q3.vue_entrees_sorties(r)
    assert es[["Maintenus", "Entrants", "Sortants"]].isna().all().all()
    assert es["Éligibles"].isna().all()  # no rule computed either (no threshold, no ZUS inputs)
    for v in (t, es):
        html = display.tableau(v).fragment
        assert ">n.d.<" in html and ">0<" not in html
    assert cucs["Non calculables (n.d. : liste inconnue)"] == 3
    texts = " ".join(_texts(r))
    assert "hors CUCS" not in texts.replace("« hors CUCS »", "")
    assert "entrant" not in texts
    cats = q3.tableau_eligibilite(r)["categorie"]
    assert (cats == q3.CATEGORIE_LIBELLES["inconnu"]).all()
    # a blank category (hors CUCS, a known state) still reads as such
    reg, r = _build(_tables(categorie=None), _params(), national=21_000)
    assert not r.eligibilite["dans_cucs"].astype(bool).any()


def test_no_commune_value_gives_nd_gaps_never_no_significant_gap():
    reg, r = _build(_tables(), _params(), national=21_000)
    v = q3.vue_echelles(r)
    quartiers = v[v["Territoire"].isin(["Bourbaki", "Empalot", "Les Izards"])]
    assert len(quartiers) == 3
    # issue 11: no level above the quartiers at all: no column of repeated « n.d. », a note
    assert "Écart significatif à la commune" not in v.columns
    assert any("ne sont pas dans les données" in s for s in q3.notes_echelles(r))
    # with a commune value the gap is computed again (no interval here: « aucun écart significatif »)
    reg, r = _build(_tables(commune_pauvrete=True), _params(), national=21_000)
    ecarts = q3.vue_echelles(r).set_index("Territoire")["Écart significatif à la commune"]
    assert (
        ecarts["Bourbaki"]
        == "aucun écart significatif ; n.d. pour revenu médian par UC (la commune n'a pas de valeur)"
    )


def test_scales_read_each_indicator_at_its_latest_year():
    """2020 holds only job-seeker counts: the scales table still shows the 2017 rates."""
    reg, r = _build(_tables(), _params(), national=21_000)
    assert r.annees_echelles["taux_pauvrete"] == 2017
    assert r.annees_echelles["population"] == 2015
    assert "Taux de pauvreté" in q3.vue_echelles(r).columns
    assert q3.legende_echelles(r) == "Indicateurs en 2017"  # not 2020, the latest year overall
    reg, r = _build(_tables(annee_pauvrete=2016), _params(), national=21_000)
    v = q3.vue_echelles(r)
    assert {"Taux de pauvreté (2016)", "Revenu médian par UC (2017)"} <= set(v.columns)
    assert q3.legende_echelles(r).startswith("Indicateurs à la dernière année disponible")


def test_rules_are_compared_only_when_computed():
    reg, r = _build(_tables(revenu_uu=19_000.0, pop_uu=900_000), _params(), national=21_000)
    texts = _texts(r)
    assert not any("trois règles" in s and "mêmes quartiers" in s for s in texts)
    assert any("Les règles ne peuvent pas être comparées : seule la règle de revenu" in s for s in texts)


def test_typology_on_the_available_indicators_and_nd_with_one():
    p = _params()
    reg, r = _build(_tables(), p, national=21_000)
    ent = reg.typologie_entrees
    assert set(ent["retenus"]) == {"taux_pauvrete", "revenu_median_uc"}
    assert set(ent["ecartes"]) == set(p.typologie.indicateurs) - {"taux_pauvrete", "revenu_median_uc"}
    assert r.typologie is not None and len(r.classes_commune) == 3
    assert any(
        s.startswith(
            "La typologie régionale classe les quartiers selon taux de pauvreté et revenu médian par UC (2017)"
        )
        for s in r.constats
    )
    reg, r = _build(_tables(indicateurs_typo=("taux_pauvrete",)), p, national=21_000)
    assert r.typologie is None and r.classes_commune.empty
    assert any(s.startswith("Typologie régionale : n.d.") and "un seul" in s for s in r.constats)


def test_shared_quartier_is_said():
    reg, r = _build(_tables(), _params(), national=21_000)
    assert r.partages == {"QP031003": ["Tarbes"]}
    assert any("Les Izards est un quartier partagé avec Tarbes" in s for s in r.phrases["eligibilite"])


@pytest.mark.parametrize("categorie", ["1", None])
def test_known_lists_still_move(categorie):
    """The demo's behaviour: a known category on the list or off it gives real movements."""
    reg, r = _build(_tables(categorie=categorie), _params(), national=21_000)
    t = r.transitions.set_index("etape")
    assert t.loc["CUCS → QPV 2015", "non_calculables"] == 0
    assert t.loc["CUCS → QPV 2015", "maintenus" if categorie else "entrants"] == 3
