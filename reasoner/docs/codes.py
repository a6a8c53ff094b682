"""The codes of the case format, as intake accepts them: for each class of codes that an intake
shape requires (``sh:class`` in shapes/intake/), the fields that take it (their keys from
ontology/case-context.jsonld) and every code of the class in the closed ontology, with its label
and its other classes. Generated into docs/case-format.md by ``mtus docs``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rdflib import Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.term import Node

from ..intake_check import _context_keys as context_keys
from ..namespaces import CODE, MTUS, SH, local_name
from ..rulebase import RuleBase

#: fields checked outside the intake shapes (``intake_check.expected_block``): the class of codes each takes
CHECKED_IN_PYTHON = (("expected.REQUEST-ID.decision", MTUS.DecisionOutcome),)


@dataclass(frozen=True)
class CodeList:
    """One class of codes: its label, the fields that take it, and its codes."""

    cls: URIRef
    label: str
    fields: tuple[str, ...]
    codes: tuple[URIRef, ...]


def _label(rb: RuleBase, node: Node) -> str:
    value = rb.closure.value(node, RDFS.label)
    return str(value) if isinstance(value, Literal) else local_name(node)


def _prefixes(rb: RuleBase, keys: dict[str, str]) -> dict[Node, str]:
    """Each intake node shape -> the field path of its focus nodes ("" for the case itself)."""
    shapes = rb.intake_shapes
    owner: dict[Node, tuple[Node, bool]] = {}  # linking property -> (shape holding it, a list?)
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        for prop in shapes.objects(shape, SH.property):
            path = shapes.value(prop, SH.path)
            if path is not None and shapes.value(prop, SH.nodeKind) == SH.IRI:
                owner[path] = (shape, shapes.value(prop, SH.maxCount) != Literal(1))
    out: dict[Node, str] = {}

    def prefix(shape: Node, seen: frozenset[Node] = frozenset()) -> str:
        if shape in out:
            return out[shape]
        target = shapes.value(shape, SH.targetObjectsOf)
        if target is None or target not in owner or shape in seen:
            return ""
        parent, many = owner[target]
        head = prefix(parent, seen | {shape})
        key = keys.get(str(target), local_name(target))
        out[shape] = f"{head}.{key}" if head else key
        out[shape] += "[]" if many else ""
        return out[shape]

    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        prefix(shape)
    return out


def fields_by_class(rb: RuleBase) -> dict[URIRef, list[str]]:
    """Each class of codes -> the fields of the case format that take a code of it."""
    keys = context_keys(rb.context["@context"])
    shapes = rb.intake_shapes
    prefixes = _prefixes(rb, keys)
    out: dict[URIRef, list[str]] = defaultdict(list)
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        for prop in shapes.objects(shape, SH.property):
            cls, path = shapes.value(prop, SH["class"]), shapes.value(prop, SH.path)
            if isinstance(cls, URIRef) and path is not None:
                key = keys.get(str(path), local_name(path))
                head = prefixes.get(shape, "")
                out[cls].append(f"{head}.{key}" if head else key)
    for field, cls in CHECKED_IN_PYTHON:
        out[cls].append(field)
    return {cls: sorted(set(fields)) for cls, fields in out.items()}


def codes_of(rb: RuleBase, cls: URIRef) -> tuple[URIRef, ...]:
    """The codes of ``cls`` a case file can name: its members (closed ontology) in the code namespace."""
    return tuple(sorted((s for s in rb.closure.subjects(RDF.type, cls)
                         if isinstance(s, URIRef) and str(s).startswith(str(CODE))), key=local_name))


def code_lists(rb: RuleBase) -> list[CodeList]:
    lists = [CodeList(cls, _label(rb, cls), tuple(fields), codes_of(rb, cls))
             for cls, fields in fields_by_class(rb).items()]
    return sorted(lists, key=lambda c: c.label.lower())


def accepted(rb: RuleBase) -> dict[str, set[str]]:
    """Each field of the case format -> the codes intake accepts in it."""
    out: dict[str, set[str]] = {}
    for code_list in code_lists(rb):
        for field in code_list.fields:
            out.setdefault(field, set()).update(local_name(c) for c in code_list.codes)
    return out


def _other_classes(rb: RuleBase, code: URIRef, cls: URIRef) -> str:
    """The labels of the classes stated for ``code`` besides ``cls`` (its groupings)."""
    stated = {o for o in rb.ontology.objects(code, RDF.type) if isinstance(o, URIRef)} - {cls, OWL.NamedIndividual}
    return ", ".join(sorted(_label(rb, o) for o in stated))


def table(rb: RuleBase) -> str:
    lists = code_lists(rb)
    total = len({c for code_list in lists for c in code_list.codes})
    intro = (f"{total} codes in {len(lists)} lists. A code's other classes are the groupings that criteria "
             "test for (a criterion for a class applies to every code of it).")
    lines = [intro, ""]
    for code_list in lists:
        lines += [f"**{code_list.label}** (`mtus:{local_name(code_list.cls)}`, {len(code_list.codes)} codes): "
                  + ", ".join(f"`{f}`" for f in code_list.fields), "",
                  "| code | label | also |", "|---|---|---|"]
        lines += [f"| `{local_name(c)}` | {_label(rb, c)} | {_other_classes(rb, c, code_list.cls)} |"
                  for c in code_list.codes]
        lines.append("")
    return "\n".join(lines)
