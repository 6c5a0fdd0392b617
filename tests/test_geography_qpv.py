import math

import pandas as pd
import pytest

from cucs_analysis.analysis.geography import qpv2014_eligible, qpv2014_threshold


def test_threshold_scalar_known_values():
    # 0.6 × (0.7 × 19000 + 0.3 × 18400) = 11292 → 11300
    assert qpv2014_threshold(19000, 18400, 200_000) == 11300.0
    # 0.6 × (0.7 × 19000 + 0.3 × 17200) = 11076 → 11100
    assert qpv2014_threshold(19000, 17200, 50_000) == 11100.0


def test_threshold_exact_hundred_is_not_rounded_up():
    # 0.6 × (0.7 × 20000 + 0.3 × 20000) = 12000 exactly: stays 12000 despite float noise
    assert qpv2014_threshold(20000, 20000, 100_000) == 12000.0
    # 0.6 × (0.7 × 19000 + 0.3 × 19000) = 11400 exactly
    assert qpv2014_threshold(19000, 19000, 100_000) == 11400.0


def test_threshold_weight_swap_at_five_million():
    below = qpv2014_threshold(19000, 23000, 4_999_999)  # 0.6 × (13300 + 6900) = 12120 → 12200
    at = qpv2014_threshold(19000, 23000, 5_000_000)  # 0.6 × (5700 + 16100) = 13080 → 13100
    assert below == 12200.0
    assert at == 13100.0


def test_threshold_series_keeps_index():
    uu = pd.Series([18400.0, 23000.0], index=["a", "b"])
    pop = pd.Series([200_000, 10_000_000], index=["a", "b"])
    s = qpv2014_threshold(19000, uu, pop)
    assert list(s.index) == ["a", "b"]
    assert s.tolist() == [11300.0, 13100.0]


def _frame(**over):
    base = {
        "code_quartier": ["QP020001"],
        "revenu_median_uc": [10000.0],
        "population": [2000],
        "revenu_median_uu": [18400.0],
        "population_unite_urbaine": [200_000],
    }
    base.update({k: [v] for k, v in over.items()})
    return pd.DataFrame(base)


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({}, True),
        ({"revenu_median_uc": 11299.0}, True),
        ({"revenu_median_uc": 11300.0}, False),  # equal to the threshold: not eligible
        ({"population": 999}, False),
        ({"population": 1000}, True),
        ({"population_unite_urbaine": 9999}, False),
        ({"population_unite_urbaine": 10000}, True),
        ({"revenu_median_uc": math.nan}, False),
        # In a 5-million urban unit the threshold is 0.6 × (5700 + 0.7 × 18400) = 11148 → 11200
        ({"population_unite_urbaine": 5_000_000, "revenu_median_uc": 11250.0}, False),
        ({"population_unite_urbaine": 5_000_000, "revenu_median_uc": 11150.0}, True),
    ],
)
def test_eligible_boundaries(over, expected):
    res = qpv2014_eligible(_frame(**over), 19000)
    assert res.dtype == bool
    assert res.tolist() == [expected]


def test_eligible_vector_and_custom_minimums():
    df = pd.DataFrame(
        {
            "code_quartier": ["QP020001", "QP020002", "QP020003"],
            "revenu_median_uc": [9000.0, 12000.0, 9000.0],
            "population": [1500, 3000, 800],
            "revenu_median_uu": [18400.0, 18400.0, 18400.0],
            "population_unite_urbaine": [200_000, 200_000, 200_000],
        },
        index=[10, 20, 30],
    )
    assert qpv2014_eligible(df, 19000).tolist() == [True, False, False]
    assert list(qpv2014_eligible(df, 19000).index) == [10, 20, 30]
    assert qpv2014_eligible(df, 19000, min_pop=500).tolist() == [True, False, True]
    # A national median of 25,000 lifts the threshold above 12,000.
    assert qpv2014_eligible(df, 25000).tolist() == [True, True, False]
