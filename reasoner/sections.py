"""``mtus sections``: the encoded guideline sections as a table (Markdown), generated from kb/:
document, pages, period in force, services, search step, and how many criteria are confirmed
against the guideline text. README.md holds it as a block that ``mtus docs`` rewrites."""

from __future__ import annotations

from .catalog import Section
from .namespaces import local_name
from .rulebase import RuleBase


def _row(section: Section) -> str:
    criteria = section.all_criteria()
    confirmed = sum(c.confirmed for c in criteria)
    until = section.effective_until.isoformat() if section.effective_until else "in force"
    services = ", ".join(local_name(s) for s in section.services)
    return (f"| {section.label} | {section.citation_title} | {section.pages or '-'} | "
            f"{section.effective_from.isoformat()} to {until} | {services} | {section.search_step.label} | "
            f"{len(criteria)} | {confirmed} |")


def table(rulebase: RuleBase) -> str:
    sections = sorted(rulebase.catalog.sections.values(),
                      key=lambda s: (s.citation_title, s.label, s.effective_from))
    lines = [
        "| section | document | pages | in force | services | search step | criteria | confirmed |",
        "|---|---|---|---|---|---|---|---|",
        *[_row(s) for s in sections],
    ]
    total = sum(len(s.all_criteria()) for s in sections)
    confirmed = sum(sum(c.confirmed for c in s.all_criteria()) for s in sections)
    lines.append(f"| **{len(sections)} sections** | | | | | | **{total}** | **{confirmed}** |")
    return "\n".join(lines) + "\n"
