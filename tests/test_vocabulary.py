"""Every code of the case format (docs/case-format.md, version 1) is a term of the ontology, of
the right class, with a label and a definition."""

from __future__ import annotations

import re

import pytest
from rdflib import Literal
from rdflib.namespace import RDF, RDFS

from reasoner import rulebase
from reasoner.namespaces import CODE, MTUS, SKOS
from tests.helpers import ROOT

FORMAT = (ROOT / "docs" / "case-format.md").read_text(encoding="utf-8")


def _codes(heading: str, stop: str) -> list[str]:
    block = FORMAT.split(heading, 1)[1].split(stop, 1)[0]
    return sorted(set(re.findall(r"`([A-Za-z0-9_]+(?:-[A-Z0-9]+)?)`", block)) - {"drug", "ingredients", "C5-C6", "L4-L5"})


CASES = [
    ("Regions:", "Services:", MTUS.Region),
    ("Services:", "Drugs:", MTUS.Service),
    ("Drugs:", "Findings:", MTUS.Drug),
    ("Findings:\n", "## Output", MTUS.FindingCode),
]


@pytest.mark.parametrize(("heading", "stop", "cls"), CASES, ids=["regions", "services", "drugs", "findings"])
def test_codes_are_terms(heading: str, stop: str, cls: object) -> None:
    rb = rulebase.get()
    codes = _codes(heading, stop)
    assert len(codes) > 10
    for code in codes:
        term = CODE[code]
        assert (term, RDF.type, cls) in rb.closure, f"{code} is not a {cls}"
        labels = list(rb.closure.objects(term, RDFS.label))
        definitions = list(rb.closure.objects(term, SKOS.definition))
        assert len(labels) == 1 and isinstance(labels[0], Literal), f"{code}: one rdfs:label expected"
        assert len(definitions) == 1, f"{code}: one skos:definition expected"


def test_spine_levels_are_regions_of_their_spine() -> None:
    closure = rulebase.get().closure
    for level, spine in (("C5-C6", "cervical_spine"), ("T12-L1", "thoracic_spine"), ("L5-S1", "lumbar_spine")):
        assert (CODE[level], MTUS.partOf, CODE[spine]) in closure
