"""The JSON Schemas of the case format and of the determination: generated (``mtus docs``
keeps them current, test_docs checks it), and every case file and its determination fit them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import jsonschema
import pytest
import yaml

import reasoner
from reasoner import schemas
from tests import casefiles


def _json(value: Any) -> Any:
    """A YAML document as the JSON a client would send (dates as ISO text)."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, dt.date) else str(v)))


@pytest.fixture(scope="module")
def case_schema() -> dict[str, Any]:
    schema = schemas.load("case")
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def test_every_case_file_fits_the_case_schema(case_schema: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(case_schema)
    files = [p for p in casefiles.CASES.rglob("*.yaml")]
    assert len(files) > 100
    bad = {str(p): [e.message for e in validator.iter_errors(_json(yaml.safe_load(p.read_text(encoding="utf-8"))))]
           for p in files}
    assert {k: v for k, v in bad.items() if v} == {}


@pytest.mark.parametrize("case, where", [
    pytest.param({"id": "x", "review_date": "2014-11-15", "requests": [{"id": "1", "service": "acupunture"}]},
                 "acupunture", id="misspelt-service"),
    pytest.param({"id": "x", "review_date": "2014-11-15", "requests": [{"id": "1", "service": "mri"}], "colour": 1},
                 "colour", id="unknown-field"),
    pytest.param({"id": "x", "requests": [{"id": "1", "service": "mri"}]}, "review_date", id="missing-review-date"),
])
def test_the_case_schema_refuses_what_intake_refuses(case_schema: dict[str, Any], case: dict[str, Any],
                                                      where: str) -> None:
    errors = list(jsonschema.Draft202012Validator(case_schema).iter_errors(case))
    assert errors and any(where in e.message for e in errors)
    with pytest.raises(reasoner.IntakeError):
        reasoner.evaluate(case)


def test_determinations_fit_the_determination_schema() -> None:
    schema = schemas.load("determination")
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    sample = sorted(casefiles.CASES.rglob("*.yaml"))[::9]
    results = reasoner.engines.evaluate_many(sample)
    dets = [r.to_dict() for r in results if isinstance(r, reasoner.Determination)]
    assert len(dets) > 20
    for det in dets:
        validator.validate(det)
    assert schema["$defs"]["criterion"]["properties"]["status"]["enum"] == [s.value for s in reasoner.CriterionStatus]


def test_the_cli_prints_the_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    from reasoner import cli

    assert cli.main(["schema", "determination"]) == 0
    assert json.loads(capsys.readouterr().out) == schemas.load("determination")
