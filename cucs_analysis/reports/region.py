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

from cucs_analysis.analysis import geography, impact, operators, structures, trends
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


def eligibility(tables: dict, national: float | None, params) -> pd.DataFrame:
    """The three rules (ZUS-style index, QPV 2014 income, "dynamique") for every quartier.

    Each rule gives `regle_<r>` (pandas "boolean": True, False, or NA when it cannot be
    computed), `raisons_<r>` (codes of `analysis.geography.RAISONS` of a False, joined by
    ";") and `motif_<r>` (an `analysis.motifs` code of an NA). `signataire` says whether the
    quartier's commune signed a CUCS; `dans_cucs` whether the quartier has a CUCS category.
    """
    quartiers = tables["quartiers"]
    communes = tables["communes"].set_index("code_commune")
    ind = tables["indicateurs"]
    a = params.qpv2014.annee_revenus
    base = quartiers[["code_quartier", "nom", "code_commune", "categorie_cucs", "veille", "qpv_2015"]].copy()
    base = base.set_index("code_quartier")
    if "signataire_cucs" in communes:
        base["signataire"] = base["code_commune"].map(communes["signataire_cucs"]).fillna(False).astype(bool)
    else:
        base["signataire"] = True
    base["annee_revenus"] = a
    base["revenu_median_uc"] = _values(ind, "quartier", "revenu_median_uc", a)
    base["population"] = _values(ind, "quartier", "population", a)
    base["revenu_median_uu"] = base["code_commune"].map(communes["revenu_median_uu"])
    base["population_unite_urbaine"] = base["code_commune"].map(communes["population_unite_urbaine"])
    secret_q = _any_secret(
        base.index,
        _secret(ind, "quartier", "revenu_median_uc", a),
        _secret(ind, "quartier", "population", a),
    )
    base["secret_revenu_median_uc"] = _secret(ind, "quartier", "revenu_median_uc", a).reindex(base.index)
    base["secret_revenu_median_uc"] = base["secret_revenu_median_uc"].fillna(False).astype(bool)
    verdict = geography.qpv2014_verdict(
        base,
        national,
        params.qpv2014.population_min_quartier,
        params.qpv2014.population_min_uu,
        secret_q,
    )
    base = base.join(verdict)

    z = params.zus.annee
    inputs = ("population", "taux_chomage", "part_moins_25_ans", "part_sans_diplome")
    features = pd.DataFrame({i: _values(ind, "quartier", i, z) for i in inputs}).reindex(base.index)
    features["potentiel_fiscal_hab"] = base["code_commune"].map(
        _values(ind, "commune", "potentiel_fiscal_hab", z)
    )
    secret_z = _any_secret(base.index, *(_secret(ind, "quartier", i, z) for i in inputs))
    base["annee_zus"] = z
    base["indice_zus"] = geography.zus_index(features)
    base = base.join(geography.zus_verdict(base["indice_zus"], params.zus.seuil_quantile, secret_z))

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
        *(_secret(ind, "quartier", d.indicateur, a) for a in range(d.annee_debut, d.annee_fin + 1)),
    )
    base = base.join(geography.dynamique_verdict(base["variation"], d.seuil_points, secret_d))
    base["dans_cucs"] = base["categorie_cucs"].notna()
    return base.reset_index()


def latest_quartier_year(indicateurs: pd.DataFrame, default: int) -> int:
    """The last year with a quartier value: the year of the typology."""
    q = indicateurs[(indicateurs["niveau"] == "quartier") & indicateurs["valeur"].notna()]
    return int(q["annee"].max()) if not q.empty else default


def typology(tables: dict, params, annee: int) -> Typology | None:
    """Typology of every quartier of the data set, so classes mean the same in every commune."""
    ind, cat = tables["indicateurs"], tables["catalogue_indicateurs"]
    feats = pd.DataFrame({i: _values(ind, "quartier", i, annee) for i in params.typologie.indicateurs})
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


def build(dataset, params) -> Region:
    """Compute the region stage of `dataset` with the region-wide part of `params`."""
    t = dataset.tables
    national = params.qpv2014.revenu_median_national or dataset.metadata.revenu_median_national
    did, events, groupes = did_region(t, params)
    indicateurs = list(params.did.indicateurs)
    annee = latest_quartier_year(t["indicateurs"], params.periode.fin)
    return Region(
        fingerprint=dataset.fingerprint,
        parametres=parametres_region(params),
        revenu_median_national=None if national is None else float(national),
        did=did,
        etudes_evenement=events,
        groupes=groupes,
        series_comparaison=comparison_series(t["indicateurs"], groupes, indicateurs),
        eligibilite=eligibility(t, national, params),
        annee_typologie=annee,
        typologie=typology(t, params, annee),
        contours_quartiers=_contours(dataset, "quartiers", "code_quartier"),
        contours_communes=_contours(dataset, "communes", "code_commune"),
        modeles_pilotage=pilotage_region(t, params),
        structures=structures_region(t, params),
        n_communes=int(t["communes"]["code_commune"].nunique()),
        n_quartiers=int(t["quartiers"]["code_quartier"].nunique()),
    )
