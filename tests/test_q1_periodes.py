"""q1 compares the period before the CUCS with the period during it (issue 8, point 2): no
first-year / last-year evolution remains, the years are stated, a dispositif that starts with
the contract says « avant » cannot be tested, and displayed differences come from displayed values."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params
from cucs_analysis.present import text
from cucs_analysis.reports import q1

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def rapport():
    return q1.build(load.load_territory(DEMO, "20001"), params.load_params("20001", ROOT))


def _arrondi(x: float) -> int:
    """Whole euros as printed (half up, not Python's half to even)."""
    return int(Decimal(str(float(x))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _yearly_budget(code: str) -> pd.DataFrame:
    """Plain pandas: granted funding per sector dispositif and year, over the years it has actions."""
    a = pd.read_csv(DEMO / "actions.csv", dtype={"code_commune": str})
    a = a[(a["code_commune"] == code) & (a["dispositif"] != "autre")]
    f = pd.read_csv(DEMO / "financements.csv")
    f = f.merge(a[["id_action", "annee", "dispositif"]].drop_duplicates(), on=["id_action", "annee"])
    money = f.groupby(["dispositif", "annee"])["montant_accorde"].sum()
    years = a[["dispositif", "annee"]].drop_duplicates().set_index(["dispositif", "annee"])
    return years.join(money).fillna(0.0).reset_index()


def test_no_first_last_year_evolution_remains(rapport):
    for vue in rapport.tables.values():
        for col in vue.columns:
            assert "Évolution" not in col and "première" not in col.lower(), col
    assert "evolution_budget" not in rapport.tableau_de_bord.columns
    every = " ".join(rapport.constats + rapport.debat + sum(rapport.textes.values(), []))
    assert "entre la première et la dernière année" not in every
    assert "dernière année)" not in " ".join(rapport.debat)  # withdrawals: before vs during means


def test_budget_before_and_during_recomputed_from_the_csv(rapport):
    y = _yearly_budget("20001")
    board = rapport.tableau_de_bord.set_index("dispositif")
    v = q1.vue_tableau_de_bord(rapport).set_index("Dispositif")
    avant_col = "Budget annuel moyen avant le CUCS (2005-2006)"
    pendant_col = "Budget annuel moyen pendant le CUCS (2007-2014)"
    assert avant_col in v.columns and pendant_col in v.columns  # the years are stated
    for d, g in y.groupby("dispositif"):
        avant = g.loc[g["annee"] < 2007, "montant_accorde"]
        pendant = g.loc[g["annee"] >= 2007, "montant_accorde"]
        if avant.empty:
            assert not board.loc[d, "avant_testable"] and pd.isna(v.loc[d, avant_col]), d
            continue
        assert v.loc[d, avant_col] == pytest.approx(avant.mean())
        assert v.loc[d, pendant_col] == pytest.approx(pendant.mean())
        # the difference is the one of the two amounts as printed (whole euros)
        assert v.loc[d, "Écart pendant − avant"] == _arrondi(pendant.mean()) - _arrondi(avant.mean())


def test_a_dispositif_starting_with_the_contract_says_before_cannot_be_tested(rapport):
    late = rapport.tableau_de_bord.loc[~rapport.tableau_de_bord["avant_testable"], "dispositif"]
    assert "PRE" in set(late)  # the demo's PRE starts in 2009
    phrase = next(p for p in rapport.texte("dispositifs") if "ne peut pas être testé" in p)
    assert "PRE" in phrase and "commencent avec le CUCS ou après" in phrase


def test_displayed_difference_of_the_mainstream_share(rapport):
    row = rapport.part_periodes.iloc[0]
    a, b = text.pourcentage(row["valeur_avant"]), text.pourcentage(row["valeur_pendant"])
    d = text.difference_affichee(row["valeur_avant"], row["valeur_pendant"], 1)
    phrase = next(c for c in rapport.constats if c.startswith("La part du droit commun dans le financement"))
    assert a in phrase and b in phrase and f"soit {text.points(d)}." in phrase
    shown = lambda s: float(s.split("\u00a0")[0].replace(",", ".").replace("\u2212", "-"))  # noqa: E731
    assert d == pytest.approx(shown(b) - shown(a))


def test_cross_of_dispositifs_and_their_domain_mainstream(rapport):
    c = q1.vue_croisement(rapport)
    assert "Droit commun du domaine par an avant (2005-2006)" in c.columns
    assert "Droit commun du domaine par an pendant (2007-2014)" in c.columns
    # each row's type is its domain's substitution type
    types = dict(zip(rapport.substitution["domaine"], rapport.substitution["type"], strict=True))
    for d, t in zip(rapport.croisement["domaine"], rapport.croisement["type"], strict=True):
        assert t == types[d]
    ecart = c["Écart pendant − avant"]
    expected = [
        _arrondi(p) - _arrondi(a)
        for a, p in zip(
            c["Droit commun du domaine par an avant (2005-2006)"],
            c["Droit commun du domaine par an pendant (2007-2014)"],
            strict=True,
        )
    ]
    assert ecart.tolist() == pytest.approx(expected)


def test_budget_sentence_agrees_with_its_counts():
    """« Parmi les N dispositifs déjà financés avant le CUCS, k ont … » with k and N recomputed from
    the dashboard (never « Parmi les 1 », never « Parmi les 10, 10 »)."""
    import re

    from cucs_analysis.data.dataset import load_territory
    from cucs_analysis.pipeline.params import load_params
    from cucs_analysis.reports import q1

    root = Path(__file__).resolve().parents[1]
    for code in ("20001", "20006", "20008"):
        r = q1.build(load_territory(root / "data" / "demo", code), load_params(code, root))
        (phrase,) = [c for c in r.constats if "déjà financé" in c]
        board = r.resultats()["tableau_de_bord"]
        assert "Parmi les 1 " not in phrase and not re.search(
            r"Parmi les (\d+) dispositifs[^,]*, \1 ", phrase
        )
        testables = [b for b in board if b["avant_testable"]]
        hausse = [b for b in testables if b["budget_pendant"] > b["budget_avant"]]
        n, k = len(testables), len(hausse)
        if n == k:
            assert phrase.startswith(f"Les {n} dispositifs déjà financés avant le CUCS ont tous"), phrase
        else:
            assert phrase.startswith(f"Parmi les {n} dispositifs déjà financés avant le CUCS, {k} "), phrase
