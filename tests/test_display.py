import pandas as pd

from cucs_analysis.present import display


def test_table_escapes_data_and_formats_french():
    df = pd.DataFrame(
        {"intitule": ["<script>alert(1)</script> Atelier"], "montant": [12500.0], "ok": [True], "n": [1234]}
    )
    out = display.tableau(
        df, {"intitule": "Action", "montant": "Montant", "ok": "Réalisée", "n": "Bénéficiaires"}
    )
    html = out._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Atelier" in html
    assert "<th>Action</th>" in html and '<th class="num">Montant</th>' in html
    assert "12\u202f500,0" in html  # float default: one decimal, French
    assert "1\u202f234" in html
    assert ">oui<" in html


def test_table_custom_formatter_and_empty():
    df = pd.DataFrame({"taux": [12.34]})
    from cucs_analysis.present import text

    html = display.tableau(df, {"taux": "Taux"}, {"taux": text.pourcentage})._repr_html_()
    assert "12,3\u00a0%" in html
    empty = display.tableau(df.iloc[:0], {"taux": "Taux"}, vide="aucun quartier")._repr_html_()
    assert "Données non disponibles : aucun quartier." in empty


def test_lists_and_en_bref_escape():
    html = display.en_bref(["Un <b>constat</b>"], [])._repr_html_()
    assert "Un &lt;b&gt;constat&lt;/b&gt;" in html
    assert "Pas de réserve particulière." in html
    assert (
        display.non_disponible("parcours")._repr_html_().endswith("Données non disponibles : parcours.</p>")
    )
    assert "Nom &amp; Co" in display.titre_commune("Nom & Co", "20001", "Groupe")._repr_html_()
