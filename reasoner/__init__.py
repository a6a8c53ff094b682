"""MTUS reasoner: California MTUS treatment guidelines as data, and the reasoner that applies them.

Public API: ``evaluate(case) -> Determination``; ``load_rulebase(root)``.
"""

from __future__ import annotations

import logging

from . import sparql_cache
from .api import evaluate
from .determination import Determination, ItemDecision
from .errors import IntakeError, MtusError, Problem, RuleBaseError
from .rulebase import RuleBase
from .rulebase import get as load_rulebase

# rdflib logs the lexical form of an ill-typed literal (case content) as a warning; intake
# reports the problem itself, by field path, so the library's log stays silent about it.
logging.getLogger("rdflib.term").setLevel(logging.ERROR)
sparql_cache.install()

__all__ = [
    "Determination",
    "IntakeError",
    "ItemDecision",
    "MtusError",
    "Problem",
    "RuleBase",
    "RuleBaseError",
    "evaluate",
    "load_rulebase",
]
