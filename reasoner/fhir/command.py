"""``mtus questionnaire CASE`` and the FHIR side of ``mtus evaluate`` (``--answers QR.json``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import EXIT_INPUT, EXIT_OK, IntakeError, Problem
from ..rulebase import RuleBase
from ..rulebase import get as get_rulebase


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    q = sub.add_parser("questionnaire", help="the documentation a case lacks, as a FHIR R4 Questionnaire (JSON)")
    q.add_argument("case", type=Path, help="a case (.yaml, .yml, .json) or a FHIR Bundle (.json)")
    q.add_argument("--output", type=Path, help="write here instead of standard output")
    q.add_argument("--engine", choices=["fast", "reference"], default="fast")
    q.set_defaults(handler=_questionnaire)


def _questionnaire(args: argparse.Namespace) -> int:
    from . import questionnaire

    rb = get_rulebase(args.rules)
    try:
        q = questionnaire(args.case, rb, args.engine)
    except IntakeError as exc:
        print(f"mtus: {exc}", file=sys.stderr)
        return EXIT_INPUT
    text = json.dumps(q, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IntakeError(str(path), [Problem("(file)", f"cannot be read: {exc.strerror}")]) from None
    except ValueError:
        raise IntakeError(str(path), [Problem("(file)", "not valid JSON")]) from None


def answered(args: argparse.Namespace, rb: RuleBase) -> list[dict[str, Any]] | int:
    """The one case of ``mtus evaluate --answers QR.json CASE``, completed by the answers; or an
    exit code after printing the problems."""
    from . import complete_case

    if len(args.cases) != 1:
        print("mtus: --answers takes exactly one case", file=sys.stderr)
        return EXIT_INPUT
    try:
        response = _read_json(args.answers)
        if not isinstance(response, dict):
            raise IntakeError(str(args.answers), [Problem("(top level)", "expected a QuestionnaireResponse")])
        completed, notes = complete_case(args.cases[0], response, rb, args.engine, str(args.answers))
    except IntakeError as exc:
        print(f"mtus: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if notes:
        print(f"mtus: {len(notes)} free-text answer(s) kept as notes, not reasoned on: {', '.join(notes)}",
              file=sys.stderr)
    return [completed]
