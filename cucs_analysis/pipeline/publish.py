"""HTML export of executed notebooks and the static site.

Two entry points used by the runner:

- ``render_page(nb, question_id, code_commune, nom_commune)`` turns one executed notebook into a
  self-contained French HTML page (no code, no prompts, one shared stylesheet, no script,
  every figure with an ``alt``). Figures follow the ``plots.show(fig, alt)`` contract: a
  ``display_data`` output with ``image/png`` and ``metadata["image/png"]["alt"]``.
- ``build_site(out_dir, racine)`` assembles ``out_dir/site`` (index, one page per commune of
  the data set, run or not, and its printable dossier, "Méthode", the question pages, CSV
  downloads with a LISEZMOI.txt per folder) in a temporary folder and swaps it in atomically.

Every published page goes through `typographie_html` (French no-break spaces in its visible
text). A (commune, question) is in one of five states on the index and the commune page
(`ETAT_LIBELLES`): analysis available (a « Lire » link), « hors CUCS » (a commune that did not
sign), « données non disponibles » (a signatory whose data is missing), « échec » (the run
failed) or « non exécuté ». A commune's dossier (``communes/<code>-dossier.html``) puts its
synthesis and question pages one after another; the stylesheet's ``@media print`` rules print
it as one document (no navigation, one question per sheet, link targets written out). A PDF
would need a browser or WeasyPrint at build time: neither is a dependency, so the browser's
« Imprimer » makes the PDF.

Downloads (`table_publiee`, `csv_bytes`): codes become labels, numbers are rounded per unit
(half up, as the pages write them), « ; » and the decimal comma, UTF-8 with a byte-order mark
(what Excel in French reads without an import step), text cells safe from formula injection.

The site only uses relative links, so it works opened from disk and from any static server.
"""

from __future__ import annotations

import copy
import functools
import html
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import nh3
import numpy as np
import pandas as pd

from cucs_analysis.analysis import motifs as _motifs
from cucs_analysis.data.schema import DOMAINE_LIBELLES
from cucs_analysis.pipeline import atomic
from cucs_analysis.present import labels as _labels
from cucs_analysis.present import methode as _methode
from cucs_analysis.present import text as _text
from cucs_analysis.reports import questions as _questions
from cucs_analysis.reports import synthese as _synthese

logger = logging.getLogger(__name__)

SITE_NAME = "cucs-analysis"
SITE_DIR = "site"
STATIC_FILES = ("cucs.css", "recherche.js")

#: Cell tags whose whole cell is left out of the page.
REMOVE_CELL_TAGS = frozenset({"remove", "hide", "remove-cell", "remove_cell", "hide-cell", "hide_cell"})
#: Cell tags whose outputs are left out of the page.
REMOVE_OUTPUT_TAGS = frozenset({"remove-output", "remove_output", "hide-output", "hide_output"})

#: Run statuses whose page and results are published ("ignore": skipped by --resume, unchanged).
PUBLISHED_STATUTS = frozenset({"ok", "ignore"})

STATUT_LIBELLES = {"ok": "analyse disponible", "echec": "échec", "ignore": "ignoré", "absent": "non exécuté"}

#: The state of a (commune, question) on the index and the commune page: a commune outside the
#: CUCS, a signatory whose data is missing and a failed run are three different things.
ETAT_LIBELLES = {
    "ok": "analyse disponible",
    "hors_cucs": _labels.MOTIF_LIBELLES[_motifs.HORS_CUCS],
    "donnees_absentes": _labels.MOTIF_LIBELLES[_motifs.DONNEE_ABSENTE],
    "echec": "échec",
    "absent": "non exécuté",
}
#: The label of the link to a question page on the index (never the bare status « ok »).
LIEN_LIBELLE = "Lire"

#: The questions about the CUCS programme itself (no object for a commune outside the CUCS).
QUESTIONS_PROGRAMME = frozenset({"q1", "q2", "q4", "q5", "q6", "q7", "q8", "synthese"})

_SAFE_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]*$")


# --- small value types ----------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedPage:
    """One exported page and the problems noticed while exporting it (French messages)."""

    html: str
    warnings: tuple[str, ...]


# --- titles and French formatting -----------------------------------------------------------


def _question_titre(question_id: str) -> str:
    q = _questions.BY_ID.get(question_id)
    return q.titre if q is not None else question_id


def _is_regional(question_id: str) -> bool:
    q = _questions.BY_ID.get(question_id)
    return bool(q is not None and q.regional)


def page_title(question_id: str, code_commune: str, nom_commune: str) -> str:
    """The ``<title>`` of a question page, e.g. ``Géographie prioritaire — Valbrune (20001) | cucs-analysis``."""
    titre = _question_titre(question_id)
    if _is_regional(question_id):
        return f"{titre} | {SITE_NAME}"
    nom = nom_commune or code_commune
    lieu = f"{nom} ({code_commune})" if nom != code_commune else code_commune
    return f"{titre} — {lieu} | {SITE_NAME}"


def format_chiffre(valeur: object, unite: object = None) -> str:
    """A key figure in French (the templates' ``chiffre`` filter and the index cells): exactly
    `cucs_analysis.present.text.chiffre_cle`, which the syntheses use too."""
    return _text.chiffre_cle(valeur, unite)


# --- notebook cleaning (pure) ---------------------------------------------------------------


def _keep_output(output: Mapping) -> bool:
    kind = output.get("output_type")
    if kind in {"stream", "error"}:
        return False  # stdout/stderr and tracebacks show code and internals
    if kind == "execute_result" and set(output.get("data", {})) <= {"text/plain"}:
        return False  # the bare repr of the cell's last value (e.g. `<Axes: …>`) is code noise
    return kind in {"display_data", "execute_result"}


@functools.cache
def _tag_remover():
    from nbconvert.preprocessors import TagRemovePreprocessor

    return TagRemovePreprocessor(
        remove_cell_tags=set(REMOVE_CELL_TAGS), remove_all_outputs_tags=set(REMOVE_OUTPUT_TAGS)
    )


def _is_missing_data(output: Mapping) -> bool:
    """Whether an output is only the sentence of a section that has nothing to show: « Données
    non disponibles : … » (or its reason) or a measured zero (« Aucun … »)."""
    html_text = output.get("data", {}).get("text/html", "")
    html_text = "".join(html_text) if isinstance(html_text, list) else str(html_text)
    starts = ('<p class="cucs-non-disponible">', '<p class="cucs-mesure-nulle">')
    return html_text.startswith(starts) and html_text.count("<p") == 1


def clean_notebook(nb: nbformat.NotebookNode, figure_alt: str) -> tuple[nbformat.NotebookNode, list[str]]:
    """A copy of ``nb`` fit for publication, and the French warnings raised while cleaning.

    nbconvert's ``TagRemovePreprocessor`` drops the cells tagged ``remove``/``hide`` (and
    variants) and the outputs of cells tagged ``remove-output``/``hide-output``; then stream
    and error outputs, bare ``text/plain`` results and the code cells left without outputs
    are dropped, a code cell that only repeats that the section's data is missing (after another
    such cell, with no heading between them) is dropped, and every image output gets an ``alt`` (``figure_alt`` when the notebook gave
    none, with a warning). Code and raw cells are hidden by the exporter (``exclude_input``,
    ``exclude_raw``).
    """
    nb, _ = _tag_remover().preprocess(copy.deepcopy(nb), {})
    warnings: list[str] = []
    cells = []
    section_says_missing = False  # a section says once that its data is missing
    for cell in nb.cells:  # a notebook has tens of cells: a plain loop is the clear way here
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if _keep_output(o)]
            if not cell.outputs:
                continue
            missing = all(_is_missing_data(o) for o in cell.outputs)
            if missing and section_says_missing:
                continue
            section_says_missing = missing
            where = f"cellule {cell.execution_count}" if cell.get("execution_count") else "une cellule"
            for out in cell.outputs:
                for mime in ("image/png", "image/jpeg"):
                    if mime not in out.get("data", {}):
                        continue
                    meta = out.setdefault("metadata", {}).setdefault(mime, {})
                    alt = str(meta.get("alt") or "").strip()
                    if not alt:
                        warnings.append(f"Figure sans texte alternatif ({where}) : « {figure_alt} » utilisé.")
                        alt = figure_alt
                    meta["alt"] = alt
        else:
            section_says_missing = False
        cells.append(cell)
    nb.cells = cells
    return nb, warnings


# --- HTML sanitising (pure) -----------------------------------------------------------------

# What nh3 (the Rust "ammonia" sanitiser) keeps: the markup of nbconvert and of the tables and
# figures of cucs_analysis.present (their classes style the page: see static/cucs.css), pandas'
# tables and <style> blocks, plain SVG drawings. Everything else goes: scripts, frames, objects,
# forms, <link>/<meta>/<base>, comments, event attributes, unknown tags (their text stays).
_SVG_TAGS = frozenset(
    {"svg", "g", "defs", "symbol", "use", "path", "rect", "circle", "ellipse", "line", "polyline"}
    | {"polygon", "text", "tspan", "clipPath", "linearGradient", "radialGradient", "stop", "image"}
)
_SVG_ATTRIBUTES = frozenset(
    {"viewBox", "preserveAspectRatio", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "dx", "dy"}
    | {"cx", "cy", "r", "rx", "ry", "d", "points", "transform", "href", "offset", "gradientUnits"}
    | {"gradientTransform", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "opacity"}
    | {"stroke-opacity", "stroke-linecap", "stroke-linejoin", "stroke-dasharray", "stroke-miterlimit"}
    | {"clip-path", "clip-rule", "font-family", "font-size", "font-style", "font-weight"}
    | {"text-anchor", "dominant-baseline", "stop-color", "stop-opacity"}
)
_TAGS = frozenset(nh3.ALLOWED_TAGS | {"style", "tfoot", "section"} | _SVG_TAGS)
_DROP_WITH_CONTENT = frozenset(
    {"script", "iframe", "object", "embed", "applet", "frame", "frameset", "noscript", "noembed"}
    | {"noframes", "template", "title", "textarea", "select", "xmp"}
)
_ATTRIBUTES = {
    **nh3.ALLOWED_ATTRIBUTES,
    "*": {"class", "id", "style", "title", "lang", "dir", "role"},
    "table": nh3.ALLOWED_ATTRIBUTES["table"] | {"border"},
    **{tag: set(_SVG_ATTRIBUTES) for tag in _SVG_TAGS},
}
# in CSS: markup, escapes (which can spell any of the rest), imports, script, resource sets
_BAD_CSS = re.compile(
    r"<|\\|@import|expression\s*\(|image-set\s*\(|javascript:|behavior\s*:|-moz-binding", re.I
)
_CSS_URL = re.compile(r"url\s*\(\s*['\"]?([^'\")]*)", re.I)
# nh3's output is canonical HTML (attribute values in double quotes, < and > escaped in text,
# <style> the only raw-text element left): one match of this pattern is one whole tag or text.
_TOKEN = re.compile(
    r"<style\b(?:[^>\"]|\"[^\"]*\")*>(?P<css>.*?)</style>|<img\b(?P<img>(?:[^>\"]|\"[^\"]*\")*)>"
    r"|<(?:[^>\"]|\"[^\"]*\")*>|[^<]+",
    re.S,
)


def _local_url(url: str, data: bool = True) -> bool:
    """A URL the browser can load without the internet: relative, or (``data``) an image ``data:`` URI."""
    v = re.sub(r"[\x00-\x20]+", "", url).replace("\\", "/").lower()
    if v.startswith("data:"):
        return data and v.startswith("data:image/")
    try:
        parts = urlsplit(v)
    except ValueError:
        return False
    return not parts.scheme and not parts.netloc


def _css_allowed(css: str) -> bool:
    """CSS that runs nothing and loads nothing from the internet (``url()`` must be local)."""
    return not _BAD_CSS.search(css) and all(_local_url(u) for u in _CSS_URL.findall(css))


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    """The site's rules on the values of allowed attributes (``None`` drops the attribute)."""
    if attr == "href" and tag == "a":
        # a link only navigates: any scheme nh3 allows, but no data: document
        return None if re.sub(r"[\x00-\x20]+", "", value).lower().startswith("data:") else value
    if attr in {"src", "href"}:  # <img src>, SVG <use>/<image> href: resources, loaded
        return value if _local_url(value, data=(tag, attr) in {("img", "src"), ("image", "href")}) else None
    if attr == "alt":
        return value if value.strip() else None  # an empty alt is replaced below
    if attr == "style" or tag in _SVG_TAGS:
        return value if _css_allowed(value) else None
    return value


@functools.cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes=_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes={"http", "https", "mailto", "data"},
        generic_attribute_prefixes={"data-", "aria-"},
        link_rel=None,
        strip_comments=True,
    )


def sanitize_html(fragment: str, default_alt: str = "Figure") -> tuple[str, list[str]]:
    """Clean an HTML fragment with nh3 and return it with French warnings.

    Removes scripts, frames, objects, forms, ``<link>``/``<meta>``/``<base>``, comments,
    event attributes (``on…``), ``javascript:`` URLs and resources fetched from the internet
    (images and CSS ``url()`` must be relative or ``data:image/…``); a ``<style>`` block that
    could load or run something is dropped whole. Text is re-escaped, so ``&lt;script&gt;``
    stays text. Every ``<img>`` gets a non-empty ``alt`` (``default_alt``, with a warning).
    """
    warnings: list[str] = []
    alt = f' alt="{html.escape(default_alt, quote=True)}"'

    def finish(m: re.Match) -> str:
        if m["css"] is not None and not _css_allowed(m["css"]):
            return ""
        if m["img"] is not None and not re.search(r'\salt="', re.sub(r'"[^"]*"', '""', m["img"])):
            warnings.append(f"Image sans texte alternatif : « {default_alt} » utilisé.")
            return f"<img{m['img']}{alt}>"
        return m[0]

    return _TOKEN.sub(finish, _cleaner().clean(fragment)), warnings


_SORTIE = re.compile(r'<div class="(?P<cls>[^"]*\boutput_subarea\b[^"]*)">')
_TABLEAU_EN_TETE = re.compile(
    r"\s*(?:<div\b[^>]*>\s*)?(?:<style\b[^>]*>.*?</style>\s*)?<table\b[^>]*>\s*"
    r"(?:<caption\b[^>]*>(?P<legende>.*?)</caption>)?",
    re.S | re.I,
)


def tableaux_defilants(corps: str) -> str:
    """Keyboard access to wide tables (WCAG 2.1.1, axe ``scrollable-region-focusable``): the
    notebook output that holds a table gets ``tabindex="0"``, ``role="group"`` and the table's
    caption as its name. cucs.css lets only such an output scroll sideways, so a wide table
    scrolls in its own box on a phone and the keyboard reaches it (tests/test_site_axe.py)."""

    def marquer(m: re.Match) -> str:
        t = _TABLEAU_EN_TETE.match(corps, m.end())
        if not t:
            return m.group(0)
        legende = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", t.group("legende") or "")).split())
        nom = html.escape(legende or "Tableau", quote=True)
        return f'<div class="{m.group("cls")}" tabindex="0" role="group" aria-label="{nom}">'

    return _SORTIE.sub(marquer, corps)


# --- templates ------------------------------------------------------------------------------


@functools.cache
def _jinja_env():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("cucs_analysis.pipeline") / "templates")),
        autoescape=True,  # every data string is escaped
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        # a data string in an attribute (a commune's name in data-recherche) is cleaned like
        # text; text nodes are cleaned again by `typographie_html` (idempotent)
        finalize=lambda v: _text.texte_affiche(v) if type(v) is str else v,
    )
    env.filters["chiffre"] = format_chiffre
    env.globals["site_name"] = SITE_NAME
    return env


@functools.cache
def _exporter():
    """One HTML exporter per process (creating it costs about 0.2 s; `warm_up` makes it before
    the workers fork, so they inherit it with its compiled template).

    nbconvert's HTMLExporter, without the pass that parses its whole output again with
    BeautifulSoup (two thirds of the export, measured) to give an English alt to images that
    lack one and a ``tabindex`` to every output: `sanitize_html` gives the missing alt in
    French (with a warning) and drops ``tabindex``, `tableaux_defilants` puts it where it
    belongs. The notebook is validated once, after the preprocessors, not after each."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ExportateurPage(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            resources = self._init_resources(resources)
            # the filters HTMLExporter registers before rendering (its template names them)
            self.register_filter("highlight_code", Highlight2HTML(parent=self))
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources),
            )
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    # `basic` renders the cells only (no inline CSS, no require.js, no MathJax): the page
    # around them is ours
    return ExportateurPage(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_raw=True,
        optimistic_validation=True,
    )


def warm_up() -> None:
    """Build what every page export reuses (the exporter and its compiled template, the page
    template, the sanitiser) once, in the runner's driver before its workers fork."""
    _exporter().from_notebook_node(nbformat.v4.new_notebook())
    _jinja_env().get_template("page.html.j2")
    _tag_remover()
    _cleaner()


# --- one page -------------------------------------------------------------------------------


def render_page_with_warnings(
    nb: nbformat.NotebookNode, question_id: str, code_commune: str, nom_commune: str
) -> RenderedPage:
    """Like :func:`render_page`, and also return the French warnings (figures without alt…)."""
    titre = _question_titre(question_id)
    figure_alt = f"Figure : {titre}"
    cleaned, warnings = clean_notebook(nb, figure_alt)
    body, _ = _exporter().from_notebook_node(cleaned)
    body, more = sanitize_html(body, figure_alt)
    body = tableaux_defilants(body)
    regional = _is_regional(question_id)
    page = (
        _jinja_env()
        .get_template("page.html.j2")
        .render(
            racine="../../",
            titre_page=page_title(question_id, code_commune, nom_commune),
            titre=titre,
            question=_questions.BY_ID.get(question_id),
            code_commune=code_commune,
            nom_commune=nom_commune or code_commune,
            lien_commune=None if regional else f"../../communes/{code_commune}.html",
            corps=body,
        )
    )
    _assert_no_script(page, allowed=())
    return RenderedPage(page, tuple(warnings + more))


def render_page(nb: nbformat.NotebookNode, question_id: str, code_commune: str, nom_commune: str) -> str:
    """The published HTML page of one executed notebook (French, no code, no script).

    Written by the runner to ``out/pages/<code_commune>/<question_id>.html``; links point to
    ``../../static/cucs.css``, ``../../index.html``, ``../../communes/<code>.html`` and
    ``../../methode.html``. Figures without alt text get ``Figure : <question>`` and a logged
    warning.
    """
    rendered = render_page_with_warnings(nb, question_id, code_commune, nom_commune)
    for w in rendered.warnings:
        logger.warning("%s (%s, %s)", w, code_commune, question_id)
    return rendered.html


def render_page_tables_absentes(
    question_id: str,
    code_commune: str,
    nom_commune: str,
    lignes: list[str],
    tables: Iterable[str],
    section: str,
) -> str:
    """The page published in place of a notebook the runner did not execute because tables it
    needs are absent: the question, why (`lignes`, French sentences: the first names the
    missing tables, the next says what to do) and the tables the notebook reads. `section` is
    the heading the verdict links to (its id as nbconvert would give it)."""
    q = _questions.BY_ID.get(question_id)
    titre = _question_titre(question_id)
    corps = _render(
        "tables_absentes.html.j2",
        titre=titre,
        question=q,
        section=section,
        ancre=_synthese.ancre(section),
        lignes=list(lignes),
        tables=_text.liste_fr(tables),
    )
    regional = _is_regional(question_id)
    page = _render(
        "page.html.j2",
        racine="../../",
        titre_page=page_title(question_id, code_commune, nom_commune),
        titre=titre,
        question=q,
        code_commune=code_commune,
        nom_commune=nom_commune or code_commune,
        lien_commune=None if regional else f"../../communes/{code_commune}.html",
        corps=corps,
    )
    _assert_no_script(page, allowed=())
    return page


_SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.I)


def _assert_no_script(page: str, allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    for m in _SCRIPT_TAG.finditer(page):
        if m.group(0) not in allowed:
            raise ValueError(f"Balise <script> inattendue dans la page produite : {m.group(0)}")


# --- site data (pure) -----------------------------------------------------------------------


def runs_table(manifest: Mapping, pages: Iterable[tuple[str, str]] = ()) -> pd.DataFrame:
    """One row per (code_commune, question): ``statut``, ``erreur``, ``nom_commune``.

    From the manifest's ``runs`` (the last entry of a pair wins); without a manifest, every
    page found counts as ``ok``. Entries with unsafe codes or ids (path characters) are
    dropped.
    """
    cols = ["code_commune", "question", "statut", "erreur", "nom_commune"]
    runs = pd.DataFrame(list(manifest.get("runs", []) or []))
    if runs.empty:
        runs = pd.DataFrame(list(pages), columns=["code_commune", "question"]).assign(statut="ok")
    runs = runs.reindex(columns=cols)
    runs[["code_commune", "question"]] = runs[["code_commune", "question"]].astype("str")
    runs["statut"] = runs["statut"].fillna("absent").astype("str")
    runs["erreur"] = runs["erreur"].where(runs["erreur"].notna(), "").astype("str")
    runs["nom_commune"] = runs["nom_commune"].astype("object")
    safe = runs["code_commune"].str.match(_SAFE_ID) & runs["question"].str.match(_SAFE_ID)
    if not safe.all():
        logger.warning("Entrées du manifeste ignorées (code ou question invalide) : %d", int((~safe).sum()))
    return runs[safe].drop_duplicates(["code_commune", "question"], keep="last").reset_index(drop=True)


def commune_names(
    runs: pd.DataFrame, results: Mapping[tuple[str, str], Mapping], extra: Mapping[str, str]
) -> dict:
    """Commune code → name: manifest ``nom_commune``, then results, then ``extra``, else the code."""
    names = dict(extra)
    from_results = {code: r.get("nom_commune") for (code, _), r in results.items() if r.get("nom_commune")}
    names.update(from_results)
    from_runs = runs.dropna(subset=["nom_commune"]).drop_duplicates("code_commune", keep="last")
    names.update(dict(zip(from_runs["code_commune"], from_runs["nom_commune"].astype(str), strict=True)))
    codes = set(runs["code_commune"]) | {code for code, _ in results}
    return {code: str(names.get(code) or code) for code in sorted(codes)}


def _question_order(ids: Iterable[str]) -> list[str]:
    known = [q.id for q in _questions.QUESTIONS]
    ids = set(ids)
    return [q for q in known if q in ids] + sorted(ids - set(known))


def results_tables(results: Mapping) -> dict[str, pd.DataFrame]:
    """The list-valued keys of a results JSON as tables, named by key.

    Lists of records become one column per field (nested fields flattened with ``.``);
    lists of values one column named after the key; list-valued keys inside a dict-valued key
    (e.g. ``recouvrement.combinaisons``) are named ``<cle>_<sous_cle>``. ``parametres`` is
    left out. Empty lists give no table.
    """
    candidates: dict[str, list] = {}
    for key, value in results.items():
        if key == "parametres":
            continue
        if isinstance(value, list):
            candidates[key] = value
        elif isinstance(value, dict):
            candidates.update({f"{key}_{k}": v for k, v in value.items() if isinstance(v, list)})
    tables = {}
    for key, rows in candidates.items():
        if not rows or not re.match(r"^[0-9A-Za-z_.-]+$", key):
            continue
        if all(isinstance(r, dict) for r in rows):
            tables[key] = _identifiers_first(pd.json_normalize(rows))
        else:
            tables[key] = pd.DataFrame(
                {key: [json.dumps(r, ensure_ascii=False) if isinstance(r, list | dict) else r for r in rows]}
            )
    return tables


def _identifiers_first(table: pd.DataFrame) -> pd.DataFrame:
    """Columns of a published table in reading order: what a row is about (text columns such as
    dispositif, domaine, code_quartier) before its figures, and the reason of an absence last.
    Results files are written with sorted keys, so their own order is alphabetical."""
    cellules = table.to_numpy(dtype=object)  # one array for the table, not one Series a column
    texte = [
        c
        for i, c in enumerate(table.columns)
        if c != "motif" and any(isinstance(v, str) for v in cellules[:, i].tolist())
    ]
    autres = [c for c in table.columns if c not in texte and c != "motif"]
    ordre = texte + autres + (["motif"] if "motif" in table.columns else [])
    if ordre == list(table.columns):
        return table
    return table.take([table.columns.get_loc(c) for c in ordre], axis=1)  # `table[ordre]`, cheaper


_TABLE_LIBELLES = {
    "constats": "Constats",
    "reserves": "Réserves",
    "chiffres_cles": "Chiffres clés",
    "reperes": "Repères",
    "verdicts": "Verdicts",
}


def _mappings(value: object) -> dict[str, dict[str, str]]:
    """``{colonne: {code: libellé}}`` from a results key, keeping only well-formed entries (a
    results file is data: anything else is ignored)."""
    if not isinstance(value, Mapping):
        return {}
    return {
        str(col): {str(k): str(v) for k, v in m.items() if isinstance(k, str) and isinstance(v, str)}
        for col, m in value.items()
        if isinstance(m, Mapping)
    }


def _libelle_table(key: str) -> str:
    """A readable French label for a downloadable table (the file keeps the key)."""
    texte = _TABLE_LIBELLES.get(key, key.replace("_", " "))
    return texte[:1].upper() + texte[1:]


# --- downloads: published tables (pure) ------------------------------------------------------

#: Code columns and the French labels of their values (the published file says what a code
#: means; the results JSON keeps the codes).
_LIBELLES_CODES: dict[str, Mapping[str, str]] = {
    "domaine": DOMAINE_LIBELLES,
    "thematique": DOMAINE_LIBELLES,
    "motif": _labels.MOTIF_LIBELLES,
    "type_credit": {"specifique": "crédits spécifiques", "droit_commun": "droit commun"},
    "type": {
        "complementarite": "complémentarité",
        "substitution_temporaire": "substitution temporaire",
        "substitution_durable": "substitution durable",
        "indetermine": "indéterminé",
    },
}

#: Units of the numeric columns of published tables, by column name (first match wins):
#: (pattern, unit written in the LISEZMOI, decimals). One number of decimals per unit.
UNITES_COLONNES: tuple[tuple[str, str, int], ...] = (
    (r"^annee$|^annee_(debut|fin|reference)$|_annee$", "année", 0),
    (r"^annees_", "nombre d'années d'action", 0),
    (r"^(actions|prevus|realises|beneficiaires|nombre|n)(_|$)", "effectif", 0),
    (r"p_val", "probabilité (valeur p)", 3),
    (r"effet_levier|par_euro", "euros de droit commun par euro de crédits spécifiques", 2),
    (r"^(part|taux)(_|$)|_(part|taux)$", "part (de 0 à 1)", 3),
    (r"pourcentage|_pct$", "%", 1),
    (r"montant|credit|budget|specifique|droit_commun|^total$|euros|^seuil", "euros", 0),
    (r"par_habitant", "euros par habitant", 1),
    (r"estimation|^ic_|ecart|^did", "points (ou unité de l'indicateur)", 1),
)

_CSV_DANGER = ("=", "+", "-", "@", "\t", "\r")
_NOMBRE = re.compile(r"^[\u2212+-]?\d[\d\s\u202f\u00a0]*(?:[.,]\d+)?$")


def unite_colonne(nom: str) -> tuple[str, int] | None:
    """(unit, decimals) of a numeric column from its name (`UNITES_COLONNES`), or None."""
    for motif, unite, decimales in UNITES_COLONNES:
        if re.search(motif, nom):
            return unite, decimales
    return None


def cellule_sure(valeur: object) -> object:
    """A text cell a spreadsheet will not run as a formula: a leading = + - @ tab or CR gets an
    apostrophe (OWASP « CSV injection »); numbers, including negative ones, stay numbers."""
    if not isinstance(valeur, str) or not valeur or not valeur.startswith(_CSV_DANGER):
        return valeur
    if _NOMBRE.match(valeur.strip()):
        return valeur
    return "'" + valeur


def table_publiee(
    table: pd.DataFrame, libelles: Mapping[str, Mapping[str, str]] | None = None
) -> pd.DataFrame:
    """A results table as a published table: codes replaced by their French labels
    (`_LIBELLES_CODES`, plus `libelles`, e.g. indicator codes), booleans « oui »/« non »,
    integers as integers, other numbers rounded per unit (`UNITES_COLONNES`; a key figure's
    `valeur` by its row's `unite`), text cells safe from formula injection."""
    return _publier(table, libelles)[0]


#: The largest whole number a float holds exactly: up to it, a whole column goes to ``Int64``
#: directly, the same as through ``Float64``.
_ENTIER_EXACT = 2**53


def _publier(
    table: pd.DataFrame, libelles: Mapping[str, Mapping[str, str]] | None = None
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """`table_publiee`, and its columns by name (what `description_colonne` reads: the site's
    build describes them without taking them out of the table again).

    A results table has a few rows, and a site thousands of columns: the facts on a column's
    values are read from one plain list (a pandas call per fact cost more than the column), a
    column is built from a list where `Series.map` would give the same values and type, and
    pandas' cell-by-cell steps run only where they change something (tests/test_site_perf.py
    compares with the previous code)."""
    codes = {**_LIBELLES_CODES, **(libelles or {})}
    out = {}
    for col in table.columns:
        s = table[col]
        cellules = s.tolist()
        if any(isinstance(v, list | tuple) for v in cellules):
            # a list in a record (the dispositifs of a combination) reads « ASV + PRE », never a
            # repr; each item gets its label first
            m = codes.get(col, {})
            s = s.map(
                lambda v, m=m: (
                    " + ".join(str(m.get(x, x)) if isinstance(x, str) else str(x) for x in v)
                    if isinstance(v, list | tuple)
                    else v
                )
            )
            cellules = s.tolist()
        # « oui » / « non » when every value present is a boolean (none: not a boolean column)
        if any(isinstance(v, bool | np.bool_) for v in cellules):
            valeurs = s.dropna()
            if len(valeurs) and valeurs.map(lambda v: isinstance(v, bool | np.bool_)).all():

                def oui_non(v):
                    # NaN: a record without this key (json_normalize fills it), never « oui »
                    manque = v is None or v is pd.NA or (isinstance(v, float) and v != v)
                    return None if manque else ("oui" if v else "non")

                out[col] = _serie_de(s, [oui_non(v) for v in cellules], oui_non)
                continue
        if col in codes and not pd.api.types.is_numeric_dtype(s):
            # a label may come from the data (a quartier's name): safe from formulas too
            def libelle(v, m=codes[col]):
                return cellule_sure(m.get(v, v)) if isinstance(v, str) else v

            out[col] = _serie_de(s, [libelle(v) for v in cellules], libelle)
            continue
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            if col == "valeur" and "unite" in table.columns:
                num = s.astype("Float64")
                dec = [_text.decimales_unite(u) for u in table["unite"].tolist()]
                out[col] = [
                    None if pd.isna(v) else _arrondi(v, int(d)) for v, d in zip(num, dec, strict=True)
                ]
                out[col] = pd.Series(out[col], index=s.index, dtype=object)
                continue
            out[col] = _nombres_publies(s, str(col))
            continue
        if isinstance(s.dtype, pd.StringDtype):
            textes = [v for v in cellules if isinstance(v, str)]
            if (textes or not cellules) and not any(v.startswith(_CSV_DANGER) for v in textes):
                # no cell `cellule_sure` changes: as is (`map` would give the same text column;
                # not to a column of gaps only, which it makes a column of floats)
                out[col] = s
                continue
        out[col] = s.map(cellule_sure)
    # a column mixing numbers and words (« hors CUCS ») is text to pandas: its numbers get the
    # decimal comma here, as the numeric columns get it from `to_csv(decimal=",")`
    for col, serie in out.items():
        if serie.dtype == object:
            out[col] = serie.map(_nombre_dans_texte)
    return pd.DataFrame(out, index=table.index), out


def _serie_de(s: pd.Series, valeurs: list, f) -> pd.Series:
    """``s.map(f)``, given ``valeurs``, the list of ``f(v)`` for ``v`` in ``s.tolist()``: built from
    the list where that gives the same values and type, else `Series.map` itself.

    - numpy booleans or objects mapped to « oui » / « non » and None: `Series.map` infers a text
      column from the list, as `pd.Series` does;
    - pyarrow text with at least one text cell, mapped to text (gaps kept): `Series.map` gives
      the same type back (a column of gaps only would become floats: not here)."""
    if isinstance(s.dtype, np.dtype) and all(v is None or type(v) is str for v in valeurs):
        if any(type(v) is str for v in valeurs):
            return pd.Series(valeurs, index=s.index)
    elif (
        isinstance(s.dtype, pd.StringDtype)
        and s.dtype.storage == "pyarrow"
        and any(type(r) is str for r in valeurs)
        and all(type(r) is str for r, v in zip(valeurs, s.tolist(), strict=True) if isinstance(v, str))
    ):
        return pd.Series(valeurs, index=s.index, dtype=s.dtype)
    return s.map(f)


def _nombres_publies(s: pd.Series, col: str) -> pd.Series:
    """A numeric column of a published table: whole numbers as ``Int64``, the others rounded per
    unit (`UNITES_COLONNES`), one number of decimals per unit, as ``Float64``."""
    u = unite_colonne(col)
    d = u[1] if u is not None else 1
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iuf":
        a = s.to_numpy(dtype=np.float64)  # what ``s.astype("Float64")`` holds, NaN for its gaps
        presents = a[~np.isnan(a)]
        entiers = bool(presents.size) and bool((presents == np.round(presents)).all())
        if entiers and (u is None or u[1] == 0):
            if bool(np.abs(presents).max() <= _ENTIER_EXACT):
                # ``s.astype("Int64")``: the same whole numbers as through ``Float64``
                manque = np.isnan(a)
                entiers_ = (
                    np.where(manque, 0, a).astype(np.int64)
                    if manque.any()
                    else s.to_numpy(np.int64, copy=True)
                )
                return pd.Series(pd.arrays.IntegerArray(entiers_, manque), index=s.index)
        elif d:
            arrondis = [None if x != x else _arrondi(x, d) for x in a.tolist()]
            return pd.Series(pd.array(arrondis, dtype="Float64"), index=s.index)
    # any other numeric type (nullable ones), huge whole numbers, rounding to units
    num = s.astype("Float64")
    valeurs = num.dropna()
    entiers = bool(len(s.dropna())) and bool((valeurs == valeurs.round()).all())
    if entiers and (u is None or u[1] == 0):
        return num.round().astype("Int64")
    arr = num.map(lambda v, d=d: None if pd.isna(v) else _arrondi(v, d))
    return arr.astype("Float64") if d else arr.astype("Int64")


def _arrondi(valeur: float, decimales: int) -> int | float:
    """Half up, as the pages write numbers (`present.text`): 64,25 → 64,3 in the file and on the page."""
    q = Decimal(repr(float(valeur))).quantize(Decimal(1).scaleb(-decimales), rounding=ROUND_HALF_UP)
    return int(q) if decimales == 0 else float(q)


def _nombre_dans_texte(v: object) -> object:
    if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.integer | np.floating):
        return v
    if pd.isna(v):
        return None
    if isinstance(v, int | np.integer):
        return str(int(v))
    return _virgule_decimale(repr(float(v)))


@functools.lru_cache(maxsize=4096)
def _virgule_decimale(nombre: str) -> str:
    """A float (given by its `repr`, which tells -0.0 from 0.0) as a numeric column writes it:
    the same writer (pandas' `decimal=","`), for one value."""
    return pd.Series([float(nombre)]).to_csv(sep=";", decimal=",", index=False, header=False).strip()


def csv_bytes(table: pd.DataFrame, libelles: Mapping[str, Mapping[str, str]] | None = None) -> bytes:
    """A table as CSV for French spreadsheets (`table_publiee`): « ; » separator, decimal comma,
    CRLF line ends, UTF-8 with a byte-order mark. Excel in French reads « ; » and the decimal
    comma as its own list separator and decimal mark, and without the mark it would read the
    accents as Windows-1252; LibreOffice and Python (``encoding="utf-8-sig"``) accept the mark."""
    return _csv_publiee(table_publiee(table, libelles))


def _csv_publiee(publiee: pd.DataFrame) -> bytes:
    """`csv_bytes` of a table already through `table_publiee`."""
    return publiee.to_csv(sep=";", decimal=",", index=False, lineterminator="\r\n").encode("utf-8-sig")


def description_colonne(nom: str, table: pd.DataFrame) -> str:
    """One line of a LISEZMOI: the column, its unit or the labels its codes became."""
    return _description(nom, table[nom], "unite" in table.columns)


def _description(nom: str, s: pd.Series, avec_unite: bool) -> str:
    """`description_colonne` of the column `s` of a table (`avec_unite`: it has a column unite)."""
    if nom in _LIBELLES_CODES:
        return f"{nom} : libellé en clair (texte)"
    if nom == "valeur" and avec_unite:
        return f"{nom} : nombre, dans l'unité de la colonne unite de la même ligne"
    # every value present a boolean (none at all: not a boolean column; no pandas call then)
    if pd.api.types.is_bool_dtype(s) or (
        any(isinstance(v, bool | np.bool_) for v in s.tolist())
        and len(s.dropna())
        and s.dropna().map(lambda v: isinstance(v, bool | np.bool_)).all()
    ):
        return f"{nom} : oui / non"
    if pd.api.types.is_numeric_dtype(s):
        u = unite_colonne(nom)
        return f"{nom} : nombre" + (f" ({u[0]})" if u else "")
    return f"{nom} : texte"


def lisezmoi(fichiers: list[dict], source: str, date: str | None) -> str:
    """The LISEZMOI.txt of a download folder: each file, its columns with their units, the
    source and the generation date, and how the files are written."""
    lignes = [
        "Tableaux téléchargeables — cucs-analysis",
        "",
        f"Source : {source}.",
        f"Date de production : {date or 'non renseignée'}.",
        "Format : CSV, séparateur « ; », virgule décimale, encodage UTF-8 avec marque d'ordre (BOM),",
        "fins de ligne CRLF : s'ouvre tel quel dans Excel en français et dans LibreOffice.",
        "Nombres arrondis selon leur unité ; « oui » / « non » pour les valeurs logiques ; cellule vide :",
        "valeur absente (le motif, quand il existe, est dans la colonne motif) ; « s » : secret statistique.",
        "Une cellule de texte commençant par = + - @ est précédée d'une apostrophe (protection des tableurs).",
        "",
    ]
    for f in fichiers:
        lignes += [f"{f['fichier']} — {f['libelle']} ({_text.pluriel(f['lignes'], 'ligne')})"]
        lignes += [f"  - {c}" for c in f["colonnes"]]
        lignes.append("")
    return "\r\n".join(lignes)


# --- French typography of published pages (pure) ---------------------------------------------

_SANS_TYPO = frozenset({"style", "script", "pre", "code", "textarea", "kbd", "samp"})
#: What is not text in a page (a tag, a comment, a declaration, a lone « < »), as `re.split`'s
#: separator: a page splits into text, tag, text, tag… (a text possibly empty). The same
#: tokens as one pattern with a text branch ``[^<]+`` (every separator starts with « < »).
_BALISE_HTML = re.compile(
    r"(<!--.*?-->|<!\w[^>]*>|</?[A-Za-z][A-Za-z0-9-]*(?:[^>\"']|\"[^\"]*\"|'[^']*')*>|<)", re.S
)
_NOM_BALISE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
#: What `typographie_html`'s memo keeps: short tokens (labels, numbers, « n.d. », tags; not a
#: figure's tag, which holds its image), up to a number of them (a national site: thousands of
#: pages, one memo): at most 200,000 × 300 characters, the key and its result.
_MEMO_LONGUEUR, _MEMO_TAILLE = 300, 200_000


def typographie_html(page: str, memo: dict | None = None) -> str:
    """`text.typographie` on the visible text of an HTML page: the text nodes only (never tags,
    attributes, URLs, nor the content of style, script, pre and code). A unit or a mark that
    follows a tag (``<b>95</b> %``) sees the previous node's last character. Every text node
    also goes through `text.texte_affiche` (the one rule for data strings on a page: bidi and
    control characters removed, right-to-left runs isolated), whatever wrote it.

    Both functions are pure, so the result of a text node depends only on the node and on
    that last character (or on the node alone, inside style, script…): `memo` (a dict the
    caller keeps, e.g. for every page of a site) holds the results already computed, and
    what each tag does to the style/script/pre/code depth. A site's pages repeat their text
    nodes (line breaks, « n.d. », numbers, labels): 14,000 distinct among 184,000 on the demo."""
    morceaux = _BALISE_HTML.split(page)  # text, tag, text, tag, …, text
    dedans = 0
    avant = ""
    if memo is None:
        memo = {}
    for i in range(0, len(morceaux), 2):
        jeton = morceaux[i]
        if jeton:
            cle = (None if dedans else avant, jeton)
            fait = memo.get(cle)
            if fait is None:
                fait = _typographie_noeud(jeton, cle[0])
                if len(jeton) <= _MEMO_LONGUEUR and len(memo) < _MEMO_TAILLE:
                    memo[cle] = fait
            morceaux[i] = fait[0]
            if not dedans:
                avant = fait[1]
        if i + 1 < len(morceaux):  # a tag, a comment, a declaration or a lone « < »: as is
            balise = morceaux[i + 1]
            if len(balise) > _MEMO_LONGUEUR:  # an image's tag, a long link: keep nothing
                pas = _pas_sans_typo(balise)
            elif (pas := memo.get((0, balise))) is None:  # 0: not a text node's key
                pas = _pas_sans_typo(balise)
                if len(memo) < _MEMO_TAILLE:
                    memo[(0, balise)] = pas
            if pas:
                dedans = dedans + 1 if pas > 0 else max(0, dedans - 1)
    return "".join(morceaux)


def _pas_sans_typo(balise: str) -> int:
    """+1 for a tag that opens style, script, pre, code… (`_SANS_TYPO`), -1 for one that closes
    it, 0 for any other token (a self-closing tag, a comment, a lone « < »)."""
    m = _NOM_BALISE.match(balise)
    if m is None or m.group(2).lower() not in _SANS_TYPO or balise.endswith("/>"):
        return 0
    return -1 if m.group(1) else 1


def _typographie_noeud(jeton: str, avant: str | None) -> tuple[str, str]:
    """One text node of `typographie_html` (`avant`: the last character before it, None inside
    style, script, pre, code…): its text and the character the next node will see."""
    jeton = _text.texte_affiche(jeton)  # no bidi nor control character, RTL runs isolated
    if avant is None:
        return jeton, ""
    texte = _text.typographie(avant + jeton)[len(avant) :]
    dernier = texte[-1:] if texte else ""
    return texte, dernier if dernier and not dernier.isspace() else ""


# --- a commune's dossier (pure) -----------------------------------------------------------------

_ARTICLE = re.compile(r'<article class="carnet">(.*)</article>', re.S)


def _valeurs_attribut(texte: str, attribut: str, remplacer) -> str:
    r"""``texte`` where each value of ``attribut`` (``<espace>attribut="valeur"``) becomes
    ``remplacer(valeur)``: the matches of ``re.sub(r'(\sattribut=")([^"]*)(")', …)``, found
    with `str.find` (a pattern starting with ``\s`` is tried at every position of the page:
    0.2 s for the 12 dossiers of the demo, against 0.02 s)."""
    debut = f'{attribut}="'
    morceaux: list[str] = []
    copie = pos = 0
    while (q := texte.find(debut, pos)) >= 0:
        if q == 0 or not texte[q - 1].isspace():  # `\s`: the same Unicode spaces as isspace
            pos = q + 1
            continue
        v = q + len(debut)
        fin = texte.find('"', v)
        if fin < 0:
            break  # no closing quote after: no later match either
        morceaux += [texte[copie:v], remplacer(texte[v:fin])]
        copie, pos = fin, fin + 1
    morceaux.append(texte[copie:])
    return "".join(morceaux)


def corps_dossier(page: str, question_id: str, questions_du_dossier: Iterable[str], code: str) -> str:
    """The notebook part of a published question page, made to sit in the commune's dossier:
    its ids prefixed with the question (every page has an « En bref »), its links to the
    other pages of the dossier turned into links inside it, the others made relative to the
    dossier (``communes/<code>-dossier.html``)."""
    m = _ARTICLE.search(page)
    corps = m.group(1) if m else ""
    dans = set(questions_du_dossier)

    def ident(valeur: str) -> str:
        return f"{question_id}-{valeur}"

    def lien(valeur: str) -> str:
        url = html.unescape(valeur)
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith(("data:", "mailto:")):
            return valeur
        if not parts.path:
            cible = f"#{question_id}-{parts.fragment}"
        elif "/" not in parts.path and parts.path.endswith(".html") and parts.path[:-5] in dans:
            q = parts.path[:-5]
            cible = f"#{q}-{parts.fragment}" if parts.fragment else f"#dossier-{q}"
        else:
            # a page two folders down (pages/<code>/) → the dossier is one folder down (communes/)
            cible = url[3:] if url.startswith("../../") else f"../pages/{code}/{url}"
        return html.escape(cible, quote=True)

    return _valeurs_attribut(_valeurs_attribut(corps, "id", ident), "href", lien)


# --- site building (I/O) --------------------------------------------------------------------


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("Fichier JSON illisible ignoré : %s (%s)", path, exc)
        return None


def _read_results(out_dir: Path) -> dict[tuple[str, str], dict]:
    found = {}
    for path in sorted((out_dir / "results").glob("*/*.json")):
        code, question = path.parent.name, path.stem
        if _SAFE_ID.match(code) and _SAFE_ID.match(question) and (data := _read_json(path)) is not None:
            found[(code, question)] = data
    return found


def _data_dir(manifest: Mapping, out_dir: Path, racine: Path | None = None) -> Path | None:
    """The data folder the manifest points to (the manifest writes it relative to the project
    root `racine`; else as given, or relative to the output folder or its parent), when it
    holds ``communes.csv``."""
    jeu = manifest.get("dossier_donnees")
    if not isinstance(jeu, str) or not jeu:
        return None
    bases = [Path(racine) / jeu] if racine is not None else []
    bases += [Path(jeu), out_dir / jeu, out_dir.parent / jeu]
    for base in bases:
        if (base / "communes.csv").is_file():
            return base
    return None


def _read_csv(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path, sep=None, engine="python", dtype=str, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _annees_par_indicateur(data_dir: Path | None) -> dict[str, list[int]]:
    """Indicator → the years it has in the data set (indicateurs.csv, two columns read), so the
    Méthode page gives each indicator its own years, not the data set's span."""
    path = data_dir / "indicateurs.csv" if data_dir is not None else None
    try:
        with open(path, encoding="utf-8-sig") as f:  # type: ignore[arg-type]
            header = f.readline()
        sep = ";" if header.count(";") > header.count(",") else ","
        df = pd.read_csv(path, sep=sep, usecols=["indicateur", "annee"], dtype=str, encoding="utf-8-sig")
    except (OSError, TypeError, ValueError, UnicodeDecodeError):
        return {}
    annees = pd.to_numeric(df["annee"], errors="coerce")
    df = df.assign(annee=annees).dropna(subset=["annee"]).drop_duplicates()
    return {str(k): sorted(int(a) for a in g) for k, g in df.groupby("indicateur")["annee"]}


def _communes_from_dataset(data_dir: Path | None) -> pd.DataFrame:
    """code_commune, nom, signataire (bool or None) of every commune of the data set."""
    cols = ["code_commune", "nom", "signataire"]
    df = _read_csv(data_dir / "communes.csv") if data_dir is not None else None
    if df is None or not {"code_commune", "nom"} <= set(df.columns):
        return pd.DataFrame(columns=cols)
    sig = df.get("signataire_cucs", pd.Series(None, index=df.index, dtype=object))
    df["signataire"] = sig.map(
        lambda v: {"oui": True, "true": True, "1": True, "non": False, "false": False, "0": False}.get(
            str(v).strip().lower()
        )
    )
    return df[cols][df["code_commune"].fillna("").str.match(_SAFE_ID)].reset_index(drop=True)


def _names_from_dataset(manifest: Mapping, out_dir: Path) -> dict[str, str]:
    """Commune names from ``<dossier_donnees>/communes.csv`` when the manifest points to it."""
    df = _communes_from_dataset(_data_dir(manifest, out_dir))
    return dict(zip(df["code_commune"], df["nom"], strict=True))


def _metadonnees(data_dir: Path | None) -> dict:
    if data_dir is None or not (data_dir / "metadonnees.yaml").is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load((data_dir / "metadonnees.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _parametres(results: Mapping[tuple[str, str], Mapping]) -> dict:
    """The parameters of the run (as its results files record them), else the project's
    parameters (params/defaults.yaml via `pipeline.params`)."""
    for (_code, _q), data in sorted(results.items()):
        p = data.get("parametres")
        if isinstance(p, dict) and "seuil_secret" in p:
            return p
    from cucs_analysis.pipeline import params as _params

    try:
        return _params.load_params(_params.REGION).as_dict()
    except Exception:  # noqa: BLE001 - no project here: the model's defaults
        return {}


def _date_generation(valeur: object) -> str | None:
    """The manifest's generation time in French (``15 janvier 2025``), as given if unreadable."""
    if not valeur:
        return None
    try:
        from cucs_analysis.present.text import date_fr

        return date_fr(str(valeur))
    except (ImportError, ValueError, TypeError):
        return str(valeur)


#: Technical failures the execution stack reports in English, said in French on the site.
_ERREURS_TECHNIQUES = (
    (
        re.compile(r"DeadKernelError|Kernel died|kernel.*(?:died|dead|restart)", re.I),
        "le noyau Python du carnet s'est arrêté en cours d'exécution (mémoire insuffisante ou arrêt forcé)",
    ),
    (
        re.compile(r"CellTimeoutError|Timeout waiting|timed out|TimeoutError", re.I),
        "délai dépassé pendant l'exécution d'une cellule",
    ),
    (re.compile(r"KeyboardInterrupt", re.I), "exécution interrompue avant la fin"),
)


def _error_summary(erreur: str, limite: int = 300) -> str:
    """The error of a failed run as the site shows it: in French, on one line, cut at `limite`."""
    texte = " ".join(str(erreur).split())
    for motif, phrase in _ERREURS_TECHNIQUES:
        if motif.search(texte):
            texte = phrase[:1].upper() + phrase[1:] + "."
            break
    texte = texte[:1].upper() + texte[1:]  # « délai dépassé : … » starts the sentence on the site
    return texte if len(texte) <= limite else texte[: limite - 1] + "…"


def _motif_resultats(results: Mapping | None, question: str | None, signataire: bool | None) -> str | None:
    """Why a (commune, question) has no finding: the verdict's motif, else « hors CUCS » for a
    programme question of a non-signatory commune (older results without a verdict)."""
    verdict = (results or {}).get("verdict")
    if isinstance(verdict, Mapping) and verdict.get("motif") in (_motifs.HORS_CUCS, _motifs.DONNEE_ABSENTE):
        return verdict["motif"]
    if isinstance(verdict, Mapping) and verdict.get("texte"):
        return None
    sig = (results or {}).get("signataire_cucs", signataire)
    if sig is False and (question is None or question in QUESTIONS_PROGRAMME):
        return _motifs.HORS_CUCS
    return None


def _cell(
    run: Mapping | None,
    results: Mapping | None,
    has_page: bool,
    *,
    question: str | None = None,
    signataire: bool | None = None,
) -> dict:
    """What the index and the commune page show for one (commune, question): its state
    (`ETAT_LIBELLES`), the label of its link and its first key figure."""
    statut = run["statut"] if run is not None else ("ok" if has_page else "absent")
    # stopped by Ctrl-C, or not started when it came (the runner's manifest): a page on disk is
    # the previous run's, not published; the cell says the run was interrupted, and why
    interrompu = statut == "interrompu"
    avec_raison = ("echec", "interrompu")  # the states whose reason is shown beside them
    if statut == "ignore":
        # the runner marks runs skipped by --resume (inputs unchanged) "ignore": their page holds
        statut = "ok"
    if statut == "ok" and not has_page:
        statut = "absent"  # never a broken link
    etat = statut if statut in ("ok", "echec") else "absent"
    if etat != "echec":
        motif = _motif_resultats(results if statut == "ok" else None, question, signataire)
        if motif == _motifs.HORS_CUCS:
            etat = "hors_cucs"
        elif motif == _motifs.DONNEE_ABSENTE and statut == "ok":
            etat = "donnees_absentes"
    chiffre = libelle = None
    # q3 is measured outside the CUCS too (which quartiers could enter): its figure stays beside
    # the « hors CUCS » label; a programme question has none to show.
    mesure_hors_cucs = etat == "hors_cucs" and question is not None and question not in QUESTIONS_PROGRAMME
    if results and (etat == "ok" or mesure_hors_cucs):
        cles = [c for c in results.get("chiffres_cles") or [] if isinstance(c, dict)]
        if cles:
            c = cles[0]
            if c.get("valeur") is None and c.get("motif") in _labels.MOTIF_LIBELLES:
                chiffre = _labels.MOTIF_LIBELLES[c["motif"]]
            else:
                chiffre = format_chiffre(c.get("valeur"), c.get("unite"))
            libelle = str(c.get("libelle") or "")
    return {
        "statut": statut,
        "etat": etat,
        "statut_libelle": "interrompu" if interrompu else ETAT_LIBELLES[etat],
        "lien_libelle": LIEN_LIBELLE if etat == "ok" else "interrompu" if interrompu else ETAT_LIBELLES[etat],
        "erreur": _error_summary(run["erreur"]) if run is not None and statut in avec_raison else "",
        "chiffre": chiffre,
        "chiffre_libelle": libelle,
    }


def run_page_path(code_commune: str, question_id: str) -> str:
    """Path of a question page inside the site."""
    return f"pages/{code_commune}/{question_id}.html"


def _copy_static(site: Path) -> None:
    static = resources.files("cucs_analysis.pipeline") / "static"
    for name in STATIC_FILES:
        atomic.write_new(site / "static" / name, (static / name).read_bytes())


def _render(template: str, **context) -> str:
    return _jinja_env().get_template(template).render(**context)


def _write_page(path: Path, page: str, memo: dict | None = None) -> None:
    """Every published page goes out with French typography on its visible text (`memo`: the
    text nodes already done, shared by the pages of one build). Like every file of the site,
    it is written into the folder `build_site` swaps in (`atomic.write_new`)."""
    atomic.write_new(path, typographie_html(page, memo).encode("utf-8"))


def _methode_context(
    parametres: Mapping,
    data_dir: Path | None,
    results: Mapping[tuple[str, str], Mapping] | None = None,
    names: Mapping[str, str] | None = None,
) -> dict:
    """What the Méthode page prints: the parameters used, the catalogue, the glossary… The
    secrecy threshold is the one each commune's runs used (« 11 ; 15 pour Esterbourg »), else
    the project's parameter."""
    subst = parametres.get("substitution") or {}
    regle = None
    if {"annees_reference", "tolerance", "duree_max_annees"} <= set(
        subst
    ) and "annee_debut_cucs" in parametres:
        regle = _methode.regle_substitution(
            annees_reference=subst["annees_reference"],
            annee_debut_cucs=parametres["annee_debut_cucs"],
            tolerance=subst["tolerance"],
            duree_max=subst["duree_max_annees"],
        )
    catalogue = _read_csv(data_dir / "catalogue_indicateurs.csv") if data_dir is not None else None
    secret = _methode.contexte_secret(results or {}, names)
    if secret["seuil_secret"] is None and parametres.get("seuil_secret") is not None:
        seuil = parametres["seuil_secret"]
        secret = {"seuil_secret": _methode.texte_seuil(seuil), "phrase_secret": _methode.phrase_secret(seuil)}
    return {
        **secret,
        "regle_substitution": regle,
        "regles_lecture": _methode.regles_lecture(
            debut=parametres["periode"]["debut"],
            fin=parametres["periode"]["fin"],
            annee_debut_cucs=parametres["annee_debut_cucs"],
        )
        if "annee_debut_cucs" in parametres and "periode" in parametres
        else [],
        "catalogue": _methode.catalogue(catalogue, _metadonnees(data_dir), _annees_par_indicateur(data_dir)),
        # both optional in metadonnees.yaml: an absent or empty one is not written
        "jeu": {
            k: "" if (v := _metadonnees(data_dir).get(k)) is None else str(v).strip()
            for k in ("nom", "description")
        },
        "glossaire": _methode.glossaire(),
        "references": _methode.REFERENCES,
        "effet_levier": _methode.EFFET_LEVIER,
        # the years the rules below used in this run (the shipped defaults are the demo's)
        "annee_traitement": _annee_param(parametres, "did", "annee_traitement"),
        "annee_revenus": _annee_param(parametres, "qpv2014", "annee_revenus"),
    }


def _annee_param(parametres: Mapping, section: str, cle: str) -> str | None:
    """A year of the run's parameters, as the Méthode page prints it (None: not set)."""
    v = (parametres.get(section) or {}).get(cle) if isinstance(parametres.get(section), Mapping) else None
    return None if v is None or _text.manquant(v) else _text.annee(v)


def _textes(value: object) -> list[str]:
    """A list of French sentences from the manifest (anything else is dropped)."""
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if isinstance(v, str) and v.strip()]


def avertissements(manifest: Mapping) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """The warnings the runner recorded: by commune (years of its parameters absent from the
    data), all parameter warnings said once, and the data set's (validation, import)."""
    brut = manifest.get("avertissements_parametres")
    par_commune = (
        {str(k): _textes(v) for k, v in brut.items() if _textes(v)} if isinstance(brut, Mapping) else {}
    )
    tous = list(dict.fromkeys(m for ms in par_commune.values() for m in ms))
    return par_commune, tous, list(dict.fromkeys(_textes(manifest.get("avertissements_donnees"))))


def tables_des_carnets() -> list[dict]:
    """The tables each notebook needs (`Question.tables_requises`), for the Méthode page."""
    return [
        {"titre": q.titre, "tables": _text.liste_fr(q.tables_requises)}
        for q in _questions.QUESTIONS
        if q.tables_requises
    ]


def _build_into(site: Path, out_dir: Path, racine: Path | None = None) -> None:
    manifest = _read_json(out_dir / "manifest.json") if (out_dir / "manifest.json").exists() else None
    manifest = manifest or {}
    pages_dir = out_dir / "pages"
    pages_found = [
        (p.parent.name, p.stem)
        for p in sorted(pages_dir.glob("*/*.html"))
        if _SAFE_ID.match(p.parent.name) and _SAFE_ID.match(p.stem)
    ]
    runs = runs_table(manifest, pages_found)
    results = _read_results(out_dir)
    data_dir = _data_dir(manifest, out_dir, racine)
    jeu = _communes_from_dataset(data_dir)
    names = commune_names(runs, results, dict(zip(jeu["code_commune"], jeu["nom"], strict=True)))
    for code in jeu["code_commune"]:
        names.setdefault(code, str(dict(zip(jeu["code_commune"], jeu["nom"], strict=True))[code] or code))
    names = dict(sorted(names.items()))
    signataires = {c: s for c, s in zip(jeu["code_commune"], jeu["signataire"], strict=True) if s is not None}
    for (code, _q), data in results.items():
        if isinstance(data.get("signataire_cucs"), bool):
            signataires.setdefault(code, data["signataire_cucs"])
    run_by_key = {(r["code_commune"], r["question"]): r for r in runs.to_dict("records")}
    avert_communes, avert_params, avert_donnees = avertissements(manifest)
    date = _date_generation(manifest.get("genere_le"))
    source = str(
        manifest.get("nom_jeu_de_donnees")
        or manifest.get("dossier_donnees")
        or "jeu de données non renseigné"
    )

    _copy_static(site)
    typo: dict = {}  # the text nodes of the pages already through `typographie_html`

    # question pages: only those of successful runs (a stale page of a failed run is not published)
    published = set()
    for code, question in pages_found:
        run = run_by_key.get((code, question))
        if run is None or run["statut"] in PUBLISHED_STATUTS:
            page = (pages_dir / code / f"{question}.html").read_text(encoding="utf-8")
            _write_page(site / run_page_path(code, question), page, typo)
            published.add((code, question))

    # CSV downloads of the results of successful runs, with a LISEZMOI per folder
    catalogue = _read_csv(data_dir / "catalogue_indicateurs.csv") if data_dir is not None else None
    libelles: dict[str, Mapping[str, str]] = {}
    if catalogue is not None and {"indicateur", "libelle"} <= set(catalogue.columns):
        libelles["indicateur"] = dict(zip(catalogue["indicateur"], catalogue["libelle"], strict=True))
    downloads: dict[tuple[str, str], list[dict]] = {}
    dossiers: dict[str, list[dict]] = {}
    for (code, question), data in sorted(results.items()):
        run = run_by_key.get((code, question))
        if run is not None and run["statut"] not in PUBLISHED_STATUTS:
            continue
        if data.get("tables_absentes"):
            continue  # a notebook not executed (tables absent): nothing measured to download
        # a report may name its tables and label its own codes (`libelles_tables`, `libelles_codes`)
        codes_du_rapport = {**libelles, **_mappings(data.get("libelles_codes"))}
        noms_tables = {
            k: str(v) for k, v in _mappings({"t": data.get("libelles_tables")}).get("t", {}).items()
        }
        for key, table in results_tables(data).items():
            if key == "colonnes":
                continue  # the description of another table's columns: in the LISEZMOI
            rel = f"telechargements/{code}/{question}_{key}.csv"
            # once per table: its CSV and its columns' descriptions read the same published table
            publiee, publiees = _publier(table, codes_du_rapport)
            atomic.write_new(site / rel, _csv_publiee(publiee))
            libelle = noms_tables.get(key) or _libelle_table(key)
            downloads.setdefault((code, question), []).append(
                {"cle": key, "libelle": libelle, "chemin": rel, "lignes": len(table)}
            )
            entetes = {
                c.get("cle"): f"{c.get('libelle')}"
                + (f", {c.get('unite')}" if c.get("unite") not in (None, "", "texte") else "")
                for c in data.get("colonnes") or []
                if isinstance(c, dict)
            }
            colonnes = [
                f"{c} : {entetes[c]}"
                if c in entetes
                else _description(str(c), publiees[c], "unite" in publiee.columns)
                for c in table.columns
            ]
            dossiers.setdefault(code, []).append(
                {
                    "fichier": rel.rsplit("/", 1)[-1],
                    "libelle": f"{_question_titre(question)} — {libelle}",
                    "lignes": len(table),
                    "colonnes": colonnes,
                }
            )
    for code, fichiers in dossiers.items():
        atomic.write_new(
            site / "telechargements" / code / "LISEZMOI.txt",
            lisezmoi(fichiers, source, date).encode("utf-8-sig"),
        )

    question_ids = _question_order(
        {q for _, q in run_by_key} | {q for _, q in results} | {q for _, q in published}
    )
    commune_questions = [q for q in question_ids if not _is_regional(q)]
    regional_questions = [q for q in question_ids if _is_regional(q)]
    in_dataset = set(jeu["code_commune"])
    communes = [
        c
        for c in names
        if c in in_dataset or any((c, q) in run_by_key or (c, q) in results for q in commune_questions)
    ]

    def cell(code: str, question: str, prefix: str) -> dict:
        info = _cell(
            run_by_key.get((code, question)),
            results.get((code, question)),
            (code, question) in published,
            question=question,
            signataire=signataires.get(code),
        )
        info["lien"] = prefix + run_page_path(code, question) if info["statut"] == "ok" else None
        return info

    def qinfo(question: str) -> dict:
        q = _questions.BY_ID.get(question)
        return {
            "id": question,
            "titre": _question_titre(question),
            "question": q.question if q else "",
            "groupe": q.groupe if q else "",
        }

    regional = []
    for question in regional_questions:
        codes = [c for (c, q) in run_by_key if q == question] or [c for (c, q) in results if q == question]
        for code in codes:
            info = {**qinfo(question), **cell(code, question, "")}
            info["telechargements"] = downloads.get((code, question), [])
            regional.append(info)

    # The index lists the communes this output holds something for; the data set's others (a
    # run of a few communes of a region) are counted in one sentence, not shown « non exécuté ».
    # Nothing run for any commune (a regional run only): every commune, as before.
    traitees = [
        c for c in communes if any((c, q) in run_by_key or (c, q) in results for q in commune_questions)
    ] or communes
    autres = len(communes) - len(traitees)
    lignes = [
        {
            "code": code,
            "nom": names[code],
            "recherche": code if names[code] == code else f"{names[code]} {code}",
            "hors_cucs": signataires.get(code) is False,
            "cellules": [cell(code, q, "") for q in commune_questions],
        }
        for code in traitees
    ]
    sujet, verbe = (
        ("autre commune", "n'a pas été traitée")
        if autres == 1
        else ("autres communes", "n'ont pas été traitées")
    )
    non_traitees = (
        f"{_text.nombre(autres)} {sujet} du jeu de données {verbe} dans cette exécution." if autres else None
    )
    _write_page(
        site / "index.html",
        _render(
            "index.html.j2",
            racine="",
            titre_page=f"Accueil | {SITE_NAME}",
            questions=[qinfo(q) for q in commune_questions],
            lignes=lignes,
            non_traitees=non_traitees,
            regional=regional,
            genere_le=date,
            jeu_de_donnees=manifest.get("nom_jeu_de_donnees") or manifest.get("dossier_donnees"),
        ),
        typo,
    )

    for code in communes:
        sections = []
        for question in commune_questions:
            data = results.get((code, question)) or {}
            info = cell(code, question, "../")
            ok = info["statut"] == "ok"
            verdict = data.get("verdict") if ok and isinstance(data.get("verdict"), Mapping) else {}
            section = str(verdict.get("section") or "").strip()
            sections.append(
                {
                    **qinfo(question),
                    **info,
                    "verdict": str(verdict.get("texte") or "").strip(),
                    "verdict_lien": f"{info['lien']}#{_synthese.ancre(section)}"
                    if section and info["lien"]
                    else None,
                    "verdict_section": section,
                    "constats": [str(s) for s in (data.get("constats") or [])] if ok else [],
                    "reserves": [str(s) for s in (data.get("reserves") or [])] if ok else [],
                    "chiffres_cles": [
                        {
                            "libelle": str(c.get("libelle") or c.get("id") or ""),
                            "valeur": _labels.MOTIF_LIBELLES[c["motif"]]
                            if c.get("valeur") is None and c.get("motif") in _labels.MOTIF_LIBELLES
                            else c.get("valeur"),
                            "unite": c.get("unite"),
                        }
                        for c in (data.get("chiffres_cles") or [])
                        if isinstance(c, dict)
                    ]
                    if ok
                    else [],
                    "telechargements": [
                        {**d, "chemin": "../" + d["chemin"]} for d in downloads.get((code, question), [])
                    ],
                }
            )
        dans_dossier = [q for q in commune_questions if (code, q) in published]
        titre = f"{names[code]} ({code})" if names[code] != code else code
        _write_page(
            site / "communes" / f"{code}.html",
            _render(
                "commune.html.j2",
                racine="../",
                titre_page=f"{titre} | {SITE_NAME}",
                code=code,
                nom=names[code],
                hors_cucs=signataires.get(code) is False,
                avertissements=avert_communes.get(code, []),
                sections=sections,
                dossier=f"{code}-dossier.html" if dans_dossier else None,
                lisezmoi=f"../telechargements/{code}/LISEZMOI.txt" if code in dossiers else None,
            ),
            typo,
        )
        if dans_dossier:
            # the synthesis first, then the questions in the workshop's order
            ordre = sorted(dans_dossier, key=lambda q: (q != "synthese", commune_questions.index(q)))
            parties = [
                {
                    "id": q,
                    "titre": _question_titre(q),
                    "corps": corps_dossier(
                        (site / run_page_path(code, q)).read_text(encoding="utf-8"), q, ordre, code
                    ),
                }
                for q in ordre
            ]
            _write_page(
                site / "communes" / f"{code}-dossier.html",
                _render(
                    "dossier.html.j2",
                    racine="../",
                    titre_page=f"Dossier — {titre} | {SITE_NAME}",
                    code=code,
                    nom=names[code],
                    parties=parties,
                    genere_le=date,
                ),
                typo,
            )

    _write_page(
        site / "methode.html",
        _render(
            "methode.html.j2",
            racine="",
            titre_page=f"Méthode | {SITE_NAME}",
            **_methode_context(_parametres(results), data_dir, results, names),
            avertissements_parametres=avert_params,
            avertissements_donnees=avert_donnees,
            tables_carnets=tables_des_carnets(),
        ),
        typo,
    )


def build_site(out_dir: Path, racine: Path | None = None) -> Path:
    """Build ``out_dir/site`` from ``out_dir/manifest.json``, ``results/`` and ``pages/``.

    The site is written to ``out_dir/site.tmp-XXXX`` and swapped in only when complete; if
    the build fails, the previous site is left untouched and the temporary folder removed.
    Returns the path of the site. `racine` (the project root, which the runner knows) locates
    the data folder the manifest names: the commune list, the catalogue of indicators.
    """
    out_dir = Path(out_dir)
    target = out_dir / SITE_DIR
    with atomic.new_dir(target) as tmp:
        _build_into(tmp, out_dir, racine)
    return target
