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
