"""The web UI, served by the same process: server-rendered pages (jinja2) with a small script,
no build step. Evaluate a case (paste, upload or the example) and read the determination as the
letter with each criterion's state and evidence, as HTML or PDF; the guideline explorer (sections
by document and period, criteria with text, source, thresholds over time, confirmation, test
cases); the analysts' page (named queries with their parameters, results as a table and a bar
chart, and a SPARQL editor over the read-only endpoint)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from .. import __version__, letter_html, querylib
from ..errors import IntakeError
from ..querylib import QueryError
from . import cases, guideline
from .sparql_endpoint import QueryTimeout

if TYPE_CHECKING:
    from .app import Service

HERE = Path(__file__).parent
TYPES = {"yaml": "application/yaml", "json": "application/json", "jsonld": "application/ld+json",
         "turtle": "text/turtle"}


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(("html",)),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["version"] = __version__
    return env


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env().get_template(name).render(**context), status_code=status)


def bar_chart(labels: list[str], values: list[float], width: int = 640) -> dict[str, Any]:
    """The geometry of a horizontal bar chart (drawn as SVG by the template)."""
    top = max(values) if values and max(values) > 0 else 1.0
    bar, gap, left = 18, 6, 220
    bars = [{"label": label[:40], "value": value, "y": i * (bar + gap), "w": max(1.0, (width - left - 60) * value / top)}
            for i, (label, value) in enumerate(zip(labels, values, strict=True))]
    return {"bars": bars, "height": len(bars) * (bar + gap) + 4, "width": width, "left": left, "bar": bar}


_NUMBERS = {"http://www.w3.org/2001/XMLSchema#" + t for t in ("integer", "decimal", "double", "float", "long", "int")}


def _python(term: Any) -> Any:
    """A result term for a table cell and the chart: numbers as numbers, the rest as text."""
    if term is None:
        return None
    datatype = getattr(term, "datatype", None)
    if datatype is not None and datatype.value in _NUMBERS:
        try:
            return int(term.value) if datatype.value.endswith(("integer", "long", "int")) else float(term.value)
        except ValueError:
            return term.value
    return term.value


def _example(root: Path) -> str | None:
    path = root / "examples" / "seed-imr-case.yaml"
    return path.read_text(encoding="utf-8") if path.is_file() else None


async def _form(request: Request, limit: int) -> dict[str, str]:
    from .app import read_body

    body = await read_body(request, limit)
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


def add_routes(app: FastAPI, service: Service) -> None:
    rb = service.rb
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> HTMLResponse:
        return page("evaluate.html", active="evaluate", case_text="", case_type="yaml",
                    has_example=_example(rb.root) is not None)

    @app.get("/ui/example", response_class=PlainTextResponse, include_in_schema=False)
    def example() -> PlainTextResponse:
        text = _example(rb.root)
        if text is None:
            raise HTTPException(404, "no example in this installation")
        return PlainTextResponse(text)

    async def _evaluated(request: Request) -> tuple[dict[str, str], Any, list[Any]]:
        form = await _form(request, service.settings.max_case_bytes * 2)
        case_type = form.get("type", "yaml") if form.get("type") in TYPES else "yaml"
        text = form.get("case", "")
        try:
            suffix = cases.suffix_of(TYPES[case_type])
            det = await run_in_threadpool(cases.evaluate_bytes, text.encode("utf-8"), suffix, rb)
            return form, det, []
        except IntakeError as exc:
            return form, None, list(exc.problems)

    @app.post("/ui/evaluate", response_class=HTMLResponse, include_in_schema=False)
    async def ui_evaluate(request: Request) -> HTMLResponse:
        form, det, problems = await _evaluated(request)
        return page("evaluate.html", active="evaluate", case_text=form.get("case", ""),
                    case_type=form.get("type", "yaml"), has_example=_example(rb.root) is not None,
                    problems=problems, det=det.to_dict() if det else None,
                    letter=letter_html.html([det], standalone=False) if det else None,
                    status=422 if problems else 200)

    @app.post("/ui/letter", include_in_schema=False)
    async def ui_letter(request: Request) -> Response:
        form, det, problems = await _evaluated(request)
        if det is None:
            return page("evaluate.html", status=422, active="evaluate", case_text=form.get("case", ""),
                        case_type=form.get("type", "yaml"), problems=problems, has_example=False)
        output = "pdf" if form.get("format") == "pdf" else "html"
        rendered = await run_in_threadpool(cases.render, [det], output, True)
        headers = {"Content-Disposition": f'inline; filename="determination-{det.case_id}.pdf"'} if output == "pdf" else {}
        return Response(rendered.body, media_type=rendered.media_type, headers=headers)

    @app.get("/explorer", response_class=HTMLResponse, include_in_schema=False)
    def explorer() -> HTMLResponse:
        documents: dict[str, list[dict[str, Any]]] = {}
        for section in guideline.sections(rb):
            documents.setdefault(section["document"], []).append(section)
        return page("explorer.html", active="explorer", documents=documents, editions=guideline.editions(rb))

    @app.get("/explorer/{section_id}", response_class=HTMLResponse, include_in_schema=False)
    def explorer_section(section_id: str, date: str | None = None) -> HTMLResponse:
        day = None
        if date:
            try:
                day = dt.date.fromisoformat(date)
            except ValueError:
                raise HTTPException(422, "date: expected YYYY-MM-DD") from None
        data = guideline.section(rb, section_id, day)
        if data is None:
            raise HTTPException(404, "no such section")
        return page("section.html", active="explorer", s=data)

    @app.get("/analysts", response_class=HTMLResponse, include_in_schema=False)
    def analysts() -> HTMLResponse:
        return page("analysts.html", active="analysts", queries=list(querylib.library().values()))

    @app.get("/analysts/query/{name}", response_class=HTMLResponse, include_in_schema=False)
    def analysts_query(name: str, request: Request) -> HTMLResponse:
        queries = querylib.library()
        if name not in queries:
            raise HTTPException(404, "no such query")
        query = queries[name]
        params = {k: v for k, v in request.query_params.items() if k not in ("value", "label") and v != ""}
        context: dict[str, Any] = {"active": "analysts", "q": query, "given": params, "error": None}
        try:
            bound = querylib.bound_text(query, params, rb)
            answer = service.run_named(bound)
        except (QueryError, QueryTimeout) as exc:
            context["error"] = str(exc)
            return page("query.html", status=400, **context)
        rows = [[_python(t) for t in row] for row in answer.rows]
        try:
            value, label = querylib.chart_columns(answer.variables, rows, request.query_params.get("value"),
                                                  request.query_params.get("label"))
        except QueryError as exc:
            context["error"] = str(exc)
            return page("query.html", status=400, **context)
        chart = None
        if value is not None and label is not None and rows:
            vi, li = answer.variables.index(value), answer.variables.index(label)
            chart = bar_chart([querylib.short(r[li]) for r in rows][:60], [float(r[vi] or 0) for r in rows][:60])
        context.update(variables=answer.variables, rows=rows, text=bound, truncated=answer.truncated,
                       chart=chart, value=value, label=label, boolean=answer.boolean)
        return page("query.html", **context)
