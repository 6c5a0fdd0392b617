"""The results contract (write/read JSON) and the notebook context that writes it."""

from __future__ import annotations

import json
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cucs_analysis.pipeline.results import read_result, read_results, to_jsonable, write_results

ROOT = Path(__file__).resolve().parents[1]
CHIFFRE = {"id": "part", "libelle": "Part du droit commun", "valeur": 0.5, "unite": "%"}


def q1(dossier: Path, code: str = "20001", **extra) -> Path:
    cles = {"substitution": [], "part_droit_commun": [], **extra}
    return write_results(dossier, "q1", code, {"seuil_secret": 11}, ["Un constat."], [], [CHIFFRE], **cles)


def test_written_file_is_sorted_utf8_and_complete(tmp_path):
    path = q1(
        tmp_path,
        substitution=[{"code_territoire": "20001", "domaine": "éducation", "type": "complementarite"}],
    )
    assert path == tmp_path / "20001" / "q1.json"
    text = path.read_text(encoding="utf-8")
    assert "éducation" in text  # ensure_ascii=False
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert data["question"] == "q1" and data["code_commune"] == "20001"
    assert data["parametres"] == {"seuil_secret": 11} and data["chiffres_cles"] == [CHIFFRE]
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary left


def test_numpy_and_pandas_values_become_json():
    df = pd.DataFrame(
        {
            "annee": np.array([2009, 2010], dtype="int64"),
            "part": [0.25, np.nan],
            "ok": np.array([True, False]),
            "date": pd.to_datetime(["2009-03-01", None]),
            "code": pd.array(["01001", None], dtype="str"),
        }
    )
    got = to_jsonable({"t": df, "n": np.int32(3), "f": np.float32(0.5), "inf": float("inf"), "na": pd.NA})
    assert got == {
        "t": [
            {"annee": 2009, "part": 0.25, "ok": True, "date": "2009-03-01T00:00:00", "code": "01001"},
            {"annee": 2010, "part": None, "ok": False, "date": None, "code": None},
        ],
        "n": 3,
        "f": 0.5,
        "inf": None,
        "na": None,
    }
    assert type(got["t"][0]["annee"]) is int and type(got["t"][0]["ok"]) is bool
    json.dumps(got, allow_nan=False)


def test_unconvertible_value_is_refused():
    with pytest.raises(TypeError, match="non convertible"):
        to_jsonable({"x": object()})


def test_missing_required_key_is_named(tmp_path):
    with pytest.raises(ValueError, match="part_droit_commun"):
        write_results(tmp_path, "q1", "20001", {}, [], [], [], substitution=[])
    assert not (tmp_path / "20001").exists()


def test_chiffre_cle_without_unit_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"chiffres_cles\[0\].*unite"):
        write_results(
            tmp_path,
            "q1",
            "20001",
            {},
            [],
            [],
            [{"id": "x", "libelle": "X", "valeur": 1}],
            substitution=[],
            part_droit_commun=[],
        )


def test_unknown_question_and_numeric_code_are_refused(tmp_path):
    with pytest.raises(KeyError, match="Question inconnue"):
        write_results(tmp_path, "q42", "20001", {}, [], [], [])
    with pytest.raises(ValueError, match="texte"):
        write_results(tmp_path, "synthese", 1001, {}, [], [], [])  # type: ignore[arg-type]


def test_read_results_filters_and_keeps_codes_as_strings(tmp_path):
    q1(tmp_path, "01001")
    q1(tmp_path, "20002")
    write_results(tmp_path, "q2", "01001", {}, [], [], [], did=[], ecarts=[])
    (tmp_path / "01001" / ".q1.json.123.tmp").write_text("{", encoding="utf-8")  # write in progress
    assert [(r["code_commune"], r["question"]) for r in read_results(tmp_path)] == [
        ("01001", "q1"),
        ("01001", "q2"),
        ("20002", "q1"),
    ]
    assert [r["question"] for r in read_results(tmp_path, code_commune="01001")] == ["q1", "q2"]
    assert [r["code_commune"] for r in read_results(tmp_path, question="q1")] == ["01001", "20002"]
    assert read_result(tmp_path, "20002", "q2") is None
    assert read_results(tmp_path / "absent") == []


# --- notebook context ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_notebook_state(monkeypatch):
    """Each test starts with the display showing and no active context (module state)."""
    from cucs_analysis.pipeline import notebook
    from cucs_analysis.present import display

    monkeypatch.setattr(display, "_motif_arret", None)
    monkeypatch.setattr(notebook, "_actif", None)


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "params").mkdir()
    shutil.copy(ROOT / "params" / "defaults.yaml", tmp_path / "params" / "defaults.yaml")
    (tmp_path / "params" / "01001.yaml").write_text(
        'code_commune: "01001"\nseuil_secret: 15\n', encoding="utf-8"
    )
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")

    from cucs_analysis.data.errors import DataError

    fake = types.ModuleType("cucs_analysis.data.dataset")
    fake.calls = []

    def load_territory(data_dir, code_commune):
        fake.calls.append((Path(data_dir), code_commune))
        if code_commune != "01001":
            raise DataError(f"La commune « {code_commune} » est absente de la table communes.")
        return types.SimpleNamespace(code_commune=code_commune, commune={"nom": "Ambérieu-Test"})

    fake.load_territory = load_territory
    fake.load_dataset = lambda data_dir: types.SimpleNamespace()  # no tables: nothing to check params against
    monkeypatch.setitem(sys.modules, "cucs_analysis.data.dataset", fake)
    return tmp_path


def test_demarrer_in_jupyterlab_reads_params_and_data(project):
    from cucs_analysis.pipeline.notebook import demarrer

    ctx = demarrer("q1", "01001")
    assert ctx.params.seuil_secret == 15 and ctx.nom_commune == "Ambérieu-Test"
    assert sys.modules["cucs_analysis.data.dataset"].calls == [(project.resolve() / "data" / "demo", "01001")]
    # an interactive run writes to the scratch folder, which neither the runner nor the site reads
    assert ctx.dossier_resultats == project.resolve() / "out" / "brouillon" / "results" and ctx.brouillon
    path = ctx.ecrire_resultats(["Constat."], ["Réserve."], [CHIFFRE], substitution=[], part_droit_commun=[])
    assert ctx.chemin_resultats == path == ctx.dossier_resultats / "01001" / "q1.json"
    assert repr(path).startswith("Résultats enregistrés dans le brouillon : ")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["parametres"]["seuil_secret"] == 15 and data["nom_commune"] == "Ambérieu-Test"


def test_demarrer_with_injected_params_validates_them(project, tmp_path):
    from cucs_analysis.pipeline.notebook import NotebookError, demarrer
    from cucs_analysis.pipeline.params import load_params

    injected = load_params("01001", project).as_dict() | {"seuil_secret": 13}
    ctx = demarrer("q2", "01001", injected, str(tmp_path / "res"))
    assert ctx.params.seuil_secret == 13 and ctx.dossier_resultats == tmp_path / "res"
    assert not ctx.brouillon
    # without a results folder, injected parameters (the runner's way) still mean out/results
    assert demarrer("q2", "01001", injected).dossier_resultats == project.resolve() / "out" / "results"
    with pytest.raises(NotebookError, match="clé « did.seuil_intensite » : doit être un nombre positif"):
        demarrer("q2", "01001", injected | {"did": injected["did"] | {"seuil_intensite": -1}})


def test_demarrer_errors_are_short_french_messages(project):
    from cucs_analysis.pipeline.notebook import NotebookError, demarrer

    with pytest.raises(NotebookError) as exc:
        demarrer("q1", "20099")
    assert str(exc.value) == "La commune « 20099 » est absente de la table communes."
    assert exc.value.__cause__ is None and exc.value.__suppress_context__
    assert exc.value._render_traceback_() == [
        "Erreur : La commune « 20099 » est absente de la table communes."
    ]
    with pytest.raises(NotebookError, match="Question inconnue"):
        demarrer("q42", "01001")
    (project / "params" / "01001.yaml").write_text("code_commune: 01001\n", encoding="utf-8")
    with pytest.raises(NotebookError, match="guillemets"):
        demarrer("q1", "01001")


def test_ecrire_resultats_missing_key_is_a_notebook_error(project):
    from cucs_analysis.pipeline.notebook import NotebookError, demarrer

    ctx = demarrer("q1", "01001")
    with pytest.raises(NotebookError, match="part_droit_commun"):
        ctx.ecrire_resultats([], [], [], substitution=[])
    assert ctx.chemin_resultats is None


def test_ecrire_resultats_takes_a_report(project):
    from cucs_analysis.pipeline.notebook import demarrer

    ctx = demarrer("q1", "01001")
    rapport = types.SimpleNamespace(
        constats=["Constat."],
        reserves=["Réserve."],
        chiffres_cles=[CHIFFRE],
        resultats=lambda: {"substitution": [{"domaine": "éducation"}], "part_droit_commun": []},
    )
    path = ctx.ecrire_resultats(rapport, part_droit_commun=[{"annee": 2010}])  # explicit keys win
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["constats"] == ["Constat."] and data["reserves"] == ["Réserve."]
    assert data["chiffres_cles"] == [CHIFFRE] and data["substitution"] == [{"domaine": "éducation"}]
    assert data["part_droit_commun"] == [{"annee": 2010}] and data["nom_commune"] == "Ambérieu-Test"


def test_demarrer_regional_run_has_no_territory(project):
    from cucs_analysis.pipeline.notebook import demarrer

    ctx = demarrer("synthese_regionale", "region")
    assert ctx.territoire is None and ctx.nom_commune == "Région"
    assert sys.modules["cucs_analysis.data.dataset"].calls == []
