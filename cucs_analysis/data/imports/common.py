"""Helpers shared by every importer (INSEE QPV, Ci.Ville, the programming workbook).

The stable API (other importers rely on it):

- `erreur(fichier, regle, message, ligne=None, colonne=None, valeur=None)` → a `DataError`
  with one `Problem` (French; the CLI prints it without a traceback). Raise it.
- `lire_brut(path)` → the file as a frame of strings indexed by physical line number
  (CSV with any separator / encoding, or XLSX), raising `DataError` when unreadable.
- `verifier_entrees(entrees, out)`: every input exists and none lies inside `--out`.
- `RapportImport`: counts, warnings and details of what an importer did; `as_dict()` goes to
  metadonnees.yaml under `import.<importeur>`.
- `dossier_sortie(out, fichiers, force)`: context manager yielding a temporary folder next to
  `out`; the importer writes its files there; on success the folder replaces `out` (files of
  an existing `out` that the importer does not write are carried over), on failure it is
  removed and `out` is untouched. An existing `out` holding one of `fichiers` (by table name,
  any extension) is refused without `force`.
- `ecrire_table(dossier, nom, df)`: a table as CSV (UTF-8, `,`, `.`), booleans as oui/non,
  missing as blank; write the literal "inconnu" yourself where the value is unknown.
- `ecrire_geojson(dossier, nom, gdf)`: a GeoDataFrame as GeoJSON with its CRS declared.
- `fusionner_metadonnees(dossier, nom=…, description=…, annees=…, sources=…, rapport=…, extra=…)`: merges
  into the folder's metadonnees.yaml (years widened, sources replaced by file name, the
  import report stored under its importer's name).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cucs_analysis.data import readers, schema
from cucs_analysis.data.errors import DataError, Problem

# The one French formatter (the documented exception to the layering, see data/errors.py).
from cucs_analysis.present import text as fr

#: Unknown value written in a table cell (decision 1 of issue 11).
INCONNU = "inconnu"


def erreur(
    fichier: str | Path,
    regle: str,
    message: str,
    ligne: int | None = None,
    colonne: str | None = None,
    valeur: object = None,
) -> DataError:
    """A French error naming file, line, column, value and rule (to be raised)."""
    nom = Path(fichier).name if fichier else ""
    shown = None if valeur is None else str(valeur)
    return DataError([Problem(nom, ligne, colonne, shown, regle, message)])


def lire_brut(path: str | Path, feuille: str | None = None) -> pd.DataFrame:
    """Read a CSV (separator, encoding and BOM sniffed) or XLSX as strings; DataError if unreadable.

    The frame is indexed by physical line number (header = first non-blank line); blank cells
    are "". Lines with a wrong field count are errors (the importer cannot guess the columns).
    """
    path = Path(path)
    if not path.is_file():
        raise erreur(path, "fichier introuvable", f"fichier introuvable : {path}")
    ext = path.suffix.lower()
    if ext in (".xlsx", ".xlsm"):
        raw, problems = readers.read_raw_xlsx(path, feuille)
    else:
        raw, problems = readers.read_raw_csv(path)
    if raw is None or problems:
        raise DataError(problems or [Problem.whole_file(path.name, "fichier vide", "le fichier est vide")])
    return raw


def verifier_entrees(entrees: Iterable[str | Path | None], out: str | Path) -> list[Path]:
    """Resolved input paths; DataError if one is missing, is a folder or lies inside `out`
    (the output folder is replaced as a whole: an input inside it would be lost)."""
    out_r = Path(out).resolve()
    paths = []
    for e in entrees:
        if e is None:
            continue
        p = Path(e)
        if not p.exists():
            raise erreur(p, "fichier introuvable", f"fichier introuvable : {p}")
        if p.is_dir():
            raise erreur(p, "fichier attendu", f"« {p} » est un dossier : indiquez un fichier")
        r = p.resolve()
        if r == out_r or out_r in r.parents:
            raise erreur(
                p,
                "dossier de sortie",
                f"le fichier d'entrée se trouve dans le dossier de sortie « {out} » : choisissez un autre "
                "dossier de sortie (les fichiers d'entrée ne sont jamais modifiés)",
            )
        paths.append(p)
    return paths


@dataclass
class RapportImport:
    """What an importer did: counts, warnings (French sentences) and free details."""

    importeur: str
    compteurs: dict[str, int] = field(default_factory=dict)
    avertissements: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def avertir(self, message: str) -> None:
        """Record a French warning (shown by the CLI and kept in metadonnees.yaml)."""
        if message not in self.avertissements:
            self.avertissements.append(message)

    def compter(self, cle: str, n: int) -> None:
        self.compteurs[cle] = int(n)

    def as_dict(self) -> dict[str, Any]:
        """Plain YAML-safe dict (numpy numbers turned into Python ones)."""
        return _plain({"compteurs": self.compteurs, "avertissements": self.avertissements, **self.details})


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _stems(folder: Path) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for p in folder.iterdir():
        out.setdefault(p.name.split(".")[0], []).append(p)
    return out


@contextlib.contextmanager
def dossier_sortie(out: str | Path, fichiers: Iterable[str], force: bool = False) -> Iterator[Path]:
    """A temporary folder next to `out`, swapped in place of `out` when the block succeeds.

    `fichiers`: the table / layer names the importer writes (e.g. "quartiers", "indicateurs");
    metadonnees.yaml is always carried over (then merged by `fusionner_metadonnees`).
    """
    out = Path(out)
    ecrits = set(fichiers)
    if out.exists() and not out.is_dir():
        raise erreur(out, "dossier de sortie", f"« {out} » existe et n'est pas un dossier")
    garder: list[Path] = []
    if out.is_dir():
        stems = _stems(out)
        donnees = set(schema.TABLES) | {schema.METADATA_FILE.split(".")[0]}
        if stems and not donnees & set(stems):
            raise erreur(
                out,
                "dossier de sortie",
                f"« {out} » n'est pas vide et ne contient aucune table ni metadonnees.yaml : ce n'est pas un "
                "dossier de données ; choisissez un dossier vide ou nouveau",
            )
        conflits = sorted(s for s in stems if s in ecrits)
        if conflits and not force:
            raise erreur(
                out,
                "dossier de sortie",
                f"le dossier de sortie contient déjà {fr.liste_fr(f'« {c} »' for c in conflits)} : "
                "ajoutez --force pour les remplacer, ou choisissez un autre dossier",
            )
        garder = [p for s, ps in stems.items() if s not in ecrits and not s.startswith(".") for p in ps]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.import-", dir=out.parent))
    try:
        for p in garder:
            if p.is_dir():
                shutil.copytree(p, tmp / p.name)
            else:
                shutil.copy2(p, tmp / p.name)
        yield tmp
        os.chmod(tmp, 0o755)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.ancien-", dir=out.parent))
            os.rmdir(old)
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fmt_number(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if float(x).is_integer() and abs(x) < 2**53:
        return str(int(x))
    return repr(float(x))


def _cell(v: Any) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, bool | np.bool_):
        return "oui" if v else "non"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return _fmt_number(float(v))
    return str(v)


#: First characters a spreadsheet reads as a formula (« =cmd|… », « @SOMME(…) »).
DEBUT_FORMULE = ("=", "+", "-", "@")


def avertir_formules(rapport: RapportImport, nom: str, df: pd.DataFrame) -> None:
    """Warn about text cells of the source that a spreadsheet would run as a formula: they are
    written unchanged (they are data, and the project reads them back as data), but whoever opens
    the CSV in a spreadsheet must know."""
    for col in df.columns:
        if not (df[col].dtype == object or pd.api.types.is_string_dtype(df[col])):
            continue
        s = df[col].dropna().astype(str)
        s = s[s.str.startswith(DEBUT_FORMULE) & pd.to_numeric(s, errors="coerce").isna()]
        if len(s):
            rapport.avertir(
                f"{nom}.csv, colonne « {col} » : {fr.pluriel(len(s), 'valeur commence', 'valeurs commencent')} "
                f"par « = », « + », « - » ou « @ » (ex. « {s.iloc[0][:40]} ») : ouvert dans un tableur, le "
                "fichier les lirait comme des formules ; importez-le plutôt en texte"
            )


def ecrire_table(dossier: str | Path, nom: str, df: pd.DataFrame) -> Path:
    """Write table `nom` as `<dossier>/<nom>.csv` (columns in schema order when known)."""
    table = schema.TABLES.get(nom)
    if table is not None:
        cols = [c for c in table.column_names if c in df.columns]
        cols += [c for c in df.columns if c not in cols]
        df = df[cols]
    out = pd.DataFrame({c: [_cell(v) for v in df[c].tolist()] for c in df.columns}, columns=list(df.columns))
    path = Path(dossier) / f"{nom}.csv"
    path.write_text(out.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
    return path


def ecrire_geojson(dossier: str | Path, nom: str, gdf) -> Path:
    """Write a GeoDataFrame as `<dossier>/<nom>.geojson`, CRS declared (EPSG code when known)."""
    path = Path(dossier) / f"{nom}.geojson"
    data = json.loads(gdf.to_json(drop_id=True))
    epsg = gdf.crs.to_epsg() if gdf.crs is not None else None
    if epsg:
        data["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}}
    path.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def fusionner_metadonnees(
    dossier: str | Path,
    *,
    nom: str | None = None,
    description: str | None = None,
    annees: Iterable[int] = (),
    sources: Iterable[dict[str, Any]] = (),
    rapport: RapportImport | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge into `<dossier>/metadonnees.yaml`; returns the merged dict.

    - `nom`, `description`: kept if the file already has them;
    - `annees`: annee_debut / annee_fin widened to cover them;
    - `sources`: entries {fichier, source, annees} replace those of the same `fichier`;
    - `rapport`: stored under `import.<importeur>`;
    - `extra`: other keys set as given (e.g. financements_perimetre).
    """
    import yaml

    path = Path(dossier) / schema.METADATA_FILE
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            raise erreur(
                path,
                "métadonnées",
                "metadonnees.yaml existant illisible (fichier abîmé ou format non reconnu)",
            ) from None
        if isinstance(loaded, dict):
            data = loaded
    if nom and not data.get("nom"):
        data["nom"] = nom
    if description and not data.get("description"):
        data["description"] = description
    ans = sorted({int(a) for a in annees})
    if ans:
        debut, fin = data.get("annee_debut"), data.get("annee_fin")
        data["annee_debut"] = min(ans[0], debut) if isinstance(debut, int) else ans[0]
        data["annee_fin"] = max(ans[-1], fin) if isinstance(fin, int) else ans[-1]
    nouvelles = [_plain(dict(s)) for s in sources]
    if nouvelles:
        noms = {s.get("fichier") for s in nouvelles}
        anciennes = [
            s for s in data.get("sources") or [] if isinstance(s, dict) and s.get("fichier") not in noms
        ]
        data["sources"] = anciennes + nouvelles
    if rapport is not None:
        imp = data.get("import") if isinstance(data.get("import"), dict) else {}
        imp[rapport.importeur] = rapport.as_dict()
        data["import"] = imp
    for k, v in (extra or {}).items():
        data[k] = _plain(v)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8")
    return data
