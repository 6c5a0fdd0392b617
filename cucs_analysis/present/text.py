"""French formatting of numbers, dates and lists, and the sentence helpers of "En bref".

Conventions (fixed here, tested in tests/test_text.py; every user-facing number goes through
this module so the whole site reads the same way):

- Digit groups are separated by a narrow no-break space U+202F (``1 234,5``), the decimal
  mark is a comma. This is what babel/CLDR give for ``fr_FR``.
- A unit or sign that follows a number (``%``, ``€``, ``‰``, ``points``, ``hab.``) is
  separated by a no-break space U+00A0, as CLDR does for ``%`` and ``€`` in French: the
  number and its unit never break across lines.
- Negative numbers use the true minus sign U+2212 (``−0,4 point``), which screen readers say
  "moins" and which has the width of ``+``. Positive signed values use ``+``.
- Rounding is half up (``2,25`` → ``2,3`` with one decimal), as a French reader expects,
  not banker's rounding; a value that rounds to zero loses its sign.
- A missing value (None, NaN, NA) is written ``n.d.`` (non disponible); a value under
  statistical secrecy is written ``s`` (pass ``secret=True`` or the value ``"s"``).
- ``points``: singular below two in absolute value (``1,5 point``, ``2,0 points``), following
  French usage for numbers below 2.
- A key figure ``{valeur, unite}`` of a results file is written by `chiffre_cle`, with one
  number of decimals per unit (`DECIMALES_UNITE`): the site index, the commune pages and the
  syntheses all call it, so the same figure reads the same everywhere.
- Years are written without digit groups (``2035``, not ``2 035``): `annee`.
- A string from the data is shown through `texte_affiche` (the display helpers, every text
  node of every published page): its bidirectional controls and C0/C1 control characters are
  removed, and each run of right-to-left script is isolated (FSI … PDI), so a name can
  neither reverse nor reorder the product's sentence around it. Figures use `sans_controles`
  (matplotlib has no bidi algorithm and draws controls as boxes).

This module is a leaf: it imports nothing from ``cucs_analysis``. That is why the data layer
(`data.errors`, `data.validate`) may use it for its French messages, the one documented
exception to the layering. ``SECRET`` is the symbol shown for a secret cell; the analysis
layer has its own constant for the code (`analysis.privacy.SECRET`), equal to it (tested).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pandas as pd
from babel.dates import format_date
from babel.numbers import format_decimal

LOCALE = "fr_FR"
ESPACE_GROUPE = "\u202f"  # narrow no-break space between digit groups
ESPACE_UNITE = "\u00a0"  # no-break space between a number and its unit
MOINS = "\u2212"  # true minus sign
ND = "n.d."
SECRET = "s"  # shown for a secret cell; equal to analysis.privacy.SECRET (tests/test_text.py)

#: Decimals of a key figure per unit (`chiffre_cle`, and `valeur_unite` by default). Any other
#: unit is a counted word (``quartiers``, ``actions``…) or a whole quantity: no decimals.
#: Key-figure units beyond the symbols: a ratio of euros (written « 1,78 € ») and a count per
#: 1 000 inhabitants (not « ‰ », which reads as a rate).
EUROS_PAR_EURO = "€ par euro"
POUR_1000_HAB = "pour 1 000 hab."

DECIMALES_UNITE = {
    "%": 1,
    "points": 1,
    "point": 1,
    "‰": 1,
    "ETP": 1,
    "€": 0,
    EUROS_PAR_EURO: 2,  # a ratio of euros to euros: « 1,78 € » (« 2 € » would hide 1,57 to 2,49)
    POUR_1000_HAB: 1,  # a count per 1 000 inhabitants: « 12,8 pour 1 000 hab. »
    "places": 1,  # places per 100 job seekers: « 2,5 places », never a rounded « 0 place »
    "indice": 1,  # an index without unit (INSEE ind_jeune 0,9): « 0,9 », never « 1 indice »
    "hab.": 0,
    "nombre": 0,
    "": 0,
}

__all__ = [
    "ESPACE_GROUPE",
    "ESPACE_UNITE",
    "LOCALE",
    "MOINS",
    "ND",
    "DECIMALES_UNITE",
    "EUROS_PAR_EURO",
    "POUR_1000_HAB",
    "SECRET",
    "annee",
    "annee_periode",
    "AUCUNE_ANNEE_AVANT",
    "periode_avant",
    "aucun",
    "de",
    "difference_affichee",
    "effectif",
    "parmi",
    "typographie",
    "chiffre_cle",
    "date_fr",
    "decimales_unite",
    "euros",
    "euros_compacts",
    "liste_fr",
    "manquant",
    "minuscule_initiale",
    "sans_controles",
    "sans_annee_avant",
    "texte_affiche",
    "nombre",
    "nombre_exact",
    "phrase_convergence",
    "phrase_ecart",
    "phrase_evolution",
    "pluriel",
    "points",
    "pourcentage",
    "p_valeur",
    "ratio",
    "valeur_unite",
]


def manquant(x: object) -> bool:
    """True for None, NaN, pd.NA and NaT (what is written ``n.d.``)."""
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):  # arrays and other containers are not "missing"
        return False


def _special(x: object, secret: bool) -> str | None:
    """The marker for a secret or missing value, or None when x is a real number."""
    if secret or (isinstance(x, str) and x.strip().lower() == SECRET):
        return SECRET
    if manquant(x):
        return ND
    if isinstance(x, str):
        raise TypeError(f"Valeur non numérique : {x!r}")
    try:
        if not math.isfinite(float(x)):  # ±inf is not a figure anyone measured
            return ND
    except (TypeError, ValueError, OverflowError):
        return None
    return None


def _precision(d: Decimal, decimales: int):
    """A decimal context with enough digits for any finite float (1e308 included): quantizing
    never overflows into decimal.InvalidOperation."""
    return localcontext(prec=max(28, d.adjusted() + decimales + 4))


def _rounded(x: float, decimales: int) -> Decimal:
    # str() of a float is its shortest repr, so 2.25 stays 2.25 before rounding half up.
    q = Decimal(1).scaleb(-decimales)
    d = Decimal(str(float(x)))
    with _precision(d, decimales):
        d = d.quantize(q, rounding=ROUND_HALF_UP)
    return abs(d) if d.is_zero() else d


def _format(d: Decimal, decimales: int, signe: bool = False) -> str:
    pattern = "#,##0" + ("." + "0" * decimales if decimales > 0 else "")
    with _precision(d, decimales):
        corps = format_decimal(abs(d), format=pattern, locale=LOCALE, decimal_quantization=True)
    if d < 0:
        return MOINS + corps
    if signe and d > 0:
        return "+" + corps
    return corps


def nombre(x: object, decimales: int = 0, *, signe: bool = False, secret: bool = False) -> str:
    """``1234.5`` → ``1 234,5`` (with ``decimales=1``); ``signe=True`` adds ``+`` to positives."""
    special = _special(x, secret)
    if special is not None:
        return special
    if math.isinf(float(x)):
        return ND
    return _format(_rounded(x, decimales), decimales, signe)


def nombre_exact(x: object, max_decimales: int = 6, *, secret: bool = False) -> str:
    """A number with the decimals it has, up to `max_decimales`: ``0.5`` → ``0,5``,
    ``100.0`` → ``100``, ``1e6`` → ``1 000 000`` (for bounds and thresholds given as is)."""
    special = _special(x, secret)
    if special is not None:
        return special
    if math.isinf(float(x)):
        return ND
    d = Decimal(str(float(x))).normalize()
    decimales = min(max(0, -int(d.as_tuple().exponent)), max_decimales)
    return nombre(x, decimales)


def annee(x: object) -> str:
    """A year, without digit groups: ``2035`` → ``2035`` (``nombre`` would write ``2 035``)."""
    if manquant(x):
        return ND
    return str(int(x))


def pourcentage(x: object, decimales: int = 1, *, signe: bool = False, secret: bool = False) -> str:
    """A value already in percent: ``12.34`` → ``12,3 %``."""
    s = nombre(x, decimales, signe=signe, secret=secret)
    return s if s in (ND, SECRET) else f"{s}{ESPACE_UNITE}%"


def points(x: object, decimales: int = 1, *, secret: bool = False) -> str:
    """A signed gap in percentage points: ``+2,1 points``, ``−0,4 point``, ``0,0 point``."""
    special = _special(x, secret)
    if special is not None:
        return special
    d = _rounded(x, decimales)
    unite = "point" if abs(d) < 2 else "points"
    return f"{_format(d, decimales, signe=True)}{ESPACE_UNITE}{unite}"


def euros(x: object, decimales: int = 0, *, secret: bool = False) -> str:
    """``12500`` → ``12 500 €``."""
    s = nombre(x, decimales, secret=secret)
    return s if s in (ND, SECRET) else f"{s}{ESPACE_UNITE}€"


def euros_compacts(x: object, decimales: int = 1, *, secret: bool = False) -> str:
    """Compact amounts: ``1,2 M€``, ``350 k€``, ``2,5 Md€``; below 1 000, ``850 €``.

    Thousands are shown without decimals (``350 k€``), millions and billions with
    ``decimales`` (trailing ``,0`` kept so a column reads evenly).
    """
    special = _special(x, secret)
    if special is not None:
        return special
    v = float(x)
    a = abs(v)
    if a >= 1e9:
        return f"{nombre(v / 1e9, decimales)}{ESPACE_UNITE}Md€"
    if a >= 1e6:
        return f"{nombre(v / 1e6, decimales)}{ESPACE_UNITE}M€"
    if a >= 1e3:
        # 999 600 would round to "1 000 k€": say "1,0 M€" instead.
        if _rounded(a / 1e3, 0) >= 1000:
            return f"{nombre(v / 1e6, decimales)}{ESPACE_UNITE}M€"
        return f"{nombre(v / 1e3, 0)}{ESPACE_UNITE}k€"
    return euros(v, 0)


def p_valeur(x: object) -> str:
    """A p-value with three decimals, or « < 0,001 » below that; « s » for a secret cell."""
    special = _special(x, False)
    if special is not None:
        return special
    return f"<{ESPACE_UNITE}{nombre(0.001, 3)}" if float(x) < 0.001 else nombre(x, 3)


def ratio(x: object, decimales: int = 1, *, secret: bool = False) -> str:
    """A ratio without unit: ``1.83`` → ``1,8``."""
    return nombre(x, decimales, secret=secret)


def date_fr(d: object) -> str:
    """``2012-03-03`` → ``3 mars 2012`` (accepts date, datetime, Timestamp or ISO string)."""
    if manquant(d):
        return ND
    if isinstance(d, str):
        d = pd.Timestamp(d)
    if isinstance(d, pd.Timestamp):
        d = d.date()
    if isinstance(d, _dt.datetime):
        d = d.date()
    jour = "1er" if d.day == 1 else str(d.day)
    return f"{jour} {format_date(d, format='MMMM y', locale=LOCALE)}"


def annee_periode(a: object, b: object) -> str:
    """``(2007, 2014)`` → ``2007-2014``; a single year when both are equal; an empty period
    (``b < a``, e.g. the years before a contract that starts with the data) reads ``aucune
    année``, never a reversed ``2015-2014``."""
    if manquant(a) or manquant(b):
        return ND
    a, b = int(a), int(b)
    if b < a:
        return AUCUNE_ANNEE
    return str(a) if a == b else f"{a}-{b}"


#: An empty period (`annee_periode` with its end before its start).
AUCUNE_ANNEE = "aucune année"
#: The « before the contract » period when the contract starts with the data.
AUCUNE_ANNEE_AVANT = "aucune année avant le contrat dans les données"


def periode_avant(debut: object, annee_debut_cucs: object) -> str:
    """The years before the contract, ``debut``–``annee_debut_cucs - 1`` (``2005-2006``), or
    `AUCUNE_ANNEE_AVANT` when the data start with (or after) the contract."""
    if manquant(debut) or manquant(annee_debut_cucs):
        return ND
    if int(debut) > int(annee_debut_cucs) - 1:
        return AUCUNE_ANNEE_AVANT
    return annee_periode(debut, int(annee_debut_cucs) - 1)


def sans_annee_avant(debut: object, annee_debut_cucs: object) -> bool:
    """Whether the data hold no year before the contract (`periode_avant` is `AUCUNE_ANNEE_AVANT`)."""
    return periode_avant(debut, annee_debut_cucs) == AUCUNE_ANNEE_AVANT


def liste_fr(elements: Iterable[object], conjonction: str = "et") -> str:
    """``["a", "b", "c"]`` → ``a, b et c``; one element as is; none → empty string."""
    items = [str(e) for e in elements]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjonction} {items[-1]}"


def pluriel(n: object, singulier: str, pluriel_: str | None = None) -> str:
    """``3 quartiers``, ``1 quartier``, ``0 quartier`` (French: singular below 2)."""
    if manquant(n):
        return f"{ND} {pluriel_ or singulier + 's'}"
    mot = singulier if abs(float(n)) < 2 else (pluriel_ or singulier + "s")
    decimales = 0 if float(n) == int(float(n)) else 1
    return f"{nombre(n, decimales)} {mot}"


_VOYELLES = "aeiouyàâäéèêëîïôöûüœAEIOUYÀÂÄÉÈÊËÎÏÔÖÛÜŒ"


def de(nom: object) -> str:
    """``de Valbrune``, ``d'Esterbourg``: the preposition with elision before a vowel."""
    s = str(nom)
    return f"d'{s}" if sans_controles(s)[:1] in _VOYELLES else f"de {s}"


def aucun(n: object, singulier: str, pluriel_: str | None = None, *, feminin: bool = False) -> str:
    """``aucun quartier``, ``aucune action`` for zero; otherwise `pluriel` (``1 quartier``, ``3 quartiers``)."""
    if not manquant(n) and float(n) == 0:
        return f"{'aucune' if feminin else 'aucun'} {singulier}"
    return pluriel(n, singulier, pluriel_)


def parmi(
    n: object, total: object, singulier: str, pluriel_: str | None = None, *, feminin: bool = False
) -> str:
    """A count out of a total: ``aucun des 4 quartiers``, ``1 quartier sur 4``, ``3 quartiers sur 4``.

    The verb that follows agrees with the first word: singular for ``aucun`` and ``1``.
    """
    mots = pluriel_ or singulier + "s"
    if manquant(n) or manquant(total):
        return f"{ND} {mots}"
    if float(n) == 0:
        if float(total) == 1:
            return f"{'aucune' if feminin else 'aucun'} {singulier}"
        return f"{'aucune' if feminin else 'aucun'} des {nombre(total)} {mots}"
    return f"{pluriel(n, singulier, pluriel_)} sur {nombre(total)}"


# The regular space before a high punctuation mark or » (after «, before % and €) becomes a
# no-break space, so they never start a line; text without a space (URLs, "10:30") is left alone.
_AVANT_PONCTUATION = re.compile(r"[ \t]+([:;?!»])")
_APRES_GUILLEMET = re.compile(r"«[ \t\u00a0\u202f]*")
_UNITE_APRES_NOMBRE = re.compile(r"(?<=\d) (?=[%€‰])")


def typographie(s: str) -> str:
    """French typography of a sentence: no-break spaces before ``: ; ? ! »``, after ``«``, before ``%`` and ``€``."""
    s = _APRES_GUILLEMET.sub("«" + ESPACE_UNITE, s)
    s = _AVANT_PONCTUATION.sub(ESPACE_UNITE + r"\1", s)
    return _UNITE_APRES_NOMBRE.sub(ESPACE_UNITE, s)


#: Explicit bidirectional formatting characters (embeddings, overrides, isolates, marks).
BIDI_CONTROLES = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI_CONTROLES = re.compile(f"[{BIDI_CONTROLES}]")
#: C0 and C1 control characters except tab, line feed and carriage return.
_CONTROLES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
ISOLAT_DEBUT = "\u2068"  # FIRST STRONG ISOLATE
ISOLAT_FIN = "\u2069"  # POP DIRECTIONAL ISOLATE
_DROITE_GAUCHE = frozenset(("R", "AL"))
#: The blocks holding every right-to-left letter (classes R and AL; U+200F, the one outside
#: them, is a control `sans_controles` removes): Hebrew to Arabic Extended, the presentation
#: forms, the historic and Arabic-mathematical blocks. tests/test_perf.py checks it against
#: the Unicode database of the running Python.
_ECRITURES_DROITE_GAUCHE = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\U00010800-\U00010fff\U0001e800-\U0001efff]"
)


def sans_controles(s: str) -> str:
    """`s` without bidirectional controls (`BIDI_CONTROLES`) nor C0/C1 control characters
    (tab and line breaks kept): what a figure label from the data may draw."""
    return _CONTROLES.sub("", _BIDI_CONTROLES.sub("", str(s)))


def texte_affiche(s: str) -> str:
    """A data string as a page shows it: `sans_controles`, then each run of right-to-left
    script (from a right-to-left letter to the last one before a left-to-right letter) put
    between FSI and PDI. Such a run is then one neutral unit for the sentence around it: « 12, sur
    31 » after an Arabic name keeps its order. Idempotent; a string without right-to-left
    letters only loses its controls."""
    s = sans_controles(s)
    if not _ECRITURES_DROITE_GAUCHE.search(s):  # most strings: no character class to look up
        return s
    types = [unicodedata.bidirectional(c) for c in s]
    if not _DROITE_GAUCHE.intersection(types):
        return s
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        if types[i] not in _DROITE_GAUCHE:
            out.append(s[i])
            i += 1
            continue
        j = fin = i
        while j < n and types[j] != "L":
            if types[j] in _DROITE_GAUCHE:
                fin = j
            j += 1
        out.append(ISOLAT_DEBUT + s[i : fin + 1] + ISOLAT_FIN)
        i = fin + 1
    return "".join(out)


def difference_affichee(avant: object, apres: object, decimales: int = 1) -> float | None:
    """The difference of two values as the reader can recompute it from what is printed.

    Both values are rounded as they are displayed first: ``57,1`` → ``66,7`` gives ``+9,6``,
    never a ``+9,5`` computed before rounding that contradicts the two figures beside it.
    """
    if (
        manquant(avant)
        or manquant(apres)
        or not (math.isfinite(float(avant)) and math.isfinite(float(apres)))
    ):
        return None
    return float(_rounded(float(apres), decimales) - _rounded(float(avant), decimales))


def effectif(
    n: object, seuil: int, singulier: str, pluriel_: str | None = None, *, secret: bool = False
) -> str:
    """A count of people or reports in a sentence, under statistical secrecy: ``moins de 11
    blocages (secret statistique)`` when it is below the threshold (``0 < n < seuil``); a count
    hidden to protect another one (`secret`, not small itself) reads ``un nombre de blocages
    soumis au secret statistique`` (« moins de 11 » would be false); else `pluriel`
    (``31 réussites``, ``0 blocage``)."""
    plur = pluriel_ or singulier + "s"
    if not manquant(n) and 0 < float(n) < seuil:
        return f"moins de {nombre(seuil)} {plur} (secret statistique)"
    if secret:
        return f"un nombre {de(plur)} soumis au secret statistique"
    return pluriel(n, singulier, pluriel_)


def minuscule_initiale(texte: str) -> str:
    """Lower-case the first letter of a label for use inside a sentence (keeps acronyms)."""
    if not texte:
        return texte
    premier_mot = texte.split(" ", 1)[0]
    if len(premier_mot) > 1 and premier_mot.isupper():  # "QPV", "CAF": leave as is
        return texte
    i = len(texte) - len(texte.lstrip(BIDI_CONTROLES))  # a control from the data is not the first letter
    return texte[:i] + texte[i : i + 1].lower() + texte[i + 1 :]


def _unite(unite: object) -> str:
    """A unit as a clean string: None and NaN (an empty cell of a CSV) are no unit."""
    return "" if unite is None or manquant(unite) else str(unite).strip()


def decimales_unite(unite: object) -> int:
    """The number of decimals a value in this unit is written with (`DECIMALES_UNITE`)."""
    return DECIMALES_UNITE.get(_unite(unite), 0)


def valeur_unite(x: object, unite: str | None, decimales: int | None = None, *, secret: bool = False) -> str:
    """Format a value in its unit: ``%``, ``€``, ``nombre`` (no unit shown), or any other unit
    written after the number (``‰``, ``hab.``, ``ETP``, ``quartiers``…, singular below 2).
    Without `decimales`, those of the unit (`decimales_unite`)."""
    unite = _unite(unite)
    d = decimales_unite(unite) if decimales is None else decimales
    if unite == "%":
        return pourcentage(x, d, secret=secret)
    if unite in ("€", EUROS_PAR_EURO):
        return euros(x, d, secret=secret)
    if unite == POUR_1000_HAB:
        n = nombre(x, d, secret=secret)
        return n if n in (ND, SECRET) else f"{n}{ESPACE_UNITE}pour 1{ESPACE_GROUPE}000{ESPACE_UNITE}hab."
    if unite in ("", "nombre", "indice"):  # an index has no unit word: « 0,9 »
        return nombre(x, d, secret=secret)
    s = nombre(x, d, secret=secret)
    if s in (ND, SECRET):
        return s
    # A counted word ("quartiers", "réunions") takes the singular below 2 in French.
    if unite.isalpha() and unite.endswith("s") and abs(float(x)) < 2:
        unite = unite[:-1]
    return f"{s}{ESPACE_UNITE}{unite}"


#: Counted words of key figures that are feminine (« aucune action », « aucune place »).
UNITES_FEMININES = frozenset(
    {
        "actions",
        "places",
        "communes",
        "réunions",
        "tendances",
        "demandes",
        "associations",
        "personnes",
        "questions",
    }
)


def chiffre_cle(valeur: object, unite: object = None) -> str:
    """A key figure ``{valeur, unite}`` of a results file, as the site index, the commune pages
    and the syntheses show it: ``64,2 %``, ``3 428 010 €``, ``3 quartiers``, ``−1,5 point``.

    One number of decimals per unit (`DECIMALES_UNITE`), whatever the value; a gap in
    ``points`` is signed (`points`); booleans read ``oui``/``non``; a string (``"s"`` for a
    secret value) is shown as given; a missing or infinite value is ``n.d.``.
    """
    unite = _unite(unite)
    if isinstance(valeur, bool):
        return "oui" if valeur else "non"
    if isinstance(valeur, str):
        return valeur
    if manquant(valeur):
        return ND
    try:
        v = float(valeur)
    except (TypeError, ValueError):
        return str(valeur)
    if math.isinf(v):
        return ND
    if unite in ("points", "point"):
        return points(v, decimales_unite(unite))
    if v == 0 and unite.isalpha() and unite.endswith("s"):
        # a measured zero of a counted word reads « aucun opérateur », « aucune action »
        return aucun(0, unite[:-1], feminin=unite in UNITES_FEMININES)
    return valeur_unite(v, unite, decimales_unite(unite))


def _ecart_unite(x: object, unite: str | None) -> str:
    """A signed difference in the indicator's unit: points for a rate, € for money, etc."""
    unite = (unite or "").strip()
    if unite == "%":
        return points(x)
    if manquant(x):
        return ND
    if unite == "€":
        return f"{nombre(x, 0, signe=True)}{ESPACE_UNITE}€"
    if unite == "‰":
        return f"{nombre(x, 1, signe=True)}{ESPACE_UNITE}‰"
    return nombre(x, 0 if unite in ("hab.", "nombre") else 1, signe=True)


_COMPARAISONS = {
    "plus élevé": "est plus élevé {territoire} ({valeur}) que {nom_reference} ({reference})",
    "plus faible": "est plus faible {territoire} ({valeur}) que {nom_reference} ({reference})",
    "comparable": "est du même ordre {territoire} ({valeur}) que {nom_reference} ({reference})",
}


def phrase_ecart(
    libelle: str,
    territoire: str,
    valeur: object,
    reference: object,
    nom_reference: str,
    unite: str | None,
    flag: str | None,
) -> str:
    """One sentence on the gap between a territory and its reference.

    ``territoire`` and ``nom_reference`` are complements as they would be written in the
    sentence (``"à Bellevue"``, ``"dans la commune"``). ``flag`` is the output of
    `trends.compare_to_reference` (``plus élevé`` / ``comparable`` / ``plus faible``).
    Example: « Le taux de chômage des 15-64 ans est plus élevé à Bellevue (24,1 %) que dans la
    commune (12,0 %), soit un écart de +12,1 points. »
    """
    sujet = f"{minuscule_initiale(libelle)}"
    v, r = valeur_unite(valeur, unite), valeur_unite(reference, unite)
    if manquant(valeur) or manquant(reference) or flag not in _COMPARAISONS:
        return (
            f"L'écart entre {territoire} ({v}) et {nom_reference} ({r}) ne peut pas être calculé "
            f"pour l'indicateur « {sujet} »."
        )
    ecart = float(valeur) - float(reference)
    corps = _COMPARAISONS[flag].format(
        territoire=territoire, valeur=v, nom_reference=nom_reference, reference=r
    )
    if flag == "comparable":
        fin = f" : l'écart ({_ecart_unite(ecart, unite)}) n'est pas significatif."
    else:
        fin = f", soit un écart de {_ecart_unite(ecart, unite)}."
    return f"L'indicateur « {sujet} » {corps}{fin}"


def phrase_evolution(
    libelle: str,
    territoire: str,
    valeur_debut: object,
    valeur_fin: object,
    annee_debut: int,
    annee_fin: int,
    unite: str | None,
    tendance: str | None = None,
) -> str:
    """One sentence on the evolution of an indicator between two years.

    ``tendance`` (from `trends.evolution`: ``hausse``/``baisse``/``stable``, or None when no
    trend may be claimed) adds whether the trend over all years is clear.
    """
    sujet = minuscule_initiale(libelle)
    d, f = valeur_unite(valeur_debut, unite), valeur_unite(valeur_fin, unite)
    if manquant(valeur_debut) or manquant(valeur_fin):
        return f"L'évolution de l'indicateur « {sujet} » {territoire} n'est pas disponible entre {annee_debut} et {annee_fin}."
    var = float(valeur_fin) - float(valeur_debut)
    if var == 0:
        verbe = "est resté stable"
    else:
        verbe = "a augmenté" if var > 0 else "a diminué"
    phrase = (
        f"{territoire[0].upper() + territoire[1:]}, l'indicateur « {sujet} » {verbe} entre "
        f"{annee_debut} et {annee_fin} ({d} puis {f}, soit {_ecart_unite(var, unite)})"
    )
    if tendance == "hausse":
        phrase += " ; la tendance sur l'ensemble des années est nettement orientée à la hausse"
    elif tendance == "baisse":
        phrase += " ; la tendance sur l'ensemble des années est nettement orientée à la baisse"
    elif tendance == "stable":
        phrase += " ; sur l'ensemble des années, aucune tendance nette ne se dégage"
    return phrase + "."


def phrase_convergence(
    libelle: str,
    territoire: str,
    nom_reference: str,
    ecart_debut: object,
    ecart_fin: object,
    annee_debut: int,
    annee_fin: int,
    unite: str | None,
    convergence: str | None,
) -> str:
    """One sentence on the change of the gap (``convergence``/``divergence``/``stable``)."""
    sujet = minuscule_initiale(libelle)
    a, b = _ecart_unite(ecart_debut, unite), _ecart_unite(ecart_fin, unite)
    if convergence == "convergence":
        verdict = f"l'écart avec {nom_reference} s'est réduit"
    elif convergence == "divergence":
        verdict = f"l'écart avec {nom_reference} s'est creusé"
    elif convergence == "stable":
        verdict = f"l'écart avec {nom_reference} est resté stable"
    else:
        return (
            f"L'évolution de l'écart avec {nom_reference} {territoire} pour l'indicateur « {sujet} » "
            f"n'est pas disponible entre {annee_debut} et {annee_fin}."
        )
    return (
        f"Pour l'indicateur « {sujet} », {verdict} {territoire} entre {annee_debut} et {annee_fin} "
        f"({a} puis {b})."
    )
