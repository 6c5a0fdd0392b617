"""The one call every notebook makes after its parameters cell: `demarrer(...)`.

In JupyterLab (`parametres=None`) the parameters come from `params/`, with the notebook's
trial thresholds (`seuils`, a partial dict) merged on top, and results go to a scratch folder
(`out/brouillon/results`) that neither the runner nor the site reads. Under the runner they
are injected as a dict and validated by the same models, and results go where the runner says.
Errors reach the reader as one French sentence, not a traceback through the library.

A failed setup stops the notebook's story. A kernel kept across runs (JupyterLab) still holds
the previous commune's report and context, so `demarrer` first stops the display helpers
(`present.display.arreter`) and forgets the active context; only a setup cell that completes
without error shows again. Until then every display helper shows « Le carnet n'a pas
démarré : … » and a stale context refuses to write results.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cucs_analysis.data.errors import DataError
from cucs_analysis.pipeline import results
from cucs_analysis.pipeline.params import (
    FOURNIS,
    REGION,
    SEUILS,
    ParamError,
    Parametres,
    avertissements_donnees,
    check_code_commune,
    field_description,
    find_project_root,
    leaves,
    load_params_with_seuils,
    param_layers,
    source_of_leaf,
    validate_params_dict,
    value_at,
    verifier_donnees,
)
from cucs_analysis.present import display, text
from cucs_analysis.reports import questions

NOM_REGION = "Région"
#: Where interactive runs write their results, under the project root: never published.
BROUILLON = Path("out") / "brouillon" / "results"
#: The source shown for a threshold set in the notebook's `seuils`.
SOURCE_ESSAI = "essai dans le carnet"
SOURCE_RUNNER = "paramètres fournis par « cucs run »"
SOURCE_MODELE = "valeur par défaut du programme"


class NotebookError(Exception):
    """A French message for the reader; IPython shows it without the library's traceback."""

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of formatting the full traceback.
        return [f"Erreur : {self}"]


#: The context of the last setup that completed; None while none has (or after a failure).
_actif: Contexte | None = None


def contexte_actif() -> Contexte | None:
    """The context the notebook's display and results belong to, if its setup completed."""
    return _actif


class CheminResultats(type(Path())):  # type: ignore[misc]
    """The results file's path, shown to the analyst as one French sentence (a bare text
    result: the site drops it)."""

    brouillon = False

    def __repr__(self) -> str:
        if self.brouillon:
            return (
                f"Résultats enregistrés dans le brouillon : {self} "
                "(ni « cucs run » ni le site ne lisent ce dossier)."
            )
        return f"Résultats enregistrés : {self}"


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
    #: dotted leaf path → where its value comes from (file, trial in the notebook, runner)
    sources: dict[str, str] = field(default_factory=dict)
    #: results go to the scratch folder (interactive run without `dossier_resultats`)
    brouillon: bool = False
    chemin_resultats: Path | None = field(default=None, init=False)
    #: French warnings of the parameters (years absent from the data: `verifier_donnees`)
    avertissements: list[str] = field(default_factory=list)
    #: dotted leaf path → its warning, shown in « Paramètres utilisés »
    avertissements_cles: dict[str, str] = field(default_factory=dict)

    @property
    def infos(self) -> questions.Question:
        return questions.get(self.question)

    @property
    def actif(self) -> bool:
        """True while this is the context of the notebook's last completed setup."""
        return _actif is self

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
        """The results files already written in this run's results folder (all communes, or
        one). In the scratch folder of an interactive run, the project's `out/results` fill in
        the (commune, question) pairs not run interactively."""
        found = results.read_results(self.dossier_resultats, code_commune)
        if self.brouillon and self.racine is not None:
            have = {(r.get("code_commune"), r.get("question")) for r in found}
            projet = results.read_results(self.racine / "out" / "results", code_commune)
            found += [r for r in projet if (r.get("code_commune"), r.get("question")) not in have]
            found.sort(key=lambda r: (str(r.get("code_commune")), str(r.get("question"))))
        return found

    def questions_avec_carnet(self) -> tuple[str, ...]:
        """The questions whose notebook exists (the project's notebooks/, else the working
        folder, where both JupyterLab and « cucs run » start a notebook): a synthesis counts
        and lists only those."""
        dossiers = [self.racine / "notebooks"] if self.racine is not None else []
        for dossier in [*dossiers, Path.cwd()]:
            if dossier.is_dir() and (found := questions.avec_carnet(dossier)):
                return found
        return tuple(q.id for q in questions.QUESTIONS)

    def charger_jeu(self):
        """The whole data set (cached by `load`), e.g. for the regional synthesis."""
        load = importlib.import_module("cucs_analysis.data.dataset")
        try:
            return load.load_dataset(self.dossier_donnees)
        except DataError as exc:
            raise NotebookError(str(exc)) from None

    def vue_parametres(self) -> pd.DataFrame | None:
        """The thresholds this question uses (`Question.sections_parametres`), one row per
        leaf: its dotted path, its value and where it comes from; a view for `display.tableau`."""
        data = self.params.as_dict()
        rows = []
        for entry in self.infos.sections_parametres:
            loc = tuple(entry.split("."))
            try:
                value = value_at(data, loc)
            except KeyError:
                continue
            for leaf, v in leaves(value, loc):
                cle = ".".join(leaf)
                rows.append(
                    {
                        "parametre": cle,
                        "valeur": _valeur(self.params, leaf, v),
                        "source": self.sources.get(cle, SOURCE_MODELE),
                    }
                )
        df = pd.DataFrame(rows, columns=["parametre", "valeur", "source"])
        colonnes = {
            "parametre": ("Paramètre", "texte"),
            "valeur": ("Valeur", "texte"),
            "source": ("Source", "texte"),
        }
        # A year the data lack: the run went on, the reader sees why its page used another.
        df["avertissement"] = [self.avertissements_cles.get(c, "") for c in df["parametre"]]
        if df["avertissement"].ne("").any():
            colonnes["avertissement"] = ("Avertissement", "texte")
        return display.vue(df, colonnes, vide="aucun seuil propre à cette question")

    def ecrire_resultats(
        self,
        constats: Any,
        reserves: list[str] | None = None,
        chiffres_cles: list[dict] | None = None,
        **cles: Any,
    ) -> Path:
        """Write this run's results JSON (the contract of DESIGN.md §6) and remember its path.

        Takes a report (`ecrire_resultats(r)`: its `constats`, `reserves`, `chiffres_cles` and
        `resultats()`), or the three lists and the question's keys. Only the active context
        writes: after a failed setup, a stale context raises the notebook's stop message."""
        self._verifier_actif()
        if reserves is None and chiffres_cles is None and hasattr(constats, "constats"):
            rapport = constats
            resultats = getattr(rapport, "resultats", None)
            cles = {**(resultats() if callable(resultats) else {}), **cles}
            constats = rapport.constats
            reserves = getattr(rapport, "reserves", [])
            chiffres_cles = getattr(rapport, "chiffres_cles", [])
        cles.setdefault("nom_commune", self.nom_commune)
        # Every results file says whether the commune is in a CUCS: "hors CUCS" is not "no data".
        # A commune of unknown status writes null (neither signatory nor hors CUCS).
        if self.territoire is not None and hasattr(self.territoire, "signataire"):
            signataire = self.territoire.signataire
            cles.setdefault("signataire_cucs", None if signataire is None else bool(signataire))
        try:
            path = results.write_results(
                self.dossier_resultats,
                self.question,
                self.code_commune,
                self.params.as_dict(),
                constats,
                [] if reserves is None else reserves,
                [] if chiffres_cles is None else chiffres_cles,
                **cles,
            )
        except (ValueError, TypeError) as exc:
            raise NotebookError(str(exc)) from None
        chemin = CheminResultats(path)
        chemin.brouillon = self.brouillon
        self.chemin_resultats = chemin
        return chemin

    def _verifier_actif(self) -> None:
        if self.actif:
            return
        motif = display.motif_arret()
        if motif is not None:
            raise NotebookError(f"{display.phrase_arret(motif)} Aucun résultat n'est enregistré.")
        raise NotebookError(
            "Ce contexte n'est plus celui du carnet : la cellule de démarrage a été relancée depuis "
            "(ou ce contexte n'a pas été créé par demarrer). Aucun résultat n'est enregistré."
        )


def _valeur(params: Parametres, loc: tuple, value: Any) -> str:
    """A threshold as the analyst would type it, in French: 0,1 ; 2009 ; 2005, 2006."""
    if isinstance(value, list):
        return ", ".join(_valeur(params, loc, v) for v in value) or "(liste vide)"
    if value is None:
        return "vide (valeur du jeu de données)" if loc[-1:] == ("revenu_median_national",) else "vide"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        annee = "année" in (field_description(loc) or "")
        return str(value) if annee else text.nombre(value, 0)  # a year stays 2009, not 2 009
    if isinstance(value, float):
        return text.nombre_exact(value)
    return str(value)


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
    seuils: dict | None = None,
) -> Contexte:
    """Validate the parameters, load the commune's data and return the notebook's context.

    `seuils` (JupyterLab only): trial thresholds, a partial dict merged onto params/ and
    validated by the same models. Until the cell calling this completes without error, the
    display helpers show the stop line and no context writes results."""
    global _actif
    _actif = None
    display.arreter("démarrage en cours")
    try:
        ctx = _demarrer(question, code_commune, parametres, dossier_resultats, seuils)
    except NotebookError as exc:
        display.arreter(str(exc))
        raise
    except KeyboardInterrupt:
        display.arreter("démarrage interrompu")
        raise
    except Exception as exc:
        display.arreter(f"erreur inattendue ({type(exc).__name__} : {exc})")
        raise
    _actif = ctx
    display.reprendre()
    _surveiller_cellule(ctx)
    _use_style()
    return ctx


def _demarrer(
    question: str,
    code_commune: str,
    parametres: dict | None,
    dossier_resultats: str | None,
    seuils: dict | None,
) -> Contexte:
    try:
        questions.get(question)
    except KeyError as exc:
        raise NotebookError(exc.args[0]) from None
    try:
        check_code_commune(code_commune)
        if parametres is None:
            root: Path | None = find_project_root()
            params = load_params_with_seuils(code_commune, root, seuils)
            layers = param_layers(code_commune, root)
            sources = _sources_fichiers(params, layers, seuils)
            # where a value named in an error comes from: a params/ file or the notebook's trial
            couches, defaut, meme_valeur = [*layers, (SEUILS, seuils or {})], layers[-1][0], False
        else:
            if seuils:
                raise ParamError(
                    "seuils : les essais de seuils sont réservés à JupyterLab ; « cucs run » lit les "
                    "seuils dans params/. Remettez seuils = {} dans la cellule de paramètres, ou "
                    f"reportez ces valeurs dans params/{code_commune}.yaml"
                )
            params = validate_params_dict(parametres, code_commune)
            root = _root_or_none()
            layers = _layers_or_empty(root, code_commune)
            sources = _sources_runner(params, layers)
            couches, defaut, meme_valeur = layers, FOURNIS, True
        brouillon = False
        if dossier_resultats:
            out = Path(dossier_resultats)
        else:
            if root is None:
                root = find_project_root()
            brouillon = parametres is None
            out = root / (BROUILLON if brouillon else Path("out") / "results")
        data_dir = _data_dir(params, root)
        load = importlib.import_module("cucs_analysis.data.dataset")
        if code_commune == REGION:
            territoire, nom = None, NOM_REGION
        else:
            territoire = load.load_territory(data_dir, code_commune)
            nom = str((territoire.commune or {}).get("nom") or code_commune)
        # Indicators, quartiers and years named in the parameters exist in the data (the data
        # set is cached: load_territory has just read the same).
        dataset = load.load_dataset(data_dir)
        avertissements = verifier_donnees(params, dataset, couches, defaut, meme_valeur=meme_valeur)
        par_cle = {".".join(loc): msg for loc, msg in avertissements_donnees(params, dataset)}
    except (ParamError, DataError) as exc:
        raise NotebookError(str(exc)) from None
    ctx = Contexte(question, code_commune, params, territoire, nom, out, root, sources, brouillon)
    ctx.avertissements, ctx.avertissements_cles = avertissements, par_cle
    return ctx


def _sources_fichiers(params: Parametres, layers: list[tuple[str, dict]], seuils: dict | None) -> dict:
    """Leaf → the last layer setting it: a params/ file, or the notebook's trial."""
    named = [*layers, (SOURCE_ESSAI, seuils or {})]
    out = {}
    for loc, _ in leaves(params.as_dict()):
        found = source_of_leaf(named, loc)
        if found is not None:
            out[".".join(loc)] = found
    return out


def _layers_or_empty(root: Path | None, code_commune: str) -> list[tuple[str, dict]]:
    """The project's params/ files for this commune, to name where injected values come from."""
    if root is None:
        return []
    try:
        return param_layers(code_commune, root)
    except ParamError:
        return []


def _sources_runner(params: Parametres, layers: list[tuple[str, dict]]) -> dict:
    """Leaf → the params/ file whose value the runner injected, else the runner itself."""
    out = {}
    for loc, value in leaves(params.as_dict()):
        found = source_of_leaf(layers, loc, value, check=True)
        out[".".join(loc)] = found or SOURCE_RUNNER
    return out


def _surveiller_cellule(ctx: Contexte) -> None:
    """Under IPython: when the cell that called `demarrer` ends with an error after it (the
    report's build, the region stage…), stop the display and forget the context as if the
    setup had failed, since the names the notebook reads may still be the previous run's."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return
    shell = get_ipython()
    if shell is None:
        return

    def apres_cellule(result) -> None:
        global _actif
        shell.events.unregister("post_run_cell", apres_cellule)
        erreur = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
        if erreur is None or _actif is not ctx:
            return
        _actif = None
        motif = str(erreur) if isinstance(erreur, NotebookError) else None
        display.arreter(motif or f"la cellule de démarrage a échoué ({type(erreur).__name__} : {erreur})")

    shell.events.register("post_run_cell", apres_cellule)


def _root_or_none() -> Path | None:
    try:
        return find_project_root()
    except ParamError:
        return None
