"""Where the runs execute: one ``concurrent.futures.Executor``, local processes or a Dask cluster.

The runner only uses the standard API on what :func:`open_executor` returns: ``submit``,
``concurrent.futures.as_completed``, ``Future.result``/``cancel`` and ``shutdown`` (or a
``with`` block). A run whose worker died shows up as a future whose ``result()`` raises
(:class:`ProcessusArrete` locally, ``KilledWorker`` on Dask), never as a hang.

Locally (:class:`RunProcesses`) each task gets a fresh process of its own, at most ``workers``
at a time, so that one run can be stopped without touching the others: a task past its time
limit (``submit_run(..., delai_s=)``) or whose process died fails alone
(:class:`DelaiDepasse`, :class:`ProcessusArrete`) while the next tasks start; ``terminate``
stops everything (Ctrl-C). Every process a task starts (the notebook's kernel included)
carries an environment marker, so a stopped task leaves no orphan behind; a warm kernel
(forked by a template, `kernels`) is found and killed through its template instead.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import multiprocessing
import multiprocessing.connection
import os
import secrets
import signal
import sys
import threading
import time
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

    ``"processes"``: a ``ProcessPoolExecutor`` of ``workers`` processes, forked where the
    platform allows it; ``initializer`` is run here first, so forked workers inherit what it
    imported, then once in each worker. An address (``tcp://host:8786``): the Dask client's
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


# --- local processes: one per task ---------------------------------------------------------------

#: Environment variable marking every process started for one task (its worker, the kernel…).
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


class Interrompu(Exception):
    """The task was stopped by `RunProcesses.terminate` (Ctrl-C)."""


def _child(conn: Any, fn: Callable, args: tuple, kwargs: dict, marqueur: str, initializer: Any) -> None:
    """Body of a task's process: run ``fn`` and send back its result (or its exception)."""
    # Ctrl-C in a terminal reaches the whole process group: the driver alone decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ[MARQUEUR] = marqueur  # inherited by the kernel and anything it starts
    # Forked from the management thread while the main one may be writing the progress bar:
    # the inherited sys.stdout/sys.stderr could hold a lock nobody will release here.
    for name, fd in (("stdout", 1), ("stderr", 2)):
        encoding = getattr(getattr(sys, name, None), "encoding", None) or "utf-8"
        try:
            stream = open(fd, "w", encoding=encoding, errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115
        except (OSError, LookupError):
            continue
        setattr(sys, name, stream)
    try:
        if initializer is not None:
            initializer()
        value: tuple = (True, fn(*args, **kwargs))
    except BaseException as exc:  # sent to the driver, raised there by Future.result()
        value = (False, exc)
    try:
        conn.send(value)
    except Exception as exc:  # an exception or a value that cannot be pickled
        conn.send((False, RuntimeError(f"{type(exc).__name__} : {exc}")))
    conn.close()


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
class _Slot:
    future: cf.Future
    process: Any
    conn: Any
    marqueur: str
    deadline: float | None
    delai_s: float | None
    message: tuple | None = None
    started: float = field(default_factory=time.monotonic)


class RunProcesses(cf.Executor):
    """A ``concurrent.futures.Executor`` running each task in a new process (forked where the
    platform allows it, so it inherits the imported modules), at most ``workers`` at a time.

    ``submit_run(fn, *args, delai_s=…)`` gives a task a time limit: past it, its processes are
    killed and its future raises :class:`DelaiDepasse`. A task whose process dies raises
    :class:`ProcessusArrete`; the others are not affected. ``terminate()`` kills the running
    tasks (their futures raise :class:`Interrompu`) and cancels the pending ones. After every
    task, the processes it left (a kernel whose worker died) are killed.
    """

    _POLL_S = 0.1

    def __init__(self, workers: int = 1, initializer: Callable[[], Any] | None = None):
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        self._ctx = multiprocessing.get_context(method)
        self._fork = method == "fork"
        self._initializer = initializer
        self._workers = max(1, workers)
        self._pending: collections.deque = collections.deque()
        self._running: list[_Slot] = []
        self._lock = threading.Lock()
        self._shutdown = False
        self._thread = threading.Thread(target=self._manage, name="cucs-executions", daemon=True)
        self._thread.start()

    # -- the Executor API
    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        return self.submit_run(fn, *args, delai_s=None, **kwargs)

    def submit_run(self, fn, /, *args, delai_s: float | None = None, **kwargs) -> cf.Future:
        """``submit`` with a time limit in seconds (None: none)."""
        future: cf.Future = cf.Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("exécuteur arrêté : aucun nouveau carnet ne peut être lancé")
            self._pending.append((future, fn, args, kwargs, delai_s))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while self._pending:
                    self._pending.popleft()[0].cancel()
        if wait:
            self._thread.join()

    def terminate(self) -> list[cf.Future]:
        """Stop now: cancel the pending tasks, kill the running ones and everything they started.
        Returns the futures of the tasks that were running (they raise :class:`Interrompu`)."""
        with self._lock:
            self._shutdown = True
            while self._pending:
                self._pending.popleft()[0].cancel()
            slots, self._running = self._running, []
        for slot in slots:
            self._kill(slot)
            if not slot.future.done():
                slot.future.set_exception(Interrompu())
        self._thread.join(timeout=10)
        return [s.future for s in slots]

    # -- the management thread
    def _start(self, future, fn, args, kwargs, delai_s) -> _Slot | None:
        if not future.set_running_or_notify_cancel():
            return None
        parent, child = self._ctx.Pipe(duplex=False)
        marqueur = secrets.token_hex(12)
        # a spawned process runs the initializer itself; a forked one inherited its imports
        init = None if self._fork else self._initializer
        proc = self._ctx.Process(target=_child, args=(child, fn, args, kwargs, marqueur, init), daemon=False)
        try:
            proc.start()
        except Exception as exc:
            parent.close()
            future.set_exception(exc)
            return None
        finally:
            child.close()
        deadline = time.monotonic() + delai_s if delai_s is not None else None
        return _Slot(future, proc, parent, marqueur, deadline, delai_s)

    def _manage(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # never leave a future waiting forever
            with self._lock:
                self._shutdown = True
                slots, self._running = self._running, []
                pending = list(self._pending)
                self._pending.clear()
            for slot in slots:
                self._kill(slot)
            for future in [s.future for s in slots] + [p[0] for p in pending]:
                if not future.done():
                    future.set_exception(exc)

    def _loop(self) -> None:
        while True:
            with self._lock:
                while self._pending and len(self._running) < self._workers:
                    slot = self._start(*self._pending.popleft())
                    if slot is not None:
                        self._running.append(slot)
                running = list(self._running)
                if not running and not self._pending and self._shutdown:
                    return
            if not running:
                time.sleep(self._POLL_S)
                continue
            waits = [s.process.sentinel for s in running] + [s.conn for s in running if s.message is None]
            now = time.monotonic()
            deadlines = [s.deadline - now for s in running if s.deadline is not None]
            timeout = max(0.0, min([self._POLL_S * 5, *deadlines]))
            try:
                ready = set(multiprocessing.connection.wait(waits, timeout=timeout))
            except (OSError, ValueError):  # a slot closed by terminate() meanwhile
                continue
            for slot in running:
                if slot.message is None and slot.conn in ready:
                    self._receive(slot)
                if slot.process.sentinel in ready:
                    self._finish(slot)
                elif slot.deadline is not None and time.monotonic() >= slot.deadline:
                    self._finish(slot, timed_out=True)

    def _receive(self, slot: _Slot) -> None:
        try:
            slot.message = slot.conn.recv()
        except (EOFError, OSError):
            slot.message = None

    def _finish(self, slot: _Slot, timed_out: bool = False) -> None:
        with self._lock:
            if slot not in self._running:
                return  # terminate() took it
            self._running.remove(slot)
        if timed_out:
            self._kill(slot)
        else:
            slot.process.join()
            if slot.message is None and slot.conn.poll():
                self._receive(slot)
            slot.conn.close()
            stop_marked(slot.marqueur)  # a kernel left behind by a worker that died
        if slot.future.done():
            return
        if timed_out:
            slot.future.set_exception(DelaiDepasse(float(slot.delai_s or 0)))
        elif slot.message is None:
            slot.future.set_exception(ProcessusArrete(slot.process.exitcode))
        elif slot.message[0]:
            slot.future.set_result(slot.message[1])
        else:
            slot.future.set_exception(slot.message[1])

    def _kill(self, slot: _Slot) -> None:
        try:
            slot.process.kill()
        except (OSError, ValueError):
            pass
        slot.process.join(timeout=10)
        try:
            slot.conn.close()
        except OSError:
            pass
        stop_marked(slot.marqueur)


def _dask_executor(address: str | None, workers: int = 1) -> cf.Executor:
    """The Dask executor (``pipeline.distant``): on the cluster at ``address``, or on a
    LocalCluster of ``workers`` processes started for this batch when ``address`` is None."""
    from cucs_analysis.pipeline import distant

    return distant.ouvrir(address, workers)
