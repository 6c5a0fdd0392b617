"""Typology of quartiers: hierarchical clustering on standardised indicators, with each
class described in French words.

Ward's method on z-scores (scipy) is deterministic, which k-means with random starts is not:
the same data always give the same classes, numbered by decreasing size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage

# Thresholds (in standard deviations) for the words used to describe a class profile.
NETTEMENT = 1.0
PLUTOT = 0.5


@dataclass(frozen=True)
class Typology:
    classes: pd.Series  # code_quartier → class number (1 = largest class)
    profils: pd.DataFrame  # class × indicator: mean z-score
    moyennes: pd.DataFrame  # class × indicator: mean raw value
    effectifs: pd.Series  # class → number of quartiers
    descriptions: dict[int, str]  # class → French description


def standardise(features: pd.DataFrame) -> pd.DataFrame:
    """Z-scores per column; a constant column becomes 0 rather than NaN."""
    std = features.std(ddof=0).replace(0, np.nan)
    return ((features - features.mean()) / std).fillna(0.0)


def cluster_quartiers(features: pd.DataFrame, n_classes: int) -> pd.Series:
    """Ward clustering of the rows of `features` (index: code_quartier, complete rows only).

    Classes are renumbered 1..k by decreasing size (ties broken by the first quartier code),
    so the numbering does not depend on scipy's internal order.
    """
    if features.empty:
        return pd.Series(dtype="int64", name="classe")
    k = max(1, min(n_classes, len(features)))
    if len(features) == 1 or k == 1:
        return pd.Series(1, index=features.index, name="classe")
    z = standardise(features)
    raw = fcluster(linkage(z.to_numpy(), method="ward"), t=k, criterion="maxclust")
    labels = pd.Series(raw, index=features.index)
    order = (
        labels.groupby(labels)
        .agg(size="size", first=lambda s: min(s.index))
        .sort_values(["size", "first"], ascending=[False, True])
    )
    renumber = {old: new for new, old in enumerate(order.index, start=1)}
    return labels.map(renumber).rename("classe").astype("int64")


def describe_class(profile: pd.Series, libelles: dict[str, str], max_traits: int = 3) -> str:
    """One French sentence from a class's mean z-scores (above / below the regional mean):
    the `max_traits` most distinctive indicators, strongest first."""
    parts = []
    for ind, z in profile.sort_values(key=np.abs, ascending=False).head(max_traits).items():
        if abs(z) < PLUTOT:
            continue
        force = "nettement" if abs(z) >= NETTEMENT else "plutôt"
        sens = "au-dessus" if z > 0 else "en dessous"
        parts.append(f"{libelles.get(ind, ind).lower()} {force} {sens} de la moyenne")
    if not parts:
        return "Quartiers proches de la moyenne des quartiers étudiés sur tous les indicateurs."
    if len(parts) == 1:
        return f"Quartiers avec {parts[0]}."
    return "Quartiers avec " + ", ".join(parts[:-1]) + " et " + parts[-1] + "."


def build_typology(
    features: pd.DataFrame, n_classes: int, libelles: dict[str, str] | None = None
) -> Typology:
    """Cluster quartiers (rows, complete cases) and describe each class in words."""
    libelles = libelles or {}
    complete = features.dropna()
    classes = cluster_quartiers(complete, n_classes)
    z = standardise(complete)
    profils = z.groupby(classes).mean()
    moyennes = complete.groupby(classes).mean()
    effectifs = classes.value_counts().sort_index().rename("effectif")
    descriptions = {int(c): describe_class(profils.loc[c], libelles) for c in profils.index}
    return Typology(classes, profils, moyennes, effectifs, descriptions)
