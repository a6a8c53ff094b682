"""``mtus batch``: progress and summary, a bad case reported while the batch goes on, idempotent
re-runs, and resumption after an interruption (a test hook) and after a kill (SIGKILL)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reasoner import batch, batch_inputs, batch_records, cli, generator, querylib, rulebase
from reasoner.store import EmbeddedStore, records

MTUS = [sys.executable, "-m", "reasoner.cli"]


@pytest.fixture(scope="module")
def rb() -> rulebase.RuleBase:
    return rulebase.get()


@pytest.fixture(scope="module")
def inputs(rb: rulebase.RuleBase, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Ten generated cases as files, three more as JSON Lines, and one broken file (14 inputs)."""
    folder = tmp_path_factory.mktemp("cases")
    cases = generator.Generator(rb).cases(13, seed=11)
    generator.write(cases[:10], folder / "files")
    generator.write(cases[10:], folder / "more.jsonl")
    (folder / "files" / "broken.yaml").write_text("id: broken\nreview_date: 2014-13-45\nrequests: []\n",
                                                  encoding="utf-8")
    return [folder / "files", folder / "more.jsonl"]


def test_expand_reads_folders_and_json_lines(inputs: list[Path]) -> None:
    refs = batch.expand(inputs)
    assert len(refs) == 14
    assert [r.line for r in refs[-3:]] == [1, 2, 3] and refs[-1].source.endswith("more.jsonl:3")
    with pytest.raises(batch.InputError, match="no such file or folder"):
        batch.expand([inputs[0] / "nothing-here"])


def test_interrupted_batch_resumes_without_duplicates_or_losses(rb: rulebase.RuleBase, inputs: list[Path],
                                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def stop_after_four(stored: int) -> None:
        if stored >= 4:
            raise KeyboardInterrupt  # as if Ctrl-C arrived right after a transaction took the count to 4+

    monkeypatch.setattr(batch, "ROUND", 2)  # at most 2 cases per transaction (rounds of 3 here)
    store = EmbeddedStore(tmp_path / "store")
    first = batch.run(inputs, store, rb, progress=False, after_store=stop_after_four)
    assert first.interrupted and 4 <= first.stored <= 5
    assert records.determination_count(store) == first.stored, "whole transactions only"

    second = batch.run(inputs, store, rb, progress=False)
    assert not second.interrupted
    assert (second.stored, second.skipped, len(second.failures)) == (13 - first.stored, first.stored, 1)
    assert second.failures[0][0].endswith("broken.yaml")
    assert "review_date" in second.failures[0][1], "the error names the field"
    assert records.determination_count(store) == 13

    third = batch.run(inputs, store, rb, progress=False)
    assert (third.stored, third.skipped) == (0, 13), "a re-run skips every stored case"
    assert records.determination_count(store) == 13

    # the store aggregates what the summaries counted
    rows = querylib.run(store, querylib.resolve("determinations-by-rule-base-version-and-edition")).dicts()
    assert sum(r["determinations"] for r in rows) == 13
    decided = first.decisions + second.decisions
    assert sum(r["items"] for r in rows) == sum(decided.values())
    assert sum(r["overturned"] for r in rows) == decided["overturned"]
    store.close()


def test_cli_prints_a_summary_and_reports_the_bad_case(inputs: list[Path], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    code = cli.main(["batch", str(inputs[1]), str(inputs[0] / "broken.yaml"), "--store", str(store)])
    out, err = capsys.readouterr()
    assert code == 2, "a case that could not be read makes the exit code 2, after the others are stored"
    assert "4 case(s): 3 evaluated and stored, 0 skipped (already stored), 1 failed" in out
    assert "item decisions of the cases evaluated:" in out and "(3 determination(s))" in out
    assert "broken.yaml" in out and "review_date" in out
    assert "3/4" in err or "4/4" in err, "the progress bar shows the count"
    assert "case/s" in err or "s/case" in err, "and the rate"
    assert cli.main(["batch", str(inputs[1]), "--store", str(store), "--quiet"]) == 0
    assert "0 evaluated and stored, 3 skipped" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["batch", str(inputs[1]), "--jobs", "zero"])
    assert exit_info.value.code == 2 and "--jobs" in capsys.readouterr().err


def _progress(text: str) -> int:
    counts = re.findall(r"(\d+)/\d+ \[", text)
    return int(counts[-1]) if counts else 0


def test_killed_batch_rerun_ends_with_every_case_once(inputs: list[Path], tmp_path: Path) -> None:
    """A real kill (SIGKILL, no clean-up) in the middle of a parallel batch, then a re-run. On the
    reference engine, slow enough to be caught mid-way (the fast one stores ten cases at once;
    storing and resuming do not depend on the engine)."""
    store = tmp_path / "store"
    command = MTUS + ["batch", str(inputs[0]), "--store", str(store), "--jobs", "2", "--engine", "reference"]
    env = {**os.environ, "COLUMNS": "100"}
    progress = tmp_path / "progress.txt"
    with progress.open("wb") as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
        deadline = time.monotonic() + 240
        while _progress(progress.read_text("utf-8", "replace")) < 4 and process.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, f"the batch ended before it could be killed: {progress.read_text()[-500:]}"
        process.send_signal(signal.SIGKILL)
        process.wait()
    partial = EmbeddedStore(store)
    stored = records.determination_count(partial)
    partial.close()
    assert 3 <= stored < 10

    rerun = subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=300)
    assert rerun.returncode == 2, rerun.stderr[-2000:]  # broken.yaml
    assert f"11 case(s): {10 - stored} evaluated and stored, {stored} skipped" in rerun.stdout
    assert "(10 determination(s))" in rerun.stdout
    final = EmbeddedStore(store)
    keys = records.stored_keys(final)
    assert records.determination_count(final) == 10 == len(keys)
    cases = records.stored_cases(final)
    assert len({c.case_iri for c in cases}) == 10
    final.close()


def test_json_lines_errors_name_the_line(rb: rulebase.RuleBase, tmp_path: Path) -> None:
    lines = tmp_path / "cases.jsonl"
    lines.write_text('{"id": "x"\n[1, 2]\n', encoding="utf-8")
    summary = batch.run([lines], EmbeddedStore(None), rb, progress=False)
    assert [source for source, _ in summary.failures] == [f"{lines}:1", f"{lines}:2"]
    assert "not valid JSON" in summary.failures[0][1] and "one case per line" in summary.failures[1][1]
    assert json.loads(json.dumps(summary.decisions)) == {}


def _normalised(ntriples: str) -> set[tuple[object, object, object]]:
    """The triples of a record, numbers by value (the engines write a derived decimal with 18 or
    28 places) and without the clock (when each determination was generated)."""
    from rdflib import Graph
    from rdflib.namespace import PROV

    from reasoner.fastpath.compare import term

    graph = Graph().parse(data=ntriples, format="nt")
    return {(s, p, term(o)) for s, p, o in graph if p not in (PROV.generatedAtTime, PROV.endedAtTime)}


def test_both_engines_store_the_same_records(rb: rulebase.RuleBase, inputs: list[Path], tmp_path: Path) -> None:
    """What ``mtus batch`` stores does not depend on the engine: case graph, determination graph
    (with its provenance and the analyst facts), decisions, keys; a case the fast path does not
    decide itself (the broken file) fails with the reference path's message."""
    medications = generator.Generator(rb).cases(40, seed=5)
    generator.write([c for c in medications if any(r.get("drug") for r in c["requests"])][:12],
                    tmp_path / "medications.jsonl")
    refs = batch.expand([*inputs, tmp_path / "medications.jsonl"])
    fast = {ref: (record, error) for ref, record, error in batch._evaluated(refs, rb, 1, "fast")}
    reference = {ref: (record, error) for ref, record, error in batch._evaluated(refs, rb, 1, "reference")}
    assert fast.keys() == reference.keys() == set(refs)
    drugs = 0
    for ref in refs:
        (got, got_error), (want, want_error) = fast[ref], reference[ref]
        assert got_error == want_error, ref
        if want is None:
            assert got is None
            continue
        assert got is not None
        assert (got.source, got.case_id, got.case_iri, got.determination_iri, got.input_hash, got.rulebase_digest,
                got.decisions) == (want.source, want.case_id, want.case_iri, want.determination_iri,
                                   want.input_hash, want.rulebase_digest, want.decisions), ref
        assert _normalised(got.case_ntriples) == _normalised(want.case_ntriples), ref
        assert _normalised(got.determination_ntriples) == _normalised(want.determination_ntriples), ref
        drugs += "morphineEquivalentDailyDose" in want.determination_ntriples
    assert sum(1 for record, _ in reference.values() if record is None) == 1  # the broken file
    assert drugs, "no case with a derived morphine-equivalent dose: the analyst facts went untested"


def test_the_fast_engine_runs_in_rounds_through_the_pool(inputs: list[Path], tmp_path: Path) -> None:
    store = tmp_path / "store"
    done = subprocess.run(MTUS + ["batch", *map(str, inputs), "--store", str(store), "--jobs", "2", "--quiet"],
                          check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr  # the broken file
    assert "13 evaluated and stored" in done.stdout and "1 failed" in done.stdout


def _dump(store: EmbeddedStore) -> list[str]:
    """The store's quads but the store generation and the tally's stamp of it (store/tally.py:
    counts of writes, not of records)."""
    return sorted(re.sub(r"_:\w+", "_:b", line) for line in store.dump_nquads().decode().splitlines()
                  if "<https://w3id.org/mtus/ontology#storeGeneration>" not in line)


def test_rounds_store_the_same_quads_as_the_per_case_rdflib_writer(rb: rulebase.RuleBase, inputs: list[Path],
                                                                    tmp_path: Path) -> None:
    """Records built from the engine's triples (no rdflib graph) and stored a round per
    transaction give exactly the quads of the reference writer: ``exports.to_graph`` serialised
    by rdflib and one SPARQL update per case; storing the round again replaces it whole."""
    from rdflib import Graph

    from reasoner import api, exports, intake
    from reasoner.fastpath.engine import Engine

    medications = generator.Generator(rb).cases(40, seed=5)
    generator.write([c for c in medications if any(r.get("drug") for r in c["requests"])][:8],
                    tmp_path / "medications.jsonl")
    refs = [r for r in batch.expand([*inputs, tmp_path / "medications.jsonl"]) if "broken" not in r.path]
    new, old = [], []
    for ref in refs:  # the reference path: its record built both ways from one evaluation
        case = batch_inputs.case_of(ref)
        case_input = intake.read(case, rb)
        det = api.evaluate(case, rb)
        new.append(batch.record_of(det, case_input, rb, ref.source))
        derived = batch_records.derived_facts(case_input, rb)
        old.append(records.CaseRecord(ref.source, det.case_id, str(det.case_iri), str(exports.determination_iri(det)),
                                      det.input_hash, det.rulebase_digest, case_input.graph.serialize(format="nt"),
                                      exports.to_graph(det, derived).serialize(format="nt"), new[-1].decisions))
    engine = Engine(rb)  # the fast path: records from what the engine kept
    results, kept = engine.evaluate_keeping([batch_inputs.case_of(r) for r in refs], batch.analyst_properties(rb))
    for index, det in enumerate(results):
        assert index in kept, refs[index]
        got = kept[index]
        derived = Graph()
        for triple in got.facts:
            derived.add(triple)
        new.append(batch_records.kept_record(det, got, "fast"))
        old.append(records.CaseRecord("fast", det.case_id, str(det.case_iri), str(exports.determination_iri(det)),
                                      det.input_hash, det.rulebase_digest, new[-1].case_ntriples,
                                      exports.to_graph(det, derived if len(derived) else None).serialize(format="nt"),
                                      new[-1].decisions))
    assert sum("morphineEquivalentDailyDose" in r.determination_ntriples for r in old) >= 2
    half = len(refs)
    for part in (slice(0, half), slice(half, None)):  # a store per engine (case IRIs repeat across them)
        records_of = new[part]
        reference = EmbeddedStore(None)
        rounds = EmbeddedStore(None)
        for record in old[part]:
            reference.update(records.PROLOGUE + records._replace(record))
        records.put_cases(rounds, records_of[:5])
        records.put_cases(rounds, records_of[5:])
        assert _dump(rounds) == _dump(reference)
        records.put_cases(rounds, records_of)  # again: every case replaced, nothing doubled
        assert _dump(rounds) == _dump(reference)


_KILLED_BETWEEN_LOAD_AND_COMMIT = """
import os, signal, sys
from pathlib import Path
from reasoner import batch, rulebase
from reasoner.store import EmbeddedStore, records
loaded = []
def die():
    loaded.append(1)
    if len(loaded) == 2:  # the second round is loaded in bulk, not committed
        os.kill(os.getpid(), signal.SIGKILL)
records.between_load_and_commit = die
batch.ROUND, records.BULK_MIN = 4, 1
batch.run([Path(p) for p in sys.argv[2:]], EmbeddedStore(Path(sys.argv[1])), rulebase.get(), progress=False)
"""


def _comparable(store: EmbeddedStore) -> list[str]:
    """The store's quads without the clock (when each determination was generated)."""
    return [line for line in _dump(store) if "AtTime>" not in line]


def test_a_round_killed_between_its_bulk_load_and_its_commit_is_stored_once(
        rb: rulebase.RuleBase, inputs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded store's write: a round's graphs through the bulk loader, then a transaction
    of completion markers. A kill (SIGKILL) between the two leaves the round's graphs without
    their markers; the next run removes them, evaluates those cases again and ends with the
    quads of an uninterrupted run, every case once."""
    killed = subprocess.run([sys.executable, "-c", _KILLED_BETWEEN_LOAD_AND_COMMIT, str(tmp_path / "killed"),
                             *map(str, inputs)], check=False, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    partial = EmbeddedStore(tmp_path / "killed")
    graphs = partial.select(records.PROLOGUE + "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { GRAPH ?d { "
                            "?d a mtus:Determination } }").rows[0][0]
    assert (records.determination_count(partial), int(str(graphs))) == (4, 8), \
        "one round committed, the second loaded without its markers"
    assert len(records.stored_keys(partial)) == 4
    before = len(_dump(partial))
    assert records.recover(partial) == 4, "the uncommitted round's determinations"
    assert len(_dump(partial)) < before and records.recover(partial) == 0
    assert int(str(partial.select(records.PROLOGUE + "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { GRAPH ?d { "
                                  "?d a mtus:Determination } }").rows[0][0])) == 4

    monkeypatch.setattr(batch, "ROUND", 4)
    monkeypatch.setattr(records, "BULK_MIN", 1)
    resumed = batch.run(inputs, partial, rb, progress=False)
    assert (resumed.stored, resumed.skipped, len(resumed.failures)) == (9, 4, 1)
    whole = EmbeddedStore(None)
    assert batch.run(inputs, whole, rb, progress=False).stored == 13
    assert records.determination_count(partial) == 13 == len(records.stored_keys(partial))
    assert _comparable(partial) == _comparable(whole)
    assert not partial.select(records.PROLOGUE + f"ASK {{ GRAPH <{records.LEDGER}> {{ ?d mtus:pendingCase ?c }} }}").boolean
    partial.close()
