"""Runs on a Dask cluster whose workers share no disk with the driver.

The driver (:class:`ExecuteurDask`, what ``executors.open_executor`` returns for a scheduler
address or ``--executor dask``) sends each run to a worker with what it needs from the
driver's disk, and writes what comes back into ``out/`` exactly where the local runner does:

* once per worker (scattered with ``broadcast=True``, fetched once by each worker): the
  project's ``params/`` and ``notebooks/`` files (:func:`paquet_projet`) and each region stage
  (``results/region/etape/<key>.pkl``) the runs read;
* once per data set, before the first run: the data folder as a tar archive (files by
  content, symlinks followed) with the driver's Parquet cache of it (:func:`archive_donnees`),
  unpacked by a task on each worker that lacks it (:func:`preparer_donnees`), then released:
  no worker keeps the archive in memory during the batch. A worker that joins later and lacks
  the data fails its runs with a French message (« relancez avec --resume »);
* with each task: the run's parameters, and for a synthesis the results files it reads
  (``Contexte.lire_resultats``: its commune's, or every commune's for the regional one).

On the worker (:func:`executer_tache`) everything lives under
``$TMPDIR/cucs-distant-<uid>/`` (:func:`base_locale`: created with mode 0700; refused with a
French error when it is a symlink, belongs to another user or is open to the group or
others, so nothing in it, ``.complet`` markers included, can have been planted by another
user): the data unpacked once per fingerprint (``donnees/<fp>``, its Parquet cache put into
the worker's ``$CUCS_CACHE_DIR``), a copy of the project (``projets/<digest>``, the data
linked where ``params/defaults.yaml`` names it) and one folder per task (``taches/<token>``,
removed at the end) where ``runner.execute_run`` writes the executed notebook, the page and
the results. Only the :data:`GARDER` most recently used data sets and projects are kept, and
task folders older than a day (a killed worker's) are removed (:func:`nettoyer`, at worker
start and after each new data set). The task returns the files as bytes with its record;
the worker is told no path of the driver (the task it receives has none).

Memory: the driver releases each run's Dask result as soon as it has fetched it, and drops
the returned bytes once written (``_RunFuture``); finished runs are not kept by the
executor.

The driver writes them (:func:`ecrire_sorties`) with the local runner's semantics: the
previous results are kept aside while they are replaced (``runner._keep_previous``, undone by
``runner.restore_previous`` if the driver is killed midway), a failed run leaves no page nor
results (its partly executed notebook is kept). Paths of the worker that a file mentions
(the data folder, given or resolved, the project, the results, output and notebooks
folders: papermill's metadata, « Résultats enregistrés : … », a data error) are translated
back to the driver's.

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
    # dereference: a symlinked file is stored by its content (the worker's "data" filter
    # refuses links that leave the folder)
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1, dereference=True) as tar:
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
    """The worker's paths in a returned file replaced by the driver's (as the file writes
    them: plain text, JSON, ASCII-escaped or not, or HTML); the longest first."""
    text = data.decode("utf-8")
    vues: dict[str, str] = {}
    for local, pilote in paires:
        if local and local != pilote and local not in vues:
            vues[local] = pilote
    for local, pilote in sorted(vues.items(), key=lambda kv: -len(kv[0])):
        if forme == "html":
            text = text.replace(html.escape(local), html.escape(pilote))
        elif forme == "json":
            vers = json.dumps(pilote, ensure_ascii=False)[1:-1]
            for ascii_ in (False, True):
                text = text.replace(json.dumps(local, ensure_ascii=ascii_)[1:-1], vers)
        else:
            text = text.replace(local, pilote)
    return text.encode("utf-8")


def _paires(task: dict, local: dict) -> list[tuple[str, str]]:
    """(worker path, driver path) for every folder a returned file may name."""
    root = Path(task["notebooks_dir"]).parent
    donnees = str(task["parametres"].get("donnees", ""))
    data_dir = Path(donnees) if Path(donnees).is_absolute() else root / donnees
    paires = [
        (local.get("resultats", ""), str(task["results_dir"])),
        (local.get("sorties", ""), str(task["out_dir"])),
        (local.get("carnets", ""), str(task["notebooks_dir"])),
    ]
    if local.get("donnees"):  # an absolute data folder: the worker's in the files, the driver's back
        paires.append((local["donnees"], donnees))
    # the data folder as load_dataset names it (resolved): the driver's resolved one
    paires.append((local.get("donnees_resolues", ""), str(data_dir.resolve())))
    paires.append((local.get("projet", ""), str(root)))
    return paires


def ecrire_sorties(task: dict, envoi: dict) -> dict:
    """Write what a worker returned (executed notebook, page, results) where the local runner
    writes them, with its semantics; return the run's record."""
    from cucs_analysis.pipeline import runner

    record = dict(envoi["enregistrement"])
    paires = _paires(task, envoi.get("chemins") or {})
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
    writes them into ``out/`` (in the caller's thread, once) and returns the record.

    The Dask future is released as soon as its value is fetched (the worker forgets the
    result) and the returned bytes are dropped once written: only the record stays."""

    def __init__(self, task: dict, fini: Callable[[_RunFuture], None] | None = None) -> None:
        super().__init__()
        self.task = task
        self.dask_future: Any = None
        self._envoi: dict | None = None
        self._ecrit: dict | None = None
        self._verrou = threading.Lock()
        self._fini = fini

    def result(self, timeout: float | None = None) -> dict:
        super().result(timeout)  # raises the run's exception; the value is in _envoi
        with self._verrou:
            if self._ecrit is None:
                envoi, self._envoi = self._envoi, None
                self._ecrit = ecrire_sorties(self.task, envoi or {"enregistrement": {}})
            return self._ecrit

    def cancel(self) -> bool:
        if self.dask_future is not None and not self.done():
            self.dask_future.cancel()
        return super().cancel()

    def _from_dask(self, fut: Any) -> None:
        value = exc = None
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
        finally:  # the worker forgets the result (nothing pinned there for the batch)
            with contextlib.suppress(Exception):
                fut.release()
            self.dask_future = None
        try:
            if exc is None:
                self._envoi = value
                self.set_result(None)
            else:
                self.set_exception(exc)
        except cf.InvalidStateError:  # cancelled by the driver meanwhile
            self._envoi = None
        if self._fini is not None:
            self._fini(self)


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
        self._futures: set[_RunFuture] = set()  # the runs not finished yet
        self._verrou = threading.Lock()
        self.mesures: dict[str, float] = {}

    # -- the Executor API
    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        return self._executor.submit(fn, *args, **kwargs)

    def submit_run(self, fn: Callable, task: dict, delai_s: float | None = None) -> cf.Future:
        """Send one run (``fn(task)`` on a worker, in a folder of its own); the future's
        ``result()`` writes the returned files and gives the record."""
        root = Path(task["notebooks_dir"]).parent
        projet = self._projet(root)
        fp, erreur_donnees = self._donnees_de(task, root)
        etape = self._etape(task, fp)
        spec = {
            **spec_distante(task),
            "delai_par_cellule": True,
            "delai_s": delai_s if delai_s is not None else task.get("delai_s"),
        }
        rf = _RunFuture(task, self._termine)
        with self._verrou:
            self._futures.add(rf)
        dask_future = self._client.submit(
            executer_tache,
            fn,
            spec,
            projet[0],
            projet[1],
            fp,
            erreur_donnees,
            etape,
            self._entrees(task),
            pure=False,
            key=f"cucs-{task['code_commune']}-{task['question']}-{secrets.token_hex(4)}",
        )
        rf.dask_future = dask_future
        dask_future.add_done_callback(rf._from_dask)
        return rf

    def _termine(self, rf: _RunFuture) -> None:
        with self._verrou:
            self._futures.discard(rf)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        try:
            with self._verrou:
                restants = list(self._futures)
            if cancel_futures:
                for f in restants:
                    f.cancel()
            # Dask's executor cancels what is left when it does not wait
            self._executor.shutdown(wait=wait and not cancel_futures)
            if wait and not cancel_futures:
                cf.wait(restants)
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

    def _donnees_de(self, task: dict, root: Path) -> tuple[str, str | None]:
        """(fingerprint, None or the French reason why the workers could not unpack it).

        The archive is sent to the workers that lack this data set, unpacked there by one
        task each, then released: neither the driver nor the workers keep it."""
        donnees = str(task["parametres"].get("donnees", ""))
        data_dir = Path(donnees) if Path(donnees).is_absolute() else root / donnees
        key = str(data_dir)
        if key not in self._donnees:
            dataset = importlib.import_module("cucs_analysis.data.dataset")
            fp = dataset.load_dataset(data_dir).fingerprint  # the runner's memo: no reload
            presents = self._client.run(donnees_presentes, fp)
            manquants = sorted(addr for addr, ok in presents.items() if not ok)
            erreur = None
            if manquants:
                t0 = time.perf_counter()
                data = archive_donnees(data_dir, fp)
                t1 = time.perf_counter()
                archive = self._client.scatter(data, workers=manquants, broadcast=True, hash=False)
                self.mesures.update(archive_octets=len(data), archive_s=round(t1 - t0, 2))
                del data
                taches = [
                    self._client.submit(
                        preparer_donnees, fp, archive, workers=[addr], allow_other_workers=False,
                        pure=False, key=f"cucs-donnees-{fp[:12]}-{secrets.token_hex(4)}",
                    )
                    for addr in manquants
                ]  # fmt: skip
                try:
                    erreurs = [e for e in self._client.gather(taches) if e]
                except Exception as exc:  # noqa: BLE001 - a worker died meanwhile: its runs will say it
                    erreurs = [
                        f"les données n'ont pas pu être installées sur un worker ({type(exc).__name__})"
                    ]
                finally:
                    for f in taches:
                        f.release()
                    archive.release()
                    del archive, taches
                erreur = erreurs[0] if erreurs else None
                self.mesures["envoi_s"] = round(time.perf_counter() - t1, 2)
            self._donnees[key] = (fp, erreur)
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
        ici = _verifier_workers(client)
        client.register_plugin(PreparationWorker(ici), name=PLUGIN)
    except BaseException:
        client.close()
        if cluster is not None:
            cluster.close()
        raise
    return ExecuteurDask(client, cluster)


def _verifier_workers(client: Any) -> str:
    """Every worker must run this very library (the region stage's key and the outputs
    depend on it); returns its digest (a worker joining later checks it in the plugin)."""
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
    return ici


def _empreinte_bibliotheque() -> str:
    from cucs_analysis.pipeline.region import library_digest

    return library_digest.__wrapped__()


# --- worker side ----------------------------------------------------------------------------------

_VERROU = threading.Lock()  # the folders installed by this process
_VERROU_NOYAU = threading.Lock()  # this process's kernel template
#: How many data sets and project copies a machine keeps (the most recently used).
GARDER = 3
#: Task folders older than this (a killed worker's) are removed.
VIEILLE_TACHE_S = 24 * 3600


class ErreurWorker(RuntimeError):
    """A French reason why this worker cannot run a task (its run is recorded as failed)."""


def base_locale() -> Path:
    """This machine's folder for the runs sent by a driver: ``$TMPDIR/cucs-distant-<uid>``,
    created private (0700). French ``ErreurWorker`` when it is a symlink, belongs to another
    user or is open to the group or others: another user could have planted data, a project
    or a region stage (a pickle) in it."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    base = Path(tempfile.gettempdir()) / f"cucs-distant-{uid if uid is not None else 0}"
    try:
        os.mkdir(base, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ErreurWorker(f"le dossier de travail {base} ne peut pas être créé ({exc.strerror})") from None
    st = os.lstat(base)
    if uid is not None:
        import stat

        if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
            raise ErreurWorker(
                f"le dossier de travail {base} est un lien ou n'est pas un dossier : refusé "
                "(supprimez-le ou donnez au worker un autre TMPDIR)"
            )
        if st.st_uid != uid or st.st_mode & 0o077:
            raise ErreurWorker(
                f"le dossier de travail {base} appartient à un autre utilisateur ou est ouvert "
                "aux autres (droits attendus : 700) : refusé, un autre utilisateur a pu y déposer "
                "des fichiers (supprimez-le ou donnez au worker un autre TMPDIR)"
            )
    return base


def donnees_presentes(fp: str) -> bool:
    """True when this worker already holds the data set ``fp`` (and its Parquet cache) in a
    private folder."""
    try:
        return (base_locale() / "donnees" / fp / ".complet").is_file()
    except (ErreurWorker, OSError):
        return False


def _toucher(dossier: Path) -> None:
    """Mark ``dossier`` as used now (the clean-up keeps the most recently used)."""
    with contextlib.suppress(OSError):
        os.utime(dossier)


@contextlib.contextmanager
def _verrou_machine(base: Path):
    """A lock shared by this machine's worker processes (a file lock in ``base``)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(base / ".verrou", "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def nettoyer(garder: int = GARDER, vieille_tache_s: float = VIEILLE_TACHE_S) -> None:
    """Bound this machine's disk use: keep the ``garder`` most recently used data sets and
    project copies, remove task folders older than ``vieille_tache_s`` (a killed worker's) and
    unfinished installs left behind."""
    try:
        base = base_locale()
    except ErreurWorker:
        return
    maintenant = time.time()
    with _verrou_machine(base):
        for nom in ("donnees", "projets"):
            dossier = base / nom
            if not dossier.is_dir():
                continue
            installes, abandons = [], []
            for p in dossier.iterdir():
                (abandons if p.name.startswith(".") else installes).append(p)
            installes.sort(key=lambda p: p.stat().st_mtime, reverse=True)
            for p in installes[garder:]:
                shutil.rmtree(p, ignore_errors=True)
            for p in abandons:  # an install interrupted (another process's lasts seconds)
                with contextlib.suppress(OSError):
                    if maintenant - p.stat().st_mtime > 3600:
                        shutil.rmtree(p, ignore_errors=True)
        taches = base / "taches"
        if taches.is_dir():
            for p in taches.iterdir():
                with contextlib.suppress(OSError):
                    if maintenant - p.stat().st_mtime > vieille_tache_s:
                        shutil.rmtree(p, ignore_errors=True)


def _installer(dossier: Path, remplir: Callable[[Path], None]) -> Path:
    """Build ``dossier`` once on this machine: in a temporary folder beside it, renamed into
    place (another worker process of the machine may be doing the same). ``dossier`` is under
    :func:`base_locale`, private: its ``.complet`` marker was written by this user."""
    if (dossier / ".complet").is_file():
        _toucher(dossier)
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


def _donnees_locales(fp: str, archive: bytes | None, erreur: str | None = None) -> Path:
    dossier = base_locale() / "donnees" / fp
    if (dossier / ".complet").is_file():
        _toucher(dossier)
        return dossier / "donnees"
    if archive is None:
        raise ErreurWorker(
            erreur
            or "les données du poste pilote ne sont pas sur ce worker (arrivé après l'envoi ou "
            "dossier nettoyé) : relancez la commande avec --resume"
        )

    def remplir(tmp: Path) -> None:
        try:
            with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ErreurWorker(
                "l'archive des données envoyée par le poste pilote n'a pas pu être déballée sur "
                f"ce worker ({type(exc).__name__} : archive abîmée, ou un lien qui sort du dossier "
                "des données)"
            ) from None
        (tmp / "donnees").mkdir(exist_ok=True)
        cache = tmp / "cache"
        if (cache / "meta.pkl").is_file():
            from cucs_analysis.data import dataset

            cible = dataset.cache_dir() / fp
            if not (cible / "meta.pkl").exists():  # another process may be installing or reading it
                cible.parent.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(OSError):  # a rename only: never a copy over a reader
                    os.replace(cache, cible)

    _installer(dossier, remplir)
    return dossier / "donnees"


def preparer_donnees(fp: str, archive: bytes) -> str | None:
    """On a worker (one task per worker lacking the data set): unpack ``archive``, then clean
    up older data sets; None, or the French reason why it failed."""
    try:
        _donnees_locales(fp, archive)
    except ErreurWorker as exc:
        return str(exc)
    nettoyer()
    return None


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
    with _VERROU_NOYAU:  # not the folders' lock: a template start may take minutes
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


#: Set by the worker plugin when this worker runs another library than the driver.
_REFUS: dict[str, str] = {}


def executer_tache(
    fn: Callable[[dict], dict],
    spec: dict,
    digest: str,
    fichiers: dict[str, bytes],
    fp: str,
    erreur_donnees: str | None,
    etape: tuple[str, bytes] | None,
    entrees: dict[str, bytes],
) -> dict:
    """On a worker: run ``fn`` (``runner.execute_run``) on the task ``spec`` in a folder of
    its own, return its record and its files (bytes) and the local paths they may mention.
    A worker that cannot run it (private folder refused, data missing or not unpackable,
    another library) returns a failed record with the French reason."""
    from cucs_analysis.pipeline import runner

    nom_donnees = str(spec["parametres"].get("donnees", ""))
    try:
        if _REFUS.get("raison"):
            raise ErreurWorker(_REFUS["raison"])
        data_local = _donnees_locales(fp, None, erreur_donnees)
        projet = _projet_local(digest, fichiers, nom_donnees, data_local)
        _etape_locale(projet, etape)
        tache = base_locale() / "taches" / f"{spec['code_commune']}-{spec['question']}-{secrets.token_hex(6)}"
    except ErreurWorker as exc:
        return {"enregistrement": runner._failed_record(spec, f"worker Dask : {exc}"), "fichiers": {}}
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
                "projet": str(projet),
                "donnees": str(data_local) if Path(nom_donnees).is_absolute() else "",
                "donnees_resolues": str(data_local.resolve()),
            },
        }
    finally:
        shutil.rmtree(tache, ignore_errors=True)


try:  # the plugin's base class, when distributed is installed
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # pragma: no cover - without dask no worker ever loads this
    _WorkerPlugin = object  # type: ignore[assignment,misc]


class PreparationWorker(_WorkerPlugin):  # type: ignore[misc,valid-type]
    """Registered by the driver on every worker (and those joining later): checks that the
    worker runs the driver's library (``digest``; else its runs fail with a French message),
    cleans up this machine's old folders, imports the heavy modules once (in a thread: the
    worker's event loop stays responsive); stops the worker's warm kernel template with the
    worker."""

    name = PLUGIN
    #: How long teardown waits for a template being started before stopping it anyway.
    ATTENTE_ARRET_S = 10.0

    def __init__(self, digest: str | None = None) -> None:
        self.digest = digest

    async def setup(self, worker: Any) -> None:
        import asyncio

        await asyncio.to_thread(self._preparer)

    def _preparer(self) -> None:
        from cucs_analysis.pipeline import runner

        if self.digest is not None and _empreinte_bibliotheque() != self.digest:
            _REFUS["raison"] = (
                "ce worker n'a pas la même version de cucs_analysis que le poste pilote (code "
                "différent) : installez la même version partout"
            )
        else:
            _REFUS.pop("raison", None)
        nettoyer()
        runner._warm_up()

    def teardown(self, worker: Any) -> None:
        pris = _VERROU_NOYAU.acquire(timeout=self.ATTENTE_ARRET_S)
        try:
            arreter_noyau()
        finally:
            if pris:
                _VERROU_NOYAU.release()
