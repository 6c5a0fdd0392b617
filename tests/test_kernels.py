"""Warm kernels (issue 12, item 1): kernels forked from a template process (`pipeline.kernels`).

(a) a batch run with `noyau="chaud"` gives the same results JSON and the same pages, byte for
byte, as with `noyau="standard"`; (b) nothing crosses from one forked kernel to the next
(globals, matplotlib rcParams, a `functools.cache`, the data set memo, the random states);
(c) a crash or a cell timeout is recorded with the same French message as with a standard
kernel, and no kernel is left behind after runs, a killed worker, a time limit, Ctrl-C
(`terminate`) or a killed template; (d) interrupt and restart go through the provisioner.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import tempfile
import time
import types
from pathlib import Path

import nbformat
import psutil
import pytest

from cucs_analysis.pipeline import executors, kernels, runner

ROOT = Path(__file__).resolve().parents[1]


# --- without kernels --------------------------------------------------------------------------------


def test_provisioner_registered_by_entry_point():
    from importlib.metadata import entry_points

    (ep,) = entry_points(group="jupyter_client.kernel_provisioners", name=kernels.PROVISIONER)
    assert ep.load() is kernels.FourcheProvisioner


def test_kernelspec_private_and_jupyter_path_restored(tmp_path, monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager

    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    modele = kernels.Template.__new__(kernels.Template)  # no process: only the spec is written
    modele.dossier, modele.socket = tmp_path / "m", str(tmp_path / "m" / "modele.sock")
    with kernels.kernelspec_dir(modele) as racine:
        assert os.environ["JUPYTER_PATH"].split(os.pathsep) == [str(racine), str(tmp_path)]
        spec = KernelSpecManager().get_kernel_spec(kernels.NOM_NOYAU)
        prov = spec.metadata["kernel_provisioner"]
        assert prov == {"provisioner_name": "cucs-fourche", "config": {"socket": modele.socket}}
        assert racine.is_relative_to(modele.dossier)
    assert os.environ["JUPYTER_PATH"] == str(tmp_path)
    # never installed: outside the block, JupyterLab's kernels do not include it
    assert kernels.NOM_NOYAU not in KernelSpecManager().find_kernel_specs()


def test_kernel_choice(capsys):
    assert runner._choix_noyau("standard") == "standard"
    assert runner._choix_noyau("chaud") == "chaud"
    linux = sys.platform.startswith("linux")
    assert runner._choix_noyau(None) == ("chaud" if linux and hasattr(os, "fork") else "standard")
    with pytest.raises(runner.ParamError, match="Noyau inconnu « tiède »"):
        runner._choix_noyau("tiède")
    if linux:  # no note where warm kernels are the default
        assert capsys.readouterr().err == ""


@pytest.mark.parametrize("plateforme", ["darwin", "freebsd14"])
def test_warm_kernels_are_an_opt_in_outside_linux(monkeypatch, capsys, plateforme):
    """macOS: forking after numpy/matplotlib/GDAL were imported is not known to be safe, and
    the pidfd-less branch is untested: « standard » by default, « chaud » on request with a note."""
    monkeypatch.setattr(kernels, "fourche_disponible", lambda: True)
    monkeypatch.setattr(sys, "platform", plateforme)
    assert not kernels.chaud_par_defaut()
    assert runner._choix_noyau(None) == "standard"
    assert capsys.readouterr().err == ""
    assert runner._choix_noyau("chaud") == "chaud"
    err = capsys.readouterr().err
    assert f"noyaux chauds non testés sur ce système ({plateforme})" in err and "--noyau standard" in err
    monkeypatch.setattr(sys, "platform", "linux")
    assert kernels.chaud_par_defaut() and runner._choix_noyau(None) == "chaud"


def test_cli_option():
    from cucs_analysis.cli import build_parser

    assert build_parser().parse_args(["run", "--noyau", "standard"]).noyau == "standard"
    assert build_parser().parse_args(["run"]).noyau is None


def test_without_fork_standard_kernel_with_a_french_warning(monkeypatch, capsys):
    monkeypatch.setattr(kernels, "fourche_disponible", lambda: False)
    with kernels.noyau_chaud(None) as name:
        assert name == "python3"
        assert "JUPYTER_PATH" not in os.environ or kernels.NOM_NOYAU not in os.environ["JUPYTER_PATH"]
    err = capsys.readouterr().err
    assert "Avertissement : noyaux standard utilisés" in err and "os.fork" in err


def test_stale_install_without_the_entry_point_falls_back_with_a_french_warning(monkeypatch, capsys):
    """A `git pull` without `pip install -e .`: jupyter_client would refuse the kernelspec
    (NoSuchKernel) for every run; the batch uses standard kernels and says how to fix it."""
    import importlib.metadata

    real = importlib.metadata.entry_points

    def sans_fourche(**kw):
        if kw.get("group") == "jupyter_client.kernel_provisioners":
            return importlib.metadata.EntryPoints(())
        return real(**kw)

    assert kernels.fournisseur_installe()
    monkeypatch.setattr(importlib.metadata, "entry_points", sans_fourche)
    assert not kernels.fournisseur_installe()

    def no_template(*a, **kw):
        raise AssertionError("no template without the provisioner")

    monkeypatch.setattr(kernels.Template, "start", no_template)
    with kernels.noyau_chaud(None) as name:
        assert name == kernels.STANDARD
    err = capsys.readouterr().err
    assert "Avertissement : noyaux standard utilisés (fournisseur cucs-fourche non installé" in err
    assert "pip install -e ." in err


def _open_fds() -> set[int]:
    return {int(f) for f in os.listdir("/proc/self/fd")} if Path("/proc/self/fd").is_dir() else set()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="/proc/self/fd (Linux)")
@pytest.mark.parametrize("cas", ["coupe", "illisible"])
def test_template_recv_closes_the_descriptors_of_a_broken_message(cas):
    """The worker dies mid-message (or sends garbage) after its stdout/stderr descriptors
    arrived: the template closes them instead of leaking them."""
    import socket
    import struct

    from cucs_analysis.pipeline import kernel_template as proto

    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        before = _open_fds()
        if cas == "coupe":  # says 100 bytes, sends 10, dies
            socket.send_fds(a, [struct.pack(">I", 100) + b"x" * 10], [1, 2])
            a.close()
            expected: type[BaseException] = EOFError
        else:
            body = b"{pas du json"
            socket.send_fds(a, [struct.pack(">I", len(body)) + body], [1, 2])
            expected = ValueError
        with pytest.raises(expected):
            proto.recv(b, with_fds=True)
        assert _open_fds() <= before
    finally:
        a.close()
        b.close()


def test_long_tmpdir_socket_in_a_short_folder(tmp_path, monkeypatch):
    """A TMPDIR too long for a Unix socket (HPC scratch, pytest folders): the template's
    folder goes to /tmp instead of failing."""
    long_dir = tmp_path / ("d" * 60) / ("e" * 60)
    long_dir.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(long_dir))
    m = kernels.Template.start()
    try:
        assert len(os.fsencode(m.socket)) <= kernels.SOCKET_MAX
        assert m.dossier.parent == Path("/tmp") and Path(m.socket).exists()
        assert (m.dossier.stat().st_mode & 0o077) == 0  # mkdtemp: private
    finally:
        m.stop()
    assert not m.dossier.exists()


def test_template_that_cannot_bind_exits_quietly_with_its_code(tmp_path):
    """No English traceback on the user's terminal: an exit code the driver turns into French."""
    import subprocess

    from cucs_analysis.pipeline import kernel_template as proto

    chemin = "/tmp/" + "x" * 150
    done = subprocess.run(
        [sys.executable, "-m", "cucs_analysis.pipeline.kernel_template", chemin],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(tmp_path),
    )
    assert done.returncode == proto.ECHEC_SOCKET
    assert done.stderr == "" and "Traceback" not in done.stdout


@pytest.mark.slow
def test_template_prints_nothing_on_the_users_terminal(tmp_path):
    """Its imports (debugpy's frozen-modules warning among them) write nothing to the driver's
    stderr: no English text on the user's terminal."""
    import socket
    import subprocess

    from cucs_analysis.pipeline import kernel_template as proto

    chemin = str(Path(tempfile.mkdtemp(dir="/tmp")) / "m.sock")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cucs_analysis.pipeline.kernel_template",
            chemin,
            "--donnees",
            str(ROOT / "data" / "demo"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(tmp_path),
    )
    try:
        deadline = time.monotonic() + 20
        while not Path(chemin).exists() and time.monotonic() < deadline:
            time.sleep(0.02)

        def ask(msg: dict) -> dict:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(300)
                s.connect(chemin)
                proto.send(s, msg)
                return proto.recv(s)[0]

        assert ask({"op": "ping"})["fourches"] == 0
        assert ask({"op": "quit"}) == {"ok": True, "fourches": 0}
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0
    assert out == "" and err == "", err


def test_signal_without_template_reaches_the_kernels_group():
    """The template is gone: a signal goes to the kernel's process group (its children too),
    not to the kernel's pid alone."""
    import socket
    import subprocess

    leader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
            "print(p.pid, flush=True)\n"
            "time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # as a forked kernel (setsid)
    )
    try:
        grandchild = int(leader.stdout.readline())
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        b.close()  # the template is gone
        proc = kernels.ProcessusFourche(a, leader.pid)
        proc.send_signal(signal.SIGTERM)
        assert leader.wait(timeout=10) == -signal.SIGTERM
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the kernel's child survived")
        proc.close()
    finally:
        with __import__("contextlib").suppress(Exception):
            os.killpg(leader.pid, signal.SIGKILL)
        leader.wait()


# --- helpers -------------------------------------------------------------------------------------------


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('code_commune = "20001"\nparametres = None\ndossier_resultats = None')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _execute(nb: Path, kernel_name: str) -> nbformat.NotebookNode:
    import papermill as pm

    return pm.execute_notebook(
        str(nb),
        str(nb.with_suffix(".out.ipynb")),
        kernel_name=kernel_name,
        progress_bar=False,
        cwd=str(nb.parent),
        extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
    )


def _stdout(nb: nbformat.NotebookNode) -> str:
    return "".join(
        o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stdout"
    )


def _task(tmp: Path, nb: Path, kernel_name: str, **extra) -> dict:
    return {
        "code_commune": "20001",
        "question": "q1",
        "carnet": nb.name,
        "notebook": str(nb),
        "notebooks_dir": str(nb.parent),
        "out_dir": str(tmp / "out"),
        "results_dir": str(tmp / "out" / "results"),
        "parametres": {"code_commune": "20001"},
        "nom_commune": "Test",
        "hash_entrees": "h",
        "versions": {},
        "resultats_requis": False,
        "kernel_name": kernel_name,
        **extra,
    }


def _gone(pid: int, timeout: float = 10.0) -> bool:
    """The process ended and was reaped (no zombie left), within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            psutil.Process(pid)
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def _template_children(modele: kernels.Template) -> list:
    try:
        return psutil.Process(modele.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _wait_file(path: Path, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and path.read_text(encoding="utf-8").strip():
            time.sleep(0.05)
            return path.read_text(encoding="utf-8").strip()
        time.sleep(0.05)
    raise AssertionError(f"{path} jamais écrit")


@pytest.fixture(scope="module")
def modele():
    """A template (with the demo data set preloaded) and its kernelspec, for the module."""
    m = kernels.Template.start(preload_data=ROOT / "data" / "demo")
    with m, kernels.kernelspec_dir(m):
        m.wait_ready()
        yield m
    assert _gone(m.process.pid)


# --- (b) nothing crosses between forked kernels ----------------------------------------------------


LEAK_A = """
import hashlib, pickle, random, sys
import numpy as np
import matplotlib as mpl
from cucs_analysis.data import dataset
from cucs_analysis.pipeline import region
etat = hashlib.sha256(pickle.dumps((np.random.get_state(), random.getstate()))).hexdigest()
print("etat", etat)
print("tirages", np.random.random(), random.random())
print("fuite_avant", "FUITE" in globals(), mpl.rcParams["lines.linewidth"], region.library_digest.cache_info().currsize)
print("memo", sorted(k[0] for k in dataset._MEMO))
FUITE = 42
mpl.rcParams["lines.linewidth"] = 9.5
region.library_digest()
ds = next(iter(dataset._MEMO.values()))
print("nom_avant", ds.tables["communes"]["nom"].iloc[0])
ds.tables["communes"].loc[0, "nom"] = "FUITE"
dataset._MEMO[("FUITE", "x")] = ds
print("modules", "geopandas" in sys.modules, "statsmodels.api" in sys.modules, "cucs_analysis.reports" in sys.modules)
"""


def _parse(out: str) -> dict:
    return {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in out.splitlines() if " " in line}


@pytest.mark.slow
def test_nothing_crosses_from_one_forked_kernel_to_the_next(modele, tmp_path):
    nb = _notebook(tmp_path / "fuite.ipynb", LEAK_A)
    forks = modele.request({"op": "ping"})["fourches"]
    first = _parse(_stdout(_execute(nb, kernels.NOM_NOYAU)))
    second = _parse(_stdout(_execute(nb, kernels.NOM_NOYAU)))
    assert modele.request({"op": "ping"})["fourches"] == forks + 2  # both forked, none fell back
    # the second kernel starts as the first did: no global, rcParams, cache or memo change
    # crossed (the library digest is cached once: computed by the template, inherited)
    assert first["fuite_avant"] == second["fuite_avant"] == "False 1.5 1"
    assert first["memo"] == second["memo"]
    assert "FUITE" not in second["memo"] and str((ROOT / "data" / "demo").resolve()) in second["memo"]
    assert first["nom_avant"] == second["nom_avant"] != "FUITE"
    # the stack came preloaded from the template
    assert first["modules"] == "True True True"
    # fresh random states: different from each other and from the template's
    template_state = modele.request({"op": "etat_aleatoire"})["etat"]
    assert len({first["etat"], second["etat"], template_state}) == 3
    assert first["tirages"] != second["tirages"]
    # every kernel was reaped by the template
    assert not _template_children(modele)


# --- (c) failures recorded as with a standard kernel, nothing left behind ---------------------------


@pytest.mark.slow
def test_crash_and_cell_timeout_recorded_as_with_a_standard_kernel(modele, tmp_path):
    crash = _notebook(tmp_path / "crash.ipynb", "import os\nos._exit(1)")
    slow = _notebook(tmp_path / "lent.ipynb", "import time\ntime.sleep(60)")
    records = {}
    for name in (kernels.NOM_NOYAU, "python3"):
        records[name, "crash"] = runner.execute_run(_task(tmp_path / name, crash, name))
        records[name, "lent"] = runner.execute_run(
            _task(tmp_path / name, slow, name, delai_s=3, delai_par_cellule=True)
        )
    for kind in ("crash", "lent"):
        warm, standard = records[kernels.NOM_NOYAU, kind], records["python3", kind]
        assert warm["statut"] == standard["statut"] == "echec"
        assert warm["erreur"] == standard["erreur"], kind
    assert "le noyau Python du carnet s'est arrêté" in records[kernels.NOM_NOYAU, "crash"]["erreur"]
    assert records[kernels.NOM_NOYAU, "lent"]["erreur"] == runner.timeout_message(3)
    deadline = time.monotonic() + 10
    while _template_children(modele) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _template_children(modele)


def _sleeping(tmp_path: Path, name: str) -> tuple[Path, Path]:
    pid_file = tmp_path / f"{name}.pid"
    nb = _notebook(
        tmp_path / f"{name}.ipynb",
        "import os, pathlib, time\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(f\"{{os.getpid()}} {{os.environ['JPY_PARENT_PID']}}\")\n"
        "time.sleep(120)",
    )
    return nb, pid_file


@pytest.mark.slow
def test_killed_worker_time_limit_and_ctrl_c_leave_no_kernel(modele, tmp_path):
    pool = executors.RunProcesses(2)
    try:
        # a killed worker: its kernel goes too
        nb, pid_file = _sleeping(tmp_path, "tue")
        fut = pool.submit_run(runner.execute_run, _task(tmp_path / "a", nb, kernels.NOM_NOYAU), delai_s=None)
        kernel, worker = map(int, _wait_file(pid_file).split())
        assert psutil.Process(kernel).ppid() == modele.process.pid  # a forked kernel indeed
        os.kill(worker, signal.SIGKILL)
        with pytest.raises(executors.ProcessusArrete):
            fut.result(timeout=30)
        assert _gone(kernel)
        # past its time limit: worker and kernel stopped
        nb, pid_file = _sleeping(tmp_path, "delai")
        fut = pool.submit_run(runner.execute_run, _task(tmp_path / "b", nb, kernels.NOM_NOYAU), delai_s=8)
        kernel, worker = map(int, _wait_file(pid_file).split())
        with pytest.raises(executors.DelaiDepasse):
            fut.result(timeout=60)
        assert _gone(kernel) and _gone(worker)
        # Ctrl-C: terminate() stops the running task and its kernel
        nb, pid_file = _sleeping(tmp_path, "ctrlc")
        fut = pool.submit_run(runner.execute_run, _task(tmp_path / "c", nb, kernels.NOM_NOYAU), delai_s=None)
        kernel, worker = map(int, _wait_file(pid_file).split())
        pool.terminate()
        with pytest.raises(executors.Interrompu):
            fut.result(timeout=30)
        assert _gone(kernel) and _gone(worker)
    finally:
        pool.terminate()
    assert not _template_children(modele)


@pytest.mark.slow
def test_killed_template_leaves_no_kernel_and_the_run_fails_in_french(tmp_path):
    m = kernels.Template.start()
    try:
        with kernels.kernelspec_dir(m):
            pool = executors.RunProcesses(1)
            try:
                nb, pid_file = _sleeping(tmp_path, "modele")
                fut = pool.submit_run(
                    runner.execute_run, _task(tmp_path, nb, kernels.NOM_NOYAU), delai_s=None
                )
                kernel, worker = map(int, _wait_file(pid_file).split())
                assert psutil.Process(kernel).ppid() == m.process.pid
                os.kill(m.process.pid, signal.SIGKILL)
                record = fut.result(timeout=60)
                assert record["statut"] == "echec"
                assert "le noyau Python du carnet s'est arrêté" in record["erreur"]
                assert _gone(kernel)  # the worker process stays: its slot's next run
                # the next run cannot reach the template: a standard kernel, said in French
                nb2 = _notebook(tmp_path / "apres.ipynb", "print('ok')")
                record = pool.submit_run(
                    runner.execute_run, _task(tmp_path / "x", nb2, kernels.NOM_NOYAU), delai_s=None
                ).result(timeout=120)
                assert record["statut"] == "ok", record
            finally:
                pool.shutdown()
            assert _gone(worker)
    finally:
        m.stop()
    assert _gone(m.process.pid)


# --- (d) interrupt and restart through the provisioner ----------------------------------------------


@pytest.mark.slow
def test_interrupt_and_restart_through_the_provisioner(modele):
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=kernels.NOM_NOYAU)
    km.start_kernel(extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    try:
        assert isinstance(km.provisioner, kernels.FourcheProvisioner)
        first = km.provisioner.pid
        assert psutil.Process(first).ppid() == modele.process.pid
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        msg_id = kc.execute("import time\ntime.sleep(60)")
        time.sleep(1.0)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=20)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        assert km.is_alive()
        kc.stop_channels()
        km.restart_kernel(now=True)
        second = km.provisioner.pid
        assert second != first and _gone(first)
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive("x = 6 * 7\nprint(x)", timeout=30)
        assert reply["content"]["status"] == "ok"
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=False)
    assert _gone(second)


def test_an_immediate_shutdown_does_not_wait_for_jupyter_client_s_polling(modele, monkeypatch):
    """jupyter_client polls a killed kernel every 0.1 s from the moment it sent the signal:
    the provisioner's kill returns once the kernel has ended, so the first poll finds it gone
    and no run pays the 0.1 s sleep."""
    import asyncio

    from jupyter_client import manager
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=kernels.NOM_NOYAU)
    km.start_kernel(extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    pid = km.provisioner.pid
    sommeils = []
    vrai_sommeil = asyncio.sleep

    async def sommeil(delai, *a, **k):
        sommeils.append(delai)
        return await vrai_sommeil(delai, *a, **k)

    monkeypatch.setattr(manager.asyncio, "sleep", sommeil)
    km.shutdown_kernel(now=True)
    assert _gone(pid)
    assert 0.1 not in sommeils


def test_the_client_retries_connecting_to_a_starting_kernel_every_few_milliseconds():
    """A forked kernel binds its ports about 0.05 s after the fork: ZMQ's default retry
    interval (0.1 s) made every run wait for the second attempt."""
    import zmq
    from jupyter_client.asynchronous.client import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager

    from cucs_analysis.pipeline import papermill_engine

    km = AsyncKernelManager()
    client = papermill_engine.ClientCucs(types.SimpleNamespace(nb=nbformat.v4.new_notebook()), km=km)
    vus = []

    def start_channels(kc, *a, **k):  # the sockets it would create: their retry intervals
        socket = kc.context.socket(zmq.DEALER)
        vus.append((socket.getsockopt(zmq.RECONNECT_IVL), socket.getsockopt(zmq.RECONNECT_IVL_MAX)))
        socket.close()

    async def pret(kc, timeout=None):
        pass

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(AsyncKernelClient, "start_channels", start_channels)
        mp.setattr(papermill_engine, "pret", pret)
        client.start_new_kernel_client()
    assert vus == [(papermill_engine.RECONNEXION_MS, papermill_engine.RECONNEXION_MAX_MS)]
    assert papermill_engine.RECONNEXION_MS <= 10 and papermill_engine.RECONNEXION_MAX_MS >= 100


def _templates_started_here() -> list:
    return [
        p for p in psutil.Process().children(recursive=True)
        if "cucs_analysis.pipeline.kernel_template" in " ".join(p.cmdline())
    ]  # fmt: skip


@pytest.mark.slow
def test_an_early_template_is_the_one_the_batch_uses_with_its_data(monkeypatch):
    """`cucs run` starts the template before importing its own stack (`kernels.anticiper`);
    the batch forks its kernels from that one, which loaded the data set when asked."""
    from jupyter_client.manager import KernelManager

    kernels.anticiper()
    assert kernels._anticipe is not None
    early = kernels._anticipe.process.pid
    data = ROOT / "data" / "demo"
    # a relative folder (the template runs in its own folder: it gets an absolute one)
    monkeypatch.chdir(ROOT)
    with kernels.noyau_chaud(Path("data") / "demo") as nom:
        assert nom == kernels.NOM_NOYAU and kernels._anticipe is None
        assert early in [t.process.pid for t in kernels.actifs()]
        km = KernelManager(kernel_name=nom)
        km.start_kernel(extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
        try:
            assert psutil.Process(km.provisioner.pid).ppid() == early
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(timeout=60)
            sortie = []
            kc.execute_interactive(
                "from cucs_analysis.data import dataset\nprint(sorted({k[0] for k in dataset._MEMO}))",
                timeout=30,
                output_hook=lambda m: sortie.append(m["content"].get("text", "")),
            )
            kc.stop_channels()
        finally:
            km.shutdown_kernel(now=True)
        assert str(data.resolve()) in "".join(sortie)
    assert _gone(early)


def test_an_early_template_nobody_took_is_stopped_at_once():
    """Bad parameters, or nothing left to run: the early template is stopped without waiting
    for its imports (a `quit` request would wait for them), its folder removed."""
    kernels.anticiper()
    modele = kernels._anticipe
    assert modele is not None
    debut = time.monotonic()
    kernels.abandonner_anticipe()
    assert time.monotonic() - debut < 3
    assert modele.process.poll() is not None and not modele.dossier.exists()
    assert kernels._anticipe is None and modele not in kernels.actifs()


def test_cucs_run_refused_before_any_kernel_leaves_no_early_template(monkeypatch, capsys):
    from cucs_analysis import cli

    monkeypatch.chdir(ROOT)
    avant = {p.pid for p in _templates_started_here()}  # this module's own template, if started
    demarres = []
    anticiper = kernels.anticiper

    def espion(*a, **k):
        anticiper(*a, **k)
        demarres.append(kernels._anticipe)

    monkeypatch.setattr(kernels, "anticiper", espion)
    code = cli.main(["run", "--communes", "99999", "--out", str(ROOT / ".cache" / "jamais")])
    assert code != 0 and "99999" in capsys.readouterr().err
    assert len(demarres) == 1 and demarres[0] is not None  # there was one to stop
    assert {p.pid for p in _templates_started_here()} <= avant and kernels._anticipe is None
    assert demarres[0].process.poll() is not None


def test_ctrl_c_while_the_early_template_loads_the_data_stops_it(monkeypatch):
    """Ctrl-C while the early template loads a (national) data set: `noyau_chaud` had taken it
    from `cmd_run`, so it must stop it itself."""
    kernels.anticiper()
    modele = kernels._anticipe
    assert modele is not None
    demande = kernels.Template.request

    def interrompue(self, msg, timeout=10.0):
        if msg.get("op") == "precharger":
            raise KeyboardInterrupt
        return demande(self, msg, timeout)

    monkeypatch.setattr(kernels.Template, "request", interrompue)
    with pytest.raises(KeyboardInterrupt), kernels.noyau_chaud(ROOT / "data" / "demo"):
        pass
    assert modele.process.poll() is not None and not modele.dossier.exists()
    assert modele not in kernels.actifs() and kernels._anticipe is None


def test_a_kernel_s_end_is_seen_whatever_its_descriptor_number():
    """A driver with many open files: the pidfd of a kernel can be above 1024, where
    select() refuses it; poll() does not."""
    import resource
    import subprocess

    doux, dur = resource.getrlimit(resource.RLIMIT_NOFILE)
    if dur != resource.RLIM_INFINITY and dur < 1200:
        pytest.skip("limite de descripteurs trop basse")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(doux, 1200), dur))
    ouverts = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
        fd = os.pidfd_open(p.pid)
        try:
            assert fd > 1024
            assert not kernels._lisible(fd, 0)
            assert kernels._lisible(fd, 10)
        finally:
            os.close(fd)
            p.wait()
    finally:
        for o in ouverts:
            os.close(o)
        resource.setrlimit(resource.RLIMIT_NOFILE, (doux, dur))


def test_a_template_whose_driver_dies_during_its_imports_ends(tmp_path):
    """`cucs run` starts the template before its own imports: if the driver dies while the
    template imports (seconds), the template must not outlive it (it read its parent too late
    and served forever, reparented to init)."""
    import subprocess

    pilote = subprocess.run(
        [sys.executable, "-c",
         "import os\n"
         "from cucs_analysis.pipeline import kernels\n"
         "m = kernels.Template.start()\n"
         "print(m.process.pid, m.dossier, flush=True)\n"
         "os._exit(0)  # killed outright, the template still importing"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    pid, dossier = pilote.stdout.split()
    modele = int(pid)
    try:
        assert _gone(modele, timeout=90), "the template outlived its driver"
    finally:
        with __import__("contextlib").suppress(ProcessLookupError):
            os.kill(modele, signal.SIGKILL)
        __import__("shutil").rmtree(dossier, ignore_errors=True)


# --- (a) identical outputs ---------------------------------------------------------------------------


#: The region stage is the driver's cache, computed before any kernel and named by a key that
#: includes the library's digest (`region.library_digest`): not a kernel's output, left out.
ETAPE_REGION = "results/region/etape/"


def _outputs(out: Path) -> dict[str, bytes]:
    files = {}
    for sub in ("results", "pages"):
        for p in sorted((out / sub).rglob("*")):
            rel = p.relative_to(out).as_posix()
            if p.is_file() and not p.name.startswith(".") and not rel.startswith(ETAPE_REGION):
                files[rel] = p.read_bytes()
    return files


#: What legitimately differs between two runs in the manifest: when and how long, and the
#: input hash (it covers the library's source files, which can change between the two runs
#: when the library is edited meanwhile; the kernels play no part in it).
HORAIRES = ("debut", "fin", "duree_s", "hash_entrees")


@pytest.mark.slow
def test_warm_kernels_give_the_same_results_and_pages_as_standard_kernels(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path / "cache"))
    # the proof that the warm run used warm kernels: its template forked one kernel per run
    fourches: list[int | None] = []
    stop = kernels.Template.stop

    def stop_counted(self, *a, **kw):
        stop(self, *a, **kw)
        fourches.append(self.fourches)

    monkeypatch.setattr(kernels.Template, "stop", stop_counted)
    outs, errs = {}, {}
    for noyau in ("chaud", "standard"):
        out = tmp_path / noyau
        summary = runner.run(
            ROOT,
            ["20001", "20012"],
            ["q1", "q3", "synthese"],
            jobs=2,
            out_dir=out,
            progress=False,
            noyau=noyau,
        )
        assert summary.exit_code == 0, summary.message
        outs[noyau] = out
        errs[noyau] = capfd.readouterr().err
    executed = sorted(p.name for p in (outs["chaud"] / "notebooks").rglob("*.ipynb"))
    assert len(executed) >= 5, executed  # 2 communes × (q1, q3) and the synthesis
    assert fourches == [len(executed)], (fourches, executed)
    assert "noyaux standard" not in errs["chaud"] and "injoignable" not in errs["chaud"]
    warm, standard = _outputs(outs["chaud"]), _outputs(outs["standard"])
    assert sorted(warm) == sorted(standard)
    assert any(k.startswith("results/") for k in warm) and any(k.startswith("pages/") for k in warm)
    assert any(b"data:image/png;base64" in v or b"<svg" in v for k, v in warm.items() if "/q3" in k)
    differ = [k for k in warm if warm[k] != standard[k]]
    assert not differ, differ

    def runs(out: Path) -> list[dict]:
        m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        return [{k: v for k, v in e.items() if k not in HORAIRES} for e in m["runs"]]

    assert runs(outs["chaud"]) == runs(outs["standard"])
    digest = hashlib.sha256(b"".join(warm[k] for k in sorted(warm))).hexdigest()
    print(
        f"\n[mesure] {len(warm)} fichiers identiques (chaud = standard), empreinte {digest[:12]}",
        file=sys.stderr,
    )


DRIVER = """
import sys
from pathlib import Path
import papermill as pm
from cucs_analysis.pipeline import kernels
m = kernels.Template.start()
Path(sys.argv[2]).write_text(str(m.process.pid))
with kernels.kernelspec_dir(m):
    pm.execute_notebook(sys.argv[1], sys.argv[1] + ".out.ipynb", kernel_name=kernels.NOM_NOYAU, progress_bar=False)
"""


@pytest.mark.slow
def test_a_driver_killed_outright_leaves_neither_template_nor_kernel(tmp_path):
    import subprocess

    nb, pid_file = _sleeping(tmp_path, "pilote")
    template_file = tmp_path / "modele.pid"
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(nb), str(template_file)])
    try:
        kernel, _ = map(int, _wait_file(pid_file).split())
        template = int(_wait_file(template_file))
        assert psutil.Process(kernel).ppid() == template
        driver.kill()  # SIGKILL: no finally, no atexit
        driver.wait()
        assert _gone(template) and _gone(kernel)
    finally:
        driver.kill()


PARITE = """
import os, sys
print("globales", sorted(k for k in globals() if not k.startswith("_")))
print("argv", [a for a in sys.argv[1:] if not a.endswith(".json")])
print("chemin", sys.path)
print("principal", sys.modules["__main__"].__name__, sys.modules["__main__"] is not None)
print("env", sorted(k for k in os.environ if k != "JPY_SESSION_NAME"))
print("dossier", os.getcwd())
import matplotlib
print("matplotlib", matplotlib.get_backend(), matplotlib.is_interactive())
"""


@pytest.mark.slow
def test_a_forked_kernel_looks_like_a_standard_one(modele, tmp_path):
    """What a notebook can see of its kernel: the same names, command line (in-memory history
    included), import path, environment variables, folder and matplotlib backend."""
    nb = _notebook(tmp_path / "parite.ipynb", PARITE)
    warm = _parse(_stdout(_execute(nb, kernels.NOM_NOYAU)))
    standard = _parse(_stdout(_execute(nb, "python3")))
    assert warm == standard
    assert "--HistoryManager.hist_file=:memory:" in warm["argv"]
