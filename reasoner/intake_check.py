"""Turn the intake shapes' validation report into one precise problem per mistake.

Each problem names the field path of the case file, says what was expected (the shape's
sh:message), and for an unknown code or field suggests the nearest valid ones.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from . import shacl
from .errors import Problem
from .namespaces import MTUS, SH, local_name

if TYPE_CHECKING:
    from .intake import CaseInput
    from .rulebase import RuleBase

_INDEX = re.compile(r"^(.*)\[(\d+)\]$")


def _context_keys(context: dict[str, Any], prefixes: dict[str, str] | None = None) -> dict[str, str]:
    """Expanded property IRI -> case-format key, including keys of scoped contexts."""
    prefixes = dict(prefixes or {})
    for key, value in context.items():
        if isinstance(value, str) and value.endswith(("#", "/")):
            prefixes[key] = value
    keys: dict[str, str] = {}
    for key, value in context.items():
        if key.startswith("@"):
            continue
        iri = value if isinstance(value, str) else value.get("@id", "") if isinstance(value, dict) else ""
        if ":" in iri and not iri.endswith(("#", "/")):
            prefix, rest = iri.split(":", 1)
            keys[prefixes.get(prefix, prefix + ":") + rest] = key
        if isinstance(value, dict) and isinstance(value.get("@context"), dict):
            keys.update(_context_keys(value["@context"], prefixes))
    return keys


def _nearest(word: str, candidates: list[str]) -> tuple[str, ...]:
    return tuple(difflib.get_close_matches(word, candidates, n=3, cutoff=0.5))


def _navigate(data: Any, path: str) -> Any:
    node = data
    for part in [p for p in path.split(".") if p]:
        match = _INDEX.match(part)
        name, index = (match.group(1), int(match.group(2))) if match else (part, None)
        node = node.get(name) if isinstance(node, dict) else None
        if index is not None:
            node = node[index] if isinstance(node, list) and index < len(node) else None
    return node


def _class_members(rulebase: RuleBase, cls: Node) -> list[str]:
    return sorted(local_name(s) for s in rulebase.closure.subjects(RDF.type, cls) if isinstance(s, URIRef))


def _problem(case: CaseInput, rulebase: RuleBase, report: Graph, result: Node, keys: dict[str, str]) -> Problem:
    focus = report.value(result, SH.focusNode)
    prop = report.value(result, SH.resultPath)
    value = report.value(result, SH.value)
    component = report.value(result, SH.sourceConstraintComponent)
    shape = report.value(result, SH.sourceShape)
    message = str(report.value(result, SH.resultMessage) or "is not valid")
    base = case.field_paths.get(focus, "" if focus == case.root else str(focus)) if isinstance(focus, URIRef) else ""
    key = ""
    if isinstance(prop, URIRef):
        key = keys.get(str(prop), local_name(prop))
    elif component == SH.ClosedConstraintComponent and report.value(result, SH.resultPath) is None:
        key = ""
    path = f"{base}.{key}" if base and key else (key or base or "(case)")
    if value is not None and case.data is not None:
        raw = _navigate(case.data, path)
        shown = local_name(value) if isinstance(value, URIRef) else str(value)
        if isinstance(raw, list):
            for i, item in enumerate(raw):
                if str(item) == shown:
                    path = f"{path}[{i}]"
                    break
    suggestions: tuple[str, ...] = ()
    if component == SH.ClassConstraintComponent and isinstance(value, URIRef):
        cls = rulebase.intake_shapes.value(shape, SH["class"])
        members = _class_members(rulebase, cls) if cls is not None else []
        suggestions = _nearest(local_name(value), members)
        message = f"unknown code: {message}"
    elif component == SH.ClosedConstraintComponent and isinstance(prop, URIRef):
        allowed = [keys.get(str(p), local_name(p))
                   for ps in rulebase.intake_shapes.objects(shape, SH.property)
                   for p in rulebase.intake_shapes.objects(ps, SH.path)]
        suggestions = _nearest(key, sorted(set(allowed)))
        message = f"unknown field {key!r}: {message}"
    elif component == SH.SPARQLConstraintComponent and isinstance(value, Literal):
        suggestions = _suggest_from(rulebase, report.value(result, SH.sourceConstraint), value)
    found = (local_name(value) if isinstance(value, URIRef) else str(value)) if value is not None else None
    return Problem(path, message, suggestions, found=found[:80] if found is not None else None)


def reference_triples(rulebase: RuleBase) -> list[tuple[Node, Node, Node]]:
    """What the intake shapes read of the rule base besides the classes of the codes a case
    uses: the day-number declarations, and every value of a property an intake constraint
    suggests from (``mtus:suggestFrom``, e.g. the RxCUIs of the drug codes) or reads
    (``mtus:readsProperty``, e.g. the anatomical sites of the services and the part-of links)."""
    triples: list[tuple[Node, Node, Node]] = list(rulebase.ontology.triples((None, MTUS.dayNumberOf, None)))
    for prop in set(rulebase.intake_shapes.objects(None, MTUS.suggestFrom)) \
            | set(rulebase.intake_shapes.objects(None, MTUS.readsProperty)):
        triples += rulebase.closure.triples((None, prop, None))
    return triples


def _suggest_from(rulebase: RuleBase, shape: Node | None, value: Node | None) -> tuple[str, ...]:
    """The nearest valid values of a literal that a constraint with ``mtus:suggestFrom`` rejected."""
    prop = rulebase.intake_shapes.value(shape, MTUS.suggestFrom) if shape is not None else None
    if prop is None or not isinstance(value, Literal):
        return ()
    known = {str(v): s for s, v in rulebase.closure.subject_objects(prop)}
    return tuple(f"{v} ({local_name(known[v])})" for v in _nearest(str(value), sorted(known)))


def validate(case: CaseInput, rulebase: RuleBase) -> list[Problem]:
    """Validate a case graph against the intake shapes; one problem per result."""
    from .intake import add_day_numbers

    data = Graph()  # the case, the classes of the codes it uses, and the day-number declarations
    data += case.graph
    for triple in reference_triples(rulebase):
        data.add(triple)
    for code in {o for o in case.graph.objects() if isinstance(o, URIRef)}:
        for cls in rulebase.reference.objects(code, RDF.type):
            data.add((code, RDF.type, cls))
    add_day_numbers(data, rulebase)
    conforms, report = shacl.validate(data, rulebase.intake_shapes, advanced=True)
    if conforms:
        return []
    keys = _context_keys(rulebase.context["@context"])
    problems = {_problem(case, rulebase, report, r, keys)
                for r in report.subjects(RDF.type, SH.ValidationResult)}
    return sorted(problems, key=lambda p: (p.path, p.message))


def expected_block(expected: Any, rulebase: RuleBase) -> list[Problem]:
    """The ``expected`` block is never evaluated; only its decision values are checked (a
    request whose expectation states a formulary answer may leave the decision out)."""
    if not isinstance(expected, dict):
        return [Problem("expected", "expected a mapping from request id to the expected outcome")]
    allowed = _class_members(rulebase, MTUS.DecisionOutcome)
    problems = []
    for request_id, outcome in expected.items():
        decision = outcome.get("decision") if isinstance(outcome, dict) else None
        if isinstance(outcome, dict) and "decision" not in outcome and "formulary" in outcome:
            continue  # a case of the formulary answer only (tests/casefiles.py)
        if decision not in allowed:
            problems.append(Problem(f"expected.{request_id}.decision",
                                    f"expected one of {', '.join(allowed)}",
                                    _nearest(str(decision), allowed)))
    return problems
