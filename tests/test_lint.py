"""``mtus lint``'s rule-arithmetic check: a division the two SPARQL engines would compute
differently is reported with its rule file (docs/rule-arithmetic.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reasoner import lint, rulebase
from reasoner.rulebase import _load_rules

RULE = """CONSTRUCT {{ ?request <https://w3id.org/mtus/ontology#symptomMonths> ?months . }}
WHERE {{
  ?request <https://w3id.org/mtus/ontology#symptomDays> ?days .
  code:months mtus:daysPerUnit ?perMonth .
  BIND({expression} AS ?months)
}}
"""


def _problems(tmp_path: Path, expression: str) -> list[str]:
    folder = tmp_path / "kb" / "rules"
    folder.mkdir(parents=True)
    (folder / "99-example.rq").write_text(RULE.format(expression=expression), encoding="utf-8")
    return lint.rule_arithmetic(_load_rules(folder))


def test_the_rule_base_divides_only_as_both_engines_agree() -> None:
    assert lint.rule_arithmetic(rulebase.get().rules) == []


@pytest.mark.parametrize("expression", [
    "?days / ?perMonth",  # neither rounded nor guarded
    "ROUND(?days * 10000 / ?perMonth) / 10000",  # rounded, but 0 / 30.436875 is an error on Oxigraph
    "IF(?days = 0, 0, ?days / ?perMonth)",  # guarded, but a later product may need 19 decimals
])
def test_a_division_the_engines_compute_differently_is_reported(tmp_path: Path, expression: str) -> None:
    problems = _problems(tmp_path, expression)
    assert len(problems) == 1
    assert problems[0].startswith(str(Path("kb", "rules", "99-example.rq")) + ": a division by ?perMonth")
    assert "IF(x = 0, 0, ROUND(x * 10000 / d) / 10000)" in problems[0] and "docs/rule-arithmetic.md" in problems[0]


@pytest.mark.parametrize("expression", [
    "IF(?days = 0, 0, ROUND(?days * 10000 / ?perMonth) / 10000)",
    "?days / 7",  # a whole-number divisor: 0 / 7 is 0 on both
])
def test_a_division_written_as_the_convention_says_passes(tmp_path: Path, expression: str) -> None:
    assert _problems(tmp_path, expression) == []
