"""q2 in French: findings, the DiD read as a trend, the contribution chain, caveats, key
figures and the « Sources et méthode » list. Every sentence is generated from the tables."""

from __future__ import annotations

import pandas as pd

from cucs_analysis.present import text
from cucs_analysis.reports.q2.tables import (
    CITATION_ATELIER,
    GROUPES,
    N_ACTIONS,
    QUESTION_AMELIORATION,
    REPONDANTS,
    RapportQ2,
)

# --- French sentences -----------------------------------------------------------------------


def _ecart(x: object, unite: str) -> str:
    """A signed difference in the indicator's unit (points for a rate)."""
    if unite == "%":
        return text.points(x)
    if text.manquant(x):
        return text.ND
    s = text.nombre(x, 0 if unite in ("€", "hab.", "nombre") else 1, signe=True)
    return f"{s}{text.ESPACE_UNITE}{unite}" if unite not in ("", "nombre") else s


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


def narrate(r: RapportQ2, params) -> None:
    """Fill the report's sentences and key figures from its tables."""
    _narrate_means(r, params.operateurs.seuil_realisation)
    _narrate_did(r, params)
    _narrate_gaps(r)
    _narrate_surveys(r)
    _contribution(r)
    _caveats(r)
    _key_figures(r)


def _narrate_means(r: RapportQ2, seuil_realisation: float = 0.7) -> None:
    a = r.actions
    if a.empty:
        r.constats.append(
            f"Aucune action portée par une association n'est financée à {r.nom_commune} dans les données : "
            "la commune sert de point de comparaison."
        )
        return
    part = 100 * r.credits_associations / r.credits_specifiques if r.credits_specifiques else None
    r.constats.append(
        f"À {r.nom_commune}, les associations ont reçu {text.euros(r.credits_associations)} de crédits spécifiques "
        f"pour {text.pluriel(len(a), 'action')}"
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
        r.constats.append(
            f"Les {len(top)} actions les mieux dotées concentrent {text.pourcentage(share)} de ces crédits ; "
            f"la première, « {top['intitule'].iloc[0]} », en a reçu {text.euros(top['credits_specifiques'].iloc[0])}."
        )
    i = r.intensite
    finances = i[i["groupe"] == "traite"]
    if not i.empty:
        r.constats.append(
            f"{text.pluriel(len(finances), 'quartier')} de la commune sur {len(i)} "
            f"{'reçoit' if len(finances) < 2 else 'reçoivent'} en moyenne au moins "
            f"{text.nombre(r.seuil_intensite, 0)} € par habitant et par an depuis {r.annee_traitement}"
            + (f" ({text.liste_fr(finances['nom'])})." if len(finances) else ".")
        )
    low = top[top["taux_realisation"] < seuil_realisation]
    for row in low.head(3).itertuples():  # the three largest under-achievements
        r.debat.append(
            f"L'action « {row.intitule} » a touché {text.pourcentage(100 * row.taux_realisation, 0)} des "
            "bénéficiaires prévus : le public visé était-il le bon, et comment l'atteindre ?"
        )


def _narrate_did(r: RapportQ2, params) -> None:
    for row in r.did.to_dict("records"):  # one sentence per indicator
        ind = row["indicateur"]
        r.phrases_did.append(
            phrase_did(
                row, r.libelles.get(ind, ind), r.unites.get(ind, ""), r.annee_traitement, r.sens.get(ind)
            )
        )
    r.constats.extend(r.phrases_did)
    if r.did.empty:
        r.phrases_did.append(
            "La comparaison entre quartiers financés et quartiers de comparaison n'est pas possible : "
            "les financements ou les indicateurs de la région manquent."
        )


def _narrate_gaps(r: RapportQ2) -> None:
    e = r.ecarts
    if e.empty:
        r.phrases_ecarts.append(
            f"Aucun quartier de {r.nom_commune} n'a d'indicateur suivi dans les données : les écarts ne peuvent "
            "pas être calculés."
        )
        return
    for ind, grp in e.groupby("indicateur", sort=False):  # a handful of indicators
        known = grp[grp["convergence"].notna()]
        if known.empty:
            continue
        n_conv = int((known["convergence"] == "convergence").sum())
        n_div = int((known["convergence"] == "divergence").sum())
        a, b = int(known["annee_debut"].min()), int(known["annee_fin"].max())
        phrase = (
            f"Indicateur « {text.minuscule_initiale(r.libelles.get(ind, ind))} » : entre {a} et {b}, l'écart avec la "
            f"commune s'est réduit dans {text.pluriel(n_conv, 'quartier')} sur {len(known)}, s'est creusé dans "
            f"{n_div} et est resté stable dans {len(known) - n_conv - n_div}."
        )
        r.phrases_ecarts.append(phrase)
        for row in known[known["convergence"] == "divergence"].itertuples():
            if row.groupe == GROUPES["traite"]:
                r.debat.append(
                    f"Dans le quartier {row.nom}, financé, l'écart de « {text.minuscule_initiale(r.libelles.get(ind, ind))} » "
                    f"avec la commune s'est creusé ({_ecart(row.ecart_debut, r.unites.get(ind, ''))} en "
                    f"{row.annee_debut}, {_ecart(row.ecart_fin, r.unites.get(ind, ''))} en {row.annee_fin}) : "
                    "qu'en disent les acteurs du quartier ?"
                )
    r.constats.extend(r.phrases_ecarts)


def _narrate_surveys(r: RapportQ2) -> None:
    s = r.enquetes
    if s.empty:
        r.phrases_enquetes.append(
            "Aucune enquête auprès des habitants, des opérateurs ou des partenaires ne porte sur les quartiers de la "
            "commune."
        )
        return
    annee = int(s["annee"].max())
    last = s[(s["annee"] == annee) & ~s["secret"]]
    q = last[last["question"] == QUESTION_AMELIORATION]
    if not q.empty:
        parts = [
            f"{text.pourcentage(v, 0)} des {REPONDANTS.get(t, t).lower()}"
            for t, v in zip(q["type_repondant"], q["accord"], strict=False)
        ]
        r.phrases_enquetes.append(
            f"En {annee}, « {QUESTION_AMELIORATION.lower()} » : c'est l'avis de {text.liste_fr(parts)} interrogés."
        )
    n_secret = int(s.loc[s["annee"] == annee, "secret"].sum())
    if n_secret:
        r.phrases_enquetes.append(
            f"{text.pluriel(n_secret, 'groupe de répondants', 'groupes de répondants')} de moins de {r.seuil_secret} "
            "personnes ne sont pas publiés (secret statistique)."
        )
    wide = last.pivot_table(index="question", columns="type_repondant", values="accord")
    if {"habitant", "opérateur"} <= set(wide.columns):
        diff = (wide["opérateur"] - wide["habitant"]).dropna()
        if not diff.empty:
            qmax = diff.abs().idxmax()
            d = diff[qmax]
            r.phrases_enquetes.append(
                f"Le plus grand écart de points de vue porte sur « {qmax} » : "
                f"{text.pourcentage(wide.loc[qmax, 'habitant'], 0)} des habitants sont d'accord, contre "
                f"{text.pourcentage(wide.loc[qmax, 'opérateur'], 0)} des opérateurs."
            )
            if abs(d) >= 10:
                r.debat.append(
                    f"Habitants et opérateurs ne voient pas « {qmax.lower()} » de la même façon "
                    f"({text.points(-d, 0)} pour les habitants) : comment l'expliquer, et comment associer davantage "
                    "les habitants à l'évaluation ?"
                )
    r.constats.extend(r.phrases_enquetes[:1])


def _contribution(r: RapportQ2) -> None:
    """The contribution chain (theory of change): for each link, what the data show and
    whether it fits."""
    rows = []
    a = r.actions
    fin = r.intensite[r.intensite["groupe"] == "traite"] if not r.intensite.empty else r.intensite
    if a.empty:
        rows.append(
            (
                "1. Des moyens ont été alloués aux associations",
                "Aucune action financée dans la commune.",
                "non disponible",
            )
        )
    else:
        rows.append(
            (
                "1. Des moyens ont été alloués aux associations",
                f"{text.euros(r.credits_associations)} de crédits spécifiques ; "
                f"{text.pluriel(len(fin), 'quartier financé', 'quartiers financés')} au-delà de "
                f"{text.euros(r.seuil_intensite)} par habitant et par an.",
                "concordant" if len(fin) else "partiel",
            )
        )
    done = a.dropna(subset=["beneficiaires_prevus", "beneficiaires_realises"]) if not a.empty else a
    if done.empty or float(done["beneficiaires_prevus"].sum()) == 0:
        rows.append(
            ("2. Les actions ont touché les publics visés", "Bénéficiaires non renseignés.", "non disponible")
        )
    else:
        taux = float(done["beneficiaires_realises"].sum()) / float(done["beneficiaires_prevus"].sum())
        rows.append(
            (
                "2. Les actions ont touché les publics visés",
                f"{text.pourcentage(100 * taux, 0)} des bénéficiaires prévus ont été touchés (années réalisées).",
                "concordant" if taux >= 0.9 else ("partiel" if taux >= 0.7 else "non concordant"),
            )
        )
    e = r.ecarts
    finances_e = e[(e["groupe"] == GROUPES["traite"]) & e["convergence"].notna()] if not e.empty else e
    if finances_e.empty:
        rows.append(
            (
                "3. L'écart des quartiers financés avec la commune s'est réduit",
                "Pas de quartier financé suivi.",
                "non disponible",
            )
        )
    else:
        n_conv = int((finances_e["convergence"] == "convergence").sum())
        n_div = int((finances_e["convergence"] == "divergence").sum())
        lecture = (
            "concordant"
            if n_conv > n_div and n_div == 0
            else ("partiel" if n_conv >= n_div else "non concordant")
        )
        rows.append(
            (
                "3. L'écart des quartiers financés avec la commune s'est réduit",
                f"Écart réduit dans {n_conv} cas, creusé dans {n_div} cas, sur "
                f"{text.pluriel(len(finances_e), 'couple', 'couples')} quartier × indicateur.",
                lecture,
            )
        )
    d = r.did.dropna(subset=["estimation"]) if not r.did.empty else r.did
    if d.empty:
        rows.append(
            (
                "4. L'évolution est plus favorable que dans des quartiers comparables",
                "Comparaison impossible.",
                "non disponible",
            )
        )
    else:
        nets = [
            f"{text.minuscule_initiale(r.libelles.get(x.indicateur, x.indicateur))} : {_ecart(x.estimation, r.unites.get(x.indicateur, ''))}"
            + ("" if (x.ic_bas > 0 or x.ic_haut < 0) else " (non significatif)")
            for x in d.itertuples()
        ]
        favorable = [
            (x.ic_haut < 0 and r.sens.get(x.indicateur) != "hausse_amelioration")
            or (x.ic_bas > 0 and r.sens.get(x.indicateur) == "hausse_amelioration")
            for x in d.itertuples()
        ]
        lecture = "concordant" if all(favorable) else ("partiel" if any(favorable) else "non concordant")
        rows.append(
            (
                "4. L'évolution est plus favorable que dans des quartiers comparables",
                text.liste_fr(nets) + ".",
                lecture,
            )
        )
    s = r.enquetes
    hab = (
        s[(s["type_repondant"] == "habitant") & (s["question"] == QUESTION_AMELIORATION) & ~s["secret"]]
        if not s.empty
        else s
    )
    if hab.empty:
        rows.append(
            (
                "5. Les habitants perçoivent une amélioration",
                "Pas d'enquête auprès des habitants.",
                "non disponible",
            )
        )
    else:
        last = hab.sort_values("annee").iloc[-1]
        v = float(last["accord"])
        rows.append(
            (
                "5. Les habitants perçoivent une amélioration",
                f"{text.pourcentage(v, 0)} des habitants interrogés en {int(last['annee'])} jugent que le quartier "
                "s'est amélioré.",
                "concordant" if v >= 50 else ("partiel" if v >= 33 else "non concordant"),
            )
        )
    pre = r.did["pre_tendance_ok"].dropna() if not r.did.empty else pd.Series(dtype=object)
    rows.append(
        (
            "6. Les explications concurrentes sont écartées",
            (
                "Évolutions parallèles avant le financement. "
                if len(pre) and pre.astype(bool).all()
                else "Évolutions antérieures non comparables. "
            )
            + "Effets de composition (départs, arrivées), conjoncture, droit commun et rénovation urbaine non mesurés.",
            "non établi",
        )
    )
    r.contribution = pd.DataFrame(rows, columns=["etape", "constat", "lecture"])
    lect = r.contribution["lecture"]
    n_ok = int((lect == "concordant").sum())
    n_known = int(lect.isin(["concordant", "partiel", "non concordant"]).sum())
    r.reponse_atelier = [
        f"L'atelier le disait : « {CITATION_ATELIER} » Avec des données d'observation, on ne le peut pas : un quartier "
        "change pour bien d'autres raisons qu'une action (conjoncture, départs et arrivées d'habitants, autres "
        "politiques publiques).",
        "Ce carnet pratique donc une analyse de contribution : il vérifie, maillon par maillon, si les faits "
        "observés sont cohérents avec l'idée que les moyens alloués aux associations ont contribué à l'amélioration, "
        "et si les explications concurrentes peuvent être écartées.",
        (
            f"Ici, {n_ok} maillon{'s' if n_ok > 1 else ''} sur {n_known} "
            f"renseigné{'s' if n_known > 1 else ''} {'vont' if n_ok > 1 else 'va'} nettement dans ce sens ; "
            "le dernier (écarter les autres explications) reste à établir avec les acteurs : c'est une tendance à "
            "discuter, pas une preuve."
        )
        if not a.empty
        else (
            f"{r.nom_commune} n'ayant pas d'action associative financée dans les données, seule la tendance "
            "régionale est présentée ; les quartiers de la commune servent de point de comparaison."
        ),
    ]


def _caveats(r: RapportQ2) -> None:
    d = r.did
    if not d.empty and "n_traites" in d:
        n_t = int(d["n_traites"].max())
        n_q = int(d["n_quartiers"].max())
        r.reserves.append(
            f"La comparaison porte sur toute la région ({text.pluriel(n_t, 'quartier financé', 'quartiers financés')} "
            f"et {text.pluriel(n_q - n_t, 'quartier de comparaison', 'quartiers de comparaison')}) : ces petits "
            "nombres rendent les estimations fragiles, et le résultat régional ne se lit pas quartier par quartier."
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
    for t in (r.actions_significatives, r.publics):
        hidden += int(t.filter(like="_secret").to_numpy().sum()) if not t.empty else 0
    hidden += int(r.enquetes["secret"].sum()) if not r.enquetes.empty else 0
    if hidden:
        r.reserves.append(
            f"{text.pluriel(hidden, 'effectif masqué', 'effectifs masqués')} (moins de {r.seuil_secret} personnes, "
            "secret statistique)."
        )
    r.debat.append(
        "Quelles actions faut-il choisir collectivement comme « les plus significatives » pour une évaluation "
        "approfondie, et avec quels critères ?"
    )
    r.debat.append(
        "Les bilans d'activité précisent-ils assez les objectifs et la situation des publics pour suivre leur "
        "progression ?"
    )


def _key_figures(r: RapportQ2) -> None:
    d = r.did.set_index("indicateur") if not r.did.empty else pd.DataFrame()
    r.chiffres_cles = [
        {
            "id": "credits_associations",
            "libelle": "Crédits spécifiques aux associations",
            "valeur": r.credits_associations,
            "unite": "€",
        },
        {
            "id": "actions_associations",
            "libelle": "Actions portées par des associations",
            "valeur": len(r.actions),
            "unite": "actions",
        },
        {
            "id": "quartiers_finances",
            "libelle": "Quartiers financés de la commune",
            "valeur": int((r.intensite["groupe"] == "traite").sum()) if not r.intensite.empty else 0,
            "unite": "quartiers",
        },
    ]
    for ind in r.indicateurs:
        if ind in d.index and not text.manquant(d.loc[ind, "estimation"]):
            r.chiffres_cles.append(
                {
                    "id": f"did_{ind}",
                    "libelle": f"Écart d'évolution, quartiers financés / comparaison : {text.minuscule_initiale(r.libelles[ind])}",
                    "valeur": float(d.loc[ind, "estimation"]),
                    "unite": "points" if r.unites.get(ind) == "%" else r.unites.get(ind, ""),
                }
            )


def sources(r: RapportQ2, params, metadata) -> list[str]:
    """The 'Sources et méthode' list, with the values actually used."""
    p = params.did
    return [
        f"Données : {metadata.nom} ({text.annee_periode(metadata.annee_debut, metadata.annee_fin)})"
        + (" — données synthétiques de démonstration." if metadata.synthetique else "."),
        "Moyens : crédits spécifiques accordés (type de crédit « spécifique ») aux actions dont l'opérateur est "
        "une association ; bénéficiaires prévus et touchés sommés sur les années où l'action est réalisée.",
        f"Actions les plus significatives : les {N_ACTIONS} actions associatives ayant reçu le plus de crédits "
        "spécifiques sur la période ; intitulés, publics et objectifs tels que déclarés dans la programmation.",
        f"Intensité du financement : crédits spécifiques aux associations par habitant du quartier ; quartier "
        f"« financé » au-delà de {text.euros(p.seuil_intensite)} par habitant et par an en moyenne à partir de "
        f"{p.annee_traitement}, « de comparaison » en deçà de {text.euros(p.seuil_comparaison)}, les autres sont "
        "écartés de la comparaison.",
        "Écarts : différence entre le quartier et sa commune (en points pour un taux), à la première et à la dernière "
        f"année connues ; écart « réduit » ou « creusé » au-delà de {text.nombre(params.convergence.tolerance_points, 1)} "
        "point ; un écart n'est dit significatif que si les intervalles de confiance à 95 % (méthode de Wilson) ne se "
        "chevauchent pas ; la tendance d'un quartier est la pente de la régression sur les années, retenue si son "
        "intervalle à 95 % exclut zéro.",
        "Séries « quartiers financés » et « quartiers de comparaison » : taux recalculés sur l'ensemble des quartiers "
        "du groupe (somme des numérateurs sur somme des dénominateurs), valeurs secrètes exclues.",
        f"Différence de différences : panel quartier × année de toute la région, effets fixes quartier et année "
        f"(modèle « y ~ financé × après {p.annee_traitement} + quartier + année »), erreurs types regroupées par "
        "quartier, intervalle à 95 % (loi de Student) ; vérification des évolutions parallèles avant le financement "
        "(pente différente des deux groupes non significative au seuil de 5 %) ; étude d'événement par rapport à "
        f"l'année {p.annee_traitement - 1}.",
        "Enquêtes : part des réponses « plutôt » ou « tout à fait d'accord » (échelle de 1 à 5) sur les quartiers de "
        "la commune, avec un intervalle de confiance à 95 % (méthode de Wilson).",
        f"Secret statistique : aucun effectif inférieur à {r.seuil_secret} n'est publié (affiché « s ») ; les parts "
        "et les taux calculés sur un effectif secret sont masqués aussi.",
        "Analyse de contribution : lecture de la chaîne moyens → réalisations → évolution des indicateurs → "
        "comparaison → perception, et examen des explications concurrentes ; elle indique une tendance, pas une preuve.",
    ]
