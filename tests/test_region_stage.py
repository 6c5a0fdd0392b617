"""The region stage: computed once per data set and region parameters, stored, read back, and
what the q2/q3 reports of every commune rest on."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params
from cucs_analysis.pipeline import region as stored
from cucs_analysis.reports import region

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
TRUTH = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo():
    ds = load.load_dataset(DEMO)
    p = params.load_params("20001", ROOT)
    return ds, p, region.build(ds, p)


def test_the_stage_holds_the_region_wide_results(demo):
    ds, p, st = demo
    assert st.fingerprint == ds.fingerprint
    assert st.n_communes == len(ds.tables["communes"]) and st.n_quartiers == len(ds.tables["quartiers"])
    # DiD: the planted effect of association funding on unemployment, none on poverty
    did = st.did.set_index("indicateur")
    for t in TRUTH["did"]:
        assert did.loc[t["indicateur"], "ic_bas"] <= t["effet"] <= did.loc[t["indicateur"], "ic_haut"]
    # eligibility of every quartier: exactly the planted QPV 2014 list
    e = st.eligibilite
    assert len(e) == len(ds.tables["quartiers"])
    assert sorted(e.loc[e["regle_qpv2014"], "code_quartier"]) == sorted(TRUTH["eligibles_qpv2014"])
    # every quartier of the data set is classified in the one typology
    assert st.typologie is not None and set(st.typologie.classes.index) <= set(e["code_quartier"])
    assert set(st.series_comparaison["serie"]) == {"comparaison"}


def test_a_territory_holds_one_commune_only():
    t = load.load_territory(DEMO, "20001")
    assert not hasattr(t, "dataset")
    assert set(t.quartiers["code_commune"]) == {"20001"}
    assert set(t.actions["code_commune"]) <= {"20001"}


def test_the_key_covers_data_and_region_parameters_only(demo):
    ds, p, _ = demo
    k = stored.key(ds.fingerprint, p)
    assert stored.key(ds.fingerprint, p) == k
    assert stored.key("autre-jeu", p) != k
    other = params.load_params("20001", ROOT, {"did": {"seuil_intensite": 30.0}})
    assert stored.key(ds.fingerprint, other) != k
    # q1's thresholds are not the region stage's business
    q1_only = params.load_params("20001", ROOT, {"substitution": {"tolerance": 0.2}})
    assert stored.key(ds.fingerprint, q1_only) == k


def test_stored_once_then_read_back_without_recomputing(demo, tmp_path, monkeypatch):
    ds, p, st = demo
    records = stored.prepare(ds, [p, p, p], tmp_path)
    assert [r["statut"] for r in records] == ["ok"]  # three communes, one stage
    key = records[0]["cle"]
    summary = json.loads((tmp_path / "region" / "etape" / f"{key}.json").read_text(encoding="utf-8"))
    assert {"did", "eligibilite", "typologie", "fingerprint"} <= set(summary)

    def no_build(*_a, **_k):
        raise AssertionError("the stored stage should have been read")

    monkeypatch.setattr(region, "build", no_build)
    assert stored.prepare(ds, [p], tmp_path)[0]["statut"] == "reprise"
    again = stored.ensure(ds.fingerprint, p, lambda: ds, tmp_path)
    pd.testing.assert_frame_equal(again.did, st.did)
    # nothing of the stage is mistaken for a commune's results
    from cucs_analysis.pipeline import results

    assert results.read_results(tmp_path) == []


def test_ensure_computes_and_stores_when_absent(demo, tmp_path):
    ds, p, _ = demo
    loaded = []
    st = stored.ensure(ds.fingerprint, p, lambda: loaded.append(1) or ds, tmp_path)
    assert loaded == [1] and stored.read(tmp_path, stored.key(ds.fingerprint, p)) is not None
    assert st.fingerprint == ds.fingerprint


@pytest.mark.slow
def test_the_runner_computes_the_stage_once_before_the_communes(demo_run):
    manifest = json.loads((demo_run / "manifest.json").read_text(encoding="utf-8"))
    (etape,) = manifest["etape_region"]  # 20001 and 20012 share their region parameters
    assert etape["statut"] == "ok" and etape["erreur"] is None
    assert (demo_run / "results" / "region" / "etape" / f"{etape['cle']}.pkl").is_file()


def test_eligibility_rows_carry_reasons_motifs_and_signatory_status(demo):
    ds, p, st = demo
    e = st.eligibilite
    communes = ds.tables["communes"].set_index("code_commune")
    assert (e["signataire"] == e["code_commune"].map(communes["signataire_cucs"]).astype(bool)).all()
    for r in ("qpv2014", "zus", "dynamique"):
        v = e[f"regle_{r}"].astype("boolean")
        # a reason for every « non », none for a « oui »; a motif exactly where the rule is n.d.
        assert (e.loc[v.eq(False).fillna(False), f"raisons_{r}"] != "").all()
        assert (e.loc[v.eq(True).fillna(False), f"raisons_{r}"] == "").all()
        assert (e[f"motif_{r}"].notna() == v.isna()).all()
    # the income rule's reasons, recomputed from the stage's own columns
    small = e["population"] < p.qpv2014.population_min_quartier
    assert small.any()
    assert e.loc[small, "raisons_qpv2014"].str.contains("taille_quartier").all()
    small_uu = e["population_unite_urbaine"] < p.qpv2014.population_min_uu
    assert e.loc[small_uu, "raisons_qpv2014"].str.contains("taille_unite_urbaine").all()
    above = e["revenu_median_uc"] >= e["seuil_qpv2014"]
    assert e.loc[above, "raisons_qpv2014"].str.contains("revenu_au_dessus_seuil").all()
    assert e.loc[~above & ~small & ~small_uu, "regle_qpv2014"].all()
