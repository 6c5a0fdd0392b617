"""Typology of quartiers: hierarchical clustering on standardised indicators, with the
distinctive traits of each class as data.

Ward's method on z-scores (scipy) is deterministic, which k-means with random starts is not:
the same data always give the same classes, numbered by decreasing size. Each class's traits
are codes (indicator, strength, direction); the French sentence that describes a class is
written by the presentation layer (`cucs_analysis.present.labels.describe_class`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage

# Thresholds (in standard deviations) of the strength codes of a trait.
NETTEMENT = 1.0
PLUTOT = 0.5

#: Strength codes of a trait: |z| >= NETTEMENT, or PLUTOT <= |z| < NETTEMENT.
FORCES = ("nettement", "plutot")
#: Direction codes of a trait: class mean above or below the mean of the quartiers studied.
SENS = ("au_dessus", "en_dessous")


@dataclass(frozen=True)
class Trait:
    """One distinctive trait of a class: an indicator whose class mean z-score is far from 0."""

    indicateur: str
    force: str  # one of FORCES
    sens: str  # one of SENS
    z: float  # the class's mean z-score on the indicator


@dataclass(frozen=True)
class Typology:
    classes: pd.Series  # code_quartier → class number (1 = largest class)
    profils: pd.DataFrame  # class × indicator: mean z-score
    moyennes: pd.DataFrame  # class × indicator: mean raw value
    effectifs: pd.Series  # class → number of quartiers
    traits: dict[int, list[Trait]]  # class → its distinctive traits, strongest first
    libelles: dict[str, str] = field(default_factory=dict)  # indicator → label, as given


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


def distinctive_traits(profile: pd.Series, max_traits: int = 3) -> list[Trait]:
    """The distinctive traits of a class from its mean z-scores: among the `max_traits`
    indicators furthest from 0, those with |z| >= PLUTOT, strongest first. An empty list
    means a class close to the mean on every indicator."""
    traits = []
    for ind, z in profile.sort_values(key=np.abs, ascending=False).head(max_traits).items():
        if abs(z) < PLUTOT:
            continue
        force = "nettement" if abs(z) >= NETTEMENT else "plutot"
        sens = "au_dessus" if z > 0 else "en_dessous"
        traits.append(Trait(str(ind), force, sens, float(z)))
    return traits


def build_typology(
    features: pd.DataFrame, n_classes: int, libelles: dict[str, str] | None = None
) -> Typology:
    """Cluster quartiers (rows, complete cases) and find each class's distinctive traits.

    `libelles` (indicator → label) is kept as given for the presentation layer."""
    complete = features.dropna()
    classes = cluster_quartiers(complete, n_classes)
    z = standardise(complete)
    profils = z.groupby(classes).mean()
    moyennes = complete.groupby(classes).mean()
    effectifs = classes.value_counts().sort_index().rename("effectif")
    traits = {int(c): distinctive_traits(profils.loc[c]) for c in profils.index}
    return Typology(classes, profils, moyennes, effectifs, traits, dict(libelles or {}))
