"""The local executor (`executors.RunProcesses`): one long-lived process per slot.

Each slot's process runs task after task; it is replaced only when it must be (a task past its
time limit, a process that died, Ctrl-C). Every task sees its own marker and the driver's
environment and folder, never what the previous task left in the process. The task functions
are at module level: the executor pickles them by name.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from cucs_analysis.pipeline import executors

# --- tasks (run in the workers) ---------------------------------------------------------------------


def pid() -> int:
    return os.getpid()


def marker_and_pid() -> tuple[str | None, int]:
    return os.environ.get(executors.MARQUEUR), os.getpid()


def write_pid_then_sleep(path: str, seconds: float = 60) -> int:
    Path(path).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(seconds)
    return os.getpid()


def leave_traces() -> int:
    """A task that changes its process: an environment variable, the folder."""
    os.environ["CUCS_TEST_TRACE"] = "laissee"
    os.chdir("/")
    return os.getpid()


def what_it_sees() -> tuple[str | None, str, str | None, int]:
    return os.environ.get("CUCS_TEST_TRACE"), os.getcwd(), os.environ.get(executors.MARQUEUR), os.getpid()


def frozen_objects() -> int:
    import gc

    return gc.get_freeze_count()


def sleep_then_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def unpicklable_result() -> threading.Lock:
    return threading.Lock()


def _refuse(*_args: object) -> None:
    raise TypeError("reconstruction refusée")


class NotRebuilt:
    """Pickled in the worker, but cannot be rebuilt in the driver."""

    def __reduce__(self):
        return (_refuse, ("a",))


def not_rebuilt() -> NotRebuilt:
    return NotRebuilt()


def raise_value_error() -> None:
    raise ValueError("mauvaise valeur")


def start_orphan() -> int:
    """A task that leaves a process behind (as a kernel whose worker lost track of it)."""
    return subprocess.Popen(["sleep", "60"]).pid


def big_result() -> bytes:
    return b"x" * (4 << 20)


def append_pid(path: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{os.getpid()}\n")


class _Initializer:
    def __init__(self, path: str):
        self.path = path

    def __call__(self) -> None:
        append_pid(self.path)


# --- helpers ---------------------------------------------------------------------------------------


def _wait_file(path: Path, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and path.read_text(encoding="utf-8"):
            return path.read_text(encoding="utf-8")
        time.sleep(0.02)
    raise AssertionError(f"{path} never written")


def _gone(p: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if psutil.Process(p).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def _children() -> set[int]:
    return {c.pid for c in psutil.Process().children(recursive=True)}


@pytest.fixture
def pool():
    ex = executors.RunProcesses(1)
    yield ex
    ex.terminate()


# --- one process per slot --------------------------------------------------------------------------


def test_the_tasks_of_a_slot_run_one_after_the_other_in_one_process():
    with executors.RunProcesses(1) as ex:
        pids = [ex.submit(pid).result(timeout=30) for _ in range(5)]
    assert len(set(pids)) == 1 and pids[0] != os.getpid()
    assert _gone(pids[0])

    with executors.RunProcesses(2) as ex:
        futures = [ex.submit(pid) for _ in range(10)]
        pids = [f.result(timeout=30) for f in futures]
    assert 1 <= len(set(pids)) <= 2 and os.getpid() not in pids


def test_a_task_past_its_limit_kills_its_process_and_the_next_runs_in_a_new_one(pool, tmp_path):
    first = pool.submit(pid).result(timeout=30)
    flag = tmp_path / "lent.pid"
    started = time.monotonic()
    slow = pool.submit_run(write_pid_then_sleep, str(flag), delai_s=1.0)
    with pytest.raises(executors.DelaiDepasse) as exc:
        slow.result(timeout=30)
    assert exc.value.delai_s == 1.0 and time.monotonic() - started < 10
    assert int(_wait_file(flag)) == first  # it ran in the slot's process…
    assert _gone(first)  # …which was killed with it
    after = pool.submit(pid).result(timeout=30)
    assert after != first
    assert pool.submit(pid).result(timeout=30) == after  # and the new one stays


def test_a_worker_killed_mid_task_fails_alone_and_the_next_task_runs(pool, tmp_path):
    first = pool.submit(pid).result(timeout=30)
    flag = tmp_path / "tue.pid"
    fut = pool.submit(write_pid_then_sleep, str(flag))
    worker = int(_wait_file(flag))
    assert worker == first
    os.kill(worker, signal.SIGKILL)
    with pytest.raises(executors.ProcessusArrete) as exc:
        fut.result(timeout=30)
    assert exc.value.exitcode == -signal.SIGKILL
    after = pool.submit(pid).result(timeout=30)
    assert after != worker


def test_an_idle_worker_that_died_is_replaced(pool):
    first = pool.submit(pid).result(timeout=30)
    os.kill(first, signal.SIGKILL)
    assert _gone(first)
    assert pool.submit(pid).result(timeout=30) not in (first, None)


def test_terminate_mid_batch_stops_the_running_cancels_the_pending(tmp_path):
    ex = executors.RunProcesses(2)
    flags = [tmp_path / f"{i}.pid" for i in range(4)]
    futures = [ex.submit(write_pid_then_sleep, str(f)) for f in flags]
    workers = {int(_wait_file(f)) for f in flags[:2]}
    assert len(workers) == 2
    stopped = ex.terminate()
    assert set(stopped) == set(futures[:2])
    for f in futures[:2]:
        with pytest.raises(executors.Interrompu):
            f.result(timeout=10)
    assert all(f.cancelled() for f in futures[2:])
    assert not any(f.exists() for f in flags[2:])
    assert all(_gone(w) for w in workers)
    assert not workers & _children()
    with pytest.raises(RuntimeError, match="exécuteur arrêté"):
        ex.submit(pid)


def test_shutdown_ends_the_workers_and_leaves_no_process():
    ex = executors.RunProcesses(2)
    futures = [ex.submit(pid) for _ in range(6)]
    workers = {f.result(timeout=30) for f in futures}
    assert workers <= _children()  # alive between tasks
    ex.shutdown(wait=True)
    assert not workers & _children()  # ended and reaped: not even zombies
    assert all(_gone(w, timeout=0) for w in workers)
    assert not ex._thread.is_alive()


def test_shutdown_without_waiting_lets_the_tasks_finish(tmp_path):
    ex = executors.RunProcesses(1)
    futures = [ex.submit(pid) for _ in range(3)]
    ex.shutdown(wait=False)
    assert len({f.result(timeout=30) for f in futures}) == 1
    ex._thread.join(timeout=30)
    assert not ex._thread.is_alive()


# --- what crosses the pipe ---------------------------------------------------------------------------


def test_an_unpicklable_result_or_exception_is_a_french_runtime_error_and_the_worker_goes_on(pool):
    first = pool.submit(pid).result(timeout=30)
    with pytest.raises(executors.ResultatIllisible, match=r"^TypeError : .*pickle"):
        pool.submit(unpicklable_result).result(timeout=30)
    # a result pickled in the worker that cannot be rebuilt here: the executor goes on
    with pytest.raises(executors.ResultatIllisible, match=r"^TypeError : reconstruction refusée"):
        pool.submit(not_rebuilt).result(timeout=30)
    with pytest.raises(ValueError, match="mauvaise valeur"):
        pool.submit(raise_value_error).result(timeout=30)
    assert pool.submit(pid).result(timeout=30) == first
    assert len(pool.submit(big_result).result(timeout=30)) == 4 << 20


def test_a_task_that_cannot_be_sent_is_refused_in_french(pool):
    with pytest.raises(RuntimeError, match="tâche impossible à transmettre au processus d'exécution"):
        pool.submit(lambda: 1)
    assert pool.submit(pid).result(timeout=30) != os.getpid()


# --- nothing of the previous task ------------------------------------------------------------------------


def test_each_task_sees_its_own_marker_and_nothing_of_the_previous_task(pool):
    seen = [pool.submit(marker_and_pid).result(timeout=30) for _ in range(4)]
    markers, pids = zip(*seen, strict=True)
    assert len(set(pids)) == 1  # one process…
    assert len(set(markers)) == 4 and all(markers)  # …a fresh marker per task
    assert executors.MARQUEUR not in os.environ

    assert pool.submit(leave_traces).result(timeout=30) == pids[0]
    trace, cwd, marker, worker = pool.submit(what_it_sees).result(timeout=30)
    assert worker == pids[0]
    assert trace is None and cwd == os.getcwd()
    assert marker not in markers


def test_what_a_task_leaves_behind_is_killed_before_its_result(pool):
    orphan = pool.submit(start_orphan).result(timeout=30)
    assert _gone(orphan, timeout=0)


# --- spawn platforms: the initializer once per process -----------------------------------------------


def test_a_spawned_worker_runs_the_initializer_once(tmp_path):
    log = tmp_path / "init.txt"
    ex = executors.RunProcesses(1, initializer=_Initializer(str(log)))
    ex._ctx, ex._fork = multiprocessing.get_context("spawn"), False
    try:
        pids = {ex.submit(pid).result(timeout=60) for _ in range(3)}
    finally:
        ex.shutdown()
    assert len(pids) == 1 and os.getpid() not in pids
    assert log.read_text(encoding="utf-8").split() == [str(p) for p in pids]  # once


def test_as_a_concurrent_futures_executor():
    with executors.RunProcesses(2) as ex:
        futures = [ex.submit(pow, 2, i) for i in range(6)]
        assert sorted(f.result() for f in cf.as_completed(futures)) == [1, 2, 4, 8, 16, 32]


def _script(path: Path, corps: str) -> Path:
    """A script run in a child process: this module as ``t``, an executor ``ex`` of one slot."""
    path.write_text(
        "import sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from cucs_analysis.pipeline import executors\n"
        "import test_executors as t\n"
        "ex = executors.RunProcesses(1)\n" + corps,
        encoding="utf-8",
    )
    return path


def test_a_done_callback_may_submit_even_when_a_task_cannot_be_sent(tmp_path):
    """A future failed while the executor's lock was held would run its callbacks under it:
    one that submits would deadlock the management thread (run in a child process, so that a
    deadlock fails the test instead of hanging it)."""
    script = _script(
        tmp_path / "rappel.py",
        "def refus(slot):\n"
        "    raise OSError('pas de processus')\n"
        "ex._start = refus\n"
        "suivante = []\n"
        "premiere = ex.submit(t.pid)\n"
        "premiere.add_done_callback(lambda f: suivante.append(ex.submit(t.pid)))\n"
        "assert isinstance(premiere.exception(timeout=10), OSError)\n"
        "deadline = time.monotonic() + 10\n"
        "while not suivante and time.monotonic() < deadline:\n"
        "    time.sleep(0.01)\n"
        "assert suivante, 'the callback never ran'\n"
        "assert isinstance(suivante[0].exception(timeout=10), OSError)\n"
        "ex.shutdown(wait=True, cancel_futures=True)\n"
        "print('ok')\n",
    )
    try:
        out = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=40, cwd=tmp_path
        )
    except subprocess.TimeoutExpired:
        raise AssertionError("deadlock: a callback that submits froze the executor") from None
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_at_exit_the_tasks_not_started_are_dropped(tmp_path):
    """An executor never shut down: the interpreter's exit ends the running task, not the
    whole queue."""
    script = _script(
        tmp_path / "sortie.py",
        "futures = [ex.submit(t.sleep_then_pid, 1.0) for _ in range(6)]\ntime.sleep(0.5)\n",
    )
    debut = time.monotonic()
    subprocess.run([sys.executable, str(script)], check=True, timeout=60, cwd=tmp_path)
    assert time.monotonic() - debut < 4.5  # six tasks of 1 s would take over 6 s


def test_a_worker_never_scans_what_it_inherited(pool):
    """A collection writes every scanned object's header: in a forked worker, a private copy of
    each page it inherited from the driver (its own heap rose by 37 MiB over 100 q1 runs). The
    worker freezes what it inherited (`make memoire`: flat)."""
    import gc

    assert pool.submit(frozen_objects).result(timeout=30) > max(1000, gc.get_freeze_count())
