"""Parameter files: `params/defaults.yaml` + `params/<code_commune>.yaml`, validated with pydantic.

Merge order: defaults ← commune file ← explicit overrides (deep merge, lists replaced). The
notebook's trial overrides (`seuils`, partial) are such overrides, validated by the same models.
Every problem is reported in French with the file and the key path; codes must be quoted
strings in the YAML (an unquoted `01001` is read by YAML as the integer 1001).
"""

from __future__ import annotations

import copy
import difflib
import re
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cucs_analysis.analysis.privacy import DEFAULT_THRESHOLD
from cucs_analysis.data.schema import MAX_REVENU, PATTERN_COMMUNE, PATTERN_QUARTIER, REVENU_MEDIAN_MIN

DEFAULTS_FILE = "defaults.yaml"
PARAMS_DIR = "params"
#: Pseudo commune code of the runs made once for the whole region.
REGION = "region"
#: Source name of explicit overrides in messages, and of a notebook's trial overrides.
FOURNIS = "paramètres fournis"
SEUILS = "seuils"
#: The national rule of statistical secrecy: a commune may raise the threshold, never lower it.
SEUIL_SECRET_NATIONAL = DEFAULT_THRESHOLD
#: Default per-run time limit of `cucs run` (params `execution.delai_max_minutes`).
DELAI_MAX_MINUTES = 10.0

# Keys that hold codes: YAML must read them as strings (quoted), never as numbers.
_CODE_KEYS = ("code_commune", "quartiers_interet", "quartiers_experimentaux")
_COMMUNE_KEYS = ("code_commune", "quartiers_interet", "quartiers_experimentaux", "territoire_comparaison")


class ParamError(Exception):
    """A parameter problem; the message is French and names the file and the key path."""

    def __init__(self, messages: str | list[str]):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))


# --- models ---------------------------------------------------------------------------------
# Each leaf carries its French expectation in `description`: it becomes the error message.

Fraction = Annotated[float, Field(ge=0, le=1, description="un nombre entre 0 et 1")]
PositiveNumber = Annotated[float, Field(ge=0, description="un nombre positif ou nul")]
Year = Annotated[int, Field(ge=1990, le=2100, description="une année (nombre entier, par ex. 2009)")]
Count = Annotated[int, Field(ge=1, description="un nombre entier supérieur ou égal à 1")]
SeuilSecret = Annotated[
    int,
    Field(
        ge=SEUIL_SECRET_NATIONAL,
        description=f"un nombre entier d'au moins {SEUIL_SECRET_NATIONAL} : la règle nationale du "
        "secret statistique, qu'une commune peut relever mais jamais abaisser",
    ),
]
NonNegativeInt = Annotated[int, Field(ge=0, description="un nombre entier positif ou nul")]
IndicatorList = Annotated[
    list[str], Field(min_length=1, description="une liste non vide de codes d'indicateurs (textes)")
]
QuartierCode = Annotated[
    str,
    Field(
        pattern=PATTERN_QUARTIER,
        description="un code de quartier entre guillemets, de la forme « QP020001 »",
    ),
]


class _Strict(BaseModel):
    # strict: no silent "2009" → 2009 coercion; forbid: a misspelt key is an error.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Periode(_Strict):
    debut: Year
    fin: Year


class Substitution(_Strict):
    annees_reference: Annotated[
        list[Year], Field(min_length=1, description="une liste d'années, par ex. [2005, 2006]")
    ]
    tolerance: Fraction
    duree_max_annees: Count


class Did(_Strict):
    indicateurs: IndicatorList
    annee_traitement: Year
    seuil_intensite: PositiveNumber
    seuil_comparaison: PositiveNumber


class Qpv2014(_Strict):
    annee_revenus: Year
    revenu_median_national: Annotated[
        float | None,
        # The floor of the data's median incomes: no threshold from an implausible median.
        Field(
            ge=REVENU_MEDIAN_MIN,
            le=MAX_REVENU,
            description=f"un revenu médian en euros d'au moins {REVENU_MEDIAN_MIN} €, ou null (valeur du jeu de données)",
        ),
    ] = None
    population_min_quartier: NonNegativeInt
    population_min_uu: NonNegativeInt


class Zus(_Strict):
    annee: Year
    seuil_quantile: Fraction


class Dynamique(_Strict):
    indicateur: Annotated[str, Field(min_length=1, description="un code d'indicateur du catalogue")]
    annee_debut: Year
    annee_fin: Year
    seuil_points: PositiveNumber


class Typologie(_Strict):
    nombre_classes: Annotated[int, Field(ge=2, le=12, description="un nombre entier entre 2 et 12")]
    indicateurs: IndicatorList


class Operateurs(_Strict):
    seuil_realisation: Fraction
    min_annees_realisees: Count
    bornes_budget: Annotated[
        list[PositiveNumber],
        Field(
            min_length=2,
            max_length=2,
            description="deux montants en euros croissants, par ex. [50000, 200000]",
        ),
    ] = [50000.0, 200000.0]


class Pilotage(_Strict):
    seuil_participatif: Fraction
    seuil_adaptable: Fraction
    decalage_annees: Count = 2


class Gup(_Strict):
    seuil_variation: PositiveNumber


class Convergence(_Strict):
    tolerance_points: PositiveNumber


class Reprise(_Strict):
    # Actions whose mainstream takeover is at stake (q1, q4): funding.actions_at_stake.
    seuil_specifique: Fraction
    duree_min_annees: Count


class TauxInflation(_Strict):
    annee: Year
    taux: Annotated[
        float,
        Field(ge=-50, le=100, description="un taux annuel en pourcentage (par ex. 1.8 pour 1,8 %)"),
    ]


class EurosConstants(_Strict):
    # Constant euros (q1): the substitution typology compares mainstream credits in the euros of
    # one year, deflated by the consumer price index (analysis.funding.price_factors).
    actif: Annotated[bool, Field(description="true ou false")] = True
    annee_reference: Annotated[
        int | None,
        Field(
            ge=1990,
            le=2100,
            description="une année (nombre entier, par ex. 2014), ou null (fin de la période étudiée)",
        ),
    ] = None
    source: Annotated[str, Field(min_length=1, description="la source de la série d'inflation (texte)")]
    inflation: Annotated[
        list[TauxInflation],
        Field(
            min_length=1,
            description="une liste de { annee: 2005, taux: 1.8 } (glissement annuel des prix, en %)",
        ),
    ]

    def reference(self, periode: Periode) -> int:
        """The year whose euros are shown: `annee_reference`, or the end of the period."""
        return int(self.annee_reference if self.annee_reference is not None else periode.fin)

    def taux(self) -> dict[int, float]:
        """The annual inflation as fractions by year (1.8 % → 0.018)."""
        return {int(t.annee): float(t.taux) / 100 for t in self.inflation}


class Execution(_Strict):
    # How `cucs run` executes a notebook; never part of a run's results or of its input hash.
    delai_max_minutes: Annotated[
        float,
        Field(
            gt=0,
            le=1440,
            description="une durée en minutes, plus grande que 0 et d'au plus 1440 (par ex. 10)",
        ),
    ] = DELAI_MAX_MINUTES


class Defauts(_Strict):
    """What every run shares (params/defaults.yaml)."""

    donnees: Annotated[str, Field(min_length=1, description="un chemin de dossier (texte)")]
    periode: Periode
    annee_debut_cucs: Year
    seuil_secret: SeuilSecret
    substitution: Substitution
    did: Did
    qpv2014: Qpv2014
    zus: Zus
    dynamique: Dynamique
    typologie: Typologie
    operateurs: Operateurs
    pilotage: Pilotage
    gup: Gup
    convergence: Convergence
    reprise: Reprise
    euros_constants: EurosConstants
    # excluded from `as_dict`: the notebooks, their results and the runs' hashes never see it
    execution: Execution = Field(default_factory=Execution, exclude=True)


class Parametres(Defauts):
    """The merged parameters of one run (defaults ← commune file ← overrides)."""

    code_commune: Annotated[
        str,
        Field(
            pattern=rf"{PATTERN_COMMUNE}|^{REGION}$",
            description='un code commune INSEE de 5 caractères entre guillemets, par ex. "20001"',
        ),
    ]
    quartiers_interet: Annotated[
        list[QuartierCode], Field(description="une liste de codes de quartiers entre guillemets")
    ] = []
    quartiers_experimentaux: Annotated[
        list[QuartierCode], Field(description="une liste de codes de quartiers entre guillemets")
    ] = []
    territoire_comparaison: Annotated[
        Literal["epci", "departement", "region"],
        Field(description="l'une des valeurs epci, departement ou region"),
    ] = "epci"

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (what the runner injects into a notebook)."""
        return self.model_dump(mode="json")


# --- French error messages --------------------------------------------------------------------

_TYPE_MESSAGES = {
    "string_type": "doit être un texte",
    "int_type": "doit être un nombre entier",
    "int_from_float": "doit être un nombre entier",
    "float_type": "doit être un nombre",
    "bool_type": "doit valoir true ou false",
    "list_type": "doit être une liste",
    "model_type": "doit être une section (clé : valeur)",
    "dict_type": "doit être une section (clé : valeur)",
    "model_attributes_type": "doit être une section (clé : valeur)",
}


def _fmt_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_in(annotation: Any) -> Any:
    """The model a field holds: the annotation itself, or the item of a list of models."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return annotation


def _field_description(model: type[BaseModel], loc: tuple) -> str | None:
    """The French expectation of the leaf field at `loc` (list indices skipped; a list of
    sections, such as euros_constants.inflation, is walked into)."""
    current: Any = model
    desc = None
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return desc
        field = current.model_fields.get(part)
        if field is None:
            return None
        desc = field.description
        current = _model_in(field.annotation)
    return desc


def _shown(value: Any) -> str:
    if value is None:
        return "vide"
    if isinstance(value, dict):
        return "une section"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _error_message(model: type[BaseModel], err: dict) -> str:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = _parent_model(model, loc[:-1])
        allowed = list(parent.model_fields) if parent else []
        msg = "clé inconnue"
        guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        if guess:
            msg += f" (vouliez-vous dire « {guess[0]} » ?)"
        elif loc[-1] in _COMMUNE_KEYS:
            msg += " ici : cette clé se met dans le fichier d'une commune (params/<code_commune>.yaml)"
        elif allowed:
            msg += f" (clés permises : {', '.join(allowed)})"
        return msg
    if kind == "missing":
        return "clé obligatoire absente"
    desc = _field_description(model, loc)
    if kind == "literal_error" and desc:
        return f"doit être {desc} (valeur « {_shown(err.get('input'))} »)"
    base = f"doit être {desc}" if desc else _TYPE_MESSAGES.get(kind, "valeur invalide")
    return f"{base} (valeur « {_shown(err.get('input'))} »)"


def _parent_model(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) else None
        if field is None:
            return None
        current = _model_in(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


# --- YAML reading -----------------------------------------------------------------------------

_YAML_PROBLEMS = {
    "mapping values are not allowed here": "deux-points « : » inattendu (une valeur contient-elle « : » ?)",
    "could not find expected ':'": "deux-points « : » attendu après la clé",
    "found character '\\t' that cannot start any token": "tabulation interdite : indentez avec des espaces",
    "found a tab character": "tabulation interdite : indentez avec des espaces",
    "expected <block end>, but found": "indentation incohérente",
    "did not find expected key": "indentation incohérente ou clé attendue",
    "found unexpected end of stream": "fin de fichier inattendue (guillemet ou crochet non fermé ?)",
    "did not find expected ',' or ']'": "crochet « ] » ou virgule attendu",
    "expected ',' or ']'": "crochet « ] » ou virgule attendu",
    "did not find expected ',' or '}'": "accolade « } » ou virgule attendue",
    "found undefined alias": "alias inconnu",
}


def _yaml_problem(problem: str | None) -> str:
    problem = problem or ""
    for english, french in _YAML_PROBLEMS.items():
        if problem.startswith(english):
            return french
    return f"syntaxe invalide ({problem})" if problem else "syntaxe invalide"


def _node_checks(node: yaml.Node, path: tuple) -> list[tuple[tuple, str]]:
    """Duplicate keys, and codes YAML would read as numbers (`01001` → 1001)."""
    problems: list[tuple[tuple, str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                problems.append(((*path, key), f"clé en double (ligne {key_node.start_mark.line + 1})"))
            seen.add(key)
            problems.extend(_node_checks(value_node, (*path, key)))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            problems.extend(_node_checks(item, (*path, i)))
    elif isinstance(node, yaml.ScalarNode) and path and path[0] in _CODE_KEYS:
        if not node.style and node.tag != "tag:yaml.org,2002:str":  # plain: None, or "" (libyaml)
            problems.append(
                (
                    path,
                    f'un code doit être écrit entre guillemets : "{node.value}" et non {node.value} '
                    f"(sans guillemets, YAML le lit comme un nombre et perd les zéros de tête)",
                )
            )
    return problems


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path, shown: str) -> dict:
    """Parse a params file into a dict; ParamError (French, with file and line) otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamError(f"{shown} : fichier introuvable") from None
    except UnicodeDecodeError:
        raise ParamError(f"{shown} : le fichier doit être encodé en UTF-8") from None
    try:
        try:
            # libyaml when built in (every notebook run reads params/: about ten times faster);
            # an error is parsed again in pure Python, whose messages `_yaml_problem` translates.
            # libyaml accepts a tab where PyYAML refuses it (`a:<tab>1`): a text with a tab is
            # read by PyYAML only, so a file is accepted or not whether libyaml is built in or not.
            loader = yaml.SafeLoader if "\t" in text else _FAST_LOADER
            node = yaml.compose(text, Loader=loader)
            data = yaml.load(text, Loader=loader)
        except yaml.YAMLError:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", ligne {mark.line + 1}, colonne {mark.column + 1}" if mark else ""
        raise ParamError(f"{shown}{where} : {_yaml_problem(exc.problem)}") from None
    except yaml.YAMLError as exc:
        raise ParamError(f"{shown} : syntaxe YAML invalide ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParamError(f"{shown} : le fichier doit contenir des lignes « clé : valeur »")
    problems = _node_checks(node, ()) if node is not None else []
    if problems:
        raise ParamError([f"{shown}, clé « {_fmt_path(loc)} » : {msg}" for loc, msg in problems])
    return data


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _has_path(data: Any, loc: tuple) -> bool:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return False
    return True


def _coherence(p: Defauts) -> list[tuple[tuple, str]]:
    """Cross-field rules pydantic cannot express field by field."""
    out: list[tuple[tuple, str]] = []
    if p.periode.debut > p.periode.fin:
        out.append((("periode",), f"début ({p.periode.debut}) postérieur à la fin ({p.periode.fin})"))
    if p.dynamique.annee_debut >= p.dynamique.annee_fin:
        out.append(
            (
                ("dynamique",),
                f"annee_debut ({p.dynamique.annee_debut}) doit précéder annee_fin ({p.dynamique.annee_fin})",
            )
        )
    if not p.periode.debut <= p.annee_debut_cucs <= p.periode.fin:
        out.append((("annee_debut_cucs",), f"{p.annee_debut_cucs} est hors de la période étudiée"))
    late = [a for a in p.substitution.annees_reference if a >= p.annee_debut_cucs]
    if late:
        out.append(
            (
                ("substitution", "annees_reference"),
                f"les années de référence doivent précéder le CUCS ({p.annee_debut_cucs}) : {late}",
            )
        )
    if p.did.seuil_comparaison > p.did.seuil_intensite:
        out.append((("did", "seuil_comparaison"), "doit être inférieur ou égal à did.seuil_intensite"))
    b = p.operateurs.bornes_budget
    if b[0] >= b[1]:
        out.append((("operateurs", "bornes_budget"), "le premier montant doit être inférieur au second"))
    out.extend(_coherence_euros_constants(p))
    return out


def _coherence_euros_constants(p: Defauts) -> list[tuple[tuple, str]]:
    """The inflation table: one rate per year, no gap, covering the period and the reference year."""
    e = p.euros_constants
    annees = [int(t.annee) for t in e.inflation]
    doubles = sorted({a for a in annees if annees.count(a) > 1})
    if doubles:
        return [(("euros_constants", "inflation"), f"année(s) en double : {', '.join(map(str, doubles))}")]
    trous = [a for a in range(min(annees), max(annees) + 1) if a not in annees]
    if trous:
        return [(("euros_constants", "inflation"), f"année(s) manquante(s) : {', '.join(map(str, trous))}")]
    # A rate of year t links t-1 to t: the table reaches from its first year minus one to its last.
    premiere, derniere = min(annees) - 1, max(annees)
    out: list[tuple[tuple, str]] = []
    reference = e.reference(p.periode)
    if not premiere <= reference <= derniere:
        out.append(
            (
                ("euros_constants", "annee_reference"),
                f"{reference} n'est pas couverte par la série d'inflation ({premiere}-{derniere})",
            )
        )
    if p.periode.debut < premiere or p.periode.fin > derniere:
        out.append(
            (
                ("euros_constants", "inflation"),
                f"la série d'inflation ({premiere}-{derniere}) doit couvrir la période étudiée "
                f"({p.periode.debut}-{p.periode.fin})",
            )
        )
    return out


def _where(source: str, loc: tuple) -> str:
    """Where a problem is: « params/20001.yaml, clé « did.seuil_intensite » », or for the
    notebook's trial overrides the path as the analyst typed it: « seuils › did › seuil_intensite »."""
    if source == SEUILS:
        path = SEUILS
        for part in loc:
            path += f"[{part}]" if isinstance(part, int) else f" › {part}"
        return path
    return f"{source}, clé « {_fmt_path(loc)} »"


def _validate(
    model: type[Defauts], data: dict, sources: list[tuple[str, dict]], default_source: str
) -> Defauts:
    """Validate `data`; errors name the last source (file) that sets the key, else `default_source`."""

    def source_of(loc: tuple) -> str:
        for name, raw in reversed(sources):
            for n in range(len(loc), 0, -1):
                if _has_path(raw, loc[:n]):
                    return name
        return default_source

    try:
        value = model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise ParamError(
            [
                f"{_where(source_of(tuple(e['loc'])), tuple(e['loc']))} : {_error_message(model, e)}"
                for e in errors
            ]
        ) from None
    problems = _coherence(value)
    if problems:
        raise ParamError([f"{_where(source_of(loc), loc)} : {msg}" for loc, msg in problems])
    return value


# --- parameters checked against the data ------------------------------------------------------------
# The models above check each value on its own; these rules need the data set: an indicator or a
# quartier named in the parameters must exist in it (for the commune), else the run cannot start;
# a year outside the data's years is a warning (real data rarely cover the shipped years). They
# are checked where a run's parameters are loaded: `notebook.demarrer` and the runner's planning.

#: Parameters naming indicators: codes of the data's catalogue_indicateurs.
CLES_INDICATEURS: tuple[tuple[str, ...], ...] = (
    ("did", "indicateurs"),
    ("dynamique", "indicateur"),
    ("typologie", "indicateurs"),
)
#: Parameters naming quartiers: codes of the commune's quartiers.
CLES_QUARTIERS: tuple[tuple[str, ...], ...] = (("quartiers_interet",), ("quartiers_experimentaux",))
#: Parameters naming years of the analyses: outside the data's years (metadonnees.yaml) they give
#: a warning. The inflation table (euros_constants) may reach beyond them, and is not checked here.
CLES_ANNEES: tuple[tuple[str, ...], ...] = (
    ("periode", "debut"),
    ("periode", "fin"),
    ("annee_debut_cucs",),
    ("substitution", "annees_reference"),
    ("did", "annee_traitement"),
    ("qpv2014", "annee_revenus"),
    ("zus", "annee"),
    ("dynamique", "annee_debut"),
    ("dynamique", "annee_fin"),
)
_EXEMPLES_QUARTIERS = 6


def _items(value: Any) -> list:
    """The distinct items of a list parameter (a single value: itself), in their order."""
    return list(dict.fromkeys(value if isinstance(value, list | tuple) else [value]))


def _annees_du_jeu(dataset: Any) -> tuple[int, int] | None:
    meta = getattr(dataset, "metadata", None)
    try:
        debut, fin = int(meta.annee_debut), int(meta.annee_fin)  # type: ignore[union-attr]
    except (AttributeError, TypeError, ValueError, OverflowError):
        return None
    return debut, fin


def _quartiers_de(commune_de: dict[str, str], code_commune: str) -> str:
    own = sorted(q for q, c in commune_de.items() if c == code_commune)
    if not own:
        return f"la commune {code_commune} n'a aucun quartier dans le jeu de données"
    shown = ", ".join(own[:_EXEMPLES_QUARTIERS]) + (", …" if len(own) > _EXEMPLES_QUARTIERS else "")
    return f"quartiers de la commune {code_commune} : {shown}"


def problemes_donnees(p: Parametres, dataset: Any) -> list[tuple[tuple, str]]:
    """(key path, French rule) for every indicator or quartier named in the parameters that the
    data set does not have (a quartier: for the commune): errors, the run cannot start. A part
    the data set does not hold (a stub without tables) is not checked. Years absent from the
    data are warnings, not errors: `avertissements_donnees`."""
    data = p.as_dict()
    tables = getattr(dataset, "tables", None) or {}
    out: list[tuple[tuple, str]] = []

    catalogue = tables.get("catalogue_indicateurs")
    if catalogue is not None and "indicateur" in catalogue.columns:
        connus = sorted({str(c) for c in catalogue["indicateur"].dropna()})
        for loc in CLES_INDICATEURS:
            for code in _items(value_at(data, loc)):
                if code in connus:
                    continue
                msg = (
                    f"indicateur « {code} » absent du catalogue des indicateurs du jeu de données "
                    "(table catalogue_indicateurs)"
                )
                guess = difflib.get_close_matches(str(code), connus, n=1)
                out.append((loc, msg + (f" (vouliez-vous dire « {guess[0]} » ?)" if guess else "")))

    quartiers = tables.get("quartiers")
    nommes = any(value_at(data, loc) for loc in CLES_QUARTIERS)
    if nommes and quartiers is not None and {"code_quartier", "code_commune"} <= set(quartiers.columns):
        commune_de = {
            str(q): str(c) for q, c in zip(quartiers["code_quartier"], quartiers["code_commune"], strict=True)
        }
        for loc in CLES_QUARTIERS:
            for code in _items(value_at(data, loc)):
                owner = commune_de.get(code)
                if owner == p.code_commune:
                    continue
                if owner is None:
                    msg = f"quartier « {code} » absent du jeu de données (table quartiers)"
                else:
                    msg = f"le quartier « {code} » appartient à la commune {owner}, pas à {p.code_commune}"
                out.append((loc, f"{msg} ; {_quartiers_de(commune_de, p.code_commune)}"))
    return out


def avertissements_donnees(p: Parametres, dataset: Any) -> list[tuple[tuple, str]]:
    """(key path, French warning) for every year named in the parameters outside the data's
    years (metadonnees.yaml). The run goes on: each analysis takes the latest year its data
    hold for each indicator and its page states the year actually used."""
    annees = _annees_du_jeu(dataset)
    if annees is None:
        return []
    data = p.as_dict()
    debut, fin = annees
    out: list[tuple[tuple, str]] = []
    for loc in CLES_ANNEES:
        hors = [a for a in _items(value_at(data, loc)) if not debut <= a <= fin]
        if hors:
            verbe = "est" if len(hors) == 1 else "sont"
            out.append(
                (
                    loc,
                    f"{', '.join(map(str, hors))} {verbe} hors des années du jeu de données "
                    f"({debut}-{fin}, metadonnees.yaml) : les pages indiquent l'année réellement utilisée",
                )
            )
    return out


def messages_donnees(
    p: Parametres,
    dataset: Any,
    sources: list[tuple[str, dict]],
    defaut: str,
    *,
    meme_valeur: bool = False,
    avertissements: bool = False,
) -> list[str]:
    """`problemes_donnees` (or, with `avertissements`, `avertissements_donnees`) as French lines
    naming the file and the key: the last of `sources` (params files, lowest first, then a
    notebook's `seuils`) that sets the key, else `defaut`. `meme_valeur`: only a source holding
    the very value counts (parameters injected by the runner)."""
    data = p.as_dict()
    found = avertissements_donnees(p, dataset) if avertissements else problemes_donnees(p, dataset)
    out = []
    for loc, msg in found:
        source = source_of_leaf(sources, loc, value_at(data, loc), check=meme_valeur) or defaut
        out.append(f"{_where(source, loc)} : {msg}")
    return out


def verifier_donnees(
    p: Parametres,
    dataset: Any,
    sources: list[tuple[str, dict]],
    defaut: str | None = None,
    *,
    meme_valeur: bool = False,
) -> list[str]:
    """Raise `ParamError` listing every parameter the data set contradicts (`messages_donnees`);
    `defaut`: the source named when none sets the key (default: the last of `sources`).
    Returns the warnings (years absent from the data), which do not stop the run."""
    if defaut is None:
        defaut = sources[-1][0] if sources else FOURNIS
    messages = messages_donnees(p, dataset, sources, defaut, meme_valeur=meme_valeur)
    if messages:
        raise ParamError(messages)
    return messages_donnees(p, dataset, sources, defaut, meme_valeur=meme_valeur, avertissements=True)


# --- public API ---------------------------------------------------------------------------------


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder, from `start` (default: cwd) upwards, that holds params/defaults.yaml."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PARAMS_DIR / DEFAULTS_FILE).is_file():
            return folder
    raise ParamError(
        f"Racine du projet introuvable : aucun dossier contenant {PARAMS_DIR}/{DEFAULTS_FILE} "
        f"au-dessus de {here}"
    )


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def check_code_commune(code_commune: Any) -> str:
    """The commune code if it is a 5-character INSEE code (or « region »); ParamError otherwise.
    An integer is what `papermill -p code_commune 20008` passes: the message says to use `-r`."""
    if isinstance(code_commune, int) and not isinstance(code_commune, bool):
        texte = str(code_commune).zfill(5)  # -p 01001 arrives as 1001: the zeros are lost
        raise ParamError(
            f"Code commune « {code_commune} » : doit être un texte entre guillemets, par ex. "
            f'code_commune = "{texte}" (un nombre perd les zéros de tête). Avec papermill, « -p » '
            f"lit le code comme un nombre : passez-le comme texte avec papermill -r code_commune {texte}"
        )
    if not isinstance(code_commune, str):
        raise ParamError(
            f'Code commune « {code_commune} » : doit être un texte (entre guillemets), par ex. "01001"'
        )
    if code_commune != REGION and not re.match(PATTERN_COMMUNE, code_commune):
        raise ParamError(
            f'Code commune « {code_commune} » : doit être un code INSEE de 5 caractères, par ex. "20001"'
        )
    return code_commune


_check_code = check_code_commune


def _load_defaults(root: Path) -> tuple[dict, str]:
    path = root / PARAMS_DIR / DEFAULTS_FILE
    shown = _rel(path, root)
    raw = _read_yaml(path, shown)
    _validate(Defauts, raw, [(shown, raw)], shown)
    return raw, shown


def _load_commune_file(root: Path, code_commune: str) -> tuple[dict, str]:
    path = root / PARAMS_DIR / f"{code_commune}.yaml"
    shown = _rel(path, root)
    if code_commune == REGION or not path.is_file():
        # A commune without a file runs with the defaults; load_territory checks the code exists.
        return {"code_commune": code_commune}, shown
    raw = _read_yaml(path, shown)
    if "code_commune" in raw and raw["code_commune"] != code_commune:
        raise ParamError(
            f"{shown}, clé « code_commune » : vaut « {raw['code_commune']} » alors que le fichier "
            f"s'appelle {code_commune}.yaml (les deux doivent être identiques)"
        )
    return raw, shown


def param_layers(code_commune: str, root: Path) -> list[tuple[str, dict]]:
    """The parameter files merged for a commune, lowest first, as (name shown, raw dict):
    params/defaults.yaml (validated on its own), then params/<code_commune>.yaml."""
    defaults, defaults_shown = _load_defaults(root)
    commune, commune_shown = _load_commune_file(root, code_commune)
    return [(defaults_shown, defaults), (commune_shown, commune)]


def load_params(
    code_commune: str, root: Path | None = None, overrides: dict | None = None, *, source: str = FOURNIS
) -> Parametres:
    """Merged, validated parameters of one commune (or of the region: `code_commune="region"`).

    `overrides` may be partial (deep-merged, lists replaced); `source` names them in errors
    (`SEUILS` for a notebook's trial overrides: « seuils › substitution › tolerance : … »)."""
    check_code_commune(code_commune)
    root = Path(root) if root is not None else find_project_root()
    layers = param_layers(code_commune, root)
    overrides = overrides or {}
    merged: dict = {}
    for _, raw in layers:
        merged = _deep_merge(merged, raw)
    merged = _deep_merge(merged, overrides)
    sources = list(layers)
    if overrides:
        sources.append((source, overrides))
    value = _validate(Parametres, merged, sources, layers[-1][0])
    if value.code_commune != code_commune:
        raise ParamError(
            f"{_where(source, ('code_commune',))} : « {value.code_commune} » au lieu de « {code_commune} »"
        )
    return value  # type: ignore[return-value]


def _plain(value: Any, loc: tuple) -> Any:
    """A notebook's value as YAML would give it: tuples as lists, numpy scalars as Python ones."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ParamError(
                    f"{_where(SEUILS, loc)} : la clé {key!r} doit être un texte entre guillemets"
                )
            out[key] = _plain(item, (*loc, key))
        return out
    if isinstance(value, list | tuple):
        return [_plain(v, (*loc, i)) for i, v in enumerate(value)]
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value


def check_seuils(seuils: Any) -> dict:
    """A notebook's trial overrides (`seuils`), checked before the merge: a dict (possibly
    partial) of parameter sections; not the commune code, which has its own parameter."""
    if seuils is None:
        return {}
    if isinstance(seuils, str):
        raise ParamError(
            'seuils : doit être un dictionnaire, par ex. {"substitution": {"tolerance": 0.05}} '
            f"(valeur « {_shown(seuils)} »). Avec papermill, passez-le en YAML : "
            "papermill -y 'seuils: {substitution: {tolerance: 0.05}}'"
        )
    if not isinstance(seuils, dict):
        raise ParamError(
            'seuils : doit être un dictionnaire, par ex. {"substitution": {"tolerance": 0.05}} '
            f"(valeur « {_shown(seuils)} »)"
        )
    if "code_commune" in seuils:
        raise ParamError(
            f"{_where(SEUILS, ('code_commune',))} : le code commune se change dans la cellule de "
            'paramètres (code_commune = "…"), pas dans seuils'
        )
    return _plain(seuils, ())


def load_params_with_seuils(code_commune: str, root: Path | None, seuils: Any) -> Parametres:
    """A commune's parameters with a notebook's trial overrides merged on top (partial dict)."""
    return load_params(code_commune, root, overrides=check_seuils(seuils), source=SEUILS)


def leaves(data: Any, prefix: tuple = ()) -> list[tuple[tuple, Any]]:
    """The (path, value) of every leaf of a parameter dict: sections are walked, lists are leaves."""
    if isinstance(data, dict):
        return [leaf for key, value in data.items() for leaf in leaves(value, (*prefix, key))]
    return [(prefix, data)]


def field_description(loc: tuple) -> str | None:
    """The French expectation of the parameter at `loc` (e.g. « une année (…) »), or None."""
    return _field_description(Parametres, loc)


def value_at(data: Any, loc: tuple) -> Any:
    """The value at `loc` in nested dicts (KeyError when absent)."""
    for part in loc:
        if not isinstance(data, dict) or part not in data:
            raise KeyError(loc)
        data = data[part]
    return data


def source_of_leaf(layers: list[tuple[str, dict]], loc: tuple, value: Any = None, *, check: bool = False):
    """The name of the last layer that sets the leaf `loc` (with this `value` when `check`), or None."""
    for name, raw in reversed(layers):
        if _has_path(raw, loc) and (not check or value_at(raw, loc) == value):
            return name
    return None


def validate_params_dict(parametres: dict, code_commune: str | None = None) -> Parametres:
    """Validate a complete parameter dict (as injected by the runner) with the same models."""
    if not isinstance(parametres, dict):
        raise ParamError("paramètres fournis : doivent être un dictionnaire (clé : valeur)")
    shown = FOURNIS
    value = _validate(Parametres, parametres, [(shown, parametres)], shown)
    if code_commune is not None and value.code_commune != code_commune:
        raise ParamError(
            f"{shown}, clé « code_commune » : « {value.code_commune} » ne correspond pas à la commune "
            f"du carnet « {code_commune} »"
        )
    return value  # type: ignore[return-value]


def commune_param_files(root: Path) -> list[Path]:
    """params/*.yaml except defaults.yaml, sorted."""
    return sorted(p for p in (Path(root) / PARAMS_DIR).glob("*.yaml") if p.name != DEFAULTS_FILE)


def validate_all(root: Path) -> list[str]:
    """Every problem of every params file, as French messages (empty list: all good)."""
    root = Path(root)
    messages: list[str] = []
    try:
        _load_defaults(root)
        defaults_ok = True
    except ParamError as exc:
        messages.extend(exc.messages)
        defaults_ok = False
    for path in commune_param_files(root):
        code = path.stem
        if not re.match(PATTERN_COMMUNE, code):
            messages.append(
                f"{_rel(path, root)} : nom de fichier inattendu, il doit être <code_commune>.yaml (par ex. 20001.yaml)"
            )
            continue
        try:
            if defaults_ok:
                load_params(code, root)
            else:
                _load_commune_file(root, code)
        except ParamError as exc:
            messages.extend(exc.messages)
    return messages


_TEMPLATE = """\
# Paramètres de la commune {code} pour les carnets d'évaluation du CUCS.
# Ce fichier complète params/defaults.yaml : toute valeur par défaut peut être redéfinie ici
# (seules les clés indiquées changent, les autres gardent la valeur par défaut).
# Les codes s'écrivent TOUJOURS entre guillemets : "01001" (sans guillemets, YAML lirait 1001).

# Code INSEE de la commune (identique au nom du fichier).
code_commune: "{code}"

# Quartiers à suivre en priorité dans les carnets (codes entre guillemets, par ex. "QP020001").
quartiers_interet: {quartiers}

# Quartiers d'expérimentation dont le carnet q8 dresse une fiche.
quartiers_experimentaux: []

# Territoire de comparaison : epci, departement ou region.
territoire_comparaison: epci

# Exemples de valeurs par défaut redéfinies pour cette commune (retirez le « # » pour activer) :
# substitution:
#   tolerance: 0.15          # baisse tolérée du droit commun avant de parler de substitution
# did:
#   seuil_intensite: 30      # euros par habitant pour qu'un quartier soit « financé »
# seuil_secret: 15           # effectif minimal publié (secret statistique) : 11 au moins, jamais moins
"""


def write_commune_template(
    code_commune: str, root: Path, force: bool = False, quartiers: list[str] | None = None
) -> Path:
    """Write a commented French params/<code>.yaml; refuses to overwrite unless `force`."""
    _check_code(code_commune)
    if code_commune == REGION:
        raise ParamError("« region » n'est pas un code commune : aucun fichier de paramètres à créer")
    root = Path(root)
    path = root / PARAMS_DIR / f"{code_commune}.yaml"
    if path.exists() and not force:
        raise ParamError(f"{_rel(path, root)} existe déjà : ajoutez --force pour le remplacer")
    quoted = "[" + ", ".join(f'"{q}"' for q in (quartiers or [])) + "]"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_TEMPLATE.format(code=code_commune, quartiers=quoted), encoding="utf-8")
    return path


# --- a resource centre's own project (cucs projet init) -------------------------------------------


def _package_project() -> Path:
    """The project folder the installed package lives in (its params/ and notebooks/)."""
    import cucs_analysis

    return Path(cucs_analysis.__file__).resolve().parents[1]


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, str):
        import json

        return json.dumps(value, ensure_ascii=False)  # a double-quoted YAML string
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_scalar(v) for v in value) + "]"
    return str(value)


def _set_leaf(texte: str, loc: tuple[str, ...], value: Any, commentaire: str) -> str:
    """Set one leaf of the shipped defaults.yaml in place (its other lines and comments kept),
    with a French comment line saying why, above the key."""
    lines = texte.split("\n")
    start, end, indent = 0, len(lines), ""
    for depth, key in enumerate(loc):
        pattern = re.compile(rf"^{re.escape(indent)}{re.escape(key)}:(\s|$)")
        i = next((j for j in range(start, end) if pattern.match(lines[j])), None)
        if i is None:
            raise ParamError(f"{DEFAULTS_FILE} livré : clé « {'.'.join(loc)} » introuvable")
        if depth < len(loc) - 1:
            # the section's lines: indented deeper than its key, up to the next key at its level
            start = i + 1
            body = [
                j for j in range(start, end) if lines[j].strip() and not lines[j].lstrip().startswith("#")
            ]
            if not body:
                raise ParamError(f"{DEFAULTS_FILE} livré : section « {key} » vide")
            first = lines[body[0]]
            indent = first[: len(first) - len(first.lstrip())]
            end = next((j for j in body if not lines[j].startswith(indent)), end)
    rest = lines[i].split("#", 1)
    keep = f"  #{rest[1]}" if len(rest) > 1 and not isinstance(value, str) else ""
    lines[i] = f"{indent}{loc[-1]}: {_yaml_scalar(value)}{keep}"
    # a block list under the key (« - item » lines) is replaced by the flow list just written
    while (
        i + 1 < len(lines)
        and lines[i + 1].lstrip().startswith("- ")
        and len(lines[i + 1]) - len(lines[i + 1].lstrip()) >= len(indent)
    ):
        del lines[i + 1]
    lines.insert(i, f"{indent}# {commentaire}")
    return "\n".join(lines)


def _within(value: int, debut: int, fin: int) -> bool:
    return debut <= value <= fin


def defaults_projet(
    shipped: str,
    donnees: str,
    meta: Any,
    source_meta: str,
    indicateurs: list[str] | None = None,
    degradation: set[str] | None = None,
) -> tuple[str, list[str]]:
    """The shipped defaults.yaml text with `donnees` and the years of the analyses set from the
    data's metadonnees.yaml (`meta`: annee_debut, annee_fin, annee_revenus_qpv; None: years
    kept), and the indicator lists reduced to the data's catalogue (`indicateurs`; the
    dynamique rule's indicator among those that worsen upwards, `degradation`), each change
    with a French comment; returns the text and what was changed (French lines). Every year
    set lies within the data's years, so the project does not warn about its own choices."""
    raw = yaml.safe_load(shipped)
    texte = _set_leaf(shipped, ("donnees",), donnees, "Dossier des données du projet (cucs projet init).")
    changes = [f"donnees : {donnees}"]

    def poser(loc: tuple[str, ...], value: Any, pourquoi: str, toujours: bool = False) -> None:
        nonlocal texte
        if toujours or value_at(raw, loc) != value:
            texte = _set_leaf(texte, loc, value, pourquoi)
            changes.append(f"{'.'.join(loc)} : {_yaml_scalar(value)}")

    if indicateurs:
        connus = "indicateur(s) livré(s) absent(s) du catalogue des indicateurs des données"
        for loc in CLES_INDICATEURS:
            livres = value_at(raw, loc)
            if isinstance(livres, list):
                gardes = [c for c in livres if c in indicateurs] or indicateurs[: len(livres)]
                poser(loc, gardes, f"{connus} : la liste garde ceux du catalogue ; à revoir.")
            elif livres not in indicateurs:
                poser(loc, indicateurs[0], f"{connus} : premier indicateur du catalogue ; à revoir.")
        # The dynamique rule follows a gap that widens: an indicator whose rise is a worsening.
        indicateur = value_at(yaml.safe_load(texte), ("dynamique", "indicateur"))
        pires = [c for c in indicateurs if c in (degradation or set())]
        if degradation is not None and pires and indicateur not in degradation:
            poser(
                ("dynamique", "indicateur"),
                pires[0],
                f"« {indicateur} » n'est pas un indicateur dont la hausse est une dégradation "
                "(catalogue des indicateurs des données) : premier indicateur de ce sens ; à revoir.",
            )
    debut, fin = getattr(meta, "annee_debut", None), getattr(meta, "annee_fin", None)
    if debut is None or fin is None:
        return texte, changes
    debut, fin = int(debut), int(fin)
    selon = f"{source_meta} : années {debut}-{fin}"

    poser(("periode", "debut"), debut, f"Première année des données ({selon}).", toujours=True)
    poser(("periode", "fin"), fin, f"Dernière année des données ({selon}).", toujours=True)
    cucs = int(raw["annee_debut_cucs"])
    contrat = "mettez l'année de début de votre contrat."
    if _within(cucs, debut, fin) and (cucs > debut or debut == fin):
        pourquoi = f"Valeur livrée, présente dans les données ({selon}) ; {contrat}"
    elif debut < fin:
        # The substitution and dynamique rules compare the contract's years with years before
        # it: the data's first year is kept for that, the contract starts the year after.
        livree = "première année des données" if cucs == debut else "absente des données"
        pourquoi = (
            f"Année livrée ({cucs}) {livree} ({selon}), aucune année des données ne précéderait le "
            "contrat : deuxième année des données, "
            f"pour que la première ({debut}) serve de référence (substitution, règle dynamique) ; {contrat}"
        )
        cucs = debut + 1
    else:
        cucs = debut
        pourquoi = f"Année livrée absente des données ({selon}) : la seule année des données ; {contrat}"
    poser(("annee_debut_cucs",), cucs, pourquoi, toujours=True)
    refs = [a for a in raw["substitution"]["annees_reference"] if debut <= a < cucs] or [cucs - 1]
    poser(
        ("substitution", "annees_reference"),
        refs,
        f"Années d'avant le contrat ({cucs}) présentes dans les données ({selon}) ; sinon la dernière "
        "année des données qui le précède.",
    )
    poser(("dynamique", "annee_debut"), debut, f"Première année des données ({selon}).")
    poser(("dynamique", "annee_fin"), max(fin, debut + 1), f"Dernière année des données ({selon}).")
    traitement = int(raw["did"]["annee_traitement"])
    if not _within(traitement, debut, fin):
        poser(
            ("did", "annee_traitement"),
            min(cucs + 2, fin),
            f"Année livrée ({traitement}) absente des données ({selon}) : deux ans après le début du contrat.",
        )
    revenus = getattr(meta, "annee_revenus_qpv", None)
    if revenus is not None:
        poser(
            ("qpv2014", "annee_revenus"),
            int(revenus),
            f"Année des revenus, {source_meta} (annee_revenus_qpv).",
        )
    elif not _within(int(raw["qpv2014"]["annee_revenus"]), debut, fin):
        poser(("qpv2014", "annee_revenus"), fin, f"Année livrée absente des données ({selon}) : la dernière.")
    if not _within(int(raw["zus"]["annee"]), debut, fin):
        poser(("zus", "annee"), debut, f"Année livrée absente des données ({selon}) : la première.")
    return texte, changes


def _indicateurs_du_catalogue(donnees: Path) -> tuple[list[str], set[str] | None]:
    """The indicator codes of the data's catalogue, in the order a replacement is picked: rates
    that worsen upwards, then other rates, then the rest (the project's own indicators first);
    empty when it has none or cannot be read (the run's checks will then say so). With them,
    the codes whose rise is a worsening (`sens`; None when the catalogue cannot be read)."""
    from cucs_analysis.data import readers, schema

    paths = readers.find_files(donnees).tables.get("catalogue_indicateurs") or []
    if len(paths) != 1:
        return [], None
    try:
        df, _ = readers.read_table(paths[0], schema.TABLES["catalogue_indicateurs"])
    except Exception:  # noqa: BLE001 - unreadable here: `cucs validate` says why
        return [], None
    if "indicateur" not in df.columns:
        return [], None
    propres = [c["indicateur"] for c in schema.CATALOGUE_INDICATEURS]

    def rang(row) -> tuple:
        code = str(row.get("indicateur"))
        taux = str(row.get("unite")) == "%"
        return (
            not (taux and str(row.get("sens")) == "hausse_degradation"),
            not taux,
            propres.index(code) if code in propres else len(propres),
        )

    lignes = sorted((r for r in df.to_dict("records") if r.get("indicateur") is not None), key=rang)
    codes = [str(c) for c in dict.fromkeys(r["indicateur"] for r in lignes)]
    pires = {str(r["indicateur"]) for r in lignes if str(r.get("sens")) == "hausse_degradation"}
    return codes, pires if "sens" in df.columns else None


def init_projet(dossier: Path | str, donnees: Path | str, force: bool = False) -> tuple[Path, list[str]]:
    """Create a resource centre's project: DOSSIER/params/defaults.yaml (the shipped defaults,
    `donnees` pointing at the data folder, years from its metadonnees.yaml) and the notebooks
    of the project the package lives in. Refuses a non-empty folder without `force`. Returns
    the project folder and the French lines of what changed in the defaults."""
    from cucs_analysis.data.readers import read_metadata
    from cucs_analysis.data.schema import METADATA_FILE

    dossier, donnees = Path(dossier), Path(donnees)
    if not donnees.is_dir():
        raise ParamError(f"Dossier de données introuvable : {donnees}")
    if dossier.exists() and not dossier.is_dir():
        raise ParamError(f"{dossier} existe et n'est pas un dossier")
    if dossier.is_dir() and any(dossier.iterdir()) and not force:
        raise ParamError(
            f"Le dossier {dossier} n'est pas vide : choisissez un dossier vide, ou ajoutez --force "
            "pour y réécrire params/defaults.yaml et les carnets (les autres fichiers sont gardés)"
        )
    source = _package_project()
    shipped, carnets = source / PARAMS_DIR / DEFAULTS_FILE, source / "notebooks"
    if not shipped.is_file() or not any(carnets.glob("*.ipynb")):
        raise ParamError(
            f"Paramètres ou carnets livrés introuvables à côté du logiciel ({source}) : « cucs projet "
            "init » copie ceux du dépôt où le paquet est installé (installez-le depuis son dépôt)"
        )
    meta_path = donnees / METADATA_FILE
    meta, problems = read_metadata(meta_path)
    if problems:
        raise ParamError([f"{METADATA_FILE} : {p}" for p in problems])
    annees_connues = meta_path.is_file() and {"annee_debut", "annee_fin"} <= set(
        yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
    )
    dossier_abs, donnees_abs = dossier.resolve(), donnees.resolve()
    try:
        chemin = donnees_abs.relative_to(dossier_abs).as_posix()
    except ValueError:
        chemin = donnees_abs.as_posix()
    texte, changes = defaults_projet(
        shipped.read_text(encoding="utf-8"),
        chemin,
        meta if annees_connues else None,
        METADATA_FILE,
        *_indicateurs_du_catalogue(donnees),
    )
    if not annees_connues:
        changes.append(
            f"{METADATA_FILE} sans annee_debut / annee_fin : les années livrées sont gardées "
            "(les années absentes des données donneront des avertissements)"
        )
    data = yaml.safe_load(texte)
    shown = f"{PARAMS_DIR}/{DEFAULTS_FILE}"
    _validate(Defauts, data, [(shown, data)], shown)  # ParamError: nothing is written
    import shutil

    (dossier / PARAMS_DIR).mkdir(parents=True, exist_ok=True)
    (dossier / PARAMS_DIR / DEFAULTS_FILE).write_text(texte, encoding="utf-8")
    (dossier / "notebooks").mkdir(exist_ok=True)
    for nb in sorted(carnets.glob("*.ipynb")):
        shutil.copyfile(nb, dossier / "notebooks" / nb.name)
    return dossier, changes
