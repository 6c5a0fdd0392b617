"""Syntheses: the headline findings of every question for one commune, and all communes side
by side for the region. They read the results of the question notebooks (the results
contract, DESIGN.md §6; the notebook reads the files through `pipeline.results`), never the
data: what they show is exactly what the pages say."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from cucs_analysis.present import display, text
from cucs_analysis.reports import questions
from cucs_analysis.reports.rapport import AvecVues

#: The per-commune questions, in the order of the workshop (q1 … q8).
QUESTIONS_COMMUNE = tuple(q for q in questions.QUESTIONS if q.required_keys and not q.regional)


@dataclass
class SectionSynthese:
    question: questions.Question
    disponible: bool
    constats: list[str] = field(default_factory=list)
    reserves: list[str] = field(default_factory=list)
    chiffres: pd.DataFrame = field(default_factory=pd.DataFrame)  # libelle, valeur (French)


@dataclass
class SyntheseCommune(AvecVues):
    code_commune: str
    nom_commune: str
    sections: list[SectionSynthese]
    constats: list[str] = field(default_factory=list)
    reserves: list[str] = field(default_factory=list)
    chiffres_cles: list[dict] = field(default_factory=list)

    @property
    def absentes(self) -> list[str]:
        return [s.question.titre for s in self.sections if not s.disponible]


def _chiffres(res: dict) -> pd.DataFrame:
    rows = [
        {"libelle": c["libelle"], "valeur": text.chiffre_cle(c.get("valeur"), c.get("unite"))}
        for c in res.get("chiffres_cles", [])
    ]
    return pd.DataFrame(rows, columns=["libelle", "valeur"])


def build_commune(
    resultats: Mapping[str, dict], code_commune: str, nom_commune: str, max_constats: int = 3
) -> SyntheseCommune:
    """Each question's first findings and key figures for one commune (`resultats`: question
    id → that commune's results)."""
    sections = []
    for q in QUESTIONS_COMMUNE:
        res = resultats.get(q.id)
        if res is None:
            sections.append(SectionSynthese(q, False))
            continue
        sections.append(
            SectionSynthese(
                q,
                True,
                list(res.get("constats", []))[:max_constats],
                list(res.get("reserves", [])),
                _chiffres(res),
            )
        )
    s = SyntheseCommune(code_commune, nom_commune, sections)
    faites = [x for x in sections if x.disponible]
    s.constats.append(
        f"{text.pluriel(len(faites), 'question évaluative traitée', 'questions évaluatives traitées')} "
        f"pour {nom_commune} sur {len(sections)}."
    )
    for x in faites:
        if x.constats:
            s.constats.append(f"{x.question.titre} : {x.constats[0]}")
    if s.absentes:
        s.reserves.append(
            f"Pas encore de résultats pour : {text.liste_fr(s.absentes)} (carnet non exécuté ou données absentes)."
        )
    s.reserves.append(
        "Chaque constat est détaillé, avec ses limites, dans la page de la question : la synthèse ne les remplace pas."
    )
    s.chiffres_cles = [
        {
            "id": "questions_traitees",
            "libelle": "Questions évaluatives traitées",
            "valeur": len(faites),
            "unite": "questions",
        }
    ]
    return s


@dataclass
class SyntheseRegionale(AvecVues):
    tableau: pd.DataFrame  # one row per commune; French strings
    colonnes: dict[str, str]  # column → header
    constats: list[str] = field(default_factory=list)
    reserves: list[str] = field(default_factory=list)
    chiffres_cles: list[dict] = field(default_factory=list)


def build_regionale(
    resultats: Iterable[dict], communes: pd.DataFrame, par_question: int = 2
) -> SyntheseRegionale:
    """All communes side by side (`resultats`: every results file of the region): the first
    `par_question` key figures of each question."""
    rows: dict[str, dict] = {
        c: {"code_commune": c, "nom": n}
        for c, n in zip(communes["code_commune"], communes["nom"], strict=True)
    }
    colonnes = {"nom": "Commune", "code_commune": "Code"}
    raw: dict[str, dict[str, object]] = {}
    for res in resultats:
        q, code = res.get("question"), res.get("code_commune")
        if code not in rows or q not in {x.id for x in QUESTIONS_COMMUNE}:
            continue
        for c in res.get("chiffres_cles", [])[:par_question]:
            key = f"{q}_{c['id']}"
            colonnes.setdefault(key, f"{questions.get(q).titre} — {c['libelle']}")
            rows[code][key] = text.chiffre_cle(c.get("valeur"), c.get("unite"))
            raw.setdefault(key, {})[code] = c.get("valeur")
    ordre = ["nom", "code_commune"] + sorted(k for k in colonnes if k not in ("nom", "code_commune"))
    tableau = pd.DataFrame(list(rows.values())).reindex(columns=ordre).fillna("—")
    colonnes = {k: colonnes[k] for k in ordre}
    s = SyntheseRegionale(tableau, colonnes)
    with_results = {code for v in raw.values() for code in v}
    s.constats.append(
        f"{text.pluriel(len(with_results), 'commune a', 'communes ont')} des résultats sur "
        f"{text.pluriel(len(rows), 'commune')} de la région."
    )
    elig = raw.get("q3_eligibles_qpv2014", {})
    if elig:
        total = sum(v for v in elig.values() if isinstance(v, int | float))
        s.constats.append(
            f"Selon la règle de revenu de 2014, {text.pluriel(int(total), 'quartier est éligible', 'quartiers sont éligibles')} "
            f"dans la région."
        )
    part = {k: v for k, v in raw.get("q1_part_droit_commun", {}).items() if isinstance(v, int | float)}
    if part:
        lo, hi = min(part, key=part.get), max(part, key=part.get)
        s.constats.append(
            f"La part du droit commun dans le financement des actions va de {text.pourcentage(part[lo])} "
            f"({rows[lo]['nom']}) à {text.pourcentage(part[hi])} ({rows[hi]['nom']})."
        )
    s.reserves.append(
        "Les communes diffèrent par leur taille, leurs quartiers et leurs données : comparer leurs chiffres "
        "suppose de lire chaque page, et le petit nombre de communes interdit toute conclusion générale."
    )
    s.chiffres_cles = [
        {
            "id": "communes_avec_resultats",
            "libelle": "Communes avec résultats",
            "valeur": len(with_results),
            "unite": "communes",
        }
    ]
    return s


# --- views: what the synthesis notebooks show ------------------------------------------------
#
# The key figures stay as the results files give them, written by `text.chiffre_cle` (as on the
# site index and the commune pages): a key figure's unit travels with its value and differs from
# one row (commune synthesis) or question (regional synthesis) to the next, and « — » marks a
# question without results. This module holds the views of both syntheses: each returns None
# for the other one, so `r.tables` holds only a synthesis's own views.

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
