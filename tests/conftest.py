"""Shared fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def realdata_dir() -> Path | None:
    """The real open-data samples (../shared/realdata beside the project, or $CUCS_REALDATA):
    never copied into the project; tests that use them skip where they are absent."""
    import os

    env = os.environ.get("CUCS_REALDATA")
    path = Path(env) if env else ROOT.parent / "shared" / "realdata"
    return path if (path / "SOURCES.txt").is_file() else None


@pytest.fixture(scope="session")
def realdata() -> Path:
    """Path of the real samples; skips the test (with the reason) when they are absent."""
    path = realdata_dir()
    if path is None:
        pytest.skip("données réelles absentes (../shared/realdata ou $CUCS_REALDATA) : test ignoré")
    return path


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """q1, q2 and q4 run once through the project's runner on the demo, for a rich commune
    (20001) and a non-signatory one (20012); returns the output folder (results/, site/)."""
    from cucs_analysis.pipeline import runner

    out = tmp_path_factory.mktemp("execution-demo")
    mp = pytest.MonkeyPatch()
    mp.setenv("CUCS_CACHE_DIR", str(out / "cache"))
    try:
        summary = runner.run(
            ROOT, ["20001", "20012"], ["q1", "q2", "q4"], jobs=2, resume=False, out_dir=out, progress=False
        )
    finally:
        mp.undo()
    assert summary.exit_code == 0, summary.message
    return out


@pytest.fixture(scope="session")
def demo_site(demo_run, tmp_path_factory) -> Path:
    """A copy of `demo_run` with q3, q5-q8 and the two syntheses added: every kind of page of the
    site (index, communes, q1-q8, syntheses, Méthode, dossier) for 20001 and the non-signatory 20012.
    Returns the output folder; tests read it, never write into it for good."""
    import shutil

    from cucs_analysis.pipeline import runner

    out = tmp_path_factory.mktemp("site-demo") / "out"
    shutil.copytree(demo_run, out)
    mp = pytest.MonkeyPatch()
    mp.setenv("CUCS_CACHE_DIR", str(out / "cache"))
    try:
        summary = runner.run(
            ROOT,
            ["20001", "20012"],
            ["q3", "q5", "q6", "q7", "q8", "synthese", "synthese_regionale"],
            jobs=2,
            resume=False,
            out_dir=out,
            progress=False,
        )
    finally:
        mp.undo()
    assert summary.exit_code == 0, summary.message
    return out


_REGIONS: dict = {}


def region_of(data_dir: Path, params):
    """The region stage of a data directory for these parameters (memoised for the session):
    what the runner computes once before the commune runs."""
    from cucs_analysis.data import dataset as load
    from cucs_analysis.reports import region

    ds = load.load_dataset(data_dir)
    key = (ds.fingerprint, json.dumps(region.parametres_region(params), sort_keys=True))
    if key not in _REGIONS:
        _REGIONS[key] = region.build(ds, params)
    return _REGIONS[key]


#: Hostile strings a data set may carry: they must stay data (escaped text) on every page, figure
#: and download. The committed demo carries none; `inject_hostile` puts them into a copy.
HOSTILE = {
    "script": "<script>alert(1)</script> Atelier « théâtre »",
    "img": "<img src=x onerror=alert(1)> Jardins partagés",
    "formule": "=SUM(A1) Chantier d'insertion",
    "mathtext": "Soutien scolaire $x$ par élève",
    "bidi": "\u202eMédiation \u0645\u0631\u0643\u0632 sociale",
}


def inject_hostile(data_dir: Path, code: str = "20001") -> dict[str, list[str]]:
    """Give hostile titles to actions of `code` in the demo copy at `data_dir`; returns, per kind
    of string, the actions that carry it. The two association actions with the most specific
    credits (first in q2's table and figure) get the script and mathtext titles, the next one
    outside any dispositif (« autre », read by its title) the formula; the actions whose takeover
    is at stake (truth.json, shown by q1 and q4) get the img, formula, bidi and script titles.
    Only `actions.csv` changes."""
    import pandas as pd

    truth = json.loads((data_dir / "truth.json").read_text(encoding="utf-8"))
    at_stake = sorted(truth["actions_enjeu_reprise"][code])
    act = pd.read_csv(data_dir / "actions.csv", dtype=str, keep_default_na=False)
    fin = pd.read_csv(data_dir / "financements.csv", dtype=str, keep_default_na=False)
    ops = pd.read_csv(data_dir / "operateurs.csv", dtype=str, keep_default_na=False)
    assoc = set(ops.loc[ops["statut_juridique"] == "association", "id_operateur"])
    mine = act[(act["code_commune"] == code) & act["id_operateur"].isin(assoc)]
    spec = fin[(fin["type_credit"] == "specifique") & fin["id_action"].isin(mine["id_action"])]
    credits = pd.to_numeric(spec["montant_accorde"]).groupby(spec["id_action"]).sum()
    ranked = [a for a in credits.sort_values(ascending=False, kind="stable").index if a not in at_stake]
    top = ranked[:2]
    # An action outside any dispositif is read by its title (q1's programmes, and their download).
    autre = set(act.loc[act["dispositif"] == "autre", "id_action"])
    hors = next(a for a in ranked[2:] if a in autre)
    ids: dict[str, list[str]] = {k: [] for k in HOSTILE}
    targets = [*zip(("script", "mathtext"), top, strict=False), ("formule", hors)]
    targets += zip(("img", "formule", "bidi", "script"), at_stake, strict=False)
    for kind, a in targets:
        ids[kind].append(a)
        act.loc[act["id_action"] == a, "intitule"] = HOSTILE[kind]
    assert all(ids.values()), ids
    act.to_csv(data_dir / "actions.csv", index=False, lineterminator="\n")
    return ids


@pytest.fixture(scope="session")
def demo_hostile(tmp_path_factory) -> tuple[Path, dict[str, list[str]]]:
    """A copy of data/demo whose commune 20001 has actions with hostile titles (see `HOSTILE`);
    returns the folder and, per kind of string, the actions that carry it."""
    import shutil

    data = tmp_path_factory.mktemp("demo-hostile") / "data"
    shutil.copytree(ROOT / "data" / "demo", data)
    return data, inject_hostile(data)


#: The hostile strings placed in every free-text field of the data by `inject_hostile_partout`
#: (issue 9, point 4): the five of `HOSTILE` and more. Those that would run if a page executed
#: them mark ``<body>`` with ``data-pirate`` (the browser test looks for it).
PIRATE = "document.body.setAttribute('data-pirate','{}')"
HOSTILE_PARTOUT = {
    **HOSTILE,
    "svg": '"><svg onload="' + PIRATE.format("svg") + '"><rect/></svg>',
    "javascript": "javascript:" + PIRATE.format("js"),
    "jinja": "{{7*7}} {% raw %}{{ config }}{% endraw %} ${7*7} #{7*7}",
    "tableau": "</td></tr></table></div><b class=pirate>hors tableau</b>",
    "entites": "&amp;lt;b&amp;gt; &lt;i&gt; &#60;u&#62; &nbsp;",
    "long": "Association" + "-tres-longue" * 24 + "-fin",
    "invisibles": "Zéro\u200bchasse\u200c\u200djoint\u2060mot\u00adcoupé\ufeffBOM\u0007cloche",
    "format": "${x} %s %(nom)s {0} {nom!r} %n",
    "emoji": "\U0001f469\u200d\U0001f469\u200d\U0001f467 Ame\u0301\u0301lie\u0308 \u270a\U0001f3ff",
    "csv": "Quartier ; \"guillemets\" ;; 'apostrophe' , virgule",
    "saut": "Ligne un\nLigne deux\r\nLigne trois",
    "markdown": "**gras** _italique_ [lien](http://x.example) # titre `code` <!-- c -->",
    "isolats": "\u2067\u202b\u062a\u0639\u0627\u0648\u0646\u2069 12, 31 \u202d\u2066\u200f",
    "mathtext2": "Cité $\\x$ et $\\frac{1}{2}$ \\$ $",
}

#: Values that the analysis still reads as codes although their column is free text: left
#: untouched so the sections that read them keep their content (listed in the report of
#: issue 9: they should become codes).
CODES_DE_FAIT = {
    ("bilans", "theme"): {"partenariat", "financement"},
    ("enquetes", "question"): {"Le quartier s'est amélioré ces trois dernières années"},
    ("droit_commun", "mesure"): {"credits"},
    ("droit_commun", "unite"): {"€"},
}

#: Free-text columns of the schema (kind "text", not an identifier or a code) and the
#: catalogue's, each given every hostile payload. `unite` of the catalogue is a code (it
#: decides bounds and formats), `indicateur`, `id_*` and `type_equipement` are identifiers.
CHAMPS_LIBRES = {
    "communes": ("nom",),
    "quartiers": ("nom",),
    "indicateurs": ("source",),
    "catalogue_indicateurs": ("libelle", "theme", "source", "definition"),
    "actions": ("intitule", "public_cible", "objectif"),
    "financements": ("financeur",),
    "droit_commun": ("mesure", "unite"),
    "operateurs": ("nom",),
    "bilans": ("theme", "texte"),
    "enquetes": ("question",),
    "equipements": ("libelle",),
}


def hostile_value(i: int, n_values: int, value: str) -> str:
    """The `i`-th of `n_values` distinct values of a field, made hostile: prefixed by every
    payload whose rank is `i` modulo `n_values` (so each payload lands in each field, and
    distinct values stay distinct)."""
    payloads = list(HOSTILE_PARTOUT.values())
    if n_values >= len(payloads):
        mine = [payloads[i % len(payloads)]]
    else:
        mine = [p for j, p in enumerate(payloads) if j % n_values == i]
    return " ".join([*mine, value]) if mine else value


def inject_hostile_partout(data_dir: Path, code: str = "20001") -> dict[tuple[str, str], int]:
    """Put every payload of `HOSTILE_PARTOUT` into every free-text field (`CHAMPS_LIBRES`, the
    GeoJSON names and the metadata's name and description) of the demo copy at `data_dir`.
    Distinct values of a field are ranked with those of commune `code` first (the run shows
    them); each gets one payload (several when the field has fewer values than payloads),
    prefixed to the original text. Returns, per (table, column), the number of values changed."""
    import pandas as pd
    import yaml

    quartiers = pd.read_csv(data_dir / "quartiers.csv", dtype=str, keep_default_na=False)
    mine_q = set(quartiers.loc[quartiers["code_commune"] == code, "code_quartier"])
    actions = pd.read_csv(data_dir / "actions.csv", dtype=str, keep_default_na=False)
    mine_a = set(actions.loc[actions["code_commune"] == code, "id_action"])

    def is_mine(table: str, df: pd.DataFrame) -> pd.Series:
        if "code_commune" in df:
            return df["code_commune"] == code
        if "code_quartier" in df:
            return df["code_quartier"].isin(mine_q)
        if "code_territoire" in df:
            return df["code_territoire"].isin({code, *mine_q})
        if "id_action" in df:
            return df["id_action"].isin(mine_a)
        return pd.Series(False, index=df.index)

    changed: dict[tuple[str, str], int] = {}
    mappings: dict[tuple[str, str], dict[str, str]] = {}
    for table, cols in CHAMPS_LIBRES.items():
        df = pd.read_csv(data_dir / f"{table}.csv", dtype=str, keep_default_na=False)
        mine = is_mine(table, df)
        for col in cols:
            keep = CODES_DE_FAIT.get((table, col), set())
            first = list(dict.fromkeys(df.loc[mine, col]))
            rest = sorted(set(df[col]) - set(first))
            values = [v for v in first + rest if v and v not in keep]
            mapping = {v: hostile_value(i, len(values), v) for i, v in enumerate(values)}
            df[col] = df[col].map(lambda v, m=mapping: m.get(v, v))
            mappings[(table, col)] = mapping
            changed[(table, col)] = len(mapping)
        df.to_csv(data_dir / f"{table}.csv", index=False, lineterminator="\n")
    for layer in ("communes", "quartiers"):
        path = data_dir / f"{layer}.geojson"
        geo = json.loads(path.read_text(encoding="utf-8"))
        for f in geo["features"]:
            props = f["properties"]
            props["nom"] = mappings[(layer, "nom")].get(props.get("nom"), props.get("nom"))
        path.write_text(json.dumps(geo, ensure_ascii=False), encoding="utf-8")
    meta_path = data_dir / "metadonnees.yaml"
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    for i, k in enumerate(("nom", "description")):
        meta[k] = " ".join([*list(HOSTILE_PARTOUT.values())[i::2], str(meta[k])])
        changed[("metadonnees", k)] = 1
    meta_path.write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=True), encoding="utf-8")
    return changed


#: Homonyms the hostile copy also carries: (table, identifier column, name column, rows of).
HOMONYMES = (
    ("quartiers", "code_quartier", "nom", "20001"),
    ("operateurs", "id_operateur", "nom", "20001"),
    ("actions", "id_action", "intitule", "20001"),
    ("communes", "code_commune", "nom", None),  # 20001 and a non-signatory, 20012
)


def inject_homonymes(data_dir: Path, code: str = "20001") -> dict[str, tuple[str, str]]:
    """Give the second quartier, operator and action of `code` the name of the first, and the
    non-signatory commune 20012 the name of `code`: pivots and joins must use codes. Returns,
    per table, the two identifiers that now share a name."""
    import pandas as pd

    pairs: dict[str, tuple[str, str]] = {}
    for table, key, col, of in HOMONYMES:
        path = data_dir / f"{table}.csv"
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        if of is None:
            ids = [code, "20012"]
        else:
            ids = list(dict.fromkeys(df.loc[df["code_commune"] == of, key]))[:2]
        df.loc[df[key] == ids[1], col] = df.loc[df[key] == ids[0], col].iloc[0]
        df.to_csv(path, index=False, lineterminator="\n")
        pairs[table] = (ids[0], ids[1])
    return pairs


@pytest.fixture(scope="session")
def hostile_partout_run(tmp_path_factory) -> tuple[Path, dict[tuple[str, str], int], float, dict]:
    """The whole suite (q1–q8, the commune synthesis, the regional synthesis) run once through the
    project's runner for commune 20001 on a copy of the demo whose every free-text field holds
    the payloads of `HOSTILE_PARTOUT` and with homonyms (`inject_homonymes`); returns the output
    folder, the values changed per field, the run's duration in seconds and the homonyms."""
    import shutil
    import time

    from projet import projet_sur

    from cucs_analysis.pipeline import runner

    tmp = tmp_path_factory.mktemp("hostile-partout")
    data = tmp / "data"
    shutil.copytree(ROOT / "data" / "demo", data)
    changed = inject_hostile_partout(data)
    homonymes = inject_homonymes(data)
    project = projet_sur(data, tmp / "projet")
    out = tmp / "out"
    mp = pytest.MonkeyPatch()
    mp.setenv("CUCS_CACHE_DIR", str(tmp / "cache"))
    start = time.monotonic()
    try:
        summary = runner.run(project, ["20001"], None, jobs=2, resume=False, out_dir=out, progress=False)
    finally:
        mp.undo()
    assert summary.exit_code == 0, summary.message
    return out, changed, time.monotonic() - start, homonymes
