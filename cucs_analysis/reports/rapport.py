"""What every question's report shares: the frames behind its views, for the analyst.

A report module defines `vue_<name>(r)` functions (a `present.display.vue`, or None when the
section's data is absent) that the notebook shows with `d.tableau(qN.vue_<name>(r), …)`.
`r.tables` calls every one of them and returns their DataFrames by name, so an analyst in
JupyterLab computes on the numbers rather than on formatted text.
"""

from __future__ import annotations

import importlib

import pandas as pd


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
