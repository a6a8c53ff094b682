"""The text form of ``mtus explain``: the headings are the tool's; every clinical word in it
(labels, statements, section titles) was read from the rule base into the explanation."""

from __future__ import annotations

from .explain import (
    CandidateLine,
    CriterionLine,
    Explanation,
    FactLine,
    RequestExplanation,
    ShapeFact,
)


def _facts(lines: list[str], facts: tuple[FactLine, ...], indent: str) -> None:
    width = max((len(f.subject) for f in facts), default=0)
    for fact in facts:
        lines.append(f"{indent}{fact.subject:<{width}}  {fact.predicate}: {fact.object}")


def _derived(lines: list[str], facts: tuple[FactLine, ...]) -> None:
    groups: dict[tuple[str | None, str | None], list[FactLine]] = {}
    for fact in facts:
        groups.setdefault((fact.source, fact.source_file), []).append(fact)
    for (source, source_file), group in groups.items():
        lines.append(f"  {source_file or source}")
        _facts(lines, tuple(group), "    ")


def _candidate(lines: list[str], candidate: CandidateLine) -> None:
    mark = "chosen" if candidate.chosen else "rejected"
    lines.append(f"    {mark}: {candidate.citation} ({candidate.section}; search step {candidate.step_order}, "
                 f"{candidate.search_step}; selection priority {candidate.priority})")
    lines += [f"      - {reason.text}" for reason in candidate.reasons]


def _shape_fact(fact: ShapeFact) -> str:
    if fact.value_term is None:
        return f"{fact.path}: no value"
    if fact.description:
        return f"{fact.path}: {fact.value} ({fact.description})"
    return f"{fact.path}: {fact.value}"


def _criterion(lines: list[str], crit: CriterionLine, indent: str) -> None:
    applies = "applies" if crit.applies else "does not apply"
    lines.append(f"{indent}{crit.order}. {crit.criterion} ({crit.kind}): {crit.state}, {applies}")
    lines.append(f"{indent}   {crit.statement}")
    for shape in crit.shapes:
        lines.append(f"{indent}   {shape.role} {shape.shape}: {'violated' if shape.violated else 'conforms'}")
        lines += [f"{indent}     {_shape_fact(fact)}" for fact in shape.facts]
    for branch in crit.branches:
        _criterion(lines, branch, indent + "   ")


def _request(lines: list[str], request: RequestExplanation) -> None:
    lines += ["", f"Request {request.id}: {request.item} -> {request.decision}", "  Selection"]
    if not request.candidates:
        lines.append("    no encoded section addresses this service")
    for candidate in request.candidates:
        _candidate(lines, candidate)
    if request.section is None:
        lines.append("    no section chosen: the item is not addressed")
        return
    lines.append(f"  Criteria of {request.citation}")
    for crit in request.criteria:
        _criterion(lines, crit, "    ")


def render(explanation: Explanation) -> str:
    lines = [f"Case {explanation.case} ({explanation.source}), review date {explanation.review_date}",
             "", "Case facts"]
    _facts(lines, explanation.stated, "  ")
    lines += ["", "Derived facts, by the step that first added them"]
    _derived(lines, explanation.derived)
    for request in explanation.requests:
        _request(lines, request)
    return "\n".join(lines) + "\n"
