"""Editions: the review date selects the section in force; outside every encoded period an item
is not addressed, never guessed."""

from __future__ import annotations

import reasoner
from tests.helpers import seed


def tpi_case(review_date: str) -> dict[str, object]:
    data = seed()
    data["review_date"] = review_date
    data["requests"] = [{"id": "1", "service": "trigger_point_injection", "region": "cervical_spine", "quantity": 1}]
    data.pop("expected")
    data["studies"] = []
    return data


def test_cpmtg_2009_section_applies_on_its_first_day() -> None:
    (item,) = reasoner.evaluate(tpi_case("2009-07-18")).items
    assert item.section is not None and item.section.label == "Trigger point injections"


def test_before_the_2009_cpmtg_no_tpi_section_is_in_force() -> None:
    (item,) = reasoner.evaluate(tpi_case("2009-07-17")).items
    assert item.decision == "not_addressed"


def test_after_the_2016_replacement_the_2009_section_no_longer_applies() -> None:
    (item,) = reasoner.evaluate(tpi_case("2016-07-28")).items
    assert item.decision == "not_addressed"
