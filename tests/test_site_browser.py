"""The published site in a real headless Chromium, opened from disk (file://).

What is verified, page by page (index, a commune page, a question page):
- the DOM after scripts ran (``--dump-dom``): ``lang="fr"``, French navigation and text, no
  code cell, every ``<img>`` with a non-empty ``alt``, injected HTML shown as text, no
  ``<script>`` element except the index's local search script;
- no console message (``--enable-logging=stderr``: Chromium prints every console message and
  uncaught error as a ``CONSOLE`` line), so no script error;
- an injected script did not run: the fixture carries payloads that would mark ``<body>``
  with ``data-pirate`` if executed (escaped text, and a raw ``<script>`` the sanitiser must
  remove);
- the search script works from file://: it reveals the search box and ``index.html?q=…``
  hides the communes that do not match.
Missing local files are not reported on the console by Chromium; test_publish checks that
every relative link resolves.

``screenshot(html_path, png_path)`` is a helper for the lead to look at a page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_output
from test_publish import INJECTED, make_notebook, make_out, parse

from cucs_analysis.pipeline import publish

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)
PIRATE_ESCAPED = "&lt;script&gt;document.body.setAttribute('data-pirate', 'echappe')&lt;/script&gt;"
PIRATE_RAW = "<script>document.body.setAttribute('data-pirate', 'brut')</script>"


def _chromium_or_skip() -> str:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium absent ({CHROMIUM}) : installez-le (apt install chromium) pour ce test.")
    return CHROMIUM


def _run(args: list[str], profile: Path, timeout: int = 90) -> subprocess.CompletedProcess:
    cmd = [_chromium_or_skip(), *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def dump_dom(url: str, profile: Path) -> tuple[str, list[str]]:
    """The DOM after scripts ran, and the console lines Chromium logged."""
    done = _run(["--dump-dom", url], profile)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line or "CONSOLE(" in line]
    return done.stdout, console


def screenshot(html_path: Path, png_path: Path, profile: Path | None = None) -> Path:
    """Save a 1280×1600 screenshot of a local HTML page (helper for reviewing the site)."""
    profile = profile or png_path.parent / ".chromium-profile"
    done = _run(
        [
            f"--screenshot={png_path}",
            "--window-size=1280,1600",
            "--hide-scrollbars",
            Path(html_path).resolve().as_uri(),
        ],
        profile,
    )
    if done.returncode != 0 or not png_path.is_file():
        raise RuntimeError(f"Capture d'écran impossible : {done.stderr[-500:]}")
    return png_path


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    _chromium_or_skip()
    tmp = tmp_path_factory.mktemp("navigateur")
    out = make_out(tmp)
    nb = make_notebook()
    nb.cells.append(
        new_code_cell(
            "show_actions()",
            outputs=[
                new_output("display_data", data={"text/html": f"<p>Action : {PIRATE_ESCAPED}</p>"}),
                new_output("display_data", data={"text/html": f"{PIRATE_RAW}<p>Fin des actions</p>"}),
            ],
        )
    )
    (out / "pages" / "20001" / "q3.html").write_text(
        publish.render_page(nb, "q3", "20001", "Valbrune-sur-Lèze"), encoding="utf-8"
    )
    return publish.build_site(out)


@pytest.fixture(scope="module")
def profile(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("profil-chromium")


def _body_attrs(dom: str) -> str:
    m = re.search(r"<body\b[^>]*>", dom)
    assert m, "pas de <body> dans le DOM"
    return m.group(0)


def _check_common(dom: str, console: list[str]) -> None:
    assert console == [], console
    assert '<html lang="fr">' in dom
    assert "data-pirate" not in _body_attrs(dom)
    for word in ("Accueil", "Méthode"):
        assert word in dom
    p = parse(dom)
    for img in p.of("img"):
        assert (img.get("alt") or "").strip()
    assert "secret_code" not in dom and "In [" not in dom


def test_index_in_browser(site, profile):
    dom, console = dump_dom((site / "index.html").as_uri(), profile)
    _check_common(dom, console)
    # the local search script ran from file:// and revealed the search box
    assert re.search(r'<div class="zone-recherche" id="zone-recherche">', dom)
    assert "Rechercher une commune (nom ou code)" in dom
    assert [a for t, a in parse(dom).tags if t == "script"] == [{"src": "static/recherche.js", "defer": ""}]
    assert "échec" in dom


def test_index_search_filters_from_query(site, profile):
    dom, console = dump_dom((site / "index.html").as_uri() + "?q=montcalm", profile)
    assert console == [], console
    rows = {
        a["data-recherche"]: "hidden" in a for t, a in parse(dom).tags if t == "tr" and "data-recherche" in a
    }
    assert rows == {"Valbrune-sur-Lèze 20001": True, "Montcalm-les-Tours 20002": False, "20003": True}
    assert "1 commune affichée." in dom
    dom, _ = dump_dom((site / "index.html").as_uri() + "?q=leze", profile)  # accents ignored
    assert "1 commune affichée." in dom


def test_commune_page_in_browser(site, profile):
    dom, console = dump_dom((site / "communes" / "20001.html").as_uri(), profile)
    _check_common(dom, console)
    assert "<script" not in dom
    # the injected action title of a constat is text in the DOM, not an element
    assert "Action &lt;script&gt;alert(1)&lt;/script&gt; citée." in dom
    assert "Constats" in dom and "Réserves" in dom and "Lire l'analyse complète" in dom


def test_question_page_in_browser(site, profile):
    dom, console = dump_dom((site / "pages" / "20001" / "q3.html").as_uri(), profile)
    _check_common(dom, console)
    assert "<script" not in dom
    assert "<title>Géographie prioritaire — Valbrune-sur-Lèze (20001) | cucs-analysis</title>" in dom
    assert INJECTED in dom and PIRATE_ESCAPED in dom  # shown as text
    assert "Fin des actions" in dom
    alts = [a.get("alt") for a in parse(dom).of("img")]
    assert alts == ["Carte des quartiers éligibles"]
    assert 'class="prompt' not in dom and "input_area" not in dom


def test_screenshot_helper(site, profile, tmp_path):
    png = screenshot(site / "index.html", tmp_path / "index.png", profile)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 5000
