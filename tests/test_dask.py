"""Runs on a Dask cluster whose workers share no disk with the driver (issue 12, item 5).

A real cluster: `dask scheduler` and two `dask worker` processes started here, each worker in a
temporary folder of its own (working directory, TMPDIR, CUCS_CACHE_DIR) and told nothing of the
driver's folders. The demo runs on it and with the default executor: same results, same pages,
same statuses. The executor's API, the French errors and a worker that dies are tested too.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pytest
from projet import ROOT, projet_sur
from test_runner import entry, manifest
from test_runner import project as project  # noqa: PLC0414 - the fixture, used below

from cucs_analysis.pipeline import distant, executors, runner
from cucs_analysis.pipeline.params import ParamError

distributed = pytest.importorskip("distributed")
pytest.importorskip("papermill")

COMMUNES = ["20001", "20012"]  # a rich commune and a non-signatory one
# q2 reads the region stage; q1 runs in the tests below (absolute data folder, dead worker)
QUESTIONS = ["q2", "synthese", "synthese_regionale"]
CARNETS = [
    "q1_droit_commun.ipynb",
    "q2_moyens_associations.ipynb",
    "synthese_commune.ipynb",
    "synthese_regionale.ipynb",
]


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _statuts(out: Path) -> dict:
    return {(e["code_commune"], e["question"]): e["statut"] for e in _manifest(out)["runs"]}


def _fichiers(out: Path, dossier: str) -> dict[str, bytes]:
    base = out / dossier
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def _sans_etapes(fichiers: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in fichiers.items() if not k.startswith("region/etape/")}


# --- a cluster of separate processes, no shared folder ---------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two workers (with nannies) started as commands, as on several
    machines; each worker runs in its own folder with its own TMPDIR and CUCS_CACHE_DIR.
    Yields (address, [worker folders])."""
    base = tmp_path_factory.mktemp("cluster")
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    fichier = base / "ordonnanceur.json"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dask", "scheduler", "--scheduler-file", str(fichier), "--host",
             "127.0.0.1", "--port", "0", "--no-dashboard"],
            env=env, cwd=base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    ]  # fmt: skip
    dossiers = []
    try:
        deadline = time.monotonic() + 60
        while not fichier.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(fichier.read_text())["address"]
        for i in (1, 2):
            d = base / f"worker{i}"
            (d / "tmp").mkdir(parents=True)
            dossiers.append(d)
            wenv = {**env, "TMPDIR": str(d / "tmp"), "CUCS_CACHE_DIR": str(d / "cache")}
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "dask", "worker", address, "--nthreads", "1", "--no-dashboard",
                     "--name", f"w{i}", "--local-directory", str(d / "dask")],
                    env=wenv, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip
        with distributed.Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=90)
        yield address, dossiers
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="module")
def projet(tmp_path_factory) -> Path:
    """A project like this one (four notebooks) with its data at data/demo, a copy."""
    dossier = tmp_path_factory.mktemp("projet-dask") / "projet"
    projet_sur(Path("data/demo"), dossier, CARNETS)
    shutil.copytree(ROOT / "data" / "demo", dossier / "data" / "demo")
    return dossier


@pytest.fixture(scope="module")
def deux_executions(projet, cluster, tmp_path_factory):
    """The demo selection run with the default executor and on the cluster; the driver has a
    cache of its own. Returns (out of the processes, out of Dask, seconds of each)."""
    address, _ = cluster
    base = tmp_path_factory.mktemp("sorties")
    mp = pytest.MonkeyPatch()
    mp.setenv("CUCS_CACHE_DIR", str(base / "cache-pilote"))
    mp.setattr(distant, "GROS_ENVOI", 1)  # the syntheses' inputs scattered, as in a national run
    try:
        durees = {}
        for nom, kwargs in (("processus", {}), ("dask", {"scheduler": address})):
            t0 = time.perf_counter()
            summary = runner.run(
                projet,
                COMMUNES,
                QUESTIONS,
                jobs=2,
                resume=False,
                out_dir=base / nom,
                progress=False,
                **kwargs,
            )
            durees[nom] = time.perf_counter() - t0
            assert summary.exit_code == 0, summary.message
    finally:
        mp.undo()
    return base / "processus", base / "dask", durees


def test_demo_on_a_cluster_without_shared_disk_gives_the_default_outputs(deux_executions, projet):
    proc, dask_out, durees = deux_executions
    print(f"durées : {durees}")
    # same statuses (every run of the selection ok), same results and pages, byte for byte;
    # no field of the results depends on the run (the manifest's dates and durations do)
    assert _statuts(dask_out) == _statuts(proc)
    assert set(_statuts(proc).values()) == {"ok"} and len(_statuts(proc)) == 5
    # region/etape/ is a cache keyed by the library's code: a kernel that finds none for its
    # key (the library edited meanwhile) computes and stores one; not an output
    assert _sans_etapes(_fichiers(dask_out, "results")) == _sans_etapes(_fichiers(proc, "results"))
    assert _fichiers(dask_out, "pages") == _fichiers(proc, "pages")
    assert sorted(_fichiers(dask_out, "notebooks")) == sorted(_fichiers(proc, "notebooks"))
    # the executed notebooks name the driver's folders, never a worker's
    carnet = (dask_out / "notebooks" / "20001" / "q2_moyens_associations.ipynb").read_text(encoding="utf-8")
    assert "cucs-distant" not in carnet
    assert not (projet / "out").exists()  # nothing written in the driver's project by a worker


def test_each_worker_worked_in_its_own_folders(deux_executions, cluster):
    address, dossiers = cluster
    from cucs_analysis.pipeline import kernels

    if kernels.chaud_par_defaut():  # one warm kernel template per worker process
        with distributed.Client(address, timeout=30) as client:
            noms = client.run(
                lambda: __import__("cucs_analysis.pipeline.distant").pipeline.distant._NOYAU.get("nom")
            )
        assert set(noms.values()) == {kernels.NOM_NOYAU}
    for d in dossiers:
        base = next((d / "tmp").glob("cucs-distant-*"))
        (fp,) = [p.name for p in (base / "donnees").iterdir() if not p.name.startswith(".")]
        assert (base / "donnees" / fp / ".complet").is_file()
        assert (base / "donnees" / fp / "donnees" / "communes.csv").is_file()
        assert (d / "cache" / fp / "meta.pkl").is_file()  # the driver's Parquet cache, shipped
        (projet_local,) = list((base / "projets").iterdir())
        assert (projet_local / "params" / "defaults.yaml").is_file()
        assert (projet_local / "data" / "demo").resolve() == (base / "donnees" / fp / "donnees").resolve()
        assert not [p for p in (base / "taches").iterdir() if not p.name.startswith(".")]  # cleaned up


def test_a_task_receives_no_path_of_the_driver(tmp_path):
    task = {
        "code_commune": "20001",
        "question": "q1",
        "notebook": str(tmp_path / "notebooks" / "q1.ipynb"),
        "notebooks_dir": str(tmp_path / "notebooks"),
        "out_dir": str(tmp_path / "out"),
        "results_dir": str(tmp_path / "out" / "results"),
        "parametres": {"donnees": "data/demo"},
    }
    assert str(tmp_path) not in json.dumps(distant.spec_distante(task))


def test_absolute_data_folder_is_translated_back(projet, cluster, tmp_path, monkeypatch):
    """`--donnees /absolute/path`: the worker reads its own copy; the files name the driver's."""
    address, _ = cluster
    donnees = tmp_path / "ailleurs" / "jeu"
    shutil.copytree(ROOT / "data" / "demo", donnees)
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path / "cache"))
    outs = {}
    for nom, kwargs in (("processus", {}), ("dask", {"scheduler": address})):
        outs[nom] = tmp_path / nom
        summary = runner.run(
            projet, ["20001"], ["q1"], jobs=1, resume=False, out_dir=outs[nom], progress=False,
            donnees=donnees, **kwargs,
        )  # fmt: skip
        assert summary.exit_code == 0, summary.message
    resultats = outs["dask"] / "results" / "20001" / "q1.json"
    assert json.loads(resultats.read_text(encoding="utf-8"))["parametres"]["donnees"] == str(donnees)
    assert _sans_etapes(_fichiers(outs["dask"], "results")) == _sans_etapes(
        _fichiers(outs["processus"], "results")
    )
    assert _fichiers(outs["dask"], "pages") == _fichiers(outs["processus"], "pages")


def test_a_failed_run_on_dask_leaves_no_page_nor_results(projet, cluster, tmp_path, monkeypatch):
    """A notebook that fails on the worker: failed, its previous page and results removed (a
    synthesis must not read them), its partly executed notebook kept; as locally."""
    address, _ = cluster
    p = tmp_path / "projet"
    shutil.copytree(projet, p, symlinks=True)
    nb = json.loads((p / "notebooks" / "q1_droit_commun.ipynb").read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                        "source": "raise ValueError('panne voulue')"})  # fmt: skip
    (p / "notebooks" / "q1_droit_commun.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    out = tmp_path / "out"
    for f in ("results/20001/q1.json", "pages/20001/q1.html"):
        (out / f).parent.mkdir(parents=True, exist_ok=True)
        (out / f).write_text("{}", encoding="utf-8")
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path / "cache"))
    summary = runner.run(p, ["20001"], ["q1"], resume=False, out_dir=out, progress=False, scheduler=address)
    assert summary.exit_code == 1
    e = _manifest(out)["runs"][0]
    assert e["statut"] == "echec" and "panne voulue" in e["erreur"]
    assert not (out / "results" / "20001" / "q1.json").exists()
    assert not (out / "pages" / "20001" / "q1.html").exists()
    assert (out / "notebooks" / "20001" / "q1_droit_commun.ipynb").is_file()
    assert not list((out / "results" / "20001").glob(".*"))  # no backup left behind


TUEUR = """
import os, signal, psutil
moi = psutil.Process()
for p in moi.parents():  # the worker: the nanny's child
    parent = p.parent()
    if parent is not None and "worker" in " ".join(parent.cmdline()):
        os.kill(p.pid, signal.SIGKILL)
        break
"""


def test_a_worker_that_dies_is_a_failed_run_and_the_others_go_on(projet, cluster, tmp_path, monkeypatch):
    """A notebook kills its Dask worker: KilledWorker, recorded as failed; the other runs end ok
    (the scheduler of this cluster never retries it elsewhere: allowed-failures 0)."""
    address, _ = cluster
    p = tmp_path / "projet"
    shutil.copytree(projet, p, symlinks=True)
    nb = json.loads((p / "notebooks" / "q2_moyens_associations.ipynb").read_text(encoding="utf-8"))
    nb["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": TUEUR})  # fmt: skip
    (p / "notebooks" / "q2_moyens_associations.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    summary = runner.run(
        p, ["20001"], ["q1", "q2"], resume=False, out_dir=out, progress=False, scheduler=address
    )
    statuts = _statuts(out)
    assert statuts == {("20001", "q1"): "ok", ("20001", "q2"): "echec"}, summary.message
    erreur = next(e["erreur"] for e in _manifest(out)["runs"] if e["question"] == "q2")
    assert "le processus d'exécution s'est arrêté" in erreur and "KilledWorker" in erreur
    assert "le worker Dask tcp://" in erreur and "https://" not in erreur  # said in French
    assert not (out / "pages" / "20001" / "q2.html").exists()
    with distributed.Client(address, timeout=30) as client:
        client.wait_for_workers(2, timeout=90)  # the nanny started a new worker


# --- the executor's API and its errors (in-process cluster) ----------------------------------------


@pytest.fixture
def dask_cluster():
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
    ) as cluster:
        yield cluster


def test_dask_executor_runs_tasks_through_the_concurrent_futures_api(dask_cluster):
    ex = executors.open_executor(dask_cluster.scheduler_address)
    assert isinstance(ex, cf.Executor)
    with ex:
        futures = [ex.submit(pow, 3, i) for i in range(4)]
        assert all(isinstance(f, cf.Future) for f in futures)
        assert sorted(f.result(timeout=30) for f in cf.as_completed(futures, timeout=60)) == [1, 3, 9, 27]
    assert ex._client.status == "closed"  # shutting the executor down closes its client


def test_executor_dask_starts_a_local_cluster_of_processes():
    ex = executors.open_executor(None, 2, executeur="dask")
    try:
        ex._client.wait_for_workers(2, timeout=60)
        infos = ex._client.scheduler_info()["workers"]
        assert len(infos) == 2 and {w["nthreads"] for w in infos.values()} == {1}, infos
        pids = set(ex._client.run(os.getpid).values())
        assert len(pids) == 2 and os.getpid() not in pids, pids  # separate processes
    finally:
        ex.shutdown()
    assert ex._client.status == "closed"


def test_unreachable_dask_scheduler_is_a_french_error():
    import dask

    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(ParamError, match="Ordonnanceur Dask injoignable"),
    ):
        executors.open_executor("tcp://127.0.0.1:9")


def test_missing_dask_is_a_french_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed → ImportError
    with pytest.raises(ParamError, match="demande le paquet dask.distributed"):
        executors.open_executor("tcp://127.0.0.1:8786")
    with pytest.raises(ParamError, match="cucs-analysis\\[dask\\]"):
        executors.open_executor(None, 2, executeur="dask")


def test_workers_running_another_library_are_refused(dask_cluster, monkeypatch):
    monkeypatch.setattr(distant, "_empreinte_bibliotheque", lambda: "autre-version")
    with pytest.raises(ParamError, match="pas la même version de cucs_analysis"):
        executors.open_executor(dask_cluster.scheduler_address)


def test_cli_executor_option_is_in_french(capsys):
    from cucs_analysis import cli

    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["run", "--help"])
    aide = " ".join(capsys.readouterr().out.split())
    assert "--executor {processus,dask}" in aide and "cluster Dask local" in aide
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["run", "--executor", "fusee"])
    assert "choix invalide" in capsys.readouterr().err


def test_runner_on_a_dask_cluster(project, monkeypatch, dask_cluster, tmp_path):  # noqa: F811
    """The runner's path on Dask with a stubbed run (tests/test_runner.py's project)."""

    def execute_ok(task):
        return {**runner._failed_record(task, ""), "statut": "ok", "erreur": None}

    monkeypatch.setattr(runner, "execute_run", execute_ok)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # the in-process worker's TMPDIR
    (tmp_path / "tmp").mkdir()
    summary = runner.run(
        project, None, ["q1"], resume=False, progress=False, scheduler=dask_cluster.scheduler_address
    )
    assert summary.exit_code == 0 and summary.executes == 2
    assert {entry(manifest(project), c, "q1")["statut"] for c in ("01001", "20002")} == {"ok"}


# --- memory, private folders, clean-up (review of issue 12: S2, S3, M3, M4, M5, M8) --------------


def _ecrit_des_octets(task):
    """A stubbed run that writes a page and results (bytes the worker sends back)."""
    _, page, result = runner._task_paths(task)
    for p, data in ((page, b"<html>" + b"x" * 50_000 + b"</html>"), (result, b'{"ok": true}')):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return {**runner._failed_record(task, ""), "statut": "ok", "erreur": None}


def test_finished_runs_are_held_neither_by_the_workers_nor_by_the_driver(
    project,  # noqa: F811
    monkeypatch,
    dask_cluster,
    tmp_path,
):
    """S2/M5: once a run's files are written, no task result, no data archive stays on the
    workers, and the driver keeps neither the bytes nor the Dask futures of finished runs."""
    monkeypatch.setattr(runner, "execute_run", _ecrit_des_octets)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    crees: list[distant._RunFuture] = []
    init = distant._RunFuture.__init__

    def suivre(self, *a, **k):
        init(self, *a, **k)
        crees.append(self)

    monkeypatch.setattr(distant._RunFuture, "__init__", suivre)
    vu: dict = {}
    arret = distant.ExecuteurDask.shutdown

    def observer(self, *a, **k):
        (worker,) = dask_cluster.workers.values()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # releases reach the scheduler asynchronously
            vu["who_has"] = {k: v for k, v in self._client.who_has().items() if v}
            vu["data"] = dict(worker.data)
            if not any(str(k).startswith("cucs-") for k in vu["who_has"]) and not any(
                isinstance(v, bytes) and v[:2] == b"\x1f\x8b" for v in vu["data"].values()
            ):
                break
            time.sleep(0.1)
        vu["en_cours"] = set(self._futures)
        return arret(self, *a, **k)

    monkeypatch.setattr(distant.ExecuteurDask, "shutdown", observer)
    summary = runner.run(
        project, None, ["q1"], resume=False, progress=False, scheduler=dask_cluster.scheduler_address
    )
    assert summary.exit_code == 0 and summary.executes == 2, summary.message
    assert (project / "out" / "pages" / "01001" / "q1.html").stat().st_size > 50_000  # written
    assert len(crees) == 2
    assert [k for k in vu["who_has"] if str(k).startswith("cucs-")] == []  # no run's result pinned
    assert [k for k in vu["data"] if str(k).startswith("cucs-")] == []
    # the data archive (gzip) was released once unpacked
    assert not [k for k, v in vu["data"].items() if isinstance(v, bytes) and v[:2] == b"\x1f\x8b"]
    assert vu["en_cours"] == set()  # finished runs are not kept by the executor
    assert all(rf._envoi is None and rf.dask_future is None for rf in crees)  # no bytes kept


def _base(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path / f"cucs-distant-{os.getuid()}"


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners and modes")
def test_a_shared_or_linked_work_folder_is_refused(tmp_path, monkeypatch):
    """S3: a work folder someone else could write in (pre-created world-writable, or a
    symlink) is refused in French, and a `.complet` planted in it is never trusted."""
    base = _base(tmp_path, monkeypatch)
    plante = base / "donnees" / "empreinte" / ".complet"
    plante.parent.mkdir(parents=True)
    plante.write_bytes(b"")
    base.chmod(0o777)
    with pytest.raises(distant.ErreurWorker, match="ouvert aux autres.*refusé"):
        distant.base_locale()
    assert distant.donnees_presentes("empreinte") is False
    with pytest.raises(distant.ErreurWorker, match="refusé"):
        distant._donnees_locales("empreinte", None)
    # a symlink to a private folder is refused too
    shutil.rmtree(base)
    (tmp_path / "ailleurs").mkdir(mode=0o700)
    base.symlink_to(tmp_path / "ailleurs", target_is_directory=True)
    with pytest.raises(distant.ErreurWorker, match="est un lien"):
        distant.base_locale()
    # created here: private
    base.unlink()
    assert distant.base_locale() == base and (base.stat().st_mode & 0o777) == 0o700


def test_a_run_on_a_worker_with_a_shared_folder_fails_in_french(project, monkeypatch, dask_cluster, tmp_path):  # noqa: F811
    monkeypatch.setattr(runner, "execute_run", _ecrit_des_octets)
    base = _base(tmp_path, monkeypatch)
    base.mkdir()
    base.chmod(0o777)
    summary = runner.run(
        project, ["01001"], ["q1"], resume=False, progress=False, scheduler=dask_cluster.scheduler_address
    )
    assert summary.exit_code == 1
    e = entry(manifest(project), "01001", "q1")
    assert e["statut"] == "echec" and "worker Dask : le dossier de travail" in e["erreur"], e["erreur"]
    assert "refusé" in e["erreur"] and "Traceback" not in e["erreur"]
    assert not (project / "out" / "pages" / "01001" / "q1.html").exists()
    assert sorted(p.name for p in base.iterdir()) == []  # nothing written in it


def test_a_symlinked_data_file_is_archived_by_content(tmp_path, monkeypatch):
    """M3: a data file that is a symlink (here absolute) is sent as its content."""
    vrai = tmp_path / "ailleurs" / "communes.csv"
    vrai.parent.mkdir()
    vrai.write_text("code_commune;nom\n20001;Ajaccio-Test\n", encoding="utf-8")
    donnees = tmp_path / "donnees"
    donnees.mkdir()
    (donnees / "communes.csv").symlink_to(vrai)
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path / "cache"))
    archive = distant.archive_donnees(donnees, "empreinte")
    _base(tmp_path / "worker", monkeypatch)
    (tmp_path / "worker").mkdir()
    assert distant.preparer_donnees("empreinte", archive) is None
    local = distant._donnees_locales("empreinte", None)
    assert not (local / "communes.csv").is_symlink()
    assert (local / "communes.csv").read_bytes() == vrai.read_bytes()


def test_an_archive_that_cannot_be_unpacked_is_a_french_error(tmp_path, monkeypatch):
    _base(tmp_path, monkeypatch)
    erreur = distant.preparer_donnees("empreinte", b"pas une archive")
    assert erreur and "n'a pas pu être déballée" in erreur
    # a link leaving the folder (an archive made without dereference) is refused by the filter
    buf = __import__("io").BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("donnees/communes.csv")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    erreur = distant.preparer_donnees("empreinte2", buf.getvalue())
    assert erreur and "n'a pas pu être déballée" in erreur
    assert not distant.donnees_presentes("empreinte2")
    spec = {"code_commune": "20001", "question": "q1", "nom_commune": "X", "carnet": "q1.ipynb",
            "parametres": {"donnees": "data"}, "hash_entrees": "h", "versions": {}}  # fmt: skip
    envoi = distant.executer_tache(None, spec, "d", {}, "empreinte2", erreur, None, {})
    assert envoi["enregistrement"]["statut"] == "echec"
    assert "n'a pas pu être déballée" in envoi["enregistrement"]["erreur"]


def test_worker_disk_use_is_bounded(tmp_path, monkeypatch):
    """M4: the most recently used data sets and projects are kept, old task folders removed."""
    base = _base(tmp_path, monkeypatch)
    distant.base_locale()
    maintenant = time.time()
    for nom in ("donnees", "projets"):
        for i in range(5):
            d = base / nom / f"v{i}"
            d.mkdir(parents=True)
            (d / ".complet").write_bytes(b"")
            os.utime(d, (maintenant - 1000 * (5 - i), maintenant - 1000 * (5 - i)))
    vieille, recente = base / "taches" / "vieille", base / "taches" / "recente"
    for d in (vieille, recente):
        d.mkdir(parents=True)
    os.utime(vieille, (maintenant - 2 * 86400, maintenant - 2 * 86400))
    distant.nettoyer(garder=3)
    for nom in ("donnees", "projets"):
        assert sorted(p.name for p in (base / nom).iterdir()) == ["v2", "v3", "v4"]
    assert not vieille.exists() and recente.exists()
    distant._installer(base / "donnees" / "v2", lambda tmp: None)  # used again: now the newest
    distant.nettoyer(garder=1)
    assert [p.name for p in (base / "donnees").iterdir()] == ["v2"]


def test_worker_paths_are_translated_back_even_non_ascii():
    """M8: ASCII-escaped or not, resolved data folder and project included."""
    local = "/tmp/é/cucs-distant-0"
    paires = [(f"{local}/taches/t/results", "/pilote/out/results"),
              (f"{local}/donnees/fp/donnees", "/pilote/data/demo"),
              (f"{local}/projets/p", "/pilote")]  # fmt: skip
    for ascii_ in (False, True):
        texte = json.dumps({"a": f"{local}/donnees/fp/donnees/x.csv", "b": f"{local}/projets/p/params"},
                           ensure_ascii=ascii_).encode()  # fmt: skip
        sortie = distant._traduire(texte, paires, "json").decode()
        assert "cucs-distant" not in sortie
        assert json.loads(sortie) == {"a": "/pilote/data/demo/x.csv", "b": "/pilote/params"}
    assert distant._traduire(f"jeu « {local}/donnees/fp/donnees »".encode(), paires, "texte") == (
        "jeu « /pilote/data/demo »".encode()
    )


def test_a_data_error_on_dask_names_the_drivers_folder(projet, cluster, tmp_path, monkeypatch):
    """M8: a message naming the data folder as load_dataset does (resolved) names the
    driver's, never a worker's."""
    address, _ = cluster
    p = tmp_path / "projet"
    shutil.copytree(projet, p, symlinks=True)
    nb = json.loads((p / "notebooks" / "q1_droit_commun.ipynb").read_text(encoding="utf-8"))
    nb["cells"].insert(3, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": "raise ValueError(f'jeu de données « {ctx.dossier_donnees.resolve()} »')"})  # fmt: skip
    (p / "notebooks" / "q1_droit_commun.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    summary = runner.run(p, ["20001"], ["q1"], resume=False, out_dir=out, progress=False, scheduler=address)
    assert summary.exit_code == 1
    erreur = _manifest(out)["runs"][0]["erreur"]
    assert f"jeu de données « {(p / 'data' / 'demo').resolve()} »" in erreur, erreur
    assert "cucs-distant" not in erreur
    carnet = (out / "notebooks" / "20001" / "q1_droit_commun.ipynb").read_text(encoding="utf-8")
    assert "cucs-distant" not in carnet


def test_a_worker_joining_with_another_library_refuses_its_runs(monkeypatch):
    """The library digest is checked by the plugin on every worker, joining later included."""
    monkeypatch.setattr(runner, "_warm_up", lambda: None)
    monkeypatch.setattr(distant, "nettoyer", lambda: None)
    monkeypatch.setattr(distant, "_REFUS", {})
    distant.PreparationWorker("autre-version")._preparer()
    spec = {"code_commune": "20001", "question": "q1", "nom_commune": "X", "carnet": "q1.ipynb",
            "parametres": {"donnees": "data"}, "hash_entrees": "h", "versions": {}}  # fmt: skip
    envoi = distant.executer_tache(None, spec, "d", {}, "fp", None, None, {})
    assert "pas la même version de cucs_analysis" in envoi["enregistrement"]["erreur"]
    distant.PreparationWorker(distant._empreinte_bibliotheque())._preparer()
    assert not distant._REFUS


def test_worker_teardown_does_not_wait_for_a_template_start(monkeypatch):
    monkeypatch.setattr(distant.PreparationWorker, "ATTENTE_ARRET_S", 0.2)
    with distant._VERROU_NOYAU:  # a template being started by a run
        t0 = time.monotonic()
        distant.PreparationWorker().teardown(None)
        assert time.monotonic() - t0 < 5
