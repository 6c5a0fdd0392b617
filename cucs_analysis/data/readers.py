"""Readers for the project's tables, with French file conventions, and file discovery.

Files come from spreadsheets: `;` or `,` separators, decimal commas, Latin-1 or UTF-8 (with or
without BOM), secrecy codes (`s`, `ns`, `nd`, `so`) in numeric cells, codes with leading zeros.
Everything is first read as strings, then coerced column by column following `schema.TABLES`;
coercion never raises: what cannot be read becomes missing and a `Problem` is recorded.

Frames returned by `read_table` are indexed by the file's physical line number ("ligne",
header = line 1) so problems can point at the line. Validation lives in `validate`, the data
set and its territories in `dataset`.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import math
import os
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from cucs_analysis.data import schema
from cucs_analysis.data.errors import DataError, Problem

# The one French formatter: the documented exception to the layering (see data/errors.py).
from cucs_analysis.present import text as fr

TABLE_EXTENSIONS = (".csv", ".xlsx", ".parquet")
GEOMETRY_EXTENSIONS = (".geojson", ".gpkg")
#: Layers that may come with a geometry file, and the code column that links them to the table.
GEOMETRY_LAYERS = {
    **{n: t.key[0] for n, t in schema.TABLES.items() if t.geometry},
    "communes": "code_commune",
}
#: Numeric columns where secrecy codes are legitimate (elsewhere they are a problem).
SECRET_ALLOWED: dict[str, tuple[str, ...]] = {"indicateurs": ("valeur", "numerateur", "denominateur")}
#: At most this many problems of the same rule × column are listed one by one.
MAX_LISTED = 20

NUMERIC_KINDS = ("int", "year", "float")
STRING_KINDS = ("code", "text", "category", "list")
TRUE_WORDS = ("oui", "vrai", "true", "1", "o", "y", "yes")
FALSE_WORDS = ("non", "faux", "false", "0", "n", "no")
CACHE_VERSION = "2"
#: Integers beyond this are not read exactly by a float (2**53): refused before the cast.
MAX_INTEGER = 2**53


# --- problems helper --------------------------------------------------------------------------


def problems_from_mask(
    fichier: str,
    frame_index: pd.Index,
    mask: pd.Series | np.ndarray,
    colonne: str | None,
    valeurs: pd.Series | None,
    regle: str,
    message: str | pd.Series | Callable[[pd.Series], pd.Series],
    cap: int = MAX_LISTED,
) -> list[Problem]:
    """Problems for the rows where `mask` is True: the first `cap` listed, then one summary.

    `frame_index` holds line numbers; `message` is one text, a Series aligned on the frame,
    or a function computing messages from the listed values (only called on the listed rows).
    """
    mask = np.asarray(mask, dtype=bool)
    n = int(mask.sum())
    if n == 0:
        return []
    pos = np.flatnonzero(mask)[:cap]
    lines = [int(x) if pd.notna(x) else None for x in np.asarray(frame_index)[pos]]
    if valeurs is None:
        vals: list[str | None] = [None] * len(pos)
        listed = None
    else:
        listed = valeurs.iloc[pos]
        vals = ["" if pd.isna(v) else str(v) for v in listed]
    if callable(message):
        msgs = list(message(listed))
    elif isinstance(message, pd.Series):
        msgs = list(message.iloc[pos])
    else:
        msgs = [message] * len(pos)
    out = [Problem(fichier, li, colonne, v, regle, m) for li, v, m in zip(lines, vals, msgs, strict=True)]
    if n > cap:
        rest = n - cap
        out.append(
            Problem(
                fichier,
                None,
                colonne,
                None,
                regle,
                f"… et {rest} autre{'s' if rest > 1 else ''} ligne{'s' if rest > 1 else ''} avec ce problème",
                autres=rest,
            )
        )
    return out


# --- raw reading (strings only) ---------------------------------------------------------------


def sniff_encoding(raw: bytes) -> str | None:
    """The encoding to decode `raw` with, or None for binary content that is not text.

    Strict UTF-8 first (BOM accepted), then UTF-16 with a BOM, else cp1252 / Latin-1.
    """
    return _sniff_decode(raw)[0]


def _sniff_decode(raw: bytes) -> tuple[str | None, str | None]:
    """`sniff_encoding` and, when it is UTF-8, the decoded text (not decoded twice)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", None
    # Control bytes (NUL, etc.) never occur in a spreadsheet's text export.
    if any(b in raw for b in (b"\x00", b"\x01", b"\x02", b"\x03", b"\x04", b"\x05", b"\x06")):
        return None, None
    try:
        return "utf-8-sig", raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        raw.decode("cp1252")
        return "cp1252", None
    except UnicodeDecodeError:
        return "latin-1", None


def _first_nonblank_line(text: str) -> str:
    """`next(line for line in text.splitlines() if line.strip())`, without splitting a whole
    large file: a complete line found in the first 64 kB is the answer."""
    head = text[: 1 << 16]
    lines = head.splitlines()
    complete = lines if len(head) == len(text) else lines[:-1]
    found = next((ln for ln in complete if ln.strip()), None)
    if found is not None:
        return found
    return next((ln for ln in text.splitlines() if ln.strip()), "")


def sniff_separator(header_line: str) -> str:
    """`;`, tab or `,`: whichever occurs most in the header line (`,` if none)."""
    counts = {sep: header_line.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] > 0 else ","


def _frame_from_rows(
    rows: list[list[str]], fichier: str, first_line: int = 1
) -> tuple[pd.DataFrame, list[Problem]]:
    """Header + rows of strings → frame indexed by line number; bad field counts become problems."""
    problems: list[Problem] = []
    header = [h.strip().lstrip("\ufeff") for h in rows[0]]
    body = rows[1:]
    counts = np.fromiter(map(len, body), dtype=np.int64, count=len(body))
    lines = np.arange(first_line + 1, first_line + 1 + len(body))
    blank = counts == 0
    bad = (counts != len(header)) & ~blank
    if bad.any():
        idx = pd.Index(lines)
        msg = pd.Series(
            [
                f"la ligne a {c} champ{'s' if c > 1 else ''} au lieu de {len(header)} "
                "(ligne tronquée, séparateur en trop ou guillemet non fermé)"
                for c in counts[bad][:MAX_LISTED]
            ]
        )
        problems += problems_from_mask(
            fichier, idx[bad], np.ones(int(bad.sum()), bool), None, None, "nombre de champs", lambda _: msg
        )
    keep = ~(bad | blank)
    kept = [r for r, k in zip(body, keep, strict=True) if k] if not keep.all() else body
    # A header name given twice: reported once, the first column kept (pandas cannot index
    # a frame by a duplicated label).
    dup = pd.Index(header).duplicated()
    for name in pd.Index(header)[dup].unique():
        problems.append(
            Problem(
                fichier, first_line, name, None, "colonne en double", "cette colonne apparaît plusieurs fois"
            )
        )
    if dup.any():
        pos = np.flatnonzero(~dup)
        header = [header[i] for i in pos]
        kept = [[r[i] for i in pos] for r in kept]
    df = (
        pd.DataFrame(kept, columns=header, dtype="str") if kept else pd.DataFrame(columns=header, dtype="str")
    )
    df.index = pd.Index(lines[keep], name="ligne")
    # Spreadsheet exports pad cells with spaces; codes must compare exactly.
    df = df.apply(lambda s: s.str.strip()) if len(df.columns) else df
    return df, problems


#: Files shorter than this are read by the csv module only (the fast path is not worth it).
FAST_CSV_MIN_CHARS = 1 << 16
#: Fields the csv module refuses ("field larger than field limit"): the fast path never accepts them.
_CSV_FIELD_LIMIT = csv.field_size_limit()


def _fast_frame(text: str, sep: str, utf8: bytes | None = None) -> pd.DataFrame | None:
    """The frame `csv.reader` + `_frame_from_rows` would give, parsed by Arrow's CSV reader, for
    the files where both parsers provably agree; None otherwise (the caller reads it slowly).

    A national-size data set has millions of cells; the csv module and building a frame from
    Python lists took most of `cucs validate`. The fast path is taken only for well-formed
    files: no blank line (they are counted for line numbers), no lone carriage return, every
    quote opening a field and closing it (`"…""…"`), a header without duplicates, no field
    beyond the csv module's limit, and the same field count on every row (Arrow refuses the
    others). Anything else — the files validation must explain — takes the csv module path.
    """
    if len(text) < FAST_CSV_MIN_CHARS:
        return None
    if text.startswith(("\n", "\r")) or "\n\n" in text or "\n\r\n" in text:
        return None
    if "\r" in text and (text.count("\r") != text.count("\r\n") or '"' in text):
        return None
    if '"' in text:
        sep_rx = re.escape(sep)
        # A quoted field: opens where a field starts, closes where it ends, inner quotes doubled.
        quoted = re.compile(rf'(?:^|(?<={sep_rx}))"(?:[^"]|"")*"(?=[\r\n{sep_rx}]|\Z)', re.MULTILINE)
        if '"' in quoted.sub("", text):
            return None
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if '"' in first_line:
        return None
    header = [h.strip().lstrip("\ufeff") for h in first_line.split(sep)]
    if len(set(header)) != len(header):
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        from pyarrow import csv as pacsv

        names = [f"c{i}" for i in range(len(header))]
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8") if utf8 is None else utf8),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(
                delimiter=sep, quote_char='"', double_quote=True, escape_char=False,
                newlines_in_values=True, ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False, null_values=[],
            ),
        )  # fmt: skip
    except Exception:  # ragged rows and anything Arrow finds odd: the csv module decides
        return None
    for col in table.columns:
        if len(col) and pc.max(pc.utf8_length(col)).as_py() > _CSV_FIELD_LIMIT:
            return None
    df = pd.DataFrame(
        {h: pd.Series(col, dtype="str") for h, col in zip(header, table.columns, strict=True)},
        columns=header,
    )
    df.index = pd.Index(np.arange(2, len(df) + 2), name="ligne")
    return df.apply(lambda s: s.str.strip())


def read_raw_csv(path: str | Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a CSV as strings (frame indexed by line number), sniffing encoding and separator."""
    path = Path(path)
    fichier = path.name
    raw = path.read_bytes()
    if not raw.strip():
        return None, [Problem.whole_file(fichier, "fichier vide", "le fichier est vide")]
    enc, text = _sniff_decode(raw)
    if enc is None:
        return None, [
            Problem.whole_file(
                fichier,
                "fichier illisible",
                "le fichier n'est pas un fichier texte (contenu binaire) : enregistrez-le au format "
                "CSV (UTF-8 ou Latin-1)",
            )
        ]
    try:
        text = raw.decode(enc) if text is None else text
    except UnicodeDecodeError:  # a damaged UTF-16 file (odd length, lone surrogate)
        return None, [
            Problem.whole_file(
                fichier,
                "fichier illisible",
                "le fichier est endommagé (encodage UTF-16 illisible) : enregistrez-le de nouveau au format "
                "CSV (UTF-8 ou Latin-1)",
            )
        ]
    sep = sniff_separator(_first_nonblank_line(text))
    # The file's own bytes when they are the UTF-8 of `text` (without the BOM): not encoded again.
    utf8 = None
    if enc == "utf-8-sig":
        utf8 = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    fast = _fast_frame(text, sep, utf8)
    if fast is not None:
        return fast, []
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except csv.Error:
        return None, [
            Problem.whole_file(
                fichier,
                "fichier illisible",
                "lecture CSV impossible (champ trop long ou guillemets mal appariés) : "
                "enregistrez de nouveau le fichier au format CSV",
            )
        ]
    # Leading blank lines are skipped but still counted for line numbers.
    lead = next((i for i, r in enumerate(rows) if r and any(c.strip() for c in r)), None)
    if lead is None:
        return None, [Problem.whole_file(fichier, "fichier vide", "le fichier est vide")]
    return _frame_from_rows(rows[lead:], fichier, first_line=lead + 1)


def read_raw_xlsx(path: str | Path, sheet: str | None = None) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one sheet (named `sheet`, else the first) of an Excel file, all cells as strings."""
    path = Path(path)
    fichier = path.name
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=str, engine="openpyxl")
    except Exception:  # openpyxl raises many kinds on corrupt files
        return None, [
            Problem.whole_file(
                fichier,
                "fichier illisible",
                "classeur Excel illisible (fichier abîmé ou format non reconnu)",
            )
        ]
    if not sheets:
        return None, [Problem.whole_file(fichier, "feuille vide", "le classeur ne contient aucune feuille")]
    name = sheet if sheet in sheets else next(iter(sheets))
    df = sheets[name].fillna("")
    rows = df.astype(str).values.tolist()
    # Trailing empty rows are frequent in workbooks; they are not data.
    nonempty = [i for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not nonempty:
        return None, [
            Problem.whole_file(
                fichier,
                "feuille vide",
                f"la feuille « {name} » est vide : la première ligne doit contenir les noms des colonnes",
            )
        ]
    rows = rows[nonempty[0] : nonempty[-1] + 1]
    # Excel rows are never ragged: trailing empty header cells are padding columns.
    header = rows[0]
    width = max(i for i, h in enumerate(header) if h.strip()) + 1 if any(h.strip() for h in header) else 1
    rows = [r[:width] for r in rows]
    out, problems = _frame_from_rows(rows, fichier, first_line=nonempty[0] + 1)
    return out, problems


def read_raw_parquet(path: str | Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a Parquet file and turn every column back into strings (coercion is shared)."""
    path = Path(path)
    try:
        df = pd.read_parquet(path)
    except Exception:  # pyarrow errors vary with the damage
        return None, [
            Problem.whole_file(
                path.name,
                "fichier illisible",
                "fichier Parquet illisible (fichier abîmé ou format non reconnu)",
            )
        ]
    out = {}
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            s = s.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(s):
            s = s.map({True: "oui", False: "non"})
        out[str(col)] = s.astype("str").where(s.notna(), "")
    res = pd.DataFrame(out, dtype="str").reset_index(drop=True)
    res.index = pd.Index(np.arange(2, len(df) + 2), name="ligne")
    return res, []


# --- coercion --------------------------------------------------------------------------------


def _normalise_number(s: pd.Series) -> pd.Series:
    """French numbers → parseable: spaces as thousands separators, decimal comma."""
    # Python's regex (Unicode spaces) only runs on the cells that are not plain numbers
    # already: most cells of a large file are, and Arrow tells them apart quickly.
    plain = s.isna() | s.str.fullmatch(r"[-+0-9.eE]*").fillna(False).astype(bool)
    if not plain.all():
        rest = s[~plain].str.replace(r"[\s\u00a0\u202f]", "", regex=True)
        s = s.where(plain, rest)
    has_comma = s.str.contains(",", regex=False)
    # "1.234,5": the dot is a thousands separator when a decimal comma is present.
    return s.where(~has_comma, s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))


def _parse_dates(s: pd.Series) -> pd.Series:
    t = s.str.replace(r"[ T]00:00(:00(\.0+)?)?$", "", regex=True)
    iso = pd.to_datetime(t, format="%Y-%m-%d", errors="coerce")
    # The French form is only tried where the ISO one failed (a large file is all ISO).
    other = iso.isna() & t.notna()
    if not other.any():
        return iso.astype("datetime64[us]")
    fr = pd.to_datetime(t[other], format="%d/%m/%Y", errors="coerce")
    return iso.fillna(fr).astype("datetime64[us]")


_KIND_LABEL = {
    "int": "un nombre entier",
    "year": "une année (nombre entier, ex. « 2010 »)",
    "float": "un nombre (ex. « 1234,5 » ou « 1234.5 »)",
    "bool": "oui ou non",
    "date": "une date (AAAA-MM-JJ ou JJ/MM/AAAA)",
}


def coerce_column(
    s: pd.Series, col: schema.Column, table_name: str, fichier: str
) -> tuple[pd.Series, pd.Series | None, list[Problem]]:
    """Coerce one string column per `col.kind`: (values, secrecy flags or None, problems)."""
    s = s.astype("str")
    if col.inconnu:
        # « inconnu » (any case) means unknown: missing, like a blank; validation warns once.
        s = s.mask(is_inconnu(s), "")
    elif col.allowed is not None and schema.INCONNU in col.allowed:
        # A category that has "inconnu" among its values (categorie_cucs): any case reads as it.
        s = s.mask(is_inconnu(s), schema.INCONNU)
    empty = s.isna() | (s == "")
    problems: list[Problem] = []
    secret = None
    if col.kind in STRING_KINDS:
        return s.mask(empty), None, []
    if col.kind in NUMERIC_KINDS:
        is_secret = s.str.lower().isin(schema.SECRECY_CODES)
        allowed = col.name in SECRET_ALLOWED.get(table_name, ())
        if allowed or is_secret.any():
            secret = is_secret.astype("boolean")
        if not allowed:
            problems += problems_from_mask(
                fichier,
                s.index,
                is_secret,
                col.name,
                s,
                "secret statistique",
                "les codes de secret statistique (s, ns, nd, so) ne sont admis que dans les colonnes "
                "valeur, numerateur et denominateur de indicateurs : ici, laissez la cellule vide "
                "ou indiquez la valeur",
            )
        empty = empty | is_secret
        # Every value is checked before any cast: float64 holds any parsed number (a 20-digit
        # integer, 1e400 → inf), then what is not finite or too large for the kind is refused.
        num = pd.to_numeric(_normalise_number(s.mask(empty)), errors="coerce").astype("float64")
        bad = num.isna() & ~empty
        infinite = num.notna() & ~np.isfinite(num.to_numpy(dtype="float64", na_value=np.nan))
        problems += problems_from_mask(
            fichier,
            s.index,
            infinite,
            col.name,
            s,
            "nombre non fini",
            "la valeur n'est pas un nombre fini (infini ou trop grand pour être lu) : indiquez la valeur "
            "ou laissez la cellule vide",
        )
        num = num.mask(infinite)
        if col.kind in ("int", "year"):
            huge = num.notna() & (num.abs() > MAX_INTEGER)
            problems += problems_from_mask(
                fichier,
                s.index,
                huge,
                col.name,
                s,
                "hors limites",
                f"nombre trop grand pour {_KIND_LABEL[col.kind].split(' (')[0]} : "
                "la valeur est sans doute erronée",
            )
            num = num.mask(huge)
            frac = num.notna() & (num != np.floor(num))
            bad = bad | frac
            num = num.mask(frac)
            values = num.astype("Int64")
        else:
            values = num
    elif col.kind == "bool":
        low = s.str.lower()
        values = pd.Series(pd.NA, index=s.index, dtype="boolean")
        values = values.mask(low.isin(TRUE_WORDS), True).mask(low.isin(FALSE_WORDS), False)
        bad = values.isna() & ~empty
    elif col.kind == "date":
        values = _parse_dates(s.mask(empty))
        bad = values.isna() & ~empty
    else:  # pragma: no cover - schema kinds are closed
        raise ValueError(f"unknown column kind {col.kind!r}")
    problems += problems_from_mask(
        fichier, s.index, bad, col.name, s, "type", f"la valeur doit être {_KIND_LABEL[col.kind]}"
    )
    return values, secret, problems


#: Similarity (difflib ratio) above which a header whose kind is not known is suggested.
SUGGESTION_ANY_KIND = 0.8
#: Similarity enough between columns of the same kind (same leading word: code_, nom, id_…).
SUGGESTION_SAME_KIND = 0.75
#: Leading words that say what a column holds: two different ones are never confused (a name
#: is not a code, however alike the rest of the spelling: `nom_quartier` ↛ `code_quartier`).
COLUMN_KINDS = frozenset(
    {"code", "nom", "libelle", "id", "annee", "date", "montant", "type", "population", "taux", "nombre"}
)


def _column_kind(name: str) -> str:
    """The kind of a column as its name says: the leading word (code, nom, id, annee…)."""
    return re.split(r"[_\s-]", name.strip().lower(), maxsplit=1)[0]


def suggest_column(name: str, expected: set[str] | list[str]) -> str | None:
    """The schema column an unknown header was probably meant to be, or None.

    Between columns of the same kind (leading word: `code_comune` → `code_commune`) from a
    ratio of 0.75; never between two different known kinds (`nom_commune` ↛ `code_commune`);
    otherwise (`codecommune`) only from a ratio of 0.8."""
    low = name.strip().lower()
    kind = _column_kind(low)
    best, best_ratio = None, 0.0
    for cand in sorted(expected):
        ratio = difflib.SequenceMatcher(None, low, cand).ratio()
        other = _column_kind(cand)
        if kind == other:
            cutoff = SUGGESTION_SAME_KIND
        elif kind in COLUMN_KINDS and other in COLUMN_KINDS:
            continue
        else:
            cutoff = SUGGESTION_ANY_KIND
        if ratio >= cutoff and ratio > best_ratio:
            best, best_ratio = cand, ratio
    return best


def is_inconnu(s: pd.Series) -> pd.Series:
    """Cells that spell « inconnu » (any case, trimmed): an unknown value."""
    return s.astype("str").str.strip().str.lower().eq(schema.INCONNU).fillna(False).astype(bool)


def empty_frame(table: schema.Table) -> pd.DataFrame:
    """An empty frame with the table's columns and the dtypes the loader produces."""
    raw = pd.DataFrame({c: pd.Series([], dtype="str") for c in table.column_names})
    df, _ = coerce_table(raw, table, table.name)
    return df.reset_index(drop=True)


def coerce_table(raw: pd.DataFrame, table: schema.Table, fichier: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Coerce a string frame to the table's dtypes; header problems and bad cells as problems."""
    problems: list[Problem] = []
    cols = list(raw.columns)
    dup = pd.Index(cols)[pd.Index(cols).duplicated()].unique()
    for c in dup:
        problems.append(
            Problem(fichier, 1, c, None, "colonne en double", "cette colonne apparaît plusieurs fois")
        )
    raw = raw.loc[:, ~pd.Index(cols).duplicated()]
    expected = set(table.column_names)
    missing = [c for c in table.columns if c.name not in raw.columns and c.required]
    unknown = [str(c) for c in raw.columns if c not in expected and not str(c).endswith("_secret")]
    # A misspelt required column is one mistake: one line naming both spellings, not a
    # « colonne manquante » and a « colonne inconnue ».
    suggestions = {c: suggest_column(c, expected) for c in unknown}
    renamed = {}
    for c, close in suggestions.items():
        if close in {m.name for m in missing} and close not in renamed:
            renamed[close] = c
    for c in missing:
        if c.name in renamed:
            problems.append(
                Problem(
                    fichier,
                    1,
                    c.name,
                    renamed[c.name],
                    "colonne manquante",
                    f"colonne obligatoire absente de l'en-tête ({c.description}) : la colonne « {renamed[c.name]} » "
                    f"est sans doute elle, mal orthographiée ; renommez-la « {c.name} »",
                )
            )
            continue
        problems.append(
            Problem(
                fichier,
                1,
                c.name,
                None,
                "colonne manquante",
                f"colonne obligatoire absente de l'en-tête ({c.description})"
                + (
                    " ; si ses valeurs ne sont pas connues, ajoutez la colonne et écrivez « inconnu » "
                    "(ou laissez les cellules vides)"
                    if c.inconnu
                    else ""
                ),
            )
        )
    for c in unknown:
        if c in renamed.values():
            continue
        close = suggestions[c]
        hint = f" ; vouliez-vous dire « {close} » ?" if close else ""
        problems.append(
            Problem(
                fichier,
                1,
                c,
                None,
                "colonne inconnue",
                f"colonne inconnue dans la table {table.name}{hint}",
            )
        )
    out: dict[str, pd.Series] = {}
    secrets: dict[str, pd.Series] = {}
    for c in table.columns:
        src = raw[c.name] if c.name in raw.columns else pd.Series("", index=raw.index, dtype="str")
        values, secret, probs = coerce_column(src, c, table.name, fichier)
        out[c.name] = values
        problems += probs
        if secret is not None:
            secrets[f"{c.name}_secret"] = secret
    df = pd.DataFrame(out, index=raw.index)
    for k, v in secrets.items():
        df[k] = v
    if table.name == "indicateurs" and secrets:
        flagged = pd.concat(list(secrets.values()), axis=1).any(axis=1)
        df["secret"] = (df["secret"].fillna(False) | flagged).astype("boolean")
    return df, problems


# --- public readers ---------------------------------------------------------------------------


def read_raw(path: str | Path, table_name: str | None = None) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read any supported table file as strings, by extension."""
    ext = Path(path).suffix.lower()
    if ext == ".csv":
        return read_raw_csv(path)
    if ext == ".xlsx":
        return read_raw_xlsx(path, table_name)
    if ext == ".parquet":
        return read_raw_parquet(path)
    return None, [
        Problem(
            Path(path).name, None, None, None, "fichier illisible", f"format non pris en charge : « {ext} »"
        )
    ]


def read_table(path: str | Path, table: schema.Table | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a CSV/XLSX/Parquet file, coerce it with `table` (if given); never raises on bad cells.

    Returns the frame (indexed by physical line number, "ligne") and the problems found. An
    unreadable or empty file gives an empty frame (schema columns) and its problem.
    """
    raw, problems = read_raw(path, table.name if table else None)
    if raw is None:
        return (empty_frame(table) if table else pd.DataFrame()), problems
    if table is None:
        return raw, problems
    df, probs = coerce_table(raw, table, Path(path).name)
    return df, problems + probs


def read_csv(path: str | Path, table: schema.Table | None = None) -> pd.DataFrame:
    """Read a CSV with French conventions (see module doc); coerced when `table` is given.

    Bad cells become missing (use `read_table` to get the problems); only a file that cannot
    be read at all raises `DataError`.
    """
    raw, problems = read_raw_csv(path)
    if raw is None:
        raise DataError(problems)
    if table is None:
        return raw.reset_index(drop=True)
    df, _ = coerce_table(raw, table, Path(path).name)
    return df.reset_index(drop=True)


def read_geometry(path: str | Path, code_column: str | None = None):
    """Read a GeoJSON/GeoPackage layer (pyogrio); codes kept as strings. Returns (gdf|None, problems)."""
    import geopandas as gpd

    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf = gpd.read_file(path, engine="pyogrio")
    except Exception:  # GDAL errors come in many types
        return None, [
            Problem.whole_file(
                path.name,
                "fichier illisible",
                "couche géographique illisible (fichier abîmé ou format non reconnu)",
            )
        ]
    if code_column and code_column in gdf.columns:
        s = gdf[code_column]
        gdf[code_column] = s.astype("str").where(s.notna()).str.strip()
    return gdf, []


def read_metadata(path: str | Path) -> tuple[schema.DatasetMetadata, list[Problem]]:
    """`metadonnees.yaml` → DatasetMetadata (defaults when absent); bad values are problems."""
    import yaml

    path = Path(path)
    if not path.exists():
        return schema.DatasetMetadata(), []
    fichier = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return schema.DatasetMetadata(), [
            Problem(
                fichier,
                line,
                None,
                None,
                "métadonnées",
                "fichier YAML illisible : vérifiez l'encodage (UTF-8), l'indentation et les deux-points "
                "« clé: valeur »",
            )
        ]
    if not isinstance(data, dict):
        return schema.DatasetMetadata(), [
            Problem.whole_file(
                fichier,
                "métadonnées",
                "le fichier doit contenir des paires « clé: valeur »",
            )
        ]
    known = {f.name: f for f in fields(schema.DatasetMetadata) if f.name not in ("extra", "import_")}
    known["import"] = None  # a Python keyword: read into the field `import_`
    kwargs, extra, problems = {}, {}, []
    lines = _yaml_key_lines(path.read_text(encoding="utf-8"))
    for k, v in data.items():
        if not isinstance(k, str) or k not in known:
            extra[str(k)] = v
            continue
        line = lines.get(k)
        shown = _shown(v)
        bounds = schema.METADATA_BOUNDS.get(k)
        number = _finite_number(v)
        if k == "revenu_median_national" and number is not None and 0 <= number < schema.REVENU_MEDIAN_MIN:
            problems.append(
                Problem(
                    fichier,
                    line,
                    k,
                    shown,
                    "revenu médian implausible",
                    f"un revenu médian national inférieur à {fr.nombre_exact(schema.REVENU_MEDIAN_MIN)} € par "
                    "unité de consommation n'est pas plausible : aucun seuil ne peut en être calculé ; "
                    "indiquez la valeur, ou retirez la clé si elle n'est pas connue",
                )
            )
            continue
        if k == "financements_perimetre":
            if v is None:
                continue
            if v not in schema.PERIMETRES_FINANCEMENTS:
                choix = " ou ".join(f"« {x} »" for x in schema.PERIMETRES_FINANCEMENTS)
                problems.append(
                    Problem(
                        fichier,
                        line,
                        k,
                        shown,
                        "métadonnées",
                        f"la valeur doit être {choix} (« etat_seul » : la source des financements ne "
                        "contient que la part de l'État, programme 147)",
                    )
                )
                continue
        if k == "sources":
            if v is None:
                continue
            if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
                problems.append(
                    Problem(
                        fichier,
                        line,
                        k,
                        shown,
                        "métadonnées",
                        "la valeur doit être une liste d'entrées « fichier: …, source: …, annees: … »",
                    )
                )
                continue
        if k == "import":
            if v is None:
                continue
            if not isinstance(v, dict):
                problems.append(
                    Problem(
                        fichier,
                        line,
                        k,
                        shown,
                        "métadonnées",
                        "la valeur doit être des paires « clé: valeur »",
                    )
                )
                continue
            kwargs["import_"] = v
            continue
        if bounds is not None and v is not None:
            lo, hi, want = bounds
            number = _finite_number(v)
            if number is None:
                problems.append(
                    Problem(fichier, line, k, shown, "métadonnées", "la valeur doit être un nombre fini")
                )
                continue
            if want is int and number != int(number):
                problems.append(
                    Problem(fichier, line, k, shown, "métadonnées", "la valeur doit être un nombre entier")
                )
                continue
            if not lo <= number <= hi:
                what = "une année comprise entre" if k.startswith("annee") else "comprise entre"
                problems.append(
                    Problem(
                        fichier,
                        line,
                        k,
                        shown,
                        "hors limites",
                        f"la valeur doit être {what} {_metadata_bound(k, lo)} et {_metadata_bound(k, hi)}",
                    )
                )
                continue
            v = int(number) if want is int else float(number)
        elif k in ("nom",) and v is not None and not isinstance(v, str):
            problems.append(Problem(fichier, line, k, shown, "métadonnées", "la valeur doit être un texte"))
            continue
        elif k == "synthetique" and not isinstance(v, bool):
            problems.append(
                Problem(fichier, line, k, shown, "métadonnées", "la valeur doit être true ou false")
            )
            continue
        if v is None and k in ("nom", "annee_debut", "annee_fin", "synthetique"):
            continue  # an empty value keeps the default
        kwargs[k] = v
    meta = schema.DatasetMetadata(**kwargs, extra=extra)
    if meta.annee_debut > meta.annee_fin:
        problems.append(
            Problem(
                fichier,
                lines.get("annee_fin"),
                "annee_fin",
                str(meta.annee_fin),
                "métadonnées",
                f"annee_fin doit être postérieure ou égale à annee_debut ({meta.annee_debut})",
            )
        )
    return meta, problems


def _yaml_key_lines(text: str) -> dict[str, int]:
    """Line number (1-based) of each top-level key of a YAML mapping, for the problems."""
    out: dict[str, int] = {}
    for i, ln in enumerate(text.splitlines(), start=1):
        m = re.match(r"^([A-Za-z_][\w-]*)\s*:", ln)
        if m and m.group(1) not in out:
            out[m.group(1)] = i
    return out


def _shown(v: object) -> str:
    """A metadata value as shown in a problem (short)."""
    s = str(v)
    return s if len(s) <= 60 else s[:57] + "…"


def _finite_number(v: object) -> float | None:
    """A YAML value as a finite float, or None (text, bool, list, inf, nan, overflow)."""
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        return None
    try:
        x = float(str(v).replace(",", ".").strip()) if isinstance(v, str) else float(v)
    except (TypeError, ValueError, OverflowError):
        return None
    return x if math.isfinite(x) else None


def _metadata_bound(key: str, x: float) -> str:
    return fr.annee(x) if key.startswith("annee") else fr.nombre_exact(x)


# --- file discovery -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DataFiles:
    """The input files of a data directory, by table."""

    tables: dict[str, list[Path]]  # table → its files (more than one is a problem)
    geometries: dict[str, list[Path]]
    metadata: Path | None

    def all_files(self) -> list[Path]:
        files = [p for ps in self.tables.values() for p in ps]
        files += [p for ps in self.geometries.values() for p in ps]
        if self.metadata:
            files.append(self.metadata)
        return sorted(files)


def find_files(data_dir: str | Path) -> DataFiles:
    """Find the table, geometry and metadata files of `data_dir` (names as in schema.TABLES)."""
    d = Path(data_dir)
    tables = {
        n: [d / f"{n}{e}" for e in TABLE_EXTENSIONS if (d / f"{n}{e}").is_file()] for n in schema.TABLES
    }
    geoms = {
        n: [d / f"{n}{e}" for e in GEOMETRY_EXTENSIONS if (d / f"{n}{e}").is_file()] for n in GEOMETRY_LAYERS
    }
    meta = d / schema.METADATA_FILE
    return DataFiles(
        {k: v for k, v in tables.items() if v},
        {k: v for k, v in geoms.items() if v},
        meta if meta.is_file() else None,
    )


def _content_fingerprint(files: DataFiles) -> str:
    h = hashlib.sha256()
    h.update(_fingerprint_prefix())
    for p in files.all_files():
        h.update(p.name.encode() + b"\0")
        with p.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def _fingerprint_prefix() -> bytes:
    return f"cucs-cache-{CACHE_VERSION}|{schema.TABLES!r}|{schema.SECRECY_CODES!r}".encode()


#: Stat signature of the files → their fingerprint, computed from the bytes by this process (or
#: by the process it was forked from: a warm template's kernels, an executor's workers).
_FINGERPRINTS: dict[str, str] = {}
#: A file changed less than this many seconds ago is hashed every time: a second edit within
#: the file system clock's granularity could leave its size and times unchanged.
RACY_SECONDS = 2.0
#: The fingerprints this process computed, handed to the processes it starts
#: (``stat key=fingerprint`` pairs separated by ``;``).
ENV_FINGERPRINTS = "CUCS_EMPREINTES"
#: Set by the runner's executor in each task's process and inherited by the kernel it starts
#: (pipeline.executors.MARQUEUR; not imported: the data layer does not import the pipeline).
ENV_TASK = "CUCS_EXECUTION"
_ENV_KEEP = 16  # entries handed down at most (one per data set loaded)


def _stat_key(files: DataFiles) -> str | None:
    """A key over every file's identity, size and times (None when one changed too recently)."""
    now = time.time()
    parts = []
    for p in files.all_files():
        st = p.stat()
        if now - max(st.st_mtime, st.st_ctime) < RACY_SECONDS:
            return None
        parts.append(f"{p.resolve()}|{st.st_dev}|{st.st_ino}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}")
    h = hashlib.sha256(_fingerprint_prefix())
    h.update("\n".join(parts).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _inherited() -> dict[str, str]:
    """The fingerprints handed down by the batch this process is a task of (else none)."""
    if not os.environ.get(ENV_TASK):
        return {}
    pairs = (item.partition("=") for item in os.environ.get(ENV_FINGERPRINTS, "").split(";"))
    return {
        k: v for k, _, v in pairs if re.fullmatch(r"[0-9a-f]{64}", k) and re.fullmatch(r"[0-9a-f]{64}", v)
    }


def fingerprint(files: DataFiles) -> str:
    """sha256 over the input files' names and bytes, plus the schema and cache format.

    Hashing reads every byte (0.1 s for a national-size data set): a process hashes the files
    the first time it loads them, then remembers the result against their stat signature
    (device, inode, size, modification and change times, in nanoseconds) for its own life and
    for the processes it starts. Those only trust it as tasks of a batch (`ENV_TASK` set, as the
    runner's executor does): a `cucs run` hashes its data once, its kernels reuse that. Nothing
    is kept on disk: a stat signature is not trustworthy across runs on every file system (NFS
    attribute caches, vfat without change time or inode), so each run hashes the bytes again.
    Files changed in the last `RACY_SECONDS` are always hashed.
    """
    key = _stat_key(files)
    if key is None:
        return _content_fingerprint(files)
    fp = _FINGERPRINTS.get(key) or _inherited().get(key)
    if fp is None:
        fp = _FINGERPRINTS[key] = _content_fingerprint(files)
        _export()
    return fp


def _export() -> None:
    """Hand this process's fingerprints down to the processes it starts (workers, kernels)."""
    mine = list(_FINGERPRINTS.items())[-_ENV_KEEP:]
    os.environ[ENV_FINGERPRINTS] = ";".join(f"{k}={v}" for k, v in mine)


def forget_fingerprints() -> None:
    """Forget the remembered fingerprints: the next load hashes the files' bytes again."""
    _FINGERPRINTS.clear()
    os.environ.pop(ENV_FINGERPRINTS, None)
