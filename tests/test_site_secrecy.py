"""The whole built site publishes no count below the secrecy threshold and no pseudonymous id
(issue 9, point 3).

One full run (q1–q8, the commune synthesis and the regional synthesis) on a "hostile" copy of the
demo where almost every group is tiny (tests/tiny_groups.py), for a signatory commune (20001,
whose parameters raise the threshold to 15) and a non-signatory one (20010, threshold 11). Then
tests/site_scan.py walks every file of the site and the results: table cells under a count
header, numbers followed by a count noun in sentences, count columns of the CSV downloads,
count keys of the results JSON, and the ids of people, households, survey answers, reports and
coded statements of the data. The scanner is shown to fail on planted secrets.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import site_scan
import tiny_groups
from confiance import enregistrer

from cucs_analysis.data import validate

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ("q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "synthese")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The tiny-groups data set and the whole suite run on it for 20001 and 20010."""
    tmp = tmp_path_factory.mktemp("petits-effectifs")
    mp = pytest.MonkeyPatch()
    mp.setenv("CUCS_CACHE_DIR", str(tmp / "cache"))
    t0 = time.perf_counter()
    try:
        data, out, summary = tiny_groups.run_tiny(ROOT, tmp)
    finally:
        mp.undo()
    assert summary.exit_code == 0, summary.message
    return SimpleNamespace(data=data, out=out, duree=time.perf_counter() - t0)


@pytest.fixture(scope="session")
def seuils():
    """The threshold of each commune of the run (11 unless raised in its parameters)."""
    return {c: tiny_groups.SEUILS.get(c, 11) for c in tiny_groups.COMMUNES}


@pytest.fixture(scope="session")
def tiny_scan(tiny_run, seuils):
    t0 = time.perf_counter()
    ids = site_scan.pseudonymous_ids(tiny_run.data)
    result = site_scan.scan(tiny_run.out, seuils, ids)
    figures = {
        "duree_execution_s": round(tiny_run.duree, 1),
        "duree_scan_s": round(time.perf_counter() - t0, 1),
        "fichiers": result.files,
        "cellules_html": result.cells,
        "cellules_csv": result.csv_cells,
        "phrases": result.sentences,
        "valeurs_json": result.json_values,
        "identifiants": result.ids_checked,
        "trouvailles": len(result.findings),
    }
    # The figures of the last run, for TRUST.md (printed with `pytest -s`, recorded for
    # benchmarks/confiance.py).
    print("\nBalayage du secret statistique :", json.dumps(figures, ensure_ascii=False))
    enregistrer(
        "secret.duree_s",
        figures["duree_execution_s"],
        "durée de la série complète sur les petits effectifs (s)",
    )
    enregistrer(
        "secret.fichiers_html", result.files["html"], "pages HTML balayées (site des petits effectifs)"
    )
    enregistrer("secret.fichiers_csv", result.files["csv"], "fichiers CSV téléchargeables balayés")
    enregistrer("secret.fichiers_json", result.files["json"], "fichiers de résultats JSON balayés")
    enregistrer(
        "secret.cellules", result.cells + result.csv_cells, "cellules d'effectifs lues (tableaux HTML et CSV)"
    )
    enregistrer(
        "secret.phrases", result.sentences, "effectifs lus dans des phrases (nombre suivi d'un nom compté)"
    )
    enregistrer("secret.valeurs_json", result.json_values, "valeurs d'effectifs lues dans les résultats JSON")
    enregistrer(
        "secret.identifiants", result.ids_checked, "identifiants pseudonymes cherchés dans chaque fichier"
    )
    enregistrer("secret.trouvailles", len(result.findings), "effectifs sous le seuil ou identifiants publiés")
    return result


def _tables(path: Path):
    p = site_scan._Html()
    p.feed(path.read_text(encoding="utf-8"))
    return p.tables


def test_tiny_data_set_is_valid_and_mostly_tiny(tiny_run):
    assert validate.validate_dir(tiny_run.data) == []  # `cucs validate` passes
    act = pd.read_csv(tiny_run.data / "actions.csv")
    prevus = act["beneficiaires_prevus"].dropna()
    assert ((prevus >= 1) & (prevus <= 10)).mean() > 0.6
    ins = pd.read_csv(tiny_run.data / "instances.csv")
    assert ((ins["participants"] >= 1) & (ins["participants"] <= 10)).mean() > 0.6
    ind = pd.read_csv(tiny_run.data / "indicateurs.csv")
    pop = ind[(ind["niveau"] == "quartier") & (ind["indicateur"] == "population")]["valeur"]
    assert pop.between(1, 10).all()
    # people followed, survey answers and reports: groups of 1 to a few rows (the generator's)
    for table, by, most in (
        ("parcours", ["dispositif", "code_quartier", "date_entree"], 5),
        ("enquetes", ["code_quartier", "type_repondant", "question", "annee"], 8),
        ("gup", ["code_quartier", "categorie", "date"], 6),
        ("bilans", ["id_action", "categorie"], 3),
    ):
        tiny = pd.read_csv(tiny_run.data / f"{table}.csv", dtype=str)
        if by[-1].startswith("date"):
            tiny[by[-1]] = tiny[by[-1]].str[:4]
        sizes = tiny.groupby(by).size()
        assert len(tiny) > 0 and sizes.max() <= most, table
        assert len(tiny) < len(pd.read_csv(ROOT / "data" / "demo" / f"{table}.csv", dtype=str)), table


def test_the_whole_suite_ran_for_both_communes(tiny_run):
    for code in tiny_groups.COMMUNES:
        for q in QUESTIONS:
            assert (tiny_run.out / "results" / code / f"{q}.json").exists(), (code, q)
            assert (tiny_run.out / "site" / "pages" / code / f"{q}.html").exists(), (code, q)
    assert (tiny_run.out / "results" / "region" / "synthese_regionale.json").exists()


def test_the_whole_site_publishes_no_small_count_and_no_id(tiny_scan):
    assert tiny_scan.findings == []
    # the scan read the site, not an empty folder
    assert tiny_scan.files["html"] >= 20 and tiny_scan.files["csv"] >= 40 and tiny_scan.files["json"] >= 10
    assert tiny_scan.cells >= 200 and tiny_scan.csv_cells >= 50
    assert tiny_scan.sentences >= 50 and tiny_scan.json_values >= 50
    assert tiny_scan.ids_checked >= 1000


def test_the_scanner_finds_planted_counts_and_ids(tiny_run, seuils, tmp_path):
    """A copy of the built site with one secret planted in each kind of place: the scanner
    reports each of them (and nothing else)."""
    out = tmp_path / "out"
    shutil.copytree(tiny_run.out / "site", out / "site")
    shutil.copytree(tiny_run.out / "results", out / "results")
    ids = site_scan.pseudonymous_ids(tiny_run.data)
    assert site_scan.scan(out, seuils, ids).findings == []
    un_id = sorted(i for i in ids if i.startswith("P"))[0]
    page = out / "site" / "pages" / "20010" / "q2.html"
    html = page.read_text(encoding="utf-8")
    plant = (
        "<p>En 2012, l'action a touché 7 bénéficiaires.</p>"
        "<table><caption>Essai</caption><thead><tr><th>Action</th><th>Participants</th></tr></thead>"
        "<tbody><tr><td>Atelier</td><td>3</td></tr></tbody></table>"
        f"<p>Parcours {un_id}</p>"
    )
    page.write_text(html.replace("</body>", plant + "</body>"), encoding="utf-8")
    csv_path = out / "site" / "telechargements" / "20010" / "q3_repartition.csv"
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    head = lines[0].lstrip("\ufeff").split(";")
    row = ["" for _ in head]
    row[head.index("indicateur")], row[head.index("personnes_quartiers")] = "population", "4"
    csv_path.write_text("\n".join([*lines, ";".join(row)]) + "\n", encoding="utf-8")
    res_path = out / "results" / "20010" / "q4.json"
    res = json.loads(res_path.read_text(encoding="utf-8"))
    res["essai"] = [{"participants": 5, "annee": 2009}]
    res_path.write_text(json.dumps(res), encoding="utf-8")
    found = site_scan.scan(out, seuils, ids).findings
    assert len(found) == 5, found
    enregistrer(
        "secret.pieges_trouves",
        len(found),
        "secrets plantés (phrase, cellule, CSV, JSON, identifiant) trouvés sur 5",
    )
    assert any("7 bénéficiaires" in f for f in found)
    assert any("Participants" in f and f.endswith(": 3") for f in found)
    assert any(un_id in f for f in found)
    assert any("q3_repartition.csv" in f and f.endswith(": 4") for f in found)
    assert any("q4.json" in f and "participants" in f for f in found)


def test_a_raised_threshold_hides_a_twelve(tiny_run, seuils):
    """20001's parameters say 15: its steering committees' 12 participants read « s »."""
    assert seuils["20001"] == 15
    ins = pd.read_csv(tiny_run.data / "instances.csv", dtype={"code_commune": str})
    copil = ins[(ins["code_commune"] == "20001") & (ins["type"] == tiny_groups.DOUZE_TYPE)]
    assert int(copil["participants"].sum()) == 12
    tables = _tables(tiny_run.out / "site" / "pages" / "20001" / "q4.html")
    cap, head, rows = next(t for t in tables if t[0].startswith("Réunions par type"))
    row = next(r for r in rows if r[0].lower() == tiny_groups.DOUZE_TYPE)
    assert row[head.index("Participants")] == "s"
    # and the parameters recorded with the results say 15
    res = json.loads((tiny_run.out / "results" / "20001" / "q4.json").read_text(encoding="utf-8"))
    assert res["parametres"]["seuil_secret"] == 15


def test_the_same_cell_is_hidden_on_every_page(tiny_run):
    """q1 and q2 both list the actions with unfilled or abandoned years and their planned
    beneficiaries: one action's cell is hidden on both pages or on neither."""
    for code in ("20001",):
        q1 = _tables(tiny_run.out / "site" / "pages" / code / "q1.html")
        q2 = _tables(tiny_run.out / "site" / "pages" / code / "q2.html")
        _, h1, r1 = next(t for t in q1 if t[0].startswith("Actions non pourvues, abandonnées"))
        _, h2, r2 = next(t for t in q2 if t[0].startswith("Actions ayant des années non pourvues"))
        a1, s1, b1 = h1.index("Action"), h1.index("Statut"), h1.index("Bénéficiaires prévus")
        a2, b2 = h2.index("Action"), h2.index("Bénéficiaires prévus ces années-là")
        compared = 0
        for row in r2:
            mine = [r for r in r1 if r[a1] == row[a2] and r[s1] in ("non pourvue", "abandonnée")]
            if len(mine) == 1:
                compared += 1
                assert (mine[0][b1] == "s") == (row[b2] == "s"), (row, mine)
                assert mine[0][b1] == row[b2]
        assert compared >= 1
        # both pages print the total of these counts: never exactly one action hidden
        hidden_q2 = [row[a2] for row in r2 if row[b2] == "s"]
        hidden_q1 = {r[a1] for r in r1 if r[s1] in ("non pourvue", "abandonnée") and r[b1] == "s"}
        assert len(hidden_q2) != 1 and len(hidden_q1) != 1, (hidden_q1, hidden_q2)
        # and an action hidden on q2 is hidden on q1 (where it is listed)
        listed_q1 = {r[a1] for r in r1 if r[s1] in ("non pourvue", "abandonnée")}
        assert {a for a in hidden_q2 if a in listed_q1} <= hidden_q1


def test_the_methode_page_states_each_communes_threshold(tiny_run):
    page = (tiny_run.out / "site" / "methode.html").read_text(encoding="utf-8")
    text = " ".join(page.replace("\u00a0", " ").replace("\u202f", " ").split())
    communes = pd.read_csv(tiny_run.data / "communes.csv", dtype=str).set_index("code_commune")
    assert f"11 ; 15 pour {communes.loc['20001', 'nom']}" in text


def test_the_demo_site_publishes_no_small_count_and_no_id(demo_run):
    """The same scan on the shared run of the committed demo (conftest `demo_run`: q1, q2, q4
    for 20001 and 20012, threshold 11): no extra run, a second data set."""
    ids = site_scan.pseudonymous_ids(ROOT / "data" / "demo")
    result = site_scan.scan(demo_run, 11, ids)
    assert result.findings == []
    assert result.files["html"] >= 6 and result.cells >= 50 and result.json_values >= 20


#: Tables whose column totals the page prints (in a sentence or a total row): caption start →
#: the count columns. A column with exactly one « s » would give the cell back by difference.
TOTALS_PRINTED = {
    ("q1", "Réalisation par dispositif"): (
        "Bénéficiaires prévus (actions réalisées)",
        "Bénéficiaires touchés (actions réalisées)",
        "Bénéficiaires prévus des actions non pourvues ou abandonnées",
    ),
    ("q2", "Moyens et réalisation par public visé"): (
        "Bénéficiaires prévus (sur la base)",
        "Bénéficiaires touchés (sur la base)",
    ),
    ("q2", "Constats des bilans des actions"): ("Réussites", "Difficultés", "Blocages", "Écarts expliqués"),
}


def test_tables_with_printed_totals_never_hide_a_single_cell(tiny_run):
    seen = 0
    for code in tiny_groups.COMMUNES:
        for (q, debut), colonnes in TOTALS_PRINTED.items():
            for cap, head, rows in _tables(tiny_run.out / "site" / "pages" / code / f"{q}.html"):
                if not cap.startswith(debut):
                    continue
                seen += 1
                for c in colonnes:
                    j = head.index(c)
                    assert sum(r[j] == "s" for r in rows) != 1, (code, cap, c)
    assert seen >= 3
