"""HTML export of executed notebooks and the static site.

Two entry points used by the runner:

- ``render_page(nb, question_id, code_commune, nom_commune)`` turns one executed notebook into a
  self-contained French HTML page (no code, no prompts, one shared stylesheet, no script,
  every figure with an ``alt``). Figures follow the ``plots.show(fig, alt)`` contract: a
  ``display_data`` output with ``image/png`` and ``metadata["image/png"]["alt"]``.
- ``build_site(out_dir)`` assembles ``out_dir/site`` (index, one page per commune, "Méthode",
  the question pages, CSV downloads) in a temporary folder and swaps it in atomically.

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
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import nh3
import pandas as pd

from cucs_analysis.pipeline import atomic
from cucs_analysis.present import text as _text
from cucs_analysis.reports import questions as _questions

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

STATUT_LIBELLES = {"ok": "ok", "echec": "échec", "ignore": "ignoré", "absent": "absent"}

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
    """Whether an output is only the « Données non disponibles : … » sentence of a section."""
    html_text = output.get("data", {}).get("text/html", "")
    html_text = "".join(html_text) if isinstance(html_text, list) else str(html_text)
    return html_text.startswith('<p class="cucs-non-disponible">') and html_text.count("<p") == 1


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
    )
    env.filters["chiffre"] = format_chiffre
    env.globals["site_name"] = SITE_NAME
    return env


@functools.cache
def _exporter():
    """One HTMLExporter per process: creating it costs about 0.2 s."""
    from nbconvert import HTMLExporter

    # `basic` renders the cells only (no inline CSS, no require.js, no MathJax): the page
    # around them is ours
    return HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_raw=True,
    )


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
            tables[key] = pd.json_normalize(rows)
        else:
            tables[key] = pd.DataFrame(
                {key: [json.dumps(r, ensure_ascii=False) if isinstance(r, list | dict) else r for r in rows]}
            )
    return tables


_TABLE_LIBELLES = {"constats": "Constats", "reserves": "Réserves", "chiffres_cles": "Chiffres clés"}


def _libelle_table(key: str) -> str:
    """A readable French label for a downloadable table (the file keeps the key)."""
    texte = _TABLE_LIBELLES.get(key, key.replace("_", " "))
    return texte[:1].upper() + texte[1:]


def csv_bytes(table: pd.DataFrame) -> bytes:
    """A table as CSV for French spreadsheets: ``;`` separator, decimal comma, UTF-8 with BOM."""
    # booleans read as oui / non in a French spreadsheet
    table = table.apply(lambda s: s.map({True: "oui", False: "non"}) if s.dtype == bool else s)
    return table.to_csv(sep=";", decimal=",", index=False, lineterminator="\r\n").encode("utf-8-sig")


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


def _names_from_dataset(manifest: Mapping, out_dir: Path) -> dict[str, str]:
    """Commune names from ``<dossier_donnees>/communes.csv`` when the manifest points to it."""
    jeu = manifest.get("dossier_donnees")
    if not isinstance(jeu, str) or not jeu:
        return {}
    for base in (Path(jeu), out_dir / jeu, out_dir.parent / jeu):
        path = base / "communes.csv"
        if path.is_file():
            try:
                df = pd.read_csv(path, sep=None, engine="python", dtype=str, encoding="utf-8-sig")
            except (OSError, ValueError, UnicodeDecodeError):
                return {}
            if {"code_commune", "nom"} <= set(df.columns):
                return dict(zip(df["code_commune"], df["nom"], strict=True))
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


def _error_summary(erreur: str, limite: int = 300) -> str:
    texte = " ".join(str(erreur).split())
    return texte if len(texte) <= limite else texte[: limite - 1] + "…"


def _cell(run: Mapping | None, results: Mapping | None, has_page: bool) -> dict:
    """What the index and the commune page show for one (commune, question)."""
    statut = run["statut"] if run is not None else ("ok" if has_page else "absent")
    if statut == "ignore":
        # the runner marks runs skipped by --resume (inputs unchanged) "ignore": their page holds
        statut = "ok"
    if statut == "ok" and not has_page:
        statut = "absent"  # never a broken link
    chiffre = libelle = None
    if results and statut == "ok":
        cles = [c for c in results.get("chiffres_cles") or [] if isinstance(c, dict)]
        if cles:
            chiffre = format_chiffre(cles[0].get("valeur"), cles[0].get("unite"))
            libelle = str(cles[0].get("libelle") or "")
    return {
        "statut": statut,
        "statut_libelle": STATUT_LIBELLES.get(statut, statut),
        "erreur": _error_summary(run["erreur"]) if run is not None and statut == "echec" else "",
        "chiffre": chiffre,
        "chiffre_libelle": libelle,
    }


def run_page_path(code_commune: str, question_id: str) -> str:
    """Path of a question page inside the site."""
    return f"pages/{code_commune}/{question_id}.html"


def _copy_static(site: Path) -> None:
    static = resources.files("cucs_analysis.pipeline") / "static"
    for name in STATIC_FILES:
        atomic.write_bytes(site / "static" / name, (static / name).read_bytes())


def _render(template: str, **context) -> str:
    return _jinja_env().get_template(template).render(**context)


def _build_into(site: Path, out_dir: Path) -> None:
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
    names = commune_names(runs, results, _names_from_dataset(manifest, out_dir))
    run_by_key = {(r["code_commune"], r["question"]): r for r in runs.to_dict("records")}

    _copy_static(site)

    # question pages: only those of successful runs (a stale page of a failed run is not published)
    published = set()
    for code, question in pages_found:
        run = run_by_key.get((code, question))
        if run is None or run["statut"] in PUBLISHED_STATUTS:
            atomic.write_bytes(
                site / run_page_path(code, question), (pages_dir / code / f"{question}.html").read_bytes()
            )
            published.add((code, question))

    # CSV downloads of the results of successful runs
    downloads: dict[tuple[str, str], list[dict]] = {}
    for (code, question), data in results.items():
        run = run_by_key.get((code, question))
        if run is not None and run["statut"] not in PUBLISHED_STATUTS:
            continue
        for key, table in results_tables(data).items():
            rel = f"telechargements/{code}/{question}_{key}.csv"
            atomic.write_bytes(site / rel, csv_bytes(table))
            downloads.setdefault((code, question), []).append(
                {"cle": key, "libelle": _libelle_table(key), "chemin": rel, "lignes": len(table)}
            )

    question_ids = _question_order(
        {q for _, q in run_by_key} | {q for _, q in results} | {q for _, q in published}
    )
    commune_questions = [q for q in question_ids if not _is_regional(q)]
    regional_questions = [q for q in question_ids if _is_regional(q)]
    communes = [c for c in names if any((c, q) in run_by_key or (c, q) in results for q in commune_questions)]

    def cell(code: str, question: str, prefix: str) -> dict:
        info = _cell(
            run_by_key.get((code, question)), results.get((code, question)), (code, question) in published
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
            regional.append({**qinfo(question), **cell(code, question, "")})

    lignes = [
        {
            "code": code,
            "nom": names[code],
            "recherche": code if names[code] == code else f"{names[code]} {code}",
            "cellules": [cell(code, q, "") for q in commune_questions],
        }
        for code in communes
    ]
    atomic.write_text(
        site / "index.html",
        _render(
            "index.html.j2",
            racine="",
            titre_page=f"Accueil | {SITE_NAME}",
            questions=[qinfo(q) for q in commune_questions],
            lignes=lignes,
            regional=regional,
            genere_le=_date_generation(manifest.get("genere_le")),
            jeu_de_donnees=manifest.get("nom_jeu_de_donnees") or manifest.get("dossier_donnees"),
        ),
    )

    for code in communes:
        sections = []
        for question in commune_questions:
            data = results.get((code, question)) or {}
            info = cell(code, question, "../")
            ok = info["statut"] == "ok"
            sections.append(
                {
                    **qinfo(question),
                    **info,
                    "constats": [str(s) for s in (data.get("constats") or [])] if ok else [],
                    "reserves": [str(s) for s in (data.get("reserves") or [])] if ok else [],
                    "chiffres_cles": [
                        {
                            "libelle": str(c.get("libelle") or c.get("id") or ""),
                            "valeur": c.get("valeur"),
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
        atomic.write_text(
            site / "communes" / f"{code}.html",
            _render(
                "commune.html.j2",
                racine="../",
                titre_page=f"{names[code]} ({code}) | {SITE_NAME}"
                if names[code] != code
                else f"{code} | {SITE_NAME}",
                code=code,
                nom=names[code],
                sections=sections,
            ),
        )

    atomic.write_text(
        site / "methode.html", _render("methode.html.j2", racine="", titre_page=f"Méthode | {SITE_NAME}")
    )


def build_site(out_dir: Path) -> Path:
    """Build ``out_dir/site`` from ``out_dir/manifest.json``, ``results/`` and ``pages/``.

    The site is written to ``out_dir/site.tmp-XXXX`` and swapped in only when complete; if
    the build fails, the previous site is left untouched and the temporary folder removed.
    Returns the path of the site.
    """
    out_dir = Path(out_dir)
    target = out_dir / SITE_DIR
    with atomic.new_dir(target) as tmp:
        _build_into(tmp, out_dir)
    return target
