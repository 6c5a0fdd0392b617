"""The demo region: determinism, conformity to the schema, and planted truths recomputed
from the CSV files with plain pandas (independent of the generator's internals)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cucs_analysis.analysis.geography import qpv2014_eligible
from cucs_analysis.data import schema
from cucs_analysis.data.demo import DEMO_TABLES, generate

COMMITTED = Path(__file__).resolve().parents[1] / "data" / "demo"
TRUTH_KEYS = (
    "substitution",
    "did",
    "eligibles_qpv2014",
    "menages_multi_dispositifs",
    "operateurs_sous_performants",
    "actions_non_pourvues",
    "modele_pilotage",
    "effet_levier",
    "gup_tendance",
    "actions_enjeu_reprise",
)


@pytest.fixture(scope="module")
def run1(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo1")
    generate(out)
    return out


@pytest.fixture(scope="module")
def run2(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo2")
    generate(out)
    return out


@pytest.fixture(scope="module")
def t(run1) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(run1 / f"{name}.csv", dtype=str, keep_default_na=False) for name in DEMO_TABLES}


@pytest.fixture(scope="module")
def truth(run1) -> dict:
    return json.loads((run1 / "truth.json").read_text(encoding="utf-8"))


def num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.replace("", np.nan))


def _files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


# --- determinism and files -------------------------------------------------------------------


def test_two_runs_are_byte_identical_and_match_committed(run1, run2):
    a, b = _files(run1), _files(run2)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name
    committed = _files(COMMITTED)
    assert committed.keys() == a.keys()
    for name in a:
        assert committed[name] == a[name], f"data/demo/{name} differs from a fresh run: regenerate it"


def test_expected_files_and_size(run1):
    names = {p.name for p in run1.iterdir()}
    expected = {f"{n}.csv" for n in DEMO_TABLES} | {
        "quartiers.geojson",
        "communes.geojson",
        "metadonnees.yaml",
        "truth.json",
    }
    assert names == expected
    assert sum(p.stat().st_size for p in run1.iterdir()) < 10 * 1024 * 1024


def test_csv_conventions(run1):
    for name in DEMO_TABLES:
        raw = (run1 / f"{name}.csv").read_bytes()
        assert b"\r\n" not in raw, name
        assert not raw.startswith(b"\xef\xbb\xbf"), name  # no BOM
        raw.decode("utf-8")


def test_metadata(run1):
    meta = yaml.safe_load((run1 / "metadonnees.yaml").read_text(encoding="utf-8"))
    assert meta["annee_debut"] == 2005 and meta["annee_fin"] == 2014
    assert meta["synthetique"] is True
    assert meta["revenu_median_national"] == 19000
    assert meta["annee_revenus_qpv"] == 2011
    assert "synthétiques" in meta["description"] and meta["nom"]


def test_geojson_read_back(run1, t):
    gpd = pytest.importorskip("geopandas")
    for layer, key, table in (
        ("quartiers", "code_quartier", "quartiers"),
        ("communes", "code_commune", "communes"),
    ):
        text = (run1 / f"{layer}.geojson").read_text(encoding="utf-8")
        assert '"urn:ogc:def:crs:EPSG::2154"' in text
        g = gpd.read_file(run1 / f"{layer}.geojson")
        assert g.crs.to_epsg() == 2154
        assert sorted(g[key].astype(str)) == sorted(t[table][key])
        assert g.geometry.is_valid.all() and (g.area > 0).all()
        # Lambert-93 metres, rounded.
        x0, y0, x1, y1 = g.total_bounds
        assert 100_000 < x0 < x1 < 1_300_000 and 6_000_000 < y0 < y1 < 7_200_000
        assert re.search(r"\d\.\d", text.split('"features"')[1].split('"properties"')[0]) is None


# --- schema conformity --------------------------------------------------------------------------


def test_columns_and_vocabularies(t):
    for name, table in ((n, schema.TABLES[n]) for n in DEMO_TABLES):
        df = t[name]
        required = [c.name for c in table.columns if c.required]
        assert set(required) <= set(df.columns), name
        assert set(df.columns) <= set(table.column_names), name
        assert not df.duplicated(list(table.key)).any(), f"clé en double dans {name}"
        for col in table.columns:
            if col.name not in df.columns:
                continue
            s = df[col.name]
            filled = s[s != ""]
            if not col.nullable and col.kind != "text":
                assert len(filled) == len(s), f"{name}.{col.name} vide"
            if col.kind == "bool":
                assert set(filled) <= {"oui", "non"}, f"{name}.{col.name}"
            elif col.kind == "date":
                assert filled.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all(), f"{name}.{col.name}"
                d = pd.to_datetime(filled)
                assert d.between("2005-01-01", "2014-12-31").all(), f"{name}.{col.name}"
            elif col.kind == "category":
                assert set(filled) <= set(col.allowed), f"{name}.{col.name}: {set(filled) - set(col.allowed)}"
            elif col.kind == "list":
                parts = set(filled.str.split(";").explode())
                assert parts <= set(col.allowed), f"{name}.{col.name}"
            elif col.kind == "code" and col.pattern:
                assert filled.str.fullmatch(col.pattern).all(), f"{name}.{col.name}"
            if col.kind in ("int", "float", "year"):
                v = pd.to_numeric(filled)
                if col.minimum is not None:
                    assert (v >= col.minimum).all(), f"{name}.{col.name}"
                if col.maximum is not None:
                    assert (v <= col.maximum).all(), f"{name}.{col.name}"


def test_references(t):
    for name, table in ((n, schema.TABLES[n]) for n in DEMO_TABLES):
        df = t[name]
        for ref in table.references:
            rows = df if ref.when is None else df[df[ref.when[0]] == ref.when[1]]
            keys = rows[list(ref.columns)]
            keys = keys[(keys != "").all(axis=1)]
            target = t[ref.target][list(ref.target_columns)].drop_duplicates()
            target.columns = list(ref.columns)
            merged = keys.merge(target, how="left", indicator=True)
            assert (merged["_merge"] == "both").all(), f"{name} → {ref.target}"


def test_codes_keep_their_shape(run1, t):
    raw = (run1 / "communes.csv").read_text(encoding="utf-8")
    assert "\n20001,Valbrune-sur-Lèze,200000011,20,20," in raw
    assert t["communes"]["code_commune"].tolist() == [f"20{i:03d}" for i in range(1, 13)]
    assert t["quartiers"]["code_quartier"].str.fullmatch(r"QP020\d{3}").all()
    assert t["communes"]["code_epci"].str.fullmatch(r"2\d{8}").all()
    assert (
        t["indicateurs"].loc[t["indicateurs"]["niveau"] == "departement", "code_territoire"] == "20"
    ).all()


def test_rates_are_consistent(t):
    ind = t["indicateurs"]
    unite = dict(
        zip(t["catalogue_indicateurs"]["indicateur"], t["catalogue_indicateurs"]["unite"], strict=True)
    )
    rates = ind[ind["numerateur"] != ""]
    assert len(rates) > 3000
    per = rates["indicateur"].map(unite).map({"%": 100.0, "‰": 1000.0})
    assert per.notna().all()
    expected = (per * num(rates["numerateur"]) / num(rates["denominateur"])).round(1)
    assert np.allclose(num(rates["valeur"]), expected, atol=1e-9)
    secret = ind[ind["secret"] == "oui"]
    assert len(secret) > 0
    assert (secret[["valeur", "numerateur", "denominateur"]] == "").all().all()
    assert (secret["niveau"] == "quartier").all()
    # Every level and every catalogue indicator is present.
    assert set(ind["niveau"]) == set(schema.NIVEAUX)
    assert set(ind["indicateur"]) == {c["indicateur"] for c in schema.CATALOGUE_INDICATEURS}
    assert set(ind.loc[ind["indicateur"] == "potentiel_fiscal_hab", "niveau"]) == {"commune"}


def test_orders_of_magnitude(t):
    ind = t["indicateurs"]
    v = ind.assign(v=num(ind["valeur"]))
    q = v[(v["niveau"] == "quartier") & (v["annee"] == "2011")].pivot(
        index="code_territoire", columns="indicateur", values="v"
    )
    c = v[(v["niveau"] == "commune") & (v["annee"] == "2011")].pivot(
        index="code_territoire", columns="indicateur", values="v"
    )
    assert 18 <= q["taux_chomage"].mean() <= 26 and 8 <= c["taux_chomage"].mean() <= 13
    assert 35 <= q["taux_pauvrete"].mean() <= 50
    assert q["revenu_median_uc"].min() >= 8000 and 16000 <= c["revenu_median_uc"].mean() <= 20000


# --- sizes and special rows -----------------------------------------------------------------------


def test_sizes(t):
    com, qua = t["communes"], t["quartiers"]
    assert len(com) == 12 and (com["signataire_cucs"] == "oui").sum() == 8
    sig = com[com["signataire_cucs"] == "oui"]
    assert sig["structure_pilotage"].value_counts().min() >= 2
    assert set(com.loc[com["signataire_cucs"] == "non", "structure_pilotage"]) == {"aucune"}
    assert (num(com["population_unite_urbaine"]) < 10000).sum() >= 1
    assert 28 <= len(qua) <= 32
    assert set(qua["categorie_cucs"]) == {"1", "2", "3", ""}
    assert 6 <= (qua["veille"] == "oui").sum() <= 8
    assert qua.groupby("code_commune").size().reindex(sig["code_commune"]).between(1, 4).all()
    assert 1300 <= len(t["actions"]) <= 1800
    assert 130 <= len(t["operateurs"]) <= 170
    assert (t["operateurs"]["statut_juridique"] == "association").mean() > 0.6
    assert 2700 <= len(t["parcours"]) <= 3300 and 1400 <= t["parcours"]["id_menage"].nunique() <= 1500
    assert len(t["gup"]) >= 2000 and len(t["instances"]) >= 1000
    assert len(t["enquetes"]) > 1000 and len(t["bilans"]) > 300 and len(t["equipements"]) > 1000
    fin = t["financements"]
    assert fin["institution"].nunique() >= 5
    spec = fin[fin["type_credit"] == "specifique"]
    assert (spec["institution"] == "État").all()
    per_action_year = num(spec["montant_accorde"])
    assert per_action_year.median() > 2000 and per_action_year.quantile(0.95) < 60000
    assert t["parcours"]["id_personne"].str.fullmatch(r"P\d{6}").all()
    assert t["parcours"]["id_menage"].str.fullmatch(r"M\d{5}").all()


# --- plausibility (issue 8, point 11) ---------------------------------------------------------------


def test_no_markup_or_formula_in_the_committed_demo(t):
    """Hostile strings (markup, mathtext, spreadsheet formulas, bidi controls) are injected by the
    tests (conftest `demo_hostile`), never shipped in the demo a reader sees."""
    bidi = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f]")
    for name, df in t.items():
        for col in df.columns:
            s = df[col]
            assert not s.str.contains(r"[<>$]").any(), (name, col)
            assert not s.str.match(r"[=+@]").any(), (name, col)
            assert not s.str.contains(bidi).any(), (name, col)


def test_no_two_actions_of_a_quartier_share_a_title(t):
    act = t["actions"].drop_duplicates("id_action")
    titles = act.groupby(["code_commune", "code_quartier", "intitule"])["id_action"].nunique()
    assert (titles == 1).all(), titles[titles > 1].head().to_dict()
    # One title per action over the years.
    assert (t["actions"].groupby("id_action")["intitule"].nunique() == 1).all()


@pytest.mark.parametrize(
    "dispositif, bas, haut",
    [
        ("CLAS", 8, 70),  # groups of 10 to 30 children, a few groups for a commune-wide action
        ("chantier d'insertion", 6, 17),  # 8 to 15 trainees
        ("adultes-relais", 120, 800),  # 1 to 3 posts, a few hundred contacts a year
        ("ASV", 50, 1000),  # screenings and health access: hundreds
        ("atelier parents", 8, 50),
        ("VVV", 10, 100),
    ],
)
def test_planned_participants_are_plausible(t, dispositif, bas, haut):
    act = t["actions"]
    rows = act[act["dispositif"] == dispositif]
    assert len(rows) > 10
    prevus = num(rows["beneficiaires_prevus"])
    assert prevus.between(bas, haut).all(), (prevus.min(), prevus.max())
    realises = num(rows["beneficiaires_realises"]).dropna()
    assert (realises <= 1.1 * haut).all()


def test_pre_follows_some_tens_of_children_a_year_per_commune(t):
    act = t["actions"]
    pre = act[act["dispositif"] == "PRE"]
    per_commune_year = num(pre["beneficiaires_prevus"]).groupby([pre["code_commune"], pre["annee"]]).sum()
    assert per_commune_year.between(10, 130).all(), per_commune_year.describe()


def test_departement_and_region_rows_differ(t):
    ind = t["indicateurs"]
    v = ind.assign(v=num(ind["valeur"]))
    dep = v[v["niveau"] == "departement"].set_index(["indicateur", "annee"])["v"]
    reg = v[v["niveau"] == "region"].set_index(["indicateur", "annee"])["v"]
    assert dep.index.equals(reg.index)
    assert (dep != reg).all(), dep[dep == reg].head()
    # The région holds other départements: more inhabitants, a little better off.
    assert (reg.loc["population"] > 2 * dep.loc["population"]).all()
    assert (reg.loc["taux_chomage"] < dep.loc["taux_chomage"]).all()
    assert (reg.loc["revenu_median_uc"] > dep.loc["revenu_median_uc"]).all()
    # Still consistent rates (numerator / denominator) at the regional level.
    r = ind[(ind["niveau"] == "region") & (ind["numerateur"] != "")]
    assert len(r) and (num(r["numerateur"]) <= num(r["denominateur"])).all()


def test_commune_with_missing_data(t):
    qua = t["quartiers"]
    q8 = set(qua.loc[qua["code_commune"] == "20008", "code_quartier"])
    assert q8
    for name in ("parcours", "enquetes", "gup"):
        assert not t[name]["code_quartier"].isin(q8).any(), name
    assert "20008" not in set(t["instances"]["code_commune"])
    assert (t["actions"]["code_commune"] == "20008").any()


# --- planted truths, recomputed -----------------------------------------------------------------------


def test_truth_keys(truth):
    assert set(TRUTH_KEYS) <= set(truth)
    assert truth["did"] == [
        {"effet": -2.0, "indicateur": "taux_chomage"},
        {"effet": 0.0, "indicateur": "taux_pauvrete"},
    ]


def _action_funding(t):
    fin = t["financements"].assign(m=num(t["financements"]["montant_accorde"]))
    act = t["actions"][["id_action", "annee", "code_commune", "thematique", "code_quartier", "id_operateur"]]
    return fin.merge(act, on=["id_action", "annee"])


def test_substitution(t, truth):
    dc = t["droit_commun"]
    dc = dc[(dc["mesure"] == "credits") & (dc["niveau"] == "commune")].assign(
        v=num(dc["valeur"]), y=num(dc["annee"])
    )
    series = dc.groupby(["code_territoire", "domaine", "y"])["v"].sum().unstack("y")
    base = series[[2005, 2006]].mean(axis=1)
    below = series.loc[:, 2007:].lt(0.9 * base, axis=0)
    fa = _action_funding(t)
    sp = fa[fa["type_credit"] == "specifique"].groupby(["code_commune", "thematique"])["m"].sum()
    expected = {}
    for (c, d), row in below.iterrows():
        runs, cur = [], 0
        for b in row.to_numpy():
            cur = cur + 1 if b else 0
            runs.append(cur)
        longest = max(runs)
        if longest == 0:
            typ = "complementarite"
        elif longest > 3:
            typ = "substitution_durable"
        elif not row.iloc[-1]:
            typ = "substitution_temporaire"
        else:
            typ = "indetermine"
        expected[(c, d)] = typ if sp.get((c, d), 0) > 0 else "indetermine"
    got = {(s["code_territoire"], s["domaine"]): s["type"] for s in truth["substitution"]}
    sig = t["communes"].loc[t["communes"]["signataire_cucs"] == "oui", "code_commune"]
    assert set(got) == {(c, d) for c in sig for d in schema.DOMAINES}
    assert all(expected[k] == v for k, v in got.items())
    counts = pd.Series(list(got.values())).value_counts()
    assert set(counts.index) == {"complementarite", "substitution_temporaire", "substitution_durable"}
    assert counts.min() >= 5


def _intensity(t) -> pd.DataFrame:
    fa = _action_funding(t)
    assoc = t["operateurs"].loc[t["operateurs"]["statut_juridique"] == "association", "id_operateur"]
    sp = fa[
        (fa["type_credit"] == "specifique") & fa["id_operateur"].isin(assoc) & (fa["code_quartier"] != "")
    ]
    ind = t["indicateurs"]
    pop = ind[(ind["niveau"] == "quartier") & (ind["indicateur"] == "population")]
    pop = pop.assign(p=num(pop["valeur"])).set_index(["code_territoire", "annee"])["p"]
    money = sp.groupby(["code_quartier", "annee"])["m"].sum()
    money = money.reindex(pop.index.rename(["code_quartier", "annee"]), fill_value=0.0)
    return (money / pop.to_numpy()).rename("i").reset_index().assign(annee=lambda d: d["annee"].astype(int))


def test_did_groups_and_effect(t):
    ph = _intensity(t)
    post = ph[ph["annee"] >= 2009].groupby("code_quartier")["i"].mean()
    treated, comparison = set(post.index[post >= 25]), set(post.index[post < 10])
    qua = t["quartiers"]
    sig = set(t["communes"].loc[t["communes"]["signataire_cucs"] == "oui", "code_commune"])
    planted = set(
        qua.loc[qua["categorie_cucs"].isin(["1", "2"]) & qua["code_commune"].isin(sig), "code_quartier"]
    )
    assert treated == planted and len(treated) >= 10
    assert comparison == set(qua["code_quartier"]) - planted and len(comparison) >= 8
    tr = ph[ph["code_quartier"].isin(treated)]
    assert (tr.loc[tr["annee"] >= 2009, "i"] >= 40).all() and (tr.loc[tr["annee"] < 2009, "i"] < 10).all()
    assert (ph.loc[ph["code_quartier"].isin(comparison), "i"] < 8).all()
    ind = t["indicateurs"]
    for name, effect in (("taux_chomage", -2.0), ("taux_pauvrete", 0.0)):
        y = ind[(ind["niveau"] == "quartier") & (ind["indicateur"] == name)]
        y = y.assign(v=num(y["valeur"]), a=y["annee"].astype(int)).pivot(
            index="code_territoire", columns="a", values="v"
        )
        d = pd.DataFrame(0.0, index=y.index, columns=y.columns)
        d.loc[d.index.isin(treated), d.columns >= 2009] = 1.0

        def dd(m):
            return m.sub(m.mean(axis=1), axis=0).sub(m.mean(axis=0), axis=1) + m.to_numpy().mean()

        yd, xd = dd(y).to_numpy().ravel(), dd(d).to_numpy().ravel()
        assert (xd @ yd) / (xd @ xd) == pytest.approx(effect, abs=0.1), name
        # Parallel pre-trends: treated minus comparison mean is flat before 2009.
        gap = y[y.index.isin(treated)].mean() - y[~y.index.isin(treated)].mean()
        pre = gap.loc[:2008]
        assert abs(np.polyfit(pre.index.to_numpy(float), pre.to_numpy(), 1)[0]) < 0.2, name


def test_eligibles_qpv2014(t, truth):
    ind = t["indicateurs"]
    q = ind[(ind["niveau"] == "quartier") & (ind["annee"] == "2011")]
    q = q.assign(v=num(q["valeur"])).pivot(index="code_territoire", columns="indicateur", values="v")
    com = t["communes"].assign(
        revenu_median_uu=num(t["communes"]["revenu_median_uu"]),
        population_unite_urbaine=num(t["communes"]["population_unite_urbaine"]),
    )
    frame = (
        t["quartiers"][["code_quartier", "code_commune"]]
        .merge(q[["revenu_median_uc", "population"]], left_on="code_quartier", right_index=True)
        .merge(com[["code_commune", "revenu_median_uu", "population_unite_urbaine"]], on="code_commune")
    )
    elig = qpv2014_eligible(frame, 19000)
    assert sorted(frame.loc[elig, "code_quartier"]) == truth["eligibles_qpv2014"]
    seuil = np.ceil(0.6 * (0.7 * 19000 + 0.3 * frame["revenu_median_uu"]) / 100) * 100
    assert ((frame["revenu_median_uc"] - seuil).abs() >= 300).all()
    poor = frame["revenu_median_uc"] < seuil
    assert (poor & (frame["population"] < 1000)).sum() >= 1  # poor but too small
    assert (poor & (frame["population_unite_urbaine"] < 10000)).sum() >= 1  # poor but small urban unit
    assert 5 <= elig.sum() < len(frame)


def test_households(t, truth):
    n = (t["parcours"].groupby("id_menage")["dispositif"].nunique() >= 2).sum()
    assert truth["menages_multi_dispositifs"] == n
    assert 100 < n < 1500


def test_underperforming_operators(t, truth):
    act = t["actions"]
    done = act[act["statut"] == "réalisée"].assign(
        r=num(act["beneficiaires_realises"]), p=num(act["beneficiaires_prevus"])
    )
    g = done.groupby("id_operateur").agg(n=("r", "size"), r=("r", "sum"), p=("p", "sum"))
    g = g[g["n"] >= 3]
    ratio = g["r"] / g["p"]
    assert sorted(ratio.index[ratio < 0.7]) == truth["operateurs_sous_performants"]
    assert 6 <= len(truth["operateurs_sous_performants"]) <= 10
    low = ratio[ratio < 0.7]
    assert low.between(0.4, 0.5).all() and (ratio[ratio >= 0.7] >= 0.85).all()


def test_priority_actions_not_carried_out(t, truth):
    act = t["actions"]
    np_ = act[(act["prioritaire"] == "oui") & (act["statut"] == "non pourvue")]
    counts = np_.groupby("code_commune")["id_action"].nunique()
    sig = t["communes"].loc[t["communes"]["signataire_cucs"] == "oui", "code_commune"]
    expected = {c: int(counts.get(c, 0)) for c in sig}
    assert truth["actions_non_pourvues"] == expected
    assert min(expected.values()) == 0 and max(expected.values()) <= 6
    assert (act.loc[act["statut"] == "non pourvue", "id_operateur"] == "").all()


def test_steering_model(t, truth):
    ins, act = t["instances"], t["actions"]
    coll = (
        ins["type"]
        .isin(["réunion collective de travail", "groupe thématique"])
        .groupby(ins["code_commune"])
        .sum()
    )
    cons = (ins["type"] == "réunion de consignes").groupby(ins["code_commune"]).sum()
    share = coll / (coll + cons)
    first = act.assign(a=act["annee"].astype(int)).groupby(["code_commune", "id_action"])["a"].min()
    new_share = (first >= 2009).groupby(level=0).mean()
    values = {"participatif": 0, "descendant": 0, "adaptable": 0, "fige": 0}
    for c, m in truth["modele_pilotage"].items():
        if c in share.index:
            assert abs(share[c] - 0.5) > 0.1
            assert m["axe_descendant_participatif"] == ("participatif" if share[c] >= 0.5 else "descendant")
            values[m["axe_descendant_participatif"]] += 1
        else:
            assert m["axe_descendant_participatif"] == "indetermine"
        assert abs(new_share[c] - 0.25) > 0.08
        assert m["axe_fige_adaptable"] == ("adaptable" if new_share[c] >= 0.25 else "fige")
        values[m["axe_fige_adaptable"]] += 1
    assert min(values.values()) >= 2  # both axes mixed


def test_leverage(t, truth):
    fa = _action_funding(t).merge(t["communes"][["code_commune", "structure_pilotage"]], on="code_commune")
    has_sp = fa.loc[fa["type_credit"] == "specifique", ["id_action", "annee"]].drop_duplicates()
    fa = fa.merge(has_sp, on=["id_action", "annee"])
    s = fa.groupby(["structure_pilotage", "type_credit"])["m"].sum().unstack()
    lev = (s["droit_commun"] / s["specifique"]).round(2)
    assert truth["effet_levier"] == lev.to_dict()
    assert truth["effet_levier"]["GIP"] == pytest.approx(1.8, abs=0.1)
    assert truth["effet_levier"]["service municipal"] == pytest.approx(1.0, abs=0.1)
    assert truth["effet_levier"]["service intercommunal"] == pytest.approx(1.4, abs=0.1)


def _mostly_specific_years(t) -> pd.DataFrame:
    """id_action, annee, part of specific credits in the granted funding of each action-year."""
    fa = _action_funding(t)
    spec = fa["m"].where(fa["type_credit"] == "specifique", 0.0)
    g = fa.assign(spec=spec).groupby(["code_commune", "id_action", "annee"])[["spec", "m"]].sum()
    return (g["spec"] / g["m"]).rename("part").reset_index().assign(annee=lambda d: d["annee"].astype(int))


def test_actions_at_stake_recomputed(t, truth):
    parts = _mostly_specific_years(t)
    # Clear margins around the 80 % threshold.
    assert ((parts["part"] >= 0.83) | (parts["part"] <= 0.6)).all()
    act = t["actions"]
    running = set(
        act.loc[(act["annee"] == "2014") & act["statut"].isin(["réalisée", "programmée"]), "id_action"]
    )
    mostly = parts[parts["part"] >= 0.8]
    # At stake: mostly specific in each of 2012, 2013 and 2014 (a run of >= 3 years up to 2014).
    last3 = mostly[mostly["annee"] >= 2012].groupby(["code_commune", "id_action"]).size()
    ids = last3[last3 == 3].reset_index()
    ids = ids[ids["id_action"].isin(running)]
    expected = {
        c: sorted(ids.loc[ids["code_commune"] == c, "id_action"]) for c in truth["actions_enjeu_reprise"]
    }
    assert truth["actions_enjeu_reprise"] == expected
    sig = set(t["communes"].loc[t["communes"]["signataire_cucs"] == "oui", "code_commune"])
    assert set(expected) == sig
    counts = [len(v) for v in expected.values() if v]
    assert len(counts) >= 4 and max(counts) <= 4
    assert expected["20001"], "the chef-lieu shows the section in its q1/q4 pages"
    # Some planted actions keep a small co-funder (between 80 % and 100 % specific).
    planted = parts[parts["id_action"].isin(sum(expected.values(), [])) & (parts["annee"] == 2014)]
    assert (planted["part"] < 1).any() and (planted["part"] == 1).any()


def test_funding_finds_the_actions_at_stake(t, truth):
    from cucs_analysis.analysis import funding

    act = t["actions"].assign(annee=num(t["actions"]["annee"]))
    fin = t["financements"].assign(
        annee=num(t["financements"]["annee"]),
        montant_accorde=num(t["financements"]["montant_accorde"]).astype(float),
    )
    for c, expected in truth["actions_enjeu_reprise"].items():
        a = act[act["code_commune"] == c]
        found = funding.actions_at_stake(a, fin[fin["id_action"].isin(a["id_action"])], 0.8, 3)
        assert sorted(found["id_action"]) == expected, c
        assert (found["annees_consecutives"] >= 3).all() and (found["part_specifique"] >= 0.8).all()


def test_cofunding_varies_by_commune_and_year(t):
    fa = _action_funding(t)
    per = (
        fa[fa["m"] > 0]
        .groupby(["code_commune", "id_action", "annee"])["institution"]
        .agg(["nunique", "first"])
    )
    solo = per[per["nunique"] == 1]
    # A single funder is always the State with specific credits only.
    assert (solo["first"] == "État").all()
    assert 0.15 <= len(solo) / len(per) <= 0.25
    co = (per["nunique"] >= 2).groupby(level="code_commune").mean()
    assert co.min() >= 0.6 and co.max() <= 0.95 and co.max() - co.min() >= 0.1
    by_year = (per["nunique"] >= 2).groupby(level="annee").mean()
    assert by_year.max() < 1 and by_year.max() - by_year.min() >= 0.05


def test_gup_trends(t, truth):
    sm = pytest.importorskip("statsmodels.api")
    gup = t["gup"].assign(annee=t["gup"]["date"].str[:4].astype(int))
    counts = gup.groupby(["code_quartier", "categorie", "annee"]).size()
    tendances = {d["tendance"] for d in truth["gup_tendance"]}
    assert tendances == {"hausse", "baisse"}
    x = sm.add_constant(np.arange(10, dtype=float))
    for d in truth["gup_tendance"]:
        y = counts.loc[(d["code_quartier"], d["categorie"])].reindex(range(2005, 2015), fill_value=0)
        fit = sm.GLM(y.to_numpy(float), x, family=sm.families.Poisson()).fit()
        assert fit.pvalues[1] < 0.05
        assert (fit.params[1] > 0) == (d["tendance"] == "hausse")
        ratio = y.iloc[-1] / y.iloc[0]
        assert ratio >= 2.5 if d["tendance"] == "hausse" else ratio <= 0.4
    # A non-planted series stays flat.
    other = counts.drop([(d["code_quartier"], d["categorie"]) for d in truth["gup_tendance"]])
    y = other.groupby(level=[0, 1]).apply(lambda s: s.iloc[-1] - s.iloc[0] if len(s) == 10 else 0)
    assert (y == 0).mean() > 0.9


# --- scales --------------------------------------------------------------------------------------


def test_unknown_scale_is_refused(tmp_path):
    with pytest.raises(ValueError, match="Échelle inconnue"):
        generate(tmp_path, scale="planetaire")


@pytest.mark.slow  # generates the national data set (about 10 s)
def test_national_scale(tmp_path):
    truth = generate(tmp_path, scale="national")
    com = pd.read_csv(tmp_path / "communes.csv", dtype=str)
    qua = pd.read_csv(tmp_path / "quartiers.csv", dtype=str)
    assert 850 <= len(com) <= 950 and 1400 <= len(qua) <= 1600
    assert com["code_commune"].is_unique and qua["code_quartier"].is_unique
    assert qua["code_quartier"].str.fullmatch(schema.PATTERN_QUARTIER).all()
    assert set(TRUTH_KEYS) <= set(truth)


def test_data_readme_is_up_to_date():
    from cucs_analysis.data.demo import data_readme

    text = (COMMITTED.parent / "README.md").read_text(encoding="utf-8")
    assert text == data_readme(), (
        "data/README.md is stale: rewrite it from cucs_analysis.data.demo.data_readme()"
    )
    assert "synthétiques et fictives" in text
    for name in schema.TABLES:
        assert f"### `{name}.csv`" in text


def test_demo_inflation_is_the_parameters_inflation():
    """The generator plants the mainstream in constant euros with the same price series the
    analyses deflate with (params/defaults.yaml euros_constants)."""
    import yaml

    from cucs_analysis.data.demo import INFLATION

    e = yaml.safe_load((COMMITTED.parents[1] / "params" / "defaults.yaml").read_text(encoding="utf-8"))
    taux = {int(x["annee"]): float(x["taux"]) / 100 for x in e["euros_constants"]["inflation"]}
    assert INFLATION == pytest.approx({y: taux[y] for y in INFLATION})
