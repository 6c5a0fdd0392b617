"""The notebook context an analyst in JupyterLab can trust: trial thresholds (`seuils`), the
scratch results folder, the papermill advice, the « Paramètres utilisés » table, and the stop
of the notebook's story after a failed setup, down to a real kernel kept across two runs."""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import types
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from cucs_analysis.pipeline import notebook
from cucs_analysis.pipeline.notebook import NotebookError, demarrer
from cucs_analysis.pipeline.params import load_params
from cucs_analysis.present import display
from cucs_analysis.reports import questions

ROOT = Path(__file__).resolve().parents[1]
CHIFFRE = {"id": "part", "libelle": "Part du droit commun", "valeur": 0.5, "unite": "%"}
Q1_CLES = {"substitution": [], "part_droit_commun": []}


@pytest.fixture(autouse=True)
def _fresh_notebook_state(monkeypatch):
    """Each test starts with the display showing and no active context (module state)."""
    monkeypatch.setattr(display, "_motif_arret", None)
    monkeypatch.setattr(notebook, "_actif", None)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project root with the real defaults, a commune file, and a fake data layer that knows
    one commune (01001) and refuses the others."""
    (tmp_path / "params").mkdir()
    shutil.copy(ROOT / "params" / "defaults.yaml", tmp_path / "params" / "defaults.yaml")
    (tmp_path / "params" / "01001.yaml").write_text(
        'code_commune: "01001"\nseuil_secret: 15\nsubstitution:\n  duree_max_annees: 4\n', encoding="utf-8"
    )
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")

    from cucs_analysis.data.errors import DataError

    fake = types.ModuleType("cucs_analysis.data.dataset")

    def load_territory(data_dir, code_commune):
        if code_commune != "01001":
            raise DataError(f"La commune « {code_commune} » est absente de la table communes.")
        return types.SimpleNamespace(code_commune=code_commune, commune={"nom": "Ambérieu-Test"})

    fake.load_territory = load_territory
    fake.load_dataset = lambda data_dir: types.SimpleNamespace()  # no tables: nothing to check params against
    monkeypatch.setitem(sys.modules, "cucs_analysis.data.dataset", fake)
    return tmp_path.resolve()


def _vue_dict(ctx) -> dict[str, tuple[str, str]]:
    vue = ctx.vue_parametres()
    return {p: (v, s) for p, v, s in vue.itertuples(index=False, name=None)}


# --- seuils: partial trial thresholds -------------------------------------------------------------


def test_partial_seuils_are_merged_and_shown_with_their_source(project):
    ctx = demarrer("q1", "01001", seuils={"substitution": {"tolerance": 0.05}})
    assert ctx.params.substitution.tolerance == 0.05
    assert ctx.params.substitution.duree_max_annees == 4  # the commune file still applies
    assert ctx.params.substitution.annees_reference == [2005, 2006]  # and the defaults
    rows = _vue_dict(ctx)
    assert rows["substitution.tolerance"] == ("0,05", "essai dans le carnet")
    assert rows["substitution.duree_max_annees"] == ("4", "params/01001.yaml")
    assert rows["substitution.annees_reference"] == ("2005, 2006", "params/defaults.yaml")
    assert rows["seuil_secret"] == ("15", "params/01001.yaml")
    assert rows["periode.debut"] == ("2005", "params/defaults.yaml")
    assert "did.seuil_intensite" not in rows  # q1 does not read the DiD thresholds
    vue = ctx.vue_parametres()
    assert list(vue.columns) == ["Paramètre", "Valeur", "Source"]
    html = display.tableau(vue, legende="Paramètres utilisés")._repr_html_()
    assert "<caption>Paramètres utilisés</caption>" in html and "essai dans le carnet" in html


def test_seuils_errors_are_french_and_name_the_key(project):
    with pytest.raises(NotebookError) as exc:
        demarrer("q1", "01001", seuils={"substitution": {"tolerance": "beaucoup"}})
    assert str(exc.value).startswith("seuils › substitution › tolerance : doit être un nombre")
    assert exc.value.__cause__ is None
    with pytest.raises(NotebookError, match="vouliez-vous dire « tolerance »"):
        demarrer("q1", "01001", seuils={"substitution": {"tolerence": 0.05}})


def test_seuils_are_refused_under_the_runner(project, tmp_path):
    injected = load_params("01001", project).as_dict()
    ctx = demarrer("q1", "01001", injected, str(tmp_path / "res"), {})  # empty: fine
    assert ctx.params.substitution.tolerance == 0.1
    with pytest.raises(NotebookError, match="seuils : les essais de seuils sont réservés à JupyterLab"):
        demarrer("q1", "01001", injected, str(tmp_path / "res"), {"substitution": {"tolerance": 0.05}})


def test_runner_parameters_are_shown_with_the_file_they_come_from(project, tmp_path):
    injected = load_params("01001", project).as_dict()
    injected["reprise"] = {**injected["reprise"], "seuil_specifique": 0.9}
    rows = _vue_dict(demarrer("q1", "01001", injected, str(tmp_path / "res")))
    assert rows["seuil_secret"] == ("15", "params/01001.yaml")
    assert rows["substitution.tolerance"] == ("0,1", "params/defaults.yaml")
    assert rows["reprise.seuil_specifique"] == ("0,9", "paramètres fournis par « cucs run »")


@pytest.mark.parametrize("question", ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"])
def test_every_listed_parameter_exists(question):
    """sections_parametres names real sections or leaves of params/defaults.yaml."""
    info = questions.get(question)
    assert info.sections_parametres, question
    data = load_params("20001", ROOT).as_dict()
    for entry in info.sections_parametres:
        node = data
        for part in entry.split("."):
            assert isinstance(node, dict) and part in node, f"{question} : {entry}"
            node = node[part]


# --- where results go -------------------------------------------------------------------------------


def test_interactive_results_go_to_the_scratch_folder(project, tmp_path):
    ctx = demarrer("q1", "01001")
    assert ctx.brouillon and ctx.dossier_resultats == project / "out" / "brouillon" / "results"
    path = ctx.ecrire_resultats(["Constat."], [], [CHIFFRE], **Q1_CLES)
    assert path == project / "out" / "brouillon" / "results" / "01001" / "q1.json"
    assert not (project / "out" / "results").exists()
    assert "ni « cucs run » ni le site" in repr(path)
    # an explicit folder (what « cucs run » passes) is used as is
    ctx = demarrer("q1", "01001", dossier_resultats=str(tmp_path / "res"))
    assert not ctx.brouillon and ctx.dossier_resultats == tmp_path / "res"


def test_scratch_synthesis_reads_the_scratch_folder_then_the_project_results(project):
    from cucs_analysis.pipeline.results import write_results

    official = project / "out" / "results"
    write_results(official, "q1", "01001", {}, ["Officiel q1."], [], [CHIFFRE], **Q1_CLES)
    write_results(
        official, "q4", "01001", {}, ["Officiel q4."], [], [], instances=1, cofinancement=1, mobilisation=1
    )
    ctx = demarrer("q1", "01001")
    ctx.ecrire_resultats(["Brouillon q1."], [], [CHIFFRE], **Q1_CLES)
    constats = {r["question"]: r["constats"] for r in ctx.lire_resultats("01001")}
    assert constats == {"q1": ["Brouillon q1."], "q4": ["Officiel q4."]}


def test_publication_reads_only_out_results():
    """The site is built from out/results (and pages/): the scratch folder out/brouillon is
    never one of its inputs."""
    source = (ROOT / "cucs_analysis" / "pipeline" / "publish.py").read_text(encoding="utf-8")
    assert "brouillon" not in source
    assert '(out_dir / "results").glob("*/*.json")' in source


# --- papermill -p passes an int --------------------------------------------------------------------


def test_int_code_commune_says_to_use_papermill_r(project):
    with pytest.raises(NotebookError) as exc:
        demarrer("q3", 20008)  # type: ignore[arg-type]
    assert "doit être un texte" in str(exc.value)
    assert "passez-le comme texte avec papermill -r code_commune 20008" in str(exc.value)
    assert display.motif_arret() == str(exc.value)


# --- the stop of the notebook's story ------------------------------------------------------------------


def _helpers():
    vue = display.vue(pd.DataFrame({"a": [1]}), {"a": ("A", "nombre")}, vide="rien")
    return {
        "tableau": lambda: display.tableau(vue, legende="Ancien tableau"),
        "liste": lambda: display.liste(["Les Tilleuls"], "Titre"),
        "en_bref": lambda: display.en_bref(["Les Tilleuls"], []),
        "paragraphe": lambda: display.paragraphe("Les Tilleuls"),
        "titre": lambda: display.titre("Les Tilleuls"),
        "titre_commune": lambda: display.titre_commune("Valbrune", "20001", "Groupe 1"),
        "non_disponible": lambda: display.non_disponible("quartiers"),
        "figure_absente": lambda: display.figure(None, "quartiers"),
    }


STOP = "Le carnet n'a pas démarré : la commune « 99999 » est absente. Rien n'est affiché."
STOP_TABLE = (
    "Le carnet n'a pas démarré : la commune « 99999 » est absente de la table communes. Rien n'est affiché."
)


@pytest.mark.parametrize("helper", list(_helpers()))
def test_every_display_helper_shows_only_the_stop_line(helper):
    shown = _helpers()[helper]()
    assert "Le carnet n'a pas démarré" not in shown._repr_html_()
    display.arreter("La commune « 99999 » est absente.")
    stopped = _helpers()[helper]()
    assert repr(stopped) == STOP
    assert stopped._repr_html_() == f'<p class="cucs-arret"><strong>{html.escape(STOP)}</strong></p>'
    display.reprendre()
    assert _helpers()[helper]()._repr_html_() == shown._repr_html_()


def test_a_stopped_figure_is_closed_unseen():
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    display.arreter("motif")
    out = display.figure(fig, "une figure")
    assert repr(out) == "Le carnet n'a pas démarré : motif. Rien n'est affiché."
    assert fig.number not in plt.get_fignums()  # the inline backend will not show it either


def test_stop_line_is_one_line():
    phrase = display.phrase_arret("params/20001.yaml, clé « a » : x\nparams/20001.yaml, clé « b » : y\n")
    assert phrase == (
        "Le carnet n'a pas démarré : params/20001.yaml, clé « a » : x ; params/20001.yaml, clé « b » : y. "
        "Rien n'est affiché."
    )
    assert (
        display.phrase_arret("QPV absent.") == "Le carnet n'a pas démarré : QPV absent. Rien n'est affiché."
    )


def test_failed_setup_stops_display_and_stale_context_does_not_write(project):
    ctx = demarrer("q1", "01001")
    assert ctx.actif and display.motif_arret() is None
    with pytest.raises(NotebookError):
        demarrer("q1", "99999")
    assert not ctx.actif and notebook.contexte_actif() is None
    assert repr(display.paragraphe("Ambérieu-Test")) == STOP_TABLE
    with pytest.raises(NotebookError) as exc:
        ctx.ecrire_resultats(["Constat."], [], [CHIFFRE], **Q1_CLES)
    assert str(exc.value).startswith(display.phrase_arret(display.motif_arret()))
    assert "Aucun résultat n'est enregistré" in str(exc.value)
    assert not (project / "out").exists()
    # a good setup shows again and its context writes
    ctx2 = demarrer("q1", "01001")
    assert display.motif_arret() is None and ctx2.actif
    assert ctx2.ecrire_resultats(["Constat."], [], [CHIFFRE], **Q1_CLES).is_file()
    with pytest.raises(NotebookError, match="n'est plus celui du carnet"):
        ctx.ecrire_resultats(["Constat."], [], [CHIFFRE], **Q1_CLES)


def test_unexpected_error_in_setup_stops_too(project, monkeypatch):
    def panne(*a, **k):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(sys.modules["cucs_analysis.data.dataset"], "load_territory", panne)
    with pytest.raises(RuntimeError):
        demarrer("q1", "01001")
    assert display.motif_arret() == "erreur inattendue (RuntimeError : disque plein)"


# --- a real kernel kept across runs, as JupyterLab keeps it ------------------------------------------------


def _temporary_project(tmp_path: Path, notebooks: list[str]) -> Path:
    """A copy of the project root (notebooks, params, data as a link): nothing under the real
    out/ is touched."""
    proj = tmp_path / "projet"
    (proj / "notebooks").mkdir(parents=True)
    for name in notebooks:
        shutil.copy(ROOT / "notebooks" / name, proj / "notebooks" / name)
    shutil.copytree(ROOT / "params", proj / "params")
    (proj / "data").symlink_to(ROOT / "data", target_is_directory=True)
    return proj


class Kernel:
    """One kernel, started in the notebooks folder, that runs cells one by one (as a reader
    does with Shift+Enter, going on after an error) and keeps their outputs."""

    def __init__(self, cwd: Path):
        from jupyter_client.manager import KernelManager

        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(cwd=str(cwd), extra_arguments=["--IPKernelApp.log_level=ERROR"])
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)

    def run(self, code: str) -> tuple[str, list[dict]]:
        outputs: list[dict] = []

        def hook(msg):
            if msg["msg_type"] in ("stream", "display_data", "execute_result", "error"):
                outputs.append({"type": msg["msg_type"], **msg["content"]})

        reply = self.kc.execute_interactive(code, output_hook=hook, timeout=600, stop_on_error=False)
        return reply["content"]["status"], outputs

    def run_notebook(self, path: Path, **parameters) -> list[tuple[str, str, list[dict]]]:
        """Every code cell in order; the parameters appended to the `parameters` cell."""
        nb = json.loads(path.read_text(encoding="utf-8"))
        done = []
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                source += "\n" + "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
            status, outputs = self.run(source)
            done.append((source, status, outputs))
        return done

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def _texts(outputs: list[dict]) -> str:
    parts = []
    for o in outputs:
        parts += [str(v) for v in o.get("data", {}).values()]
        parts += [o.get("text", ""), o.get("evalue", "")]
    return "\n".join(parts)


def _fingerprint(path: Path) -> tuple[int, bytes]:
    return path.stat().st_mtime_ns, path.read_bytes()


@pytest.fixture
def kernel_env(monkeypatch):
    # the kernel inherits the environment: keep the parsed-table cache where tests keep it
    monkeypatch.setenv("CUCS_CACHE_DIR", os.environ.get("CUCS_CACHE_DIR", str(ROOT / ".cache" / "cucs")))


def _code_cell(source: str, *tags: str) -> dict:
    return {"cell_type": "code", "metadata": {"tags": list(tags)} if tags else {}, "source": source}


def _notebook(*cells: dict) -> str:
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return json.dumps(
        {"cells": list(cells), "metadata": {"kernelspec": kernelspec}, "nbformat": 4, "nbformat_minor": 5}
    )


PARAMETRES = 'code_commune = "20001"\nseuils = {}\nparametres = None\ndossier_resultats = None\n'

#: The q3 notebook's idiom on the commune's quartiers only (names in a list, a table, a figure):
#: used when the real q3 notebook fails for reasons of its own (e.g. while being converted).
Q3_IDIOME = _notebook(
    _code_cell(PARAMETRES, "parameters"),
    _code_cell(
        "import types\n"
        "import matplotlib.pyplot as plt\n"
        "from cucs_analysis.pipeline.notebook import demarrer\n"
        "from cucs_analysis.present import display as d\n"
        "from cucs_analysis.present import plots\n"
        'ctx = demarrer("q3", code_commune, parametres, dossier_resultats, seuils)\n'
        "q = ctx.territoire.quartiers\n"
        "r = types.SimpleNamespace(\n"
        "    quartiers=q,\n"
        '    constats=["Quartiers : " + ", ".join(q["nom"]) + "."],\n'
        "    reserves=[],\n"
        "    chiffres_cles=[],\n"
        '    resultats=lambda: {"eligibilite": list(q["code_quartier"]), "seuil_qpv2014": None, "typologie": []},\n'
        ")\n"
        "d.titre_commune(ctx.nom_commune, ctx.code_commune, ctx.infos.groupe)"
    ),
    _code_cell("d.en_bref(r.constats, r.reserves)"),
    _code_cell(
        'vue = d.vue(r.quartiers, {"nom": ("Quartier", "texte"), "code_quartier": ("Code", "texte")}, vide="aucun quartier")\n'
        'd.tableau(vue, legende="Quartiers de la commune")'
    ),
    _code_cell(
        "fig, ax = plt.subplots()\n"
        'ax.barh(list(r.quartiers["nom"]), range(1, len(r.quartiers) + 1))\n'
        'plots.set_alt(fig, "Barres : " + ", ".join(r.quartiers["nom"]))\n'
        'd.figure(fig, "quartiers de la commune")'
    ),
    _code_cell('d.liste(r.quartiers["nom"], "Quartiers")'),
    _code_cell('d.tableau(ctx.vue_parametres(), legende="Paramètres utilisés")'),
    _code_cell("ctx.ecrire_resultats(r)"),
)


def _failures(run) -> list[tuple[str, str]]:
    return [(src[:60], _texts(out)[:300]) for src, status, out in run if status != "ok"]


@pytest.mark.slow
def test_kernel_kept_across_runs_shows_nothing_of_the_previous_commune(tmp_path, kernel_env):
    nb_name = "q3_geographie_prioritaire.ipynb"
    proj = _temporary_project(tmp_path, [nb_name])
    path = proj / "notebooks" / nb_name
    quartiers = pd.read_csv(ROOT / "data" / "demo" / "quartiers.csv", dtype=str)
    noms = list(quartiers.loc[quartiers["code_commune"] == "20001", "nom"])
    commune = pd.read_csv(ROOT / "data" / "demo" / "communes.csv", dtype=str).set_index("code_commune")
    nom_commune = commune.loc["20001", "nom"]
    results = proj / "out" / "brouillon" / "results"
    kernel = Kernel(proj / "notebooks")
    try:
        first = kernel.run_notebook(path, code_commune="20001")
        if _failures(first):
            # the real notebook fails on its own (a conversion in progress): same idiom, small notebook
            warnings.warn(
                f"{nb_name} échoue ({_failures(first)[0]}) : carnet de repli au même idiome", stacklevel=1
            )
            shutil.rmtree(proj / "out", ignore_errors=True)
            path = proj / "notebooks" / "q3_idiome.ipynb"
            path.write_text(Q3_IDIOME, encoding="utf-8")
            first = kernel.run_notebook(path, code_commune="20001")
        assert not _failures(first), _failures(first)
        written = results / "20001" / "q3.json"
        assert written.is_file()
        before = _fingerprint(written)
        first_text = "\n".join(_texts(out) for _, _, out in first)
        # the first run shows the quartiers, in a table and a figure (so their absence below means something)
        assert any(nom in first_text for nom in noms) and "<table" in first_text and "<img" in first_text

        second = kernel.run_notebook(path, code_commune="99999")
    finally:
        kernel.close()

    statuses = [status for _, status, _ in second]
    setup = next(i for i, (src, _, _) in enumerate(second) if "demarrer(" in src)
    assert statuses[setup] == "error"
    assert second[setup][2][-1]["ename"] == "NotebookError"
    assert "99999" in second[setup][2][-1]["evalue"]
    everything = "\n".join(_texts(out) for _, _, out in second)
    for nom in [*noms, nom_commune]:
        assert nom not in everything, nom
    assert "<table" not in everything and "<img" not in everything
    assert not any("image/png" in o.get("data", {}) for _, _, out in second for o in out)
    # every display after the setup is the one stop line
    stop = display.phrase_arret(second[setup][2][-1]["evalue"])
    shown = 0
    for src, _status, outputs in second[setup + 1 :]:
        for o in outputs:
            if o["type"] in ("display_data", "execute_result"):
                assert o["data"]["text/plain"] == stop, src[:60]
                shown += 1
    assert shown >= 4
    # the stale context refused to write: the first results file is untouched, none for 99999
    writer = next(i for i, (src, _, _) in enumerate(second) if "ecrire_resultats" in src)
    assert statuses[writer] == "error"
    assert second[writer][2][-1]["evalue"].startswith(stop)
    assert _fingerprint(written) == before
    assert not list(proj.rglob("*99999*"))


#: demarrer succeeds, then the report's build fails in the same cell for commune 20002.
PANNE_APRES_DEMARRER = _notebook(
    _code_cell(PARAMETRES, "parameters"),
    _code_cell(
        "from cucs_analysis.pipeline.notebook import demarrer\n"
        "from cucs_analysis.present import display as d\n"
        'ctx = demarrer("q1", code_commune, parametres, dossier_resultats, seuils)\n'
        'if code_commune == "20002":\n'
        '    raise RuntimeError("panne du rapport")\n'
        'r = {"nom": ctx.nom_commune}\n'
        "d.titre_commune(ctx.nom_commune, ctx.code_commune, ctx.infos.groupe)"
    ),
    _code_cell('d.paragraphe(r["nom"])'),
    _code_cell('d.tableau(ctx.vue_parametres(), legende="Paramètres utilisés")'),
    _code_cell('ctx.ecrire_resultats(["Constat."], [], [], substitution=[], part_droit_commun=[])'),
)


@pytest.mark.slow
def test_setup_cell_failing_after_demarrer_stops_the_story_too(tmp_path, kernel_env):
    """demarrer succeeded but the report's build failed in the same cell: `r` is still the
    previous commune's, so the notebook is stopped all the same."""
    proj = _temporary_project(tmp_path, [])
    path = proj / "notebooks" / "essai.ipynb"
    path.write_text(PANNE_APRES_DEMARRER, encoding="utf-8")
    kernel = Kernel(proj / "notebooks")
    try:
        first = kernel.run_notebook(path, code_commune="20001", seuils={"substitution": {"tolerance": 0.05}})
        second = kernel.run_notebook(path, code_commune="20002")
    finally:
        kernel.close()
    assert [s for _, s, _ in first] == ["ok"] * 5
    first_text = "\n".join(_texts(out) for _, _, out in first)
    assert "Valbrune" in first_text and "essai dans le carnet" in first_text and "0,05" in first_text
    assert "brouillon" in _texts(first[-1][2])
    assert [s for _, s, _ in second] == ["ok", "error", "ok", "ok", "error"]
    stop = "Le carnet n'a pas démarré : la cellule de démarrage a échoué (RuntimeError : panne du rapport)."
    assert stop in _texts(second[2][2]) and stop in _texts(second[3][2])
    assert "Valbrune" not in _texts(second[2][2]) and "<table" not in _texts(second[3][2])
    assert second[4][2][-1]["evalue"].startswith(stop)
    assert not (proj / "out" / "brouillon" / "results" / "20002").exists()


@pytest.mark.slow
def test_papermill_p_code_commune_says_to_use_r(tmp_path, kernel_env):
    proj = _temporary_project(tmp_path, ["q3_geographie_prioritaire.ipynb"])
    cmd = [
        sys.executable,
        "-m",
        "papermill",
        "notebooks/q3_geographie_prioritaire.ipynb",
        str(tmp_path / "sortie.ipynb"),
    ]
    done = subprocess.run(
        [*cmd, "-p", "code_commune", "20008", "--cwd", "notebooks", "--no-progress-bar"],
        cwd=proj,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode != 0
    assert "passez-le comme texte avec papermill -r code_commune 20008" in done.stderr + done.stdout
    assert not (proj / "out").exists()


@pytest.mark.parametrize(("statut", "attendu"), [(True, True), (False, False), (None, None)])
def test_results_say_the_signatory_status_null_when_unknown(project, statut, attendu):
    """An unknown status is written null: neither signatory (true) nor hors CUCS (false)."""
    import json

    ctx = demarrer("q1", "01001")
    ctx.territoire.signataire = statut  # what Territory.signataire returns
    path = ctx.ecrire_resultats(["Constat."], [], [CHIFFRE], **Q1_CLES)
    assert json.loads(path.read_text(encoding="utf-8"))["signataire_cucs"] is attendu
