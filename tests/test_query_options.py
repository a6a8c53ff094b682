"""``mtus query --print-query``, ``--timeout``, ``--chart`` with chosen columns, and a parameter
value that is no known code (issue 13, part 4)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from reasoner import cli, querylib, rulebase
from reasoner.store import EmbeddedStore

DATASET = Path(__file__).parent / "data" / "analyst-dataset.nq.gz"
RATE = "overturn-rate-by-service-region-and-period"


def _store(folder: Path) -> Path:
    path = folder / "store"
    embedded = EmbeddedStore(path)
    embedded.load_nquads(gzip.decompress(DATASET.read_bytes()))
    embedded.close()
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _store(tmp_path_factory.mktemp("query-options"))


def test_print_query_binds_the_parameters_and_needs_no_store(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["query", RATE, "--param", "service=acupuncture", "--print-query"]) == 0
    text = capsys.readouterr().out
    assert "VALUES" in text and "<https://w3id.org/mtus/code/acupuncture>" in text
    assert '"1900-01-01"^^<http://www.w3.org/2001/XMLSchema#date>' in text  # the default, bound
    querylib.check_read_only(text, "printed")  # pastes into any SPARQL 1.1 UI as it is


def test_a_misspelt_code_is_an_error_naming_the_nearest(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["query", RATE, "--param", "service=acupunture", "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert "service=acupunture: not a known code" in err and "acupuncture" in err
    assert cli.main(["query", "how-many-decisions-each-criterion-decided", "--param", "section=cpmtg-2009-tpx",
                     "--print-query"]) == 2
    assert "cpmtg-2009-tpi" in capsys.readouterr().err


def test_a_query_past_its_timeout_is_stopped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = _store(tmp_path)  # its own: the stopped query's thread keeps the store open until it ends
    heavy = tmp_path / "heavy.rq"
    # about a second (millions of pairs): long enough to stop at 0.05 s, short enough to end soon after
    heavy.write_text("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?a { ?s a ?t } GRAPH ?b { ?x a ?y } }\n",
                     encoding="utf-8")
    assert cli.main(["query", str(heavy), "--store", str(store), "--timeout", "0.05"]) == 2
    assert "--timeout 0.05: the query ran longer" in capsys.readouterr().err


def test_the_chart_draws_a_count_named_by_a_label(store: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    backend = EmbeddedStore(store)
    try:
        result = querylib.run(backend, querylib.resolve(RATE), {}, rulebase.get())
    finally:
        backend.close()
    assert "year" in result.variables
    assert querylib.chart_columns(result.variables, result.values()) == ("decided", "service")  # not the year
    assert querylib.chart_columns(result.variables, result.values(), "overturn_percent", "region") == (
        "overturn_percent", "region")
    with pytest.raises(querylib.QueryError, match="not a number column"):
        querylib.chart_columns(result.variables, result.values(), "service")
    chart = tmp_path / "rate.png"
    assert cli.main(["query", RATE, "--store", str(store), "--chart", str(chart), "--chart-value", "overturned",
                     "--chart-label", "region"]) == 0
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli.main(["query", RATE, "--store", str(store), "--chart", str(chart), "--chart-value", "nope"]) == 2
    assert "no such column" in capsys.readouterr().err


def test_the_worked_query_of_the_analysts_guide_runs(store: Path, tmp_path: Path) -> None:
    import re

    guide = (Path(__file__).parents[1] / "docs" / "analysts.md").read_text(encoding="utf-8")
    summary_query, worked = re.findall(r"```sparql\n(.*?)```", guide, re.DOTALL)
    results = []
    for name, text in (("summary.rq", summary_query), ("not-documented.rq", worked)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        backend = EmbeddedStore(store)
        try:
            results.append(querylib.run(backend, querylib.resolve(str(path)), {}))
        finally:
            backend.close()
    counts, result = results
    assert counts.variables == ["service", "decided", "overturned"]
    assert counts.rows and all(row[1] >= row[2] for row in counts.values())
    assert result.variables == ["service", "criterion", "shortfall", "upheld_items"]
    assert result.rows and all(row[3] >= 1 for row in result.values())
