"""What the differential test compares: everything a determination says, but the clock.

Decisions, applied sections, criterion states (every branch, with applicability), the facts
that supported or contradicted each criterion and their wording, item labels, flags, the
rationale, edition, provenance. Two things are normalised: a literal is compared by datatype
and value (rdflib and Oxigraph may spell ``1.5E0`` and ``1.5`` differently; a number by its
value alone, see :func:`term`), and the facts of a
criterion are compared as a set, because the reference path lists them in the order pySHACL
reports them, which follows Python's per-process string hashing; the rationale is therefore
compared after putting each criterion's facts in one order on both sides. A derived decimal is
compared to DECIMAL_PLACES places (rules that divide without rounding give Oxigraph's 18-digit
and rdflib's 28-digit results); the wording of a fact, which shows one decimal, is compared as is.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from rdflib import Literal
from rdflib.term import Node

from .. import rationale
from ..decisions import CriterionResult, Fact
from ..determination import Determination, ItemDecision
from ..errors import MtusError
from ..texts import Texts

#: Derived decimals are compared to this many decimal places: Oxigraph's xsd:decimal keeps 18,
#: rdflib's 28, and a rule that divides without rounding gives a different last digit.
DECIMAL_PLACES = 12


def term(node: Node | None) -> Any:
    """A term as compared: a number by its value alone (the engines promote numeric types
    differently: a sum or a product may come back xsd:integer, xsd:decimal or xsd:double)."""
    if isinstance(node, Literal):
        value = node.toPython() if not node.ill_typed else str(node)
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            return ("number", Decimal(repr(value) if isinstance(value, float) else value)
                    .quantize(Decimal(1).scaleb(-DECIMAL_PLACES)))
        return ("literal", str(node.datatype), node.language, value)
    return node


def _fact(fact: Fact) -> Any:
    return (term(fact.node), term(fact.path))


def _sorted(facts: tuple[Fact, ...], texts: dict[Fact, str]) -> tuple[Fact, ...]:
    return tuple(sorted(facts, key=lambda f: (texts.get(f, ""), repr(_fact(f)))))


def _canonical(result: CriterionResult, texts: dict[Fact, str]) -> CriterionResult:
    return dataclasses.replace(
        result, supporting=_sorted(result.supporting, texts), contradicting=_sorted(result.contradicting, texts),
        branches=tuple(_canonical(b, texts) for b in result.branches))


def _criteria(result: CriterionResult) -> list[Any]:
    return [(r.criterion.iri, r.status, r.applicable, frozenset(_fact(f) for f in r.supporting),
             frozenset(_fact(f) for f in r.contradicting)) for r in result.walk()]


def item_summary(item: ItemDecision, texts: Texts) -> dict[str, Any]:
    canonical = tuple(_canonical(r, item.fact_text) for r in item.criteria)
    text = item.rationale
    if item.section is not None:
        text = rationale.compose(item.section, canonical, item.decision, item.item_label, item.fact_text, texts)
    return {
        "request": item.request, "request_id": item.request_id, "service": item.service,
        "region": item.region, "label": item.item_label, "decision": item.decision,
        "section": item.section.iri if item.section is not None else None,
        "criteria": [c for r in item.criteria for c in _criteria(r)],
        "facts": {_fact(f): t for f, t in item.fact_text.items()},
        "cited": item.ur_guideline_cited, "mismatch": item.ur_guideline_mismatch,
        "flags": item.flags, "rationale": text, "formulary": item.formulary,
    }


def summary(result: Determination | MtusError, texts: Texts) -> dict[str, Any]:
    """A determination (or the error raised instead) as plain comparable data."""
    if isinstance(result, MtusError):
        return {"error": type(result).__name__, "message": str(result)}
    return {
        "case": result.case_id, "iri": result.case_iri, "review": result.review_date,
        "version": result.rulebase_version, "digest": result.rulebase_digest,
        "input": result.input_hash, "edition": result.edition, "edition_label": result.edition_label,
        "source": result.source, "items": [item_summary(i, texts) for i in result.items],
    }


def differences(reference: Determination | MtusError, fast: Determination | MtusError, texts: Texts) -> list[str]:
    """One line per field in which the fast path's result differs from the reference path's."""
    a, b = summary(reference, texts), summary(fast, texts)
    if a.keys() != b.keys():
        return [f"reference gave {a.get('error', 'a determination')}, fast path {b.get('error', 'a determination')}"]
    out = [f"{key}: {a[key]!r} != {b[key]!r}" for key in a if key != "items" and a[key] != b[key]]
    items_a, items_b = a.get("items", []), b.get("items", [])
    if len(items_a) != len(items_b):
        out.append(f"{len(items_a)} items != {len(items_b)} items")
    for ia, ib in zip(items_a, items_b):
        out += [f"item {ia['request_id']} {key}: {ia[key]!r} != {ib[key]!r}" for key in ia if ia[key] != ib[key]]
    return out
