"""Priority geography: eligibility rules for quartiers.

The QPV 2014 income rule (loi 2014-173, décret 2014-767), a ZUS-style synthetic index, a
"dynamique" rule (worsening gap), and the entries and exits each rule implies (docs/rules.md,
q3). Pure functions: numbers or DataFrames in, numbers or Series out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cucs_analysis.analysis import motifs, trends

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
    *,
    annee_debut_cucs: int,
) -> pd.DataFrame:
    """The 'dynamique' rule: quartiers whose gap to their commune worsened by at least
    `seuil_points` between the period before the contract [annee_debut, annee_debut_cucs - 1]
    and the period during it [annee_debut_cucs, annee_fin] (a rise of a 'hausse = dégradation'
    indicator). Each period's gap is the mean of the yearly gaps (quartier − commune) of the
    years where both values exist: never a first year against a last year.

    Returns one row per quartier: ecart_debut and ecart_fin (the gaps of the two periods),
    variation, regle_dynamique; a quartier without a gap in either period is not eligible under
    this rule (variation missing).
    """
    values = indicateurs[
        (indicateurs["indicateur"] == indicateur)
        & (indicateurs["annee"] >= annee_debut)
        & (indicateurs["annee"] <= annee_fin)
    ]
    q = values[values["niveau"] == "quartier"].pivot_table(
        index="code_territoire", columns="annee", values="valeur", aggfunc="first"
    )
    c = values[values["niveau"] == "commune"].pivot_table(
        index="code_territoire", columns="annee", values="valeur", aggfunc="first"
    )
    years = list(range(int(annee_debut), int(annee_fin) + 1))
    base = quartiers[["code_quartier", "code_commune"]].set_index("code_quartier")
    q = q.reindex(index=base.index, columns=years)
    c = c.reindex(index=base["code_commune"], columns=years)
    c.index = base.index
    gaps = q - c
    avant = [y for y in years if y < annee_debut_cucs]
    pendant = [y for y in years if y >= annee_debut_cucs]
    out = pd.DataFrame(
        {
            "ecart_debut": gaps[avant].mean(axis=1) if avant else np.nan,
            "ecart_fin": gaps[pendant].mean(axis=1) if pendant else np.nan,
        },
        index=base.index,
    )
    out["variation"] = out["ecart_fin"] - out["ecart_debut"]
    out["regle_dynamique"] = (out["variation"] >= seuil_points).fillna(False).astype(bool)
    out.index.name = "code_quartier"
    return out


def entries_exits(eligibilite: pd.DataFrame, dans_la_liste: pd.Series) -> pd.DataFrame:
    """Who enters or leaves the priority list under each rule.

    `eligibilite`: index code_quartier, columns regle_* (bool, or "boolean" with NA where the
    rule cannot be computed); `dans_la_liste`: boolean Series (same index) — the current list
    (e.g. quartiers with a CUCS category), NA where membership is unknown (an unknown CUCS
    category is neither in nor out). Returns one row per rule with the counts and codes of
    entrants, leavers and those kept; a quartier where the rule cannot be computed, or whose
    membership is unknown, is neither (counted in `non_calculables`).
    """
    current_na = dans_la_liste.reindex(eligibilite.index).astype("boolean")
    known = current_na.notna()
    current = current_na.fillna(False).astype(bool)
    rows = []
    for rule in [c for c in eligibilite.columns if c.startswith("regle_")]:
        r = eligibilite[rule].astype("boolean")
        eligible = r.fillna(False).astype(bool)
        rejected = r.eq(False).fillna(False).astype(bool)
        entrants = eligible & ~current & known
        sortants = rejected & current & known
        maintenus = eligible & current & known
        rows.append(
            {
                "regle": rule,
                "eligibles": int(eligible.sum()),
                "maintenus": int(maintenus.sum()),
                "entrants": int(entrants.sum()),
                "sortants": int(sortants.sum()),
                "non_calculables": int((r.isna() | ~known).sum()),
                "codes_entrants": sorted(eligibilite.index[entrants]),
                "codes_sortants": sorted(eligibilite.index[sortants]),
            }
        )
    return pd.DataFrame(rows)


#: The CUCS category that says "unknown" (data.schema: blank is hors CUCS, a known state).
CATEGORIE_INCONNUE = "inconnu"


def in_cucs(categorie: pd.Series) -> pd.Series:
    """Whether each quartier is on the CUCS list (category 1, 2 or 3), as pandas "boolean":
    blank → False (hors CUCS), the category "inconnu" → NA (unknown, never hors CUCS)."""
    cat = categorie.astype(object)
    inconnu = cat.map(lambda v: isinstance(v, str) and v.strip().lower() == CATEGORIE_INCONNUE)
    out = cat.notna().astype("boolean")
    out[inconnu.astype(bool)] = pd.NA
    return out


def list_transitions(quartiers: pd.DataFrame) -> pd.DataFrame:
    """Actual entries and exits of the official lists: CUCS (2007) → QPV 2015 → QPV 2024.

    A quartier whose membership of either list is unknown (category "inconnu", a blank
    qpv_2015 / qpv_2024 read as NA) is counted in `non_calculables`, never as entering or
    leaving."""
    q = quartiers.set_index("code_quartier")

    def flag(col: str) -> pd.Series:
        return q[col].astype("boolean") if col in q else pd.Series(pd.NA, index=q.index, dtype="boolean")

    cucs = in_cucs(q["categorie_cucs"])
    steps = {
        "CUCS → QPV 2015": (cucs, flag("qpv_2015")),
        "QPV 2015 → QPV 2024": (flag("qpv_2015"), flag("qpv_2024")),
    }
    rows = []
    for label, (before, after) in steps.items():
        known = before.notna() & after.notna()
        b, a = before.fillna(False).astype(bool), after.fillna(False).astype(bool)
        rows.append(
            {
                "etape": label,
                "maintenus": int((b & a & known).sum()),
                "entrants": int((~b & a & known).sum()),
                "sortants": int((b & ~a & known).sum()),
                "non_calculables": int((~known).sum()),
            }
        )
    return pd.DataFrame(rows)


# --- issue 8: reasons of each verdict, and the scale of the quartier ---------------------------
#
# A rule gives, per quartier, True (eligible), False (not eligible, with the codes of the
# conditions it fails) or NA (cannot be computed, with a `motifs` code: secret or missing
# data). Three-valued logic: one failed condition is enough to say "not eligible" even when
# another input is missing; "eligible" needs every condition met.

#: Reason codes of a "not eligible" verdict (French labels in the q3 report).
REVENU_AU_DESSUS = "revenu_au_dessus_seuil"
TAILLE_QUARTIER = "taille_quartier"
TAILLE_UU = "taille_unite_urbaine"
INDICE_SOUS_SEUIL = "indice_sous_seuil"
ECART_NON_CREUSE = "ecart_non_creuse"
RAISONS = (REVENU_AU_DESSUS, TAILLE_QUARTIER, TAILLE_UU, INDICE_SOUS_SEUIL, ECART_NON_CREUSE)
#: Separator of several reason codes in one cell.
SEP_RAISONS = ";"


def _missing_reason(secret: pd.Series | None, index: pd.Index) -> pd.Series:
    """`motifs.SECRET` where an input of the quartier is secret, else `motifs.DONNEE_ABSENTE`."""
    s = pd.Series(False, index=index) if secret is None else secret.reindex(index).fillna(False).astype(bool)
    return pd.Series(np.where(s, motifs.SECRET, motifs.DONNEE_ABSENTE), index=index, dtype=object)


def rule_verdict(
    conditions: dict[str, pd.Series], secret: pd.Series | None = None, prefix: str = "regle"
) -> pd.DataFrame:
    """Combine conditions (reason code → nullable bool Series "condition met") into a verdict.

    A rule is computed only when its whole test can run (issue 11): `regle` (pandas "boolean")
    is True when all conditions hold, False when one fails and none is unknown, NA otherwise
    (a quartier of 994 inhabitants whose income threshold is unknown is n.d., not « non »).
    `raisons` holds the codes of the failed conditions joined by `SEP_RAISONS` ("" unless
    False); `observations` the failed conditions of an NA verdict (reported as observations,
    not as the rule's result); `motif` is None unless NA: `secret` when `secret` flags the
    quartier, else `donnee_absente`. Column names get `prefix` / `raisons_<suffix>` /
    `observations_<suffix>` / `motif_<suffix>` where suffix is what follows "regle_" in `prefix`.
    """
    frame = pd.DataFrame({k: v.astype("boolean") for k, v in conditions.items()})
    index = frame.index
    failed = frame.eq(False).fillna(False)
    unknown = frame.isna()
    verdict = pd.Series(pd.NA, index=index, dtype="boolean")
    known = ~unknown.any(axis=1)
    verdict[failed.any(axis=1) & known] = False
    verdict[~failed.any(axis=1) & known] = True
    codes = failed.apply(lambda row: SEP_RAISONS.join(c for c in frame.columns if row[c]), axis=1)
    codes = (codes if len(index) else pd.Series(dtype=object)).reindex(index).fillna("")
    motif = _missing_reason(secret, index).where(verdict.isna(), None)
    suffix = prefix.removeprefix("regle_")
    return pd.DataFrame(
        {
            prefix: verdict,
            f"raisons_{suffix}": codes.where(verdict.notna(), ""),
            f"observations_{suffix}": codes.where(verdict.isna(), ""),
            f"motif_{suffix}": motif,
        },
        index=index,
    )


def plausible_median(value) -> bool:
    """A median income one may compute a threshold from: known, finite and positive."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return False
    return bool(np.isfinite(v) and v > 0)


def missing_inputs(inputs: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    """Per row of `index`, the codes (keys of `inputs`) whose value is missing, joined by
    `SEP_RAISONS` ("" when all are known): why a rule is n.d. for that quartier."""
    frame = pd.DataFrame({k: pd.Series(v).reindex(index) for k, v in inputs.items()}, index=index)
    miss = frame.isna()
    return (
        miss.apply(lambda row: SEP_RAISONS.join(c for c in frame.columns if row[c]), axis=1)
        .reindex(index)
        .fillna("")
        if len(index)
        else pd.Series(dtype=object)
    )


def year_for(
    indicateurs: pd.DataFrame,
    indicateur: str,
    niveau: str = "quartier",
    demandee: int | None = None,
    codes: list[str] | None = None,
) -> int | None:
    """The year an indicator is read at: `demandee` when the data hold it at `niveau` (for
    `codes` if given), else the latest year they hold; None when they hold none. A secret cell
    counts as held (the value exists, it is hidden)."""
    d = indicateurs[(indicateurs["niveau"] == niveau) & (indicateurs["indicateur"] == indicateur)]
    if codes is not None:
        d = d[d["code_territoire"].isin(list(codes))]
    held = d["valeur"].notna()
    if "secret" in d:
        held |= d["secret"].astype("boolean").fillna(False).astype(bool)
    years = sorted({int(y) for y in d.loc[held, "annee"].dropna()})
    if not years:
        return None
    if demandee is not None and int(demandee) in years:
        return int(demandee)
    return years[-1]


def qpv2014_verdict(
    quartiers: pd.DataFrame,
    national_median: float | None,
    min_pop: int = 1000,
    min_uu_pop: int = 10000,
    secret: pd.Series | None = None,
) -> pd.DataFrame:
    """The QPV 2014 rule with its reasons (same columns as `qpv2014_eligible` reads).

    Returns seuil_qpv2014, regle_qpv2014 (boolean with NA), raisons_qpv2014 (codes among
    REVENU_AU_DESSUS, TAILLE_QUARTIER, TAILLE_UU) and motif_qpv2014, on the input's index.
    `secret`: bool Series (same index), True when the income or population used is secret.
    """

    def finite(col: str) -> pd.Series:  # an infinite value is unknown, not a huge number
        v = pd.to_numeric(quartiers[col], errors="coerce").astype(float)
        return v.where(np.isfinite(v))

    revenu, pop = finite("revenu_median_uc"), finite("population")
    # An income or an urban unit of 0 is an export default, not a value: no threshold from it.
    uu_pop = finite("population_unite_urbaine").where(lambda v: v > 0)
    uu_med = finite("revenu_median_uu").where(lambda v: v > 0)
    if not plausible_median(national_median):
        seuil = pd.Series(np.nan, index=quartiers.index)
    else:
        seuil = qpv2014_threshold(national_median, uu_med, uu_pop.fillna(0))
        seuil = seuil.where(uu_med.notna() & uu_pop.notna())

    def cond(ok: pd.Series, *inputs: pd.Series) -> pd.Series:
        known = pd.concat(inputs, axis=1).notna().all(axis=1)
        return ok.astype("boolean").where(known, pd.NA)

    out = rule_verdict(
        {
            REVENU_AU_DESSUS: cond(revenu < seuil, revenu, seuil),
            TAILLE_QUARTIER: cond(pop >= min_pop, pop),
            TAILLE_UU: cond(uu_pop >= min_uu_pop, uu_pop),
        },
        secret,
        "regle_qpv2014",
    )
    out.insert(0, "seuil_qpv2014", seuil)
    return out


def zus_verdict(
    index: pd.Series, seuil_quantile: float = 0.5, secret: pd.Series | None = None
) -> pd.DataFrame:
    """The ZUS-style rule with its reasons: eligible at or above the `seuil_quantile` quantile
    of the computed indices; NA (motif) where the index cannot be computed."""
    threshold = index.quantile(seuil_quantile)
    ok = (index >= threshold).astype("boolean").where(index.notna(), pd.NA)
    return rule_verdict({INDICE_SOUS_SEUIL: ok}, secret, "regle_zus")


def dynamique_verdict(
    variation: pd.Series, seuil_points: float, secret: pd.Series | None = None
) -> pd.DataFrame:
    """The 'dynamique' rule with its reasons: eligible when the gap widened by at least
    `seuil_points`; NA (motif) where a value of either year is missing."""
    ok = (variation >= seuil_points).astype("boolean").where(variation.notna(), pd.NA)
    return rule_verdict({ECART_NON_CREUSE: ok}, secret, "regle_dynamique")


def rules_computed(eligibilite: pd.DataFrame, regles: list[str]) -> list[str]:
    """The rules computed for at least one quartier (a rule that is n.d. everywhere is left
    out of any comparison)."""
    return [r for r in regles if r in eligibilite and eligibilite[r].astype("boolean").notna().any()]


def rules_agree(eligibilite: pd.DataFrame, regles: list[str]) -> dict:
    """Whether the rules designate the same quartiers, among those where all are computable.

    Only the rules computed for at least one quartier are compared (`rules_computed`); the
    others are listed in `non_calculees`. Returns {regles (compared), non_calculees,
    n_calculables, n_concordants, n_discordants, n_selectionnes (by at least one rule),
    meme_liste (True only when at least two rules are compared and every one selects the same
    non-empty set on the computable quartiers), codes_discordants}.
    """
    compared = rules_computed(eligibilite, regles)
    r = eligibilite[compared].astype("boolean")
    computable = r.notna().all(axis=1) if compared else pd.Series(False, index=eligibilite.index)
    rr = r[computable].astype(bool)
    agree = rr.all(axis=1) | (~rr).all(axis=1)
    selected = int(rr.any(axis=1).sum())
    return {
        "regles": compared,
        "non_calculees": [x for x in regles if x not in compared],
        "n_calculables": int(computable.sum()),
        "n_concordants": int(agree.sum()),
        "n_discordants": int((~agree).sum()),
        "n_selectionnes": selected,
        "meme_liste": bool(len(compared) >= 2 and len(rr) > 0 and agree.all() and selected > 0),
        "codes_discordants": list(rr.index[~agree]),
    }


#: Which count of a rate indicator is its "people" numerator (chômeurs, personnes pauvres).
NUMERATEURS_PERSONNES = {"taux_chomage": "numerateur", "taux_pauvrete": "numerateur", "population": "valeur"}


def share_in_quartiers(
    indicateurs: pd.DataFrame,
    code_commune: str,
    codes_quartiers: list[str],
    annee: int,
    indicateurs_list: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Share of the commune's people (unemployed, poor, inhabitants) living in some quartiers.

    For each indicator (indicator → column holding the people count: "numerateur" of a rate,
    "valeur" of a count), one row: annee, n_quartiers, n_quartiers_avec_valeur,
    personnes_quartiers (sum over the quartiers), personnes_commune, part (in %; NaN when a
    quartier's count is missing or secret, or the commune's is), secret (a quartier's value
    is secret). The base is the commune's count for the same indicator and year.
    """
    cols = [
        "indicateur",
        "annee",
        "n_quartiers",
        "n_quartiers_avec_valeur",
        "personnes_quartiers",
        "personnes_commune",
        "part",
        "secret",
    ]
    indicateurs_list = indicateurs_list or NUMERATEURS_PERSONNES
    rows = []
    ind = indicateurs[indicateurs["annee"] == annee]
    for indicateur, colonne in indicateurs_list.items():
        d = ind[ind["indicateur"] == indicateur]
        q = d[(d["niveau"] == "quartier") & d["code_territoire"].isin(codes_quartiers)]
        q = q.drop_duplicates("code_territoire")
        c = d[(d["niveau"] == "commune") & (d["code_territoire"] == code_commune)]
        valeurs = pd.to_numeric(q[colonne], errors="coerce")
        n_ok = int(valeurs.notna().sum())
        secret = bool(q["secret"].fillna(False).astype(bool).any()) if "secret" in q else False
        total = float(valeurs.sum()) if n_ok else np.nan
        commune = float(pd.to_numeric(c[colonne], errors="coerce").iloc[0]) if len(c) else np.nan
        complet = n_ok == len(codes_quartiers) and len(codes_quartiers) > 0
        part = 100.0 * total / commune if complet and commune and not np.isnan(commune) else np.nan
        rows.append(
            [
                indicateur,
                annee,
                len(codes_quartiers),
                n_ok,
                total if complet else np.nan,
                commune,
                part,
                secret,
            ]
        )
    return pd.DataFrame(rows, columns=cols)


def _credits_by(actions: pd.DataFrame, financements: pd.DataFrame, key: pd.Series) -> pd.DataFrame:
    """Actions, action-years, specific and total credits granted per value of `key` (a Series
    on the actions' index)."""
    a = actions[["id_action", "annee"]].assign(_cle=key.to_numpy())
    f = financements[["id_action", "annee", "type_credit", "montant_accorde"]].copy()
    f["montant_accorde"] = pd.to_numeric(f["montant_accorde"], errors="coerce").fillna(0.0)
    f["specifique"] = f["montant_accorde"].where(f["type_credit"] == "specifique", 0.0)
    m = a.merge(
        f.groupby(["id_action", "annee"], as_index=False)[["montant_accorde", "specifique"]].sum(),
        on=["id_action", "annee"],
        how="left",
    ).fillna({"montant_accorde": 0.0, "specifique": 0.0})
    g = m.groupby("_cle", dropna=False).agg(
        actions=("id_action", "nunique"),
        actions_annees=("id_action", "size"),
        credits_specifiques=("specifique", "sum"),
        credits_total=("montant_accorde", "sum"),
    )
    g["part_credits_specifiques"] = 100.0 * g["credits_specifiques"] / g["credits_specifiques"].sum()
    g["part_actions_annees"] = 100.0 * g["actions_annees"] / g["actions_annees"].sum()
    return g


#: Targeting codes of an action-year: one quartier, or the whole commune (no code_quartier).
CIBLE_QUARTIER = "quartier"
CIBLE_COMMUNE = "commune"


def credits_by_targeting(actions: pd.DataFrame, financements: pd.DataFrame) -> pd.DataFrame:
    """Quartier-targeted (an action-year with a `code_quartier`) vs commune-wide action-years:
    one row per `ciblage` (CIBLE_QUARTIER, CIBLE_COMMUNE) with actions, actions_annees,
    credits_specifiques, credits_total, part_credits_specifiques, part_actions_annees (in %),
    annee_debut, annee_fin."""
    cols = [
        "ciblage",
        "actions",
        "actions_annees",
        "credits_specifiques",
        "credits_total",
        "part_credits_specifiques",
        "part_actions_annees",
        "annee_debut",
        "annee_fin",
    ]
    if actions.empty:
        return pd.DataFrame(columns=cols)
    key = pd.Series(
        np.where(actions["code_quartier"].notna(), CIBLE_QUARTIER, CIBLE_COMMUNE), index=actions.index
    )
    g = _credits_by(actions, financements, key).reindex([CIBLE_QUARTIER, CIBLE_COMMUNE])
    g = g.fillna(
        {
            "actions": 0,
            "actions_annees": 0,
            "credits_specifiques": 0.0,
            "credits_total": 0.0,
            "part_credits_specifiques": 0.0,
            "part_actions_annees": 0.0,
        }
    )
    g["annee_debut"] = int(actions["annee"].min())
    g["annee_fin"] = int(actions["annee"].max())
    return g.rename_axis("ciblage").reset_index()[cols]


def credits_by_quartier(actions: pd.DataFrame, financements: pd.DataFrame) -> pd.DataFrame:
    """Per code_quartier of the targeted action-years: actions, actions_annees,
    credits_specifiques, credits_total (commune-wide rows left out)."""
    cols = ["code_quartier", "actions", "actions_annees", "credits_specifiques", "credits_total"]
    a = actions[actions["code_quartier"].notna()]
    if a.empty:
        return pd.DataFrame(columns=cols)
    g = _credits_by(a, financements, a["code_quartier"])
    return g.rename_axis("code_quartier").reset_index()[cols]


#: What marks an action aimed at young people: its declared public (children, pupils, young
#: people up to 25).
MOTIF_PUBLIC_JEUNE = r"jeune|collégien|lycéen|enfant|adolescent|moins de 25"


def youth_actions(actions: pd.DataFrame) -> pd.Series:
    """True for the action-years whose declared public is young (`MOTIF_PUBLIC_JEUNE`)."""
    return actions["public_cible"].fillna("").str.contains(MOTIF_PUBLIC_JEUNE, case=False, regex=True)


def credits_youth(actions: pd.DataFrame, financements: pd.DataFrame) -> pd.DataFrame:
    """Action-years aimed at young people vs the others: same columns as
    `credits_by_targeting` with `public` in ("jeunes", "autres")."""
    cols = [
        "public",
        "actions",
        "actions_annees",
        "credits_specifiques",
        "credits_total",
        "part_credits_specifiques",
        "part_actions_annees",
    ]
    if actions.empty:
        return pd.DataFrame(columns=cols)
    key = pd.Series(np.where(youth_actions(actions), "jeunes", "autres"), index=actions.index)
    g = _credits_by(actions, financements, key).reindex(["jeunes", "autres"]).fillna(0)
    return g.rename_axis("public").reset_index()[cols]


def credits_by_domain(actions: pd.DataFrame, financements: pd.DataFrame) -> pd.DataFrame:
    """Per thematique (domain): actions, action-years, specific credits and their share."""
    cols = [
        "thematique",
        "actions",
        "actions_annees",
        "credits_specifiques",
        "credits_total",
        "part_credits_specifiques",
        "part_actions_annees",
    ]
    if actions.empty:
        return pd.DataFrame(columns=cols)
    g = _credits_by(actions, financements, actions["thematique"])
    return g.rename_axis("thematique").reset_index()[cols]


def pooled_gap_periods(
    indicateurs: pd.DataFrame,
    codes_quartiers: list[str],
    code_commune: str,
    indicateurs_list: list[str],
    *,
    annee_debut_cucs: int,
    debut: int,
    fin: int,
    echelles: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Gap between the quartiers pooled (Σ numerators / Σ denominators) and their commune,
    before vs during the contract (`trends.compare_periods` on each), per indicator.

    Columns: indicateur, valeur_quartiers_avant/pendant, valeur_commune_avant/pendant,
    ecart_avant, ecart_pendant, variation_ecart (during − before), avant_testable,
    petite_base. Secret or missing quartier cells are left out of the pool.
    """
    cols = [
        "indicateur",
        "valeur_quartiers_avant",
        "valeur_quartiers_pendant",
        "valeur_commune_avant",
        "valeur_commune_pendant",
        "ecart_avant",
        "ecart_pendant",
        "variation_ecart",
        "avant_testable",
        "petite_base",
    ]
    echelles = echelles or {}
    rows = []
    for indicateur in indicateurs_list:
        d = indicateurs[(indicateurs["indicateur"] == indicateur)].dropna(
            subset=["numerateur", "denominateur"]
        )
        q = d[(d["niveau"] == "quartier") & d["code_territoire"].isin(codes_quartiers)]
        c = d[(d["niveau"] == "commune") & (d["code_territoire"] == code_commune)]
        if q.empty or c.empty:
            continue
        kw = dict(
            annee_debut_cucs=annee_debut_cucs,
            debut=debut,
            fin=fin,
            numerateur="numerateur",
            denominateur="denominateur",
            echelle=echelles.get(indicateur, 100.0),
        )
        pq = trends.compare_periods(q, **kw).iloc[0]
        pc = trends.compare_periods(c, **kw).iloc[0]
        ea = pq["valeur_avant"] - pc["valeur_avant"]
        ep = pq["valeur_pendant"] - pc["valeur_pendant"]
        rows.append(
            [
                indicateur,
                pq["valeur_avant"],
                pq["valeur_pendant"],
                pc["valeur_avant"],
                pc["valeur_pendant"],
                ea,
                ep,
                ep - ea,
                bool(pq["avant_testable"]),
                bool(pq["petite_base"]),
            ]
        )
    return pd.DataFrame(rows, columns=cols)
