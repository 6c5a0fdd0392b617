"""Contract-level actions (issue 11, Ci.Ville / P147): an action with `code_epci` given and
`code_commune` unknown belongs to an EPCI's contract, not to one commune. The territory of a
commune holds those of its EPCI apart (`actions_contrat`, `financements_contrat`), never among
its own actions, and q1 says what the data hold at that level instead of « la programmation du
contrat ne figure pas dans les données ». Also the « before » period of a contract that starts with
the data (never « 2015-2014 ») and q7's comparison on no commune.

A hand-made copy of the demo (some actions of 20001 moved to its EPCI's contract), and the real
Ci.Ville sample imported when ../shared/realdata is present (skipped otherwise)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import region_of

from cucs_analysis.data import dataset
from cucs_analysis.pipeline import params as P
from cucs_analysis.present import text
from cucs_analysis.reports import q1, q5, q6, q7, q8

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
TABLES_DEMO = ("communes", "actions", "financements")


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CUCS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache-contrat"))


def _lire(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def demo_contrat(tmp_path_factory):
    """The demo where the CLAS actions of 20001 become actions of its EPCI's contract
    (`code_commune` inconnu, `code_epci` the commune's), plus one contract-level action of another
    EPCI; returns the folder and what was moved, read from the files."""
    out = tmp_path_factory.mktemp("demo-contrat") / "donnees"
    shutil.copytree(DEMO, out)
    communes = _lire(out / "communes.csv")
    epci = communes.loc[communes["code_commune"] == "20001", "code_epci"].iloc[0]
    autre = next(e for e in communes["code_epci"] if e != epci)
    a = _lire(out / "actions.csv")
    a.insert(a.columns.get_loc("code_commune") + 1, "code_epci", "")
    moved = (a["code_commune"] == "20001") & (a["dispositif"] == "CLAS")
    a.loc[moved, ["code_commune", "code_epci", "code_quartier"]] = ["inconnu", epci, ""]
    other = a.index[(a["code_commune"] != "inconnu") & (a["code_commune"] != "20001")][0]
    a.loc[other, ["code_commune", "code_epci", "code_quartier"]] = ["inconnu", autre, ""]
    a.to_csv(out / "actions.csv", index=False)
    dataset.clear_memo()
    f = _lire(out / "financements.csv")
    ids = set(a.loc[moved, "id_action"])
    return {
        "dir": out,
        "epci": epci,
        "actions": a.loc[moved],
        "financements": f[f["id_action"].isin(ids)],
        "n_donnees": int((a["code_commune"] == "inconnu").sum()),
    }


def test_territory_holds_the_contract_actions_of_its_epci_apart(demo_contrat):
    t = dataset.load_territory(demo_contrat["dir"], "20001")
    attendu = demo_contrat["actions"]
    assert len(t.actions_contrat) == len(attendu) > 0
    assert set(t.actions_contrat["id_action"]) == set(attendu["id_action"])
    assert (t.actions_contrat["code_epci"] == demo_contrat["epci"]).all()
    # never merged into the commune's own actions: no double counting
    assert not set(t.actions["id_action"]) & set(attendu["id_action"])
    assert t.n_actions_contrat_donnees == demo_contrat["n_donnees"] == len(attendu) + 1
    montant = pd.to_numeric(demo_contrat["financements"]["montant_accorde"]).sum()
    assert t.financements_contrat["montant_accorde"].sum() == pytest.approx(montant)
    # another commune of another EPCI has none of them; one of an unknown EPCI none at all
    autre = dataset.load_territory(demo_contrat["dir"], "20012")
    assert not set(autre.actions_contrat["id_action"]) & set(attendu["id_action"])
    inconnu = dataclasses.replace(t, commune={**t.commune, "code_epci": None})
    assert q1.build(inconnu, P.load_params("20001", ROOT)).contrat.code_epci is None


def test_demo_without_contract_actions_has_none(demo_contrat):
    t = dataset.load_territory(DEMO, "20001")
    assert t.actions_contrat.empty and t.financements_contrat.empty and t.n_actions_contrat_donnees == 0
    r = q1.build(t, P.load_params("20001", ROOT))
    assert q1.vue_contrat(r) is None and q1.tableau_contrat(r).fragment == ""
    assert not [x for x in r.constats if "contrats de ville (EPCI)" in x]


def test_q1_says_what_the_contract_holds(demo_contrat):
    p = P.load_params("20001", ROOT)
    t = dataset.load_territory(demo_contrat["dir"], "20001")
    r = q1.build(t, p)
    n, epci = len(demo_contrat["actions"]), demo_contrat["epci"]
    montant = pd.to_numeric(demo_contrat["financements"]["montant_accorde"]).sum()
    phrase = next(x for x in r.constats if "au niveau des contrats de ville (EPCI)" in x)
    assert f"Les données contiennent {text.nombre(demo_contrat['n_donnees'])} actions-années" in phrase
    assert f"le contrat de ville de l'EPCI {epci} en compte {text.nombre(n)} ({text.euros(montant)}" in phrase
    assert "non répartis entre ses communes" in phrase
    assert phrase in r.texte("dispositifs")
    v = q1.vue_contrat(r)
    assert v["Actions-années"].sum() == n
    assert v.iloc[:, 3].sum() == pytest.approx(montant)
    assert set(v["Dispositif"]) == {"CLAS"}
    # the commune's own dashboard no longer counts them
    assert "CLAS" not in set(r.tableau_de_bord["dispositif"])
    # an unknown EPCI says how to add it
    t2 = dataclasses.replace(
        t, commune={**t.commune, "code_epci": None}, actions_contrat=t.actions_contrat.iloc[0:0]
    )
    r2 = q1.build(t2, p)
    phrase2 = next(x for x in r2.constats if "au niveau des contrats de ville (EPCI)" in x)
    assert "le code EPCI de Valbrune-sur-Lèze est inconnu" in phrase2
    assert "cucs import insee-qpv --epci" in phrase2


@pytest.mark.parametrize("q", [q5, q6, q7, q8], ids=["q5", "q6", "q7", "q8"])
def test_q5_q8_without_programme_say_what_the_contract_holds(demo_contrat, q):
    p = P.load_params("20001", ROOT)
    t = dataset.load_territory(demo_contrat["dir"], "20001")
    t = dataclasses.replace(
        t,
        commune={**t.commune, "signataire_cucs": None},
        **{
            k: getattr(t, k).iloc[0:0]
            for k in ("actions", "financements", "parcours", "instances", "bilans", "gup")
        },
    )
    r = q.build(t, region_of(demo_contrat["dir"], p), p) if q in (q6, q7) else q.build(t, p)
    assert not r.a_programme
    assert [x for x in r.constats if f"le contrat de ville de l'EPCI {demo_contrat['epci']} en compte" in x]


# --- the real Ci.Ville sample ------------------------------------------------------------------------

FICHIERS_REELS = [
    *(f"adulte-relais-{a}.json" for a in range(2020, 2024)),
    *(f"postes-fonjep-{a}.json" for a in range(2020, 2024)),
]
TOULOUSE_EPCI = "243100518"  # Toulouse Métropole (INSEE composition communale des EPCI)


@pytest.fixture(scope="module")
def reel(realdata, tmp_path_factory):
    from cucs_analysis.data.imports import civille, insee_qpv

    qpv, cv = realdata / "hackaviz2021_occitanie_qpv", realdata / "anct_civille_p147"
    files = [cv / f for f in FICHIERS_REELS]
    if not all(f.is_file() for f in files) or not (qpv / "qp.csv").is_file():
        pytest.skip("données réelles (INSEE QPV, Ci.Ville) absentes : test ignoré")
    tmp = tmp_path_factory.mktemp("contrat-reel")
    epci = tmp / "epci.csv"
    epci.write_text(
        "Composition communale des EPCI\n\nCODGEO;LIBGEO;EPCI;LIBEPCI;DEP;REG\n"
        f"31555;Toulouse;{TOULOUSE_EPCI};Toulouse Métropole;31;76\n",
        encoding="utf-8",
    )
    dossiers = {}
    for nom, e in (("avec_epci", epci), ("sans_epci", None)):
        out = tmp / nom
        insee_qpv.importer(
            qpv / "qp.csv", contours=qpv / "qp.geojson", communes=qpv / "communes.geojson", epci=e, out=out
        )
        civille.importer(files, out, contrats=cv / "geom_cv_ctr.json", regions=["76"])
        dossiers[nom] = out
    dataset.clear_memo()
    return dossiers


def test_real_toulouse_contract_posts(reel):
    out = reel["avec_epci"]
    a, f = _lire(out / "actions.csv"), _lire(out / "financements.csv")
    niveau = a["code_commune"].str.lower().isin(["inconnu", ""]) & (a["code_epci"] != "")
    mien = a[niveau & (a["code_epci"] == TOULOUSE_EPCI)]
    t = dataset.load_territory(out, "31555")
    assert t.n_actions_contrat_donnees == int(niveau.sum()) > 0
    assert len(t.actions_contrat) == len(mien) > 0
    montant = pd.to_numeric(f.loc[f["id_action"].isin(set(mien["id_action"])), "montant_accorde"]).sum()
    assert t.financements_contrat["montant_accorde"].sum() == pytest.approx(montant)
    r = q1.build(t, P.load_params("20001", ROOT))
    phrase = next(x for x in r.constats if "au niveau des contrats de ville (EPCI)" in x)
    assert (
        f"Les données contiennent {text.nombre(int(niveau.sum()))} postes-années financés par l'État"
        in phrase
    )
    assert f"en compte {text.nombre(len(mien))} ({text.euros(montant)} de l'État" in phrase
    v = q1.vue_contrat(r)
    assert v["Postes-années"].sum() == len(mien)
    assert v.iloc[:, 3].sum() == pytest.approx(montant)
    assert "la programmation du contrat (dispositifs" not in " ".join(r.constats)


def test_real_toulouse_without_epci_file_says_how_to_add_it(reel):
    t = dataset.load_territory(reel["sans_epci"], "31555")
    assert t.actions_contrat.empty and t.n_actions_contrat_donnees > 0
    r = q1.build(t, P.load_params("20001", ROOT))
    phrase = next(x for x in r.constats if "au niveau des contrats de ville (EPCI)" in x)
    assert "le code EPCI de Toulouse est inconnu" in phrase and "--epci" in phrase


# --- no reversed « before » period, no comparison on 0 commune ------------------------------------------


def test_no_before_period_is_said_never_reversed():
    p = P.load_params("20001", ROOT)
    p = p.model_copy(update={"annee_debut_cucs": int(p.periode.debut)})
    debut = int(p.periode.debut)
    inverse = f"{debut}-{debut - 1}"  # what the old pages printed
    t = dataset.load_territory(DEMO, "20001")
    reg = region_of(DEMO, p)
    rapports = [q1.build(t, p), q5.build(t, p), q6.build(t, reg, p), q7.build(t, reg, p), q8.build(t, p)]
    for r in rapports:
        phrases = [*r.constats, *r.reserves, *(x for xs in r.textes.values() for x in xs), r.verdict["texte"]]
        assert not [x for x in phrases if inverse in x], type(r).__name__
    for r in rapports[1:]:
        assert "aucune année avant le contrat dans les données" in r.avant
    sources = " ".join(q1.sources(rapports[0], p, t.metadata))
    assert inverse not in sources and "aucune année avant le contrat dans les données" in sources
    for sources in (q5.sources(rapports[1], p, t.metadata), q7.sources(rapports[3], p, t.metadata)):
        ligne = next(x for x in sources if x.startswith("Périodes comparées"))
        assert ligne.startswith(
            "Périodes comparées : aucune (aucune année avant le contrat dans les données)"
        ), ligne


def test_q7_comparison_on_no_commune_is_nd():
    p = P.load_params("20001", ROOT)
    t = dataset.load_territory(DEMO, "20001")
    reg = region_of(DEMO, p)
    vide = dataclasses.replace(reg, structures=reg.structures.iloc[0:0])
    r = q7.build(t, vide, p)
    assert len(r.communes_comparees) == 0
    assert not [x for x in r.reserves if "repose sur 0 commune" in x]
    assert [x for x in r.reserves if x.startswith("Comparaison des structures : n.d. — ")]
    avec = q7.build(t, reg, p)
    assert [x for x in avec.reserves if x.startswith("La comparaison des structures repose sur")]
