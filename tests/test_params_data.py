"""Parameters checked against the data (issue 9, point 6) and the secrecy threshold that can be
raised but never lowered (point 3): refused with a French message naming the parameter file
and the key, before any notebook runs (`demarrer`, and the runner's planning).

Every test works on a temporary copy of params/ whose `donnees` points to the committed demo
(read only: the data set is loaded, never written)."""

from __future__ import annotations

import shutil
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from cucs_analysis.pipeline import notebook, params, runner
from cucs_analysis.pipeline.notebook import NotebookError, demarrer
from cucs_analysis.pipeline.params import ParamError, load_params
from cucs_analysis.present import display

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


@pytest.fixture(autouse=True)
def _fresh_notebook_state(monkeypatch):
    monkeypatch.setattr(display, "_motif_arret", None)
    monkeypatch.setattr(notebook, "_actif", None)


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """A copy of the project's params/ (the demo data read where it is) and its notebooks."""
    shutil.copytree(ROOT / "params", tmp_path / "params")
    defaults = tmp_path / "params" / "defaults.yaml"
    text = defaults.read_text(encoding="utf-8")
    assert "donnees: data/demo\n" in text
    defaults.write_text(text.replace("donnees: data/demo\n", f"donnees: {DEMO}\n"), encoding="utf-8")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    monkeypatch.chdir(tmp_path / "notebooks")
    return tmp_path


def edit(project: Path, name: str, changes: dict) -> None:
    """Set top-level keys (whole sections) of a copied params file."""
    path = project / "params" / name
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    data.update(changes)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def section(project: Path, key: str, **values) -> dict:
    """A section of the copied defaults with some leaves changed."""
    data = yaml.safe_load((project / "params" / "defaults.yaml").read_text(encoding="utf-8"))
    return {key: {**data[key], **values}}


def refused_at_start(project: Path, question: str, code: str, *expected: str) -> str:
    """The French error of `demarrer` (JupyterLab) and of the runner (before any kernel)."""
    with pytest.raises(NotebookError) as exc:
        demarrer(question, code)
    message = str(exc.value)
    assert exc.value.__cause__ is None
    for part in expected:
        assert part in message, message
    with pytest.raises(ParamError) as exc:
        runner.run(project, [code], [question], jobs=1, resume=False, progress=False)
    for part in ("aucun carnet n'a été exécuté", *expected):
        assert part in str(exc.value), str(exc.value)
    assert not (project / "out").exists()  # no kernel, no manifest, no site
    return message


# --- indicators -------------------------------------------------------------------------------------


def test_unknown_indicator_in_did_is_refused_before_any_notebook(project):
    """It used to pass, and q2 then said « trop peu de quartiers »."""
    edit(project, "defaults.yaml", section(project, "did", indicateurs=["taux_chomage", "taux_chomag"]))
    message = refused_at_start(
        project,
        "q2",
        "20001",
        "params/defaults.yaml, clé « did.indicateurs » : indicateur « taux_chomag » absent du "
        "catalogue des indicateurs du jeu de données",
        "vouliez-vous dire « taux_chomage » ?",
    )
    assert "trop peu de quartiers" not in message


def test_unknown_indicator_set_by_a_commune_names_the_commune_file(project):
    edit(project, "20001.yaml", {"dynamique": _rest(project, "dynamique") | {"indicateur": "chomage"}})
    refused_at_start(
        project, "q3", "20001", "params/20001.yaml, clé « dynamique.indicateur » : indicateur « chomage »"
    )
    # another commune, without this file's value, is not concerned
    assert load_params("20002", project).dynamique.indicateur == "taux_chomage"
    demarrer("q3", "20002")


def test_unknown_indicator_in_a_notebook_trial_names_seuils(project):
    with pytest.raises(NotebookError, match=r"seuils › typologie › indicateurs : indicateur « pib »"):
        demarrer("q3", "20001", seuils={"typologie": {"indicateurs": ["taux_chomage", "pib"]}})


def test_every_indicator_parameter_is_checked():
    """Any parameter described as indicator codes is in the checked list (a new one cannot be
    forgotten)."""
    described = {loc for loc, desc in _described_leaves(params.Parametres) if desc and "indicateur" in desc}
    assert described == set(params.CLES_INDICATEURS)


# --- quartiers --------------------------------------------------------------------------------------


def test_quartier_of_another_commune_is_refused(project):
    edit(project, "20001.yaml", {"quartiers_interet": ["QP020001", "QP020005"]})
    refused_at_start(
        project,
        "q1",
        "20001",
        "params/20001.yaml, clé « quartiers_interet » : le quartier « QP020005 » appartient à la "
        "commune 20002, pas à 20001",
    )


def test_unknown_quartier_is_refused(project):
    edit(project, "20001.yaml", {"quartiers_experimentaux": ["QP099999"]})
    refused_at_start(
        project,
        "q1",
        "20001",
        "params/20001.yaml, clé « quartiers_experimentaux » : quartier « QP099999 » absent du jeu "
        "de données (table quartiers)",
    )


def test_the_commune_own_quartiers_are_accepted(project):
    edit(project, "20001.yaml", {"quartiers_interet": ["QP020001", "QP020004"]})
    ctx = demarrer("q1", "20001")
    assert ctx.params.quartiers_interet == ["QP020001", "QP020004"]


# --- years ------------------------------------------------------------------------------------------


def warned_at_start(project: Path, code: str, *expected: str) -> list[str]:
    """Years outside the data: warnings from the checks `demarrer` and the runner make, never an
    error (the notebook starts; the runner's planning returns them)."""
    demarrer("q3", code)  # no NotebookError: the notebook starts
    p = load_params(code, project)
    warnings = params.verifier_donnees(p, _demo(), params.param_layers(code, project))
    base = load_params(params.REGION, project)
    _cache, _delais, by_commune = runner._params_checked(project, base, [code], _demo())
    for part in expected:
        assert any(part in w for w in warnings), warnings
        assert any(part in w for w in by_commune[code]), by_commune
    return warnings


def test_year_outside_the_data_is_a_warning_not_an_error(project):
    edit(project, "20001.yaml", {"zus": _rest(project, "zus") | {"annee": 2003}})
    (warning,) = warned_at_start(
        project,
        "20001",
        "params/20001.yaml, clé « zus.annee » : 2003 est hors des années du jeu de données (2005-2014",
    )
    assert "les pages indiquent l'année réellement utilisée" in warning
    # an unknown indicator next to it is still an error
    edit(project, "20001.yaml", section(project, "dynamique", indicateur="taux_chomge"))
    with pytest.raises(ParamError, match="vouliez-vous dire « taux_chomage »"):
        params.verifier_donnees(load_params("20001", project), _demo(), params.param_layers("20001", project))


def test_treatment_year_after_the_data_is_a_warning_in_defaults(project):
    edit(project, "defaults.yaml", section(project, "did", annee_traitement=2016))
    warned_at_start(
        project,
        "20001",
        "params/defaults.yaml, clé « did.annee_traitement » : 2016 est hors des années du jeu de données",
    )


def test_every_year_outside_the_data_is_listed(project):
    edit(
        project,
        "defaults.yaml",
        {
            "periode": {"debut": 2004, "fin": 2014},
            **section(project, "substitution", annees_reference=[2004, 2005, 2006]),
            **section(project, "dynamique", annee_debut=2004),
        },
    )
    warned_at_start(
        project,
        "20001",
        *(
            f"params/defaults.yaml, clé « {key} » : 2004 est hors des années du jeu de données"
            for key in ("periode.debut", "substitution.annees_reference", "dynamique.annee_debut")
        ),
    )
    edit(project, "20001.yaml", section(project, "substitution", annees_reference=[2001, 2002]))
    warned_at_start(project, "20001", "« substitution.annees_reference » : 2001, 2002 sont hors des années")
    assert params.problemes_donnees(load_params("20001", project), _demo()) == []


def test_the_notebook_keeps_the_year_warnings_and_shows_them_with_the_parameter(project):
    """`demarrer` keeps the warnings on the context; « Paramètres utilisés » (the notebook's
    « Sources et méthode ») shows each beside its parameter, only for this question's keys."""
    edit(project, "defaults.yaml", section(project, "substitution", annees_reference=[2001, 2006]))
    expected = params.verifier_donnees(
        load_params("20001", project), _demo(), params.param_layers("20001", project)
    )
    assert expected  # the year 2001 is outside the demo's years
    ctx = demarrer("q1", "20001")
    assert ctx.avertissements == expected
    vue = ctx.vue_parametres().set_index("Paramètre")
    cell = vue.loc["substitution.annees_reference", "Avertissement"]
    assert cell.startswith("2001 est hors des années du jeu de données (2005-2014")
    assert (vue.drop(index="substitution.annees_reference")["Avertissement"] == "").all()
    html = display.tableau(ctx.vue_parametres())._repr_html_()
    assert "<th" in html and "2001 est hors des années du jeu de données" in html
    # q3 does not use the substitution years: no warning column on its table
    ctx3 = demarrer("q3", "20001")
    assert ctx3.avertissements == expected
    assert "Avertissement" not in ctx3.vue_parametres().columns


def test_every_year_parameter_is_checked():
    """Every year of the analyses is checked; the inflation table (euros constants) may reach
    beyond the data: its years are not."""
    described = {
        loc
        for loc, desc in _described_leaves(params.Parametres)
        if desc and ("une année" in desc or "liste d'années" in desc) and loc[0] != "euros_constants"
    }
    assert described == set(params.CLES_ANNEES)


# --- seuil_secret: raised, never lowered ------------------------------------------------------------


def test_seuil_secret_below_the_national_rule_is_refused_in_a_commune_file(project):
    edit(project, "20001.yaml", {"seuil_secret": 1})
    with pytest.raises(ParamError) as exc:
        load_params("20001", project)
    (message,) = exc.value.messages
    assert message.startswith(
        "params/20001.yaml, clé « seuil_secret » : doit être un nombre entier d'au moins 11"
    )
    assert "jamais abaisser" in message and "(valeur « 1 »)" in message
    assert params.validate_all(project) == [message]
    with pytest.raises(ParamError, match="clé « seuil_secret »"):
        runner.run(project, ["20002"], ["q1"], jobs=1, resume=False, progress=False)
    with pytest.raises(NotebookError, match=r"params/20001.yaml, clé « seuil_secret »"):
        demarrer("q1", "20001")


def test_seuil_secret_below_the_national_rule_is_refused_in_defaults_and_trials(project):
    edit(project, "defaults.yaml", {"seuil_secret": 10})
    with pytest.raises(ParamError, match=r"params/defaults.yaml, clé « seuil_secret » : doit être un nombre"):
        load_params("20001", project)
    edit(project, "defaults.yaml", {"seuil_secret": 11})
    with pytest.raises(
        NotebookError, match=r"seuils › seuil_secret : doit être un nombre entier d'au moins 11"
    ):
        demarrer("q1", "20001", seuils={"seuil_secret": 5})
    injected = load_params("20001", project).as_dict() | {"seuil_secret": 3}
    with pytest.raises(
        NotebookError, match="clé « seuil_secret » : doit être un nombre entier d'au moins 11"
    ):
        demarrer("q1", "20001", injected)


def test_seuil_secret_can_be_raised_not_lowered(project):
    edit(project, "20001.yaml", {"seuil_secret": 15})
    assert load_params("20001", project).seuil_secret == 15
    assert load_params("20002", project).seuil_secret == 11
    assert params.SEUIL_SECRET_NATIONAL == 11
    edit(project, "20002.yaml", {"seuil_secret": 10})
    assert any("params/20002.yaml, clé « seuil_secret »" in m for m in params.validate_all(project))


def test_the_committed_parameters_agree_with_the_demo():
    dataset = _demo()
    for code in ["region", *(p.stem for p in params.commune_param_files(ROOT))]:
        p = load_params(code, ROOT)
        assert params.verifier_donnees(p, dataset, params.param_layers(code, ROOT)) == []  # no warning


# --- helpers ------------------------------------------------------------------------------------------


def _demo():
    from cucs_analysis.data.dataset import load_dataset

    return load_dataset(DEMO)


def _rest(project: Path, key: str) -> dict:
    data = yaml.safe_load((project / "params" / "defaults.yaml").read_text(encoding="utf-8"))
    return dict(data[key])


def _described_leaves(model: type[BaseModel], prefix: tuple = ()) -> list[tuple[tuple, str | None]]:
    out = []
    for name, field in model.model_fields.items():
        inner = params._model_in(field.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel) and not typing.get_args(field.annotation):
            out.extend(_described_leaves(inner, (*prefix, name)))
        elif isinstance(inner, type) and issubclass(inner, BaseModel):
            continue  # a list of sections (euros_constants.inflation): its own years
        else:
            out.append(((*prefix, name), field.description))
    return out
