"""Tests of the HTML export and the static site (cucs_analysis.pipeline.publish)."""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from cucs_analysis.pipeline import atomic, publish

FIXTURE_OUT = Path(__file__).parent / "fixtures" / "resultats_publication"
# a valid 1x1 PNG
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
INJECTED = "&lt;script&gt;alert(1)&lt;/script&gt;"
TITLE_Q3 = "Géographie prioritaire — Valbrune-sur-Lèze (20001) | cucs-analysis"


# --- helpers --------------------------------------------------------------------------------


def make_notebook(with_alt: bool = True) -> nbformat.NotebookNode:
    """A tiny executed notebook with everything a page must hide or show."""
    figure_meta = {"image/png": {"alt": "Carte des quartiers éligibles"}} if with_alt else {}
    return new_notebook(
        cells=[
            new_markdown_cell(
                "# Géographie prioritaire\n\n## En bref\n\nDeux quartiers sont éligibles.\n\n"
                '<span onclick="alert(2)">Légende</span>'
            ),
            new_code_cell('code_commune = "20001"', metadata={"tags": ["parameters"]}),
            new_code_cell(
                "secret_code = 42\nshow(table)",
                execution_count=3,
                outputs=[
                    new_output("stream", name="stdout", text="secret_code vaut 42\n"),
                    new_output("stream", name="stderr", text="Avertissement interne\n"),
                    new_output(
                        "display_data",
                        data={"text/html": f"<p class='action'>Action : {INJECTED}</p>", "text/plain": "x"},
                    ),
                    new_output(
                        "display_data",
                        data={"image/png": PNG, "text/plain": "<Figure>"},
                        metadata=figure_meta,
                    ),
                    new_output("execute_result", data={"text/plain": "secret_code"}, execution_count=3),
                    # what a careless library call could emit: must be stripped from the page
                    new_output("display_data", data={"application/javascript": "alert('js')"}),
                    new_output(
                        "display_data", data={"text/html": "<script>alert('html')</script><p>Suite</p>"}
                    ),
                ],
            ),
            new_code_cell(
                "debug()",
                metadata={"tags": ["remove"]},
                outputs=[new_output("display_data", data={"text/html": "<p>CELLULE_RETIREE</p>"})],
            ),
            new_code_cell(
                "raise_it()",
                outputs=[
                    new_output("error", ename="ValueError", evalue="secret_code", traceback=["secret_code"])
                ],
            ),
        ]
    )


class PageParser(HTMLParser):
    """Collects what the tests look at: title, tags with attributes, style sizes, text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.title = ""
        self.style_chars = 0
        self.text: list[str] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in self._stack:
            while self._stack.pop() != tag:
                pass

    def handle_data(self, data):
        current = self._stack[-1] if self._stack else ""
        if current == "title":
            self.title += data
        elif current == "style":
            self.style_chars += len(data)
        elif current != "script":
            self.text.append(data)

    def of(self, name: str) -> list[dict]:
        return [a for t, a in self.tags if t == name]


def parse(path_or_text) -> PageParser:
    text = path_or_text.read_text(encoding="utf-8") if isinstance(path_or_text, Path) else path_or_text
    p = PageParser()
    p.feed(text)
    return p


def spaces(text: str) -> str:
    """Normalise the no-break spaces of French formatting."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def make_out(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(FIXTURE_OUT, out)
    pages = {
        ("20001", "q3", "Valbrune-sur-Lèze"): make_notebook(),
        ("20001", "q7", "Valbrune-sur-Lèze"): make_notebook(),
        ("20002", "q7", "Montcalm-les-Tours"): make_notebook(),
        # a stale page of a run that failed this time: must not be published
        ("20002", "q3", "Montcalm-les-Tours"): make_notebook(),
        ("region", "synthese_regionale", "Région"): make_notebook(),
    }
    for (code, question, nom), nb in pages.items():
        path = out / "pages" / code / f"{question}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(publish.render_page(nb, question, code, nom), encoding="utf-8")
    return out


@pytest.fixture
def site(tmp_path) -> Path:
    return publish.build_site(make_out(tmp_path))


# --- render_page ----------------------------------------------------------------------------


def test_page_is_french_titled_and_has_no_code():
    page = publish.render_page(make_notebook(), "q3", "20001", "Valbrune-sur-Lèze")
    p = parse(page)
    assert '<html lang="fr">' in page
    assert p.title == TITLE_Q3
    assert "secret_code" not in page
    assert "In [" not in page and "Out[" not in page
    assert "CELLULE_RETIREE" not in page  # cell tagged remove
    assert "Avertissement interne" not in page  # stderr
    assert "<script" not in page.lower()
    assert "alert(" not in page.replace(INJECTED, "") and "onclick" not in page
    assert "Suite" in page and "Légende" in page
    # the injected title arrives escaped and stays text
    assert INJECTED in page
    assert "Action : <script>alert(1)</script>" in "".join(p.text)
    # the narrative is kept
    assert "Deux quartiers sont éligibles." in page


def test_page_uses_shared_stylesheet_and_nothing_from_internet():
    page = publish.render_page(make_notebook(), "q3", "20001", "Valbrune-sur-Lèze")
    p = parse(page)
    assert [a["href"] for a in p.of("link") if a.get("rel") == "stylesheet"] == ["../../static/cucs.css"]
    assert len(page.encode()) < 30 * 1024  # nbconvert's default inlines ~270 KiB of CSS
    assert p.style_chars < 2000
    for tag in ("link", "img", "script", "iframe"):
        for attrs in p.of(tag):
            for key in ("href", "src"):
                assert not (attrs.get(key) or "").startswith(("http:", "https:", "//")), (tag, attrs)
    nav = [a["href"] for a in p.of("a")]
    assert {"../../index.html", "../../communes/20001.html", "../../methode.html"} <= set(nav)
    assert "mathjax" not in page.lower() and "require.js" not in page.lower()


def test_figures_get_alt_from_metadata_or_a_generic_one_with_warning(caplog):
    with_alt = publish.render_page_with_warnings(make_notebook(True), "q3", "20001", "Valbrune-sur-Lèze")
    assert [a.get("alt") for a in parse(with_alt.html).of("img")] == ["Carte des quartiers éligibles"]
    assert with_alt.warnings == ()

    without = publish.render_page_with_warnings(make_notebook(False), "q3", "20001", "Valbrune-sur-Lèze")
    assert [a.get("alt") for a in parse(without.html).of("img")] == ["Figure : Géographie prioritaire"]
    assert len(without.warnings) == 1 and "texte alternatif" in without.warnings[0]

    with caplog.at_level(logging.WARNING, logger="cucs_analysis.pipeline.publish"):
        publish.render_page(make_notebook(False), "q3", "20001", "Valbrune-sur-Lèze")
    assert any("texte alternatif" in r.getMessage() for r in caplog.records)


def test_render_page_does_not_modify_the_notebook():
    nb = make_notebook()
    before = nbformat.writes(nb)
    publish.render_page(nb, "q3", "20001", "Valbrune-sur-Lèze")
    assert nbformat.writes(nb) == before


@pytest.mark.parametrize("tag", sorted(publish.REMOVE_CELL_TAGS | publish.REMOVE_OUTPUT_TAGS))
def test_tagged_cells_and_outputs_are_left_out(tag):
    shown = new_output("display_data", data={"text/html": "<p>VISIBLE</p>"})
    nb = new_notebook(
        cells=[
            new_markdown_cell("RECIT_TAGUE", metadata={"tags": [tag]}),
            new_code_cell(
                "x",
                metadata={"tags": [tag]},
                outputs=[new_output("display_data", data={"text/html": "<p>SORTIE_TAGUEE</p>"})],
            ),
            new_code_cell("y", outputs=[shown]),
        ]
    )
    cleaned, _ = publish.clean_notebook(nb, "Figure")
    page = publish.render_page(nb, "q3", "20001", "Valbrune-sur-Lèze")
    assert "SORTIE_TAGUEE" not in page and "VISIBLE" in page
    # a cell whose outputs are removed is left out whole (no empty block on the page)
    assert [c.cell_type for c in cleaned.cells] == (
        ["code"] if tag in publish.REMOVE_CELL_TAGS else ["markdown", "code"]
    )
    assert ("RECIT_TAGUE" in page) == (tag in publish.REMOVE_OUTPUT_TAGS)


def test_raw_cells_bare_results_and_code_are_not_published():
    nb = new_notebook(
        cells=[
            nbformat.v4.new_raw_cell("BRUT_SECRET"),
            new_code_cell(
                "CODE_SECRET = 1\nCODE_SECRET",
                execution_count=4,
                outputs=[
                    new_output("execute_result", data={"text/plain": "REPR_SECRET"}, execution_count=4),
                    new_output(
                        "execute_result",
                        data={"text/html": "<p>TABLEAU</p>", "text/plain": "t"},
                        execution_count=4,
                    ),
                    new_output("display_data", data={"image/png": PNG}),
                ],
            ),
        ]
    )
    cleaned, warnings = publish.clean_notebook(nb, "Figure : Q")
    [code] = [c for c in cleaned.cells if c.cell_type == "code"]
    assert [o.output_type for o in code.outputs] == ["execute_result", "display_data"]
    assert warnings == ["Figure sans texte alternatif (cellule 4) : « Figure : Q » utilisé."]
    page = publish.render_page(nb, "q3", "20001", "Valbrune-sur-Lèze")
    for secret in ("BRUT_SECRET", "CODE_SECRET", "REPR_SECRET"):
        assert secret not in page, secret
    assert "TABLEAU" in page


def test_page_title_variants():
    assert publish.page_title("q3", "20001", "Valbrune-sur-Lèze") == TITLE_Q3
    assert publish.page_title("q3", "20001", "") == "Géographie prioritaire — 20001 | cucs-analysis"
    assert (
        publish.page_title("synthese_regionale", "region", "Région") == "Synthèse régionale | cucs-analysis"
    )


# --- sanitising -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fragment", "absent", "present"),
    [
        ("<p>a</p><script>alert(1)</script><p>b</p>", "alert", "<p>b</p>"),
        ("<SCRIPT src=x></SCRIPT>ok", "<script", "ok"),
        ('<a href="javascript:alert(1)">lien</a>', "javascript", "<a>lien</a>"),
        ('<a href=" JaVa\tScript:alert(1)">lien</a>', "script", "lien"),
        ('<img src="x.png" onerror="alert(1)" alt="Carte">', "onerror", 'alt="Carte"'),
        ('<iframe src="https://exemple.fr"></iframe><p>après</p>', "iframe", "<p>après</p>"),
        ('<img src="https://cdn.exemple.fr/a.png" alt="a">', "cdn.exemple", 'alt="a"'),
        ("<style>@import url(https://fonts.exemple.fr/x.css);</style><p>t</p>", "@import", "<p>t</p>"),
        ('<link rel="stylesheet" href="https://cdn/x.css"><p>t</p>', "<link", "<p>t</p>"),
        ("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", "<script", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<!-- <script>x</script> --><p>c</p>", "<!--", "<p>c</p>"),
        ('<svg><script>alert(1)</script><circle r="1"/></svg>', "alert", '<circle r="1">'),
        ("<style>td > b { color: red; }</style>", "&gt;", "td > b"),
    ],
)
def test_sanitize_html(fragment, absent, present):
    cleaned, _ = publish.sanitize_html(fragment)
    assert absent.lower() not in cleaned.lower()
    assert present in cleaned


def test_sanitize_html_adds_missing_alt():
    cleaned, warnings = publish.sanitize_html(
        '<img src="data:image/png;base64,AAAA"><img src="a.png" alt="">', "Figure : Q"
    )
    assert [a.get("alt") for a in parse(cleaned).of("img")] == ["Figure : Q", "Figure : Q"]
    assert parse(cleaned).of("img")[0]["src"].startswith("data:image/png")
    assert len(warnings) == 2


# --- pure helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("valeur", "unite", "attendu"),
    [
        (12.345, "%", "12,3 %"),
        (1234, "€", "1 234 €"),
        (1234567.8, "€", "1 234 568 €"),
        (0.456, None, "0"),  # one number of decimals per unit (text.chiffre_cle), none without unit
        (1.37, "€", "1 €"),
        (45, "jours", "45 jours"),
        ("s", "%", "s"),
        (None, "%", "n.d."),
        (True, "", "oui"),
        (float("nan"), "%", "n.d."),
    ],
)
def test_format_chiffre(valeur, unite, attendu):
    assert spaces(publish.format_chiffre(valeur, unite)) == attendu


def test_results_tables():
    results = {
        "question": "q5",
        "parametres": {"quartiers": ["A", "B"]},
        "constats": ["Une phrase."],
        "chiffres_cles": [{"id": "x", "libelle": "X", "valeur": 1.5, "unite": "%"}],
        "recouvrement": {
            "menages_multi_dispositifs": 14,
            "combinaisons": [{"dispositifs": "PRE+CLAS", "effectif": 12}],
        },
        "sous_performants": ["OP001", "OP007"],
        "vide": [],
        "progression": [{"niveau_entree": "1", "niveau_sortie": "2", "effectif": "s"}],
    }
    tables = publish.results_tables(results)
    assert set(tables) == {
        "constats",
        "chiffres_cles",
        "recouvrement_combinaisons",
        "sous_performants",
        "progression",
    }
    assert tables["sous_performants"]["sous_performants"].tolist() == ["OP001", "OP007"]
    assert tables["recouvrement_combinaisons"].to_dict("records") == [
        {"dispositifs": "PRE+CLAS", "effectif": 12}
    ]


def test_csv_bytes_is_french_spreadsheet_friendly():
    import pandas as pd

    data = publish.csv_bytes(pd.DataFrame({"code": ["01001"], "taux": [12.5], "eligible": [True]}))
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines() == ["code;taux;eligible", "01001;12,5;oui"]


def test_runs_table_without_manifest_uses_pages_and_drops_unsafe_codes():
    runs = publish.runs_table({}, [("20001", "q3"), ("..", "q3")])
    assert runs[["code_commune", "question", "statut"]].values.tolist() == [["20001", "q3", "ok"]]


# --- the site -------------------------------------------------------------------------------


def test_site_layout(site):
    for rel in (
        "index.html",
        "methode.html",
        "static/cucs.css",
        "static/recherche.js",
        "communes/20001.html",
    ):
        assert (site / rel).is_file(), rel
    assert (site / "pages/20001/q3.html").is_file()
    # a page of a failed run is never published, even if an old one lies in out/pages
    assert not (site / "pages/20002/q3.html").exists()
    assert not list(site.parent.glob("site.tmp-*"))


def test_every_page_french_without_foreign_script(site):
    for path in site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert '<html lang="fr">' in text, path
        scripts = [a for t, a in parse(text).tags if t == "script"]
        if path == site / "index.html":
            assert scripts == [{"src": "static/recherche.js", "defer": None}]
        else:
            assert scripts == [], path
        assert text.lower().count("<script") == len(scripts)
        for img in parse(text).of("img"):
            assert (img.get("alt") or "").strip(), path


def test_relative_links_resolve(site):
    checked = 0
    for path in site.rglob("*.html"):
        p = parse(path)
        ids = {a["id"] for _, a in p.tags if "id" in a}
        for _tag, attrs in p.tags:
            for key in ("href", "src"):
                url = attrs.get(key)
                if url is None or url.startswith(("data:", "mailto:")):
                    continue
                parts = urlsplit(url)
                assert not parts.scheme and not parts.netloc, (path, url)
                assert not url.startswith("/"), (path, url)
                if not parts.path:
                    assert parts.fragment in ids, (path, url)
                    continue
                target = (path.parent / unquote(parts.path)).resolve()
                assert target.is_file(), (path, url)
                assert site.resolve() in target.parents, (path, url)
                checked += 1
    assert checked > 20


def test_index_status_headline_and_failure(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    p = parse(index)
    text = spaces(unescape("".join(p.text)))
    hrefs = [a.get("href") for a in p.of("a")]
    assert "pages/20001/q3.html" in hrefs and "pages/20002/q7.html" in hrefs
    assert "pages/20002/q3.html" not in hrefs
    assert "66,7 %" in text  # first key figure of 20001/q3, French-formatted
    assert "1 234 jours" in text
    assert "échec" in text
    assert "La table « quartiers » est vide pour cette commune" in text
    assert "<b>" not in index and "&lt;b&gt;analyse impossible&lt;/b&gt;" in index  # error text escaped
    assert "ignoré" not in text  # 20003: resumed run without a page reads "absent"
    assert "Valbrune-sur-Lèze" in text and "Montcalm-les-Tours" in text
    rows = [a.get("data-recherche") for a in p.of("tr") if a.get("data-recherche")]
    assert rows == ["Valbrune-sur-Lèze 20001", "Montcalm-les-Tours 20002", "20003"]
    # a run skipped by --resume ("ignore") keeps its published page
    assert "pages/20001/q7.html" in hrefs
    # the regional synthesis is linked apart from the communes table
    assert "pages/region/synthese_regionale.html" in hrefs
    assert "region" not in rows


def test_commune_page(site):
    page = (site / "communes/20001.html").read_text(encoding="utf-8")
    text = unescape("".join(parse(page).text))
    assert "2 quartiers sur 3 sont éligibles selon la règle QPV 2014." in text
    assert "Les revenus de 2011 sont les seuls disponibles." in text
    assert "Action <script>alert(1)</script> citée." in text  # shown as text
    assert "<script" not in page
    hrefs = [a.get("href") for a in parse(page).of("a")]
    assert "../pages/20001/q3.html" in hrefs
    assert "../telechargements/20001/q3_eligibilite.csv" in hrefs
    failed = (site / "communes/20002.html").read_text(encoding="utf-8")
    assert "Résultat périmé" not in failed  # stale results of the failed run are not shown
    assert "L'analyse a échoué" in unescape(failed)


def test_csv_downloads(site):
    path = site / "telechargements/20001/q3_eligibilite.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["code_quartier", "regle_zus", "regle_qpv2014", "regle_dynamique"]
    assert rows[1] == ["20001Q01", "oui", "oui", "non"]
    typo = (site / "telechargements/20001/q3_typologie.csv").read_bytes().decode("utf-8-sig")
    assert "10234,5" in typo
    assert not (site / "telechargements/20002/q3_eligibilite.csv").exists()  # failed run


def test_methode_page(site):
    text = unescape("".join(parse(site / "methode.html").text))
    for sigle in (
        "CUCS",
        "ZUS",
        "ZRU",
        "ZFU",
        "QPV",
        "ACSé",
        "CLAS",
        "OVV",
        "PRE",
        "VVV",
        "ASV",
        "GUP",
        "GIP",
        "EPCI",
        "UU",
    ):
        assert sigle in text, sigle
    assert "Droit commun" in text and "Crédits spécifiques" in text
    assert "11" in text and "secret" in text.lower()
    assert "0,6 × (0,7 × médiane nationale + 0,3 × médiane de l'unité urbaine)" in text


def test_build_site_without_manifest(tmp_path):
    out = make_out(tmp_path)
    (out / "manifest.json").unlink()
    site = publish.build_site(out)
    hrefs = [a.get("href") for a in parse(site / "index.html").of("a")]
    assert "pages/20002/q3.html" in hrefs  # without a manifest every page found counts as ok


# --- atomic publication ---------------------------------------------------------------------


def test_failed_build_leaves_old_site_intact(tmp_path, monkeypatch):
    out = make_out(tmp_path)
    site = publish.build_site(out)
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}

    real_render = publish._render

    def failing(template, **context):
        if template == "methode.html.j2":  # the last step: the index is already written
            raise RuntimeError("panne simulée")
        return real_render(template, **context)

    monkeypatch.setattr(publish, "_render", failing)
    (out / "manifest.json").unlink()  # the next build would change the index
    with pytest.raises(RuntimeError, match="panne simulée"):
        publish.build_site(out)
    after = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("site")) == ["site"]


@pytest.mark.parametrize("exchange", [True, False])
def test_rebuild_replaces_site(tmp_path, monkeypatch, exchange):
    out = make_out(tmp_path)
    publish.build_site(out)
    (out / "site" / "vieux.txt").write_text("ancien")
    if not exchange:  # the portable two-rename fallback
        monkeypatch.setattr(atomic, "_renameat2_exchange", lambda a, b: False)
    (out / "manifest.json").unlink()
    site = publish.build_site(out)
    assert not (site / "vieux.txt").exists()
    assert "pages/20002/q3.html" in (site / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("site")) == ["site"]


def test_figure_as_html_output_keeps_its_alt():
    # the form cucs_analysis.present.plots.show displays: a text/html <figure> with an inline PNG and alt
    figure = (
        '<figure class="cucs-figure"><img src="data:image/png;base64,' + PNG + '" alt="Taux de chômage, '
        'quartier et commune" style="max-width:100%;height:auto"><figcaption>Source : Insee</figcaption></figure>'
    )
    nb = new_notebook(
        cells=[new_code_cell("show(fig)", outputs=[new_output("display_data", data={"text/html": figure})])]
    )
    rendered = publish.render_page_with_warnings(nb, "q2", "20001", "Valbrune-sur-Lèze")
    imgs = parse(rendered.html).of("img")
    assert [i["alt"] for i in imgs] == ["Taux de chômage, quartier et commune"]
    assert imgs[0]["src"].startswith("data:image/png;base64,")
    assert "Source : Insee" in rendered.html
    assert rendered.warnings == ()


def test_a_section_says_once_that_its_data_is_missing():
    def nd(quoi):
        html = f'<p class="cucs-non-disponible">Données non disponibles : {quoi}.</p>'
        return new_code_cell("d.tableau(…)", outputs=[new_output("display_data", data={"text/html": html})])

    def nul(phrase):  # a measured zero (display.est_mesure_nulle) also says the section is empty
        html = f'<p class="cucs-mesure-nulle">{phrase}.</p>'
        return new_code_cell("d.tableau(…)", outputs=[new_output("display_data", data={"text/html": html})])

    table = '<div class="cucs-tableau-bloc"><table class="cucs-tableau"></table></div>'
    nb = new_notebook(
        cells=[
            new_markdown_cell("## 1. Actions"),
            nd("aucune action"),
            nd("tableau des actions"),  # same section: dropped
            nul("Aucune action financée"),  # same section: dropped
            new_markdown_cell("## 2. Écarts"),
            nd("aucun quartier suivi"),  # a new section says it again
            new_code_cell("d.tableau(…)", outputs=[new_output("display_data", data={"text/html": table})]),
            nd("enquêtes"),  # after content: kept
        ]
    )
    clean, _ = publish.clean_notebook(nb, "Figure")
    shown = ["".join(o["data"]["text/html"]) for c in clean.cells if c.cell_type == "code" for o in c.outputs]
    assert [s.split(": ")[-1] for s in shown if "non-disponible" in s] == [
        "aucune action.</p>",
        "aucun quartier suivi.</p>",
        "enquêtes.</p>",
    ]
    assert not any("Aucune action financée" in s for s in shown)


def test_published_tables_put_what_a_row_is_about_first():
    """Results files have sorted keys; the download reads « dispositif » before its figures."""
    t = publish.results_tables(
        {"tableau_de_bord": [{"actions": 3, "budget": 10.0, "dispositif": "PRE", "motif": None}]}
    )["tableau_de_bord"]
    assert list(t.columns) == ["dispositif", "actions", "budget", "motif"]


@pytest.mark.parametrize(
    ("erreur", "attendu"),
    [
        (
            "DeadKernelError : Kernel died before replying to kernel_info",
            "Le noyau Python du carnet s'est arrêté",
        ),
        ("CellTimeoutError : A cell timed out while it was being executed", "Délai dépassé"),
        ("KeyboardInterrupt", "Exécution interrompue"),
    ],
)
def test_technical_failures_read_in_french_on_the_site(erreur, attendu):
    """Issue 9: « Kernel died » and its kind never reach the site in English."""
    assert publish._error_summary(erreur).startswith(attendu)
    cell = publish._cell({"statut": "echec", "erreur": erreur}, None, False, question="q1")
    assert cell["erreur"].startswith(attendu) and "Kernel" not in cell["erreur"]


def test_a_french_error_is_kept_as_written():
    assert publish._error_summary("NotebookError : la commune « 99999 » est absente") == (
        "NotebookError : la commune « 99999 » est absente"
    )


def test_downloads_use_the_reports_labels_and_never_a_list_repr(tmp_path):
    """A report names its tables and labels its codes in its results (`libelles_tables`,
    `libelles_codes`); a list inside a record (the dispositifs of a combination) reads
    « ASV + PRE », never ``['ASV', 'PRE']``."""
    out = make_out(tmp_path)
    path = out / "results" / "20001" / "q7.json"
    res = json.loads(path.read_text(encoding="utf-8"))
    res["combinaisons"] = [
        {"dispositifs": ["ASV", "chantier d'insertion"], "menages": 28, "tendance": "pas_de_tendance"},
        {"dispositifs": [], "menages": 96, "tendance": "hausse"},
    ]
    res["libelles_codes"] = {
        "tendance": {"pas_de_tendance": "pas de tendance nette", "hausse": "=HYPERLINK(1)"},
        "dispositifs": {"chantier d'insertion": "Chantier d'insertion"},
        "x": 3,
    }
    res["libelles_tables"] = {"combinaisons": "Ménages par combinaison de dispositifs"}
    path.write_text(json.dumps(res, ensure_ascii=False), encoding="utf-8")
    site = publish.build_site(out)
    raw = (site / "telechargements/20001/q7_combinaisons.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw), delimiter=";"))
    assert [(r["dispositifs"], r["tendance"], r["menages"]) for r in rows] == [
        ("ASV + Chantier d'insertion", "pas de tendance nette", "28"),  # each item labelled
        ("", "'=HYPERLINK(1)", "96"),  # a label is safe from formulas too
    ]
    assert "[" not in raw
    page = unescape((site / "communes/20001.html").read_text(encoding="utf-8"))
    assert "Ménages par combinaison de dispositifs" in page


def test_a_ratio_of_euros_keeps_its_cents_in_downloads():
    """1,86 € per euro is not « 1,9 »: co-funding columns have two decimals."""
    assert publish.unite_colonne("effet_levier_min")[1] == 2
    t = publish.table_publiee(pd.DataFrame({"structure": ["GIP"], "effet_levier": [1.8567], "part": [0.25]}))
    assert t["effet_levier"].tolist() == [1.86]


def _out_with_data(tmp_path: Path, communes: list[str], meta: dict) -> Path:
    """The fixture output whose manifest points to a small data folder: `communes` (codes) in
    communes.csv, `meta` as its metadonnees.yaml."""
    import yaml

    out = make_out(tmp_path)
    data = tmp_path / "donnees"
    data.mkdir()
    pd.DataFrame({"code_commune": communes, "nom": [f"Commune {c}" for c in communes]}).to_csv(
        data / "communes.csv", index=False
    )
    (data / "metadonnees.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    (data / "catalogue_indicateurs.csv").write_text(
        "indicateur,libelle,unite,sens,theme,source,definition\n"
        "taux_pauvrete,Taux de pauvreté,%,hausse_degradation,revenus,INSEE,Part des pauvres\n",
        encoding="utf-8",
    )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["dossier_donnees"] = str(data)
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return out


RUN = ["20001", "20002", "20003"]  # the communes the fixture's manifest ran


@pytest.mark.parametrize(
    ("autres", "phrase"),
    [
        (0, None),
        (1, "1 autre commune du jeu de données n'a pas été traitée dans cette exécution."),
        (45, "45 autres communes du jeu de données n'ont pas été traitées dans cette exécution."),
    ],
)
def test_index_lists_the_communes_run_and_counts_the_others(tmp_path, autres, phrase):
    others = [f"{30000 + i}" for i in range(autres)]
    site = publish.build_site(_out_with_data(tmp_path, RUN + others, {"nom": "Essai"}))
    index = parse(site / "index.html")
    rows = [a.get("data-recherche") for a in index.of("tr") if a.get("data-recherche")]
    assert [r.split()[-1] for r in rows] == RUN  # never a row of « non exécuté » cells
    text = spaces(unescape("".join(index.text)))
    assert "autre" not in text if phrase is None else phrase in text
    assert "Rechercher une commune" in text and 'id="tableau-communes"' in (site / "index.html").read_text(
        encoding="utf-8"
    )
    for code in others:  # their page stays (the regional pages link every commune)
        assert (site / "communes" / f"{code}.html").is_file()


def test_dataset_description_is_optional_and_escaped(tmp_path):
    site = publish.build_site(_out_with_data(tmp_path, RUN, {"nom": "Essai"}))  # no description
    text = spaces(unescape("".join(parse(site / "methode.html").text)))
    assert "« Essai »" in text and "Taux de pauvreté" in text
    site = publish.build_site(_out_with_data(tmp_path / "b", RUN, {"description": "Jeu <b>réel</b>"}))
    page = (site / "methode.html").read_text(encoding="utf-8")
    assert "Jeu &lt;b&gt;réel&lt;/b&gt;" in page and "<b>réel" not in page


def test_a_boolean_a_record_lacks_is_published_empty_not_oui():
    """json_normalize fills a key some records lack with NaN, which is true to Python: the
    published cell stays empty (never « oui »), the others read « oui » / « non »."""
    tables = publish.results_tables(
        {"lignes": [{"code": "A", "eligible": True}, {"code": "B"}, {"code": "C", "eligible": False}]}
    )
    valeurs = publish.table_publiee(tables["lignes"])["eligible"].tolist()
    assert valeurs[0] == "oui" and pd.isna(valeurs[1]) and valeurs[2] == "non"
    lignes = publish.csv_bytes(tables["lignes"]).decode("utf-8-sig").split("\r\n")
    assert lignes[1:4] == ["A;oui", "B;", "C;non"]
