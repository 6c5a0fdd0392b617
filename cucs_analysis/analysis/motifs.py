"""Why a value is absent: the codes every report, results file and page share.

A value that cannot be computed is ``None`` with one of these codes beside it (DESIGN §6),
never ``False`` or ``0``: a commune outside the CUCS, a missing table, a secret cell and a
rule that cannot be applied are four different things, and only a measured zero prints 0.
French labels live in `cucs_analysis.present.labels.MOTIF_LIBELLES`.
"""

from __future__ import annotations

import pandas as pd

HORS_CUCS = "hors_cucs"  # the commune (or quartier) is not in a CUCS: it is a comparison, not a result
DONNEE_ABSENTE = "donnee_absente"  # a signatory whose table or value is missing from the data
SECRET = "secret"  # hidden by statistical secrecy
NON_CALCULABLE = "non_calculable"  # the data exist but the rule cannot be applied (too short, no base…)

MOTIFS = (HORS_CUCS, DONNEE_ABSENTE, SECRET, NON_CALCULABLE)


def motif_commune(signataire: bool | None, table_presente: bool) -> str | None:
    """The reason a commune has no programme figure, or None when it has one to show.

    `signataire` None (the signatory status is unknown) is missing data, never « hors CUCS »."""
    if signataire is None or pd.isna(signataire):  # None, or pandas' NA from a table cell
        return DONNEE_ABSENTE
    if not signataire:
        return HORS_CUCS
    if not table_presente:
        return DONNEE_ABSENTE
    return None
