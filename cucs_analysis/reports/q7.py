"""q7 — « Les outils de Pilotage spécifique « politique de la ville », GIP, sont ils toujours
légitimes ? »: everything the notebook shows, computed from one commune's Territory and the
region stage (`Region.structures`: the same figures for every commune).

The notebook calls `build(territoire, region, params)`, then shows each table as
`d.tableau(q7.vue_<name>(r), legende=…)` and each figure as `d.figure(q7.figure_<name>(r), …)`;
the French findings are generated here so that they are tested. The added value of a steering
structure is objectified by four figures (docs/rules.md, q7): co-funding per euro of specific
credits, share of mainstream funding, median processing delays, novelty (the share of new
actions and operators: « part d'actions nouvelles », « taux de nouveauté » on the page; the
results key keeps DESIGN §6's name `taux_renouvellement`). The comparison between structures rests on a handful of communes: it is stated
as a tendency with its spread, never as a ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cucs_analysis.analysis import funding, motifs, structures
from cucs_analysis.present import display, labels, text
from cucs_analysis.present.labels import majuscule
from cucs_analysis.reports import rapport
from cucs_analysis.reports.rapport import Rapport, chiffre_cle

#: Below this base (action-years, requests) in either period a comparison is a « petite base »
#: (docs/rules.md, as q4).
BASE_MIN = 30

#: Why co-funding and the share of mainstream are not computed from a State-only funding source
#: (metadata `financements_perimetre: etat_seul`, common decision 4 of issue 11).
RAISON_ETAT_SEUL = rapport.RAISON_ETAT_SEUL
#: Why nothing of the CUCS is read for a commune whose signatory status is unknown.
RAISON_SIGNATAIRE_INCONNU = rapport.SIGNATAIRE_INCONNU
#: A steering structure the data lack (never a structure class).
STRUCTURE_INCONNUE = "structure de pilotage inconnue"


#: The funding source holds only the State's share (`financements_perimetre: etat_seul`).
perimetre_etat_seul = rapport.financements_etat_seul


#: The shared reading of `communes.signataire_cucs` (True, False, None when unknown).
statut_signataire = rapport.statut_signataire


#: Each structure code: (with its article, plural label, « pilotées par … »).
STRUCTURES = {
    "GIP": ("un GIP", "GIP", "par un GIP"),
    "service municipal": ("un service municipal", "services municipaux", "par un service municipal"),
    "service intercommunal": (
        "un service intercommunal",
        "services intercommunaux",
        "par un service intercommunal",
    ),
    structures.AUCUNE: ("aucune structure", "sans structure", "sans structure de pilotage"),
    structures.INCONNUE: (
        "une structure de pilotage inconnue",
        "structure de pilotage inconnue",
        "par une structure de pilotage inconnue",
    ),
}


def libelle_structure(code: object) -> str:
    """The structure as a reader says it alone (« GIP », « service municipal », « structure de
    pilotage inconnue »)."""
    if code == structures.INCONNUE:
        return STRUCTURE_INCONNUE
    if code == structures.AUCUNE:
        return "aucune"
    return str(code)


def _avec_article(code: object) -> str:
    return STRUCTURES.get(str(code), (f"une structure « {code} »",))[0]


def _pluriel_structure(code: object) -> str:
    return STRUCTURES.get(str(code), ("", f"« {code} »"))[1]


def _par(code: object) -> str:
    return STRUCTURES.get(str(code), ("", "", f"par une structure « {code} »"))[2]


@dataclass
class RapportQ7(Rapport):
    code_commune: str
    nom_commune: str
    signataire: bool | None  # communes.signataire_cucs (None: unknown); outside the CUCS a comparison
    a_programme: bool  # the commune has actions and their funding in the data
    structure: str  # structures.structure_code of communes.structure_pilotage
    periode: tuple[int, int]
    annee_debut_cucs: int
    levier: pd.DataFrame  # structures.leverage_by, one row (whole period)
    par_annee: (
        pd.DataFrame
    )  # annee, actions_annees, specifique, droit_commun, effet_levier, part_droit_commun
    part_droit_commun: float | None  # percent of the granted funding, whole period
    droit_commun_total: float | None  # mainstream granted, whole period (numerator of the share)
    financement_total: float | None  # all granted, whole period (denominator of the share)
    non_payes: dict  # structures.unpaid_last_year: right-censored payment delays
    montants_periodes: pd.DataFrame  # structures.money_periods (effet_levier, part_droit_commun)
    delais: pd.DataFrame  # structures.median_delays, one row
    delais_annee: pd.DataFrame  # structures.median_delays by annee
    delais_periodes: pd.DataFrame  # structures.median_delays_periods
    renouvellement: pd.DataFrame  # structures.renewal by annee
    renouvellement_periodes: pd.DataFrame  # structures.renewal_periods
    communes: pd.DataFrame  # region.structures: every commune's figures with its structure
    resume: pd.DataFrame  # structures.by_structure over the signatory communes
    base_min: int = BASE_MIN
    etat_seul: bool = False  # the funding source holds only the State's share (no mainstream)
    structures_inconnues: int = 0  # signatory communes with funding left out: structure unknown

    @property
    def inconnu_sans_programme(self) -> bool:
        """Unknown signatory status and no programme rows: « données non disponibles »."""
        return self.signataire is None and not self.a_programme

    @property
    def motif_cofinancement(self) -> str | None:
        """Why co-funding and the mainstream share are absent (State-only source included)."""
        return self.motif_programme or (motifs.DONNEE_ABSENTE if self.etat_seul else None)

    @property
    def communes_comparees(self) -> pd.DataFrame:
        """The signatory communes with funding: those the comparison reads."""
        c = self.communes
        if c.empty:
            return c
        return c[structures.comparable(c)].reset_index(drop=True)

    def valeur(self, cle: str) -> float | None:
        """A whole-period figure of the commune (effet_levier, delai_decision_median, …) or None."""
        src = {
            "effet_levier": self.levier,
            "delai_decision_median": self.delais,
            "delai_paiement_median": self.delais,
        }.get(cle)
        if cle in ("effet_levier", "part_droit_commun") and self.etat_seul:
            return None  # the source holds no mainstream line: unknown, never 0
        if cle == "part_droit_commun":
            return self.part_droit_commun
        if cle == "taux_renouvellement":
            return _periode_val(self.renouvellement_periodes, "nouvelles_actions", "valeur_pendant")
        if cle == "taux_renouvellement_operateurs":
            return _periode_val(self.renouvellement_periodes, "nouveaux_operateurs", "valeur_pendant")
        if src is None or src.empty or not self.a_programme:
            return None
        v = src.iloc[0][cle]
        return None if text.manquant(v) else float(v)

    def motif(self, cle: str) -> str | None:
        """Why a figure is null: the commune's reason, else `non_calculable`."""
        if self.motif_programme:
            return self.motif_programme
        if cle in ("effet_levier", "part_droit_commun") and self.etat_seul:
            return motifs.DONNEE_ABSENTE
        if self.valeur(cle) is not None:
            return None
        d = self.delais
        if cle.startswith("delai_") and not d.empty and int(d.iloc[0]["decisions"]) == 0:
            # no request carries its dates: the data lack them, it is not a rule that failed
            return motifs.DONNEE_ABSENTE
        return motifs.NON_CALCULABLE

    def resultats(self) -> dict:
        """The q7 keys of the results contract (DESIGN.md §6), with `verdict`.

        `taux_renouvellement` (the name DESIGN §6 gives) is the share of new actions during the
        contract, in percent: the page calls it « part d'actions nouvelles » (« taux de
        nouveauté »), never « taux de renouvellement » (q6's word for continued funding);
        `taux_renouvellement_operateurs` the share of new operators."""

        def num(cle: str, decimales: int) -> float | None:
            v = self.valeur(cle)
            return None if v is None else round(v, decimales)

        lv = (
            self.levier.iloc[0] if self.a_programme and not self.etat_seul and not self.levier.empty else None
        )
        return {
            "structure": self.structure,
            "structure_motif": motifs.HORS_CUCS
            if self.signataire is False
            else motifs.DONNEE_ABSENTE
            if self.inconnu_sans_programme or self.structure == structures.INCONNUE
            else None,
            "financements_perimetre": "etat_seul" if self.etat_seul else "complet",
            "effet_levier_raison": RAISON_ETAT_SEUL if self.etat_seul else None,
            "structures_inconnues": self.structures_inconnues,
            "effet_levier": num("effet_levier", 2),
            "effet_levier_motif": self.motif("effet_levier"),
            "effet_levier_base": None
            if lv is None
            else {
                "actions_annees": int(lv["actions_annees"]),
                "montant_specifique": float(lv["specifique"]),
                "montant_droit_commun": float(lv["droit_commun"]),
            },
            "part_droit_commun": num("part_droit_commun", 1),
            "part_droit_commun_base": None
            if self.financement_total is None or self.etat_seul
            else {
                "montant_droit_commun": float(self.droit_commun_total),
                "montant_total": float(self.financement_total),
            },
            "part_droit_commun_motif": self.motif("part_droit_commun"),
            "delai_decision_median_jours": num("delai_decision_median", 1),
            "delai_decision_median_jours_motif": self.motif("delai_decision_median"),
            "delai_paiement_median_jours": num("delai_paiement_median", 1),
            "delai_paiement_median_jours_motif": self.motif("delai_paiement_median"),
            "paiements_non_observes": None
            if not self.a_programme
            else {
                "annee": self.non_payes["annee"],
                "demandes": self.non_payes["demandes"],
                "non_payees": self.non_payes["non_payees"],
                "non_payees_total": self.non_payes["non_payees_total"],
                "delai_paiement_pendant_sans_derniere_annee": rapport.nombre_json(
                    self.non_payes["delai_paiement_pendant_sans_derniere"], 1
                ),
                "paiements_pendant_sans_derniere_annee": self.non_payes["paiements_pendant_sans_derniere"],
            },
            "taux_renouvellement": num("taux_renouvellement", 1),
            "taux_renouvellement_motif": self.motif("taux_renouvellement"),
            "taux_renouvellement_operateurs": num("taux_renouvellement_operateurs", 1),
            "taux_renouvellement_operateurs_motif": self.motif("taux_renouvellement_operateurs"),
            "montants_periodes": rapport.periodes_json(
                self.montants_periodes, "mesure", self.motif_cofinancement
            ),
            "delais_periodes": rapport.periodes_json(self.delais_periodes, "mesure", self.motif_programme),
            "renouvellement_periodes": rapport.periodes_json(
                self.renouvellement_periodes, "mesure", self.motif_programme
            ),
            "structures": [
                {
                    "structure": str(row["structure"]),
                    "communes": int(row["communes"]),
                    "effet_levier": rapport.nombre_json(row["effet_levier"], 2),
                    **{
                        f"{v}_{s}": rapport.nombre_json(row[f"{v}_{s}"], 2)
                        for v in structures.VALEURS_COMPAREES
                        for s in ("min", "max")
                    },
                }
                for row in self.resume.to_dict(orient="records")
            ],
            "verdict": self.verdict,
            "libelles_tables": dict(LIBELLES_TABLES),
            "libelles_codes": {"mesure": dict(LIBELLES_MESURES), "structure": libelles_structures()},
        }


def _periode_val(df: pd.DataFrame, mesure: str, col: str) -> float | None:
    if df.empty:
        return None
    row = df[df["mesure"] == mesure]
    if row.empty or text.manquant(row.iloc[0][col]):
        return None
    return float(row.iloc[0][col])


# --- computations ------------------------------------------------------------------------------


def _par_annee(fin: pd.DataFrame) -> pd.DataFrame:
    cols = ["annee", "actions_annees", "specifique", "droit_commun", "effet_levier", "part_droit_commun"]
    if fin.empty:
        return pd.DataFrame(columns=cols)
    lev = structures.leverage_by(fin, ["annee"])
    sm = funding.specific_vs_mainstream(fin, by=["annee"])[["annee", "part_droit_commun"]]
    out = lev.merge(sm, on="annee", how="outer").sort_values("annee")
    out["part_droit_commun"] = 100 * out["part_droit_commun"]
    out["annee"] = out["annee"].astype("int64")
    return out[cols].reset_index(drop=True)


def build(territoire, region, params) -> RapportQ7:
    code = territoire.code_commune
    nom = str((territoire.commune or {}).get("nom") or code)
    signataire = statut_signataire(territoire)
    etat_seul = perimetre_etat_seul(territoire.metadata)
    debut, fin_periode = int(params.periode.debut), int(params.periode.fin)
    annee_cucs = int(params.annee_debut_cucs)
    kw = {"annee_debut_cucs": annee_cucs, "debut": debut, "fin": fin_periode}
    # an absent table (issue 11: actions, financements, operateurs are optional) is an empty one
    actions = structures.in_period(territoire.actions, debut, fin_periode).reset_index(drop=True)
    fin = structures.in_period(territoire.financements, debut, fin_periode).reset_index(drop=True)
    # an unknown status is never « hors CUCS »: the programme rows present are read
    a_programme = rapport.lit_programme(signataire) and not actions.empty and not fin.empty
    structure = str(
        structures.structure_code(pd.Series([(territoire.commune or {}).get("structure_pilotage")]))[0]
    )
    communes = getattr(region, "structures", None)
    communes = pd.DataFrame(columns=structures.INDICATEURS_COLUMNS) if communes is None else communes
    if etat_seul and not communes.empty:
        # no mainstream line in the source: every commune's co-funding and share are unknown
        communes = communes.assign(
            **{
                c: float("nan")
                for c in ("droit_commun", "effet_levier", "financement_total", "part_droit_commun")
            }
        )

    if a_programme:
        levier = structures.leverage_by(fin)
        tot = float(fin["montant_accorde"].sum())
        dc = float(fin.loc[fin["type_credit"] == funding.DROIT_COMMUN, "montant_accorde"].sum())
        part = 100 * dc / tot if tot > 0 else None
        non_payes = structures.unpaid_last_year(fin, **kw)
        par_annee = _par_annee(fin)
        montants = structures.money_periods(fin, base_min=BASE_MIN, **kw)
        delais = structures.median_delays(fin)
        delais_annee = structures.median_delays(fin, ["annee"]).sort_values("annee").reset_index(drop=True)
        delais_periodes = structures.median_delays_periods(fin, base_min=BASE_MIN, **kw)
        renouv = structures.renewal(actions)
        renouv_periodes = structures.renewal_periods(actions, base_min=BASE_MIN, **kw)
    else:
        levier = pd.DataFrame(columns=structures.LEVIER_COLUMNS)
        part = dc = tot = None
        non_payes = structures.unpaid_last_year(pd.DataFrame(), **kw)
        par_annee = _par_annee(pd.DataFrame())
        montants = structures.money_periods(pd.DataFrame(), **kw)
        delais = pd.DataFrame(columns=structures.DELAIS_COLUMNS)
        delais_annee = pd.DataFrame(columns=["annee", *structures.DELAIS_COLUMNS])
        delais_periodes = pd.DataFrame(columns=structures.DELAIS_PERIODES_COLUMNS)
        renouv = structures.renewal(pd.DataFrame())
        renouv_periodes = structures.renewal_periods(pd.DataFrame(), **kw)
    if etat_seul:
        # State-only source: neither the mainstream amount nor its share is known
        part = dc = tot = None
        montants = structures.money_periods(pd.DataFrame(), **kw)
        par_annee = par_annee.assign(
            droit_commun=float("nan"), effet_levier=float("nan"), part_droit_commun=float("nan")
        )

    r = RapportQ7(
        code_commune=code,
        nom_commune=nom,
        signataire=signataire,
        a_programme=a_programme,
        structure=structure,
        periode=(debut, fin_periode),
        annee_debut_cucs=annee_cucs,
        levier=levier,
        par_annee=par_annee,
        part_droit_commun=part,
        droit_commun_total=dc,
        financement_total=tot,
        non_payes=non_payes,
        montants_periodes=montants,
        delais=delais,
        delais_annee=delais_annee,
        delais_periodes=delais_periodes,
        renouvellement=renouv,
        renouvellement_periodes=renouv_periodes,
        communes=communes,
        resume=structures.by_structure(communes),
        etat_seul=etat_seul,
        structures_inconnues=structures.unknown_structures(communes),
    )
    _narrate(r)
    rapport.constat_contrat(r, territoire, r.a_programme)
    return r


# --- French sentences ------------------------------------------------------------------------------

#: The notebook's section headings (exact text of its « ## » lines): the verdict links to one.
SECTIONS = {
    "en_bref": "En bref",
    "structure": "1. La structure de pilotage de la commune",
    "cofinancement": "2. Cofinancement par euro de crédits spécifiques et part du droit commun",
    "delais": "3. Les délais de traitement des demandes, du dépôt à la décision et au paiement",
    "renouvellement": "4. Innovation : la part d'actions et d'opérateurs nouveaux",
    "comparaison": "5. La comparaison avec les communes pilotées autrement",
}
#: What each section describes, for the one « hors CUCS » sentence of a non-signatory commune.
OBJETS_SECTIONS = {
    "structure": "la structure de pilotage du CUCS",
    "cofinancement": "le cofinancement des actions du CUCS",
    "delais": "le traitement des demandes de subvention du CUCS",
    "renouvellement": "la part d'actions et d'opérateurs nouveaux du CUCS",
}
MESURES_DELAIS = {"delai_decision": "jusqu'à la décision", "delai_paiement": "jusqu'au paiement"}
#: The French label of each `mesure` code of the before / during tables (pages, key figures, CSV).
LIBELLES_MESURES = {
    "effet_levier": "Cofinancement de droit commun par euro de crédits spécifiques",
    "part_droit_commun": "Part du droit commun dans les montants accordés",
    "delai_decision": "Délai médian du dépôt à la décision",
    "delai_paiement": "Délai médian du dépôt au paiement",
    "nouvelles_actions": "Part d'actions nouvelles (taux de nouveauté)",
    "nouveaux_operateurs": "Part d'opérateurs nouveaux",
}
#: The French title of each list-valued results key (the published CSV files).
LIBELLES_TABLES = {
    "montants_periodes": "Cofinancement par euro et part du droit commun avant et pendant le CUCS",
    "delais_periodes": "Délais médians de traitement avant et pendant le CUCS",
    "renouvellement_periodes": "Actions et opérateurs nouveaux avant et pendant le CUCS",
    "structures": "Comparaison des structures de pilotage",
}


def libelles_structures() -> dict[str, str]:
    """Each structure code with the label the page gives it (« GIP », « Service municipal »…)."""
    return {code: majuscule(libelle_structure(code)) for code in STRUCTURES}


def _par_euro(x: object) -> str:
    """« 1,78 € » of co-funding per euro of specific credits."""
    return text.euros(x, 2)


def _jours(x: object) -> str:
    return text.pluriel(round(float(x)), "jour") if not text.manquant(x) else text.ND


def _nb_jours(x: object) -> str:
    """The number of `_jours` without its unit (the lower bound of « de 40 à 41 jours »)."""
    return text.nombre(round(float(x))) if not text.manquant(x) else text.ND


def _ecart_jours(e: float | None) -> str:
    """« +3 jours », « −1 jour », « 0 jour »: a signed difference of days."""
    if e is None or text.manquant(e):
        return text.ND
    return f"{text.nombre(e, 0, signe=True)} {'jour' if abs(e) < 2 else 'jours'}"


def _narrate_hors_cucs(r: RapportQ7) -> None:
    r.constats.append(
        labels.phrase_hors_cucs(r.nom_commune, "l'évaluation d'une structure de pilotage du CUCS")
    )
    for section, objet in OBJETS_SECTIONS.items():
        r.textes[section] = [f"Hors CUCS : {objet} est sans objet à {r.nom_commune}."]
    r.reserves.append(
        f"{r.nom_commune} n'étant pas signataire, elle n'a pas de structure de pilotage du CUCS ; la comparaison "
        "des structures porte sur les communes signataires."
    )
    r.debat.append(
        f"Hors CUCS : si {r.nom_commune} entrait dans la géographie prioritaire, quel pilotage choisirait-elle, "
        "au vu de ce que les communes signataires en retirent ?"
    )


def _narrate_signataire_inconnu(r: RapportQ7) -> None:
    """A commune whose signatory status is unknown: neither a CUCS result nor a comparison."""
    r.constats.append(
        f"Données non disponibles : {RAISON_SIGNATAIRE_INCONNU} — les données ne disent pas si {r.nom_commune} a "
        "signé un CUCS, et aucune action financée de la commune n'y figure : sa structure de pilotage n'est pas "
        "évaluée."
    )
    for section, objet in OBJETS_SECTIONS.items():
        r.textes[section] = [
            f"Données non disponibles : {RAISON_SIGNATAIRE_INCONNU} — on ne peut pas évaluer {objet} à {r.nom_commune}."
        ]


def _narrate_structure(r: RapportQ7) -> None:
    c = r.communes_comparees
    if r.structure == structures.INCONNUE:
        r.constat(
            "structure",
            f"Structure de pilotage inconnue (n.d.) : la structure de pilotage du CUCS {text.de(r.nom_commune)} "
            "manque dans les données ; la commune n'est rattachée à aucun groupe de comparaison.",
        )
    else:
        r.constat("structure", f"Le CUCS {text.de(r.nom_commune)} est piloté {_par(r.structure)}.")
    if not c.empty:
        n = c.groupby("structure")["code_commune"].nunique().sort_values(ascending=False, kind="stable")
        parts = [
            _avec_article(s) if k < 2 else f"{text.nombre(k)} {_pluriel_structure(s)}" for s, k in n.items()
        ]
        r.dit(
            "structure",
            f"Parmi les {text.pluriel(len(c), 'commune signataire', 'communes signataires')} dont les financements "
            f"sont connus, le pilotage est assuré par {text.liste_fr(parts)}.",
        )


def _narrate_cofinancement(r: RapportQ7) -> None:
    if not r.a_programme:
        r.constat(
            "cofinancement",
            f"Les financements des actions {text.de(r.nom_commune)} sont absents des données (données non "
            "disponibles) : ni le cofinancement par euro de crédits spécifiques, ni les délais, ni la part d'actions "
            "nouvelles ne peuvent être calculés.",
        )
        return
    periode = text.annee_periode(*r.periode)
    if r.etat_seul:
        r.constat(
            "cofinancement",
            f"Cofinancement par euro de crédits spécifiques et part du droit commun : n.d. — {RAISON_ETAT_SEUL} ; "
            "les montants des autres financeurs (droit commun) n'y figurent pas, leur absence n'est pas un zéro.",
        )
        return
    lv = r.levier.iloc[0]
    if text.manquant(lv["effet_levier"]):
        r.constat(
            "cofinancement",
            f"Aucune action {text.de(r.nom_commune)} ne reçoit de crédits spécifiques sur {periode} : le "
            "cofinancement par euro de crédits spécifiques n'est pas calculable.",
        )
    else:
        r.constat(
            "cofinancement",
            f"Sur {periode}, chaque euro de crédits spécifiques accordé aux actions {text.de(r.nom_commune)} "
            f"s'accompagne de {_par_euro(lv['effet_levier'])} de cofinancement de droit commun "
            f"({text.euros(lv['droit_commun'])} de droit commun pour {text.euros(lv['specifique'])} de crédits "
            f"spécifiques, sur les {text.pluriel(lv['actions_annees'], 'action-année', 'actions-années')} qui "
            "reçoivent des crédits spécifiques).",
        )
    if r.part_droit_commun is not None:
        r.dit(
            "cofinancement",
            f"Le droit commun représente {text.pourcentage(r.part_droit_commun)} des montants accordés aux actions "
            f"sur {periode} ({text.euros(r.droit_commun_total)} sur {text.euros(r.financement_total)}).",
        )
    m = r.montants_periodes
    lev = m[m["mesure"] == "effet_levier"]
    if lev.empty:
        return
    row = lev.iloc[0]
    if not bool(row["avant_testable"]):
        r.dit(
            "cofinancement",
            f"Les données commencent avec le CUCS : l'évolution par rapport à la période d'avant ne peut pas être "
            f"testée ({_par_euro(row['valeur_pendant'])} par euro {r.pendant}).",
        )
        return
    ecart = text.difference_affichee(row["valeur_avant"], row["valeur_pendant"], 2)
    phrase = (
        f"Cofinancement par euro de crédits spécifiques : {_par_euro(row['valeur_avant'])} {r.avant}, sur "
        f"{text.pluriel(row['actions_annees_avant'], 'action-année', 'actions-années')}, et "
        f"{_par_euro(row['valeur_pendant'])} {r.pendant}, sur "
        f"{text.pluriel(row['actions_annees_pendant'], 'action-année', 'actions-années')} "
        f"(écart : {text.nombre(ecart, 2, signe=True)}{text.ESPACE_UNITE}€)."
    )
    r.dit("cofinancement", phrase)
    part = m[m["mesure"] == "part_droit_commun"]
    if not part.empty and bool(part.iloc[0]["avant_testable"]):
        p = part.iloc[0]
        r.dit(
            "cofinancement",
            f"Part du droit commun dans les montants accordés : {text.pourcentage(p['valeur_avant'])} "
            f"{r.avant}, soit {text.euros(p['numerateur_avant'])} sur {text.euros(p['denominateur_avant'])}, et "
            f"{text.pourcentage(p['valeur_pendant'])} {r.pendant}, soit {text.euros(p['numerateur_pendant'])} "
            f"sur {text.euros(p['denominateur_pendant'])} (écart : "
            f"{text.points(text.difference_affichee(p['valeur_avant'], p['valeur_pendant'], 1))}).",
        )
    if bool(row["petite_base"]):
        r.dit(
            "cofinancement",
            f"La base d'une des deux périodes compte moins de {text.pluriel(r.base_min, 'action-année', 'actions-années')} "
            "avec crédits spécifiques (petite base) : l'écart est une tendance à lire avec prudence.",
        )


def _narrate_delais(r: RapportQ7) -> None:
    if not r.a_programme:
        return
    d = r.delais.iloc[0]
    if int(d["decisions"]) == 0:
        r.constat(
            "delais",
            "Délais de traitement : n.d. — les dates de dépôt et de décision des demandes ne sont pas renseignées "
            "dans les données.",
        )
        return
    phrase = (
        f"Du dépôt d'une demande de financement à la décision, il faut {_jours(d['delai_decision_median'])} en "
        f"médiane ({text.pluriel(d['decisions'], 'demande')})"
    )
    if int(d["paiements"]) > 0:
        phrase += (
            f", et {_jours(d['delai_paiement_median'])} jusqu'au paiement "
            f"({text.pluriel(d['paiements'], 'demande payée', 'demandes payées')})"
        )
    r.constat("delais", phrase + ".")
    _narrate_non_payes(r)
    dp = r.delais_periodes
    if dp.empty or not bool(dp["avant_testable"].any()):
        return
    for row in dp.to_dict(orient="records"):
        if not row["avant_testable"] or text.manquant(row["valeur_pendant"]):
            continue
        ecart = text.difference_affichee(row["valeur_avant"], row["valeur_pendant"], 0)
        r.dit(
            "delais",
            f"Délai médian {MESURES_DELAIS[row['mesure']]} : {_jours(row['valeur_avant'])} {r.avant}, "
            f"{_jours(row['valeur_pendant'])} {r.pendant} (écart : {_ecart_jours(ecart)})"
            + (" ; petite base" if row["petite_base"] else "")
            + ".",
        )


def _n_a(n: int) -> str:
    return "n'a" if n < 2 else "n'ont"


def _narrate_non_payes(r: RapportQ7) -> None:
    """Payment delays are right-censored: the requests still unpaid when the data end are not
    counted, so the last year's median is too low; say how many, and the median without it."""
    np_ = r.non_payes
    if not np_["non_payees"]:
        return
    annee = text.annee(np_["annee"])
    if np_["non_payees_total"] == np_["non_payees"]:
        qui = (
            f"{text.nombre(np_['non_payees'])} des {text.pluriel(np_['demandes'], 'demande')} de {annee} "
            + _n_a(np_["non_payees"])
            + " pas de paiement enregistré"
        )
    else:
        qui = (
            f"{text.pluriel(np_['non_payees_total'], 'demande')} "
            + _n_a(np_["non_payees_total"])
            + " pas de paiement enregistré, dont "
            + f"{text.nombre(np_['non_payees'])} des {text.pluriel(np_['demandes'], 'demande')} de {annee}"
        )
    phrase = (
        f"{qui} : les données s'arrêtent avant leur paiement, et le délai de paiement de {annee}, calculé sur "
        "les seules demandes déjà payées, est sous-estimé"
    )
    sans = np_["delai_paiement_pendant_sans_derniere"]
    if np_["annee"] >= r.annee_debut_cucs and not text.manquant(sans):
        phrase += (
            f" ; sur {text.annee_periode(r.annee_debut_cucs, int(np_['annee']) - 1)} (sans {annee}), le délai "
            f"médian jusqu'au paiement est de {_jours(sans)} "
            f"({text.pluriel(np_['paiements_pendant_sans_derniere'], 'demande payée', 'demandes payées')})"
        )
    r.dit("delais", phrase + ".")


def _narrate_renouvellement(r: RapportQ7) -> None:
    if not r.a_programme:
        return
    rp = r.renouvellement_periodes
    ren = r.renouvellement
    if rp.empty:
        r.constat(
            "renouvellement",
            "Une seule année de programmation : la part d'actions et d'opérateurs nouveaux n'est pas "
            "calculable.",
        )
        return
    a = rp[rp["mesure"] == "nouvelles_actions"].iloc[0]
    o = rp[rp["mesure"] == "nouveaux_operateurs"]
    phrase = (
        f"Part d'actions nouvelles (taux de nouveauté) : {r.pendant}, {text.pourcentage(a['valeur_pendant'])} "
        "des actions d'une année sont nouvelles "
        f"({text.nombre(a['numerateur_pendant'])} sur {text.pluriel(a['denominateur_pendant'], 'action-année', 'actions-années')})"
    )
    if not o.empty and not text.manquant(o.iloc[0]["valeur_pendant"]):
        o = o.iloc[0]
        base = text.pluriel(o["denominateur_pendant"], "opérateur-année", "opérateurs-années")
        if int(o["numerateur_pendant"]) == 0:
            phrase += f" ; aucun opérateur financé ne l'est pour la première fois (0 sur {base})"
        else:
            phrase += (
                f" et {text.pourcentage(o['valeur_pendant'])} des opérateurs financés le sont pour la première "
                f"fois ({text.nombre(o['numerateur_pendant'])} sur {base})"
            )
    r.constat("renouvellement", phrase + ".")
    premiere = ren.loc[ren["premiere_annee"].astype(bool), "annee"]
    if not premiere.empty:
        r.dit(
            "renouvellement",
            f"La première année de programmation connue ({text.annee(premiere.iloc[0])}) n'est pas comptée : "
            "tout y serait nouveau.",
        )
    if bool(a["avant_testable"]):
        phrase = (
            f"{majuscule(r.avant)} : {text.pourcentage(a['valeur_avant'])} d'actions nouvelles "
            f"({text.nombre(a['numerateur_avant'])} sur {text.pluriel(a['denominateur_avant'], 'action-année', 'actions-années')})"
        )
        if bool(a["petite_base"]):
            phrase += " ; la base est petite, l'écart n'est qu'une tendance"
        r.dit("renouvellement", phrase + ".")
    else:
        r.dit(
            "renouvellement",
            "Aucune année avant le CUCS ne peut être comparée (la programmation connue commence avec le contrat).",
        )


def _fourchette(row: dict, v: str, fmt, nombre=None) -> str:
    """« de 40 à 41 jours » (`nombre` writes the lower bound without its unit), « de 1,57 € à
    2,07 € », or one value when the communes agree."""
    lo, hi, n = row[f"{v}_min"], row[f"{v}_max"], row[f"{v}_n"]
    if text.manquant(lo):
        return text.ND
    if int(n) < 2 or fmt(lo) == fmt(hi):
        return fmt(lo) + (" (une seule commune)" if int(n) < 2 else "")
    return f"de {(nombre or fmt)(lo)} à {fmt(hi)}"


def _position(r: RapportQ7, v: str, valeur: float | None, fmt) -> str | None:
    """Where the commune stands within its structure's spread and against the others'."""
    res = r.resume
    if valeur is None or res.empty or r.structure not in set(res["structure"]):
        return None
    autres = res[res["structure"] != r.structure]
    if autres.empty:
        return None
    lo, hi = autres[f"{v}_min"].min(), autres[f"{v}_max"].max()
    if text.manquant(lo):
        return None
    if valeur > hi:
        return "au-dessus de toutes les communes pilotées autrement"
    if valeur < lo:
        return "en dessous de toutes les communes pilotées autrement"
    return f"dans la fourchette des communes pilotées autrement ({fmt(lo)} à {fmt(hi)})"


def _narrate_comparaison(r: RapportQ7) -> None:
    res = r.resume
    c = r.communes_comparees
    if r.structures_inconnues:
        k = r.structures_inconnues
        r.dit(
            "comparaison",
            f"{text.pluriel(k, 'commune signataire', 'communes signataires')} avec financements dont la structure "
            f"de pilotage est inconnue {'est laissée' if k < 2 else 'sont laissées'} hors de la comparaison "
            "(structure de pilotage inconnue, n.d.).",
        )
    if res.empty:
        r.dit(
            "comparaison",
            "Aucune commune signataire n'a de financements et une structure de pilotage connus : la comparaison des "
            "structures est impossible.",
        )
        return
    if r.etat_seul:
        r.dit(
            "comparaison",
            f"Cofinancement par euro de crédits spécifiques selon la structure : n.d. — {RAISON_ETAT_SEUL}.",
        )
    parts = [
        f"{_par(row['structure'])}, {_par_euro(row['effet_levier'])} "
        f"({text.pluriel(row['communes'], 'commune')} ; {_fourchette(row, 'effet_levier', _par_euro)} selon la commune)"
        for row in res.to_dict(orient="records")
    ]
    if not r.etat_seul:
        r.dit(
            "comparaison",
            "Cofinancement par euro de crédits spécifiques, toutes communes d'une même structure réunies — communes "
            "pilotées " + " ; ".join(parts) + ".",
        )
    delais = [
        f"{_pluriel_structure(row['structure'])} : {_fourchette(row, 'delai_decision_median', _jours, _nb_jours)}"
        for row in res.to_dict(orient="records")
    ]
    r.dit(
        "comparaison",
        "Délai médian du dépôt à la décision selon la commune — " + " ; ".join(delais) + ".",
    )
    if r.signataire is not False and r.a_programme and r.structure != structures.INCONNUE:
        v = r.valeur("effet_levier")
        pos = _position(r, "effet_levier", v, _par_euro)
        if pos is not None:
            r.constat(
                "comparaison",
                f"Avec {_par_euro(v)} de cofinancement par euro de crédits spécifiques, {r.nom_commune} se situe "
                f"{pos} : c'est une tendance observée sur {text.pluriel(len(c), 'commune')}, pas la preuve de "
                "l'apport d'une structure.",
            )
    n = c.groupby("structure")["code_commune"].nunique()
    detail = text.liste_fr([f"{text.nombre(k)} {_pluriel_structure(s)}" for s, k in n.items()])
    r.dit(
        "comparaison",
        f"Ces comparaisons reposent sur {text.pluriel(len(c), 'commune signataire', 'communes signataires')} "
        f"({detail}) : aucun classement des structures ne peut en être tiré. Les communes diffèrent aussi par leur "
        "taille, leur tissu associatif et leurs partenaires ; l'écart entre structures est une tendance, et la "
        "dispersion entre communes d'une même structure (fourchettes ci-dessus) en donne la mesure.",
    )


def _debat(r: RapportQ7) -> None:
    if r.signataire is False or r.inconnu_sans_programme:  # hors CUCS, or nothing to discuss
        return
    r.debat.append(
        "Quelle plus-value les élus, les directions générales et les services reconnaissent-ils à la structure de "
        "pilotage, au-delà des chiffres : portage financier, relations directes avec l'État et les institutions, "
        "dynamique de projet ?"
    )
    if r.a_programme:
        v = r.valeur("effet_levier")
        if v is not None:
            r.debat.append(
                f"Les {_par_euro(v)} de droit commun par euro de crédits spécifiques tiennent-ils à la structure de "
                "pilotage, ou aux partenaires et aux actions de la commune ? Que deviendraient-ils si le pilotage "
                "passait à un autre support ?"
            )
        d = r.valeur("delai_decision_median")
        if d is not None:
            r.debat.append(
                f"Un délai médian de {_jours(d)} entre le dépôt et la décision est-il compatible avec la capacité "
                "de réagir et d'innover des petites associations ? Quelles procédures (appels à projets, "
                "conventions pluriannuelles) le raccourciraient ?"
            )
    r.debat.append(
        "Quel positionnement de la structure par rapport aux services municipaux et au droit commun pour l'avenir : "
        "quels champs, au-delà des seuls dispositifs financés par l'État ?"
    )


def _verdict(r: RapportQ7) -> dict:
    """One line that answers the question for this commune, with its reason and its section."""
    if r.inconnu_sans_programme:
        return rapport.verdict_donnee_absente("Pilotage", RAISON_SIGNATAIRE_INCONNU, SECTIONS["en_bref"])
    if r.signataire is False:
        return rapport.verdict_hors_cucs(
            "Pilotage",
            r.nom_commune,
            SECTIONS["en_bref"],
            "(pas de structure de pilotage) et sert de comparaison",
        )
    if not r.a_programme:
        return rapport.verdict_donnee_absente(
            "Pilotage", "financements des actions absents des données", SECTIONS["cofinancement"]
        )
    v = r.valeur("effet_levier")
    d = r.valeur("delai_decision_median")
    tete = (
        f"Pilotage ({STRUCTURE_INCONNUE})"
        if r.structure == structures.INCONNUE
        else f"Pilotage par {_avec_article(r.structure)}"
    )
    morceaux = []
    if r.etat_seul:
        morceaux.append(f"cofinancement par euro n.d. ({RAISON_ETAT_SEUL})")
    elif v is not None:
        morceaux.append(f"{_par_euro(v)} de cofinancement par euro de crédits spécifiques")
    if d is not None:
        morceaux.append(f"{_jours(d)} médians du dépôt à la décision")
    texte = f"{tete} : " + (text.liste_fr(morceaux) if morceaux else "chiffres non calculables")
    res = r.resume
    if v is not None and not res.empty:
        mien = res[res["structure"] == r.structure]
        autres = res[res["structure"] != r.structure]
        bouts = []
        if not mien.empty:
            row = mien.iloc[0].to_dict()
            bouts.append(f"{_pluriel_structure(r.structure)} : {_fourchette(row, 'effet_levier', _par_euro)}")
        if not autres.empty:
            lo, hi = autres["effet_levier_min"].min(), autres["effet_levier_max"].max()
            bouts.append(
                f"autres structures : {_par_euro(lo)}"
                if _par_euro(lo) == _par_euro(hi)
                else f"autres structures : de {_par_euro(lo)} à {_par_euro(hi)}"
            )
        if bouts:
            texte += " (" + " ; ".join(bouts) + ")"
        n = len(r.communes_comparees)
        texte += f" — tendance sur {text.pluriel(n, 'commune')}, pas un classement"
        section = SECTIONS["comparaison"]
    else:
        section = SECTIONS["cofinancement"]
    return rapport.verdict(texte + ".", section)


def _narrate(r: RapportQ7) -> None:
    if r.inconnu_sans_programme:
        _narrate_signataire_inconnu(r)
    elif r.signataire is False:
        _narrate_hors_cucs(r)
    else:
        if r.signataire is None:  # programme rows present: described, with one caveat
            r.reserves.append(rapport.reserve_signataire_inconnu(r.nom_commune))
        _narrate_structure(r)
        _narrate_cofinancement(r)
        _narrate_delais(r)
        _narrate_renouvellement(r)
    _narrate_comparaison(r)

    if r.a_programme and r.etat_seul:
        r.reserves.append(
            "La source des financements ne contient que la part de l'État (programme 147) : le cofinancement par "
            "euro et la part du droit commun ne sont pas calculés (n.d.). La part d'actions et d'opérateurs "
            "nouveaux, elle, est calculée, mais sur les seules actions financées par l'État : une action financée "
            "par d'autres seulement n'y figure pas."
        )
    if r.a_programme:
        if not r.etat_seul:
            r.reserves.append(
                "Le cofinancement par euro de crédits spécifiques rapporte le droit commun accordé aux actions qui "
                "reçoivent des crédits spécifiques à ces crédits : il mesure un accompagnement, pas un effet causal "
                "des crédits spécifiques ni de la structure de pilotage. Les montants sont en euros courants : le "
                "rapport compare des montants des mêmes actions et des mêmes années."
            )
        r.reserves.append(
            "Les délais sont comptés par demande de financement (une ligne de financement), du dépôt à la décision "
            "et au paiement ; une demande sans date, ou dont la date de décision ou de paiement précède le dépôt, "
            "n'entre pas dans la médiane. Ils dépendent aussi des financeurs, pas seulement de la structure."
        )
        np_ = r.non_payes
        if np_["non_payees"]:
            r.reserves.append(
                f"Les demandes de {text.annee(np_['annee'])} non encore payées à la fin des données "
                f"({text.nombre(np_['non_payees'])} sur {text.nombre(np_['demandes'])}) ne sont pas comptées : le "
                f"délai de paiement de {text.annee(np_['annee'])} est sous-estimé, et le délai médian "
                f"{r.pendant if np_['annee'] >= r.annee_debut_cucs else r.avant} l'est un peu aussi."
            )
        r.reserves.append(
            "Une action ou un opérateur « nouveau » l'est dans la programmation connue de la commune : un opérateur "
            "financé avant la période des données, ou par un autre dispositif, peut y paraître nouveau."
        )
    n_comparees = len(r.communes_comparees)
    r.reserves.append(
        f"La comparaison des structures repose sur {text.pluriel(n_comparees, 'commune')} : une "
        "tendance à mettre en débat, pas la preuve qu'une structure vaut mieux qu'une autre."
        if n_comparees
        else "Comparaison des structures : n.d. — aucune commune signataire n'a à la fois des financements et une "
        "structure de pilotage connues dans les données ; aucune tendance n'est donc avancée."
    )
    _debat(r)

    motif = r.motif_programme

    def val(k: str, dec: int) -> float | None:
        v = r.valeur(k)
        return None if v is None else round(v, dec)

    # The first two are what the regional table shows: what q7 adds (co-funding per euro, delay),
    # not the share of mainstream funding q1 already gives.
    r.chiffres_cles = [
        chiffre_cle(
            "effet_levier",
            LIBELLES_MESURES["effet_levier"],
            val("effet_levier", 2),
            text.EUROS_PAR_EURO,
            r.motif_cofinancement,
        ),
        chiffre_cle(
            "delai_decision_median_jours",
            LIBELLES_MESURES["delai_decision"],
            val("delai_decision_median", 0),
            "jours",
            r.motif("delai_decision_median"),
        ),
        chiffre_cle(
            "delai_paiement_median_jours",
            LIBELLES_MESURES["delai_paiement"],
            val("delai_paiement_median", 0),
            "jours",
            r.motif("delai_paiement_median"),
        ),
        chiffre_cle(
            "taux_renouvellement",
            f"{LIBELLES_MESURES['nouvelles_actions']} pendant le CUCS",
            val("taux_renouvellement", 1),
            "%",
            motif,
        ),
        chiffre_cle(
            "part_droit_commun",
            LIBELLES_MESURES["part_droit_commun"],
            val("part_droit_commun", 1),
            "%",
            r.motif_cofinancement,
        ),
    ]
    r.verdict = _verdict(r)


# --- views: the tables the notebook shows (numbers, French headers and units) -----------------------


#: Views show the co-funding per euro of specific credits as the sentences do (« 1,78 € »,
#: unit `euros_centimes`): one unit for the ratio on the page.
PAR_EURO = "Droit commun par euro de crédits spécifiques"


COLONNES_PERIODES = {
    "periode": ("Période", "texte"),
    "annees": ("Années", "nombre"),
    "actions_annees": ("Actions-années avec crédits spécifiques", "nombre"),
    "specifique": ("Crédits spécifiques (€)", "euros"),
    "droit_commun_lie": ("Droit commun sur ces actions (€)", "euros"),
    "effet_levier": (PAR_EURO, "euros_centimes"),
    "droit_commun": ("Droit commun accordé, toutes actions (€)", "euros"),
    "total": ("Total accordé, toutes actions (€)", "euros"),
    "part_droit_commun": ("Part du droit commun (%)", "pourcentage"),
    "petite_base": ("Petite base", "oui_non"),
}
COLONNES_ANNEE = {
    "annee": ("Année", "annee"),
    "actions_annees": ("Actions avec crédits spécifiques", "nombre"),
    "specifique": ("Crédits spécifiques (€)", "euros"),
    "droit_commun": ("Droit commun sur ces actions (€)", "euros"),
    "effet_levier": (PAR_EURO, "euros_centimes"),
    "part_droit_commun": ("Part du droit commun, toutes actions (%)", "pourcentage"),
}
COLONNES_DELAIS_PERIODES = {
    "periode": ("Période", "texte"),
    "n_decision": ("Demandes avec décision", "nombre"),
    "delai_decision": ("Délai médian jusqu'à la décision (jours)", "nombre"),
    "n_paiement": ("Demandes payées", "nombre"),
    "delai_paiement": ("Délai médian jusqu'au paiement (jours)", "nombre"),
    "petite_base": ("Petite base", "oui_non"),
}
COLONNES_DELAIS_ANNEE = {
    "annee": ("Année", "annee"),
    "decisions": ("Demandes avec décision", "nombre"),
    "delai_decision_median": ("Délai médian jusqu'à la décision (jours)", "nombre"),
    "paiements": ("Demandes payées", "nombre"),
    "non_payees": ("Demandes sans paiement enregistré", "nombre"),
    "delai_paiement_median": ("Délai médian jusqu'au paiement (jours)", "nombre"),
}
COLONNES_RENOUVELLEMENT = {
    "annee": ("Année", "annee"),
    "actions": ("Actions", "nombre"),
    "nouvelles_actions": ("Nouvelles actions", "nombre"),
    "part_nouvelles_actions": ("Part d'actions nouvelles", "part"),
    "operateurs": ("Opérateurs", "nombre"),
    "nouveaux_operateurs": ("Nouveaux opérateurs", "nombre"),
    "part_nouveaux_operateurs": ("Part d'opérateurs nouveaux", "part"),
}
COLONNES_RENOUVELLEMENT_PERIODES = {
    "periode": ("Période", "texte"),
    "annees": ("Années comptées", "nombre"),
    "actions": ("Actions-années", "nombre"),
    "nouvelles_actions": ("Nouvelles actions", "nombre"),
    "part_actions": ("Part d'actions nouvelles (%)", "pourcentage"),
    "operateurs": ("Opérateurs-années", "nombre"),
    "nouveaux_operateurs": ("Nouveaux opérateurs", "nombre"),
    "part_operateurs": ("Part d'opérateurs nouveaux (%)", "pourcentage"),
    "petite_base": ("Petite base", "oui_non"),
}
COLONNES_STRUCTURES = {
    "structure": ("Structure de pilotage", "texte"),
    "communes": ("Communes", "nombre"),
    "effet_levier": (f"{PAR_EURO}, communes réunies", "euros_centimes"),
    "effet_levier_min": (f"{PAR_EURO}, minimum", "euros_centimes"),
    "effet_levier_max": (f"{PAR_EURO}, maximum", "euros_centimes"),
    "delai_decision_median_min": ("Délai médian jusqu'à la décision, minimum (jours)", "nombre"),
    "delai_decision_median_max": ("Délai médian jusqu'à la décision, maximum (jours)", "nombre"),
    "taux_renouvellement_min": ("Part d'actions nouvelles, minimum (%)", "pourcentage"),
    "taux_renouvellement_max": ("Part d'actions nouvelles, maximum (%)", "pourcentage"),
}
COLONNES_COMMUNES = {
    "nom": ("Commune", "texte"),
    "structure_lib": ("Structure de pilotage", "texte"),
    "cette_commune": ("Commune étudiée", "oui_non"),
    "effet_levier": (PAR_EURO, "euros_centimes"),
    "actions_annees": ("Actions-années avec crédits spécifiques", "nombre"),
    "part_droit_commun": ("Part du droit commun (%)", "pourcentage"),
    "delai_decision_median": ("Délai médian jusqu'à la décision (jours)", "nombre"),
    "delai_paiement_median": ("Délai médian jusqu'au paiement (jours)", "nombre"),
    "taux_renouvellement": ("Part d'actions nouvelles pendant le CUCS (%)", "pourcentage"),
}


def _lignes_periodes(r: RapportQ7) -> list[tuple[str, str]]:
    return [("avant", majuscule(r.avant)), ("pendant", majuscule(r.pendant))]


def vue_cofinancement_periodes(r: RapportQ7) -> pd.DataFrame:
    """Co-funding per euro of specific credits and the mainstream share, before / during, with
    the action-years behind each period."""
    m = r.montants_periodes
    df = None
    if r.a_programme and not m.empty:
        lev = m[m["mesure"] == "effet_levier"]
        part = m[m["mesure"] == "part_droit_commun"]
        rows = []
        for p, lib in _lignes_periodes(r):
            lv = lev.iloc[0] if not lev.empty else None
            pt = part.iloc[0] if not part.empty else None
            if lv is not None and int(lv[f"annees_{p}"]) == 0:
                continue
            rows.append(
                {
                    "periode": lib,
                    "annees": None if lv is None else lv[f"annees_{p}"],
                    "actions_annees": None if lv is None else lv[f"actions_annees_{p}"],
                    "specifique": None if lv is None else lv[f"denominateur_{p}"],
                    "droit_commun_lie": None if lv is None else lv[f"numerateur_{p}"],
                    "effet_levier": None if lv is None else lv[f"valeur_{p}"],
                    "droit_commun": None if pt is None else pt[f"numerateur_{p}"],
                    "total": None if pt is None else pt[f"denominateur_{p}"],
                    "part_droit_commun": None if pt is None else pt[f"valeur_{p}"],
                    "petite_base": bool(lv is not None and lv[f"actions_annees_{p}"] < r.base_min),
                }
            )
        df = pd.DataFrame(rows) if rows else None  # every period skipped: nothing to show
    return display.vue(
        None if r.etat_seul else df,
        COLONNES_PERIODES,
        vide=vide_cofinancement(r, "cofinancement avant et pendant le CUCS"),
    )


def vide_cofinancement(r: RapportQ7, quoi: str) -> display.Absence:
    """The empty co-funding view's sentence: the State-only source says why, else the commune's reason."""
    if r.etat_seul and not r.motif_programme:
        return display.Absence(f"{quoi} — {RAISON_ETAT_SEUL}", motifs.DONNEE_ABSENTE)
    return r.absence(quoi)


def vide_comparaison(r: RapportQ7) -> display.Absence | str:
    """What the comparison figure lacks: under a State-only source, the co-funding per euro and why."""
    if r.etat_seul:
        return display.Absence(
            f"cofinancement par euro selon la structure de pilotage — {RAISON_ETAT_SEUL}",
            motifs.DONNEE_ABSENTE,
        )
    return "comparaison des communes selon leur structure de pilotage"


def vue_cofinancement_annee(r: RapportQ7) -> pd.DataFrame:
    """Per year: action-years with specific credits, amounts, co-funding per euro, mainstream share."""
    return display.vue(
        r.par_annee if r.a_programme and not r.etat_seul else None,
        COLONNES_ANNEE,
        vide=vide_cofinancement(r, "cofinancement par année"),
    )


def vue_delais_periodes(r: RapportQ7) -> pd.DataFrame:
    """Median delays before / during the contract, with the requests behind each median."""
    dp = r.delais_periodes
    df = None
    if r.a_programme and not dp.empty:
        dec = dp[dp["mesure"] == "delai_decision"].iloc[0]
        pay = dp[dp["mesure"] == "delai_paiement"].iloc[0]
        rows = []
        for p, lib in _lignes_periodes(r):
            if int(dec[f"n_{p}"]) == 0 and int(pay[f"n_{p}"]) == 0:
                continue
            rows.append(
                {
                    "periode": lib,
                    "n_decision": dec[f"n_{p}"],
                    "delai_decision": dec[f"valeur_{p}"],
                    "n_paiement": pay[f"n_{p}"],
                    "delai_paiement": pay[f"valeur_{p}"],
                    "petite_base": bool(dec["avant_testable"]) and int(dec[f"n_{p}"]) < r.base_min,
                }
            )
        df = pd.DataFrame(rows) if rows else None  # every period skipped: nothing to show
    return display.vue(
        df,
        COLONNES_DELAIS_PERIODES,
        vide=r.absence("délais avant et pendant le CUCS"),
    )


def vue_delais_annee(r: RapportQ7) -> pd.DataFrame:
    """Median delays per year of the funding requests."""
    return display.vue(
        r.delais_annee.assign(non_payees=r.delais_annee["demandes"] - r.delais_annee["paiements"])
        if r.a_programme
        else None,
        COLONNES_DELAIS_ANNEE,
        vide=r.absence("délais par année"),
    )


def vue_renouvellement(r: RapportQ7) -> pd.DataFrame:
    """Per year: actions and operators, of which new (the first year has no share)."""
    return display.vue(
        r.renouvellement if r.a_programme else None,
        COLONNES_RENOUVELLEMENT,
        vide=r.absence("actions et opérateurs nouveaux par année"),
    )


def vue_renouvellement_periodes(r: RapportQ7) -> pd.DataFrame:
    """The shares of new actions and new operators, pooled before / during the contract."""
    rp = r.renouvellement_periodes
    df = None
    if r.a_programme and not rp.empty:
        a = rp[rp["mesure"] == "nouvelles_actions"].iloc[0]
        o = rp[rp["mesure"] == "nouveaux_operateurs"].iloc[0]
        rows = []
        for p, lib in _lignes_periodes(r):
            if int(a[f"annees_{p}"]) == 0:
                continue
            rows.append(
                {
                    "periode": lib,
                    "annees": a[f"annees_{p}"],
                    "actions": a[f"denominateur_{p}"],
                    "nouvelles_actions": a[f"numerateur_{p}"],
                    "part_actions": a[f"valeur_{p}"],
                    "operateurs": o[f"denominateur_{p}"],
                    "nouveaux_operateurs": o[f"numerateur_{p}"],
                    "part_operateurs": o[f"valeur_{p}"],
                    "petite_base": bool(a["avant_testable"]) and a[f"denominateur_{p}"] < r.base_min,
                }
            )
        df = pd.DataFrame(rows) if rows else None  # every period skipped: nothing to show
    return display.vue(
        df,
        COLONNES_RENOUVELLEMENT_PERIODES,
        vide=r.absence("actions et opérateurs nouveaux avant et pendant le CUCS"),
    )


def _sans_cofinancement(r: RapportQ7, colonnes: dict) -> dict:
    """A State-only source has no mainstream line: its columns are not shown (n.d. everywhere)."""
    if not r.etat_seul:
        return colonnes
    return {k: v for k, v in colonnes.items() if not k.startswith(("effet_levier", "part_droit_commun"))}


def vue_structures(r: RapportQ7) -> pd.DataFrame:
    """Per structure: the communes, the pooled co-funding per euro and the spread (min–max) of
    the commune values."""
    res = r.resume
    return display.vue(
        res.assign(structure=res["structure"].map(lambda s: majuscule(libelle_structure(s))))
        if not res.empty
        else None,
        _sans_cofinancement(r, COLONNES_STRUCTURES),
        vide="comparaison des structures : aucune commune signataire n'a de financements et une structure connus",
    )


def vue_communes(r: RapportQ7) -> pd.DataFrame:
    """Every signatory commune with funding, its structure and its figures (this commune flagged)."""
    c = r.communes_comparees
    df = None
    if not c.empty:
        df = c.assign(
            structure_lib=c["structure"].map(lambda s: majuscule(libelle_structure(s))),
            cette_commune=c["code_commune"] == r.code_commune,
        ).sort_values(["structure", "nom"], kind="stable")
    return display.vue(
        df,
        _sans_cofinancement(r, COLONNES_COMMUNES),
        vide="comparaison des communes : aucune commune signataire n'a de financements connus",
    )


# --- figures ---------------------------------------------------------------------------------------


def figure_cofinancement(r: RapportQ7):
    """Co-funding per euro of specific credits, by year, with the start of the contract marked."""
    from matplotlib.ticker import MultipleLocator

    from cucs_analysis.present import plots

    p = r.par_annee.dropna(subset=["effet_levier"]) if r.a_programme and not r.etat_seul else pd.DataFrame()
    if p.empty:
        return None
    fig = plots.series_temporelles(
        p.assign(serie=r.nom_commune),
        "annee",
        "effet_levier",
        "serie",
        "Cofinancement de droit commun par euro de crédits spécifiques",
        "Euros de droit commun par euro",
        decimales=1,
    )
    ax = fig.axes[0]
    ax.axvline(r.annee_debut_cucs - 0.5, color=plots.GRIS, linestyle="--", linewidth=1)
    ax.yaxis.set_major_locator(MultipleLocator(0.5))
    ax.set_ylim(bottom=0)
    det = text.liste_fr(
        [f"{int(a)} : {_par_euro(v)}" for a, v in zip(p["annee"], p["effet_levier"], strict=True)]
    )
    return plots.set_alt(
        fig,
        f"Courbe par année : euros de cofinancement de droit commun par euro de crédits spécifiques accordé aux "
        f"actions de {r.nom_commune} ; la ligne pointillée marque le début du CUCS en "
        f"{r.annee_debut_cucs}. Valeurs : {det}.",
    )


def figure_comparaison(r: RapportQ7):
    """Each signatory commune as a dot in its structure's column: co-funding per euro and the
    median delay to decision, this commune highlighted; the spread within a structure is seen."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from cucs_analysis.present import plots

    c = r.communes_comparees
    if r.etat_seul or c.empty or c["effet_levier"].notna().sum() == 0:
        return None
    ordre = r.resume["structure"].tolist()
    pos = {s: i for i, s in enumerate(ordre)}
    c = c[c["structure"].isin(ordre)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    mesures = (
        ("effet_levier", "Cofinancement par euro de crédits spécifiques", "€ par euro", 1),
        ("delai_decision_median", "Délai médian du dépôt à la décision", "Jours", 0),
    )
    for ax, (col, titre, ylab, dec) in zip(axes, mesures, strict=True):
        x = c["structure"].map(pos).astype(float)
        mien = (c["code_commune"] == r.code_commune).to_numpy()
        ax.scatter(x[~mien], c.loc[~mien, col], color=plots.GRIS, s=40, label="Autres communes", zorder=3)
        if mien.any():
            ax.scatter(
                x[mien],
                c.loc[mien, col],
                color=plots.OKABE_ITO["vermillon"],
                s=80,
                marker="D",
                label=r.nom_commune,
                zorder=4,
            )
        for s, i in pos.items():
            v = c.loc[c["structure"] == s, col].dropna()
            if len(v) >= 2:
                ax.vlines(i, v.min(), v.max(), color=plots.GRIS, linewidth=1, zorder=2)
        ax.set_xticks(range(len(ordre)), [majuscule(libelle_structure(s)).replace(" ", "\n") for s in ordre])
        ax.set_xlim(-0.6, len(ordre) - 0.4)
        ax.set_title(titre, fontsize=11)
        ax.set_ylabel(ylab)
        plots.franciser_axes(ax, x=None, y="nombre", decimales=dec)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
        ax.set_ylim(bottom=0)
        ax.tick_params(axis="x", labelsize=9)
    axes[0].legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    det = " ; ".join(
        f"{libelle_structure(row['structure'])} : {_fourchette(row, 'effet_levier', _par_euro)} par euro, délai "
        f"médian de décision {_fourchette(row, 'delai_decision_median', _jours, _nb_jours)}"
        for row in r.resume.to_dict(orient="records")
    )
    mien = c[c["code_commune"] == r.code_commune]
    fin = (
        f" {r.nom_commune} : {_par_euro(mien.iloc[0]['effet_levier'])} par euro, délai médian de décision de "
        f"{_jours(mien.iloc[0]['delai_decision_median'])}."
        if not mien.empty
        else ""
    )
    return plots.set_alt(
        fig,
        f"Deux nuages de points, une colonne par structure de pilotage et un point par commune signataire "
        f"({text.pluriel(len(c), 'commune')}) : à gauche le cofinancement par euro de crédits spécifiques, à droite le "
        f"délai médian du dépôt à la décision. Selon la commune — {det}.{fin}",
    )


def sources(r: RapportQ7, params, metadata) -> list[str]:
    """The 'Sources et méthode' list, with the values actually used."""
    return [
        rapport.source_donnees(metadata),
        "Structure de pilotage : structure déclarée dans la table des communes (GIP, service municipal, "
        "service intercommunal ; « aucune » pour une commune non signataire) ; une structure inconnue n'est "
        "rattachée à aucun groupe de comparaison.",
        *(
            [
                f"Périmètre des financements : {RAISON_ETAT_SEUL} ; le cofinancement par euro et la part du droit "
                "commun ne sont pas calculés (n.d.)."
            ]
            if r.etat_seul
            else []
        ),
        f"Cofinancement par euro de crédits spécifiques ({text.annee_periode(*r.periode)}) : sur les actions-années "
        "qui reçoivent des crédits spécifiques (montant accordé non nul), somme des montants de droit commun "
        "accordés divisée par la somme des crédits spécifiques accordés. Pour une structure, les communes qu'elle "
        "pilote sont réunies (somme des montants de toutes leurs actions). Ce rapport n'est pas appelé « effet "
        "levier » : il mesure un accompagnement, pas un effet.",
        "Part du droit commun : montants de droit commun accordés sur l'ensemble des montants accordés aux actions "
        "(les deux montants sont donnés à côté de la part).",
        "Délais : par demande de financement, nombre de jours entre la date de dépôt et la date de décision, puis "
        "la date de paiement ; médiane des demandes de chaque période (une date manquante ou incohérente écarte la "
        "demande). Une demande pas encore payée à la fin des données n'a pas de délai de paiement : celui de la "
        "dernière année est sous-estimé, et le délai pendant le CUCS est aussi donné sans cette année.",
        "Part d'actions nouvelles (taux de nouveauté) : une action (un opérateur) est nouvelle l'année où elle apparaît pour la première fois "
        "dans la programmation de la commune (actions non pourvues exclues) ; la part est calculée sur chaque "
        "période entière (somme des nouvelles sur somme des actions de chaque année), la première année connue "
        "exclue.",
        f"Périodes comparées : {rapport.periodes_comparees(r)} ; on ne compare jamais une première et une dernière "
        f"année. Une base de moins de {text.nombre(r.base_min)} (actions-années ou demandes) dans l'une des périodes "
        "est signalée « petite base ».",
        "Comparaison des structures : chaque commune signataire avec financements, sa structure et ses chiffres ; "
        "la fourchette (minimum–maximum) des communes d'une même structure est donnée avec le chiffre groupé. Avec "
        "si peu de communes, c'est une tendance, jamais un classement.",
    ]
