"""The published site of a demo run, read as a French evaluator would (issue 8, points 3, 7-10).

It reads the session's `demo_site` (tests/conftest.py: q1 to q4 and the two syntheses for 20001
and the non-signatory 20012), shared with the accessibility test: every kind of page.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pandas as pd
import pytest

from cucs_analysis.pipeline import publish
from cucs_analysis.pipeline.params import load_params
from cucs_analysis.present import methode, text
from cucs_analysis.reports import questions, synthese

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
HORS_CUCS = "20012"


@pytest.fixture(scope="module")
def out(demo_site) -> Path:
    return demo_site


@pytest.fixture(scope="module")
def site(out) -> Path:
    return out / "site"


def visible(page: str) -> str:
    """The text a reader sees: no tags, no style/script, entities decoded."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def ids_of(page: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]*)"', page))


def links_of(page: str) -> list[tuple[str, str]]:
    """(href, link text) of every <a>."""
    return [
        (html.unescape(h), visible(t).strip())
        for h, t in re.findall(r'<a\b[^>]*\shref="([^"]*)"[^>]*>(.*?)</a>', page, flags=re.S)
    ]


# --- point 9: the bad patterns, on every page ----------------------------------------------------

_NOMS = pd.read_csv(DEMO / "communes.csv", dtype=str)["nom"].tolist()
_VOYELLE = [n for n in _NOMS if n[:1] in "AEIOUYÉÈ"]

BAD_PATTERNS: dict[str, re.Pattern] = {
    "espace ordinaire avant : ; ? !": re.compile(r"[^\s\u00a0\u202f] [:;?!](?=\s|$)"),
    "« sans espace insécable": re.compile(r"«(?![\u00a0\u202f])"),
    "» sans espace insécable": re.compile(r"(?<![\u00a0\u202f])»"),
    "% ou € sans espace insécable": re.compile(r"\d [%€]"),
    "0 quartier sur": re.compile(r"\b0 (quartier|action|commune|domaine)s? sur\b"),
    "1 … au pluriel": re.compile(
        r"(?<![\d,\u202f])\b1[\u00a0 ]+(non )?(éligibles|quartiers|actions|communes|domaines)\b"
    ),
    "(s) de pluriel": re.compile(r"\w\(s\)"),
    "ses 1": re.compile(r"\bses 1\b"),
    "de + voyelle (d')": re.compile(r"\bde (" + "|".join(map(re.escape, _VOYELLE)) + r")\b")
    if _VOYELLE
    else re.compile(r"(?!x)x"),
    "point au singulier à 2 ou plus": re.compile(r"[−+-]?(?:[2-9]|\d{2,}),\d+[\u00a0 ]point\b"),
    "None": re.compile(r"\bNone\b"),
    "nan": re.compile(r"\b(nan|NaN)\b"),
    "Résultats enregistrés": re.compile(r"Résultats enregistrés"),
}


def offences(path: Path, site: Path) -> list[str]:
    page = path.read_text(encoding="utf-8")
    texte = visible(page)
    found = []
    for nom, motif in BAD_PATTERNS.items():
        for m in motif.finditer(texte):
            extrait = texte[max(0, m.start() - 40) : m.end() + 20].replace("\n", " ")
            found.append(f"{path.relative_to(site)} [{nom}] …{' '.join(extrait.split())}…")
    for href, label in links_of(page):
        if label.lower() in {"ok", "ko"}:
            found.append(f"{path.relative_to(site)} [lien « {label} »] {href}")
    return found


def _owned(path: Path, site: Path) -> bool:
    rel = path.relative_to(site).as_posix()
    if rel.startswith("pages/"):
        return path.stem in {"synthese", "synthese_regionale"}
    return not rel.endswith("-dossier.html")  # the dossier repeats the question pages


def test_no_bad_pattern_on_pages_of_the_site_builder_and_syntheses(site):
    pages = [p for p in sorted(site.rglob("*.html")) if _owned(p, site)]
    assert len(pages) >= 7  # index, méthode, 2 commune pages, 2 syntheses, regional synthesis
    found = [o for p in pages for o in offences(p, site)]
    assert not found, "\n".join(found)


def test_no_bad_pattern_on_question_pages(site):
    """The q1-q8 pages (their reports are owned by the question helpers) and the dossiers that
    repeat them: every offence is listed with its page and an excerpt."""
    pages = [p for p in sorted(site.rglob("*.html")) if not _owned(p, site)]
    assert pages
    found = [o for p in pages for o in offences(p, site)]
    assert not found, f"{len(found)} motifs fautifs :\n" + "\n".join(found)


def test_bad_patterns_can_fail(tmp_path):
    page = tmp_path / "p.html"
    page.write_text(
        "<p>Total : 3 quartier(s), 0 quartier sur 4, 1 non éligibles, ses 1 quartiers, None, "
        '−2,0 point, 95 %</p><a href="x">ok</a>',
        encoding="utf-8",
    )
    kinds = {o.split("[")[1].split("]")[0] for o in offences(page, tmp_path)}
    assert {
        "espace ordinaire avant : ; ? !",
        "(s) de pluriel",
        "0 quartier sur",
        "1 … au pluriel",
        "ses 1",
        "None",
        "point au singulier à 2 ou plus",
        "% ou € sans espace insécable",
    } <= kinds
    assert any("lien « ok »" in o for o in offences(page, tmp_path))


def test_typography_touches_text_only():
    page = (
        '<p title="a : b">Taux : <b>95</b> % ; « x »</p><style>a :hover { x: y; }</style>'
        '<code>f(x) : y</code><a href="http://e.fr/?a=1;b">lien ?</a>'
    )
    out = publish.typographie_html(page)
    assert 'title="a : b"' in out and "a :hover { x: y; }" in out and "<code>f(x) : y</code>" in out
    assert "Taux\u00a0:" in out and "<b>95</b>\u00a0%" in out and "«\u00a0x\u00a0»" in out
    assert 'href="http://e.fr/?a=1;b">lien\u00a0?' in out
    assert publish.typographie_html(out) == out  # idempotent


# --- point 3: index and commune pages --------------------------------------------------------


def test_index_three_states_and_no_ok_label(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    row = re.search(rf'<tr data-recherche="[^"]*{HORS_CUCS}">(.*?)</tr>', index, flags=re.S).group(1)
    cells = re.findall(r"<td\b.*?</td>", row, flags=re.S)
    assert len(cells) >= 3
    assert all("hors CUCS" in visible(c) for c in cells), cells
    assert not any(re.search(r"n\.d\.|—", visible(c)) for c in cells)
    labels = [label for _, label in links_of(index)]
    assert "ok" not in labels and "Lire" in labels
    communes = pd.read_csv(DEMO / "communes.csv", dtype=str)
    # the communes run have a row, the others one sentence; every commune keeps its page
    run = {"20001", HORS_CUCS}
    assert set(re.findall(r'<tr data-recherche="[^"]*?(\d{5})"', index)) == run
    autres = len(communes) - len(run)
    assert (
        f"{autres} autres communes du jeu de données n'ont pas été traitées dans cette exécution."
        in visible(index)
    )
    for code in communes["code_commune"]:
        assert (site / "communes" / f"{code}.html").is_file()
    non_run = communes.loc[communes["signataire_cucs"] == "non", "code_commune"].iloc[0]
    assert "hors CUCS" in visible((site / "communes" / f"{non_run}.html").read_text(encoding="utf-8"))


def test_cell_states_are_three_different_things():
    res = {"chiffres_cles": [{"id": "x", "libelle": "X", "valeur": 3, "unite": "quartiers"}]}
    ok = {"statut": "ok", "erreur": ""}
    absent = {
        **res,
        "verdict": {"texte": "Données non disponibles.", "motif": "donnee_absente", "section": "x"},
    }
    assert publish._cell(ok, absent, True, question="q4")["statut_libelle"] == "données non disponibles"
    hors = {**res, "signataire_cucs": False}
    assert publish._cell(ok, hors, True, question="q1")["statut_libelle"] == "hors CUCS"
    failed = publish._cell(
        {"statut": "echec", "erreur": "boum"}, None, False, question="q1", signataire=False
    )
    assert failed["statut_libelle"] == "échec"
    fine = publish._cell(ok, res, True, question="q1")
    assert fine["lien_libelle"] == "Lire" and fine["chiffre"] == "3\u00a0quartiers"


# --- point 7: the syntheses ------------------------------------------------------------------


def test_anchor_is_the_one_nbconvert_writes(site):
    from nbconvert.filters.strings import _convert_header_id

    for titre in (
        "4. Complémentarité ou substitution ?",
        "Ce que les chiffres ne disent pas",
        "L'été : 95 %",
    ):
        assert synthese.ancre(titre) == _convert_header_id(titre)
    page = (site / "pages/20001/q1.html").read_text(encoding="utf-8")
    headings = re.findall(r'<h2 id="([^"]*)"[^>]*>(.*?)<a class="anchor-link"', page, flags=re.S)
    assert headings
    for ident, contenu in headings:
        # the site's typography turned spaces before « ? » into no-break spaces: the id kept them
        titre = visible(contenu).replace("\u00a0", " ").strip()
        assert synthese.ancre(titre) == ident, titre


def test_commune_synthesis_verdicts_link_to_their_evidence(site, out):
    page_path = site / "pages/20001/synthese.html"
    page = page_path.read_text(encoding="utf-8")
    verdicts = [
        (h, label)
        for h, label in links_of(page)
        if re.match(r"^q\d\.html", h) and (label.startswith("voir") or label == "voir la page")
    ]
    run = {"q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"}
    assert {urlsplit(h).path[:-5] for h, _ in verdicts} == run
    for href, _ in verdicts:
        parts = urlsplit(href)
        target = page_path.parent / parts.path
        assert target.is_file(), href
        if parts.fragment:
            assert parts.fragment in ids_of(target.read_text(encoding="utf-8")), href
    res = json.loads((out / "results/20001/synthese.json").read_text(encoding="utf-8"))
    for v in res["verdicts"]:
        r = out / "results/20001" / f"{v['question']}.json"
        if r.is_file():
            verdict = json.loads(r.read_text(encoding="utf-8")).get("verdict")
            if isinstance(verdict, dict) and verdict.get("section"):
                assert v["lien"] == f"{v['question']}.html#{synthese.ancre(verdict['section'])}"
                assert v["texte"] == verdict["texte"]


def test_synthesis_counts_only_questions_with_a_notebook(site):
    existing = [
        q
        for q in questions.avec_carnet(ROOT / "notebooks")
        if q in {x.id for x in synthese.QUESTIONS_COMMUNE}
    ]
    texte = visible((site / "pages/20001/synthese.html").read_text(encoding="utf-8"))
    assert f"sur {len(existing)} ont des résultats" in " ".join(texte.split())
    for q in synthese.QUESTIONS_COMMUNE:
        if q.id not in existing:
            assert q.titre not in texte, q.titre
    assert "non exécuté ou données absentes" not in texte


def test_commune_placed_among_the_others_per_inhabitant(out, site):
    """Credits per inhabitant recomputed by hand from the CSV tables."""
    actions = pd.read_csv(DEMO / "actions.csv", dtype={"code_commune": str})
    fin = pd.read_csv(DEMO / "financements.csv")
    communes = pd.read_csv(DEMO / "communes.csv", dtype={"code_commune": str})
    p = load_params("region", ROOT)
    debut, fin_ = p.periode.debut, p.periode.fin
    f = fin[fin["annee"].between(debut, fin_)].merge(
        actions[["id_action", "annee", "code_commune"]].drop_duplicates(["id_action", "annee"]),
        on=["id_action", "annee"],
    )
    sp = f[f["type_credit"] == "specifique"].groupby("code_commune")["montant_accorde"].sum()
    pop = communes.set_index("code_commune")["population"]
    signataires = communes.loc[communes["signataire_cucs"] == "oui", "code_commune"]
    par_hab = (sp / pop / (fin_ - debut + 1)).reindex(signataires)
    attendu = par_hab["20001"]
    rang = int((par_hab > attendu).sum()) + 1
    res = json.loads((out / "results/20001/synthese.json").read_text(encoding="utf-8"))
    rep = {r["id"]: r for r in res["reperes"]}["specifique_par_habitant"]
    assert rep["valeur"] == pytest.approx(attendu)
    assert rep["rang"] == rang and rep["n"] == len(signataires)
    assert rep["mediane"] == pytest.approx(par_hab.median())
    # the mainstream share is q1's key figure, the same base
    q1 = json.loads((out / "results/20001/q1.json").read_text(encoding="utf-8"))
    part = {c["id"]: c["valeur"] for c in q1["chiffres_cles"]}["part_droit_commun"]
    assert round({r["id"]: r for r in res["reperes"]}["part_droit_commun"]["valeur"], 1) == part
    texte = " ".join(visible((site / "pages/20001/synthese.html").read_text(encoding="utf-8")).split())
    assert f"{synthese.rang_fr(rang)} sur {len(signataires)}" in texte
    # a non-signatory commune is not ranked: « hors CUCS »
    hors = json.loads((out / f"results/{HORS_CUCS}/synthese.json").read_text(encoding="utf-8"))
    assert all(r["valeur"] is None for r in hors["reperes"])
    texte = visible((site / f"pages/{HORS_CUCS}/synthese.html").read_text(encoding="utf-8"))
    assert "hors CUCS" in texte and "1re sur" not in texte


def test_regional_synthesis_links_every_commune_and_offers_its_table(site, out):
    page_path = site / "pages/region/synthese_regionale.html"
    page = page_path.read_text(encoding="utf-8")
    communes = pd.read_csv(DEMO / "communes.csv", dtype=str)
    hrefs = [h for h, _ in links_of(page)]
    for code in communes["code_commune"]:
        href = f"../../communes/{code}.html"
        assert href in hrefs, code
        assert (page_path.parent / href).resolve().is_file()
    assert synthese.CSV_REGIONAL in hrefs
    index = (site / "index.html").read_text(encoding="utf-8")
    assert index.count('href="telechargements/region/synthese_regionale_communes.csv"') == 1
    csv_path = (page_path.parent / synthese.CSV_REGIONAL).resolve()
    rows = list(csv.DictReader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert [r["code_commune"] for r in rows] == communes["code_commune"].tolist()
    for r in rows:
        sig = communes.set_index("code_commune").loc[r["code_commune"], "signataire_cucs"]
        assert r["signataire_cucs"] == sig
        if sig == "non":
            assert r["q1_part_droit_commun"] == "hors CUCS"
    texte = " ".join(visible(page).split())
    n_res = len({p.parent.name for p in (out / "results").glob("*/q1.json")})
    assert (
        f"Dans les {text.pluriel(n_res - 1, 'commune signataire', 'communes signataires')} dont les résultats"
        in texte.replace("\u00a0", " ")
        or n_res - 1 < 2
    )
    assert f"sur {len(communes)} communes de la région" in texte.replace("\u00a0", " ") or "q3" not in texte


# --- point 7: the dossier and the print stylesheet ---------------------------------------------


def test_commune_dossier_prints_as_one_document(site):
    dossier = site / "communes/20001-dossier.html"
    page = dossier.read_text(encoding="utf-8")
    order = re.findall(r'<section id="dossier-([^"]+)" class="dossier-question">', page)
    assert order == ["synthese", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"]
    ids = re.findall(r'\sid="([^"]*)"', page)
    assert len(ids) == len(set(ids))  # every page's « En bref » got its own id
    for href, _ in links_of(page):
        parts = urlsplit(href)
        if parts.scheme:
            continue
        if not parts.path:
            assert parts.fragment in ids, href
        else:
            assert (dossier.parent / unquote(parts.path)).resolve().is_file(), href
    assert "20001-dossier.html" in (site / "communes/20001.html").read_text(encoding="utf-8")
    css = (site / "static/cucs.css").read_text(encoding="utf-8")
    imprime = css[css.index("@media print") :]
    for rule in ("break-before: page", ".entete nav", ".zone-recherche", "attr(href)"):
        assert rule in imprime, rule


# --- point 8: the Méthode page -----------------------------------------------------------------


def test_methode_page_glossary_catalogue_references_and_parameters(site):
    page = (site / "methode.html").read_text(encoding="utf-8")
    texte = " ".join(visible(page).split()).replace("\u00a0", " ")
    # every acronym written on a page of the site is in the glossary
    termes = " ".join(t for t, _ in methode.GLOSSAIRE)
    sigles = set()
    for p in site.rglob("*.html"):
        sigles |= set(re.findall(r"\b([A-Z][A-Z]{1,}[a-z]?)\b", visible(p.read_text(encoding="utf-8"))))
    ignores = {"LISEZMOI"}  # the name of a file
    manquants = sorted(s for s in sigles - ignores if s not in termes)
    assert not manquants, manquants
    for mot in (
        "CLSPD",
        "FONJEP",
        "Adultes-relais",
        "CMU",
        "Quartier de veille",
        "Catégories 1, 2 et 3",
        "Unité de consommation",
        "ETP",
        "Droit commun",
        "Crédits spécifiques",
        "DiD",
        "CAF",
    ):
        assert mot in texte, mot
    assert texte.count("Effet levier") == 1  # one meaning, stated once
    p = load_params("region", ROOT)
    assert f"Le seuil ({p.seuil_secret})" in texte
    assert "respectent le secret statistique" in texte
    regle = methode.regle_substitution(
        annees_reference=p.substitution.annees_reference,
        annee_debut_cucs=p.annee_debut_cucs,
        tolerance=p.substitution.tolerance,
        duree_max=p.substitution.duree_max_annees,
    )
    assert " ".join(text.typographie(regle).split()).replace("\u00a0", " ") in texte
    catalogue = pd.read_csv(DEMO / "catalogue_indicateurs.csv")
    brut = html.unescape(page).replace("\u00a0", " ")
    for r in catalogue.itertuples():
        assert r.libelle in brut and r.source in brut, r.indicateur
    assert "2005-2014" in texte
    for ref in ("Wilson", "Givord", "2014-767", "Kirszbaum"):
        assert ref in texte


def test_methode_threshold_follows_the_parameters(out, tmp_path):
    copy = tmp_path / "out"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("site", "cache"))
    for path in (copy / "results").glob("*/*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data.get("parametres"), dict):
            data["parametres"]["seuil_secret"] = 17
            path.write_text(json.dumps(data), encoding="utf-8")
    texte = visible((publish.build_site(copy) / "methode.html").read_text(encoding="utf-8"))
    assert "Le seuil (17)" in texte and "moins de 17 personnes" in texte.replace("\u00a0", " ")
    # the reading rules state the periods the runs used
    assert "la période d'avant le contrat (2005-2006) à la période du contrat (2007-2014)" in texte.replace(
        "\u00a0", " "
    )


# --- point 10: downloads ---------------------------------------------------------------------


def test_downloads_are_published_tables(site):
    folder = site / "telechargements/20001"
    lisez = (folder / "LISEZMOI.txt").read_bytes().decode("utf-8-sig")
    for f in folder.glob("*.csv"):
        assert f.name in lisez, f.name
    assert "Source : " in lisez and "Date de production : " in lisez and "séparateur « ; »" in lisez
    subst = list(
        csv.DictReader(
            io.StringIO((folder / "q1_substitution.csv").read_bytes().decode("utf-8-sig")), delimiter=";"
        )
    )
    from cucs_analysis.data.schema import DOMAINE_LIBELLES

    assert subst and all(r["domaine"] in DOMAINE_LIBELLES.values() for r in subst)
    for f in folder.glob("*.csv"):
        raw = f.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), f.name
        body = raw.decode("utf-8-sig")
        assert "True" not in body and "False" not in body and "nan" not in body.split(";"), f.name
        rows = list(csv.reader(io.StringIO(body), delimiter=";"))
        for row in rows:
            for cell in row:
                assert not re.fullmatch(r"-?\d+,\d{4,}", cell), (f.name, cell)  # rounded
                assert not (cell[:1] and cell[:1] in "=+@"), (f.name, cell)
                assert not re.fullmatch(r"-?\d+\.\d+", cell), (f.name, cell)  # decimal comma
        for j, col in enumerate(rows[0]):
            u = publish.unite_colonne(col)
            if u is not None and u[1] > 0:
                continue  # a unit written with decimals (points, parts): « −2,0 » is right
            values = [r[j] for r in rows[1:] if len(r) > j and r[j]]
            # integers as integers: no column whose every value ends in « ,0 »
            assert not (values and all(re.fullmatch(r"-?\d+,0+", v) for v in values)), (f.name, col)
    chiffres = list(
        csv.DictReader(
            io.StringIO((folder / "q1_chiffres_cles.csv").read_bytes().decode("utf-8-sig")), delimiter=";"
        )
    )
    for c in chiffres:  # a key figure with the decimals of its unit
        if c["valeur"] and c["valeur"] not in text.ND:
            assert len((c["valeur"].split(",") + [""])[1]) == text.decimales_unite(c["unite"]), c


def test_csv_writer_is_injection_safe_and_keeps_negative_numbers():
    table = pd.DataFrame(
        {
            "intitule": ['=HYPERLINK("x")', "+1+2", "-cmd", "@SUM(A1)", "\tx", "normal", "-3,5"],
            "estimation": [-1.987, 2.0, 0.0, -0.04, 1.0, 3.0, 4.0],
            "domaine": ["education"] * 7,
            "eligible": [True, False, True, False, True, False, True],
            "nombre": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )
    rows = list(csv.reader(io.StringIO(publish.csv_bytes(table).decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["intitule", "estimation", "domaine", "eligible", "nombre"]
    cells = [r[0] for r in rows[1:]]
    assert cells[:5] == ['\'=HYPERLINK("x")', "'+1+2", "'-cmd", "'@SUM(A1)", "'\tx"]
    assert cells[5:] == ["normal", "-3,5"]  # a number written as text stays a number
    assert [r[1] for r in rows[1:]] == ["-2,0", "2,0", "0,0", "-0,0", "1,0", "3,0", "4,0"] or [
        r[1] for r in rows[1:]
    ][0] == "-2,0"
    assert {r[2] for r in rows[1:]} == {"Éducation"}
    assert [r[3] for r in rows[1:3]] == ["oui", "non"]
    assert [r[4] for r in rows[1:3]] == ["1", "2"]


def test_commune_page_verdict_links_resolve_to_a_heading(site, out):
    page_path = site / "communes/20001.html"
    page = page_path.read_text(encoding="utf-8")
    for q in ("q1", "q2", "q4"):
        verdict = json.loads((out / f"results/20001/{q}.json").read_text(encoding="utf-8")).get("verdict")
        if not (isinstance(verdict, dict) and verdict.get("section")):
            continue  # an older report without a verdict: the page shows its findings only
        href = f"../pages/20001/{q}.html#{synthese.ancre(verdict['section'])}"
        assert href in [h for h, _ in links_of(page)], q
        target = (page_path.parent / urlsplit(href).path).resolve()
        assert urlsplit(href).fragment in ids_of(target.read_text(encoding="utf-8")), href
        assert " ".join(verdict["texte"].split())[:40] in " ".join(
            visible(page).replace("\u00a0", " ").split()
        )


def test_a_non_signatory_keeps_its_q3_figure_beside_hors_cucs():
    """Outside the CUCS, q3 still says which quartiers could enter: the index cell shows the
    figure with the « hors CUCS » label; programme questions show the label alone."""
    res = {
        "signataire_cucs": False,
        "verdict": {"texte": "Hors CUCS : …", "motif": "hors_cucs", "section": "En bref"},
        "chiffres_cles": [
            {"id": "eligibles_qpv2014", "libelle": "Quartiers éligibles", "valeur": 1, "unite": "quartiers"}
        ],
    }
    ok = {"statut": "ok", "erreur": None}
    q3 = publish._cell(ok, res, True, question="q3", signataire=False)
    q1 = publish._cell(ok, res, True, question="q1", signataire=False)
    assert q3["statut_libelle"] == q1["statut_libelle"] == "hors CUCS"
    assert q3["chiffre"] == "1\u00a0quartier" and q1["chiffre"] is None


# --- issue 10: the notebooks q5-q8 write the planted truths into their published results ------


def test_q5_to_q8_results_recover_the_planted_truths(out):
    """Through the real notebooks and the runner (not only the reports): the results files of
    20001 say what the demo planted, and the non-signatory's say « hors CUCS »."""
    truth = json.loads((ROOT / "data" / "demo" / "truth.json").read_text(encoding="utf-8"))

    def res(code, q):
        return json.loads((out / "results" / code / f"{q}.json").read_text(encoding="utf-8"))

    # q5: households with two dispositifs or more, recomputed from the data of 20001's quartiers
    par = pd.read_csv(ROOT / "data" / "demo" / "parcours.csv", dtype=str)
    qua = pd.read_csv(ROOT / "data" / "demo" / "quartiers.csv", dtype=str)
    own = par[par["code_quartier"].isin(qua.loc[qua["code_commune"] == "20001", "code_quartier"])]
    multi = int((own.groupby("id_menage")["dispositif"].nunique() >= 2).sum())
    assert multi >= 11 and res("20001", "q5")["recouvrement"]["menages_multi_dispositifs"] == multi
    # q6: the steering model, the priority actions never carried out, the under-performers
    q6 = res("20001", "q6")
    modele = {k: q6["modele_pilotage"][k] for k in ("axe_descendant_participatif", "axe_fige_adaptable")}
    assert modele == truth["modele_pilotage"]["20001"]
    assert q6["actions_non_pourvues"] == truth["actions_non_pourvues"]["20001"]
    # an operator is judged on the page of the commune where it carries actions (not of its seat)
    act = pd.read_csv(ROOT / "data" / "demo" / "actions.csv", dtype=str)
    carrying = set(act.loc[act["code_commune"] == "20001", "id_operateur"].dropna())
    assert set(q6["sous_performants"]) == set(truth["operateurs_sous_performants"]) & carrying
    # q7: the leverage of the commune's structure, pooled over its communes
    q7 = res("20001", "q7")
    pooled = {s["structure"]: s["effet_levier"] for s in q7["structures"]}
    assert pooled == pytest.approx(truth["effet_levier"], abs=0.005)
    # q8: the planted GUP trend of 20001's quartier, and no other trend there
    trends = {(g["code_quartier"], g["categorie"], g["tendance"]) for g in res("20001", "q8")["gup"]}
    planted = {(t["code_quartier"], t["categorie"], t["tendance"]) for t in truth["gup_tendance"]}
    assert {t for t in trends if t[2] != "pas_de_tendance"} == {
        t for t in planted if t[0] in {x[0] for x in trends}
    }
    for q in ("q5", "q6", "q7", "q8"):
        assert res("20012", q)["verdict"]["motif"] == "hors_cucs", q
