"""q8 (proximité): the planted GUP trends are found, the rates agree with plain pandas on the
demo CSVs, the three states (rich, partial data, non-signatory) read correctly, and reports
counts go through statistical secrecy."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from cucs_analysis.analysis import motifs
from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params
from cucs_analysis.present import display, text
from cucs_analysis.reports import q8

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def _report(code: str, overrides: dict | None = None):
    return q8.build(load.load_territory(DEMO, code), params.load_params(code, ROOT, overrides))


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DEMO / f"{name}.csv", dtype={"code_commune": str, "code_territoire": str})


def test_planted_gup_trends_found_and_nothing_else():
    truth = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))["gup_tendance"]
    com = _csv("communes")
    found = []
    for code in com.loc[com["signataire_cucs"].astype(str).str.lower().isin(["oui", "true"]), "code_commune"]:
        found += _report(code).resultats()["tendances_gup"]
    key = lambda d: (d["code_quartier"], d["categorie"])  # noqa: E731
    assert sorted(found, key=key) == sorted(truth, key=key)
    assert found  # the demo plants at least one


def test_gup_rates_agree_with_plain_pandas():
    r = _report("20001")
    gup = _csv("gup")
    gup["annee"] = pd.to_datetime(gup["date"]).dt.year
    ind = _csv("indicateurs")
    pop = ind[(ind["indicateur"] == "population") & (ind["niveau"] == "quartier")]
    rows = {(g["code_quartier"], g["categorie"]): g for g in r.resultats()["gup"]}
    q, c = "QP020002", "propreté"
    n = int(((gup["code_quartier"] == q) & (gup["categorie"] == c)).sum())
    p = pop.loc[pop["code_territoire"] == q, "valeur"].sum()  # one value per year 2005-2014
    assert rows[(q, c)]["signalements"] == n
    assert rows[(q, c)]["signalements_pour_1000_hab"] == pytest.approx(1000 * n / p, abs=0.01)
    assert rows[(q, c)]["tendance"] == "baisse"
    resolved = gup[(gup["code_quartier"] == q) & (gup["categorie"] == c) & (gup["statut"] == "résolu")]
    assert rows[(q, c)]["delai_median_jours"] == pytest.approx(resolved["delai_resolution_jours"].median())
    # the interval of the yearly change surrounds it and excludes 0 for a net trend
    row = rows[(q, c)]
    assert row["ic_bas"] < row["variation_annuelle"] < row["ic_haut"] < 0


def test_facilities_per_1000_quartier_vs_commune_same_year():
    r = _report("20001")
    eq = _csv("equipements")
    ind = _csv("indicateurs")
    annee = int(eq["annee"].max())
    n = eq[(eq["niveau"] == "commune") & (eq["code_territoire"] == "20001") & (eq["annee"] == annee)][
        "nombre"
    ].sum()
    pop = ind[
        (ind["indicateur"] == "population") & (ind["code_territoire"] == "20001") & (ind["annee"] == annee)
    ]["valeur"].iloc[0]
    rows = {e["code_territoire"]: e for e in r.resultats()["equipements"]}
    assert rows["20001"]["pour_1000_hab"] == pytest.approx(1000 * n / pop, abs=0.001)
    assert rows["20001"]["annee"] == annee
    assert {"QP020001", "QP020002", q8.ENSEMBLE} <= set(rows)


def test_rich_commune_sentences_verdict_and_fiche():
    r = _report("20001")
    assert r.verdict["motif"] is None
    assert "baisse nette" in r.verdict["texte"] and "La Source" in r.verdict["texte"]
    assert r.verdict["section"] == q8.SECTIONS["gup"]
    assert any("baisse nette" in s for s in r.texte("gup"))
    assert all("nan" not in s.lower().split() for s in r.constats + r.reserves + r.debat)
    fiches = q8.fiches(r)
    assert [f[0] for f in fiches] == ["Fiche du quartier La Source"]
    assert fiches[0][2] is not None and not fiches[0][2].empty
    none = _report("20001", {"quartiers_experimentaux": []})
    assert q8.fiches(none) == []
    # no developer instruction on a public page (lecture 10, H10)
    assert none.texte("fiches") == [
        "Aucun quartier d'expérimentation n'a été retenu pour cette commune ; le centre de ressources peut en "
        "désigner un (voir la page Méthode)."
    ]
    assert {c["id"] for c in r.chiffres_cles} >= {"gup_tendances_nettes", "actions_proximite"}


def test_partial_data_commune_says_data_unavailable():
    r = _report("20008")
    res = r.resultats()
    assert res["gup"] == [] and res["gup_motif"] == motifs.DONNEE_ABSENTE
    # the page has results (proximity actions): the verdict says them and that the GUP is missing,
    # it links to the section holding the evidence, and the first key figure exists (H13, L12)
    assert r.verdict["motif"] is None and r.verdict["section"] == q8.SECTIONS["actions"]
    assert "GUP : données non disponibles" in r.verdict["texte"] and "des crédits" in r.verdict["texte"]
    assert r.chiffres_cles[0]["id"] == "part_credits_proximite_pendant"
    assert r.chiffres_cles[0]["valeur"] is not None
    assert res["equipements"] and res["equipements_motif"] is None  # facilities still shown
    assert q8.vue_gup_taux(r).attrs["motif"] == motifs.DONNEE_ABSENTE
    assert "Données non disponibles" in display.tableau(q8.vue_gup_taux(r)).texte
    gup_cles = [c for c in r.chiffres_cles if c["id"].startswith("gup_")]
    assert all(c["valeur"] is None and c["motif"] == motifs.DONNEE_ABSENTE for c in gup_cles)
    assert res["actions_proximite"]["actions"] > 0  # the programme is there


def test_non_signatory_is_hors_cucs_but_shows_facilities():
    r = _report("20010")
    res = r.resultats()
    assert r.verdict["motif"] == motifs.HORS_CUCS and "hors CUCS" in r.verdict["texte"]
    assert res["gup_motif"] == motifs.HORS_CUCS and res["actions_proximite"]["motif"] == motifs.HORS_CUCS
    assert res["actions_proximite"]["actions"] is None
    assert any(e["pour_1000_hab"] for e in res["equipements"])
    assert "Hors CUCS" in display.tableau(q8.vue_actions_proximite(r)).texte
    assert not q8.vue_securite(r).empty
    # a non-signatory has no « avant / pendant le CUCS »: the years (H12), « quartiers de veille » (H11)
    texts = " ".join(r.constats + r.texte("securite") + r.texte("equipements"))
    assert "avant le CUCS" not in texts and "pendant le CUCS" not in texts
    assert "périodes du CUCS des communes signataires" in texts
    assert "prioritaire" not in texts and "quartiers de veille" in texts
    assert not any("CUCS" in c for c in q8.vue_securite(r).columns)
    assert all("prioritaire" not in c for c in q8.vue_equipements_type(r).columns)
    # the debate is not « données non disponibles » but the hors CUCS sentence (H3)
    assert r.debat and r.debat[0].startswith(
        "Hors CUCS : Esterbourg n'a pas d'actions de proximité ni de GUP"
    )


def test_reports_under_the_threshold_are_hidden_with_their_rates():
    seuil = 60
    r = _report("20001", {"seuil_secret": seuil})
    rows = r.resultats()["gup"]
    hidden = [g for g in rows if g["signalements"] is None]
    assert hidden  # counts of 20 to 60 reports exist in the demo
    for g in rows:
        if g["signalements"] is not None:
            assert g["signalements"] == 0 or g["signalements"] >= seuil
        else:
            assert g["signalements_pour_1000_hab"] is None and g["motif"] == motifs.SECRET
    # secondary secrecy: no quartier or category line with exactly one hidden cell
    df = pd.DataFrame(rows)
    for key in ("code_quartier", "categorie"):
        assert (df.groupby(key)["signalements"].apply(lambda s: s.isna().sum()) != 1).all()
    v = q8.vue_gup_taux(r)
    assert (v["Signalements (période)"] == "s").any()
    st = r.gup_statuts
    for c in ("en_cours", "sans_suite"):
        vals = st[c].dropna()
        assert ((vals == 0) | (vals >= seuil)).all()


def test_build_is_fast():
    t = load.load_territory(DEMO, "20004")
    p = params.load_params("20004", ROOT)
    q8.build(t, p)  # warm imports
    t0 = time.perf_counter()
    q8.build(t, p)
    assert time.perf_counter() - t0 < 1.0


def test_small_quartier_population_hides_its_rates_and_the_sum_protects_it():
    t = load.load_territory(DEMO, "20001")
    ind = t.indicateurs.copy()
    small = (ind["indicateur"] == "population") & (ind["code_territoire"] == "QP020002")
    ind.loc[small, "valeur"] = 6.0  # one quartier of 6 inhabitants: its rates would give it back
    t.indicateurs = ind
    r = q8.build(t, params.load_params("20001", ROOT))
    assert "QP020002" in r.populations_cachees
    # secondary: the quartiers together are published, so another quartier is hidden too
    assert len(r.populations_cachees & {"QP020001", "QP020003", "QP020004"}) >= 1
    rows = [g for g in r.resultats()["gup"] if g["code_quartier"] == "QP020002"]
    assert rows and all(g["signalements_pour_1000_hab"] is None for g in rows)
    v = q8.vue_equipements(r)
    shown = v[v["Territoire"] == "La Source"].iloc[0]
    assert shown["Habitants"] == "s" and shown["Pour 1 000 habitants"] == "s"
    res = {e["code_territoire"]: e for e in r.resultats()["equipements"]}
    assert res["QP020002"]["population"] is None and res["QP020002"]["pour_1000_hab"] is None
    assert res["QP020002"]["motif"] == motifs.SECRET
    assert not any("La Source compte" in s for s in r.fiches_textes.get("QP020002", []))


def test_place_names_take_the_contracted_article():
    assert q8._a("Le Haut-Val") == "au Haut-Val"
    assert q8._a("Les Tilleuls") == "aux Tilleuls"
    assert q8._a("La Source") == "à La Source"


def test_facilities_quartiers_above_their_commune_are_flagged():
    eq = _csv("equipements")
    r = _report("20010")
    codes = list(r.noms_quartiers)
    annee = r.annee_equipements
    e = eq[eq["annee"] == annee]
    com = (
        e[(e["niveau"] == "commune") & (e["code_territoire"] == "20010")]
        .groupby("type_equipement")["nombre"]
        .sum()
    )
    qua = (
        e[(e["niveau"] == "quartier") & e["code_territoire"].isin(codes)]
        .groupby("type_equipement")["nombre"]
        .sum()
    )
    above = {t for t, n in qua.items() if n > com.get(t, 0)}
    assert above  # the demo has the anomaly (lecture 10, H8)
    assert set(r.incoherents_annee()["type_equipement"]) == above
    assert any("les deux sources ne sont pas cohérentes" in s for s in r.texte("equipements"))
    v = q8.vue_equipements_type(r)
    col = [c for c in v.columns if c.startswith("Quartiers au-dessus")][0]
    assert int(v[col].sum()) == len(above)
    assert all("à vérifier" in c["libelle"] for c in r.chiffres_cles if c["id"].startswith("equipements_"))
    res = r.resultats()["equipements_incoherences"]
    assert {x["type_equipement"] for x in res if x["annee"] == annee} == above


def test_key_figure_units_and_download_labels():
    r = _report("20001")
    unites = {c["id"]: c["unite"] for c in r.chiffres_cles}
    assert unites["gup_pour_1000_hab_pendant"] == text.POUR_1000_HAB
    assert unites["equipements_quartiers_pour_1000_hab"] == text.POUR_1000_HAB
    assert unites["gup_tendances_nettes"] == "couples"
    assert "‰" not in unites.values()
    res = r.resultats()
    tables = [
        k
        for k, v in res.items()
        if isinstance(v, list) and k not in ("constats", "reserves", "debat", "chiffres_cles")
    ]
    tables += [f"actions_proximite_{k}" for k, v in res["actions_proximite"].items() if isinstance(v, list)]
    assert set(tables) <= set(res["libelles_tables"])
    codes = res["libelles_codes"]
    assert codes["tendance"]["pas_de_tendance"] == "pas de tendance nette"
    assert codes["indicateurs_securite"]["delits_pour_1000"].startswith("Atteintes aux biens")
    assert codes["quartiers_experimentaux"] == {"QP020002": "La Source"}


def test_one_rounding_for_delays_and_one_label_for_vvv():
    r = _report("20001")
    v = q8.vue_gup_delais(r)
    d = r.gup_delais.dropna(subset=["delai_pendant"]).sort_values(["delai_pendant", "categorie"]).iloc[-1]
    shown = v.loc[
        v["Catégorie"] == d["categorie"][:1].upper() + d["categorie"][1:], "Délai médian pendant (jours)"
    ].iloc[0]
    # the text says what the table prints (display formats the table's numbers with text.nombre)
    assert any(f"à {text.nombre(shown, 0)} jours" in s for s in r.texte("gup"))
    disp = q8.vue_dispositifs(r)["Dispositif"]
    assert "OVV" not in set(disp) and "VVV" not in set(disp)
    assert "VVV (ville-vie-vacances)" in set(disp)
    assert all(x[:1] == x[:1].upper() for x in disp)


def test_gup_small_before_count_masks_two_cells_not_the_row():
    r = _report("20001", {"seuil_secret": 60})
    g = r.gup
    split = g[g["periodes_secret"]]
    assert not split.empty
    # the period count and rate stay published, both period rates are hidden
    assert split["signalements"].notna().all() and split["pour_1000_hab"].notna().all()
    assert split["pour_1000_avant"].isna().all() and split["pour_1000_pendant"].isna().all()
    v = q8.vue_gup_taux(r)
    assert ((v["Avant le CUCS"] == "s") & (v["Signalements (période)"] != "s")).any()
    vals = r.gup_statuts["non_resolus"].dropna()
    assert ((vals == 0) | (vals >= 60)).all()
    # « non résolus » published where « en cours » is hidden (lecture 10, M19)
    st = _report("20001").gup_statuts
    assert (st["non_resolus"].notna() & st["en_cours"].isna()).any()


def test_small_bases_of_the_rates_are_not_published():
    seuil = 400  # above some quartiers' numerators of 2014 (chômeurs, faits constatés)
    r = _report("20001", {"seuil_secret": seuil})
    for pr in r.profils.values():
        for n, d in (("numerateur", "denominateur"), ("numerateur_commune", "denominateur_commune")):
            small = pr[n].notna() & (pr[n] < seuil) & (pr[n] > 0)
            assert not small.any()
            assert (pr[n].isna() == pr[d].isna()).all()  # a hidden count hides its other count
    v = q8.profil_quartier(r, "QP020002")
    assert (v["Base du quartier"] == "n.d.").any()
    s = r.securite
    for p in ("avant", "pendant"):
        vals = s[f"numerateur_{p}"].dropna()
        assert ((vals == 0) | (vals >= seuil)).all()


# --- review of issue 10: two ways a hidden count came back ------------------------------------


@pytest.mark.parametrize("code", ["20003", "20005", "20006", "20007"])
def test_status_sentence_does_not_give_a_hidden_part_back_by_difference(code):
    """« Sur N signalements, R résolus ; X en cours et Y classés sans suite » prints the total: when
    one part is under the threshold, another one is hidden too (on the demo, 20003's 10 reports
    still open were N − R − Y)."""
    gup = _csv("gup")
    qua = _csv("quartiers")
    mine = gup[gup["code_quartier"].isin(qua.loc[qua["code_commune"] == code, "code_quartier"])]
    statut = mine["statut"].value_counts()
    small = [s for s, n in statut.items() if 0 < n < 11]
    assert small, f"{code}: the demo no longer has a small status count"
    phrase = next(p for p in _report(code).texte("gup") if p.startswith("Sur "))
    plain = phrase.replace("\u202f", "").replace("\u00a0", " ")
    published = [n for s, n in statut.items() if f"{n} signalement" in plain and s != "résolu"]
    assert "moins de 11 signalements" in plain
    assert "soumis au secret statistique" in plain  # a second part hidden
    assert not published, published


def test_hidden_gup_cells_publish_no_trend_statistic():
    """The interval of a Poisson slope gives the count back (n ≈ 1 / (se² · var(years))): a hidden
    quartier × category carries no variation, interval or p-value, in the results or the view."""
    r = _report("20006")
    hidden = [g for g in r.resultats()["gup"] if g["motif"] == motifs.SECRET and g["signalements"] is None]
    assert hidden, "the demo has hidden GUP cells in 20006"
    for g in hidden:
        assert g["ic_bas"] is None and g["ic_haut"] is None and g["p_value"] is None, g
        assert g["variation_annuelle"] is None, g
    view = q8.vue_gup_tendances(r)
    secret_rows = view[view["Tendance"].notna() & (view["Borne haute"] == "s")]
    assert len(secret_rows) == len(hidden)
    # …and the notebook can show it: every column, the p-value too, reads « s »
    html = display.tableau(view).fragment
    assert html.count(">s<") == 5 * len(hidden)


def test_the_trend_figure_draws_no_hidden_cell():
    """The fitted curve of a cell sums to its count: a net trend on a hidden cell is not drawn."""
    import dataclasses

    r = _report("20001")
    assert q8.figure_gup_tendances(r) is not None  # La Source, propreté: published
    net = r.tendances_nettes.index
    cache = dataclasses.replace(r, gup=r.gup.assign(secret=r.gup.index.isin(net)))
    assert q8.figure_gup_tendances(cache) is None
