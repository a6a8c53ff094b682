"""Editions: each edition names the date of an item that picks it (kb/editions.ttl,
mtus:dateKey); the item's rule date selects the section in force; outside every encoded period
an item is not addressed, never guessed.

Expected dates come from the regulation and the DWC's notices (docs/sources/regulatory.md): the
2016 update "went into effect on July 28, 2016" and applies to "treatment requests made on or
after July 29, 2016"; the ACOEM-based guidelines to services rendered on or after 2017-12-01;
the formulary to drugs dispensed on or after 2018-01-01 (8 CCR 9792.27.2).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import reasoner
from reasoner.namespaces import KB, MTUS
from tests.helpers import seed


def tpi_case(review_date: str, **dates: str) -> dict[str, Any]:
    data = seed()
    data["review_date"] = review_date
    data["requests"] = [{"id": "1", "service": "trigger_point_injection", "region": "cervical_spine", "quantity": 1,
                         **dates}]
    data.pop("expected")
    data["studies"] = []
    return data


def test_cpmtg_2009_section_applies_on_its_first_day() -> None:
    (item,) = reasoner.evaluate(tpi_case("2009-07-18")).items
    assert item.section is not None and item.section.label == "Trigger point injections"


def test_before_the_2009_cpmtg_no_tpi_section_is_in_force() -> None:
    (item,) = reasoner.evaluate(tpi_case("2009-07-17")).items
    assert item.decision == "not_addressed"


def test_a_request_made_on_2016_07_28_is_still_under_the_2009_text() -> None:
    (item,) = reasoner.evaluate(tpi_case("2016-07-28")).items
    assert item.section is not None and item.section.label == "Trigger point injections"
    assert item.edition == KB["mtus-2009"]


def test_after_the_2016_replacement_the_2009_section_no_longer_applies() -> None:
    (item,) = reasoner.evaluate(tpi_case("2016-07-29")).items
    assert item.decision == "not_addressed"
    assert item.edition == KB["mtus-2016"]


def test_the_request_date_not_the_review_date_picks_the_2016_edition() -> None:
    """Reviewed after the 2016 update, but requested before it: the 2009 text applies."""
    (item,) = reasoner.evaluate(tpi_case("2016-09-15", request_date="2016-07-20")).items
    assert (item.edition, item.date_key, item.rule_date) == (KB["mtus-2009"], MTUS.requestDate, dt.date(2016, 7, 20))
    assert item.section is not None and item.section.label == "Trigger point injections"


def test_a_service_on_or_after_2017_12_01_falls_under_the_acoem_based_mtus() -> None:
    (item,) = reasoner.evaluate(tpi_case("2017-12-20", request_date="2017-11-20", service_date="2017-12-04")).items
    assert (item.edition, item.date_key, item.rule_date) == (KB["mtus-2017"], MTUS.serviceDate, dt.date(2017, 12, 4))


def test_a_service_before_2017_12_01_stays_under_the_2016_edition() -> None:
    (item,) = reasoner.evaluate(tpi_case("2017-12-20", request_date="2017-11-20", service_date="2017-11-30")).items
    assert (item.edition, item.date_key, item.rule_date) == (KB["mtus-2016"], MTUS.requestDate, dt.date(2017, 11, 20))


def medication_case(review_date: str, **dates: str) -> dict[str, Any]:
    data = tpi_case(review_date)
    data["requests"] = [{"id": "1", "service": "medication", "drug": "cyclobenzaprine", **dates}]
    return data


@pytest.mark.parametrize(("dates", "edition", "key", "day"), [
    pytest.param({"service_date": "2017-12-20", "dispense_date": "2018-01-02"}, "mtus-2018", MTUS.dispenseDate,
                 dt.date(2018, 1, 2), id="dispensed-2018-01-02-formulary"),
    pytest.param({"service_date": "2017-12-20", "dispense_date": "2017-12-31"}, "mtus-2017", MTUS.serviceDate,
                 dt.date(2017, 12, 20), id="dispensed-2017-12-31-acoem"),
])
def test_a_medication_falls_under_the_formulary_by_its_date_dispensed(dates: dict[str, str], edition: str,
                                                                      key: Any, day: dt.date) -> None:
    (item,) = reasoner.evaluate(medication_case("2018-02-01", **dates)).items
    assert (item.edition, item.date_key, item.rule_date) == (KB[edition], key, day)


def test_a_non_medication_item_never_falls_under_the_formulary_edition() -> None:
    (item,) = reasoner.evaluate(tpi_case("2024-01-15")).items
    assert (item.edition, item.date_key) == (KB["mtus-2017"], MTUS.serviceDate)


def test_an_item_dated_before_the_first_edition_is_not_addressed_with_the_reason() -> None:
    (item,) = reasoner.evaluate(tpi_case("2007-06-14")).items
    assert item.decision == "not_addressed"
    assert item.edition is None and item.rule_date is None
    assert "before the first edition" in item.rationale
    assert item.cited_as == "not addressed by MTUS/ACOEM or ODG"


def test_no_section_in_force_names_the_rule_date_and_its_kind() -> None:
    (item,) = reasoner.evaluate(tpi_case("2018-03-01", request_date="2018-01-10", service_date="2018-02-01")).items
    assert item.decision == "not_addressed"
    assert "on 2018-02-01 (its service date, under the MTUS effective December 1, 2017)" in item.rationale
