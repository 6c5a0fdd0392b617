"""q4 — « Le CUCS a-t-il permis une meilleure implication des partenaires institutionnels pour
réussir les actions et les repositionner à l'avenir ? »: everything the notebook shows,
computed from one commune's Territory.

The notebook calls `build(territoire, params)`, then shows each table as
`d.tableau(q4.vue_<name>(r), legende=…)` and each figure as `d.figure(q4.figure_<name>(r), …)`;
the French findings are generated here so that they are tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cucs_analysis.analysis import funding, partners
from cucs_analysis.analysis.partners import interinstitutional_share
from cucs_analysis.present import display, text
from cucs_analysis.present.labels import avec_article, libelle_domaine, majuscule
from cucs_analysis.reports import programme
from cucs_analysis.reports.programme import manque
from cucs_analysis.reports.rapport import AvecVues

#: The four institutions the workshop named for mainstream competences.
INSTITUTIONS_CLES = ("État", "région", "département", "commune")
#: Meeting types that are collective work rather than instructions (docs/rules.md, q6).
TYPES_COLLECTIFS = ("réunion collective de travail", "groupe thématique")
TYPES_PLURIELS = {
    "comité de pilotage": "comités de pilotage",
    "comité technique": "comités techniques",
    "réunion collective de travail": "réunions collectives de travail",
    "réunion de consignes": "réunions de consignes",
    "rencontre individuelle de soutien": "rencontres individuelles de soutien",
    "groupe thématique": "groupes thématiques",
}


@dataclass
class RapportQ4(AvecVues):
    code_commune: str
    nom_commune: str
    signataire: bool  # the commune has a CUCS programme (actions) in the data
    a_instances: bool
    periode: tuple[int, int]
    instances_type: pd.DataFrame  # partners.steering_bodies by type
    instances_annee: pd.DataFrame  # by year, with part_interinstitutionnelles
    instances_type_annee: pd.DataFrame  # type × year
    presence: pd.DataFrame  # partners.institutions_presence, whole period
    presence_annee: pd.DataFrame  # institution × year
    cofinancement: dict  # partners.cofunding
    financement_institutions: pd.DataFrame  # funding.funding_by_source(institution, annee)
    mobilisation: pd.DataFrame  # partners.mainstream_mobilised
    actions_en_jeu: pd.DataFrame  # funding.actions_at_stake
    actions_substitution: pd.DataFrame  # running actions of domains in durable substitution
    seuil_specifique: float  # params.reprise actually used
    duree_min_reprise: int
    constats: list[str] = field(default_factory=list)
    reserves: list[str] = field(default_factory=list)
    debat: list[str] = field(default_factory=list)
    chiffres_cles: list[dict] = field(default_factory=list)
    textes: dict[str, list[str]] = field(default_factory=dict)

    def texte(self, section: str) -> list[str]:
        """The sentences that say what a section shows (also among the findings)."""
        return self.textes.get(section, [])

    @property
    def part_cofinancees(self) -> float | None:
        p = self.cofinancement.get("part_actions_cofinancees")
        return None if p is None or pd.isna(p) else float(p)

    def resultats(self) -> dict:
        """The q4 keys of the results contract (DESIGN.md §6)."""
        it = self.instances_type
        inst = self.cofinancement.get("institutions", pd.DataFrame())
        par_annee = self.cofinancement.get("par_annee", pd.DataFrame())
        m = self.mobilisation
        return {
            "instances": [
                {"type": str(t), "nombre": int(n)} for t, n in zip(it["type"], it["nombre"], strict=True)
            ],
            "cofinancement": {
                "part_actions_cofinancees": self.part_cofinancees,
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
                    {"annee": int(row.annee), "part": float(row.part)} for row in par_annee.itertuples()
                ],
            },
            "mobilisation": [
                {"institution": str(i), "domaine": str(d), "montant": float(v)}
                for i, d, v in zip(m["institution"], m["domaine"], m["montant"], strict=True)
            ],
        }


# --- computations ------------------------------------------------------------------------------


def build(territoire, params) -> RapportQ4:
    code = territoire.code_commune
    nom = str((territoire.commune or {}).get("nom") or code)
    actions, fin, dc, inst = (
        territoire.actions,
        territoire.financements,
        territoire.droit_commun,
        territoire.instances,
    )
    signataire = not actions.empty
    a_instances = inst is not None and not inst.empty
    debut, fin_periode = int(params.periode.debut), int(params.periode.fin)
    annees = list(range(debut, fin_periode + 1))
    seuil_sp, duree_min = float(params.reprise.seuil_specifique), int(params.reprise.duree_min_annees)

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
        by_type = pd.DataFrame(columns=["type", "nombre", "participants", "habitants", "part_habitants"])
        by_year = pd.DataFrame(
            columns=["annee", "nombre", "institutions_moyennes", "part_interinstitutionnelles"]
        )
        by_type_year = pd.DataFrame(columns=["type", "annee", "nombre"])
        presence = pd.DataFrame(columns=["institution", "reunions", "reunions_total", "part_presence"])
        presence_annee = pd.DataFrame(
            columns=["institution", "annee", "reunions", "reunions_total", "part_presence"]
        )

    if signataire and not fin.empty:
        cof = partners.cofunding(fin)
        sources = funding.funding_by_source(fin, ("institution", "annee"))
        sources["institution"] = sources["institution"].astype(str)
        mob = partners.mainstream_mobilised(fin, dc, actions, code, annees)
        s = params.substitution
        typo = funding.substitution_typology(
            dc,
            fin,
            actions,
            code,
            list(s.annees_reference),
            int(params.annee_debut_cucs),
            float(s.tolerance),
            int(s.duree_max_annees),
        )
        en_jeu = funding.actions_at_stake(actions, fin, seuil_sp, duree_min)
        en_substitution = funding.actions_in_durable_domains(actions, fin, typo)
    else:
        # Without a programme there is nothing the partners co-fund or mobilise on.
        cof = {
            "part_actions_cofinancees": None,
            "par_annee": pd.DataFrame(columns=["annee", "actions_financees", "actions_cofinancees", "part"]),
            "institutions": pd.DataFrame(
                columns=["institution", "actions_financees", "actions_cofinancees", "montant_accorde"]
            ),
        }
        sources = pd.DataFrame(columns=["institution", "annee", "montant_accorde", "part_annee"])
        mob = pd.DataFrame(
            columns=["institution", "domaine", "montant_actions", "montant_territoire", "montant"]
        )
        en_jeu = funding.actions_at_stake(actions, fin, seuil_sp, duree_min)
        en_substitution = funding.actions_in_durable_domains(
            actions, fin, pd.DataFrame(columns=["domaine", "type"])
        )

    r = RapportQ4(
        code_commune=code,
        nom_commune=nom,
        signataire=signataire,
        a_instances=a_instances,
        periode=(debut, fin_periode),
        instances_type=by_type.reset_index(drop=True),
        instances_annee=by_year,
        instances_type_annee=by_type_year,
        presence=presence,
        presence_annee=presence_annee,
        cofinancement=cof,
        financement_institutions=sources,
        mobilisation=mob,
        actions_en_jeu=en_jeu,
        actions_substitution=en_substitution,
        seuil_specifique=seuil_sp,
        duree_min_reprise=duree_min,
    )
    _narrate(r)
    return r


# --- French sentences ------------------------------------------------------------------------------


def _constat(r: RapportQ4, section: str, phrase: str) -> None:
    r.constats.append(phrase)
    r.textes.setdefault(section, []).append(phrase)


def _evolution(sujet: str, a: float, b: float, annee_a: object, annee_b: object) -> str:
    """« X passe de 40,0 % en 2007 à 45,0 % en 2014 (+5,0 points) », or « … comme en 2014 » when equal
    (only the two ends are compared: the years between may differ, the table shows them)."""
    if round(100 * a, 1) == round(100 * b, 1):
        return f"{sujet} est de {text.pourcentage(100 * a)} en {int(annee_a)} comme en {int(annee_b)}."
    return (
        f"{sujet} passe de {text.pourcentage(100 * a)} en {int(annee_a)} à {text.pourcentage(100 * b)} en "
        f"{int(annee_b)} ({text.points(100 * (b - a))})."
    )


def _domaines(doms: list[str]) -> str:
    # Quoted: the labels themselves contain "et".
    return text.liste_fr([f"« {text.minuscule_initiale(libelle_domaine(d))} »" for d in doms])


def _narrate(r: RapportQ4) -> None:
    if not r.signataire:
        _constat(
            r,
            "general",
            f"{r.nom_commune} n'a pas de programmation CUCS dans les données : ni cofinancement des actions, ni "
            "mobilisation du droit commun sur des actions à décrire.",
        )
    # Steering bodies.
    if r.a_instances:
        it, ia = r.instances_type, r.instances_annee
        total = int(it["nombre"].sum())
        detail = text.liste_fr(
            [text.pluriel(n, t, TYPES_PLURIELS.get(t)) for t, n in zip(it["type"], it["nombre"], strict=True)]
        )
        _constat(
            r,
            "instances",
            f"{text.pluriel(total, 'réunion')} d'instances de pilotage et de travail sur "
            f"{text.annee_periode(ia['annee'].min(), ia['annee'].max())} : {detail}.",
        )
        if len(ia) >= 2:
            a, b = ia.iloc[0], ia.iloc[-1]
            _constat(
                r,
                "instances",
                _evolution(
                    "La part des réunions qui associent au moins deux institutions",
                    a["part_interinstitutionnelles"],
                    b["part_interinstitutionnelles"],
                    a["annee"],
                    b["annee"],
                )[:-1]
                + f" ; {text.nombre(a['institutions_moyennes'], 1)} puis "
                f"{text.nombre(b['institutions_moyennes'], 1)} institutions présentes en moyenne par réunion.",
            )
        p = r.presence
        if not p.empty:
            cles = p[p["institution"].isin(INSTITUTIONS_CLES)]
            _constat(
                r,
                "instances",
                "Présence aux réunions : "
                + text.liste_fr(
                    [
                        f"{avec_article(i)} {text.pourcentage(100 * v)}"
                        for i, v in zip(cles["institution"], cles["part_presence"], strict=True)
                    ]
                )
                + " des réunions.",
            )
    # Co-funding.
    part = r.part_cofinancees
    pa = r.cofinancement["par_annee"]
    if part is not None:
        _constat(
            r,
            "cofinancement",
            f"{text.pourcentage(100 * part)} des actions financées (action × année) le sont par au moins deux "
            "institutions.",
        )
        if len(pa) >= 2:
            a, b = pa.iloc[0], pa.iloc[-1]
            _constat(
                r, "cofinancement", _evolution("Cette part", a["part"], b["part"], a["annee"], b["annee"])
            )
        ci = r.cofinancement["institutions"]
        if not ci.empty:
            top = ci.sort_values("montant_accorde", ascending=False).iloc[0]
            _constat(
                r,
                "cofinancement",
                f"Premier financeur des actions : {avec_article(top['institution'])} "
                f"({text.euros(top['montant_accorde'])}, {text.pluriel(int(top['actions_financees']), 'action')}).",
            )
    # Mainstream competences mobilised.
    m = r.mobilisation
    if not m.empty:
        per = (
            m.groupby("institution")[["montant_actions", "montant"]]
            .sum()
            .sort_values("montant", ascending=False)
        )
        _constat(
            r,
            "mobilisation",
            f"Droit commun mobilisé sur {text.annee_periode(*r.periode)} : "
            + text.liste_fr(
                [
                    f"{avec_article(i)} {text.euros_compacts(v)} (dont {text.euros_compacts(a)} sur les actions)"
                    for i, (a, v) in per.loc[[i for i in INSTITUTIONS_CLES if i in per.index]].iterrows()
                ]
            )
            + ".",
        )
        vides = _domaines_sans_mobilisation(m)
        for inst, doms in vides.items():
            _constat(
                r,
                "mobilisation",
                f"{majuscule(avec_article(inst))} ne mobilise aucun crédit de droit commun en "
                f"{_domaines(doms)}.",
            )
    if r.signataire:
        n = len(r.actions_en_jeu)
        k = len(r.actions_substitution)
        debut = f"{text.pluriel(n, 'action dépend', 'actions dépendent')}" if n else "Aucune action ne dépend"
        _constat(
            r,
            "reprise",
            f"{debut} à {text.pourcentage(100 * r.seuil_specifique, 0)} "
            f"ou plus des crédits spécifiques depuis au moins {text.pluriel(r.duree_min_reprise, 'an')} ; "
            f"{text.pluriel(k, 'action en cours', 'actions en cours')} dans des domaines où le droit commun s'est "
            "retiré durablement.",
        )

    # Caveats.
    r.reserves.append(
        "Les instances sont celles que les bilans mentionnent : une réunion non consignée n'est pas comptée, et la "
        "présence d'une institution ne dit rien de la qualité de sa participation."
    )
    if r.signataire:
        r.reserves.append(
            "Le droit commun mobilisé additionne deux sources distinctes : les cofinancements de droit commun des "
            "actions programmées et les crédits de droit commun déclarés pour la commune."
        )
    if not r.a_instances:
        r.reserves.append("Aucune réunion d'instance n'est renseignée pour cette commune.")

    # Lessons to bring to the decision level.
    p = r.presence
    if not p.empty:
        cles = p[p["institution"].isin(INSTITUTIONS_CLES)].sort_values("part_presence")
        if not cles.empty:
            low = cles.iloc[0]
            r.debat.append(
                f"{majuscule(avec_article(low['institution']))} n'assiste qu'à "
                f"{text.pourcentage(100 * low['part_presence'])} des réunions : à quelles instances doit-elle "
                "être associée, et avec quel mandat ?"
                if low["institution"] in ("région", "commune")
                else f"{majuscule(avec_article(low['institution']))} n'assiste qu'à "
                f"{text.pourcentage(100 * low['part_presence'])} des réunions : à quelles instances doit-il "
                "être associé, et avec quel mandat ?"
            )
    if r.a_instances:
        it = r.instances_type.set_index("type")["nombre"]
        coll = int(it.reindex(list(TYPES_COLLECTIFS)).fillna(0).sum())
        cons = int(it.get("réunion de consignes", 0))
        if coll + cons > 0:
            r.debat.append(
                f"Réunions de travail collectif : {text.nombre(coll)} ; réunions de consignes : {text.nombre(cons)}. "
                "Quelles conditions de réussite et quels points de blocage de ces coopérations faut-il remonter au "
                "comité de pilotage ?"
            )
    m = r.mobilisation
    if not m.empty:
        for inst, doms in _domaines_sans_mobilisation(m).items():
            r.debat.append(
                f"{majuscule(avec_article(inst))} ne mobilise pas de droit commun en "
                f"{_domaines(doms)} : est-ce hors de ses "
                "compétences, ou un objectif de négociation ?"
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
    r.debat.append(
        "Quels enseignements remonter au niveau décisionnel, à l'échelle communale voire régionale (comité de "
        "pilotage régional), pour en faire un objectif de négociation ?"
    )

    r.chiffres_cles = [
        {
            "id": "reunions_instances",
            "libelle": "Réunions d'instances de pilotage et de travail",
            "valeur": int(r.instances_type["nombre"].sum()) if r.a_instances else None,
            "unite": "réunions",
        },
        {
            "id": "part_actions_cofinancees",
            "libelle": "Actions cofinancées par au moins deux institutions",
            "valeur": None if part is None else round(100 * part, 1),
            "unite": "%",
        },
        {
            "id": "droit_commun_actions",
            "libelle": "Droit commun accordé aux actions programmées",
            "valeur": float(m["montant_actions"].sum()) if not m.empty else None,
            "unite": "€",
        },
        {
            "id": "actions_en_jeu",
            "libelle": "Actions dont la poursuite dépend d'une reprise par le droit commun",
            "valeur": len(r.actions_en_jeu),
            "unite": "actions",
        },
    ]


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

SANS_INSTANCES = "aucune réunion renseignée pour cette commune"
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
    "montant_accorde": ("Montant accordé", "euros"),
}
COLONNES_COFINANCEMENT_ANNEE = {
    "annee": ("Année", "annee"),
    "actions_financees": ("Actions financées", "nombre"),
    "actions_cofinancees": ("Actions cofinancées", "nombre"),
    "part": ("Part cofinancée", "part"),
}


def vue_instances_type(r: RapportQ4) -> pd.DataFrame:
    """Meetings per type over the period: number, participants, institutions present, residents."""
    t = r.instances_type
    return display.vue(
        t.assign(type=t["type"].map(majuscule)) if r.a_instances else None,
        COLONNES_INSTANCES_TYPE,
        vide=f"réunions par type ({SANS_INSTANCES})",
    )


def vue_instances_annee(r: RapportQ4) -> pd.DataFrame:
    """Meetings per year, with the share that gathers at least two institutions."""
    return display.vue(
        r.instances_annee if r.a_instances else None,
        COLONNES_INSTANCES_ANNEE,
        vide=f"réunions par année ({SANS_INSTANCES})",
    )


def vue_cofinancement_institutions(r: RapportQ4) -> pd.DataFrame:
    """Per institution: distinct actions funded, of which co-funded, and the amount granted."""
    i = r.cofinancement["institutions"]
    return display.vue(
        i.assign(institution=i["institution"].map(majuscule)) if r.signataire else None,
        COLONNES_COFINANCEMENT_INSTITUTIONS,
        vide=manque(r, "actions financées et cofinancées par institution"),
    )


def vue_cofinancement_annee(r: RapportQ4) -> pd.DataFrame:
    """Per year: actions funded, co-funded, and the co-funded share."""
    return display.vue(
        r.cofinancement["par_annee"] if r.signataire else None,
        COLONNES_COFINANCEMENT_ANNEE,
        vide=manque(r, "cofinancement par année"),
    )


def vue_mobilisation(r: RapportQ4) -> pd.DataFrame:
    """Mainstream means mobilised: institutions (rows, largest total first) × domains, with the
    total of each institution."""
    m = r.mobilisation
    colonnes = {"institution": ("Institution", "texte")}
    df = None
    if r.signataire and not m.empty:
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
        if r.signataire
        else manque(r, "montants de droit commun mobilisés par institution et domaine")
    )
    return display.vue(df, colonnes, vide=vide)


# Shared with the other question on the programme (reports/programme.py); named here so the
# notebook and `r.tables` show them as this question's views.
vue_actions_en_jeu = programme.vue_actions_en_jeu
vue_actions_substitution = programme.vue_actions_substitution


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
    if s.empty or s["montant_accorde"].sum() <= 0:
        return None
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
        f"Données : {metadata.nom} ({text.annee_periode(metadata.annee_debut, metadata.annee_fin)})"
        + (" — données synthétiques de démonstration." if metadata.synthetique else "."),
        "Instances : réunions consignées dans les bilans (date, type, institutions présentes, participants). Une "
        "réunion est dite interinstitutionnelle quand au moins deux institutions distinctes y assistent.",
        "Cofinancement : une action est cofinancée une année donnée quand au moins deux institutions distinctes lui "
        "ont accordé un montant non nul.",
        f"Droit commun mobilisé ({text.annee_periode(*r.periode)}) : cofinancements de droit commun accordés aux "
        "actions (rattachés au domaine de l'action) plus crédits de droit commun déclarés pour la commune.",
        f"Actions dont la poursuite dépend d'une reprise : actions en cours la dernière année dont les crédits "
        f"spécifiques représentent au moins {text.pourcentage(100 * r.seuil_specifique, 0)} du financement depuis au "
        f"moins {text.pluriel(r.duree_min_reprise, 'an')} de suite, et actions en cours des domaines en substitution "
        "durable (voir la question sur le droit commun).",
        f"Secret statistique : aucun effectif inférieur à {params.seuil_secret} n'est publié.",
    ]
