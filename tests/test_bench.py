"""The benchmark (benchmarks/bench.py): its floor does the notebooks' work, its figures are French."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("bench", None)


def _mesures(bench, charge=0.4):
    naif = bench.Mesure("boucle naïve", 98.6, 53.6, 887 * bench.MIO, 7)
    run = bench.Mesure("cucs run (2 processus)", 32.0, 30.9, 1711 * bench.MIO, 7)
    plancher = bench.Mesure("plancher", 12.25, 9.0, 406 * bench.MIO, 7, "divisé par 2 processus : 6,1 s")
    return bench.Bilan(naif, run, plancher, workers=2, charge=charge, coeurs=2)


def _fichiers(dossier: Path) -> list[str]:
    return sorted(p.relative_to(dossier).as_posix() for p in dossier.rglob("*") if p.is_file())


@pytest.mark.slow
def test_the_floor_gives_the_notebook_runs_results_and_page(bench, demo_run, tmp_path, monkeypatch):
    """One commune × one question by the floor (cells run in-process, no kernel): the same
    results file and the same page bytes as the runner's notebook run; and the same site as
    `cucs run` (started by the bench as a subprocess) builds for the same work."""
    monkeypatch.setenv("CUCS_CACHE_DIR", str(demo_run / "cache"))
    travail = bench.Travail(ROOT, ["20001"], ["q1"])
    assert [(c, q.id) for c, q in travail.runs] == [("20001", "q1")]
    plancher = bench.plancher(travail, tmp_path / "plancher", workers=1)
    sortie = tmp_path / "plancher"
    attendu = json.loads((demo_run / "results" / "20001" / "q1.json").read_text(encoding="utf-8"))
    obtenu = json.loads((sortie / "results" / "20001" / "q1.json").read_text(encoding="utf-8"))
    assert obtenu == attendu
    page = (sortie / "pages" / "20001" / "q1.html").read_bytes()
    assert page == (demo_run / "pages" / "20001" / "q1.html").read_bytes()
    run = bench.cucs_run(travail, tmp_path / "run", jobs=None)
    assert run.nom == "cucs run (1 processus)" and run.carnets == 1
    assert run.cpu_s > 0.5  # the subprocess, its workers and kernels (not just this process)
    site_run = _fichiers(tmp_path / "run" / "out" / "site")
    assert "index.html" in site_run and "methode.html" in site_run
    assert any(f.startswith("telechargements/20001/") for f in site_run)
    assert _fichiers(sortie / "site") == site_run
    assert plancher.carnets == 1


def test_cells_run_in_process_as_in_a_kernel(bench):
    """Parameters injected after the parameters cell, a displayed value and a cell's last
    expression become outputs, as a kernel sends them; an assignment shows nothing."""
    nb = new_notebook()
    params = new_code_cell("x = 1\ncode = 'defaut'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        new_markdown_cell("# Titre"),
        params,
        new_code_cell("from IPython.display import HTML, display\ndisplay(HTML('<b>vu</b>'))\ny = x + 1"),
        new_code_cell("code + str(y)"),
        new_code_cell("z = 3"),
    ]
    ns = bench.executer_cellules(nb, {"code": "20001"})
    assert ns["y"] == 2 and ns["z"] == 3
    affiche = nb.cells[2].outputs
    assert [o.output_type for o in affiche] == ["display_data"] and affiche[0].data[
        "text/html"
    ] == "<b>vu</b>"
    dernier = nb.cells[3].outputs
    assert dernier[0].output_type == "execute_result" and dernier[0].data["text/plain"] == "'200012'"
    assert nb.cells[4].outputs == [] and [c.get("execution_count") for c in nb.cells[1:]] == [1, 2, 3, 4]
    nbformat.validate(nb)


def test_an_error_in_a_cell_stops_the_floor(bench):
    nb = new_notebook(cells=[new_code_cell("raise ValueError('panne voulue')")])
    with pytest.raises(ValueError, match="panne voulue"):
        bench.executer_cellules(nb, {})


def test_ratios_and_table_are_in_french(bench):
    b = _mesures(bench)
    assert b.naif_sur_run == pytest.approx(98.6 / 32.0)
    assert b.run_sur_plancher == pytest.approx(32.0 / (12.25 / 2))
    phrases = bench.phrases_rapports(b)
    assert phrases[0] == (
        "Boucle naïve / cucs run : 3,1\u00a0× (objectif ≥ 6 : objectif non atteint ; "
        "charge au départ 0,4 pour 2 cœurs)."
    )
    assert phrases[1] == (
        "cucs run / (plancher ÷ 2) : 5,2\u00a0× (objectif ≤ 2 : objectif non atteint ; "
        "charge au départ 0,4 pour 2 cœurs)."
    )
    assert phrases[2] == (
        "En temps CPU (moins sensible aux autres charges de la machine) : boucle naïve / cucs run "
        "1,7\u00a0×, cucs run / plancher 3,4\u00a0×."
    )
    tableau = bench.tableau_mesures([b.naif, b.run, b.plancher])
    assert (
        "| cucs run (2 processus) | 7 | 32,0\u00a0s | 4,57\u00a0s | 30,9\u00a0s | 1\u202f711\u00a0Mio |"
        in tableau
    )
    assert "." not in tableau.split("\n", 2)[2].replace("cucs run", "")  # no decimal point


def test_targets_met_are_said_only_on_a_quiet_machine(bench):
    b = _mesures(bench)
    b.run.mur_s = 10.0
    assert bench.phrases_rapports(b)[:2] == [
        "Boucle naïve / cucs run : 9,9\u00a0× (objectif ≥ 6 : objectif atteint ; charge au départ 0,4 pour 2 cœurs).",
        "cucs run / (plancher ÷ 2) : 1,6\u00a0× (objectif ≤ 2 : objectif atteint ; charge au départ 0,4 pour 2 cœurs).",
    ]
    for charge in (10.7, 2.0, None):  # as many runnable processes as cores, or unknown: busy
        b = _mesures(bench, charge=charge)
        b.run.mur_s = 10.0
        phrases = bench.phrases_rapports(b)[:2]
        assert all(p.endswith("(mesure sous charge : à refaire).") for p in phrases), phrases
        assert not any("atteint" in p for p in phrases)
    assert "charge au départ 10,7 pour 2 cœurs" in bench.phrases_rapports(_mesures(bench, 10.7))[0]


def test_workers_label_is_the_runner_s_number_of_workers(bench, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert bench.nombre_workers(None, 1) == 1  # `--communes X --questions q1`: one run, one worker
    assert bench.nombre_workers(None, 109) == 8
    assert bench.nombre_workers(3, 109) == 3 and bench.nombre_workers(4, 2) == 2


def test_cucs_run_is_timed_as_the_command_a_user_types(bench, tmp_path):
    """A subprocess of this interpreter, output in the bench's temp folder, the same scope; the
    command line is one the CLI accepts."""
    from cucs_analysis.cli import build_parser

    travail = bench.Travail(ROOT, list(bench.QUICK_COMMUNES), list(bench.QUICK_QUESTIONS))
    commande = bench.commande_cucs_run(travail, tmp_path / "out", jobs=3)
    assert commande[:4] == [sys.executable, "-m", "cucs_analysis.cli", "run"]
    args = build_parser().parse_args(commande[3:])
    assert args.out == str(tmp_path / "out") and args.jobs == 3
    assert args.communes == list(bench.QUICK_COMMUNES) and args.questions == list(bench.QUICK_QUESTIONS)
    tout = bench.commande_cucs_run(bench.Travail(ROOT, ["20001"], None), tmp_path, jobs=None)
    assert "--questions" not in tout and "--jobs" not in tout  # every notebook, one worker per core


def test_cpu_of_a_subprocess_is_counted(bench):
    """`cucs run` runs in a subprocess: its CPU must reach the measure (RUSAGE_CHILDREN)."""
    brule = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass"
    with bench.mesurer("essai", 1) as m:
        bench._sous_processus([sys.executable, "-c", brule], ROOT, "essai")
    assert m.cpu_s >= 0.55 and m.mur_s >= 0.55 and m.memoire_o > 0
    with pytest.raises(SystemExit, match="essai a échoué pendant la mesure \\(code 3\\)"):
        bench._sous_processus([sys.executable, "-c", "import sys; sys.exit(3)"], ROOT, "essai")


@pytest.mark.slow
def test_data_cache_is_filled_before_the_measures(bench, tmp_path, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path / "cache"))
    bench.rechauffer_cache(ROOT)
    assert any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


def test_results_md_holds_machine_table_and_ratios(bench, tmp_path):
    infos = {
        "Processeur": "Processeur d'essai",
        "Cœurs": "2",
        "Commit": "abc1234",
        "Date": "2026-11-28 06:00 UTC",
    }
    chemin = bench.ecrire_resultats(
        _mesures(bench), infos, "démo complète : 12 communes, 109 carnets", tmp_path / "r.md"
    )
    texte = chemin.read_text(encoding="utf-8")
    assert texte.startswith("# Mesures de performance (`make bench`)")
    assert "- Processeur : Processeur d'essai\n- Cœurs : 2\n- Commit : abc1234" in texte
    assert "## Mesures (démo complète : 12 communes, 109 carnets)" in texte
    assert "| boucle naïve | 7 | 98,6\u00a0s | 14,09\u00a0s | 53,6\u00a0s | 887\u00a0Mio |" in texte
    assert "- Boucle naïve / cucs run : 3,1\u00a0× (objectif ≥ 6 : objectif non atteint ; charge" in texte
    assert "- Plancher divisé par 2 processus : 6,1 s." in texte
    # overwritten, not appended
    bench.ecrire_resultats(_mesures(bench), infos, "autre", chemin)
    assert chemin.read_text(encoding="utf-8").count("# Mesures de performance") == 1


def test_machine_description_names_what_the_figures_depend_on(bench):
    infos = bench.machine()
    assert {"Processeur", "Cœurs", "Mémoire", "Python", "Système", "Commit", "Date"} <= set(infos)
    assert infos["Mémoire"].endswith("\u00a0Gio") and infos["Cœurs"] == str(os.cpu_count())


def test_slope_of_a_memory_series(bench):
    assert bench.pente([100.0, 100.0, 100.0]) == 0.0
    assert bench.pente([0.0, 2.0, 4.0, 6.0]) == pytest.approx(2.0)
    assert bench.pente([5.0]) == 0.0


def test_quick_subset_runs_syntheses_after_the_questions(bench):
    travail = bench.Travail(ROOT, list(bench.QUICK_COMMUNES), list(bench.QUICK_QUESTIONS))
    ordre = [(c, q.id) for c, q in travail.runs]
    assert ordre == [
        ("20001", "q1"),
        ("20008", "q1"),
        ("20001", "q3"),
        ("20008", "q3"),
        ("20001", "synthese"),
        ("20008", "synthese"),
        ("region", "synthese_regionale"),
    ]
    complet = bench.Travail(ROOT, bench.communes_demo(ROOT), None)
    assert complet.n == len(bench.communes_demo(ROOT)) * 9 + 1


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="Linux /proc only")
def test_private_dirty_pages_follow_what_the_process_writes(bench):
    """The memory probe of `--memoire`: a process's own heap (Private_Dirty), not its USS,
    which also moves with what other processes map."""
    avant = bench.propre_anonyme(os.getpid())
    tampon = bytearray(64 * 1024 * 1024)
    tampon[::4096] = b"x" * len(tampon[::4096])  # every page written
    apres = bench.propre_anonyme(os.getpid())
    assert avant is not None and apres - avant >= 60 * 1024 * 1024
    del tampon
    assert bench.propre_anonyme(-1) is None
