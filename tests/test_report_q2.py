"""q2 report (moyens aux associations): planted truths, French sentences, secrecy, escaping,
the non-signatory path, and the notebook through the project's runner."""

from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import region_of

from cucs_analysis.analysis import privacy, trends
from cucs_analysis.present import display, text
from cucs_analysis.reports import q2
from cucs_analysis.reports.q2 import tables as q2_tables

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
SCRIPT_TITLE = "<script>alert(1)</script> Atelier « théâtre »"

pytestmark = pytest.mark.skipif(
    not (DEMO / "truth.json").exists(), reason="données de démonstration absentes"
)


def _build(code: str):
    import matplotlib

    matplotlib.use("Agg")
    from cucs_analysis.data import dataset as load
    from cucs_analysis.pipeline import params

    terr = load.load_territory(DEMO, code)
    p = params.load_params(code, ROOT)
    return terr, q2.build(terr, region_of(DEMO, p), p)


def plain(s: str) -> str:
    """French no-break spaces as plain spaces, to write expected sentences readably."""
    return s.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def riche():
    return _build("20001")


@pytest.fixture(scope="module")
def sans_actions():
    return _build("20012")


# --- planted truths --------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["riche", "sans_actions"])
def test_did_recovers_the_planted_effects_on_any_commune(which, request, truth):
    _, r = request.getfixturevalue(which)
    did = {d["indicateur"]: d for d in r.resultats()["did"]}
    assert set(did) == {"taux_chomage", "taux_pauvrete"}
    for planted in truth["did"]:
        d = did[planted["indicateur"]]
        assert set(d) == {
            "indicateur",
            "estimation",
            "ic_bas",
            "ic_haut",
            "p_value",
            "n_quartiers",
            "pre_tendance_ok",
        }
        assert d["ic_bas"] <= planted["effet"] <= d["ic_haut"]
        assert d["pre_tendance_ok"] is True
        assert d["n_quartiers"] >= 20  # region-wide panel, not the commune's 4 quartiers
    chom, pauv = did["taux_chomage"], did["taux_pauvrete"]
    assert chom["ic_haut"] < 0  # excludes 0
    assert chom["p_value"] < 0.05
    assert pauv["ic_bas"] <= 0 <= pauv["ic_haut"]


def test_did_sentences_are_trends_in_french_never_causes(riche):
    _, r = riche
    chom, pauv = (plain(p) for p in r.phrases_did)
    assert "−2,0 points" in chom and "intervalle de confiance à 95 %" in chom
    assert "tendance" in chom and "sans la démontrer" in chom
    assert "aucune différence d'évolution nette" in pauv
    everything = " ".join(
        [*r.phrases_did, *r.constats, *r.reserves, *r.debat, *r.reponse_atelier, *r.contribution["constat"]]
    ).lower()
    assert "cause" not in everything and "causé" not in everything


def test_phrase_did_on_hand_made_rows():
    base = {"indicateur": "x", "n_quartiers": 10, "n_traites": 4, "p_value": 0.01}
    net = plain(
        q2.phrase_did(
            {**base, "estimation": 1.5, "ic_bas": 0.5, "ic_haut": 2.5, "pre_tendance_ok": False},
            "Taux de réussite",
            "%",
            2009,
            "hausse_amelioration",
        )
    )
    assert "+1,5 point" in net and "de +0,5 point à +2,5 points" in net
    assert "4 quartiers financés et 6 quartiers de comparaison" in net
    assert "plus favorable" in net and "fragile" in net
    flou = q2.phrase_did(
        {**base, "estimation": -0.2, "ic_bas": -1.0, "ic_haut": 0.6, "pre_tendance_ok": None},
        "Taux",
        "%",
        2009,
    )
    assert "aucune différence d'évolution nette" in flou and "n'ont pas pu être comparées" in flou
    vide = q2.phrase_did(
        {**base, "estimation": np.nan, "ic_bas": np.nan, "ic_haut": np.nan, "pre_tendance_ok": None},
        "Taux",
        "%",
        2009,
    )
    assert "n'est pas possible" in vide


# --- gaps ------------------------------------------------------------------------------------


def test_ecarts_match_a_hand_computation(riche):
    """Gaps compare the period before the CUCS with the period during it (pooled rates), not a
    first and a last year; recomputed here from the territory's rows in plain pandas."""
    terr, r = riche
    ecarts = r.resultats()["ecarts"]
    assert {e["code_quartier"] for e in ecarts} == set(terr.quartiers["code_quartier"])
    assert {e["indicateur"] for e in ecarts} == {"taux_chomage", "taux_pauvrete"}
    ind = terr.indicateurs
    e = next(x for x in ecarts if x["code_quartier"] == "QP020004" and x["indicateur"] == "taux_chomage")

    def rate(niveau, code, a, b):
        rows = ind[
            (ind["niveau"] == niveau)
            & (ind["code_territoire"] == code)
            & (ind["indicateur"] == "taux_chomage")
            & ind["annee"].between(a, b)
        ]
        return round(100 * rows["numerateur"].sum() / rows["denominateur"].sum(), 1)

    assert (e["annee_debut"], e["annee_fin"]) == (2005, 2014)
    assert (e["periode_avant"], e["periode_pendant"]) == ("2005-2006", "2007-2014")
    avant = rate("quartier", "QP020004", 2005, 2006) - rate("commune", "20001", 2005, 2006)
    pendant = rate("quartier", "QP020004", 2007, 2014) - rate("commune", "20001", 2007, 2014)
    assert e["ecart_debut"] == e["ecart_avant"] == pytest.approx(avant)
    assert e["ecart_fin"] == e["ecart_pendant"] == pytest.approx(pendant)
    assert e["evolution_ecart"] == pytest.approx(pendant - avant)
    # +8,5 → +9,7 points: the gap widened by more than the 0.5-point tolerance.
    assert e["convergence"] == "divergence" and e["avant_testable"] and not e["petite_base"]
    assert set(r.ecarts["groupe"]) == {"quartier financé", "quartier de comparaison"}


def test_pooled_series_is_a_population_weighted_rate():
    ind = pd.DataFrame(
        {
            "niveau": ["quartier"] * 4,
            "code_territoire": ["A", "B", "A", "B"],
            "indicateur": ["t"] * 4,
            "annee": [2010, 2010, 2011, 2011],
            "valeur": [10.0, 30.0, 20.0, np.nan],
            "numerateur": [10.0, 90.0, 20.0, np.nan],
            "denominateur": [100.0, 300.0, 100.0, np.nan],
            "secret": [False, False, False, True],
        }
    )
    out = trends.pooled_series(ind, ["A", "B"], "t", "finances").set_index("annee")
    assert out.loc[2010, "valeur"] == pytest.approx(25.0)  # 100 / 400, not the mean 20
    assert out.loc[2010, "n_quartiers"] == 2
    assert out.loc[2011, "valeur"] == pytest.approx(20.0)  # the secret cell is left out
    assert out.loc[2010, "ic_bas"] < 25 < out.loc[2010, "ic_haut"]


# --- means, actions, escaping -----------------------------------------------------------------


def test_credits_to_associations_and_sentence(riche):
    terr, r = riche
    ops = terr.operateurs
    assoc = set(ops.loc[ops["statut_juridique"] == "association", "id_operateur"])
    ids = set(terr.actions.loc[terr.actions["id_operateur"].isin(assoc), "id_action"])
    f = terr.financements
    expected = f.loc[(f["type_credit"] == "specifique") & f["id_action"].isin(ids), "montant_accorde"].sum()
    assert r.credits_associations == pytest.approx(expected)
    assert len(r.actions) == len(ids)
    assert text.euros(expected) in r.constats[0]
    top = r.actions_significatives
    assert len(top) == q2.N_ACTIONS
    assert top["credits_specifiques"].is_monotonic_decreasing
    assert top["credits_specifiques"].iloc[0] == pytest.approx(r.actions["credits_specifiques"].max())


def test_association_actions_on_hand_made_tables():
    actions = pd.DataFrame(
        {
            "id_action": ["A1", "A1", "A2"],
            "annee": [2010, 2011, 2010],
            "intitule": ["Ancien titre", "Soutien scolaire", "Régie"],
            "thematique": ["education", "education", "emploi"],
            "dispositif": ["CLAS", "CLAS", "autre"],
            "id_operateur": ["O1", "O1", "O2"],
            "code_quartier": ["Q1", "Q1", None],
            "public_cible": ["Enfants", "Enfants", "Adultes"],
            "objectif": ["Réussite", "Réussite", "Emploi"],
            "beneficiaires_prevus": [20, 30, 50],
            "beneficiaires_realises": [15, 0, 40],
            "statut": ["réalisée", "abandonnée", "réalisée"],
        }
    )
    fin = pd.DataFrame(
        {
            "id_action": ["A1", "A1", "A1", "A2"],
            "annee": [2010, 2011, 2010, 2010],
            "type_credit": ["specifique", "specifique", "droit_commun", "specifique"],
            "montant_accorde": [1000.0, 500.0, 700.0, 9000.0],
        }
    )
    ops = pd.DataFrame(
        {
            "id_operateur": ["O1", "O2"],
            "nom": ["Asso", "Entreprise"],
            "statut_juridique": ["association", "entreprise"],
        }
    )
    terr = types.SimpleNamespace(
        actions=actions,
        financements=fin,
        operateurs=ops,
        dataset=types.SimpleNamespace(tables={"operateurs": ops}),
        quartiers=pd.DataFrame({"code_quartier": ["Q1"], "nom": ["Les Pins"]}),
    )
    out = q2.association_actions(terr)
    assert out["id_action"].tolist() == ["A1"]  # the company's action is not an association's
    row = out.iloc[0]
    assert row["intitule"] == "Soutien scolaire"  # last declared title
    assert (
        row["quartier"] == "Les Pins" and row["thematique"] == "Éducation" and row["periode"] == "2010-2011"
    )
    assert row["credits_specifiques"] == 1500.0 and row["cofinancements"] == 700.0
    # Beneficiaries over the achieved year only: 15 of 20.
    assert row["beneficiaires_prevus"] == 20 and row["beneficiaires_realises"] == 15
    assert row["taux_realisation"] == pytest.approx(0.75)
    assert row["cout_par_beneficiaire"] == pytest.approx(100.0)
    hidden = q2_tables._secret(out, ["beneficiaires_prevus", "beneficiaires_realises"], 16)
    assert bool(hidden["beneficiaires_realises_secret"].iloc[0]) and np.isnan(
        hidden["beneficiaires_realises"].iloc[0]
    )
    assert np.isnan(hidden["taux_realisation"].iloc[0])  # a rate on a secret count is hidden too


def test_script_title_is_shown_as_text(demo_hostile):
    # The committed demo has no hostile title: the conftest fixture injects it into a copy.
    import matplotlib

    matplotlib.use("Agg")
    from cucs_analysis.data import dataset as load
    from cucs_analysis.pipeline import params

    data, _ = demo_hostile
    p = params.load_params("20001", ROOT)
    r = q2.build(load.load_territory(data, "20001"), region_of(data, p), p)
    vue = q2.vue_actions(r)
    assert SCRIPT_TITLE in vue["Action"].tolist()
    html = display.tableau(vue).fragment
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Atelier « théâtre »" in html
    assert "<script>" not in display.liste(r.constats).fragment


# --- surveys and secrecy ------------------------------------------------------------------------


def test_survey_shares_and_intervals(riche):
    terr, r = riche
    s = r.enquetes
    e = terr.enquetes[terr.enquetes["code_quartier"].isin(terr.quartiers["code_quartier"])]
    sel = e[
        (e["type_repondant"] == "habitant")
        & (e["question"] == q2.QUESTION_AMELIORATION)
        & (e["annee"] == 2013)
    ]
    row = s[
        (s["type_repondant"] == "habitant")
        & (s["question"] == q2.QUESTION_AMELIORATION)
        & (s["annee"] == 2013)
    ]
    assert row["n"].iloc[0] == len(sel)
    assert row["accord"].iloc[0] == pytest.approx(100 * sel["reponse"].isin([4, 5]).mean())
    assert row["ic_bas"].iloc[0] < row["accord"].iloc[0] < row["ic_haut"].iloc[0]
    share = text.pourcentage(row["accord"].iloc[0])  # one decimal, as in the table
    assert any(share + " des habitants" in p for p in r.phrases_enquetes)
    assert not s["secret"].any()


def test_small_survey_groups_are_secret():
    terr, r = _build("20005")  # two quartiers: fewer than 11 operators or partners per statement
    s = r.enquetes
    assert s.loc[s["type_repondant"] == "opérateur", "secret"].all()
    assert s.loc[s["secret"], ["n", "accord", "ic_bas", "ic_haut"]].isna().all().all()
    vue = q2.vue_enquetes(r)
    assert (vue["Réponses"] == text.SECRET).any()
    assert vue.loc[vue["Réponses"] == text.SECRET, ["D'accord", "IC à 95 % : borne basse"]].isna().all().all()
    privacy.check_no_small_counts(vue, r.seuil_secret, columns=["Réponses"])
    assert set(r.reponses["type_repondant"]) == {"habitant"}  # the figure never uses secret groups
    assert any("secret statistique" in p for p in r.phrases_enquetes)


def test_survey_table_on_a_hand_made_frame():
    rows = [("habitant", 5)] * 8 + [("habitant", 1)] * 4 + [("partenaire", 4)] * 3
    e = pd.DataFrame(
        {
            "type_repondant": [t for t, _ in rows],
            "code_quartier": "Q1",
            "question": "Q",
            "reponse": [v for _, v in rows],
            "annee": 2013,
        }
    )
    terr = types.SimpleNamespace(enquetes=e, quartiers=pd.DataFrame({"code_quartier": ["Q1"]}))
    s = q2.survey_table(terr, 11).set_index("type_repondant")
    assert s.loc["habitant", "n"] == 12
    assert s.loc["habitant", "accord"] == pytest.approx(100 * 8 / 12)
    assert s.loc["habitant", "desaccord"] == pytest.approx(100 * 4 / 12)
    assert bool(s.loc["partenaire", "secret"]) and np.isnan(s.loc["partenaire", "accord"])


# --- contribution analysis --------------------------------------------------------------------------


def test_workshop_caveat_quoted_and_answered(riche):
    _, r = riche
    assert "« Comment prouver qu'une amélioration est due à une action ? »" in r.reponse_atelier[0]
    assert "analyse de contribution" in r.reponse_atelier[1]
    assert "pas une preuve" in r.reponse_atelier[2]
    c = r.contribution.set_index("etape")["lecture"]
    assert set(c) <= set(q2.LECTURES)
    assert c.iloc[0] == "concordant"  # means were allocated
    assert c.iloc[3] == "partiel"  # unemployment yes, poverty no
    assert c.iloc[-1] == "non établi"  # rival explanations are never ruled out by the data alone


# --- non-signatory commune -----------------------------------------------------------------------


def test_non_signatory_commune_gives_empty_lists_and_unavailable_sections(sans_actions):
    _, r = sans_actions
    res = r.resultats()
    assert res["ecarts"] == []
    assert len(res["did"]) == 2  # the region-wide estimate is still shown
    assert r.actions.empty and r.actions_significatives.empty and r.enquetes.empty
    assert "n'a pas signé de CUCS" in r.constats[0] and "(hors CUCS)" in r.constats[0]
    for fig in (
        q2.figure_actions(r),
        q2.figure_tendances(r, "taux_chomage"),
        q2.figure_ecarts(r, "taux_chomage"),
    ):
        assert fig is None
    assert q2.figure_enquetes(r) is None
    html = display.figure(q2.figure_actions(r), "actions associatives financées dans la commune").fragment
    assert "Données non disponibles : actions associatives financées dans la commune." in html
    for vue in (q2.vue_actions, q2.vue_publics, q2.vue_bilans, q2.vue_ecarts, q2.vue_enquetes):
        assert vue(r).empty
    assert q2.figures_tendances(r) == [] and q2.figures_ecarts(r) == []
    html = display.tableau(q2.vue_actions(r)).fragment
    assert "Hors CUCS : aucune action associative" in html and "Données non disponibles" not in html
    assert (r.contribution["lecture"].iloc[:3] == "hors CUCS").all()
    assert "seule la tendance régionale" in r.reponse_atelier[2] and "hors CUCS" in r.reponse_atelier[2]


def test_figures_have_french_alt_text(riche):
    from cucs_analysis.present import plots

    _, r = riche
    figs = [
        q2.figure_actions(r),
        q2.figure_tendances(r, "taux_chomage"),
        q2.figure_ecarts(r, "taux_chomage"),
        q2.figure_etude_evenement(r, "taux_chomage"),
        q2.figure_enquetes(r),
    ]
    import matplotlib.pyplot as plt

    try:
        for fig in figs:
            assert fig is not None
            alt = plots.get_alt(fig)
            assert alt and ("Valbrune-sur-Lèze" in alt or "région" in alt)
        assert r.actions_significatives["intitule"].iloc[0] in plots.get_alt(figs[0])
        assert "2014 : −2,1 points" in plain(plots.get_alt(figs[3]))
    finally:
        for fig in figs:
            plt.close(fig)


# --- the notebook through the runner ---------------------------------------------------------------


@pytest.mark.slow
def test_notebook_runs_for_a_rich_and_a_non_signatory_commune(demo_run, truth):
    tmp_path = demo_run  # the shared run of q1, q2 and q4 (conftest.py)
    for code in ("20001", "20012"):
        res = json.loads((tmp_path / "results" / code / "q2.json").read_text(encoding="utf-8"))
        assert res["question"] == "q2" and res["code_commune"] == code
        assert {"did", "ecarts", "constats", "reserves", "chiffres_cles"} <= set(res)
        chom = next(d for d in res["did"] if d["indicateur"] == "taux_chomage")
        assert chom["ic_bas"] <= truth["did"][0]["effet"] <= chom["ic_haut"] < 0
    assert (
        json.loads((tmp_path / "results" / "20012" / "q2.json").read_text(encoding="utf-8"))["ecarts"] == []
    )
    assert (
        len(json.loads((tmp_path / "results" / "20001" / "q2.json").read_text(encoding="utf-8"))["ecarts"])
        == 8
    )


def test_views_hold_numbers_for_the_analyst(riche):
    _, r = riche
    t = r.tables
    assert {"actions", "did", "ecarts", "enquetes", "publics"} <= set(t)
    assert pd.api.types.is_float_dtype(t["actions"]["Crédits spécifiques"])
    assert pd.api.types.is_float_dtype(t["did"]["Écart d'évolution estimé (région)"])
    assert t["did"].attrs["unites"]["Écart d'évolution estimé (région)"] == "points"
    # an amount per inhabitant keeps its unit and its decimal on the page
    html = display.tableau(q2.vue_intensite(r)).fragment
    first = r.intensite["intensite_moyenne"].iloc[0]
    assert f">{text.euros(first, 1)}<" in html and "\u00a0€<" in html
    # the same numbers as the report's own frame, not formatted strings
    assert t["actions"]["Crédits spécifiques"].sum() == pytest.approx(
        r.actions_significatives["credits_specifiques"].sum()
    )
