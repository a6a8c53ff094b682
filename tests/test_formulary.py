"""The MTUS Drug Formulary: bad input gets a precise intake error (field path, what was
expected, the nearest valid value), and the formulary answer reaches every output. The rules
themselves are tested as data: tests/cases/formulary/ (a case on each side of every window)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import reasoner
from reasoner import cli, exports, letters, rulebase
from reasoner.errors import IntakeError, MtusError
from reasoner.impact import drug_lists
from reasoner.texts import Texts

CASES = Path(__file__).parent / "cases" / "formulary"


def medication_case(**fields: Any) -> dict[str, Any]:
    request = {"id": "1", "service": "medication", "drug": "cyclobenzaprine", "days_supply": 4,
               "dispense_date": "2019-03-03"} | fields
    return {"id": "formulary-intake", "review_date": "2019-04-15",
            "injury": {"date": "2019-03-01", "work_related": True, "body_regions": ["lumbar_spine"]},
            "requests": [request]}


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(IntakeError) as info:
        reasoner.evaluate(data)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(("fields", "expected"), [
    pytest.param({"service": "physical_therapy", "drug": None, "days_supply": None, "dispense_date": None,
                  "setting": "outpatient"},
                 "requests[0].setting: is a field of a medication request", id="formulary-field-on-therapy"),
    pytest.param({"initial_visit_date": "2019-03-05"},
                 "requests[0].initial_visit_date: impossible date: the initial visit is after the dispense date",
                 id="initial-visit-after-dispensing"),
    pytest.param({"initial_visit_date": "2019-02-27"},
                 "requests[0].initial_visit_date: impossible date", id="initial-visit-before-injury"),
    pytest.param({"rxcui": "7259", "drug": None}, "requests[0].rxcui: unknown RxCUI", id="unknown-rxcui"),
    pytest.param({"rxcui": "7258"}, "requests[0].rxcui: contradicts the drug code", id="rxcui-of-another-drug"),
    pytest.param({"product_type": "compounded", "drug": "compounded_topical"},
                 "requests[0].product_type: contradicts the product type", id="compounded-without-ingredients"),
    pytest.param({"setting": "outpatinet"}, "requests[0].setting: unknown code: ", id="unknown-setting"),
    pytest.param({"indication": {"text": "back pain", "offlabel": True}},
                 "requests[0].indication.offlabel: unknown field 'offlabel'", id="unknown-indication-field"),
])
def test_bad_formulary_input_is_a_precise_intake_error(fields: dict[str, Any], expected: str) -> None:
    data = medication_case(**fields)
    data["requests"][0] = {k: v for k, v in data["requests"][0].items() if v is not None}
    found = problems_of(data)
    assert any(p.startswith(expected) for p in found), found


def test_an_unknown_rxcui_suggests_the_nearest() -> None:
    data = medication_case(rxcui="7259")
    del data["requests"][0]["drug"]
    (problem,) = problems_of(data)
    assert "7258 (naproxen)" in problem


def test_unknown_drug_suggests_the_nearest() -> None:
    (problem,) = problems_of(medication_case(drug="duloxetin"))
    assert problem.startswith("requests[0].drug: unknown code: ") and "duloxetine" in problem


def test_both_answers_in_every_output() -> None:
    rb = rulebase.get()
    det = reasoner.evaluate(medication_case(initial_visit_date="2019-03-03"))
    texts = Texts(rb.kb, rb.closure, rb.catalog.writer)
    (determination,) = json.loads(exports.to_json([det], texts))
    item = determination["items"][0]
    assert item["decision"] in ("upheld", "overturned", "not_addressed")
    assert item["formulary"]["rule"] == "8 CCR 9792.27.12 Special Fill"
    assert item["formulary"]["prospective_review_required"] is False
    letter = letters.render([det], texts)
    assert "Formulary rule applied: 8 CCR 9792.27.12 Special Fill" in letter
    from reasoner import letter_html
    page = letter_html.html([det], texts)
    assert "Formulary rule applied: 8 CCR 9792.27.12 Special Fill" in page
    assert "(the dispense date)" in page  # the rule date the item was decided on, as in the text letter
    turtle = exports.to_turtle([det])
    assert "formulary-rule-special-fill" in turtle and "prospectiveReviewRequired false" in turtle


def test_a_drug_list_update_lists_the_drugs_it_changes() -> None:
    rb = rulebase.get()
    v6, v7 = drug_lists.version(rb, "v6"), drug_lists.version(rb, "v7")
    # v7 made the depressive-disorder drugs Exempt (workcompacademy.com 2020-10, docs/sources/formulary.md)
    assert {c.drug: (c.before["status"], c.after["status"]) for c in drug_lists.list_changes(rb, v6, v7)} == {
        drug: ("non_exempt", "exempt") for drug in ("amitriptyline", "duloxetine", "nortriptyline", "trazodone")}
    v1, v2 = drug_lists.version(rb, "v1"), drug_lists.version(rb, "v2")
    (change,) = drug_lists.list_changes(rb, v1, v2)
    assert (change.drug, change.after["special_fill_days"]) == ("betamethasone", 4)
    with pytest.raises(MtusError, match="did you mean: v7"):
        drug_lists.version(rb, "v77")


def test_mtus_impact_between_two_list_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    folder = CASES / "list-versions"
    assert cli.main(["batch", str(folder / "duloxetine-dispensed-2020-10-31-is-non-exempt.yaml"),
                     str(folder / "duloxetine-dispensed-2020-11-01-is-exempt.yaml"), "--store", str(store)]) == 0
    capsys.readouterr()
    assert cli.main(["impact", "--drug-lists", "v6", "v7", "--store", str(store), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["items_checked"] == 1
    (item,) = report["items"]
    assert (item["case"], item["before"]["rule_id"], item["after"]["rule_id"]) == (
        "formulary-duloxetine-v6", "formulary-rule-non-exempt", "formulary-rule-exempt")


def test_every_formulary_rule_decides_some_case_file() -> None:
    from rdflib.namespace import RDF

    from reasoner.namespaces import MTUS, local_name
    from tests import casefiles

    rules = {local_name(r) for r in rulebase.get().kb.subjects(RDF.type, MTUS.FormularyRule)}
    decided = {exp["formulary"]["rule"] for case in casefiles.all_cases() for exp in case.expected.values()
               if isinstance(exp, dict) and isinstance(exp.get("formulary"), dict) and "rule" in exp["formulary"]}
    assert rules, "no formulary rule in kb/: nothing to check"
    assert rules <= decided, f"formulary rules no case file shows deciding: {sorted(rules - decided)}"


def test_the_analyst_queries_count_stored_formulary_answers(tmp_path: Path) -> None:
    from reasoner import querylib
    from reasoner.store import EmbeddedStore

    store = tmp_path / "store"
    files = ["special-fill/initial-visit-on-day-7-after-injury-is-a-special-fill.yaml",
             "list-versions/duloxetine-dispensed-2020-11-01-is-exempt.yaml",
             "list-versions/duloxetine-dispensed-2020-10-31-is-non-exempt.yaml",
             "compounded/compounded-with-exempt-ingredients-needs-review.yaml",
             "scope/physician-administered-drug-is-outside-the-formulary.yaml"]
    bypassed = yaml.safe_load((CASES / files[2]).read_text(encoding="utf-8"))
    bypassed["id"] = "formulary-duloxetine-v6-bypassed"
    bypassed["requests"][0]["prospective_review"] = "not_obtained"
    bypassed["requests"][0]["dispense_date"] = bypassed["requests"][0]["dispense_date"].isoformat()
    (tmp_path / "bypassed.json").write_text(json.dumps({k: v for k, v in bypassed.items() if k != "expected"},
                                                       default=str), encoding="utf-8")
    assert cli.main(["batch", *(str(CASES / f) for f in files), str(tmp_path / "bypassed.json"),
                     "--store", str(store)]) == 0
    kb, mtus = "https://w3id.org/mtus/kb/", "https://w3id.org/mtus/ontology#"
    backend = EmbeddedStore(store)
    try:
        lawful = querylib.run(backend, querylib.resolve("medication-items-dispensed-without-review-by-formulary-rule"), {})
        assert [tuple(row) for row in lawful.values()] == [
            (kb + "formulary-rule-exempt", mtus + "Exempt", 1),
            (kb + "formulary-rule-special-fill", mtus + "NonExempt", 1)]
        review = querylib.run(backend, querylib.resolve("medication-items-needing-review-by-drug-list-version"), {})
        assert [tuple(row) for row in review.values()] == [
            (kb + "drug-list-v3", kb + "formulary-rule-compounded", 1),
            (kb + "drug-list-v6", kb + "formulary-rule-non-exempt", 2)]
        missed = querylib.run(backend, querylib.resolve("medication-items-dispensed-without-a-required-review"), {})
        assert [tuple(row) for row in missed.values()] == [
            ("formulary-duloxetine-v6-bypassed", "1", "https://w3id.org/mtus/code/duloxetine",
             kb + "formulary-rule-non-exempt", kb + "drug-list-v6")]
    finally:
        backend.close()


def test_every_drug_code_is_listed_or_explicitly_unlisted_in_each_transcribed_version() -> None:
    from rdflib.namespace import RDF

    from reasoner.namespaces import MTUS, local_name

    rb = rulebase.get()
    codes = {c for c in rb.closure.subjects(RDF.type, MTUS.Drug) if str(c).startswith("https://w3id.org/mtus/code/")}
    transcribed = {v for v in rb.kb.subjects(RDF.type, MTUS.DrugListVersion) if rb.kb.value(v, MTUS.entriesOf) == v}
    assert codes and len(transcribed) >= 2
    for version in transcribed:
        listed = {rb.kb.value(e, MTUS.listedDrug) for e in rb.kb.objects(version, MTUS.entry)}
        unlisted = set(rb.kb.objects(version, MTUS.unlistedDrug))
        assert not listed & unlisted, local_name(version)
        missing = sorted(local_name(c) for c in codes - listed - unlisted)
        assert not missing, f"{local_name(version)}: neither listed nor unlisted: {missing}"
