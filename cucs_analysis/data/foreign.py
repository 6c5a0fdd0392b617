"""Known foreign files: open-data layouts that are not tables of the project, and the command
that converts each of them.

A resource centre often drops the files it downloaded (INSEE's QPV indicators, the QPV
contours, Ci.Ville's funded posts, a filled programming workbook) straight into a data folder,
or gives one to `cucs validate`. Rather than a list of missing or unknown columns, the validator
then says what the file looks like and which `cucs import` command reads it. Only headers (or
JSON keys, sheet names) are read: never the whole of a large file.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from cucs_analysis.data.errors import Problem
from cucs_analysis.data.readers import sniff_encoding, sniff_separator

#: Extensions inspected for a foreign layout.
FOREIGN_EXTENSIONS = (".csv", ".txt", ".json", ".geojson", ".xlsx", ".gpkg", ".parquet")
#: Bytes read to find a CSV header (a header never spans more).
HEAD_BYTES = 1 << 16
#: A JSON file larger than this is not parsed to look for a layout.
MAX_JSON_BYTES = 64 << 20
RULE = "fichier d'un autre format"

# Columns that characterise each layout (lower case).
INSEE_QPV_COLUMNS = frozenset(
    {
        "nom_qp",
        "pop_mun",
        "pop_com_qp",
        "tp60",
        "ind_jeune",
        "tx_tot_et",
        "decuc_q2",
        "disp_q2",
        "abcde",
        "tx_tot_empl",
        "brev",
        "part_chomprinc",
    }
)
CIVILLE_COLUMNS = frozenset({"id_poste", "code_tiers", "raison_sociale", "montant", "code_cv"})


@dataclass(frozen=True)
class Foreign:
    """A recognised foreign layout: what it is, and the command that reads it."""

    kind: str  # insee_qpv, contours_qpv, civille, contrats_civille, modele
    description: str  # French: « au fichier INSEE des indicateurs des QPV »
    command: str  # French: the command line to use

    def message(self, fichier: str) -> str:
        return (
            f"{fichier} ressemble {self.description} : ce n'est pas une table du projet ; "
            f"utilisez {self.command}"
        )


def _insee_qpv(name: str) -> Foreign:
    return Foreign(
        "insee_qpv",
        "au fichier INSEE des indicateurs des QPV (colonnes code_qp, nom_qp, pop_mun, tp60…)",
        f"« cucs import insee-qpv {name} --contours CONTOURS --out DOSSIER »",
    )


def _contours_qpv(name: str) -> Foreign:
    return Foreign(
        "contours_qpv",
        "aux contours des QPV (propriété code_qp)",
        f"« cucs import insee-qpv FICHIER_INSEE --contours {name} --out DOSSIER »",
    )


def _civille(name: str) -> Foreign:
    return Foreign(
        "civille",
        "aux postes financés par l'État publiés par Ci.Ville (programme 147 : id_poste, code_tiers, "
        "raison_sociale, montant, code_cv)",
        f"« cucs import civille {name} --out DOSSIER »",
    )


def _contrats_civille(name: str) -> Foreign:
    return Foreign(
        "contrats_civille",
        "aux contrats de ville de Ci.Ville (propriétés code_cv, codgeo)",
        f"« cucs import civille POSTES… --contrats {name} --out DOSSIER »",
    )


def _modele(name: str) -> Foreign:
    return Foreign(
        "modele",
        "au classeur de programmation (feuilles « Actions », « Financements »)",
        f"« cucs import modele {name} --out DOSSIER »",
    )


def classify_columns(columns, name: str, geographic: bool = False) -> Foreign | None:
    """The foreign layout a set of column (or property) names belongs to, or None."""
    cols = {str(c).strip().lstrip("\ufeff").lower() for c in columns}
    if geographic:
        if "code_qp" in cols:
            return _contours_qpv(name)
        if {"code_cv", "codgeo"} <= cols:
            return _contrats_civille(name)
    if "code_qp" in cols and len(cols & INSEE_QPV_COLUMNS) >= 2:
        return _insee_qpv(name)
    if len(cols & CIVILLE_COLUMNS) >= 3 and cols & {"id_poste", "code_cv"}:
        return _civille(name)
    return None


def csv_header(path: Path) -> list[str] | None:
    """The header row of a CSV file (first non-blank line, separator sniffed), or None."""
    with path.open("rb") as f:
        raw = f.read(HEAD_BYTES)
    enc = sniff_encoding(raw)
    if enc is None:
        return None
    text = raw.decode(enc, errors="replace")
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if not first:
        return None
    return next(csv.reader(io.StringIO(first), delimiter=sniff_separator(first)), None)


def _json_layout(path: Path, name: str) -> Foreign | None:
    if path.stat().st_size > MAX_JSON_BYTES:
        return None
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if isinstance(data, dict) and isinstance(data.get("features"), list):
        props: set[str] = set()
        for feat in data["features"][:20]:
            if isinstance(feat, dict) and isinstance(feat.get("properties"), dict):
                props |= set(feat["properties"])
        return classify_columns(props, name, geographic=True)
    records = data
    if isinstance(data, dict):  # {"data": [...]} and the like
        records = next((v for v in data.values() if isinstance(v, list)), [])
    if isinstance(records, list):
        keys: set[str] = set()
        for rec in records[:20]:
            if isinstance(rec, dict):
                keys |= set(rec)
        return classify_columns(keys, name)
    return None


def _xlsx_layout(path: Path, name: str) -> Foreign | None:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True)
    except Exception:  # a damaged workbook is reported by the table reader, not here
        return None
    try:
        sheets = {s.strip().casefold() for s in wb.sheetnames}
        if {"actions", "financements"} <= sheets:
            return _modele(name)
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            return None
        for row in ws.iter_rows(max_row=10, values_only=True):
            found = classify_columns([c for c in row if c is not None], name)
            if found:
                return found
        return None
    finally:
        wb.close()


def _geo_layout(path: Path, name: str) -> Foreign | None:
    try:
        import pyogrio

        fields = pyogrio.read_info(path)["fields"]
    except Exception:  # unreadable layer: reported elsewhere
        return None
    return classify_columns(list(fields), name, geographic=True)


def _parquet_layout(path: Path, name: str) -> Foreign | None:
    try:
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
    except Exception:
        return None
    return classify_columns(names, name)


def recognise(path: str | Path) -> Foreign | None:
    """The known foreign layout of a file, or None (unknown layout, or a table of the project)."""
    path = Path(path)
    name = path.name
    ext = path.suffix.lower()
    try:
        if ext in (".csv", ".txt"):
            header = csv_header(path)
            return classify_columns(header, name) if header else None
        if ext in (".json", ".geojson"):
            return _json_layout(path, name)
        if ext == ".xlsx":
            return _xlsx_layout(path, name)
        if ext == ".gpkg":
            return _geo_layout(path, name)
        if ext == ".parquet":
            return _parquet_layout(path, name)
    except OSError:
        return None
    return None


def problem(path: str | Path, found: Foreign, niveau: str) -> Problem:
    """The problem naming a foreign file and the command that reads it."""
    name = Path(path).name
    return Problem.whole_file(name, RULE, found.message(name), niveau=niveau)


def scan_dir(data_dir: str | Path, known: set[Path], niveau: str) -> list[Problem]:
    """Problems for the recognised foreign files of `data_dir` other than `known` files."""
    found: dict[Path, Foreign] = {}
    for p in sorted(Path(data_dir).iterdir()):
        if p in known or not p.is_file() or p.suffix.lower() not in FOREIGN_EXTENSIONS:
            continue
        f = recognise(p)
        if f is not None:
            found[p] = f
    # The companion file of a command, when it lies beside: name it in the command line.
    by_kind = {f.kind: p.name for p, f in found.items()}
    out = []
    for p, f in found.items():
        command = f.command
        if f.kind == "insee_qpv" and "contours_qpv" in by_kind:
            command = command.replace("CONTOURS", by_kind["contours_qpv"])
        elif f.kind == "contours_qpv" and "insee_qpv" in by_kind:
            command = command.replace("FICHIER_INSEE", by_kind["insee_qpv"])
        elif f.kind == "civille" and "contrats_civille" in by_kind:
            command = command.replace(" --out", f" --contrats {by_kind['contrats_civille']} --out")
        out.append(problem(p, Foreign(f.kind, f.description, command), niveau))
    return out


__all__ = ["FOREIGN_EXTENSIONS", "Foreign", "classify_columns", "problem", "recognise", "scan_dir"]
