"""Properties and rules: every predicate a shape reads is produced by something (else the shape
never sees a value: a support shape always fails, a contradiction never fires), and everything
a rule derives is read by something (else the rule is dead weight, or what should read it has
a misspelt name)."""

from __future__ import annotations

from rdflib import URIRef

from ..namespaces import SH, qname
from ..rulebase import RuleBase
from .problems import Problem, at, check, in_rule
from .reading import flows, owners, path_predicates, produced, readers_besides_rules
from .scope import Scope


@check("derived properties")
def derived_properties(rb: RuleBase, scope: Scope) -> list[Problem]:
    """Every predicate on a guideline shape's paths (nested shapes, sequence and alternative
    paths, qualified value shapes: every sh:path) comes from the case format
    (ontology/case-context.jsonld), from intake (mtus:dayNumberOf), from a rule of kb/rules/
    (its CONSTRUCT template) or from the closed ontology and kb. A predicate nothing produces is
    never there: the shape is always violated, or never. Fix: correct the name (the derived facts
    are listed in docs/authoring.md), or write the rule that derives it."""
    sources = produced(rb)
    shape_owner = owners(rb.shapes)
    missing: dict[tuple[URIRef, URIRef], None] = {}
    for node, path in rb.shapes.subject_objects(SH.path):
        shape = shape_owner.get(node)
        if shape is None or not scope.covers(rb, shape):
            continue
        for predicate in sorted(path_predicates(rb.shapes, path)):
            if predicate not in sources:
                missing[(shape, predicate)] = None
    return [at(rb, shape, f"reads {qname(predicate)}, which neither the case format, intake, a rule of "
                          "kb/rules/ nor the ontology and kb produce: correct the name, or write the rule "
                          "that derives it")
            for shape, predicate in sorted(missing)]


@check("rule outputs")
def rule_outputs(rb: RuleBase, scope: Scope) -> list[Problem]:
    """Every predicate a rule derives is read: by a shape, another rule, selection, the
    wording, the stored analyst facts (reasoner/batch.py) or a query of queries/. Fix: remove
    what nothing reads, or correct the name where it is read."""
    readers = readers_besides_rules(rb)
    rules = flows(rb.rules)
    problems = []
    for rule, flow in zip(rb.rules, rules):
        if not scope.covers_rule(rule) or flow.writes is None:
            continue
        read_by_rules = set().union(*(other.reads for other in rules if other is not flow))
        for predicate in sorted(flow.writes):
            if predicate not in readers and predicate not in read_by_rules:
                problems.append(in_rule(rb, rule, f"derives {qname(URIRef(predicate))}, which no shape, other "
                                                  "rule, selection, wording, analyst fact or query of queries/ "
                                                  "reads: remove it, or correct the name where it is read"))
    return problems
