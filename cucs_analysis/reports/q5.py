"""q5 — « Est ce que les actions du CUCS dans son volet insertion a-t-il permis de répondre aux
besoins identifiés sur le territoire ? »: everything the notebook shows, computed from one
commune's Territory.

Three parts, one per section of the notebook: needs (job seekers, unemployment, low
qualification, young people) against the insertion supply (actions, places, budget) per
quartier, before and during the contract; households followed by several dispositifs (the
workshop's « points de rencontre »), their combinations and sequences; the progression of
levels from entry to exit. Every count of people or households goes through
`analysis.privacy` before it reaches a view, a sentence, a key figure or the results.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

import numpy as np
import pandas as pd

from cucs_analysis.analysis import motifs, pathways, privacy
from cucs_analysis.data.schema import DISPOSITIFS
from cucs_analysis.present import display, labels, text
from cucs_analysis.present.labels import majuscule
from cucs_analysis.reports import rapport
from cucs_analysis.reports.rapport import Rapport, chiffre_cle

#: Below this many job-seeker-years in either period, a coverage comparison is a « petite base ».
BASE_MIN = 30
#: How many job seekers the coverage ratio counts places for.
POUR = 100

#: The notebook's section headings (exact text of its « ## » lines): the verdict links to one.
SECTIONS = {
    "en_bref": "En bref",
    "besoins": "1. Besoins d'insertion et offre d'insertion par quartier",
    "recouvrement": "2. Ménages suivis par plusieurs dispositifs et points de rencontre",
    "progression": "3. Situation des publics à l'entrée et à la sortie",
}
#: French labels of the dispositifs (codes of `data.schema.DISPOSITIFS`).
DISPOSITIF_LIBELLES = {
    "CLAS": "CLAS",
    "OVV": "OVV",
    "VVV": "VVV",
    "PRE": "PRE",
    "ASV": "ASV",
    "CLSPD": "CLSPD",
    "adultes-relais": "Adultes-relais",
    "FONJEP": "FONJEP",
    "chantier d'insertion": "Chantier d'insertion",
    "atelier parents": "Atelier parents",
    "GUP": "GUP",
    "autre": "Autre dispositif",
}
#: The workshop's « points de rencontre » in French (codes of `pathways.POINTS_RENCONTRE`).
POINTS_LIBELLES = {
    "pre_enfants": "Enfants (0-15 ans) suivis par le PRE",
    "chantier_jeunes": "Jeunes (16-25 ans) en chantier d'insertion",
    "ateliers_parents": "Parents (26-64 ans) en atelier parents",
}
MOTIFS_SORTIE_LIBELLES = {
    "fin de parcours": "Fin de parcours",
    "emploi": "Emploi",
    "formation": "Formation",
    "abandon": "Abandon",
    "déménagement": "Déménagement",
    "autre": "Autre motif",
    "non_renseigne": "Motif non renseigné",
}
AUTRES_COMBINAISONS = "Autres combinaisons"
NOTE_S = (
    "s : masqué pour qu'un total publié ne permette pas de retrouver une petite valeur (secret statistique, "
    "secondaire quand la valeur elle-même n'est pas petite)."
)
AUTRES_ENCHAINEMENTS = "Autres enchaînements"


def libelle_dispositif(code: object) -> str:
    return DISPOSITIF_LIBELLES.get(str(code), majuscule(str(code)))


def libelle_combinaison(code: object, autres: str = AUTRES_COMBINAISONS) -> str:
    if code == pathways.AUTRES:
        return autres
    libs = [libelle_dispositif(c) for c in str(code).split(pathways.SEPARATEUR)]
    return " + ".join(sorted(libs, key=str.casefold))  # one stable order: « ASV + VVV », never « VVV + ASV »


#: The workshop's key dispositifs (its « points de rencontre »): never merged with a small line.
DISPOSITIFS_CLES = tuple(d for _, d in pathways.POINTS_RENCONTRE.values())
#: Labels of the codes of the downloadable tables (one source of truth: the dicts above).
NIVEAU_LIBELLES = {"quartier": "Quartier", "commune": "Commune (toute la commune)"}


def libelle_membres(membres) -> str:
    """« CLAS et Autre dispositif »: the dispositifs a merged line of a table holds."""
    return text.liste_fr(libelle_dispositif(m) for m in membres)


def _arrondi(x: object, decimales: int = 1) -> float | None:
    """The value as it is printed (rounded half up like `text.nombre`): one rounding for the
    sentences, the tables and the key figures (86,25 → 86,3 everywhere)."""
    if x is None or text.manquant(x):
        return None
    q = Decimal(1).scaleb(-decimales)
    return float(Decimal(str(float(x))).quantize(q, rounding=ROUND_HALF_UP))


#: Why nothing of the CUCS is read for a commune whose signatory status is unknown.
RAISON_SIGNATAIRE_INCONNU = rapport.SIGNATAIRE_INCONNU


#: The shared reading of `communes.signataire_cucs` (True, False, None when unknown).
statut_signataire = rapport.statut_signataire


@dataclass
class RapportQ5(Rapport):
    code_commune: str
    nom_commune: str
    signataire: bool | None  # None: the signatory status is unknown (never « hors CUCS »)
    a_parcours: bool  # the commune's households appear in `parcours`
    a_programme: bool  # the commune has a programme of actions in the data
    periode: tuple[int, int]
    annee_debut_cucs: int
    seuil_secret: int
    noms: dict  # code_territoire → French name (quartiers, the commune, commune-wide actions)
    besoins: pd.DataFrame  # pathways.needs_summary during the contract, counts hidden (NaN) + *_secret
    couverture: pd.DataFrame  # one row per territory: places and euros per job seeker, before / during
    offre_commune: dict  # the commune-wide insertion actions (no quartier), during the contract
    recouvrement: dict  # suivis, multi, part (after secrecy) + *_secret flags
    combinaisons: pd.DataFrame  # pathways.published_combinations
    sequences: pd.DataFrame  # the same rule on the first step (premier → suivant)
    points_rencontre: pd.DataFrame  # pathways.meeting_points after secrecy
    transitions: pd.DataFrame  # long: niveau_entree, niveau_sortie, effectif (NaN secret), secret
    transitions_totaux: pd.DataFrame  # per entry level: total (NaN secret), secret
    progression_resume: dict  # base, progresse, stable, regresse (None where secret), *_secret
    progression_dispositifs: pd.DataFrame  # dispositif, base, progresse, part (NaN secret)
    sorties: pd.DataFrame  # motif_sortie, sorties (NaN secret), secret, part
    population: float | None = None
    base_min: int = BASE_MIN
    menages_multi_brut: int | None = None  # before secrecy: for the truth test only, never published

    TABLE_ABSENCE: ClassVar[str] = "parcours"  # absence(quoi) speaks of the pathways by default

    @property
    def decrit(self) -> bool:
        """The commune's programme and pathways are described: a signatory, or a commune whose
        signatory status is unknown but whose rows are in the data (with one caveat)."""
        return bool(self.signataire) or (self.signataire is None and (self.a_programme or self.a_parcours))

    @property
    def inconnu_sans_donnees(self) -> bool:
        """Unknown signatory status and no programme nor pathways: « données non disponibles »."""
        return self.signataire is None and not self.decrit

    @property
    def motif_parcours(self) -> str | None:
        return self.motif_table(self.a_parcours)

    def ligne_commune(self) -> pd.Series | None:
        c = self.couverture
        c = c[c["niveau"] == "commune"]
        return None if c.empty else c.iloc[0]

    def libelles_combinaisons(self) -> dict:
        """The published label of each combination of the download, keyed by its cell as the
        CSV writer joins a list (« ASV + chantier d'insertion »; the « autres » line is empty),
        so the CSV reads as the page table (« ASV + Chantier d'insertion », « Autres
        combinaisons (40) »)."""
        out = {}
        for c, k in zip(self.combinaisons["combinaison"], self.combinaisons["n_combinaisons"], strict=True):
            if c == pathways.AUTRES:
                out[""] = f"{AUTRES_COMBINAISONS} ({text.nombre(k)})"
            else:
                out[" + ".join(str(c).split(pathways.SEPARATEUR))] = libelle_combinaison(c)
        return out

    def resultats(self) -> dict:
        """The q5 keys of the results contract (DESIGN.md §6), with `verdict`."""
        mp = self.motif_parcours
        rc = self.recouvrement
        recouvrement = {
            "menages_suivis": None if mp else _num(rc["menages_suivis"]),
            "menages_multi_dispositifs": None if mp else _num(rc["menages_multi_dispositifs"]),
            "part": None if mp else _num(rc["part"]),
            "combinaisons": []
            if mp
            else [
                {
                    "dispositifs": [] if c == pathways.AUTRES else str(c).split(pathways.SEPARATEUR),
                    "autres_combinaisons": c == pathways.AUTRES,
                    "menages": _num(m),
                    "motif": motifs.SECRET if s else None,
                }
                for c, m, s in zip(
                    self.combinaisons["combinaison"],
                    self.combinaisons["menages"],
                    self.combinaisons["secret"],
                    strict=True,
                )
            ],
            "motif": mp or (motifs.SECRET if rc.get("multi_secret") else None),
        }
        progression = (
            []
            if mp
            else [
                {
                    "niveau_entree": int(e),
                    "niveau_sortie": int(s),
                    "effectif": _num(n),
                    "motif": motifs.SECRET if sec else None,
                }
                for e, s, n, sec in zip(
                    self.transitions["niveau_entree"],
                    self.transitions["niveau_sortie"],
                    self.transitions["effectif"],
                    self.transitions["secret"],
                    strict=True,
                )
            ]
        )
        pr = self.progression_resume
        return {
            "recouvrement": recouvrement,
            "progression": progression,
            "progression_motif": mp,
            "parcours_progression": {
                k: (None if mp else _num(pr.get(k))) for k in ("base", "progresse", "stable", "regresse")
            }
            | {"part_progresse": None if mp else _num(pr.get("part_progresse")), "motif": mp},
            "sorties_parcours": []
            if mp
            else [
                {"motif_sortie": str(m), "parcours": _num(n), "motif": motifs.SECRET if s else None}
                for m, n, s in zip(
                    self.sorties["motif_sortie"], self.sorties["sorties"], self.sorties["secret"], strict=True
                )
            ],
            "points_rencontre": []
            if mp
            else [
                {
                    "point": str(row["point"]),
                    "dispositif": str(row["dispositif"]),
                    "menages": _num(row["menages"]),
                    "menages_famille": _num(row["menages_famille"]),
                    "motif": motifs.SECRET
                    if row["menages_secret"] or row["menages_famille_secret"]
                    else None,
                }
                for row in self.points_rencontre.to_dict(orient="records")
            ],
            "besoins_offre": [
                {
                    "niveau": str(row["niveau"]),
                    "code_territoire": str(row["code_territoire"]),
                    "demandeurs_emploi_par_an_avant": _num(row["demandeurs_par_an_avant"]),
                    "places_par_an_avant": _num(row["places_par_an_avant"]),
                    "places_pour_100_avant": _num(row["places_pour_100_avant"]),
                    "demandeurs_emploi_par_an_pendant": _num(row["demandeurs_par_an_pendant"]),
                    "places_par_an_pendant": _num(row["places_par_an_pendant"]),
                    "places_pour_100_pendant": _num(row["places_pour_100_pendant"]),
                    "euros_par_demandeur_pendant": _num(row["euros_par_demandeur_pendant"]),
                    "avant_testable": bool(row["avant_testable"]),
                    "petite_base": bool(row["petite_base"]),
                    "motif": self.motif_programme
                    or (motifs.SECRET if row["secret"] else None)
                    or (None if row["avant_testable"] else motifs.NON_CALCULABLE),
                }
                for row in self.couverture.to_dict(orient="records")
            ],
            "offre_commune": {k: _num(v) for k, v in self.offre_commune.items()}
            | {"motif": self.motif_programme},
            "verdict": self.verdict,
            "libelles_tables": LIBELLES_TABLES,
            "libelles_codes": {
                "niveau": NIVEAU_LIBELLES,
                "point": POINTS_LIBELLES,
                "dispositif": DISPOSITIF_LIBELLES,
                "dispositifs": self.libelles_combinaisons(),
                "motif_sortie": MOTIFS_SORTIE_LIBELLES,
            },
        }


#: French titles of the downloadable tables (results keys → CSV title).
LIBELLES_TABLES = {
    "besoins_offre": "Besoins et offre d'insertion (places et crédits pour les demandeurs d'emploi)",
    "points_rencontre": "Points de rencontre entre dispositifs (enfants, jeunes, parents)",
    "progression": "Parcours terminés par niveau d'autonomie à l'entrée et à la sortie",
    "recouvrement_combinaisons": "Ménages par combinaison de dispositifs",
    "sorties_parcours": "Sorties des parcours terminés, par motif",
}


def _num(x: object) -> float | int | None:
    """`rapport.nombre_json`, a flag (bool) being no number."""
    return None if isinstance(x, bool | np.bool_) else rapport.nombre_json(x)


# --- computations ------------------------------------------------------------------------------


def _besoins(territoire, debut: int, fin: int, seuil: int) -> pd.DataFrame:
    """Needs of the commune and its quartiers during the contract, with the counts of people
    behind each rate hidden with their rate when small."""
    codes = set(territoire.quartiers["code_quartier"]) | {territoire.code_commune}
    ind = territoire.indicateurs
    ind = ind[ind["code_territoire"].isin(codes) & ind["niveau"].isin(["quartier", "commune"])]
    s = pathways.needs_summary(pathways.needs_by_territory_year(ind), debut, fin)
    bases = {"demandeurs_emploi": []}
    for taux, (num, den) in pathways.TAUX_BESOINS.items():
        bases[num] = [taux]
        bases[den] = [taux]
    st = privacy.hide_small_bases(s, bases, seuil)
    return st.with_flags([c for c in s.columns if c not in ("niveau", "code_territoire", "annees")])


def _couverture(territoire, actions_insertion, debut, fin, annee_cucs, seuil) -> pd.DataFrame:
    """Places per 100 job seekers and euros per job seeker per territory, before / during, in
    one row per territory, with the per-year means, through secrecy: planned places are counts
    of people (the quartiers' and the commune-wide lines add up to the commune's total)."""
    codes = set(territoire.quartiers["code_quartier"]) | {territoire.code_commune}
    ind = territoire.indicateurs
    ind = ind[ind["code_territoire"].isin(codes) & ind["niveau"].isin(["quartier", "commune"])]
    needs = pathways.needs_by_territory_year(ind)
    supply = pathways.supply_by_territory_year(actions_insertion, territoire.financements)
    cov = pathways.coverage(
        needs, supply, annee_debut_cucs=annee_cucs, debut=debut, fin=fin, base_min=BASE_MIN
    )
    cols = [
        "niveau",
        "code_territoire",
        "annees_avant",
        "annees_pendant",
        "demandeurs_avant",
        "demandeurs_pendant",
        "places_avant",
        "places_pendant",
        "euros_avant",
        "euros_pendant",
        "avant_testable",
        "petite_base",
    ]
    if cov.empty:
        return pd.DataFrame(columns=[*cols, "secret"])
    p = cov[cov["mesure"] == "places_pour_100"].set_index(["niveau", "code_territoire"])
    e = cov[cov["mesure"] == "euros_par_demandeur"].set_index(["niveau", "code_territoire"]).reindex(p.index)
    w = pd.DataFrame(
        {
            "annees_avant": p["annees_avant"],
            "annees_pendant": p["annees_pendant"],
            "demandeurs_avant": p["denominateur_avant"],
            "demandeurs_pendant": p["denominateur_pendant"],
            "places_avant": p["numerateur_avant"],
            "places_pendant": p["numerateur_pendant"],
            "euros_avant": e["numerateur_avant"],
            "euros_pendant": e["numerateur_pendant"],
            "avant_testable": p["avant_testable"].astype(bool),
            "petite_base": p["petite_base"].astype(bool),
        }
    ).reset_index()
    # Secrecy on the places: the quartiers' lines and the commune-wide line add up to the
    # commune's line (printed): primary, then secondary down each period's column.
    lignes = w[w["niveau"] == "quartier"][["code_territoire", "places_avant", "places_pendant"]]
    hors_q = supply[supply["code_territoire"] == pathways.COMMUNE] if len(supply) else supply
    com_places = {}
    for per, (a0, a1) in (("avant", (debut, annee_cucs - 1)), ("pendant", (annee_cucs, fin))):
        hq = hors_q[(hors_q["annee"] >= a0) & (hors_q["annee"] <= a1)] if len(hors_q) else hors_q
        com_places[per] = float(hq["places"].sum()) if len(hq) else 0.0
    lignes = pd.concat(
        [
            lignes,
            pd.DataFrame(
                {
                    "code_territoire": [pathways.COMMUNE],
                    "places_avant": [com_places["avant"]],
                    "places_pendant": [com_places["pendant"]],
                }
            ),
        ],
        ignore_index=True,
    )
    st = privacy.apply_secrecy(lignes, ["places_avant", "places_pendant"], seuil, margins="columns")
    cachees = st.mask.set_index(lignes["code_territoire"])
    w["secret"] = False
    for per in ("avant", "pendant"):
        m = w["code_territoire"].map(cachees[f"places_{per}"]).fillna(False).astype(bool)
        m |= privacy.primary_mask(w[f"places_{per}"].fillna(0), seuil) | privacy.primary_mask(
            w[f"demandeurs_{per}"].fillna(0), seuil
        )
        w[f"secret_{per}"] = m
        w["secret"] |= m
        w[f"demandeurs_par_an_{per}"] = (w[f"demandeurs_{per}"] / w[f"annees_{per}"]).where(~m)
        w[f"places_par_an_{per}"] = (w[f"places_{per}"] / w[f"annees_{per}"]).where(~m)
        w[f"places_pour_100_{per}"] = (POUR * w[f"places_{per}"] / w[f"demandeurs_{per}"]).where(
            (w[f"demandeurs_{per}"] > 0) & ~m
        )
        w[f"euros_par_demandeur_{per}"] = (w[f"euros_{per}"] / w[f"demandeurs_{per}"]).where(
            (w[f"demandeurs_{per}"] > 0) & ~m
        )
        w[f"euros_par_an_{per}"] = (w[f"euros_{per}"] / w[f"annees_{per}"]).where(w[f"annees_{per}"] > 0)
        w[f"places_{per}"] = w[f"places_{per}"].where(~m)
    for per in ("avant",):  # no "before" to compare when the series starts with the contract
        for c in (
            "demandeurs_par_an",
            "places_par_an",
            "places_pour_100",
            "euros_par_demandeur",
            "euros_par_an",
        ):
            w[f"{c}_{per}"] = w[f"{c}_{per}"].where(w["avant_testable"])
    w["ecart"] = rapport.ecarts_affiches(w["places_pour_100_avant"], w["places_pour_100_pendant"])
    w["_o"] = (w["niveau"] == "commune").astype(int)
    return w.sort_values(["_o", "code_territoire"], kind="stable").drop(columns="_o").reset_index(drop=True)


def _offre_commune(actions_insertion, financements, annee_cucs, fin, seuil) -> dict:
    """The commune-wide insertion actions (no quartier), during the contract: never spread over
    the quartiers."""
    s = pathways.supply_by_territory_year(actions_insertion, financements)
    s = s[(s["code_territoire"] == pathways.COMMUNE) & (s["annee"] >= annee_cucs) & (s["annee"] <= fin)]
    places = float(s["places"].sum()) if len(s) else 0.0
    annees = int(fin - annee_cucs + 1)
    secret = bool(privacy.primary_mask(pd.Series([places]), seuil).iloc[0])
    return {
        "actions_annees": int(s["actions"].sum()) if len(s) else 0,
        "places_par_an": None if secret else places / annees,
        "montant_par_an": (float(s["montant_accorde"].sum()) if len(s) else 0.0) / annees,
        "secret": secret,
    }


def _publier_liste(comb: pd.DataFrame, seuil: int, total_publie: bool) -> pd.DataFrame:
    return pathways.published_combinations(comb, seuil, total_publie)


def _sequences(parcours: pd.DataFrame, seuil: int) -> pd.DataFrame:
    """First steps (premier → suivant) published the way the combinations are."""
    s = pathways.sequences(parcours)
    if s.empty:
        return pd.DataFrame(columns=["premier", "suivant", "n_combinaisons", "menages", "secret"])
    comb = pd.DataFrame(
        {
            "combinaison": s["premier"] + pathways.SEPARATEUR + s["suivant"],
            "n_dispositifs": 2,
            "menages": s["menages"],
        }
    )
    p = pathways.published_combinations(comb, seuil, total_publie=True)
    parts = p["combinaison"].str.split(pathways.SEPARATEUR, n=1, expand=True).reindex(columns=[0, 1])
    p["premier"] = parts[0].where(p["combinaison"] != pathways.AUTRES)
    p["suivant"] = parts[1].where(p["combinaison"] != pathways.AUTRES)
    return p[["premier", "suivant", "n_combinaisons", "menages", "secret"]]


def _recouvrement(parcours: pd.DataFrame, seuil: int) -> dict:
    o = pathways.overlap(parcours)
    suivis, multi = o["menages_suivis"], o["menages_multi_dispositifs"]
    # « multi ménages suivis sur suivis » prints both: the households with one dispositif
    # (suivis − multi) are protected too, by hiding the total (multi stays: the combinations add up to it)
    s_sec = privacy.is_small(suivis, seuil) or privacy.is_small(suivis - multi, seuil)
    m_sec = privacy.is_small(multi, seuil)
    part = None if (s_sec or m_sec or not suivis) else 100 * multi / suivis
    trois = pathways.households_with_at_least(parcours, 3)
    t_sec = privacy.is_small(trois, seuil) or privacy.is_small(multi - trois, seuil)
    return {
        "menages_3_plus": None if t_sec else trois,
        "trois_secret": t_sec,
        "menages_suivis": None if s_sec else suivis,
        "menages_multi_dispositifs": None if m_sec else multi,
        "part": part,
        "suivis_secret": s_sec,
        # hidden to protect another count (not itself under the threshold): said « un nombre de … »
        "suivis_secondaire": s_sec and not privacy.is_small(suivis, seuil),
        "multi_secret": m_sec,
    }


def _points(parcours: pd.DataFrame, seuil: int) -> pd.DataFrame:
    pts = pathways.meeting_points(parcours)
    pts["part"] = (pts["menages_famille"] / pts["menages"]).where(pts["menages"] > 0)
    # « N ménages, dont M … » prints both: the households without another member followed
    # (N − M) are a count too; when small, M and the share are hidden with it.
    pts["_sans_famille"] = pts["menages"] - pts["menages_famille"]
    bases = {"menages": ["part"], "menages_famille": ["part"], "_sans_famille": ["menages_famille", "part"]}
    st = privacy.hide_small_bases(pts, bases, seuil)
    return st.with_flags(["menages", "menages_famille", "part"]).drop(columns="_sans_famille")


def _transitions(parcours: pd.DataFrame, seuil: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The entry × exit matrix through secrecy: every cell is hidden once against every total
    the page prints (rows, columns, the diagonal = stable, above it = progressed, below it =
    regressed, the whole base)."""
    m = pathways.transition_matrix(parcours)
    long = m.stack().rename("effectif").reset_index()
    e, s = long["niveau_entree"], long["niveau_sortie"]
    lines = [long["niveau_entree"].eq(v) for v in m.index] + [long["niveau_sortie"].eq(v) for v in m.columns]
    lines += [s > e, s == e, s < e, pd.Series(True, index=long.index)]
    ss = privacy.secret_with_totals(long["effectif"].astype(float), lines, seuil)
    long["effectif"] = ss.values
    long["secret"] = ss.mask.astype(bool)
    tot = m.sum(axis=1).rename("total").reset_index()
    ts = privacy.secret_counts(tot["total"].astype(float), seuil, total_known=True)
    tot["total"], tot["secret"] = ts.values.to_numpy(), ts.mask.to_numpy()
    r = pathways.progression_summary(parcours)
    rs = privacy.secret_counts(
        pd.Series([r["progresse"], r["stable"], r["regresse"]], dtype=float), seuil, total_known=True
    )
    base_sec = privacy.is_small(r["base"], seuil)
    resume = {"base": None if base_sec else r["base"], "base_secret": base_sec}
    for k, v, sec in zip(("progresse", "stable", "regresse"), rs.values, rs.mask, strict=True):
        resume[k] = None if (sec or base_sec) else int(v)
        resume[f"{k}_secret"] = bool(sec or base_sec)
    resume["part_progresse"] = (
        None if resume["progresse"] is None or not r["base"] else 100 * resume["progresse"] / r["base"]
    )
    return long, tot, resume


def _progression_dispositifs(parcours: pd.DataFrame, seuil: int) -> pd.DataFrame:
    # a line under the threshold (e.g. « Autre dispositif », 3 parcours) is merged with others
    # rather than hiding a key dispositif of the workshop (PRE…) by secondary secrecy
    d = pathways.merge_small_lines(pathways.progression_by_dispositif(parcours), seuil, DISPOSITIFS_CLES)
    if d.empty:
        return d.assign(part=pd.Series(dtype=float), secret=pd.Series(dtype=bool))
    st = privacy.apply_secrecy(d, ["base", "progresse"], seuil, margins="columns")
    out = st.values.copy()
    out["secret"] = st.mask["base"].to_numpy() | st.mask["progresse"].to_numpy()
    out["part"] = (out["progresse"] / out["base"]).where(~out["secret"] & (out["base"] > 0))
    return out


def _sorties(parcours: pd.DataFrame, seuil: int) -> pd.DataFrame:
    s = pathways.exits_by_motif(parcours)
    if s.empty:
        return s.assign(secret=pd.Series(dtype=bool), part=pd.Series(dtype=float))
    total = float(s["sorties"].sum())
    ss = privacy.secret_counts(s["sorties"].astype(float), seuil, total_known=True)
    s = s.assign(sorties=ss.values.to_numpy(), secret=ss.mask.to_numpy())
    s["part"] = (s["sorties"] / total).where(~s["secret"]) if total else np.nan
    return s


def build(territoire, params) -> RapportQ5:
    code = territoire.code_commune
    nom = str((territoire.commune or {}).get("nom") or code)
    signataire = statut_signataire(territoire)
    debut, fin = int(params.periode.debut), int(params.periode.fin)
    annee_cucs = int(params.annee_debut_cucs)
    seuil = int(params.seuil_secret)
    # an unknown status is never « hors CUCS »: the rows present are read (one caveat says so)
    lit = rapport.lit_programme(signataire)
    a_programme = lit and territoire.actions is not None and not territoire.actions.empty
    parcours = territoire.parcours if lit and territoire.parcours is not None else None
    a_parcours = parcours is not None and not parcours.empty
    if not a_parcours:
        parcours = pd.DataFrame(
            columns=territoire.parcours.columns if territoire.parcours is not None else []
        )

    noms = {
        str(c): str(n)
        for c, n in zip(territoire.quartiers["code_quartier"], territoire.quartiers["nom"], strict=True)
    }
    noms[code] = nom
    noms[pathways.COMMUNE] = "Actions à l'échelle de la commune"

    ins = pathways.insertion_actions(territoire.actions if a_programme else territoire.actions.iloc[0:0])
    couverture = _couverture(territoire, ins, debut, fin, annee_cucs, seuil)
    if not (signataire or (signataire is None and (a_programme or a_parcours))):
        # no CUCS supply to set against the needs: the needs remain, as comparison
        couverture = couverture.iloc[0:0]
    comb = pathways.combinations(parcours)
    r = RapportQ5(
        code_commune=code,
        nom_commune=nom,
        signataire=signataire,
        a_parcours=a_parcours,
        a_programme=a_programme,
        periode=(debut, fin),
        annee_debut_cucs=annee_cucs,
        seuil_secret=seuil,
        noms=noms,
        besoins=_besoins(territoire, annee_cucs, fin, seuil),
        couverture=couverture,
        offre_commune=_offre_commune(ins, territoire.financements, annee_cucs, fin, seuil),
        recouvrement=_recouvrement(parcours, seuil),
        combinaisons=_publier_liste(comb, seuil, total_publie=True),
        sequences=_sequences(parcours, seuil),
        points_rencontre=_points(parcours, seuil),
        transitions=pd.DataFrame(columns=["niveau_entree", "niveau_sortie", "effectif", "secret"]),
        transitions_totaux=pd.DataFrame(columns=["niveau_entree", "total", "secret"]),
        progression_resume={},
        progression_dispositifs=_progression_dispositifs(parcours, seuil),
        sorties=_sorties(parcours, seuil),
        population=rapport.population_commune(territoire),
        menages_multi_brut=pathways.multi_dispositif_households(parcours) if a_parcours else None,
    )
    if a_parcours:
        r.transitions, r.transitions_totaux, r.progression_resume = _transitions(parcours, seuil)
    _narrate(r)
    rapport.constat_contrat(r, territoire, r.a_programme)
    return r


# --- French sentences ------------------------------------------------------------------------------


def _menages(r: RapportQ5, n, secret: bool = False) -> str:
    return text.effectif(n, r.seuil_secret, "ménage", secret=secret)


#: Verb agreement after a count (singular below 2), indexed by ``n >= 2``.
N_A = ("n'a", "n'ont")
QU_COMPTE = ("qu'il compte", "qu'ils comptent")
SES = ("ses", "leurs")


def _places(x) -> str:
    """« 0,9 place », « 2,5 places », « 12 places » (one decimal unless whole)."""
    return text.pluriel(_arrondi(x, 1), "place")


def _nom(r: RapportQ5, code: str) -> str:
    return r.noms.get(code, code)


def _quartiers_sans_offre(r: RapportQ5) -> pd.DataFrame:
    c = r.couverture
    q = c[(c["niveau"] == "quartier") & c["demandeurs_pendant"].gt(0)]
    return q[q["places_pendant"].eq(0)]


#: A non-signatory commune has no « pendant le CUCS »: its years, named by the signatories' contract.
_PERIODE_SIGNATAIRES = " (période du CUCS des communes signataires)"


def legende_besoins(r: RapportQ5) -> str:
    """The caption of the needs table: « quartiers du CUCS » for a signatory, « quartiers de veille
    (comparaison) » and plain years for a non-signatory (it has no « pendant le CUCS »)."""
    annees = text.annee_periode(r.annee_debut_cucs, r.periode[1])
    if r.signataire:
        return f"Besoins des quartiers du CUCS et de la commune, {r.pendant}"
    if r.signataire is None:
        return f"Besoins des quartiers et de la commune, {annees} (statut de signataire inconnu)"
    return f"Besoins des quartiers de veille (comparaison) et de la commune, {annees}"


def _narrate_besoins(r: RapportQ5) -> None:
    b = r.besoins
    com = b[b["niveau"] == "commune"]
    if not com.empty:
        row = com.iloc[0]
        morceaux = []
        if not text.manquant(row["taux_chomage"]):
            base = (
                ""
                if text.manquant(row["chomeurs"]) or text.manquant(row["actifs"])
                else f" ({text.nombre(row['chomeurs'])} chômeurs sur {text.nombre(row['actifs'])} actifs par an)"
            )
            morceaux.append(f"un taux de chômage de {text.pourcentage(row['taux_chomage'])}{base}")
        if not text.manquant(row["part_sans_diplome"]):
            morceaux.append(
                f"{text.pourcentage(row['part_sans_diplome'])} des 15 ans et plus non scolarisés sans diplôme"
            )
        if not text.manquant(row["part_moins_25_ans"]):
            morceaux.append(f"{text.pourcentage(row['part_moins_25_ans'])} d'habitants de moins de 25 ans")
        if morceaux:
            r.dit(
                "besoins",
                f"De {r.annee_debut_cucs} à {r.periode[1]}{'' if r.signataire else _PERIODE_SIGNATAIRES}, "
                f"{r.nom_commune} compte en moyenne "
                f"{text.pluriel(round(float(row['demandeurs_emploi'])), 'demandeur')} d'emploi par an, "
                f"avec {text.liste_fr(morceaux)}.",
            )
    q = b[(b["niveau"] == "quartier") & b["taux_chomage"].notna()]
    if len(q) and not com.empty and not text.manquant(com.iloc[0]["taux_chomage"]):
        top = q.sort_values("taux_chomage", ascending=False).iloc[0]
        r.dit(
            "besoins",
            f"Le chômage est le plus élevé dans le quartier {'de veille ' if r.signataire is False else ''}"
            f"{_nom(r, top['code_territoire'])} : "
            f"{text.pourcentage(top['taux_chomage'])} ({text.nombre(top['chomeurs'])} chômeurs pour "
            f"{text.nombre(top['actifs'])} actifs par an en moyenne), contre "
            f"{text.pourcentage(com.iloc[0]['taux_chomage'])} dans la commune.",
        )
    if not r.decrit:
        return
    row = r.ligne_commune()
    if row is None:
        if r.a_programme:
            r.reserves.append(
                "Le nombre de demandeurs d'emploi de la commune n'est pas renseigné : l'offre d'insertion ne peut pas "
                "être rapportée aux besoins (non calculable)."
            )
        return
    if text.manquant(row["places_pour_100_pendant"]):
        r.constat(
            "besoins",
            f"{majuscule(r.pendant)}, le nombre de places d'insertion rapporté aux demandeurs d'emploi est soumis au "
            "secret statistique.",
        )
    else:
        phrase = (
            f"{majuscule(r.pendant)}, les actions d'insertion offrent en moyenne "
            f"{_places(row['places_par_an_pendant'])} par an pour "
            f"{text.pluriel(round(float(row['demandeurs_par_an_pendant'])), 'demandeur')} d'emploi, soit "
            f"{_places(row['places_pour_100_pendant'])} pour {POUR} demandeurs d'emploi"
        )
        if bool(row["avant_testable"]) and not text.manquant(row["places_pour_100_avant"]):
            phrase += (
                f", contre {text.nombre(row['places_pour_100_avant'], 1)} {r.avant} : "
                f"{text.nombre(row['ecart'], 1, signe=True)} {'place' if abs(row['ecart']) < 2 else 'places'} "
                f"pour {POUR}"
            )
        elif not bool(row["avant_testable"]):
            phrase += " ; aucune donnée avant le CUCS : l'évolution ne peut pas être testée"
        r.constat("besoins", phrase + ".")
        r.dit(
            "besoins",
            f"Lecture : pour {POUR} demandeurs d'emploi de la commune, les actions d'insertion prévoient "
            f"{_places(row['places_pour_100_pendant'])} par an ; une place peut accueillir plusieurs "
            "personnes dans l'année et une personne peut occuper plusieurs places.",
        )
        if bool(row["petite_base"]):
            r.constat("besoins", "Petite base : moins de 30 demandeurs d'emploi-années dans une période.")
    sans = _quartiers_sans_offre(r)
    q = r.couverture[(r.couverture["niveau"] == "quartier")]
    if len(q):
        if len(sans):
            noms_sans = text.liste_fr(_nom(r, c) for c in sans["code_territoire"])
            r.constat(
                "besoins",
                (
                    f"Les {text.nombre(len(q))} quartiers"
                    if len(sans) == len(q) and len(q) >= 2
                    else text.parmi(len(sans), len(q), "quartier")
                )
                + " "
                f"{N_A[len(sans) >= 2]} aucune action d'insertion propre {r.pendant} : "
                f"{noms_sans}"
                + (
                    f", alors {QU_COMPTE[len(sans) >= 2]} "
                    f"{text.pluriel(round(float(sans['demandeurs_par_an_pendant'].sum())), 'demandeur')} d'emploi par an."
                    if sans["demandeurs_par_an_pendant"].notna().all()
                    else "."
                ),
            )
        avec = q[q["places_pour_100_pendant"].gt(0)]
        if len(avec):
            top = avec.sort_values("places_pour_100_pendant", ascending=False).iloc[0]
            r.dit(
                "besoins",
                f"La couverture la plus forte est dans le quartier {_nom(r, top['code_territoire'])} : "
                f"{_places(top['places_pour_100_pendant'])} pour {POUR} demandeurs d'emploi "
                f"({_places(top['places_par_an_pendant'])} par an pour "
                f"{text.nombre(top['demandeurs_par_an_pendant'])} demandeurs d'emploi).",
            )
    oc = r.offre_commune
    if oc["actions_annees"]:
        places = (
            "un nombre de places soumis au secret statistique"
            if oc["places_par_an"] is None
            else f"{_places(oc['places_par_an'])} par an"
        )
        r.constat(
            "besoins",
            f"{majuscule(r.pendant)}, des actions d'insertion sans quartier désigné, à l'échelle de toute la "
            f"commune, offrent {places} ({text.pluriel(oc['actions_annees'], 'action-année', 'actions-années')}, "
            f"{text.euros(oc['montant_par_an'])} accordés par an) : elles comptent dans le total de la commune et ne "
            "sont pas réparties entre les quartiers.",
        )


def _narrate_recouvrement(r: RapportQ5) -> None:
    if not r.a_parcours:
        if r.decrit:
            r.reserves.append(
                "Les parcours des personnes accompagnées ne sont pas renseignés pour cette commune (données non "
                "disponibles) : ni les ménages suivis par plusieurs dispositifs, ni la progression des niveaux ne "
                "peuvent être décrits."
            )
        return
    rc = r.recouvrement
    multi = _menages(r, rc["menages_multi_dispositifs"] if not rc["multi_secret"] else 1)
    if rc.get("suivis_secondaire"):
        suivis = _menages(r, None, secret=True)
    else:
        suivis = _menages(r, rc["menages_suivis"] if not rc["suivis_secret"] else 1)
    part = "" if rc["part"] is None else f" ({text.pourcentage(rc['part'])})"
    r.constat(
        "recouvrement",
        f"Sur {suivis} suivis par au moins un dispositif, {multi} {'sont suivis' if not rc['multi_secret'] and (rc['menages_multi_dispositifs'] or 0) >= 2 else 'est suivi' if not rc['multi_secret'] else 'sont suivis'} "
        f"par au moins deux dispositifs différents{part}.",
    )
    c = r.combinaisons
    visibles = c[(c["combinaison"] != pathways.AUTRES) & ~c["secret"].astype(bool)]
    if len(visibles):
        top = visibles.iloc[0]
        r.constat(
            "recouvrement",
            f"La combinaison la plus fréquente associe {libelle_combinaison(top['combinaison'])} "
            f"({_menages(r, top['menages'])}).",
        )
    autres = c[c["combinaison"] == pathways.AUTRES]
    if len(autres):
        a = autres.iloc[0]
        r.dit(
            "recouvrement",
            f"{text.pluriel(a['n_combinaisons'], 'autre combinaison', 'autres combinaisons')} de moins de "
            f"{text.nombre(r.seuil_secret)} ménages chacune {'sont regroupées' if a['n_combinaisons'] >= 2 else 'est regroupée'} "
            f"sur une ligne « {AUTRES_COMBINAISONS} » ({_menages(r, a['menages'], bool(a['secret']))}).",
        )
    s = r.sequences
    sv = s[s["premier"].notna() & ~s["secret"].astype(bool)]
    if len(sv):
        top = sv.iloc[0]
        r.dit(
            "recouvrement",
            f"L'enchaînement le plus fréquent : une entrée par {libelle_dispositif(top['premier'])}, puis "
            f"{libelle_dispositif(top['suivant'])} ({_menages(r, top['menages'])}).",
        )
        r.dit("recouvrement", note_sequences(r))
    p = r.points_rencontre
    morceaux = []
    for row in p.to_dict(orient="records"):
        lib = text.minuscule_initiale(POINTS_LIBELLES[row["point"]])
        if row["menages_secret"]:
            morceaux.append(f"{lib} : {_menages(r, 1)}")
        elif row["menages_famille_secret"]:
            morceaux.append(
                f"{lib} : {_menages(r, row['menages'])}, dont {_menages(r, 1)} avec un autre membre suivi"
            )
        else:
            part = "" if text.manquant(row["part"]) else f" ({text.pourcentage(100 * row['part'])})"
            ont = "a" if row["menages_famille"] < 2 else "ont"
            morceaux.append(
                f"{lib} : {_menages(r, row['menages'])}, dont {text.nombre(row['menages_famille'])}{part} {ont} un "
                "autre membre suivi par un autre dispositif"
            )
    if morceaux:
        r.constat("recouvrement", "Points de rencontre de l'atelier — " + " ; ".join(morceaux) + ".")


def note_sequences(r: RapportQ5) -> str:
    """How the order table counts, so that it can be read beside the combinations table."""
    n3 = r.recouvrement.get("menages_3_plus")
    c = r.combinaisons
    publiees = c[(c["combinaison"] != pathways.AUTRES) & ~c["secret"].astype(bool)]
    toutes_autres = bool(len(publiees)) and bool((publiees["n_dispositifs"] <= 2).all())
    ou = (
        f"leurs combinaisons sont toutes comptées dans « {AUTRES_COMBINAISONS} »"
        if toutes_autres
        else "leurs combinaisons comptent tous leurs dispositifs"
    )
    phrase = (
        "Lecture de l'ordre d'entrée : pour chaque ménage suivi par plusieurs dispositifs, ses deux premiers "
        "dispositifs dans l'ordre d'entrée"
    )
    if n3 is None and not r.recouvrement.get("trois_secret"):
        return phrase + "."
    nb = _menages(r, n3 if n3 is not None else 1, secret=bool(r.recouvrement.get("trois_secret")))
    verbe = "en a" if n3 is not None and n3 < 2 else "en ont"
    return (
        f"{phrase} ; {nb} {verbe} trois ou plus : dans le tableau des combinaisons, {ou}, d'où des nombres "
        "différents d'un tableau à l'autre."
    )


def _narrate_progression(r: RapportQ5) -> None:
    if not r.a_parcours:
        return
    pr = r.progression_resume
    if pr.get("base") is None:
        r.constat(
            "progression",
            "Les parcours terminés avec les deux niveaux renseignés sont trop peu nombreux pour être publiés (secret statistique).",
        )
        return
    base = text.pluriel(pr["base"], "parcours terminé", "parcours terminés")
    morceaux = []
    for k, (sg, pl) in {
        "progresse": ("progresse", "progressent"),
        "stable": ("reste au même niveau", "restent au même niveau"),
        "regresse": ("recule", "reculent"),
    }.items():
        n = pr[k]
        if n is None:
            morceaux.append(f"un nombre soumis au secret statistique {pl}")
        elif k == "regresse" and n == 0:
            morceaux.append("aucun ne recule")
        else:
            morceaux.append(
                f"{text.nombre(n)} {sg if n < 2 else pl} ({text.pourcentage(100 * n / pr['base'])})"
            )
    r.constat(
        "progression",
        f"Sur {base} avec un niveau d'autonomie connu à l'entrée et à la sortie, {text.liste_fr(morceaux)}"
        + (
            " : l'absence totale de recul déclaré interroge la grille (un recul est-il seulement prévu ?) ; à "
            "vérifier avec les opérateurs."
            if pr["regresse"] == 0 and pr["base"]
            else "."
        ),
    )
    pdp = r.progression_dispositifs
    pdv = pdp[pdp["part"].notna() & pdp["base"].ge(r.seuil_secret)]
    if len(pdv) >= 2:
        hi = pdv.sort_values("part", ascending=False).iloc[0]
        lo = pdv.sort_values("part").iloc[0]
        r.dit(
            "progression",
            f"La part des parcours qui progressent va de {text.pourcentage(100 * lo['part'])} "
            f"({libelle_dispositif(lo['dispositif'])}, {text.nombre(lo['progresse'])} sur {text.nombre(lo['base'])}) à "
            f"{text.pourcentage(100 * hi['part'])} ({libelle_dispositif(hi['dispositif'])}, "
            f"{text.nombre(hi['progresse'])} sur {text.nombre(hi['base'])}).",
        )
    fusion = pdp[pdp["dispositif"] == pathways.AUTRES]
    if len(fusion):
        r.dit(
            "progression",
            f"Progression par dispositif : la ligne « {libelle_membres(fusion.iloc[0]['membres'])} » regroupe "
            f"des dispositifs de moins de {text.nombre(r.seuil_secret)} parcours terminés, pour que les autres, dont "
            "ceux des points de rencontre de l'atelier, soient publiés.",
        )
    if pdp["secret"].astype(bool).any():
        r.dit("progression", NOTE_S)
    s = r.sorties
    if s.empty:
        return
    if s["secret"].any():
        r.dit(
            "progression",
            "Les motifs de sortie des parcours terminés sont en partie soumis au secret statistique (voir le tableau).",
        )
        return
    total = int(s["sorties"].sum())
    detail = text.liste_fr(
        f"{text.minuscule_initiale(MOTIFS_SORTIE_LIBELLES.get(m, m))} {text.pourcentage(100 * p)}"
        for m, p in zip(s["motif_sortie"], s["part"], strict=True)
    )
    r.dit(
        "progression", f"Motifs de sortie des parcours terminés ({text.pluriel(total, 'sortie')}) : {detail}."
    )
    emploi = s[s["motif_sortie"].isin(["emploi", "formation"])]
    if total and len(emploi):
        n = int(emploi["sorties"].sum())
        par = {m: int(v) for m, v in zip(emploi["motif_sortie"], emploi["sorties"], strict=True)}
        detail = text.liste_fr(
            conjonction="ou",
            elements=(
                f"{'un emploi' if m == 'emploi' else 'une formation'} ({text.nombre(par[m])})"
                for m in ("emploi", "formation")
                if m in par
            ),
        )
        r.constat(
            "progression",
            f"{text.nombre(n)} {'sortie' if n < 2 else 'sorties'} sur {text.nombre(total)} "
            f"({text.pourcentage(100 * n / total)}) se {'fait' if n < 2 else 'font'} vers {detail}.",
        )


def _verdict(r: RapportQ5) -> dict:
    if r.inconnu_sans_donnees:
        return rapport.verdict_donnee_absente("Insertion", RAISON_SIGNATAIRE_INCONNU, SECTIONS["en_bref"])
    if r.signataire is False:
        return rapport.verdict_hors_cucs("Insertion", r.nom_commune, SECTIONS["en_bref"])
    row = r.ligne_commune()
    if not r.a_programme or row is None:
        return rapport.verdict_donnee_absente(
            "Insertion", "programmation ou demandeurs d'emploi absents des données", SECTIONS["besoins"]
        )
    sans = _quartiers_sans_offre(r)
    n_q = int((r.couverture["niveau"] == "quartier").sum())
    if n_q == 0:
        jugement = "offre d'insertion à l'échelle de la commune seulement"
    elif len(sans) == 0:
        jugement = "chaque quartier du CUCS a une offre d'insertion propre"
    elif len(sans) == n_q:
        jugement = (
            f"aucun des {text.nombre(n_q)} quartiers du CUCS n'a d'action d'insertion propre"
            if n_q >= 2
            else "le quartier n'a pas d'action d'insertion propre"
        )
    else:
        jugement = (
            f"{text.pluriel(len(sans), 'quartier du CUCS', 'quartiers du CUCS')} sur {text.nombre(n_q)} sans "
            "action d'insertion propre"
        )
    if text.manquant(row["places_pour_100_pendant"]):
        chiffre = "offre rapportée aux demandeurs d'emploi soumise au secret statistique"
    else:
        chiffre = f"{_places(row['places_pour_100_pendant'])} pour {POUR} demandeurs d'emploi pendant le CUCS"
        if bool(row["avant_testable"]) and not text.manquant(row["places_pour_100_avant"]):
            chiffre += f" ({text.nombre(row['places_pour_100_avant'], 1)} avant)"
        else:
            chiffre += " (avant non testable)"
    texte = f"Insertion : {jugement} ; {chiffre}"
    rc = r.recouvrement
    if r.a_parcours and rc["part"] is not None:
        texte += (
            f" ; {text.nombre(rc['menages_multi_dispositifs'])} ménages suivis sur "
            f"{text.nombre(rc['menages_suivis'])} ({text.pourcentage(rc['part'])}) le sont par plusieurs dispositifs"
        )
    elif not r.a_parcours:
        texte += " ; parcours : données non disponibles"
    return rapport.verdict(texte + ".", SECTIONS["besoins"])


def _debat(r: RapportQ5) -> None:
    sans = _quartiers_sans_offre(r)
    if len(sans):
        r.debat.append(
            f"{text.liste_fr(_nom(r, c) for c in sans['code_territoire'])} "
            f"{N_A[len(sans) >= 2]} aucune action d'insertion propre pendant le CUCS : {SES[len(sans) >= 2]} demandeurs "
            "d'emploi ont-ils accès aux actions de la commune ou des quartiers voisins, et faut-il y implanter une "
            "offre ?"
        )
    if r.a_parcours:
        r.debat.append(
            "Les actions qui suivent des membres d'une même famille (enfants au PRE, jeunes en chantier d'insertion, "
            "parents en atelier) se coordonnent-elles autour d'une approche globale de la famille, par exemple sur "
            "la parentalité ?"
        )
        r.debat.append(
            "Les niveaux d'autonomie sont-ils évalués avec la même grille par tous les opérateurs ? Sinon, quels "
            "critères communs adopter dans les bilans ?"
        )
    if r.signataire is False:
        r.debat.append(
            f"Hors CUCS : {r.nom_commune} n'a pas d'actions d'insertion du CUCS à mettre en débat ; ses besoins "
            "servent de comparaison."
        )
    if r.decrit:
        r.debat.append(
            "Quelles méthodes d'évaluation qualitatives (entretiens avec les personnes accompagnées et les "
            "opérateurs) mettre en commun pour compléter ces chiffres ?"
        )


#: How each section reads its numbers: the first sentence of a section of a signatory commune
#: (a non-signatory commune gets one « Hors CUCS » sentence instead, never this method).
METHODE = {
    "besoins": (
        "Les besoins viennent des indicateurs (demandeurs d'emploi, chômage, faible qualification, jeunes) ; "
        "l'offre, des actions d'insertion de la programmation (domaine « Emploi et insertion » et chantiers "
        "d'insertion) : leurs places (bénéficiaires prévus) et leurs crédits. Le rapport « places pour 100 "
        "demandeurs d'emploi » est calculé sur chaque période entière, avant puis pendant le CUCS. Les actions "
        "sans quartier désigné sont comptées pour toute la commune, jamais réparties entre les quartiers."
    ),
    "recouvrement": (
        "Un ménage est suivi par plusieurs dispositifs quand au moins deux dispositifs différents accompagnent "
        "l'un de ses membres ou plusieurs d'entre eux. Les combinaisons de moins de ménages que le seuil du secret "
        "statistique sont regroupées sur une ligne « Autres combinaisons » ; la figure ne montre que des nombres "
        "publiés."
    ),
    "progression": (
        "Niveau d'autonomie (1 à 4) déclaré à l'entrée et à la sortie de chaque parcours terminé ; progression, "
        "stabilité et recul sont comptés sur la même base : les parcours terminés dont les deux niveaux sont "
        "connus."
    ),
}


def texte_section(r: RapportQ5, section: str):
    """What a section says before its tables: its sentences, or the one sentence of its absence
    (« Hors CUCS : … », « Données non disponibles : … »), which the published page says once."""
    phrases = r.texte(section)
    if phrases:
        return display.liste(phrases)
    if r.signataire is False:
        return display.non_disponible(
            f"{r.nom_commune} n'a pas de parcours de personnes accompagnées par le CUCS à décrire ; ses besoins "
            "(section 1) servent de comparaison",
            motifs.HORS_CUCS,
        )
    if section == "besoins":
        return display.non_disponible(r.absence("besoins et offre d'insertion", "programme"))
    return display.non_disponible(r.absence("parcours des personnes accompagnées"))


def _narrate(r: RapportQ5) -> None:
    if r.inconnu_sans_donnees:
        r.constats.append(
            f"Données non disponibles : {RAISON_SIGNATAIRE_INCONNU} — les données ne disent pas si {r.nom_commune} a "
            "signé un CUCS, et aucune action ni aucun parcours de la commune n'y figure : l'offre d'insertion ne peut pas "
            "être décrite."
        )
        r.textes["besoins"] = [
            f"Données non disponibles : {RAISON_SIGNATAIRE_INCONNU} — l'offre d'insertion {text.de(r.nom_commune)} "
            "n'est pas rapportée aux besoins ; ses besoins sont donnés sans être rattachés au CUCS."
        ]
        _narrate_besoins(r)
    elif r.signataire is False:
        phrase = labels.phrase_hors_cucs(r.nom_commune, "le volet insertion du CUCS")
        r.constats.append(phrase)
        r.textes["besoins"] = [
            f"Hors CUCS : {r.nom_commune} n'a pas d'actions d'insertion du CUCS ; ses besoins sont donnés à titre de "
            "comparaison."
        ]
        r.reserves.append(
            f"{r.nom_commune} n'étant pas signataire, ses chiffres ne sont pas des résultats du CUCS ; elle sert de "
            "comparaison aux communes signataires."
        )
        _narrate_besoins(r)
    else:
        if r.signataire is None:  # rows present: described as usual, with one caveat
            r.reserves.append(rapport.reserve_signataire_inconnu(r.nom_commune))
        if not r.a_programme:
            r.constat(
                "besoins",
                f"La programmation CUCS {text.de(r.nom_commune)} est absente des données (données non disponibles) : "
                "l'offre d'insertion ne peut pas être décrite.",
            )
        r.dit("besoins", METHODE["besoins"])
        if r.a_parcours:
            r.dit("recouvrement", METHODE["recouvrement"])
            r.dit("progression", METHODE["progression"])
        _narrate_besoins(r)
        _narrate_recouvrement(r)
        _narrate_progression(r)
        r.reserves.append(
            "Les places sont les bénéficiaires prévus des actions d'insertion réalisées ou en cours (les années non "
            "pourvues ou abandonnées sont comptées à part) : une capacité annoncée, pas des personnes distinctes."
        )
        r.reserves.append(
            "Le rapprochement de l'offre et des besoins montre une tendance, pas un effet : un demandeur d'emploi peut "
            "être accompagné hors du CUCS (service public de l'emploi, mission locale)."
        )
        if r.a_parcours:
            r.reserves.append(
                "Les niveaux d'autonomie sont déclarés par les opérateurs à l'entrée et à la sortie, sans grille "
                "commune vérifiée : une progression est une appréciation, pas une mesure ; les parcours en cours ou "
                "sans niveau de sortie ne sont pas comptés."
            )
            r.reserves.append(
                f"Les nombres de ménages et de parcours inférieurs à {text.nombre(r.seuil_secret)} sont soumis au "
                "secret statistique ; les combinaisons plus rares sont regroupées."
            )
    _debat(r)
    _chiffres(r)
    r.verdict = _verdict(r)


def _chiffres(r: RapportQ5) -> None:
    row = r.ligne_commune()
    mprog, mparc = r.motif_programme, r.motif_parcours

    def val(c: str, dec: int = 1):
        if row is None or text.manquant(row[c]):
            return None
        return _arrondi(row[c], dec)

    def m_row(c: str) -> str | None:
        if mprog:
            return mprog
        if row is None:
            return motifs.NON_CALCULABLE
        if row["secret"]:
            return motifs.SECRET
        return None if (c.endswith("pendant") or row["avant_testable"]) else motifs.NON_CALCULABLE

    rc, pr = r.recouvrement, r.progression_resume
    sans = _quartiers_sans_offre(r)
    r.chiffres_cles = [
        chiffre_cle(
            "places_pour_100_demandeurs_pendant",
            "Places d'insertion pour 100 demandeurs d'emploi pendant le CUCS",
            val("places_pour_100_pendant"),
            "places",
            m_row("places_pour_100_pendant"),
        ),
        chiffre_cle(
            "places_pour_100_demandeurs_avant",
            "Places d'insertion pour 100 demandeurs d'emploi avant le CUCS",
            val("places_pour_100_avant"),
            "places",
            m_row("places_pour_100_avant"),
        ),
        chiffre_cle(
            "euros_insertion_par_demandeur",
            "Crédits accordés aux actions d'insertion par demandeur d'emploi et par an pendant le CUCS",
            val("euros_par_demandeur_pendant", 0),
            "€",
            m_row("euros_par_demandeur_pendant"),
        ),
        chiffre_cle(
            "quartiers_sans_offre_insertion",
            "Quartiers du CUCS sans action d'insertion propre pendant le CUCS",
            None if mprog or row is None else len(sans),
            "quartiers",
            mprog,
        ),
        chiffre_cle(
            "menages_multi_dispositifs",
            "Ménages suivis par au moins deux dispositifs",
            None if mparc else rc["menages_multi_dispositifs"],
            "ménages",
            mparc or motifs.SECRET,
        ),
        chiffre_cle(
            "part_menages_multi_dispositifs",
            "Part des ménages suivis qui le sont par plusieurs dispositifs",
            None if mparc or rc["part"] is None else _arrondi(rc["part"], 1),
            "%",
            mparc or motifs.SECRET,
        ),
        chiffre_cle(
            "part_parcours_progression",
            "Parcours terminés dont le niveau d'autonomie progresse",
            None if mparc or pr.get("part_progresse") is None else _arrondi(pr["part_progresse"], 1),
            "%",
            mparc or motifs.SECRET,
        ),
    ]


# --- views ---------------------------------------------------------------------------------------


COLONNES_BESOINS = {
    "territoire": ("Territoire", "texte"),
    "demandeurs_emploi": ("Demandeurs d'emploi par an", "nombre"),
    "chomeurs": ("Chômeurs par an", "nombre"),
    "actifs": ("Actifs par an", "nombre"),
    "taux_chomage": ("Taux de chômage", "pourcentage"),
    "taux_chomage_jeunes": (
        "Chômage des moins de 25 ans (chômeurs sur actifs de moins de 25 ans, par an)",
        "texte",
    ),
    "part_sans_diplome": ("Sans diplôme (sur les 15 ans et plus non scolarisés, par an)", "texte"),
    "part_moins_25_ans": ("Moins de 25 ans (sur la population)", "texte"),
}
#: The rates of the needs table written with their base, « 41,4 % (123 sur 297) ».
TAUX_AVEC_BASE = ("taux_chomage_jeunes", "part_sans_diplome", "part_moins_25_ans")


def _taux_avec_base(df: pd.DataFrame, taux: str) -> list[str]:
    num, den = pathways.TAUX_BESOINS[taux]

    def cache(c: str) -> pd.Series:
        return df[f"{c}_secret"].astype(bool) if f"{c}_secret" in df else pd.Series(False, index=df.index)

    sec = cache(taux) | cache(num) | cache(den)
    return [
        text.SECRET
        if s
        else text.ND
        if text.manquant(t)
        else f"{text.pourcentage(t)} ({text.nombre(n)} sur {text.nombre(d)})"
        for t, n, d, s in zip(df[taux], df[num], df[den], sec, strict=True)
    ]


def vue_besoins(r: RapportQ5) -> pd.DataFrame:
    """Needs of each quartier and of the commune during the contract (pooled rates)."""
    b = r.besoins
    df = None
    if not b.empty:
        df = b.copy()
        for t in TAUX_AVEC_BASE:
            df[t] = _taux_avec_base(df, t)
        for c in COLONNES_BESOINS:
            if c not in TAUX_AVEC_BASE and f"{c}_secret" in df and df[f"{c}_secret"].any():
                df[c] = display.avec_secret(df[c], df[f"{c}_secret"])
        df["territoire"] = [
            _nom(r, c) + (" (commune)" if n == "commune" else "")
            for c, n in zip(df["code_territoire"], df["niveau"], strict=True)
        ]
        df["_o"] = (df["niveau"] == "commune").astype(int)
        df = df.sort_values(["_o", "territoire"], kind="stable")
    colonnes = {
        c: (f"{h}, {text.annee_periode(r.annee_debut_cucs, r.periode[1])}" if c == "taux_chomage" else h, u)
        for c, (h, u) in COLONNES_BESOINS.items()
    }
    return display.vue(
        df, colonnes, vide=display.Absence("indicateurs de besoins pour cette commune", motifs.DONNEE_ABSENTE)
    )


COLONNES_COUVERTURE = {
    "territoire": ("Territoire", "texte"),
    "demandeurs_par_an_avant": ("Demandeurs d'emploi par an, avant", "nombre"),
    "places_par_an_avant": ("Places par an (bénéficiaires prévus), avant", "decimal"),
    "places_pour_100_avant": ("Places pour 100 demandeurs, avant", "decimal"),
    "demandeurs_par_an_pendant": ("Demandeurs d'emploi par an, pendant", "nombre"),
    "places_par_an_pendant": ("Places par an (bénéficiaires prévus), pendant", "decimal"),
    "places_pour_100_pendant": ("Places pour 100 demandeurs, pendant", "decimal"),
    "ecart": ("Écart (points : places pour 100 demandeurs)", "points"),
    "petite_base": ("Petite base", "oui_non"),
}


def _territoire(r: RapportQ5, c: pd.DataFrame) -> list[str]:
    return [
        f"{_nom(r, code)} (toute la commune, actions sans quartier comprises)"
        if n == "commune"
        else _nom(r, code)
        for code, n in zip(c["code_territoire"], c["niveau"], strict=True)
    ]


def vue_couverture(r: RapportQ5) -> pd.DataFrame:
    """Job seekers, places and places per 100 job seekers per territory, before and during."""
    c = r.couverture
    df = None
    if not c.empty:
        df = c.assign(territoire=_territoire(r, c))
        for per in ("avant", "pendant"):
            m = df[f"secret_{per}"].astype(bool)
            if m.any():
                for col in ("demandeurs_par_an", "places_par_an", "places_pour_100"):
                    df[f"{col}_{per}"] = display.avec_secret(df[f"{col}_{per}"], m)
    avant, pendant = r.avant, r.pendant
    colonnes = {
        k: (h.replace(", avant", f", {avant}").replace(", pendant", f", {pendant}"), u)
        for k, (h, u) in COLONNES_COUVERTURE.items()
    }
    return display.vue(
        df, colonnes, vide=r.absence("offre d'insertion rapportée aux demandeurs d'emploi", "programme")
    )


COLONNES_OFFRE = {
    "territoire": ("Territoire", "texte"),
    "euros_par_an_avant": ("Crédits accordés par an, avant (euros courants)", "euros"),
    "euros_par_an_pendant": ("Crédits accordés par an, pendant (euros courants)", "euros"),
    "euros_par_demandeur_pendant": ("Crédits par demandeur d'emploi et par an, pendant", "euros"),
}


def vue_offre(r: RapportQ5) -> pd.DataFrame:
    """Amounts granted to the insertion actions per territory, and per job seeker."""
    c = r.couverture
    df = None if c.empty else c.assign(territoire=_territoire(r, c))
    avant, pendant = r.avant, r.pendant
    colonnes = {
        k: (h.replace(", avant", f", {avant}").replace(", pendant", f", {pendant}"), u)
        for k, (h, u) in COLONNES_OFFRE.items()
    }
    return display.vue(df, colonnes, vide=r.absence("crédits des actions d'insertion", "programme"))


def vue_combinaisons(r: RapportQ5) -> pd.DataFrame:
    """Combinations of dispositifs of the multi-dispositif households (after secrecy)."""
    c = r.combinaisons
    df = None
    if r.a_parcours and not c.empty:
        df = pd.DataFrame(
            {
                "combinaison": [libelle_combinaison(x) for x in c["combinaison"]],
                "n": [
                    f"2 ou plus ({text.pluriel(k, 'combinaison')})"
                    if x == pathways.AUTRES
                    else text.nombre(n)
                    for x, n, k in zip(c["combinaison"], c["n_dispositifs"], c["n_combinaisons"], strict=True)
                ],
                "menages": display.avec_secret(c["menages"], c["secret"]).tolist(),
            }
        )
    return display.vue(
        df,
        {
            "combinaison": ("Dispositifs du ménage", "texte"),
            "n": ("Nombre de dispositifs", "texte"),
            "menages": ("Ménages", "nombre"),
        },
        vide=r.absence("ménages suivis par plusieurs dispositifs"),
    )


def vue_sequences(r: RapportQ5) -> pd.DataFrame:
    """The first step of the sequences: dispositif entered first → the next one (after secrecy)."""
    s = r.sequences
    df = None
    if r.a_parcours and not s.empty:
        autres = s["premier"].isna()
        df = pd.DataFrame(
            {
                "premier": [
                    AUTRES_ENCHAINEMENTS if a else libelle_dispositif(p)
                    for a, p in zip(autres, s["premier"], strict=True)
                ],
                "suivant": [
                    "" if a else libelle_dispositif(x) for a, x in zip(autres, s["suivant"], strict=True)
                ],
                "menages": display.avec_secret(s["menages"], s["secret"]).tolist(),
            }
        )
    return display.vue(
        df,
        {
            "premier": ("Premier dispositif", "texte"),
            "suivant": ("Dispositif suivant", "texte"),
            "menages": ("Ménages", "nombre"),
        },
        vide=r.absence("ordre d'entrée dans les dispositifs"),
    )


def vue_points_rencontre(r: RapportQ5) -> pd.DataFrame:
    p = r.points_rencontre
    df = None
    if r.a_parcours and not p.empty:
        df = pd.DataFrame(
            {
                "point": [POINTS_LIBELLES[x] for x in p["point"]],
                "menages": display.avec_secret(p["menages"], p["menages_secret"]).tolist(),
                "famille": display.avec_secret(p["menages_famille"], p["menages_famille_secret"]).tolist(),
                "part": display.avec_secret(p["part"], p["part_secret"]).tolist(),
            }
        )
    return display.vue(
        df,
        {
            "point": ("Point de rencontre", "texte"),
            "menages": ("Ménages", "nombre"),
            "famille": ("Dont un autre membre suivi par un autre dispositif", "nombre"),
            "part": ("Part", "part"),
        },
        vide=r.absence("points de rencontre entre dispositifs"),
    )


def vue_transitions(r: RapportQ5) -> pd.DataFrame:
    """Entry level (rows) × exit level (columns), after secrecy, with the total per entry level."""
    t = r.transitions
    df = None
    colonnes = {"niveau": ("Niveau à l'entrée", "texte")}
    if r.a_parcours and not t.empty:
        t = t.assign(v=display.avec_secret(t["effectif"], t["secret"]).tolist())
        wide = t.pivot(index="niveau_entree", columns="niveau_sortie", values="v")
        tot = r.transitions_totaux.set_index("niveau_entree")
        df = pd.DataFrame({"niveau": [f"Niveau {int(i)}" for i in wide.index]})
        for c in wide.columns:
            df[f"s{int(c)}"] = wide[c].to_numpy()
            colonnes[f"s{int(c)}"] = (f"Parcours sortis à {int(c)}", "nombre")
        df["total"] = display.avec_secret(tot["total"], tot["secret"]).tolist()
        colonnes["total"] = ("Parcours terminés", "nombre")
    return display.vue(df, colonnes, vide=r.absence("niveaux à l'entrée et à la sortie"))


def vue_progression_dispositifs(r: RapportQ5) -> pd.DataFrame:
    d = r.progression_dispositifs
    df = None
    if r.a_parcours and not d.empty:
        sec = d["secret"].astype(bool)
        df = pd.DataFrame(
            {
                "dispositif": [
                    libelle_membres(m) if x == pathways.AUTRES else libelle_dispositif(x)
                    for x, m in zip(d["dispositif"], d["membres"], strict=True)
                ],
                "base": display.avec_secret(d["base"], sec).tolist(),
                "progresse": display.avec_secret(d["progresse"], sec).tolist(),
                "part": display.avec_secret(d["part"], sec).tolist(),
            }
        )
    return display.vue(
        df,
        {
            "dispositif": ("Dispositif", "texte"),
            "base": ("Parcours terminés évalués", "nombre"),
            "progresse": ("Dont parcours en progrès", "nombre"),
            "part": ("Part en progrès", "part"),
        },
        vide=r.absence("progression des niveaux par dispositif"),
    )


def vue_sorties(r: RapportQ5) -> pd.DataFrame:
    s = r.sorties
    df = None
    if r.a_parcours and not s.empty:
        sec = s["secret"].astype(bool)
        df = pd.DataFrame(
            {
                "motif": [MOTIFS_SORTIE_LIBELLES.get(m, majuscule(m)) for m in s["motif_sortie"]],
                "sorties": display.avec_secret(s["sorties"], sec).tolist(),
                "part": display.avec_secret(s["part"], sec).tolist(),
            }
        )
    return display.vue(
        df,
        {
            "motif": ("Motif de sortie", "texte"),
            "sorties": ("Parcours sortis", "nombre"),
            "part": ("Part des sorties", "part"),
        },
        vide=r.absence("sorties par motif"),
    )


# --- figures -------------------------------------------------------------------------------------


def figure_couverture(r: RapportQ5):
    """Horizontal bars: places per 100 job seekers per quartier during the contract, the
    commune's value as a reference line (hidden values are not drawn)."""
    from cucs_analysis.present import plots

    c = r.couverture
    q = c[(c["niveau"] == "quartier") & c["places_pour_100_pendant"].notna()] if not c.empty else c
    if q.empty:
        return None
    com = r.ligne_commune()
    ref = None if com is None else com["places_pour_100_pendant"]
    data = pd.DataFrame(
        {"quartier": [_nom(r, x) for x in q["code_territoire"]], "v": q["places_pour_100_pendant"]}
    )
    fig = plots.barres_horizontales(
        data,
        "quartier",
        "v",
        f"Places d'insertion pour {POUR} demandeurs d'emploi, {text.annee_periode(r.annee_debut_cucs, r.periode[1])}",
        f"Places pour {POUR} demandeurs d'emploi",
        decimales=1,
        reference=ref,
        libelle_reference=None if ref is None else f"{r.nom_commune} (toute la commune)",
    )
    det = text.liste_fr(
        f"{a} : {text.nombre(b, 1)}" for a, b in zip(data["quartier"], data["v"], strict=True)
    )
    return plots.set_alt(
        fig,
        f"Barres horizontales : places des actions d'insertion pour {POUR} demandeurs d'emploi, par quartier de "
        f"{r.nom_commune}, {r.pendant}. {det}"
        + ("" if ref is None or text.manquant(ref) else f". Toute la commune : {text.nombre(ref, 1)}")
        + ".",
    )


def figure_combinaisons(r: RapportQ5):
    """UpSet-style figure drawn from the published counts only: one bar per published
    combination (and the « autres combinaisons » line), and under it the matrix of the
    dispositifs each combination holds."""
    import matplotlib.pyplot as plt

    from cucs_analysis.present import plots

    c = r.combinaisons
    if not r.a_parcours or c.empty:
        return None
    c = c[~c["secret"].astype(bool)].reset_index(drop=True)
    if c.empty:
        return None
    codes = [x for x in c["combinaison"] if x != pathways.AUTRES]
    disps = sorted(
        {d for x in codes for d in x.split(pathways.SEPARATEUR)},
        key=lambda d: DISPOSITIFS.index(d) if d in DISPOSITIFS else 99,
    )
    fig, (ax, am) = plt.subplots(
        2,
        1,
        figsize=(9, 4 + 0.35 * len(disps)),
        sharex=True,
        gridspec_kw={"height_ratios": [3, max(1, 0.5 * len(disps))]},
    )
    x = np.arange(len(c))
    bars = ax.bar(x, c["menages"].astype(float), color=plots.PALETTE[0])
    ax.bar_label(bars, labels=[text.nombre(v) for v in c["menages"]], padding=2, fontsize=9)
    ax.set_ylabel("Ménages")
    ax.set_title("Ménages suivis par plusieurs dispositifs, par combinaison")
    plots.franciser_axes(ax, x=None, y="nombre")
    ax.grid(axis="x", visible=False)
    for i, code in enumerate(c["combinaison"]):
        if code == pathways.AUTRES:
            am.text(
                i,
                (len(disps) - 1) / 2 if disps else 0,
                "autres",
                ha="center",
                va="center",
                fontsize=8,
                rotation=90,
            )
            continue
        membres = code.split(pathways.SEPARATEUR)
        ys = [j for j, d in enumerate(disps) if d in membres]
        am.scatter([i] * len(disps), range(len(disps)), color="#d0d0d0", s=40, zorder=1)
        am.scatter([i] * len(ys), ys, color=plots.PALETTE[0], s=60, zorder=2)
        if len(ys) > 1:
            am.plot([i, i], [min(ys), max(ys)], color=plots.PALETTE[0], linewidth=2, zorder=1)
    am.set_yticks(range(len(disps)), [libelle_dispositif(d) for d in disps])
    am.set_xticks(x, [""] * len(x))
    am.set_ylim(-0.5, len(disps) - 0.5)
    am.invert_yaxis()
    am.grid(False)
    for side in ("top", "right", "bottom"):
        am.spines[side].set_visible(False)
    fig.tight_layout()
    det = text.liste_fr(
        f"{libelle_combinaison(k)} : {text.nombre(v)}"
        for k, v in zip(c["combinaison"], c["menages"], strict=True)
    )
    return plots.set_alt(
        fig,
        f"Diagramme d'ensembles (type UpSet) : nombre de ménages de {r.nom_commune} suivis par chaque combinaison de "
        f"dispositifs, les combinaisons de moins de {r.seuil_secret} ménages regroupées. {det}.",
    )


def figure_transitions(r: RapportQ5):
    """Heatmap of the entry × exit levels (published counts; secret cells blank)."""
    from cucs_analysis.present import plots

    t = r.transitions
    if not r.a_parcours or t.empty:
        return None
    wide = t.pivot(index="niveau_entree", columns="niveau_sortie", values="effectif").astype(float)
    wide.index = [f"Niveau {int(i)}" for i in wide.index]
    wide.columns = [f"Niveau {int(c)}" for c in wide.columns]
    fig = plots.heatmap(
        wide,
        "Niveau d'autonomie à l'entrée et à la sortie (parcours terminés)",
        "Niveau à la sortie",
        "Niveau à l'entrée",
    )
    pr = r.progression_resume
    lect = (
        ""
        if pr.get("part_progresse") is None
        else f" {text.pourcentage(pr['part_progresse'])} des parcours terminés progressent."
    )
    return plots.set_alt(
        fig,
        f"Carte de chaleur : nombre de parcours terminés à {r.nom_commune} par niveau d'autonomie à l'entrée (lignes) "
        f"et à la sortie (colonnes) ; les cases soumises au secret statistique sont vides.{lect}",
    )


def sources(r: RapportQ5, params, metadata) -> list[str]:
    return [
        rapport.source_donnees(metadata),
        (
            f"Périodes comparées : {rapport.periodes_comparees(r)}"
            if r.decrit
            else f"Années des besoins : {text.annee_periode(r.annee_debut_cucs, r.periode[1])}{_PERIODE_SIGNATAIRES}"
        )
        + " ; chaque rapport est calculé sur la période entière "
        "(somme des places sur somme des demandeurs d'emploi des mêmes années), jamais entre une première et une "
        "dernière année ; l'écart affiché est calculé à partir des valeurs affichées.",
        "Offre d'insertion : actions du domaine « Emploi et insertion » et chantiers d'insertion, repérées par leur "
        "domaine et leur dispositif dans la programmation (jamais par leur intitulé). Places : bénéficiaires prévus des années réalisées ou en cours ; crédits : "
        "montants accordés par tous les financeurs. Une action sans quartier est comptée à l'échelle de la commune, "
        "jamais répartie entre les quartiers.",
        "Besoins : demandeurs d'emploi en fin de mois (catégories A, B, C), taux de chômage (chômeurs sur actifs), "
        "chômage des moins de 25 ans, part des 15 ans et plus non scolarisés sans diplôme, part des moins de 25 ans, "
        "chaque taux sur sa base (somme des numérateurs sur somme des dénominateurs de la période).",
        "Ménages suivis par plusieurs dispositifs : ménages (identifiant pseudonyme) ayant au moins deux dispositifs "
        "différents dans les parcours ; l'ordre est celui de la première entrée dans chaque dispositif ; dans une "
        "combinaison, les dispositifs sont écrits dans l'ordre alphabétique.",
        "Progression : parcours terminés (date de sortie connue) avec un niveau d'autonomie (1 à 4) renseigné à "
        "l'entrée et à la sortie ; niveaux déclarés par les opérateurs.",
        rapport.source_secret(params.seuil_secret) + " ; les combinaisons, enchaînements et dispositifs plus "
        "rares sont regroupés, et une case est masquée en plus quand un total permettrait de la retrouver. "
        + NOTE_S,
    ]
