"""One visual style for every figure: French labels and numbers, colour-blind-safe colours, alt text.

Style: `use_style()` sets matplotlib's rcParams and seaborn's theme once per kernel: the
Okabe-Ito palette (`PALETTE`, safe for the common colour-vision deficiencies), readable
sizes, no top/right spines. Matplotlib has no rcParam for a decimal comma that works without
a system locale (``axes.formatter.use_locale`` depends on one), so every helper sets French
tick formatters explicitly (`formatter_nombre`, `formatter_pourcentage`, `formatter_euros`,
built on `text`), and `franciser_axes` does it for a figure made by hand.

Alt text — how every ``<img>`` of the site gets a French ``alt``:
nbconvert 7.17's default HTML template (``lab``) writes ``image/png`` outputs as an ``<img>``
**without** any ``alt`` (only the ``classic`` template reads an ``alt`` key from the output's
metadata). So `show(fig, alt)` does not rely on metadata: it displays a ``text/html``
output that holds the figure itself, ``<img src="data:image/png;base64,…" alt="…">``
inside a ``<figure>``, with a ``text/plain`` fallback giving the same text. The HTML
exporter ranks ``text/html`` above ``image/png`` and copies it as is (unless told to
sanitize, which keeps ``img``/``alt``), so the alt survives whatever template the publisher
uses, and JupyterLab shows the same image. The alt is escaped. For checks, the output's
metadata also carries the text under ``ALT_METADATA_KEY`` and `images_sans_alt(html)` lists
the ``<img>`` of a page that lack a non-empty alt (for the publisher's tests). The PNG's
own ``Description`` field holds the alt too.

Figure helpers take French labels from the caller and return the figure (never shown,
never saved): `barres_horizontales`, `series_temporelles`, `barres_divergentes`,
`heatmap`, `carte_choroplethe`.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from cucs_analysis.present import text

__all__ = [
    "ALT_ATTRIBUTE",
    "ALT_METADATA_KEY",
    "DIVERGENT",
    "OKABE_ITO",
    "PALETTE",
    "FigureAccessible",
    "barres_divergentes",
    "barres_horizontales",
    "carte_choroplethe",
    "figure_html",
    "formatter_euros",
    "formatter_nombre",
    "formatter_pourcentage",
    "franciser_axes",
    "get_alt",
    "heatmap",
    "images_sans_alt",
    "series_temporelles",
    "set_alt",
    "textes_de_donnees",
    "show",
    "use_style",
]

#: Okabe & Ito (2008) colours, by name.
OKABE_ITO = {
    "bleu": "#0072B2",
    "orange": "#E69F00",
    "vert": "#009E73",
    "vermillon": "#D55E00",
    "bleu_ciel": "#56B4E9",
    "pourpre": "#CC79A7",
    "jaune": "#F0E442",
    "noir": "#000000",
}
#: Order of the series colours: the strongest contrasts first, yellow (poor on white) late.
PALETTE = list(OKABE_ITO.values())
#: Five-level diverging scale (Likert 1 → 5): vermillion … grey … blue.
DIVERGENT = ["#D55E00", "#E69F00", "#BBBBBB", "#56B4E9", "#0072B2"]
GRIS = "#6E6E6E"

ALT_METADATA_KEY = "alt"
ALT_ATTRIBUTE = "_cucs_alt"


# Labels are data (action titles, names): a "$" is a dollar, never mathtext. Set on import, not
# only in use_style(): every report that draws imports this module, whatever its style.
plt.rcParams["text.parse_math"] = False


# --- style and formatters ---------------------------------------------------------------------


def use_style() -> None:
    """Set the project's style (seaborn theme + rcParams) for the current process."""
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    plt.rcParams.update(
        {
            "axes.prop_cycle": cycler(color=PALETTE),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 11,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "legend.fontsize": 10,
            "legend.frameon": False,
            "figure.figsize": (8, 4.5),
            "figure.dpi": 100,
            "savefig.dpi": 110,
            "savefig.bbox": "tight",
            "grid.color": "#E3E3E3",
            "axes.grid.axis": "y",
            "axes.unicode_minus": True,  # same minus sign as text.MOINS
            "axes.formatter.use_locale": False,  # decimal comma comes from our formatters
            "image.cmap": "cividis",
            "font.family": "sans-serif",
        }
    )


def formatter_nombre(decimales: int = 0) -> FuncFormatter:
    """Tick labels as French numbers: ``1 234,5``."""
    return FuncFormatter(lambda x, _pos: text.nombre(x, decimales))


def formatter_pourcentage(decimales: int = 0) -> FuncFormatter:
    """Tick labels for values already in percent: ``12 %``."""
    return FuncFormatter(lambda x, _pos: text.pourcentage(x, decimales))


def formatter_euros(compact: bool = True) -> FuncFormatter:
    """Tick labels in euros: ``350 k€`` (compact) or ``12 500 €``."""
    if compact:
        return FuncFormatter(lambda x, _pos: "0\u00a0€" if x == 0 else text.euros_compacts(x))
    return FuncFormatter(lambda x, _pos: text.euros(x))


def _formatter_for(unite: str | None, decimales: int = 0) -> FuncFormatter:
    if unite == "%":
        return formatter_pourcentage(decimales)
    if unite == "€":
        return formatter_euros()
    return formatter_nombre(decimales)


def franciser_axes(ax, x: str | None = None, y: str | None = "nombre", decimales: int = 0) -> None:
    """Put French formatters on the numeric axes of `ax` (unit ``"%"``, ``"€"`` or ``"nombre"``).

    Pass None for an axis that holds categories or years (years must not get a group space).
    """
    if x is not None:
        ax.xaxis.set_major_formatter(_formatter_for(x, decimales))
    if y is not None:
        ax.yaxis.set_major_formatter(_formatter_for(y, decimales))


# --- alt text and display ---------------------------------------------------------------------


def set_alt(fig: Figure, texte: str) -> Figure:
    """Attach a French alternative text to a figure (read by `show`); returns the figure."""
    if not isinstance(texte, str) or not texte.strip():
        raise ValueError("Le texte alternatif d'une figure ne peut pas être vide.")
    setattr(fig, ALT_ATTRIBUTE, texte.strip())
    return fig


def get_alt(fig: Figure) -> str | None:
    """The alternative text attached by `set_alt`, or None."""
    return getattr(fig, ALT_ATTRIBUTE, None)


class FigureAccessible:
    """A rendered figure with its alt text, displayed by IPython as HTML (+ plain text)."""

    def __init__(self, png: bytes, alt: str, legende: str | None = None):
        self.png = png
        self.alt = alt
        self.legende = legende

    def _repr_html_(self) -> str:
        b64 = base64.b64encode(self.png).decode("ascii")
        caption = f"<figcaption>{html.escape(self.legende)}</figcaption>" if self.legende else ""
        return (
            f'<figure class="cucs-figure"><img src="data:image/png;base64,{b64}" '
            f'alt="{html.escape(self.alt, quote=True)}" style="max-width:100%;height:auto">'
            f"{caption}</figure>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {"text/html": self._repr_html_(), "text/plain": f"Figure : {self.alt}"}
        metadata = {"text/html": {ALT_METADATA_KEY: self.alt}}
        return data, metadata

    def __repr__(self) -> str:
        return f"Figure : {self.alt}"


def textes_de_donnees(fig: Figure) -> Figure:
    """Every text of `fig` drawn as plain text, whoever set it: no mathtext (a ``$`` from the
    data is a dollar, even if a notebook turned ``text.parse_math`` back on), no bidirectional
    or control character (`text.sans_controles`: matplotlib has no bidi algorithm and draws
    them as boxes; a carriage return becomes a line break). Tick labels (a categorical axis's
    come from the data) are computed by their axis without drawing the figure (a full draw
    cost about a third of the figure's rendering) and fixed to their cleaned text. Returns the
    figure."""
    from matplotlib.text import Text

    def propre(s: str) -> str:  # a carriage return is drawn as a box: a line break instead
        return text.sans_controles(s).replace("\r\n", "\n").replace("\r", "\n")

    def nettoyer() -> None:
        for t in fig.findobj(Text):
            t.set_parse_math(False)
            s = t.get_text()
            if propre(s) != s:
                t.set_text(propre(s))

    nettoyer()  # before any drawing: a `$\x$` drawn as mathtext would raise
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t.get_text() for t in axis.get_ticklabels()]
            clean = [propre(lab) for lab in labels]
            if clean != labels:
                axis.set_ticks(axis.get_ticklocs(), labels=clean)
    nettoyer()
    return fig


def figure_html(fig: Figure, alt: str | None = None, legende: str | None = None) -> FigureAccessible:
    """Render `fig` to PNG with its alt text and close it; nothing is displayed. Its texts go
    through `textes_de_donnees`, its alt text and caption through `text.texte_affiche`."""
    if alt is not None:
        set_alt(fig, alt)
    texte = get_alt(fig)
    if texte is None:
        raise ValueError("Chaque figure publiée doit avoir un texte alternatif (set_alt ou alt=…).")
    texte = text.texte_affiche(texte)
    legende = text.texte_affiche(legende) if legende else legende
    textes_de_donnees(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Description": texte})
    plt.close(fig)
    return FigureAccessible(buf.getvalue(), texte, legende)


def show(fig: Figure, alt: str | None = None, legende: str | None = None) -> None:
    """In a notebook: display the figure as an ``<img>`` with its French alt text, then close it.

    Returns None so that the figure is not displayed twice when `show` ends a cell.
    """
    obj = figure_html(fig, alt, legende)
    from IPython.display import display

    display(obj)


_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE | re.DOTALL)
_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def images_sans_alt(page: str) -> list[str]:
    """The ``<img …>`` tags of an HTML page that have no alt or an empty one (truncated)."""
    bad = []
    for tag in _IMG.findall(page):  # a page has few images: a loop over tags is fine
        m = _ALT.search(tag)
        value = next((g for g in m.groups() if g is not None), "") if m else ""
        if not value.strip():
            bad.append(tag[:120])
    return bad


# --- common figures ---------------------------------------------------------------------------


def _new_figure(figsize: tuple[float, float] | None = None):
    fig, ax = plt.subplots(figsize=figsize or plt.rcParams["figure.figsize"])
    return fig, ax


def barres_horizontales(
    df: pd.DataFrame,
    categorie: str,
    valeur: str,
    titre: str,
    xlabel: str,
    unite: str | None = None,
    decimales: int = 0,
    couleur: str | None = None,
    reference: float | None = None,
    libelle_reference: str | None = None,
    etiquettes: bool = True,
) -> Figure:
    """Horizontal bars sorted by value (largest on top), French value labels at the ends; one
    bar per row, even when two rows share a label.

    reference: a vertical line (e.g. the commune's value) named `libelle_reference`.
    """
    data = df[[categorie, valeur]].dropna(subset=[valeur]).sort_values(valeur)
    height = max(2.5, 0.4 * len(data) + 1.2)
    fig, ax = _new_figure((8, height))
    # One bar per row at its own position: two rows with the same label (two actions with one
    # title) stay two bars, where a categorical axis would draw them on one line.
    positions = np.arange(len(data))
    bars = ax.barh(positions, data[valeur], color=couleur or PALETTE[0])
    ax.set_yticks(positions, data[categorie].astype(str).tolist())
    ax.set_title(titre)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("")
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    franciser_axes(ax, x=unite or "nombre", y=None, decimales=decimales)
    if etiquettes and len(data):
        fmt = _formatter_for(unite, decimales if unite != "€" else 0)
        labels = [fmt(v, None) for v in data[valeur]]
        ax.bar_label(bars, labels=labels, padding=3, fontsize=9)
    if reference is not None and not text.manquant(reference):
        ax.axvline(reference, color=GRIS, linestyle="--", linewidth=1.2, label=libelle_reference)
        if libelle_reference:
            ax.legend(loc="lower right")
    return fig


def series_temporelles(
    df: pd.DataFrame,
    x: str,
    y: str,
    groupe: str,
    titre: str,
    ylabel: str,
    unite: str | None = None,
    decimales: int = 0,
    bas: str | None = None,
    haut: str | None = None,
    xlabel: str = "Année",
    libelles: dict[str, str] | None = None,
) -> Figure:
    """One line per territory (`groupe`), optional interval band between `bas` and `haut`.

    libelles maps a group code to the name shown in the legend. Colours follow the order in
    which groups first appear in `df` (put the quartier first, its references after).
    """
    fig, ax = _new_figure()
    data = df.sort_values(x, kind="stable")  # groups keep their order of first appearance
    for i, (code, part) in enumerate(data.groupby(groupe, sort=False)):  # one line per territory
        colour = PALETTE[i % len(PALETTE)]
        nom = (libelles or {}).get(code, str(code))
        ax.plot(part[x], part[y], marker="o", markersize=4, color=colour, label=nom)
        if bas is not None and haut is not None:
            ax.fill_between(part[x], part[bas], part[haut], color=colour, alpha=0.18, linewidth=0)
    ax.set_title(titre)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    franciser_axes(ax, x=None, y=unite or "nombre", decimales=decimales)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if data[groupe].nunique() > 1:
        ax.legend(loc="best")
    return fig


def barres_empilees_annees(
    wide: pd.DataFrame,
    titre: str,
    ylabel: str,
    unite: str | None = None,
    libelles: dict[str, str] | None = None,
    ncol: int = 3,
) -> Figure:
    """Stacked bars, one per year (index: years; columns: the stacked parts, in stack order,
    first at the bottom); legend under the plot. `unite` formats the y axis ("€", "%"…)."""
    fig, ax = _new_figure((9, 6))
    years = [int(a) for a in wide.index]
    bottom = np.zeros(len(wide))
    for i, col in enumerate(wide.columns):
        values = wide[col].to_numpy(dtype=float)
        label = (libelles or {}).get(col, str(col))
        ax.bar(years, values, bottom=bottom, label=label, color=PALETTE[i % len(PALETTE)])
        bottom = bottom + values
    ax.set_title(titre)
    ax.set_xlabel("Année")
    ax.set_ylabel(ylabel)
    ax.set_xticks(years, [str(a) for a in years])
    franciser_axes(ax, x=None, y=unite or "nombre")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=ncol, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def barres_divergentes(
    df: pd.DataFrame,
    question: str,
    reponse: str,
    titre: str,
    modalites: Sequence[str] = (
        "Pas du tout d'accord",
        "Plutôt pas d'accord",
        "Ni d'accord ni pas d'accord",
        "Plutôt d'accord",
        "Tout à fait d'accord",
    ),
) -> Figure:
    """Likert answers (1 to 5) per question as diverging stacked bars centred on the middle.

    Shares are in percent of each question's answers; negative answers extend to the left.
    """
    counts = pd.crosstab(df[question], df[reponse]).reindex(columns=range(1, 6), fill_value=0)
    shares = counts.div(counts.sum(axis=1).where(lambda s: s > 0), axis=0).fillna(0) * 100
    left_start = -(shares[1] + shares[2] + shares[3] / 2)
    fig, ax = _new_figure((9, max(2.5, 0.55 * len(shares) + 1.5)))
    start = left_start.to_numpy().astype(float)
    labels = shares.index.astype(str)
    for level in range(1, 6):  # five levels, not rows
        widths = shares[level].to_numpy()
        ax.barh(labels, widths, left=start, color=DIVERGENT[level - 1], label=modalites[level - 1])
        start = start + widths
    ax.axvline(0, color=GRIS, linewidth=1)
    ax.set_title(titre)
    ax.set_xlabel("Part des réponses")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: text.pourcentage(abs(v), 0)))
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=9)
    return fig


def heatmap(
    df: pd.DataFrame,
    titre: str,
    xlabel: str = "",
    ylabel: str = "",
    unite: str | None = None,
    decimales: int = 0,
    cmap: str = "cividis",
    annoter: bool = True,
) -> Figure:
    """A table of numbers as coloured cells (rows × columns of `df`), French annotations.

    Missing or secret cells (NaN) stay blank.
    """
    import seaborn as sns

    values = df.astype(float)
    fig, ax = _new_figure((max(5, 0.9 * values.shape[1] + 3), max(3, 0.45 * values.shape[0] + 1.5)))
    annot = None
    if annoter:
        fmt = _formatter_for(unite, decimales)
        annot = np.vectorize(lambda v: "" if np.isnan(v) else fmt(v, None), otypes=[object])(
            values.to_numpy()
        )
    sns.heatmap(
        values,
        ax=ax,
        cmap=cmap,
        annot=annot if annoter else False,
        fmt="",
        linewidths=0.5,
        linecolor="white",
        cbar_kws={"format": _formatter_for(unite, decimales)},
    )
    ax.set_title(titre)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig


def carte_choroplethe(
    gdf,
    colonne: str,
    titre: str,
    unite: str | None = None,
    decimales: int = 0,
    cmap: str = "cividis",
    libelle_legende: str | None = None,
) -> Figure:
    """A choropleth map of `colonne` (geopandas plot); missing values hatched in grey."""
    fig, ax = _new_figure((7, 7))
    gdf.plot(
        column=colonne,
        ax=ax,
        cmap=cmap,
        legend=True,
        edgecolor="white",
        linewidth=0.5,
        missing_kwds={"color": "#DDDDDD", "hatch": "///", "label": "Non disponible"},
        legend_kwds={
            "format": _formatter_for(unite, decimales),
            "label": libelle_legende or "",
            "shrink": 0.7,
        },
    )
    ax.set_title(titre)
    ax.set_axis_off()
    return fig
