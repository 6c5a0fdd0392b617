"""Parameter files: merge order, strict validation, French messages naming file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cucs_analysis.pipeline import params
from cucs_analysis.pipeline.params import ParamError, find_project_root, load_params, validate_all

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "params").mkdir()
    shutil.copy(ROOT / "params" / "defaults.yaml", tmp_path / "params" / "defaults.yaml")
    return tmp_path


def write(root: Path, name: str, text: str) -> Path:
    path = root / "params" / name
    path.write_text(text, encoding="utf-8")
    return path


def test_project_defaults_and_commune_files_are_valid():
    assert validate_all(ROOT) == []


def test_merge_defaults_commune_then_overrides(root):
    write(root, "20001.yaml", 'code_commune: "20001"\nsubstitution:\n  tolerance: 0.2\nseuil_secret: 15\n')
    p = load_params("20001", root, overrides={"substitution": {"duree_max_annees": 5}})
    assert p.substitution.tolerance == 0.2  # from the commune file
    assert p.substitution.duree_max_annees == 5  # from the overrides
    assert p.substitution.annees_reference == [2005, 2006]  # deep merge keeps the defaults
    assert p.seuil_secret == 15
    assert p.did.seuil_intensite == 25
    d = p.as_dict()
    assert d["code_commune"] == "20001" and d["substitution"]["tolerance"] == 0.2


def test_commune_without_file_runs_on_defaults(root):
    p = load_params("20007", root)
    assert p.code_commune == "20007" and p.territoire_comparaison == "epci"


def test_leading_zero_code_stays_a_string(root):
    write(root, "01001.yaml", 'code_commune: "01001"\nquartiers_interet: ["QP001001"]\n')
    p = load_params("01001", root)
    assert p.code_commune == "01001"
    assert p.as_dict()["code_commune"] == "01001"


@pytest.mark.parametrize("raw", ["01001", "20001"])
def test_unquoted_code_is_rejected_with_advice_to_quote(root, raw):
    write(root, f"{raw}.yaml", f"code_commune: {raw}\n")
    with pytest.raises(ParamError) as exc:
        load_params(raw, root)
    msg = str(exc.value)
    assert f"params/{raw}.yaml" in msg and "« code_commune »" in msg
    assert "guillemets" in msg and f'"{raw}"' in msg


def test_unquoted_quartier_code_in_list_is_rejected(root):
    write(root, "20001.yaml", 'code_commune: "20001"\nquartiers_interet: ["QP020001", 20002]\n')
    with pytest.raises(ParamError, match=r"quartiers_interet\[1\]"):
        load_params("20001", root)


def test_wrong_value_names_file_key_expectation_and_value(root):
    write(root, "20001.yaml", 'code_commune: "20001"\nsubstitution:\n  tolerance: beaucoup\n')
    with pytest.raises(ParamError) as exc:
        load_params("20001", root)
    assert str(exc.value) == (
        "params/20001.yaml, clé « substitution.tolerance » : doit être un nombre entre 0 et 1 "
        "(valeur « beaucoup »)"
    )


def test_out_of_range_value(root):
    write(root, "20001.yaml", 'code_commune: "20001"\noperateurs:\n  seuil_realisation: 1.5\n')
    with pytest.raises(ParamError, match="operateurs.seuil_realisation » : doit être un nombre entre 0 et 1"):
        load_params("20001", root)


def test_unknown_key_is_an_error_with_suggestion(root):
    write(root, "20001.yaml", 'code_commune: "20001"\nsubstitution:\n  tolerence: 0.2\n')
    with pytest.raises(ParamError) as exc:
        load_params("20001", root)
    msg = str(exc.value)
    assert "params/20001.yaml, clé « substitution.tolerence » : clé inconnue" in msg
    assert "« tolerance »" in msg


def test_all_problems_of_a_file_reported_at_once(root):
    write(root, "20001.yaml", 'code_commune: "20001"\nseuil_secret: "11"\ngup: {seuil_variation: -1}\n')
    with pytest.raises(ParamError) as exc:
        load_params("20001", root)
    assert len(exc.value.messages) == 2
    assert "seuil_secret" in exc.value.messages[0] or "seuil_secret" in exc.value.messages[1]


def test_error_in_defaults_names_defaults_file(root):
    text = (root / "params" / "defaults.yaml").read_text(encoding="utf-8")
    write(root, "defaults.yaml", text.replace("seuil_secret: 11", "seuil_secret: onze"))
    with pytest.raises(ParamError, match=r"params/defaults.yaml, clé « seuil_secret »"):
        load_params("20001", root)


def test_yaml_syntax_error_gives_line(root):
    write(root, "20001.yaml", 'code_commune: "20001"\nsubstitution:\n  tolerance: [0.1\n')
    with pytest.raises(ParamError, match=r"params/20001.yaml, ligne \d+"):
        load_params("20001", root)


def test_tab_indentation_is_explained(root):
    write(root, "20001.yaml", 'code_commune: "20001"\nsubstitution:\n\ttolerance: 0.1\n')
    with pytest.raises(ParamError, match="ligne 3.*tabulation"):
        load_params("20001", root)


@pytest.mark.parametrize("fast", ["libyaml", "pur"])
def test_a_tab_after_a_colon_is_refused_with_or_without_libyaml(root, monkeypatch, fast):
    """libyaml reads `clé:<tab>valeur`, PyYAML refuses it: the file must be refused (with the
    same message) whether libyaml is built in or not (JupyterLab, a Dask worker…)."""
    import yaml

    if fast == "libyaml" and not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("PyYAML sans libyaml")
    if fast == "pur":
        monkeypatch.setattr(params, "_FAST_LOADER", yaml.SafeLoader)
    write(root, "20001.yaml", 'code_commune: "20001"\nseuil_secret:\t15\n')
    with pytest.raises(ParamError, match=r"params/20001.yaml, ligne 2.*tabulation"):
        load_params("20001", root)
    # A tab in a comment or a quoted value is no error, both ways.
    write(root, "20001.yaml", 'code_commune: "20001"  # un\tcommentaire\ndonnees: "a\tb"\n')
    assert load_params("20001", root).donnees == "a\tb"


def test_duplicate_key_is_an_error(root):
    write(root, "20001.yaml", 'code_commune: "20001"\nseuil_secret: 5\nseuil_secret: 7\n')
    with pytest.raises(ParamError, match="« seuil_secret » : clé en double"):
        load_params("20001", root)


def test_code_must_match_file_name(root):
    write(root, "20001.yaml", 'code_commune: "20002"\n')
    with pytest.raises(ParamError, match="params/20001.yaml, clé « code_commune » : vaut « 20002 »"):
        load_params("20001", root)


def test_commune_key_in_defaults_is_flagged(root):
    text = (root / "params" / "defaults.yaml").read_text(encoding="utf-8")
    write(root, "defaults.yaml", text + 'quartiers_interet: ["QP020001"]\n')
    with pytest.raises(
        ParamError, match="params/defaults.yaml, clé « quartiers_interet » : clé inconnue ici"
    ):
        load_params("20001", root)


def test_incoherent_years(root):
    write(root, "20001.yaml", 'code_commune: "20001"\nperiode: {debut: 2014, fin: 2005}\n')
    with pytest.raises(ParamError, match="params/20001.yaml, clé « periode » : début"):
        load_params("20001", root)


def test_override_error_names_the_overrides(root):
    with pytest.raises(ParamError, match="paramètres fournis, clé « did.seuil_intensite »"):
        load_params("20001", root, overrides={"did": {"seuil_intensite": "x"}})


def test_code_as_int_in_api_is_rejected(root):
    with pytest.raises(ParamError, match="texte"):
        load_params(1001, root)  # type: ignore[arg-type]


def test_validate_params_dict_round_trip_and_mismatch(root):
    d = load_params("20001", root).as_dict()
    assert params.validate_params_dict(d, "20001").as_dict() == d
    with pytest.raises(ParamError, match="ne correspond pas"):
        params.validate_params_dict(d, "20002")
    bad = {**d, "code_commune": 20001}
    with pytest.raises(ParamError, match="« code_commune » : doit être un code commune"):
        params.validate_params_dict(bad)


def test_region_runs_on_defaults(root):
    assert load_params("region", root).code_commune == "region"


def test_validate_all_collects_every_file(root):
    write(root, "20001.yaml", 'code_commune: "20001"\n')
    write(root, "20002.yaml", "code_commune: 20002\n")
    write(root, "20003.yaml", 'code_commune: "20003"\npilotage: {seuil_adaptable: 2}\n')
    write(root, "brouillon.yaml", "x: 1\n")
    messages = validate_all(root)
    assert len(messages) == 3
    assert any(m.startswith("params/20002.yaml, clé « code_commune »") for m in messages)
    assert any(m.startswith("params/20003.yaml, clé « pilotage.seuil_adaptable »") for m in messages)
    assert any(m.startswith("params/brouillon.yaml : nom de fichier") for m in messages)


def test_find_project_root_from_notebooks_dir(root, monkeypatch):
    (root / "notebooks").mkdir()
    monkeypatch.chdir(root / "notebooks")
    assert find_project_root() == root.resolve()
    assert find_project_root(root / "notebooks") == root.resolve()


def test_find_project_root_fails_in_french(tmp_path):
    with pytest.raises(ParamError, match="Racine du projet introuvable"):
        find_project_root(tmp_path)


def test_template_is_valid_and_not_overwritten(root):
    path = params.write_commune_template("01001", root, quartiers=["QP001001"])
    p = load_params("01001", root)
    assert p.quartiers_interet == ["QP001001"] and p.code_commune == "01001"
    path.write_text('code_commune: "01001"\nseuil_secret: 5\n', encoding="utf-8")
    with pytest.raises(ParamError, match="existe déjà"):
        params.write_commune_template("01001", root)
    assert "seuil_secret: 5" in path.read_text(encoding="utf-8")
    params.write_commune_template("01001", root, force=True)
    assert load_params("01001", root).seuil_secret == 11


# --- a notebook's trial thresholds (`seuils`) ------------------------------------------------------


def test_partial_seuils_are_merged_onto_the_files(root):
    write(root, "20001.yaml", 'code_commune: "20001"\nsubstitution:\n  tolerance: 0.2\n')
    p = params.load_params_with_seuils(
        "20001", root, {"substitution": {"tolerance": 0.05}, "did": {"indicateurs": ("taux_chomage",)}}
    )
    assert p.substitution.tolerance == 0.05  # the trial wins over the commune file
    assert p.substitution.annees_reference == [2005, 2006] and p.substitution.duree_max_annees == 3
    assert p.did.indicateurs == ["taux_chomage"]  # a tuple is taken as a list; lists are replaced
    assert params.load_params_with_seuils("20001", root, {}) == load_params("20001", root)
    assert params.load_params_with_seuils("20001", root, None) == load_params("20001", root)


def test_numpy_values_in_seuils_are_plain_numbers(root):
    np = pytest.importorskip("numpy")
    p = params.load_params_with_seuils(
        "20001", root, {"seuil_secret": np.int64(15), "zus": {"seuil_quantile": np.float64(0.4)}}
    )
    assert p.seuil_secret == 15 and p.zus.seuil_quantile == 0.4


@pytest.mark.parametrize(
    ("seuils", "message"),
    [
        (
            {"substitution": {"tolerance": "x"}},
            "seuils › substitution › tolerance : doit être un nombre entre 0 et 1 (valeur « x »)",
        ),
        ({"substitution": {"tolerance": 2}}, "seuils › substitution › tolerance : doit être un nombre"),
        (
            {"substitution": {"toleranse": 0.05}},
            "seuils › substitution › toleranse : clé inconnue (vouliez-vous dire « tolerance » ?)",
        ),
        ({"substitution": 0.05}, "seuils › substitution : doit être une section"),
        ({"did": {"indicateurs": ["taux_chomage", 3]}}, "seuils › did › indicateurs[1] : doit être"),
        ({"periode": {"debut": 2015}}, "seuils › periode : début (2015) postérieur à la fin (2014)"),
        ({"seuil_secret": 2.5}, "seuils › seuil_secret : doit être un nombre entier"),
        ({"code_commune": "20002"}, "seuils › code_commune : le code commune se change dans la cellule"),
        ({1: 2}, "seuils : la clé 1 doit être un texte"),
        ([("substitution", 1)], "seuils : doit être un dictionnaire"),
        ("substitution: {tolerance: 0.05}", "papermill -y 'seuils: {substitution: {tolerance: 0.05}}'"),
    ],
)
def test_seuils_errors_name_the_key_as_typed_in_the_notebook(root, seuils, message):
    with pytest.raises(ParamError) as exc:
        params.load_params_with_seuils("20001", root, seuils)
    assert message in str(exc.value)


def test_seuils_error_in_a_file_still_names_the_file(root):
    write(root, "20001.yaml", 'code_commune: "20001"\nzus:\n  seuil_quantile: 3\n')
    with pytest.raises(ParamError, match="params/20001.yaml, clé « zus.seuil_quantile »"):
        params.load_params_with_seuils("20001", root, {"substitution": {"tolerance": 0.05}})


def test_int_code_says_how_to_pass_it_with_papermill(root):
    # `papermill … -p code_commune 20008` passes the integer 20008; `-p … 01001` passes 1001
    with pytest.raises(ParamError) as exc:
        load_params(20008, root)  # type: ignore[arg-type]
    assert "doit être un texte" in str(exc.value)
    assert "passez-le comme texte avec papermill -r code_commune 20008" in str(exc.value)
    with pytest.raises(ParamError, match='code_commune = "01001".*papermill -r code_commune 01001'):
        params.check_code_commune(1001)


def test_param_layers_and_leaf_sources(root):
    write(root, "20001.yaml", 'code_commune: "20001"\nsubstitution:\n  tolerance: 0.2\n')
    layers = params.param_layers("20001", root)
    assert [name for name, _ in layers] == ["params/defaults.yaml", "params/20001.yaml"]
    assert params.source_of_leaf(layers, ("substitution", "tolerance")) == "params/20001.yaml"
    assert params.source_of_leaf(layers, ("substitution", "duree_max_annees")) == "params/defaults.yaml"
    assert params.source_of_leaf(layers, ("substitution", "tolerance"), 0.3, check=True) is None
    assert params.source_of_leaf(layers, ("absent",)) is None
    assert ((("did", "indicateurs"), ["a", "b"])) in params.leaves({"did": {"indicateurs": ["a", "b"]}})


# --- euros_constants (q1) --------------------------------------------------------------------------


def test_euros_constants_defaults(root):
    p = load_params("20001", root)
    e = p.euros_constants
    assert e.actif is True and e.annee_reference is None
    assert e.reference(p.periode) == p.periode.fin  # null: the end of the period
    taux = e.taux()
    assert taux[2008] == pytest.approx(0.028) and taux[2015] == 0.0 and len(taux) == 20
    assert sorted(taux) == list(range(2005, 2025))
    assert e.source.startswith("Insee, indice des prix à la consommation")
    # survives the runner's JSON round trip (years stay integers inside the list)
    import json

    again = params.validate_params_dict(json.loads(json.dumps(p.as_dict())), "20001")
    assert again.euros_constants == e


def test_euros_constants_can_be_switched_off_and_rereferenced(root):
    write(
        root,
        "20001.yaml",
        'code_commune: "20001"\neuros_constants:\n  actif: false\n  annee_reference: 2010\n',
    )
    e = load_params("20001", root).euros_constants
    assert e.actif is False and e.reference(load_params("20001", root).periode) == 2010


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("euros_constants:\n  actif: oui\n", "clé « euros_constants.actif » : doit être true ou false"),
        (
            "euros_constants:\n  annee_reference: 2040\n",
            "clé « euros_constants.annee_reference » : 2040 n'est pas couverte par la série d'inflation (2004-2024)",
        ),
        (
            "euros_constants:\n  inflation: [{annee: 2005, taux: 1.8}, {annee: 2007, taux: 1.5}]\n",
            "clé « euros_constants.inflation » : année(s) manquante(s) : 2006",
        ),
        (
            "euros_constants:\n  inflation: [{annee: 2005, taux: 1.8}, {annee: 2005, taux: 1.5}]\n",
            "clé « euros_constants.inflation » : année(s) en double : 2005",
        ),
        (
            "euros_constants:\n  inflation: [{annee: 2010, taux: 1.5}, {annee: 2011, taux: 2.1}]\n  annee_reference: 2011\n",
            "la série d'inflation (2009-2011) doit couvrir la période étudiée (2005-2014)",
        ),
        (
            "euros_constants:\n  inflation: [{annee: 2005, taux: beaucoup}]\n",
            "clé « euros_constants.inflation[0].taux » : doit être un taux annuel en pourcentage",
        ),
        ("euros_constants:\n  inflation: []\n", "clé « euros_constants.inflation » : doit être une liste de"),
        ("euros_constants:\n  actif: true\n  sources: x\n", "clé inconnue (vouliez-vous dire « source » ?)"),
    ],
)
def test_euros_constants_errors_are_french_and_name_the_key(root, yaml_text, message):
    write(root, "20001.yaml", 'code_commune: "20001"\n' + yaml_text)
    with pytest.raises(ParamError) as exc:
        load_params("20001", root)
    assert any(m.startswith("params/20001.yaml") and message in m for m in exc.value.messages), (
        exc.value.messages
    )


def test_euros_constants_in_a_notebook_trial(root):
    with pytest.raises(ParamError, match="seuils › euros_constants › actif : doit être true ou false"):
        params.load_params_with_seuils("20001", root, {"euros_constants": {"actif": "non"}})
    p = params.load_params_with_seuils("20001", root, {"euros_constants": {"actif": False}})
    assert p.euros_constants.actif is False and len(p.euros_constants.inflation) == 20  # rest kept


def test_a_national_median_income_below_the_floor_is_refused(root):
    """No QPV 2014 threshold from an implausible median: the parameter has the data's floor."""
    from cucs_analysis.data.schema import REVENU_MEDIAN_MIN

    base = load_params("20001", root).as_dict()
    for bad in (0, 1, REVENU_MEDIAN_MIN - 1):
        base["qpv2014"]["revenu_median_national"] = bad
        with pytest.raises(ParamError, match="revenu_median_national"):
            params.validate_params_dict(base, "20001")
    base["qpv2014"]["revenu_median_national"] = REVENU_MEDIAN_MIN
    assert params.validate_params_dict(base, "20001").qpv2014.revenu_median_national == REVENU_MEDIAN_MIN
