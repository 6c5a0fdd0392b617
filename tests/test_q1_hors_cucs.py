"""q1 keeps « hors CUCS », « données non disponibles » and a measured zero apart (issue 8,
point 3), and its verdict answers the question with the section that holds the evidence."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from cucs_analysis.analysis import motifs
from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params
from cucs_analysis.present import display
from cucs_analysis.reports import q1

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
COMMUNES = pd.read_csv(DEMO / "communes.csv", dtype=str)
NON_SIGNATAIRES = COMMUNES.loc[COMMUNES["signataire_cucs"] == "non", "code_commune"].tolist()
NOTEBOOK = ROOT / "notebooks" / "q1_droit_commun.ipynb"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def _report(code: str, territoire=None):
    t = territoire if territoire is not None else load.load_territory(DEMO, code)
    return q1.build(t, params.load_params(code, ROOT))


def _headings() -> list[str]:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return [
        line[3:].strip()
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("## ")
    ]


def _everything_said(r) -> str:
    phrases = r.constats + r.reserves + r.debat + [r.verdict["texte"]]
    phrases += [p for s in [*q1.OBJETS_PROGRAMME, "droit_commun", "general"] for p in r.texte(s)]
    return "\n".join(phrases)


def test_non_signatory_communes_are_hors_cucs():
    assert NON_SIGNATAIRES == ["20009", "20010", "20011", "20012"]
    for code in NON_SIGNATAIRES:
        r = _report(code)
        nom = COMMUNES.set_index("code_commune").loc[code, "nom"]
        res = json.loads(json.dumps(r.resultats(), allow_nan=False))
        assert res["verdict"]["motif"] == "hors_cucs" and res["verdict"]["texte"].startswith("Hors CUCS : ")
        assert res["verdict"]["section"] in _headings()
        assert set(res["motifs"].values()) == {"hors_cucs"} and "substitution" in res["motifs"]
        assert res["substitution"] == [] and res["tableau_de_bord"] == [] and res["croisement"] == []
        for c in r.chiffres_cles:  # null with a reason, never 0; the mainstream means are measured
            if c["id"] == "droit_commun_par_habitant":
                assert c["valeur"] > 0 and "motif" not in c
            else:
                assert c["valeur"] is None and c["motif"] == "hors_cucs"
        said = _everything_said(r)
        assert f"{nom} n'a pas signé de CUCS" in said and "(hors CUCS)" in said
        # no figure of the commune reads « n.d. » (only the key of the mainstream table's empty cells)
        assert said.count("n.d.") == said.count("(« n.d. »)")
        assert "pas de programmation CUCS dans les données" not in said
        for section in q1.OBJETS_PROGRAMME:  # every section of the programme says why it is empty
            assert "hors CUCS" in r.texte(section)[0], section
        # the mainstream means of the commune are measured, and shown as a comparison
        assert r.motif_droit_commun is None and not q1.vue_droit_commun(r).empty


def test_a_signatory_without_its_programme_tables_says_data_are_missing():
    t = load.load_territory(DEMO, "20005")
    vide = dataclasses.replace(
        t,
        actions=t.actions.iloc[0:0],
        financements=t.financements.iloc[0:0],
        available={**t.available, "actions": False, "financements": False},
    )
    r = _report("20005", vide)
    res = r.resultats()
    assert r.signataire and r.motif_programme == "donnee_absente"
    assert res["verdict"]["motif"] == "donnee_absente" and res["verdict"]["texte"].startswith(
        "Données non disponibles : "
    )
    assert set(res["motifs"].values()) == {"donnee_absente"}
    assert all(
        c["motif"] == "donnee_absente" for c in r.chiffres_cles if c["id"] != "droit_commun_par_habitant"
    )
    assert "hors CUCS" not in _everything_said(r)
    assert r.texte("dispositifs")[0].startswith(
        "Données non disponibles : le tableau de bord des dispositifs"
    )
    v = q1.vue_tableau_de_bord(r)
    assert v.attrs["motif"] == "donnee_absente" and "table absente des données" in display.tableau(v).texte


def test_a_signatory_without_mainstream_rows_keeps_its_programme():
    t = load.load_territory(DEMO, "20005")
    r = _report("20005", dataclasses.replace(t, droit_commun=t.droit_commun.iloc[0:0]))
    assert r.motif_programme is None and r.motif_droit_commun == "donnee_absente"
    res = r.resultats()
    assert res["motifs"] == {"substitution": "donnee_absente", "croisement": "donnee_absente"}
    assert res["tableau_de_bord"]  # the dashboard does not need the mainstream table
    assert res["verdict"]["motif"] == "donnee_absente"
    durable = next(c for c in r.chiffres_cles if c["id"] == "domaines_substitution_durable")
    assert durable["valeur"] is None and durable["motif"] == "donnee_absente"


def test_verdict_answers_with_its_reason_and_links_to_a_heading():
    r = _report("20001")
    v = r.resultats()["verdict"]
    assert v["motif"] is None and v["section"] in _headings()
    assert v["section"] == q1.SECTIONS["substitution"]
    durables = r.substitution[r.substitution["type"] == "substitution_durable"]
    assert not durables.empty
    for d, debut in zip(durables["domaine"], durables["debut_plus_longue_serie"], strict=True):
        label = q1.libelle_domaine(d)
        assert f"en {label[:1].lower() + label[1:]} depuis {int(debut)}" in v["texte"]
    n = len(r.actions_en_jeu)
    assert v["texte"].startswith("Droit commun : retrait durable ")
    assert f"; {n} actions à reprendre" in v["texte"] and "(en euros constants de 2014)" in v["texte"]


def test_every_section_heading_of_the_report_is_in_the_notebook():
    assert set(q1.SECTIONS.values()) <= set(_headings())


def test_an_unknown_signature_is_never_hors_cucs():
    # Issue 11: an unknown status stays unknown (None). The programme in the data is shown
    # (20001); without one (20010) it is « données non disponibles », never « hors CUCS ».
    for code, programme in (("20001", True), ("20010", False)):
        t = load.load_territory(DEMO, code)
        inconnu = dataclasses.replace(t, commune={**t.commune, "signataire_cucs": None})
        r = _report(code, inconnu)
        assert r.signataire is None
        assert r.motif_programme == (None if programme else motifs.DONNEE_ABSENTE)
        assert "hors CUCS" not in " ".join(r.constats + [r.verdict["texte"]])


@pytest.mark.parametrize("code", ["20001", "20010"])
def test_mainstream_per_inhabitant_recomputed_from_the_csv(code):
    dc = pd.read_csv(DEMO / "droit_commun.csv", dtype={"code_territoire": str})
    dc = dc[
        (dc["code_territoire"] == code)
        & (dc["mesure"] == "credits")
        & (dc["niveau"] == "commune")
        & dc["annee"].between(2007, 2014)
    ]
    pop = float(COMMUNES.set_index("code_commune").loc[code, "population"])
    expected = dc["valeur"].sum() / dc["annee"].nunique() / pop
    r = _report(code)
    c = next(c for c in r.chiffres_cles if c["id"] == "droit_commun_par_habitant")
    assert c["valeur"] == round(expected) and c["unite"] == "€"
    assert "(2007-2014)" in c["libelle"]
    assert any("par habitant et par an" in p for p in r.texte("droit_commun"))
