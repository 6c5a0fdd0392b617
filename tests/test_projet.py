"""`cucs projet init DOSSIER --donnees CHEMIN` (issue 11): a resource centre's own project whose
params/defaults.yaml follows the data's years (metadonnees.yaml) and indicators, with the
shipped notebooks; refuses a non-empty folder without --force; French errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from cucs_analysis import cli
from cucs_analysis.data.dataset import load_dataset
from cucs_analysis.pipeline import params
from cucs_analysis.pipeline.params import ParamError
from tests.projet import donnees_sans_programme

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


@pytest.fixture
def donnees(tmp_path: Path) -> Path:
    """A copy of the demo reduced to its indicators and contours (the other tables deleted),
    whose metadonnees.yaml says other years (those the indicators keep)."""
    d = donnees_sans_programme(tmp_path / "donnees")
    meta = yaml.safe_load((d / "metadonnees.yaml").read_text(encoding="utf-8"))
    meta.update(annee_debut=meta["annee_debut"] + 1, annee_fin=meta["annee_fin"] - 1)
    (d / "metadonnees.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    ind = pd.read_csv(d / "indicateurs.csv", dtype=str)
    annee = ind["annee"].astype(int)
    ind[(annee >= meta["annee_debut"]) & (annee <= meta["annee_fin"])].to_csv(
        d / "indicateurs.csv", index=False
    )
    return d


def test_init_writes_a_valid_project_that_follows_the_data_years(tmp_path, donnees, capsys):
    projet = tmp_path / "projet"
    assert cli.main(["projet", "init", str(projet), "--donnees", str(donnees)]) == 0
    out = capsys.readouterr().out
    assert "Projet créé" in out and "periode.debut" in out
    meta = yaml.safe_load((donnees / "metadonnees.yaml").read_text(encoding="utf-8"))
    texte = (projet / "params" / "defaults.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(texte)
    assert raw["periode"] == {"debut": meta["annee_debut"], "fin": meta["annee_fin"]}
    assert (raw["dynamique"]["annee_debut"], raw["dynamique"]["annee_fin"]) == (
        meta["annee_debut"],
        meta["annee_fin"],
    )
    assert meta["annee_debut"] <= raw["annee_debut_cucs"] <= meta["annee_fin"]
    assert all(
        meta["annee_debut"] <= a < raw["annee_debut_cucs"] for a in raw["substitution"]["annees_reference"]
    )
    assert Path(raw["donnees"]) == donnees.resolve()
    # French comments say where the years come from; the shipped comments are kept
    assert f"metadonnees.yaml : années {meta['annee_debut']}-{meta['annee_fin']}" in texte
    assert "# Secret statistique" in texte
    shipped = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(p.name for p in (projet / "notebooks").glob("*.ipynb")) == shipped
    # the project loads, and its parameters agree with the data: no error, no year warning
    p = params.load_params("20001", projet)
    dataset = load_dataset(donnees)
    assert params.problemes_donnees(p, dataset) == []
    assert params.avertissements_donnees(p, dataset) == []
    assert params.find_project_root(projet / "notebooks") == projet.resolve()


def test_init_keeps_the_indicators_of_the_data_catalogue(tmp_path, donnees):
    cat = pd.read_csv(donnees / "catalogue_indicateurs.csv", dtype=str)
    cat[cat["indicateur"] != "taux_chomage"].to_csv(donnees / "catalogue_indicateurs.csv", index=False)
    ind = pd.read_csv(donnees / "indicateurs.csv", dtype=str)
    ind[ind["indicateur"] != "taux_chomage"].to_csv(donnees / "indicateurs.csv", index=False)
    params.init_projet(tmp_path / "p", donnees)
    raw = yaml.safe_load((tmp_path / "p" / "params" / "defaults.yaml").read_text(encoding="utf-8"))
    assert raw["did"]["indicateurs"] == ["taux_pauvrete"]
    assert raw["dynamique"]["indicateur"] != "taux_chomage"
    assert "taux_chomage" not in raw["typologie"]["indicateurs"]
    p = params.load_params("20001", tmp_path / "p")
    assert params.problemes_donnees(p, load_dataset(donnees)) == []


def test_init_refuses_a_non_empty_folder_without_force(tmp_path, donnees, capsys):
    projet = tmp_path / "projet"
    projet.mkdir()
    (projet / "notes.txt").write_text("à garder", encoding="utf-8")
    assert cli.main(["projet", "init", str(projet), "--donnees", str(donnees)]) == 1
    err = capsys.readouterr().err
    assert "n'est pas vide" in err and "--force" in err and "Traceback" not in err
    assert not (projet / "params").exists()
    assert cli.main(["projet", "init", str(projet), "--donnees", str(donnees), "--force"]) == 0
    assert (projet / "params" / "defaults.yaml").is_file()
    assert (projet / "notes.txt").read_text(encoding="utf-8") == "à garder"


def test_init_errors_are_french(tmp_path, monkeypatch):
    with pytest.raises(ParamError, match="Dossier de données introuvable"):
        params.init_projet(tmp_path / "p", tmp_path / "absent")
    (tmp_path / "d").mkdir()
    monkeypatch.setattr(params, "_package_project", lambda: tmp_path / "ailleurs")
    with pytest.raises(ParamError, match="carnets livrés introuvables"):
        params.init_projet(tmp_path / "p", tmp_path / "d")
    assert not (tmp_path / "p").exists()


def test_data_without_years_keeps_the_shipped_years(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    _dossier, changes = params.init_projet(tmp_path / "p", d)
    raw = yaml.safe_load((tmp_path / "p" / "params" / "defaults.yaml").read_text(encoding="utf-8"))
    shipped = yaml.safe_load((ROOT / "params" / "defaults.yaml").read_text(encoding="utf-8"))
    assert raw["periode"] == shipped["periode"]
    assert any("années livrées sont gardées" in c for c in changes)


def test_run_donnees_overrides_the_parameter(tmp_path, donnees, monkeypatch, capsys):
    """`cucs run --donnees CHEMIN` reads CHEMIN, not the folder params/defaults.yaml names."""
    params.init_projet(tmp_path / "p", donnees)
    monkeypatch.chdir(tmp_path / "p")
    absent = tmp_path / "ailleurs"
    assert cli.main(["run", "--communes", "20001", "--questions", "q3", "--donnees", str(absent)]) == 1
    err = capsys.readouterr().err
    assert str(absent) in err and "n'existe pas" in err and "Traceback" not in err
    assert not (tmp_path / "p" / "out").exists()  # refused before any kernel


def _debut(donnees: Path, annee: int) -> dict:
    """The data set's metadonnees.yaml made to start in `annee` (its indicators kept from then)."""
    meta = yaml.safe_load((donnees / "metadonnees.yaml").read_text(encoding="utf-8"))
    meta["annee_debut"] = annee
    (donnees / "metadonnees.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    ind = pd.read_csv(donnees / "indicateurs.csv", dtype=str)
    ind[ind["annee"].astype(int) >= annee].to_csv(donnees / "indicateurs.csv", index=False)
    return meta


@pytest.mark.parametrize("decalage", [0, 2])
def test_no_data_year_before_the_contract_gives_a_project_without_warnings(tmp_path, donnees, decalage):
    """Data starting in the shipped contract year, or after it (real data: 2015): no year of the
    data precedes the contract, so the contract starts the year after the data's first year,
    which is the reference of the substitution rule; the project warns about none of its years."""
    shipped = yaml.safe_load((ROOT / "params" / "defaults.yaml").read_text(encoding="utf-8"))
    meta = _debut(donnees, int(shipped["annee_debut_cucs"]) + decalage)
    debut = meta["annee_debut"]
    params.init_projet(tmp_path / "p", donnees)
    texte = (tmp_path / "p" / "params" / "defaults.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(texte)
    assert raw["annee_debut_cucs"] == debut + 1
    assert raw["substitution"]["annees_reference"] == [debut]
    assert "aucune année des données ne précéderait le contrat" in texte
    p = params.load_params("20001", tmp_path / "p")
    dataset = load_dataset(donnees)
    assert params.problemes_donnees(p, dataset) == []
    assert params.avertissements_donnees(p, dataset) == []


def test_the_dynamique_indicator_worsens_upwards(tmp_path, donnees):
    """The dynamique rule follows a widening gap: a shipped indicator whose rise is not a
    worsening in the data's catalogue is replaced by one that is."""
    shipped = yaml.safe_load((ROOT / "params" / "defaults.yaml").read_text(encoding="utf-8"))
    livre = shipped["dynamique"]["indicateur"]
    cat = pd.read_csv(donnees / "catalogue_indicateurs.csv", dtype=str)
    assert (cat.loc[cat["indicateur"] == livre, "sens"] == "hausse_degradation").all()
    cat.loc[cat["indicateur"] == livre, "sens"] = "neutre"
    cat.to_csv(donnees / "catalogue_indicateurs.csv", index=False)
    params.init_projet(tmp_path / "p", donnees)
    texte = (tmp_path / "p" / "params" / "defaults.yaml").read_text(encoding="utf-8")
    choisi = yaml.safe_load(texte)["dynamique"]["indicateur"]
    pires = set(cat.loc[cat["sens"] == "hausse_degradation", "indicateur"])
    assert choisi != livre and choisi in pires
    assert f"« {livre} » n'est pas un indicateur dont la hausse est une dégradation" in texte
