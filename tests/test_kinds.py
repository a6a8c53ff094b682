"""Criterion kinds are a contract: the ontology says which shape roles each kind requires and
allows and how its states are read; lint rejects a criterion whose shapes do not fit its kind,
and decisions read a criterion by its kind alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import URIRef

from reasoner import lint, rulebase
from reasoner.decisions import MET, NOT_DOCUMENTED, NOT_MET, evaluate_criterion
from reasoner.kinds import NOT_APPLICABLE
from reasoner.lint import house_style
from reasoner.namespaces import KB, MTUS
from reasoner.validation import ShapeOutcome
from tests.helpers import ROOT

RB = rulebase.get()
TOPICAL = "kb/sections/chronic-pain/topical-analgesics.ttl"


@pytest.fixture
def rule_copy(tmp_path: Path) -> Path:
    for top in ("ontology", "kb", "shapes"):
        shutil.copytree(ROOT / top, tmp_path / top)
    return tmp_path


def _replace(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_an_exclusion_with_a_support_shape_fails_lint(rule_copy: Path) -> None:
    _replace(rule_copy, TOPICAL, "kb:cpmtg-2009-topical-analgesics-1 a mtus:Criterion ; mtus:order 1 ; mtus:criterionKind mtus:CheckedExclusion ;",
             "kb:cpmtg-2009-topical-analgesics-1 a mtus:Criterion ; mtus:order 1 ; mtus:criterionKind mtus:Exclusion ;")
    problems = _house_style(rulebase.load(rule_copy))
    assert len(problems) == 1
    assert problems[0].startswith(TOPICAL)
    assert "cpmtg-2009-topical-analgesics-1" in problems[0]
    assert "has a role that its kind neither requires nor allows" in problems[0]
    assert "value shape:cpmtg-2009-topical-analgesics-1-support" in problems[0]


def test_a_limit_without_its_support_shape_fails_lint(rule_copy: Path) -> None:
    _replace(rule_copy, "shapes/chronic-pain/trigger-point-injections.ttl",
             "mtus:criterion kb:cpmtg-2009-tpi-5 ; mtus:role mtus:Support ;",
             "mtus:criterion kb:cpmtg-2009-tpi-5 ; mtus:role mtus:Contradiction ;")
    problems = _house_style(rulebase.load(rule_copy))
    assert any("cpmtg-2009-tpi-5" in p and "its kind requires a shape of this role" in p and "value mtus:Support" in p
               for p in problems), problems


def _house_style(rb: rulebase.RuleBase) -> list[str]:
    return [p.line("house style") for p in house_style.house_style(rb, lint.whole(rb))]


def _criterion(name: str) -> object:
    return RB.catalog.criteria[KB[name]]


def _outcome(*violated: URIRef) -> ShapeOutcome:
    return ShapeOutcome(violated={shape: [(None, None)] for shape in violated})


@pytest.mark.parametrize(("criterion", "role_violated", "expected"), [
    # a requirement: supported is met (even beside a contradicting fact), contradicted is not met, else not documented
    pytest.param("cpmtg-2009-tpi-1", (), MET, id="requirement-supported"),
    pytest.param("cpmtg-2009-tpi-1", (MTUS.Support, MTUS.Contradiction), NOT_MET, id="requirement-contradicted"),
    pytest.param("cpmtg-2009-tpi-1", (MTUS.Support,), NOT_DOCUMENTED, id="requirement-silent"),
    # an exclusion: silence does not fail it
    pytest.param("cpmtg-2009-tpi-4", (), MET, id="exclusion-silent"),
    pytest.param("cpmtg-2009-tpi-4", (MTUS.Contradiction,), NOT_MET, id="exclusion-contradicted"),
    # a limit: the number must be stated
    pytest.param("cpmtg-2009-tpi-5", (MTUS.Support,), NOT_DOCUMENTED, id="limit-number-missing"),
    pytest.param("cpmtg-2009-tpi-5", (MTUS.Contradiction,), NOT_MET, id="limit-exceeded"),
    pytest.param("cpmtg-2009-tpi-5", (), MET, id="limit-within"),
    # a checked exclusion: the facts to check must be stated
    pytest.param("cpmtg-2009-topical-analgesics-1", (MTUS.Support,), NOT_DOCUMENTED, id="checked-exclusion-silent"),
    pytest.param("cpmtg-2009-topical-analgesics-1", (MTUS.Contradiction,), NOT_MET, id="checked-exclusion-contradicted"),
    # an applicability shape violated: the criterion does not apply, whatever else
    pytest.param("cpmtg-2009-tpi-7", (MTUS.Applicability, MTUS.Contradiction), NOT_APPLICABLE, id="not-applicable"),
])
def test_a_criterion_is_read_by_its_kind(criterion: str, role_violated: tuple[URIRef, ...], expected: str) -> None:
    crit = _criterion(criterion)
    shapes = [s for role in role_violated for s in crit.shapes.get(role, ())]  # type: ignore[attr-defined]
    result = evaluate_criterion(crit, _outcome(*shapes))  # type: ignore[arg-type]
    assert (result.status if result.applicable else NOT_APPLICABLE) == expected


def test_every_kind_reads_to_a_state_and_every_criterion_fits_its_kind() -> None:
    assert set(RB.catalog.kinds) >= {MTUS.Requirement, MTUS.Exclusion, MTUS.Limit, MTUS.LimitIfStated,
                                     MTUS.Alternatives, MTUS.CheckedExclusion}
    assert _house_style(RB) == []
