"""The phase of care (docs/sources/regulatory.md#phase-of-care): a section that names the phases of
pain it addresses (the ACOEM Chronic Pain Guideline's muscle relaxants: chronic pain, 8 CCR
9792.20(b)) is not chosen for an item whose pain is documented to be acute or subacute, and the
not-addressed rationale and `mtus explain` say why. The case files of
tests/cases/acoem-2017-chronic-pain/muscle-relaxants/ hold the decisions on each side of the line;
tests/test_fastpath.py ties both engines to them."""

from __future__ import annotations

from reasoner import api, rulebase
from reasoner.explain import explain
from tests import casefiles

ACUTE = casefiles.CASES / "acoem-2017-chronic-pain/muscle-relaxants/cyclobenzaprine-five-days-after-a-low-back-injury-is-not-addressed.yaml"
SECTION = "acoem-2017-chronic-pain-muscle-relaxants"


def test_an_acute_request_is_not_addressed_and_the_rationale_names_the_phase() -> None:
    item = api.evaluate(ACUTE, rulebase.get()).items[0]
    assert item.decision == "not_addressed"
    # the definition (three months, 8 CCR 9792.20(b)) and the section passed over are named
    assert "acute or subacute" in item.rationale
    assert "3 months" in item.rationale and "9792.20(b)" in item.rationale
    assert "MTUS/ACOEM Chronic Pain Guideline, Muscle relaxants" in item.rationale


def test_explain_names_the_phase_condition() -> None:
    found = explain(ACUTE, rulebase.get())
    candidate = next(c for c in found.requests[0].candidates if c.section == SECTION)
    assert candidate.conditions["phaseAddressed"] is False
    assert [r.code for r in candidate.reasons] == ["phase-not-addressed"]
