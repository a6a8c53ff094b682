"""``mtus sections``: the encoded guideline sections as a table (Markdown), generated from kb/:
document, pages, period in force, services (and the phase of pain, where a section names one),
search step, how many criteria are confirmed against the guideline text, and the section's
coverage (complete, or partial with a numbered note below the table saying what it leaves out).
README.md holds it as a block that ``mtus docs`` rewrites."""

from __future__ import annotations

from rdflib import URIRef
from rdflib.namespace import RDFS

from .catalog import Section
from .namespaces import MTUS, local_name
from .rulebase import RuleBase


def _label(rulebase: RuleBase, node: URIRef) -> str:
    label = rulebase.closure.value(node, RDFS.label)
    return str(label) if label is not None else local_name(node)


def _row(section: Section, rulebase: RuleBase, notes: list[str]) -> str:
    criteria = section.all_criteria()
    confirmed = sum(c.confirmed for c in criteria)
    until = section.effective_until.isoformat() if section.effective_until else "in force"
    services = ", ".join(local_name(s) for s in section.services)
    phases = sorted(_label(rulebase, p) for p in rulebase.kb.objects(section.iri, MTUS.addressesPhase)
                    if isinstance(p, URIRef))
    if phases:
        services += f" ({', '.join(phases)} only)"
    if section.coverage is None:
        coverage = "-"
    elif section.coverage_note:
        notes.append(f"{section.citation_title}, {section.label}: {section.coverage_note.rstrip('.')}.")
        coverage = f"{_label(rulebase, section.coverage)} ({len(notes)})"
    else:
        coverage = _label(rulebase, section.coverage)
    return (f"| {section.label} | {section.citation_title} | {section.pages or '-'} | "
            f"{section.effective_from.isoformat()} to {until} | {services} | {section.search_step.label} | "
            f"{len(criteria)} | {confirmed} | {coverage} |")


def table(rulebase: RuleBase) -> str:
    sections = sorted(rulebase.catalog.sections.values(),
                      key=lambda s: (s.citation_title, s.label, s.effective_from))
    notes: list[str] = []
    lines = [
        "| section | document | pages | in force | services | search step | criteria | confirmed | coverage |",
        "|---|---|---|---|---|---|---|---|---|",
        *[_row(s, rulebase, notes) for s in sections],
    ]
    total = sum(len(s.all_criteria()) for s in sections)
    confirmed = sum(sum(c.confirmed for c in s.all_criteria()) for s in sections)
    lines.append(f"| **{len(sections)} sections** | | | | | | **{total}** | **{confirmed}** | |")
    if notes:
        legend = ("Coverage: \"-\" the section declares none (sections before 2017-12-01); \"partial (n)\" the "
                  "section encodes only what public sources state, and note n says what it leaves out:")
        lines += ["", legend, ""]
        lines += [f"{n}. {note}" for n, note in enumerate(notes, start=1)]
    return "\n".join(lines) + "\n"
