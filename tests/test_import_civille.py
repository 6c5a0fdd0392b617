"""`cucs import civille`: Ci.Ville / programme 147 funded posts (adultes-relais, FONJEP).

Two kinds of tests:
- on the real samples (../shared/realdata/anct_civille_p147, via the `realdata` fixture;
  skipped where absent): totals, duplicates, the region filter and the ids are recomputed
  here from the source files, independently of the importer;
- on small hand-made records in the same layout (always run): a glued contract code, a
  string year, SIRET vs name, duplicates with differing amounts, bad records (French error
  naming file, record and field; the output folder left as it was), CSV with `;` and decimal
  commas, the dispositif decided from the ids, an existing folder completed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cucs_analysis.data.errors import DataError
from cucs_analysis.data.imports import civille

ROOT = Path(__file__).resolve().parents[1]


# --- helpers ----------------------------------------------------------------------------------


def _rec(id_poste, annee, montant, code_cv="CV001", tiers="77554402601284", nom="ASSO A", dep="31", reg="76"):
    return {
        "id_poste": id_poste,
        "code_tiers": tiers,
        "raison_sociale": nom,
        "annee": annee,
        "montant": montant,
        "code_cv": code_cv,
        "insee_dep": dep,
        "insee_reg": reg,
    }


def _contrats(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A geom_cv_ctr.json in the published layout: (code_cv, codgeo, insee_dep)."""
    feats = [
        {
            "type": "Feature",
            "properties": {
                "codgeo": g,
                "code_cv": c,
                "lib_cv": f"{d} - contrat {c}",
                "insee_dep": d,
                "pop": 1.0,
            },
            "geometry": {"type": "Point", "coordinates": [1.4, 43.6]},
        }
        for c, g, d in rows
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    return path


CONTRATS = [
    ("CV001", "243100518", "31"),
    ("CV002", "243400017", "34"),
    ("CV380", "97302", "973"),
    ("CV384", "97309", "973"),
]


def _write(path: Path, records) -> Path:
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def _spaces(s: str) -> str:
    """French thin / non-breaking spaces as plain spaces (for comparing messages)."""
    return s.replace("\u202f", " ").replace("\xa0", " ")


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


def _joined(out: Path) -> pd.DataFrame:
    act = pd.read_csv(out / "actions.csv", dtype=str, keep_default_na=False)
    fin = pd.read_csv(out / "financements.csv", dtype=str, keep_default_na=False)
    df = fin.merge(act, on=["id_action", "annee"], how="left", validate="one_to_one")
    df["annee"] = df["annee"].astype(int)
    df["montant_accorde"] = df["montant_accorde"].astype(float)
    return df


# --- real samples -----------------------------------------------------------------------------

FICHIERS_REELS = [
    *(f"adulte-relais-{a}.json" for a in range(2020, 2024)),
    *(f"postes-fonjep-{a}.json" for a in range(2020, 2024)),
]


@pytest.fixture(scope="module")
def source(realdata):
    """The real files, read here without the importer: records in file order, contracts."""
    d = realdata / "anct_civille_p147"
    files = [d / f for f in FICHIERS_REELS]
    if not all(f.is_file() for f in files):
        pytest.skip("données réelles Ci.Ville absentes : test ignoré")
    records = {f.name: json.loads(f.read_text(encoding="utf-8")) for f in files}
    geo = json.loads((d / "geom_cv_ctr.json").read_text(encoding="utf-8"))
    cv = {f["properties"]["code_cv"]: f["properties"]["codgeo"] for f in geo["features"]}
    return {"files": files, "records": records, "cv": cv, "contrats": d / "geom_cv_ctr.json"}


def _disp(fichier: str) -> str:
    return "FONJEP" if "fonjep" in fichier else "adultes-relais"


def _dedup(source, keep=lambda r: True):
    """Unique post-years in file order (first kept), and the duplicates per file."""
    seen: dict = {}
    dups: dict[str, int] = defaultdict(int)
    for f, recs in source["records"].items():
        for r in recs:
            if not keep(r):
                continue
            k = (_disp(f), r["id_poste"], int(r["annee"]))
            if k in seen:
                dups[f] += 1
            else:
                seen[k] = r
    return seen, dups


def _territory_known(r, cv) -> bool:
    code = r.get("code_cv")
    return bool(code) and code[:5] in cv


@pytest.fixture(scope="module")
def import_reel(source, tmp_path_factory):
    out = tmp_path_factory.mktemp("civille") / "donnees"
    res = civille.importer(source["files"], out, contrats=source["contrats"])
    return out, res


def test_real_totals_per_year_and_dispositif_match_the_source(source, import_reel):
    out, res = import_reel
    seen, _ = _dedup(source)
    expected: dict = defaultdict(float)
    expected_aside: dict = defaultdict(float)
    for (disp, _id, annee), r in seen.items():
        (expected if _territory_known(r, source["cv"]) else expected_aside)[(annee, disp)] += r["montant"]
    got = _joined(out).groupby(["annee", "dispositif"])["montant_accorde"].sum().to_dict()
    assert set(got) == set(expected)
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, abs=0.01), k
    # written + set aside (no territory, reported) = the source after de-duplication
    aside = res.rapport.details["montants_sans_territoire_non_importes"]
    for (annee, disp), v in expected_aside.items():
        assert aside[str(annee)][disp] == pytest.approx(v, abs=0.01)
    reported = res.rapport.details["montants_par_annee_et_dispositif"]
    for (annee, disp), v in expected.items():
        assert reported[str(annee)][disp] == pytest.approx(v, abs=0.01)
    assert res.rapport.compteurs["sans_territoire_non_importes"] == sum(
        1 for r in seen.values() if not _territory_known(r, source["cv"])
    )


def test_real_duplicates_removed_are_counted_per_file(source, import_reel):
    _, res = import_reel
    _, dups = _dedup(source)
    fichiers = res.rapport.details["fichiers"]
    for f in FICHIERS_REELS:
        assert fichiers[f]["doublons_retires"] == dups.get(f, 0), f
        assert fichiers[f]["enregistrements_lus"] == len(source["records"][f])
    assert res.rapport.compteurs["doublons_retires"] == sum(dups.values()) > 0
    # the real FONJEP duplicates are exact copies, the adultes-relais ones another SIRET
    assert fichiers["postes-fonjep-2020.json"]["doublons_exacts"] == dups["postes-fonjep-2020.json"]


def test_real_string_year_and_operator_ids(source, import_reel):
    out, _ = import_reel
    assert all(isinstance(r["annee"], str) for r in source["records"]["postes-fonjep-2023.json"])
    df = _joined(out)
    seen, _ = _dedup(source)
    n_fonjep_2023 = sum(
        1
        for (d, _i, a), r in seen.items()
        if d == "FONJEP" and a == 2023 and _territory_known(r, source["cv"])
    )
    assert ((df["dispositif"] == "FONJEP") & (df["annee"] == 2023)).sum() == n_fonjep_2023 > 0
    ops = pd.read_csv(out / "operateurs.csv", dtype=str, keep_default_na=False).set_index("id_operateur")
    ar = df.loc[df["dispositif"] == "adultes-relais", "id_operateur"].unique()
    fj = df.loc[df["dispositif"] == "FONJEP", "id_operateur"].unique()
    assert all(i.startswith("siret:") and len(i) == len("siret:") + 14 for i in ar)
    assert all(i.startswith("nom:") for i in fj)
    assert set(ops.loc[ar, "type_identifiant"]) == {"siret"}
    assert set(ops.loc[fj, "type_identifiant"]) == {"nom"}


def test_real_region_filter_keeps_exactly_region_76(source, tmp_path):
    out = tmp_path / "occitanie"
    res = civille.importer(source["files"], out, contrats=source["contrats"], regions=["76"])
    seen, _ = _dedup(source, keep=lambda r: r.get("insee_reg") == "76")
    assert res.rapport.details["filtre"]["gardes"] == len(seen)
    expected = {(d, i, a) for (d, i, a), r in seen.items() if _territory_known(r, source["cv"])}
    df = _joined(out)
    prefix = {"AR": "adultes-relais", "FONJEP": "FONJEP"}
    got = {
        (prefix[x.split("-", 1)[0]], x.split("-", 1)[1], a)
        for x, a in zip(df["id_action"], df["annee"], strict=True)
    }
    assert got == expected
    assert res.rapport.compteurs["hors_filtre"] + res.rapport.compteurs[
        "sans_region_ou_departement_ecartes"
    ] == sum(1 for recs in source["records"].values() for r in recs if r.get("insee_reg") != "76")


def test_real_glued_codes_split_and_counted_once(source, import_reel):
    out, res = import_reel
    seen, _ = _dedup(source)
    glued = {k for k, r in seen.items() if r.get("code_cv") and len(r["code_cv"]) > 5}
    assert res.rapport.compteurs["codes_contrat_colles_separes"] == len(glued) > 0
    df = _joined(out)
    assert not df.duplicated(["id_action", "annee"]).any()
    for code, d in res.rapport.details["codes_contrat_colles"].items():
        assert "".join(d["contrats"]) == code and len(d["contrats"]) > 1


# --- hand-made records in the same layout ---------------------------------------------------


@pytest.fixture
def petits(tmp_path):
    """Two files: adultes-relais (a glued code, a SIRET twice, duplicates) and FONJEP (string years)."""
    ar = _write(
        tmp_path / "adulte-relais-2023.json",
        [
            _rec("03112R000101", 2023, 22555.73),
            _rec("03112R000101", 2023, 22555.73),  # exact duplicate
            _rec("97319R000100", 2023, 22555.73, code_cv="CV380CV384", dep="973", reg="03"),
            _rec("03412R000200", 2023, 20000, code_cv="CV002", tiers="77554402601292", dep="34"),
            _rec(
                "03412R000200", 2023, 19000, code_cv="CV002", tiers="77554402601292", dep="34"
            ),  # differing amount
        ],
    )
    fj = _write(
        tmp_path / "postes-fonjep-2023.json",
        [
            _rec(
                "D01935", "2023", 7164, tiers="LIGUE DE L'ENSEIGNEMENT  31", nom="LIGUE DE L'ENSEIGNEMENT  31"
            ),
            _rec(
                "D01936", "2022", 2985, tiers="Ligue de l’Enseignement 31", nom="Ligue de l’Enseignement 31"
            ),
        ],
    )
    contrats = _contrats(tmp_path / "contrats.json", CONTRATS)
    return tmp_path, [ar, fj], contrats


def test_small_import_tables_and_report(petits):
    tmp, files, contrats = petits
    out = tmp / "out"
    res = civille.importer(files, out, contrats=contrats)
    df = _joined(out)
    # one action per post-year: 3 adultes-relais + 2 FONJEP
    assert len(df) == 5
    # the glued code: split, one action, attached to the first contract (a commune-level contract)
    g = df[df["id_action"] == "AR-97319R000100"]
    assert len(g) == 1 and g["montant_accorde"].iloc[0] == 22555.73
    assert g["code_commune"].iloc[0] == "97302" and g["code_epci"].iloc[0] == ""
    assert res.rapport.details["codes_contrat_colles"] == {
        "CV380CV384": {"contrats": ["CV380", "CV384"], "postes_annees": 1}
    }
    assert res.rapport.compteurs["codes_contrat_colles_separes"] == 1
    # string year "2023" read as 2023
    assert set(df.loc[df["dispositif"] == "FONJEP", "annee"]) == {2022, 2023}
    # duplicates: one exact, one with another amount (first kept, warned in French)
    f = res.rapport.details["fichiers"]["adulte-relais-2023.json"]
    assert (f["doublons_exacts"], f["doublons_poste_annee_differents"], f["montants_divergents"]) == (1, 1, 1)
    assert df.loc[df["id_action"] == "AR-03412R000200", "montant_accorde"].tolist() == [20000]
    warns = [_spaces(a) for a in res.rapport.avertissements]
    assert any("montant gardé 20 000,00 €" in a and "écarté 19 000,00 €" in a for a in warns), warns
    # EPCI of the contract, commune unknown; the rest unknown, never invented
    a = df[df["id_action"] == "AR-03112R000101"].iloc[0]
    assert (a["code_epci"], a["code_commune"], a["thematique"], a["statut"]) == (
        "243100518",
        "inconnu",
        "inconnu",
        "inconnu",
    )
    assert a["intitule"] == "Poste d'adulte-relais n° 03112R000101"
    assert a["financeur"] == "État – programme 147 (adultes-relais)" and a["institution"] == "État"
    assert a["type_credit"] == "specifique" and a["montant_demande"] == "inconnu" and a["date_depot"] == ""
    # operators: SIRET vs normalised name (two spellings of one name are one operator)
    ops = pd.read_csv(out / "operateurs.csv", dtype=str, keep_default_na=False)
    assert set(ops["id_operateur"]) == {
        "siret:77554402601284",
        "siret:77554402601292",
        "nom:LIGUE DE L ENSEIGNEMENT 31",
    }
    assert (
        dict(zip(ops["id_operateur"], ops["type_identifiant"], strict=True))["nom:LIGUE DE L ENSEIGNEMENT 31"]
        == "nom"
    )
    assert set(ops["echelle"]) == {"inconnu"}
    # metadata
    meta = yaml.safe_load((out / "metadonnees.yaml").read_text(encoding="utf-8"))
    assert meta["financements_perimetre"] == "etat_seul"
    assert (meta["annee_debut"], meta["annee_fin"]) == (2022, 2023)
    assert {s["fichier"] for s in meta["sources"]} == {"adulte-relais-2023.json", "postes-fonjep-2023.json"}
    assert meta["import"]["civille"]["fichiers"]["postes-fonjep-2023.json"]["annees"] == [2022, 2023]
    assert "part de l'État" in res.resume and "Avertissement" not in res.resume


def test_region_and_departement_filters(petits):
    tmp, files, contrats = petits
    res = civille.importer(files, tmp / "o76", contrats=contrats, regions=["76"])
    got = set(_joined(tmp / "o76")["id_action"])
    assert got == {"AR-03112R000101", "AR-03412R000200", "FONJEP-D01935", "FONJEP-D01936"}
    assert res.rapport.compteurs["hors_filtre"] == 1
    civille.importer(files, tmp / "o34", contrats=contrats, departements=["34"])
    assert set(_joined(tmp / "o34")["id_action"]) == {"AR-03412R000200"}
    with pytest.raises(DataError, match="--region"):
        civille.importer(files, tmp / "x", contrats=contrats, regions=["Occitanie"])


def test_csv_with_semicolons_and_decimal_commas_and_dispositif_from_ids(tmp_path):
    p = tmp_path / "postes.csv"
    p.write_text(
        "id_poste;code_tiers;raison_sociale;annee;montant;code_cv;insee_dep;insee_reg\n"
        "03112R000101;77554402601284;ASSO A;2023;22 555,73;CV001;31;76\n"
        "03112R000102;77554402601284;ASSO A; 2022 ;19875,06;CV001;31;76\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    res = civille.importer([p], out, contrats=_contrats(tmp_path / "c.json", CONTRATS))
    df = _joined(out)
    assert sorted(df["montant_accorde"]) == [19875.06, 22555.73]
    assert set(df["dispositif"]) == {"adultes-relais"}
    assert (
        res.rapport.details["fichiers"]["postes.csv"]["dispositif_selon"] == "forme des identifiants de poste"
    )


@pytest.mark.parametrize(
    ("record", "champ", "regle"),
    [
        ({"montant": -5}, "montant", "montant positif"),
        ({"annee": "deux mille"}, "annee", "année numérique"),
        ({"montant": None}, "montant", "champ obligatoire"),
    ],
)
def test_bad_record_french_error_output_untouched(tmp_path, record, champ, regle):
    recs = [
        _rec("03112R000101", 2023, 100),
        _rec("03112R000102", 2023, 100),
        {**_rec("03112R000103", 2023, 100), **record},
    ]
    src = _write(tmp_path / "adulte-relais-2023.json", recs)
    before_src = src.read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    (out / "communes.csv").write_text("code_commune\n31555\n", encoding="utf-8")
    before = _hashes(out)
    with pytest.raises(DataError) as exc:
        civille.importer([src], out, contrats=_contrats(tmp_path / "c.json", CONTRATS))
    msg = str(exc.value)
    assert "adulte-relais-2023.json, enregistrement n° 3" in msg
    assert f"« {champ} »" in msg and f"[règle : {regle}]" in msg
    assert _hashes(out) == before and src.read_bytes() == before_src
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary folder left


def test_bad_json_and_csv_lines_are_located(tmp_path):
    bad = tmp_path / "adulte-relais-2023.json"
    bad.write_text('[\n{"id_poste": "03112R000101", "annee": 2023,\n "montant": 1,,}\n]', encoding="utf-8")
    with pytest.raises(DataError) as exc:
        civille.construire([bad], contrats=_contrats(tmp_path / "c.json", CONTRATS))
    assert "ligne 3" in str(exc.value) and "JSON mal formé" in str(exc.value)
    csvf = tmp_path / "adulte-relais.csv"
    csvf.write_text(
        "id_poste,code_tiers,raison_sociale,annee,montant\n03112R000101,1,A,2023,10\n03112R000102,1,A,2023,-3\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as exc:
        civille.construire([csvf], contrats=tmp_path / "c.json")
    assert "adulte-relais.csv, ligne 3, colonne « montant », valeur « -3 »" in str(exc.value)


def test_existing_folder_completed_keys_kept(petits):
    tmp, files, contrats = petits
    out = tmp / "out"
    out.mkdir()
    (out / "communes.csv").write_text("code_commune,nom\n31555,Toulouse\n", encoding="utf-8")
    (out / "metadonnees.yaml").write_text(
        yaml.safe_dump(
            {
                "nom": "Occitanie (INSEE)",
                "annee_debut": 2015,
                "annee_fin": 2020,
                "sources": [{"fichier": "qp.csv", "source": "INSEE", "annees": [2015]}],
                "import": {"insee-qpv": {"compteurs": {"quartiers": 105}}},
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    civille.importer(files, out, contrats=contrats)
    meta = yaml.safe_load((out / "metadonnees.yaml").read_text(encoding="utf-8"))
    assert meta["nom"] == "Occitanie (INSEE)" and (meta["annee_debut"], meta["annee_fin"]) == (2015, 2023)
    assert "qp.csv" in {s["fichier"] for s in meta["sources"]} and "civille" in meta["import"]
    assert meta["import"]["insee-qpv"] == {"compteurs": {"quartiers": 105}}
    assert (out / "communes.csv").read_text(encoding="utf-8").startswith("code_commune,nom")
    # a second import into the same folder is refused without --force
    with pytest.raises(DataError, match="--force"):
        civille.importer(files, out, contrats=contrats)
    civille.importer(files, out, contrats=contrats, force=True)


def test_cli_french_summary_and_error_without_traceback(petits):
    tmp, files, contrats = petits
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "cucs_analysis.cli", "import", "civille", *a],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    ok = run(*map(str, files), "--contrats", str(contrats), "--region", "76", "--out", str(tmp / "cli"))
    assert ok.returncode == 0, ok.stderr
    assert "Filtre (région 76)" in ok.stdout and "part de l'État" in ok.stdout
    bad = _write(tmp / "adulte-relais-2024.json", [_rec("03112R000101", "2024", "beaucoup")])
    ko = run(str(bad), "--contrats", str(contrats), "--out", str(tmp / "cli2"))
    assert ko.returncode == 1 and "Traceback" not in ko.stderr
    assert "enregistrement n° 1" in ko.stderr and "« montant »" in ko.stderr
    assert not (tmp / "cli2").exists()


def test_real_occitanie_with_the_insee_import_validates(realdata, source, tmp_path):
    """insee-qpv then civille (region 76) into one folder: `cucs validate` finds no error
    (warnings for the unknown values are expected)."""
    from cucs_analysis.data import validate
    from cucs_analysis.data.errors import erreurs
    from cucs_analysis.data.imports import insee_qpv

    h = realdata / "hackaviz2021_occitanie_qpv"
    out = tmp_path / "occitanie"
    insee_qpv.importer(h / "qp.csv", contours=h / "qp.geojson", out=out, communes=h / "communes.geojson")
    civille.importer(source["files"], out, contrats=source["contrats"], regions=["76"])
    problems = validate.validate_dir(out)
    assert [str(p) for p in erreurs(problems)][:5] == []
    assert any(p.colonne == "montant_demande" for p in problems)  # the unknown amounts, warned


def test_files_with_one_name_in_two_folders_are_reported_apart(tmp_path):
    contrats = _contrats(tmp_path / "c.json", CONTRATS)
    (tmp_path / "2022").mkdir()
    (tmp_path / "2023").mkdir()
    a = _write(
        tmp_path / "2022" / "postes-fonjep.json", [_rec("D00001", 2022, 7164), _rec("D00001", 2022, 7164)]
    )
    b = _write(tmp_path / "2023" / "postes-fonjep.json", [_rec("D00001", "2023", 7164)])
    res = civille.construire([a, b], contrats=contrats)
    fichiers = res.rapport.details["fichiers"]
    assert {k: v["doublons_retires"] for k, v in fichiers.items()} == {str(a): 1, str(b): 0}
    with pytest.raises(DataError, match="donné deux fois"):
        civille.construire([a, a], contrats=contrats)


def test_a_name_a_spreadsheet_would_run_as_a_formula_is_data_and_warned(tmp_path):
    """A raison sociale « =cmd|… » is written as it came (it is data, read back as data) and the
    import warns whoever would open the CSV in a spreadsheet."""
    nom = '=cmd|"/c calc"!A1'
    fj = _write(tmp_path / "postes-fonjep-2023.json", [_rec("D00001", "2023", 7164, tiers=nom, nom=nom)])
    contrats = _contrats(tmp_path / "geom_cv_ctr.json", CONTRATS)
    res = civille.importer([fj], tmp_path / "out", contrats=contrats)
    ops = pd.read_csv(tmp_path / "out" / "operateurs.csv", dtype=str, keep_default_na=False)
    assert ops["nom"].tolist() == [nom]
    assert any("operateurs.csv, colonne « nom »" in a and "formules" in a for a in res.rapport.avertissements)
    # a negative number is not a formula
    assert not any("montant" in a and "formules" in a for a in res.rapport.avertissements)


def test_the_summary_agrees_in_number_through_present_text(tmp_path):
    """One file, one duplicate, one glued code, one post kept: every noun and participle singular."""
    ar = _write(
        tmp_path / "adulte-relais-2023.json",
        [
            _rec("03112R000101", 2023, 22555.73),
            _rec("03112R000101", 2023, 22555.73),
            _rec("97319R000100", 2023, 22555.73, code_cv="CV380CV384", dep="973", reg="03"),
        ],
    )
    contrats = _contrats(tmp_path / "geom_cv_ctr.json", CONTRATS)
    res = civille.importer([ar], tmp_path / "out", contrats=contrats, regions=["76"])
    assert "1 fichier lu, 3 enregistrements." in res.resume
    assert "1 doublon poste × année retiré (1 identique ; le premier est gardé)" in res.resume
    assert "1 gardé par le filtre" in res.resume
    assert "1 poste × année gardé ;" in res.resume
    assert "(s)" not in res.resume
