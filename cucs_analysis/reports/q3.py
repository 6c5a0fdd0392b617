"""q3 — « En quoi l'échelle du quartier prioritaire est-elle pertinente ? Quelle géographie
prioritaire ? »: everything the notebook shows, computed from one commune's Territory.

The notebook calls `build(territoire, region, params)`, then shows each table as
`d.tableau(q3.vue_<name>(r), legende=…)` and each figure or map as `d.figure(…, quoi)`; the
French findings are generated here so that they are tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cucs_analysis.analysis import geography, trends
from cucs_analysis.analysis.typology import Typology
from cucs_analysis.present import display, labels, text
from cucs_analysis.reports.rapport import AvecVues
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
    secrets: int  # secret cells among the quartier indicators used
    catalogue: pd.DataFrame = field(default_factory=pd.DataFrame)  # indicators: libelle, unite
    constats: list[str] = field(default_factory=list)
    reserves: list[str] = field(default_factory=list)
    debat: list[str] = field(default_factory=list)
    chiffres_cles: list[dict] = field(default_factory=list)

    def resultats(self) -> dict:
        """The q3 keys of the results contract (DESIGN.md §6)."""
        elig = self.eligibilite
        return {
            "eligibilite": [
                {
                    "code_quartier": r.code_quartier,
                    "regle_zus": bool(r.regle_zus),
                    "regle_qpv2014": bool(r.regle_qpv2014),
                    "regle_dynamique": bool(r.regle_dynamique),
                }
                for r in elig.itertuples()
            ],
            "seuil_qpv2014": self.seuil_qpv2014,
            "typologie": [
                {"code_quartier": r.code_quartier, "classe": int(r.classe)}
                for r in self.classes_commune.itertuples()
            ],
        }


def scales_table(territoire, annee: int, indicateurs: tuple[str, ...] = INDICATEURS_ECHELLES) -> pd.DataFrame:
    """Each indicator for the commune's quartiers and every upper level, one year; quartiers
    carry their gap to the commune with the Wilson-interval flag."""
    ind = territoire.indicateurs
    ind = ind[(ind["annee"] == annee) & ind["indicateur"].isin(indicateurs)]
    commune = territoire.commune
    codes = {
        "quartier": list(territoire.quartiers["code_quartier"]),
        "commune": [commune["code_commune"]],
        "epci": [commune["code_epci"]],
        "departement": [commune["code_departement"]],
        "region": [commune["code_region"]],
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


def build(territoire, region, params) -> RapportQ3:
    """The q3 report of one commune; `region` is the region stage (eligibility, typology)."""
    code = territoire.code_commune
    nom = str(territoire.commune.get("nom", code))
    elig = region.quartiers_de(code)
    national = region.revenu_median_national
    commune = territoire.commune
    seuil = None
    if national is not None and pd.notna(commune.get("revenu_median_uu")):
        seuil = float(
            geography.qpv2014_threshold(
                national, commune["revenu_median_uu"], commune.get("population_unite_urbaine") or 0
            )
        )
    entrees = geography.entries_exits(
        elig.set_index("code_quartier")[list(REGLES)], elig.set_index("code_quartier")["dans_cucs"]
    )
    transitions = geography.list_transitions(pd.DataFrame(territoire.quartiers))
    annee = latest_quartier_year(territoire.indicateurs, params.periode.fin)
    echelles = scales_table(territoire, annee)
    typo = labels.typologie_decrite(region.typologie)
    if typo is not None and not elig.empty:
        classes = elig[["code_quartier", "nom"]].assign(classe=elig["code_quartier"].map(typo.classes))
        classes = classes.dropna(subset=["classe"]).astype({"classe": "int64"})
        classes["description"] = classes["classe"].map(typo.descriptions)
    else:
        classes = pd.DataFrame(columns=["code_quartier", "nom", "classe", "description"])

    q_ind = territoire.indicateurs[territoire.indicateurs["niveau"] == "quartier"]
    q_ind = q_ind[q_ind["code_territoire"].isin(elig["code_quartier"])]
    secrets = int(q_ind["secret"].fillna(False).astype(bool).sum())

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
    )
    _narrate(rapport, territoire, params)
    return rapport


def _noms(df: pd.DataFrame, mask: pd.Series) -> str:
    return text.liste_fr(df.loc[mask, "nom"].tolist())


def _narrate(r: RapportQ3, territoire, params) -> None:
    """French findings, caveats and questions for the debate, from the computed tables."""
    elig = r.eligibilite
    n = len(elig)
    if n == 0:
        r.constats.append(
            f"{r.nom_commune} ne compte aucun quartier prioritaire ou de comparaison dans les données : "
            "seules les comparaisons régionales sont présentées."
        )
    else:
        n_qpv = int(elig["regle_qpv2014"].sum())
        seuil = text.euros(r.seuil_qpv2014) if r.seuil_qpv2014 is not None else "n.d."
        r.constats.append(
            f"Selon la règle de revenu de 2014 (seuil de {seuil} de revenu médian par unité de consommation "
            f"pour l'unité urbaine de {r.nom_commune}), {text.pluriel(n_qpv, 'quartier éligible', 'quartiers éligibles')} "
            f"sur {text.pluriel(n, 'quartier étudié', 'quartiers étudiés')}."
        )
        rules = elig[list(REGLES)]
        agree = rules.all(axis=1) | (~rules).all(axis=1)
        if agree.all():
            r.constats.append("Les trois règles d'éligibilité désignent exactement les mêmes quartiers.")
        else:
            r.constats.append(
                f"Les règles ne concordent pas pour {text.pluriel(int((~agree).sum()), 'quartier')} "
                f"({_noms(elig, ~agree)}) : la règle de revenu en retient {int(rules['regle_qpv2014'].sum())}, "
                f"l'indice de type ZUS {int(rules['regle_zus'].sum())} et la règle « dynamique » "
                f"{int(rules['regle_dynamique'].sum())}, sur {n}."
            )
        sortants = elig["dans_cucs"] & ~elig["regle_qpv2014"]
        if sortants.any():
            r.constats.append(
                f"Quartiers du CUCS que la règle de revenu ne retiendrait pas : {_noms(elig, sortants)}."
            )
        entrants = ~elig["dans_cucs"] & elig["regle_qpv2014"]
        if entrants.any():
            r.constats.append(
                f"Quartiers hors CUCS que la règle de revenu retiendrait : {_noms(elig, entrants)}."
            )
        chom = r.echelles[(r.echelles["indicateur"] == "taux_chomage") & (r.echelles["niveau"] == "quartier")]
        plus = chom[chom["comparaison"] == "plus élevé"]
        if not chom.empty:
            r.constats.append(
                f"En {r.annee}, le taux de chômage est significativement plus élevé que dans la commune dans "
                f"{text.pluriel(len(plus), 'quartier')} sur {len(chom)}."
            )
        if not r.classes_commune.empty:
            for c, grp in r.classes_commune.groupby("classe"):
                r.constats.append(
                    f"Classe {c} de la typologie régionale ({text.liste_fr(grp['nom'].tolist())}) : "
                    f"{text.minuscule_initiale(grp['description'].iloc[0])}"
                )
        dyn = elig[elig["regle_dynamique"]]
        if not dyn.empty:
            r.debat.append(
                f"L'écart avec la commune s'est creusé d'au moins {text.nombre(params.dynamique.seuil_points, 1)} "
                f"points dans le(s) quartier(s) {text.liste_fr(dyn['nom'].tolist())} : "
                "quels processus de dégradation l'expliquent, et l'intervention doit-elle changer d'échelle ?"
            )
        if sortants.any():
            r.debat.append(
                f"Que deviennent les actions conduites dans le(s) quartier(s) {_noms(elig, sortants)} s'ils sortent de la "
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
    r.reserves.append(
        "La règle de 2014 s'applique en réalité à des carreaux de 200 m et dessine de nouveaux périmètres : "
        "l'appliquer aux quartiers existants n'en donne qu'une approximation."
    )
    r.reserves.append(
        f"Le seuil de l'indice de type ZUS est relatif (quantile {text.nombre(params.zus.seuil_quantile, 2)} des "
        "quartiers de la région) : il classe les quartiers entre eux, sans référence nationale."
    )
    r.reserves.append(
        "L'INSEE déconseille de comparer deux années consécutives sous le niveau communal : les évolutions "
        "sont lues sur toute la période."
    )
    if r.secrets:
        r.reserves.append(
            f"{text.pluriel(r.secrets, 'valeur couverte', 'valeurs couvertes')} par le secret statistique "
            "pour les quartiers de la commune : les règles ne peuvent pas être appliquées à ces cellules."
        )
    n_qpv = int(elig["regle_qpv2014"].sum()) if n else 0
    pop = elig.loc[elig["regle_qpv2014"], "population"].sum() if n else 0
    r.chiffres_cles = [
        {
            "id": "eligibles_qpv2014",
            "libelle": "Quartiers éligibles (règle de revenu 2014)",
            "valeur": n_qpv,
            "unite": "quartiers",
        },
        {
            "id": "seuil_qpv2014",
            "libelle": "Seuil de revenu QPV 2014",
            "valeur": r.seuil_qpv2014,
            "unite": "€",
        },
        {
            "id": "population_eligible",
            "libelle": "Habitants des quartiers éligibles",
            "valeur": float(pop),
            "unite": "hab.",
        },
        {"id": "quartiers_etudies", "libelle": "Quartiers étudiés", "valeur": n, "unite": "quartiers"},
    ]


# --- figures (each returns a matplotlib Figure with its French alt text, or None) ------------


def figure_echelles(r: RapportQ3, indicateur: str = "taux_chomage"):
    """One indicator for the commune's quartiers and every upper level, with intervals."""
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
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.5))
    y = range(len(rows))[::-1]
    colors = [plots.OKABE_ITO["vermillon"] if n == "quartier" else plots.GRIS for n in rows["niveau"]]
    ax.barh(list(y), rows["valeur"], color=colors)
    err_lo = (rows["valeur"] - rows["ic_bas"]).fillna(0).clip(lower=0)
    err_hi = (rows["ic_haut"] - rows["valeur"]).fillna(0).clip(lower=0)
    ax.errorbar(rows["valeur"], list(y), xerr=[err_lo, err_hi], fmt="none", ecolor="black", capsize=3, lw=1)
    ax.set_yticks(list(y), label.tolist())
    ax.set_title(f"{libelle} en {r.annee}, du quartier à la région")
    ax.set_xlabel(libelle + (f" ({unite})" if unite else ""))
    plots.franciser_axes(ax, x="pourcentage" if unite == "%" else "nombre", y=None)
    valeurs = text.liste_fr(
        [f"{lab} : {text.valeur_unite(v, unite)}" for lab, v in zip(label, rows["valeur"], strict=False)]
    )
    return plots.set_alt(
        fig,
        f"Diagramme en barres horizontales : {text.minuscule_initiale(libelle)} en {r.annee} pour chaque "
        f"quartier de {r.nom_commune} (avec intervalles de confiance à 95 %) et pour les niveaux supérieurs. "
        f"Valeurs : {valeurs}.",
    )


def figure_revenus(r: RapportQ3):
    """Median income of each quartier against the QPV 2014 threshold of its urban unit."""
    import matplotlib.pyplot as plt

    from cucs_analysis.present import plots

    e = r.eligibilite.dropna(subset=["revenu_median_uc"])
    if e.empty or r.seuil_qpv2014 is None:
        return None
    e = e.sort_values("revenu_median_uc")
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(e) + 1.5))
    colors = [plots.OKABE_ITO["bleu"] if ok else plots.GRIS for ok in e["regle_qpv2014"]]
    ax.scatter(e["revenu_median_uc"], e["nom"], color=colors, s=60, zorder=3)
    ax.axvline(r.seuil_qpv2014, color=plots.OKABE_ITO["vermillon"], ls="--", lw=1.5)
    ax.annotate(
        f"seuil : {text.euros(r.seuil_qpv2014)}",
        (r.seuil_qpv2014, 1.0),
        xycoords=("data", "axes fraction"),
        ha="left",
        va="bottom",
        color=plots.OKABE_ITO["vermillon"],
    )
    ax.set_xlabel("Revenu fiscal médian par unité de consommation (€)")
    ax.set_title("Revenu médian des quartiers et seuil de la règle de 2014", pad=18)
    ax.xaxis.set_major_formatter(plots.formatter_euros(compact=False))
    details = text.liste_fr(
        [
            f"{n} : {text.euros(v)}{'' if ok else ' (non éligible)'}"
            for n, v, ok in zip(e["nom"], e["revenu_median_uc"], e["regle_qpv2014"], strict=False)
        ]
    )
    return plots.set_alt(
        fig,
        f"Nuage de points : revenu médian par unité de consommation de chaque quartier de {r.nom_commune}, "
        f"comparé au seuil de la règle de 2014 ({text.euros(r.seuil_qpv2014)}). {details}.",
    )


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


def carte_commune(r: RapportQ3, territoire):
    """The commune's quartiers coloured by their eligibility under the QPV 2014 rule."""
    from cucs_analysis.present import plots

    q = territoire.quartiers
    if q is None or q.empty or "geometry" not in q or q.geometry.isna().all():
        return None
    gdf = q[["code_quartier", "geometry"]].merge(
        r.eligibilite[["code_quartier", "regle_qpv2014"]], on="code_quartier"
    )
    outline = territoire.contour
    fig = _map(
        gdf,
        "regle_qpv2014",
        {
            True: ("Éligible (règle de revenu 2014)", plots.OKABE_ITO["bleu"]),
            False: ("Non éligible", plots.GRIS),
        },
        f"Quartiers de {r.nom_commune}",
        outline,
    )
    n_ok = int(gdf["regle_qpv2014"].sum())
    return plots.set_alt(
        fig,
        f"Carte de {r.nom_commune} et de ses {len(gdf)} quartiers : {n_ok} éligibles selon la règle de revenu "
        f"de 2014 (en bleu), {len(gdf) - n_ok} non éligibles (en gris).",
    )


def carte_region(r: RapportQ3, region):
    """Every quartier of the region coloured by its typology class."""
    from cucs_analysis.present import plots

    geo = region.contours_quartiers
    if geo is None or r.typologie is None:
        return None
    gdf = geo[["code_quartier", "geometry"]].copy()
    gdf["classe"] = gdf["code_quartier"].map(r.typologie.classes)
    colors = list(plots.OKABE_ITO.values())
    cats = {
        int(c): (f"Classe {int(c)} ({text.pluriel(int(n), 'quartier')})", colors[(int(c) - 1) % len(colors)])
        for c, n in r.typologie.effectifs.items()
    }
    fig = _map(gdf, "classe", cats, "Typologie des quartiers de la région", region.contours_communes)
    desc = " ".join(f"Classe {c} : {text.minuscule_initiale(d)}" for c, d in r.typologie.descriptions.items())
    return plots.set_alt(
        fig,
        f"Carte de la région : les {len(gdf)} quartiers colorés selon leur classe dans la typologie "
        f"({len(cats)} classes). {desc}",
    )


def sources(r: RapportQ3, params, metadata) -> list[str]:
    """The 'Sources et méthode' list, with the values actually used."""
    nat = text.euros(r.revenu_median_national) if r.revenu_median_national else "n.d."
    return [
        f"Données : {metadata.nom} ({text.annee_periode(metadata.annee_debut, metadata.annee_fin)})"
        + (" — données synthétiques de démonstration." if metadata.synthetique else "."),
        f"Règle de revenu (décret 2014-767) : seuil = 0,6 × (0,7 × médiane nationale + 0,3 × médiane de l'unité "
        f"urbaine), arrondi à la centaine d'euros supérieure ; médiane nationale retenue : {nat} ; revenus de "
        f"{params.qpv2014.annee_revenus} ; quartiers d'au moins {text.nombre(params.qpv2014.population_min_quartier)} "
        f"habitants dans une unité urbaine d'au moins {text.nombre(params.qpv2014.population_min_uu)} habitants.",
        f"Indice de type ZUS ({params.zus.annee}) : population × taux de chômage × part des moins de 25 ans × part "
        "des sans-diplôme ÷ potentiel fiscal par habitant de la commune ; éligible au-delà du quantile "
        f"{text.nombre(params.zus.seuil_quantile, 2)} des quartiers de la région.",
        f"Règle « dynamique » : écart du quartier à sa commune ({params.dynamique.indicateur}) creusé d'au moins "
        f"{text.nombre(params.dynamique.seuil_points, 1)} points entre {params.dynamique.annee_debut} et "
        f"{params.dynamique.annee_fin}.",
        "Écarts : un quartier n'est dit « plus élevé » ou « plus faible » que sa commune que si les intervalles de "
        "confiance à 95 % (méthode de Wilson) ne se chevauchent pas.",
        f"Typologie : classification ascendante hiérarchique (méthode de Ward) sur indicateurs centrés réduits "
        f"de {r.annee}, {params.typologie.nombre_classes} classes au plus, tous les quartiers de la région.",
        f"Secret statistique : aucun effectif inférieur à {params.seuil_secret} n'est publié.",
    ]


# --- views: the tables the notebook shows (numbers, French headers and units) -----------------
#
# Each `vue_<name>(r)` is a `present.display.vue`; `r.tables` returns them all by name. A view
# with no row says what is missing (no quartier in the commune, no typology).

SANS_QUARTIER = "aucun quartier dans cette commune"
#: Units of the indicator catalogue → units of a view (`display.UNITES`); any other: decimal.
UNITES_CATALOGUE = {"%": "pourcentage", "€": "euros", "": "nombre", "nombre": "nombre"}
COLONNES_ELIGIBILITE = {
    "nom": ("Quartier", "texte"),
    "categorie_cucs": ("Catégorie CUCS", "texte"),
    "population": ("Habitants", "nombre"),
    "revenu_median_uc": ("Revenu médian (€)", "euros"),
    "regle_qpv2014": ("Règle de revenu 2014", "oui_non"),
    "regle_zus": ("Indice de type ZUS", "oui_non"),
    "variation": ("Écart creusé (points)", "decimal"),
    "regle_dynamique": ("Règle dynamique", "oui_non"),
}
COLONNES_MOUVEMENTS = {
    "maintenus": ("Maintenus", "nombre"),
    "entrants": ("Entrants", "nombre"),
    "sortants": ("Sortants", "nombre"),
}
COLONNES_ENTREES_SORTIES = {
    "regle": ("Règle", "texte"),
    "eligibles": ("Éligibles", "nombre"),
    **COLONNES_MOUVEMENTS,
}
COLONNES_TRANSITIONS = {"etape": ("Étape", "texte"), **COLONNES_MOUVEMENTS}
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
    """« plus élevé : a et b ; plus faible : c » for one quartier's significant gaps to its commune."""
    parts = []
    for sens in ("plus élevé", "plus faible"):
        inds = lignes.loc[lignes["comparaison"] == sens, "indicateur"]
        if not inds.empty:
            noms = [text.minuscule_initiale(libelles.get(i, i)) for i in inds]
            parts.append(f"{sens} : {text.liste_fr(noms)}")
    return " ; ".join(parts) or "aucun écart significatif"


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

    e = e.assign(
        territoire=[territoire(n, c) for n, c in zip(e["niveau"], e["code_territoire"], strict=True)],
        secret=e["secret"].fillna(False).astype(bool),
    )
    ordre = list(dict.fromkeys(e["territoire"]))
    wide = e.pivot(index="territoire", columns="indicateur", values="valeur").reindex(ordre)
    secrets = e.pivot(index="territoire", columns="indicateur", values="secret").reindex(ordre)
    indicateurs = [i for i in INDICATEURS_ECHELLES if i in wide.columns]
    for i in indicateurs:  # a column stays numeric unless one of its values is secret
        cache = secrets[i].fillna(False).astype(bool)
        if cache.any():
            wide[i] = wide[i].astype(object).where(~cache, text.SECRET)
    rang = {i: k for k, i in enumerate(INDICATEURS_ECHELLES)}
    quartiers = e[e["niveau"] == "quartier"].sort_values(
        "indicateur", key=lambda c: c.map(rang), kind="stable"
    )
    ecarts = {t: _ecarts_significatifs(g, libelles) for t, g in quartiers.groupby("territoire", sort=False)}
    df = wide[indicateurs].rename_axis(index="territoire", columns=None).reset_index()
    df["ecarts"] = [ecarts.get(t, "") for t in df["territoire"]]
    colonnes |= {i: (libelles[i], _unite_vue(unites.get(i))) for i in indicateurs}
    colonnes["ecarts"] = ("Écart significatif à la commune", "texte")
    return display.vue(df, colonnes, vide="indicateurs aux différentes échelles")


def vue_eligibilite(r: RapportQ3) -> pd.DataFrame:
    """Each quartier of the commune under the three eligibility rules."""
    return display.vue(r.eligibilite, COLONNES_ELIGIBILITE, vide=SANS_QUARTIER)


def vue_entrees_sorties(r: RapportQ3) -> pd.DataFrame:
    """Per rule: eligible quartiers, and those of the CUCS list it keeps, adds or leaves out."""
    e = r.entrees_sorties
    return display.vue(e.assign(regle=e["regle"].map(REGLES)), COLONNES_ENTREES_SORTIES, vide=SANS_QUARTIER)


def vue_transitions(r: RapportQ3) -> pd.DataFrame:
    """Movements of the official lists (CUCS → QPV 2015 → QPV 2024) in the commune."""
    return display.vue(r.transitions, COLONNES_TRANSITIONS, vide=SANS_QUARTIER)


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
