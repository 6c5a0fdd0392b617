"""A temporary project for a run on a modified copy of the data (tests only)."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def projet_sur(donnees: Path, dossier: Path, carnets: list[str] | None = None) -> Path:
    """`dossier` made a project like this one (the notebooks — all, or only `carnets` — and
    params/) whose `params/defaults.yaml` reads the data of `donnees`; returns `dossier`."""
    (dossier / "notebooks").mkdir(parents=True)
    for nb in carnets or sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")):
        shutil.copy(ROOT / "notebooks" / nb, dossier / "notebooks")
    shutil.copytree(ROOT / "params", dossier / "params")
    defaults = dossier / "params" / "defaults.yaml"
    text = defaults.read_text(encoding="utf-8")
    assert "donnees: data/demo\n" in text, "params/defaults.yaml ne nomme plus data/demo"
    defaults.write_text(text.replace("donnees: data/demo\n", f"donnees: {donnees}\n"), encoding="utf-8")
    return dossier
