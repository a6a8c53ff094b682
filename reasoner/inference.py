"""Inference: what follows from a case, by data alone.

The ontology closure (class membership, part-of regions, broader codes) was made explicit once
when the rule base was loaded; here the case is joined to it and to kb/, day numbers are added
beside dates, and the derivation rules of kb/rules/ run in file order, each adding its facts.
"""

from __future__ import annotations

from rdflib import Graph

from .intake import CaseInput, add_day_numbers
from .rulebase import RuleBase


def infer(case: CaseInput, rulebase: RuleBase) -> Graph:
    """The working graph of a case: case facts, derived facts, ontology closure and kb."""
    working = rulebase.reference_graph
    working += case.graph
    add_day_numbers(working, rulebase)
    for rule in rulebase.rules:
        derived = working.query(rule.query).graph
        if derived is not None:
            working += derived
    return working
