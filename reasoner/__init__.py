"""MTUS reasoner: California MTUS treatment guidelines as data, and the reasoner that applies them.

Public API: ``evaluate(case, engine="fast"|"reference") -> Determination`` (thread-safe; typed
results: ``Decision`` and ``CriterionStatus`` enums, ``Determination.to_dict()``/``to_json()``);
``find_counterfactuals(case) -> CaseCounterfactuals`` (per item, the verified sets of
documentable changes that would turn its decision); ``load_rulebase(root)``; ``__version__``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from . import sparql_cache
from .decisions import CriterionResult, Decision
from .determination import Determination, ItemDecision
from .engines import EngineName, evaluate
from .errors import IntakeError, MtusError, Problem, RuleBaseError
from .kinds import CriterionStatus
from .rulebase import RuleBase
from .rulebase import get as load_rulebase

# rdflib logs the lexical form of an ill-typed literal (case content) as a warning; intake
# reports the problem itself, by field path, so the library's log stays silent about it.
logging.getLogger("rdflib.term").setLevel(logging.ERROR)
sparql_cache.install()

if TYPE_CHECKING:
    from .counterfactuals import CaseCounterfactuals, ChangeSet, ItemCounterfactuals
    from .counterfactuals import find as find_counterfactuals

#: names imported when first used (a cold ``mtus evaluate`` does not need them)
_LAZY = {"CaseCounterfactuals": ("counterfactuals", "CaseCounterfactuals"),
         "ChangeSet": ("counterfactuals", "ChangeSet"),
         "ItemCounterfactuals": ("counterfactuals", "ItemCounterfactuals"),
         "find_counterfactuals": ("counterfactuals", "find")}


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read when asked: importlib.metadata is slow to import
        from importlib import metadata

        try:
            version = metadata.version("mtus-reasoner")  # pyproject.toml, the one place it lives
        except metadata.PackageNotFoundError:  # pragma: no cover (a source tree never installed)
            version = "0+unknown"
        globals()["__version__"] = version
        return version
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(f".{module}", __name__), attribute)
    globals()[name] = value
    return value

__all__ = [
    "CaseCounterfactuals",
    "ChangeSet",
    "CriterionResult",
    "CriterionStatus",
    "Decision",
    "Determination",
    "EngineName",
    "IntakeError",
    "ItemCounterfactuals",
    "ItemDecision",
    "MtusError",
    "Problem",
    "RuleBase",
    "RuleBaseError",
    "__version__",
    "evaluate",
    "find_counterfactuals",
    "load_rulebase",
]
