"""The coverage table of the current MTUS (issue 11, "Done when"): every probe request of
``docs/coverage-probes.yaml`` (one per service the issue lists) decided on every date that file
names, by the reasoner itself, as a case whose review date is that date and whose only request is
the probe. Per service and date: decided (the decision, the guideline as determinations cite it,
the section and its coverage) or not addressed, and why: the sections of the rule base that
address the service (its drug, for a medication) and when they are in force, so that a reader
sees whether a section ended before the date or none was ever encoded. Every word of a cell
comes from the probe file, the rule base or the determination; the Python lays them out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from rdflib import URIRef
from rdflib.namespace import RDF

from ..catalog import Section
from ..namespaces import CODE, MTUS, local_name
from ..rulebase import RuleBase

PROBES = Path("docs") / "coverage-probes.yaml"


def _probes(rb: RuleBase) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((rb.root / PROBES).read_text(encoding="utf-8"))
    return data


def _addresses(rb: RuleBase, section: Section, request: dict[str, Any]) -> bool:
    """Whether the section addresses the probe's service, region (or a region it is part of)
    and drug (its drug or one of the drug's classes, or no particular drug)."""
    if CODE[request["service"]] not in section.services:
        return False
    region = CODE[request.get("region", "whole_body")]
    regions = set(section.regions)
    if not regions & ({region, CODE.whole_body} | set(rb.closure.objects(region, MTUS.partOf))):
        return False
    drug = request.get("drug")
    drugs = set(rb.kb.objects(section.iri, MTUS.addressesDrug))
    classes = set(rb.kb.objects(section.iri, MTUS.addressesDrugClass))
    if drug is None or not (drugs or classes):
        return True
    code = CODE[drug]
    return code in drugs or bool(classes & set(rb.closure.objects(code, RDF.type)))


def _period(section: Section) -> str:
    until = section.effective_until.isoformat() if section.effective_until else "on"
    return f"{section.effective_from.isoformat()} to {until}"


def _why_not(rb: RuleBase, request: dict[str, Any], day: dt.date) -> str:
    found = [s for s in rb.catalog.sections.values() if _addresses(rb, s, request)]
    if not found:
        return "no section of the rule base addresses it on any date"
    found.sort(key=lambda s: s.effective_from)
    listed = "; ".join(f"`{local_name(s.iri)}` {_period(s)}" for s in found)
    return f"no section in force on {day.isoformat()}; sections that address it: {listed}"


def rows(rb: RuleBase) -> list[dict[str, str]]:
    """One row per probe and date, decided in one round on the fast path (which the
    differential test ties to the reference path)."""
    from .. import engines

    data = _probes(rb)
    asked = [(probe, day) for probe in data["probes"] for day in data["dates"]]
    cases = [{"id": "coverage-probe", "review_date": str(day), "requests": [{"id": "1", **probe["request"]}]}
             for probe, day in asked]
    out = []
    for (probe, day), determination in zip(asked, engines.evaluate_many(cases, rb), strict=True):
        if isinstance(determination, Exception):
            raise determination
        (item,) = determination.items
        section = item.section
        if section is None:
            detail = _why_not(rb, probe["request"], day)
        else:
            coverage = local_name(section.coverage).lower() if section.coverage is not None else "not declared"
            detail = f"{item.cited_as}, `{local_name(section.iri)}`; coverage: {coverage}"
        out.append({"topic": probe["topic"], "date": str(day), "decision": str(item.decision),
                    "edition": _edition(rb, item.edition), "detail": detail})
    return out


def _edition(rb: RuleBase, edition: URIRef | None) -> str:
    if edition is None:
        return "-"
    from ..texts import Texts

    return Texts(rb.kb, rb.closure, rb.catalog.writer).label(edition)


def table(rb: RuleBase) -> str:
    """The coverage block (made once per rule-base load: it decides every probe on every date)."""
    from .. import rulebase

    return rulebase.derived(rb, "docs-coverage-table", _table)


def _table(rb: RuleBase) -> str:
    found = rows(rb)
    dates = list(dict.fromkeys(r["date"] for r in found))
    lines = ["| date | decided | not addressed |", "|---|---|---|"]
    for day in dates:
        of_day = [r for r in found if r["date"] == day]
        decided = sum(r["decision"] != "not_addressed" for r in of_day)
        lines.append(f"| {day} | {decided} | {len(of_day) - decided} |")
    lines += ["", "| service (issue 11, part 3) | date | edition | outcome | guideline applied, or why none |",
              "|---|---|---|---|---|"]
    lines += [f"| {r['topic']} | {r['date']} | {r['edition']} | {r['decision']} | {r['detail']} |" for r in found]
    return "\n".join(lines) + "\n"
