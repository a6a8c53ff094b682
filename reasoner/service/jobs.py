"""Batch jobs of the service: many cases evaluated on the fast path in rounds, each determination
kept in the store (its case graph and determination graph, as ``mtus batch`` stores them), with
progress to poll and the results (``Determination.to_dict`` each) when done. Jobs live in this
process; their problems name a case's index and field path, never its contents."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from .. import batch_records, engines, intake
from ..determination import Determination
from ..errors import IntakeError, MtusError
from ..rulebase import RuleBase
from ..store import records
from ..store.records import Backend

ROUND = 64


@dataclass
class Job:
    id: str
    total: int
    done: int = 0
    state: str = "queued"  # queued, running, done, failed
    results: list[dict[str, Any] | None] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    determinations: list[str] = field(default_factory=list)

    def status(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "total": self.total, "done": self.done,
                "failed": len(self.errors), "errors": self.errors, "determinations": self.determinations}


def _problems(error: MtusError) -> list[dict[str, Any]]:
    if isinstance(error, IntakeError):
        return [{"path": p.path, "message": p.message, "suggestions": list(p.suggestions)} for p in error.problems]
    return [{"path": "(case)", "message": type(error).__name__, "suggestions": []}]


class Jobs:
    def __init__(self, rb: RuleBase, store: Backend, store_lock: threading.Lock, keep: int = 50) -> None:
        self.rb = rb
        self.store = store
        self.store_lock = store_lock
        self.keep = keep
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def start(self, cases: list[dict[str, Any]], store: bool = True) -> Job:
        job = Job(uuid.uuid4().hex, len(cases), results=[None] * len(cases))
        with self._lock:
            self._jobs[job.id] = job
            for old in list(self._jobs)[:-self.keep]:
                del self._jobs[old]
        threading.Thread(target=self._run, args=(job, cases, store), daemon=True, name=f"mtus-job-{job.id[:8]}").start()
        return job

    def _run(self, job: Job, cases: list[dict[str, Any]], store: bool) -> None:
        job.state = "running"
        try:
            facts = batch_records.analyst_properties(self.rb)
            for start in range(0, len(cases), ROUND):
                chunk = cases[start:start + ROUND]
                fast, lock = engines.fast_engine(self.rb)
                with lock:
                    results, kept = fast.evaluate_keeping(chunk, facts)
                for offset, result in enumerate(results):
                    index = start + offset
                    if isinstance(result, Determination):
                        job.results[index] = result.to_dict()
                        if store:
                            self._store(result, chunk[offset], kept.get(offset), job)
                    else:
                        job.errors.append({"index": index, "problems": _problems(result)})
                    job.done += 1
            job.state = "done"
        except Exception as exc:  # noqa: BLE001 (a job reports its failure; nothing of a case is logged)
            job.errors.append({"index": None, "problems": [{"path": "(job)", "message": type(exc).__name__,
                                                            "suggestions": []}]})
            job.state = "failed"

    def _store(self, det: Determination, case: dict[str, Any], kept: Any, job: Job) -> None:
        source = f"(service job {job.id[:8]})"
        if kept is not None:
            record = batch_records.kept_record(det, kept, source)
        else:
            record = batch_records.record_of(det, intake.read(case, self.rb), self.rb, source)
        with self.store_lock:
            records.put_case(self.store, record)
        job.determinations.append(record.determination_iri)
