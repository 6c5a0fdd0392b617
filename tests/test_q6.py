"""q6 (opérateurs): the report recovers the planted truths of the demo (recomputed here in plain
pandas from the CSV files and compared with truth.json), reads correctly for a rich commune, a
signatory with missing tables (20008) and a non-signatory (20010), and keeps its counts secret."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import region_of

from cucs_analysis.analysis import motifs, privacy
from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params
from cucs_analysis.present import plots, text
from cucs_analysis.reports import q6, region

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
TRUTH = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))
COMMUNES = pd.read_csv(DEMO / "communes.csv", dtype=str)
SIGNATAIRES = COMMUNES.loc[COMMUNES["signataire_cucs"] == "oui", "code_commune"].tolist()
NON_SIGNATAIRES = COMMUNES.loc[COMMUNES["signataire_cucs"] != "oui", "code_commune"].tolist()
NOTEBOOK = ROOT / "notebooks" / "q6_operateurs.ipynb"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def _params(code: str, overrides: dict | None = None):
    return params.load_params(code, ROOT, overrides)


def _report(code: str, overrides: dict | None = None, territoire=None):
    p = _params(code, overrides)
    t = territoire if territoire is not None else load.load_territory(DEMO, code)
    return q6.build(t, region_of(DEMO, p), p)


def _actions() -> pd.DataFrame:
    return pd.read_csv(DEMO / "actions.csv", dtype={"code_commune": str})


# --- planted truths ---------------------------------------------------------------------------------


def _plain_underperformers(code: str, seuil: float, min_annees: int) -> list[str]:
    a = _actions()
    done = a[(a["code_commune"] == code) & (a["statut"] == "réalisée")]
    g = done.groupby("id_operateur").agg(
        n=("id_action", "size"), r=("beneficiaires_realises", "sum"), p=("beneficiaires_prevus", "sum")
    )
    g = g[g["n"] >= min_annees]
    return sorted(g.index[g["r"] / g["p"] < seuil])


def test_underperforming_operators_recover_the_planted_truth():
    p = _params("20001")
    union = set()
    for code in SIGNATAIRES:
        got = _report(code).resultats()["sous_performants"]
        assert got == _plain_underperformers(
            code, p.operateurs.seuil_realisation, p.operateurs.min_annees_realisees
        ), code
        union |= set(got)
    assert sorted(union) == TRUTH["operateurs_sous_performants"]
    assert union, "the demo plants under-performing operators"


def test_underperformers_follow_the_threshold():
    strict = _report("20004", {"operateurs": {"seuil_realisation": 0.4}}).resultats()["sous_performants"]
    assert strict == _plain_underperformers("20004", 0.4, 3) == []
    assert _report("20004").resultats()["sous_performants"]


def test_unfilled_priority_actions_recover_the_planted_truth():
    a = _actions()
    for code in SIGNATAIRES:
        res = _report(code).resultats()
        plain = a[(a["code_commune"] == code) & (a["prioritaire"] == "oui") & (a["statut"] == "non pourvue")]
        assert (
            res["actions_non_pourvues"] == plain["id_action"].nunique() == TRUTH["actions_non_pourvues"][code]
        )
        assert sorted(x["id_action"] for x in res["actions_non_pourvues_liste"]) == sorted(
            plain["id_action"].unique()
        )
        assert res["actions_non_pourvues_motif"] is None


def _plain_models() -> dict:
    """Both axes per signatory commune, recomputed from the CSV files."""
    ins = pd.read_csv(DEMO / "instances.csv", dtype={"code_commune": str})
    a = _actions()
    out = {}
    for code in SIGNATAIRES:
        t = ins.loc[ins["code_commune"] == code, "type"]
        coll = t.isin(["réunion collective de travail", "groupe thématique"]).sum()
        cons = (t == "réunion de consignes").sum()
        first = a[a["code_commune"] == code].groupby("id_action")["annee"].min()
        share = (first >= 2007 + 2).mean()
        out[code] = {
            "axe_descendant_participatif": None
            if coll + cons == 0
            else ("participatif" if coll / (coll + cons) >= 0.5 else "descendant"),
            "axe_fige_adaptable": "adaptable" if share >= 0.25 else "fige",
        }
    return out


def test_steering_model_recovers_the_planted_truth():
    plain = _plain_models()
    for code in SIGNATAIRES:
        m = _report(code).resultats()["modele_pilotage"]
        truth = TRUTH["modele_pilotage"][code]
        got = {k: m[k] for k in ("axe_descendant_participatif", "axe_fige_adaptable")}
        assert got == plain[code], code
        expected = {k: (None if v == "indetermine" else v) for k, v in truth.items()}
        assert got == expected, code
        if truth["axe_descendant_participatif"] == "indetermine":
            assert m["motif_descendant_participatif"] == motifs.DONNEE_ABSENTE
            assert m["reunions_collectives"] is None  # not a measured zero
    assert TRUTH["modele_pilotage"]["20008"]["axe_descendant_participatif"] == "indetermine"


def test_region_stage_holds_every_communes_model():
    p = _params("20001")
    modeles = region.pilotage_region(load.load_dataset(DEMO).tables, p).set_index("code_commune")
    assert set(modeles.index) == set(COMMUNES["code_commune"])
    for code, truth in TRUTH["modele_pilotage"].items():
        for axe, v in truth.items():
            got = modeles.loc[code, f"axe_{axe.removeprefix('axe_')}"]
            assert got == (None if v == "indetermine" else v), (code, axe)
    for code in NON_SIGNATAIRES:
        assert modeles.loc[code, "motif_descendant_participatif"] == motifs.HORS_CUCS
        assert modeles.loc[code, "motif_fige_adaptable"] == motifs.HORS_CUCS
    assert region_of(DEMO, p).modeles_pilotage.equals(
        region.pilotage_region(load.load_dataset(DEMO).tables, p)
    )


# --- the three states ---------------------------------------------------------------------------------


def _headings() -> list[str]:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return [
        line[3:].strip()
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("## ")
    ]


def test_rich_commune_reads_and_links_its_verdict():
    r = _report("20001")
    res = r.resultats()
    v = res["verdict"]
    assert v["motif"] is None and v["section"] in _headings()
    assert "participatif" in v["texte"] and "adaptable" in v["texte"]
    n = TRUTH["actions_non_pourvues"]["20001"]
    assert f"{n} actions prioritaires jamais réalisées" in v["texte"]
    ins = pd.read_csv(DEMO / "instances.csv", dtype={"code_commune": str}).query("code_commune == '20001'")
    coll = int(ins["type"].isin(["réunion collective de travail", "groupe thématique"]).sum())
    base = coll + int((ins["type"] == "réunion de consignes").sum())
    base_txt = f"({text.nombre(coll)} sur {text.nombre(base)})"
    assert any(c.startswith("Pilotage participatif : ") and base_txt in c for c in r.texte("pilotage"))
    assert any(
        "règle : participatif quand" in c and text.pourcentage(50, 0) in c for c in r.texte("pilotage")
    )
    assert any("l'évaluation de la procédure ne peut s'envisager" in x for x in r.reserves)
    ids = {c["id"] for c in r.chiffres_cles}
    assert {"operateurs_sous_performants", "actions_non_pourvues", "part_reunions_collectives"} <= ids
    assert all(c["valeur"] is not None for c in r.chiffres_cles)


def test_partial_commune_says_data_not_available_for_the_missing_axis():
    r = _report("20008")
    res = r.resultats()
    m = res["modele_pilotage"]
    assert (
        m["axe_descendant_participatif"] is None
        and m["motif_descendant_participatif"] == motifs.DONNEE_ABSENTE
    )
    assert m["axe_fige_adaptable"] == "fige" and m["part_adaptable"] == 0  # a measured zero
    assert "données non disponibles" in res["verdict"]["texte"]
    cle = {c["id"]: c for c in r.chiffres_cles}["part_reunions_collectives"]
    assert cle["valeur"] is None and cle["motif"] == motifs.DONNEE_ABSENTE
    assert q6.vue_reunions(r).attrs["motif"] == motifs.DONNEE_ABSENTE
    assert q6.figure_modele(r) is not None  # the others are shown; the commune's absence is said
    assert "n'y figure pas" in plots.get_alt(q6.figure_modele(r))
    assert res["sous_performants"] == _plain_underperformers("20008", 0.7, 3)


@pytest.mark.parametrize("code", ["20010"])
def test_non_signatory_is_hors_cucs(code):
    r = _report(code)
    res = r.resultats()
    assert res["verdict"]["motif"] == motifs.HORS_CUCS and "hors CUCS" in res["verdict"]["texte"]
    assert res["sous_performants"] is None and res["sous_performants_motif"] == motifs.HORS_CUCS
    assert res["actions_non_pourvues"] is None and res["actions_non_pourvues_motif"] == motifs.HORS_CUCS
    m = res["modele_pilotage"]
    assert m["axe_descendant_participatif"] is None and m["motif_fige_adaptable"] == motifs.HORS_CUCS
    assert m["reunions_collectives"] is None and m["actions"] is None
    assert all(c["valeur"] is None and c["motif"] == motifs.HORS_CUCS for c in r.chiffres_cles)
    for section in q6.OBJETS_SECTIONS:
        assert r.texte(section)[0].startswith("Hors CUCS : ")
    for name, v in r.tables.items():
        assert v.empty and v.attrs.get("motif") == motifs.HORS_CUCS, name
    assert "n'a pas signé de CUCS" in r.constats[0]


# --- secrecy, views, figures ------------------------------------------------------------------------------


def test_small_beneficiary_counts_are_hidden_with_their_rate():
    t = load.load_territory(DEMO, "20004")
    a = t.actions.copy()
    done = a[a["statut"] == "réalisée"]
    counts = done.groupby("id_operateur").size()
    op = counts[counts >= 3].sort_values().index[0]  # a judged operator with few action-years
    assert counts[op] < 11
    rows = a["id_operateur"] == op
    a.loc[rows, "beneficiaires_prevus"] = 1  # its beneficiaries now total fewer than 11
    a.loc[rows, "beneficiaires_realises"] = 1
    r = _report("20004", territoire=dataclasses.replace(t, actions=a))
    v = q6.vue_performance(r)
    nom = r.performance.set_index("id_operateur").loc[op, "nom"]
    row = v[v["Opérateur"] == nom].iloc[0]
    for col in ("Bénéficiaires prévus (actions réalisées)", "Bénéficiaires réalisés", "Taux de réalisation"):
        assert row[col] == privacy.SECRET, col
    assert row["Actions-années réalisées"] == counts[op]  # action-years are not people: published
    alt = plots.get_alt(q6.figure_performance(r))
    assert text.de(r.nom_commune) in alt and nom not in alt


def test_statement_counts_under_the_threshold_are_never_published():
    for code in ("20001", "20004"):
        r = _report(code)
        for name in ("bilans_themes", "bilans_sous_performants"):
            v = q6.__dict__[f"vue_{name}"](r)
            nums = pd.to_numeric(v.drop(columns=["Thème"]).stack(), errors="coerce").dropna()
            assert not ((nums > 0) & (nums < r.seuil_secret)).any(), (code, name)


def test_views_hold_numbers_and_figures_have_french_alt_text():
    r = _report("20004")
    t = r.tables
    assert {"performance", "non_pourvues", "modeles", "reunions", "renouvellement", "survie"} <= set(t)
    assert pd.api.types.is_numeric_dtype(t["reunions"]["Réunions"])
    assert t["modeles"]["Commune"].iloc[0] == r.nom_commune
    assert len(t["non_pourvues"]) == TRUTH["actions_non_pourvues"]["20004"]
    assert not t["renouvellement"].empty
    for f in (q6.figure_performance, q6.figure_domaines_echelles, q6.carte_operateurs, q6.figure_modele):
        fig = f(r)
        assert fig is not None and "." in plots.get_alt(fig), f.__name__
    renouv = r.renouvellement_periodes
    assert set(renouv["classe"]) <= {"petite", "moyenne", "grande", "inconnue"}
    assert renouv["petite_base"].dtype == bool


def test_report_builds_in_well_under_a_second():
    p = _params("20001")
    reg = region_of(DEMO, p)
    t = load.load_territory(DEMO, "20001")
    q6.build(t, reg, p)
    start = time.perf_counter()
    q6.build(t, reg, p)
    assert time.perf_counter() - start < 1.0


# --- the notebook -----------------------------------------------------------------------------------------


def test_notebook_follows_the_idiom():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    heads = _headings()
    assert heads[0] == "En bref" and heads[-2:] == ["Ce que les chiffres ne disent pas", "Sources et méthode"]
    assert set(q6.SECTIONS.values()) <= set(heads)
    title = nb.cells[0].source
    from cucs_analysis.reports import questions

    assert questions.get("q6").question in title and questions.get("q6").groupe in title
    assert "parameters" in nb.cells[1].metadata.get("tags", [])
    assert nb.cells[-1].source.strip() == "ctx.ecrire_resultats(r)"
    assert "q6.build(ctx.territoire, ctx.region, ctx.params)" in nb.cells[2].source
    assert np.all([c.source.count("\n") == 0 for c in nb.cells[3:] if c.cell_type == "code"])
