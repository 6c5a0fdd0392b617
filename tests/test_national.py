"""National-size data (issue 12, item 4; DESIGN.md §10): `cucs demo --scale national` volumes
and generation time, `cucs validate` time and peak memory, the territory of one commune cut
from the cache without reading every row — and the fast paths behind them, proven equal to
the slow ones they replace.

The national data set is generated once for the module (about 10-25 s on the 2-core
machine) by the tests marked `slow`; the other tests use small inputs. Time budgets are the
issue's, checked with margins against a loaded CI machine (or as ratios measured in one run).
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cucs_analysis.data import dataset, demo, readers
from cucs_analysis.data.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
MINIMAL = Path(__file__).parent / "fixtures" / "minimal"

#: The issue's volumes for the national scale (±15 % accepted).
TARGETS = {"actions": 100_000, "financements": 300_000, "parcours": 200_000}


# --- the fast CSV path reads what the csv module reads ------------------------------------------


def _variants() -> dict[str, str]:
    base = (DEMO / "operateurs.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(base, newline="")))
    lines = base.split("\n")

    def written(rs, **kw) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n", **kw).writerows(rs)
        return buf.getvalue()

    quoted = [list(r) for r in rows]
    for i, r in enumerate(quoted[1:]):
        r[1] += (', « dit » "X"' if i % 3 == 0 else "") + ("\nsuite" if i % 7 == 0 else "")
    spaced = [list(r) for r in rows]
    spaced[5][1] = '  "espace" '
    return {
        "plain": base,
        "crlf": base.replace("\n", "\r\n"),
        "lone_cr": base.replace("\n", "\r"),
        "blank_line": "\n".join(lines[:5] + [""] + lines[5:]),
        "leading_blank": "\n\n" + base,
        "trailing_blanks": base + "\n\n",
        "no_final_newline": base.rstrip("\n"),
        "ragged": "\n".join(
            lines[:3] + [lines[3] + ",x"] + lines[4:6] + [lines[6].rsplit(",", 1)[0]] + lines[7:]
        ),
        "quote_inside": "\n".join(
            lines[:3] + [lines[3].replace("Association", 'Asso"ciation', 1)] + lines[4:]
        ),
        "quote_then_text": "\n".join(lines[:3] + [lines[3].replace(",", ',"x"y', 1)] + lines[4:]),
        "quote_after_space": "\n".join(lines[:3] + [lines[3].replace(",", ', "x"', 1)] + lines[4:]),
        "quote_unclosed": "\n".join(lines[:3] + [lines[3].replace(",", ',"xy', 1)] + lines[4:]),
        "quoted_fields": written(quoted),
        "quoted_spaces": written(spaced),
        "quote_all": written(rows, quoting=csv.QUOTE_ALL),
        "bom": "\ufeff" + base,
        "tab": base.replace(",", "\t"),
        "duplicate_header": base.replace("nom", "id_operateur", 1),
        "padded": base.replace(",", " , "),
        "nbsp": base.replace(",", ",\u00a0", 3),
        "long_field": written([r if i != 3 else [r[0], "x" * 200_000, *r[2:]] for i, r in enumerate(rows)]),
        "spaces_line": "\n".join(lines[:5] + ["   "] + lines[5:]),
        "empty_fields": "\n".join(lines[:5] + ["," * lines[0].count(",")] + lines[5:]),
    }


#: The variants of a Windows export in cp1252 (the fast path re-encodes the text to UTF-8 for
#: Arrow instead of passing the file's bytes): accents, « », € and œ are not UTF-8 bytes there.
_CP1252 = ("plain", "crlf", "quoted_fields", "quote_all", "padded", "tab", "ragged", "quote_inside")


def _cp1252(text: str) -> str:
    return text.replace("Association", "Œuvre € « Association »", 5)


@pytest.mark.parametrize(
    "name,encoding",
    [(n, "utf-8") for n in sorted(_variants())] + [(n, "cp1252") for n in _CP1252],
)
def test_fast_csv_path_reads_what_the_csv_module_reads(name, encoding, tmp_path, monkeypatch):
    path = tmp_path / "operateurs.csv"
    text = _variants()[name] if encoding == "utf-8" else _cp1252(_variants()[name])
    path.write_text(text, encoding=encoding, newline="")
    if encoding == "cp1252":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
    monkeypatch.setattr(readers, "FAST_CSV_MIN_CHARS", 0)
    fast, fast_problems = readers.read_raw_csv(path)
    monkeypatch.setattr(readers, "_fast_frame", lambda *a, **k: None)
    slow, slow_problems = readers.read_raw_csv(path)
    assert [str(p) for p in fast_problems] == [str(p) for p in slow_problems]
    if slow is None:
        assert fast is None
        return
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert list(fast.dtypes) == list(slow.dtypes)


def test_fast_csv_path_is_taken_for_well_formed_files(tmp_path, monkeypatch):
    """Quoted fields (with separators, doubled quotes, line breaks) and Windows line ends go
    the fast way; what validation must explain (ragged rows, stray quotes) never does."""
    monkeypatch.setattr(readers, "FAST_CSV_MIN_CHARS", 0)
    v = _variants()
    for name in ("plain", "crlf", "quoted_fields", "quoted_spaces", "bom", "tab", "padded"):
        first = next(ln for ln in v[name].splitlines() if ln.strip())
        assert readers._fast_frame(v[name], readers.sniff_separator(first)) is not None, name
    for name in ("ragged", "quote_inside", "quote_unclosed", "quote_then_text", "blank_line", "long_field"):
        assert readers._fast_frame(v[name], ",") is None, name
    # A cp1252 file is read the fast way too (its text encoded to UTF-8 for Arrow).
    taken = []
    real = readers._fast_frame
    monkeypatch.setattr(readers, "_fast_frame", lambda *a: taken.append((a[2], real(*a))) or taken[-1][1])
    for name in ("plain", "crlf", "quoted_fields"):
        path = tmp_path / f"{name}.csv"
        path.write_text(_cp1252(v[name]), encoding="cp1252", newline="")
        frame, _ = readers.read_raw_csv(path)
        assert taken[-1][0] is None and taken[-1][1] is not None, name
        assert frame["nom"].str.startswith("Œuvre € « Association »").sum() == 5, name


# --- validation of cross-column rules writes messages for the listed rows only ------------------


def test_bounds_and_numerator_messages_are_unchanged(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(DEMO, d)
    text = (d / "indicateurs.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    h = rows[0]
    iv, inum, iden = h.index("valeur"), h.index("numerateur"), h.index("denominateur")
    with_den = [r for r in rows[1:] if r[inum] and r[iden]][:25]
    for r in with_den:
        r[inum] = str(float(r[iden]) + 5)
    with_val = [r for r in rows[1:] if r[iv] and r not in with_den][:24]
    for r in with_val:
        r[iv] = "-3"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (d / "indicateurs.csv").write_text(buf.getvalue(), encoding="utf-8")
    from cucs_analysis.data import validate

    problems = [p for p in validate.validate_dir(d) if p.fichier == "indicateurs.csv"]
    num = [p for p in problems if p.regle == "numérateur ≤ dénominateur"]
    assert len(num) == readers.MAX_LISTED + 1 and num[-1].autres == 5
    assert all(re.fullmatch(r"[\d\s,]+ > [\d\s,]+", p.valeur) for p in num[:-1]), num[0]
    bornes = [p for p in problems if p.regle == "bornes"]
    assert len(bornes) == readers.MAX_LISTED + 1 and bornes[-1].autres == 4
    unit = r"valeur hors des bornes de l'unité « [^»]+ » de l'indicateur : elle doit être comprise entre 0 et [\d\s]+"
    assert all(re.fullmatch(unit, p.message) for p in bornes[:-1]), bornes[0].message


# --- the territory cut --------------------------------------------------------------------------


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path / "cache"))
    dataset.clear_memo()
    yield tmp_path / "cache"
    dataset.clear_memo()


def _frames(t: dataset.Territory) -> dict[str, pd.DataFrame]:
    return {k: v for k, v in vars(t).items() if isinstance(v, pd.DataFrame)}


def test_indexed_cut_equals_the_cut_over_every_row(cache, monkeypatch):
    """The row index narrows each table to the rows of the commune's codes; the cut is the
    same as the condition applied to every row (the index bypassed)."""
    codes = list(dataset.load_dataset(DEMO).tables["communes"]["code_commune"])
    indexed = {c: _frames(dataset.load_territory(DEMO, c)) for c in codes}
    monkeypatch.setattr(dataset._RowIndex, "candidates", lambda self, df, table, column, codes: df)
    for c in codes:
        for name, frame in _frames(dataset.load_territory(DEMO, c)).items():
            pd.testing.assert_frame_equal(indexed[c][name], frame, check_exact=True)


def _same_size_edit(p: Path) -> None:
    """Change one byte of `p`, keeping its size and modification time."""
    st = p.stat()
    data = p.read_bytes()
    k = len(data) // 2
    p.write_bytes(data[:k] + (b"Y" if data[k : k + 1] != b"Y" else b"Z") + data[k + 1 :])
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert p.stat().st_size == st.st_size


@pytest.fixture
def fresh_fingerprints(monkeypatch):
    """A process that has hashed nothing yet and is no task of a batch."""
    monkeypatch.setattr(readers, "RACY_SECONDS", 0.0)
    monkeypatch.setattr(readers, "_FINGERPRINTS", {})
    monkeypatch.delenv(readers.ENV_FINGERPRINTS, raising=False)
    monkeypatch.delenv(readers.ENV_TASK, raising=False)


def test_fingerprint_is_remembered_and_follows_every_write(tmp_path, monkeypatch, fresh_fingerprints):
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    files = readers.find_files(d)
    fp = readers.fingerprint(files)
    assert fp == readers._content_fingerprint(files)
    # The same process: remembered, no byte hashed.
    real = readers._content_fingerprint
    monkeypatch.setattr(readers, "_content_fingerprint", lambda f: pytest.fail("hashed again"))
    assert readers.fingerprint(readers.find_files(d)) == fp
    # Same size, same modification time: the change time still moves.
    monkeypatch.setattr(readers, "_content_fingerprint", real)
    _same_size_edit(d / "gup.csv")
    assert readers.fingerprint(readers.find_files(d)) == real(readers.find_files(d)) != fp


def test_a_file_just_written_is_always_hashed(tmp_path, monkeypatch, fresh_fingerprints):
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    monkeypatch.setattr(readers, "RACY_SECONDS", 2.0)
    calls = []
    real = readers._content_fingerprint
    monkeypatch.setattr(readers, "_content_fingerprint", lambda f: calls.append(1) or real(f))
    for _ in range(2):
        readers.fingerprint(readers.find_files(d))
    assert len(calls) == 2


def test_a_new_run_hashes_the_bytes_even_if_the_stat_signature_lies(
    tmp_path, monkeypatch, cache, fresh_fingerprints
):
    """M6: on NFS (cached attributes) or vfat (no change time, no inode) an edit can leave the
    stat signature unchanged. A new run (a new process, no task of a batch) hashes the bytes:
    it reads the edited data, never the previous run's Parquet cache."""
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    monkeypatch.setattr(readers, "_stat_key", lambda files: "0" * 64)  # the lying file system
    before = dataset.load_dataset(d)
    p = d / "communes.csv"
    p.write_text(p.read_text(encoding="utf-8").replace("Villebelle", "Villebellf"), encoding="utf-8")
    # The next run: a fresh process (its memos empty; what a parent left in the environment is
    # not trusted outside a batch).
    monkeypatch.setattr(readers, "_FINGERPRINTS", {})
    dataset._MEMO.clear()
    dataset._INDEXES.clear()
    after = dataset.load_dataset(d)
    assert after.fingerprint != before.fingerprint
    assert after.fingerprint == readers._content_fingerprint(readers.find_files(d))
    assert "Villebellf" in set(after.tables["communes"]["nom"])
    assert not (cache / "empreintes").exists()


_CHILD = """
import sys
from cucs_analysis.data import readers
readers.RACY_SECONDS = 0.0  # the files were copied just now
hashed = []
real = readers._content_fingerprint
readers._content_fingerprint = lambda f: hashed.append(1) or real(f)
print(readers.fingerprint(readers.find_files(sys.argv[1])), len(hashed))
"""


def test_the_tasks_of_a_batch_reuse_the_drivers_fingerprint(tmp_path, monkeypatch, fresh_fingerprints):
    """The driver hashes once; the processes it starts for its tasks (a standard kernel is a
    fresh process) reuse that through the environment; any other child hashes again."""
    from cucs_analysis.pipeline import executors

    assert readers.ENV_TASK == executors.MARQUEUR
    d = tmp_path / "data"
    shutil.copytree(MINIMAL, d)
    fp = readers.fingerprint(readers.find_files(d))
    assert readers.ENV_FINGERPRINTS in os.environ

    def child(task: str | None) -> list[str]:
        env = {k: v for k, v in os.environ.items() if k != readers.ENV_TASK}
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(d)],
            env={**env, readers.ENV_TASK: task} if task else env,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.split()

    assert child("lot-1") == [fp, "0"]  # a task: no byte hashed
    assert child(None) == [fp, "1"]  # not a task (a new `cucs run` from a notebook): hashed
    # A file edited since: the task hashes the bytes (its stat signature changed).
    _same_size_edit(d / "gup.csv")
    assert child("lot-1") == [readers._content_fingerprint(readers.find_files(d)), "1"]


# --- the national scale -------------------------------------------------------------------------


def test_national_is_never_written_into_data_demo(tmp_path):
    target = tmp_path / "data" / "demo"
    t0 = time.perf_counter()
    with pytest.raises(DataError, match="ne s'écrit pas dans"):
        demo.generate(target, scale="national")
    assert time.perf_counter() - t0 < 1 and not target.exists()
    assert "/data/national/" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    out = tmp_path_factory.mktemp("national")
    # CPU time, not wall time: a CI machine shared with other jobs stretches the wall clock
    # (measured: 11 s alone, 23 s with the machine loaded, for 13 s of CPU).
    t0 = time.process_time()
    truth = demo.generate(out / "nat", scale="national")  # asserts every planted truth
    return out / "nat", time.process_time() - t0, truth


def _rows(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f) - 1


@pytest.mark.slow
def test_national_volumes_and_generation_time(national):
    path, seconds, truth = national
    sizes = {name: _rows(path / f"{name}.csv") for name in TARGETS}
    for name, target in TARGETS.items():
        assert abs(sizes[name] - target) <= 0.15 * target, sizes
    assert 850 <= _rows(path / "communes.csv") <= 950 and 1400 <= _rows(path / "quartiers.csv") <= 1600
    years = pd.read_csv(path / "actions.csv", usecols=["annee"])["annee"]
    assert (years.min(), years.max()) == (2005, 2014)
    assert truth["operateurs_sous_performants"] and truth["actions_enjeu_reprise"]
    assert seconds < 60, f"génération nationale : {seconds:.1f} s de calcul"


def _child(code: str, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    """Run `python -c code ARGS` in a child process: (result, wall seconds)."""
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    return res, time.perf_counter() - t0


#: Runs `cucs validate` in its own child and prints its exit code, wall time, CPU time and peak
#: RSS (the largest of this wrapper's children: the validation alone).
_VALIDATE = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
r = subprocess.run([sys.executable, "-m", "cucs_analysis.cli", "validate", sys.argv[1]], capture_output=True, text=True)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r.returncode, time.perf_counter() - t0, u.ru_utime + u.ru_stime, u.ru_maxrss * 1024)
print(r.stdout + r.stderr)
"""


@pytest.mark.slow
def test_national_validation_time_and_memory(national):
    path, _, _ = national
    res, _ = _child(_VALIDATE, str(path))
    assert res.returncode == 0, res.stderr
    head, report = res.stdout.split("\n", 1)
    code, wall, cpu, peak = head.split()
    assert code == "0" and "le jeu de données est valide" in report, report
    # CPU time for the budget (a loaded machine stretches the wall time; measured: 6-7 s of
    # CPU, 7-9 s wall); the wall time with a wide margin.
    assert float(cpu) < 30, f"cucs validate national : {float(cpu):.1f} s de calcul"
    assert float(wall) < 90, f"cucs validate national : {float(wall):.1f} s"
    assert int(peak) < 4 * 1024**3, f"cucs validate national : {int(peak) / 1024**3:.2f} Go"


_TERRITORY = """
import sys, time
from cucs_analysis.data import dataset
data, code = sys.argv[1], sys.argv[2]
t0 = time.process_time()
t = dataset.load_territory(data, code)
fresh = time.process_time() - t0
cpu = []
for c in sys.argv[3:]:
    a = time.process_time()
    dataset.load_territory(data, c)
    dataset.load_dataset(data)  # what a notebook's start reads next
    cpu.append(time.process_time() - a)
print(fresh, min(cpu))
"""


@pytest.mark.slow
def test_national_territory_loads_from_a_warm_cache(national, tmp_path, monkeypatch):
    path, _, _ = national
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path / "cache"))
    codes = {path: ["20001", "20013", "20145", "20001"], DEMO: ["20001", "20002", "20005", "20001"]}
    for data in (path, DEMO):  # warm the Parquet cache
        res, _ = _child(
            "import sys; from cucs_analysis.data import dataset; dataset.load_dataset(sys.argv[1])", str(data)
        )
        assert res.returncode == 0, res.stderr
    times = {}
    for data in (path, DEMO, path, DEMO):  # interleaved: the machine's load hits both alike
        res, _ = _child(_TERRITORY, str(data), "20001", *codes[data])
        assert res.returncode == 0, res.stderr
        fresh, cut = map(float, res.stdout.split())
        old = times.get(data, (9e9, 9e9))
        times[data] = (min(old[0], fresh), min(old[1], cut))
    # A fresh process reads the cached tables: CPU time (the wall clock of a loaded CI machine
    # says little); about 1 s measured with the machine loaded, the target is < 1 s wall alone.
    assert times[path][0] < 2.5, times
    # Once the data set is in memory (a forked kernel), cutting a commune out of the national
    # data set costs about what it costs on the demo region, not 10 times more.
    assert times[path][1] < 4 * times[DEMO][1] + 0.05, times
