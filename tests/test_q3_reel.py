"""q3 on the real Occitanie sample (issue 11): imported by `cucs import insee-qpv`, then the
region stage and the q3 report of Toulouse, Montpellier and Perpignan. Nothing the data cannot
support: a rule that cannot be computed is « n.d. » (never « non »), no quartier « entrant hors
CUCS » for an unknown category, each input at its own year, a typology. Expected values are
recomputed from the source files; skipped where ../shared/realdata is absent."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from cucs_analysis.analysis import geography
from cucs_analysis.data import dataset
from cucs_analysis.data.imports import insee_qpv
from cucs_analysis.pipeline import params as P
from cucs_analysis.reports import q3, region
from tests.projet import epci_semeac_tarbes

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
COMMUNES = {"31555": "Toulouse", "34172": "Montpellier", "66136": "Perpignan", "65440": "Tarbes"}


@pytest.fixture(scope="module")
def reel(realdata, tmp_path_factory):
    src = realdata / "hackaviz2021_occitanie_qpv"
    tmp = tmp_path_factory.mktemp("q3reel")
    epci = epci_semeac_tarbes(tmp)
    out = tmp / "donnees"
    insee_qpv.importer(
        src / "qp.csv", contours=src / "qp.geojson", communes=src / "communes.geojson", epci=epci, out=out
    )
    dataset.clear_memo()
    # The demo's parameters: incomes of 2011, ZUS index of 2006, « dynamique » 2005-2014 — years
    # the real file lacks, so every fallback and n.d. path runs.
    p = P.load_params("20001", ROOT)
    reg = region.build(dataset.load_dataset(out), p)
    rapports = {c: q3.build(dataset.load_territory(out, c), reg, p) for c in COMMUNES}
    qp = pd.read_csv(src / "qp.csv", encoding="utf-8-sig", dtype={"code_qp": str})
    return out, p, reg, rapports, qp


def _texts(r) -> list[str]:
    out = [*r.constats, *r.reserves, *r.debat, r.verdict["texte"]]
    for v in r.phrases.values():
        out += v
    return out


@pytest.mark.parametrize("code", list(COMMUNES))
def test_no_non_on_a_rule_that_cannot_be_computed(reel, code):
    out, p, reg, rapports, qp = reel
    r = rapports[code]
    assert (
        len(r.eligibilite)
        == int((qp.set_index("code_qp").index.isin(r.eligibilite["code_quartier"])).sum())
        > 0
    )
    t = q3.tableau_eligibilite(r)
    for regle in q3.REGLES:
        for v, cell in zip(r.eligibilite[regle], t[regle], strict=True):
            if pd.isna(v):
                assert cell.startswith("n.d."), (regle, cell)
    # No national median and no urban-unit values in the file: the income rule cannot run, so
    # it is n.d. everywhere (issue 11: never « non » on the size alone); a quartier under the
    # population minimum (recomputed from the file) gets it as an observation.
    pop = qp.set_index("code_qp")["pop_mun"]
    e = r.eligibilite.set_index("code_quartier")
    assert e["regle_qpv2014"].isna().all()
    petits = {c for c in e.index if pop[c] < p.qpv2014.population_min_quartier}
    observes = {c for c in e.index if geography.TAILLE_QUARTIER in str(e.loc[c, "observations_qpv2014"])}
    assert observes == petits
    for code_q, cell in zip(r.eligibilite["code_quartier"], t["regle_qpv2014"], strict=True):
        assert ("observation" in cell) == (code_q in petits), cell
    assert not any("est calculée" in s for s in _texts(r))
    assert r.seuil_qpv2014 is None
    texts = _texts(r)
    assert not any("n'est éligible" in s or "0 quartier" in s for s in texts)
    assert not any("trois règles" in s and "mêmes quartiers" in s for s in texts)
    cles = {c["id"]: c for c in r.chiffres_cles}
    assert cles["eligibles_qpv2014"]["valeur"] is None  # never « 0 quartier éligible » beside n.d.
    res = r.resultats()
    assert set(res) >= {"eligibilite", "seuil_qpv2014", "typologie"}
    assert all(x["regle_zus"] is None and x["motif_zus"] for x in res["eligibilite"])


@pytest.mark.parametrize("code", list(COMMUNES))
def test_no_entrant_hors_cucs_for_an_unknown_category(reel, code):
    r = reel[3][code]
    assert r.eligibilite["dans_cucs"].isna().all()
    assert (r.entrees_sorties["entrants"] == 0).all() and (r.entrees_sorties["sortants"] == 0).all()
    assert (r.transitions.set_index("etape").loc["CUCS → QPV 2015", "non_calculables"]) == len(r.eligibilite)
    texts = " ".join(_texts(r))
    assert "entrant" not in texts
    assert "hors CUCS" not in texts.replace("« hors CUCS »", "")


@pytest.mark.parametrize("code", list(COMMUNES))
def test_each_indicator_at_its_own_year(reel, code):
    out, p, reg, rapports, qp = reel
    r = rapports[code]
    ind = pd.read_csv(out / "indicateurs.csv", dtype={"code_territoire": str})
    q = ind[(ind["niveau"] == "quartier") & ind["code_territoire"].isin(r.eligibilite["code_quartier"])]
    years = q.groupby("indicateur")["annee"].max()
    assert years.max() == 2020  # job seekers only: the latest year overall holds no rate shown
    assert r.annees_echelles["taux_pauvrete"] == years["taux_pauvrete"] != years.max()
    assert r.annee_revenus == years["revenu_median_uc"]
    assert reg.annees_eligibilite["revenu_median_uc"]["demandee"] == p.qpv2014.annee_revenus
    phrase = f"revenus de {years['revenu_median_uc']}, l'année {p.qpv2014.annee_revenus} demandée est absente"
    assert any(phrase in s for s in r.phrases["eligibilite"])
    v = q3.vue_echelles(r)
    assert len(v) == len(r.eligibilite)  # the quartiers (the commune has no rate of its own)
    # no gap column of « n.d. » repeated on every row: the note under the table says why
    assert "Écart significatif à la commune" not in v.columns
    assert any("ne sont pas dans les données" in s for s in q3.notes_echelles(r))


@pytest.mark.parametrize("code", list(COMMUNES))
def test_a_typology_and_readable_maps(reel, code):
    out, p, reg, rapports, qp = reel
    r = rapports[code]
    assert r.typologie is not None
    retenus = set(reg.typologie_entrees["retenus"])
    assert retenus == {"taux_pauvrete", "revenu_median_uc"}
    src = qp.set_index("code_qp")
    complets = [c for c in r.eligibilite["code_quartier"] if src.loc[c, ["tp60", "decuc_q2"]].notna().all()]
    assert sorted(r.classes_commune["code_quartier"]) == sorted(complets)
    assert any(s.startswith("La typologie régionale classe les quartiers selon") for s in r.constats)
    fig = q3.carte_region(r, reg)
    assert fig is not None and "un point à son centre" in fig._cucs_alt
    fig = q3.carte_commune(r, dataset.load_territory(out, code))
    assert fig is not None
    # names in the list beside the map (numbers on the quartiers: issue 11)
    textes = "\n".join(t.get_text() for t in fig.axes[0].texts)
    assert all(str(n) in textes for n in r.eligibilite["nom"])
    matplotlib.pyplot.close("all")


def test_shared_quartier_is_said_on_its_main_commune(reel):
    """« Séméac, Tarbes »: the QPV is Tarbes's (its main commune in the link table) and its page
    names the other commune."""
    out, p, reg, rapports, qp = reel
    src = qp.set_index("code_qp")
    partages = [c for c in src.index if "," in str(src.loc[c, "nom_commune"])]
    assert partages
    qc = pd.read_csv(out / "quartiers_communes.csv", dtype=str)
    for c in partages:
        principale = qc[(qc["code_quartier"] == c) & (qc["principale"] == "oui")]["code_commune"].iloc[0]
        r = rapports[principale]
        autres = sorted(n.strip() for n in src.loc[c, "nom_commune"].split(",") if n.strip() != r.nom_commune)
        assert r.partages[c] == autres
        nom = r.eligibilite.set_index("code_quartier").loc[c, "nom"]
        assert any(f"{nom} est un quartier partagé avec {autres[0]}" in s for s in r.phrases["eligibilite"])
        assert any(f"{nom} (partagé avec {autres[0]})" in s for s in r.phrases["echelle"])


@pytest.mark.parametrize("code", list(COMMUNES))
def test_every_view_renders(reel, code):
    """Every table of the page renders (an « n.d. » cell is a missing value, never a string a
    number column cannot format) and its figures draw."""
    from cucs_analysis.present import display

    r = reel[3][code]
    vues = [getattr(q3, n) for n in dir(q3) if n.startswith("vue_")]
    assert len(vues) >= 10
    for vue in vues:
        display.tableau(vue(r))
    for fig in (q3.figure_echelles(r), q3.figure_revenus(r)):
        assert fig is not None
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize("code", ["31555", "34172", "66136"])
def test_partial_results_are_shown_not_donnees_absentes(reel, code):
    """Issue 11: the index read « données non disponibles » for q3 while the population share
    was computed: the verdict carries what IS computed, with no motif, and the first key figure
    has a value."""
    _out, _p, _reg, rapports, qp = reel
    r = rapports[code]
    assert r.verdict["motif"] is None
    d = qp[qp["code_qp"].isin(r.eligibilite["code_quartier"])]
    # recomputed from the file: inhabitants of the commune's QPV over the commune's population
    share = 100 * d["pop_mun"].sum() / qp.loc[qp["code_qp"].isin(d["code_qp"]), "pop_com"].iloc[0]
    from cucs_analysis.present import text

    assert text.pourcentage(share) in r.verdict["texte"]
    assert r.chiffres_cles[0]["valeur"] is not None
    cles = {c["id"]: c for c in r.chiffres_cles}
    assert cles["part_habitants_quartiers"]["valeur"] == pytest.approx(share, abs=0.05)


def test_attributed_years_are_said_once(reel):
    r = reel[3]["31555"]
    assert r.annees_attribuees.get("demographie") and r.annees_attribuees.get("revenus")
    textes = [*r.constats, *r.phrases["echelle"]]
    assert sum(q3.MENTION_ANNEES_IMPORT in s for s in r.constats) == 1
    assert sum(q3.MENTION_ANNEES_IMPORT in s for s in r.phrases["echelle"]) == 1
    assert any(str(r.annees_attribuees["demographie"]) in s for s in textes if q3.MENTION_ANNEES_IMPORT in s)


def test_dynamic_rule_reason_on_one_cross_section(reel):
    """The INSEE file gives one year per indicator: the « dynamique » rule has no series, and the
    page says so (not « aucune année avant 2015 »), also in the table's header."""
    out, _p, _reg, _rapports, _qp = reel
    p = P.load_params(
        "20001",
        ROOT,
        overrides={"dynamique": {"indicateur": "taux_pauvrete", "annee_debut": 2015, "annee_fin": 2023}},
    )
    r = q3.build(dataset.load_territory(out, "66136"), region.build(dataset.load_dataset(out), p), p)
    texts = _texts(r)
    assert any("une seule année de taux de" in s and "pas de série" in s for s in texts)
    assert not any("aucune année avant" in s for s in texts)
    entetes = [v[0] for v in q3.colonnes_eligibilite(r).values()]
    assert not any("→" in h or "aucune année avant" in h for h in entetes)


def test_downloads_name_quartiers_label_codes_and_round_shares(reel):
    """Issue 11: q3_eligibilite.csv held bare codes (« donnee_absente ;taille_quartier ») and no
    quartier name; q3_repartition.csv wrote 12,119 where the page says 12,1 %."""
    import json

    from cucs_analysis.pipeline import publish

    _out, _p, _reg, rapports, qp = reel
    r = rapports["66136"]
    data = json.loads(json.dumps(r.resultats(), default=str))
    tables = publish.results_tables(data)
    codes = data["libelles_codes"]
    elig = publish.table_publiee(tables["eligibilite"], codes)
    noms = dict(zip(r.eligibilite["code_quartier"], r.eligibilite["nom"], strict=True))
    assert all(isinstance(v, str) and v for v in noms.values())
    assert elig["nom_quartier"].tolist() == [noms[c] for c in elig["code_quartier"]]
    assert set(elig["motif_qpv2014"].dropna()) == {"données non disponibles"}
    petit = qp.loc[qp["code_qp"].isin(elig["code_quartier"]) & (qp["pop_mun"] < 1000), "code_qp"]
    obs = elig.set_index("code_quartier")["observations_qpv2014"]
    from cucs_analysis.present import text

    assert all(obs[c] == f"moins de {text.nombre(1000)} habitants" for c in petit) and len(petit)
    raw = publish.csv_bytes(tables["eligibilite"], codes).decode("utf-8-sig")
    assert "donnee_absente" not in raw and "taille_quartier" not in raw
    rep = publish.table_publiee(tables["repartition"], codes).set_index("indicateur")
    d = qp[qp["code_qp"].isin(elig["code_quartier"])]
    share = 100 * d["pop_mun"].sum() / d["pop_com"].iloc[0]
    assert rep.loc["population", "pourcentage"] == round(share, 1)
    typo = publish.table_publiee(tables["typologie"], codes)
    assert typo["nom_quartier"].tolist() == [noms[c] for c in typo["code_quartier"]]


def test_typology_says_which_mean(reel):
    """« nettement en dessous de la moyenne » read as the commune's: the sentence names the set
    the typology is computed on (every quartier of the file)."""
    _out, _p, _reg, rapports, qp = reel
    r = rapports["34172"]
    n = int(r.typologie.classes.notna().sum())
    assert n == len(qp)  # every QPV of the region file is classed
    assert all(f"de la moyenne des {n} quartiers étudiés" in d for d in r.typologie.descriptions.values())
    assert any(f"des {n} quartiers étudiés" in s for s in r.constats)
    nb = (ROOT / "notebooks" / "q3_geographie_prioritaire.ipynb").read_text(encoding="utf-8")
    assert "dans la démonstration" not in nb


def test_scales_table_says_what_it_cannot_show(reel):
    """§1 promised a comparison with the commune, EPCI… but showed quartier rows only, each gap
    « n.d. (la commune n'a pas de valeur) »: the note under the table says why, and that the
    INSEE rates come without counts (no confidence interval)."""
    r = reel[3]["31555"]
    assert (r.echelles["niveau"] == "quartier").all()
    notes = q3.notes_echelles(r)
    assert any("ne sont pas dans les données" in s for s in notes)
    assert "Taux publiés par l'INSEE sans effectifs : pas d'intervalle de confiance." in notes
    assert "Écart significatif à la commune" not in q3.vue_echelles(r).columns


def test_maps_title_whole_labels_apart_rings_thin(reel):
    """Perpignan's title was cut and close names overlapped (Saint Assiscle / Gare); the
    regional map's black rings hid the commune's points: numbers with a list beside the map,
    a wrapped title, thin half-transparent rings and the départements' outlines."""
    out, _p, reg, rapports, _qp = reel
    r = rapports["66136"]
    fig = q3.carte_commune(r, dataset.load_territory(out, "66136"))
    fig.canvas.draw()
    rend = fig.canvas.get_renderer()
    ax = fig.axes[0]
    fb = fig.bbox
    # the whole title (the house style puts it on the left), « Perpignan » included
    titre = q3._titre_actuel(ax)
    assert "Perpignan" in titre and "zoom" in titre
    t = next(x for x in (ax._left_title, ax.title, ax._right_title) if x.get_text()).get_window_extent(rend)
    assert t.x0 >= fb.x0 and t.x1 <= fb.x1 and t.y1 <= fb.y1
    numeros = [a for a in ax.texts if a.get_text().isdigit()]
    assert len(numeros) == len(r.eligibilite)
    liste = [a for a in ax.texts if not a.get_text().isdigit()][0].get_text()
    assert all(str(n) in liste for n in r.eligibilite["nom"])
    boxes = [a.get_window_extent(rend) for a in numeros]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    fig = q3.carte_region(rapports["34172"], reg)
    ax = fig.axes[0]
    from matplotlib.collections import PathCollection

    rings = [
        c
        for c in ax.collections
        if isinstance(c, PathCollection) and len(c.get_facecolors()) == 0 and len(c.get_edgecolors())
    ]
    assert rings and all(max(c.get_linewidths()) <= 0.8 and c.get_edgecolors()[0][3] < 1 for c in rings)
    assert any("Toulouse" == a.get_text() for a in ax.texts)
