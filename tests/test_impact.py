"""Tests of cucs_analysis.analysis.impact on hand-made and simulated panels with known answers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from cucs_analysis.analysis.impact import (
    DidResult,
    build_panel,
    did_all,
    did_twfe,
    event_study,
    funding_intensity,
    gap_convergence,
    pre_trend_test,
    treatment_groups,
)

YEARS = range(2005, 2015)
# Simulations use fixed seeds. A valid 95 % test still rejects a true hypothesis 5 % of the
# time (checked over 200 seeds: 4 % for the effect, 4.5 % for the pre-trend), so a seed is
# part of each test's known answer.


def simulate_panel(
    effect: float = 0.0,
    n_treated: int = 12,
    n_control: int = 12,
    sd: float = 0.5,
    pre_slope_treated: float = 0.0,
    seed: int = 0,
    annee_traitement: int = 2009,
) -> pd.DataFrame:
    """Panel with quartier and year effects, a step `effect` on treated from annee_traitement."""
    rng = np.random.default_rng(seed)
    quartiers = [f"QV{i:05d}" for i in range(n_treated + n_control)]
    q_fe = dict(zip(quartiers, rng.normal(20, 5, len(quartiers)), strict=True))
    y_fe = {y: 0.3 * (y - 2005) + rng.normal(0, 0.3) for y in YEARS}
    idx = pd.MultiIndex.from_product([quartiers, list(YEARS)], names=["quartier", "annee"])
    p = idx.to_frame(index=False)
    p["traite"] = (p["quartier"].map({q: int(i < n_treated) for i, q in enumerate(quartiers)})).astype(int)
    p["post"] = (p["annee"] >= annee_traitement).astype(int)
    p["traite_post"] = p["traite"] * p["post"]
    p["y"] = (
        p["quartier"].map(q_fe)
        + p["annee"].map(y_fe)
        + effect * p["traite_post"]
        + pre_slope_treated * p["traite"] * (p["annee"] - 2005)
        + rng.normal(0, sd, len(p))
    )
    p = p[["quartier", "annee", "y", "traite", "post", "traite_post"]]
    p.attrs["annee_traitement"] = annee_traitement
    return p


# --- DiD -------------------------------------------------------------------------------------


def test_did_matches_direct_statsmodels_fit():
    panel = simulate_panel(effect=-1.0, n_treated=4, n_control=5, sd=1.0, seed=3)
    res = did_twfe(panel)
    groups = pd.factorize(panel["quartier"])[0]
    direct = smf.ols("y ~ traite_post + C(quartier) + C(annee)", data=panel).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    assert res.estimation == pytest.approx(direct.params["traite_post"], rel=1e-8)
    se = (res.ic_haut - res.ic_bas) / 2 / direct.t_test("traite_post = 0").dist.ppf(0.975, 8)
    assert se == pytest.approx(direct.bse["traite_post"], rel=1e-8)
    assert res.p_value == pytest.approx(direct.pvalues["traite_post"], rel=1e-8)
    assert (res.n_quartiers, res.n_traites, res.n_obs) == (9, 4, 90)
    # the clustered SE differs from the classical one: clustering was applied
    classical = smf.ols("y ~ traite_post + C(quartier) + C(annee)", data=panel).fit()
    assert se != pytest.approx(classical.bse["traite_post"], rel=1e-3)


def test_did_recovers_planted_effect():
    res = did_twfe(simulate_panel(effect=-2.0, seed=3))
    assert res.ic_bas < -2.0 < res.ic_haut
    assert res.ic_haut < 0
    assert res.p_value < 0.05
    assert res.pre_tendance_ok is True


def test_did_no_effect_interval_contains_zero():
    res = did_twfe(simulate_panel(effect=0.0, seed=2))
    assert res.ic_bas < 0 < res.ic_haut
    assert res.estimation == pytest.approx(0.0, abs=0.5)


def test_diverging_pre_trends_fail_the_check():
    res = did_twfe(simulate_panel(effect=0.0, pre_slope_treated=1.0, seed=4))
    assert res.pre_tendance_ok is False
    assert res.pre_tendance_p < 0.05


def test_did_degenerate_panel_gives_nan_not_error():
    panel = simulate_panel(effect=-2.0)
    only_treated = panel[panel["traite"] == 1]
    res = did_twfe(only_treated)
    assert isinstance(res, DidResult)
    assert np.isnan(res.estimation)
    assert res.pre_tendance_ok is None
    assert res.n_traites == 12
    empty = did_twfe(panel.iloc[0:0])
    assert empty.n_quartiers == 0 and np.isnan(empty.p_value)


def test_event_study_recovers_a_step():
    es = event_study(simulate_panel(effect=-3.0, sd=0.3, seed=5))
    assert list(es.columns) == ["annee_relative", "annee", "coefficient", "ic_bas", "ic_haut", "p_value"]
    assert list(es["annee_relative"]) == list(range(-4, 6))
    ref = es.set_index("annee_relative").loc[-1]
    assert ref["coefficient"] == 0 and ref["annee"] == 2008
    pre = es[es["annee_relative"] < -1]
    post = es[es["annee_relative"] >= 0]
    assert (pre["coefficient"].abs() < 0.6).all()
    assert (post["coefficient"].sub(-3.0).abs() < 0.6).all()
    assert (post["ic_haut"] < 0).all()


def test_event_study_other_reference():
    es = event_study(simulate_panel(effect=-3.0, sd=0.3, seed=5), reference=2005)
    assert es.set_index("annee_relative").loc[-4, "coefficient"] == 0
    assert es.set_index("annee").loc[2005, "coefficient"] == 0
    assert es.set_index("annee_relative").loc[2, "coefficient"] == pytest.approx(-3.0, abs=0.6)


# --- the within (fixed-effects) estimator against statsmodels' dummy-variable fit -----------------


def _statsmodels_fit(terms: list[str], data: pd.DataFrame):
    """The reference: OLS with the quartier and year dummies, clustered by quartier, t-based."""
    groups = pd.factorize(data["quartier"])[0]
    formula = "y ~ " + " + ".join(terms) + " + C(quartier) + C(annee)"
    with warnings.catch_warnings():  # rank-deficient designs are among the cases, on purpose
        warnings.simplefilter("ignore")
        return smf.ols(formula, data=data).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)


def _assert_same(got, expected) -> None:
    """Equal to 1e-8 relative or 1e-10 absolute, NaN where statsmodels gives NaN."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    assert np.array_equal(np.isnan(got), np.isnan(expected)), (got, expected)
    ok = ~np.isnan(expected)
    diff = np.abs(got[ok] - expected[ok])
    assert (diff <= np.maximum(1e-10, 1e-8 * np.abs(expected[ok]))).all(), (got, expected)


def _random_panel(seed: int, n_q: int = 10, years=range(2005, 2015), drop: float = 0.0) -> pd.DataFrame:
    """A panel with random treatment, quartier and year effects; `drop` = share of rows removed."""
    rng = np.random.default_rng(seed)
    codes = [f"QV{i:05d}" for i in range(n_q)]
    p = pd.MultiIndex.from_product([codes, list(years)], names=["quartier", "annee"]).to_frame(index=False)
    p = p[rng.random(len(p)) >= drop].reset_index(drop=True)
    traite = dict(zip(codes, (np.arange(n_q) % 2 == 0).astype(int), strict=True))
    p["traite"] = p["quartier"].map(traite).astype(int)
    p["post"] = (p["annee"] >= 2009).astype(int)
    p["traite_post"] = p["traite"] * p["post"]
    q_fe = dict(zip(codes, rng.normal(20, 5, n_q), strict=True))
    p["y"] = p["quartier"].map(q_fe) + 0.3 * (p["annee"] - 2005) - 1.5 * p["traite_post"]
    p["y"] += rng.normal(0, 1.0, len(p)) * (1 + p["traite"])  # heteroskedastic across clusters
    p = p[["quartier", "annee", "y", "traite", "post", "traite_post"]]
    p.attrs["annee_traitement"] = 2009
    return p


def _with_rows(panel: pd.DataFrame, rows: list[tuple]) -> pd.DataFrame:
    extra = pd.DataFrame(rows, columns=["quartier", "annee", "y", "traite"])
    extra["post"] = (extra["annee"] >= 2009).astype(int)
    extra["traite_post"] = extra["traite"] * extra["post"]
    out = pd.concat([panel, extra], ignore_index=True)
    out.attrs = dict(panel.attrs)
    return out


def _panels() -> dict[str, pd.DataFrame]:
    base = _random_panel(1)
    return {
        "balanced": base,
        "unbalanced": _random_panel(2, n_q=14, drop=0.3),
        # a quartier seen one year only (its dummy fits it exactly: no residual, no score)
        "one-year quartier": _with_rows(_random_panel(3, n_q=8, drop=0.1), [("QV99999", 2010, 31.0, 1)]),
        "few clusters": _random_panel(4, n_q=3),
        "many clusters": _random_panel(5, n_q=60, drop=0.2),
        "missing years": _random_panel(6, n_q=9, years=[2004, 2006, 2008, 2009, 2012, 2013]),
        # rank-deficient dummy design: a quartier alone in a year of its own (its dummy and the
        # year's are the same column); the terms stay identified
        "quartier alone in its year": _with_rows(_random_panel(7, n_q=7), [("QV99999", 2020, 25.0, 1)]),
        # no treated quartier observed in 2011: the event-study dummy of that year is all zero
        "no treated year": _random_panel(8, n_q=10).query("not (traite == 1 and annee == 2011)"),
        # no comparison quartier observed in 2012: that event-study dummy is the year dummy
        "no comparison year": _random_panel(9, n_q=10).query("not (traite == 0 and annee == 2012)"),
    }


@pytest.mark.parametrize("name", list(_panels()))
def test_within_estimator_matches_statsmodels(name):
    """did_twfe, pre_trend_test and event_study give statsmodels' dummy-variable results."""
    panel = _panels()[name].reset_index(drop=True)
    panel.attrs["annee_traitement"] = 2009
    res = did_twfe(panel)
    ref = _statsmodels_fit(["traite_post"], panel)
    ci = ref.conf_int().loc["traite_post"]
    _assert_same(
        [res.estimation, res.ic_bas, res.ic_haut, res.p_value],
        [ref.params["traite_post"], ci[0], ci[1], ref.pvalues["traite_post"]],
    )
    pre = panel[panel["post"] == 0]
    pre = pre.assign(t_annee=pre["traite"] * (pre["annee"] - pre["annee"].min()))
    _assert_same([pre_trend_test(panel)], [_statsmodels_fit(["t_annee"], pre).pvalues["t_annee"]])
    assert res.pre_tendance_p == pre_trend_test(panel)

    es = event_study(panel).set_index("annee_relative")
    rel = panel["annee"] - 2009
    terms, data = [], panel.copy()
    for k in sorted(set(rel) - {-1}):
        terms.append(f"ev_{k + 100}")
        data[terms[-1]] = ((rel == k) & (panel["traite"] == 1)).astype(int)
    ref = _statsmodels_fit(terms, data)
    ci = ref.conf_int()
    ks = sorted(set(rel) - {-1})
    _assert_same(es.loc[ks, "coefficient"], ref.params[terms])
    _assert_same(es.loc[ks, "ic_bas"], ci.loc[terms, 0])
    _assert_same(es.loc[ks, "ic_haut"], ci.loc[terms, 1])
    # An all-zero dummy (no treated quartier that year) has the exact pinv answer here: 0, a
    # zero-width interval and no p-value; statsmodels' pinv leaves rounding noise in it (a
    # coefficient and a standard error ~1e-16, hence an arbitrary p-value).
    noise = (ref.bse[terms] < 1e-12).to_numpy()
    assert (es.loc[ks, "coefficient"].to_numpy()[noise] == 0).all()
    assert np.isnan(es.loc[ks, "p_value"].to_numpy()[noise]).all()
    _assert_same(es.loc[ks, "p_value"].to_numpy()[~noise], ref.pvalues[terms].to_numpy()[~noise])
    assert noise.any() == (name == "no treated year")


def test_within_estimator_rank_deficient_terms_match_statsmodels_min_norm():
    """Terms not identified (a duplicate, a quartier-level or a year-level one) get the
    minimum-norm solution of the full dummy model, as statsmodels' pinv, with its sandwich."""
    from cucs_analysis.analysis.impact import _clustered_fit

    panel = _random_panel(11, n_q=12, drop=0.15)
    rng = np.random.default_rng(0)
    data = panel.assign(
        x=rng.normal(size=len(panel)),
        double=panel["traite_post"],
        niveau_quartier=panel["traite"] * 2.0,
        melange=panel["traite"] + (panel["annee"] == 2007) - 3.0 * (panel["annee"] == 2012),
        zero=0,
    )
    for terms in (
        ["traite_post", "double"],
        ["traite_post", "x", "niveau_quartier"],
        ["traite_post", "melange", "zero"],
        ["x", "double", "niveau_quartier", "melange"],
    ):
        got, ref = _clustered_fit(terms, data), _statsmodels_fit(terms, data)
        assert np.linalg.matrix_rank(ref.model.exog) < ref.model.exog.shape[1]
        _assert_same(got.params, ref.params[terms])
        _assert_same(got.bse, ref.bse[terms])
        _assert_same(got.pvalues, ref.pvalues[terms])
        _assert_same(got.conf_int(0.1).to_numpy(), ref.conf_int(0.1).loc[terms].to_numpy())


def test_within_estimator_never_raises():
    """Fewer observations than columns of the dummy design, or one cluster: NaN, no exception."""
    from cucs_analysis.analysis.impact import _clustered_fit

    tiny = _random_panel(12, n_q=3, years=[2008, 2009])
    res = _clustered_fit(["traite_post"], tiny)  # 6 rows, 5 columns
    assert np.isfinite(res.params["traite_post"])
    one = _clustered_fit(["traite_post"], tiny[tiny["quartier"] == "QV00000"])
    assert np.isnan(one.bse["traite_post"]) and np.isnan(one.pvalues["traite_post"])
    exact = _clustered_fit(["traite_post"], tiny.iloc[:4].assign(traite_post=[0, 1, 0, 0]))
    assert np.isnan(exact.bse["traite_post"])  # statsmodels divides by N - K = 0 here
    assert did_twfe(tiny.iloc[:5]).n_obs == 5


# --- intensity and panel ------------------------------------------------------------------------


def test_funding_intensity():
    operateurs = pd.DataFrame(
        {"id_operateur": ["O1", "O2"], "statut_juridique": ["association", "collectivité"]}
    )
    actions = pd.DataFrame(
        {
            "id_action": ["A", "B", "C", "D"],
            "annee": [2010, 2010, 2010, 2010],
            "id_operateur": ["O1", "O2", "O1", "O1"],
            "code_quartier": ["QP0000001", "QP0000001", None, "QP0000001"],
        }
    )
    fin = pd.DataFrame(
        {
            "id_action": ["A", "A", "B", "C", "D"],
            "annee": [2010, 2010, 2010, 2010, 2010],
            "type_credit": ["specifique", "droit_commun", "specifique", "specifique", "specifique"],
            "montant_accorde": [30000.0, 99999.0, 7777.0, 5555.0, 20000.0],
        }
    )
    pop = pd.DataFrame(
        {
            "niveau": ["quartier", "quartier", "quartier", "commune"],
            "code_territoire": ["QP0000001", "QP0000001", "QV0000002", "20001"],
            "indicateur": ["population", "population", "population", "population"],
            "annee": [2010, 2011, 2010, 2010],
            "valeur": [2000.0, 2000.0, 1500.0, 50000.0],
        }
    )
    out = funding_intensity(fin, actions, operateurs, pop).set_index(["code_quartier", "annee"])
    # only A and D: association, quartier-targeted, specific → 50 000 € / 2 000 hab.
    assert out.loc[("QP0000001", 2010), "credits_specifiques_associations"] == 50000
    assert out.loc[("QP0000001", 2010), "intensite"] == 25.0
    assert out.loc[("QP0000001", 2011), "intensite"] == 0.0
    assert out.loc[("QV0000002", 2010), "intensite"] == 0.0
    assert len(out) == 3
    # the ready-made population frame gives the same answer
    ready = pop[pop["niveau"] == "quartier"].rename(
        columns={"code_territoire": "code_quartier", "valeur": "population"}
    )
    out2 = funding_intensity(fin, actions, operateurs, ready)
    assert out2["intensite"].tolist() == out["intensite"].tolist()


def test_treatment_groups_and_build_panel():
    intensity = pd.DataFrame(
        {
            "code_quartier": ["QA00001"] * 3 + ["QB00001"] * 3 + ["QC00001"] * 3 + ["QD00001"] * 3,
            "annee": [2008, 2009, 2010] * 4,
            # A: mean 25 from 2009 → treated (boundary); B: 9.99 → comparison; C: 10 → out;
            # D: high only before 2009 → comparison
            "intensite": [0, 20, 30, 100, 9.99, 9.99, 10, 10, 10, 500, 0, 0],
        }
    )
    g = treatment_groups(intensity).set_index("code_quartier")["groupe"]
    assert g.to_dict() == {
        "QA00001": "traite",
        "QB00001": "comparaison",
        "QC00001": "exclu",
        "QD00001": "comparaison",
    }
    rows = []
    for q in ("QA00001", "QB00001", "QC00001", "QD00001"):
        for y in (2008, 2009, 2010):
            rows.append(("quartier", q, "taux_chomage", y, 10.0 + y - 2008, False))
    ind = pd.DataFrame(rows, columns=["niveau", "code_territoire", "indicateur", "annee", "valeur", "secret"])
    ind.loc[(ind["code_territoire"] == "QB00001") & (ind["annee"] == 2010), "secret"] = True
    ind.loc[(ind["code_territoire"] == "QD00001") & (ind["annee"] == 2008), "valeur"] = np.nan
    other = ind.assign(indicateur="taux_pauvrete")
    panel = build_panel(pd.concat([ind, other]), intensity, "taux_chomage")
    assert list(panel.columns) == ["quartier", "annee", "y", "traite", "post", "traite_post"]
    assert set(panel["quartier"]) == {"QA00001", "QB00001", "QD00001"}
    assert len(panel) == 3 + 2 + 2  # secret and missing cells dropped
    a = panel[panel["quartier"] == "QA00001"]
    assert a["traite"].tolist() == [1, 1, 1]
    assert a["post"].tolist() == [0, 1, 1]
    assert a["traite_post"].tolist() == [0, 1, 1]
    assert panel.loc[panel["quartier"] == "QB00001", "traite_post"].sum() == 0
    assert panel.attrs["annee_traitement"] == 2009


def test_did_all_contract_columns():
    p1 = simulate_panel(effect=-2.0, seed=7)
    p0 = simulate_panel(effect=0.0, seed=9)
    treated = set(p1.loc[p1["traite"] == 1, "quartier"])
    rows = []
    for name, p in (("taux_chomage", p1), ("taux_pauvrete", p0)):
        rows.append(
            pd.DataFrame(
                {
                    "niveau": "quartier",
                    "code_territoire": p["quartier"],
                    "indicateur": name,
                    "annee": p["annee"],
                    "valeur": p["y"],
                    "secret": False,
                }
            )
        )
    ind = pd.concat(rows, ignore_index=True)
    q = sorted(set(p1["quartier"]))
    intensity = pd.DataFrame(
        [(c, y, 40.0 if c in treated else 0.0) for c in q for y in YEARS],
        columns=["code_quartier", "annee", "intensite"],
    )
    out = did_all(ind, intensity, ["taux_chomage", "taux_pauvrete"]).set_index("indicateur")
    assert {"estimation", "ic_bas", "ic_haut", "p_value", "n_quartiers", "pre_tendance_ok"} <= set(
        out.columns
    )
    c, p = out.loc["taux_chomage"], out.loc["taux_pauvrete"]
    assert c["ic_bas"] < -2 < c["ic_haut"] and c["ic_haut"] < 0
    assert p["ic_bas"] < 0 < p["ic_haut"]
    assert c["n_quartiers"] == 24


# --- gaps ------------------------------------------------------------------------------------


def test_gap_convergence():
    quartiers = pd.DataFrame(
        {"code_quartier": ["QP0000001", "QP0000002"], "code_commune": ["20001", "20001"]}
    )
    ind = pd.DataFrame(
        {
            "niveau": ["quartier"] * 6 + ["commune"] * 3,
            "code_territoire": ["QP0000001"] * 3 + ["QP0000002"] * 3 + ["20001"] * 3,
            "indicateur": "taux_chomage",
            "annee": [2007, 2010, 2013] * 3,
            "valeur": [25.0, 22.0, 18.0, 12.0, 15.0, 20.0, 10.0, 10.0, 11.0],
            "secret": [False] * 5 + [True] + [False] * 3,
        }
    )
    out = gap_convergence(ind, quartiers).set_index("code_quartier")
    q1 = out.loc["QP0000001"]
    assert (q1["annee_debut"], q1["ecart_debut"], q1["annee_fin"], q1["ecart_fin"]) == (2007, 15.0, 2013, 7.0)
    assert q1["convergence"] == "convergence"
    assert q1["evolution_ecart"] == -8.0
    q2 = out.loc["QP0000002"]  # 2013 is secret: last known gap is 2010
    assert (q2["annee_fin"], q2["ecart_debut"], q2["ecart_fin"]) == (2010, 2.0, 5.0)
    assert q2["convergence"] == "divergence"
    # a change smaller than the tolerance is "stable"
    loose = gap_convergence(ind, quartiers, tolerance=5.0).set_index("code_quartier")
    assert loose.loc["QP0000002", "convergence"] == "stable"
    assert loose.loc["QP0000001", "convergence"] == "convergence"
    fixed = gap_convergence(ind, quartiers, annee_debut=2010, annee_fin=2013).set_index("code_quartier")
    assert fixed.loc["QP0000001", "ecart_debut"] == 12.0
    assert fixed.loc["QP0000001", "ecart_fin"] == 7.0
    assert pd.isna(fixed.loc["QP0000002", "convergence"])  # 2013 secret: not computable
    epci = gap_convergence(
        ind.replace({"niveau": {"commune": "epci"}, "code_territoire": {"20001": "200000001"}}),
        quartiers,
        reference_level="epci",
        communes=pd.DataFrame({"code_commune": ["20001"], "code_epci": ["200000001"]}),
    )
    assert epci.set_index("code_quartier").loc["QP0000001", "ecart_debut"] == 15.0
    with pytest.raises(ValueError, match="Niveau de référence"):
        gap_convergence(ind, quartiers, reference_level="region")


# --- planted truths of the demo data ---------------------------------------------------------

DEMO = __import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "demo"


def read_demo(table: str, numeric: tuple[str, ...] = ()) -> pd.DataFrame:
    """A demo table read with plain pandas: codes stay strings, the named columns converted."""
    df = pd.read_csv(DEMO / f"{table}.csv", dtype=str, keep_default_na=False, na_values=[""])
    for c in numeric:
        df[c] = pd.to_numeric(df[c])
    if "annee" in df.columns:
        df["annee"] = pd.to_numeric(df["annee"]).astype(int)
    if "secret" in df.columns:
        df["secret"] = df["secret"].str.lower().eq("oui")
    return df


@pytest.mark.skipif(not (DEMO / "truth.json").exists(), reason="données de démonstration absentes")
def test_demo_did_truth_is_recovered():
    import json

    truth = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))["did"]
    ind = read_demo("indicateurs", numeric=("valeur",))
    fin = read_demo("financements", numeric=("montant_accorde",))
    actions = read_demo("actions")
    operateurs = read_demo("operateurs")
    intensity = funding_intensity(fin, actions, operateurs, ind)
    out = did_all(ind, intensity, [t["indicateur"] for t in truth]).set_index("indicateur")
    for t in truth:
        r = out.loc[t["indicateur"]]
        assert r["ic_bas"] <= t["effet"] <= r["ic_haut"], (t, r.to_dict())
        if t["effet"] == 0:
            assert r["ic_bas"] < 0 < r["ic_haut"], (t, r.to_dict())
        else:
            assert not (r["ic_bas"] <= 0 <= r["ic_haut"]), (t, r.to_dict())
        assert r["n_quartiers"] >= 4


def test_loader_dtypes_are_accepted():
    """The loader gives nullable Int64 years and boolean flags: same results as numpy dtypes."""
    panel = simulate_panel(effect=-2.0, seed=3)
    nullable = panel.astype({"annee": "Int64", "traite": "Int64", "post": "Int64", "traite_post": "Int64"})
    nullable.attrs = dict(panel.attrs)
    assert did_twfe(nullable) == did_twfe(panel)
    pd.testing.assert_frame_equal(event_study(nullable), event_study(panel))
