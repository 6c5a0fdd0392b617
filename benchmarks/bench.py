"""Benchmark (`make bench`): the same work three ways, in one run, on the demo data.

1. naive loop — the papermill CLI then the `jupyter nbconvert` CLI, once per run;
2. `cucs run` — the project's runner (long-lived workers, in-process HTML export);
3. floor — the report functions called directly, without notebooks, kernels or HTML.

Timings on a shared machine are noisy: compare the ratios printed at the end, which come
from the same run. Usage: ``python benchmarks/bench.py [--communes 20001 20008 …]
[--questions q3 …] [--jobs N]``.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cucs_analysis.reports import questions as _questions

DEFAULT_COMMUNES = ("20001", "20004", "20008", "20012")


@dataclass
class Mesure:
    nom: str
    secondes: float
    executions: int


def _available_questions(root: Path, wanted: list[str] | None) -> list[str]:
    ids = []
    for q in _questions.QUESTIONS:
        if q.regional or not q.required_keys:
            continue
        if (root / "notebooks" / q.notebook).is_file() and (wanted is None or q.id in wanted):
            ids.append(q.id)
    return ids


def naive_loop(root: Path, communes: list[str], qids: list[str], work: Path) -> Mesure:
    """papermill CLI + nbconvert CLI for every run, one after the other."""
    bin_dir = Path(sys.executable).parent
    start = time.perf_counter()
    for code in communes:
        for qid in qids:
            nb = root / "notebooks" / _questions.get(qid).notebook
            out = work / f"{code}_{nb.name}"
            subprocess.run(
                [
                    str(bin_dir / "papermill"),
                    str(nb),
                    str(out),
                    "-r",
                    "code_commune",
                    code,
                    "-p",
                    "dossier_resultats",
                    str(work / "results"),
                    "--cwd",
                    str(nb.parent),
                    "--no-progress-bar",
                ],
                check=True,
                capture_output=True,
            )
            subprocess.run(
                [str(bin_dir / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)],
                check=True,
                capture_output=True,
            )
    return Mesure(
        "boucle naïve (CLI papermill + CLI nbconvert)", time.perf_counter() - start, len(communes) * len(qids)
    )


def runner(root: Path, communes: list[str], qids: list[str], work: Path, jobs: int | None) -> Mesure:
    from cucs_analysis.pipeline import runner as _runner

    start = time.perf_counter()
    summary = _runner.run(root, communes, qids, jobs=jobs, resume=False, out_dir=work / "out", progress=False)
    if summary.exit_code != 0:
        raise SystemExit(f"cucs run a échoué pendant la mesure : {summary.message}")
    return Mesure(
        f"cucs run ({jobs or os.cpu_count()} processus)",
        time.perf_counter() - start,
        len(communes) * len(qids),
    )


def floor(root: Path, communes: list[str], qids: list[str]) -> Mesure:
    """The analyses alone: load the commune, build each question's report (no figures)."""
    from cucs_analysis.data import dataset as load
    from cucs_analysis.pipeline import params
    from cucs_analysis.reports import region

    p0 = params.load_params(communes[0], root)
    data_dir = (root / p0.donnees).resolve()
    start = time.perf_counter()
    n = 0
    # The region stage once, as the runner does (communes with their own region parameters
    # would need their own stage; the demo's share one).
    stage = region.build(load.load_dataset(data_dir), p0)
    for code in communes:
        p = params.load_params(code, root)
        terr = load.load_territory(data_dir, code)
        for qid in qids:
            module = importlib.import_module(f"cucs_analysis.reports.{qid}")
            args = (terr, stage, p) if _questions.get(qid).etape_region else (terr, p)
            module.build(*args)
            n += 1
    return Mesure("plancher (analyses seules, sans carnet)", time.perf_counter() - start, n)


def main(argv: list[str] | None = None) -> int:
    from cucs_analysis.cli import FrenchParser
    from cucs_analysis.pipeline.params import find_project_root

    parser = FrenchParser(
        prog="python -m cucs_analysis.bench", description="Mesure comparée des trois façons d'exécuter."
    )
    parser.add_argument("--communes", nargs="+", default=list(DEFAULT_COMMUNES))
    parser.add_argument("--questions", nargs="+", default=None)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args(argv)

    root = find_project_root()
    qids = _available_questions(root, args.questions)
    work = Path(tempfile.mkdtemp(prefix="cucs-bench-"))
    os.environ.setdefault("CUCS_CACHE_DIR", str(work / "cache"))
    print(f"Mesure sur {len(args.communes)} communes × {len(qids)} questions ({', '.join(qids)}).")
    try:
        mesures = [
            floor(root, args.communes, qids),  # also warms the data cache for the others
            runner(root, args.communes, qids, work, args.jobs),
            naive_loop(root, args.communes, qids, work),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    plancher, run, naive = mesures
    for m in mesures:
        print(
            f"- {m.nom} : {m.secondes:.1f} s, soit {m.secondes / m.executions:.2f} s par carnet".replace(
                ".", ","
            )
        )
    print(f"Rapport boucle naïve / cucs run : {naive.secondes / run.secondes:.1f}".replace(".", ","))
    print(f"Rapport cucs run / plancher : {run.secondes / plancher.secondes:.1f}".replace(".", ","))
    return 0


if __name__ == "__main__":
    sys.exit(main())
