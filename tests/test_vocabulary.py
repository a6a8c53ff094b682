"""Every code of the case format is a term of the ontology, of the right class, with a label and
a definition; and every code of version 1 (the brief's list, tests/data/case-format-v1-codes.yaml)
is still accepted in each field it was listed for. The codes docs/case-format.md lists are
generated from the same reading (reasoner/docs/codes.py; tests/test_docs.py checks they are
current)."""

from __future__ import annotations

import pytest
import yaml
from rdflib import Literal
from rdflib.namespace import RDF, RDFS

from reasoner import rulebase
from reasoner.docs import codes
from reasoner.namespaces import CODE, MTUS, SKOS, local_name
from tests.helpers import ROOT

RB = rulebase.get()
VERSION_1 = yaml.safe_load((ROOT / "tests" / "data" / "case-format-v1-codes.yaml").read_text(encoding="utf-8"))
LISTS = codes.code_lists(RB)


@pytest.mark.parametrize("code_list", LISTS, ids=[local_name(c.cls) for c in LISTS])
def test_every_code_is_a_documented_term_of_its_class(code_list: codes.CodeList) -> None:
    assert code_list.codes, f"no code of mtus:{local_name(code_list.cls)} for {code_list.fields}"
    for code in code_list.codes:
        assert (code, RDF.type, code_list.cls) in RB.closure
        labels = list(RB.closure.objects(code, RDFS.label))
        definitions = list(RB.closure.objects(code, SKOS.definition))
        assert len(labels) == 1 and isinstance(labels[0], Literal), f"{local_name(code)}: one rdfs:label expected"
        assert len(definitions) == 1, f"{local_name(code)}: one skos:definition expected"


@pytest.mark.parametrize("group", sorted(VERSION_1))
def test_every_version_1_code_is_still_accepted(group: str) -> None:
    accepted = codes.accepted(RB)
    for field in VERSION_1[group]["fields"]:
        assert field in accepted, f"{field} takes no code any more"
        missing = [c for c in VERSION_1[group]["codes"] if c not in accepted[field]]
        assert not missing, f"{field} no longer accepts {missing}"


def test_the_main_lists_are_the_ontology_classes() -> None:
    by_field = {f: c.cls for c in LISTS for f in c.fields}
    assert by_field["requests[].service"] == MTUS.Service
    assert by_field["requests[].drug"] == by_field["requests[].ingredients"] == MTUS.Drug
    assert by_field["findings[].code"] == by_field["studies[].findings"] == MTUS.FindingCode
    assert by_field["requests[].ur.decision"] == MTUS.URDecision
    assert by_field["expected.REQUEST-ID.decision"] == MTUS.DecisionOutcome


def test_spine_levels_are_regions_of_their_spine() -> None:
    closure = RB.closure
    for level, spine in (("C5-C6", "cervical_spine"), ("T12-L1", "thoracic_spine"), ("L5-S1", "lumbar_spine")):
        assert (CODE[level], MTUS.partOf, CODE[spine]) in closure
