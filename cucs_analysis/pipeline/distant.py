"""Runs on a Dask cluster whose workers share no disk with the driver.

The driver (:class:`ExecuteurDask`, what ``executors.open_executor`` returns for a scheduler
address or ``--executor dask``) sends each run to a worker with what it needs from the
driver's disk, and writes what comes back into ``out/`` exactly where the local runner does:

* once per worker (scattered with ``broadcast=True``, fetched once by each worker): the
  project's ``params/`` and ``notebooks/`` files (:func:`paquet_projet`), the data folder as a
  tar archive with the driver's Parquet cache of it (:func:`archive_donnees`; skipped when
  every worker already holds that fingerprint) and each region stage
  (``results/region/etape/<key>.pkl``) the runs read;
* with each task: the run's parameters, and for a synthesis the results files it reads
  (``Contexte.lire_resultats``: its commune's, or every commune's for the regional one).

On the worker (:func:`executer_tache`) everything lives under
``$TMPDIR/cucs-distant-<uid>/``: the data unpacked once per fingerprint (``donnees/<fp>``, its
Parquet cache put into the worker's ``$CUCS_CACHE_DIR``), a copy of the project
(``projets/<digest>``, the data linked where ``params/defaults.yaml`` names it) and one folder
per task (``taches/<token>``, removed at the end) where ``runner.execute_run`` writes the
executed notebook, the page and the results. The task returns them as bytes with its record;
the worker is told no path of the driver (the task it receives has none).

The driver writes them (:func:`ecrire_sorties`) with the local runner's semantics: the
previous results are kept aside while they are replaced (``runner._keep_previous``, undone by
``runner.restore_previous`` if the driver is killed midway), a failed run leaves no page nor
results (its partly executed notebook is kept). Paths of the worker that a file mentions
(an absolute data folder, the results, output and notebooks folders: papermill's metadata,
« Résultats enregistrés : … ») are translated back to the driver's.

A data folder given by a relative path (``donnees: data/demo``) is linked at the same place
in the worker's copy of the project, so the notebooks receive the very same parameters. An
absolute one (``--donnees /srv/…``) is replaced by the worker's folder in the parameters the
kernel receives, and translated back in the returned files.

Dask has no per-task kill: the time limit is per cell (``execution_timeout``). A worker that
dies during a run makes its future raise ``KilledWorker`` (a LocalCluster started here never
retries a run whose worker died, like the local executor); the runner records it as failed.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import html
import importlib
import io
import json
import os
import secrets
import shutil
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cucs_analysis.pipeline import atomic
from cucs_analysis.pipeline.params import ParamError

#: Name of the worker plugin (warm-up, warm kernel template).
PLUGIN = "cucs-analysis"
#: Above this many bytes a task's inputs are scattered rather than sent with the task.
GROS_ENVOI = 1 << 20
#: Keys of a task that are paths on the driver's disk: never sent to a worker.
CHEMINS_PILOTE = ("notebook", "notebooks_dir", "out_dir", "results_dir")

# --- driver side ----------------------------------------------------------------------------------


def paquet_projet(root: Path) -> dict[str, Any]:
    """The project files a run reads besides the data: ``params/`` (the notebooks name the
    file each threshold comes from) and ``notebooks/`` (the syntheses list the questions that
    have a notebook); with their digest."""
    fichiers: dict[str, bytes] = {}
    for dossier in ("params", "notebooks"):
        base = root / dossier
        if not base.is_dir():
            continue
        for p in sorted(base.rglob("*")):
            rel = p.relative_to(root)
            if p.is_file() and not any(part.startswith(".") for part in rel.parts):
                fichiers[rel.as_posix()] = p.read_bytes()
    h = hashlib.sha256()
    for name, data in fichiers.items():
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return {"digest": h.hexdigest()[:20], "fichiers": fichiers}


def archive_donnees(data_dir: Path, fingerprint: str) -> bytes:
    """The data folder as a gzip'd tar (``donnees/…``), with the driver's Parquet cache of
    that fingerprint (``cache/…``) when it has one: workers then skip the validation."""
    dataset = importlib.import_module("cucs_analysis.data.dataset")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for p in sorted(Path(data_dir).rglob("*")):
            rel = p.relative_to(data_dir)
            if p.is_file() and not any(part.startswith(".") for part in rel.parts):
                tar.add(p, arcname=f"donnees/{rel.as_posix()}", recursive=False)
        cache_dir = getattr(dataset, "cache_dir", None)
        cache = cache_dir() / fingerprint if cache_dir is not None else None
        if cache is not None and (cache / "meta.pkl").is_file():
            for p in sorted(cache.iterdir()):
                if p.is_file():
                    tar.add(p, arcname=f"cache/{p.name}", recursive=False)
    return buf.getvalue()


def spec_distante(task: dict) -> dict:
    """The task as a worker receives it: without the driver's paths."""
    return {k: v for k, v in task.items() if k not in CHEMINS_PILOTE}


def entrees_synthese(task: dict) -> dict[str, bytes]:
    """The results files a synthesis reads (what ``results.read_results`` would see in the
    driver's results folder): its commune's, or every commune's for the regional one."""
    from cucs_analysis.reports import questions

    q = questions.BY_ID[task["question"]]
    if not (q.regional or q.id == "synthese"):
        return {}
    results_dir = Path(task["results_dir"])
    if not results_dir.is_dir():
        return {}
    dossiers = [results_dir / task["code_commune"]] if not q.regional else sorted(results_dir.iterdir())
    out = {}
    for d in dossiers:
        if not d.is_dir():
            continue
        for p in sorted(d.glob("*.json")):
            if not p.name.startswith("."):
                out[f"{d.name}/{p.name}"] = p.read_bytes()
    return out


def _traduire(data: bytes, paires: list[tuple[str, str]], forme: str) -> bytes:
    """The worker's paths in a returned file replaced by the driver's (escaped as the file
    writes them: JSON or HTML)."""
    text = data.decode("utf-8")
    for local, pilote in paires:
        if not local or local == pilote:
            continue
        if forme == "html":
            text = text.replace(html.escape(local), html.escape(pilote))
        else:
            text = text.replace(json.dumps(local)[1:-1], json.dumps(pilote, ensure_ascii=False)[1:-1])
    return text.encode("utf-8")


def ecrire_sorties(task: dict, envoi: dict) -> dict:
    """Write what a worker returned (executed notebook, page, results) where the local runner
    writes them, with its semantics; return the run's record."""
    from cucs_analysis.pipeline import runner

    record = dict(envoi["enregistrement"])
    local = envoi.get("chemins") or {}
    paires = [
        (local.get("resultats", ""), str(task["results_dir"])),
        (local.get("sorties", ""), str(task["out_dir"])),
        (local.get("carnets", ""), str(task["notebooks_dir"])),
    ]
    if local.get("donnees"):  # an absolute data folder: the worker's in the files, the driver's back
        paires.append((local["donnees"], str(task["parametres"].get("donnees", ""))))
    fichiers = envoi.get("fichiers") or {}
    final_nb, page, result = runner._task_paths(task)
    if record.get("erreur"):
        record["erreur"] = _traduire(str(record["erreur"]).encode(), paires, "texte").decode()
    if record.get("statut") == "ok":
        runner._keep_previous(result)
        if fichiers.get("resultats") is not None:
            atomic.write_bytes(result, _traduire(fichiers["resultats"], paires, "json"))
        if fichiers.get("page") is not None:
            atomic.write_bytes(page, _traduire(fichiers["page"], paires, "html"))
        runner._forget_previous(result)
    else:
        page.unlink(missing_ok=True)
        result.unlink(missing_ok=True)
        runner._forget_previous(result)
    for nom, data in (envoi.get("etapes") or {}).items():  # computed by the kernel: as locally
        p = Path(task["results_dir"]) / "region" / "etape" / nom
        if not p.exists():
            atomic.write_bytes(p, data)
    if fichiers.get("carnet") is not None:  # kept for diagnosis when the run failed
        atomic.write_bytes(final_nb, _traduire(fichiers["carnet"], paires, "json"))
    return record


class KilledWorker(Exception):
    """Dask's ``KilledWorker``, said in French (the runner records the run as failed)."""

    def __init__(self, exc: BaseException) -> None:
        worker = getattr(exc, "last_worker", None)
        adresse = getattr(worker, "address", None) or "d'adresse inconnue"
        super().__init__(
            f"le worker Dask {adresse} s'est arrêté pendant ce carnet (voir le journal de ce worker)"
        )


class _RunFuture(cf.Future):
    """A run's future on the driver: done when the worker returned its files; ``result()``
    writes them into ``out/`` (in the caller's thread, once) and returns the record."""

    def __init__(self, task: dict) -> None:
        super().__init__()
        self.task = task
        self.dask_future: Any = None
        self._ecrit: dict | None = None
        self._verrou = threading.Lock()

    def result(self, timeout: float | None = None) -> dict:
        envoi = super().result(timeout)
        with self._verrou:
            if self._ecrit is None:
                self._ecrit = ecrire_sorties(self.task, envoi)
            return self._ecrit

    def cancel(self) -> bool:
        if self.dask_future is not None and not self.done():
            self.dask_future.cancel()
        return super().cancel()

    def _from_dask(self, fut: Any) -> None:
        try:
            if fut.status == "finished":
                value, exc = fut.result(), None
            elif fut.status == "cancelled":
                value, exc = None, cf.CancelledError()
            else:
                value, exc = None, fut.exception()
                if type(exc).__name__ == "KilledWorker":
                    exc = KilledWorker(exc)
        except BaseException as e:  # noqa: BLE001 - any failure is the run's
            value, exc = None, e
        try:
            if exc is None:
                self.set_result(value)
            else:
                self.set_exception(exc)
        except cf.InvalidStateError:  # cancelled by the driver meanwhile
            pass


class ExecuteurDask(cf.Executor):
    """A ``concurrent.futures.Executor`` on a Dask client.

    ``submit`` runs any function (the Dask client's executor, never cached as pure).
    ``submit_run(fn, task, delai_s=)`` is how the runner sends a run (``fn`` is
    ``runner.execute_run``): see the module's docstring. Shutting down closes the client, and
    the LocalCluster when this executor started it.
    """

    def __init__(self, client: Any, cluster: Any = None) -> None:
        self._client = client
        self._cluster = cluster
        self._executor = client.get_executor(pure=False)
        self._projets: dict[str, tuple[str, Any]] = {}
        self._donnees: dict[str, tuple[str, Any]] = {}
        self._etapes: dict[str, Any] = {}
        self._futures: list[_RunFuture] = []
        self.mesures: dict[str, float] = {}

    # -- the Executor API
    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        return self._executor.submit(fn, *args, **kwargs)

    def submit_run(self, fn: Callable, task: dict, delai_s: float | None = None) -> cf.Future:
        """Send one run (``fn(task)`` on a worker, in a folder of its own); the future's
        ``result()`` writes the returned files and gives the record."""
        root = Path(task["notebooks_dir"]).parent
        projet = self._projet(root)
        fp, archive = self._donnees_de(task, root)
        etape = self._etape(task, fp)
        spec = {
            **spec_distante(task),
            "delai_par_cellule": True,
            "delai_s": delai_s if delai_s is not None else task.get("delai_s"),
        }
        rf = _RunFuture(task)
        rf.dask_future = self._client.submit(
            executer_tache,
            fn,
            spec,
            projet[0],
            projet[1],
            fp,
            archive,
            etape,
            self._entrees(task),
            pure=False,
            key=f"cucs-{task['code_commune']}-{task['question']}-{secrets.token_hex(4)}",
        )
        rf.dask_future.add_done_callback(rf._from_dask)
        self._futures.append(rf)
        return rf

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        try:
            if cancel_futures:
                for f in self._futures:
                    f.cancel()
            # Dask's executor cancels what is left when it does not wait
            self._executor.shutdown(wait=wait and not cancel_futures)
            if wait and not cancel_futures:
                cf.wait(self._futures)
        finally:
            self._client.close()
            if self._cluster is not None:
                self._cluster.close()

    def _entrees(self, task: dict) -> Any:
        """A synthesis's inputs: in the task, or scattered (straight to a worker, not through
        the scheduler) when large: the regional synthesis of a national run reads every
        commune's results (about 80 MB for 900 communes)."""
        entrees = entrees_synthese(task)
        if sum(len(v) for v in entrees.values()) < GROS_ENVOI:
            return entrees
        return self._client.scatter([entrees], hash=False)[0]  # one object (a dict would be one per key)

    # -- what the runs need from the driver's disk, sent once
    def _projet(self, root: Path) -> tuple[str, Any]:
        key = str(root)
        if key not in self._projets:
            paquet = paquet_projet(root)
            # one object under a random key (a dict would be scattered key by key, named by them)
            fut = self._client.scatter([paquet["fichiers"]], broadcast=True, hash=False)[0]
            self._projets[key] = (paquet["digest"], fut)
        return self._projets[key]

    def _donnees_de(self, task: dict, root: Path) -> tuple[str, Any]:
        """(fingerprint, the archive's future or None when every worker already has it)."""
        donnees = str(task["parametres"].get("donnees", ""))
        data_dir = Path(donnees) if Path(donnees).is_absolute() else root / donnees
        key = str(data_dir)
        if key not in self._donnees:
            dataset = importlib.import_module("cucs_analysis.data.dataset")
            fp = dataset.load_dataset(data_dir).fingerprint  # the runner's memo: no reload
            presents = self._client.run(donnees_presentes, fp)
            archive = None
            if not presents or not all(presents.values()):
                t0 = time.perf_counter()
                data = archive_donnees(data_dir, fp)
                t1 = time.perf_counter()
                archive = self._client.scatter(data, broadcast=True, hash=False)
                self.mesures.update(
                    archive_octets=len(data),
                    archive_s=round(t1 - t0, 2),
                    envoi_s=round(time.perf_counter() - t1, 2),
                )
            self._donnees[key] = (fp, archive)
        return self._donnees[key]

    def _etape(self, task: dict, fp: str) -> tuple[str, Any] | None:
        """The region stage the run reads (its key and the scattered pickle), if stored."""
        from cucs_analysis.pipeline import region
        from cucs_analysis.pipeline.params import validate_params_dict
        from cucs_analysis.reports import questions

        if not questions.BY_ID[task["question"]].etape_region:
            return None
        cle = region.key(fp, validate_params_dict(task["parametres"], task["code_commune"]))
        if cle not in self._etapes:
            p = region.path(Path(task["results_dir"]), cle)
            self._etapes[cle] = (
                self._client.scatter(p.read_bytes(), broadcast=True, hash=False) if p.is_file() else None
            )
        fut = self._etapes[cle]
        return None if fut is None else (cle, fut)


def ouvrir(address: str | None, workers: int = 1) -> ExecuteurDask:
    """A Dask executor: on the scheduler at ``address``, or on a LocalCluster of ``workers``
    processes (one thread each) started here when ``address`` is None. French ``ParamError``
    when dask is missing, the scheduler cannot be reached or the workers run another version
    of the library."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise ParamError(
            "L'exécution sur un cluster Dask demande le paquet dask.distributed : "
            "installez l'option « cucs-analysis[dask] » ou lancez sans --scheduler ni --executor dask."
        ) from None
    cluster = None
    if address is None:
        import logging

        # a run whose worker died is failed, as with the local executor (never retried on
        # another worker, which it might kill too)
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            cluster = LocalCluster(
                n_workers=max(1, workers),
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # a free port: never « 8787 already in use »
                silence_logs=logging.ERROR,
            )
        address = cluster.scheduler_address
    try:
        client = Client(address)
    except (OSError, TimeoutError, ValueError):  # Dask's message is in English: not shown
        raise ParamError(
            f"Ordonnanceur Dask injoignable à l'adresse « {address} » : vérifiez l'adresse "
            "(tcp://machine:8786) et que « dask scheduler » tourne sur cette machine. "
            "Rien n'a été exécuté."
        ) from None
    try:
        _verifier_workers(client)
        client.register_plugin(PreparationWorker(), name=PLUGIN)
    except BaseException:
        client.close()
        if cluster is not None:
            cluster.close()
        raise
    return ExecuteurDask(client, cluster)


def _verifier_workers(client: Any) -> None:
    """Every worker must run this very library (the region stage's key and the outputs
    depend on it)."""
    from cucs_analysis.pipeline.region import library_digest

    try:
        client.wait_for_workers(1, timeout=60)
    except TimeoutError:
        raise ParamError(
            "Aucun worker Dask n'est connecté à l'ordonnanceur (attente de 60 s) : lancez "
            "« dask worker <adresse> » sur au moins une machine. Rien n'a été exécuté."
        ) from None
    digests = client.run(_empreinte_bibliotheque)
    ici = library_digest.__wrapped__()  # the files as they are now, as the workers read them
    autres = sorted(addr for addr, d in digests.items() if d != ici)
    if autres:
        raise ParamError(
            f"Les workers Dask {', '.join(autres)} n'ont pas la même version de cucs_analysis que ce "
            "poste (code différent) : installez la même version partout (pip install "
            "'cucs-analysis[dask]' de la même source). Rien n'a été exécuté."
        )


def _empreinte_bibliotheque() -> str:
    from cucs_analysis.pipeline.region import library_digest

    return library_digest.__wrapped__()


# --- worker side ----------------------------------------------------------------------------------

_VERROU = threading.Lock()


def base_locale() -> Path:
    """This machine's folder for the runs sent by a driver: ``$TMPDIR/cucs-distant-<uid>``."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"cucs-distant-{uid}"


def donnees_presentes(fp: str) -> bool:
    """True when this worker already holds the data set ``fp`` (and its Parquet cache)."""
    return (base_locale() / "donnees" / fp / ".complet").is_file()


def _installer(dossier: Path, remplir: Callable[[Path], None]) -> Path:
    """Build ``dossier`` once on this machine: in a temporary folder beside it, renamed into
    place (another worker process of the machine may be doing the same)."""
    if (dossier / ".complet").is_file():
        return dossier
    with _VERROU:
        if (dossier / ".complet").is_file():
            return dossier
        dossier.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dossier.name}.", dir=dossier.parent))
        try:
            remplir(tmp)
            (tmp / ".complet").write_bytes(b"")
            try:
                os.replace(tmp, dossier)
            except OSError:  # another process installed it first
                if not (dossier / ".complet").is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return dossier


def _donnees_locales(fp: str, archive: bytes | None) -> Path:
    dossier = base_locale() / "donnees" / fp
    if (dossier / ".complet").is_file():
        return dossier / "donnees"
    if archive is None:
        raise RuntimeError(
            "les données du poste pilote ne sont pas sur ce worker (arrivé après l'envoi) : "
            "relancez la commande avec --resume"
        )

    def remplir(tmp: Path) -> None:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            tar.extractall(tmp, filter="data")
        (tmp / "donnees").mkdir(exist_ok=True)
        cache = tmp / "cache"
        if (cache / "meta.pkl").is_file():
            from cucs_analysis.data import dataset

            cible = dataset.cache_dir() / fp
            if not cible.exists():
                cible.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.replace(cache, cible)
                except OSError:
                    shutil.copytree(cache, cible, dirs_exist_ok=True)

    _installer(dossier, remplir)
    return dossier / "donnees"


def _projet_local(digest: str, fichiers: dict[str, bytes], donnees: str, data_local: Path) -> Path:
    """The copy of the driver's project on this machine, with its data where the parameters
    say (a relative path)."""
    lien = "" if Path(donnees).is_absolute() else donnees
    cle = hashlib.sha256(f"{digest}|{lien}|{data_local}".encode()).hexdigest()[:20]
    dossier = base_locale() / "projets" / cle

    def remplir(tmp: Path) -> None:
        for rel, data in fichiers.items():
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        if lien:
            p = tmp / lien
            p.parent.mkdir(parents=True, exist_ok=True)
            p.symlink_to(data_local, target_is_directory=True)

    return _installer(dossier, remplir)


def _etape_locale(projet: Path, etape: tuple[str, bytes] | None) -> None:
    """The region stage where a run looks for it (the project's out/results)."""
    if etape is None:
        return
    from cucs_analysis.pipeline import region

    cle, data = etape
    p = region.path(projet / "out" / "results", cle)
    if not p.is_file():
        atomic.write_bytes(p, data)


#: This worker process's warm kernel template and its kernelspec (``kernels.noyau_chaud``),
#: started by its first run that asks for ``cucs-chaud``, stopped with the worker.
_NOYAU: dict[str, Any] = {}


def assurer_noyau(task: dict, donnees: Path | None = None) -> str:
    """The kernel name this run uses on this worker: ``cucs-chaud`` when the run asks for it
    and this worker process's template runs (started here the first time, pre-loading the
    data set ``donnees``), else the standard kernel."""
    nom = str(task.get("kernel_name") or "python3")
    if nom != "cucs-chaud":
        return nom
    try:
        kernels = importlib.import_module("cucs_analysis.pipeline.kernels")
    except ModuleNotFoundError:
        return "python3"
    with _VERROU:
        modele = _NOYAU.get("modele")
        if modele is not None and not modele.alive():
            arreter_noyau()
        if "nom" not in _NOYAU:
            pile = contextlib.ExitStack()
            _NOYAU["pile"] = pile
            _NOYAU["nom"] = pile.enter_context(kernels.noyau_chaud(donnees))
            actifs = kernels.actifs()
            _NOYAU["modele"] = actifs[-1] if actifs and _NOYAU["nom"] == "cucs-chaud" else None
        return _NOYAU["nom"]


def arreter_noyau() -> None:
    """Stop this worker process's template (worker teardown)."""
    pile = _NOYAU.pop("pile", None)
    _NOYAU.clear()
    if pile is not None:
        pile.close()


def executer_tache(
    fn: Callable[[dict], dict],
    spec: dict,
    digest: str,
    fichiers: dict[str, bytes],
    fp: str,
    archive: bytes | None,
    etape: tuple[str, bytes] | None,
    entrees: dict[str, bytes],
) -> dict:
    """On a worker: run ``fn`` (``runner.execute_run``) on the task ``spec`` in a folder of
    its own, return its record and its files (bytes) and the local paths they may mention."""
    from cucs_analysis.pipeline import runner

    nom_donnees = str(spec["parametres"].get("donnees", ""))
    data_local = _donnees_locales(fp, archive)
    projet = _projet_local(digest, fichiers, nom_donnees, data_local)
    _etape_locale(projet, etape)
    tache = base_locale() / "taches" / f"{spec['code_commune']}-{spec['question']}-{secrets.token_hex(6)}"
    results_dir = tache / "results"
    try:
        for rel, data in entrees.items():
            p = results_dir / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        parametres = dict(spec["parametres"])
        if Path(nom_donnees).is_absolute():
            parametres["donnees"] = str(data_local)
        local = {
            **spec,
            "parametres": parametres,
            "notebook": str(projet / "notebooks" / spec["carnet"]),
            "notebooks_dir": str(projet / "notebooks"),
            "out_dir": str(tache / "out"),
            "results_dir": str(results_dir),
        }
        local["kernel_name"] = assurer_noyau(local, data_local)
        record = fn(local)
        final_nb, page, result = runner._task_paths(local)
        fichiers_sortie = {
            "carnet": final_nb.read_bytes() if final_nb.is_file() else None,
            "page": page.read_bytes() if page.is_file() else None,
            "resultats": result.read_bytes() if result.is_file() and record.get("statut") == "ok" else None,
        }
        # a stage the kernel computed itself (none was sent): kept here and sent back
        etapes = {}
        for p in sorted((results_dir / "region" / "etape").glob("*.*")):
            if not p.name.startswith("."):
                etapes[p.name] = p.read_bytes()
                garde = projet / "out" / "results" / "region" / "etape" / p.name
                if not garde.exists():
                    atomic.write_bytes(garde, etapes[p.name])
        return {
            "enregistrement": record,
            "fichiers": fichiers_sortie,
            "etapes": etapes,
            "chemins": {
                "resultats": str(results_dir),
                "sorties": str(tache / "out"),
                "carnets": str(projet / "notebooks"),
                "donnees": str(data_local) if Path(nom_donnees).is_absolute() else "",
            },
        }
    finally:
        shutil.rmtree(tache, ignore_errors=True)


try:  # the plugin's base class, when distributed is installed
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # pragma: no cover - without dask no worker ever loads this
    _WorkerPlugin = object  # type: ignore[assignment,misc]


class PreparationWorker(_WorkerPlugin):  # type: ignore[misc,valid-type]
    """Registered by the driver on every worker (and those joining later): imports the heavy
    modules once; stops the worker's warm kernel template with the worker."""

    name = PLUGIN

    def setup(self, worker: Any) -> None:
        from cucs_analysis.pipeline import runner

        runner._warm_up()

    def teardown(self, worker: Any) -> None:
        with _VERROU:
            arreter_noyau()
