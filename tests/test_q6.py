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
        assert r.texte(section) == [] and r.vide_texte(section, "x").startswith("Hors CUCS : ")
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


# --- fix 10: the proof-reader's findings -------------------------------------------------------------


def _first_years(code: str) -> pd.Series:
    a = _actions()
    return a[a["code_commune"] == code].groupby("id_action")["annee"].min()


@pytest.mark.parametrize("code", ["20001", "20008"])
def test_adaptable_axis_says_what_it_counts_and_points_to_q7(code):
    """H4: « programmée pour la première fois 2 ans ou plus après le début du contrat (2009 ou
    après) », the early actions of the contract counted apart, in sentence, verdict and key figure."""
    p = _params(code)
    r = _report(code)
    a0, dec = int(p.annee_debut_cucs), int(p.pilotage.decalage_annees)
    first = _first_years(code)
    n_new = int((first >= a0 + dec).sum())
    early = first[(first >= a0) & (first < a0 + dec)]
    a = _actions().query("code_commune == @code")
    filled = a[a["statut"] != "non pourvue"]["id_action"].unique()
    never = int((~early.index.isin(filled)).sum())
    s = [
        c for c in r.texte("pilotage") if c.startswith("Pilotage figé") or c.startswith("Pilotage adaptable")
    ]
    assert len(s) == 1
    s = s[0]
    assert f"{text.parmi(n_new, len(first), 'action', feminin=True)} " in s
    assert (
        f"pour la première fois {text.pluriel(dec, 'an')} ou plus après le début du contrat ({a0 + dec} ou après)"
        in s
    )
    assert f"{text.aucun(len(early), 'action nouvelle', 'actions nouvelles', feminin=True)} " in s
    assert text.annee_periode(a0, a0 + dec - 1) in s and "Outils de pilotage" in s
    if never:
        assert f"dont {text.nombre(never)} jamais pourvue" in s
    assert "en cours de contrat" not in s and "introduit" not in s
    assert f"programmées pour la première fois en {a0 + dec} ou après" in r.verdict["texte"]
    cle = {c["id"]: c for c in r.chiffres_cles}["part_actions_nouvelles"]
    assert f"en {a0 + dec} ou après" in cle["libelle"] and "cours de contrat" not in cle["libelle"]


def test_small_base_is_flagged_in_each_period_and_a_measured_zero_is_zero():
    """H9: 20001 has no grande association funded before the CUCS: its « avant » base is a measured
    0, and its « pendant » base (3) is small."""
    rp = pd.DataFrame(
        {
            "avant_testable": [True, True, False, True],
            "denominateur_avant": [0.0, 40.0, np.nan, 40.0],
            "denominateur_pendant": [3.0, 40.0, 5.0, 40.0],
        }
    )
    assert q6.petite_base_renouvellement(rp, 30).tolist() == [True, False, True, False]
    rp.loc[3, "denominateur_avant"] = 29
    assert q6.petite_base_renouvellement(rp, 30).iloc[3]
    r = _report("20001")
    p = r.renouvellement_periodes
    assert (p["petite_base"] == ((p["denominateur_avant"] < 30) | (p["denominateur_pendant"] < 30))).all()
    zero = p[p["avant_testable"] & (p["denominateur_avant"] == 0)]
    assert not zero.empty  # the planted case of the proof-reader (grande)
    v = q6.vue_renouvellement(r)
    ligne = v[v.iloc[:, 0].str.startswith("Grande")].iloc[0]
    assert ligne.iloc[1] == 0 and ligne.iloc[2] == 0  # numbers in the view, « 0 » on the page
    assert ligne.iloc[3].startswith("n.d. (aucune association de cette taille financée en 2005-2006)")
    assert bool(ligne.iloc[-1])
    res = {d["classe"]: d for d in r.resultats()["renouvellement_periodes"]}
    g = res[zero.iloc[0]["classe"]]
    assert g["denominateur_avant"] == 0 and g["valeur_avant"] is None and g["motif"] == motifs.NON_CALCULABLE
    assert g["petite_base"] is True


def test_meetings_are_counted_from_the_minutes_of_the_instances():
    """M1: the source of the meetings is the instances table, with its years."""
    r = _report("20001")
    ins = pd.read_csv(DEMO / "instances.csv", dtype={"code_commune": str}).query("code_commune == '20001'")
    years = pd.to_datetime(ins["date"]).dt.year
    debut = f"Les comptes rendus d'instances recensent {text.pluriel(len(ins), 'réunion')} "
    debut += f"({text.annee_periode(int(years.min()), int(years.max()))})"
    assert any(c.startswith(debut) for c in r.texte("pilotage"))
    assert not any("Les bilans consignent" in c for c in r.constats)


def test_operators_under_the_threshold_are_counted_not_named_in_the_en_bref():
    """M2, M3: the En bref counts; the names are in the section's table (« en dessous du seuil de
    réalisation de 70 % »); the granted share comes with its amounts and no causal reading."""
    r = _report("20004")
    sous = r.performance[r.performance["sous_performant"].fillna(False).astype(bool)]
    assert len(sous) >= 1
    for nom in sous["nom"]:
        assert not any(nom in c for c in r.constats), nom
        assert not any(nom in c for c in r.debat), nom
    assert not any("sous-performant" in c for c in [*r.constats, *r.debat, r.verdict["texte"]])
    n, j = len(sous), len(r.juges)
    assert any(c.startswith(text.parmi(n, j, "opérateur jugé", "opérateurs jugés")) for c in r.constats)
    v = q6.vue_performance(r)
    col = f"En dessous du seuil de réalisation de {text.pourcentage(70, 0)}"
    assert col in v.columns and set(v.loc[v[col] == "oui", "Opérateur"]) == set(sous["nom"])
    m = r.performance[r.performance["montant_demande"].fillna(0) > 0]
    ms = m[m["id_operateur"].isin(r.sous_performants)]
    acc, dem = ms["montant_accorde"].sum(), ms["montant_demande"].sum()
    phrase = [c for c in r.constats if "sous le seuil obtien" in c]
    assert len(phrase) == 1
    assert f"({text.euros(acc)} sur {text.euros(dem)})" in phrase[0]
    assert "s'explique" not in phrase[0] and "cause" not in phrase[0]


def test_theme_ranking_counts_difficulties_blockages_and_explained_gaps_only():
    """M14: the sentence says which categories rank the themes, and its order is theirs."""
    r = _report("20001")
    b = pd.read_csv(DEMO / "bilans.csv")
    a = _actions().query("code_commune == '20001'")[["id_action", "annee"]].drop_duplicates()
    b = b.merge(a, on=["id_action", "annee"])
    b = b[b["categorie"].isin(["difficulté", "blocage", "écart expliqué"])]
    top = b["theme"].value_counts()
    top = top.sort_values(ascending=False, kind="stable").head(3).index.tolist()
    s = [c for c in r.texte("ecarts") if c.startswith("Parmi les difficultés, blocages et écarts expliqués")]
    assert len(s) == 1 and "les réussites sont comptées à part" in s[0]
    assert text.liste_fr([f"« {t} »" for t in top]) in s[0]
    assert q6.vue_bilans_themes(r).iloc[0, 0].lower() == top[0].lower()


def test_non_signatory_page_says_one_thing_per_section_and_the_notebook_places_no_one():
    """M23: no sentence placing a non-signatory among the signatories."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any("placée parmi" in c.source for c in nb.cells if c.cell_type == "markdown")
    r = _report("20010")
    pilotage = r.vide_texte("pilotage", "Données non disponibles : réunions.")
    assert pilotage == "Hors CUCS : Esterbourg n'a pas de modèle de pilotage du CUCS à situer."
    # one sentence per section: the list's « vide », no section sentence before it
    assert all(r.texte(s) == [] for s in q6.OBJETS_SECTIONS)
    r1 = _report("20001")
    assert (
        r1.vide_texte("pilotage", "Données non disponibles : réunions.")
        == "Données non disponibles : réunions."
    )
    assert any("placent la commune parmi" in c for c in r1.texte("pilotage"))
    cells = [c.source for c in nb.cells if c.cell_type == "code" and c.source.startswith("d.liste(r.texte(")]
    assert len(cells) == len(q6.OBJETS_SECTIONS) and all("vide=r.vide_texte(" in c for c in cells)


def test_wording_of_shares_models_and_alt_text():
    """L10, L11: « Les 11 … le sont toutes », the communes sharing the model are named, the alt text
    says which signatory is missing from the scatter and why."""
    assert (
        q6.phrase_encore_financees(11, 11, 2014)
        == "Les 11 petites associations financées le sont toutes encore en 2014"
    )
    assert (
        q6.phrase_encore_financees(4, 5, 2014)
        == "4 petites associations financées sur 5 le sont encore en 2014"
    )
    assert q6.phrase_encore_financees(0, 3, 2014).startswith("Aucune des 3")
    r = _report("20001")
    m = r.modeles.set_index("code_commune")
    ici = m.loc["20001"]
    same = m[
        m["signataire"].astype(bool)
        & (m.index != "20001")
        & (m["axe_descendant_participatif"] == ici["axe_descendant_participatif"])
        & (m["axe_fige_adaptable"] == ici["axe_fige_adaptable"])
    ]
    s = [c for c in r.constats if "partage ce modèle" in c or "partagent ce modèle" in c]
    assert len(s) == 1 and all(str(n) in s[0] for n in same["nom"])
    alt = plots.get_alt(q6.figure_modele(r))
    sig = m[m["signataire"].astype(bool)]
    absent = sig[sig["part_participatif"].isna() | sig["part_adaptable"].isna()]
    assert f"{len(sig) - len(absent)} des {len(sig)} communes signataires placées" in alt
    for nom in absent["nom"]:
        assert f"{nom} non placée (réunions non disponibles)" in alt
    assert "10,0" not in q6.vue_survie(r).to_string()  # whole medians are written « 10 »


def test_partial_commune_first_key_figure_is_a_result():
    """H13-style: the first key figure of 20008 exists (the page has results)."""
    r = _report("20008")
    first = r.chiffres_cles[0]
    assert first["valeur"] is not None and "motif" not in first


def test_downloads_name_every_list_and_label_every_code():
    """M17, M18: a French title for each list-valued results key; labels for famille and classe."""
    res = _report("20001").resultats()
    listes = {
        k
        for k, v in res.items()
        if isinstance(v, list) and k not in ("chiffres_cles", "constats", "reserves", "debat")
    }
    assert listes <= set(res["libelles_tables"]), listes - set(res["libelles_tables"])
    codes = res["libelles_codes"]
    assert {x["famille"] for x in res["reunions"]} <= set(codes["famille"])
    assert {x["classe"] for x in res["renouvellement_periodes"]} <= set(codes["classe"])
    assert all(v and v[0].isupper() for v in codes["famille"].values())
