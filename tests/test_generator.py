"""``mtus generate``: seeded and reproducible, valid (intake accepts every case), every encoded
service present, and both outcomes for every service that has a profile."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from reasoner import batch, cli, engines, generator, intake, rulebase
from reasoner.namespaces import local_name


@pytest.fixture(scope="module")
def gen() -> generator.Generator:
    return generator.Generator(rulebase.get())


def test_same_seed_same_cases_and_a_larger_count_extends_a_smaller_one(gen: generator.Generator) -> None:
    cases = gen.cases(8, seed=5)
    assert generator.Generator(rulebase.get()).cases(8, seed=5) == cases
    assert gen.cases(3, seed=5) == cases[:3]
    assert gen.cases(8, seed=6) != cases
    assert len({c["id"] for c in cases}) == 8


def test_every_encoded_service_appears_and_every_case_is_valid(gen: generator.Generator) -> None:
    rb = gen.rb
    per_section = max(len(s.services) for s in gen.sections)
    cases = gen.cases(len(gen.sections) * per_section, seed=3)
    encoded = {local_name(s) for section in gen.sections for s in section.services}
    assert {r["service"] for c in cases for r in c["requests"]} >= encoded
    for case in cases:
        intake.read(case, rb)  # raises IntakeError, naming the field, for an invalid case


def _load(root: Path) -> None:
    rulebase.get(root)


def _decision(case: dict[str, object]) -> str:
    """The decision on the first request of a case (run in a worker process), on the fast path
    (which test_fastpath ties to the reference path)."""
    return engines.evaluate(case, rulebase.get()).items[0].decision


def test_both_outcomes_for_every_profiled_service(gen: generator.Generator) -> None:
    """Rounds of one case per service still missing an outcome, evaluated two at a time."""
    services = {service: [s for s in gen.sections if any(local_name(x) == service for x in s.services)]
                for service in sorted(gen.profiles.services)}
    services = {service: sections for service, sections in services.items() if sections}
    seen: dict[str, set[str]] = defaultdict(set)
    with batch.worker_pool(gen.rb, 2, _load) as pool:
        for index in range(16):
            missing = [s for s in services if not {"upheld", "overturned"} <= seen[s]]
            if not missing:
                break
            cases = [gen.case_for(services[s][index % len(services[s])], s, seed=7, index=index) for s in missing]
            for service, decision in zip(missing, pool.map(_decision, cases), strict=True):
                seen[service].add(decision)
    missing_outcomes = {s: sorted(seen[s]) for s in services if not {"upheld", "overturned"} <= seen[s]}
    assert not missing_outcomes, f"services without both outcomes in 16 cases: {missing_outcomes}"


def test_cli_writes_folders_and_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cases.jsonl"
    assert cli.main(["generate", "--count", "5", "--seed", "2", "--out", str(out)]) == 0
    assert "5 case(s) (seed 2) written" in capsys.readouterr().out
    first = out.read_bytes()
    assert len(first.splitlines()) == 5
    assert cli.main(["generate", "--count", "5", "--seed", "2", "--out", str(out)]) == 0
    assert out.read_bytes() == first
    assert cli.main(["generate", "--count", "3", "--out", str(tmp_path / "folder")]) == 0
    assert sorted(p.name for p in (tmp_path / "folder").iterdir()) == [
        "gen-1-000000.yaml", "gen-1-000001.yaml", "gen-1-000002.yaml"]
    assert cli.main(["generate", "--count", "3", "--out", str(tmp_path / "cases.yaml")]) == 2
    with pytest.raises(SystemExit):
        cli.main(["generate", "--count", "0", "--out", str(out)])
