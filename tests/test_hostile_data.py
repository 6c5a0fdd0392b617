"""Hostile strings in the data stay data: markup is escaped on the published page, a spreadsheet
formula does not start a downloaded cell, a right-to-left override does not reverse the text
around it, and matplotlib does not read ``$…$`` in a label as mathtext.

The committed demo carries none of these strings (tests/test_demo.py checks it); the session
fixture `demo_hostile` (tests/conftest.py) injects them into a copy of it; the pages and
downloads are those of the session's hostile run (`hostile_partout_run`, every payload in every
free-text field; tests/test_site_hostile.py checks the whole site in Chromium)."""

from __future__ import annotations

import csv
import html
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from conftest import HOSTILE, ROOT

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def hostile_run(hostile_partout_run) -> Path:
    """The output folder of the session's hostile run (tests/conftest.py `hostile_partout_run`:
    the whole suite for 20001 on a copy of the demo whose free-text fields carry
    `HOSTILE_PARTOUT`, the five strings of `HOSTILE` among them); no run of its own."""
    return hostile_partout_run[0]


@pytest.fixture(scope="module")
def page(hostile_run) -> str:
    return (hostile_run / "site" / "pages" / "20001" / "q1.html").read_text(encoding="utf-8")


class _Page(HTMLParser):
    """Tags with their attributes, and text nodes with the tag that holds them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.texts: list[tuple[str, str]] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("br", "img", "meta", "link", "hr", "input", "col", "wbr"):
            self._stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self._stack:
            while self._stack.pop() != tag:
                pass

    def handle_data(self, data):
        self.texts.append((self._stack[-1] if self._stack else "", data))


def _parse(text: str) -> _Page:
    p = _Page()
    p.feed(text)
    return p


def _normal(s: str) -> str:
    """Text as a reader sees it, French no-break spaces as plain spaces."""
    return s.replace("\u00a0", " ").replace("\u202f", " ")


# --- the fixture itself ----------------------------------------------------------------------------


def test_fixture_injects_every_hostile_string(demo_hostile):
    data, ids = demo_hostile
    act = pd.read_csv(data / "actions.csv", dtype=str, keep_default_na=False)
    committed = pd.read_csv(ROOT / "data" / "demo" / "actions.csv", dtype=str, keep_default_na=False)
    assert len(act) == len(committed) and act["id_action"].tolist() == committed["id_action"].tolist()
    for kind, title in HOSTILE.items():
        assert ids[kind], kind
        rows = act[act["id_action"].isin(ids[kind])]
        assert (rows["intitule"] == title).all() and (rows["code_commune"] == "20001").all(), kind
    changed = act["intitule"] != committed["intitule"]
    assert set(act.loc[changed, "id_action"]) == {a for v in ids.values() for a in v}
    assert not (committed["intitule"].isin(HOSTILE.values())).any()


# --- the published page ----------------------------------------------------------------------------


def test_markup_in_titles_is_shown_as_text(page):
    p = _parse(page)
    assert not [a for t, a in p.tags if t == "script"], "a <script> element reached the page"
    assert not [a for t, a in p.tags if any(k.startswith("on") for k in a)], "an event attribute"
    assert not [a for t, a in p.tags if t == "img" and a.get("src") == "x"]
    text = _normal("".join(t for _, t in p.texts))
    for kind in ("script", "img"):
        # The page prints the title itself (French typography may add no-break spaces).
        assert _normal(HOSTILE[kind]).split(" «")[0] in text, kind
    assert html.escape("<img src=x onerror=alert(1)>", quote=False) in page


def test_formula_title_is_plain_text_on_the_page(page):
    text = _normal("".join(t for _, t in _parse(page).texts))
    assert HOSTILE["formule"] in text


def test_right_to_left_override_does_not_leak(page):
    """The rule of docs/rules.md for a data string on a page (`text.texte_affiche`): its bidi
    controls are removed and its right-to-left script is isolated (FSI … PDI), so the override
    of the title cannot reverse the sentence that holds it."""
    p = _parse(page)
    assert not [t for _, t in p.texts if re.search("[\u202a-\u202e\u200e\u200f]", t)], "a bidi control"
    shown = "Médiation \u2068\u0645\u0631\u0643\u0632\u2069 sociale"
    assert any(shown in t for _, t in p.texts), "the right-to-left title is not on the page"


# --- downloads -------------------------------------------------------------------------------------


def _cells(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8-sig")
    return [c for row in csv.reader(io.StringIO(text), delimiter=";") for c in row]


def test_downloaded_cells_never_start_a_formula(hostile_run):
    """The formula title reaches a download (q1 reads an « autre » action by its title) and no
    cell of any download starts a spreadsheet formula (negative numbers stay numbers)."""
    files = sorted((hostile_run / "site" / "telechargements" / "20001").glob("*.csv"))
    assert files
    cells = {f.name: _cells(f) for f in files}
    assert any("=SUM(A1)" in c for v in cells.values() for c in v), "the formula title is in no download"
    for name, values in cells.items():
        for cell in values:
            if re.fullmatch(r"-[\d\s\u202f\u00a0]+(,\d+)?", cell):
                continue  # a negative number
            assert not cell.startswith(FORMULA_START), (name, cell[:80])


def test_results_keep_the_titles_as_data(hostile_run):
    """Whatever the results JSON says about these actions, it says it with the titles verbatim
    (escaping belongs to the page and the download, not to the data)."""
    text = (hostile_run / "results" / "20001" / "q1.json").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" in text
    assert "&lt;script" not in text and "&lt;img" not in text


# --- figures ---------------------------------------------------------------------------------------


def test_dollars_in_a_label_are_not_mathtext(demo_hostile):
    """A bar chart of the hostile titles (as q2's actions figure draws them): the labels keep
    their dollar signs, and the figure renders."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import cbook
    from matplotlib.text import Text

    from cucs_analysis.data import dataset as load
    from cucs_analysis.present import plots

    data, _ = demo_hostile
    act = load.load_territory(data, "20001").actions
    titles = sorted(set(act["intitule"]) & set(HOSTILE.values()))
    assert HOSTILE["mathtext"] in titles
    df = pd.DataFrame({"intitule": titles, "credits": range(1000, 1000 * (len(titles) + 1), 1000)})
    fig = plots.barres_horizontales(df, "intitule", "credits", "Actions", "Crédits (€)", unite="€")
    try:
        fig.savefig(io.BytesIO(), format="png")
        labels = [t for t in fig.findobj(Text) if "$x$" in t.get_text().replace("\\$", "$")]
        assert labels
        for t in labels:
            s = t.get_text()
            assert not (t.get_parse_math() and cbook.is_math_text(s)), repr(s)
    finally:
        plt.close(fig)
