"""Deterministic generator of the fictional demo region, with planted truths (DESIGN.md §4).

`generate(out_dir)` writes every table of `schema.TABLES` as CSV, the quartier and commune
contours as GeoJSON (Lambert-93), `metadonnees.yaml` and `truth.json`. The same seed gives the
same bytes. Truths follow docs/rules.md; each one is computed back from the generated tables
by an implementation independent of the planting code, and generation fails if they differ.

The region is fictional: département 20 (unused since 1976), invented names. `scale="national"`
tiles the region to about 900 communes and 1,500 quartiers (for performance trials).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from cucs_analysis.data import schema
from cucs_analysis.data.errors import DataError
from cucs_analysis.present import text

YEARS = np.arange(2005, 2015)
ANNEE_DEBUT_CUCS = 2007
# Consumer-price change of each year against the previous one (Insee, IPC ensemble des ménages,
# moyenne annuelle), as in params/defaults.yaml (tests/test_demo.py checks they agree). The
# mainstream credits are planted flat in constant euros, so they rise with prices in the
# current euros written to droit_commun.csv: the planted types hold in both readings.
INFLATION = {
    2006: 0.016,
    2007: 0.015,
    2008: 0.028,
    2009: 0.001,
    2010: 0.015,
    2011: 0.021,
    2012: 0.020,
    2013: 0.009,
    2014: 0.005,
}


def _price_level() -> np.ndarray:
    """Price level of each of YEARS, 2005 = 1."""
    return np.cumprod([1.0] + [1.0 + INFLATION[int(y)] for y in YEARS[1:]])


ANNEE_TRAITEMENT = 2009
ANNEE_REVENUS = 2011
NATIONAL_MEDIAN = 19000.0


# The QPV 2014 rule (décret 2014-767), written here from the decree rather than imported from
# the analysis layer: the planted truth must not be computed by the function it checks.
def qpv2014_threshold(national: float, uu_median: pd.Series, uu_population: pd.Series) -> pd.Series:
    """S = 0.6 × (0.7 × national + 0.3 × urban unit), weights swapped for urban units of
    5 million inhabitants or more, rounded up to the next 100 €."""
    big = pd.to_numeric(uu_population).astype(float) >= 5_000_000
    w = big.map({True: 0.3, False: 0.7})
    raw = 0.6 * (w * national + (1 - w) * pd.to_numeric(uu_median).astype(float))
    return (np.ceil(raw.round(6) / 100) * 100).rename("seuil_qpv2014")


def qpv2014_eligible(q: pd.DataFrame, national: float) -> pd.Series:
    """Income below the threshold, at least 1,000 inhabitants, urban unit of 10,000 or more."""
    seuil = qpv2014_threshold(national, q["revenu_median_uu"], q["population_unite_urbaine"])
    ok = (
        (q["revenu_median_uc"] < seuil)
        & (q["population"] >= 1000)
        & (q["population_unite_urbaine"] >= 10_000)
    )
    return ok.fillna(False).astype(bool)


EFFET_CHOMAGE = -2.0
CODE_DEP = "20"
CODE_REG = "20"
# The rest of the région, outside département 20: population as a multiple of the département's,
# median income as a ratio, job seekers as a ratio, and rates as differences (points, or ‰).
AUTRES_DEPARTEMENTS = {
    "population": 2.6,
    "revenu": 1.05,
    "demandeurs_emploi": 0.85,
    "taux_chomage": -1.5,
    "taux_chomage_jeunes": -3.0,
    "taux_pauvrete": -2.0,
    "part_moins_25_ans": -1.5,
    "part_sans_diplome": -2.0,
    "part_familles_monoparentales": -1.5,
    "taux_reussite_brevet": 2.0,
    "delits_pour_1000": -8.0,
}
COMMUNE_SANS_DONNEES = 8  # index in the tile of the signatory commune with partly missing data
STRUCTURE_LEVIER = {"GIP": 1.8, "service municipal": 1.0, "service intercommunal": 1.4}
# Actions at stake (docs/rules.md, params `reprise`): share of specific credits and run length.
SEUIL_REPRISE = 0.8
DUREE_REPRISE = 3
STATUTS_EN_COURS = ("réalisée", "programmée")
# Median delays in days (decision, payment) by steering structure.
STRUCTURE_DELAIS = {"GIP": (40, 25), "service municipal": (95, 60), "service intercommunal": (65, 40)}

# --- the region template --------------------------------------------------------------------


@dataclass(frozen=True)
class _CommuneSpec:
    idx: int
    nom: str
    epci: int
    population: int
    structure: str
    uu: str
    # quartiers: (categorie "1"/"2"/"3" or "" for veille, poor?, population 2011)
    quartiers: tuple[tuple[str, bool, int], ...]
    participatif: bool | None = None
    adaptable: bool | None = None
    non_pourvues: int = 0


_UU = {  # name: (population, median income per consumption unit)
    "A": (212_000, 18_400.0),
    "B": (134_000, 17_800.0),
    "C": (63_000, 18_900.0),
    "petite": (9_200, 17_200.0),
    "rurale": (4_100, 18_600.0),
}
_EPCI_NOMS = {
    1: "Communauté d'agglomération du Val de Lèze",
    2: "Communauté d'agglomération de Bréjac",
    3: "Communauté de communes des Coteaux d'Ysère",
}
_REGION: tuple[_CommuneSpec, ...] = (
    _CommuneSpec(1, "Valbrune-sur-Lèze", 1, 96_000, "GIP", "A",
                 (("1", True, 3400), ("1", True, 2900), ("2", True, 2300), ("3", False, 2600)),
                 True, True, 3),
    _CommuneSpec(2, "Castelnoir", 1, 41_000, "GIP", "A",
                 (("1", True, 2800), ("2", True, 1900), ("3", False, 2100)), False, False, 0),
    _CommuneSpec(3, "Pontmorel", 1, 27_500, "service municipal", "A",
                 (("1", True, 2500), ("2", False, 1700), ("3", False, 1500), ("", True, 1800)),
                 True, False, 1),
    _CommuneSpec(4, "Bréjac-la-Vallée", 2, 62_000, "service municipal", "B",
                 (("1", True, 3600), ("2", True, 2600), ("2", True, 2000), ("3", True, 2400)),
                 False, True, 5),
    _CommuneSpec(5, "Saint-Hilvard", 2, 23_500, "service intercommunal", "B",
                 (("2", True, 2200), ("3", True, 850)), True, True, 2),
    _CommuneSpec(6, "Lauzévrac", 2, 18_200, "service intercommunal", "B",
                 (("1", True, 2100), ("3", False, 1600), ("", False, 1400)), False, False, 0),
    _CommuneSpec(7, "Corbanne-sur-Ysère", 3, 34_800, "GIP", "C",
                 (("1", True, 2700), ("2", True, 2200), ("3", False, 1900)), False, True, 6),
    _CommuneSpec(8, "Villefrêne", 3, 15_600, "service municipal", "C",
                 (("1", True, 2400), ("2", False, 1800)), None, False, 1),
    _CommuneSpec(9, "Marsillac-Doré", 1, 12_400, "aucune", "A",
                 (("", True, 1700), ("", False, 1500), ("", False, 1300))),
    _CommuneSpec(10, "Esterbourg", 2, 8_100, "aucune", "petite", (("", True, 1500),)),
    _CommuneSpec(11, "Haudricourt-le-Val", 3, 9_600, "aucune", "C", (("", False, 1200),)),
    _CommuneSpec(12, "Sept-Ormeaux", 3, 4_100, "aucune", "rurale", ()),
)  # fmt: skip

_QUARTIER_NOMS = (
    "Les Tilleuls", "La Source", "Le Haut-Val", "Les Aubépines", "Bellevue-Sud", "Les Cerisiers",
    "Le Moulin-Neuf", "La Prairie", "Les Coteaux", "Le Clos-Fleuri", "Les Peupliers", "La Croix-Verte",
    "Le Petit-Bois", "Les Genêts", "La Roseraie", "Le Champ-de-Foire", "Les Lilas", "La Garenne",
    "Les Hirondelles", "Le Vieux-Pont", "Les Mimosas", "La Fontaine-aux-Loups", "Les Acacias",
    "Le Plateau", "Les Glycines", "La Sablière", "Les Marronniers", "Le Bas-Chêne", "Les Chardonnerets",
    "La Pépinière",
)  # fmt: skip

_ACTIONS_DOMAINE = {
    "education": (("CLAS", "Accompagnement à la scolarité"), ("PRE", "Parcours de réussite éducative"),
                  ("autre", "Club lecture et écriture")),
    "emploi": (("chantier d'insertion", "Chantier d'insertion espaces verts"),
               ("autre", "Permanence emploi de proximité"), ("chantier d'insertion", "Chantier d'insertion bâtiment")),
    "sante": (("ASV", "Atelier santé ville : prévention bucco-dentaire"), ("ASV", "Accès aux droits de santé"),
              ("autre", "Écoute et soutien psychologique")),
    "prevention": (("CLSPD", "Médiation de nuit"), ("VVV", "Séjours ville-vie-vacances"),
                   ("OVV", "Animations estivales")),
    "lien_social": (("adultes-relais", "Médiation sociale (adultes-relais)"), ("atelier parents", "Atelier parents"),
                    ("FONJEP", "Animation jeunesse"), ("autre", "Fête de quartier")),
    "cadre_de_vie": (("GUP", "Diagnostic en marchant"), ("autre", "Jardins partagés"),
                     ("autre", "Embellissement des halls d'immeubles")),
}  # fmt: skip
THEATRE = "Atelier théâtre"
# Qualifiers that tell apart actions of one quartier (or of the whole commune) sharing a title.
_QUALIFICATIFS = {
    "Accompagnement à la scolarité": ("école Jean-Moulin", "collège Paul-Éluard", "école Jules-Ferry",
                                      "collège Jean-Jaurès", "école Louise-Michel", "école Pasteur"),
    "Parcours de réussite éducative": ("2-6 ans", "6-11 ans", "collégiens", "12-16 ans", "familles", "lycéens"),
    "Club lecture et écriture": ("médiathèque", "école Jules-Ferry", "centre social", "collège Jean-Jaurès",
                                 "maison de quartier", "école Pasteur"),
    "Chantier d'insertion espaces verts": ("parc municipal", "coulée verte", "jardins familiaux",
                                           "bords de rivière", "cimetière", "abords des écoles"),
    "Permanence emploi de proximité": ("centre social", "mairie annexe", "maison de quartier",
                                       "mission locale", "médiathèque", "marché"),
    "Chantier d'insertion bâtiment": ("local associatif", "gymnase", "école Jean-Moulin", "halls d'immeubles",
                                      "maison de quartier", "vestiaires du stade"),
    "Atelier santé ville : prévention bucco-dentaire": ("écoles maternelles", "écoles élémentaires", "collèges",
                                                        "centres de loisirs", "crèches", "familles"),
    "Accès aux droits de santé": ("centre social", "CCAS", "maison de quartier", "mairie annexe",
                                  "permanence mobile", "pharmacie mutualiste"),
    "Écoute et soutien psychologique": ("jeunes", "familles", "adultes isolés", "femmes", "seniors",
                                        "parents"),
    "Médiation de nuit": ("centre-ville", "secteur gare", "secteur nord", "secteur sud", "transports",
                          "parcs et jardins"),
    "Séjours ville-vie-vacances": ("été", "hiver", "printemps", "Toussaint", "filles", "12-14 ans"),
    "Animations estivales": ("pieds d'immeubles", "city-stade", "plan d'eau", "parc municipal", "juillet",
                             "août"),
    "Médiation sociale (adultes-relais)": ("écoles", "transports en commun", "bailleur social",
                                           "accès aux droits", "centre-ville", "santé"),
    "Atelier parents": ("petite enfance", "école maternelle", "collège", "adolescents", "parents d'élèves",
                        "pères"),
    "Animation jeunesse": ("maison des jeunes", "centre social", "gymnase", "city-stade", "médiathèque",
                           "local jeunes"),
    "Fête de quartier": ("printemps", "été", "fin d'année", "rentrée", "carnaval", "fête des voisins"),
    "Diagnostic en marchant": ("secteur nord", "secteur sud", "abords des écoles", "centre commercial",
                               "parkings", "espaces verts"),
    "Jardins partagés": ("pieds d'immeubles", "école Jules-Ferry", "centre social", "résidence seniors",
                         "parc municipal", "maison de quartier"),
    "Embellissement des halls d'immeubles": ("fresques", "peinture", "éclairage", "boîtes aux lettres",
                                             "entrées", "cages d'escalier"),
    THEATRE: ("enfants", "adolescents", "adultes", "seniors", "familles", "jeunes"),
}  # fmt: skip
# Planned participants per year (low, high): quartier actions, then commune-wide ones. A CLAS
# group is 10 to 30 children; a PRE follows some tens of children a year; an adulte-relais post
# makes a few hundred contacts; a chantier d'insertion takes 8 to 15 trainees; ASV screenings and
# neighbourhood fêtes reach hundreds.
_BENEFICIAIRES = {
    "Accompagnement à la scolarité": ((12, 30), (25, 60)),
    "Parcours de réussite éducative": ((15, 40), (35, 80)),
    "Club lecture et écriture": ((8, 20), (15, 35)),
    "Chantier d'insertion espaces verts": ((8, 14), (10, 14)),
    "Permanence emploi de proximité": ((60, 180), (120, 320)),
    "Chantier d'insertion bâtiment": ((8, 14), (10, 14)),
    "Atelier santé ville : prévention bucco-dentaire": ((150, 400), (300, 800)),
    "Accès aux droits de santé": ((80, 220), (150, 400)),
    "Écoute et soutien psychologique": ((20, 60), (40, 110)),
    "Médiation de nuit": ((150, 450), (300, 800)),
    "Séjours ville-vie-vacances": ((15, 40), (30, 80)),
    "Animations estivales": ((60, 220), (150, 450)),
    "Médiation sociale (adultes-relais)": ((150, 400), (250, 650)),
    "Atelier parents": ((10, 25), (15, 40)),
    "Animation jeunesse": ((30, 80), (50, 140)),
    "Fête de quartier": ((200, 700), (500, 1500)),
    "Diagnostic en marchant": ((10, 35), (20, 60)),
    "Jardins partagés": ((10, 30), (20, 50)),
    "Embellissement des halls d'immeubles": ((20, 80), (40, 150)),
    THEATRE: ((10, 25), (15, 40)),
}
_PUBLICS = {
    "education": ("Enfants de 6 à 11 ans", "Collégiens", "Enfants de 2 à 16 ans et leurs familles"),
    "emploi": ("Demandeurs d'emploi de longue durée", "Jeunes de 16 à 25 ans sans qualification"),
    "sante": ("Habitants du quartier", "Familles bénéficiaires de la CMU"),
    "prevention": ("Jeunes de 12 à 25 ans", "Habitants du quartier"),
    "lien_social": ("Habitants du quartier", "Parents", "Femmes isolées", "Seniors"),
    "cadre_de_vie": ("Locataires du parc social", "Habitants du quartier"),
}
_OBJECTIFS = {
    "education": "Améliorer la réussite scolaire et associer les parents",
    "emploi": "Favoriser le retour à l'emploi et la qualification",
    "sante": "Améliorer l'accès aux soins et à la prévention",
    "prevention": "Prévenir la délinquance et apaiser l'espace public",
    "lien_social": "Renforcer le lien social et la participation des habitants",
    "cadre_de_vie": "Améliorer le cadre de vie et la gestion de proximité",
}
# Mainstream credits per inhabitant and how institutions share them, per domain.
_DC_PAR_HAB = {
    "education": 60,
    "emploi": 45,
    "sante": 25,
    "prevention": 20,
    "lien_social": 15,
    "cadre_de_vie": 35,
}
_DC_PARTS = {
    "education": (("État", 0.6), ("commune", 0.25), ("département", 0.15)),
    "emploi": (("État", 0.5), ("région", 0.3), ("département", 0.2)),
    "sante": (("État", 0.4), ("département", 0.35), ("CAF", 0.25)),
    "prevention": (("État", 0.55), ("commune", 0.3), ("département", 0.15)),
    "lien_social": (("CAF", 0.4), ("commune", 0.35), ("département", 0.25)),
    "cadre_de_vie": (("commune", 0.4), ("bailleur", 0.35), ("EPCI", 0.25)),
}
_COFINANCEURS = ("commune", "département", "région", "CAF", "EPCI", "bailleur")
_EQUIPEMENTS = (  # BPE code, label, range, per 1,000 inhabitants in a commune, ratio in quartiers
    ("A101", "Police", "intermédiaire", 0.05, 0.8),
    ("A206", "Bureau de poste", "proximité", 0.12, 0.6),
    ("B102", "Supermarché", "intermédiaire", 0.15, 0.5),
    ("B201", "Supérette", "proximité", 0.25, 0.8),
    ("B203", "Boulangerie", "proximité", 0.7, 0.6),
    ("C101", "École maternelle", "proximité", 0.4, 1.1),
    ("C104", "École élémentaire", "proximité", 0.45, 1.1),
    ("C201", "Collège", "intermédiaire", 0.1, 0.9),
    ("C301", "Lycée d'enseignement général et technologique", "supérieure", 0.04, 0.5),
    ("D201", "Médecin généraliste", "proximité", 0.9, 0.45),
    ("D301", "Pharmacie", "proximité", 0.35, 0.6),
    ("F101", "Bassin de natation", "intermédiaire", 0.05, 0.5),
    ("F113", "Terrain de grands jeux", "proximité", 0.35, 0.9),
    ("F303", "Cinéma", "supérieure", 0.03, 0.3),
)
_QUESTIONS_ENQUETE = (
    "Le quartier s'est amélioré ces trois dernières années",
    "Les actions menées répondent aux besoins des habitants",
    "Les habitants sont associés aux décisions",
    "Les partenaires travaillent bien ensemble",
    "On se sent en sécurité dans le quartier",
    "Les services publics sont faciles d'accès",
)
_BILAN_TEXTES = {
    "réussite": (
        ("mobilisation du public", "Le public visé a été mobilisé au-delà des prévisions."),
        (
            "partenariat",
            "Le travail avec l'école et le centre social a permis un meilleur repérage des familles.",
        ),
        ("résultats", "La plupart des participants ont achevé le parcours prévu."),
    ),
    "difficulté": (
        ("mobilisation du public", "Les jeunes de plus de 16 ans restent difficiles à mobiliser."),
        ("locaux", "Les locaux disponibles sont trop petits pour accueillir les groupes."),
        ("encadrement", "Le départ de l'animateur en cours d'année a désorganisé l'action."),
    ),
    "blocage": (
        ("financement", "Le versement tardif de la subvention a obligé à suspendre l'action plusieurs mois."),
        ("partenariat", "Le bailleur n'a pas donné suite à la demande de mise à disposition d'un local."),
    ),
    "écart expliqué": (
        (
            "mobilisation du public",
            "Moins de participants que prévu : l'action a démarré après la rentrée scolaire.",
        ),
        (
            "financement",
            "Le financement accordé étant inférieur à la demande, le nombre de séances a été réduit.",
        ),
        ("encadrement", "Faute de bénévoles, un seul groupe a pu être ouvert au lieu de deux."),
    ),
}
_ASSOC_MOTS = (
    "Les Jardins", "Trait d'Union", "Passerelles", "Le Fil d'Ariane", "Les Petits Curieux",
    "Horizons", "La Clé des Champs", "Entraide", "Cap Avenir", "Les Amis du Livre", "Solidarités", "Arc-en-Ciel",
    "Espace Jeunes", "Femmes Relais", "Le Relais", "Main dans la Main", "Boutique d'Écriture", "Tremplin",
)  # fmt: skip


@dataclass(frozen=True)
class _Volumes:
    """Per-tile volumes of the generated activity (the region's values never change: the
    committed demo must keep its bytes; the national scale fills ~100,000 action-years,
    ~300,000 funding lines and ~200,000 pathway episodes over its 50 tiles)."""

    actions_quartier_en_plus: int = 0  # extra actions per signatory quartier
    cofinanceurs_max: int = 3  # mainstream co-funders per action-year: 1 to this
    menages_par_tuile: int = 1500  # households followed (pathways)


_VOLUMES = {"region": _Volumes(), "national": _Volumes(2, 4, 1950)}


def _scale_tiles(scale: str) -> tuple[int, int]:
    """(tiles with quartiers, tiles of communes only)."""
    if scale == "region":
        return 1, 0
    if scale == "national":
        return 50, 25
    raise ValueError(f"Échelle inconnue : « {scale} » (attendu : « region » ou « national »).")


# --- small helpers --------------------------------------------------------------------------


def _dates(years: np.ndarray, day_of_year: np.ndarray) -> pd.Series:
    """Dates from years and 0-based day offsets (offsets are kept inside the year)."""
    start = pd.to_datetime(pd.Series(years).astype(int).astype(str) + "-01-01")
    return start + pd.to_timedelta(np.asarray(day_of_year, dtype=int), unit="D")


def _fmt_float(s: pd.Series) -> pd.Series:
    """Numbers written with at most 2 decimals, no trailing zeros, empty when missing (vectorised)."""
    v = pd.to_numeric(s, errors="coerce").astype(float).to_numpy()
    missing = np.isnan(v)
    cents = np.round(np.where(missing, 0, v) * 100).astype(np.int64)
    sign = np.where(cents < 0, "-", "")
    a = np.abs(cents)
    whole = pd.Series(a // 100).astype(str)
    frac = a % 100
    tenths = pd.Series(frac // 10).astype(str)
    two = pd.Series(frac).astype(str).str.zfill(2)
    dec = np.where(frac == 0, "", np.where(frac % 10 == 0, "." + tenths, "." + two))
    out = pd.Series(sign + whole.to_numpy(dtype=object) + dec, index=s.index, dtype=object)
    return out.where(~missing, "")


def _serialise(df: pd.DataFrame, table: schema.Table) -> str:
    """CSV text for a table, following the conventions of data/README.md."""
    out = pd.DataFrame(index=df.index)
    for col in table.columns:
        if col.name not in df.columns:
            continue
        s = df[col.name]
        if col.kind == "bool":
            out[col.name] = s.map({True: "oui", False: "non"}).astype(object)
        elif col.kind == "date":
            d = pd.to_datetime(s)
            out[col.name] = d.dt.strftime("%Y-%m-%d").fillna("").astype(object)
        elif col.kind in ("int", "year"):
            v = pd.to_numeric(s, errors="coerce").astype("Int64")
            out[col.name] = v.astype(str).replace("<NA>", "").astype(object)
        elif col.kind == "float":
            out[col.name] = _fmt_float(s)
        else:
            out[col.name] = s.fillna("").astype(str).astype(object)
    out = out.sort_values(list(table.key), kind="stable").reset_index(drop=True)
    return out.to_csv(index=False, lineterminator="\n")


# --- generation ------------------------------------------------------------------------------


def _territory(rng: np.random.Generator, scale: str):
    """Communes and quartiers (with planted attributes) for the requested scale."""
    n_full, n_empty = _scale_tiles(scale)
    communes, quartiers = [], []
    qn = 0
    for tile in range(n_full + n_empty):
        full = tile < n_full
        suffix = "" if scale == "region" else f" {tile + 1}"
        for spec in _REGION:
            cidx = tile * 12 + spec.idx
            sig = full and spec.structure != "aucune"
            uu_pop, uu_med = _UU[spec.uu]
            communes.append(
                {
                    "code_commune": f"20{cidx:03d}",
                    "nom": spec.nom + suffix,
                    "code_epci": f"200{tile * 3 + spec.epci:05d}1",
                    "nom_epci": _EPCI_NOMS[spec.epci] + suffix,
                    "code_departement": CODE_DEP,
                    "code_region": CODE_REG,
                    "population": spec.population,
                    "structure_pilotage": spec.structure if sig else "aucune",
                    "signataire_cucs": sig,
                    "population_unite_urbaine": uu_pop,
                    "revenu_median_uu": uu_med,
                    "tile": tile,
                    "idx": spec.idx,
                    "participatif": spec.participatif if sig else None,
                    "adaptable": spec.adaptable if sig else None,
                    "non_pourvues": spec.non_pourvues if sig else 0,
                    "sans_donnees": sig and spec.idx == COMMUNE_SANS_DONNEES,
                }
            )
            if not full:
                continue
            for k, (cat, pauvre, pop) in enumerate(spec.quartiers):
                qn += 1
                quartiers.append(
                    {
                        "code_quartier": f"QP02{qn:04d}",
                        "nom": _QUARTIER_NOMS[(qn - 1) % len(_QUARTIER_NOMS)] + suffix,
                        "code_commune": f"20{cidx:03d}",
                        "categorie_cucs": cat,
                        "veille": cat == "",
                        "pauvre": pauvre,
                        "pop2011": pop,
                        "rang": k,
                        "signataire": sig,
                        "traite": sig and cat in ("1", "2"),
                    }
                )
    com = pd.DataFrame(communes)
    qua = pd.DataFrame(quartiers)
    # Commune populations vary a little between tiles (national scale).
    if n_full + n_empty > 1:
        com["population"] = (com["population"] * rng.uniform(0.9, 1.1, len(com))).round(-1).astype(int)
    qua = qua.merge(com[["code_commune", "population_unite_urbaine", "revenu_median_uu"]], on="code_commune")
    seuil = qpv2014_threshold(NATIONAL_MEDIAN, qua["revenu_median_uu"], qua["population_unite_urbaine"])
    # Incomes at least 500 € away from the threshold (the rule needs 300).
    ecart = rng.uniform(500, 2200, len(qua)).round(-1)
    qua["revenu2011"] = np.where(qua["pauvre"], seuil - ecart, seuil + ecart)
    qua["zus"] = qua["categorie_cucs"].eq("1") | (qua["categorie_cucs"].eq("2") & qua["pauvre"])
    elig = qpv2014_eligible(
        qua.assign(revenu_median_uc=qua["revenu2011"], population=qua["pop2011"]), NATIONAL_MEDIAN
    )
    qua["qpv_2015"] = elig
    # 2024 geography: mostly the same, a few exits and entries.
    flip = rng.random(len(qua)) < 0.1
    qua["qpv_2024"] = elig ^ flip
    return com, qua


def _operators(rng: np.random.Generator, com: pd.DataFrame) -> pd.DataFrame:
    rows = []
    sig = com[com["signataire_cucs"]]
    for tile, grp in sig.groupby("tile", sort=True):
        chef_lieu = com.loc[(com["tile"] == tile) & (com["idx"] == 1), "code_commune"].iloc[0]
        for code, nom in zip(grp["code_commune"], grp["nom"], strict=True):
            for k in range(15):
                rows.append(
                    {"code_commune": code, "pool": code, "assoc": k < 12, "local": True, "ville": nom}
                )
        for k in range(30):
            rows.append({"code_commune": chef_lieu, "pool": "", "assoc": k < 20, "local": False, "ville": ""})
    ops = pd.DataFrame(rows)
    n = len(ops)
    ops["id_operateur"] = [f"OP{i + 1:04d}" for i in range(n)]
    autres = np.array(["SCOP", "établissement public", "collectivité", "entreprise"])
    ops["statut_juridique"] = np.where(ops["assoc"], "association", autres[rng.integers(0, 4, n)])
    mots = np.array(_ASSOC_MOTS)
    mot = mots[rng.integers(0, len(mots), n)]
    prefix = pd.Series(ops["statut_juridique"]).map(
        {
            "association": "Association",
            "SCOP": "SCOP",
            "établissement public": "Centre social",
            "collectivité": "CCAS",
            "entreprise": "Entreprise d'insertion",
        }
    )
    lieu = np.where(ops["local"], " de " + ops["ville"], " départementale")
    ops["nom"] = prefix + " " + mot + lieu + " (" + ops["id_operateur"].str[2:] + ")"
    small = rng.random(n) < 0.6
    budget = np.where(small, rng.lognormal(np.log(35_000), 0.5, n), rng.lognormal(np.log(250_000), 0.7, n))
    ops["budget_annuel"] = budget.round(-2)
    ops["salaries_etp"] = np.where(small, rng.uniform(0, 4.5, n), rng.uniform(5, 40, n)).round(1)
    ops["echelle"] = np.where(
        ops["local"],
        np.where(rng.random(n) < 0.5, "quartier", "commune"),
        np.where(rng.random(n) < 0.5, "agglomération", "département"),
    )
    dom = np.array(schema.DOMAINES)
    picks = rng.random((n, len(dom))) < 0.3
    picks[np.arange(n), rng.integers(0, len(dom), n)] = True
    ops["domaines"] = [";".join(dom[p]) for p in picks]
    ops["annee_creation"] = rng.integers(1950, 2005, n)
    return ops


def _actions(
    rng: np.random.Generator,
    com: pd.DataFrame,
    qua: pd.DataFrame,
    ops: pd.DataFrame,
    volumes: _Volumes = _Volumes(),
) -> pd.DataFrame:
    """Distinct actions (one row each, with first and last year)."""
    rows = []
    dom = schema.DOMAINES
    regional = ops[~ops["local"]]
    for _, c in com[com["signataire_cucs"]].iterrows():
        code = c["code_commune"]
        pool = ops[ops["pool"] == code]
        assoc_pool = pool.loc[pool["assoc"], "id_operateur"].to_numpy()
        reg = regional[regional["code_commune"].isin(com.loc[com["tile"] == c["tile"], "code_commune"])]
        any_pool = np.concatenate([pool["id_operateur"].to_numpy(), reg["id_operateur"].to_numpy()])
        qs = qua[qua["code_commune"] == code]
        start = len(rows)  # this commune's rows are rows[start:]

        # Defaults bind this commune's values (the closure is only used inside this iteration).
        def add(kind, d, q, first, last, op, prio=None, qnom="", code=code, c=c):
            disp, label = _ACTIONS_DOMAINE[d][rng.integers(0, len(_ACTIONS_DOMAINE[d]))]
            rows.append(
                {
                    "code_commune": code,
                    "code_quartier": q,
                    "thematique": d,
                    "dispositif": disp,
                    "intitule": f"{label} — {qnom}" if qnom else label,
                    "libelle": label,
                    "public_cible": _PUBLICS[d][rng.integers(0, len(_PUBLICS[d]))],
                    "objectif": _OBJECTIFS[d],
                    "id_operateur": op,
                    "first": int(first),
                    "last": int(last),
                    "prioritaire": bool(rng.random() < 0.4) if prio is None else prio,
                    "kind": kind,
                    "structure": c["structure_pilotage"],
                    "tile": c["tile"],
                }
            )

        for d in dom:  # commune-wide core actions: specific credits in every domain, every year
            add("core", d, "", 2005, 2014, any_pool[rng.integers(0, len(any_pool))])
        for _, q in qs.iterrows():
            n_q = (
                (4 if q["pop2011"] >= 3000 else 3) if q["traite"] else 2
            ) + volumes.actions_quartier_en_plus
            for _ in range(n_q):
                d = dom[rng.integers(0, len(dom))]
                add("quartier", d, q["code_quartier"], 2005, 2014, assoc_pool[rng.integers(0, len(assoc_pool))],
                    qnom=q["nom"])  # fmt: skip
        n_old = 0
        for _ in range(5):  # older actions that stopped along the way
            first = rng.integers(2005, 2009)
            last = min(2014, first + rng.integers(1, 6))
            d = dom[rng.integers(0, len(dom))]
            if rng.random() < 0.5 and len(qs):
                q = qs.iloc[rng.integers(0, len(qs))]
                add("extra", d, q["code_quartier"], first, last, assoc_pool[rng.integers(0, len(assoc_pool))],
                    qnom=q["nom"])  # fmt: skip
            else:
                add("extra", d, "", first, last, any_pool[rng.integers(0, len(any_pool))])
            n_old += 1
        # Priority actions never carried out (no operator) and one non-priority one.
        n_np = int(c["non_pourvues"])
        for k in range(n_np + 1):
            first = rng.integers(2007, 2009) if not c["adaptable"] else rng.integers(2007, 2014)
            last = min(2014, first + rng.integers(0, 2))
            d = dom[rng.integers(0, len(dom))]
            add("non_pourvue", d, "", first, last, None, prio=k < n_np)
        n_old_total = sum(1 for r in rows[start:] if r["first"] < ANNEE_TRAITEMENT)
        n_new_np = sum(1 for r in rows[start:] if r["first"] >= ANNEE_TRAITEMENT)
        # Adaptable communes introduce many actions mid-course (share ≈ 0.45), figé ones few (≈ 0.05).
        if c["adaptable"]:
            n_new = int(np.ceil(n_old_total * 0.45 / 0.55)) - n_new_np
        else:
            n_new = max(0, int(np.floor(n_old_total * 0.05)) - n_new_np)
        for _ in range(max(n_new, 0)):
            first = rng.integers(ANNEE_TRAITEMENT, 2014)
            last = min(2014, first + rng.integers(1, 4))
            d = dom[rng.integers(0, len(dom))]
            if rng.random() < 0.5 and len(qs):
                q = qs.iloc[rng.integers(0, len(qs))]
                add("new", d, q["code_quartier"], first, last, assoc_pool[rng.integers(0, len(assoc_pool))],
                    qnom=q["nom"])  # fmt: skip
            else:
                add("new", d, "", first, last, any_pool[rng.integers(0, len(any_pool))])
    act = pd.DataFrame(rows)
    act["id_action"] = [f"A{i + 1:05d}" for i in range(len(act))]
    act["id_operateur"] = act["id_operateur"].astype(object)
    # The first quartier action is a theatre workshop (kept from earlier versions of the demo, so
    # that the other numbers do not move; hostile titles are injected by the tests, not here).
    first_q = act.index[act["kind"].eq("quartier")][0]
    qnom = act.loc[first_q, "intitule"].split(" — ", 1)[1]
    act.loc[first_q, "libelle"] = THEATRE
    act.loc[first_q, "intitule"] = f"{THEATRE} — {qnom}"
    act.loc[first_q, "thematique"] = "lien_social"
    act.loc[first_q, "dispositif"] = "autre"
    act.loc[first_q, "objectif"] = _OBJECTIFS["lien_social"]
    return _distinct_titles(act)


def _distinct_titles(act: pd.DataFrame) -> pd.DataFrame:
    """Actions sharing a title in the same commune and quartier get a qualifier (a school, a
    season, a sector…), in the order of their ids, so no two actions of a quartier read alike."""
    act = act.copy()
    key = ["code_commune", "code_quartier", "intitule"]
    dup = act.duplicated(key, keep=False).to_numpy()
    if not dup.any():
        return act
    sub = act.loc[dup]
    titles = act["intitule"].tolist()
    # k: rank of the action among those sharing its title (the frame is in id order).
    for pos, k, label, title in zip(
        np.flatnonzero(dup),
        sub.groupby(key, sort=False).cumcount(),
        sub["libelle"],
        sub["intitule"],
        strict=True,
    ):
        quals = _QUALIFICATIFS.get(label, ())
        qual = quals[k] if k < len(quals) else f"groupe {k + 1}"
        titled = f"{label[:-1]}, {qual})" if label.endswith(")") else f"{label} ({qual})"
        titles[pos] = titled + title[len(label) :]
    act["intitule"] = pd.Series(titles, index=act.index, dtype=act["intitule"].dtype)
    return act


def _action_years(
    rng: np.random.Generator, act: pd.DataFrame, ops: pd.DataFrame
) -> tuple[pd.DataFrame, list]:
    n_years = act["last"] - act["first"] + 1
    ay = act.loc[act.index.repeat(n_years)].copy()
    ay["annee"] = ay["first"] + ay.groupby("id_action").cumcount()
    ay = ay.reset_index(drop=True)
    n = len(ay)
    base = rng.integers(12, 160, len(act))
    # The draw is kept (the rest of the random stream does not move) and mapped into the range
    # of the action's kind, quartier or commune-wide.
    u = (base - 12) / 147
    ranges = [
        _BENEFICIAIRES[lab][0 if q else 1]
        for lab, q in zip(act["libelle"], act["code_quartier"], strict=True)
    ]
    lo, hi = (np.array([r[k] for r in ranges], dtype=float) for k in (0, 1))
    prevus_base = pd.Series(np.round(lo + u * (hi - lo)), index=act["id_action"])
    ay["beneficiaires_prevus"] = (
        (ay["id_action"].map(prevus_base) * rng.uniform(0.9, 1.1, n)).round().astype(int)
    )
    u = rng.random(n)
    statut = np.where(
        ay["kind"].isin(["core", "quartier"]), "réalisée", np.where(u < 0.05, "abandonnée", "réalisée")
    )
    statut = np.where((ay["annee"] == 2014) & (u > 0.75), "programmée", statut)
    statut = np.where(ay["kind"] == "non_pourvue", "non pourvue", statut)
    ay["statut"] = statut
    # Under-performing operators: 8 per tile among those with >= 4 completed action-years.
    done = ay[ay["statut"] == "réalisée"].groupby("id_operateur").size()
    eligible = sorted(done[done >= 4].index)
    n_tiles = int(act["tile"].max()) + 1
    under = sorted(rng.choice(eligible, size=min(8 * n_tiles, len(eligible)), replace=False).tolist())
    ratio_op = pd.Series(rng.uniform(0.92, 1.05, len(ops)), index=ops["id_operateur"])
    ratio_op[under] = rng.uniform(0.43, 0.47, len(under))
    r = ay["id_operateur"].map(ratio_op).astype(float) * rng.uniform(0.97, 1.03, n)
    real = (ay["beneficiaires_prevus"] * r).round()
    ay["beneficiaires_realises"] = real.where(ay["statut"] == "réalisée")
    ay["proximite"] = ay["thematique"].isin(["lien_social", "cadre_de_vie", "prevention"]) & (
        ay["code_quartier"] != ""
    )
    return ay, under


def _funding(
    rng: np.random.Generator,
    ay: pd.DataFrame,
    qua: pd.DataFrame,
    ops: pd.DataFrame,
    com: pd.DataFrame,
    rng_solo: np.random.Generator,
    volumes: _Volumes = _Volumes(),
) -> tuple[pd.DataFrame, list[str]]:
    """Funding rows, and the ids of the actions planted "at stake" (see `_single_funder`)."""
    funded = ay[ay["statut"] != "non pourvue"].copy()
    n = len(funded)
    # Commune-wide and non-quartier actions: a typical 2,000-40,000 € of specific credits.
    spec = np.clip(rng.lognormal(np.log(9000), 0.7, n), 2000, 40000)
    funded["spec"] = spec
    # Quartier association actions share a planted per-inhabitant intensity.
    assoc = funded["id_operateur"].map(ops.set_index("id_operateur")["statut_juridique"]).eq("association")
    in_q = funded["code_quartier"].ne("") & assoc
    qinfo = qua.set_index("code_quartier")
    fq = funded[in_q]
    post = fq["annee"] >= ANNEE_TRAITEMENT
    traite = fq["code_quartier"].map(qinfo["traite"]).astype(bool)
    pop = fq["code_quartier"].map(qinfo["pop2011"]).astype(float)
    per_hab = np.where(
        traite & post, rng.uniform(42, 48, len(fq)), np.where(traite, rng.uniform(4, 7, len(fq)), 0)
    )
    per_hab = np.where(~traite, rng.uniform(2.5, 5.5, len(fq)), per_hab)
    # Same intensity for every action of a quartier-year: take the first draw of the group.
    key = fq["code_quartier"] + "|" + fq["annee"].astype(str)
    per_hab = pd.Series(per_hab, index=fq.index).groupby(key).transform("first")
    w = pd.Series(rng.gamma(4.0, 1.0, len(fq)), index=fq.index)
    w = w / w.groupby(key).transform("sum")
    funded.loc[fq.index, "spec"] = per_hab * pop * w
    funded["spec"] = funded["spec"].round(-1).clip(lower=500)
    disp_prev = funded["thematique"].eq("prevention")
    spec_rows = pd.DataFrame(
        {
            "id_action": funded["id_action"],
            "annee": funded["annee"],
            "financeur": np.where(disp_prev, "État — FIPD", "ACSé — crédits politique de la ville"),
            "institution": "État",
            "type_credit": "specifique",
            "montant_accorde": funded["spec"],
            "structure": funded["structure"],
            "code_commune": funded["code_commune"],
            "statut": funded["statut"],
        }
    )
    # Mainstream co-funding: leverage planted per steering structure.
    lev = funded["structure"].map(STRUCTURE_LEVIER).astype(float) * rng.uniform(0.85, 1.15, n)
    total = funded["spec"].to_numpy() * lev.to_numpy()
    k = rng.integers(1, volumes.cofinanceurs_max + 1, n)
    order = rng.random((n, len(_COFINANCEURS))).argsort(axis=1)
    chosen = order < k[:, None]  # rank of each funder below k
    wts = rng.gamma(3.0, 1.0, (n, len(_COFINANCEURS))) * chosen
    wts = wts / wts.sum(axis=1, keepdims=True)
    amounts = (wts * total[:, None]).round(-1)
    ii, jj = np.nonzero(chosen)
    inst = np.array(_COFINANCEURS)[jj]
    nom_c = funded["code_commune"].map(com.set_index("code_commune")["nom"]).to_numpy()[ii]
    nom_e = funded["code_commune"].map(com.set_index("code_commune")["nom_epci"]).to_numpy()[ii]
    financeur = np.select(
        [inst == "commune", inst == "département", inst == "région", inst == "CAF", inst == "EPCI"],
        [
            "Ville de " + nom_c,
            "Conseil général",
            "Conseil régional",
            "Caisse d'allocations familiales",
            nom_e,
        ],
        "Bailleur social Habitat du Val",
    )
    dc_rows = pd.DataFrame(
        {
            "id_action": funded["id_action"].to_numpy()[ii],
            "annee": funded["annee"].to_numpy()[ii],
            "financeur": financeur,
            "institution": inst,
            "type_credit": "droit_commun",
            "montant_accorde": amounts[ii, jj],
            "structure": funded["structure"].to_numpy()[ii],
            "code_commune": funded["code_commune"].to_numpy()[ii],
            "statut": funded["statut"].to_numpy()[ii],
        }
    )
    dc_rows = dc_rows[dc_rows["montant_accorde"] > 0]
    fin = pd.concat([spec_rows, dc_rows], ignore_index=True)
    m = len(fin)
    fin["montant_demande"] = (fin["montant_accorde"] * rng.uniform(1.0, 1.25, m)).round(-1)
    dec_med = fin["structure"].map({k: v[0] for k, v in STRUCTURE_DELAIS.items()}).to_numpy()
    pay_med = fin["structure"].map({k: v[1] for k, v in STRUCTURE_DELAIS.items()}).to_numpy()
    depot = rng.integers(5, 110, m)
    dec = depot + np.clip(np.round(dec_med * rng.uniform(0.7, 1.3, m)), 10, 140)
    pay = dec + np.clip(np.round(pay_med * rng.uniform(0.7, 1.3, m)), 7, 90)
    years = fin["annee"].to_numpy()
    fin["date_depot"] = _dates(years, depot)
    fin["date_decision"] = _dates(years, dec)
    paid = ~fin["statut"].isin(["abandonnée", "programmée"]).to_numpy()
    fin["date_paiement"] = _dates(years, pay).where(paid)
    # Applied last, with its own generator, so that every other draw (and truth) is unchanged.
    return _single_funder(rng_solo, fin, com)


def _single_funder(
    rng: np.random.Generator, fin: pd.DataFrame, com: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """Remove or shrink mainstream co-funding of some action-years; plant the actions at stake.

    - Single funder: per commune a rate in [10 %, 42 %]; half of it as whole actions funded by
      the State alone, half as single years, so co-funding varies by commune and year.
    - At stake (docs/rules.md, `reprise`): in the chef-lieu and 4 other signatory communes of
      each tile, 1-4 actions running in 2014 get >= 80 % specific credits (State alone, or
      co-funding cut to 5-15 % of the specific credits) from 2010-2012 to 2014. Accidental
      runs of 3 single-funder years up to 2014 are broken, so these are the only ones.
    Only droit_commun rows are dropped or scaled: specific credits (the DiD intensity) stay.
    The remaining co-funding is scaled per steering structure so leverage keeps its value.
    """
    key = ["id_action", "annee"]
    spec = fin[fin["type_credit"] == "specifique"]
    ay = spec[[*key, "code_commune", "statut"]].assign(spec=spec["montant_accorde"])
    ay = ay.sort_values(key).reset_index(drop=True)
    acts = ay.groupby("id_action").agg(code_commune=("code_commune", "first"), first=("annee", "min"))
    sig = com[com["signataire_cucs"]].sort_values("code_commune").reset_index(drop=True)
    rate = pd.Series(rng.uniform(0.1, 0.42, len(sig)), index=sig["code_commune"])
    whole = pd.Series(
        rng.random(len(acts)) < 0.5 * acts["code_commune"].map(rate).to_numpy(), index=acts.index
    )
    ay["solo"] = ay["id_action"].map(whole).to_numpy() | (
        rng.random(len(ay)) < 0.5 * ay["code_commune"].map(rate).to_numpy()
    )

    # Planted actions at stake: running in the last year, funded in each of the last 3 years.
    fin_an = int(YEARS[-1])
    tail = ay["annee"] > fin_an - DUREE_REPRISE
    last = ay[ay["annee"] == fin_an].set_index("id_action")["statut"]
    n_tail = ay[tail].groupby("id_action").size()
    cand = acts[
        acts.index.isin(n_tail[n_tail == DUREE_REPRISE].index)
        & acts.index.isin(last[last.isin(STATUTS_EN_COURS)].index)
    ].copy()
    u = pd.Series(rng.random(len(sig)), index=sig.index).where(sig["idx"] != 1, -1.0)  # chef-lieu first
    chosen = u.groupby(sig["tile"]).rank(method="first") <= 5
    n_plant = pd.Series(np.where(chosen, rng.integers(1, 5, len(sig)), 0), index=sig["code_commune"])
    cand["u"] = rng.random(len(cand))
    cand["rang"] = cand.groupby("code_commune")["u"].rank(method="first")
    planted = cand[cand["rang"] <= cand["code_commune"].map(n_plant)].copy()
    planted["debut"] = np.maximum(rng.integers(fin_an - 4, fin_an - 1, len(planted)), planted["first"])
    planted["reduit"] = rng.random(len(planted)) < 0.5
    planted["part_dc"] = rng.uniform(0.05, 0.15, len(planted))
    ay = ay.merge(planted[["debut", "reduit", "part_dc"]], left_on="id_action", right_index=True, how="left")
    in_run = ay["debut"].notna() & (ay["annee"] >= ay["debut"])
    reduit = in_run & ay["reduit"].fillna(False).astype(bool)
    ay["solo"] = (ay["solo"] & ~in_run) | (in_run & ~reduit)
    ay["reduit"] = reduit
    # Break accidental runs: one of the last 3 years of an all-single-funder tail keeps its co-funders.
    n_solo = ay["solo"].where(tail, False).groupby(ay["id_action"]).transform("sum")
    casse = pd.Series(rng.integers(0, DUREE_REPRISE, len(acts)), index=acts.index)
    annee_casse = fin_an - DUREE_REPRISE + 1 + ay["id_action"].map(casse)
    fix = ay["debut"].isna() & (n_solo == DUREE_REPRISE) & (ay["annee"] == annee_casse)
    ay.loc[fix, "solo"] = False

    fin = fin.merge(ay[[*key, "spec", "solo", "reduit", "part_dc"]], on=key, how="left")
    is_dc = fin["type_credit"] == "droit_commun"
    before = fin[is_dc].groupby("structure")["montant_accorde"].sum()
    dc_sum = (
        fin["montant_accorde"].where(is_dc, 0.0).groupby([fin["id_action"], fin["annee"]]).transform("sum")
    )
    shrink = is_dc & fin["reduit"]
    f = (fin["spec"] * fin["part_dc"] / dc_sum).where(shrink, 1.0)
    fin["montant_accorde"] = (fin["montant_accorde"] * f).round(-1)
    fin["montant_demande"] = (fin["montant_demande"] * f).round(-1)
    fin = fin[~(is_dc & (fin["solo"] | (fin["montant_accorde"] <= 0)))].copy()
    is_dc = fin["type_credit"] == "droit_commun"
    free = is_dc & ~fin["reduit"]
    fixed = fin[is_dc & fin["reduit"]].groupby("structure")["montant_accorde"].sum()
    kept = fin[free].groupby("structure")["montant_accorde"].sum()
    factor = (before - fixed.reindex(before.index, fill_value=0.0)) / kept.reindex(before.index)
    g = fin["structure"].map(factor).where(free, 1.0).astype(float)
    fin["montant_accorde"] = (fin["montant_accorde"] * g).round(-1)
    fin["montant_demande"] = (fin["montant_demande"] * g).round(-1)
    fin = fin.drop(columns=["spec", "solo", "reduit", "part_dc"]).reset_index(drop=True)
    return fin, sorted(planted.index)


def _droit_commun(rng: np.random.Generator, com: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Mainstream credits per commune × domain × institution × year, with planted types."""
    keys = com[["code_commune", "population", "signataire_cucs"]].merge(
        pd.DataFrame({"domaine": schema.DOMAINES}), how="cross"
    )
    nk = len(keys)
    types = np.array(["complementarite", "substitution_temporaire", "substitution_durable"])
    # Balanced mix over signatory combos, in a random order.
    sig_idx = np.flatnonzero(keys["signataire_cucs"].to_numpy())
    planted = np.full(nk, "complementarite", dtype=object)
    planted[sig_idx] = rng.permutation(np.resize(types, len(sig_idx)))
    keys["type"] = planted
    nt = len(YEARS)
    mult = np.ones((nk, nt))
    drop = rng.uniform(0.5, 0.65, nk)
    t_start = rng.integers(2008, 2012, nk)
    t_len = rng.integers(1, 4, nk)
    t_len = np.minimum(t_len, 2013 - t_start + 1)  # a temporary drop ends by 2013
    d_start = rng.integers(2007, 2011, nk)
    yy = YEARS[None, :]
    temp = (
        (planted == "substitution_temporaire")[:, None]
        & (yy >= t_start[:, None])
        & (yy < (t_start + t_len)[:, None])
    )
    dur = (planted == "substitution_durable")[:, None] & (yy >= d_start[:, None])
    mult = np.where(temp | dur, drop[:, None], mult)
    mult = mult * rng.uniform(0.975, 1.025, (nk, nt))
    base = keys["population"].to_numpy() * keys["domaine"].map(_DC_PAR_HAB).to_numpy()
    totals = base[:, None] * mult * _price_level()[None, :]  # current euros of each year
    frames = []
    for d, parts in _DC_PARTS.items():
        sel = keys["domaine"].to_numpy() == d
        for inst, share in parts:
            val = (totals[sel] * share).round(-1)
            frames.append(
                pd.DataFrame(
                    {
                        "institution": inst,
                        "domaine": d,
                        "niveau": "commune",
                        "code_territoire": np.repeat(keys.loc[sel, "code_commune"].to_numpy(), nt),
                        "annee": np.tile(YEARS, int(sel.sum())),
                        "mesure": "credits",
                        "valeur": val.ravel(),
                        "unite": "€",
                    }
                )
            )
    # Posts in full-time equivalents (not used by the substitution rule).
    pop = np.repeat(com["population"].to_numpy(), nt)
    for d, per_1000 in (("education", 4.0), ("emploi", 0.6)):
        frames.append(
            pd.DataFrame(
                {
                    "institution": "État",
                    "domaine": d,
                    "niveau": "commune",
                    "code_territoire": np.repeat(com["code_commune"].to_numpy(), nt),
                    "annee": np.tile(YEARS, len(com)),
                    "mesure": "postes",
                    "valeur": (pop / 1000 * per_1000 * rng.uniform(0.95, 1.05, len(pop))).round(1),
                    "unite": "ETP",
                }
            )
        )
    dc = pd.concat(frames, ignore_index=True)
    sig_keys = keys[keys["signataire_cucs"]]
    truth = [
        {"code_territoire": c, "domaine": d, "type": t}
        for c, d, t in zip(sig_keys["code_commune"], sig_keys["domaine"], sig_keys["type"], strict=True)
    ]
    return dc, truth


def _residualise(e: np.ndarray, extra: list[np.ndarray]) -> np.ndarray:
    """Remove quartier and year effects and the given regressors from a Q × T noise matrix."""

    def dd(m):
        return m - m.mean(axis=1, keepdims=True) - m.mean(axis=0, keepdims=True) + m.mean()

    e_dd = dd(e)
    x = np.column_stack([dd(x).ravel() for x in extra])
    beta, *_ = np.linalg.lstsq(x, e_dd.ravel(), rcond=None)
    return (e_dd.ravel() - x @ beta).reshape(e.shape)


def _indicators(rng: np.random.Generator, com: pd.DataFrame, qua: pd.DataFrame) -> pd.DataFrame:
    nq, nt = len(qua), len(YEARS)
    yy = YEARS[None, :].astype(float)
    cat = {c["indicateur"]: c for c in schema.CATALOGUE_INDICATEURS}
    g = rng.uniform(-0.006, 0.006, nq)[:, None]
    qpop = np.round(qua["pop2011"].to_numpy()[:, None] * (1 + g * (yy - ANNEE_REVENUS)))
    inc_noise = rng.normal(0, 60, (nq, nt))
    inc_noise[:, YEARS == ANNEE_REVENUS] = 0
    qinc = np.round(
        (qua["revenu2011"].to_numpy()[:, None] * (1 + 0.013 * (yy - ANNEE_REVENUS)) + inc_noise), -1
    )
    poor = np.clip((13500 - qua["revenu2011"].to_numpy()) / 4500, 0, 1)[:, None]
    traite = qua["traite"].to_numpy()[:, None].astype(float)
    post = (yy >= ANNEE_TRAITEMENT).astype(float)
    d = traite * post
    pre_trend = traite * (yy - 2007) * (1 - post)
    gamma_ch = np.array([0, -0.4, -0.9, -0.6, 1.2, 1.5, 1.3, 1.9, 2.4, 2.6])[None, :]
    gamma_pv = np.array([0, 0.2, 0.3, 0.5, 0.9, 1.2, 1.4, 1.5, 1.7, 1.8])[None, :]

    def noise(sd):
        e = _residualise(rng.normal(0, 1, (nq, nt)), [d * np.ones_like(yy), pre_trend * np.ones_like(yy)])
        return e / e.std() * sd

    a_ch = 17 + 8 * poor + rng.uniform(-2, 2, (nq, 1))
    chom = a_ch + gamma_ch + EFFET_CHOMAGE * d + noise(0.6)
    a_pv = 30 + 16 * poor + rng.uniform(-2, 2, (nq, 1))
    pauv = a_pv + gamma_pv + noise(0.8)
    jeunes = chom * 1.7 + rng.normal(0, 1.5, (nq, nt))
    m25 = 38 + 6 * poor + rng.uniform(-2, 2, (nq, 1)) + rng.normal(0, 0.4, (nq, nt))
    sdip = 28 + 14 * poor - 0.4 * (yy - 2005) + rng.normal(0, 0.8, (nq, nt))
    mono = 24 + 10 * poor + rng.normal(0, 0.8, (nq, nt))
    brev = 70 + 8 * (1 - poor) + 0.5 * (yy - 2005) + rng.normal(0, 2.5, (nq, nt))
    delits = 55 + 30 * poor + rng.normal(0, 4, (nq, nt))
    de_rate = (0.09 + 0.05 * poor) * (1 + gamma_ch / 20)

    # (indicator, rate matrix, denominator matrix, per) — per = 100 for %, 1000 for ‰
    qrates = {
        "taux_chomage": (chom, np.round(qpop * 0.45), 100),
        "taux_chomage_jeunes": (jeunes, np.round(qpop * 0.065), 100),
        "taux_pauvrete": (pauv, qpop, 100),
        "part_moins_25_ans": (m25, qpop, 100),
        "part_sans_diplome": (sdip, np.round(qpop * 0.62), 100),
        "part_familles_monoparentales": (mono, np.round(qpop * 0.11), 100),
        "taux_reussite_brevet": (brev, np.round(qpop * 0.02), 100),
        "delits_pour_1000": (delits, qpop, 1000),
    }
    qnum = {k: np.round(r / per * den) for k, (r, den, per) in qrates.items()}
    qden = {k: v[1] for k, v in qrates.items()}
    qde = np.round(qpop * de_rate)

    # Communes: quartiers plus the rest of the commune (better off).
    ncom = len(com)
    cpop = np.round(
        com["population"].to_numpy()[:, None] * (1 + rng.uniform(-0.004, 0.008, (ncom, 1)) * (yy - 2011))
    )
    cidx = pd.Index(com["code_commune"]).get_indexer(qua["code_commune"])
    onehot = np.zeros((ncom, nq))
    onehot[cidx, np.arange(nq)] = 1.0
    rest = cpop - onehot @ qpop
    rest_rates = {
        "taux_chomage": (8.0 + 0.5 * gamma_ch + rng.uniform(-1, 1, (ncom, 1)), 0.46),
        "taux_chomage_jeunes": (19 + gamma_ch + rng.uniform(-2, 2, (ncom, 1)), 0.06),
        "taux_pauvrete": (11 + 0.3 * gamma_pv + rng.uniform(-1.5, 1.5, (ncom, 1)), 1.0),
        "part_moins_25_ans": (29 + rng.uniform(-2, 2, (ncom, 1)) + 0 * yy, 1.0),
        "part_sans_diplome": (17 - 0.4 * (yy - 2005) + rng.uniform(-2, 2, (ncom, 1)), 0.7),
        "part_familles_monoparentales": (15 + rng.uniform(-2, 2, (ncom, 1)) + 0 * yy, 0.12),
        "taux_reussite_brevet": (84 + 0.4 * (yy - 2005) + rng.uniform(-2, 2, (ncom, 1)), 0.012),
        "delits_pour_1000": (40 + rng.uniform(-6, 6, (ncom, 1)) + 0 * yy, 1.0),
    }
    cnum, cden = {}, {}
    for k, (rate, share) in rest_rates.items():
        per = qrates[k][2]
        rden = np.round(rest * share)
        cden[k] = rden + onehot @ qden[k]
        cnum[k] = np.round(rate / per * rden) + onehot @ qnum[k]
    rest_inc = (
        com["revenu_median_uu"].to_numpy()[:, None]
        * rng.uniform(0.97, 1.08, (ncom, 1))
        * (1 + 0.013 * (yy - 2011))
    )
    cinc = np.round((rest * rest_inc + onehot @ (qpop * qinc)) / cpop, -1)
    cde = np.round(rest * 0.07 * (1 + gamma_ch / 20)) + onehot @ qde
    pfisc = np.round(rng.uniform(650, 1300, (ncom, 1)) * (1 + 0.02 * (yy - 2005)))

    frames = []

    def emit(niveau, codes, ind, valeur, num=None, den=None, secret=None):
        n = len(codes)
        frames.append(
            pd.DataFrame(
                {
                    "niveau": niveau,
                    "code_territoire": np.repeat(np.asarray(codes), nt),
                    "indicateur": ind,
                    "annee": np.tile(YEARS, n),
                    "valeur": np.asarray(valeur, dtype=float).ravel(),
                    "numerateur": np.nan if num is None else np.asarray(num, dtype=float).ravel(),
                    "denominateur": np.nan if den is None else np.asarray(den, dtype=float).ravel(),
                    "source": cat[ind]["source"],
                    "secret": False if secret is None else np.asarray(secret).ravel(),
                }
            )
        )

    def rate_val(num, den, per):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.round(per * num / den, 1)

    qcodes = qua["code_quartier"].to_numpy()
    emit("quartier", qcodes, "population", qpop)
    emit("quartier", qcodes, "revenu_median_uc", qinc)
    emit("quartier", qcodes, "demandeurs_emploi", qde)
    for k, (_, den, per) in qrates.items():
        # Small counts are secret: value, numerator and denominator all blanked.
        sec = (den < 30) | (qnum[k] < 11)
        num = np.where(sec, np.nan, qnum[k])
        dn = np.where(sec, np.nan, den)
        emit("quartier", qcodes, k, rate_val(num, dn, per), num, dn, sec)

    # Aggregates above the commune: sums of numerators and denominators.
    levels = [("commune", com["code_commune"].to_numpy(), np.eye(ncom))]
    for niveau, col in (
        ("epci", "code_epci"),
        ("departement", "code_departement"),
        ("region", "code_region"),
    ):
        codes = np.array(sorted(com[col].unique()))
        agg = (com[col].to_numpy()[None, :] == codes[:, None]).astype(float)
        levels.append((niveau, codes, agg))
    for niveau, codes, agg in levels:
        p = agg @ cpop
        inc = agg @ (cpop * cinc) / p
        de = agg @ cde
        nums = {k: agg @ cnum[k] for k in qrates}
        dens = {k: agg @ cden[k] for k in qrates}
        if niveau == "region":
            # The région also holds départements outside the demo (deterministic, no draw): more
            # inhabitants, a little better off than département 20, so the two rows differ.
            rest = AUTRES_DEPARTEMENTS["population"]
            inc = (p * inc + rest * p * inc * AUTRES_DEPARTEMENTS["revenu"]) / (p + rest * p)
            de = de + np.round(rest * de * AUTRES_DEPARTEMENTS["demandeurs_emploi"])
            for k in qrates:
                per, rden = qrates[k][2], np.round(rest * dens[k])
                rrate = np.clip(per * nums[k] / dens[k] + AUTRES_DEPARTEMENTS[k], 0, per)
                nums[k] = nums[k] + np.round(rrate / per * rden)
                dens[k] = dens[k] + rden
            p = p + np.round(rest * p)
        emit(niveau, codes, "population", p)
        emit(niveau, codes, "revenu_median_uc", np.round(inc, -1))
        emit(niveau, codes, "demandeurs_emploi", de)
        for k in qrates:
            emit(niveau, codes, k, rate_val(nums[k], dens[k], qrates[k][2]), nums[k], dens[k])
    emit("commune", com["code_commune"].to_numpy(), "potentiel_fiscal_hab", pfisc)
    return pd.concat(frames, ignore_index=True)


def _parcours(rng: np.random.Generator, qua: pd.DataFrame, ay: pd.DataFrame, n_menages: int) -> pd.DataFrame:
    qs = qua[qua["signataire"] & ~qua["sans_donnees"]]
    weights = qs["pop2011"].to_numpy() / qs["pop2011"].sum()
    hq = qs["code_quartier"].to_numpy()[rng.choice(len(qs), n_menages, p=weights)]
    hsize = rng.choice([1, 2, 3], n_menages, p=[0.55, 0.3, 0.15])
    pers = pd.DataFrame({"m": np.repeat(np.arange(n_menages), hsize), "code_quartier": np.repeat(hq, hsize)})
    npers = len(pers)
    ages = np.array(schema.TRANCHES_AGE)
    pers["tranche_age"] = ages[rng.choice(5, npers, p=[0.35, 0.25, 0.25, 0.12, 0.03])]
    n_ep = rng.choice([1, 2], npers, p=[0.72, 0.28])
    ep = pers.loc[pers.index.repeat(n_ep)].copy()
    ep["rang"] = ep.groupby(level=0).cumcount()
    ep["p"] = ep.index
    ep = ep.reset_index(drop=True)
    options = {
        "0-15": ("PRE", "CLAS", "VVV"),
        "16-25": ("chantier d'insertion", "VVV", "ASV"),
        "26-44": ("chantier d'insertion", "atelier parents", "ASV"),
        "45-64": ("chantier d'insertion", "atelier parents", "ASV"),
        "65+": ("ASV", "atelier parents", "autre"),
    }
    opt = np.array([options[a] for a in ep["tranche_age"]])
    first = rng.integers(0, 3, npers)[ep["p"].to_numpy()]
    # Distinct dispositifs for the episodes of a person.
    ep["dispositif"] = opt[np.arange(len(ep)), (first + ep["rang"].to_numpy()) % 3]
    m = len(ep)
    year = rng.integers(2007, 2014, m)
    ep["date_entree"] = _dates(year, rng.integers(0, 360, m))
    length = rng.integers(60, 700, m)
    sortie = ep["date_entree"] + pd.to_timedelta(length, unit="D")
    en_cours = (sortie > pd.Timestamp("2014-12-31")) | (rng.random(m) < 0.05)
    ep["date_sortie"] = sortie.where(~en_cours)
    ep["niveau_entree"] = rng.choice([1, 2, 3, 4], m, p=[0.35, 0.4, 0.2, 0.05])
    gain = rng.choice([0, 1, 2], m, p=[0.45, 0.4, 0.15])
    ep["niveau_sortie"] = np.minimum(ep["niveau_entree"] + gain, 4).astype(float)
    ep.loc[en_cours, "niveau_sortie"] = np.nan
    motifs = np.array(schema.MOTIFS_SORTIE)
    ep["motif_sortie"] = pd.Series(motifs[rng.choice(6, m, p=[0.4, 0.15, 0.15, 0.12, 0.1, 0.08])]).where(
        ~en_cours
    )
    # Link to an action of the commune with the same dispositif active that year, when there is one.
    ep["annee"] = ep["date_entree"].dt.year
    ep["code_commune"] = ep["code_quartier"].map(qua.set_index("code_quartier")["code_commune"])
    link = (
        ay[ay["statut"] != "non pourvue"]
        .sort_values("id_action")
        .drop_duplicates(["code_commune", "dispositif", "annee"])[
            ["code_commune", "dispositif", "annee", "id_action"]
        ]
    )
    ep = ep.merge(link, on=["code_commune", "dispositif", "annee"], how="left")
    ep["id_personne"] = [f"P{i + 1:06d}" for i in ep["p"]]
    ep["id_menage"] = [f"M{i + 1:05d}" for i in ep["m"]]
    return ep


def _gup(rng: np.random.Generator, qua: pd.DataFrame, scale: str) -> tuple[pd.DataFrame, list]:
    qs = qua[qua["signataire"] & ~qua["sans_donnees"]].reset_index(drop=True)
    cats = np.array(schema.CATEGORIES_GUP)
    rates = np.array([4.0, 1.5, 2.0, 1.5, 2.5, 1.0])
    nt = len(YEARS)
    lam = qs["pop2011"].to_numpy()[:, None, None] / 1000 * rates[None, :, None] * np.ones((1, 1, nt // 2))
    half = rng.poisson(lam)
    # Palindromic series: the Poisson slope on year is exactly zero (stable) for unplanted cells.
    counts = np.concatenate([half, half[:, :, ::-1]], axis=2)
    # Plant one rise (tripling) and one fall in each tile's first two quartiers of commune 4 / 1.
    planted = []
    t = (YEARS - YEARS[0]) / (YEARS[-1] - YEARS[0])
    hausse = np.round(6 * 3**t)
    baisse = np.round(20 * 0.25**t)
    for tile in sorted(qua["tile"].unique()):
        q_up = qs.index[(qs["tile"] == tile) & (qs["cidx"] == 4) & (qs["rang"] == 0)]
        q_dn = qs.index[(qs["tile"] == tile) & (qs["cidx"] == 1) & (qs["rang"] == 1)]
        for qi, ci, series, tend in ((q_up, 4, hausse, "hausse"), (q_dn, 0, baisse, "baisse")):
            if len(qi):
                counts[qi[0], ci, :] = series
                planted.append(
                    {"code_quartier": qs.loc[qi[0], "code_quartier"], "categorie": cats[ci], "tendance": tend}
                )
        if scale == "region":
            break
    qq, cc, tt = np.nonzero(counts >= 0)
    n_rep = counts[qq, cc, tt].astype(int)
    rows = pd.DataFrame(
        {
            "code_quartier": np.repeat(qs["code_quartier"].to_numpy()[qq], n_rep),
            "categorie": np.repeat(cats[cc], n_rep),
            "annee": np.repeat(YEARS[tt], n_rep),
        }
    )
    m = len(rows)
    rows["date"] = _dates(rows["annee"].to_numpy(), rng.integers(0, 365, m))
    u = rng.random(m)
    late = rows["date"] > pd.Timestamp("2014-11-15")
    statut = np.where(u < 0.07, "classé sans suite", "résolu")
    statut = np.where(late & (u > 0.3), "en cours", statut)
    rows["statut"] = statut
    med = pd.Series(dict(zip(cats, [7, 20, 35, 15, 10, 25], strict=True)))
    delai = np.round(rows["categorie"].map(med).to_numpy() * rng.lognormal(0, 0.5, m))
    rows["delai_resolution_jours"] = pd.Series(delai).where(rows["statut"] == "résolu")
    rows = rows.sort_values(["date", "code_quartier", "categorie"], kind="stable").reset_index(drop=True)
    rows["id_signalement"] = [f"G{i + 1:06d}" for i in range(m)]
    return rows, planted


def _instances(rng: np.random.Generator, com: pd.DataFrame) -> pd.DataFrame:
    cs = com[com["signataire_cucs"] & ~com["sans_donnees"]]
    years = np.arange(ANNEE_DEBUT_CUCS, 2015)
    frames = []
    for code, part in zip(cs["code_commune"], cs["participatif"], strict=True):
        n_coll = rng.integers(7, 10, len(years)) if part else rng.integers(2, 4, len(years))
        n_cons = rng.integers(2, 4, len(years)) if part else rng.integers(7, 10, len(years))
        per_type = {
            "comité de pilotage": np.full(len(years), 2),
            "comité technique": np.full(len(years), 4),
            "réunion collective de travail": np.ceil(n_coll * 0.6).astype(int),
            "groupe thématique": n_coll - np.ceil(n_coll * 0.6).astype(int),
            "réunion de consignes": n_cons,
            "rencontre individuelle de soutien": rng.integers(2, 5, len(years)),
        }
        for typ, counts in per_type.items():
            frames.append(
                pd.DataFrame({"code_commune": code, "type": typ, "annee": np.repeat(years, counts)})
            )
    ins = pd.concat(frames, ignore_index=True)
    m = len(ins)
    ins["date"] = _dates(ins["annee"].to_numpy(), rng.integers(0, 350, m))
    inst = np.array(schema.INSTITUTIONS)
    present = rng.random((m, len(inst))) < 0.35
    present[:, 0] = present[:, 0] | (
        ins["type"].isin(["comité de pilotage", "réunion de consignes"]).to_numpy()
    )
    present[:, 3] = True  # the commune is always there
    ins["institutions"] = [";".join(inst[p]) for p in present]
    ins["participants"] = rng.integers(4, 35, m)
    collective = ins["type"].isin(["réunion collective de travail", "groupe thématique"]).to_numpy()
    hab = np.where(collective, rng.integers(0, 9, m), rng.integers(0, 2, m))
    ins["habitants"] = np.minimum(hab, ins["participants"] - 2)
    ins = ins.sort_values(["date", "code_commune", "type"], kind="stable").reset_index(drop=True)
    ins["id_instance"] = [f"I{i + 1:05d}" for i in range(m)]
    return ins


def _enquetes(rng: np.random.Generator, qua: pd.DataFrame) -> pd.DataFrame:
    qs = qua[qua["signataire"] & ~qua["sans_donnees"]]
    per = {"habitant": 20, "opérateur": 5, "partenaire": 4}
    shift = {"habitant": -0.5, "opérateur": 0.3, "partenaire": 0.2}
    frames = []
    for annee in (2010, 2013):
        for typ, n in per.items():
            grid = pd.DataFrame({"code_quartier": np.repeat(qs["code_quartier"].to_numpy(), n)}).merge(
                pd.DataFrame({"question": _QUESTIONS_ENQUETE}), how="cross"
            )
            grid["type_repondant"] = typ
            grid["annee"] = annee
            latent = 3 + shift[typ] + (0.2 if annee == 2013 else 0) + rng.normal(0, 1.0, len(grid))
            grid["reponse"] = np.clip(np.round(latent), 1, 5).astype(int)
            frames.append(grid)
    enq = pd.concat(frames, ignore_index=True)
    enq["id_reponse"] = [f"R{i + 1:06d}" for i in range(len(enq))]
    return enq


def _bilans(rng: np.random.Generator, ay: pd.DataFrame, under: list) -> pd.DataFrame:
    done = ay[ay["statut"].isin(["réalisée", "abandonnée"])].reset_index(drop=True)
    keep = rng.random(len(done)) < 0.6
    b = done[keep].reset_index(drop=True)
    n = len(b)
    cats = np.array(schema.CATEGORIES_BILAN)
    low = b["id_operateur"].isin(under).to_numpy()
    p_norm = [0.55, 0.25, 0.05, 0.15]
    p_low = [0.1, 0.3, 0.1, 0.5]
    c = np.where(low, cats[rng.choice(4, n, p=p_low)], cats[rng.choice(4, n, p=p_norm)])
    c = np.where(b["statut"].eq("abandonnée"), "blocage", c)
    pick = rng.integers(0, 3, n)
    themes, textes = [], []
    for cat_i, k in zip(c, pick, strict=True):
        opts = _BILAN_TEXTES[cat_i]
        th, tx = opts[k % len(opts)]
        themes.append(th)
        textes.append(tx)
    out = pd.DataFrame(
        {"id_action": b["id_action"], "annee": b["annee"], "categorie": c, "theme": themes, "texte": textes}
    )
    out["id_bilan"] = [f"B{i + 1:05d}" for i in range(n)]
    return out


def _equipements(rng: np.random.Generator, com: pd.DataFrame, qua: pd.DataFrame) -> pd.DataFrame:
    years = np.arange(2007, 2015)
    terr = pd.concat(
        [
            pd.DataFrame(
                {
                    "niveau": "commune",
                    "code_territoire": com["code_commune"],
                    "pop": com["population"],
                    "q": 1.0,
                }
            ),
            pd.DataFrame(
                {
                    "niveau": "quartier",
                    "code_territoire": qua["code_quartier"],
                    "pop": qua["pop2011"],
                    "q": 0.0,
                }
            ),
        ],
        ignore_index=True,
    )
    eq = pd.DataFrame(_EQUIPEMENTS, columns=["type_equipement", "libelle", "gamme", "per_1000", "ratio_q"])
    g = terr.merge(eq, how="cross")
    rate = g["per_1000"] * np.where(g["q"] == 1.0, 1.0, g["ratio_q"])
    base = rng.poisson(g["pop"] / 1000 * rate)
    out = g.loc[g.index.repeat(len(years))].reset_index(drop=True)
    out["annee"] = np.tile(years, len(g))
    drift = np.cumsum(rng.choice([-1, 0, 0, 0, 0, 0, 0, 1], (len(g), len(years))), axis=1)
    drift[:, 0] = 0
    out["nombre"] = np.maximum(np.repeat(base, len(years)) + drift.ravel(), 0)
    return out


# --- planted truths, recomputed from the tables (rules of docs/rules.md) -------------------


def _truth_from_tables(t: dict[str, pd.DataFrame], scale: str) -> dict:
    """Recompute every truth from the generated tables, independently of the planting code."""
    com, act, fin, dc = t["communes"], t["actions"], t["financements"], t["droit_commun"]
    sig = com.loc[com["signataire_cucs"], "code_commune"]
    out: dict = {}

    # Substitution typology.
    dcs = dc[(dc["mesure"] == "credits") & (dc["niveau"] == "commune")]
    dct = dcs.groupby(["code_territoire", "domaine", "annee"])["valeur"].sum().rename("dc").reset_index()
    # The rule reads constant euros (params euros_constants, on by default): deflate to 2005 prices.
    dct["dc"] = dct["dc"] / dct["annee"].map(dict(zip(YEARS.tolist(), _price_level(), strict=True)))
    fa = fin.merge(act[["id_action", "annee", "code_commune", "thematique"]], on=["id_action", "annee"])
    sp = (
        fa[fa["type_credit"] == "specifique"]
        .groupby(["code_commune", "thematique"])["montant_accorde"]
        .sum()
        .rename("sp")
    )
    base = (
        dct[dct["annee"].isin([2005, 2006])].groupby(["code_territoire", "domaine"])["dc"].mean().rename("b")
    )
    dct = dct.join(base, on=["code_territoire", "domaine"])
    dct = dct[dct["annee"] >= ANNEE_DEBUT_CUCS].sort_values(["code_territoire", "domaine", "annee"])
    dct["ratio"] = dct["dc"] / dct["b"]
    dct["below"] = dct["dc"] < 0.9 * dct["b"]
    # Longest run of consecutive "below" years per series.
    grp = [dct["code_territoire"], dct["domaine"]]
    run_id = (~dct["below"]).groupby(grp).cumsum()
    runs = dct[dct["below"]].groupby([dct["code_territoire"], dct["domaine"], run_id]).size()
    longest = runs.groupby(level=[0, 1]).max()
    last_below = dct.groupby(grp)["below"].last()
    res = pd.DataFrame({"last_below": last_below}).join(longest.rename("longest")).fillna({"longest": 0})
    res["type"] = np.select(
        [res["longest"] == 0, res["longest"] > 3, ~res["last_below"]],
        ["complementarite", "substitution_durable", "substitution_temporaire"],
        "indetermine",
    )
    res = res.reset_index()
    res = res[res["code_territoire"].isin(sig)]
    has_sp = res.set_index(["code_territoire", "domaine"]).index.isin(sp[sp > 0].index)
    res.loc[~has_sp, "type"] = "indetermine"
    out["substitution"] = [
        {"code_territoire": c, "domaine": d, "type": ty}
        for c, d, ty in zip(res["code_territoire"], res["domaine"], res["type"], strict=True)
    ]
    # Margins: non-below years well above 0.9, below years well under it.
    r = dct.loc[dct["code_territoire"].isin(sig), "ratio"]
    assert ((r > 0.94) | (r < 0.7)).all(), "substitution: marge insuffisante"

    # DiD intensity.
    ind = t["indicateurs"]
    qpop = ind[(ind["niveau"] == "quartier") & (ind["indicateur"] == "population")]
    qpop = qpop.set_index(["code_territoire", "annee"])["valeur"]
    assoc_ops = t["operateurs"].loc[t["operateurs"]["statut_juridique"] == "association", "id_operateur"]
    fq = fa.merge(act[["id_action", "annee", "code_quartier", "id_operateur"]], on=["id_action", "annee"])
    fq = fq[
        (fq["type_credit"] == "specifique") & fq["id_operateur"].isin(assoc_ops) & (fq["code_quartier"] != "")
    ]
    inten = fq.groupby(["code_quartier", "annee"])["montant_accorde"].sum()
    qua = t["quartiers"]
    grid = pd.MultiIndex.from_product([qua["code_quartier"], YEARS], names=["code_quartier", "annee"])
    inten = inten.reindex(grid, fill_value=0.0)
    per_hab = inten / qpop.reindex(grid).to_numpy()
    ph = per_hab.rename("i").reset_index()
    post_mean = ph[ph["annee"] >= ANNEE_TRAITEMENT].groupby("code_quartier")["i"].agg(["mean", "min"])
    pre_max = ph[ph["annee"] < ANNEE_TRAITEMENT].groupby("code_quartier")["i"].max()
    treated = post_mean.index[post_mean["mean"] >= 25]
    comparison = post_mean.index[post_mean["mean"] < 10]
    assert len(treated) + len(comparison) == len(qua), "did: quartier ni traité ni témoin"
    assert (post_mean.loc[treated, "min"] >= 40).all() and (pre_max.loc[treated] < 10).all()
    assert (ph.set_index("code_quartier").loc[comparison, "i"] < 8).all()
    assert len(treated) >= 10 and len(comparison) >= 8
    # Two-way fixed effects by double demeaning (the panel is balanced).
    est = {}
    for name in ("taux_chomage", "taux_pauvrete"):
        y = ind[(ind["niveau"] == "quartier") & (ind["indicateur"] == name)].pivot(
            index="code_territoire", columns="annee", values="valeur"
        )
        dmat = pd.DataFrame(0.0, index=y.index, columns=y.columns)
        dmat.loc[dmat.index.isin(treated), dmat.columns >= ANNEE_TRAITEMENT] = 1.0

        def dd(m):
            return (
                m
                - m.mean(axis=1).to_numpy()[:, None]
                - m.mean(axis=0).to_numpy()[None, :]
                + m.to_numpy().mean()
            )

        yd, xd = dd(y).to_numpy().ravel(), dd(dmat).to_numpy().ravel()
        est[name] = float((xd @ yd) / (xd @ xd))
    assert abs(est["taux_chomage"] - EFFET_CHOMAGE) < 0.1, est
    assert abs(est["taux_pauvrete"]) < 0.1, est
    out["did"] = [
        {"indicateur": "taux_chomage", "effet": EFFET_CHOMAGE},
        {"indicateur": "taux_pauvrete", "effet": 0.0},
    ]

    # QPV 2014 eligibility.
    q11 = ind[(ind["niveau"] == "quartier") & (ind["annee"] == ANNEE_REVENUS)]
    q11 = q11.pivot(index="code_territoire", columns="indicateur", values="valeur")
    qq = qua.merge(q11[["revenu_median_uc", "population"]], left_on="code_quartier", right_index=True).merge(
        com[["code_commune", "revenu_median_uu", "population_unite_urbaine"]], on="code_commune"
    )
    seuil = qpv2014_threshold(NATIONAL_MEDIAN, qq["revenu_median_uu"], qq["population_unite_urbaine"])
    assert ((qq["revenu_median_uc"] - seuil).abs() >= 300).all(), "qpv2014: revenu trop proche du seuil"
    elig = qpv2014_eligible(qq, NATIONAL_MEDIAN)
    out["eligibles_qpv2014"] = sorted(qq.loc[elig, "code_quartier"])

    # Households followed by two dispositifs or more.
    par = t["parcours"]
    out["menages_multi_dispositifs"] = int((par.groupby("id_menage")["dispositif"].nunique() >= 2).sum())

    # Under-performing operators.
    done = act[act["statut"] == "réalisée"]
    g = done.groupby("id_operateur").agg(
        n=("id_action", "size"), r=("beneficiaires_realises", "sum"), p=("beneficiaires_prevus", "sum")
    )
    g = g[g["n"] >= 3]
    g["ratio"] = g["r"] / g["p"]
    assert ((g["ratio"] < 0.55) | (g["ratio"] > 0.85)).all(), "opérateurs: marge insuffisante"
    out["operateurs_sous_performants"] = sorted(g.index[g["ratio"] < 0.7])

    # Priority actions never carried out.
    np_act = act[act["prioritaire"] & (act["statut"] == "non pourvue")]
    counts = np_act.groupby("code_commune")["id_action"].nunique()
    out["actions_non_pourvues"] = {c: int(counts.get(c, 0)) for c in sorted(sig)}

    # Steering model.
    ins = t["instances"]
    coll = (
        ins["type"]
        .isin(["réunion collective de travail", "groupe thématique"])
        .groupby(ins["code_commune"])
        .sum()
    )
    cons = (ins["type"] == "réunion de consignes").groupby(ins["code_commune"]).sum()
    share_p = coll / (coll + cons)
    first = act.groupby(["code_commune", "id_action"])["annee"].min().reset_index()
    share_new = (first["annee"] >= ANNEE_DEBUT_CUCS + 2).groupby(first["code_commune"]).mean()
    modele = {}
    for c in sorted(sig):
        sp_c = share_p.get(c, np.nan)
        sn = share_new.get(c, np.nan)
        assert np.isnan(sp_c) or abs(sp_c - 0.5) >= 0.15, f"pilotage {c}: {sp_c}"
        assert abs(sn - 0.25) >= 0.1, f"pilotage {c}: {sn}"
        modele[c] = {
            "axe_descendant_participatif": "indetermine"
            if np.isnan(sp_c)
            else ("participatif" if sp_c >= 0.5 else "descendant"),
            "axe_fige_adaptable": "adaptable" if sn >= 0.25 else "fige",
        }
    out["modele_pilotage"] = modele

    # Leverage per steering structure.
    fs = fin.merge(act[["id_action", "annee", "code_commune"]], on=["id_action", "annee"]).merge(
        com[["code_commune", "structure_pilotage"]], on="code_commune"
    )
    with_sp = fs.loc[fs["type_credit"] == "specifique", ["id_action", "annee"]].drop_duplicates()
    fs = fs.merge(with_sp, on=["id_action", "annee"])
    by = fs.groupby(["structure_pilotage", "type_credit"])["montant_accorde"].sum().unstack()
    out["effet_levier"] = {
        s: round(float(by.loc[s, "droit_commun"] / by.loc[s, "specifique"]), 2) for s in sorted(by.index)
    }

    # Actions at stake: years with >= 80 % specific credits, counted back from the last year.
    money = fin.pivot_table(
        index=["id_action", "annee"], columns="type_credit", values="montant_accorde", aggfunc="sum"
    ).fillna(0.0)
    share = money["specifique"] / (money["specifique"] + money["droit_commun"])
    assert ((share >= 0.83) | (share <= 0.6)).all(), "reprise: marge insuffisante"
    mostly = (share >= SEUIL_REPRISE).unstack("annee").reindex(columns=YEARS)
    mostly = mostly.fillna(False).astype(bool)  # a year without funding breaks the run
    back = mostly.loc[:, ::-1].astype(int).cumprod(axis=1).sum(axis=1)
    running = act.loc[(act["annee"] == YEARS[-1]) & act["statut"].isin(STATUTS_EN_COURS), "id_action"]
    stake = act[act["id_action"].isin(back.index[back >= DUREE_REPRISE]) & act["id_action"].isin(running)]
    ids = stake.groupby("code_commune")["id_action"].unique()
    out["actions_enjeu_reprise"] = {c: sorted(ids.get(c, [])) for c in sorted(sig)}

    # GUP trends (Poisson regression) — exhaustive check only at the regional scale.
    if scale == "region":
        import statsmodels.api as sm

        gup = t["gup"]
        cnt = (
            gup.assign(annee=pd.to_datetime(gup["date"]).dt.year)
            .groupby(["code_quartier", "categorie", "annee"])
            .size()
        )
        full = pd.MultiIndex.from_product(
            [sorted(gup["code_quartier"].unique()), schema.CATEGORIES_GUP, YEARS], names=cnt.index.names
        )
        cnt = cnt.reindex(full, fill_value=0)
        found = []
        x = sm.add_constant((YEARS - YEARS[0]).astype(float))
        for (q, c), s in cnt.groupby(level=[0, 1]):
            yv = s.to_numpy().astype(float)
            if yv.sum() == 0:
                continue
            fit = sm.GLM(yv, x, family=sm.families.Poisson()).fit()
            slope, p = fit.params[1], fit.pvalues[1]
            change = np.exp(slope * (len(YEARS) - 1)) - 1
            if p < 0.05 and abs(change) >= 0.2:
                found.append(
                    {"code_quartier": q, "categorie": c, "tendance": "hausse" if slope > 0 else "baisse"}
                )
        out["gup_tendance"] = found
    return out


# --- writing --------------------------------------------------------------------------------


def _square(x0: float, y0: float, size: float) -> list:
    return [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]


def _octagon(cx: float, cy: float, r: float) -> list:
    ang = np.arange(8) * np.pi / 4 + np.pi / 8
    pts = [[round(cx + r * np.cos(a)), round(cy + r * np.sin(a))] for a in ang]
    return [pts + [pts[0]]]


def _geojson(features: list[dict]) -> str:
    fc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}},
        "features": features,
    }
    return json.dumps(fc, sort_keys=True, ensure_ascii=False) + "\n"


def _geometries(com: pd.DataFrame, qua: pd.DataFrame) -> tuple[str, str]:
    size = 12_000
    ox = 700_000 + (com["tile"] % 10) * 60_000 + ((com["idx"] - 1) % 4) * size
    oy = 6_200_000 + (com["tile"] // 10) * 50_000 + ((com["idx"] - 1) // 4) * size
    origin = pd.DataFrame({"x": ox, "y": oy}).set_index(com["code_commune"])
    cfeat = [
        {
            "type": "Feature",
            "properties": {"code_commune": c, "nom": n},
            "geometry": {"type": "Polygon", "coordinates": _square(int(x), int(y), size)},
        }
        for c, n, x, y in zip(com["code_commune"], com["nom"], ox, oy, strict=True)
    ]
    qfeat = []
    for code, nom, cc, rang, pop in zip(
        qua["code_quartier"], qua["nom"], qua["code_commune"], qua["rang"], qua["pop2011"], strict=True
    ):
        x0, y0 = origin.loc[cc, "x"], origin.loc[cc, "y"]
        cx = x0 + 3000 + (rang % 2) * 6000
        cy = y0 + 3000 + (rang // 2) * 6000
        r = round(float(np.sqrt(pop)) * 12)
        qfeat.append(
            {
                "type": "Feature",
                "properties": {"code_quartier": code, "nom": nom},
                "geometry": {"type": "Polygon", "coordinates": _octagon(cx, cy, r)},
            }
        )
    return _geojson(cfeat), _geojson(qfeat)


def _metadata() -> str:
    meta = {
        "nom": "Région de démonstration (fictive)",
        "annee_debut": int(YEARS[0]),
        "annee_fin": int(YEARS[-1]),
        "synthetique": True,
        "revenu_median_national": int(NATIONAL_MEDIAN),
        "annee_revenus_qpv": ANNEE_REVENUS,
        "description": (
            "Données entièrement synthétiques et fictives, produites par le générateur "
            "« cucs demo » : communes, quartiers, actions, opérateurs et personnes n'existent "
            "pas. Elles servent à tester et à montrer les analyses ; aucune conclusion ne peut "
            "en être tirée sur un territoire réel."
        ),
    }
    return yaml.safe_dump(meta, allow_unicode=True, sort_keys=True, width=100)


def build(scale: str = "region", seed: int = 2007) -> tuple[dict[str, pd.DataFrame], dict, dict[str, str]]:
    """Generate the tables (as DataFrames), the truth dict and the extra files (name → text)."""
    rng = np.random.default_rng(seed)
    com, qua = _territory(rng, scale)
    qua["cidx"] = qua["code_commune"].map(com.set_index("code_commune")["idx"])
    qua["tile"] = qua["code_commune"].map(com.set_index("code_commune")["tile"])
    qua["sans_donnees"] = qua["code_commune"].map(com.set_index("code_commune")["sans_donnees"]).astype(bool)
    ops = _operators(rng, com)
    volumes = _VOLUMES[scale]
    act = _actions(rng, com, qua, ops, volumes)
    ay, under = _action_years(rng, act, ops)
    fin, at_stake = _funding(rng, ay, qua, ops, com, np.random.default_rng([seed, 1]), volumes)
    dc, subst_truth = _droit_commun(rng, com)
    ind = _indicators(rng, com, qua)
    n_tiles = _scale_tiles(scale)[0]
    par = _parcours(rng, qua, ay, volumes.menages_par_tuile * n_tiles)
    gup, gup_truth = _gup(rng, qua, scale)
    ins = _instances(rng, com)
    enq = _enquetes(rng, qua)
    bil = _bilans(rng, ay, under)
    equ = _equipements(rng, com, qua)
    cat = pd.DataFrame(list(schema.CATALOGUE_INDICATEURS))
    tables = {
        "communes": com,
        "quartiers": qua.assign(categorie_cucs=qua["categorie_cucs"].replace("", None)),
        "indicateurs": ind,
        "catalogue_indicateurs": cat,
        "actions": ay.assign(id_operateur=ay["id_operateur"].where(ay["id_operateur"].notna(), None)),
        "financements": fin,
        "droit_commun": dc,
        "operateurs": ops,
        "instances": ins,
        "parcours": par,
        "bilans": bil,
        "enquetes": enq,
        "gup": gup,
        "equipements": equ,
    }
    # Keep only schema columns, with missing codes as empty strings.
    for name, df in tables.items():
        cols = [c for c in schema.TABLES[name].column_names if c in df.columns]
        tables[name] = df[cols].reset_index(drop=True)
    tables["actions"]["code_quartier"] = tables["actions"]["code_quartier"].fillna("")
    tables["actions"]["id_operateur"] = tables["actions"]["id_operateur"].fillna("")
    tables["parcours"]["id_action"] = tables["parcours"]["id_action"].fillna("")

    truth = _truth_from_tables(tables, scale)
    # The recomputed truths must match what was planted.
    planted_subst = sorted(subst_truth, key=lambda d: (d["code_territoire"], d["domaine"]))
    assert truth["substitution"] == planted_subst, "substitution: écart entre planté et recalculé"
    assert truth["operateurs_sous_performants"] == sorted(under), "opérateurs sous-performants"
    sig = com[com["signataire_cucs"]].set_index("code_commune")
    assert truth["actions_non_pourvues"] == {c: int(v) for c, v in sig["non_pourvues"].items()}
    for c, m in truth["modele_pilotage"].items():
        part, adapt = sig.loc[c, "participatif"], sig.loc[c, "adaptable"]
        exp_p = (
            "indetermine"
            if part is None or sig.loc[c, "sans_donnees"]
            else ("participatif" if part else "descendant")
        )
        assert m == {
            "axe_descendant_participatif": exp_p,
            "axe_fige_adaptable": "adaptable" if adapt else "fige",
        }, c
    for s, target in STRUCTURE_LEVIER.items():
        assert abs(truth["effet_levier"][s] - target) < 0.15, truth["effet_levier"]
    planted_stake = (
        act.loc[act["id_action"].isin(at_stake)].groupby("code_commune")["id_action"].apply(sorted)
    )
    assert truth["actions_enjeu_reprise"] == {
        c: list(planted_stake.get(c, [])) for c in truth["actions_enjeu_reprise"]
    }, "actions à enjeu de reprise: écart entre planté et recalculé"
    assert sum(1 for v in truth["actions_enjeu_reprise"].values() if v) >= 4
    if "gup_tendance" in truth:
        key = lambda d: (d["code_quartier"], d["categorie"])  # noqa: E731
        assert sorted(truth["gup_tendance"], key=key) == sorted(gup_truth, key=key), truth["gup_tendance"]
    truth["gup_tendance"] = gup_truth
    cgeo, qgeo = _geometries(com, qua)
    extra = {"communes.geojson": cgeo, "quartiers.geojson": qgeo, schema.METADATA_FILE: _metadata()}
    return tables, truth, extra


#: The tables the demo writes: every table but the multi-commune link (no demo quartier lies
#: over two communes).
DEMO_TABLES = tuple(n for n in schema.TABLES if n != "quartiers_communes")


def generate(out_dir: Path, scale: str = "region", seed: int = 2007) -> dict:
    """Write the demo data set into `out_dir` and return the planted truths.

    The national scale (~150 MB, for performance trials) is never written into a `data/demo`
    folder: that one holds the committed region (and is the default of `cucs demo --out`)."""
    out_dir = Path(out_dir)
    _scale_tiles(scale)
    if scale != "region" and out_dir.resolve().parts[-2:] == ("data", "demo"):
        raise DataError(
            f"L'échelle « {scale} » (environ 150 Mo, pour les essais de performance) ne s'écrit pas dans "
            f"{out_dir} : ce dossier garde la région de démonstration versionnée. Donnez un autre dossier, "
            "par exemple : cucs demo --scale national --out data/national (ignoré par git)."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    tables, truth, extra = build(scale, seed)
    for name in DEMO_TABLES:
        text = _serialise(tables[name], schema.TABLES[name])
        (out_dir / f"{name}.csv").write_bytes(text.encode("utf-8"))
    for name, text in extra.items():
        (out_dir / name).write_bytes(text.encode("utf-8"))
    truth_text = json.dumps(truth, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    (out_dir / "truth.json").write_bytes(truth_text.encode("utf-8"))
    return truth


# --- data README ----------------------------------------------------------------------------

_KIND_FR = {
    "code": "code (texte)",
    "text": "texte",
    "int": "entier",
    "float": "nombre",
    "bool": "oui/non",
    "date": "date AAAA-MM-JJ",
    "year": "année",
    "category": "modalité",
    "list": "liste (séparateur ;)",
}


def data_readme() -> str:
    """The French data README (data/README.md), with column tables built from `schema.TABLES`."""
    lines = [
        "# Données de démonstration",
        "",
        "**Les données de `data/demo/` sont entièrement synthétiques et fictives.** Elles sont produites",
        "par le générateur du projet (`cucs demo`, module `cucs_analysis/demo.py`, graine fixe : mêmes",
        "octets à chaque exécution). Communes, quartiers, EPCI, opérateurs, actions, personnes et ménages",
        "n'existent pas : les noms sont inventés et les codes utilisent le département `20`, inutilisé",
        "depuis 1976, pour ne jamais se confondre avec une commune réelle. Aucune conclusion ne peut en",
        "être tirée sur un territoire réel ; elles servent à montrer et à tester les analyses.",
        "",
        "La région fictive compte 12 communes (`20001` à `20012`), dont 8 signataires d'un CUCS, 3 EPCI,",
        "30 quartiers (catégories CUCS 1, 2 et 3, et 7 quartiers de veille servant de comparaison) et",
        "couvre les années 2005 à 2014. La commune `20008` n'a volontairement ni parcours, ni enquêtes,",
        "ni signalements GUP, ni réunions d'instances : ses carnets doivent indiquer « données non",
        "disponibles ».",
        "",
        "Pour régénérer : `cucs demo --out data/demo` (ou, en Python,",
        '`cucs_analysis.data.demo.generate(Path("data/demo"))`). L\'option `--scale national` produit une',
        "version d'environ 900 communes, 1 500 quartiers, 100 000 actions-années, 300 000 lignes de",
        "financement et 200 000 parcours sur 10 ans (environ 150 Mo), pour les essais de performance : elle",
        "n'est jamais versionnée et ne s'écrit pas dans `data/demo` (par exemple",
        "`cucs demo --scale national --out data/national`, dossier ignoré par git).",
        "",
        "## Conventions des fichiers CSV",
        "",
        "- encodage UTF-8 sans BOM, séparateur `,`, séparateur décimal `.`, fins de ligne `\\n`, une ligne",
        "  d'en-tête ;",
        "- booléens écrits `oui` / `non` ; dates au format ISO `AAAA-MM-JJ` ; cellule vide = valeur",
        "  manquante ;",
        "- les codes (commune, EPCI, quartier, opérateur…) sont des chaînes : `20001` doit être lu comme",
        "  du texte, jamais comme un nombre ;",
        "- les lignes sont triées selon la clé de chaque table ;",
        "- taux : `valeur = 100 × numerateur / denominateur` arrondi au dixième (`1000 ×` pour les",
        "  indicateurs en ‰), `numerateur ≤ denominateur` ; une cellule couverte par le secret",
        "  statistique a `secret = oui` et `valeur`, `numerateur`, `denominateur` vides ;",
        "- une valeur non finie (`inf`, `NaN` écrit en toutes lettres) ou au-delà de sa borne de",
        "  vraisemblance (colonne « valeurs permises ») est refusée par `cucs validate`, qui nomme le",
        "  fichier, la ligne, la colonne et la règle ;",
        "- une valeur qui n'est pas connue s'écrit `inconnu` (ou cellule vide) dans les colonnes qui",
        "  l'admettent (colonne « vide permis » : « « inconnu » ou vide ») : elle est lue comme manquante",
        "  et `cucs validate` donne un avertissement (qui ne bloque pas) par colonne, avec leur nombre ;",
        "  les analyses qui en ont besoin affichent « n.d. » avec la raison. Exception : dans",
        "  `categorie_cucs`, vide signifie hors CUCS et `inconnu` une catégorie inconnue ;",
        "- `revenu_median_uu` (et `revenu_median_national` des métadonnées) inférieur à 1 000 € par",
        "  unité de consommation est refusé (règle « revenu médian implausible ») : 0 n'est pas un revenu.",
        "",
        "## Fichiers",
        "",
        "| fichier | contenu |",
        "|---|---|",
    ]
    for name, table in schema.TABLES.items():
        opt = " Table facultative." if table.optional else ""
        lines.append(f"| `{name}.csv` | {table.description}{opt} |")
    lines += [
        "| `quartiers.geojson` | Contours des quartiers (Lambert-93, EPSG:2154, coordonnées au mètre) ; "
        "propriétés `code_quartier`, `nom`. |",
        "| `communes.geojson` | Contours des communes (Lambert-93, EPSG:2154) ; propriétés `code_commune`, `nom`. |",
        f"| `{schema.METADATA_FILE}` | Description du jeu : `nom`, `annee_debut`, `annee_fin`, `synthetique`, "
        "`revenu_median_national` (19 000 €), `annee_revenus_qpv` (2011), `description`. |",
        "| `truth.json` | Les « vérités plantées » par le générateur (voir plus bas). |",
        "",
        "## Colonnes",
        "",
    ]
    for name, table in schema.TABLES.items():
        key = ", ".join(f"`{k}`" for k in table.key)
        lines += [f"### `{name}.csv`", "", f"{table.description} Clé : {key}.", ""]
        lines += [
            "| colonne | type | obligatoire | vide permis | description | valeurs permises |",
            "|---|---|---|---|---|---|",
        ]
        for c in table.columns:
            allowed = ", ".join(f"`{a}`" for a in c.allowed) if c.allowed else ""
            if c.pattern:
                allowed = "motif `{}`".format(c.pattern.replace("|", "\\|"))  # keep the Markdown table intact
            elif c.minimum is not None or c.maximum is not None:
                lo = "" if c.minimum is None else f"≥ {c.minimum:g}"
                if c.plausible_min is not None:  # below: refused as implausible (a median income of 0)
                    lo = f"≥ {text.nombre(c.plausible_min)}"
                hi = "" if c.maximum is None else f"≤ {c.maximum:g}"
                allowed = " et ".join(x for x in (lo, hi) if x)
            if c.plausible_max is not None and c.maximum is None:
                # refused too, as implausible (a misplaced separator, 1e308 €): say where the line is
                borne = f"≤ {text.nombre(c.plausible_max)} (vraisemblance)"
                allowed = f"{allowed} et {borne}" if allowed else borne
            lines.append(
                f"| `{c.name}` | {_KIND_FR.get(c.kind, c.kind)} | {'oui' if c.required else 'non'} | "
                f"{'oui' if c.nullable else ('« inconnu » ou vide' if c.inconnu else 'non')} | "
                f"{c.description} | {allowed} |"
            )
        lines.append("")
    lines += [
        "Indicateurs du catalogue (`catalogue_indicateurs.csv`) : "
        + ", ".join(f"`{c['indicateur']}`" for c in schema.CATALOGUE_INDICATEURS)
        + ". Ils sont fournis pour chaque niveau (quartier, commune, EPCI, département, région) et chaque "
        "année, sauf `potentiel_fiscal_hab`, communal seulement. Le département `20` ne compte que les "
        "12 communes du jeu ; la région `20` compte en plus d'autres départements, absents du jeu, un "
        "peu moins pauvres : ses lignes diffèrent donc de celles du département. Les moyens de droit commun "
        "(`droit_commun.csv`) sont en crédits (`mesure = credits`, unité €) et, pour certains, en postes "
        "(`mesure = postes`, unité ETP). Les crédits sont écrits en euros courants ; le générateur plante "
        "leur évolution en euros constants (indice des prix à la consommation de l'Insee, comme "
        "`euros_constants` dans `params/defaults.yaml`) : un droit commun « stable » suit donc l'inflation "
        "en euros courants, et les types de substitution plantés valent dans les deux lectures.",
        "",
        "Deux actions d'un même quartier (ou de la même commune, hors quartier) ne portent jamais le même "
        "intitulé : un qualificatif les distingue (« Accompagnement à la scolarité (école Jean-Moulin) »). "
        "Les bénéficiaires prévus suivent des ordres de grandeur plausibles selon le type d'action : 10 à 30 "
        "enfants par groupe d'accompagnement à la scolarité, quelques dizaines d'enfants par an pour la "
        "réussite éducative, 8 à 15 stagiaires par chantier d'insertion, quelques centaines de contacts "
        "pour la médiation (adultes-relais) ou les ateliers santé ville. Les données ne contiennent aucun "
        "texte piégé (balise HTML, formule de tableur) : les tests les injectent dans une copie.",
        "",
        "## `truth.json` : les vérités plantées",
        "",
        "Le générateur fabrique les données de façon à ce que certaines réponses soient connues d'avance,",
        "selon les règles de `docs/rules.md`, avec des marges nettes. Il recalcule chacune depuis les",
        "tables produites et refuse d'écrire si le résultat diffère. Les tests vérifient que les analyses",
        "les retrouvent ; **les analyses ne lisent jamais ce fichier.** Clés :",
        "",
        "- `substitution` : pour chaque commune signataire × domaine, le type de relation entre droit",
        "  commun et crédits spécifiques (`complementarite`, `substitution_temporaire`,",
        "  `substitution_durable`) ;",
        "- `did` : l'effet planté des crédits spécifiques aux associations dans les quartiers financés",
        "  (catégories 1 et 2 des communes signataires, à partir de 2009) : −2,0 points sur",
        "  `taux_chomage`, aucun effet sur `taux_pauvrete` ;",
        "- `eligibles_qpv2014` : les quartiers éligibles selon la règle de revenu QPV 2014 (revenus 2011),",
        "  dont un quartier pauvre de moins de 1 000 habitants et un quartier pauvre d'une unité urbaine",
        "  de moins de 10 000 habitants, tous deux non éligibles ;",
        "- `menages_multi_dispositifs` : le nombre de ménages suivis par au moins deux dispositifs ;",
        "- `operateurs_sous_performants` : les opérateurs dont le taux de réalisation est d'environ 0,45",
        "  (les autres dépassent 0,85) ;",
        "- `actions_non_pourvues` : par commune signataire, le nombre d'actions prioritaires jamais",
        "  réalisées faute d'opérateur ;",
        "- `modele_pilotage` : par commune signataire, `descendant` ou `participatif` et `fige` ou",
        "  `adaptable` (`indetermine` quand les réunions manquent, comme pour `20008`) ;",
        "- `effet_levier` : par structure de pilotage, les cofinancements de droit commun par euro de",
        "  crédits spécifiques (GIP ≈ 1,8 ; service intercommunal ≈ 1,4 ; service municipal ≈ 1,0) ;",
        "- `gup_tendance` : un couple quartier × catégorie de signalements en forte hausse et un en forte",
        "  baisse (les autres séries sont stables).",
        "- `actions_enjeu_reprise` : par commune signataire, les actions dont la reprise par le droit",
        "  commun est en jeu : en cours en 2014 (réalisées ou programmées) et financées à 80 % ou plus par",
        "  les crédits spécifiques au moins 3 années de suite jusqu'en 2014 (1 à 4 actions dans 5 communes,",
        "  aucune ailleurs). Par ailleurs, environ une action-année sur cinq n'a que l'État pour financeur",
        "  (crédits spécifiques seuls) : la part des actions cofinancées varie selon la commune et l'année.",
        "",
    ]
    return "\n".join(lines)
