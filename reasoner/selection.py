"""Selection: for each requested item, the guideline section in force on the item's rule date
that addresses its service and region (and, for a medication, its drug or drug class), at the earliest
step of the evidence search sequence; among several, the one with the highest
mtus:selectionPriority (a specific drug's section before its class's).

An item that no encoded section addresses gets none: it is decided ``not_addressed``. The
rule date (:func:`rule_date`) is derived by kb/rules/01-rule-date.rq: the item's date of the
kind its MTUS edition names (request, service or dispense date); an item dated before the first
edition has none, and no section. The section is given as in force on the rule date: its texts
state the threshold values then in force.

The query is written once, in parts: what makes a section a *candidate* for an item (it
addresses the item's service or a broader one) and the *conditions* a candidate must meet
(:data:`CONDITIONS`). :data:`_SECTIONS` joins and filters on them, keeping the candidates that
meet them all, in selection order (selection here and on the fast path); :data:`_CANDIDATES`
gives every candidate with one column per condition, each the same pattern or expression
(``mtus explain``: why a section was not chosen).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from .catalog import Section
from .errors import IntakeError, Problem
from .namespaces import MTUS, PREFIXES
from .rulebase import RuleBase
from .texts import Texts

#: a candidate section: one that addresses the item's service (or a broader one), with its dates,
#: search step and priority; each ``<name>`` line is where selection puts the condition of that name
_CANDIDATE = """
  ?request mtus:service ?service ; mtus:ruleDate ?review ; mtus:underEdition ?edition .
  OPTIONAL { ?request mtus:region ?stated }
  BIND(COALESCE(?stated, code:whole_body) AS ?region)
  ?section a mtus:GuidelineSection ; mtus:addressesService ?addressed ;
           mtus:effectiveFrom ?from ; mtus:searchStep/mtus:stepOrder ?order .
  ?service mtus:broader* ?addressed .
  <regionAddressed>
  OPTIONAL { ?section mtus:effectiveUntil ?until }
  <inForce>
  <drugClassAddressed>
  <drugAddressed>
  <phaseAddressed>
  OPTIONAL { ?section mtus:selectionPriority ?statedPriority }
  BIND(COALESCE(?statedPriority, 0) AS ?priority)
"""


@dataclass(frozen=True)
class Condition:
    """A condition a candidate must meet to be selected: a graph pattern that has a solution
    when it is met, or a filter expression (when ``test`` is true)."""

    text: str
    test: bool = False

    def in_selection(self) -> str:
        return f"FILTER({self.text})" if self.test else self.text

    def as_column(self, name: str) -> str:
        value = f"COALESCE({self.text}, false)" if self.test else f"EXISTS {{ {self.text} }}"
        return f"  BIND({value} AS ?{name})\n"


#: the conditions of selection, by the name of their column in :data:`_CANDIDATES`
CONDITIONS: dict[str, Condition] = {
    "inForce": Condition("?from <= ?review && (!BOUND(?until) || ?review <= ?until)", test=True),
    "regionAddressed": Condition("?section mtus:addressesRegion ?addressedRegion . ?region mtus:partOf* ?addressedRegion ."),
    "drugClassAddressed": Condition("{ ?section mtus:anyDrugClass true }\n"
                                    "  UNION { ?section mtus:addressesDrugClass ?class . ?request mtus:drug/rdf:type ?class }"),
    "drugAddressed": Condition("{ ?section mtus:anyDrug true }\n"
                               "  UNION { ?section mtus:addressesDrug ?drug . ?request mtus:drug ?drug }"),
    "phaseAddressed": Condition("NOT EXISTS { ?request mtus:outsidePhaseOf ?section }", test=True),
}

_ORDER = "ORDER BY ?order DESC(?priority) ?section\n"


def _candidate(parts: dict[str, str]) -> str:
    text = _CANDIDATE
    for name, part in parts.items():
        text = text.replace(f"  <{name}>\n", f"  {part}\n" if part else "")
    return text


_SECTIONS = ("SELECT DISTINCT ?section ?order ?priority WHERE {"
             + _candidate({name: c.in_selection() for name, c in CONDITIONS.items()}) + "}\n" + _ORDER)

_CANDIDATES = ("SELECT DISTINCT ?section ?order ?priority ?from ?until " + " ".join(f"?{name}" for name in CONDITIONS)
               + " WHERE {" + _candidate({name: "" for name in CONDITIONS})
               + "".join(c.as_column(name) for name, c in CONDITIONS.items()) + "}\n" + _ORDER)

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


@dataclass(frozen=True)
class RuleDate:
    """What picks the rules for an item: the MTUS edition it falls under, the kind of date that
    edition reads (its mtus:dateKey, a property of the request) and that date."""

    edition: URIRef
    key: URIRef
    day: dt.date


def item_rule_date(graph: Graph, request: URIRef) -> RuleDate | None:
    """The item's edition and rule date as kb/rules/01-rule-date.rq derived them; None when the
    item is dated before the first encoded edition."""
    edition = graph.value(request, MTUS.underEdition)
    value = graph.value(request, MTUS.ruleDate)
    key = graph.value(edition, MTUS.dateKey) if edition is not None else None
    if (isinstance(edition, URIRef) and isinstance(key, URIRef) and isinstance(value, Literal)
            and isinstance(value.toPython(), dt.date)):
        return RuleDate(edition, key, value.toPython())
    return None


def rule_date(graph: Graph, request: URIRef) -> dt.date:
    """The date that picks the rules for an item (the sections, the threshold values): its
    date of the kind its edition names (:func:`item_rule_date`)."""
    found = item_rule_date(graph, request)
    if found is not None:
        return found.day
    raise IntakeError("case", [Problem("review_date", "expected the date of the review, YYYY-MM-DD, on or after the "
                                                      "first encoded MTUS edition")])


@dataclass(frozen=True)
class Candidate:
    """A section addressing an item's service, in selection order, with the conditions it meets."""

    section: Section
    step_order: int
    priority: int
    effective_from: dt.date | None
    effective_until: dt.date | None
    conditions: dict[str, bool]

    @property
    def eligible(self) -> bool:
        return all(self.conditions.values())


def select(working: Graph, request: URIRef, rulebase: RuleBase) -> Selection:
    rows = working.query(_SECTIONS, initNs=dict(PREFIXES), initBindings={"request": request})
    catalog = rulebase.catalog
    found = [s for s in (row[0] for row in rows) if isinstance(s, URIRef) and s in catalog.sections]  # type: ignore[index]
    if not found:
        return Selection(None, ())
    day = rule_date(working, request)
    return Selection(catalog.in_force(found[0], day), tuple(catalog.in_force(s, day) for s in found[1:]))


def _value(node: Node | None) -> object:
    return node.toPython() if isinstance(node, Literal) else None


def candidates(working: Graph, request: URIRef, rulebase: RuleBase) -> tuple[Candidate, ...]:
    """Every section addressing the item's service, in selection order: the first that meets
    every condition is the one :func:`select` chooses."""
    rows = working.query(_CANDIDATES, initNs=dict(PREFIXES), initBindings={"request": request})
    sections = rulebase.catalog.sections
    day = rule_date(working, request)
    out: list[Candidate] = []
    for row in rows:
        section, order, priority, start, until, *flags = row  # type: ignore[misc]
        if not isinstance(section, URIRef) or section not in sections:
            continue
        start_date, until_date = _value(start), _value(until)
        out.append(Candidate(
            section=rulebase.catalog.as_of(section, day),
            step_order=int(str(order)),
            priority=int(str(priority)),
            effective_from=start_date if isinstance(start_date, dt.date) else None,
            effective_until=until_date if isinstance(until_date, dt.date) else None,
            conditions={name: _value(flag) is True for name, flag in zip(CONDITIONS, flags, strict=True)},
        ))
    return tuple(out)


def outside_phase(working: Graph, request: URIRef, texts: Texts, day: dt.date) -> dict[str, str] | None:
    """Why selection passed over a section for the phase of the item's pain, if it did: the
    sections (kb/rules/07-pain-phase-2-sections.rq) as cited, and the kb text of the item's phase
    (its mtus:outsidePhaseText, thresholds as in force on ``day``)."""
    sections = sorted((s for s in working.objects(request, MTUS.outsidePhaseOf) if isinstance(s, URIRef)), key=str)
    phase = working.value(request, MTUS.painPhase)
    if not sections or not isinstance(phase, URIRef):
        return None
    cited = [f"{texts.value_text(texts.value(s, MTUS.document) or s, MTUS.shortTitle)}, {texts.label(s)}"
             for s in sections]
    return {"why": texts.kb_text(phase, MTUS.outsidePhaseText, day), "sections": "; ".join(cited)}


def edition(working: Graph, case: URIRef) -> URIRef | None:
    rows = list(working.query(_EDITION, initNs=dict(PREFIXES), initBindings={"case": case}))
    value = rows[0][0] if rows else None  # type: ignore[index]
    return value if isinstance(value, URIRef) else None
