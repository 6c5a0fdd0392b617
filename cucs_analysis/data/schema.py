"""The project's data model: every table, its columns, keys, rules and references.

This module is the single description of the tables of DESIGN.md §3. The loaders coerce
columns with it, the validator checks rules with it, the demo generator writes files that
follow it, and the data README documents it. Column names and vocabulary values are French
(open-data usage); identifiers in code are English.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --- vocabularies -------------------------------------------------------------------------

NIVEAUX = ("quartier", "commune", "epci", "departement", "region")
DOMAINES = ("education", "emploi", "sante", "prevention", "lien_social", "cadre_de_vie")
DOMAINE_LIBELLES = {
    "education": "Éducation",
    "emploi": "Emploi et insertion",
    "sante": "Santé",
    "prevention": "Prévention de la délinquance",
    "lien_social": "Lien social et citoyenneté",
    "cadre_de_vie": "Habitat et cadre de vie",
}
DISPOSITIFS = (
    "CLAS",
    "OVV",
    "VVV",
    "PRE",
    "ASV",
    "CLSPD",
    "adultes-relais",
    "FONJEP",
    "chantier d'insertion",
    "atelier parents",
    "GUP",
    "autre",
)
INSTITUTIONS = ("État", "région", "département", "commune", "EPCI", "CAF", "bailleur", "autre")
TYPES_CREDIT = ("specifique", "droit_commun")
STATUTS_ACTION = ("programmée", "réalisée", "abandonnée", "non pourvue")
STRUCTURES_PILOTAGE = ("GIP", "service municipal", "service intercommunal", "association", "aucune")
#: "inconnu" is a category of its own: the category is not known (blank means hors CUCS).
CATEGORIE_INCONNUE = "inconnu"
CATEGORIES_CUCS = ("1", "2", "3", CATEGORIE_INCONNUE)
STATUTS_JURIDIQUES = (
    "association",
    "SCOP",
    "établissement public",
    "collectivité",
    "entreprise",
)
ECHELLES = ("quartier", "commune", "agglomération", "département")
TYPES_IDENTIFIANT = ("siret", "nom")
#: What the funding table covers (metadonnees.yaml `financements_perimetre`): every funder, or
#: only the State's share (Ci.Ville / programme 147 records).
PERIMETRES_FINANCEMENTS = ("complet", "etat_seul")
#: The word that marks an unknown value in a column that accepts it (any case, trimmed).
INCONNU = "inconnu"
TYPES_INSTANCE = (
    "comité de pilotage",
    "comité technique",
    "réunion collective de travail",
    "réunion de consignes",
    "rencontre individuelle de soutien",
    "groupe thématique",
)
CATEGORIES_BILAN = ("réussite", "difficulté", "blocage", "écart expliqué")
TYPES_REPONDANT = ("habitant", "opérateur", "partenaire")
CATEGORIES_GUP = (
    "propreté",
    "éclairage",
    "voirie",
    "occupation de l'espace public",
    "tranquillité",
    "espaces verts",
)
STATUTS_GUP = ("résolu", "en cours", "classé sans suite")
TRANCHES_AGE = ("0-15", "16-25", "26-44", "45-64", "65+")
GAMMES = ("proximité", "intermédiaire", "supérieure")
SENS = ("hausse_amelioration", "hausse_degradation", "neutre")
MOTIFS_SORTIE = ("fin de parcours", "emploi", "formation", "abandon", "déménagement", "autre")

# Codes: strings of a fixed shape; never numbers.
PATTERN_COMMUNE = r"^(\d{5}|2[AB]\d{3})$"
PATTERN_EPCI = r"^\d{9}$"
PATTERN_DEPARTEMENT = r"^(\d{2}|2[AB]|97\d)$"
PATTERN_REGION = r"^\d{2}$"
PATTERN_QUARTIER = r"^Q[PNV][0-9A-Z]{5,7}$"
PATTERN_TERRITOIRE = r"^[0-9A-Z]{2,9}$"


# Plausible bounds: a value beyond them is a typing or export error (1e308, a misplaced
# decimal separator), refused by the validator before it can break or falsify a page.
MAX_MONTANT = 1e10  # € (amounts, budgets, mainstream means)
MAX_POPULATION = 100_000_000  # inhabitants of a commune, an urban unit, a rate's base
MAX_PERSONNES = 10_000_000  # beneficiaries, participants
MAX_REVENU = 1_000_000  # € per consumption unit (a median income)
#: Below this a median income per consumption unit is implausible (0 is an export default, not
#: an income): refused, so that no threshold is ever computed from it.
REVENU_MEDIAN_MIN = 1_000
MAX_ETP = 1_000_000  # full-time equivalents
MAX_DELAI_JOURS = 36_500  # a hundred years
MAX_EQUIPEMENTS = 1_000_000
#: Bounds of `indicateurs.valeur` by the unit of its indicator in the catalogue (rates within
#: [0, 100], per-thousand rates within [0, 1000]); another unit: `BORNES_VALEUR_AUTRE`.
BORNES_UNITE: dict[str, tuple[float, float]] = {
    "%": (0, 100),
    "‰": (0, 1000),
    "€": (0, MAX_MONTANT),
    "hab.": (0, MAX_POPULATION),
    "nombre": (0, MAX_POPULATION),
}
BORNES_VALEUR_AUTRE = (-1e12, 1e12)
#: Plausible years of a data set's period and reference values (metadonnees.yaml):
#: key → (minimum, maximum, type).
ANNEE_MIN, ANNEE_MAX = 1900, 2100


# --- column and table descriptions ----------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column: its kind drives coercion, the other fields drive validation.

    kind: "code" (string of a fixed shape), "text", "int", "float", "bool", "date", "year",
    "category" (one of `allowed`), "list" (values separated by ";", each in `allowed`).
    """

    name: str
    kind: str
    description: str
    required: bool = True  # the column must be present in the file
    nullable: bool = False  # cells may be empty
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    # Above this a value is implausible (1e308 €, a misplaced separator): refused, but not a
    # rule of the domain (data/README.md lists `minimum`/`maximum`; see `MAX_MONTANT`…).
    plausible_max: float | None = None
    # Below this a value is implausible (a median income of 0 €): refused under the rule
    # « revenu médian implausible », so that no threshold is computed from it.
    plausible_min: float | None = None
    in_period: bool = False  # a year or date that must fall within the data set's period
    # The value may be unknown: a cell « inconnu » (any case) or blank reads as missing (NA) and
    # validation warns (once per column, with the count) instead of failing.
    inconnu: bool = False


@dataclass(frozen=True)
class Reference:
    """A foreign key: `columns` of this table must exist in `target`'s `target_columns`."""

    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]
    # Only rows where this column equals this value are checked (e.g. niveau == "quartier").
    when: tuple[str, str] | None = None


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = ()
    optional: bool = False  # a data set may lack this table (sections then say so)
    geometry: bool = False  # a GeoJSON/GeoPackage layer with the same name may come along

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _code_commune(desc: str = "Code INSEE de la commune (5 caractères)", **kw) -> Column:
    return Column("code_commune", "code", desc, pattern=PATTERN_COMMUNE, **kw)


def _code_quartier(desc: str = "Code du quartier", **kw) -> Column:
    return Column("code_quartier", "code", desc, pattern=PATTERN_QUARTIER, **kw)


def _annee(desc: str = "Année") -> Column:
    return Column("annee", "year", desc, minimum=1990, maximum=2035, in_period=True)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "communes",
            "Une ligne par commune de la région (signataires ou non d'un CUCS).",
            (
                _code_commune(),
                Column("nom", "text", "Nom de la commune"),
                Column("code_epci", "code", "Numéro SIREN de l'EPCI", pattern=PATTERN_EPCI, inconnu=True),
                Column("code_departement", "code", "Code du département", pattern=PATTERN_DEPARTEMENT),
                Column("code_region", "code", "Code de la région", pattern=PATTERN_REGION, inconnu=True),
                Column(
                    "population",
                    "int",
                    "Population municipale",
                    minimum=0,
                    plausible_max=MAX_POPULATION,
                    inconnu=True,
                ),
                Column(
                    "structure_pilotage",
                    "category",
                    "Structure qui pilote le contrat",
                    allowed=STRUCTURES_PILOTAGE,
                    inconnu=True,
                ),
                Column("signataire_cucs", "bool", "La commune a signé un CUCS (oui/non)", inconnu=True),
                Column(
                    "population_unite_urbaine",
                    "int",
                    "Population de l'unité urbaine de la commune",
                    minimum=0,
                    plausible_max=MAX_POPULATION,
                    inconnu=True,
                ),
                Column(
                    "revenu_median_uu",
                    "float",
                    "Revenu fiscal médian par unité de consommation de l'unité urbaine (€)",
                    minimum=0,
                    plausible_min=REVENU_MEDIAN_MIN,
                    plausible_max=MAX_REVENU,
                    inconnu=True,
                ),
            ),
            key=("code_commune",),
        ),
        Table(
            "quartiers",
            "Une ligne par quartier prioritaire ou de comparaison (veille).",
            (
                _code_quartier(),
                Column("nom", "text", "Nom du quartier"),
                _code_commune("Commune du quartier"),
                Column(
                    "categorie_cucs",
                    "category",
                    "Catégorie CUCS (1, 2, 3 ; inconnu si elle n'est pas connue ; vide hors CUCS)",
                    allowed=CATEGORIES_CUCS,
                    nullable=True,
                ),
                Column("zus", "bool", "Le quartier est (ou contient) une ZUS", inconnu=True),
                Column("qpv_2015", "bool", "Le quartier est devenu QPV en 2015", inconnu=True),
                Column("qpv_2024", "bool", "Le quartier est QPV dans la géographie 2024", inconnu=True),
                Column("veille", "bool", "Quartier de veille (comparaison)", inconnu=True),
            ),
            key=("code_quartier",),
            references=(Reference(("code_commune",), "communes", ("code_commune",)),),
            geometry=True,
        ),
        Table(
            "quartiers_communes",
            "Une ligne par quartier × commune couverte (quartiers sur plusieurs communes).",
            (
                _code_quartier(),
                _code_commune("Commune couverte (en tout ou partie) par le quartier"),
                Column(
                    "principale",
                    "bool",
                    "Commune principale du quartier (celle de quartiers.csv)",
                    required=False,
                    nullable=True,
                ),
            ),
            key=("code_quartier", "code_commune"),
            references=(
                Reference(("code_quartier",), "quartiers", ("code_quartier",)),
                Reference(("code_commune",), "communes", ("code_commune",)),
            ),
            optional=True,
        ),
        Table(
            "indicateurs",
            "Une ligne par territoire × indicateur × année (format long).",
            (
                Column("niveau", "category", "Niveau géographique", allowed=NIVEAUX),
                Column(
                    "code_territoire",
                    "code",
                    "Code du territoire (quartier, commune, EPCI, département, région)",
                    pattern=PATTERN_TERRITOIRE,
                ),
                Column("indicateur", "text", "Code de l'indicateur (voir le catalogue)"),
                _annee(),
                Column("valeur", "float", "Valeur (vide si secret)", nullable=True),
                Column(
                    "numerateur",
                    "float",
                    "Numérateur d'un taux",
                    nullable=True,
                    minimum=0,
                    plausible_max=MAX_POPULATION,
                ),
                Column(
                    "denominateur",
                    "float",
                    "Dénominateur d'un taux",
                    nullable=True,
                    minimum=0,
                    plausible_max=MAX_POPULATION,
                ),
                Column("source", "text", "Source de la donnée"),
                Column("secret", "bool", "Valeur couverte par le secret statistique"),
            ),
            key=("niveau", "code_territoire", "indicateur", "annee"),
            references=(
                Reference(("indicateur",), "catalogue_indicateurs", ("indicateur",)),
                Reference(("code_territoire",), "quartiers", ("code_quartier",), ("niveau", "quartier")),
                Reference(("code_territoire",), "communes", ("code_commune",), ("niveau", "commune")),
                Reference(("code_territoire",), "communes", ("code_epci",), ("niveau", "epci")),
            ),
        ),
        Table(
            "catalogue_indicateurs",
            "Une ligne par indicateur : définition, unité, sens.",
            (
                Column("indicateur", "text", "Code de l'indicateur"),
                Column("libelle", "text", "Libellé en français"),
                Column("unite", "text", "Unité (%, €, hab., nombre, ‰)"),
                Column("sens", "category", "Ce que signifie une hausse", allowed=SENS),
                Column("theme", "text", "Thème (emploi, revenus, éducation…)"),
                Column("source", "text", "Source"),
                Column("definition", "text", "Définition"),
            ),
            key=("indicateur",),
        ),
        Table(
            "actions",
            "La programmation : une ligne par action × année.",
            (
                Column("id_action", "text", "Identifiant de l'action"),
                _annee(),
                Column("intitule", "text", "Intitulé de l'action"),
                Column("thematique", "category", "Domaine d'intervention", allowed=DOMAINES, inconnu=True),
                Column("dispositif", "category", "Dispositif", allowed=DISPOSITIFS),
                Column("id_operateur", "text", "Opérateur (vide si non pourvue)", nullable=True),
                _code_commune(
                    "Commune de l'action (inconnue admise pour une action d'un contrat intercommunal : "
                    "code_epci renseigné)",
                    inconnu=True,
                ),
                Column(
                    "code_epci",
                    "code",
                    "EPCI du contrat, pour une action de niveau intercommunal",
                    pattern=PATTERN_EPCI,
                    required=False,
                    nullable=True,
                ),
                _code_quartier("Quartier ciblé (vide : toute la commune)", nullable=True),
                Column("public_cible", "text", "Public visé, tel que déclaré", inconnu=True),
                Column("objectif", "text", "Objectif déclaré", required=False, nullable=True),
                Column(
                    "beneficiaires_prevus",
                    "int",
                    "Bénéficiaires prévus",
                    minimum=0,
                    plausible_max=MAX_PERSONNES,
                    inconnu=True,
                ),
                Column(
                    "beneficiaires_realises",
                    "int",
                    "Bénéficiaires touchés (vide si non réalisée)",
                    nullable=True,
                    minimum=0,
                    plausible_max=MAX_PERSONNES,
                ),
                Column("statut", "category", "Statut de l'action", allowed=STATUTS_ACTION, inconnu=True),
                Column("prioritaire", "bool", "Action jugée prioritaire sur le territoire", inconnu=True),
                Column("proximite", "bool", "Action qui produit du lien de proximité", inconnu=True),
            ),
            key=("id_action", "annee"),
            references=(
                Reference(("id_operateur",), "operateurs", ("id_operateur",)),
                Reference(("code_commune",), "communes", ("code_commune",)),
                # code_epci is checked apart: unknown to communes.csv is a warning (the EPCI of
                # communes may itself be unknown), see validate.check_actions_epci.
                Reference(("code_quartier",), "quartiers", ("code_quartier",)),
            ),
            optional=True,
        ),
        Table(
            "financements",
            "Une ligne par action × année × financeur.",
            (
                Column("id_action", "text", "Action financée"),
                _annee(),
                Column("financeur", "text", "Financeur (nom)"),
                Column("institution", "category", "Institution du financeur", allowed=INSTITUTIONS),
                Column("type_credit", "category", "Type de crédit", allowed=TYPES_CREDIT),
                Column(
                    "montant_demande",
                    "float",
                    "Montant demandé (€)",
                    minimum=0,
                    plausible_max=MAX_MONTANT,
                    inconnu=True,
                ),
                Column(
                    "montant_accorde", "float", "Montant accordé (€)", minimum=0, plausible_max=MAX_MONTANT
                ),
                Column("date_depot", "date", "Dépôt de la demande", nullable=True, in_period=True),
                Column("date_decision", "date", "Décision", nullable=True, in_period=True),
                Column("date_paiement", "date", "Paiement", nullable=True, in_period=True),
            ),
            key=("id_action", "annee", "financeur"),
            references=(Reference(("id_action", "annee"), "actions", ("id_action", "annee")),),
            optional=True,
        ),
        Table(
            "droit_commun",
            "Moyens de droit commun par institution × domaine × territoire × année.",
            (
                Column("institution", "category", "Institution", allowed=INSTITUTIONS),
                Column("domaine", "category", "Domaine", allowed=DOMAINES),
                Column("niveau", "category", "Niveau géographique", allowed=NIVEAUX),
                Column("code_territoire", "code", "Code du territoire", pattern=PATTERN_TERRITOIRE),
                _annee(),
                Column("mesure", "text", "Ce qui est compté (crédits, postes, places)"),
                Column("valeur", "float", "Valeur", minimum=0, plausible_max=MAX_MONTANT),
                Column("unite", "text", "Unité (€, ETP, places)"),
            ),
            key=("institution", "domaine", "niveau", "code_territoire", "annee", "mesure"),
            references=(
                Reference(("code_territoire",), "communes", ("code_commune",), ("niveau", "commune")),
                Reference(("code_territoire",), "quartiers", ("code_quartier",), ("niveau", "quartier")),
            ),
            optional=True,
        ),
        Table(
            "operateurs",
            "Une ligne par opérateur (association, structure…).",
            (
                Column("id_operateur", "text", "Identifiant de l'opérateur"),
                Column(
                    "type_identifiant",
                    "category",
                    "Nature de l'identifiant : siret, ou nom quand la source n'a pas de SIRET",
                    allowed=TYPES_IDENTIFIANT,
                    required=False,
                    nullable=True,
                ),
                Column("nom", "text", "Nom"),
                Column(
                    "statut_juridique",
                    "category",
                    "Statut juridique",
                    allowed=STATUTS_JURIDIQUES,
                    inconnu=True,
                ),
                Column(
                    "budget_annuel",
                    "float",
                    "Budget annuel (€)",
                    minimum=0,
                    plausible_max=MAX_MONTANT,
                    nullable=True,
                ),
                Column(
                    "salaries_etp", "float", "Salariés (ETP)", minimum=0, plausible_max=MAX_ETP, nullable=True
                ),
                Column("echelle", "category", "Échelle d'intervention", allowed=ECHELLES, inconnu=True),
                Column("domaines", "list", "Domaines (séparés par ;)", allowed=DOMAINES, inconnu=True),
                Column(
                    "annee_creation", "int", "Année de création", minimum=1800, maximum=2035, inconnu=True
                ),
                _code_commune("Commune du siège", inconnu=True),
            ),
            key=("id_operateur",),
            references=(Reference(("code_commune",), "communes", ("code_commune",)),),
            optional=True,
        ),
        Table(
            "instances",
            "Une ligne par réunion d'instance de pilotage ou de travail.",
            (
                Column("id_instance", "text", "Identifiant"),
                Column("date", "date", "Date de la réunion", in_period=True),
                _code_commune(),
                Column("type", "category", "Type de réunion", allowed=TYPES_INSTANCE),
                Column(
                    "institutions", "list", "Institutions présentes (séparées par ;)", allowed=INSTITUTIONS
                ),
                Column(
                    "participants", "int", "Nombre de participants", minimum=0, plausible_max=MAX_PERSONNES
                ),
                Column("habitants", "int", "Dont habitants", minimum=0, plausible_max=MAX_PERSONNES),
            ),
            key=("id_instance",),
            references=(Reference(("code_commune",), "communes", ("code_commune",)),),
            optional=True,
        ),
        Table(
            "parcours",
            "Une ligne par personne × épisode d'accompagnement (pseudonymisé).",
            (
                Column("id_personne", "text", "Identifiant pseudonyme de la personne"),
                Column("id_menage", "text", "Identifiant pseudonyme du ménage"),
                Column("dispositif", "category", "Dispositif", allowed=DISPOSITIFS),
                Column("id_action", "text", "Action", nullable=True),
                _code_quartier("Quartier de résidence"),
                Column("date_entree", "date", "Entrée", in_period=True),
                Column("date_sortie", "date", "Sortie (vide si en cours)", nullable=True, in_period=True),
                Column("tranche_age", "category", "Tranche d'âge", allowed=TRANCHES_AGE),
                Column("niveau_entree", "int", "Niveau d'autonomie à l'entrée (1 à 4)", minimum=1, maximum=4),
                Column(
                    "niveau_sortie",
                    "int",
                    "Niveau d'autonomie à la sortie (1 à 4)",
                    nullable=True,
                    minimum=1,
                    maximum=4,
                ),
                Column("motif_sortie", "category", "Motif de sortie", allowed=MOTIFS_SORTIE, nullable=True),
            ),
            key=("id_personne", "dispositif", "date_entree"),
            references=(
                Reference(("code_quartier",), "quartiers", ("code_quartier",)),
                Reference(("id_action",), "actions", ("id_action",)),
            ),
            optional=True,
        ),
        Table(
            "bilans",
            "Une ligne par énoncé codé d'un bilan d'activité.",
            (
                Column("id_bilan", "text", "Identifiant"),
                Column("id_action", "text", "Action"),
                _annee(),
                Column("categorie", "category", "Catégorie", allowed=CATEGORIES_BILAN),
                Column("theme", "text", "Thème"),
                Column("texte", "text", "Énoncé"),
            ),
            key=("id_bilan",),
            references=(Reference(("id_action", "annee"), "actions", ("id_action", "annee")),),
            optional=True,
        ),
        Table(
            "enquetes",
            "Une ligne par réponse à une question d'enquête (échelle de 1 à 5).",
            (
                Column("id_reponse", "text", "Identifiant"),
                Column("type_repondant", "category", "Répondant", allowed=TYPES_REPONDANT),
                _code_quartier(),
                Column("question", "text", "Question"),
                Column(
                    "reponse",
                    "int",
                    "Réponse (1 = pas du tout d'accord … 5 = tout à fait)",
                    minimum=1,
                    maximum=5,
                ),
                _annee(),
            ),
            key=("id_reponse",),
            references=(Reference(("code_quartier",), "quartiers", ("code_quartier",)),),
            optional=True,
        ),
        Table(
            "gup",
            "Une ligne par signalement de dysfonctionnement (gestion urbaine de proximité).",
            (
                Column("id_signalement", "text", "Identifiant"),
                Column("date", "date", "Date du signalement", in_period=True),
                _code_quartier(),
                Column("categorie", "category", "Catégorie", allowed=CATEGORIES_GUP),
                Column(
                    "delai_resolution_jours",
                    "int",
                    "Délai de résolution (jours)",
                    nullable=True,
                    minimum=0,
                    plausible_max=MAX_DELAI_JOURS,
                ),
                Column("statut", "category", "Statut", allowed=STATUTS_GUP),
            ),
            key=("id_signalement",),
            references=(Reference(("code_quartier",), "quartiers", ("code_quartier",)),),
            optional=True,
        ),
        Table(
            "equipements",
            "Nombre d'équipements par territoire, type (codes BPE) et année.",
            (
                Column("niveau", "category", "Niveau géographique", allowed=NIVEAUX),
                Column("code_territoire", "code", "Code du territoire", pattern=PATTERN_TERRITOIRE),
                Column("type_equipement", "text", "Type d'équipement (code BPE)"),
                Column("libelle", "text", "Libellé du type d'équipement"),
                Column("gamme", "category", "Gamme BPE", allowed=GAMMES),
                Column("nombre", "int", "Nombre d'équipements", minimum=0, plausible_max=MAX_EQUIPEMENTS),
                _annee(),
            ),
            key=("niveau", "code_territoire", "type_equipement", "annee"),
            references=(
                Reference(("code_territoire",), "communes", ("code_commune",), ("niveau", "commune")),
                Reference(("code_territoire",), "quartiers", ("code_quartier",), ("niveau", "quartier")),
            ),
            optional=True,
        ),
    )
}

#: Tables every data set must have; the others may be absent (sections then say so).
REQUIRED_TABLES = tuple(name for name, t in TABLES.items() if not t.optional)

#: Cell values that mean "secret / not available" in French statistical files.
SECRECY_CODES = ("s", "ns", "nd", "so")

#: Description of the data set (period, reference values), next to the tables.
METADATA_FILE = "metadonnees.yaml"


@dataclass(frozen=True)
class DatasetMetadata:
    """What a data directory says about itself (metadonnees.yaml); all optional."""

    nom: str = "Jeu de données"
    annee_debut: int = 2000
    annee_fin: int = 2030
    synthetique: bool = False
    revenu_median_national: float | None = None
    annee_revenus_qpv: int | None = None
    #: "complet" (every funder) or "etat_seul" (only the State's share: Ci.Ville / P147), in
    #: which case co-funding, substitution and droit-commun shares are not computed.
    financements_perimetre: str = "complet"
    #: Where the tables come from, written by the importers: [{fichier, source, annees}, …].
    sources: list = field(default_factory=list)
    #: What the importer did (counts, de-duplications, repairs, warnings): free mapping.
    # `import` is a Python keyword: the YAML key `import` is read into this field.
    import_: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def etat_seul(self) -> bool:
        """The funding table holds only the State's share (programme 147)."""
        return self.financements_perimetre == "etat_seul"


#: Typed values of metadonnees.yaml: key → (minimum, maximum, type); anything else (text,
#: infinity, a year of -2005 or 1e308) is a problem, and the default value is kept.
METADATA_BOUNDS: dict[str, tuple[float, float, type]] = {
    "annee_debut": (ANNEE_MIN, ANNEE_MAX, int),
    "annee_fin": (ANNEE_MIN, ANNEE_MAX, int),
    "annee_revenus_qpv": (ANNEE_MIN, ANNEE_MAX, int),
    "revenu_median_national": (REVENU_MEDIAN_MIN, MAX_REVENU, float),
}


# --- the indicator catalogue ----------------------------------------------------------------
# The project's reference list of indicators (written to catalogue_indicateurs.csv by the
# demo; a real data set ships its own). Rates carry numerator and denominator.

CATALOGUE_INDICATEURS: tuple[dict[str, str], ...] = (
    {
        "indicateur": "population",
        "libelle": "Population municipale",
        "unite": "hab.",
        "sens": "neutre",
        "theme": "démographie",
        "source": "INSEE, recensement",
        "definition": "Nombre d'habitants (population municipale).",
    },
    {
        "indicateur": "taux_chomage",
        "libelle": "Taux de chômage des 15-64 ans",
        "unite": "%",
        "sens": "hausse_degradation",
        "theme": "emploi",
        "source": "INSEE, recensement",
        "definition": "Chômeurs de 15 à 64 ans rapportés aux actifs de 15 à 64 ans.",
    },
    {
        "indicateur": "taux_chomage_jeunes",
        "libelle": "Taux de chômage des moins de 25 ans",
        "unite": "%",
        "sens": "hausse_degradation",
        "theme": "emploi",
        "source": "INSEE, recensement",
        "definition": "Chômeurs de 15 à 24 ans rapportés aux actifs de 15 à 24 ans.",
    },
    {
        "indicateur": "taux_pauvrete",
        "libelle": "Taux de pauvreté à 60 %",
        "unite": "%",
        "sens": "hausse_degradation",
        "theme": "revenus",
        "source": "INSEE, Filosofi / RFL",
        "definition": "Part des personnes dont le niveau de vie est inférieur à 60 % du niveau de vie médian national.",
    },
    {
        "indicateur": "revenu_median_uc",
        "libelle": "Revenu fiscal médian par unité de consommation",
        "unite": "€",
        "sens": "hausse_amelioration",
        "theme": "revenus",
        "source": "INSEE-DGFiP, revenus fiscaux localisés",
        "definition": "Médiane du revenu déclaré par unité de consommation (échelle OCDE modifiée).",
    },
    {
        "indicateur": "part_moins_25_ans",
        "libelle": "Part des moins de 25 ans",
        "unite": "%",
        "sens": "neutre",
        "theme": "démographie",
        "source": "INSEE, recensement",
        "definition": "Habitants de moins de 25 ans rapportés à la population.",
    },
    {
        "indicateur": "part_sans_diplome",
        "libelle": "Part des 15 ans et plus non scolarisés sans diplôme",
        "unite": "%",
        "sens": "hausse_degradation",
        "theme": "éducation",
        "source": "INSEE, recensement",
        "definition": "Personnes de 15 ans et plus sorties du système scolaire sans diplôme, rapportées aux 15 ans et plus non scolarisés.",
    },
    {
        "indicateur": "part_familles_monoparentales",
        "libelle": "Part des familles monoparentales",
        "unite": "%",
        "sens": "neutre",
        "theme": "démographie",
        "source": "INSEE, recensement",
        "definition": "Familles monoparentales rapportées aux familles avec enfants.",
    },
    {
        "indicateur": "taux_reussite_brevet",
        "libelle": "Taux de réussite au diplôme national du brevet",
        "unite": "%",
        "sens": "hausse_amelioration",
        "theme": "éducation",
        "source": "Éducation nationale",
        "definition": "Admis au brevet rapportés aux présents, élèves résidant dans le territoire.",
    },
    {
        "indicateur": "demandeurs_emploi",
        "libelle": "Demandeurs d'emploi en fin de mois (cat. A, B, C)",
        "unite": "nombre",
        "sens": "hausse_degradation",
        "theme": "emploi",
        "source": "Pôle emploi - Dares",
        "definition": "Demandeurs d'emploi inscrits en catégories A, B et C au 31 décembre.",
    },
    {
        "indicateur": "delits_pour_1000",
        "libelle": "Atteintes aux biens et aux personnes pour 1 000 habitants",
        "unite": "‰",
        "sens": "hausse_degradation",
        "theme": "sécurité",
        "source": "Ministère de l'Intérieur, état 4001",
        "definition": "Faits constatés (atteintes aux biens et aux personnes) pour 1 000 habitants.",
    },
    {
        "indicateur": "potentiel_fiscal_hab",
        "libelle": "Potentiel fiscal par habitant",
        "unite": "€",
        "sens": "hausse_amelioration",
        "theme": "ressources",
        "source": "DGCL",
        "definition": "Potentiel fiscal de la commune divisé par sa population (niveau communal).",
    },
)
