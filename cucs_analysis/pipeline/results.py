"""The results contract: one JSON file per run, `<dossier>/<code_commune>/<question>.json`.

Written by every notebook through `write_results` (atomically, with `pipeline.atomic`), read
back by the syntheses and the site through `read_results`. DESIGN.md §6 lists the keys each
question must provide.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import pandas as pd

from cucs_analysis.pipeline import atomic
from cucs_analysis.reports import questions

CHIFFRE_CLE_KEYS = ("id", "libelle", "valeur", "unite")
BASE_KEYS = ("question", "code_commune", "parametres", "constats", "reserves", "chiffres_cles")


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas values to plain JSON types (NaN/NA/NaT → None, dates → ISO)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return to_jsonable(value.to_dict())
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Index):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [to_jsonable(v) for v in items]
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, pd.Timedelta | dt.timedelta):
        return None if pd.isna(value) else pd.Timedelta(value).isoformat()
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, int):
        return value
    if isinstance(value, PurePath):
        return value.as_posix()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    raise TypeError(f"Valeur non convertible en JSON : {value!r} (type {type(value).__name__})")


def results_path(dossier: Path, code_commune: str, question: str) -> Path:
    return Path(dossier) / code_commune / f"{question}.json"


#: The old name of `atomic.write_json`, kept for the modules that still import it from here.
write_json_atomic = atomic.write_json


def _check_sentences(name: str, value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(s, str) for s in value):
        raise ValueError(f"« {name} » doit être une liste de phrases (textes).")
    return list(value)


def _check_chiffres(chiffres_cles: Any) -> list[dict]:
    if isinstance(chiffres_cles, pd.DataFrame):
        chiffres_cles = chiffres_cles.to_dict(orient="records")
    if not isinstance(chiffres_cles, list | tuple):
        raise ValueError("« chiffres_cles » doit être une liste de {id, libelle, valeur, unite}.")
    for i, item in enumerate(chiffres_cles):
        if not isinstance(item, dict):
            raise ValueError(
                f"« chiffres_cles[{i}] » doit être un dictionnaire {{id, libelle, valeur, unite}}."
            )
        missing = [k for k in CHIFFRE_CLE_KEYS if k not in item]
        if missing:
            raise ValueError(f"« chiffres_cles[{i}] » : clé(s) absente(s) : {', '.join(missing)}.")
    return list(chiffres_cles)


def write_results(
    dossier: Path,
    question: str,
    code_commune: str,
    parametres: dict,
    constats: list[str],
    reserves: list[str],
    chiffres_cles: list[dict],
    **cles: Any,
) -> Path:
    """Check the question's required keys and write `<dossier>/<code_commune>/<question>.json`."""
    info = questions.get(question)
    if not isinstance(code_commune, str):
        raise ValueError(
            f"Le code commune doit être un texte, pas {type(code_commune).__name__} ({code_commune!r})."
        )
    missing = [k for k in info.required_keys if k not in cles]
    if missing:
        raise ValueError(
            f"Résultats de {question} incomplets : clé(s) obligatoire(s) absente(s) : {', '.join(missing)}."
        )
    data = {
        "question": question,
        "code_commune": code_commune,
        "parametres": parametres,
        "constats": _check_sentences("constats", constats),
        "reserves": _check_sentences("reserves", reserves),
        "chiffres_cles": _check_chiffres(chiffres_cles),
        **cles,
    }
    return atomic.write_json(results_path(dossier, code_commune, question), to_jsonable(data))


def read_results(dossier: Path, code_commune: str | None = None, question: str | None = None) -> list[dict]:
    """Every results file under `dossier` (optionally one commune and/or one question), sorted."""
    dossier = Path(dossier)
    communes = [code_commune] if code_commune is not None else None
    pattern = f"{question}.json" if question is not None else "*.json"
    out = []
    if not dossier.is_dir():
        return out
    for folder in sorted(p for p in dossier.iterdir() if p.is_dir()):
        if communes is not None and folder.name not in communes:
            continue
        for path in sorted(folder.glob(pattern)):
            if path.name.startswith("."):
                continue  # temporary file of a write in progress
            try:
                out.append(json.loads(path.read_text(encoding="utf-8")))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ValueError(f"Fichier de résultats illisible : {path} ({exc})") from None
    return out


def read_result(dossier: Path, code_commune: str, question: str) -> dict | None:
    """One run's results, or None when the notebook has not written them."""
    found = read_results(dossier, code_commune, question)
    return found[0] if found else None
