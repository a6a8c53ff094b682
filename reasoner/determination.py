"""The determination of a case: per requested item, a decision with its criteria and rationale."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rdflib import URIRef

from .catalog import Section
from .decisions import OVERTURNED, CriterionResult, Decision, Fact
from .formulary import FormularyAnswer
from .quantity import SupportedQuantity

if TYPE_CHECKING:
    from .counterfactuals import CaseCounterfactuals
    from .texts import Texts


@dataclass(frozen=True)
class ItemDecision:
    request: URIRef
    request_id: str
    service: URIRef
    region: URIRef | None
    item_label: str
    decision: Decision
    section: Section | None
    criteria: tuple[CriterionResult, ...]
    ur_guideline_cited: str | None
    ur_guideline_mismatch: bool
    flags: tuple[str, ...]
    rationale: str
    fact_text: dict[Fact, str]
    #: the MTUS edition the item falls under, the kind of date it reads (a request property:
    #: mtus:requestDate, mtus:serviceDate or mtus:dispenseDate) and that date, the rule date
    #: (None: the item is dated before the first encoded edition)
    edition: URIRef | None = None
    date_key: URIRef | None = None
    rule_date: dt.date | None = None
    #: the guideline as determinations cite it: the document version in force on the rule date
    #: ("MTUS/ACOEM Low Back Disorders (2019)"), "ODG ..." or "not addressed by MTUS/ACOEM or ODG"
    cited_as: str = ""
    #: the formulary answer (8 CCR 9792.27) of a medication item, beside the decision
    formulary: FormularyAnswer | None = None
    #: why the item goes to a physician reviewer although its encoded criteria certify it (its
    #: section's coverage is partial: kb text named by the coverage's mtus:reviewReason); empty:
    #: no such reason
    physician_review_reason: str = ""
    #: the most the guideline supports of a request over a limit, and what sets it (case format
    #: v2 "Partial certification"; reasoner.quantity)
    supported_quantity: SupportedQuantity | None = None

    @property
    def medically_necessary(self) -> bool:
        return self.decision == OVERTURNED

    @property
    def requires_physician_review(self) -> bool:
        """Not certified (only a physician may deny, Labor Code 4610), or certified under a
        section of partial coverage (physician_review_reason)."""
        return self.decision != OVERTURNED or bool(self.physician_review_reason)

    def unmet(self) -> list[CriterionResult]:
        """Every criterion and branch not met, depth first."""
        return [r for top in self.criteria for r in top.walk() if r.unmet]


@dataclass(frozen=True)
class Determination:
    case_id: str
    case_iri: URIRef
    review_date: dt.date
    rulebase_version: str
    rulebase_digest: str
    input_hash: str
    edition: URIRef | None
    edition_label: str
    items: tuple[ItemDecision, ...]
    generated_at: dt.datetime
    source: str
    #: the rule base's words (for the notice and the JSON form); not part of the value
    texts: Texts | None = field(default=None, repr=False, compare=False)
    #: the verified counterfactuals of its items, when asked for (reasoner.counterfactuals)
    counterfactuals: CaseCounterfactuals | None = field(default=None, repr=False, compare=False)

    @property
    def requires_physician_review(self) -> bool:
        """Only a physician may deny: any item not certified goes to a physician (Labor Code 4610);
        so does an item certified under a section of partial coverage."""
        return any(item.requires_physician_review for item in self.items)

    def to_dict(self) -> dict[str, Any]:
        """The determination as JSON data (dates as ISO strings): the one serialisation that
        ``mtus evaluate --format json``, ``mtus serve`` and the JSON Schema of the determination
        (reasoner.schemas) share."""
        from . import exports

        return exports.to_json_data(self)

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
