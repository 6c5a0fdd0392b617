"""Two quartiers with the same name (issue 9, point 4): q3 joins and pivots on codes, so its
tables keep one row per quartier and its figures draw both."""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib
import pandas as pd

from cucs_analysis.data import dataset
from cucs_analysis.pipeline.params import load_params
from cucs_analysis.reports import q3, region

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]


def test_two_quartiers_with_one_name(tmp_path):
    data = tmp_path / "demo"
    shutil.copytree(ROOT / "data" / "demo", data)
    q = pd.read_csv(data / "quartiers.csv", dtype=str, keep_default_na=False)
    codes = q.loc[q["code_commune"] == "20001", "code_quartier"].tolist()[:2]
    q.loc[q["code_quartier"].isin(codes), "nom"] = "Les Jumeaux"
    q.to_csv(data / "quartiers.csv", index=False)
    dataset.clear_memo()
    params = load_params("20001", ROOT)
    r = q3.build(
        dataset.load_territory(data, "20001"), region.build(dataset.load_dataset(data), params), params
    )
    echelles = q3.vue_echelles(r)
    assert (echelles["Territoire"] == "Les Jumeaux").sum() == 2  # both rows, not one
    assert (q3.tableau_eligibilite(r)["nom"] == "Les Jumeaux").sum() == 2
    fig = q3.figure_revenus(r)
    assert fig is not None
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()].count("Les Jumeaux") == 2
