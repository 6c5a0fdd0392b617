"""Benchmark (`make bench`): the same work three ways, in one go, on the demo data.

1. naive loop — the papermill CLI then the `jupyter nbconvert --to html --no-input` CLI, once
   per run, one after the other (the syntheses after the questions: they read their results);
2. `cucs run` — the project's command, started as a subprocess (``python -m cucs_analysis.cli
   run --out <temp>``) as a user starts it: it pays its own imports and data load; its default
   executor and kernel, as many workers as cores (at most one per notebook) unless ``--jobs``;
3. floor — the same notebooks' code run in this process without kernels nor papermill: every
   code cell is executed here (`demarrer`, the report's build, every `vue_*`/`figure_*` call the
   notebook makes, rendered to PNG by `plots.figure_html` as in a kernel), its displayed values
   become the cell's outputs, and the page goes through `publish.render_page`, the runner's own
   templates. The region stage is computed once, as the runner does, and the site (index,
   commune pages, Méthode, CSV downloads) is built from these outputs by `publish.build_site`,
   as `cucs run` does at its end: the same work.

Before the three, the data cache (`CUCS_CACHE_DIR`: the validated data set in Parquet) is
filled once, untimed, by a subprocess loading the data set as `cucs run` does: no way pays the
first validation for the others.

For each way: wall time, CPU time (this process and its children, from `getrusage`, checked
against a sample of the process tree: kernels forked from a template are not our children), peak
memory (sum of the resident sizes over the process tree, sampled every 0.2 s) and the number of
notebooks. Then the ratios naive / `cucs run` (target ≥ 6) and `cucs run` / (floor ÷ workers)
(target ≤ 2), written with the machine's description to `benchmarks/results.md`. A target is
said met (« objectif atteint ») only when the load average at the start was below the number of
cores; otherwise the verdict is « mesure sous charge : à refaire ».

Full run (`make bench`): every demo commune × every notebook, syntheses included, as `cucs run`
does by default. ``--quick``: 2 communes × q1, q3 and both syntheses. ``--memoire``: one
notebook run 100 times in a row by one worker: memory of the driver, of the template (warm
kernels) and of each run's processes; first, last, maximum and slope, appended to results.md.

Timings on a shared machine are noisy: compare the ratios, which come from the same run.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cucs_analysis.present import text

ROOT = Path(__file__).resolve().parents[1]
RESULTS_MD = ROOT / "benchmarks" / "results.md"
QUICK_COMMUNES = ("20001", "20008")
QUICK_QUESTIONS = ("q1", "q3", "synthese", "synthese_regionale")
CIBLE_NAIF = 6.0  # cucs run at least 6× faster than the naive loop
CIBLE_PLANCHER = 2.0  # cucs run within 2× of floor ÷ workers
MIO = 1024 * 1024


# --- measuring -------------------------------------------------------------------------------------


@dataclass
class Mesure:
    """One way of doing the work: wall and CPU seconds, peak memory (bytes), notebooks run."""

    nom: str
    mur_s: float
    cpu_s: float
    memoire_o: int
    carnets: int
    detail: str = ""

    @property
    def par_carnet_s(self) -> float:
        return self.mur_s / self.carnets if self.carnets else float("nan")


def _cpu_rusage() -> float:
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


class SondeArbre:
    """Samples this process and all its descendants (psutil) in a thread: the peak of the sum
    of their resident sizes, and the CPU time of every process seen (its last cumulative value,
    its reaped children's included), to cross-check `getrusage` where processes are not our
    children (kernels forked from a template are the template's)."""

    def __init__(self, periode_s: float = 0.2):
        import psutil

        self._psutil = psutil
        self.periode_s = periode_s
        self.pic_rss = 0
        self._cpu: dict[tuple[int, float], float] = {}
        self._base: dict[tuple[int, float], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._boucle, name="sonde-bench", daemon=True)

    def _procs(self) -> list:
        moi = self._psutil.Process()
        try:
            return [moi, *moi.children(recursive=True)]
        except self._psutil.Error:
            return [moi]

    def _releve(self) -> None:
        total = 0
        for p in self._procs():
            try:
                with p.oneshot():
                    total += p.memory_info().rss
                    t = p.cpu_times()
                    self._cpu[(p.pid, p.create_time())] = t.user + t.system
            except self._psutil.Error:
                continue
        self.pic_rss = max(self.pic_rss, total)

    def _boucle(self) -> None:
        while not self._stop.wait(self.periode_s):
            self._releve()

    def __enter__(self) -> SondeArbre:
        self._releve()
        self._base = dict(self._cpu)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._releve()

    @property
    def cpu_s(self) -> float:
        """Own CPU seconds (children excluded) of every process seen since the start: a lower
        bound (a process shorter than the sampling period is missed)."""
        return sum(v - self._base.get(k, 0.0) for k, v in self._cpu.items())


@contextlib.contextmanager
def mesurer(nom: str, carnets: int) -> Iterator[Mesure]:
    """Measure the block: wall time, CPU (getrusage self + children, or the sampled tree if
    higher), peak memory of the process tree."""
    m = Mesure(nom, 0.0, 0.0, 0, carnets)
    cpu0, t0 = _cpu_rusage(), time.perf_counter()
    with SondeArbre() as sonde:
        yield m
    m.mur_s = time.perf_counter() - t0
    # getrusage misses processes that are not our children, or not yet reaped; the sample
    # misses short-lived ones: the higher of the two
    m.cpu_s = max(_cpu_rusage() - cpu0, sonde.cpu_s)
    m.memoire_o = sonde.pic_rss


# --- the work to do --------------------------------------------------------------------------------


@dataclass
class Travail:
    """The runs (commune, question) in execution order, and their notebooks."""

    racine: Path
    communes: list[str]
    questions: list[str] | None  # None: every question with a notebook
    runs: list[tuple[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        from cucs_analysis.pipeline import runner

        self.runs, _missing = runner.plan_runs(self.racine / "notebooks", self.communes, self.questions)

    @property
    def n(self) -> int:
        return len(self.runs)


def communes_demo(racine: Path) -> list[str]:
    """The communes `cucs run` runs by default: one per params/<code>.yaml."""
    from cucs_analysis.pipeline.params import commune_param_files

    return [p.stem for p in commune_param_files(racine)]


# --- 1. the naive loop -----------------------------------------------------------------------------


def boucle_naive(travail: Travail, dossier: Path) -> Mesure:
    """papermill CLI + nbconvert CLI for every run, one after the other."""
    bin_dir = Path(sys.executable).parent
    resultats = dossier / "results"
    with mesurer("boucle naïve (papermill puis nbconvert en ligne de commande)", travail.n) as m:
        for code, q in travail.runs:
            nb = travail.racine / "notebooks" / q.notebook
            out = dossier / code / nb.name
            out.parent.mkdir(parents=True, exist_ok=True)
            commande = [str(bin_dir / "papermill"), str(nb), str(out), "-r", "code_commune", code]
            commande += ["-p", "dossier_resultats", str(resultats), "--cwd", str(nb.parent)]
            subprocess.run([*commande, "--no-progress-bar"], check=True, capture_output=True)
            subprocess.run(
                [str(bin_dir / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)],
                check=True,
                capture_output=True,
            )
    return m


# --- 2. cucs run -----------------------------------------------------------------------------------


def nombre_workers(jobs: int | None, n: int) -> int:
    """The runner's number of worker processes: `--jobs` or one per core, at most one per run."""
    return max(1, min(jobs or os.cpu_count() or 1, n))


def commande_cucs_run(travail: Travail, sortie: Path, jobs: int | None) -> list[str]:
    """`cucs run` as a user types it (same interpreter, output in `sortie`)."""
    commande = [sys.executable, "-m", "cucs_analysis.cli", "run", "--out", str(sortie)]
    commande += ["--communes", *travail.communes]
    if travail.questions:
        commande += ["--questions", *travail.questions]
    if jobs:
        commande += ["--jobs", str(jobs)]
    return commande


def _sous_processus(commande: list[str], racine: Path, quoi: str) -> None:
    fini = subprocess.run(commande, cwd=racine, capture_output=True, text=True)
    if fini.returncode != 0:
        fin = (fini.stdout + fini.stderr).strip().splitlines()[-5:]
        raise SystemExit(f"{quoi} a échoué pendant la mesure (code {fini.returncode}) :\n" + "\n".join(fin))


def cucs_run(travail: Travail, dossier: Path, jobs: int | None) -> Mesure:
    """`cucs run` in a subprocess (its CPU through `RUSAGE_CHILDREN` once waited for, and the
    process tree's sample: the template and its forked kernels are its descendants)."""
    workers = nombre_workers(jobs, travail.n)
    commande = commande_cucs_run(travail, dossier / "out", jobs)
    with mesurer(f"cucs run ({text.pluriel(workers, 'processus', 'processus')})", travail.n) as m:
        _sous_processus(commande, travail.racine, "cucs run")
    return m


CHARGER_DONNEES = """
import sys
from pathlib import Path
from cucs_analysis.data import dataset
from cucs_analysis.pipeline.params import REGION, load_params
racine = Path(sys.argv[1])
dataset.load_dataset(racine / load_params(REGION, racine).donnees)
"""


def rechauffer_cache(racine: Path) -> None:
    """Fill the data cache once, untimed, as `cucs run` loads the data set (subprocess: this
    process keeps nothing of it)."""
    _sous_processus([sys.executable, "-c", CHARGER_DONNEES, str(racine)], racine, "Le chargement des données")


# --- 3. the floor ----------------------------------------------------------------------------------


def _format(valeur: Any) -> tuple[dict, dict]:
    """What a kernel sends for a displayed value: IPython's own formatter (mime bundle)."""
    from IPython.core.formatters import DisplayFormatter

    global _FORMATTER
    if _FORMATTER is None:
        _FORMATTER = DisplayFormatter()
    return _FORMATTER.format(valeur)


_FORMATTER = None


@contextlib.contextmanager
def _capture_display(sorties: list) -> Iterator[None]:
    """`IPython.display.display` appends a display_data output instead of printing."""
    import IPython.display
    from nbformat.v4 import new_output

    def display(*objs: Any, **_kw: Any) -> None:
        for obj in objs:
            data, meta = _format(obj)
            sorties.append(new_output("display_data", data=data, metadata=meta))

    ancien = IPython.display.display
    IPython.display.display = display
    try:
        yield
    finally:
        IPython.display.display = ancien


def executer_cellules(nb: Any, injectes: dict[str, Any]) -> dict[str, Any]:
    """Run the code cells of `nb` here as a kernel would (the parameters cell, then the injected
    values, then the rest), filling each cell's outputs with what it displays. Returns the
    namespace. A cell's error propagates, as papermill's would."""
    from nbformat.v4 import new_output

    ns: dict[str, Any] = {"__name__": "__main__"}
    compteur = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        compteur += 1
        cell.execution_count = compteur
        sorties: list = []
        arbre = ast.parse(cell.source)
        dernier = arbre.body.pop() if arbre.body and isinstance(arbre.body[-1], ast.Expr) else None
        with _capture_display(sorties):
            exec(compile(arbre, f"<cellule {compteur}>", "exec"), ns)
            valeur = None
            if dernier is not None:
                valeur = eval(compile(ast.Expression(dernier.value), f"<cellule {compteur}>", "eval"), ns)
        if valeur is not None:
            data, meta = _format(valeur)
            sorties.append(new_output("execute_result", data=data, metadata=meta, execution_count=compteur))
        cell.outputs = sorties
        if "parameters" in cell.metadata.get("tags", []):
            ns.update(injectes)
    return ns


def executer_plancher(racine: Path, code: str, q: Any, resultats: Path, parametres: dict, nom: str) -> str:
    """One run of the floor: the notebook's cells in this process, then its page."""
    import nbformat

    from cucs_analysis.pipeline import publish

    nb = nbformat.read(racine / "notebooks" / q.notebook, as_version=4)
    injectes = {"code_commune": code, "parametres": parametres, "dossier_resultats": str(resultats)}
    ancien = Path.cwd()
    os.chdir(racine / "notebooks")  # the notebooks run from their folder
    try:
        executer_cellules(nb, injectes)
    finally:
        os.chdir(ancien)
    return publish.render_page(nb, q.id, code, nom)


def plancher(travail: Travail, dossier: Path, workers: int) -> Mesure:
    """The analyses, figures and pages of every run in this one process, without kernels."""
    import matplotlib

    matplotlib.use("Agg")
    from cucs_analysis.data import dataset as load
    from cucs_analysis.pipeline import atomic, params, publish, region, runner
    from cucs_analysis.pipeline.params import REGION

    resultats = dossier / "results"
    with mesurer("plancher (mêmes analyses, figures et pages, sans noyau)", travail.n) as m:
        base = params.load_params(REGION, travail.racine)
        jeu = load.load_dataset(travail.racine / base.donnees)
        noms = dict(
            zip(
                jeu.tables["communes"]["code_commune"].astype(str),
                jeu.tables["communes"]["nom"].astype(str),
                strict=True,
            )
        )
        charges = {c: params.load_params(c, travail.racine) for c in {c for c, _ in travail.runs}}
        lecteurs = [charges[c] for c, q in travail.runs if q.etape_region]
        etapes = region.prepare(jeu, lecteurs, resultats)  # the region stage once, as the runner does
        runs = []
        for code, q in travail.runs:
            nom = noms.get(code, code) if code != REGION else "Région"
            page = executer_plancher(travail.racine, code, q, resultats, charges[code].as_dict(), nom)
            atomic.write_text(dossier / "pages" / code / f"{q.id}.html", page)
            runs.append({"carnet": q.notebook, "code_commune": code, "question": q.id, "statut": "ok",
                         "erreur": None, "nom_commune": nom})  # fmt: skip
        # the site from these outputs, as `cucs run` builds it at its end (same function)
        manifeste = {
            "genere_le": runner._now(),
            "jeu_de_donnees": str(getattr(jeu, "fingerprint", "")),
            "nom_jeu_de_donnees": str(getattr(getattr(jeu, "metadata", None), "nom", "") or ""),
            "dossier_donnees": runner._shown_path(travail.racine / base.donnees, travail.racine),
            "etape_region": etapes,
            "avertissements_parametres": {},
            "avertissements_donnees": runner.avertissements_jeu(jeu),
            "runs": runs,
        }
        atomic.write_json(dossier / runner.MANIFEST, manifeste)
        publish.build_site(dossier, travail.racine)
    m.detail = f"divisé par {workers} processus : {_secondes(m.mur_s / workers)}"
    return m


# --- French output ---------------------------------------------------------------------------------


def _secondes(s: float) -> str:
    return f"{text.nombre(s, 1)}\u00a0s"


def _mio(o: int) -> str:
    return f"{text.nombre(o / MIO, 0)}\u00a0Mio"


def _rapport(x: float) -> str:
    return f"{text.nombre(x, 1)}\u00a0×"


@dataclass
class Bilan:
    naif: Mesure
    run: Mesure
    plancher: Mesure
    workers: int
    charge: float | None = None  # load average (1 min) at the start
    coeurs: int = field(default_factory=lambda: os.cpu_count() or 1)

    @property
    def sous_charge(self) -> bool:
        """The machine was busy at the start: the timings are not a reference."""
        return self.charge is None or self.charge >= self.coeurs

    @property
    def naif_sur_run(self) -> float:
        return self.naif.mur_s / self.run.mur_s

    @property
    def run_sur_plancher(self) -> float:
        return self.run.mur_s / (self.plancher.mur_s / self.workers)

    @property
    def cpu_naif_sur_run(self) -> float:
        return self.naif.cpu_s / self.run.cpu_s

    @property
    def cpu_run_sur_plancher(self) -> float:
        return self.run.cpu_s / self.plancher.cpu_s


def tableau_mesures(mesures: list[Mesure]) -> str:
    lignes = [
        "| façon | carnets | temps écoulé | par carnet | temps CPU | mémoire max. (arbre) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m in mesures:
        lignes.append(
            f"| {m.nom} | {m.carnets} | {_secondes(m.mur_s)} | {text.nombre(m.par_carnet_s, 2)}\u00a0s "
            f"| {_secondes(m.cpu_s)} | {_mio(m.memoire_o)} |"
        )
    return "\n".join(lignes)


def _verdict(b: Bilan, objectif: str, tenu: bool) -> str:
    """« (objectif ≥ 6 : objectif atteint ; charge au départ 0,4 pour 2 cœurs) », or the same
    with « (mesure sous charge : à refaire) » when the machine was busy at the start."""
    if b.charge is None:
        charge = "charge au départ inconnue"
    else:
        charge = f"charge au départ {text.nombre(b.charge, 1)} pour {text.pluriel(b.coeurs, 'cœur')}"
    if b.sous_charge:
        return f"({objectif} ; {charge}) (mesure sous charge : à refaire)"
    return f"({objectif} : {'objectif atteint' if tenu else 'objectif non atteint'} ; {charge})"


def phrases_rapports(b: Bilan) -> list[str]:
    cible_naif = f"objectif ≥ {text.nombre(CIBLE_NAIF, 0)}"
    cible_plancher = f"objectif ≤ {text.nombre(CIBLE_PLANCHER, 0)}"
    return [
        f"Boucle naïve / cucs run : {_rapport(b.naif_sur_run)} "
        f"{_verdict(b, cible_naif, b.naif_sur_run >= CIBLE_NAIF)}.",
        f"cucs run / (plancher ÷ {b.workers}) : {_rapport(b.run_sur_plancher)} "
        f"{_verdict(b, cible_plancher, b.run_sur_plancher <= CIBLE_PLANCHER)}.",
        f"En temps CPU (moins sensible aux autres charges de la machine) : boucle naïve / cucs run "
        f"{_rapport(b.cpu_naif_sur_run)}, cucs run / plancher {_rapport(b.cpu_run_sur_plancher)}.",
    ]


def machine() -> dict[str, str]:
    """The machine's description, in French."""
    import psutil

    modele = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for ligne in Path("/proc/cpuinfo").read_text().splitlines():
            if ligne.lower().startswith("model name"):
                modele = ligne.split(":", 1)[1].strip()
                break
    commit = "inconnu"
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
        # results.md is this script's own output: a previous run rewriting it is not a change
        sale = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks/results.md"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if sale:
            commit += " (avec des modifications non validées)"
    charge = ", ".join(text.nombre(x, 2) for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n.d."
    return {
        "Processeur": modele,
        "Cœurs": str(os.cpu_count()),
        "Mémoire": f"{text.nombre(psutil.virtual_memory().total / 1024**3, 1)}\u00a0Gio",
        "Python": platform.python_version(),
        "Système": platform.platform(),
        "Commit": commit,
        "Date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "Charge au départ (1, 5, 15 min)": charge,
    }


EN_TETE = """# Mesures de performance (`make bench`)

Écrit par `benchmarks/bench.py` : ne pas modifier à la main. Le même travail (chaque carnet
pour chaque commune, synthèses comprises) est fait de trois façons dans la même exécution :

1. **boucle naïve** : `papermill` puis `jupyter nbconvert --to html --no-input` en ligne de
   commande, un carnet après l'autre ;
2. **cucs run** : la commande du projet, lancée comme par un utilisateur (sous-processus,
   exécuteur et noyau par défaut), site compris ;
3. **plancher** : le code des mêmes carnets exécuté dans un seul processus, sans noyau ni
   papermill (mêmes analyses, mêmes figures PNG, mêmes pages par les mêmes gabarits), puis le
   même site (index, pages des communes, Méthode, téléchargements CSV) par la même fonction.

Le cache des données est rempli une fois avant les trois mesures, hors chronométrage. Un
objectif n'est dit « atteint » que si la charge de la machine au départ était inférieure à son
nombre de cœurs ; sinon : « mesure sous charge : à refaire ».

Temps CPU : ce processus et ses enfants (`getrusage`). Mémoire : pic de la somme des tailles
résidentes de l'arbre des processus, relevée toutes les 0,2 s (les pages partagées par des
processus issus d'un même `fork` y sont comptées plusieurs fois). Sur une machine partagée,
seuls les rapports d'une même exécution se comparent.
"""


def ecrire_resultats(b: Bilan, infos: dict[str, str], perimetre: str, chemin: Path = RESULTS_MD) -> Path:
    """Overwrite `chemin` with the header, the machine, the table and the ratios."""
    lignes = [EN_TETE, "## Machine", ""]
    lignes += [f"- {k} : {v}" for k, v in infos.items()]
    lignes += ["", f"## Mesures ({perimetre})", "", tableau_mesures([b.naif, b.run, b.plancher]), ""]
    lignes += [f"- {p}" for p in phrases_rapports(b)]
    lignes.append(f"- Plancher {b.plancher.detail}.")
    chemin.write_text("\n".join(lignes) + "\n", encoding="utf-8")
    return chemin


# --- memory over 100 runs --------------------------------------------------------------------------


def pente(valeurs: list[float]) -> float:
    """Least-squares slope of `valeurs` against their index (units per run)."""
    n = len(valeurs)
    if n < 2:
        return 0.0
    mx, my = (n - 1) / 2, sum(valeurs) / n
    num = sum((i - mx) * (v - my) for i, v in enumerate(valeurs))
    return num / sum((i - mx) ** 2 for i in range(n))


def _uss(p: Any) -> tuple[int, int]:
    try:
        mi = p.memory_full_info()
        return mi.rss, mi.uss
    except Exception:
        return p.memory_info().rss, 0


def propre_anonyme(pid: int) -> int | None:
    """Bytes of a process's private dirty pages (its own heap: ``Private_Dirty`` of
    ``/proc/<pid>/smaps_rollup``), or None where that file does not exist. Its USS also
    counts the library and cache pages no other process happens to map at that moment: it
    rose by 15 MiB over 100 runs while the template's resident size and heap stayed flat."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for ligne in f:
                if ligne.startswith("Private_Dirty:"):
                    return int(ligne.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _pids_modeles() -> set[int]:
    """The warm kernels' templates of this process (their kernels have the same command line)."""
    try:
        from cucs_analysis.pipeline import kernels

        return {t.process.pid for t in kernels.actifs()}
    except Exception:
        return set()


def _memoire_de(groupe: list) -> tuple[int, int]:
    """Resident size and private dirty pages summed over ``groupe`` (a process that ended
    meanwhile counts for nothing)."""
    import psutil

    rss = tas = 0
    for p in groupe:
        try:
            rss += p.memory_info().rss
        except psutil.Error:
            continue
        tas += propre_anonyme(p.pid) or 0
    return rss, tas


def _tache(racine: Path, code: str, qid: str, dossier: Path, kernel_name: str) -> dict:
    """A task as `runner.run` builds it (the keys `execute_run` reads)."""
    from cucs_analysis.pipeline.params import load_params
    from cucs_analysis.reports import questions

    q = questions.get(qid)
    return {
        "code_commune": code,
        "question": qid,
        "carnet": q.notebook,
        "notebook": str(racine / "notebooks" / q.notebook),
        "notebooks_dir": str(racine / "notebooks"),
        "out_dir": str(dossier),
        "results_dir": str(dossier / "results"),
        "parametres": load_params(code, racine).as_dict(),
        "nom_commune": code,
        "hash_entrees": "",
        "versions": {},
        "resultats_requis": bool(q.required_keys),
        "delai_s": 600.0,
        "kernel_name": kernel_name,
    }


@contextlib.contextmanager
def _noyau_par_defaut(racine: Path) -> Iterator[str]:
    """The kernel `cucs run` uses by default: a warm kernels' template for the block when the
    runner has them (`pipeline.kernels`), else the standard kernel."""
    from cucs_analysis.pipeline import runner
    from cucs_analysis.pipeline.params import REGION, load_params

    try:
        from cucs_analysis.pipeline import kernels
    except ImportError:
        yield "python3"
        return
    choix = getattr(runner, "_choix_noyau", None)
    if not callable(choix) or choix(None) != "chaud":
        yield getattr(kernels, "STANDARD", "python3")
        return
    base = load_params(REGION, racine)
    with kernels.noyau_chaud(racine / base.donnees) as nom:
        yield nom


def memoire(racine: Path, code: str, qid: str, n: int, dossier: Path) -> list[str]:
    """Run `qid` for `code` `n` times in a row on one worker; the memory after each run."""
    import psutil

    from cucs_analysis.pipeline import executors, runner

    moi = psutil.Process()
    pilote, pics = [], []
    modele_rss, modele_tas, workers_rss, workers_tas = [], [], [], []
    executor = executors.open_executor(None, 1, initializer=runner._warm_up)
    with _noyau_par_defaut(racine) as kernel_name:
        tache = _tache(racine, code, qid, dossier, kernel_name)
        for i in range(n):
            with SondeArbre(0.1) as sonde:
                rec = executor.submit_run(runner.execute_run, tache, delai_s=tache["delai_s"]).result()
            if rec["statut"] != "ok":
                raise SystemExit(f"exécution {i + 1} en échec : {rec['erreur']}")
            pics.append(sonde.pic_rss)
            pilote.append(_uss(moi))
            # the processes living across runs, after this run: the template and, with an
            # executor that keeps its worker processes, those (the run's kernel is ending: its
            # parent is the template, it is left out)
            modeles = _pids_modeles()
            enfants = moi.children(recursive=False)
            for groupe, rss, tas in (
                ([p for p in enfants if p.pid in modeles], modele_rss, modele_tas),
                ([p for p in enfants if p.pid not in modeles], workers_rss, workers_tas),
            ):
                r, t = _memoire_de(groupe)
                rss.append(r)
                tas.append(t)
        executor.shutdown()

    def ligne(nom: str, valeurs: list[float]) -> str:
        return (
            f"| {nom} | {_mio(valeurs[0])} | {_mio(valeurs[-1])} | {_mio(max(valeurs))} "
            f"| {text.nombre(pente(valeurs) / 1024, 1, signe=True)}\u00a0Kio |"
        )

    lignes = [
        f"## Mémoire sur {n} exécutions de suite ({qid}, commune {code}, un processus d'exécution)",
        "",
        f"Date : {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} ; noyau « {kernel_name} ». "
        + (
            "Le pilote et le modèle de noyau vivent toute la série ; chaque exécution a son noyau, "
            "issu du modèle par `fork`."
            if kernel_name != "python3"
            else "Le pilote vit toute la série ; chaque exécution a son noyau Python neuf."
        ),
        "",
        "| mesure | 1re | dernière | max. | pente par exécution |",
        "|---|---:|---:|---:|---:|",
        ligne("pilote, taille résidente", [r for r, _ in pilote]),
        ligne("pilote, mémoire propre (USS)", [u for _, u in pilote]),
        ligne("pic de l'arbre des processus pendant une exécution (RSS)", pics),
    ]
    for nom, rss, tas in (
        ("processus d'exécution gardé d'une exécution à l'autre", workers_rss, workers_tas),
        ("modèle de noyau", modele_rss, modele_tas),
    ):
        if any(rss):
            lignes.append(ligne(f"{nom}, taille résidente", rss))
        if any(tas):
            lignes.append(ligne(f"{nom}, pages privées modifiées (son tas)", tas))
    lignes += [
        "",
        "Pages privées modifiées : `Private_Dirty` de `/proc/<pid>/smaps_rollup`, la mémoire que le "
        "processus a écrite et ne partage avec aucun autre. La mémoire propre (USS) compte aussi les "
        "pages des bibliothèques et du cache qu'aucun autre processus ne lit à ce moment : elle varie "
        "avec les autres processus de la machine, pas avec le processus mesuré.",
    ]
    return lignes


# --- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    from cucs_analysis.cli import FrenchParser

    parser = FrenchParser(
        prog="python benchmarks/bench.py",
        description="Mesure comparée des trois façons d'exécuter les carnets (boucle naïve, cucs run, plancher).",
    )
    parser.add_argument(
        "--quick", action="store_true", help="sous-ensemble rapide : 2 communes × q1, q3 et les synthèses"
    )
    parser.add_argument(
        "--communes", nargs="+", default=None, help="communes (défaut : toutes celles de params/)"
    )
    parser.add_argument("--questions", nargs="+", default=None, help="questions (défaut : tous les carnets)")
    parser.add_argument("--jobs", type=int, default=None, help="processus de cucs run (défaut : un par cœur)")
    parser.add_argument(
        "--memoire", action="store_true", help="mémoire d'un processus sur 100 exécutions de suite"
    )
    parser.add_argument("--executions", type=int, default=100, help="nombre d'exécutions pour --memoire")
    parser.add_argument(
        "--sortie",
        type=Path,
        default=RESULTS_MD,
        help="fichier de résultats (défaut : benchmarks/results.md)",
    )
    args = parser.parse_args(argv)

    racine = ROOT
    dossier = Path(tempfile.mkdtemp(prefix="cucs-bench-"))
    os.environ.setdefault("CUCS_CACHE_DIR", str(racine / ".cache" / "cucs"))
    try:
        if args.memoire:
            commune = (args.communes or [QUICK_COMMUNES[0]])[0]
            question = (args.questions or ["q1"])[0]
            print(f"Mémoire : {question} pour la commune {commune}, {args.executions} exécutions de suite…")
            lignes = memoire(racine, commune, question, args.executions, dossier / "memoire")
            print("\n".join(lignes))
            with args.sortie.open("a", encoding="utf-8") as f:
                f.write("\n" + "\n".join(lignes) + "\n")
            return 0
        charge = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        infos = machine()  # the load average before we add to it
        communes = args.communes or (list(QUICK_COMMUNES) if args.quick else communes_demo(racine))
        questions = args.questions or (list(QUICK_QUESTIONS) if args.quick else None)
        travail = Travail(racine, communes, questions)
        workers = nombre_workers(args.jobs, travail.n)
        perimetre = (
            f"{'sous-ensemble --quick' if args.quick else 'démo complète'} : "
            f"{text.pluriel(len(communes), 'commune')}, {text.pluriel(travail.n, 'carnet')}"
        )
        print(f"Mesure sur {perimetre} ({', '.join(sorted({q.id for _, q in travail.runs}))}).")
        print("… cache des données (hors mesure)", flush=True)
        rechauffer_cache(racine)
        etapes: list[tuple[str, Callable[[], Mesure]]] = [
            ("plancher", lambda: plancher(travail, dossier / "plancher", workers)),
            ("cucs run", lambda: cucs_run(travail, dossier / "run", args.jobs)),
            ("boucle naïve", lambda: boucle_naive(travail, dossier / "naif")),
        ]
        mesures = {}
        for nom, f in etapes:
            print(f"… {nom}", flush=True)
            mesures[nom] = f()
            print(f"  {_secondes(mesures[nom].mur_s)}", flush=True)
        b = Bilan(mesures["boucle naïve"], mesures["cucs run"], mesures["plancher"], workers, charge)
        print(tableau_mesures([b.naif, b.run, b.plancher]))
        print("\n".join(phrases_rapports(b)))
        chemin = ecrire_resultats(b, infos, perimetre, args.sortie)
        print(f"Écrit : {chemin}")
    finally:
        shutil.rmtree(dossier, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
