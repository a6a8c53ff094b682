"""``mtus explain``: what the reasoner saw, checked from a guideline author's point of view on
case files whose content is known (trigger point injections, tramadol, acupuncture) and on
small cases written here."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from reasoner import cli, rulebase
from reasoner.explain import CriterionLine, Explanation, RequestExplanation, explain
from reasoner.namespaces import CODE, MTUS
from tests import casefiles

CASES = casefiles.CASES
TPI = CASES / "chronic-pain" / "trigger-point-injections" / "radiculopathy-too-many-injections-saline-is-upheld.yaml"
TRAMADOL = CASES / "chronic-pain" / "tramadol" / "all-criteria-met-tramadol-trial-is-overturned.yaml"
ACUPUNCTURE_2008 = CASES / "acupuncture" / "2008-shoulder-not-addressed-low-back-under-2007-text.yaml"


@pytest.fixture(scope="module")
def tpi() -> Explanation:
    return explain(TPI, rulebase.get())


@pytest.fixture(scope="module")
def tramadol() -> Explanation:
    return explain(TRAMADOL, rulebase.get())


def _request(explanation: Explanation, request_id: str = "1") -> RequestExplanation:
    return next(r for r in explanation.requests if r.id == request_id)


def _criteria(request: RequestExplanation) -> dict[str, CriterionLine]:
    out: dict[str, CriterionLine] = {}
    todo = list(request.criteria)
    while todo:
        line = todo.pop()
        out[line.criterion] = line
        todo += line.branches
    return out


def _reasons(request: RequestExplanation, section: str) -> set[str]:
    candidate = next(c for c in request.candidates if c.section == section)
    assert not candidate.chosen
    return {reason.code for reason in candidate.reasons}


def _chosen_is_first_eligible(request: RequestExplanation) -> None:
    """Selection and its explanation read the same query: the chosen section is the first
    candidate meeting every condition, and only it is marked chosen."""
    eligible = [c for c in request.candidates if all(c.conditions.values())]
    assert [c.section for c in request.candidates if c.chosen] == [c.section for c in eligible[:1]]
    assert request.section == (eligible[0].section if eligible else None)


def test_a_symptom_duration_is_attributed_to_the_durations_rule(tpi: Explanation) -> None:
    # injury of the neck on 2012-05-01, reviewed 2014-11-15; the item is for the neck
    days = (dt.date(2014, 11, 15) - dt.date(2012, 5, 1)).days
    found = [f for f in tpi.derived if f.predicate_iri == str(MTUS.symptomDays)]
    assert [(f.subject, f.object, f.source_file) for f in found] == [("request 1", str(days), "kb/rules/06-durations.rq")]
    review_days = [f for f in tpi.derived if f.predicate_iri == str(MTUS.reviewDay)]
    assert [(f.subject, f.source, f.source_file) for f in review_days] == [("case", "intake", None)]
    # each derived triple is listed once, under the first step that added it
    triples = [(f.subject_iri, f.predicate_iri, f.object_term) for f in tpi.derived]
    assert len(triples) == len(set(triples))


def test_stated_facts_are_shown_by_short_names_and_labels(tpi: Explanation) -> None:
    data = casefiles.load(TPI).data
    request = data["requests"][0]
    stated = {(f.subject, f.predicate_iri, f.object_term) for f in tpi.stated}
    assert ("request 1", str(MTUS.quantity), str(request["quantity"])) in stated
    assert ("request 1", str(MTUS.service), str(CODE[request["service"]])) in stated
    for index, finding in enumerate(data["findings"], start=1):
        assert (f"finding {index}", str(MTUS.code), str(CODE[finding["code"]])) in stated
    assert not any(f.source for f in tpi.stated)


def test_a_criterion_expected_not_met_shows_its_contradiction_violated_with_the_fact(tpi: Explanation) -> None:
    case = casefiles.load(TPI)
    expected = case.expected["1"]["criteria"]
    request = _request(tpi)
    criteria = _criteria(request)
    for criterion, state in expected.items():
        assert criteria[criterion].state == state, criterion
    not_met = [c for c, state in expected.items() if state == "not_met"]
    assert not_met
    for criterion in not_met:
        violated = [s for s in criteria[criterion].shapes if s.role == "contradiction" and s.violated]
        assert violated and all(s.facts for s in violated), criterion
    # radiculopathy on exam (the third finding of the case file) contradicts the exclusion (4)
    radiculopathy = next(i for i, f in enumerate(case.data["findings"]) if f["code"] == "radiculopathy")
    facts = [f for s in criteria["cpmtg-2009-tpi-4"].shapes if s.role == "contradiction" for f in s.facts]
    assert [f.value for f in facts] == [f"finding {radiculopathy + 1}"]
    assert facts[0].value_term is not None and facts[0].value_term.endswith(f"/findings/{radiculopathy}")
    # six injections requested against a limit of 3-4 per session (5); a saline injectate (8)
    facts = [f for s in criteria["cpmtg-2009-tpi-5"].shapes if s.role == "contradiction" for f in s.facts]
    assert [(f.path_iri, f.value) for f in facts] == [(str(MTUS.quantity), str(case.data["requests"][0]["quantity"]))]
    facts = [f for s in criteria["cpmtg-2009-tpi-8"].shapes if s.role == "contradiction" for f in s.facts]
    assert [f.value_term for f in facts] == [str(CODE.saline)]
    # no prior injection: the repeat rule (6) does not apply, by its applicability shape
    repeat = criteria["cpmtg-2009-tpi-6"]
    assert not repeat.applies
    assert [s.violated for s in repeat.shapes if s.role == "applicability"] == [True]
    _chosen_is_first_eligible(request)


def test_the_applied_section_is_the_one_the_case_file_expects(tramadol: Explanation) -> None:
    expected = casefiles.load(TRAMADOL).expected["1"]
    request = _request(tramadol)
    assert request.section == expected["section"]
    assert request.decision == expected["decision"]
    _chosen_is_first_eligible(request)
    # the drug's own section goes before its class's section (kb: selection priority)
    assert _reasons(request, "cpmtg-2009-opioids") == {"lower-priority"}
    # tramadol is not an NSAID
    assert _reasons(request, "cpmtg-2009-nsaids") == {"drug-class-not-addressed"}


def _tpi_case(review: str, injury: str) -> dict[str, Any]:
    return {"id": "tpi-dates", "review_date": review,
            "injury": {"date": injury, "work_related": True, "body_regions": ["cervical_spine"]},
            "requests": [{"id": "1", "service": "trigger_point_injection", "region": "cervical_spine", "quantity": 2}]}


def test_a_section_not_in_force_on_the_review_date_is_rejected_with_its_dates() -> None:
    # the Chronic Pain Medical Treatment Guidelines took effect on 2009-07-18
    request = _request(explain(_tpi_case("2009-01-01", "2008-06-01"), rulebase.get()))
    assert request.section is None and request.decision == "not_addressed"
    candidate = next(c for c in request.candidates if c.section == "cpmtg-2009-tpi")
    assert [r.code for r in candidate.reasons] == ["not-in-force"]
    assert candidate.effective_from == "2009-07-18"
    assert "2009-07-18" in candidate.reasons[0].text and "2009-01-01" in candidate.reasons[0].text


def test_a_region_the_section_does_not_address_is_the_reason_given() -> None:
    # 2008: the 2007 acupuncture text does not address the shoulder; the 2009 text is not yet in force
    expected = casefiles.load(ACUPUNCTURE_2008).expected
    explanation = explain(ACUPUNCTURE_2008, rulebase.get(), "1")
    assert [r.id for r in explanation.requests] == ["1"]
    request = explanation.requests[0]
    assert request.decision == expected["1"]["decision"] == "not_addressed"
    assert _reasons(request, "acupuncture-2007") == {"region-not-addressed"}
    assert _reasons(request, "acupuncture-2009") == {"not-in-force"}
    assert not request.criteria
    # the derived facts are those of request 1 (and of the case), none of request 2's
    assert any(f.subject == "request 1" for f in explanation.derived)
    assert not any("request 2" in (f.subject, f.object) for f in explanation.derived)


def test_a_later_step_of_the_search_sequence_is_the_reason_given() -> None:
    # trazodone is typed both as an antidepressant (MTUS) and as a sedative-hypnotic (ODG)
    case = {"id": "trazodone", "review_date": "2014-11-15",
            "injury": {"date": "2013-01-15", "work_related": True, "body_regions": ["lumbar_spine"]},
            "requests": [{"id": "1", "service": "medication", "drug": "trazodone", "quantity": 30}]}
    request = _request(explain(case, rulebase.get()))
    assert request.section == "cpmtg-2009-antidepressants"
    assert _reasons(request, "odg-hypnotics") == {"later-search-step"}
    assert _reasons(request, "cpmtg-2009-tramadol") == {"drug-not-addressed"}
    _chosen_is_first_eligible(request)


def test_cli_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["explain", str(TRAMADOL), "--request", "1", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in data["requests"]] == ["1"]
    assert data["requests"][0]["section"] == "cpmtg-2009-tramadol"
    assert cli.main(["explain", str(TRAMADOL)]) == 0
    text = capsys.readouterr().out
    assert "Tramadol (Ultram)" in text and "kb/rules/01-case-structure.rq" in text


def test_cli_unknown_request_id_exits_2_with_the_valid_ids(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["explain", str(ACUPUNCTURE_2008), "--request", "7"]) == 2
    err = capsys.readouterr().err
    assert "'7'" in err and "1, 2" in err and "Traceback" not in err


def test_cli_malformed_case_exits_2_with_the_intake_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nreview_date: 2014-13-01\nrequests: []\n", encoding="utf-8")
    assert cli.main(["explain", str(bad)]) == 2
    captured = capsys.readouterr()
    assert "review_date" in captured.err and "Traceback" not in captured.err and captured.out == ""
