"""Issue 16's probes as tests: a sample of the mutation corpus (all of it: ``make fuzz``), and
hypothesis properties over the case format: no crash, evaluate and batch agreeing, a mapping
read as its file is."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner import batch, engines, rulebase
from reasoner.determination import Determination
from reasoner.errors import IntakeError

from . import fuzz, fuzzcorpus
from .helpers import seed


def test_a_sample_of_the_corpus_gives_no_crash_hang_echo_leak_or_disagreement() -> None:
    report = fuzz.run(count=1050, seed=16, timeout=20, reference_every=9, sample=63)
    assert report.total == 63 and len(report.by_category) == len(fuzzcorpus.CATEGORIES)
    assert report.bad() == 0, report.text()
    assert report.connections == 0


def test_the_corpus_is_seeded_and_covers_every_category() -> None:
    first, again = fuzzcorpus.generate(5, 42), fuzzcorpus.generate(5, 42)
    assert [m.data for m in first] == [m.data for m in again]
    assert {m.category for m in first} == set(fuzzcorpus.CATEGORIES)


# --- hypothesis --------------------------------------------------------------------------------

TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12) | st.sampled_from(
    ["lumbar spine", "acupuncture", "2014-01-01", "2014-13-45", "\ud800", "\u00b2", "@id", "", " ", "1"])
KEYS = st.sampled_from(["id", "service", "region", "quantity", "date", "code", "@context", "@value", "@language",
                        "@type", "@graph", "@import", "note", "ur", "x", "2014"]) | st.text(max_size=6)
SCALARS = (st.none() | st.booleans() | st.integers(-10**30, 10**30)
           | st.floats(allow_nan=True, allow_infinity=True) | TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                      max_leaves=8)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*path, i))
    return out


@st.composite
def mutated_cases(draw: st.DrawFn) -> dict[str, Any]:
    """The seed case with one to three places replaced, deleted or given an extra field."""
    data = seed()
    data["requests"] = data["requests"][:2]
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent: Any = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(KEYS)] = draw(VALUES)
    return data


def _outcome(result: Any) -> tuple[str, Any]:
    if isinstance(result, Determination):
        return "ok", [(i.request_id, str(i.decision)) for i in result.items]
    assert isinstance(result, IntakeError), repr(result)
    return "refused", [str(p) for p in result.problems]


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_cases())
def test_any_mutated_case_is_decided_or_refused_alike_by_evaluate_batch_and_the_api(data: dict[str, Any]) -> None:
    rb = rulebase.get()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        try:
            from_file = _outcome(engines.evaluate(path, rb))
        except IntakeError as exc:
            from_file = _outcome(exc)
        try:
            from_mapping = _outcome(engines.evaluate(data, rb))
        except IntakeError as exc:
            from_mapping = _outcome(exc)
        ((_, record, error),) = batch._work_fast([batch.CaseRef(str(path))], rb)
    assert from_file == from_mapping
    if from_file[0] == "ok":
        assert record is not None
        assert [(rid, decision) for rid, _, decision in record.decisions] == from_file[1]
    else:
        assert record is None and error is not None
        assert all(problem in error for problem in from_file[1]), (error, from_file)
        assert "internal error" not in error


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10**40, 10**40))
def test_any_number_in_a_bounded_field_is_decided_or_refused_by_its_bound(value: float) -> None:
    data = seed()
    data["requests"] = data["requests"][:1]
    data["requests"][0]["quantity"] = value
    try:
        engines.evaluate(data)
    except IntakeError as exc:
        (problem,) = exc.problems
        assert problem.path == "requests[0].quantity" and "at most 10000" in problem.message
        assert str(value) not in str(exc) or str(value) in "10000"
        return
    assert isinstance(value, (int, float)) and math.isfinite(value) and 0 < value <= 10000


# --- kill -9 of mtus batch, fast engine, valid and refused cases mixed ----------------------------


def test_a_killed_fast_batch_resumes_with_nothing_lost_or_duplicated(tmp_path: Path) -> None:
    """SIGKILL as soon as the first round is stored (32 valid cases: rounds of 8), then the same
    command again: every valid case stored once, every refused case reported, on the fast
    engine's rounds."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import time

    from reasoner import generator
    from reasoner.store import EmbeddedStore, records

    rb = rulebase.get()
    folder = tmp_path / "cases"
    cases = generator.Generator(rb).cases(32, seed=23)
    generator.write(cases, folder)
    refused = [m for m in fuzzcorpus.generate(3, 42) if m.expect == "reject"][:8]
    fuzzcorpus.write(refused, folder)
    store = tmp_path / "store"
    command = [sys.executable, "-m", "reasoner.cli", "batch", str(folder), "--store", str(store), "--jobs", "1"]
    env = {**os.environ, "COLUMNS": "100"}
    progress = tmp_path / "progress.txt"
    with progress.open("wb") as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
        deadline = time.monotonic() + 240
        while process.poll() is None and time.monotonic() < deadline:
            counts = re.findall(r"(\d+)/\d+ \[", progress.read_text("utf-8", "replace"))
            if counts and int(counts[-1]) > 0:
                break
            time.sleep(0.02)
        killed = process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait()
    partial = EmbeddedStore(store)
    first = records.determination_count(partial)
    partial.close()
    assert killed and first < 32, f"the batch ended before the kill ({first} stored)"

    rerun = subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=300)
    assert rerun.returncode == 2, rerun.stdout[-2000:] + rerun.stderr[-2000:]
    assert f"{32 - first} evaluated and stored, {first} skipped (already stored), {len(refused)} failed" in rerun.stdout
    assert "internal error" not in rerun.stdout and fuzzcorpus.MARKER not in rerun.stdout
    final = EmbeddedStore(store)
    try:
        assert records.determination_count(final) == 32 == len(records.stored_keys(final))
        assert len({c.case_iri for c in records.stored_cases(final)}) == 32
    finally:
        final.close()


def test_a_nan_is_refused_alike_from_a_json_file_and_from_a_mapping(tmp_path: Path) -> None:
    """Found by the property above: a JSON file's NaN was refused while parsing ('(file)'), the
    same data as a mapping by the schema (the missing id). Both now give the same problems."""
    data = seed()
    del data["id"]
    data["requests"][0]["quantity"] = float("nan")
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    refusals = []
    for case in (path, data):
        with pytest.raises(IntakeError) as caught:
            engines.evaluate(case, rulebase.get())
        refusals.append([str(p) for p in caught.value.problems])
    assert refusals[0] == refusals[1]
    assert refusals[0][0].startswith("id: expected the case id")
