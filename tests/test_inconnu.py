"""« Inconnu » is a value: read as missing (NA), warned once per column, never an error, never
False, 0 or « hors CUCS »; implausible median incomes refused; the optional programming tables;
the metadata keys of issue 11; warnings kept by the cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cucs_analysis.analysis import motifs
from cucs_analysis.cli import main
from cucs_analysis.data import dataset as load
from cucs_analysis.data import readers, schema, validate
from cucs_analysis.data.dataset import load_dataset, load_territory
from cucs_analysis.data.errors import AVERTISSEMENT, DataError, avertissements, erreurs
from cucs_analysis.data.readers import read_metadata
from cucs_analysis.data.validate import format_report, validate_dir
from cucs_analysis.present import text as fr

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path / "cache"))
    load.clear_memo()
    yield
    load.clear_memo()


def copy_minimal(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    return d


def edit(d: Path, table: str, updates: dict[tuple[int, str], str]) -> pd.DataFrame:
    """Set cells (row position, column) of a table file, all as strings; returns the new frame."""
    df = pd.read_csv(d / f"{table}.csv", dtype=str, keep_default_na=False)
    for (i, col), v in updates.items():
        df.loc[i, col] = v
    df.to_csv(d / f"{table}.csv", index=False)
    return df


def unknown_count(df: pd.DataFrame, col: str) -> int:
    """Cells of the written file that are « inconnu » (any case) or blank: the expected count."""
    s = df[col].astype(str).str.strip()
    return int((s.eq("") | s.str.lower().eq("inconnu")).sum())


def warning_of(problems, fichier: str, colonne: str):
    found = [
        p for p in problems if p.fichier == fichier and p.colonne == colonne and p.regle == "valeur inconnue"
    ]
    assert len(found) == 1, f"one warning expected for {fichier}:{colonne}, got {found}"
    return found[0]


# --- unknown values ----------------------------------------------------------------------------


def test_unknown_values_are_na_and_warned_once_per_column(tmp_path):
    d = copy_minimal(tmp_path)
    com = edit(
        d,
        "communes",
        {
            (1, "signataire_cucs"): "Inconnu",
            (1, "structure_pilotage"): "",
            (1, "revenu_median_uu"): " INCONNU ",
            (2, "revenu_median_uu"): "inconnu",
            (2, "population_unite_urbaine"): "",
            (0, "code_epci"): "inconnu",
        },
    )
    qua = edit(d, "quartiers", {(0, "zus"): "inconnu", (1, "qpv_2024"): "", (2, "qpv_2024"): "Inconnu"})
    act = edit(
        d,
        "actions",
        {(0, "beneficiaires_prevus"): "inconnu", (1, "statut"): "", (2, "prioritaire"): "inconnu"},
    )
    fin = edit(d, "financements", {(0, "montant_demande"): "inconnu", (3, "montant_demande"): ""})
    ope = edit(
        d, "operateurs", {(0, "echelle"): "inconnu", (1, "annee_creation"): "", (2, "domaines"): "inconnu"}
    )
    problems = validate_dir(d)
    assert erreurs(problems) == [], format_report(problems)
    for fichier, df, cols in (
        (
            "communes.csv",
            com,
            [
                "signataire_cucs",
                "structure_pilotage",
                "revenu_median_uu",
                "population_unite_urbaine",
                "code_epci",
            ],
        ),
        ("quartiers.csv", qua, ["zus", "qpv_2024"]),
        ("actions.csv", act, ["beneficiaires_prevus", "statut", "prioritaire"]),
        ("financements.csv", fin, ["montant_demande"]),
        ("operateurs.csv", ope, ["echelle", "annee_creation", "domaines"]),
    ):
        for col in cols:
            n = unknown_count(df, col)
            w = warning_of(problems, fichier, col)
            assert w.niveau == AVERTISSEMENT
            assert w.message.startswith(f"{fr.nombre(n)} valeur"), w.message
            assert "« n.d. » avec la raison" in w.message
    # Columns left alone get no warning.
    assert not [p for p in problems if p.colonne == "population"]

    ds = load_dataset(d)
    c = ds.tables["communes"].set_index("code_commune")
    assert c["revenu_median_uu"].isna().sum() == unknown_count(com, "revenu_median_uu")
    assert pd.isna(c.loc["20002", "signataire_cucs"]) and pd.isna(c.loc["20002", "structure_pilotage"])
    assert pd.isna(c.loc["20001", "code_epci"])
    f = ds.tables["financements"]
    assert f["montant_demande"].isna().sum() == unknown_count(fin, "montant_demande")
    assert len(ds.avertissements) == len(avertissements(problems)) > 0


def test_unknown_bool_is_not_false_and_signatory_unknown_is_not_hors_cucs(tmp_path):
    d = copy_minimal(tmp_path)
    edit(d, "communes", {(0, "signataire_cucs"): "inconnu"})
    edit(d, "quartiers", {(0, "zus"): "INCONNU", (0, "veille"): ""})
    ds = load_dataset(d)
    q = ds.tables["quartiers"].set_index("code_quartier")
    assert str(q["zus"].dtype) == "boolean"
    assert (
        q.loc["QP020001", "zus"] is pd.NA
        and q.loc["QP020002", "zus"] is not pd.NA
        and not q.loc["QP020002", "zus"]
    )
    assert q.loc["QP020001", "veille"] is pd.NA
    t = load_territory(d, "20001")
    assert t.signataire is None
    assert load_territory(d, "20002").signataire is True
    assert load_territory(d, "02003").signataire is False
    assert motifs.motif_commune(None, True) == motifs.DONNEE_ABSENTE
    assert motifs.motif_commune(pd.NA, True) == motifs.DONNEE_ABSENTE
    assert motifs.motif_commune(False, True) == motifs.HORS_CUCS
    assert motifs.motif_commune(True, True) is None


def test_category_inconnu_is_kept_apart_from_blank(tmp_path):
    d = copy_minimal(tmp_path)
    # QV020004 is already blank (hors CUCS); QP020002 becomes « Inconnu ».
    edit(d, "quartiers", {(1, "categorie_cucs"): "Inconnu"})
    problems = validate_dir(d)
    assert erreurs(problems) == [], format_report(problems)
    w = warning_of(problems, "quartiers.csv", "categorie_cucs")
    assert w.message.startswith("1 valeur inconnue") and "vide signifie hors CUCS" in w.message
    q = load_dataset(d).tables["quartiers"].set_index("code_quartier")["categorie_cucs"]
    assert q["QP020002"] == schema.CATEGORIE_INCONNUE
    assert pd.isna(q["QV020004"])  # blank stays « hors CUCS »
    assert q["QP020001"] == "1"


def test_inconnu_elsewhere_is_still_an_error(tmp_path):
    d = copy_minimal(tmp_path)
    edit(d, "financements", {(0, "montant_accorde"): "inconnu"})
    edit(d, "actions", {(0, "dispositif"): "inconnu"})
    edit(d, "quartiers", {(0, "code_commune"): ""})
    rules = {(p.fichier, p.colonne, p.regle) for p in erreurs(validate_dir(d))}
    assert ("financements.csv", "montant_accorde", "type") in rules
    assert ("actions.csv", "dispositif", "valeurs admises") in rules
    assert ("quartiers.csv", "code_commune", "valeur obligatoire") in rules


def test_action_commune_unknown_only_with_an_epci(tmp_path):
    d = copy_minimal(tmp_path)
    act = pd.read_csv(d / "actions.csv", dtype=str, keep_default_na=False)
    act.insert(act.columns.get_loc("code_commune") + 1, "code_epci", "")
    act.loc[0, ["code_commune", "code_epci"]] = ["inconnu", "200000001"]  # a contract-level action
    act.loc[2, "code_commune"] = ""  # neither commune nor EPCI: refused
    act.to_csv(d / "actions.csv", index=False)
    problems = validate_dir(d)
    errs = erreurs(problems)
    assert [(p.ligne, p.colonne, p.regle) for p in errs] == [(4, "code_commune", "valeur obligatoire")]
    assert "code_epci" in errs[0].message
    assert warning_of(problems, "actions.csv", "code_commune").message.startswith("1 valeur inconnue")
    # An EPCI the communes do not know: a warning, not an error.
    act.loc[2, "code_commune"] = "20002"
    act.loc[0, "code_epci"] = "200000009"
    act.to_csv(d / "actions.csv", index=False)
    problems = validate_dir(d)
    assert erreurs(problems) == [], format_report(problems)
    assert [p.regle for p in avertissements(problems) if p.colonne == "code_epci"] == ["EPCI inconnu"]


# --- implausible median income -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "999.99", "12"])
def test_median_income_below_the_floor_is_an_error(tmp_path, value):
    d = copy_minimal(tmp_path)
    edit(d, "communes", {(0, "revenu_median_uu"): value})
    errs = [p for p in erreurs(validate_dir(d)) if p.colonne == "revenu_median_uu"]
    assert [(p.ligne, p.regle) for p in errs] == [(2, "revenu médian implausible")]
    with pytest.raises(DataError, match="revenu médian implausible"):
        load_dataset(d)


def test_negative_median_income_is_one_problem(tmp_path):
    d = copy_minimal(tmp_path)
    edit(d, "communes", {(0, "revenu_median_uu"): "-5"})
    errs = [p for p in erreurs(validate_dir(d)) if p.colonne == "revenu_median_uu"]
    assert [(p.ligne, p.regle) for p in errs] == [(2, "minimum")]


def test_median_income_at_the_floor_is_accepted(tmp_path):
    d = copy_minimal(tmp_path)
    edit(d, "communes", {(0, "revenu_median_uu"): str(schema.REVENU_MEDIAN_MIN)})
    assert erreurs(validate_dir(d)) == []


@pytest.mark.parametrize("value", ["0", "500", "0.0"])
def test_national_median_income_below_the_floor_is_an_error(tmp_path, value):
    p = tmp_path / "metadonnees.yaml"
    p.write_text(f"nom: X\nrevenu_median_national: {value}\n", encoding="utf-8")
    meta, problems = read_metadata(p)
    assert meta.revenu_median_national is None  # never kept: no threshold from it
    assert [(x.ligne, x.regle) for x in problems] == [(2, "revenu médian implausible")]


# --- metadata ----------------------------------------------------------------------------------


def test_metadata_keys_of_the_importers(tmp_path):
    p = tmp_path / "metadonnees.yaml"
    p.write_text(
        "nom: Occitanie\nfinancements_perimetre: etat_seul\n"
        "sources:\n  - fichier: adulte-relais-2023.json\n    source: Ci.Ville\n    annees: [2023]\n"
        "import:\n  doublons_retires: 3\n  importeur: civille\n",
        encoding="utf-8",
    )
    meta, problems = read_metadata(p)
    assert problems == []
    assert meta.financements_perimetre == "etat_seul" and meta.etat_seul
    assert meta.sources == [{"fichier": "adulte-relais-2023.json", "source": "Ci.Ville", "annees": [2023]}]
    assert meta.import_ == {"doublons_retires": 3, "importeur": "civille"}
    assert "import" not in meta.extra
    default, _ = read_metadata(tmp_path / "absent.yaml")
    assert default.financements_perimetre == "complet" and not default.etat_seul
    assert default.sources == [] and default.import_ == {}


@pytest.mark.parametrize(
    "line, key",
    [
        ("financements_perimetre: partiel", "financements_perimetre"),
        ("financements_perimetre: 3", "financements_perimetre"),
        ("sources: un fichier", "sources"),
        ("sources: [1, 2]", "sources"),
        ("import: [1, 2]", "import"),
    ],
)
def test_bad_metadata_keys_are_french_problems(tmp_path, line, key):
    p = tmp_path / "metadonnees.yaml"
    p.write_text(f"nom: X\n{line}\n", encoding="utf-8")
    meta, problems = read_metadata(p)
    assert [(x.ligne, x.colonne, x.regle) for x in problems] == [(2, key, "métadonnées")]
    assert meta.financements_perimetre == "complet"


def test_metadata_is_cached_with_the_dataset(tmp_path, monkeypatch):
    d = copy_minimal(tmp_path)
    with (d / "metadonnees.yaml").open("a", encoding="utf-8") as f:
        f.write(
            "financements_perimetre: etat_seul\nsources:\n  - fichier: a.json\n    annees: [2010]\nimport:\n  lignes: 4\n"
        )
    first = load_dataset(d)
    load.clear_memo()
    monkeypatch.setattr(validate, "inspect_dir", _must_not_validate)
    again = load_dataset(d)  # from the Parquet cache
    assert again.metadata == first.metadata
    assert again.metadata.etat_seul and again.metadata.import_ == {"lignes": 4}


def _must_not_validate(*a, **k):
    raise AssertionError("the data set should have come from the cache")


# --- warnings: cache, report, exit code -----------------------------------------------------------


def test_warnings_survive_the_cache_and_reach_the_territory(tmp_path, monkeypatch):
    d = copy_minimal(tmp_path)
    edit(d, "communes", {(0, "population_unite_urbaine"): "inconnu", (1, "population_unite_urbaine"): ""})
    first = load_dataset(d)
    assert [(p.fichier, p.colonne) for p in first.avertissements] == [
        ("communes.csv", "population_unite_urbaine")
    ]
    assert first.avertissements[0].message.startswith("2 valeurs inconnues")
    load.clear_memo()
    monkeypatch.setattr(validate, "inspect_dir", _must_not_validate)
    again = load_dataset(d)
    assert again.avertissements == first.avertissements
    assert load_territory(d, "20001").avertissements == first.avertissements


def test_report_lists_errors_then_warnings_and_validate_exits_0_on_warnings(tmp_path, capsys):
    d = copy_minimal(tmp_path)
    edit(d, "quartiers", {(0, "qpv_2024"): "inconnu"})
    assert main(["validate", str(d)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Aucune erreur : le jeu de données est valide")
    assert "Avertissements (ne bloquent pas) :" in out and "quartiers.csv (1 avertissement)" in out
    assert out.rstrip().endswith("1 avertissement (non bloquant).")
    edit(d, "communes", {(0, "population"): "-3"})
    assert main(["validate", str(d)]) == 1
    lines = capsys.readouterr().out.splitlines()
    err_at = lines.index("communes.csv (1 problème)")
    warn_at = lines.index("Avertissements (ne bloquent pas) :")
    assert err_at < warn_at
    assert lines[-1] == "1 problème trouvé dans 1 fichier ; 1 avertissement (non bloquant)."


# --- a folder with only the required tables ------------------------------------------------------


def test_only_the_required_tables_and_contours_is_valid_and_loads(tmp_path, capsys):
    d = tmp_path / "data"
    d.mkdir()
    for name in (*schema.REQUIRED_TABLES,):
        shutil.copy(MINIMAL / f"{name}.csv", d)
    shutil.copy(MINIMAL / "quartiers.geojson", d)
    shutil.copy(MINIMAL / "metadonnees.yaml", d)
    assert set(schema.REQUIRED_TABLES) == {"communes", "quartiers", "indicateurs", "catalogue_indicateurs"}
    problems = validate_dir(d)
    assert problems == [], format_report(problems)
    assert main(["validate", str(d)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"Aucun problème : le jeu de données est valide ({len(schema.REQUIRED_TABLES)} tables"
    )
    assert "actions, financements" in out and "operateurs" in out
    ds = load_dataset(d)
    assert ds.available == frozenset(schema.REQUIRED_TABLES)
    t = load_territory(d, "20001")
    for name in ("actions", "financements", "operateurs", "quartiers_communes", "gup"):
        frame = getattr(t, name)
        assert frame.empty and list(frame.columns) == list(schema.TABLES[name].column_names), name
    assert not t.available["actions"] and t.available["quartiers"]
    assert len(t.quartiers) == 2 and t.quartiers.geometry.notna().all()


def test_quartiers_communes_rows_of_the_commune(tmp_path):
    d = copy_minimal(tmp_path)
    (d / "quartiers_communes.csv").write_text(
        "code_quartier,code_commune,principale\nQP020001,20001,oui\nQP020001,20002,non\nQV020003,20002,oui\n",
        encoding="utf-8",
    )
    assert validate_dir(d) == []
    t = load_territory(d, "20002")
    assert sorted(t.quartiers_communes["code_quartier"]) == ["QP020001", "QV020003"]
    assert t.quartiers_communes.set_index("code_quartier")["principale"].to_dict() == {
        "QP020001": False,
        "QV020003": True,
    }
    assert len(load_territory(d, "02003").quartiers_communes) == 0
    (d / "quartiers_communes.csv").write_text(
        "code_quartier,code_commune\nQP099999,20001\nQP020001,20001\nQP020001,20001\n", encoding="utf-8"
    )
    rules = sorted((p.ligne, p.regle) for p in validate_dir(d))
    assert rules == [(2, "référence inconnue"), (4, "clé en double")]


def test_operator_kind_of_id_and_action_epci_columns_are_optional(tmp_path):
    d = copy_minimal(tmp_path)
    op = pd.read_csv(d / "operateurs.csv", dtype=str, keep_default_na=False)
    op.insert(1, "type_identifiant", ["siret", "nom", ""])
    op.to_csv(d / "operateurs.csv", index=False)
    assert validate_dir(d) == []
    op["type_identifiant"] = ["siret", "SIREN", ""]
    op.to_csv(d / "operateurs.csv", index=False)
    assert [(p.ligne, p.colonne, p.regle) for p in validate_dir(d)] == [
        (3, "type_identifiant", "valeurs admises")
    ]
    assert readers.schema.TABLES["actions"].column("code_epci").required is False
