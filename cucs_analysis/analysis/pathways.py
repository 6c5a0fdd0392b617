"""Insertion needs and supply, households followed by several dispositifs, progression of
levels (q5). Pure functions: DataFrames of codes and numbers in, DataFrames or dicts out.

Definitions (docs/rules.md, « Insertion (q5) »):

- **Insertion supply**: the action-years whose `thematique` is in `THEMATIQUES_INSERTION` or whose
  `dispositif` is in `DISPOSITIFS_INSERTION` (code lists, never titles). Places = planned
  beneficiaries (`beneficiaires_prevus`) of the action-years that ran or are running (statut in
  `STATUTS_OFFRE`); unfilled (`non pourvue`) and abandoned years are counted apart. Budget = the
  amounts granted (`financements.montant_accorde`, every funder) to those action-years. An action
  without a quartier is commune-wide: it is kept on its own line (`COMMUNE`), never spread over
  the quartiers.
- **Needs**: from the indicators, per territory × year: job seekers (`demandeurs_emploi`, a
  count), the unemployed and the labour force (numerator and denominator of `taux_chomage`),
  the young unemployed and young labour force (`taux_chomage_jeunes`), people without a diploma
  and the non-schooled population aged 15+ (`part_sans_diplome`), under-25s and population
  (`part_moins_25_ans`).
- **Coverage**: places per 100 job seekers, pooled over a period (Σ places / Σ job seekers over
  the years with a job-seeker count: both sums on the same years).
- **Multi-dispositifs household**: a distinct `id_menage` with at least two distinct
  `dispositif` in `parcours` (the planted truth `menages_multi_dispositifs`).
- **Sequence**: the household's dispositifs ordered by their first entry date (ties by code).
- **Progression**: over the episodes that ended (`date_sortie` known) with both levels known:
  `niveau_sortie` above / equal to / below `niveau_entree`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cucs_analysis.analysis import privacy, trends
from cucs_analysis.data.schema import DISPOSITIFS, MOTIFS_SORTIE

__all__ = [
    "AUTRES",
    "COMMUNE",
    "DISPOSITIFS_INSERTION",
    "NIVEAUX_AUTONOMIE",
    "POINTS_RENCONTRE",
    "SEPARATEUR",
    "STATUTS_OFFRE",
    "THEMATIQUES_INSERTION",
    "combinations",
    "coverage",
    "exits_by_motif",
    "household_dispositifs",
    "insertion_actions",
    "meeting_points",
    "multi_dispositif_households",
    "needs_by_territory_year",
    "needs_summary",
    "overlap",
    "progression_by_dispositif",
    "progression_summary",
    "published_combinations",
    "sequences",
    "supply_by_territory_year",
    "transition_matrix",
]

#: Domains (actions.thematique) whose actions form the insertion supply.
THEMATIQUES_INSERTION = ("emploi",)
#: Dispositifs that belong to the insertion supply whatever their domain.
DISPOSITIFS_INSERTION = ("chantier d'insertion",)
#: Statuses of the action-years whose places were offered (ran, or running).
STATUTS_OFFRE = ("réalisée", "programmée")
#: The territory code of commune-wide actions (no quartier): a line of its own.
COMMUNE = "commune"
#: The line that groups the combinations below the secrecy threshold.
AUTRES = "autres"
#: Separator of the codes of a combination or a sequence (a code never contains it).
SEPARATEUR = "|"
#: Levels of autonomy / qualification recorded at entry and exit (1 to 4).
NIVEAUX_AUTONOMIE = (1, 2, 3, 4)
#: The workshop's « points de rencontre »: who meets which dispositif (tranches d'âge × dispositif).
POINTS_RENCONTRE = {
    "pre_enfants": (("0-15",), "PRE"),
    "chantier_jeunes": (("16-25",), "chantier d'insertion"),
    "ateliers_parents": (("26-44", "45-64"), "atelier parents"),
}
_ORDRE_DISPOSITIFS = {d: i for i, d in enumerate(DISPOSITIFS)}


# --- needs and supply -------------------------------------------------------------------------


def insertion_actions(
    actions: pd.DataFrame,
    thematiques: Sequence[str] = THEMATIQUES_INSERTION,
    dispositifs: Sequence[str] = DISPOSITIFS_INSERTION,
) -> pd.DataFrame:
    """The action-years of the insertion supply (by codes: domain or dispositif)."""
    if actions is None or actions.empty or not {"thematique", "dispositif"} <= set(actions.columns):
        return pd.DataFrame(columns=[] if actions is None else actions.columns)
    keep = actions["thematique"].isin(list(thematiques)) | actions["dispositif"].isin(list(dispositifs))
    return actions.loc[keep.fillna(False).astype(bool)].reset_index(drop=True)


SUPPLY_COLUMNS = [
    "code_territoire",
    "annee",
    "actions",
    "places",
    "montant_accorde",
    "actions_non_pourvues",
    "places_non_pourvues",
]


def supply_by_territory_year(actions: pd.DataFrame, financements: pd.DataFrame | None) -> pd.DataFrame:
    """Insertion supply per territory (quartier, or `COMMUNE` for actions without a quartier) ×
    year: distinct actions offered, places (planned beneficiaries of the offered years), amounts
    granted to them, and apart the unfilled or abandoned action-years and their planned places.

    `actions` are the insertion action-years (`insertion_actions`)."""
    if actions is None or actions.empty:
        return pd.DataFrame(columns=SUPPLY_COLUMNS)
    a = actions.copy()
    q = a["code_quartier"].astype("string") if "code_quartier" in a else pd.Series(pd.NA, index=a.index)
    a["code_territoire"] = q.where(q.notna() & (q.str.strip() != ""), COMMUNE).astype(str)
    a["annee"] = a["annee"].astype(int)
    offre = a["statut"].isin(STATUTS_OFFRE).fillna(False).astype(bool)
    prevus = pd.to_numeric(a["beneficiaires_prevus"], errors="coerce").astype(float).fillna(0.0)
    a["places"] = prevus.where(offre, 0.0)
    a["places_non_pourvues"] = prevus.where(~offre, 0.0)
    a["offre"] = offre
    a["non_offre"] = ~offre
    montant = pd.Series(0.0, index=a.index)
    if financements is not None and not financements.empty:
        f = financements.assign(
            montant_accorde=pd.to_numeric(financements["montant_accorde"], errors="coerce")
        )
        f = (
            f.assign(annee=f["annee"].astype(int))
            .groupby(["id_action", "annee"], as_index=False)["montant_accorde"]
            .sum(min_count=1)
        )
        montant = (
            a[["id_action", "annee"]]
            .merge(f, on=["id_action", "annee"], how="left")["montant_accorde"]
            .fillna(0.0)
        )
        montant.index = a.index
    a["montant_accorde"] = montant.where(offre, 0.0)
    g = a.groupby(["code_territoire", "annee"], as_index=False).agg(
        actions=("offre", "sum"),
        places=("places", "sum"),
        montant_accorde=("montant_accorde", "sum"),
        actions_non_pourvues=("non_offre", "sum"),
        places_non_pourvues=("places_non_pourvues", "sum"),
    )
    g[["actions", "actions_non_pourvues"]] = g[["actions", "actions_non_pourvues"]].astype("int64")
    return g[SUPPLY_COLUMNS]


#: Needs measured from the indicators: output column → (indicator, field of the indicator row).
BESOINS = {
    "demandeurs_emploi": ("demandeurs_emploi", "valeur"),
    "chomeurs": ("taux_chomage", "numerateur"),
    "actifs": ("taux_chomage", "denominateur"),
    "jeunes_chomeurs": ("taux_chomage_jeunes", "numerateur"),
    "jeunes_actifs": ("taux_chomage_jeunes", "denominateur"),
    "sans_diplome": ("part_sans_diplome", "numerateur"),
    "non_scolarises": ("part_sans_diplome", "denominateur"),
    "moins_25_ans": ("part_moins_25_ans", "numerateur"),
    "population": ("part_moins_25_ans", "denominateur"),
}


def needs_by_territory_year(
    indicateurs: pd.DataFrame, niveaux: Sequence[str] = ("quartier", "commune")
) -> pd.DataFrame:
    """Needs per territory × year (columns of `BESOINS`; NaN where the indicator or its counts
    are missing or secret). `niveau` says whether the territory is a quartier or the commune."""
    cols = ["niveau", "code_territoire", "annee", *BESOINS]
    if indicateurs is None or indicateurs.empty:
        return pd.DataFrame(columns=cols)
    i = indicateurs[indicateurs["niveau"].isin(list(niveaux))]
    if "secret" in i:
        i = i[~i["secret"].fillna(False).astype(bool)]
    parts = []
    for col, (ind, champ) in BESOINS.items():  # nine indicator fields
        if champ not in i.columns:
            continue
        s = i.loc[i["indicateur"] == ind, ["niveau", "code_territoire", "annee", champ]].rename(
            columns={champ: col}
        )
        s[col] = pd.to_numeric(s[col], errors="coerce").astype(float)
        parts.append(s.set_index(["niveau", "code_territoire", "annee"])[col])
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, axis=1).reset_index()
    for c in BESOINS:
        if c not in out:
            out[c] = np.nan
    out["annee"] = out["annee"].astype(int)
    out["code_territoire"] = out["code_territoire"].astype(str)
    return out[cols].sort_values(["niveau", "code_territoire", "annee"]).reset_index(drop=True)


def coverage(
    needs: pd.DataFrame,
    supply: pd.DataFrame,
    *,
    annee_debut_cucs: int,
    debut: int,
    fin: int,
    base_min: float = 30,
) -> pd.DataFrame:
    """Places per 100 job seekers and amount granted per job seeker, per territory, before and
    during the contract, on one base: the years where the territory's job seekers are counted
    (a year without an insertion action there is a measured zero). `needs` rows are quartiers
    or the commune (column `niveau`); `supply` rows (`supply_by_territory_year`) are joined on
    the quartier code, and for the commune on every line of the commune (quartiers and
    commune-wide actions: the commune's job seekers are all of them).

    Returns one row per territory and measure (`mesure`: ``places_pour_100`` or
    ``euros_par_demandeur``) with the columns of `trends.compare_periods` (numerator = places
    or euros, denominator = job-seeker-years)."""
    cols = ["niveau", "code_territoire", "mesure", *trends.PERIODE_COLUMNS]
    if needs is None or needs.empty:
        return pd.DataFrame(columns=cols)
    n = needs.loc[
        needs["demandeurs_emploi"].notna(), ["niveau", "code_territoire", "annee", "demandeurs_emploi"]
    ]
    if n.empty:
        return pd.DataFrame(columns=cols)
    s = supply if supply is not None else pd.DataFrame(columns=SUPPLY_COLUMNS)
    s = s.assign(annee=s["annee"].astype(int)) if len(s) else s
    par_q = s[["code_territoire", "annee", "places", "montant_accorde"]]
    tout = s.groupby("annee", as_index=False)[["places", "montant_accorde"]].sum() if len(s) else par_q
    q = n[n["niveau"] == "quartier"].merge(par_q, on=["code_territoire", "annee"], how="left")
    c = n[n["niveau"] == "commune"].merge(
        tout[["annee", "places", "montant_accorde"]], on="annee", how="left"
    )
    d = pd.concat([q, c], ignore_index=True)
    d[["places", "montant_accorde"]] = d[["places", "montant_accorde"]].astype(float).fillna(0.0)
    kw = {
        "annee_debut_cucs": annee_debut_cucs,
        "debut": debut,
        "fin": fin,
        "by": ["niveau", "code_territoire"],
    }
    p = trends.compare_periods(
        d, numerateur="places", denominateur="demandeurs_emploi", echelle=100, base_min=base_min, **kw
    ).assign(mesure="places_pour_100")
    e = trends.compare_periods(
        d, numerateur="montant_accorde", denominateur="demandeurs_emploi", echelle=1, base_min=base_min, **kw
    ).assign(mesure="euros_par_demandeur")
    e["petite_base"] = p["petite_base"].to_numpy() if len(p) == len(e) else e["petite_base"]
    return pd.concat([p, e], ignore_index=True)[cols]


# --- households followed by several dispositifs -----------------------------------------------


def _ordre(dispositif: pd.Series) -> pd.Series:
    return dispositif.map(_ORDRE_DISPOSITIFS).fillna(len(_ORDRE_DISPOSITIFS)).astype(int)


def household_dispositifs(parcours: pd.DataFrame) -> pd.DataFrame:
    """One row per household × dispositif: its first entry date (`entree`) and its rank in the
    household's sequence (1 = the dispositif it entered first; ties by the code order)."""
    cols = ["id_menage", "dispositif", "entree", "rang"]
    if parcours is None or parcours.empty:
        return pd.DataFrame(columns=cols)
    p = parcours[["id_menage", "dispositif", "date_entree"]].dropna(subset=["id_menage", "dispositif"])
    g = p.groupby(["id_menage", "dispositif"], as_index=False, observed=True)["date_entree"].min()
    g = g.rename(columns={"date_entree": "entree"})
    g["_o"] = _ordre(g["dispositif"])
    g = g.sort_values(["id_menage", "entree", "_o"], kind="stable", na_position="last")
    g["rang"] = g.groupby("id_menage").cumcount() + 1
    return g[cols].reset_index(drop=True)


def multi_dispositif_households(parcours: pd.DataFrame) -> int:
    """Households followed by at least two distinct dispositifs (before secrecy: the truth test)."""
    if parcours is None or parcours.empty:
        return 0
    return int((parcours.groupby("id_menage")["dispositif"].nunique() >= 2).sum())


def households_with_at_least(parcours: pd.DataFrame, k: int) -> int:
    """Households followed by at least `k` distinct dispositifs (before secrecy)."""
    if parcours is None or parcours.empty:
        return 0
    return int((parcours.groupby("id_menage")["dispositif"].nunique() >= k).sum())


def overlap(parcours: pd.DataFrame) -> dict:
    """Households followed, those followed by several dispositifs, and their share (before
    secrecy): ``{menages_suivis, menages_multi_dispositifs, part}`` (part None without households)."""
    if parcours is None or parcours.empty:
        return {"menages_suivis": 0, "menages_multi_dispositifs": 0, "part": None}
    suivis = int(parcours["id_menage"].nunique())
    multi = multi_dispositif_households(parcours)
    return {
        "menages_suivis": suivis,
        "menages_multi_dispositifs": multi,
        "part": multi / suivis if suivis else None,
    }


def combinations(parcours: pd.DataFrame) -> pd.DataFrame:
    """Combinations of dispositifs of the multi-dispositif households: `combinaison` (codes in
    the order of `DISPOSITIFS`, joined by `SEPARATEUR`), `n_dispositifs`, `menages`; most
    frequent first (ties by combination)."""
    cols = ["combinaison", "n_dispositifs", "menages"]
    h = household_dispositifs(parcours)
    if h.empty:
        return pd.DataFrame(columns=cols)
    h = h.assign(_o=_ordre(h["dispositif"])).sort_values(["id_menage", "_o"], kind="stable")
    per = h.groupby("id_menage").agg(
        combinaison=("dispositif", SEPARATEUR.join), n_dispositifs=("dispositif", "size")
    )
    per = per[per["n_dispositifs"] >= 2]
    if per.empty:
        return pd.DataFrame(columns=cols)
    out = (
        per.groupby(["combinaison", "n_dispositifs"], as_index=False)
        .size()
        .rename(columns={"size": "menages"})
    )
    return out.sort_values(["menages", "combinaison"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )[cols]


def published_combinations(comb: pd.DataFrame, seuil: int, total_publie: bool = True) -> pd.DataFrame:
    """The combinations a page may publish: those of at least `seuil` households one by one, the
    others summed into one `AUTRES` line (with `n_combinaisons`, how many it groups); then
    secrecy on the list (`privacy.secret_counts`, the total of the households being published:
    a single hidden line is protected by hiding the next smallest). Columns: `combinaison`,
    `n_dispositifs` (None for `AUTRES`), `n_combinaisons`, `menages` (NaN where secret),
    `secret`."""
    cols = ["combinaison", "n_dispositifs", "n_combinaisons", "menages", "secret"]
    if comb is None or comb.empty:
        return pd.DataFrame(columns=cols)
    grand = comb[comb["menages"] >= seuil].assign(n_combinaisons=1)
    petits = comb[comb["menages"] < seuil]
    lignes = [grand]
    if len(petits):
        lignes.append(
            pd.DataFrame(
                {
                    "combinaison": [AUTRES],
                    "n_dispositifs": [np.nan],
                    "n_combinaisons": [len(petits)],
                    "menages": [int(petits["menages"].sum())],
                }
            )
        )
    out = pd.concat(lignes, ignore_index=True)
    out["n_dispositifs"] = out["n_dispositifs"].astype(float)
    s = privacy.secret_counts(out["menages"].astype(float), seuil, total_known=total_publie)
    out["menages"] = s.values.to_numpy()
    out["secret"] = s.mask.to_numpy()
    return out[cols]


def sequences(parcours: pd.DataFrame) -> pd.DataFrame:
    """The first step of the multi-dispositif households' sequences: the dispositif entered first
    (`premier`) × the one entered next (`suivant`), in households (before secrecy)."""
    cols = ["premier", "suivant", "menages"]
    h = household_dispositifs(parcours)
    if h.empty:
        return pd.DataFrame(columns=cols)
    w = h[h["rang"] <= 2].pivot(index="id_menage", columns="rang", values="dispositif")
    if 2 not in w.columns:
        return pd.DataFrame(columns=cols)
    w = w.dropna(subset=[1, 2])
    out = w.groupby([1, 2]).size().rename("menages").reset_index()
    out.columns = cols
    return out.sort_values(
        ["menages", "premier", "suivant"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def meeting_points(parcours: pd.DataFrame) -> pd.DataFrame:
    """The workshop's « points de rencontre » (`POINTS_RENCONTRE`): for each, the households with
    a member of those ages followed by that dispositif (`menages`), and among them those where
    another member is followed by another dispositif (`menages_famille`: the family approach),
    before secrecy."""
    cols = ["point", "dispositif", "menages", "menages_famille"]
    rows = []
    p = parcours if parcours is not None else pd.DataFrame(columns=["id_menage", "id_personne", "dispositif"])
    for point, (ages, disp) in POINTS_RENCONTRE.items():  # three points
        entre = p[p["dispositif"].eq(disp) & p["tranche_age"].isin(list(ages))] if len(p) else p
        menages = entre["id_menage"].unique() if len(entre) else []
        if len(menages):
            autres = p[p["id_menage"].isin(menages) & p["dispositif"].ne(disp)]
            personnes = entre[["id_menage", "id_personne"]].drop_duplicates()
            # another member: a person of the household who is not (one of) the entering person(s)
            autres = autres.merge(personnes.assign(_e=True), on=["id_menage", "id_personne"], how="left")
            famille = int(autres.loc[autres["_e"].isna(), "id_menage"].nunique())
        else:
            famille = 0
        rows.append(
            {"point": point, "dispositif": disp, "menages": int(len(menages)), "menages_famille": famille}
        )
    return pd.DataFrame(rows, columns=cols)


# --- progression of levels --------------------------------------------------------------------


def _ended(parcours: pd.DataFrame) -> pd.DataFrame:
    """Episodes that ended (`date_sortie` known) with both levels known: the one base."""
    if parcours is None or parcours.empty:
        return pd.DataFrame(columns=["dispositif", "niveau_entree", "niveau_sortie"])
    p = parcours[parcours["date_sortie"].notna()]
    e = pd.to_numeric(p["niveau_entree"], errors="coerce")
    s = pd.to_numeric(p["niveau_sortie"], errors="coerce")
    keep = e.notna() & s.notna()
    return p.loc[keep].assign(niveau_entree=e[keep].astype(int), niveau_sortie=s[keep].astype(int))


def transition_matrix(parcours: pd.DataFrame) -> pd.DataFrame:
    """Entry level (rows) × exit level (columns) of the episodes ended with both levels known,
    levels 1 to 4 on both axes (zeros kept), before secrecy."""
    e = _ended(parcours)
    niv = list(NIVEAUX_AUTONOMIE)
    if e.empty:
        return pd.DataFrame(
            0, index=pd.Index(niv, name="niveau_entree"), columns=pd.Index(niv, name="niveau_sortie")
        )
    m = pd.crosstab(e["niveau_entree"], e["niveau_sortie"])
    extra = sorted((set(m.index) | set(m.columns)) - set(niv))
    niv = niv + extra
    m = m.reindex(index=niv, columns=niv, fill_value=0)
    m.index.name, m.columns.name = "niveau_entree", "niveau_sortie"
    return m.astype("int64")


def progression_summary(parcours: pd.DataFrame) -> dict:
    """On the episodes ended with both levels known: how many progressed, stayed, regressed
    (`base`, `progresse`, `stable`, `regresse`), before secrecy."""
    e = _ended(parcours)
    d = e["niveau_sortie"] - e["niveau_entree"] if len(e) else pd.Series(dtype=float)
    return {
        "base": int(len(e)),
        "progresse": int((d > 0).sum()),
        "stable": int((d == 0).sum()),
        "regresse": int((d < 0).sum()),
    }


def progression_by_dispositif(parcours: pd.DataFrame) -> pd.DataFrame:
    """Per dispositif, on the episodes ended with both levels known: `base`, `progresse`
    (exit level above entry level), before secrecy; dispositifs in the order of `DISPOSITIFS`."""
    cols = ["dispositif", "base", "progresse"]
    e = _ended(parcours)
    if e.empty:
        return pd.DataFrame(columns=cols)
    e = e.assign(_p=(e["niveau_sortie"] > e["niveau_entree"]).astype(int))
    g = e.groupby("dispositif", as_index=False, observed=True).agg(
        base=("_p", "size"), progresse=("_p", "sum")
    )
    g = g.assign(_o=_ordre(g["dispositif"])).sort_values("_o", kind="stable")
    return g[cols].astype({"base": "int64", "progresse": "int64"}).reset_index(drop=True)


def merge_small_lines(d: pd.DataFrame, seuil: int, proteges: Sequence[str] = ()) -> pd.DataFrame:
    """Lines of `progression_by_dispositif` whose `base` is under `seuil` merged into one line,
    so that one small line does not force a second line to be hidden (secondary secrecy): the
    small lines are summed; when their sum is still under `seuil`, the smallest other line that is
    not in `proteges` (the dispositifs the page must show on their own) joins them. Adds
    `membres` (the codes a line holds, as a tuple); a merged line's `dispositif` is `AUTRES`."""
    cols = ["dispositif", "membres", "base", "progresse"]
    if d is None or d.empty:
        return pd.DataFrame(columns=cols)
    d = d.assign(membres=[(str(x),) for x in d["dispositif"]])
    small = d["base"] < seuil
    if not small.any():
        return d[cols].reset_index(drop=True)
    petits = d[small]
    if petits["base"].sum() < seuil:
        autres = d[~small & ~d["dispositif"].isin(list(proteges))]
        if autres.empty:
            autres = d[~small]
        if not autres.empty:
            hote = autres.sort_values("base", kind="stable").iloc[[0]]
            petits = pd.concat([hote, petits])
    merged = pd.DataFrame(
        {
            "dispositif": [AUTRES],
            "membres": [tuple(m for t in petits["membres"] for m in t)],
            "base": [int(petits["base"].sum())],
            "progresse": [int(petits["progresse"].sum())],
        }
    )
    rest = d.drop(index=petits.index)
    return pd.concat([rest[cols], merged], ignore_index=True)


def exits_by_motif(parcours: pd.DataFrame) -> pd.DataFrame:
    """Ended episodes by `motif_sortie` (every motif of the schema, zeros kept; a missing motif
    is the code ``non_renseigne``), before secrecy."""
    cols = ["motif_sortie", "sorties"]
    if parcours is None or parcours.empty:
        return pd.DataFrame(columns=cols)
    p = parcours[parcours["date_sortie"].notna()]
    motif = p["motif_sortie"].astype("string").fillna("non_renseigne")
    c = motif.value_counts()
    ordre = [*MOTIFS_SORTIE, *sorted(set(c.index) - set(MOTIFS_SORTIE))]
    c = c.reindex(ordre, fill_value=0)
    if c.get("non_renseigne", 0) == 0:
        c = c.drop("non_renseigne", errors="ignore")
    return pd.DataFrame({"motif_sortie": c.index.astype(str), "sorties": c.to_numpy().astype("int64")})


#: The rates of needs: output column → (numerator, denominator) among the `BESOINS` columns.
TAUX_BESOINS = {
    "taux_chomage": ("chomeurs", "actifs"),
    "taux_chomage_jeunes": ("jeunes_chomeurs", "jeunes_actifs"),
    "part_sans_diplome": ("sans_diplome", "non_scolarises"),
    "part_moins_25_ans": ("moins_25_ans", "population"),
}


def needs_summary(needs: pd.DataFrame, debut: int, fin: int) -> pd.DataFrame:
    """Needs of each territory pooled over the years [debut, fin]: the mean yearly job seekers
    (`demandeurs_emploi`), and each rate of `TAUX_BESOINS` in percent on its own base (Σ
    numerator / Σ denominator over the years where both are known; `<num>` and `<den>` are
    those sums, divided by the number of such years: people per year)."""
    cols = ["niveau", "code_territoire", "annees", "demandeurs_emploi"]
    for taux, (num, den) in TAUX_BESOINS.items():
        cols += [num, den, taux]
    if needs is None or needs.empty:
        return pd.DataFrame(columns=cols)
    d = needs[(needs["annee"] >= debut) & (needs["annee"] <= fin)]
    if d.empty:
        return pd.DataFrame(columns=cols)
    keys = ["niveau", "code_territoire"]
    out = d.groupby(keys, as_index=False).agg(
        annees=("annee", "nunique"), demandeurs_emploi=("demandeurs_emploi", "mean")
    )
    for taux, (num, den) in TAUX_BESOINS.items():
        ok = d[num].notna() & d[den].notna() & (d[den] > 0)
        g = d[ok].groupby(keys).agg(n=(num, "sum"), dd=(den, "sum"), a=("annee", "nunique"))
        g = g.reindex(pd.MultiIndex.from_frame(out[keys]))
        out[num] = (g["n"] / g["a"]).to_numpy()
        out[den] = (g["dd"] / g["a"]).to_numpy()
        out[taux] = (100 * g["n"] / g["dd"]).to_numpy()
    return out[cols]
