"""Batch runner: real papermill kernels on tiny fixture notebooks, in a temporary project.

The data loader and the site builder are replaced by stubs (tests only) so the runs stay fast
and independent of the demo data; the notebooks, workers, manifest and resume logic are real.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import shutil
import sys
import time
import types
from pathlib import Path

import pytest

from cucs_analysis.pipeline import executors, runner
from cucs_analysis.pipeline.params import ParamError

pytest.importorskip("papermill")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "params").mkdir()
    defaults = (ROOT / "params" / "defaults.yaml").read_text(encoding="utf-8")
    (tmp_path / "params" / "defaults.yaml").write_text(
        defaults.replace("donnees: data/demo", "donnees: data")
    )
    for code in ("01001", "20002"):
        (tmp_path / "params" / f"{code}.yaml").write_text(f'code_commune: "{code}"\n', encoding="utf-8")
    (tmp_path / "data").mkdir()
    shutil.copytree(FIXTURES, tmp_path / "notebooks")

    import pandas as pd

    communes = pd.DataFrame({"code_commune": ["01001", "20002"], "nom": ["Ambérieu-Test", "Bourg-Test"]})
    dataset = types.SimpleNamespace(fingerprint="empreinte-1", tables={"communes": communes})
    fake_load = types.ModuleType("cucs_analysis.data.dataset")
    fake_load.calls = []

    def load_dataset(data_dir):
        fake_load.calls.append(Path(data_dir))
        return dataset

    fake_load.load_dataset = load_dataset
    fake_load.dataset = dataset

    fake_publish = types.ModuleType("cucs_analysis.pipeline.publish")

    def render_page(nb, question_id, code_commune, nom_commune):
        return f"<html lang='fr'><title>{question_id} {nom_commune}</title>{len(nb.cells)} cellules</html>"

    def build_site(out_dir, racine=None):
        site = Path(out_dir) / "site"
        site.mkdir(exist_ok=True)
        (site / "index.html").write_text("index", encoding="utf-8")
        return site

    fake_publish.render_page = render_page
    fake_publish.build_site = build_site
    # Workers are forked from this process, so they see the stubs too.
    monkeypatch.setitem(sys.modules, "cucs_analysis.data.dataset", fake_load)
    monkeypatch.setitem(sys.modules, "cucs_analysis.pipeline.publish", fake_publish)
    return tmp_path


def manifest(project: Path) -> dict:
    return json.loads((project / "out" / "manifest.json").read_text(encoding="utf-8"))


def entry(m: dict, code: str, question: str) -> dict:
    (found,) = [e for e in m["runs"] if e["code_commune"] == code and e["question"] == question]
    return found


@pytest.mark.slow
def test_two_communes_run_resume_and_failure(project, capsys):
    t0 = time.perf_counter()
    summary = runner.run(project, communes=None, questions=["q1", "q2"], jobs=2, resume=False, progress=False)
    elapsed = time.perf_counter() - t0
    out = project / "out"

    # q1 ok for both communes: results, executed notebooks, pages.
    for code, nom in (("01001", "Ambérieu-Test"), ("20002", "Bourg-Test")):
        res = json.loads((out / "results" / code / "q1.json").read_text(encoding="utf-8"))
        assert res["code_commune"] == code and res["parametres"]["code_commune"] == code
        assert (out / "notebooks" / code / "q1_droit_commun.ipynb").is_file()
        assert nom in (out / "pages" / code / "q1.html").read_text(encoding="utf-8")
    assert (out / "results" / "01001").is_dir() and not (out / "results" / "1001").exists()

    # q2 fails for 20002 only; the other runs are fine.
    m = manifest(project)
    assert entry(m, "01001", "q2")["statut"] == "ok"
    failed = entry(m, "20002", "q2")
    assert failed["statut"] == "echec"
    assert "ValueError : indicateurs absents pour la commune 20002" in failed["erreur"]
    assert "if code_commune == '20002':" in failed["erreur"]  # the failing cell's first line
    assert not (out / "pages" / "20002" / "q2.html").exists()
    assert (out / "notebooks" / "20002" / "q2_moyens_associations.ipynb").is_file()  # kept for diagnosis
    assert summary.exit_code == 1 and summary.executes == 4 and summary.echecs == 1
    assert m["jeu_de_donnees"] == "empreinte-1"
    ok = entry(m, "01001", "q1")
    assert set(ok["versions"]) == {"python", "pandas", "papermill", "cucs_analysis"}
    assert ok["duree_s"] > 0 and ok["erreur"] is None and len(ok["hash_entrees"]) == 64
    assert ok["nom_commune"] == "Ambérieu-Test"
    assert (
        "4 carnets exécutés, 1 en échec, 0 inchangé (reprise) — site : out/site/index.html" in summary.message
    )
    print(f"\n[mesure] 4 carnets, 2 processus : {elapsed:.1f} s", file=sys.stderr)

    # Resume with nothing changed: only the failed run is re-executed.
    summary = runner.run(project, None, ["q1", "q2"], jobs=2, resume=True, progress=False)
    assert (summary.executes, summary.inchanges, summary.echecs) == (1, 3, 1)
    m2 = manifest(project)
    assert entry(m2, "01001", "q1")["statut"] == "ignore"
    assert entry(m2, "01001", "q1")["hash_entrees"] == ok["hash_entrees"]

    # One params file changes: only that commune's runs are redone.
    (project / "params" / "01001.yaml").write_text(
        'code_commune: "01001"\nseuil_secret: 17\n', encoding="utf-8"
    )
    before = (out / "results" / "20002" / "q1.json").stat().st_mtime_ns
    summary = runner.run(project, None, ["q1", "q2"], jobs=2, resume=True, progress=False)
    assert summary.executes == 3  # 01001/q1, 01001/q2, and 20002/q2 which failed last time
    m3 = manifest(project)
    assert entry(m3, "20002", "q1")["statut"] == "ignore"
    assert (out / "results" / "20002" / "q1.json").stat().st_mtime_ns == before
    res = json.loads((out / "results" / "01001" / "q1.json").read_text(encoding="utf-8"))
    assert res["chiffres_cles"][0]["valeur"] == 17


def test_bad_params_file_stops_everything_before_any_kernel(project):
    (project / "params" / "20002.yaml").write_text(
        'code_commune: "20002"\nsubstitution:\n  tolerance: beaucoup\n', encoding="utf-8"
    )
    with pytest.raises(ParamError) as exc:
        runner.run(project, None, ["q1"], jobs=1, resume=False, progress=False)
    msg = str(exc.value)
    assert "aucun carnet n'a été exécuté" in msg
    assert "params/20002.yaml, clé « substitution.tolerance » : doit être un nombre entre 0 et 1" in msg
    assert sys.modules["cucs_analysis.data.dataset"].calls == []  # not even the data was loaded
    assert not (project / "out").exists()


def test_unquoted_code_in_params_file_stops_the_run(project):
    (project / "params" / "01001.yaml").write_text("code_commune: 01001\n", encoding="utf-8")
    with pytest.raises(ParamError, match=r"params/01001.yaml, clé « code_commune » : .*guillemets"):
        runner.run(project, None, ["q1"], jobs=1, resume=False, progress=False)


def test_unknown_commune_or_question_refused_in_french(project):
    with pytest.raises(ParamError, match="Communes absentes du jeu de données : 20099"):
        runner.run(project, ["20099"], ["q1"], jobs=1, resume=False, progress=False)
    with pytest.raises(ParamError, match="Question inconnue « q42 »"):
        runner.run(project, None, ["q42"], jobs=1, resume=False, progress=False)
    with pytest.raises(ParamError, match="Code commune invalide « 1001 »"):
        runner.run(project, ["1001"], ["q1"], jobs=1, resume=False, progress=False)


def test_data_error_stops_before_any_run(project):
    class DataError(Exception):
        pass

    def broken(data_dir):
        raise DataError("1 problème dans les données : communes.csv, ligne 3 : code invalide")

    sys.modules["cucs_analysis.data.dataset"].load_dataset = broken
    with pytest.raises(DataError, match="communes.csv, ligne 3"):
        runner.run(project, None, ["q1"], jobs=1, resume=False, progress=False)
    assert not (project / "out").exists()


@pytest.mark.slow
def test_missing_notebooks_are_skipped_and_listed(project):
    summary = runner.run(project, ["01001"], ["q3", "q1"], jobs=1, resume=False, progress=False)
    assert summary.absents == ["q3_geographie_prioritaire.ipynb"]
    assert summary.exit_code == 0 and summary.executes == 1
    assert [(e["code_commune"], e["question"]) for e in manifest(project)["runs"]] == [("01001", "q1")]


def test_plan_orders_syntheses_after_questions(tmp_path):
    for name in ("q1_droit_commun.ipynb", "synthese_commune.ipynb", "synthese_regionale.ipynb"):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    runs, missing = runner.plan_runs(
        tmp_path, ["20001", "01001"], ["synthese_regionale", "synthese", "q1", "q2"]
    )
    assert [(c, q.id) for c, q in runs] == [
        ("20001", "q1"),
        ("01001", "q1"),
        ("20001", "synthese"),
        ("01001", "synthese"),
        ("region", "synthese_regionale"),
    ]
    assert missing == ["q2_moyens_associations.ipynb"]


def test_input_hash_changes_with_each_input():
    base = runner.input_hash(b"nb", {"a": 1}, "fp", "0.1")
    assert base == runner.input_hash(b"nb", {"a": 1}, "fp", "0.1")
    others = {
        runner.input_hash(b"nb2", {"a": 1}, "fp", "0.1"),
        runner.input_hash(b"nb", {"a": 2}, "fp", "0.1"),
        runner.input_hash(b"nb", {"a": 1}, "fp2", "0.1"),
        runner.input_hash(b"nb", {"a": 1}, "fp", "0.2"),
        runner.input_hash(b"nb", {"a": 1}, "fp", "0.1", "dep"),
    }
    assert base not in others and len(others) == 5


def test_summarize_error_of_a_papermill_failure():
    from papermill.exceptions import PapermillExecutionError

    exc = PapermillExecutionError(
        cell_index=2,
        exec_count=3,
        source="ctx = demarrer('q1', code_commune)\nx = 1",
        ename="NotebookError",
        evalue="La commune « 20099 » est absente",
        traceback=[],
    )
    assert runner.summarize_error(exc) == (
        "NotebookError : La commune « 20099 » est absente (cellule 3 : « ctx = demarrer('q1', code_commune) »)"
    )
    assert runner.summarize_error(KeyError("x")) == "KeyError : 'x'"


def test_dask_scheduler_without_dask_is_a_french_error(project, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask were not installed
    with pytest.raises(ParamError, match="dask.distributed"):
        runner.run(
            project, ["01001"], ["q1"], jobs=1, resume=False, progress=False, scheduler="tcp://127.0.0.1:8786"
        )
    assert not (project / "out" / "manifest.json").exists()


# --- executors: worker death, Dask --------------------------------------------------------------


def fake_execute_run(task: dict) -> dict:
    """Stands for `runner.execute_run` (module level: the pool pickles it by name)."""
    if task["code_commune"] == "20002" and task["question"] == "q1":
        os._exit(1)  # the worker process dies (out of memory, segfault…)
    return {**runner._failed_record(task, ""), "statut": "ok", "erreur": None}


def test_worker_that_dies_is_a_failed_run_and_the_others_go_on(project, monkeypatch):
    monkeypatch.setattr(runner, "execute_run", fake_execute_run)
    (project / "notebooks" / "synthese_commune.ipynb").write_text("{}", encoding="utf-8")
    summary = runner.run(project, None, ["q1", "synthese"], jobs=1, resume=False, progress=False)
    m = manifest(project)
    assert entry(m, "01001", "q1")["statut"] == "ok"
    died = entry(m, "20002", "q1")
    assert died["statut"] == "echec" and "le processus d'exécution s'est arrêté" in died["erreur"]
    # one process per run: the death of one breaks nothing, the next phase runs normally
    assert {entry(m, c, "synthese")["statut"] for c in ("01001", "20002")} == {"ok"}
    assert summary.exit_code == 1 and summary.executes == 4 and summary.echecs == 1


def test_process_executor_is_a_concurrent_futures_executor():
    calls = []
    with executors.open_executor("processes", 2, initializer=lambda: calls.append(1)) as ex:
        assert isinstance(ex, cf.Executor)
        futures = [ex.submit(pow, 2, i) for i in range(5)]
        assert sorted(f.result() for f in cf.as_completed(futures)) == [1, 2, 4, 8, 16]
    assert calls == [1]  # run once here before forking (workers inherit what it imported)


def test_a_kernel_that_loses_the_race_for_its_port_is_started_again(project, monkeypatch):
    """« Kernel died before replying to kernel_info » (another kernel took its TCP port): the
    run starts a new kernel instead of failing; a kernel that never starts still fails."""
    import papermill

    real = papermill.execute_notebook
    flag = project / "premier-essai"
    flag.write_text("", encoding="utf-8")

    def flaky(*args, **kwargs):  # in the forked run process: the first start fails
        if flag.exists():
            flag.unlink()
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    summary = runner.run(project, ["01001"], ["q1"], jobs=1, resume=False, progress=False)
    assert summary.exit_code == 0, summary.message
    assert not flag.exists()  # the failed start did happen
    assert entry(manifest(project), "01001", "q1")["statut"] == "ok"

    def never(*args, **kwargs):
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(papermill, "execute_notebook", never)
    summary = runner.run(project, ["01001"], ["q1"], jobs=1, resume=False, progress=False)
    assert summary.exit_code == 1
    assert entry(manifest(project), "01001", "q1")["statut"] == "echec"
