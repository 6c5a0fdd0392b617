"""Batch execution of the notebooks (papermill API) in long-lived worker processes.

One driver validates the parameters and the data once, plans the runs (commune × question),
skips unchanged runs with `resume`, executes the rest in a process pool (or on a Dask
cluster), writes `out/manifest.json` atomically, then publishes the site. A failing run is
recorded and never stops the others.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import hashlib
import importlib
import json
import os
import platform
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cucs_analysis import __version__
from cucs_analysis.data.schema import PATTERN_COMMUNE
from cucs_analysis.pipeline import atomic, executors, kernels, region
from cucs_analysis.pipeline.params import (
    FOURNIS,
    REGION,
    ParamError,
    commune_param_files,
    load_params,
    messages_donnees,
    param_layers,
    validate_all,
    validate_params_dict,
)
from cucs_analysis.pipeline.region import library_digest
from cucs_analysis.pipeline.results import results_path
from cucs_analysis.present import text
from cucs_analysis.reports import questions

NOTEBOOKS_DIR = "notebooks"
MANIFEST = "manifest.json"
# Phases run one after the other: the syntheses read the results of the questions.
_PHASE_SYNTHESE = "synthese"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class RunSummary:
    """What `run` did; `exit_code` is 1 when a run (or the site) failed."""

    executes: int = 0
    echecs: int = 0
    inchanges: int = 0
    sans_tables: int = 0  # runs not executed: a table their notebook needs is absent
    absents: list[str] = field(default_factory=list)  # notebooks not written yet
    exit_code: int = 0
    manifest: Path | None = None
    site_index: Path | None = None
    entrees: list[dict] = field(default_factory=list)
    message: str = ""


# --- planning and hashing (pure) ----------------------------------------------------------------


def _phase(q: questions.Question) -> int:
    if q.regional:
        return 2
    return 1 if q.id == _PHASE_SYNTHESE else 0


def plan_runs(
    notebooks_dir: Path, communes: list[str], question_ids: list[str] | None
) -> tuple[list[tuple[str, questions.Question]], list[str]]:
    """Runs (code_commune, question) in execution order, and the notebooks that are missing."""
    selected = [questions.get(q) for q in question_ids] if question_ids else list(questions.QUESTIONS)
    selected = sorted(dict.fromkeys(selected), key=lambda q: (_phase(q), questions.QUESTIONS.index(q)))
    runs, missing = [], []
    for q in selected:
        if not (notebooks_dir / q.notebook).is_file():
            missing.append(q.notebook)
            continue
        runs.extend([(REGION, q)] if q.regional else [(c, q) for c in communes])
    return runs, missing


def input_hash(
    notebook: bytes, parametres: dict, fingerprint: str, version: str, dependances: str = ""
) -> str:
    """Hash of everything a run depends on (notebook, merged parameters, data, library)."""
    h = hashlib.sha256()
    for part in (
        notebook,
        json.dumps(parametres, sort_keys=True, ensure_ascii=False).encode(),
        fingerprint.encode(),
        version.encode(),
        dependances.encode(),
    ):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def summarize_error(exc: BaseException, limit: int = 400) -> str:
    """Short French summary: exception name and message, and the failing cell's first line."""
    ename = getattr(exc, "ename", None)
    if ename is not None:  # papermill's PapermillExecutionError
        evalue = _ANSI.sub("", str(getattr(exc, "evalue", "") or "")).strip()
        source = str(getattr(exc, "source", "") or "").strip()
        first = source.splitlines()[0].strip() if source else ""
        count = getattr(exc, "exec_count", None)
        summary = f"{ename} : {evalue}" if evalue else str(ename)
        where = f"cellule {count}" if count is not None else "une cellule"
        summary = f"{summary} ({where} : « {first} »)" if first else f"{summary} ({where})"
    else:
        summary = f"{type(exc).__name__} : {exc}"
    summary = " ".join(summary.split())
    return summary if len(summary) <= limit else summary[: limit - 1] + "…"


def _versions() -> dict[str, str]:
    import pandas
    import papermill

    return {
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "papermill": papermill.__version__,
        "cucs_analysis": __version__,
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


# --- the worker ---------------------------------------------------------------------------------


def _warm_up() -> None:
    """Import the heavy modules once per worker (inherited when the pool forks)."""
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401

    importlib.import_module("cucs_analysis.pipeline.papermill_engine")
    publish = importlib.import_module("cucs_analysis.pipeline.publish")
    # the page exporter and its compiled template, built once here and inherited by the workers
    warm_up = getattr(publish, "warm_up", None)
    if callable(warm_up):
        warm_up()


def _backup_paths(result: Path) -> tuple[Path, Path]:
    """Where a run keeps the previous results while it executes: a copy, or a marker saying
    there were none (hidden files: `results.read_results` skips them)."""
    return result.with_name(f".{result.name}.precedent"), result.with_name(f".{result.name}.sans-precedent")


def _keep_previous(result: Path) -> None:
    """Before a notebook runs: keep the previous results aside (the notebook overwrites them)."""
    copie, absent = _backup_paths(result)
    result.parent.mkdir(parents=True, exist_ok=True)
    if result.is_file():
        atomic.write_bytes(copie, result.read_bytes())
        absent.unlink(missing_ok=True)
    else:
        atomic.write_bytes(absent, b"")
        copie.unlink(missing_ok=True)


def _forget_previous(result: Path) -> None:
    for p in _backup_paths(result):
        p.unlink(missing_ok=True)


def restore_previous(result: Path) -> bool:
    """After a run stopped midway (Ctrl-C, or a driver killed outright): put the previous
    results back, so they match the previous page. Returns True if there was something to undo."""
    copie, absent = _backup_paths(result)
    if copie.is_file():
        os.replace(copie, result)
        absent.unlink(missing_ok=True)
        return True
    if absent.exists():
        result.unlink(missing_ok=True)
        absent.unlink(missing_ok=True)
        return True
    return False


def _task_paths(task: dict) -> tuple[Path, Path, Path]:
    """The executed notebook, the page and the results file of a run."""
    out_dir = Path(task["out_dir"])
    code, qid = task["code_commune"], task["question"]
    return (
        out_dir / "notebooks" / code / task["carnet"],
        out_dir / "pages" / code / f"{qid}.html",
        results_path(Path(task["results_dir"]), code, qid),
    )


def _discard_outputs(task: dict) -> None:
    """A failed run: no page nor results survive (a synthesis must not read stale results);
    the partly executed notebook is kept for diagnosis."""
    final_nb, page, result = _task_paths(task)
    page.unlink(missing_ok=True)
    result.unlink(missing_ok=True)
    _forget_previous(result)
    for tmp in sorted(final_nb.parent.glob(f".{final_nb.name}.*.tmp.ipynb")):
        os.replace(tmp, final_nb)


def _undo_outputs(task: dict) -> None:
    """A run stopped before its end: the previous page and results stay as they were."""
    final_nb, _page, result = _task_paths(task)
    restore_previous(result)
    for tmp in final_nb.parent.glob(f".{final_nb.name}.*.tmp.ipynb"):
        tmp.unlink(missing_ok=True)


#: A kernel that dies before answering its first request never ran a cell: it lost a race for a
#: TCP port with a kernel another run started at the same moment (jupyter_client picks free
#: ports, then the kernel binds them). Starting it again is safe; a broken kernel fails again.
KERNEL_START_RETRIES = 2


def kernel_failed_to_start(exc: BaseException) -> bool:
    """True for jupyter_client's « Kernel died before replying to kernel_info »."""
    return isinstance(exc, RuntimeError) and "before replying to kernel_info" in str(exc)


def execute_run(task: dict) -> dict:
    """Execute one notebook, render its page; never raises (the error is in the record).

    The previous outputs stay in place until the end: the page is replaced only when the run
    succeeds, the previous results are kept aside meanwhile (the notebook overwrites them) and
    put back if the run is stopped midway (`restore_previous`); a failure removes both.
    """
    import papermill as pm

    code, qid, name = task["code_commune"], task["question"], task["carnet"]
    final_nb, page, result = _task_paths(task)
    _keep_previous(result)
    final_nb.parent.mkdir(parents=True, exist_ok=True)
    tmp_nb = final_nb.with_name(f".{name}.{os.getpid()}.tmp.ipynb")
    debut, t0 = _now(), time.perf_counter()
    statut, erreur = "ok", None
    extra: dict[str, Any] = {}
    if task.get("delai_par_cellule") and task.get("delai_s"):
        # executors without a per-run limit (Dask): at least no cell runs past the limit
        extra["execution_timeout"] = max(1, int(task["delai_s"] + 0.999))
    try:
        for essai in range(1 + KERNEL_START_RETRIES):
            try:
                nb = pm.execute_notebook(
                    task["notebook"],
                    str(tmp_nb),
                    parameters={
                        "code_commune": code,
                        "parametres": task["parametres"],
                        "dossier_resultats": task["results_dir"],
                    },
                    kernel_name=task.get("kernel_name") or kernels.STANDARD,
                    progress_bar=False,
                    cwd=task["notebooks_dir"],
                    # the kernel's log lines (a TCP warning, « KeyboardInterrupt caught in kernel »
                    # when the shutdown's interrupt meets a request) would be printed in English
                    # over the progress bar; a cell's own error is in the notebook and the record
                    extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                    # the executed notebook is written at the start, every few seconds and at
                    # the end, not twice per cell (measured: a sixth of a run); same outputs
                    engine_name=importlib.import_module("cucs_analysis.pipeline.papermill_engine").NOM,
                    # the last cell has written the results and every output has been received:
                    # the kernel is stopped at once instead of a graceful exit (about 0.6 s)
                    shutdown_kernel="immediate",
                    **extra,
                )
                break
            except RuntimeError as exc:
                if essai == KERNEL_START_RETRIES or not kernel_failed_to_start(exc):
                    raise
                time.sleep(0.2 + 0.3 * random.random())  # then new ports are drawn
        if task["resultats_requis"] and not result.is_file():
            raise RuntimeError(f"le carnet n'a pas écrit ses résultats ({code}/{qid}.json)")
        publish = importlib.import_module("cucs_analysis.pipeline.publish")
        atomic.write_text(page, publish.render_page(nb, qid, code, task["nom_commune"]))
        _forget_previous(result)
    except Exception as exc:  # one failing run never stops the others
        statut, erreur = "echec", _error_of_run(exc, task)
        page.unlink(missing_ok=True)
        result.unlink(missing_ok=True)
        _forget_previous(result)
    finally:
        if tmp_nb.exists():
            os.replace(tmp_nb, final_nb)
    return {
        "code_commune": code,
        "question": qid,
        "nom_commune": task["nom_commune"],
        "carnet": name,
        "statut": statut,
        "erreur": erreur,
        "duree_s": round(time.perf_counter() - t0, 2),
        "hash_entrees": task["hash_entrees"],
        "versions": task["versions"],
        "debut": debut,
        "fin": _now(),
    }


def _minutes(delai_s: float) -> str:
    """A limit in minutes as the parameter reads, French style: 10, 0,05."""
    return text.nombre_exact(delai_s / 60, 4)


def timeout_message(delai_s: float) -> str:
    return (
        f"délai dépassé : le carnet tournait encore au-delà de {_minutes(delai_s)} min "
        "(paramètre execution.delai_max_minutes ou option --delai-max) ; son exécution a été arrêtée"
    )


def _error_of_run(exc: BaseException, task: dict) -> str:
    """The French summary of a run's failure; the execution stack's own errors are translated."""
    name = type(exc).__name__
    if name == "DeadKernelError":
        return (
            "le noyau Python du carnet s'est arrêté pendant l'exécution (arrêt forcé, mémoire "
            "insuffisante ou plantage) ; le carnet n'est pas allé au bout"
        )
    if name == "CellTimeoutError" and task.get("delai_s"):
        return timeout_message(float(task["delai_s"]))
    if kernel_failed_to_start(exc):
        return (
            f"le noyau Python du carnet s'est arrêté avant de répondre, à chacun des "
            f"{1 + KERNEL_START_RETRIES} essais de démarrage (installation incomplète du "
            "projet ou mémoire insuffisante ?) ; le carnet n'a pas été exécuté"
        )
    attente = _SANS_REPONSE.fullmatch(str(exc)) if isinstance(exc, RuntimeError) else None
    if attente:
        return (
            f"le noyau Python du carnet n'a pas répondu dans les {attente.group(1)} secondes de son "
            "démarrage (machine très chargée ?) ; le carnet n'a pas été exécuté"
        )
    return summarize_error(exc)


#: jupyter_client's message for a kernel that never answered its first request.
_SANS_REPONSE = re.compile(r"Kernel didn't respond in (\d+) seconds")


def _stopped_message(exc: BaseException) -> str:
    """A run whose process ended without a result (killed, out of memory, crash)."""
    code = getattr(exc, "exitcode", None)
    if isinstance(code, int) and code < 0:
        try:
            import signal

            how = f"par le signal {signal.Signals(-code).name}"
        except ValueError:
            how = f"par le signal {-code}"
    elif isinstance(code, int):
        how = f"avec le code {code}"
    else:
        how = f"({summarize_error(exc)})"
    return (
        f"le processus d'exécution s'est arrêté {how} avant la fin du carnet "
        "(arrêt forcé ou mémoire insuffisante) ; les autres carnets ont continué"
    )


# --- executing the runs ---------------------------------------------------------------------------


def _run_phase(executor: cf.Executor, tasks: list[dict]) -> Iterator[dict]:
    """Submit the tasks and yield each one's record as soon as it is done.

    A task past its time limit, or whose worker died (or that could not be submitted), yields
    a failed record with a French message; the others go on. Leaving early cancels what has
    not started.
    """
    futures: dict[cf.Future, dict] = {}
    submit_run = getattr(executor, "submit_run", None)
    for t in tasks:
        try:
            if submit_run is not None:
                fut = submit_run(execute_run, t, delai_s=t.get("delai_s"))
            else:
                fut = executor.submit(execute_run, {**t, "delai_par_cellule": True})
            futures[fut] = t
        except Exception as exc:  # e.g. a pool broken by a worker that died in a previous phase
            yield _failed_record(t, f"exécution impossible ({summarize_error(exc)})")
    try:
        for fut in cf.as_completed(futures):
            t = futures[fut]
            try:
                yield fut.result()
            except executors.DelaiDepasse as exc:
                _discard_outputs(t)
                yield {**_failed_record(t, timeout_message(exc.delai_s)), "duree_s": round(exc.delai_s, 2)}
            except executors.ResultatIllisible as exc:  # the worker is fine: only this record is lost
                _discard_outputs(t)
                yield _failed_record(
                    t,
                    f"le compte rendu de l'exécution n'a pas pu être relu ({exc}) ; les autres carnets ont continué",
                )
            except Exception as exc:  # a worker died: record the run, go on
                _discard_outputs(t)
                yield _failed_record(t, _stopped_message(exc))
    finally:
        for fut in futures:
            fut.cancel()


def _failed_record(task: dict, erreur: str) -> dict:
    now = _now()
    return {
        "code_commune": task["code_commune"],
        "question": task["question"],
        "nom_commune": task["nom_commune"],
        "carnet": task["carnet"],
        "statut": "echec",
        "erreur": erreur,
        "duree_s": 0.0,
        "hash_entrees": task["hash_entrees"],
        "versions": task["versions"],
        "debut": now,
        "fin": now,
    }


# --- the driver ---------------------------------------------------------------------------------


def _read_manifest(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _commune_names(dataset: Any) -> dict[str, str]:
    communes = getattr(dataset, "tables", {}).get("communes")
    if communes is None or not {"code_commune", "nom"} <= set(communes.columns):
        return {}
    return dict(zip(communes["code_commune"].astype(str), communes["nom"].astype(str), strict=True))


def _select_communes(root: Path, communes: list[str] | None, known: dict[str, str]) -> list[str]:
    if communes is None:
        communes = [p.stem for p in commune_param_files(root)] or sorted(known)
    bad = [c for c in communes if not isinstance(c, str) or not re.match(PATTERN_COMMUNE, c)]
    if bad:
        raise ParamError(
            [
                f"Code commune invalide « {c} » : un code INSEE de 5 caractères est attendu (ex. « 20001 »)."
                for c in bad
            ]
        )
    unknown = [c for c in communes if known and c not in known]
    if unknown:
        raise ParamError(f"Communes absentes du jeu de données : {', '.join(unknown)}. Rien n'a été exécuté.")
    return list(dict.fromkeys(communes))


def _plural(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n <= 1 else plural}"


def _shown_path(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


# --- notebooks whose tables are absent ------------------------------------------------------------

#: The heading of the page published in place of a notebook whose tables are absent (the
#: verdict's section: the syntheses link to it).
SECTION_TABLES = "Tables nécessaires"
#: The tables a resource centre fills with the programming workbook (cucs template).
TABLES_PROGRAMMATION = frozenset({"actions", "financements", "operateurs"})


def tables_manquantes(q: questions.Question, dataset: Any) -> dict[str, str]:
    """The tables `q` needs that the data set lacks: name → « absente » (no file) or « vide »
    (a file without rows). Empty: the notebook can run."""
    disponibles = getattr(dataset, "available", None)
    tables = getattr(dataset, "tables", None) or {}
    out = {}
    for name in q.tables_requises:
        if disponibles is not None and name not in disponibles:
            out[name] = "absente"
        elif name in tables and len(tables[name]) == 0:
            out[name] = "vide"
    return out


def _tables_et_etat(manquantes: dict[str, str]) -> tuple[str, str]:
    """(« tables actions et financements », « absentes du jeu de données »)."""
    etats = set(manquantes.values())
    pluriel = len(manquantes) > 1
    if etats == {"absente"}:
        etat = "absentes du jeu de données" if pluriel else "absente du jeu de données"
    elif etats == {"vide"}:
        etat = "vides dans le jeu de données" if pluriel else "vide dans le jeu de données"
    else:
        etat = "absentes ou vides dans le jeu de données"
    return f"{'tables' if pluriel else 'table'} {text.liste_fr(manquantes)}", etat


def phrase_tables(manquantes: dict[str, str]) -> str:
    """« tables actions et financements absentes du jeu de données »."""
    return " ".join(_tables_et_etat(manquantes))


def phrase_besoin(manquantes: dict[str, str], nom_jeu: str = "") -> str:
    """« Ce carnet a besoin des tables actions et financements, absentes du jeu de données … »."""
    tables, etat = _tables_et_etat(manquantes)
    jeu = f" « {nom_jeu} »" if nom_jeu and etat.endswith("jeu de données") else ""
    article = "des" if len(manquantes) > 1 else "de la"
    return f"Ce carnet a besoin {article} {tables}, {etat}{jeu} : il n'a pas été exécuté."


def conseil_tables(manquantes: dict[str, str]) -> str:
    """What to do: the programming tables come from the workbook; others are files to add."""
    if set(manquantes) <= TABLES_PROGRAMMATION:
        return (
            "Ajoutez-les au dossier de données : « cucs template » écrit le classeur de programmation "
            "(actions, financements, opérateurs) à remplir, « cucs import modele » le convertit en "
            "tables ; vérifiez avec « cucs validate », puis relancez « cucs run »."
        )
    fichiers = text.liste_fr(f"{t}.csv" for t in manquantes)
    return (
        f"Ajoutez au dossier de données {fichiers} (voir data/README.md pour les colonnes attendues) ; "
        "vérifiez avec « cucs validate », puis relancez « cucs run »."
    )


def _signataire(dataset: Any, code: str) -> bool | None:
    communes = (getattr(dataset, "tables", None) or {}).get("communes")
    if communes is None or not {"code_commune", "signataire_cucs"} <= set(communes.columns):
        return None
    v = communes.loc[communes["code_commune"] == code, "signataire_cucs"]
    if v.empty or v.isna().iloc[0]:
        return None
    return bool(v.iloc[0])


def publier_sans_tables(task: dict, manquantes: dict[str, str], dataset: Any) -> dict:
    """In place of a notebook whose tables are absent: a short French page naming them and a
    results file whose verdict says « données non disponibles » (motif `donnee_absente`), so
    that the syntheses and the index say why. Returns the run's record (status ok, with
    `tables_absentes`); the notebook is not executed."""
    from cucs_analysis.pipeline import results
    from cucs_analysis.reports import rapport

    t0, debut = time.perf_counter(), _now()
    code, qid = task["code_commune"], task["question"]
    q = questions.BY_ID[qid]
    _final_nb, page, result = _task_paths(task)
    quoi = phrase_tables(manquantes)
    nom_jeu = str(getattr(getattr(dataset, "metadata", None), "nom", "") or "")
    lignes = [phrase_besoin(manquantes, nom_jeu), conseil_tables(manquantes)]
    verdict = rapport.verdict_donnee_absente(q.titre, quoi, SECTION_TABLES)
    cles: dict[str, Any] = {k: None for k in q.required_keys}
    cles.update(verdict=verdict, tables_absentes=sorted(manquantes), nom_commune=task["nom_commune"])
    signataire = _signataire(dataset, code)
    if signataire is not None:
        cles["signataire_cucs"] = signataire
    tables, _etat = _tables_et_etat(manquantes)
    # one key figure, missing with its reason: the regional table's cell says « données non
    # disponibles » under « <question> — Tables actions et financements »
    chiffre = {
        "id": "tables_absentes",
        "libelle": tables[:1].upper() + tables[1:],
        "valeur": None,
        "unite": "",
        "motif": verdict["motif"],
    }
    results.write_results(
        Path(task["results_dir"]), qid, code, task["parametres"], [], lignes, [chiffre], **cles
    )
    publish = importlib.import_module("cucs_analysis.pipeline.publish")
    atomic.write_text(
        page,
        publish.render_page_tables_absentes(
            qid, code, task["nom_commune"], lignes, q.tables_requises, SECTION_TABLES
        ),
    )
    return {
        "code_commune": code,
        "question": qid,
        "nom_commune": task["nom_commune"],
        "carnet": task["carnet"],
        "statut": "ok",
        "erreur": None,
        "tables_absentes": sorted(manquantes),
        "duree_s": round(time.perf_counter() - t0, 2),
        "hash_entrees": task["hash_entrees"],
        "versions": task["versions"],
        "debut": debut,
        "fin": _now(),
    }


def avertissements_jeu(dataset: Any) -> list[str]:
    """The data set's warnings in French: validation warnings (unknown values, repairs) and
    those its importers recorded in metadonnees.yaml (`import.<importeur>.avertissements`)."""
    out = [str(a) for a in getattr(dataset, "avertissements", None) or []]
    meta = getattr(dataset, "metadata", None)
    extra = getattr(meta, "extra", None) or {}
    imports = getattr(meta, "import_", None) or (extra.get("import") if isinstance(extra, dict) else None)
    if isinstance(imports, dict):
        for importeur, rapport in imports.items():
            avert = rapport.get("avertissements") if isinstance(rapport, dict) else None
            for a in avert if isinstance(avert, list) else []:
                out.append(f"Import {importeur} : {a}")
    return list(dict.fromkeys(out))


def run(
    root: Path,
    communes: list[str] | None = None,
    questions: list[str] | None = None,
    jobs: int | None = None,
    resume: bool = False,
    out_dir: Path | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    delai_max: float | None = None,
    donnees: Path | str | None = None,
    executeur: str = "processus",
    noyau: str | None = None,
) -> RunSummary:
    """Run the selected notebooks for the selected communes, write the manifest, publish the site.

    Raises `ParamError` (bad params file, bad selection) or `DataError` (bad data) before any
    kernel starts. Returns a summary whose `exit_code` is 1 if a run or the site failed.

    `delai_max` (minutes) overrides every commune's `execution.delai_max_minutes`: a run still
    going past its limit is stopped (kernel included) and recorded as failed. Ctrl-C stops the
    runs, writes a manifest saying which ones finished, leaves the previous site and the
    outputs of the stopped runs as they were, and returns `exit_code` 130.

    `donnees` (a data folder) overrides the parameter `donnees` of every run. A notebook
    needing a table the data set lacks (`Question.tables_requises`) is not executed: a page
    and a results file say which tables are missing (`publier_sans_tables`). Years of the
    parameters outside the data's years are printed once as warnings and shown on the site.

    `scheduler` (a Dask address) or `executeur="dask"` (a LocalCluster of `jobs` processes):
    the runs execute on Dask workers that share no disk with this process
    (`pipeline.distant`); the outputs are the same.

    `noyau`: « chaud » (default on Linux: `kernels.chaud_par_defaut`) runs the notebooks in kernels forked
    from one template process started for this batch (`pipeline.kernels`), « standard » in
    fresh `python3` kernels; the outputs are the same.
    """
    from tqdm import tqdm

    from cucs_analysis.reports import questions as _questions

    root = Path(root).resolve()
    out_dir = Path(out_dir).resolve() if out_dir is not None else root / "out"
    notebooks_dir = root / NOTEBOOKS_DIR
    results_dir = out_dir / "results"

    problems = validate_all(root)
    if problems:
        raise ParamError(["Fichiers de paramètres invalides : aucun carnet n'a été exécuté.", *problems])
    try:
        for q in questions or []:
            _questions.get(q)
    except KeyError as exc:
        raise ParamError(exc.args[0]) from None
    noyau = _choix_noyau(noyau)

    overrides = {"donnees": str(Path(donnees).resolve())} if donnees is not None else None
    base = load_params(REGION, root, overrides)
    data_dir = Path(base.donnees) if Path(base.donnees).is_absolute() else root / base.donnees
    load = importlib.import_module("cucs_analysis.data.dataset")
    dataset = load.load_dataset(data_dir)  # DataError: the French validation report
    fingerprint = str(getattr(dataset, "fingerprint", ""))
    names = _commune_names(dataset)
    selected = _select_communes(root, communes, names)
    # The one place a run's parameters are loaded: each commune's, checked against the data
    # (indicators, quartiers, years) before any kernel starts; the notebooks receive them.
    params_cache, delais, avert_params = _params_checked(root, base, selected, dataset, overrides)
    avert_donnees = avertissements_jeu(dataset)
    _print_warnings(avert_params, avert_donnees)
    manquantes_de = {q.id: tables_manquantes(q, dataset) for q in _questions.QUESTIONS}

    planned, missing = plan_runs(notebooks_dir, selected, questions)
    versions = _versions()
    previous = _read_manifest(out_dir / MANIFEST)
    previous_runs = [e for e in previous.get("runs", []) if isinstance(e, dict)]
    last_ok = {
        (e.get("code_commune"), e.get("question")): e.get("hash_entrees")
        for e in previous_runs
        if e.get("statut") in ("ok", "ignore")
    }
    # What each (commune, question) is known to be: its status and input hash (syntheses read them).
    known = {
        (e.get("code_commune"), e.get("question")): (e.get("statut"), e.get("hash_entrees"))
        for e in previous_runs
    }
    nb_bytes: dict[str, bytes] = {}
    phases: dict[int, list[tuple[str, questions.Question]]] = {}
    for code, q in planned:
        phases.setdefault(_phase(q), []).append((code, q))
    entries: list[dict] = []
    etapes_region: list[dict] = []
    started: list[dict] = []  # tasks handed to the executor (their outputs may be mid-change)
    executor: cf.Executor | None = None
    pile_noyau = contextlib.ExitStack()  # the warm kernels' template, stopped after the executor
    kernel_name = kernels.STANDARD
    interrupted = False
    old_sigint = None
    try:
        # A previous `cucs run` killed outright may have left results mid-change: undo that first.
        for code, q in planned:
            restore_previous(results_path(results_dir, code, q.id))
        with tqdm(
            total=len(planned), desc="Exécution des carnets", unit="carnet", disable=not progress
        ) as bar:
            for phase in sorted(phases):
                tasks = []
                for code, q in phases[phase]:
                    if q.notebook not in nb_bytes:
                        nb_bytes[q.notebook] = (notebooks_dir / q.notebook).read_bytes()
                    # A synthesis depends on the runs it reads: their status, input hash and
                    # results as they are now (computed after the earlier phases ran).
                    deps = _dependencies(code, q, known, results_dir) if phase else ""
                    h = input_hash(
                        nb_bytes[q.notebook], params_cache[code], fingerprint, library_digest(), deps
                    )
                    nom = names.get(code, code) if code != REGION else "Région"
                    outputs_there = (out_dir / "pages" / code / f"{q.id}.html").is_file() and (
                        results_path(results_dir, code, q.id).is_file() or not q.required_keys
                    )
                    if resume and last_ok.get((code, q.id)) == h and outputs_there:
                        old = next(
                            e
                            for e in previous_runs
                            if (e.get("code_commune"), e.get("question")) == (code, q.id)
                        )
                        entries.append({**old, "statut": "ignore", "erreur": None, "nom_commune": nom})
                        known[(code, q.id)] = ("ok", h)
                        bar.update(1)
                        continue
                    task = {
                        "code_commune": code,
                        "question": q.id,
                        "carnet": q.notebook,
                        "notebook": str(notebooks_dir / q.notebook),
                        "notebooks_dir": str(notebooks_dir),
                        "out_dir": str(out_dir),
                        "results_dir": str(results_dir),
                        "parametres": params_cache[code],
                        "nom_commune": nom,
                        "hash_entrees": h,
                        "versions": versions,
                        "resultats_requis": bool(q.required_keys),
                        "delai_s": (delai_max if delai_max is not None else delais[code]) * 60,
                    }
                    if manquantes_de[q.id]:
                        # not executed: a page and a results file say which tables are missing
                        record = publier_sans_tables(task, manquantes_de[q.id], dataset)
                        entries.append(record)
                        known[(code, q.id)] = ("ok", h)
                        bar.update(1)
                        continue
                    tasks.append(task)
                if not tasks:
                    continue
                # The region stage, once per data set and region parameters, in the driver.
                needs_region = sorted({t["code_commune"] for t in tasks if _reads_region(t)})
                etapes_region += region.prepare(
                    dataset, [validate_params_dict(params_cache[c], c) for c in needs_region], results_dir
                )
                if executor is None:
                    local = scheduler in (None, executors.PROCESSES) and executeur == "processus"
                    if noyau == "chaud" and local:  # a Dask worker runs its own template
                        kernel_name = pile_noyau.enter_context(kernels.noyau_chaud(data_dir))
                    elif noyau == "chaud":  # on Dask each worker starts its own (pipeline.distant)
                        kernel_name = kernels.NOM_NOYAU
                    workers = max(1, min(jobs or os.cpu_count() or 1, len(planned)))
                    executor = executors.open_executor(
                        scheduler, workers, initializer=_warm_up, executeur=executeur
                    )
                for t in tasks:
                    t.setdefault("kernel_name", kernel_name)
                started.extend(tasks)
                for record in _run_phase(executor, tasks):
                    entries.append(record)
                    known[(record["code_commune"], record["question"])] = (
                        record["statut"],
                        record["hash_entrees"],
                    )
                    bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
        # Ctrl-C again while stopping would leave processes and a half-written manifest behind.
        old_sigint = _ignore_sigint()
        _stop(executor)
        executor = None
    finally:
        try:
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)
        finally:
            pile_noyau.close()

    try:
        if interrupted:
            done = {(e["code_commune"], e["question"]) for e in entries}
            for t in started:
                if (t["code_commune"], t["question"]) not in done:
                    _undo_outputs(t)
            entries += _interrupted_records(planned, done, previous_runs, out_dir, names, versions)

        # Runs not selected this time keep their last entry, so the site shows everything.
        done = {(e["code_commune"], e["question"]) for e in entries}
        kept = [e for e in previous_runs if (e.get("code_commune"), e.get("question")) not in done]
        order = {q.id: i for i, q in enumerate(_questions.QUESTIONS)}
        all_entries = sorted(
            kept + entries, key=lambda e: (str(e.get("code_commune")), order.get(e.get("question"), 99))
        )
        manifest = {
            "genere_le": _now(),
            "jeu_de_donnees": fingerprint,
            "nom_jeu_de_donnees": str(getattr(getattr(dataset, "metadata", None), "nom", "") or ""),
            "dossier_donnees": _shown_path(data_dir, root),
            "versions": versions,
            "etape_region": etapes_region,
            "avertissements_parametres": avert_params,
            "avertissements_donnees": avert_donnees,
            "runs": all_entries,
        }
        if interrupted:
            manifest["interrompu"] = True
        manifest_path = atomic.write_json(out_dir / MANIFEST, manifest)

        summary = RunSummary(
            executes=sum(e["statut"] in ("ok", "echec") and not e.get("tables_absentes") for e in entries),
            sans_tables=sum(e["statut"] == "ok" and bool(e.get("tables_absentes")) for e in entries),
            echecs=sum(e["statut"] == "echec" for e in entries),
            inchanges=sum(e["statut"] == "ignore" for e in entries),
            absents=missing,
            manifest=manifest_path,
            entrees=entries,
        )
        if interrupted:
            summary.exit_code = 130
            summary.message = _interrupted_message(entries, summary, manifest_path, root)
            print(summary.message, file=sys.stdout)
            return summary
    finally:
        if old_sigint is not None:
            import signal

            signal.signal(signal.SIGINT, old_sigint)

    site_text = ""
    try:
        publish = importlib.import_module("cucs_analysis.pipeline.publish")
        site = Path(publish.build_site(out_dir, root))
        summary.site_index = site / "index.html"
        site_text = f"site : {_shown_path(summary.site_index, root)}"
    except Exception as exc:  # the runs are recorded; the site can be rebuilt with `cucs site`
        site_text = f"site non publié ({summarize_error(exc)})"
        summary.exit_code = 1
    if summary.echecs:
        summary.exit_code = 1
    parts = [
        _plural(summary.executes, "carnet exécuté", "carnets exécutés"),
        f"{summary.echecs} en échec",
        f"{_plural(summary.inchanges, 'inchangé', 'inchangés')} (reprise)",
    ]
    if summary.sans_tables:
        absentes = sorted({t for e in entries if e["statut"] == "ok" for t in e.get("tables_absentes") or []})
        parts.append(
            f"{_plural(summary.sans_tables, 'carnet non exécuté', 'carnets non exécutés')} faute de tables "
            f"({', '.join(absentes)})"
        )
    summary.message = f"{', '.join(parts)} — {site_text}"
    if missing:
        summary.message += f"\nCarnets absents (ignorés) : {', '.join(missing)}"
    failed = [e for e in entries if e["statut"] == "echec"]
    for e in failed:
        summary.message += f"\n  échec {e['code_commune']} / {e['question']} : {e['erreur']}"
    print(summary.message, file=sys.stdout)
    return summary


#: A run stopped by Ctrl-C, or not started when Ctrl-C came: neither ok nor failed.
INTERROMPU = "interrompu"


def _dependencies(code: str, q: questions.Question, known: dict, results_dir: Path) -> str:
    """What a synthesis reads, as it is now: for each earlier-phase run of its commune (every
    commune for a regional one), its status, its input hash and the digest of its results."""
    phase = _phase(q)
    parts = []
    for (c, qid), (statut, h) in sorted(known.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        info = questions.BY_ID.get(str(qid))
        if info is None or _phase(info) >= phase or not (q.regional or c == code):
            continue
        path = results_path(results_dir, str(c), str(qid))
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "absent"
        statut = "ok" if statut == "ignore" else statut
        parts.append(f"{c}/{qid}:{statut}:{h}:{digest}")
    return "|".join(parts)


#: `noyau` values: kernels forked from a warm template, or fresh `python3` kernels.
NOYAUX = ("chaud", "standard")


def _choix_noyau(noyau: str | None) -> str:
    """The kernel kind of a batch: « chaud » by default on Linux only (`kernels.chaud_par_defaut`);
    elsewhere « chaud » is an opt-in, with a French note that it is untested there."""
    if noyau is None:
        return "chaud" if kernels.chaud_par_defaut() else "standard"
    if noyau not in NOYAUX:
        raise ParamError(f"Noyau inconnu « {noyau} » : « chaud » ou « standard » attendu.")
    if noyau == "chaud" and kernels.fourche_disponible() and not kernels.chaud_par_defaut():
        print(
            f"Remarque : noyaux chauds non testés sur ce système ({sys.platform}) ; en cas de "
            "blocage ou d'arrêt d'un carnet, relancez avec --noyau standard.",
            file=sys.stderr,
        )
    return noyau


def _ignore_sigint() -> Any:
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop(executor: cf.Executor | None) -> None:
    """Ctrl-C: stop the runs now, their workers and kernels included."""
    if executor is None:
        return
    terminate = getattr(executor, "terminate", None)
    if terminate is not None:
        terminate()
    else:  # a Dask cluster: what has not started is cancelled
        executor.shutdown(wait=False, cancel_futures=True)


def _interrupted_records(
    planned: list, done: set, previous_runs: list[dict], out_dir: Path, names: dict, versions: dict
) -> list[dict]:
    """The runs Ctrl-C stopped or that had not started: « interrompu », with what their
    previous outputs are (kept as they were: the previous run's page and results, if any)."""
    previous = {(e.get("code_commune"), e.get("question")): e for e in previous_runs}
    out = []
    now = _now()
    for code, q in planned:
        if (code, q.id) in done:
            continue
        before = previous.get((code, q.id))
        page_there = (out_dir / "pages" / code / f"{q.id}.html").is_file()
        out.append(
            {
                "code_commune": code,
                "question": q.id,
                "nom_commune": names.get(code, code) if code != REGION else "Région",
                "carnet": q.notebook,
                "statut": INTERROMPU,
                "erreur": "exécution interrompue (Ctrl-C) avant la fin de ce carnet : relancer avec --resume",
                "duree_s": 0.0,
                "hash_entrees": None,
                "versions": versions,
                "debut": now,
                "fin": now,
                # the outputs on disk are those of the previous run (or none): said, not hidden
                "sorties_precedentes": bool(page_there and before is not None),
                "precedent": (
                    {k: before.get(k) for k in ("statut", "hash_entrees", "fin")} if before else None
                ),
            }
        )
    return out


def _interrupted_message(entries: list[dict], summary: RunSummary, manifest: Path, root: Path) -> str:
    finis = summary.executes
    stoppes = sum(e["statut"] == INTERROMPU for e in entries)
    lines = [
        "Interruption demandée (Ctrl-C) : exécution arrêtée, processus et noyaux des carnets arrêtés.",
        f"{_plural(finis, 'carnet terminé', 'carnets terminés')} ({summary.echecs} en échec), "
        f"{_plural(summary.inchanges, 'inchangé', 'inchangés')}, "
        f"{_plural(stoppes, 'carnet interrompu ou non commencé', 'carnets interrompus ou non commencés')}.",
        f"Manifeste écrit : {_shown_path(manifest, root)} (chaque carnet y a son état réel) ; "
        + (
            "le site précédent est conservé tel quel."
            if (manifest.parent / "site" / "index.html").is_file()
            else "aucun site n'est publié avant la fin de l'exécution."
        ),
        "Pour terminer : relancez la même commande avec --resume.",
    ]
    return "\n".join(lines)


def _params_checked(
    root: Path, base: Any, selected: list[str], dataset: Any, overrides: dict | None = None
) -> tuple[dict[str, dict], dict, dict[str, list[str]]]:
    """The parameters of the region run and of each selected commune, as injected into the
    notebooks, their time limits and their warnings (years absent from the data, by commune);
    `ParamError` listing every value the data set contradicts, naming its file."""
    loaded = {REGION: base, **{code: load_params(code, root, overrides) for code in selected}}
    problems: list[str] = []
    warnings: dict[str, list[str]] = {}
    for code, p in loaded.items():
        layers = param_layers(code, root)
        problems.extend(messages_donnees(p, dataset, layers, FOURNIS))
        found = messages_donnees(p, dataset, layers, FOURNIS, avertissements=True)
        if found:
            warnings[code] = found
    if problems:
        raise ParamError(
            [
                "Paramètres incompatibles avec les données : aucun carnet n'a été exécuté.",
                *dict.fromkeys(problems),  # a value of defaults.yaml: said once, not per commune
            ]
        )
    delais = {code: float(p.execution.delai_max_minutes) for code, p in loaded.items()}
    return {code: p.as_dict() for code, p in loaded.items()}, delais, warnings


#: Warnings listed one by one on the terminal; the rest are on the site's Méthode page.
MAX_AVERTISSEMENTS_AFFICHES = 10


def _print_warnings(params: dict[str, list[str]], donnees: list[str]) -> None:
    """The warnings once, in French, before the runs (a value of defaults.yaml once, not per commune)."""
    lines = list(dict.fromkeys(m for ms in params.values() for m in ms))
    if lines:
        print("Avertissements sur les paramètres (les carnets sont exécutés quand même) :", file=sys.stdout)
        print("\n".join(f"  - {m}" for m in lines), file=sys.stdout)
    if donnees:
        print(
            f"Avertissements sur les données : {text.nombre(len(donnees), 0)} "
            "(tous sur la page Méthode du site) :",
            file=sys.stdout,
        )
        shown = donnees[:MAX_AVERTISSEMENTS_AFFICHES]
        print("\n".join(f"  - {m}" for m in shown), file=sys.stdout)
        if len(donnees) > len(shown):
            reste = len(donnees) - len(shown)
            print(f"  - … et {text.nombre(reste, 0)} {'autre' if reste < 2 else 'autres'}", file=sys.stdout)


def _reads_region(task: dict) -> bool:
    return questions_by_id(task["question"]).etape_region


def questions_by_id(qid: str) -> questions.Question:
    return questions.BY_ID[qid]
