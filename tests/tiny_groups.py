"""A "hostile" copy of the demo data for secrecy tests: many tiny groups (issue 9, point 3).

`make_tiny(src, dst)` copies a data directory and rewrites it so that almost every count a
page can publish about people or reports falls between 1 and 10: beneficiaries planned and
reached per action, participants and residents per meeting, people followed per dispositif
and quartier (parcours), answers per question and quartier (enquêtes), coded statements
(bilans), reports (signalements GUP), and the quartiers' populations and the numerators and
denominators of their rates. The data stay valid (`cucs validate` passes, checked by the
tests), so every notebook runs on it and every published figure can be scanned.

Deterministic: the same seed gives the same files (no draw depends on the clock).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from projet import projet_sur

#: The commune and meeting type whose participants total exactly 12 (`make_tiny`).
DOUZE_COMMUNE = "20001"
DOUZE_TYPE = "comité de pilotage"

#: Share of action-years and meetings that keep their original (mostly large) counts, so that
#: tables mix published and hidden cells and secondary secrecy has work to do.
KEEP_LARGE = 0.2


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n")


def _keep_few(df: pd.DataFrame, by: list[str], rng: np.random.Generator, most: int) -> pd.DataFrame:
    """Keep 1..`most` rows (drawn once per group, first rows in file order) of each group."""
    if df.empty:
        return df
    rank = df.groupby(by, sort=False).cumcount()
    groups = df.groupby(by, sort=False).ngroup()
    quota = rng.integers(1, most + 1, size=int(groups.max()) + 1)
    return df[rank.to_numpy() < quota[groups.to_numpy()]]


def make_tiny(src: Path, dst: Path, seed: int = 9) -> Path:
    """Copy the data directory `src` to `dst` (created) with tiny groups; returns `dst`."""
    rng = np.random.default_rng(seed)
    shutil.copytree(src, dst)

    # Actions: beneficiaries planned and reached mostly 1..10 (reached ≤ planned).
    act = _read(dst / "actions.csv")
    filled = (act["beneficiaires_prevus"] != "") & (rng.random(len(act)) >= KEEP_LARGE)
    prevus = rng.integers(1, 11, size=len(act))
    realises = np.minimum(prevus, rng.integers(1, 11, size=len(act)))
    act.loc[filled, "beneficiaires_prevus"] = prevus[filled.to_numpy()].astype(str)
    has_real = filled & (act["beneficiaires_realises"] != "")
    act.loc[has_real, "beneficiaires_realises"] = realises[has_real.to_numpy()].astype(str)
    _write(act, dst / "actions.csv")

    # Meetings: participants 1..10, of whom 0..participants residents.
    path = dst / "instances.csv"
    if path.exists():
        ins = _read(path)
        small = rng.random(len(ins)) >= KEEP_LARGE
        part = rng.integers(1, 11, size=len(ins))
        hab = np.array([rng.integers(0, p + 1) for p in part])
        ins.loc[small, "participants"] = part[small].astype(str)
        ins.loc[small, "habitants"] = hab[small].astype(str)
        # A planted 12: the steering committees of `DOUZE_COMMUNE` are two meetings of 6
        # participants, none a resident (published at 11, hidden at 15).
        copil = (ins["code_commune"] == DOUZE_COMMUNE) & (ins["type"] == DOUZE_TYPE)
        if copil.sum() >= 2:
            keep = ins.index[copil][:2]
            ins = ins.drop(ins.index[copil][2:])
            ins.loc[keep, ["participants", "habitants"]] = ["6", "0"]
        # A kept meeting cannot have more residents than participants after the change.
        p = pd.to_numeric(ins["participants"])
        h = pd.to_numeric(ins["habitants"])
        ins["habitants"] = np.minimum(p, h).astype(int).astype(str)
        _write(ins, path)

    # People followed: 1..5 episodes per dispositif × quartier × entry year.
    path = dst / "parcours.csv"
    if path.exists():
        par = _read(path)
        par["_an"] = par["date_entree"].str[:4]
        par = _keep_few(par, ["dispositif", "code_quartier", "_an"], rng, 5).drop(columns="_an")
        _write(par, path)

    # Survey answers: 1..8 answers per quartier × respondent type × question × year.
    path = dst / "enquetes.csv"
    if path.exists():
        enq = _read(path)
        enq = _keep_few(enq, ["code_quartier", "type_repondant", "question", "annee"], rng, 8)
        _write(enq, path)

    # Coded statements: 1..3 per action × category.
    path = dst / "bilans.csv"
    if path.exists():
        bil = _read(path)
        _write(_keep_few(bil, ["id_action", "categorie"], rng, 3), path)

    # Reports: 1..6 per quartier × category × year.
    path = dst / "gup.csv"
    if path.exists():
        gup = _read(path)
        gup["_an"] = gup["date"].str[:4]
        gup = _keep_few(gup, ["code_quartier", "categorie", "_an"], rng, 6).drop(columns="_an")
        _write(gup, path)

    # Quartiers: populations 1..10 and rates on numerators/denominators 1..10, flagged as
    # published ("non"): the pages must not trust the flag.
    ind = _read(dst / "indicateurs.csv")
    q = ind["niveau"] == "quartier"
    pop = q & (ind["indicateur"] == "population")
    ind.loc[pop, "valeur"] = rng.integers(1, 11, size=int(pop.sum())).astype(str)
    rate = q & (ind["numerateur"] != "") & (ind["denominateur"] != "") & (ind["valeur"] != "")
    num0 = pd.to_numeric(ind.loc[rate, "numerateur"])
    den0 = pd.to_numeric(ind.loc[rate, "denominateur"])
    val0 = pd.to_numeric(ind.loc[rate, "valeur"])
    ok = (den0 > 0) & (num0 > 0)
    # 100 for a %, 1000 for ‰: the power of ten the source used.
    scale = 10.0 ** np.round(np.log10(val0[ok] / (num0[ok] / den0[ok])))
    den = pd.Series(rng.integers(1, 11, size=int(ok.sum())), index=scale.index)
    num = np.maximum(1, np.minimum(den, (num0[ok] / den0[ok] * den).round())).astype(int)
    ind.loc[scale.index, "denominateur"] = den.astype(str)
    ind.loc[scale.index, "numerateur"] = num.astype(str)
    ind.loc[scale.index, "valeur"] = (num / den * scale).round(1).map(repr)
    ind.loc[q, "secret"] = "non"
    _write(ind, dst / "indicateurs.csv")
    return dst


#: The communes of the run: a signatory with every table, and a non-signatory one.
COMMUNES = ("20001", "20010")


#: Thresholds raised in the run's parameters (params/<code>.yaml): the signatory hides below 15.
SEUILS = {"20001": 15}


def run_tiny(root: Path, tmp: Path, communes=COMMUNES, questions=None, seuils=None):
    """Build the tiny copy of ``root/data/demo`` under `tmp` and run the whole suite on it
    for `communes` (a project folder with the notebooks and params pointing at the copy, the
    thresholds of `seuils` — default `SEUILS` — written in the communes' parameters);
    returns ``(data_dir, out_dir, summary)``. The caller sets ``CUCS_CACHE_DIR``."""
    from cucs_analysis.pipeline import runner

    data = make_tiny(root / "data" / "demo", tmp / "donnees")
    project = projet_sur(data, tmp / "projet")
    for code, seuil in (SEUILS if seuils is None else seuils).items():
        path = project / "params" / f"{code}.yaml"
        path.write_text(path.read_text(encoding="utf-8") + f"\nseuil_secret: {seuil}\n", encoding="utf-8")
    out = tmp / "out"
    summary = runner.run(
        project, list(communes), questions, jobs=2, resume=False, out_dir=out, progress=False
    )
    return data, out, summary
