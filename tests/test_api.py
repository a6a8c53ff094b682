"""The Python API: fast path by default, thread-safe, typed results with one JSON form."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

import reasoner
from reasoner import CriterionStatus, Decision
from tests import casefiles

SEED = casefiles.CASES / "seed" / "seed-imr-case.yaml"
TPI = casefiles.CASES / "seed" / "flip-item-4-trigger-point-injection.yaml"


def _comparable(data: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in data.items() if k != "generated_at"}


def test_version_is_the_package_version() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert reasoner.__version__ == pyproject["project"]["version"]


def test_decisions_and_states_are_enums_equal_to_their_codes() -> None:
    det = reasoner.evaluate(SEED)
    for item in det.items:
        assert isinstance(item.decision, Decision)
        for top in item.criteria:
            for result in top.walk():
                assert isinstance(result.status, CriterionStatus)
    assert Decision.UPHELD == "upheld" and CriterionStatus.NOT_APPLICABLE == "not_applicable"


def test_a_criterion_that_does_not_apply_has_the_state_not_applicable() -> None:
    # the expected states are the case file's (written from the guideline), not this output
    case = casefiles.load(TPI)
    expected = {crit: state for exp in case.expected.values() if isinstance(exp, dict)
                for crit, state in (exp.get("criteria") or {}).items() if state == "not_applicable"}
    assert expected, "the case file declares a criterion not applicable"
    data = reasoner.evaluate(TPI).to_dict()

    def states(criteria: list[dict[str, object]]) -> dict[str, object]:
        out: dict[str, object] = {}
        for c in criteria:
            out[str(c["id"])] = (c["status"], c["applicable"])
            out.update(states(c.get("branches", [])))  # type: ignore[arg-type]
        return out

    found = {k: v for item in data["items"] for k, v in states(item["criteria"]).items()}
    for crit in expected:
        assert found[crit] == ("not_applicable", False)


def test_to_dict_is_json_and_the_same_on_both_engines() -> None:
    fast = reasoner.evaluate(SEED)
    reference = reasoner.evaluate(SEED, engine="reference")
    assert json.loads(fast.to_json()) == fast.to_dict()
    assert _comparable(fast.to_dict()) == _comparable(reference.to_dict())


def test_the_cli_writes_a_list_of_to_dict(tmp_path: Path) -> None:
    from reasoner import cli

    out = tmp_path / "seed.json"
    assert cli.main(["evaluate", str(SEED), "--format", "json", "--output", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(data, list) and len(data) == 1
    assert _comparable(data[0]) == _comparable(reasoner.evaluate(SEED).to_dict())


def test_threads_share_the_fast_path_and_get_the_same_decisions() -> None:
    want = [i.decision for i in reasoner.evaluate(SEED).items]
    got: list[list[Decision]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                got.append([i.decision for i in reasoner.evaluate(SEED).items])
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert got == [want] * 12


def test_a_number_too_long_to_round_is_refused_at_intake() -> None:
    # found by the API tests generated from the OpenAPI: the letter rounded a 33-digit quantity
    # past the decimal context's precision (decimal.InvalidOperation, a traceback in the CLI);
    # every numeric field now has a documented bound, and such a number is an intake error
    from reasoner.errors import IntakeError
    case = {"id": "huge", "review_date": "2014-11-15",
            "requests": [{"id": "1", "service": "acupuncture", "region": "lumbar_spine",
                          "quantity": 100000000000000000000000000000000}]}
    with pytest.raises(IntakeError) as info:
        reasoner.evaluate(case)
    assert [str(p) for p in info.value.problems] == [
        "requests[0].quantity: expected a quantity, a number more than 0 and at most 10000"]
