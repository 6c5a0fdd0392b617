"""Batch execution of the notebooks (papermill API) in long-lived worker processes.

One driver validates the parameters and the data once, plans the runs (commune × question),
skips unchanged runs with `resume`, executes the rest in a process pool (or on a Dask
cluster), writes `out/manifest.json` atomically, then publishes the site. A failing run is
recorded and never stops the others.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import hashlib
import importlib
import json
import os
import platform
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cucs_analysis import __version__
from cucs_analysis.data.schema import PATTERN_COMMUNE
from cucs_analysis.pipeline import atomic, executors, region
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
        text = f"{ename} : {evalue}" if evalue else str(ename)
        where = f"cellule {count}" if count is not None else "une cellule"
        text = f"{text} ({where} : « {first} »)" if first else f"{text} ({where})"
    else:
        text = f"{type(exc).__name__} : {exc}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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

    importlib.import_module("cucs_analysis.pipeline.publish")


def execute_run(task: dict) -> dict:
    """Execute one notebook, render its page; never raises (the error is in the record)."""
    import papermill as pm

    code, qid, name = task["code_commune"], task["question"], task["carnet"]
    out_dir = Path(task["out_dir"])
    final_nb = out_dir / "notebooks" / code / name
    page = out_dir / "pages" / code / f"{qid}.html"
    result = results_path(Path(task["results_dir"]), code, qid)
    # Stale outputs of a previous run must not survive a failure.
    page.unlink(missing_ok=True)
    result.unlink(missing_ok=True)
    final_nb.parent.mkdir(parents=True, exist_ok=True)
    tmp_nb = final_nb.with_name(f".{name}.{os.getpid()}.tmp.ipynb")
    debut, t0 = _now(), time.perf_counter()
    statut, erreur = "ok", None
    try:
        nb = pm.execute_notebook(
            task["notebook"],
            str(tmp_nb),
            parameters={
                "code_commune": code,
                "parametres": task["parametres"],
                "dossier_resultats": task["results_dir"],
            },
            kernel_name="python3",
            progress_bar=False,
            cwd=task["notebooks_dir"],
            # the kernel's TCP warning would be printed once per run, over the progress bar
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
        if task["resultats_requis"] and not result.is_file():
            raise RuntimeError(f"le carnet n'a pas écrit ses résultats ({code}/{qid}.json)")
        publish = importlib.import_module("cucs_analysis.pipeline.publish")
        atomic.write_text(page, publish.render_page(nb, qid, code, task["nom_commune"]))
    except Exception as exc:  # one failing run never stops the others
        statut, erreur = "echec", summarize_error(exc)
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


# --- executing the runs ---------------------------------------------------------------------------


def _run_phase(executor: cf.Executor, tasks: list[dict]) -> Iterator[dict]:
    """Submit the tasks and yield each one's record as soon as it is done.

    A task whose worker died (or that could not be submitted) yields a failed record; the
    others go on. Leaving early cancels what has not started.
    """
    futures: dict[cf.Future, dict] = {}
    for t in tasks:
        try:
            futures[executor.submit(execute_run, t)] = t
        except Exception as exc:  # e.g. a pool broken by a worker that died in a previous phase
            yield _failed_record(t, f"exécution impossible ({summarize_error(exc)})")
    try:
        for fut in cf.as_completed(futures):
            try:
                yield fut.result()
            except Exception as exc:  # a worker died: record the run, go on
                yield _failed_record(
                    futures[fut], f"le processus d'exécution s'est arrêté ({summarize_error(exc)})"
                )
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


def run(
    root: Path,
    communes: list[str] | None = None,
    questions: list[str] | None = None,
    jobs: int | None = None,
    resume: bool = False,
    out_dir: Path | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> RunSummary:
    """Run the selected notebooks for the selected communes, write the manifest, publish the site.

    Raises `ParamError` (bad params file, bad selection) or `DataError` (bad data) before any
    kernel starts. Returns a summary whose `exit_code` is 1 if a run or the site failed.
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

    base = load_params(REGION, root)
    data_dir = Path(base.donnees) if Path(base.donnees).is_absolute() else root / base.donnees
    load = importlib.import_module("cucs_analysis.data.dataset")
    dataset = load.load_dataset(data_dir)  # DataError: the French validation report
    fingerprint = str(getattr(dataset, "fingerprint", ""))
    names = _commune_names(dataset)
    selected = _select_communes(root, communes, names)
    # The one place a run's parameters are loaded: each commune's, checked against the data
    # (indicators, quartiers, years) before any kernel starts; the notebooks receive them.
    params_cache = _params_checked(root, base, selected, dataset)

    planned, missing = plan_runs(notebooks_dir, selected, questions)
    versions = _versions()
    previous = _read_manifest(out_dir / MANIFEST)
    last_ok = {
        (e.get("code_commune"), e.get("question")): e.get("hash_entrees")
        for e in previous.get("runs", [])
        if isinstance(e, dict) and e.get("statut") in ("ok", "ignore")
    }
    nb_bytes: dict[str, bytes] = {}
    hashes: dict[tuple[str, str], str] = {}
    phases: dict[int, list[dict]] = {}
    entries: list[dict] = []
    for code, q in planned:
        if q.notebook not in nb_bytes:
            nb_bytes[q.notebook] = (notebooks_dir / q.notebook).read_bytes()
        phase = _phase(q)
        # A synthesis depends on the runs it reads: their hashes are part of its inputs.
        deps = sorted(
            h
            for (c, qid), h in hashes.items()
            if _phase(questions_by_id(qid)) < phase and (q.regional or c == code)
        )
        h = input_hash(
            nb_bytes[q.notebook], params_cache[code], fingerprint, library_digest(), "|".join(deps)
        )
        hashes[(code, q.id)] = h
        nom = names.get(code, code) if code != REGION else "Région"
        outputs_there = (out_dir / "pages" / code / f"{q.id}.html").is_file() and (
            results_path(results_dir, code, q.id).is_file() or not q.required_keys
        )
        if resume and last_ok.get((code, q.id)) == h and outputs_there:
            old = next(
                e for e in previous["runs"] if (e.get("code_commune"), e.get("question")) == (code, q.id)
            )
            entries.append({**old, "statut": "ignore", "erreur": None, "nom_commune": nom})
            continue
        phases.setdefault(phase, []).append(
            {
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
            }
        )

    # First phase: the region stage, once per data set and region parameters, in the driver.
    needs_region = sorted({t["code_commune"] for ts in phases.values() for t in ts if _reads_region(t)})
    etapes_region = region.prepare(
        dataset, [validate_params_dict(params_cache[c], c) for c in needs_region], results_dir
    )

    n_tasks = sum(len(t) for t in phases.values())
    if n_tasks:
        workers = max(1, min(jobs or os.cpu_count() or 1, n_tasks))
        executor = executors.open_executor(scheduler, workers, initializer=_warm_up)
        try:
            with tqdm(
                total=n_tasks, desc="Exécution des carnets", unit="carnet", disable=not progress
            ) as bar:
                for phase in sorted(phases):
                    for record in _run_phase(executor, phases[phase]):
                        entries.append(record)
                        bar.update(1)
        finally:
            executor.shutdown(wait=True, cancel_futures=True)

    # Runs not selected this time keep their last entry, so the site shows everything.
    done = {(e["code_commune"], e["question"]) for e in entries}
    kept = [
        e
        for e in previous.get("runs", [])
        if isinstance(e, dict) and (e.get("code_commune"), e.get("question")) not in done
    ]
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
        "runs": all_entries,
    }
    manifest_path = atomic.write_json(out_dir / MANIFEST, manifest)

    summary = RunSummary(
        executes=sum(e["statut"] != "ignore" for e in entries),
        echecs=sum(e["statut"] == "echec" for e in entries),
        inchanges=sum(e["statut"] == "ignore" for e in entries),
        absents=missing,
        manifest=manifest_path,
        entrees=entries,
    )
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
    summary.message = f"{', '.join(parts)} — {site_text}"
    if missing:
        summary.message += f"\nCarnets absents (ignorés) : {', '.join(missing)}"
    failed = [e for e in entries if e["statut"] == "echec"]
    for e in failed:
        summary.message += f"\n  échec {e['code_commune']} / {e['question']} : {e['erreur']}"
    print(summary.message, file=sys.stdout)
    return summary


def _params_checked(root: Path, base: Any, selected: list[str], dataset: Any) -> dict[str, dict]:
    """The parameters of the region run and of each selected commune, as injected into the
    notebooks; `ParamError` listing every value the data set contradicts, naming its file."""
    loaded = {REGION: base, **{code: load_params(code, root) for code in selected}}
    problems: list[str] = []
    for code, p in loaded.items():
        problems.extend(messages_donnees(p, dataset, param_layers(code, root), FOURNIS))
    if problems:
        raise ParamError(
            [
                "Paramètres incompatibles avec les données : aucun carnet n'a été exécuté.",
                *dict.fromkeys(problems),  # a value of defaults.yaml: said once, not per commune
            ]
        )
    return {code: p.as_dict() for code, p in loaded.items()}


def _reads_region(task: dict) -> bool:
    return questions_by_id(task["question"]).etape_region


def questions_by_id(qid: str) -> questions.Question:
    return questions.BY_ID[qid]
