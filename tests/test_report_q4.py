"""q4 (implication des partenaires): steering bodies, co-funding and mainstream mobilised agree
with plain pandas on the demo CSVs, the views hold numbers, missing tables give "non
disponible" paths, and the notebook runs end to end through the runner."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params
from cucs_analysis.present import display, plots
from cucs_analysis.reports import programme, q4

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def _report(code: str, overrides: dict | None = None):
    return q4.build(load.load_territory(DEMO, code), params.load_params(code, ROOT, overrides))


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DEMO / f"{name}.csv", dtype={"code_commune": str, "code_territoire": str})


def _fr1(x: float) -> str:
    return f"{x:.1f}".replace(".", ",")


def _commune_funding(code: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    act = _csv("actions")
    act = act[act["code_commune"] == code]
    fin = _csv("financements")
    return act, fin[fin["id_action"].isin(set(act["id_action"]))]


def test_instances_match_plain_pandas():
    r = _report("20001")
    inst = _csv("instances")
    inst = inst[inst["code_commune"] == "20001"]
    expected = inst["type"].value_counts().to_dict()
    got = {i["type"]: i["nombre"] for i in r.resultats()["instances"]}
    assert got == expected
    assert any(
        c.startswith(f"Les comptes rendus d'instances recensent {len(inst)} réunions d'instances")
        for c in r.constats
    )
    # presence of the région, as a share of the commune's meetings
    present = inst["institutions"].str.split(";").apply(lambda xs: "région" in xs)
    assert any(f"la région {_fr1(100 * present.mean())}{NBSP}%" in c for c in r.texte("instances"))
    # meetings with two institutions or more
    multi = inst["institutions"].str.split(";").apply(lambda xs: len(set(xs)) >= 2)
    share = r.instances_annee["part_interinstitutionnelles"]
    n = r.instances_annee["nombre"]
    assert (share * n).sum() == multi.sum()


def test_cofunding_matches_plain_pandas():
    r = _report("20001")
    _, fin = _commune_funding("20001")
    fin = fin[fin["montant_accorde"] > 0]
    per = fin.groupby(["id_action", "annee"])["institution"].nunique()
    co = r.resultats()["cofinancement"]
    assert co["part_actions_cofinancees"] == pytest.approx((per >= 2).mean())
    by_inst = fin.groupby("institution").agg(n=("id_action", "nunique"), m=("montant_accorde", "sum"))
    got = {i["institution"]: (i["actions_financees"], i["montant_accorde"]) for i in co["institutions"]}
    assert got == {k: (int(v.n), pytest.approx(v.m)) for k, v in by_inst.iterrows()}
    first = by_inst["m"].idxmax()
    assert first == "État"
    assert any(c.startswith("Le premier financeur des actions est l'État") for c in r.constats)


def test_cofunding_is_partial_and_varies_by_year():
    r = _report("20001")
    co = r.resultats()["cofinancement"]
    # Some action-years are funded by the State alone (specific credits only).
    assert 0.6 <= co["part_actions_cofinancees"] < 0.95
    parts = [y["part"] for y in co["par_annee"]]
    assert max(parts) < 1 and max(parts) - min(parts) >= 0.05
    etat = next(i for i in co["institutions"] if i["institution"] == "État")
    assert etat["actions_cofinancees"] < etat["actions_financees"]


def test_actions_at_stake_follow_the_reprise_parameters():
    truth = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))["actions_enjeu_reprise"]["20001"]
    r = _report("20001")
    assert sorted(r.actions_en_jeu["id_action"]) == truth and truth
    assert any(c.startswith(f"{len(truth)} actions dépendent à 80{NBSP}%") for c in r.texte("reprise"))
    long = _report("20001", {"reprise": {"duree_min_annees": 4, "seuil_specifique": 0.9}})
    assert set(long.actions_en_jeu["id_action"]) < set(truth)
    assert any(
        f"à 90{NBSP}% ou plus des crédits spécifiques depuis au moins 4 ans" in c for c in long.constats
    )


def test_mobilisation_matches_plain_pandas():
    r = _report("20001")
    act, fin = _commune_funding("20001")
    fdc = fin[fin["type_credit"] == "droit_commun"].merge(
        act[["id_action", "annee", "thematique"]], on=["id_action", "annee"]
    )
    on_actions = fdc.groupby(["institution", "thematique"])["montant_accorde"].sum()
    dc = _csv("droit_commun")
    dc = dc[
        (dc["code_territoire"] == "20001") & (dc["mesure"] == "credits") & dc["annee"].between(2005, 2014)
    ]
    territory = dc.groupby(["institution", "domaine"])["valeur"].sum()
    expected = on_actions.rename_axis(["institution", "domaine"]).add(territory, fill_value=0)
    got = {(m["institution"], m["domaine"]): m["montant"] for m in r.resultats()["mobilisation"]}
    assert set(got) == set(expected.index)
    assert [got[k] for k in expected.index] == pytest.approx(expected.tolist())
    # the État funds actions only with specific credits: nothing mobilised "on the actions"
    etat = r.mobilisation[r.mobilisation["institution"] == "État"]
    assert etat["montant_actions"].sum() == 0
    assert any("L'État ne mobilise aucun crédit de droit commun en" in c for c in r.texte("mobilisation"))


def test_figures_have_french_alt_text():
    r = _report("20001")
    for f in (q4.figure_instances, q4.figure_presence, q4.figure_cofinancement, q4.figure_mobilisation):
        fig = f(r)
        assert fig is not None, f.__name__
        assert "Valbrune-sur-Lèze" in plots.get_alt(fig)


def test_commune_without_instances_says_so():
    r = _report("20008")
    res = r.resultats()
    assert res["instances"] == [] and res["instances_motif"] == "donnee_absente"
    assert res["cofinancement"]["part_actions_cofinancees"] is not None
    assert q4.figure_instances(r) is None and q4.figure_presence(r) is None
    for vue in (q4.vue_instances_type, q4.vue_instances_annee):
        assert vue(r).empty and vue(r).attrs["vide"].endswith("pour cette commune")
        assert "hors CUCS" not in vue(r).attrs["vide"]
    assert not q4.vue_cofinancement_institutions(r).empty  # the programme is there
    assert r.texte("instances") == []
    assert any("(données non disponibles)" in x and "réunions" in x for x in r.reserves)


def test_non_signatory_commune_is_hors_cucs():
    r = _report("20012")
    res = r.resultats()
    assert res["instances"] == [] and res["instances_motif"] == "hors_cucs"
    assert res["cofinancement"]["part_actions_cofinancees"] is None
    assert res["cofinancement"]["motif"] == "hors_cucs"
    assert res["mobilisation"] == [] and res["accord_demandes"] == [] and res["bilans_partenaires"] == []
    assert res["verdict"]["motif"] == "hors_cucs"
    assert "hors CUCS" in r.constats[0]
    for f in (q4.figure_instances, q4.figure_presence, q4.figure_cofinancement, q4.figure_mobilisation):
        assert f(r) is None
    for name, vue in r.tables.items():
        assert vue.empty, name  # no meeting and no programme: every view says why
        # the reason leads the sentence, once: « Hors CUCS : <what>. », never « Données non disponibles »
        assert display.tableau(vue).texte == f"Hors CUCS : {vue.attrs['vide']}.", name
        assert "hors CUCS" not in vue.attrs["vide"].lower(), name
    assert set(r.tables) == set(_report("20001").tables)
    assert display.figure(None, r.absence("réunions")).texte == "Hors CUCS : réunions."


def test_views_hold_numbers_for_the_analyst():
    r = _report("20001")
    t = r.tables
    assert set(t) == {
        "instances_type",
        "instances_annee",
        "bilans_partenaires",
        "bilans_exemples",
        "cofinancement_institutions",
        "cofinancement_annee",
        "cofinancement_periodes",
        "montants_periodes",
        "accord_institutions",
        "accord_periodes",
        "mobilisation",
        "actions_en_jeu",
        "actions_substitution",
    }
    for name, vue in t.items():
        assert not vue.empty, name
        for col, unite in vue.attrs["unites"].items():
            if unite == "texte":
                continue
            if name.startswith("bilans_"):  # counts of reports: numbers, or « s » where secret
                assert vue[col].map(lambda v: v == "s" or isinstance(v, int | float)).all(), (name, col)
            else:
                assert pd.api.types.is_numeric_dtype(vue[col]) or unite == "oui_non", (name, col)
    inst = t["cofinancement_institutions"]
    assert pd.api.types.is_float_dtype(inst["Montant accordé (euros courants)"])
    assert inst["Montant accordé (euros courants)"].sum() == pytest.approx(
        r.cofinancement["institutions"]["montant_accorde"].sum()
    )
    assert inst["Institution"].iloc[0] == "État"  # French label, capitalised
    assert t["instances_type"]["Type de réunion"].iloc[0][0].isupper()
    assert t["cofinancement_annee"]["Part cofinancée"].between(0, 1).all()  # fractions, shown as %
    mob = t["mobilisation"]
    assert list(mob.columns[[0, -1]]) == ["Institution", "Total"]
    assert mob["Total"].sum() == pytest.approx(r.mobilisation["montant"].sum())
    assert mob["Total"].tolist() == sorted(mob["Total"], reverse=True)
    # q4 shows q1's tables of the actions at stake
    assert t["actions_en_jeu"]["Action"].tolist() == q4.vue_actions_en_jeu(r)["Action"].tolist()
    assert list(t["actions_en_jeu"].columns) == [h for h, _ in programme.COLONNES_ACTIONS_EN_JEU.values()]


@pytest.mark.slow
def test_notebook_runs_through_the_runner(demo_run):
    tmp_path = demo_run  # the shared run of q1, q2 and q4 (conftest.py)
    for code in ("20001", "20012"):
        res = json.loads((tmp_path / "results" / code / "q4.json").read_text(encoding="utf-8"))
        assert {"instances", "cofinancement", "mobilisation", "constats", "reserves", "chiffres_cles"} <= set(
            res
        )
        assert {"part_actions_cofinancees", "institutions"} <= set(res["cofinancement"])
    rich = json.loads((tmp_path / "results" / "20001" / "q4.json").read_text(encoding="utf-8"))
    inst = _csv("instances")
    assert sum(i["nombre"] for i in rich["instances"]) == (inst["code_commune"] == "20001").sum()
    assert rich["mobilisation"] and all(
        set(m) == {"institution", "domaine", "montant"} for m in rich["mobilisation"]
    )
    page = (tmp_path / "site" / "pages" / "20012" / "q4.html").read_text(encoding="utf-8")
    # outside the CUCS: each section says « hors CUCS » (the page drops the repeats of its tables and figures)
    per_section = [part.count("Données non disponibles") for part in page.split("<h2")]
    assert max(per_section) <= 1, per_section
    assert "Hors CUCS" in page and "0 réunion" not in page
    hors = json.loads((tmp_path / "results" / "20012" / "q4.json").read_text(encoding="utf-8"))
    assert hors["signataire_cucs"] is False and hors["verdict"]["motif"] == "hors_cucs"
    assert all(c["valeur"] is None and c["motif"] == "hors_cucs" for c in hors["chiffres_cles"])
    assert "ctx = demarrer" not in page
    rich = (tmp_path / "site" / "pages" / "20001" / "q4.html").read_text(encoding="utf-8")
    assert "Données non disponibles" not in rich
    assert "<caption>Réunions par type sur la période</caption>" in rich
    assert "<caption>Paramètres utilisés</caption>" in rich
