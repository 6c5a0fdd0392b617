"""Constant euros in q1's substitution typology (issue 8, point 6): the deflation recomputed in
plain pandas, the page saying which euros it shows, and the planted truths.

The demo plants its mainstream credits flat in CONSTANT euros (cucs_analysis/data/demo.py
multiplies them by the price level), so in the current euros of droit_commun.csv a
« complémentarité » domain rises with prices. The planted types hold in both readings: constant
euros (the default) and current euros; and the current-euro series do carry the inflation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cucs_analysis.analysis import funding
from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params
from cucs_analysis.reports import q1

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
TRUTH = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))["substitution"]
SIGNATAIRES = sorted({t["code_territoire"] for t in TRUTH})
COURANTS = {"euros_constants": {"actif": False}}


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def _report(code: str, overrides: dict | None = None):
    return q1.build(load.load_territory(DEMO, code), params.load_params(code, ROOT, overrides))


def _types(r) -> dict[str, str]:
    return {t["domaine"]: t["type"] for t in r.resultats()["substitution"]}


def _facteurs_plain() -> dict[int, float]:
    """Plain Python from params/defaults.yaml: euros of year t in euros of 2014."""
    e = yaml.safe_load((ROOT / "params" / "defaults.yaml").read_text(encoding="utf-8"))["euros_constants"]
    taux = {int(x["annee"]): float(x["taux"]) / 100 for x in e["inflation"]}
    out = {}
    for t in range(2005, 2015):
        f = 1.0
        for k in range(t + 1, 2015):
            f *= 1 + taux[k]
        out[t] = f
    return out


def _dc_plain(code: str) -> pd.DataFrame:
    dc = pd.read_csv(DEMO / "droit_commun.csv", dtype={"code_territoire": str})
    dc = dc[(dc["code_territoire"] == code) & (dc["mesure"] == "credits") & (dc["niveau"] == "commune")]
    return dc.groupby(["domaine", "annee"])["valeur"].sum().unstack("annee")


def test_planted_truths_in_current_euros():
    for code in SIGNATAIRES:
        expected = {t["domaine"]: t["type"] for t in TRUTH if t["code_territoire"] == code}
        assert _types(_report(code, COURANTS)) == expected, code


def test_planted_truths_in_constant_euros():
    for code in SIGNATAIRES:
        expected = {t["domaine"]: t["type"] for t in TRUTH if t["code_territoire"] == code}
        assert _types(_report(code)) == expected, code


def test_current_euros_carry_the_inflation():
    """A planted « complémentarité » is flat in real terms: in current euros it rises like prices,
    so reading current euros would hide a real fall of the same size."""
    f = _facteurs_plain()
    rises = []
    for t in TRUTH:
        if t["type"] != "complementarite":
            continue
        nominal = _dc_plain(t["code_territoire"]).loc[t["domaine"]]
        real = nominal * pd.Series(f)
        rises.append(nominal[2014] / nominal[[2005, 2006]].mean())
        assert real[2014] / real[[2005, 2006]].mean() == pytest.approx(1.0, abs=0.05)
    expected_rise = 2 / (1 / f[2005] + 1 / f[2006])  # P(2014) over the mean price level of 2005-2006
    assert rises and pd.Series(rises).median() == pytest.approx(expected_rise, rel=0.03)


def test_report_deflates_like_plain_pandas():
    f = pd.Series(_facteurs_plain())
    for code in ("20001", "20008"):
        t = load.load_territory(DEMO, code)
        dc = t.droit_commun.copy()
        euros = dc["mesure"] == "credits"
        dc.loc[euros, "valeur"] = dc.loc[euros, "valeur"] * dc.loc[euros, "annee"].astype(int).map(f)
        fin = t.financements.assign(
            montant_accorde=t.financements["montant_accorde"] * t.financements["annee"].astype(int).map(f)
        )
        expected = funding.substitution_typology(dc, fin, t.actions, code)
        r = _report(code)
        got = r.substitution.set_index("domaine")
        exp = expected.set_index("domaine")
        assert got["type"].to_dict() == exp["type"].to_dict()
        assert got["base"].to_numpy() == pytest.approx(exp["base"].to_numpy())


def test_the_reference_year_changes_amounts_not_types():
    a = _report("20001")
    b = _report("20001", {"euros_constants": {"annee_reference": 2005}})
    assert _types(a) == _types(b)
    assert (b.substitution["base"] < a.substitution["base"]).all()  # 2005 euros are worth more
    assert "euros constants de 2005" in b.verdict["texte"]


def test_the_page_says_which_euros_it_shows():
    on, off = _report("20001"), _report("20001", COURANTS)
    assert "en euros constants de 2014" in on.texte("substitution")[0]
    assert any("prix à la consommation" in p and "Insee" in p for p in on.texte("substitution"))
    assert "Base (€ constants 2014)" in q1.vue_substitution(on).columns
    assert "Base (€ courants)" in q1.vue_substitution(off).columns
    assert "en euros courants" in off.texte("substitution")[0]
    assert any("pas par quartier" in x for x in on.reserves)  # droit commun for the whole commune
    res = on.resultats()["euros"]
    assert res["constants"] is True and res["annee_reference"] == 2014 and res["source_inflation"]
    assert off.resultats()["euros"] == {"constants": False, "annee_reference": None, "source_inflation": None}
