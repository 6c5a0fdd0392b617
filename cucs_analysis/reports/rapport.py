"""What every question's report shares: the findings skeleton, the frames behind its views,
and the small builders every report uses the same way (a key figure with its reason, the
verdict, the « vide » sentence led by its reason, the lines of « Sources et méthode »).

A report module defines `vue_<name>(r)` functions (a `present.display.vue`, or None when the
section's data is absent) that the notebook shows with `d.tableau(qN.vue_<name>(r), …)`.
`r.tables` calls every one of them and returns their DataFrames by name, so an analyst in
JupyterLab computes on the numbers rather than on formatted text.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from cucs_analysis.analysis import motifs
from cucs_analysis.present import display, text


class AvecVues:
    """Mixin for report dataclasses; `MODULE_VUES` is the module holding the `vue_*` functions
    (by default the module that defines the report class)."""

    MODULE_VUES: str | None = None

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        module = importlib.import_module(self.MODULE_VUES or type(self).__module__)
        out = {}
        for name in sorted(vars(module)):
            fn = getattr(module, name)
            if name.startswith("vue_") and callable(fn):
                v = fn(self)
                if v is not None:
                    out[name.removeprefix("vue_")] = v
        return out


@dataclass(kw_only=True)
class Constats(AvecVues):
    """The findings of a question's report dataclass (`constats`, `reserves`, `debat`), its key
    figures, the sentences of each notebook section (`textes`, read by `texte(section)`) and the
    verdict. A subclass declares its own data fields."""

    constats: list[str] = field(default_factory=list)
    reserves: list[str] = field(default_factory=list)
    debat: list[str] = field(default_factory=list)
    chiffres_cles: list[dict] = field(default_factory=list)
    textes: dict[str, list[str]] = field(default_factory=dict)
    verdict: dict = field(default_factory=dict)

    def texte(self, section: str) -> list[str]:
        """The sentences that say what a section shows (also among the findings)."""
        return self.textes.get(section, [])

    def constat(self, section: str, phrase: str) -> None:
        """A finding: among the findings and under its section."""
        self.constats.append(phrase)
        self.dit(section, phrase)

    def dit(self, section: str, phrase: str) -> None:
        """A sentence shown under its section only (not a finding)."""
        self.textes.setdefault(section, []).append(phrase)


@dataclass(kw_only=True)
class Rapport(Constats):
    """`Constats` with the reasons of the absent figures and the two periods: a subclass's
    `signataire` and `a_programme` feed `motif_programme`, and `absence(quoi, table)` reads the
    property `motif_<table>`; `periode` and `annee_debut_cucs` give `avant` and `pendant`."""

    #: The table `absence` speaks of when none is named.
    TABLE_ABSENCE: ClassVar[str] = "programme"

    def motif_table(self, presente: bool) -> str | None:
        """Why a table's figures are absent (`hors_cucs`, `donnee_absente`), or None."""
        return motif_commune(self.signataire, presente)

    @property
    def motif_programme(self) -> str | None:
        """Why the programme figures are absent, or None."""
        return self.motif_table(self.a_programme)

    def absence(self, quoi: str, table: str | None = None) -> display.Absence:
        """What a missing view or figure lacks, with the reason of `table` (« hors CUCS »,
        « données non disponibles » … pour cette commune)."""
        return vide_motif(quoi, getattr(self, f"motif_{table or self.TABLE_ABSENCE}"))

    @property
    def sans_avant(self) -> bool:
        """The contract starts at (or before) the first year of the data: no « before » period."""
        return sans_annee_avant(self.periode, self.annee_debut_cucs)

    @property
    def avant(self) -> str:
        """« avant le CUCS (2000-2006) », or « avant le CUCS (aucune année avant le contrat dans
        les données) » when the contract starts with the data (never « 2015-2014 »)."""
        return f"avant le CUCS ({periode_avant(self.periode, self.annee_debut_cucs)})"

    @property
    def pendant(self) -> str:
        """« pendant le CUCS (2007-2014) »."""
        return f"pendant le CUCS ({text.annee_periode(self.annee_debut_cucs, self.periode[1])})"


#: What stands for the « before » period when the contract starts with the data.
AUCUNE_ANNEE_AVANT = text.AUCUNE_ANNEE_AVANT


def sans_annee_avant(periode: Sequence[int], annee_debut_cucs: int) -> bool:
    """No year of the period precedes the contract (`compare_periods`: `avant_testable` False)."""
    return text.sans_annee_avant(periode[0], annee_debut_cucs)


def periode_avant(periode: Sequence[int], annee_debut_cucs: int) -> str:
    """The years before the contract (« 2000-2006 »), or « aucune année avant le contrat dans les
    données » when the contract starts with the data (never a reversed « 2015-2014 »)."""
    return text.periode_avant(periode[0], annee_debut_cucs)


def periodes_comparees(r: Rapport) -> str:
    """« avant le CUCS (2005-2006) et pendant le CUCS (2007-2014) », or, when the contract starts
    with the data, « aucune (aucune année avant le contrat dans les données) ; seules les années
    2015-2023 sont décrites »."""
    if r.sans_avant:
        annees = text.annee_periode(r.annee_debut_cucs, r.periode[1])
        return f"aucune ({AUCUNE_ANNEE_AVANT}) ; seules les années {annees} sont décrites"
    return f"{r.avant} et {r.pendant}"


#: Why co-funding, substitution, mainstream shares and requested-vs-granted are « n.d. » when
#: the funding source holds only the State's share (metadata `financements_perimetre: etat_seul`).
RAISON_ETAT_SEUL = "la source des financements ne contient que la part de l'État (programme 147)"
#: The reason shown for a commune whose signatory status is unknown (`signataire_cucs` NA).
SIGNATAIRE_INCONNU = "statut de signataire inconnu"


def statut_signataire(territoire) -> bool | None:
    """`communes.signataire_cucs` of the commune: True, False, or None when the data leave it
    unknown (never read as « hors CUCS »)."""
    v = (getattr(territoire, "commune", None) or {}).get("signataire_cucs")
    if v is None or text.manquant(v):
        return None
    return bool(v)


def motif_commune(signataire: bool | None, presente: bool) -> str | None:
    """`motifs.motif_commune` where an unknown status (None) is not « hors CUCS »: the data
    present are shown, absent data are « données non disponibles »."""
    if signataire is False:
        return motifs.HORS_CUCS
    if not presente:
        return motifs.DONNEE_ABSENTE
    return None


def financements_etat_seul(metadata) -> bool:
    """The funding source holds only the State's share (`financements_perimetre: etat_seul`):
    co-funding, substitution, mainstream shares and requested-vs-granted are then not computed."""
    v = getattr(metadata, "financements_perimetre", None)
    if v is None:
        v = (getattr(metadata, "extra", None) or {}).get("financements_perimetre")
    return str(v or "").strip().lower() == "etat_seul"


def nd_etat_seul(quoi: str) -> str:
    """« Quoi : n.d. — la source des financements ne contient que la part de l'État (…) ; … »."""
    return f"{quoi} : n.d. — {RAISON_ETAT_SEUL} ; les financements des autres institutions n'y figurent pas."


def phrase_signataire_inconnu(nom_commune: str) -> str:
    """The sentence of a commune whose signatory status is unknown."""
    return (
        f"Données non disponibles : {SIGNATAIRE_INCONNU} pour {nom_commune} (la table des communes "
        "ne dit pas si elle a signé un CUCS) ; elle n'est donc ni comptée comme signataire ni "
        "comme commune de comparaison."
    )


def lit_programme(signataire: bool | None) -> bool:
    """Whether a report reads the commune's programme rows: always, unless the commune is known
    to be outside the CUCS (an unknown status is never « hors CUCS »)."""
    return signataire is not False


def reserve_signataire_inconnu(nom_commune: str) -> str:
    """The one caveat of a commune whose signatory status is unknown but whose programme rows are
    in the data: they are described as usual, without knowing whether a CUCS covers them."""
    return (
        f"Statut de signataire inconnu pour {nom_commune} : ses actions sont décrites, sans savoir si elles relèvent d'un CUCS (la table "
        "des communes ne dit pas si elle a signé un CUCS)."
    )


# --- contract-level actions (Ci.Ville / P147: an EPCI's contract, no commune) -----------------------


@dataclass
class Contrat:
    """The contract-level actions the data hold: how many in the whole data set, and those of the
    commune's EPCI (never counted among the commune's own actions)."""

    n_donnees: int  # contract-level action rows of the whole data set (every EPCI)
    code_epci: str | None  # the commune's EPCI, None when unknown
    actions: pd.DataFrame  # the rows of the commune's EPCI
    financements: pd.DataFrame  # their funding lines
    etat_seul: bool = False

    @property
    def tableau(self) -> pd.DataFrame:
        """dispositif, annee, actions (rows), montant (granted €): the EPCI's contract-level rows."""
        cols = ["dispositif", "annee", "actions", "montant"]
        a = self.actions
        if a is None or a.empty:
            return pd.DataFrame(columns=cols)
        n = a.groupby(["dispositif", "annee"], dropna=False).size().rename("actions")
        f = self.financements
        if f is not None and not f.empty:
            disp = a.drop_duplicates("id_action").set_index("id_action")["dispositif"]
            m = (
                f.assign(dispositif=f["id_action"].map(disp))
                .groupby(["dispositif", "annee"], dropna=False)["montant_accorde"]
                .sum(min_count=1)
                .rename("montant")
            )
            t = pd.concat([n, m], axis=1)
        else:
            t = n.to_frame().assign(montant=np.nan)
        t = t.reset_index()
        t["actions"] = t["actions"].fillna(0).astype(int)
        return t[cols].sort_values(["dispositif", "annee"]).reset_index(drop=True)


def contrat_de(territoire) -> Contrat:
    """The contract-level actions of a territory (`Territory.actions_contrat`)."""
    code_epci = (getattr(territoire, "commune", None) or {}).get("code_epci")
    vide = pd.DataFrame(columns=["id_action", "annee", "dispositif"])
    a = getattr(territoire, "actions_contrat", None)
    f = getattr(territoire, "financements_contrat", None)
    return Contrat(
        n_donnees=int(getattr(territoire, "n_actions_contrat_donnees", 0) or 0),
        code_epci=None if code_epci is None or text.manquant(code_epci) else str(code_epci),
        actions=vide if a is None else a,
        financements=pd.DataFrame(columns=["id_action", "annee", "montant_accorde"]) if f is None else f,
        etat_seul=financements_etat_seul(getattr(territoire, "metadata", None)),
    )


def phrase_contrat(c: Contrat, nom_commune: str) -> str | None:
    """What the data hold at contract (EPCI) level for this commune, or None when they hold
    nothing at that level: « Les données contiennent 2 167 postes-années financés par l'État au
    niveau des contrats de ville (EPCI), rattachés à aucune commune ; … »."""
    if c.n_donnees <= 0:
        return None
    quoi = (
        text.pluriel(c.n_donnees, "poste-année financé par l'État", "postes-années financés par l'État")
        if c.etat_seul
        else text.pluriel(c.n_donnees, "action-année", "actions-années")
    )
    tete = (
        f"Les données contiennent {quoi} au niveau des contrats de ville (EPCI), rattaché"
        f"{'s' if c.n_donnees >= 2 else ''} à aucune commune"
    )
    if c.code_epci is None:
        return (
            f"{tete} ; le code EPCI {text.de(nom_commune)} est inconnu : ajoutez la composition communale des EPCI "
            "(cucs import insee-qpv --epci) pour relier la commune à son contrat."
        )
    n = len(c.actions)
    if n == 0:
        return (
            f"{tete} ; aucun{'e' if not c.etat_seul else ''} ne relève du contrat de l'EPCI {c.code_epci} "
            f"{text.de(nom_commune)}."
        )
    f = c.financements
    total = float(f["montant_accorde"].sum()) if f is not None and not f.empty else float("nan")
    annees = pd.to_numeric(c.actions["annee"], errors="coerce").dropna()
    periode = text.annee_periode(int(annees.min()), int(annees.max())) if len(annees) else text.ND
    montant = f"{text.euros(total)} de l'État" if c.etat_seul else f"{text.euros(total)} accordés"
    return (
        f"{tete} ; le contrat de ville de l'EPCI {c.code_epci} en compte {text.nombre(n)} ({montant}, {periode}), "
        f"non répartis entre ses communes : ils ne sont pas comptés dans la programmation {text.de(nom_commune)}."
    )


def constat_contrat(r: Constats, territoire, a_programme: bool) -> None:
    """Among the findings of a commune without programme rows (q5–q8), what the data hold at
    contract (EPCI) level instead of a bare « programmation absente »; nothing outside the CUCS."""
    if a_programme or statut_signataire(territoire) is False:
        return
    nom = str((getattr(territoire, "commune", None) or {}).get("nom") or territoire.code_commune)
    phrase = phrase_contrat(contrat_de(territoire), nom)
    if phrase:
        r.constats.append(phrase)


def vide_motif(quoi: str, motif: str | None) -> display.Absence:
    """What an empty view or figure lacks, carrying its reason: display writes « Hors CUCS : … »
    outside the CUCS, « Données non disponibles : … pour cette commune » for a missing table."""
    if motif == motifs.HORS_CUCS:
        return display.Absence(quoi, motif)
    return display.Absence(f"{quoi} pour cette commune", motif)


def marque_motif(v: pd.DataFrame, motif: str | None) -> pd.DataFrame:
    """Mark a view with the reason of its absence (display leads its sentence with it)."""
    if motif:
        v.attrs["motif"] = motif
    return v


def marque_vide(v: pd.DataFrame, vide: display.Absence) -> pd.DataFrame:
    """Give a view another « vide » sentence, with its reason (`vide.motif`)."""
    v.attrs["vide"] = vide
    return marque_motif(v, vide.motif)


def chiffre_cle(id_: str, libelle: str, valeur: object, unite: str, motif: str | None = None) -> dict:
    """A key figure (`{id, libelle, valeur, unite}`); a None value gets its reason (`motif`, else
    `non_calculable`)."""
    d = {"id": id_, "libelle": libelle, "valeur": valeur, "unite": unite}
    if valeur is None:
        d["motif"] = motif or motifs.NON_CALCULABLE
    return d


def verdict(texte: str, section: str, motif: str | None = None) -> dict:
    """The results' `verdict`: one line that answers the question, its reason when a value is
    missing, the exact heading of the section holding the evidence."""
    return {"texte": texte, "motif": motif, "section": section}


def verdict_hors_cucs(
    theme: str, nom_commune: str, section: str, suite: str = "et sert de comparaison"
) -> dict:
    """The verdict of a non-signatory commune: « Thème : hors CUCS — X n'a pas signé de CUCS et sert
    de comparaison. »"""
    return verdict(
        f"{theme} : hors CUCS — {nom_commune} n'a pas signé de CUCS {suite}.", section, motifs.HORS_CUCS
    )


def verdict_donnee_absente(theme: str, manque: str, section: str) -> dict:
    """The verdict of a signatory whose table is missing: « Thème : données non disponibles (…). »"""
    return verdict(f"{theme} : données non disponibles ({manque}).", section, motifs.DONNEE_ABSENTE)


def nombre_json(x: object, decimales: int | None = None) -> float | int | None:
    """A number for a results file: None when missing or not finite, an int when whole, rounded
    to `decimales` when given."""
    if x is None or text.manquant(x):
        return None
    f = float(x)
    if not np.isfinite(f):
        return None
    if decimales is not None:
        f = round(f, decimales)
    return int(f) if f.is_integer() else f


def periodes_json(
    df: pd.DataFrame,
    cle: str | None,
    motif: str | None,
    colonnes: Sequence[str] | None = None,
    nombre: Callable[[object], object] = nombre_json,
) -> list[dict]:
    """Rows of a before / during comparison (`trends.compare_periods`) for a results file: the
    row's key `cle`, then `colonnes` (default: every other column) — flags as booleans, strings
    as they are, numbers through `nombre` (null where absent) — and `motif`: the table's reason,
    else `non_calculable` where "before" cannot be tested."""
    rows = []
    for row in df.to_dict(orient="records"):
        d = {cle: str(row[cle])} if cle else {}
        for c in colonnes if colonnes is not None else [k for k in row if k != cle]:
            v = row.get(c)
            d[c] = (
                bool(v) if c in ("avant_testable", "petite_base") else v if isinstance(v, str) else nombre(v)
            )
        d["motif"] = motif or (None if d.get("avant_testable") else motifs.NON_CALCULABLE)
        rows.append(d)
    return rows


def population_commune(territoire) -> float | None:
    """The commune's population (`communes.population`), None when unknown or not positive."""
    pop = (territoire.commune or {}).get("population")
    return None if pop is None or text.manquant(pop) or float(pop) <= 0 else float(pop)


def ecarts_affiches(avant: pd.Series, pendant: pd.Series, decimales: int = 1) -> pd.Series:
    """During minus before, computed from the displayed (rounded) values (`text.difference_affichee`)."""
    return pd.Series(
        [text.difference_affichee(a, b, decimales) for a, b in zip(avant, pendant, strict=True)],
        index=avant.index,
        dtype=float,
    )


#: Last year of the CUCS (2007-2014): later data belong to the contrats de ville.
FIN_CUCS = 2014


def source_donnees(metadata) -> str:
    """The first line of « Sources et méthode »: the data set and its years, the source files
    the importers recorded (`sources`: file, source, years) and, when the funding source holds
    only the State's share, what that leaves out."""
    ligne = f"Données : {metadata.nom} ({text.annee_periode(metadata.annee_debut, metadata.annee_fin)})" + (
        " — données synthétiques de démonstration." if metadata.synthetique else "."
    )
    fichiers = []
    for src in getattr(metadata, "sources", None) or []:
        if not isinstance(src, dict) or not src.get("fichier"):
            continue
        annees = [str(a) for a in src.get("annees") or [] if not text.manquant(a)]
        detail = ", ".join(x for x in (str(src.get("source") or ""), ", ".join(annees)) if x)
        fichiers.append(f"{src['fichier']} ({detail})" if detail else str(src["fichier"]))
    if fichiers:
        ligne += f" Fichiers sources : {' ; '.join(fichiers)}."
    debut = metadata.annee_debut
    if not text.manquant(debut) and int(debut) > FIN_CUCS:
        # The pages speak of « CUCS »; data after 2014 belong to the contracts that followed them.
        ligne += (
            f" Ces années suivent la fin des CUCS (2007-{FIN_CUCS}) : dans ces pages, « CUCS » et « contrat » "
            "désignent le contrat de la politique de la ville en vigueur sur la période (contrat de ville "
            "depuis 2015)."
        )
    if financements_etat_seul(metadata):
        ligne += (
            f" Financements : {RAISON_ETAT_SEUL} ; le cofinancement, la substitution, la part du droit commun "
            "et la part accordée des montants demandés ne sont pas calculés à partir de cette source."
        )
    return ligne


def source_secret(seuil: int) -> str:
    """« Secret statistique : aucun effectif inférieur à N n'est publié »."""
    return f"Secret statistique : aucun effectif inférieur à {seuil} n'est publié"
