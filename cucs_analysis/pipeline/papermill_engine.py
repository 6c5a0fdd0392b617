"""papermill's nbclient engine, saving the executed notebook less often (engine name ``cucs``).

papermill writes the whole output notebook (validated JSON, figures in base64) when the
notebook starts, when each cell starts and when each cell ends: about 70 writes of a growing
0.5 MB file for a question's notebook, measured at about a sixth of a run's time. This engine
keeps the first and the last write (the last one also after a failed cell or a dead kernel, so
the notebook kept for diagnosis holds every output received) and, in between, saves at most
every `SAUVEGARDE_S` seconds (papermill's own `autosave_cell`), so that a run stopped from
outside (time limit, Ctrl-C) still leaves a notebook at most that old. Outputs are unchanged.

The kernel client is also made ready without jupyter_client's final IOPub flush: after the
`kernel_info` reply, `wait_for_ready` reads IOPub until 0.2 s of silence, a constant 0.2 s
per notebook. Here IOPub is read only up to the `idle` status of that `kernel_info` request
(the last message it causes); anything left is ignored anyway, since nbclient keeps only the
messages whose parent is the cell's own request. The client's sockets retry connecting every
`RECONNEXION_MS` milliseconds instead of ZMQ's 100: a kernel forked from a warm template binds
its ports about 0.05 s after the fork, when the client has already tried once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from queue import Empty

import zmq
from jupyter_client.utils import ensure_async
from nbclient.util import run_hook, run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args

NOM = "cucs"
#: Seconds between two saves of the executed notebook while it runs.
SAUVEGARDE_S = 5


class Gestionnaire(NotebookExecutionManager):
    """papermill's execution manager whose per-cell saves become throttled autosaves."""

    @contextlib.contextmanager
    def _sans_ecriture(self) -> Iterator[None]:
        # papermill's `save()` resets `last_save_time` even when it writes nothing: the time
        # of the last real write is put back, or `autosave_cell` would never find it old
        chemin, self.output_path = self.output_path, None
        derniere = self.last_save_time
        try:
            yield
        finally:
            self.output_path = chemin
            self.last_save_time = derniere

    def cell_start(self, cell, cell_index=None, **kwargs):
        with self._sans_ecriture():
            super().cell_start(cell, cell_index, **kwargs)
        self.autosave_cell()

    def cell_complete(self, cell, cell_index=None, **kwargs):
        with self._sans_ecriture():
            super().cell_complete(cell, cell_index, **kwargs)
        self.autosave_cell()


#: Longest wait for one IOPub message after the `kernel_info` reply (jupyter_client's value).
_ATTENTE_IOPUB_S = 0.2
#: Milliseconds between two attempts of the client's sockets to connect to the kernel, at
#: first; ZMQ doubles the interval after each failure up to `RECONNEXION_MAX_MS`.
RECONNEXION_MS = 5
RECONNEXION_MAX_MS = 100


async def pret(kc, timeout: float | None = None) -> None:
    """jupyter_client's `wait_for_ready` for a client made by its kernel manager, without the
    final wait for 0.2 s of IOPub silence (same errors, same messages)."""
    limite = time.time() + (float("inf") if timeout is None else timeout)
    while True:
        demande = kc.kernel_info()
        try:
            msg = await ensure_async(kc.shell_channel.get_msg(timeout=1))
        except Empty:
            pass
        else:
            if msg["msg_type"] == "kernel_info_reply":
                # IOPub is connected once a message comes through it (else start over)
                try:
                    iopub = await ensure_async(kc.iopub_channel.get_msg(timeout=_ATTENTE_IOPUB_S))
                except Empty:
                    pass
                else:
                    kc._handle_kernel_info_reply(msg)
                    parent = msg["parent_header"].get("msg_id", demande)
                    await _jusqu_au_repos(kc, iopub, parent)
                    return
        if not await ensure_async(kc.is_alive()):
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.time() > limite:
            raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")


async def _jusqu_au_repos(kc, msg, parent: str) -> None:
    """Reads IOPub up to the `idle` status of request `parent` (at most 0.2 s per message)."""
    while not (
        msg["msg_type"] == "status"
        and msg["content"].get("execution_state") == "idle"
        and msg["parent_header"].get("msg_id") == parent
    ):
        try:
            msg = await ensure_async(kc.iopub_channel.get_msg(timeout=_ATTENTE_IOPUB_S))
        except Empty:
            return


class ClientCucs(PapermillNotebookClient):
    """papermill's notebook client whose kernel client is made ready by `pret`."""

    async def async_start_new_kernel_client(self):
        assert self.km is not None
        try:
            self.kc = self.km.client()
            # ZMQ retries a refused connection every 0.1 s: a forked kernel binds its ports
            # about 0.05 s after the fork, so the first retry came 0.05 s too late
            self.kc.context.setsockopt(zmq.RECONNECT_IVL, RECONNEXION_MS)
            # backing off to ZMQ's 0.1 s: a standard kernel binds after its imports (1-2 s)
            self.kc.context.setsockopt(zmq.RECONNECT_IVL_MAX, RECONNEXION_MAX_MS)
            await ensure_async(self.kc.start_channels())
            await pret(self.kc, timeout=self.startup_timeout)
        except Exception as e:
            self.log.error(
                "Error occurred while starting new kernel client for kernel {}: {}".format(
                    getattr(self.km, "kernel_id", None), str(e)
                )
            )
            await self._async_cleanup_kernel()
            raise
        self.kc.allow_stdin = False
        await run_hook(self.on_notebook_start, notebook=self.nb)
        return self.kc

    # nbclient's synchronous `setup_kernel` (papermill's path) calls this one, bound to the
    # coroutine of its own class
    start_new_kernel_client = run_sync(async_start_new_kernel_client)


class MoteurCucs(NBClientEngine):
    """NBClientEngine with `Gestionnaire` and `ClientCucs` (papermill's
    `Engine.execute_notebook` and `NBClientEngine.execute_managed_notebook`, the classes
    aside)."""

    @classmethod
    def execute_notebook(
        cls,
        nb,
        kernel_name,
        output_path=None,
        progress_bar=True,
        log_output=False,
        autosave_cell_every=SAUVEGARDE_S,
        **kwargs,
    ):
        nb_man = Gestionnaire(
            nb,
            output_path=output_path,
            progress_bar=progress_bar,
            log_output=log_output,
            autosave_cell_every=autosave_cell_every,
        )
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        **kwargs,
    ):
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            safe_kwargs,
            timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        return ClientCucs(nb_man, **final_kwargs).execute()


papermill_engines.register(NOM, MoteurCucs)
