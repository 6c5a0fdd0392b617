"""q2 in French: findings, the DiD read as a trend, the contribution chain, caveats, the
verdict, key figures and the « Sources et méthode » list. Every sentence is generated from the
tables; a commune outside the CUCS gets « hors CUCS », a missing table « données non
disponibles », and only a measured zero prints 0."""

from __future__ import annotations

import pandas as pd

from cucs_analysis.analysis import motifs, privacy
from cucs_analysis.present import labels, text
from cucs_analysis.reports import programme, rapport
from cucs_analysis.reports.q2.tables import (
    CITATION_ATELIER,
    GROUPES,
    N_ACTIONS,
    QUESTION_AMELIORATION,
    REPONDANTS,
    SECTIONS,
    SERIES,
    RapportQ2,
)
from cucs_analysis.reports.rapport import chiffre_cle

#: What a non-signatory commune has no object for (the subject of labels.phrase_hors_cucs).
OBJET_HORS_CUCS = "le financement d'actions associatives par le CUCS"
#: Categories of the activity reports, singular and plural, for sentences.
CATEGORIES = {
    "réussite": ("réussite", "réussites"),
    "difficulté": ("difficulté", "difficultés"),
    "blocage": ("blocage", "blocages"),
    "écart expliqué": ("écart expliqué", "écarts expliqués"),
}

NEN = ("n'en déclare", "n'en déclarent")
NA = ("n'a", "n'ont")
NEST = "n'est"

# --- French sentences -----------------------------------------------------------------------


def _ecart(x: object, unite: str) -> str:
    """A signed difference in the indicator's unit (points for a rate)."""
    if unite == "%":
        return text.points(x)
    if text.manquant(x):
        return text.ND
    s = text.nombre(x, 0 if unite in ("€", "hab.", "nombre") else 1, signe=True)
    return f"{s}{text.ESPACE_UNITE}{unite}" if unite not in ("", "nombre") else s


def _valeur(x: object, unite: str) -> str:
    """A level in the indicator's unit, one decimal for a rate."""
    if unite == "%":
        return text.pourcentage(x, 1)
    return text.valeur_unite(x, unite)


def _decimales(unite: str) -> int:
    return 0 if unite in ("€", "hab.", "nombre") else 1


def _intervalle(lo: object, hi: object, unite: str) -> str:
    return f"de {_ecart(lo, unite)} à {_ecart(hi, unite)}"


def phrase_did(row, libelle: str, unite: str, annee_traitement: int, sens: str | None = None) -> str:
    """One sentence on a DiD estimate, phrased as a trend with its interval (never as proof)."""
    sujet = text.minuscule_initiale(libelle)
    n_t = int(row["n_traites"]) if "n_traites" in row and not text.manquant(row["n_traites"]) else None
    n_c = int(row["n_quartiers"]) - n_t if n_t is not None else None
    if text.manquant(row["estimation"]):
        return (
            f"Pour l'indicateur « {sujet} », la comparaison entre quartiers financés et quartiers de comparaison "
            "n'est pas possible avec ces données (trop peu de quartiers dans l'un des deux groupes ou d'années)."
        )
    groupes = (
        f" ({text.pluriel(n_t, 'quartier financé', 'quartiers financés')} et "
        f"{text.pluriel(n_c, 'quartier de comparaison', 'quartiers de comparaison')} de la région)"
        if n_t is not None
        else ""
    )
    ic = _intervalle(row["ic_bas"], row["ic_haut"], unite)
    net = row["ic_bas"] > 0 or row["ic_haut"] < 0
    if net:
        better = (sens == "hausse_degradation" and row["estimation"] < 0) or (
            sens == "hausse_amelioration" and row["estimation"] > 0
        )
        sens_txt = ""
        if sens in ("hausse_degradation", "hausse_amelioration"):
            sens_txt = ", soit une évolution relativement " + ("plus" if better else "moins") + " favorable"
        phrase = (
            f"Pour l'indicateur « {sujet} », l'écart d'évolution entre les quartiers fortement financés et les "
            f"quartiers de comparaison{groupes} est de {_ecart(row['estimation'], unite)} à partir de "
            f"{annee_traitement}{sens_txt} (intervalle de confiance à 95 % {ic}) : une tendance nette, qui va dans "
            "le sens d'une contribution des actions sans la démontrer."
        )
    else:
        phrase = (
            f"Pour l'indicateur « {sujet} », aucune différence d'évolution nette n'apparaît entre les quartiers "
            f"fortement financés et les quartiers de comparaison{groupes} à partir de {annee_traitement} "
            f"({_ecart(row['estimation'], unite)}, intervalle de confiance à 95 % {ic})."
        )
    ok = row["pre_tendance_ok"]
    if text.manquant(ok):
        phrase += " Les évolutions antérieures n'ont pas pu être comparées."
    elif bool(ok):
        phrase += (
            f" Avant {annee_traitement}, les deux groupes évoluaient de façon parallèle, ce qui rend la "
            "comparaison plus crédible."
        )
    else:
        phrase += (
            f" Attention : avant {annee_traitement}, les deux groupes évoluaient déjà différemment ; "
            "l'estimation est fragile."
        )
    return phrase


def phrase_contexte_regional(r: RapportQ2) -> str:
    """The DiD of a commune without funded quartier: regional context, not the commune's finding."""
    if r.signataire is False:
        raison = f"{r.nom_commune} est hors CUCS et n'a aucun quartier financé"
    else:
        raison = f"{r.nom_commune} n'a aucun quartier financé au-delà de {text.euros(r.seuil_intensite)} par habitant et par an"
    return (
        f"Contexte régional, pas un résultat de la commune : {raison}. Les estimations ci-dessous comparent les "
        "quartiers financés et les quartiers de comparaison de toute la région"
        + (
            " ; les quartiers de la commune font partie des quartiers de comparaison."
            if r.signataire is False and not r.intensite.empty
            else "."
        )
    )


def narrate(r: RapportQ2, params) -> None:
    """Fill the report's sentences, verdict and key figures from its tables."""
    _narrate_means(r, params.operateurs.seuil_realisation)
    _narrate_publics(r)
    _narrate_bilans(r)
    _narrate_periods(r)
    _narrate_gaps(r)
    _narrate_did(r)
    _narrate_surveys(r)
    _contribution(r)
    _caveats(r)
    _verdict(r)
    _key_figures(r)


def _maj(s: str) -> str:
    """Upper-case the first letter only (``aucune des 4 actions`` → ``Aucune des 4 actions``)."""
    return s[:1].upper() + s[1:]


def _sujet(n: int, total: int, mot: str, mots: str | None = None, *, feminin: bool = False) -> str:
    """The subject of a sentence counting `n` out of `total` (n ≥ 1): ``Les 36 actions``,
    ``La seule action``, ``23 actions sur 36``."""
    mots = mots or mot + "s"
    if n == total:
        return f"{'La seule' if feminin else 'Le seul'} {mot}" if total == 1 else f"Les {total} {mots}"
    return text.parmi(n, total, mot, mots, feminin=feminin)


def _accord(n: int, singulier: str, pluriel_: str) -> str:
    return singulier if n < 2 else pluriel_


def _dans(n: int, total: int, mot: str, mots: str | None = None) -> str:
    """``dans 2 quartiers sur 4``, ``dans les 4 quartiers``, ``dans son seul quartier``."""
    if n == total:
        return f"dans son seul {mot}" if total == 1 else f"dans les {total} {mots or mot + 's'}"
    return f"dans {text.parmi(n, total, mot, mots)}"


def _repartition(convergence: pd.Series, mot: str, mots: str | None = None) -> str:
    """How gaps changed, naming only the outcomes that occur: ``il s'est réduit dans 2 quartiers
    sur 4 et s'est creusé dans 2 quartiers sur 4``."""
    n = len(convergence)
    verbes = {"convergence": "s'est réduit", "divergence": "s'est creusé", "stable": "est resté stable"}
    parts = [
        f"{v} {_dans(int((convergence == k).sum()), n, mot, mots)}"
        for k, v in verbes.items()
        if (convergence == k).any()
    ]
    return "il " + text.liste_fr(parts)


def _annees(n: object) -> str:
    return text.pluriel(n, "action-année", "actions-années")


def phrase_realisation(real: pd.Series, seuil: int = privacy.DEFAULT_THRESHOLD) -> str:
    """Achievement on one base, with the action-years left out of the rate named apart; counts
    of people below `seuil` are hidden (`text.effectif`), and the rate on them."""
    base = int(real["annees_base"])
    if base == 0:
        phrase = "Aucune action-année réalisée ne déclare d'effectif touché : le taux de réalisation n'est pas calculable."
    elif privacy.primary_mask(
        pd.Series([real["realises"], real["prevus_realisees"]], dtype=float), seuil
    ).any():
        phrase = (
            f"Sur les {_annees(base)} réalisées qui déclarent un effectif touché, les actions associatives ont touché "
            f"{text.effectif(real['realises'], seuil, 'bénéficiaire')} pour "
            f"{text.effectif(real['prevus_realisees'], seuil, 'prévu', 'prévus')} : le taux de réalisation n'est pas "
            "publié (secret statistique)."
        )
    else:
        phrase = (
            f"Sur les {_annees(base)} réalisées qui déclarent un effectif touché, les actions associatives ont touché "
            f"{text.pluriel(real['realises'], 'bénéficiaire')} pour {text.nombre(real['prevus_realisees'])} prévus, "
            f"soit un taux de réalisation de {text.pourcentage(100 * real['taux_realisation'])}."
        )
    np_, ab, ec = (
        int(real["annees_non_pourvues"]),
        int(real["annees_abandonnees"]),
        int(real["annees_en_cours"]),
    )
    if np_ + ab:
        phrase += (
            f" À part, {text.aucun(np_, 'action-année non pourvue', 'actions-années non pourvues', feminin=True)} et "
            f"{text.aucun(ab, 'action-année abandonnée', 'actions-années abandonnées', feminin=True)} avaient prévu "
            f"{text.effectif(real['prevus_non_realisees'], seuil, 'bénéficiaire')} : elles ne sont pas comptées dans le taux."
        )
    else:
        phrase += " Aucune action-année n'est restée non pourvue ni n'a été abandonnée."
    if ec:
        phrase += f" {text.pluriel(ec, 'action-année est encore programmée', 'actions-années sont encore programmées')}."
    if nr := programme.phrase_non_renseignes(real.to_frame().T):
        phrase += f" {nr}"
    return phrase


def _narrate_means(r: RapportQ2, seuil_realisation: float = 0.7) -> None:
    a = r.actions
    if r.signataire is False:
        phrase = labels.phrase_hors_cucs(r.nom_commune, OBJET_HORS_CUCS)
        r.phrases_actions.append(phrase)
        r.constats.append(phrase)
        return
    if a.empty:
        if r.motif == motifs.DONNEE_ABSENTE and r.signataire is None:
            r.constats.append(rapport.phrase_signataire_inconnu(r.nom_commune))
        if r.motif == motifs.DONNEE_ABSENTE:
            r.constats.append(
                f"Les actions {text.de(r.nom_commune)} ne figurent pas dans les données : leurs moyens ne peuvent pas être "
                "décrits (données non disponibles)."
            )
        else:
            r.constats.append(
                f"Aucune action portée par une association n'est financée à {r.nom_commune} dans les données."
            )
        return
    part = 100 * r.credits_associations / r.credits_specifiques if r.credits_specifiques else None
    hab = f" ({text.euros(r.par_habitant)} par habitant de la commune)" if r.par_habitant is not None else ""
    r.phrases_actions.append(
        f"À {r.nom_commune}, les associations ont reçu {text.euros(r.credits_associations)} de crédits spécifiques "
        f"de {r.periode_debut} à {r.periode_fin}{hab} pour {text.pluriel(len(a), 'action')}"
        + (
            f", soit {text.pourcentage(part)} des crédits spécifiques de la commune."
            if part is not None
            else "."
        )
    )
    top = r.actions_significatives
    share = (
        100 * top["credits_specifiques"].sum() / r.credits_associations if r.credits_associations else None
    )
    if share is not None and len(a) > len(top):
        r.phrases_actions.append(
            f"Les {len(top)} actions les mieux dotées concentrent {text.pourcentage(share)} de ces crédits ; "
            f"la première, « {top['intitule'].iloc[0]} », en a reçu {text.euros(top['credits_specifiques'].iloc[0])}."
        )
    if not r.realisation.empty:
        r.phrases_actions.append(phrase_realisation(r.realisation.iloc[0], r.seuil_secret))
    r.constats.extend(r.phrases_actions)
    i = r.intensite
    finances = i[i["groupe"] == "traite"]
    if not i.empty:
        n, total = len(finances), len(i)
        seuil = f"{text.euros(r.seuil_intensite)} ou plus par habitant et par an en moyenne depuis {r.annee_traitement}"
        if n == 0:
            sujet = (
                "Le seul quartier de la commune"
                if total == 1
                else f"Aucun des {total} quartiers de la commune"
            )
            r.constats.append(f"{sujet} ne reçoit {seuil}.")
        else:
            if n == total:
                sujet = (
                    "Le seul quartier de la commune" if total == 1 else f"Les {total} quartiers de la commune"
                )
            else:
                sujet = f"{_maj(text.parmi(n, total, 'quartier'))} de la commune"
            verbe = "reçoit" if n < 2 else "reçoivent"
            r.constats.append(f"{sujet} {verbe} {seuil} ({text.liste_fr(finances['nom'])}).")
    low = top[top["taux_realisation"] < seuil_realisation]
    for row in low.head(3).itertuples():  # the three largest under-achievements
        r.debat.append(
            f"L'action « {row.intitule} » a touché {text.pourcentage(100 * row.taux_realisation)} des "
            "bénéficiaires prévus (années réalisées) : le public visé était-il le bon, et comment l'atteindre ?"
        )
    nr = r.non_realisees
    if not nr.empty:
        noms = text.liste_fr(f"« {t} »" for t in nr["intitule"].head(3))
        r.debat.append(
            f"{text.pluriel(len(nr), 'action a connu', 'actions ont connu')} des années non pourvues ou abandonnées "
            f"(dont {noms}) : faute d'opérateur, de public ou de moyens ?"
        )


def _narrate_publics(r: RapportQ2) -> None:
    q = r.qualification
    if r.signataire is False or r.actions.empty or q.empty:
        return
    n = int(q["actions"].sum())
    by = q.set_index("precision")
    precis = int(by.loc[by.index.isin(["age_situation", "age", "situation"]), "actions"].sum())
    general = int(by["actions"].get("general", 0))
    non_decl = int(by["actions"].get("non_declare", 0))
    if precis == 0:
        phrase = f"Aucune des {n} actions associatives ne désigne un public précis (un âge ou une situation sociale)"
    else:
        phrase = (
            f"{_sujet(precis, n, 'action', feminin=True)} {_accord(precis, 'désigne', 'désignent')} un public précis "
            "(un âge, une situation sociale ou les deux)"
        )
    autres = []
    if general:
        autres.append(f"{text.pluriel(general, 'action')} un public général (habitants, tout public)")
    if non_decl:
        autres.append(f"{text.pluriel(non_decl, 'action')} aucun public")
    r.phrases_publics.append(phrase + (", " + text.liste_fr(autres) if autres and precis else "") + ".")
    if general and not text.manquant(by["part_credits"].get("general")):
        r.phrases_publics.append(
            f"Les actions au public général reçoivent {text.pourcentage(100 * by['part_credits']['general'])} des "
            "crédits spécifiques aux associations : leurs bénéficiaires ne peuvent pas être rapprochés d'un "
            "indicateur social précis."
        )
    obj = int(q["objectif_declare"].sum())
    if obj == 0:
        r.phrases_publics.append(f"Aucune des {n} actions associatives ne déclare d'objectif.")
    else:
        r.phrases_publics.append(
            f"{_sujet(obj, n, 'action', feminin=True)} {_accord(obj, 'déclare', 'déclarent')} un objectif"
            + (
                "."
                if obj == n
                else f" ; {text.pluriel(n - obj, 'action')} {_accord(n - obj, NEN[0], NEN[1])} aucun."
            )
        )
    p = r.publics
    known = p[p["taux_realisation"].notna()]
    if len(known) >= 2:
        lo = known.sort_values("taux_realisation").iloc[0]
        r.phrases_publics.append(
            f"Le taux de réalisation le plus bas (années réalisées) concerne le public « {lo['public_cible']} » : "
            f"{text.pourcentage(100 * lo['taux_realisation'])} des bénéficiaires prévus ont été touchés."
        )
    if general:
        r.debat.append(
            f"{text.pluriel(general, 'action déclare', 'actions déclarent')} un public général : quels habitants "
            "touchent-elles vraiment (âge, situation), et comment le préciser dans les tableaux de bord ?"
        )


def _narrate_bilans(r: RapportQ2) -> None:
    b = r.bilans
    if r.signataire is False or r.actions.empty:
        return
    top = r.actions_significatives
    if b.empty:
        r.phrases_bilans.append(
            f"Aucune des {len(top)} actions les plus significatives n'a de bilan d'activité codé dans les données."
        )
        return
    cats = r.bilans_categories
    parts = []
    for row in cats.itertuples():
        sing, plur = CATEGORIES[row.categorie]
        # A hidden category may be hidden to protect another one (its count is then not « moins
        # de 11 »): the sentence says only that its number is secret.
        parts.append(text.effectif(row.n, r.seuil_secret, sing, plur, secret=bool(row.n_secret)))
    total = r.bilans_constats
    sujet = (
        f"Les bilans des {len(top)} actions les plus significatives"
        if len(b) == len(top)
        else f"Les bilans de {len(b)} des {len(top)} actions les plus significatives"
    )
    r.phrases_bilans.append(
        f"{sujet} rassemblent "
        f"{text.effectif(total, r.seuil_secret, 'constat codé', 'constats codés')} : {text.liste_fr(parts)}."
    )
    manquants = len(top) - len(b)
    if manquants:
        r.phrases_bilans.append(
            f"{text.pluriel(manquants, 'action significative', 'actions significatives')} "
            f"{_accord(manquants, NA[0], NA[1])} aucun bilan codé : {_accord(manquants, 'ses', 'leurs')} résultats ne "
            "sont connus que par les chiffres de réalisation."
        )
    for col, quoi in (
        ("reussite", "réussites"),
        ("difficulte", "difficultés ou des blocages"),
        ("ecart", "écarts expliqués"),
    ):
        cites = b[col].dropna()
        if cites.empty:
            continue
        first = cites.iloc[0].split(" ; ")[0]
        n_act = int(cites.shape[0])
        r.phrases_bilans.append(
            f"{text.pluriel(n_act, 'action rapporte', 'actions rapportent')} des {quoi} ; par exemple, pour "
            f"« {b.loc[cites.index[0], 'intitule']} » : {first}."
        )
    diff = b.assign(n=b["difficulte"].fillna("").str.count("« "))
    worst = diff.sort_values(["n", "constats"], ascending=False).iloc[0]
    if worst["n"] > 0:
        r.debat.append(
            f"Les bilans de « {worst['intitule']} » rapportent des difficultés ou blocages ({worst['difficulte']}) : "
            "ont-ils été levés, et avec quels partenaires ?"
        )


def _serie_libelle(serie: str) -> str:
    return text.minuscule_initiale(SERIES.get(serie, serie))


def _narrate_periods(r: RapportQ2) -> None:
    p = r.periodes
    if p.empty:
        return
    avant = text.periode_avant(r.periode_debut, r.annee_debut_cucs)
    pendant = text.annee_periode(r.annee_debut_cucs, r.periode_fin)
    for ind, grp in p.groupby("indicateur", sort=False):  # a handful of indicators
        unite = r.unites.get(ind, "")
        d = _decimales(unite)
        parts = []
        for row in grp.itertuples():
            if getattr(row, "methode", "") == "sans_effectifs":
                parts.append(
                    f"{_serie_libelle(row.serie)} : n.d. (taux publiés sans leurs effectifs : une moyenne "
                    "des quartiers compterait un petit quartier autant qu'un grand)"
                )
                continue
            if not row.avant_testable:
                parts.append(
                    f"{_serie_libelle(row.serie)} {_valeur(row.valeur_pendant, unite)} pendant le CUCS (la série "
                    "commence avec le contrat : « avant » ne peut pas être testé)"
                )
                continue
            if getattr(row, "secret", False):
                # A value on fewer than seuil_secret people is hidden with its difference.
                cache = "avant" if text.manquant(row.valeur_avant) else "pendant"
                montre = row.valeur_pendant if cache == "avant" else row.valeur_avant
                parts.append(
                    f"{_serie_libelle(row.serie)} {_valeur(montre, unite)} "
                    f"{'pendant' if cache == 'avant' else 'avant'} le CUCS ({cache} : moins de "
                    f"{text.nombre(r.seuil_secret)} personnes, secret statistique)"
                    if not text.manquant(montre)
                    else f"{_serie_libelle(row.serie)} : moins de {text.nombre(r.seuil_secret)} personnes (secret statistique)"
                )
                continue
            diff = text.difference_affichee(row.valeur_avant, row.valeur_pendant, d)
            parts.append(
                f"{_serie_libelle(row.serie)} {_valeur(row.valeur_avant, unite)} puis {_valeur(row.valeur_pendant, unite)} "
                f"({_ecart(diff, unite)})"
                + (" — petite base, à lire avec prudence" if row.petite_base else "")
            )
        compare = (
            f" ({text.AUCUNE_ANNEE_AVANT})"
            if text.sans_annee_avant(r.periode_debut, r.annee_debut_cucs)
            else f" comparée à {avant}"
        )
        r.phrases_tendances.append(
            f"{r.libelles.get(ind, ind)}, moyenne {pendant}{compare} : {' ; '.join(parts)}."
        )
    if r.signataire is not False and r.n_finances:
        r.phrases_tendances.append(
            "Ces moyennes décrivent une tendance : les quartiers financés et les autres diffèrent aussi par leur "
            "population et par les autres politiques qui y agissent."
        )


def _narrate_gaps(r: RapportQ2) -> None:
    e = r.ecarts
    if e.empty:
        return
    avant = text.periode_avant(r.periode_debut, r.annee_debut_cucs)
    pendant = text.annee_periode(r.annee_debut_cucs, r.periode_fin)
    for ind, grp in e.groupby("indicateur", sort=False):  # a handful of indicators
        known = grp[grp["convergence"].notna()]
        libelle = text.minuscule_initiale(r.libelles.get(ind, ind))
        if known.empty:
            r.phrases_ecarts.append(
                f"Indicateur « {libelle} » : aucune année avant le CUCS n'est observée, l'évolution de l'écart avec "
                "la commune ne peut pas être testée."
            )
            continue
        r.phrases_ecarts.append(
            f"Indicateur « {libelle} », écart avec la commune en moyenne {pendant} comparé à {avant} : "
            f"{_repartition(known['convergence'], 'quartier')}."
        )
        for row in known[known["convergence"] == "divergence"].itertuples():
            if row.groupe == GROUPES["traite"] and not getattr(row, "secret", False):
                u = r.unites.get(ind, "")
                r.debat.append(
                    f"Dans le quartier {row.nom}, financé, l'écart de « {libelle} » avec la commune s'est creusé "
                    f"({_ecart(row.ecart_avant, u)} en moyenne {avant}, {_ecart(row.ecart_pendant, u)} en moyenne "
                    f"{pendant}) : qu'en disent les acteurs du quartier ?"
                )
    r.constats.extend(r.phrases_ecarts)


def phrase_did_nd(r: RapportQ2) -> str:
    """The DiD when a group has no quartier: n.d. with its reason, never an estimate of nothing."""
    n_t, n_c = r.did_groupes
    return (
        f"Différence de différences non calculable (n.d.) : {text.aucun(n_t, 'quartier financé', 'quartiers financés')} "
        f"et {text.aucun(n_c, 'quartier de comparaison', 'quartiers de comparaison')} dans la région, car "
        f"{r.did_raison}."
    )


def _narrate_did(r: RapportQ2) -> None:
    if r.did_nd:
        r.phrases_did.append(phrase_did_nd(r))
        return
    phrases = []
    for row in r.did.to_dict("records"):  # one sentence per indicator
        ind = row["indicateur"]
        phrases.append(
            phrase_did(
                row, r.libelles.get(ind, ind), r.unites.get(ind, ""), r.annee_traitement, r.sens.get(ind)
            )
        )
    if r.did.empty:
        return
    if r.signataire is not False and r.n_finances:
        r.phrases_did.extend(phrases)
        r.constats.extend(phrases)
    else:
        # No funded quartier here: the regional estimate is context, never a finding of the commune.
        r.phrases_did.append(phrase_contexte_regional(r))
        r.phrases_did.extend(phrases)


def _narrate_surveys(r: RapportQ2) -> None:
    s = r.enquetes
    if s.empty:
        return
    annee = int(s["annee"].max())
    last = s[(s["annee"] == annee) & ~s["secret"]]
    q = last[last["question"] == QUESTION_AMELIORATION]
    if not q.empty:
        parts = [
            f"{text.pourcentage(v)} des {REPONDANTS.get(t, t).lower()}"
            for t, v in zip(q["type_repondant"], q["accord"], strict=False)
        ]
        r.phrases_enquetes.append(
            f"En {annee}, « {QUESTION_AMELIORATION.lower()} » : c'est l'avis de {text.liste_fr(parts)} interrogés."
        )
    n_secret = int(s.loc[s["annee"] == annee, "secret"].sum())
    if n_secret:
        r.phrases_enquetes.append(
            f"{text.pluriel(n_secret, 'groupe de répondants', 'groupes de répondants')} de moins de {text.nombre(r.seuil_secret)} "
            f"personnes {_accord(n_secret, NEST, 'ne sont')} pas {_accord(n_secret, 'publié', 'publiés')} "
            "(secret statistique)."
        )
    wide = last.pivot_table(index="question", columns="type_repondant", values="accord")
    if {"habitant", "opérateur"} <= set(wide.columns):
        diff = (wide["opérateur"] - wide["habitant"]).dropna()
        if not diff.empty:
            qmax = diff.abs().idxmax()
            h, o = wide.loc[qmax, "habitant"], wide.loc[qmax, "opérateur"]
            r.phrases_enquetes.append(
                f"Le plus grand écart de points de vue porte sur « {qmax} » : {text.pourcentage(h)} des habitants "
                f"sont d'accord, contre {text.pourcentage(o)} des opérateurs."
            )
            d = text.difference_affichee(o, h, 1)
            if abs(d) >= 10:
                r.debat.append(
                    f"Habitants et opérateurs ne voient pas « {qmax.lower()} » de la même façon "
                    f"({text.points(d)} pour les habitants) : comment l'expliquer, et comment associer davantage "
                    "les habitants à l'évaluation ?"
                )
    r.constats.extend(r.phrases_enquetes[:1])


def _contribution(r: RapportQ2) -> None:
    """The contribution chain (theory of change): for each link, what the data show and
    whether it fits."""
    rows = []
    a = r.actions
    hors = r.signataire is False
    hors_txt = f"{r.nom_commune} est hors CUCS : le contrat n'y finance aucune action."
    avant = text.periode_avant(r.periode_debut, r.annee_debut_cucs)
    pendant = text.annee_periode(r.annee_debut_cucs, r.periode_fin)
    l1 = "1. Des moyens ont été alloués aux associations"
    if hors:
        rows.append((l1, hors_txt, "hors CUCS"))
    elif a.empty:
        rows.append((l1, "Aucune action associative n'est financée dans les données.", "non disponible"))
    else:
        rows.append(
            (
                l1,
                f"Les associations ont reçu {text.euros(r.credits_associations)} de crédits spécifiques ; "
                f"{text.parmi(r.n_finances, len(r.intensite), 'quartier')} "
                f"{'est financé' if r.n_finances < 2 else 'sont financés'} au-delà de "
                f"{text.euros(r.seuil_intensite)} par habitant et par an.",
                "concordant" if r.n_finances else "partiel",
            )
        )
    l2 = "2. Les actions ont touché les publics visés"
    real = r.realisation.iloc[0] if not r.realisation.empty else None
    if hors:
        rows.append((l2, hors_txt, "hors CUCS"))
    elif real is None or int(real["annees_base"]) == 0:
        rows.append((l2, "Aucune action-année réalisée ne déclare d'effectif touché.", "non disponible"))
    elif privacy.primary_mask(
        pd.Series([real["realises"], real["prevus_realisees"]], dtype=float), r.seuil_secret
    ).any():
        rows.append(
            (
                l2,
                f"Les actions ont touché {text.effectif(real['realises'], r.seuil_secret, 'bénéficiaire')} pour "
                f"{text.effectif(real['prevus_realisees'], r.seuil_secret, 'prévu', 'prévus')} : le taux de "
                "réalisation n'est pas publié (secret statistique).",
                "non disponible",
            )
        )
    else:
        taux = float(real["taux_realisation"])
        rows.append(
            (
                l2,
                f"Les actions ont touché {text.nombre(real['realises'])} bénéficiaires pour "
                f"{text.nombre(real['prevus_realisees'])} prévus ({text.pourcentage(100 * taux)}) sur les "
                f"{_annees(real['annees_base'])} réalisées qui déclarent un effectif ; "
                f"{text.aucun(real['annees_non_pourvues'], 'année non pourvue', 'années non pourvues', feminin=True)} et "
                f"{text.aucun(real['annees_abandonnees'], 'année abandonnée', 'années abandonnées', feminin=True)} "
                "sont comptées à part.",
                "concordant" if taux >= 0.9 else ("partiel" if taux >= 0.7 else "non concordant"),
            )
        )
    l3 = "3. L'écart des quartiers financés avec la commune s'est réduit"
    e = r.ecarts
    finances_e = e[(e["groupe"] == GROUPES["traite"]) & e["convergence"].notna()] if not e.empty else e
    if hors:
        rows.append((l3, hors_txt, "hors CUCS"))
    elif finances_e.empty:
        rows.append((l3, "Aucun quartier financé n'est suivi avant et pendant le CUCS.", "non disponible"))
    else:
        n = len(finances_e)
        n_conv = int((finances_e["convergence"] == "convergence").sum())
        n_div = int((finances_e["convergence"] == "divergence").sum())
        lecture = (
            "concordant"
            if n_conv > n_div and n_div == 0
            else ("partiel" if n_conv >= n_div else "non concordant")
        )
        rows.append(
            (
                l3,
                f"En moyenne {pendant} comparée à {avant}, sur {n} couples quartier financé × indicateur, "
                f"l'écart {_repartition(finances_e['convergence'], 'cas', 'cas')[3:]}.",
                lecture,
            )
        )
    l4 = "4. L'évolution est plus favorable que dans des quartiers comparables"
    d = r.did.dropna(subset=["estimation"]) if not r.did.empty else r.did
    if r.did_nd:
        rows.append((l4, f"Comparaison non calculable (n.d.) : {r.did_raison}.", "non disponible"))
    elif d.empty:
        rows.append((l4, "La comparaison n'est pas possible avec ces données.", "non disponible"))
    elif hors or not r.n_finances:
        rows.append(
            (
                l4,
                f"{r.nom_commune} n'a aucun quartier financé : l'estimation régionale (section 5) est un contexte, "
                "pas un résultat de la commune.",
                "hors CUCS" if hors else "non disponible",
            )
        )
    else:
        nets = [
            f"{_ecart(x.estimation, r.unites.get(x.indicateur, ''))}"
            + ("" if (x.ic_bas > 0 or x.ic_haut < 0) else " (non significatif)")
            + f" pour « {text.minuscule_initiale(r.libelles.get(x.indicateur, x.indicateur))} »"
            for x in d.itertuples()
        ]
        favorable = [
            (x.ic_haut < 0 and r.sens.get(x.indicateur) != "hausse_amelioration")
            or (x.ic_bas > 0 and r.sens.get(x.indicateur) == "hausse_amelioration")
            for x in d.itertuples()
        ]
        lecture = "concordant" if all(favorable) else ("partiel" if any(favorable) else "non concordant")
        nets = [nets[0], *(f"de {n}" for n in nets[1:])]
        rows.append(
            (l4, "Sur la région, l'écart d'évolution estimé est de " + text.liste_fr(nets) + ".", lecture)
        )
    l5 = "5. Les habitants perçoivent une amélioration"
    s = r.enquetes
    hab = (
        s[(s["type_repondant"] == "habitant") & (s["question"] == QUESTION_AMELIORATION) & ~s["secret"]]
        if not s.empty
        else s
    )
    if hab.empty:
        quoi = "hors CUCS" if hors else "non disponible"
        rows.append(
            (
                l5,
                "Aucune enquête n'interroge les habitants des quartiers de la commune.",
                quoi if hors else "non disponible",
            )
        )
    else:
        last = hab.sort_values("annee").iloc[-1]
        v = float(last["accord"])
        rows.append(
            (
                l5,
                f"{text.pourcentage(v)} des habitants interrogés en {int(last['annee'])} jugent que le quartier "
                "s'est amélioré.",
                "concordant" if v >= 50 else ("partiel" if v >= 33 else "non concordant"),
            )
        )
    pre = r.did["pre_tendance_ok"].dropna() if not r.did.empty else pd.Series(dtype=object)
    rows.append(
        (
            "6. Les explications concurrentes sont écartées",
            (
                "Les deux groupes évoluaient en parallèle avant le financement ; "
                if len(pre) and pre.astype(bool).all()
                else "Les évolutions antérieures ne peuvent pas être comparées ; "
            )
            + "les effets de composition (départs, arrivées), la conjoncture, le droit commun et la rénovation "
            "urbaine ne sont pas mesurés.",
            "non établi",
        )
    )
    r.contribution = pd.DataFrame(rows, columns=["etape", "constat", "lecture"])
    lect = r.contribution["lecture"]
    n_ok = int((lect == "concordant").sum())
    n_known = int(lect.isin(["concordant", "partiel", "non concordant"]).sum())
    etat = "est hors CUCS" if hors else "n'a pas d'action associative financée dans les données"
    r.reponse_atelier = [
        f"L'atelier le disait : « {CITATION_ATELIER} » Avec des données d'observation, on ne le peut pas : un quartier "
        "change pour bien d'autres raisons qu'une action (conjoncture, départs et arrivées d'habitants, autres "
        "politiques publiques).",
        "Ce carnet pratique donc une analyse de contribution : il vérifie, maillon par maillon, si les faits "
        "observés sont cohérents avec l'idée que les moyens alloués aux associations ont contribué à l'amélioration, "
        "et si les explications concurrentes peuvent être écartées.",
        (
            f"Ici, {text.parmi(n_ok, n_known, 'maillon renseigné', 'maillons renseignés')} "
            f"{'va' if n_ok < 2 else 'vont'} nettement dans ce sens ; le dernier (écarter les autres explications) "
            "reste à établir avec les acteurs : c'est une tendance à discuter, pas une preuve."
        )
        if r.signataire is not False and not a.empty
        else (
            f"{r.nom_commune} {etat}"
            + f" et la comparaison régionale n'est pas calculable (n.d. : {r.did_raison}) : la chaîne ne peut pas "
            "être lue ici."
            if r.did_nd
            else f"{r.nom_commune} est hors CUCS : seule la tendance régionale est présentée, comme contexte ; les quartiers "
            "de la commune servent de point de comparaison."
            if hors
            else f"{r.nom_commune} n'ayant pas d'action associative financée dans les données, seule la tendance "
            "régionale est présentée, comme contexte."
        ),
    ]


def _caveats(r: RapportQ2) -> None:
    d = r.did
    avant = text.periode_avant(r.periode_debut, r.annee_debut_cucs)
    if r.did_nd:
        r.reserves.append(f"Différence de différences non calculable (n.d.) : {r.did_raison}.")
    elif not d.empty and "n_traites" in d:
        n_t = int(d["n_traites"].max())
        n_q = int(d["n_quartiers"].max())
        r.reserves.append(
            f"La différence de différences porte sur toute la région ({text.pluriel(n_t, 'quartier financé', 'quartiers financés')} "
            f"et {text.pluriel(n_q - n_t, 'quartier de comparaison', 'quartiers de comparaison')}) : ces petits "
            "nombres rendent les estimations fragiles, et le résultat régional ne se lit pas quartier par quartier"
            + (
                "."
                if r.signataire is not False and r.n_finances
                else f" ; pour {r.nom_commune}, qui n'a aucun quartier financé, c'est un contexte, pas un résultat."
            )
        )
    if r.quartiers_categorie_inconnue:
        n = r.quartiers_categorie_inconnue
        r.reserves.append(
            f"{text.pluriel(n, 'quartier de la région', 'quartiers de la région')} de catégorie CUCS inconnue "
            f"{'est exclu' if n < 2 else 'sont exclus'} de la différence de différences : sans catégorie connue, "
            "un quartier peu financé dans les données n'est pas un quartier de comparaison."
        )
    if r.signataire is not False and not r.actions.empty and r.credits_associations:
        part = 100 * r.credits_commune_entiere / r.credits_associations
        r.reserves.append(
            f"Contamination des quartiers de comparaison : {text.pourcentage(part)} des crédits spécifiques aux "
            f"associations ({text.euros(r.credits_commune_entiere)}) financent des actions sans quartier désigné, à "
            f"l'échelle de toute la commune ; elles touchent aussi ses quartiers peu financés, ce qui rapproche les "
            "deux groupes et tend à réduire l'écart mesuré."
        )
    elif r.signataire is False and not r.intensite.empty:
        r.reserves.append(
            f"{r.nom_commune} est hors CUCS : ses quartiers servent de comparaison ; des actions d'autres politiques "
            "(droit commun, département, région) peuvent pourtant y agir."
        )
    elif r.signataire is False:
        r.reserves.append(
            f"{r.nom_commune} est hors CUCS et aucun de ses quartiers n'est suivi dans les données."
        )
    if r.signataire is None and not r.actions.empty:
        r.reserves.append(
            f"{labels.majuscule(rapport.SIGNATAIRE_INCONNU)} pour {r.nom_commune} dans la table des communes : les "
            "chiffres de la page sont ceux des actions présentes dans les données."
        )
    if r.etat_seul and not r.actions.empty:
        r.reserves.append(
            f"Crédits : {rapport.RAISON_ETAT_SEUL} ; les crédits des autres financeurs des associations n'y figurent "
            "pas, et l'intensité de financement des quartiers est sous-estimée d'autant."
        )
    r.reserves.append(
        "Recensement rénové : les taux des quartiers sont des estimations sur cinq ans glissants ; deux années "
        "consécutives partagent les quatre cinquièmes de leur échantillon. C'est pourquoi les évolutions comparent des "
        + (
            "moyennes de périodes (avant et pendant le CUCS) et jamais deux années consécutives ; ici, "
            f"{text.AUCUNE_ANNEE_AVANT} : aucune évolution n'est calculée."
            if text.sans_annee_avant(r.periode_debut, r.annee_debut_cucs)
            else f"moyennes de périodes (avant le CUCS, {avant}, et pendant) et jamais deux années consécutives."
        )
    )
    r.reserves.append(
        "Effets de composition : les habitants qui trouvent un emploi quittent souvent le quartier et d'autres, plus "
        "pauvres, s'y installent ; un indicateur stable peut cacher des trajectoires individuelles favorables."
    )
    r.reserves.append(
        "Les périmètres changent (quartiers CUCS, puis quartiers prioritaires de 2015 et de 2024) : les séries d'un "
        "même quartier ne couvrent pas toujours exactement le même territoire."
    )
    r.reserves.append(
        "Une différence d'évolution entre quartiers financés et quartiers de comparaison est une tendance : les "
        "quartiers financés ont été choisis parce qu'ils allaient mal, et d'autres politiques y ont agi en même temps."
    )
    if not r.enquetes.empty:
        r.reserves.append(
            "Les enquêtes recueillent des opinions de répondants volontaires : elles éclairent les points de vue, "
            "sans mesurer la situation de tous les habitants."
        )
    hidden = 0
    for t in (r.actions_significatives, r.publics, r.bilans_themes):
        hidden += int(t.filter(like="_secret").to_numpy().sum()) if not t.empty else 0
    hidden += int(r.enquetes["secret"].sum()) if not r.enquetes.empty else 0
    if hidden:
        r.reserves.append(
            f"{text.pluriel(hidden, 'effectif masqué', 'effectifs masqués')} (moins de {text.nombre(r.seuil_secret)}, "
            "secret statistique)."
        )
    if r.signataire is False:
        r.debat.append(
            f"{r.nom_commune} est hors CUCS : ses habitants ont-ils des besoins que les actions associatives financées "
            "ailleurs par le contrat couvriraient, et faut-il suivre sa situation à l'échelle d'un quartier ?"
        )
    else:
        r.debat.append(
            "Quelles actions faut-il choisir collectivement comme « les plus significatives » pour une évaluation "
            "approfondie, et avec quels critères ?"
        )
        r.debat.append(
            "Les bilans d'activité précisent-ils assez les objectifs et la situation des publics pour suivre leur "
            "progression ?"
        )


def _verdict(r: RapportQ2) -> None:
    """One line that answers the question for this commune, with its reason (a trend, not a cause)."""
    if r.signataire is False:
        r.verdict = rapport.verdict(
            f"Hors CUCS : {r.nom_commune} n'a pas signé de CUCS, aucune action associative n'y est financée "
            "par le contrat ; ses quartiers servent de comparaison",
            SECTIONS["actions"],
            motifs.HORS_CUCS,
        )
        return
    if r.actions.empty:
        absent = r.motif == motifs.DONNEE_ABSENTE
        r.verdict = rapport.verdict(
            (
                f"Données non disponibles : {rapport.SIGNATAIRE_INCONNU} pour {r.nom_commune}, et ses actions ne "
                "figurent pas dans les données"
                if absent and r.signataire is None
                else f"Données non disponibles : les actions {text.de(r.nom_commune)} ne figurent pas dans les données"
                if absent
                else f"Aucune action associative financée à {r.nom_commune} : la question ne se pose pas ici"
            ),
            SECTIONS["actions"],
            motifs.DONNEE_ABSENTE if absent else None,
        )
        return
    c = r.contribution.set_index("etape")["lecture"]
    pour, contre = [], []
    e = r.ecarts
    fe = e[(e["groupe"] == GROUPES["traite"]) & e["convergence"].notna()] if not e.empty else e
    d = r.did.dropna(subset=["estimation"]).set_index("indicateur") if not r.did.empty else pd.DataFrame()
    for ind in r.indicateurs:  # two or three indicators
        lib = text.minuscule_initiale(r.libelles.get(ind, ind))
        unite = r.unites.get(ind, "")
        if r.n_finances and ind in d.index:
            x = d.loc[ind]
            if x["ic_bas"] > 0 or x["ic_haut"] < 0:
                favorable = (x["ic_haut"] < 0) != (r.sens.get(ind) == "hausse_amelioration")
                (pour if favorable else contre).append(
                    f"{lib} {_ecart(x['estimation'], unite)} face aux quartiers de comparaison de la région "
                    f"depuis {r.annee_traitement}"
                )
        g = fe[fe["indicateur"] == ind]
        if not g.empty:
            n, n_conv = len(g), int((g["convergence"] == "convergence").sum())
            n_div = int((g["convergence"] == "divergence").sum())
            if n_div > n_conv:
                contre.append(
                    f"écart {text.de(lib)} à la commune creusé {_dans(n_div, n, 'quartier financé', 'quartiers financés')}"
                )
            elif n_conv > n_div:
                pour.append(
                    f"écart {text.de(lib)} à la commune réduit {_dans(n_conv, n, 'quartier financé', 'quartiers financés')}"
                )
    n_ok = int((c == "concordant").sum())
    n_non = int((c == "non concordant").sum())
    if n_ok > n_non and n_non == 0:
        tete = "Contribution plausible"
    elif n_ok >= n_non:
        tete = "Contribution plausible mais partielle"
    else:
        tete = "Contribution non établie"
    # The periods are said once, on the first gap named (the DiD clause carries its own year).
    avant = text.periode_avant(r.periode_debut, r.annee_debut_cucs)
    pendant = text.annee_periode(r.annee_debut_cucs, r.periode_fin)
    clauses = [*pour, *contre]
    premier = next((i for i, c in enumerate(clauses) if c.startswith("écart")), None)
    if premier is not None:
        clauses[premier] += f" entre {avant} et {pendant}"
    pour, contre = clauses[: len(pour)], clauses[len(pour) :]
    raison = text.liste_fr(pour) if pour else "aucun indicateur suivi ne s'améliore plus que ses comparaisons"
    if contre:
        raison += ", mais " + text.liste_fr(contre)
    r.verdict = {
        "texte": f"{tete} : {raison} ; une tendance, pas une preuve",
        "motif": None,
        # the contribution chain gathers every piece of evidence the line names (gaps, DiD, surveys)
        "section": SECTIONS["contribution"],
    }


def _key_figures(r: RapportQ2) -> None:
    d = r.did.set_index("indicateur") if not r.did.empty else pd.DataFrame()
    hors = r.signataire is False
    motif = motifs.HORS_CUCS if hors else (r.motif if r.actions.empty and r.motif else None)
    real = r.realisation.iloc[0] if not r.realisation.empty else None

    def chiffre(id_, libelle, valeur, unite, motif_=None):
        return chiffre_cle(id_, libelle, valeur, unite, motif_ or motif)

    r.chiffres_cles = [
        chiffre(
            "credits_associations",
            "Crédits spécifiques aux associations",
            None if hors or motif else r.credits_associations,
            "€",
        ),
        chiffre(
            "credits_associations_par_habitant",
            "Crédits spécifiques aux associations par habitant de la commune "
            f"({text.annee_periode(r.periode_debut, r.periode_fin)})",
            None if hors or motif else r.par_habitant,
            "€",
            None if hors or motif else motifs.DONNEE_ABSENTE,
        ),
        chiffre(
            "actions_associations",
            "Actions portées par des associations",
            None if hors or motif else len(r.actions),
            "actions",
        ),
        chiffre(
            "taux_realisation",
            "Bénéficiaires touchés / prévus (années réalisées)",
            None
            if real is None or text.manquant(real["taux_realisation"])
            else 100 * float(real["taux_realisation"]),
            "%",
        ),
        chiffre(
            "quartiers_finances",
            "Quartiers financés de la commune",
            None if hors or not r.n_finances_connu else r.n_finances,
            "quartiers",
            None if hors else motifs.DONNEE_ABSENTE,
        ),
    ]
    hab = r.enquetes
    hab = (
        hab[
            (hab["type_repondant"] == "habitant")
            & (hab["question"] == QUESTION_AMELIORATION)
            & ~hab["secret"]
        ]
        if not hab.empty
        else hab
    )
    r.chiffres_cles.append(
        chiffre(
            "habitants_amelioration",
            "Habitants jugeant que le quartier s'est amélioré (dernière enquête)",
            None if hab.empty else float(hab.sort_values("annee")["accord"].iloc[-1]),
            "%",
            motifs.HORS_CUCS if hors else motifs.DONNEE_ABSENTE,
        )
    )
    if hors or not r.n_finances:
        return  # the regional DiD is context here, not a figure of the commune
    for ind in r.indicateurs:
        if ind in d.index and not text.manquant(d.loc[ind, "estimation"]):
            r.chiffres_cles.append(
                {
                    "id": f"did_{ind}",
                    "libelle": "Écart d'évolution, quartiers financés / comparaison de la région : "
                    f"{text.minuscule_initiale(r.libelles[ind])}",
                    "valeur": float(d.loc[ind, "estimation"]),
                    "unite": "points" if r.unites.get(ind) == "%" else r.unites.get(ind, ""),
                }
            )


def sources(r: RapportQ2, params, metadata) -> list[str]:
    """The 'Sources et méthode' list, with the values actually used."""
    p = params.did
    avant = text.periode_avant(params.periode.debut, params.annee_debut_cucs)
    pendant = text.annee_periode(params.annee_debut_cucs, params.periode.fin)
    return [
        rapport.source_donnees(metadata),
        "Moyens : crédits spécifiques accordés (type de crédit « spécifique ») aux actions dont l'opérateur est "
        "une association.",
        "Taux de réalisation : bénéficiaires touchés rapportés aux bénéficiaires prévus sur les mêmes actions-années, "
        "celles de statut « réalisée » qui déclarent un effectif touché ; les actions-années non pourvues, abandonnées "
        "ou encore programmées sont comptées à part, avec les bénéficiaires qu'elles avaient prévus.",
        f"Actions les plus significatives : les {N_ACTIONS} actions associatives ayant reçu le plus de crédits "
        "spécifiques sur la période ; intitulés, publics et objectifs tels que déclarés dans la programmation.",
        "Qualification des publics : un public est « précis » s'il nomme une tranche d'âge (enfants, jeunes, "
        "« de 6 à 11 ans »…) ou une situation sociale (demandeurs d'emploi, bénéficiaires de la CMU, parents, "
        "locataires…), « général » s'il désigne tous les habitants.",
        "Bilans d'activité : constats codés par les opérateurs (réussite, difficulté, blocage, écart expliqué) et "
        "leur thème ; les comptes de constats passent par le secret statistique.",
        f"Intensité du financement : crédits spécifiques aux associations par habitant du quartier ; quartier "
        f"« financé » au-delà de {text.euros(p.seuil_intensite)} par habitant et par an en moyenne à partir de "
        f"{p.annee_traitement}, « de comparaison » en deçà de {text.euros(p.seuil_comparaison)}, les autres sont "
        "écartés de la comparaison.",
        (
            f"Avant et pendant le CUCS : chaque évolution compare la moyenne de la période {pendant} à celle de la "
            f"période {avant} (paramètres periode.debut, periode.fin et annee_debut_cucs), jamais une première et une "
            "dernière année."
            if not text.sans_annee_avant(params.periode.debut, params.annee_debut_cucs)
            else f"Avant et pendant le CUCS : {text.AUCUNE_ANNEE_AVANT} (la période étudiée, {pendant}, commence avec "
            "le contrat : paramètres periode.debut et annee_debut_cucs) ; aucune évolution avant / pendant n'est "
            "calculée, jamais une première et une dernière année à la place."
        )
        + " Pour un taux, la valeur d'une période est le taux regroupé (somme des numérateurs sur somme "
        "des dénominateurs de ses années, bases affichées) ; une base de moins de 30 est signalée « petite base ». "
        "Les quartiers de comparaison de la région sont résumés par la moyenne de leurs taux annuels regroupés.",
        "Écarts : différence entre le quartier et sa commune (en points pour un taux), calculée sur les valeurs "
        f"affichées ; écart « réduit » ou « creusé » au-delà de {text.nombre(params.convergence.tolerance_points, 1)} "
        "point ; un écart n'est dit significatif que si les intervalles de confiance à 95 % (méthode de Wilson) ne se "
        "chevauchent pas ; la tendance d'un quartier est la pente de la régression sur toutes ses années, retenue si "
        "son intervalle à 95 % exclut zéro (jamais à partir de deux années consécutives).",
        "Séries « quartiers financés » et « quartiers de comparaison » : taux recalculés sur l'ensemble des quartiers "
        "du groupe (somme des numérateurs sur somme des dénominateurs), valeurs secrètes exclues.",
        f"Différence de différences : panel quartier × année de toute la région, effets fixes quartier et année "
        f"(modèle « y ~ financé × après {p.annee_traitement} + quartier + année »), erreurs types regroupées par "
        "quartier, intervalle à 95 % (loi de Student) ; vérification des évolutions parallèles avant le financement "
        "(pente différente des deux groupes non significative au seuil de 5 %) ; étude d'événement par rapport à "
        f"l'année {p.annee_traitement - 1}. Pour une commune sans quartier financé, c'est un contexte régional.",
        "Enquêtes : part des réponses « plutôt » ou « tout à fait d'accord » (échelle de 1 à 5) sur les quartiers de "
        "la commune, avec un intervalle de confiance à 95 % (méthode de Wilson).",
        f"Secret statistique : aucun effectif inférieur à {r.seuil_secret} n'est publié (affiché « s ») ; les parts "
        "et les taux calculés sur un effectif secret sont masqués aussi.",
        "Analyse de contribution : lecture de la chaîne moyens → réalisations → évolution des indicateurs → "
        "comparaison → perception, et examen des explications concurrentes ; elle indique une tendance, pas une preuve.",
    ]
