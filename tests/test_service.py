"""``mtus serve``: the HTTP API on a real server on 127.0.0.1 (tests/server.py)."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from reasoner import cli
from tests import casefiles
from tests.server import ROW_LIMIT, Server

SEED = casefiles.CASES / "seed" / "seed-imr-case.yaml"
ARTIFACTS = Path(__file__).parent / "artifacts"


def _same(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "generated_at"}


def _post(server: Server, body: bytes, media: str = "application/yaml", accept: str = "application/json",
          **params: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/evaluate", content=body, params=params, timeout=120,
                      headers={"Content-Type": media, "Accept": accept})


def test_the_seed_case_gets_the_json_of_mtus_evaluate(server: Server, tmp_path: Path) -> None:
    out = tmp_path / "seed.json"
    assert cli.main(["evaluate", str(SEED), "--format", "json", "--output", str(out)]) == 0
    (expected,) = json.loads(out.read_text(encoding="utf-8"))
    answer = _post(server, SEED.read_bytes())
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    assert _same(answer.json()) == _same(expected)


def test_a_case_as_json_and_as_turtle_is_decided_alike(server: Server) -> None:
    data = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    answer = _post(server, json.dumps(data, default=str).encode(), "application/json")
    assert answer.status_code == 200
    decisions = [i["decision"] for i in answer.json()["items"]]
    expected = [data["expected"][r]["decision"] for r in sorted(data["expected"], key=int)]
    assert decisions == expected  # the case file's expectations, from the IMR letter


def test_counterfactuals_by_a_query_flag(server: Server) -> None:
    answer = _post(server, SEED.read_bytes(), counterfactuals="true")
    assert answer.status_code == 200
    items = answer.json()["items"]
    assert all(i["counterfactuals"]["kind"] == "would_overturn" and i["counterfactuals"]["counterfactuals"]
               for i in items)  # the five upheld items of the seed case (tests/test_counterfactuals.py)
    assert all(s["verified"] for i in items for s in i["counterfactuals"]["counterfactuals"])


def test_a_bad_case_is_a_422_naming_the_field_and_the_nearest_code(server: Server) -> None:
    case = {"id": "x", "review_date": "2014-11-15", "requests": [{"id": "1", "service": "acupunture"}]}
    answer = _post(server, json.dumps(case).encode(), "application/json")
    assert answer.status_code == 422
    (problem,) = answer.json()["problems"]
    assert problem["path"] == "requests[0].service" and "acupuncture" in problem["suggestions"]


@pytest.mark.parametrize("media, body, status", [
    pytest.param("application/ld+json", b'{"@context": "https://example.org/ctx.jsonld", "id": "x"}', 422,
                 id="remote-context-refused"),
    pytest.param("application/xml", b"<case/>", 422, id="unknown-content-type"),
    pytest.param("application/json", b"[1, 2", 422, id="broken-json"),
    pytest.param("application/yaml", b"x" * 1_000_001, 413, id="too-large"),
])
def test_bodies_the_service_refuses(server: Server, media: str, body: bytes, status: int) -> None:
    assert _post(server, body, media).status_code == status


def test_the_letter_by_content_negotiation(server: Server) -> None:
    body = SEED.read_bytes()
    text = _post(server, body, accept="text/plain")
    assert text.status_code == 200 and "RECOMMENDED DETERMINATION" in text.text
    html = _post(server, body, accept="text/html")
    assert html.headers["content-type"].startswith("text/html")
    assert html.text.count('class="item decision-upheld"') == 5
    assert _post(server, body, accept="image/png").status_code == 406


def _weasyprint() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


@pytest.mark.skipif(not _weasyprint(), reason="WeasyPrint cannot load pango here: `make` installs it on Debian")
def test_the_pdf_letter_renders_to_pages(server: Server) -> None:
    import pypdfium2

    answer = _post(server, SEED.read_bytes(), accept="application/pdf")
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    document = pypdfium2.PdfDocument(answer.content)
    assert len(document) >= 2
    ARTIFACTS.mkdir(exist_ok=True)
    first = document[0].render(scale=1).to_pil()
    first.save(ARTIFACTS / "letter-pdf-page-1.png")
    colours = first.convert("L").getextrema()
    assert colours[0] < 60 and colours[1] > 200  # text on a page, not a blank image
    text = document[0].get_textpage().get_text_range()
    assert "RECOMMENDED DETERMINATION" in text and "ACUPUNCTURE" in text


def test_writing_needs_the_token(server: Server) -> None:
    assert _post(server, SEED.read_bytes(), store="true").status_code == 401
    cases = [yaml.safe_load(SEED.read_text(encoding="utf-8"))]
    body = json.dumps(cases, default=str)
    assert httpx.post(f"{server.url}/batch", content=body, timeout=30).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert httpx.post(f"{server.url}/batch", content=body, headers=wrong, timeout=30).status_code == 401


def _stored_batch(server: Server) -> dict[str, Any]:
    files = [SEED, *sorted(casefiles.CASES.rglob("*.yaml"))[:12]]
    cases = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in files]
    started = httpx.post(f"{server.url}/batch", content=json.dumps({"cases": cases}, default=str),
                         headers={**server.auth(), "Content-Type": "application/json"}, timeout=60)
    assert started.status_code == 202
    job = started.json()
    deadline = time.monotonic() + 300
    while True:
        status = httpx.get(f"{server.url}{job['status']}", headers=server.auth(), timeout=30).json()
        if status["state"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    results = httpx.get(f"{server.url}{job['results']}", headers=server.auth(), timeout=30).json()
    return {"status": status, "results": results, "cases": cases}


@pytest.fixture(scope="module")
def stored(server: Server) -> dict[str, Any]:
    return _stored_batch(server)


def test_a_batch_job_reports_progress_and_keeps_determinations(server: Server, stored: dict[str, Any]) -> None:
    status, results = stored["status"], stored["results"]
    assert status["state"] == "done" and status["done"] == status["total"] == len(stored["cases"])
    assert isinstance(results, list) and len(results) == len(stored["cases"])
    assert results[0]["case"] == "seed-imr-2014"
    iri = status["determinations"][0]
    graph = httpx.get(f"{server.url}/determinations/{iri.split('/determination/', 1)[1]}", timeout=30)
    assert graph.status_code == 200 and "mtus:Determination" in graph.text
    assert httpx.get(f"{server.url}/determinations/nothing/here", timeout=30).status_code == 404


def test_sparql_is_read_only_with_a_row_limit(server: Server, stored: dict[str, Any]) -> None:
    count = ("PREFIX mtus: <https://w3id.org/mtus/ontology#> SELECT (COUNT(?d) AS ?n) "
             "WHERE { GRAPH ?d { ?d a mtus:Determination } }")
    answer = httpx.get(f"{server.url}/sparql", params={"query": count}, timeout=30)
    assert answer.status_code == 200
    assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) >= 1
    as_csv = httpx.get(f"{server.url}/sparql", params={"query": count}, headers={"Accept": "text/csv"}, timeout=30)
    assert next(csv.reader(io.StringIO(as_csv.text))) == ["n"]
    many = httpx.post(f"{server.url}/sparql", content="SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
                      headers={"Content-Type": "application/sparql-query", "Accept": "text/tab-separated-values"},
                      timeout=30)
    assert many.status_code == 200 and many.headers.get("x-truncated") == "true"
    assert len(many.text.strip().splitlines()) == ROW_LIMIT + 1
    for refused in ("DELETE WHERE { GRAPH ?g { ?s ?p ?o } }", "DROP ALL",
                    "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
                    "CONSTRUCT WHERE { ?s ?p ?o }"):
        assert httpx.get(f"{server.url}/sparql", params={"query": refused}, timeout=30).status_code == 400
    update = httpx.post(f"{server.url}/sparql", data={"update": "DROP ALL"}, timeout=30)
    assert update.status_code == 400
    assert int(httpx.get(f"{server.url}/sparql", params={"query": count}, timeout=30)
               .json()["results"]["bindings"][0]["n"]["value"]) >= 1


def test_the_endpoint_stops_a_query_past_its_timeout() -> None:
    import pyoxigraph as ox

    from reasoner.service.sparql_endpoint import Endpoint, QueryTimeout

    store = ox.Store()
    for i in range(50):
        store.add(ox.Quad(ox.NamedNode(f"http://x/{i}"), ox.NamedNode("http://x/p"), ox.Literal(str(i))))
    with pytest.raises(QueryTimeout):
        Endpoint(store, timeout=0.0, row_limit=10).run("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }")


def test_named_queries_with_typed_parameters(server: Server, stored: dict[str, Any]) -> None:
    listed = httpx.get(f"{server.url}/queries", timeout=30).json()
    assert "overturn-rate-by-service-region-and-period" in {q["name"] for q in listed}
    answer = httpx.get(f"{server.url}/queries/overturn-rate-by-service-region-and-period", timeout=30)
    assert answer.status_code == 200 and answer.json()["rows"]
    misspelt = httpx.get(f"{server.url}/queries/overturn-rate-by-service-region-and-period",
                         params={"service": "acupunture"}, timeout=30)
    assert misspelt.status_code == 400 and "acupuncture" in misspelt.text


def test_sections_with_thresholds_by_date(server: Server) -> None:
    sections = httpx.get(f"{server.url}/sections", timeout=30).json()
    assert {"acupuncture-2009", "cpmtg-2009-tpi"} <= {s["id"] for s in sections}
    tpi = httpx.get(f"{server.url}/sections/cpmtg-2009-tpi", params={"date": "2014-11-15"}, timeout=30).json()
    assert tpi["as_of"] == "2014-11-15" and tpi["criteria"] and tpi["thresholds"]
    assert all(c["test_cases"] for c in tpi["criteria"])
    assert httpx.get(f"{server.url}/sections/nope", timeout=30).status_code == 404
    assert httpx.get(f"{server.url}/sections/cpmtg-2009-tpi", params={"date": "soon"}, timeout=30).status_code == 422


def test_the_schemas_and_the_openapi_are_published(server: Server) -> None:
    spec = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    assert {"/evaluate", "/batch", "/sparql", "/sections/{section_id}", "/queries/{name}"} <= set(spec["paths"])
    assert {"Case", "Determination"} <= set(spec["components"]["schemas"])
    case = httpx.get(f"{server.url}/schemas/case.schema.json", timeout=30).json()
    assert case["$id"].endswith("case.schema.json")


def test_the_log_holds_no_case_content(server: Server, stored: dict[str, Any]) -> None:
    _post(server, SEED.read_bytes())
    log = server.log_text()
    assert "POST /evaluate -> 200" in log
    seed = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    for secret in (seed["id"], seed["requests"][0]["ur"]["guideline_cited"], "acupuncture", "lumbar"):
        assert secret not in log


def test_the_analysts_page_counts_what_was_stored_since_its_last_query(server: Server, stored: dict[str, Any]) -> None:
    """The batch job wrote determinations after any tally was computed: the page recomputes it
    (store/tally.py) before it runs a counting query, so its counts are the store's."""
    def number(query: str) -> int:
        answer = httpx.get(f"{server.url}/sparql", params={"query": query}, timeout=30).json()
        return int(answer["results"]["bindings"][0]["n"]["value"])

    page = httpx.get(f"{server.url}/analysts/query/determinations-by-rule-base-version-and-edition", timeout=120)
    assert page.status_code == 200
    determinations = number("PREFIX mtus: <https://w3id.org/mtus/ontology#> SELECT (COUNT(?d) AS ?n) "
                            "WHERE { GRAPH ?d { ?d a mtus:Determination } }")
    tallied = number("PREFIX mtus: <https://w3id.org/mtus/ontology#> SELECT (SUM(?c) AS ?n) WHERE { GRAPH "
                     "<https://w3id.org/mtus/store/tally> { ?row mtus:determinationCount ?c } }")
    assert tallied == determinations >= len(stored["cases"])
