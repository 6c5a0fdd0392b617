"""The template process of warm kernels: `python -m cucs_analysis.pipeline.kernel_template SOCKET`.

It binds a Unix socket first (so that requests can queue while it loads), imports the notebook
stack and the package once (pandas, numpy, geopandas, matplotlib with the inline backend
chosen *before* its import, seaborn, statsmodels, scipy, ipykernel, `cucs_analysis`),
optionally loads the batch's data set into the in-process memo (`--donnees DIR`), freezes
the garbage collector, then serves requests one at a time (single-threaded: it forks).

Protocol: each message is a 4-byte big-endian length followed by UTF-8 JSON; the reply has
the same form. ``{"op": "precharger", "donnees": DIR}`` loads a data set after the start (a
template started before the driver knew its data folder). A connection that asks
``{"op": "fork", ...}`` (with the requesting worker's
stdout and stderr passed as file descriptors) becomes that kernel's connection: ``poll``
and ``signal`` requests on it concern that kernel, and when it closes while the kernel runs
(the worker died, or its provisioner cleaned up) the kernel is killed. Other requests:
``stop`` (kill the kernels of a task marker), ``list``, ``ping``, ``quit``.

The forked child never returns into the loop: it resets the template's signal handlers,
closes the template's sockets, starts its own session (``setsid``), reads stdin from
/dev/null, takes the worker's environment and working folder, reseeds `random` and numpy
from the OS, watches the worker (pidfd: it exits when the worker dies) and the template
(ipykernel's parent poller), runs ipykernel's `IPKernelApp` with the connection file
jupyter_client wrote, and ends with ``os._exit``. The template reaps its kernels and keeps
their exit status for the worker's ``poll``.
"""

from __future__ import annotations

import errno
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time

INLINE = "module://matplotlib_inline.backend_inline"

#: What every kernel would import anyway; missing optional ones are skipped.
PRELOAD = (
    "numpy",
    "pandas",
    "scipy.stats",
    "scipy.cluster.hierarchy",
    "shapely",
    "pyogrio",
    "geopandas",
    "matplotlib",
    "matplotlib.pyplot",
    "matplotlib.backends.backend_agg",
    "matplotlib.ticker",
    "matplotlib.patches",
    "seaborn",
    "statsmodels.api",
    "statsmodels.formula.api",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",  # imports debugpy: ~0.06 s of each kernel's IPKernelApp.initialize
    # not matplotlib_inline.backend_inline: imported before the kernel's shell, it would turn
    # matplotlib interactive at start, where a standard kernel does so at the first figure
    "IPython.core.pylabtools",
    # what IPKernelApp.initialize and start import in a forked kernel (measured: the modules a
    # forked kernel has that the template had not)
    "ipykernel_launcher",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.logger",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "IPython.utils.wildcard",
    "faulthandler",
    "psutil",
    "resource",
    "runpy",
    "sqlite3",
    "tornado.platform.asyncio",
    "cucs_analysis.pipeline.notebook",
    "cucs_analysis.pipeline.results",
    "cucs_analysis.present.display",
    "cucs_analysis.present.plots",
    "cucs_analysis.reports",
)


#: The preloaded modules a standard kernel imports before running any cell.
KERNEL_MODULES = ("ipykernel", "IPython", "debugpy", "tornado", "psutil", "sqlite3", "faulthandler")


# --- messages -------------------------------------------------------------------------------------


def send(sock: socket.socket, obj: dict, fds: list[int] | None = None) -> None:
    data = json.dumps(obj).encode()
    payload = struct.pack(">I", len(data)) + data
    if fds:
        sent = socket.send_fds(sock, [payload], fds)
        payload = payload[sent:]
    if payload:
        sock.sendall(payload)


def _recv_exact(sock: socket.socket, n: int, buf: bytes = b"") -> bytes:
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connexion fermée")
        buf += chunk
    return buf


def recv(sock: socket.socket, with_fds: bool = False) -> tuple[dict, list[int]]:
    """One message (and the file descriptors that came with it)."""
    fds: list[int] = []
    try:
        if with_fds:
            data, fds, _flags, _addr = socket.recv_fds(sock, 4, 4)
            if not data:
                raise EOFError("connexion fermée")
            head = _recv_exact(sock, 4, data)
        else:
            head = _recv_exact(sock, 4)
        (n,) = struct.unpack(">I", head[:4])
        body = _recv_exact(sock, n, head[4:])
        msg = json.loads(body.decode())
        if not isinstance(msg, dict):
            raise ValueError("message inattendu")
    except BaseException:  # the sender died mid-message, or sent garbage: its descriptors too
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        raise
    return msg, fds


# --- the template ---------------------------------------------------------------------------------


class _Kernel:
    __slots__ = ("pid", "marqueur", "conn", "status")

    def __init__(self, pid: int, marqueur: str, conn: socket.socket | None):
        self.pid, self.marqueur, self.conn, self.status = pid, marqueur, conn, None


class Template:
    def __init__(self, path: str, listener: socket.socket):
        self.path = path
        self.listener = listener
        self.sel = selectors.DefaultSelector()
        self.kernels: dict[int, _Kernel] = {}  # pid → kernel (until reaped and its conn closed)
        self.by_conn: dict[socket.socket, _Kernel] = {}
        self.conns: set[socket.socket] = set()
        self.running = True
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)
        self.inline_preloaded = False
        #: Variables the preloaded kernel modules set in os.environ at import (debugpy sets
        #: PYDEVD_USE_FRAME_EVAL if absent): a standard kernel has them before its first cell,
        #: the child sets them too. (Those the data stack sets, e.g. pyogrio's
        #: GDAL_CURL_CA_BUNDLE, a standard kernel only has after the notebook's imports: not
        #: replayed.)
        self.env_imports: dict[str, str] = {}
        self.fourches = 0  # kernels forked so far (``ping``, ``quit``: the tests check it)

    # -- preloading
    def preload(self, donnees: str | None) -> None:
        import importlib

        os.environ.setdefault("MPLBACKEND", INLINE)
        # debugpy (ipykernel.debugger) would print an English warning about frozen modules on
        # the driver's terminal; a standard kernel prints it nowhere the user sees
        os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        for name in PRELOAD:
            before = set(os.environ)
            try:
                importlib.import_module(name)
            except Exception:  # an optional module absent: the kernel imports it if it needs it
                pass
            if name.startswith(KERNEL_MODULES):  # what a standard kernel imports before any cell
                self.env_imports.update({k: os.environ[k] for k in set(os.environ) - before})
        try:  # every question report, as the notebooks import them
            import pkgutil

            import cucs_analysis.reports as reports

            for info in pkgutil.iter_modules(reports.__path__):
                try:
                    importlib.import_module(f"cucs_analysis.reports.{info.name}")
                except Exception:
                    pass
        except Exception:
            pass
        try:
            # Computed once here, inherited by every kernel: the region stage's key stays the
            # one of the library this batch started with, even if a file is edited meanwhile.
            from cucs_analysis.pipeline.region import library_digest

            library_digest()
        except Exception:
            pass
        self.inline_preloaded = "matplotlib_inline.backend_inline" in sys.modules
        self.precharger(donnees)

    def precharger(self, donnees: str | None) -> None:
        """Load the batch's data set into the in-process memo (at start, or when the driver
        asks: ``{"op": "precharger"}``, the template having been started before the driver
        knew its data folder), then freeze what is there for the kernels to share."""
        if donnees:
            try:
                from cucs_analysis.data import dataset

                dataset.load_dataset(donnees)
            except Exception:  # the notebooks will say what is wrong, as with a fresh kernel
                pass
        import gc

        gc.collect()
        gc.freeze()

    # -- the loop
    def serve(self, parent: int | None = None) -> None:
        """Serve until ``quit``, SIGTERM or the death of ``parent`` (the process that started
        the template, read before the imports: one that died meanwhile is seen at once)."""
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self._on_term)
        self.sel.register(self.listener, selectors.EVENT_READ, "listen")
        self.sel.register(self.wake_r, selectors.EVENT_READ, "wake")
        # the driver (or Dask worker) that started us dies, even killed outright: we stop too
        parent = os.getppid() if parent is None else parent
        try:
            self.parent_fd: int | None = os.pidfd_open(parent)
            self.sel.register(self.parent_fd, selectors.EVENT_READ, "parent")
        except (AttributeError, OSError):
            self.parent_fd = None
        while self.running:
            if os.getppid() != parent:
                break
            for key, _ in self.sel.select(timeout=1.0):
                if key.data == "parent":
                    self.running = False
                    break
                if key.data == "listen":
                    self._accept()
                elif key.data == "wake":
                    try:
                        while os.read(self.wake_r, 512):
                            pass
                    except (BlockingIOError, InterruptedError):
                        pass
                else:
                    self._handle(key.fileobj)
                    if not self.running:
                        break
            self._reap()
        self._shutdown()

    def _on_term(self, *_: object) -> None:
        self.running = False

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        conn.setblocking(True)
        conn.settimeout(30)
        self.conns.add(conn)
        self.sel.register(conn, selectors.EVENT_READ, "conn")

    def _close(self, conn: socket.socket) -> None:
        self.conns.discard(conn)
        try:
            self.sel.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()
        k = self.by_conn.pop(conn, None)
        if k is not None:
            k.conn = None
            if k.status is None:  # the worker is gone (or done with it): the kernel goes too
                self._signal(k, signal.SIGKILL)
            else:
                self.kernels.pop(k.pid, None)

    def _handle(self, conn: socket.socket) -> None:
        try:
            msg, fds = recv(conn, with_fds=conn not in self.by_conn)
        except (EOFError, OSError, ValueError):
            self._close(conn)
            return
        try:
            reply = self._dispatch(conn, msg, fds)
        finally:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
        try:
            send(conn, reply)
        except OSError:
            self._close(conn)

    def _dispatch(self, conn: socket.socket, msg: dict, fds: list[int]) -> dict:
        op = msg.get("op")
        self._reap()
        if op == "fork":
            if conn in self.by_conn:
                return {"erreur": "connexion déjà attachée à un noyau"}
            pid = self._fork(msg, fds)
            self.fourches += 1
            k = _Kernel(pid, str(msg.get("marqueur") or ""), conn)
            self.kernels[pid] = k
            self.by_conn[conn] = k
            return {"pid": pid}
        if op == "precharger":
            self.precharger(str(msg.get("donnees") or "") or None)
            return {"ok": True}
        if op == "poll":
            k = self.by_conn.get(conn)
            return {"status": None if k is None else k.status, "inconnu": k is None}
        if op == "signal":
            k = self.by_conn.get(conn)
            if k is None or k.status is not None:
                return {"envoye": False, "status": None if k is None else k.status}
            self._signal(k, int(msg["sig"]), group=bool(msg.get("groupe", True)))
            return {"envoye": True}
        if op in ("stop", "list"):
            m = str(msg.get("marqueur") or "")
            found = [k for k in self.kernels.values() if k.status is None and m and k.marqueur == m]
            if op == "stop":
                for k in found:
                    self._signal(k, signal.SIGKILL)
            return {"pids": [k.pid for k in found]}
        if op == "etat_aleatoire":  # tests: the random states every fork starts from
            import hashlib
            import pickle
            import random

            np = sys.modules.get("numpy")
            state = (np.random.get_state() if np is not None else None, random.getstate())
            return {"etat": hashlib.sha256(pickle.dumps(state)).hexdigest()}
        if op == "ping":
            vivants = sum(k.status is None for k in self.kernels.values())
            return {"pid": os.getpid(), "noyaux": vivants, "fourches": self.fourches}
        if op == "quit":
            self.running = False
            return {"ok": True, "fourches": self.fourches}
        return {"erreur": f"requête inconnue : {op}"}

    def _signal(self, k: _Kernel, sig: int, group: bool = True) -> None:
        if k.status is not None:
            return
        try:
            if group:
                os.killpg(k.pid, sig)
            else:
                os.kill(k.pid, sig)
        except OSError:
            try:
                os.kill(k.pid, sig)
            except OSError:
                pass

    def _reap(self) -> None:
        while True:
            try:
                pid, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            k = self.kernels.get(pid)
            if k is None:
                continue
            k.status = os.waitstatus_to_exitcode(st)
            if k.conn is None:
                self.kernels.pop(pid, None)

    def _shutdown(self) -> None:
        for k in list(self.kernels.values()):
            self._signal(k, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while any(k.status is None for k in self.kernels.values()) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.02)
        for conn in list(self.conns):
            self._close(conn)
        try:
            os.unlink(self.path)
        except OSError:
            pass

    # -- the child
    def _fork(self, msg: dict, fds: list[int]) -> int:
        pid = os.fork()
        if pid:
            return pid
        code = 1
        try:
            self._child(msg, fds)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            try:
                import traceback

                traceback.print_exc()
            except BaseException:
                pass
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except BaseException:
                pass
            os._exit(code)
        return 0  # not reached

    def _child(self, msg: dict, fds: list[int]) -> None:
        # 1. signals as in a fresh interpreter, none blocked, no wakeup fd
        signal.set_wakeup_fd(-1)
        for sig, handler in ORIGINAL_HANDLERS.items():
            try:
                signal.signal(sig, handler)
            except (OSError, ValueError):
                pass
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        # 2. a session of its own (signals to the kernel's group reach only it and its children)
        os.setsid()
        # 3. the worker's stdout/stderr, stdin from /dev/null, the template's descriptors closed
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        for target, fd in zip((1, 2), fds, strict=False):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        fds.clear()
        for s in (*self.conns, self.listener):
            try:
                s.close()
            except OSError:
                pass
        try:
            self.sel.close()
        except OSError:
            pass
        for fd in (self.wake_r, self.wake_w, getattr(self, "parent_fd", None)):
            if fd is None:
                continue
            try:
                os.close(fd)
            except OSError:
                pass
        # 4. the worker's environment and folder; the command line of a standard kernel
        env = msg.get("env") or {}
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        for k, v in self.env_imports.items():  # as the imports a standard kernel does would set
            os.environ.setdefault(k, v)
        if msg.get("cwd"):
            os.chdir(msg["cwd"])
        argv = list(msg["argv"])
        try:
            i = argv.index("ipykernel_launcher")
            args = argv[i + 1 :]
        except ValueError:
            args = [a for a in argv[1:] if a not in ("-m",)]
        import ipykernel_launcher  # noqa: F401  (its path is the standard kernel's argv[0])

        sys.argv = [ipykernel_launcher.__file__, *args]
        # 5. fresh random states (a fork copies the template's)
        import random

        random.seed()
        np = sys.modules.get("numpy")
        if np is not None:
            np.random.seed()
        # 6. the worker's death ends the kernel (as ipykernel's parent poller does for a child)
        parent = int(msg.get("parent") or 0)
        if parent:
            _watch(parent)
        # 7. the kernel; ipykernel's poller watches the template (its parent)
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance(parent_handle=os.getppid())
        app.initialize(sys.argv[1:])
        if self.inline_preloaded:  # imported before a shell existed: integrate now
            from matplotlib_inline import backend_inline

            backend_inline._enable_matplotlib_integration()
        app.start()
        import atexit

        atexit._run_exitfuncs()


def _watch(pid: int) -> None:
    import threading

    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ESRCH:
            os._exit(1)
        pidfd = None

    def run() -> None:
        if pidfd is not None:
            import select

            select.select([pidfd], [], [])
            os._exit(1)
        while True:  # no pidfd: poll
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:
                pass
            time.sleep(0.5)

    threading.Thread(target=run, name="cucs-surveille-processus", daemon=True).start()


#: The template's exit code when it cannot bind its socket.
ECHEC_SOCKET = 3

#: The signal handlers of a fresh interpreter, restored in every kernel.
ORIGINAL_HANDLERS: dict[int, object] = {}


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="cucs_analysis.pipeline.kernel_template")
    parser.add_argument("socket")
    parser.add_argument("--donnees", default=None)
    # the driver's pid, given by the driver: read here, after the imports of a second or more,
    # our parent could already be init (a driver killed meanwhile), and we would serve forever
    parser.add_argument("--parent", type=int, default=None)
    args = parser.parse_args(argv)
    parent = args.parent or os.getppid()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
        ORIGINAL_HANDLERS[sig] = signal.getsignal(sig)
    # Ctrl-C in the terminal reaches the whole group: the driver decides when the template stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    # A standard kernel (`python -m ipykernel_launcher`) drops the folder from sys.path; IPython
    # puts '' back. The same here.
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # bound and listening under a temporary name, then renamed: the driver waits for the path,
    # and a connect between bind and listen (the template descheduled there) would be refused
    provisoire = f"{args.socket}.{os.getpid()}"
    try:
        listener.bind(provisoire)
        listener.listen(128)
        os.rename(provisoire, args.socket)
    except OSError:  # e.g. a path too long for a Unix socket: the driver says it and falls back
        try:
            os.unlink(provisoire)
        except OSError:
            pass
        return ECHEC_SOCKET
    template = Template(args.socket, listener)
    try:
        template.preload(args.donnees)
        template.serve(parent)
    finally:
        if os.getpid() == template_pid:
            try:
                os.unlink(args.socket)
            except OSError:
                pass
    return 0


template_pid = os.getpid()

if __name__ == "__main__":
    sys.exit(main())
