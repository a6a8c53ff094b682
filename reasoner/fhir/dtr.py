"""The missing documentation as a FHIR R4 Questionnaire (the Da Vinci DTR shape), and a
QuestionnaireResponse read back into the case.

One question per not-documented criterion of an upheld item (grouped by request; an Alternatives
criterion is a group of its not-documented branches): linkId ``<request>:<criterion>`` (the local
name of the criterion's IRI, which is the item's ``definition``), text the criterion's
documentation_needed (kb/), answer type and options from its support shapes
(reasoner/fhir/questions.py), initial values from what the case already has. A criterion that
needs two kinds of fact (a date and a failed treatment) is a group of two questions
(``<request>:<criterion>:<n>``).

A not-met criterion whose support shapes give answerable questions is asked too, as in Da Vinci
DTR the provider may amend what the record pre-fills: its text says the record's current answer
is shown (kb/ wording), its initial values are what the record documents present, and a finding
the record documents absent is named in the question's text. An answer that documents a finding
present replaces the record's absence of it (reasoner/fhir/questions.py, ``apply``).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from rdflib import URIRef

from ..decisions import NOT_DOCUMENTED, NOT_MET, UPHELD, CriterionResult
from ..determination import Determination
from ..errors import IntakeError, Problem
from ..namespaces import MTUS
from ..rulebase import RuleBase
from ..texts import Texts
from . import questions
from .codemap import CODE, PROJECT_SYSTEM

BASE = "https://w3id.org/mtus/fhir/Questionnaire/"
_ANSWER_KEYS = {"choice": "valueCoding", "boolean": "valueBoolean", "date": "valueDate",
                "decimal": "valueDecimal", "integer": "valueInteger", "string": "valueString"}


@dataclass
class Spec:
    """The questions of a case's Questionnaire by linkId, with the request each belongs to."""

    questions: dict[str, tuple[str, questions.Question]] = field(default_factory=dict)


def _instant(moment: Any) -> str:
    """A FHIR instant in UTC as the models write it back (``...Z``)."""
    return str(moment.isoformat()).replace("+00:00", "Z")


def resource_id(text: str) -> str:
    """A FHIR id from a case id (letters, digits, '-' and '.', at most 64)."""
    return (re.sub(r"[^A-Za-z0-9\-.]", "-", text) or "case")[:64]


def _texts(rb: RuleBase) -> Texts:
    return Texts(rb.kb, rb.closure, rb.catalog.writer)


def _label(texts: Texts, code: str) -> str:
    return texts.label(URIRef(CODE + code)) or code


def _initial(case: dict[str, Any], request: dict[str, Any], q: questions.Question) -> list[Any]:
    """What the case already has for the question (any region: the reviewer sees it)."""
    if q.context == "finding":
        have = {f.get("code") for f in case.get("findings") or [] if f.get("present", True) is not False}
        return [c for c in q.options if c in have]
    if q.context == "treatment":
        have = {t.get("service") for t in case.get("treatments") or []} | {
            t.get("drug") for t in case.get("treatments") or []}
        return [c for c in q.options if c in have]
    if q.context == "diagnosis":
        region = request.get("region")
        dates = [str(d["since"]) for d in case.get("diagnoses") or [] if d.get("since") and d.get("region") == region]
        injury = case.get("injury") or {}
        if injury.get("date") and region in (injury.get("body_regions") or []):
            dates.append(str(injury["date"]))
        return sorted(dates)[:1]
    if q.context == "request" and q.field and request.get(q.field) is not None:
        return [request[q.field]]
    return []


def _absent(case: dict[str, Any], q: questions.Question) -> list[str]:
    """The options of a finding question that the record documents absent."""
    if q.context != "finding":
        return []
    have = {(f.get("code"), f.get("source")) for f in case.get("findings") or [] if f.get("present", True) is False}
    return [c for c in q.options if (c, None) in have or (c, q.sources.get(c)) in have]


def _question_item(link: str, text: str, q: questions.Question, definition: str, initial: list[Any],
                   texts: Texts) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": link, "definition": definition, "text": text, "type": q.answer_type}
    if q.answer_type == "choice":
        item["repeats"] = True
        item["answerOption"] = [{"valueCoding": {"system": PROJECT_SYSTEM, "code": c, "display": _label(texts, c)}}
                                for c in q.options]
        if initial:
            item["initial"] = [{"valueCoding": {"system": PROJECT_SYSTEM, "code": c, "display": _label(texts, c)}}
                               for c in initial]
    elif initial:
        item["initial"] = [{_ANSWER_KEYS[q.answer_type]: str(v) if q.answer_type == "date" else v}
                           for v in initial[:1]]
    return item


def _criterion_items(result: CriterionResult, rid: str, reader: questions.Reader, case: dict[str, Any],
                     request: dict[str, Any], texts: Texts, spec: Spec) -> dict[str, Any] | None:
    crit = result.criterion
    link = f"{rid}:{crit.iri.split('/')[-1]}"
    needed = crit.documentation_needed or crit.statement
    amend = result.status == NOT_MET  # the record answers it: its answer is shown, to be amended
    if result.branches:
        children = [c for b in result.branches if b.status in (NOT_DOCUMENTED, NOT_MET)
                    for c in [_criterion_items(b, rid, reader, case, request, texts, spec)] if c is not None]
        if not children:
            return None
        return {"linkId": link, "definition": str(crit.iri), "type": "group",
                "text": texts("fhir-alternatives", needed=needed), "item": children}
    qs = [q for shape in crit.shapes.get(MTUS.Support, ()) for q in reader.questions(shape)]
    qs = questions.merge(qs) or [questions.Question("none", "string", mapped=False)]
    if amend and not any(q.mapped for q in qs):
        return None  # not documentable in the case format: nothing the provider could amend
    if amend:
        needed = texts("fhir-amend", needed=needed)
    for q in qs:  # the shapes' graph has no order: sorted, so that linkIds are the same every run
        q.options.sort()
    qs.sort(key=lambda q: (q.context, q.answer_type, q.field or "", q.options))

    def text_of(q: questions.Question, text: str) -> str:
        absent = _absent(case, q)
        if not absent:
            return text
        return texts("fhir-documented-absent", text=text, findings=", ".join(_label(texts, c) for c in absent))

    if len(qs) == 1:
        spec.questions[link] = (rid, qs[0])
        return _question_item(link, text_of(qs[0], needed), qs[0], str(crit.iri),
                              _initial(case, request, qs[0]), texts)
    children = []
    for k, q in enumerate(qs, 1):
        sub = f"{link}:{k}"
        spec.questions[sub] = (rid, q)
        field_label = (q.field or "").replace("_", " ")
        if not q.mapped:
            text = texts("fhir-question-free")
        elif q.context == "finding" and len(set(q.sources.values())) == 1:
            text = texts("fhir-question-finding-source", source=_label(texts, next(iter(q.sources.values()))))
        else:
            text = texts(f"fhir-question-{q.context}", field=field_label)
        children.append(_question_item(sub, text_of(q, text), q, str(crit.iri), _initial(case, request, q), texts))
    return {"linkId": link, "definition": str(crit.iri), "type": "group", "text": needed, "item": children}


def build(det: Determination, case: dict[str, Any], rb: RuleBase) -> tuple[dict[str, Any], Spec]:
    """The Questionnaire of a decided case (JSON data) and the spec that reads its answers."""
    texts = _texts(rb)
    reader = questions.Reader(rb)
    questions.load_drugs(rb)
    spec = Spec()
    groups = []
    requests = {str(r.get("id")): r for r in case.get("requests") or []}
    for item in det.items:
        if item.decision != UPHELD:
            continue
        request = requests.get(item.request_id, {})
        children = [c for r in item.criteria if r.status in (NOT_DOCUMENTED, NOT_MET)
                    for c in [_criterion_items(r, item.request_id, reader, case, request, texts, spec)]
                    if c is not None]
        if children:
            groups.append({"linkId": f"request-{item.request_id}", "type": "group",
                           "text": texts("fhir-request-group", request=item.request_id, item=item.item_label),
                           "item": children})
    ident = resource_id(det.case_id)
    questionnaire = {
        "resourceType": "Questionnaire", "id": f"{ident}-documentation", "url": f"{BASE}{ident}",
        "version": det.rulebase_version, "status": "active", "subjectType": ["Patient"],
        "date": _instant(det.generated_at), "title": texts("fhir-questionnaire-title", case=det.case_id),
        "item": groups,
    }
    return questionnaire, spec


def _answers(items: list[Any], path: str, out: list[tuple[str, str, list[dict[str, Any]]]]) -> None:
    for i, item in enumerate(items or []):
        where = f"{path}item[{i}]"
        if not isinstance(item, dict):
            continue
        if item.get("answer"):
            out.append((where, str(item.get("linkId")), item["answer"]))
        _answers(item.get("item") or [], f"{where}.", out)


def apply_response(response: dict[str, Any], det: Determination, case: dict[str, Any], rb: RuleBase,
                   source: str = "(QuestionnaireResponse)") -> tuple[dict[str, Any], list[str]]:
    """The case completed by a QuestionnaireResponse to its Questionnaire; with the linkIds of
    free-text answers that were kept but not reasoned on. IntakeError names the response's paths."""
    from .validate import validate

    if response.get("resourceType") != "QuestionnaireResponse":
        raise IntakeError(source, [Problem("resourceType", "expected \"QuestionnaireResponse\"")])
    validate(response, source)
    _, spec = build(det, case, rb)
    problems: list[Problem] = []
    found: list[tuple[str, str, list[dict[str, Any]]]] = []
    _answers(response.get("item") or [], "", found)
    completed = copy.deepcopy(case)
    completed.pop("expected", None)
    unreasoned: list[str] = []
    for where, link, answers in found:
        if link not in spec.questions:
            problems.append(Problem(f"{where}.linkId", "not a question of this case's Questionnaire "
                                    "(mtus questionnaire CASE lists them)"))
            continue
        rid, q = spec.questions[link]
        key = _ANSWER_KEYS[q.answer_type]
        values = []
        for k, answer in enumerate(answers):
            if key not in answer:
                problems.append(Problem(f"{where}.answer[{k}]", f"expected {key} (item type {q.answer_type})"))
                continue
            value = answer[key]
            if q.answer_type == "choice":
                code = value.get("code") if isinstance(value, dict) else None
                if value.get("system") != PROJECT_SYSTEM or code not in q.options:
                    problems.append(Problem(f"{where}.answer[{k}].valueCoding", "expected one of the item's "
                                            "answerOption codings", tuple(q.options[:3])))
                    continue
                value = code
            values.append(value)
        if not q.mapped:
            unreasoned.append(link)
        questions.apply(completed, rid, q, values)
    if problems:
        raise IntakeError(source, problems)
    return completed, unreasoned

