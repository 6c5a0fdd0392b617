"""`cucs import insee-qpv`: INSEE neighbourhood indicators (44-column QPV layout) + QPV contours
→ communes, quartiers, quartiers_communes, indicateurs, catalogue_indicateurs, quartiers.geojson
(and communes.geojson), with metadonnees.yaml.

The INSEE file is one cross-section without a year: each variable belongs to a family
(démographie, revenus, …) whose reference year comes from the shipped dictionary
(`ref/insee_qpv_variables.csv`), or from `--annee famille=AAAA`; the importer warns that the
years are not in the file. Variables are mapped onto the project's own indicators only where the
meaning is the same (`indicateur_projet` in the dictionary: pop_mun → population, tp60 →
taux_pauvrete, decuc_q2 → revenu_median_uc); every other variable keeps its INSEE name. A blank
cell is a secret value (default) or a missing one (`--vides manquant`); the explicit codes
s, ns, nd, so are always secret.

Commune codes come from the contours (the main commune of each QPV); the other communes of a
QPV over several communes (nom_commune « Séméac, Tarbes ») are matched by name against the
contours, the communes layer and the EPCI composition file, and kept in `quartiers_communes`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cucs_analysis.data import readers, schema
from cucs_analysis.data.errors import DataError, Problem
from cucs_analysis.data.imports import common, geo

# The one French formatter (the documented exception to the layering, see data/errors.py).
from cucs_analysis.present import text as fr

DICTIONNAIRE = geo.REF / "insee_qpv_variables.csv"
IMPORTEUR = "insee_qpv"
#: Tables and layers this importer writes (an existing --out holding one needs --force).
FICHIERS_ECRITS = (
    "communes",
    "quartiers",
    "quartiers_communes",
    "indicateurs",
    "catalogue_indicateurs",
)
#: Property names accepted in a contours layer (first found wins, case-insensitive).
ALIAS_CONTOURS = {
    "code": ("code_qp", "code_quartier", "cod_qp", "qp", "code_qpv"),
    "nom": ("nom_qp", "lib_qp", "libelle_qp", "nom"),
    "code_commune": ("code_commune", "insee_com", "code_insee", "depcom", "codgeo", "com"),
    "commune": ("commune_qp", "lib_com", "nom_com", "libcom"),
    "communes": ("nom_commune", "communes", "lib_communes"),
}
ALIAS_COMMUNES = {
    "code_commune": ("code_commune", "insee_com", "code_insee", "codgeo", "depcom", "insee", "code"),
    "nom": ("nom_commune", "nom", "libgeo", "nom_com", "lib_com", "libelle"),
}
REGLE_CODE_QP = (
    "code de quartier invalide : « QP » ou « QN » suivi de 6 caractères attendu (ex. QP075001, QN04901M)"
)


@dataclass
class Resultat:
    """What `importer` returns: the folder written, the report, the French summary, the tables."""

    dossier: Path
    rapport: common.RapportImport
    resume: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    duree_s: float = 0.0


def charger_dictionnaire() -> pd.DataFrame:
    """The shipped dictionary of INSEE QPV variables (one row per variable)."""
    d = pd.read_csv(DICTIONNAIRE, dtype=str, keep_default_na=False, encoding="utf-8")
    d["annee_reference"] = d["annee_reference"].astype(int)
    return d.set_index("variable", drop=False)


def annees_retenues(dico: pd.DataFrame, options: list[str]) -> tuple[dict[str, int], set[str]]:
    """Year of each family: the dictionary's, overridden by `--annee famille=AAAA` options.

    Returns (family → year, families set by an option); `DataError` on a malformed option.
    """
    familles = dict(dico.drop_duplicates("famille")[["famille", "annee_reference"]].itertuples(index=False))
    fixees: set[str] = set()
    for opt in options:
        m = re.fullmatch(r"\s*([\w-]+)\s*=\s*(\d{4})\s*", str(opt))
        if not m:
            raise DataError(
                f"option --annee « {opt} » illisible : écrivez famille=AAAA (ex. revenus=2017) ; familles : "
                f"{', '.join(familles)}"
            )
        # « démographie », « Demandeurs-emploi » name the families demographie, demandeurs_emploi.
        fam, an = geo.normaliser_nom(m.group(1)).replace(" ", "_"), int(m.group(2))
        if fam not in familles:
            raise DataError(
                f"option --annee : famille « {fam} » inconnue ; familles du dictionnaire : {', '.join(familles)}"
            )
        if not 1990 <= an <= 2035:
            raise DataError(f"option --annee {fam}={an} : l'année doit être comprise entre 1990 et 2035")
        familles[fam] = an
        fixees.add(fam)
    return familles, fixees


# --- the INSEE file -------------------------------------------------------------------------------


def _lire_qpv(path: Path, dico: pd.DataFrame, rapport: common.RapportImport):
    """(identity columns, numbers, explicit secret mask, blank mask, variables kept)."""
    fichier = path.name
    if path.suffix.lower() in (".geojson", ".json", ".gpkg", ".shp", ".topojson"):
        raise common.erreur(
            fichier,
            "fichier INSEE attendu",
            "ce fichier est une couche géographique : donnez-la à --contours ; le premier argument est le "
            "fichier INSEE des quartiers (CSV à 44 colonnes : code_qp, nom_qp, nom_commune, pop_mun…)",
        )
    raw = common.lire_brut(path)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    manquantes = [c for c in ("code_qp", "nom_qp") if c not in raw.columns]
    if manquantes:
        raise DataError(
            [
                Problem(
                    fichier,
                    1,
                    c,
                    None,
                    "colonne manquante",
                    "colonne absente de l'en-tête : le fichier INSEE des quartiers prioritaires commence par "
                    "code_qp, nom_qp, nom_commune",
                )
                for c in manquantes
            ]
        )
    if raw.empty:
        raise common.erreur(fichier, "fichier vide", "le fichier ne contient aucun quartier (en-tête seul)")
    variables = [c for c in raw.columns if c in dico.index]
    if not variables:
        raise common.erreur(
            fichier,
            "colonnes INSEE",
            "aucune colonne du dictionnaire des variables INSEE des quartiers (pop_mun, tp60, decuc_q2…) "
            "n'a été trouvée : ce n'est pas le fichier INSEE des QPV",
        )
    ignorees = [
        c for c in raw.columns if c not in dico.index and c not in ("code_qp", "nom_qp", "nom_commune")
    ]
    if ignorees:
        rapport.avertir(
            f"{fichier} : {fr.pluriel(len(ignorees), 'colonne ignorée', 'colonnes ignorées')} "
            f"(absentes du dictionnaire des variables) : {', '.join(ignorees)}"
        )
    rapport.details["colonnes_ignorees"] = ignorees
    problems: list[Problem] = []
    code = raw["code_qp"]
    bad = ~code.str.fullmatch(schema.PATTERN_QUARTIER[1:-1])
    problems += readers.problems_from_mask(
        fichier, raw.index, bad, "code_qp", code, "forme du code", REGLE_CODE_QP
    )
    dup = code.duplicated(keep="first") & ~bad
    problems += readers.problems_from_mask(
        fichier,
        raw.index,
        dup,
        "code_qp",
        code,
        "code en double",
        "ce code de quartier figure déjà plus haut",
    )
    nomvide = raw["nom_qp"] == ""
    problems += readers.problems_from_mask(
        fichier,
        raw.index,
        nomvide,
        "nom_qp",
        raw["nom_qp"],
        "valeur obligatoire",
        "le nom du quartier est vide",
    )
    blank = pd.DataFrame(False, index=raw.index, columns=variables)
    secret = pd.DataFrame(False, index=raw.index, columns=variables)
    nums = pd.DataFrame(np.nan, index=raw.index, columns=variables)
    for v in variables:
        s = raw[v]
        blank[v] = s == ""
        secret[v] = s.str.lower().isin(schema.SECRECY_CODES)
        empty = blank[v] | secret[v]
        num = pd.to_numeric(readers._normalise_number(s.mask(empty)), errors="coerce").astype("float64")
        finite = np.isfinite(num.to_numpy(dtype="float64", na_value=np.nan))
        bad = (~empty & ~finite).to_numpy()
        problems += readers.problems_from_mask(
            fichier,
            raw.index,
            bad,
            v,
            s,
            "nombre",
            "la valeur n'est pas un nombre (ex. « 12,5 » ou « 12.5 ») ni un code de secret (s, ns, nd, so) : "
            "corrigez-la ou laissez la cellule vide",
        )
        neg = (~empty & finite & (num < 0)).to_numpy()
        problems += readers.problems_from_mask(
            fichier,
            raw.index,
            neg,
            v,
            s,
            "minimum",
            "valeur négative : les variables INSEE des quartiers sont ≥ 0",
        )
        nums[v] = num.where(~empty)
    if problems:
        raise DataError(problems)
    ident = pd.DataFrame(
        {
            "code_quartier": code,
            "nom": raw["nom_qp"],
            "noms_communes": raw["nom_commune"] if "nom_commune" in raw.columns else "",
        },
        index=raw.index,
    )
    return ident, nums, secret, blank, variables


# --- contours and communes --------------------------------------------------------------------------


def _colonne(gdf, aliases: tuple[str, ...]) -> str | None:
    low = {str(c).lower(): c for c in gdf.columns if c != gdf.geometry.name}
    return next((low[a] for a in aliases if a in low), None)


def _code_commune(valeur: object) -> str:
    """A commune code read from a layer: a number that lost its leading zero gets it back."""
    s = "" if valeur is None or (isinstance(valeur, float) and np.isnan(valeur)) else str(valeur).strip()
    if re.fullmatch(r"\d+\.0", s):
        s = s[:-2]
    return s.zfill(5) if re.fullmatch(r"\d{4}", s) else s.upper()


def _lire_contours(path: Path, rapport: common.RapportImport):
    """QPV contours: (frame code/nom/code_commune/commune/communes + geometry), invalid count."""
    gdf = geo.lire_couche(path)
    fichier = path.name
    cols = {k: _colonne(gdf, a) for k, a in ALIAS_CONTOURS.items()}
    if cols["code"] is None:
        raise common.erreur(
            fichier,
            "colonne manquante",
            f"propriété du code de quartier introuvable (attendu : {', '.join(ALIAS_CONTOURS['code'])})",
        )
    if cols["code_commune"] is None:
        raise common.erreur(
            fichier,
            "colonne manquante",
            "propriété du code commune introuvable (attendu : "
            f"{', '.join(ALIAS_CONTOURS['code_commune'])}) : les codes des communes viennent des contours",
        )
    idx = pd.Index(np.arange(1, len(gdf) + 1), name="entite")
    df = pd.DataFrame(
        {
            "code_quartier": gdf[cols["code"]].astype("str").str.strip().to_numpy(),
            "code_commune": [_code_commune(v) for v in gdf[cols["code_commune"]]],
            "commune": gdf[cols["commune"]].fillna("").astype(str).str.strip().to_numpy()
            if cols["commune"]
            else "",
            "communes": gdf[cols["communes"]].fillna("").astype(str).str.strip().to_numpy()
            if cols["communes"]
            else "",
        },
        index=idx,
    )
    problems = []
    bad = ~df["code_quartier"].str.fullmatch(schema.PATTERN_QUARTIER[1:-1])
    problems += _feature_problems(
        fichier, df, bad, cols["code"], "code_quartier", "forme du code", REGLE_CODE_QP
    )
    bad = ~df["code_commune"].str.fullmatch(schema.PATTERN_COMMUNE[1:-1])
    problems += _feature_problems(
        fichier,
        df,
        bad,
        cols["code_commune"],
        "code_commune",
        "forme du code",
        "code commune invalide : 5 caractères attendus (ex. 31555, 2A004)",
    )
    if problems:
        raise DataError(problems)
    geom = gdf.geometry
    absent = (geom.isna() | geom.is_empty).to_numpy()
    shapes = gdf[[gdf.geometry.name]].copy()
    shapes.index = idx
    repaired, invalid_src = geo.reparer(shapes)
    out = repaired.join(df)
    # One QPV in several features: merged into one shape (reported).
    dup = out["code_quartier"].duplicated(keep=False)
    if dup.any():
        codes = sorted(out.loc[dup, "code_quartier"].unique())
        rapport.avertir(
            f"{fichier} : {fr.pluriel(len(codes), 'quartier')} en plusieurs entités, fusionnées en un contour : "
            f"{', '.join(codes)}"
        )
        first = out.drop_duplicates("code_quartier").set_index("code_quartier")
        merged = out.dissolve(by="code_quartier")
        first = first.set_geometry(merged.geometry.reindex(first.index).values, crs=out.crs)
        out = first.reset_index()
    rapport.details["contours_repares"] = sorted(df.loc[invalid_src, "code_quartier"].tolist())
    return out.reset_index(drop=True), int(invalid_src.sum()), sorted(df.loc[absent, "code_quartier"])


def _feature_problems(fichier, df, mask, colonne, col, regle, message) -> list[Problem]:
    """Problems of a layer: « ligne » is the feature number (n° of the feature in the file)."""
    return [
        Problem(fichier, None, colonne, v, regle, f"entité n° {i} : {message}")
        for i, v in zip(df.index[mask.to_numpy()][: readers.MAX_LISTED], df.loc[mask, col], strict=False)
    ]


def _lire_communes(path: Path):
    gdf = geo.lire_couche(path)
    cc, cn = _colonne(gdf, ALIAS_COMMUNES["code_commune"]), _colonne(gdf, ALIAS_COMMUNES["nom"])
    if cc is None:
        raise common.erreur(
            path,
            "colonne manquante",
            f"propriété du code commune introuvable (attendu : {', '.join(ALIAS_COMMUNES['code_commune'])})",
        )
    out = gdf[[gdf.geometry.name]].copy()
    out["code_commune"] = [_code_commune(v) for v in gdf[cc]]
    out["nom"] = gdf[cn].fillna("").astype(str).str.strip() if cn else ""
    bad = ~out["code_commune"].str.fullmatch(schema.PATTERN_COMMUNE[1:-1])
    if bad.any():
        df = out.copy()
        df.index = pd.Index(np.arange(1, len(df) + 1))
        raise DataError(
            _feature_problems(
                path.name,
                df,
                pd.Series(bad.to_numpy(), index=df.index),
                cc,
                "code_commune",
                "forme du code",
                "code commune invalide : 5 caractères attendus (ex. 31555, 2A004)",
            )
        )
    return out


# --- the import -------------------------------------------------------------------------------------


def _apparier(
    noms: list[str], principale: str, repertoire: dict[str, set[str]], dep_principal: str | None
) -> tuple[list[str], list[str]]:
    """Codes of the communes named in `noms` (the main one first), and the names not found."""
    codes, perdus = [principale], []
    for nom in noms:
        cands = repertoire.get(geo.normaliser_nom(nom), set())
        if principale in cands:
            continue
        if len(cands) > 1:
            cands = {c for c in cands if geo.departement(c) == dep_principal}
        if len(cands) == 1:
            c = next(iter(cands))
            if c not in codes:
                codes.append(c)
        else:
            perdus.append(nom)
    return codes, perdus


def _indicateurs(
    ident: pd.DataFrame,
    nums: pd.DataFrame,
    secret: pd.DataFrame,
    blank: pd.DataFrame,
    variables: list[str],
    dico: pd.DataFrame,
    code_ind: dict[str, str],
    familles: dict[str, int],
    vides: str,
    valeurs_commune: dict[tuple[str, str], tuple[float, bool]],
) -> pd.DataFrame:
    """The long table: one row per quartier × variable (a blank is secret or absent per `vides`),
    plus the commune-level rows; keeps the INSEE name in a `variable` column (dropped on writing)."""
    rows = []
    for v in variables:
        if dico.loc[v, "niveau"] != "quartier":
            continue
        sec = secret[v] | (blank[v] if vides == "secret" else False)
        keep = nums[v].notna() | sec
        rows.append(
            pd.DataFrame(
                {
                    "niveau": "quartier",
                    "code_territoire": ident.loc[keep, "code_quartier"],
                    "indicateur": code_ind[v],
                    "annee": familles[dico.loc[v, "famille"]],
                    "valeur": nums.loc[keep, v],
                    "source": dico.loc[v, "source"],
                    "secret": sec[keep],
                    "variable": v,
                }
            )
        )
    for (c, v), (val, sec) in sorted(valeurs_commune.items()):
        rows.append(
            pd.DataFrame(
                {
                    "niveau": ["commune"],
                    "code_territoire": [c],
                    "indicateur": [code_ind[v]],
                    "annee": [familles[dico.loc[v, "famille"]]],
                    "valeur": [np.nan if sec else val],
                    "source": [dico.loc[v, "source"]],
                    "secret": [sec],
                    "variable": [v],
                }
            )
        )
    ind = pd.concat(rows, ignore_index=True)
    ind["numerateur"] = np.nan
    ind["denominateur"] = np.nan
    ind.loc[ind["secret"], "valeur"] = np.nan
    ind = ind.sort_values(["niveau", "code_territoire", "indicateur", "annee"], kind="stable")
    if ind.duplicated(["niveau", "code_territoire", "indicateur", "annee"]).any():
        raise DataError(
            "dictionnaire des variables : deux variables donnent le même indicateur la même année"
        )
    return ind


def _catalogue(variables: list[str], code_ind: dict[str, str], dico: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator written: the project's own wording for a mapped variable (same
    meaning), the dictionary's otherwise; the source is always the dictionary's."""
    projet = {e["indicateur"]: e for e in schema.CATALOGUE_INDICATEURS}
    cat_rows: list[dict] = []
    for v in variables:
        code = code_ind[v]
        if any(r["indicateur"] == code for r in cat_rows):
            continue
        base = projet.get(code) if dico.loc[v, "indicateur_projet"] else None
        e = (
            dict(base)
            if base
            else {k: dico.loc[v, k] for k in ("libelle", "unite", "sens", "theme", "definition")}
        )
        e["indicateur"] = code
        e["source"] = dico.loc[v, "source"]
        if not base:
            e["definition"] = f"{e['definition']} Variable INSEE « {v} »."
        cat_rows.append(e)
    return pd.DataFrame(cat_rows)[list(schema.TABLES["catalogue_indicateurs"].column_names)]


def importer(
    fichier: Path,
    contours: Path,
    out: Path,
    communes: Path | None = None,
    epci: Path | None = None,
    vides: str = "secret",
    annees: list[str] | tuple[str, ...] = (),
    force: bool = False,
) -> Resultat:
    """Import the INSEE QPV file and its contours into the data folder `out` (atomic)."""
    t0 = time.perf_counter()
    if vides not in ("secret", "manquant"):
        raise DataError(f"option --vides « {vides} » : secret ou manquant attendu")
    fichier, contours = Path(fichier), Path(contours)
    common.verifier_entrees([fichier, contours, communes, epci], out)
    rapport = common.RapportImport(IMPORTEUR)
    dico = charger_dictionnaire()
    familles, fixees = annees_retenues(dico, list(annees))

    ident, nums, secret, blank, variables = _lire_qpv(fichier, dico, rapport)
    cont, n_repares, _ = _lire_contours(contours, rapport)
    com_layer = _lire_communes(Path(communes)) if communes else None
    comp = geo.lire_composition_epci(Path(epci)) if epci else None

    # Names → commune codes, from every file that pairs them.
    noms_connus: dict[str, str] = {}
    repertoire: dict[str, set[str]] = {}

    def connaitre(code: str, nom: str) -> None:
        if not nom:
            return
        noms_connus.setdefault(code, nom)
        repertoire.setdefault(geo.normaliser_nom(nom), set()).add(code)

    if com_layer is not None:
        for c, n in zip(com_layer["code_commune"], com_layer["nom"], strict=True):
            connaitre(c, n)
    for c, n in zip(cont["code_commune"], cont["commune"], strict=True):
        connaitre(c, n)
    if comp is not None:
        for c, n in zip(comp["code_commune"], comp["nom"], strict=True):
            connaitre(c, n)

    # Main commune of each QPV: its contour's; without a contour, its first name if it is known.
    principale = cont.set_index("code_quartier")["code_commune"]
    noms_contours = cont.set_index("code_quartier")["communes"]
    liens, perdus_tout = [], []
    problems = []
    for ligne, q, noms_txt in zip(ident.index, ident["code_quartier"], ident["noms_communes"], strict=True):
        txt = noms_txt or (noms_contours.get(q, "") if q in noms_contours.index else "")
        noms = [n.strip() for n in str(txt).split(",") if n.strip()]
        if q in principale.index:
            main = principale[q]
        else:
            found = sorted(repertoire.get(geo.normaliser_nom(noms[0]), set())) if noms else []
            if len(found) != 1:
                problems.append(
                    Problem(
                        fichier.name,
                        int(ligne),
                        "nom_commune",
                        txt,
                        "commune introuvable",
                        f"le quartier {q} n'a pas de contour et sa commune n'est trouvée dans aucun fichier "
                        "(contours, --communes, --epci) : ajoutez son contour ou le fichier des communes",
                    )
                )
                continue
            main = found[0]
        # One commune named: the contour's code is the commune (no homonym can be picked).
        codes, perdus = (
            ([main], []) if len(noms) <= 1 else _apparier(noms, main, repertoire, geo.departement(main))
        )
        perdus_tout += [f"{n} ({q})" for n in perdus]
        liens += [(q, c, c == main, len(noms)) for c in codes]
    if problems:
        raise DataError(problems)
    qc = pd.DataFrame(liens, columns=["code_quartier", "code_commune", "principale", "n_noms"])

    # --- communes ---------------------------------------------------------------------------------
    codes_com = list(dict.fromkeys(qc["code_commune"]))
    deps = {c: geo.departement(c) for c in codes_com}
    sans_departement = [c for c in codes_com if deps[c] is None]
    if sans_departement:
        raise DataError(
            f"code commune sans département connu : {', '.join(sans_departement)} (la région est déduite "
            "du département, table des 101 départements)"
        )
    # Saint-Martin (978) and Saint-Barthélemy (977) have QPV but belong to no region: « inconnu ».
    sans_region = [c for c in codes_com if geo.region(deps[c]) is None]
    if sans_region:
        rapport.avertir(
            f"{fr.pluriel(len(sans_region), 'commune', 'communes')} hors des 101 départements des régions "
            f"({', '.join(sans_region)}) : région « inconnu », sans comparaison régionale"
        )
    epci_de = comp.set_index("code_commune")["code_epci"] if comp is not None else pd.Series(dtype=object)
    epci_de = epci_de[~epci_de.index.duplicated()]
    # pop_com is the commune's population only where the QPV lies in one commune.
    # (no name at all: the number of communes is unknown, so is the population)
    une_commune = qc.groupby("code_quartier")["n_noms"].first().eq(1)
    par_code = ident.reset_index().set_index("code_quartier")
    pop_com = {}
    conflits = set()
    niveau_commune = [v for v in variables if dico.loc[v, "niveau"] == "commune"]
    valeurs_commune: dict[tuple[str, str], tuple[float, bool]] = {}
    for q, single in une_commune.items():
        if not single:
            continue
        ligne = par_code.loc[q, "ligne"]
        c = (
            principale.get(q)
            if q in principale.index
            else qc.loc[qc.code_quartier == q, "code_commune"].iloc[0]
        )
        for v in niveau_commune:
            val = nums.at[ligne, v]
            sec = bool(secret.at[ligne, v]) or (bool(blank.at[ligne, v]) and vides == "secret")
            if pd.isna(val) and not sec:
                continue
            key = (c, v)
            old = valeurs_commune.get(key)
            # Two quartiers of one commune giving two different figures: neither is kept. A
            # value known on one quartier's row and blank on another's is kept.
            if old is not None and pd.notna(old[0]) and pd.notna(val) and old[0] != val:
                conflits.add(key)
            if old is None or pd.isna(old[0]):
                valeurs_commune[key] = (val, sec)
    for c, v in conflits:
        rapport.avertir(
            f"{fichier.name} : colonne {v}, commune {c} : valeurs différentes selon les quartiers ; "
            "valeur non retenue"
        )
        valeurs_commune.pop((c, v), None)
    if "pop_com" in niveau_commune:
        pop_com = {c: val for (c, v), (val, _) in valeurs_commune.items() if v == "pop_com" and pd.notna(val)}
    communes_df = pd.DataFrame(
        {
            "code_commune": codes_com,
            "nom": [noms_connus.get(c, "") for c in codes_com],
            "code_epci": [
                epci_de.get(c) if comp is not None and pd.notna(epci_de.get(c)) else common.INCONNU
                for c in codes_com
            ],
            "code_departement": [deps[c] for c in codes_com],
            "code_region": [geo.region(deps[c]) or common.INCONNU for c in codes_com],
            "population": [int(pop_com[c]) if c in pop_com else common.INCONNU for c in codes_com],
            "structure_pilotage": common.INCONNU,
            "signataire_cucs": common.INCONNU,
            "population_unite_urbaine": common.INCONNU,
            "revenu_median_uu": common.INCONNU,
        }
    ).sort_values("code_commune", kind="stable")
    sans_nom = communes_df.loc[communes_df["nom"] == "", "code_commune"].tolist()
    if sans_nom:
        raise DataError(f"commune sans nom dans les fichiers fournis : {', '.join(sans_nom)}")
    if comp is not None:
        hors = [c for c in codes_com if c not in epci_de.index]
        if hors:
            rapport.avertir(
                f"{Path(epci).name} : {fr.pluriel(len(hors), 'commune absente', 'communes absentes')} de la "
                f"composition des EPCI (EPCI inconnu) : {', '.join(hors)}"
            )

    # --- quartiers ----------------------------------------------------------------------------
    gen = ident["code_quartier"].str[:2]
    main_of = qc[qc["principale"]].set_index("code_quartier")["code_commune"]
    quartiers_df = pd.DataFrame(
        {
            "code_quartier": ident["code_quartier"].to_numpy(),
            "nom": ident["nom"].to_numpy(),
            "code_commune": ident["code_quartier"].map(main_of).to_numpy(),
            "categorie_cucs": common.INCONNU,
            "zus": common.INCONNU,
            "qpv_2015": np.where(gen == "QP", "oui", common.INCONNU),
            "qpv_2024": np.where(gen == "QN", "oui", common.INCONNU),
            "veille": "non",
        }
    ).sort_values("code_quartier", kind="stable")
    qc_out = qc[["code_quartier", "code_commune", "principale"]].sort_values(
        ["code_quartier", "principale", "code_commune"], ascending=[True, False, True], kind="stable"
    )

    # --- indicateurs (long) and catalogue -----------------------------------------------------------
    code_ind = {v: (dico.loc[v, "indicateur_projet"] or v) for v in variables}
    ind = _indicateurs(
        ident, nums, secret, blank, variables, dico, code_ind, familles, vides, valeurs_commune
    )
    catalogue = _catalogue(variables, code_ind, dico)

    # --- geometry ---------------------------------------------------------------------------------
    import geopandas as gpd

    connus = set(ident["code_quartier"])
    orphelins = sorted(set(cont["code_quartier"]) - connus)
    if orphelins:
        rapport.avertir(
            f"{contours.name} : {fr.pluriel(len(orphelins), 'contour')} sans ligne dans {fichier.name}, "
            f"non repris : {', '.join(orphelins)}"
        )
    gq = cont[cont["code_quartier"].isin(connus)].copy()
    gq = gq.merge(quartiers_df[["code_quartier", "nom"]], on="code_quartier", how="left")
    gq = gpd.GeoDataFrame(
        gq[["code_quartier", "nom", "code_commune"]], geometry=gq.geometry.values, crs=cont.crs
    )
    gq = gq[~(gq.geometry.isna() | gq.geometry.is_empty)]
    gq = geo.vers_lambert93(gq).sort_values("code_quartier", kind="stable")
    sans_forme_tout = sorted(connus - set(gq["code_quartier"]))
    if sans_forme_tout:
        rapport.avertir(
            f"{fr.pluriel(len(sans_forme_tout), 'quartier')} sans contour (absent ou vide dans "
            f"{contours.name}) : {', '.join(sans_forme_tout)}"
        )
    if n_repares:
        rapport.avertir(
            f"{contours.name} : {fr.pluriel(n_repares, 'contour invalide réparé', 'contours invalides réparés')} "
            f"(polygones qui se recoupent) : {', '.join(rapport.details['contours_repares'])}"
        )
    gc = None
    n_com_repares = 0
    if com_layer is not None:
        keep = com_layer["code_commune"].isin(set(communes_df["code_commune"]))
        gc = com_layer[keep].drop_duplicates("code_commune")
        gc, inval = geo.reparer(gc)
        n_com_repares = int(inval.sum())
        gc = geo.vers_lambert93(gc[["code_commune", gc.geometry.name]])
        gc = gc.merge(communes_df[["code_commune", "nom"]], on="code_commune")[
            ["code_commune", "nom", "geometry"]
        ]
        gc = gpd.GeoDataFrame(gc, geometry="geometry", crs=geo.LAMBERT93).sort_values("code_commune")
        sans = sorted(set(communes_df["code_commune"]) - set(gc["code_commune"]))
        if sans:
            rapport.avertir(
                f"{Path(communes).name} : {fr.pluriel(len(sans), 'commune')} sans contour : {', '.join(sans)}"
            )
        if (~keep).any():
            rapport.details["communes_sans_quartier_non_reprises"] = int((~keep).sum())
    if perdus_tout:
        rapport.avertir(
            f"{fr.pluriel(len(perdus_tout), 'nom de commune non trouvé', 'noms de commune non trouvés')} "
            f"dans les fichiers fournis (contours, --communes, --epci) : {', '.join(perdus_tout)} ; "
            "ajoutez --epci (composition communale des EPCI) ou --communes pour les relier"
        )

    # --- years --------------------------------------------------------------------------------
    used = ind.groupby(ind["variable"].map(dico["famille"]))["annee"].first().to_dict()
    non_fixees = {f: a for f, a in used.items() if f not in fixees}
    if non_fixees:
        rapport.avertir(
            f"le fichier ne contient pas d'année : années de référence retenues d'après le dictionnaire des "
            f"variables INSEE : {', '.join(f'{f} {a}' for f, a in sorted(non_fixees.items()))} ; vérifiez-les "
            "et corrigez-les au besoin avec --annee famille=AAAA"
        )
    annees_utilisees = sorted(set(ind["annee"].astype(int)))

    # --- report and writing ----------------------------------------------------------------------
    n_val, n_sec = len(ind), int(ind["secret"].sum())
    n_blank = int(blank.to_numpy().sum())
    rapport.compter("quartiers", len(quartiers_df))
    rapport.compter("communes", len(communes_df))
    rapport.compter("valeurs", n_val)
    rapport.compter("valeurs_secretes", n_sec)
    rapport.compter("cellules_vides", n_blank)
    rapport.compter("contours_repares", n_repares)
    rapport.compter("contours_communes_repares", n_com_repares)
    rapport.compter("quartiers_sans_contour", len(sans_forme_tout))
    rapport.compter(
        "quartiers_plusieurs_communes", int((qc.groupby("code_quartier")["n_noms"].first() > 1).sum())
    )
    rapport.details["vides"] = vides
    rapport.details["annees_familles"] = {f: int(a) for f, a in used.items()}
    rapport.details["annees_fixees_par_option"] = sorted(fixees)
    rapport.details["noms_non_trouves"] = perdus_tout
    rapport.details["quartiers_sans_contour"] = sans_forme_tout

    tables = {
        "communes": communes_df,
        "quartiers": quartiers_df,
        "quartiers_communes": qc_out,
        "indicateurs": ind.drop(columns="variable"),
        "catalogue_indicateurs": catalogue,
    }
    fichiers = list(FICHIERS_ECRITS) + (["communes"] if gc is not None else [])
    with common.dossier_sortie(out, fichiers, force=force) as tmp:
        for nom, df in tables.items():
            common.avertir_formules(rapport, nom, df)
            common.ecrire_table(tmp, nom, df)
        common.ecrire_geojson(tmp, "quartiers", gq)
        if gc is not None:
            common.ecrire_geojson(tmp, "communes", gc)
        sources = [
            {
                "fichier": fichier.name,
                "source": "INSEE, données des quartiers de la politique de la ville (fichier à 44 colonnes)",
                "annees": annees_utilisees,
            },
            {"fichier": contours.name, "source": "Contours des quartiers prioritaires (ANCT, data.gouv.fr)"},
        ]
        if communes:
            sources.append({"fichier": Path(communes).name, "source": "Contours des communes"})
        if epci:
            sources.append({"fichier": Path(epci).name, "source": "INSEE, composition communale des EPCI"})
        extra = {}
        if "revenus" in used:
            extra["annee_revenus_qpv"] = int(used["revenus"])
        common.fusionner_metadonnees(
            tmp,
            nom="Quartiers prioritaires de la politique de la ville (données INSEE)",
            description=(
                f"Indicateurs INSEE des quartiers prioritaires ({fichier.name}) et leurs contours "
                f"({contours.name}), importés par « cucs import insee-qpv ». Le fichier de l'INSEE ne "
                "contient pas d'année : chaque famille de variables a reçu son année de référence "
                f"({', '.join(f'{f} {a}' for f, a in sorted(used.items()))}). Catégorie CUCS, signature "
                "du contrat, structure de pilotage et ZUS n'y figurent pas : elles sont « inconnu »."
            ),
            annees=annees_utilisees,
            sources=sources,
            rapport=rapport,
            extra=extra,
        )
    parts = [
        fr.pluriel(len(quartiers_df), "quartier"),
        fr.pluriel(len(communes_df), "commune"),
        f"{fr.pluriel(n_val, 'valeur')} d'indicateurs dont {fr.nombre(n_sec)} "
        f"{'secrète' if n_sec < 2 else 'secrètes'}",
    ]
    resume = f"Import INSEE des quartiers prioritaires : {', '.join(parts)} ; " + (
        f"{fr.pluriel(n_repares, 'contour réparé', 'contours réparés')}, "
        f"{fr.pluriel(len(sans_forme_tout), 'quartier')} sans contour, "
        f"{fr.pluriel(len(perdus_tout), 'nom de commune non trouvé', 'noms de commune non trouvés')}."
    )
    return Resultat(Path(out), rapport, resume, tables, time.perf_counter() - t0)
