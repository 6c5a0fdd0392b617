"""One commune's notebooks on national-size data against the demo region (issue 12).

Usage (from the project root, after ``cucs demo --scale national --out /tmp/nat``)::

    python benchmarks/national.py /tmp/nat [--commune 20001] [--tours 2]

Runs ``cucs run --communes CODE`` on the demo data and on the national data, interleaved, and
prints the medians of the sum of the notebooks' durations (from ``manifest.json``) and of the
whole command's wall time, and their ratios national / démo. Outputs go to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cucs_analysis.present import text


def une_execution(racine: Path, commune: str, sortie: Path, donnees: str | None) -> tuple[float, float]:
    """(wall time of the command, sum of the notebooks' durations) of one `cucs run`."""
    commande = [sys.executable, "-m", "cucs_analysis.cli", "run", "--communes", commune, "--out", str(sortie)]
    if donnees:
        commande += ["--donnees", donnees]
    debut = time.perf_counter()
    subprocess.run(commande, cwd=racine, check=True, capture_output=True)
    mur = time.perf_counter() - debut
    runs = json.loads((sortie / "manifest.json").read_text(encoding="utf-8"))["runs"]
    return mur, sum(e["duree_s"] for e in runs if e.get("duree_s") is not None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Une commune : données nationales contre démonstration.")
    parser.add_argument("national", help="dossier écrit par « cucs demo --scale national »")
    parser.add_argument("--commune", default="20001")
    parser.add_argument("--tours", type=int, default=2)
    args = parser.parse_args(argv)
    racine = Path.cwd()
    mesures: dict[str, list[tuple[float, float]]] = {"démo": [], "national": []}
    travail = Path(tempfile.mkdtemp(prefix="cucs-national-"))
    try:
        for tour in range(args.tours):
            ordre = [("national", args.national), ("démo", None)]
            for nom, donnees in ordre if tour % 2 == 0 else ordre[::-1]:
                sortie = travail / f"{nom}-{tour}"
                mesures[nom].append(une_execution(racine, args.commune, sortie, donnees))
                shutil.rmtree(sortie, ignore_errors=True)
    finally:
        shutil.rmtree(travail, ignore_errors=True)
    med = {
        k: (statistics.median(m for m, _ in v), statistics.median(s for _, s in v))
        for k, v in mesures.items()
    }
    for nom, (mur, somme) in med.items():
        print(
            f"{nom} : somme des carnets {text.nombre(somme, 1)} s, commande entière {text.nombre(mur, 1)} s"
        )
    rapport_carnets = med["national"][1] / med["démo"][1]
    rapport_mur = med["national"][0] / med["démo"][0]
    print(
        f"national / démo : carnets {text.nombre(rapport_carnets, 2)} ×, "
        f"commande entière {text.nombre(rapport_mur, 2)} ×"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
