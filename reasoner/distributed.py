"""Batch rounds on a Dask distributed cluster: ``mtus batch INPUT... --executor dask ADDRESS``.

Dask distributed was chosen over Ray by measurement (``bench/bench_executors.py``,
docs/scaling.md): a local cluster of 2 workers starts in about a quarter of Ray's time with a
fifth of its memory; Ray's shorter round trip is small against a round's evaluation.

ADDRESS is a running scheduler (``tcp://HOST:8786``, see docs/scaling.md) or ``local``: a
cluster of ``--jobs`` worker processes started on 127.0.0.1 for this batch and stopped after it.
Each worker loads the rule base once and builds its fast-path engine when it joins (a worker
plugin, also run by a worker that joins later, such as one restarted after it died), and checks
that its rule base has the batch's digest: a worker with other rules refuses the rounds.
Rounds of cases (``batch._work_fast`` / ``batch._work_reference``, the local run's round
functions) go to the workers, a few per worker in flight; their records come back to this
process, which alone writes them to the store (``batch._store_all``, as in the local run).

A worker that dies (killed, out of memory) loses its rounds; the scheduler gives them to
another worker (a restarted one, under its nanny). A round is written once, when its result
arrives; a round redone after its result arrived is ignored; and the store replaces a case's
determination (``records.put_cases``), never adds a second one. A round whose workers died
``distributed.scheduler.allowed-failures`` + 1 times (default 4) is reported as failed, case by case,
and the batch goes on; a re-run evaluates those cases.

File inputs are read by the workers at the same path (a shared folder); JSON Lines cases travel
with their round. Case contents are never logged: Dask logs task keys and arguments, so a task
is named by its round number and its argument and result print only that number.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import batch, rulebase
from .errors import EXIT_INPUT, EXIT_INTERNAL, MtusError
from .rulebase import RuleBase

#: the executors ``--executor`` knows (Ray: measured, not chosen; docs/scaling.md)
EXECUTORS = ("dask",)
LOCAL = "local"
#: rounds in flight per worker (memory stays flat; every worker has the next round at hand)
IN_FLIGHT = 4
PLUGIN = "mtus-warm-engine"
#: how long to try reaching a scheduler
CONNECT_SECONDS = 30


class ExecutorError(MtusError):
    """The cluster cannot be reached or used (the message names the address, never a case)."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, exit_code: int = EXIT_INTERNAL) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Round:
    """The cases of one round, sent to a worker; its repr (what Dask logs) is its number only."""

    __slots__ = ("number", "refs")

    def __init__(self, number: int, refs: list[batch.CaseRef]) -> None:
        self.number = number
        self.refs = refs

    def __repr__(self) -> str:
        return f"<mtus round {self.number}: {len(self.refs)} case(s)>"

    def __getstate__(self) -> tuple[int, list[batch.CaseRef]]:
        return self.number, self.refs

    def __setstate__(self, state: tuple[int, list[batch.CaseRef]]) -> None:
        self.number, self.refs = state


class Done(Round):
    """What a worker sends back for a round: each case's record or error (batch.Outcome), and
    the worker's process id (which worker did it)."""

    __slots__ = ("outcomes", "pid")

    def __init__(self, number: int, outcomes: list[batch.Outcome], pid: int = 0) -> None:
        super().__init__(number, [])
        self.outcomes = outcomes
        self.pid = pid

    def __repr__(self) -> str:
        return f"<mtus round {self.number} done: {len(self.outcomes)} outcome(s)>"

    def __getstate__(self) -> tuple[int, list[batch.Outcome], int]:  # type: ignore[override]
        return self.number, self.outcomes, self.pid

    def __setstate__(self, state: tuple[int, list[batch.Outcome], int]) -> None:  # type: ignore[override]
        self.number, self.outcomes, self.pid = state
        self.refs = []


# -- on the workers ------------------------------------------------------------------------------

@dataclass
class _Warm:
    rules: RuleBase | None = None
    refused: str | None = None


_WORKER = _Warm()


def warm(root: str, digest: str) -> None:
    """Load the rule base (at ``root`` if this machine has it, else the installed one) and build
    the fast-path engine, once per worker process; remember a digest that is not the batch's."""
    folder = Path(root)
    rules = rulebase.get(folder if folder.is_dir() else None)
    if rules.digest != digest:
        _WORKER.rules, _WORKER.refused = None, (
            f"a worker (process {os.getpid()}) has rule base {rules.version} with digest {rules.digest[:12]}, "
            f"the batch's digest is {digest[:12]}: install the same rule base on every worker")
        return
    _WORKER.rules, _WORKER.refused = rules, None
    batch._init_worker(rules.root)
    batch._fast_engine(rules)


try:  # the plugin class needs Dask; the rest of this module does not
    from distributed import WorkerPlugin
except ImportError:  # pragma: no cover (the `distributed` extra is not installed)
    WorkerPlugin = object  # type: ignore[assignment,misc]


class WarmEngine(WorkerPlugin):  # type: ignore[misc,unused-ignore]
    """Run ``warm`` on every worker, now and when one joins later."""

    name = PLUGIN

    def __init__(self, root: str, digest: str) -> None:
        self.root = root
        self.digest = digest

    def setup(self, worker: Any) -> None:
        warm(self.root, self.digest)


def run_round(task: Round, digest: str, engine: str) -> Done:
    """One round on a worker, by the local run's round function for ``engine``."""
    if _WORKER.rules is None and _WORKER.refused is None:  # the plugin has not run here
        warm(str(rulebase.default_root()), digest)
    if _WORKER.rules is None or _WORKER.rules.digest != digest:
        raise ExecutorError(_WORKER.refused or "a worker's rule base is not the batch's: install the same "
                            "rule base on every worker")
    work = batch._work_fast if engine == "fast" else batch._work_reference
    return Done(task.number, work(task.refs, _WORKER.rules), os.getpid())


# -- on the client -------------------------------------------------------------------------------

def _client_module() -> Any:
    try:
        import distributed
    except ImportError:
        raise ExecutorError("--executor dask needs Dask distributed: pip install 'mtus-reasoner[distributed]'"
                            ) from None
    return distributed


@contextmanager
def connect(address: str, workers: int = 2) -> Iterator[Any]:
    """A Dask client of the scheduler at ``address``, or of a local cluster of ``workers``
    processes on 127.0.0.1 (``local``), closed (and the local cluster stopped) on leaving."""
    dask = _client_module()
    with ExitStack() as stack:
        if address == LOCAL:
            cluster = stack.enter_context(dask.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=":0", silence_logs=40))  # its HTTP routes on a free port
            target: Any = cluster
        else:
            target = address if "://" in address else f"tcp://{address}"
        try:
            client = stack.enter_context(dask.Client(target, timeout=CONNECT_SECONDS))
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"--executor dask {address}: cannot reach the Dask scheduler ({exc})") from None
        yield client


def _workers(client: Any) -> int:
    threads: dict[str, int] = client.nthreads()
    return max(1, sum(threads.values()))


def rounds(refs: list[batch.CaseRef], rb: RuleBase, client: Any, engine: str = "fast",
           trace: list[tuple[int, int]] | None = None) -> Generator[list[batch.Outcome], None, None]:
    """Each round's outcomes as rounds complete on the cluster (the rounds of ``batch._rounds``:
    up to CHUNK cases on the fast path, one on the reference path), at most IN_FLIGHT rounds per
    worker submitted at a time; a round is yielded once, even if it was computed twice.
    ``trace`` gets (round number, worker process id) of each round yielded (for the tests)."""
    dask = _client_module()
    client.register_plugin(WarmEngine(str(rb.root), rb.digest), name=PLUGIN)
    workers = _workers(client)
    size = max(1, min(batch.CHUNK, len(refs) // (workers * IN_FLIGHT))) if engine == "fast" else 1
    chunks = iter(enumerate(refs[i:i + size] for i in range(0, len(refs), size)))
    token = uuid.uuid4().hex[:12]
    pending: dict[str, tuple[Round, Any]] = {}

    def submit(number: int, chunk: list[batch.CaseRef]) -> Any:
        task = Round(number, chunk)
        key = f"mtus-round-{token}-{number}"
        future = client.submit(run_round, task, rb.digest, engine, key=key, pure=False)
        pending[key] = (task, future)
        return future

    running = dask.as_completed([submit(n, c) for n, c in batch._take(chunks, workers * IN_FLIGHT)])
    seen: set[int] = set()
    try:
        for future in running:
            task, _ = pending.pop(future.key)
            try:
                done: Done = future.result()
            except dask.KilledWorker:
                message = ("the workers evaluating its round died; the case's content is not shown; "
                           "run the batch again to evaluate it")
                done = Done(task.number, [(ref, None, f"{ref.source}: {message}") for ref in task.refs])
            except (OSError, dask.TimeoutError) as exc:
                raise ExecutorError(f"lost the Dask cluster ({type(exc).__name__}); the rounds stored so far "
                                    "are kept: run the batch again to finish") from None
            except MtusError:  # a worker's rule base is not the batch's: its message says so
                raise
            except Exception as exc:  # noqa: BLE001 (no message: it could quote a case)
                raise ExecutorError(f"round {task.number} failed on a worker ({type(exc).__name__}); the rounds "
                                    "stored so far are kept") from None
            future.release()
            for number, chunk in batch._take(chunks, 1):
                running.add(submit(number, chunk))
            if done.number in seen:
                continue
            seen.add(done.number)
            if trace is not None:
                trace.append((done.number, done.pid))
            yield done.outcomes
    finally:
        if pending:  # stopped early (interrupted, an error): the cluster drops the rest
            client.cancel([future for _, future in pending.values()])


@contextmanager
def executor(kind: str, address: str, workers: int = 2) -> Iterator[Any]:
    """``batch.run``'s ``executor`` for ``--executor KIND ADDRESS``: a function of (cases, rule
    base, engine) giving each round's outcomes from the cluster."""
    if kind not in EXECUTORS:
        raise ExecutorError(f"--executor {kind}: expected one of: {', '.join(EXECUTORS)} (Ray was measured and "
                            "not chosen: docs/scaling.md)", exit_code=EXIT_INPUT)
    with connect(address, workers) as client:
        def on_cluster(refs: list[batch.CaseRef], rb: RuleBase, engine: str
                       ) -> Generator[list[batch.Outcome], None, None]:
            return rounds(refs, rb, client, engine)
        yield on_cluster
