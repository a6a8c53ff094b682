"""The formulary answer of a medication request (MTUS Drug Formulary, 8 CCR 9792.27): whether
authorization through prospective review was required, and by which rule.

Nothing is decided here: kb/rules/50-formulary-*.rq derive the deciding rule
(``mtus:formularyRule``), the status and the Drug List version applied; this module reads
them and takes the words (the rule's citation and sentence) from kb/formulary/rules.ttl.
The answer stands beside the medical-necessity decision, which it never changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rdflib import Graph, Literal, URIRef

from .namespaces import MTUS, local_name
from .texts import Texts

#: what the formulary answer reads from the working graph (derived; the fast path runs the
#: rules that derive them)
READS = (MTUS.formularyRule, MTUS.formularyStatus, MTUS.formularyListVersion, MTUS.formularyEntry, MTUS.dispenseDate)


@dataclass(frozen=True)
class FormularyAnswer:
    """The formulary answer of one medication item."""

    rule_iri: URIRef
    rule: str
    status: str
    status_label: str
    prospective_review_required: bool | None
    list_version: str | None
    list_version_iri: URIRef | None
    why: str
    #: the rule's wording and, for a list-based answer, the Drug List entry were checked against the source
    confirmed: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "list_version": self.list_version,
            "status": self.status,
            "prospective_review_required": self.prospective_review_required,
            "rule": self.rule,
            "rule_id": local_name(self.rule_iri),
            "why": self.why,
            "confirmed": self.confirmed,
        }


def answer(graph: Graph, request: URIRef, texts: Texts) -> FormularyAnswer | None:
    """The formulary answer the rules derived for ``request``; None when it is no medication
    request (no rule applies)."""
    rule = graph.value(request, MTUS.formularyRule)
    if not isinstance(rule, URIRef):
        return None
    status = graph.value(request, MTUS.formularyStatus)
    version = graph.value(request, MTUS.formularyListVersion)
    dispensed = graph.value(request, MTUS.dispenseDate)
    day = dispensed.toPython() if isinstance(dispensed, Literal) else dt.date.min
    required = texts.value(rule, MTUS.reviewRequired)
    entry = graph.value(request, MTUS.formularyEntry)
    # the list entry counts when the answer rests on it (no status fixed by the rule itself)
    entry_confirmed = (entry is None or texts.value(rule, MTUS.fixedStatus) is not None
                       or texts.value(entry, MTUS.confirmation) == MTUS.Confirmed)
    return FormularyAnswer(
        rule_iri=rule,
        rule=f"{texts.value(rule, MTUS.regulation)} {texts.label(rule)}",
        status=texts.notation(status),
        status_label=texts.label(status),
        prospective_review_required=bool(required.toPython()) if isinstance(required, Literal) else None,
        list_version=texts.value_text(version, MTUS.versionName) if isinstance(version, URIRef) else None,
        list_version_iri=version if isinstance(version, URIRef) else None,
        why=texts.kb_text(rule, MTUS.why, day if isinstance(day, dt.date) else dt.date.min),
        confirmed=texts.value(rule, MTUS.confirmation) == MTUS.Confirmed and entry_confirmed,
    )
