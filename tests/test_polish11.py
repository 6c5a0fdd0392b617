"""Issue 11, fix round (« polish »): what a reader saw on the real Occitanie site.

1. q2: a difference-in-differences with no funded or no comparison quartier is « n.d. » with
   its reason everywhere (sentences, view, key figures, results), never « 0 quartier financé et
   0 quartier de comparaison : ces petits nombres rendent les estimations fragiles ».
2. A contract that starts with the data has no « before » period: never « 2015-2014 ».
3. The syntheses count only computed verdicts, and say how many are n.d. and why.
4. The unit « indice » (INSEE ind_jeune) reads « 0,9 », never « 1 indice ».

Hand-made frames and results; the demo (copied into tmp_path when changed) for the reports."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import region_of

from cucs_analysis.analysis import impact, motifs
from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params as params_mod
from cucs_analysis.present import display, text
from cucs_analysis.reports import q2, q3, q4, synthese

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
demo = pytest.mark.skipif(not (DEMO / "truth.json").exists(), reason="données de démonstration absentes")
#: A reversed period (« 2015-2014 »): an end year before its start year.
INVERSE = re.compile(r"\b(\d{4})-(\d{4})\b")


def _inverses(texte: str) -> list[str]:
    return [m.group(0) for m in INVERSE.finditer(texte) if int(m.group(2)) < int(m.group(1))]


def _params(code="20001", **update):
    p = params_mod.load_params(code, ROOT)
    return p.model_copy(update=update) if update else p


def _tout_q2(r) -> str:
    textes = [*r.constats, *r.reserves, *r.debat, r.verdict.get("texte", "")]
    textes += [p for k, v in vars(r).items() if k.startswith("phrases_") and isinstance(v, list) for p in v]
    textes += [str(x) for x in r.contribution.to_numpy().ravel()]
    return "\n".join(textes).replace("\u00a0", " ").replace("\u202f", " ")


# --- 4. the unit « indice » -----------------------------------------------------------------------


def test_index_unit_has_one_decimal_and_no_unit_word():
    assert text.decimales_unite("indice") == 1
    assert text.chiffre_cle(0.94, "indice") == text.nombre(0.94, 1) == "0,9"
    assert text.valeur_unite(1.26, "indice") == "1,3"
    assert "indice" not in text.chiffre_cle(2, "indice")
    # q3's tables: an indicator of unit « indice » is a decimal number, written without unit
    unite = q3._unite_vue("indice")
    assert display.FORMATS_UNITE[unite](0.94) == "0,9"


# --- 2. no year before the contract ---------------------------------------------------------------


def test_reversed_period_is_never_printed():
    assert text.annee_periode(2015, 2014) == text.AUCUNE_ANNEE
    assert not _inverses(text.annee_periode(2015, 2014))
    assert text.periode_avant(2015, 2015) == text.AUCUNE_ANNEE_AVANT
    assert text.periode_avant(2016, 2015) == text.AUCUNE_ANNEE_AVANT
    assert text.periode_avant(2005, 2007) == "2005-2006"
    assert text.periode_avant(2006, 2007) == "2006"
    assert text.sans_annee_avant(2015, 2015) and not text.sans_annee_avant(2005, 2007)
    assert text.annee_periode(2007, 2014) == "2007-2014"


@demo
def test_q2_and_q4_without_a_year_before_the_contract():
    base = _params()
    p = _params(annee_debut_cucs=base.periode.debut)
    t = load.load_territory(DEMO, "20001")
    r = q2.build(t, region_of(DEMO, p), p)
    tout = _tout_q2(r)
    assert not _inverses(tout), _inverses(tout)
    assert text.AUCUNE_ANNEE_AVANT in tout
    for vue in (q2.vue_tendances(r), q2.vue_ecarts(r)):
        assert not _inverses(" ".join(map(str, vue.columns)))
    sources = " ".join(q2.sources(r, p, t.metadata))
    assert not _inverses(sources) and text.AUCUNE_ANNEE_AVANT in sources
    r4 = q4.build(t, p)
    tout4 = " ".join([*r4.constats, *r4.reserves, *q4.sources(r4, p, t.metadata)])
    assert not _inverses(tout4), _inverses(tout4)
    assert "Périodes comparées : aucune (aucune année avant le contrat dans les données" in tout4
    # the meetings' years are those of the data, never « données de démonstration »
    assert "données de démonstration" not in tout4
    if r4.a_instances:
        a, z = r4.instances_annee["annee"].min(), r4.instances_annee["annee"].max()
        assert f"participants), {text.annee_periode(a, z)}." in tout4
    # with the demo's own contract year the periods are the usual ones
    r0 = q2.build(t, region_of(DEMO, base), base)
    avant = text.annee_periode(base.periode.debut, base.annee_debut_cucs - 1)
    assert avant in _tout_q2(r0) and text.AUCUNE_ANNEE_AVANT not in _tout_q2(r0)


# --- 1. a DiD of nothing is n.d. ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sans_categorie(tmp_path_factory):
    """The demo with every quartier of unknown CUCS category (the Occitanie import)."""
    d = tmp_path_factory.mktemp("polish") / "demo"
    shutil.copytree(DEMO, d)
    q = pd.read_csv(d / "quartiers.csv", dtype=str, keep_default_na=False)
    q["categorie_cucs"] = "inconnu"
    q.to_csv(d / "quartiers.csv", index=False)
    return d


@demo
def test_q2_did_without_any_classed_quartier_is_nd_with_its_reason(sans_categorie):
    p = _params()
    region = region_of(sans_categorie, p)
    assert (region.groupes["groupe"] == impact.CATEGORIE_INCONNUE).all()
    r = q2.build(load.load_territory(sans_categorie, "20001"), region, p)
    assert r.did_groupes == (0, 0)
    assert r.did_raison and "catégorie CUCS des quartiers est inconnue" in r.did_raison
    tout = _tout_q2(r)
    assert "0 quartier financé" not in tout and "0 quartier de comparaison" not in tout
    assert "fragile" not in " ".join(r.reserves)
    assert "Différence de différences non calculable (n.d.)" in " ".join(r.reserves)
    assert "aucun quartier financé et aucun quartier de comparaison dans la région" in " ".join(r.phrases_did)
    # the view has no row of empty estimates: it is empty with the reason
    v = q2.vue_did(r)
    assert v.empty and v.attrs["motif"] == motifs.DONNEE_ABSENTE
    assert "catégorie CUCS" in str(v.attrs["vide"])
    # no funded-quartier count of the commune can be read from unclassed quartiers
    kf = {c["id"]: c for c in r.chiffres_cles}
    assert kf["quartiers_finances"]["valeur"] is None
    assert kf["quartiers_finances"]["motif"] == motifs.DONNEE_ABSENTE
    assert not any(c["id"].startswith("did_") for c in r.chiffres_cles)
    # the commune's quartiers are not « aucun financé »: their funding is unknown
    assert set(r.periodes["serie"]) - {"commune", "comparaison"} == {"quartiers_inconnus"}
    assert "aucun financé" not in tout and "financement par quartier inconnu" in tout
    portee = r.resultats()["did_portee"]
    assert portee["quartiers_finances_commune"] is None
    assert portee["motif_nd"] == motifs.DONNEE_ABSENTE and portee["raison_nd"] == r.did_raison
    assert (portee["quartiers_finances_region"], portee["quartiers_comparaison_region"]) == (0, 0)


@demo
def test_q2_did_of_the_demo_keeps_its_estimates():
    p = _params()
    region = region_of(DEMO, p)
    r = q2.build(load.load_territory(DEMO, "20001"), region, p)
    g = region.groupes["groupe"]
    assert r.did_groupes == (int((g == "traite").sum()), int((g == "comparaison").sum()))
    assert r.did_raison is None and not q2.vue_did(r).empty
    assert "non calculable (n.d.)" not in " ".join(r.reserves)
    assert r.resultats()["did_portee"]["raison_nd"] is None


def test_did_reason_when_no_credit_is_attached_to_a_quartier():
    """Groups exist (known categories) but every intensity is 0: the funding is not at the
    quartier level, the intensities are unknown — n.d., not « 0 quartier financé »."""
    groupes = pd.DataFrame(
        {"code_quartier": ["Q1", "Q2"], "intensite_moyenne": [0.0, 0.0], "groupe": ["comparaison"] * 2}
    )
    intens = pd.DataFrame(
        {"code_quartier": ["Q1"], "nom": ["A"], "intensite_moyenne": [0.0], "groupe": ["comparaison"]}
    )
    r = q2.RapportQ2(
        **{
            **{f: None for f in ("code_commune", "nom_commune", "libelles", "unites", "actions")},
            "code_commune": "1",
            "nom_commune": "A",
            "annee_traitement": 2017,
            "seuil_secret": 11,
            "indicateurs": [],
            "libelles": {},
            "unites": {},
            "credits_specifiques": 0.0,
            "credits_associations": 0.0,
            "actions": pd.DataFrame(),
            "actions_significatives": pd.DataFrame(),
            "publics": pd.DataFrame(),
            "bilans": pd.DataFrame(),
            "intensite": intens,
            "groupes_region": groupes,
            "series": pd.DataFrame(),
            "ecarts": pd.DataFrame(),
            "did": pd.DataFrame({"indicateur": ["x"], "estimation": [float("nan")]}),
            "etudes_evenement": {},
            "enquetes": pd.DataFrame(),
            "reponses": pd.DataFrame(),
            "contribution": pd.DataFrame(),
        }
    )
    assert r.did_groupes == (0, 2)
    assert "aucun crédit spécifique aux associations n'est rattaché à un quartier" in r.did_raison
    assert not r.n_finances_connu
    funded = groupes.assign(intensite_moyenne=[30.0, 0.0], groupe=["traite", "comparaison"])
    r.groupes_region = funded
    assert r.did_raison is None and r.n_finances_connu


# --- 3. the syntheses count computed verdicts only -----------------------------------------------


def _res(question, motif=None, **extra):
    texte = "Données non disponibles : x" if motif else "Un constat établi"
    return {
        "question": question,
        "code_commune": extra.pop("code", "31555"),
        "verdict": {"texte": texte, "motif": motif, "section": None},
        "constats": [],
        "reserves": [],
        "chiffres_cles": [],
        **extra,
    }


def test_commune_synthesis_all_nd_is_not_counted_as_results():
    ids = ["q1", "q2", "q3", "q4"]
    res = {
        "q1": _res("q1", motifs.DONNEE_ABSENTE, tables_absentes=["actions", "financements"]),
        "q2": _res("q2", motifs.DONNEE_ABSENTE),
        "q3": _res("q3", motifs.DONNEE_ABSENTE),
        "q4": _res("q4", motifs.DONNEE_ABSENTE),
    }
    s = synthese.build_commune(res, "31555", "Toulouse", questions_ids=ids)
    phrase = s.constats[0].replace("\u00a0", " ")
    assert "ont des résultats" not in phrase
    assert phrase.startswith("Aucune des 4 questions évaluatives n'a de résultat calculé pour Toulouse")
    assert "les 4 sont « n.d. »" in phrase
    assert (
        "1 faute de tables absentes du jeu de données" in phrase
        and "3 faute de données disponibles" in phrase
    )
    kf = {c["id"]: c["valeur"] for c in s.chiffres_cles}
    assert kf["questions_traitees"] == 0 and kf["questions_nd"] == len(ids)
    # a zero of questions reads « aucune question » (feminine), never « aucun question »
    zero = next(c for c in s.chiffres_cles if c["id"] == "questions_traitees")
    assert text.chiffre_cle(zero["valeur"], zero["unite"]) == "aucune question"
    v = {x["question"]: x for x in s.resultats()["verdicts"]}
    assert v["q1"]["calcule"] is False and v["q1"]["tables_absentes"] == ["actions", "financements"]


def test_commune_synthesis_counts_computed_verdicts_and_names_the_nd():
    ids = ["q1", "q2", "q3", "q4"]
    res = {
        "q1": _res("q1"),
        "q2": _res("q2", motifs.HORS_CUCS),  # a known state is a verdict
        "q3": _res("q3", motifs.DONNEE_ABSENTE),
        "q4": _res("q4", None, tables_absentes=["financements"]),
    }
    s = synthese.build_commune(res, "31555", "Toulouse", questions_ids=ids)
    calcules = sum(synthese.verdict_calcule(r) for r in res.values())
    phrase = s.constats[-1].replace("\u00a0", " ")
    assert phrase.startswith(
        f"{calcules} questions évaluatives sur {len(ids)} ont des résultats pour Toulouse"
    )
    assert (
        "2 sont « n.d. » (1 faute de tables absentes du jeu de données (carnet non exécuté) ; 1 faute de"
        in phrase
    )
    assert {c["id"]: c["valeur"] for c in s.chiffres_cles}["questions_traitees"] == calcules == 2


def test_regional_synthesis_does_not_count_communes_with_only_nd():
    communes = pd.DataFrame({"code_commune": ["31555", "34172"], "nom": ["Toulouse", "Montpellier"]})
    resultats = [
        _res("q1", motifs.DONNEE_ABSENTE, code="31555"),
        _res("q3", motifs.DONNEE_ABSENTE, code="31555"),
        _res("q1", None, code="34172"),
    ]
    s = synthese.build_regionale(resultats, communes)
    assert s.constats[0].replace("\u00a0", " ").startswith("1 commune sur 2 a des résultats")
    assert any("(Toulouse) n'a que des verdicts « n.d. »" in c for c in s.constats)
    assert {c["id"]: c["valeur"] for c in s.chiffres_cles}["communes_avec_resultats"] == 1
    seul_nd = synthese.build_regionale(resultats[:2], communes.assign(signataire_cucs=pd.NA))
    assert seul_nd.constats[0].startswith("Aucune des 2 communes n'a de résultat calculé")
    # no signatory status known anywhere: « ne compte aucune », never « compte aucune » or « compte 0 »
    assert (
        seul_nd.constats[0]
        .replace("\u00a0", " ")
        .endswith(
            "la région ne compte aucune commune signataire du CUCS ni hors CUCS : ses 2 communes sont de statut "
            "inconnu (la table des communes ne dit pas si elles ont signé)."
        )
    )
