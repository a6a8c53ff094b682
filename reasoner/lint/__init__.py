"""``mtus lint``: the rule-base checks a guideline author runs before committing.

Each check is a function ``(rb, scope) -> list[Problem]`` registered with
:func:`problems.check`, in the module of its family:

- links: something is loaded; shapes linked to criteria of kb/; every criterion listed once;
  thresholds and the kb nodes rules name are defined;
- properties: every predicate a shape reads is produced; every predicate a rule derives is read;
- duplicates: node shapes with the same constraints, rules computing the same thing;
- sources: every dcterms:source resolves;
- texts: numbers in texts are threshold placeholders that resolve; rules read values in force;
- house_style: SHACL-SHACL and the house style (shapes/house-style/), compiled to SPARQL;
- cases: test-case coverage; arithmetic: rule arithmetic; hermit: ontology consistency.

The runner prints ``file: node: [check] message`` for each problem, then one line per check.
``--section ID`` looks at one section (see :mod:`.scope`). Exit codes: 0 no problem, 1 problems.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..errors import EXIT_LINT, EXIT_OK, MtusError
from ..rulebase import RuleBase
from . import arithmetic, cases, duplicates, hermit, house_style, links, properties, sources, texts
from .problems import CHECKS, Check, Problem
from .scope import Scope, section, whole

#: The order in which the families' checks run and are reported.
FAMILIES = (links, properties, duplicates, sources, texts, house_style, cases, arithmetic, hermit)

__all__ = ["CHECKS", "Check", "Problem", "Scope", "findings", "ordered", "run", "section", "selected", "whole"]


def ordered() -> list[Check]:
    """Every registered check, family by family."""
    order = [f.__name__ for f in FAMILIES]
    return sorted(CHECKS, key=lambda c: order.index(c.function.__module__) if c.function.__module__ in order
                  else len(order))


def selected(scope: Scope, hermit_check: bool = True, names: tuple[str, ...] = ()) -> list[Check]:
    """The checks to run: all (HermiT only when asked; a check of the whole rule base only for
    it), or those named."""
    unknown = [n for n in names if n not in {c.name for c in CHECKS}]
    if unknown:
        raise MtusError(f"--check {unknown[0]}: no such check (checks: {', '.join(c.name for c in ordered())})")
    return [c for c in ordered() if (not names or c.name in names) and (scope.whole or not c.whole)
            and (not c.hermit or hermit_check)]


def findings(rb: RuleBase, scope: Scope, checks: list[Check]) -> dict[str, list[Problem]]:
    """Each check's problems, by check name."""
    return {c.name: sorted(set(c.function(rb, scope))) for c in checks}


def run(rb: RuleBase, hermit_check: bool = True, cases: Path | None = None, section_id: str | None = None,
        checks: tuple[str, ...] = ()) -> int:
    """Run the checks, print what they find; EXIT_LINT when any found something."""
    scope = section(rb, section_id, cases) if section_id else whole(rb, cases)
    summary = []
    total = 0
    for item in selected(scope, hermit_check, checks):
        start = time.perf_counter()
        problems = sorted(set(item.function(rb, scope)))
        elapsed = time.perf_counter() - start
        for problem in problems:
            print(problem.line(item.name), file=sys.stdout)
        total += len(problems)
        summary.append(f"{item.name}: {'ok' if not problems else f'{len(problems)} problem(s)'} ({elapsed:.2f} s)")
    print("\n".join(summary))
    where = f"section kb:{section_id}" if section_id else "the rule base"
    print(f"mtus lint: {total} problem(s) in {where}" if total else f"mtus lint: {where} passes")
    return EXIT_LINT if total else EXIT_OK
