"""Data strings are data on the whole site (issue 9, point 4).

Every free-text field of a copy of the demo holds the payloads of `HOSTILE_PARTOUT`
(tests/conftest.py: markup, event handlers, ``javascript:``, Jinja, table breakers, entities,
a 300-character name, invisible and control characters, format strings, emoji with combining
marks, CSV separators and quotes, line breaks, Markdown, bidi overrides and isolates, mathtext).
The whole suite runs once on it for commune 20001 (+ the regional synthesis), through the
project's runner (`hostile_partout_run`), then:

- every run is ok (no notebook crashes on a payload);
- in headless Chromium, on the index, the commune page and its dossier, each question page,
  both syntheses, the Méthode page and a non-signatory commune's page: nothing executes (no console line, no ``data-pirate``
  marker, no element made from a payload), every payload is shown as text (decoded once),
  Markdown and Jinja stay text, and no right-to-left text or bidi control can reorder the
  product's sentence (the rule of docs/rules.md: controls removed, right-to-left runs
  isolated between FSI and PDI, `text.texte_affiche`);
- downloads keep their columns and neutralise formulas, results keep the strings verbatim,
  figures draw labels as plain text.

Each check is also run on a page with live payloads, where it must fail.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from confiance import enregistrer
from conftest import CHAMPS_LIBRES, HOSTILE_PARTOUT, PIRATE
from test_site_browser import _chromium_or_skip, dump_dom

from cucs_analysis.present import text

pytestmark = pytest.mark.slow

#: The pages a reader of commune 20001 and of the region opens.
PAGES = (
    "index.html",
    "communes/20001.html",
    "communes/20001-dossier.html",
    "pages/20001/q1.html",
    "pages/20001/q2.html",
    "pages/20001/q3.html",
    "pages/20001/q4.html",
    "pages/20001/q5.html",
    "pages/20001/q6.html",
    "pages/20001/q7.html",
    "pages/20001/q8.html",
    "pages/20001/synthese.html",
    "pages/region/synthese_regionale.html",
    "methode.html",
    "communes/20010.html",  # a non-signatory commune (not run: its page says « hors CUCS »)
)
OVERRIDES = re.compile("[\u061c\u200e\u200f\u202a-\u202e]")
CONTROLES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
ISOLE_DEBUT, ISOLE_FIN = "\u2066\u2067\u2068", "\u2069"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- the DOM checker ---------------------------------------------------------------------------


class Dom(HTMLParser):
    """Tags with attributes; text nodes (outside script and style) with their open elements."""

    VIDES = {"br", "img", "meta", "link", "hr", "input", "col", "wbr", "source", "area", "base"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.texts: list[tuple[tuple[str, ...], str]] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag not in self.VIDES:
            self._stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        if tag in self._stack:
            while self._stack.pop() != tag:
                pass

    def handle_data(self, data):
        if not {"script", "style"} & set(self._stack):
            self.texts.append((tuple(self._stack), data))

    def text(self) -> str:
        return "".join(t for _, t in self.texts)


def parse(dom: str) -> Dom:
    p = Dom()
    p.feed(dom)
    return p


def lisible(s: str) -> str:
    """Text as compared: no-break spaces as spaces, runs of white space as one space."""
    return re.sub(r"\s+", " ", s.replace("\u00a0", " ").replace("\u202f", " ")).strip()


def affiche(payload: str) -> str:
    """How a page shows a payload: the one rule for data strings, then as compared."""
    return lisible(text.texte_affiche(payload))


def _droite_gauche_hors_isolat(ancetres: tuple[str, ...], t: str) -> str | None:
    """The first right-to-left letter of a text node outside an isolate (FSI/LRI/RLI … PDI, or a
    <bdi> element), or an unbalanced isolate; None when the node cannot reorder its sentence."""
    if "bdi" in ancetres:
        return None
    profondeur = 0
    for c in t:
        if c in ISOLE_DEBUT:
            profondeur += 1
        elif c == ISOLE_FIN:
            profondeur -= 1
            if profondeur < 0:
                return "PDI sans FSI"
        elif profondeur == 0 and unicodedata.bidirectional(c) in ("R", "AL"):
            return c
    return "isolat non fermé" if profondeur else None


def problemes(dom: str, console: list[str]) -> list[str]:
    """What a payload did on a page, from its DOM after scripts ran and the console lines."""
    out = [f"console : {line[:200]}" for line in console]
    p = parse(dom)
    body = next((a for t, a in p.tags if t == "body"), {})
    out += [f"marqueur data-pirate={body['data-pirate']}"] if "data-pirate" in body else []
    for tag, attrs in p.tags:
        if tag in ("svg", "rect", "iframe", "object", "embed", "math"):
            out.append(f"élément <{tag}> créé")
        if "pirate" in attrs.get("class", ""):
            out.append(f"élément <{tag} class=pirate> créé")
        for name, value in attrs.items():
            if name.startswith("on"):
                out.append(f"attribut {name} sur <{tag}>")
            url = name in ("href", "src", "action", "formaction", "xlink:href", "data")
            if url and re.sub(r"[\x00-\x20]+", "", value).lower().startswith("javascript:"):
                out.append(f"URL javascript: dans <{tag} {name}>")
            if OVERRIDES.search(value) or CONTROLES.search(value):
                out.append(f"contrôle bidi ou caractère de contrôle dans <{tag} {name}>")
        if tag == "a" and "x.example" in attrs.get("href", ""):
            out.append("lien Markdown rendu")
    for ancetres, t in p.texts:
        s = t.strip()
        tag = ancetres[-1] if ancetres else ""
        if (tag, s) in {("strong", "gras"), ("b", "gras"), ("em", "italique"), ("i", "italique")}:
            out.append(f"Markdown rendu : <{tag}>{s}")
        if tag in ("h1", "h2", "h3") and s == "titre" or tag == "code" and s == "code":
            out.append(f"Markdown rendu : <{tag}>{s}")
        if OVERRIDES.search(t) or CONTROLES.search(t):
            out.append(f"contrôle bidi ou caractère de contrôle dans le texte : {t[:80]!r}")
        if (c := _droite_gauche_hors_isolat(ancetres, t)) is not None:
            out.append(f"texte de droite à gauche non isolé ({c!r}) : {t[:80]!r}")
    texte = lisible(p.text())
    if "49 {{ config" in texte or ("{% raw %}" in texte) != ("{{7*7}} {% raw %}" in texte):
        out.append("gabarit Jinja évalué")
    for trace in ("&amp;amp;", "&lt;script&gt;", "&amp;lt;script", "&lt;img src"):
        if trace in texte:
            out.append(f"texte échappé deux fois : {trace}")
    return out


def payloads_affiches(dom: str) -> set[str]:
    """The payloads (kinds) a page shows as text."""
    texte = lisible(parse(dom).text())
    return {k for k, p in HOSTILE_PARTOUT.items() if affiche(p) in texte}


# --- the run -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(hostile_partout_run) -> Path:
    return hostile_partout_run[0]


@pytest.fixture(scope="module")
def doms(run, tmp_path_factory) -> dict[str, tuple[str, list[str]]]:
    """Each page's DOM after scripts ran in headless Chromium, and its console lines."""
    _chromium_or_skip()
    profile = tmp_path_factory.mktemp("profil-chromium-hostile")
    return {page: dump_dom((run / "site" / page).resolve().as_uri(), profile) for page in PAGES}


def test_payloads_are_many_and_in_every_free_text_field(hostile_partout_run):
    _, changed, _, _ = hostile_partout_run
    assert len(HOSTILE_PARTOUT) >= 12
    assert len(set(HOSTILE_PARTOUT.values())) == len(HOSTILE_PARTOUT)
    champs = {(t, c) for t, cols in CHAMPS_LIBRES.items() for c in cols}
    champs |= {("metadonnees", "nom"), ("metadonnees", "description")}
    assert set(changed) == champs and all(changed.values()), changed
    enregistrer("chaines.charges_utiles", len(HOSTILE_PARTOUT), "chaînes hostiles placées dans les données")
    enregistrer("chaines.champs", len(champs), "champs de texte libre qui les portent (tous)")
    enregistrer("chaines.valeurs", sum(changed.values()), "valeurs distinctes rendues hostiles")


def test_every_free_text_column_of_the_schema_is_injected():
    """A new free-text column in the schema must join `CHAMPS_LIBRES` (or be an identifier)."""
    from cucs_analysis.data import schema

    identifiants = {"indicateur", "type_equipement", "unite"}
    for name, table in schema.TABLES.items():
        for col in table.columns:
            if col.kind != "text" or col.name.startswith("id_") or col.name in identifiants:
                continue
            assert col.name in CHAMPS_LIBRES.get(name, ()), (name, col.name)


def test_every_run_is_ok(run, hostile_partout_run):
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    runs = {(r["code_commune"], r["question"]): r["statut"] for r in manifest["runs"]}
    questions = {"q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "synthese", "synthese_regionale"}
    assert {q for _, q in runs} == questions, runs
    assert set(runs.values()) == {"ok"}, runs
    for page in PAGES:
        assert (run / "site" / page).is_file(), page
    enregistrer("chaines.carnets", len(runs), "carnets exécutés sans échec sur ces données (20001 et région)")
    enregistrer("chaines.duree_s", round(hostile_partout_run[2]), "durée de cette exécution (s)")


@pytest.mark.parametrize("page", PAGES)
def test_nothing_executes_and_data_stays_text(doms, page):
    dom, console = doms[page]
    assert problemes(dom, console) == []


def test_every_payload_is_shown_as_text(doms):
    """Each payload is read, decoded once, on the pages (the index shows commune names, q1 the
    action titles, q3 the quartiers, the Méthode page the data set's name…)."""
    vus = {page: payloads_affiches(dom) for page, (dom, _) in doms.items()}
    manquants = set(HOSTILE_PARTOUT) - set().union(*vus.values())
    assert not manquants, (manquants, {p: sorted(v) for p, v in vus.items()})
    enregistrer("chaines.pages_navigateur", len(doms), "pages vérifiées dans Chromium sans exécution")
    # each commune's own name is on each of its pages (20001: script + format; 20010: bidi + markdown)
    for page in PAGES:
        if "20001" in page:
            assert {"script", "format"} <= vus[page], (page, vus[page])
    assert {"bidi", "markdown"} <= vus["communes/20010.html"]


def test_right_to_left_names_keep_the_sentence_in_order(doms):
    """The isolated right-to-left run is followed by the data's own « 12, 31 » in logical order,
    and the override of the first bidi payload is gone: « sociale » follows the Arabic word."""
    texte = "".join(lisible(parse(dom).text()) for dom, _ in doms.values())
    assert "\u2068\u062a\u0639\u0627\u0648\u0646\u2069 12, 31" in texte
    assert "Médiation \u2068\u0645\u0631\u0643\u0632\u2069 sociale" in texte


def test_homonyms_keep_their_rows(hostile_partout_run):
    """Two quartiers, two operators, two actions and two communes share a name in the hostile
    copy, and the runs are ok (no pivot on a name crashed): the quartiers keep one row each in
    q2's and q3's results, the communes in the regional synthesis's. (On this copy, every number
    of every results file was the same with and without the homonyms, 2026-11-27.)"""
    run, _, _, homonymes = hostile_partout_run
    for q in ("q2", "q3"):
        res = (run / "results" / "20001" / f"{q}.json").read_text(encoding="utf-8")
        assert all(f'"{c}"' in res for c in homonymes["quartiers"]), q
    region = json.loads((run / "results" / "region" / "synthese_regionale.json").read_text(encoding="utf-8"))
    codes = [s for s in _strings(region) if s in homonymes["communes"]]
    assert set(codes) == set(homonymes["communes"]), codes


# --- downloads, results, figures -------------------------------------------------------------


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def problemes_csv(nom: str, data: bytes) -> list[str]:
    """What is wrong with a downloaded CSV: rows of different lengths (a « ; », a quote or a
    line break of the data escaped its cell), a text cell a spreadsheet would run."""
    rows = _rows(data)
    out = [f"{nom} : lignes de longueurs différentes"] if len({len(r) for r in rows}) > 1 else []
    for cell in (c for r in rows for c in r):
        if re.fullmatch(r"-[\d\s\u202f\u00a0]+(,\d+)?", cell):
            continue  # a negative number
        if cell.startswith(FORMULA_START):
            out.append(f"{nom} : formule {cell[:40]!r}")
    return out


def test_downloads_keep_their_columns_and_neutralise_formulas(run):
    files = sorted((run / "site" / "telechargements").rglob("*.csv"))
    assert files
    found = [p for f in files for p in problemes_csv(f.name, f.read_bytes())]
    assert found == []
    joined = "\n".join(c for f in files for r in _rows(f.read_bytes()) for c in r)
    for kind in ("csv", "saut", "script", "long"):
        assert HOSTILE_PARTOUT[kind].replace("\r\n", "\n") in joined.replace("\r\n", "\n"), kind
    assert "'" + HOSTILE_PARTOUT["formule"] in joined


def test_the_csv_check_can_fail():
    bad = "\ufeffa;b\r\n=SUM(A1);1\r\nQuartier ; guillemets;2\r\n".encode()
    found = problemes_csv("x.csv", bad)
    assert any("formule" in p for p in found) and any("longueurs" in p for p in found)
    good = '\ufeffa;b\r\n"\'=SUM(A1)";-1 234,5\r\n"Quartier ; guillemets";2\r\n'.encode()
    assert problemes_csv("x.csv", good) == []


def _strings(x) -> list[str]:
    if isinstance(x, str):
        return [x]
    if isinstance(x, dict):
        return [s for k, v in x.items() for s in (_strings(k) + _strings(v))]
    if isinstance(x, list):
        return [s for v in x for s in _strings(v)]
    return []


def test_results_keep_the_strings_verbatim(run):
    strings = []
    for path in (run / "results").rglob("*.json"):
        strings += _strings(json.loads(path.read_text(encoding="utf-8")))
    joined = "\n".join(strings)
    for kind, payload in HOSTILE_PARTOUT.items():
        assert payload in joined, kind
    assert "&lt;script" not in joined and "&amp;amp;" not in joined


def _texts_of(fig):
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_text()]


def _figure_problems(fig) -> list[str]:
    from matplotlib import cbook

    out = []
    for t in _texts_of(fig):
        s = t.get_text()
        if t.get_parse_math() and cbook.is_math_text(s):
            out.append(f"mathtext : {s[:60]!r}")
        if OVERRIDES.search(s) or CONTROLES.search(s) or re.search("[\u2066-\u2069\r]", s):
            out.append(f"contrôle : {s[:60]!r}")
    return out


def _figure_of_payloads():
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from cucs_analysis.present import plots

    df = pd.DataFrame({"nom": list(HOSTILE_PARTOUT.values()), "v": range(1, len(HOSTILE_PARTOUT) + 1)})
    fig = plots.barres_horizontales(df, "nom", "v", HOSTILE_PARTOUT["mathtext2"], HOSTILE_PARTOUT["bidi"])
    fig.axes[0].legend([HOSTILE_PARTOUT["isolats"]])
    return fig


def test_figure_labels_from_data_are_plain_text():
    """Every payload as a bar label, the title and the axis label: once published (figure_html)
    no text is mathtext nor holds a control character, and the alt text is escaped."""
    import matplotlib.pyplot as plt

    from cucs_analysis.present import plots

    fig = _figure_of_payloads()
    plt.rcParams["text.parse_math"] = True  # a notebook turning mathtext back on changes nothing
    try:
        shown = plots.figure_html(fig, alt=HOSTILE_PARTOUT["svg"] + HOSTILE_PARTOUT["bidi"])
        assert _figure_problems(fig) == []
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        assert text.sans_controles(HOSTILE_PARTOUT["mathtext2"]) in labels
        assert text.sans_controles(HOSTILE_PARTOUT["bidi"]) in labels
        page = shown._repr_html_()
        alt = re.search(r'alt="([^"]*)"', page)[1]
        assert "<svg" not in page and alt.startswith("&quot;&gt;&lt;svg onload=")
        assert not OVERRIDES.search(alt)
    finally:
        plt.rcParams["text.parse_math"] = False
        plt.close("all")


def test_the_figure_check_can_fail():
    import matplotlib.pyplot as plt

    fig = _figure_of_payloads()
    try:
        fig.canvas.draw()
        for t in _texts_of(fig):
            t.set_parse_math(True)
        found = _figure_problems(fig)
        assert any(p.startswith("mathtext") for p in found)
        assert any(p.startswith("contrôle") for p in found)
    finally:
        plt.close(fig)


def test_a_nul_character_is_refused_in_french(tmp_path):
    """A NUL in a name is not data the suite shows: the validator refuses the file, in French."""
    import shutil

    from conftest import ROOT

    from cucs_analysis.data import validate

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "demo", data)
    path = data / "communes.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Valbrune", "Val\x00brune", 1), encoding="utf-8")
    problems = [str(p) for p in validate.validate_dir(data)]
    assert len(problems) == 1 and problems[0].startswith(
        "communes.csv : le fichier n'est pas un fichier texte"
    )


# --- the checks can fail -------------------------------------------------------------------------

LIVE = {
    "svg": '<svg onload="' + PIRATE.format("svg") + '"><rect/></svg>',
    "img": '<img src=x onerror="' + PIRATE.format("img") + '" alt="a">',
    "javascript": '<a href="javascript:' + PIRATE.format("js") + '">lien</a>',
    "tableau": "<b class=pirate>hors tableau</b>",
    "markdown": '<strong>gras</strong> <em>italique</em> <a href="http://x.example">lien</a><h1>titre</h1>',
    "jinja": "<p>49 {{ config }} ${7*7}</p>",
    "double": "<p>&amp;lt;script&amp;gt;alert(1)</p>",
    "bidi": "<p>Médiation \u202e\u0645\u0631\u0643\u0632 sociale retient 12, sur 31</p>",
    "arabe": "<p>\u0645\u0631\u0643\u0632, 12 bénéficiaires</p>",
    "controle": "<p>cloche\x07</p>",
}


@pytest.mark.parametrize("kind", LIVE)
def test_the_dom_check_fails_on_a_live_payload(kind):
    page = f'<html lang="fr"><body><p>Texte du produit.</p>{LIVE[kind]}</body></html>'
    assert problemes(page, []) != [], kind
    assert problemes('<html lang="fr"><body><p>Texte du produit.</p></body></html>', []) == []


def test_the_browser_check_fails_on_live_payloads(tmp_path):
    """In Chromium, a page with live payloads sets the marker and is caught."""
    _chromium_or_skip()
    page = tmp_path / "vivant.html"
    page.write_text(
        '<!doctype html><html lang="fr"><body><p>Texte</p>'
        + LIVE["svg"]
        + LIVE["img"]
        + f"<script>console.log('pirate');{PIRATE.format('script')}</script></body></html>",
        encoding="utf-8",
    )
    dom, console = dump_dom(page.as_uri(), tmp_path / "profil")
    found = problemes(dom, console)
    assert any(p.startswith("marqueur data-pirate") for p in found), found
    assert any(p.startswith("console") for p in found), found
    assert any(p.startswith("élément <svg>") for p in found), found


def test_the_payload_search_can_fail():
    """A page that shows a payload escaped twice, or not at all, does not count it as shown."""
    escaped_twice = "<p>&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; Atelier « théâtre »</p>"
    assert "script" not in payloads_affiches(escaped_twice)
    once = "<p>&lt;script&gt;alert(1)&lt;/script&gt; Atelier « théâtre »</p>"
    assert "script" in payloads_affiches(once)


# --- the rule applied by the publisher (pure) ----------------------------------------------------


def test_every_text_node_of_a_published_page_follows_the_rule():
    """`typographie_html` cleans the text nodes whatever wrote them (a notebook output, a
    template), leaves tags and attributes alone, and the templates clean attribute values."""
    from cucs_analysis.pipeline import publish

    page = '<p title="a">\u202eMédiation \u0645\u0631\u0643\u0632 sociale\x07 : 12</p><pre>\u202bx</pre>'
    out = publish.typographie_html(page)
    assert (
        out == '<p title="a">Médiation \u2068\u0645\u0631\u0643\u0632\u2069 sociale\u00a0: 12</p><pre>x</pre>'
    )
    assert problemes(out, []) == [] and problemes(page, []) != []
    rendu = publish._jinja_env().from_string('<tr data-recherche="{{ nom }}"><td>{{ nom }}</td></tr>')
    html_ = rendu.render(nom="\u202e<b>Cité</b> \u0645\u0631")
    assert html_ == (
        '<tr data-recherche="&lt;b&gt;Cité&lt;/b&gt; \u2068\u0645\u0631\u2069">'
        "<td>&lt;b&gt;Cité&lt;/b&gt; \u2068\u0645\u0631\u2069</td></tr>"
    )
