"""Case files as tests: every YAML/JSON file under tests/cases/ is a case in the case format
whose ``expected`` block states, per request id, the decision and optionally the guideline
(the applied document and first page), ``section`` (the applied section's kb id), ``unmet`` (phrases that must be among the reported
shortfalls), ``flags``, ``criteria`` (criterion id -> met | not_met | not_documented |
not_applicable), ``cited_as`` (the guideline as IMR letters after 2018 cite it, e.g. "MTUS/ACOEM
Low Back Disorders (2019)"), ``edition`` (the kb id of the MTUS edition the item falls under),
``rule_date`` (the date its rules were read on), ``physician_review`` (true when the item carries a
physician-review reason: certified under a section of partial coverage; false when it must not),
``why`` (the sentence the case shows) and, for a
medication item, ``formulary``
(the formulary answer: ``status``, ``prospective_review_required``, ``rule`` (the kb id of the
deciding rule of kb/formulary/rules.ttl), ``list_version``). A case that states a formulary
answer may leave the decision out: it then tests the formulary answer only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reasoner.intake import _CaseLoader

CASES = Path(__file__).parent / "cases"


@dataclass(frozen=True)
class CaseFile:
    path: Path
    data: dict[str, Any]

    @property
    def expected(self) -> dict[str, Any]:
        return {str(k): v for k, v in (self.data.get("expected") or {}).items()}

    @property
    def name(self) -> str:
        return str(self.path.relative_to(CASES).with_suffix(""))


def load(path: Path) -> CaseFile:
    return CaseFile(path, yaml.load(path.read_text(encoding="utf-8"), Loader=_CaseLoader))


def all_cases() -> list[CaseFile]:
    return [load(p) for p in sorted(CASES.rglob("*.yaml")) + sorted(CASES.rglob("*.json"))]


def check(case: CaseFile, determination: Any) -> list[str]:
    """Differences between expected and actual, one line each; empty when they agree."""
    problems: list[str] = []
    items = {item.request_id: item for item in determination.items}
    for request_id, exp in case.expected.items():
        item = items.get(request_id)
        if item is None:
            problems.append(f"request {request_id}: not in the determination")
            continue
        problems += _formulary(request_id, exp.get("formulary"), item)
        if ("decision" in exp or "formulary" not in exp) and item.decision != exp.get("decision"):
            problems.append(f"request {request_id}: decision {item.decision}, expected {exp.get('decision')}")
        guideline = exp.get("guideline")
        citation = item.section.citation() if item.section else ""
        if guideline and not _guideline_matches(guideline, item):
            problems.append(f"request {request_id}: guideline {citation!r}, expected {guideline!r}")
        section_id = exp.get("section")
        applied = item.section.iri.split("/")[-1] if item.section else None
        if section_id and applied != section_id:
            problems.append(f"request {request_id}: section {applied}, expected {section_id}")
        cited_as = exp.get("cited_as")
        if cited_as is not None and item.cited_as != cited_as:
            problems.append(f"request {request_id}: cited as {item.cited_as!r}, expected {cited_as!r}")
        edition = exp.get("edition")
        applied_edition = item.edition.split("/")[-1] if item.edition is not None else None
        if edition is not None and applied_edition != edition:
            problems.append(f"request {request_id}: edition {applied_edition}, expected {edition}")
        rule_date = exp.get("rule_date")
        if rule_date is not None and str(item.rule_date) != str(rule_date):
            problems.append(f"request {request_id}: rule date {item.rule_date}, expected {rule_date}")
        review = exp.get("physician_review")
        if review is not None and bool(item.physician_review_reason) != review:
            problems.append(f"request {request_id}: physician-review reason {item.physician_review_reason!r}, "
                            f"expected {'one' if review else 'none'}")
        shortfalls = {r.criterion.shortfall for r in item.unmet()}
        for phrase in exp.get("unmet") or []:
            if phrase not in shortfalls:
                problems.append(f"request {request_id}: {phrase!r} not among unmet {sorted(shortfalls)}")
        for flag in exp.get("flags") or []:
            if flag not in item.flags:
                problems.append(f"request {request_id}: flag {flag!r} not raised (flags: {list(item.flags)})")
        if "flags" in exp and not exp.get("flags") and item.flags:
            problems.append(f"request {request_id}: unexpected flags {list(item.flags)}")
        statuses = {r.criterion.iri.split("/")[-1]: r.status if r.applicable else "not_applicable"
                    for top in item.criteria for r in top.walk()}
        for crit, status in (exp.get("criteria") or {}).items():
            if statuses.get(crit) != status:
                problems.append(f"request {request_id}: criterion {crit} is {statuses.get(crit)}, expected {status}")
    return problems


def _formulary(request_id: str, expected: dict[str, Any] | None, item: Any) -> list[str]:
    """Differences between the expected and the actual formulary answer of an item."""
    if expected is None:
        return []
    if item.formulary is None:
        return [f"request {request_id}: no formulary answer, expected {expected}"]
    actual = item.formulary.as_json()
    actual["rule"] = actual["rule_id"]
    return [f"request {request_id}: formulary {key} {actual.get(key)!r}, expected {value!r}"
            for key, value in expected.items() if actual.get(key) != value]


def _guideline_matches(expected: str, item: Any) -> bool:
    """The expected guideline names the applied document and its pages."""
    section = item.section
    text = expected.lower()
    title_ok = section.citation_title.lower() in text or section.document_title.lower() in text
    pages_ok = not section.pages or section.pages.split("-")[0] in text
    return title_ok and pages_ok
