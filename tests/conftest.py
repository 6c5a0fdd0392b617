"""Shared fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """q1, q2 and q4 run once through the project's runner on the demo, for a rich commune
    (20001) and a non-signatory one (20012); returns the output folder (results/, site/)."""
    from cucs_analysis.pipeline import runner

    out = tmp_path_factory.mktemp("execution-demo")
    mp = pytest.MonkeyPatch()
    mp.setenv("CUCS_CACHE_DIR", str(out / "cache"))
    try:
        summary = runner.run(
            ROOT, ["20001", "20012"], ["q1", "q2", "q4"], jobs=2, resume=False, out_dir=out, progress=False
        )
    finally:
        mp.undo()
    assert summary.exit_code == 0, summary.message
    return out


_REGIONS: dict = {}


def region_of(data_dir: Path, params):
    """The region stage of a data directory for these parameters (memoised for the session):
    what the runner computes once before the commune runs."""
    from cucs_analysis.data import dataset as load
    from cucs_analysis.reports import region

    ds = load.load_dataset(data_dir)
    key = (ds.fingerprint, json.dumps(region.parametres_region(params), sort_keys=True))
    if key not in _REGIONS:
        _REGIONS[key] = region.build(ds, params)
    return _REGIONS[key]


#: Hostile strings a data set may carry: they must stay data (escaped text) on every page, figure
#: and download. The committed demo carries none; `inject_hostile` puts them into a copy.
HOSTILE = {
    "script": "<script>alert(1)</script> Atelier « théâtre »",
    "img": "<img src=x onerror=alert(1)> Jardins partagés",
    "formule": "=SUM(A1) Chantier d'insertion",
    "mathtext": "Soutien scolaire $x$ par élève",
    "bidi": "\u202eMédiation \u0645\u0631\u0643\u0632 sociale",
}


def inject_hostile(data_dir: Path, code: str = "20001") -> dict[str, list[str]]:
    """Give hostile titles to actions of `code` in the demo copy at `data_dir`; returns, per kind
    of string, the actions that carry it. The two association actions with the most specific
    credits (first in q2's table and figure) get the script and mathtext titles, the next one
    outside any dispositif (« autre », read by its title) the formula; the actions whose takeover
    is at stake (truth.json, shown by q1 and q4) get the img, formula, bidi and script titles.
    Only `actions.csv` changes."""
    import pandas as pd

    truth = json.loads((data_dir / "truth.json").read_text(encoding="utf-8"))
    at_stake = sorted(truth["actions_enjeu_reprise"][code])
    act = pd.read_csv(data_dir / "actions.csv", dtype=str, keep_default_na=False)
    fin = pd.read_csv(data_dir / "financements.csv", dtype=str, keep_default_na=False)
    ops = pd.read_csv(data_dir / "operateurs.csv", dtype=str, keep_default_na=False)
    assoc = set(ops.loc[ops["statut_juridique"] == "association", "id_operateur"])
    mine = act[(act["code_commune"] == code) & act["id_operateur"].isin(assoc)]
    spec = fin[(fin["type_credit"] == "specifique") & fin["id_action"].isin(mine["id_action"])]
    credits = pd.to_numeric(spec["montant_accorde"]).groupby(spec["id_action"]).sum()
    ranked = [a for a in credits.sort_values(ascending=False, kind="stable").index if a not in at_stake]
    top = ranked[:2]
    # An action outside any dispositif is read by its title (q1's programmes, and their download).
    autre = set(act.loc[act["dispositif"] == "autre", "id_action"])
    hors = next(a for a in ranked[2:] if a in autre)
    ids: dict[str, list[str]] = {k: [] for k in HOSTILE}
    targets = [*zip(("script", "mathtext"), top, strict=False), ("formule", hors)]
    targets += zip(("img", "formule", "bidi", "script"), at_stake, strict=False)
    for kind, a in targets:
        ids[kind].append(a)
        act.loc[act["id_action"] == a, "intitule"] = HOSTILE[kind]
    assert all(ids.values()), ids
    act.to_csv(data_dir / "actions.csv", index=False, lineterminator="\n")
    return ids


@pytest.fixture(scope="session")
def demo_hostile(tmp_path_factory) -> tuple[Path, dict[str, list[str]]]:
    """A copy of data/demo whose commune 20001 has actions with hostile titles (see `HOSTILE`);
    returns the folder and, per kind of string, the actions that carry it."""
    import shutil

    data = tmp_path_factory.mktemp("demo-hostile") / "data"
    shutil.copytree(ROOT / "data" / "demo", data)
    return data, inject_hostile(data)
