"""q3 — « En quoi l'échelle du quartier prioritaire est-elle pertinente ? Quelle géographie
prioritaire ? »: everything the notebook shows, computed from one commune's Territory.

The notebook calls `build(territoire, region, params)`, then shows each table as
`d.tableau(q3.vue_<name>(r), legende=…)`, each figure or map as `d.figure(…, quoi)` and each
section's findings as `d.liste(r.phrases[<section>])`; the French findings are generated here so
that they are tested. Sections follow the workshop's moyens: indicators at every scale, the
scale of the quartier (share of the commune's unemployed and poor living in its priority
quartiers, targeted vs commune-wide credits), the three eligibility rules with the reason of
each verdict (« n.d. » with its motif when a rule cannot be computed), entries and exits (for
a commune outside the CUCS: which quartiers could enter), premiers bilans, jeunesse, grandes
entrées for the next contracts, typology and maps. `verdict` answers the question in one line.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pandas as pd

from cucs_analysis.analysis import funding, geography, motifs, privacy, trends
from cucs_analysis.analysis.typology import Typology
from cucs_analysis.present import display, labels, text
from cucs_analysis.reports import rapport
from cucs_analysis.reports import region as region_stage
from cucs_analysis.reports.rapport import AvecVues, chiffre_cle
from cucs_analysis.reports.region import latest_quartier_year

#: Indicators shown at every scale (if present in the catalogue).
INDICATEURS_ECHELLES = (
    "taux_chomage",
    "taux_chomage_jeunes",
    "taux_pauvrete",
    "revenu_median_uc",
    "part_sans_diplome",
    "taux_reussite_brevet",
)
NIVEAUX_LIBELLES = {
    "quartier": "Quartier",
    "commune": "Commune",
    "epci": "EPCI",
    "departement": "Département",
    "region": "Région",
}
REGLES = {
    "regle_zus": "indice synthétique de type ZUS",
    "regle_qpv2014": "règle de revenu QPV 2014",
    "regle_dynamique": "règle « dynamique » (aggravation de l'écart)",
}
#: Short names of the rules, for table rows (the year is added beside them).
REGLES_COURTES = {
    "regle_zus": "indice synthétique de type ZUS",
    "regle_qpv2014": "règle de revenu QPV 2014",
    "regle_dynamique": "règle « dynamique » d'aggravation de l'écart",
}
#: The same with their article, for sentences (« selon l'indice … »).
REGLES_ARTICLE = {
    "regle_zus": "l'indice synthétique de type ZUS",
    "regle_qpv2014": "la règle de revenu QPV 2014",
    "regle_dynamique": "la règle « dynamique » (aggravation de l'écart)",
}


#: The quartier values each rule uses, by rule (what a secrecy caveat may name).
VALEURS_REGLES = {
    "regle_qpv2014": ("revenu_median_uc", "population"),
    "regle_zus": ("population", "taux_chomage", "part_moins_25_ans", "part_sans_diplome"),
    "regle_dynamique": ("taux_chomage",),
}
#: People counts whose share living in the quartiers is shown (indicator → French noun).
PERSONNES = {
    "taux_chomage": ("chômeur", "chômeurs"),
    "taux_pauvrete": ("personne pauvre", "personnes pauvres"),
    "population": ("habitant", "habitants"),
}
#: Indicators read as possible "entrées" of the next contracts, with the domain of actions
#: that works on them (None: no domain of the programme matches).
ENTREES = {
    "taux_chomage": "emploi",
    "taux_chomage_jeunes": "emploi",
    "taux_pauvrete": None,
    "part_sans_diplome": "education",
    "taux_reussite_brevet": "education",
    "delits_pour_1000": "prevention",
}
#: The headings of the notebook (``## …``) the verdict points to.
SECTION_ECHELLE = "2. L'échelle du quartier"
SECTION_ENTREES_SORTIES = "4. Entrées et sorties selon chaque règle"
SECTION_ELIGIBILITE = "3. L'éligibilité selon trois règles"


@dataclass
class RapportQ3(AvecVues):
    code_commune: str
    nom_commune: str
    annee: int  # year of the comparison at every scale
    seuil_qpv2014: float | None
    revenu_median_national: float | None
    eligibilite: pd.DataFrame  # the commune's quartiers
    eligibilite_region: pd.DataFrame  # every quartier of the data set
    entrees_sorties: pd.DataFrame  # per rule, commune's quartiers
    transitions: pd.DataFrame  # official lists CUCS → QPV 2015 → QPV 2024, commune
    echelles: pd.DataFrame  # long: territory × indicator, with gap and flag for quartiers
    typologie: Typology | None
    classes_commune: pd.DataFrame  # code_quartier, nom, classe, description
    secrets: int  # secret cells among the quartier values the rules use
    catalogue: pd.DataFrame = field(default_factory=pd.DataFrame)  # indicators: libelle, unite
    signataire: bool | None = True  # None: unknown (never read as hors CUCS)
    motif: str | None = None  # motifs code of the whole page (hors_cucs), or None
    annee_revenus: int | None = None  # the income year the rule read (None: no income in the data)
    annee_zus: int | None = None
    annees_echelles: dict = field(default_factory=dict)  # indicator → year shown at every scale
    annees_eligibilite: dict = field(default_factory=dict)  # input → {niveau, demandee, utilisee}
    typologie_entrees: dict = field(default_factory=dict)  # region.typology_inputs
    partages: dict = field(default_factory=dict)  # code_quartier → other communes it covers
    parametres: dict = field(default_factory=dict)  # the rule parameters shown in labels
    repartition: pd.DataFrame = field(default_factory=pd.DataFrame)  # share of people in the quartiers
    ciblage: pd.DataFrame = field(default_factory=pd.DataFrame)  # quartier vs commune-wide credits
    credits_quartiers: pd.DataFrame = field(default_factory=pd.DataFrame)  # per quartier
    bilans: pd.DataFrame = field(default_factory=pd.DataFrame)  # per target: achievement, bilans
    bilans_secret: pd.DataFrame = field(default_factory=pd.DataFrame)  # True where secrecy hides a count
    seuil_secret: int = privacy.DEFAULT_THRESHOLD
    jeunesse: pd.DataFrame = field(default_factory=pd.DataFrame)  # credits to young people vs others
    entrees: pd.DataFrame = field(default_factory=pd.DataFrame)  # gaps before/during per indicator
    part_jeunes: pd.DataFrame = field(default_factory=pd.DataFrame)  # share of under-25s, pooled
    annees_actions: tuple[int, int] | None = None
    constats: list[str] = field(default_factory=list)
    reserves: list[str] = field(default_factory=list)
    debat: list[str] = field(default_factory=list)
    chiffres_cles: list[dict] = field(default_factory=list)
    phrases: dict[str, list[str]] = field(default_factory=dict)  # section → sentences
    verdict: dict = field(default_factory=dict)
    # family → year the importer attributed (the INSEE QPV file has no year): assumptions
    annees_attribuees: dict = field(default_factory=dict)

    @property
    def prioritaires(self) -> pd.DataFrame:
        """The quartiers of the commune's priority list (a CUCS category 1, 2 or 3)."""
        return (
            self.eligibilite[self.eligibilite["dans_cucs"]]
            if not self.eligibilite.empty
            else self.eligibilite
        )

    def resultats(self) -> dict:
        """The q3 keys of the results contract (DESIGN.md §6): a rule that cannot be computed
        is null with its `motif_<regle>`; `raisons_<regle>` lists the codes of a « non »."""

        def b(v):
            return None if v is pd.NA or text.manquant(v) else bool(v)

        def raisons(v):
            return [c for c in str(v).split(geography.SEP_RAISONS) if c] if isinstance(v, str) else []

        elig = self.eligibilite
        noms = dict(zip(elig["code_quartier"], elig["nom"], strict=False)) if "nom" in elig else {}
        return {
            "eligibilite": [
                {
                    "code_quartier": r.code_quartier,
                    "nom_quartier": noms.get(r.code_quartier),
                    "categorie": _categorie(r),
                    "regle_zus": b(r.regle_zus),
                    "regle_qpv2014": b(r.regle_qpv2014),
                    "regle_dynamique": b(r.regle_dynamique),
                    "motif_zus": r.motif_zus,
                    "motif_qpv2014": r.motif_qpv2014,
                    "motif_dynamique": r.motif_dynamique,
                    "raisons_zus": raisons(r.raisons_zus),
                    "raisons_qpv2014": raisons(r.raisons_qpv2014),
                    "raisons_dynamique": raisons(r.raisons_dynamique),
                    # a failed condition of a rule that is n.d. (issue 11): observed, not a verdict
                    "observations_qpv2014": raisons(getattr(r, "observations_qpv2014", "")),
                }
                for r in elig.itertuples()
            ],
            "seuil_qpv2014": self.seuil_qpv2014,
            "typologie": [
                {
                    "code_quartier": r.code_quartier,
                    "nom_quartier": r.nom,
                    "classe": int(r.classe),
                    "description": r.description,
                }
                for r in self.classes_commune.itertuples()
            ],
            "territoire": {"signataire": self.signataire, "motif": self.motif},
            "repartition": [
                {
                    "indicateur": r.indicateur,
                    "annee": int(r.annee),
                    "personnes_quartiers": r.personnes_quartiers,
                    "personnes_commune": r.personnes_commune,
                    # a percentage (0-100): « pourcentage » gives it its unit and one decimal in the CSV
                    "pourcentage": None if text.manquant(r.part) else float(r.part),
                    "motif": _motif_part(r),
                }
                for r in self.repartition.itertuples()
            ],
            "verdict": self.verdict,
            "libelles_tables": dict(LIBELLES_TABLES),
            "libelles_codes": self.libelles_codes(),
            # the year each value was read at (a parameter's year the data lack is replaced)
            "annees": {
                "echelles": {k: int(v) for k, v in self.annees_echelles.items()},
                "regles": {
                    k: {kk: (None if vv is None else vv) for kk, vv in v.items()}
                    for k, v in self.annees_eligibilite.items()
                },
                "typologie": dict((self.typologie_entrees or {}).get("retenus", {})),
            },
        }

    def libelles_codes(self) -> dict[str, dict[str, str]]:
        """French labels of the codes of the downloadable tables (column → code → label)."""
        p = self.parametres
        raisons = {
            geography.REVENU_AU_DESSUS: "revenu médian au-dessus du seuil",
            geography.TAILLE_QUARTIER: f"moins de {text.nombre(p.get('population_min_quartier'))} habitants",
            geography.TAILLE_UU: f"unité urbaine de moins de {text.nombre(p.get('population_min_uu'))} habitants",
            geography.INDICE_SOUS_SEUIL: "indice sous le seuil",
            geography.ECART_NON_CREUSE: "écart à la commune non creusé",
        }
        out = {f"raisons_{x}": raisons for x in ("qpv2014", "zus", "dynamique")}
        out |= {f"motif_{x}": dict(labels.MOTIF_LIBELLES) for x in ("qpv2014", "zus", "dynamique")}
        out["observations_qpv2014"] = raisons
        out["categorie"] = dict(CATEGORIE_LIBELLES)
        return out


#: French titles of the downloadable tables (results keys → CSV title).
LIBELLES_TABLES = {
    "eligibilite": "Éligibilité des quartiers selon les trois règles (n.d. : règle non calculable, avec son motif)",
    "typologie": "Classe de chaque quartier dans la typologie régionale",
    "repartition": "Personnes de la commune vivant dans ses quartiers (part en %)",
}

#: Category codes of a quartier (labels in CATEGORIE_LIBELLES).
CATEGORIE_LIBELLES = {
    "1": "catégorie 1",
    "2": "catégorie 2",
    "3": "catégorie 3",
    "veille": "quartier de veille",
    "hors_cucs": "hors CUCS",
    "hors_cucs_veille": "hors CUCS (quartier de veille)",
    "hors_liste": "hors liste du CUCS",
    "inconnu": "inconnue (n.d.)",
}


def _categorie(r) -> str:
    """The category code of an eligibility row: 1/2/3, veille, hors_cucs (non-signatory),
    inconnu (the category, or the commune's signatory status, is unknown)."""
    cat = getattr(r, "categorie_cucs", None)
    veille = getattr(r, "veille", None)
    veille = bool(veille) if not text.manquant(veille) else False
    signataire = getattr(r, "signataire", True)
    if not text.manquant(signataire) and not bool(signataire):
        return "hors_cucs_veille" if veille else "hors_cucs"
    if not text.manquant(cat) and str(cat).strip().lower() == geography.CATEGORIE_INCONNUE:
        return "inconnu"
    if not text.manquant(cat):
        return str(cat).split(".")[0]
    if text.manquant(signataire):
        return "inconnu"
    return "veille" if veille else "hors_liste"


def _motif_part(r) -> str | None:
    if not text.manquant(r.part):
        return None
    if bool(r.secret):
        return motifs.SECRET
    if r.n_quartiers == 0:
        return motifs.NON_CALCULABLE
    return motifs.DONNEE_ABSENTE


def annees_indicateurs(territoire, indicateurs, demandee: int | None = None) -> dict[str, int]:
    """indicator → the year it is read at for this commune: the latest year one of its quartiers
    holds (else the latest its commune holds); indicators the data lack are left out."""
    codes = list(territoire.quartiers["code_quartier"])
    out = {}
    for i in indicateurs:
        y = geography.year_for(territoire.indicateurs, i, "quartier", demandee, codes)
        if y is None:
            y = geography.year_for(territoire.indicateurs, i, "commune", demandee, [territoire.code_commune])
        if y is not None:
            out[i] = y
    return out


def scales_table(
    territoire,
    annee: int | dict[str, int],
    indicateurs: tuple[str, ...] = INDICATEURS_ECHELLES,
    *,
    seuil: int = privacy.DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """Each indicator for the commune's quartiers and every upper level, at its year (`annee`:
    one year, or indicator → year); quartiers carry their gap to the commune with the
    Wilson-interval flag (none where the commune has no value). A value counting fewer than
    `seuil` people (a population, or a rate's numerator or denominator) is secret whatever the
    input's own flag says, and its value and gap are not kept."""
    ind = territoire.indicateurs
    annees = annee if isinstance(annee, dict) else dict.fromkeys(indicateurs, annee)
    annees = {i: y for i, y in annees.items() if i in indicateurs and y is not None}
    ind = ind[ind["indicateur"].isin(list(annees)) & (ind["annee"] == ind["indicateur"].map(annees))].copy()
    petit = pd.Series(False, index=ind.index)
    for col in ("numerateur", "denominateur"):
        if col in ind:
            petit |= privacy.primary_mask(ind[col].astype(float), seuil).fillna(False).astype(bool)
    pop = ind["indicateur"] == "population"
    petit |= pop & privacy.primary_mask(ind["valeur"].astype(float), seuil).fillna(False).astype(bool)
    ind["secret"] = ind["secret"].fillna(False).astype(bool) | petit if "secret" in ind else petit
    for col in ("valeur", "numerateur", "denominateur"):
        if col in ind:
            ind[col] = ind[col].where(~ind["secret"])
    commune = territoire.commune
    codes = {
        "quartier": list(territoire.quartiers["code_quartier"]),
        "commune": [commune["code_commune"]],
        "epci": [commune.get("code_epci")],
        "departement": [commune.get("code_departement")],
        "region": [commune.get("code_region")],
    }
    keep = pd.Series(False, index=ind.index)
    for niveau, cs in codes.items():
        keep |= (ind["niveau"] == niveau) & ind["code_territoire"].isin(cs)
    rows = ind[keep]
    ref = rows[rows["niveau"] == "commune"]
    quart = rows[rows["niveau"] == "quartier"]
    compared = trends.compare_to_reference(
        quart, ref, on=("indicateur", "annee"), catalogue=territoire.catalogue
    )
    cols = ["niveau", "code_territoire", "indicateur", "annee", "valeur", "secret"]
    out = rows[cols].merge(
        compared[
            ["code_territoire", "indicateur", "ecart", "comparaison", "appreciation", "ic_bas", "ic_haut"]
        ],
        on=["code_territoire", "indicateur"],
        how="left",
    )
    order = {n: i for i, n in enumerate(NIVEAUX_LIBELLES)}
    return out.sort_values(
        ["indicateur", "niveau", "code_territoire"], key=lambda s: s.map(order) if s.name == "niveau" else s
    ).reset_index(drop=True)


def _bilans_par_cible(actions: pd.DataFrame, bilans: pd.DataFrame) -> pd.DataFrame:
    """Per target (a quartier code, or "" for commune-wide action-years): achievement on one
    base (`funding.realisation`) and the number of coded bilans statements per category."""
    if actions.empty:
        return pd.DataFrame(columns=["cible", *funding.REALISATION_COLUMNS])
    a = actions.assign(cible=actions["code_quartier"].fillna(""))
    out = funding.realisation(a, by=["cible"])
    if bilans is not None and not bilans.empty:
        b = bilans.merge(a[["id_action", "annee", "cible"]], on=["id_action", "annee"], how="inner")
        counts = b.pivot_table(index="cible", columns="categorie", values="id_bilan", aggfunc="count")
        counts = counts.reindex(columns=list(CATEGORIES_BILANS)).fillna(0).astype("int64")
        counts.columns = [f"bilans_{CATEGORIES_BILANS[c]}" for c in counts.columns]
        out = out.merge(counts, left_on="cible", right_index=True, how="left")
    for c in CATEGORIES_BILANS.values():
        col = f"bilans_{c}"
        out[col] = out[col].fillna(0).astype("int64") if col in out else 0
    return out


def _secret_bilans(b: pd.DataFrame, seuil: int) -> pd.DataFrame:
    """Which counts of the bilans table secrecy hides: beneficiaries (people) and coded statements
    (reports). Their column totals are printed in the findings, so secondary secrecy runs down
    each column; the achievement rate is hidden with its base."""
    cols = ["prevus_realisees", "realises", *(f"bilans_{c}" for c in CATEGORIES_BILANS.values())]
    if b.empty or not set(cols) <= set(b.columns):
        return pd.DataFrame(False, index=b.index, columns=list(b.columns))
    mask = privacy.apply_secrecy(b[cols].astype(float), cols, seuil, margins="columns").mask
    out = pd.DataFrame(False, index=b.index, columns=list(b.columns))
    out[cols] = mask[cols].to_numpy()
    out["taux_realisation"] = out["prevus_realisees"] | out["realises"]
    return out


#: Categories of the coded bilans statements (data value → column suffix).
CATEGORIES_BILANS = {
    "réussite": "reussite",
    "difficulté": "difficulte",
    "écart expliqué": "ecart_explique",
    "blocage": "blocage",
}


def build(territoire, region, params) -> RapportQ3:
    """The q3 report of one commune; `region` is the region stage (eligibility, typology)."""
    code = territoire.code_commune
    nom = str(territoire.commune.get("nom", code))
    elig = region.quartiers_de(code)
    if "signataire" not in elig:  # a region stage of an older library
        elig = elig.assign(signataire=territoire.signataire)
    for regle in REGLES:  # a region stage of an older library: no input named as missing
        m = f"manque_{regle.removeprefix('regle_')}"
        if m not in elig:
            elig = elig.assign(**{m: ""})
    elig = elig.assign(dans_cucs=geography.in_cucs(elig["categorie_cucs"]))
    national = region.revenu_median_national
    commune = territoire.commune
    seuil = None
    uu_med, uu_pop = commune.get("revenu_median_uu"), commune.get("population_unite_urbaine")
    # No threshold from an unknown or implausible input (a median income of 0, no national median).
    if (
        geography.plausible_median(national)
        and geography.plausible_median(uu_med)
        and not text.manquant(uu_pop)
    ):
        seuil = float(geography.qpv2014_threshold(national, uu_med, uu_pop))
    entrees = geography.entries_exits(
        elig.set_index("code_quartier")[list(REGLES)], elig.set_index("code_quartier")["dans_cucs"]
    )
    transitions = geography.list_transitions(pd.DataFrame(territoire.quartiers))
    annee = latest_quartier_year(territoire.indicateurs, params.periode.fin)
    annees_echelles = annees_indicateurs(territoire, (*INDICATEURS_ECHELLES, *PERSONNES))
    # The year of the unemployment sentences and key figure: unemployment's own, else the latest
    # year of an indicator shown at every scale (never a year that holds none of them).
    montres = [annees_echelles[i] for i in INDICATEURS_ECHELLES if i in annees_echelles]
    if "taux_chomage" in annees_echelles:
        annee = annees_echelles["taux_chomage"]
    elif montres:
        annee = max(montres)
    echelles = scales_table(territoire, annees_echelles, seuil=int(params.seuil_secret))
    typo = _avec_effectif(labels.typologie_decrite(region.typologie))
    if typo is not None and not elig.empty:
        classes = elig[["code_quartier", "nom"]].assign(classe=elig["code_quartier"].map(typo.classes))
        classes = classes.dropna(subset=["classe"]).astype({"classe": "int64"})
        classes["description"] = classes["classe"].map(typo.descriptions)
    else:
        classes = pd.DataFrame(columns=["code_quartier", "nom", "classe", "description"])

    # Secret cells among the values the rules use (other secret cells are named elsewhere).
    motifs_regles = elig[[f"motif_{r.removeprefix('regle_')}" for r in REGLES]] if not elig.empty else None
    secrets = int((motifs_regles == motifs.SECRET).any(axis=1).sum()) if motifs_regles is not None else 0

    # The scale of the quartier: priority quartiers (or, outside the CUCS, the quartiers observed).
    signataire = territoire.signataire
    signataire = None if text.manquant(signataire) else bool(signataire)
    # The priority quartiers; outside the CUCS, or where the CUCS list is unknown (a category
    # "inconnu"), every quartier of the commune in the data (real QPV files hold only QPV).
    dans = elig["dans_cucs"].astype("boolean")
    if signataire is False or dans.isna().any():
        codes = list(elig["code_quartier"])
    else:
        codes = list(elig.loc[dans.fillna(False).astype(bool), "code_quartier"])
    parts_rep = [
        geography.share_in_quartiers(
            territoire.indicateurs, code, codes, annees_echelles.get(i, annee), {i: col}
        )
        for i, col in geography.NUMERATEURS_PERSONNES.items()
        if i in annees_echelles
    ]
    repartition = (
        pd.concat(parts_rep, ignore_index=True)
        if parts_rep
        else geography.share_in_quartiers(territoire.indicateurs, code, codes, annee)
    )
    actions, fin = territoire.actions, territoire.financements
    ciblage = geography.credits_by_targeting(actions, fin)
    par_quartier = geography.credits_by_quartier(actions, fin)
    if not elig.empty:
        pop = elig[["code_quartier", "nom"]].assign(categorie=[_categorie(r) for r in elig.itertuples()])
        pop["population_annee"] = pop["code_quartier"].map(
            _population(territoire.indicateurs, annees_echelles.get("population", annee))
        )
        par_quartier = pop.merge(par_quartier, on="code_quartier", how="left").fillna(
            {"actions": 0, "actions_annees": 0, "credits_specifiques": 0.0, "credits_total": 0.0}
        )
        par_quartier["credits_specifiques_hab"] = (
            par_quartier["credits_specifiques"] / par_quartier["population_annee"]
        )
    seuil_secret = int(params.seuil_secret)
    # Counts of people through secrecy, whatever the input's flag: a quartier's population and
    # what is divided by it; the people of the commune living in the quartiers and their share.
    if "population_annee" in par_quartier:
        st = privacy.hide_small_bases(
            par_quartier, {"population_annee": ["credits_specifiques_hab"]}, seuil_secret
        )
        par_quartier = st.values.assign(population_annee_secret=st.mask["population_annee"].to_numpy())
    if not repartition.empty:
        st = privacy.hide_small_bases(
            repartition, {"personnes_quartiers": ["part"], "personnes_commune": ["part"]}, seuil_secret
        )
        repartition = st.values.assign(
            secret=repartition["secret"].fillna(False).astype(bool).to_numpy()
            | st.mask[["personnes_quartiers", "personnes_commune"]].any(axis=1).to_numpy()
        )
    bilans = _bilans_par_cible(actions, territoire.bilans)
    bilans_secret = _secret_bilans(bilans, seuil_secret)
    jeunesse = geography.credits_youth(actions, fin)
    jeunes_part = geography.pooled_gap_periods(
        territoire.indicateurs,
        codes,
        code,
        ["part_moins_25_ans"],
        annee_debut_cucs=params.annee_debut_cucs,
        debut=params.periode.debut,
        fin=params.periode.fin,
    )
    ecarts = geography.pooled_gap_periods(
        territoire.indicateurs,
        codes,
        code,
        list(ENTREES),
        annee_debut_cucs=params.annee_debut_cucs,
        debut=params.periode.debut,
        fin=params.periode.fin,
        echelles=_echelles(territoire.catalogue),
    )
    domaines = geography.credits_by_domain(actions, fin).set_index("thematique")
    if not ecarts.empty:
        # Gaps as the reader recomputes them from the values shown (one decimal).
        for periode in ("avant", "pendant"):
            ecarts[f"ecart_{periode}"] = [
                text.difference_affichee(c, q)
                for c, q in zip(
                    ecarts[f"valeur_commune_{periode}"], ecarts[f"valeur_quartiers_{periode}"], strict=True
                )
            ]
        ecarts[["ecart_avant", "ecart_pendant"]] = ecarts[["ecart_avant", "ecart_pendant"]].astype(float)
        ecarts["variation_ecart"] = [
            text.difference_affichee(a, b)
            for a, b in zip(ecarts["ecart_avant"], ecarts["ecart_pendant"], strict=True)
        ]
        ecarts["variation_ecart"] = ecarts["variation_ecart"].astype(float)
        ecarts["domaine"] = ecarts["indicateur"].map(ENTREES)
        ecarts["part_credits_domaine"] = ecarts["domaine"].map(domaines["part_credits_specifiques"])
        sens = _sens(territoire.catalogue)
        signe = ecarts["indicateur"].map(lambda i: -1.0 if sens.get(i) == "hausse_amelioration" else 1.0)
        ecarts["ecart_defavorable_pendant"] = signe * ecarts["ecart_pendant"]
        ecarts["creusement"] = signe * ecarts["variation_ecart"]
        ecarts = ecarts.sort_values(["creusement", "ecart_defavorable_pendant"], ascending=False).reset_index(
            drop=True
        )

    rapport = RapportQ3(
        code_commune=code,
        nom_commune=nom,
        annee=annee,
        seuil_qpv2014=seuil,
        revenu_median_national=national,
        eligibilite=elig,
        eligibilite_region=region.eligibilite,
        entrees_sorties=entrees,
        transitions=transitions,
        echelles=echelles,
        typologie=typo,
        classes_commune=classes,
        secrets=secrets,
        catalogue=territoire.catalogue,
        signataire=signataire,
        motif=motifs.HORS_CUCS if signataire is False else None,
        annee_revenus=_annee_utilisee(region, "revenu_median_uc", params.qpv2014.annee_revenus),
        annee_zus=int(params.zus.annee),
        annees_echelles=annees_echelles,
        annees_eligibilite=dict(getattr(region, "annees_eligibilite", {}) or {}),
        typologie_entrees=dict(getattr(region, "typologie_entrees", {}) or {}),
        partages=_partages(territoire, region, elig),
        parametres={
            "population_min_quartier": params.qpv2014.population_min_quartier,
            "population_min_uu": params.qpv2014.population_min_uu,
            "zus_quantile": params.zus.seuil_quantile,
            "dynamique_debut": params.dynamique.annee_debut,
            "dynamique_fin": params.dynamique.annee_fin,
            "dynamique_seuil": params.dynamique.seuil_points,
            "dynamique_indicateur": params.dynamique.indicateur,
            "dynamique_n_annees": _n_annees(territoire.indicateurs, params.dynamique.indicateur),
            "annee_debut_cucs": params.annee_debut_cucs,
            "debut": params.periode.debut,
            "fin": params.periode.fin,
        },
        repartition=repartition,
        ciblage=ciblage,
        credits_quartiers=par_quartier,
        bilans=bilans,
        bilans_secret=bilans_secret,
        seuil_secret=seuil_secret,
        jeunesse=jeunesse,
        entrees=ecarts,
        part_jeunes=jeunes_part,
        annees_actions=None if actions.empty else (int(actions["annee"].min()), int(actions["annee"].max())),
        annees_attribuees=annees_import(getattr(territoire, "metadata", None)),
    )
    _narrate(rapport, territoire, params)
    return rapport


def description_moyenne(description: str, n: int) -> str:
    """« … nettement en dessous de la moyenne des 105 quartiers étudiés. »: the mean is the one
    of the set the typology is computed on, not the commune's (its last mention names it)."""
    if "de la moyenne des quartiers étudiés" in description:
        return description.replace(
            "de la moyenne des quartiers étudiés", f"de la moyenne des {n} quartiers étudiés"
        )
    avant, sep, apres = description.rpartition("de la moyenne")
    return f"{avant}de la moyenne des {n} quartiers étudiés{apres}" if sep else description


def _avec_effectif(typo):
    """The typology whose descriptions name how many quartiers its mean is taken on."""
    if typo is None or not getattr(typo, "descriptions", None):
        return typo
    n = int(pd.Series(typo.classes).notna().sum())
    return dataclasses.replace(
        typo, descriptions={c: description_moyenne(d, n) for c, d in typo.descriptions.items()}
    )


def _n_annees(indicateurs: pd.DataFrame, indicateur: str) -> int:
    """How many years of `indicateur` the quartiers have (1: a cross-section, no series)."""
    if indicateurs is None or indicateurs.empty:
        return 0
    d = indicateurs[(indicateurs["niveau"] == "quartier") & (indicateurs["indicateur"] == indicateur)]
    return int(d["annee"].dropna().nunique())


def annees_import(metadata) -> dict[str, int]:
    """The reference years the INSEE QPV importer attributed (family → year; the families set
    by an explicit option are facts given by the user, not assumptions)."""
    imp = getattr(metadata, "import_", None) or {}
    qpv = imp.get("insee_qpv") if isinstance(imp, dict) else None
    if not isinstance(qpv, dict) or not isinstance(qpv.get("annees_familles"), dict):
        return {}
    fixees = set(qpv.get("annees_fixees_par_option") or [])
    out = {}
    for famille, annee in qpv["annees_familles"].items():
        try:
            if famille not in fixees:
                out[str(famille)] = int(annee)
        except (TypeError, ValueError):
            continue
    return out


#: How q3 names the INSEE families whose years it prints.
FAMILLES_Q3 = {"demographie": "population", "revenus": "revenus"}
#: Said once, next to the years: they are assumptions of the import, not facts of the file.
MENTION_ANNEES_IMPORT = "années de référence attribuées à l'import (le fichier INSEE n'en donne pas)"


def phrase_annees_import(r: RapportQ3) -> str | None:
    """« Population 2015, revenus 2017 : années de référence attribuées à l'import (…). »"""
    vues = [f"{nom} {r.annees_attribuees[f]}" for f, nom in FAMILLES_Q3.items() if f in r.annees_attribuees]
    if not vues:
        return None
    return f"{labels.majuscule(text.liste_fr(vues))} : {MENTION_ANNEES_IMPORT}."


def _annee_utilisee(region, indicateur: str, defaut: int) -> int | None:
    """The year the region stage read an input of the rules at (the parameter's year when the
    data hold it, else the latest); the parameter's year for an older region stage."""
    a = (getattr(region, "annees_eligibilite", {}) or {}).get(indicateur)
    if not a:
        return int(defaut)
    return a.get("utilisee")


def _partages(territoire, region, elig: pd.DataFrame) -> dict[str, list[str]]:
    """code_quartier → names of the other communes a quartier covers (a multi-commune QPV):
    from the link table `quartiers_communes` (the region stage's, which carries the names, else
    the territory's)."""
    qc = getattr(region, "quartiers_communes", None)
    if qc is None or getattr(qc, "empty", True):
        qc = getattr(territoire, "quartiers_communes", None)
    if qc is None or getattr(qc, "empty", True) or elig.empty:
        return {}
    qc = qc[qc["code_quartier"].isin(elig["code_quartier"])]
    autres = qc[qc["code_commune"] != territoire.code_commune]
    nom = autres["nom_commune"] if "nom_commune" in autres else autres["code_commune"]
    autres = autres.assign(_nom=nom.fillna(autres["code_commune"]).astype(str))
    return {q: sorted(g["_nom"]) for q, g in autres.groupby("code_quartier")}


def _population(indicateurs: pd.DataFrame, annee: int) -> pd.Series:
    rows = indicateurs[
        (indicateurs["niveau"] == "quartier")
        & (indicateurs["indicateur"] == "population")
        & (indicateurs["annee"] == annee)
    ]
    return rows.drop_duplicates("code_territoire").set_index("code_territoire")["valeur"]


def _echelles(catalogue: pd.DataFrame) -> dict[str, float]:
    """Scale of each rate of the catalogue: 1 000 for a per-mille indicator, else 100."""
    if catalogue is None or catalogue.empty:
        return {}
    return {
        i: 1000.0 if str(u).strip() == "‰" else 100.0
        for i, u in zip(catalogue["indicateur"], catalogue["unite"], strict=True)
    }


def _sens(catalogue: pd.DataFrame) -> dict[str, str]:
    if catalogue is None or catalogue.empty or "sens" not in catalogue:
        return {}
    return dict(zip(catalogue["indicateur"], catalogue["sens"], strict=False))


def _noms(df: pd.DataFrame, mask: pd.Series) -> str:
    return text.liste_fr(df.loc[mask, "nom"].tolist())


def _libelle(r: RapportQ3, indicateur: str) -> str:
    cat = r.catalogue.set_index("indicateur") if not r.catalogue.empty else pd.DataFrame()
    if "libelle" in cat and indicateur in cat.index:
        return str(cat.loc[indicateur, "libelle"])
    return indicateur


def _unite(r: RapportQ3, indicateur: str) -> str | None:
    cat = r.catalogue.set_index("indicateur") if not r.catalogue.empty else pd.DataFrame()
    if "unite" in cat and indicateur in cat.index:
        return str(cat.loc[indicateur, "unite"])
    return None


def _ecart(r: RapportQ3, indicateur: str, x: float) -> str:
    """A gap in the indicator's unit: points for a percentage, the unit otherwise."""
    u = _unite(r, indicateur)
    if u == "%":
        return text.points(x)
    return f"{text.nombre(x, 1, signe=True)} {u}" if u else text.nombre(x, 1, signe=True)


def _valeur(r: RapportQ3, indicateur: str, x: float) -> str:
    return text.valeur_unite(x, _unite(r, indicateur))


# --- reasons of each verdict, in French -----------------------------------------------------


def libelle_manque(r: RapportQ3, code: str) -> str:
    """Why a rule is n.d., in French, from a code of `reports.region` (MANQUE_*) or an
    indicator code."""
    p = r.parametres
    if code == region_stage.MANQUE_MEDIANE_NATIONALE:
        # the technical hint (file, parameter) is on the « Sources et méthode » section only
        return "la médiane nationale des revenus n'est pas fournie (voir la page Méthode)"
    if code == region_stage.MANQUE_MEDIANE_UU:
        return "revenu médian de l'unité urbaine inconnu"
    if code == region_stage.MANQUE_POPULATION_UU:
        return "population de l'unité urbaine inconnue"
    if code == region_stage.MANQUE_VALEUR_COMMUNE:
        return (
            f"la commune n'a pas de valeur de {_libelle_entree(r, p.get('dynamique_indicateur', ''))} "
            f"sur {_periode_dynamique(p, False)} et {_periode_dynamique(p, True)}"
        )
    if code == region_stage.MANQUE_PERIODES:
        return (
            f"le quartier n'a pas de valeur de {_libelle_entree(r, p.get('dynamique_indicateur', ''))} "
            f"sur {_periode_dynamique(p, False)} et {_periode_dynamique(p, True)}"
        )
    dynamiques = (region_stage.MANQUE_AVANT, region_stage.MANQUE_PERIODES, region_stage.MANQUE_VALEUR_COMMUNE)
    if code in dynamiques and p.get("dynamique_n_annees", 2) == 1:
        # one cross-section (the INSEE QPV file): there is no series to compare periods on
        return (
            f"une seule année de {_libelle_entree(r, p.get('dynamique_indicateur', ''))} dans les données : "
            "pas de série"
        )
    if code == region_stage.MANQUE_AVANT:
        return (
            f"la règle compare la période avant le contrat à la période pendant, et ses années "
            f"({text.annee_periode(p.get('dynamique_debut'), p.get('dynamique_fin'))}) n'en comptent "
            f"aucune avant {p.get('annee_debut_cucs')}"
        )
    if code == "potentiel_fiscal_hab":
        return "potentiel fiscal par habitant de la commune absent des données"
    return f"{_libelle_entree(r, code)} absent des données"


#: Names of the rules' inputs when the catalogue lacks them (a data set without these indicators).
LIBELLES_ENTREES = {
    "taux_chomage": "taux de chômage",
    "part_moins_25_ans": "part des moins de 25 ans",
    "part_sans_diplome": "part des sans-diplôme",
    "revenu_median_uc": "revenu médian par unité de consommation",
    "population": "population",
    "part_familles_monoparentales": "part des familles monoparentales",
}


def _libelle_entree(r: RapportQ3, code: str) -> str:
    lib = _libelle(r, code)
    return text.minuscule_initiale(LIBELLES_ENTREES.get(code, lib) if lib == code else lib)


def raison_nd(r: RapportQ3, row, suffixe: str) -> str:
    """« secret statistique », or « données non disponibles (<what is missing>) »."""
    motif = getattr(row, f"motif_{suffixe}", None)
    if motif == motifs.SECRET:
        return labels.MOTIF_LIBELLES[motifs.SECRET]
    codes = [c for c in str(getattr(row, f"manque_{suffixe}", "") or "").split(geography.SEP_RAISONS) if c]
    base = labels.MOTIF_LIBELLES.get(motif, "non calculable")
    autres = {
        region_stage.MANQUE_AVANT,
        region_stage.MANQUE_MEDIANE_NATIONALE,
        region_stage.MANQUE_MEDIANE_UU,
        region_stage.MANQUE_POPULATION_UU,
        region_stage.MANQUE_VALEUR_COMMUNE,
        region_stage.MANQUE_PERIODES,
    }
    absents = [
        _libelle_entree(r, c) if c != "potentiel_fiscal_hab" else "potentiel fiscal par habitant"
        for c in codes
        if c not in autres
    ]
    parts = [libelle_manque(r, c) for c in codes if c in autres]
    if absents:
        parts.insert(0, f"absent{'s' if len(absents) > 1 else ''} des données : {text.liste_fr(absents)}")
    return f"{base} — {' ; '.join(parts)}" if parts else base


def raisons_libelles(r: RapportQ3, row) -> dict[str, str]:
    """One French cell per rule for a quartier: « oui », « non : <why> » or « n.d. : <why> »."""
    p = r.parametres
    out = {}
    for regle in REGLES:
        suffixe = regle.removeprefix("regle_")
        v = getattr(row, regle)
        if v is pd.NA or text.manquant(v):
            out[regle] = f"n.d. : {raison_nd(r, row, suffixe)}"
            obs = observation_taille(r, row) if regle == "regle_qpv2014" else None
            if obs:
                out[regle] += f" ; observation : {obs}"
            continue
        if bool(v):
            out[regle] = "oui"
            continue
        parts = []
        for code in str(getattr(row, f"raisons_{suffixe}")).split(geography.SEP_RAISONS):
            if code == geography.REVENU_AU_DESSUS:
                parts.append(
                    f"revenu médian {r.annee_revenus} de {text.euros(row.revenu_median_uc)}, "
                    f"au-dessus du seuil de {text.euros(row.seuil_qpv2014)}"
                )
            elif code == geography.TAILLE_QUARTIER:
                parts.append(
                    f"moins de {text.nombre(p.get('population_min_quartier'))} habitants en "
                    f"{_annee_entree(r, 'population', r.annee_revenus)}"
                    if privacy.is_small(row.population, r.seuil_secret)
                    else f"{text.pluriel(row.population, 'habitant')} en "
                    f"{_annee_entree(r, 'population', r.annee_revenus)}, moins de "
                    f"{text.nombre(p.get('population_min_quartier'))}"
                )
            elif code == geography.TAILLE_UU:
                parts.append(
                    f"unité urbaine de moins de {text.nombre(p.get('population_min_uu'))} habitants"
                    if privacy.is_small(row.population_unite_urbaine, r.seuil_secret)
                    else f"unité urbaine de {text.pluriel(row.population_unite_urbaine, 'habitant')}, moins de "
                    f"{text.nombre(p.get('population_min_uu'))}"
                )
            elif code == geography.INDICE_SOUS_SEUIL:
                parts.append(
                    f"indice {r.annee_zus} sous le seuil (quantile {text.nombre_exact(p.get('zus_quantile'))} "
                    "des quartiers de la région)"
                )
            elif code == geography.ECART_NON_CREUSE:
                parts.append(
                    f"écart moyen à la commune de {text.points(row.ecart_debut)} en {_periode_dynamique(p, False)} "
                    f"et de {text.points(row.ecart_fin)} en {_periode_dynamique(p, True)}, soit "
                    f"{text.points(text.difference_affichee(row.ecart_debut, row.ecart_fin))}, sous le seuil de "
                    f"{text.points(p.get('dynamique_seuil'))}"
                )
        out[regle] = "non : " + " ; ".join(parts) if parts else "non"
    return out


def observation_taille(r: RapportQ3, row, seuil_nd: bool = True) -> str | None:
    """A failed size condition of an n.d. income rule, said as an observation, not a verdict:
    « 994 habitants (2015), sous le seuil de 1 000 ; seuil de revenu n.d. »."""
    obs = str(getattr(row, "observations_qpv2014", "") or "").split(geography.SEP_RAISONS)
    if geography.TAILLE_QUARTIER not in obs:
        return None
    p = r.parametres
    an = _annee_entree(r, "population", r.annee_revenus)
    mini = text.nombre(p.get("population_min_quartier"))
    combien = (
        f"moins de {mini} habitants ({an})"
        if privacy.is_small(row.population, r.seuil_secret)
        else f"{text.pluriel(row.population, 'habitant')} ({an}), sous le seuil de {mini}"
    )
    nd = seuil_nd and text.manquant(getattr(row, "seuil_qpv2014", None))
    seuil = " ; seuil de revenu n.d." if nd else ""
    return combien + seuil


def _periode_dynamique(p: dict, pendant: bool) -> str:
    """The period of the « dynamique » rule: before the contract, or during it (« aucune année
    avant 2015 » when the rule's years start with the contract)."""
    if pendant:
        return text.annee_periode(p.get("annee_debut_cucs"), p.get("dynamique_fin"))
    if p.get("dynamique_debut") > p.get("annee_debut_cucs") - 1:
        return f"aucune année avant {p.get('annee_debut_cucs')}"
    return text.annee_periode(p.get("dynamique_debut"), p.get("annee_debut_cucs") - 1)


def _periodes_dynamique(p: dict) -> str:
    """The two periods of the « dynamique » rule for a header: « de 2009-2014 à 2015-2023 », or
    « une seule année dans les données : pas de série » on a cross-section."""
    if p.get("dynamique_n_annees", 2) == 1:
        return "une seule année dans les données : pas de série"
    return f"de {_periode_dynamique(p, False)} à {_periode_dynamique(p, True)}"


def _valeurs_regle(r: RapportQ3, regle: str) -> tuple[str, ...]:
    """The quartier values a rule uses (the « dynamique » rule: the indicator of its parameter)."""
    if regle == "regle_dynamique":
        return (r.parametres.get("dynamique_indicateur") or "taux_chomage",)
    return VALEURS_REGLES[regle]


def _phrase_eligibles(
    n: int, total: int, quoi: str, quois: str, verbe: tuple[str, str], complement: str
) -> str:
    """« aucun des 4 quartiers prioritaires ne resterait éligible … », « 1 quartier prioritaire
    sur 4 resterait éligible … », « 3 quartiers prioritaires sur 4 resteraient éligibles … »."""
    compte = text.parmi(n, total, quoi, quois)
    if n == 0:
        return f"{compte} ne {verbe[0]} éligible {complement}"
    if n < 2:
        return f"{compte} {verbe[0]} éligible {complement}"
    return f"{compte} {verbe[1]} éligibles {complement}"


def _narrate(r: RapportQ3, territoire, params) -> None:
    """French findings, caveats and questions for the debate, from the computed tables."""
    elig = r.eligibilite
    n = len(elig)
    r.phrases = {
        k: [] for k in ("echelle", "eligibilite", "entrees_sorties", "bilans", "jeunesse", "entrees")
    }
    if r.signataire is False:
        r.constats.append(labels.phrase_hors_cucs(r.nom_commune, "le programme d'actions du CUCS"))
        r.constats.append(
            "La question de la géographie prioritaire se pose pourtant pour elle : l'atelier la posait « aussi bien "
            "pour les communes en CUCS, que celles qui pourraient y rentrer ». Les règles ci-dessous disent lesquels "
            "de ses quartiers pourraient y entrer."
        )
    if n == 0:
        r.constats.append(
            f"{r.nom_commune} ne compte aucun quartier prioritaire ou observé dans les données : "
            "seules les comparaisons régionales sont présentées."
        )
    else:
        _narrate_regles(r, params)
    _narrate_echelle(r)
    _narrate_bilans(r, territoire)
    _narrate_jeunesse(r)
    _narrate_entrees(r)
    if n:
        chom = r.echelles[(r.echelles["indicateur"] == "taux_chomage") & (r.echelles["niveau"] == "quartier")]
        # A quartier without a gap (no commune value, a secret cell) is not "not higher".
        chom = chom[chom["comparaison"].notna()] if "comparaison" in chom else chom.iloc[0:0]
        plus = chom[chom["comparaison"] == "plus élevé"]
        if len(chom) == 1:
            nom = _noms(elig, elig["code_quartier"].isin(chom["code_territoire"]))
            r.constats.append(
                f"En {r.annee}, le taux de chômage du quartier {nom} "
                + ("est" if len(plus) else "n'est pas")
                + " significativement plus élevé que celui de la commune."
            )
        elif not chom.empty:
            compte = text.parmi(len(plus), len(chom), "quartier")
            verbe = "n'a" if len(plus) == 0 else ("a" if len(plus) < 2 else "ont")
            r.constats.append(
                f"En {r.annee}, {compte} {verbe} un taux de chômage significativement plus élevé "
                f"que celui de la commune."
            )
        phrase_typo = phrase_typologie(r)
        if phrase_typo:
            r.constats.append(phrase_typo)
        if not r.classes_commune.empty:
            for c, grp in r.classes_commune.groupby("classe"):
                r.constats.append(
                    f"Classe {c} de la typologie régionale ({text.liste_fr(grp['nom'].tolist())}) : "
                    f"{text.minuscule_initiale(grp['description'].iloc[0])}"
                )
        dyn = elig[elig["regle_dynamique"].fillna(False).astype(bool)]
        if not dyn.empty:
            r.debat.append(
                f"L'écart avec la commune s'est creusé d'au moins {text.nombre(params.dynamique.seuil_points, 1)} "
                f"points entre {params.dynamique.annee_debut} et {params.dynamique.annee_fin} "
                f"{'dans le quartier' if len(dyn) == 1 else 'dans les quartiers'} "
                f"{text.liste_fr(dyn['nom'].tolist())} : quels processus de dégradation l'expliquent, "
                "et l'intervention doit-elle changer d'échelle ?"
            )
        sortants = elig["dans_cucs"] & elig["regle_qpv2014"].eq(False).fillna(False).astype(bool)
        if sortants.any():
            un = sortants.sum() == 1
            sort = "s'il sort" if un else "s'ils sortent"
            r.debat.append(
                f"Que deviennent les actions conduites {'dans le quartier' if un else 'dans les quartiers'} "
                f"{_noms(elig, sortants)} {sort} de la "
                "géographie prioritaire (veille active, droit commun renforcé) ?"
            )
    r.debat.append(
        "Les critères quantitatifs suffisent-ils ? Le groupe de l'État demandait de les croiser avec la "
        "compréhension des dysfonctionnements : quels éléments qualitatifs faut-il réunir ?"
    )
    r.debat.append(
        "Quelle part de l'intervention relève du quartier, de la commune ou de l'agglomération "
        "(jeunesse, emploi, mobilité), et qui en porte les moyens ?"
    )
    _phrases_par_defaut(r)
    _reserves(r, territoire, params)
    _chiffres_cles(r)
    _verdict(r)


def notes_echelles(r: RapportQ3) -> list[str]:
    """What the scales table cannot show, said under it: no value above the quartiers (the
    INSEE QPV file), rates published without counts (no confidence interval)."""
    e = r.echelles
    if e.empty:
        return []
    notes = []
    if not (e["niveau"] != "quartier").any():
        notes.append(
            "Les valeurs de la commune, de l'EPCI, du département et de la région ne sont pas dans les données "
            "(le fichier INSEE des quartiers prioritaires n'en donne pas) : le tableau montre les quartiers seuls, "
            "sans écart à la commune."
        )
    taux = e[(e["niveau"] == "quartier") & e["indicateur"].astype(str).str.startswith(("taux_", "part_"))]
    # a rate with a numerator and a denominator gets its interval; none anywhere: no counts
    if not taux.empty and ("ic_bas" not in taux or taux["ic_bas"].isna().all()):
        notes.append("Taux publiés par l'INSEE sans effectifs : pas d'intervalle de confiance.")
    return notes


def phrase_typologie(r: RapportQ3) -> str | None:
    """Which indicators the regional typology uses (each with its year) and which it leaves
    out, and why; or why there is no typology. None for a region stage of an older library."""
    e = r.typologie_entrees
    if not e:
        return None
    retenus = e.get("retenus", {})
    ecartes = e.get("ecartes", {})

    def nom(i: str) -> str:
        return _libelle_entree(r, i)

    parts = []
    absents = [nom(i) for i, v in ecartes.items() if v.get("motif") == "absent"]
    rares = [
        f"{nom(i)} (connu pour {text.parmi(v.get('n', 0), v.get('total', 0), 'quartier')})"
        for i, v in ecartes.items()
        if v.get("motif") == "couverture"
    ]
    if absents:
        parts.append(
            f"{text.liste_fr(absents)} {'est absent' if len(absents) == 1 else 'sont absents'} des données"
        )
    if rares:
        parts.append(
            f"{text.liste_fr(rares)} {'est trop peu renseigné' if len(rares) == 1 else 'sont trop peu renseignés'}"
        )
    ecart = f" ; {' ; '.join(parts)}" if parts else ""
    if r.typologie is None:
        if len(retenus) < 2:
            return (
                "Typologie régionale : n.d. — il faut au moins deux indicateurs disponibles pour les quartiers, "
                f"{'un seul l’est' if len(retenus) == 1 else 'aucun ne l’est'}" + ecart + "."
            )
        return (
            "Typologie régionale : n.d. — moins de deux quartiers ont une valeur pour chaque indicateur"
            + ecart
            + "."
        )
    if len(set(retenus.values())) == 1:  # one year for all: said once
        utilises = f"{text.liste_fr(nom(i) for i in retenus)} ({next(iter(retenus.values()))})"
    else:
        utilises = text.liste_fr(f"{nom(i)} ({y})" for i, y in retenus.items())
    return f"La typologie régionale classe les quartiers selon {utilises}{ecart}."


def _phrases_par_defaut(r: RapportQ3) -> None:
    """A section whose findings list is empty still says what its table shows (never a bare
    « données non disponibles » for a section that has data)."""
    n = len(r.eligibilite)
    if n == 0:
        for k in ("eligibilite", "entrees_sorties"):
            if not r.phrases[k]:
                r.phrases[k].append(
                    f"{r.nom_commune} ne compte aucun quartier dans les données : aucune règle ne peut lui être appliquée."
                )
        return
    es = r.entrees_sorties
    if not r.phrases["entrees_sorties"]:
        if int(es["non_calculables"].sum()) == n * len(es):
            r.phrases["entrees_sorties"].append(
                "Aucune règle ne peut être appliquée aux quartiers de la commune (n.d.) : les entrées et les sorties "
                "ne peuvent pas être établies."
            )
        elif int(es["entrants"].sum() + es["sortants"].sum()) == 0:
            r.phrases["entrees_sorties"].append(
                "Aucune des trois règles ne change la liste du CUCS : elles n'en écartent aucun quartier et n'en "
                "ajoutent aucun."
            )
        else:
            r.phrases["entrees_sorties"].append(
                "Le tableau compte, pour chaque règle, les quartiers de la liste qu'elle maintient, ceux qu'elle "
                "ajouterait et ceux qu'elle écarterait."
            )


def phrase_annee(r: RapportQ3, indicateur: str, quoi: str) -> str:
    """« revenus de 2017 » or « revenus de 2017, l'année 2011 demandée est absente » (the
    population: read at the income year, « l'année 2017 des revenus est absente »)."""
    a = r.annees_eligibilite.get(indicateur) or {}
    utilisee, demandee = a.get("utilisee"), a.get("demandee")
    if utilisee is None:
        return f"{quoi} absents des données"
    if indicateur == "population" and r.annee_revenus is not None and r.annee_revenus != utilisee:
        return f"{quoi} de {utilisee}, l'année {r.annee_revenus} des revenus est absente"
    if indicateur == "population":
        return f"{quoi} de {utilisee}"
    if demandee is not None and demandee != utilisee:
        return f"{quoi} de {utilisee}, l'année {demandee} demandée est absente"
    return f"{quoi} de {utilisee}"


def _nd_regle(r: RapportQ3, elig: pd.DataFrame, regle: str) -> list[str]:
    """The distinct reasons (French) of a rule's n.d. verdicts among `elig`."""
    suffixe = regle.removeprefix("regle_")
    nd = elig[elig[regle].isna()]
    return list(dict.fromkeys(raison_nd(r, row, suffixe) for row in nd.itertuples()))


def _narrate_regles(r: RapportQ3, params) -> None:
    elig = r.eligibilite
    n = len(elig)
    qpv = elig["regle_qpv2014"].astype("boolean")
    n_qpv = int(qpv.fillna(False).sum())
    n_nd = int(qpv.isna().sum())
    seuil = text.euros(r.seuil_qpv2014) if r.seuil_qpv2014 is not None else "n.d."
    revenus = phrase_annee(r, "revenu_median_uc", "revenus")
    if n_nd == n:
        # Not computable anywhere: never « aucun quartier n'est éligible ».
        phrase = (
            f"La règle de revenu de 2014 ne peut être appliquée à aucun des {text.pluriel(n, 'quartier')} "
            f"{text.de(r.nom_commune)} ({revenus}) : {text.liste_fr(_nd_regle(r, elig, 'regle_qpv2014'))}. "
            "Son résultat est « n.d. », non « non »."
        )
        r.constats.append(phrase)
        r.phrases["eligibilite"].append(phrase)
    elif r.seuil_qpv2014 is None and n_qpv == 0:
        # No threshold: a quartier is decided only by another condition (its size), said below.
        k = n - n_nd
        phrase = (
            f"Selon la règle de revenu de 2014 ({revenus}), le seuil de revenu n'est pas calculable : la règle ne "
            f"peut pas être appliquée à {text.pluriel(n_nd, 'quartier')} "
            f"({text.liste_fr(_nd_regle(r, elig, 'regle_qpv2014'))}) ; "
            + (
                (
                    "le quartier restant n'est pas éligible"
                    if k == 1
                    else f"les {k} autres ne sont pas éligibles"
                )
                + " "
                "pour une autre raison, donnée ci-dessous."
            )
        )
        r.constats.append(phrase)
        r.phrases["eligibilite"].append(phrase)
    else:
        compte = (
            text.parmi(n_qpv, n, "quartier étudié", "quartiers étudiés")
            if n_nd == 0
            else text.parmi(n_qpv, n - n_nd, "quartier où elle s'applique", "quartiers où elle s'applique")
        )
        verbe = "est éligible" if n_qpv < 2 else "sont éligibles"
        if n_qpv == 0:
            verbe = "n'est éligible"
        phrase = (
            f"Selon la règle de revenu de 2014 ({revenus}, seuil de {seuil} de revenu médian par "
            f"unité de consommation pour l'unité urbaine {text.de(r.nom_commune)}), {compte} {verbe}"
        )
        if n_nd:
            phrase += (
                f" ; la règle ne peut pas être appliquée à {text.pluriel(n_nd, 'quartier')} "
                f"({text.liste_fr(_nd_regle(r, elig, 'regle_qpv2014'))})"
            )
        r.constats.append(phrase + ".")
        r.phrases["eligibilite"].append(phrase + ".")
    # A failed size where the rule is n.d.: an observation, never the rule's « non ».
    for row in elig.itertuples():
        obs = observation_taille(r, row, seuil_nd=False) if pd.isna(row.regle_qpv2014) else None
        if obs:
            r.phrases["eligibilite"].append(
                f"Observation sans verdict : {row.nom} compte {obs} ; la règle de revenu ne pouvant pas "
                "être appliquée en entier (raison ci-dessus), son résultat reste « n.d. » pour ce quartier."
            )
    # Reasons of the « non » of the income rule, one sentence per reason.
    for code, libelle in (
        (geography.REVENU_AU_DESSUS, "leur revenu médian dépasse le seuil"),
        (
            geography.TAILLE_QUARTIER,
            f"ils comptent moins de {text.nombre(params.qpv2014.population_min_quartier)} habitants",
        ),
        (
            geography.TAILLE_UU,
            f"leur unité urbaine compte moins de {text.nombre(params.qpv2014.population_min_uu)} habitants",
        ),
    ):
        mask = (
            elig["raisons_qpv2014"].fillna("").str.split(geography.SEP_RAISONS).map(lambda c, k=code: k in c)
        )
        if mask.any():
            k = int(mask.sum())
            raison = libelle
            if k == 1:
                raison = (
                    libelle.replace("leur revenu médian dépasse", "son revenu médian dépasse")
                    .replace("ils comptent", "il compte")
                    .replace("leur unité urbaine", "son unité urbaine")
                )
            r.phrases["eligibilite"].append(
                f"{'Non éligible' if k == 1 else 'Non éligibles'} selon la règle de revenu : "
                f"{_noms(elig, mask)}, car {raison}."
            )
    accord = geography.rules_agree(elig.set_index("code_quartier"), list(REGLES))
    comparees = accord["regles"]
    absentes = accord["non_calculees"]
    nommees = text.liste_fr(REGLES_ARTICLE[x] for x in comparees)
    sauf = (
        f" ({text.liste_fr(REGLES_ARTICLE[x] for x in absentes)} ne "
        f"{'peut' if len(absentes) == 1 else 'peuvent'} pas être calculée{'s' if len(absentes) > 1 else ''})"
        if absentes
        else ""
    )
    toutes = "Les trois règles d'éligibilité" if len(comparees) == 3 else f"Les règles calculées ({nommees})"
    if len(comparees) < 2:
        if absentes:
            phrase = (
                f"Les règles ne peuvent pas être comparées : seule {nommees} est calculée{sauf}."
                if comparees
                else f"Aucune des trois règles d'éligibilité n'est calculable pour {r.nom_commune} : elles ne "
                "peuvent pas être comparées."
            )
            r.constats.append(phrase)
            r.phrases["eligibilite"].append(phrase)
    elif accord["meme_liste"]:
        r.constats.append(
            f"{toutes} retiennent les mêmes quartiers : "
            f"{_noms(elig, elig[comparees[0]].fillna(False).astype(bool))}{sauf}."
        )
    elif accord["n_calculables"] and accord["n_selectionnes"] == 0:
        aucune = (
            "Aucune des trois règles" if len(comparees) == 3 else f"Aucune des règles calculées ({nommees})"
        )
        r.constats.append(
            f"{aucune} ne retient de quartier {text.de(r.nom_commune)} parmi ceux où elles s'appliquent toutes{sauf}."
        )
    elif accord["n_discordants"]:
        disc = elig["code_quartier"].isin(accord["codes_discordants"])
        cnt = {k: int(elig[k].fillna(False).astype(bool).sum()) or "aucun" for k in comparees}
        noms_courts = {
            "regle_qpv2014": "la règle de revenu",
            "regle_zus": "l'indice de type ZUS",
            "regle_dynamique": "la règle « dynamique »",
        }
        ordre = [k for k in ("regle_qpv2014", "regle_zus", "regle_dynamique") if k in comparees]
        detail = text.liste_fr(
            f"{noms_courts[k]} en retient {cnt[k]}" if j == 0 else f"{noms_courts[k]} {cnt[k]}"
            for j, k in enumerate(ordre)
        )
        r.constats.append(
            f"Les règles ne concordent pas pour {text.pluriel(accord['n_discordants'], 'quartier')} "
            f"({_noms(elig, disc)}) : {detail}, sur {n}{sauf}."
        )
    for regle, libelle in REGLES_ARTICLE.items():
        nd = elig[regle].isna()
        if regle == "regle_qpv2014" and (nd.all() or r.seuil_qpv2014 is None):
            continue  # said above
        if nd.any():
            e = "" if regle == "regle_zus" else "e"
            raisons = text.liste_fr(_nd_regle(r, elig, regle))
            if nd.all() and n > 1:
                debut = f"{labels.majuscule(libelle)} ne peut être appliqué{e} à aucun quartier {text.de(r.nom_commune)}"
            else:
                debut = f"{labels.majuscule(libelle)} ne peut pas être appliqué{e} à {_noms(elig, nd)}"
            r.phrases["eligibilite"].append(f"{debut} ({raisons}) : son résultat est « n.d. », non « non ».")
    dans = elig["dans_cucs"].astype("boolean")
    if dans.isna().any():
        inconnus = dans.isna()
        phrase = (
            f"La catégorie CUCS de {text.pluriel(int(inconnus.sum()), 'quartier')} est inconnue dans les données : "
            "les entrées et les sorties de la liste du CUCS ne peuvent pas être établies pour "
            f"{'lui' if inconnus.sum() == 1 else 'eux'} (n.d.), et aucun n'est compté « hors CUCS »."
        )
        r.phrases["entrees_sorties"].append(phrase)
    dans_sur = dans.fillna(False).astype(bool)
    hors_sur = (~dans).fillna(False).astype(bool)
    sortants = dans_sur & elig["regle_qpv2014"].eq(False).fillna(False).astype(bool)
    if sortants.any():
        phrase = f"Quartiers du CUCS que la règle de revenu ne retiendrait pas : {_noms(elig, sortants)}."
        r.constats.append(phrase)
        r.phrases["entrees_sorties"].append(phrase)
    entrants = hors_sur & elig["regle_qpv2014"].fillna(False).astype(bool)
    if r.signataire is False:
        for regle, libelle in REGLES_ARTICLE.items():
            e = elig[regle].fillna(False).astype(bool)
            if elig[regle].isna().all():
                r.phrases["entrees_sorties"].append(
                    f"Selon {libelle}, on ne peut pas dire quels quartiers pourraient entrer dans la géographie "
                    "prioritaire : la règle n'est pas calculable (n.d.)."
                )
                continue
            r.phrases["entrees_sorties"].append(
                f"Selon {libelle}, "
                + (
                    f"{_noms(elig, e)} pourrai{'t' if e.sum() == 1 else 'ent'} entrer dans la géographie prioritaire."
                    if e.any()
                    else (
                        f"{_noms(elig, elig['code_quartier'].notna())} n'entrerait pas dans la géographie prioritaire."
                        if len(elig) == 1
                        else f"aucun des quartiers {text.de(r.nom_commune)} où elle s'applique n'entrerait dans la "
                        "géographie prioritaire."
                    )
                )
            )
        if entrants.any():
            r.constats.append(
                f"Hors CUCS, {_noms(elig, entrants)} pourrai{'t' if entrants.sum() == 1 else 'ent'} entrer dans la "
                "géographie prioritaire selon la règle de revenu de 2014."
            )
    elif entrants.any():
        phrase = f"Quartiers hors de la liste du CUCS que la règle de revenu retiendrait : {_noms(elig, entrants)}."
        r.constats.append(phrase)
        r.phrases["entrees_sorties"].append(phrase)
    veille = elig["veille"].astype("boolean").fillna(False).astype(bool) & elig["signataire"].astype(
        "boolean"
    ).fillna(True).astype(bool)
    if veille.any():
        r.phrases["entrees_sorties"].append(
            f"{_noms(elig, veille)} {'est un quartier' if veille.sum() == 1 else 'sont des quartiers'} de veille : "
            "hors des catégories 1, 2 et 3, suivi sans être prioritaire."
        )
    for code, autres in r.partages.items():
        nom = _noms(elig, elig["code_quartier"] == code)
        r.phrases["eligibilite"].append(
            f"{nom} est un quartier partagé avec {text.liste_fr(autres)} : ses valeurs portent sur tout le quartier, "
            "de part et d'autre de la limite communale."
        )


def _narrate_echelle(r: RapportQ3) -> None:
    n_constats, n_phrases = len(r.constats), len(r.phrases["echelle"])
    _narrate_echelle_parts(r)
    # The years printed are the import's assumptions: said once, right after the first of them.
    mention = phrase_annees_import(r)
    if mention and len(r.constats) > n_constats:
        r.constats.insert(n_constats + 1, mention)
    if mention and len(r.phrases["echelle"]) > n_phrases:
        r.phrases["echelle"].insert(n_phrases + 1, mention)


def _narrate_echelle_parts(r: RapportQ3) -> None:
    rep = r.repartition.set_index("indicateur") if not r.repartition.empty else pd.DataFrame()
    n = int(rep["n_quartiers"].iloc[0]) if not rep.empty else 0
    quartiers = (
        ("son quartier prioritaire" if n == 1 else f"ses {n} quartiers prioritaires")
        if r.signataire is not False
        else ("son quartier observé" if n == 1 else f"ses {n} quartiers observés")
    )
    if n == 0 or rep.empty:
        r.phrases["echelle"].append(
            f"{r.nom_commune} n'a aucun quartier prioritaire dans les données : la part de ses habitants "
            "qui vivent en quartier prioritaire n'est pas calculable."
        )
    else:
        pop = rep["part"].get("population")
        parts, caches, publies = [], [], set()
        for ind in ("taux_chomage", "taux_pauvrete"):
            if ind not in rep.index:
                continue
            row = rep.loc[ind]
            sing, plur = PERSONNES[ind]
            petit = bool(
                privacy.primary_mask(
                    pd.Series([row["personnes_quartiers"]], dtype=float), r.seuil_secret
                ).iloc[0]
            )
            if text.manquant(row["part"]) or petit:
                motif = motifs.SECRET if bool(row["secret"]) or petit else motifs.DONNEE_ABSENTE
                caches.append((plur, motif, int(row["annee"])))
            else:
                publies.add(ind)
                parts.append(
                    f"{text.pourcentage(row['part'])} des {plur} de la commune "
                    f"({text.nombre(row['personnes_quartiers'])} sur {text.nombre(row['personnes_commune'])})"
                )
        # Each count at its own year: the year of the population is said when it differs.
        an_parts = int(rep.loc[sorted(publies)[0], "annee"]) if publies else r.annee
        an_pop = int(rep.loc["population", "annee"]) if "population" in rep.index else an_parts

        def en_pop(y: int) -> str:
            return f" en {an_pop}" if an_pop != y else ""

        habitants = (
            f", {'qui regroupe' if n == 1 else 'qui regroupent'} {text.pourcentage(pop)} de ses habitants"
            f"{en_pop(an_parts)}"
            if not text.manquant(pop)
            else ""
        )
        if parts:
            phrase = f"En {an_parts}, {text.liste_fr(parts)} vivent dans {quartiers}{habitants}"
            r.phrases["echelle"].append(
                phrase + " (base : chômeurs et personnes pauvres recensés dans la commune la même année)."
            )
            r.constats.append(phrase + ".")
        for motif in dict.fromkeys(m for _, m, _ in caches):
            qui = text.liste_fr([f"des {plur}" for plur, m, _ in caches if m == motif])
            an = next(y for _, m, y in caches if m == motif)
            verbe = "n'est pas publiée" if motif == motifs.SECRET else "n'est pas calculable"
            phrase = (
                f"En {an}, la part {qui} de la commune qui vivent dans {quartiers} {verbe} "
                f"({labels.MOTIF_LIBELLES[motif]})"
            )
            if not parts and not text.manquant(pop):
                phrase += (
                    f" ; {'il regroupe' if n == 1 else 'ils regroupent'} {text.pourcentage(pop)} de ses habitants"
                    f"{en_pop(an)}"
                )
            r.phrases["echelle"].append(phrase + ".")
            r.constats.append(phrase + ".")
        # the unemployed's share only when it is published (a hidden share is not given back)
        ch = rep["part"].get("taux_chomage") if "taux_chomage" in publies else None
        if not text.manquant(ch) and not text.manquant(pop) and pop > 0:
            ratio = ch / pop
            rapport = f"(leur part est {text.ratio(ratio)} fois celle des habitants)"
            if ratio >= 1.2:
                lecture = f"Les chômeurs y sont donc nettement surreprésentés {rapport} : l'échelle du quartier concentre bien le problème"
            elif ratio > 0.8:
                lecture = f"Les chômeurs n'y sont pas plus nombreux qu'ailleurs dans la commune {rapport} : le quartier n'est pas, pour l'emploi, une échelle plus pertinente que la commune"
            else:
                lecture = f"Les chômeurs y sont moins représentés que dans le reste de la commune {rapport}"
            r.phrases["echelle"].append(f"{lecture}.")
            if r.signataire is not False and ch < 50:
                r.phrases["echelle"].append(
                    f"La majorité des chômeurs {text.de(r.nom_commune)} ({text.pourcentage(100 - ch)}) vit hors "
                    "des quartiers prioritaires : une intervention limitée aux quartiers ne les atteint pas."
                )
    if r.partages and n:
        # A QPV over two communes is counted whole in its main commune: its people include the
        # other commune's, so the shares above are overstated by them.
        noms = dict(zip(r.eligibilite["code_quartier"], r.eligibilite["nom"], strict=False))
        qui = text.liste_fr(
            f"{noms.get(q, q)} (partagé avec {text.liste_fr(a)})" for q, a in r.partages.items()
        )
        r.phrases["echelle"].append(
            f"Les effectifs des quartiers comptent en entier {qui} : ses habitants de l'autre commune y sont "
            "inclus, et les parts ci-dessus en sont surestimées."
        )
    c = r.ciblage.set_index("ciblage") if not r.ciblage.empty else pd.DataFrame()
    if r.signataire is False:
        r.phrases["echelle"].append(
            labels.phrase_hors_cucs(r.nom_commune, "la répartition des crédits du contrat")
        )
    elif c.empty:
        r.phrases["echelle"].append(
            f"Les actions {text.de(r.nom_commune)} ne sont pas dans les données (données non disponibles)."
        )
    else:
        q, k = c.loc[geography.CIBLE_QUARTIER], c.loc[geography.CIBLE_COMMUNE]
        a, b = r.annees_actions
        r.phrases["echelle"].append(
            f"De {a} à {b}, les actions ciblées sur un quartier ont reçu {text.pourcentage(q['part_credits_specifiques'])} "
            f"des crédits spécifiques ({text.euros(q['credits_specifiques'])}) et les actions à l'échelle de la "
            f"commune entière {text.pourcentage(k['part_credits_specifiques'])} ({text.euros(k['credits_specifiques'])}) ; "
            f"on compte {text.aucun(int(q['actions']), 'action ciblée', 'actions ciblées', feminin=True)} et "
            f"{text.aucun(int(k['actions']), 'action', feminin=True)} pour la commune entière."
        )
        r.debat.append(
            f"{text.pourcentage(k['part_credits_specifiques'])} des crédits spécifiques vont à des actions "
            "menées à l'échelle de la commune entière : à qui profitent-elles, et faut-il assumer cette "
            "échelle dans le prochain contrat ?"
        )


def _narrate_bilans(r: RapportQ3, territoire) -> None:
    b = r.bilans
    if r.signataire is False:
        r.phrases["bilans"].append(labels.phrase_hors_cucs(r.nom_commune, "le bilan des actions"))
        return
    if b.empty:
        r.phrases["bilans"].append(
            f"Les actions {text.de(r.nom_commune)} ne sont pas dans les données (données non disponibles)."
        )
        return
    tot = b[[c for c in b.columns if c != "cible"]].sum(numeric_only=True)
    taux = tot["realises"] / tot["prevus_realisees"] if tot["prevus_realisees"] else None
    a, z = r.annees_actions
    phrase = (
        f"De {a} à {z}, {text.pluriel(int(tot['annees_realisees']), 'action-année réalisée', 'actions-années réalisées')} "
        f"sur {text.nombre(int(tot['actions_annees']))} programmées"
    )
    petit = any(privacy.is_small(tot[c], r.seuil_secret) for c in ("realises", "prevus_realisees"))
    if taux is not None and not petit:
        phrase += (
            f" ont touché {text.nombre(tot['realises'])} bénéficiaires pour {text.nombre(tot['prevus_realisees'])} prévus "
            f"({text.pourcentage(100 * taux)}, sur les seules actions réalisées)"
        )
    elif taux is not None:
        phrase += f" ont touché {text.effectif(tot['realises'], r.seuil_secret, 'bénéficiaire')}"
    non = int(tot["annees_non_pourvues"] + tot["annees_abandonnees"])
    if non:
        phrase += f" ; {text.pluriel(non, 'action-année', 'actions-années')} non pourvues ou abandonnées sont comptées à part"
    r.phrases["bilans"].append(phrase + ".")
    cols = [f"bilans_{c}" for c in CATEGORIES_BILANS.values()]
    if all(c in b for c in cols) and tot[cols].sum() > 0:
        r.phrases["bilans"].append(
            f"Les bilans des opérateurs comptent {text.effectif(tot['bilans_reussite'], r.seuil_secret, 'réussite')}, "
            f"{text.effectif(tot['bilans_difficulte'], r.seuil_secret, 'difficulté')}, "
            f"{text.effectif(tot['bilans_ecart_explique'], r.seuil_secret, 'écart expliqué', 'écarts expliqués')} et "
            f"{text.effectif(tot['bilans_blocage'], r.seuil_secret, 'blocage')}."
        )
        themes = _themes_difficultes(territoire.actions, territoire.bilans)
        if themes:
            r.phrases["bilans"].append(
                "Les difficultés et les blocages portent d'abord sur "
                + text.liste_fr(
                    f"« {t} » ({text.effectif(n, r.seuil_secret, 'constat').replace(' (secret statistique)', ', secret statistique')})"
                    for t, n in themes
                )
                + "."
            )
        par_q = b[b["cible"] != ""].copy()
        if not par_q.empty:
            par_q["part_bloc"] = (par_q["bilans_blocage"] + par_q["bilans_difficulte"]) / par_q[cols].sum(
                axis=1
            ).where(par_q[cols].sum(axis=1) > 0)
            # A share of statements on fewer than seuil_secret of them (numerator or base) would
            # give the small count back: such quartiers are not named.
            num = par_q["bilans_blocage"] + par_q["bilans_difficulte"]
            petit = privacy.primary_mask(num.astype(float), r.seuil_secret) | privacy.primary_mask(
                par_q[cols].sum(axis=1).astype(float), r.seuil_secret
            )
            par_q = par_q[~petit.fillna(False).astype(bool)]
            pire = par_q.dropna(subset=["part_bloc"]).sort_values("part_bloc", ascending=False).head(1)
            noms = dict(zip(r.eligibilite["code_quartier"], r.eligibilite["nom"], strict=False))
            for row in pire.itertuples():
                r.debat.append(
                    f"Dans le quartier {noms.get(row.cible, row.cible)}, {text.pourcentage(100 * row.part_bloc)} des "
                    "constats des bilans sont des difficultés ou des blocages : que disent-ils de l'échelle "
                    "et des conditions d'intervention ?"
                )


def _themes_difficultes(actions: pd.DataFrame, bilans: pd.DataFrame, n: int = 3) -> list[tuple[str, int]]:
    """The most frequent themes of the « difficulté » and « blocage » statements of the commune's actions."""
    if actions is None or bilans is None or actions.empty or bilans.empty:
        return []
    b = bilans.merge(actions[["id_action", "annee"]].drop_duplicates(), on=["id_action", "annee"])
    b = b[b["categorie"].isin(["difficulté", "blocage"])]
    counts = b["theme"].value_counts()
    counts = counts.sort_index().sort_values(ascending=False, kind="stable").head(n)
    return [(str(t), int(c)) for t, c in counts.items()]


def _narrate_jeunesse(r: RapportQ3) -> None:
    e = r.entrees.set_index("indicateur") if not r.entrees.empty else pd.DataFrame()
    p = r.parametres
    periode = text.annee_periode(p.get("annee_debut_cucs"), p.get("fin"))
    quartiers = "les quartiers prioritaires" if r.signataire is not False else "les quartiers observés"
    if not r.part_jeunes.empty:
        row = r.part_jeunes.iloc[0]
        r.phrases["jeunesse"].append(
            f"En moyenne sur {periode}, les moins de 25 ans forment {text.pourcentage(row['valeur_quartiers_pendant'])} "
            f"des habitants dans {quartiers} contre {text.pourcentage(row['valeur_commune_pendant'])} dans la commune."
        )
    if "taux_chomage_jeunes" in e.index:
        row = e.loc["taux_chomage_jeunes"]
        r.phrases["jeunesse"].append(
            f"En moyenne sur {periode}, le taux de chômage des moins de 25 ans est de "
            f"{text.pourcentage(row['valeur_quartiers_pendant'])} dans {quartiers} contre "
            f"{text.pourcentage(row['valeur_commune_pendant'])} dans la commune "
            f"(écart de {text.points(text.difference_affichee(row['valeur_commune_pendant'], row['valeur_quartiers_pendant']))})."
        )
    jeunes = r.jeunesse.set_index("public") if not r.jeunesse.empty else pd.DataFrame()
    if r.signataire is False:
        r.phrases["jeunesse"].append(
            labels.phrase_hors_cucs(r.nom_commune, "la part des crédits destinés aux jeunes")
        )
    elif jeunes.empty:
        r.phrases["jeunesse"].append(
            f"Les actions {text.de(r.nom_commune)} ne sont pas dans les données (données non disponibles)."
        )
    else:
        j = jeunes.loc["jeunes"]
        a, z = r.annees_actions
        r.phrases["jeunesse"].append(
            f"De {a} à {z}, les actions dont le public déclaré est jeune (enfants, collégiens, jeunes de moins de "
            f"25 ans) reçoivent {text.pourcentage(j['part_credits_specifiques'])} des crédits spécifiques "
            f"({text.euros(j['credits_specifiques'])}) ; elles représentent "
            f"{text.pourcentage(j['part_actions_annees'])} des actions-années."
        )
        r.debat.append(
            "La jeunesse n'est pas un objet à part entière du CUCS : au vu de l'écart de chômage des jeunes et de "
            f"la part des crédits qui leur sont destinés ({text.pourcentage(j['part_credits_specifiques'])}), "
            "faut-il en faire une entrée du prochain contrat ?"
        )


def _narrate_entrees(r: RapportQ3) -> None:
    e = r.entrees
    if e.empty:
        r.phrases["entrees"].append(
            "Les écarts des quartiers à la commune avant et pendant le contrat ne sont pas calculables (données non "
            "disponibles : taux avec leur numérateur et leur dénominateur, pour les quartiers et pour la commune, sur "
            "les deux périodes) : aucune entrée ne peut être proposée au débat à partir des données."
        )
        return
    p = r.parametres
    avant = _avant(p.get("debut"), p.get("annee_debut_cucs"))
    pendant = text.annee_periode(p.get("annee_debut_cucs"), p.get("fin"))
    if not e["avant_testable"].any():
        r.phrases["entrees"].append(
            f"Les séries commencent avec le CUCS : l'évolution des écarts depuis la période antérieure ({avant}) "
            "ne peut pas être testée."
        )
    # A gap "widened" only when the displayed values say so (one decimal).
    affiche = [
        text.difference_affichee(a, b) or 0.0
        for a, b in zip(
            e["ecart_defavorable_pendant"] - e["creusement"], e["ecart_defavorable_pendant"], strict=True
        )
    ]
    creuses = e[(pd.Series(affiche, index=e.index) > 0) & e["avant_testable"]].head(3)
    for row in creuses.itertuples():
        libelle = text.minuscule_initiale(_libelle(r, row.indicateur))
        if r.signataire is False or r.ciblage.empty:
            domaine = ""
        elif not isinstance(row.domaine, str):
            domaine = " ; aucun domaine du programme ne vise directement cet indicateur"
        elif text.manquant(row.part_credits_domaine) or row.part_credits_domaine == 0:
            domaine = (
                f" ; le domaine « {labels.libelle_domaine(row.domaine)} » ne reçoit aucun crédit spécifique"
            )
        else:
            domaine = (
                f" ; le domaine « {labels.libelle_domaine(row.domaine)} » reçoit "
                f"{text.pourcentage(row.part_credits_domaine)} des crédits spécifiques"
            )
        r.phrases["entrees"].append(
            f"{labels.majuscule(libelle)} : "
            f"l'écart défavorable aux quartiers est passé de {_ecart(r, row.indicateur, row.ecart_avant)} ({avant}) à "
            f"{_ecart(r, row.indicateur, row.ecart_pendant)} ({pendant}){domaine}. "
            "Faut-il en faire une entrée du prochain contrat ?"
        )
    if creuses.empty:
        r.phrases["entrees"].append(
            f"Aucun écart défavorable aux quartiers ne s'est creusé entre {avant} et {pendant} : les entrées du "
            "prochain contrat se discutent sur les écarts qui demeurent (tableau ci-dessous)."
        )


def _reserves(r: RapportQ3, territoire, params) -> None:
    r.reserves.append(
        "La règle de 2014 s'applique en réalité à des carreaux de 200 m et dessine de nouveaux périmètres : "
        "l'appliquer aux quartiers existants n'en donne qu'une approximation."
    )
    r.reserves.append(
        f"Indice de type ZUS ({params.zus.annee}) = population × taux de chômage × part des moins de 25 ans × "
        "part des sans-diplôme ÷ potentiel fiscal par habitant de la commune. Son seuil est relatif (quantile "
        f"{text.nombre_exact(params.zus.seuil_quantile)} des quartiers de la région) : il classe les quartiers "
        "entre eux, sans référence nationale."
    )
    r.reserves.append(
        "À l'échelle du quartier, les taux issus du recensement (chômage, diplôme, moins de 25 ans) sont des "
        "estimations glissantes sur cinq années d'enquêtes : deux années proches partagent la plupart de leurs "
        "enquêtes, et l'INSEE déconseille de les comparer ; les évolutions sont lues par périodes, avant et "
        "pendant le contrat."
    )
    r.reserves.append(
        "Les périmètres ont changé (ZUS de 1996, CUCS de 2007, quartiers prioritaires de 2015 et de 2024) : un "
        "même nom ne désigne pas toujours le même territoire, et les séries d'un quartier redécoupé se lisent "
        "avec prudence."
    )
    if r.signataire is not False and not r.ciblage.empty:
        r.reserves.append(
            "Le droit commun est déclaré pour la commune entière, non par quartier : la part ciblée sur les "
            "quartiers ne porte que sur les crédits des actions du programme."
        )
    elig = r.eligibilite
    if not elig.empty:
        for regle, libelle in REGLES_ARTICLE.items():
            m = elig[f"motif_{regle.removeprefix('regle_')}"] == motifs.SECRET
            if m.any():
                r.reserves.append(
                    f"Secret statistique : une valeur qu'utilise {libelle} "
                    f"({text.liste_fr(_libelle_entree(r, i) for i in _valeurs_regle(r, regle))}) est couverte par "
                    f"le secret pour {_noms(elig, m)} : la règle y est « n.d. »."
                )
        e = r.echelles
        sec = e[(e["niveau"] == "quartier") & e["secret"].fillna(False).astype(bool)]
        utilises = {i for v in VALEURS_REGLES.values() for i in v}
        autres = sec[~sec["indicateur"].isin(utilises)]
        if not autres.empty:
            noms = dict(zip(elig["code_quartier"], elig["nom"], strict=False))
            for ind, g in autres.groupby("indicateur"):
                qs = text.liste_fr(sorted({noms.get(c, c) for c in g["code_territoire"]}))
                r.reserves.append(
                    f"{_libelle(r, ind)} ({r.annee}) : valeur couverte par le secret statistique pour {qs} (« s »). "
                    "Cet indicateur n'entre dans aucune des trois règles."
                )


def _chiffres_cles(r: RapportQ3) -> None:
    elig = r.eligibilite
    n = len(elig)
    qpv = elig["regle_qpv2014"].astype("boolean") if n else pd.Series(dtype="boolean")
    # « 0 quartier éligible » only when no quartier is n.d. (an n.d. one might be eligible).
    calculable = n > 0 and qpv.notna().any() and not (qpv.isna().any() and not qpv.fillna(False).any())
    n_qpv = int(qpv.fillna(False).sum()) if n else 0
    pop = float(elig.loc[qpv.fillna(False).astype(bool), "population"].sum()) if n else 0.0
    rep = r.repartition.set_index("indicateur") if not r.repartition.empty else pd.DataFrame()
    part = rep["part"].get("taux_chomage") if not rep.empty else None
    part = None if text.manquant(part) else float(part)

    part_pop = rep["part"].get("population") if not rep.empty else None
    part_pop = None if text.manquant(part_pop) else float(part_pop)
    an_pop = int(rep.loc["population", "annee"]) if not rep.empty and "population" in rep.index else r.annee

    absent = motifs.DONNEE_ABSENTE if n else motifs.NON_CALCULABLE
    r.chiffres_cles = [
        chiffre_cle(
            "eligibles_qpv2014",
            f"Quartiers éligibles (règle de revenu 2014, revenus {r.annee_revenus})",
            n_qpv if calculable else None,
            "quartiers",
            absent,
        ),
        chiffre_cle("seuil_qpv2014", "Seuil de revenu QPV 2014", r.seuil_qpv2014, "€", motifs.DONNEE_ABSENTE),
        chiffre_cle(
            "population_eligible",
            f"Habitants des quartiers éligibles ({r.annee_revenus})",
            pop if calculable else None,
            "hab.",
            absent,
        ),
        chiffre_cle("quartiers_etudies", "Quartiers étudiés", n, "quartiers"),
        chiffre_cle(
            "part_habitants_quartiers",
            f"Part des habitants de la commune vivant dans ces quartiers ({an_pop})",
            part_pop,
            "%",
            absent,
        ),
        chiffre_cle(
            "part_chomeurs_quartiers",
            (
                "Part des chômeurs de la commune vivant en quartier prioritaire"
                if r.signataire is not False
                else "Part des chômeurs de la commune vivant dans ses quartiers observés"
            )
            + f" ({r.annee})",
            part,
            "%",
            motifs.SECRET if not rep.empty and bool(rep["secret"].get("taux_chomage", False)) else absent,
        ),
    ]
    # The index and the commune page show the first key figure: a computed one comes first
    # (stable: the order is kept among the computed, and among the missing).
    r.chiffres_cles.sort(key=lambda c: c.get("valeur") is None)


def _verdict(r: RapportQ3) -> None:
    """One line that answers the question for the commune, with its reason and its section."""
    elig = r.eligibilite
    rep = r.repartition.set_index("indicateur") if not r.repartition.empty else pd.DataFrame()
    part = rep["part"].get("taux_chomage") if not rep.empty else None
    n_q = int(rep["n_quartiers"].iloc[0]) if not rep.empty else 0
    if r.signataire is False:
        qpv = elig["regle_qpv2014"].fillna(False).astype(bool) if not elig.empty else pd.Series(dtype=bool)
        if elig.empty:
            suite = "elle ne compte aucun quartier observé dans les données"
        elif qpv.any():
            suite = (
                f"selon la règle de revenu de 2014, {_noms(elig, qpv)} pourrai{'t' if qpv.sum() == 1 else 'ent'} "
                "entrer dans la géographie prioritaire"
            )
        else:
            raisons = {c for v in elig["raisons_qpv2014"] for c in str(v).split(geography.SEP_RAISONS) if c}
            courtes = {
                geography.REVENU_AU_DESSUS: "revenu médian au-dessus du seuil",
                geography.TAILLE_QUARTIER: f"moins de {text.nombre(r.parametres.get('population_min_quartier'))} "
                "habitants dans le quartier",
                geography.TAILLE_UU: f"unité urbaine de moins de {text.nombre(r.parametres.get('population_min_uu'))} "
                "habitants",
            }
            pourquoi = text.liste_fr(courtes[c] for c in geography.RAISONS if c in raisons)
            suite = (
                f"selon la règle de revenu de 2014, {text.parmi(0, len(elig), 'quartier observé', 'quartiers observés')} "
                "n'entrerait dans la géographie prioritaire" + (f" ({pourquoi})" if pourquoi else "")
            )
        r.verdict = rapport.verdict(
            f"Hors CUCS : {r.nom_commune} n'a pas signé de CUCS ; {suite}.",
            SECTION_ENTREES_SORTIES,
            motifs.HORS_CUCS,
        )
        return
    if n_q == 0 or text.manquant(part):
        motif = motifs.DONNEE_ABSENTE
        if not rep.empty and bool(rep["secret"].get("taux_chomage", False)):
            motif = motifs.SECRET
        texte = (
            "Échelle du quartier : " + labels.MOTIF_LIBELLES[motif] + " (part des chômeurs de la commune "
            "vivant en quartier prioritaire non calculable)"
        )
        pop = rep["part"].get("population") if not rep.empty else None
        if n_q and not text.manquant(pop):
            # What IS computed answers first; the missing share is said after, with no motif on
            # the verdict (the index would read « données non disponibles »).
            an = int(rep.loc["population", "annee"])
            quartiers = (
                "son quartier prioritaire regroupe"
                if n_q == 1
                else f"ses {n_q} quartiers prioritaires regroupent"
            )
            suppose = f", {MENTION_ANNEES_IMPORT}" if "demographie" in r.annees_attribuees else ""
            texte = (
                f"Échelle du quartier : {quartiers} {text.pourcentage(pop)} de ses habitants ({an}{suppose}) ; "
                "la part des chômeurs de la commune qui y vivent n'est pas calculable ("
                + labels.MOTIF_LIBELLES[motif]
                + ")"
            )
            r.verdict = rapport.verdict(texte + ".", SECTION_ECHELLE)
            return
        r.verdict = rapport.verdict(texte + ".", SECTION_ECHELLE, motif)
        return
    dans = elig["dans_cucs"].astype("boolean")
    prio = elig if dans.isna().any() else elig[dans.fillna(False).astype(bool)]
    qpv = prio["regle_qpv2014"].astype("boolean")
    quartiers = "son quartier prioritaire" if n_q == 1 else f"ses {n_q} quartiers prioritaires"
    pop = rep["part"].get("population")
    texte = (
        f"Échelle du quartier : {text.pourcentage(part)} des chômeurs de la commune vivent dans {quartiers}"
    )
    if not text.manquant(pop):
        texte += (
            f", {'qui regroupe' if n_q == 1 else 'qui regroupent'} {text.pourcentage(pop)} de ses habitants"
        )
    texte += f" ({r.annee})"
    if qpv.notna().any():
        texte += " ; " + _phrase_eligibles(
            int(qpv.fillna(False).sum()),
            len(prio),
            "quartier prioritaire",
            "quartiers prioritaires",
            ("resterait", "resteraient"),
            f"selon la règle de revenu de 2014 (revenus {r.annee_revenus})",
        )
    r.verdict = rapport.verdict(texte + ".", SECTION_ECHELLE)


# --- figures (each returns a matplotlib Figure with its French alt text, or None) ------------


def figure_echelles(r: RapportQ3, indicateur: str | None = None):
    """One indicator for the commune's quartiers and every upper level, with intervals (by
    default the unemployment rate, else the first indicator of the scales table the data hold)."""
    if indicateur is None:
        held = (
            set(r.echelles.loc[r.echelles["valeur"].notna(), "indicateur"]) if not r.echelles.empty else set()
        )
        indicateur = next((i for i in INDICATEURS_ECHELLES if i in held), "taux_chomage")
    import matplotlib.pyplot as plt

    from cucs_analysis.present import plots

    rows = r.echelles[(r.echelles["indicateur"] == indicateur) & r.echelles["valeur"].notna()]
    if rows.empty:
        return None
    noms = dict(zip(r.eligibilite["code_quartier"], r.eligibilite["nom"], strict=False))
    label = rows.apply(
        lambda x: (
            noms.get(x["code_territoire"], x["code_territoire"])
            if x["niveau"] == "quartier"
            else f"{NIVEAUX_LIBELLES[x['niveau']]}"
            + (f" ({r.nom_commune})" if x["niveau"] == "commune" else "")
        ),
        axis=1,
    )
    cat = r.catalogue.set_index("indicateur")
    libelle = str(cat.loc[indicateur, "libelle"]) if indicateur in cat.index else indicateur
    unite = str(cat.loc[indicateur, "unite"]) if indicateur in cat.index else None
    annee = r.annees_echelles.get(indicateur, r.annee)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.5))
    y = range(len(rows))[::-1]
    colors = [plots.OKABE_ITO["vermillon"] if n == "quartier" else plots.GRIS for n in rows["niveau"]]
    ax.barh(list(y), rows["valeur"], color=colors)
    # Intervals only where counts give one (a median or a rate without its counts has none).
    avec_ic = bool(rows[["ic_bas", "ic_haut"]].notna().all(axis=1).any())
    if avec_ic:
        err_lo = (rows["valeur"] - rows["ic_bas"]).fillna(0).clip(lower=0)
        err_hi = (rows["ic_haut"] - rows["valeur"]).fillna(0).clip(lower=0)
        ax.errorbar(
            rows["valeur"], list(y), xerr=[err_lo, err_hi], fmt="none", ecolor="black", capsize=3, lw=1
        )
    ax.set_yticks(list(y), label.tolist())
    niveaux = (rows["niveau"] != "quartier").any()
    ax.set_title(
        f"{libelle} en {annee}, du quartier à la région"
        if niveaux
        else f"{libelle} en {annee}, quartiers {text.de(r.nom_commune)}"
    )
    ax.set_xlabel(libelle + (f" ({unite})" if unite else ""))
    plots.franciser_axes(ax, x="pourcentage" if unite == "%" else "nombre", y=None)
    valeurs = text.liste_fr(
        [f"{lab} : {text.valeur_unite(v, unite)}" for lab, v in zip(label, rows["valeur"], strict=False)]
    )
    return plots.set_alt(
        fig,
        f"Diagramme en barres horizontales : {text.minuscule_initiale(libelle)} en {annee} pour chaque "
        f"quartier de {r.nom_commune}"
        + (
            " (avec intervalles de confiance à 95 %)"
            if avec_ic
            else " (sans intervalle de confiance : pas d'effectifs)"
        )
        + (
            " et pour les niveaux supérieurs"
            if niveaux
            else " ; la commune et les niveaux supérieurs n'ont pas de valeur"
        )
        + f". Valeurs : {valeurs}.",
    )


def figure_revenus(r: RapportQ3):
    """Median income of each quartier against the QPV 2014 threshold of its urban unit."""
    import matplotlib.pyplot as plt

    from cucs_analysis.present import plots

    e = r.eligibilite.dropna(subset=["revenu_median_uc"])
    if e.empty:
        return None
    if r.seuil_qpv2014 is None:
        return _figure_revenus_sans_seuil(r, e)
    e = e.sort_values("revenu_median_uc")
    etat = [_etat(v) for v in e["regle_qpv2014"]]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(e) + 1.5))
    colors = [plots.OKABE_ITO["bleu"] if x == "oui" else plots.GRIS for x in etat]
    # One row per quartier by position (two quartiers may share a name), labelled with the names.
    rangs = range(len(e))
    ax.scatter(e["revenu_median_uc"], list(rangs), color=colors, s=60, zorder=3)
    ax.set_yticks(list(rangs), [str(n) for n in e["nom"]])
    ax.axvline(r.seuil_qpv2014, color=plots.OKABE_ITO["vermillon"], ls="--", lw=1.5)
    ax.annotate(
        f"seuil : {text.euros(r.seuil_qpv2014)}",
        (r.seuil_qpv2014, 1.0),
        xycoords=("data", "axes fraction"),
        ha="left",
        va="bottom",
        color=plots.OKABE_ITO["vermillon"],
    )
    ax.set_xlabel(f"Revenu fiscal médian par unité de consommation en {r.annee_revenus} (€)")
    ax.set_title(f"Revenu médian des quartiers ({r.annee_revenus}) et seuil de la règle de 2014", pad=18)
    ax.xaxis.set_major_formatter(plots.formatter_euros(compact=False))
    suffixes = {"oui": "", "non": " (non éligible)", "nd": " (non calculable)"}
    details = text.liste_fr(
        [
            f"{n} : {text.euros(v)}{suffixes[x]}"
            for n, v, x in zip(e["nom"], e["revenu_median_uc"], etat, strict=False)
        ]
    )
    return plots.set_alt(
        fig,
        f"Nuage de points : revenu médian par unité de consommation ({r.annee_revenus}) de chaque quartier "
        f"{text.de(r.nom_commune)}, comparé au seuil de la règle de 2014 ({text.euros(r.seuil_qpv2014)}). {details}.",
    )


def _figure_revenus_sans_seuil(r: RapportQ3, e: pd.DataFrame):
    """The quartiers' median incomes when the threshold cannot be computed: no line, and the
    title and text say why (never a threshold from an unknown input)."""
    import matplotlib.pyplot as plt

    from cucs_analysis.present import plots

    e = e.sort_values("revenu_median_uc")
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(e) + 1.5))
    rangs = range(len(e))
    ax.scatter(e["revenu_median_uc"], list(rangs), color=plots.GRIS, s=60, zorder=3)
    ax.set_yticks(list(rangs), [str(n) for n in e["nom"]])
    ax.set_xlabel(f"Revenu fiscal médian par unité de consommation en {r.annee_revenus} (€)")
    ax.set_title(
        f"Revenu médian des quartiers ({r.annee_revenus}) ; seuil de la règle de 2014 : n.d.", pad=12
    )
    ax.xaxis.set_major_formatter(plots.formatter_euros(compact=False))
    raisons = (
        text.liste_fr(_nd_regle(r, r.eligibilite, "regle_qpv2014"))
        if r.eligibilite["regle_qpv2014"].isna().any()
        else "données non disponibles"
    )
    details = text.liste_fr(
        [f"{n} : {text.euros(v)}" for n, v in zip(e["nom"], e["revenu_median_uc"], strict=False)]
    )
    return plots.set_alt(
        fig,
        f"Nuage de points : revenu médian par unité de consommation ({r.annee_revenus}) de chaque quartier "
        f"{text.de(r.nom_commune)} ; le seuil de la règle de 2014 n'est pas calculable ({raisons}). {details}.",
    )


def _etat(v) -> str:
    """« oui », « non » or « nd » for a rule's value (True, False, NA)."""
    if v is pd.NA or text.manquant(v):
        return "nd"
    return "oui" if bool(v) else "non"


def _map(gdf, column: str, categories: dict, title: str, outline=None):
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(7, 7))
    if outline is not None and not outline.empty:
        outline.boundary.plot(ax=ax, color="#888888", lw=0.8)
    handles = []
    for value, (label, color) in categories.items():
        part = gdf[gdf[column] == value]
        if not part.empty:
            part.plot(ax=ax, color=color, edgecolor="white", lw=0.5)
            handles.append(Patch(facecolor=color, label=label))
    ax.legend(handles=handles, loc="lower left", frameon=False, fontsize=9)
    ax.set_title(title)
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig


def _couleurs_classes(r: RapportQ3) -> dict[int, str]:
    from cucs_analysis.present import plots

    colors = list(plots.OKABE_ITO.values())
    return {int(c): colors[(int(c) - 1) % len(colors)] for c in r.typologie.effectifs.index}


def _nommer(ax, gdf, noms: pd.Series) -> list[tuple[int, str]]:
    """A number at a point inside each quartier (names of close quartiers overlapped: « Quartier
    Gare » over « Saint Assiscle »), and the list « 1 Quartier Gare… » beside the map. Returns
    the (number, name) pairs (data stay text)."""
    numeros = []
    for geom, nom in zip(gdf.geometry, noms, strict=True):
        if geom is None or geom.is_empty:
            continue
        pt = geom.representative_point()
        k = len(numeros) + 1
        ax.annotate(
            str(k),
            (pt.x, pt.y),
            fontsize=7,
            ha="center",
            va="center",
            color="#222222",
            bbox={"boxstyle": "circle,pad=0.2", "fc": "white", "ec": "#222222", "lw": 0.6, "alpha": 0.9},
            zorder=6,
        )
        numeros.append((k, str(nom)))
    if numeros:
        import textwrap

        fig = ax.figure
        w, h = fig.get_size_inches()
        fig.set_size_inches(w + 3.2, h)
        fig.subplots_adjust(left=0.02, right=w / (w + 3.2), top=0.9, bottom=0.03)
        lignes = [textwrap.fill(f"{k}  {nom}", 44, subsequent_indent="    ") for k, nom in numeros]
        ax.text(1.03, 1.0, "\n".join(lignes), transform=ax.transAxes, va="top", ha="left", fontsize=8)
    return numeros


def _titre_carte(ax, titre: str) -> None:
    """A title wrapped to the axes' width: a long one was cut (« (zoom sur les quartiers) »)."""
    import textwrap

    for loc in ("left", "center", "right"):
        ax.set_title("", loc=loc)
    ax.set_title(textwrap.fill(titre, 55), fontsize=11)


def _titre_actuel(ax) -> str:
    """The axes' title, wherever the style puts it (the house style puts it on the left: a
    bare `get_title()` reads the empty centre one, and the title became « (zoom…) » alone)."""
    return next((t for t in (ax.get_title(loc=x) for x in ("left", "center", "right")) if t), "")


def carte_commune(r: RapportQ3, territoire):
    """The commune's quartiers on their real contours, named: coloured by their eligibility under
    the QPV 2014 rule, or — when that rule finds no quartier eligible and is n.d. for most, and a
    typology exists — by their class in the regional typology (a map of « n.d. » says nothing)."""

    from cucs_analysis.present import plots

    q = territoire.quartiers
    if q is None or q.empty or "geometry" not in q or q.geometry.isna().all():
        return None
    gdf = q[["code_quartier", "nom", "geometry"]].merge(
        r.eligibilite[["code_quartier", "regle_qpv2014"]], on="code_quartier"
    )
    gdf["etat"] = [_etat(v) for v in gdf["regle_qpv2014"]]
    classes = gdf["code_quartier"].map(r.typologie.classes) if r.typologie is not None else None
    # Coloured by class when the income rule says little: no quartier found eligible and most n.d.
    peu = (gdf["etat"] == "oui").sum() == 0 and (gdf["etat"] == "nd").mean() >= 0.5
    par_classe = bool(peu and classes is not None and classes.notna().any())
    if par_classe:
        gdf["classe"] = classes
        couleurs = _couleurs_classes(r)
        cats = {
            c: (f"Classe {c} de la typologie régionale", couleurs[c])
            for c in sorted(int(x) for x in gdf["classe"].dropna().unique())
        }
        cats_nd = gdf["classe"].isna()
        fig = _map(
            gdf.assign(classe=gdf["classe"].fillna(0).astype(int)),
            "classe",
            cats | ({0: ("Non classé (n.d.)", "#DDDDDD")} if cats_nd.any() else {}),
            f"Quartiers {text.de(r.nom_commune)} : classe dans la typologie régionale",
            territoire.contour,
        )
    else:
        fig = _map(
            gdf,
            "etat",
            {
                "oui": ("Éligible (règle de revenu 2014)", plots.OKABE_ITO["bleu"]),
                "non": ("Non éligible", plots.GRIS),
                "nd": ("Non calculable (n.d.)", "#DDDDDD"),
            },
            f"Quartiers {text.de(r.nom_commune)}",
            territoire.contour,
        )
    ax = fig.axes[0]
    # Small quartiers in a large commune: a black outline keeps each one visible, and the map
    # zooms on them when they fill a small part of the commune (their names then stay apart).
    gdf.boundary.plot(ax=ax, color="#222222", lw=0.6)
    x0, y0, x1, y1 = gdf.total_bounds
    cx0, cy0, cx1, cy1 = ax.get_xlim()[0], ax.get_ylim()[0], ax.get_xlim()[1], ax.get_ylim()[1]
    if (x1 - x0) * (y1 - y0) < 0.25 * (cx1 - cx0) * (cy1 - cy0):
        cote = max(x1 - x0, y1 - y0) * 0.6 + 300  # a square around the quartiers, 300 m at least
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        ax.set_xlim(mx - cote, mx + cote)
        ax.set_ylim(my - cote, my + cote)
        _titre_carte(ax, _titre_actuel(ax) + " (zoom sur les quartiers)")
    else:
        _titre_carte(ax, _titre_actuel(ax))
    _nommer(ax, gdf, gdf["nom"])
    quartiers = "son quartier" if len(gdf) == 1 else f"ses {len(gdf)} quartiers"
    if par_classe:
        parts = [
            f"classe {c} : {text.liste_fr(str(n) for n in gdf.loc[gdf['classe'] == c, 'nom'])}"
            for c in sorted(int(x) for x in gdf["classe"].dropna().unique())
        ]
        if gdf["classe"].isna().any():
            parts.append(
                f"non classés : {text.liste_fr(str(n) for n in gdf.loc[gdf['classe'].isna(), 'nom'])}"
            )
        return plots.set_alt(
            fig,
            f"Carte {text.de(r.nom_commune)} et de {quartiers}, nommés et colorés selon leur classe dans la "
            f"typologie régionale (la règle de revenu de 2014 n'y est pas calculable pour la plupart) : "
            f"{text.liste_fr(parts)}.",
        )
    n_ok, n_non = int((gdf["etat"] == "oui").sum()), int((gdf["etat"] == "non").sum())
    n_nd = len(gdf) - n_ok - n_non
    parts = [
        f"{text.parmi(n_ok, len(gdf), 'quartier éligible', 'quartiers éligibles')} selon la règle de revenu de 2014 (en bleu)",
        f"{text.aucun(n_non, 'quartier non éligible', 'quartiers non éligibles')} (en gris)",
    ]
    if n_nd:
        parts.append(
            f"{text.pluriel(n_nd, 'quartier non calculable', 'quartiers non calculables')} (gris clair)"
        )
    return plots.set_alt(fig, f"Carte {text.de(r.nom_commune)} et de {quartiers} : {text.liste_fr(parts)}.")


def _nommer_villes(ax, points: pd.DataFrame, r: RapportQ3, communes) -> None:
    """Name, in each département, the commune with the most inhabitants in quartiers (not the
    commune of the page, named in bold), at its quartiers' centre."""
    import matplotlib.patheffects as pe

    e = r.eligibilite_region
    if e is None or e.empty or communes is None or "nom" not in communes or "code_commune" not in e:
        return
    pts = points.merge(e[["code_quartier", "code_commune"]], on="code_quartier", how="left")
    pop = pd.to_numeric(pts["population"], errors="coerce").fillna(0)
    par = (
        pts.assign(pop=pop).groupby("code_commune").agg(x=("x", "mean"), y=("y", "mean"), pop=("pop", "sum"))
    )
    info = communes.drop_duplicates("code_commune").set_index("code_commune")
    par = par.join(info[[c for c in ("nom", "code_departement") if c in info]], how="inner")
    par = par[par.index != r.code_commune]
    if par.empty:
        return
    dep = par["code_departement"] if "code_departement" in par else pd.Series("", index=par.index)
    choisies = par.assign(dep=dep.fillna("")).sort_values("pop", ascending=False).groupby("dep").head(1)
    for _code, row in choisies.iterrows():
        t = ax.annotate(
            str(row["nom"]),
            (row["x"], row["y"]),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=7,
            color="#333333",
            zorder=5,
        )
        t.set_path_effects([pe.withStroke(linewidth=2.5, foreground="white")])


#: Reference sizes of the population legend of the regional map (inhabitants).
TAILLES_LEGENDE = (1_000, 5_000, 20_000)


def carte_region(r: RapportQ3, region):
    """Every quartier of the region as a point at its centre, coloured by its typology class and
    sized by its population, over the communes' outlines (small quartiers over a whole region are
    invisible as polygons); the commune's quartiers are circled in black."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from cucs_analysis.present import plots

    geo = region.contours_quartiers
    if geo is None or r.typologie is None or geo.empty:
        return None
    gdf = geo[["code_quartier", geo.geometry.name]].copy()
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if gdf.empty:
        return None
    pts = gdf.geometry.representative_point()
    gdf["x"], gdf["y"] = pts.x, pts.y
    gdf["classe"] = gdf["code_quartier"].map(r.typologie.classes)
    e = r.eligibilite_region.set_index("code_quartier") if not r.eligibilite_region.empty else pd.DataFrame()
    pop = pd.to_numeric(e["population"], errors="coerce") if "population" in e else pd.Series(dtype=float)
    gdf["population"] = gdf["code_quartier"].map(pop)
    ref = float(gdf["population"].max()) if gdf["population"].notna().any() else 0.0

    def taille(p):
        p = pd.Series(p, dtype=float)
        return (
            (12 + 330 * (p.clip(lower=0) / ref) ** 0.5).fillna(12)
            if ref > 0
            else pd.Series(30.0, index=p.index)
        )

    fig, ax = plt.subplots(figsize=(9, 6.5))
    fig.subplots_adjust(left=0.02, right=0.68, top=0.92, bottom=0.03)  # room for the legends
    communes = region.contours_communes
    if communes is not None and not communes.empty:
        communes.plot(ax=ax, color="#F3F3F3", edgecolor="#D0D0D0", lw=0.3)
        if "code_departement" in communes and communes["code_departement"].notna().any():
            deps = communes.dropna(subset=["code_departement"]).dissolve(by="code_departement")
            deps.boundary.plot(ax=ax, color="#707070", lw=0.8)
    _nommer_villes(ax, gdf, r, communes)
    couleurs = _couleurs_classes(r)
    gdf = gdf.sort_values("population", ascending=False, na_position="last")  # small points on top
    nc = gdf["classe"].isna()
    if nc.any():
        ax.scatter(
            gdf.loc[nc, "x"],
            gdf.loc[nc, "y"],
            s=taille(gdf.loc[nc, "population"]),
            facecolors="white",
            edgecolors=plots.GRIS,
            lw=0.8,
            zorder=3,
        )
    ax.scatter(
        gdf.loc[~nc, "x"],
        gdf.loc[~nc, "y"],
        s=taille(gdf.loc[~nc, "population"]),
        c=[couleurs[int(c)] for c in gdf.loc[~nc, "classe"]],
        edgecolors="white",
        lw=0.5,
        alpha=0.9,
        zorder=3,
    )
    mine = gdf["code_quartier"].isin(r.eligibilite["code_quartier"])
    if mine.any():
        # thin, half-transparent rings: the classes of the commune's points stay readable
        ax.scatter(
            gdf.loc[mine, "x"],
            gdf.loc[mine, "y"],
            s=taille(gdf.loc[mine, "population"]) * 1.5,
            facecolors="none",
            edgecolors=(0, 0, 0, 0.55),
            lw=0.6,
            zorder=4,
        )
        cx, cy = gdf.loc[mine, "x"].mean(), gdf.loc[mine, "y"].max()
        import matplotlib.patheffects as pe

        t = ax.annotate(
            str(r.nom_commune),
            (cx, cy),
            xytext=(0, 10),
            textcoords="offset points",
            ha="center",
            fontsize=9,
            fontweight="bold",
            zorder=5,
        )
        t.set_path_effects([pe.withStroke(linewidth=3, foreground="white")])
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            markerfacecolor=couleurs[int(c)],
            markeredgecolor="white",
            markersize=8,
            label=f"Classe {int(c)} ({text.pluriel(int(n), 'quartier')})",
        )
        for c, n in r.typologie.effectifs.items()
    ]
    if nc.any():
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markerfacecolor="white",
                markeredgecolor=plots.GRIS,
                markersize=6,
                label=f"Non classé, n.d. ({text.pluriel(int(nc.sum()), 'quartier')})",
            )
        )
    if mine.any():
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markerfacecolor="none",
                markeredgecolor="black",
                markersize=9,
                label=f"Quartiers {text.de(r.nom_commune)}",
            )
        )
    # Legends in figure coordinates, right of the map: never cut whatever the saving bbox.
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.69, 0.9),
        frameon=False,
        fontsize=8,
        title="Typologie",
        title_fontsize=9,
    )
    if ref > 0:
        tailles = [v for v in TAILLES_LEGENDE if v <= ref] or [ref]
        sh = [
            plt.scatter(
                [],
                [],
                s=float(taille([v]).iloc[0]),
                facecolors="#BBBBBB",
                edgecolors="white",
                label=f"{text.nombre(v)} hab.",
            )
            for v in tailles
        ]
        fig.legend(
            handles=sh,
            loc="lower left",
            bbox_to_anchor=(0.69, 0.1),
            frameon=False,
            fontsize=8,
            title="Population",
            title_fontsize=9,
            labelspacing=1.3,
        )
    ax.set_title("Typologie des quartiers de la région (un point par quartier)")
    ax.set_axis_off()
    ax.set_aspect("equal")
    desc = " ".join(f"Classe {c} : {text.minuscule_initiale(d)}" for c, d in r.typologie.descriptions.items())
    return plots.set_alt(
        fig,
        f"Carte de la région : les {len(gdf)} quartiers, chacun figuré par un point à son centre, de taille "
        f"proportionnelle à sa population et coloré selon sa classe dans la typologie ({len(couleurs)} classes), "
        f"sur les contours des communes qui en comptent ; les quartiers {text.de(r.nom_commune)} sont cerclés de "
        f"noir. {desc}",
    )


def _avant(debut: int, annee_debut_cucs: int) -> str:
    """The period before the contract, or « aucune année avant 2015 » when there is none."""
    if debut > annee_debut_cucs - 1:
        return f"aucune année avant {annee_debut_cucs}"
    return text.annee_periode(debut, annee_debut_cucs - 1)


def _annees_zus(r: RapportQ3) -> str:
    parts = []
    for i in ("population", "taux_chomage", "part_moins_25_ans", "part_sans_diplome", "potentiel_fiscal_hab"):
        a = r.annees_eligibilite.get(f"zus:{i}") or {}
        y = a.get("utilisee")
        lib = "potentiel fiscal par habitant" if i == "potentiel_fiscal_hab" else _libelle_entree(r, i)
        parts.append(f"{lib} : {'absent des données' if y is None else y}")
    return text.liste_fr(parts) if r.annees_eligibilite else str(r.annee_zus)


def _annees_echelles(r: RapportQ3) -> str:
    if not r.annees_echelles:
        return "aucun indicateur des quartiers"
    return text.liste_fr(f"{_libelle_entree(r, i)} : {y}" for i, y in r.annees_echelles.items())


def _annees_typologie(r: RapportQ3) -> str:
    retenus = (r.typologie_entrees or {}).get("retenus")
    if not retenus:
        return f"de {r.annee}" if not r.typologie_entrees else "aucun indicateur disponible"
    if len(set(retenus.values())) == 1:
        return f"{text.liste_fr(_libelle_entree(r, i) for i in retenus)} : {next(iter(retenus.values()))}"
    return text.liste_fr(f"{_libelle_entree(r, i)} : {y}" for i, y in retenus.items())


def legende_typologie(r: RapportQ3) -> str:
    """« indicateurs : taux de pauvreté : 2017 et … » for the typology tables' captions."""
    return (
        f"indicateurs {_annees_typologie(r)}"
        if _annees_typologie(r).startswith("de ")
        else (f"indicateurs : {_annees_typologie(r)}")
    )


def sources(r: RapportQ3, params, metadata) -> list[str]:
    """The 'Sources et méthode' list, with the values actually used."""
    nat = (
        text.euros(r.revenu_median_national)
        if geography.plausible_median(r.revenu_median_national)
        else "n.d. (à donner dans metadonnees.yaml, clé revenu_median_national, ou par le paramètre "
        "qpv2014.revenu_median_national)"
    )
    mention = phrase_annees_import(r)
    return [
        rapport.source_donnees(metadata),
        f"Règle de revenu (décret 2014-767) : seuil = 0,6 × (0,7 × médiane nationale + 0,3 × médiane de l'unité "
        f"urbaine), arrondi à la centaine d'euros supérieure ; médiane nationale retenue : {nat} ; "
        f"{phrase_annee(r, 'revenu_median_uc', 'revenus')} ; "
        f"{phrase_annee(r, 'population', 'population')} ; quartiers d'au moins {text.nombre(params.qpv2014.population_min_quartier)} "
        f"habitants dans une unité urbaine d'au moins {text.nombre(params.qpv2014.population_min_uu)} habitants.",
        f"Indice de type ZUS ({params.zus.annee}) : population × taux de chômage × part des moins de 25 ans × part "
        "des sans-diplôme ÷ potentiel fiscal par habitant de la commune ; éligible au-delà du quantile "
        f"{text.nombre(params.zus.seuil_quantile, 2)} des quartiers de la région ; années lues : {_annees_zus(r)}.",
        f"Règle « dynamique » : écart du quartier à sa commune ({_libelle_entree(r, params.dynamique.indicateur)}) "
        "creusé d'au moins "
        f"{text.nombre(params.dynamique.seuil_points, 1)} points entre {params.dynamique.annee_debut} et "
        f"{params.dynamique.annee_fin} (ces périodes exactes : aucune autre année ne les remplace).",
        f"Indicateurs aux différentes échelles : chacun à la dernière année disponible ({_annees_echelles(r)})."
        + (f" {mention}" if mention else ""),
        "Écarts : un quartier n'est dit « plus élevé » ou « plus faible » que sa commune que si les intervalles de "
        "confiance à 95 % (méthode de Wilson) ne se chevauchent pas.",
        f"Typologie : classification ascendante hiérarchique (méthode de Ward) sur indicateurs centrés réduits "
        f"({_annees_typologie(r)}), {params.typologie.nombre_classes} classes au plus, tous les quartiers de la région.",
        "Échelle du quartier : chômeurs (numérateur du taux de chômage) et personnes pauvres (numérateur du "
        "taux de pauvreté) des quartiers prioritaires rapportés à ceux de la commune, même année ; hors CUCS, les "
        "quartiers observés. Une action est « ciblée sur un quartier » quand elle porte un code de quartier, "
        "sinon elle vaut pour la commune entière.",
        "Jeunesse : actions dont le public déclaré désigne des enfants, des collégiens ou des jeunes de moins "
        "de 25 ans.",
        f"Grandes entrées : taux des quartiers regroupés (somme des numérateurs ÷ somme des dénominateurs) comparés "
        f"à la commune, avant ({_avant(params.periode.debut, params.annee_debut_cucs)}) et pendant "
        f"({text.annee_periode(params.annee_debut_cucs, params.periode.fin)}) le contrat.",
        rapport.source_secret(params.seuil_secret) + ".",
    ]


# --- views: the tables the notebook shows (numbers, French headers and units) -----------------
#
# Each `vue_<name>(r)` is a `present.display.vue`; `r.tables` returns them all by name. A view
# with no row says what is missing (no quartier in the commune, no typology).

SANS_QUARTIER = "aucun quartier dans cette commune"
#: Units of the indicator catalogue → units of a view (`display.UNITES`); any other: decimal.
UNITES_CATALOGUE = {"%": "pourcentage", "€": "euros", "": "nombre", "nombre": "nombre"}
COLONNES_MOUVEMENTS = {
    "maintenus": ("Maintenus", "nombre"),
    "entrants": ("Entrants", "nombre"),
    "sortants": ("Sortants", "nombre"),
}
COLONNES_ENTREES_SORTIES = {
    "regle": ("Règle", "texte"),
    "eligibles": ("Éligibles", "nombre"),
    **COLONNES_MOUVEMENTS,
    "non_calculables": ("Non calculables (n.d.)", "nombre"),
}
COLONNES_TRANSITIONS = {
    "etape": ("Étape", "texte"),
    **COLONNES_MOUVEMENTS,
    "non_calculables": ("Non calculables (n.d. : liste inconnue)", "nombre"),
}
COLONNES_CLASSES = {
    "classe": ("Classe", "nombre"),
    "effectif": ("Quartiers", "nombre"),
    "description": ("Profil", "texte"),
}
COLONNES_CLASSES_COMMUNE = {"nom": ("Quartier", "texte"), "classe": ("Classe", "nombre")}


def tableau_classes(r: RapportQ3) -> pd.DataFrame:
    """One row per class of the regional typology: number of quartiers and profile in words."""
    if r.typologie is None:
        return pd.DataFrame(columns=["classe", "effectif", "description"])
    t = r.typologie
    return pd.DataFrame(
        {
            "classe": list(t.descriptions),
            "effectif": [int(t.effectifs.get(c, 0)) for c in t.descriptions],
            "description": list(t.descriptions.values()),
        }
    )


def _unite_vue(unite: object) -> str:
    return UNITES_CATALOGUE.get("" if text.manquant(unite) else str(unite).strip(), "decimal")


def _ecarts_significatifs(lignes: pd.DataFrame, libelles: dict[str, str]) -> str:
    """« plus élevé : a et b ; plus faible : c » for one quartier's significant gaps to its commune;
    the indicators without a gap (no commune value, a secret cell) are said n.d., never « aucun
    écart significatif »."""
    parts = []
    for sens in ("plus élevé", "plus faible"):
        inds = lignes.loc[lignes["comparaison"] == sens, "indicateur"]
        if not inds.empty:
            noms = [text.minuscule_initiale(libelles.get(i, i)) for i in inds]
            parts.append(f"{sens} : {text.liste_fr(noms)}")
    calcules = lignes["comparaison"].notna()
    if not parts and calcules.any():
        parts.append("aucun écart significatif")
    sans = lignes[~calcules]
    if not sans.empty:
        secret = (
            sans["secret"].fillna(False).astype(bool)
            if "secret" in sans
            else pd.Series(False, index=sans.index)
        )
        commune = sans[~secret & sans["valeur"].notna()]
        if not commune.empty:
            noms = [text.minuscule_initiale(libelles.get(i, i)) for i in commune["indicateur"]]
            parts.append(
                "n.d. (la commune n'a pas de valeur)"
                if len(commune) == len(lignes)
                else f"n.d. pour {text.liste_fr(noms)} (la commune n'a pas de valeur)"
            )
        if secret.any():
            noms = [text.minuscule_initiale(libelles.get(i, i)) for i in sans.loc[secret, "indicateur"]]
            parts.append(f"n.d. pour {text.liste_fr(noms)} (secret statistique)")
    return " ; ".join(parts) or "n.d."


def annees_differentes(r: RapportQ3) -> bool:
    """Whether the indicators at every scale are of different years (then each header says its own)."""
    shown = (
        {r.annees_echelles.get(i) for i in set(r.echelles["indicateur"])} if not r.echelles.empty else set()
    )
    return len(shown - {None}) > 1


def legende_echelles(r: RapportQ3) -> str:
    """The caption of the scales table: its one year, or « dernière année disponible de chacun »."""
    if annees_differentes(r):
        return "Indicateurs à la dernière année disponible de chacun (année entre parenthèses)"
    shown = (
        {r.annees_echelles.get(i) for i in set(r.echelles["indicateur"])} - {None}
        if not r.echelles.empty
        else set()
    )
    return f"Indicateurs en {shown.pop() if shown else r.annee}"


def vue_echelles(r: RapportQ3) -> pd.DataFrame:
    """Territories (the commune's quartiers, then commune, EPCI, département, région) ×
    indicators of `r.annee`, « s » for a secret value; for each quartier, the indicators whose
    gap to the commune is significant (the confidence intervals do not overlap)."""
    e = r.echelles
    colonnes = {"territoire": ("Territoire", "texte")}
    if e.empty:
        return display.vue(None, colonnes, vide="indicateurs aux différentes échelles")
    cat = r.catalogue.set_index("indicateur") if not r.catalogue.empty else pd.DataFrame()
    libelles = {i: str(cat["libelle"].get(i, i)) if "libelle" in cat else i for i in e["indicateur"]}
    unites = cat["unite"] if "unite" in cat else pd.Series(dtype=object)
    noms = dict(zip(r.eligibilite["code_quartier"], r.eligibilite["nom"], strict=False))

    def territoire(niveau: str, code: str) -> str:
        if niveau == "quartier":
            return noms.get(code, code)
        return NIVEAUX_LIBELLES[niveau] + (f" ({r.nom_commune})" if niveau == "commune" else "")

    # Pivot on the (level, code) key, never on a display name: two quartiers may share a name.
    e = e.assign(
        cle=e["niveau"].astype(str) + "|" + e["code_territoire"].astype(str),
        territoire=[territoire(n, c) for n, c in zip(e["niveau"], e["code_territoire"], strict=True)],
        secret=e["secret"].fillna(False).astype(bool),
    )
    ordre = list(dict.fromkeys(e["cle"]))
    noms_cle = dict(zip(e["cle"], e["territoire"], strict=False))
    wide = e.pivot(index="cle", columns="indicateur", values="valeur").reindex(ordre)
    secrets = e.pivot(index="cle", columns="indicateur", values="secret").reindex(ordre)
    indicateurs = [i for i in INDICATEURS_ECHELLES if i in wide.columns]
    for i in indicateurs:  # a column stays numeric unless one of its values is secret
        cache = secrets[i].fillna(False).astype(bool)
        if cache.any():
            wide[i] = display.avec_secret(wide[i], cache)
    rang = {i: k for k, i in enumerate(INDICATEURS_ECHELLES)}
    quartiers = e[e["niveau"] == "quartier"].sort_values(
        "indicateur", key=lambda c: c.map(rang), kind="stable"
    )
    ecarts = {k: _ecarts_significatifs(g, libelles) for k, g in quartiers.groupby("cle", sort=False)}
    df = wide[indicateurs].rename_axis(index="cle", columns=None).reset_index()
    df["ecarts"] = [ecarts.get(k, "") for k in df["cle"]]
    df.insert(0, "territoire", df.pop("cle").map(noms_cle))
    differentes = annees_differentes(r)
    colonnes |= {
        i: (
            f"{libelles[i]} ({r.annees_echelles[i]})"
            if differentes and i in r.annees_echelles
            else libelles[i],
            _unite_vue(unites.get(i)),
        )
        for i in indicateurs
    }
    if (e["niveau"] != "quartier").any():
        colonnes["ecarts"] = ("Écart significatif à la commune", "texte")
    else:  # no commune value: no gap to show (said under the table, `notes_echelles`)
        df = df.drop(columns="ecarts")
    return display.vue(df, colonnes, vide="indicateurs aux différentes échelles")


def _annee_entree(r: RapportQ3, indicateur: str, defaut):
    """The year the rules read an input at (its parameter's year for an older region stage)."""
    a = r.annees_eligibilite.get(indicateur) or {}
    y = a.get("utilisee", defaut)
    return "n.d." if y is None else y


def colonnes_eligibilite(r: RapportQ3) -> dict[str, tuple[str, str]]:
    """The eligibility view's columns: every value carries its year in its header."""
    p = r.parametres
    return {
        "nom": ("Quartier", "texte"),
        "categorie": ("Catégorie", "texte"),
        "population": (f"Habitants ({_annee_entree(r, 'population', r.annee_revenus)})", "nombre"),
        "revenu_median_uc": (
            f"Revenu médian par UC ({_annee_entree(r, 'revenu_median_uc', r.annee_revenus)})",
            "euros",
        ),
        "seuil_qpv2014": ("Seuil de la règle de revenu", "euros"),
        "regle_qpv2014": ("Règle de revenu 2014", "texte"),
        "regle_zus": (f"Indice de type ZUS ({r.annee_zus})", "texte"),
        "variation": (
            f"Variation de l'écart à la commune, {text.minuscule_initiale(_libelle(r, p.get('dynamique_indicateur', '')))} "
            f"(points, {_periodes_dynamique(p)})",
            "decimal",
        ),
        "regle_dynamique": ("Règle « dynamique »", "texte"),
    }


#: The cell of a rule that is n.d. for the same reason in every quartier (the reason is the
#: sentence above the table, `r.phrases["eligibilite"]`).
ND_MEME_RAISON = "n.d. (raison ci-dessus)"


def tableau_eligibilite(r: RapportQ3) -> pd.DataFrame:
    """Each quartier: its category (1/2/3, veille, hors CUCS), the values the rules use and,
    for each rule, « oui », « non : <reason> » or « n.d. : <why> »."""
    e = r.eligibilite
    if e.empty:
        return e.assign(categorie=pd.Series(dtype=object))
    out = e.copy()
    out["categorie"] = [CATEGORIE_LIBELLES[_categorie(row)] for row in e.itertuples()]
    # the change of the gap as the reader recomputes it from the two gaps in the cell beside it
    out["variation"] = pd.array(
        [text.difference_affichee(a, b) for a, b in zip(e["ecart_debut"], e["ecart_fin"], strict=True)],
        dtype="Float64",
    ).astype(float)
    verdicts = [raisons_libelles(r, row) for row in e.itertuples()]
    for regle in REGLES:
        cells = [v[regle] for v in verdicts]
        # One reason for several quartiers (a whole input missing): said once above the table.
        nd = [c for c in cells if c.startswith("n.d.")]
        if len(nd) > 1 and len(set(nd)) == 1:
            cells = [ND_MEME_RAISON if c.startswith("n.d.") else c for c in cells]
        out[regle] = cells
    # A quartier's population is a count of people: below the threshold it reads « s ».
    petit = privacy.primary_mask(out["population"].astype(float), r.seuil_secret).fillna(False).astype(bool)
    if petit.any():
        out["population"] = display.avec_secret(out["population"], petit)
    return out


def vue_eligibilite(r: RapportQ3) -> pd.DataFrame:
    """Each quartier of the commune under the three eligibility rules, with the reason of each verdict."""
    return display.vue(tableau_eligibilite(r), colonnes_eligibilite(r), vide=SANS_QUARTIER)


def vue_entrees_sorties(r: RapportQ3) -> pd.DataFrame:
    """Per rule: eligible quartiers, and those of the CUCS list it keeps, adds or leaves out."""
    e = r.entrees_sorties
    p = r.parametres
    annees = {
        "regle_zus": f"{r.annee_zus}",
        "regle_qpv2014": f"revenus {r.annee_revenus}",
        "regle_dynamique": _periodes_dynamique(p),
    }
    libelles = {k: f"{labels.majuscule(v)} ({annees[k]})" for k, v in REGLES_COURTES.items()}
    e = e.assign(regle=e["regle"].map(libelles))
    n = len(r.eligibilite)
    if n and not e.empty:
        # A count of a rule n.d. everywhere is « n.d. », never 0; so are the movements of a list
        # whose membership is unknown for every quartier (a CUCS category « inconnu »).
        nd_regle = e["non_calculables"] >= n
        liste_inconnue = bool(r.eligibilite["dans_cucs"].isna().all())
        for c in ("eligibles", "maintenus", "entrants", "sortants"):
            masque = nd_regle | (liste_inconnue and c != "eligibles")
            if masque.any():
                e[c] = display.avec_secret(e[c], masque, None)
    return display.vue(e, COLONNES_ENTREES_SORTIES, vide=SANS_QUARTIER)


def vue_transitions(r: RapportQ3) -> pd.DataFrame:
    """Movements of the official lists (CUCS → QPV 2015 → QPV 2024) in the commune."""
    t = r.transitions
    colonnes = dict(COLONNES_TRANSITIONS)
    if "non_calculables" not in t or not t["non_calculables"].any():
        colonnes.pop("non_calculables")  # every membership known: the demo's table as before
    elif len(r.eligibilite):
        nd = t["non_calculables"] >= len(r.eligibilite)  # no movement known: « n.d. », never 0
        t = t.assign(
            **{c: display.avec_secret(t[c], nd, None) for c in ("maintenus", "entrants", "sortants")}
        )
    return display.vue(t, colonnes, vide=SANS_QUARTIER)


def vue_classes(r: RapportQ3) -> pd.DataFrame:
    """The classes of the regional typology: number of quartiers and profile in words."""
    return display.vue(
        tableau_classes(r) if r.typologie is not None else None,
        COLONNES_CLASSES,
        vide="typologie impossible (indicateurs manquants)",
    )


def vue_classes_commune(r: RapportQ3) -> pd.DataFrame:
    """The class of each quartier of the commune."""
    return display.vue(
        r.classes_commune, COLONNES_CLASSES_COMMUNE, vide="aucun quartier classé dans cette commune"
    )


COLONNES_REPARTITION = {
    "personnes": ("Personnes", "texte"),
    "annee": ("Année", "annee"),
    "personnes_quartiers": ("Dans les quartiers", "nombre"),
    "personnes_commune": ("Dans la commune", "nombre"),
    "part": ("Part vivant dans les quartiers", "pourcentage"),
}


def vue_repartition(r: RapportQ3) -> pd.DataFrame:
    """Share of the commune's unemployed, poor and inhabitants living in its priority quartiers
    (outside the CUCS: in its quartiers observed); base: the commune's count, same year."""
    rep = r.repartition
    if rep.empty or int(rep["n_quartiers"].iloc[0]) == 0:
        return display.vue(None, COLONNES_REPARTITION, vide="aucun quartier prioritaire dans cette commune")
    rep = rep.assign(personnes=[labels.majuscule(PERSONNES[i][1]) for i in rep["indicateur"]])
    # Counts of people: fewer than the threshold is secret, and so is the share computed on it.
    petit = (
        privacy.primary_mask(rep["personnes_quartiers"].astype(float), r.seuil_secret)
        .fillna(False)
        .astype(bool)
    ) | (rep["secret"].fillna(False).astype(bool) & rep["personnes_quartiers"].isna())
    if petit.any():
        for c in ("personnes_quartiers", "part"):
            rep[c] = display.avec_secret(rep[c], petit)
    return display.vue(rep, COLONNES_REPARTITION, vide="aucun quartier prioritaire dans cette commune")


def _vide(r: RapportQ3) -> str:
    """What an empty programme view lacks, carrying its reason: display writes « Hors CUCS :
    actions du contrat. » outside the CUCS, « Données non disponibles : actions de la commune. »."""
    if r.signataire is False:
        return display.Absence("actions du contrat", motifs.HORS_CUCS)
    return display.Absence("actions de la commune", motifs.DONNEE_ABSENTE)


CIBLAGE_LIBELLES = {
    geography.CIBLE_QUARTIER: "Ciblées sur un quartier",
    geography.CIBLE_COMMUNE: "Commune entière",
}


def vue_ciblage(r: RapportQ3) -> pd.DataFrame:
    """Quartier-targeted vs commune-wide actions: actions, action-years, specific credits."""
    a = f" ({text.annee_periode(*r.annees_actions)})" if r.annees_actions else ""
    colonnes = {
        "ciblage": ("Actions", "texte"),
        "actions": ("Nombre d'actions", "nombre"),
        "actions_annees": ("Actions-années", "nombre"),
        "credits_specifiques": (f"Crédits spécifiques accordés{a}", "euros"),
        "part_credits_specifiques": ("Part des crédits spécifiques", "pourcentage"),
    }
    vide = _vide(r)
    if r.ciblage.empty or r.signataire is False:
        return display.vue(None, colonnes, vide=vide)
    c = r.ciblage.assign(ciblage=r.ciblage["ciblage"].map(CIBLAGE_LIBELLES))
    return display.vue(c, colonnes, vide=vide)


def vue_credits_quartiers(r: RapportQ3) -> pd.DataFrame:
    """Per quartier: category, inhabitants, actions targeted on it and specific credits per inhabitant."""
    a = f" ({text.annee_periode(*r.annees_actions)})" if r.annees_actions else ""
    colonnes = {
        "nom": ("Quartier", "texte"),
        "categorie": ("Catégorie", "texte"),
        "population_annee": (f"Habitants ({r.annees_echelles.get('population', r.annee)})", "nombre"),
        "actions": (f"Actions ciblées{a}", "nombre"),
        "credits_specifiques": (f"Crédits spécifiques{a}", "euros"),
        "credits_specifiques_hab": ("Crédits spécifiques par habitant", "euros"),
    }
    cq = r.credits_quartiers
    if r.ciblage.empty and r.signataire is not False:  # no programme: no « 0 € » per quartier
        return display.vue(None, colonnes, vide=_vide(r))
    if r.signataire is False or cq.empty or "nom" not in cq:
        return display.vue(None, colonnes, vide=_vide(r) if r.signataire is False else SANS_QUARTIER)
    cq = cq.assign(categorie=cq["categorie"].map(CATEGORIE_LIBELLES))
    if "population_annee_secret" in cq and cq["population_annee_secret"].any():
        m = cq["population_annee_secret"].astype(bool)
        for c in ("population_annee", "credits_specifiques_hab"):
            cq[c] = display.avec_secret(cq[c], m)
    return display.vue(cq, colonnes, vide=SANS_QUARTIER)


def vue_bilans(r: RapportQ3) -> pd.DataFrame:
    """Per target (each quartier, the commune as a whole): action-years carried out, achievement
    on one base, and the coded statements of the operators' bilans."""
    colonnes = {
        "cible": ("Ciblage", "texte"),
        "annees_realisees": ("Actions-années réalisées", "nombre"),
        "annees_non_pourvues": ("Non pourvues", "nombre"),
        "annees_abandonnees": ("Abandonnées", "nombre"),
        "prevus_realisees": ("Bénéficiaires prévus (actions réalisées)", "nombre"),
        "realises": ("Bénéficiaires touchés", "nombre"),
        "taux_realisation": ("Taux de réalisation", "part"),
        "bilans_reussite": ("Réussites", "nombre"),
        "bilans_difficulte": ("Difficultés", "nombre"),
        "bilans_ecart_explique": ("Écarts expliqués", "nombre"),
        "bilans_blocage": ("Blocages", "nombre"),
    }
    b = r.bilans
    vide = _vide(r)
    if b.empty or r.signataire is False:
        return display.vue(None, colonnes, vide=vide)
    noms = dict(zip(r.eligibilite["code_quartier"], r.eligibilite["nom"], strict=False))
    b = b.assign(cible=[noms.get(c, c) if c else "Commune entière" for c in b["cible"]])
    m = r.bilans_secret
    for c in [c for c in colonnes if c in m and m[c].any()]:  # a column stays numeric unless secret
        b[c] = display.avec_secret(b[c], m[c])
    return display.vue(b, colonnes, vide=vide)


def vue_jeunesse(r: RapportQ3) -> pd.DataFrame:
    """Actions aimed at young people (declared public) vs the others: actions and specific credits."""
    a = f" ({text.annee_periode(*r.annees_actions)})" if r.annees_actions else ""
    colonnes = {
        "public": ("Public déclaré", "texte"),
        "actions": ("Nombre d'actions", "nombre"),
        "actions_annees": ("Actions-années", "nombre"),
        "credits_specifiques": (f"Crédits spécifiques{a}", "euros"),
        "part_credits_specifiques": ("Part des crédits spécifiques", "pourcentage"),
    }
    j = r.jeunesse
    vide = _vide(r)
    if j.empty or r.signataire is False:
        return display.vue(None, colonnes, vide=vide)
    j = j.assign(public=j["public"].map({"jeunes": "Enfants et jeunes", "autres": "Autres publics"}))
    return display.vue(j, colonnes, vide=vide)


def vue_entrees(r: RapportQ3) -> pd.DataFrame:
    """Per indicator: the gap of the quartiers (pooled) to the commune before and during the
    contract, its change, and the share of specific credits of the matching domain."""
    p = r.parametres
    avant = _avant(p.get("debut"), p.get("annee_debut_cucs") or 1)
    pendant = text.annee_periode(p.get("annee_debut_cucs"), p.get("fin"))
    colonnes = {
        "libelle": ("Indicateur", "texte"),
        "valeur_quartiers_avant": (f"Quartiers ({avant})", "decimal"),
        "valeur_commune_avant": (f"Commune ({avant})", "decimal"),
        "ecart_avant": (f"Écart avant le CUCS ({avant})", "decimal"),
        "valeur_quartiers_pendant": (f"Quartiers ({pendant})", "decimal"),
        "valeur_commune_pendant": (f"Commune ({pendant})", "decimal"),
        "ecart_pendant": (f"Écart pendant le CUCS ({pendant})", "decimal"),
        "variation_ecart": ("Variation de l'écart", "decimal"),
        "domaine_libelle": ("Domaine d'action", "texte"),
        "part_credits_domaine": ("Part des crédits spécifiques du domaine", "pourcentage"),
    }
    if r.signataire is False:  # no programme: its credits are hors CUCS, not "n.d."
        colonnes = {k: v for k, v in colonnes.items() if k not in ("domaine_libelle", "part_credits_domaine")}
    e = r.entrees
    if e.empty:
        return display.vue(
            None, colonnes, vide="écarts des quartiers à la commune avant et pendant le contrat"
        )
    e = e.assign(
        libelle=[f"{_libelle(r, i)} ({_unite(r, i) or ''})".replace(" ()", "") for i in e["indicateur"]],
        domaine_libelle=[labels.libelle_domaine(d) if isinstance(d, str) else "aucun" for d in e["domaine"]],
    )
    return display.vue(e, colonnes, vide="écarts des quartiers à la commune avant et pendant le contrat")
