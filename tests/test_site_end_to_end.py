"""The product as a reader meets it: real notebooks run by the project's runner on the demo
(with contours and one commune's indicators removed), published, and read in headless
Chromium from disk."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from projet import projet_sur

from cucs_analysis.pipeline import runner

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
TRUTH = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))
NOTEBOOKS = ("q2_moyens_associations.ipynb", "q3_geographie_prioritaire.ipynb")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Run q2 and q3 for a rich commune (20001) and one whose quartier indicators are gone (20008)."""
    tmp = tmp_path_factory.mktemp("bout-en-bout")
    data = tmp / "data"
    shutil.copytree(DEMO, data)
    from conftest import inject_hostile

    inject_hostile(data)  # hostile action titles (the committed demo has none)
    for f in ("quartiers.geojson", "communes.geojson", "truth.json"):
        (data / f).unlink()
    q = pd.read_csv(data / "quartiers.csv", dtype=str)
    gone = set(q.loc[q["code_commune"] == "20008", "code_quartier"])
    ind = pd.read_csv(data / "indicateurs.csv", dtype=str, keep_default_na=False)
    ind[~ind["code_territoire"].isin(gone)].to_csv(data / "indicateurs.csv", index=False)

    project = projet_sur(data, tmp / "projet", NOTEBOOKS)
    out = tmp / "out"
    mp = pytest.MonkeyPatch()
    mp.setenv("CUCS_CACHE_DIR", str(tmp / "cache"))
    try:
        summary = runner.run(
            project, ["20001", "20008"], ["q2", "q3"], jobs=2, resume=False, out_dir=out, progress=False
        )
    finally:
        mp.undo()
    assert summary.exit_code == 0, summary.message
    return out


def test_results_follow_the_contract_and_recover_the_truth(site):
    for code in ("20001", "20008"):
        res = json.loads((site / "results" / code / "q3.json").read_text(encoding="utf-8"))
        assert {"eligibilite", "seuil_qpv2014", "typologie", "constats", "reserves", "chiffres_cles"} <= set(
            res
        )
        assert res["code_commune"] == code
    rich = json.loads((site / "results" / "20001" / "q3.json").read_text(encoding="utf-8"))
    codes = {x["code_quartier"] for x in rich["eligibilite"]}
    expected = sorted(e for e in TRUTH["eligibles_qpv2014"] if e in codes)
    assert sorted(e["code_quartier"] for e in rich["eligibilite"] if e["regle_qpv2014"]) == expected
    did = {
        d["indicateur"]: d for d in json.loads((site / "results" / "20001" / "q2.json").read_text())["did"]
    }
    assert did["taux_chomage"]["ic_bas"] <= -2.0 <= did["taux_chomage"]["ic_haut"] < 0


def test_missing_sections_say_so(site):
    page = (site / "site" / "pages" / "20008" / "q3.html").read_text(encoding="utf-8")
    assert "Données non disponibles\u00a0: contours des quartiers de la commune." in page
    assert "Données non disponibles\u00a0: revenus des quartiers et seuil de 2014." in page
    assert "<title>Géographie prioritaire — Villefrêne (20008)" in page


def test_pages_in_chromium(site, tmp_path):
    from test_site_browser import _chromium_or_skip, dump_dom

    _chromium_or_skip()
    root = site / "site"
    profile = tmp_path / "profil"
    for rel in ("index.html", "communes/20001.html", "pages/20001/q3.html", "pages/20001/q2.html"):
        dom, console = dump_dom((root / rel).as_uri(), profile)
        assert console == [], (rel, console)
        assert '<html lang="fr">' in dom
        assert "demarrer(" not in dom and "import " not in dom and "In [" not in dom, rel
        for tag in re.findall(r"<img\b[^>]*>", dom):
            alt = re.search(r'alt="([^"]+)"', tag)
            assert alt and alt.group(1).strip(), (rel, tag[:100])
    q3, _ = dump_dom((root / "pages/20001/q3.html").as_uri(), profile)
    assert q3.count("<img") == 2  # bars and income dots; no contours in this data, so no maps
    assert "Données non disponibles\u00a0: carte régionale de la typologie." in q3.replace("&nbsp;", "\u00a0")
    assert "Selon la règle de revenu de 2014" in q3
    q2, _ = dump_dom((root / "pages/20001/q2.html").as_uri(), profile)
    # The injected action title "<script>alert(1)</script> Atelier « théâtre »" is shown as text
    # and no script element reached the page.
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Atelier « théâtre »" in q2
    assert "<script" not in q2
    assert "cause" not in q2.replace("à cause", "")
