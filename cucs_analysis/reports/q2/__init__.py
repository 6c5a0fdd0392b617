"""q2 — « Les moyens alloués aux associations dans le cadre du CUCS ont-ils contribué à améliorer
la situation sociale des publics visés ? »

`build(territoire, region, params)` computes the commune's tables (`tables`) and writes their
French findings (`narrative`); the notebook shows them through `views` and `figures`. The
difference-in-differences is estimated once on the whole region (the region stage: a commune
alone has too few quartiers); every sentence reads it as a trend, never as proof.
"""

from __future__ import annotations

from cucs_analysis.reports.q2.figures import (
    figure_actions,
    figure_ecarts,
    figure_enquetes,
    figure_etude_evenement,
    figure_tendances,
    figures_ecarts,
    figures_etude_evenement,
    figures_tendances,
)
from cucs_analysis.reports.q2.narrative import narrate, phrase_did, sources
from cucs_analysis.reports.q2.tables import (
    LECTURES,
    N_ACTIONS,
    QUESTION_AMELIORATION,
    SECTIONS,
    RapportQ2,
    association_actions,
    compute,
    survey_table,
)
from cucs_analysis.reports.q2.views import (
    vue_actions,
    vue_actions_declarees,
    vue_bilans,
    vue_bilans_themes,
    vue_contribution,
    vue_did,
    vue_ecarts,
    vue_enquetes,
    vue_intensite,
    vue_non_realisees,
    vue_publics,
    vue_qualification,
    vue_tendances,
)

__all__ = [
    "LECTURES",
    "N_ACTIONS",
    "QUESTION_AMELIORATION",
    "RapportQ2",
    "SECTIONS",
    "association_actions",
    "build",
    "figure_actions",
    "figure_ecarts",
    "figure_enquetes",
    "figure_etude_evenement",
    "figure_tendances",
    "figures_ecarts",
    "figures_etude_evenement",
    "figures_tendances",
    "phrase_did",
    "sources",
    "survey_table",
    "vue_actions",
    "vue_actions_declarees",
    "vue_bilans",
    "vue_bilans_themes",
    "vue_contribution",
    "vue_did",
    "vue_ecarts",
    "vue_enquetes",
    "vue_intensite",
    "vue_non_realisees",
    "vue_publics",
    "vue_qualification",
    "vue_tendances",
]


def build(territoire, region, params) -> RapportQ2:
    """The q2 report of one commune; `region` is the region stage (DiD, groups, comparison)."""
    r = compute(territoire, region, params)
    narrate(r, params)
    return r
