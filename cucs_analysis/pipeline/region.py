"""The region stage on disk: computed once per data set and parameters, read by every run.

`results/region/etape/<key>.pkl` holds the `reports.region.Region` object (frames, typology,
contours) for the reports; `results/region/etape/<key>.json` holds its contract keys (DiD,
eligibility, typology classes) for readers outside Python. (`results/region/*.json` are the
regional synthesis's results: the stage has its own sub-folder so no reader mistakes it.) The key covers the data
fingerprint, the parameter sections the stage depends on and the library's code, so a
change of any of them computes a new stage and a stale one is never read.
"""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
from pathlib import Path

from cucs_analysis import __version__
from cucs_analysis.pipeline import atomic
from cucs_analysis.pipeline.results import to_jsonable
from cucs_analysis.reports import region as region_stage

DOSSIER = Path("region") / "etape"


@functools.cache
def library_digest() -> str:
    """Version plus a digest of the library's own files: a code change invalidates caches."""
    h = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parents[1]  # the whole cucs_analysis package
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".j2", ".css", ".js", ".yaml"}:
            h.update(str(path.relative_to(package)).encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def key(fingerprint: str, params) -> str:
    """The region stage's key for a data set and a commune's parameters."""
    h = hashlib.sha256()
    for part in (
        fingerprint,
        json.dumps(region_stage.parametres_region(params), sort_keys=True, ensure_ascii=False),
        library_digest(),
    ):
        h.update(hashlib.sha256(part.encode()).digest())
    return h.hexdigest()[:20]


def path(dossier_resultats: Path, cle: str) -> Path:
    return Path(dossier_resultats) / DOSSIER / f"{cle}.pkl"


def read(dossier_resultats: Path, cle: str) -> region_stage.Region | None:
    """The stored stage, or None when absent or unreadable (it is then recomputed)."""
    p = path(dossier_resultats, cle)
    if not p.is_file():
        return None
    try:
        with p.open("rb") as f:
            stage = pickle.load(f)
    except Exception:
        return None
    return stage if isinstance(stage, region_stage.Region) else None


def summary(stage: region_stage.Region) -> dict:
    """The JSON-able contract keys of the stage (DESIGN.md §6, results/region/)."""
    typo = stage.typologie
    return {
        "fingerprint": stage.fingerprint,
        "parametres": stage.parametres,
        "n_communes": stage.n_communes,
        "n_quartiers": stage.n_quartiers,
        "revenu_median_national": stage.revenu_median_national,
        "did": stage.did,
        "groupes": stage.groupes,
        "eligibilite": stage.eligibilite[
            ["code_quartier", "code_commune", "regle_zus", "regle_qpv2014", "regle_dynamique"]
        ],
        "annee_typologie": stage.annee_typologie,
        "typologie": []
        if typo is None
        else [{"code_quartier": q, "classe": int(c)} for q, c in typo.classes.items()],
    }


def write(dossier_resultats: Path, cle: str, stage: region_stage.Region) -> Path:
    """Store the stage (pickle for the reports, JSON for readers), each file atomically."""
    p = path(dossier_resultats, cle)
    atomic.write_json(p.with_suffix(".json"), to_jsonable(summary(stage)))
    atomic.write_bytes(p, pickle.dumps(stage, protocol=pickle.HIGHEST_PROTOCOL))
    return p


def ensure(fingerprint: str, params, charger, dossier_resultats: Path, *autres: Path) -> region_stage.Region:
    """The region stage of the data set `fingerprint` with `params`: read from
    `dossier_resultats` (or one of `autres`, e.g. the project's out/results for an interactive
    run), else computed from `charger()` (which returns the Dataset) and stored."""
    cle = key(fingerprint, params)
    for d in (dossier_resultats, *autres):
        stage = read(d, cle)
        if stage is not None:
            return stage
    stage = region_stage.build(charger(), params)
    write(dossier_resultats, cle, stage)
    return stage


def prepare(dataset, params_list, dossier_resultats: Path) -> list[dict]:
    """The runner's first phase: one stage per distinct key among `params_list` (the
    parameters of the runs that read it), computed unless already stored. Returns one record
    per stage for the manifest; a stage that fails is recorded, and the runs that need it
    will report the error themselves."""
    import time

    records, seen = [], set()
    for params in params_list:
        cle = key(dataset.fingerprint, params)
        if cle in seen:
            continue
        seen.add(cle)
        t0 = time.perf_counter()
        statut, erreur = "reprise", None
        if read(dossier_resultats, cle) is None:
            statut = "ok"
            try:
                write(dossier_resultats, cle, region_stage.build(dataset, params))
            except Exception as exc:  # recorded; the runs that need it fail with the message
                statut, erreur = "echec", f"{type(exc).__name__} : {exc}"
        records.append(
            {"cle": cle, "statut": statut, "erreur": erreur, "duree_s": round(time.perf_counter() - t0, 2)}
        )
    return records
