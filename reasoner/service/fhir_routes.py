"""The FHIR routes of the service (reasoner/fhir): ``POST /fhir/evaluate`` and
``POST /fhir/questionnaire``. Bodies are JSON (``application/fhir+json`` or ``application/json``):
a FHIR R4 Bundle of the case's resources, or a case in the case format; ``/fhir/evaluate`` also
takes a FHIR ``Parameters`` with a ``case`` (a Bundle) and ``answers`` (a QuestionnaireResponse to
the case's Questionnaire). Answers are FHIR JSON (``application/fhir+json``); a bad body is a 422
with one problem per path, as ``POST /evaluate``."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ..errors import IntakeError, Problem

FHIR_JSON = "application/fhir+json"


def _parameters(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The case and the answers of a Parameters body."""
    found: dict[str, Any] = {}
    listed = body.get("parameter")
    if not isinstance(listed, list):
        raise IntakeError("(body)", [Problem("parameter", "expected a list of parameters (case, answers)")])
    for i, parameter in enumerate(listed):
        name = parameter.get("name") if isinstance(parameter, dict) else None
        if name not in ("case", "answers") or not isinstance(parameter.get("resource"), dict):
            raise IntakeError("(body)", [Problem(f"parameter[{i}]", "expected a parameter named case (a Bundle) "
                                                 "or answers (a QuestionnaireResponse), with a resource")])
        found[name] = parameter["resource"]
    if "case" not in found:
        raise IntakeError("(body)", [Problem("parameter", "expected a parameter named case (a Bundle)")])
    return found["case"], found.get("answers")


def add_routes(app: FastAPI, service: Any, read_body: Any) -> None:
    from .. import engines
    from ..fhir import complete_case, determination_bundle, load_case, questionnaire

    rb = service.rb
    limit = service.settings.max_case_bytes

    async def _json(request: Request) -> dict[str, Any]:
        body = await read_body(request, limit)
        try:
            data = json.loads(body)
        except ValueError:
            raise IntakeError("(body)", [Problem("(body)", "expected JSON: a FHIR Bundle, Parameters or a case")]) from None
        if not isinstance(data, dict):
            raise IntakeError("(body)", [Problem("(top level)", "expected a JSON object")])
        return data

    def _evaluate(data: dict[str, Any]) -> dict[str, Any]:
        answers = None
        if data.get("resourceType") == "Parameters":
            data, answers = _parameters(data)
        case = load_case(data, rb)
        if answers is not None:
            case, _ = complete_case(case, answers, rb)
        det = engines.evaluate(case, rb)
        return determination_bundle([det], rb)

    @app.post("/fhir/evaluate", tags=["fhir"],
              summary="Decide a case given as a FHIR Bundle (or a case, or Parameters case + answers): "
                      "a Bundle of its ClaimResponse and Provenance")
    async def fhir_evaluate(request: Request) -> JSONResponse:
        data = await _json(request)
        return JSONResponse(await run_in_threadpool(_evaluate, data), media_type=FHIR_JSON)

    @app.post("/fhir/questionnaire", tags=["fhir"],
              summary="The documentation a case lacks, as a FHIR Questionnaire (case as a Bundle or a case)")
    async def fhir_questionnaire(request: Request) -> JSONResponse:
        data = await _json(request)
        if data.get("resourceType") not in (None, "Bundle"):
            raise IntakeError("(body)", [Problem("resourceType", "expected a FHIR Bundle or a case in the case format")])
        return JSONResponse(await run_in_threadpool(questionnaire, data, rb), media_type=FHIR_JSON)
