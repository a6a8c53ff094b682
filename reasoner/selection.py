"""Selection: for each requested item, the guideline section in force on the review date that
addresses its service and region (and, for a medication, its drug or drug class), at the earliest
step of the evidence search sequence; among several, the one with the highest
mtus:selectionPriority (a specific drug's section before its class's).

An item that no encoded section addresses gets none: it is decided ``not_addressed``. The
section is given as in force on the item's rule date (:func:`rule_date`): its texts state the
threshold values then in force.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef

from .catalog import Section
from .errors import IntakeError, Problem
from .namespaces import MTUS, PREFIXES
from .rulebase import RuleBase

_SECTIONS = """
SELECT DISTINCT ?section ?order ?priority WHERE {
  ?request mtus:service ?service ; mtus:ofCase/mtus:reviewDate ?review .
  OPTIONAL { ?request mtus:region ?stated }
  BIND(COALESCE(?stated, code:whole_body) AS ?region)
  ?section a mtus:GuidelineSection ;
           mtus:addressesService ?addressed ; mtus:addressesRegion ?addressedRegion ;
           mtus:effectiveFrom ?from ; mtus:searchStep/mtus:stepOrder ?order .
  ?service mtus:broader* ?addressed .
  ?region mtus:partOf* ?addressedRegion .
  OPTIONAL { ?section mtus:effectiveUntil ?until }
  FILTER(?from <= ?review && (!BOUND(?until) || ?review <= ?until))
  { ?section mtus:anyDrugClass true }
  UNION { ?section mtus:addressesDrugClass ?class . ?request mtus:drug/rdf:type ?class }
  { ?section mtus:anyDrug true }
  UNION { ?section mtus:addressesDrug ?drug . ?request mtus:drug ?drug }
  OPTIONAL { ?section mtus:selectionPriority ?statedPriority }
  BIND(COALESCE(?statedPriority, 0) AS ?priority)
}
ORDER BY ?order DESC(?priority) ?section
"""

_EDITION = """
SELECT ?edition WHERE {
  ?case mtus:reviewDate ?review .
  ?edition a mtus:Edition ; mtus:effectiveFrom ?from .
  OPTIONAL { ?edition mtus:effectiveUntil ?until }
  FILTER(?from <= ?review && (!BOUND(?until) || ?review <= ?until))
}
"""


@dataclass(frozen=True)
class Selection:
    section: Section | None
    alternatives: tuple[Section, ...]


def rule_date(graph: Graph, request: URIRef) -> dt.date:
    """The date that picks the rules for an item (the sections, the threshold values): the
    case's review date."""
    case = graph.value(request, MTUS.ofCase)
    value = graph.value(case, MTUS.reviewDate) if case is not None else None
    if isinstance(value, Literal) and isinstance(value.toPython(), dt.date):
        day: dt.date = value.toPython()
        return day
    raise IntakeError("case", [Problem("review_date", "expected the date of the review, YYYY-MM-DD")])


def select(working: Graph, request: URIRef, rulebase: RuleBase) -> Selection:
    rows = working.query(_SECTIONS, initNs=dict(PREFIXES), initBindings={"request": request})
    catalog = rulebase.catalog
    found = [s for s in (row[0] for row in rows) if isinstance(s, URIRef) and s in catalog.sections]  # type: ignore[index]
    if not found:
        return Selection(None, ())
    day = rule_date(working, request)
    return Selection(catalog.in_force(found[0], day), tuple(catalog.in_force(s, day) for s in found[1:]))


def edition(working: Graph, case: URIRef) -> URIRef | None:
    rows = list(working.query(_EDITION, initNs=dict(PREFIXES), initBindings={"case": case}))
    value = rows[0][0] if rows else None  # type: ignore[index]
    return value if isinstance(value, URIRef) else None
