"""Issue 9, point 2: property-based fuzzing of the validator (hypothesis).

Strategies over table cells, header names (duplicates, empty, unicode), encodings,
separators, truncations and byte flips of one CSV file at a time, and over the values of
`metadonnees.yaml`. Property: every generated input ends in typed tables (numbers finite,
dtypes of the schema) with no problem, or in a list of one-line French problems — never an
exception — and the input file is unchanged (checksum).

CI runs `FUZZ_BUDGET` inputs in total (derandomized: the same inputs on every run). A longer
soak: `CUCS_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -q tests/test_fuzz_validate.py`
(the number is the total across the tests; `CUCS_FUZZ_RANDOM=1` draws new inputs each run).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from confiance import enregistrer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cucs_analysis.data import schema
from cucs_analysis.data.errors import Problem
from cucs_analysis.data.readers import read_metadata, read_raw_csv
from cucs_analysis.data.validate import inspect_dir, inspect_table

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "tests" / "fixtures" / "minimal"
TABLES = sorted(t for t in schema.TABLES if (MINIMAL / f"{t}.csv").exists())
META = schema.DatasetMetadata(annee_debut=2005, annee_fin=2014)

#: Inputs generated per CI run, in total (at least 1,000: issue 9).
FUZZ_BUDGET = int(os.environ.get("CUCS_FUZZ_EXAMPLES", "1200"))
#: Share of the budget per test (sums to 1).
SHARES = {"cells": 0.35, "headers": 0.15, "bytes": 0.30, "metadata": 0.12, "directory": 0.08}
RANDOM = os.environ.get("CUCS_FUZZ_RANDOM") == "1"


def fuzz(share: str):
    return settings(
        max_examples=max(1, round(FUZZ_BUDGET * SHARES[share])),
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- what must hold for every input -----------------------------------------------------------

COUNTS: dict[str, int] = {}

#: English or Python words a French problem must not carry.
ENGLISH = ("Error", "Traceback", "Exception", "cannot", "invalid literal", "could not")


def check_problems(problems: list[Problem]) -> None:
    assert isinstance(problems, list)
    for p in problems:
        assert isinstance(p, Problem)
        assert p.fichier and p.regle and p.message
        line = str(p)
        assert "\n" not in line and "\r" not in line, line
        assert not any(w in p.message for w in ENGLISH), line


def check_typed(df: pd.DataFrame, name: str) -> None:
    """The dtypes the loader promises, whatever the input; numbers finite."""
    for c in schema.TABLES[name].columns:
        assert c.name in df.columns
        s = df[c.name]
        if c.kind in ("int", "year"):
            assert str(s.dtype) == "Int64", (c.name, s.dtype)
        elif c.kind == "float":
            assert s.dtype == np.float64, (c.name, s.dtype)
            v = s.to_numpy()
            assert np.isfinite(v[~np.isnan(v)]).all(), c.name
        elif c.kind == "bool":
            assert str(s.dtype) == "boolean", (c.name, s.dtype)
        elif c.kind == "date":
            assert pd.api.types.is_datetime64_any_dtype(s), (c.name, s.dtype)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_table(path: Path, name: str, kind: str, meta: schema.DatasetMetadata = META) -> list[Problem]:
    """Inspect one table file (against `meta`): typed frame or problems, never an exception,
    file unchanged."""
    before = sha(path)
    df, _raw, problems = inspect_table(path, name, meta)
    assert sha(path) == before
    check_problems(problems)
    check_typed(df, name)
    COUNTS[kind] = COUNTS.get(kind, 0) + 1
    return problems


@pytest.fixture(scope="module")
def workdir():
    d = Path(tempfile.mkdtemp(prefix="cucs-fuzz-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)
    total = sum(COUNTS.values())
    print(f"\nfuzz : {total} entrées générées ({', '.join(f'{k} {v}' for k, v in sorted(COUNTS.items()))})")


def rows_of(name: str) -> list[list[str]]:
    raw, problems = read_raw_csv(MINIMAL / f"{name}.csv")
    assert raw is not None and not problems
    return [list(raw.columns), *raw.astype(str).values.tolist()]


ROWS = {name: rows_of(name) for name in TABLES}


def write_rows(path: Path, rows: list[list[str]], sep: str = ",", encoding: str = "utf-8") -> None:
    import csv
    import io

    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=sep, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding, errors="replace"))


# --- strategies -------------------------------------------------------------------------------

NUMBERS = st.sampled_from(
    [
        "inf", "-inf", "Infinity", "-Infinity", "NaN", "nan", "1e400", "-1e400", "1e308", "1e20",
        "12345678901234567890", "-12345678901234567890", "9" * 40, "2**63", "0x10", "1_000",
        "1 234,5", "1.234,5", "1,234.5", "12,", ",5", "-0", "+3", "3e", "e3", "2005.0", "2005,5",
        "−5", "٣", "²", "1e-400", "4.9e-324", "", " ", "s", "NS", "nd", "so", "oui", "2010-13-45",
        "31/02/2010", "99999-01-01", "0000-00-00", "2010-01-01T00:00:00", "=1+1", "@SUM(A1)",
        "inconnu", "Inconnu", " INCONNU ", "inconnue", "0", "999,99",
    ]
)  # fmt: skip
CELL_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=30
)
CELL = st.one_of(
    NUMBERS,
    CELL_TEXT,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: repr(x).replace(".", ",")),
    st.dates().map(lambda d: d.isoformat()),
)
HEADER_NAME = st.one_of(
    st.sampled_from(
        ["", " ", "\ufeff", "annee", "valeur", "nom", "code_commune", "ANNEE", "année", "x" * 300]
    ),
    CELL_TEXT,
)


@st.composite
def mutated_cells(draw):
    name = draw(st.sampled_from(TABLES))
    rows = [list(r) for r in ROWS[name]]
    ncol = len(rows[0])
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(1, len(rows) - 1))
        j = draw(st.integers(0, ncol - 1))
        rows[i][j] = draw(CELL)
    if draw(st.booleans()):  # more rows, some of them copies (duplicate keys)
        for _ in range(draw(st.integers(1, 3))):
            rows.append(list(draw(st.sampled_from(rows[1:]))))
    return name, rows


@st.composite
def mutated_headers(draw):
    name = draw(st.sampled_from(TABLES))
    rows = [list(r) for r in ROWS[name]]
    header = rows[0]
    action = draw(st.sampled_from(["duplicate", "rename", "empty", "add", "drop", "shuffle"]))
    j = draw(st.integers(0, len(header) - 1))
    if action == "duplicate":
        k = draw(st.integers(0, len(header) - 1))
        header[k] = header[j]
    elif action == "rename":
        header[j] = draw(HEADER_NAME)
    elif action == "empty":
        header[j] = ""
    elif action == "add":
        extra = draw(HEADER_NAME)
        for r in rows:
            r.append(extra if r is header else draw(CELL))
    elif action == "drop":
        for r in rows:
            del r[j]
    else:
        perm = draw(st.permutations(list(range(len(header)))))
        rows = [[r[p] for p in perm] for r in rows]
    return name, rows


ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]
SEPARATORS = [",", ";", "\t", "|"]


@st.composite
def mutated_bytes(draw):
    name = draw(st.sampled_from(TABLES))
    rows = [list(r) for r in ROWS[name]]
    import csv
    import io

    buf = io.StringIO(newline="")
    sep = draw(st.sampled_from(SEPARATORS))
    eol = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    csv.writer(buf, delimiter=sep, lineterminator=eol).writerows(rows)
    data = bytearray(buf.getvalue().encode(draw(st.sampled_from(ENCODINGS)), errors="replace"))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        else:
            del data[pos : pos + draw(st.integers(1, 20))]
    return name, bytes(data)


YAML_VALUE = st.one_of(
    st.sampled_from(
        [
            "-2005",
            ".inf",
            "-.inf",
            ".nan",
            "1.0e+308",
            "1e400",
            "99999999999999999999",
            "2005.5",
            "'2005'",
            "true",
            "null",
            "~",
            "[]",
            "{}",
            "[2005]",
            "0x7D5",
            "0o3725",
            "2_005",
            "2005-01-01",
            "!!binary aGVsbG8=",
            "&a 2005",
            "*a",
            "'",
            '"',
            ": :",
            "- 1",
            "|",
            ">",
            "é",
            "\t2005",
        ]
    ),  # fmt: skip
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.floats().map(repr),
    CELL_TEXT.map(lambda s: s.replace("\n", " ")),
)


@st.composite
def mutated_metadata(draw):
    lines = (MINIMAL / schema.METADATA_FILE).read_text(encoding="utf-8").splitlines()
    keys = ["annee_debut", "annee_fin", "annee_revenus_qpv", "revenu_median_national", "nom", "synthetique"]
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(keys))
        value = draw(YAML_VALUE)
        lines = [ln for ln in lines if not ln.startswith(f"{key}:")] + [f"{key}: {value}"]
    if draw(st.integers(0, 9)) == 0:  # now and then, damaged bytes
        data = bytearray("\n".join(lines).encode("utf-8"))
        if data:
            data[draw(st.integers(0, len(data) - 1))] ^= 0x80
        return bytes(data)
    return ("\n".join(lines) + "\n").encode("utf-8")


# --- the properties ---------------------------------------------------------------------------


@fuzz("cells")
@given(case=mutated_cells(), sep=st.sampled_from([",", ";"]))
def test_fuzz_cells(workdir, case, sep):
    name, rows = case
    path = workdir / f"{name}.csv"
    write_rows(path, rows, sep)
    run_table(path, name, "cellules")


@fuzz("headers")
@given(case=mutated_headers())
def test_fuzz_headers(workdir, case):
    name, rows = case
    path = workdir / f"{name}.csv"
    write_rows(path, rows, ";")
    run_table(path, name, "en-têtes")


@fuzz("bytes")
@given(case=mutated_bytes())
def test_fuzz_bytes(workdir, case):
    name, data = case
    path = workdir / f"{name}.csv"
    path.write_bytes(data)
    run_table(path, name, "octets")


@fuzz("metadata")
@given(data=mutated_metadata())
def test_fuzz_metadata(workdir, data):
    path = workdir / schema.METADATA_FILE
    path.write_bytes(data)
    before = sha(path)
    meta, problems = read_metadata(path)
    assert sha(path) == before
    check_problems(problems)
    # What is kept is always usable: finite, plausible years (the period check builds dates).
    lo, hi = schema.ANNEE_MIN, schema.ANNEE_MAX
    assert isinstance(meta.annee_debut, int) and lo <= meta.annee_debut <= hi
    assert isinstance(meta.annee_fin, int) and lo <= meta.annee_fin <= hi
    if meta.revenu_median_national is not None:
        assert np.isfinite(meta.revenu_median_national)
    # … and a table checked against it does not crash.
    run_table(MINIMAL / "actions.csv", "actions", "métadonnées", meta)


@pytest.fixture(scope="module")
def small_dir(workdir):
    d = workdir / "dossier"
    shutil.copytree(MINIMAL, d)
    return d


@fuzz("directory")
@given(
    name=st.sampled_from(TABLES),
    cells=st.lists(st.tuples(st.integers(1, 20), st.integers(0, 20), CELL), min_size=1, max_size=4),
    meta=st.one_of(st.none(), mutated_metadata()),
)
def test_fuzz_whole_directory(small_dir, name, cells, meta):
    """The whole pipeline (cross-table references and bounds included) on a small copy."""
    rows = [list(r) for r in ROWS[name]]
    for i, j, v in cells:
        rows[1 + i % (len(rows) - 1)][j % len(rows[0])] = v
    path = small_dir / f"{name}.csv"
    meta_path = small_dir / schema.METADATA_FILE
    try:
        write_rows(path, rows)
        if meta is not None:
            meta_path.write_bytes(meta)
        before = {p.name: sha(p) for p in small_dir.iterdir()}
        insp = inspect_dir(small_dir)
        assert {p.name: sha(p) for p in small_dir.iterdir()} == before
        check_problems(insp.problems)
        for t, df in insp.tables.items():
            check_typed(df, t)
        COUNTS["dossier"] = COUNTS.get("dossier", 0) + 1
    finally:
        shutil.copy(MINIMAL / f"{name}.csv", path)
        shutil.copy(MINIMAL / schema.METADATA_FILE, meta_path)


def test_the_inputs_were_really_generated():
    """Runs last in this module: counts the inputs the properties above actually checked."""
    kinds = {"cellules", "en-têtes", "octets", "métadonnées", "dossier"}
    if not kinds <= set(COUNTS):  # only part of the module was selected (-k …)
        pytest.skip("fuzzing partiel : le compte n'a de sens que pour le module entier")
    total = sum(COUNTS.values())
    # hypothesis may stop a little early on a small strategy; never far below the budget
    assert total >= 0.9 * FUZZ_BUDGET, COUNTS
    if RANDOM:
        enregistrer("fuzz.soak", total, "entrées nouvelles du long fuzzing (make soak), sans exception")
    else:
        enregistrer("fuzz.entrees", total, "entrées générées et validées sans exception (fuzzing de la CI)")
