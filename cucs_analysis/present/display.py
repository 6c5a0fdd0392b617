"""What a notebook shows besides figures: French sentences, lists and tables as escaped HTML.

Every data string (quartier names, action titles…) goes through `text.texte_affiche` (no
bidi or control character, right-to-left script isolated) and `html.escape` here, so a title
such as ``<script>alert(1)</script>`` is shown as text in JupyterLab and on the site, and a
right-to-left override in a name does not reverse the sentence that holds it.
Markdown outputs are avoided on purpose: nbconvert passes raw HTML inside Markdown through.

A notebook whose setup failed must not go on showing what a kernel kept across runs still
holds (the previous commune's report): `arreter(motif)` stops every helper here, which then
returns the one line « Le carnet n'a pas démarré : … Rien n'est affiché. » until `reprendre()`.
`pipeline.notebook.demarrer` calls the first before anything else and the second on success.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping

import pandas as pd

from cucs_analysis.present import text

NON_DISPONIBLE = "Données non disponibles"


class Html:
    """An HTML fragment that IPython displays as such (and as plain text elsewhere)."""

    def __init__(self, fragment: str, texte: str = ""):
        self.fragment = fragment
        self.texte = texte

    def _repr_html_(self) -> str:
        return self.fragment

    def __repr__(self) -> str:
        return self.texte or self.fragment


def _e(x: object) -> str:
    return html.escape(text.texte_affiche(str(x)), quote=True)


# --- stop state -----------------------------------------------------------------------------

_motif_arret: str | None = None


def arreter(motif: str) -> None:
    """Stop the notebook's story: every helper now returns the stop line giving `motif`."""
    global _motif_arret
    _motif_arret = str(motif)


def reprendre() -> None:
    """Show again (after a successful setup)."""
    global _motif_arret
    _motif_arret = None


def motif_arret() -> str | None:
    """Why the notebook is stopped, or None when it shows."""
    return _motif_arret


def phrase_arret(motif: str) -> str:
    """« Le carnet n'a pas démarré : <motif>. Rien n'est affiché. » on one line."""
    raison = " ; ".join(ligne.strip() for ligne in str(motif).splitlines() if ligne.strip())
    raison = text.minuscule_initiale(raison.rstrip(" .")) or "raison inconnue"
    return f"Le carnet n'a pas démarré : {raison}. Rien n'est affiché."


def _arret() -> Html | None:
    """The stop line when the notebook is stopped, else None."""
    if _motif_arret is None:
        return None
    phrase = phrase_arret(_motif_arret)
    return Html(f'<p class="cucs-arret"><strong>{_e(phrase)}</strong></p>', phrase)


# --- helpers --------------------------------------------------------------------------------


def paragraphe(phrase: str, classe: str = "cucs-texte") -> Html:
    if (stop := _arret()) is not None:
        return stop
    return Html(f'<p class="{classe}">{_e(phrase)}</p>', phrase)


def titre(texte: str, niveau: int = 3) -> Html:
    """A heading whose text comes from data (static headings stay in Markdown cells)."""
    if (stop := _arret()) is not None:
        return stop
    n = min(max(int(niveau), 2), 6)
    return Html(f"<h{n}>{_e(texte)}</h{n}>", texte)


def titre_commune(nom: str, code: str, groupe: str) -> Html:
    """The line under the notebook's title: commune and the group that asked the question."""
    if (stop := _arret()) is not None:
        return stop
    fragment = (
        f'<p class="cucs-commune">Commune : <strong>{_e(nom)}</strong> ({_e(code)}) — '
        f"question posée par : {_e(groupe)}</p>"
    )
    return Html(fragment, f"Commune : {nom} ({code})")


def liste(phrases: Iterable[str], titre: str | None = None, vide: str | None = None) -> Html:
    """A bulleted list of French sentences (with an optional heading)."""
    if (stop := _arret()) is not None:
        return stop
    items = [p for p in phrases if p]
    head = f'<p class="cucs-liste-titre"><strong>{_e(titre)}</strong></p>' if titre else ""
    if not items:
        phrase = vide or NON_DISPONIBLE + "."
        # A missing-data sentence carries its class, so the page can say it once per section.
        absent = phrase.startswith(tuple(f"{e} :" for e in ENTREES_MOTIF.values())) or phrase.startswith(
            NON_DISPONIBLE
        )
        cls = ' class="cucs-non-disponible"' if absent and not head else ""
        return Html(head + f"<p{cls}>{_e(phrase)}</p>", phrase)
    body = "".join(f"<li>{_e(p)}</li>" for p in items)
    return Html(f'{head}<ul class="cucs-liste">{body}</ul>', "\n".join(items))


def liste_liens(
    lignes: Iterable[tuple[str, str | None, str]], titre: str | None = None, vide: str | None = None
) -> Html:
    """A bulleted list of French sentences, each followed by a link (sentence, href, link
    label; no link when href is None): a synthesis's verdicts pointing to their evidence."""
    if (stop := _arret()) is not None:
        return stop
    items = [(p, h, lib) for p, h, lib in lignes if p]
    if not items:
        return liste([], titre, vide)
    head = f'<p class="cucs-liste-titre"><strong>{_e(titre)}</strong></p>' if titre else ""
    body = "".join(
        f"<li>{_e(p)}" + (f' (<a href="{_e(h)}">{_e(lib)}</a>)' if h else "") + "</li>" for p, h, lib in items
    )
    return Html(f'{head}<ul class="cucs-liste cucs-liens">{body}</ul>', "\n".join(p for p, _, _ in items))


def lien(phrase: str, href: str, libelle: str) -> Html:
    """One sentence followed by a link (e.g. a table offered as a download on the site)."""
    if (stop := _arret()) is not None:
        return stop
    fragment = f'<p class="cucs-texte">{_e(phrase)} <a href="{_e(href)}">{_e(libelle)}</a></p>'
    return Html(fragment, f"{phrase} {libelle} : {href}")


def en_bref(constats: list[str], reserves: list[str]) -> Html:
    """The "En bref" box: findings then caveats."""
    if (stop := _arret()) is not None:
        return stop
    c = liste(constats, "Constats", "Aucun constat ne peut être établi avec les données disponibles.")
    r = liste(reserves, "Réserves", "Pas de réserve particulière.")
    return Html(f'<div class="cucs-en-bref">{c.fragment}{r.fragment}</div>', c.texte + "\n" + r.texte)


#: What an empty section says first, by the reason of its absence (`analysis.motifs` codes):
#: a commune outside the CUCS has nothing to show, which is not data missing from the files.
ENTREES_MOTIF = {
    "hors_cucs": "Hors CUCS",
    "donnee_absente": NON_DISPONIBLE,
    "secret": "Secret statistique",
    "non_calculable": "Non calculable",
}


class Absence(str):
    """What a section lacks, carrying the reason (`analysis.motifs` code) that leads its sentence:
    a report passes it as `vide` of a view or as `quoi` of a figure."""

    motif: str | None

    def __new__(cls, quoi: str, motif: str | None = None):
        obj = super().__new__(cls, quoi)
        obj.motif = motif
        return obj


def non_disponible(quoi: str, motif: str | None = None) -> Html:
    """The one sentence a section shows when it has nothing for this commune, led by its reason
    (« Hors CUCS : … », « Données non disponibles : … », …; missing data when no reason is given)."""
    if (stop := _arret()) is not None:
        return stop
    motif = motif or getattr(quoi, "motif", None)
    if motif is None and est_mesure_nulle(quoi):
        # « aucun opérateur sous-performant » is a measured zero, a result: never under
        # « Données non disponibles ».
        phrase = f"{quoi[:1].upper()}{quoi[1:]}."
        return Html(f'<p class="cucs-mesure-nulle">{_e(phrase)}</p>', phrase)
    phrase = f"{ENTREES_MOTIF.get(motif or '', NON_DISPONIBLE)} : {quoi}."
    return Html(f'<p class="cucs-non-disponible">{_e(phrase)}</p>', phrase)


def est_mesure_nulle(quoi: str) -> bool:
    """Whether the sentence of an empty view states a measured zero (« aucun … », « aucune … »)
    rather than what is missing."""
    return str(quoi).split(" ", 1)[0].lower() in {"aucun", "aucune"}


Formatter = Callable[[object], str]

#: The fixed set of units a view's column may have, and how each is written at display.
#: A view holds numbers (an analyst can compute on them); formatting happens here only.
FORMATS_UNITE: dict[str, Formatter] = {
    "texte": lambda v: text.ND if text.manquant(v) else str(v),
    "nombre": lambda v: text.nombre(v, 0),
    "decimal": lambda v: text.nombre(v, 1),
    "euros": text.euros,
    "euros_decimal": lambda v: text.euros(v, 1),  # small amounts: per inhabitant, per year
    "euros_centimes": lambda v: text.euros(v, 2),  # a ratio of euros: « 1,78 € » per euro
    "euros_compacts": text.euros_compacts,
    "pourcentage": text.pourcentage,  # already in percent (0-100)
    "part": lambda v: text.pourcentage(v if isinstance(v, str) else 100 * v),  # a fraction (0-1)
    "evolution": lambda v: text.pourcentage(v if isinstance(v, str) else 100 * v, signe=True),
    "points": text.points,
    "ratio": text.ratio,
    "annee": text.annee,
    "oui_non": lambda v: text.ND if text.manquant(v) else ("oui" if v else "non"),
    "p_valeur": text.p_valeur,
}
UNITES = tuple(FORMATS_UNITE)


def vue(df: pd.DataFrame | None, colonnes: Mapping[str, tuple[str, str]], vide: str) -> pd.DataFrame | None:
    """A view for `tableau`: the columns of `df` in display order, renamed to their French
    headers, values unchanged (numbers stay numbers); `colonnes` maps column → (header, unit)
    with units from `UNITES`; `vide` says what is missing when there is no row. When `df` is
    None (the section's data is absent) the view is empty but keeps its headers and `vide`, so
    `tableau` says why."""
    bad = {c: u for c, (_, u) in colonnes.items() if u not in FORMATS_UNITE}
    if bad:
        raise ValueError(f"unités inconnues : {bad} (attendu : {', '.join(UNITES)})")
    if df is None:
        df = pd.DataFrame(columns=list(colonnes))
    out = df[list(colonnes)].rename(columns={c: h for c, (h, _) in colonnes.items()}).reset_index(drop=True)
    out.attrs = {"unites": {h: u for h, u in colonnes.values()}, "vide": vide}
    if getattr(vide, "motif", None):
        out.attrs["motif"] = vide.motif
    return out


def avec_secret(valeurs: pd.Series, secret, symbole: object = text.SECRET) -> pd.Series:
    """A view's column of counts after secrecy: the number, or « s » (`text.SECRET`) where
    `secret` (booleans aligned on `valeurs`) is true; the column becomes of object type."""
    if not isinstance(secret, pd.Series):
        secret = pd.Series(secret, index=valeurs.index)
    return valeurs.astype(object).where(~secret.astype(bool), symbole)


def colonnes_avec_secret(df: pd.DataFrame, colonnes: Iterable[str]) -> pd.DataFrame:
    """A copy of `df` with each column `c` of `colonnes` through `avec_secret`, by its flag `c_secret`."""
    out = df.copy()
    for c in colonnes:
        out[c] = avec_secret(out[c], out[f"{c}_secret"])
    return out


def _unit_of(df: pd.DataFrame, col: str) -> str:
    u = df.attrs.get("unites", {}).get(col)
    if u:
        return u
    s = df[col]
    if pd.api.types.is_bool_dtype(s):
        return "oui_non"
    if pd.api.types.is_integer_dtype(s):
        return "nombre"
    if pd.api.types.is_float_dtype(s):
        return "decimal"
    return "texte"


def _html_table(shown: pd.DataFrame, headers: list[str], numeric: list[bool], legende: str | None) -> Html:
    # Alignment inline as well as by class: JupyterLab right-aligns every cell by default.
    cls = [
        ' class="num" style="text-align: right"' if n else ' class="txt" style="text-align: left"'
        for n in numeric
    ]
    # scope: a screen reader reads each cell with its column's header
    head = "".join(f'<th scope="col"{k}>{_e(h)}</th>' for k, h in zip(cls, headers, strict=True))
    body = "".join(
        "<tr>" + "".join(f"<td{k}>{_e(v)}</td>" for k, v in zip(cls, row, strict=True)) + "</tr>"
        for row in shown.itertuples(index=False, name=None)
    )
    caption = f"<caption>{_e(legende)}</caption>" if legende else ""
    table = (
        f'<table class="cucs-tableau">{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )
    return Html(f'<div class="cucs-tableau-bloc">{table}</div>', shown.to_string(index=False))


def tableau(vue: pd.DataFrame | None, legende: str | None = None, vide: str | None = None) -> Html:
    """An HTML table of a view (see `vue`): French headers, each column written by its unit,
    every cell escaped, numbers right-aligned and text left-aligned. A view that is None or
    empty gives the one sentence « Données non disponibles : … »."""
    if (stop := _arret()) is not None:
        return stop
    if vue is None or vue.empty:
        quoi = vide or (vue.attrs.get("vide") if vue is not None else None) or "aucune ligne à afficher"
        return non_disponible(quoi, vue.attrs.get("motif") if vue is not None else None)
    units = [_unit_of(vue, c) for c in vue.columns]
    shown = pd.DataFrame(
        {c: vue[c].map(FORMATS_UNITE[u]) for c, u in zip(vue.columns, units, strict=True)}, index=vue.index
    )
    return _html_table(shown, list(vue.columns), [u != "texte" for u in units], legende)


def figure(fig, quoi: str, motif: str | None = None):
    """A figure with its alt text, or the sentence of its absence (led by `motif`) when `fig` is None."""
    if (stop := _arret()) is not None:
        _fermer(fig)  # else the inline backend would still show it at the end of the cell
        return stop
    if fig is None:
        return non_disponible(quoi, motif)
    from cucs_analysis.present import plots

    return plots.figure_html(fig)


def figures(figs, quoi: str, motif: str | None = None):
    """Several figures of one section (e.g. one per indicator), each shown with its own alt
    text; the 'données non disponibles' sentence when there is none."""
    if (stop := _arret()) is not None:
        for fig in figs or []:
            _fermer(fig)
        return stop
    figs = [f for f in (figs or []) if f is not None]
    if not figs:
        return non_disponible(quoi, motif)
    from IPython.display import display as _show

    from cucs_analysis.present import plots

    for fig in figs:
        _show(plots.figure_html(fig))
    return None


def _fermer(fig) -> None:
    """Close a matplotlib figure made from stale objects, unseen."""
    if fig is None:
        return
    import matplotlib.pyplot as plt

    try:
        plt.close(fig)
    except TypeError:
        pass  # not a figure: nothing to close


def sections(
    parties: Iterable[tuple[str, Iterable[str], pd.DataFrame | None]],
    vide: str,
    titre_liste: str | None = None,
) -> Html:
    """Several sections in one output (the commune synthesis: one per question). Each part is
    (heading from data, sentences, view): the heading, the sentences as a list under
    `titre_liste`, then the view as a table; a part whose view is None has no data here and
    shows « Données non disponibles : `vide`. » under its heading instead."""
    if (stop := _arret()) is not None:
        return stop
    blocs: list[Html] = []
    for entete, phrases, v in parties:
        blocs.append(titre(entete))
        if v is None:
            blocs.append(non_disponible(vide))
        else:
            blocs += [liste(phrases, titre_liste), tableau(v)]
    return Html("".join(b.fragment for b in blocs), "\n".join(b.texte for b in blocs))
