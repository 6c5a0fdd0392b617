"""Issue 11, « inconnu » is a value (q5-q8): an unknown input gives « n.d. » with its reason, never
False, 0 or « hors CUCS ». Demo territories whose attributes are set to NA here, a State-only
funding source (`financements_perimetre: etat_seul`), absent tables, and small hand-made frames.
Each test also checks the known case, so that it fails if the unknown were read as a value."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import region_of

from cucs_analysis.analysis import motifs, operators, proximity, structures
from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params
from cucs_analysis.present import text
from cucs_analysis.reports import q5, q6, q7, q8, region

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
ETAT = "la source des financements ne contient que la part de l'État (programme 147)"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def _params(code: str = "20001"):
    return params.load_params(code, ROOT)


def _territoire(code: str = "20001", **commune):
    t = load.load_territory(DEMO, code)
    return dataclasses.replace(t, commune={**t.commune, **commune}) if commune else t


def _etat_seul(t):
    """The same territory, its funding source declared State-only (metadonnees.yaml)."""
    m = t.metadata
    if any(f.name == "financements_perimetre" for f in dataclasses.fields(m)):
        m = dataclasses.replace(m, financements_perimetre="etat_seul")
    else:  # before the schema's key lands: an unknown key is kept in `extra`
        m = dataclasses.replace(m, extra={**(m.extra or {}), "financements_perimetre": "etat_seul"})
    return dataclasses.replace(t, metadata=m)


def _phrases(r) -> list[str]:
    return [
        *r.constats,
        *r.reserves,
        *r.debat,
        *(p for ps in r.textes.values() for p in ps),
        r.verdict["texte"],
    ]


def _build(q, t, p):
    return q.build(t, region_of(DEMO, p), p) if q in (q6, q7) else q.build(t, p)


# --- an unknown signatory status is not « hors CUCS » ----------------------------------------------


def _sans_programme(t):
    """The same territory without any programme row (actions, funding, pathways, meetings, GUP…)."""
    vides = {
        k: getattr(t, k).iloc[0:0]
        for k in ("actions", "financements", "parcours", "instances", "bilans", "gup", "operateurs")
    }
    return dataclasses.replace(t, **vides)


RESERVE_INCONNU = "Statut de signataire inconnu pour"


@pytest.mark.parametrize("q", [q5, q6, q7, q8], ids=["q5", "q6", "q7", "q8"])
def test_an_unknown_signatory_status_without_programme_is_donnees_non_disponibles(q):
    p = _params()
    connu = _build(q, _sans_programme(_territoire(signataire_cucs=False)), p)
    assert connu.verdict["motif"] == motifs.HORS_CUCS  # the known « non » is hors CUCS
    r = _build(q, _sans_programme(_territoire(signataire_cucs=None)), p)
    assert r.signataire is None and not r.a_programme
    assert r.verdict["motif"] == motifs.DONNEE_ABSENTE
    assert "statut de signataire inconnu" in r.verdict["texte"]
    assert r.motif_programme == motifs.DONNEE_ABSENTE
    phrases = _phrases(r)
    assert not [x for x in phrases if "hors cucs" in x.lower() or "n'a pas signé" in x], phrases
    assert any(x.startswith("Données non disponibles : statut de signataire inconnu") for x in phrases)
    assert not any(x.startswith(RESERVE_INCONNU) for x in r.reserves)  # nothing described
    r.resultats()  # the results contract still writes


@pytest.mark.parametrize("q", [q5, q6, q7, q8], ids=["q5", "q6", "q7", "q8"])
def test_an_unknown_signatory_status_with_programme_rows_describes_them_with_one_caveat(q):
    """One policy for q1-q8: the programme rows of a commune of unknown status are described as a
    signatory's (the old q5-q8 read nothing and said « données non disponibles »), with ONE caveat;
    never « hors CUCS »."""
    p = _params()
    signataire = _build(q, _territoire(signataire_cucs=True), p)
    r = _build(q, _territoire(signataire_cucs=None), p)
    assert r.signataire is None and r.a_programme == signataire.a_programme is True
    assert r.motif_programme is None
    assert r.verdict["motif"] != motifs.DONNEE_ABSENTE
    assert r.verdict["texte"] == signataire.verdict["texte"]  # the same figures as a signatory's
    caveats = [x for x in r.reserves if x.startswith(RESERVE_INCONNU)]
    assert len(caveats) == 1 and "sans savoir si elles relèvent d'un CUCS" in caveats[0], r.reserves
    assert not any(x.startswith(RESERVE_INCONNU) for x in signataire.reserves)
    phrases = _phrases(r)
    assert not [x for x in phrases if "hors cucs" in x.lower() or "n'a pas signé" in x], phrases
    assert not [x for x in phrases if x.startswith("Données non disponibles : statut de signataire inconnu")]
    r.resultats()


def test_steering_model_reads_an_unknown_signatory_as_donnee_absente():
    communes = pd.DataFrame(
        {
            "code_commune": ["1", "2", "3"],
            "nom": ["A", "B", "C"],
            "signataire_cucs": pd.array([True, False, None], dtype="boolean"),
        }
    )
    m = operators.steering_model(
        None,  # the instances table is absent
        None,
        communes,
        annee_debut_cucs=2007,
        decalage_annees=2,
        seuil_participatif=0.5,
        seuil_adaptable=0.3,
    ).set_index("code_commune")
    assert m.loc["2", "motif_descendant_participatif"] == motifs.HORS_CUCS
    assert m.loc["3", "motif_descendant_participatif"] == motifs.DONNEE_ABSENTE
    assert m.loc["3", "signataire"] is None
    assert m.loc["1", "motif_fige_adaptable"] == motifs.DONNEE_ABSENTE  # no actions: n.d., not « figé »
    assert m["axe_descendant_participatif"].isna().all()


def test_region_stage_functions_take_absent_tables():
    p = _params()
    communes = load.load_dataset(DEMO).tables["communes"]
    for tables in (
        {"communes": communes},
        {"communes": communes, "actions": pd.DataFrame(), "instances": None},
    ):
        m = region.pilotage_region(tables, p)
        assert len(m) == communes["code_commune"].nunique()
        assert set(m["motif_descendant_participatif"]) <= {motifs.HORS_CUCS, motifs.DONNEE_ABSENTE}
        s = region.structures_region(tables, p)
        assert not s["a_financements"].any()


# --- q7: State-only funding source ------------------------------------------------------------------


def _seulement_etat(t):
    """The demo's funding lines of the State's credits only: what a P147 source holds."""
    f = t.financements
    return dataclasses.replace(t, financements=f[f["type_credit"] == "specifique"].reset_index(drop=True))


def test_q7_state_only_source_gives_no_co_funding_and_says_why():
    p = _params()
    t = _seulement_etat(_territoire())
    naif = q7.build(t, region_of(DEMO, p), p)
    # read as complete, the State-only lines give a co-funding of 0,00 € and a 0,0 % share: the lie
    zero_euro, zero_pct = text.euros(0, 2), text.pourcentage(0.0)  # « 0,00 € », « 0,0 % » as printed
    assert naif.valeur("effet_levier") == 0 and any(zero_euro in x for x in _phrases(naif))
    assert any(zero_pct in x for x in _phrases(naif))
    r = q7.build(_etat_seul(t), region_of(DEMO, p), p)
    assert r.etat_seul
    res = r.resultats()
    for cle in ("effet_levier", "part_droit_commun"):
        assert res[cle] is None and res[f"{cle}_motif"] == motifs.DONNEE_ABSENTE
    assert res["effet_levier_base"] is None and res["part_droit_commun_base"] is None
    assert res["financements_perimetre"] == "etat_seul"
    phrases = _phrases(r)
    assert not [x for x in phrases if zero_euro in x or zero_pct in x], phrases
    assert any(ETAT in x for x in r.texte("cofinancement"))
    assert ETAT in r.verdict["texte"]
    cles = {c["id"]: c for c in r.chiffres_cles}
    assert cles["effet_levier"]["valeur"] is None and cles["effet_levier"]["motif"] == motifs.DONNEE_ABSENTE
    assert cles["part_droit_commun"]["valeur"] is None
    # the novelty rate stays computed (on the State-funded actions), and its limit is stated
    assert res["taux_renouvellement"] is not None
    assert any("seules actions financées par l'État" in x for x in r.reserves)
    vue = q7.vue_cofinancement_annee(r)
    assert vue.empty and ETAT in str(vue.attrs.get("vide"))
    assert q7.figure_cofinancement(r) is None and q7.figure_comparaison(r) is None
    assert r.resume["effet_levier"].isna().all()  # never 0 per structure


def test_commune_indicators_state_only_never_gives_zero_co_funding():
    communes = pd.DataFrame(
        {"code_commune": ["1"], "nom": ["A"], "signataire_cucs": [True], "structure_pilotage": ["GIP"]}
    )
    actions = pd.DataFrame(
        {
            "id_action": ["a", "a"],
            "annee": [2008, 2009],
            "code_commune": ["1", "1"],
            "id_operateur": ["o", "o"],
        }
    )
    fin = pd.DataFrame(
        {
            "id_action": ["a", "a"],
            "annee": [2008, 2009],
            "type_credit": ["specifique", "specifique"],
            "montant_accorde": [100.0, 200.0],
        }
    )
    kw = {"annee_debut_cucs": 2007, "debut": 2005, "fin": 2014}
    complet = structures.commune_indicators(communes, actions, fin, **kw)
    assert (
        complet.loc[0, "effet_levier"] == 0 and structures.by_structure(complet).loc[0, "effet_levier"] == 0
    )
    seul = structures.commune_indicators(communes, actions, fin, etat_seul=True, **kw)
    assert np.isnan(seul.loc[0, "effet_levier"]) and np.isnan(seul.loc[0, "part_droit_commun"])
    assert seul.loc[0, "specifique"] == 300  # the State's share itself is known
    assert np.isnan(structures.by_structure(seul).loc[0, "effet_levier"])


# --- q7: an unknown steering structure ------------------------------------------------------------


def test_q7_unknown_structures_are_left_out_of_the_comparison_and_counted():
    p = _params()
    reg = region_of(DEMO, p)
    c = reg.structures.copy()
    autre = c[c["signataire"].eq(True) & c["a_financements"] & (c["code_commune"] != "20001")].iloc[0]
    avant = structures.by_structure(c)
    c.loc[c["code_commune"] == autre["code_commune"], "structure"] = structures.INCONNUE
    r = q7.build(_territoire(), dataclasses.replace(reg, structures=c), p)
    assert r.structures_inconnues == 1
    assert structures.INCONNUE not in set(r.resume["structure"])
    assert r.resume["communes"].sum() == avant["communes"].sum() - 1
    assert autre["code_commune"] not in set(r.communes_comparees["code_commune"])
    assert any(
        "1 commune signataire avec financements dont la structure de pilotage est inconnue" in x
        for x in r.texte("comparaison")
    )
    assert r.resultats()["structures_inconnues"] == 1


# --- q6: granted vs requested, planned beneficiaries, scale -----------------------------------------


def test_q6_state_only_source_gives_granted_vs_requested_nd():
    p = _params()
    t = _territoire()
    connu = q6.build(t, region_of(DEMO, p), p)
    cle = {c["id"]: c for c in connu.chiffres_cles}["taux_accord_operateurs"]
    assert cle["valeur"] is not None  # the demo's complete source gives a rate
    r = q6.build(_etat_seul(t), region_of(DEMO, p), p)
    cle = {c["id"]: c for c in r.chiffres_cles}["taux_accord_operateurs"]
    assert cle["valeur"] is None and cle["motif"] == motifs.DONNEE_ABSENTE
    perf = r.texte("performance")
    assert f"Part des montants demandés accordée aux opérateurs : n.d. — {q6.RAISON_ETAT_SEUL}." in perf
    assert not [x for x in perf if "des montants demandés (" in x]
    assert r.performance["taux_accord"].isna().all()


def test_q6_unknown_requested_amounts_give_nd_never_0_or_100_percent():
    p = _params()
    t = _territoire()
    f = t.financements.assign(montant_demande=pd.array([pd.NA] * len(t.financements), dtype="Float64"))
    r = q6.build(dataclasses.replace(t, financements=f), region_of(DEMO, p), p)
    assert r.raison_accord == "montant demandé inconnu"
    assert "Part des montants demandés accordée aux opérateurs : n.d. — montant demandé inconnu." in r.texte(
        "performance"
    )
    assert not [x for x in _phrases(r) if "100,0 % des montants" in x or "0,0 % des montants" in x]
    assert int(r.performance["demandes_montant_inconnu"].sum()) == len(f)


def test_performance_leaves_unknown_planned_beneficiaries_out_and_counts_them():
    actions = pd.DataFrame(
        {
            "id_action": ["a", "b", "c"],
            "annee": [2008, 2008, 2008],
            "id_operateur": ["o", "o", "o"],
            "statut": ["réalisée"] * 3,
            "beneficiaires_prevus": pd.array([10, None, 10], dtype="Int64"),
            "beneficiaires_realises": [5.0, 40.0, 5.0],
        }
    )
    perf = operators.performance(actions, None, 0.7, 1).iloc[0]
    # on the two known rows: 10 / 20; reading the unknown as 0 would give 50 / 20
    assert perf["taux_realisation"] == pytest.approx(0.5)
    assert perf["prevus_realisees"] == 20 and perf["realises"] == 10
    assert perf["annees_prevus_inconnus"] == 1
    assert perf["annees_realisees"] == 3  # still counted as realised years


def test_q6_unknown_scale_is_apart_never_a_scale():
    p = _params()
    t = _territoire()
    ops = t.operateurs.copy()
    ops["echelle"] = ops["echelle"].astype(object)
    actifs = set(t.actions["id_operateur"].dropna())
    inconnus = sorted(actifs)[:2]
    ops.loc[ops["id_operateur"].isin(inconnus), "echelle"] = None
    r = q6.build(dataclasses.replace(t, operateurs=ops), region_of(DEMO, p), p)
    phrase = r.texte("reperage")[0]
    assert f"{len(inconnus)} dont l'échelle est inconnue (n.d.)" in phrase
    assert "« None »" not in phrase and "« nan »" not in phrase and "« <NA> »" not in phrase
    d = r.domaines_echelles
    assert operators.ECHELLE_INCONNUE in set(d["echelle"]) and not {"None", "nan", "<NA>"} & set(d["echelle"])
    v = q6.vue_domaines_echelles(r)
    assert "Échelle inconnue" in list(v.columns)


def test_domains_by_scale_hand_made():
    ops = pd.DataFrame(
        {
            "id_operateur": ["a", "b", "c"],
            "echelle": [None, "commune", "inconnu"],
            "domaines": ["sante", None, "sante"],
        }
    )
    d = operators.domains_by_scale(ops)
    assert d.set_index("echelle").loc[operators.ECHELLE_INCONNUE, "operateurs"] == 2
    assert operators.unknown_domains(ops) == 1


# --- q8: proximity flag unknown -------------------------------------------------------------------


def test_q8_unknown_proximity_flags_are_counted_apart():
    p = _params()
    t = _territoire()
    connu = q8.build(t, p)
    a = t.actions.copy()
    prox = a["proximite"].astype("boolean")
    n_inconnues = int((~prox.fillna(False)).sum())  # every « non » becomes unknown
    a["proximite"] = prox.where(prox.fillna(False), pd.NA)
    r = q8.build(dataclasses.replace(t, actions=a), p)
    assert r.proximite_non_renseignees == n_inconnues > 0
    assert len(r.actions_proximite) == len(connu.actions_proximite)  # the « oui » stay
    assert any("n'est pas renseigné pour" in x for x in r.texte("actions"))
    # the share of proximity rests on the known flags only: every known one is « oui »
    pa = r.proximite_annee
    assert (pa["actions_annees"] == pa["actions_annees_proximite"]).all()
    assert "actions_annees_non_renseignees" in q8.vue_proximite_annee(r).attrs.get("colonnes", {}) or (
        "Proximité non renseignée (actions-années)" in q8.vue_proximite_annee(r).columns
    )
    tout = dataclasses.replace(t, actions=a.assign(proximite=pd.array([pd.NA] * len(a), dtype="boolean")))
    r2 = q8.build(tout, p)
    assert r2.texte("actions")[0].startswith("Actions de proximité : n.d.")
    assert not [x for x in _phrases(r2) if x.startswith("Aucune action de la programmation")]


def test_proximity_by_year_hand_made_unknown_flag():
    a = pd.DataFrame(
        {"id_action": ["a", "b"], "annee": [2008, 2008], "proximite": pd.array([True, None], dtype="boolean")}
    )
    f = pd.DataFrame(
        {
            "id_action": ["a", "b"],
            "annee": [2008, 2008],
            "montant_accorde": [10.0, 30.0],
            "type_credit": ["specifique"] * 2,
        }
    )
    y = proximity.proximity_by_year(a, f).iloc[0]
    assert (y["actions_annees"], y["actions_annees_proximite"], y["actions_annees_non_renseignees"]) == (
        1,
        1,
        1,
    )
    assert (y["montant_total"], y["montant_non_renseigne"]) == (10.0, 30.0)


# --- absent tables ------------------------------------------------------------------------------


@pytest.mark.parametrize("q", [q5, q6, q7, q8], ids=["q5", "q6", "q7", "q8"])
def test_reports_build_when_the_programme_tables_are_absent(q):
    p = _params()
    t = _territoire()
    vide = pd.DataFrame()
    t = dataclasses.replace(
        t,
        actions=vide,
        financements=vide,
        operateurs=vide,
        instances=vide,
        bilans=vide,
        available={**t.available, "actions": False, "financements": False, "operateurs": False},
    )
    r = _build(q, t, p)
    assert r.motif_programme == motifs.DONNEE_ABSENTE
    if q is q8:  # its GUP, facilities and indicators remain: the actions' section says why it is empty
        assert "absente des données (données non disponibles)" in r.texte("actions")[0]
    else:
        assert r.verdict["motif"] == motifs.DONNEE_ABSENTE
    r.resultats()
    for nom, v in r.tables.items():
        assert isinstance(v, pd.DataFrame), nom


def test_builds_stay_well_under_a_second_with_unknowns():
    p = _params()
    reg = region_of(DEMO, p)
    t = _etat_seul(_territoire(structure_pilotage=None))
    for q in (q6, q7):
        q.build(t, reg, p)  # warm-up
        t0 = time.perf_counter()
        q.build(t, reg, p)
        assert time.perf_counter() - t0 < 1.0


def test_q7_delays_without_dates_are_nd_with_their_reason():
    p = _params()
    t = _territoire()
    connu = q7.build(t, region_of(DEMO, p), p)
    assert connu.resultats()["delai_decision_median_jours"] is not None
    dates = [c for c in ("date_depot", "date_decision", "date_paiement") if c in t.financements]
    f = t.financements.assign(**{c: pd.NaT for c in dates})
    r = q7.build(dataclasses.replace(t, financements=f), region_of(DEMO, p), p)
    res = r.resultats()
    assert res["delai_decision_median_jours"] is None
    assert res["delai_decision_median_jours_motif"] == motifs.DONNEE_ABSENTE
    assert r.texte("delais")[0].startswith("Délais de traitement : n.d.")
    cle = {c["id"]: c for c in r.chiffres_cles}["delai_decision_median_jours"]
    assert cle["valeur"] is None and cle["motif"] == motifs.DONNEE_ABSENTE
    assert "0 jour" not in " ".join(_phrases(r))


def test_q7_figures_say_the_state_only_reason():
    p = _params()
    r = q7.build(_etat_seul(_seulement_etat(_territoire())), region_of(DEMO, p), p)
    for vide in (q7.vide_cofinancement(r, "cofinancement par année"), q7.vide_comparaison(r)):
        assert ETAT in vide and vide.motif == motifs.DONNEE_ABSENTE
    assert ETAT not in q7.vide_comparaison(q7.build(_territoire(), region_of(DEMO, p), p))


def test_q6_unknown_operator_and_action_attributes_make_no_measured_zero():
    p = _params()
    t = _territoire()
    connu = q6.build(t, region_of(DEMO, p), p)
    assert {c["id"]: c for c in connu.chiffres_cles}["operateurs_sous_performants"]["valeur"] is not None
    ops = t.operateurs.astype({"code_commune": object, "statut_juridique": object})
    ops = ops.assign(code_commune=None, statut_juridique=None)
    a = t.actions.assign(
        prioritaire=pd.array([pd.NA] * len(t.actions), dtype="boolean"),
        beneficiaires_prevus=pd.array([pd.NA] * len(t.actions), dtype="Int64"),
    )
    r = q6.build(dataclasses.replace(t, operateurs=ops, actions=a), region_of(DEMO, p), p)
    phrases = _phrases(r)
    faux = ("Aucun opérateur jugé", "Aucune action prioritaire n'est restée", "Aucune association n'a reçu")
    assert not [x for x in phrases if x.startswith(faux)], phrases
    assert not [x for x in phrases if "aucun des" in x and "est établi dans la commune" in x]
    assert "La commune où les opérateurs sont établis n'est pas renseignée (n.d.)." in r.texte("reperage")
    assert r.texte("non_pourvues")[0].startswith("Actions prioritaires restées sans opérateur : n.d.")
    assert r.texte("associations")[-1].startswith("Financements des associations : n.d.")
    cles = {c["id"]: c for c in r.chiffres_cles}
    assert cles["operateurs_sous_performants"]["valeur"] is None
    assert cles["actions_non_pourvues"]["valeur"] is None
    assert r.resultats()["actions_non_pourvues_motif"] == motifs.DONNEE_ABSENTE
    assert "performance des opérateurs n.d." in r.verdict["texte"]
    assert "sans opérateur n.d." in r.verdict["texte"]
