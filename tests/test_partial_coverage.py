"""Partial coverage (branch current): an item certified under a section that encodes only the
criteria public sources state carries a physician-review reason in every output; an item such a
section does not certify, and any item of a complete (2009) section, carries none."""

from __future__ import annotations

import json

import reasoner
from reasoner import exports, letters
from reasoner.namespaces import MTUS
from tests.helpers import ROOT

CASES = ROOT / "tests" / "cases"
MET = CASES / "acoem-2017-chronic-pain" / "muscle-relaxants" / \
    "two-weeks-of-cyclobenzaprine-for-a-flare-up-after-naproxen-failed-is-overturned.yaml"
FAILED = CASES / "acoem-2017-chronic-pain" / "muscle-relaxants" / "tizanidine-taken-for-months-is-upheld.yaml"
SEED_2009 = CASES / "seed" / "flip-item-1-acupuncture.yaml"


def test_an_item_certified_under_a_partial_section_goes_to_a_physician_in_every_output() -> None:
    det = reasoner.evaluate(MET)
    (item,) = det.items
    assert item.decision == "overturned"
    assert item.section is not None and item.section.coverage == MTUS.Partial
    reason = item.physician_review_reason
    assert item.cited_as in reason and "public sources" in reason  # the guideline version, and why
    assert item.requires_physician_review and det.requires_physician_review
    data = json.loads(det.to_json())
    assert data["items"][0]["physician_review_reason"] == reason
    assert data["items"][0]["requires_physician_review"] is True
    assert data["items"][0]["guideline"]["coverage"] == "Partial"
    graph = exports.to_graph(det)
    assert any(str(o) == reason for o in graph.objects(None, MTUS.physicianReviewReason))
    letter = letters.render([det], det.texts)  # type: ignore[arg-type]
    assert "Physician review:" in letter


def test_a_failing_criterion_of_a_partial_section_upholds_without_the_reason() -> None:
    (item,) = reasoner.evaluate(FAILED).items
    assert item.decision == "upheld"
    assert item.physician_review_reason == ""
    assert item.requires_physician_review  # a denial goes to a physician anyway (Labor Code 4610)


def test_an_item_certified_under_a_2009_section_carries_no_reason() -> None:
    det = reasoner.evaluate(SEED_2009)
    certified = [i for i in det.items if i.decision == "overturned"]
    assert certified
    for item in certified:
        assert item.section is not None and item.section.coverage is None
        assert item.physician_review_reason == "" and not item.requires_physician_review
