"""Intake: malformed cases get one precise problem per mistake (field path, what was expected,
nearest valid code), exit code 2 from the CLI and no output file; every input form is accepted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import reasoner
from reasoner import cli
from reasoner.errors import IntakeError
from tests.helpers import seed, write_yaml


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(IntakeError) as info:
        reasoner.evaluate(data)
    return [str(p) for p in info.value.problems]


def test_bad_date_names_the_field() -> None:
    data = seed()
    data["review_date"] = "2014-13-45"
    assert problems_of(data) == ["review_date: expected the review date, a date YYYY-MM-DD (required)"]


def test_unknown_code_suggests_the_nearest() -> None:
    data = seed()
    data["requests"][0]["service"] = "acupunture"
    (problem,) = problems_of(data)
    assert problem.startswith("requests[0].service: unknown code: ")
    assert "acupunture" not in problem.split("(did you mean")[0]
    assert "did you mean: acupuncture" in problem


def test_missing_requests() -> None:
    data = seed()
    del data["requests"]
    assert problems_of(data) == ["requests: expected a list of at least one requested item (required)"]


def test_unknown_field_suggests_the_nearest() -> None:
    data = seed()
    data["requests"][1]["quantitty"] = 1
    (problem,) = problems_of(data)
    assert problem.startswith("requests[1].quantitty: unknown field 'quantitty'")
    assert "quantity" in problem


def test_one_problem_per_mistake() -> None:
    data = seed()
    data["review_date"] = "15/11/2014"
    data["findings"][0]["region"] = "lumbar"
    data["requests"][2]["quantity"] = -1
    data["injury"]["body_regions"] = ["cervical_spine", "sholder"]
    found = problems_of(data)
    assert [p.split(":")[0] for p in found] == [
        "findings[0].region", "injury.body_regions[1]", "requests[2].quantity", "review_date"]
    assert any("lumbar_spine" in p for p in found)
    assert any("shoulder" in p for p in found)


def test_study_after_review_date_is_impossible() -> None:
    data = seed()
    data["studies"][0]["date"] = "2015-01-01"
    assert problems_of(data) == ["studies[0].date: impossible date: after the review date"]


def test_expected_block_checks_only_decision_values() -> None:
    data = seed()
    data["expected"]["1"]["decision"] = "uphold"
    data["expected"]["2"]["anything"] = ["is", "allowed"]
    (problem,) = problems_of(data)
    assert problem.startswith("expected.1.decision: expected one of")
    assert "upheld" in problem


def test_cli_exit_2_and_no_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = seed()
    data["review_date"] = "2014-02-30"
    bad = write_yaml(tmp_path / "bad.yaml", data)
    out = tmp_path / "out.json"
    assert cli.main(["evaluate", str(bad), "--format", "json", "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "review_date: expected the review date, a date YYYY-MM-DD (required)" in err
    assert "2014-02-30" not in err
    assert "Traceback" not in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_good_and_bad_cases_together_write_nothing(tmp_path: Path) -> None:
    good = write_yaml(tmp_path / "good.yaml", seed())
    data = seed()
    del data["requests"]
    bad = write_yaml(tmp_path / "bad.yaml", data)
    out = tmp_path / "out.txt"
    assert cli.main(["evaluate", str(good), str(bad), "--output", str(out)]) == 2
    assert not out.exists()


def test_unreadable_inputs_are_clear(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(IntakeError, match="not valid YAML"):
        reasoner.evaluate(broken)
    docx = tmp_path / "case.docx"
    docx.write_bytes(b"PK")
    with pytest.raises(IntakeError, match="unknown file type"):
        reasoner.evaluate(docx)
    with pytest.raises(IntakeError, match="cannot be read"):
        reasoner.evaluate(tmp_path / "missing.yaml")
    with pytest.raises(IntakeError, match="expected a mapping"):
        reasoner.evaluate(write_list(tmp_path / "list.json"))


def write_list(path: Path) -> Path:
    path.write_text("[1, 2]", encoding="utf-8")
    return path


def test_json_and_dict_inputs_give_the_same_decisions(tmp_path: Path) -> None:
    data = seed()
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    from_json = reasoner.evaluate(path)
    from_dict = reasoner.evaluate(data)
    assert [i.decision for i in from_json.items] == [i.decision for i in from_dict.items]


def test_turtle_and_jsonld_inputs_are_accepted(tmp_path: Path) -> None:
    from reasoner import intake, rulebase

    rb = rulebase.get()
    case = intake.read(seed(), rb)
    ttl = tmp_path / "seed.ttl"
    ttl.write_text(case.graph.serialize(format="turtle"), encoding="utf-8")
    expected = [(i.request_id, i.decision) for i in reasoner.evaluate(seed()).items]
    assert [(i.request_id, i.decision) for i in reasoner.evaluate(ttl).items] == expected
    doc = json.loads(case.graph.serialize(format="json-ld"))
    jsonld = tmp_path / "seed.jsonld"
    jsonld.write_text(json.dumps(doc), encoding="utf-8")
    assert [(i.request_id, i.decision) for i in reasoner.evaluate(jsonld).items] == expected


def test_remote_jsonld_context_is_never_fetched(tmp_path: Path) -> None:
    doc = {"@context": "http://example.org/context.jsonld", "@id": "urn:x", "review_date": "2014-01-01"}
    path = tmp_path / "remote.jsonld"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(IntakeError, match="is never read"):
        reasoner.evaluate(path)


def test_intake_problems_do_not_log_case_contents(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = seed()
    data["review_date"] = "2014-13-45"
    with pytest.raises(IntakeError):
        reasoner.evaluate(data)
    assert "2014-13-45" not in caplog.text


def test_version_2_dates_are_accepted_and_checked() -> None:
    data = seed()
    data["requests"][0]["request_date"] = "2014-10-01"
    data["requests"][0]["service_date"] = "2014-10-20"
    reasoner.evaluate(data)
    data["requests"][1]["dispense_date"] = "2014-02-30"
    assert problems_of(data) == [
        "requests[1].dispense_date: expected the date dispensed, a date YYYY-MM-DD"]


def test_version_2_dates_default_down_the_chain() -> None:
    """case-format v2: service_date defaults to request_date, which defaults to review_date;
    a medication's dispense_date to service_date and prescribed_date to dispense_date."""
    from reasoner.inference import infer
    from reasoner.intake import read
    from reasoner.namespaces import MTUS
    from reasoner.rulebase import get
    data = seed()
    data["requests"][0]["request_date"] = "2014-10-01"
    rb = get()
    case = read(data, rb)
    graph = infer(case, rb)
    by_id = {str(graph.value(r, MTUS.identifier)): r for r in graph.objects(case.root, MTUS.request)}
    first, second = by_id[data["requests"][0]["id"]], by_id[data["requests"][1]["id"]]
    assert str(graph.value(first, MTUS.requestDate)) == "2014-10-01"
    assert str(graph.value(first, MTUS.serviceDate)) == "2014-10-01"
    assert str(graph.value(second, MTUS.requestDate)) == data["review_date"]
    assert str(graph.value(second, MTUS.serviceDate)) == data["review_date"]


@pytest.mark.parametrize(("dates", "problem"), [
    pytest.param({"request_date": "2014-11-16"},
                 "requests[0].request_date: impossible date: request_date is after the case's review_date",
                 id="request-after-review"),
    pytest.param({"request_date": "2014-10-20", "service_date": "2014-10-01"},
                 "requests[0].service_date: impossible date: service_date is before the request's request_date",
                 id="service-before-request"),
])
def test_dates_that_disagree_are_an_intake_error_naming_both_fields(dates: dict[str, str], problem: str) -> None:
    data = seed()
    data["requests"][0].update(dates)
    assert problems_of(data) == [problem]


def test_a_drug_dispensed_before_it_was_prescribed_is_an_intake_error() -> None:
    data = seed()
    data["requests"] = [{"id": "1", "service": "medication", "drug": "cyclobenzaprine",
                         "prescribed_date": "2014-10-10", "dispense_date": "2014-10-01"}]
    data.pop("expected")
    assert problems_of(data) == [
        "requests[0].dispense_date: impossible date: dispense_date is before the request's prescribed_date"]


def test_a_service_planned_after_the_review_is_accepted() -> None:
    """A prospective request: the service is planned after the review; nothing forbids it."""
    data = seed()
    data["requests"][0].update({"request_date": "2014-11-01", "service_date": "2014-12-01"})
    reasoner.evaluate(data)


def test_duplicate_request_ids_are_refused() -> None:
    """Issue 16: two requests with one id were accepted and merged into one stored item."""
    data = seed()
    data["requests"][3]["id"] = data["requests"][1]["id"]
    assert problems_of(data) == [
        ("requests[3].id: duplicate request id: another request of the case has the same id "
        "(each item is decided and stored by its id)")]


def test_a_treatment_ending_after_the_review_date_is_impossible() -> None:
    data = seed()
    data["treatments"] = [{"service": "physical_therapy", "start": "2014-01-01", "end": "2015-06-01"}]
    assert problems_of(data) == ["treatments[0].end: impossible date: after the review date"]


@pytest.mark.parametrize(("field", "value"), [
    ("duration_weeks", 1e28), ("days_supply", float("inf")), ("quantity", 1e308), ("frequency_per_week", 169)])
def test_numbers_beyond_the_documented_bounds_are_refused(field: str, value: float) -> None:
    """Issue 16: a number of 1e28 or more crashed a rule (decimal overflow in ROUND); .inf and
    1e308 were accepted. Each numeric field has a documented upper bound."""
    data = seed()
    data["requests"][0][field] = value
    (problem,) = problems_of(data)
    assert problem.startswith(f"requests[0].{field}: expected ") and "at most" in problem


def _regions_named(problem: IntakeError | str) -> set[str]:
    text = str(problem)
    return set(text.split("expected one of ", 1)[1].split(", a region within one")[0].split(", "))


@pytest.mark.parametrize("engine", ["reference", "fast"])
def test_a_service_requested_for_a_region_it_is_not_done_on_is_refused(engine: str) -> None:
    """Carpal tunnel release is done at the wrist (ontology/sites.ttl), an epidural injection in
    the spine: requested for the lumbar spine or the shoulder, intake names the request's region
    and the regions allowed; a level within the lumbar spine, a peripheral joint and a
    region-neutral service are accepted."""
    data = seed()
    data["requests"] = [{"id": "1", "service": "carpal_tunnel_release", "region": "lumbar_spine"},
                        {"id": "2", "service": "lumbar_discectomy", "region": "L4-L5"},
                        {"id": "3", "service": "epidural_steroid_injection", "region": "shoulder"},
                        {"id": "4", "service": "corticosteroid_joint_injection", "region": "knee"},
                        {"id": "5", "service": "trigger_point_injection", "region": "wrist"}]
    data.pop("expected", None)
    with pytest.raises(IntakeError) as info:
        reasoner.engines.evaluate(data, engine=engine)
    problems = info.value.problems
    assert [p.path for p in problems] == ["requests[0].region", "requests[2].region"]
    assert _regions_named(problems[0].message) == {"wrist", "hand"}
    assert _regions_named(problems[1].message) == {"cervical_spine", "thoracic_spine", "lumbar_spine"}
    assert "lumbar_spine" not in str(problems[0])  # the value is never quoted
