"""Accessibility of the published site: axe-core in headless Chromium (issue 9, point 7).

axe-core comes from npm, pinned in ``tests/axe/package.json`` (and its lock file); ``make test``
installs it with ``npm ci --prefix tests/axe`` and ``.ci/run`` fails if it cannot. Without npm
(a developer's machine) the tests are skipped with a French reason; with ``CUCS_AXE_REQUIS=1``
(set by ``.ci/run``) a missing axe-core or Chromium is a failure, never a skip.

Every kind of page of a demo site is checked: the index, a commune page (a signatory and a
non-signatory one), the question pages q1 to q8 of 20001 and q3 and q6 of the non-signatory, the
commune synthesis, the regional synthesis, the Méthode page and a commune's dossier. axe runs
the WCAG 2.0 and 2.1 rules of levels A and AA (tags wcag2a, wcag2aa, wcag21a, wcag21aa) and
its best practices (best-practice). A page passes when axe reports no *serious* nor *critical*
violation; the moderate and minor ones are printed (``pytest -s``) and, when
``CUCS_AXE_RAPPORT`` names a file, written there in JSON with the durations.

How: a copy of the page is written beside it (its relative stylesheet and images load), ending
with axe.min.js and a call to ``axe.run`` once the page has loaded (after the index's search
script revealed its box); the result is written into an attribute of ``<html>`` and read from
Chromium's ``--dump-dom``. The window is a phone's (390×844): a box that scrolls sideways, which
a keyboard must be able to reach, appears there first.

Wide tables: a notebook output holding a table is the only box cucs.css lets scroll sideways,
and `publish.tableaux_defilants` makes it focusable and names it after its caption
(``test_table_outputs_are_focusable_named_boxes``, and the phone-sized window above).

``test_axe_reports_planted_violations`` shows that the check can fail: a page with an image
without alt, low-contrast text and an unreachable scrolling box is reported serious/critical.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from confiance import enregistrer
from test_site_browser import CHROMIUM, FLAGS

from cucs_analysis.pipeline import publish

ROOT = Path(__file__).resolve().parents[1]
AXE_DIR = ROOT / "tests" / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = json.loads((AXE_DIR / "package.json").read_text(encoding="utf-8"))["dependencies"]["axe-core"]
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
GRAVES = {"serious", "critical"}
FENETRE = "390,844"
HORS_CUCS = "20012"

#: page name → path in the site
PAGES = {
    "index": "index.html",
    "commune": "communes/20001.html",
    "commune_hors_cucs": f"communes/{HORS_CUCS}.html",
    "q1": "pages/20001/q1.html",
    "q2": "pages/20001/q2.html",
    "q3": "pages/20001/q3.html",
    "q4": "pages/20001/q4.html",
    "q5": "pages/20001/q5.html",
    "q6": "pages/20001/q6.html",
    "q7": "pages/20001/q7.html",
    "q8": "pages/20001/q8.html",
    "q6_hors_cucs": f"pages/{HORS_CUCS}/q6.html",
    "q3_hors_cucs": f"pages/{HORS_CUCS}/q3.html",
    "synthese": "pages/20001/synthese.html",
    "synthese_regionale": "pages/region/synthese_regionale.html",
    "methode": "methode.html",
    "dossier": "communes/20001-dossier.html",
}

_LANCEUR = """
<script src="{axe}"></script>
<script>
window.addEventListener("load", function () {{
  function court(v) {{
    return {{id: v.id, impact: v.impact, aide: v.help, noeuds: v.nodes.map(function (n) {{
      return {{cible: n.target.join(" "), resume: n.failureSummary || "", html: n.html.slice(0, 300)}};
    }})}};
  }}
  axe.run(document, {{runOnly: {{type: "tag", values: {tags}}}, resultTypes: ["violations"]}})
    .then(function (r) {{
      document.documentElement.setAttribute("data-axe", JSON.stringify({{
        version: axe.version, violations: r.violations.map(court), incomplets: r.incomplete.map(court)}}));
    }})
    .catch(function (e) {{ document.documentElement.setAttribute("data-axe-erreur", String(e)); }});
}});
</script>
"""


def _requis() -> bool:
    return os.environ.get("CUCS_AXE_REQUIS", "") not in {"", "0"}


def _absent(raison: str) -> None:
    if _requis():
        pytest.fail(f"{raison} (CUCS_AXE_REQUIS est défini : ce test ne doit pas être ignoré).")
    pytest.skip(raison)


def _outils() -> None:
    if not Path(CHROMIUM).exists():
        _absent(f"Chromium absent ({CHROMIUM}) : installez-le (apt install chromium) pour ce test.")
    if not AXE_JS.is_file():
        if shutil.which("npm") is None:
            _absent("npm introuvable : axe-core n'est pas installé, le test d'accessibilité est ignoré.")
        _absent("axe-core absent : lancez « make test » ou « npm ci --prefix tests/axe ».")


def axe(page: Path, profil: Path, fenetre: str = FENETRE) -> dict:
    """axe's violations and incomplete results on one page of a site (see the module's text),
    with ``secondes``, the time Chromium took."""
    copie = page.with_name(f"{page.stem}.axe-{os.getpid()}-{profil.name}.html")
    source = page.read_text(encoding="utf-8")
    lanceur = _LANCEUR.format(axe=AXE_JS.resolve().as_uri(), tags=json.dumps(TAGS))
    i = source.rfind("</body>")
    copie.write_text(source[:i] + lanceur + source[i:] if i >= 0 else source + lanceur, encoding="utf-8")
    debut = time.perf_counter()
    try:
        fait = subprocess.run(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={profil}",
                f"--window-size={fenetre}",
                "--virtual-time-budget=30000",
                "--dump-dom",
                copie.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    finally:
        copie.unlink(missing_ok=True)
    secondes = time.perf_counter() - debut
    erreur = re.search(r'<html\b[^>]*\sdata-axe-erreur="([^"]*)"', fait.stdout)
    assert not erreur, f"axe a échoué sur {page.name} : {html.unescape(erreur.group(1))}"
    m = re.search(r'<html\b[^>]*\sdata-axe="([^"]*)"', fait.stdout)
    assert m, f"pas de résultat d'axe pour {page.name} : {fait.stderr[-1500:]}"
    resultat = json.loads(html.unescape(m.group(1)))
    resultat["secondes"] = round(secondes, 2)
    return resultat


def graves(resultat: dict) -> list[str]:
    """The serious and critical violations, one readable line per rule (with its first nodes)."""
    return [
        f"[{v['impact']}] {v['id']} ×{len(v['noeuds'])} : {v['aide']} — "
        + " ; ".join(f"{n['cible']} ({' '.join(n['resume'].split())[:160]})" for n in v["noeuds"][:3])
        for v in resultat["violations"]
        if v["impact"] in GRAVES
    ]


def par_impact(resultats: list[dict]) -> dict[str, int]:
    """Number of failing nodes per impact."""
    compte: dict[str, int] = {}
    for v in resultats:
        compte[v["impact"] or "?"] = compte.get(v["impact"] or "?", 0) + len(v["noeuds"])
    return compte


@pytest.fixture(scope="session")
def outils_axe() -> None:
    """Chromium and axe-core are there (checked before the demo run is paid for)."""
    _outils()


@pytest.fixture(scope="module")
def site(outils_axe, demo_site) -> Path:
    """Every kind of page of the site (tests/conftest.py `demo_site`)."""
    return demo_site / "site"


@pytest.fixture(scope="module")
def resultats(site, tmp_path_factory) -> dict[str, dict]:
    """axe on every page of `PAGES`, two Chromium at a time (a profile per page)."""
    profils = tmp_path_factory.mktemp("profils-axe")
    noms = list(PAGES)
    manquantes = [PAGES[n] for n in noms if not (site / PAGES[n]).is_file()]
    assert not manquantes, f"pages absentes du site : {manquantes}"
    debut = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        faits = list(pool.map(lambda nom: axe(site / PAGES[nom], profils / nom), noms))
    duree = time.perf_counter() - debut
    res = dict(zip(noms, faits, strict=True))
    impacts: dict[str, int] = {}
    for r in res.values():
        for k, n in par_impact(r["violations"]).items():
            impacts[k] = impacts.get(k, 0) + n
    enregistrer("axe.version", next(iter(res.values()))["version"], "version d'axe-core (npm) utilisée")
    enregistrer(
        "axe.pages", len(res), f"pages du site passées à axe dans Chromium ({FENETRE.replace(',', '×')})"
    )
    enregistrer(
        "axe.graves",
        sum(n for k, n in impacts.items() if k in GRAVES),
        "violations d'accessibilité graves ou critiques (éléments, toutes pages)",
    )
    enregistrer(
        "axe.moderees_mineures",
        sum(n for k, n in impacts.items() if k not in GRAVES),
        "violations d'accessibilité modérées ou mineures (éléments, toutes pages)",
    )
    enregistrer(
        "axe.a_verifier",
        sum(len(v["noeuds"]) for r in res.values() for v in r["incomplets"]),
        "éléments qu'axe n'a pas pu trancher (à vérifier à la main)",
    )
    enregistrer("axe.duree_s", round(duree, 1), "durée des analyses axe (s, deux Chromium en parallèle)")
    for nom, r in res.items():
        autres = {k: n for k, n in par_impact(r["violations"]).items() if k not in GRAVES}
        print(f"axe {r['version']} {nom} ({r['secondes']} s) : violations moderate/minor {autres or 0}")
    rapport = os.environ.get("CUCS_AXE_RAPPORT")
    if rapport:
        Path(rapport).write_text(
            json.dumps(
                {
                    "axe_core": next(iter(res.values()))["version"],
                    "fenetre": FENETRE,
                    "tags": TAGS,
                    "pages": {
                        nom: {
                            "chemin": PAGES[nom],
                            "secondes": r["secondes"],
                            "violations_par_impact": par_impact(r["violations"]),
                            "regles": sorted({v["id"] for v in r["violations"]}),
                            "incomplets": sorted({v["id"] for v in r["incomplets"]}),
                        }
                        for nom, r in res.items()
                    },
                },
                ensure_ascii=False,
                indent=2,
            ),
            encoding="utf-8",
        )
    return res


@pytest.mark.slow
def test_axe_version_is_the_pinned_one(resultats):
    lock = json.loads((AXE_DIR / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/axe-core"]["version"] == AXE_VERSION
    assert {r["version"] for r in resultats.values()} == {AXE_VERSION}


@pytest.mark.slow
@pytest.mark.parametrize("nom", list(PAGES))
def test_no_serious_or_critical_violation(resultats, nom):
    assert graves(resultats[nom]) == [], f"{PAGES[nom]} : " + "\n".join(graves(resultats[nom]))


@pytest.mark.slow
def test_axe_reports_planted_violations(site, tmp_path):
    """The check can fail: the commune page with an image without alt, grey-on-white text and a
    box that scrolls without being reachable by the keyboard is reported serious/critical."""
    page = site / "communes" / "20001.html"
    piege = page.with_name("20001-piege.html")
    source = page.read_text(encoding="utf-8")
    plantes = (
        '<img src="../static/absente.png">'
        '<p style="color:#c8c8c8">Texte gris clair sur fond blanc.</p>'
        '<div style="overflow-x:auto;width:8rem"><table><caption>Tableau large</caption>'
        '<tr><th scope="col">Colonne</th></tr><tr><td style="white-space:nowrap">'
        + "très long contenu " * 20
        + "</td></tr></table></div>"
    )
    assert source.count('<main id="contenu">') == 1
    piege.write_text(source.replace('<main id="contenu">', '<main id="contenu">' + plantes), encoding="utf-8")
    try:
        r = axe(piege, tmp_path / "profil")
    finally:
        piege.unlink(missing_ok=True)
    trouves = {v["id"]: v["impact"] for v in r["violations"]}
    enregistrer(
        "axe.piege_graves",
        len(graves(r)),
        "règles graves ou critiques signalées sur la page piégée (3 plantées)",
    )
    assert trouves.get("image-alt") == "critical", trouves
    assert trouves.get("color-contrast") == "serious", trouves
    assert trouves.get("scrollable-region-focusable") == "serious", trouves
    assert len(graves(r)) >= 3


def test_table_outputs_are_focusable_named_boxes():
    tableau = (
        '<div class="output_html rendered_html output_subarea output_execute_result">'
        '<div class="cucs-tableau-bloc"><table class="cucs-tableau"><caption>Crédits « 2014 » &amp; '
        '<b>actions</b> "x"</caption><thead><tr><th>A</th></tr></thead></table></div></div>'
    )
    figure = '<div class="output_png output_subarea"><figure class="cucs-figure"><img alt="x"></figure></div>'
    pandas = (
        '<div class="output_html output_subarea"><div><style scoped>td {}</style><table class="dataframe">'
    )
    corps = publish.tableaux_defilants(tableau + figure + pandas)
    boites = re.findall(r"<div [^>]*output_subarea[^>]*>", corps)
    assert boites == [
        '<div class="output_html rendered_html output_subarea output_execute_result" tabindex="0" '
        'role="group" aria-label="Crédits « 2014 » &amp; actions &quot;x&quot;">',
        '<div class="output_png output_subarea">',  # a figure does not scroll: untouched
        '<div class="output_html output_subarea" tabindex="0" role="group" aria-label="Tableau">',
    ]
    assert publish.tableaux_defilants(corps) == corps  # once only


@pytest.mark.slow
def test_question_pages_have_focusable_table_boxes(site):
    """The pages checked by axe do hold table boxes (the scrolling path of cucs.css is tested):
    every table output of q1 is one, named after its caption."""
    page = (site / PAGES["q1"]).read_text(encoding="utf-8")
    boites = re.findall(
        r'<div class="[^"]*output_subarea[^"]*" tabindex="0" role="group" aria-label="([^"]*)">', page
    )
    assert len(boites) == page.count('<table class="cucs-tableau">') >= 3
    assert all(b and b != "Tableau" for b in boites)
