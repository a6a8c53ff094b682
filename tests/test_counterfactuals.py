"""Verified counterfactuals (issue 14 part 1) and supported quantity (part 2).

Every reported change set is applied to the case data here again and re-evaluated through the
same engine: the item's decision must turn; no reported set is a superset of another. ``make
counterfactuals`` runs this over every case of tests/cases/ (MTUS_COUNTERFACTUALS_ALL=1); ``make
test`` over the seed case and a fixed sample.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rdflib import Graph

import reasoner
from reasoner import cli, counterfactuals, engines, exports, letters
from reasoner.counterfactuals import CaseCounterfactuals, apply, case_data
from reasoner.decisions import OVERTURNED, UPHELD
from reasoner.namespaces import CODE, MTUS, local_name
from tests import casefiles

SEED = casefiles.CASES / "seed" / "seed-imr-case.yaml"
ALL = sorted(p for p in casefiles.CASES.rglob("*.yaml"))
#: a fixed sample for `make test` (every 45th case file: seconds, not minutes); all of them
#: with MTUS_COUNTERFACTUALS_ALL=1 (`make counterfactuals`)
SAMPLE = ALL if os.environ.get("MTUS_COUNTERFACTUALS_ALL") else ALL[::45]


@pytest.fixture(scope="module")
def seed() -> CaseCounterfactuals:
    return reasoner.find_counterfactuals(SEED)


def _check(path: Path, found: CaseCounterfactuals) -> None:
    data = case_data(path)
    for item in found.items:
        for change_set in item.sets:
            assert change_set.verified
            det = engines.evaluate(apply(data, change_set.changes))
            decision = next(i for i in det.items if i.request_id == item.request_id).decision
            assert decision != item.decision, (path.name, item.request_id, change_set.as_json())
            assert decision == change_set.turns_to
        for a in item.sets:
            for b in item.sets:
                assert a is b or not set(a.changes) <= set(b.changes), (path.name, item.request_id)
        assert len(item.sets) <= item.bounds["max_sets"]
        assert all(len(s.changes) <= item.bounds["max_size"] for s in item.sets)
    _check_anatomy(data, found)


def _regions_of(code: str) -> set[str] | None:
    """The regions a code may stand for by ontology/sites.ttl: its sites, what lies within them
    and what contains them (None: no site, any region)."""
    closure = reasoner.rulebase.get().closure
    sites = set(closure.objects(CODE[code], MTUS.anatomicalSite))
    if not sites:
        return None
    out = set(sites)
    for site in sites:
        out |= set(closure.subjects(MTUS.partOf, site)) | set(closure.objects(site, MTUS.partOf))
    return {local_name(r) for r in out}


def _codes(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [c for k in ("code", "service", "drug") if isinstance(value.get(k), str) for c in [value[k]]] \
            + [c for c in value.get("findings") or [] if isinstance(c, str)]
    return []


def _check_anatomy(data: dict[str, object], found: CaseCounterfactuals) -> None:
    """No change documents a code whose anatomical sites exclude the request's region (no carpal
    tunnel release of the lumbar spine, no cauda equina syndrome of the cervical spine)."""
    requests = {str(r["id"]): r for r in data.get("requests") or []}  # type: ignore[union-attr]
    for item in found.items:
        region = requests[item.request_id].get("region")
        if item.kind != "would_overturn" or region is None:
            continue
        for change_set in item.sets:
            for change in change_set.changes:
                for code in _codes(change.value):
                    allowed = _regions_of(code)
                    assert allowed is None or region in allowed, (item.request_id, code, region, change.text)


def test_each_of_the_five_upheld_seed_items_has_counterfactuals_that_overturn_it(seed: CaseCounterfactuals) -> None:
    assert [i.request_id for i in seed.items] == ["1", "2", "3", "4", "5"]
    data = case_data(SEED)
    for item in seed.items:
        assert item.decision == UPHELD and item.kind == "would_overturn" and item.sets, item.request_id
        for change_set in item.sets:  # applying any one of them overturns the item
            det = engines.evaluate(apply(data, change_set.changes))
            assert next(i for i in det.items if i.request_id == item.request_id).decision == OVERTURNED
    _check(SEED, seed)


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: str(p.relative_to(casefiles.CASES).with_suffix("")))
def test_every_reported_counterfactual_turns_its_item_and_none_is_a_superset(path: Path) -> None:
    _check(path, counterfactuals.find(path))


def test_the_seed_counterfactuals_are_anatomically_possible(seed: CaseCounterfactuals) -> None:
    """Cauda equina syndrome (the lumbosacral roots) is no change for a cervical x-ray, carpal
    tunnel release (the wrist) no prior course for lumbar acupuncture; it stays one for the
    lumbar x-ray."""
    def codes(request_id: str) -> set[str]:
        return {c for s in seed.item(request_id).sets for ch in s.changes for c in _codes(ch.value)}

    assert "cauda_equina_syndrome" not in codes("2")
    assert "carpal_tunnel_release" not in codes("1")
    assert "cauda_equina_syndrome" in codes("3")
    lumbar = _regions_of("cauda_equina_syndrome")
    assert lumbar is not None and {"lumbar_spine", "L4-L5", "whole_body"} <= lumbar and "cervical_spine" not in lumbar
    assert _regions_of("progressive_neurologic_deficit") is None  # region-neutral: any region


def test_a_change_that_sets_a_request_field_to_a_code_fits_the_determination_schema() -> None:
    import jsonschema

    from reasoner import schemas
    from reasoner.counterfactuals import Change, ChangeSet, ItemCounterfactuals

    path = casefiles.CASES / "chronic-pain" / "epidural-steroid-injections" / "all-criteria-met-is-overturned.yaml"
    det = engines.evaluate(path).to_dict()
    change = Change("set", "requests[0].guidance", json.dumps("fluoroscopy"), "edit-request-code",
                    "guidance fluoroscopy")
    numbers = Change("set", "requests[0].quantity", json.dumps(2.5), "edit-request-bound", "quantity 2.5")
    found = ItemCounterfactuals("1", UPHELD, "would_overturn", (ChangeSet((change, numbers), ("c",), OVERTURNED, "t"),),
                                None, (), "t", 2, 0.5, dict(counterfactuals.DEFAULT_BOUNDS))
    det["items"][0]["counterfactuals"] = found.as_json()
    assert found.as_json()["counterfactuals"][0]["changes"][0]["value"] == "fluoroscopy"
    validator = jsonschema.Draft202012Validator(schemas.load("determination"), format_checker=jsonschema.FormatChecker())
    validator.validate(det)


def test_an_overturned_item_reports_what_it_rests_on() -> None:
    path = casefiles.CASES / "chronic-pain" / "epidural-steroid-injections" / "all-criteria-met-is-overturned.yaml"
    (item,) = counterfactuals.find(path).items
    assert item.decision == OVERTURNED and item.kind == "rests_on" and item.sets
    assert all(c.action == "remove" for s in item.sets for c in s.changes)
    _check(path, counterfactuals.find(path))


def test_a_documented_exclusion_is_reported_as_no_documentable_change() -> None:
    # radiculopathy documented: trigger point injections are excluded (CPMTG 2009 p.122); no
    # change of the record's additions can lift it, and the search says which criterion blocks
    path = casefiles.CASES / "chronic-pain" / "trigger-point-injections" / "radiculopathy-too-many-injections-saline-is-upheld.yaml"
    (item,) = counterfactuals.find(path).items
    assert item.decision == UPHELD and not item.sets
    assert item.reason == "blocked" and "cpmtg-2009-tpi-4" in item.blocked


def test_an_item_no_guideline_addresses_has_none() -> None:
    path = next(p for p in ALL if "not_addressed" in p.read_text(encoding="utf-8"))
    found = counterfactuals.find(path)
    assert any(i.reason == "not_addressed" and not i.sets for i in found.items)


def test_the_changes_are_case_format_data_and_the_outputs_show_them(seed: CaseCounterfactuals) -> None:
    item = seed.item("4")
    change = item.sets[0].changes[0]
    assert change.action in ("add", "set", "revise") and isinstance(change.value, (dict, int, float, str))
    data = seed.as_json()
    json.dumps(data)  # plain data
    assert data["items"][3]["counterfactuals"][0]["verified"] is True
    det = seed.determination
    assert det is not None and det.counterfactuals is not None and det.counterfactuals.items == seed.items
    assert det.source == str(SEED)
    item_json = det.to_dict()["items"][3]
    assert item_json["counterfactuals"]["kind"] == "would_overturn"
    texts = det.texts
    assert texts is not None
    letter = letters.render([det], texts)
    assert texts("counterfactual-heading") in letter
    graph = Graph().parse(data=exports.to_turtle([det]), format="turtle")
    assert len(list(graph.subjects(predicate=MTUS.counterfactual))) == sum(
        len(i.sets) for i in seed.items)


def test_mtus_explain_counterfactual_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["explain", "--counterfactual", str(SEED), "--request", "3", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (item,) = data["items"]
    assert item["request"] == "3" and item["counterfactuals"] and item["search"]["max_evaluations"] == 80


def test_a_case_that_is_not_case_format_data_is_an_intake_error(tmp_path: Path) -> None:
    path = tmp_path / "case.ttl"
    path.write_text("", encoding="utf-8")
    with pytest.raises(reasoner.IntakeError):
        counterfactuals.find(path)


# -- supported quantity ------------------------------------------------------------------------
# Expected values are the guideline's numbers (the thresholds of kb/ state them with sources).

@pytest.mark.parametrize("case, value, unit", [
    # CPMTG 2009 Physical medicine p.99: myalgia and myositis, 9-10 visits over 8 weeks
    ("chronic-pain/physical-medicine/more-visits-without-improvement-or-home-program-is-upheld", 10, "sessions"),
    # CPMTG 2009 Physical medicine p.99: neuralgia, neuritis, radiculitis, 8-10 visits over 4 weeks
    ("chronic-pain/physical-medicine/radiculitis-four-weeks-overturned-five-weeks-upheld", 10, "sessions"),
    # CPMTG 2009 Physical medicine p.99: CRPS, 24 visits over 16 weeks
    ("chronic-pain/physical-medicine/crps-twenty-visits-overturned-thirty-upheld", 24, "sessions"),
    # CPMTG 2009 Opioids p.86: a cumulative dose above 120 mg oral morphine equivalents a day
    ("chronic-pain/opioids/cumulative-dose-above-120-mg-morphine-equivalents-is-upheld", 120,
     "mg_morphine_equivalent_per_day"),
    # CPMTG 2009 Tramadol: not more than 400 mg a day
    ("chronic-pain/tramadol/first-line-tramadol-above-400-mg-a-day-is-upheld", 400, "mg_per_day"),
    # CPMTG 2009 Trigger point injections p.122: not more than 3-4 injections per session
    ("chronic-pain/trigger-point-injections/radiculopathy-too-many-injections-saline-is-upheld", 4, "injections"),
    # 8 CCR 9792.24.1: time to produce functional improvement, 3-6 treatments
    ("acupuncture/too-many-too-often-too-long-is-upheld", 6, "sessions"),
    # CPMTG 2009 ESIs p.46: no more than two nerve root levels with transforaminal blocks
    ("chronic-pain/epidural-steroid-injections/three-transforaminal-levels-under-ct-is-upheld", 2, "levels"),
    # CPMTG 2009 Benzodiazepines p.24: use limited to 4 weeks
    ("chronic-pain/benzodiazepines/clonazepam-for-a-year-is-upheld", 4, "weeks"),
])
def test_a_request_over_a_limit_carries_the_supported_quantity(case: str, value: int, unit: str) -> None:
    det = engines.evaluate(casefiles.CASES / f"{case}.yaml")
    quantity = next(i.supported_quantity for i in det.items if i.supported_quantity is not None)
    assert quantity.value == value and quantity.unit == unit and quantity.requested > value
    data = next(i for i in det.to_dict()["items"] if "supported_quantity" in i)["supported_quantity"]
    assert data["value"] == value and data["criterion"] and data["threshold"]
    texts = det.texts
    assert texts is not None and quantity.text in letters.render([det], texts, md=True)  # md: not wrapped


def test_the_supported_quantity_in_turtle() -> None:
    # CPMTG 2009 Trigger point injections p.122: not more than 3-4 injections per session
    path = casefiles.CASES / "chronic-pain" / "trigger-point-injections" / "radiculopathy-too-many-injections-saline-is-upheld.yaml"
    graph = Graph().parse(data=exports.to_turtle([engines.evaluate(path)]), format="turtle")
    (node,) = graph.objects(predicate=MTUS.supportedQuantity)
    assert graph.value(node, MTUS.supportedValue).toPython() == 4
    assert str(graph.value(node, MTUS.setByThreshold)).endswith("cpmtg-2009-tpi-max-injections-per-session")


def test_a_request_within_its_limits_carries_none() -> None:
    det = engines.evaluate(SEED)  # six acupuncture sessions: within 3-6 treatments
    assert all(i.supported_quantity is None for i in det.items)
    assert all("supported_quantity" not in i for i in det.to_dict()["items"])


def test_a_limit_on_the_record_rather_than_the_request_sets_no_quantity() -> None:
    # a lumbar support beyond the acute phase: the limit is on the symptoms' duration
    det = engines.evaluate(casefiles.CASES / "acoem-low-back" / "back-brace" / "chronic-low-back-pain-is-upheld.yaml")
    assert all(i.supported_quantity is None for i in det.items)
