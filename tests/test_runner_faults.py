"""Runner faults (issue 9, point 5): an endless cell, a dead kernel, a killed worker and Ctrl-C.

Each fault is injected in the tiny fixture notebook q1 by a flag file (`pannes/<commune>_q1`:
« boucle », « noyau », « processus »), so that the same notebook succeeds once the flag is
removed. After each fault: the failed run says why in French, the other runs went on, no
process of the run is left, the manifest tells the truth, and `--resume` ends with results
identical to those of an uninterrupted run (every results JSON, every status). The data
loader and the site builder are stubs (as in test_runner.py); notebooks, kernels, workers,
manifest and resume are real.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil  # a dependency of the runner: never skipped
import pytest
from confiance import enregistrer

from cucs_analysis.pipeline import executors, runner

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
COMMUNES = ("01001", "20002")
QUESTIONS = ["q1", "synthese"]
DELAI_MIN = 0.1  # 6 seconds: a fixture notebook takes 2 to 4 s

# The stubs of test_runner.py, as source: installed in this process and in a `cucs run` subprocess.
STUBS = textwrap.dedent(
    """
    import sys, types
    from pathlib import Path
    import pandas as pd

    communes = pd.DataFrame({"code_commune": ["01001", "20002"], "nom": ["Ambérieu-Test", "Bourg-Test"]})
    dataset = types.SimpleNamespace(fingerprint="empreinte-1", tables={"communes": communes})
    fake_load = types.ModuleType("cucs_analysis.data.dataset")
    fake_load.load_dataset = lambda data_dir: dataset
    fake_publish = types.ModuleType("cucs_analysis.pipeline.publish")

    def render_page(nb, question_id, code_commune, nom_commune):
        return f"<html lang='fr'><title>{question_id} {nom_commune}</title>{len(nb.cells)} cellules</html>"

    def build_site(out_dir, racine=None):
        import json
        site = Path(out_dir) / "site"
        site.mkdir(exist_ok=True)
        runs = json.loads((Path(out_dir) / "manifest.json").read_text(encoding="utf-8"))["runs"]
        lines = [f"{e['code_commune']} {e['question']} {e['statut']}" for e in runs]
        (site / "index.html").write_text("\\n".join(lines), encoding="utf-8")
        return site

    fake_publish.render_page = render_page
    fake_publish.build_site = build_site
    """
)


def _stub_modules() -> dict:
    ns: dict = {}
    exec(compile(STUBS, "stubs", "exec"), ns)
    return {
        "cucs_analysis.data.dataset": ns["fake_load"],
        "cucs_analysis.pipeline.publish": ns["fake_publish"],
    }


def _new_project(path: Path) -> Path:
    import shutil

    (path / "params").mkdir(parents=True)
    defaults = (ROOT / "params" / "defaults.yaml").read_text(encoding="utf-8")
    (path / "params" / "defaults.yaml").write_text(defaults.replace("donnees: data/demo", "donnees: data"))
    for code in COMMUNES:
        (path / "params" / f"{code}.yaml").write_text(f'code_commune: "{code}"\n', encoding="utf-8")
    (path / "data").mkdir()
    (path / "pannes").mkdir()
    shutil.copytree(FIXTURES, path / "notebooks")
    return path


@pytest.fixture(scope="module")
def stubs():
    with pytest.MonkeyPatch.context() as mp:
        for name, module in _stub_modules().items():
            mp.setitem(sys.modules, name, module)
        yield


def _run(project: Path, questions: list[str] = QUESTIONS, **kw) -> runner.RunSummary:
    kw.setdefault("jobs", 2)
    return runner.run(project, list(COMMUNES), questions, progress=False, **kw)


def _state(project: Path, questions: list[str] = QUESTIONS) -> tuple[dict, dict]:
    """(every results JSON, parsed; every run's status, "ignore" counted as "ok"), for the
    questions given."""
    out = project / "out"
    results = {
        p.relative_to(out / "results").as_posix(): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((out / "results").rglob("*.json"))
        if p.stem in questions
    }
    statuts = {
        (e["code_commune"], e["question"]): "ok" if e["statut"] == "ignore" else e["statut"]
        for e in _manifest(project)["runs"]
        if e["question"] in questions
    }
    return results, statuts


def _manifest(project: Path) -> dict:
    return json.loads((project / "out" / "manifest.json").read_text(encoding="utf-8"))


def _entry(project: Path, code: str, question: str) -> dict:
    (found,) = [
        e for e in _manifest(project)["runs"] if (e["code_commune"], e["question"]) == (code, question)
    ]
    return found


#: What this module injected and checked, for TRUST.md (recorded when the module ends).
INJECTEES: set[str] = set()
REPRISES: list[int] = []


@pytest.fixture(scope="module", autouse=True)
def _record_figures():
    yield
    if {"boucle", "noyau", "processus", "ctrl-c"} <= INJECTEES:  # the whole module ran
        enregistrer(
            "pannes.types",
            len(INJECTEES),
            "types de pannes injectées (cellule sans fin, erreur de cellule, noyau tué, processus tué, Ctrl-C)",
        )
        enregistrer(
            "pannes.reprises_identiques",
            len(REPRISES),
            "reprises (--resume) après une panne, aux résultats identiques à une exécution sans panne",
        )


def _fault(project: Path, code: str, kind: str | None) -> None:
    if kind is not None:
        INJECTEES.add(kind)
    flag = project / "pannes" / f"{code}_q1"
    if kind is None:
        flag.unlink(missing_ok=True)
    else:
        flag.write_text(kind, encoding="utf-8")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _kernel_pid(project: Path, code: str) -> int:
    return int((project / "pannes" / f"{code}_q1.pid").read_text(encoding="utf-8"))


def _no_run_process_left(project: Path) -> None:
    """No process started for this project's runs (worker, kernel) is still alive, zombies
    aside: a worker is a child of this process (or has the `cucs run` subprocess's folder as
    working folder), a kernel works in the project's notebooks folder. Other `cucs run`
    going on on the machine are not looked at."""
    ours = {p.pid for p in psutil.Process().children(recursive=True)}
    left = []
    for p in psutil.process_iter():
        try:
            if executors.MARQUEUR not in p.environ() or p.status() == psutil.STATUS_ZOMBIE:
                continue
            if p.pid in ours or Path(p.cwd()).is_relative_to(project):
                left.append(p)
        except psutil.Error:
            continue
    assert not left, left


def _no_ok_without_outputs(project: Path) -> None:
    out = project / "out"
    for e in _manifest(project)["runs"]:
        if e["statut"] in ("ok", "ignore"):
            assert (out / "pages" / e["code_commune"] / f"{e['question']}.html").is_file(), e
            assert (out / "results" / e["code_commune"] / f"{e['question']}.json").is_file(), e


def _french(message: str) -> None:
    for english in ("Traceback", "Error", "Kernel died", "BrokenProcessPool", "Exception", "killed"):
        assert english not in message, message


@pytest.fixture(scope="module")
def reference(stubs, tmp_path_factory) -> tuple[dict, dict]:
    """The results and statuses of an uninterrupted run."""
    project = _new_project(tmp_path_factory.mktemp("reference"))
    summary = _run(project)
    assert summary.exit_code == 0 and summary.executes == 4
    return _state(project)


def _resume_gives_reference(
    project: Path, reference: tuple[dict, dict], executes: int, questions: list[str] = QUESTIONS
) -> None:
    """`--resume` once the fault is gone: every results JSON and every status as in an
    uninterrupted run."""
    summary = _run(project, questions, resume=True)
    assert summary.exit_code == 0, summary.message
    assert summary.executes == executes, summary.message
    results, statuts = reference
    expected = (
        {k: v for k, v in results.items() if Path(k).stem in questions},
        {k: v for k, v in statuts.items() if k[1] in questions},
    )
    assert _state(project, questions) == expected
    _no_ok_without_outputs(project)
    REPRISES.append(executes)


# --- 1. an endless cell: the per-run time limit ---------------------------------------------------


def test_endless_cell_stopped_at_the_time_limit_others_go_on_resume_identical(stubs, reference, tmp_path):
    project = _new_project(tmp_path)
    _fault(project, "20002", "boucle")
    t0 = time.perf_counter()
    summary = _run(project, delai_max=DELAI_MIN)
    elapsed = time.perf_counter() - t0
    failed = _entry(project, "20002", "q1")
    assert failed["statut"] == "echec"
    assert failed["erreur"].startswith("délai dépassé : le carnet tournait encore au-delà de 0,1 min")
    _french(failed["erreur"])
    assert failed["duree_s"] == pytest.approx(DELAI_MIN * 60)
    # the other runs went on; the synthesis of 20002 ran, without q1
    assert _entry(project, "01001", "q1")["statut"] == "ok"
    assert {_entry(project, c, "synthese")["statut"] for c in COMMUNES} == {"ok"}
    syn = json.loads((project / "out" / "results" / "20002" / "synthese.json").read_text(encoding="utf-8"))
    assert syn["lues"] == []
    assert summary.exit_code == 1 and summary.echecs == 1
    assert elapsed < DELAI_MIN * 60 + 40  # 6 s limit; the three other runs take 2 to 4 s each
    # the endless kernel is gone, and so is every process of the runs
    assert _gone(_kernel_pid(project, "20002"))
    _no_run_process_left(project)
    assert not (project / "out" / "results" / "20002" / "q1.json").exists()
    _no_ok_without_outputs(project)
    print(f"\n[mesure] délai de 6 s : exécution complète en {elapsed:.1f} s", file=sys.stderr)

    # --resume once the cell ends: q1 of 20002 and its synthesis (which read a failed q1) rerun
    _fault(project, "20002", None)
    _resume_gives_reference(project, reference, executes=2)
    assert _entry(project, "20002", "synthese")["statut"] == "ok"  # rerun, not skipped
    assert _entry(project, "01001", "synthese")["statut"] == "ignore"


def test_time_limit_is_a_parameter_per_commune(stubs, tmp_path):
    project = _new_project(tmp_path)
    (project / "params" / "20002.yaml").write_text(
        'code_commune: "20002"\nexecution:\n  delai_max_minutes: 0.05\n', encoding="utf-8"
    )
    _fault(project, "20002", "boucle")
    t0 = time.perf_counter()
    runner.run(project, ["20002"], ["q1"], jobs=1, progress=False)
    assert time.perf_counter() - t0 < 40
    assert "au-delà de 0,05 min" in _entry(project, "20002", "q1")["erreur"]
    # the limit never reaches the notebooks, their results or the resume decision
    from cucs_analysis.pipeline.params import load_params

    assert "execution" not in load_params("20002", project).as_dict()
    (project / "params" / "20002.yaml").write_text(
        'code_commune: "20002"\nexecution:\n  delai_max_minutes: 0\n', encoding="utf-8"
    )
    from cucs_analysis.pipeline.params import ParamError

    with pytest.raises(ParamError, match=r"params/20002.yaml, clé « execution.delai_max_minutes »"):
        runner.run(project, ["20002"], ["q1"], jobs=1, progress=False)


# --- 2. a dead kernel -----------------------------------------------------------------------------------


def test_dead_kernel_is_a_failed_run_in_french_resume_identical(stubs, reference, tmp_path):
    project = _new_project(tmp_path)
    _fault(project, "01001", "noyau")
    summary = _run(project, ["q1"])
    failed = _entry(project, "01001", "q1")
    assert failed["statut"] == "echec"
    assert failed["erreur"].startswith("le noyau Python du carnet s'est arrêté pendant l'exécution")
    _french(failed["erreur"])
    assert _entry(project, "20002", "q1")["statut"] == "ok"
    assert summary.echecs == 1 and summary.executes == 2
    _no_run_process_left(project)
    _no_ok_without_outputs(project)

    _fault(project, "01001", None)
    _resume_gives_reference(project, reference, executes=1, questions=["q1"])


# --- 3. a killed worker -----------------------------------------------------------------------------------


def test_killed_worker_fails_alone_pending_runs_execute_resume_identical(stubs, reference, tmp_path):
    project = _new_project(tmp_path)
    _fault(project, "01001", "processus")  # the first run, one worker: 20002 waits its turn
    summary = _run(project, ["q1"], jobs=1)
    failed = _entry(project, "01001", "q1")
    assert failed["statut"] == "echec"
    assert failed["erreur"].startswith("le processus d'exécution s'est arrêté par le signal SIGKILL")
    _french(failed["erreur"])
    # the run that had not started was executed
    assert _entry(project, "20002", "q1")["statut"] == "ok"
    assert summary.echecs == 1 and summary.executes == 2
    # the kernel whose worker died (it was sleeping 60 s) did not outlive it
    assert _gone(_kernel_pid(project, "01001"))
    _no_run_process_left(project)
    _no_ok_without_outputs(project)

    _fault(project, "01001", None)
    _resume_gives_reference(project, reference, executes=1, questions=["q1"])


# --- 4. Ctrl-C -------------------------------------------------------------------------------------------


def _sigint_par_defaut() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cucs_run(project: Path, *args: str) -> subprocess.Popen:
    script = STUBS + textwrap.dedent(
        """
        sys.modules["cucs_analysis.data.dataset"] = fake_load
        sys.modules["cucs_analysis.pipeline.publish"] = fake_publish
        from cucs_analysis.cli import main
        sys.exit(main(sys.argv[1:]))
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", script, "run", *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as in a terminal
        # Ctrl-C as in a terminal: a test suite started in the background by a non-interactive
        # shell (`… &`) inherits SIGINT ignored, and Python then installs no KeyboardInterrupt.
        preexec_fn=_sigint_par_defaut,
    )


def test_ctrl_c_stops_everything_tells_the_truth_and_resume_is_identical(stubs, reference, tmp_path):
    project = _new_project(tmp_path)
    out = project / "out"
    # A previous complete run, with other parameters: the outputs and site Ctrl-C must not spoil.
    for code in COMMUNES:
        (project / "params" / f"{code}.yaml").write_text(
            f'code_commune: "{code}"\nseuil_secret: 17\n', encoding="utf-8"
        )
    assert _run(project, ["q1"]).exit_code == 0
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and "notebooks" not in p.parts}
    for code in COMMUNES:
        (project / "params" / f"{code}.yaml").write_text(f'code_commune: "{code}"\n', encoding="utf-8")

    # 01001/q1 runs first and ends; 20002/q1 hangs (after writing its new results); then Ctrl-C.
    _fault(project, "20002", "boucle")
    proc = _cucs_run(project, "--communes", *COMMUNES, "--questions", *QUESTIONS, "--jobs", "1")
    INJECTEES.add("ctrl-c")
    pid_file = project / "pannes" / "20002_q1.pid"
    deadline = time.monotonic() + 90
    while not pid_file.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert pid_file.exists(), proc.communicate()
    time.sleep(0.5)
    t0 = time.perf_counter()
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    stdout, stderr = proc.communicate(timeout=60)
    stop_s = time.perf_counter() - t0
    print(f"\n[mesure] Ctrl-C : arrêt en {stop_s:.1f} s\n{stdout}{stderr}", file=sys.stderr)

    assert proc.returncode == 130
    assert "Traceback" not in stderr + stdout and "KeyboardInterrupt" not in stderr + stdout
    assert "Interruption demandée (Ctrl-C) : exécution arrêtée" in stdout
    assert "Pour terminer : relancez la même commande avec --resume." in stdout
    # workers and kernels stopped
    assert _gone(_kernel_pid(project, "20002"))
    _no_run_process_left(project)
    # the manifest tells the truth for every run
    m = _manifest(project)
    assert m["interrompu"] is True
    assert _entry(project, "01001", "q1")["statut"] == "ok"
    stopped = _entry(project, "20002", "q1")
    assert stopped["statut"] == "interrompu" and "Ctrl-C" in stopped["erreur"]
    assert stopped["sorties_precedentes"] is True and stopped["precedent"]["statut"] == "ok"
    for code in COMMUNES:  # not started: « interrompu » too, and no outputs claimed
        assert _entry(project, code, "synthese")["statut"] == "interrompu"
        assert _entry(project, code, "synthese")["sorties_precedentes"] is False
    _no_ok_without_outputs(project)
    # the stopped run's previous outputs are back as they were (its notebook had overwritten
    # its results before hanging), the site is untouched
    after = {p: p.read_bytes() for p in before if p.exists()}
    for rel in ("results/20002/q1.json", "pages/20002/q1.html", "site/index.html"):
        assert after[out / rel] == before[out / rel], rel
    assert not list(out.rglob(".*.precedent")) and not list(out.rglob(".*.sans-precedent"))
    assert not list(out.rglob(".*.tmp*"))

    _fault(project, "20002", None)
    _resume_gives_reference(project, reference, executes=3)


# --- 5. syntheses follow what they read --------------------------------------------------------------


def test_resume_reruns_a_synthesis_that_read_a_failed_question(stubs, tmp_path):
    project = _new_project(tmp_path)
    _fault(project, "20002", "erreur")
    runner.run(project, ["20002"], QUESTIONS, jobs=1, progress=False)
    assert _entry(project, "20002", "q1")["statut"] == "echec"
    syn = project / "out" / "results" / "20002" / "synthese.json"
    assert json.loads(syn.read_text(encoding="utf-8"))["lues"] == []
    _fault(project, "20002", None)
    summary = runner.run(project, ["20002"], QUESTIONS, jobs=1, resume=True, progress=False)
    # the question succeeds now: the synthesis that read its failure is rerun, not kept stale
    assert summary.executes == 2 and _entry(project, "20002", "synthese")["statut"] == "ok"
    assert json.loads(syn.read_text(encoding="utf-8"))["lues"] == ["q1"]
    # and nothing changed since: both are skipped
    summary = runner.run(project, ["20002"], QUESTIONS, jobs=1, resume=True, progress=False)
    assert summary.executes == 0 and summary.inchanges == 2


def test_synthesis_hash_covers_status_and_results_of_what_it_reads(tmp_path):
    results = tmp_path / "results"
    q = runner.questions_by_id("synthese")
    known = {("20001", "q1"): ("ok", "h1"), ("20002", "q1"): ("ok", "h2")}
    base = runner._dependencies("20001", q, known, results)
    assert "20002" not in base  # another commune's runs are not read
    (results / "20001").mkdir(parents=True)
    (results / "20001" / "q1.json").write_text("{}", encoding="utf-8")
    with_results = runner._dependencies("20001", q, known, results)
    assert with_results != base
    failed = runner._dependencies("20001", q, {**known, ("20001", "q1"): ("echec", "h1")}, results)
    assert failed not in (base, with_results)
    ignored = runner._dependencies("20001", q, {**known, ("20001", "q1"): ("ignore", "h1")}, results)
    assert ignored == with_results  # skipped by --resume: the same outputs
    regional = runner._dependencies("region", runner.questions_by_id("synthese_regionale"), known, results)
    assert "20001/q1" in regional and "20002/q1" in regional


# --- 7. the site says it in French -----------------------------------------------------------------


def test_fault_messages_read_in_french_on_the_index():
    import importlib

    with pytest.MonkeyPatch.context() as mp:  # the real site builder, not this module's stub
        mp.delitem(sys.modules, "cucs_analysis.pipeline.publish", raising=False)
        publish = importlib.import_module("cucs_analysis.pipeline.publish")

    timeout = runner.timeout_message(600)
    assert "au-delà de 10 min" in timeout
    dead = runner._error_of_run(type("DeadKernelError", (Exception,), {})("Kernel died"), {})
    stopped = runner._stopped_message(executors.ProcessusArrete(-9))
    # jupyter_client's own messages for a kernel that does not start (the retry reads them)
    mort = runner._error_of_run(RuntimeError("Kernel died before replying to kernel_info"), {})
    muet = runner._error_of_run(RuntimeError("Kernel didn't respond in 60 seconds"), {})
    assert "3 essais" in mort and "60 secondes" in muet
    for erreur in (timeout, dead, stopped, mort, muet):
        shown = publish._cell({"statut": "echec", "erreur": erreur}, None, False)["erreur"]
        _french(shown)
        assert shown[:1].isupper()
    cell = publish._cell(
        {"statut": "interrompu", "erreur": "exécution interrompue (Ctrl-C) avant la fin"}, None, True
    )
    assert cell["lien_libelle"] != "Lire" and "interrompue" in cell["erreur"]
    assert cell["statut_libelle"] == "interrompu"


def test_the_interruption_message_says_whether_a_previous_site_is_kept(tmp_path):
    manifest = tmp_path / "out" / "manifest.json"
    manifest.parent.mkdir()
    summary = runner.RunSummary(executes=2)
    entries = [{"statut": runner.INTERROMPU}] * 3
    sans_site = runner._interrupted_message(entries, summary, manifest, tmp_path)
    assert "aucun site n'est publié" in sans_site and "site précédent" not in sans_site
    assert "2 carnets terminés (0 en échec), 0 inchangé, 3 carnets interrompus" in sans_site
    (tmp_path / "out" / "site").mkdir()
    (tmp_path / "out" / "site" / "index.html").write_text("<html></html>", encoding="utf-8")
    avec_site = runner._interrupted_message(entries, summary, manifest, tmp_path)
    assert "le site précédent est conservé tel quel" in avec_site


def test_a_record_the_driver_cannot_read_is_said_so_not_a_stopped_process(tmp_path):
    """`executors.ResultatIllisible`: the worker is alive, only this run's record was lost."""
    import concurrent.futures as cf

    fut: cf.Future = cf.Future()
    fut.set_exception(executors.ResultatIllisible("TypeError : reconstruction refusée"))

    class Executeur:
        def submit_run(self, fn, task, delai_s=None):
            return fut

    task = {"code_commune": "20001", "question": "q1", "carnet": "q1.ipynb", "nom_commune": "X",
            "out_dir": str(tmp_path), "results_dir": str(tmp_path / "results"), "hash_entrees": "h",
            "versions": {}, "delai_s": 60}  # fmt: skip
    (record,) = list(runner._run_phase(Executeur(), [task]))
    assert record["statut"] == "echec"
    assert record["erreur"].startswith("le compte rendu de l'exécution n'a pas pu être relu")
    assert "s'est arrêté" not in record["erreur"]
