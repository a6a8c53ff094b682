"""Outputs: the seed case as JSON, Turtle, letter and Markdown; the Python API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph

import reasoner
from reasoner import cli
from reasoner.namespaces import MTUS
from tests.helpers import SEED, seed

EXPECTED_GUIDELINES = {
    "1": ("Acupuncture Medical Treatment Guidelines", ""),
    "2": ("ACOEM Chapter 8 Neck and Upper Back Complaints", "177"),
    "3": ("ACOEM Chapter 12 Low Back Complaints", "303"),
    "4": ("Chronic Pain Medical Treatment Guidelines", "122"),
    "5": ("Chronic Pain Medical Treatment Guidelines", "46"),
}


@pytest.fixture(scope="module")
def seed_json() -> dict[str, object]:
    import io
    from contextlib import redirect_stdout

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert cli.main(["evaluate", str(SEED), "--format", "json"]) == 0
    data = json.loads(buffer.getvalue())
    assert isinstance(data, list) and len(data) == 1  # one JSON shape: a list, even of one case
    first: dict[str, object] = data[0]
    return first


def test_seed_json_has_five_upheld_items_with_expected_guidelines(seed_json: dict[str, object]) -> None:
    items = seed_json["items"]
    assert isinstance(items, list)
    assert [i["request"] for i in items] == ["1", "2", "3", "4", "5"]
    expected = seed()["expected"]
    for item in items:
        assert item["decision"] == "upheld"
        assert item["medically_necessary"] is False
        title, page = EXPECTED_GUIDELINES[item["request"]]
        assert title in item["guideline"]["citation"]
        assert page in item["guideline"]["pages"]
        for phrase in expected[item["request"]]["unmet"]:
            assert phrase in item["unmet"]
    assert [i["ur_guideline_mismatch"] for i in items] == [False, False, False, False, True]
    assert items[4]["flags"] == ["the claims administrator cited a guideline that does not address this service"]
    assert seed_json["requires_physician_review"] is True
    assert seed_json["rulebase_version"]
    assert len(str(seed_json["input_sha256"])) == 64


def test_turtle_is_the_determination_as_rdf(tmp_path: Path) -> None:
    out = tmp_path / "seed.ttl"
    assert cli.main(["evaluate", str(SEED), "--format", "turtle", "--output", str(out)]) == 0
    graph = Graph().parse(out, format="turtle")
    assert next(graph.objects(None, MTUS.inputHash), None) is not None
    assert next(graph.objects(None, MTUS.rulebaseVersion), None) is not None
    assert len(list(graph.subjects(MTUS.aboutRequest, None))) == 5
    assert len(list(graph.subjects(MTUS.criterionStatus, None))) > 10


def test_letter_follows_the_imr_layout(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["evaluate", str(SEED)]) == 0
    text = capsys.readouterr().out
    assert "IMR ISSUES, DECISIONS AND RATIONALES" in text
    assert "TRIGGER POINT INJECTION, CERVICAL SPINE, QUANTITY 1: Upheld" in text
    assert "Claims Administrator guideline: Decision based on MTUS Acupuncture Treatment Guidelines." in text
    assert "Decision rationale: According to the MTUS Chronic Pain Medical Treatment Guidelines" in text
    assert "Labor Code 4610" in text


def test_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["evaluate", str(SEED), "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# ")
    assert "### EPIDURAL STEROID INJECTION, CERVICAL SPINE, QUANTITY 1: Upheld" in text


def test_api_accepts_path_dict_and_graph() -> None:
    from reasoner import intake, rulebase

    by_path = reasoner.evaluate(SEED)
    by_dict = reasoner.evaluate(seed())
    graph: Graph = intake.read(seed(), rulebase.get()).graph
    by_graph = reasoner.evaluate(graph)
    decisions = [(i.request_id, i.decision) for i in by_path.items]
    assert decisions == [(i.request_id, i.decision) for i in by_dict.items]
    assert decisions == [(i.request_id, i.decision) for i in by_graph.items]
    assert by_path.edition_label.startswith("MTUS effective July 18, 2009")


def test_unknown_service_region_is_not_addressed() -> None:
    data = seed()
    data["requests"] = [{"id": "9", "service": "bone_scan", "region": "lumbar_spine"}]
    data.pop("expected")
    (item,) = reasoner.evaluate(data).items
    assert item.decision == "not_addressed"
    assert item.section is None
    assert "No encoded guideline addresses" in item.rationale
