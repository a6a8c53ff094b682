"""FHIR R4 (issue 14 part 3): a Bundle as a case, the missing documentation as a Questionnaire,
a QuestionnaireResponse that completes the case, and the determination as a ClaimResponse with
its Provenance.

Python API::

    from reasoner import fhir
    case = fhir.case_from_bundle(bundle_dict)           # case-format mapping (IntakeError on a bad Bundle)
    q = fhir.questionnaire("examples/seed-imr-case.yaml")   # Questionnaire (JSON data)
    det = fhir.evaluate_with_answers("examples/seed-imr-case.yaml", qr_dict)  # completed and re-decided
    out = fhir.determination_bundle([det])               # Bundle: ClaimResponse + Provenance per case
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..determination import Determination
from ..errors import IntakeError, Problem
from ..rulebase import RuleBase
from ..rulebase import get as _rulebase

__all__ = ["case_from_bundle", "determination_bundle", "evaluate_with_answers", "load_case", "questionnaire"]


def _rb(rules: RuleBase | Path | None) -> RuleBase:
    return rules if isinstance(rules, RuleBase) else _rulebase(rules)


def case_from_bundle(bundle: dict[str, Any], rules: RuleBase | Path | None = None) -> dict[str, Any]:
    """The case (case-format mapping) a FHIR R4 Bundle documents."""
    from .bundle_in import to_case

    return to_case(bundle, _rb(rules))


def load_case(case: str | Path | dict[str, Any], rules: RuleBase | Path | None = None) -> dict[str, Any]:
    """A case as a case-format mapping: a mapping, a YAML or JSON case file, or a FHIR Bundle
    (file or mapping). JSON-LD and Turtle cases have no mapping form: IntakeError."""
    import yaml

    from ..intake import _CaseLoader
    from .bundle_in import is_bundle, to_case

    rb = _rb(rules)
    source = "(mapping)"
    if isinstance(case, dict):
        data: Any = case
    else:
        path = Path(case)
        source = str(path)
        if path.suffix.lower() not in (".yaml", ".yml", ".json"):
            raise IntakeError(source, [Problem("(file)", "expected a case in the case format (.yaml, .yml, "
                                               ".json) or a FHIR Bundle (.json)")])
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, Loader=_CaseLoader)
        except OSError as exc:
            raise IntakeError(source, [Problem("(file)", f"cannot be read: {exc.strerror}")]) from None
        except (ValueError, yaml.YAMLError):
            raise IntakeError(source, [Problem("(file)", "not valid JSON or YAML")]) from None
    if not isinstance(data, dict):
        raise IntakeError(source, [Problem("(top level)", "expected a mapping of case fields or a FHIR Bundle")])
    if is_bundle(data):
        return to_case(data, rb, source)
    out = dict(data)
    out.pop("expected", None)
    return out


def questionnaire(case: str | Path | dict[str, Any], rules: RuleBase | Path | None = None,
                  engine: str = "fast") -> dict[str, Any]:
    """The Questionnaire of the documentation a case lacks (one question per not-documented
    criterion of an upheld item)."""
    from .. import engines
    from .dtr import build

    rb = _rb(rules)
    data = load_case(case, rb)
    det = engines.evaluate(data, rb, engine=engine)
    return build(det, data, rb)[0]


def complete_case(case: str | Path | dict[str, Any], response: dict[str, Any],
                  rules: RuleBase | Path | None = None, engine: str = "fast",
                  source: str = "(QuestionnaireResponse)") -> tuple[dict[str, Any], list[str]]:
    """The case completed by a QuestionnaireResponse to its Questionnaire, and the linkIds of
    free-text answers kept as notes (not reasoned on)."""
    from .. import engines
    from .dtr import apply_response

    rb = _rb(rules)
    data = load_case(case, rb)
    det = engines.evaluate(data, rb, engine=engine)
    return apply_response(response, det, data, rb, source)


def evaluate_with_answers(case: str | Path | dict[str, Any], response: dict[str, Any],
                          rules: RuleBase | Path | None = None, engine: str = "fast") -> Determination:
    """The case completed by the QuestionnaireResponse, decided again."""
    from .. import engines

    rb = _rb(rules)
    completed, _ = complete_case(case, response, rb, engine)
    return engines.evaluate(completed, rb, engine=engine)


def determination_bundle(dets: list[Determination], rules: RuleBase | Path | None = None,
                         engine: str = "fast") -> dict[str, Any]:
    """The determinations as a Bundle: per case a ClaimResponse and its Provenance."""
    from .adjudication import bundle

    return bundle(dets, _rb(rules), engine)
