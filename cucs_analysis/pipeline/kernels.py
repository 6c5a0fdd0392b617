"""Kernels that start warm: forked from a template process that already imported the stack.

A fresh Jupyter kernel spends most of a short notebook's time importing pandas, geopandas,
matplotlib, statsmodels and the package. Under ``cucs run`` every kernel is instead forked
from one **template** process per batch (`kernel_template`), which imported all that once
(and may have loaded the batch's data set into the memo); the fork shares those pages
copy-on-write, and nothing a notebook does reaches the template or the next kernel.

How jupyter_client gets there: the runner writes a kernelspec ``cucs-chaud`` in a private
temporary folder that it puts on ``JUPYTER_PATH`` for its workers (never installed: JupyterLab
users keep ``python3``). Its ``metadata.kernel_provisioner`` names the provisioner
``cucs-fourche`` (entry point of group ``jupyter_client.kernel_provisioners``,
:class:`FourcheProvisioner`) and gives it the template's socket. The provisioner asks the
template to fork a kernel with the connection file jupyter_client wrote, and hands
jupyter_client a Popen-like :class:`ProcessusFourche` (poll, wait, send_signal, kill): the
kernel is the template's child, so its exit status comes from the template. If the template
cannot be reached the provisioner starts a standard kernel instead (French warning).

Stopping: the template kills a kernel when the connection of the worker that asked for it
closes (the worker died, or was killed for its time limit), the kernel itself exits when the
worker or the template dies, and :func:`arreter_marques` (called by
``executors.stop_marked``) asks every template of this process to kill the kernels of a task
marker. Forked kernels do not carry the marker in ``/proc/<pid>/environ`` (set at exec).

API (the runner uses it; a Dask worker can too)::

    with kernels.Template.start(preload_data=data_dir) as modele, kernels.kernelspec_dir(modele):
        ...  # papermill.execute_notebook(..., kernel_name=kernels.NOM_NOYAU)

``Template.start`` raises :class:`ModeleIndisponible` (French message) when ``os.fork`` is
missing or the template does not start; callers then use ``"python3"``. A template sees the
library as it was when it started: one template per batch.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner
from traitlets import Unicode

from cucs_analysis.pipeline import kernel_template as _proto

#: The kernelspec the runner writes; the provisioner's entry point name.
NOM_NOYAU = "cucs-chaud"
PROVISIONER = "cucs-fourche"
STANDARD = "python3"
#: How long a worker waits for the template to answer a fork (the first one waits for the
#: template to finish its imports and the data set).
ATTENTE_FOURCHE_S = 300.0
ATTENTE_DEMARRAGE_S = 20.0
#: Longest wait for a killed kernel to end before jupyter_client's own polling takes over.
ATTENTE_FIN_S = 1.0

#: The variable marking a task's processes (executors.MARQUEUR; not imported: executors imports us).
_MARQUEUR = "CUCS_EXECUTION"

_actifs: list[Template] = []
_actifs_lock = threading.Lock()


class ModeleIndisponible(RuntimeError):
    """The template cannot be used; the message is French."""


def fourche_disponible() -> bool:
    return hasattr(os, "fork") and hasattr(socket, "AF_UNIX") and hasattr(socket, "send_fds")


def chaud_par_defaut() -> bool:
    """Warm kernels by default only on Linux: elsewhere (macOS) forking after numpy, matplotlib,
    GDAL and GEOS were imported is not known to be safe (CPython's multiprocessing spawns on
    macOS for this reason), and the driver-death detection without pidfd is untested.
    ``--noyau chaud`` stays possible there, as an opt-in."""
    return sys.platform.startswith("linux") and fourche_disponible()


def fournisseur_installe() -> bool:
    """Whether the entry point of the provisioner ``cucs-fourche`` is installed. It is missing
    after a ``git pull`` without ``pip install -e .`` (or on a worker installed from an older
    wheel): jupyter_client would then refuse the kernelspec (``NoSuchKernel``) for every run."""
    import importlib.metadata

    try:
        found = importlib.metadata.entry_points(group="jupyter_client.kernel_provisioners", name=PROVISIONER)
    except Exception:
        return False
    return len(found) > 0


#: The longest Unix socket path used (``sun_path`` is 108 bytes on Linux, 104 on macOS; the
#: template binds first under this path plus ".<pid>", up to 8 more bytes).
SOCKET_MAX = 90


# --- the template, seen from the driver -----------------------------------------------------------


class Template:
    """A running template process (one per batch). Use :meth:`start`, then :meth:`stop` or a
    ``with`` block."""

    def __init__(self, dossier: Path, process: subprocess.Popen):
        self.dossier = dossier
        self.socket = str(dossier / "modele.sock")
        self.process = process
        #: Kernels the template forked, as it said when stopped (None: not known).
        self.fourches: int | None = None

    @classmethod
    def start(cls, preload_data: str | Path | None = None) -> Template:
        """Start a template; it binds its socket at once, then imports and loads in the
        background (the first fork waits for it). Raises :class:`ModeleIndisponible`."""
        if not fourche_disponible():
            raise ModeleIndisponible("ce système ne permet pas de dupliquer un processus (os.fork)")
        dossier = Path(tempfile.mkdtemp(prefix="cucs-noyaux-"))
        if len(os.fsencode(dossier / "modele.sock")) > SOCKET_MAX:  # a long TMPDIR (HPC, pytest)
            shutil.rmtree(dossier, ignore_errors=True)
            dossier = Path(tempfile.mkdtemp(prefix="cucs-noyaux-", dir="/tmp"))
        cmd = [
            sys.executable, "-m", "cucs_analysis.pipeline.kernel_template", str(dossier / "modele.sock"),
            "--parent", str(os.getpid()),
        ]  # fmt: skip
        if preload_data is not None:
            # absolute: the template runs in its own folder
            cmd += ["--donnees", str(Path(preload_data).resolve())]
        try:
            process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, cwd=str(dossier))
        except OSError as exc:
            shutil.rmtree(dossier, ignore_errors=True)
            raise ModeleIndisponible(f"le processus modèle n'a pas démarré ({exc})") from None
        modele = cls(dossier, process)
        try:
            modele._attendre_socket()
        except BaseException:  # Ctrl-C meanwhile: nobody else knows this process
            modele.abandonner()
            raise
        with _actifs_lock:
            _actifs.append(modele)
        return modele

    def _attendre_socket(self) -> None:
        modele, process = self, self.process
        deadline = time.monotonic() + ATTENTE_DEMARRAGE_S
        while not Path(modele.socket).exists():
            if process.poll() is not None or time.monotonic() > deadline:
                code = process.poll()
                modele.stop()
                if code == _proto.ECHEC_SOCKET:
                    pourquoi = f"socket impossible à créer : {modele.socket}"
                elif code is not None:
                    pourquoi = f"code de sortie {code}"
                else:
                    pourquoi = "délai dépassé"
                raise ModeleIndisponible(f"le processus modèle n'a pas démarré ({pourquoi})")
            time.sleep(0.01)

    def request(self, msg: dict, timeout: float = 10.0) -> dict:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.socket)
            _proto.send(s, msg)
            return _proto.recv(s)[0]

    def wait_ready(self, timeout: float = ATTENTE_FOURCHE_S) -> int:
        """Wait until the template serves (its imports done); returns its pid."""
        return int(self.request({"op": "ping"}, timeout=timeout)["pid"])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop_marked(self, marqueur: str) -> list[int]:
        """Kill the kernels forked for the task ``marqueur``; their pids."""
        return self._pids("stop", marqueur)

    def marked(self, marqueur: str) -> list[int]:
        return self._pids("list", marqueur)

    def _pids(self, op: str, marqueur: str) -> list[int]:
        if not self.alive():
            return []
        try:
            return [int(p) for p in self.request({"op": op, "marqueur": marqueur}, timeout=5)["pids"]]
        except (OSError, EOFError, ValueError, KeyError):
            return []

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the template and every kernel it forked; remove its folder."""
        self._arreter(timeout, demander=True)

    def abandonner(self, timeout: float = 5.0) -> None:
        """Stop a template that forked nothing, at once (it may still be importing: a ``quit``
        request would wait for its imports)."""
        self._arreter(timeout, demander=False)

    def _quitter(self) -> bool:
        """Ask the template to stop its kernels and end (it says how many it forked)."""
        try:
            self.fourches = self.request({"op": "quit"}, timeout=2).get("fourches")
        except (OSError, EOFError, ValueError):
            return False
        return True

    def _arreter(self, timeout: float, demander: bool) -> None:
        with _actifs_lock:
            if self in _actifs:
                _actifs.remove(self)
        if self.process.poll() is None:
            if not (demander and self._quitter()):
                self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dossier, ignore_errors=True)

    def __enter__(self) -> Template:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def actifs() -> list[Template]:
    with _actifs_lock:
        return list(_actifs)


def arreter_marques(marqueur: str) -> list[int]:
    """Kill the forked kernels of task ``marqueur`` in every template of this process."""
    return [pid for t in actifs() for pid in t.stop_marked(marqueur)]


def pids_marques(marqueur: str) -> list[int]:
    return [pid for t in actifs() for pid in t.marked(marqueur)]


def kernelspec(modele: Template) -> dict:
    return {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (cucs, noyau chaud)",
        "language": "python",
        "metadata": {
            "debugger": False,
            "kernel_provisioner": {"provisioner_name": PROVISIONER, "config": {"socket": modele.socket}},
        },
    }


@contextlib.contextmanager
def kernelspec_dir(modele: Template) -> Iterator[Path]:
    """Write the kernelspec ``cucs-chaud`` for ``modele`` in the template's private folder and
    put that folder first on ``JUPYTER_PATH`` (this process and the workers it forks) until
    the block ends."""
    racine = modele.dossier / "jupyter"
    spec = racine / "kernels" / NOM_NOYAU
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps(kernelspec(modele), indent=1), encoding="utf-8")
    before = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(racine), *([before] if before else [])])
    try:
        yield racine
    finally:
        if before is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = before


@contextlib.contextmanager
def noyau_chaud(preload_data: str | Path | None = None) -> Iterator[str]:
    """A template, ready (imports and data set loaded), and its kernelspec for the block; yields
    the kernel name to give papermill (``cucs-chaud``, or ``python3`` with a French warning
    when the template is unavailable)."""
    if not fournisseur_installe():
        print(
            f"Avertissement : noyaux standard utilisés (fournisseur {PROVISIONER} non installé : "
            "réinstallez le paquet, pip install -e .).",
            file=sys.stderr,
        )
        yield STANDARD
        return
    modele = _prendre_anticipe()
    if modele is None:
        try:
            modele = Template.start(preload_data=preload_data)
        except ModeleIndisponible as exc:
            print(f"Avertissement : noyaux standard utilisés ({exc}).", file=sys.stderr)
            yield STANDARD
            return
    else:
        modele = _anticipe_pret(modele, preload_data)
    try:
        # ready before the first run starts: its time limit must not count the template's imports
        modele.wait_ready()
    except (OSError, EOFError, ValueError, KeyError) as exc:
        modele.stop()
        print(
            f"Avertissement : noyaux standard utilisés (processus modèle sans réponse : {exc}).",
            file=sys.stderr,
        )
        yield STANDARD
        return
    except BaseException:  # Ctrl-C while waiting for the imports: nobody else would stop it
        modele.abandonner()  # nothing forked yet: at once, without waiting for its imports
        raise
    with modele, kernelspec_dir(modele):
        yield NOM_NOYAU


def _anticipe_pret(modele: Template, preload_data: str | Path | None) -> Template:
    """The early template, asked to load the batch's data set (stopped if interrupted)."""
    if preload_data is None:
        return modele
    try:
        donnees = str(Path(preload_data).resolve())  # the template runs in its own folder
        modele.request({"op": "precharger", "donnees": donnees}, timeout=ATTENTE_FOURCHE_S)
    except (OSError, EOFError, ValueError):
        pass  # `wait_ready` meets the same error just after and says it in French
    except BaseException:  # Ctrl-C while a national data set loads: nobody else would stop it
        modele.abandonner()
        raise
    return modele


#: A template started early by `anticiper`, until `noyau_chaud` takes it or `abandonner_anticipe`.
_anticipe: Template | None = None


def anticiper(explicite: bool = False) -> None:
    """Start the batch's template now, before the driver imports its own stack and checks the
    data (about 2 s each, one after the other until now): the two overlap on two cores. Without
    data: `noyau_chaud` asks it to load the data set once the driver knows which. Only where
    warm kernels will be used (`chaud_par_defaut`, or ``explicite`` where forking is
    possible); nothing is said on failure (`noyau_chaud` starts one and says why it cannot)."""
    global _anticipe
    if _anticipe is not None or not fourche_disponible():
        return
    if not (explicite or chaud_par_defaut()) or not fournisseur_installe():
        return
    try:
        _anticipe = Template.start()  # Template.start stops what it started if interrupted
    except ModeleIndisponible:
        _anticipe = None


def _prendre_anticipe() -> Template | None:
    global _anticipe
    modele, _anticipe = _anticipe, None
    if modele is not None and not modele.alive():
        modele.stop()
        return None
    return modele


def abandonner_anticipe() -> None:
    """Stop the early template if no batch took it (bad parameters, nothing left to run)."""
    modele = _prendre_anticipe()
    if modele is not None:
        modele.abandonner()


# --- the kernel, seen from the worker -----------------------------------------------------------


class ProcessusFourche:
    """What jupyter_client expects of a ``subprocess.Popen`` for a kernel the template forked.

    The connection that asked for the fork stays open: the template answers ``poll`` with the
    exit status (it reaps the kernel) and sends signals to the kernel's process group; when the
    connection closes, the template kills the kernel if it still runs. If the template is gone,
    the kernel's own pid (pidfd) says whether it still runs.
    """

    stdin = stdout = stderr = None

    def __init__(self, conn: socket.socket, pid: int):
        self._conn = conn
        self._lock = threading.Lock()
        self.pid = pid
        self.returncode: int | None = None
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self._pidfd = None

    @classmethod
    def lancer(cls, chemin: str, cmd: list[str], env: dict, cwd: str | None) -> ProcessusFourche:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.settimeout(ATTENTE_FOURCHE_S)
            conn.connect(chemin)
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (AttributeError, OSError, ValueError):
                    pass
            msg = {
                "op": "fork",
                "argv": list(cmd),
                "env": dict(env),
                "cwd": str(cwd) if cwd else os.getcwd(),
                "marqueur": env.get(_MARQUEUR) or os.environ.get(_MARQUEUR, ""),
                "parent": os.getpid(),
            }
            _proto.send(conn, msg, fds=[1, 2])
            reply = _proto.recv(conn)[0]
            if "pid" not in reply:
                raise ModeleIndisponible(str(reply.get("erreur") or reply))
            conn.settimeout(10)
            return cls(conn, int(reply["pid"]))
        except BaseException:
            conn.close()
            raise

    def _ask(self, msg: dict) -> dict | None:
        with self._lock:
            if self._conn is None:
                return None
            try:
                _proto.send(self._conn, msg)
                return _proto.recv(self._conn)[0]
            except (OSError, EOFError, ValueError):
                self._conn.close()
                self._conn = None
                return None

    def _gone_without_template(self) -> bool:
        if self._pidfd is not None:
            return _lisible(self._pidfd, 0)
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            pass
        return False

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        reply = self._ask({"op": "poll"})
        if reply is not None:
            if reply.get("status") is not None:
                self.returncode = int(reply["status"])
        elif self._gone_without_template():
            self.returncode = -signal.SIGKILL  # the template died: its status is lost
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"noyau {self.pid}", timeout or 0)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is not None:
            return
        reply = self._ask({"op": "signal", "sig": int(sig)})
        if reply is None and not self._gone_without_template():
            try:  # the kernel leads its own session: its group holds its children too
                os.killpg(self.pid, sig)
                return
            except OSError:
                pass
            try:
                if self._pidfd is not None:
                    signal.pidfd_send_signal(self._pidfd, sig)
                else:
                    os.kill(self.pid, sig)
            except OSError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)
        # jupyter_client polls a killed kernel every 0.1 s until it is gone, starting at once:
        # the kernel dies within milliseconds, so waiting for that here saves the 0.1 s
        self._attendre_fin(ATTENTE_FIN_S)

    def _attendre_fin(self, timeout: float) -> None:
        """Wait until the kernel has ended (at most ``timeout`` seconds)."""
        if self._pidfd is not None:
            _lisible(self._pidfd, timeout)  # readable once the process has exited
            return
        deadline = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)

    def close(self) -> None:
        """Forget the kernel: the template kills it if it still runs."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _lisible(fd: int, timeout: float) -> bool:
    """Whether ``fd`` is readable within ``timeout`` seconds (poll: select refuses fds ≥ 1024)."""
    import select

    p = select.poll()
    p.register(fd, select.POLLIN)
    return bool(p.poll(max(0, int(timeout * 1000))))


_averti = False


def _avertir(exc: BaseException) -> None:
    global _averti
    if not _averti:
        _averti = True
        print(
            f"Avertissement : processus modèle des noyaux injoignable ({exc}) : noyau standard utilisé.",
            file=sys.stderr,
        )


class FourcheProvisioner(LocalProvisioner):  # type: ignore[misc]
    """jupyter_client provisioner ``cucs-fourche``: forks the kernel from the template whose
    socket is in the kernelspec's provisioner config."""

    socket = Unicode("", config=True, help="Unix socket of the template process")
    _fourche: ProcessusFourche | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        # nbclient gives an ipykernel kernel an in-memory history only when it is named python3:
        # the same for ours (no history file shared by the kernels running at once)
        if not any(a.startswith("--HistoryManager.hist_file") for a in cmd):
            cmd = [*cmd, "--HistoryManager.hist_file=:memory:"]
        env = dict(kwargs.get("env") or os.environ)
        env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launcher sets it
        cwd = kwargs.get("cwd")
        try:
            if not self.socket:
                raise ModeleIndisponible("aucun processus modèle configuré")
            proc = ProcessusFourche.lancer(self.socket, cmd, env, cwd)
        except (OSError, EOFError, ValueError, ModeleIndisponible) as exc:
            _avertir(exc)
            return await super().launch_kernel(cmd, **kwargs)
        self._fourche = proc
        self.process = proc
        self.pid = proc.pid
        self.pgid = proc.pid  # the kernel leads its own session
        self.cwd = cwd or os.getcwd()
        return self.connection_info

    async def send_signal(self, signum: int) -> None:
        if isinstance(self.process, ProcessusFourche):
            self.process.send_signal(signum)  # by the template, which knows it is not reaped
            return
        await super().send_signal(signum)

    async def kill(self, restart: bool = False) -> None:
        if isinstance(self.process, ProcessusFourche):
            self.process.kill()
            return
        await super().kill(restart=restart)

    async def terminate(self, restart: bool = False) -> None:
        if isinstance(self.process, ProcessusFourche):
            self.process.terminate()
            return
        await super().terminate(restart=restart)

    async def cleanup(self, restart: bool = False) -> None:
        if self._fourche is not None:
            self._fourche.close()
            self._fourche = None
        await super().cleanup(restart=restart)


def _silence_traitlets() -> None:
    warnings.filterwarnings("ignore", message=".*Config option `socket`.*")


_silence_traitlets()
