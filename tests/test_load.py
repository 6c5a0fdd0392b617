"""Loaders: French file conventions, coercion, dataset, cache and territory bundle."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cucs_analysis.data import dataset as load
from cucs_analysis.data import readers, schema
from cucs_analysis.data.dataset import load_dataset, load_territory
from cucs_analysis.data.errors import DataError
from cucs_analysis.data.readers import read_csv, read_table, sniff_encoding, sniff_separator

HERE = Path(__file__).parent
MINIMAL = HERE / "fixtures" / "minimal"
CORPUS = HERE / "bad_inputs"
DEMO = HERE.parent / "data" / "demo"
HAS_DEMO = (DEMO / "metadonnees.yaml").exists()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path / "cache"))
    load.clear_memo()
    yield
    load.clear_memo()


def overlay(case: str, tmp_path: Path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    remove = CORPUS / case / "supprimer.txt"
    if remove.exists():
        for name in remove.read_text(encoding="utf-8").split():
            (d / name).unlink()
    for f in (CORPUS / case).iterdir():
        if f.name not in ("expected.txt", "supprimer.txt"):
            shutil.copy(f, d / f.name)
    return d


# --- sniffing and coercion -----------------------------------------------------------------------


def test_sniff_encoding():
    assert sniff_encoding("é".encode()) == "utf-8-sig"
    assert sniff_encoding(b"\xef\xbb\xbfnom") == "utf-8-sig"
    assert sniff_encoding("Valzéro".encode("cp1252")) == "cp1252"
    assert sniff_encoding(b"PK\x03\x04\x00\x00") is None


def test_sniff_separator():
    assert sniff_separator("a;b;c") == ";"
    assert sniff_separator("a,b,c") == ","
    assert sniff_separator("a\tb\tc") == "\t"
    assert sniff_separator("seule") == ","


def test_codes_keep_leading_zeros():
    communes = read_csv(MINIMAL / "communes.csv", schema.TABLES["communes"])
    assert communes["code_commune"].tolist() == ["20001", "20002", "02003"]
    assert communes["code_departement"].tolist() == ["20", "20", "02"]
    assert str(communes["population"].dtype) == "Int64"
    assert communes["signataire_cucs"].tolist() == [True, True, False]


def test_semicolon_decimal_comma_bom(tmp_path):
    f = CORPUS / "ok_point_virgule" / "financements.csv"
    df, problems = read_table(f, schema.TABLES["financements"])
    assert problems == []
    assert df["montant_demande"].tolist() == [12000.5, 5000.0, 12000.0, 30000.0]
    assert df["montant_accorde"].tolist() == [10000.25, 5000.0, 11000.0, 25000.0]
    assert df["financeur"].iloc[0] == "ACSé"
    assert list(df.columns[:2]) == ["id_action", "annee"]  # BOM stripped from the header
    assert df["date_depot"].iloc[0] == pd.Timestamp(2009, 11, 15)  # JJ/MM/AAAA
    assert df["date_depot"].iloc[1] == pd.Timestamp(2009, 11, 15)  # ISO
    assert pd.isna(df["date_paiement"].iloc[2])
    assert df.index.tolist() == [2, 3, 4, 5]  # physical line numbers


def test_latin1_file_is_read():
    communes = read_csv(CORPUS / "ok_latin1" / "communes.csv", schema.TABLES["communes"])
    assert communes["nom"].tolist()[2] == "Valzéro"


def test_secrecy_codes_become_missing_with_flags():
    df = read_csv(MINIMAL / "indicateurs.csv", schema.TABLES["indicateurs"])
    row = df[df["code_territoire"] == "QP020002"].iloc[0]
    assert pd.isna(row["valeur"]) and pd.isna(row["numerateur"])
    assert bool(row["valeur_secret"]) and bool(row["secret"])
    assert df["valeur_secret"].sum() == 1
    assert df.loc[df["code_territoire"] == "QP020001", "valeur"].tolist() == [24.5, 22.0, 3200.0]


def test_coercion_failures_are_problems_not_exceptions(tmp_path):
    f = tmp_path / "enquetes.csv"
    f.write_text(
        "id_reponse;type_repondant;code_quartier;question;reponse;annee\n"
        "R1;habitant;QP020001;q;trois;2010\n"
        "R2;habitant;QP020001;q;2,5;2010\n"
        "R3;habitant;QP020001;q;4;deux mille\n",
        encoding="utf-8",
    )
    df, problems = read_table(f, schema.TABLES["enquetes"])
    assert [(p.ligne, p.colonne, p.valeur, p.regle) for p in problems] == [
        (2, "reponse", "trois", "type"),
        (3, "reponse", "2,5", "type"),
        (4, "annee", "deux mille", "type"),
    ]
    assert df["reponse"].isna().tolist() == [True, True, False]


def test_boolean_words(tmp_path):
    col = schema.Column("b", "bool", "test")
    s = pd.Series(["oui", "Non", "VRAI", "faux", "1", "0", "o", "n", "peut-être", ""], dtype="str")
    values, _, problems = readers.coerce_column(s, col, "t", "t.csv")
    assert values.tolist()[:8] == [True, False, True, False, True, False, True, False]
    assert pd.isna(values.iloc[8]) and pd.isna(values.iloc[9])
    assert [p.valeur for p in problems] == ["peut-être"]


def test_excel_sheet_named_after_table():
    df, problems = read_table(CORPUS / "ok_excel" / "operateurs.xlsx", schema.TABLES["operateurs"])
    assert problems == []
    assert df["id_operateur"].tolist() == ["OP001", "OP002", "OP003"]
    assert df["budget_annuel"].iloc[0] == 85000.0
    assert df["annee_creation"].tolist() == [1998, 2003, 2008]


def test_parquet_table(tmp_path):
    src = read_csv(MINIMAL / "communes.csv", schema.TABLES["communes"])
    src.to_parquet(tmp_path / "communes.parquet")
    df, problems = read_table(tmp_path / "communes.parquet", schema.TABLES["communes"])
    assert problems == []
    pd.testing.assert_frame_equal(df.reset_index(drop=True), src)


def test_read_csv_unreadable_raises(tmp_path):
    f = tmp_path / "x.csv"
    f.write_bytes(b"\x00\x01binary")
    with pytest.raises(DataError, match="binaire"):
        read_csv(f)


# --- dataset -----------------------------------------------------------------------------------


def test_load_dataset_minimal(tmp_path):
    ds = load_dataset(MINIMAL)
    assert set(ds.tables) == set(schema.TABLES)
    # The minimal set has every table but the multi-commune link (no QPV over two communes).
    assert ds.available == frozenset(schema.TABLES) - {"quartiers_communes"}
    assert ds.metadata.annee_debut == 2005 and ds.metadata.annee_fin == 2014
    assert len(ds.tables["actions"]) == 4
    assert isinstance(ds.tables["actions"].index, pd.RangeIndex)
    assert "quartiers" in ds.geometries and len(ds.geometries["quartiers"]) == 4
    assert len(ds.fingerprint) == 64


def test_absent_optional_table_is_empty_with_schema_dtypes(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    (d / "gup.csv").unlink()
    ds = load_dataset(d)
    gup = ds.tables["gup"]
    assert gup.empty and "gup" not in ds.available
    assert list(gup.columns) == list(schema.TABLES["gup"].column_names)
    assert str(gup["delai_resolution_jours"].dtype) == "Int64"
    assert pd.api.types.is_datetime64_any_dtype(gup["date"])


def test_load_dataset_raises_with_every_problem(tmp_path):
    d = overlay("likert_7", tmp_path)
    with pytest.raises(DataError) as exc:
        load_dataset(d)
    assert any(p.colonne == "reponse" and p.valeur == "7" for p in exc.value.problems)
    assert "enquetes.csv, ligne 3" in str(exc.value)


@pytest.mark.parametrize("case", ["ok_latin1", "ok_point_virgule", "ok_excel"])
def test_positive_cases_load(case, tmp_path):
    ds = load_dataset(overlay(case, tmp_path))
    assert ds.tables["communes"]["code_commune"].tolist() == ["20001", "20002", "02003"]
    assert ds.tables["financements"]["montant_accorde"].sum() == pytest.approx(
        51000.25 if "virgule" in case else 51000
    )


def test_fingerprint_depends_on_bytes(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    fp1 = readers.fingerprint(readers.find_files(d))
    with (d / "gup.csv").open("a", encoding="utf-8") as f:
        f.write("G003,2012-01-02,QP020001,voirie,3,résolu\n")
    assert readers.fingerprint(readers.find_files(d)) != fp1


def test_cache_is_used_in_a_new_process_and_is_outside_data_dir(tmp_path, monkeypatch):
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    before = sorted(p.name for p in d.iterdir())
    ds = load_dataset(d)
    assert sorted(p.name for p in d.iterdir()) == before  # nothing written in the data dir
    entry = tmp_path / "cache" / ds.fingerprint
    assert (entry / "meta.pkl").exists()
    # A fresh process must read the cache, not parse: make parsing impossible there.
    code = (
        "import sys; from cucs_analysis.data import dataset as load, validate\n"
        "validate.inspect_dir = lambda *a, **k: sys.exit('parsed')\n"
        f"ds = load.load_dataset({str(d)!r})\n"
        "print(ds.tables['communes']['code_commune'].tolist(), str(ds.tables['actions']['annee'].dtype))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "['20001', '20002', '02003'] Int64" in out.stdout


def test_corrupt_cache_is_rebuilt(tmp_path):
    ds = load_dataset(MINIMAL)
    entry = tmp_path / "cache" / ds.fingerprint
    (entry / "t_actions.parquet").write_bytes(b"garbage")
    load.clear_memo()
    ds2 = load_dataset(MINIMAL)
    assert len(ds2.tables["actions"]) == 4
    assert pd.read_parquet(entry / "t_actions.parquet").shape[0] == 4


def test_memo_is_protected_from_caller_edits():
    ds = load_dataset(MINIMAL)
    ds.tables["actions"]["intitule"] = "modifié"
    assert load_dataset(MINIMAL).tables["actions"]["intitule"].iloc[0] == "Accompagnement à la scolarité"


# --- territory ---------------------------------------------------------------------------------


def test_territory_filters():
    t = load_territory(MINIMAL, "20001")
    assert t.commune["nom"] == "Villebelle"
    assert sorted(t.quartiers["code_quartier"]) == ["QP020001", "QP020002"]
    assert t.quartiers.geometry.notna().all() and t.quartiers.crs.to_epsg() == 2154
    # Other quartiers of the region that are veille or catégorie 3.
    assert sorted(t.quartiers_comparaison["code_quartier"]) == ["QV020003", "QV020004"]
    assert sorted(t.actions["id_action"].unique()) == ["A001", "A002"]
    assert len(t.financements) == 4
    assert sorted(t.operateurs["id_operateur"]) == ["OP001", "OP002"]
    ind = t.indicateurs
    assert set(ind["niveau"]) == {"quartier", "commune", "epci", "departement", "region"}
    assert "02003" not in set(ind["code_territoire"])
    assert "QV020004" in set(ind["code_territoire"])
    assert sorted(t.enquetes["id_reponse"]) == ["R001", "R002", "R003"]
    assert len(t.droit_commun) == 3 and len(t.gup) == 2 and len(t.equipements) == 2
    assert all(t.available.values())


def test_territory_without_actions():
    t = load_territory(MINIMAL, "02003")
    assert t.commune["code_departement"] == "02"
    assert not t.available["actions"] and t.actions.empty
    assert list(t.actions.columns) == list(schema.TABLES["actions"].column_names)
    assert t.available["quartiers"]


def test_unknown_commune_lists_valid_codes():
    with pytest.raises(DataError) as exc:
        load_territory(MINIMAL, "2003")
    msg = str(exc.value)
    assert "« 2003 »" in msg and "« 02003 »" in msg and "« 20001 »" in msg
    with pytest.raises(DataError, match="chaîne"):
        load_territory(MINIMAL, 20001)  # type: ignore[arg-type]


def test_warm_territory_is_fast():
    load_territory(MINIMAL, "20001")
    start = time.perf_counter()
    load_territory(MINIMAL, "20002")
    assert time.perf_counter() - start < 1.0


@pytest.mark.skipif(not HAS_DEMO, reason="données de démonstration absentes")
def test_demo_loads_and_warm_territory_is_fast():
    ds = load_dataset(DEMO)
    code = ds.tables["communes"]["code_commune"].iloc[0]
    load_territory(DEMO, code)
    load.clear_memo()  # warm disk cache, cold process memo
    start = time.perf_counter()
    t = load_territory(DEMO, code)
    assert time.perf_counter() - start < 1.0
    assert t.code_commune == code


def test_geopackage_contours_are_read_like_geojson(tmp_path, monkeypatch):
    import geopandas as gpd

    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "donnees"
    shutil.copytree(MINIMAL, data)
    geo = gpd.read_file(data / "quartiers.geojson")
    (data / "quartiers.geojson").unlink()
    geo.to_file(data / "quartiers.gpkg", driver="GPKG")
    t = load_territory(data, "20001")
    assert sorted(t.quartiers["code_quartier"]) == ["QP020001", "QP020002"]
    assert t.quartiers.geometry.notna().all() and t.quartiers.crs.to_epsg() == 2154
    assert t.quartiers.geometry.area.sum() == pytest.approx(
        geo[geo["code_quartier"].isin(["QP020001", "QP020002"])].geometry.area.sum()
    )
