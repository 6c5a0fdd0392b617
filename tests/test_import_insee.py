"""`cucs import insee-qpv`: hand-made files in the INSEE layouts (always run) and the real
Occitanie sample (skipped where ../shared/realdata is absent). Expected values are recomputed
from the source files in plain Python, never typed in."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pandas as pd
import pytest

from cucs_analysis.data import validate
from cucs_analysis.data.errors import DataError
from cucs_analysis.data.imports import common, geo, insee_qpv
from tests.projet import epci_semeac_tarbes

#: The INSEE QPV layout (44 columns, in the published order).
ENTETE = (
    "code_qp,nom_qp,nom_commune,pop_mun,pop_com_qp,pop_com,ind_jeune,tx_tot_et,tx_f,tx_f_et,percou,pmimp,"
    "part_chomprinc,decuc_q2,decuc_d1,decuc_d9,disp_q2,disp_d1,disp_d9,tp60,brev,a,tx_tot_empl,tx_f_empl,"
    "tx_et_empl,tx_tot_eprec,tx_f_eprec,tx_et_eprec,abcde,abcde_f,abcde_h,abc_capbep,abc_bac,abc_supbac,"
    "ec_mat,ec_elem,ec_elem_pri,coll,coll_pri,nbetab,ens_sante,serv_par,serv_tot,auto_ent"
).split(",")
VARIABLES = ENTETE[3:]
#: Fictional quartiers: code, name, communes named, (main commune code, name), shape centre.
QUARTIERS = [
    ("QP031901", "Le Pré-Vert", "Villebrune", ("31901", "Villebrune"), (1.44, 43.60)),
    ("QP031902", "Le Canal", "Villebrune", ("31901", "Villebrune"), (1.46, 43.61)),
    ("QP065901", "Pont-Vieux", "Bourg-Neuf-Écluse, Villeclaire", ("65902", "Villeclaire"), (0.07, 43.23)),
    ("QN04901M", "Les Halles", "Saint-Aubin", ("49901", "Saint-Aubin"), (-0.55, 47.47)),
]
INVALIDE = "QP031902"  # drawn as a bow-tie (self-intersecting)


def _valeur(i: int, j: int, v: str) -> str:
    """Cell j of quartier i: blanks and one secrecy code planted, decimals for rates."""
    if (i + j) % 9 == 4:
        return ""
    if (i, v) == (1, "tp60"):
        return "s"
    if v in ("pop_com", "pop_com_qp"):  # the commune's figures: the same on each of its quartiers
        return str((50000 if i < 2 else 30000 + i) // (1 if v == "pop_com" else 10))
    if v.startswith(("tx_", "pmimp", "part_", "tp60", "brev")):
        return f"{10 + (i * 7 + j * 3) % 80}.{(i + j) % 10}"
    return str(100 + i * 37 + j * 11)


def _lignes() -> list[list[str]]:
    return [
        [code, nom, noms] + [_valeur(i, j, v) for j, v in enumerate(VARIABLES)]
        for i, (code, nom, noms, _, _) in enumerate(QUARTIERS)
    ]


def ecrire_qp(path: Path, lignes: list[list[str]] | None = None, francais: bool = False) -> Path:
    """The INSEE file: UTF-8 with BOM, `,` / `.`; or its French export (`;`, decimal comma, Latin-1)."""
    lignes = _lignes() if lignes is None else lignes
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";" if francais else ",", lineterminator="\r\n" if francais else "\n")
    w.writerow(ENTETE)
    for r in lignes:
        w.writerow([c.replace(".", ",") if francais else c for c in r])
    path.write_bytes(
        buf.getvalue().encode("latin-1") if francais else b"\xef\xbb\xbf" + buf.getvalue().encode()
    )
    return path


def _carre(cx: float, cy: float, d: float = 0.005) -> list:
    return [[[cx - d, cy - d], [cx + d, cy - d], [cx + d, cy + d], [cx - d, cy + d], [cx - d, cy - d]]]


def _noeud(cx: float, cy: float, d: float = 0.005) -> list:
    return [[[cx - d, cy - d], [cx + d, cy + d], [cx + d, cy - d], [cx - d, cy + d], [cx - d, cy - d]]]


def ecrire_contours(path: Path, sans: set[str] = frozenset()) -> Path:
    """QPV contours in the Hackaviz / ANCT layout, CRS84."""
    feats = []
    for code, nom, noms, (cc, cn), (x, y) in QUARTIERS:
        if code in sans:
            continue
        ring = _noeud(x, y) if code == INVALIDE else _carre(x, y)
        props = {
            "code_qp": code,
            "nom_qp": nom,
            "commune_qp": cn,
            "code_commune": cc,
            "nom_commune": noms,
            "code_departement": cc[:2],
        }
        feats.append(
            {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": ring}}
        )
    fc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": feats,
    }
    path.write_text(json.dumps(fc), encoding="utf-8")
    return path


def ecrire_communes(path: Path) -> Path:
    """Commune contours: the QPV communes and one commune without a quartier (not kept)."""
    communes = {("31901", "Villebrune"): (1.45, 43.6), ("65902", "Villeclaire"): (0.07, 43.23)}
    communes |= {("49901", "Saint-Aubin"): (-0.55, 47.47), ("31902", "Hors-Quartier"): (1.3, 43.5)}
    feats = [
        {
            "type": "Feature",
            "properties": {"code_commune": c, "code_departement": c[:2], "nom_commune": n},
            "geometry": {"type": "MultiPolygon", "coordinates": [_carre(x, y, 0.05)]},
        }
        for (c, n), (x, y) in communes.items()
    ]
    fc = {"type": "FeatureCollection", "features": feats}
    path.write_text(json.dumps(fc), encoding="utf-8")
    return path


EPCI_LIGNES = [
    ("31901", "Villebrune", "200000001", "CA de Villebrune", "31", "76"),
    ("65901", "BOURG NEUF ECLUSE", "200000002", "CA du Pont", "65", "76"),
    ("65902", "Villeclaire", "200000002", "CA du Pont", "65", "76"),
    ("49901", "Saint-Aubin", "ZZZZZZZZZ", "Sans objet", "49", "52"),
]


def ecrire_epci(path: Path) -> Path:
    """The INSEE « composition communale des EPCI » layout: title rows, then the header row."""
    titres = [
        ["Composition communale des EPCI au 1er janvier 2024"],
        ["Source : Insee, Code officiel géographique"],
        [],
        ["CODGEO", "LIBGEO", "EPCI", "LIBEPCI", "DEP", "REG"],
    ]
    rows = titres + [list(r) for r in EPCI_LIGNES]
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        wb.active.title = "EPCI"
        wb.active.append(["EPCI", "LIBEPCI", "NATURE_EPCI", "NB_COM"])
        ws = wb.create_sheet("Composition_communale")
        for r in rows:
            ws.append(r)
        wb.save(path)
    else:
        path.write_text("\n".join(";".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def fichiers(tmp_path) -> dict[str, Path]:
    src = tmp_path / "entrees"
    src.mkdir()
    return {
        "qp": ecrire_qp(src / "qp.csv"),
        "contours": ecrire_contours(src / "qp.geojson"),
        "communes": ecrire_communes(src / "communes.geojson"),
        "epci": ecrire_epci(src / "epci.xlsx"),
    }


def _importer(f: dict[str, Path], out: Path, **kw) -> insee_qpv.Resultat:
    return insee_qpv.importer(
        f.get("qp_autre", f["qp"]),
        contours=f["contours"],
        out=out,
        communes=kw.pop("communes", f["communes"]),
        epci=kw.pop("epci", f["epci"]),
        **kw,
    )


def _source(path: Path) -> pd.DataFrame:
    """The INSEE file read independently of the importer (strings; blanks as "")."""
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("latin-1")
    sep = ";" if text.splitlines()[0].count(";") > 1 else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    return pd.DataFrame(rows[1:], columns=rows[0])


def _erreurs(dossier: Path) -> list:
    return [p for p in validate.validate_dir(dossier) if getattr(p, "niveau", "erreur") != "avertissement"]


def _lire(dossier: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(dossier / f"{table}.csv", dtype=str, keep_default_na=False)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- always run: hand-made files in the INSEE layouts ------------------------------------------------


def test_import_values_cell_for_cell(fichiers, tmp_path):
    out = tmp_path / "donnees"
    before = {k: p.read_bytes() for k, p in fichiers.items()}
    res = _importer(fichiers, out)
    assert {k: p.read_bytes() for k, p in fichiers.items()} == before  # inputs untouched
    src = _source(fichiers["qp"])
    dico = insee_qpv.charger_dictionnaire()
    ind = _lire(out, "indicateurs")
    q = ind[ind["niveau"] == "quartier"]
    checked = 0
    for v in VARIABLES:
        if dico.loc[v, "niveau"] != "quartier":
            continue
        code = dico.loc[v, "indicateur_projet"] or v
        got = q[q["indicateur"] == code].set_index("code_territoire")
        for _, row in src.iterrows():
            cell = row[v]
            r = got.loc[row["code_qp"]]
            if cell in ("", "s"):
                assert r["secret"] == "oui" and r["valeur"] == ""
            else:
                assert float(r["valeur"]) == float(cell), (v, row["code_qp"])
                assert r["secret"] == "non"
                checked += 1
            assert int(r["annee"]) == int(dico.loc[v, "annee_reference"])
    assert checked > 100
    blanks = int((src[VARIABLES] == "").to_numpy().sum()) + int((src[VARIABLES] == "s").to_numpy().sum())
    # every blank of a quartier-level variable is one secret row; commune-level ones are deduplicated
    quartier_vars = [v for v in VARIABLES if dico.loc[v, "niveau"] == "quartier"]
    blanks_q = int(src[quartier_vars].isin(["", "s"]).to_numpy().sum())
    assert (q["secret"] == "oui").sum() == blanks_q
    assert res.rapport.compteurs["cellules_vides"] == int((src[VARIABLES] == "").to_numpy().sum())
    assert blanks >= blanks_q > 0
    assert _erreurs(out) == []


def test_mapping_only_same_meaning():
    dico = insee_qpv.charger_dictionnaire()
    mapped = {v: p for v, p in zip(dico["variable"], dico["indicateur_projet"], strict=True) if p}
    assert mapped == {
        "pop_mun": "population",
        "pop_com": "population",
        "tp60": "taux_pauvrete",
        "decuc_q2": "revenu_median_uc",
    }
    assert len(dico) == 41 and set(dico["variable"]) == set(VARIABLES)
    assert set(dico["sens"]) <= {"hausse_amelioration", "hausse_degradation", "neutre"}


def test_quartiers_communes_and_geography(fichiers, tmp_path):
    out = tmp_path / "donnees"
    _importer(fichiers, out)
    quartiers = _lire(out, "quartiers").set_index("code_quartier")
    assert list(quartiers.index) == sorted(c for c, *_ in QUARTIERS)
    assert (
        quartiers.loc["QP031901", "qpv_2015"] == "oui" and quartiers.loc["QP031901", "qpv_2024"] == "inconnu"
    )
    assert (
        quartiers.loc["QN04901M", "qpv_2024"] == "oui" and quartiers.loc["QN04901M", "qpv_2015"] == "inconnu"
    )
    assert set(quartiers["categorie_cucs"]) == {"inconnu"} and set(quartiers["veille"]) == {"non"}
    links = _lire(out, "quartiers_communes")
    multi = links[links["code_quartier"] == "QP065901"]
    assert sorted(zip(multi["code_commune"], multi["principale"], strict=True)) == [
        ("65901", "non"),
        ("65902", "oui"),
    ]
    com = _lire(out, "communes").set_index("code_commune")
    assert com.loc["65901", "nom"] == "BOURG NEUF ECLUSE"
    assert com.loc["65902", "code_epci"] == "200000002" and com.loc["49901", "code_epci"] == "inconnu"
    assert com.loc["65902", "code_departement"] == "65" and com.loc["65902", "code_region"] == "76"
    # pop_com is a commune's population only where the QPV lies in one commune
    assert com.loc["31901", "population"] == "50000"
    assert com.loc["65902", "population"] == "inconnu" and com.loc["65901", "population"] == "inconnu"
    assert "31902" not in com.index  # a commune contour without a quartier is not kept

    import geopandas as gpd

    src = gpd.read_file(fichiers["contours"])
    n_invalid = int((~src.is_valid).sum())
    assert n_invalid == 1
    g = gpd.read_file(out / "quartiers.geojson")
    assert g.crs.to_epsg() == 2154 and g.is_valid.all() and len(g) == len(QUARTIERS)
    assert set(g.columns) >= {"code_quartier", "nom", "code_commune"}
    x0, y0, x1, y1 = g.total_bounds
    assert 0 < x0 < x1 < 1_300_000 and 6_000_000 < y0 < y1 < 7_200_000
    meta = __import__("yaml").safe_load((out / "metadonnees.yaml").read_text(encoding="utf-8"))
    assert meta["import"]["insee_qpv"]["compteurs"]["contours_repares"] == n_invalid
    assert meta["import"]["insee_qpv"]["contours_repares"] == [INVALIDE]
    dico = insee_qpv.charger_dictionnaire()
    assert (
        meta["annee_debut"] == dico["annee_reference"].min()
        and meta["annee_fin"] == dico["annee_reference"].max()
    )
    assert _erreurs(out) == []


@pytest.mark.parametrize(("epsg", "ext"), [(3857, ".gpkg"), (2154, ".geojson")])
def test_contours_in_any_crs(fichiers, tmp_path, epsg, ext):
    import geopandas as gpd

    _importer(fichiers, tmp_path / "ref")
    autre = tmp_path / f"contours{ext}"
    gpd.read_file(fichiers["contours"]).to_crs(epsg=epsg).to_file(autre)
    fichiers["contours"] = autre
    res = _importer(fichiers, tmp_path / "d")
    a = gpd.read_file(tmp_path / "ref" / "quartiers.geojson").set_index("code_quartier")
    b = gpd.read_file(tmp_path / "d" / "quartiers.geojson").set_index("code_quartier")
    assert b.crs.to_epsg() == 2154 and list(a.index) == list(b.index)
    # the same places, within a metre, whatever the CRS of the contours
    assert (a.geometry.centroid.distance(b.geometry.centroid) < 1).all()
    assert res.rapport.compteurs["contours_repares"] == 1


def test_unmatched_name_and_missing_shape_are_reported(fichiers, tmp_path):
    fichiers["contours"] = ecrire_contours(tmp_path / "sans.geojson", sans={"QP031902"})
    res = _importer(fichiers, tmp_path / "d", epci=None)
    warns = " ".join(res.rapport.avertissements)
    assert "Bourg-Neuf-Écluse (QP065901)" in warns
    assert "sans contour" in warns and "QP031902" in warns
    links = _lire(tmp_path / "d", "quartiers_communes")
    assert (links["code_quartier"] == "QP065901").sum() == 1
    assert _erreurs(tmp_path / "d") == []


def test_french_export_gives_the_same_tables(fichiers, tmp_path):
    _importer(fichiers, tmp_path / "a")
    fichiers["qp_autre"] = ecrire_qp(tmp_path / "entrees" / "qp_fr.csv", francais=True)
    assert b";" in fichiers["qp_autre"].read_bytes()[:200]
    _importer(fichiers, tmp_path / "b")
    for t in insee_qpv.FICHIERS_ECRITS:
        assert (tmp_path / "a" / f"{t}.csv").read_bytes() == (tmp_path / "b" / f"{t}.csv").read_bytes(), t
    assert (tmp_path / "a" / "quartiers.geojson").read_bytes() == (
        tmp_path / "b" / "quartiers.geojson"
    ).read_bytes()


def test_vides_manquant_vs_secret(fichiers, tmp_path):
    _importer(fichiers, tmp_path / "s")
    _importer(fichiers, tmp_path / "m", vides="manquant")
    s, m = _lire(tmp_path / "s", "indicateurs"), _lire(tmp_path / "m", "indicateurs")
    src = _source(fichiers["qp"])
    dico = insee_qpv.charger_dictionnaire()
    qvars = [v for v in VARIABLES if dico.loc[v, "niveau"] == "quartier"]
    vides = int((src[qvars] == "").to_numpy().sum())
    codes_s = int((src[qvars] == "s").to_numpy().sum())
    sq, mq = s[s.niveau == "quartier"], m[m.niveau == "quartier"]
    assert len(sq) - len(mq) == vides
    assert (mq["secret"] == "oui").sum() == codes_s  # explicit secrecy codes stay secret
    assert (sq["secret"] == "oui").sum() == vides + codes_s


def test_annee_option(fichiers, tmp_path):
    res = _importer(fichiers, tmp_path / "d", annees=["revenus=2018", "Démographie=2016"])
    ind = _lire(tmp_path / "d", "indicateurs")
    assert set(ind.loc[ind.indicateur == "taux_pauvrete", "annee"]) == {"2018"}
    warn = next(w for w in res.rapport.avertissements if "ne contient pas d'année" in w)
    assert "revenus" not in warn and "demographie" not in warn and "emploi 2020" in warn
    assert set(ind.loc[ind.indicateur == "population", "annee"]) == {"2016"}
    for bad in ("revenus:2018", "inconnue=2018", "revenus=1800"):
        with pytest.raises(DataError) as exc:
            _importer(fichiers, tmp_path / "e", annees=[bad])
        assert "--annee" in str(exc.value)
    assert not (tmp_path / "e").exists()


@pytest.mark.parametrize(
    ("cellule", "colonne", "regle"),
    [
        ("QX31901", "code_qp", "forme du code"),
        ("12a", "tp60", "nombre"),
        ("QP031901", "code_qp", "code en double"),
    ],
)
def test_bad_file_french_error_and_output_untouched(fichiers, tmp_path, cellule, colonne, regle):
    out = tmp_path / "donnees"
    out.mkdir()
    (out / "actions.csv").write_text("garde\n", encoding="utf-8")
    before = _snapshot(out)
    lignes = _lignes()
    lignes[2][ENTETE.index(colonne)] = cellule
    fichiers["qp_autre"] = ecrire_qp(tmp_path / "entrees" / "mauvais.csv", lignes)
    with pytest.raises(DataError) as exc:
        _importer(fichiers, out)
    msg = str(exc.value)
    assert "mauvais.csv" in msg and "ligne 4" in msg and f"« {colonne} »" in msg and regle in msg
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cli_french_error_without_traceback(fichiers, tmp_path, capsys):
    from cucs_analysis import cli

    out = tmp_path / "donnees"
    args = ["import", "insee-qpv", str(fichiers["qp"]), "--contours", str(fichiers["contours"])]
    assert cli.main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "4 quartiers" in printed and "contour réparé" in printed and "ne contient pas d'année" in printed
    # an existing output with these tables is refused without --force, then replaced with it
    assert cli.main([*args, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "--force" in err and "Traceback" not in err
    assert cli.main([*args, "--out", str(out), "--force"]) == 0
    bad = ecrire_qp(tmp_path / "entrees" / "vide.csv", [])
    assert (
        cli.main(
            [
                "import",
                "insee-qpv",
                str(bad),
                "--contours",
                str(fichiers["contours"]),
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 1
    )
    assert "Traceback" not in capsys.readouterr().err


def test_existing_folder_is_completed(fichiers, tmp_path):
    out = tmp_path / "donnees"
    out.mkdir()
    (out / "actions.csv").write_text("a\n", encoding="utf-8")
    (out / "metadonnees.yaml").write_text("nom: Mon jeu\nannee_debut: 2010\n", encoding="utf-8")
    _importer(fichiers, out)
    assert (out / "actions.csv").read_text(encoding="utf-8") == "a\n"
    meta = __import__("yaml").safe_load((out / "metadonnees.yaml").read_text(encoding="utf-8"))
    assert meta["nom"] == "Mon jeu" and meta["annee_debut"] == 2010 and "insee_qpv" in meta["import"]
    inside = out / "qp.csv"
    inside.write_bytes(fichiers["qp"].read_bytes())
    with pytest.raises(DataError, match="dossier de sortie"):
        insee_qpv.importer(inside, contours=fichiers["contours"], out=out, force=True)
    assert inside.exists()


def test_epci_reader_both_formats(tmp_path):
    for ext in (".xlsx", ".csv"):
        df = geo.lire_composition_epci(ecrire_epci(tmp_path / f"epci{ext}"))
        assert list(df["code_commune"]) == [r[0] for r in EPCI_LIGNES]
        assert df["code_epci"].isna().sum() == 1  # ZZZZZZZZZ: outside any EPCI
    (tmp_path / "faux.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(DataError, match="CODGEO"):
        geo.lire_composition_epci(tmp_path / "faux.csv")


def test_departement_and_region():
    assert geo.departement("2A004") == "2A" and geo.departement("97411") == "974"
    assert geo.departement("09261") == "09" and geo.departement("abc") is None
    assert geo.region("2B") == "94" and geo.region("976") == "06" and geo.region("31") == "76"
    assert len(geo.regions_par_departement()) == 101
    assert geo.normaliser_nom("Saint-Étienne du  Rouvray") == geo.normaliser_nom("ST ETIENNE-DU-ROUVRAY")


def test_common_helpers(tmp_path):
    rapport = common.RapportImport("essai")
    rapport.avertir("un")
    rapport.avertir("un")
    rapport.compter("n", 3)
    assert rapport.as_dict() == {"compteurs": {"n": 3}, "avertissements": ["un"]}
    out = tmp_path / "o"
    with pytest.raises(RuntimeError), common.dossier_sortie(out, ["communes"]) as tmp:
        common.ecrire_table(
            tmp, "communes", pd.DataFrame({"code_commune": ["01001"], "signataire_cucs": [True]})
        )
        raise RuntimeError("échec au milieu")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with common.dossier_sortie(out, ["communes"]) as tmp:
        common.ecrire_table(
            tmp, "communes", pd.DataFrame({"code_commune": ["01001"], "signataire_cucs": [True]})
        )
    assert (out / "communes.csv").read_text(encoding="utf-8") == "code_commune,signataire_cucs\n01001,oui\n"


# --- the real Occitanie sample (skipped where absent) ------------------------------------------------


@pytest.fixture(scope="module")
def occitanie(realdata, tmp_path_factory):
    src = realdata / "hackaviz2021_occitanie_qpv"
    tmp = tmp_path_factory.mktemp("occitanie")
    epci = epci_semeac_tarbes(tmp)
    out = tmp / "donnees"
    t0 = time.perf_counter()
    res = insee_qpv.importer(
        src / "qp.csv", contours=src / "qp.geojson", communes=src / "communes.geojson", epci=epci, out=out
    )
    return src, out, res, time.perf_counter() - t0


def test_real_counts_and_values(occitanie):
    src, out, res, duree = occitanie
    qp = pd.read_csv(src / "qp.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    quartiers = _lire(out, "quartiers")
    assert len(quartiers) == len(qp) == 105
    ind = _lire(out, "indicateurs")
    q = ind[ind.niveau == "quartier"]
    for v, code in (
        ("tp60", "taux_pauvrete"),
        ("decuc_q2", "revenu_median_uc"),
        ("abcde", "abcde"),
        ("tx_tot_empl", "tx_tot_empl"),
        ("pop_mun", "population"),
    ):
        got = q[q.indicateur == code].set_index("code_territoire")
        for c, cell in zip(qp["code_qp"], qp[v], strict=True):
            if cell == "":
                assert got.loc[c, "secret"] == "oui" and got.loc[c, "valeur"] == ""
            else:
                assert float(got.loc[c, "valeur"]) == float(cell)
    dico = insee_qpv.charger_dictionnaire()
    qvars = [v for v in qp.columns[3:] if dico.loc[v, "niveau"] == "quartier"]
    assert (q["secret"] == "oui").sum() == int((qp[qvars] == "").to_numpy().sum())
    assert not (ind["indicateur"].isin(["demandeurs_emploi", "taux_chomage"])).any()
    assert duree < 60, duree


def test_real_communes_and_links(occitanie):
    import geopandas as gpd

    src, out, res, _ = occitanie
    cont = gpd.read_file(src / "qp.geojson")
    quartiers = _lire(out, "quartiers")
    for code in ("31555", "34172", "66136"):
        expected = sorted(cont.loc[cont.code_commune == code, "code_qp"])
        assert expected and sorted(quartiers.loc[quartiers.code_commune == code, "code_quartier"]) == expected
    links = _lire(out, "quartiers_communes")
    qp = pd.read_csv(src / "qp.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    multi = qp.loc[qp.nom_commune.str.contains(","), "code_qp"]
    assert len(multi) == 1
    rows = links[links.code_quartier == multi.iloc[0]]
    assert len(rows) == 2 and (rows.principale == "oui").sum() == 1
    n_invalid = int((~cont.is_valid).sum())
    assert res.rapport.compteurs["contours_repares"] == n_invalid == 32
    g = gpd.read_file(out / "quartiers.geojson")
    assert g.crs.to_epsg() == 2154 and g.is_valid.all() and len(g) == 105
    x0, y0, x1, y1 = g.total_bounds  # Occitanie in Lambert-93
    assert 350_000 < x0 < x1 < 900_000 and 6_100_000 < y0 < y1 < 6_500_000
    assert _erreurs(out) == []


def test_a_folder_that_is_not_a_data_folder_is_refused(fichiers, tmp_path):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "lettre.odt").write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match="pas un dossier de données"):
        _importer(fichiers, out, force=True)
    assert [p.name for p in out.iterdir()] == ["lettre.odt"]


def test_a_quartier_in_two_features_is_merged(fichiers, tmp_path):
    data = json.loads(fichiers["contours"].read_text(encoding="utf-8"))
    extra = json.loads(json.dumps(data["features"][0]))
    extra["geometry"]["coordinates"] = _carre(1.50, 43.70)
    data["features"].append(extra)
    path = tmp_path / "deux.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    fichiers["contours"] = path
    res = _importer(fichiers, tmp_path / "d")
    import geopandas as gpd

    g = gpd.read_file(tmp_path / "d" / "quartiers.geojson").set_index("code_quartier")
    assert len(g) == len(QUARTIERS) and g.loc[QUARTIERS[0][0]].geometry.geom_type == "MultiPolygon"
    assert any("fusionnées" in w and QUARTIERS[0][0] in w for w in res.rapport.avertissements)


def test_files_swapped_or_not_geographic_are_french_errors(fichiers, tmp_path, capsys):
    from cucs_analysis import cli

    vide = tmp_path / "vide.geojson"
    vide.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    cas = [
        (fichiers["qp"], fichiers["qp"], "pas une couche géographique"),
        (fichiers["contours"], fichiers["contours"], "donnez-la à --contours"),
        (fichiers["qp"], vide, "aucune entité"),
        (fichiers["epci"], fichiers["contours"], "code_qp"),
    ]
    for qp, contours, attendu in cas:
        out = tmp_path / "sortie"
        code = cli.main(["import", "insee-qpv", str(qp), "--contours", str(contours), "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 1 and attendu in err and "Traceback" not in err, err
        assert not out.exists()


def test_xlsx_export_gives_the_same_tables(fichiers, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(ENTETE)
    for r in _lignes():
        ws.append([float(c) if c not in ("", "s") and j >= 3 else (c or None) for j, c in enumerate(r)])
    xlsx = tmp_path / "entrees" / "qp.xlsx"
    wb.save(xlsx)
    _importer(fichiers, tmp_path / "a")
    fichiers["qp_autre"] = xlsx
    _importer(fichiers, tmp_path / "b")
    for t in insee_qpv.FICHIERS_ECRITS:
        assert (tmp_path / "a" / f"{t}.csv").read_bytes() == (tmp_path / "b" / f"{t}.csv").read_bytes(), t


@pytest.mark.parametrize("seconde", ["", "61000"])
def test_commune_population_from_its_quartiers(fichiers, tmp_path, seconde):
    """Two quartiers of one commune: a blank on one row keeps the other's figure; two different
    figures keep neither (warned)."""
    lignes = _lignes()
    col = ENTETE.index("pop_com")
    premiere = lignes[0][col]
    lignes[1][col] = seconde
    fichiers["qp_autre"] = ecrire_qp(tmp_path / "entrees" / "pop.csv", lignes)
    res = _importer(fichiers, tmp_path / "d")
    com = _lire(tmp_path / "d", "communes").set_index("code_commune")
    conflit = any("valeurs différentes" in w for w in res.rapport.avertissements)
    if seconde:
        assert com.loc["31901", "population"] == "inconnu" and conflit
    else:
        assert com.loc["31901", "population"] == premiere and not conflit


def test_a_commune_outside_the_regions_is_imported_with_an_unknown_region(tmp_path, monkeypatch):
    """Saint-Martin (97801, « département » 978) has QPV but no region: the national file must
    import, the region is « inconnu » with a warning, never a refusal of every quartier."""
    import sys

    module = sys.modules[__name__]
    saint_martin = (
        "QP978001",
        "Quartier d'Orléans",
        "Saint-Martin",
        ("97801", "Saint-Martin"),
        (-63.05, 18.07),
    )
    monkeypatch.setattr(module, "QUARTIERS", [*QUARTIERS, saint_martin])
    src = tmp_path / "entrees"
    src.mkdir()
    f = {"qp": ecrire_qp(src / "qp.csv"), "contours": ecrire_contours(src / "qp.geojson")}
    res = insee_qpv.importer(f["qp"], contours=f["contours"], out=tmp_path / "out")
    communes = _lire(tmp_path / "out", "communes").set_index("code_commune")
    assert communes.loc["97801", "code_departement"] == "978"
    assert communes.loc["97801", "code_region"] == "inconnu"
    assert communes.loc["31901", "code_region"] == "76"
    assert any("97801" in a and "région « inconnu »" in a for a in res.rapport.avertissements)
    assert not _erreurs(tmp_path / "out")
