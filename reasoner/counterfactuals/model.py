"""The results of a counterfactual search, as plain data: the JSON form is what the CLI, the
service and the other output modules read."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..determination import Determination

#: the default bounds of the search (documented in README and in every report)
DEFAULT_BOUNDS = {"max_size": 4, "max_evaluations": 80, "max_sets": 5, "pair_width": 3}


@dataclass(frozen=True, order=True)
class Change:
    """One documentable change in case-format terms."""

    action: str  # add | set | revise | remove
    path: str  # findings | requests[0].quantity | findings[6]
    value_json: str  # the entry added, the value set, the revised or removed entry (JSON)
    template: str  # the edit template (kb local name)
    text: str = field(compare=False, default="")

    @property
    def value(self) -> Any:
        return json.loads(self.value_json)

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "path": self.path, "value": self.value,
                "template": self.template, "text": self.text}


@dataclass(frozen=True)
class ChangeSet:
    changes: tuple[Change, ...]
    satisfies: tuple[str, ...]  # the criteria (ids) the set turns met or not applicable
    turns_to: str  # the decision the changed case gets
    text: str = ""
    verified: bool = True

    def as_json(self) -> dict[str, Any]:
        return {"changes": [c.as_json() for c in self.changes], "satisfies": list(self.satisfies),
                "turns_to": self.turns_to, "verified": self.verified, "text": self.text}


@dataclass(frozen=True)
class ItemCounterfactuals:
    request_id: str
    decision: str
    #: would_overturn (sets that turn an upheld item), rests_on (entries whose absence turns an
    #: overturned item), none (no set found: see ``reason``)
    kind: str
    sets: tuple[ChangeSet, ...]
    #: why none: not_addressed, blocked (some unmet criterion has no derivable change), bound
    #: (none found within the bounds), redundant (an overturned item no single entry of the
    #: record is needed for); None when sets were found
    reason: str | None
    blocked: tuple[str, ...]  # the criteria no derivable change can satisfy
    text: str
    evaluations: int
    seconds: float
    bounds: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {"request": self.request_id, "decision": self.decision, "kind": self.kind,
                "counterfactuals": [s.as_json() for s in self.sets], "reason": self.reason,
                "blocked": list(self.blocked), "text": self.text,
                "search": {"evaluations": self.evaluations, "seconds": round(self.seconds, 3), **self.bounds}}


@dataclass(frozen=True)
class CaseCounterfactuals:
    case_id: str
    items: tuple[ItemCounterfactuals, ...]
    #: the determination of the case as given, carrying these counterfactuals (its JSON, letter
    #: and Turtle forms show them)
    determination: Determination | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {"case": self.case_id, "items": [i.as_json() for i in self.items]}

    def item(self, request_id: str) -> ItemCounterfactuals:
        return next(i for i in self.items if i.request_id == request_id)

