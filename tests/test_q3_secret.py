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


def test_bilans_counts_go_through_secrecy_on_the_demo():
    """Counts of coded reports and of beneficiaries per quartier: none below the threshold is
    published, and a column with a hidden cell hides a second one (its total is printed)."""
    params = load_params("20001", ROOT)
    dataset.clear_memo()
    t = dataset.load_territory(ROOT / "data" / "demo", "20001")
    r = q3.build(t, region.build(dataset.load_dataset(ROOT / "data" / "demo"), params), params)
    raw = r.bilans
    cols = [
        "prevus_realisees",
        "realises",
        "bilans_reussite",
        "bilans_difficulte",
        "bilans_ecart_explique",
        "bilans_blocage",
    ]
    small = ((raw[cols] > 0) & (raw[cols] < params.seuil_secret)).to_numpy().sum()
    assert small > 0  # the demo has small counts per quartier: the test bites
    vue = q3.vue_bilans(r)
    for col in ("Réussites", "Difficultés", "Écarts expliqués", "Blocages", "Bénéficiaires touchés"):
        publies = [v for v in vue[col] if v != privacy.SECRET]
        assert all(v == 0 or v >= params.seuil_secret for v in publies), col
        assert (vue[col] == privacy.SECRET).sum() != 1, col


def test_a_small_count_of_people_in_the_quartiers_is_secret():
    params = load_params("20001", ROOT)
    dataset.clear_memo()
    t = dataset.load_territory(ROOT / "data" / "demo", "20001")
    r = q3.build(t, region.build(dataset.load_dataset(ROOT / "data" / "demo"), params), params)
    assert not r.repartition.empty
    r.repartition = r.repartition.assign(personnes_quartiers=[7.0] + [5000.0] * (len(r.repartition) - 1))
    v = q3.vue_repartition(r)
    assert v["Dans les quartiers"].iloc[0] == privacy.SECRET
    assert v["Part vivant dans les quartiers"].iloc[0] == privacy.SECRET
    assert v["Dans les quartiers"].iloc[1:].tolist() == [5000.0] * (len(v) - 1)


def test_a_share_of_statements_on_a_small_count_is_not_published():
    """The debate names the quartier with the largest share of difficulties and blockages: a
    share on fewer than seuil_secret statements (numerator or base) gives the count back, so
    such a quartier is not named (issue 9, point 3; on the demo, Le Haut-Val's 41,2 % was 7 of
    17)."""
    import re

    params = load_params("20001", ROOT)
    dataset.clear_memo()
    t = dataset.load_territory(ROOT / "data" / "demo", "20001")
    r = q3.build(t, region.build(dataset.load_dataset(ROOT / "data" / "demo"), params), params)
    cats = ["bilans_reussite", "bilans_difficulte", "bilans_ecart_explique", "bilans_blocage"]
    par_q = r.bilans[r.bilans["cible"] != ""]
    num = par_q["bilans_blocage"] + par_q["bilans_difficulte"]
    petits = par_q[
        ((num > 0) & (num < params.seuil_secret)) | (par_q[cats].sum(axis=1) < params.seuil_secret)
    ]
    assert len(petits) > 0  # the demo has such quartiers: the test bites
    noms = dict(zip(r.eligibilite["nom"], r.eligibilite["code_quartier"], strict=False))
    for phrase in r.debat:
        m = re.search(r"Dans le quartier (.+?), [\d,]+\W*% des constats", phrase)
        if m:
            assert noms[m.group(1)] not in set(petits["cible"]), phrase
