"""Figures of the last test run, for TRUST.md (issue 9, point 8).

A test that proves a guarantee records what it measured (`enregistrer("fuzz.entrees", 1200)`);
the figures of one run are merged into `.cache/confiance.json` (inside the clone, never
committed). `python benchmarks/confiance.py` rewrites the figures table of TRUST.md from it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FICHIER = ROOT / ".cache" / "confiance.json"


def enregistrer(cle: str, valeur: int | float | str, libelle: str) -> None:
    """Record one figure (`cle`: "theme.mesure"; `libelle`: French, what it counts)."""
    try:
        data = json.loads(FICHIER.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data[cle] = {
        "valeur": valeur,
        "libelle": libelle,
        "mesure_le": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    FICHIER.parent.mkdir(parents=True, exist_ok=True)
    tmp = FICHIER.with_name(f".{FICHIER.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, FICHIER)
