"""Scanner of a built site and its results for published secrets (issue 9, point 3).

`scan(out_dir, seuil, ids)` walks every file under ``out_dir/site`` and ``out_dir/results`` and
returns a `Scan`: what it looked at (counts) and what it found:

- HTML pages: every table cell under a header that counts people or reports (« Bénéficiaires
  touchés », « Participants », « Habitants », « Répondants », « Énoncés »…); every number in a
  sentence followed by a count noun (« 7 bénéficiaires », « 3 nouveaux participants »), in the
  page text, captions and image descriptions;
- CSV downloads: every cell of a count column (same header rule);
- results JSON: every number under a key that counts people or reports (``realises``,
  ``personnes_quartiers``, ``participants``… and the numerators and denominators of the rates
  of people), and the key figures (``chiffres_cles``) whose label counts people;
- everywhere (pages, downloads, results, every other text file): the pseudonymous ids of the
  data (people, households, survey answers, reports), as whole words.

A finding is a count ``1 <= n < seuil`` (zero describes no one and is published) or an id.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

#: Nouns that count people or reports, as a header or after a number in a sentence.
NOUNS = (
    r"bénéficiaires?|participants?|habitants?|personnes?|ménages?|répondants?|réponses?|"
    r"signalements?|bilans?|constats?|énoncés?|parcours|jeunes|enfants|familles|usagers|"
    r"inscrits?|touchés|prévus|accompagnés?|suivis?|réussites?|difficultés?|blocages?|"
    r"écarts expliqués|numérateur|dénominateur|résolus|classés sans suite|sorties?|demandeurs|chômeurs"
)
#: A table whose caption counts people: its unnamed count columns (« Dans les quartiers »).
PEOPLE_CAPTION = re.compile(
    r"\b(personnes|habitants|ménages|répondants|bénéficiaires|signalements)\b", re.IGNORECASE
)
#: A header with one of these is a rate, a share, an amount or a rank, not a count.
NOT_A_COUNT = re.compile(
    r"%|\bpart\b|\bparts\b|taux|moyen|médian|€|euros?|par habitant|pour 1|rang|réalisation|"
    r"indice|écarts? (à|de|d'|avant|pendant|significatif)|^écart$|évolution|borne|\bic\b|intervalle|"
    r"niveau|^années?\b|délai|progression|points|ratio|petite base|lecture|remarque|précision|visé|"
    r"type|catégorie|thème|énoncé du|crédits|par bénéficiaire|^actions?\b|^réunions|équipements?",
    re.IGNORECASE,
)
HEADER = re.compile(rf"\b({NOUNS})\b", re.IGNORECASE)
#: Words that may sit between a number and its noun (« 7 nouveaux bénéficiaires ») — not
#: prepositions or units (« 5 euros par habitant », « 3 ans de parcours »).
STOP = {
    "par", "pour", "sur", "en", "de", "des", "du", "d", "euros", "€", "ans", "années", "an",
    "actions", "action", "quartiers", "quartier", "réunions", "institutions", "mois", "jours",
    "dispositifs", "communes", "%", "et", "ou", "à", "au", "aux", "les", "la", "le",
}  # fmt: skip
NUMBER = r"\d{1,3}(?:[\u202f\u00a0 ]\d{3})+|\d+"
SENTENCE = re.compile(
    rf"(?<![\d,.\w])({NUMBER})(?![\d,.]\d)\s+((?:[^\W\d]+['’]?\s+){{0,2}}?)({NOUNS})\b", re.IGNORECASE
)
#: Keys of the results JSON that count people or reports (matched on the path ``q/key/…``
#: with accents stripped); the numerators and denominators of rates of people.
JSON_COUNT = re.compile(
    r"(^|/)(prevus|realises|prevus_realisees|prevus_non_realisees)$|beneficiaire|participant|"
    r"habitant|personne|menage|repondant|reponse|signalement|bilans?($|_)|enonce|parcours|"
    r"effectif|^q2/(ecarts|tendances)/(numerateur|denominateur)|^q3/.*/(n|numerateur|denominateur)$|"
    r"^q4/reunions_periodes/(numerateur|denominateur)"
)
JSON_NOT_COUNT = re.compile(
    r"(^|_)(taux|part|parts|moyen|moyenne|median|mediane|euros?|montant|hab|rang|seuil|annee|annees|"
    r"delai|ratio|pour)(_|$)"
)
#: Results keys that are not published figures (the run's parameters).
JSON_SKIP = {"parametres"}
ID_TOKEN = re.compile(r"\b[A-Z]{1,3}\d{4,8}\b")
#: Columns of the data that hold pseudonymous ids (data/schema.py): people, households,
#: survey answers, reports, coded statements.
ID_COLUMNS = {
    "parcours": ("id_personne", "id_menage"),
    "enquetes": ("id_reponse",),
    "gup": ("id_signalement",),
    "bilans": ("id_bilan",),
}
BLOCKS = {
    "p", "li", "div", "td", "th", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "caption",
    "figcaption", "br", "section", "article", "header", "footer", "nav", "dd", "dt", "summary",
    "details", "table", "ul", "ol", "figure", "title",
}  # fmt: skip


def _ascii(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()


def is_count_header(header: str) -> bool:
    h = " ".join(header.split())
    return bool(HEADER.search(h)) and not NOT_A_COUNT.search(h)


def as_count(cell: str) -> int | None:
    """The whole number a cell shows (French format), else None (text, decimals, « s »)."""
    c = cell.replace("\u202f", " ").replace("\u00a0", " ").strip()
    if re.fullmatch(r"\d{1,3}(?: \d{3})+|\d+", c):
        return int(c.replace(" ", ""))
    return None


@dataclass
class Scan:
    seuil: int
    files: dict[str, int] = field(default_factory=lambda: {"html": 0, "csv": 0, "json": 0, "autres": 0})
    cells: int = 0  # count cells read in HTML tables
    csv_cells: int = 0
    sentences: int = 0  # numbers followed by a count noun in page text
    json_values: int = 0
    ids_checked: int = 0
    findings: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # the sentence matches, for reports

    def count(self, n: int | None, where: str) -> None:
        if n is not None and 0 < n < self.seuil:
            self.findings.append(f"{where} : {n}")


class _Html(HTMLParser):
    """Tables (header texts, rows of cell texts) and the text outside tables, by block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[tuple[str, list[str], list[list[str]]]] = []
        self.blocks: list[str] = []
        self._buf: list[str] = []
        self._stack: list[dict] = []  # open tables
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in_caption = False
        self._skip = 0  # script/style depth

    def _flush(self) -> None:
        t = " ".join("".join(self._buf).split())
        if t:
            self.blocks.append(t)
        self._buf = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "img" and a.get("alt"):
            self.blocks.append(" ".join(a["alt"].split()))
        if tag == "table":
            self._flush()
            self._stack.append({"head": [], "rows": [], "in_head": False, "caption": []})
        elif self._stack and tag == "thead":
            self._stack[-1]["in_head"] = True
        elif self._stack and tag == "tr":
            self._row = []
        elif self._stack and tag in ("td", "th"):
            self._cell = []
        elif tag == "caption":
            self._in_caption = True
        if tag in BLOCKS and self._cell is None:
            self._flush()

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        if self._stack and tag in ("td", "th") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            if self._row is not None:
                self._row.append(text)
            self._cell = None
        elif self._stack and tag == "tr" and self._row is not None:
            t = self._stack[-1]
            (t["head"] if t["in_head"] and not t["head"] else t["rows"]).append(self._row)
            self._row = None
        elif self._stack and tag == "thead":
            self._stack[-1]["in_head"] = False
        elif self._stack and tag == "table":
            t = self._stack.pop()
            head = t["head"][0] if t["head"] else []
            self.tables.append((" ".join("".join(t["caption"]).split()), head, t["rows"]))
        if tag == "caption":
            self._in_caption = False
        if tag in BLOCKS and self._cell is None:
            self._flush()

    def handle_data(self, data):
        if self._skip:
            return
        if self._cell is not None:
            self._cell.append(data)
        elif not self._stack or self._in_caption:
            self._buf.append(data)
            if self._stack and self._in_caption:
                self._stack[-1]["caption"].append(data)


def scan_html(text: str, name: str, scan: Scan) -> None:
    p = _Html()
    p.feed(text)
    p.close()
    p._flush()
    for caption, head, rows in p.tables:
        people = bool(PEOPLE_CAPTION.search(caption))
        counts = [
            is_count_header(h) or (people and bool(h) and not NOT_A_COUNT.search(h) and j > 0)
            for j, h in enumerate(head)
        ]
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                n = as_count(cell)
                if j < len(counts) and counts[j] and n is not None:
                    scan.cells += 1
                    scan.count(n, f"{name}, tableau « {caption} », colonne « {head[j]} », ligne {i + 1}")
                elif n is None:
                    scan_sentences(cell, f"{name}, tableau « {caption} », ligne {i + 1}", scan)
    for block in p.blocks:
        scan_sentences(block, name, scan)


def scan_sentences(block: str, name: str, scan: Scan) -> None:
    for m in SENTENCE.finditer(block):
        between = [w.strip("'’").lower() for w in m.group(2).split()]
        if any(w in STOP for w in between):
            continue
        scan.sentences += 1
        scan.seen.append(m.group(0))
        scan.count(int(re.sub(r"\D", "", m.group(1))), f"{name}, phrase « {m.group(0)} »")


def _json_count_key(path: str) -> bool:
    return bool(JSON_COUNT.search(path)) and not JSON_NOT_COUNT.search(path.rsplit("/", 1)[-1])


def scan_csv(text: str, name: str, scan: Scan) -> None:
    """A download: its columns are the results keys (``q2_ecarts.csv`` → ``q2/ecarts/…``) or
    French headers; key figures by their label; sentences (constats, réserves) in text cells."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    if not rows:
        return
    head = rows[0]
    base = Path(name).stem.replace("_", "/", 1)
    counts = [is_count_header(h) or _json_count_key(f"{base}/{_ascii(h)}") for h in head]
    label = head.index("libelle") if "libelle" in head and "valeur" in head else None
    unite = head.index("unite") if "unite" in head else None
    for i, row in enumerate(rows[1:]):
        for j, cell in enumerate(row[: len(head)]):
            n = as_count(cell)
            is_count = counts[j] or (
                label is not None
                and head[j] == "valeur"
                and is_count_header(
                    " ".join(row[k] for k in (label, unite) if k is not None and k < len(row))
                )
            )
            if is_count and n is not None:
                scan.csv_cells += 1
                scan.count(n, f"{name}, colonne « {head[j]} », ligne {i + 1}")
            elif n is None:
                scan_sentences(cell, f"{name}, ligne {i + 1}", scan)


def scan_json(data: object, name: str, scan: Scan, path: str = "") -> None:
    if isinstance(data, dict):
        if {"libelle", "valeur"} <= set(data) and isinstance(data.get("valeur"), int | float):
            label = f"{data.get('libelle', '')} {data.get('unite', '') or ''}"
            v = data["valeur"]
            if is_count_header(str(label)) and not isinstance(v, bool) and float(v).is_integer():
                scan.json_values += 1
                scan.count(int(v), f"{name}, chiffre clé « {data.get('libelle')} »")
        for k, v in data.items():
            if k in JSON_SKIP:
                continue
            scan_json(v, name, scan, f"{path}/{_ascii(str(k))}" if path else _ascii(str(k)))
    elif isinstance(data, list):
        for v in data:
            scan_json(v, name, scan, path)
    elif isinstance(data, str):
        scan_sentences(data, f"{name}, {path}", scan)
    elif isinstance(data, int | float) and not isinstance(data, bool):
        if _json_count_key(path):
            scan.json_values += 1
            if float(data).is_integer():
                scan.count(int(data), f"{name}, clé {path}")


def pseudonymous_ids(data_dir: Path) -> set[str]:
    ids: set[str] = set()
    for table, cols in ID_COLUMNS.items():
        path = data_dir / f"{table}.csv"
        if path.exists():
            df = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=list(cols))
            for c in cols:
                ids.update(v for v in df[c] if v)
    return ids


def scan_ids(text: str, name: str, ids: set[str], scan: Scan) -> None:
    for m in ID_TOKEN.finditer(text):
        if m.group(0) in ids:
            scan.findings.append(f"{name} : identifiant pseudonyme {m.group(0)}")


def scan(out_dir: Path, seuil: int | dict[str, int], ids: set[str]) -> Scan:
    """Scan ``out_dir/site`` and ``out_dir/results``. `seuil`: one threshold, or one per
    commune code (a file under a commune's folder or named after it uses its own; others use
    the smallest)."""
    seuils = seuil if isinstance(seuil, dict) else {}
    default = min(seuils.values()) if seuils else int(seuil)
    result = Scan(seuil=default)
    result.ids_checked = len(ids)
    for root in (out_dir / "site", out_dir / "results"):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = str(path.relative_to(out_dir))
            code = next((c for c in seuils if c in path.parts or path.name.startswith(c)), None)
            result.seuil = seuils.get(code, default)
            suffix = path.suffix.lower()
            if suffix in (".png", ".jpg", ".pkl", ".woff", ".woff2", ".ico"):
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:  # not scanned: said, never skipped silently
                result.findings.append(f"{rel} : fichier illisible (UTF-8 attendu), non balayé")
                continue
            if suffix == ".html":
                result.files["html"] += 1
                scan_html(text, rel, result)
            elif suffix == ".csv":
                result.files["csv"] += 1
                scan_csv(text, rel, result)
            elif suffix == ".json":
                result.files["json"] += 1
                try:
                    scan_json(json.loads(text), rel, result, path.stem)
                except ValueError:
                    result.findings.append(f"{rel} : JSON illisible, effectifs non balayés")
            else:
                result.files["autres"] += 1
            scan_ids(text, rel, ids, result)
    result.seuil = default
    return result
