"""Every service of the coverage issues, and every drug of the case format (version 1), is decided under an
encoded section on a 2014 review date (the 2009-era MTUS): never `not_addressed`."""

from __future__ import annotations

import pytest
import yaml

import reasoner
from tests.helpers import ROOT

REGION = {
    "knee_arthroscopy": "knee", "viscosupplementation": "knee", "corticosteroid_joint_injection": "knee",
    "shoulder_arthroscopy": "shoulder", "carpal_tunnel_release": "wrist",
    "sacroiliac_joint_injection": "sacroiliac_joint", "cervical_collar": "cervical_spine",
}
NOT_IN_SCOPE = {"bone_scan", "home_exercise_program", "medication", "drug"}  # not listed by the coverage issues

#: the codes of the case format, version 1 (the brief's list)
VERSION_1 = yaml.safe_load((ROOT / "tests" / "data" / "case-format-v1-codes.yaml").read_text(encoding="utf-8"))
SERVICES = sorted(set(VERSION_1["services"]["codes"]) - NOT_IN_SCOPE)
DRUGS = sorted(set(VERSION_1["drugs"]["codes"]) - {"compounded_topical"})


def _decide(request: dict[str, object]) -> tuple[str, str]:
    case = {"id": "coverage", "review_date": "2014-11-15", "requests": [{"id": "1", **request}]}
    (item,) = reasoner.evaluate(case).items
    return item.decision, item.section.label if item.section else ""


@pytest.mark.parametrize("service", SERVICES)
def test_service_is_addressed(service: str) -> None:
    decision, section = _decide({"service": service, "region": REGION.get(service, "lumbar_spine"), "quantity": 1})
    assert decision in ("upheld", "overturned"), f"{service}: {decision}"
    assert section


@pytest.mark.parametrize("drug", DRUGS)
def test_drug_is_addressed(drug: str) -> None:
    decision, _ = _decide({"service": "medication", "drug": drug, "quantity": 30, "days_supply": 30})
    assert decision in ("upheld", "overturned"), f"{drug}: {decision}"


def test_compounded_topical_names_the_ingredient_that_is_not_recommended() -> None:
    case = {"id": "compound", "review_date": "2014-11-15",
            "findings": [{"code": "neuropathic_pain", "region": "lumbar_spine"}],
            "requests": [{"id": "1", "service": "medication", "drug": "compounded_topical",
                          "ingredients": ["gabapentin", "lidocaine_patch"], "region": "lumbar_spine"}]}
    (item,) = reasoner.evaluate(case).items
    assert item.decision == "upheld"
    assert "gabapentin" in item.rationale


def test_morphine_equivalent_dose_is_shown_when_it_decides() -> None:
    case = {"id": "med", "review_date": "2014-11-15",
            "medications": [{"drug": "oxycodone", "dose_mg": 40, "frequency_per_day": 3, "since": "2013-01-01"}],
            "findings": [{"code": "pain_relief_with_medication"}, {"code": "function_improved_with_medication"},
                         {"code": "urine_drug_screen_consistent"}, {"code": "opioid_treatment_agreement"},
                         {"code": "returned_to_work"}],
            "requests": [{"id": "1", "service": "medication", "drug": "oxycodone", "dose_mg": 40,
                          "quantity": 90, "days_supply": 30}]}
    (item,) = reasoner.evaluate(case).items
    assert item.decision == "upheld"
    med = [r for r in item.unmet() if "morphine" in r.criterion.statement.lower()]
    assert med and med[0].status == "not_met"
    assert "180" in item.rationale
