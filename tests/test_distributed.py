"""``mtus batch --executor dask``: a local Dask cluster of 2 worker processes on 127.0.0.1 stores
the same quads as the local run (embedded store and a real Oxigraph server), a worker SIGKILLed
mid-batch has its rounds redone elsewhere (none lost, none duplicated), and a bad case is
reported as in the local run. One cluster for the module, stopped at its end."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rdflib import BNode

from reasoner import batch, cli, distributed, generator, rulebase
from reasoner.store import EmbeddedStore, EndpointStore, open_store, records
from reasoner.store.records import Backend
from reasoner.store.server import local_server

dask = pytest.importorskip("distributed", reason="the `distributed` extra (installed by make test)")

#: when each determination was generated: the clock, not the case (differs between any two runs)
CLOCK = ("http://www.w3.org/ns/prov#generatedAtTime", "http://www.w3.org/ns/prov#endedAtTime",
         "http://www.w3.org/ns/prov#startedAtTime")


GENERATION = "https://w3id.org/mtus/ontology#storeGeneration"


@pytest.fixture(scope="module")
def rb() -> rulebase.RuleBase:
    return rulebase.get()


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with distributed.connect(distributed.LOCAL, workers=2) as found:
        yield found


@pytest.fixture(scope="module")
def inputs(rb: rulebase.RuleBase, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Twelve generated cases requesting drugs as files, twelve others as JSON Lines, one broken
    file."""
    folder = tmp_path_factory.mktemp("cases")
    cases = generator.Generator(rb).cases(60, seed=7)
    drugs = [c for c in cases if any(r.get("drug") for r in c["requests"])][:12]  # an opioid's dose among them
    generator.write(drugs, folder / "files")
    generator.write([c for c in cases if c not in drugs][:12], folder / "more.jsonl")
    (folder / "files" / "broken.yaml").write_text("id: broken\nreview_date: 2014-13-45\nrequests: []\n",
                                                  encoding="utf-8")
    return [folder / "files", folder / "more.jsonl"]


def quads(store: Backend) -> list[tuple[str, ...]]:
    """Every quad of the store, blank nodes and the clock's values blanked, but the store
    generation and the tally's stamp of it (store/tally.py: a count of writes, not of records); a
    list, so that a determination stored twice would show."""
    rows = store.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }").rows
    out = []
    for row in rows:
        g, s, p, o = ("_:b" if isinstance(t, BNode) else str(t) for t in row)
        if p == GENERATION:
            continue
        out.append((g, s, p, "(time)" if p in CLOCK else o))
    return sorted(out)


@pytest.fixture(scope="module")
def local_run(rb: rulebase.RuleBase, inputs: list[Path]) -> tuple[batch.Summary, list[tuple[str, ...]]]:
    store = EmbeddedStore(None)
    summary = batch.run(inputs, store, rb, progress=False)
    return summary, quads(store)


def on_cluster(client: Any, trace: list[tuple[int, int]] | None = None) -> batch.Executor:
    def run(refs: list[batch.CaseRef], rb: rulebase.RuleBase, engine: str) -> Any:
        return distributed.rounds(refs, rb, client, engine, trace)
    return run


def test_the_cluster_stores_the_quads_of_the_local_run(rb: rulebase.RuleBase, inputs: list[Path], client: Any,
                                                       local_run: tuple[batch.Summary, list[tuple[str, ...]]]) -> None:
    """Same cases, same determinations, same case graphs, summaries and rule-base graph; the bad
    case is reported with the local run's message."""
    local, want = local_run
    store = EmbeddedStore(None)
    trace: list[tuple[int, int]] = []
    summary = batch.run(inputs, store, rb, progress=False, executor=on_cluster(client, trace))
    assert (summary.total, summary.stored, summary.skipped) == (local.total, local.stored, 0) == (25, 24, 0)
    assert summary.failures == local.failures and len(summary.failures) == 1
    assert summary.failures[0][0].endswith("broken.yaml") and "review_date" in summary.failures[0][1]
    assert summary.decisions == local.decisions
    assert quads(store) == want
    assert any("morphineEquivalentDailyDose" in q[2] for q in want), "the analyst facts went untested"
    assert len({pid for _, pid in trace}) == 2, "both workers took rounds"
    assert sorted(n for n, _ in trace) == list(range(len(trace))), "every round once"
    again = batch.run(inputs, store, rb, progress=False, executor=on_cluster(client))
    assert (again.stored, again.skipped) == (0, 24), "a re-run skips what the cluster stored"


def test_a_remote_sparql_store_gets_the_same_quads(rb: rulebase.RuleBase, inputs: list[Path], client: Any,
                                                    local_run: tuple[batch.Summary, list[tuple[str, ...]]],
                                                    tmp_path: Path) -> None:
    """The cluster's records written to a real Oxigraph server (SPARQL 1.1 query and update),
    named as ``--store URL``."""
    with local_server(tmp_path / "oxigraph") as url:
        store = open_store(Path(url))  # as `--store http://...` gives it
        assert isinstance(store, EndpointStore) and store.query_url == url
        summary = batch.run(inputs, store, rb, progress=False, executor=on_cluster(client))
        assert summary.stored == 24 and summary.failures == local_run[0].failures
        assert quads(store) == local_run[1]
        assert records.determination_count(store) == 24


def test_a_killed_worker_has_its_rounds_redone(rb: rulebase.RuleBase, inputs: list[Path], client: Any,
                                               local_run: tuple[batch.Summary, list[tuple[str, ...]]],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGKILL a worker process while it holds rounds: the scheduler gives them to the other
    worker (its nanny restarts the killed one); every case stored once, the same quads. Each
    round is made to last 0.3 s longer on the workers, so that rounds are still held when the
    first one is stored, however fast the machine; and each is written as it comes (a write
    normally gathers batch.ROUND cases, more than this batch has)."""
    monkeypatch.setattr(batch, "ROUND", 1)

    class SlowRounds(dask.WorkerPlugin):  # type: ignore[misc,name-defined]
        name = "test-slow-rounds"

        def setup(self, worker: Any) -> None:
            original = batch._work_fast

            def slow(refs: list[batch.CaseRef], rules: Any = None) -> Any:
                time.sleep(0.3)
                return original(refs, rules)

            slow.original = original  # type: ignore[attr-defined]
            batch._work_fast = slow  # type: ignore[assignment]

        def teardown(self, worker: Any) -> None:
            batch._work_fast = getattr(batch._work_fast, "original", batch._work_fast)

    client.register_plugin(SlowRounds(), name=SlowRounds.name)
    try:
        _kill_a_worker_mid_batch(rb, inputs, client, local_run)
    finally:
        client.unregister_worker_plugin(SlowRounds.name)


def _kill_a_worker_mid_batch(rb: rulebase.RuleBase, inputs: list[Path], client: Any,
                             local_run: tuple[batch.Summary, list[tuple[str, ...]]]) -> None:
    pids: dict[str, int] = client.run(os.getpid)
    killed: dict[str, Any] = {}

    def kill_a_busy_worker(stored: int) -> None:
        if killed:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            busy = {w: keys for w, keys in client.processing().items() if keys and w in pids}
            if busy:
                worker, keys = next(iter(busy.items()))
                killed.update(worker=worker, pid=pids[worker], rounds={int(str(k).rsplit("-", 1)[1]) for k in keys})
                os.kill(pids[worker], signal.SIGKILL)
                return
            time.sleep(0.01)

    store = EmbeddedStore(None)
    trace: list[tuple[int, int]] = []
    summary = batch.run(inputs, store, rb, progress=False, after_store=kill_a_busy_worker,
                        executor=on_cluster(client, trace))
    assert killed, "no worker held a round after the first write: nothing was killed"
    by_round = dict(trace)
    assert len(by_round) == len(trace), "no round yielded twice"
    assert killed["rounds"] <= by_round.keys(), "the killed worker's rounds came back"
    assert all(by_round[n] != killed["pid"] for n in killed["rounds"]), "from another worker"
    assert (summary.stored, len(summary.failures)) == (24, 1)
    assert records.determination_count(store) == 24
    assert quads(store) == local_run[1], "none lost, none duplicated"


def test_a_round_written_twice_replaces_its_determinations(rb: rulebase.RuleBase, inputs: list[Path]) -> None:
    """The round write is idempotent: storing a round's records again leaves one determination
    per case, the same quads."""
    refs = [r for r in batch.expand(inputs) if "broken" not in r.path][:6]
    outcomes = batch._work_fast(refs, rb)
    written = [record for _, record, _ in outcomes if record is not None]
    store = EmbeddedStore(None)
    records.put_cases(store, written)
    once = quads(store)
    records.put_cases(store, written)
    assert quads(store) == once and records.determination_count(store) == len(written) == 6


def test_the_cli_runs_a_local_cluster_and_refuses_another_executor(
        inputs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code = cli.main(["batch", str(inputs[1]), "--store", str(tmp_path / "store"), "--executor", "dask", "local",
                     "--jobs", "1", "--quiet"])
    assert code == 0 and "12 case(s): 12 evaluated and stored" in capsys.readouterr().out
    monkeypatch.setattr(distributed, "CONNECT_SECONDS", 2)
    assert cli.main(["batch", str(inputs[1]), "--executor", "ray", "local", "--quiet"]) == 2
    assert "--executor ray: expected one of: dask" in capsys.readouterr().err
    assert cli.main(["batch", str(inputs[1]), "--executor", "dask", "127.0.0.1:9", "--quiet"]) == 3
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err


def test_rounds_print_their_number_not_their_cases(inputs: list[Path]) -> None:
    """Dask logs a task's arguments and results by their repr: a round shows its number only."""
    refs = batch.expand(inputs)
    task, done = distributed.Round(3, refs), distributed.Done(3, [(refs[0], None, "x")])
    assert repr(task) == "<mtus round 3: 25 case(s)>" and repr(done) == "<mtus round 3 done: 1 outcome(s)>"


def test_a_worker_with_another_rule_base_refuses_the_rounds(rb: rulebase.RuleBase, inputs: list[Path],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """What the worker plugin does when a worker joins, here in this process: a rule base whose
    digest is not the batch's refuses every round, naming both digests (never a case)."""
    monkeypatch.setattr(distributed, "_WORKER", distributed._Warm())
    distributed.warm(str(rb.root), "0" * 64)
    refs = batch.expand([inputs[1]])[:2]
    with pytest.raises(distributed.ExecutorError, match=f"digest {rb.digest[:12]}, the batch's digest is 000000000000"):
        distributed.run_round(distributed.Round(0, refs), "0" * 64, "fast")
    distributed.warm(str(rb.root), rb.digest)
    done = distributed.run_round(distributed.Round(0, refs), rb.digest, "fast")
    assert [record is not None for _, record, _ in done.outcomes] == [True, True] and done.pid == os.getpid()
