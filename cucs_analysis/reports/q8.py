"""q8 — « Comment la culture de « la proximité » de la politique de la ville peut elle réinterroger
l'action conduite sur les quartiers ? »: everything the notebook shows, computed from one
commune's Territory.

The notebook calls `build(territoire, params)`, then shows each table as
`d.tableau(q8.vue_<name>(r), legende=…)` and each figure as `d.figure(q8.figure_<name>(r), …)`;
the French findings are generated here so that they are tested. Rules: docs/rules.md (q8).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from cucs_analysis.analysis import motifs, privacy, proximity, trends
from cucs_analysis.present import display, labels, text
from cucs_analysis.present.labels import libelle_domaine, majuscule
from cucs_analysis.reports import rapport
from cucs_analysis.reports.rapport import Rapport, chiffre_cle

#: Below this base (action-years) in either period a share is a « petite base » (docs/rules.md).
BASE_MIN = 30
#: Significance level of the GUP trend (docs/rules.md, the demo's planted truth).
ALPHA = 0.05
#: The notebook's section headings (exact text of its « ## » lines): the verdict links to one.
#: Why nothing of the CUCS is read for a commune whose signatory status is unknown.
RAISON_SIGNATAIRE_INCONNU = rapport.SIGNATAIRE_INCONNU


#: The shared reading of `communes.signataire_cucs` (True, False, None when unknown).
statut_signataire = rapport.statut_signataire


SECTIONS = {
    "en_bref": "En bref",
    "actions": "1. Les actions qui produisent du lien de proximité",
    "gup": "2. La gestion urbaine de proximité : signalements, tendances et délais",
    "equipements": "3. Services publics et équipements par habitant, quartiers et commune",
    "securite": "4. Délinquance et occupation de l'espace public",
    "fiches": "5. Fiches des quartiers d'expérimentation",
}
TENDANCE_LIBELLES = {
    proximity.HAUSSE: "hausse",
    proximity.BAISSE: "baisse",
    proximity.SANS_TENDANCE: "pas de tendance nette",
}
GAMME_LIBELLES = {"proximité": "Proximité", "intermédiaire": "Intermédiaire", "supérieure": "Supérieure"}
#: Two codes of the programme for one dispositif (ville-vie-vacances): one line, one label.
DISPOSITIFS_ALIAS = {"OVV": "VVV", "OVVV": "VVV"}
DISPOSITIF_LIBELLES = {"VVV": "VVV (ville-vie-vacances)"}
MESURE_LIBELLES = {
    "part_actions": "Part des actions-années",
    "part_credits": "Part des crédits accordés",
    "montant_par_an": "Crédits accordés aux actions de proximité par an",
}
NIVEAU_LIBELLES = {"commune": "Commune", "quartier": "Quartier", "ensemble": "Quartiers pris ensemble"}
#: The French titles of the downloadable tables (list-valued keys of the results).
LIBELLES_TABLES = {
    "gup": "Signalements GUP par quartier et catégorie",
    "tendances_gup": "Tendances nettes des signalements GUP",
    "equipements": "Équipements pour 1 000 habitants par territoire",
    "equipements_incoherences": "Équipements : quartiers au-dessus de leur commune (sources incohérentes)",
    "actions_proximite_periodes": "Actions de proximité avant et pendant le CUCS",
    "indicateurs_securite": "Indicateurs de sécurité",
    "quartiers_experimentaux": "Quartiers d'expérimentation",
}
#: The counts behind a rate of the catalogue (numerator, denominator), for the bases shown.
BASES_INDICATEURS = {
    "delits_pour_1000": ("faits constatés", "habitants"),
    "taux_chomage": ("chômeurs", "actifs"),
    "taux_chomage_jeunes": ("chômeurs", "actifs"),
}
#: The code of the quartiers taken together in the facilities tables.
ENSEMBLE = "ensemble_quartiers"


@dataclass
class RapportQ8(Rapport):
    code_commune: str
    nom_commune: str
    signataire: bool | None  # None: the signatory status is unknown (never « hors CUCS »)
    a_programme: bool  # the commune has actions in the data
    a_gup: bool  # GUP reports in the data for the commune's quartiers
    periode: tuple[int, int]
    annee_debut_cucs: int
    seuil_secret: int
    seuil_variation: float
    noms_quartiers: dict[str, str]
    actions_proximite: pd.DataFrame  # proximity.proximity_actions
    proximite_annee: pd.DataFrame  # proximity.proximity_by_year
    proximite_periodes: (
        pd.DataFrame
    )  # trends.compare_periods rows: part_actions, montant_par_an, part_credits
    publics: pd.DataFrame  # proximity.proximity_by_group(public_cible)
    dispositifs: pd.DataFrame  # proximity.proximity_by_group(thematique, dispositif)
    gup: pd.DataFrame  # quartier × category: counts, rates, trend, delay (after secrecy, *_secret flags)
    gup_annuel: pd.DataFrame  # yearly counts with population (figure)
    gup_statuts: pd.DataFrame  # per category: reports, resolved, open, closed without follow-up (secrecy)
    gup_delais: pd.DataFrame  # per category: median delay before / during (secrecy)
    gup_ensemble: pd.DataFrame  # all quartiers: compare_periods of the rate per 1,000 inhabitants
    annees_population: tuple[int, int] | None  # years the quartier populations come from
    equipements: pd.DataFrame  # per territory (commune, quartiers, ensemble): all facilities
    equipements_gamme: pd.DataFrame  # per territory × gamme
    equipements_type: pd.DataFrame  # commune vs ensemble of quartiers, per type
    annee_equipements: int | None
    indicateurs_securite: list[str]
    securite: pd.DataFrame  # compare_periods_auto of the safety indicators, per territory
    libelles_indicateurs: dict[str, str]
    unites_indicateurs: dict[str, str]
    quartiers_experimentaux: list[str]
    profils: dict[str, pd.DataFrame]  # per experimental quartier: indicator profile vs commune
    population: float | None = None
    populations_cachees: set = field(default_factory=set)  # territories whose population is secret
    gup_totaux: dict = field(default_factory=dict)  # all quartiers: reports, resolved, open… (published)
    base_min: int = BASE_MIN
    fiches_textes: dict[str, list[str]] = field(default_factory=dict)
    #: (year, facility type) where the quartiers count more facilities than their commune
    equipements_incoherents: pd.DataFrame = field(
        default_factory=lambda: _vide("annee", "type_equipement", "nombre_commune", "nombre_quartiers")
    )
    libelles_equipements: dict[str, str] = field(default_factory=dict)

    # absence(quoi, table): table `programme` (default), `gup` or `donnees` (rapport.Rapport)
    #: Indicators and facilities are shown for every commune (as comparison): no reason.
    motif_donnees: ClassVar[None] = None

    @property
    def motif_gup(self) -> str | None:
        return self.motif_table(self.a_gup)

    @property
    def decrit(self) -> bool:
        """The commune's proximity actions and GUP are described: a signatory, or a commune whose
        signatory status is unknown but whose rows are in the data (with one caveat)."""
        return bool(self.signataire) or (self.signataire is None and (self.a_programme or self.a_gup))

    @property
    def inconnu_sans_donnees(self) -> bool:
        """Unknown signatory status and no programme nor GUP rows: « données non disponibles »."""
        return self.signataire is None and not self.decrit

    @property
    def proximite_non_renseignees(self) -> int:
        """Action-years whose proximity flag is unknown: counted apart, never as « not proximity »."""
        p = self.proximite_annee
        if p.empty or "actions_annees_non_renseignees" not in p:
            return 0
        return int(p["actions_annees_non_renseignees"].sum())

    @property
    def avant(self) -> str:
        """« avant le CUCS (2005-2006) », or only the years for a non-signatory commune."""
        if self.signataire:
            return super().avant
        if self.sans_avant:
            return f"avant {self.annee_debut_cucs} ({rapport.AUCUNE_ANNEE_AVANT})"
        return f"en {text.annee_periode(self.periode[0], self.annee_debut_cucs - 1)}"

    @property
    def pendant(self) -> str:
        """« pendant le CUCS (2007-2014) », or the years and what they are for a non-signatory."""
        if self.signataire:
            return super().pendant
        return (
            f"en {text.annee_periode(self.annee_debut_cucs, self.periode[1])} (périodes du CUCS des communes "
            "signataires)"
        )

    @property
    def pendant_court(self) -> str:
        """« pendant le CUCS », or « en 2007-2014 » for a non-signatory commune."""
        if self.signataire:
            return "pendant le CUCS"
        return f"en {text.annee_periode(self.annee_debut_cucs, self.periode[1])}"

    def entete_periode(self, quand: str) -> str:
        """A table header for one period: « Avant le CUCS » / « Pendant le CUCS », or the years."""
        debut, fin = (
            (self.periode[0], self.annee_debut_cucs - 1)
            if quand == "avant"
            else (self.annee_debut_cucs, self.periode[1])
        )
        annees = (
            rapport.periode_avant(self.periode, self.annee_debut_cucs)
            if quand == "avant"
            else text.annee_periode(debut, fin)
        )
        if self.signataire:
            return f"{'Avant' if quand == 'avant' else 'Pendant'} le CUCS ({annees})"
        return annees

    @property
    def quartiers_nom(self) -> str:
        """What the commune's quartiers are: « quartiers du CUCS » or « quartiers de veille »."""
        if self.signataire is None:
            return "quartiers de la commune"
        return "quartiers du CUCS" if self.signataire else "quartiers de veille"

    def incoherents_annee(self) -> pd.DataFrame:
        """The inconsistent facility types of the facilities' year."""
        i = self.equipements_incoherents
        return i[i["annee"] == self.annee_equipements] if not i.empty else i

    @property
    def tendances_nettes(self) -> pd.DataFrame:
        g = self.gup
        if g.empty:
            return g
        return g[g["tendance"].isin([proximity.HAUSSE, proximity.BAISSE])]

    def resultats(self) -> dict:
        """The q8 keys of the results contract (DESIGN.md §6), with `verdict`."""
        gup_rows = []
        for row in self.gup.to_dict(orient="records"):
            hidden = bool(row["secret"])
            gup_rows.append(
                {
                    "code_quartier": row["code_quartier"],
                    "categorie": row["categorie"],
                    "signalements": None if hidden else rapport.nombre_json(row["signalements"]),
                    "signalements_pour_1000_hab": None
                    if hidden
                    else rapport.nombre_json(row["pour_1000_hab"], 2),
                    "delai_median_jours": None
                    if row["delai_secret"]
                    else rapport.nombre_json(row["delai_median_jours"]),
                    "tendance": row["tendance"],
                    "variation_annuelle": rapport.nombre_json(row["variation_annuelle"], 4),
                    "ic_bas": rapport.nombre_json(row["ic_bas"], 4),
                    "ic_haut": rapport.nombre_json(row["ic_haut"], 4),
                    "p_value": rapport.nombre_json(row["p_value"], 6),
                    "motif": motifs.SECRET
                    if hidden or row["delai_secret"]
                    else (None if row["tendance"] is not None else motifs.NON_CALCULABLE),
                }
            )
        eq_rows = []
        for row in self.equipements.to_dict(orient="records"):
            v = rapport.nombre_json(row["pour_1000_hab"], 3)
            eq_rows.append(
                {
                    "code_territoire": row["code_territoire"],
                    "niveau": row["niveau"],
                    "nombre": rapport.nombre_json(row["nombre"]),
                    "population": rapport.nombre_json(row["population"]),
                    "annee": self.annee_equipements,
                    "pour_1000_hab": v,
                    "motif": None
                    if v is not None
                    else (
                        motifs.SECRET
                        if row["code_territoire"] in self.populations_cachees
                        else motifs.NON_CALCULABLE
                    ),
                }
            )
        pp = self.proximite_periodes
        return {
            "gup": gup_rows,
            "gup_motif": self.motif_gup,
            "equipements": eq_rows,
            "equipements_motif": None if eq_rows else motifs.DONNEE_ABSENTE,
            "annee_equipements": self.annee_equipements,
            "actions_proximite": {
                "actions": len(self.actions_proximite) if self.motif_programme is None else None,
                "montant_accorde": float(self.actions_proximite["montant_accorde"].sum())
                if self.motif_programme is None
                else None,
                "motif": self.motif_programme,
                "periodes": [
                    {
                        "mesure": str(row["mesure"]),
                        "valeur_avant": rapport.nombre_json(row["valeur_avant"], 4),
                        "valeur_pendant": rapport.nombre_json(row["valeur_pendant"], 4),
                        "avant_testable": bool(row["avant_testable"]),
                        "petite_base": bool(row["petite_base"]),
                    }
                    for row in pp.to_dict(orient="records")
                ],
            },
            "tendances_gup": [
                {"code_quartier": q, "categorie": c, "tendance": t}
                for q, c, t in zip(
                    self.tendances_nettes.get("code_quartier", []),
                    self.tendances_nettes.get("categorie", []),
                    self.tendances_nettes.get("tendance", []),
                    strict=True,
                )
            ],
            "indicateurs_securite": list(self.indicateurs_securite),
            "quartiers_experimentaux": list(self.quartiers_experimentaux),
            "equipements_incoherences": [
                {
                    "annee": int(row["annee"]),
                    "type_equipement": str(row["type_equipement"]),
                    "libelle": self.libelles_equipements.get(
                        str(row["type_equipement"]), str(row["type_equipement"])
                    ),
                    "nombre_commune": rapport.nombre_json(row["nombre_commune"]),
                    "nombre_quartiers": rapport.nombre_json(row["nombre_quartiers"]),
                }
                for row in self.equipements_incoherents.to_dict(orient="records")
            ],
            "verdict": self.verdict,
            "libelles_tables": dict(LIBELLES_TABLES),
            "libelles_codes": {
                "tendance": dict(TENDANCE_LIBELLES),
                "mesure": dict(MESURE_LIBELLES),
                "niveau": dict(NIVEAU_LIBELLES),
                "code_territoire": {ENSEMBLE: f"Ensemble des {self.quartiers_nom}"},
                "indicateurs_securite": {
                    i: self.libelles_indicateurs.get(i, i) for i in self.indicateurs_securite
                },
                "quartiers_experimentaux": {q: _nom_q(self, q) for q in self.quartiers_experimentaux},
            },
        }


def _vide(*cols: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(cols))


# --- computations ----------------------------------------------------------------------------------


def _proximite_periodes(annuel: pd.DataFrame, kw: dict) -> pd.DataFrame:
    cols = ["mesure", *trends.PERIODE_COLUMNS]
    if annuel.empty:
        return _vide(*cols)
    a = trends.compare_periods(
        annuel, numerateur="actions_annees_proximite", denominateur="actions_annees", base_min=BASE_MIN, **kw
    ).assign(mesure="part_actions")
    m = trends.compare_periods(annuel, valeur="montant_proximite", **kw).assign(mesure="montant_par_an")
    c = trends.compare_periods(
        annuel, numerateur="montant_proximite", denominateur="montant_total", base_min=0, **kw
    ).assign(mesure="part_credits")
    return pd.concat([a, m, c], ignore_index=True)[cols]


def _gup_table(
    counts: pd.DataFrame,
    pops: pd.DataFrame,
    gup: pd.DataFrame,
    seuil: int,
    seuil_variation: float,
    kw: dict,
    pop_cachees: set[str] = frozenset(),
) -> pd.DataFrame:
    """Quartier × category: reports, rate per 1,000 inhabitants (whole period, before, during),
    Poisson trend, median delay; counts under secrecy (a cell is hidden when its total, its
    'before' or its 'during' count is small, then secondary secrecy over quartier × category)."""
    by = ["code_quartier", "categorie"]
    rates = proximity.gup_rates(counts, pops, by)
    tr = proximity.gup_trends(counts, seuil_variation, ALPHA, by)
    d = proximity.with_population(counts, pops)
    per = trends.compare_periods(
        d[d["population"].notna()],
        numerateur="signalements",
        denominateur="population",
        echelle=1000,
        by=by,
        base_min=0,
        **kw,
    )
    per = per.rename(
        columns={
            "numerateur_avant": "signalements_avant",
            "numerateur_pendant": "signalements_pendant",
            "valeur_avant": "pour_1000_avant",
            "valeur_pendant": "pour_1000_pendant",
        }
    )[
        by
        + [
            "signalements_avant",
            "signalements_pendant",
            "pour_1000_avant",
            "pour_1000_pendant",
            "avant_testable",
        ]
    ]
    de = proximity.resolution_delays(gup, by, kw["debut"], kw["fin"])
    out = tr.merge(rates.drop(columns=["signalements", "annees"]), on=by, how="left")
    out = out.merge(per, on=by, how="left").merge(de.drop(columns=["signalements"]), on=by, how="left")
    out = out.fillna({"resolus": 0, "en_cours": 0, "sans_suite": 0})
    # Secrecy: primary on the period count of the cell, then secondary on the pivot; a small
    # « avant » or « pendant » count hides both period cells only (the period count gives one
    # back from the other), the period count and rate stay published.
    counts_cols = ["signalements", "signalements_avant", "signalements_pendant"]
    small = privacy.primary_mask(
        pd.to_numeric(out["signalements"], errors="coerce").fillna(0).to_numpy(), seuil
    )
    split = np.zeros(len(out), dtype=bool)
    for c in counts_cols[1:]:
        split |= privacy.primary_mask(pd.to_numeric(out[c], errors="coerce").fillna(0).to_numpy(), seuil)
    proxy = out["signalements"].astype(float).where(~small, 1.0)
    piv = pd.DataFrame({"q": out["code_quartier"], "c": out["categorie"], "v": proxy}).pivot(
        index="q", columns="c", values="v"
    )
    st = privacy.apply_secrecy(piv, list(piv.columns), seuil, margins="both")
    mask = st.mask.stack()
    mask.index.names = ["code_quartier", "categorie"]
    out = out.merge(mask.rename("secret").reset_index(), on=by, how="left")
    out["secret"] = out["secret"].fillna(False).astype(bool)
    hidden = out["secret"]
    for c in [*counts_cols, "pour_1000_hab", "pour_1000_avant", "pour_1000_pendant", "population_annees"]:
        out[c] = out[c].astype(float).where(~hidden)
    # The interval of a Poisson slope gives its count back (n ≈ 1 / (se² · var(years))): a
    # hidden cell publishes no trend statistic.
    for c in ("variation_annuelle", "variation_periode", "ic_bas", "ic_haut", "p_value"):
        if c in out.columns:
            out[c] = out[c].astype(float).where(~hidden)
    out["periodes_secret"] = split & ~hidden.to_numpy()
    for c in ("signalements_avant", "signalements_pendant", "pour_1000_avant", "pour_1000_pendant"):
        out[c] = out[c].where(~out["periodes_secret"])
    # A rate on a quartier population that is not published would give that population back.
    base_cachee = out["code_quartier"].isin(pop_cachees)
    out["base_cachee"] = base_cachee
    for c in ("pour_1000_hab", "pour_1000_avant", "pour_1000_pendant"):
        out[c] = out[c].where(~base_cachee)
    # A median is not stated on fewer resolved reports than the threshold, nor on a hidden cell.
    out["delai_secret"] = hidden | (out["resolus"] < seuil)
    out["delai_median_jours"] = out["delai_median_jours"].where(~out["delai_secret"])
    out["tendance"] = out["tendance"].astype(object).where(out["tendance"].notna(), None)
    return out


def _gup_statuts(gup: pd.DataFrame, seuil: int, kw: dict) -> pd.DataFrame:
    st = proximity.resolution_delays(gup, ["categorie"], kw["debut"], kw["fin"])
    if st.empty:
        cols = ["signalements", "resolus", "en_cours", "sans_suite", "non_resolus"]
        return st.assign(**{c: pd.Series(dtype=float) for c in ("non_resolus",)}).assign(
            **{f"{c}_secret": pd.Series(dtype=bool) for c in cols}
        )
    # « en cours » and « classés sans suite » are often small: their sum, the non-resolved, is
    # published as one column (signalements = résolus + non résolus), the two apart when possible
    st = st.assign(non_resolus=st["en_cours"] + st["sans_suite"])
    out = privacy.secret_columns(
        st, ["signalements", "resolus", "non_resolus"], seuil, "both", "signalements"
    )
    detail = privacy.secret_columns(
        st, ["non_resolus", "en_cours", "sans_suite"], seuil, "both", "non_resolus"
    )
    for c in ("en_cours", "sans_suite"):
        out[c] = detail[c]
        out[f"{c}_secret"] = detail[f"{c}_secret"] | out["non_resolus_secret"]
        out[c] = out[c].where(~out[f"{c}_secret"])
    out["delai_median_jours"] = out["delai_median_jours"].where(
        ~out["resolus_secret"] & (st["resolus"] >= seuil)
    )
    return out


def _gup_delais(gup: pd.DataFrame, seuil: int, kw: dict) -> pd.DataFrame:
    d = proximity.resolution_delays(
        gup, ["categorie"], kw["debut"], kw["fin"], annee_debut_cucs=kw["annee_debut_cucs"]
    )
    cols = ["categorie", "resolus_avant", "delai_avant", "resolus_pendant", "delai_pendant"]
    if d.empty:
        return _vide(*cols, "resolus_avant_secret", "resolus_pendant_secret")
    w = d.pivot(index="categorie", columns="periode", values=["resolus", "delai_median_jours"])
    out = pd.DataFrame(index=w.index)
    for p in ("avant", "pendant"):
        out[f"resolus_{p}"] = w[("resolus", p)] if ("resolus", p) in w.columns else np.nan
        out[f"delai_{p}"] = w[("delai_median_jours", p)] if ("delai_median_jours", p) in w.columns else np.nan
    out = out.reset_index()
    out[["resolus_avant", "resolus_pendant"]] = out[["resolus_avant", "resolus_pendant"]].fillna(0)
    # the resolved total per category is published beside (gup_statuts): secondary secrecy per row
    out["resolus"] = out["resolus_avant"] + out["resolus_pendant"]
    sec = privacy.apply_secrecy(
        out[["resolus_avant", "resolus_pendant", "resolus"]].astype(float),
        ["resolus_avant", "resolus_pendant", "resolus"],
        seuil,
        margins="both",
        total_column="resolus",
    )
    for p in ("avant", "pendant"):
        c = f"resolus_{p}"
        raw = out[c].copy()
        out[c] = sec.values[c]
        out[f"{c}_secret"] = sec.mask[c].to_numpy()
        out[f"delai_{p}"] = out[f"delai_{p}"].where(~out[f"{c}_secret"] & (raw >= seuil))
    return out.drop(columns=["resolus"])


def _gup_ensemble(counts: pd.DataFrame, pops: pd.DataFrame, seuil: int, kw: dict) -> pd.DataFrame:
    """All the commune's quartiers together, per category and in total: the rate per 1,000
    inhabitants before / during (pooled), small counts hidden with their rates."""
    d = proximity.with_population(counts, pops)
    d = d[d["population"].notna()]
    cols = ["categorie", *trends.PERIODE_COLUMNS]
    if d.empty:
        return _vide(*cols)
    # population of the quartiers once per year (not once per category)
    pop = d.drop_duplicates(["code_quartier", "annee"]).groupby("annee")["population"].sum()
    c = d.groupby(["categorie", "annee"])["signalements"].sum().reset_index()
    tot = c.groupby("annee")["signalements"].sum().reset_index().assign(categorie="ensemble")
    c = pd.concat([c, tot], ignore_index=True)
    c["population"] = c["annee"].map(pop)
    per = trends.compare_periods(
        c,
        numerateur="signalements",
        denominateur="population",
        echelle=1000,
        by=["categorie"],
        base_min=0,
        **kw,
    )
    st = privacy.hide_small_bases(
        per,
        {
            "numerateur_avant": ["valeur_avant", "difference"],
            "numerateur_pendant": ["valeur_pendant", "difference"],
        },
        seuil,
    )
    return st.values[cols]


def _equipements(territoire, pops: pd.DataFrame, annee: int | None, quartiers: list[str], seuil: int):
    eq = territoire.equipements if territoire.available.get("equipements", True) else None
    tot = proximity.facilities_per_1000(eq, pops, annee)
    gam = proximity.facilities_per_1000(eq, pops, annee, ["gamme"])
    typ = proximity.facilities_per_1000(eq, pops, annee, ["type_equipement", "libelle", "gamme"])
    if not tot.empty:
        ens = proximity.pooled_facilities(tot, quartiers)
        if not ens.empty:
            tot = pd.concat(
                [tot, ens.assign(niveau="ensemble", code_territoire=ENSEMBLE, annee_population=annee)],
                ignore_index=True,
            )
        eg = proximity.pooled_facilities(gam, quartiers, ["gamme"])
        if not eg.empty:
            gam = pd.concat(
                [gam, eg.assign(niveau="ensemble", code_territoire=ENSEMBLE, annee_population=annee)],
                ignore_index=True,
            )
        et = proximity.pooled_facilities(typ, quartiers, ["type_equipement", "libelle", "gamme"])
        com = typ[typ["niveau"] == "commune"]
        typ = com.merge(
            et[["type_equipement", "nombre", "population", "pour_1000_hab"]],
            on="type_equipement",
            how="left",
            suffixes=("_commune", "_quartiers"),
        )
    else:
        typ = _vide(
            "type_equipement",
            "libelle",
            "gamme",
            "nombre_commune",
            "pour_1000_hab_commune",
            "nombre_quartiers",
            "pour_1000_hab_quartiers",
        )
    # A population under the threshold is hidden with every rate on it; the quartiers' sum is
    # published (the quartiers together), so their list gets secondary secrecy.
    hidden = populations_cachees(tot, seuil)
    for df in (tot, gam):
        if not df.empty:
            small = df["code_territoire"].isin(hidden).to_numpy()
            df.loc[small, ["population", "pour_1000_hab"]] = np.nan
    if not typ.empty and ENSEMBLE in hidden:
        typ["pour_1000_hab_quartiers"] = np.nan
    return tot, gam, typ, hidden


def populations_cachees(tot: pd.DataFrame, seuil: int) -> set[str]:
    """The territories whose population of the facilities' year is not published: primary
    secrecy on each, secondary on the quartiers' list (their sum, the quartiers together, is
    printed), primary on that sum."""
    if tot.empty:
        return set()
    out = set()
    q = tot[tot["niveau"] == "quartier"]
    if not q.empty:
        sc = privacy.secret_counts(
            pd.to_numeric(q["population"], errors="coerce").fillna(0), seuil, total_known=True
        )
        out |= set(q.loc[sc.mask.to_numpy(), "code_territoire"])
    rest = tot[tot["niveau"] != "quartier"]
    small = privacy.primary_mask(pd.to_numeric(rest["population"], errors="coerce"), seuil).to_numpy()
    return out | set(rest.loc[small, "code_territoire"])


def _securite(
    territoire, codes: list[str], quartiers: list[str], seuil: int, kw: dict, unites: dict
) -> pd.DataFrame:
    cols = ["niveau", "code_territoire", "indicateur", *trends.PERIODE_COLUMNS, "methode"]
    ind = territoire.indicateurs
    if not codes or ind is None or ind.empty:
        return _vide(*cols)
    i = ind[
        ind["indicateur"].isin(codes)
        & (
            ((ind["niveau"] == "quartier") & ind["code_territoire"].isin(quartiers))
            | ((ind["niveau"] == "commune") & (ind["code_territoire"] == territoire.code_commune))
        )
    ]
    parts = []
    for code in codes:  # one or two indicators
        echelle = 1000.0 if unites.get(code) == "‰" else 100.0
        res = trends.compare_periods_auto(
            i[i["indicateur"] == code], by=["niveau", "code_territoire", "indicateur"], echelle=echelle, **kw
        )
        parts.append(res)
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _vide(*cols)
    out = pd.concat(parts, ignore_index=True)
    st = privacy.hide_small_bases(
        out,
        {  # the bases are published beside the rates: a small one hides its rate and its other count
            "numerateur_avant": ["valeur_avant", "difference", "denominateur_avant"],
            "numerateur_pendant": ["valeur_pendant", "difference", "denominateur_pendant"],
            "denominateur_avant": ["valeur_avant", "difference", "numerateur_avant"],
            "denominateur_pendant": ["valeur_pendant", "difference", "numerateur_pendant"],
        },
        seuil,
    )
    return st.values[cols]


def build(territoire, params) -> RapportQ8:
    code = territoire.code_commune
    nom = str((territoire.commune or {}).get("nom") or code)
    signataire = statut_signataire(territoire)
    debut, fin = int(params.periode.debut), int(params.periode.fin)
    annee_cucs = int(params.annee_debut_cucs)
    kw = {"annee_debut_cucs": annee_cucs, "debut": debut, "fin": fin}
    seuil = int(params.seuil_secret)
    seuil_var = float(params.gup.seuil_variation)
    quartiers = [str(q) for q in territoire.quartiers["code_quartier"]]
    noms = {
        str(q): str(n) if not text.manquant(n) else str(q)
        for q, n in zip(territoire.quartiers["code_quartier"], territoire.quartiers["nom"], strict=True)
    }
    # an unknown status is never « hors CUCS »: the rows present are read (one caveat says so)
    lit = rapport.lit_programme(signataire)
    actions = territoire.actions if lit else territoire.actions.iloc[0:0]
    if "dispositif" in actions.columns:  # OVV and VVV are one dispositif: one line
        actions = actions.assign(dispositif=actions["dispositif"].replace(DISPOSITIFS_ALIAS))
    a_programme = lit and not actions.empty
    fin_df = territoire.financements if a_programme else None
    a_gup = lit and bool(territoire.available.get("gup")) and not territoire.gup.empty

    if a_programme:
        pa = proximity.proximity_actions(actions, fin_df)
        pan = proximity.proximity_by_year(actions, fin_df)
        publics = proximity.proximity_by_group(actions, fin_df, ["public_cible"])
        dispositifs = proximity.proximity_by_group(actions, fin_df, ["thematique", "dispositif"])
    else:
        pa = proximity.proximity_actions(None, None)
        pan = proximity.proximity_by_year(None, None)
        publics = proximity.proximity_by_group(None, None, ["public_cible"])
        dispositifs = proximity.proximity_by_group(None, None, ["thematique", "dispositif"])
    periodes = _proximite_periodes(pan, kw)

    pops = proximity.populations(territoire.indicateurs, debut, fin)
    pq = pops[(pops["niveau"] == "quartier") & pops["code_territoire"].isin(quartiers)]
    annees_pop = (
        (int(pq["annee_population"].min()), int(pq["annee_population"].max())) if not pq.empty else None
    )
    annee_eq = proximity.facilities_year(
        territoire.equipements if territoire.available.get("equipements", True) else None, fin
    )
    eq_tot, eq_gam, eq_typ, eq_cachees = _equipements(territoire, pops, annee_eq, quartiers, seuil)
    eq_brut = territoire.equipements if territoire.available.get("equipements", True) else None
    incoherents = proximity.facilities_above_commune(eq_brut, code, quartiers)
    lib_eq = (
        dict(zip(eq_brut["type_equipement"].astype(str), eq_brut["libelle"].astype(str), strict=True))
        if eq_brut is not None and {"type_equipement", "libelle"} <= set(eq_brut.columns)
        else {}
    )
    # quartiers whose population is hidden in some year, or in the facilities' year (secondary)
    yearly_small = pq.loc[privacy.primary_mask(pq["population"], seuil).to_numpy(), "code_territoire"]
    pop_cachees = set(yearly_small) | eq_cachees
    if a_gup:
        counts = proximity.gup_counts(territoire.gup, quartiers, debut, fin)
        gup_tab = _gup_table(counts, pops, territoire.gup, seuil, seuil_var, kw, pop_cachees)
        annuel = proximity.with_population(counts, pops)
        statuts = _gup_statuts(territoire.gup, seuil, kw)
        delais = _gup_delais(territoire.gup, seuil, kw)
        ensemble = _gup_ensemble(counts, pops, seuil, kw)
        pooled = pq.groupby("annee")["population"].sum()
        if ENSEMBLE in pop_cachees or bool(privacy.primary_mask(pooled, seuil).any()):
            # the quartiers' population is not published: neither are the rates on it
            ensemble[["valeur_avant", "valeur_pendant", "difference"]] = np.nan
        totaux = _gup_totaux(territoire.gup, kw)
        if totaux["resolus"] < seuil:
            totaux["delai"] = None
    else:
        totaux = {"signalements": None, "resolus": None, "en_cours": None, "sans_suite": None, "delai": None}
        gup_tab = _vide(
            "code_quartier",
            "categorie",
            *proximity.TREND_COLUMNS,
            "pour_1000_hab",
            "secret",
            "periodes_secret",
            "delai_secret",
            "delai_median_jours",
            "resolus",
            "en_cours",
            "sans_suite",
        )
        annuel = _vide("code_quartier", "categorie", "annee", "signalements", "population")
        statuts = _gup_statuts(territoire.gup.iloc[0:0], seuil, kw)
        delais = _gup_delais(territoire.gup.iloc[0:0], seuil, kw)
        ensemble = _vide("categorie", *trends.PERIODE_COLUMNS)

    cat = territoire.catalogue
    libelles = dict(zip(cat["indicateur"], cat["libelle"], strict=True)) if cat is not None else {}
    unites = dict(zip(cat["indicateur"], cat["unite"], strict=True)) if cat is not None else {}
    secu_codes = proximity.safety_indicators(cat)
    secu = _securite(territoire, secu_codes, quartiers, seuil, kw, unites)

    experimentaux = [q for q in params.quartiers_experimentaux if q in noms]
    profils = {}
    for q in experimentaux:  # a few quartiers named in the parameters
        pr = proximity.indicator_profile(territoire.indicateurs, q, code, fin)
        st = privacy.hide_small_bases(
            pr,
            {
                "numerateur": ["valeur_quartier", "ecart", "denominateur"],
                "denominateur": ["valeur_quartier", "ecart", "numerateur"],
                "numerateur_commune": ["valeur_commune", "ecart", "denominateur_commune"],
                "denominateur_commune": ["valeur_commune", "ecart", "numerateur_commune"],
            },
            seuil,
        )
        profils[q] = st.values

    pop = (territoire.commune or {}).get("population")
    r = RapportQ8(
        code_commune=code,
        nom_commune=nom,
        signataire=signataire,
        a_programme=a_programme,
        a_gup=a_gup,
        periode=(debut, fin),
        annee_debut_cucs=annee_cucs,
        seuil_secret=seuil,
        seuil_variation=seuil_var,
        noms_quartiers=noms,
        actions_proximite=pa,
        proximite_annee=pan,
        proximite_periodes=periodes,
        publics=publics,
        dispositifs=dispositifs,
        gup=gup_tab.reset_index(drop=True),
        gup_annuel=annuel,
        gup_statuts=statuts,
        gup_delais=delais,
        gup_ensemble=ensemble,
        annees_population=annees_pop,
        equipements=eq_tot,
        equipements_gamme=eq_gam,
        equipements_type=eq_typ,
        annee_equipements=annee_eq,
        indicateurs_securite=secu_codes,
        securite=secu,
        libelles_indicateurs=libelles,
        unites_indicateurs=unites,
        quartiers_experimentaux=experimentaux,
        profils=profils,
        population=None if pop is None or text.manquant(pop) else float(pop),
        gup_totaux=totaux,
        populations_cachees=pop_cachees,
        equipements_incoherents=incoherents,
        libelles_equipements=lib_eq,
    )
    _narrate(r)
    rapport.constat_contrat(r, territoire, r.a_programme)
    return r


# --- French sentences ------------------------------------------------------------------------------

OBJETS_SECTIONS = {
    "actions": "le repérage des actions du CUCS qui produisent du lien de proximité",
    "gup": "la gestion urbaine de proximité des quartiers du CUCS",
}


def _nom_q(r: RapportQ8, code: str) -> str:
    return r.noms_quartiers.get(code, code)


def _a(nom: str) -> str:
    """« à » before a place name, contracted with its article: « au Haut-Val », « aux Tilleuls »."""
    for article, contraction in (("Le ", "au "), ("Les ", "aux ")):
        if nom.startswith(article):
            return contraction + nom[len(article) :]
    return f"à {nom}"


def _categorie(c: object) -> str:
    return f"« {c} »"


def _jours(x: object) -> str:
    """A number of days as the tables print it (whole days, `text.nombre`): one rounding."""
    n = text.nombre(x, 0)
    return n if n in (text.ND, text.SECRET) else f"{n} {'jours' if abs(round(float(x))) >= 2 else 'jour'}"


def _periode_row(r: RapportQ8, mesure: str):
    pp = r.proximite_periodes
    row = pp[pp["mesure"] == mesure]
    return None if row.empty else row.iloc[0]


def _narrate_actions(r: RapportQ8) -> None:
    if not r.a_programme:
        r.constat(
            "actions",
            f"La programmation CUCS {text.de(r.nom_commune)} est absente des données (données non disponibles) : "
            "les actions de proximité ne peuvent pas être repérées.",
        )
        return
    pa = r.actions_proximite
    n = len(pa)
    inconnues = r.proximite_non_renseignees
    p = r.proximite_annee
    connues = int(p["actions_annees"].sum()) if not p.empty else 0
    if inconnues and connues == 0:
        r.constat(
            "actions",
            "Actions de proximité : n.d. — le caractère « de proximité » n'est renseigné pour aucune action de la "
            f"programmation (non renseigné pour {text.pluriel(inconnues, 'action-année', 'actions-années')}).",
        )
        return
    if inconnues:
        r.dit(
            "actions",
            f"Le caractère « de proximité » n'est pas renseigné pour {text.pluriel(inconnues, 'action-année', 'actions-années')} "
            "(non renseigné) : elles sont comptées à part, ni parmi les actions de proximité ni parmi les autres.",
        )
    if n == 0:
        r.constat(
            "actions",
            "Aucune action de la programmation n'est marquée comme produisant du lien de proximité"
            + (" parmi celles dont le caractère est renseigné." if inconnues else "."),
        )
        return
    total, spec = float(pa["montant_accorde"].sum()), float(pa["montant_specifique"].sum())
    verbe = "sont marquées" if n >= 2 else "est marquée"
    r.constat(
        "actions",
        f"{majuscule(text.pluriel(n, 'action'))} de la programmation {verbe} comme produisant du lien de proximité : "
        f"{text.euros(total)} leur sont accordés sur {text.annee_periode(*r.periode)}, dont {text.euros(spec)} de "
        "crédits spécifiques (euros courants).",
    )
    pc = _periode_row(r, "part_credits")
    pa_row = _periode_row(r, "part_actions")
    if pc is not None and pa_row is not None:
        if bool(pc["avant_testable"]) and not text.manquant(pc["valeur_avant"]):
            phrase = (
                f"Les actions de proximité reçoivent {text.pourcentage(pc['valeur_avant'])} des crédits accordés aux "
                f"actions {r.avant} et {text.pourcentage(pc['valeur_pendant'])} {r.pendant}, soit "
                f"{text.points(text.difference_affichee(pc['valeur_avant'], pc['valeur_pendant'], 1))} ; elles font "
                f"{text.pourcentage(pa_row['valeur_avant'])} des actions-années avant "
                f"({text.nombre(pa_row['numerateur_avant'])} sur {text.nombre(pa_row['denominateur_avant'])}) et "
                f"{text.pourcentage(pa_row['valeur_pendant'])} pendant ({text.nombre(pa_row['numerateur_pendant'])} "
                f"sur {text.nombre(pa_row['denominateur_pendant'])})."
            )
            r.constat("actions", phrase)
            if bool(pa_row["petite_base"]):
                petites = [
                    f"la période {lib} ne compte que {text.pluriel(pa_row[f'denominateur_{p}'], 'action-année', 'actions-années')}"
                    for p, lib in (("avant", r.avant), ("pendant", r.pendant))
                    if pa_row[f"denominateur_{p}"] < r.base_min
                ]
                r.constat(
                    "actions",
                    f"Petite base : {text.liste_fr(petites)} (moins de {text.nombre(r.base_min)}) ; l'écart est à lire "
                    "avec prudence.",
                )
        elif not text.manquant(pc["valeur_pendant"]):
            r.constat(
                "actions",
                f"{majuscule(r.pendant)}, les actions de proximité reçoivent {text.pourcentage(pc['valeur_pendant'])} "
                "des crédits accordés aux actions ; aucune action n'est renseignée avant le CUCS : l'évolution ne peut "
                "pas être testée.",
            )
    pub = r.publics.head(3)
    if not pub.empty:
        r.constat(
            "actions",
            "Publics visés, tels que déclarés, par montant accordé : "
            + text.liste_fr(
                [
                    f"« {p} » ({text.pluriel(a, 'action')}, {text.euros(m)})"
                    for p, a, m in zip(
                        pub["public_cible"], pub["actions"], pub["montant_accorde"], strict=True
                    )
                ]
            )
            + ".",
        )
    dom = r.dispositifs.groupby("thematique", sort=False)["actions"].sum()
    if not dom.empty:
        r.dit(
            "actions",
            "Par domaine : "
            + text.liste_fr(
                [
                    f"{text.minuscule_initiale(libelle_domaine(d))} ({text.pluriel(k, 'action')})"
                    for d, k in dom.items()
                ]
            )
            + ".",
        )


def _tendance_phrase(r: RapportQ8, row) -> str:
    sens = "hausse" if row["tendance"] == proximity.HAUSSE else "baisse"
    return (
        f"{_categorie(row['categorie'])} {_a(_nom_q(r, row['code_quartier']))} : {sens} nette, "
        f"{text.pourcentage(100 * row['variation_annuelle'], signe=True)} par an (intervalle de confiance à 95 % : "
        f"{text.pourcentage(100 * row['ic_bas'], signe=True)} à {text.pourcentage(100 * row['ic_haut'], signe=True)}), "
        f"soit {text.pourcentage(100 * row['variation_periode'], 0, signe=True)} sur "
        f"{text.annee_periode(*r.periode)}"
    )


def _narrate_gup(r: RapportQ8) -> None:
    if not r.a_gup:
        r.constat(
            "gup",
            f"Les signalements de gestion urbaine de proximité ne sont pas renseignés pour {r.nom_commune} (données non "
            "disponibles) : ni taux, ni tendance, ni délai de résolution ne peuvent être calculés.",
        )
        return
    e = r.gup_ensemble
    ens = e[e["categorie"] == "ensemble"]
    if not ens.empty and text.manquant(ens.iloc[0]["valeur_pendant"]):
        r.constat(
            "gup",
            "Le nombre de signalements pour 1 000 habitants des quartiers n'est pas publié : la population des "
            "quartiers est soumise au secret statistique.",
        )
    elif not ens.empty:
        row = ens.iloc[0]
        pop = (
            f" (population de chaque année, {text.annee_periode(*r.annees_population)})"
            if r.annees_population
            else ""
        )
        if bool(row["avant_testable"]):
            r.constat(
                "gup",
                f"Les quartiers de {r.nom_commune} comptent en moyenne {text.nombre(row['valeur_avant'], 1)} signalements "
                f"GUP par an pour 1 000 habitants {r.avant} et {text.nombre(row['valeur_pendant'], 1)} {r.pendant}, "
                f"soit {text.effectif(row['numerateur_avant'], r.seuil_secret, 'signalement')} avant et "
                f"{text.effectif(row['numerateur_pendant'], r.seuil_secret, 'signalement')} pendant{pop}.",
            )
        else:
            r.constat(
                "gup",
                f"{majuscule(r.pendant)}, les quartiers comptent en moyenne {text.nombre(row['valeur_pendant'], 1)} "
                f"signalements GUP par an pour 1 000 habitants{pop} ; aucun signalement n'est renseigné avant le CUCS.",
            )
    if "periodes_secret" in r.gup.columns and r.gup["periodes_secret"].any():
        r.dit(
            "gup",
            f"« s » dans les colonnes avant et pendant le CUCS du tableau par quartier et catégorie : moins de "
            f"{text.nombre(r.seuil_secret)} signalements sur l'une des deux périodes ; l'autre est masquée avec elle, "
            "pour que le total de la période ne la redonne pas.",
        )
    nettes = r.tendances_nettes
    total = int(r.gup["tendance"].notna().sum())
    if nettes.empty:
        r.constat(
            "gup",
            f"Aucun des {text.nombre(total)} couples quartier × catégorie ne montre de tendance nette des signalements "
            f"(régression de Poisson : p < 0,05 et variation d'au moins {text.pourcentage(100 * r.seuil_variation, 0)} "
            "sur la période) : pas de tendance nette.",
        )
    else:
        for row in nettes.to_dict(orient="records"):
            r.constat("gup", f"Signalements {_tendance_phrase(r, row)}.")
        autres = total - len(nettes)
        r.constat(
            "gup",
            f"{majuscule(text.aucun(autres, 'autre couple', 'autres couples'))} quartier × catégorie "
            f"{'ne montrent' if autres >= 2 else 'ne montre'} pas de tendance nette.",
        )
    st = r.gup_statuts
    if not st.empty:
        tot = r.gup_totaux
        # The total is printed: one hidden part would be the total minus the others.
        parts = pd.Series({k: tot[k] for k in ("resolus", "en_cours", "sans_suite")}, dtype=float)
        cache = privacy.secret_counts(parts, r.seuil_secret, total_known=True).mask

        def compte(cle: str, singulier: str, pluriel: str) -> str:
            return text.effectif(tot[cle], r.seuil_secret, singulier, pluriel, secret=bool(cache[cle]))

        def accord(cle: str, un: str, plusieurs: str) -> str:
            return plusieurs if cache[cle] or tot[cle] >= 2 else un

        r.constat(
            "gup",
            f"Sur {text.effectif(tot['signalements'], r.seuil_secret, 'signalement')} de "
            f"{text.annee_periode(*r.periode)}, {compte('resolus', 'signalement résolu', 'signalements résolus')}"
            f" (délai médian de résolution : {_jours(tot['delai'])}) ; "
            f"{compte('en_cours', 'signalement', 'signalements')} "
            f"{accord('en_cours', 'reste', 'restent')} en cours et "
            f"{compte('sans_suite', 'signalement', 'signalements')} "
            f"{accord('sans_suite', 'a été classé', 'ont été classés')} sans suite : le délai médian ne porte "
            "que sur les signalements résolus.",
        )
    d = r.gup_delais.dropna(subset=["delai_pendant"])
    if not d.empty:
        d = d.sort_values(["delai_pendant", "categorie"])
        lo, hi = d.iloc[0], d.iloc[-1]
        phrase = (
            f"{majuscule(r.pendant)}, le délai médian de résolution va de {_jours(lo['delai_pendant'])} "
            f"({_categorie(lo['categorie'])}) à {_jours(hi['delai_pendant'])} ({_categorie(hi['categorie'])})"
        )
        if not text.manquant(hi["delai_avant"]):
            phrase += f" ; il était de {_jours(hi['delai_avant'])} pour cette dernière {r.avant}"
        r.constat("gup", phrase + ".")


def _nom_territoire(r: RapportQ8, niveau: str, code: str) -> str:
    if niveau == "commune":
        return f"{r.nom_commune} (commune)"
    if niveau == "ensemble":
        return f"Ensemble des {r.quartiers_nom}"
    return _nom_q(r, code)


def _les_quartiers(r: RapportQ8) -> str:
    if r.signataire is None:
        return "ses quartiers"
    return (
        "les quartiers du CUCS (catégories 1 à 3)"
        if r.signataire
        else "ses quartiers de veille (comparaison)"
    )


def _narrate_equipements(r: RapportQ8) -> None:
    e = r.equipements
    if e.empty or r.annee_equipements is None:
        r.constat(
            "equipements",
            f"Les équipements ne sont pas renseignés pour {r.nom_commune} (données non disponibles).",
        )
        return
    com = e[e["niveau"] == "commune"]
    ens = e[e["niveau"] == "ensemble"]
    a = text.annee(r.annee_equipements)
    if not com.empty and not ens.empty and not text.manquant(com.iloc[0]["pour_1000_hab"]):
        c, q = com.iloc[0], ens.iloc[0]
        r.constat(
            "equipements",
            f"En {a}, {_les_quartiers(r)} comptent {text.nombre(q['pour_1000_hab'], 1)} équipements pour 1 000 "
            f"habitants ({text.nombre(q['nombre'])} équipements pour {text.nombre(q['population'])} habitants), contre "
            f"{text.nombre(c['pour_1000_hab'], 1)} pour la commune entière ({text.nombre(c['nombre'])} pour "
            f"{text.nombre(c['population'])} habitants ; populations de {a}).",
        )
    inc = r.incoherents_annee()
    if not inc.empty:
        types = text.liste_fr([f"« {r.libelles_equipements.get(t, t)} »" for t in inc["type_equipement"]])
        r.constat(
            "equipements",
            f"Les équipements des quartiers dépassent ceux de la commune pour {types} en {a} : les deux sources ne "
            "sont pas cohérentes ; les rapports par habitant sont à vérifier.",
        )
    autres = sorted(set(r.equipements_incoherents["annee"]) - {r.annee_equipements})
    if autres:
        r.dit(
            "equipements",
            "La même incohérence (quartiers au-dessus de leur commune pour un type d'équipement) se retrouve en "
            f"{text.liste_fr([text.annee(x) for x in autres])} (détail dans le fichier téléchargeable).",
        )
    g = r.equipements_gamme
    gp = g[g["gamme"] == "proximité"]
    gc, gq = gp[gp["niveau"] == "commune"], gp[gp["niveau"] == "ensemble"]
    if not gc.empty and not gq.empty:
        r.constat(
            "equipements",
            f"Équipements de la gamme de proximité : {text.nombre(gq.iloc[0]['pour_1000_hab'], 1)} pour 1 000 habitants "
            f"dans {_les_quartiers(r)}, {text.nombre(gc.iloc[0]['pour_1000_hab'], 1)} dans la commune.",
        )
    t = r.equipements_type
    if not t.empty and "nombre_quartiers" in t.columns:
        absents = t[(t["nombre_commune"] > 0) & (t["nombre_quartiers"].fillna(0) == 0)]
        if not absents.empty:
            r.constat(
                "equipements",
                f"Présents dans la commune mais dans aucun {'quartier du CUCS' if r.signataire else 'de ses quartiers' if r.signataire is None else 'de ses quartiers de veille'} en "
                f"{a} : {text.liste_fr([f'« {x} »' for x in absents['libelle']])}.",
            )
    if r.signataire is False:
        r.dit(
            "equipements",
            f"{r.nom_commune} n'a pas signé de CUCS : ses équipements et ceux de ses quartiers de veille servent de "
            "comparaison (hors CUCS).",
        )


def _narrate_securite(r: RapportQ8) -> None:
    if not r.indicateurs_securite:
        r.constat(
            "securite",
            "Le catalogue des indicateurs ne contient aucun indicateur de délinquance ni d'occupation de l'espace "
            "public : cette partie n'est pas dans les données.",
        )
        return
    s = r.securite
    for ind in r.indicateurs_securite:
        lib = r.libelles_indicateurs.get(ind, ind)
        unite = r.unites_indicateurs.get(ind, "")
        si = s[s["indicateur"] == ind]
        c = si[si["niveau"] == "commune"]
        q = si[(si["niveau"] == "quartier") & si["valeur_pendant"].notna()].sort_values(
            "valeur_pendant", ascending=False
        )
        if c.empty and q.empty:
            r.constat(
                "securite", f"{lib} : indicateur absent des données pour cette commune et ses quartiers."
            )
            continue
        parts = []
        if not c.empty and not text.manquant(c.iloc[0]["valeur_pendant"]):
            row = c.iloc[0]
            avant = (
                f"{text.valeur_unite(row['valeur_avant'], unite, 1)}{_base_phrase(r, ind, row, 'avant')} "
                f"{r.avant} et "
                if bool(row["avant_testable"])
                else ""
            )
            parts.append(
                f"la commune {avant}{text.valeur_unite(row['valeur_pendant'], unite, 1)}"
                f"{_base_phrase(r, ind, row, 'pendant')} {r.pendant}"
            )
        if not q.empty:
            top = q.iloc[0]
            parts.append(
                f"le quartier le plus touché {r.pendant_court}, {_nom_q(r, top['code_territoire'])}, "
                f"{text.valeur_unite(top['valeur_pendant'], unite, 1)}{_base_phrase(r, ind, top, 'pendant')}"
            )
        r.constat("securite", f"{lib} : {' ; '.join(parts)}.")
    if r.a_gup and not any(("espace" in i or "incivil" in i) for i in r.indicateurs_securite):
        r.constat(
            "securite",
            "Aucun indicateur d'occupation de l'espace public n'est dans le catalogue : les signalements GUP des "
            "catégories « occupation de l'espace public » et « tranquillité » (section 2) en tiennent lieu.",
        )


def _base(r: RapportQ8, indicateur: str, numerateur: object, denominateur: object) -> str:
    """« 3 994 faits constatés pour 91 828 habitants » (or « 3 994 sur 91 828 »); n.d. without them."""
    if text.manquant(numerateur) or text.manquant(denominateur):
        return text.ND
    noms = BASES_INDICATEURS.get(indicateur)
    if noms is None:
        return f"{text.nombre(numerateur)} sur {text.nombre(denominateur)}"
    return f"{text.nombre(numerateur)} {noms[0]} pour {text.nombre(denominateur)} {noms[1]}"


def _base_phrase(r: RapportQ8, indicateur: str, row, p: str) -> str:
    """« (3 994 faits constatés pour 91 828 habitants, somme des années) » after a pooled rate."""
    b = _base(r, indicateur, row.get(f"numerateur_{p}"), row.get(f"denominateur_{p}"))
    return "" if b == text.ND else f" ({b}, somme des années)"


def _phrase_fiche_gup(r: RapportQ8, q: str) -> list[str]:
    if not r.a_gup:
        return [
            f"Gestion urbaine de proximité : {labels.MOTIF_LIBELLES[r.motif_gup or motifs.DONNEE_ABSENTE]}."
        ]
    g = r.gup[r.gup["code_quartier"] == q]
    out = []
    vis = g[g["pour_1000_hab"].notna()].sort_values("pour_1000_hab", ascending=False)
    if not vis.empty:
        out.append(
            "Signalements GUP par an pour 1 000 habitants : "
            + text.liste_fr(
                [
                    f"{c} {text.nombre(v, 1)}"
                    for c, v in zip(vis["categorie"].map(_categorie), vis["pour_1000_hab"], strict=True)
                ]
            )
            + (
                f" ({', '.join(str(c) for c in g.loc[g['pour_1000_hab'].isna(), 'categorie'])} : secret statistique)"
                if g["pour_1000_hab"].isna().any()
                else ""
            )
            + "."
        )
    net = g[g["tendance"].isin([proximity.HAUSSE, proximity.BAISSE])]
    if net.empty:
        out.append("Aucune catégorie de signalements ne montre de tendance nette.")
    for row in net.to_dict(orient="records"):
        out.append(f"Signalements {_tendance_phrase(r, row)}.")
    return out


def _phrases_fiche(r: RapportQ8, q: str) -> list[str]:
    out = []
    nom = _nom_q(r, q)
    e = r.equipements
    eq = e[(e["niveau"] == "quartier") & (e["code_territoire"] == q)]
    com = e[e["niveau"] == "commune"]
    if not eq.empty and not text.manquant(eq.iloc[0]["population"]):
        row = eq.iloc[0]
        out.append(
            f"{nom} compte {text.nombre(row['population'])} habitants en {text.annee(row['annee_population'])} et "
            f"{text.nombre(row['pour_1000_hab'], 1)} équipements pour 1 000 habitants en {text.annee(r.annee_equipements)}"
            + (
                f", contre {text.nombre(com.iloc[0]['pour_1000_hab'], 1)} pour la commune."
                if not com.empty and not text.manquant(com.iloc[0]["pour_1000_hab"])
                else "."
            )
        )
    pr = r.profils.get(q, pd.DataFrame())
    if not pr.empty:
        wide = pr.dropna(subset=["ecart"])
        degr = [
            i
            for i in ("taux_chomage", "taux_pauvrete", "part_sans_diplome", "delits_pour_1000")
            if i in set(wide["indicateur"])
        ]
        if degr:
            w = wide.set_index("indicateur")
            out.append(
                "Écarts à la commune : "
                + text.liste_fr(
                    [
                        f"{text.minuscule_initiale(r.libelles_indicateurs.get(i, i))} "
                        f"{text.valeur_unite(w.loc[i, 'valeur_quartier'], r.unites_indicateurs.get(i), 1)} contre "
                        f"{text.valeur_unite(w.loc[i, 'valeur_commune'], r.unites_indicateurs.get(i), 1)} "
                        f"({text.annee(w.loc[i, 'annee'])})"
                        for i in degr
                    ]
                )
                + "."
            )
    if r.decrit:
        out += _phrase_fiche_gup(r, q)
        pa = r.actions_proximite
        pq = pa[pa["code_quartier"] == q] if not pa.empty else pa
        if not r.a_programme:
            out.append("Actions de proximité : programmation absente des données (données non disponibles).")
        elif pq.empty:
            out.append("Aucune action de proximité ne cible ce quartier.")
        else:
            out.append(
                f"{majuscule(text.pluriel(len(pq), 'action'))} de proximité "
                f"{'ciblent' if len(pq) >= 2 else 'cible'} ce quartier ({text.euros(pq['montant_accorde'].sum())} "
                f"accordés sur {text.annee_periode(*r.periode)}) : "
                + text.liste_fr([f"« {i} »" for i in pq["intitule"].head(5)])
                + ("…" if len(pq) > 5 else "")
                + "."
            )
    elif r.signataire is None:
        out.append(
            f"Données non disponibles : {RAISON_SIGNATAIRE_INCONNU} ; ce quartier n'est pas lu comme quartier du CUCS."
        )
    else:
        out.append(f"Hors CUCS : {r.nom_commune} n'a pas signé de CUCS ; ce quartier sert de comparaison.")
    return out


def _narrate_fiches(r: RapportQ8) -> None:
    if not r.quartiers_experimentaux:
        r.dit(
            "fiches",
            "Aucun quartier d'expérimentation n'a été retenu pour cette commune ; le centre de ressources peut en "
            "désigner un (voir la page Méthode).",
        )
        return
    noms = text.liste_fr([_nom_q(r, q) for q in r.quartiers_experimentaux])
    r.dit(
        "fiches",
        f"Quartiers d'expérimentation retenus par le centre de ressources ({text.pluriel(len(r.quartiers_experimentaux), 'quartier')}) : "
        f"{noms}. Chaque fiche rassemble ses indicateurs face à la commune, ses signalements GUP, ses équipements et "
        "les actions de proximité qui le ciblent.",
    )
    for q in r.quartiers_experimentaux:
        r.fiches_textes[q] = _phrases_fiche(r, q)


def _narrate_hors_cucs(r: RapportQ8) -> None:
    r.constats.append(labels.phrase_hors_cucs(r.nom_commune, "la culture de la proximité du CUCS"))
    for section, objet in OBJETS_SECTIONS.items():
        r.textes[section] = [f"Hors CUCS : {objet} est sans objet à {r.nom_commune}."]
    r.reserves.append(
        f"{r.nom_commune} n'étant pas signataire, ses équipements et ses indicateurs ne sont pas des résultats du CUCS ; "
        "ils servent de comparaison aux communes signataires."
    )


def _debat(r: RapportQ8) -> None:
    for row in r.tendances_nettes.to_dict(orient="records"):
        nom = _nom_q(r, row["code_quartier"])
        if row["tendance"] == proximity.HAUSSE:
            r.debat.append(
                f"Les signalements {_categorie(row['categorie'])} augmentent nettement {_a(nom)} : quels dysfonctionnements, "
                "quelles situations sociales et quelles interactions les expliquent, et qui les traite localement ?"
            )
        else:
            r.debat.append(
                f"Les signalements {_categorie(row['categorie'])} diminuent nettement {_a(nom)} : qu'est-ce qui a changé "
                "(une action, un service, la façon de signaler), et est-ce transposable à d'autres quartiers ?"
            )
    d = r.gup_delais.dropna(subset=["delai_pendant"])
    if not d.empty:
        hi = d.sort_values(["delai_pendant", "categorie"]).iloc[-1]
        r.debat.append(
            f"Le délai médian de résolution le plus long est celui des signalements {_categorie(hi['categorie'])} "
            f"({_jours(hi['delai_pendant'])} pendant le CUCS) : quel service en a la charge, et la GUP "
            "peut-elle servir de support à un plan de travail avec lui ?"
        )
    g = r.equipements_gamme
    gp = g[g["gamme"] == "proximité"]
    gc, gq = gp[gp["niveau"] == "commune"], gp[gp["niveau"] == "ensemble"]
    if (
        r.signataire
        and not gc.empty
        and not gq.empty
        and gq.iloc[0]["pour_1000_hab"] < gc.iloc[0]["pour_1000_hab"]
    ):
        r.debat.append(
            "Les quartiers du CUCS sont moins dotés que la commune en équipements de proximité : quels services "
            "publics manquent ou sont insuffisants, selon les habitants et les opérateurs ?"
        )
    pa = r.actions_proximite.head(3)
    if r.decrit and not pa.empty:
        r.debat.append(
            "Actions de proximité à analyser avec les opérateurs et les habitants : "
            + text.liste_fr([f"« {i} »" for i in pa["intitule"]])
            + " : quel lien de proximité ont-elles produit, et sur quelles ressources locales s'appuient-elles ?"
        )
    if r.decrit:
        r.debat.append(
            "Quels quartiers retenir pour un travail expérimental, et avec quelles modalités d'animation et de pilotage "
            "local (chefs de projet de quartier, élus, habitants) ?"
        )
    elif r.signataire is False:
        r.debat.append(
            f"Hors CUCS : {r.nom_commune} n'a pas d'actions de proximité ni de GUP du CUCS à mettre en débat ; ses "
            "équipements et ses indicateurs servent de comparaison."
        )


def _verdict(r: RapportQ8) -> dict:
    if r.inconnu_sans_donnees:
        return rapport.verdict_donnee_absente("Proximité", RAISON_SIGNATAIRE_INCONNU, SECTIONS["en_bref"])
    if r.signataire is False:
        return rapport.verdict_hors_cucs(
            "Proximité",
            r.nom_commune,
            SECTIONS["en_bref"],
            "; ses équipements et ses indicateurs servent de comparaison",
        )
    pc = _periode_row(r, "part_credits")
    credits = ""
    if r.a_programme and pc is not None and not text.manquant(pc["valeur_pendant"]):
        credits = (
            f"{text.pourcentage(pc['valeur_pendant'])} des crédits des actions vont aux actions de proximité "
            "pendant le CUCS"
        )
        if bool(pc["avant_testable"]) and not text.manquant(pc["valeur_avant"]):
            credits += f" ({text.pourcentage(pc['valeur_avant'])} avant)"
    if not r.a_gup:
        if credits:  # the page has results: say them, and that the GUP is missing
            return rapport.verdict(
                f"Proximité : {credits} ; GUP : données non disponibles (signalements absents des données).",
                SECTIONS["actions"],
            )
        if r.a_programme and r.proximite_non_renseignees:
            return rapport.verdict_donnee_absente(
                "Proximité",
                "signalements GUP absents des données, caractère « de proximité » des actions non renseigné",
                SECTIONS["actions"],
            )
        return rapport.verdict_donnee_absente(
            "Proximité", "signalements GUP et programmation absents des données", SECTIONS["gup"]
        )
    nettes = r.tendances_nettes
    if nettes.empty:
        gup = "aucune tendance nette des signalements GUP"
    else:
        gup = "signalements GUP " + text.liste_fr(
            [
                f"en {('hausse' if t == proximity.HAUSSE else 'baisse')} nette : {c} {_a(_nom_q(r, q))} "
                f"({text.pourcentage(100 * v, signe=True)} par an)"
                for q, c, t, v in zip(
                    nettes["code_quartier"],
                    nettes["categorie"].map(_categorie),
                    nettes["tendance"],
                    nettes["variation_annuelle"],
                    strict=True,
                )
            ]
        )
    texte = f"Proximité : {gup}"
    if credits:
        texte += f" ; {credits}"
    return rapport.verdict(texte + ".", SECTIONS["gup"])


def _chiffres_cles(r: RapportQ8) -> list[dict]:
    """The key figures, those with a value first (the index and the syntheses show the first)."""
    mp, mg = r.motif_programme, r.motif_gup
    pc = _periode_row(r, "part_credits")
    part = None
    if mp is None and pc is not None and not text.manquant(pc["valeur_pendant"]):
        part = round(float(pc["valeur_pendant"]), 1)
    e = r.gup_ensemble
    ens = e[e["categorie"] == "ensemble"] if not e.empty else e
    taux = None
    if mg is None and not ens.empty and not text.manquant(ens.iloc[0]["valeur_pendant"]):
        taux = round(float(ens.iloc[0]["valeur_pendant"]), 1)
    delai = r.gup_totaux.get("delai") if mg is None else None
    eq = r.equipements
    ens_eq = eq[eq["niveau"] == "ensemble"] if not eq.empty else eq
    com_eq = eq[eq["niveau"] == "commune"] if not eq.empty else eq
    veq = None if ens_eq.empty else rapport.nombre_json(ens_eq.iloc[0]["pour_1000_hab"], 1)
    vcom = None if com_eq.empty else rapport.nombre_json(com_eq.iloc[0]["pour_1000_hab"], 1)
    a = f" en {r.annee_equipements}" if r.annee_equipements else ""
    inc = r.incoherents_annee()
    verifier = (
        f" (à vérifier : quartiers au-dessus de la commune pour {text.pluriel(len(inc), 'type')})"
        if not inc.empty
        else ""
    )
    cles = [
        chiffre_cle(
            "part_credits_proximite_pendant",
            "Part des crédits des actions allant aux actions de proximité, pendant le CUCS",
            part,
            "%",
            mp,
        ),
        chiffre_cle(
            "gup_tendances_nettes",
            "Couples quartier × catégorie de signalements GUP en hausse ou en baisse nette",
            len(r.tendances_nettes) if mg is None else None,
            "couples",
            mg,
        ),
        chiffre_cle(
            "gup_pour_1000_hab_pendant",
            "Signalements GUP par an pour 1 000 habitants des quartiers, pendant le CUCS",
            taux,
            text.POUR_1000_HAB,
            mg if mg else motifs.SECRET if not ens.empty else None,
        ),
        chiffre_cle(
            "gup_delai_median_jours",
            "Délai médian de résolution des signalements GUP résolus",
            None if delai is None or text.manquant(delai) else rapport.nombre_json(delai),
            "jours",
            mg,
        ),
        chiffre_cle(
            "actions_proximite",
            "Actions qui produisent du lien de proximité",
            len(r.actions_proximite) if mp is None else None,
            "actions",
            mp,
        ),
        chiffre_cle(
            "equipements_quartiers_pour_1000_hab",
            f"Équipements pour 1 000 habitants des {r.quartiers_nom}{a}{verifier}",
            veq,
            text.POUR_1000_HAB,
            None if not eq.empty else motifs.DONNEE_ABSENTE,
        ),
        chiffre_cle(
            "equipements_commune_pour_1000_hab",
            f"Équipements pour 1 000 habitants de la commune{a}{verifier}",
            vcom,
            text.POUR_1000_HAB,
            None if not eq.empty else motifs.DONNEE_ABSENTE,
        ),
    ]
    return sorted(cles, key=lambda c: c["valeur"] is None)  # stable: the order above otherwise


def _narrate(r: RapportQ8) -> None:
    if r.inconnu_sans_donnees:
        r.constats.append(
            f"Données non disponibles : {RAISON_SIGNATAIRE_INCONNU} — les données ne disent pas si {r.nom_commune} a "
            "signé un CUCS, et aucune action ni aucun signalement GUP de la commune n'y figure : sa proximité ne peut "
            "pas être décrite."
        )
        for section, objet in OBJETS_SECTIONS.items():
            r.textes[section] = [
                f"Données non disponibles : {RAISON_SIGNATAIRE_INCONNU} — on ne peut pas évaluer {objet} à "
                f"{r.nom_commune}."
            ]
    elif r.signataire is False:
        _narrate_hors_cucs(r)
    else:
        if r.signataire is None:  # rows present: described as usual, with one caveat
            r.reserves.append(rapport.reserve_signataire_inconnu(r.nom_commune))
        _narrate_actions(r)
        _narrate_gup(r)
    _narrate_equipements(r)
    _narrate_securite(r)
    _narrate_fiches(r)
    if r.a_gup:
        r.reserves.append(
            "Les signalements GUP dépendent de la façon de signaler (outil, relais, confiance des habitants) : une "
            "hausse peut traduire un meilleur repérage plutôt que davantage de dysfonctionnements. Une tendance n'est "
            "pas une cause."
        )
    if r.a_programme:
        r.reserves.append(
            "Le caractère « de proximité » d'une action est celui que la programmation déclare ; les montants sont en "
            "euros courants."
        )
    if not r.equipements.empty:
        r.reserves.append(
            "Les équipements sont comptés (base des équipements), pas leur qualité, leurs horaires ni leur usage par "
            "les habitants."
        )
    _debat(r)
    r.chiffres_cles = _chiffres_cles(r)
    r.verdict = _verdict(r)


def _gup_totaux(gup: pd.DataFrame, kw: dict) -> dict:
    """The reports of all the commune's quartiers: total, resolved, open, closed without
    follow-up (the column totals of `gup_statuts`, published) and the median delay of the
    resolved ones (None when fewer resolved than the threshold is decided by the caller)."""
    t = proximity.resolution_delays(gup.assign(_tout="tout"), ["_tout"], kw["debut"], kw["fin"])
    if t.empty:
        return {"signalements": 0, "resolus": 0, "en_cours": 0, "sans_suite": 0, "delai": None}
    row = t.iloc[0]
    return {
        "signalements": int(row["signalements"]),
        "resolus": int(row["resolus"]),
        "en_cours": int(row["en_cours"]),
        "sans_suite": int(row["sans_suite"]),
        "delai": rapport.nombre_json(row["delai_median_jours"]),
    }


# --- views: the tables the notebook shows (numbers, French headers and units) -----------------

COLONNES_ACTIONS = {
    "intitule": ("Action", "texte"),
    "quartier": ("Quartier", "texte"),
    "domaine": ("Domaine", "texte"),
    "dispositif": ("Dispositif", "texte"),
    "public_cible": ("Public visé (déclaré)", "texte"),
    "annees": ("Années", "texte"),
    "montant_accorde": ("Montant accordé (euros courants)", "euros"),
}
COLONNES_PUBLICS = {
    "public_cible": ("Public visé (déclaré)", "texte"),
    "actions": ("Actions", "nombre"),
    "actions_annees": ("Actions-années", "nombre"),
    "montant_accorde": ("Montant accordé (euros courants)", "euros"),
}
COLONNES_DISPOSITIFS = {
    "domaine": ("Domaine", "texte"),
    "dispositif": ("Dispositif", "texte"),
    "actions": ("Actions", "nombre"),
    "actions_annees": ("Actions-années", "nombre"),
    "montant_accorde": ("Montant accordé (euros courants)", "euros"),
}
COLONNES_PROXIMITE_ANNEE = {
    "annee": ("Année", "annee"),
    "actions_annees": ("Actions programmées", "nombre"),
    "actions_annees_proximite": ("Dont de proximité", "nombre"),
    "montant_total": ("Crédits accordés aux actions", "euros"),
    "montant_proximite": ("Dont crédits aux actions de proximité", "euros"),
    "part_credits": ("Part des crédits aux actions de proximité", "part"),
}
COLONNES_PROXIMITE_PERIODES = {
    "mesure": ("Mesure", "texte"),
    "base_avant": ("Base avant le CUCS", "texte"),
    "valeur_avant": ("Avant le CUCS", "pourcentage"),
    "base_pendant": ("Base pendant le CUCS", "texte"),
    "valeur_pendant": ("Pendant le CUCS", "pourcentage"),
    "ecart": ("Écart", "points"),
    "petite_base": (f"Petite base (moins de {BASE_MIN} actions-années)", "oui_non"),
}
COLONNES_GUP_TAUX = {
    "quartier": ("Quartier", "texte"),
    "categorie": ("Catégorie", "texte"),
    "signalements": ("Signalements (période)", "nombre"),
    "pour_1000_hab": ("Par an pour 1 000 habitants (période)", "decimal"),
    "pour_1000_avant": ("Avant le CUCS", "decimal"),
    "pour_1000_pendant": ("Pendant le CUCS", "decimal"),
}
COLONNES_GUP_TENDANCES = {
    "quartier": ("Quartier", "texte"),
    "categorie": ("Catégorie", "texte"),
    "tendance": ("Tendance", "texte"),
    "variation_annuelle": ("Variation par an", "evolution"),
    "ic_bas": ("Intervalle de confiance à 95 % : borne basse", "evolution"),
    "ic_haut": ("Borne haute", "evolution"),
    "variation_periode": ("Variation ajustée sur la période", "evolution"),
    "p_value": ("p", "p_valeur"),
}
COLONNES_GUP_STATUTS = {
    "categorie": ("Catégorie", "texte"),
    "signalements": ("Signalements", "nombre"),
    "resolus": ("Résolus", "nombre"),
    "non_resolus": ("Non résolus (en cours ou classés sans suite)", "nombre"),
    "en_cours": ("En cours", "nombre"),
    "sans_suite": ("Classés sans suite", "nombre"),
    "delai_median_jours": ("Délai médian de résolution (jours, résolus)", "nombre"),
}
COLONNES_GUP_DELAIS = {
    "categorie": ("Catégorie", "texte"),
    "resolus_avant": ("Résolus avant le CUCS", "nombre"),
    "delai_avant": ("Délai médian avant (jours)", "nombre"),
    "resolus_pendant": ("Résolus pendant le CUCS", "nombre"),
    "delai_pendant": ("Délai médian pendant (jours)", "nombre"),
}
COLONNES_GUP_ENSEMBLE = {
    "categorie": ("Catégorie", "texte"),
    "valeur_avant": ("Par an pour 1 000 habitants, avant le CUCS", "decimal"),
    "valeur_pendant": ("Pendant le CUCS", "decimal"),
    "ecart": ("Écart", "decimal"),
}
COLONNES_EQUIPEMENTS = {
    "territoire": ("Territoire", "texte"),
    "nombre": ("Équipements", "nombre"),
    "population": ("Habitants", "nombre"),
    "pour_1000_hab": ("Pour 1 000 habitants", "decimal"),
}


def colonnes_equipements_type(r: RapportQ8) -> dict:
    """The headers of the facilities by type: « Quartiers du CUCS » or « Quartiers de veille »."""
    q = majuscule(r.quartiers_nom)
    return {
        "libelle": ("Type d'équipement", "texte"),
        "gamme": ("Gamme", "texte"),
        "nombre_commune": ("Commune : nombre", "nombre"),
        "pour_1000_hab_commune": ("Commune : pour 1 000 habitants", "texte"),
        "nombre_quartiers": (f"{q} : nombre", "nombre"),
        "pour_1000_hab_quartiers": (f"{q} : pour 1 000 habitants", "texte"),
        "incoherent": ("Quartiers au-dessus de la commune (sources incohérentes, à vérifier)", "oui_non"),
    }


def colonnes_securite(r: RapportQ8) -> dict:
    """The headers of the safety indicators: the periods (the years for a non-signatory), the bases."""
    return {
        "territoire": ("Territoire", "texte"),
        "indicateur": ("Indicateur", "texte"),
        "unite": ("Unité", "texte"),
        "valeur_avant": (r.entete_periode("avant"), "decimal"),
        "base_avant": (f"Base, {text.minuscule_initiale(r.entete_periode('avant'))}", "texte"),
        "valeur_pendant": (r.entete_periode("pendant"), "decimal"),
        "base_pendant": (f"Base, {text.minuscule_initiale(r.entete_periode('pendant'))}", "texte"),
        "ecart": ("Écart", "decimal"),
    }


COLONNES_PROFIL = {
    "indicateur": ("Indicateur", "texte"),
    "annee": ("Année", "annee"),
    "quartier": ("Quartier", "texte"),
    "base_quartier": ("Base du quartier", "texte"),
    "commune": ("Commune", "texte"),
    "base_commune": ("Base de la commune", "texte"),
    "ecart": ("Écart", "texte"),
}


def _ecart_affiche(quartier: object, commune: object, unite: str) -> str:
    """Quartier minus commune from the displayed values, in the indicator's unit: « −7 430 € »,
    « +15,2 points » for a rate in %."""
    d = text.decimales_unite(unite) if unite != "€" else 0
    x = text.difference_affichee(commune, quartier, d)
    if text.manquant(x):
        return text.ND
    if unite == "%":
        return text.points(x, d)
    n = text.nombre(x, d, signe=True)
    return n if unite in ("", "nombre") else f"{n} {unite}"


def _secret_col(values: pd.Series, mask: pd.Series) -> pd.Series:
    """Numbers as they are, « s » where secret (the column stays numeric without any)."""
    if not mask.any():
        return values
    return display.avec_secret(values, mask)


def _libelle_dispositif(d: object) -> str:
    """« VVV (ville-vie-vacances) », « Autre », « Atelier parents »: one label, capitalised."""
    if d is None or text.manquant(d):
        return text.ND
    return DISPOSITIF_LIBELLES.get(str(d), majuscule(str(d)))


def vue_actions_proximite(r: RapportQ8) -> pd.DataFrame:
    """The proximity actions, largest amount first: title, quartier, domain, dispositif, public as declared."""
    pa = r.actions_proximite
    df = None
    if r.motif_programme is None and not pa.empty:
        df = pa.assign(
            quartier=[
                _nom_q(r, q) if isinstance(q, str) and q else "Toute la commune" for q in pa["code_quartier"]
            ],
            domaine=pa["thematique"].map(libelle_domaine),
            dispositif=pa["dispositif"].map(_libelle_dispositif),
            annees=[text.annee_periode(a, b) for a, b in zip(pa["annee_min"], pa["annee_max"], strict=True)],
        )
    vide = (
        "aucune action marquée « proximité » dans la programmation"
        if r.motif_programme is None
        else r.absence("actions de proximité")
    )
    return display.vue(df, COLONNES_ACTIONS, vide=vide)


def vue_publics(r: RapportQ8) -> pd.DataFrame:
    """The publics of the proximity actions, as declared."""
    p = r.publics
    return display.vue(
        p if r.motif_programme is None and not p.empty else None,
        COLONNES_PUBLICS,
        vide=r.absence("publics des actions de proximité"),
    )


def vue_dispositifs(r: RapportQ8) -> pd.DataFrame:
    """The proximity actions by domain and dispositif."""
    p = r.dispositifs
    df = None
    if r.motif_programme is None and not p.empty:
        df = p.assign(
            domaine=p["thematique"].map(libelle_domaine), dispositif=p["dispositif"].map(_libelle_dispositif)
        )
    return display.vue(
        df,
        COLONNES_DISPOSITIFS,
        vide=r.absence("actions de proximité par dispositif"),
    )


def vue_proximite_annee(r: RapportQ8) -> pd.DataFrame:
    """Per year: action-years and credits, of which proximity actions."""
    p = r.proximite_annee
    df = None
    if r.motif_programme is None and not p.empty:
        df = p.assign(
            part_credits=(p["montant_proximite"] / p["montant_total"]).where(p["montant_total"] > 0)
        )
    colonnes = dict(COLONNES_PROXIMITE_ANNEE)
    if r.proximite_non_renseignees:  # counted apart, shown only when some are unknown
        colonnes["actions_annees"] = ("Actions programmées (proximité renseignée)", "nombre")
        colonnes["actions_annees_non_renseignees"] = ("Proximité non renseignée (actions-années)", "nombre")
    return display.vue(
        df,
        colonnes,
        vide=r.absence("actions de proximité par année"),
    )


def vue_proximite_periodes(r: RapportQ8) -> pd.DataFrame:
    """Share of action-years and share of credits of the proximity actions, before / during, on their bases."""
    pp = r.proximite_periodes
    df = None
    if r.motif_programme is None and not pp.empty:
        d = pp[pp["mesure"].isin(["part_actions", "part_credits"])].copy()
        lib = MESURE_LIBELLES

        def base(row, p: str) -> str:
            if text.manquant(row[f"denominateur_{p}"]):
                return text.ND
            if row["mesure"] == "part_credits":
                return f"{text.euros(row[f'numerateur_{p}'])} sur {text.euros(row[f'denominateur_{p}'])}"
            return f"{text.nombre(row[f'numerateur_{p}'])} sur {text.nombre(row[f'denominateur_{p}'])}"

        df = d.assign(
            base_avant=[base(row, "avant") for row in d.to_dict(orient="records")],
            base_pendant=[base(row, "pendant") for row in d.to_dict(orient="records")],
            ecart=rapport.ecarts_affiches(d["valeur_avant"], d["valeur_pendant"]),
            mesure=d["mesure"].map(lib),
        )
    return display.vue(
        df,
        COLONNES_PROXIMITE_PERIODES,
        vide=r.absence("actions de proximité avant et pendant le CUCS"),
    )


def _gup_affiche(r: RapportQ8) -> pd.DataFrame:
    g = r.gup
    return g.assign(
        quartier=g["code_quartier"].map(lambda q: _nom_q(r, q)), categorie=g["categorie"].map(majuscule)
    )


def vue_gup_taux(r: RapportQ8) -> pd.DataFrame:
    """GUP reports per quartier × category: count and rate per year per 1,000 inhabitants, over
    the period, before and during the contract (secret cells « s »)."""
    df = None
    if r.a_gup and not r.gup.empty:
        g = _gup_affiche(r)
        m = g["secret"] | g["base_cachee"].astype(bool)
        mp = m | g["periodes_secret"].astype(bool)
        df = g.assign(
            **{c: _secret_col(g[c], m) for c in ("signalements", "pour_1000_hab")},
            **{c: _secret_col(g[c], mp) for c in ("pour_1000_avant", "pour_1000_pendant")},
        )
    return display.vue(
        df,
        COLONNES_GUP_TAUX,
        vide=r.absence("signalements de gestion urbaine de proximité", "gup"),
    )


def vue_gup_tendances(r: RapportQ8) -> pd.DataFrame:
    """The Poisson trend of each quartier × category: yearly change with its 95 % interval, p."""
    df = None
    if r.a_gup and not r.gup.empty:
        g = _gup_affiche(r)
        df = g.assign(
            tendance=g["tendance"].map(
                lambda t: TENDANCE_LIBELLES.get(t, labels.MOTIF_LIBELLES[motifs.NON_CALCULABLE])
            )
        )
        df = df.sort_values(["p_value", "quartier"], kind="stable", na_position="last")
        stats = ("variation_annuelle", "ic_bas", "ic_haut", "variation_periode", "p_value")
        df = df.assign(**{c: _secret_col(df[c], df["secret"].astype(bool)) for c in stats if c in df.columns})
    return display.vue(df, COLONNES_GUP_TENDANCES, vide=r.absence("tendances des signalements GUP", "gup"))


def vue_gup_statuts(r: RapportQ8) -> pd.DataFrame:
    """Per category: reports, resolved, open, closed without follow-up, median delay of the resolved."""
    s = r.gup_statuts
    df = None
    if r.a_gup and not s.empty:
        df = s.assign(categorie=s["categorie"].map(majuscule))
        for c in ("signalements", "resolus", "non_resolus", "en_cours", "sans_suite"):
            df[c] = _secret_col(df[c], df[f"{c}_secret"])
    return display.vue(df, COLONNES_GUP_STATUTS, vide=r.absence("statuts des signalements GUP", "gup"))


def vue_gup_delais(r: RapportQ8) -> pd.DataFrame:
    """Per category: median resolution delay before / during the contract, on the resolved reports."""
    s = r.gup_delais
    df = None
    if r.a_gup and not s.empty:
        df = s.assign(categorie=s["categorie"].map(majuscule))
        for c in ("resolus_avant", "resolus_pendant"):
            df[c] = _secret_col(df[c], df[f"{c}_secret"])
    return display.vue(
        df,
        COLONNES_GUP_DELAIS,
        vide=r.absence("délais de résolution des signalements GUP", "gup"),
    )


def vue_gup_ensemble(r: RapportQ8) -> pd.DataFrame:
    """All quartiers together: reports per year per 1,000 inhabitants before / during, per category."""
    e = r.gup_ensemble
    df = None
    if r.a_gup and not e.empty:
        df = e.assign(
            categorie=e["categorie"].map(lambda c: "Toutes catégories" if c == "ensemble" else majuscule(c)),
            ecart=rapport.ecarts_affiches(e["valeur_avant"], e["valeur_pendant"]),
        )
    return display.vue(df, COLONNES_GUP_ENSEMBLE, vide=r.absence("signalements GUP des quartiers", "gup"))


def _territoires(r: RapportQ8, df: pd.DataFrame) -> pd.Series:
    return pd.Series(
        [_nom_territoire(r, n, c) for n, c in zip(df["niveau"], df["code_territoire"], strict=True)],
        index=df.index,
    )


def vue_equipements(r: RapportQ8) -> pd.DataFrame:
    """Facilities per 1,000 inhabitants of the same year: commune, each quartier, quartiers together."""
    e = r.equipements
    df = None
    if not e.empty:
        m = e["code_territoire"].isin(r.populations_cachees)
        df = e.assign(
            territoire=_territoires(r, e),
            population=_secret_col(e["population"], m),
            pour_1000_hab=_secret_col(e["pour_1000_hab"], m),
        )
    return display.vue(df, COLONNES_EQUIPEMENTS, vide=r.absence("équipements", "donnees"))


def vue_equipements_gamme(r: RapportQ8) -> pd.DataFrame:
    """Facilities per 1,000 inhabitants by range (gamme BPE): territories × ranges."""
    g = r.equipements_gamme
    colonnes = {"territoire": ("Territoire", "texte")}
    df = None
    if not g.empty:
        wide = g.assign(territoire=_territoires(r, g)).pivot_table(
            index="territoire",
            columns="gamme",
            values="pour_1000_hab",
            aggfunc="first",
            sort=False,
            dropna=False,
        )
        cachees = {
            _nom_territoire(r, n, c)
            for n, c in zip(g["niveau"], g["code_territoire"], strict=True)
            if c in r.populations_cachees
        }
        if cachees:  # the rates of a secret population read « s »
            wide = wide.astype(object)
            wide.loc[wide.index.isin(cachees)] = privacy.SECRET
        order = [x for x in GAMME_LIBELLES if x in wide.columns]
        wide = wide[order]
        colonnes |= {str(c): (f"{GAMME_LIBELLES[c]} : pour 1 000 habitants", "decimal") for c in order}
        df = wide.reset_index()
        df.columns = [str(c) for c in df.columns]
    return display.vue(df, colonnes, vide=r.absence("équipements par gamme", "donnees"))


def vue_equipements_type(r: RapportQ8) -> pd.DataFrame:
    """Per facility type: the commune against its quartiers taken together."""
    t = r.equipements_type
    df = None
    if not t.empty:  # per 1,000 as everywhere on the page
        inc = set(r.incoherents_annee()["type_equipement"])
        # two decimals: a type counts a few hundredths of a unit per 1,000 inhabitants
        df = t.assign(
            gamme=t["gamme"].map(lambda g: GAMME_LIBELLES.get(g, g)),
            incoherent=t["type_equipement"].isin(inc),
            **{
                c: t[c].map(lambda v: text.nombre(v, 2))
                for c in ("pour_1000_hab_commune", "pour_1000_hab_quartiers")
            },
        )
    return display.vue(df, colonnes_equipements_type(r), vide=r.absence("équipements par type", "donnees"))


def vue_securite(r: RapportQ8) -> pd.DataFrame:
    """Delinquency / public-space indicators: commune and quartiers, before / during."""
    s = r.securite
    df = None
    if not s.empty:
        rows = s.to_dict(orient="records")
        df = s.assign(
            territoire=_territoires(r, s),
            unite=s["indicateur"].map(lambda i: r.unites_indicateurs.get(i, "")),
            indicateur=s["indicateur"].map(lambda i: r.libelles_indicateurs.get(i, i)),
            ecart=rapport.ecarts_affiches(s["valeur_avant"], s["valeur_pendant"]),
            **{
                f"base_{p}": [
                    _base(r, x["indicateur"], x[f"numerateur_{p}"], x[f"denominateur_{p}"]) for x in rows
                ]
                for p in ("avant", "pendant")
            },
        )
    vide = (
        "aucun indicateur de délinquance ni d'occupation de l'espace public dans le catalogue des indicateurs"
        if not r.indicateurs_securite
        else r.absence("indicateurs de délinquance", "donnees")
    )
    return display.vue(df, colonnes_securite(r), vide=vide)


def profil_quartier(r: RapportQ8, code_quartier: str) -> pd.DataFrame:
    """One experimental quartier's indicators against its commune (latest common year)."""
    p = r.profils.get(code_quartier, pd.DataFrame())
    df = None
    if not p.empty:  # rates, shares and amounts; counts (population, job seekers) are in the sentences
        p = p[~p["indicateur"].map(lambda i: r.unites_indicateurs.get(i, "")).isin(["nombre", "hab.", ""])]
    if not p.empty:
        u = p["indicateur"].map(lambda i: r.unites_indicateurs.get(i, ""))
        rows = p.to_dict(orient="records")
        df = p.assign(
            indicateur=p["indicateur"].map(lambda i: r.libelles_indicateurs.get(i, i)),
            quartier=[
                text.valeur_unite(v, x, 1 if x != "€" else 0)
                for v, x in zip(p["valeur_quartier"], u, strict=True)
            ],
            commune=[
                text.valeur_unite(v, x, 1 if x != "€" else 0)
                for v, x in zip(p["valeur_commune"], u, strict=True)
            ],
            ecart=[
                _ecart_affiche(a, b, x)
                for a, b, x in zip(p["valeur_quartier"], p["valeur_commune"], u, strict=True)
            ],
            base_quartier=[_base(r, x["indicateur"], x["numerateur"], x["denominateur"]) for x in rows],
            base_commune=[
                _base(r, x["indicateur"], x["numerateur_commune"], x["denominateur_commune"]) for x in rows
            ],
        )
    return display.vue(
        df,
        COLONNES_PROFIL,
        vide=r.absence(f"indicateurs du quartier {_nom_q(r, code_quartier)}", "donnees"),
    )


def fiches(r: RapportQ8) -> list[tuple[str, list[str], pd.DataFrame | None]]:
    """One profile per experimental quartier named in the parameters, for `display.sections`:
    (heading, sentences, its indicators against the commune)."""
    out = []
    for q in r.quartiers_experimentaux:
        v = profil_quartier(r, q)
        out.append(
            (f"Fiche du quartier {_nom_q(r, q)}", r.fiches_textes.get(q, []), v if not v.empty else None)
        )
    return out


# --- figures (each returns a matplotlib Figure with its French alt text, or None) ------------


def figure_gup_tendances(r: RapportQ8):
    """The yearly reports of each quartier × category with a net trend, and the fitted Poisson curve.
    A series with a yearly count under the secrecy threshold shows only its fitted curve."""
    from cucs_analysis.present import plots

    net = r.tendances_nettes
    if "secret" in net.columns:  # a curve fitted on a hidden cell would draw its total back
        net = net[~net["secret"].astype(bool)]
    if not r.a_gup or net.empty:
        return None
    a = r.gup_annuel
    fig, ax = plt_subplots()
    alt = []
    for i, row in enumerate(net.to_dict(orient="records")):
        s = a[
            (a["code_quartier"] == row["code_quartier"]) & (a["categorie"] == row["categorie"])
        ].sort_values("annee")
        colour = plots.PALETTE[i % len(plots.PALETTE)]
        nom = f"{row['categorie']}, {_nom_q(r, row['code_quartier'])}"
        y = s["signalements"].to_numpy(dtype=float)
        t = s["annee"].to_numpy(dtype=float)
        mean_t = t - t.min()
        # fitted curve through the observed total: exp(a + b t), a from the sum of counts
        b = float(row["pente"])
        scale = y.sum() / np.exp(b * mean_t).sum()
        fitted = scale * np.exp(b * mean_t)
        small = privacy.primary_mask(y, r.seuil_secret).any()
        if not small:
            ax.plot(t, y, marker="o", linestyle="none", color=colour, label=f"{nom} : signalements observés")
        ax.plot(t, fitted, color=colour, linestyle="--", label=f"{nom} : tendance ajustée")
        alt.append(
            f"{nom} : {TENDANCE_LIBELLES[row['tendance']]} nette, "
            f"{text.pourcentage(100 * row['variation_annuelle'], signe=True)} par an"
            + (" (comptes annuels non montrés : secret statistique)" if small else "")
        )
    ax.set_title("Signalements GUP en hausse ou en baisse nette, par année")
    ax.set_xlabel("Année")
    ax.set_ylabel("Signalements par an")
    plots.franciser_axes(ax, x=None, y="nombre")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return plots.set_alt(
        fig,
        f"Points et courbes par année : signalements GUP des couples quartier × catégorie en tendance nette à "
        f"{r.nom_commune}. " + " ; ".join(alt) + ".",
    )


def plt_subplots():
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(9, 5))


def figure_equipements(r: RapportQ8):
    """Facilities per 1,000 inhabitants: each quartier and the quartiers together, the commune as reference line."""
    from cucs_analysis.present import plots

    e = r.equipements
    if e.empty or e["pour_1000_hab"].notna().sum() == 0:
        return None
    d = e[e["niveau"] != "commune"].assign(territoire=_territoires(r, e[e["niveau"] != "commune"]))
    com = e[e["niveau"] == "commune"]
    ref = None if com.empty else com.iloc[0]["pour_1000_hab"]
    fig = plots.barres_horizontales(
        d,
        "territoire",
        "pour_1000_hab",
        f"Équipements pour 1 000 habitants en {text.annee(r.annee_equipements)}",
        "Équipements pour 1 000 habitants",
        decimales=1,
        reference=ref,
        libelle_reference=f"{r.nom_commune} (commune)",
    )
    det = text.liste_fr(
        [
            f"{t} : {text.nombre(v, 1)}"
            for t, v in zip(d["territoire"], d["pour_1000_hab"], strict=True)
            if not text.manquant(v)
        ]
    )
    return plots.set_alt(
        fig,
        f"Barres horizontales : équipements pour 1 000 habitants en {text.annee(r.annee_equipements)}, par quartier ; "
        f"{det} ; ligne de référence : la commune, {text.nombre(ref, 1)}.",
    )


def figure_proximite(r: RapportQ8):
    """Stacked bars per year: credits granted to proximity actions and to the other actions."""
    from cucs_analysis.present import plots

    p = r.proximite_annee
    if r.motif_programme is not None or p.empty or p["montant_total"].sum() <= 0:
        return None
    wide = pd.DataFrame(
        {
            "Actions de proximité": p["montant_proximite"].to_numpy(),
            "Autres actions": (p["montant_total"] - p["montant_proximite"]).to_numpy(),
        },
        index=p["annee"].astype(int),
    )
    fig = plots.barres_empilees_annees(
        wide,
        "Crédits accordés aux actions, dont actions de proximité",
        "Montant accordé (euros courants)",
        "€",
        ncol=2,
    )
    tot = p["montant_proximite"].sum() / p["montant_total"].sum()
    return plots.set_alt(
        fig,
        f"Barres empilées par année : crédits accordés aux actions de {r.nom_commune}, actions de proximité et autres "
        f"actions. Sur toute la période, les actions de proximité reçoivent {text.pourcentage(100 * tot)} des crédits.",
    )


def sources(r: RapportQ8, params, metadata) -> list[str]:
    """The « Sources et méthode » list, with the values actually used."""
    pop = (
        f"population de chaque année (indicateur « population », valeurs de {text.annee_periode(*r.annees_population)} ; "
        "une année sans valeur prend celle de l'année connue la plus proche, antérieure d'abord)"
        if r.annees_population
        else "population des quartiers (indicateur « population »)"
    )
    return [
        rapport.source_donnees(metadata),
        f"Périodes comparées : {rapport.periodes_comparees(r)} ; une part ou un taux est calculé sur chaque période "
        "entière (somme des numérateurs sur somme des dénominateurs), jamais d'une première à une dernière année.",
        "Actions de proximité : actions dont la programmation indique qu'elles produisent du lien de proximité "
        "(colonne « proximité ») ; montants accordés en euros courants ; publics tels que déclarés.",
        f"Signalements GUP pour 1 000 habitants : 1 000 × signalements de la période ÷ somme des populations des "
        f"mêmes années ({pop}) ; c'est un nombre moyen de signalements par an pour 1 000 habitants.",
        f"Tendance des signalements : comptes annuels par quartier et catégorie sur {text.annee_periode(*r.periode)} "
        "(une année sans signalement compte 0), régression de Poisson du compte sur l'année ; « hausse » ou « baisse » "
        f"quand la pente est significative (p < 0,05) et que la variation ajustée sur la période atteint "
        f"{text.pourcentage(100 * r.seuil_variation, 0)} (paramètre gup.seuil_variation), sinon « pas de tendance "
        "nette ». La variation par an est exp(pente) − 1, avec son intervalle de confiance à 95 %.",
        "Délai de résolution : médiane des délais des seuls signalements résolus ; les signalements en cours et "
        "classés sans suite sont comptés à part.",
        f"Équipements pour 1 000 habitants : nombre d'équipements de {text.annee(r.annee_equipements) if r.annee_equipements else 'la dernière année'} "
        "rapporté à la population de la même année ; les quartiers pris ensemble additionnent équipements et "
        "habitants.",
        "Délinquance et espace public : indicateurs du catalogue dont le thème est « sécurité », « délinquance », "
        "« tranquillité » ou « espace public ».",
        f"Secret statistique : aucun nombre de signalements inférieur à {params.seuil_secret} n'est publié, ni le "
        "taux ou le délai qui en dépend ; une case peut aussi être masquée pour protéger une autre (secret secondaire).",
    ]
