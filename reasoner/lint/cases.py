"""Test-case coverage: every criterion (and branch) is met in one case file of tests/cases/ and
not met or not documented in another (reasoner/coverage.py reads the cases' expectations)."""

from __future__ import annotations

from ..coverage import collect
from ..namespaces import local_name
from ..rulebase import RuleBase
from .problems import Problem, at, check, relative
from .scope import Scope


@check("test-case coverage")
def case_coverage(rb: RuleBase, scope: Scope) -> list[Problem]:
    folder = scope.cases
    if not folder.is_dir():
        return [Problem(relative(rb, folder), "(folder)", "no test cases folder: coverage cannot be checked")]
    names = None if scope.whole else frozenset(local_name(c) for c in scope.nodes if c in rb.catalog.criteria)
    cov = collect(folder, names)
    if cov.cases == 0:
        return [Problem(relative(rb, folder), "(folder)", "no case files found")]
    problems = []
    for iri in sorted(rb.catalog.criteria):
        if not scope.covers(rb, iri):
            continue
        name = local_name(iri)
        if not cov.met.get(name):
            problems.append(at(rb, iri, f"{name} has no case in which it is met: add one under {relative(rb, folder)}/"))
        if not cov.failed.get(name):
            problems.append(at(rb, iri, f"{name} has no case in which it is not met or not documented: add one "
                                        f"under {relative(rb, folder)}/"))
    return problems
