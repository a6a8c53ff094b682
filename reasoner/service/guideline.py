"""The guideline as encoded, for the service and the explorer: documents, sections (by edition
period), criteria with their text, source, confirmation, thresholds over time and test cases,
read from the rule base's catalog (kb/). No wording here: every text is the kb's."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS

from ..catalog import Criterion, Section
from ..namespaces import MTUS, local_name
from ..rulebase import RuleBase


def _threshold(rb: RuleBase, iri: Any) -> dict[str, Any]:
    threshold = rb.catalog.thresholds[iri]
    return {
        "id": local_name(iri),
        "label": threshold.label,
        "unit": local_name(threshold.unit) if threshold.unit is not None else None,
        "values": [{"value": v.value.toPython() if not isinstance(v.value.toPython(), dt.date) else str(v.value),
                    "other": v.other.toPython() if v.other is not None else None,
                    "from": v.start.isoformat(), "until": v.end.isoformat() if v.end else None}
                   for v in threshold.values],
    }


def _criterion(rb: RuleBase, crit: Criterion, cases: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    return {
        "id": local_name(crit.iri),
        "order": crit.order,
        "kind": local_name(crit.kind),
        "text": crit.statement,
        "shortfall": crit.shortfall,
        "documentation_needed": crit.documentation_needed,
        "pages": crit.pages,
        "confirmed": crit.confirmed,
        "confirmed_by": crit.confirmed_by,
        "thresholds": sorted(local_name(t) for t in crit.named),
        "sources": sorted(str(o) for o in rb.kb.objects(crit.iri, DCTERMS.source)),
        "test_cases": cases.get(local_name(crit.iri), []),
        "branches": [_criterion(rb, b, cases) for b in crit.branches],
    }


def summary(section: Section) -> dict[str, Any]:
    criteria = section.all_criteria()
    return {
        "id": local_name(section.iri),
        "label": section.label,
        "document": section.document_title,
        "citation": section.citation(),
        "pages": section.pages,
        "effective_from": section.effective_from.isoformat(),
        "effective_until": section.effective_until.isoformat() if section.effective_until else None,
        "services": [local_name(s) for s in section.services],
        "regions": [local_name(r) for r in section.regions],
        "search_step": section.search_step.label,
        "criteria": len(criteria),
        "confirmed": sum(c.confirmed for c in criteria),
    }


def editions(rb: RuleBase) -> list[dict[str, Any]]:
    """The MTUS editions (kb/editions.ttl) with their periods, regulation and sources."""
    def text(node: URIRef, prop: URIRef) -> str | None:
        value = rb.kb.value(node, prop)
        return str(value) if isinstance(value, Literal) else None

    found = [e for e in rb.kb.subjects(RDF.type, MTUS.Edition) if isinstance(e, URIRef)]
    return sorted(({"id": local_name(e), "label": text(e, RDFS.label), "regulation": text(e, MTUS.regulation),
                    "effective_from": text(e, MTUS.effectiveFrom), "effective_until": text(e, MTUS.effectiveUntil),
                    "description": text(e, DCTERMS.description),
                    "sources": sorted(str(o) for o in rb.kb.objects(e, DCTERMS.source))} for e in found),
                  key=lambda e: e["effective_from"] or "")


def sections(rb: RuleBase) -> list[dict[str, Any]]:
    """Every encoded section, by document, label and period."""
    found = sorted(rb.catalog.sections.values(), key=lambda s: (s.citation_title, s.label, s.effective_from))
    return [summary(s) for s in found]


def section_ids(rb: RuleBase) -> list[str]:
    return sorted(local_name(i) for i in rb.catalog.sections)


def section(rb: RuleBase, section_id: str, day: dt.date | None = None) -> dict[str, Any] | None:
    """One section as in force on ``day`` (default: the first day of its period): its criteria
    with their texts filled with the threshold values of that day, and each threshold's values
    over time."""
    iri = next((i for i in rb.catalog.sections if local_name(i) == section_id), None)
    if iri is None:
        return None
    template = rb.catalog.sections[iri]
    on = day or template.effective_from
    chosen = rb.catalog.as_of(iri, on)
    cases = test_cases(rb.root)
    data = summary(chosen)
    data["as_of"] = on.isoformat()
    data["summary"] = chosen.summary
    data["criteria"] = [_criterion(rb, c, cases) for c in chosen.criteria]
    data["thresholds"] = [_threshold(rb, t) for t in sorted(template.thresholds()) if t in rb.catalog.thresholds]
    return data


@lru_cache(maxsize=4)
def test_cases(root: Path) -> dict[str, list[dict[str, str]]]:
    """Criterion id -> the case files of tests/cases/ that state its expected state (a checkout
    only; an installed package has none)."""
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    folder = root / "tests" / "cases"
    if not folder.is_dir():
        return {}
    for path in sorted(folder.rglob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        expected = data.get("expected") if isinstance(data, dict) else None
        for outcome in (expected or {}).values():
            if not isinstance(outcome, dict):
                continue
            for crit, state in (outcome.get("criteria") or {}).items():
                out[str(crit)].append({"file": str(path.relative_to(root)), "state": str(state)})
    return dict(out)
