"""Batch evaluation into a store: ``mtus batch INPUT... [--store PATH | --endpoint URL] [--jobs N]``.

Inputs are case files, folders of case files and JSON Lines files (one case per line). Cases
are evaluated on the fast path (``--engine fast``, the default: :mod:`reasoner.fastpath`, in
batches of up to 128, each case's record built from the engine's store) or one at a time on
the reference path (``--engine reference``: ``evaluate_case``), in this process or in a pool of
``--jobs`` processes; this process alone writes to the store. Both engines store the same
records (the fast path's differential test; ``tests/test_batch.py`` compares the stores); a case
the fast path does not decide itself (an input it does not read, a case the intake shapes
reject) goes through ``evaluate_case``, so its record or its error is the reference path's.

Idempotent and resumable: a case whose input hash (SHA-256 of the file, or of the JSON line as
intake hashes a mapping) is already stored with a determination by the same rule base (version
and digest) is skipped (the store's ledger of completion markers is read once); the records are
stored ROUND at a time, each round committed by one transaction after its graphs are loaded
(records.put_cases: a round left uncommitted by a kill is removed when the store is next
written), so a batch killed at any point and run again ends with each case stored once. A case
that cannot be read is reported with its error and the batch goes on. Case contents are never
logged.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Never, TypeVar

from tqdm import tqdm

from . import api, intake, rulebase
from .arguments import at_least_one
from .batch_inputs import CASE_SUFFIXES, CaseRef, InputError, case_of, expand, input_hash
from .batch_records import analyst_properties, kept_record, record_of
from .determination import Determination
from .errors import EXIT_INPUT, EXIT_OK, IntakeError, RuleBaseError
from .fastpath.engine import Engine
from .rulebase import RuleBase
from .store import DEFAULT_STORE, open_store, records, tally
from .store.records import Backend, CaseRecord

#: the public names, with those of batch_inputs and batch_records that callers read from here
__all__ = ["CASE_SUFFIXES", "CHUNK", "ENGINES", "EVALUATE", "ROUND", "CaseRef", "Executor",
           "InputError", "Outcome", "Summary", "add_parser", "add_store_arguments",
           "analyst_properties", "case_of", "evaluate_case", "expand", "input_hash", "kept_record",
           "main", "record_of", "run", "worker_pool"]

T = TypeVar("T")


def evaluate_case(ref: CaseRef, rb: RuleBase) -> CaseRecord:
    """Evaluate one case on the reference path and return what the store keeps of it. Raises
    IntakeError."""
    case = case_of(ref)
    case_input = intake.read(case, rb)
    det = api.evaluate(case, rb)
    return record_of(det, case_input, rb, case_input.source if ref.text is None else ref.source)


#: the function each case goes through on the reference path
EVALUATE: Callable[[CaseRef, RuleBase], CaseRecord] = evaluate_case
ENGINES = ("fast", "reference")
#: cases per round of the fast path (the engine's batch)
CHUNK = 128
_ENGINE: Engine | None = None


def _fast_engine(rb: RuleBase) -> Engine:
    global _ENGINE
    if _ENGINE is None or _ENGINE.rb is not rb:
        _ENGINE = Engine(rb)
    return _ENGINE


def _work_fast(refs: list[CaseRef], rb: RuleBase | None = None
               ) -> list[tuple[CaseRef, CaseRecord | None, str | None]]:
    """A round of cases on the fast path; a case it does not decide itself goes through
    ``_work`` (the reference path: its record, or its error)."""
    rules = rb or _WORKER_RULES
    assert rules is not None
    out: list[tuple[CaseRef, CaseRecord | None, str | None]] = []
    readable: list[CaseRef] = []
    cases: list[str | dict[str, object]] = []
    for ref in refs:
        try:
            cases.append(case_of(ref))
            readable.append(ref)
        except IntakeError:  # a JSON line that is not a case: the reference path reports it
            out.append(_work(ref, rules))
    refs = readable
    try:
        results, kept = _fast_engine(rules).evaluate_keeping(cases, analyst_properties(rules))
    except RuleBaseError:
        raise
    except Exception:  # noqa: BLE001 (the round failed as a whole: each case on the reference path)
        return out + [_work(ref, rules) for ref in refs]
    for index, (ref, result) in enumerate(zip(refs, results, strict=True)):
        got = kept.get(index)
        if got is None or not isinstance(result, Determination):
            out.append(_work(ref, rules))
            continue
        try:
            out.append((ref, kept_record(result, got, ref.path if ref.text is None else ref.source), None))
        except Exception as exc:  # noqa: BLE001 (one broken case must not stop the batch; say what failed)
            message = f"{ref.source}: internal error ({type(exc).__name__}); the case's content is not shown"
            out.append((ref, None, message))
    return out


_WORKER_RULES: RuleBase | None = None
_PRELOAD = "MTUS_PRELOAD_RULES"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _watch(parent: int) -> None:
    while _alive(parent):
        time.sleep(0.5)
    os._exit(1)  # the batch was killed: do not linger holding its pipes


def _start_worker(setup: Callable[[Path], None], root: Path, parent: int) -> None:
    threading.Thread(target=_watch, args=(parent,), daemon=True, name="mtus-parent-watch").start()
    setup(root)


def worker_pool(rb: RuleBase, jobs: int, initializer: Callable[[Path], None]) -> cf.ProcessPoolExecutor:
    """A pool of ``jobs`` processes forked from a clean server process that has loaded the rule
    base once (never from this process, which may hold an open store and its threads). A worker
    exits by itself when this process dies, even by SIGKILL."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["reasoner.batch"])
    os.environ[_PRELOAD] = str(rb.root)
    try:
        pool = cf.ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker,
                                      initargs=(initializer, rb.root, os.getpid()))
        pool.submit(int).result()
    finally:
        os.environ.pop(_PRELOAD, None)
    return pool


def _init_worker(root: Path | None) -> None:
    global _WORKER_RULES
    _WORKER_RULES = rulebase.get(root)


def _work(ref: CaseRef, rb: RuleBase | None = None) -> tuple[CaseRef, CaseRecord | None, str | None]:
    rules = rb or _WORKER_RULES
    assert rules is not None
    try:
        return ref, EVALUATE(ref, rules), None
    except IntakeError as exc:
        return ref, None, str(exc)
    except RuleBaseError:
        raise
    except Exception as exc:  # noqa: BLE001 (one broken case must not stop the batch; say what failed)
        return ref, None, f"{ref.source}: internal error ({type(exc).__name__}); the case's content is not shown"


def _work_reference(refs: list[CaseRef], rb: RuleBase | None = None
                    ) -> list[tuple[CaseRef, CaseRecord | None, str | None]]:
    return [_work(ref, rb) for ref in refs]


Outcome = tuple[CaseRef, CaseRecord | None, str | None]


def _evaluated(refs: list[CaseRef], rb: RuleBase, jobs: int, engine: str = "fast") -> Generator[Outcome, None, None]:
    """Each case's record or error (``_rounds`` one case at a time)."""
    with closing(_rounds(refs, rb, jobs, engine)) as rounds:
        for outcomes in rounds:
            yield from outcomes


def _rounds(refs: list[CaseRef], rb: RuleBase, jobs: int, engine: str = "fast"
            ) -> Generator[list[Outcome], None, None]:
    """Each case's record or error, as rounds complete: rounds of up to CHUNK cases on the fast
    path (smaller when there are few cases, so that every worker has some), one case per round
    on the reference path."""
    work = _work_fast if engine == "fast" else _work_reference
    size = max(1, min(CHUNK, len(refs) // (jobs * 4))) if engine == "fast" else 1
    chunks = [refs[i:i + size] for i in range(0, len(refs), size)]
    if jobs <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            yield work(chunk, rb)
        return
    pool = worker_pool(rb, jobs, _init_worker)
    try:  # a few rounds in flight per worker: memory stays flat
        queue = iter(chunks)
        running = {pool.submit(work, chunk) for chunk in _take(queue, jobs * 4)}
        while running:
            done, running = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            running |= {pool.submit(work, chunk) for chunk in _take(queue, len(done))}
            for future in done:
                yield future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _take(queue: Iterator[T], count: int) -> list[T]:
    out: list[T] = []
    for ref in queue:
        out.append(ref)
        if len(out) >= count:
            break
    return out


@dataclass
class Summary:
    """What a batch did: counts, item decisions of the cases it evaluated, failures."""

    total: int = 0
    stored: int = 0
    skipped: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False

    def text(self, where: str, determinations: int | None) -> str:
        lines = [f"mtus batch: {self.total} case(s): {self.stored} evaluated and stored, {self.skipped} skipped "
                 f"(already stored), {len(self.failures)} failed"
                 + (" - INTERRUPTED: run the same command again to finish" if self.interrupted else "")]
        items = ", ".join(f"{self.decisions[d]} {d.replace('_', ' ')}"
                          for d in ("upheld", "overturned", "not_addressed"))
        lines.append(f"  item decisions of the cases evaluated: {items}")
        lines.append(f"  store: {where}" + (f" ({determinations} determination(s))" if determinations is not None else ""))
        if self.failures:
            lines.append("failures:")
            lines += [f"  {message}" if message.startswith(source) else f"  {source}: {message}"
                      for source, message in self.failures]
        return "\n".join(lines) + "\n"


def _store_all(rounds: Iterator[list[Outcome]], store: Backend,
               summary: Summary, bar: tqdm[Never], after_store: Callable[[int], None] | None,
               threaded: bool = False, gather: bool = True) -> None:
    """Store the records as they come, ROUND cases per write (records.put_cases: one round of the
    store); ``gather`` false: each round of the evaluation as soon as it comes (the reference
    engine's rounds are single cases). ``threaded`` (the cases are evaluated by worker processes): in a writer
    thread, a round written while the next ones arrive (at most one write in flight); else in
    this thread (measured: with the evaluation in this process too, a writer thread made a
    10,000-case batch slower). ``after_store`` is called in this thread after each write."""
    cases: dict[str, str] = {}
    pending: list[CaseRecord] = []
    writer = cf.ThreadPoolExecutor(1, thread_name_prefix="mtus-batch-writer") if threaded else None
    in_flight: tuple[cf.Future[None], list[CaseRecord]] | None = None

    def settle() -> None:
        nonlocal in_flight
        if in_flight is None:
            return
        future, written = in_flight
        in_flight = None
        future.result()
        summary.stored += len(written)
        for record in written:
            summary.decisions.update(d for _, _, d in record.decisions)
        bar.update(len(written))
        if after_store is not None:
            after_store(summary.stored)

    def flush() -> None:
        nonlocal in_flight
        settle()
        written = list(pending)
        pending.clear()
        if writer is None:
            done: cf.Future[None] = cf.Future()
            records.put_cases(store, written)
            done.set_result(None)
            in_flight = (done, written)
            settle()
        else:
            in_flight = (writer.submit(records.put_cases, store, written), written)

    try:
        for outcomes in rounds:
            for ref, record, error in outcomes:
                if record is None:
                    summary.failures.append((ref.source, error or "failed"))
                    bar.update()
                elif record.case_iri in cases:
                    message = (f"id: the case id is also the id of {cases[record.case_iri]}; "
                               "case ids must be unique within a batch")
                    summary.failures.append((ref.source, message))
                    bar.update()
                else:
                    pending.append(record)
                    cases[record.case_iri] = ref.source
                    if len(pending) >= ROUND:
                        flush()
            if pending and not gather:  # the end of a round: store what it gave
                flush()
        if pending:
            flush()
        settle()
    finally:
        if in_flight is not None:  # interrupted: the write under way ends (whole) before the store closes
            future, written = in_flight
            if future.exception() is None:
                summary.stored += len(written)
                for record in written:
                    summary.decisions.update(d for _, _, d in record.decisions)
        if writer is not None:
            writer.shutdown(wait=True)


#: cases stored per write (a round of the store: records.put_cases; measured at N=10,000, the
#: bulk loader costs 3.1 ms of CPU per case in rounds of 512 against 3.5 in rounds of 128)
ROUND = 4 * CHUNK


#: where the rounds of a batch are evaluated, if not here or in ``--jobs`` processes: a function of
#: (cases, rule base, engine) giving each round's outcomes (reasoner.distributed: a Dask cluster)
Executor = Callable[[list[CaseRef], RuleBase, str], Generator[list[Outcome], None, None]]


def run(inputs: list[Path], store: Backend, rb: RuleBase, jobs: int = 1, progress: bool = True,
        after_store: Callable[[int], None] | None = None, engine: str = "fast",
        executor: Executor | None = None) -> Summary:
    """Evaluate (on ``engine``: fast or reference; on ``executor`` if given) and store every case
    of ``inputs`` not already stored; ``after_store`` is called with the number stored so far
    after each case (a hook for tests)."""
    refs = expand(inputs)
    summary = Summary(total=len(refs))
    records.put_rulebase(store, rb)
    done = records.stored_keys(store)
    seen: set[str] = set()
    todo: list[CaseRef] = []
    bar: tqdm[Never] = tqdm(total=len(refs), unit="case", desc="mtus batch", disable=not progress,
                           smoothing=0.1, dynamic_ncols=True)
    try:
        for ref in refs:
            try:
                digest = input_hash(ref)
            except IntakeError as exc:
                summary.failures.append((ref.source, str(exc)))
                bar.update()
                continue
            if (digest, rb.digest) in done or digest in seen:
                summary.skipped += 1
                bar.update()
                continue
            seen.add(digest)
            todo.append(ref)
        source = executor(todo, rb, engine) if executor is not None else _rounds(todo, rb, jobs, engine)
        with closing(source) as rounds:
            _store_all(rounds, store, summary, bar, after_store, threaded=jobs > 1 or executor is not None,
                       gather=engine == "fast")
        tally.ensure(store)  # the analysts' counts, as of this batch's writes
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        bar.close()
    return summary


#: ``--jobs``: a whole number of worker processes, at least 1
jobs_count = at_least_one("processes")


def add_store_arguments(parser: argparse.ArgumentParser, required: bool = False) -> None:
    where = parser.add_mutually_exclusive_group(required=required)
    where.add_argument("--store", type=Path, metavar="PATH",
                       help=f"embedded store folder (default: ./{DEFAULT_STORE}), or a SPARQL endpoint's "
                            "http(s):// query URL (as --endpoint)")
    where.add_argument("--endpoint", metavar="URL", help="SPARQL 1.1 query URL of a remote store")
    parser.add_argument("--update-endpoint", metavar="URL",
                        help="SPARQL Update URL of the remote store (default: --endpoint with /query "
                             "replaced by /update, else the same URL)")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("batch", help="evaluate many cases into a store (idempotent, resumable)")
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                        help="case files, folders of case files, or .jsonl files (one case per line)")
    add_store_arguments(parser)
    parser.add_argument("--jobs", type=jobs_count, default=1, metavar="N",
                        help="evaluate in N worker processes (default 1)")
    parser.add_argument("--engine", choices=ENGINES, default="fast",
                        help="fast (default): the fast path, in rounds of up to 128 cases; reference: "
                             "rdflib and pySHACL, one case at a time (the same records, slower)")
    parser.add_argument("--executor", nargs=2, metavar=("dask", "ADDRESS"),
                        help="evaluate the rounds on a Dask cluster: ADDRESS is its scheduler "
                             "(tcp://HOST:8786) or local (--jobs worker processes on 127.0.0.1); "
                             "see docs/scaling.md")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    rb = rulebase.get(args.rules)
    with ExitStack() as stack:
        on_cluster = None
        if args.executor is not None:  # reasoner.distributed (imported only when asked for)
            from . import distributed
            kind, address = args.executor
            on_cluster = stack.enter_context(distributed.executor(kind, address, workers=args.jobs))
        store = open_store(args.store, args.endpoint, args.update_endpoint)
        stack.callback(store.close)
        summary = run(args.inputs, store, rb, args.jobs, progress=not args.quiet, engine=args.engine,
                      executor=on_cluster)
        count = records.determination_count(store)
    sys.stdout.write(summary.text(store.description, count))
    if summary.interrupted:
        return 130
    return EXIT_INPUT if summary.failures else EXIT_OK


if os.environ.get(_PRELOAD):  # imported by the pool's server process: load the rule base once
    rulebase.get(Path(os.environ[_PRELOAD]))
