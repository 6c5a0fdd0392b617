"""q2 and q1 sentences and results pass counts of people through secrecy (issue 9, point 3).

The whole-site scan (tests/test_site_secrecy.py) proves the pages of a tiny-groups run; these
unit tests pin the sentences whose totals the tiny run does not make small: the commune-wide
achievement of q2 and q1, and `privacy.hide_small_bases` on the rates of people."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from test_q1_secret import petit  # noqa: F401 - the fixture (a dispositif with 4 planned, 3 reached)

from cucs_analysis.analysis import privacy
from cucs_analysis.reports import q1
from cucs_analysis.reports.q2 import narrative


def _real(**kw) -> pd.Series:
    base = {
        "annees_base": 30,
        "realises": 120,
        "prevus_realisees": 150,
        "taux_realisation": 0.8,
        "annees_non_pourvues": 1,
        "annees_abandonnees": 0,
        "annees_en_cours": 0,
        "prevus_non_realisees": 40,
    }
    base.update(kw)
    return pd.Series(base)


def test_q2_achievement_sentence_hides_small_totals_and_their_rate():
    shown = narrative.phrase_realisation(_real(), 11)
    assert "120 bénéficiaires pour 150 prévus" in shown and "80,0" in shown
    hidden = narrative.phrase_realisation(_real(realises=3, prevus_realisees=4, taux_realisation=0.75), 11)
    assert "moins de 11 bénéficiaires (secret statistique)" in hidden
    assert "75" not in hidden and " 3 " not in hidden and " 4 " not in hidden
    assert "taux de réalisation n'est pas publié" in hidden
    nr = narrative.phrase_realisation(_real(prevus_non_realisees=7), 11)
    assert "moins de 11 bénéficiaires (secret statistique)" in nr and " 7 " not in nr
    # a raised threshold hides a 12
    assert "moins de 15 bénéficiaires" in narrative.phrase_realisation(_real(prevus_non_realisees=12), 15)


def test_hide_small_bases_hides_the_rate_with_its_count():
    df = pd.DataFrame(
        {
            "numerateur": [7, 40, 0],
            "denominateur": [500, 8, 300],
            "taux": [1.4, 500.0, 0.0],
            "autre": [1, 2, 3],
        }
    )
    st = privacy.hide_small_bases(df, {"numerateur": ["taux"], "denominateur": ["taux"]}, 11)
    v = st.values
    assert np.isnan(v.loc[0, "numerateur"]) and v.loc[0, "denominateur"] == 500 and np.isnan(v.loc[0, "taux"])
    assert v.loc[1, "numerateur"] == 40 and np.isnan(v.loc[1, "denominateur"]) and np.isnan(v.loc[1, "taux"])
    assert v.loc[2].tolist() == [0, 300, 0.0, 3]  # a zero is published
    assert v["autre"].tolist() == [1, 2, 3] and not st.mask["autre"].any()
    assert st.n_secret == 4


def test_q1_dashboard_sentence_hides_small_totals(petit):  # noqa: F811
    r = copy.copy(petit)  # a shallow copy: the shared fixture keeps its own attributes
    r.tableau_de_bord = petit.tableau_de_bord.head(1).assign(
        prevus_realisees=4, realises=3, prevus_non_realisees=5, annees_non_pourvues=1, annees_abandonnees=0
    )
    r.constats, r.textes = [], {}
    q1._narrate(r)
    phrase = next(p for p in r.constats if p.startswith("Sur les actions réalisées"))
    assert "moins de 11 bénéficiaires touchés (secret statistique)" in phrase
    assert "taux de réalisation n'est pas publié" in phrase and "75" not in phrase
    assert "qui prévoyaient moins de 11 bénéficiaires (secret statistique)" in phrase


def test_q2_contribution_chain_hides_small_totals():
    """The contribution chain's second link prints the commune's achievement: below the
    threshold, through secrecy (the demo's 20001 with its totals made small)."""
    from test_q2_issue8 import _build

    _, shared, _ = _build("20001")
    r = copy.copy(shared)  # _contribution rewrites attributes: the cached report stays intact
    r.realisation = r.realisation.assign(realises=3, prevus_realisees=4, taux_realisation=0.75)
    narrative._contribution(r)
    constat = r.contribution.iloc[1]["constat"]
    assert "moins de 11 bénéficiaires (secret statistique)" in constat and "75" not in constat
    assert r.contribution.iloc[1]["lecture"] == "non disponible"
    assert shared.contribution is not r.contribution


def test_q2_categories_of_statements_cannot_be_recovered_from_the_printed_total():
    """The findings print the total of coded statements and each category: a hidden category
    never stands alone (on the demo, 20001's blocages were the total minus the others)."""
    from test_q2_issue8 import _build, _csv

    _, r, p = _build("20001")
    cats = r.bilans_categories
    assert int(cats["n_secret"].sum()) != 1
    b = _csv("bilans")
    mine = b[b["id_action"].isin(r.actions_significatives["id_action"])]
    assert r.bilans_constats == len(mine)
    phrase = next(x for x in r.phrases_bilans if "rassemblent" in x)
    assert f"{len(mine)} constats codés" in phrase.replace("\u202f", " ")
    for row in cats.itertuples():
        n = int((mine["categorie"] == row.categorie).sum())
        if row.n_secret:
            assert "soumis au secret statistique" in phrase and f" {n} " not in phrase
        else:
            assert n >= p.seuil_secret or n == 0
