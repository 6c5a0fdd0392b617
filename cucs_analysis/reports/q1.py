"""q1 — « Le CUCS a-t-il réussi à mettre en cohérence le droit commun avec les différents
dispositifs sectoriels de la politique de la ville ? CLAS, OVV, etc. ? »: everything the
notebook shows, computed from one commune's Territory.

The notebook calls `build(territoire, params)`, then shows each table as
`d.tableau(q1.vue_<name>(r), legende=…)` and each figure as `d.figure(q1.figure_<name>(r), …)`;
the French findings are generated here so that they are tested.

Rules (docs/rules.md): achievement rates on one base (`funding.realisation`), before/during
the contract instead of first/last year (`trends.compare_periods`), « hors CUCS » / « données
non disponibles » / a measured zero kept apart (`analysis.motifs`), the substitution typology
in constant euros when `euros_constants.actif` (`programme.typologie_substitution`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cucs_analysis.analysis import funding, motifs, privacy, trends
from cucs_analysis.present import display, methode, text
from cucs_analysis.present.labels import (
    MOTIF_LIBELLES,
    avec_article,
    de_institution,
    libelle_domaine,
    majuscule,
    phrase_hors_cucs,
)
from cucs_analysis.reports import programme, rapport
from cucs_analysis.reports.rapport import Constats, chiffre_cle

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
#: A count of domains and its type: « 2 domaines en substitution durable », « 1 domaine au type indéterminé ».
EN_TYPE = {
    "complementarite": "en complémentarité",
    "substitution_temporaire": "en substitution temporaire",
    "substitution_durable": "en substitution durable",
    "indetermine": "au type indéterminé",
}
CREDIT_LIBELLES = {funding.SPECIFIQUE: "crédits spécifiques", funding.DROIT_COMMUN: "droit commun"}

#: Sector dispositifs the workshop named (others are shown too, but these lead the sentences).
DISPOSITIFS_SECTORIELS = ("CLAS", "OVV", "PRE", "VVV", "ASV", "CLSPD")

#: The actions outside any sector dispositif (« autre ») are read by programme: the actions that
#: share a title across sites (« Jardins partagés — Le Haut-Val », « Jardins partagés (école
#: Jules-Ferry) ») form one line « Jardins partagés (hors dispositif) », in one domain. One
#: « autre » line was the largest « dispositif » of most communes and said nothing; a split by
#: domain still left a residual « autre — cadre de vie » on top in three communes, while the
#: programmes are what the workshop asked to name (« regrouper les actions et ne pas s'éparpiller »).
AUTRE = "autre"
HORS_DISPOSITIF = "(hors dispositif)"
_SITE = re.compile(r"\s+—\s+.*$")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_PRECISION = re.compile(r"\s*\([^()]*\)\s*$")

#: The notebook's section headings (the text after « ## »): the verdict links to one of them.
SECTIONS = {
    "droit_commun": "1. Les politiques de droit commun par institution et domaine",
    "dispositifs": "2. Tableau de bord des dispositifs",
    "programmes": "3. Les programmes de chaque dispositif",
    "coherence": "4. Chaque dispositif face au droit commun de son domaine",
    "financements": "5. Crédits spécifiques et droit commun dans le financement des actions",
    "substitution": "6. Complémentarité ou substitution ?",
    "actions": "7. Les actions dont la reprise par le droit commun est en jeu",
}

#: What each section of the programme shows, for the sentence of a commune without one.
OBJETS_PROGRAMME = {
    "dispositifs": "le tableau de bord des dispositifs",
    "programmes": "la liste des programmes de chaque dispositif",
    "coherence": "le croisement des dispositifs avec le droit commun de leur domaine",
    "financements": "le financement des actions",
    "substitution": "la typologie de substitution",
    "actions": "la liste des actions dont la reprise est en jeu",
}

#: How many actions per dispositif the « programmes » table names (largest funding first).
N_PROGRAMMES = 3

# The labels of domains and institutions (libelle_domaine, avec_article, de_institution,
# majuscule) live in cucs_analysis.present.labels; they stay importable from here.


def programme_de_l_action(intitule: object) -> str:
    """The programme an action belongs to: its title without the site (« — Les Tilleuls ») and
    without a trailing precision in brackets (« (école Jean-Moulin) »)."""
    t = _SITE.sub("", str(intitule)).strip()
    return _PRECISION.sub("", t).strip() or str(intitule)


def isole(texte: object) -> str:
    """A string from the data, bidi-isolated (FSI … PDI) when it holds bidirectional controls:
    an unclosed right-to-left override in a title cannot reverse the sentence around it."""
    t = str(texte)
    return f"\u2068{t}\u2069" if _BIDI.search(t) else t


def libelle_dispositif(dispositif: object, intitule: object) -> str:
    """The group an action is read in: its dispositif, or its programme « Jardins partagés (hors
    dispositif) » when it has none (« autre »). A title holding bidirectional controls is isolated
    (FSI … PDI), so that an unclosed right-to-left override cannot reverse the words after it."""
    d = str(dispositif)
    if d != AUTRE:
        return d
    return f"{isole(programme_de_l_action(intitule))} {HORS_DISPOSITIF}"


def actions_par_groupe(actions: pd.DataFrame) -> pd.DataFrame:
    """The commune's actions with « autre » split into its programmes (`libelle_dispositif`)."""
    if actions.empty:
        return actions
    d = actions["dispositif"].astype(str)
    autre = actions["intitule"].map(lambda t: libelle_dispositif(AUTRE, t))
    return actions.assign(dispositif=d.where(d != AUTRE, autre))


@dataclass
class RapportQ1(Constats):
    code_commune: str
    nom_commune: str
    signataire: bool | None  # communes.signataire_cucs (None: unknown); outside the CUCS, a comparison
    motif_programme: str | None  # why there is no programme to show (analysis.motifs), or None
    motif_droit_commun: str | None  # why there are no mainstream means, or None
    periode: tuple[int, int]
    annees_reference: list[int]
    annee_debut_cucs: int
    tolerance: float
    duree_max: int
    euros_constants: bool  # the typology (and the cross with dispositifs) in constant euros
    annee_euros: int  # the year of the constant euros
    source_inflation: str
    droit_commun: pd.DataFrame  # institution × domaine, € over the period; NaN = nothing declared
    droit_commun_par_habitant: float | None  # declared mainstream € per inhabitant and year, during
    population: float | None
    droit_commun_autres_mesures: pd.DataFrame  # mesure, unite, lignes (non-euro means, not summed)
    tableau_de_bord: pd.DataFrame  # one row per dispositif: money, periods, realisation
    actions_non_realisees: pd.DataFrame  # action-years not carried out or still running, named
    programmes: pd.DataFrame  # the main actions of each dispositif, by title, with their operator
    croisement: pd.DataFrame  # funding.dispositif_mainstream_cross (euros of the typology)
    budget_dispositifs: pd.DataFrame  # dispositif, annee, total
    financement_annee: pd.DataFrame  # annee, specifique, droit_commun, total, part_droit_commun
    part_periodes: pd.DataFrame  # trends.compare_periods of the mainstream share (one row)
    financement_sources: pd.DataFrame  # annee, institution, type_credit, montant_accorde, …
    substitution: pd.DataFrame  # funding.substitution_typology
    series: pd.DataFrame  # domaine, annee, dc, sp (euros of the typology)
    retraits: pd.DataFrame  # domaine, institution, avant, pendant, variation (largest fall)
    actions_en_jeu: pd.DataFrame  # funding.actions_at_stake
    actions_substitution: pd.DataFrame  # running actions of the last year in "durable" domains
    seuil_specifique: float  # params.reprise actually used
    duree_min_reprise: int
    # Cells of counts of people hidden by statistical secrecy, per table (same labels, True = secret).
    secret: dict[str, pd.DataFrame] = field(default_factory=dict)
    seuil_secret: int = privacy.DEFAULT_THRESHOLD
    # The funding source holds only the State's share (metadata financements_perimetre:
    # etat_seul): mainstream shares, the typology, the cross and the takeover are not computed.
    etat_seul: bool = False
    # Action-years whose domain (thematique) is unknown: counted apart, in no domain.
    annees_thematique_inconnue: int = 0
    # Contract-level actions (EPCI, no commune: Ci.Ville / P147), never in the commune's programme.
    contrat: rapport.Contrat | None = None

    @property
    def programme(self) -> bool:
        """The commune has a CUCS programme to show (signatory with actions and funding)."""
        return self.motif_programme is None

    @property
    def motif_typologie(self) -> str | None:
        """Why the typology is absent: the programme's reason, else the funding source's
        (State's share only: non calculable), else the mainstream's."""
        if self.motif_programme:
            return self.motif_programme
        return motifs.NON_CALCULABLE if self.etat_seul else self.motif_droit_commun

    @property
    def motif_part(self) -> str | None:
        """Why the mainstream share of the actions' funding is absent."""
        return self.motif_programme or (motifs.NON_CALCULABLE if self.etat_seul else None)

    @property
    def euros(self) -> str:
        """« euros constants de 2014 » or « euros courants »: the euros of the typology."""
        return programme.libelle_euros(self.euros_constants, self.annee_euros)

    def texte(self, section: str) -> list[str]:
        """The sentences that say what a section shows (also among the findings); for a section
        of the programme in a commune without one, the sentence that says why (hors CUCS,
        données non disponibles)."""
        # the contract-level actions (EPCI) are said under the dispositifs, programme or not
        contrat = self.textes.get("contrat", []) if section == "dispositifs" else []
        if self.motif_programme is not None and section in OBJETS_PROGRAMME:
            return [phrase_absence(self, OBJETS_PROGRAMME[section]), *contrat]
        return self.textes.get(section, []) + contrat

    def resultats(self) -> dict:
        """The q1 keys of the results contract (DESIGN.md §6): the typology, the mainstream share
        by year and by period, the dashboard with the numerator and denominator of every rate,
        the cross of each dispositif with its domain's mainstream, the euros used, the verdict;
        `motifs` gives the reason of each key left empty (hors_cucs, donnee_absente)."""
        s = self.substitution
        f = self.financement_annee.dropna(subset=["part_droit_commun"])
        absents = {}
        if self.motif_typologie is not None:
            absents["substitution"] = self.motif_typologie
            absents["croisement"] = self.motif_typologie
        if self.motif_programme is not None:
            for cle in ("part_droit_commun", "part_droit_commun_periodes", "tableau_de_bord"):
                absents[cle] = self.motif_programme
        elif self.etat_seul:
            for cle in ("part_droit_commun", "part_droit_commun_periodes", "actions_en_jeu"):
                absents[cle] = motifs.NON_CALCULABLE
        return {
            "substitution": [
                {"code_territoire": str(c), "domaine": str(d), "type": str(t)}
                for c, d, t in zip(s["code_territoire"], s["domaine"], s["type"], strict=True)
            ],
            "part_droit_commun": [
                {"annee": int(a), "part": float(p)}
                for a, p in zip(f["annee"], f["part_droit_commun"], strict=True)
            ],
            "part_droit_commun_periodes": _periodes_json(self.part_periodes),
            "tableau_de_bord": _records(
                _publie(self.tableau_de_bord, self.secret.get("tableau_de_bord"), None),
                COLONNES_JSON_TABLEAU_DE_BORD,
            ),
            "croisement": _records(self.croisement, funding.CROISEMENT_COLUMNS),
            "euros": {
                "constants": self.euros_constants,
                "annee_reference": self.annee_euros if self.euros_constants else None,
                "source_inflation": self.source_inflation if self.euros_constants else None,
            },
            "motifs": absents,
            # Why a key is non calculable beyond its code (the funding source's scope).
            "raisons": {k: rapport.RAISON_ETAT_SEUL for k, m in absents.items() if m == motifs.NON_CALCULABLE}
            if self.etat_seul
            else {},
            "perimetre_financements": "etat_seul" if self.etat_seul else "complet",
            "verdict": dict(self.verdict),
            # null when the data leave it unknown (the pipeline writes only a known status).
            "signataire_cucs": self.signataire,
        }


COLONNES_JSON_TABLEAU_DE_BORD = [
    "dispositif",
    "actions",
    "actions_annees",
    "budget",
    "budget_specifique",
    "budget_droit_commun",
    "annees_avant",
    "budget_avant",
    "annees_pendant",
    "budget_pendant",
    "avant_testable",
    "annees_realisees",
    "prevus_realisees",
    "realises",
    "taux_realisation",
    "annees_non_pourvues",
    "annees_abandonnees",
    "annees_en_cours",
    "prevus_non_realisees",
    "annees_statut_inconnu",
    "annees_hors_taux",
]


def _json(v: object) -> object:
    """A JSON value: NaN/NA → None, numpy scalars → Python ones."""
    if v is None or (not isinstance(v, str | bool) and pd.isna(v)):
        return None
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating | float):
        return float(v)
    return v if isinstance(v, int | str) else str(v)


#: The dashboard's counts of people (beneficiaries): published only through secrecy. Their column
#: totals are printed in the findings, so secondary secrecy runs down each column.
BENEFICIAIRES_TABLEAU_DE_BORD = ["prevus_realisees", "realises", "prevus_non_realisees"]
#: A rate computed on a hidden count would give it back.
_TAUX_SUR = {"taux_realisation": ("prevus_realisees", "realises")}


def _secret_mask(df: pd.DataFrame, colonnes: list[str], seuil: int, marges: str) -> pd.DataFrame:
    """Which cells of `colonnes` (counts of people) secrecy hides, with the rates computed on them."""
    if df.empty or not set(colonnes) <= set(df.columns):
        return pd.DataFrame(False, index=df.index, columns=list(df.columns))
    mask = privacy.apply_secrecy(df[colonnes].astype(float), colonnes, seuil, margins=marges).mask
    out = pd.DataFrame(False, index=df.index, columns=list(df.columns))
    out[colonnes] = mask[colonnes].to_numpy()
    for taux, bases in _TAUX_SUR.items():
        if taux in out:
            out[taux] = out[[b for b in bases if b in out]].any(axis=1)
    return out


def _secret_non_realisees(r: RapportQ1, actions: pd.DataFrame, operateurs, seuil: int) -> None:
    """The planned beneficiaries of unfilled years, hidden as on every page that shows them
    (`programme.secret_non_realisees`, the decision q2 takes too): an action's rows when the
    action is secret or one of its rows is small; a dispositif's cell when one of its actions
    is hidden (its value would otherwise be the sum of the others' published rows)."""
    canon = programme.secret_non_realisees(actions, operateurs, seuil)
    nr, m = r.actions_non_realisees, r.secret["actions_non_realisees"]
    if not nr.empty and "id_action" in nr:
        unfilled = nr["statut"].isin(funding.STATUTS_NON_REALISEES)
        small = m["beneficiaires_prevus"] & unfilled
        hidden_actions = set(canon[canon].index) | set(nr.loc[small, "id_action"])
        m["beneficiaires_prevus"] = m["beneficiaires_prevus"] | (
            unfilled & nr["id_action"].isin(hidden_actions)
        )
    board, mb = r.tableau_de_bord, r.secret["tableau_de_bord"]
    if not board.empty and "prevus_non_realisees" in mb:
        disp = actions.drop_duplicates("id_action").set_index("id_action")["dispositif"].astype(str)
        with_hidden = set(disp.reindex(canon[canon].index).dropna())
        # The column follows the actions' decision, not a page-specific complement.
        mb["prevus_non_realisees"] = (
            privacy.primary_mask(board["prevus_non_realisees"].astype(float), seuil)
            .fillna(False)
            .astype(bool)
            | board["dispositif"].astype(str).isin(with_hidden)
        ).to_numpy()


def _publie(df: pd.DataFrame, mask: pd.DataFrame | None, code=privacy.SECRET) -> pd.DataFrame:
    """`df` with its secret cells replaced by `code` (« s » in a view, None in a results file)."""
    if mask is None or df.empty or not mask.to_numpy().any():
        return df
    out = df.copy()
    for c in mask.columns[mask.any()]:
        out[c] = display.avec_secret(out[c], mask[c], code)
    return out


def _records(df: pd.DataFrame, cols: list[str]) -> list[dict]:
    if df.empty:
        return []
    return [{c: _json(v) for c, v in row.items()} for row in df[cols].to_dict(orient="records")]


def _periodes_json(p: pd.DataFrame) -> dict | None:
    """The mainstream share before and during the contract, with the sums it is computed from."""
    if p.empty:
        return None
    row = p.iloc[0]
    return {
        "avant": {
            "annees": int(row["annees_avant"]),
            "droit_commun": _json(row["numerateur_avant"]),
            "total": _json(row["denominateur_avant"]),
            "part": _json(row["valeur_avant"] / 100),
        },
        "pendant": {
            "annees": int(row["annees_pendant"]),
            "droit_commun": _json(row["numerateur_pendant"]),
            "total": _json(row["denominateur_pendant"]),
            "part": _json(row["valeur_pendant"] / 100),
        },
        "avant_testable": bool(row["avant_testable"]),
    }


# --- computations ------------------------------------------------------------------------------


def institution_withdrawals(
    droit_commun: pd.DataFrame, code_commune: str, annee_debut: int, debut: int, fin: int
) -> pd.DataFrame:
    """Per domain, the institution whose mainstream credits fell most between the period before
    the contract (debut..annee_debut-1) and the period during it (annee_debut..fin), as mean
    yearly amounts (who withdrew). An institution without a row in a year of the domain counts
    0 € that year. Columns: domaine, institution, annees_avant, avant, annees_pendant, pendant,
    variation (€, negative = fall); one row per domain observed in both periods."""
    cols = ["domaine", "institution", "annees_avant", "avant", "annees_pendant", "pendant", "variation"]
    dc = droit_commun[
        (droit_commun["mesure"] == "credits")
        & (droit_commun["niveau"] == "commune")
        & (droit_commun["code_territoire"] == code_commune)
    ]
    if dc.empty:
        return pd.DataFrame(columns=cols)
    y = dc.groupby(["domaine", "institution", "annee"], observed=True)["valeur"].sum().reset_index()
    y[["domaine", "institution"]] = y[["domaine", "institution"]].astype(str)
    # Every institution of a domain over every year the domain is observed (0 € when silent).
    grid = (
        y[["domaine", "annee"]]
        .drop_duplicates()
        .merge(y[["domaine", "institution"]].drop_duplicates(), on="domaine")
    )
    y = grid.merge(y, on=["domaine", "institution", "annee"], how="left").fillna({"valeur": 0.0})
    cmp = trends.compare_periods(
        y, annee_debut_cucs=annee_debut, debut=debut, fin=fin, by=["domaine", "institution"], valeur="valeur"
    )
    cmp = cmp[cmp["avant_testable"] & (cmp["annees_pendant"] > 0)]
    out = cmp.rename(
        columns={"valeur_avant": "avant", "valeur_pendant": "pendant", "difference": "variation"}
    )
    out = out.sort_values(["domaine", "variation", "institution"], kind="stable")
    return out.drop_duplicates("domaine").reset_index(drop=True)[cols]


def dashboard(
    actions: pd.DataFrame, financements: pd.DataFrame, *, annee_debut_cucs: int, debut: int, fin: int
) -> pd.DataFrame:
    """One row per dispositif: `funding.dispositif_dashboard` (actions, budget, years), its mean
    yearly budget before and during the contract (`trends.compare_periods` over the years it has
    actions) and its achievement on one base (`funding.realisation`)."""
    board = funding.dispositif_dashboard(actions, financements)
    if board.empty:
        return board
    board["dispositif"] = board["dispositif"].astype(str)
    yearly = funding.dispositif_yearly_budget(
        actions.assign(dispositif=actions["dispositif"].astype(str)), financements
    )
    per = trends.compare_periods(
        yearly, annee_debut_cucs=annee_debut_cucs, debut=debut, fin=fin, by=["dispositif"], valeur="budget"
    )
    per = per.rename(columns={"valeur_avant": "budget_avant", "valeur_pendant": "budget_pendant"})[
        ["dispositif", "annees_avant", "budget_avant", "annees_pendant", "budget_pendant", "avant_testable"]
    ]
    # The difference as the reader recomputes it from the two rounded amounts printed beside it.
    per["budget_difference"] = rapport.ecarts_affiches(per["budget_avant"], per["budget_pendant"], 0)
    real = funding.realisation(
        actions.assign(dispositif=actions["dispositif"].astype(str)), by=["dispositif"]
    )
    real = real.drop(columns="actions_annees")  # the dashboard counts the same rows
    out = board.merge(per, on="dispositif", how="left").merge(real, on="dispositif", how="left")
    out["avant_testable"] = out["avant_testable"].astype("boolean").fillna(False).astype(bool)
    return out.reset_index(drop=True)


def actions_non_realisees(actions: pd.DataFrame) -> pd.DataFrame:
    """The action-years that are not in the achievement rate, named: non pourvues, abandonnées
    and still running (programmée). Columns: dispositif, intitule, statut, annees (text of the
    years), nombre (action-years), beneficiaires_prevus; by dispositif then title."""
    cols = ["dispositif", "intitule", "statut", "annees", "nombre", "beneficiaires_prevus", "id_action"]
    if actions.empty:
        return pd.DataFrame(columns=cols)
    statuts = (*funding.STATUTS_NON_REALISEES, funding.STATUT_PROGRAMMEE)
    a = actions[actions["statut"].astype(str).isin(statuts)].copy()
    if a.empty:
        return pd.DataFrame(columns=cols)
    a[["dispositif", "statut"]] = a[["dispositif", "statut"]].astype(str)
    g = a.groupby(["dispositif", "id_action", "statut"], observed=True).agg(
        intitule=("intitule", "last"),
        premiere=("annee", "min"),
        derniere=("annee", "max"),
        nombre=("annee", "size"),
        beneficiaires_prevus=("beneficiaires_prevus", "sum"),
    )
    g = g.reset_index()
    g["annees"] = [text.annee_periode(p, d) for p, d in zip(g["premiere"], g["derniere"], strict=True)]
    g["beneficiaires_prevus"] = g["beneficiaires_prevus"].astype(float)
    return g.sort_values(["dispositif", "statut", "intitule"]).reset_index(drop=True)[cols]


def _programmes(actions: pd.DataFrame, financements: pd.DataFrame, operateurs: pd.DataFrame) -> pd.DataFrame:
    """The main actions of each dispositif with the name of their operator."""
    p = funding.main_actions(actions, financements, ("dispositif",), N_PROGRAMMES)
    p = p[p["budget"] > 0]  # an action never funded is named with the non-realised ones, not here
    if p.empty:
        return p.assign(operateur=pd.Series(dtype=object))
    noms = (
        operateurs.drop_duplicates("id_operateur").set_index("id_operateur")["nom"].astype(str)
        if not operateurs.empty
        else pd.Series(dtype=object)
    )
    p["operateur"] = p["id_operateur"].map(noms).fillna("opérateur non renseigné")
    p["dispositif"] = p["dispositif"].astype(str)
    # Dispositifs in the dashboard's order (largest budget first), actions by rank.
    ordre = p.groupby("dispositif")["budget"].sum().sort_values(ascending=False, kind="stable")
    p["_o"] = p["dispositif"].map({d: i for i, d in enumerate(ordre.index)})
    return p.sort_values(["_o", "rang"]).drop(columns="_o").reset_index(drop=True)


def build(territoire, params) -> RapportQ1:
    code = territoire.code_commune
    nom = str((territoire.commune or {}).get("nom") or code)
    fin, dc = territoire.financements, territoire.droit_commun
    available = getattr(territoire, "available", {}) or {}
    a_des_actions = (
        bool(available.get("actions", not territoire.actions.empty)) and not territoire.actions.empty
    )
    # communes.signataire_cucs; real data may leave it unknown (None): never « hors CUCS », the
    # programme in the data is shown when there is one, else « données non disponibles ».
    signataire = rapport.statut_signataire(territoire)
    a_des_financements = bool(available.get("financements", not fin.empty)) and not fin.empty
    motif_prog = rapport.motif_commune(signataire, a_des_actions and a_des_financements)
    etat_seul = rapport.financements_etat_seul(getattr(territoire, "metadata", None))
    debut, fin_periode = int(params.periode.debut), int(params.periode.fin)
    annee_debut = int(params.annee_debut_cucs)
    periodes = {"annee_debut_cucs": annee_debut, "debut": debut, "fin": fin_periode}
    annees = list(range(debut, fin_periode + 1))
    s = params.substitution
    ref = [int(a) for a in s.annees_reference]
    seuil_sp, duree_min = float(params.reprise.seuil_specifique), int(params.reprise.duree_min_annees)
    constants, annee_euros, source, facteurs = programme.euros_des_parametres(params)

    dc_com = (
        dc[(dc["niveau"] == "commune") & (dc["code_territoire"] == code) & dc["annee"].isin(annees)]
        if not dc.empty
        else dc
    )
    credits = dc_com[dc_com["mesure"] == "credits"] if not dc_com.empty else dc_com
    motif_dc = None if not credits.empty else motifs.DONNEE_ABSENTE
    # Institution × domain: the sum declared; NaN where an institution declared nothing in a
    # domain (a declared 0 stays 0).
    matrice = (
        credits.pivot_table(
            index="institution", columns="domaine", values="valeur", aggfunc="sum", observed=True
        )
        .astype(float)
        .rename_axis(index="institution", columns="domaine")
        if not credits.empty
        else pd.DataFrame()
    )
    if not matrice.empty:
        matrice.index = matrice.index.astype(str)
        matrice.columns = matrice.columns.astype(str)
    population = pd.to_numeric(pd.Series([(territoire.commune or {}).get("population")]), errors="coerce")[0]
    population = float(population) if pd.notna(population) and population > 0 else None
    pendant = credits[credits["annee"] >= annee_debut] if not credits.empty else credits
    par_habitant = (
        float(pendant["valeur"].sum()) / pendant["annee"].nunique() / population
        if population and not pendant.empty
        else None
    )
    autres = dc_com[dc_com["mesure"] != "credits"] if not dc_com.empty else dc_com
    autres = (
        autres.groupby(["mesure", "unite"], observed=True).size().rename("lignes").reset_index()
        if not autres.empty
        else pd.DataFrame(columns=["mesure", "unite", "lignes"])
    )

    vide_typo = pd.DataFrame(columns=funding.SUBSTITUTION_COLUMNS)
    if motif_prog is None:
        actions = actions_par_groupe(territoire.actions)
        board = dashboard(actions, fin, **periodes)
        non_real = actions_non_realisees(actions)
        progs = _programmes(actions, fin, territoire.operateurs)
        budget_disp = funding.specific_vs_mainstream(fin, actions, by=("dispositif", "annee"))
        budget_disp["dispositif"] = budget_disp["dispositif"].astype(str)
        par_annee = funding.specific_vs_mainstream(fin)
        part_per = trends.compare_periods(
            par_annee, numerateur="droit_commun", denominateur="total", echelle=100, base_min=0, **periodes
        )
        sources = funding.funding_by_source(fin, ("annee", "institution", "type_credit"))
        sources[["institution", "type_credit"]] = sources[["institution", "type_credit"]].astype(str)
        en_jeu = funding.actions_at_stake(actions, fin, seuil_sp, duree_min)
        if etat_seul:
            # Only the State's share: no mainstream share, no typology, no takeover (n.d.).
            board["budget_droit_commun"] = float("nan")
            par_annee[["droit_commun", "part_droit_commun"]] = float("nan")
            part_per = pd.DataFrame()
            en_jeu = en_jeu.iloc[0:0]
            typo, series, dc_euros = vide_typo, pd.DataFrame(columns=["domaine", "annee", "dc", "sp"]), dc
            croisement = pd.DataFrame(columns=funding.CROISEMENT_COLUMNS)
        elif motif_dc is None:
            typ = programme.typologie_substitution(territoire, params, actions)
            typo, series, dc_euros = typ.substitution, typ.series, typ.droit_commun
            croisement = funding.dispositif_mainstream_cross(
                actions, typ.financements, typ.droit_commun, code, typo, **periodes
            )
        else:
            typo, series, dc_euros = vide_typo, pd.DataFrame(columns=["domaine", "annee", "dc", "sp"]), dc
            croisement = pd.DataFrame(columns=funding.CROISEMENT_COLUMNS)
        en_substitution = funding.actions_in_durable_domains(actions, fin, typo)
    else:
        # Outside the CUCS (or without a programme table) there is nothing to compare the
        # mainstream with: only the mainstream means are shown.
        actions = territoire.actions
        board = pd.DataFrame(columns=["dispositif", *COLONNES_JSON_TABLEAU_DE_BORD[1:]])
        non_real = actions_non_realisees(actions.iloc[0:0])
        progs = pd.DataFrame(
            columns=[
                "dispositif",
                "rang",
                "intitule",
                "operateur",
                "premiere_annee",
                "derniere_annee",
                "budget",
                "budget_specifique",
            ]
        )
        budget_disp = pd.DataFrame(columns=["dispositif", "annee", "total"])
        par_annee = pd.DataFrame(
            columns=["annee", "specifique", "droit_commun", "total", "part_droit_commun"]
        )
        part_per = pd.DataFrame()
        sources = pd.DataFrame(columns=["annee", "institution", "type_credit", "montant_accorde"])
        typo, series = vide_typo, pd.DataFrame(columns=["domaine", "annee", "dc", "sp"])
        dc_euros = funding.deflate_mainstream(dc, facteurs) if facteurs is not None else dc
        croisement = pd.DataFrame(columns=funding.CROISEMENT_COLUMNS)
        en_jeu = funding.actions_at_stake(actions.iloc[0:0], fin, seuil_sp, duree_min)
        en_substitution = funding.actions_in_durable_domains(actions.iloc[0:0], fin, typo)

    r = RapportQ1(
        code_commune=code,
        nom_commune=nom,
        signataire=signataire,
        motif_programme=motif_prog,
        motif_droit_commun=motif_dc,
        periode=(debut, fin_periode),
        annees_reference=ref,
        annee_debut_cucs=annee_debut,
        tolerance=float(s.tolerance),
        duree_max=int(s.duree_max_annees),
        euros_constants=constants,
        annee_euros=annee_euros,
        source_inflation=source,
        droit_commun=matrice,
        droit_commun_par_habitant=par_habitant,
        population=population,
        droit_commun_autres_mesures=autres,
        tableau_de_bord=board,
        actions_non_realisees=non_real,
        programmes=progs,
        croisement=croisement,
        budget_dispositifs=budget_disp,
        financement_annee=par_annee,
        part_periodes=part_per,
        financement_sources=sources,
        substitution=typo,
        series=series,
        retraits=institution_withdrawals(dc_euros, code, annee_debut, debut, fin_periode),
        actions_en_jeu=en_jeu,
        actions_substitution=en_substitution,
        seuil_specifique=seuil_sp,
        duree_min_reprise=duree_min,
        etat_seul=etat_seul,
        annees_thematique_inconnue=int(actions["thematique"].isna().sum()) if motif_prog is None else 0,
        contrat=rapport.contrat_de(territoire),
    )
    r.seuil_secret = int(params.seuil_secret)
    r.secret = {
        "tableau_de_bord": _secret_mask(board, BENEFICIAIRES_TABLEAU_DE_BORD, params.seuil_secret, "columns"),
        "actions_non_realisees": _secret_mask(
            non_real, ["beneficiaires_prevus"], params.seuil_secret, "none"
        ),
    }
    if motif_prog is None:
        _secret_non_realisees(r, actions, territoire.operateurs, int(params.seuil_secret))
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
        observees = text.pluriel(int(d["annees_observees"]), "année observée", "années observées")
        return f"Indéterminé : {observees} depuis le début du contrat, il en faut au moins {duree_max + 1}."
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


def _dom(d: object) -> str:
    """A domain inside a sentence: « éducation »."""
    return text.minuscule_initiale(libelle_domaine(d))


def _disp(d: object) -> str:
    """A dispositif inside a list; a programme outside the dispositifs quoted (its title may hold « et »)."""
    d = str(d)
    return f"« {d} »" if d.endswith(HORS_DISPOSITIF) else d


def _domaines(df: pd.DataFrame) -> str:
    # Quoted: the labels themselves contain "et".
    return text.liste_fr([f"« {_dom(d)} »" for d in df["domaine"]])


def _periode_avant(r: RapportQ1) -> str:
    return rapport.periode_avant(r.periode, r.annee_debut_cucs)


def _periode_pendant(r: RapportQ1) -> str:
    return text.annee_periode(r.annee_debut_cucs, r.periode[1])


def phrase_absence(r: RapportQ1, objet: str) -> str:
    """Why the programme's sections are empty: « hors CUCS » for a commune that did not sign,
    « données non disponibles » for a signatory whose programme tables are missing."""
    if r.motif_programme == motifs.HORS_CUCS:
        return phrase_hors_cucs(r.nom_commune, objet)
    if r.signataire is None:
        return (
            f"{majuscule(MOTIF_LIBELLES[motifs.DONNEE_ABSENTE])} : {rapport.SIGNATAIRE_INCONNU} pour "
            f"{r.nom_commune}, et {objet} ne figure pas dans les données."
        )
    return f"{majuscule(MOTIF_LIBELLES[motifs.DONNEE_ABSENTE])} : {objet} ne figure pas dans les données pour {r.nom_commune}."


def _narrate(r: RapportQ1) -> None:
    periode = text.annee_periode(*r.periode)
    avant, pendant = _periode_avant(r), _periode_pendant(r)
    contrat = r.contrat.n_donnees > 0 if r.contrat is not None else False
    if r.motif_programme is not None:
        r.constat(
            "general",
            phrase_absence(
                r,
                "la programmation propre à la commune (dispositifs, actions, substitution)"
                if contrat
                else "la programmation du contrat (dispositifs, actions, substitution)",
            ),
        )
    if contrat:
        # what the data hold at contract (EPCI) level: said, never merged into the commune's figures
        phrase = rapport.phrase_contrat(r.contrat, r.nom_commune)
        r.constats.append(phrase)
        r.dit("contrat", phrase)
        if r.motif_programme == motifs.HORS_CUCS and r.motif_droit_commun is None:
            r.constat(
                "general",
                f"Seuls les moyens de droit commun déclarés pour {r.nom_commune} sont présentés, comme "
                "point de comparaison.",
            )

    # 1. Mainstream means by institution and domain.
    m = r.droit_commun
    if not m.empty and np.nansum(m.to_numpy()) > 0:
        total = float(np.nansum(m.to_numpy()))
        by_inst = m.sum(axis=1).sort_values(ascending=False)
        first = str(by_inst.index[0])
        dom = str(m.loc[first].idxmax())
        r.constat(
            "droit_commun",
            f"Les moyens de droit commun déclarés pour la commune atteignent {text.euros_compacts(total)} sur "
            f"{periode} (euros courants) ; le premier contributeur est {avec_article(first)} "
            f"({text.euros_compacts(by_inst.iloc[0])}, {text.pourcentage(100 * by_inst.iloc[0] / total)} du total), "
            f"surtout en {_dom(dom)}.",
        )
        if r.droit_commun_par_habitant is not None:
            r.constat(
                "droit_commun",
                f"Pendant le CUCS ({_periode_pendant(r)}), cela représente {text.euros(r.droit_commun_par_habitant)} "
                f"par habitant et par an (euros courants, {text.pluriel(int(r.population), 'habitant')}).",
            )
        n_vides = int(m.isna().to_numpy().sum())
        if n_vides:
            r.constat(
                "droit_commun",
                f"{text.pluriel(n_vides, 'case institution × domaine', 'cases institution × domaine')} du tableau "
                f"{'est' if n_vides < 2 else 'sont'} sans aucune déclaration et "
                f"{'reste' if n_vides < 2 else 'restent'} vide{'' if n_vides < 2 else 's'} (« n.d. ») ; un montant "
                "de 0 € est un montant déclaré nul.",
            )
    elif r.motif_droit_commun is not None:
        r.textes.setdefault("droit_commun", []).append(
            f"{majuscule(MOTIF_LIBELLES[r.motif_droit_commun])} : aucun crédit de droit commun n'est déclaré "
            f"pour {r.nom_commune} dans les données."
        )

    board = r.tableau_de_bord
    if r.programme and not board.empty:
        # 2. Dashboard: money over the periods, achievement on one base.
        hors = board["dispositif"].str.endswith(HORS_DISPOSITIF)
        r.constat(
            "dispositifs",
            f"La programmation compte {text.pluriel(int(board['actions'].sum()), 'action distincte', 'actions distinctes')} "
            f"réparties entre {text.pluriel(int((~hors).sum()), 'dispositif')} et "
            f"{text.aucun(int(hors.sum()), 'programme hors dispositif', 'programmes hors dispositif')}, pour "
            f"{text.euros_compacts(board['budget'].sum())} accordés sur {periode} "
            + (
                "(euros courants, part de l'État seulement : la source ne contient pas les autres financeurs)."
                if r.etat_seul
                else "(euros courants, crédits spécifiques et droit commun)."
            ),
        )
        sect = board[board["dispositif"].isin(DISPOSITIFS_SECTORIELS)].head(3)
        if not sect.empty:
            r.constat(
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
        testables = board[board["avant_testable"] & board["budget_pendant"].notna()]
        baisse = testables[testables["budget_difference"] < 0]
        if not baisse.empty:
            r.constat(
                "dispositifs",
                f"Le budget annuel moyen est plus faible pendant le CUCS ({pendant}) qu'avant ({avant}) pour "
                + text.liste_fr(
                    [
                        f"{_disp(d)} ({text.euros(a)} avant, {text.euros(p)} pendant)"
                        for d, a, p in zip(
                            baisse["dispositif"],
                            baisse["budget_avant"],
                            baisse["budget_pendant"],
                            strict=True,
                        )
                    ]
                )
                + ".",
            )
        hausse = testables[testables["budget_difference"] > 0]
        if not hausse.empty:
            r.constat(
                "dispositifs",
                (
                    "Le seul dispositif déjà financé avant le CUCS a"
                    if len(testables) == 1
                    else f"Les {text.nombre(len(testables))} dispositifs déjà financés avant le CUCS ont tous"
                    if len(hausse) == len(testables)
                    else f"Parmi les {text.nombre(len(testables))} dispositifs déjà financés avant le CUCS, "
                    f"{text.nombre(len(hausse))} {'a' if len(hausse) < 2 else 'ont'}"
                )
                + f" un budget annuel moyen plus élevé pendant ({pendant}) qu'avant ({avant}).",
            )
        nouveaux = board[~board["avant_testable"]]
        if not nouveaux.empty:
            n = len(nouveaux)
            r.textes.setdefault("dispositifs", []).append(
                f"{text.liste_fr(_disp(d) for d in nouveaux['dispositif'])} {'commence' if n < 2 else 'commencent'} avec le CUCS ou "
                f"après : pour {'lui' if n < 2 else 'eux'}, l'« avant » ne peut pas être testé."
            )
        tot = board[
            [
                "prevus_realisees",
                "realises",
                "annees_non_pourvues",
                "annees_abandonnees",
                "annees_en_cours",
                "prevus_non_realisees",
            ]
        ].sum()
        if tot["prevus_realisees"] > 0:
            non_real = int(tot["annees_non_pourvues"] + tot["annees_abandonnees"])
            # The column totals are counts of people too: below the threshold they are hidden,
            # and the rate computed on them with them.
            seuil = r.seuil_secret
            petit = privacy.primary_mask(tot[["realises", "prevus_realisees"]], seuil).any()
            if petit:
                phrase = (
                    f"Sur les actions réalisées, {text.effectif(tot['realises'], seuil, 'bénéficiaire touché', 'bénéficiaires touchés')} "
                    f"pour {text.effectif(tot['prevus_realisees'], seuil, 'prévu', 'prévus')} : le taux de réalisation "
                    "n'est pas publié (secret statistique)."
                )
            else:
                phrase = (
                    f"Sur les actions réalisées, {text.pluriel(int(tot['realises']), 'bénéficiaire a été touché', 'bénéficiaires ont été touchés')} "
                    f"pour {text.nombre(tot['prevus_realisees'])} prévus, soit un taux de réalisation de "
                    f"{text.pourcentage(100 * tot['realises'] / tot['prevus_realisees'])} sur cette même base."
                )
            if non_real:
                phrase += (
                    f" À part : {text.pluriel(int(tot['annees_non_pourvues']), 'action-année non pourvue', 'actions-années non pourvues')} "
                    f"et {text.pluriel(int(tot['annees_abandonnees']), 'abandonnée', 'abandonnées')}, qui prévoyaient "
                    f"{text.effectif(int(tot['prevus_non_realisees']), seuil, 'bénéficiaire')}."
                )
            if tot["annees_en_cours"]:
                phrase += (
                    f" {text.pluriel(int(tot['annees_en_cours']), 'action-année est encore en cours', 'actions-années sont encore en cours')} "
                    "(programmées) et n'entrent pas dans le taux."
                )
            r.constat("dispositifs", phrase)
        phrase = programme.phrase_non_renseignes(board)
        if phrase:
            r.constat("dispositifs", phrase)
    if r.programme and r.annees_thematique_inconnue:
        n = r.annees_thematique_inconnue
        r.dit(
            "dispositifs",
            f"Thématique non renseignée pour {text.pluriel(n, 'action-année', 'actions-années')} : "
            f"{'elle est comptée' if n < 2 else 'elles sont comptées'} à part et dans aucun domaine.",
        )

    # 3. The programmes by name.
    p = r.programmes
    if r.programme and not p.empty:
        premiers = p[(p["rang"] == 1) & p["dispositif"].isin(DISPOSITIFS_SECTORIELS)]
        if not premiers.empty:
            r.textes.setdefault("programmes", []).append(
                "L'action la plus financée de chaque dispositif sectoriel est la suivante : "
                + " ; ".join(
                    f"{row.dispositif} : « {isole(row.intitule)} » ({isole(row.operateur)}, "
                    f"{text.annee_periode(row.premiere_annee, row.derniere_annee)}, {text.euros(row.budget)})"
                    for row in premiers.itertuples()
                )
                + "."
            )

    # 4. Each dispositif beside its domain's mainstream: the « cohérence » question.
    c = r.croisement
    if r.programme and r.etat_seul:
        r.constat("coherence", rapport.nd_etat_seul("Croisement des dispositifs avec le droit commun"))
    if r.programme and not c.empty:
        for t, lecture in (
            (
                "substitution_durable",
                "ces crédits compensent un droit commun en recul durable plus qu'ils ne le complètent",
            ),
            (
                "substitution_temporaire",
                "ces crédits ont fait la jonction pendant le repli du droit commun, qui est revenu ensuite",
            ),
            (
                "complementarite",
                "ces crédits s'ajoutent à un droit commun maintenu, comme le veut la complémentarité",
            ),
        ):
            g = c[c["type"] == t]
            for dom, gd in g.groupby("domaine", sort=True):
                row = gd.iloc[0]
                n = len(gd)
                r.textes.setdefault("coherence", []).append(
                    f"En {_dom(dom)} ({TYPE_LIBELLES_COURTS[t]}), le droit commun de la commune est de "
                    f"{text.euros(row['dc_avant'])} par an avant le CUCS ({avant}) et de {text.euros(row['dc_pendant'])} "
                    f"pendant ({pendant}, {r.euros}) ; {text.liste_fr(_disp(d) for d in gd['dispositif'])} "
                    f"{'y engage' if n < 2 else 'y engagent'} {text.euros(gd['sp_pendant'].sum())} de crédits spécifiques "
                    f"par an pendant le CUCS : {lecture}."
                )
        nd = c.loc[c["type"] == "substitution_durable", "dispositif"].nunique()
        verbe = "n'intervient" if nd == 0 else ("intervient" if nd < 2 else "interviennent")
        r.constat(
            "coherence",
            f"{majuscule(text.parmi(nd, c['dispositif'].nunique(), 'dispositif'))} {verbe} dans un domaine où le "
            "droit commun a reculé durablement.",
        )

    # 5. Mainstream share of the actions' funding, before and during.
    fa = r.financement_annee.dropna(subset=["part_droit_commun"])
    if r.programme and r.etat_seul:
        fe = r.financement_annee.dropna(subset=["total"])
        dit = (
            f"Sur {text.annee_periode(fe['annee'].min(), fe['annee'].max())}, l'État (programme 147) a accordé "
            f"{text.euros(fe['total'].sum())} aux actions de la programmation ("
            + " ; ".join(f"{int(a)} : {text.euros(t)}" for a, t in zip(fe["annee"], fe["total"], strict=True))
            + "). "
            if not fe.empty
            else ""
        )
        r.constat("financements", dit + rapport.nd_etat_seul("Part du droit commun"))
    if not fa.empty:
        tot = fa[["specifique", "droit_commun", "total"]].sum()
        r.constat(
            "financements",
            f"Sur {text.annee_periode(fa['annee'].min(), fa['annee'].max())}, les actions de la programmation ont "
            f"reçu {text.euros(tot['total'])}, dont {text.euros(tot['specifique'])} de crédits spécifiques et "
            f"{text.euros(tot['droit_commun'])} de droit commun (part du droit commun : "
            f"{text.pourcentage(100 * tot['droit_commun'] / tot['total'])}, euros courants).",
        )
        pp = r.part_periodes
        if not pp.empty:
            row = pp.iloc[0]
            if bool(row["avant_testable"]) and pd.notna(row["valeur_pendant"]):
                diff = text.difference_affichee(row["valeur_avant"], row["valeur_pendant"], 1)
                r.constat(
                    "financements",
                    f"La part du droit commun dans le financement des actions est de "
                    f"{text.pourcentage(row['valeur_avant'])} avant le CUCS ({avant}, "
                    f"{text.euros(row['numerateur_avant'])} sur {text.euros(row['denominateur_avant'])}) et de "
                    f"{text.pourcentage(row['valeur_pendant'])} pendant ({pendant}, "
                    f"{text.euros(row['numerateur_pendant'])} sur {text.euros(row['denominateur_pendant'])}), "
                    f"soit {text.points(diff)}.",
                )
            else:
                r.textes.setdefault("financements", []).append(
                    f"Aucun financement n'est enregistré avant le CUCS ({avant}) : l'« avant » ne peut pas être testé."
                )

    # 6. Substitution typology.
    typo = r.substitution
    if not typo.empty:
        parts = [
            f"{text.pluriel(len(g), 'domaine')} {EN_TYPE[t]} ({_domaines(g)})"
            for t in funding.TYPES_SUBSTITUTION
            if not (g := typo[typo["type"] == t]).empty
        ]
        r.constat(
            "substitution",
            f"La typologie de substitution porte sur {text.pluriel(len(typo), 'domaine')}, en {r.euros} : "
            f"{text.liste_fr(parts)}.",
        )
    if r.programme and r.etat_seul:
        r.constat("substitution", rapport.nd_etat_seul("Typologie de substitution"))
    elif r.programme and r.motif_droit_commun is None:
        r.textes.setdefault("substitution", []).append(
            f"Les montants sont en {r.euros} : chaque année est ramenée aux prix de {r.annee_euros} "
            f"({r.source_inflation}) ; un budget "
            "stable en euros courants baisse donc en euros constants."
            if r.euros_constants
            else "Les montants sont en euros courants (sans correction de l'inflation)."
        )
    elif r.programme:
        r.textes.setdefault("substitution", []).append(
            f"{majuscule(MOTIF_LIBELLES[motifs.DONNEE_ABSENTE])} : sans crédits de droit commun déclarés, la "
            "typologie ne peut pas être établie."
        )

    # 7. Actions whose takeover is at stake.
    if r.programme and r.etat_seul:
        r.constat(
            "actions",
            rapport.nd_etat_seul("Actions dont la poursuite dépend d'une reprise par le droit commun"),
        )
    elif r.programme:
        n = len(r.actions_en_jeu)
        seuil = text.pourcentage(100 * r.seuil_specifique, 0)
        duree = text.pluriel(r.duree_min_reprise, "an")
        r.constat(
            "actions",
            f"{text.pluriel(n, 'action dépend', 'actions dépendent')} à {seuil} ou plus des crédits spécifiques "
            f"depuis au moins {duree} : {'sa' if n < 2 else 'leur'} poursuite suppose une reprise par le droit commun."
            if n
            else f"Aucune action ne dépend à {seuil} ou plus des crédits spécifiques depuis au moins {duree}.",
        )
    sub = r.actions_substitution
    if not sub.empty:
        r.constat(
            "actions",
            f"Dans les domaines en substitution durable, {text.pluriel(len(sub), 'action en cours', 'actions en cours')} "
            f"la dernière année {'reçoit' if len(sub) < 2 else 'reçoivent'} "
            f"{text.euros(sub['montant_specifique'].sum())} de crédits spécifiques : leur avenir dépend d'un retour "
            "du droit commun.",
        )

    _reserves(r)
    _debat(r)
    _chiffres_cles(r)
    r.verdict = verdict(r)


def _reserves(r: RapportQ1) -> None:
    typo = r.substitution
    r.reserves.append(
        "Le droit commun est déclaré pour toute la commune, pas par quartier : il ne dit pas quelle part "
        "des moyens atteint les quartiers prioritaires."
    )
    r.reserves.append(
        "Les moyens de droit commun sont ceux que les institutions ont déclarés pour la commune : un recensement "
        "incomplet peut faire croire à un retrait, et donc à une substitution."
    )
    if r.programme and r.signataire is None:
        r.reserves.append(
            f"{majuscule(rapport.SIGNATAIRE_INCONNU)} pour {r.nom_commune} dans la table des communes : les chiffres "
            "de la page sont ceux de la programmation présente dans les données."
        )
    if r.programme and r.motif_droit_commun is None and not r.etat_seul:
        r.reserves.append(
            f"La typologie de substitution et le croisement des dispositifs avec le droit commun sont en {r.euros} "
            "(inflation déduite) ; les autres montants de la page sont en euros courants."
            if r.euros_constants
            else "Tous les montants sont en euros courants : une stabilité apparente peut cacher une baisse en "
            "euros constants."
        )
    if r.programme and not r.etat_seul and not r.droit_commun_autres_mesures.empty:
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
    if r.programme and r.etat_seul:
        r.reserves.append(
            f"Financements : {rapport.RAISON_ETAT_SEUL}. Les montants de la page sont ceux de l'État ; la part "
            "du droit commun, la typologie de substitution, le croisement avec le droit commun et les actions à "
            "reprendre sont « n.d. »."
        )
    elif r.programme:
        r.reserves.append(
            "Une substitution constatée dit que le droit commun a baissé pendant que les crédits spécifiques "
            "continuaient : elle ne dit pas que les uns ont causé le retrait de l'autre."
        )
    if not typo.empty and (typo["type"] == "indetermine").any():
        ind = typo[typo["type"] == "indetermine"]
        r.reserves.append(
            f"La typologie reste indéterminée pour {_domaines(ind)} : série trop courte, incomplète ou qui finit "
            "sous sa base."
        )


def _debat(r: RapportQ1) -> None:
    typo = r.substitution
    retraits = r.retraits.set_index("domaine") if not r.retraits.empty else pd.DataFrame()
    for row in typo[typo["type"] == "substitution_durable"].itertuples():
        qui = ""
        if row.domaine in retraits.index and retraits.loc[row.domaine, "variation"] < 0:
            w = retraits.loc[row.domaine]
            qui = (
                f" La baisse la plus forte est celle {de_institution(w['institution'])} "
                f"({text.euros_compacts(w['avant'])} par an avant le CUCS, {text.euros_compacts(w['pendant'])} "
                f"pendant, en {r.euros})."
            )
        r.debat.append(
            f"En {_dom(row.domaine)}, le droit commun reste {text.pluriel(int(row.plus_longue_serie), 'an')} de suite "
            f"sous sa base pendant que les crédits spécifiques continuent.{qui} Quelle institution doit reprendre "
            "ces moyens, et à quelles conditions ?"
        )
    for row in typo[typo["type"] == "substitution_temporaire"].itertuples():
        r.debat.append(
            f"En {_dom(row.domaine)}, le droit commun est revenu après "
            f"{text.pluriel(int(row.plus_longue_serie), 'an')} sous sa base : les crédits spécifiques ont-ils servi "
            "de levier, et comment garantir que la reprise dure ?"
        )
    top = r.actions_substitution.head(3)
    if not top.empty:
        r.debat.append(
            "Les actions des domaines en substitution durable les plus financées par les crédits spécifiques la "
            "dernière année sont "
            + text.liste_fr(
                [
                    f"« {isole(i)} » ({text.euros(m)})"
                    for i, m in zip(top["intitule"], top["montant_specifique"], strict=True)
                ]
            )
            + ". Qui en assure la suite si les crédits spécifiques baissent ?"
        )
    if r.programme:
        r.debat.append(
            "Quelles conditions de mobilisation du droit commun (conventions d'objectifs, engagements chiffrés par "
            "institution) mettre en débat avec les acteurs participants ?"
        )


def _chiffre(id_: str, libelle: str, valeur: object, unite: str, motif: str | None) -> dict:
    """A key figure; a value that cannot be given (a reason is known) is None with its reason."""
    return chiffre_cle(id_, libelle, None if motif is not None else valeur, unite, motif)


def _chiffres_cles(r: RapportQ1) -> None:
    fa = r.financement_annee.dropna(subset=["part_droit_commun"])
    part = None if fa.empty else round(100 * float(fa["droit_commun"].sum() / fa["total"].sum()), 1)
    counts = r.substitution["type"].value_counts() if not r.substitution.empty else pd.Series(dtype="int64")
    motif_part = r.motif_part or (None if part is not None else motifs.DONNEE_ABSENTE)
    r.chiffres_cles = [
        _chiffre(
            "part_droit_commun", "Part du droit commun dans le financement des actions", part, "%", motif_part
        ),
        _chiffre(
            "domaines_substitution_durable",
            "Domaines en substitution durable",
            int(counts.get("substitution_durable", 0)),
            "domaines",
            r.motif_typologie,
        ),
        _chiffre(
            "domaines_complementarite",
            "Domaines en complémentarité",
            int(counts.get("complementarite", 0)),
            "domaines",
            r.motif_typologie,
        ),
        _chiffre(
            "droit_commun_par_habitant",
            f"Droit commun déclaré par habitant et par an pendant le CUCS ({_periode_pendant(r)})",
            None if r.droit_commun_par_habitant is None else round(r.droit_commun_par_habitant),
            "€",
            None
            if r.droit_commun_par_habitant is not None
            else (r.motif_droit_commun or motifs.NON_CALCULABLE),
        ),
        _chiffre(
            "actions_en_jeu",
            "Actions dont la poursuite dépend d'une reprise par le droit commun",
            len(r.actions_en_jeu),
            "actions",
            r.motif_part,
        ),
    ]


def verdict(r: RapportQ1) -> dict:
    """One line that answers q1 for this commune, with its reason, and the section that holds the
    evidence (`SECTIONS`): « Droit commun : retrait durable en éducation depuis 2010 ; 4 actions à
    reprendre », or « Hors CUCS : … » / « Données non disponibles : … »."""
    if r.motif_programme == motifs.HORS_CUCS:
        return rapport.verdict(
            f"Hors CUCS : {r.nom_commune} n'a pas signé de CUCS ; ses moyens de droit commun servent "
            "de comparaison.",
            SECTIONS["droit_commun"],
            motifs.HORS_CUCS,
        )
    if r.motif_programme is not None and r.signataire is None:
        return rapport.verdict(
            f"Données non disponibles : {rapport.SIGNATAIRE_INCONNU} pour {r.nom_commune} et pas de "
            "programmation dans les données pour juger la cohérence du droit commun.",
            SECTIONS["dispositifs"],
            r.motif_programme,
        )
    if r.motif_programme is None and r.etat_seul:
        return rapport.verdict(
            f"Droit commun : n.d. — {rapport.RAISON_ETAT_SEUL} ; la cohérence avec le droit commun ne peut "
            f"pas être jugée ({text.euros_compacts(r.financement_annee['total'].sum())} de crédits de l'État "
            "aux actions).",
            SECTIONS["financements"],
            motifs.NON_CALCULABLE,
        )
    if r.motif_typologie is not None:
        manque = "la programmation" if r.motif_programme else "les crédits de droit commun"
        return rapport.verdict(
            f"Données non disponibles : {manque} de {r.nom_commune} "
            f"{'manque' if r.motif_programme else 'manquent'} pour juger la cohérence du droit commun.",
            SECTIONS["dispositifs"] if r.motif_programme else SECTIONS["droit_commun"],
            r.motif_typologie,
        )
    typo = r.substitution
    n_jeu = len(r.actions_en_jeu)
    reprendre = f"{text.aucun(n_jeu, 'action', feminin=True)} à reprendre"
    durables = typo[typo["type"] == "substitution_durable"].sort_values("debut_plus_longue_serie")
    if not durables.empty:
        quoi = text.liste_fr(
            [
                f"en {_dom(d)}" + (f" depuis {int(a)}" if pd.notna(a) else "")
                for d, a in zip(durables["domaine"], durables["debut_plus_longue_serie"], strict=True)
            ]
        )
        texte = f"Droit commun : retrait durable {quoi} ; {reprendre}"
    else:
        temp = typo[typo["type"] == "substitution_temporaire"]
        comp = typo[typo["type"] == "complementarite"]
        if not temp.empty:
            texte = (
                f"Droit commun : pas de retrait durable ; repli temporaire puis reprise en "
                f"{text.liste_fr([_dom(d) for d in temp['domaine']])} ; {reprendre}"
            )
        elif not comp.empty:
            texte = (
                f"Droit commun : maintenu, les crédits spécifiques s'y ajoutent "
                f"({text.parmi(len(comp), len(typo), 'domaine')} en complémentarité) ; {reprendre}"
            )
        else:
            texte = f"Droit commun : typologie indéterminée (séries trop courtes) ; {reprendre}"
    return rapport.verdict(texte + f" (en {r.euros}).", SECTIONS["substitution"])


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
# section's data is absent for the commune, the view is empty, says why (`manque`) and carries
# the reason's code in ``attrs["motif"]`` (hors_cucs, donnee_absente).


#: The default reason of a view: the programme's (hors CUCS, table absente).
_PROGRAMME = "programme"


def _motif(r: RapportQ1, motif: str | None) -> str | None:
    return r.motif_programme if motif == _PROGRAMME else motif


def manque(r: RapportQ1, quoi: str, motif: str | None = _PROGRAMME) -> str:
    """What an empty view lacks; its reason leads the sentence at display (``attrs["motif"]``:
    « Hors CUCS : tableau de bord des dispositifs. »), a missing table is named:
    « Données non disponibles : … (table absente des données pour Villefrêne). »."""
    if _motif(r, motif) == motifs.DONNEE_ABSENTE:
        return f"{quoi} (table absente des données pour {r.nom_commune})"
    if _motif(r, motif) == motifs.NON_CALCULABLE and r.etat_seul:
        return f"{quoi} ({rapport.RAISON_ETAT_SEUL})"
    return quoi


def absence(r: RapportQ1, quoi: str, motif: str | None = _PROGRAMME) -> display.Absence:
    """What a missing figure lacks, with its reason (the programme's by default; pass
    `r.motif_typologie` or `r.motif_part` for the figures that need every funder)."""
    return display.Absence(manque(r, quoi, motif), _motif(r, motif))


def _vue(r: RapportQ1, df: pd.DataFrame | None, colonnes: dict, quoi: str, motif: str | None = _PROGRAMME):
    motif = _motif(r, motif)
    v = display.vue(None if motif is not None else df, colonnes, vide=manque(r, quoi, motif))
    return rapport.marque_motif(v, motif)


def colonnes_tableau_de_bord(r: RapportQ1) -> dict:
    avant, pendant = _periode_avant(r), _periode_pendant(r)
    return {
        "dispositif": ("Dispositif", "texte"),
        "actions": ("Actions", "nombre"),
        "periode": ("Années", "texte"),
        "budget": (f"Budget {text.annee_periode(*r.periode)} (euros courants)", "euros_compacts"),
        "budget_specifique": ("Dont crédits spécifiques", "euros_compacts"),
        "budget_avant": (f"Budget annuel moyen avant le CUCS ({avant})", "euros"),
        "budget_pendant": (f"Budget annuel moyen pendant le CUCS ({pendant})", "euros"),
        "budget_difference": ("Écart pendant − avant", "euros"),
    }


COLONNES_REALISATION = {
    "dispositif": ("Dispositif", "texte"),
    "annees_realisees": ("Actions-années réalisées", "nombre"),
    "prevus_realisees": ("Bénéficiaires prévus (actions réalisées)", "nombre"),
    "realises": ("Bénéficiaires touchés (actions réalisées)", "nombre"),
    "taux_realisation": ("Taux de réalisation (touchés / prévus, actions réalisées)", "part"),
    "annees_non_pourvues": ("Actions-années non pourvues", "nombre"),
    "annees_abandonnees": ("Actions-années abandonnées", "nombre"),
    "prevus_non_realisees": ("Bénéficiaires prévus des actions non pourvues ou abandonnées", "nombre"),
    "annees_en_cours": ("Actions-années en cours (programmées)", "nombre"),
}
COLONNES_NON_RENSEIGNEES = {
    "annees_statut_inconnu": ("Actions-années de statut non renseigné (hors du taux)", "nombre"),
    "annees_hors_taux": (
        "Actions-années réalisées sans bénéficiaires prévus renseignés (hors du taux)",
        "nombre",
    ),
}
COLONNES_NON_REALISEES = {
    "dispositif": ("Dispositif", "texte"),
    "intitule": ("Action", "texte"),
    "statut": ("Statut", "texte"),
    "annees": ("Années", "texte"),
    "nombre": ("Actions-années", "nombre"),
    "beneficiaires_prevus": ("Bénéficiaires prévus", "nombre"),
}
COLONNES_PROGRAMMES = {
    "dispositif": ("Dispositif", "texte"),
    "rang": ("Rang", "nombre"),
    "intitule": ("Action", "texte"),
    "operateur": ("Opérateur", "texte"),
    "periode": ("Années", "texte"),
    "budget": ("Financement accordé (euros courants)", "euros"),
    "budget_specifique": ("Dont crédits spécifiques", "euros"),
}
COLONNES_FINANCEMENT_ANNEE = {
    "annee": ("Année", "annee"),
    "specifique": ("Crédits spécifiques", "euros"),
    "droit_commun": ("Droit commun", "euros"),
    "total": ("Total", "euros"),
    "part_droit_commun": ("Part du droit commun", "part"),
}


def colonnes_croisement(r: RapportQ1) -> dict:
    avant, pendant = _periode_avant(r), _periode_pendant(r)
    return {
        "dispositif": ("Dispositif", "texte"),
        "domaine": ("Domaine", "texte"),
        "sp_pendant": (f"Crédits spécifiques du dispositif par an pendant le CUCS ({pendant})", "euros"),
        "dc_avant": (f"Droit commun du domaine par an avant ({avant})", "euros"),
        "dc_pendant": (f"Droit commun du domaine par an pendant ({pendant})", "euros"),
        "dc_difference": ("Écart pendant − avant", "euros"),
        "type": ("Type de substitution du domaine", "texte"),
    }


def colonnes_substitution(r: RapportQ1) -> dict:
    unite = "€ constants " + str(r.annee_euros) if r.euros_constants else "€ courants"
    return {
        "domaine": ("Domaine", "texte"),
        "type": ("Type", "texte"),
        "base": (f"Base ({unite})", "euros"),
        "derniere_valeur": (f"Dernière année ({unite})", "euros"),
        "annees_sous_seuil": ("Années en dessous", "nombre"),
        "plus_longue_serie": ("Plus longue série", "nombre"),
        "raison": ("Lecture", "texte"),
    }


def vue_droit_commun(r: RapportQ1) -> pd.DataFrame:
    """Mainstream credits declared for the commune over the period (euros courants): institutions
    (rows, largest total first) × domains, with the total of each institution; a cell where the
    institution declared nothing is empty (n.d.), a declared 0 stays 0."""
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
    return _vue(r, df, colonnes, "crédits de droit commun déclarés pour la commune", r.motif_droit_commun)


def vue_contrat(r: RapportQ1) -> pd.DataFrame | None:
    """The contract-level actions of the commune's EPCI (Ci.Ville / P147: no commune), per
    dispositif and year, with their granted amount (the State's share when the source holds only
    it); None when the data hold no contract-level action at all."""
    c = r.contrat
    if c is None or c.n_donnees <= 0:
        return None
    t = c.tableau.assign(dispositif=lambda d: d["dispositif"].fillna("non renseigné").astype(str))
    montant = "Montant de l'État" if c.etat_seul else "Montant accordé"
    colonnes = {
        "dispositif": ("Dispositif", "texte"),
        "annee": ("Année", "annee"),
        "actions": ("Postes-années" if c.etat_seul else "Actions-années", "nombre"),
        "montant": (f"{montant} (euros courants)", "euros"),
    }
    vide = (
        f"actions au niveau du contrat de ville : code EPCI {text.de(r.nom_commune)} inconnu"
        if c.code_epci is None
        else f"actions au niveau du contrat de ville de l'EPCI {c.code_epci}"
    )
    return display.vue(t if len(t) else None, colonnes, vide=vide)


def tableau_contrat(r: RapportQ1) -> display.Html:
    """The table of the contract-level actions of the commune's EPCI, or nothing at all when the
    data hold no contract-level action (the demo)."""
    v = vue_contrat(r)
    if v is None or v.empty:  # nothing to tabulate: the section's sentence says why
        return display.Html("", "")
    return display.tableau(
        v, legende="Actions au niveau du contrat de ville (EPCI), non réparties entre ses communes"
    )


def vue_tableau_de_bord(r: RapportQ1) -> pd.DataFrame:
    """Per dispositif: actions, years, budget over the period (specific and mainstream, euros
    courants) and its mean yearly amount before and during the contract, with their difference
    computed from the amounts shown."""
    b = r.tableau_de_bord
    if r.programme:
        b = b.assign(
            periode=[
                text.annee_periode(a, z)
                for a, z in zip(b["premiere_annee"], b["derniere_annee"], strict=True)
            ]
        )
    return _vue(r, b, colonnes_tableau_de_bord(r), "tableau de bord des dispositifs")


def vue_realisation(r: RapportQ1) -> pd.DataFrame:
    """Per dispositif: planned and reached beneficiaries on the same rows (realised action-years)
    and their rate; the action-years not carried out, abandoned or still running, apart."""
    b = _publie(r.tableau_de_bord, r.secret.get("tableau_de_bord"))
    colonnes = dict(COLONNES_REALISATION)
    # Unknown values, counted apart: shown only when the data have some.
    for c, entete in COLONNES_NON_RENSEIGNEES.items():
        if c in b and pd.to_numeric(b[c], errors="coerce").fillna(0).sum() > 0:
            colonnes[c] = entete
    return _vue(r, b, colonnes, "réalisation des actions par dispositif")


def vue_actions_non_realisees(r: RapportQ1) -> pd.DataFrame:
    """The actions outside the achievement rate, by name: non pourvues, abandonnées, en cours."""
    a = _publie(r.actions_non_realisees, r.secret.get("actions_non_realisees"))
    v = _vue(r, a, COLONNES_NON_REALISEES, "actions non réalisées")
    if r.programme:
        v.attrs["vide"] = "aucune action non pourvue, abandonnée ou en cours"
    return v


def vue_programmes(r: RapportQ1) -> pd.DataFrame:
    """The main actions of each dispositif (by funding received), with operator and years."""
    p = r.programmes
    if r.programme and not p.empty:
        p = p.assign(
            periode=[
                text.annee_periode(a, z)
                for a, z in zip(p["premiere_annee"], p["derniere_annee"], strict=True)
            ]
        )
    return _vue(r, p, COLONNES_PROGRAMMES, "programmes des dispositifs")


def vue_croisement(r: RapportQ1) -> pd.DataFrame:
    """Each dispositif beside the mainstream credits of its domain, before and during the
    contract (euros of the typology), and the domain's substitution type."""
    c = r.croisement
    if not c.empty:
        c = c.assign(
            domaine=c["domaine"].map(libelle_domaine),
            type=c["type"].map(TYPE_LIBELLES),
            dc_difference=rapport.ecarts_affiches(c["dc_avant"], c["dc_pendant"], 0),
        )
    return _vue(
        r, c, colonnes_croisement(r), "dispositifs et droit commun de leur domaine", r.motif_typologie
    )


def vue_financement_annee(r: RapportQ1) -> pd.DataFrame:
    """Funding of the actions per year: specific credits, mainstream, total and mainstream share
    (the State's amounts only, when the source holds only them)."""
    colonnes = COLONNES_FINANCEMENT_ANNEE
    if r.etat_seul:
        colonnes = {"annee": colonnes["annee"], "total": ("Crédits de l'État (programme 147)", "euros")}
    return _vue(r, r.financement_annee, colonnes, "financement des actions par année")


def vue_substitution(r: RapportQ1) -> pd.DataFrame:
    """The substitution typology by domain, with the sentence that reads each row."""
    return _vue(
        r, tableau_substitution(r), colonnes_substitution(r), "typologie par domaine", r.motif_typologie
    )


def vue_actions_en_jeu(r: RapportQ1) -> pd.DataFrame:
    """Actions funded mostly by specific credits for several years running (programme.py's view)."""
    v = programme.vue_actions_en_jeu(r)
    if r.motif_part is not None:
        v.attrs.update(
            vide=manque(r, "actions dépendant des crédits spécifiques", r.motif_part), motif=r.motif_part
        )
    return v


def vue_actions_substitution(r: RapportQ1) -> pd.DataFrame:
    """The running actions of the domains in durable substitution (programme.py's view)."""
    v = programme.vue_actions_substitution(r)
    if r.motif_typologie is not None:
        v.attrs.update(
            vide=manque(r, "actions des domaines en substitution durable", r.motif_typologie),
            motif=r.motif_typologie,
        )
    return v


# --- figures (each returns a matplotlib Figure with its French alt text, or None) ------------


def figure_droit_commun(r: RapportQ1):
    """Heatmap of mainstream credits by institution × domain over the period."""
    from cucs_analysis.present import plots

    m = r.droit_commun
    if m.empty or np.nansum(m.to_numpy()) <= 0:
        return None
    shown = m.loc[m.sum(axis=1).sort_values(ascending=False).index].copy()
    shown.index = [majuscule(i) for i in shown.index]
    shown.columns = [libelle_domaine(c) for c in shown.columns]
    periode = text.annee_periode(*r.periode)
    fig = plots.heatmap(
        shown,
        f"Moyens de droit commun par institution et domaine, {periode} (euros courants)",
        xlabel="Domaine",
        ylabel="Institution",
        unite="€",
    )
    fig.axes[0].tick_params(axis="x", labelrotation=30)
    for lab in fig.axes[0].get_xticklabels():
        lab.set_ha("right")
    fig.tight_layout()
    top = shown.stack().dropna().sort_values(ascending=False).head(3)
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
    if not r.programme or s.empty or s["montant_accorde"].sum() <= 0:
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
        wide, "Financement des actions par source et type de crédit (euros courants)", "Montant accordé", "€"
    )
    fa = r.financement_annee.dropna(subset=["part_droit_commun"])
    if r.etat_seul:
        return plots.set_alt(
            fig,
            f"Barres empilées par année : montants accordés par l'État aux actions de {r.nom_commune} "
            f"(la source ne contient que la part de l'État). Part du droit commun : n.d.",
        )
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
    if not r.programme or b.empty or r.tableau_de_bord.empty:
        return None
    top = [d for d in r.tableau_de_bord["dispositif"].astype(str) if not d.endswith(HORS_DISPOSITIF)][:nombre]
    data = b[b["dispositif"].isin(top)][["dispositif", "annee", "total"]]
    if data.empty:
        return None
    fig = plots.series_temporelles(
        data.assign(annee=data["annee"].astype(int)),
        "annee",
        "total",
        "dispositif",
        "Budget annuel des principaux dispositifs (euros courants)",
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
        f"Droit commun par domaine en {r.euros} (base 100 = moyenne {text.liste_fr(r.annees_reference)}) ; "
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
        f"Petits graphiques, un par domaine : crédits de droit commun de {r.nom_commune} en {r.euros}, en indice (base 100 = moyenne "
        f"de {text.liste_fr(r.annees_reference)}), avec le seuil de tolérance à {text.nombre(seuil)} et la période du "
        f"CUCS en grisé. Type retenu : {details}.",
    )


def sources(r: RapportQ1, params, metadata) -> list[str]:
    """The 'Sources et méthode' list, with the values actually used."""
    avant, pendant = _periode_avant(r), _periode_pendant(r)
    out = [
        rapport.source_donnees(metadata),
        "Droit commun : table des moyens de droit commun déclarés par institution, domaine et année (crédits en "
        "euros au niveau de la commune entière, pas du quartier) ; crédits spécifiques : montants accordés aux "
        "actions de la programmation (type de crédit « spécifique »), rattachés au domaine de l'action.",
        regle(r),
        (
            f"Euros constants : la typologie et le croisement des dispositifs avec le droit commun ramènent chaque "
            f"année aux prix de {r.annee_euros} ({r.source_inflation}). Les autres montants sont en euros courants."
            if r.euros_constants
            else "Euros courants partout (paramètre euros_constants.actif = false) : l'inflation n'est pas déduite."
        ),
        (
            f"Avant / pendant le CUCS : {rapport.AUCUNE_ANNEE_AVANT} (le contrat commence en {r.annee_debut_cucs}, "
            f"première année des données) ; seules les moyennes annuelles de {pendant} sont calculées."
            if rapport.sans_annee_avant(r.periode, r.annee_debut_cucs)
            else f"Avant / pendant le CUCS : moyennes annuelles de {avant} et de {pendant} (jamais une première et une "
            "dernière année) ; les écarts affichés sont calculés sur les montants affichés."
        ),
        f"Actions dont la poursuite dépend d'une reprise : actions en cours la dernière année dont les crédits "
        f"spécifiques représentent au moins {text.pourcentage(100 * r.seuil_specifique, 0)} du financement depuis au "
        f"moins {text.pluriel(r.duree_min_reprise, 'an')} de suite.",
        "Tableau de bord des dispositifs : actions distinctes et montants accordés (tous types de crédit). Taux de "
        "réalisation : bénéficiaires touchés / bénéficiaires prévus, sur les seules actions-années réalisées qui "
        "déclarent un nombre de bénéficiaires touchés ; les actions non pourvues, abandonnées ou encore en cours "
        "sont comptées à part. Les actions hors dispositif sectoriel (« autre ») sont regroupées par programme (même "
        "intitulé, sans le lieu) : « … (hors dispositif) ».",
        rapport.source_secret(params.seuil_secret) + ".",
    ]
    return out
