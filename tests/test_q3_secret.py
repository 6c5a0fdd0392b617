"""q3's scales table does not trust the input's secrecy flag (issue 9, point 3): a rate on a
denominator of 5 shows « s » even when the file says secret = non."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from cucs_analysis.analysis import privacy
from cucs_analysis.data import dataset
from cucs_analysis.pipeline.params import load_params
from cucs_analysis.reports import q3, region

ROOT = Path(__file__).resolve().parents[1]


def test_small_counts_are_secret_whatever_the_input_flag(tmp_path):
    data = tmp_path / "demo"
    shutil.copytree(ROOT / "data" / "demo", data)
    params = load_params("20001", ROOT)
    t0 = dataset.load_territory(ROOT / "data" / "demo", "20001")
    code = t0.quartiers["code_quartier"].iloc[0]
    nom = t0.quartiers["nom"].iloc[0]
    ind = pd.read_csv(data / "indicateurs.csv", dtype=str, keep_default_na=False)
    mine = (ind["niveau"] == "quartier") & (ind["code_territoire"] == code)
    pop = mine & (ind["indicateur"] == "population")
    ind.loc[pop, ["valeur", "secret"]] = ["8", "non"]
    chom = mine & (ind["indicateur"] == "taux_chomage")
    ind.loc[chom, ["numerateur", "denominateur", "valeur", "secret"]] = ["2", "5", "40.0", "non"]
    ind.to_csv(data / "indicateurs.csv", index=False)
    dataset.clear_memo()
    r = q3.build(
        dataset.load_territory(data, "20001"), region.build(dataset.load_dataset(data), params), params
    )
    ligne = q3.vue_echelles(r).set_index("Territoire").loc[nom]
    libelles = r.catalogue.set_index("indicateur")["libelle"]
    assert ligne[libelles["taux_chomage"]] == privacy.SECRET  # 2 / 5, flagged « non » in the file
