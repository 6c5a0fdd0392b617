import pandas as pd
import pytest

from cucs_analysis.present import display, text


def _vue():
    df = pd.DataFrame(
        {
            "intitule": ["<script>alert(1)</script> Atelier"],
            "montant": [12500.0],
            "ok": [True],
            "n": [1234],
            "part": [0.4567],
        }
    )
    return display.vue(
        df,
        {
            "intitule": ("Action", "texte"),
            "montant": ("Montant", "euros"),
            "ok": ("Réalisée", "oui_non"),
            "n": ("Bénéficiaires", "nombre"),
            "part": ("Part", "part"),
        },
        vide="aucune action",
    )


def test_a_view_keeps_numbers_and_french_headers():
    v = _vue()
    assert list(v.columns) == ["Action", "Montant", "Réalisée", "Bénéficiaires", "Part"]
    assert v["Montant"].iloc[0] == 12500.0 and v["Part"].iloc[0] == 0.4567  # numbers, not strings
    assert v.attrs["unites"]["Part"] == "part"
    with pytest.raises(ValueError, match="unités inconnues"):
        display.vue(pd.DataFrame({"a": [1]}), {"a": ("A", "kilomètres")}, vide="x")


def test_table_of_a_view_escapes_data_formats_french_and_aligns():
    html = display.tableau(_vue(), legende="Actions")._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Atelier" in html
    assert (
        '<th scope="col" class="txt" style="text-align: left">Action</th>' in html
    )  # text left, even in Lab; scope for screen readers
    assert '<td class="num" style="text-align: right">12\u202f500\u00a0€</td>' in html
    assert "1\u202f234" in html and ">oui<" in html
    assert "45,7\u00a0%" in html  # a fraction shown as a percentage
    assert "<caption>Actions</caption>" in html


def test_missing_or_empty_view_says_so_once():
    assert (
        display.tableau(None, vide="parcours")
        ._repr_html_()
        .endswith("Données non disponibles : parcours.</p>")
    )
    # An empty view that says « aucune action » states a measured zero: a result, not missing data.
    empty = display.tableau(_vue().iloc[:0])._repr_html_()
    assert '<p class="cucs-mesure-nulle">Aucune action.</p>' in empty and "non disponibles" not in empty
    nul = display.vue(None, {"a": ("A", "texte")}, vide="aucun opérateur sous-performant dans la commune")
    assert display.tableau(nul).fragment.endswith(">Aucun opérateur sous-performant dans la commune.</p>")
    # …unless a reason says otherwise: outside the CUCS « aucun » is not a measurement.
    hors = display.non_disponible("aucun opérateur", "hors_cucs").fragment
    assert hors.endswith(">Hors CUCS : aucun opérateur.</p>")
    assert "Données non disponibles : aucunement." in display.non_disponible("aucunement").fragment
    absent = display.vue(None, {"a": ("A", "texte")}, vide="parcours des ménages")
    assert absent.empty and list(absent.columns) == ["A"]
    assert "Données non disponibles : parcours des ménages." in display.tableau(absent).fragment


def test_an_empty_list_says_its_reason_with_the_class_of_an_empty_section():
    """« Hors CUCS : … » is the one sentence of an empty section, like « Données non disponibles »:
    the site keeps one such sentence per section."""
    for phrase in ("Hors CUCS : Esterbourg n'a pas de modèle de pilotage.", "Données non disponibles : x."):
        assert display.liste([], vide=phrase).fragment.startswith('<p class="cucs-non-disponible">')
    assert 'class="cucs-non-disponible"' not in display.liste([], vide="Rien à signaler.").fragment


def test_lists_and_en_bref_escape():
    html = display.en_bref(["Un <b>constat</b>"], [])._repr_html_()
    assert "Un &lt;b&gt;constat&lt;/b&gt;" in html
    assert "Pas de réserve particulière." in html
    assert (
        display.non_disponible("parcours")._repr_html_().endswith("Données non disponibles : parcours.</p>")
    )
    assert "Nom &amp; Co" in display.titre_commune("Nom & Co", "20001", "Groupe")._repr_html_()


def test_data_strings_lose_bidi_controls_and_keep_right_to_left_isolated():
    """A right-to-left override in a title cannot reverse the product's sentence: removed, and
    the Arabic word isolated (text.texte_affiche), in sentences, lists, headings and tables."""
    titre = "\u202eMédiation \u0645\u0631\u0643\u0632 sociale"
    shown = "Médiation \u2068\u0645\u0631\u0643\u0632\u2069 sociale"
    phrase = f"« {titre} » retient 12, sur 31."
    for html_ in (
        display.paragraphe(phrase)._repr_html_(),
        display.liste([phrase])._repr_html_(),
        display.titre(titre)._repr_html_(),
        display.tableau(
            display.vue(pd.DataFrame({"a": [titre]}), {"a": ("Action", "texte")}, vide="x")
        )._repr_html_(),
    ):
        assert "\u202e" not in html_ and shown in html_, html_
    assert f"« {shown} » retient 12, sur 31." in display.paragraphe(phrase)._repr_html_()


def test_markup_and_entities_from_data_are_escaped_once():
    html_ = display.paragraphe("&amp;lt;b&amp;gt; <b>gras</b> {{7*7}}")._repr_html_()
    assert html_ == '<p class="cucs-texte">&amp;amp;lt;b&amp;amp;gt; &lt;b&gt;gras&lt;/b&gt; {{7*7}}</p>'


def test_avec_secret_shows_s_only_where_secret():
    values = pd.Series([3, 25, 0], index=[5, 6, 7])
    out = display.avec_secret(values, pd.Series([True, False, False], index=[5, 6, 7]))
    assert out.tolist() == [text.SECRET, 25, 0] and out.index.tolist() == [5, 6, 7]
    # a mask given as an array is aligned on the values' rows; the symbol can be another code
    assert display.avec_secret(values, [False, True, False], None).tolist() == [3, None, 0]


def test_colonnes_avec_secret_reads_each_column_flag():
    df = pd.DataFrame({"a": [1, 40], "a_secret": [True, False], "b": [2, 50], "b_secret": [False, True]})
    out = display.colonnes_avec_secret(df, ["a", "b"])
    assert out["a"].tolist() == [text.SECRET, 40] and out["b"].tolist() == [2, text.SECRET]
    assert df["a"].tolist() == [1, 40]  # the input is not modified
