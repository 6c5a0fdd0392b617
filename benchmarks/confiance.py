"""Rewrite the figures table of TRUST.md from the last test run (`.cache/confiance.json`).

Usage: `make confiance` (runs the tests first) or `python benchmarks/confiance.py` after a
`make test`. The table sits between the markers `<!-- chiffres:debut -->` and
`<!-- chiffres:fin -->`; the rest of TRUST.md is written by hand.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from cucs_analysis.present import text

ROOT = Path(__file__).resolve().parents[1]
TRUST = ROOT / "TRUST.md"
MESURES = ROOT / ".cache" / "confiance.json"
DEBUT, FIN = "<!-- chiffres:debut -->", "<!-- chiffres:fin -->"


def tableau(mesures: dict) -> str:
    lignes = ["| mesure | valeur | relevée le |", "|---|---:|---|"]
    for cle in sorted(mesures):
        m = mesures[cle]
        v = m["valeur"]
        valeur = text.nombre_exact(v, 2) if isinstance(v, int | float) else str(v)
        lignes.append(f"| {m['libelle']} (`{cle}`) | {valeur} | {text.date_fr(m['mesure_le'][:10])} |")
    return "\n".join(lignes)


def main() -> int:
    try:
        mesures = json.loads(MESURES.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(
            f"Aucune mesure dans {MESURES.relative_to(ROOT)} : lancez d'abord « make test ».", file=sys.stderr
        )
        return 1
    doc = TRUST.read_text(encoding="utf-8")
    motif = re.compile(re.escape(DEBUT) + r".*?" + re.escape(FIN), re.S)
    if not motif.search(doc):
        print(f"TRUST.md : les repères {DEBUT} … {FIN} sont absents.", file=sys.stderr)
        return 1
    doc = motif.sub(lambda _: f"{DEBUT}\n{tableau(mesures)}\n{FIN}", doc)
    TRUST.write_text(doc, encoding="utf-8")
    print(f"TRUST.md : {text.pluriel(len(mesures), 'mesure reportée', 'mesures reportées')}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
