"""The Excel programming workbook a resource centre keeps: `cucs template` writes it,
`cucs import modele` reads it back into the project's tables.

The workbook has an instructions sheet (« Mode d'emploi »), one sheet per table (« Actions »,
« Financements », « Opérateurs ») with French headers taken from `schema.TABLES` (so the
workbook follows the schema), drop-down lists fed from a hidden « Listes » sheet, and no
example row: every filled row is data.

The reader maps the French headers back to the columns, writes the tables in a scratch folder
beside the tables already in `--out`, runs the project's validation on that folder
(`validate.inspect_dir`, what `cucs validate` runs), and translates every problem of the
written tables back to the sheet, the Excel row and the header the user sees. Nothing is
written when a problem remains; `--out` is replaced atomically otherwise (`common`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import re
import shutil
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cucs_analysis.data import readers, schema, validate
from cucs_analysis.data.errors import DataError, Problem
from cucs_analysis.data.imports import common

# The one French formatter (the documented exception to the layering, see data/errors.py).
from cucs_analysis.present import text as fr

#: Table → sheet name, in the workbook's order.
FEUILLES = {"actions": "Actions", "financements": "Financements", "operateurs": "Opérateurs"}
MODE_EMPLOI = "Mode d'emploi"
LISTES = "Listes"
#: Rows prepared (formats, drop-down lists) below the header.
LIGNES_PREPAREES = 5000
#: A header longer than this is cut before its first parenthesis (the full description stays
#: in the header's note and in the instructions).
ENTETE_MAX = 45
IMPORTEUR = "modele"
SOURCE = "classeur de programmation (modèle « cucs template »)"

_TYPES = {
    "code": "code (texte : les zéros initiaux sont gardés)",
    "text": "texte",
    "int": "nombre entier",
    "year": "année (ex. 2012)",
    "float": "nombre (virgule décimale admise, sans symbole €)",
    "bool": "oui / non (liste déroulante)",
    "date": "date (date Excel ou JJ/MM/AAAA)",
    "category": "liste déroulante",
    "list": "valeurs séparées par « ; »",
}
#: Examples shown in the instructions (never in the data sheets).
_EXEMPLES = {
    "id_action": "A2012-015",
    "annee": "2012",
    "intitule": "Accompagnement à la scolarité",
    "id_operateur": "77567227200012",
    "code_commune": "01004",
    "code_epci": "200042497",
    "code_quartier": "QN01004M",
    "public_cible": "collégiens",
    "beneficiaires_prevus": "40",
    "beneficiaires_realises": "35",
    "financeur": "Ville de Villebelle",
    "montant_demande": "12 000",
    "montant_accorde": "10 500,50",
    "date_depot": "15/11/2011",
    "date_decision": "01/02/2012",
    "date_paiement": "12/04/2012",
    "nom": "Association Les Tilleuls",
    "budget_annuel": "85 000",
    "salaries_etp": "2,5",
    "domaines": "education;lien_social",
    "annee_creation": "1998",
}


# --- headers ------------------------------------------------------------------------------------


def _norm(s: object) -> str:
    """A header or sheet name compared loosely: case, accents, apostrophes and spaces ignored."""
    t = unicodedata.normalize("NFKD", str(s)).replace("’", "'")
    t = "".join(c for c in t if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", t).strip().casefold()


def _court(description: str) -> str:
    d = description.strip()
    if len(d) > ENTETE_MAX:
        for sep in (" (", " : ", ", "):
            if sep in d:
                return d.split(sep)[0].strip()
    return d


def entetes(table: str) -> dict[str, str]:
    """Column name → the French header of its sheet (built from the schema's descriptions)."""
    cols = schema.TABLES[table].columns
    out = {c.name: _court(c.description) for c in cols}
    seen: dict[str, int] = {}
    for h in out.values():
        seen[_norm(h)] = seen.get(_norm(h), 0) + 1
    return {n: (f"{h} ({n})" if seen[_norm(h)] > 1 else h) for n, h in out.items()}


def _inconnu(col: schema.Column) -> bool:
    return bool(getattr(col, "inconnu", False))


def _saisie(col: schema.Column) -> str:
    if _inconnu(col):
        return "« inconnu » admis (ou cellule vide)"
    if not col.required:
        return "colonne facultative (peut rester vide)"
    if col.nullable:
        return "peut rester vide"
    return "obligatoire"


def _valeurs(col: schema.Column) -> tuple[str, ...] | None:
    """The drop-down values of a column (None: no drop-down)."""
    if col.kind == "category" and col.allowed:
        vals = tuple(col.allowed)
    elif col.kind == "bool":
        vals = ("oui", "non")
    else:
        return None
    if _inconnu(col) and common.INCONNU not in vals:
        vals += (common.INCONNU,)
    return vals


def _valeurs_texte(col: schema.Column) -> str:
    vals = _valeurs(col)
    if vals is None and col.kind == "list" and col.allowed:
        vals = tuple(col.allowed) + ((common.INCONNU,) if _inconnu(col) else ())
    return ", ".join(vals) if vals else ""


# --- the writer ---------------------------------------------------------------------------------


def _format_nombre(col: schema.Column) -> str | None:
    if col.kind in ("code", "text", "category", "list"):
        return "@"  # text: a code keeps its leading zeros
    if col.kind == "date":
        return "DD/MM/YYYY"
    if col.kind in ("int", "year"):
        return "0"
    if col.kind == "float":
        return "#,##0.00"
    return None


def _mode_emploi(ws) -> None:
    from openpyxl.styles import Alignment, Font

    titre = Font(bold=True, size=14)
    gras = Font(bold=True)
    lignes: list[tuple[str, object]] = [
        ("titre", "Classeur de programmation du contrat de ville (modèle de la suite cucs)"),
        ("", ""),
        ("gras", "À quoi sert ce classeur"),
        (
            "",
            "Il rassemble la programmation d'un contrat (CUCS ou contrat de ville) : les actions, leurs "
            "financements et les opérateurs qui les portent. Une fois rempli, il s'importe dans un dossier "
            "de données de la suite avec la commande « cucs import modele ».",
        ),
        ("", ""),
        ("gras", "Les feuilles"),
        (
            "",
            f"« {FEUILLES['actions']} » : une ligne par action et par année de programmation (une action "
            "reconduite trois ans occupe trois lignes, avec le même identifiant).",
        ),
        (
            "",
            f"« {FEUILLES['financements']} » : une ligne par action, année et financeur ; l'identifiant de "
            f"l'action et l'année doivent exister dans la feuille « {FEUILLES['actions']} ».",
        ),
        (
            "",
            f"« {FEUILLES['operateurs']} » : une ligne par opérateur ; son identifiant (le SIRET de "
            f"préférence) est repris dans la colonne « {entetes('actions')['id_operateur']} » des actions.",
        ),
        (
            "",
            f"« {LISTES} » (masquée) : les valeurs des listes déroulantes ; ne la modifiez pas.",
        ),
        ("", ""),
        ("gras", "Règles de saisie"),
        (
            "",
            "Ne renommez ni les feuilles ni les en-têtes (ligne 1) et n'insérez pas de ligne au-dessus des "
            "en-têtes. L'ordre des colonnes est libre ; une colonne ajoutée (commentaires) est ignorée, "
            "avec un avertissement.",
        ),
        (
            "",
            "Pas de ligne d'exemple : chaque ligne remplie est importée ; les lignes vides sont ignorées.",
        ),
        (
            "",
            "Codes (commune, quartier, EPCI) et identifiants : les colonnes sont au format texte, pour "
            "garder les zéros initiaux (« 01004 », pas « 1004 »). Collez-les en « valeurs » seulement.",
        ),
        (
            "",
            "Montants et nombres : des nombres, sans symbole € (« 10500,50 » ou « 10 500,50 »). "
            "Dates : des dates Excel ou JJ/MM/AAAA. Oui / non : choisissez dans la liste.",
        ),
        (
            "",
            "« inconnu » : dans les colonnes où le tableau ci-dessous indique « « inconnu » admis », écrivez « inconnu » (ou laissez la "
            "cellule vide) quand l'information manque ; les analyses afficheront « n.d. » avec la raison "
            "au lieu d'une valeur inventée. Ailleurs, une cellule vide est refusée, sauf dans une colonne "
            "qui peut rester vide.",
        ),
        ("", ""),
        ("gras", "Importer et vérifier"),
        (
            "",
            "1. Importez d'abord les communes et les quartiers dans le dossier de données (par exemple "
            "« cucs import insee-qpv … --out data/mon_contrat ») : les codes communes et quartiers du "
            "classeur sont alors vérifiés.",
        ),
        (
            "",
            "2. « cucs import modele programmation.xlsx --out data/mon_contrat » (ajoutez --force pour "
            "remplacer des actions, financements ou opérateurs déjà importés).",
        ),
        (
            "",
            "3. Chaque erreur est signalée par sa feuille, sa ligne et sa colonne ; rien n'est écrit tant "
            "qu'il en reste une. Corrigez le classeur et relancez l'import.",
        ),
        ("", "4. « cucs validate data/mon_contrat », puis « cucs run »."),
        ("", ""),
        ("gras", "Les colonnes de chaque feuille"),
    ]
    for i, (style, texte) in enumerate(lignes, start=1):
        cell = ws.cell(row=i, column=1, value=texte)
        if style == "titre":
            cell.font = titre
        elif style == "gras":
            cell.font = gras
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=8)
        if len(str(texte)) > 160:
            ws.row_dimensions[i].height = 15 * (1 + len(str(texte)) // 160)
    row = len(lignes) + 1
    tete = (
        "Feuille",
        "En-tête",
        "Nom technique",
        "Saisie",
        "Type",
        "Valeurs possibles",
        "Exemple",
        "Précision",
    )
    for j, h in enumerate(tete, start=1):
        ws.cell(row=row, column=j, value=h).font = gras
    for table, feuille in FEUILLES.items():
        noms = entetes(table)
        for col in schema.TABLES[table].columns:
            row += 1
            valeurs = (
                feuille,
                noms[col.name],
                col.name,
                _saisie(col),
                _TYPES.get(col.kind, col.kind),
                _valeurs_texte(col),
                _EXEMPLES.get(col.name, ""),
                col.description if col.description != noms[col.name] else "",
            )
            for j, v in enumerate(valeurs, start=1):
                c = ws.cell(row=row, column=j, value=v)
                c.number_format = "@"
                c.alignment = Alignment(wrap_text=True, vertical="top")
    for j, w in enumerate((14, 34, 24, 30, 30, 50, 22, 50), start=1):
        ws.column_dimensions[chr(64 + j)].width = w


def _feuille_table(ws, table: str, listes: dict[tuple[str, ...], str]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    noms = entetes(table)
    fond = PatternFill("solid", fgColor="DDE7F0")
    # Identifier columns that refer to another sheet of the workbook (operator, action).
    renvois = {
        ref.columns[0]: (ref.target, ref.target_columns[0])
        for ref in schema.TABLES[table].references
        if ref.target in FEUILLES and ref.target != table
    }
    last = LIGNES_PREPAREES + 1
    for j, col in enumerate(schema.TABLES[table].columns, start=1):
        lettre = get_column_letter(j)
        cell = ws.cell(row=1, column=j, value=noms[col.name])
        cell.font = Font(bold=True)
        cell.fill = fond
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        note = [f"Nom technique : {col.name}", col.description, f"Saisie : {_saisie(col)}"]
        note.append(f"Type : {_TYPES.get(col.kind, col.kind)}")
        comment = Comment("\n".join(note), "cucs")
        comment.width, comment.height = 320, 140
        cell.comment = comment
        fmt = _format_nombre(col)
        if fmt:
            ws.column_dimensions[lettre].number_format = fmt
        large = 34 if col.kind == "text" and col.name not in ("id_action", "id_operateur") else 16
        ws.column_dimensions[lettre].width = max(large, min(len(noms[col.name]) * 0.9, 40))
        vals = _valeurs(col)
        if vals is not None:
            ref = listes[vals]
            dv = DataValidation(
                type="list",
                formula1=ref,
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="Valeur non admise",
                error=f"Choisissez une valeur de la liste : {', '.join(vals)}.",
                showInputMessage=False,
            )
            dv.add(f"{lettre}2:{lettre}{last}")
            ws.add_data_validation(dv)
        elif col.kind == "year" and col.minimum is not None and col.maximum is not None:
            dv = DataValidation(
                type="whole",
                operator="between",
                formula1=str(int(col.minimum)),
                formula2=str(int(col.maximum)),
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="Année invalide",
                error=f"Une année entre {int(col.minimum)} et {int(col.maximum)}.",
            )
            dv.add(f"{lettre}2:{lettre}{last}")
            ws.add_data_validation(dv)
        elif col.kind == "list":
            dv = DataValidation(
                type="textLength",
                operator="greaterThanOrEqual",
                formula1="0",
                allow_blank=True,
                showInputMessage=True,
                promptTitle="Plusieurs valeurs",
                prompt=f"Séparées par « ; » parmi : {_valeurs_texte(col)}"[:255],
            )
            dv.add(f"{lettre}2:{lettre}{last}")
            ws.add_data_validation(dv)
        elif col.name in renvois:
            # The identifiers of another sheet as suggestions; a warning only (that sheet may not
            # be filled yet): the import checks the reference anyway.
            cible, colonne_cible = renvois[col.name]
            j_cible = schema.TABLES[cible].column_names.index(colonne_cible) + 1
            lc = get_column_letter(j_cible)
            dv = DataValidation(
                type="list",
                formula1=f"'{FEUILLES[cible]}'!${lc}$2:${lc}${last}",
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="warning",
                errorTitle="Identifiant absent",
                error=f"Cet identifiant n'est pas (encore) dans la feuille « {FEUILLES[cible]} ».",
            )
            dv.add(f"{lettre}2:{lettre}{last}")
            ws.add_data_validation(dv)
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(noms))}1"


def _listes(wb) -> dict[tuple[str, ...], str]:
    """The hidden « Listes » sheet: one column per vocabulary; returns values → range formula."""
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(LISTES)
    refs: dict[tuple[str, ...], str] = {}
    for table in FEUILLES:
        for col in schema.TABLES[table].columns:
            vals = _valeurs(col)
            if vals is None or vals in refs:
                continue
            j = len(refs) + 1
            lettre = get_column_letter(j)
            ws.cell(row=1, column=j, value=col.name)
            for i, v in enumerate(vals, start=2):
                ws.cell(row=i, column=j, value=v).number_format = "@"
            refs[vals] = f"{LISTES}!${lettre}$2:${lettre}${len(vals) + 1}"
    ws.sheet_state = "hidden"
    return refs


def ecrire_modele(path: str | Path, force: bool = False) -> Path:
    """Write the empty programming workbook at `path` (.xlsx); refuse to replace without `force`."""
    from openpyxl import Workbook

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise common.erreur(
            path, "extension", "le modèle est un classeur Excel : donnez un nom de fichier en .xlsx"
        )
    if path.is_dir():
        raise common.erreur(path, "fichier attendu", f"« {path} » est un dossier : indiquez un fichier .xlsx")
    if path.exists() and not force:
        raise common.erreur(
            path, "fichier existant", "le fichier existe déjà : ajoutez --force pour le remplacer"
        )
    wb = Workbook()
    _mode_emploi(wb.active)
    wb.active.title = MODE_EMPLOI
    feuilles = {t: wb.create_sheet(f) for t, f in FEUILLES.items()}
    refs = _listes(wb)
    for table, ws in feuilles.items():
        _feuille_table(ws, table, refs)
    wb.active = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --- the reader ---------------------------------------------------------------------------------


@dataclass
class ResultatModele:
    """What `importer` wrote: tables and their row counts, the report, a French summary."""

    dossier: Path
    lignes: dict[str, int]
    rapport: common.RapportImport
    avertissements: list[str] = field(default_factory=list)

    @property
    def resume(self) -> str:
        parts = []
        for table, mots in (
            ("actions", ("ligne d'action", "lignes d'action")),
            ("financements", ("ligne de financement", "lignes de financement")),
            ("operateurs", ("opérateur", "opérateurs")),
        ):
            if table in self.lignes:
                parts.append(fr.pluriel(self.lignes[table], *mots))
        return f"Classeur importé : {fr.liste_fr(parts)}."


@dataclass
class _Feuille:
    """One sheet read: its string frame (columns = schema names) and the Excel row of each line."""

    table: str
    nom: str
    brut: pd.DataFrame
    lignes_excel: list[int]
    ligne_entete: int


def _texte(v: object, col: schema.Column) -> str:
    """A cell as the string a CSV would hold (the readers then coerce it like any file)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "oui" if v else "non"
    if isinstance(v, dt.datetime):
        if col.kind == "date" or v.time() == dt.time(0):
            return v.strftime("%Y-%m-%d")
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.isoformat()
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isfinite(v) and v.is_integer() and abs(v) < 2**53:
            return str(int(v))
        return repr(v)
    s = str(v).strip()
    if _inconnu(col) and s.casefold() == common.INCONNU:
        return common.INCONNU
    return s


def _probleme(feuille: str, regle: str, message: str, ligne=None, colonne=None, valeur=None) -> Problem:
    return Problem(f"feuille « {feuille} »", ligne, colonne, valeur, regle, message)


def _lire_feuille(
    ws, table: str, nom: str, rapport: common.RapportImport, ws_formules=None
) -> tuple[_Feuille | None, list]:
    """Header mapping and cells of one sheet; structural problems (missing header…) returned.

    `ws_formules`: the same sheet read with its formulas, to tell a formula whose value was
    never computed (a workbook written by a program) from an empty cell."""
    rows = ws.iter_rows(values_only=True)
    formules = ws_formules.iter_rows(values_only=True) if ws_formules is not None else iter(())
    entete, n_entete = None, 0
    for i, r in enumerate(rows, start=1):
        next(formules, None)
        if r and any(v is not None and str(v).strip() for v in r):
            entete, n_entete = r, i
            break
    tab = schema.TABLES[table]
    noms = entetes(table)
    if entete is None:
        return None, [
            _probleme(
                nom,
                "en-tête absent",
                "la feuille est vide : la ligne 1 doit contenir les en-têtes du modèle (« cucs template »)",
            )
        ]
    connus: dict[str, str] = {}
    for c in tab.columns:
        for alias in (noms[c.name], c.description, c.name):
            connus.setdefault(_norm(alias), c.name)
    positions: dict[str, int] = {}
    problems: list[Problem] = []
    for j, h in enumerate(entete):
        if h is None or not str(h).strip():
            continue
        name = connus.get(_norm(h))
        if name is None:
            rapport.avertir(
                f"feuille « {nom} » : la colonne « {str(h).strip()} » n'est pas une colonne du modèle ; "
                "elle est ignorée"
            )
            continue
        if name in positions:
            problems.append(
                _probleme(
                    nom,
                    "colonne en double",
                    "cette colonne apparaît deux fois dans l'en-tête : supprimez l'une des deux",
                    n_entete,
                    noms[name],
                )
            )
            continue
        positions[name] = j
    for c in tab.columns:
        if c.required and c.name not in positions:
            problems.append(
                _probleme(
                    nom,
                    "colonne manquante",
                    f"en-tête absent : ajoutez la colonne « {noms[c.name]} » en ligne {n_entete} "
                    "(voir la feuille « Mode d'emploi »)",
                    n_entete,
                    noms[c.name],
                )
            )
    if problems:
        return None, problems
    cols = [c for c in tab.columns if c.name in positions]
    data: dict[str, list[str]] = {c.name: [] for c in cols}
    lignes: list[int] = []
    for i, r in enumerate(rows, start=n_entete + 1):
        rf = next(formules, None) or ()
        cells = [_texte(r[positions[c.name]] if positions[c.name] < len(r) else None, c) for c in cols]
        for c in cols:
            j = positions[c.name]
            f = rf[j] if j < len(rf) else None
            if isinstance(f, str) and f.startswith("=") and (j >= len(r) or r[j] is None):
                problems.append(
                    _probleme(
                        nom,
                        "formule sans valeur",
                        "formule dont la valeur n'a jamais été calculée : ouvrez le classeur dans Excel ou "
                        "LibreOffice et enregistrez-le, ou remplacez la formule par sa valeur",
                        i,
                        noms[c.name],
                        f,
                    )
                )
        if not any(cells):
            continue  # blank rows are not data
        lignes.append(i)
        for c, v in zip(cols, cells, strict=True):
            data[c.name].append(v)
    if problems:
        return None, problems
    brut = pd.DataFrame(data, columns=[c.name for c in cols], dtype="str")
    return _Feuille(table, nom, brut, lignes, n_entete), []


def _illisible(classeur: Path, exc: Exception) -> DataError:
    return common.erreur(
        classeur,
        "fichier illisible",
        "classeur Excel illisible (fichier abîmé ou format non reconnu) : enregistrez-le de nouveau au format .xlsx",
    )


def _lire_feuilles(
    wb, wb_formules, classeur: Path, rapport: common.RapportImport
) -> tuple[list[Problem], dict]:
    par_nom = {_norm(n): n for n in wb.sheetnames}
    problems: list[Problem] = []
    feuilles: dict[str, _Feuille] = {}
    for table, nom in FEUILLES.items():
        reel = par_nom.get(_norm(nom))
        if reel is None:
            problems.append(
                Problem(
                    classeur.name,
                    None,
                    None,
                    None,
                    "feuille absente",
                    f"le classeur n'a pas de feuille « {nom} » : gardez les feuilles du modèle produit "
                    "par « cucs template » (une feuille peut rester vide, pas disparaître)",
                )
            )
            continue
        f, probs = _lire_feuille(wb[reel], table, nom, rapport, wb_formules[reel])
        problems += probs
        if f is not None:
            feuilles[table] = f
    return problems, feuilles


def lire_classeur(classeur: str | Path, rapport: common.RapportImport) -> dict[str, _Feuille]:
    """Every table sheet of the workbook (structure checked); DataError naming sheets and headers."""
    from openpyxl import load_workbook

    classeur = Path(classeur)
    if classeur.suffix.lower() not in (".xlsx", ".xlsm"):
        raise common.erreur(
            classeur,
            "format",
            "le classeur doit être un fichier Excel .xlsx (enregistrez-le au format « Classeur Excel »)",
        )
    # openpyxl warns (in English) about Excel features it does not read (extensions of data
    # validation, conditional formats): irrelevant to the values read here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            wb = load_workbook(classeur, read_only=True, data_only=True)
            wb_formules = load_workbook(classeur, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many kinds on damaged or foreign files
            raise _illisible(classeur, exc) from None
        try:
            problems, feuilles = _lire_feuilles(wb, wb_formules, classeur, rapport)
        except DataError:
            raise
        except Exception as exc:  # a damaged sheet fails only when its rows are read
            raise _illisible(classeur, exc) from None
        finally:
            wb.close()
            wb_formules.close()
    if problems:
        raise DataError(problems)
    return feuilles


# --- problems of the written tables → sheet, row, header ---------------------------------------


def _est_avertissement(p: Problem) -> bool:
    """A validation warning (unknown values counted, a repair reported), not an error."""
    return getattr(p, "est_erreur", True) is False


def _traduire(p: Problem, feuilles: dict[str, _Feuille]) -> Problem:
    """A problem of `<table>.csv` restated on the workbook: sheet, Excel row, French headers."""
    table = p.fichier.rsplit(".", 1)[0]
    f = feuilles[table]
    noms = entetes(table)

    def excel(ligne: int) -> int:
        if ligne <= 1:
            return f.ligne_entete
        k = ligne - 2
        return f.lignes_excel[k] if 0 <= k < len(f.lignes_excel) else ligne

    def colonnes(texte: str, t: str) -> str:
        ns = entetes(t)
        return ", ".join(f"« {ns.get(c.strip(), c.strip())} »" for c in texte.split(","))

    msg = p.message
    msg = re.sub(r"à la ligne (\d+)", lambda m: f"à la ligne {excel(int(m.group(1)))}", msg)
    msg = re.sub(
        r"les colonnes \(([\w, ]+)\) ont", lambda m: f"les colonnes ({colonnes(m.group(1), table)}) ont", msg
    )
    msg = re.sub(r"la colonne (\w+) a ", lambda m: f"la colonne {colonnes(m.group(1), table)} a ", msg)

    def cible(m: re.Match) -> str:
        t, mot, cols = m.group(1), m.group(2), m.group(3)
        if t in feuilles:
            return f"dans la feuille « {feuilles[t].nom} » ({mot} {colonnes(cols, t)})"
        return f"dans {t}.csv du dossier de sortie ({mot} {cols})"

    msg = re.sub(r"dans (\w+)\.csv \((colonnes?) ([\w, ]+)\)", cible, msg)
    if p.regle == "période" and p.colonne == "annee":
        # The period is widened to every plausible year of the workbook (`_annees`): a year
        # outside it is a typing error, not a year missing from metadonnees.yaml.
        col = schema.TABLES[table].column("annee")
        msg = f"année invraisemblable : elle doit être comprise entre {fr.annee(col.minimum)} et {fr.annee(col.maximum)}"
    colonne = None
    if p.colonne is not None:
        colonne = ", ".join(noms.get(c.strip(), c.strip()) for c in p.colonne.split(","))
    ligne = excel(p.ligne) if p.ligne is not None else None
    # `replace` keeps every other field of the problem (its severity among them).
    return dataclasses.replace(p, fichier=f"feuille « {f.nom} »", ligne=ligne, colonne=colonne, message=msg)


#: Rules that already say what is wrong with a cell: a « référence inconnue » on the same cell
#: would only repeat it (a code of the wrong shape is of course unknown).
_REGLES_VALEUR = ("forme du code", "valeurs admises", "type", "valeur obligatoire")


def _sans_doublons(problems: list[Problem]) -> list[Problem]:
    vus = {(p.fichier, p.ligne, p.colonne) for p in problems if p.regle in _REGLES_VALEUR}
    return [
        p
        for p in problems
        if not (p.regle == "référence inconnue" and (p.fichier, p.ligne, p.colonne) in vus)
    ]


def _annees(feuilles: dict[str, _Feuille]) -> list[int]:
    """Years of the period the workbook covers (plausible years of its `annee` columns)."""
    out: set[int] = set()
    for f in feuilles.values():
        tab = schema.TABLES[f.table]
        if "annee" not in f.brut.columns:
            continue
        col = tab.column("annee")
        lo, hi = col.minimum or schema.ANNEE_MIN, col.maximum or schema.ANNEE_MAX
        num = pd.to_numeric(f.brut["annee"], errors="coerce")
        out |= {int(x) for x in num.dropna() if float(x).is_integer() and lo <= x <= hi}
    return sorted(out)


def _references_non_verifiees(feuilles: dict[str, _Feuille], presentes: set[str], dossier: Path) -> list[str]:
    """French warnings for references whose target table is neither written nor in `--out`."""
    out = []
    for table, f in feuilles.items():
        noms = entetes(table)
        for ref in schema.TABLES[table].references:
            if ref.target in presentes or not all(c in f.brut.columns for c in ref.columns):
                continue
            vals = f.brut[list(ref.columns)]
            remplies = (vals != "") & (vals.apply(lambda s: s.str.casefold()) != common.INCONNU)
            n = int(remplies.all(axis=1).sum())
            if n == 0:
                continue
            cols = fr.liste_fr(f"« {noms[c]} »" for c in ref.columns)
            out.append(
                f"feuille « {f.nom} », colonne {cols} : {fr.pluriel(n, 'valeur')} non vérifiée"
                f"{'s' if n > 1 else ''}, le dossier {dossier} n'a pas de table {ref.target} "
                f"(importez-la, par exemple avec « cucs import insee-qpv », puis lancez « cucs validate »)"
            )
    return out


def _valeur_propre(v: object, col: schema.Column) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return ""
    if col.kind == "date":
        return pd.Timestamp(v).strftime("%Y-%m-%d")
    if col.kind == "bool":
        return "oui" if bool(v) else "non"
    x = float(v)
    if x.is_integer() and abs(x) < 2**53:
        return str(int(x))
    return repr(x)


def _propre(f: _Feuille, typed: pd.DataFrame | None) -> pd.DataFrame:
    """The sheet's cells as the CSV keeps them: numbers with a decimal point, ISO dates, oui/non,
    codes and texts as typed, « inconnu » where the user wrote it (values already validated)."""
    if typed is None or len(typed) != len(f.brut):
        return f.brut
    tab = schema.TABLES[f.table]
    out = {}
    for name in f.brut.columns:
        col, raw = tab.column(name), f.brut[name]
        if col.kind in readers.STRING_KINDS:
            out[name] = raw
            continue
        vals = [_valeur_propre(v, col) for v in typed[name].tolist()]
        out[name] = [
            r if (r == "" or r.casefold() == common.INCONNU) else v for r, v in zip(raw, vals, strict=True)
        ]
    return pd.DataFrame(out, columns=list(f.brut.columns), dtype="str")


def importer(classeur: str | Path, out: str | Path, force: bool = False) -> ResultatModele:
    """Read a filled workbook and write its tables into `out` (atomically; nothing on error)."""
    classeur, out = Path(classeur), Path(out)
    common.verifier_entrees([classeur], out)
    rapport = common.RapportImport(IMPORTEUR)
    feuilles = {t: f for t, f in lire_classeur(classeur, rapport).items() if len(f.brut)}
    if not feuilles:
        raise common.erreur(
            classeur,
            "classeur vide",
            "le classeur ne contient aucune ligne à importer (feuilles "
            f"{fr.liste_fr(f'« {n} »' for n in FEUILLES.values())} vides)",
        )
    for table, nom in FEUILLES.items():
        if table not in feuilles:
            rapport.avertir(f"feuille « {nom} » vide : la table {table} n'est pas écrite")
    annees = _annees(feuilles)
    sources = [{"fichier": classeur.name, "source": SOURCE, "annees": annees}]
    nom = f"Programmation ({classeur.name})"  # kept only if the folder has no name yet
    extra = {"financements_perimetre": "complet"} if "financements" in feuilles else None
    for table, f in feuilles.items():
        rapport.compter(table, len(f.brut))
    rapport.details["classeur"] = classeur.name
    ecrites = {f"{t}.csv" for t in feuilles}
    with tempfile.TemporaryDirectory(prefix=".cucs-modele-") as scratch_name:
        scratch = Path(scratch_name)
        # The folder `cucs validate` will see: the tables already in --out, plus ours.
        if out.is_dir():
            for p in out.iterdir():
                if p.name.split(".")[0] in feuilles or p.name.startswith("."):
                    continue
                if p.name == schema.METADATA_FILE:
                    shutil.copy2(p, scratch / p.name)
                elif p.is_file():
                    (scratch / p.name).symlink_to(p.resolve())
        for table, f in feuilles.items():
            common.ecrire_table(scratch, table, f.brut)
        common.fusionner_metadonnees(
            scratch, nom=nom, annees=annees, sources=sources, rapport=rapport, extra=extra
        )
        inspection = validate.inspect_dir(scratch)
        presentes = set(readers.find_files(scratch).tables)
    ordre = list(FEUILLES)
    problemes = _sans_doublons([_traduire(p, feuilles) for p in inspection.problems if p.fichier in ecrites])
    erreurs = [p for p in problemes if not _est_avertissement(p)]
    if erreurs:
        rang = {f"feuille « {n} »": i for i, n in enumerate(FEUILLES.values())}
        # Whole-column problems first, then by row; a summary (« … et 5 autres lignes ») last.
        erreurs.sort(
            key=lambda p: (
                rang.get(p.fichier, len(ordre)),
                p.ligne if p.ligne is not None else (math.inf if p.autres else 0),
            )
        )
        raise DataError(erreurs)
    for p in problemes:
        rapport.avertir(str(p))
    for message in _references_non_verifiees(feuilles, presentes, out):
        rapport.avertir(message)
    with common.dossier_sortie(out, list(feuilles), force) as tmp:
        for table, f in feuilles.items():
            common.ecrire_table(tmp, table, _propre(f, inspection.tables.get(table)))
        common.fusionner_metadonnees(
            tmp, nom=nom, annees=annees, sources=sources, rapport=rapport, extra=extra
        )
    lignes = {t: len(f.brut) for t, f in feuilles.items()}
    return ResultatModele(out, lignes, rapport, list(rapport.avertissements))


__all__ = ["FEUILLES", "ResultatModele", "ecrire_modele", "entetes", "importer", "lire_classeur"]
