"""The one call every notebook makes after its parameters cell: `demarrer(...)`.

In JupyterLab (`parametres=None`) the parameters come from `params/`; under the runner they
are injected as a dict and validated by the same models. Errors reach the reader as one
French sentence, not a traceback through the library.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cucs_analysis.data.errors import DataError
from cucs_analysis.pipeline import results
from cucs_analysis.pipeline.params import (
    REGION,
    ParamError,
    Parametres,
    find_project_root,
    load_params,
    validate_params_dict,
)
from cucs_analysis.reports import questions

NOM_REGION = "Région"


class NotebookError(Exception):
    """A French message for the reader; IPython shows it without the library's traceback."""

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of formatting the full traceback.
        return [f"Erreur : {self}"]


@dataclass
class Contexte:
    """What a notebook works with: its question, commune, parameters and data."""

    question: str
    code_commune: str
    params: Parametres
    territoire: Any  # load.Territory; None for the regional run
    nom_commune: str
    dossier_resultats: Path
    racine: Path | None = None
    chemin_resultats: Path | None = field(default=None, init=False)

    @property
    def infos(self) -> questions.Question:
        return questions.get(self.question)

    @property
    def dossier_donnees(self) -> Path:
        return _data_dir(self.params, self.racine)

    @functools.cached_property
    def region(self):
        """The region stage (DiD, eligibility, typology): read from the results folder, or
        computed once and stored there (`pipeline.region`)."""
        from cucs_analysis.pipeline import region

        projet = [self.racine / "out" / "results"] if self.racine is not None else []
        try:
            return region.ensure(
                self.territoire.fingerprint, self.params, self.charger_jeu, self.dossier_resultats, *projet
            )
        except DataError as exc:
            raise NotebookError(str(exc)) from None

    def lire_resultats(self, code_commune: str | None = None) -> list[dict]:
        """The results files already written in this run's results folder (all communes, or one)."""
        return results.read_results(self.dossier_resultats, code_commune)

    def charger_jeu(self):
        """The whole data set (cached by `load`), e.g. for the regional synthesis."""
        load = importlib.import_module("cucs_analysis.data.dataset")
        try:
            return load.load_dataset(self.dossier_donnees)
        except DataError as exc:
            raise NotebookError(str(exc)) from None

    def ecrire_resultats(
        self, constats: list[str], reserves: list[str], chiffres_cles: list[dict], **cles: Any
    ) -> Path:
        """Write this run's results JSON (the contract of DESIGN.md §6) and remember its path."""
        cles.setdefault("nom_commune", self.nom_commune)
        try:
            path = results.write_results(
                self.dossier_resultats,
                self.question,
                self.code_commune,
                self.params.as_dict(),
                constats,
                reserves,
                chiffres_cles,
                **cles,
            )
        except (ValueError, TypeError) as exc:
            raise NotebookError(str(exc)) from None
        self.chemin_resultats = path
        return path


def _data_dir(params: Parametres, root: Path | None) -> Path:
    path = Path(params.donnees)
    if path.is_absolute() or root is None:
        return path
    return root / path


def _use_style() -> None:
    try:
        plots = importlib.import_module("cucs_analysis.present.plots")
    except ModuleNotFoundError as exc:
        if exc.name != "cucs_analysis.present.plots":
            raise
        return
    use_style = getattr(plots, "use_style", None)
    if callable(use_style):
        use_style()


def demarrer(
    question: str,
    code_commune: str,
    parametres: dict | None = None,
    dossier_resultats: str | None = None,
) -> Contexte:
    """Validate the parameters, load the commune's data and return the notebook's context."""
    try:
        questions.get(question)
    except KeyError as exc:
        raise NotebookError(exc.args[0]) from None
    try:
        if parametres is None:
            root: Path | None = find_project_root()
            params = load_params(code_commune, root)
        else:
            params = validate_params_dict(parametres, code_commune)
            root = _root_or_none()
        out = Path(dossier_resultats) if dossier_resultats else None
        if out is None:
            if root is None:
                root = find_project_root()
            out = root / "out" / "results"
        data_dir = _data_dir(params, root)
        load = importlib.import_module("cucs_analysis.data.dataset")
        if code_commune == REGION:
            territoire, nom = None, NOM_REGION
        else:
            territoire = load.load_territory(data_dir, code_commune)
            nom = str((territoire.commune or {}).get("nom") or code_commune)
    except (ParamError, DataError) as exc:
        raise NotebookError(str(exc)) from None
    _use_style()
    return Contexte(question, code_commune, params, territoire, nom, out, root)


def _root_or_none() -> Path | None:
    try:
        return find_project_root()
    except ParamError:
        return None
