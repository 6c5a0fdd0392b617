"""The validator and foreign files (issue 11, point 7): a known open-data layout is recognised
and the right `cucs import` command named; the follow-on errors of one missing column are one
line; a name column is never told it is a code.

Every foreign file here is a tiny hand-made file in the published layout (fictitious values),
never a copy of real data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cucs_analysis.cli import main
from cucs_analysis.data import dataset as load
from cucs_analysis.data import foreign, schema
from cucs_analysis.data.errors import AVERTISSEMENT, ERREUR, avertissements, erreurs
from cucs_analysis.data.readers import suggest_column
from cucs_analysis.data.validate import format_report, validate_dir, validate_file

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"

INSEE_HEADER = "code_qp,nom_qp,nom_commune,pop_mun,pop_com_qp,ind_jeune,tx_tot_et,tp60,abcde"
INSEE_ROW = "QP999001,Quartier fictif,Villefictive,1234,8,30.5,12.1,40.2,150"
POSTES = [
    {
        "id_poste": "00199R000001",
        "code_tiers": "99999999900011",
        "raison_sociale": "ASSOCIATION FICTIVE",
        "annee": 2023,
        "montant": 1000.5,
        "code_cv": "CV999",
        "insee_dep": "99",
        "insee_reg": "99",
    }
]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path / "cache"))
    load.clear_memo()
    yield
    load.clear_memo()


def feature_collection(props: dict) -> str:
    square = [[[0.1, 43.0], [0.2, 43.0], [0.2, 43.1], [0.1, 43.0]]]
    return json.dumps(
        {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
            "features": [
                {
                    "type": "Feature",
                    "properties": props,
                    "geometry": {"type": "Polygon", "coordinates": square},
                }
            ],
        }
    )


def write_insee(path: Path, sep: str = ",", upper: bool = False, bom: bool = False) -> Path:
    header = INSEE_HEADER.upper() if upper else INSEE_HEADER
    text = f"{header}\n{INSEE_ROW}\n".replace(",", sep)
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def write_contours(path: Path) -> Path:
    path.write_text(
        feature_collection({"code_qp": "QP999001", "nom_qp": "Quartier fictif"}), encoding="utf-8"
    )
    return path


def write_postes_json(path: Path) -> Path:
    path.write_text(json.dumps(POSTES), encoding="utf-8")
    return path


def write_postes_csv(path: Path) -> Path:
    keys = list(POSTES[0])
    path.write_text(
        ";".join(keys) + "\n" + ";".join(str(POSTES[0][k]) for k in keys) + "\n", encoding="utf-8"
    )
    return path


def write_contrats(path: Path) -> Path:
    path.write_text(
        feature_collection({"codgeo": "999999999", "code_cv": "CV999", "lib_cv": "Contrat fictif"})
    )
    return path


def write_workbook(path: Path) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Mode d'emploi"
    wb.create_sheet("Actions").append(["Identifiant de l'action", "Année"])
    wb.create_sheet("Financements").append(["Identifiant de l'action", "Financeur"])
    wb.save(path)
    return path


# --- recognition ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "writer, name, kind, command",
    [
        (write_insee, "qp.csv", "insee_qpv", "cucs import insee-qpv qp.csv"),
        (
            lambda p: write_insee(p, ";", upper=True, bom=True),
            "QP_2020.csv",
            "insee_qpv",
            "cucs import insee-qpv",
        ),
        (write_contours, "qp.geojson", "contours_qpv", "--contours qp.geojson"),
        (
            write_postes_json,
            "adulte-relais-2023.json",
            "civille",
            "cucs import civille adulte-relais-2023.json",
        ),
        (write_postes_csv, "postes.csv", "civille", "cucs import civille postes.csv"),
        (write_contrats, "geom_cv_ctr.json", "contrats_civille", "--contrats geom_cv_ctr.json"),
        (write_workbook, "programmation.xlsx", "modele", "cucs import modele programmation.xlsx"),
    ],
)
def test_known_layouts_are_recognised(tmp_path, writer, name, kind, command):
    path = writer(tmp_path / name)
    found = foreign.recognise(path)
    assert found is not None and found.kind == kind
    msg = found.message(name)
    assert msg.startswith(f"{name} ressemble ") and command in msg


@pytest.mark.parametrize(
    "content",
    [
        "a,b,c\n1,2,3\n",
        "code_quartier,nom\nQP020001,X\n",  # a table of the project, not a foreign layout
        "code_qp\nQP999001\n",  # one column alone says too little
        "montant,annee\n3,2020\n",
    ],
)
def test_other_files_are_not_claimed(tmp_path, content):
    p = tmp_path / "notes.csv"
    p.write_text(content, encoding="utf-8")
    assert foreign.recognise(p) is None
    (tmp_path / "vide.json").write_text("{not json", encoding="utf-8")
    assert foreign.recognise(tmp_path / "vide.json") is None


def test_a_raw_download_folder_names_the_commands(tmp_path):
    d = tmp_path / "brut"
    d.mkdir()
    write_insee(d / "qp.csv")
    write_contours(d / "qp.geojson")
    write_postes_json(d / "postes-fonjep-2022.json")
    problems = validate_dir(d)
    report = format_report(problems)
    # The foreign files come first, as errors (they are why the tables are missing).
    first = problems[:3]
    assert {p.fichier for p in first} == {"qp.csv", "qp.geojson", "postes-fonjep-2022.json"}
    assert all(p.niveau == ERREUR and p.regle == "fichier d'un autre format" for p in first)
    # The companion file is named in the command line.
    assert "« cucs import insee-qpv qp.csv --contours qp.geojson --out DOSSIER »" in report
    assert "« cucs import civille postes-fonjep-2022.json --out DOSSIER »" in report
    assert sum(p.regle == "table absente" for p in problems) == len(schema.REQUIRED_TABLES)


def test_foreign_files_beside_valid_tables_only_warn(tmp_path, capsys):
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    write_insee(d / "qp.csv")
    write_workbook(d / "programmation.xlsx")
    problems = validate_dir(d)
    assert erreurs(problems) == []
    assert sorted(p.fichier for p in avertissements(problems)) == ["programmation.xlsx", "qp.csv"]
    assert all(p.niveau == AVERTISSEMENT for p in problems)
    assert main(["validate", str(d)]) == 0
    assert "cucs import modele programmation.xlsx" in capsys.readouterr().out
    # Not kept with the data set (the cache does not follow files that are not tables).
    assert load.load_dataset(d).avertissements == []


def test_a_foreign_file_under_a_table_name_is_one_line(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    write_insee(d / "quartiers.csv")
    write_contours(d / "quartiers.geojson")
    problems = validate_dir(d)
    mine = [p for p in problems if p.fichier in ("quartiers.csv", "quartiers.geojson")]
    assert [(p.fichier, p.regle) for p in mine] == [
        ("quartiers.csv", "fichier d'un autre format"),
        ("quartiers.geojson", "fichier d'un autre format"),
    ]
    assert "cucs import insee-qpv" in mine[0].message and "--contours quartiers.geojson" in mine[1].message


def test_cucs_validate_on_a_file(tmp_path, capsys):
    qp = write_insee(tmp_path / "qp.csv")
    assert main(["validate", str(qp)]) == 1
    out = capsys.readouterr().out
    assert "qp.csv ressemble au fichier INSEE des indicateurs des QPV" in out
    assert "utilisez « cucs import insee-qpv qp.csv" in out
    assert main(["validate", str(MINIMAL / "communes.csv")]) == 0
    assert "le fichier communes.csv est valide" in capsys.readouterr().out
    other = tmp_path / "notes.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    assert [p.regle for p in validate_file(other)] == ["fichier inconnu"]
    assert main(["validate", str(other)]) == 1


# --- one missing column, one line --------------------------------------------------------------------


def drop_column(d: Path, table: str, column: str) -> None:
    import pandas as pd

    df = pd.read_csv(d / f"{table}.csv", dtype=str, keep_default_na=False)
    df.drop(columns=[column]).to_csv(d / f"{table}.csv", index=False)


@pytest.mark.parametrize(
    "table, column",
    [
        ("quartiers", "code_commune"),  # referenced, and a reference itself
        ("quartiers", "code_quartier"),  # the key, the geometry link, a reference target
        ("communes", "code_epci"),  # target of the EPCI-level indicators
        ("indicateurs", "indicateur"),  # in the key and a reference
        ("actions", "annee"),  # in the key, a period column, target of financements
        ("financements", "montant_accorde"),
    ],
)
def test_a_missing_column_is_one_line(tmp_path, table, column):
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    drop_column(d, table, column)
    problems = validate_dir(d)
    assert [(p.fichier, p.ligne, p.colonne, p.regle) for p in problems] == [
        (f"{table}.csv", 1, column, "colonne manquante")
    ], format_report(problems)


def test_a_misspelt_column_is_one_line_naming_both(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    text = (d / "communes.csv").read_text(encoding="utf-8")
    (d / "communes.csv").write_text(text.replace("code_commune,", "code_comune,", 1), encoding="utf-8")
    problems = validate_dir(d)
    assert len(problems) == 1, format_report(problems)
    p = problems[0]
    assert (p.colonne, p.valeur, p.regle) == ("code_commune", "code_comune", "colonne manquante")
    assert "renommez-la « code_commune »" in p.message


# --- suggestions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, table, expected",
    [
        ("code_comune", "communes", "code_commune"),
        ("Code_Commune ", "communes", "code_commune"),
        ("codecommune", "communes", "code_commune"),
        ("id_operateurs", "operateurs", "id_operateur"),
        ("nom_commune", "communes", None),  # a name is never told it is a code
        ("nom_quartier", "quartiers", None),
        ("commune", "quartiers", None),
        ("libelle_commune", "communes", None),
        ("nom_epci", "communes", None),
    ],
)
def test_suggestions_stay_within_a_kind_of_column(header, table, expected):
    assert suggest_column(header, set(schema.TABLES[table].column_names)) == expected


def test_a_name_column_gets_no_code_suggestion_in_the_report(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    text = (d / "quartiers.csv").read_text(encoding="utf-8").splitlines()
    lines = [text[0] + ",nom_commune"] + [ln + ",Villebelle" for ln in text[1:]]
    (d / "quartiers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = validate_dir(d)
    assert [(p.colonne, p.regle) for p in problems] == [("nom_commune", "colonne inconnue")]
    assert "vouliez-vous dire" not in problems[0].message


def test_the_workbook_under_a_table_name_is_one_line_but_a_table_workbook_is_read(tmp_path):
    import openpyxl

    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    (d / "actions.csv").unlink()
    write_workbook(d / "actions.xlsx")
    mine = [p for p in validate_dir(d) if p.fichier == "actions.xlsx"]
    assert [p.regle for p in mine] == ["fichier d'un autre format"]
    assert "cucs import modele actions.xlsx" in mine[0].message
    # A workbook whose « actions » sheet holds the table's own columns is a table, not the template.
    import pandas as pd

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "actions"
    act = pd.read_csv(MINIMAL / "actions.csv", dtype=str, keep_default_na=False)
    ws.append(list(act.columns))
    for row in act.itertuples(index=False):
        ws.append(list(row))
    wb.create_sheet("financements").append(["id_action"])
    wb.save(d / "actions.xlsx")
    problems = validate_dir(d)
    assert problems == [], format_report(problems)
