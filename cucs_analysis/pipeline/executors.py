"""Where the runs execute: one ``concurrent.futures.Executor``, local processes or a Dask cluster.

The runner only uses the standard API on what :func:`open_executor` returns: ``submit``,
``concurrent.futures.as_completed``, ``Future.result``/``cancel`` and ``shutdown`` (or a
``with`` block). A run whose worker died shows up as a future whose ``result()`` raises
(``BrokenProcessPool`` locally, ``KilledWorker`` on Dask), never as a hang.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections.abc import Callable
from typing import Any

from cucs_analysis.pipeline.params import ParamError

#: The ``scheduler`` value meaning "a pool of local processes" (also the default, ``None``).
PROCESSES = "processes"


def open_executor(
    scheduler: str | None = PROCESSES, workers: int = 1, initializer: Callable[[], Any] | None = None
) -> cf.Executor:
    """An executor for ``scheduler``: ``"processes"`` (or ``None``) or a Dask scheduler address.

    ``"processes"``: a ``ProcessPoolExecutor`` of ``workers`` processes, forked where the
    platform allows it; ``initializer`` is run here first, so forked workers inherit what it
    imported, then once in each worker. An address (``tcp://host:8786``): the Dask client's
    executor (tasks are never cached as pure); ``workers`` and ``initializer`` do not apply, the
    cluster has its own. Shutting the executor down also closes the Dask client.

    Raises ``ParamError`` (French message) when Dask is not installed or the scheduler cannot
    be reached.
    """
    if scheduler in (None, PROCESSES):
        return _process_pool(max(1, workers), initializer)
    return _dask_executor(str(scheduler))


def _process_pool(workers: int, initializer: Callable[[], Any] | None) -> cf.ProcessPoolExecutor:
    if initializer is not None:
        initializer()
    # fork: workers inherit the imported modules (no re-import per worker)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    return cf.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context(method), initializer=initializer
    )


class _ClientExecutor(cf.Executor):
    """A Dask client's executor that also closes the client when it is shut down."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._executor = client.get_executor(pure=False)

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        try:
            # Dask's executor cancels what is left when it does not wait
            self._executor.shutdown(wait=wait and not cancel_futures)
        finally:
            self._client.close()


def _dask_executor(address: str) -> cf.Executor:
    try:
        from distributed import Client
    except ImportError:
        raise ParamError(
            "L'exécution sur un cluster Dask demande le paquet dask.distributed : "
            "installez l'option « cucs-analysis[dask] » ou lancez sans --scheduler."
        ) from None
    try:
        client = Client(address)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ParamError(
            f"Ordonnanceur Dask injoignable à l'adresse « {address} » ({exc}). Rien n'a été exécuté."
        ) from None
    return _ClientExecutor(client)
