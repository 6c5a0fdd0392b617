"""Priority geography: eligibility rules for quartiers.

The QPV 2014 income rule (loi 2014-173, décret 2014-767), a ZUS-style synthetic index, a
"dynamique" rule (worsening gap), and the entries and exits each rule implies (docs/rules.md,
q3). Pure functions: numbers or DataFrames in, numbers or Series out.
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


# --- q3: the other eligibility rules, entries and exits ------------------------------------


def indicator_matrix(
    indicateurs: pd.DataFrame, niveau: str, annee: int, indicateurs_list: list[str] | tuple[str, ...]
) -> pd.DataFrame:
    """Territory × indicator values for one level and year (secret cells stay missing)."""
    rows = indicateurs[
        (indicateurs["niveau"] == niveau)
        & (indicateurs["annee"] == annee)
        & (indicateurs["indicateur"].isin(list(indicateurs_list)))
    ]
    rows = rows.drop_duplicates(["code_territoire", "indicateur"])
    wide = rows.pivot(index="code_territoire", columns="indicateur", values="valeur")
    return wide.reindex(columns=list(indicateurs_list))


def zus_index(features: pd.DataFrame) -> pd.Series:
    """ZUS-style synthetic index (as used to select the ZRU, loi du 14 novembre 1996):

    population × unemployment rate × share under 25 × share without diploma
    / fiscal potential per inhabitant of the commune.

    `features` columns: population, taux_chomage, part_moins_25_ans, part_sans_diplome (in
    percent) and potentiel_fiscal_hab (€). Rates are used as proportions.
    """
    return (
        features["population"]
        * (features["taux_chomage"] / 100)
        * (features["part_moins_25_ans"] / 100)
        * (features["part_sans_diplome"] / 100)
        / features["potentiel_fiscal_hab"]
    ).rename("indice_zus")


def zus_eligible(index: pd.Series, seuil_quantile: float = 0.5) -> pd.Series:
    """Eligible when the index reaches the `seuil_quantile` quantile of the quartiers compared
    (the real ZRU threshold was national; a region only has its own distribution). A missing
    index is not eligible."""
    threshold = index.quantile(seuil_quantile)
    return (index >= threshold).fillna(False).astype(bool).rename("regle_zus")


def dynamique_rule(
    indicateurs: pd.DataFrame,
    quartiers: pd.DataFrame,
    indicateur: str,
    annee_debut: int,
    annee_fin: int,
    seuil_points: float,
) -> pd.DataFrame:
    """The 'dynamique' rule: quartiers whose gap to their commune worsened by at least
    `seuil_points` between two years (a rise of a 'hausse = dégradation' indicator).

    Returns one row per quartier: ecart_debut, ecart_fin, variation, regle_dynamique; a
    quartier without both values is not eligible under this rule (variation missing).
    """
    values = indicateurs[
        (indicateurs["indicateur"] == indicateur) & (indicateurs["annee"].isin([annee_debut, annee_fin]))
    ]
    q = values[values["niveau"] == "quartier"].pivot_table(
        index="code_territoire", columns="annee", values="valeur", aggfunc="first"
    )
    c = values[values["niveau"] == "commune"].pivot_table(
        index="code_territoire", columns="annee", values="valeur", aggfunc="first"
    )
    base = quartiers[["code_quartier", "code_commune"]].set_index("code_quartier")
    q = q.reindex(index=base.index, columns=[annee_debut, annee_fin])
    c = c.reindex(index=base["code_commune"], columns=[annee_debut, annee_fin])
    c.index = base.index
    gaps = q - c
    out = pd.DataFrame(
        {
            "ecart_debut": gaps[annee_debut],
            "ecart_fin": gaps[annee_fin],
        }
    )
    out["variation"] = out["ecart_fin"] - out["ecart_debut"]
    out["regle_dynamique"] = (out["variation"] >= seuil_points).fillna(False).astype(bool)
    out.index.name = "code_quartier"
    return out


def entries_exits(eligibilite: pd.DataFrame, dans_la_liste: pd.Series) -> pd.DataFrame:
    """Who enters or leaves the priority list under each rule.

    `eligibilite`: index code_quartier, boolean columns regle_*; `dans_la_liste`: boolean
    Series (same index) — the current list (e.g. quartiers with a CUCS category). Returns
    one row per rule with the counts and the codes of entrants, leavers and those kept.
    """
    current = dans_la_liste.reindex(eligibilite.index).fillna(False).astype(bool)
    rows = []
    for rule in [c for c in eligibilite.columns if c.startswith("regle_")]:
        eligible = eligibilite[rule].fillna(False).astype(bool)
        entrants = eligible & ~current
        sortants = ~eligible & current
        maintenus = eligible & current
        rows.append(
            {
                "regle": rule,
                "eligibles": int(eligible.sum()),
                "maintenus": int(maintenus.sum()),
                "entrants": int(entrants.sum()),
                "sortants": int(sortants.sum()),
                "codes_entrants": sorted(eligibilite.index[entrants]),
                "codes_sortants": sorted(eligibilite.index[sortants]),
            }
        )
    return pd.DataFrame(rows)


def list_transitions(quartiers: pd.DataFrame) -> pd.DataFrame:
    """Actual entries and exits of the official lists: CUCS (2007) → QPV 2015 → QPV 2024."""
    q = quartiers.set_index("code_quartier")
    cucs = q["categorie_cucs"].notna()
    steps = {
        "CUCS → QPV 2015": (cucs, q["qpv_2015"].astype(bool)),
        "QPV 2015 → QPV 2024": (q["qpv_2015"].astype(bool), q["qpv_2024"].astype(bool)),
    }
    rows = []
    for label, (before, after) in steps.items():
        rows.append(
            {
                "etape": label,
                "maintenus": int((before & after).sum()),
                "entrants": int((~before & after).sum()),
                "sortants": int((before & ~after).sum()),
            }
        )
    return pd.DataFrame(rows)
