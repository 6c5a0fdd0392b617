"""The data set of a data directory (validated, cached) and the territory of one commune.

`load_dataset` runs `validate.inspect_dir` and caches the coerced tables as Parquet outside the
data directory, keyed by a fingerprint of the files; `load_territory` cuts out one commune.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cucs_analysis.data import schema
from cucs_analysis.data.errors import DataError, Problem, avertissements, erreurs
from cucs_analysis.data.readers import empty_frame, find_files, fingerprint, forget_fingerprints

# --- dataset -----------------------------------------------------------------------------------


@dataclass
class Dataset:
    """Every table of a data directory, coerced and validated."""

    path: Path
    metadata: schema.DatasetMetadata
    tables: dict[str, pd.DataFrame]
    geometries: dict[str, object] = field(default_factory=dict)  # name → GeoDataFrame
    available: frozenset[str] = frozenset()
    fingerprint: str = ""
    #: Warnings of the validation (unknown values…): shown, never blocking; kept in the cache.
    avertissements: list[Problem] = field(default_factory=list)

    def shallow_copy(self) -> Dataset:
        # Copy-on-write makes shallow copies cheap and protects the memo from callers' edits.
        return Dataset(
            self.path,
            self.metadata,
            {k: v.copy(deep=False) for k, v in self.tables.items()},
            {k: v.copy(deep=False) for k, v in self.geometries.items()},
            self.available,
            self.fingerprint,
            list(self.avertissements),
        )


_MEMO: dict[tuple[str, str], Dataset] = {}


def cache_dir() -> Path:
    """Where parsed data sets are cached: $CUCS_CACHE_DIR, else ~/.cache/cucs-analysis."""
    env = os.environ.get("CUCS_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "cucs-analysis"


def _write_cache(ds: Dataset) -> None:
    root = cache_dir()
    final = root / ds.fingerprint
    data_dir = ds.path.resolve()
    # Never write inside the data directory, even if the cache variable points there.
    if final.resolve() == data_dir or data_dir in final.resolve().parents:
        return
    if final.exists():
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    except OSError:
        return  # a read-only home must not prevent loading
    try:
        for name, df in ds.tables.items():
            df.to_parquet(tmp / f"t_{name}.parquet", index=False)
        for name, gdf in ds.geometries.items():
            gdf.to_parquet(tmp / f"g_{name}.parquet", index=False)
        with (tmp / "meta.pkl").open("wb") as f:
            pickle.dump(
                {
                    "metadata": ds.metadata,
                    "available": ds.available,
                    "tables": list(ds.tables),
                    "avertissements": list(ds.avertissements),
                },
                f,
            )
        os.replace(tmp, final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another process won the race, or disk full
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _read_cache(path: Path, fp: str) -> Dataset | None:
    final = cache_dir() / fp
    meta_file = final / "meta.pkl"
    if not meta_file.is_file():
        return None
    try:
        import geopandas as gpd

        with meta_file.open("rb") as f:
            meta = pickle.load(f)
        tables = {n: pd.read_parquet(final / f"t_{n}.parquet") for n in meta["tables"]}
        if set(tables) != set(schema.TABLES):
            raise ValueError("incomplete cache")
        geoms = {p.stem[2:]: gpd.read_parquet(p) for p in sorted(final.glob("g_*.parquet"))}
        return Dataset(
            path, meta["metadata"], tables, geoms, meta["available"], fp, list(meta["avertissements"])
        )
    except Exception:
        # A corrupt or stale cache entry is dropped and rebuilt from the files.
        shutil.rmtree(final, ignore_errors=True)
        return None


def load_dataset(data_dir: str | Path, use_cache: bool = True) -> Dataset:
    """Load and validate every table of `data_dir`; raises `DataError` listing every error.

    Warnings (unknown values…) do not block: they are kept in `Dataset.avertissements`. Uses the in-process memo and the on-disk Parquet cache (outside the data directory),
    both keyed by the fingerprint of the input files.
    """
    from cucs_analysis.data import validate as _validate

    path = Path(data_dir)
    if not path.is_dir():
        raise DataError(f"Le dossier de données « {path} » n'existe pas.")
    files = find_files(path)
    # The bytes are hashed on this process's first load (a run's driver); later loads, and the
    # kernels of the same batch, reuse it while the files' stat signature is unchanged.
    fp = fingerprint(files)
    key = (str(path.resolve()), fp)
    if use_cache:
        if key in _MEMO:
            return _MEMO[key].shallow_copy()
        ds = _read_cache(path, fp)
        if ds is not None:
            _remember(key, ds)
            return ds.shallow_copy()
    insp = _validate.inspect_dir(path, files)
    if erreurs(insp.problems):
        raise DataError(erreurs(insp.problems))
    tables = {n: df.reset_index(drop=True) for n, df in insp.tables.items()}
    ds = Dataset(
        path,
        insp.metadata,
        tables,
        insp.geometries,
        frozenset(insp.available),
        fp,
        # Files of a foreign layout beside the tables are not part of the fingerprint: their
        # warnings are for `cucs validate`, not kept with the data.
        [p for p in avertissements(insp.problems) if p.regle != _validate.foreign.RULE],
    )
    if use_cache:
        _write_cache(ds)
        _remember(key, ds)
        return ds.shallow_copy()
    return ds


def _remember(key: tuple[str, str], ds: Dataset) -> None:
    """Put a data set in the memo, with the row index its territories are cut with (built now:
    a template process that loads the data set before forking kernels shares it with them)."""
    _MEMO[key] = ds
    index = _INDEXES[key] = _RowIndex()
    index.build(ds.tables)


def clear_memo() -> None:
    """Forget the in-process memo and fingerprints (tests, or to force a reload: the files'
    bytes are hashed again, as after an edit a stat signature may not show)."""
    _MEMO.clear()
    _INDEXES.clear()
    forget_fingerprints()


class _RowIndex:
    """Row positions of a data set's large tables by the code a territory is cut on.

    Cutting one commune out of a national data set compared every row of every table (0.5 s
    for 2 million rows, paid by every notebook). The positions of each code are computed once
    per data set and process (a template process that forks kernels computes them once for
    all), so a cut reads only the rows of its codes: `candidates` narrows a table to the rows
    whose column holds one of the codes, and the cut's own condition is then applied to those
    rows only — the same rows, in the same order, as the condition applied to the whole table.
    """

    def __init__(self) -> None:
        self._by: dict[tuple[str, str], tuple[int, np.ndarray, np.ndarray, dict]] = {}

    def build(self, tables: dict[str, pd.DataFrame]) -> None:
        """Index every column a cut reads (before a template process forks its kernels)."""
        for table, column in CUT_COLUMNS:
            if table in tables and column in tables[table].columns:
                self._entry(tables[table], table, column)

    def _entry(self, df: pd.DataFrame, table: str, column: str):
        entry = self._by.get((table, column))
        if entry is None or entry[0] != len(df):
            values, uniques = pd.factorize(df[column], sort=False)  # -1: missing
            order = np.argsort(values, kind="stable")
            counts = np.bincount(values[values >= 0], minlength=len(uniques))
            starts = np.concatenate([[0], np.cumsum(counts)]) + int((values < 0).sum())
            entry = (len(df), order, starts, {u: i for i, u in enumerate(uniques)})
            self._by[(table, column)] = entry
        return entry

    def candidates(self, df: pd.DataFrame, table: str, column: str, codes) -> pd.DataFrame:
        """The rows of `df` (the data set's table `table`) whose `column` is in `codes`, in order."""
        _, order, starts, lookup = self._entry(df, table, column)
        parts = [
            order[starts[i] : starts[i + 1]]
            for c in codes
            if c is not None and (i := lookup.get(c)) is not None
        ]
        pos = np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.intp)
        return df.take(pos)


#: The (table, column) pairs `load_territory` cuts on through `_RowIndex`.
CUT_COLUMNS = (
    ("indicateurs", "code_territoire"),
    ("actions", "code_commune"),
    ("actions", "code_epci"),
    ("financements", "id_action"),
    ("droit_commun", "code_territoire"),
    ("instances", "code_commune"),
    ("parcours", "code_quartier"),
    ("enquetes", "code_quartier"),
    ("gup", "code_quartier"),
    ("bilans", "id_action"),
    ("equipements", "code_territoire"),
)
#: One `_RowIndex` per data set in the memo (same keys as `_MEMO`).
_INDEXES: dict[tuple[str, str], _RowIndex] = {}


def _row_index(ds: Dataset) -> _RowIndex:
    key = (str(Path(ds.path).resolve()), ds.fingerprint)
    if key not in _INDEXES:
        _INDEXES[key] = _RowIndex()
    return _INDEXES[key]


# --- territory ----------------------------------------------------------------------------------


@dataclass
class Territory:
    """The data of one commune: its quartiers, its comparison quartiers and its upper levels.

    Region-wide work (DiD, eligibility of every quartier, typology) is not done from a
    territory: it is the region stage (`reports.region`), computed once per data set.
    """

    code_commune: str
    commune: dict
    source: Path  # the data directory it was cut from
    fingerprint: str  # of that data set
    quartiers: pd.DataFrame  # GeoDataFrame
    quartiers_comparaison: pd.DataFrame  # GeoDataFrame
    indicateurs: pd.DataFrame
    catalogue: pd.DataFrame
    actions: pd.DataFrame
    financements: pd.DataFrame
    droit_commun: pd.DataFrame
    operateurs: pd.DataFrame
    instances: pd.DataFrame
    parcours: pd.DataFrame
    enquetes: pd.DataFrame
    gup: pd.DataFrame
    bilans: pd.DataFrame
    equipements: pd.DataFrame
    metadata: schema.DatasetMetadata
    available: dict[str, bool]
    contour: pd.DataFrame | None = None  # GeoDataFrame: the commune's outline, when known
    #: Rows of `quartiers_communes` naming this commune (quartiers that cover it, in whole or in
    #: part); an empty frame when the data set has no such table.
    quartiers_communes: pd.DataFrame | None = None
    #: Warnings of the data set's validation (unknown values…), shown, never blocking.
    avertissements: list[Problem] = field(default_factory=list)
    #: Contract-level actions (`code_commune` unknown, `code_epci` given: Ci.Ville / P147 posts) of
    #: the commune's EPCI, empty when that EPCI is unknown; never among `actions` (an EPCI's
    #: actions are not split between its communes, nor counted once per commune).
    actions_contrat: pd.DataFrame | None = None
    financements_contrat: pd.DataFrame | None = None
    #: Contract-level action rows in the whole data set (every EPCI).
    n_actions_contrat_donnees: int = 0

    @property
    def signataire(self) -> bool | None:
        """The commune signed a CUCS (`communes.signataire_cucs`): True, False (outside it, it is
        a comparison) or None (unknown: never read as « hors CUCS »)."""
        v = self.commune.get("signataire_cucs")
        if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
            return None
        return bool(v)


def _with_geometry(df: pd.DataFrame, ds: Dataset, layer: str, code: str):
    import geopandas as gpd

    geo = ds.geometries.get(layer)
    if geo is None or code not in geo.columns:
        return gpd.GeoDataFrame(
            df.copy(), geometry=gpd.GeoSeries([None] * len(df), index=df.index, crs="EPSG:2154")
        )
    g = geo[[code, geo.geometry.name]].drop_duplicates(code)
    if g.geometry.name != "geometry":
        g = g.rename_geometry("geometry")
    merged = df.merge(g, on=code, how="left")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=geo.crs)


def _pick(df: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    return df.loc[mask.fillna(False).astype(bool)].reset_index(drop=True)


def _cut(index: _RowIndex, t: dict, table: str, column: str, codes, condition) -> pd.DataFrame:
    """`_pick(t[table], condition(t[table]))`, reading only the rows whose `column` is in `codes`
    (every row the condition keeps must hold one of them)."""
    rows = index.candidates(t[table], table, column, codes)
    return _pick(rows, condition(rows))


def load_territory(data_dir: str | Path, code_commune: str) -> Territory:
    """Load the data set (cached) and cut out what concerns one commune."""
    if not isinstance(code_commune, str):
        raise DataError(
            f"Le code commune doit être une chaîne de caractères (ex. « 01001 »), pas {type(code_commune).__name__} "
            f"« {code_commune} » : un code lu comme un nombre perd son zéro initial."
        )
    ds = load_dataset(data_dir)
    t = ds.tables
    communes = t["communes"]
    row = communes.loc[communes["code_commune"] == code_commune]
    if row.empty:
        codes = communes["code_commune"].dropna().sort_values().head(5).tolist()
        exemples = ", ".join(f"« {c} »" for c in codes)
        padded = code_commune.zfill(5)
        hint = ""
        if code_commune.isdigit() and padded != code_commune and (communes["code_commune"] == padded).any():
            hint = f" Vouliez-vous dire « {padded} » ? (le zéro initial a sans doute été perdu)"
        raise DataError(
            f"La commune « {code_commune} » est absente de la table communes du jeu de données "
            f"« {ds.path} ». Codes valides, par exemple : {exemples}.{hint}"
        )
    commune = {k: (None if pd.isna(v) else v) for k, v in row.iloc[0].to_dict().items()}
    epci, dep, reg = commune.get("code_epci"), commune.get("code_departement"), commune.get("code_region")

    q = t["quartiers"]
    own = q["code_commune"] == code_commune
    region_communes = communes.loc[communes["code_region"] == reg, "code_commune"]
    comparable = q["veille"].fillna(False).astype(bool) | (q["categorie_cucs"] == "3")
    comp = ~own & q["code_commune"].isin(region_communes) & comparable
    quartiers = _with_geometry(_pick(q, own), ds, "quartiers", "code_quartier")
    quartiers_comp = _with_geometry(_pick(q, comp), ds, "quartiers", "code_quartier")
    own_q = set(quartiers["code_quartier"])
    comp_q = set(quartiers_comp["code_quartier"])

    def by_level(df: pd.DataFrame, quartier_codes: set[str]) -> pd.Series:
        n, c = df["niveau"], df["code_territoire"]
        return (
            ((n == "quartier") & c.isin(quartier_codes))
            | ((n == "commune") & (c == code_commune))
            | ((n == "epci") & (c == epci))
            | ((n == "departement") & (c == dep))
            | ((n == "region") & (c == reg))
        )

    idx = _row_index(ds)
    upper = {code_commune, epci, dep, reg}
    indicateurs = _cut(
        idx,
        t,
        "indicateurs",
        "code_territoire",
        own_q | comp_q | upper,
        lambda d: by_level(d, own_q | comp_q),
    )
    actions = _cut(
        idx, t, "actions", "code_commune", {code_commune}, lambda d: d["code_commune"] == code_commune
    )
    a = t["actions"]

    def contrat(d: pd.DataFrame) -> pd.Series:
        if "code_epci" not in d.columns:
            return pd.Series(False, index=d.index)
        return d["code_commune"].isna() & d["code_epci"].notna()

    niveau_contrat = contrat(a)
    if epci is not None and "code_epci" in a.columns:
        actions_contrat = _cut(
            idx, t, "actions", "code_epci", {epci}, lambda d: contrat(d) & (d["code_epci"] == epci)
        )
    else:
        actions_contrat = _pick(a, pd.Series(False, index=a.index))
    ids_contrat = set(actions_contrat["id_action"])
    financements_contrat = _cut(
        idx, t, "financements", "id_action", ids_contrat, lambda d: d["id_action"].isin(ids_contrat)
    )
    ids = set(actions["id_action"])
    financements = _cut(idx, t, "financements", "id_action", ids, lambda d: d["id_action"].isin(ids))
    droit_commun = _cut(
        idx,
        t,
        "droit_commun",
        "code_territoire",
        own_q | {code_commune},
        lambda dc: (
            ((dc["niveau"] == "commune") & (dc["code_territoire"] == code_commune))
            | ((dc["niveau"] == "quartier") & dc["code_territoire"].isin(own_q))
        ),
    )
    op = t["operateurs"]
    operateurs = _pick(
        op,
        op["id_operateur"].isin(set(actions["id_operateur"].dropna())) | (op["code_commune"] == code_commune),
    )
    instances = _cut(
        idx, t, "instances", "code_commune", {code_commune}, lambda d: d["code_commune"] == code_commune
    )
    parcours = _cut(idx, t, "parcours", "code_quartier", own_q, lambda d: d["code_quartier"].isin(own_q))
    enquetes = _cut(
        idx, t, "enquetes", "code_quartier", own_q | comp_q, lambda d: d["code_quartier"].isin(own_q | comp_q)
    )
    gup = _cut(idx, t, "gup", "code_quartier", own_q, lambda d: d["code_quartier"].isin(own_q))
    bilans = _cut(idx, t, "bilans", "id_action", ids, lambda d: d["id_action"].isin(ids))
    equipements = _cut(idx, t, "equipements", "code_territoire", own_q | upper, lambda d: by_level(d, own_q))
    qc = t.get("quartiers_communes")
    if qc is None:
        qc = empty_frame(schema.TABLES["quartiers_communes"])
    quartiers_communes = _pick(qc, qc["code_commune"] == code_commune)
    parts = {
        "communes": row,
        "quartiers": quartiers,
        "indicateurs": indicateurs,
        "catalogue_indicateurs": t["catalogue_indicateurs"],
        "actions": actions,
        "financements": financements,
        "droit_commun": droit_commun,
        "operateurs": operateurs,
        "instances": instances,
        "parcours": parcours,
        "bilans": bilans,
        "enquetes": enquetes,
        "gup": gup,
        "equipements": equipements,
    }
    return Territory(
        code_commune=code_commune,
        commune=commune,
        source=ds.path,
        fingerprint=ds.fingerprint,
        quartiers=quartiers,
        quartiers_comparaison=quartiers_comp,
        indicateurs=indicateurs,
        catalogue=t["catalogue_indicateurs"],
        actions=actions,
        financements=financements,
        droit_commun=droit_commun,
        operateurs=operateurs,
        instances=instances,
        parcours=parcours,
        enquetes=enquetes,
        gup=gup,
        bilans=bilans,
        equipements=equipements,
        metadata=ds.metadata,
        available={k: len(v) > 0 for k, v in parts.items()},
        contour=_commune_outline(ds, code_commune),
        quartiers_communes=quartiers_communes,
        avertissements=list(ds.avertissements),
        actions_contrat=actions_contrat,
        financements_contrat=financements_contrat,
        n_actions_contrat_donnees=int(niveau_contrat.fillna(False).astype(bool).sum()),
    )


def _commune_outline(ds: Dataset, code_commune: str):
    geo = ds.geometries.get("communes")
    if geo is None or "code_commune" not in geo.columns:
        return None
    return geo[geo["code_commune"] == code_commune].reset_index(drop=True)
