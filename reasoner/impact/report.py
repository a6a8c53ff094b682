"""What changed for an item, and how ``mtus impact`` shows it (text, or JSON for programs).

An item *changed* when its decision flips, when another section (or none) applies, or when its
wording changes: the rationale sentences that differ are listed, before and after (a rationale
is reproducible byte for byte: the facts of a criterion are listed in a fixed order).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

_SENTENCE_END = re.compile(r"(?<=[.!?)])\s+(?=[A-Z])")


def sentences(text: str) -> list[str]:
    """A rationale's sentences (a criterion's sentence keeps the facts that follow it)."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def wording_diff(before: str, after: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The sentences only before, and those only after (none when the texts are the same)."""
    if before == after:
        return (), ()
    first, second = sentences(before), sentences(after)
    return tuple(s for s in first if s not in second), tuple(s for s in second if s not in first)


@dataclass(frozen=True)
class Change:
    """An item whose decision, section or wording would change."""

    case_id: str
    request_id: str
    service: str
    before: str
    after: str
    section_before: str | None
    section_after: str | None
    criteria: tuple[tuple[str, str, str], ...]  # criterion id, state before, state after
    removed: tuple[str, ...]  # rationale sentences before that are gone after
    added: tuple[str, ...]  # rationale sentences after that were not there before

    @property
    def flip(self) -> bool:
        return self.before != self.after

    def as_json(self) -> dict[str, object]:
        return {"case": self.case_id, "request": self.request_id, "service": self.service,
                "decision": {"before": self.before, "after": self.after},
                "section": {"before": self.section_before, "after": self.section_after},
                "criteria": [{"id": c, "before": b, "after": a} for c, b, a in self.criteria],
                "wording": {"before": list(self.removed), "after": list(self.added)}}


def changed_criteria(before: dict[str, str], after: dict[str, str]) -> tuple[tuple[str, str, str], ...]:
    return tuple((c, before.get(c, "absent"), after.get(c, "absent")) for c in sorted(set(before) | set(after))
                 if before.get(c) != after.get(c))


@dataclass
class Impact:
    """The result of a run: how many cases and items were compared, and what changed."""

    baseline: str  # "stored determinations" or the revision
    rulebase: str  # the rule base evaluated (version and folder)
    as_of: str | None = None
    filters: dict[str, str] = field(default_factory=dict)
    cases: int = 0
    items: int = 0
    changes: list[Change] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # case id, error

    @property
    def flips(self) -> list[Change]:
        return [c for c in self.changes if c.flip]

    @property
    def reworded(self) -> list[Change]:
        """Items whose wording (or section) changes without a decision flip."""
        return [c for c in self.changes if not c.flip]


def _change_lines(change: Change) -> list[str]:
    head = (f"{change.case_id}  request {change.request_id}  {change.service}: "
            + (f"{change.before} -> {change.after}" if change.flip else f"{change.before} (wording)"))
    lines = [head]
    if change.section_before != change.section_after:
        lines.append(f"  section: {change.section_before or '(none)'} -> {change.section_after or '(none)'}")
    if change.criteria:
        lines.append("  criteria: " + "; ".join(f"{c} {b} -> {a}" for c, b, a in change.criteria))
    lines += [f"  - {s}" for s in change.removed] + [f"  + {s}" for s in change.added]
    return lines


def text(impact: Impact, wording: bool = False) -> str:
    lines: list[str] = []
    for change in impact.flips + (impact.reworded if wording else []):
        lines += _change_lines(change) + [""]
    ways = Counter((c.before, c.after) for c in impact.flips)
    how = ", ".join(f"{n} {b} -> {a}" for (b, a), n in sorted(ways.items()))
    scope = "".join(f" --{k} {v}" for k, v in impact.filters.items())
    lines.append(f"mtus impact: {impact.cases} stored case(s), {impact.items} item(s){scope}: rule base "
                 f"{impact.rulebase} against {impact.baseline}" + (f", under the rules in force on {impact.as_of}" if impact.as_of else ""))
    lines.append(f"  {len(impact.flips)} item decision(s) would flip" + (f" ({how})" if how else ""))
    lines.append(f"  {len(impact.reworded)} item(s) would change wording without a flip"
                 + ("" if wording or not impact.reworded else " (--wording lists them)"))
    if impact.failures:
        lines.append(f"  {len(impact.failures)} case(s) could not be evaluated:")
        lines += [f"    {case}: {error}" for case, error in impact.failures]
    return "\n".join(lines) + "\n"


def as_json(impact: Impact) -> str:
    return json.dumps({
        "rulebase": impact.rulebase, "baseline": impact.baseline, "as_of": impact.as_of, "filters": impact.filters,
        "cases": impact.cases, "items": impact.items,
        "flips": [c.as_json() for c in impact.flips],
        "wording_changes": [c.as_json() for c in impact.reworded],
        "failures": [{"case": c, "error": e} for c, e in impact.failures],
    }, indent=2, ensure_ascii=False) + "\n"
