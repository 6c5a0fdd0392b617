"""Geography as it comes: reprojection to Lambert-93, polygon repair, codes derived from codes.

- `departement(code_commune)` / `region(code_departement)`: the département of a commune code
  (2A/2B for Corsica, three digits overseas) and its 2016 region (shipped reference
  `ref/departements_regions.csv`, all 101 départements).
- `lire_couche(path)`: a GeoJSON / GeoPackage layer, its CRS required (French error otherwise).
- `reparer(gdf)`: invalid polygons made valid (`make_valid`, polygonal parts kept, else
  `buffer(0)`); returns the repaired layer and the positions that were invalid.
- `vers_lambert93(gdf)`: reprojected to EPSG:2154 (repaired again if the reprojection made a
  shape invalid).
- `normaliser_nom(nom)`: a place name compared without case, accents or punctuation.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from cucs_analysis.data import readers
from cucs_analysis.data.errors import DataError, Problem

LAMBERT93 = "EPSG:2154"
REF = Path(__file__).with_name("ref")


@lru_cache(maxsize=1)
def regions_par_departement() -> dict[str, str]:
    """Département code → 2016 region code (101 départements)."""
    with (REF / "departements_regions.csv").open(encoding="utf-8", newline="") as f:
        return {r["code_departement"]: r["code_region"] for r in csv.DictReader(f)}


def departement(code_commune: str) -> str | None:
    """The département of a commune code: "2A004" → "2A", "97411" → "974", "31555" → "31"."""
    c = str(code_commune).strip().upper()
    if re.fullmatch(r"97\d{3}", c):
        return c[:3]
    if re.fullmatch(r"(\d{2}|2[AB])\d{3}", c):
        return c[:2]
    return None


def region(code_departement: str | None) -> str | None:
    """The 2016 region of a département code, None when unknown."""
    if code_departement is None:
        return None
    return regions_par_departement().get(str(code_departement).strip().upper())


def normaliser_nom(nom: object) -> str:
    """ "Saint-Étienne-du-Rouvray" → "saint etienne du rouvray" (case, accents, punctuation)."""
    s = unicodedata.normalize("NFKD", str(nom)).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^a-z0-9]+", " ", s.lower())
    s = re.sub(r"\bste\b", "sainte", re.sub(r"\bst\b", "saint", s))
    return " ".join(s.split())


def lire_couche(path: str | Path, code_column: str | None = None):
    """A geographic layer with a declared CRS; `DataError` (French) when unreadable or without CRS."""
    path = Path(path)
    gdf, problems = readers.read_geometry(path, code_column)
    if gdf is None:
        raise DataError(problems)
    if "geometry" not in getattr(gdf, "columns", ()) or not hasattr(gdf, "crs"):
        raise DataError(
            [
                Problem.whole_file(
                    path.name,
                    "couche géographique",
                    "ce fichier n'est pas une couche géographique (aucune géométrie) : donnez un fichier "
                    "GeoJSON ou GeoPackage de contours",
                )
            ]
        )
    if len(gdf) == 0:
        raise DataError([Problem.whole_file(path.name, "couche vide", "la couche ne contient aucune entité")])
    if gdf.crs is None:
        raise DataError(
            [
                Problem.whole_file(
                    path.name,
                    "système de coordonnées",
                    "la couche ne déclare pas son système de coordonnées : indiquez-le (ex. EPSG:2154, "
                    "Lambert-93, ou EPSG:4326 pour des longitudes et latitudes)",
                )
            ]
        )
    return gdf


def _polygonal(geom):
    """Keep the polygonal parts of a geometry made valid (lines or points dropped)."""
    from shapely.geometry import GeometryCollection, MultiPolygon, Polygon

    if geom is None or geom.is_empty:
        return geom
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    if isinstance(geom, GeometryCollection):
        parts = []
        for g in geom.geoms:
            if isinstance(g, Polygon):
                parts.append(g)
            elif isinstance(g, MultiPolygon):
                parts.extend(g.geoms)
        return MultiPolygon(parts) if parts else Polygon()
    return Polygon()


def reparer(gdf):
    """(repaired copy, boolean array of the features that were invalid).

    Absent or empty shapes are left as they are (the importer reports them apart).
    """
    import numpy as np
    import shapely

    geom = gdf.geometry
    present = (~(geom.isna() | geom.is_empty)).to_numpy()
    invalid = present & ~geom.is_valid.to_numpy()
    if not invalid.any():
        return gdf.copy(), invalid
    out = gdf.copy()
    fixed = []
    for g in geom[invalid]:
        r = _polygonal(shapely.make_valid(g))
        if r is None or r.is_empty or not r.is_valid:
            r = g.buffer(0)
        fixed.append(r)
    values = np.array(out.geometry.values, dtype=object)
    values[invalid] = fixed
    out = out.set_geometry(type(out.geometry)(values, crs=gdf.crs, index=gdf.index))
    return out, invalid


def vers_lambert93(gdf):
    """Reprojected to Lambert-93 (EPSG:2154); a shape the reprojection made invalid is repaired."""
    out = gdf.to_crs(LAMBERT93) if gdf.crs.to_epsg() != 2154 else gdf.copy()
    out, _ = reparer(out)
    return out


# --- INSEE « composition communale des EPCI » ---------------------------------------------------

#: Columns of the INSEE layout (header row after a few title rows).
COLONNES_EPCI = ("CODGEO", "LIBGEO", "EPCI", "LIBEPCI")
#: Communes outside any EPCI (islands) carry this code in the INSEE file.
EPCI_SANS = "ZZZZZZZZZ"


def _header_index(rows: list[list[str]]) -> int | None:
    for i, r in enumerate(rows):
        cells = {str(c).strip().upper() for c in r}
        if {"CODGEO", "EPCI"} <= cells:
            return i
    return None


def lire_composition_epci(path: str | Path):
    """The INSEE « composition communale des EPCI » (XLSX or CSV, title rows before the header
    CODGEO, LIBGEO, EPCI, LIBEPCI, DEP, REG) → frame (code_commune, nom, code_epci, nom_epci)
    indexed by the physical line (XLSX: row) number; French `DataError` on a bad layout or code."""
    import io

    import numpy as np
    import pandas as pd

    from cucs_analysis.data import schema

    path = Path(path)
    fichier = path.name
    rows: list[list[str]] | None = None
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=str, engine="openpyxl")
        except Exception:  # openpyxl raises many kinds on corrupt files
            raise DataError(
                [
                    Problem.whole_file(
                        fichier,
                        "fichier illisible",
                        "classeur Excel illisible (fichier abîmé ou format non reconnu)",
                    )
                ]
            ) from None
        for df in sheets.values():
            cand = df.fillna("").astype(str).values.tolist()
            if _header_index(cand) is not None:
                rows = cand
                break
    else:
        raw = path.read_bytes()
        enc = readers.sniff_encoding(raw)
        if enc is None:
            raise DataError(
                [Problem.whole_file(fichier, "fichier illisible", "le fichier n'est pas un fichier texte")]
            )
        lines = raw.decode(enc, errors="replace").splitlines()
        h = _header_index([[c.strip() for c in re.split(r"[;,\t]", ln)] for ln in lines])
        if h is not None:
            sep = readers.sniff_separator(lines[h])
            body = list(csv.reader(io.StringIO("\n".join(lines[h:])), delimiter=sep))
            rows = [[""]] * h + body
    h = _header_index(rows) if rows else None
    if rows is None or h is None:
        raise DataError(
            [
                Problem.whole_file(
                    fichier,
                    "composition des EPCI",
                    "en-tête introuvable : le fichier de l'INSEE « composition communale des EPCI » doit "
                    "contenir une ligne d'en-tête avec les colonnes CODGEO, LIBGEO, EPCI et LIBEPCI",
                )
            ]
        )
    header = [str(c).strip().upper() for c in rows[h]]
    missing = [c for c in COLONNES_EPCI if c not in header]
    if missing:
        raise DataError(
            [
                Problem(fichier, h + 1, c, None, "colonne manquante", "colonne absente de l'en-tête")
                for c in missing
            ]
        )
    pos = {c: header.index(c) for c in COLONNES_EPCI}
    body = [(i + 1, r) for i, r in enumerate(rows) if i > h and any(str(c).strip() for c in r)]
    df = pd.DataFrame(
        {
            new: [str(r[pos[old]]).strip() if pos[old] < len(r) else "" for _, r in body]
            for old, new in zip(COLONNES_EPCI, ("code_commune", "nom", "code_epci", "nom_epci"), strict=True)
        },
        index=pd.Index([i for i, _ in body], name="ligne"),
    )
    problems = []
    bad = ~df["code_commune"].str.fullmatch(schema.PATTERN_COMMUNE[1:-1])
    problems += readers.problems_from_mask(
        fichier,
        df.index,
        bad.to_numpy(),
        "CODGEO",
        df["code_commune"],
        "forme du code",
        "code commune invalide : 5 caractères attendus (ex. 31555, 2A004)",
    )
    sans = df["code_epci"].str.upper() == EPCI_SANS
    bad = ~(df["code_epci"].str.fullmatch(schema.PATTERN_EPCI[1:-1]) | sans)
    problems += readers.problems_from_mask(
        fichier,
        df.index,
        bad.to_numpy(),
        "EPCI",
        df["code_epci"],
        "forme du code",
        "numéro SIREN d'EPCI invalide : 9 chiffres attendus (ou ZZZZZZZZZ hors EPCI)",
    )
    if problems:
        raise DataError(problems)
    df["code_epci"] = df["code_epci"].where(~sans, np.nan)
    return df
