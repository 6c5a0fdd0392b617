"""q4 — « Le CUCS a-t-il permis une meilleure implication des partenaires institutionnels pour
réussir les actions et les repositionner à l'avenir ? »: everything the notebook shows,
computed from one commune's Territory.

The notebook calls `build(territoire, params)`, then shows each table as
`d.tableau(q4.vue_<name>(r), legende=…)` and each figure as `d.figure(q4.figure_<name>(r), …)`;
the French findings are generated here so that they are tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cucs_analysis.analysis import funding, motifs, partners, privacy, trends
from cucs_analysis.analysis.partners import interinstitutional_share
from cucs_analysis.present import display, labels, text
from cucs_analysis.present.labels import avec_article, libelle_domaine, majuscule
from cucs_analysis.reports import programme, rapport
from cucs_analysis.reports.rapport import Rapport, chiffre_cle

#: The four institutions the workshop named for mainstream competences.
INSTITUTIONS_CLES = ("État", "région", "département", "commune")
#: Meeting types that are collective work rather than instructions (docs/rules.md, q6).
TYPES_COLLECTIFS = ("réunion collective de travail", "groupe thématique")
#: Below this base (action-years, requests, meetings) in either period a comparison is a « petite base »
#: (docs/rules.md).
BASE_MIN = 30
#: The counts of report statements published through statistical secrecy.
COMPTES_BILANS = ("enonces_avant", "enonces_pendant", "enonces", "actions")
TYPES_PLURIELS = {
    "comité de pilotage": "comités de pilotage",
    "comité technique": "comités techniques",
    "réunion collective de travail": "réunions collectives de travail",
    "réunion de consignes": "réunions de consignes",
    "rencontre individuelle de soutien": "rencontres individuelles de soutien",
    "groupe thématique": "groupes thématiques",
}


@dataclass
class RapportQ4(Rapport):
    code_commune: str
    nom_commune: str
    signataire: bool | None  # communes.signataire_cucs (None: unknown); outside the CUCS, a comparison
    a_programme: bool  # the commune has actions and their funding in the data
    a_instances: bool
    periode: tuple[int, int]
    annee_debut_cucs: int
    instances_type: pd.DataFrame  # partners.steering_bodies by type
    instances_annee: pd.DataFrame  # by year, with part_interinstitutionnelles
    instances_type_annee: pd.DataFrame  # type × year
    presence: pd.DataFrame  # partners.institutions_presence, whole period
    presence_annee: pd.DataFrame  # institution × year
    reunions_periodes: pd.DataFrame  # trends.compare_periods: meetings per year, inter-institutional share
    cofinancement: dict  # partners.cofunding
    cofinancement_periodes: pd.DataFrame  # partners.cofunding_periods (one row)
    financement_institutions: pd.DataFrame  # funding.funding_by_source(institution, annee)
    montants_periodes: pd.DataFrame  # mean granted per year and institution, before / during
    accord: pd.DataFrame  # partners.requests_granted by institution, whole period
    accord_periodes: pd.DataFrame  # partners.requests_granted_periods
    bilans_partenaires: pd.DataFrame  # partners.partner_statements after secrecy (NaN + *_secret)
    bilans_exemples: pd.DataFrame  # partners.partner_statement_examples after secrecy
    mobilisation: pd.DataFrame  # partners.mainstream_mobilised
    actions_en_jeu: pd.DataFrame  # funding.actions_at_stake
    actions_substitution: pd.DataFrame  # running actions of domains in durable substitution
    seuil_specifique: float  # params.reprise actually used
    duree_min_reprise: int
    seuil_secret: int
    population: float | None = None  # communes.population
    euros: str = "euros courants"  # the euros of the before / during amounts (params euros_constants)
    base_min: int = BASE_MIN
    # The funding source holds only the State's share (metadata financements_perimetre:
    # etat_seul): co-funding, requested vs granted, mobilisation and takeover are n.d.
    etat_seul: bool = False
    demandes_inconnues: int = 0  # funding rows whose requested amount is unknown (left out of the rate)
    annees_thematique_inconnue: int = 0  # action-years whose domain is unknown (in no domain)
    droit_commun_sans_thematique: float = 0.0  # mainstream granted to them (€, in no domain)

    @property
    def motif_cofinancement(self) -> str | None:
        """Why co-funding, requests, mobilisation and takeover are absent: the programme's
        reason, else « non calculable » when the source holds only the State's share."""
        return self.motif_programme or (motifs.NON_CALCULABLE if self.etat_seul else None)

    def absence(self, quoi: str, table: str | None = None) -> display.Absence:
        if table == "cofinancement" and self.motif_programme is None and self.etat_seul:
            return display.Absence(f"{quoi} ({rapport.RAISON_ETAT_SEUL})", motifs.NON_CALCULABLE)
        if table == "cofinancement":
            table = None
        if self.signataire is None and (table or self.TABLE_ABSENCE) in ("programme", "instances"):
            motif = getattr(self, f"motif_{table or self.TABLE_ABSENCE}")
            if motif == motifs.DONNEE_ABSENTE:
                return display.Absence(f"{quoi} ({rapport.SIGNATAIRE_INCONNU}, données absentes)", motif)
        return super().absence(quoi, table)

    # absence(quoi, table): table `programme` (default), `instances` or `bilans` (rapport.Rapport)

    @property
    def motif_instances(self) -> str | None:
        """Why the meetings are absent (« hors CUCS », « données non disponibles »), or None."""
        return self.motif_table(self.a_instances)

    @property
    def motif_bilans(self) -> str | None:
        return self.motif_table(not self.bilans_partenaires.empty)

    @property
    def part_cofinancees(self) -> float | None:
        p = self.cofinancement.get("part_actions_cofinancees")
        return None if p is None or pd.isna(p) else float(p)

    def resultats(self) -> dict:
        """The q4 keys of the results contract (DESIGN.md §6), with `verdict`."""
        it = self.instances_type
        inst = self.cofinancement.get("institutions", pd.DataFrame())
        par_annee = self.cofinancement.get("par_annee", pd.DataFrame())
        m = self.mobilisation
        return {
            "instances": [
                {"type": str(t), "nombre": int(n)} for t, n in zip(it["type"], it["nombre"], strict=True)
            ],
            "instances_motif": self.motif_instances,
            "reunions_periodes": _periodes_json(self.reunions_periodes, "mesure", self.motif_instances),
            "cofinancement": {
                "part_actions_cofinancees": self.part_cofinancees,
                "motif": self.motif_cofinancement,
                "raison": rapport.RAISON_ETAT_SEUL
                if self.motif_cofinancement == motifs.NON_CALCULABLE
                else None,
                "institutions": [
                    {
                        "institution": str(row.institution),
                        "actions_financees": int(row.actions_financees),
                        "actions_cofinancees": int(row.actions_cofinancees),
                        "montant_accorde": float(row.montant_accorde),
                    }
                    for row in inst.itertuples()
                ],
                "par_annee": [
                    {
                        "annee": int(row.annee),
                        "actions_financees": int(row.actions_financees),
                        "actions_cofinancees": int(row.actions_cofinancees),
                        "part": float(row.part),
                    }
                    for row in par_annee.itertuples()
                ],
                "periodes": (
                    _periodes_json(self.cofinancement_periodes, None, self.motif_cofinancement) or [None]
                )[0],
            },
            "montants_periodes": _periodes_json(self.montants_periodes, "institution", self.motif_programme),
            "accord_demandes": [
                {
                    "institution": str(row.institution),
                    "demandes": int(row.demandes),
                    "demandes_reduites": int(row.demandes_reduites),
                    "demandes_refusees": int(row.demandes_refusees),
                    "montant_demande": float(row.montant_demande),
                    "montant_accorde": float(row.montant_accorde),
                    "taux_accord": float(row.taux_accord),
                }
                for row in self.accord.itertuples()
            ],
            "accord_periodes": _periodes_json(self.accord_periodes, "institution", self.motif_cofinancement),
            "accord_motif": self.motif_cofinancement,
            "demandes_inconnues": self.demandes_inconnues,
            "bilans_partenaires": _bilans_json(self.bilans_partenaires),
            "bilans_motif": self.motif_bilans,
            "mobilisation": [
                {"institution": str(i), "domaine": str(d), "montant": float(v)}
                for i, d, v in zip(m["institution"], m["domaine"], m["montant"], strict=True)
            ],
            "mobilisation_motif": self.motif_cofinancement,
            "perimetre_financements": "etat_seul" if self.etat_seul else "complet",
            # null when the data leave it unknown (the pipeline writes only a known status).
            "signataire_cucs": self.signataire,
            "verdict": self.verdict,
        }


#: The columns of a before / during row in the results (`rapport.periodes_json`), those beyond
#: `trends.PERIODE_COLUMNS` when the table has them.
EN_PLUS_PERIODES = ("demandes_avant", "demandes_pendant", "sens")


def _periodes_json(df: pd.DataFrame, cle: str | None, motif: str | None) -> list[dict]:
    colonnes = [*trends.PERIODE_COLUMNS, *(c for c in EN_PLUS_PERIODES if c in df.columns)]
    return rapport.periodes_json(df, cle, motif, colonnes)


def _bilans_json(b: pd.DataFrame) -> list[dict]:
    rows = []
    for row in b.to_dict(orient="records"):
        d = {"theme": row["theme"], "categorie": row["categorie"]}
        secret = False
        for c in COMPTES_BILANS:
            hidden = bool(row[f"{c}_secret"])
            d[c] = None if hidden else rapport.nombre_json(row[c])
            secret |= hidden
        d["motif"] = motifs.SECRET if secret else None
        rows.append(d)
    return rows


# --- computations ------------------------------------------------------------------------------


def _vide(*cols: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(cols))


def _secret(df: pd.DataFrame, cols: list[str], seuil: int, total: str | None = None) -> pd.DataFrame:
    """Counts of reports under the secrecy threshold hidden (NaN) with a `<col>_secret` flag each;
    with `total`, the column totals are taken as published (secondary secrecy)."""
    return privacy.secret_columns(df, cols, seuil, "none" if total is None else "both", total)


def _reunions_periodes(by_year: pd.DataFrame, kw: dict) -> pd.DataFrame:
    """Meetings per year (mean level) and the inter-institutional share (pooled), before / during."""
    if by_year.empty:
        return _vide("mesure", *trends.PERIODE_COLUMNS)
    y = by_year.assign(inter=by_year["part_interinstitutionnelles"] * by_year["nombre"])
    n = trends.compare_periods(y, valeur="nombre", **kw).assign(mesure="reunions_par_an")
    p = trends.compare_periods(y, numerateur="inter", denominateur="nombre", **kw).assign(
        mesure="part_interinstitutionnelles"
    )
    return pd.concat([n, p], ignore_index=True)[["mesure", *trends.PERIODE_COLUMNS]]


def _par_habitant_pendant(r: RapportQ4) -> tuple[float, float | None] | None:
    """Mean amount granted per year to the actions during the contract (all institutions), and
    per inhabitant of the commune; None without a programme."""
    m = r.montants_periodes
    if m.empty or m["valeur_pendant"].isna().all():
        return None
    total = float(m["valeur_pendant"].sum())
    return total, (None if r.population is None else total / r.population)


def _sans_thematique(actions: pd.DataFrame, fin: pd.DataFrame) -> dict:
    """The action-years of unknown domain and the mainstream granted to them (in no domain)."""
    sans = actions.loc[actions["thematique"].isna(), ["id_action", "annee"]].drop_duplicates()
    if sans.empty:
        return {}
    dc = fin[fin["type_credit"] == funding.DROIT_COMMUN].merge(sans, on=["id_action", "annee"])
    return {
        "annees_thematique_inconnue": len(sans),
        "droit_commun_sans_thematique": float(dc["montant_accorde"].sum()),
    }


def build(territoire, params) -> RapportQ4:
    code = territoire.code_commune
    nom = str((territoire.commune or {}).get("nom") or code)
    actions, fin, dc, inst = (
        territoire.actions,
        territoire.financements,
        territoire.droit_commun,
        territoire.instances,
    )
    # Unknown status (None) is not « hors CUCS »: what the data hold is shown.
    signataire = rapport.statut_signataire(territoire)
    a_programme = signataire is not False and not actions.empty and fin is not None and not fin.empty
    a_instances = signataire is not False and inst is not None and not inst.empty
    etat_seul = rapport.financements_etat_seul(getattr(territoire, "metadata", None))
    debut, fin_periode = int(params.periode.debut), int(params.periode.fin)
    annee_cucs = int(params.annee_debut_cucs)
    kw = {"annee_debut_cucs": annee_cucs, "debut": debut, "fin": fin_periode}
    annees = list(range(debut, fin_periode + 1))
    seuil_sp, duree_min = float(params.reprise.seuil_specifique), int(params.reprise.duree_min_annees)
    seuil_secret = int(params.seuil_secret)
    constants, annee_euros, _, facteurs = programme.euros_des_parametres(params)

    if a_instances:
        by_type = partners.steering_bodies(inst, ("type",)).sort_values(
            "nombre", ascending=False, kind="stable"
        )
        by_type["type"] = by_type["type"].astype(str)
        by_year = partners.steering_bodies(inst, ("annee",)).merge(
            interinstitutional_share(inst, ("annee",))[["annee", "part_interinstitutionnelles"]], on="annee"
        )
        by_type_year = partners.steering_bodies(inst, ("type", "annee"))
        by_type_year["type"] = by_type_year["type"].astype(str)
        presence = partners.institutions_presence(inst, ())
        presence_annee = partners.institutions_presence(inst, ("annee",))
    else:
        by_type = _vide(
            "type", "nombre", "participants", "habitants", "part_habitants", "institutions_moyennes"
        )
        by_year = _vide(
            "annee", "nombre", "institutions_moyennes", "part_interinstitutionnelles", "part_habitants"
        )
        by_type_year = _vide("type", "annee", "nombre")
        presence = _vide("institution", "reunions", "reunions_total", "part_presence")
        presence_annee = _vide("institution", "annee", "reunions", "reunions_total", "part_presence")
    reunions_periodes = _reunions_periodes(by_year, kw)
    # Participants and residents are people: published through secrecy, with the share of
    # residents hidden wherever it is computed on a hidden count (7 participants, 14,3 % = 1 person).
    by_type = _secret(by_type, ["participants", "habitants"], seuil_secret)
    by_type["part_habitants_secret"] = by_type["participants_secret"] | by_type["habitants_secret"]
    by_type["part_habitants"] = by_type["part_habitants"].where(~by_type["part_habitants_secret"])
    by_year = _secret(by_year, ["participants", "habitants"], seuil_secret)  # the same, per year
    by_year["part_habitants_secret"] = by_year["participants_secret"] | by_year["habitants_secret"]
    by_year["part_habitants"] = by_year["part_habitants"].where(~by_year["part_habitants_secret"])

    if a_programme and not etat_seul:
        cof = partners.cofunding(fin)
        cof_periodes = partners.cofunding_periods(fin, **kw, base_min=BASE_MIN)
        sources = funding.funding_by_source(fin, ("institution", "annee"))
        sources["institution"] = sources["institution"].astype(str)
        fin_euros = fin if facteurs is None else funding.to_constant_euros(fin, facteurs, "montant_accorde")
        montants = trends.compare_periods(
            partners.granted_by_institution_year(fin_euros),
            valeur="montant_accorde",
            by=["institution"],
            **kw,
        )
        montants = montants.sort_values("valeur_pendant", ascending=False).reset_index(drop=True)
        accord = partners.requests_granted(fin, ("institution",))
        accord["institution"] = accord["institution"].astype(str)
        accord = accord.sort_values("montant_accorde", ascending=False).reset_index(drop=True)
        accord_periodes = partners.requests_granted_periods(fin, **kw, base_min=BASE_MIN)
        accord_periodes = (
            accord_periodes.set_index("institution").reindex(accord["institution"]).reset_index()
        )
        mob = partners.mainstream_mobilised(fin, dc, actions, code, annees)
        # The same typology as the question on the droit commun (constant euros when the
        # parameters say so), so both pages name the same domains in durable substitution.
        typo = programme.typologie_substitution(territoire, params).substitution
        en_jeu = funding.actions_at_stake(actions, fin, seuil_sp, duree_min)
        en_substitution = funding.actions_in_durable_domains(actions, fin, typo)
    else:
        # Outside the CUCS, without a programme in the data, or with the State's share only:
        # nothing co-funded or mobilised to describe (the State's amounts are kept below).
        cof = {
            "part_actions_cofinancees": None,
            "par_annee": _vide("annee", "actions_financees", "actions_cofinancees", "part"),
            "institutions": _vide(
                "institution", "actions_financees", "actions_cofinancees", "montant_accorde"
            ),
        }
        cof_periodes = partners.cofunding_periods(fin.iloc[0:0], **kw)
        sources = _vide("institution", "annee", "montant_accorde", "part_annee")
        montants = _vide("institution", *trends.PERIODE_COLUMNS)
        accord = partners.requests_granted(fin.iloc[0:0], ("institution",))
        accord_periodes = partners.requests_granted_periods(fin.iloc[0:0], **kw)
        mob = _vide("institution", "domaine", "montant_actions", "montant_territoire", "montant")
        en_jeu = funding.actions_at_stake(actions.iloc[0:0], fin.iloc[0:0], seuil_sp, duree_min)
        en_substitution = funding.actions_in_durable_domains(
            actions.iloc[0:0], fin.iloc[0:0], _vide("domaine", "type")
        )

    if a_programme and etat_seul:
        sources = funding.funding_by_source(fin, ("institution", "annee"))
        sources["institution"] = sources["institution"].astype(str)
        fin_euros = fin if facteurs is None else funding.to_constant_euros(fin, facteurs, "montant_accorde")
        montants = trends.compare_periods(
            partners.granted_by_institution_year(fin_euros),
            valeur="montant_accorde",
            by=["institution"],
            **kw,
        )
        montants = montants.sort_values("valeur_pendant", ascending=False).reset_index(drop=True)

    bilans = territoire.bilans if signataire is not False else None
    stats = partners.partner_statements(bilans, annee_debut_cucs=annee_cucs)
    stats = _secret(stats, ["enonces_avant", "enonces_pendant", "enonces"], seuil_secret, total="enonces")
    stats = _secret(stats, ["actions"], seuil_secret)
    exemples = partners.partner_statement_examples(bilans)
    exemples = _secret(exemples, ["enonces", "actions"], seuil_secret)

    r = RapportQ4(
        code_commune=code,
        nom_commune=nom,
        signataire=signataire,
        a_programme=a_programme,
        a_instances=a_instances,
        periode=(debut, fin_periode),
        annee_debut_cucs=annee_cucs,
        instances_type=by_type.reset_index(drop=True),
        instances_annee=by_year,
        instances_type_annee=by_type_year,
        presence=presence,
        presence_annee=presence_annee,
        reunions_periodes=reunions_periodes,
        cofinancement=cof,
        cofinancement_periodes=cof_periodes,
        financement_institutions=sources,
        montants_periodes=montants,
        accord=accord,
        accord_periodes=accord_periodes,
        bilans_partenaires=stats,
        bilans_exemples=exemples,
        mobilisation=mob,
        actions_en_jeu=en_jeu,
        actions_substitution=en_substitution,
        seuil_specifique=seuil_sp,
        duree_min_reprise=duree_min,
        seuil_secret=seuil_secret,
        population=rapport.population_commune(territoire),
        euros=programme.libelle_euros(constants, annee_euros),
        etat_seul=etat_seul,
        demandes_inconnues=int(pd.to_numeric(fin["montant_demande"], errors="coerce").isna().sum())
        if a_programme and not etat_seul and "montant_demande" in fin
        else 0,
        **_sans_thematique(actions, fin) if a_programme and not etat_seul else {},
    )
    _narrate(r)
    return r


# --- French sentences ------------------------------------------------------------------------------

#: The notebook's section headings (exact text of its « ## » lines): the verdict links to one.
SECTIONS = {
    "en_bref": "En bref",
    "instances": "1. Les instances de pilotage et de travail interinstitutionnelles",
    "bilans": "2. Réussites et points de blocage de la coopération dans les bilans",
    "cofinancement": "3. Les cofinancements par institution et leur évolution",
    "accord": "4. Les montants demandés et accordés par institution",
    "mobilisation": "5. Les compétences de droit commun mobilisées par institution",
    "reprise": "6. Les actions dont la reprise est en jeu (effet levier)",
}
#: What each section describes, for the one « hors CUCS » sentence of a non-signatory commune.
OBJETS_SECTIONS = {
    "instances": "le pilotage interinstitutionnel du CUCS",
    "bilans": "l'analyse des bilans des actions du CUCS",
    "cofinancement": "le cofinancement des actions du CUCS",
    "accord": "la comparaison des montants demandés et accordés aux actions du CUCS",
    "mobilisation": "la mobilisation du droit commun sur les actions du CUCS",
    "reprise": "la reprise des actions du CUCS par le droit commun",
}
CATEGORIES_BILANS = {
    "réussite": ("réussite", "réussites"),
    "blocage": ("blocage", "blocages"),
    "difficulté": ("difficulté", "difficultés"),
    "écart expliqué": ("écart expliqué", "écarts expliqués"),
}
#: Pronoun of each institution (agreement of « il / elle » in the questions for the debate).
PRONOMS = {"région": "elle", "commune": "elle", "CAF": "elle"}


def _reserve_euros(r: RapportQ4) -> str:
    """Which euros each figure is in (params euros_constants)."""
    if r.euros == "euros courants":
        return (
            "Les montants sont en euros courants (non corrigés de l'inflation) : comparer une période à l'autre "
            "surestime un peu la hausse réelle."
        )
    return (
        f"Les montants moyens par an avant et pendant le CUCS et les montants par habitant sont en {r.euros} "
        "(déflatés par l'indice des prix à la consommation) ; les totaux sur la période, les montants demandés et "
        "accordés et le droit commun mobilisé sont en euros courants."
    )


def _domaines(doms: list[str]) -> str:
    # Quoted: the labels themselves contain "et".
    return text.liste_fr([f"« {text.minuscule_initiale(libelle_domaine(d))} »" for d in doms])


def _ecart(row) -> str:
    """The difference in points as the reader recomputes it from the two displayed rates."""
    return text.points(text.difference_affichee(row["valeur_avant"], row["valeur_pendant"], 1))


def _petite_base(r: RapportQ4, row, unite: str, pluriel_: str) -> str:
    """« Petite base : … » naming the period(s) whose base is below `base_min`, or ""."""
    if not bool(row["petite_base"]):
        return ""
    cols = (("avant", "denominateur_avant", r.avant), ("pendant", "denominateur_pendant", r.pendant))
    petites = [
        f"la période {lib} ne compte que {text.pluriel(row[c], unite, pluriel_)}"
        for _, c, lib in cols
        if row[c] < r.base_min
    ]
    return (
        f"Petite base : {text.liste_fr(petites)} (moins de {text.nombre(r.base_min)}) ; l'écart est à lire "
        "avec prudence."
    )


def _phrase_cofinancement_periodes(r: RapportQ4) -> list[str]:
    cp = r.cofinancement_periodes
    if cp.empty:
        return []
    row = cp.iloc[0]
    pendant = (
        f"{r.pendant}, elle est de {text.pourcentage(row['valeur_pendant'])} "
        f"({text.nombre(row['numerateur_pendant'])} sur {text.nombre(row['denominateur_pendant'])})"
    )
    if not bool(row["avant_testable"]):
        return [
            f"La part des actions cofinancées est de {text.pourcentage(row['valeur_pendant'])} {r.pendant} "
            f"({text.parmi(row['numerateur_pendant'], row['denominateur_pendant'], 'action-année', 'actions-années', feminin=True)}) ; "
            "aucune action n'est renseignée avant le CUCS : l'évolution ne peut pas être testée."
        ]
    out = [
        f"{majuscule(r.avant)}, la part des actions cofinancées est de {text.pourcentage(row['valeur_avant'])} "
        f"({text.parmi(row['numerateur_avant'], row['denominateur_avant'], 'action-année', 'actions-années', feminin=True)}) ; "
        f"{pendant}, soit {_ecart(row)}."
    ]
    sens = row["sens"]
    if sens == "stable":
        out.append(
            "Cet écart reste dans la marge d'incertitude : les intervalles de confiance à 95 % des deux périodes se "
            "recouvrent."
        )
    elif sens in ("hausse", "baisse"):
        out.append(
            f"La {sens} est nette : les intervalles de confiance à 95 % des deux périodes ne se recouvrent pas."
        )
    if pb := _petite_base(r, row, "action-année", "actions-années"):
        out.append(pb)
    return out


def _taux_cles(r: RapportQ4) -> pd.DataFrame:
    """The key institutions' granted / requested rates during the contract, lowest first."""
    a = r.accord_periodes
    a = a[a["institution"].isin(INSTITUTIONS_CLES) & a["valeur_pendant"].notna()]
    return a.sort_values(["valeur_pendant", "institution"]).reset_index(drop=True)


def _narrate_hors_cucs(r: RapportQ4) -> None:
    phrase = labels.phrase_hors_cucs(
        r.nom_commune, "l'implication des partenaires institutionnels dans le CUCS"
    )
    r.constats.append(phrase)
    for section, objet in OBJETS_SECTIONS.items():
        r.textes[section] = [f"Hors CUCS : {objet} est sans objet à {r.nom_commune}."]
    r.reserves.append(
        f"{r.nom_commune} n'étant pas signataire, ses chiffres ne sont pas des résultats du CUCS ; elle sert de "
        "comparaison aux communes signataires."
    )
    r.debat.append(
        f"Hors CUCS : {r.nom_commune} n'a pas de programme CUCS dont les enseignements seraient à remonter au niveau "
        "décisionnel."
    )


def _narrate_instances(r: RapportQ4) -> None:
    if not r.a_instances:
        if r.signataire is not False:
            r.reserves.append(
                "Les réunions des instances ne sont pas renseignées pour cette commune (données non disponibles) : "
                "cela ne veut pas dire qu'aucune réunion n'a eu lieu."
            )
        return
    it, ia = r.instances_type, r.instances_annee
    total = int(it["nombre"].sum())
    detail = text.liste_fr(
        [text.pluriel(n, t, TYPES_PLURIELS.get(t)) for t, n in zip(it["type"], it["nombre"], strict=True)]
    )
    r.constat(
        "instances",
        f"Les comptes rendus d'instances recensent {text.pluriel(total, 'réunion')} d'instances de pilotage et de travail sur "
        f"{text.annee_periode(ia['annee'].min(), ia['annee'].max())} : {detail}.",
    )
    rp = r.reunions_periodes.set_index("mesure")
    n, p = rp.loc["reunions_par_an"], rp.loc["part_interinstitutionnelles"]
    if bool(n["avant_testable"]):
        r.constat(
            "instances",
            f"La commune tient en moyenne {text.nombre(n['valeur_avant'], 1)} réunions par an {r.avant} et "
            f"{text.nombre(n['valeur_pendant'], 1)} {r.pendant} ; la part des réunions qui associent au moins deux "
            f"institutions passe de {text.pourcentage(p['valeur_avant'])} "
            f"({text.nombre(p['numerateur_avant'])} sur {text.nombre(p['denominateur_avant'])}) à "
            f"{text.pourcentage(p['valeur_pendant'])} ({text.nombre(p['numerateur_pendant'])} sur "
            f"{text.nombre(p['denominateur_pendant'])}), soit {_ecart(p)}.",
        )
        if pb := _petite_base(r, p, "réunion", "réunions"):
            r.constat("instances", pb)
    else:
        r.constat(
            "instances",
            f"{majuscule(r.pendant)}, la commune tient en moyenne {text.nombre(n['valeur_pendant'], 1)} réunions "
            f"par an ; {text.parmi(p['numerateur_pendant'], p['denominateur_pendant'], 'réunion', feminin=True)} "
            f"associent au moins deux institutions ({text.pourcentage(p['valeur_pendant'])}).",
        )
        r.constat(
            "instances",
            f"Les réunions ne sont consignées qu'à partir de {text.annee(ia['annee'].min())} : l'avant-CUCS ne peut "
            "pas être comparé, et aucune évolution due au contrat ne peut être testée sur les instances.",
        )
    pr = r.presence
    if not pr.empty:
        cles = pr[pr["institution"].isin(INSTITUTIONS_CLES)]
        r.constat(
            "instances",
            "Les institutions assistent aux réunions dans ces proportions : "
            + text.liste_fr(
                [
                    f"{avec_article(i)} {text.pourcentage(100 * v)}"
                    for i, v in zip(cles["institution"], cles["part_presence"], strict=True)
                ]
            )
            + f" (sur {text.pluriel(total, 'réunion')}).",
        )


def _narrate_bilans(r: RapportQ4) -> None:
    b = r.bilans_partenaires
    if b.empty:
        if r.signataire is not False:
            r.reserves.append(
                "Aucun énoncé des bilans d'activité ne porte sur le partenariat ou le financement dans cette commune "
                "(données non disponibles)."
            )
        return
    ex = r.bilans_exemples
    for theme, g in b.groupby("theme", sort=False):
        parts = []
        for row in g.to_dict(orient="records"):
            sg, pl = CATEGORIES_BILANS.get(row["categorie"], (row["categorie"], row["categorie"] + "s"))
            if row["enonces_secret"]:
                n = f"des {pl} (nombre soumis au secret statistique)"
            else:
                n = text.pluriel(row["enonces"], sg, pl)
            parts.append(n)
        r.constat(
            "bilans",
            f"Sur le thème « {theme} », les bilans d'activité codent {text.liste_fr(parts)}.",
        )
        exemples = ex[ex["theme"] == theme]
        for row in exemples.drop_duplicates("categorie").to_dict(orient="records"):
            sg, pl = CATEGORIES_BILANS.get(row["categorie"], (row["categorie"], row["categorie"] + "s"))
            r.constat(
                "bilans",
                f"Exemple {text.de(sg)} ({theme}) : « {row['texte']} » "
                f"({text.annee_periode(row['annee_min'], row['annee_max'])}).",
            )


def _narrate_cofinancement(r: RapportQ4) -> None:
    part = r.part_cofinancees
    if part is None:
        return
    pa = r.cofinancement["par_annee"]
    n, d = int(pa["actions_cofinancees"].sum()), int(pa["actions_financees"].sum())
    r.constat(
        "cofinancement",
        f"Sur {text.annee_periode(pa['annee'].min(), pa['annee'].max())}, "
        f"{text.parmi(n, d, 'action-année financée', 'actions-années financées', feminin=True)} "
        f"{'reçoivent' if n >= 2 else 'reçoit'} des crédits d'au moins deux institutions ({text.pourcentage(100 * part)}).",
    )
    for phrase in _phrase_cofinancement_periodes(r):
        r.constat("cofinancement", phrase)
    mp = r.montants_periodes
    cles = mp[mp["institution"].isin(INSTITUTIONS_CLES)]
    if not cles.empty and bool(cles["avant_testable"].any()):
        r.constat(
            "cofinancement",
            f"Montant moyen accordé par an aux actions, {r.avant} puis {r.pendant} : "
            + text.liste_fr(
                [
                    f"{avec_article(i)} {text.euros(a)} puis {text.euros(b)}"
                    for i, a, b in zip(
                        cles["institution"], cles["valeur_avant"], cles["valeur_pendant"], strict=True
                    )
                ]
            )
            + f" ({r.euros}).",
        )
    ph = _par_habitant_pendant(r)
    if ph is not None and ph[1] is not None:
        r.constat(
            "cofinancement",
            f"{majuscule(r.pendant)}, les institutions accordent en moyenne {text.euros(ph[0])} par an aux actions, "
            f"soit {text.euros(ph[1])} par habitant {text.de(r.nom_commune)} ({r.euros}).",
        )
    ci = r.cofinancement["institutions"]
    if not ci.empty:
        top = ci.sort_values("montant_accorde", ascending=False).iloc[0]
        r.constat(
            "cofinancement",
            f"Le premier financeur des actions est {avec_article(top['institution'])} "
            f"({text.euros(top['montant_accorde'])} accordés à {text.pluriel(int(top['actions_financees']), 'action')}).",
        )


def _narrate_accord(r: RapportQ4) -> None:
    a = r.accord
    if a.empty:
        return
    dem, acc = a["montant_demande"].sum(), a["montant_accorde"].sum()
    n, red, ref = (
        int(a["demandes"].sum()),
        int(a["demandes_reduites"].sum()),
        int(a["demandes_refusees"].sum()),
    )
    r.constat(
        "accord",
        f"Sur {text.annee_periode(*r.periode)}, les institutions accordent {text.pourcentage(100 * acc / dem)} des "
        f"montants demandés ({text.euros(acc)} sur {text.euros(dem)}) ; "
        f"{text.parmi(red, n, 'demande', feminin=True)} {'sont réduites' if red >= 2 else 'est réduite'} et "
        f"{text.aucun(ref, 'demande refusée', 'demandes refusées', feminin=True)}.",
    )
    t = _taux_cles(r)
    if not t.empty:
        r.constat(
            "accord",
            f"{majuscule(r.pendant)}, la part des montants demandés qui est accordée vaut "
            + text.liste_fr(
                [
                    f"{text.pourcentage(v)} pour {avec_article(i)} ({text.pluriel(k, 'demande')})"
                    for i, v, k in zip(
                        t["institution"], t["valeur_pendant"], t["demandes_pendant"], strict=True
                    )
                ]
            )
            + ".",
        )
    ap = r.accord_periodes
    ap = ap[ap["avant_testable"].astype(bool) & ap["valeur_avant"].notna() & ap["valeur_pendant"].notna()]
    if not ap.empty:
        ecarts = rapport.ecarts_affiches(ap["valeur_avant"], ap["valeur_pendant"])
        petites = int(ap["petite_base"].sum())
        phrase = (
            f"Entre les deux périodes, l'écart de ce taux va de {text.points(min(ecarts))} à {text.points(max(ecarts))} "
            "selon l'institution"
        )
        if petites:
            phrase += (
                f" ; pour {text.parmi(petites, len(ap), 'institution', feminin=True)}, une période compte moins de "
                f"{text.nombre(r.base_min)} demandes (petite base, à lire avec prudence)"
            )
        r.constat("accord", phrase + ".")


def _narrate_mobilisation(r: RapportQ4) -> None:
    m = r.mobilisation
    if m.empty:
        return
    per = (
        m.groupby("institution")[["montant_actions", "montant"]].sum().sort_values("montant", ascending=False)
    )
    r.constat(
        "mobilisation",
        f"Sur {text.annee_periode(*r.periode)}, les institutions mobilisent ce droit commun : "
        + text.liste_fr(
            [
                f"{avec_article(i)} {text.euros_compacts(v)} (dont {text.euros_compacts(a)} sur les actions)"
                for i, (a, v) in per.loc[[i for i in INSTITUTIONS_CLES if i in per.index]].iterrows()
            ]
        )
        + ".",
    )
    for inst, doms in _domaines_sans_mobilisation(m).items():
        r.constat(
            "mobilisation",
            f"{majuscule(avec_article(inst))} ne mobilise aucun crédit de droit commun en {_domaines(doms)}.",
        )


def _narrate_reprise(r: RapportQ4) -> None:
    if not r.a_programme:
        return
    n = len(r.actions_en_jeu)
    k = len(r.actions_substitution)
    debut = f"{text.pluriel(n, 'action dépend', 'actions dépendent')}" if n else "Aucune action ne dépend"
    r.constat(
        "reprise",
        f"{debut} à {text.pourcentage(100 * r.seuil_specifique, 0)} "
        f"ou plus des crédits spécifiques depuis au moins {text.pluriel(r.duree_min_reprise, 'an')} ; "
        f"{text.aucun(k, 'action en cours', 'actions en cours', feminin=True)} "
        f"{'relèvent' if k >= 2 else 'relève'} de domaines où le droit commun s'est retiré durablement.",
    )


def _debat(r: RapportQ4) -> None:
    """Questions for the collective debate, generated from the requests granted and the bilans."""
    t = _taux_cles(r)
    if not t.empty:
        low = t.iloc[0]
        il = PRONOMS.get(low["institution"], "il")
        r.debat.append(
            f"{majuscule(avec_article(low['institution']))} accorde {text.pourcentage(low['valeur_pendant'])} des "
            f"montants demandés {r.pendant}, le taux le plus faible des quatre institutions : quelles demandes "
            f"réduit-{il}, pour quelles raisons, et faut-il en faire un objet de négociation ?"
        )
    ex = r.bilans_exemples
    for categorie, question in (
        ("blocage", "qui peut lever ce blocage, et à quel niveau de décision faut-il le remonter ?"),
        (
            "réussite",
            "quelles conditions de réussite de cette coopération faut-il transposer aux autres actions ?",
        ),
    ):
        e = ex[ex["categorie"] == categorie]
        if not e.empty:
            r.debat.append(f"Les bilans rapportent : « {e.iloc[0]['texte']} » ; {question}")
    fin = ex[(ex["theme"] == "financement") & ex["texte"].str.contains("inférieur à la demande", regex=False)]
    if not fin.empty and not r.accord.empty:
        r.debat.append(
            "Les bilans relient des écarts de réalisation à un financement inférieur à la demande : les réductions "
            "de montants sont-elles concertées entre financeurs, ou subies par les opérateurs ?"
        )
    p = r.presence
    if not p.empty:
        cles = p[p["institution"].isin(INSTITUTIONS_CLES)].sort_values("part_presence")
        if not cles.empty:
            low = cles.iloc[0]
            e = "e" if PRONOMS.get(low["institution"], "il") == "elle" else ""
            r.debat.append(
                f"{majuscule(avec_article(low['institution']))} n'assiste qu'à "
                f"{text.pourcentage(100 * low['part_presence'])} des réunions : à quelles instances doit-{PRONOMS.get(low['institution'], 'il')} "
                f"être associé{e}, et avec quel mandat ?"
            )
    if r.a_instances:
        it = r.instances_type.set_index("type")["nombre"]
        coll = int(it.reindex(list(TYPES_COLLECTIFS)).fillna(0).sum())
        cons = int(it.get("réunion de consignes", 0))
        if coll + cons > 0:
            r.debat.append(
                f"La commune a tenu {text.pluriel(coll, 'réunion')} de travail collectif et "
                f"{text.pluriel(cons, 'réunion')} de consignes : quelles conditions de réussite et quels points de "
                "blocage de ces coopérations faut-il remonter au comité de pilotage ?"
            )
    m = r.mobilisation
    if not m.empty:
        for inst, doms in _domaines_sans_mobilisation(m).items():
            r.debat.append(
                f"{majuscule(avec_article(inst))} ne mobilise pas de droit commun en {_domaines(doms)} : est-ce hors "
                "de ses compétences, ou un objectif de négociation ?"
            )
    top = r.actions_substitution.head(3)
    if not top.empty:
        r.debat.append(
            "Conditions de reprise à l'avenir : "
            + text.liste_fr(
                [
                    f"« {i} » ({text.euros(v)} de crédits spécifiques)"
                    for i, v in zip(top["intitule"], top["montant_specifique"], strict=True)
                ]
            )
            + " relèvent de domaines où le droit commun s'est retiré : quelle institution s'engage à les reprendre ?"
        )
    if r.signataire is not False:
        r.debat.append(
            "Quels enseignements remonter au niveau décisionnel, à l'échelle communale voire régionale (comité de "
            "pilotage régional), pour en faire un objectif de négociation ?"
        )


def _verdict(r: RapportQ4) -> dict:
    """One line that answers the question for this commune, with its reason and its section."""
    if r.signataire is False:
        return rapport.verdict_hors_cucs("Partenaires", r.nom_commune, SECTIONS["en_bref"])
    if not r.a_programme and r.signataire is None:
        return rapport.verdict_donnee_absente(
            "Partenaires",
            f"{rapport.SIGNATAIRE_INCONNU} et financements des actions absents des données",
            SECTIONS["cofinancement"],
        )
    if r.a_programme and r.etat_seul:
        n_reunions = int(r.instances_type["nombre"].sum()) if r.a_instances else 0
        reunions = (
            f" ; {text.pluriel(n_reunions, 'réunion')} d'instances consignée{'s' if n_reunions > 1 else ''}"
        )
        return rapport.verdict(
            f"Partenaires : cofinancement n.d. — {rapport.RAISON_ETAT_SEUL}{reunions if n_reunions else ''}.",
            SECTIONS["cofinancement"],
            motifs.NON_CALCULABLE,
        )
    cp = r.cofinancement_periodes
    if not r.a_programme or cp.empty:
        return rapport.verdict_donnee_absente(
            "Partenaires", "financements des actions absents des données", SECTIONS["cofinancement"]
        )
    row = cp.iloc[0]
    if bool(row["avant_testable"]):
        jugement = {
            "hausse": "cofinancement en hausse nette",
            "baisse": "cofinancement en baisse nette",
            "stable": "cofinancement sans changement net",
        }[row["sens"]]
        if bool(row["petite_base"]):
            jugement += (
                " (petite base avant le CUCS)" if row["denominateur_avant"] < r.base_min else " (petite base)"
            )
        chiffre = (
            f"{text.pourcentage(row['valeur_avant'])} des actions cofinancées avant le CUCS "
            f"({text.nombre(row['numerateur_avant'])}/{text.nombre(row['denominateur_avant'])}), "
            f"{text.pourcentage(row['valeur_pendant'])} pendant "
            f"({text.nombre(row['numerateur_pendant'])}/{text.nombre(row['denominateur_pendant'])})"
        )
    else:
        jugement = "évolution non testable (pas de donnée avant le CUCS)"
        chiffre = f"{text.pourcentage(row['valeur_pendant'])} des actions cofinancées pendant le CUCS"
    texte = f"Partenaires : {jugement} — {chiffre}"
    t = _taux_cles(r)
    if not t.empty:
        low = t.iloc[0]
        texte += (
            f" ; {avec_article(low['institution'])} accorde {text.pourcentage(low['valeur_pendant'])} des montants "
            "demandés, le taux le plus faible"
        )
    return rapport.verdict(texte + ".", SECTIONS["cofinancement"])


def _narrate_etat_seul(r: RapportQ4) -> None:
    """The sections that need every funder's amounts, when the source holds only the State's."""
    ph = _par_habitant_pendant(r)
    if ph is not None:
        r.constat(
            "cofinancement",
            f"{majuscule(r.pendant)}, l'État (programme 147) accorde en moyenne {text.euros(ph[0])} par an aux "
            "actions"
            + (
                f", soit {text.euros(ph[1])} par habitant {text.de(r.nom_commune)}"
                if ph[1] is not None
                else ""
            )
            + f" ({r.euros}).",
        )
    for section, quoi in (
        ("cofinancement", "Part des actions cofinancées"),
        ("accord", "Part des montants demandés qui est accordée"),
        ("mobilisation", "Droit commun mobilisé sur les actions"),
        ("reprise", "Actions dont la poursuite dépend d'une reprise par le droit commun"),
    ):
        r.constat(section, rapport.nd_etat_seul(quoi))


def _narrate(r: RapportQ4) -> None:
    if r.signataire is False:
        _narrate_hors_cucs(r)
    else:
        if not r.a_programme and r.signataire is None:
            r.constat("general", rapport.phrase_signataire_inconnu(r.nom_commune))
        if not r.a_programme:
            r.constat(
                "general",
                f"La programmation CUCS {text.de(r.nom_commune)} est absente des données (données non disponibles) : "
                "ni cofinancement des actions, ni mobilisation du droit commun ne peuvent être décrits.",
            )
        _narrate_instances(r)
        _narrate_bilans(r)
        if r.a_programme and r.etat_seul:
            _narrate_etat_seul(r)
        else:
            _narrate_cofinancement(r)
            _narrate_accord(r)
            _narrate_mobilisation(r)
            _narrate_reprise(r)
        if r.annees_thematique_inconnue:
            n = r.annees_thematique_inconnue
            r.dit(
                "mobilisation",
                f"Thématique non renseignée pour {text.pluriel(n, 'action-année', 'actions-années')} : "
                f"{text.euros(r.droit_commun_sans_thematique)} de droit commun "
                f"{'lui' if n < 2 else 'leur'} sont accordés sans être rattachés à un domaine.",
            )
        if r.demandes_inconnues:
            n = r.demandes_inconnues
            r.dit(
                "accord",
                f"Montant demandé non renseigné pour {text.pluriel(n, 'financement', 'financements')} : "
                f"{'il est laissé' if n < 2 else 'ils sont laissés'} hors de la part accordée (ni 0, ni égal à "
                "l'accordé).",
            )

    # Caveats (limits stated where they apply).
    if r.signataire is None and (r.a_programme or r.a_instances):
        r.reserves.append(
            f"{majuscule(rapport.SIGNATAIRE_INCONNU)} pour {r.nom_commune} dans la table des communes : les chiffres "
            "de la page sont ceux que les données contiennent pour elle."
        )
    if r.signataire is not False:
        r.reserves.append(
            "Les instances sont celles que les bilans mentionnent : une réunion non consignée n'est pas comptée, et la "
            "présence d'une institution ne dit rien de la qualité de sa participation."
        )
    if r.a_programme and r.etat_seul:
        r.reserves.append(_reserve_euros(r))
        r.reserves.append(
            f"Financements : {rapport.RAISON_ETAT_SEUL}. Les montants de la page sont ceux de l'État ; le "
            "cofinancement, la part accordée des demandes, le droit commun mobilisé et les actions à reprendre "
            "sont « n.d. »."
        )
    elif r.a_programme:
        r.reserves.append(_reserve_euros(r))
        r.reserves.append(
            "Le droit commun mobilisé additionne deux sources distinctes : les cofinancements de droit commun des "
            "actions programmées et les crédits de droit commun déclarés pour la commune. Ces crédits sont déclarés "
            "pour toute la commune, pas par quartier : ils ne disent pas ce qui bénéficie aux quartiers prioritaires."
        )
    if not r.bilans_partenaires.empty:
        r.reserves.append(
            "Les énoncés des bilans sont ceux que les opérateurs ont rédigés et que le centre de ressources a codés : un "
            f"bilan non remis ne compte pas ; les nombres d'énoncés inférieurs à {text.nombre(r.seuil_secret)} sont "
            "soumis au secret statistique."
        )
    _debat(r)

    motif_p, motif_i, motif_c = r.motif_programme, r.motif_instances, r.motif_cofinancement
    cp = r.cofinancement_periodes
    pendant = (
        None
        if cp.empty or text.manquant(cp.iloc[0]["valeur_pendant"])
        else round(float(cp.iloc[0]["valeur_pendant"]), 1)
    )
    part = r.part_cofinancees
    a = r.accord
    taux = None if a.empty else round(100 * float(a["montant_accorde"].sum() / a["montant_demande"].sum()), 1)
    m = r.mobilisation
    ph = _par_habitant_pendant(r)

    r.chiffres_cles = [
        chiffre_cle(
            "part_cofinancees_pendant",
            "Actions cofinancées par au moins deux institutions pendant le CUCS",
            pendant,
            "%",
            motif_c,
        ),
        chiffre_cle(
            "reunions_instances",
            "Réunions d'instances de pilotage et de travail",
            int(r.instances_type["nombre"].sum()) if r.a_instances else None,
            "réunions",
            motif_i,
        ),
        chiffre_cle(
            "part_actions_cofinancees",
            "Actions cofinancées par au moins deux institutions (toute la période)",
            None if part is None else round(100 * part, 1),
            "%",
            motif_c,
        ),
        chiffre_cle("taux_accord", "Part des montants demandés qui est accordée", taux, "%", motif_c),
        chiffre_cle(
            "credits_actions_par_habitant",
            f"Crédits accordés aux actions par habitant et par an pendant le CUCS ({r.euros})"
            + (" : part de l'État seulement" if r.etat_seul else ""),
            None if ph is None or ph[1] is None else round(ph[1]),
            "€ par habitant et par an",
            motif_p,
        ),
        chiffre_cle(
            "droit_commun_actions",
            "Droit commun accordé aux actions programmées",
            float(m["montant_actions"].sum()) if not m.empty else None,
            "€",
            motif_c,
        ),
        chiffre_cle(
            "actions_en_jeu",
            "Actions dont la poursuite dépend d'une reprise par le droit commun",
            len(r.actions_en_jeu) if r.motif_cofinancement is None else None,
            "actions",
            motif_c,
        ),
    ]
    r.verdict = _verdict(r)


def _domaines_sans_mobilisation(m: pd.DataFrame) -> dict[str, list[str]]:
    """For each key institution with some mobilisation, the domains (among those where any
    institution mobilises something) where it mobilises nothing."""
    wide = m.pivot_table(
        index="institution", columns="domaine", values="montant", aggfunc="sum", fill_value=0.0
    )
    wide = wide.reindex([i for i in INSTITUTIONS_CLES if i in wide.index])
    zero = wide.eq(0).stack()
    zero = zero[zero]
    out: dict[str, list[str]] = {}
    for (inst, dom), _ in zero.items():  # a handful of cells at most
        out.setdefault(str(inst), []).append(str(dom))
    return out


# --- views: the tables the notebook shows (numbers, French headers and units) -----------------
#
# Each `vue_<name>(r)` is a `present.display.vue`; `r.tables` returns them all by name. When the
# section's data is absent for the commune (no meeting recorded, no programme), the view is
# empty and says what is missing.


COLONNES_INSTANCES_TYPE = {
    "type": ("Type de réunion", "texte"),
    "nombre": ("Réunions", "nombre"),
    "participants": ("Participants", "nombre"),
    "institutions_moyennes": ("Institutions présentes (moyenne)", "decimal"),
    "part_habitants": ("Part d'habitants", "part"),
}
COLONNES_INSTANCES_ANNEE = {
    "annee": ("Année", "annee"),
    "nombre": ("Réunions", "nombre"),
    "part_interinstitutionnelles": ("Avec au moins deux institutions", "part"),
    "institutions_moyennes": ("Institutions présentes (moyenne)", "decimal"),
    "part_habitants": ("Part d'habitants", "part"),
}
COLONNES_COFINANCEMENT_INSTITUTIONS = {
    "institution": ("Institution", "texte"),
    "actions_financees": ("Actions financées", "nombre"),
    "actions_cofinancees": ("Dont cofinancées", "nombre"),
    "montant_accorde": ("Montant accordé (euros courants)", "euros"),
}
COLONNES_COFINANCEMENT_ANNEE = {
    "annee": ("Année", "annee"),
    "actions_financees": ("Actions financées", "nombre"),
    "actions_cofinancees": ("Actions cofinancées", "nombre"),
    "part": ("Part cofinancée", "part"),
}
COLONNES_COFINANCEMENT_PERIODES = {
    "periode": ("Période", "texte"),
    "annees": ("Années observées", "nombre"),
    "denominateur": ("Actions-années financées", "nombre"),
    "numerateur": ("Dont cofinancées", "nombre"),
    "valeur": ("Part cofinancée", "pourcentage"),
    "ic_bas": ("Intervalle de confiance à 95 % : borne basse", "pourcentage"),
    "ic_haut": ("Borne haute", "pourcentage"),
    "petite_base": (f"Petite base (moins de {BASE_MIN})", "oui_non"),
}
COLONNES_MONTANTS_PERIODES = {
    "institution": ("Institution", "texte"),
    "valeur_avant": ("Montant moyen par an avant le CUCS", "euros"),
    "valeur_pendant": ("Montant moyen par an pendant le CUCS", "euros"),
    "evolution": ("Évolution", "evolution"),
}
COLONNES_ACCORD = {
    "institution": ("Institution", "texte"),
    "demandes": ("Demandes", "nombre"),
    "demandes_reduites": ("Dont réduites", "nombre"),
    "demandes_refusees": ("Dont refusées", "nombre"),
    "montant_demande": ("Montant demandé (euros courants)", "euros"),
    "montant_accorde": ("Montant accordé (euros courants)", "euros"),
    "taux_accord": ("Part accordée", "part"),
}
COLONNES_ACCORD_PERIODES = {
    "institution": ("Institution", "texte"),
    "demandes_avant": ("Demandes avant le CUCS", "nombre"),
    "valeur_avant": ("Part accordée avant", "pourcentage"),
    "demandes_pendant": ("Demandes pendant le CUCS", "nombre"),
    "valeur_pendant": ("Part accordée pendant", "pourcentage"),
    "ecart": ("Écart", "points"),
    "petite_base": (f"Petite base (moins de {BASE_MIN} demandes)", "oui_non"),
}
COLONNES_BILANS = {
    "theme": ("Thème", "texte"),
    "categorie": ("Catégorie", "texte"),
    "enonces_avant": ("Énoncés avant le CUCS", "nombre"),
    "enonces_pendant": ("Énoncés pendant le CUCS", "nombre"),
    "enonces": ("Énoncés", "nombre"),
    "actions": ("Actions concernées", "nombre"),
}
COLONNES_BILANS_EXEMPLES = {
    "theme": ("Thème", "texte"),
    "categorie": ("Catégorie", "texte"),
    "texte": ("Énoncé du bilan", "texte"),
    "enonces": ("Bilans qui le rapportent", "nombre"),
    "annees": ("Années", "texte"),
}


def vue_instances_type(r: RapportQ4) -> pd.DataFrame:
    """Meetings per type over the period: number, participants, institutions present, residents."""
    t = r.instances_type
    if r.a_instances:  # a column stays numeric unless one of its values is secret
        t = display.colonnes_avec_secret(
            t, [c for c in ("participants", "habitants", "part_habitants") if t[f"{c}_secret"].any()]
        )
    return display.vue(
        t.assign(type=t["type"].map(majuscule)) if r.a_instances else None,
        COLONNES_INSTANCES_TYPE,
        vide=r.absence("réunions des instances par type", "instances"),
    )


def vue_instances_annee(r: RapportQ4) -> pd.DataFrame:
    """Meetings per year, with the share that gathers at least two institutions."""
    t = r.instances_annee
    if r.a_instances and t["part_habitants_secret"].any():
        t = display.colonnes_avec_secret(t, ["part_habitants"])
    return display.vue(
        t if r.a_instances else None,
        COLONNES_INSTANCES_ANNEE,
        vide=r.absence("réunions des instances par année", "instances"),
    )


def vue_bilans_partenaires(r: RapportQ4) -> pd.DataFrame:
    """Coded report statements about partners, per theme × category, before / during, with
    statistical secrecy on the counts (« s »)."""
    b = r.bilans_partenaires
    df = None
    if not b.empty:
        df = display.colonnes_avec_secret(b, COMPTES_BILANS).assign(
            theme=b["theme"].map(majuscule), categorie=b["categorie"].map(majuscule)
        )
    return display.vue(df, COLONNES_BILANS, vide=r.absence("énoncés des bilans sur le partenariat", "bilans"))


def vue_bilans_exemples(r: RapportQ4) -> pd.DataFrame:
    """The statements themselves, most reported first, with how many reports give them."""
    b = r.bilans_exemples
    df = None
    if not b.empty:
        df = display.colonnes_avec_secret(b, ["enonces"]).assign(
            theme=b["theme"].map(majuscule),
            categorie=b["categorie"].map(majuscule),
            annees=[text.annee_periode(a, z) for a, z in zip(b["annee_min"], b["annee_max"], strict=True)],
        )
    return display.vue(
        df,
        COLONNES_BILANS_EXEMPLES,
        vide=r.absence("énoncés des bilans sur le partenariat", "bilans"),
    )


def vue_cofinancement_institutions(r: RapportQ4) -> pd.DataFrame:
    """Per institution: distinct actions funded, of which co-funded, and the amount granted."""
    i = r.cofinancement["institutions"]
    return display.vue(
        i.assign(institution=i["institution"].map(majuscule)) if r.motif_cofinancement is None else None,
        COLONNES_COFINANCEMENT_INSTITUTIONS,
        vide=r.absence("actions financées et cofinancées par institution", "cofinancement"),
    )


def vue_cofinancement_annee(r: RapportQ4) -> pd.DataFrame:
    """Per year: actions funded, co-funded, and the co-funded share."""
    return display.vue(
        r.cofinancement["par_annee"] if r.motif_cofinancement is None else None,
        COLONNES_COFINANCEMENT_ANNEE,
        vide=r.absence("cofinancement par année", "cofinancement"),
    )


def vue_cofinancement_periodes(r: RapportQ4) -> pd.DataFrame:
    """The co-funded share before and during the contract: one row per period, with its base
    (numerator and denominator), its 95 % interval and the small-base flag."""
    cp = r.cofinancement_periodes
    df = None
    if r.motif_cofinancement is None and not cp.empty:
        row = cp.iloc[0]
        rows = []
        for p, lib in (("avant", r.avant), ("pendant", r.pendant)):
            small = bool(row["avant_testable"]) and row[f"denominateur_{p}"] < r.base_min
            rows.append(
                {
                    "periode": majuscule(lib),
                    "annees": row[f"annees_{p}"],
                    "denominateur": row[f"denominateur_{p}"],
                    "numerateur": row[f"numerateur_{p}"],
                    "valeur": row[f"valeur_{p}"],
                    "ic_bas": row[f"ic_bas_{p}"],
                    "ic_haut": row[f"ic_haut_{p}"],
                    "petite_base": small,
                }
            )
        df = pd.DataFrame(rows)
    return display.vue(
        df,
        COLONNES_COFINANCEMENT_PERIODES,
        vide=r.absence("cofinancement avant et pendant le CUCS", "cofinancement"),
    )


def vue_montants_periodes(r: RapportQ4) -> pd.DataFrame:
    """Mean amount granted per year by each institution, before and during the contract."""
    m = r.montants_periodes
    df = None
    if r.a_programme and not m.empty:
        avant = m["valeur_avant"].where(m["valeur_avant"] > 0)
        df = m.assign(institution=m["institution"].map(majuscule), evolution=m["valeur_pendant"] / avant - 1)
    colonnes = {
        c: (f"{h} ({r.euros})" if u == "euros" else h, u) for c, (h, u) in COLONNES_MONTANTS_PERIODES.items()
    }
    return display.vue(
        df,
        colonnes,
        vide=r.absence("montants accordés par institution avant et pendant le CUCS"),
    )


def vue_accord_institutions(r: RapportQ4) -> pd.DataFrame:
    """Requested vs granted amounts per institution over the whole period, on one base."""
    a = r.accord
    return display.vue(
        a.assign(institution=a["institution"].map(majuscule))
        if r.motif_cofinancement is None and not a.empty
        else None,
        COLONNES_ACCORD,
        vide=r.absence("montants demandés et accordés par institution", "cofinancement"),
    )


def vue_accord_periodes(r: RapportQ4) -> pd.DataFrame:
    """Granted / requested per institution before and during the contract, the difference
    computed from the displayed rates, and the small-base flag."""
    a = r.accord_periodes
    df = None
    if r.motif_cofinancement is None and not a.empty:
        df = a.assign(
            institution=a["institution"].map(majuscule),
            ecart=rapport.ecarts_affiches(a["valeur_avant"], a["valeur_pendant"]),
        )
    return display.vue(
        df,
        COLONNES_ACCORD_PERIODES,
        vide=r.absence("part accordée avant et pendant le CUCS", "cofinancement"),
    )


def vue_mobilisation(r: RapportQ4) -> pd.DataFrame:
    """Mainstream means mobilised: institutions (rows, largest total first) × domains, with the
    total of each institution."""
    m = r.mobilisation
    colonnes = {"institution": ("Institution", "texte")}
    df = None
    if r.motif_cofinancement is None and not m.empty:
        wide = m.pivot_table(
            index="institution", columns="domaine", values="montant", aggfunc="sum", fill_value=0.0
        )
        colonnes |= {str(c): (libelle_domaine(c), "euros_compacts") for c in wide.columns}
        colonnes["total"] = ("Total", "euros_compacts")
        wide = wide.assign(total=wide.sum(axis=1)).sort_values("total", ascending=False)
        df = wide.rename_axis(index="institution", columns=None).reset_index()
        df.columns = [str(c) for c in df.columns]
        df["institution"] = df["institution"].map(majuscule)
    vide = (
        "droit commun mobilisé sur les actions de la commune"
        if r.motif_cofinancement is None
        else r.absence("montants de droit commun mobilisés par institution et domaine", "cofinancement")
    )
    return display.vue(df, colonnes, vide=vide)


# Shared with the other question on the programme (reports/programme.py); named here so the
# notebook and `r.tables` show them as this question's views, with q4's reason when empty.


def vue_actions_en_jeu(r: RapportQ4) -> pd.DataFrame:
    """Actions funded mostly by specific credits for several years running (reports/programme.py)."""
    v = programme.vue_actions_en_jeu(r)
    if r.motif_cofinancement is not None:
        rapport.marque_vide(v, r.absence("actions dépendant des crédits spécifiques", "cofinancement"))
    return v


def vue_actions_substitution(r: RapportQ4) -> pd.DataFrame:
    """The running actions of the domains in durable substitution (reports/programme.py)."""
    v = programme.vue_actions_substitution(r)
    if r.motif_cofinancement is not None:
        rapport.marque_vide(v, r.absence("actions des domaines en substitution durable", "cofinancement"))
    return v


# --- figures (each returns a matplotlib Figure with its French alt text, or None) ------------


def figure_instances(r: RapportQ4):
    """Stacked bars: meetings per year by type."""
    from matplotlib.ticker import MaxNLocator

    from cucs_analysis.present import plots

    t = r.instances_type_annee
    if t.empty:
        return None
    wide = t.pivot_table(index="annee", columns="type", values="nombre", aggfunc="sum", fill_value=0)
    wide = wide[wide.sum().sort_values(ascending=False).index]
    fig = plots.barres_empilees_annees(
        wide,
        "Réunions des instances de pilotage et de travail, par type",
        "Nombre de réunions",
        libelles={c: majuscule(c) for c in wide.columns},
    )
    fig.axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    tot = wide.sum(axis=1)
    return plots.set_alt(
        fig,
        f"Barres empilées par année : nombre de réunions d'instances à {r.nom_commune}, par type. Total par année : "
        + text.liste_fr([f"{int(a)} : {text.nombre(v)}" for a, v in tot.items()])
        + ".",
    )


def figure_presence(r: RapportQ4):
    """Heatmap: share of the year's meetings each institution attended."""
    from cucs_analysis.present import plots

    p = r.presence_annee
    if p.empty:
        return None
    wide = p.pivot_table(index="institution", columns="annee", values="part_presence", aggfunc="sum") * 100
    order = r.presence["institution"].tolist()
    wide = wide.reindex([i for i in order if i in wide.index])
    wide.index = [majuscule(i) for i in wide.index]
    wide.columns = [str(int(c)) for c in wide.columns]
    fig = plots.heatmap(
        wide,
        "Présence des institutions aux réunions (part des réunions de l'année)",
        "Année",
        "Institution",
        unite="%",
    )
    det = text.liste_fr(
        [
            f"{avec_article(i)} : {text.pourcentage(100 * v)}"
            for i, v in zip(r.presence["institution"], r.presence["part_presence"], strict=True)
        ]
    )
    return plots.set_alt(
        fig,
        f"Carte de chaleur : part des réunions d'instances de {r.nom_commune} auxquelles chaque institution a "
        f"assisté, par année. Sur toute la période : {det}.",
    )


def figure_cofinancement(r: RapportQ4):
    """100 % stacked bars: each institution's share of the granted funding, by year."""
    from cucs_analysis.present import plots

    s = r.financement_institutions
    if r.motif_cofinancement is not None or s.empty or s["montant_accorde"].sum() <= 0:
        return None  # with the State's share only, each institution's share is not known
    wide = (
        s.pivot_table(
            index="annee", columns="institution", values="part_annee", aggfunc="sum", fill_value=0.0
        )
        * 100
    )
    wide = wide[wide.sum().sort_values(ascending=False).index]
    fig = plots.barres_empilees_annees(
        wide,
        "Part de chaque institution dans les financements accordés aux actions",
        "Part des montants accordés",
        "%",
        libelles={c: majuscule(c) for c in wide.columns},
        ncol=4,
    )
    tot = s.groupby("institution")["montant_accorde"].sum().sort_values(ascending=False)
    det = text.liste_fr(
        [f"{avec_article(i)} {text.pourcentage(100 * v / tot.sum())}" for i, v in tot.items()]
    )
    return plots.set_alt(
        fig,
        f"Barres empilées à 100 % par année : part de chaque institution dans les montants accordés aux actions de "
        f"{r.nom_commune}. Sur toute la période : {det}.",
    )


def figure_mobilisation(r: RapportQ4):
    """Heatmap of mainstream means mobilised per institution × domain."""
    from cucs_analysis.present import plots

    m = r.mobilisation
    if m.empty or m["montant"].sum() <= 0:
        return None
    wide = m.pivot_table(
        index="institution", columns="domaine", values="montant", aggfunc="sum", fill_value=0.0
    )
    wide = wide.loc[wide.sum(axis=1).sort_values(ascending=False).index]
    wide.index = [majuscule(i) for i in wide.index]
    wide.columns = [libelle_domaine(c) for c in wide.columns]
    fig = plots.heatmap(
        wide,
        f"Droit commun mobilisé par institution et domaine, {text.annee_periode(*r.periode)}",
        "Domaine",
        "Institution",
        unite="€",
    )
    fig.axes[0].tick_params(axis="x", labelrotation=30)
    for lab in fig.axes[0].get_xticklabels():
        lab.set_ha("right")
    fig.tight_layout()
    top = m.head(3)
    det = text.liste_fr(
        [
            f"{avec_article(i)} en {text.minuscule_initiale(libelle_domaine(d))} ({text.euros_compacts(v)})"
            for i, d, v in zip(top["institution"], top["domaine"], top["montant"], strict=True)
        ]
    )
    return plots.set_alt(
        fig,
        f"Carte de chaleur : droit commun mobilisé à {r.nom_commune} (cofinancements des actions et crédits "
        f"déclarés pour la commune), par institution et domaine. Montants les plus élevés : {det}.",
    )


def sources(r: RapportQ4, params, metadata) -> list[str]:
    """The 'Sources et méthode' list, with the values actually used."""
    return [
        rapport.source_donnees(metadata),
        (
            f"Périodes comparées : {r.avant} et {r.pendant}."
            if not r.sans_avant
            else f"Périodes comparées : aucune ({text.AUCUNE_ANNEE_AVANT} : la période étudiée, "
            f"{text.annee_periode(*r.periode)}, commence avec le contrat) ; aucune évolution avant / pendant n'est "
            "calculée."
        )
        + " Une part est calculée sur chaque période entière "
        "(somme des numérateurs sur somme des dénominateurs), un montant comme une moyenne annuelle ; on ne compare "
        "jamais une première et une dernière année. L'écart affiché est calculé à partir des valeurs affichées. Une "
        f"base de moins de {text.nombre(r.base_min)} (actions-années, demandes ou réunions) dans l'une des périodes "
        "est signalée « petite base ».",
        "Instances : réunions consignées dans les bilans (date, type, institutions présentes, participants)"
        + (
            f", {text.annee_periode(r.instances_annee['annee'].min(), r.instances_annee['annee'].max())}"
            if r.a_instances and not r.instances_annee.empty and "annee" in r.instances_annee
            else ", non renseignées pour cette commune"
        )
        + ". Une réunion est dite interinstitutionnelle quand au moins deux institutions distinctes y assistent.",
        "Cofinancement : une action est cofinancée une année donnée quand au moins deux institutions distinctes lui "
        "ont accordé un montant non nul. L'évolution est jugée nette quand les intervalles de confiance à 95 % "
        "(Wilson) des deux périodes ne se recouvrent pas.",
        "Montants demandés et accordés : lignes de financement dont le montant demandé est connu et non nul ; la "
        "part accordée est la somme des montants accordés sur la somme des montants demandés de ces mêmes lignes. "
        "Une demande est réduite quand le montant accordé est inférieur au montant demandé.",
        "Bilans : énoncés codés des bilans d'activité des actions de la commune sur les thèmes « partenariat » et "
        "« financement », par catégorie (réussite, difficulté, blocage, écart expliqué) ; les nombres d'énoncés "
        "passent par le secret statistique.",
        f"Droit commun mobilisé ({text.annee_periode(*r.periode)}) : cofinancements de droit commun accordés aux "
        "actions (rattachés au domaine de l'action) plus crédits de droit commun déclarés pour toute la commune "
        "(pas par quartier).",
        f"Euros : moyennes annuelles avant et pendant le CUCS et montants par habitant en {r.euros}"
        + (" (paramètre euros_constants)" if r.euros != "euros courants" else "")
        + " ; totaux, montants demandés et accordés et droit commun mobilisé en euros courants.",
        f"Actions dont la poursuite dépend d'une reprise : actions en cours la dernière année dont les crédits "
        f"spécifiques représentent au moins {text.pourcentage(100 * r.seuil_specifique, 0)} du financement depuis au "
        f"moins {text.pluriel(r.duree_min_reprise, 'an')} de suite, et actions en cours des domaines en substitution "
        "durable (voir la question sur le droit commun).",
        rapport.source_secret(params.seuil_secret) + ".",
    ]
