"""Trends, gaps and convergence on small hand-made frames with known answers."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from cucs_analysis.analysis import trends as t


def _long(rows, niveau="quartier"):
    cols = ["code_territoire", "indicateur", "annee", "valeur", "numerateur", "denominateur"]
    df = pd.DataFrame(rows, columns=cols)
    df.insert(0, "niveau", niveau)
    df["secret"] = df["valeur"].isna()
    return df


# --- Wilson -------------------------------------------------------------------------------------


def test_wilson_known_values():
    # Reference values (Newcombe 1998 / any Wilson calculator): 10/100 → [5.52 %, 17.44 %].
    low, high = t.wilson_interval(pd.Series([10, 0, 5]), pd.Series([100, 0, 5]))
    assert low.iloc[0] == pytest.approx(5.5229, abs=1e-3)
    assert high.iloc[0] == pytest.approx(17.4366, abs=1e-3)
    assert np.isnan(low.iloc[1]) and np.isnan(high.iloc[1])  # denominator 0
    assert high.iloc[2] == pytest.approx(100.0)  # 5/5: upper bound capped at 100 %
    assert low.iloc[2] == pytest.approx(56.55, abs=0.01)


def test_wilson_proportion_scale_and_arrays():
    low, high = t.wilson_interval(np.array([10]), np.array([100]), percent=False)
    assert isinstance(low, np.ndarray)
    assert low[0] == pytest.approx(0.055229, abs=1e-5) and high[0] == pytest.approx(0.174366, abs=1e-5)
    low90, high90 = t.wilson_interval(np.array([10]), np.array([100]), confidence=0.90)
    assert low90[0] > 5.5229 and high90[0] < 17.4366  # narrower at 90 %


def test_wilson_invalid_counts():
    low, _ = t.wilson_interval(np.array([120, -1, np.nan]), np.array([100, 100, 100]))
    assert np.isnan(low).all()


def test_with_intervals_leaves_secret_rows_empty():
    df = _long([("QP1", "taux_chomage", 2010, 10.0, 10, 100), ("QP2", "taux_chomage", 2010, None, 3, 30)])
    out = t.with_intervals(df)
    assert out.loc[0, "ic_bas"] == pytest.approx(5.5229, abs=1e-3)
    assert np.isnan(out.loc[1, "ic_bas"])


# --- gaps and the Fingertips flag ----------------------------------------------------------------


@pytest.fixture
def catalogue():
    return pd.DataFrame(
        {
            "indicateur": ["taux_chomage", "revenu_median_uc", "part_moins_25_ans", "taux_reussite_brevet"],
            "unite": ["%", "€", "%", "%"],
            "sens": ["hausse_degradation", "hausse_amelioration", "neutre", "hausse_amelioration"],
        }
    )


def test_gap_series():
    q = _long(
        [("QP1", "taux_chomage", 2010, 24.0, 240, 1000), ("QP1", "taux_chomage", 2011, 25.0, 250, 1000)]
    )
    ref = _long(
        [("20001", "taux_chomage", 2010, 12.0, 1200, 10000), ("20001", "taux_chomage", 2011, 0.0, 0, 10000)],
        niveau="commune",
    )
    out = t.gap_series(q, ref)
    assert out["ecart"].tolist() == [12.0, 25.0]
    assert out.loc[0, "ratio"] == pytest.approx(2.0)
    assert np.isnan(out.loc[1, "ratio"])  # reference 0
    assert out["code_reference"].tolist() == ["20001", "20001"]
    assert out["niveau_reference"].tolist() == ["commune", "commune"]


def test_gap_series_rejects_duplicate_reference():
    q = _long([("QP1", "taux_chomage", 2010, 24.0, 240, 1000)])
    ref = _long(
        [("A", "taux_chomage", 2010, 12.0, 1, 10), ("B", "taux_chomage", 2010, 13.0, 1, 10)], "commune"
    )
    with pytest.raises(ValueError, match="une seule ligne"):
        t.gap_series(q, ref)


def test_compare_to_reference_flags(catalogue):
    q = _long(
        [
            ("QP1", "taux_chomage", 2010, 24.0, 240, 1000),  # far above: intervals apart
            ("QP2", "taux_chomage", 2010, 14.0, 7, 50),  # above but small base: overlap
            ("QP3", "taux_chomage", 2010, 6.0, 60, 1000),  # far below
            ("QP4", "taux_chomage", 2010, None, None, None),  # secret
            ("QP1", "revenu_median_uc", 2010, 11000.0, None, None),  # no counts
            ("QP1", "part_moins_25_ans", 2010, 40.0, 400, 1000),  # neutral sens
        ]
    )
    ref = _long(
        [
            ("20001", "taux_chomage", 2010, 12.0, 1200, 10000),
            ("20001", "revenu_median_uc", 2010, 16000.0, None, None),
            ("20001", "part_moins_25_ans", 2010, 30.0, 3000, 10000),
        ],
        niveau="commune",
    )
    out = t.compare_to_reference(q, ref, catalogue=catalogue)
    assert out["comparaison"].tolist()[:3] == ["plus élevé", "comparable", "plus faible"]
    assert pd.isna(out.loc[3, "comparaison"]) and pd.isna(out.loc[3, "appreciation"])
    assert out.loc[4, "comparaison"] == "comparable" and out.loc[4, "methode"] == "sans intervalle"
    assert out.loc[0, "methode"] == "intervalles"
    assert out["appreciation"].tolist()[:3] == ["moins bon", "comparable", "meilleur"]
    assert out.loc[5, "comparaison"] == "plus élevé" and out.loc[5, "appreciation"] == "sans objet"
    assert out.loc[0, "ecart"] == pytest.approx(12.0)
    # QP2's interval contains the reference's: 7/50 → about [7,0 %; 26,2 %].
    assert out.loc[1, "ic_bas"] == pytest.approx(6.95, abs=0.05)


def test_compare_without_interval_by_gap(catalogue):
    q = _long([("QP1", "revenu_median_uc", 2010, 11000.0, None, None)])
    ref = _long([("20001", "revenu_median_uc", 2010, 16000.0, None, None)], "commune")
    out = t.compare_to_reference(q, ref, catalogue=catalogue, sans_intervalle="ecart")
    assert out.loc[0, "comparaison"] == "plus faible"
    assert out.loc[0, "appreciation"] == "moins bon"  # income: higher is better


def test_compare_sens_from_column_and_bad_option():
    q = _long([("QP1", "taux_reussite_brevet", 2010, 60.0, 600, 1000)])
    q["sens"] = "hausse_amelioration"
    ref = _long([("20001", "taux_reussite_brevet", 2010, 80.0, 8000, 10000)], "commune")
    out = t.compare_to_reference(q, ref)
    assert out.loc[0, "appreciation"] == "moins bon"
    with pytest.raises(ValueError):
        t.compare_to_reference(q, ref, sans_intervalle="autre")


def test_compare_per_commune_reference():
    q = _long(
        [("QP1", "taux_chomage", 2010, 20.0, None, None), ("QP2", "taux_chomage", 2010, 20.0, None, None)]
    )
    q["code_commune"] = ["20001", "20002"]
    ref = _long(
        [("20001", "taux_chomage", 2010, 10.0, None, None), ("20002", "taux_chomage", 2010, 15.0, None, None)]
    )
    ref["code_commune"] = ref["code_territoire"]
    out = t.compare_to_reference(q, ref, on=("code_commune", "indicateur", "annee"))
    assert out["ecart"].tolist() == [10.0, 5.0]


# --- evolution -----------------------------------------------------------------------------------


def test_evolution_matches_ols():
    years = [2007, 2008, 2009, 2010, 2012]
    values = [10.0, 12.0, 13.0, 16.5, 18.0]
    df = _long([("QP1", "taux_chomage", y, v, None, None) for y, v in zip(years, values, strict=True)])
    out = t.evolution(df)
    row = out.iloc[0]
    fit = sm.OLS(values, sm.add_constant(np.array(years, dtype=float))).fit()
    ci = fit.conf_int(0.05)[1]
    assert row["pente"] == pytest.approx(fit.params[1])
    assert row["pente_ic_bas"] == pytest.approx(ci[0]) and row["pente_ic_haut"] == pytest.approx(ci[1])
    assert row["p_value"] == pytest.approx(fit.pvalues[1])
    assert row["tendance"] == "hausse" and pd.isna(row["motif"])
    assert row["variation_absolue"] == pytest.approx(8.0)
    assert row["variation_relative"] == pytest.approx(80.0)
    assert row["taux_annuel_moyen"] == pytest.approx(100 * (1.8 ** (1 / 5) - 1))
    assert (row["annee_debut"], row["annee_fin"], row["n_annees"]) == (2007, 2012, 5)


def test_evolution_refuses_two_consecutive_infra_communal_years():
    df = _long(
        [("QP1", "taux_chomage", 2010, 20.0, None, None), ("QP1", "taux_chomage", 2011, 22.0, None, None)]
    )
    row = t.evolution(df).iloc[0]
    assert row["motif"] == t.MOTIF_DEUX_ANNEES_CONSECUTIVES == "deux années consécutives"
    assert np.isnan(row["pente"]) and pd.isna(row["tendance"])
    assert row["variation_absolue"] == pytest.approx(2.0)  # the change itself is still given

    commune = t.evolution(df.assign(niveau="commune")).iloc[0]
    assert commune["pente"] == pytest.approx(2.0) and commune["motif"] == "deux années seulement"
    assert np.isnan(commune["pente_ic_bas"]) and pd.isna(commune["tendance"])


def test_evolution_series_input_and_flat_trend():
    s = pd.Series([10.0, 11.0, 9.0, 10.0], index=[2007, 2008, 2009, 2010])
    row = t.evolution(s, niveau="commune").iloc[0]
    assert row["tendance"] == "stable"
    with pytest.raises(ValueError, match="niveau"):
        t.evolution(s)


def test_evolution_skips_secret_years_and_filters_period():
    df = _long(
        [
            ("QP1", "x", 2007, 10.0, None, None),
            ("QP1", "x", 2008, None, None, None),
            ("QP1", "x", 2009, 8.0, None, None),
            ("QP1", "x", 2010, 6.0, None, None),
            ("QP2", "x", 2009, 5.0, None, None),
        ]
    )
    out = t.evolution(df, annee_debut=2008).set_index("code_territoire")
    assert out.loc["QP1", "n_annees"] == 2 and out.loc["QP1", "annee_debut"] == 2009
    assert out.loc["QP1", "motif"] == "deux années consécutives"
    assert out.loc["QP2", "motif"] == "une seule année"


def test_evolution_negative_trend():
    df = _long(
        [
            ("QP1", "x", y, 30.0 - 2 * (y - 2007) + (0.1 if y % 2 else 0), None, None)
            for y in range(2007, 2013)
        ]
    )
    assert t.evolution(df).iloc[0]["tendance"] == "baisse"


# --- convergence ---------------------------------------------------------------------------------


def _gaps(rows):
    return pd.DataFrame(rows, columns=["code_territoire", "indicateur", "annee", "ecart"]).assign(
        niveau="quartier"
    )


def test_convergence_labels():
    gaps = _gaps(
        [
            ("QP1", "x", 2007, 12.0),
            ("QP1", "x", 2014, 9.5),  # gap reduced by 2.5 → convergence
            ("QP2", "x", 2007, 5.0),
            ("QP2", "x", 2014, 8.0),  # widened → divergence
            ("QP3", "x", 2007, 5.0),
            ("QP3", "x", 2014, 5.5),  # +0.5 < tolerance → stable
            ("QP4", "x", 2007, 4.0),
            ("QP4", "x", 2014, -4.0),  # crossed but same distance → stable
        ]
    )
    out = t.convergence(gaps, 2007, 2014).set_index("code_territoire")
    assert out["convergence"].tolist() == ["convergence", "divergence", "stable", "stable"]
    assert out.loc["QP1", "variation_ecart"] == pytest.approx(-2.5)
    assert out.loc["QP1", "ecart_debut"] == 12.0 and out.loc["QP1", "ecart_fin"] == 9.5


def test_convergence_tolerance_and_default_years():
    gaps = _gaps(
        [("QP1", "x", 2008, 5.0), ("QP1", "x", 2010, None), ("QP1", "x", 2013, 5.5), ("QP2", "x", 2010, 3.0)]
    )
    out = t.convergence(gaps, tolerance={"x": 0.2}).set_index("code_territoire")
    assert out.loc["QP1", "convergence"] == "divergence"
    assert (out.loc["QP1", "annee_debut"], out.loc["QP1", "annee_fin"]) == (2008, 2013)
    assert pd.isna(out.loc["QP2", "convergence"])  # a single year


def test_convergence_missing_year_is_missing():
    gaps = _gaps([("QP1", "x", 2007, 5.0)])
    out = t.convergence(gaps, 2007, 2014)
    assert pd.isna(out.loc[0, "convergence"]) and out.loc[0, "annee_fin"] == 2014


def test_pipeline_gap_then_convergence():
    q = _long(
        [("QP1", "taux_chomage", 2007, 25.0, None, None), ("QP1", "taux_chomage", 2014, 20.0, None, None)]
    )
    ref = _long(
        [
            ("20001", "taux_chomage", 2007, 10.0, None, None),
            ("20001", "taux_chomage", 2014, 10.0, None, None),
        ],
        "commune",
    )
    out = t.convergence(t.gap_series(q, ref), 2007, 2014)
    assert out.loc[0, "code_reference"] == "20001"
    assert out.loc[0, "convergence"] == "convergence"


def test_rates_of_several_territories_without_counts_are_not_averaged():
    """Published rates without their counts (INSEE QPV file) cannot be pooled over quartiers:
    a plain mean would weigh a small quartier like a large one. One territory keeps its mean."""
    from cucs_analysis.analysis.trends import compare_periods_auto

    rows = [("A", 2017, 48.5), ("B", 2017, 31.7), ("A", 2016, 47.0), ("B", 2016, 30.0)]
    df = pd.DataFrame(rows, columns=["code_territoire", "annee", "valeur"]).assign(indicateur="tp60")
    kw = {"annee_debut_cucs": 2017, "debut": 2016, "fin": 2017}
    pooled = compare_periods_auto(df, by=["indicateur"], **kw).iloc[0]
    assert pooled["methode"] == "sans_effectifs"
    assert pd.isna(pooled["valeur_pendant"]) and pd.isna(pooled["valeur_avant"])
    one = compare_periods_auto(df[df["code_territoire"] == "A"], by=["indicateur"], **kw).iloc[0]
    assert one["methode"] == "moyenne" and one["valeur_pendant"] == 48.5
    per = compare_periods_auto(df, by=["code_territoire", "indicateur"], **kw)
    assert set(per["methode"]) == {"moyenne"} and per["valeur_pendant"].notna().all()
    counted = df.assign(numerateur=[485.0, 317.0, 470.0, 300.0], denominateur=1000.0)
    assert compare_periods_auto(counted, by=["indicateur"], **kw).iloc[0]["methode"] == "taux"
