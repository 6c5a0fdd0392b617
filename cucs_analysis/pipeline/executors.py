"""Where the runs execute: one ``concurrent.futures.Executor``, local processes or a Dask cluster.

The runner only uses the standard API on what :func:`open_executor` returns: ``submit``,
``concurrent.futures.as_completed``, ``Future.result``/``cancel`` and ``shutdown`` (or a
``with`` block). A run whose worker died shows up as a future whose ``result()`` raises
(:class:`ProcessusArrete` locally, ``KilledWorker`` on Dask), never as a hang.

Locally (:class:`RunProcesses`) each of the ``workers`` slots is one long-lived process that
runs task after task, replaced only when it must be, so that one run can be stopped without
touching the others: a task past its time limit (``submit_run(..., delai_s=)``) or whose
process died fails alone (:class:`DelaiDepasse`, :class:`ProcessusArrete`) while the next
tasks start in a new process; ``terminate`` stops everything (Ctrl-C). Every process a task starts (the notebook's kernel included)
carries an environment marker, so a stopped task leaves no orphan behind; a warm kernel
(forked by a template, `kernels`) is found and killed through its template instead.
"""

from __future__ import annotations

import atexit
import collections
import concurrent.futures as cf
import contextlib
import gc
import multiprocessing
import multiprocessing.connection
import os
import pickle
import secrets
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: The ``scheduler`` value meaning "a pool of local processes" (also the default, ``None``).
PROCESSES = "processes"


#: ``--executor`` values: the local processes (default), or Dask (a LocalCluster without address).
EXECUTEURS = ("processus", "dask")


def open_executor(
    scheduler: str | None = PROCESSES,
    workers: int = 1,
    initializer: Callable[[], Any] | None = None,
    executeur: str = "processus",
) -> cf.Executor:
    """An executor for ``scheduler``: ``"processes"`` (or ``None``) or a Dask scheduler address.

    ``"processes"``: a :class:`RunProcesses` of ``workers`` long-lived processes, forked where
    the platform allows it; ``initializer`` is run here first, so forked workers inherit what
    it imported (a spawned worker runs it once). An address (``tcp://host:8786``): the Dask client's
    executor (tasks are never cached as pure); ``workers`` and ``initializer`` do not apply, the
    cluster has its own. ``executeur="dask"`` without an address: a ``distributed.LocalCluster``
    of ``workers`` processes (one thread each), closed with the executor. Shutting the executor
    down also closes the Dask client. A Dask executor sends each run's inputs to the workers
    and writes the files they return (``pipeline.distant``): no disk is shared.

    Raises ``ParamError`` (French message) when Dask is not installed or the scheduler cannot
    be reached.
    """
    if scheduler in (None, PROCESSES):
        if executeur == "dask":
            return _dask_executor(None, max(1, workers))
        return _process_pool(max(1, workers), initializer)
    return _dask_executor(str(scheduler))


def _process_pool(workers: int, initializer: Callable[[], Any] | None) -> RunProcesses:
    if initializer is not None:
        initializer()
    return RunProcesses(workers, initializer)


# --- local processes: one long-lived process per slot ----------------------------------------------

#: Environment variable marking every process started for one task (its kernel…).
MARQUEUR = "CUCS_EXECUTION"


class DelaiDepasse(Exception):
    """The task ran longer than its time limit; its processes were stopped."""

    def __init__(self, delai_s: float):
        self.delai_s = delai_s
        super().__init__(delai_s)


class ProcessusArrete(Exception):
    """The task's process ended without giving its result (killed, out of memory…)."""

    def __init__(self, exitcode: int | None):
        self.exitcode = exitcode
        super().__init__(exitcode)


class ResultatIllisible(RuntimeError):
    """The worker sent a result (or an exception) the driver cannot rebuild; the worker goes on."""


class Interrompu(Exception):
    """The task was stopped by `RunProcesses.terminate` (Ctrl-C)."""


#: How often an idle worker checks that the driver that forked it is still there (seconds).
_VEILLE_S = 1.0


def _worker(conn: Any, initializer: Any, inherited: list) -> None:
    """Body of a slot's process: run the tasks the driver sends, one after the other, and send
    back each one's result (or its exception) as soon as it is there. Ends on an empty
    message, when the driver's end of the pipe closes, or when the driver is gone."""
    # Ctrl-C in a terminal reaches the whole process group: the driver alone decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The driver's ends of the pipes (this slot's and the others'), copied by the fork: closed,
    # so that each worker sees the end of its pipe once the driver closes or dies.
    for c in inherited:
        with contextlib.suppress(OSError):
            c.close()
    # Forked from the management thread while the main one may be writing the progress bar:
    # the inherited sys.stdout/sys.stderr could hold a lock nobody will release here.
    for name, fd in (("stdout", 1), ("stderr", 2)):
        encoding = getattr(getattr(sys, name, None), "encoding", None) or "utf-8"
        try:
            stream = open(fd, "w", encoding=encoding, errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115
        except (OSError, LookupError):
            continue
        setattr(sys, name, stream)
    init_error: BaseException | None = None
    if initializer is not None:  # spawned: once per process (a forked one inherited it)
        try:
            initializer()
        except BaseException as exc:  # every task raises it, as when each task ran it
            init_error = exc
    # What was inherited from the driver stays shared: the collector never scans it (a scan
    # writes every object's header, a private copy of each page: +37 MiB over 100 runs)
    gc.freeze()
    driver = os.getppid()
    while True:
        try:
            while not conn.poll(_VEILLE_S):
                if os.getppid() != driver:
                    return
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not data:
            return
        value = _run_task(data, init_error)
        try:
            out = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an exception or a value that cannot be pickled
            out = pickle.dumps((False, ResultatIllisible(f"{type(exc).__name__} : {exc}")))
        del value
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            conn.send_bytes(out)
        except OSError:
            return


def _run_task(data: bytes, init_error: BaseException | None) -> tuple:
    """One task in a worker: the driver's environment and folder of the moment, plus the task's
    own marker (inherited by the kernel and anything it starts), then ``fn(*args, **kwargs)``."""
    try:
        marqueur, env, cwd, call = pickle.loads(data)
        for k in [k for k in os.environ if k not in env]:
            del os.environ[k]
        for k, v in env.items():
            if os.environ.get(k) != v:
                os.environ[k] = v
        os.environ[MARQUEUR] = marqueur
        if cwd is not None and cwd != _cwd():
            os.chdir(cwd)
        if init_error is not None:
            raise init_error
        fn, args, kwargs = pickle.loads(call)
        return (True, fn(*args, **kwargs))
    except BaseException as exc:  # sent to the driver, raised there by Future.result()
        return (False, exc)


def _environ() -> dict[str, str]:
    """A copy of this process's environment (another thread may change it meanwhile)."""
    for _ in range(5):
        try:
            return dict(os.environ)
        except RuntimeError:  # changed size during iteration
            continue
    return dict(os.environ)


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:
        return None


def marked_processes(marqueur: str) -> list:
    """The live processes carrying ``marqueur`` in their environment (psutil.Process objects),
    and the warm kernels a template of this process forked for it (`kernels`: a forked kernel
    keeps the template's environment in ``/proc/<pid>/environ``)."""
    import psutil

    from cucs_analysis.pipeline import kernels

    found = []
    for p in psutil.process_iter():
        try:
            if p.pid != os.getpid() and p.environ().get(MARQUEUR) == marqueur:
                found.append(p)
        except (psutil.Error, OSError):
            continue
    return found + _processes(kernels.pids_marques(marqueur), found)


def _processes(pids: list[int], known: list) -> list:
    import psutil

    out, seen = [], {p.pid for p in known}
    for pid in pids:
        try:
            if pid not in seen:
                out.append(psutil.Process(pid))
        except psutil.Error:
            continue
    return out


def stop_marked(marqueur: str, timeout: float = 5.0) -> int:
    """Kill every process carrying ``marqueur`` (a stopped task's kernel…); how many are still
    alive after ``timeout`` seconds (0: all stopped)."""
    import psutil

    from cucs_analysis.pipeline import kernels

    procs = marked_processes(marqueur)
    # the warm kernels: killed (their process group) by their template, which reaps them
    forked = set(kernels.arreter_marques(marqueur))
    for p in procs:
        if p.pid in forked:
            continue
        try:
            p.kill()
        except psutil.Error:
            pass
    # Wait until each is gone or a zombie: a killed kernel whose worker died belongs to init,
    # which reaps it when it can (in a container, maybe never): psutil.wait_procs would wait
    # for the whole timeout.
    deadline = time.monotonic() + timeout
    while procs and time.monotonic() < deadline:
        procs = [p for p in procs if _alive(p)]
        if procs:
            time.sleep(0.02)
    return len(procs)


def _alive(p: Any) -> bool:
    import psutil

    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@dataclass
class _Task:
    future: cf.Future
    call: bytes  # (fn, args, kwargs), pickled at submission
    delai_s: float | None
    marqueur: str = field(default_factory=lambda: secrets.token_hex(12))
    deadline: float | None = None


@dataclass
class _Slot:
    """One of the ``workers`` slots: its process (None until needed, or after it was killed)
    and the task it runs (None: idle)."""

    process: Any = None
    conn: Any = None
    task: _Task | None = None


class RunProcesses(cf.Executor):
    """A ``concurrent.futures.Executor`` of ``workers`` slots, each a long-lived process (forked
    where the platform allows it, so it inherits the imported modules) that runs its tasks one
    after the other; the function and its arguments are pickled.

    Each task gets a fresh marker in the worker's environment (inherited by its kernel), and
    the driver's environment and folder as they are when it starts. ``submit_run(fn, *args,
    delai_s=…)`` gives a task a time limit: past it, its slot's process is killed with every
    process the task started, its future raises :class:`DelaiDepasse`, and a new process takes
    the slot for the next task. A task whose process dies raises :class:`ProcessusArrete`; the
    others are not affected. ``terminate()`` kills the running tasks (their futures raise
    :class:`Interrompu`) and cancels the pending ones. After every task, the processes it left
    (a kernel…) are killed. ``shutdown`` ends the processes once the tasks are done.
    """

    _POLL_S = 0.1

    def __init__(self, workers: int = 1, initializer: Callable[[], Any] | None = None):
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        self._ctx = multiprocessing.get_context(method)
        self._fork = method == "fork"
        self._initializer = initializer
        self._workers = max(1, workers)
        self._pending: collections.deque[_Task] = collections.deque()
        self._slots = [_Slot() for _ in range(self._workers)]
        self._lock = threading.Lock()
        self._shutdown = False
        # written to wake the management thread up (a task submitted, shutdown, terminate)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._wake_lock = threading.Lock()
        self._wake_open = True
        _ouverts.add(self)
        self._thread = threading.Thread(target=self._manage, name="cucs-executions", daemon=True)
        self._thread.start()

    # -- the Executor API
    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        return self.submit_run(fn, *args, delai_s=None, **kwargs)

    def submit_run(self, fn, /, *args, delai_s: float | None = None, **kwargs) -> cf.Future:
        """``submit`` with a time limit in seconds (None: none)."""
        try:
            call = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise RuntimeError(
                f"tâche impossible à transmettre au processus d'exécution ({type(exc).__name__} : {exc})"
            ) from None
        future: cf.Future = cf.Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("exécuteur arrêté : aucun nouveau carnet ne peut être lancé")
            self._pending.append(_Task(future, call, delai_s))
        self._wake()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while self._pending:
                    self._pending.popleft().future.cancel()
        self._wake()
        if wait:
            self._thread.join()

    def terminate(self) -> list[cf.Future]:
        """Stop now: cancel the pending tasks, kill the running ones and everything they started.
        Returns the futures of the tasks that were running (they raise :class:`Interrompu`)."""
        with self._lock:
            self._shutdown = True
            while self._pending:
                self._pending.popleft().future.cancel()
            taken = []
            for slot in self._slots:
                if slot.process is not None or slot.task is not None:
                    taken.append((slot.process, slot.conn, slot.task))
                slot.process = slot.conn = slot.task = None
        for process, conn, task in taken:
            self._kill(process, conn, task.marqueur if task is not None else None)
            if task is not None and not task.future.done():
                task.future.set_exception(Interrompu())
        self._wake()
        self._thread.join(timeout=10)
        return [task.future for _, _, task in taken if task is not None]

    def _wake(self) -> None:
        with self._wake_lock, contextlib.suppress(OSError):  # full: it is awake already
            if self._wake_open:
                os.write(self._wake_w, b"x")

    # -- the management thread
    def _manage(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # never leave a future waiting forever
            with self._lock:
                self._shutdown = True
                taken = [(s.process, s.conn, s.task) for s in self._slots]
                for s in self._slots:
                    s.process = s.conn = s.task = None
                pending = [t.future for t in self._pending]
                self._pending.clear()
            for process, conn, task in taken:
                self._kill(process, conn, task.marqueur if task is not None else None)
            for future in [t.future for _, _, t in taken if t is not None] + pending:
                if not future.done():
                    future.set_exception(exc)
        finally:
            with self._wake_lock:
                self._wake_open = False
                for fd in (self._wake_r, self._wake_w):
                    with contextlib.suppress(OSError):
                        os.close(fd)

    def _loop(self) -> None:
        while True:
            with self._lock:
                echecs = self._dispatch()
                watched = [(s, s.process, s.conn, s.task) for s in self._slots if s.process is not None]
                fini = self._shutdown and not self._pending and all(s.task is None for s in self._slots)
                if fini:
                    for s in self._slots:
                        s.process = s.conn = None
            for future, exc in echecs:
                future.set_exception(exc)
            if fini:
                break
            waits: list = [self._wake_r]
            waits += [p.sentinel for _, p, _, _ in watched] + [c for _, _, c, t in watched if t is not None]
            now = time.monotonic()
            deadlines = [t.deadline - now for *_, t in watched if t is not None and t.deadline is not None]
            timeout = max(0.0, min([self._POLL_S * 5, *deadlines]))
            try:
                ready = set(multiprocessing.connection.wait(waits, timeout=timeout))
            except (OSError, ValueError):  # a slot closed by terminate() meanwhile
                continue
            if self._wake_r in ready:
                with contextlib.suppress(OSError):
                    os.read(self._wake_r, 4096)
            for slot, process, conn, task in watched:
                if task is not None and conn in ready:
                    self._receive(slot, process, conn, task)
                elif process.sentinel in ready:
                    self._ended(slot, process, conn, task)
                elif task is not None and task.deadline is not None and time.monotonic() >= task.deadline:
                    self._timed_out(slot, process, conn, task)
        self._close_workers([(p, c) for _, p, c, _ in watched])

    def _dispatch(self) -> list[tuple[cf.Future, BaseException]]:
        """Under the lock: give each idle slot the next pending task (a process if it has none).
        Returns the futures of the tasks that could not be sent, to be failed once the lock is
        released (a done-callback may submit)."""
        echecs = []
        for slot in self._slots:
            while slot.task is None and self._pending:
                task = self._pending.popleft()
                if task.future.set_running_or_notify_cancel():
                    exc = self._send(slot, task)
                    if exc is not None:
                        echecs.append((task.future, exc))
        return echecs

    def _send(self, slot: _Slot, task: _Task) -> BaseException | None:
        payload = pickle.dumps(
            (task.marqueur, _environ(), _cwd(), task.call), protocol=pickle.HIGHEST_PROTOCOL
        )
        exitcode = None
        for _ in range(2):  # an idle worker may have died unnoticed: a new one, once
            if slot.process is None:
                try:
                    self._start(slot)
                except Exception as exc:
                    return exc
            try:
                slot.conn.send_bytes(payload)
            except (OSError, ValueError):
                process, conn = slot.process, slot.conn
                slot.process = slot.conn = None
                self._kill(process, conn, None)
                exitcode = process.exitcode
                continue
            task.deadline = time.monotonic() + task.delai_s if task.delai_s is not None else None
            slot.task = task
            return None
        return ProcessusArrete(exitcode)

    def _start(self, slot: _Slot) -> None:
        parent, child = self._ctx.Pipe(duplex=True)
        # a spawned process runs the initializer itself; a forked one inherited its imports
        init = None if self._fork else self._initializer
        inherited = [parent, *(s.conn for s in self._slots if s.conn is not None)] if self._fork else []
        proc = self._ctx.Process(target=_worker, args=(child, init, inherited), daemon=False)
        try:
            proc.start()
        except Exception:
            parent.close()
            raise
        finally:
            child.close()
        slot.process, slot.conn = proc, parent

    def _receive(self, slot: _Slot, process: Any, conn: Any, task: _Task) -> None:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):  # the worker died: its sentinel tells
            self._ended(slot, process, conn, task)
            return
        with self._lock:
            if slot.task is not task:
                return  # terminate() took it
            slot.task = None
        stop_marked(task.marqueur)  # a kernel the task left behind
        self._resolve(task, data)

    def _ended(self, slot: _Slot, process: Any, conn: Any, task: _Task | None) -> None:
        """The slot's process ended (killed, out of memory…), idle or during ``task``."""
        with self._lock:
            if slot.process is not process:
                return  # terminate() took it
            slot.process = slot.conn = None
            if task is not None and slot.task is task:
                slot.task = None
            else:
                task = None
        process.join(timeout=5)
        if process.is_alive():  # the pipe closed, the process not (yet) gone
            process.kill()
            process.join(timeout=10)
        data = None
        with contextlib.suppress(EOFError, OSError):
            if task is not None and conn.poll():
                data = conn.recv_bytes()
        with contextlib.suppress(OSError):
            conn.close()
        if task is None:
            return
        stop_marked(task.marqueur)  # a kernel left behind by a worker that died
        if data:
            self._resolve(task, data)
        elif not task.future.done():
            task.future.set_exception(ProcessusArrete(process.exitcode))

    def _timed_out(self, slot: _Slot, process: Any, conn: Any, task: _Task) -> None:
        with self._lock:
            if slot.task is not task or slot.process is not process:
                return  # terminate() took it
            slot.task = None
            slot.process = slot.conn = None
        self._kill(process, conn, task.marqueur)
        if not task.future.done():
            task.future.set_exception(DelaiDepasse(float(task.delai_s or 0)))

    @staticmethod
    def _resolve(task: _Task, data: bytes) -> None:
        try:
            ok, value = pickle.loads(data)
        except Exception as exc:  # a result or an exception that cannot be rebuilt here
            ok, value = False, ResultatIllisible(f"{type(exc).__name__} : {exc}")
        if task.future.done():
            return
        if ok:
            task.future.set_result(value)
        else:
            task.future.set_exception(value)

    @staticmethod
    def _kill(process: Any, conn: Any, marqueur: str | None) -> None:
        if process is not None:
            try:
                process.kill()
            except (OSError, ValueError):
                pass
            process.join(timeout=10)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()
        if marqueur is not None:
            stop_marked(marqueur)

    def _close_workers(self, workers: list) -> None:
        """Shutdown: each idle worker is asked to end, then waited for (killed past 5 s)."""
        for _, conn in workers:
            with contextlib.suppress(OSError, ValueError):
                conn.send_bytes(b"")
        deadline = time.monotonic() + 5
        for process, conn in workers:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                self._kill(process, None, None)
            with contextlib.suppress(OSError):
                conn.close()


#: The executors not shut down yet: at the interpreter's exit their tasks end and their workers
#: are told to stop (registered after multiprocessing's own exit handler, so run before it: that
#: one waits for every non-daemon process, idle workers included).
_ouverts: weakref.WeakSet[RunProcesses] = weakref.WeakSet()


@atexit.register
def _a_la_sortie() -> None:
    for executor in list(_ouverts):
        # what has not started is dropped: an exit must not run the rest of a queue
        executor.shutdown(wait=True, cancel_futures=True)


def _dask_executor(address: str | None, workers: int = 1) -> cf.Executor:
    """The Dask executor (``pipeline.distant``): on the cluster at ``address``, or on a
    LocalCluster of ``workers`` processes started for this batch when ``address`` is None."""
    from cucs_analysis.pipeline import distant

    return distant.ouvrir(address, workers)
