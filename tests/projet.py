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


#: The four required tables, the contours and the metadata: a data set without any programme.
TABLES_SANS_PROGRAMME = frozenset(
    {
        "communes.csv",
        "quartiers.csv",
        "indicateurs.csv",
        "catalogue_indicateurs.csv",
        "quartiers.geojson",
        "metadonnees.yaml",
    }
)


def donnees_sans_programme(dossier: Path) -> Path:
    """A copy of the demo reduced to `TABLES_SANS_PROGRAMME` (the other tables deleted)."""
    shutil.copytree(ROOT / "data" / "demo", dossier)
    for f in dossier.iterdir():
        if f.name not in TABLES_SANS_PROGRAMME:
            f.unlink()
    return dossier


def epci_semeac_tarbes(dossier: Path) -> Path:
    """A hand-made file in the INSEE « composition communale des EPCI » layout naming the two
    communes of the real QPV « Séméac, Tarbes » (the real composition file is not a sample)."""
    epci = dossier / "epci.csv"
    epci.write_text(
        "Composition communale des EPCI\n\nCODGEO;LIBGEO;EPCI;LIBEPCI;DEP;REG\n"
        "65417;Séméac;200069300;CA Tarbes-Lourdes-Pyrénées;65;76\n"
        "65440;Tarbes;200069300;CA Tarbes-Lourdes-Pyrénées;65;76\n",
        encoding="utf-8",
    )
    return epci
