"""``mtus impact``: after lowering one threshold in a copy of the rule base, exactly the stored
determinations that depend on it flip, each with the criterion responsible."""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from reasoner import batch, cli, impact, rulebase
from reasoner.intake import _CaseLoader
from reasoner.store import EmbeddedStore, records

CASES = Path(__file__).parent / "data" / "analyst-cases"
TPI = "kb/sections/chronic-pain/trigger-point-injections.ttl"
LIMIT = "kb:cpmtg-2009-tpi-max-injections-per-session a mtus:Threshold ;"


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with trigger point injections of 1 to 4 injections that meet every criterion
    (overturned), the one with six injections of saline (upheld) and an unrelated ESI case."""
    rb = rulebase.get()
    folder = tmp_path_factory.mktemp("impact-cases")
    met = yaml.load((CASES / "a01-tpi-met.yaml").read_text(encoding="utf-8"), Loader=_CaseLoader)
    for quantity in (1, 2, 3, 4):
        case = copy.deepcopy(met)
        case["id"] = f"tpi-{quantity}-injections"
        case["requests"][0]["quantity"] = quantity
        (folder / f"tpi-{quantity}.yaml").write_text(yaml.safe_dump(case), encoding="utf-8")
    for name in ("a02-tpi-radiculopathy.yaml", "a07-esi-met.yaml"):
        shutil.copy(CASES / name, folder / name)
    path = tmp_path_factory.mktemp("impact-store") / "store"
    store = EmbeddedStore(path)
    summary = batch.run([folder], store, rb, progress=False)
    assert (summary.stored, summary.decisions["overturned"], summary.decisions["upheld"]) == (6, 5, 1)
    store.close()
    return path


@pytest.fixture(scope="module")
def lowered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the rule base with at most 2 trigger point injections per session (was 4)."""
    root = tmp_path_factory.mktemp("rules")
    for top in ("ontology", "kb", "shapes"):
        shutil.copytree(rulebase.default_root() / top, root / top)
    text = (root / TPI).read_text(encoding="utf-8")
    start = text.index(LIMIT)
    end = text.index(" .\n", start)
    block = text[start:end]
    assert "mtus:value 4 ;" in block
    (root / TPI).write_text(text[:start] + block.replace("mtus:value 4 ;", "mtus:value 2 ;") + text[end:],
                            encoding="utf-8")
    return root


def test_lowering_a_threshold_flips_exactly_the_cases_above_it(stored: Path, lowered: Path) -> None:
    store = EmbeddedStore(stored)
    result = impact.run(store, rulebase.get(lowered))
    store.close()
    assert result.cases == 6 and result.failures == []
    assert [(f.case_id, f.request_id, f.before, f.after, f.responsible) for f in result.flips] == [
        ("tpi-3-injections", "1", "overturned", "upheld", (("cpmtg-2009-tpi-5", "met", "not_met"),)),
        ("tpi-4-injections", "1", "overturned", "upheld", (("cpmtg-2009-tpi-5", "met", "not_met"),)),
    ]


def test_the_same_rule_base_flips_nothing(stored: Path) -> None:
    store = EmbeddedStore(stored)
    result = impact.run(store, rulebase.get())
    assert (result.cases, result.flips, result.failures) == (6, [], [])
    later = impact.run(store, rulebase.get(), as_of=dt.date(2015, 6, 1))
    store.close()
    assert not [f for f in later.flips if f.case_id == "a07-esi-met"], "the ESI section is still in force"


def test_cli_lists_the_flips(stored: Path, lowered: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["impact", "--store", str(stored), "--rules", str(lowered)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["case", "request", "service", "before", "after", "responsible"]
    assert [line.split()[:5] for line in lines[1:3]] == [
        ["tpi-3-injections", "1", "trigger_point_injection", "overturned", "upheld"],
        ["tpi-4-injections", "1", "trigger_point_injection", "overturned", "upheld"]]
    assert lines[1].endswith("cpmtg-2009-tpi-5: met -> not_met")
    assert lines[3].startswith("mtus impact: 6 stored case(s) re-evaluated against rule base")
    assert lines[3].endswith("2 item decision(s) would flip (2 overturned -> upheld)")
    assert cli.main(["impact", "--store", str(stored), "--rules", str(lowered.parent)]) == 2
    assert "expected a rule-base folder" in capsys.readouterr().err
    records_left = EmbeddedStore(stored)
    assert records.determination_count(records_left) == 6, "impact does not change the store"
    records_left.close()
