"""Ci.Ville / programme 147 funded posts (adultes-relais, FONJEP) → financements, actions, operateurs.

The ANCT publishes, per year, the posts the State funds under programme 147 (« politique de
la ville »): one record per post × year with `id_poste, code_tiers, raison_sociale, annee,
montant, code_cv, insee_dep, insee_reg` (JSON list of records, or a CSV export).

Decisions (stated in the import report and docs):
- the dispositif comes from a record's `dispositif` field when present, else from the file
  name (« adulte… »/« relais » → adultes-relais, « fonjep » → FONJEP), else from the shape of
  every id of the file (adultes-relais `01319R051500`, FONJEP `D01688`); otherwise an error;
- a post-year (dispositif × id_poste × annee) is kept ONCE: the first record in the order of
  the files given, then of the records; exact copies and differing records (another SIRET of
  the same employer, in the real files) are counted apart; differing amounts are a warning
  naming the post, the amounts kept and dropped;
- a glued contract code (`CV380CV384`) is split; the post stays one action, attached to the
  territory of the first contract (the others are listed in the report): never counted twice;
- the source holds the State's share only: metadonnees.yaml gets `financements_perimetre:
  etat_seul`;
- an operator is its SIRET (`siret:<14 chiffres>`) when `code_tiers` has that shape, else
  its normalised name (`nom:<NOM>`; FONJEP `code_tiers` are names). Two establishments of one
  SIREN stay two operators (the report counts such SIREN);
- filters (`--region`, `--departement`) keep a record whose `insee_reg` / `insee_dep` is
  listed; a record without them is dropped from a filtered import and counted.
"""

from __future__ import annotations

import json
import math
import re
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cucs_analysis.data import schema
from cucs_analysis.data.errors import DataError, Problem
from cucs_analysis.data.imports import common

# The one French formatter (the documented exception to the layering, see data/errors.py).
from cucs_analysis.present import text as fr

IMPORTEUR = "civille"
ADULTES_RELAIS = "adultes-relais"
FONJEP = "FONJEP"
FINANCEUR = {
    ADULTES_RELAIS: "État – programme 147 (adultes-relais)",
    FONJEP: "État – programme 147 (FONJEP)",
}
PREFIXE_ACTION = {ADULTES_RELAIS: "AR", FONJEP: "FONJEP"}
INTITULE = {ADULTES_RELAIS: "Poste d'adulte-relais n° {}", FONJEP: "Poste FONJEP n° {}"}
SOURCE = {
    ADULTES_RELAIS: "ANCT, Ci.Ville : postes d'adultes-relais financés (programme 147)",
    FONJEP: "ANCT, Ci.Ville : postes FONJEP financés (programme 147)",
}
CHAMPS = ("id_poste", "code_tiers", "raison_sociale", "annee", "montant", "code_cv", "insee_dep", "insee_reg")
OBLIGATOIRES = ("id_poste", "annee", "montant")
TABLES_ECRITES = ("actions", "financements", "operateurs")

#: Shapes of the post ids (every id of a file must match one to decide its dispositif).
ID_ADULTES_RELAIS = re.compile(r"^\d{2}[0-9A-Z]\d{2}R[A-Z]?\d{5,6}$")
ID_FONJEP = re.compile(r"^[A-Z]{1,2}\d{4,5}$")
NOM_CONTRATS = "geom_cv_ctr.json"  # the contracts file of Ci.Ville, looked for beside the posts
CODE_CONTRAT = re.compile(r"CV\d+")
SIRET = re.compile(r"^\d{14}$")
ANNEE_MIN, ANNEE_MAX = 1990, 2035  # the bounds of schema's `annee` columns
MAX_PROBLEMES = 20  # listed per file; the rest summed up in one entry
MAX_DIVERGENCES = 10  # post-years with differing amounts listed one by one


@dataclass(frozen=True)
class Poste:
    """One record read and checked (a post funded for one year)."""

    dispositif: str
    id_poste: str
    annee: int
    montant: float
    code_tiers: str | None
    raison_sociale: str | None
    contrats: tuple[str, ...]
    code_cv: str | None  # as in the file (glued codes included)
    insee_dep: str | None
    insee_reg: str | None
    fichier: str
    numero: int  # record number (JSON, from 1) or physical line (CSV)

    def cle(self) -> tuple[str, str, int]:
        return (self.dispositif, self.id_poste, self.annee)

    def contenu(self) -> tuple:
        """Every field of the record (exact duplicates compare equal)."""
        return (
            self.id_poste,
            self.code_tiers,
            self.raison_sociale,
            self.annee,
            self.montant,
            self.code_cv,
            self.insee_dep,
            self.insee_reg,
        )


@dataclass
class Contrat:
    code_cv: str
    codgeo: str
    libelle: str | None
    insee_dep: str | None


@dataclass
class BilanFichier:
    """What happened to one input file (goes to the import report)."""

    fichier: str
    format: str
    dispositif: str = ""
    dispositif_selon: str = ""
    lus: int = 0
    hors_filtre: int = 0
    sans_region: int = 0  # dropped by a filter: region / département unknown
    sans_territoire: int = 0  # no contract territory: set aside (not an action)
    doublons_exacts: int = 0
    doublons_differents: int = 0
    montants_divergents: int = 0
    codes_colles: int = 0
    gardes: int = 0
    annees: list[int] = field(default_factory=list)
    montant_garde: float = 0.0

    @property
    def doublons(self) -> int:
        return self.doublons_exacts + self.doublons_differents

    def as_dict(self) -> dict:
        return {
            "dispositif": self.dispositif,
            "dispositif_selon": self.dispositif_selon,
            "format": self.format,
            "enregistrements_lus": self.lus,
            "hors_filtre": self.hors_filtre,
            "sans_region_ou_departement_ecartes": self.sans_region,
            "sans_territoire_non_importes": self.sans_territoire,
            "doublons_retires": self.doublons,
            "doublons_exacts": self.doublons_exacts,
            "doublons_poste_annee_differents": self.doublons_differents,
            "montants_divergents": self.montants_divergents,
            "codes_contrat_colles_separes": self.codes_colles,
            "postes_annees_gardes": self.gardes,
            "montant_garde": round(self.montant_garde, 2),
            "annees": self.annees,
        }


@dataclass
class ResultatCiville:
    """The tables built, the report, and the French summary printed by the CLI."""

    tables: dict[str, pd.DataFrame]
    rapport: common.RapportImport
    bilans: list[BilanFichier]
    annees: list[int]
    sources: list[dict]
    resume: str = ""
    duree_s: float = 0.0


# --- small parsers ------------------------------------------------------------------------------


class _Problemes:
    """Problems of one file, capped (the first MAX_PROBLEMES listed, the rest summed up)."""

    def __init__(self, fichier: str, json_records: bool):
        self.fichier = fichier
        self.json = json_records
        self.liste: list[Problem] = []
        self.autres = 0

    def ajouter(self, numero: int, champ: str | None, valeur: object, regle: str, message: str) -> None:
        if len(self.liste) >= MAX_PROBLEMES:
            self.autres += 1
            return
        shown = None if valeur is None else _montrer(valeur)
        if self.json:  # a JSON file is one line: the record number locates the problem
            self.liste.append(
                Problem(f"{self.fichier}, enregistrement n° {numero}", None, champ, shown, regle, message)
            )
        else:
            self.liste.append(Problem(self.fichier, numero, champ, shown, regle, message))

    def tous(self) -> list[Problem]:
        if self.autres:
            n = self.autres
            return [
                *self.liste,
                Problem(
                    self.fichier,
                    None,
                    None,
                    None,
                    "autres problèmes",
                    f"… et {fr.pluriel(n, 'autre problème', 'autres problèmes')} dans ce fichier",
                    autres=n,
                ),
            ]
        return self.liste


def _montrer(v: object) -> str:
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v
    return s if len(s) <= 60 else s[:57] + "…"


def _texte(v: object) -> str | None:
    """A field as a stripped string, None when absent or blank (numbers kept as digits)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    s = str(v).strip()
    return s or None


def _annee(v: object) -> int | None:
    """A year given as a number or a string ("2023", " 2023 ", 2023.0); None if not one."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if math.isfinite(v) and v.is_integer() else None
    s = str(v).strip()
    m = re.fullmatch(r"(\d{4})(?:[.,]0+)?", s)
    return int(m.group(1)) if m else None


def _montant(v: object) -> float | None:
    """An amount as a finite float ("19 875,06", "19875.06", 19875.06); None if not one."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        x = float(v)
        return x if math.isfinite(x) else None
    s = re.sub(r"[\s\u00a0\u202f€]", "", str(v))
    if "," in s:  # French decimal comma; dots are then thousands separators
        s = s.replace(".", "").replace(",", ".")
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)", s):
        return None
    x = float(s)
    return x if math.isfinite(x) else None


def _code_geo(v: object, largeur: int) -> str | None:
    """A département / région code as text ("1" → "01"; "2A", "971" kept)."""
    s = _texte(v)
    if s is None:
        return None
    return s.zfill(largeur) if s.isdigit() and len(s) < largeur else s.upper()


def nom_normalise(nom: str) -> str:
    """Upper case, accents dropped, punctuation and runs of spaces as one space."""
    s = unicodedata.normalize("NFKD", nom)
    s = "".join(c for c in s if not unicodedata.combining(c)).upper()
    return " ".join(re.sub(r"[^0-9A-Z]+", " ", s).split())


def _sans_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)).lower()


def _dispositif_valeur(v: object) -> str | None:
    s = _texte(v)
    if s is None:
        return None
    s = _sans_accents(s)
    if "fonjep" in s:
        return FONJEP
    if "adulte" in s or "relais" in s or s == "ar":
        return ADULTES_RELAIS
    return ""  # present but not understood


def _dispositif_du_nom(path: Path) -> str | None:
    nom = _sans_accents(path.stem)
    fonjep = "fonjep" in nom
    ar = "adulte" in nom or "relais" in nom
    if fonjep == ar:
        return None
    return FONJEP if fonjep else ADULTES_RELAIS


# --- reading ------------------------------------------------------------------------------------


def lire_enregistrements(path: Path) -> tuple[list[tuple[int, dict]], str]:
    """The records of a file as (number, dict): JSON list (number from 1) or CSV (line number).

    Raises DataError (French, file and line) when the file cannot be read at all.
    """
    ext = path.suffix.lower()
    if ext == ".json":
        raw = path.read_bytes()
        try:
            texte = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise common.erreur(
                path, "fichier illisible", "le fichier JSON n'est pas encodé en UTF-8"
            ) from None
        if not texte.strip():
            raise common.erreur(path, "fichier vide", "le fichier est vide")

        def _refuse(constante: str):  # NaN, Infinity: not JSON numbers
            raise ValueError(constante)

        try:
            data = json.loads(texte, parse_constant=_refuse)
        except json.JSONDecodeError as exc:
            raise common.erreur(
                path,
                "JSON mal formé",
                f"JSON mal formé près du caractère {fr.nombre(exc.colno)} de la ligne "
                f"(virgule, guillemet, accolade ou crochet manquant ou en trop)",
                ligne=exc.lineno,
            ) from None
        except (ValueError, RecursionError) as exc:
            raise common.erreur(
                path,
                "JSON mal formé",
                f"valeur non admise en JSON ({_montrer(str(exc))}) : un nombre fini est attendu",
            ) from None
        if isinstance(data, dict):  # {"records": [...]} or {"data": [...]}: one list inside
            listes = [v for v in data.values() if isinstance(v, list)]
            if len(listes) == 1:
                data = listes[0]
        if not isinstance(data, list):
            raise common.erreur(
                path,
                "liste d'enregistrements",
                "le fichier JSON doit contenir une liste d'enregistrements [{…}, {…}] "
                "(un enregistrement par poste et par année)",
            )
        return list(enumerate(data, start=1)), "JSON"
    if ext in (".csv", ".txt", ".xlsx", ".xlsm"):
        df = common.lire_brut(path)
        manquantes = [c for c in OBLIGATOIRES if c not in df.columns]
        if manquantes:
            raise DataError(
                [
                    Problem(
                        path.name,
                        int(df.index.min()) - 1 if len(df) else 1,
                        c,
                        None,
                        "colonne manquante",
                        f"colonne obligatoire absente de l'en-tête (attendu : {', '.join(CHAMPS)})",
                    )
                    for c in manquantes
                ]
            )
        cols = [c for c in CHAMPS if c in df.columns] + (["dispositif"] if "dispositif" in df.columns else [])
        records = df[cols].to_dict("records")
        fmt = "Excel" if ext in (".xlsx", ".xlsm") else "CSV"
        return [
            (int(n), {k: (v if v != "" else None) for k, v in r.items()})
            for n, r in zip(df.index, records, strict=True)
        ], fmt
    raise common.erreur(
        path,
        "format de fichier",
        f"format « {path.suffix or 'sans extension'} » non reconnu : un fichier .json (liste "
        "d'enregistrements) ou .csv est attendu",
    )


def lire_postes(path: Path, nom: str | None = None) -> tuple[list[Poste], BilanFichier]:
    """The checked records of one file; DataError listing every bad record (capped)."""
    enregistrements, fmt = lire_enregistrements(path)
    nom = nom or path.name  # the file as named in messages and in the report
    bilan = BilanFichier(nom, fmt, lus=len(enregistrements))
    pb = _Problemes(nom, fmt == "JSON")
    if not enregistrements:
        raise common.erreur(path, "fichier vide", "le fichier ne contient aucun enregistrement")

    # The file's dispositif: its name, else the shape of every id.
    disp_fichier = _dispositif_du_nom(path)
    selon = "nom du fichier"
    if disp_fichier is None:
        ids = [_texte(r.get("id_poste")) for _, r in enregistrements if isinstance(r, dict)]
        ids = [i for i in ids if i]
        if ids and all(ID_ADULTES_RELAIS.match(i) for i in ids):
            disp_fichier, selon = ADULTES_RELAIS, "forme des identifiants de poste"
        elif ids and all(ID_FONJEP.match(i) for i in ids):
            disp_fichier, selon = FONJEP, "forme des identifiants de poste"

    postes: list[Poste] = []
    champ_dispositif = False
    for numero, r in enregistrements:
        if not isinstance(r, dict):
            pb.ajouter(
                numero,
                None,
                r,
                "enregistrement",
                "l'enregistrement doit être un objet {« id_poste »: …, « annee »: …, « montant »: …}",
            )
            continue
        ok = True
        for c in OBLIGATOIRES:
            if _texte(r.get(c)) is None:
                pb.ajouter(numero, c, None, "champ obligatoire", "champ obligatoire absent ou vide")
                ok = False
        if not ok:
            continue
        annee = _annee(r["annee"])
        if annee is None:
            pb.ajouter(
                numero,
                "annee",
                r["annee"],
                "année numérique",
                "l'année doit être un nombre entier (ex. 2023)",
            )
            ok = False
        elif not ANNEE_MIN <= annee <= ANNEE_MAX:
            pb.ajouter(
                numero,
                "annee",
                r["annee"],
                "année plausible",
                f"l'année doit être comprise entre {fr.annee(ANNEE_MIN)} et {fr.annee(ANNEE_MAX)}",
            )
            ok = False
        montant = _montant(r["montant"])
        if montant is None:
            pb.ajouter(
                numero,
                "montant",
                r["montant"],
                "montant numérique",
                "le montant doit être un nombre en euros (ex. 19875.06 ou 19 875,06)",
            )
            ok = False
        elif montant < 0:
            pb.ajouter(
                numero, "montant", r["montant"], "montant positif", "le montant ne peut pas être négatif"
            )
            ok = False
        elif montant > schema.MAX_MONTANT:
            pb.ajouter(
                numero,
                "montant",
                r["montant"],
                "valeur invraisemblable",
                f"montant invraisemblable (plus de {fr.euros(schema.MAX_MONTANT)}) : séparateur décimal mal lu ?",
            )
            ok = False
        tiers, raison = _texte(r.get("code_tiers")), _texte(r.get("raison_sociale"))
        if tiers is None and raison is None:
            pb.ajouter(
                numero,
                "code_tiers",
                None,
                "champ obligatoire",
                "ni « code_tiers » ni « raison_sociale » : l'employeur du poste est inconnu",
            )
            ok = False
        disp = disp_fichier
        if "dispositif" in r and _texte(r.get("dispositif")) is not None:
            champ_dispositif = True
            disp = _dispositif_valeur(r["dispositif"])
            if not disp:
                pb.ajouter(
                    numero,
                    "dispositif",
                    r["dispositif"],
                    "valeurs admises",
                    "dispositif non reconnu : « adultes-relais » ou « FONJEP » attendu",
                )
                ok = False
        if disp is None:
            pb.ajouter(
                numero,
                "id_poste",
                r.get("id_poste"),
                "dispositif",
                "dispositif indéterminé : ni le nom du fichier (« adulte-relais… », « postes-fonjep… ») "
                "ni la forme des identifiants de poste ne le disent ; renommez le fichier ou ajoutez "
                "un champ « dispositif »",
            )
            ok = False
        if not ok:
            continue
        code_cv = _texte(r.get("code_cv"))
        contrats = tuple(CODE_CONTRAT.findall(code_cv.upper())) if code_cv else ()
        if code_cv and not contrats:
            contrats = (code_cv,)  # another shape: kept as is (looked up as is in --contrats)
        postes.append(
            Poste(
                dispositif=disp,
                id_poste=str(_texte(r["id_poste"])),
                annee=annee,
                montant=montant,
                code_tiers=tiers,
                raison_sociale=raison,
                contrats=contrats,
                code_cv=code_cv,
                insee_dep=_code_geo(r.get("insee_dep"), 2),
                insee_reg=_code_geo(r.get("insee_reg"), 2),
                fichier=nom,
                numero=numero,
            )
        )
    if pb.liste:
        raise DataError(pb.tous())
    dispositifs = sorted({p.dispositif for p in postes})
    bilan.dispositif = " et ".join(dispositifs)
    bilan.dispositif_selon = "champ « dispositif »" if champ_dispositif else selon
    return postes, bilan


def lire_contrats(path: Path) -> dict[str, Contrat]:
    """geom_cv_ctr.json (GeoJSON of the contracts' centroids: codgeo, code_cv…) or a CSV
    with `code_cv` and `codgeo` columns → code_cv → Contrat."""
    if path.suffix.lower() in (".json", ".geojson"):
        try:
            data = json.loads(path.read_bytes().decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            ligne = getattr(exc, "lineno", None)
            raise common.erreur(
                path,
                "JSON mal formé",
                "fichier des contrats de ville illisible (JSON mal formé)",
                ligne=ligne,
            ) from None
        feats = data.get("features") if isinstance(data, dict) else data
        if not isinstance(feats, list):
            raise common.erreur(
                path,
                "contrats de ville",
                "une collection GeoJSON (features) ou une liste d'enregistrements est attendue",
            )
        lignes = [
            (i, (f.get("properties") if isinstance(f, dict) and "properties" in f else f))
            for i, f in enumerate(feats, start=1)
        ]
        ou = "entité"
    else:
        df = common.lire_brut(path)
        lignes = [(int(n), r) for n, r in zip(df.index, df.to_dict("records"), strict=True)]
        ou = "ligne"
    out: dict[str, Contrat] = {}
    problems: list[Problem] = []
    for i, p in lignes:
        lieu = f"{path.name}, {ou} n° {i}" if ou == "entité" else path.name
        ligne = None if ou == "entité" else i
        if not isinstance(p, dict):
            problems.append(Problem(lieu, ligne, None, None, "contrats de ville", "propriétés absentes"))
            continue
        code, codgeo = _texte(p.get("code_cv")), _texte(p.get("codgeo"))
        if code is None or codgeo is None:
            champ = "code_cv" if code is None else "codgeo"
            problems.append(
                Problem(lieu, ligne, champ, None, "champ obligatoire", "champ obligatoire absent ou vide")
            )
            continue
        if not re.fullmatch(r"\d{9}|\d{5}|2[AB]\d{3}", codgeo):
            problems.append(
                Problem(
                    lieu,
                    ligne,
                    "codgeo",
                    codgeo,
                    "forme du code",
                    "codgeo doit être un SIREN d'EPCI (9 chiffres) ou un code commune (5 caractères)",
                )
            )
            continue
        code = code.upper()
        if code not in out:  # a contract over two départements appears twice with one codgeo
            out[code] = Contrat(code, codgeo, _texte(p.get("lib_cv")), _code_geo(p.get("insee_dep"), 2))
        elif out[code].codgeo != codgeo:
            problems.append(
                Problem(
                    lieu,
                    ligne,
                    "codgeo",
                    codgeo,
                    "contrat ambigu",
                    f"le contrat {code} a déjà le territoire {out[code].codgeo} : un seul territoire par contrat",
                )
            )
        if len(problems) >= MAX_PROBLEMES:
            break
    if problems:
        raise DataError(problems)
    if not out:
        raise common.erreur(path, "contrats de ville", "aucun contrat de ville dans le fichier")
    return out


# --- building the tables -------------------------------------------------------------------------


def _territoire(
    contrats: tuple[str, ...], table: dict[str, Contrat] | None
) -> tuple[str | None, str | None, bool]:
    """(code_epci, code_commune, ambiguous) of a post from its contract codes: the first
    contract's codgeo (an EPCI SIREN, or a commune code for a commune-level contract)."""
    if not contrats or table is None:
        return None, None, False
    geos = [table[c].codgeo for c in contrats if c in table]
    if not geos or contrats[0] not in table:
        return None, None, False
    g = table[contrats[0]].codgeo
    ambigu = len(set(geos)) > 1 or len(geos) < len(contrats)
    return (g, None, ambigu) if len(g) == 9 else (None, g, ambigu)


def construire(
    fichiers: Sequence[str | Path],
    contrats: str | Path | None = None,
    regions: Iterable[str] = (),
    departements: Iterable[str] = (),
) -> ResultatCiville:
    """Read, check, filter and de-duplicate the files; build the three tables (no writing)."""
    t0 = time.perf_counter()
    regions = _codes_filtre(regions, 2, schema.PATTERN_REGION, "--region", "76")
    departements = _codes_filtre(departements, 2, schema.PATTERN_DEPARTEMENT, "--departement", "31")
    contrats_path = trouver_contrats(fichiers, contrats)
    table_contrats = lire_contrats(contrats_path)
    rapport = common.RapportImport(IMPORTEUR)

    problems: list[Problem] = []
    lus: list[tuple[list[Poste], BilanFichier]] = []
    # Files named by their name, or by their path when two share a name (2020/postes.json…).
    chemins = [Path(f) for f in fichiers]
    if len({p.resolve() for p in chemins}) < len(chemins):
        double = next(p for p in chemins if sum(q.resolve() == p.resolve() for q in chemins) > 1)
        raise common.erreur(
            double, "fichier en double", "ce fichier est donné deux fois : donnez-le une seule fois"
        )
    homonymes = Counter(p.name for p in chemins)
    noms = {p.resolve(): (p.name if homonymes[p.name] == 1 else str(p)) for p in chemins}
    for f in fichiers:
        try:
            lus.append(lire_postes(Path(f), noms[Path(f).resolve()]))
        except DataError as exc:  # every file checked before stopping: one report
            problems += exc.problems
    if problems:
        raise DataError(problems)

    filtre = bool(regions or departements)
    gardes: dict[tuple, Poste] = {}
    divergences: list[str] = []
    n_divergences = 0
    montant_ecarte = 0.0
    for postes, bilan in lus:
        for p in postes:
            if filtre:
                if not ((p.insee_reg in regions) or (p.insee_dep in departements)):
                    # Unknown where a criterion needs it: not counted as outside the territory.
                    if (regions and p.insee_reg is None) or (departements and p.insee_dep is None):
                        bilan.sans_region += 1
                    else:
                        bilan.hors_filtre += 1
                    continue
            premier = gardes.get(p.cle())
            if premier is None:
                gardes[p.cle()] = p
                continue
            if premier.contenu() == p.contenu():
                bilan.doublons_exacts += 1
            else:
                bilan.doublons_differents += 1
            if premier.montant != p.montant:
                bilan.montants_divergents += 1
                n_divergences += 1
                montant_ecarte += p.montant
                if len(divergences) < MAX_DIVERGENCES:
                    divergences.append(
                        f"poste {p.id_poste} ({p.dispositif}, {fr.annee(p.annee)}) : montant gardé "
                        f"{fr.euros(premier.montant, 2)} ({premier.fichier}, {_lieu(premier)}), "
                        f"montant écarté {fr.euros(p.montant, 2)} ({p.fichier}, {_lieu(p)})"
                    )
    kept = list(gardes.values())
    if not kept:
        raise DataError(
            "Aucun poste à importer après le filtre : vérifiez les codes de --region / --departement "
            f"({', '.join([*regions, *departements])})."
            if filtre
            else "Aucun poste à importer."
        )

    # A post whose contract gives no territory cannot be an action (an action needs its
    # commune or its EPCI): set aside, counted and summed in the report, never dropped silently.
    territoires = {p.cle(): _territoire(p.contrats, table_contrats) for p in kept}
    ecrits = [p for p in kept if territoires[p.cle()][0] or territoires[p.cle()][1]]
    sans_territoire = [p for p in kept if not (territoires[p.cle()][0] or territoires[p.cle()][1])]
    par_fichier = {b.fichier: b for _, b in lus}
    for p in kept:
        b = par_fichier[p.fichier]
        b.gardes += 1
        if len(p.contrats) > 1:
            b.codes_colles += 1
    for p in ecrits:
        par_fichier[p.fichier].montant_garde += p.montant
    for p in sans_territoire:
        par_fichier[p.fichier].sans_territoire += 1
    for postes, b in lus:
        b.annees = sorted({p.annee for p in postes})
    if not ecrits:
        raise DataError(
            "Aucun poste n'a de territoire connu : le code de contrat de ville (code_cv) de chaque poste "
            "doit figurer dans le fichier des contrats (--contrats geom_cv_ctr.json)."
        )

    # Operators: SIRET or normalised name; the name of the latest year.
    ops: dict[str, dict] = {}
    employeur = {p.cle(): _operateur(p) for p in ecrits}
    for p in sorted(ecrits, key=lambda q: q.annee):
        ident, kind, nom = employeur[p.cle()]
        ops[ident] = {"id_operateur": ident, "nom": nom, "type_identifiant": kind}
    actions, financements = [], []
    colles: Counter = Counter()
    ambigus = 0
    for p in sorted(ecrits, key=lambda q: (q.dispositif, q.id_poste, q.annee)):
        epci, commune, ambigu = territoires[p.cle()]
        if len(p.contrats) > 1:
            colles[p.code_cv] += 1
        ambigus += ambigu
        id_action = f"{PREFIXE_ACTION[p.dispositif]}-{p.id_poste}"
        actions.append(
            {
                "id_action": id_action,
                "annee": p.annee,
                "intitule": INTITULE[p.dispositif].format(p.id_poste),
                "thematique": common.INCONNU,
                "dispositif": p.dispositif,
                "id_operateur": employeur[p.cle()][0],
                "code_commune": commune or common.INCONNU,
                "code_epci": epci,
                "code_quartier": None,
                "public_cible": common.INCONNU,
                "objectif": None,
                "beneficiaires_prevus": common.INCONNU,
                "beneficiaires_realises": None,
                "statut": common.INCONNU,
                "prioritaire": common.INCONNU,
                "proximite": common.INCONNU,
            }
        )
        financements.append(
            {
                "id_action": id_action,
                "annee": p.annee,
                "financeur": FINANCEUR[p.dispositif],
                "institution": "État",
                "type_credit": "specifique",
                "montant_demande": common.INCONNU,
                "montant_accorde": p.montant,
                "date_depot": None,
                "date_decision": None,
                "date_paiement": None,
            }
        )
    operateurs = pd.DataFrame(
        [
            {
                "id_operateur": o["id_operateur"],
                "nom": o["nom"],
                "statut_juridique": common.INCONNU,
                "budget_annuel": None,
                "salaries_etp": None,
                "echelle": common.INCONNU,
                "domaines": common.INCONNU,
                "annee_creation": common.INCONNU,
                "code_commune": common.INCONNU,
                "type_identifiant": o["type_identifiant"],
            }
            for o in sorted(ops.values(), key=lambda o: o["id_operateur"])
        ]
    )
    tables = {
        "actions": pd.DataFrame(actions),
        "financements": pd.DataFrame(financements),
        "operateurs": operateurs,
    }

    # The report: counts, warnings, details per file.
    sirets = [o for o in ops if o.startswith("siret:")]
    sirens = Counter(o[len("siret:") :][:9] for o in sirets)
    sirens_multiples = sum(1 for n in sirens.values() if n > 1)
    total_lus = sum(b.lus for _, b in lus)
    total_doublons = sum(b.doublons for _, b in lus)
    rapport.compter("fichiers", len(lus))
    rapport.compter("enregistrements_lus", total_lus)
    rapport.compter("hors_filtre", sum(b.hors_filtre for _, b in lus))
    rapport.compter("sans_region_ou_departement_ecartes", sum(b.sans_region for _, b in lus))
    rapport.compter("doublons_retires", total_doublons)
    rapport.compter("montants_divergents", n_divergences)
    rapport.compter("codes_contrat_colles_separes", sum(b.codes_colles for _, b in lus))
    rapport.compter("postes_annees", len(kept))
    rapport.compter("sans_territoire_non_importes", len(sans_territoire))
    rapport.compter("actions", len(actions))
    rapport.compter("financements", len(financements))
    rapport.compter("operateurs", len(ops))
    rapport.compter("operateurs_siret", len(sirets))
    rapport.compter("operateurs_nom", len(ops) - len(sirets))
    rapport.compter("siren_a_plusieurs_etablissements", sirens_multiples)
    rapport.details.update(
        {
            "contrats": {
                "fichier": contrats_path.name,
                "contrats": len(table_contrats),
                "trouve": not contrats,
            },
            "fichiers": {b.fichier: b.as_dict() for _, b in lus},
            "montants_par_annee_et_dispositif": _montants(ecrits),
            "montants_sans_territoire_non_importes": _montants(sans_territoire),
            "filtre": {"regions": list(regions), "departements": list(departements), "gardes": len(kept)}
            if filtre
            else None,
            "codes_contrat_colles": {
                code: {"contrats": CODE_CONTRAT.findall(code), "postes_annees": n}
                for code, n in sorted(colles.items())
            },
            "regles": [
                "un poste × année (dispositif, id_poste, annee) est gardé une fois : le premier enregistrement "
                "dans l'ordre des fichiers donnés ; les autres sont retirés et comptés",
                "un code de contrat collé (CV380CV384) est séparé ; le poste reste une seule action, "
                "rattachée au territoire du premier contrat",
                "un poste dont le contrat de ville n'a pas de territoire connu (code_cv absent, ou absent du "
                "fichier des contrats) n'est pas importé : il est compté et son montant est donné ici",
                "un opérateur est identifié par son SIRET quand code_tiers a 14 chiffres, sinon par son nom "
                "normalisé ; deux établissements d'un même SIREN restent deux opérateurs",
                "les montants sont la part de l'État (programme 147) : financements_perimetre etat_seul",
            ],
        }
    )
    for msg in divergences:
        rapport.avertir(f"doublon aux montants différents, {msg}")
    if n_divergences > len(divergences):
        rapport.avertir(
            f"… et {fr.pluriel(n_divergences - len(divergences), 'autre poste', 'autres postes')} × année aux montants "
            "différents (le premier enregistrement est gardé)"
        )
    if n_divergences:
        rapport.details["montant_ecarte_doublons_divergents"] = round(montant_ecarte, 2)
    if sans_territoire:
        sans_code = sum(1 for p in sans_territoire if not p.contrats)
        inconnus = sorted({p.contrats[0] for p in sans_territoire if p.contrats})
        pourquoi = []
        if sans_code:
            pourquoi.append(f"{fr.nombre(sans_code)} sans code de contrat")
        if inconnus:
            pourquoi.append(
                f"{fr.nombre(len(sans_territoire) - sans_code)} dont le contrat est absent du fichier des "
                f"contrats ({fr.liste_fr(inconnus[:10])}{' …' if len(inconnus) > 10 else ''})"
            )
        rapport.avertir(
            f"{fr.pluriel(len(sans_territoire), 'poste')} × année sans territoire connu "
            f"({'; '.join(pourquoi)}), soit {fr.euros(sum(p.montant for p in sans_territoire), 2)} : "
            "non importés (une action doit avoir sa commune ou son EPCI)"
        )
        rapport.details["postes_sans_territoire"] = [
            {"fichier": p.fichier, "id_poste": p.id_poste, "annee": p.annee, "code_cv": p.code_cv}
            for p in sans_territoire[:50]
        ]
    if ambigus:
        rapport.avertir(
            f"{fr.pluriel(ambigus, 'poste')} × année {'porte' if ambigus < 2 else 'portent'} plusieurs contrats de territoires différents : "
            "rattachés au premier contrat (comptés une seule fois)"
        )
    n = sum(b.sans_region for _, b in lus)
    if filtre and n:
        rapport.avertir(
            fr.pluriel(
                n,
                "enregistrement sans région ou département écarté par le filtre",
                "enregistrements sans région ou département écartés par le filtre",
            )
        )

    annees = sorted({p.annee for p in ecrits})
    sources = []
    for postes, b in lus:
        for disp in sorted({p.dispositif for p in postes}):
            sources.append(
                {"fichier": b.fichier, "source": SOURCE[disp], "annees": sorted({p.annee for p in postes})}
            )
    res = ResultatCiville(tables, rapport, [b for _, b in lus], annees, sources)
    res.resume = _resume(res, regions, departements, total_lus, sirens_multiples)
    res.duree_s = time.perf_counter() - t0
    return res


def _lieu(p: Poste) -> str:
    return (
        f"ligne {p.numero}"
        if p.fichier.lower().endswith((".csv", ".txt", ".xlsx", ".xlsm"))
        else (f"enregistrement n° {p.numero}")
    )


def _operateur(p: Poste) -> tuple[str, str, str]:
    """(id_operateur, type_identifiant, nom) of a post's employer."""
    tiers = re.sub(r"[\s.]", "", p.code_tiers) if p.code_tiers else None
    nom = p.raison_sociale or p.code_tiers or ""
    if tiers and SIRET.match(tiers):
        return f"siret:{tiers}", "siret", nom
    cle = nom_normalise(p.code_tiers or p.raison_sociale or "")
    return f"nom:{cle}", "nom", nom


def _montants(postes: Iterable[Poste]) -> dict:
    out: dict = defaultdict(dict)
    for p in postes:
        d = out[str(p.annee)]
        d[p.dispositif] = d.get(p.dispositif, 0.0) + p.montant
    return {a: {k: round(v, 2) for k, v in sorted(d.items())} for a, d in sorted(out.items())}


def _codes_filtre(
    valeurs: Iterable[str], largeur: int, motif: str, option: str, exemple: str
) -> tuple[str, ...]:
    out = []
    for v in valeurs or ():
        # "31,34" and "31 34" both list codes: split on commas and spaces alike.
        for part in re.split(r"[,\s]+", str(v).strip()):
            if not part:
                continue
            code = _code_geo(part, largeur)
            if code is None or not re.match(motif, code):
                raise DataError(
                    f"Option {option} : « {part} » n'est pas un code valide (ex. {option} {exemple})."
                )
            out.append(code)
    return tuple(dict.fromkeys(out))


def _resume(
    res: ResultatCiville, regions: tuple, departements: tuple, total_lus: int, sirens_multiples: int
) -> str:
    r = res.rapport.compteurs
    lignes = [
        f"Import Ci.Ville (programme 147) : {fr.pluriel(len(res.bilans), 'fichier lu', 'fichiers lus')}, "
        f"{fr.pluriel(total_lus, 'enregistrement')}."
    ]
    for b in res.bilans:
        morceaux = [
            f"{b.dispositif} (d'après le {b.dispositif_selon})",
            fr.pluriel(b.lus, "enregistrement"),
            ("année " if len(b.annees) == 1 else "années ") + ", ".join(fr.annee(a) for a in b.annees),
        ]
        if b.doublons:
            quoi = []
            if b.doublons_exacts:
                quoi.append(fr.pluriel(b.doublons_exacts, "identique"))
            if b.doublons_differents:
                n = b.doublons_differents
                quoi.append(f"{fr.nombre(n)} avec un autre SIRET ou un autre montant")
            morceaux.append(
                f"{fr.pluriel(b.doublons, 'doublon poste × année retiré', 'doublons poste × année retirés')} "
                f"({', '.join(quoi)} ; le premier est gardé)"
            )
        if b.codes_colles:
            morceaux.append(
                fr.pluriel(b.codes_colles, "code de contrat collé séparé", "codes de contrat collés séparés")
            )
        if regions or departements:
            morceaux.append(f"{fr.pluriel(b.gardes, 'gardé')} par le filtre")
        lignes.append(f"  - {b.fichier} : {', '.join(morceaux)}.")
    if regions or departements:
        quoi = []
        if regions:
            quoi.append(("région " if len(regions) == 1 else "régions ") + ", ".join(regions))
        if departements:
            quoi.append(
                ("département " if len(departements) == 1 else "départements ") + ", ".join(departements)
            )
        lignes.append(
            f"Filtre ({' ou '.join(quoi)}) : "
            f"{fr.pluriel(r['postes_annees'], 'poste × année gardé', 'postes × année gardés')} ; "
            f"{fr.pluriel(r['hors_filtre'], 'enregistrement')} hors du territoire, "
            f"{fr.nombre(r['sans_region_ou_departement_ecartes'])} sans région ou département connu."
        )
    total = sum(
        v for d in res.rapport.details["montants_par_annee_et_dispositif"].values() for v in d.values()
    )
    lignes.append(
        f"Tables : {fr.pluriel(r['actions'], 'action')} (une par poste et par année), "
        f"{fr.pluriel(r['financements'], 'financement')} de l'État ({fr.euros(total)} sur "
        f"{fr.annee_periode(res.annees[0], res.annees[-1])}), {fr.pluriel(r['operateurs'], 'opérateur')} "
        f"({fr.nombre(r['operateurs_siret'])} par SIRET, {fr.nombre(r['operateurs_nom'])} par nom"
        + (
            f" ; {fr.nombre(sirens_multiples)} SIREN à plusieurs établissements, gardés comme opérateurs distincts"
            if sirens_multiples
            else ""
        )
        + ")."
    )
    lignes.append(
        "Ces montants ne sont que la part de l'État (programme 147) : le jeu est marqué "
        "« financements_perimetre: etat_seul », et le cofinancement, la substitution et la part du "
        "droit commun ne seront pas calculés à partir de cette source."
    )
    lignes.insert(
        1,
        f"Contrats de ville : {res.rapport.details['contrats']['fichier']} "
        f"({fr.pluriel(res.rapport.details['contrats']['contrats'], 'contrat')}"
        + (", trouvé à côté des fichiers de postes" if res.rapport.details["contrats"]["trouve"] else "")
        + ").",
    )
    if r["sans_territoire_non_importes"]:
        n = r["sans_territoire_non_importes"]
        total_sans = sum(
            v
            for d in res.rapport.details["montants_sans_territoire_non_importes"].values()
            for v in d.values()
        )
        lignes.append(
            f"Non importés : {fr.pluriel(n, 'poste')} × année sans territoire connu "
            f"({fr.euros(total_sans, 2)}), détaillés dans metadonnees.yaml (import.civille)."
        )
    return "\n".join(lignes)


def trouver_contrats(fichiers: Sequence[str | Path], contrats: str | Path | None) -> Path:
    """The contracts file: `--contrats`, else a geom_cv_ctr.json beside the posts' files."""
    if contrats:
        return Path(contrats)
    for f in fichiers:
        candidat = Path(f).parent / NOM_CONTRATS
        if candidat.is_file():
            return candidat
    raise DataError(
        "Fichier des contrats de ville manquant : indiquez-le avec --contrats geom_cv_ctr.json "
        "(il donne l'EPCI ou la commune de chaque contrat ; sans lui, aucun poste ne peut être "
        "rattaché à un territoire)."
    )


# --- writing --------------------------------------------------------------------------------------


def importer(
    fichiers: Sequence[str | Path],
    out: str | Path,
    contrats: str | Path | None = None,
    regions: Iterable[str] = (),
    departements: Iterable[str] = (),
    force: bool = False,
) -> ResultatCiville:
    """`cucs import civille`: build the tables and write them atomically into `out`."""
    t0 = time.perf_counter()
    if not fichiers:
        raise DataError("Aucun fichier à importer : indiquez au moins un fichier de postes (JSON ou CSV).")
    common.verifier_entrees([*fichiers, contrats], out)
    common.verifier_entrees([trouver_contrats(fichiers, contrats)], out)
    res = construire(fichiers, contrats, regions, departements)
    with common.dossier_sortie(out, TABLES_ECRITES, force=force) as tmp:
        for nom, df in res.tables.items():
            common.avertir_formules(res.rapport, nom, df)
            common.ecrire_table(tmp, nom, df)
        common.fusionner_metadonnees(
            tmp,
            nom="Postes financés par l'État (programme 147, Ci.Ville)",
            annees=res.annees,
            sources=res.sources,
            rapport=res.rapport,
            extra={"financements_perimetre": "etat_seul"},
        )
    res.duree_s = time.perf_counter() - t0
    return res
