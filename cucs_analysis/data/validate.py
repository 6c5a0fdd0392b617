"""Validation of a data directory: every problem, in one pass, in French.

Per-column value rules (allowed values, code shapes, minimum/maximum) are checked with pandera
schemas built from `schema.TABLES` (lazy mode, so every failure is collected); the rest
(field counts, types, missing values, list columns, period, duplicate keys, references,
geometry codes) is vectorised pandas. Nothing here writes a file.

Secrecy codes (`s`, `ns`, `nd`, `so`) are accepted only in `indicateurs.valeur`,
`numerateur` and `denominateur` (where statistical secrecy applies); anywhere else they are
reported under the rule "secret statistique", because a missing amount or count must be left
empty there, not coded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from cucs_analysis.data import foreign, schema
from cucs_analysis.data.errors import AVERTISSEMENT, ERREUR, Problem, avertissements, count_problems, erreurs
from cucs_analysis.data.readers import (
    GEOMETRY_LAYERS,
    MAX_LISTED,
    DataFiles,
    coerce_table,
    empty_frame,
    find_files,
    problems_from_mask,
    read_geometry,
    read_metadata,
    read_raw,
)

# The one French formatter: the documented exception to the layering (see data/errors.py).
from cucs_analysis.present import text as fr

#: French description of each code shape, with an example.
PATTERN_LABELS = {
    schema.PATTERN_COMMUNE: "le code commune doit avoir 5 caractères (ex. « 01001 », « 2A004 »)",
    schema.PATTERN_EPCI: "le numéro SIREN de l'EPCI doit avoir 9 chiffres (ex. « 200000001 »)",
    schema.PATTERN_DEPARTEMENT: "le code département doit avoir 2 ou 3 caractères (ex. « 01 », « 2A », « 971 »)",
    schema.PATTERN_REGION: "le code région doit avoir 2 chiffres (ex. « 84 »)",
    schema.PATTERN_QUARTIER: "le code quartier doit commencer par QP, QN ou QV suivi de 5 à 7 chiffres ou "
    "lettres majuscules (ex. « QP075001 »)",
    schema.PATTERN_TERRITOIRE: "le code territoire doit faire 2 à 9 chiffres ou lettres majuscules",
}
RULE_NAMES = {
    "allowed": "valeurs admises",
    "pattern": "forme du code",
    "minimum": "minimum",
    "maximum": "maximum",
    "plausible": "valeur invraisemblable",
    "plausible_min": "revenu médian implausible",
}


#: The warning given, once per table × column, for values that are unknown.
def message_inconnu(n: int, quoi: str = "« inconnu » ou vide") -> str:
    """« 105 valeurs inconnues (« inconnu » ou vide) : … » (count and plural by `present.text`)."""
    return (
        f"{fr.pluriel(n, 'valeur inconnue', 'valeurs inconnues')} ({quoi}) : les analyses qui en ont "
        "besoin afficheront « n.d. » avec la raison"
    )


@dataclass
class Inspection:
    """What reading and checking a data directory found (tables indexed by line number)."""

    tables: dict[str, pd.DataFrame]
    geometries: dict[str, object]
    metadata: schema.DatasetMetadata
    available: set[str]
    files: DataFiles
    problems: list[Problem] = field(default_factory=list)


# --- pandera schemas --------------------------------------------------------------------------


@cache
def pandera_schema(table_name: str) -> pa.DataFrameSchema:
    """The value rules of a table as a pandera schema (applied to coerced frames).

    Missing values are checked separately (a cell that failed coercion is already reported),
    so every column is nullable here; checks carry the rule key in `error`.
    """
    table = schema.TABLES[table_name]
    columns = {}
    for c in table.columns:
        checks = []
        if c.allowed is not None and c.kind == "category":
            checks.append(pa.Check.isin(list(c.allowed), error="allowed"))
        if c.pattern is not None:
            checks.append(pa.Check.str_matches(c.pattern, error="pattern"))
        # Years of the period are checked against metadonnees.yaml instead.
        if not c.in_period:
            if c.minimum is not None:
                checks.append(pa.Check.ge(c.minimum, error="minimum"))
            if c.maximum is not None:
                checks.append(pa.Check.le(c.maximum, error="maximum"))
            if c.plausible_max is not None:
                checks.append(pa.Check.le(c.plausible_max, error="plausible"))
            if c.plausible_min is not None:
                # A negative value is already refused by `minimum`: one rule per cell.
                lo, floor = c.minimum if c.minimum is not None else -np.inf, c.plausible_min
                checks.append(
                    pa.Check(lambda s, lo=lo, floor=floor: (s >= floor) | (s < lo), error="plausible_min")
                )
        columns[c.name] = pa.Column(checks=checks, nullable=True, required=False)
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


def _borne(col: schema.Column, x: float) -> str:
    """A bound of a column in French (`present.text`): a year without digit groups."""
    if col.kind in ("year", "date") or col.name.startswith("annee"):
        return fr.annee(x)
    return fr.nombre_exact(x)


def _range_message(col: schema.Column, rule: str) -> str:
    if rule == "minimum" and col.minimum == 0:
        return "la valeur ne peut pas être négative"
    if col.minimum is not None and col.maximum is not None:
        return f"la valeur doit être comprise entre {_borne(col, col.minimum)} et {_borne(col, col.maximum)}"
    if rule == "minimum":
        if col.minimum == 0:
            return "la valeur ne peut pas être négative"
        return f"la valeur doit être supérieure ou égale à {_borne(col, col.minimum)}"
    return f"la valeur doit être inférieure ou égale à {_borne(col, col.maximum)}"


def _pattern_messages(col: schema.Column) -> callable:
    base = PATTERN_LABELS.get(col.pattern, f"la valeur ne respecte pas la forme attendue ({col.pattern})")
    rx = re.compile(col.pattern)

    def messages(values: pd.Series) -> list[str]:
        out = []
        for v in values.astype("str"):
            hint = ""
            if v.isdigit():
                fixed = next((v.zfill(n) for n in (2, 3, 5, 9) if len(v) < n and rx.match(v.zfill(n))), None)
                if fixed:
                    hint = (
                        f" ; le zéro initial a sans doute été perdu par un tableur (« {fixed} ») : "
                        "enregistrez la colonne au format texte"
                    )
            elif re.fullmatch(r"\d+[.,]0+", v or ""):
                hint = " ; le code a été lu comme un nombre décimal par un tableur : enregistrez la colonne au format texte"
            out.append(base + hint)
        return out

    return messages


def check_values(
    df: pd.DataFrame, raw: pd.DataFrame | None, table: schema.Table, fichier: str
) -> list[Problem]:
    """Allowed values, code shapes and bounds (pandera), missing values and list elements."""
    problems: list[Problem] = []
    lines = df.index
    flat = df.reset_index(drop=True)  # pandera loses failures on non-default indexes
    shown = raw.reset_index(drop=True) if raw is not None else flat
    cols = [c for c in table.columns if c.name in flat.columns]
    try:
        pandera_schema(table.name).validate(flat, lazy=True)
    except SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["check"].isin(list(RULE_NAMES)) & fc["index"].notna()]
        for (colname, check), grp in fc.groupby(["column", "check"], sort=False):
            col = table.column(colname)
            mask = np.zeros(len(flat), dtype=bool)
            mask[grp["index"].astype(int).to_numpy()] = True
            values = shown[colname] if colname in shown.columns else flat[colname]
            if check == "allowed":
                vals = ", ".join(f"« {a} »" for a in col.allowed)
                msg = f"valeur non admise ; valeurs possibles : {vals}"
            elif check == "pattern":
                msg = _pattern_messages(col)
            elif check == "plausible":
                msg = (
                    f"valeur invraisemblable (au-delà de {_borne(col, col.plausible_max)}) : "
                    "vérifiez l'unité et le séparateur décimal"
                )
            elif check == "plausible_min":
                msg = (
                    f"un revenu médian par unité de consommation inférieur à {_borne(col, col.plausible_min)} € "
                    "n'est pas plausible (0 est souvent une valeur manquante exportée) : aucun seuil ne "
                    "peut en être calculé ; indiquez la valeur, ou « inconnu » si elle n'est pas connue"
                )
            else:
                msg = _range_message(col, check)
            problems += problems_from_mask(fichier, lines, mask, colname, values, RULE_NAMES[check], msg)
    for col in cols:
        s = flat[col.name]
        if col.inconnu and raw is not None and col.name in raw.columns:
            problems += _unknown_values(flat, shown, lines, table, col, fichier)
        if col.kind == "category" and col.allowed and schema.INCONNU in col.allowed:
            n = int((s == schema.INCONNU).sum())
            if n:
                problems.append(
                    Problem(
                        fichier,
                        None,
                        col.name,
                        None,
                        "valeur inconnue",
                        message_inconnu(n, "« inconnu » ; vide signifie hors CUCS"),
                        niveau=AVERTISSEMENT,
                    )
                )
        # A column missing from the header is reported once, not once per row.
        if not col.nullable and not col.inconnu and (raw is None or col.name in raw.columns):
            # A cell that was not empty but is missing now failed coercion: already reported.
            was_empty = (
                shown[col.name].isna() | (shown[col.name] == "") if col.name in shown.columns else s.isna()
            )
            mask = s.isna() & was_empty
            if col.name in flat.columns and f"{col.name}_secret" in flat.columns:
                mask &= ~flat[f"{col.name}_secret"].fillna(False).astype(bool)
            problems += problems_from_mask(
                fichier,
                lines,
                mask,
                col.name,
                None,
                "valeur obligatoire",
                f"cellule vide : {col.description.lower()} est obligatoire",
            )
        if col.kind == "list" and col.allowed is not None and s.notna().any():
            parts = s.str.split(";").explode().str.strip()
            bad_el = parts.notna() & (parts != "") & ~parts.isin(list(col.allowed))
            bad_rows = bad_el.groupby(level=0).any().reindex(range(len(flat)), fill_value=False)
            first_bad = parts.where(bad_el).groupby(level=0).first().reindex(range(len(flat)))
            vals = ", ".join(f"« {a} »" for a in col.allowed)
            problems += problems_from_mask(
                fichier,
                lines,
                bad_rows.to_numpy(),
                col.name,
                first_bad,
                "valeurs admises",
                f"élément de liste non admis (éléments séparés par « ; ») ; valeurs possibles : {vals}",
            )
    return problems


def _unknown_where_allowed(flat: pd.DataFrame, table: schema.Table, col: schema.Column) -> pd.Series:
    """Rows where an unknown value of `col` is allowed (all but actions without an EPCI)."""
    if table.name == "actions" and col.name == "code_commune":
        epci = flat["code_epci"] if "code_epci" in flat.columns else pd.Series(pd.NA, index=flat.index)
        return epci.notna()
    return pd.Series(True, index=flat.index)


def _unknown_values(
    flat: pd.DataFrame,
    shown: pd.DataFrame,
    lines: pd.Index,
    table: schema.Table,
    col: schema.Column,
    fichier: str,
) -> list[Problem]:
    """One warning counting the unknown values of a column that accepts them; the errors of
    rows where unknown is not allowed (an action's commune without an EPCI)."""
    from cucs_analysis.data.readers import is_inconnu

    raw = shown[col.name].astype("str")
    unknown = (raw.isna() | raw.str.strip().eq("") | is_inconnu(raw)).fillna(False).astype(bool)
    unknown &= flat[col.name].isna()
    allowed = _unknown_where_allowed(flat, table, col)
    problems: list[Problem] = []
    n = int((unknown & allowed).sum())
    if n:
        problems.append(
            Problem(
                fichier,
                None,
                col.name,
                None,
                "valeur inconnue",
                message_inconnu(n),
                niveau=AVERTISSEMENT,
            )
        )
    refused = (unknown & ~allowed).to_numpy()
    if refused.any():
        problems += problems_from_mask(
            fichier,
            lines,
            refused,
            col.name,
            shown[col.name],
            "valeur obligatoire",
            "commune inconnue : indiquez le code commune de l'action, ou le code_epci du contrat pour une "
            "action de niveau intercommunal",
        )
    return problems


def check_period(
    df: pd.DataFrame,
    raw: pd.DataFrame | None,
    table: schema.Table,
    fichier: str,
    meta: schema.DatasetMetadata,
) -> list[Problem]:
    """Years within [annee_debut, annee_fin]; dates within a year either side of the period."""
    problems: list[Problem] = []
    d0, d1 = meta.annee_debut, meta.annee_fin
    for col in table.columns:
        if not col.in_period or col.name not in df.columns:
            continue
        s = df[col.name]
        shown = raw[col.name] if raw is not None and col.name in raw.columns else s
        if col.kind == "date":
            lo, hi = pd.Timestamp(d0 - 1, 1, 1), pd.Timestamp(d1 + 1, 12, 31)
            mask = s.notna() & ((s < lo) | (s > hi))
            msg = (
                f"date hors de la période du jeu de données ({d0}-{d1}, à un an près) : elle doit être "
                f"comprise entre le {lo:%d/%m/%Y} et le {hi:%d/%m/%Y}"
            )
        else:
            mask = s.notna() & ((s < d0) | (s > d1))
            msg = f"année hors de la période du jeu de données ({d0}-{d1}, voir metadonnees.yaml)"
        problems += problems_from_mask(fichier, df.index, mask.to_numpy(), col.name, shown, "période", msg)
    return problems


def _join_columns(frame: pd.DataFrame) -> pd.Series:
    """Values of several columns shown as one ("A001 / 2010"), vectorised."""
    cols = [frame[c].astype("str").fillna("") for c in frame.columns]
    out = cols[0]
    for c in cols[1:]:
        out = out + " / " + c
    return out


def check_keys(
    df: pd.DataFrame, raw: pd.DataFrame | None, table: schema.Table, fichier: str
) -> list[Problem]:
    """Duplicate keys, naming the line that first had the key."""
    key = [k for k in table.key if k in df.columns]
    if len(key) != len(table.key) or df.empty:
        return []
    # A key column missing from the header is reported once ("colonne manquante"), not as a
    # duplicate key on every line.
    if raw is not None and not all(k in raw.columns for k in key):
        return []
    frame = (raw if raw is not None and all(k in raw.columns for k in key) else df)[key]
    dup = df.duplicated(key, keep="first").to_numpy()
    if not dup.any():
        return []
    line = pd.Series(df.index, index=df.index)
    first_line = line.groupby([df[k] for k in key], dropna=False).transform("min")
    shown = _join_columns(frame)
    cols = ", ".join(key)
    msg = "clé en double : " + (f"les colonnes ({cols}) ont" if len(key) > 1 else f"la colonne {cols} a")
    messages = msg + " déjà cette valeur à la ligne " + first_line.astype(str)
    return problems_from_mask(fichier, df.index, dup, cols, shown, "clé en double", messages)


def check_references(
    tables: dict[str, pd.DataFrame],
    fichiers: dict[str, str],
    absentes: dict[str, set[str]] | None = None,
) -> list[Problem]:
    """Foreign keys of schema.TABLES (honouring `when`), against tables that could be read.

    `absentes`: columns missing from each file's header, already reported once: a reference
    to (or from) them is not checked, row by row, again."""
    absentes = absentes or {}
    problems: list[Problem] = []
    for name, table in schema.TABLES.items():
        df = tables.get(name)
        if df is None or df.empty or name not in fichiers:
            continue
        for ref in table.references:
            target = tables.get(ref.target)
            # An empty target (unreadable or header-only file) is reported once, on that file.
            if target is None or ref.target not in fichiers or target.empty:
                continue
            if not all(c in df.columns for c in ref.columns) or not all(
                c in target.columns for c in ref.target_columns
            ):
                continue
            if absentes.get(name, set()) & set(ref.columns) or absentes.get(ref.target, set()) & set(
                ref.target_columns
            ):
                continue
            src = df[list(ref.columns)]
            scope = src.notna().all(axis=1)
            if ref.when is not None:
                scope &= df[ref.when[0]] == ref.when[1]
            tgt = target[list(ref.target_columns)].dropna()
            if len(ref.columns) == 1:
                known = src.iloc[:, 0].isin(set(tgt.iloc[:, 0]))
                shown = src.iloc[:, 0]
            else:
                known = pd.Series(
                    pd.MultiIndex.from_frame(src.astype("str")).isin(
                        pd.MultiIndex.from_frame(tgt.astype("str"))
                    ),
                    index=src.index,
                )
                shown = _join_columns(src)
            mask = (scope & ~known).to_numpy()
            where = f" (niveau « {ref.when[1]} »)" if ref.when else ""
            msg = (
                f"référence inconnue{where} : cette valeur n'existe pas dans {fichiers[ref.target]} "
                f"(colonne{'s' if len(ref.target_columns) > 1 else ''} {', '.join(ref.target_columns)})"
            )
            problems += problems_from_mask(
                fichiers[name], df.index, mask, ", ".join(ref.columns), shown, "référence inconnue", msg
            )
    return problems


def check_actions_epci(tables: dict[str, pd.DataFrame], fichiers: dict[str, str]) -> list[Problem]:
    """An action's `code_epci` absent from communes.csv: a warning (the EPCI of communes may be
    unknown), the action is then attached to no commune."""
    act, com = tables.get("actions"), tables.get("communes")
    if act is None or act.empty or "actions" not in fichiers or "code_epci" not in act.columns:
        return []
    if com is None or "communes" not in fichiers:
        return []
    epci = act["code_epci"]
    mask = (epci.notna() & ~epci.isin(set(com["code_epci"].dropna()))).to_numpy()
    n = int(mask.sum())
    if not n:
        return []
    s = "s" if n > 1 else ""
    return [
        Problem(
            fichiers["actions"],
            None,
            "code_epci",
            None,
            "EPCI inconnu",
            f"{fr.nombre(n)} ligne{s} d'actions nomme{'nt' if n > 1 else ''} un EPCI absent de "
            f"{fichiers['communes']} (colonne code_epci) : ces actions ne seront rattachées à aucune commune",
            niveau=AVERTISSEMENT,
        )
    ]


def _bornes_message(u: object, a: float, b: float) -> str:
    if isinstance(u, str):
        return (
            f"valeur hors des bornes de l'unité « {u} » de l'indicateur : elle doit être comprise "
            f"entre {fr.nombre_exact(a)} et {fr.nombre_exact(b)}"
        )
    return (
        f"valeur invraisemblable : elle doit être comprise entre {fr.nombre_exact(a)} et {fr.nombre_exact(b)}"
    )


def _listed_messages(mask: np.ndarray, text: callable) -> pd.Series:
    """Texts for the rows `problems_from_mask` lists (the first `MAX_LISTED` of `mask`), by
    position; the other rows stay empty (never shown)."""
    out = np.full(len(mask), None, dtype=object)
    for i in np.flatnonzero(mask)[:MAX_LISTED]:
        out[i] = text(int(i))
    return pd.Series(out)


def check_consistency(tables: dict[str, pd.DataFrame], fichiers: dict[str, str]) -> list[Problem]:
    """Rules across columns or tables: an indicator's value within the bounds of its unit
    (`schema.BORNES_UNITE`: a rate within [0, 100], ‰ within [0, 1000]), a numerator not
    above its denominator, « dont habitants » not above the participants."""
    problems: list[Problem] = []
    ind, cat = tables.get("indicateurs"), tables.get("catalogue_indicateurs")
    if ind is not None and not ind.empty and "indicateurs" in fichiers:
        fichier = fichiers["indicateurs"]
        if cat is not None and not cat.empty and {"indicateur", "unite"} <= set(cat.columns):
            unites = cat.drop_duplicates("indicateur").set_index("indicateur")["unite"]
            unite = ind["indicateur"].map(unites)
            lo_default, hi_default = schema.BORNES_VALEUR_AUTRE
            lo = unite.map({u: b[0] for u, b in schema.BORNES_UNITE.items()}).fillna(lo_default)
            hi = unite.map({u: b[1] for u, b in schema.BORNES_UNITE.items()}).fillna(hi_default)
            v = ind["valeur"].astype("float64")
            mask = (v.notna() & ((v < lo) | (v > hi))).to_numpy()
            # Messages are written for the rows listed only (a national file has 300,000 rows).
            msgs = _listed_messages(
                mask,
                lambda i: _bornes_message(unite.iat[i], lo.iat[i], hi.iat[i]),
            )
            problems += problems_from_mask(fichier, ind.index, mask, "valeur", ind["valeur"], "bornes", msgs)
        num, den = ind["numerateur"].astype("float64"), ind["denominateur"].astype("float64")
        mask = (num.notna() & den.notna() & (num > den)).to_numpy()
        shown = _listed_messages(
            mask, lambda i: f"{fr.nombre_exact(num.iat[i])} > {fr.nombre_exact(den.iat[i])}"
        )
        problems += problems_from_mask(
            fichier,
            ind.index,
            mask,
            "numerateur",
            shown,
            "numérateur ≤ dénominateur",
            "le numérateur d'un taux ne peut pas dépasser son dénominateur",
        )
    inst = tables.get("instances")
    if inst is not None and not inst.empty and "instances" in fichiers:
        h, n = inst["habitants"], inst["participants"]
        mask = (h.notna() & n.notna() & (h > n)).fillna(False).to_numpy(dtype=bool)
        shown = h.astype("str") + " > " + n.astype("str")
        problems += problems_from_mask(
            fichiers["instances"],
            inst.index,
            mask,
            "habitants",
            shown,
            "habitants ≤ participants",
            "les habitants sont comptés parmi les participants : ils ne peuvent pas être plus nombreux",
        )
    return problems


def _check_shapes(gdf, fichier: str, code: str, codes: pd.Series, where: pd.Series) -> list[Problem]:
    """Absent, empty or invalid (self-intersecting) geometries, and the coordinate system."""
    geom = gdf.geometry.reset_index(drop=True)
    nolines = pd.Index([None] * len(gdf))
    absent = (geom.isna() | geom.is_empty).to_numpy()
    problems = problems_from_mask(
        fichier, nolines, absent, code, codes, "géométrie", where + "géométrie absente ou vide"
    )
    invalid = (~absent & ~geom.is_valid.to_numpy()).astype(bool)
    problems += problems_from_mask(
        fichier,
        nolines,
        invalid,
        code,
        codes,
        "géométrie",
        where + "géométrie invalide (contour qui se recoupe ou mal fermé) : réparez-la dans un logiciel SIG",
    )
    if gdf.crs is None:
        problems.append(
            Problem.whole_file(
                fichier,
                "système de coordonnées",
                "la couche ne déclare pas son système de coordonnées : indiquez-le (ex. EPSG:2154, Lambert-93)",
            )
        )
    elif len(geom) and not absent.all():
        bounds = geom[~absent].total_bounds
        if not np.isfinite(bounds).all():
            problems.append(
                Problem.whole_file(
                    fichier, "système de coordonnées", "la couche a des coordonnées non finies"
                )
            )
        elif gdf.crs.is_geographic and (
            bounds[0] < -180 or bounds[2] > 180 or bounds[1] < -90 or bounds[3] > 90
        ):
            problems.append(
                Problem.whole_file(
                    fichier,
                    "système de coordonnées",
                    f"les coordonnées ne sont pas des degrés alors que la couche déclare "
                    f"{gdf.crs.to_string()} : déclarez le système de la couche (ex. EPSG:2154, Lambert-93)",
                )
            )
    return problems


def check_geometry(
    gdf, layer: str, table_df: pd.DataFrame | None, fichier: str, table_file: str | None
) -> list[Problem]:
    """The geometry layer's codes must exist in the table (and be unique)."""
    code = GEOMETRY_LAYERS[layer]
    found = foreign.classify_columns(gdf.columns, fichier, geographic=True)
    if code not in gdf.columns and found is not None:
        return [Problem.whole_file(fichier, foreign.RULE, found.message(fichier))]
    if code not in gdf.columns:
        return [
            Problem(
                fichier,
                None,
                code,
                None,
                "géométrie",
                f"la couche n'a pas de colonne « {code} » pour la relier à la table",
            )
        ]
    features = pd.Index(np.arange(1, len(gdf) + 1))
    codes = gdf[code].reset_index(drop=True)
    nolines = pd.Index([None] * len(gdf))
    where = pd.Series([f"entité n° {k} de la couche : " for k in features])
    problems = problems_from_mask(
        fichier, nolines, codes.isna().to_numpy(), code, None, "géométrie", where + "entité sans code"
    )
    dup = (codes.duplicated(keep="first") & codes.notna()).to_numpy()
    problems += problems_from_mask(
        fichier, nolines, dup, code, codes, "géométrie", where + "code en double dans la couche"
    )
    problems += _check_shapes(gdf, fichier, code, codes, where)
    if table_df is not None and table_file is not None and code in table_df.columns:
        unknown = (codes.notna() & ~codes.isin(set(table_df[code].dropna()))).to_numpy()
        msgs = pd.Series(
            [f"entité n° {k} de la couche : ce code est absent de {table_file}" for k in features]
        )
        problems += problems_from_mask(
            fichier, pd.Index([None] * len(gdf)), unknown, code, codes, "géométrie", msgs
        )
    return problems


# --- the whole directory ------------------------------------------------------------------------


def inspect_table(
    path: Path, name: str, meta: schema.DatasetMetadata
) -> tuple[pd.DataFrame, pd.DataFrame | None, list[Problem]]:
    """Read, coerce and check one table file on its own (no cross-table rule): (typed frame,
    raw string frame or None when unreadable, problems). Never raises on bad data."""
    table = schema.TABLES[name]
    # A foreign layout saved under a table's name (the INSEE file as quartiers.csv, the
    # workbook as actions.xlsx): one line naming the command, not a column-by-column listing.
    found = foreign.recognise(path)
    if found is not None and not (set(table.column_names) & _header(path, name)):
        return empty_frame(table), None, [foreign.problem(path, found, ERREUR)]
    raw, problems = read_raw(path, name)
    if raw is None:
        return empty_frame(table), None, problems
    if raw.empty and not table.optional and not any(p.regle == "nombre de champs" for p in problems):
        problems.append(
            Problem.whole_file(
                path.name,
                "en-tête seul",
                "le fichier ne contient que la ligne d'en-tête : la table obligatoire est vide",
            )
        )
    df, probs = coerce_table(raw, table, path.name)
    problems += probs
    problems += check_values(df, raw, table, path.name)
    problems += check_period(df, raw, table, path.name, meta)
    problems += check_keys(df, raw, table, path.name)
    return df, raw, problems


def _header(path: Path, name: str) -> set[str]:
    """Column names of a table file's header: the first row of the CSV, or of the sheet the
    table reader takes in a workbook (named as the table, else the first); empty if unreadable."""
    ext = path.suffix.lower()
    if ext == ".xlsx":
        raw, _ = read_raw(path, name)
        return set() if raw is None else {str(c) for c in raw.columns}
    try:
        head = foreign.csv_header(path) if ext == ".csv" else None
    except OSError:
        return set()
    return {h.strip().lstrip("\ufeff") for h in head or []}


def inspect_dir(data_dir: str | Path, files: DataFiles | None = None) -> Inspection:
    """Read, coerce and check every file of `data_dir`; never raises on bad data, never writes."""
    data_dir = Path(data_dir)
    files = files or find_files(data_dir)
    problems: list[Problem] = []
    meta, probs = read_metadata(data_dir / schema.METADATA_FILE)
    problems += probs
    tables: dict[str, pd.DataFrame] = {}
    raws: dict[str, pd.DataFrame | None] = {}
    fichiers: dict[str, str] = {}  # tables that were read, → file name
    available: set[str] = set()
    for name, table in schema.TABLES.items():
        paths = files.tables.get(name, [])
        if not paths:
            if not table.optional:
                problems.append(
                    Problem.whole_file(
                        f"{name}.csv",
                        "table absente",
                        f"table obligatoire absente : ajoutez le fichier {name}.csv (ou {name}.xlsx, {name}.parquet)",
                    )
                )
            tables[name] = empty_frame(table)
            continue
        if len(paths) > 1:
            problems.append(
                Problem.whole_file(
                    paths[0].name,
                    "plusieurs fichiers",
                    f"plusieurs fichiers pour la table {name} ({', '.join(p.name for p in paths)}) : n'en gardez qu'un",
                )
            )
        path = paths[0]
        available.add(name)
        df, raw, probs = inspect_table(path, name, meta)
        problems += probs
        tables[name] = df
        if raw is None:
            continue
        raws[name], fichiers[name] = raw, path.name
    # Columns missing from a header: reported once there, never again row by row elsewhere.
    absentes = {
        n: set(schema.TABLES[n].column_names) - set(r.columns) for n, r in raws.items() if r is not None
    }
    problems += check_references(tables, fichiers, absentes)
    problems += check_consistency(tables, fichiers)
    problems += check_actions_epci(tables, fichiers)
    # Files of a known foreign layout beside the tables: say which command reads them (an
    # error when a required table is missing, the likely reason; else a warning).
    missing = any(p.regle == "table absente" for p in problems)
    strangers = foreign.scan_dir(data_dir, set(files.all_files()), ERREUR if missing else AVERTISSEMENT)
    problems = strangers + problems
    geometries = {}
    for layer, paths in files.geometries.items():
        if len(paths) > 1:
            problems.append(
                Problem.whole_file(
                    paths[0].name,
                    "plusieurs fichiers",
                    f"plusieurs couches géographiques pour {layer} ({', '.join(p.name for p in paths)})",
                )
            )
        gdf, probs = read_geometry(paths[0], GEOMETRY_LAYERS[layer])
        problems += probs
        if gdf is None:
            continue
        code_absent = GEOMETRY_LAYERS[layer] in absentes.get(layer, set())
        problems += check_geometry(
            gdf, layer, None if code_absent else tables.get(layer), paths[0].name, fichiers.get(layer)
        )
        geometries[layer] = gdf
    return Inspection(tables, geometries, meta, available, files, problems)


def validate_dir(data_dir: str | Path) -> list[Problem]:
    """Every problem of a data directory (empty list: valid). Reads only; writes nothing."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return [
            Problem(str(data_dir), None, None, None, "dossier absent", "le dossier de données n'existe pas")
        ]
    return inspect_dir(data_dir).problems


def validate_file(path: str | Path) -> list[Problem]:
    """Every problem of one file given on its own: a known foreign layout (one line naming the
    command that reads it), else a table of the project checked alone (no cross-table rule;
    the period of a metadonnees.yaml beside it)."""
    path = Path(path)
    found = foreign.recognise(path)
    if found is not None:
        return [foreign.problem(path, found, ERREUR)]
    name = path.stem
    if name not in schema.TABLES or path.suffix.lower() not in (".csv", ".xlsx", ".parquet"):
        tables = ", ".join(f"{t}.csv" for t in schema.REQUIRED_TABLES)
        return [
            Problem.whole_file(
                path.name,
                "fichier inconnu",
                f"ce fichier n'est ni une table du projet ({tables}…) ni un fichier d'un format connu "
                "(indicateurs INSEE des QPV et leurs contours, postes Ci.Ville, classeur modèle) : "
                "donnez le dossier de données à vérifier",
            )
        ]
    meta, problems = read_metadata(path.parent / schema.METADATA_FILE)
    _, _, probs = inspect_table(path, name, meta)
    return problems + probs


def _pluriel(n: int, mot: str) -> str:
    return f"{fr.nombre(n)} {mot}{'s' if n > 1 else ''}"


def _grouped(problems: list[Problem], mot: str) -> list[str]:
    """Problems grouped by file: a heading with the count, then one line per entry."""
    out = []
    for f in dict.fromkeys(p.fichier for p in problems):
        group = [p for p in problems if p.fichier == f]
        out.append(f"{f} ({_pluriel(count_problems(group), mot)})")
        for p in group:
            text = str(p)
            # The file name is the group's heading: drop it from each line.
            if text.startswith(f + ", "):
                text = text[len(f) + 2 :]
            elif text.startswith(f + " : "):
                text = text[len(f) + 3 :]
            out.append("  - " + text)
    return out


def format_report(
    problems: list[Problem],
    n_tables: int | None = None,
    absentes: list[str] | None = None,
    fichier: str | None = None,
) -> str:
    """French report for `cucs validate`: the errors grouped by file, then the warnings
    (« Avertissements (ne bloquent pas) »), closing with a count line.

    `absentes`: optional tables the data set does not have (named in the success line);
    `fichier`: the one file checked alone (`cucs validate FICHIER`)."""
    errs, warns = erreurs(problems), avertissements(problems)
    out: list[str] = []
    if not errs:
        absentes = list(absentes or [])
        n = (len(schema.TABLES) - len(absentes)) if n_tables is None else n_tables
        verdict = "Aucun problème" if not warns else "Aucune erreur"
        line = f"{verdict} : le jeu de données est valide ({n} table{'s' if n > 1 else ''})."
        if fichier is not None:
            line = (
                f"{verdict} : le fichier {fichier} est valide (vérifié seul : les références aux autres "
                "tables ne sont pas contrôlées)."
            )
        elif absentes:
            line = line[:-2] + f" ; tables facultatives absentes : {', '.join(absentes)})."
        if not warns:
            return line
        out.append(line)
    else:
        out += _grouped(errs, "problème")
    if warns:
        out += ["", "Avertissements (ne bloquent pas) :"]
        out += _grouped(warns, "avertissement")
    out.append("")
    nw = count_problems(warns)
    tail = f"{_pluriel(nw, 'avertissement')} (non bloquant{'s' if nw > 1 else ''})" if nw else ""
    if errs:
        total = count_problems(errs)
        nf = len(dict.fromkeys(p.fichier for p in errs))
        head = (
            f"{fr.nombre(total)} problème{'s' if total > 1 else ''} trouvé{'s' if total > 1 else ''} "
            f"dans {nf} fichier{'s' if nf > 1 else ''}"
        )
        out.append(f"{head} ; {tail}." if tail else f"{head}.")
    else:
        out.append(f"{tail[0].upper()}{tail[1:]}.")
    return "\n".join(out)


__all__ = [
    "Inspection",
    "MAX_LISTED",
    "check_consistency",
    "check_geometry",
    "check_keys",
    "check_period",
    "check_references",
    "check_values",
    "format_report",
    "inspect_dir",
    "inspect_table",
    "pandera_schema",
    "validate_dir",
    "validate_file",
]
