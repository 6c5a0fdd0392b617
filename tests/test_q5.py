"""q5 (volet insertion): the report on the demo agrees with plain pandas on the CSV files, reads
correctly for a signatory without parcours (20008) and a non-signatory (20010), publishes no
count under the secrecy threshold (primary and secondary) on a territory with tiny groups, and
builds in well under a second."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cucs_analysis.analysis import motifs, privacy
from cucs_analysis.data import dataset as load
from cucs_analysis.pipeline import params
from cucs_analysis.pipeline.results import to_jsonable
from cucs_analysis.reports import q5

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def _params(code: str, overrides: dict | None = None):
    return params.load_params(code, ROOT, overrides)


def _report(code: str, overrides: dict | None = None):
    return q5.build(load.load_territory(DEMO, code), _params(code, overrides))


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DEMO / f"{name}.csv", dtype=str)


def _parcours_commune(code: str) -> pd.DataFrame:
    qua = _csv("quartiers")
    return (
        _csv("parcours")
        .merge(qua[["code_quartier", "code_commune"]], on="code_quartier")
        .query("code_commune == @code")
    )


def _cle(r, id_: str) -> dict:
    return next(c for c in r.chiffres_cles if c["id"] == id_)


def test_recouvrement_agrees_with_plain_pandas_on_20001():
    r = _report("20001")
    par = _parcours_commune("20001")
    n_disp = par.groupby("id_menage")["dispositif"].nunique()
    multi, suivis = int((n_disp >= 2).sum()), int(len(n_disp))
    assert r.menages_multi_brut == multi
    res = to_jsonable(r.resultats())
    rc = res["recouvrement"]
    assert rc["menages_multi_dispositifs"] == multi and rc["menages_suivis"] == suivis
    assert rc["part"] == pytest.approx(100 * multi / suivis)
    # every multi-dispositif household is in exactly one published line (combinations + « autres »)
    assert sum(c["menages"] for c in rc["combinaisons"]) == multi
    assert sum(c["autres_combinaisons"] for c in rc["combinaisons"]) <= 1
    assert _cle(r, "menages_multi_dispositifs")["valeur"] == multi
    # progression on one base: ended episodes with both levels
    fini = par[par["date_sortie"].notna() & par["niveau_sortie"].notna()]
    prog = res["progression"]
    assert sum(p["effectif"] for p in prog) == len(fini)
    monte = int((fini["niveau_sortie"].astype(int) > fini["niveau_entree"].astype(int)).sum())
    assert res["parcours_progression"]["progresse"] == monte
    assert _cle(r, "part_parcours_progression")["valeur"] == round(100 * monte / len(fini), 1)
    assert r.verdict["section"] == q5.SECTIONS["besoins"] and r.verdict["motif"] is None


def test_coverage_agrees_with_plain_pandas_on_20001():
    r = _report("20001")
    act = _csv("actions").query("code_commune == '20001'")
    act = act[(act["thematique"] == "emploi") | (act["dispositif"] == "chantier d'insertion")]
    act = act[act["statut"].isin(["réalisée", "programmée"])]
    act = act.assign(annee=act["annee"].astype(int), prevus=pd.to_numeric(act["beneficiaires_prevus"]))
    ind = _csv("indicateurs")
    de = ind[
        (ind["niveau"] == "commune")
        & (ind["code_territoire"] == "20001")
        & (ind["indicateur"] == "demandeurs_emploi")
    ]
    de = de.assign(annee=de["annee"].astype(int), v=pd.to_numeric(de["valeur"]))
    pendant = lambda d: d[(d["annee"] >= 2007) & (d["annee"] <= 2014)]  # noqa: E731
    attendu = 100 * pendant(act)["prevus"].sum() / pendant(de)["v"].sum()
    assert _cle(r, "places_pour_100_demandeurs_pendant")["valeur"] == round(attendu, 1)
    # quartiers with job seekers and no insertion action of their own are named
    q_offre = set(pendant(act)["code_quartier"].dropna())
    qs = set(_csv("quartiers").query("code_commune == '20001'")["code_quartier"])
    sans = qs - q_offre
    assert _cle(r, "quartiers_sans_offre_insertion")["valeur"] == len(sans)
    noms = _csv("quartiers").set_index("code_quartier")["nom"]
    phrase = next(p for p in r.texte("besoins") if "aucune action d'insertion propre" in p)
    for q in sans:
        assert noms[q] in phrase
    # commune-wide actions are stated on their own, never spread over the quartiers
    assert any("sans quartier désigné" in p for p in r.texte("besoins"))
    v = r.tables["couverture"]
    assert v.iloc[-1, 0].startswith("Valbrune-sur-Lèze (toute la commune")


def test_20008_parcours_missing_says_donnees_non_disponibles():
    r = _report("20008")
    res = to_jsonable(r.resultats())
    assert res["recouvrement"]["motif"] == motifs.DONNEE_ABSENTE
    assert res["recouvrement"]["menages_multi_dispositifs"] is None
    assert res["progression"] == [] and res["progression_motif"] == motifs.DONNEE_ABSENTE
    assert _cle(r, "menages_multi_dispositifs")["motif"] == motifs.DONNEE_ABSENTE
    assert "parcours : données non disponibles" in r.verdict["texte"]
    v = q5.vue_combinaisons(r)
    assert v.empty and v.attrs["motif"] == motifs.DONNEE_ABSENTE
    assert any("données non disponibles" in s for s in r.reserves)
    # the needs and supply exist for 20008: they are shown
    assert _cle(r, "places_pour_100_demandeurs_pendant")["valeur"] is not None


def test_20010_non_signatory_is_hors_cucs():
    r = _report("20010")
    assert r.verdict["motif"] == motifs.HORS_CUCS and "hors CUCS" in r.verdict["texte"]
    res = to_jsonable(r.resultats())
    assert res["recouvrement"]["motif"] == motifs.HORS_CUCS
    assert all(c["valeur"] is None and c["motif"] == motifs.HORS_CUCS for c in r.chiffres_cles)
    assert "n'a pas signé de CUCS" in r.constats[0]
    assert q5.vue_couverture(r).attrs["motif"] == motifs.HORS_CUCS
    assert not q5.vue_besoins(r).empty  # the needs remain, as a comparison


def _tiny(code: str, n_menages: int) -> load.Territory:
    """The commune's territory with only its first households: tiny counts everywhere."""
    t = load.load_territory(DEMO, code)
    keep = sorted(t.parcours["id_menage"].unique())[:n_menages]
    return dataclasses.replace(
        t, parcours=t.parcours[t.parcours["id_menage"].isin(keep)].reset_index(drop=True)
    )


def _counts_in_results(res: dict) -> list[float]:
    out = [res["recouvrement"][k] for k in ("menages_suivis", "menages_multi_dispositifs")]
    out += [c["menages"] for c in res["recouvrement"]["combinaisons"]]
    out += [p["effectif"] for p in res["progression"]]
    out += [res["parcours_progression"][k] for k in ("base", "progresse", "stable", "regresse")]
    out += [s["parcours"] for s in res["sorties_parcours"]]
    out += [p[k] for p in res["points_rencontre"] for k in ("menages", "menages_famille")]
    return [v for v in out if v is not None]


@pytest.mark.parametrize("n_menages, seuil", [(25, 11), (60, 15), (8, 11)])
def test_secrecy_on_tiny_groups(n_menages, seuil):
    r = q5.build(_tiny("20001", n_menages), _params("20001", {"seuil_secret": seuil}))
    res = to_jsonable(r.resultats())
    small = [v for v in _counts_in_results(res) if 0 < v < seuil]
    assert not small, small
    # two counts printed together (« M ménages … sur N », « N ménages, dont M ») give their
    # difference back: it is a count too
    rec = res["recouvrement"]
    pairs = [(rec["menages_suivis"], rec["menages_multi_dispositifs"])]
    pairs += [(p["menages"], p["menages_famille"]) for p in res["points_rencontre"]]
    gaps = [a - b for a, b in pairs if a is not None and b is not None]
    assert not [g for g in gaps if 0 < g < seuil], gaps
    for name in (
        "combinaisons",
        "sequences",
        "points_rencontre",
        "transitions",
        "progression_dispositifs",
        "sorties",
    ):
        v = r.tables[name]
        cols = [c for c, u in v.attrs["unites"].items() if u == "nombre"]
        privacy.check_no_small_counts(v, seuil, cols)
    # secondary secrecy: a list whose total is published never has exactly one hidden line
    comb = r.combinaisons
    if res["recouvrement"]["menages_multi_dispositifs"] is not None:
        assert int(comb["secret"].sum()) != 1
    assert int(r.sorties["secret"].sum()) != 1
    t = r.transitions
    for _, g in t.groupby("niveau_entree"):
        assert int(g["secret"].sum()) != 1
    # the sentences print no small count: every number under the threshold is « moins de … »
    for phrase in r.constats + sum(r.textes.values(), []):
        assert "nan" not in phrase.lower()


def test_key_figure_hidden_when_multi_households_small():
    t = _tiny("20001", 8)
    r = q5.build(t, _params("20001"))
    multi = r.menages_multi_brut
    assert 0 < multi < 11  # the frame is built for it
    c = _cle(r, "menages_multi_dispositifs")
    assert c["valeur"] is None and c["motif"] == motifs.SECRET
    assert any("moins de 11 ménages (secret statistique)" in p for p in r.texte("recouvrement"))
    assert to_jsonable(r.resultats())["recouvrement"]["motif"] == motifs.SECRET


def test_no_raw_codes_and_french_in_views_and_sentences():
    r = _report("20001")
    texte = " ".join(r.constats + r.reserves + r.debat + sum(r.textes.values(), []) + [r.verdict["texte"]])
    for code in ("pre_enfants", "chantier_jeunes", "ateliers_parents", "non_renseigne", "|", "nan", "None"):
        assert code not in texte
    for name, v in r.tables.items():
        for c in v.columns:
            if v.attrs["unites"][c] == "texte":
                assert not v[c].astype(str).str.contains(r"\|| nan|_", regex=True).any(), (name, c)
    json.dumps(to_jsonable(r.resultats()), allow_nan=False)


def test_figures_are_drawn_from_published_counts_only():
    from cucs_analysis.present import plots

    r = _report("20001")
    fig = q5.figure_combinaisons(r)
    heights = sorted(int(b.get_height()) for b in fig.axes[0].patches)
    assert heights == sorted(int(v) for v in r.combinaisons.loc[~r.combinaisons["secret"], "menages"])
    assert "UpSet" in plots.get_alt(fig)
    for f in (fig, q5.figure_couverture(r), q5.figure_transitions(r)):
        assert plots.get_alt(f)
        plots.figure_html(f)
    assert q5.figure_combinaisons(_report("20008")) is None


def test_build_is_fast():
    t, p = load.load_territory(DEMO, "20001"), _params("20001")
    q5.build(t, p)
    t0 = time.perf_counter()
    for _ in range(3):
        q5.build(t, p)
    assert (time.perf_counter() - t0) / 3 < 1.0


def test_changing_the_threshold_changes_what_is_grouped():
    r11 = _report("20001")
    r30 = _report("20001", {"seuil_secret": 30})
    g11 = r11.combinaisons.set_index("combinaison")
    g30 = r30.combinaisons.set_index("combinaison")
    assert (g30.drop(index=q5.pathways.AUTRES, errors="ignore")["menages"].dropna() >= 30).all()
    assert g30.loc[q5.pathways.AUTRES, "n_combinaisons"] > g11.loc[q5.pathways.AUTRES, "n_combinaisons"]
    assert np.isfinite(g30.loc[q5.pathways.AUTRES, "menages"])


# --- lecture 10: the proof-reader's findings on q5 ------------------------------------------------


def test_one_rounding_for_sentences_tables_and_key_figures():
    """86,25 places print 86,3 in the text as in the table (M9); key figures hold the value as
    printed, with their 1-decimal unit « places » (H1)."""
    assert q5._places(86.25) == "86,3 places"
    assert q5._arrondi(86.25, 1) == 86.3 and q5._arrondi(0.25, 1) == 0.3 and q5._arrondi(None) is None
    r = _report("20001")
    row = r.ligne_commune()
    cle = _cle(r, "places_pour_100_demandeurs_pendant")
    assert cle["unite"] == "places" and cle["valeur"] == q5._arrondi(row["places_pour_100_pendant"], 1)
    # euros per job seeker: one rounding (0 decimals) in the key figure and in the table
    eur = _cle(r, "euros_insertion_par_demandeur")
    assert eur["unite"] == "€" and eur["valeur"] == q5._arrondi(row["euros_par_demandeur_pendant"], 0)
    assert q5.COLONNES_OFFRE["euros_par_demandeur_pendant"][1] == "euros"
    assert q5.COLONNES_COUVERTURE["ecart"][1] == "points"  # a signed unit (L5)


def test_exits_and_needs_rates_carry_their_base():
    """M7: « 205 sorties sur 637 (32,2 %) se font vers un emploi (97) ou une formation (108) »,
    recomputed from parcours.csv; each rate of the needs table carries « (n sur N) »."""
    r = _report("20001")
    par = _parcours_commune("20001")
    fini = par[par["date_sortie"].notna()]
    n_emp = int((fini["motif_sortie"] == "emploi").sum())
    n_for = int((fini["motif_sortie"] == "formation").sum())
    attendu = (
        f"{n_emp + n_for} sorties sur {q5.text.nombre(len(fini))} "
        f"({q5.text.pourcentage(100 * (n_emp + n_for) / len(fini))}) se font vers un emploi ({n_emp}) ou une "
        f"formation ({n_for})."
    )
    assert attendu in r.constats
    v = q5.vue_besoins(r)
    col = next(c for c in v.columns if c.startswith("Chômage des moins de 25 ans"))
    assert all(" sur " in x for x in v[col])


def test_vocabulary_of_a_non_signatory_and_one_hors_cucs_sentence():
    """H11/H12/M23: 20010 has « quartiers de veille (comparaison) » and years, no « pendant le
    CUCS », no method paragraph; its sections 2 and 3 say « Hors CUCS » once."""
    r = _report("20010")
    assert q5.legende_besoins(r).startswith("Besoins des quartiers de veille (comparaison)")
    assert "CUCS" not in q5.legende_besoins(r).split(",", 1)[1]
    s20001 = _report("20001")
    assert "quartiers du CUCS" in q5.legende_besoins(s20001)
    textes = [p for sec in r.textes.values() for p in sec]
    assert not any("pendant le CUCS" in p or p == q5.METHODE["besoins"] for p in textes)
    assert any("quartier de veille" in p for p in r.texte("besoins"))
    h = q5.texte_section(r, "recouvrement")
    assert h.fragment.startswith('<p class="cucs-non-disponible">') and h.texte.startswith("Hors CUCS : ")
    assert s20001.texte("recouvrement")[0] == q5.METHODE["recouvrement"]


def test_order_table_note_and_no_regression_comment():
    """M11: the order table says it keeps the first two dispositifs and how many households have
    three or more (recomputed); M12/L4: « aucun ne recule » with a comment on the grid."""
    r = _report("20001")
    par = _parcours_commune("20001")
    n3 = int((par.groupby("id_menage")["dispositif"].nunique() >= 3).sum())
    note = q5.note_sequences(r)
    assert "deux premiers dispositifs" in note and f"{n3} ménages en ont trois ou plus" in note
    assert note in r.texte("recouvrement")
    fini = par[par["date_sortie"].notna() & par["niveau_entree"].notna() & par["niveau_sortie"].notna()]
    if (fini["niveau_sortie"].astype(int) < fini["niveau_entree"].astype(int)).sum() == 0:
        phrase = next(p for p in r.constats if p.startswith("Sur ") and "niveau d'autonomie" in p)
        assert "aucun ne recule" in phrase and "interroge la grille" in phrase and "0 recule" not in phrase


def test_key_dispositifs_published_when_a_tiny_line_is_merged():
    """M13: the « Autre dispositif » line (3 parcours in 20001) no longer hides PRE by secondary
    secrecy: it is merged with another line, and the merge is stated."""
    r = _report("20001")
    d = r.progression_dispositifs
    for code in q5.DISPOSITIFS_CLES:
        row = d[d["dispositif"] == code]
        assert len(row) == 1 and not bool(row["secret"].iloc[0]), code
    assert not d["secret"].astype(bool).any()
    assert (d["base"] >= r.seuil_secret).all()
    assert any("regroupe" in p for p in r.texte("progression"))
    assert int(d["base"].sum()) == r.progression_resume["base"]


def test_combinations_header_order_and_download_labels():
    """L3: « Nombre de dispositifs », « 2 ou plus (N combinaisons) », labels in alphabetical order;
    M17/M18: every list-valued key has a French title, every code column its labels."""
    r = _report("20001")
    v = q5.vue_combinaisons(r)
    assert "Nombre de dispositifs" in v.columns
    assert v["Nombre de dispositifs"].iloc[-1].startswith("2 ou plus (")
    for lib in v["Dispositifs du ménage"].iloc[:-1]:
        parts = lib.split(" + ")
        assert parts == sorted(parts, key=str.casefold)
    res = to_jsonable(r.resultats())
    from cucs_analysis.pipeline.publish import results_tables, table_publiee

    tables = results_tables(res)
    for key in (
        "besoins_offre",
        "points_rencontre",
        "progression",
        "recouvrement_combinaisons",
        "sorties_parcours",
    ):
        assert key in tables and key in res["libelles_tables"]
    pts = table_publiee(tables["points_rencontre"], res["libelles_codes"])
    assert not pts["point"].isin(list(q5.POINTS_LIBELLES)).any()
    assert set(res["libelles_codes"]) >= {"niveau", "point", "dispositif", "motif_sortie"}
    comb = table_publiee(tables["recouvrement_combinaisons"], res["libelles_codes"])["dispositifs"].tolist()
    k = int(r.combinaisons.loc[r.combinaisons["combinaison"] == "autres", "n_combinaisons"].iloc[0])
    assert comb == [
        *v["Dispositifs du ménage"].tolist()[:-1],
        f"Autres combinaisons ({k})",
    ]  # no raw code (H2)


def test_verdict_states_its_numbers_with_their_base():
    """M21: no « besoins couverts en partie » without its rule; the share of multi-dispositif
    households comes with its numerator and denominator."""
    r = _report("20001")
    t = r.verdict["texte"]
    rc = r.recouvrement
    assert "couverts en partie" not in t
    assert (
        f"{q5.text.nombre(rc['menages_multi_dispositifs'])} ménages suivis sur {q5.text.nombre(rc['menages_suivis'])}"
        in t
    )


def test_20008_sections_without_parcours_say_it_once_and_cleanly():
    """A signatory without parcours: one « Données non disponibles » sentence per section, read
    once by the publisher (class cucs-non-disponible), with no doubled « pour cette commune »."""
    r = _report("20008")
    for sec in ("recouvrement", "progression"):
        h = q5.texte_section(r, sec)
        assert h.fragment.startswith('<p class="cucs-non-disponible">'), h.fragment
        assert h.texte.startswith("Données non disponibles : ") and h.texte.count("pour cette commune") <= 1
    assert q5.texte_section(r, "besoins").texte.startswith(q5.METHODE["besoins"][:20])


def test_a_small_difference_of_two_printed_counts_is_hidden():
    """Review of issue 10: « 15 ménages suivis sur 20 » gives the 5 followed by one dispositif
    back. With 15 multi-dispositif households and 5 single ones, the total is hidden."""
    t = load.load_territory(DEMO, "20001")
    par = t.parcours
    n = par.groupby("id_menage")["dispositif"].nunique()
    keep = list(n[n >= 2].index[:15]) + list(n[n == 1].index[:5])
    small = dataclasses.replace(t, parcours=par[par["id_menage"].isin(keep)].reset_index(drop=True))
    r = q5.build(small, _params("20001"))
    rec = r.resultats()["recouvrement"]
    assert rec["menages_multi_dispositifs"] == 15
    assert rec["menages_suivis"] is None and rec["part"] is None
    # 20 households are not « moins de 11 »: hidden to protect the 5, it is said so
    phrase = next(p for p in r.texte("recouvrement") if p.startswith("Sur "))
    assert "un nombre de ménages soumis au secret statistique" in phrase and "moins de 11" not in phrase
