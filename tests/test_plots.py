"""The plot style, French tick labels, alt text through nbconvert, and the figure helpers."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from nbconvert import HTMLExporter  # noqa: E402

from cucs_analysis.present import plots  # noqa: E402

NNBSP = "\u202f"
NBSP = "\u00a0"


def _title(ax):
    """The title wherever the style put it (the house style aligns titles left)."""
    return "".join(ax.get_title(loc=loc) for loc in ("left", "center", "right"))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_use_style_sets_okabe_ito_palette_and_spines():
    plots.use_style()
    colours = [c["color"].upper() for c in plt.rcParams["axes.prop_cycle"]]
    assert colours == [c.upper() for c in plots.PALETTE]
    assert colours[:3] == ["#0072B2", "#E69F00", "#009E73"]
    assert plt.rcParams["axes.spines.top"] is False and plt.rcParams["axes.spines.right"] is False
    assert plt.rcParams["axes.formatter.use_locale"] is False


def test_formatters_write_french_numbers():
    assert plots.formatter_nombre(1)(1234.5, 0) == f"1{NNBSP}234,5"
    assert plots.formatter_nombre()(-3, 0) == "\u22123"
    assert plots.formatter_pourcentage()(12, 0) == f"12{NBSP}%"
    assert plots.formatter_euros()(350_000, 0) == f"350{NBSP}k€"
    assert plots.formatter_euros(compact=False)(12_500, 0) == f"12{NNBSP}500{NBSP}€"
    assert plots.formatter_euros()(0, 0) == f"0{NBSP}€"


def test_set_alt_stores_text_and_rejects_empty():
    fig, _ = plt.subplots()
    assert plots.get_alt(fig) is None
    assert plots.set_alt(fig, "  Taux de chômage par quartier  ") is fig
    assert plots.get_alt(fig) == "Taux de chômage par quartier"
    with pytest.raises(ValueError, match="texte alternatif"):
        plots.set_alt(fig, " ")


def test_figure_html_requires_alt_and_closes_figure():
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    with pytest.raises(ValueError, match="texte alternatif"):
        plots.figure_html(fig)
    obj = plots.figure_html(fig, 'Courbe "test" <b>')
    assert not plt.fignum_exists(fig.number)
    assert obj.png.startswith(b"\x89PNG")
    data, metadata = obj._repr_mimebundle_()
    assert 'alt="Courbe &quot;test&quot; &lt;b&gt;"' in data["text/html"]
    assert data["text/plain"] == 'Figure : Courbe "test" <b>'
    assert metadata["text/html"][plots.ALT_METADATA_KEY] == 'Courbe "test" <b>'


def test_alt_survives_nbconvert_html_export():
    fig, ax = plt.subplots()
    ax.bar(["a", "b"], [1, 2])
    data, metadata = plots.figure_html(fig, "Deux barres : a vaut 1, b vaut 2")._repr_mimebundle_()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("plots.show(fig)")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata)]
    nb.cells = [cell]
    for template in ("lab", "classic"):
        body, _ = HTMLExporter(template_name=template, exclude_input=True).from_notebook_node(nb)
        assert body.count("<img") == 1
        assert 'alt="Deux barres : a vaut 1, b vaut 2"' in body
        assert plots.images_sans_alt(body) == []


def test_images_sans_alt():
    page = '<p><img src="a.png" alt="Carte"><img src="b.png"><img src=c.png alt=""><IMG SRC="d" ALT=x></p>'
    bad = plots.images_sans_alt(page)
    assert bad == ['<img src="b.png">', '<img src=c.png alt="">']


def test_show_displays_html_with_alt(monkeypatch):
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    fig, _ = plt.subplots()
    assert plots.show(fig, "Une figure") is None
    assert len(shown) == 1 and 'alt="Une figure"' in shown[0]._repr_html_()


def test_barres_horizontales_labels_and_order():
    plots.use_style()
    df = pd.DataFrame({"quartier": ["Bellevue", "Les Tilleuls", "Centre"], "taux": [24.1, 12.0, 18.5]})
    fig = plots.barres_horizontales(
        df,
        "quartier",
        "taux",
        "Taux de chômage",
        "Part des actifs",
        unite="%",
        reference=15.0,
        libelle_reference="Commune",
    )
    ax = fig.axes[0]
    assert _title(ax) == "Taux de chômage" and ax.get_xlabel() == "Part des actifs"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Les Tilleuls", "Centre", "Bellevue"]
    labels = [t.get_text() for t in ax.texts]
    assert f"24{NBSP}%" in labels
    assert ax.get_legend().get_texts()[0].get_text() == "Commune"


def test_series_temporelles_lines_band_and_french_ticks():
    df = pd.DataFrame(
        {
            "annee": [2007, 2008, 2009] * 2,
            "code": ["QP1"] * 3 + ["20001"] * 3,
            "valeur": [20.5, 21.0, 22.5, 10.0, 10.5, 11.0],
        }
    )
    df["bas"], df["haut"] = df["valeur"] - 1, df["valeur"] + 1
    fig = plots.series_temporelles(
        df,
        "annee",
        "valeur",
        "code",
        "Évolution",
        "Taux (%)",
        unite="%",
        decimales=1,
        bas="bas",
        haut="haut",
        libelles={"QP1": "Bellevue", "20001": "Commune"},
    )
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and len(ax.collections) == 2
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["Bellevue", "Commune"]
    assert ax.yaxis.get_major_formatter()(12.5, 0) == f"12,5{NBSP}%"
    assert ax.get_xlabel() == "Année" and ax.get_ylabel() == "Taux (%)"


def test_barres_divergentes_centred_on_neutral():
    df = pd.DataFrame({"question": ["Q1"] * 4 + ["Q2"] * 2, "reponse": [1, 2, 4, 5, 3, 3]})
    fig = plots.barres_divergentes(df, "question", "reponse", "Opinions des habitants")
    ax = fig.axes[0]
    assert _title(ax) == "Opinions des habitants"
    # Q1: 25 % at each of levels 1, 2, 4, 5 → the bars span [-50, 50].
    q1 = [p for p in ax.patches if abs(p.get_y() + p.get_height() / 2 - 0) < 1e-6 and p.get_width() > 0]
    assert min(p.get_x() for p in q1) == pytest.approx(-50)
    assert max(p.get_x() + p.get_width() for p in q1) == pytest.approx(50)
    assert len(ax.get_legend().get_texts()) == 5


def test_heatmap_french_annotations_and_blank_secret():
    df = pd.DataFrame({"2010": [1234.5, np.nan], "2011": [0.5, 2.0]}, index=["A", "B"])
    fig = plots.heatmap(df, "Montants", decimales=1)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert f"1{NNBSP}234,5" in texts and "0,5" in texts and "nan" not in texts
    assert _title(fig.axes[0]) == "Montants"


def test_carte_choroplethe():
    gpd = pytest.importorskip("geopandas")
    from shapely.geometry import box

    gdf = gpd.GeoDataFrame({"taux": [10.0, np.nan]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)])
    fig = plots.carte_choroplethe(gdf, "taux", "Carte du taux", unite="%")
    assert _title(fig.axes[0]) == "Carte du taux"


def test_barres_empilees_annees_stacks_in_order():
    import pandas as pd

    from cucs_analysis.present import plots

    wide = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}, index=[2009, 2010])
    fig = plots.barres_empilees_annees(wide, "Titre", "Montant", "€", libelles={"a": "Première"})
    ax = fig.axes[0]
    tops = sorted((round(p.get_x() + p.get_width() / 2), p.get_y() + p.get_height()) for p in ax.patches)
    assert tops == [(2009, 1.0), (2009, 4.0), (2010, 2.0), (2010, 6.0)]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Première", "b"]
    assert "Titre" in {ax.get_title(loc) for loc in ("left", "center")} and ax.get_xlabel() == "Année"


def test_two_rows_with_one_label_stay_two_bars():
    df = pd.DataFrame({"intitule": ["Atelier", "Atelier", "Jardin"], "credits": [300.0, 100.0, 200.0]})
    fig = plots.barres_horizontales(df, "intitule", "credits", "Actions", "Crédits (€)", unite="€")
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    assert sorted({round(p.get_y() + p.get_height() / 2) for p in ax.patches}) == [0, 1, 2]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Atelier", "Jardin", "Atelier"]


def test_figure_texts_from_data_are_plain_text_whoever_set_them():
    """A dollar pair, a bidi override and a control character in a title, a tick label and a
    legend: once published (`figure_html`), none is mathtext nor keeps a control."""
    from matplotlib import cbook
    from matplotlib.text import Text

    hostile = "\u202eCité $\\frac{1}{2}$\x07\r\nfin\r"
    df = pd.DataFrame({"nom": [hostile, "Bellevue"], "v": [1.0, 2.0]})
    fig = plots.barres_horizontales(df, "nom", "v", hostile, "x")
    fig.axes[0].legend(["Légende $x$\u202b"])
    for t in fig.findobj(Text):
        t.set_parse_math(True)  # as if a notebook turned mathtext back on
    plots.figure_html(fig, alt="Figure \u202e<b>")
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    assert not [t.get_text() for t in texts if t.get_parse_math() and cbook.is_math_text(t.get_text())]
    assert not [t.get_text() for t in texts if any(c in t.get_text() for c in "\u202e\u202b\x07\r")]
    assert "Cité $\\frac{1}{2}$\nfin\n" in [t.get_text() for t in fig.axes[0].get_yticklabels()]


def test_a_notebook_that_turns_mathtext_back_on_does_not_crash_a_figure():
    """`$\\x$` is invalid mathtext: drawn before the texts are made plain, it raised."""
    with plt.rc_context({"text.parse_math": True}):
        fig, ax = plt.subplots()
        ax.bar([0, 1], [1, 2])
        ax.set_xticks([0, 1], labels=["Cité $\\x$", "Bellevue"])
        ax.set_title("Cité $\\x$")
        plots.figure_html(fig, alt="Figure")
    assert "Cité $\\x$" in [t.get_text() for t in ax.get_xticklabels()]


def test_figure_alt_text_is_escaped_and_cleaned():
    fig, _ = plt.subplots()
    html_ = plots.figure_html(fig, alt='"><svg onload=alert(1)> \u202eabc')._repr_html_()
    assert "<svg" not in html_ and "\u202e" not in html_
    assert 'alt="&quot;&gt;&lt;svg onload=alert(1)&gt; abc"' in html_
