"""The analysts' tally (reasoner/store/tally.py, queries/tally/refresh.ru): the counting queries
read counts pre-aggregated from the summary graph; every write of determinations makes the
tally stale (the store generation), and the next query recomputes it, so a query never gives
the counts of an earlier store. Expected counts come from the queries as they were before the
summary and the tally (tests/data/queries-before-summary/, reading the determination graphs
themselves) and from the dataset's cases (13 determinations: tests/test_queries.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reasoner import batch, querylib, rulebase
from reasoner.store import EmbeddedStore, records, tally
from tests.test_query_summary import BEFORE, UpdateOnly, _dataset_records

COUNTING = ("determinations-by-rule-base-version-and-edition", "overturn-rate-by-service-region-and-period",
            "how-many-decisions-each-criterion-decided", "most-frequent-unmet-criteria-per-service")


def _rows(store: Any, name: str) -> list[tuple[object, ...]]:
    return querylib.run(store, querylib.resolve(name), {}).rows


def _before(store: Any, name: str) -> list[tuple[object, ...]]:
    return querylib.run(store, querylib.resolve(str(BEFORE / f"{name}.rq")), {}).rows


def _determinations(rows: list[tuple[object, ...]]) -> int:
    return sum(int(row[3]) for row in rows)  # type: ignore[call-overload]


@pytest.mark.parametrize("writer", ["load", "update"])
def test_a_stale_tally_is_recomputed_by_the_next_query(writer: str) -> None:
    rulebase_lines, dataset = _dataset_records()
    store = EmbeddedStore(None)
    store.load_nquads(rulebase_lines)
    target = store if writer == "load" else UpdateOnly(store)  # bulk load + update, or one update
    records.put_cases(target, dataset[:5])
    first = _rows(store, COUNTING[0])
    assert _determinations(first) == 5
    assert tally.fresh(store)
    records.put_cases(target, dataset[5:])  # more determinations: the tally is stale now
    records.put_cases(target, dataset[:2])  # and two stored again (replaced, not added)
    assert not tally.fresh(store)
    for name in COUNTING:
        assert _rows(store, name) == _before(store, name), name
    assert _determinations(_rows(store, COUNTING[0])) == 13
    assert tally.fresh(store)
    assert tally.ensure(store) is False  # nothing written since: not recomputed


def test_the_tally_carries_the_generation_it_was_computed_at() -> None:
    rulebase_lines, dataset = _dataset_records()
    store = EmbeddedStore(None)
    store.load_nquads(rulebase_lines)
    assert tally.ensure(store) is True  # an empty store: an empty tally, stamped at generation 0
    stamp = f"SELECT ?g WHERE {{ GRAPH <{tally.GRAPH}> {{ <{tally.GRAPH}> <https://w3id.org/mtus/ontology#storeGeneration> ?g }} }}"
    assert [int(r[0]) for r in store.select(stamp).rows] == [0]  # type: ignore[call-overload]
    for done, record in enumerate(dataset[:3], start=1):
        records.put_case(store, record)
        assert not tally.fresh(store)
        tally.ensure(store)
        assert [int(r[0]) for r in store.select(stamp).rows] == [done]  # type: ignore[call-overload]


def test_mtus_batch_leaves_the_tally_current(tmp_path: Path) -> None:
    store = EmbeddedStore(None)
    cases = sorted((Path(__file__).parent / "data" / "analyst-cases").glob("*.yaml"))[:2]
    summary = batch.run(cases, store, rulebase.get(), progress=False)
    assert summary.stored == 2
    assert tally.fresh(store)
    rows = store.select(f"SELECT (SUM(?n) AS ?d) WHERE {{ GRAPH <{tally.GRAPH}> {{ ?row "
                        "<https://w3id.org/mtus/ontology#determinationCount> ?n } }").rows
    assert int(rows[0][0]) == 2  # type: ignore[call-overload]
