"""MTUS reasoner: California MTUS treatment guidelines as data, and the reasoner that applies them.

Public API: ``evaluate(case, engine="fast"|"reference") -> Determination`` (thread-safe; typed
results: ``Decision`` and ``CriterionStatus`` enums, ``Determination.to_dict()``/``to_json()``);
``find_counterfactuals(case) -> CaseCounterfactuals`` (per item, the verified sets of
documentable changes that would turn its decision); ``load_rulebase(root)``; ``__version__``.
"""

from __future__ import annotations

import logging
from importlib import metadata

from . import sparql_cache
from .counterfactuals import CaseCounterfactuals, ChangeSet, ItemCounterfactuals
from .counterfactuals import find as find_counterfactuals
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

try:
    __version__ = metadata.version("mtus-reasoner")  # pyproject.toml, the one place it lives
except metadata.PackageNotFoundError:  # pragma: no cover (a source tree never installed)
    __version__ = "0+unknown"

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
