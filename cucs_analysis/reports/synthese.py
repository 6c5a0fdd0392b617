"""Syntheses: what a mayor reads in two minutes, for one commune, and all communes side by side
for the region.

The verdicts and key figures come from the results of the question notebooks (the results
contract, DESIGN.md §6; the notebook reads the files through `pipeline.results`): what the
synthesis says is exactly what the question pages say, and each verdict links to the section
of the page that holds its evidence.

The commune is placed among the others on a few figures per inhabitant (`reperes`). Those are
computed from the data set, not from the other communes' results files: a run limited to a few
communes (``cucs run --communes 20001``) would otherwise rank the commune among whatever
happened to run. The figures use the same function and the same base as q1
(`funding.specific_vs_mainstream` over every action-year of the commune), so the share of the
mainstream printed here equals q1's key figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote

import pandas as pd

from cucs_analysis.analysis import funding, impact, motifs
from cucs_analysis.present import display, labels, text
from cucs_analysis.reports import questions, rapport
from cucs_analysis.reports.rapport import AvecVues

#: The per-commune questions, in the order of the workshop (q1 … q8).
QUESTIONS_COMMUNE = tuple(q for q in questions.QUESTIONS if q.required_keys and not q.regional)

#: The questions about the CUCS programme itself: for a commune outside the CUCS they have no
#: object (« hors CUCS »). Geography (q3) applies to every commune, signatory or not.
QUESTIONS_PROGRAMME = frozenset({"q1", "q2", "q4", "q5", "q6", "q7", "q8"})

#: What a cell of the side-by-side table says for a signatory commune without results.
NON_EXECUTE = "non exécuté"


def questions_publiees(ids: Iterable[str] | None = None) -> tuple[questions.Question, ...]:
    """The per-commune questions a synthesis covers: those whose notebook exists (`ids`, from
    `questions.avec_carnet`); all of them when `ids` is None."""
    if ids is None:
        return QUESTIONS_COMMUNE
    ids = set(ids)
    return tuple(q for q in QUESTIONS_COMMUNE if q.id in ids)


# --- links to the evidence -------------------------------------------------------------------


def ancre(titre_section: str) -> str:
    """The id nbconvert gives a Markdown heading (``## 4. Complémentarité ou substitution ?``
    → ``4.-Compl%C3%A9mentarit%C3%A9-ou-substitution-?``): spaces become hyphens, the rest is
    URL-quoted as in `nbconvert.filters.strings._convert_header_id` (tested against the site)."""
    return quote(str(titre_section).strip().replace(" ", "-"), safe="?/:@!$&'()*+,;=")


def lien_page(question_id: str, section: str | None = None, prefixe: str = "") -> str:
    """The link from a page of the commune's folder to a question page (and its section)."""
    page = f"{prefixe}{question_id}.html"
    return f"{page}#{ancre(section)}" if section else page


# --- one verdict per question -----------------------------------------------------------------


@dataclass
class SectionSynthese:
    question: questions.Question
    disponible: bool
    verdict: str = ""  # one line that answers the question
    motif: str | None = None  # why there is no finding (analysis.motifs), or None
    section: str | None = None  # the heading of the page section that holds the evidence
    constats: list[str] = field(default_factory=list)
    reserves: list[str] = field(default_factory=list)
    chiffres: pd.DataFrame = field(default_factory=pd.DataFrame)  # libelle, valeur (French)
    tables_absentes: list[str] = field(default_factory=list)  # the notebook was not executed for lack of them

    @property
    def lien(self) -> str | None:
        return lien_page(self.question.id, self.section) if self.disponible else None

    @property
    def calcule(self) -> bool:
        """Whether the question has a computed verdict: its notebook ran on its tables and the
        verdict has no reason of absence (« hors CUCS » is a known state, a verdict)."""
        return self.disponible and not self.tables_absentes and self.motif in (None, motifs.HORS_CUCS)


def verdict_calcule(res: Mapping) -> bool:
    """Whether a results file holds a computed verdict: not a page written in place of a
    notebook whose tables are absent (`tables_absentes`), and a verdict without a reason of
    absence (« données non disponibles », « non calculable », secret)."""
    if res.get("tables_absentes"):
        return False
    return verdict_de(res)[1] in (None, motifs.HORS_CUCS)


def phrase_questions_nd(n_tables: int, n_donnees: int) -> str:
    """« 5 sont « n.d. » (2 faute de tables absentes du jeu de données, 3 faute de données
    disponibles) » — empty when no question is n.d."""
    n = n_tables + n_donnees
    if not n:
        return ""
    raisons = []
    if n_tables:
        raisons.append(
            f"{text.nombre(n_tables)} faute de tables absentes du jeu de données (carnet non exécuté)"
            if n_donnees
            else "tables absentes du jeu de données (carnet non exécuté)"
        )
    if n_donnees:
        raisons.append(
            f"{text.nombre(n_donnees)} faute de données disponibles"
            if n_tables
            else "données non disponibles"
        )
    return f"{text.nombre(n)} {'est' if n < 2 else 'sont'} « n.d. » ({' ; '.join(raisons)})"


def sans_etiquette(titre: str, verdict: str) -> str:
    """The verdict without its own leading label when the question's title already says it:
    « Droit commun et dispositifs : Droit commun : retrait… » reads « … : retrait… »; a label that
    adds something (« Hors CUCS : », « Échelle du quartier : ») stays."""
    etiquette, sep, reste = verdict.partition(" : ")
    if sep and reste and len(etiquette) <= 30 and etiquette.lower() in titre.lower():
        return reste  # after a colon, French goes on in lower case (« Insertion : aucun des… »)
    return verdict


def verdict_de(res: Mapping) -> tuple[str, str | None, str | None]:
    """(verdict line, motif, section) of one results file. A file written before the `verdict`
    key existed falls back on its first finding; a non-signatory commune reads « hors CUCS »."""
    v = res.get("verdict")
    if isinstance(v, Mapping) and str(v.get("texte") or "").strip():
        section = v.get("section")
        return str(v["texte"]).strip(), v.get("motif"), str(section).strip() if section else None
    if res.get("signataire_cucs") is False and res.get("question") in QUESTIONS_PROGRAMME:
        return labels.MOTIF_LIBELLES[motifs.HORS_CUCS], motifs.HORS_CUCS, None
    constats = [str(c) for c in res.get("constats") or [] if str(c).strip()]
    if constats:
        return constats[0], None, None
    return "Aucun constat ne peut être établi avec les données disponibles.", motifs.DONNEE_ABSENTE, None


def _chiffres(res: Mapping) -> pd.DataFrame:
    rows = [{"libelle": c["libelle"], "valeur": valeur_chiffre(c)} for c in res.get("chiffres_cles", [])]
    return pd.DataFrame(rows, columns=["libelle", "valeur"])


def valeur_chiffre(c: Mapping) -> str:
    """A key figure in French; a missing value says why (« hors CUCS », « données non disponibles »)."""
    if c.get("valeur") is None and c.get("motif") in labels.MOTIF_LIBELLES:
        return labels.MOTIF_LIBELLES[c["motif"]]
    return text.chiffre_cle(c.get("valeur"), c.get("unite"))


# --- the commune among the others (figures per inhabitant, from the data) ---------------------

#: The figures on which a commune is placed among the signatory communes: column → (label, unit).
REPERES = {
    "specifique_par_habitant": ("Crédits spécifiques accordés par habitant et par an", "€"),
    "droit_commun_par_habitant": ("Cofinancements de droit commun des actions par habitant et par an", "€"),
    "part_droit_commun": ("Part du droit commun dans le financement des actions", "%"),
    "quartiers_prioritaires": ("Quartiers prioritaires du CUCS (catégories 1 à 3)", "quartiers"),
}
DECIMALES_REPERES = {"€": 1, "%": 1, "quartiers": 0}


def reperes(
    communes: pd.DataFrame,
    actions: pd.DataFrame,
    financements: pd.DataFrame,
    quartiers: pd.DataFrame,
    debut: int,
    fin: int,
    etat_seul: bool = False,
) -> pd.DataFrame:
    """One row per commune of the region: code_commune, nom, signataire, population, the
    granted specific and mainstream credits of its actions per inhabitant and per year over
    `debut`..`fin` (euros), the mainstream share (percent, q1's key figure) and its priority
    quartiers. Non-signatory communes have no programme: their figures are NaN. `signataire` is
    True, False or NA (unknown: never « hors CUCS », never among the signatories); with
    `etat_seul` (the funding source holds only the State's share) the mainstream figures are NaN."""
    annees = fin - debut + 1
    fin_ = financements[financements["annee"].between(debut, fin)]
    money = funding.specific_vs_mainstream(fin_, actions, by=("code_commune",)).set_index("code_commune")
    cat = pd.to_numeric(quartiers["categorie_cucs"], errors="coerce")
    nq = quartiers[cat.isin([1, 2, 3])].groupby("code_commune").size()
    out = communes[["code_commune", "nom", "signataire_cucs", "population"]].copy()
    out = out.rename(columns={"signataire_cucs": "signataire"})
    out["signataire"] = out["signataire"].astype("boolean")
    pop = pd.to_numeric(out["population"], errors="coerce").astype(float)
    m = money.reindex(out["code_commune"])
    sp = m["specifique"].to_numpy(dtype=float)
    dc = m["droit_commun"].to_numpy(dtype=float)
    tot = m["total"].to_numpy(dtype=float)
    out["specifique_par_habitant"] = pd.Series(sp, index=out.index).fillna(0.0) / pop / annees
    out["droit_commun_par_habitant"] = pd.Series(dc, index=out.index).fillna(0.0) / pop / annees
    out["part_droit_commun"] = 100 * pd.Series(dc / tot, index=out.index)
    out["quartiers_prioritaires"] = out["code_commune"].map(nq).fillna(0).astype(int)
    # A quartier of unknown category may be one of them: the commune's count is then not known.
    inconnus = quartiers.loc[
        quartiers["code_quartier"].astype(str).isin(impact.unknown_category_codes(quartiers)), "code_commune"
    ]
    out["quartiers_prioritaires"] = (
        out["quartiers_prioritaires"].astype(float).where(~out["code_commune"].isin(set(inconnus)))
    )
    cols = list(REPERES)
    out.loc[out["signataire"].eq(False).fillna(False).to_numpy(dtype=bool), cols] = float("nan")
    if etat_seul:
        out[["droit_commun_par_habitant", "part_droit_commun"]] = float("nan")
    out[cols] = out[cols].astype(float)
    return out.reset_index(drop=True)


def reperes_jeu(jeu, params) -> pd.DataFrame:
    """`reperes` of a loaded data set over the parameters' period (`periode.debut`..`fin`)."""
    t = jeu.tables
    return reperes(
        t["communes"],
        t["actions"],
        t["financements"],
        t["quartiers"],
        params.periode.debut,
        params.periode.fin,
        rapport.financements_etat_seul(jeu.metadata),
    )


def rang_fr(rang: int) -> str:
    """``1re``, ``2e``, ``3e`` (a commune is feminine)."""
    return "1re" if rang == 1 else f"{rang}e"


def position(tableau: pd.DataFrame, code_commune: str, colonne: str) -> dict | None:
    """Where a commune stands on one figure among the signatory communes that have it:
    valeur, rang (1 = highest), n, mediane; None when the commune has no value."""
    valeurs = tableau.loc[
        tableau["signataire"].astype("boolean").fillna(False).to_numpy(dtype=bool), ["code_commune", colonne]
    ].dropna()
    if code_commune not in set(valeurs["code_commune"]):
        return None
    v = float(valeurs.loc[valeurs["code_commune"] == code_commune, colonne].iloc[0])
    rang = int((valeurs[colonne] > v).sum()) + 1
    return {"valeur": v, "rang": rang, "n": len(valeurs), "mediane": float(valeurs[colonne].median())}


def _fmt(valeur: float, unite: str) -> str:
    d = DECIMALES_REPERES[unite]
    if unite == "€":
        return text.euros(valeur, d)
    if unite == "%":
        return text.pourcentage(valeur, d)
    return text.pluriel(valeur, "quartier")  # a median of counts may be 2,5


def phrase_position(colonne: str, p: dict) -> str:
    libelle, unite = REPERES[colonne]
    egaux = "" if p["n"] > 1 else " (seule commune signataire à l'avoir)"
    return (
        f"{libelle} : {_fmt(p['valeur'], unite)}, {rang_fr(p['rang'])} sur {text.nombre(p['n'])} "
        f"communes signataires{egaux} ; médiane des communes signataires : {_fmt(p['mediane'], unite)}."
    )


# --- the commune synthesis --------------------------------------------------------------------


@dataclass
class SyntheseCommune(AvecVues):
    code_commune: str
    nom_commune: str
    sections: list[SectionSynthese]
    signataire: bool | None = None
    constats: list[str] = field(default_factory=list)
    reserves: list[str] = field(default_factory=list)
    chiffres_cles: list[dict] = field(default_factory=list)
    positions: dict[str, dict | None] = field(default_factory=dict)  # REPERES column → position

    @property
    def absentes(self) -> list[str]:
        return [s.question.titre for s in self.sections if not s.disponible]

    def verdicts(self) -> list[tuple[str, str | None, str]]:
        """One line per question (title: verdict), the link to its evidence, the link's label."""
        return [
            (
                f"{x.question.titre} : {sans_etiquette(x.question.titre, x.verdict)}"
                if x.disponible
                else f"{x.question.titre} : {NON_EXECUTE}.",
                x.lien,
                f"voir « {x.section} »" if x.section else "voir la page",
            )
            for x in self.sections
        ]

    def resultats(self) -> dict:
        return {
            "signataire_cucs": self.signataire,
            "verdicts": [
                {
                    "question": x.question.id,
                    "texte": x.verdict if x.disponible else None,
                    "calcule": x.calcule,
                    "tables_absentes": x.tables_absentes,
                    "motif": x.motif,
                    "section": x.section,
                    "lien": x.lien,
                }
                for x in self.sections
            ],
            "reperes": [
                {"id": col, "libelle": REPERES[col][0], "unite": REPERES[col][1], **(p or {"valeur": None})}
                for col, p in self.positions.items()
            ],
        }


def build_commune(
    resultats: Mapping[str, dict],
    code_commune: str,
    nom_commune: str,
    max_constats: int = 3,
    *,
    questions_ids: Iterable[str] | None = None,
    tableau_reperes: pd.DataFrame | None = None,
    signataire: bool | None = None,
) -> SyntheseCommune:
    """One verdict per question and the commune among the others (`resultats`: question id →
    that commune's results; `questions_ids`: the questions that have a notebook; the table of
    `reperes` for the region)."""
    sections = []
    # The status is unknown when the data say so (a results file or the table of `reperes`
    # holds it as null), not merely when no caller gave it.
    inconnu = False
    for q in questions_publiees(questions_ids):
        res = resultats.get(q.id)
        if res is None:
            sections.append(SectionSynthese(q, False))
            continue
        if signataire is None and isinstance(res.get("signataire_cucs"), bool):
            signataire = res["signataire_cucs"]
        inconnu |= "signataire_cucs" in res and res["signataire_cucs"] is None
        texte, motif, section = verdict_de(res)
        sections.append(
            SectionSynthese(
                q,
                True,
                texte,
                motif,
                section,
                list(res.get("constats", []))[:max_constats],
                list(res.get("reserves", [])),
                _chiffres(res),
                [str(t) for t in res.get("tables_absentes") or []],
            )
        )
    s = SyntheseCommune(code_commune, nom_commune, sections, signataire)
    faites = [x for x in sections if x.disponible]
    total = len(sections)
    if signataire is False:
        s.constats.append(labels.phrase_hors_cucs(nom_commune, "le programme d'actions"))
    if not faites:
        s.constats.append(
            f"Aucune des {text.pluriel(total, 'question évaluative', 'questions évaluatives')} n'a encore de "
            f"résultats pour {nom_commune}."
            if total > 1
            else f"La question évaluative n'a pas encore de résultats pour {nom_commune}."
        )
    else:
        # Only a computed verdict counts: a notebook skipped for lack of tables, or a verdict
        # « données non disponibles », is an n.d. said with its reason, never « a des résultats ».
        calcules = [x for x in faites if x.calcule]
        n_tables = sum(1 for x in faites if x.tables_absentes)
        nd = phrase_questions_nd(n_tables, len(faites) - len(calcules) - n_tables)
        if calcules:
            verbe = "a" if len(calcules) < 2 else "ont"
            s.constats.append(
                f"{text.parmi(len(calcules), total, 'question évaluative', 'questions évaluatives', feminin=True).capitalize()} "
                f"{verbe} des résultats pour {nom_commune}"
                + (f" ; {nd}" if nd else "")
                + " ; chaque verdict ci-dessous renvoie à la section de la page qui l'établit."
            )
        else:
            s.constats.append(
                f"Aucune des {text.pluriel(total, 'question évaluative', 'questions évaluatives')} n'a de résultat "
                f"calculé pour {nom_commune} : {'les ' if len(faites) == total else ''}{nd} ; chaque ligne "
                "ci-dessous en donne la raison."
                if total > 1
                else f"La question évaluative n'a pas de résultat calculé pour {nom_commune} : {nd}."
            )
    if tableau_reperes is not None and code_commune in set(tableau_reperes["code_commune"]):
        s.positions = {col: position(tableau_reperes, code_commune, col) for col in REPERES}
        ligne = tableau_reperes.loc[tableau_reperes["code_commune"] == code_commune].iloc[0]
        if s.signataire is None and not text.manquant(ligne["signataire"]):
            s.signataire = bool(ligne["signataire"])
        inconnu |= text.manquant(ligne["signataire"])
    if s.signataire is None and inconnu:
        # Unknown status: neither a signatory nor « hors CUCS »; each verdict keeps its reason.
        s.constats.insert(0, rapport.phrase_signataire_inconnu(nom_commune))
    if s.absentes:
        s.reserves.append(
            f"Pas encore de résultats pour : {text.liste_fr(s.absentes)} (carnet non exécuté pour cette commune)."
        )
    s.reserves.append(
        "Chaque verdict est détaillé, avec ses limites, dans la page de la question : la synthèse ne les remplace pas."
    )
    if s.positions:
        s.reserves.append(
            "Les repères par habitant rapportent les crédits des actions de la commune (toutes années de la "
            "période) à sa population totale : ils situent la commune, ils ne mesurent pas un effort par "
            "quartier."
        )
    s.chiffres_cles = [
        {
            "id": "questions_traitees",
            "libelle": "Questions évaluatives traitées (verdict calculé)",
            "valeur": sum(1 for x in faites if x.calcule),
            "unite": "questions",
        },
        {
            "id": "questions_nd",
            "libelle": "Questions évaluatives « n.d. » (tables absentes ou données non disponibles)",
            "valeur": sum(1 for x in faites if not x.calcule),
            "unite": "questions",
        },
    ]
    for col in ("specifique_par_habitant", "part_droit_commun"):
        if col in s.positions:
            p = s.positions[col]
            c = {
                "id": col,
                "libelle": REPERES[col][0],
                "valeur": None if p is None else round(p["valeur"], DECIMALES_REPERES[REPERES[col][1]]),
                "unite": REPERES[col][1],
            }
            if p is None:
                c["motif"] = motifs.HORS_CUCS if s.signataire is False else motifs.DONNEE_ABSENTE
            s.chiffres_cles.append(c)
    return s


def phrases_positions(s: SyntheseCommune) -> list[str]:
    """The commune among the others, one sentence per figure."""
    if not s.positions:
        return []
    if s.signataire is False:
        return [
            f"{s.nom_commune} n'a pas signé de CUCS : ses crédits par habitant ne se comparent pas à ceux "
            f"des communes signataires (hors CUCS)."
        ]
    if s.signataire is None:
        return [
            f"Données non disponibles : {rapport.SIGNATAIRE_INCONNU} pour {s.nom_commune}, qui n'est donc pas "
            "placée parmi les communes signataires."
        ]
    return [
        phrase_position(col, p)
        if p is not None
        else f"{REPERES[col][0]} : {labels.MOTIF_LIBELLES[motifs.DONNEE_ABSENTE]}."
        for col, p in s.positions.items()
    ]


# --- the regional synthesis -------------------------------------------------------------------


@dataclass
class SyntheseRegionale(AvecVues):
    tableau: pd.DataFrame  # one row per commune; French strings
    colonnes: dict[str, str]  # column → header
    constats: list[str] = field(default_factory=list)
    reserves: list[str] = field(default_factory=list)
    chiffres_cles: list[dict] = field(default_factory=list)
    #: the same table with numbers (rounded per unit) or the reason a value is missing: the CSV
    donnees: pd.DataFrame = field(default_factory=pd.DataFrame)
    unites: dict[str, str] = field(default_factory=dict)  # column → unit of its values

    def resultats(self) -> dict:
        return {
            "communes": self.donnees,
            "colonnes": [
                {"cle": k, "libelle": v, "unite": self.unites.get(k, "")}
                for k, v in {"signataire_cucs": "Signataire du CUCS", **self.colonnes}.items()
            ],
        }


def _arrondi(valeur: object, unite: str) -> object:
    if isinstance(valeur, bool) or not isinstance(valeur, int | float):
        return valeur
    return arrondi(valeur, text.decimales_unite(unite))


def arrondi(valeur: float, decimales: int) -> int | float:
    """Half up, as `text` writes it (64.25 → 64.3, never 64.2): the CSV says what the page says."""
    q = Decimal(repr(float(valeur))).quantize(Decimal(1).scaleb(-decimales), rounding=ROUND_HALF_UP)
    return int(q) if decimales == 0 else float(q)


#: How the regional synthesis writes a commune whose signatory status is unknown.
STATUT_INCONNU = "statut inconnu"


def _signataires(communes: pd.DataFrame) -> pd.Series:
    """Whether each commune signed a CUCS: True, False, or None when the data leave it unknown
    (True for every commune when the table has no such column)."""
    if "signataire_cucs" not in communes.columns:
        return pd.Series(True, index=communes.index, dtype=object)
    return communes["signataire_cucs"].astype(object).map(lambda v: None if text.manquant(v) else bool(v))


def phrase_eligibles_region(
    elig: Mapping[str, float], signataire: Mapping[str, bool], n_communes: int, n_signataires: int
) -> str:
    """The regional count of quartiers eligible under the 2014 income rule, saying over how many
    communes it runs: signatories (quartiers that would stay) apart from communes outside the
    CUCS (quartiers that could enter)."""
    sig = {k: v for k, v in elig.items() if signataire.get(k, True) is True}
    hors = {k: v for k, v in elig.items() if signataire.get(k, True) is False}
    inconnus = {k: v for k, v in elig.items() if signataire.get(k, True) is None}
    n_hors = sum(1 for v in signataire.values() if v is False) if signataire else n_communes - n_signataires
    n_inconnus = sum(1 for v in signataire.values() if v is None)
    parts = []
    if sig:
        n = int(sum(sig.values()))
        parts.append(
            f"{text.aucun(n, 'quartier éligible', 'quartiers éligibles')} dans les communes signataires "
            f"({text.nombre(len(sig))} sur {text.nombre(n_signataires)} où la règle a pu être appliquée)"
        )
    if hors:
        n = int(sum(hors.values()))
        parts.append(
            f"{text.aucun(n, 'quartier qui pourrait entrer', 'quartiers qui pourraient entrer')} dans les "
            f"communes hors CUCS ({text.nombre(len(hors))} sur {text.nombre(n_hors)} où la règle a pu être appliquée)"
        )
    if inconnus:
        n = int(sum(inconnus.values()))
        parts.append(
            f"{text.aucun(n, 'quartier éligible', 'quartiers éligibles')} dans les communes de {STATUT_INCONNU} "
            f"({text.nombre(len(inconnus))} sur {text.nombre(n_inconnus)} où la règle a pu être appliquée)"
        )
    return f"Selon la règle de revenu de 2014 : {' ; '.join(parts)}."


def build_regionale(
    resultats: Iterable[dict],
    communes: pd.DataFrame,
    par_question: int = 2,
    *,
    questions_ids: Iterable[str] | None = None,
) -> SyntheseRegionale:
    """All communes of the region side by side (`resultats`: every results file of the
    region): the first `par_question` key figures of each question with a notebook. A
    non-signatory commune reads « hors CUCS », a signatory without results « non exécuté »."""
    qs = {q.id: q for q in questions_publiees(questions_ids)}
    signataire = dict(zip(communes["code_commune"], _signataires(communes), strict=True))
    rows: dict[str, dict] = {
        c: {"code_commune": c, "nom": n}
        for c, n in zip(communes["code_commune"], communes["nom"], strict=True)
    }
    data: dict[str, dict] = {
        c: {
            "code_commune": c,
            "nom": n,
            "signataire_cucs": STATUT_INCONNU if signataire[c] is None else signataire[c],
        }
        for c, n in zip(communes["code_commune"], communes["nom"], strict=True)
    }
    colonnes = {"nom": "Commune", "code_commune": "Code"}
    unites: dict[str, str] = {"nom": "texte", "code_commune": "texte", "signataire_cucs": "oui_non"}
    raw: dict[str, dict[str, object]] = {}
    with_results: dict[str, set[str]] = {}
    lus: dict[str, dict[str, Mapping]] = {}  # question → commune → its results
    for res in resultats:
        q, code = res.get("question"), res.get("code_commune")
        if code not in rows or q not in qs:
            continue
        with_results.setdefault(q, set()).add(code)
        lus.setdefault(q, {})[code] = res
        for c in res.get("chiffres_cles", [])[:par_question]:
            key = f"{q}_{c['id']}"
            colonnes.setdefault(key, f"{qs[q].titre} — {c['libelle']}")
            unites.setdefault(key, str(c.get("unite") or ""))
            v = res.get("verdict") if isinstance(res.get("verdict"), Mapping) else {}
            # Outside the CUCS a programme figure has no object; q3's figures (which quartiers
            # would enter) are measured for every commune and stay numbers.
            hors = signataire.get(code, True) is False and (
                c.get("motif") == motifs.HORS_CUCS
                or (
                    q in QUESTIONS_PROGRAMME
                    and (v.get("motif") == motifs.HORS_CUCS or c.get("valeur") in (None, 0))
                )
            )
            if hors:
                rows[code][key] = data[code][key] = labels.MOTIF_LIBELLES[motifs.HORS_CUCS]
                continue
            rows[code][key] = valeur_chiffre(c)
            data[code][key] = (
                labels.MOTIF_LIBELLES[c["motif"]]
                if c.get("valeur") is None and c.get("motif") in labels.MOTIF_LIBELLES
                else _arrondi(c.get("valeur"), str(c.get("unite") or ""))
            )
            raw.setdefault(key, {})[code] = c.get("valeur")
    ordre = ["nom", "code_commune"] + sorted(k for k in colonnes if k not in ("nom", "code_commune"))
    tableau = pd.DataFrame(list(rows.values())).reindex(columns=ordre)
    donnees = pd.DataFrame(list(data.values()), dtype=object).reindex(
        columns=["nom", "code_commune", "signataire_cucs", *ordre[2:]]
    )
    for k in ordre[2:]:
        absent = tableau[k].isna()
        hors = tableau["code_commune"].map(lambda c: signataire.get(c, True) is False)
        tableau.loc[absent & hors, k] = labels.MOTIF_LIBELLES[motifs.HORS_CUCS]
        tableau.loc[absent & ~hors, k] = NON_EXECUTE
        donnees[k] = donnees[k].astype(object)
        donnees.loc[donnees[k].isna() & hors.to_numpy(), k] = labels.MOTIF_LIBELLES[motifs.HORS_CUCS]
        donnees.loc[donnees[k].isna(), k] = NON_EXECUTE
    colonnes = {k: colonnes[k] for k in ordre}
    s = SyntheseRegionale(
        tableau, colonnes, donnees=donnees, unites={k: unites.get(k, "") for k in donnees.columns}
    )
    n_communes = len(rows)
    n_signataires = sum(1 for v in signataire.values() if v is True)
    n_hors = sum(1 for v in signataire.values() if v is False)
    n_inconnus = n_communes - n_signataires - n_hors
    lus_tous = set().union(*with_results.values()) if with_results else set()
    # A commune « has results » through one computed verdict at least; one whose every verdict
    # is « n.d. » (tables absent, data not available) is counted apart, with its reason.
    avec = {c for c in lus_tous if any(verdict_calcule(r[c]) for r in lus.values() if c in r)}
    seulement_nd = lus_tous - avec
    inconnus = (
        f" et {text.pluriel(n_inconnus, 'commune', 'communes')} de {STATUT_INCONNU} (la table des communes ne dit "
        "pas si elles ont signé)"
        if n_inconnus
        else ""
    )
    s.constats.append(
        (
            f"{text.parmi(len(avec), n_communes, 'commune', feminin=True).capitalize()} "
            f"{'a' if len(avec) < 2 else 'ont'} des résultats"
            if avec
            else f"Aucune des {text.pluriel(n_communes, 'commune')} n'a de résultat calculé"
            if n_communes > 1
            else "La commune n'a pas de résultat calculé"
        )
        + (
            " ; la région compte "
            f"{text.pluriel(n_signataires, 'commune signataire', 'communes signataires')} du CUCS"
            + (", " if n_inconnus else " et ")
            + f"{text.pluriel(n_hors, 'commune hors CUCS', 'communes hors CUCS')}{inconnus}."
            if n_signataires or n_hors or not n_inconnus
            else " ; la région ne compte aucune commune signataire du CUCS ni hors CUCS : "
            f"{'ses' if n_inconnus > 1 else 'sa'} {text.pluriel(n_inconnus, 'commune')} "
            f"{'sont' if n_inconnus > 1 else 'est'} de {STATUT_INCONNU} (la table des communes ne dit pas si "
            f"{'elles ont' if n_inconnus > 1 else 'elle a'} signé)."
        )
    )
    if seulement_nd:
        s.constats.append(
            f"{text.pluriel(len(seulement_nd), 'commune', 'communes')} "
            f"({text.liste_fr(sorted(rows[c]['nom'] for c in seulement_nd))}) "
            + ("n'a" if len(seulement_nd) < 2 else "n'ont")
            + " que des verdicts « n.d. » : tables absentes du jeu de "
            "données ou données non disponibles (la page de chaque question en donne la raison)."
        )
    elig = {k: v for k, v in raw.get("q3_eligibles_qpv2014", {}).items() if isinstance(v, int | float)}
    if elig:
        s.constats.append(phrase_eligibles_region(elig, signataire, n_communes, n_signataires))
    part = {
        k: v
        for k, v in raw.get("q1_part_droit_commun", {}).items()
        if isinstance(v, int | float) and signataire.get(k, False) is True
    }
    if len(part) > 1:
        lo, hi = min(part, key=part.get), max(part, key=part.get)
        s.constats.append(
            f"Dans les {text.pluriel(len(part), 'commune signataire', 'communes signataires')} dont les résultats "
            f"sont disponibles, sur les {text.nombre(n_signataires)} de la région, la part du droit commun dans le "
            f"financement des actions va de {text.pourcentage(part[lo])} ({rows[lo]['nom']}) à {text.pourcentage(part[hi])} "
            f"({rows[hi]['nom']})."
        )
    noms = {c: r["nom"] for c, r in rows.items()}
    signataires_q6 = {c: r for c, r in lus.get("q6", {}).items() if signataire.get(c, False) is True}
    for phrase in (
        phrase_modeles_region(signataires_q6, noms),
        phrase_structures_region(lus.get("q7", {})),
    ):
        if phrase:
            s.constats.append(phrase)
    s.reserves.append(
        "Les communes diffèrent par leur taille, leurs quartiers et leurs données : comparer leurs chiffres "
        "suppose de lire chaque page, et le petit nombre de communes interdit toute conclusion générale."
    )
    s.reserves.append(
        "Une commune hors CUCS n'a pas de programme d'actions : ses cases disent « hors CUCS », elle sert de "
        "comparaison ; « non exécuté » signale un carnet qui n'a pas été exécuté pour la commune."
    )
    if n_inconnus:
        s.reserves.append(
            f"Une commune de {STATUT_INCONNU} (signature du CUCS non renseignée) n'est comptée ni parmi les "
            "signataires ni hors CUCS : ses cases disent ce que ses données contiennent, et ses verdicts « n.d. » "
            "donnent leur raison."
        )
    s.chiffres_cles = [
        {
            "id": "communes_avec_resultats",
            "libelle": "Communes avec résultats",
            "valeur": len(avec),
            "unite": "communes",
        },
        {
            "id": "communes_region",
            "libelle": "Communes de la région",
            "valeur": n_communes,
            "unite": "communes",
        },
    ]
    return s


#: The two axes of q6's steering model, as the regional synthesis names them.
_AXES_PILOTAGE = {
    "participatif": "participatif",
    "descendant": "descendant",
    "adaptable": "adaptable",
    "fige": "figé",
}


def phrase_modeles_region(resultats_q6: Mapping[str, Mapping], noms: Mapping[str, str]) -> str | None:
    """The steering model of each signatory commune (q6 results, code → results), communes
    grouped by model and named: « participatif et adaptable : Valbrune-sur-Lèze, … »."""
    groupes: dict[str, list[str]] = {}
    for code, res in resultats_q6.items():
        m = res.get("modele_pilotage")
        if not isinstance(m, Mapping):
            continue
        axes = [_AXES_PILOTAGE.get(m.get(a)) for a in ("axe_descendant_participatif", "axe_fige_adaptable")]
        if axes[0] and axes[1]:
            cle = f"{axes[0]} et {axes[1]}"
        elif axes[1]:
            cle = f"{axes[1]} (descendant ou participatif : non établi, réunions non disponibles)"
        elif axes[0]:
            cle = f"{axes[0]} (figé ou adaptable : non établi)"
        else:
            cle = "non établi (données non disponibles)"
        groupes.setdefault(cle, []).append(noms.get(code, code))
    if not groupes:
        return None
    parts = [
        f"{cle} pour {text.liste_fr(sorted(communes, key=str.casefold))}"
        for cle, communes in sorted(groupes.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    n = sum(len(v) for v in groupes.values())
    return (
        f"Modèle de pilotage des {text.pluriel(n, 'commune signataire', 'communes signataires')} "
        f"(page « Opérateurs ») : {' ; '.join(parts)}."
    )


def phrase_structures_region(resultats_q7: Mapping[str, Mapping]) -> str | None:
    """The co-funding per euro of specific credits of each steering structure, pooled over its
    communes, with its range (q7 results: every commune's file carries the same `structures`)."""
    lignes = next(
        (
            r["structures"]
            for r in resultats_q7.values()
            if isinstance(r.get("structures"), list) and r["structures"]
        ),
        None,
    )
    if not lignes:
        return None
    parts, n = [], 0
    for ligne in lignes:
        if not isinstance(ligne, Mapping) or text.manquant(ligne.get("effet_levier")):
            continue
        k = int(ligne.get("communes") or 0)
        n += k
        fourchette = ""
        lo, hi = ligne.get("effet_levier_min"), ligne.get("effet_levier_max")
        if k > 1 and not text.manquant(lo) and not text.manquant(hi):
            fourchette = f", de {text.euros(lo, 2)} à {text.euros(hi, 2)}"
        parts.append(
            f"{ligne.get('structure')} {text.euros(ligne['effet_levier'], 2)} "
            f"({text.pluriel(k, 'commune')}{fourchette})"
        )
    if not parts:
        return None
    return (
        "Cofinancement de droit commun par euro de crédits spécifiques, par structure de pilotage "
        f"(page « Outils de pilotage ») : {' ; '.join(parts)} — une tendance sur "
        f"{text.pluriel(n, 'commune')}, pas un classement des structures."
    )


def liens_communes(communes: pd.DataFrame, prefixe: str = "../../communes/") -> list[tuple[str, str, str]]:
    """Every commune of the region, linked to its page on the site (signatory or not)."""
    sig = _signataires(communes)
    return [
        (
            f"{nom} ({code})" + ("" if s else f" — {STATUT_INCONNU}" if s is None else " — hors CUCS"),
            f"{prefixe}{code}.html",
            "page de la commune",
        )
        for code, nom, s in zip(communes["code_commune"], communes["nom"], sig, strict=True)
    ]


#: Where the site publishes the regional table as CSV (relative to the regional page).
CSV_REGIONAL = "../../telechargements/region/synthese_regionale_communes.csv"


# --- views: what the synthesis notebooks show ------------------------------------------------
#
# The key figures stay as the results files give them, written by `text.chiffre_cle` (as on the
# site index and the commune pages): a key figure's unit travels with its value and differs from
# one row (commune synthesis) or question (regional synthesis) to the next. This module holds the
# views of both syntheses: each returns None for the other one, so `r.tables` holds only a
# synthesis's own views.

COLONNES_CHIFFRES = {"libelle": ("Chiffre clé", "texte"), "valeur": ("Valeur", "texte")}


def chiffres_section(section: SectionSynthese) -> pd.DataFrame | None:
    """One question's key figures (None when the question has no results for the commune)."""
    if not section.disponible:
        return None
    return display.vue(section.chiffres, COLONNES_CHIFFRES, vide="aucun chiffre clé")


def question_par_question(s: SyntheseCommune) -> list[tuple[str, list[str], pd.DataFrame | None]]:
    """The commune synthesis, question by question, for `display.sections`: each question's
    heading (its title and the question verbatim), first findings and key figures."""
    return [
        (f"{x.question.titre} — « {x.question.question} »", x.constats, chiffres_section(x))
        for x in s.sections
    ]


def vue_reperes(s: SyntheseCommune | SyntheseRegionale) -> pd.DataFrame | None:
    """Commune synthesis: the commune among the signatory communes, one row per figure."""
    if not isinstance(s, SyntheseCommune) or not s.positions:
        return None
    rows = []
    for col, p in s.positions.items():
        libelle, unite = REPERES[col]
        if p is None:
            motif = motifs.HORS_CUCS if s.signataire is False else motifs.DONNEE_ABSENTE
            lib = labels.MOTIF_LIBELLES[motif]
            rows.append({"indicateur": libelle, "valeur": lib, "rang": lib, "mediane": "—"})
        else:
            rows.append(
                {
                    "indicateur": libelle,
                    "valeur": _fmt(p["valeur"], unite),
                    "rang": f"{rang_fr(p['rang'])} sur {text.nombre(p['n'])}",
                    "mediane": _fmt(p["mediane"], unite),
                }
            )
    return display.vue(
        pd.DataFrame(rows),
        {
            "indicateur": ("Repère", "texte"),
            "valeur": ("Commune", "texte"),
            "rang": ("Rang parmi les communes signataires", "texte"),
            "mediane": ("Médiane des communes signataires", "texte"),
        },
        vide="aucun repère",
    )


def vue_chiffres_cles(s: SyntheseCommune | SyntheseRegionale) -> pd.DataFrame | None:
    """Commune synthesis: the key figures of every question with results, in one table."""
    if not isinstance(s, SyntheseCommune):
        return None
    lignes = [
        x.chiffres.assign(question=x.question.titre)
        for x in s.sections
        if x.disponible and not x.chiffres.empty
    ]
    df = pd.concat(lignes, ignore_index=True) if lignes else None
    return display.vue(
        df, {"question": ("Question", "texte"), **COLONNES_CHIFFRES}, vide="aucune question n'a de résultats"
    )


def vue_communes(s: SyntheseCommune | SyntheseRegionale) -> pd.DataFrame | None:
    """Regional synthesis: all communes side by side, the first key figures of each question."""
    if not isinstance(s, SyntheseRegionale):
        return None
    return display.vue(s.tableau, {c: (h, "texte") for c, h in s.colonnes.items()}, vide="aucun résultat")
