"""The region stage: what is the same for every commune of a data set, computed once.

The difference-in-differences and its event studies (q2), the treated / comparison status of
every quartier and the pooled series of the comparison quartiers (q2), the eligibility of
every quartier under each rule (q3), the typology of quartiers with the map data (q3), the
steering model of every commune (q6, to place one among the others) and the indicators of
every commune's steering structure (q7, to compare structures) depend on the whole data set and on a few parameters, not on the commune. `build` computes
them from a `Dataset`; the pipeline stores the result under `results/region/`, keyed by the
data fingerprint and `parametres_region(params)`, and every commune's report reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cucs_analysis.analysis import geography, impact, motifs, operators, structures, trends
from cucs_analysis.analysis.typology import Typology, build_typology

#: The parameter sections the region stage depends on (its cache key covers exactly these).
SECTIONS_PARAMETRES = (
    "periode",
    "annee_debut_cucs",
    "did",
    "qpv2014",
    "zus",
    "dynamique",
    "typologie",
    "operateurs",
    "pilotage",
    "structures",
)
GROUPES_COLONNES = ["code_quartier", "intensite_moyenne", "groupe"]
SERIES_COLONNES = ["indicateur", "serie", "annee", "valeur", "ic_bas", "ic_haut", "n_quartiers"]


@dataclass
class Region:
    """Region-wide results shared by every commune's report."""

    fingerprint: str  # of the data set it was computed from
    parametres: dict  # the sections of SECTIONS_PARAMETRES it was computed with
    revenu_median_national: float | None
    did: pd.DataFrame  # one row per indicator (impact.did_all)
    etudes_evenement: dict[str, pd.DataFrame]  # indicator → event-study coefficients
    groupes: pd.DataFrame  # GROUPES_COLONNES, every quartier with funding data
    series_comparaison: pd.DataFrame  # SERIES_COLONNES, the comparison quartiers pooled
    eligibilite: pd.DataFrame  # every quartier × rule (see `eligibility`)
    annee_typologie: int
    typologie: Typology | None
    contours_quartiers: pd.DataFrame | None = None  # GeoDataFrame code_quartier, geometry
    contours_communes: pd.DataFrame | None = None  # GeoDataFrame code_commune, geometry
    # q6: the steering model of every commune (`pilotage_region`), to place one among the others
    modeles_pilotage: pd.DataFrame = field(default_factory=pd.DataFrame)
    # q7: the added value of every commune's steering structure (`structures_region`)
    structures: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_communes: int = 0
    n_quartiers: int = 0
    notes: list[str] = field(default_factory=list)
    # q3: the year of every input of the rules (`eligibility_years`) and the typology's inputs
    annees_eligibilite: dict = field(default_factory=dict)
    typologie_entrees: dict = field(default_factory=dict)
    # q3: the link table of multi-commune quartiers (code_quartier, code_commune, principale)
    quartiers_communes: pd.DataFrame | None = None

    def quartiers_de(self, code_commune: str) -> pd.DataFrame:
        """The eligibility rows of one commune's quartiers."""
        e = self.eligibilite
        return e[e["code_commune"] == code_commune].reset_index(drop=True)


def parametres_region(params) -> dict:
    """The part of a commune's parameters the region stage depends on (JSON-able)."""
    full = params.as_dict() if hasattr(params, "as_dict") else dict(params)
    return {k: full[k] for k in SECTIONS_PARAMETRES if k in full}


# --- q2: difference-in-differences --------------------------------------------------------------


def did_region(tables: dict, params) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame]:
    """Region-wide funding intensity groups, DiD per indicator and event studies."""
    needed = ("financements", "actions", "operateurs", "indicateurs")
    empty_did = pd.DataFrame(columns=[*impact.DID_COLUMNS, "n_traites", "n_obs", "pre_tendance_p"])
    if any(tables.get(n) is None or tables[n].empty for n in needed):
        return empty_did, {}, pd.DataFrame(columns=GROUPES_COLONNES)
    p = params.did
    ind = tables["indicateurs"]
    toutes = impact.funding_intensity(tables["financements"], tables["actions"], tables["operateurs"], ind)
    # A quartier of unknown CUCS category is neither treated nor comparison: out of the DiD, kept
    # in `groupes` with groupe "categorie_inconnue" so that the pages count it.
    intensity, inconnus = impact.without_unknown_category(toutes, tables.get("quartiers"))
    groupes = impact.treatment_groups(intensity, p.annee_traitement, p.seuil_intensite, p.seuil_comparaison)
    if inconnus:
        hors = impact.treatment_groups(
            toutes[toutes["code_quartier"].astype(str).isin(inconnus)],
            p.annee_traitement,
            p.seuil_intensite,
            p.seuil_comparaison,
        ).assign(groupe=impact.CATEGORIE_INCONNUE)
        groupes = pd.concat([groupes, hors], ignore_index=True)[GROUPES_COLONNES]
    seuils = (p.annee_traitement, p.seuil_intensite, p.seuil_comparaison)
    did = impact.did_all(ind, intensity, list(p.indicateurs), *seuils)
    events = {i: impact.event_study(impact.build_panel(ind, intensity, i, *seuils)) for i in p.indicateurs}
    return did, events, groupes


def comparison_series(indicateurs: pd.DataFrame, groupes: pd.DataFrame, liste: list[str]) -> pd.DataFrame:
    """The comparison quartiers of the region pooled into one series per indicator."""
    if groupes.empty:
        return pd.DataFrame(columns=SERIES_COLONNES)
    codes = groupes.loc[groupes["groupe"] == "comparaison", "code_quartier"]
    parts = [trends.pooled_series(indicateurs, codes, i, "comparaison") for i in liste]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SERIES_COLONNES)


# --- q3: eligibility under each rule, typology --------------------------------------------------


def _rows(indicateurs: pd.DataFrame, niveau: str, indicateur: str, annee: int) -> pd.DataFrame:
    rows = indicateurs[
        (indicateurs["niveau"] == niveau)
        & (indicateurs["indicateur"] == indicateur)
        & (indicateurs["annee"] == annee)
    ]
    return rows.drop_duplicates("code_territoire").set_index("code_territoire")


def _values(indicateurs: pd.DataFrame, niveau: str, indicateur: str, annee: int) -> pd.Series:
    return _rows(indicateurs, niveau, indicateur, annee)["valeur"]


def _secret(indicateurs: pd.DataFrame, niveau: str, indicateur: str, annee: int) -> pd.Series:
    """True where the value is under statistical secrecy (bool Series by code_territoire)."""
    rows = _rows(indicateurs, niveau, indicateur, annee)
    if "secret" not in rows:
        return pd.Series(False, index=rows.index)
    return rows["secret"].fillna(False).astype(bool)


def _any_secret(index: pd.Index, *flags: pd.Series) -> pd.Series:
    out = pd.Series(False, index=index)
    for f in flags:
        out |= f.reindex(index).fillna(False).astype(bool)
    return out


#: The quartier values each rule uses, as (indicator, parameter section holding its year).
VALEURS_REGLES = {
    "regle_qpv2014": ("revenu_median_uc", "population"),
    "regle_zus": ("population", "taux_chomage", "part_moins_25_ans", "part_sans_diplome"),
}


#: Codes of an input missing outside the indicators table (why a rule is n.d.).
MANQUE_MEDIANE_NATIONALE = "revenu_median_national"
MANQUE_MEDIANE_UU = "revenu_median_uu"
MANQUE_POPULATION_UU = "population_unite_urbaine"
MANQUE_VALEUR_COMMUNE = "valeur_commune"
MANQUE_PERIODES = "periodes"
MANQUE_AVANT = "periode_avant"


def _annees(ind: pd.DataFrame, demandees: dict[str, tuple[str, int | None]]) -> dict[str, dict]:
    """indicator → {niveau, demandee, utilisee}: the year each input is read at (the year asked
    when the data hold it, else the latest they hold; None when the indicator is absent)."""
    return {
        i: {
            "niveau": niveau,
            "demandee": None if a is None else int(a),
            "utilisee": geography.year_for(ind, i, niveau, a),
        }
        for i, (niveau, a) in demandees.items()
    }


def _at(ind: pd.DataFrame, niveau: str, indicateur: str, annee: int | None, f=None) -> pd.Series:
    """Values (or secrecy flags with f=_secret) of an indicator at its year; empty when absent."""
    if annee is None:
        return pd.Series(dtype=bool if f is _secret else float)
    return (f or _values)(ind, niveau, indicateur, annee)


def eligibility(tables: dict, national: float | None, params, annees: dict | None = None) -> pd.DataFrame:
    """The three rules (ZUS-style index, QPV 2014 income, "dynamique") for every quartier.

    Each rule gives `regle_<r>` (pandas "boolean": True, False, or NA when it cannot be
    computed), `raisons_<r>` (codes of `analysis.geography.RAISONS` of a False, joined by
    ";"), `motif_<r>` (an `analysis.motifs` code of an NA) and `manque_<r>` (the inputs
    missing for an NA: indicator codes or the MANQUE_* codes, joined by ";").
    `signataire` says whether the quartier's commune signed a CUCS (NA when unknown);
    `dans_cucs` whether the quartier has a CUCS category (NA when the category is "inconnu").
    Each input is read at the year of its parameter when the data hold it, else at the latest
    year they hold (`eligibility_years` says which, `annees` when already computed); the
    "dynamique" rule needs its periods.
    """
    quartiers = tables["quartiers"]
    communes = tables["communes"].set_index("code_commune")
    ind = tables["indicateurs"]
    ans = annees if annees is not None else eligibility_years(ind, params)
    base = quartiers[["code_quartier", "nom", "code_commune", "categorie_cucs", "veille", "qpv_2015"]].copy()
    base = base.set_index("code_quartier")
    if "signataire_cucs" in communes:
        base["signataire"] = base["code_commune"].map(communes["signataire_cucs"]).astype("boolean")
    else:
        base["signataire"] = pd.array([True] * len(base), dtype="boolean")
    a = ans["revenu_median_uc"]["utilisee"]
    ap = ans["population"]["utilisee"]
    base["annee_revenus"] = a
    base["annee_population"] = ap
    base["revenu_median_uc"] = _at(ind, "quartier", "revenu_median_uc", a)
    base["population"] = _at(ind, "quartier", "population", ap)
    base["revenu_median_uu"] = base["code_commune"].map(communes["revenu_median_uu"])
    base["population_unite_urbaine"] = base["code_commune"].map(communes["population_unite_urbaine"])
    s_rev = _at(ind, "quartier", "revenu_median_uc", a, _secret)
    secret_q = _any_secret(base.index, s_rev, _at(ind, "quartier", "population", ap, _secret))
    base["secret_revenu_median_uc"] = s_rev.reindex(base.index).fillna(False).astype(bool)
    verdict = geography.qpv2014_verdict(
        base,
        national,
        params.qpv2014.population_min_quartier,
        params.qpv2014.population_min_uu,
        secret_q,
    )
    base = base.join(verdict)
    num = lambda c: pd.to_numeric(base[c], errors="coerce").astype(float)  # noqa: E731
    nat = pd.Series(1.0 if geography.plausible_median(national) else float("nan"), index=base.index)
    base["manque_qpv2014"] = geography.missing_inputs(
        {
            MANQUE_MEDIANE_NATIONALE: nat,
            "revenu_median_uc": base["revenu_median_uc"],
            "population": base["population"],
            MANQUE_MEDIANE_UU: num("revenu_median_uu").where(lambda v: v > 0),
            MANQUE_POPULATION_UU: num("population_unite_urbaine").where(lambda v: v > 0),
        },
        base.index,
    ).where(base["regle_qpv2014"].isna(), "")

    inputs = ("population", "taux_chomage", "part_moins_25_ans", "part_sans_diplome")
    features = pd.DataFrame(
        {i: _at(ind, "quartier", i, ans[f"zus:{i}"]["utilisee"]) for i in inputs}, index=base.index
    )
    features["potentiel_fiscal_hab"] = base["code_commune"].map(
        _at(ind, "commune", "potentiel_fiscal_hab", ans["zus:potentiel_fiscal_hab"]["utilisee"])
    )
    secret_z = _any_secret(
        base.index, *(_at(ind, "quartier", i, ans[f"zus:{i}"]["utilisee"], _secret) for i in inputs)
    )
    base["annee_zus"] = params.zus.annee
    base["indice_zus"] = geography.zus_index(features.astype(float))
    base = base.join(geography.zus_verdict(base["indice_zus"], params.zus.seuil_quantile, secret_z))
    base["manque_zus"] = geography.missing_inputs(dict(features.items()), base.index).where(
        base["regle_zus"].isna(), ""
    )

    d = params.dynamique
    dyn = geography.dynamique_rule(
        ind,
        quartiers,
        d.indicateur,
        d.annee_debut,
        d.annee_fin,
        d.seuil_points,
        annee_debut_cucs=params.annee_debut_cucs,
    )
    base = base.join(dyn[["ecart_debut", "ecart_fin", "variation"]])
    secret_d = _any_secret(
        base.index,
        *(_secret(ind, "quartier", d.indicateur, y) for y in range(d.annee_debut, d.annee_fin + 1)),
    )
    base = base.join(geography.dynamique_verdict(base["variation"], d.seuil_points, secret_d))
    base["manque_dynamique"] = _manque_dynamique(ind, base, params).where(base["regle_dynamique"].isna(), "")
    # A rule that cannot be computed for want of a period or of the commune's values is n.d.
    # for that reason, whatever a secret cell of the quartier says.
    structurel = (
        base["manque_dynamique"]
        .str.split(geography.SEP_RAISONS)
        .map(lambda c: bool(set(c) & {MANQUE_AVANT, MANQUE_VALEUR_COMMUNE, params.dynamique.indicateur}))
    )
    base.loc[structurel & base["regle_dynamique"].isna(), "motif_dynamique"] = motifs.DONNEE_ABSENTE
    base["dans_cucs"] = geography.in_cucs(base["categorie_cucs"])
    return base.reset_index()


def eligibility_years(ind: pd.DataFrame, params) -> dict[str, dict]:
    """The year of every input of the eligibility rules (see `_annees`): the income rule reads
    the income of `qpv2014.annee_revenus` (or the latest held) and the population of that same
    year (or the latest held); the ZUS-style index reads each of its inputs at `zus.annee` or at
    its own latest year (keys "zus:<indicator>")."""
    a = params.qpv2014.annee_revenus
    revenus = _annees(ind, {"revenu_median_uc": ("quartier", a)})
    utilisee = revenus["revenu_median_uc"]["utilisee"]
    out = revenus | _annees(ind, {"population": ("quartier", utilisee if utilisee is not None else a)})
    out["population"]["demandee"] = a
    z = params.zus.annee
    zus = {
        f"zus:{i}": ("quartier", z)
        for i in ("population", "taux_chomage", "part_moins_25_ans", "part_sans_diplome")
    }
    for k, v in _annees(ind, {k.removeprefix("zus:"): v for k, v in zus.items()}).items():
        out[f"zus:{k}"] = v
    out["zus:potentiel_fiscal_hab"] = _annees(ind, {"potentiel_fiscal_hab": ("commune", z)})[
        "potentiel_fiscal_hab"
    ]
    return out


def _manque_dynamique(ind: pd.DataFrame, base: pd.DataFrame, params) -> pd.Series:
    """Why the "dynamique" rule is n.d. for each quartier: the indicator has no quartier value
    before or during the contract (MANQUE_PERIODES, or the indicator code when absent), or
    the commune has none (MANQUE_VALEUR_COMMUNE). It needs those exact periods: no other year
    stands in for them."""
    d = params.dynamique
    x = ind[(ind["indicateur"] == d.indicateur) & ind["annee"].between(d.annee_debut, d.annee_fin)]
    x = x[x["valeur"].notna()]
    avant = x["annee"] < params.annee_debut_cucs
    q = x[x["niveau"] == "quartier"]
    c = x[x["niveau"] == "commune"]
    present = set(ind.loc[ind["indicateur"] == d.indicateur, "code_territoire"])
    if d.annee_debut > params.annee_debut_cucs - 1:  # no year before the contract: no "before"
        return pd.Series(
            [
                geography.SEP_RAISONS.join([MANQUE_AVANT] + ([d.indicateur] if code not in present else []))
                for code in base.index
            ],
            index=base.index,
            dtype=object,
        )
    q_ok = set(q.loc[avant[q.index], "code_territoire"]) & set(q.loc[~avant[q.index], "code_territoire"])
    c_ok = set(c.loc[avant[c.index], "code_territoire"]) & set(c.loc[~avant[c.index], "code_territoire"])
    out = []
    for code, commune in zip(base.index, base["code_commune"], strict=True):
        codes = []
        if code not in present:
            codes.append(d.indicateur)
        elif code not in q_ok:
            codes.append(MANQUE_PERIODES)
        if commune not in c_ok:
            codes.append(MANQUE_VALEUR_COMMUNE)
        out.append(geography.SEP_RAISONS.join(codes))
    return pd.Series(out, index=base.index, dtype=object)


def latest_quartier_year(indicateurs: pd.DataFrame, default: int) -> int:
    """The last year with a quartier value (kept for older callers; each section now reads
    each indicator at its own year, `analysis.geography.year_for`)."""
    q = indicateurs[(indicateurs["niveau"] == "quartier") & indicateurs["valeur"].notna()]
    return int(q["annee"].max()) if not q.empty else default


#: Below this share of the quartiers holding a value, an indicator is left out of the typology
#: (Ward needs complete rows: a sparse indicator would drop most quartiers).
COUVERTURE_MIN_TYPOLOGIE = 0.5


def typology_inputs(tables: dict, params) -> dict:
    """The indicators of the typology: each read at its latest quartier year; those absent, or
    held for fewer than COUVERTURE_MIN_TYPOLOGIE of the quartiers, are left out with the reason
    ("absent" or "couverture"). Returns {retenus: {indicator: year}, ecartes: {indicator:
    {motif, n, total}}, n_quartiers}."""
    ind = tables["indicateurs"]
    total = int(tables["quartiers"]["code_quartier"].nunique())
    retenus, ecartes = {}, {}
    for i in params.typologie.indicateurs:
        y = geography.year_for(ind, i, "quartier")
        if y is None:
            ecartes[i] = {"motif": "absent", "n": 0, "total": total}
            continue
        n = int(_values(ind, "quartier", i, y).notna().sum())
        if total and n < COUVERTURE_MIN_TYPOLOGIE * total:
            ecartes[i] = {"motif": "couverture", "n": n, "total": total, "annee": y}
            continue
        retenus[i] = y
    return {"retenus": retenus, "ecartes": ecartes, "n_quartiers": total}


def typology(tables: dict, params, annee: int | None = None, entrees: dict | None = None) -> Typology | None:
    """Typology of every quartier of the data set, so classes mean the same in every commune:
    on the indicators `typology_inputs` keeps, each at its own year; None with fewer than two
    indicators or two complete quartiers."""
    ind, cat = tables["indicateurs"], tables["catalogue_indicateurs"]
    entrees = entrees or typology_inputs(tables, params)
    retenus = entrees["retenus"]
    if len(retenus) < 2:
        return None
    feats = pd.DataFrame({i: _values(ind, "quartier", i, y) for i, y in retenus.items()})
    if len(feats.dropna()) < 2:
        return None
    libelles = dict(zip(cat["indicateur"], cat["libelle"], strict=False))
    return build_typology(feats, params.typologie.nombre_classes, libelles)


# --- q6: steering model of every commune ------------------------------------------------------


def pilotage_region(tables: dict, params) -> pd.DataFrame:
    """The steering model of every commune of the data set (both axes, with their shares):
    `analysis.operators.steering_model` with the `pilotage` parameters."""
    if tables.get("communes") is None or tables["communes"].empty:
        return pd.DataFrame(columns=operators.MODELE_COLUMNS)
    p = params.pilotage
    return operators.steering_model(
        tables.get("instances"),
        tables.get("actions"),
        tables["communes"],
        annee_debut_cucs=int(params.annee_debut_cucs),
        decalage_annees=int(p.decalage_annees),
        seuil_participatif=float(p.seuil_participatif),
        seuil_adaptable=float(p.seuil_adaptable),
    )


# --- q7: added value of each steering structure ------------------------------------------------


def structures_region(tables: dict, params) -> pd.DataFrame:
    """Leverage, delays, renewal of every commune of the data set, with its steering structure
    (`analysis.structures.commune_indicators`, columns `INDICATEURS_COLUMNS`)."""
    communes = tables.get("communes")
    if communes is None or communes.empty:
        return pd.DataFrame(columns=structures.INDICATEURS_COLUMNS)
    return structures.commune_indicators(
        communes,
        tables.get("actions"),
        tables.get("financements"),
        annee_debut_cucs=int(params.annee_debut_cucs),
        debut=int(params.periode.debut),
        fin=int(params.periode.fin),
    )


def _contours(dataset, layer: str, code: str) -> pd.DataFrame | None:
    geo = dataset.geometries.get(layer)
    if geo is None or code not in geo.columns:
        return None
    return geo[[code, geo.geometry.name]].copy()


def _contours_communes(dataset, t: dict) -> pd.DataFrame | None:
    """The communes' outlines with their name and département (the regional map draws the
    départements' outlines and names a few cities)."""
    geo = _contours(dataset, "communes", "code_commune")
    com = t.get("communes")
    if geo is None or com is None:
        return geo
    cols = [c for c in ("code_commune", "nom", "code_departement") if c in com.columns]
    return geo.merge(com[cols].drop_duplicates("code_commune"), on="code_commune", how="left")


def _quartiers_communes(t: dict) -> pd.DataFrame | None:
    """The link table of multi-commune quartiers with each commune's name (`nom_commune`)."""
    qc = t.get("quartiers_communes")
    if qc is None or qc.empty:
        return None
    noms = t["communes"][["code_commune", "nom"]].rename(columns={"nom": "nom_commune"})
    return qc.merge(noms, on="code_commune", how="left")


def build(dataset, params) -> Region:
    """Compute the region stage of `dataset` with the region-wide part of `params`."""
    t = dataset.tables
    national = params.qpv2014.revenu_median_national or dataset.metadata.revenu_median_national
    did, events, groupes = did_region(t, params)
    indicateurs = list(params.did.indicateurs)
    annee = latest_quartier_year(t["indicateurs"], params.periode.fin)
    entrees = typology_inputs(t, params)
    annees = eligibility_years(t["indicateurs"], params)
    return Region(
        fingerprint=dataset.fingerprint,
        parametres=parametres_region(params),
        revenu_median_national=None if national is None else float(national),
        did=did,
        etudes_evenement=events,
        groupes=groupes,
        series_comparaison=comparison_series(t["indicateurs"], groupes, indicateurs),
        eligibilite=eligibility(t, national, params, annees),
        annee_typologie=annee,
        typologie=typology(t, params, annee, entrees),
        annees_eligibilite=annees,
        typologie_entrees=entrees,
        quartiers_communes=_quartiers_communes(t),
        contours_quartiers=_contours(dataset, "quartiers", "code_quartier"),
        contours_communes=_contours_communes(dataset, t),
        modeles_pilotage=pilotage_region(t, params),
        structures=structures_region(t, params),
        n_communes=int(t["communes"]["code_commune"].nunique()),
        n_quartiers=int(t["quartiers"]["code_quartier"].nunique()),
    )
