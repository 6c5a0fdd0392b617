"""Issue 11, « inconnu » in q1, q2, q4 and the syntheses: an unknown value is never read as
false, 0 or « hors CUCS », and a funding source that holds only the State's share (metadata
`financements_perimetre: etat_seul`) gives « n.d. » with its reason, never « 0,0 % ».

Hand-made frames for the analysis functions; the demo territory with attributes set to NA in
the test for the reports (the committed demo has no unknowns)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import region_of

from cucs_analysis.analysis import funding, impact, motifs, partners
from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params as params_mod
from cucs_analysis.reports import q1, q2, q4, rapport, synthese

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
RAISON = "ne contient que la part de l'État (programme 147)"

demo = pytest.mark.skipif(not (DEMO / "truth.json").exists(), reason="données de démonstration absentes")


# --- hand-made frames: the analysis functions ---------------------------------------------------


def _actions(statut, prevus, realises):
    n = len(statut)
    return pd.DataFrame(
        {
            "id_action": [f"A{i}" for i in range(n)],
            "annee": 2010,
            "dispositif": "CLAS",
            "statut": pd.array(statut, dtype="string"),
            "beneficiaires_prevus": pd.array(prevus, dtype="Int64"),
            "beneficiaires_realises": pd.array(realises, dtype="Int64"),
        }
    )


def test_realisation_counts_unknown_status_and_planned_apart():
    a = _actions(
        ["réalisée", "réalisée", None, "réalisée", "abandonnée"],
        [100, None, 50, 40, 30],
        [90, 70, 45, 20, None],
    )
    r = funding.realisation(a).iloc[0]
    # The rate stands on the rows where both figures are known (rows 0 and 3).
    known = a[(a["statut"] == "réalisée").fillna(False) & a["beneficiaires_prevus"].notna()]
    assert r["prevus_realisees"] == known["beneficiaires_prevus"].sum() == 140
    assert r["realises"] == known["beneficiaires_realises"].sum() == 110
    assert r["taux_realisation"] == pytest.approx(110 / 140)
    # Unknown status: counted apart, never a status; realised with unknown planned: out of the rate.
    assert r["annees_statut_inconnu"] == 1
    assert r["annees_hors_taux"] == 1
    assert r["annees_realisees"] == 3 and r["annees_abandonnees"] == 1
    phrase = q1.programme.phrase_non_renseignes(funding.realisation(a))
    assert "statut non renseigné pour 1 action-année" in phrase.replace("\u00a0", " ")
    assert "bénéficiaires prévus non renseignés" in phrase


def test_realisation_without_unknowns_says_nothing_apart():
    a = _actions(["réalisée"], [10], [8])
    r = funding.realisation(a)
    assert int(r["annees_statut_inconnu"].sum()) == 0 and int(r["annees_hors_taux"].sum()) == 0
    assert q1.programme.phrase_non_renseignes(r) == ""


def _financements(demande, accorde):
    n = len(demande)
    return pd.DataFrame(
        {
            "id_action": [f"A{i}" for i in range(n)],
            "annee": 2010,
            "institution": "État",
            "type_credit": "specifique",
            "montant_demande": pd.array(demande, dtype="Float64"),
            "montant_accorde": pd.array(accorde, dtype="Float64"),
        }
    )


def test_unknown_requested_amount_is_left_out_of_the_grant_rate():
    f = _financements([1000, None, 500], [800, 700, 500])
    src = funding.funding_by_source(f, ("institution",)).iloc[0]
    assert src["demande_inconnue"] == 1
    assert src["montant_accorde"] == 2000  # every granted euro is counted as granted
    assert src["taux_accord"] == pytest.approx((800 + 500) / (1000 + 500))  # not 2000 / 1500
    acc = partners.requests_granted(f, ("institution",)).iloc[0]
    assert acc["demandes"] == 2 and acc["taux_accord"] == pytest.approx(1300 / 1500)


def test_every_request_unknown_gives_no_rate():
    f = _financements([None, None], [800, 700])
    src = funding.funding_by_source(f, ("institution",)).iloc[0]
    assert np.isnan(src["montant_demande"]) and np.isnan(src["taux_accord"])
    assert partners.requests_granted(f).empty


def test_unknown_category_is_not_a_blank_category():
    q = pd.DataFrame(
        {"code_quartier": ["Q1", "Q2", "Q3", "Q4"], "categorie_cucs": ["1", None, " Inconnu ", "inconnu"]}
    )
    assert impact.unknown_category_codes(q) == {"Q3", "Q4"}  # blank = hors CUCS, a known state
    intens = pd.DataFrame({"code_quartier": ["Q1", "Q2", "Q3"], "annee": 2010, "intensite": [30.0, 0.0, 0.0]})
    garde, hors = impact.without_unknown_category(intens, q)
    assert list(garde["code_quartier"]) == ["Q1", "Q2"] and hors == {"Q3"}


def test_status_and_scope_helpers():
    class T:
        commune = {"signataire_cucs": pd.NA}

    assert rapport.statut_signataire(T()) is None
    T.commune = {"signataire_cucs": False}
    assert rapport.statut_signataire(T()) is False
    assert rapport.motif_commune(None, False) == motifs.DONNEE_ABSENTE
    assert rapport.motif_commune(None, True) is None
    assert rapport.motif_commune(False, True) == motifs.HORS_CUCS

    @dataclasses.dataclass(frozen=True)
    class M:
        extra: dict

    assert rapport.financements_etat_seul(M({"financements_perimetre": "etat_seul"}))
    assert not rapport.financements_etat_seul(M({}))


# --- the demo territory with attributes set to NA ------------------------------------------------


def _etat_seul(metadata):
    if hasattr(metadata, "financements_perimetre"):
        return dataclasses.replace(metadata, financements_perimetre="etat_seul")
    return dataclasses.replace(metadata, extra={**metadata.extra, "financements_perimetre": "etat_seul"})


def _territoire(code="20001", *, signataire=True, etat_seul=False, na_actions=False):
    t = load.load_territory(DEMO, code)
    changes = {}
    if signataire is None:
        changes["commune"] = {**t.commune, "signataire_cucs": None}
    if etat_seul:
        changes["metadata"] = _etat_seul(t.metadata)
    if na_actions:
        a = t.actions.copy()
        for c in ("statut", "beneficiaires_prevus", "thematique"):
            a[c] = a[c].astype(object)
        a.loc[a.index[::7], "statut"] = pd.NA
        a.loc[a.index[3::11], "beneficiaires_prevus"] = pd.NA
        a.loc[a.index[5::13], "thematique"] = pd.NA
        changes["actions"] = a
    return dataclasses.replace(t, **changes) if changes else t


def _params(code="20001"):
    return params_mod.load_params(code, ROOT)


def _tout(r) -> str:
    textes = [*r.constats, *r.reserves, *r.debat, r.verdict.get("texte", "")]
    textes += [p for ps in getattr(r, "textes", {}).values() for p in ps]
    # q2 keeps the sentences of each section in `phrases_<section>` lists.
    textes += [p for k, v in vars(r).items() if k.startswith("phrases_") and isinstance(v, list) for p in v]
    return "\n".join(textes).replace("\u00a0", " ").replace("\u202f", " ")


@demo
def test_q1_state_only_source_gives_nd_with_its_reason_never_zero():
    base = q1.build(_territoire(), _params())
    r = q1.build(_territoire(etat_seul=True), _params())
    tout = _tout(r)
    assert "part du droit commun : 0,0 %" not in tout.lower()
    assert "Part du droit commun : n.d." in tout and RAISON in tout
    assert "Typologie de substitution : n.d." in tout
    cles = {c["id"]: c for c in r.chiffres_cles}
    for k in ("part_droit_commun", "domaines_substitution_durable", "actions_en_jeu"):
        assert cles[k]["valeur"] is None and cles[k]["motif"] == motifs.NON_CALCULABLE, k
    assert r.verdict["motif"] == motifs.NON_CALCULABLE and RAISON in r.verdict["texte"]
    res = json.loads(json.dumps(r.resultats()))
    assert res["part_droit_commun"] == [] and res["substitution"] == []
    assert res["motifs"]["part_droit_commun"] == motifs.NON_CALCULABLE
    assert RAISON in res["raisons"]["part_droit_commun"]
    assert res["perimetre_financements"] == "etat_seul"
    assert res["signataire_cucs"] is True
    # What can be said is said: the amounts per dispositif and per year, recomputed from the CSV.
    v = q1.vue_tableau_de_bord(r)
    assert not v.empty and len(v) == len(base.tableau_de_bord)
    fin = pd.read_csv(DEMO / "financements.csv")
    act = pd.read_csv(DEMO / "actions.csv", dtype={"code_commune": str})
    ids = set(act.loc[act["code_commune"] == "20001", "id_action"])
    par_an = fin[fin["id_action"].isin(ids)].groupby("annee")["montant_accorde"].sum()
    fa = r.financement_annee.set_index("annee")["total"]
    assert np.allclose(fa.reindex(par_an.index).to_numpy(), par_an.to_numpy())
    assert r.financement_annee["part_droit_commun"].isna().all()
    assert q1.vue_substitution(r).attrs["motif"] == motifs.NON_CALCULABLE
    # The complete source says what the State-only one cannot.
    assert "part du droit commun" in _tout(base).lower() and RAISON not in _tout(base)


@demo
def test_q1_unknown_status_is_never_hors_cucs():
    for code, programme in (("20001", True), ("20010", False)):
        r = q1.build(_territoire(code, signataire=None), _params(code))
        tout = _tout(r)
        assert r.signataire is None and "hors CUCS" not in tout
        assert "statut de signataire inconnu" in tout.lower()
        assert r.resultats()["signataire_cucs"] is None
        if not programme:
            assert r.motif_programme == motifs.DONNEE_ABSENTE
            assert r.verdict["motif"] == motifs.DONNEE_ABSENTE


@demo
def test_q1_unknown_status_and_planned_counted_apart():
    t = _territoire(na_actions=True)
    r = q1.build(t, _params())
    b = r.tableau_de_bord
    a = t.actions
    assert int(b["annees_statut_inconnu"].sum()) == int(a["statut"].isna().sum()) > 0
    ok = (
        a["statut"].astype(object).eq("réalisée").fillna(False).astype(bool)
        & a["beneficiaires_realises"].notna()
        & a["beneficiaires_prevus"].notna()
    )
    assert b["prevus_realisees"].sum() == pytest.approx(float(a.loc[ok, "beneficiaires_prevus"].sum()))
    assert b["realises"].sum() == pytest.approx(float(a.loc[ok, "beneficiaires_realises"].sum()))
    hors = (
        a["statut"].astype(object).eq("réalisée").fillna(False).astype(bool)
        & a["beneficiaires_realises"].notna()
        & a["beneficiaires_prevus"].isna()
    )
    assert int(b["annees_hors_taux"].sum()) == int(hors.sum()) > 0
    tout = _tout(r)
    n = int(a["statut"].isna().sum())
    assert f"statut non renseigné pour {n} actions-années" in tout
    assert f"Thématique non renseignée pour {int(a['thematique'].isna().sum())} actions-années" in tout
    v = q1.vue_realisation(r)
    assert "Actions-années de statut non renseigné (hors du taux)" in v.columns
    # An unknown domain is no domain: neither in the cross nor in the typology.
    assert not r.croisement.empty
    assert not ({"<NA>", "nan", "None"} & set(r.croisement["domaine"].astype(str)))
    assert not ({"<NA>", "nan", "None"} & set(r.substitution["domaine"].astype(str)))


@demo
def test_q4_state_only_source_and_unknown_status():
    r = q4.build(_territoire(signataire=None, etat_seul=True), _params())
    tout = _tout(r)
    cles = {c["id"]: c for c in r.chiffres_cles}
    for k in ("part_cofinancees_pendant", "taux_accord", "droit_commun_actions", "actions_en_jeu"):
        assert cles[k]["valeur"] is None and cles[k]["motif"] == motifs.NON_CALCULABLE, k
    assert cles["reunions_instances"]["valeur"] is not None  # what the data hold is said
    assert "Part des actions cofinancées : n.d." in tout and RAISON in tout
    assert "hors CUCS" not in tout
    assert r.verdict["motif"] == motifs.NON_CALCULABLE
    v = q4.vue_accord_institutions(r)
    assert v.empty and v.attrs.get("motif") == motifs.NON_CALCULABLE
    assert q4.figure_cofinancement(r) is None
    res = r.resultats()
    assert res["cofinancement"]["motif"] == motifs.NON_CALCULABLE and RAISON in res["cofinancement"]["raison"]


@demo
def test_q4_unknown_domain_is_in_no_domain():
    t = _territoire(na_actions=True)
    r = q4.build(t, _params())
    a, f = t.actions, t.financements
    sans = a.loc[a["thematique"].isna(), ["id_action", "annee"]].drop_duplicates()
    dc = f[f["type_credit"] == "droit_commun"].merge(sans, on=["id_action", "annee"])["montant_accorde"].sum()
    assert r.annees_thematique_inconnue == len(sans) > 0
    assert r.droit_commun_sans_thematique == pytest.approx(float(dc))
    assert f"Thématique non renseignée pour {len(sans)} actions-années" in _tout(r)
    assert "<NA>" not in set(r.mobilisation["domaine"]) and "nan" not in set(r.mobilisation["domaine"])


@demo
def test_q4_unknown_requests_counted_apart():
    t = _territoire()
    f = t.financements.copy()
    f["montant_demande"] = f["montant_demande"].astype(object)
    f.loc[f.index[::4], "montant_demande"] = pd.NA
    r = q4.build(dataclasses.replace(t, financements=f), _params())
    n = int(f["montant_demande"].isna().sum())
    assert r.demandes_inconnues == n
    assert f"Montant demandé non renseigné pour {n} financements" in _tout(r)
    known = f[pd.to_numeric(f["montant_demande"], errors="coerce") > 0]
    attendu = known["montant_accorde"].sum() / pd.to_numeric(known["montant_demande"]).sum()
    assert r.accord["montant_accorde"].sum() / r.accord["montant_demande"].sum() == pytest.approx(attendu)


@demo
def test_q2_unknown_category_left_out_of_the_did(tmp_path):
    d = tmp_path / "demo"
    shutil.copytree(DEMO, d)
    q = pd.read_csv(d / "quartiers.csv", dtype=str, keep_default_na=False)
    codes = q.loc[q["code_commune"] == "20002", "code_quartier"].tolist()[:2]
    q.loc[q["code_quartier"].isin(codes), "categorie_cucs"] = "inconnu"
    q.to_csv(d / "quartiers.csv", index=False)
    p = _params()
    region = region_of(d, p)
    g = region.groupes.set_index("code_quartier")["groupe"]
    assert set(g[g == impact.CATEGORIE_INCONNUE].index) == set(codes)
    assert not set(codes) & set(g[g.isin(["traite", "comparaison"])].index)
    r = q2.build(load.load_territory(d, "20001"), region, p)
    assert r.quartiers_categorie_inconnue == len(codes)
    assert f"{len(codes)} quartiers de la région de catégorie CUCS inconnue sont exclus" in _tout(r)
    assert r.resultats()["did_portee"]["quartiers_categorie_inconnue_exclus"] == len(codes)
    # The demo itself has none: the DiD of the committed demo keeps every quartier.
    assert not (region_of(DEMO, p).groupes["groupe"] == impact.CATEGORIE_INCONNUE).any()


@demo
def test_q2_unknown_status_is_not_hors_cucs():
    p = _params()
    r = q2.build(_territoire(signataire=None, na_actions=True), region_of(DEMO, p), p)
    tout = _tout(r)
    assert r.signataire is None and "hors CUCS" not in tout
    assert "Statut de signataire inconnu" in tout
    assert "statut non renseigné pour" in tout


# --- syntheses ---------------------------------------------------------------------------------


def test_regional_synthesis_counts_unknown_status_apart():
    communes = pd.DataFrame(
        {
            "code_commune": ["1", "2", "3"],
            "nom": ["Aval", "Bmont", "Cville"],
            "signataire_cucs": pd.array([True, False, pd.NA], dtype="boolean"),
        }
    )
    s = synthese.build_regionale([], communes)
    tout = " ".join(s.constats + s.reserves).replace("\u00a0", " ")
    assert "1 commune signataire du CUCS, 1 commune hors CUCS et 1 commune de statut inconnu" in tout
    d = s.donnees.set_index("code_commune")["signataire_cucs"]
    assert d["3"] == synthese.STATUT_INCONNU and d["2"] is False
    liens = {t for t, _, _ in synthese.liens_communes(communes)}
    assert "Cville (3) — statut inconnu" in liens and "Bmont (2) — hors CUCS" in liens
    phrase = synthese.phrase_eligibles_region(
        {"1": 2, "2": 1, "3": 4}, dict(zip(communes["code_commune"], [True, False, None], strict=True)), 3, 1
    )
    assert "4 quartiers éligibles dans les communes de statut inconnu" in phrase.replace("\u00a0", " ")


def test_commune_synthesis_of_unknown_status():
    res = {"q1": {"question": "q1", "signataire_cucs": None, "verdict": {"texte": "Droit commun : n.d."}}}
    s = synthese.build_commune(res, "3", "Cville", questions_ids=["q1"])
    assert s.signataire is None
    assert any("statut de signataire inconnu pour Cville" in c for c in s.constats)
    # Not given at all is not « unknown » (older results files).
    s = synthese.build_commune({"q1": {"question": "q1"}}, "3", "Cville", questions_ids=["q1"])
    assert not any("inconnu" in c for c in s.constats)


def test_landmarks_unknown_status_and_state_only():
    communes = pd.DataFrame(
        {
            "code_commune": ["1", "2"],
            "nom": ["A", "B"],
            "signataire_cucs": pd.array([True, pd.NA], dtype="boolean"),
            "population": [1000, 2000],
        }
    )
    actions = pd.DataFrame({"id_action": ["a", "b"], "annee": [2010, 2010], "code_commune": ["1", "2"]})
    fin = pd.DataFrame(
        {
            "id_action": ["a", "b"],
            "annee": [2010, 2010],
            "type_credit": ["specifique", "specifique"],
            "montant_accorde": [1000.0, 4000.0],
        }
    )
    quartiers = pd.DataFrame({"code_quartier": ["q"], "code_commune": ["1"], "categorie_cucs": ["inconnu"]})
    t = synthese.reperes(communes, actions, fin, quartiers, 2010, 2010)
    # Unknown status: its own figures stay (not « hors CUCS »), but it is not ranked among signatories.
    assert t.loc[1, "specifique_par_habitant"] == pytest.approx(2.0)
    assert synthese.position(t, "2", "specifique_par_habitant") is None
    assert synthese.position(t, "1", "specifique_par_habitant")["n"] == 1
    # A quartier of unknown category may be a priority one: the count is unknown, never 0.
    assert np.isnan(t.loc[0, "quartiers_prioritaires"])
    assert synthese.position(t, "1", "quartiers_prioritaires") is None
    assert t.loc[0, "part_droit_commun"] == pytest.approx(0.0)  # complete source: a measured 0
    e = synthese.reperes(communes, actions, fin, quartiers, 2010, 2010, etat_seul=True)
    assert e["part_droit_commun"].isna().all() and e["droit_commun_par_habitant"].isna().all()


def test_sources_line_names_the_files_and_the_state_only_scope():
    from cucs_analysis.data.schema import DatasetMetadata

    m = DatasetMetadata(
        nom="Jeu importé",
        annee_debut=2020,
        annee_fin=2023,
        sources=[{"fichier": "adulte-relais-2020.json", "source": "ANCT, Ci.Ville", "annees": [2020]}],
    )
    ligne = rapport.source_donnees(m)
    assert "adulte-relais-2020.json (ANCT, Ci.Ville, 2020)" in ligne and RAISON not in ligne
    assert RAISON in rapport.source_donnees(dataclasses.replace(m, financements_perimetre="etat_seul"))


def test_unknown_domain_is_shown_as_non_renseigne():
    from cucs_analysis.present.labels import libelle_domaine
    from cucs_analysis.reports import programme

    assert programme.domaine_affiche(pd.NA) == programme.domaine_affiche(None) == "non renseigné"
    assert programme.domaine_affiche("education") == libelle_domaine("education") != "non renseigné"
