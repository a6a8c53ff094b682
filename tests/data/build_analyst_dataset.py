"""Build tests/data/analyst-dataset.nq.gz, the fixed dataset of the query-library tests.

    .venv/bin/python -m tests.data.build_analyst_dataset

The cases of tests/data/analyst-cases/ are evaluated with the rule base of the checkout and
stored as ``mtus batch`` stores them (rule-base graph, case graphs, determination graphs), with
a fixed generation time. The file is kept (not rebuilt by the tests) so that the expected rows
do not move when kb/ changes; rebuild it when the determination graph changes shape, and check
the expected rows of tests/test_queries.py again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
from pathlib import Path

from reasoner import api, batch, intake, rulebase
from reasoner.store import EmbeddedStore, records

HERE = Path(__file__).resolve().parent
CASES = HERE / "analyst-cases"
OUT = HERE / "analyst-dataset.nq.gz"
GENERATED_AT = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def build() -> bytes:
    rb = rulebase.get()
    store = EmbeddedStore(None)
    records.put_rulebase(store, rb)
    for path in sorted(CASES.glob("*.yaml")):
        case = intake.read(path, rb)
        det = dataclasses.replace(api.evaluate(path, rb), generated_at=GENERATED_AT)
        records.put_case(store, batch.record_of(det, case, rb, path.name))
    lines = sorted(store.dump_nquads().decode("utf-8").splitlines())
    return ("\n".join(lines) + "\n").encode("utf-8")


if __name__ == "__main__":
    data = build()
    OUT.write_bytes(gzip.compress(data, mtime=0))
    print(f"{OUT}: {len(data.splitlines())} quads")
