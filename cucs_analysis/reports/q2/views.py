"""q2 views: the tables the notebook shows, as numbers with French headers and units
(`present.display.vue`); an empty view, which says what is missing, when the section's data is
absent for the commune. Headers state the base of every rate; an empty view of a commune
outside the CUCS says « hors CUCS » and carries the motif (``attrs["motif"]``)."""

from __future__ import annotations

import pandas as pd

from cucs_analysis.analysis import motifs
from cucs_analysis.present import display, text
from cucs_analysis.reports import rapport
from cucs_analysis.reports.q2.tables import PRECISIONS, REPONDANTS, SERIES, RapportQ2, precision_public

CONVERGENCE = {"convergence": "réduit", "divergence": "creusé", "stable": "stable"}
TENDANCES = {"hausse": "en hausse", "baisse": "en baisse", "stable": "pas de tendance nette"}
BILANS = {
    "réussite": "Réussites",
    "difficulté": "Difficultés",
    "blocage": "Blocages",
    "écart expliqué": "Écarts expliqués",
}
#: The base of every achievement rate, said in the headers.
BASE = "années réalisées déclarant un effectif"


def _count(values: pd.Series, secret: pd.Series) -> pd.Series:
    """Counts after secrecy: the number, or « s » where the cell is secret."""
    return display.avec_secret(values, secret.fillna(False))


def _unit_of_gaps(r: RapportQ2, indicateurs: pd.Series) -> str:
    """Points when every indicator shown is a rate, else plain numbers (with a unit column)."""
    return "points" if indicateurs.map(r.unites).eq("%").all() else "decimal"


def _vide(r: RapportQ2, quoi: str, *, programme: bool = True) -> str:
    """What an empty view lacks; its reason (``attrs["motif"]``, set by `_vue`) leads the
    sentence at display: « Hors CUCS : … » for a programme view of a non-signatory commune."""
    return quoi


def _vue(r: RapportQ2, df, colonnes: dict, vide: str, *, programme: bool = True) -> pd.DataFrame:
    """`display.vue` with the reason of an empty view in ``attrs["motif"]``."""
    v = display.vue(df, colonnes, vide=_vide(r, vide, programme=programme))
    if v.empty:
        rapport.marque_motif(
            v,
            motifs.HORS_CUCS if (programme and r.signataire is False) else (r.motif or motifs.DONNEE_ABSENTE),
        )
    return v


def vue_actions(r: RapportQ2) -> pd.DataFrame:
    """The most significant actions: means and achievements on one base."""
    a = r.actions_significatives
    df = None
    if not r.actions.empty:
        df = a.assign(
            rang=range(1, len(a) + 1),
            prevus=_count(a["beneficiaires_prevus"], a["beneficiaires_prevus_secret"]),
            touches=_count(a["beneficiaires_realises"], a["beneficiaires_realises_secret"]),
            non_realisees=a["annees_non_pourvues"] + a["annees_abandonnees"],
        )
    return _vue(
        r,
        df,
        {
            "rang": ("Rang", "nombre"),
            "intitule": ("Action", "texte"),
            "quartier": ("Quartier", "texte"),
            "periode": ("Années", "texte"),
            "credits_specifiques": ("Crédits spécifiques", "euros"),
            "cofinancements": ("Cofinancements de droit commun", "euros"),
            "annees_base": (f"Base : {BASE}", "nombre"),
            "prevus": ("Bénéficiaires prévus (sur la base)", "nombre"),
            "touches": ("Bénéficiaires touchés (sur la base)", "nombre"),
            "taux_realisation": ("Réalisation : touchés / prévus (sur la base)", "part"),
            "non_realisees": ("Années non pourvues ou abandonnées (hors base)", "nombre"),
            "cout_par_beneficiaire": ("Crédits par bénéficiaire touché", "euros"),
        },
        "aucune action associative financée dans la commune",
    )


def vue_non_realisees(r: RapportQ2) -> pd.DataFrame:
    """The actions with years not carried out, named apart from the achievement rates."""
    n = r.non_realisees
    if "prevus_non_realisees_secret" in n:
        n = n.assign(prevus_non_realisees=_count(n["prevus_non_realisees"], n["prevus_non_realisees_secret"]))
    return _vue(
        r,
        None if r.actions.empty else n,
        {
            "intitule": ("Action", "texte"),
            "quartier": ("Quartier", "texte"),
            "periode": ("Années", "texte"),
            "annees_non_pourvues": ("Années non pourvues", "nombre"),
            "annees_abandonnees": ("Années abandonnées", "nombre"),
            "prevus_non_realisees": ("Bénéficiaires prévus ces années-là", "nombre"),
        },
        "aucune action associative financée dans la commune"
        if r.actions.empty
        else "aucune action associative n'a d'année non pourvue ou abandonnée",
    )


def vue_actions_declarees(r: RapportQ2) -> pd.DataFrame:
    """The most significant actions as declared: operator, theme, public and objective."""
    a = r.actions_significatives
    return _vue(
        r,
        None
        if r.actions.empty
        else a.assign(
            rang=range(1, len(a) + 1),
            precision=precision_public(a["public_cible"]).map(PRECISIONS),
            objectif=a["objectif"].where(
                a["objectif"].astype("string").str.strip().fillna("").ne(""), "non déclaré"
            ),
        ),
        {
            "rang": ("Rang", "nombre"),
            "intitule": ("Action", "texte"),
            "operateur": ("Opérateur", "texte"),
            "thematique": ("Thématique", "texte"),
            "dispositif": ("Dispositif", "texte"),
            "public_cible": ("Public visé (déclaré)", "texte"),
            "precision": ("Précision du public", "texte"),
            "objectif": ("Objectif (déclaré)", "texte"),
        },
        "aucune action associative financée dans la commune",
    )


def vue_qualification(r: RapportQ2) -> pd.DataFrame:
    """How precisely the association actions qualify their publics and objectives."""
    q = r.qualification
    return _vue(
        r,
        None if r.actions.empty or q.empty else q,
        {
            "libelle": ("Public déclaré", "texte"),
            "actions": ("Actions", "nombre"),
            "part_actions": ("Part des actions", "part"),
            "credits_specifiques": ("Crédits spécifiques", "euros"),
            "part_credits": ("Part des crédits", "part"),
            "objectif_declare": ("Actions déclarant un objectif", "nombre"),
        },
        "aucune action associative financée dans la commune",
    )


def vue_publics(r: RapportQ2) -> pd.DataFrame:
    """Means and achievement on one base per declared public."""
    p = r.publics
    df = None
    if not r.actions.empty:
        df = p.assign(
            prevus=_count(p["beneficiaires_prevus"], p["beneficiaires_prevus_secret"]),
            touches=_count(p["beneficiaires_realises"], p["beneficiaires_realises_secret"]),
            non_realisees=p["annees_non_pourvues"] + p["annees_abandonnees"],
            precision=p["precision"].map(PRECISIONS),
        )
    return _vue(
        r,
        df,
        {
            "public_cible": ("Public visé (déclaré)", "texte"),
            "precision": ("Précision du public", "texte"),
            "actions": ("Actions", "nombre"),
            "credits_specifiques": ("Crédits spécifiques", "euros"),
            "annees_base": (f"Base : {BASE}", "nombre"),
            "prevus": ("Bénéficiaires prévus (sur la base)", "nombre"),
            "touches": ("Bénéficiaires touchés (sur la base)", "nombre"),
            "taux_realisation": ("Réalisation : touchés / prévus (sur la base)", "part"),
            "non_realisees": ("Années non pourvues ou abandonnées (hors base)", "nombre"),
        },
        "aucune action associative financée dans la commune",
    )


def vue_bilans(r: RapportQ2) -> pd.DataFrame:
    """What the activity reports of the most significant actions say, quoted."""
    b = r.bilans
    return _vue(
        r,
        None
        if b.empty
        else b.assign(
            constats=_count(b["constats"], b["constats_secret"]),
            reussite=b["reussite"].fillna("aucune"),
            difficulte=b["difficulte"].fillna("aucune"),
            ecart=b["ecart"].fillna("aucun"),
        ),
        {
            "intitule": ("Action", "texte"),
            "annees": ("Années des bilans", "texte"),
            "constats": ("Constats codés", "nombre"),
            "reussite": ("Réussites rapportées", "texte"),
            "difficulte": ("Difficultés et blocages rapportés", "texte"),
            "ecart": ("Écarts expliqués", "texte"),
            "theme_principal": ("Thème le plus cité", "texte"),
        },
        "aucune des actions les plus significatives n'a de bilan d'activité codé"
        if r.signataire is not False and not r.actions.empty
        else "bilans d'activité des actions les plus significatives",
    )


def vue_bilans_themes(r: RapportQ2) -> pd.DataFrame:
    """Coded statements of the significant actions' reports, theme × category, after secrecy."""
    t = r.bilans_themes
    df = None
    if not t.empty:
        df = t.assign(**{c: _count(t[c], t[f"{c}_secret"]) for c in [*BILANS, "total"]})
    cols = {"theme": ("Thème", "texte")}
    cols.update({c: (h, "nombre") for c, h in BILANS.items()})
    cols["total"] = ("Ensemble des constats", "nombre")
    return _vue(
        r,
        df,
        cols,
        "aucune des actions les plus significatives n'a de bilan d'activité codé"
        if r.signataire is not False and not r.actions.empty
        else "bilans d'activité des actions les plus significatives",
    )


def vue_intensite(r: RapportQ2) -> pd.DataFrame:
    """Funding intensity of each quartier of the commune and its group in the comparison."""
    i = r.intensite
    entete = f"Crédits aux associations par habitant et par an (depuis {text.annee(r.annee_traitement)})"
    return _vue(
        r,
        i,
        {
            "nom": ("Quartier", "texte"),
            "intensite_moyenne": (entete, "euros_decimal"),
            "statut": ("Groupe", "texte"),
        },
        f"aucun quartier {text.de(r.nom_commune)} n'est suivi dans les données",
        programme=False,
    )


def vue_tendances(r: RapportQ2) -> pd.DataFrame:
    """Each series before the CUCS and during it: values, difference, bases, small bases."""
    p = r.periodes
    avant = text.periode_avant(r.periode_debut, r.annee_debut_cucs)
    pendant = text.annee_periode(r.annee_debut_cucs, r.periode_fin)
    df = None
    if not p.empty:
        df = p.assign(
            libelle=p["indicateur"].map(r.libelles).fillna(p["indicateur"]),
            serie=p["serie"].map(SERIES).fillna(p["serie"]),
            valeur_avant=p["valeur_avant"].where(p["avant_testable"]),
            difference=[
                text.difference_affichee(a, b, 1) if ok else None
                for a, b, ok in zip(p["valeur_avant"], p["valeur_pendant"], p["avant_testable"], strict=True)
            ],
            base=p["methode"].map(
                {
                    "taux": "taux regroupé",
                    "moyenne": "moyenne des taux annuels",
                    "sans_effectifs": "n.d. : taux publiés sans effectifs, non regroupables entre quartiers",
                }
            ),
            note=[
                "avant non testable (la série commence avec le CUCS)"
                if not ok
                else ("petite base" if small else "")
                for ok, small in zip(p["avant_testable"], p["petite_base"], strict=True)
            ],
        )
        df["difference"] = df["difference"].astype(float)
        for c in ("numerateur_avant", "denominateur_avant", "numerateur_pendant", "denominateur_pendant"):
            if f"{c}_secret" in df:
                df[c] = _count(df[c], df[f"{c}_secret"])
        if "secret" in df:
            df["note"] = df["note"].where(~df["secret"].astype(bool), "secret statistique")
    unite = "points" if all(r.unites.get(i) == "%" for i in r.indicateurs) else "decimal"
    valeur = "pourcentage" if unite == "points" else "decimal"
    return _vue(
        r,
        df,
        {
            "libelle": ("Indicateur", "texte"),
            "serie": ("Série", "texte"),
            "n_quartiers": ("Quartiers", "nombre"),
            "valeur_avant": (f"Avant le CUCS ({avant})", valeur),
            "valeur_pendant": (f"Pendant le CUCS ({pendant})", valeur),
            "difference": ("Différence (pendant − avant)", unite),
            "base": ("Calcul", "texte"),
            "numerateur_avant": ("Numérateur avant", "nombre"),
            "denominateur_avant": ("Dénominateur avant", "nombre"),
            "numerateur_pendant": ("Numérateur pendant", "nombre"),
            "denominateur_pendant": ("Dénominateur pendant", "nombre"),
            "note": ("Remarque", "texte"),
        },
        f"aucun quartier {text.de(r.nom_commune)} n'est suivi dans les données",
        programme=False,
    )


def vue_ecarts(r: RapportQ2) -> pd.DataFrame:
    """Gaps of the commune's quartiers to the commune before and during the CUCS, and their trend."""
    e = r.ecarts
    unite = _unit_of_gaps(r, e["indicateur"])
    avant = text.periode_avant(r.periode_debut, r.annee_debut_cucs)
    pendant = text.annee_periode(r.annee_debut_cucs, r.periode_fin)
    df = (
        None
        if e.empty
        else e.assign(
            libelle=e["indicateur"].map(r.libelles).fillna(e["indicateur"]),
            groupe=e["groupe"].fillna("non classé"),
            evolution=e["convergence"].map(CONVERGENCE).fillna("avant non testable"),
            tendance=e["tendance"].map(TENDANCES).fillna("non calculable"),
            unite=e["indicateur"].map(r.unites),
            petite=e["petite_base"].map({True: "petite base", False: ""}),
        )
    )
    if df is not None:
        for c in ("denominateur_avant", "denominateur_pendant"):
            if f"{c}_secret" in df:
                df[c] = _count(df[c], df[f"{c}_secret"])
        if "secret" in df:
            df["petite"] = df["petite"].where(~df["secret"].astype(bool), "secret statistique")
    cols = {
        "nom": ("Quartier", "texte"),
        "groupe": ("Groupe", "texte"),
        "libelle": ("Indicateur", "texte"),
        "ecart_avant": (f"Écart à la commune avant le CUCS ({avant})", unite),
        "ecart_pendant": (f"Écart à la commune pendant le CUCS ({pendant})", unite),
        "evolution_ecart": ("Évolution de l'écart", unite),
        "evolution": ("Lecture", "texte"),
        "denominateur_avant": ("Base du quartier avant (dénominateur)", "nombre"),
        "denominateur_pendant": ("Base du quartier pendant (dénominateur)", "nombre"),
        "comparaison_fin": ("Écart significatif (dernière année)", "texte"),
        "tendance": (f"Tendance du quartier ({text.annee_periode(r.periode_debut, r.periode_fin)})", "texte"),
        "petite": ("Remarque", "texte"),
    }
    if unite != "points":
        cols["unite"] = ("Unité", "texte")
    return _vue(
        r, df, cols, f"aucun quartier {text.de(r.nom_commune)} n'est suivi dans les données", programme=False
    )


def vue_did(r: RapportQ2) -> pd.DataFrame:
    """The region-wide difference-in-differences, one row per indicator."""
    d = r.did
    unite = _unit_of_gaps(r, d["indicateur"])
    nd = r.did_nd
    df = (
        None
        if d.empty or nd  # a group without quartier: no row of empty estimates, the reason
        else d.assign(
            libelle=d["indicateur"].map(r.libelles).fillna(d["indicateur"]),
            n_comparaison=d["n_quartiers"] - d["n_traites"],
            paralleles=d["pre_tendance_ok"].map(
                lambda v: "non testable" if text.manquant(v) else ("oui" if v else "non")
            ),
            unite=d["indicateur"].map(r.unites),
        )
    )
    cols = {
        "libelle": ("Indicateur", "texte"),
        "estimation": ("Écart d'évolution estimé (région)", unite),
        "ic_bas": ("IC à 95 % : borne basse", unite),
        "ic_haut": ("IC à 95 % : borne haute", unite),
        "p_value": ("p-valeur", "p_valeur"),
        "n_traites": ("Quartiers financés (région)", "nombre"),
        "n_comparaison": ("Quartiers de comparaison (région)", "nombre"),
        "paralleles": ("Évolutions parallèles avant le financement", "texte"),
    }
    if unite != "points":
        cols["unite"] = ("Unité", "texte")
    if nd:
        v = display.vue(None, cols, vide=f"différence de différences (n.d.), car {r.did_raison}")
        return rapport.marque_motif(v, motifs.DONNEE_ABSENTE)
    return _vue(r, df, cols, "comparaison entre quartiers financés et de comparaison", programme=False)


def vue_enquetes(r: RapportQ2) -> pd.DataFrame:
    """Share of respondents agreeing with each statement, per respondent type and year."""
    s = r.enquetes
    order = {k: i for i, k in enumerate(REPONDANTS)}
    df = None
    if not s.empty:
        df = s.assign(
            repondants=s["type_repondant"].map(REPONDANTS).fillna(s["type_repondant"]),
            n_publie=_count(s["n"], s["secret"]),
            rang=s["type_repondant"].map(order),
        ).sort_values(["question", "rang", "annee"])
    if r.signataire is not False:
        vide = f"aucune enquête auprès des habitants, des opérateurs ou des partenaires des quartiers {text.de(r.nom_commune)} dans les données"
    else:
        vide = f"aucune enquête ne porte sur les quartiers {text.de(r.nom_commune)}"
    v = display.vue(
        df,
        {
            "question": ("Affirmation", "texte"),
            "repondants": ("Répondants", "texte"),
            "annee": ("Année", "annee"),
            "n_publie": ("Réponses", "nombre"),
            "accord": ("D'accord", "pourcentage"),
            "ic_bas": ("IC à 95 % : borne basse", "pourcentage"),
            "ic_haut": ("IC à 95 % : borne haute", "pourcentage"),
        },
        vide=vide,
    )
    if v.empty:
        rapport.marque_motif(v, motifs.HORS_CUCS if r.signataire is False else motifs.DONNEE_ABSENTE)
    return v


def vue_contribution(r: RapportQ2) -> pd.DataFrame:
    """The contribution chain: each link, what the data show, and its reading."""
    c = r.contribution
    return display.vue(
        None if c.empty else c,
        {
            "etape": ("Maillon de la chaîne de contribution", "texte"),
            "constat": ("Ce que montrent les données", "texte"),
            "lecture": ("Lecture", "texte"),
        },
        vide="chaîne de contribution",
    )
