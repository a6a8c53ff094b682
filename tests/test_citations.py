"""How a determination cites the guideline per item, as IMR determinations after 2018 cite it
(docs/sources/regulatory.md#citations): "MTUS/ACOEM <guideline> (<year of the version in force>)",
"ODG <chapter>" at step 2, "not addressed by MTUS/ACOEM or ODG" at steps 3-4 and when nothing
applies. The years and dates come from the DWC MTUS page (Low Back Disorders: ACOEM 2016-02-24
from 2017-12-01; 2019-03-07 by the order effective 2019-08-11; 2020-02-13 by the order effective
2021-11-23), never from the program's output."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

import reasoner
from reasoner import api, rulebase
from reasoner.catalog import _versions
from reasoner.namespaces import KB, MTUS
from reasoner.selection import RuleDate
from reasoner.texts import Texts
from tests.helpers import seed


def _texts() -> Texts:
    rb = rulebase.get()
    return Texts(rb.kb, rb.closure)


def _low_back_section() -> reasoner.catalog.Section:
    """An encoded section re-filed under the ACOEM Low Back Disorders guideline (a fixture: the
    ACOEM sections themselves are written on the content branches)."""
    rb = rulebase.get()
    template = rb.catalog.sections[KB["acoem-2004-ch12-xray"]]
    document = KB["acoem-low-back"]
    return dataclasses.replace(template, document=document,
                               citation_title=str(rb.kb.value(document, MTUS.shortTitle)),
                               versions=_versions(rb.kb, document, {}), cited_as="")


@pytest.mark.parametrize(("service_date", "expected"), [
    pytest.param("2018-06-15", "MTUS/ACOEM Low Back Disorders (2016)", id="2018-06"),
    pytest.param("2019-08-10", "MTUS/ACOEM Low Back Disorders (2016)", id="day-before-2019-order"),
    pytest.param("2019-08-11", "MTUS/ACOEM Low Back Disorders (2019)", id="2019-order"),
    pytest.param("2020-01-15", "MTUS/ACOEM Low Back Disorders (2019)", id="2020-01"),
    pytest.param("2024-01-15", "MTUS/ACOEM Low Back Disorders (2020)", id="2024-01"),
])
def test_an_acoem_guideline_is_cited_by_the_year_of_its_version_in_force(service_date: str, expected: str) -> None:
    rule = RuleDate(KB["mtus-2017"], MTUS.serviceDate, dt.date.fromisoformat(service_date))
    assert api.cited_as(_low_back_section(), rule, _texts()) == expected


def test_an_odg_section_is_cited_by_its_chapter() -> None:
    rb = rulebase.get()
    section = rb.catalog.sections[KB["odg-knee-corticosteroid"]]
    rule = RuleDate(KB["mtus-2009"], MTUS.requestDate, dt.date(2014, 11, 15))
    assert api.cited_as(section, rule, _texts()) == "ODG Knee & Leg (Acute & Chronic)"


def test_a_section_found_after_acoem_and_odg_is_cited_as_not_addressed_by_them() -> None:
    section = _low_back_section()
    later = dataclasses.replace(section, search_step=dataclasses.replace(section.search_step, cited_as="citation-not-addressed"))
    rule = RuleDate(KB["mtus-2017"], MTUS.serviceDate, dt.date(2020, 1, 15))
    assert api.cited_as(later, rule, _texts()) == "not addressed by MTUS/ACOEM or ODG"


def test_a_2009_mtus_section_keeps_its_title_section_and_pages() -> None:
    det = reasoner.evaluate("examples/seed-imr-case.yaml")
    item = det.items[0]
    assert item.cited_as == "MTUS Acupuncture Medical Treatment Guidelines, 8 CCR 9792.24.1"


def test_an_item_nothing_addresses_is_cited_as_not_addressed() -> None:
    data = seed()
    data["requests"] = [{"id": "9", "service": "bone_scan", "region": "lumbar_spine"}]
    data.pop("expected")
    (item,) = reasoner.evaluate(data).items
    assert item.cited_as == "not addressed by MTUS/ACOEM or ODG"


def test_the_json_item_names_its_edition_date_key_rule_date_and_citation() -> None:
    from reasoner.exports import to_json_data
    data = seed()
    data["requests"][0]["request_date"] = "2014-10-01"
    det = reasoner.evaluate(data)
    item = to_json_data(det, _texts())["items"][0]
    assert item["edition"] == {"id": "mtus-2009", "label": "MTUS effective July 18, 2009", "date_key": "requestDate",
                               "rule_date": "2014-10-01"}
    assert item["cited_as"] == "MTUS Acupuncture Medical Treatment Guidelines, 8 CCR 9792.24.1"
    assert item["guideline"]["search_step"] == "MTUS"


@pytest.mark.parametrize(("cited", "mismatch"), [
    pytest.param("MTUS/ACOEM Low Back Disorders (2016)", False, id="same-guideline"),
    pytest.param("ACOEM Low Back Disorders Guideline, 2019", False, id="same-guideline-other-words"),
    pytest.param("MTUS/ACOEM Knee Disorders (2019)", True, id="another-guideline"),
])
def test_a_claims_administrator_citation_agrees_when_it_names_the_document_applied(cited: str, mismatch: bool) -> None:
    """The phrases a document is recognised by (kb/documents-acoem.ttl) count for each of its
    sections, beside the section's own."""
    rb = rulebase.get()
    phrases = tuple(str(o) for o in rb.kb.objects(KB["acoem-low-back"], MTUS.recognisedBy))
    assert phrases == ("Low Back Disorders",)
    assert api._mismatch(cited, phrases) is mismatch
