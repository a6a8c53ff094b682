"""Deciding a case under the rules in force on another date: ``mtus impact --as-of DATE`` over
stored determinations and ``mtus evaluate --as-of DATE`` over case files. Every item's rule date
becomes DATE (its edition the one DATE falls under by each edition's date key); the review date,
and so every duration, stays as recorded.

Expected results come from the editions' dates (docs/sources/regulatory.md): the CPMTG of 2009
(trigger point injections, epidural steroid injections) is in force from 2009-07-18; nothing is
encoded before the MTUS of 2007-06-15; services from 2017-12-01 fall under the ACOEM-based MTUS
(date of service) and medications dispensed from 2018-01-01 under the formulary edition.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

import reasoner
from reasoner import batch, cli, impact, rulebase
from reasoner.namespaces import KB, MTUS
from reasoner.store import EmbeddedStore
from tests.helpers import seed

CASES = Path(__file__).parent / "data" / "analyst-cases"


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trigger point injection that meets every criterion and an epidural steroid injection
    that does (both overturned, reviewed 2014-11-15), stored under the rule base."""
    folder = tmp_path_factory.mktemp("as-of-cases")
    for name in ("a01-tpi-met.yaml", "a07-esi-met.yaml"):
        shutil.copy(CASES / name, folder / name)
    path = tmp_path_factory.mktemp("as-of-store") / "store"
    store = EmbeddedStore(path)
    summary = batch.run([folder], store, rulebase.get(), progress=False)
    assert (summary.stored, summary.decisions["overturned"]) == (2, 2)
    store.close()
    return path


def test_under_the_rules_of_the_review_date_nothing_changes(stored: Path) -> None:
    store = EmbeddedStore(stored)
    result = impact.run(store, rulebase.get(), as_of=dt.date(2014, 11, 15))
    store.close()
    assert (result.cases, result.items, result.changes, result.failures) == (2, 2, [], [])


def test_before_the_2009_guidelines_both_items_flip_and_name_the_criteria_that_no_longer_apply(stored: Path) -> None:
    store = EmbeddedStore(stored)
    result = impact.run(store, rulebase.get(), as_of=dt.date(2009, 7, 17))
    store.close()
    flips = {(c.case_id, c.before, c.after, c.section_before, c.section_after) for c in result.flips}
    assert flips == {("a01-tpi-met", "overturned", "not_addressed", "cpmtg-2009-tpi", None),
                     ("a07-esi-met", "overturned", "not_addressed", "cpmtg-2009-esi", None)}
    tpi = next(c for c in result.flips if c.case_id == "a01-tpi-met")
    assert ("cpmtg-2009-tpi-5", "met", "absent") in tpi.criteria  # not more than 3-4 injections per session


def test_the_report_says_under_which_date_the_rules_were_read(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["impact", "--store", str(stored), "--as-of", "2007-06-14", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["as_of"] == "2007-06-14" and len(data["flips"]) == 2
    assert cli.main(["impact", "--store", str(stored), "--as-of", "2007-06-14"]) == 0
    assert "under the rules in force on 2007-06-14" in capsys.readouterr().out


def test_evaluate_as_of_reads_every_rule_date_as_that_date_and_keeps_the_review_date() -> None:
    data = seed()
    data["requests"] = [
        {"id": "1", "service": "trigger_point_injection", "region": "cervical_spine", "quantity": 1},
        {"id": "2", "service": "medication", "drug": "cyclobenzaprine"},
    ]
    data.pop("expected")
    det = reasoner.evaluate(data, as_of=dt.date(2018, 6, 1))
    assert det.review_date == dt.date.fromisoformat(data["review_date"])
    tpi, drug = det.items
    assert (tpi.edition, tpi.date_key, tpi.rule_date) == (KB["mtus-2017"], MTUS.serviceDate, dt.date(2018, 6, 1))
    assert (drug.edition, drug.date_key, drug.rule_date) == (KB["mtus-2018"], MTUS.dispenseDate, dt.date(2018, 6, 1))
    assert tpi.decision == "not_addressed"  # the 2009 trigger point injection section ended with 2016-07-28


def test_evaluate_as_of_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["evaluate", str(CASES / "a01-tpi-met.yaml"), "--as-of", "2009-07-17", "--format", "json"]) == 0
    (determination,) = json.loads(capsys.readouterr().out)
    item = determination["items"][0]
    assert item["decision"] == "not_addressed"
    assert item["edition"]["rule_date"] == "2009-07-17" and item["edition"]["id"] == "mtus-2007"
    with pytest.raises(SystemExit) as exit_code:
        cli.main(["evaluate", str(CASES / "a01-tpi-met.yaml"), "--as-of", "2009-13-01"])
    assert exit_code.value.code == 2
    assert "expected a date YYYY-MM-DD; got '2009-13-01'" in capsys.readouterr().err
