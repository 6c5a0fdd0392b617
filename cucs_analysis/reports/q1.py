"""q1 — « Le CUCS a-t-il réussi à mettre en cohérence le droit commun avec les différents
dispositifs sectoriels de la politique de la ville ? CLAS, OVV, etc. ? »: everything the
notebook shows, computed from one commune's Territory.

The notebook calls `build(territoire, params)`, then shows each table as
`d.tableau(q1.vue_<name>(r), legende=…)` and each figure as `d.figure(q1.figure_<name>(r), …)`;
the French findings are generated here so that they are tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cucs_analysis.analysis import funding
from cucs_analysis.present import display, methode, text
from cucs_analysis.present.labels import avec_article, de_institution, libelle_domaine, majuscule
from cucs_analysis.reports import programme
from cucs_analysis.reports.programme import manque
from cucs_analysis.reports.rapport import AvecVues

TYPE_LIBELLES = {
    "complementarite": "Complémentarité",
    "substitution_temporaire": "Substitution temporaire (effet levier)",
    "substitution_durable": "Substitution durable",
    "indetermine": "Indéterminé",
}
TYPE_LIBELLES_COURTS = {
    "complementarite": "complémentarité",
    "substitution_temporaire": "substitution temporaire",
    "substitution_durable": "substitution durable",
    "indetermine": "indéterminé",
}
CREDIT_LIBELLES = {funding.SPECIFIQUE: "crédits spécifiques", funding.DROIT_COMMUN: "droit commun"}

#: Sector dispositifs the workshop named (others are shown too, but these lead the sentences).
DISPOSITIFS_SECTORIELS = ("CLAS", "OVV", "PRE", "VVV", "ASV", "CLSPD")

# The labels of domains and institutions (libelle_domaine, avec_article, de_institution,
# majuscule) live in cucs_analysis.present.labels; they stay importable from here.


@dataclass
class RapportQ1(AvecVues):
    code_commune: str
    nom_commune: str
    signataire: bool  # the commune has a CUCS programme (actions) in the data
    periode: tuple[int, int]
    annees_reference: list[int]
    annee_debut_cucs: int
    tolerance: float
    duree_max: int
    droit_commun: pd.DataFrame  # institution × domaine, € over the period (mesure "credits")
    droit_commun_autres_mesures: pd.DataFrame  # mesure, unite, lignes (non-euro means, not summed)
    tableau_de_bord: pd.DataFrame  # funding.dispositif_dashboard
    budget_dispositifs: pd.DataFrame  # dispositif, annee, total
    financement_annee: pd.DataFrame  # annee, specifique, droit_commun, total, part_droit_commun
    financement_sources: pd.DataFrame  # annee, institution, type_credit, montant_accorde, …
    substitution: pd.DataFrame  # funding.substitution_typology
    series: pd.DataFrame  # domaine, annee, dc, sp
    retraits: pd.DataFrame  # domaine, institution, base, derniere_valeur, variation (largest fall)
    actions_en_jeu: pd.DataFrame  # funding.actions_at_stake
    actions_substitution: pd.DataFrame  # running actions of the last year in "durable" domains
    seuil_specifique: float  # params.reprise actually used
    duree_min_reprise: int
    constats: list[str] = field(default_factory=list)
    reserves: list[str] = field(default_factory=list)
    debat: list[str] = field(default_factory=list)
    chiffres_cles: list[dict] = field(default_factory=list)
    textes: dict[str, list[str]] = field(default_factory=dict)  # section → its sentences

    def texte(self, section: str) -> list[str]:
        """The sentences that say what a section shows (also among the findings)."""
        return self.textes.get(section, [])

    def resultats(self) -> dict:
        """The q1 keys of the results contract (DESIGN.md §6)."""
        s = self.substitution
        f = self.financement_annee.dropna(subset=["part_droit_commun"])
        return {
            "substitution": [
                {"code_territoire": str(c), "domaine": str(d), "type": str(t)}
                for c, d, t in zip(s["code_territoire"], s["domaine"], s["type"], strict=True)
            ],
            "part_droit_commun": [
                {"annee": int(a), "part": float(p)}
                for a, p in zip(f["annee"], f["part_droit_commun"], strict=True)
            ],
        }


# --- computations ------------------------------------------------------------------------------


def institution_withdrawals(
    droit_commun: pd.DataFrame, code_commune: str, annees_reference: list[int], annee_debut: int
) -> pd.DataFrame:
    """Per domain, the institution whose mainstream credits fell most between the reference
    mean and the last observed year (who withdrew). Columns: domaine, institution, base,
    derniere_valeur, variation (€, negative = fall); one row per domain with data."""
    cols = ["domaine", "institution", "base", "derniere_valeur", "variation"]
    dc = droit_commun[
        (droit_commun["mesure"] == "credits")
        & (droit_commun["niveau"] == "commune")
        & (droit_commun["code_territoire"] == code_commune)
    ]
    if dc.empty:
        return pd.DataFrame(columns=cols)
    y = dc.groupby(["domaine", "institution", "annee"], observed=True)["valeur"].sum().reset_index()
    y[["domaine", "institution"]] = y[["domaine", "institution"]].astype(str)
    base = y[y["annee"].isin(annees_reference)].groupby(["domaine", "institution"])["valeur"].mean()
    late = y[y["annee"] >= annee_debut].sort_values("annee")
    last = late.groupby(["domaine", "institution"])["valeur"].last()
    out = pd.concat([base.rename("base"), last.rename("derniere_valeur")], axis=1).fillna(0.0)
    out["variation"] = out["derniere_valeur"] - out["base"]
    out = out.reset_index().sort_values(["domaine", "variation", "institution"], kind="stable")
    return out.drop_duplicates("domaine").reset_index(drop=True)[cols]


def build(territoire, params) -> RapportQ1:
    code = territoire.code_commune
    nom = str((territoire.commune or {}).get("nom") or code)
    actions, fin, dc = territoire.actions, territoire.financements, territoire.droit_commun
    signataire = not actions.empty
    debut, fin_periode = int(params.periode.debut), int(params.periode.fin)
    annees = list(range(debut, fin_periode + 1))
    s = params.substitution
    ref = [int(a) for a in s.annees_reference]
    seuil_sp, duree_min = float(params.reprise.seuil_specifique), int(params.reprise.duree_min_annees)

    dc_com = dc[(dc["niveau"] == "commune") & (dc["code_territoire"] == code)] if not dc.empty else dc
    matrice = (
        funding.mainstream_by_institution_domain(dc_com, code, annees, niveau="commune")
        if not dc_com.empty
        else pd.DataFrame()
    )
    autres = dc_com[dc_com["mesure"] != "credits"] if not dc_com.empty else dc_com
    autres = (
        autres.groupby(["mesure", "unite"], observed=True).size().rename("lignes").reset_index()
        if not autres.empty
        else pd.DataFrame(columns=["mesure", "unite", "lignes"])
    )

    if signataire:
        board = funding.dispositif_dashboard(actions, fin)
        budget_disp = funding.specific_vs_mainstream(fin, actions, by=("dispositif", "annee"))
        budget_disp["dispositif"] = budget_disp["dispositif"].astype(str)
        par_annee = funding.specific_vs_mainstream(fin)
        sources = funding.funding_by_source(fin, ("annee", "institution", "type_credit"))
        sources[["institution", "type_credit"]] = sources[["institution", "type_credit"]].astype(str)
        typo = funding.substitution_typology(
            dc,
            fin,
            actions,
            code,
            ref,
            int(params.annee_debut_cucs),
            float(s.tolerance),
            int(s.duree_max_annees),
        )
        series = funding.substitution_series(dc, fin, actions, code)
        en_jeu = funding.actions_at_stake(actions, fin, seuil_sp, duree_min)
        en_substitution = funding.actions_in_durable_domains(actions, fin, typo)
    else:
        # No programme: the typology has no specific credits to compare with.
        board = funding.dispositif_dashboard(actions, fin)
        budget_disp = pd.DataFrame(columns=["dispositif", "annee", "total"])
        par_annee = pd.DataFrame(
            columns=["annee", "specifique", "droit_commun", "total", "part_droit_commun"]
        )
        sources = pd.DataFrame(columns=["annee", "institution", "type_credit", "montant_accorde"])
        typo = pd.DataFrame(columns=funding.SUBSTITUTION_COLUMNS)
        series = pd.DataFrame(columns=["domaine", "annee", "dc", "sp"])
        en_jeu = funding.actions_at_stake(actions, fin, seuil_sp, duree_min)
        en_substitution = funding.actions_in_durable_domains(actions, fin, typo)

    r = RapportQ1(
        code_commune=code,
        nom_commune=nom,
        signataire=signataire,
        periode=(debut, fin_periode),
        annees_reference=ref,
        annee_debut_cucs=int(params.annee_debut_cucs),
        tolerance=float(s.tolerance),
        duree_max=int(s.duree_max_annees),
        droit_commun=matrice,
        droit_commun_autres_mesures=autres,
        tableau_de_bord=board,
        budget_dispositifs=budget_disp,
        financement_annee=par_annee,
        financement_sources=sources,
        substitution=typo,
        series=series,
        retraits=institution_withdrawals(dc, code, ref, int(params.annee_debut_cucs)),
        actions_en_jeu=en_jeu,
        actions_substitution=en_substitution,
        seuil_specifique=seuil_sp,
        duree_min_reprise=duree_min,
    )
    _narrate(r)
    return r


# --- French sentences ------------------------------------------------------------------------------


def regle(r: RapportQ1) -> str:
    """The substitution rule with the parameter values actually used (same words as the Méthode page)."""
    return methode.regle_substitution(
        annees_reference=r.annees_reference,
        annee_debut_cucs=r.annee_debut_cucs,
        tolerance=r.tolerance,
        duree_max=r.duree_max,
    )


def raison_substitution(ligne, tolerance: float, duree_max: int) -> str:
    """The French sentence that says why a domain got its substitution type, from one row of
    `funding.substitution_typology` (its ``motif`` code and numbers) and the rule's parameters.

    ``ligne``: a mapping (dict, Series) or a namedtuple (``itertuples``) with motif, base,
    derniere_valeur, annees_observees, annees_sous_seuil and plus_longue_serie.
    """
    d = ligne._asdict() if hasattr(ligne, "_asdict") else dict(ligne)
    m = d["motif"]
    tol = text.pourcentage(100 * tolerance, 0)

    def ans(n: object) -> str:
        return text.pluriel(int(n), "an")

    if m == "base_absente":
        return "Indéterminé : pas de crédits de droit commun sur les années de référence."
    if m == "base_nulle":
        return "Indéterminé : crédits de droit commun nuls sur les années de référence."
    if m == "sans_credits_specifiques":
        return "Indéterminé : aucun crédit spécifique sur ce domaine."
    if m == "serie_courte":
        return (
            f"Indéterminé : {ans(d['annees_observees'])} observé(s) depuis le début du contrat, "
            f"il en faut au moins {duree_max + 1}."
        )
    n, lg = d["annees_sous_seuil"], d["plus_longue_serie"]
    if m == "aucune_annee_sous_seuil":
        return (
            f"Complémentarité : le droit commun ne passe jamais de plus de {tol} sous sa base "
            f"({text.euros(d['base'])}) ; les crédits spécifiques s'y ajoutent."
        )
    if m == "serie_longue":
        return (
            f"Substitution durable : le droit commun reste {ans(lg)} de suite à plus de {tol} sous "
            f"sa base ({text.euros(d['base'])}), au-delà de la durée admise ({ans(duree_max)})."
        )
    if m == "finit_sous_seuil":
        return (
            f"Indéterminé : le droit commun est sous sa base la dernière année ({ans(lg)} de suite "
            f"au plus), trop tôt pour conclure."
        )
    if m == "reprise":
        return (
            f"Substitution temporaire (effet levier) : le droit commun passe sous sa base pendant "
            f"{ans(n)} ({ans(lg)} de suite au plus) puis revient à {text.euros(d['derniere_valeur'])}."
        )
    raise ValueError(f"Motif de substitution inconnu : {m!r}")


def _domaines(df: pd.DataFrame) -> str:
    # Quoted: the labels themselves contain "et".
    return text.liste_fr([f"« {text.minuscule_initiale(libelle_domaine(d))} »" for d in df["domaine"]])


def _constat(r: RapportQ1, section: str, phrase: str) -> None:
    r.constats.append(phrase)
    r.textes.setdefault(section, []).append(phrase)


def _narrate(r: RapportQ1) -> None:
    periode = text.annee_periode(*r.periode)
    if not r.signataire:
        _constat(
            r,
            "general",
            f"{r.nom_commune} n'a pas de programmation CUCS dans les données : ni tableau de bord des dispositifs, "
            "ni typologie de substitution ; seuls les moyens de droit commun de la commune sont présentés.",
        )
    m = r.droit_commun
    if not m.empty and m.to_numpy().sum() > 0:
        total = float(m.to_numpy().sum())
        by_inst = m.sum(axis=1).sort_values(ascending=False)
        first = str(by_inst.index[0])
        dom = str(m.loc[first].idxmax())
        _constat(
            r,
            "droit_commun",
            f"Les moyens de droit commun recensés dans la commune atteignent {text.euros_compacts(total)} sur "
            f"{periode} ; premier contributeur : {avec_article(first)} ({text.euros_compacts(by_inst.iloc[0])}, "
            f"{text.pourcentage(100 * by_inst.iloc[0] / total)} du total), surtout en "
            f"{text.minuscule_initiale(libelle_domaine(dom))}.",
        )
    fa = r.financement_annee.dropna(subset=["part_droit_commun"])
    if not fa.empty:
        tot = fa[["specifique", "droit_commun", "total"]].sum()
        _constat(
            r,
            "financements",
            f"Sur {text.annee_periode(fa['annee'].min(), fa['annee'].max())}, les actions de la programmation ont "
            f"reçu {text.euros(tot['total'])}, dont {text.euros(tot['specifique'])} de crédits spécifiques et "
            f"{text.euros(tot['droit_commun'])} de droit commun (part du droit commun : "
            f"{text.pourcentage(100 * tot['droit_commun'] / tot['total'])}).",
        )
        if len(fa) >= 2:
            a, b = fa.iloc[0], fa.iloc[-1]
            _constat(
                r,
                "financements",
                f"La part du droit commun dans le financement des actions passe de "
                f"{text.pourcentage(100 * a['part_droit_commun'])} en {int(a['annee'])} à "
                f"{text.pourcentage(100 * b['part_droit_commun'])} en {int(b['annee'])} "
                f"({text.points(100 * (b['part_droit_commun'] - a['part_droit_commun']))}).",
            )
    typo = r.substitution
    if not typo.empty:
        parts = [
            f"{text.pluriel(len(g), 'domaine')} en {TYPE_LIBELLES_COURTS[t]} ({_domaines(g)})"
            for t in funding.TYPES_SUBSTITUTION
            if not (g := typo[typo["type"] == t]).empty
        ]
        _constat(
            r,
            "substitution",
            f"Typologie de substitution sur {text.pluriel(len(typo), 'domaine')} : {text.liste_fr(parts)}.",
        )
    board = r.tableau_de_bord
    if not board.empty:
        _constat(
            r,
            "dispositifs",
            f"La programmation compte {text.pluriel(int(board['actions'].sum()), 'action distincte', 'actions distinctes')} "
            f"réparties entre {text.pluriel(len(board), 'dispositif')}, pour {text.euros_compacts(board['budget'].sum())} "
            "accordés (crédits spécifiques et droit commun).",
        )
        sect = board[board["dispositif"].astype(str).isin(DISPOSITIFS_SECTORIELS)].head(3)
        if not sect.empty:
            _constat(
                r,
                "dispositifs",
                "Parmi les dispositifs sectoriels, les plus dotés sont "
                + text.liste_fr(
                    [
                        f"{d} ({text.euros_compacts(b)}, {text.pluriel(int(n), 'action')})"
                        for d, b, n in zip(sect["dispositif"], sect["budget"], sect["actions"], strict=True)
                    ]
                )
                + ".",
            )
        baisse = board[board["evolution_budget"] < 0]
        if not baisse.empty:
            _constat(
                r,
                "dispositifs",
                "Budget en baisse entre la première et la dernière année : "
                + text.liste_fr(
                    [
                        f"{d} ({text.pourcentage(100 * e, 1, signe=True)})"
                        for d, e in zip(baisse["dispositif"], baisse["evolution_budget"], strict=True)
                    ]
                )
                + ".",
            )
    if r.signataire:
        n = len(r.actions_en_jeu)
        _constat(
            r,
            "actions",
            f"{text.pluriel(n, 'action dépend', 'actions dépendent')} à {text.pourcentage(100 * r.seuil_specifique, 0)} "
            f"ou plus des crédits spécifiques depuis au moins {text.pluriel(r.duree_min_reprise, 'an')} : "
            "leur poursuite suppose une reprise par le droit commun."
            if n
            else f"Aucune action ne dépend à {text.pourcentage(100 * r.seuil_specifique, 0)} ou plus des crédits "
            f"spécifiques depuis au moins {text.pluriel(r.duree_min_reprise, 'an')}.",
        )
    sub = r.actions_substitution
    if not sub.empty:
        _constat(
            r,
            "actions",
            f"Dans les domaines en substitution durable, {text.pluriel(len(sub), 'action en cours', 'actions en cours')} "
            f"la dernière année {'reçoit' if len(sub) < 2 else 'reçoivent'} "
            f"{text.euros(sub['montant_specifique'].sum())} de crédits spécifiques : leur avenir dépend d'un retour "
            "du droit commun.",
        )

    # Caveats.
    r.reserves.append(
        "Les moyens de droit commun sont ceux que les institutions ont déclarés pour la commune : un recensement "
        "incomplet peut faire croire à un retrait, et donc à une substitution."
    )
    if not r.droit_commun_autres_mesures.empty:
        mesures = text.liste_fr(
            [
                f"{m} en {u}"
                for m, u in zip(
                    r.droit_commun_autres_mesures["mesure"],
                    r.droit_commun_autres_mesures["unite"],
                    strict=True,
                )
            ]
        )
        r.reserves.append(
            f"Les moyens de droit commun qui ne sont pas chiffrés en euros ({mesures}) ne sont pas comptés "
            "dans la typologie."
        )
    r.reserves.append(
        "Une substitution constatée dit que le droit commun a baissé pendant que les crédits spécifiques "
        "continuaient : elle ne dit pas que les uns ont causé le retrait de l'autre."
    )
    if not typo.empty and (typo["type"] == "indetermine").any():
        ind = typo[typo["type"] == "indetermine"]
        r.reserves.append(
            f"Typologie indéterminée pour : {_domaines(ind)} (série trop courte ou incomplète)."
        )

    # Questions for the debate, from the data.
    retraits = r.retraits.set_index("domaine") if not r.retraits.empty else pd.DataFrame()
    for row in typo[typo["type"] == "substitution_durable"].itertuples():
        dom = text.minuscule_initiale(libelle_domaine(row.domaine))
        qui = ""
        if row.domaine in retraits.index and retraits.loc[row.domaine, "variation"] < 0:
            w = retraits.loc[row.domaine]
            qui = (
                f" La baisse la plus forte est celle {de_institution(w['institution'])} "
                f"({text.euros_compacts(w['base'])} en moyenne de référence, {text.euros_compacts(w['derniere_valeur'])} "
                "la dernière année)."
            )
        r.debat.append(
            f"En {dom}, le droit commun reste {text.pluriel(int(row.plus_longue_serie), 'an')} de suite sous sa base "
            f"pendant que les crédits spécifiques continuent.{qui} Quelle institution doit reprendre ces moyens, "
            "et à quelles conditions ?"
        )
    for row in typo[typo["type"] == "substitution_temporaire"].itertuples():
        dom = text.minuscule_initiale(libelle_domaine(row.domaine))
        r.debat.append(
            f"En {dom}, le droit commun est revenu après {text.pluriel(int(row.plus_longue_serie), 'an')} sous sa base : "
            "les crédits spécifiques ont-ils servi de levier, et comment garantir que la reprise dure ?"
        )
    top = r.actions_substitution.head(3)
    if not top.empty:
        r.debat.append(
            "Actions des domaines en substitution durable les plus financées par les crédits spécifiques la "
            "dernière année : "
            + text.liste_fr(
                [
                    f"« {i} » ({text.euros(m)})"
                    for i, m in zip(top["intitule"], top["montant_specifique"], strict=True)
                ]
            )
            + ". Qui en assure la suite si les crédits spécifiques baissent ?"
        )
    r.debat.append(
        "Quelles conditions de mobilisation du droit commun (conventions d'objectifs, engagements chiffrés par "
        "institution) mettre en débat avec les acteurs participants ?"
    )

    part = None
    if not fa.empty:
        part = float(fa["droit_commun"].sum() / fa["total"].sum())
    counts = typo["type"].value_counts() if not typo.empty else pd.Series(dtype="int64")
    r.chiffres_cles = [
        {
            "id": "part_droit_commun",
            "libelle": "Part du droit commun dans le financement des actions",
            "valeur": None if part is None else round(100 * part, 1),
            "unite": "%",
        },
        {
            "id": "domaines_substitution_durable",
            "libelle": "Domaines en substitution durable",
            "valeur": int(counts.get("substitution_durable", 0)),
            "unite": "domaines",
        },
        {
            "id": "domaines_complementarite",
            "libelle": "Domaines en complémentarité",
            "valeur": int(counts.get("complementarite", 0)),
            "unite": "domaines",
        },
        {
            "id": "actions_en_jeu",
            "libelle": "Actions dont la poursuite dépend d'une reprise par le droit commun",
            "valeur": len(r.actions_en_jeu),
            "unite": "actions",
        },
    ]


# --- views: the tables the notebook shows (numbers, French headers and units) -----------------


def tableau_substitution(r: RapportQ1) -> pd.DataFrame:
    """The typology by domain with French labels and ``raison``, the sentence that reads it."""
    t = r.substitution
    if t.empty:
        return t.assign(raison=pd.Series(dtype=object))
    return t.assign(
        domaine=t["domaine"].map(libelle_domaine),
        type=t["type"].map(TYPE_LIBELLES),
        raison=[raison_substitution(row, r.tolerance, r.duree_max) for row in t.itertuples(index=False)],
    )


# Each `vue_<name>(r)` is a `present.display.vue`; `r.tables` returns them all by name. When the
# section's data is absent for the commune (no programme, no mainstream means declared), the
# view is empty and says what is missing.

COLONNES_TABLEAU_DE_BORD = {
    "dispositif": ("Dispositif", "texte"),
    "actions": ("Actions", "nombre"),
    "budget": ("Budget", "euros_compacts"),
    "budget_specifique": ("Dont crédits spécifiques", "euros_compacts"),
    "budget_droit_commun": ("Dont droit commun", "euros_compacts"),
    "beneficiaires_prevus": ("Bénéficiaires prévus", "nombre"),
    "beneficiaires_realises": ("Bénéficiaires touchés", "nombre"),
    "taux_realisation": ("Taux de réalisation", "part"),
    "periode": ("Années", "texte"),
    "evolution_budget": ("Évolution du budget", "evolution"),
}
COLONNES_FINANCEMENT_ANNEE = {
    "annee": ("Année", "annee"),
    "specifique": ("Crédits spécifiques", "euros"),
    "droit_commun": ("Droit commun", "euros"),
    "total": ("Total", "euros"),
    "part_droit_commun": ("Part du droit commun", "part"),
}
COLONNES_SUBSTITUTION = {
    "domaine": ("Domaine", "texte"),
    "type": ("Type", "texte"),
    "base": ("Base (€)", "euros"),
    "derniere_valeur": ("Dernière année (€)", "euros"),
    "annees_sous_seuil": ("Années en dessous", "nombre"),
    "plus_longue_serie": ("Plus longue série", "nombre"),
    "raison": ("Lecture", "texte"),
}


def vue_droit_commun(r: RapportQ1) -> pd.DataFrame:
    """Mainstream credits declared for the commune over the period: institutions (rows, largest
    total first) × domains, with the total of each institution."""
    m = r.droit_commun
    colonnes = {"institution": ("Institution", "texte")}
    df = None
    if not m.empty:
        colonnes |= {str(c): (libelle_domaine(c), "euros_compacts") for c in m.columns}
        colonnes["total"] = ("Total", "euros_compacts")
        m = m.assign(total=m.sum(axis=1)).sort_values("total", ascending=False)
        df = m.rename_axis("institution").reset_index()
        df.columns = [str(c) for c in df.columns]
        df["institution"] = df["institution"].map(majuscule)
    return display.vue(df, colonnes, vide="crédits de droit commun déclarés pour la commune")


def vue_tableau_de_bord(r: RapportQ1) -> pd.DataFrame:
    """Per dispositif: actions, budget (specific and mainstream), beneficiaries, years and the
    change of the budget between its first and last year."""
    b = r.tableau_de_bord
    df = None
    if r.signataire:
        df = b.assign(
            periode=[
                text.annee_periode(a, z)
                for a, z in zip(b["premiere_annee"], b["derniere_annee"], strict=True)
            ]
        )
    return display.vue(df, COLONNES_TABLEAU_DE_BORD, vide=manque(r, "tableau de bord des dispositifs"))


def vue_financement_annee(r: RapportQ1) -> pd.DataFrame:
    """Funding of the actions per year: specific credits, mainstream, total and mainstream share."""
    return display.vue(
        r.financement_annee if r.signataire else None,
        COLONNES_FINANCEMENT_ANNEE,
        vide=manque(r, "financement des actions par année"),
    )


def vue_substitution(r: RapportQ1) -> pd.DataFrame:
    """The substitution typology by domain, with the sentence that reads each row."""
    return display.vue(
        tableau_substitution(r) if r.signataire else None,
        COLONNES_SUBSTITUTION,
        vide=manque(r, "typologie par domaine"),
    )


# Shared with the other question on the programme (reports/programme.py); named here so the
# notebook and `r.tables` show them as this question's views.
vue_actions_en_jeu = programme.vue_actions_en_jeu
vue_actions_substitution = programme.vue_actions_substitution


# --- figures (each returns a matplotlib Figure with its French alt text, or None) ------------


def figure_droit_commun(r: RapportQ1):
    """Heatmap of mainstream credits by institution × domain over the period."""
    from cucs_analysis.present import plots

    m = r.droit_commun
    if m.empty or m.to_numpy().sum() <= 0:
        return None
    shown = m.loc[m.sum(axis=1).sort_values(ascending=False).index].copy()
    shown.index = [majuscule(i) for i in shown.index]
    shown.columns = [libelle_domaine(c) for c in shown.columns]
    periode = text.annee_periode(*r.periode)
    fig = plots.heatmap(
        shown,
        f"Moyens de droit commun par institution et domaine, {periode}",
        xlabel="Domaine",
        ylabel="Institution",
        unite="€",
    )
    fig.axes[0].tick_params(axis="x", labelrotation=30)
    for lab in fig.axes[0].get_xticklabels():
        lab.set_ha("right")
    fig.tight_layout()
    top = shown.stack().sort_values(ascending=False).head(3)
    details = text.liste_fr(
        [f"{i} en {text.minuscule_initiale(d)} ({text.euros_compacts(v)})" for (i, d), v in top.items()]
    )
    return plots.set_alt(
        fig,
        f"Carte de chaleur : crédits de droit commun de {r.nom_commune} sur {periode}, par institution (lignes) et "
        f"domaine (colonnes). Montants les plus élevés : {details}.",
    )


def figure_financements(r: RapportQ1):
    """Stacked bars per year: granted funding by institution and credit type."""
    from cucs_analysis.present import plots

    s = r.financement_sources
    if s.empty or s["montant_accorde"].sum() <= 0:
        return None
    inst = s["institution"].str[:1].str.upper() + s["institution"].str[1:]
    s = s.assign(source=inst + " (" + s["type_credit"].map(CREDIT_LIBELLES) + ")")
    wide = s.pivot_table(
        index="annee", columns="source", values="montant_accorde", aggfunc="sum", fill_value=0.0
    )
    # Specific credits first (bottom of the bars), then mainstream sources by size.
    order = sorted(wide.columns, key=lambda c: (CREDIT_LIBELLES[funding.SPECIFIQUE] not in c, -wide[c].sum()))
    wide = wide[order]
    fig = plots.barres_empilees_annees(
        wide, "Financement des actions par source et type de crédit", "Montant accordé", "€"
    )
    fa = r.financement_annee.dropna(subset=["part_droit_commun"])
    parts = text.liste_fr(
        [
            f"{int(a)} : {text.pourcentage(100 * p)}"
            for a, p in zip(fa["annee"], fa["part_droit_commun"], strict=True)
        ]
    )
    return plots.set_alt(
        fig,
        f"Barres empilées par année : montants accordés aux actions de {r.nom_commune} par institution et type de "
        f"crédit (crédits spécifiques ou droit commun). Part du droit commun par année : {parts}.",
    )


def figure_dispositifs(r: RapportQ1, nombre: int = 6):
    """Yearly budget of the largest dispositifs (lines)."""
    from cucs_analysis.present import plots

    b = r.budget_dispositifs
    if b.empty or r.tableau_de_bord.empty:
        return None
    top = [d for d in r.tableau_de_bord["dispositif"].astype(str) if d != "autre"][:nombre]
    data = b[b["dispositif"].isin(top)][["dispositif", "annee", "total"]]
    if data.empty:
        return None
    fig = plots.series_temporelles(
        data.assign(annee=data["annee"].astype(int)),
        "annee",
        "total",
        "dispositif",
        "Budget annuel des principaux dispositifs",
        "Montant accordé",
        unite="€",
    )
    return plots.set_alt(
        fig,
        f"Courbes : budget annuel (crédits spécifiques et droit commun) des dispositifs {text.liste_fr(top)} à "
        f"{r.nom_commune}.",
    )


def figure_substitution(r: RapportQ1):
    """Small multiples: mainstream credits per domain as an index (base 100 = reference mean),
    with the tolerance line; the panel title gives the type."""
    import matplotlib.pyplot as plt

    from cucs_analysis.present import plots

    s = r.series.dropna(subset=["dc"])
    if s.empty or r.substitution.empty:
        return None
    s = s.assign(annee=s["annee"].astype(int))
    base = s[s["annee"].isin(r.annees_reference)].groupby("domaine")["dc"].mean()
    s = s[s["domaine"].isin(base[base > 0].index)]
    if s.empty:
        return None
    s = s.assign(indice=100 * s["dc"] / s["domaine"].map(base))
    types = dict(zip(r.substitution["domaine"], r.substitution["type"], strict=True))
    domaines = list(dict.fromkeys(s["domaine"]))
    ncol = 3
    nrow = -(-len(domaines) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(11, 3.2 * nrow), sharey=True, squeeze=False)
    seuil = 100 * (1 - r.tolerance)
    for ax, (dom, g) in zip(
        axes.flat, s.groupby("domaine", sort=False), strict=False
    ):  # one panel per domain
        ax.axvspan(r.annee_debut_cucs - 0.5, g["annee"].max() + 0.5, color="#EEEEEE", zorder=0)
        ax.plot(g["annee"], g["indice"], marker="o", markersize=3, color=plots.OKABE_ITO["bleu"])
        ax.axhline(seuil, color=plots.OKABE_ITO["vermillon"], ls="--", lw=1)
        ax.axhline(100, color=plots.GRIS, lw=0.8)
        ax.set_title(
            f"{libelle_domaine(dom)}\n{TYPE_LIBELLES_COURTS.get(types.get(dom), 'n.d.')}", fontsize=9
        )
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True, nbins=4))
        plots.franciser_axes(ax, x=None, y="nombre")
    for ax in list(axes.flat)[len(domaines) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("Indice (base 100)")
    fig.suptitle(
        f"Droit commun par domaine (base 100 = moyenne {text.liste_fr(r.annees_reference)}) ; "
        f"tirets : seuil de {text.nombre(seuil)} ; en grisé : période du CUCS",
        fontsize=10,
    )
    fig.tight_layout()
    details = text.liste_fr(
        [
            f"{text.minuscule_initiale(libelle_domaine(d))} : {TYPE_LIBELLES_COURTS.get(types.get(d), 'n.d.')}"
            for d in domaines
        ]
    )
    return plots.set_alt(
        fig,
        f"Petits graphiques, un par domaine : crédits de droit commun de {r.nom_commune} en indice (base 100 = moyenne "
        f"de {text.liste_fr(r.annees_reference)}), avec le seuil de tolérance à {text.nombre(seuil)} et la période du "
        f"CUCS en grisé. Type retenu : {details}.",
    )


def sources(r: RapportQ1, params, metadata) -> list[str]:
    """The 'Sources et méthode' list, with the values actually used."""
    return [
        f"Données : {metadata.nom} ({text.annee_periode(metadata.annee_debut, metadata.annee_fin)})"
        + (" — données synthétiques de démonstration." if metadata.synthetique else "."),
        "Droit commun : table des moyens de droit commun déclarés par institution, domaine et année (crédits en "
        "euros au niveau de la commune) ; crédits spécifiques : montants accordés aux actions de la programmation "
        "(type de crédit « spécifique »), rattachés au domaine de l'action.",
        regle(r),
        f"Actions dont la poursuite dépend d'une reprise : actions en cours la dernière année dont les crédits "
        f"spécifiques représentent au moins {text.pourcentage(100 * r.seuil_specifique, 0)} du financement depuis au "
        f"moins {text.pluriel(r.duree_min_reprise, 'an')} de suite.",
        "Tableau de bord des dispositifs : actions distinctes, montants accordés (tous types de crédit), bénéficiaires "
        "prévus et touchés ; évolution du budget entre la première et la dernière année du dispositif.",
        f"Secret statistique : aucun effectif inférieur à {params.seuil_secret} n'est publié.",
    ]
