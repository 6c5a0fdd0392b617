"""The programming workbook: `cucs template` writes it, `cucs import modele` reads it back.

A test fills the template as a resource centre would (openpyxl, codes with leading zeros,
Excel dates, decimals typed as numbers and as text with a decimal comma), imports it beside
communes and quartiers, and checks that `cucs validate` passes and the CSV holds what was
typed. Mistakes come back as French messages naming the sheet, the Excel row and the header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from cucs_analysis.cli import main
from cucs_analysis.data import schema
from cucs_analysis.data.errors import DataError
from cucs_analysis.data.imports import modele

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
#: A commune whose code starts with a zero (a spreadsheet would turn it into 1004).
COMMUNE_ZERO = "01004"

OPERATEURS = [
    {
        "id_operateur": "0099",
        "nom": "Association Les Tilleuls",
        "statut_juridique": "association",
        "budget_annuel": 85000.5,
        "salaries_etp": "2,5",
        "echelle": "quartier",
        "domaines": "education;lien_social",
        "annee_creation": 1998,
        "code_commune": COMMUNE_ZERO,
    },
    {
        "id_operateur": "OP-7",
        "nom": "Régie de quartier",
        "statut_juridique": "SCOP",
        "budget_annuel": None,
        "salaries_etp": 12,
        "echelle": "commune",
        "domaines": "emploi",
        "annee_creation": 2003,
        "code_commune": "20001",
    },
]
ACTIONS = [
    {
        "id_action": "A-001",
        "annee": 2010,
        "intitule": "Accompagnement à la scolarité",
        "thematique": "education",
        "dispositif": "CLAS",
        "id_operateur": "0099",
        "code_commune": COMMUNE_ZERO,
        "code_quartier": None,
        "public_cible": "collégiens",
        "beneficiaires_prevus": 40,
        "beneficiaires_realises": 35,
        "statut": "réalisée",
        "prioritaire": "oui",
        "proximite": "non",
    },
    {
        "id_action": "A-001",
        "annee": 2011,
        "intitule": "Accompagnement à la scolarité",
        "thematique": "education",
        "dispositif": "CLAS",
        "id_operateur": "0099",
        "code_commune": COMMUNE_ZERO,
        "code_quartier": None,
        "public_cible": "collégiens",
        "beneficiaires_prevus": 45,
        "beneficiaires_realises": None,
        "statut": "programmée",
        "prioritaire": "oui",
        "proximite": "oui",
    },
    {
        "id_action": "A-002",
        "annee": 2011,
        "intitule": "Chantier d'insertion des espaces verts",
        "thematique": "emploi",
        "dispositif": "chantier d'insertion",
        "id_operateur": "OP-7",
        "code_commune": "20001",
        "code_quartier": "QP020001",
        "public_cible": "jeunes adultes",
        "beneficiaires_prevus": 12,
        "beneficiaires_realises": 11,
        "statut": "réalisée",
        "prioritaire": "non",
        "proximite": True,  # an Excel boolean (VRAI)
    },
]
FINANCEMENTS = [
    {
        "id_action": "A-001",
        "annee": 2010,
        "financeur": "Ville d'Ambérieu",
        "institution": "commune",
        "type_credit": "droit_commun",
        "montant_demande": 12000,
        "montant_accorde": 10500.5,
        "date_depot": dt.datetime(2009, 11, 15),
        "date_decision": dt.datetime(2010, 2, 1),
        "date_paiement": None,
    },
    {
        "id_action": "A-001",
        "annee": 2010,
        "financeur": "ACSé",
        "institution": "État",
        "type_credit": "specifique",
        "montant_demande": "1 234,50",
        "montant_accorde": "1000,25",
        "date_depot": "15/11/2009",
        "date_decision": dt.datetime(2010, 3, 4),
        "date_paiement": dt.datetime(2010, 5, 6),
    },
    {
        "id_action": "A-002",
        "annee": 2011,
        "financeur": "CAF",
        "institution": "CAF",
        "type_credit": "specifique",
        "montant_demande": 8000,
        "montant_accorde": 7999.99,
        "date_depot": None,
        "date_decision": None,
        "date_paiement": None,
    },
]
SHEETS = {"actions": ACTIONS, "financements": FINANCEMENTS, "operateurs": OPERATEURS}


def _base(folder: Path) -> Path:
    """A data folder holding communes and quartiers (+ indicators), as an earlier import would:
    the minimal fixture's, plus a commune whose code starts with a zero."""
    folder.mkdir(parents=True)
    for name in (
        "communes.csv",
        "quartiers.csv",
        "quartiers.geojson",
        "indicateurs.csv",
        "catalogue_indicateurs.csv",
        "metadonnees.yaml",
    ):
        shutil.copy(MINIMAL / name, folder / name)
    with (folder / "communes.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"{COMMUNE_ZERO},Ambérieu,200000001,01,84,14000,GIP,oui,120000,17500.5\n")
    return folder


def _remplir(path: Path, sheets: dict[str, list[dict]], start_row: int = 2) -> None:
    """Type rows into the template's sheets under their French headers (blank row 3 kept blank
    when start_row > 2, to check that Excel rows are reported as Excel rows)."""
    wb = load_workbook(path)
    for table, rows in sheets.items():
        ws = wb[modele.FEUILLES[table]]
        noms = modele.entetes(table)
        position = {c.value: c.column for c in ws[1] if c.value}
        for i, row in enumerate(rows):
            r = start_row + i + (1 if start_row > 2 and i > 0 else 0)
            for name, value in row.items():
                if value is not None:
                    ws.cell(row=r, column=position[noms[name]], value=value)
    wb.save(path)


def _nombre(v) -> float:
    return float(str(v).replace(" ", "").replace(",", ".")) if isinstance(v, str) else float(v)


def _date(v) -> str:
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d")
    d, m, y = str(v).split("/")
    return f"{y}-{m}-{d}"


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def modele_vide(tmp_path) -> Path:
    return modele.ecrire_modele(tmp_path / "programmation.xlsx")


def test_round_trip_validates_and_keeps_every_value(tmp_path, modele_vide, capsys):
    _remplir(modele_vide, SHEETS)
    before = hashlib.sha256(modele_vide.read_bytes()).hexdigest()
    out = _base(tmp_path / "donnees")
    res = modele.importer(modele_vide, out)
    assert hashlib.sha256(modele_vide.read_bytes()).hexdigest() == before  # input untouched
    assert res.lignes == {t: len(rows) for t, rows in SHEETS.items()}
    # What `cucs validate` says about the completed folder.
    capsys.readouterr()
    assert main(["validate", str(out)]) == 0, capsys.readouterr().out
    for table, rows in SHEETS.items():
        csv = pd.read_csv(out / f"{table}.csv", dtype=str, keep_default_na=False)
        assert len(csv) == len(rows)
        for i, row in enumerate(rows):
            for name, value in row.items():
                got = csv.loc[i, name]
                kind = schema.TABLES[table].column(name).kind
                if value is None:
                    assert got == "", (table, i, name)
                elif kind == "date":
                    assert got == _date(value), (table, i, name)
                elif kind == "bool":
                    assert got == {True: "oui", False: "non"}.get(value, value), (table, i, name)
                elif kind in ("float", "int", "year"):
                    assert float(got) == pytest.approx(_nombre(value), abs=0), (table, i, name)
                else:
                    assert got == str(value), (table, i, name)
    csv = pd.read_csv(out / "operateurs.csv", dtype=str)
    assert COMMUNE_ZERO in set(csv["code_commune"]) and "0099" in set(csv["id_operateur"])
    # The tables already there are kept, and the metadata name the workbook and its years.
    assert (out / "communes.csv").read_text(encoding="utf-8").count(COMMUNE_ZERO) == 1
    import yaml

    meta = yaml.safe_load((out / "metadonnees.yaml").read_text(encoding="utf-8"))
    assert any(s.get("fichier") == "programmation.xlsx" for s in meta["sources"])
    assert meta["import"]["modele"]["compteurs"]["actions"] == len(ACTIONS)


def test_three_mistakes_give_three_french_messages_and_nothing_written(tmp_path, modele_vide):
    actions = [dict(a) for a in ACTIONS]
    financements = [dict(f) for f in FINANCEMENTS]
    actions[2]["dispositif"] = "ZZ inconnu"  # 1. unknown dispositif
    financements[0]["montant_accorde"] = -50  # 2. negative amount
    financements[2]["id_action"] = "A-999"  # 3. funding line of an unknown action
    # Data rows start at Excel row 4, with a blank row 5 in between: rows are Excel rows.
    _remplir(modele_vide, {"actions": actions, "financements": financements, "operateurs": OPERATEURS}, 4)
    out = _base(tmp_path / "donnees")
    before = _hashes(out)
    with pytest.raises(DataError) as exc:
        modele.importer(modele_vide, out)
    problems = exc.value.problems
    lines = [str(p) for p in problems]
    assert len(problems) == 3, "\n".join(lines)
    assert _hashes(out) == before  # nothing written
    ent_a, ent_f = modele.entetes("actions"), modele.entetes("financements")
    # actions[2] is typed on Excel row 4 + 2 + 1 (the blank row) = 7; financements[0] on row 4.
    by_rule = {p.regle: p for p in problems}
    d = by_rule["valeurs admises"]
    assert (d.fichier, d.ligne, d.colonne) == ("feuille « Actions »", 7, ent_a["dispositif"])
    m = by_rule["minimum"]
    assert (m.fichier, m.ligne, m.colonne) == ("feuille « Financements »", 4, ent_f["montant_accorde"])
    r = by_rule["référence inconnue"]
    assert (r.fichier, r.ligne) == ("feuille « Financements »", 7)
    assert (
        f"dans la feuille « Actions » (colonnes « {ent_a['id_action']} », « {ent_a['annee']} »)" in r.message
    )
    assert str(m).startswith(f"feuille « Financements », ligne 4, colonne « {ent_f['montant_accorde']} »")
    assert "[règle :" in str(m) and "négative" in str(m)
    assert not any(".csv" in s for s in lines)


def test_wrong_code_shape_is_one_message_not_a_follow_on_reference(tmp_path, modele_vide):
    actions = [dict(a) for a in ACTIONS]
    actions[0]["code_commune"] = 1004  # typed as a number: the leading zero lost
    _remplir(modele_vide, {"actions": actions, "financements": FINANCEMENTS, "operateurs": OPERATEURS})
    with pytest.raises(DataError) as exc:
        modele.importer(modele_vide, _base(tmp_path / "donnees"))
    (p,) = exc.value.problems
    assert (p.ligne, p.colonne, p.regle) == (2, modele.entetes("actions")["code_commune"], "forme du code")
    assert "zéro initial" in p.message


def test_a_mistyped_year_is_not_sent_to_metadonnees(tmp_path, modele_vide):
    actions = [dict(a) for a in ACTIONS]
    actions[2]["annee"] = 2101
    financements = [f for f in FINANCEMENTS if f["id_action"] != "A-002"]
    _remplir(modele_vide, {"actions": actions, "financements": financements, "operateurs": OPERATEURS})
    with pytest.raises(DataError) as exc:
        modele.importer(modele_vide, _base(tmp_path / "donnees"))
    (p,) = exc.value.problems
    col = schema.TABLES["actions"].column("annee")
    assert (p.ligne, p.colonne, p.valeur) == (4, modele.entetes("actions")["annee"], "2101")
    assert f"entre {int(col.minimum)} et {int(col.maximum)}" in p.message and "metadonnees" not in p.message


def test_duplicate_key_names_the_first_excel_row(tmp_path, modele_vide):
    actions = [dict(a) for a in ACTIONS] + [dict(ACTIONS[0], intitule="Doublon")]
    _remplir(modele_vide, {"actions": actions, "financements": FINANCEMENTS, "operateurs": OPERATEURS}, 4)
    with pytest.raises(DataError) as exc:
        modele.importer(modele_vide, _base(tmp_path / "donnees"))
    (p,) = exc.value.problems
    ent = modele.entetes("actions")
    # Rows 4, (5 blank), 6, 7, 8: the duplicate is on row 8, its first occurrence on row 4.
    assert (p.fichier, p.ligne, p.regle) == ("feuille « Actions »", 8, "clé en double")
    assert p.colonne == f"{ent['id_action']}, {ent['annee']}"
    assert f"(« {ent['id_action']} », « {ent['annee']} ») ont déjà cette valeur à la ligne 4" in p.message


def test_an_empty_workbook_is_refused(tmp_path, modele_vide):
    with pytest.raises(DataError) as exc:
        modele.importer(modele_vide, tmp_path / "donnees")
    (p,) = exc.value.problems
    assert p.regle == "classeur vide" and not (tmp_path / "donnees").exists()


def test_unknown_values_are_kept_as_inconnu_with_a_warning(tmp_path, modele_vide, capsys):
    actions = [dict(a) for a in ACTIONS]
    financements = [dict(f) for f in FINANCEMENTS]
    actions[1]["prioritaire"] = "inconnu"  # an unknown bool is not « non »
    financements[1]["montant_demande"] = "Inconnu"
    _remplir(modele_vide, {"actions": actions, "financements": financements, "operateurs": OPERATEURS})
    wb = load_workbook(modele_vide)
    ws = wb[modele.FEUILLES["actions"]]
    ws.cell(row=1, column=ws.max_column + 1, value="Commentaires")  # a column of the user's own
    wb.save(modele_vide)
    out = _base(tmp_path / "donnees")
    res = modele.importer(modele_vide, out)
    texte = "\n".join(res.avertissements)
    for table, name in (("actions", "prioritaire"), ("financements", "montant_demande")):
        assert f"« {modele.entetes(table)[name]} »" in texte
    assert "« Commentaires »" in texte and "ignorée" in texte
    assert pd.read_csv(out / "actions.csv", dtype=str).loc[1, "prioritaire"] == "inconnu"
    assert pd.read_csv(out / "financements.csv", dtype=str).loc[1, "montant_demande"] == "inconnu"
    capsys.readouterr()
    assert main(["validate", str(out)]) == 0, capsys.readouterr().out
    # « inconnu » where the schema does not accept it is an error on that cell.
    financements[1]["montant_accorde"] = "inconnu"
    modele_vide.unlink()
    modele.ecrire_modele(modele_vide)
    _remplir(modele_vide, {"actions": actions, "financements": financements, "operateurs": OPERATEURS})
    with pytest.raises(DataError) as exc:
        modele.importer(modele_vide, out, force=True)
    (p,) = exc.value.problems
    assert (p.fichier, p.ligne, p.colonne) == (
        "feuille « Financements »",
        3,
        modele.entetes("financements")["montant_accorde"],
    )


def test_drop_down_lists_hold_the_schema_values(modele_vide):
    wb = load_workbook(modele_vide)
    listes = wb[modele.LISTES]
    assert listes.sheet_state == "hidden"
    expected = {
        ("actions", "thematique"),
        ("actions", "dispositif"),
        ("actions", "statut"),
        ("actions", "prioritaire"),
        ("financements", "institution"),
        ("financements", "type_credit"),
        ("operateurs", "statut_juridique"),
        ("operateurs", "echelle"),
    }
    for table, name in expected:
        col = schema.TABLES[table].column(name)
        ws = wb[modele.FEUILLES[table]]
        letter = next(c.column_letter for c in ws[1] if c.value == modele.entetes(table)[name])
        dvs = [
            dv
            for dv in ws.data_validations.dataValidation
            if dv.type == "list" and letter + "2" in str(dv.sqref)
        ]
        assert len(dvs) == 1, (table, name)
        ref = dvs[0].formula1.split("!")[1].replace("$", "")
        values = [c.value for row in listes[ref] for c in row]
        allowed = list(col.allowed) if col.kind == "category" else ["oui", "non"]
        if getattr(col, "inconnu", False):
            allowed.append("inconnu")
        assert values == allowed, (table, name)
    # Identifiers of another sheet are offered (a warning only: that sheet may come later).
    for table, name, target in (
        ("actions", "id_operateur", "operateurs"),
        ("financements", "id_action", "actions"),
    ):
        ws = wb[modele.FEUILLES[table]]
        letter = next(c.column_letter for c in ws[1] if c.value == modele.entetes(table)[name])
        (dv,) = [dv for dv in ws.data_validations.dataValidation if letter + "2" in str(dv.sqref)]
        target_letter = next(
            c.column_letter for c in wb[modele.FEUILLES[target]][1] if c.value == modele.entetes(target)[name]
        )
        assert dv.formula1.startswith(f"'{modele.FEUILLES[target]}'!${target_letter}$2:")
        assert dv.errorStyle == "warning"
    # No drop-down on a free-text column; code columns are formatted as text.
    ws = wb[modele.FEUILLES["actions"]]
    letters = {c.value: c.column_letter for c in ws[1]}
    text_letter = letters[modele.entetes("actions")["intitule"]]
    assert not any(text_letter + "2" in str(dv.sqref) for dv in ws.data_validations.dataValidation)
    assert ws.column_dimensions[letters[modele.entetes("actions")["code_commune"]]].number_format == "@"
    assert ws.freeze_panes == "A2"
    # Headers follow the schema: one per column, the technical name in the note.
    assert [c.comment.text.splitlines()[0] for c in ws[1]] == [
        f"Nom technique : {n}" for n in schema.TABLES["actions"].column_names
    ]
    assert wb.sheetnames[0] == modele.MODE_EMPLOI


def test_missing_sheet_is_one_french_message(tmp_path, modele_vide):
    _remplir(modele_vide, SHEETS)
    wb = load_workbook(modele_vide)
    del wb[modele.FEUILLES["financements"]]
    wb.save(modele_vide)
    out = tmp_path / "donnees"
    with pytest.raises(DataError) as exc:
        modele.importer(modele_vide, out)
    (p,) = exc.value.problems
    assert p.regle == "feuille absente" and "« Financements »" in p.message
    assert not out.exists()


def test_missing_header_is_one_french_message(tmp_path, modele_vide):
    _remplir(modele_vide, SHEETS)
    wb = load_workbook(modele_vide)
    ws = wb[modele.FEUILLES["financements"]]
    header = modele.entetes("financements")["montant_accorde"]
    cell = next(c for c in ws[1] if c.value == header)
    cell.value = None
    wb.save(modele_vide)
    with pytest.raises(DataError) as exc:
        modele.importer(modele_vide, tmp_path / "donnees")
    (p,) = exc.value.problems
    assert (p.fichier, p.ligne, p.colonne, p.regle) == (
        "feuille « Financements »",
        1,
        header,
        "colonne manquante",
    )


def test_unchecked_references_are_said(tmp_path, modele_vide):
    _remplir(modele_vide, SHEETS)
    res = modele.importer(modele_vide, tmp_path / "seul")
    texte = "\n".join(res.avertissements)
    assert "communes" in texte and "non vérifiée" in texte and "« Commune de l'action »" in texte


def test_cli_template_then_import(tmp_path, capsys):
    path = tmp_path / "prog.xlsx"
    assert main(["template", str(path)]) == 0
    assert "prog.xlsx" in capsys.readouterr().out
    assert main(["template", str(path)]) == 1  # no silent overwrite
    assert "--force" in capsys.readouterr().err
    _remplir(path, SHEETS)
    out = _base(tmp_path / "donnees")
    assert main(["import", "modele", str(path), "--out", str(out)]) == 0
    assert "3 lignes d'action" in capsys.readouterr().out
    # Importing again replaces the tables only with --force.
    assert main(["import", "modele", str(path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "--force" in err and "Traceback" not in err
    assert main(["import", "modele", str(path), "--out", str(out), "--force"]) == 0
    # A mistake: French lines naming the sheet, nothing written.
    wb = load_workbook(path)
    ws = wb[modele.FEUILLES["financements"]]
    col = next(c.column for c in ws[1] if c.value == modele.entetes("financements")["montant_accorde"])
    ws.cell(row=3, column=col, value=-1)
    wb.save(path)
    before = _hashes(out)
    capsys.readouterr()
    assert main(["import", "modele", str(path), "--out", str(out), "--force"]) == 1
    err = capsys.readouterr().err
    assert "feuille « Financements », ligne 3" in err and "Traceback" not in err
    assert _hashes(out) == before


def test_a_damaged_workbook_is_one_french_message(tmp_path, modele_vide):
    damaged = tmp_path / "abime.xlsx"
    damaged.write_bytes(modele_vide.read_bytes()[:2000])  # a truncated download
    with pytest.raises(DataError) as exc:
        modele.importer(damaged, tmp_path / "donnees")
    (p,) = exc.value.problems
    assert (p.fichier, p.regle) == ("abime.xlsx", "fichier illisible") and "illisible" in p.message
    assert not (tmp_path / "donnees").exists()


def test_a_formula_never_computed_is_not_read_as_an_empty_cell(tmp_path, modele_vide):
    actions = [dict(a) for a in ACTIONS]
    actions[1]["intitule"] = '=CONCATENATE("Accompagnement ", "scolaire")'  # written by a program
    _remplir(modele_vide, {"actions": actions, "financements": FINANCEMENTS, "operateurs": OPERATEURS})
    with pytest.raises(DataError) as exc:
        modele.importer(modele_vide, tmp_path / "donnees")
    (p,) = exc.value.problems
    assert (p.fichier, p.ligne, p.colonne, p.regle) == (
        "feuille « Actions »",
        3,
        modele.entetes("actions")["intitule"],
        "formule sans valeur",
    )
