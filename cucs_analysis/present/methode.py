"""The method's sentences stated once: the pages and the Méthode page print the same words.

A rule written twice drifts; every page that states the substitution rule (q1, q4, the
syntheses) and the site's Méthode page call the functions here with the parameters used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cucs_analysis.analysis.privacy import DEFAULT_THRESHOLD as SEUIL_NATIONAL
from cucs_analysis.present import text

__all__ = [
    "regles_lecture",
    "EFFET_LEVIER",
    "GLOSSAIRE",
    "REFERENCES",
    "catalogue",
    "glossaire",
    "contexte_secret",
    "phrase_secret",
    "seuils_secret",
    "texte_seuil",
    "regle_substitution",
]


def regles_lecture(
    *, debut: int, fin: int, annee_debut_cucs: int, base_min: int = 30
) -> list[tuple[str, str]]:
    """The rules every page follows, as (term, definition), with the periods of the parameters."""
    avant = text.periode_avant(debut, annee_debut_cucs)
    pendant = text.annee_periode(annee_debut_cucs, fin)
    return [
        (
            "Taux",
            "Un taux est toujours montré avec son numérateur et son dénominateur, tous deux sur la même base. "
            "Le taux de réalisation rapporte les bénéficiaires touchés aux bénéficiaires prévus des mêmes "
            "actions réalisées ; les actions non pourvues, abandonnées ou encore en cours sont comptées et "
            "nommées à part.",
        ),
        (
            "Avant et pendant le CUCS",
            f"Une évolution compare la période d'avant le contrat ({avant}) à la période du contrat "
            f"({pendant}) : taux de chaque période (somme des numérateurs sur somme des dénominateurs) ou "
            f"moyenne annuelle, jamais une première et une dernière année. Un taux dont le dénominateur est "
            f"inférieur à {text.nombre(base_min)} dans l'une des périodes est signalé « petite base ». Une série "
            f"qui commence avec le contrat ne permet pas de tester l'« avant » : la page le dit. L'écart affiché "
            f"est calculé sur les valeurs affichées.",
        ),
        (
            "Convergence",
            f"Évolution de l'écart d'un quartier à sa commune entre la période d'avant le contrat ({avant}) et "
            f"celle du contrat ({pendant}) : l'écart se réduit (convergence) ou se creuse (divergence).",
        ),
        (
            "Hors CUCS, données non disponibles, zéro",
            "Trois situations distinctes : une commune « hors CUCS » n'a pas signé de contrat (ses données servent "
            "de comparaison) ; « données non disponibles » (n.d.) signale une donnée absente des fichiers pour une "
            "commune signataire ; seul un zéro mesuré s'écrit 0. Une règle qui ne peut pas être appliquée dit "
            "« n.d. » et pourquoi, jamais « non ».",
        ),
    ]


def regle_substitution(
    *, annees_reference: Sequence[int], annee_debut_cucs: int, tolerance: float, duree_max: int
) -> str:
    """The substitution rule with the parameter values actually used."""
    return (
        f"Règle appliquée à chaque domaine : la base est la moyenne des crédits de droit commun de "
        f"{text.liste_fr(text.annee(a) for a in annees_reference)} ; à partir de {text.annee(annee_debut_cucs)}, "
        f"une année est « en dessous » quand le droit commun est inférieur de plus de "
        f"{text.pourcentage(100 * tolerance, 0)} à cette base. "
        f"Complémentarité : aucune année en dessous ; substitution temporaire (effet levier) : des années en "
        f"dessous, au plus {text.pluriel(duree_max, 'an')} de suite, puis le droit commun revient ; "
        f"substitution durable : plus de {text.pluriel(duree_max, 'an')} de suite en dessous ; indéterminé : "
        f"pas de base, pas de crédits spécifiques, moins de "
        f"{text.pluriel(duree_max + 1, 'année observée', 'années observées')} ou série qui finit en dessous."
    )


# --- the glossary, the studies quoted, the indicator catalogue -----------------------------------

#: The one meaning of « effet levier » on every page (the workshop's: a temporary substitution).
EFFET_LEVIER = (
    "Au sens de l'atelier : des crédits spécifiques qui financent une action un temps, le droit commun "
    "la reprenant ensuite à sa charge ; c'est la « substitution temporaire » de la règle de substitution. "
    "Dans l'usage courant, l'expression désigne aussi la capacité des crédits spécifiques à attirer du "
    "droit commun : ce site la mesure par le « cofinancement par euro de crédits spécifiques », qui décrit "
    "un accompagnement, pas un effet, et ne l'appelle jamais « effet levier »."
)

#: Every acronym and term of art the pages use, with one definition each (sorted at display).
GLOSSAIRE: tuple[tuple[str, str], ...] = (
    (
        "Action-année, opérateur-année",
        "Une action (ou un opérateur) comptée une fois pour chaque année où elle figure dans la "
        "programmation : une action conduite quatre ans compte pour quatre actions-années. Les taux des "
        "pages (réalisation, actions nouvelles, cofinancement) sont calculés sur cette base commune.",
    ),
    (
        "Atelier parents",
        "Action collective de soutien à la parentalité (ateliers, groupes de parole) ; un des dispositifs "
        "dont le carnet Insertion suit les parcours.",
    ),
    (
        "Chantier d'insertion",
        "Atelier et chantier d'insertion : activité qui emploie, sous contrat aidé, des personnes "
        "éloignées de l'emploi, avec un accompagnement social et professionnel.",
    ),
    (
        "Échelle d'intervention d'un opérateur",
        "Le territoire sur lequel un opérateur agit habituellement, tel qu'il est déclaré : quartier, "
        "commune, agglomération ou département.",
    ),
    (
        "Gamme d'équipements",
        "Regroupement de la base permanente des équipements (Insee) : gamme de proximité (école, "
        "pharmacie, boulangerie…), intermédiaire (collège, supermarché, police…) et supérieure (lycée, "
        "hôpital, cinéma…), selon la fréquence de leur présence dans les communes.",
    ),
    (
        "ACSé",
        "Agence nationale pour la cohésion sociale et l'égalité des chances (2006-2014), qui gérait "
        "les crédits spécifiques de la politique de la ville ; ses missions sont passées au CGET puis à l'ANCT.",
    ),
    (
        "Adultes-relais",
        "Postes de médiateurs sociaux et culturels (adultes d'au moins 26 ans, souvent "
        "habitants des quartiers) subventionnés par l'État dans le cadre de la politique de la ville.",
    ),
    (
        "ANCT",
        "Agence nationale de la cohésion des territoires (depuis 2020), qui a repris les missions du CGET.",
    ),
    ("ASV", "Atelier santé ville : démarche locale de santé publique dans les quartiers prioritaires."),
    (
        "BPE",
        "Base permanente des équipements de l'Insee : commerces, services, équipements de santé, d'enseignement, de sport et de loisirs, localisés.",
    ),
    (
        "CCAS",
        "Centre communal d'action sociale : établissement public de la commune qui porte l'aide sociale légale et facultative (droit commun communal).",
    ),
    (
        "CAF",
        "Caisse d'allocations familiales : finance l'action sociale et les équipements familiaux "
        "(droit commun) et produit des données sur les allocataires.",
    ),
    (
        "Catégories 1, 2 et 3",
        "Classement des quartiers d'un CUCS : catégorie 1, les plus en difficulté, où "
        "se concentrent les crédits spécifiques (liste nationale) ; catégorie 2, difficultés réelles (liste "
        "adaptée par la région) ; catégorie 3, intervention plus légère, laissée au préfet.",
    ),
    ("CGET", "Commissariat général à l'égalité des territoires (2014-2019), successeur de l'ACSé."),
    (
        "CLAS",
        "Contrat local d'accompagnement à la scolarité : aide aux devoirs et accompagnement des "
        "parents, hors temps scolaire.",
    ),
    ("CLSPD", "Conseil local de sécurité et de prévention de la délinquance, présidé par le maire."),
    (
        "CMU",
        "Couverture maladie universelle (2000-2015) : assurance maladie de base et complémentaire "
        "gratuite pour les ménages à bas revenus ; la part de ses bénéficiaires sert d'indicateur de précarité.",
    ),
    (
        "Cofinancement par euro de crédits spécifiques",
        "Montant de droit commun accordé à une action pour "
        "un euro de crédits spécifiques de la même action et de la même année.",
    ),
    (
        "Crédits spécifiques",
        "Crédits propres à la politique de la ville (programme budgétaire 147), qui "
        "s'ajoutent au droit commun.",
    ),
    (
        "CSV",
        "Format de tableau en texte (valeurs séparées par des points-virgules ici) : les tableaux téléchargeables s'ouvrent dans un tableur.",
    ),
    (
        "CUCS",
        "Contrat urbain de cohésion sociale (2007-2014) : contrat entre l'État (le préfet) et une "
        "commune ou un EPCI, avec un programme d'actions pluriannuel ; remplacé en 2015 par le contrat de ville.",
    ),
    (
        "DGCL",
        "Direction générale des collectivités locales (ministère de l'Intérieur) : elle publie notamment le potentiel fiscal des communes.",
    ),
    (
        "DiD (différence de différences)",
        "Comparaison de l'évolution d'un indicateur dans les quartiers "
        "financés et dans des quartiers de comparaison, avant et après le début du financement : l'écart "
        "entre les deux évolutions estime l'effet, si les deux groupes évoluaient de la même façon avant.",
    ),
    (
        "Droit commun",
        "Politiques publiques et crédits ordinaires (éducation, emploi, santé, logement, "
        "sécurité, action sociale) qui s'appliquent partout ; la politique de la ville vise à ce qu'ils "
        "bénéficient aux quartiers au moins autant qu'ailleurs.",
    ),
    ("Effet levier", EFFET_LEVIER),
    (
        "EPCI",
        "Établissement public de coopération intercommunale (communauté de communes, "
        "d'agglomération, urbaine, métropole).",
    ),
    ("ETP", "Équivalent temps plein : un poste à mi-temps compte pour 0,5 ETP."),
    (
        "FONJEP",
        "Fonds de coopération de la jeunesse et de l'éducation populaire : postes d'animateurs "
        "d'associations de jeunesse cofinancés par l'État.",
    ),
    (
        "GIP",
        "Groupement d'intérêt public : structure de droit public créée par certaines communes pour "
        "piloter leur CUCS (cofinancements, équipe, relations avec l'État).",
    ),
    (
        "GUP",
        "Gestion urbaine de proximité : conventions entre la commune, les bailleurs sociaux et "
        "l'État pour l'entretien, l'éclairage, la propreté et la tranquillité des quartiers (diagnostics "
        "en marchant, signalements de dysfonctionnements).",
    ),
    (
        "Hors CUCS",
        "Commune qui n'a pas signé de CUCS : elle n'a pas de programme d'actions, ses quartiers "
        "servent de comparaison ; ce n'est ni une donnée absente ni un zéro.",
    ),
    (
        "IC (intervalle de confiance)",
        "Fourchette de valeurs compatibles avec les données au niveau de "
        "confiance indiqué (95 % par défaut) ; pour un taux, méthode de Wilson.",
    ),
    ("Insee (INSEE)", "Institut national de la statistique et des études économiques."),
    (
        "OCDE",
        "Organisation de coopération et de développement économiques : son échelle d'équivalence définit les unités de consommation.",
    ),
    (
        "OVV",
        "Opération ville-vie-vacances : activités éducatives et de loisirs pendant les vacances "
        "scolaires pour les jeunes des quartiers.",
    ),
    (
        "PRE",
        "Programme de réussite éducative : accompagnement individualisé des enfants de 2 à 16 ans "
        "et de leur famille.",
    ),
    (
        "QPV",
        "Quartier prioritaire de la politique de la ville, défini par le seul critère du revenu "
        "(géographie de 2015 puis de 2024).",
    ),
    (
        "Quartier de veille",
        "Ancien quartier de la géographie prioritaire (ZUS ou CUCS) sorti de la liste "
        "en 2015 : il n'a plus de crédits spécifiques mais reste observé ; c'est un groupe de comparaison "
        "naturel, pas une donnée absente.",
    ),
    (
        "RFL",
        "Revenus fiscaux localisés (Insee, d'après les déclarations de revenus) : source des revenus par unité de consommation des quartiers, avant Filosofi.",
    ),
    (
        "SCOP",
        "Société coopérative et participative : entreprise dont les salariés sont associés majoritaires ; certaines portent des actions d'insertion.",
    ),
    (
        "Secret statistique",
        "Règle de diffusion : aucune valeur portant sur moins de personnes, ménages, parcours, "
        "bénéficiaires, participants, répondants, signalements ou énoncés de bilans que le seuil "
        "n'est publiée, ni un total qui permettrait de la retrouver par différence.",
    ),
    (
        "Unité de consommation (UC)",
        "Mesure de la taille d'un ménage (échelle de l'OCDE modifiée : 1 pour "
        "le premier adulte, 0,5 pour chaque autre personne de 14 ans ou plus, 0,3 par enfant de moins de "
        "14 ans) ; le revenu par UC compare des ménages de tailles différentes.",
    ),
    (
        "UU",
        "Unité urbaine : zone de bâti continu définie par l'Insee, utilisée par la règle de "
        "définition des QPV.",
    ),
    ("VVV", "Ville-vie-vacances : autre nom du dispositif OVV."),
    (
        "ZFU",
        "Zone franche urbaine : zones bénéficiant d'exonérations fiscales et sociales (vagues de "
        "1997, 2004 et 2006).",
    ),
    (
        "ZRU",
        "Zone de redynamisation urbaine : ZUS confrontées à des difficultés particulières, choisies "
        "à l'aide d'un indice synthétique.",
    ),
    (
        "ZUS",
        "Zone urbaine sensible (1996) : grands ensembles ou quartiers d'habitat dégradé marqués par "
        "un déséquilibre entre habitat et emploi ; 751 zones.",
    ),
    (
        "Action de proximité (q8)",
        "Action que la programmation marque comme produisant du lien de proximité (colonne « proximité ») : "
        "médiation, animation de quartier, gestion urbaine de proximité, prévention. Sa part des crédits se calcule "
        "avant et pendant le CUCS, chacune sur sa période entière.",
    ),
    (
        "Signalements GUP pour 1 000 habitants (q8)",
        "Nombre moyen de signalements de gestion urbaine de proximité par an pour 1 000 habitants du quartier : "
        "1 000 × signalements de la période ÷ somme des populations des mêmes années.",
    ),
    (
        "Tendance des signalements GUP (q8)",
        "Régression de Poisson des comptes annuels de signalements d'un quartier et d'une catégorie sur l'année "
        "(une année sans signalement compte 0). « Hausse » ou « baisse » quand la pente est significative "
        "(p < 0,05) et que la variation ajustée sur la période atteint le seuil gup.seuil_variation (20 % par "
        "défaut) ; sinon « pas de tendance nette ». La variation par an est donnée avec son intervalle de "
        "confiance à 95 %.",
    ),
    (
        "Délai médian de résolution (q8)",
        "Médiane des délais de résolution des seuls signalements GUP résolus ; les signalements en cours et "
        "classés sans suite sont comptés à part. Non publié sur moins de signalements résolus que le seuil du "
        "secret statistique.",
    ),
    (
        "Équipements pour 1 000 habitants (q8)",
        "Nombre d'équipements d'un territoire (base permanente des équipements, par gamme et par type) rapporté à "
        "sa population de la même année ; les quartiers pris ensemble additionnent équipements et habitants.",
    ),
    (
        "Quartier d'expérimentation (q8)",
        "Quartier nommé dans les paramètres de la commune (clé quartiers_experimentaux de params/<code>.yaml) "
        "dont le carnet sur la proximité dresse une fiche : indicateurs face à la commune, signalements GUP, "
        "équipements et actions de proximité.",
    ),
    (
        "Structure de pilotage (q7)",
        "Organisation qui porte le CUCS d'une commune : GIP, service municipal ou service intercommunal "
        "(telle que la déclare la table des communes) ; « aucune » pour une commune non signataire.",
    ),
    (
        "Cofinancement par euro de crédits spécifiques d'une structure (q7)",
        "Pour les communes pilotées par une même structure réunies : somme du droit commun accordé aux "
        "actions-années qui reçoivent des crédits spécifiques, divisée par la somme de ces crédits, en euros de "
        "droit commun par euro de crédits spécifiques (« 1,78 € »), dans les phrases comme dans les tableaux.",
    ),
    (
        "Délais de décision et de paiement (q7)",
        "Pour chaque demande de financement, nombre de jours entre le dépôt et la décision, puis entre le dépôt "
        "et le paiement ; la médiane des demandes d'une période. Une date manquante ou antérieure au dépôt écarte "
        "la demande. Une demande pas encore payée à la fin des données n'a pas de délai de paiement : celui de la "
        "dernière année est sous-estimé, la page dit combien de demandes manquent et donne le délai sans cette "
        "année.",
    ),
    (
        "Action nouvelle, opérateur nouveau (q7)",
        "Action (opérateur) qui apparaît pour la première fois dans la programmation de la commune cette "
        "année-là, hors actions non pourvues ; la première année connue n'est pas comptée. La part d'actions "
        "nouvelles (taux de nouveauté) rapporte les actions nouvelles à toutes les actions de chaque année, sur "
        "la période du CUCS ; à ne pas confondre avec le taux de renouvellement d'un financement (q6).",
    ),
    (
        "Fourchette d'une structure de pilotage (q7)",
        "Plus petite et plus grande valeur des communes pilotées par une même structure : avec deux ou trois "
        "communes par structure, elle dit si l'écart entre structures dépasse la dispersion entre communes ; une "
        "tendance, jamais un classement.",
    ),
    (
        "Offre d'insertion (q5)",
        "Actions de la programmation du domaine « Emploi et insertion » et chantiers d'insertion, repérés par "
        "leurs codes (jamais par leurs intitulés). Leurs places sont les bénéficiaires prévus des années réalisées "
        "ou en cours ; leurs crédits, les montants accordés par tous les financeurs. Une action sans quartier "
        "désigné compte pour toute la commune et n'est jamais répartie entre les quartiers.",
    ),
    (
        "Places d'insertion pour 100 demandeurs d'emploi (q5)",
        "Somme des places des actions d'insertion d'un territoire sur une période, divisée par la somme de ses "
        "demandeurs d'emploi (catégories A, B, C) des mêmes années, multipliée par 100 ; une année sans action "
        "compte pour zéro place. Calculé avant puis pendant le CUCS, jamais entre une première et une dernière "
        "année.",
    ),
    (
        "Ménage suivi par plusieurs dispositifs (q5)",
        "Ménage (identifiant pseudonyme) dont les membres sont accompagnés par au moins deux dispositifs "
        "différents (PRE, CLAS, chantier d'insertion, atelier parents…) dans les parcours ; l'ordre des dispositifs "
        "est celui de leur première entrée. Les combinaisons de moins de ménages que le seuil du secret "
        "statistique sont regroupées sur une ligne « Autres combinaisons ».",
    ),
    (
        "Points de rencontre (q5)",
        "Expression de l'atelier : les dispositifs où se croisent les membres d'une même famille — enfants de 0 "
        "à 15 ans au PRE, jeunes de 16 à 25 ans en chantier d'insertion, parents de 26 à 64 ans en atelier parents "
        "— et les ménages où un autre membre est suivi par un autre dispositif.",
    ),
    (
        "Progression du niveau d'autonomie (q5)",
        "Sur les parcours terminés dont les niveaux (1 à 4) sont connus à l'entrée et à la sortie : niveau de "
        "sortie supérieur (progression), égal (stabilité) ou inférieur (recul) au niveau d'entrée. Les niveaux "
        "sont déclarés par les opérateurs, sans grille commune vérifiée.",
    ),
    (
        "Opérateur en dessous du seuil de réalisation (q6)",
        "Opérateur dont les bénéficiaires réalisés sont inférieurs à une part (70 % par défaut, paramètre "
        "operateurs.seuil_realisation) des bénéficiaires prévus, sur ses actions-années réalisées dans la commune ; "
        "il n'est jugé qu'à partir de 3 actions-années réalisées (operateurs.min_annees_realisees). Un indice à "
        "mettre en débat : l'évaluation de la procédure ne se réduit pas à la performance des opérateurs.",
    ),
    (
        "Écart expliqué (bilans)",
        "Catégorie des énoncés codés des bilans d'activité où l'opérateur explique l'écart entre ses objectifs et "
        "ses réalisations ; chaque énoncé porte un thème codé (mobilisation du public, encadrement, financement…).",
    ),
    (
        "Action prioritaire non pourvue",
        "Action jugée prioritaire dans la programmation qui n'a trouvé aucun opérateur pour la réaliser au moins une "
        "année (statut « non pourvue ») ; comptée une fois par action.",
    ),
    (
        "Petite association (q6)",
        "Association dont le budget annuel est inférieur au premier seuil du paramètre operateurs.bornes_budget "
        "(50 000 € par défaut) ; une grande association a un budget d'au moins le second (200 000 €).",
    ),
    (
        "Taux de renouvellement d'un financement (q6)",
        "Parmi les associations financées sur crédits spécifiques une année, part de celles qui le sont encore "
        "l'année suivante, cumulée sur la période avant le CUCS et sur la période du CUCS.",
    ),
    (
        "Pilotage descendant ou participatif",
        "Premier axe du modèle de pilotage : participatif quand les réunions de travail collectif (réunions "
        "collectives de travail, groupes thématiques) font au moins la moitié (pilotage.seuil_participatif) des "
        "réunions collectives et des réunions de consignes ; descendant sinon. Les rencontres individuelles de "
        "soutien et les comités sont comptés à part.",
    ),
    (
        "Pilotage figé ou adaptable",
        "Second axe du modèle de pilotage : adaptable quand au moins 25 % (pilotage.seuil_adaptable) des actions de "
        "la commune ont été programmées pour la première fois deux ans ou plus après le début du CUCS "
        "(pilotage.decalage_annees), soit en 2009 ou après pour un contrat commencé en 2007 ; figé sinon. Les actions "
        "apparues dans les deux premières années du contrat (2007-2008) ne comptent pas comme adaptation : la page "
        "« Outils de pilotage » compte, elle, les actions nouvelles de chaque année (hors actions jamais pourvues).",
    ),
)

#: The studies and texts the pages quote.
REFERENCES: tuple[str, ...] = (
    "Loi n° 96-987 du 14 novembre 1996 relative à la mise en œuvre du pacte de relance pour la ville "
    "(ZUS, ZRU, ZFU).",
    "Loi n° 2003-710 du 1er août 2003 d'orientation et de programmation pour la ville et la rénovation "
    "urbaine (réduction des écarts entre les quartiers et leur agglomération).",
    "Loi n° 2014-173 du 21 février 2014 de programmation pour la ville et la cohésion urbaine ; décret "
    "n° 2014-767 du 3 juillet 2014 (liste et règle de définition des quartiers prioritaires).",
    "Wilson E. B. (1927), « Probable inference, the law of succession, and statistical inference », "
    "Journal of the American Statistical Association, 22 (158), p. 209-212 (intervalles de confiance des taux).",
    "Gobillon L., Magnac T., Selod H. (2012), « Do unemployed workers benefit from enterprise zones? "
    "The French experience », Journal of Public Economics, 96 (9-10).",
    "Givord P., Rathelot R., Sillard P. (2013), « Place-based tax exemptions and displacement effects: "
    "an evaluation of the Zones Franches Urbaines program », Regional Science and Urban Economics, 43 (1).",
    "Briant A., Lafourcade M., Schmutz B. (2015), « Can tax breaks beat geography? Lessons from the "
    "French enterprise zone experience », American Economic Journal: Economic Policy, 7 (2).",
    "Kirszbaum T., Epstein R. (2010), la politique de la ville « surévaluée mais inévaluable » : "
    "beaucoup d'évaluations de processus, peu d'évaluations d'impact.",
    "Cour des comptes (2012), La politique de la ville, une décennie de réformes, rapport public "
    "thématique (faible mobilisation du droit commun dans les quartiers).",
    "Observatoire national des zones urbaines sensibles (Onzus), rapports annuels 2004-2014 : l'écart "
    "de chômage des ZUS ne s'est pas réduit entre 2003 et 2013.",
    "Insee, indicateurs infra-communaux du recensement : les taux issus du recensement annuel (cinq "
    "enquêtes successives) ne se comparent pas d'une année à la suivante à l'échelle du quartier.",
)


def glossaire() -> list[dict]:
    """The glossary in alphabetical order (accents ignored), each term with an anchor id."""
    import unicodedata

    def cle(terme: str) -> str:
        return unicodedata.normalize("NFKD", terme).encode("ascii", "ignore").decode().lower()

    return [
        {"terme": t, "definition": d, "id": "g-" + "-".join(cle(t).replace("(", "").replace(")", "").split())}
        for t, d in sorted(GLOSSAIRE, key=lambda x: cle(x[0]))
    ]


def seuils_secret(results: Mapping[tuple[str, str], Mapping]) -> dict[str, int]:
    """The secrecy threshold each commune's runs used (code → ``seuil_secret``), read from the
    parameters its results files record (the region's files are not a commune's)."""
    out: dict[str, int] = {}
    for (code, _q), data in sorted(results.items()):
        p = data.get("parametres") if isinstance(data, Mapping) else None
        if isinstance(p, Mapping) and isinstance(p.get("seuil_secret"), int) and code != "region":
            out.setdefault(str(code), int(p["seuil_secret"]))
    return out


def texte_seuil(seuil: int | Mapping[str, int], noms: Mapping[str, str] | None = None) -> str:
    """The threshold as the Méthode page states it: « 11 », or, when communes differ, the most
    common value then the others with their communes: « 11 ; 15 pour Esterbourg »."""
    if not isinstance(seuil, Mapping):
        return text.nombre(seuil)
    if not seuil:
        return ""
    valeurs = sorted(set(seuil.values()), key=lambda v: (-list(seuil.values()).count(v), v))
    commun, autres = valeurs[0], valeurs[1:]
    noms = noms or {}
    parts = [text.nombre(commun)]
    for v in autres:
        communes = sorted((noms.get(c, c) for c, s in seuil.items() if s == v), key=str.casefold)
        parts.append(f"{text.nombre(v)} pour {text.liste_fr(communes)}")
    return " ; ".join(parts)


#: What the secrecy threshold counts (every count of people or of what they report).
COMPTES_SECRETS = (
    "personnes, ménages, parcours, bénéficiaires, participants, répondants, signalements ou énoncés de bilans"
)


def phrase_secret(seuil: int | Mapping[str, int], noms: Mapping[str, str] | None = None) -> str:
    """The secrecy rule with the threshold actually used: one value, or one per commune (a
    mapping code → threshold, e.g. `seuils_secret(results)`; `noms`: code → commune name)."""
    if isinstance(seuil, Mapping) and len(set(seuil.values())) == 1:
        seuil = next(iter(seuil.values()))
    if isinstance(seuil, Mapping):
        commun, autres = texte_seuil(seuil, noms).split(" ; ", 1)
        phrase_seuil = f"sur moins de {commun} {COMPTES_SECRETS} ({autres})"
    else:
        phrase_seuil = f"sur moins de {text.nombre(seuil)} {COMPTES_SECRETS}"
    return (
        f"Aucun résultat publié (pages, tableaux téléchargeables, fichiers de résultats) ne porte "
        f"{phrase_seuil} : ces cases sont remplacées par « s » (secret) et les "
        "totaux sont protégés pour qu'une valeur masquée ne puisse pas être retrouvée par différence ; "
        "un taux, une part ou un montant par habitant calculé sur un effectif masqué est masqué aussi, "
        "et une même case est masquée sur toutes les pages qui la montrent. Le seuil vaut "
        f"{text.nombre(SEUIL_NATIONAL)} par défaut (la règle nationale) ; il peut être relevé pour une "
        "commune, jamais abaissé."
    )


def contexte_secret(
    results: Mapping[tuple[str, str], Mapping], noms: Mapping[str, str] | None = None
) -> dict:
    """What the Méthode page needs about secrecy, from every commune's results: ``seuil_secret``
    (« 11 » or « 11 ; 15 pour Esterbourg ») and ``phrase_secret`` (None without results)."""
    seuils = seuils_secret(results)
    if not seuils:
        return {"seuil_secret": None, "phrase_secret": None}
    return {"seuil_secret": texte_seuil(seuils, noms), "phrase_secret": phrase_secret(seuils, noms)}


def annees_indicateur(annees: list[int], attribuees: bool = False) -> str:
    """An indicator's years as the Méthode page prints them: « 2017 », « 2005-2014 » (every year
    between), « 2015, 2017 », or « aucune » ; « (attribuée à l'import) » when the source file
    gave none and the importer set a reference year."""
    if not annees:
        return "aucune valeur dans les données"
    a = sorted(set(annees))
    if len(a) == 1:
        dit = text.annee(a[0])
    elif a == list(range(a[0], a[-1] + 1)):
        dit = text.annee_periode(a[0], a[-1])
    else:
        dit = ", ".join(text.annee(x) for x in a)
    if attribuees:
        dit += " (année attribuée à l'import : le fichier source n'en donne pas)"
    return dit


def catalogue(
    indicateurs, metadonnees: Mapping | None = None, annees: Mapping[str, list[int]] | None = None
) -> list[dict]:
    """The indicator catalogue (`catalogue_indicateurs.csv` rows) with each indicator's own years
    in the data set (`annees`; without it, the data set's span): indicator code, label, unit,
    source, years covered, definition."""
    if indicateurs is None or len(indicateurs) == 0:
        return []
    meta = metadonnees or {}
    debut, fin = meta.get("annee_debut"), meta.get("annee_fin")
    etendue = text.annee_periode(debut, fin) if debut and fin else "non renseignées"
    # The INSEE QPV file has no year: its importer attributed one per family of variables.
    attribuees = isinstance(meta.get("import"), Mapping) and "insee_qpv" in meta["import"]
    rows = []
    for r in indicateurs.to_dict("records"):
        code = str(r.get("indicateur") or "")
        annees_dites = (
            annees_indicateur(annees.get(code, []), attribuees and code in annees) if annees else etendue
        )
        unite = str(r.get("unite") or "")
        rows.append(
            {
                "indicateur": str(r.get("indicateur") or ""),
                "libelle": str(r.get("libelle") or ""),
                "unite": {"nombre": "effectif", "%": "%"}.get(unite, unite),
                "source": str(r.get("source") or "non renseignée"),
                "annees": annees_dites,
                "definition": str(r.get("definition") or ""),
            }
        )
    return sorted(rows, key=lambda x: x["libelle"])
