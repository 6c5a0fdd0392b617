"""q7 (outils de pilotage): the planted leverage of each steering structure is recovered, the
commune's figures agree with plain pandas on the demo CSVs and with the region stage, the
three states (signatory, partial data, non-signatory, missing table) read correctly, the page
never calls the ratio « effet levier », and the report builds fast."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import region_of

from cucs_analysis.analysis import motifs, structures
from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params
from cucs_analysis.present import plots, text
from cucs_analysis.reports import q7, questions

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
TRUTH = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def _params(code: str = "20001"):
    return params.load_params(code, ROOT)


def _report(code: str):
    p = _params(code)
    return q7.build(load.load_territory(DEMO, code), region_of(DEMO, p), p)


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DEMO / f"{name}.csv", dtype={"code_commune": str})


def _commune_fin(code: str) -> pd.DataFrame:
    act, fin = _csv("actions"), _csv("financements")
    ids = act.loc[act["code_commune"] == code, ["id_action", "annee"]].drop_duplicates()
    return fin.merge(ids, on=["id_action", "annee"])


# --- the planted truth ----------------------------------------------------------------------------


def test_each_structures_leverage_recovers_the_planted_truth():
    """Pooled over each structure's communes, recomputed with analysis.structures from the CSVs."""
    p = _params()
    communes = _csv("communes").assign(signataire_cucs=lambda d: d["signataire_cucs"].eq("oui"))
    ind = structures.commune_indicators(
        communes,
        _csv("actions"),
        _csv("financements"),
        annee_debut_cucs=p.annee_debut_cucs,
        debut=p.periode.debut,
        fin=p.periode.fin,
    )
    res = structures.by_structure(ind)
    got = {s: round(float(v), 2) for s, v in zip(res["structure"], res["effet_levier"], strict=True)}
    assert got == TRUTH["effet_levier"]


def test_the_region_stage_gives_the_same_structures_and_the_report_shows_them():
    r = _report("20001")
    got = {row["structure"]: row["effet_levier"] for row in r.resultats()["structures"]}
    assert got == TRUTH["effet_levier"]
    region = r.communes.set_index("code_commune")
    assert set(region.index) == set(_csv("communes")["code_commune"])  # every commune, once
    assert (region.loc[["20009", "20010", "20011", "20012"], "structure"] == structures.AUCUNE).all()


# --- the commune's figures -------------------------------------------------------------------------


def test_commune_figures_agree_with_plain_pandas_and_with_the_region_stage():
    r = _report("20001")
    f = _commune_fin("20001")
    money = f.pivot_table(
        index=["id_action", "annee"], columns="type_credit", values="montant_accorde", aggfunc="sum"
    )
    money = money.fillna(0.0)
    with_sp = money[money["specifique"] > 0]
    expected = with_sp["droit_commun"].sum() / with_sp["specifique"].sum()
    dec = (pd.to_datetime(f["date_decision"]) - pd.to_datetime(f["date_depot"])).dt.days
    pay = (pd.to_datetime(f["date_paiement"]) - pd.to_datetime(f["date_depot"])).dt.days
    res = r.resultats()
    assert res["effet_levier"] == round(expected, 2)
    assert res["delai_decision_median_jours"] == round(float(dec[dec >= 0].median()), 1)
    assert res["delai_paiement_median_jours"] == round(float(pay[pay >= 0].median()), 1)
    share = (
        100 * f.loc[f["type_credit"] == "droit_commun", "montant_accorde"].sum() / f["montant_accorde"].sum()
    )
    assert res["part_droit_commun"] == round(share, 1)
    row = r.communes.set_index("code_commune").loc["20001"]
    for cle in ("effet_levier", "delai_decision_median", "delai_paiement_median", "taux_renouvellement"):
        assert r.valeur(cle) == pytest.approx(float(row[cle])), cle
    assert row["structure"] == "GIP" and res["structure"] == "GIP"


def test_renewal_rate_recomputed_from_the_actions_csv():
    r = _report("20001")
    p = _params()
    a = _csv("actions")
    a = a[(a["code_commune"] == "20001") & (a["statut"] != "non pourvue")]
    first = a.groupby("id_action")["annee"].transform("min")
    a = a.assign(nouvelle=first == a["annee"])
    during = a[(a["annee"] >= p.annee_debut_cucs) & (a["annee"] > a["annee"].min())]
    expected = 100 * during["nouvelle"].sum() / len(during)
    assert r.resultats()["taux_renouvellement"] == round(expected, 1)


def test_partial_data_commune_reads_normally():
    r = _report("20008")
    res = r.resultats()
    assert r.verdict["motif"] is None
    for cle in (
        "effet_levier",
        "delai_decision_median_jours",
        "delai_paiement_median_jours",
        "taux_renouvellement",
    ):
        assert res[cle] is not None and res[f"{cle}_motif"] is None
    assert "service municipal" in r.verdict["texte"]


def test_non_signatory_is_hors_cucs_everywhere_but_still_sees_the_comparison():
    r = _report("20010")
    res = r.resultats()
    assert r.verdict["motif"] == motifs.HORS_CUCS and "hors CUCS" in r.verdict["texte"]
    for cle in questions.get("q7").required_keys[1:]:
        assert res[cle] is None and res[f"{cle}_motif"] == motifs.HORS_CUCS
    assert res["structure"] == structures.AUCUNE and res["structure_motif"] == motifs.HORS_CUCS
    assert all(c["valeur"] is None and c["motif"] == motifs.HORS_CUCS for c in r.chiffres_cles)
    assert "n'a pas signé de CUCS" in r.constats[0]
    v = q7.vue_cofinancement_periodes(r)
    assert v.empty and v.attrs["motif"] == motifs.HORS_CUCS
    assert len(q7.vue_communes(r)) == 8 and not q7.vue_communes(r).iloc[:, 2].any()  # no row is Esterbourg


def test_signatory_without_funding_table_is_donnee_absente():
    p = _params()
    t = load.load_territory(DEMO, "20001")
    t = dataclasses.replace(t, financements=t.financements.iloc[0:0])
    r = q7.build(t, region_of(DEMO, p), p)
    res = r.resultats()
    assert r.verdict["motif"] == motifs.DONNEE_ABSENTE
    assert res["effet_levier"] is None and res["effet_levier_motif"] == motifs.DONNEE_ABSENTE
    assert all(c["motif"] == motifs.DONNEE_ABSENTE for c in r.chiffres_cles)
    assert "données non disponibles" in r.texte("cofinancement")[0]


# --- the page ---------------------------------------------------------------------------------------


def _headings() -> list[str]:
    nb = json.loads((ROOT / "notebooks" / "q7_pilotage.ipynb").read_text(encoding="utf-8"))
    lines = [
        ln for c in nb["cells"] if c["cell_type"] == "markdown" for ln in "".join(c["source"]).splitlines()
    ]
    return [ln[3:].strip() for ln in lines if ln.startswith("## ")]


@pytest.mark.parametrize("code", ["20001", "20008", "20010"])
def test_verdict_answers_with_its_reason_and_points_to_a_notebook_heading(code):
    r = _report(code)
    assert r.verdict["section"] in _headings()
    assert set(q7.SECTIONS.values()) <= set(_headings())
    assert r.verdict["texte"].startswith("Pilotage")
    if r.verdict["motif"] is None:
        assert "tendance" in r.verdict["texte"] and "pas un classement" in r.verdict["texte"]


def test_the_ratio_is_never_called_effet_levier_on_the_page():
    for code in ("20001", "20008", "20010"):
        r = _report(code)
        phrases = [*r.constats, *r.reserves, *r.debat, r.verdict["texte"]]
        phrases += [p for v in r.textes.values() for p in v]
        phrases += [c["libelle"] for c in r.chiffres_cles]
        phrases += [h for v in r.tables.values() for h in v.columns]
        assert not [p for p in phrases if re.search(r"effet\s+levier", p, re.IGNORECASE)]


def test_small_numbers_are_stated_and_the_spread_is_shown():
    r = _report("20001")
    comp = " ".join(r.texte("comparaison"))
    assert "aucun classement" in comp and "tendance" in comp
    n = r.communes_comparees.groupby("structure").size()
    assert f"{n['GIP']} GIP" in comp
    s = q7.vue_structures(r)
    assert len(s) == 3
    lo, hi = s.columns[3], s.columns[4]  # the min–max of the commune values
    assert (s[lo] <= s[hi]).all() and (s[lo] < s[hi]).any()


def test_views_hold_numbers_and_the_figures_have_alt_text():
    r = _report("20001")
    t = r.tables
    assert {
        "cofinancement_periodes",
        "cofinancement_annee",
        "delais_periodes",
        "renouvellement",
        "communes",
    } <= set(t)
    assert pd.api.types.is_numeric_dtype(t["cofinancement_annee"].iloc[:, 4])
    # one unit for the ratio on the page: « par euro », as the sentences (not « pour 100 € »)
    per = t["cofinancement_periodes"][q7.PAR_EURO]
    m = r.montants_periodes.set_index("mesure")
    assert per.tolist() == pytest.approx(m.loc["effet_levier", ["valeur_avant", "valeur_pendant"]].tolist())
    # the share of mainstream funding comes with its two amounts
    per = t["cofinancement_periodes"]
    dc, tot = per["Droit commun accordé, toutes actions (€)"], per["Total accordé, toutes actions (€)"]
    assert (100 * dc / tot).tolist() == pytest.approx(per["Part du droit commun (%)"].tolist())
    assert dc.tolist() == m.loc["part_droit_commun", ["numerateur_avant", "numerateur_pendant"]].tolist()
    for fig in (q7.figure_cofinancement(r), q7.figure_comparaison(r)):
        assert plots.get_alt(fig) and "Valbrune" in plots.get_alt(fig)
        plots.figure_html(fig)
    assert q7.figure_cofinancement(_report("20010")) is None


def test_results_are_json_and_hold_the_required_keys():
    for code in ("20001", "20010"):
        res = _report(code).resultats()
        json.dumps(res, allow_nan=False)
        assert set(questions.get("q7").required_keys) <= set(res)


def test_report_builds_in_well_under_a_second():
    p = _params()
    t = load.load_territory(DEMO, "20001")
    region = region_of(DEMO, p)
    q7.build(t, region, p)  # warm-up (imports)
    t0 = time.perf_counter()
    q7.build(t, region, p)
    assert time.perf_counter() - t0 < 1.0  # ~0.15 s on an idle machine


def test_an_unknown_structure_is_said_not_guessed():
    p = _params()
    t = load.load_territory(DEMO, "20001")
    t = dataclasses.replace(t, commune={**t.commune, "structure_pilotage": None})
    r = q7.build(t, region_of(DEMO, p), p)
    assert r.structure == structures.INCONNUE
    assert r.verdict["texte"].startswith("Pilotage (structure de pilotage inconnue)")
    assert r.texte("structure")[0].startswith("Structure de pilotage inconnue (n.d.)")
    assert r.resultats()["structure_motif"] == motifs.DONNEE_ABSENTE
    assert r.resultats()["effet_levier"] is not None  # the figures themselves stay computable


def _toutes_phrases(r) -> list[str]:
    return [
        *r.constats,
        *r.reserves,
        *r.debat,
        *(x for v in r.textes.values() for x in v),
        r.verdict["texte"],
        *(c["libelle"] for c in r.chiffres_cles),
        *q7.SECTIONS.values(),
    ]


def test_key_figures_say_what_q7_adds_in_euros_per_euro():
    """The regional table reads the first two key figures: co-funding per euro (« 1,78 € », not
    « 2 € ») and the decision delay, not the share of mainstream funding q1 already gives."""
    r = _report("20001")
    ids = [c["id"] for c in r.chiffres_cles]
    assert ids[:2] == ["effet_levier", "delai_decision_median_jours"]
    lev = r.chiffres_cles[0]
    assert lev["unite"] == text.EUROS_PAR_EURO
    assert lev["valeur"] == round(r.valeur("effet_levier"), 2)
    assert text.chiffre_cle(lev["valeur"], lev["unite"]) == text.euros(
        r.valeur("effet_levier"), 2
    )  # « 1,78 € »


def test_novelty_is_never_called_renewal_on_the_page():
    for code in ("20001", "20008"):
        r = _report(code)
        phrases = _toutes_phrases(r) + q7.sources(r, _params(code), load.load_territory(DEMO, code).metadata)
        assert not [p for p in phrases if re.search(r"renouvellement", p, re.IGNORECASE)], code
        assert "taux de nouveauté" in " ".join(phrases)
    res = _report("20001").resultats()
    assert res["taux_renouvellement"] == round(_report("20001").valeur("taux_renouvellement"), 1)


def test_unpaid_requests_of_the_last_year_are_counted_and_flagged():
    """Right-censored payment delays: the page says how many requests of the last year are
    unpaid, that its delay is underestimated, and the median without that year."""
    f = _csv("financements")
    a = _csv("actions")
    f = f.merge(a[["id_action", "code_commune"]].drop_duplicates(), on="id_action")
    f = f[(f["code_commune"] == "20001") & f["annee"].between(2005, 2014)]
    derniere = int(f["annee"].max())
    depot, paie = pd.to_datetime(f["date_depot"]), pd.to_datetime(f["date_paiement"])
    delai = (paie - depot).dt.days.where(lambda d: d >= 0)
    last = f["annee"] == derniere
    non_payees = int((last & delai.isna()).sum())
    assert non_payees > 0  # the demo's data end before every 2014 request is paid
    sans = delai[(f["annee"] >= 2007) & (f["annee"] < derniere)].median()
    r = _report("20001")
    phrase = next(p for p in r.texte("delais") if "sous-estimé" in p)
    assert f"{non_payees} des {int(last.sum())} demandes de {derniere}" in phrase.replace("\u202f", " ")
    assert f"{round(sans)} jours" in phrase
    assert any("sous-estimé" in x and str(derniere) in x for x in r.reserves)
    res = r.resultats()["paiements_non_observes"]
    assert res["non_payees"] == non_payees and res["annee"] == derniere
    v = q7.vue_delais_annee(r)
    assert v["Demandes sans paiement enregistré"].iloc[-1] == non_payees


def test_shares_come_with_their_amounts_and_ranges_say_the_unit_once():
    r = _report("20001")
    phrase = next(p for p in r.texte("cofinancement") if p.startswith("Le droit commun représente"))
    assert text.euros(r.droit_commun_total) in phrase and text.euros(r.financement_total) in phrase
    comp = " ".join(r.texte("comparaison"))
    assert not re.search(r"de \d+ jours? à", comp)
    assert re.search(r"de \d+ à \d+ jours", comp)


def test_downloads_have_french_titles_and_labels_for_codes():
    from cucs_analysis.pipeline import publish

    res = _report("20001").resultats()
    tables = publish.results_tables(res)
    propres = set(tables) - {"constats", "reserves", "debat", "chiffres_cles"}
    assert propres and propres <= set(res["libelles_tables"])
    codes = res["libelles_codes"]
    for key, t in tables.items():
        if "mesure" in t.columns:
            assert set(t["mesure"]) <= set(codes["mesure"]), key
    assert set(tables["structures"]["structure"]) <= set(codes["structure"])
    assert codes["structure"]["service municipal"] == "Service municipal"
    json.dumps(res, allow_nan=False)


def test_a_measured_zero_of_new_operators_reads_aucun():
    for code in ("20001", "20008"):
        r = _report(code)
        o = r.renouvellement_periodes.set_index("mesure").loc["nouveaux_operateurs"]
        phrase = r.texte("renouvellement")[0]
        if int(o["numerateur_pendant"]) == 0:
            assert "aucun opérateur financé" in phrase and "0,0 %" not in phrase
        else:
            assert text.pourcentage(o["valeur_pendant"]) in phrase
