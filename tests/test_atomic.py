"""Atomic writes (cucs_analysis.pipeline.atomic): a reader sees the old file or the new one, whole."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from cucs_analysis.pipeline import atomic


def leftovers(folder: Path) -> list[str]:
    """Temporary files or folders left next to the targets."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or ".tmp" in p.name)


# --- files --------------------------------------------------------------------------------------


def test_write_text_bytes_and_json(tmp_path):
    assert atomic.write_text(tmp_path / "a" / "page.html", "Évaluation\n") == tmp_path / "a" / "page.html"
    assert (tmp_path / "a" / "page.html").read_bytes() == "Évaluation\n".encode()
    atomic.write_bytes(tmp_path / "a" / "t.csv", b"\xef\xbb\xbfcode;taux\r\n")
    assert (tmp_path / "a" / "t.csv").read_bytes() == b"\xef\xbb\xbfcode;taux\r\n"
    atomic.write_json(tmp_path / "r.json", {"b": [1, 2.5], "a": "été"})
    text = (tmp_path / "r.json").read_text(encoding="utf-8")
    assert text == '{\n  "a": "été",\n  "b": [\n    1,\n    2.5\n  ]\n}\n'  # sorted, UTF-8, indent 2
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "a") == []


def test_new_file_is_readable_like_one_written_by_open(tmp_path):
    # mkstemp creates 0600 files: a web server could not read the site
    (tmp_path / "ref.txt").write_text("x")
    atomic.write_text(tmp_path / "page.html", "x")
    mode = stat.S_IMODE((tmp_path / "page.html").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "ref.txt").stat().st_mode)
    assert mode & stat.S_IROTH


def test_value_json_cannot_hold_leaves_previous_file(tmp_path):
    path = atomic.write_json(tmp_path / "r.json", {"ok": 1})
    for bad in ({"x": object()}, {"x": float("nan")}):
        with pytest.raises((TypeError, ValueError)):
            atomic.write_json(path, bad)
        assert json.loads(path.read_text(encoding="utf-8")) == {"ok": 1}
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("where", "error"),
    [("fsync", OSError("disque plein")), ("replace", OSError("refusé")), ("fsync", KeyboardInterrupt())],
)
def test_failing_write_leaves_previous_file_and_no_temporary(tmp_path, monkeypatch, where, error):
    path = atomic.write_text(tmp_path / "manifest.json", "ancien")

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(atomic.os, where, fail)
    with pytest.raises(type(error)):
        atomic.write_text(path, "nouveau contenu, jamais visible")
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == "ancien"
    assert leftovers(tmp_path) == []


def test_failing_write_of_a_new_file_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("refusé")))
    with pytest.raises(OSError):
        atomic.write_bytes(tmp_path / "nouveau.csv", b"x")
    assert list(tmp_path.iterdir()) == []


def test_temporary_names_are_unique_hidden_and_in_the_same_folder(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(Path(src))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", spy)
    for i in range(20):
        atomic.write_text(tmp_path / "q1.json", str(i))
    assert len(set(seen)) == 20  # never the same temporary name twice
    for tmp in seen:
        assert tmp.parent == tmp_path  # same file system: the rename is atomic
        assert tmp.name.startswith(".q1.json.")  # hidden: read_results skips it


def test_a_temporary_name_already_taken_is_never_shared(tmp_path, monkeypatch):
    names = iter(["aaaa", "aaaa", "bbbb"])
    monkeypatch.setattr(atomic.secrets, "token_hex", lambda n: next(names))
    other = tmp_path / ".q1.json.aaaa.tmp"  # another writer's file, being written
    other.write_text("l'autre écrivain")
    atomic.write_text(tmp_path / "q1.json", "moi")
    assert other.read_text() == "l'autre écrivain"  # neither truncated nor renamed
    assert (tmp_path / "q1.json").read_text() == "moi"
    assert not (tmp_path / ".q1.json.bbbb.tmp").exists()


def test_concurrent_writers_never_mix_their_data(tmp_path):
    path = tmp_path / "manifest.json"
    payloads = [bytes([65 + i]) * 300_000 for i in range(8)]  # big enough to be written in pieces
    errors: list[BaseException] = []
    start = threading.Barrier(len(payloads))

    def writer(data: bytes) -> None:
        try:
            start.wait()
            for _ in range(10):
                atomic.write_bytes(path, data)
                assert path.read_bytes() in payloads  # a reader sees one whole version
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert path.read_bytes() in payloads
    assert leftovers(tmp_path) == []


# --- folders ------------------------------------------------------------------------------------


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("exchange", [True, False])
def test_new_dir_swaps_a_complete_folder_in(tmp_path, monkeypatch, exchange):
    if not exchange:  # the portable two-rename fallback
        monkeypatch.setattr(atomic, "_renameat2_exchange", lambda a, b: False)
    target = tmp_path / "site"
    with atomic.new_dir(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        (tmp / "index.html").write_text("v1")
    assert tree(target) == {"index.html": "v1"}
    with atomic.new_dir(target) as tmp:
        (tmp / "pages").mkdir()
        (tmp / "pages" / "q1.html").write_text("v2")
    assert tree(target) == {"pages/q1.html": "v2"}  # the old tree is gone, not merged
    assert stat.S_IMODE(target.stat().st_mode) == 0o755  # mkdtemp's 0700 would hide it
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_failed_build_leaves_the_old_folder_and_no_temporary(tmp_path):
    target = tmp_path / "site"
    with atomic.new_dir(target) as tmp:
        (tmp / "index.html").write_text("ancien")
    with pytest.raises(RuntimeError, match="panne"), atomic.new_dir(target) as tmp:
        (tmp / "index.html").write_text("à moitié")
        raise RuntimeError("panne simulée")
    assert tree(target) == {"index.html": "ancien"}
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_replace_dir_when_the_target_does_not_exist(tmp_path):
    new = tmp_path / "construit"
    new.mkdir()
    (new / "a.txt").write_text("a")
    atomic.replace_dir(new, tmp_path / "site")
    assert tree(tmp_path / "site") == {"a.txt": "a"} and not new.exists()
