"""``mtus serve``: the HTTP service (FastAPI) and the web UI, one process.

Routes (OpenAPI at /openapi.json): POST /evaluate, POST /batch and GET /batch/{job} (+ /results),
GET /determinations/{id}, GET /sections, GET /sections/{id}, GET /queries, GET /queries/{name},
GET|POST /sparql (read-only SPARQL 1.1 Protocol), GET /schemas/{name}; the UI under /, /explorer,
/analysts. Limits: body sizes, a bearer token for the routes that write (POST /batch, storing an
evaluation), SPARQL timeout and row limit. The access log has method, route template, status and
time only: no path parameters, no query string, no body.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from .. import __version__, batch, caseformat, querylib, rulebase, schemas
from ..errors import IntakeError, MtusError, Problem
from ..letter_html import PdfUnavailable
from ..namespaces import DETERMINATION, PREFIXES
from ..querylib import QueryError
from ..rulebase import RuleBase
from ..store import EmbeddedStore, records, tally
from . import cases, guideline, openapi, ui
from .jobs import Jobs
from .sparql_endpoint import MEDIA, Answer, Endpoint, QueryTimeout, negotiate, serialise

log = logging.getLogger("mtus.service")


@dataclass(frozen=True)
class Settings:
    token: str
    store: Path | None = None  # None: an in-memory store
    max_case_bytes: int = 1_000_000
    max_batch_bytes: int = 20_000_000
    max_batch_cases: int = 5_000
    sparql_timeout: float = 10.0
    row_limit: int = 10_000


class Service:
    """What the routes share: rule base, store, endpoint, jobs."""

    def __init__(self, settings: Settings, rb: RuleBase) -> None:
        self.settings = settings
        self.rb = rb
        self.store = EmbeddedStore(settings.store)
        self.store_lock = threading.Lock()
        records.put_rulebase(self.store, rb)
        self.endpoint = Endpoint(self.store.oxigraph, settings.sparql_timeout, settings.row_limit)
        self.jobs = Jobs(rb, self.store, self.store_lock)

    def run_named(self, bound: str) -> Answer:
        """A named query's bound text through the endpoint, the tally recomputed first if the
        store was written since it was computed (store/tally.py: counts as of the last write)."""
        with self.store_lock:
            tally.ensure(self.store)
        return self.endpoint.run(bound)


def _problem_response(status: int, problems: list[Problem], title: str) -> JSONResponse:
    return JSONResponse({"title": title, "problems": [{"path": p.path, "message": p.message,
                                                       "suggestions": list(p.suggestions)} for p in problems]},
                        status_code=status)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"the body is larger than {limit} bytes")
    return bytes(body)


_bearer = HTTPBearer(auto_error=False, description="the service's token (mtus serve --token, or MTUS_SERVICE_TOKEN)")


def create_app(settings: Settings, rb: RuleBase | None = None) -> FastAPI:
    rb = rb or rulebase.get()
    service = Service(settings, rb)
    app = FastAPI(title="MTUS reasoner", version=__version__, docs_url=None, redoc_url=None,
                  description="California MTUS determinations from the encoded guideline: evaluate cases, "
                              "browse the guideline, query stored determinations (read-only SPARQL).")
    app.state.service = service

    def require_token(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:  # noqa: B008
        given = credentials.credentials if credentials is not None else ""
        if not secrets.compare_digest(given.encode(), settings.token.encode()):
            raise HTTPException(401, "this route needs the service's token (Authorization: Bearer TOKEN)",
                                headers={"WWW-Authenticate": "Bearer"})

    @app.middleware("http")
    async def access_log(request: Request, call_next: Any) -> Response:
        start = time.perf_counter()
        try:
            response: Response = await call_next(request)
        except Exception as exc:  # noqa: BLE001 (logged by type and place only: the case stays out of logs)
            where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            place = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
            log.error("%s %s -> 500 (%s%s)", request.method, _route(request), type(exc).__name__, place)
            return JSONResponse({"title": "internal error"}, status_code=500)
        log.info("%s %s -> %d (%.1f ms)", request.method, _route(request), response.status_code,
                 (time.perf_counter() - start) * 1000)
        return response

    @app.exception_handler(IntakeError)
    async def intake_error(request: Request, exc: IntakeError) -> JSONResponse:
        return _problem_response(422, exc.problems, "the case cannot be evaluated")

    @app.exception_handler(QueryError)
    async def query_error(request: Request, exc: QueryError) -> JSONResponse:
        return _problem_response(400, [Problem("query", str(exc))], "the query cannot be run")

    @app.exception_handler(QueryTimeout)
    async def query_timeout(request: Request, exc: QueryTimeout) -> JSONResponse:
        return _problem_response(503, [Problem("query", str(exc))], "the query was stopped")

    @app.exception_handler(PdfUnavailable)
    async def pdf_unavailable(request: Request, exc: PdfUnavailable) -> JSONResponse:
        return _problem_response(501, [Problem("Accept", str(exc))], "no PDF renderer here")

    @app.exception_handler(MtusError)
    async def mtus_error(request: Request, exc: MtusError) -> JSONResponse:
        return _problem_response(500, [Problem("(service)", type(exc).__name__)], "the rule base failed")

    # --- evaluation ------------------------------------------------------------------------

    @app.post("/evaluate", tags=["evaluate"], openapi_extra=openapi.evaluate_body(),
              summary="Evaluate one case: the determination (JSON) or its letter (text, Markdown, HTML, PDF)",
              responses=openapi.evaluate_responses())
    async def evaluate(request: Request, format: str | None = None, store: bool = False,
                       counterfactuals: bool = False) -> Response:
        output = cases.output_of(request.headers.get("accept"), format)
        if output is None:
            raise HTTPException(406, f"format: expected one of {', '.join(cases.OUTPUTS)} (or an Accept of "
                                     f"{', '.join(sorted(set(cases.OUTPUTS.values())))})")
        if store:
            require_token(await _bearer(request))
        suffix = cases.suffix_of(request.headers.get("content-type"))
        body = await read_body(request, settings.max_case_bytes)
        det = await run_in_threadpool(cases.evaluate_bytes, body, suffix, rb, counterfactuals)
        if store:
            record = batch.record_of(det, await run_in_threadpool(_intake, body, suffix, rb), rb, "(service)")
            with service.store_lock:
                records.put_case(service.store, record)
        rendered = await run_in_threadpool(cases.render, [det], output, True)
        return Response(rendered.body, media_type=rendered.media_type)

    @app.post("/batch", tags=["evaluate"], status_code=202, dependencies=[Depends(require_token)],
              summary="Start a job evaluating many cases (case-format JSON), kept in the store",
              openapi_extra=openapi.batch_body())
    async def start_batch(request: Request) -> JSONResponse:
        body = await read_body(request, settings.max_batch_bytes)
        # the case format's reader: duplicate fields, NaN, nesting refused; no value quoted
        data = caseformat.parse(body, ".json", "(request)", max_bytes=settings.max_batch_bytes)
        items = data.get("cases") if isinstance(data, dict) else data
        if not isinstance(items, list) or not all(isinstance(c, dict) for c in items) or not items:
            raise IntakeError("(request)", [Problem("cases", "expected a non-empty list of cases (objects in the "
                                                    "case format), or {\"cases\": [...]}")])
        if len(items) > settings.max_batch_cases:
            raise HTTPException(413, f"at most {settings.max_batch_cases} cases per job")
        job = service.jobs.start(items)
        return JSONResponse({"job": job.id, "status": f"/batch/{job.id}", "results": f"/batch/{job.id}/results",
                             "total": job.total}, status_code=202)

    @app.get("/batch/{job_id}", tags=["evaluate"], summary="A job's progress", dependencies=[Depends(require_token)])
    def batch_status(job_id: str) -> dict[str, Any]:
        job = service.jobs.get(job_id)
        if job is None:
            raise HTTPException(404, "no such job")
        return job.status()

    @app.get("/batch/{job_id}/results", tags=["evaluate"], dependencies=[Depends(require_token)],
             summary="A job's determinations, a list in the order of its cases (null for a case in error)")
    def batch_results(job_id: str) -> JSONResponse:
        job = service.jobs.get(job_id)
        if job is None:
            raise HTTPException(404, "no such job")
        if job.state in ("queued", "running"):
            return JSONResponse(job.status(), status_code=202)
        return JSONResponse(job.results)

    @app.get("/determinations/{determination_id:path}", tags=["store"],
             summary="A stored determination as RDF (Turtle, N-Triples or JSON-LD by Accept)",
             responses={200: {"content": {"text/turtle": {}, "application/n-triples": {}, "application/ld+json": {}}}})
    def determination(determination_id: str, request: Request) -> Response:
        if not re.fullmatch(r"[A-Za-z0-9._~%\-]+(/[A-Za-z0-9._~%\-]+)*", determination_id):
            raise HTTPException(404, "no such determination")
        data = service.store.graph_ntriples(f"{DETERMINATION}{determination_id}")
        if not data:
            raise HTTPException(404, "no such determination")
        accept = request.headers.get("accept", "")
        if "application/n-triples" in accept:
            return Response(data, media_type="application/n-triples")
        from rdflib import Graph

        graph = Graph().parse(data=data.decode("utf-8"), format="nt")
        for prefix, ns in PREFIXES.items():
            graph.bind(prefix, ns)
        if "application/ld+json" in accept:
            return Response(graph.serialize(format="json-ld"), media_type="application/ld+json")
        return Response(graph.serialize(format="turtle"), media_type="text/turtle; charset=utf-8")

    # --- the guideline ---------------------------------------------------------------------

    @app.get("/sections", tags=["guideline"], summary="The encoded guideline sections")
    def list_sections() -> list[dict[str, Any]]:
        return guideline.sections(rb)

    @app.get("/sections/{section_id}", tags=["guideline"],
             summary="One section: criteria, thresholds in force on `date` and over time, citations, confirmation")
    def one_section(section_id: str, date: str | None = None) -> dict[str, Any]:
        day = _date(date)
        data = guideline.section(rb, section_id, day)
        if data is None:
            raise HTTPException(404, "no such section (GET /sections lists them)")
        return data

    # --- queries ---------------------------------------------------------------------------

    @app.get("/queries", tags=["queries"], summary="The analysts' named queries and their parameters")
    def list_queries() -> list[dict[str, Any]]:
        return [openapi.query_info(q) for q in querylib.library().values()]

    @app.get("/queries/{name}", tags=["queries"],
             summary="Run a named query; parameters as query parameters (typed as the query says)")
    def run_query(name: str, request: Request, format: str | None = None) -> Response:
        queries = querylib.library()
        if name not in queries:
            raise HTTPException(404, "no such query (GET /queries lists them)")
        query = queries[name]
        given = {k: v for k, v in request.query_params.items() if k != "format"}
        bound = querylib.bound_text(query, given, rb)
        answer = service.run_named(bound)
        fmt = negotiate(request.headers.get("accept"), format)
        if fmt == "json" and (format == "json" or "sparql-results" not in request.headers.get("accept", "")):
            rows = [{v: (t.value if t is not None else None) for v, t in zip(answer.variables, row, strict=True)}
                    for row in answer.rows]
            return JSONResponse({"query": name, "title": query.title, "variables": answer.variables, "rows": rows,
                                 "boolean": answer.boolean, "truncated": answer.truncated, "text": bound})
        return Response(serialise(answer, fmt), media_type=MEDIA[fmt])

    # --- SPARQL 1.1 Protocol ---------------------------------------------------------------

    @app.get("/sparql", tags=["sparql"], summary="SPARQL 1.1 query (read-only: SELECT and ASK; no SERVICE)",
             responses=openapi.sparql_responses())
    def sparql_get(query: str, request: Request, format: str | None = None) -> Response:
        return _sparql(query, request.headers.get("accept"), format)

    @app.post("/sparql", tags=["sparql"], summary="SPARQL 1.1 query by POST (form or application/sparql-query)",
              openapi_extra=openapi.sparql_body(), responses=openapi.sparql_responses())
    async def sparql_post(request: Request, format: str | None = None) -> Response:
        body = await read_body(request, 100_000)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == "application/sparql-query":
            text = body.decode("utf-8", errors="replace")
        elif media == "application/x-www-form-urlencoded":
            from urllib.parse import parse_qs

            form = parse_qs(body.decode("utf-8", errors="replace"))
            if "update" in form:
                raise QueryError("updates are refused: this endpoint is read-only")
            if not form.get("query"):
                raise QueryError("expected a form field 'query'")
            text = form["query"][0]
        else:
            raise HTTPException(415, "expected application/sparql-query or application/x-www-form-urlencoded")
        return await run_in_threadpool(_sparql, text, request.headers.get("accept"), format)

    def _sparql(text: str, accept: str | None, requested: str | None) -> Response:
        answer = service.endpoint.run(text)
        fmt = negotiate(accept, requested)
        headers = {"X-Truncated": "true"} if answer.truncated else {}
        return Response(serialise(answer, fmt), media_type=MEDIA[fmt], headers=headers)

    # --- schemas and health ----------------------------------------------------------------

    @app.get("/schemas/{name}", tags=["schemas"], summary="The JSON Schemas: case.schema.json, determination.schema.json")
    def schema(name: str) -> JSONResponse:
        if name not in schemas.FILES:
            raise HTTPException(404, f"expected one of {', '.join(schemas.FILES)}")
        return JSONResponse(schemas.load(name.split(".")[0]), media_type="application/schema+json")

    @app.get("/health", tags=["schemas"], summary="Liveness, versions")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "rulebase_version": rb.version,
                "rulebase_digest": rb.digest}

    ui.add_routes(app, service)
    from . import fhir_routes

    fhir_routes.add_routes(app, service, read_body)
    app.openapi = openapi.customised(app)  # type: ignore[method-assign]
    return app


def _route(request: Request) -> str:
    """The route's template (``/determinations/{determination_id}``), never the path itself: a
    path may carry a case id."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "(no route)"))


def _intake(body: bytes, suffix: str, rb: RuleBase) -> Any:
    from .. import intake

    with cases.case_file(body, suffix) as path:
        return intake.read(path, rb)


def _date(text: str | None) -> Any:
    import datetime as dt

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise HTTPException(422, "date: expected YYYY-MM-DD") from None
