"""q2 after issue 8: every figure recomputed from the demo's CSV files in plain pandas.

Rates on one base (actions.csv), period means before / during the CUCS (indicateurs.csv),
« hors CUCS » for a non-signatory commune and the regional DiD as context only, « données non
disponibles » for a signatory without surveys, the content of the activity reports (bilans.csv),
the qualification of publics, the verdict and French that reads as written by a person."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import region_of

from cucs_analysis.analysis import impact, motifs, trends
from cucs_analysis.present import display, labels, text
from cucs_analysis.reports import q2
from cucs_analysis.reports.q2 import tables as q2_tables

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
NOTEBOOK = ROOT / "notebooks" / "q2_moyens_associations.ipynb"

pytestmark = pytest.mark.skipif(
    not (DEMO / "truth.json").exists(), reason="données de démonstration absentes"
)

_CACHE: dict = {}


def _build(code: str):
    if code not in _CACHE:
        import matplotlib

        matplotlib.use("Agg")
        from cucs_analysis.data import dataset as load
        from cucs_analysis.pipeline import params

        terr = load.load_territory(DEMO, code)
        p = params.load_params(code, ROOT)
        _CACHE[code] = (terr, q2.build(terr, region_of(DEMO, p), p), p)
    return _CACHE[code]


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DEMO / f"{name}.csv", dtype={"code_commune": str, "code_territoire": str})


def _association_rows(code: str) -> pd.DataFrame:
    a = _csv("actions")
    ops = _csv("operateurs")
    assoc = set(ops.loc[ops["statut_juridique"] == "association", "id_operateur"])
    return a[(a["code_commune"] == code) & a["id_operateur"].isin(assoc)]


def plain(s: str) -> str:
    return s.replace("\u00a0", " ").replace("\u202f", " ")


# --- 1. rates on one base ---------------------------------------------------------------------


def test_achievement_rate_recomputed_from_actions_csv_20001():
    _, r, _ = _build("20001")
    a = _association_rows("20001")
    base = a[(a["statut"] == "réalisée") & a["beneficiaires_realises"].notna()]
    taux = base["beneficiaires_realises"].sum() / base["beneficiaires_prevus"].sum()
    res = r.resultats()["realisation"]
    assert res["taux"] == pytest.approx(taux)
    assert res["prevus"] == base["beneficiaires_prevus"].sum()
    assert res["realises"] == base["beneficiaires_realises"].sum()
    assert res["annees_base"] == len(base)
    # non-pourvues and abandoned years counted apart, with their planned beneficiaries
    assert res["annees_non_pourvues"] == int((a["statut"] == "non pourvue").sum())
    assert res["annees_abandonnees"] == int((a["statut"] == "abandonnée").sum())
    apart = a[a["statut"].isin(["non pourvue", "abandonnée"])]["beneficiaires_prevus"].sum()
    assert res["prevus_non_realisees"] == pytest.approx(apart)
    # the rate of the old, mixed base (achieved / all planned) is not what is shown
    melange = a["beneficiaires_realises"].sum() / a["beneficiaires_prevus"].sum()
    if not np.isclose(melange, taux):
        assert res["taux"] != pytest.approx(melange)
    # the sentence prints the same rate
    assert text.pourcentage(100 * taux) in " ".join(r.texte("actions"))


def test_rate_per_action_in_the_view_is_on_one_base_20001():
    _, r, _ = _build("20001")
    a = _association_rows("20001")
    vue = q2.vue_actions(r)
    head = [h for h in vue.columns if h.startswith("Réalisation")]
    assert head and "sur la base" in head[0] and any(h.startswith("Base :") for h in vue.columns)
    for _, act in r.actions_significatives.iterrows():
        rows = a[(a["id_action"] == act["id_action"]) & (a["statut"] == "réalisée")]
        rows = rows[rows["beneficiaires_realises"].notna()]
        rate = rows["beneficiaires_realises"].sum() / rows["beneficiaires_prevus"].sum()
        shown = vue.loc[vue["Action"] == act["intitule"], head[0]]
        if act["beneficiaires_prevus_secret"] or act["beneficiaires_realises_secret"]:
            assert shown.isna().all()
        else:
            assert shown.iloc[0] == pytest.approx(rate)
    # publics: the same base, group by group
    pub = r.publics.set_index("public_cible")
    last = (
        a.sort_values("annee")
        .drop_duplicates("id_action", keep="last")
        .set_index("id_action")["public_cible"]
    )
    a = a.assign(public=a["id_action"].map(last))
    for public, grp in a.groupby("public"):
        b = grp[(grp["statut"] == "réalisée") & grp["beneficiaires_realises"].notna()]
        if (
            not pub.loc[public, "beneficiaires_prevus_secret"]
            and not pub.loc[public, "beneficiaires_realises_secret"]
        ):
            assert pub.loc[public, "taux_realisation"] == pytest.approx(
                b["beneficiaires_realises"].sum() / b["beneficiaires_prevus"].sum()
            )


def test_realisation_rows_on_a_hand_made_frame():
    rows = pd.DataFrame(
        {
            "id_action": ["A", "A", "A", "B"],
            "statut": ["réalisée", "non pourvue", "réalisée", "abandonnée"],
            "beneficiaires_prevus": [10, 50, 20, 30],
            "beneficiaires_realises": [8, np.nan, np.nan, 0],
        }
    )
    out = q2_tables._realisation(rows, ["id_action"]).set_index("id_action")
    assert out.loc["A", "taux_realisation"] == pytest.approx(0.8)  # 8 / 10: the year without a figure is out
    assert out.loc["A", "annees_base"] == 1 and out.loc["A", "annees_non_pourvues"] == 1
    assert out.loc["B", "annees_base"] == 0 and np.isnan(out.loc["B", "taux_realisation"])


# --- 2. periods before / during the CUCS ---------------------------------------------------------


def _pooled(ind: pd.DataFrame, niveau: str, codes, indicateur: str, a: int, b: int) -> float:
    rows = ind[
        (ind["niveau"] == niveau)
        & ind["code_territoire"].isin(list(codes))
        & (ind["indicateur"] == indicateur)
        & ind["annee"].between(a, b)
        & (ind["secret"] != "oui")
    ]
    return 100 * rows["numerateur"].sum() / rows["denominateur"].sum()


def test_period_means_recomputed_from_indicateurs_csv_20001():
    _, r, p = _build("20001")
    ind = _csv("indicateurs")
    d0, d1, f = p.annee_debut_cucs, p.periode.debut, p.periode.fin
    quartiers = _csv("quartiers")
    own = quartiers.loc[quartiers["code_commune"] == "20001", "code_quartier"]
    vue = q2.vue_ecarts(r)
    avant = next(c for c in vue.columns if c.startswith("Écart à la commune avant"))
    pendant = next(c for c in vue.columns if c.startswith("Écart à la commune pendant"))
    assert f"({d1}-{d0 - 1})" in avant and f"({d0}-{f})" in pendant
    for code in own:
        for ind_name in p.did.indicateurs:
            q_av = round(_pooled(ind, "quartier", [code], ind_name, d1, d0 - 1), 1)
            c_av = round(_pooled(ind, "commune", ["20001"], ind_name, d1, d0 - 1), 1)
            q_pe = round(_pooled(ind, "quartier", [code], ind_name, d0, f), 1)
            c_pe = round(_pooled(ind, "commune", ["20001"], ind_name, d0, f), 1)
            e = next(
                x
                for x in r.resultats()["ecarts"]
                if x["code_quartier"] == code and x["indicateur"] == ind_name
            )
            assert e["ecart_avant"] == pytest.approx(q_av - c_av)
            assert e["ecart_pendant"] == pytest.approx(q_pe - c_pe)
            assert e["valeur_avant"] == pytest.approx(_pooled(ind, "quartier", [code], ind_name, d1, d0 - 1))
            # the displayed change is the difference of the displayed gaps
            assert e["evolution_ecart"] == pytest.approx(round(q_pe - c_pe, 1) - round(q_av - c_av, 1))
    # the pooled series of the funded quartiers, the commune, in the table and the sentences
    funded = r.intensite.loc[r.intensite["groupe"] == "traite", "code_quartier"]
    t = r.periodes.set_index(["indicateur", "serie"])
    for ind_name in p.did.indicateurs:
        av = _pooled(ind, "quartier", funded, ind_name, d1, d0 - 1)
        pe = _pooled(ind, "quartier", funded, ind_name, d0, f)
        assert t.loc[(ind_name, "finances"), "valeur_avant"] == pytest.approx(av)
        assert t.loc[(ind_name, "finances"), "valeur_pendant"] == pytest.approx(pe)
        com = _pooled(ind, "commune", ["20001"], ind_name, d0, f)
        assert t.loc[(ind_name, "commune"), "valeur_pendant"] == pytest.approx(com)
        phrase = plain(next(s for s in r.texte("tendances") if s.startswith(r.libelles[ind_name])))
        shown = f"{plain(text.pourcentage(av))} puis {plain(text.pourcentage(pe))}"
        diff = text.difference_affichee(av, pe, 1)
        assert f"{shown} ({plain(text.points(diff))})" in phrase
    # a displayed difference is recomputable from the displayed values
    tv = q2.vue_tendances(r)
    for row in tv.itertuples(index=False):
        a, b, dd = row[3], row[4], row[5]
        assert dd == pytest.approx(round(b, 1) - round(a, 1)) or abs(dd - (round(b, 1) - round(a, 1))) < 1e-9


def test_gap_periods_on_a_hand_made_frame():
    rows = []
    for annee, (qn, qd, cn, cd) in {
        2005: (10, 100, 50, 1000),
        2006: (12, 100, 50, 1000),
        2007: (8, 100, 60, 1000),
        2008: (8, 100, 60, 1000),
    }.items():
        rows += [
            ("quartier", "Q", "t", annee, 100 * qn / qd, qn, qd, False),
            ("commune", "C", "t", annee, 100 * cn / cd, cn, cd, False),
        ]
    ind = pd.DataFrame(
        rows,
        columns=[
            "niveau",
            "code_territoire",
            "indicateur",
            "annee",
            "valeur",
            "numerateur",
            "denominateur",
            "secret",
        ],
    )
    quartiers = pd.DataFrame({"code_quartier": ["Q"], "code_commune": ["C"]})
    out = impact.gap_periods(ind, quartiers, annee_debut_cucs=2007, debut=2005, fin=2008, tolerance=0.5).iloc[
        0
    ]
    assert out["valeur_avant"] == pytest.approx(11.0) and out["valeur_reference_avant"] == pytest.approx(5.0)
    assert out["ecart_avant"] == pytest.approx(6.0) and out["ecart_pendant"] == pytest.approx(2.0)
    assert out["convergence"] == "convergence" and out["evolution_ecart"] == pytest.approx(-4.0)
    assert out["denominateur_avant"] == 200 and bool(out["avant_testable"])
    assert bool(out["petite_base"]) is False
    # a series starting with the contract: "before" cannot be tested, no convergence claimed
    late = impact.gap_periods(ind, quartiers, annee_debut_cucs=2005, debut=2005, fin=2008).iloc[0]
    assert not late["avant_testable"] and pd.isna(late["convergence"]) and np.isnan(late["ecart_avant"])
    # small bases are flagged
    tiny = ind.assign(denominateur=ind["denominateur"] / 100, numerateur=ind["numerateur"] / 100)
    assert bool(
        impact.gap_periods(tiny, quartiers, annee_debut_cucs=2007, debut=2005, fin=2008)["petite_base"].iloc[
            0
        ]
    )


def test_arrondi_rounds_half_up_like_the_formatter():
    assert trends.arrondi(2.25, 1) == 2.3 and trends.arrondi(-2.25, 1) == -2.3
    assert trends.arrondi(2.675, 2) == 2.68
    s = trends.arrondi(pd.Series([0.05, 1.04]), 1)
    assert list(s) == [0.1, 1.0]
    for x in (0.05, 1.25, 57.05, -3.45):
        assert text.nombre(trends.arrondi(x, 1), 1) == text.nombre(x, 1)


def test_compare_periods_auto_picks_the_base():
    df = pd.DataFrame(
        {
            "indicateur": ["r", "r", "m", "m"],
            "annee": [2005, 2008, 2005, 2008],
            "valeur": [10.0, 20.0, 100.0, 200.0],
            "numerateur": [1, 4, np.nan, np.nan],
            "denominateur": [10, 20, np.nan, np.nan],
        }
    )
    out = trends.compare_periods_auto(df, annee_debut_cucs=2007, debut=2005, fin=2008, by=["indicateur"])
    out = out.set_index("indicateur")
    assert out.loc["r", "methode"] == "taux" and out.loc["r", "valeur_pendant"] == pytest.approx(20.0)
    assert out.loc["m", "methode"] == "moyenne" and out.loc["m", "difference"] == pytest.approx(100.0)
    assert bool(out.loc["r", "petite_base"])  # 10 and 20 are below 30


# --- 3. hors CUCS, données non disponibles, zero ------------------------------------------------


@pytest.mark.parametrize("code", ["20010", "20012"])
def test_non_signatory_verdict_says_hors_cucs_and_no_did_is_its_finding(code):
    terr, r, _ = _build(code)
    assert not terr.signataire
    res = r.resultats()
    v = res["verdict"]
    assert v["motif"] == motifs.HORS_CUCS and "Hors CUCS" in v["texte"]
    assert v["section"] in q2.SECTIONS.values()
    assert r.constats[0] == labels.phrase_hors_cucs(
        r.nom_commune, "le financement d'actions associatives par le CUCS"
    )
    # the regional DiD is there (results contract) but never as a finding of the commune
    assert len(res["did"]) == 2 and res["did_portee"]["resultat_de_la_commune"] is False
    assert not any("écart d'évolution" in c.lower() for c in r.constats)
    assert not any(c["id"].startswith("did_") for c in r.chiffres_cles)
    assert r.texte("did")[0].startswith("Contexte régional, pas un résultat de la commune")
    assert "hors CUCS" in r.texte("did")[0]
    lien4 = r.contribution.iloc[3]
    assert lien4["lecture"] == "hors CUCS" and "contexte" in lien4["constat"]
    assert "points" not in plain(lien4["constat"])
    # key figures: no measured zero where there is no programme
    cc = {c["id"]: c for c in r.chiffres_cles}
    for k in ("credits_associations", "actions_associations", "quartiers_finances"):
        assert cc[k]["valeur"] is None and cc[k]["motif"] == motifs.HORS_CUCS
    # the programme views say hors CUCS, never a bare "données non disponibles"
    for vue in (q2.vue_actions, q2.vue_publics, q2.vue_qualification, q2.vue_bilans):
        v = vue(r)
        assert v.empty and v.attrs["motif"] == motifs.HORS_CUCS
        assert display.tableau(v).texte.startswith("Hors CUCS : ")


def test_signatory_with_funded_quartiers_presents_the_did_as_its_finding():
    _, r, _ = _build("20001")
    assert r.resultats()["did_portee"]["resultat_de_la_commune"] is True
    assert any(c["id"] == "did_taux_chomage" for c in r.chiffres_cles)
    assert not r.texte("did")[0].startswith("Contexte régional")


def test_20008_surveys_say_donnees_non_disponibles():
    terr, r, _ = _build("20008")
    assert terr.signataire
    e = _csv("enquetes")
    q = _csv("quartiers")
    assert not e["code_quartier"].isin(q.loc[q["code_commune"] == "20008", "code_quartier"]).any()
    assert r.enquetes.empty and r.texte("enquetes") == []
    vue = q2.vue_enquetes(r)
    assert vue.attrs["motif"] == motifs.DONNEE_ABSENTE
    html = display.tableau(vue).fragment
    assert "Données non disponibles" in html and "hors CUCS" not in html
    res = r.resultats()
    assert res["enquetes_motif"] == motifs.DONNEE_ABSENTE
    cc = {c["id"]: c for c in r.chiffres_cles}
    assert cc["habitants_amelioration"]["valeur"] is None
    assert cc["habitants_amelioration"]["motif"] == motifs.DONNEE_ABSENTE
    lien5 = r.contribution.iloc[4]
    assert lien5["lecture"] == "non disponible"


def test_20012_sections_say_once_that_data_is_missing():
    """Sections 4 and 6 of a commune without quartier or survey: no content between their
    missing-data sentences (the lists are empty, so each cell falls back to the same sentence)."""
    _, r, _ = _build("20012")
    for section in ("tendances", "ecarts", "enquetes"):
        assert r.texte(section) == []
    for vue in (q2.vue_intensite, q2.vue_tendances, q2.vue_ecarts, q2.vue_enquetes):
        assert vue(r).empty
    assert q2.figures_tendances(r) == [] and q2.figures_ecarts(r) == [] and q2.figure_enquetes(r) is None


# --- 4. workshop moyens: qualification of publics, content of the bilans -------------------------------


def test_precision_of_declared_publics():
    s = pd.Series(
        [
            "Enfants de 6 à 11 ans",
            "Jeunes de 16 à 25 ans sans qualification",
            "Familles bénéficiaires de la CMU",
            "Habitants du quartier",
            None,
            "  ",
        ]
    )
    assert list(q2_tables.precision_public(s)) == [
        "age",
        "age_situation",
        "situation",
        "general",
        "non_declare",
        "non_declare",
    ]


def test_qualification_recomputed_from_actions_csv_20001():
    _, r, _ = _build("20001")
    a = _association_rows("20001").sort_values("annee").drop_duplicates("id_action", keep="last")
    general = int(a["public_cible"].eq("Habitants du quartier").sum())
    q = r.qualification.set_index("precision")
    assert q.loc["general", "actions"] == general
    assert q["actions"].sum() == len(a)
    assert q["objectif_declare"].sum() == int(a["objectif"].fillna("").str.strip().ne("").sum())
    phrase = plain(r.texte("publics")[0])
    assert (
        f"{len(a) - general} actions sur {len(a)}" in phrase
        and f"{general} actions un public général" in phrase
    )


def test_bilans_content_recomputed_from_bilans_csv_20001():
    _, r, p = _build("20001")
    b = _csv("bilans")
    top = r.actions_significatives["id_action"]
    mine = b[b["id_action"].isin(top)]
    vue = q2.vue_bilans(r)
    assert set(vue["Action"]) == set(r.actions_significatives.loc[top.isin(mine["id_action"]), "intitule"])
    for id_action, grp in mine.groupby("id_action"):
        row = r.bilans.set_index("id_action").loc[id_action]
        # the count of coded statements goes through secrecy (« s » below the threshold, and a
        # second cell hidden since the total is printed)
        assert row["constats"] == len(grp) if not row["constats_secret"] else text.manquant(row["constats"])
        assert row["constats_secret"] or len(grp) >= r.seuil_secret
        assert row["annees"] == text.annee_periode(grp["annee"].min(), grp["annee"].max())
        for cat, col in (("réussite", "reussite"), ("difficulté", "difficulte"), ("blocage", "difficulte")):
            for t in grp.loc[grp["categorie"] == cat, "texte"]:
                assert f"« {t} »" in row[col]
        for t in grp.loc[grp["categorie"] == "écart expliqué", "texte"]:
            assert f"« {t} »" in row["ecart"]
    # counts of statements go through statistical secrecy
    themes = r.bilans_themes.set_index("theme")
    ct = pd.crosstab(mine["theme"], mine["categorie"])
    for theme in ct.index:
        for cat in ct.columns:
            n = ct.loc[theme, cat]
            shown = themes.loc[theme, cat]
            if themes.loc[theme, f"{cat}_secret"]:
                assert np.isnan(shown)
            else:
                assert shown == n and not (0 < n < p.seuil_secret)
    cats = r.bilans_categories.set_index("categorie")
    for cat, n in mine["categorie"].value_counts().items():
        if not cats.loc[cat, "n_secret"]:
            assert (
                cats.loc[cat, "n"] == n and plain(text.pluriel(n, "x"))[: len(str(n))] in r.texte("bilans")[0]
            )
    assert plain(r.texte("bilans")[0]).startswith(
        f"Les bilans des {len(top)} actions les plus significatives"
    )


def test_workshop_moyens_quoted_verbatim_in_the_notebook():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown").replace("\n", " ")
    for moyen in (
        "« Choisir collectivement les entrées et les actions les plus significatives ? »",
        "« Apporter le maximum de précisions sur les objectifs et la qualification des publics concernés dans "
        "les tableaux de bords »",
        "« Rassembler les rapports et bilans activités »",
        "« Rechercher les moyens d'enquête et de mise en débat les plus appropriés surtout aux publics »",
    ):
        assert moyen in md


# --- 5. limits where they apply ----------------------------------------------------------------------


def test_contamination_share_recomputed_20001():
    _, r, _ = _build("20001")
    a = _association_rows("20001")
    f = _csv("financements")
    f = f[(f["type_credit"] == "specifique") & f["id_action"].isin(a["id_action"])]
    last = a.sort_values("annee").drop_duplicates("id_action", keep="last")
    sans = set(last.loc[last["code_quartier"].isna(), "id_action"])
    part = 100 * f.loc[f["id_action"].isin(sans), "montant_accorde"].sum() / f["montant_accorde"].sum()
    phrase = plain(next(s for s in r.reserves if s.startswith("Contamination")))
    assert plain(text.pourcentage(part)) in phrase
    assert any("Recensement rénové" in s and "cinq ans glissants" in s for s in r.reserves)
    assert any(s.startswith("Effets de composition") for s in r.reserves)


def test_findings_say_tendance_never_cause():
    for code in ("20001", "20008", "20010", "20012"):
        _, r, _ = _build(code)
        everything = " ".join(
            [
                *r.constats,
                *r.reserves,
                *r.debat,
                *r.reponse_atelier,
                *r.contribution["constat"],
                r.verdict["texte"],
                *r.texte("tendances"),
                *r.texte("did"),
            ]
        ).lower()
        assert not re.search(r"\bcaus(e|é|ée|er)\b", everything)
    _, r, _ = _build("20001")
    assert "une tendance, pas une preuve" in r.verdict["texte"]


# --- 7. verdict ----------------------------------------------------------------------------------------


def test_verdict_answers_and_points_to_a_heading_of_the_notebook():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    headings = {
        line[3:].strip()
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("## ")
    }
    assert set(q2.SECTIONS.values()) <= headings
    for code in ("20001", "20008", "20010", "20012"):
        _, r, _ = _build(code)
        v = r.resultats()["verdict"]
        assert set(v) == {"texte", "motif", "section"}
        assert v["section"] in headings and v["texte"] and "\n" not in v["texte"]
    _, r, _ = _build("20001")
    v = r.verdict
    assert v["motif"] is None and v["texte"].startswith("Contribution")
    # its reason is the evidence of the section it points to
    assert "quartiers financés" in v["texte"] and "entre 2005-2006 et 2007-2014" in v["texte"]


# --- 9. French ---------------------------------------------------------------------------------------------

BAD = [
    r"\bses 1 \w+s\b",
    r"\b1 (quartiers|actions|années)\b",
    r"\b0 (quartier|action|année)s?\b",
    r"\(s\)",
    r"\bde [AEIOUYÉÈ]\w",
    r"\b1,\d point\w*s\b",
    r"−[01],\d points\b",
    r"dans aucun",
    r"\bn’",
]


@pytest.mark.parametrize("code", ["20001", "20005", "20008", "20010", "20012"])
def test_french_reads_as_written_by_a_person(code):
    _, r, _ = _build(code)
    phrases = [
        *r.constats,
        *r.reserves,
        *r.debat,
        *r.reponse_atelier,
        *r.contribution["constat"],
        r.verdict["texte"],
        *[s for k in q2.SECTIONS for s in r.texte(k)],
        *r.texte("ecarts"),
    ]
    import matplotlib.pyplot as plt

    from cucs_analysis.present import plots

    figs = [*q2.figures_tendances(r), *q2.figures_ecarts(r), q2.figure_actions(r), q2.figure_enquetes(r)]
    alts = [plots.get_alt(f) for f in figs if f is not None]
    for f in figs:
        if f is not None:
            plt.close(f)
    for s in alts:
        assert not re.search(r"\bde [AEIOUYÉÈ]\w", plain(s)), s
    for s in phrases:
        p = plain(s)
        for pat in BAD:
            assert not re.search(pat, p), (pat, p)
        assert p[:1].isupper() or p[:1] in "«0123456789", p


@pytest.mark.slow
def test_results_json_of_the_run_carry_rates_periods_and_verdict(demo_run):
    res = json.loads((demo_run / "results" / "20001" / "q2.json").read_text(encoding="utf-8"))
    a = _association_rows("20001")
    base = a[(a["statut"] == "réalisée") & a["beneficiaires_realises"].notna()]
    assert res["realisation"]["taux"] == pytest.approx(
        base["beneficiaires_realises"].sum() / base["beneficiaires_prevus"].sum()
    )
    assert res["verdict"]["motif"] is None and res["signataire_cucs"] is True
    assert {"periode_avant", "ecart_avant", "ecart_pendant", "avant_testable"} <= set(res["ecarts"][0])
    hors = json.loads((demo_run / "results" / "20012" / "q2.json").read_text(encoding="utf-8"))
    assert hors["verdict"]["motif"] == "hors_cucs" and hors["signataire_cucs"] is False
    assert hors["did_portee"]["resultat_de_la_commune"] is False


def test_credits_per_inhabitant_recomputed_20001():
    _, r, _ = _build("20001")
    communes = _csv("communes").set_index("code_commune")
    a = _association_rows("20001")
    f = _csv("financements")
    total = f.loc[
        (f["type_credit"] == "specifique") & f["id_action"].isin(a["id_action"]), "montant_accorde"
    ].sum()
    par_hab = total / communes.loc["20001", "population"]
    cc = {c["id"]: c for c in r.chiffres_cles}
    assert cc["credits_associations_par_habitant"]["valeur"] == pytest.approx(par_hab)
    assert f"({plain(text.euros(par_hab))} par habitant de la commune)" in plain(r.texte("actions")[0])


@pytest.mark.slow
def test_published_page_of_20012_says_once_per_section_that_data_is_missing(demo_run):
    """The known bug: sections 4 and 6 of 20012 showed two missing-data sentences with content
    between them. On the published page each says it once, and nothing else."""
    page = (demo_run / "site" / "pages" / "20012" / "q2.html").read_text(encoding="utf-8")
    sections = re.split(r"<h2\b", page)
    for titre in (q2.SECTIONS["tendances"], q2.SECTIONS["enquetes"]):
        part = next(s for s in sections if html_text(titre) in s[:400])
        assert part.count("cucs-non-disponible") == 1, titre
        assert "<table" not in part and "<img" not in part and "cucs-liste" not in part, titre
    # section 1 says « hors CUCS » with the one sentence of labels.phrase_hors_cucs
    assert html_text("n'a pas signé de CUCS") in page.replace("&#x27;", "'").replace("&#39;", "'")


def html_text(s: str) -> str:
    """How nbconvert and the sanitiser write a heading's text (apostrophes and guillemets kept)."""
    return s.split(" : ")[0].split(" «")[0]
