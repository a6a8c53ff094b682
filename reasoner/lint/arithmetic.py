"""Rule arithmetic: a division in a derivation rule by anything but a whole number is written
IF(x = 0, 0, ROUND(x * 10000 / d) / 10000), so that rdflib and Oxigraph derive the same value
(docs/rule-arithmetic.md)."""

from __future__ import annotations

from rdflib import Literal
from rdflib.namespace import XSD
from rdflib.plugins.sparql.parserutils import CompValue

from ..rulebase import Rule, RuleBase
from .problems import Problem, check, in_rule
from .scope import Scope


def _divisions(node: object, guarded: tuple[bool, bool] = (False, False)) -> list[tuple[object, bool, bool]]:
    """Every division of an algebra node: (divisor, inside ROUND, inside IF)."""
    found: list[tuple[object, bool, bool]] = []
    if isinstance(node, CompValue):
        rounded, conditional = guarded
        if node.name == "Builtin_ROUND":
            rounded = True
        elif node.name == "Builtin_IF":
            conditional = True
        if node.name == "MultiplicativeExpression":
            found += [(other, rounded, conditional) for op, other in zip(node.op, node.other) if op == "/"]
        for value in node.values():
            found += _divisions(value, (rounded, conditional))
    elif isinstance(node, (list, tuple)):
        for value in node:
            found += _divisions(value, guarded)
    return found


def divisions(rule: Rule) -> list[str]:
    """What is wrong with each division of a rule (empty: every division is written as the
    convention says)."""
    out = []
    for divisor, rounded, conditional in _divisions(rule.query.algebra):
        whole = isinstance(divisor, Literal) and divisor.datatype == XSD.integer
        if not whole and not (rounded and conditional):
            what = f"?{divisor}" if not isinstance(divisor, (CompValue, Literal)) else str(divisor)[:40]
            out.append(f"a division by {what} that is not written IF(x = 0, 0, ROUND(x * 10000 / d) / 10000): "
                       "the SPARQL engines would derive different values (docs/rule-arithmetic.md)")
    return out


@check("rule arithmetic")
def rule_arithmetic(rb: RuleBase, scope: Scope) -> list[Problem]:
    """Every division in a derivation rule by anything but a whole number is written
    ``IF(x = 0, 0, ROUND(x * 10000 / d) / 10000)``: rdflib and Oxigraph round other divisions
    differently, and the two engines must derive the same value. Fix: write it so
    (docs/rule-arithmetic.md)."""
    return [in_rule(rb, rule, message) for rule in rb.rules if scope.covers_rule(rule) for message in divisions(rule)]
