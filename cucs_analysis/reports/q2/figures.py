"""q2 figures: each returns a matplotlib Figure with its French alt text, or None when the data
is missing for the commune."""

from __future__ import annotations

import pandas as pd

from cucs_analysis.analysis import trends
from cucs_analysis.present import text
from cucs_analysis.reports.q2.narrative import _ecart
from cucs_analysis.reports.q2.tables import REPONDANTS, SERIES, RapportQ2


def _court(s: object, n: int = 48) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


def figure_actions(r: RapportQ2):
    """The most significant actions by specific credits (horizontal bars)."""
    from cucs_analysis.present import plots

    top = r.actions_significatives
    if top.empty:
        return None
    # The rank keeps labels unique (two actions may share a title).
    data = top.assign(libelle=[f"{i}. {_court(t)}" for i, t in enumerate(top["intitule"], start=1)])
    fig = plots.barres_horizontales(
        data,
        "libelle",
        "credits_specifiques",
        f"Les {len(top)} actions associatives les mieux dotées",
        "Crédits spécifiques accordés sur la période (€)",
        unite="€",
    )
    details = text.liste_fr(
        [f"{t} : {text.euros(v)}" for t, v in zip(top["intitule"], top["credits_specifiques"], strict=False)]
    )
    return plots.set_alt(
        fig,
        f"Diagramme en barres : crédits spécifiques accordés aux {len(top)} actions associatives les mieux "
        f"dotées {text.de(r.nom_commune)}. {details}.",
    )


def figure_tendances(r: RapportQ2, indicateur: str):
    """Funded quartiers of the commune vs commune vs comparison quartiers, with 95 % intervals."""
    from matplotlib.ticker import MaxNLocator

    from cucs_analysis.present import plots

    s = r.series
    if s.empty:
        return None
    s = s[s["indicateur"] == indicateur]
    if s.empty or not s["serie"].isin(["finances", "quartiers", "quartiers_inconnus"]).any():
        return None
    libelle, unite = r.libelles.get(indicateur, indicateur), r.unites.get(indicateur, "")
    order = {k: i for i, k in enumerate(SERIES)}
    s = s.sort_values(["serie", "annee"], key=lambda c: c.map(order) if c.name == "serie" else c)
    fig = plots.series_temporelles(
        s,
        "annee",
        "valeur",
        "serie",
        f"{libelle} :\nquartiers de la commune, commune et quartiers de comparaison",
        libelle + (f" ({unite})" if unite and unite != "nombre" else ""),
        unite=unite if unite in ("%", "€") else None,
        bas="ic_bas",
        haut="ic_haut",
        libelles=SERIES,
    )
    ax = fig.axes[0]
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # no "22,5 %" shown as "23 %"
    ax.axvline(r.annee_traitement - 0.5, color=plots.GRIS, ls="--", lw=1)
    ax.annotate(
        f"financement renforcé (à partir de {r.annee_traitement})",
        (r.annee_traitement - 0.4, 1.0),
        xycoords=("data", "axes fraction"),
        va="top",
        fontsize=9,
        color=plots.GRIS,
    )
    # The period means the page compares (before / during the CUCS), dotted, in each series' colour.
    p = r.periodes[r.periodes["indicateur"] == indicateur] if not r.periodes.empty else r.periodes
    couleurs = {line.get_label(): line.get_color() for line in ax.get_lines()}
    for row in p.itertuples():
        c = couleurs.get(SERIES.get(row.serie, row.serie), plots.GRIS)
        if row.avant_testable:
            ax.hlines(
                row.valeur_avant,
                r.periode_debut - 0.3,
                r.annee_debut_cucs - 0.7,
                colors=c,
                linestyles=":",
                lw=2,
            )
        ax.hlines(
            row.valeur_pendant, r.annee_debut_cucs - 0.3, r.periode_fin + 0.3, colors=c, linestyles=":", lw=2
        )
    ax.axvline(r.annee_debut_cucs - 0.5, color="black", ls=":", lw=1)
    ax.annotate(
        f"début du CUCS ({r.annee_debut_cucs}) ; pointillés : moyennes des périodes",
        (r.annee_debut_cucs - 0.4, 0.02),
        xycoords=("data", "axes fraction"),
        va="bottom",
        fontsize=8,
        color="black",
    )
    avant = text.periode_avant(r.periode_debut, r.annee_debut_cucs)
    pendant = text.annee_periode(r.annee_debut_cucs, r.periode_fin)
    valeurs = text.liste_fr(
        [
            f"{SERIES.get(row.serie, row.serie)} : "
            + (f"{text.valeur_unite(row.valeur_avant, unite)} puis " if row.avant_testable else "")
            + text.valeur_unite(row.valeur_pendant, unite)
            for row in p.itertuples()
        ]
    )
    return plots.set_alt(
        fig,
        f"Courbes {text.de(text.minuscule_initiale(libelle))} par année, avec intervalles de confiance à 95 %, pour les "
        f"{'quartiers financés' if s['serie'].iloc[0] == 'finances' else 'quartiers'} {text.de(r.nom_commune)}, pour la commune et pour les quartiers de "
        f"comparaison de la région ; en pointillés, la moyenne de chaque période. Moyennes avant le CUCS ({avant}) "
        f"puis pendant ({pendant}) : {valeurs}.",
    )


def figure_ecarts(r: RapportQ2, indicateur: str):
    """Gap of each quartier to the commune, before the CUCS vs during it (period means, dumbbell)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from cucs_analysis.present import plots

    e = r.ecarts
    if e.empty:
        return None
    e = e[(e["indicateur"] == indicateur) & e["ecart_avant"].notna() & e["ecart_pendant"].notna()]
    if e.empty:
        return None
    libelle, unite = r.libelles.get(indicateur, indicateur), r.unites.get(indicateur, "")
    avant = text.periode_avant(r.periode_debut, r.annee_debut_cucs)
    pendant = text.annee_periode(r.annee_debut_cucs, r.periode_fin)
    e = e.sort_values("ecart_pendant")
    y = list(range(len(e)))
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(e) + 1.8))
    ax.hlines(y, e["ecart_avant"], e["ecart_pendant"], color=plots.GRIS, lw=2)
    ax.scatter(
        e["ecart_avant"], y, color=plots.OKABE_ITO["orange"], s=60, zorder=3, label=f"avant le CUCS ({avant})"
    )
    ax.scatter(
        e["ecart_pendant"],
        y,
        color=plots.OKABE_ITO["bleu"],
        s=60,
        zorder=3,
        label=f"pendant le CUCS ({pendant})",
    )
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [f"{n} ({g})" for n, g in zip(e["nom"], e["groupe"].fillna("non classé"), strict=False)])
    ax.set_title(f"Écart à la commune : {text.minuscule_initiale(libelle)}")
    ax.set_xlabel(
        "Écart au taux de la commune, moyenne de la période (points)"
        if unite == "%"
        else f"Écart à la commune, moyenne de la période ({unite})"
    )
    ax.grid(axis="x", visible=True)
    ax.grid(axis="y", visible=False)
    plots.franciser_axes(ax, x="nombre", y=None, decimales=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="best")
    details = text.liste_fr(
        [
            f"{n} : {_ecart(d, unite)} puis {_ecart(f, unite)}"
            for n, d, f in zip(e["nom"], e["ecart_avant"], e["ecart_pendant"], strict=False)
        ]
    )
    return plots.set_alt(
        fig,
        f"Graphique en haltères : écart {text.de(text.minuscule_initiale(libelle))} entre chaque quartier "
        f"{text.de(r.nom_commune)} et la commune, en moyenne avant le CUCS ({avant}) et pendant ({pendant}). {details}.",
    )


def figure_etude_evenement(r: RapportQ2, indicateur: str):
    """Event study: difference between funded and comparison quartiers year by year, relative
    to the year before the funding, with 95 % intervals."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from cucs_analysis.present import plots

    ev = r.etudes_evenement.get(indicateur)
    if ev is None or ev.empty:
        return None
    libelle, unite = r.libelles.get(indicateur, indicateur), r.unites.get(indicateur, "")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    pre = ev["annee"] < r.annee_traitement
    for mask, colour, label in (
        (pre, plots.GRIS, f"avant {r.annee_traitement}"),
        (~pre, plots.OKABE_ITO["bleu"], f"à partir de {r.annee_traitement}"),
    ):
        part = ev[mask]
        ax.errorbar(
            part["annee"],
            part["coefficient"],
            yerr=[part["coefficient"] - part["ic_bas"], part["ic_haut"] - part["coefficient"]],
            fmt="o",
            color=colour,
            capsize=3,
            label=label,
        )
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(r.annee_traitement - 0.5, color=plots.GRIS, ls="--", lw=1)
    ax.set_title(f"Étude d'événement : {text.minuscule_initiale(libelle)}")
    ax.set_xlabel("Année")
    ax.set_ylabel("Différence avec l'année de référence (points)" if unite == "%" else "Différence")
    plots.franciser_axes(ax, x=None, y="nombre", decimales=1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="best")
    ref = (
        int(ev.loc[ev["ic_bas"].eq(ev["ic_haut"]), "annee"].iloc[0])
        if ev["ic_bas"].eq(ev["ic_haut"]).any()
        else None
    )
    valeurs = text.liste_fr(
        [f"{int(a)} : {_ecart(c, unite)}" for a, c in zip(ev["annee"], ev["coefficient"], strict=False)]
    )
    return plots.set_alt(
        fig,
        f"Points avec intervalles de confiance à 95 % : pour chaque année, différence d'évolution de "
        f"{text.minuscule_initiale(libelle)} entre les quartiers financés et les quartiers de comparaison de la "
        f"région, par rapport à {ref if ref else 'l’année de référence'}. Des points proches de zéro avant "
        f"{r.annee_traitement} indiquent des évolutions parallèles avant le financement. Valeurs : {valeurs}.",
    )


def figure_enquetes(r: RapportQ2, annee: int | None = None):
    """Likert answers per statement and respondent type (diverging bars), with the 95 %
    interval of the agreement share; secret groups (fewer than the threshold) left out."""
    from cucs_analysis.present import plots

    s = r.enquetes
    if s.empty:
        return None
    annee = int(s["annee"].max()) if annee is None else annee
    shown = s[(s["annee"] == annee) & ~s["secret"]]
    if shown.empty:
        return None
    raw = r.reponses[r.reponses["annee"] == annee]
    if raw.empty:
        return None
    raw = raw.assign(
        libelle=[
            f"{_court(q, 55)} — {REPONDANTS.get(t, t).lower()}"
            for q, t in zip(raw["question"], raw["type_repondant"], strict=False)
        ]
    )
    fig = plots.barres_divergentes(
        raw, "libelle", "reponse", f"Points de vue croisés sur les quartiers ({annee})"
    )
    ax = fig.axes[0]
    # Keep the legend just under the axis whatever the figure's height.
    height = ax.get_position().height * fig.get_size_inches()[1]
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.9 / height), ncol=3, fontsize=9)
    # Bars are drawn in the crosstab's (sorted) label order: put each interval on its bar.
    counts = pd.crosstab(raw["libelle"], raw["reponse"]).reindex(columns=range(1, 6), fill_value=0)
    shares = counts.div(counts.sum(axis=1), axis=0) * 100
    start = shares[3] / 2  # agreement starts at the middle of the neutral answers
    idx = {lab: i for i, lab in enumerate(shares.index.astype(str))}
    n = counts.sum(axis=1)
    ok = counts[4] + counts[5]
    lo, hi = trends.wilson_interval(ok, n)
    centre = start + shares[4] + shares[5]
    ax.errorbar(
        centre,
        [idx[str(k)] for k in shares.index],
        xerr=[(centre - (start + lo)).clip(lower=0), ((start + hi) - centre).clip(lower=0)],
        fmt="none",
        ecolor="black",
        capsize=3,
        lw=1,
    )
    details = text.liste_fr(
        [
            f"{q} ({REPONDANTS.get(t, t).lower()}) : {text.pourcentage(v, 0)} d'accord"
            for t, q, v in zip(shown["type_repondant"], shown["question"], shown["accord"], strict=False)
        ]
    )
    return plots.set_alt(
        fig,
        f"Barres divergentes : réponses des habitants, des opérateurs et des partenaires aux affirmations de "
        f"l'enquête {annee} sur les quartiers {text.de(r.nom_commune)}, du désaccord (à gauche) à l'accord (à droite), "
        f"avec l'intervalle de confiance à 95 % de la part d'accord. {details}.",
    )


def figures_tendances(r: RapportQ2) -> list:
    """`figure_tendances` for each indicator followed (none when no quartier is followed)."""
    return [] if r.ecarts.empty else [figure_tendances(r, i) for i in r.indicateurs]


def figures_ecarts(r: RapportQ2) -> list:
    """`figure_ecarts` for each indicator followed (none when no quartier is followed)."""
    return [] if r.ecarts.empty else [figure_ecarts(r, i) for i in r.indicateurs]


def figures_etude_evenement(r: RapportQ2) -> list:
    """`figure_etude_evenement` for each indicator followed."""
    return [figure_etude_evenement(r, i) for i in r.indicateurs]
