"""Supported quantity (issue 14 part 2): the most of a request over a limit the guideline supports.

A request over a limit is still decided as a whole (upheld); beside the decision, the item
carries the most the guideline supports and the criterion and threshold that set it, as
utilization review modifies a request. Nothing here names a limit: the limits are the upper
bounds a criterion's contradiction shapes put on a property of the request
(``mtus:maxInclusiveFrom`` / ``mtus:maxExclusiveFrom`` a threshold; ``Criterion.limits``, read
by reasoner.catalog), their values those in force on the item's rule date, and the requested
value the fact that contradicted the criterion.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rdflib import Literal, URIRef

from .decisions import NOT_MET, CriterionResult
from .namespaces import MTUS, local_name

if TYPE_CHECKING:
    from .texts import Texts


@dataclass(frozen=True)
class SupportedQuantity:
    value: Decimal
    requested: Decimal
    unit: str  # the threshold's unit (code), "" without one
    unit_label: str
    field: str  # the request property the limit bounds (a case-format field or a derived quantity)
    criterion: URIRef
    threshold: URIRef
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"value": _number(self.value), "requested": _number(self.requested), "unit": self.unit or None,
                "field": self.field, "criterion": local_name(self.criterion),
                "threshold": local_name(self.threshold), "text": self.text}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    return Decimal(str(value))


def supported(results: tuple[CriterionResult, ...], day: dt.date | None, texts: Texts) -> SupportedQuantity | None:
    """The most the guideline supports of a request that a limit criterion finds over its
    limit (the smallest such most, relative to the requested value), or None."""
    writer = texts._writer  # the rule base's thresholds with their dated values
    labels = texts._labels  # the closure: the ontology, with mtus:requestAmount derived
    if writer is None or day is None:
        return None
    found: list[tuple[Decimal, SupportedQuantity]] = []
    for result in (r for top in results for r in top.walk()):
        if result.status != NOT_MET:
            continue
        crit = result.criterion
        for path, iri, annotation in crit.limits:
            if (path, MTUS.requestAmount, Literal(True)) not in labels:
                continue  # a limit on the record (symptom duration ...), not on an amount of the request
            threshold = writer.thresholds.get(iri)
            dated = threshold.on(day) if threshold is not None else None
            if threshold is None or dated is None:
                continue
            bound = _decimal(dated.value.toPython())
            values = [_decimal(f.node.toPython()) for f in result.contradicting
                      if f.path == path and isinstance(f.node, Literal)]
            requested = [r for r in values if r is not None]
            if bound is None or not requested:
                continue
            most = bound
            if annotation == MTUS.maxExclusiveFrom:
                if bound != bound.to_integral_value():
                    continue  # no largest value below a fractional bound
                most = bound - 1
            asked = max(requested)
            if asked <= most:
                continue
            unit = threshold.unit
            unit_label = texts.label(unit) if unit is not None else ""
            field = texts.label(path)
            text = texts("supported-quantity", value=_words(most), unit=unit_label, field=field,
                         requested=_words(asked), criterion=crit.shortfall or local_name(crit.iri))
            found.append((most / asked, SupportedQuantity(most, asked, texts.notation(unit) if unit else "",
                                                          unit_label, field, crit.iri, iri, text)))
    if not found:
        return None
    return min(found, key=lambda f: f[0])[1]


def _words(value: Decimal) -> str:
    return str(_number(value))
