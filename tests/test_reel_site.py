"""The suite on a real region (issue 11), as a resource centre would use it: the Occitanie samples
imported by both importers (`insee-qpv`, then `civille` for region 76), a project made by
`cucs projet init`, then q3, q1 and the commune synthesis run for Toulouse, Montpellier and
Perpignan through the library and published. The site must hold q3 for the three communes with
their real quartiers and a map, and state nothing the data cannot support. Expected names and
counts are read from the source files; skipped where ../shared/realdata is absent."""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from cucs_analysis.data import dataset
from cucs_analysis.data.imports import civille, insee_qpv
from cucs_analysis.pipeline import params, runner

pytestmark = pytest.mark.slow

COMMUNES = {"31555": "Toulouse", "34172": "Montpellier", "66136": "Perpignan"}
QUESTIONS = ["q3", "q1", "synthese"]
CIVILLE = [
    *(f"adulte-relais-{a}.json" for a in range(2020, 2024)),
    *(f"postes-fonjep-{a}.json" for a in range(2020, 2024)),
]


class _Texte(HTMLParser):
    """The visible text of a page (scripts and styles left out) and its <img> tags."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.imgs: list[dict] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "img":
            self.imgs.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def lire(path: Path) -> _Texte:
    p = _Texte()
    p.feed(path.read_text(encoding="utf-8"))
    p.texte = " ".join(unescape(" ".join(p.parts)).split())  # type: ignore[attr-defined]
    return p


@pytest.fixture(scope="module")
def reel(realdata, tmp_path_factory) -> dict:
    qpv, p147 = realdata / "hackaviz2021_occitanie_qpv", realdata / "anct_civille_p147"
    if not all((p147 / f).is_file() for f in CIVILLE):
        pytest.skip("données réelles Ci.Ville absentes : test ignoré")
    tmp = tmp_path_factory.mktemp("reel-site")
    donnees = tmp / "donnees"
    insee_qpv.importer(
        qpv / "qp.csv", contours=qpv / "qp.geojson", communes=qpv / "communes.geojson", out=donnees
    )
    # civille completes the folder with the tables insee-qpv does not write
    civille.importer([p147 / f for f in CIVILLE], donnees, contrats=p147 / "geom_cv_ctr.json", regions=["76"])
    dataset.clear_memo()
    projet, changes = params.init_projet(tmp / "projet", donnees)
    out = tmp / "out"
    mp = pytest.MonkeyPatch()
    mp.setenv("CUCS_CACHE_DIR", str(tmp / "cache"))
    try:
        summary = runner.run(
            projet, list(COMMUNES), QUESTIONS, jobs=2, resume=False, out_dir=out, progress=False
        )
    finally:
        mp.undo()
    assert summary.exit_code == 0, summary.message
    qp = pd.read_csv(qpv / "qp.csv", encoding="utf-8-sig", dtype=str)
    return {"out": out, "site": out / "site", "qp": qp, "qpv": qpv, "changes": changes}


def test_the_project_warns_about_none_of_its_own_years(reel):
    manifest = json.loads((reel["out"] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["avertissements_parametres"] in ({}, [])
    assert manifest["avertissements_donnees"]  # the import's warnings are carried


@pytest.mark.parametrize("code", list(COMMUNES))
def test_q3_page_of_each_commune_names_its_real_quartiers_and_maps_them(reel, code):
    page = reel["site"] / "pages" / code / "q3.html"
    assert page.is_file()
    p = lire(page)
    assert COMMUNES[code] in p.texte
    # the quartiers of the commune in INSEE's file (a QPV over two communes names both)
    qp = reel["qp"]
    noms = qp.loc[qp["nom_commune"].str.split(", ").map(lambda c: COMMUNES[code] in c), "nom_qp"]
    assert len(noms) >= 5
    for nom in noms:
        assert " ".join(nom.split()) in p.texte, nom
    cartes = [i for i in p.imgs if "carte" in (i.get("alt") or "").lower()]
    assert cartes and all(i.get("src", "").startswith("data:image/png;base64,") for i in cartes), p.imgs
    index = lire(reel["site"] / "index.html")
    assert COMMUNES[code] in index.texte


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_no_page_states_what_the_data_cannot_support(reel):
    site = reel["site"]
    pages = _pages(site)
    assert len(pages) >= 3 * len(QUESTIONS)
    for path in pages:
        texte = lire(path).texte
        rel = path.relative_to(site)
        assert "0,0 %" not in texte.replace("\u00a0", " ").replace("\u202f", " "), rel
        assert not re.search(r"\b(nan|NaN|None)\b", texte), rel
        for a, b in re.findall(r"\b((?:19|20)\d\d)\s?[-–]\s?((?:19|20)\d\d)\b", texte):
            assert int(a) <= int(b), (rel, f"{a}-{b}")  # never « 2015-2014 »
        assert "entrant hors CUCS" not in texte and "entrants hors CUCS" not in texte, rel
    # « hors CUCS » is never a verdict: the signatory status is unknown in these files
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "etat-hors_cucs" not in index
    for code in COMMUNES:
        for q in QUESTIONS:
            res = json.loads((reel["out"] / "results" / code / f"{q}.json").read_text(encoding="utf-8"))
            verdict = res.get("verdict") or {}
            assert verdict.get("motif") != "hors_cucs", (code, q)
            assert "hors CUCS" not in str(verdict.get("texte")), (code, q)


def test_index_shows_the_communes_run_and_counts_the_others(reel):
    p = lire(reel["site"] / "index.html")
    html = (reel["site"] / "index.html").read_text(encoding="utf-8")
    lignes = re.findall(r'<tr data-recherche="([^"]*)"', html)
    assert [ligne.split()[-1] for ligne in lignes] == sorted(COMMUNES)
    communes = pd.read_csv(reel["out"].parent / "donnees" / "communes.csv", dtype=str)
    autres = len(communes) - len(COMMUNES)
    assert (
        f"{autres} autres communes du jeu de données n'ont pas été traitées dans cette exécution." in p.texte
    )


def test_methode_page_lists_the_import_warnings(reel):
    import geopandas as gpd

    contours = gpd.read_file(reel["qpv"] / "qp.geojson")
    invalides = int((~contours.geometry.is_valid).sum())
    assert invalides > 0
    texte = lire(reel["site"] / "methode.html").texte
    assert f"{invalides} contours invalides réparés" in texte
    repares = re.search(r"contours invalides réparés[^:]*: ((?:QP\d{6}(?:, )?)+)", texte)
    assert repares and len(repares.group(1).split(", ")) == invalides
