"""Problems found in input data, and the exception that carries them.

A `Problem` names the file, the physical line (header = line 1), the column, the value and the
rule, so an analyst can fix the file in a spreadsheet. Messages are French (users read them).

Numbers in messages go through `cucs_analysis.present.text`, the one French formatter: the
single documented exception to the layering (the data layer imports nothing above it but this
leaf module, which imports nothing from the package).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from cucs_analysis.present import text

#: Severity of a problem: an error makes the data set unusable (`cucs validate` fails, loading
#: raises); a warning is shown but does not block (an unknown value, a reported repair).
ERREUR = "erreur"
AVERTISSEMENT = "avertissement"


@dataclass(frozen=True)
class Problem:
    """One problem in one place of one input file.

    `autres` > 0 marks a summary entry standing for that many further problems of the same
    rule and column that were not listed one by one (listings are capped). `niveau` is
    `ERREUR` (default) or `AVERTISSEMENT` (shown, never blocking).
    """

    fichier: str
    ligne: int | None
    colonne: str | None
    valeur: str | None
    regle: str
    message: str
    autres: int = 0
    niveau: str = ERREUR

    @classmethod
    def whole_file(cls, fichier: str, regle: str, message: str, niveau: str = ERREUR) -> Problem:
        """A problem with the file as a whole (no line, column or value)."""
        return cls(fichier, None, None, None, regle, message, niveau=niveau)

    @property
    def est_erreur(self) -> bool:
        return self.niveau != AVERTISSEMENT

    @property
    def count(self) -> int:
        """How many problems this entry stands for."""
        return self.autres if self.autres else 1

    def __str__(self) -> str:
        parts = [self.fichier]
        if self.ligne is not None:
            parts.append(f"ligne {self.ligne}")
        if self.colonne is not None:
            parts.append(f"colonne « {_one_line(self.colonne)} »")
        if self.valeur is not None:
            parts.append(f"valeur « {_one_line(self.valeur)} »")
        return f"{', '.join(parts)} : {self.message} [règle : {self.regle}]"


def _one_line(value: str) -> str:
    """A cell shown inside one line: control and format characters (line breaks, tabs,
    bidi overrides) escaped, so a problem stays one readable line."""
    return "".join(
        c if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp") else ascii(c)[1:-1] for c in value
    )


def count_problems(problems: list[Problem]) -> int:
    """Total number of problems, summary entries included with their count."""
    return sum(p.count for p in problems)


def erreurs(problems: list[Problem]) -> list[Problem]:
    """The blocking problems (errors) of a list."""
    return [p for p in problems if p.est_erreur]


def avertissements(problems: list[Problem]) -> list[Problem]:
    """The warnings of a list (shown, never blocking)."""
    return [p for p in problems if not p.est_erreur]


class DataError(Exception):
    """Input data that cannot be used as is; `problems` lists everything that was found."""

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem("", None, None, None, "données", problems)]
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        n = count_problems(self.problems)
        if n == 1 and not self.problems[0].fichier:
            return self.problems[0].message
        head = f"{text.nombre(n)} problème{'s' if n > 1 else ''} dans les données :"
        lines = [f"  - {p}" if p.fichier else f"  - {p.message}" for p in self.problems]
        return "\n".join([head, *lines])
