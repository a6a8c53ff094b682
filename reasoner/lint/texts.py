"""Thresholds in texts and rules: every number a criterion's texts or a section's summary state
is a threshold placeholder (or allowed by shapes/house-style/numbers.ttl), every placeholder
names a threshold with a value in force over its section's whole period, and rules read a
threshold's value in force (its dated values), never a bare ``mtus:value``."""

from __future__ import annotations

import re

from rdflib import Namespace

from ..catalog import TEXTS, Section
from ..namespaces import KB, local_name
from ..rulebase import RuleBase
from ..thresholds import FORMATS, placeholders, stated_numbers
from .problems import Problem, at, check, in_rule
from .scope import Scope

HOUSE = Namespace("https://w3id.org/mtus/shapes/house-style/")


def _texts(section: Section) -> list[tuple[object, str, str]]:
    out: list[tuple[object, str, str]] = [(section.iri, "mtus:summary", section.summary)]
    for crit in section.all_criteria():
        out += [(crit.iri, f"mtus:{local_name(TEXTS[name])}", getattr(crit, name)) for name in TEXTS]
    return out


@check("numbers in texts")
def numbers_in_texts(rb: RuleBase, scope: Scope) -> list[Problem]:
    """A number a text states that is no placeholder would not change with its threshold: the
    words would contradict the decision. Fix: write the threshold's placeholder
    (``{NAME}``, ``{NAME:words}`` ...); a number the guideline states that nothing decides on
    becomes a threshold with ``mtus:statedOnly true``; a number that is no guideline number (a
    page, a year, a spinal level) is allowed by a narrow pattern in shapes/house-style/numbers.ttl."""
    allowed = [re.compile(str(p)) for p in rb.house_style_shapes.objects(None, HOUSE.pattern)]
    if not allowed:
        return [Problem("shapes/house-style/numbers.ttl", "(file)", "no allowed number patterns loaded")]
    problems = []
    for section in rb.catalog.sections.values():
        if not scope.covers(rb, section.iri):
            continue
        for node, prop, text in _texts(section):
            found = stated_numbers(text, allowed)
            if found:
                problems.append(at(rb, node, f"{prop} states {', '.join(repr(n) for n in found)}: name its "  # type: ignore[arg-type]
                                             "threshold ({threshold-name}), or allow it in shapes/house-style/numbers.ttl "
                                             "if it is no threshold"))
    return problems


@check("placeholders")
def placeholders_resolve(rb: RuleBase, scope: Scope) -> list[Problem]:
    """Every placeholder names a threshold of kb/, in a known format, with a value in force on
    every day its section is in force. Fix: correct the name or the format, or give the
    threshold a dated value for the days it lacks."""
    problems = []
    thresholds = rb.catalog.thresholds
    for section in rb.catalog.sections.values():
        if not scope.covers(rb, section.iri):
            continue
        for node, prop, text in _texts(section):
            for name, fmt in placeholders(text):
                threshold = thresholds.get(KB[name])
                if threshold is None:
                    problems.append(at(rb, node, f"{prop}: {{{name}}} names no threshold of kb/ "  # type: ignore[arg-type]
                                                 f"(kb:{name} a mtus:Threshold)"))
                    continue
                if fmt not in FORMATS:
                    problems.append(at(rb, node, f"{prop}: {{{name}:{fmt}}}: unknown format (one of "  # type: ignore[arg-type]
                                                 + ", ".join(f for f in FORMATS if f) + ")"))
                if not threshold.covers(section.effective_from, section.effective_until):
                    problems.append(at(rb, node, f"{prop}: {{{name}}}: kb:{name} has no value in force on some day "  # type: ignore[arg-type]
                                                 f"of its section ({section.effective_from} to "
                                                 f"{section.effective_until or 'today'})"))
    return problems


@check("threshold reads")
def rules_read_values_in_force(rb: RuleBase, scope: Scope) -> list[Problem]:
    """A rule that reads ``kb:x mtus:value`` of a threshold finds nothing: a threshold's number
    lives in its dated values (``mtus:values``), the one in force on the item's rule date
    (``mtus:ruleDate``). Fix: read the value in force (the idiom of kb/rules/07-chronicity.rq)."""
    problems = []
    for rule in rb.rules:
        if not scope.covers_rule(rule):
            continue
        text = rule.path.read_text(encoding="utf-8")
        for name in re.findall(r"kb:([\w.-]+)\s+mtus:value\b", text):
            if KB[name] in rb.catalog.thresholds:
                problems.append(in_rule(rb, rule, f"reads kb:{name} mtus:value: read the value in force instead, "
                                                  f"kb:{name} mtus:values ?v . ?v mtus:value ?x ; mtus:effectiveFrom ?from "
                                                  "(and mtus:effectiveUntil), compared with the item's rule date (?request mtus:ruleDate ?on)"))
    return problems

