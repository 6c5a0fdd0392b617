"""Priority geography: eligibility rules for quartiers.

For now only the QPV 2014 income rule (loi 2014-173, décret 2014-767; docs/rules.md, q3).
Pure functions: numbers or DataFrames in, numbers or Series out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Urban units of at least this size swap the weights of the national and local medians.
QPV2014_BIG_UU = 5_000_000


def qpv2014_threshold(
    national_median: float,
    uu_median: float | pd.Series,
    uu_population: float | pd.Series,
) -> float | pd.Series:
    """Income threshold S = ceil_100(0.6 × (0.7 × national + 0.3 × urban unit)), in euros.

    The weights become 0.3 / 0.7 for urban units of 5,000,000 inhabitants or more. Accepts
    scalars (returns a float) or Series (returns a Series with the same index).
    """
    uu_med = pd.to_numeric(uu_median) if isinstance(uu_median, pd.Series) else uu_median
    uu_pop = pd.to_numeric(uu_population) if isinstance(uu_population, pd.Series) else uu_population
    w_nat = np.where(np.asarray(uu_pop, dtype=float) >= QPV2014_BIG_UU, 0.3, 0.7)
    raw = 0.6 * (w_nat * float(national_median) + (1.0 - w_nat) * np.asarray(uu_med, dtype=float))
    # Round away float noise (e.g. 11300.000000001) before rounding up to the next 100 €.
    seuil = np.ceil(np.round(raw, 6) / 100.0) * 100.0
    if isinstance(uu_median, pd.Series):
        return pd.Series(seuil, index=uu_median.index, name="seuil_qpv2014")
    if isinstance(uu_population, pd.Series):
        return pd.Series(seuil, index=uu_population.index, name="seuil_qpv2014")
    return float(seuil)


def qpv2014_eligible(
    quartiers: pd.DataFrame,
    national_median: float,
    min_pop: int = 1000,
    min_uu_pop: int = 10000,
) -> pd.Series:
    """Whether each quartier passes the QPV 2014 rule (Series of bool, same index as input).

    Columns used: `revenu_median_uc`, `population` (of the quartier, for the income year),
    `revenu_median_uu`, `population_unite_urbaine`. Eligible when the income is strictly
    below the threshold, the quartier has at least `min_pop` inhabitants and its urban unit
    at least `min_uu_pop`. A missing value makes the quartier not eligible.
    """
    revenu = pd.to_numeric(quartiers["revenu_median_uc"], errors="coerce").astype(float)
    pop = pd.to_numeric(quartiers["population"], errors="coerce").astype(float)
    uu_pop = pd.to_numeric(quartiers["population_unite_urbaine"], errors="coerce").astype(float)
    uu_med = pd.to_numeric(quartiers["revenu_median_uu"], errors="coerce").astype(float)
    seuil = qpv2014_threshold(national_median, uu_med, uu_pop.fillna(0))
    eligible = (revenu < seuil) & (pop >= min_pop) & (uu_pop >= min_uu_pop)
    # Comparisons with NaN are already False; make the dtype plain bool.
    return eligible.fillna(False).astype(bool).rename("eligible_qpv2014")
