"""q4's meetings by type publish participants and residents through secrecy (issue 9, point 3):
7 participants with one resident (14,3 %) show « s », the share too."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from cucs_analysis.analysis import privacy
from cucs_analysis.data import dataset
from cucs_analysis.pipeline.params import load_params
from cucs_analysis.reports import q4

ROOT = Path(__file__).resolve().parents[1]


def test_a_small_meeting_type_is_secret(tmp_path):
    data = tmp_path / "demo"
    shutil.copytree(ROOT / "data" / "demo", data)
    inst = pd.read_csv(data / "instances.csv", dtype=str, keep_default_na=False)
    mine = inst.index[inst["code_commune"] == "20001"]
    row = inst.loc[mine[0]].copy()
    types = sorted(set(inst["type"]))
    # one meeting of a type of its own: 7 participants, 1 resident
    seul = [t for t in types if (inst.loc[mine, "type"] == t).sum() > 0][-1]
    inst = inst[~((inst["code_commune"] == "20001") & (inst["type"] == seul))]
    row["id_instance"], row["type"], row["participants"], row["habitants"] = "I99999", seul, "7", "1"
    inst = pd.concat([inst, row.to_frame().T], ignore_index=True).sort_values("id_instance")
    inst.to_csv(data / "instances.csv", index=False)
    dataset.clear_memo()
    r = q4.build(dataset.load_territory(data, "20001"), load_params("20001", ROOT))
    v = q4.vue_instances_type(r).set_index("Type de réunion")
    ligne = v.loc[seul[:1].upper() + seul[1:]]
    assert ligne["Participants"] == privacy.SECRET
    assert ligne["Part d'habitants"] == privacy.SECRET
    # the other types keep their numbers
    autres = v.drop(index=ligne.name)["Participants"]
    assert all(isinstance(x, float | int) and x >= 11 for x in autres)


def test_a_small_meeting_year_is_secret(tmp_path):
    """The yearly table gave the same share back: a year with one meeting of 7 participants,
    1 resident, showed 14,3 %."""
    data = tmp_path / "demo"
    shutil.copytree(ROOT / "data" / "demo", data)
    inst = pd.read_csv(data / "instances.csv", dtype=str, keep_default_na=False)
    mine = inst["code_commune"] == "20001"
    annees = inst["date"].str[:4]
    annee = sorted(set(annees[mine]))[0]
    row = inst.loc[mine & (annees == annee)].iloc[0].copy()
    inst = inst[~(mine & (annees == annee))]
    row["participants"], row["habitants"] = "7", "1"
    inst = pd.concat([inst, row.to_frame().T], ignore_index=True).sort_values("id_instance")
    inst.to_csv(data / "instances.csv", index=False)
    dataset.clear_memo()
    r = q4.build(dataset.load_territory(data, "20001"), load_params("20001", ROOT))
    v = q4.vue_instances_annee(r).set_index("Année")
    assert v.loc[int(annee), "Part d'habitants"] == privacy.SECRET
    autres = v.drop(index=int(annee))["Part d'habitants"]
    assert all(x != privacy.SECRET for x in autres)
