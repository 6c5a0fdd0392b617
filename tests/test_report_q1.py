"""q1 (droit commun et dispositifs): the report recovers the planted substitution types, its
numbers and sentences agree with plain pandas on the demo CSVs, its views hold numbers, a
commune without a programme gives empty results and views that say what is missing, and the
notebook runs end to end through the runner."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cucs_analysis.analysis import funding
from cucs_analysis.data import dataset as load
from cucs_analysis.data import readers
from cucs_analysis.pipeline import params
from cucs_analysis.present import display, plots
from cucs_analysis.reports import q1

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
TRUTH = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))
COMMUNES = pd.read_csv(DEMO / "communes.csv", dtype=str)
SIGNATAIRES = COMMUNES.loc[COMMUNES["signataire_cucs"] == "oui", "code_commune"].tolist()
NBSP, NNBSP = "\u00a0", "\u202f"
#: The demo plants its substitution types in current euros (tests/test_q1_euros_constants.py says
#: what constant euros change and why).
EUROS_COURANTS = {"euros_constants": {"actif": False}}


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def _report(code: str, overrides: dict | None = None):
    return q1.build(load.load_territory(DEMO, code), params.load_params(code, ROOT, overrides))


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DEMO / f"{name}.csv", dtype={"code_commune": str, "code_territoire": str})


def _fr(x: float, decimales: int) -> str:
    """Plain French formatting for the checks: 1 234,5 (narrow no-break space for thousands)."""
    s = f"{x:,.{decimales}f}"
    return s.replace(",", NNBSP).replace(".", ",")


def test_substitution_recovers_every_planted_type():
    found = []
    for code in SIGNATAIRES:
        got = _report(code, EUROS_COURANTS).resultats()["substitution"]
        expected = [t for t in TRUTH["substitution"] if t["code_territoire"] == code]
        key = lambda t: t["domaine"]  # noqa: E731
        assert sorted(got, key=key) == sorted(expected, key=key), code
        found += got
    assert len(found) == len(TRUTH["substitution"]) == 48


def test_part_droit_commun_and_sentences_match_plain_pandas():
    r = _report("20001")
    res = r.resultats()
    act = _csv("actions")
    ids = set(act.loc[act["code_commune"] == "20001", "id_action"])
    fin = _csv("financements")
    fin = fin[fin["id_action"].isin(ids)]
    by_year = fin.pivot_table(index="annee", columns="type_credit", values="montant_accorde", aggfunc="sum")
    part = by_year["droit_commun"] / by_year.sum(axis=1)
    assert [p["annee"] for p in res["part_droit_commun"]] == part.index.tolist()
    assert [p["part"] for p in res["part_droit_commun"]] == pytest.approx(part.tolist())

    total = fin["montant_accorde"].sum()
    dc = fin.loc[fin["type_credit"] == "droit_commun", "montant_accorde"].sum()
    sentence = next(c for c in r.constats if c.startswith("Sur 2005-2014, les actions"))
    assert f"{_fr(total, 0)}{NBSP}€" in sentence
    assert f"part du droit commun : {_fr(100 * dc / total, 1)}{NBSP}%" in sentence
    # before (2005-2006) vs during (2007-2014): pooled shares, never the first and the last year
    avant, pendant = by_year.loc[[2005, 2006]].sum(), by_year.loc[2007:2014].sum()
    pa, pp = 100 * avant["droit_commun"] / avant.sum(), 100 * pendant["droit_commun"] / pendant.sum()
    per = res["part_droit_commun_periodes"]
    assert per["avant"]["annees"] == 2 and per["pendant"]["annees"] == 8
    assert per["avant"]["part"] == pytest.approx(pa / 100) and per["pendant"]["part"] == pytest.approx(
        pp / 100
    )
    assert per["avant"]["total"] == pytest.approx(avant.sum())
    shown = round(float(_fr(pp, 1).replace(",", ".")) - float(_fr(pa, 1).replace(",", ".")), 1)
    phrase = next(c for c in r.constats if c.startswith("La part du droit commun dans le financement"))
    assert f"est de {_fr(pa, 1)}{NBSP}% avant le CUCS (2005-2006" in phrase
    assert f"de {_fr(pp, 1)}{NBSP}% pendant (2007-2014" in phrase
    signe = "+" if shown > 0 else ("\u2212" if shown < 0 else "")
    assert f"soit {signe}{_fr(abs(shown), 1)}{NBSP}point" in phrase
    assert not any("en 2005 à" in c for c in r.constats)  # no first-year / last-year reading
    # the planted durable substitution of 20001 is named in the findings and put to the debate
    durable = [
        t["domaine"]
        for t in TRUTH["substitution"]
        if t["code_territoire"] == "20001" and t["type"] == "substitution_durable"
    ]
    assert durable == ["education"]
    courants = _report("20001", EUROS_COURANTS)
    assert any("1 domaine en substitution durable (« éducation »)" in c for c in courants.constats)
    assert any(d.startswith("En éducation, le droit commun reste") and "l'État" in d for d in courants.debat)
    assert any(d.startswith("En éducation, le droit commun reste") and "l'État" in d for d in r.debat)


def test_mainstream_matrix_and_dashboard_match_plain_pandas():
    r = _report("20001")
    dc = _csv("droit_commun")
    dc = dc[(dc["code_territoire"] == "20001") & (dc["mesure"] == "credits") & (dc["niveau"] == "commune")]
    expected = dc.pivot_table(
        index="institution", columns="domaine", values="valeur", aggfunc="sum", fill_value=0
    )
    got = r.droit_commun.reindex(index=expected.index, columns=expected.columns)
    assert got.fillna(0).to_numpy() == pytest.approx(expected.to_numpy().astype(float))
    assert set(r.droit_commun.index) == set(expected.index)
    # a cell without any declared row is empty (n.d.), not 0; a declared 0 would stay 0
    declared = dc.groupby(["institution", "domaine"]).size()
    empty = {(i, d) for i, d in got.stack(future_stack=True).index if pd.isna(got.loc[i, d])}
    assert empty == {(i, d) for i in expected.index for d in expected.columns} - set(declared.index)
    assert empty, "the demo declares every institution in every domain: nothing to distinguish"

    act = _csv("actions")
    act = act[act["code_commune"] == "20001"]
    board = r.tableau_de_bord.set_index("dispositif")
    n = act.groupby("dispositif")["id_action"].nunique()
    sector = n.drop("autre")
    assert board["actions"].reindex(sector.index).to_dict() == sector.to_dict()
    hors = board[board.index.str.endswith(q1.HORS_DISPOSITIF)]
    assert hors["actions"].sum() == n["autre"]  # « autre » split into its programmes, none lost
    # the non-euro means are reported, not summed
    assert r.droit_commun_autres_mesures["mesure"].tolist() == ["postes"]


def test_parameters_drive_the_typology_and_the_stated_rule():
    r = _report("20001")
    assert "plus de 10\u00a0% à cette base" in q1.regle(r)
    assert "moyenne des crédits de droit commun de 2005 et 2006" in q1.regle(r)
    assert "plus de 3 ans de suite" in q1.regle(r)
    # a tolerance of 60 % no longer sees the education fall (to about 65 % of its base) as below
    loose = _report("20001", {"substitution": {"tolerance": 0.6}, **EUROS_COURANTS})
    types = dict(zip(loose.substitution["domaine"], loose.substitution["type"], strict=True))
    assert types["education"] == "complementarite"
    assert "plus de 60\u00a0% à cette base" in q1.regle(loose)


def test_actions_at_stake_follow_the_reprise_parameters():
    truth = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))["actions_enjeu_reprise"]["20001"]
    r = _report("20001")
    assert sorted(r.actions_en_jeu["id_action"]) == truth and len(truth) >= 2
    assert any(
        c.startswith(
            f"{len(truth)} actions dépendent à 80\u00a0% ou plus des crédits spécifiques depuis au moins 3 ans"
        )
        for c in r.constats
    )
    # A longer run keeps only the actions mostly specific for 4 years or more; the rule stated follows.
    long = _report("20001", {"reprise": {"duree_min_annees": 4}})
    kept = set(long.actions_en_jeu["id_action"])
    assert kept < set(truth) and (long.actions_en_jeu["annees_consecutives"] >= 4).all()
    meta, _ = readers.read_metadata(DEMO / "metadonnees.yaml")
    stated = q1.sources(long, params.load_params("20001", ROOT), meta)
    assert any("depuis au moins 4 ans de suite" in x for x in stated)
    # No planted action is at exactly 100 % every year, so a threshold of 100 % keeps fewer.
    strict = _report("20001", {"reprise": {"seuil_specifique": 1.0}})
    assert set(strict.actions_en_jeu["id_action"]) < set(truth)
    assert any("à 100\u00a0% ou plus" in c for c in strict.constats)


def test_figures_have_french_alt_text():
    r = _report("20001")
    for f in (q1.figure_droit_commun, q1.figure_financements, q1.figure_dispositifs, q1.figure_substitution):
        fig = f(r)
        assert fig is not None, f.__name__
        assert "Valbrune-sur-Lèze" in plots.get_alt(fig)
    assert "éducation : substitution durable" in plots.get_alt(q1.figure_substitution(r))


def test_non_signatory_commune_gives_empty_results():
    r = _report("20012")
    assert not r.signataire and r.motif_programme == "hors_cucs"
    res = r.resultats()
    assert res["substitution"] == [] and res["part_droit_commun"] == [] and res["tableau_de_bord"] == []
    assert res["motifs"]["substitution"] == "hors_cucs" and res["motifs"]["part_droit_commun"] == "hors_cucs"
    assert r.constats[0].startswith("Sept-Ormeaux n'a pas signé de CUCS") and "(hors CUCS)" in r.constats[0]
    assert not any("pas de programmation CUCS dans les données" in c for c in r.constats)
    for f in (q1.figure_financements, q1.figure_dispositifs, q1.figure_substitution):
        assert f(r) is None
    assert q1.figure_droit_commun(r) is not None  # mainstream means exist without a contract
    assert "hors CUCS" in r.texte("substitution")[0] and r.actions_en_jeu.empty
    for c in r.chiffres_cles:
        if c["id"] != "droit_commun_par_habitant":  # measured for every commune
            assert c["valeur"] is None and c["motif"] == "hors_cucs", c


def _numbers_only(vue: pd.DataFrame) -> None:
    """Every column of a view whose unit is not text holds numbers, never formatted strings."""
    for col, unite in vue.attrs["unites"].items():
        if unite != "texte":
            assert pd.api.types.is_numeric_dtype(vue[col]), col


def test_views_hold_numbers_for_the_analyst():
    r = _report("20001")
    t = r.tables
    assert set(t) == {
        "droit_commun",
        "tableau_de_bord",
        "realisation",
        "actions_non_realisees",
        "programmes",
        "croisement",
        "financement_annee",
        "substitution",
        "actions_en_jeu",
        "actions_substitution",
    }
    for vue in t.values():
        assert not vue.empty
        _numbers_only(vue)
    board = t["tableau_de_bord"]
    budget = "Budget 2005-2014 (euros courants)"
    assert pd.api.types.is_float_dtype(board[budget]) and board.attrs["unites"][budget] == "euros_compacts"
    assert board[budget].sum() == pytest.approx(r.tableau_de_bord["budget"].sum())
    assert board["Dispositif"].tolist() == r.tableau_de_bord["dispositif"].tolist()  # same order
    assert board["Années"].iloc[0] == "2005-2014"
    parts = t["financement_annee"]["Part du droit commun"]
    assert parts.tolist() == pytest.approx(r.financement_annee["part_droit_commun"].tolist())  # fractions
    # institutions × domains with French headers, the largest total first
    dc = t["droit_commun"]
    assert list(dc.columns[[0, -1]]) == ["Institution", "Total"] and "Éducation" in dc.columns
    assert dc["Total"].tolist() == sorted(dc["Total"], reverse=True)
    assert dc["Total"].sum() == pytest.approx(r.droit_commun.sum().sum())
    assert dc["Institution"].iloc[0] == "État"
    assert "Substitution durable" in t["substitution"]["Type"].tolist()
    en_jeu = t["actions_en_jeu"]
    assert (en_jeu["Part des crédits spécifiques"] >= r.seuil_specifique).all()
    assert "Éducation" in en_jeu["Domaine"].tolist()  # domains in French, not codes
    # formatting happens at display only
    html = display.tableau(board, legende="Tableau de bord par dispositif").fragment
    assert "M€" in html and "<caption>Tableau de bord par dispositif</caption>" in html
    # the substitution table says which euros it shows
    assert "Base (€ constants 2014)" in t["substitution"].columns


def test_non_signatory_views_say_what_is_missing():
    r = _report("20012")
    for vue in (
        q1.vue_tableau_de_bord,
        q1.vue_realisation,
        q1.vue_programmes,
        q1.vue_croisement,
        q1.vue_financement_annee,
        q1.vue_substitution,
        q1.vue_actions_en_jeu,
        q1.vue_actions_substitution,
    ):
        v = vue(r)
        assert v.empty and len(v.columns) >= 5, vue.__name__  # absent data: headers kept, no row
        assert v.attrs["vide"] in display.tableau(v).fragment
        assert v.attrs["motif"] == "hors_cucs", vue.__name__
        # the reason leads the sentence, said once: « Hors CUCS : <what>. », never « Données non disponibles »
        assert display.tableau(v).texte == f"Hors CUCS : {v.attrs['vide']}.", vue.__name__
    assert q1.vue_tableau_de_bord(r).attrs["vide"].startswith("tableau de bord des dispositifs")
    # mainstream means exist without a contract
    assert set(q1.vue_droit_commun(r)["Institution"]) == {i[:1].upper() + i[1:] for i in r.droit_commun.index}


def test_institution_withdrawals_on_a_small_frame():
    dc = pd.DataFrame(
        {
            "institution": [
                "État",
                "État",
                "État",
                "État",
                "commune",
                "commune",
                "commune",
                "commune",
                "CAF",
            ],
            "domaine": ["education"] * 8 + ["sante"],
            "niveau": "commune",
            "code_territoire": "99001",
            "annee": [2005, 2006, 2010, 2014, 2005, 2006, 2010, 2014, 2010],
            "mesure": "credits",
            "valeur": [100.0, 100.0, 40.0, 100.0, 50.0, 50.0, 60.0, 60.0, 10.0],
            "unite": "€",
        }
    )
    out = q1.institution_withdrawals(dc, "99001", 2007, 2005, 2014).set_index("domaine")
    edu = out.loc["education"]
    # mean before (2005-2006) 100, mean during (2010, 2014) 70: the State withdrew 30 a year,
    # although its last year equals its first (a first/last-year reading would see no change)
    assert edu["institution"] == "État" and edu["avant"] == 100 and edu["pendant"] == 70
    assert edu["variation"] == -30.0
    # a domain observed only during the contract cannot say who withdrew
    assert "sante" not in out.index


def test_actions_in_durable_domains_on_a_small_frame():
    actions = pd.DataFrame(
        {
            "id_action": ["A", "B", "C", "A"],
            "annee": [2014, 2014, 2014, 2013],
            "intitule": ["a", "b", "c", "a"],
            "thematique": ["education", "education", "sante", "education"],
            "dispositif": ["CLAS", "PRE", "ASV", "CLAS"],
            "statut": ["réalisée", "abandonnée", "réalisée", "réalisée"],
        }
    )
    fin = pd.DataFrame(
        {
            "id_action": ["A", "A", "C", "A"],
            "annee": [2014, 2014, 2014, 2013],
            "institution": ["État", "commune", "État", "État"],
            "type_credit": ["specifique", "droit_commun", "specifique", "specifique"],
            "montant_demande": 0.0,
            "montant_accorde": [100.0, 50.0, 70.0, 999.0],
        }
    )
    typo = pd.DataFrame(
        {"domaine": ["education", "sante"], "type": ["substitution_durable", "complementarite"]}
    )
    out = funding.actions_in_durable_domains(actions, fin, typo)
    # B is abandoned, C is in a complementary domain, 2013 money is not the last year's
    assert out["id_action"].tolist() == ["A"]
    assert out.loc[0, "montant_specifique"] == 100.0 and out.loc[0, "montant_droit_commun"] == 50.0


@pytest.mark.slow
def test_notebook_runs_through_the_runner(demo_run):
    tmp_path = demo_run  # the shared run of q1, q2 and q4 (conftest.py)
    for code in ("20001", "20012"):
        res = json.loads((tmp_path / "results" / code / "q1.json").read_text(encoding="utf-8"))
        assert {"substitution", "part_droit_commun", "constats", "reserves", "chiffres_cles"} <= set(res)
        assert res["code_commune"] == code
    rich = json.loads((tmp_path / "results" / "20001" / "q1.json").read_text(encoding="utf-8"))
    # the run's results are the report's on the same parameters (constant euros by default)
    assert rich["substitution"] == _report("20001").resultats()["substitution"]
    assert rich["euros"] == {
        "constants": True,
        "annee_reference": 2014,
        "source_inflation": rich["euros"]["source_inflation"],
    }
    assert len(rich["part_droit_commun"]) == 10
    assert rich["verdict"]["motif"] is None and rich["verdict"]["texte"].startswith("Droit commun : ")
    poor = json.loads((tmp_path / "results" / "20012" / "q1.json").read_text(encoding="utf-8"))
    assert poor["substitution"] == [] and poor["part_droit_commun"] == []
    assert poor["motifs"]["substitution"] == "hors_cucs" and poor["verdict"]["motif"] == "hors_cucs"
    assert all(
        c["valeur"] is None and c["motif"] == "hors_cucs"
        for c in poor["chiffres_cles"]
        if c["id"] != "droit_commun_par_habitant"
    )
    page = (tmp_path / "site" / "pages" / "20012" / "q1.html").read_text(encoding="utf-8")
    # each section without data says so once (the page drops the repeats of its tables and figures)
    per_section = [part.count("Données non disponibles") for part in page.split("<h2")]
    assert max(per_section) == 1, per_section
    parts = page.split("<h2")[1:]
    titles = [part.split(">", 1)[1].split("<", 1)[0] for part in parts]
    for numero in ("2.", "3.", "4.", "5.", "6.", "7."):
        texte = next(p for t, p in zip(titles, parts, strict=True) if t.startswith(numero))
        assert "hors CUCS" in texte and "n'a pas signé de CUCS" in texte, numero
    assert "pas de programmation CUCS" not in page
    assert "Crédits de droit commun par institution et domaine" in page  # means without a contract
    assert "ctx = demarrer" not in page
    rich = (tmp_path / "site" / "pages" / "20001" / "q1.html").read_text(encoding="utf-8")
    assert "Données non disponibles" not in rich
    assert "<caption>Tableau de bord par dispositif" in rich and "M€" in rich
    assert "<caption>Paramètres utilisés</caption>" in rich and "substitution.tolerance" in rich
    assert "Résultats enregistrés" not in rich
