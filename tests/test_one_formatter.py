"""One French formatter: `cucs_analysis.present.text`.

Every French number of the package is written by `present/text.py`: no other module may call
babel's number formatters or build a decimal comma / digit groups by hand. The analysis layer
returns codes and numbers: it imports neither the presentation layer nor babel, matplotlib or
seaborn, and builds no French sentence (f-strings with words are allowed only in the
messages of the exceptions it raises).

The scanners are plain functions tested on strings with planted occurrences, so a green run
means the rules hold, not that the scan looked at nothing.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cucs_analysis"
TEXT = PACKAGE / "present" / "text.py"

_Q = r"""(['"])"""  # an opening quote, matched again by a back-reference
# A space that separates digit groups or a number from its unit: written as an escape in the
# source (\u202f, \u00a0, \xa0, \N{...}) or as the character itself.
_ESPACE = r"(?:\\u202[fF]|\\u00[aA]0|\\x[aA]0|\\N\{[^}]*\}|\\u2009|[ \u00a0\u202f\u2009])"
_SPEC_GROUPES = r"(?:[^{}'\"]?[<>=^])?[+\- ]?z?#?0?\d*,(?:\.\d+)?[bcdeEfFgGnosxX%]?"

#: What only present/text.py may contain: name → regex on the source text.
MOTIFS_INTERDITS = {
    "babel format_decimal": re.compile(r"\bformat_decimal\b"),
    "babel format_currency": re.compile(r"\bformat_currency\b"),
    "babel format_percent": re.compile(r"\bformat_percent\b"),
    "virgule décimale par replace": re.compile(r"\.replace\(\s*" + _Q + r"\.\1\s*,\s*" + _Q + r",\2\s*\)"),
    "séparateur de milliers par replace": re.compile(
        r"\.replace\(\s*" + _Q + r",\1\s*,\s*" + _Q + _ESPACE + r"\2\s*\)"
    ),
    'groupes de chiffres par format (f"{x:,}")': re.compile(r":" + _SPEC_GROUPES + r"\}"),
    'groupes de chiffres par format(x, ",")': re.compile(
        r"\bformat\(\s*[^,()]+,\s*" + _Q + _SPEC_GROUPES + r"\1\s*\)"
    ),
}


def formatting_outside_text(source: str) -> list[tuple[int, str]]:
    """(line, rule) for every hand-made French number formatting in `source`."""
    found = []
    for no, line in enumerate(source.splitlines(), start=1):
        for nom, rx in MOTIFS_INTERDITS.items():
            if rx.search(line):
                found.append((no, nom))
    return found


def package_modules(root: Path = PACKAGE) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def scan_package(root: Path = PACKAGE) -> list[str]:
    """Every violation of the package under `root`, but in present/text.py."""
    text_py = root / "present" / "text.py"
    out = []
    for path in package_modules(root):
        if path == text_py:
            continue
        for no, nom in formatting_outside_text(path.read_text(encoding="utf-8")):
            out.append(f"{path.relative_to(root.parent)}:{no}: {nom}")
    return out


# --- the scanner on strings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "planted",
    [
        "from babel.numbers import format_decimal",
        "s = format_decimal(x, locale='fr_FR')",
        "s = babel.numbers.format_currency(x, 'EUR', locale='fr_FR')",
        "s = format_percent(0.5)",
        "return f'{x:g}'.replace('.', ',')",
        'return str(x).replace(".", ",")',
        'return f"{n:,}".replace(",", "\\u202f")',
        'return f"{n:,}".replace(",", "\\u00a0")',
        "return f'{n:,}'.replace(',', '\\xa0')",
        'return f"{n:,}".replace(",", " ")',
        'return f"{n:,}".replace(",", "\u202f")',
        'return f"{n:,}".replace(",", "\\N{NARROW NO-BREAK SPACE}")',
        'return f"{n:,}"',
        'return f"{x:,.2f} €"',
        'return f"{x:>12,d}"',
        'return "{:,}".format(n)',
        'return format(n, ",")',
        "return format(x, ',.1f')",
    ],
)
def test_scanner_finds_a_planted_formatting(planted):
    assert formatting_outside_text(f"def f(x, n):\n    {planted}\n"), planted


@pytest.mark.parametrize(
    "clean",
    [
        'return s.str.replace(",", ".", regex=False)',  # parsing French numbers is allowed
        'return s.str.replace("[\\u202f\\u00a0 ]", "", regex=True)',
        "return a[:, None] * b[None, :]",
        'return {"a": x, "b": y}',
        'return f"{x:.1f}"',
        'return f"{x:g}"',
        "return text.nombre(x, 1)",
        'return key.replace("_", " ")',
        'return f"{texte}\\u00a0{unite}"',  # a unit after a number formatted by text
    ],
)
def test_scanner_leaves_clean_code_alone(clean):
    assert formatting_outside_text(f"def f(x):\n    {clean}\n") == [], clean


def test_scanner_reports_the_line():
    source = "a = 1\nb = f'{a:,}'\nc = 2\nd = str(c).replace('.', ',')\n"
    assert formatting_outside_text(source) == [
        (2, 'groupes de chiffres par format (f"{x:,}")'),
        (4, "virgule décimale par replace"),
    ]


def test_package_scan_fails_on_a_planted_module(tmp_path):
    root = tmp_path / "cucs_analysis"
    (root / "present").mkdir(parents=True)
    (root / "analysis").mkdir()
    (root / "present" / "text.py").write_text("from babel.numbers import format_decimal\n", encoding="utf-8")
    (root / "analysis" / "ok.py").write_text("x = 1\n", encoding="utf-8")
    assert scan_package(root) == []  # text.py is the one place allowed
    (root / "analysis" / "funding.py").write_text(
        "def _eur(x):\n    return f'{round(x):,} €'.replace(',', '\\u202f')\n", encoding="utf-8"
    )
    found = scan_package(root)
    assert found and all(f.startswith("cucs_analysis/analysis/funding.py:2:") for f in found)


# --- the package --------------------------------------------------------------------------------


def test_the_scan_reads_the_whole_package():
    modules = {p.relative_to(PACKAGE).as_posix() for p in package_modules()}
    assert {"present/text.py", "analysis/funding.py", "data/errors.py", "pipeline/publish.py"} <= modules
    assert formatting_outside_text(TEXT.read_text(encoding="utf-8")), "text.py is where babel is used"


def test_only_present_text_formats_french_numbers():
    found = scan_package()
    assert not found, "Formatage de nombres hors de cucs_analysis/present/text.py :\n" + "\n".join(found)


# --- the analysis layer: codes and numbers only ---------------------------------------------------

#: Modules the analysis layer must not import (module names, or their packages).
IMPORTS_INTERDITS_ANALYSE = ("babel", "matplotlib", "seaborn", "cucs_analysis.present")


def imported_modules(tree: ast.AST) -> set[str]:
    """Every module named by an import anywhere in the tree (``from a import b`` gives a and a.b)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def forbidden_imports(source: str, interdits: tuple[str, ...] = IMPORTS_INTERDITS_ANALYSE) -> list[str]:
    return sorted(
        m
        for m in imported_modules(ast.parse(source))
        if any(m == i or m.startswith(i + ".") for i in interdits)
    )


def sentence_builders(source: str) -> list[int]:
    """Lines of f-strings with words (a space in their literal text) outside a `raise`: French
    sentences written in code. Identifiers such as ``f"ev_m{k}"`` have no space; the messages of
    raised exceptions are the allowed exception."""
    tree = ast.parse(source)
    in_raise = {id(n) for r in ast.walk(tree) if isinstance(r, ast.Raise) for n in ast.walk(r)}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and id(node) not in in_raise:
            literal = "".join(
                v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
            if re.search(r"\s", literal):
                lines.append(node.lineno)
    return sorted(lines)


def test_import_check_on_strings():
    assert forbidden_imports("from cucs_analysis.present import text\n") == [
        "cucs_analysis.present",
        "cucs_analysis.present.text",
    ]
    assert forbidden_imports("from cucs_analysis.present.text import SECRET\n") == [
        "cucs_analysis.present.text",
        "cucs_analysis.present.text.SECRET",
    ]
    assert forbidden_imports("def f():\n    import matplotlib.pyplot as plt\n") == ["matplotlib.pyplot"]
    assert forbidden_imports("from babel.numbers import format_decimal\n") == [
        "babel.numbers",
        "babel.numbers.format_decimal",
    ]
    assert forbidden_imports("import seaborn\n") == ["seaborn"]
    assert (
        forbidden_imports("import pandas as pd\nfrom cucs_analysis.data.schema import X\nimport babelfish\n")
        == []
    )


def test_sentence_check_on_strings():
    assert sentence_builders('def f(n):\n    return f"{n} quartiers"\n') == [2]
    assert sentence_builders(
        'def f(b):\n    s = "x"\n    return (\n        f"Complémentarité : base ({b})"\n    )\n'
    ) == [4]
    assert sentence_builders('def f(x):\n    raise ValueError(f"Niveau inconnu : {x!r}")\n') == []
    assert sentence_builders('def f(k):\n    return {k: f"ev_m{-k}", "c": f"{k}_reference"}\n') == []


@pytest.mark.parametrize("module", sorted(p.name for p in (PACKAGE / "analysis").glob("*.py")))
def test_analysis_module_is_codes_and_numbers(module):
    source = (PACKAGE / "analysis" / module).read_text(encoding="utf-8")
    assert forbidden_imports(source) == [], f"analysis/{module} imports the presentation layer or plotting"
    assert sentence_builders(source) == [], f"analysis/{module} builds French sentences (lines above)"


def test_text_is_a_leaf_module():
    # The data layer may import text (its one exception to the layering) because text imports
    # nothing from the package.
    mods = imported_modules(ast.parse(TEXT.read_text(encoding="utf-8")))
    assert not [m for m in mods if m == "cucs_analysis" or m.startswith("cucs_analysis.")]


def test_data_layer_imports_only_text_from_above():
    above = (
        "cucs_analysis.analysis",
        "cucs_analysis.present",
        "cucs_analysis.reports",
        "cucs_analysis.pipeline",
    )
    for path in sorted((PACKAGE / "data").glob("*.py")):
        mods = imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        bad = [
            m
            for m in mods
            if any(m == a or m.startswith(a + ".") for a in above)
            and m not in ("cucs_analysis.present", "cucs_analysis.present.text")
            and not m.startswith("cucs_analysis.present.text.")
        ]
        assert not bad, f"data/{path.name}: {bad}"
