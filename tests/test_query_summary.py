"""The analysts' summary graph (reasoner/store/summary.py) gives every named query the rows the
queries gave before it existed: the queries as they were (tests/data/queries-before-summary/,
joining each determination graph to its case graph) run on the graphs alone, the queries of
queries/ on a store written the new way (the summary built with each round, or case by case in
one SPARQL update), from the same records; storing the records again replaces their summary."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest

from reasoner import batch, querylib, rulebase
from reasoner.store import EmbeddedStore, records, summary
from reasoner.store.records import Backend, CaseRecord
from reasoner.store.terms import QueryResult
from tests.test_queries import DATASET, EXPECTED

BEFORE = Path(__file__).parent / "data" / "queries-before-summary"
FORMULARY = Path(__file__).parent / "cases" / "formulary"
MTUS = "https://w3id.org/mtus/ontology#"
EXTRA = {  # parameters beyond test_queries' that select rows of the formulary and opioid records
    "opioid-requests-above-the-morphine-equivalent-ceiling": [{"ceiling": "0"}],
    "overturn-rate-by-service-region-and-period": [{"service": "medication"}, {"from": "2019-01-01"}],
}


class UpdateOnly:
    """A store seen as any SPARQL store (no bulk load): records.put_cases takes the update path."""

    def __init__(self, inner: EmbeddedStore) -> None:
        self.inner = inner
        self.description = "update-only"

    def select(self, query: str, bindings: Any = None) -> QueryResult:
        return self.inner.select(query, bindings)

    def update(self, text: str) -> None:
        self.inner.update(text)


def _dataset_records() -> tuple[str, list[CaseRecord]]:
    """The fixed analyst dataset as the rule-base quads and one record per determination."""
    data = gzip.decompress(DATASET.read_bytes()).decode("utf-8")
    store = EmbeddedStore(None)
    store.load_nquads(data)
    rulebase_lines = "".join(line + "\n" for line in data.splitlines() if line.endswith("/kb/rulebase/0.1.0> ."))
    out = []
    for case in records.stored_cases(store):
        out.append(CaseRecord("dataset", case.case_id, str(case.case_iri), str(case.determination_iri), "", "",
                              store.graph_ntriples(str(case.case_iri)).decode("utf-8"),
                              store.graph_ntriples(str(case.determination_iri)).decode("utf-8"), ()))
    return rulebase_lines, out


@pytest.fixture(scope="module")
def written() -> tuple[list[CaseRecord], EmbeddedStore, EmbeddedStore, EmbeddedStore]:
    """The records (the dataset's, and medication cases of the current rule base with formulary
    answers and opioid doses), stored old-shape (graphs only), by rounds, and case by case."""
    rulebase_lines, dataset = _dataset_records()
    rb = rulebase.get()
    files = sorted(FORMULARY.glob("*/*.yaml"))[:12] + sorted(Path(__file__).parent.glob("cases/*opioid*/*.yaml"))[:4]
    evaluated = [batch.evaluate_case(batch.CaseRef(str(p)), rb) for p in files]
    all_records = dataset + evaluated
    old, rounds, one_by_one = EmbeddedStore(None), EmbeddedStore(None), EmbeddedStore(None)
    for store in (old, rounds, one_by_one):
        store.load_nquads(rulebase_lines)
        records.put_rulebase(store, rb)
    old.load_nquads("".join(records.nquads(r) for r in all_records))
    records.put_cases(rounds, all_records[:7])
    records.put_cases(rounds, all_records[7:])
    records.put_cases(rounds, all_records[3:20])  # stored again: replaced, nothing doubled
    for record in all_records + all_records[:5]:
        records.put_case(UpdateOnly(one_by_one), record)
    return all_records, old, rounds, one_by_one


def _cases() -> list[tuple[str, dict[str, str]]]:
    cases = [(name, params) for name, params, _ in EXPECTED]
    cases += [(name, params) for name, extra in EXTRA.items() for params in extra]
    return cases


@pytest.mark.parametrize(("name", "params"), _cases(), ids=[f"{n}{p or ''}" for n, p in _cases()])
def test_every_query_gives_the_rows_the_queries_before_the_summary_gave(
        written: tuple[list[CaseRecord], Backend, Backend, Backend], name: str, params: dict[str, str]) -> None:
    _, old, rounds, one_by_one = written
    before = querylib.run(old, querylib.resolve(str(BEFORE / f"{name}.rq")), params)
    query = querylib.resolve(name)
    for store in (rounds, one_by_one):
        after = querylib.run(store, query, params)
        assert after.variables == before.variables
        # the same rows; in the same order where ORDER BY decides it (rows it leaves tied, as
        # two Drug List rules with as many items, come in the store's order)
        assert sorted(map(repr, after.rows)) == sorted(map(repr, before.rows))
        if name != "medication-items-needing-review-by-drug-list-version":
            assert after.rows == before.rows


def test_the_records_exercise_every_summarised_fact(written: tuple[list[CaseRecord], Backend, Backend, Backend]) -> None:
    """Formulary answers, opioid doses, UR mismatches and secondary guidelines are among them,
    so that the equality above is not on empty rows only."""
    rounds = written[2]
    for name, params in (("medication-items-needing-review-by-drug-list-version", {}),
                         ("medication-items-dispensed-without-review-by-formulary-rule", {}),
                         ("opioid-requests-above-the-morphine-equivalent-ceiling", {"ceiling": "0"}),
                         ("claims-administrator-guideline-mismatches", {}),
                         ("items-decided-through-a-secondary-guideline", {})):
        assert querylib.run(rounds, querylib.resolve(name), params).rows, name


@pytest.mark.parametrize("which", [2, 3])
def test_one_summary_per_item_after_storing_again(written: tuple[list[CaseRecord], Backend, Backend, Backend],
                                                   which: int) -> None:
    store = written[which]
    prologue = f"PREFIX mtus: <{MTUS}>\n"
    items = store.select(prologue + "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?d { ?d a mtus:Determination ; "
                         "mtus:itemDecision ?item } }").rows[0][0]
    summaries = store.select(prologue + f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{summary.GRAPH}> "
                             "{ ?item a mtus:ItemSummary } }").rows[0][0]
    triples = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{summary.GRAPH}> {{ ?s ?p ?o }} }}").rows[0][0]
    rebuilt = EmbeddedStore(None)
    rebuilt.load_nquads(store.dump_nquads())  # type: ignore[attr-defined]
    summary.rebuild(rebuilt)
    again = rebuilt.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{summary.GRAPH}> {{ ?s ?p ?o }} }}").rows[0][0]
    assert int(items) == int(summaries) > 0
    assert int(triples) == int(again), "the summary written with the records is the one derived from the graphs"


def test_mtus_query_summarises_a_store_written_without_the_summary(tmp_path: Path) -> None:
    path = tmp_path / "store"
    store = EmbeddedStore(path)
    store.load_nquads(gzip.decompress(DATASET.read_bytes()))
    assert summary.ensure(store) is True
    assert summary.ensure(store) is False  # marked: not rebuilt again
    store.close()


def test_a_writer_summarises_an_old_store_before_it_adds_to_it(tmp_path: Path) -> None:
    """``mtus batch`` (and the service) store the rule base first: an old store's determinations
    get their summary then, before the new ones mark the summary graph as written."""
    store = EmbeddedStore(None)
    store.load_nquads(gzip.decompress(DATASET.read_bytes()))
    _, dataset = _dataset_records()
    records.put_rulebase(store, rulebase.get())
    records.put_cases(store, dataset[:2])  # stored again, the new way
    rows = querylib.run(store, querylib.resolve("determinations-by-rule-base-version-and-edition"), {}).rows
    assert [(str(r[1]).rsplit("/", 1)[-1], int(r[3]), int(r[4])) for r in rows] == [("mtus-2007", 1, 1), ("mtus-2009", 12, 14)]
