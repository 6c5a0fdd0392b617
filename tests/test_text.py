"""French formatting: exact strings, including the no-break spaces and the minus sign."""

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from cucs_analysis.present import text as t

NNBSP = "\u202f"  # digit groups
NBSP = "\u00a0"  # before a unit
MINUS = "\u2212"


def test_constants_are_the_documented_characters():
    assert t.ESPACE_GROUPE == NNBSP
    assert t.ESPACE_UNITE == NBSP
    assert t.MOINS == MINUS


@pytest.mark.parametrize(
    ("x", "dec", "expected"),
    [
        (1234.5, 1, f"1{NNBSP}234,5"),
        (1234.5, 0, f"1{NNBSP}235"),
        (1234567, 0, f"1{NNBSP}234{NNBSP}567"),
        (2.25, 1, "2,3"),  # half up, not banker's rounding
        (0.125, 2, "0,13"),
        (-1234.5, 1, f"{MINUS}1{NNBSP}234,5"),
        (-0.04, 1, "0,0"),  # rounds to zero: no sign
        (12, 2, "12,00"),
        (np.int64(999), 0, "999"),
    ],
)
def test_nombre(x, dec, expected):
    assert t.nombre(x, dec) == expected


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT])
def test_missing_values_are_nd(missing):
    assert t.nombre(missing) == "n.d."
    assert t.pourcentage(missing) == "n.d."
    assert t.points(missing) == "n.d."
    assert t.euros(missing) == "n.d."
    assert t.euros_compacts(missing) == "n.d."
    assert t.date_fr(missing) == "n.d."


def test_secret_marker():
    assert t.nombre(5, secret=True) == "s"
    assert t.nombre("s") == "s"
    assert t.pourcentage(12.3, secret=True) == "s"
    assert t.euros("s") == "s"


def test_nombre_rejects_text():
    with pytest.raises(TypeError):
        t.nombre("douze")


def test_nombre_signe():
    assert t.nombre(3, signe=True) == "+3"
    assert t.nombre(-3, signe=True) == f"{MINUS}3"
    assert t.nombre(0, signe=True) == "0"


def test_pourcentage():
    assert t.pourcentage(12.34) == f"12,3{NBSP}%"
    assert t.pourcentage(100, 0) == f"100{NBSP}%"
    assert t.pourcentage(1234.56) == f"1{NNBSP}234,6{NBSP}%"


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (2.1, f"+2,1{NBSP}points"),
        (-0.4, f"{MINUS}0,4{NBSP}point"),
        (1.96, f"+2,0{NBSP}points"),  # the rounded value decides the plural
        (1.5, f"+1,5{NBSP}point"),
        (-2.0, f"{MINUS}2,0{NBSP}points"),
        (0.0, f"0,0{NBSP}point"),
        (-0.01, f"0,0{NBSP}point"),
    ],
)
def test_points(x, expected):
    assert t.points(x) == expected


def test_euros():
    assert t.euros(12500) == f"12{NNBSP}500{NBSP}€"
    assert t.euros(12.5, 2) == f"12,50{NBSP}€"
    assert t.euros(-300) == f"{MINUS}300{NBSP}€"


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (1_234_567, f"1,2{NBSP}M€"),
        (350_000, f"350{NBSP}k€"),
        (999_600, f"1,0{NBSP}M€"),
        (2_500_000_000, f"2,5{NBSP}Md€"),
        (850, f"850{NBSP}€"),
        (-45_000, f"{MINUS}45{NBSP}k€"),
    ],
)
def test_euros_compacts(x, expected):
    assert t.euros_compacts(x) == expected


def test_ratio():
    assert t.ratio(1.83) == "1,8"
    assert t.ratio(float("inf")) == "n.d."


def test_date_fr():
    assert t.date_fr(dt.date(2012, 3, 3)) == "3 mars 2012"
    assert t.date_fr(pd.Timestamp("2014-12-31")) == "31 décembre 2014"
    assert t.date_fr("2010-02-01") == "1er février 2010"
    assert t.date_fr(dt.datetime(2008, 8, 15, 10, 30)) == "15 août 2008"


def test_annee_periode():
    assert t.annee_periode(2007, 2014) == "2007-2014"
    assert t.annee_periode(2012.0, 2012) == "2012"
    assert t.annee_periode(None, 2014) == "n.d."


def test_liste_fr():
    assert t.liste_fr(["a", "b", "c"]) == "a, b et c"
    assert t.liste_fr(["a", "b"]) == "a et b"
    assert t.liste_fr(["a"]) == "a"
    assert t.liste_fr([]) == ""
    assert t.liste_fr(["a", "b"], "ou") == "a ou b"


def test_pluriel():
    assert t.pluriel(3, "quartier", "quartiers") == "3 quartiers"
    assert t.pluriel(1, "quartier", "quartiers") == "1 quartier"
    assert t.pluriel(0, "quartier", "quartiers") == "0 quartier"
    assert t.pluriel(1500, "action") == f"1{NNBSP}500 actions"
    assert t.pluriel(2, "bureau", "bureaux") == "2 bureaux"


def test_valeur_unite():
    assert t.valeur_unite(24.12, "%") == f"24,1{NBSP}%"
    assert t.valeur_unite(11450, "€") == f"11{NNBSP}450{NBSP}€"
    assert t.valeur_unite(45.67, "‰") == f"45,7{NBSP}‰"
    assert t.valeur_unite(1234, "hab.") == f"1{NNBSP}234{NBSP}hab."
    assert t.valeur_unite(42, "nombre") == "42"


def test_minuscule_initiale():
    assert t.minuscule_initiale("Taux de chômage") == "taux de chômage"
    assert t.minuscule_initiale("QPV de la commune") == "QPV de la commune"


def test_phrase_ecart_significant():
    s = t.phrase_ecart("Taux de chômage", "à Bellevue", 24.1, 12.0, "dans la commune", "%", "plus élevé")
    assert s == (
        f"L'indicateur « taux de chômage » est plus élevé à Bellevue (24,1{NBSP}%) que dans la "
        f"commune (12,0{NBSP}%), soit un écart de +12,1{NBSP}points."
    )


def test_phrase_ecart_comparable_and_missing():
    s = t.phrase_ecart("Taux de chômage", "à Bellevue", 13.0, 12.0, "dans la commune", "%", "comparable")
    assert "du même ordre" in s and "n'est pas significatif" in s and f"+1,0{NBSP}point)" in s
    s = t.phrase_ecart("Taux de chômage", "à Bellevue", math.nan, 12.0, "dans la commune", "%", None)
    assert "ne peut pas être calculé" in s and "n.d." in s


def test_phrase_ecart_euros():
    s = t.phrase_ecart("Revenu médian", "aux Tilleuls", 11450, 16000, "dans la région", "€", "plus faible")
    assert s.endswith(f"soit un écart de {MINUS}4{NNBSP}550{NBSP}€.")


def test_phrase_evolution():
    s = t.phrase_evolution("Taux de pauvreté", "à Bellevue", 40.0, 43.5, 2007, 2012, "%", "hausse")
    assert s.startswith("À Bellevue, l'indicateur « taux de pauvreté » a augmenté entre 2007 et 2012")
    assert f"soit +3,5{NBSP}points" in s and "à la hausse" in s
    s = t.phrase_evolution("Taux de pauvreté", "à Bellevue", 43.5, 40.0, 2007, 2012, "%", None)
    assert "a diminué" in s and "tendance" not in s


def test_phrase_convergence():
    s = t.phrase_convergence(
        "Taux de chômage", "à Bellevue", "la commune", 12.0, 9.5, 2007, 2014, "%", "convergence"
    )
    assert "s'est réduit" in s and f"+12,0{NBSP}points puis +9,5{NBSP}points" in s
    assert "s'est creusé" in t.phrase_convergence(
        "X", "à B", "la commune", 1, 5, 2007, 2014, "%", "divergence"
    )
    assert "n'est pas disponible" in t.phrase_convergence(
        "X", "à B", "la commune", 1, None, 2007, 2014, "%", None
    )


def test_valeur_unite_counted_words_agree_in_number():
    from cucs_analysis.present.text import valeur_unite

    assert valeur_unite(1, "quartiers") == "1\u00a0quartier"
    assert valeur_unite(0, "quartiers") == "0\u00a0quartier"
    assert valeur_unite(157, "réunions") == "157\u00a0réunions"
    assert valeur_unite(2.5, "jours", 1) == "2,5\u00a0jours"
    assert valeur_unite(1234, "nombre") == "1\u202f234"
    assert valeur_unite(None, "quartiers") == "n.d."


# --- key figures, exact numbers, years, the secrecy marker --------------------------------------


def test_secret_symbol_is_the_code_of_the_analysis_layer():
    # text must import nothing from the package, so the symbol shown (text.SECRET) and the code
    # put in secret cells (analysis.privacy.SECRET) are two constants: they must stay equal.
    from cucs_analysis.analysis import privacy

    assert t.SECRET == privacy.SECRET == "s"
    shown = privacy.secret_counts(pd.Series([3, 40, 50], name="n")).display(t.nombre)
    assert shown.iloc[0] == t.SECRET


def test_decimales_unite_one_number_per_unit():
    assert t.decimales_unite("%") == 1
    assert t.decimales_unite("points") == 1
    assert t.decimales_unite("‰") == 1
    assert t.decimales_unite("€") == 0
    assert t.decimales_unite("hab.") == 0
    assert t.decimales_unite("quartiers") == 0
    assert t.decimales_unite(None) == t.decimales_unite(float("nan")) == t.decimales_unite("") == 0
    assert t.decimales_unite(" % ") == 1


@pytest.mark.parametrize(
    ("valeur", "unite", "attendu"),
    [
        (64.25, "%", f"64,3{NBSP}%"),  # half up, one decimal for a percentage
        (64.0, "%", f"64,0{NBSP}%"),  # the same decimals whatever the value
        (0.45, "%", f"0,5{NBSP}%"),
        (3428010.4, "€", f"3{NNBSP}428{NNBSP}010{NBSP}€"),
        (2.5, "€", f"3{NBSP}€"),
        (1.37, "€", f"1{NBSP}€"),
        # a ratio of euros keeps its cents: 1,78 € per euro is not « 2 € »
        (1.78, t.EUROS_PAR_EURO, f"1,78{NBSP}€"),
        (0.854, t.EUROS_PAR_EURO, f"0,85{NBSP}€"),
        # places per 100 job seekers: 0,3 is not a measured « 0 place »
        (0.3, "places", f"0,3{NBSP}place"),
        (2.5, "places", f"2,5{NBSP}places"),
        (12.84, t.POUR_1000_HAB, f"12,8{NBSP}pour 1{NNBSP}000{NBSP}hab."),
        (None, t.POUR_1000_HAB, "n.d."),
        # a measured zero of a counted word
        (0, "opérateurs", "aucun opérateur"),
        (0.0, "actions", "aucune action"),
        (0, "%", f"0,0{NBSP}%"),
        (3, "quartiers", f"3{NBSP}quartiers"),
        (1, "quartiers", f"1{NBSP}quartier"),
        (12345.6, "hab.", f"12{NNBSP}346{NBSP}hab."),
        (2.06, "points", f"+2,1{NBSP}points"),
        (-1.54, "points", f"{MINUS}1,5{NBSP}point"),
        (45.67, "‰", f"45,7{NBSP}‰"),
        (0.456, None, "0"),
        (0.456, float("nan"), "0"),
        (1234, "nombre", f"1{NNBSP}234"),
        (np.int64(7), "actions", f"7{NBSP}actions"),
        (True, "", "oui"),
        (False, "%", "non"),
        ("s", "%", "s"),
        (None, "%", "n.d."),
        (float("nan"), "€", "n.d."),
        (float("inf"), "%", "n.d."),
    ],
)
def test_chiffre_cle(valeur, unite, attendu):
    assert t.chiffre_cle(valeur, unite) == attendu


def test_chiffre_cle_is_valeur_unite_with_the_decimals_of_the_unit():
    for valeur in (0.45, 2.5, 12.345, 1234.5, 99.95):
        for unite in ("%", "€", "‰", "hab.", "quartiers", "nombre", "ETP"):
            assert t.chiffre_cle(valeur, unite) == t.valeur_unite(valeur, unite, t.decimales_unite(unite))
            assert t.chiffre_cle(valeur, unite) == t.valeur_unite(valeur, unite)


@pytest.mark.parametrize(
    ("x", "attendu"),
    [
        (0, "0"),
        (100, "100"),
        (100.0, "100"),
        (0.5, "0,5"),
        (12.25, "12,25"),
        (1e6, f"1{NNBSP}000{NNBSP}000"),
        (-3.5, f"{MINUS}3,5"),
    ],
)
def test_nombre_exact(x, attendu):
    assert t.nombre_exact(x) == attendu


def test_nombre_exact_caps_decimals_and_marks_missing():
    assert t.nombre_exact(1 / 3) == "0,333333"
    assert t.nombre_exact(1 / 3, 2) == "0,33"
    assert t.nombre_exact(None) == "n.d."
    assert t.nombre_exact(float("inf")) == "n.d."


def test_annee_has_no_digit_groups():
    assert t.annee(2035) == "2035"
    assert t.annee(1800.0) == "1800"
    assert t.annee(np.int64(2012)) == "2012"
    assert t.annee(None) == "n.d."
    assert t.nombre(2035) == f"2{NNBSP}035"  # why annee exists


def test_p_value():
    assert t.p_valeur(0.0004) == "<\u00a00,001"
    assert t.p_valeur(0.9876) == "0,988"
    assert t.p_valeur(None) == "n.d."


@pytest.mark.parametrize("x", [float("inf"), float("-inf")])
def test_non_finite_values_read_nd_never_crash(x):
    """Issue 9: an infinite value that slipped through is « n.d. », not decimal.InvalidOperation."""
    for f in (t.nombre, t.pourcentage, t.euros, t.euros_compacts, t.points, t.ratio):
        assert f(x) == t.ND, f.__name__
    assert t.chiffre_cle(x, "%") == t.ND
    assert t.difference_affichee(x, 1.0) is None


def test_the_largest_float_is_written_not_crashed():
    assert t.nombre(1e308).startswith("100\u202f000")
    assert t.euros_compacts(1e308).endswith("Md€")


def test_effectif_hides_a_small_count_in_a_sentence():
    assert t.effectif(3, 11, "blocage") == "moins de 11 blocages (secret statistique)"
    assert t.effectif(31, 11, "réussite") == "31 réussites"
    assert t.effectif(0, 11, "blocage") == "0 blocage"  # a zero describes no one
    # hidden to protect another count: « moins de 11 » would be false for 40
    assert t.effectif(40, 11, "constat", secret=True) == "un nombre de constats soumis au secret statistique"
    assert t.effectif(3, 11, "constat", secret=True).startswith("moins de 11 constats")
    assert t.effectif(40, 11, "écart expliqué", "écarts expliqués", secret=True).startswith(
        "un nombre d'écarts"
    )


# --- data strings shown (issue 9, point 4) -----------------------------------------------------

RLO, FSI, PDI = "\u202e", "\u2068", "\u2069"
ARABE = "\u0645\u0631\u0643\u0632"


@pytest.mark.parametrize(
    ("brut", "affiche"),
    [
        ("Les Tilleuls", "Les Tilleuls"),  # an ordinary name is unchanged
        (f"{RLO}Médiation {ARABE} sociale", f"Médiation {FSI}{ARABE}{PDI} sociale"),
        (f"{ARABE}, 12 bénéficiaires", f"{FSI}{ARABE}{PDI}, 12 bénéficiaires"),
        (f"{ARABE} 12 {ARABE}", f"{FSI}{ARABE} 12 {ARABE}{PDI}"),  # one run: digits inside
        (
            "\u2067\u202b\u062a\u0639\u0627\u0648\u0646\u2069 12, 31 \u202d\u2066\u200f",
            f"{FSI}\u062a\u0639\u0627\u0648\u0646{PDI} 12, 31 ",
        ),
        ("cloche\x07 nul\x00 C1\x85 fin", "cloche nul C1 fin"),
        ("ligne\nsuivante\tet\r\n", "ligne\nsuivante\tet\r\n"),  # line breaks and tabs kept
        (
            "Zéro\u200bchasse \U0001f469\u200d\U0001f467 e\u0301",
            "Zéro\u200bchasse \U0001f469\u200d\U0001f467 e\u0301",
        ),
    ],
)
def test_texte_affiche_removes_controls_and_isolates_right_to_left(brut, affiche):
    assert t.texte_affiche(brut) == affiche
    assert t.texte_affiche(affiche) == affiche  # idempotent: a page may clean twice


def test_sans_controles_keeps_right_to_left_letters_unisolated():
    assert t.sans_controles(f"{RLO}a {ARABE}\x07{FSI}b{PDI}") == f"a {ARABE}b"
    for c in t.BIDI_CONTROLES:
        assert t.sans_controles(f"x{c}y") == "xy", hex(ord(c))


def test_elision_and_lower_case_look_past_a_leading_control():
    assert t.de("\u202eEsterbourg") == "d'\u202eEsterbourg"
    assert t.de("\u2068Valbrune\u2069") == "de \u2068Valbrune\u2069"
    assert t.minuscule_initiale("\u202eMédiation") == "\u202emédiation"
    assert t.minuscule_initiale("Médiation") == "médiation"


def test_p_value_of_a_secret_cell_reads_s():
    """A hidden GUP cell shows « s » in every column, its p-value too (review of issue 10)."""
    assert t.p_valeur("s") == "s"
    assert t.p_valeur(None) == "n.d."
    assert t.p_valeur(0.0001) == f"<{NBSP}0,001"
