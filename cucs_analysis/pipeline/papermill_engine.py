"""papermill's nbclient engine, saving the executed notebook less often (engine name ``cucs``).

papermill writes the whole output notebook (validated JSON, figures in base64) when the
notebook starts, when each cell starts and when each cell ends: about 70 writes of a growing
0.5 MB file for a question's notebook, measured at about a sixth of a run's time. This engine
keeps the first and the last write (the last one also after a failed cell or a dead kernel, so
the notebook kept for diagnosis holds every output received) and, in between, saves at most
every `SAUVEGARDE_S` seconds (papermill's own `autosave_cell`), so that a run stopped from
outside (time limit, Ctrl-C) still leaves a notebook at most that old. Outputs are unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

NOM = "cucs"
#: Seconds between two saves of the executed notebook while it runs.
SAUVEGARDE_S = 5


class Gestionnaire(NotebookExecutionManager):
    """papermill's execution manager whose per-cell saves become throttled autosaves."""

    @contextlib.contextmanager
    def _sans_ecriture(self) -> Iterator[None]:
        chemin, self.output_path = self.output_path, None
        try:
            yield
        finally:
            self.output_path = chemin

    def cell_start(self, cell, cell_index=None, **kwargs):
        with self._sans_ecriture():
            super().cell_start(cell, cell_index, **kwargs)
        self.autosave_cell()

    def cell_complete(self, cell, cell_index=None, **kwargs):
        with self._sans_ecriture():
            super().cell_complete(cell, cell_index, **kwargs)
        self.autosave_cell()


class MoteurCucs(NBClientEngine):
    """NBClientEngine with `Gestionnaire` (papermill's `Engine.execute_notebook`, the
    manager's class aside)."""

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


papermill_engines.register(NOM, MoteurCucs)
