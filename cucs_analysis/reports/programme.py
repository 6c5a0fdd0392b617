"""What q1 and q4 share about a commune's CUCS programme: why a view is empty, and the
actions whose takeover by mainstream means is at stake (the "effet levier" both questions
discuss). Their reports re-export the two views, so each notebook shows them as its own."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cucs_analysis.analysis import funding, motifs, privacy
from cucs_analysis.present import display, text
from cucs_analysis.present.labels import libelle_domaine
from cucs_analysis.reports import rapport

#: The actions whose continuation depends on a takeover by mainstream means (q1 and q4 show them).
COLONNES_ACTIONS_EN_JEU = {
    "intitule": ("Action", "texte"),
    "dispositif": ("Dispositif", "texte"),
    "thematique": ("Domaine", "texte"),
    "annees_consecutives": ("Années de suite", "nombre"),
    "montant_specifique": ("Crédits spécifiques (dernière année)", "euros"),
    "part_specifique": ("Part des crédits spécifiques", "part"),
}
#: The running actions of the domains in durable substitution (q1 and q4 show them).
COLONNES_ACTIONS_SUBSTITUTION = {
    "intitule": ("Action", "texte"),
    "dispositif": ("Dispositif", "texte"),
    "thematique": ("Domaine", "texte"),
    "montant_specifique": ("Crédits spécifiques", "euros"),
    "montant_droit_commun": ("Droit commun", "euros"),
}
#: How many actions of the durable-substitution domains the table shows (largest specific first).
N_ACTIONS_SUBSTITUTION = 15


def manque(r, quoi: str) -> str:
    """What an empty view of `r` lacks (q1 and q4); the reason leads the sentence at display
    (« Hors CUCS : … », from the view's ``attrs["motif"]``, see `_hors_cucs`)."""
    return quoi


def _hors_cucs(v: pd.DataFrame, r) -> pd.DataFrame:
    """Mark an empty view of a non-signatory commune: display writes « Hors CUCS : … »."""
    return rapport.marque_motif(v, motifs.HORS_CUCS if r.signataire is False else None)


#: An action's domain that the data leave unknown (thematique NA): shown as such, never a domain.
NON_RENSEIGNE = "non renseigné"


def domaine_affiche(d: object) -> str:
    """The French label of a domain, « non renseigné » when unknown."""
    return NON_RENSEIGNE if text.manquant(d) else libelle_domaine(d)


def vue_actions_en_jeu(r) -> pd.DataFrame:
    """Actions funded mostly by specific credits for several years running; `r` is q1's or q4's report."""
    a = r.actions_en_jeu
    if r.signataire is False:
        return _hors_cucs(
            display.vue(
                None, COLONNES_ACTIONS_EN_JEU, vide=manque(r, "actions dépendant des crédits spécifiques")
            ),
            r,
        )
    return display.vue(
        a.assign(thematique=a["thematique"].map(domaine_affiche)),
        COLONNES_ACTIONS_EN_JEU,
        vide=f"aucune action financée à {text.pourcentage(100 * r.seuil_specifique, 0)} ou plus par les "
        f"crédits spécifiques depuis {text.pluriel(r.duree_min_reprise, 'an')}",
    )


def vue_actions_substitution(r) -> pd.DataFrame:
    """The running actions (last year) of the domains in durable substitution, the
    `N_ACTIONS_SUBSTITUTION` largest specific amounts; `r` is q1's or q4's report."""
    a = r.actions_substitution.head(N_ACTIONS_SUBSTITUTION)
    v = display.vue(
        a.assign(thematique=a["thematique"].map(domaine_affiche)) if r.signataire is not False else None,
        COLONNES_ACTIONS_SUBSTITUTION,
        vide="aucune action en cours dans un domaine en substitution durable"
        if r.signataire is not False
        else manque(r, "actions des domaines en substitution durable"),
    )
    return _hors_cucs(v, r)


# --- the substitution typology in the euros the parameters choose (q1; q4 may use it too) ------


@dataclass
class TypologieEuros:
    """The substitution typology of one commune and the tables it was computed on.

    `constants`: True when the mainstream and specific credits were deflated to the euros of
    `annee_reference` (params ``euros_constants``), False for current euros; `droit_commun` and
    `financements` are the tables in those euros (for the figure and the cross with dispositifs).
    """

    substitution: pd.DataFrame  # funding.substitution_typology
    series: pd.DataFrame  # funding.substitution_series: domaine, annee, dc, sp
    droit_commun: pd.DataFrame
    financements: pd.DataFrame
    constants: bool
    annee_reference: int
    source: str


def euros_des_parametres(params) -> tuple[bool, int, str, pd.Series | None]:
    """(constant euros on?, year of the euros shown, source of the inflation series, price factors)."""
    e = params.euros_constants
    reference = e.reference(params.periode)
    facteurs = funding.price_factors(e.taux(), reference) if e.actif else None
    return bool(e.actif), reference, str(e.source), facteurs


def typologie_substitution(territoire, params, actions: pd.DataFrame | None = None) -> TypologieEuros:
    """The typology (docs/rules.md q1) in constant euros when ``euros_constants.actif``.

    Deflating every year by the price index changes the ratio of each year to the reference
    mean, hence the typology: a flat budget in current euros falls in constant euros. The year of
    the euros shown (`annee_reference`) does not change the types, only the amounts printed.
    `actions` defaults to the commune's actions (q1 passes them with « autre » split by domain).
    """
    actions = territoire.actions if actions is None else actions
    dc, fin = territoire.droit_commun, territoire.financements
    constants, reference, source, facteurs = euros_des_parametres(params)
    if facteurs is not None:
        dc = funding.deflate_mainstream(dc, facteurs)
        fin = funding.to_constant_euros(fin, facteurs, "montant_accorde")
    s = params.substitution
    code = territoire.code_commune
    typo = funding.substitution_typology(
        dc,
        fin,
        actions,
        code,
        [int(a) for a in s.annees_reference],
        int(params.annee_debut_cucs),
        float(s.tolerance),
        int(s.duree_max_annees),
    )
    series = funding.substitution_series(dc, fin, actions, code)
    return TypologieEuros(typo, series, dc, fin, constants, reference, source)


def libelle_euros(constants: bool, annee_reference: int) -> str:
    """« euros constants de 2014 » or « euros courants »."""
    return f"euros constants de {annee_reference}" if constants else "euros courants"


def secret_non_realisees(actions: pd.DataFrame, operateurs: pd.DataFrame | None, seuil: int) -> pd.Series:
    """Which actions' planned beneficiaries of unfilled years (non pourvue, abandonnée) are
    secret — one decision for every page that shows them (q1's table of these actions and its
    dashboard, q2's table of the association actions).

    The count per action (all its unfilled years) goes through `privacy.secret_with_totals`
    with the totals the pages print: all the commune's actions (q1), its association actions
    (q2) and, by difference, the others. Returns a boolean Series indexed by ``id_action``.
    """
    if actions is None or actions.empty:
        return pd.Series(dtype=bool)
    a = actions[actions["statut"].astype(str).isin(funding.STATUTS_NON_REALISEES)]
    if a.empty:
        return pd.Series(dtype=bool)
    per = a.groupby("id_action")["beneficiaires_prevus"].sum(min_count=1).astype(float)
    assoc: set = set()
    if operateurs is not None and not operateurs.empty:
        assoc = set(
            operateurs.loc[operateurs["statut_juridique"].astype(str) == "association", "id_operateur"]
        )
    est_assoc = a.groupby("id_action")["id_operateur"].last().isin(assoc).reindex(per.index, fill_value=False)
    tout = pd.Series(True, index=per.index)
    return privacy.secret_with_totals(per, [tout, est_assoc, ~est_assoc], seuil).mask


def phrase_non_renseignes(real: pd.DataFrame) -> str:
    """The action-years of unknown status, and the realised ones whose planned figure is unknown,
    counted apart (never a status, never 0 planned), or ""."""
    n_statut = int(real["annees_statut_inconnu"].sum()) if "annees_statut_inconnu" in real else 0
    n_prevus = int(real["annees_hors_taux"].sum()) if "annees_hors_taux" in real else 0
    parts = []
    if n_statut:
        parts.append(
            f"statut non renseigné pour {text.pluriel(n_statut, 'action-année', 'actions-années')} "
            "(ni réalisée, ni non réalisée : hors du taux)"
        )
    if n_prevus:
        parts.append(
            f"bénéficiaires prévus non renseignés pour {text.pluriel(n_prevus, 'action-année réalisée', 'actions-années réalisées')} "
            "(laissées hors du taux de réalisation)"
        )
    return f"Non renseigné : {' ; '.join(parts)}." if parts else ""
