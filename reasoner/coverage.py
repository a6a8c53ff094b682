"""Test-case coverage of the rule base: every criterion (and branch) must be declared, by the
case files' ``expected.<request>.criteria``, in every state its kind can give it with the shapes
it has (reasoner/kinds.py: a requirement with a contradiction shape can be met, not met and not
documented; with an applicability shape also not applicable; an exclusion met and not met...).
The case tests check that each declaration is true."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from rdflib import URIRef

from .catalog import Criterion
from .intake import _CaseLoader
from .kinds import STATES, Kind
from .namespaces import MTUS, local_name
from .rulebase import RuleBase

#: the states a case file may declare
DECLARABLE = frozenset(STATES.values())


class _FastCaseLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """intake's safe YAML (dates stay text), parsed by libyaml when PyYAML has it (ten times faster)."""


_FastCaseLoader.yaml_implicit_resolvers = _CaseLoader.yaml_implicit_resolvers


@dataclass(frozen=True)
class Coverage:
    cases: int
    #: criterion id -> state -> the case files that declare it
    declared: dict[str, dict[str, list[str]]]

    def missing(self, rulebase: RuleBase, criteria: list[URIRef] | None = None) -> list[tuple[URIRef, str]]:
        """(criterion, what is missing) for each state a criterion can reach (its kind, shapes
        and branches) that no case file declares."""
        out = []
        for iri in sorted(criteria if criteria is not None else rulebase.catalog.criteria):
            crit = rulebase.catalog.criteria[iri]
            name = local_name(iri)
            kind = rulebase.catalog.kinds[crit.kind]
            states = self.declared.get(name, {})
            for state in sorted(reachable(crit, rulebase.catalog.kinds)):
                if not states.get(state):
                    out.append((iri, f"{name} ({kind.label}) has no case in which it is {state.replace('_', ' ')}"))
        return out

    def gaps(self, rulebase: RuleBase) -> list[str]:
        return [f"{rulebase.source_files.get(iri, 'kb/')}: {text}" for iri, text in self.missing(rulebase)]

    def misdeclared(self) -> list[tuple[str, str, str]]:
        """(case file, criterion, message) for each declaration of a state that does not exist."""
        return [(path, name, f"{state!r} is not a state (one of {', '.join(sorted(DECLARABLE))})")
                for name, states in sorted(self.declared.items()) for state, paths in sorted(states.items())
                if state not in DECLARABLE for path in paths]


def reachable(crit: Criterion, kinds: dict[URIRef, Kind]) -> frozenset[str]:
    """The states a criterion can reach, by its kind, its shapes' roles and its branches."""
    roles = frozenset(r for r in crit.shapes if r != MTUS.Evidence)
    return kinds[crit.kind].states(roles, tuple(reachable(b, kinds) for b in crit.branches))


def collect(folder: Path, mentioning: frozenset[str] | None = None) -> Coverage:
    """What the case files under ``folder`` declare of each criterion; with ``mentioning``, only
    the files whose text names one of these criteria are read (``cases`` counts every file)."""
    declared: dict[str, dict[str, list[str]]] = {}
    files = sorted(folder.rglob("*.yaml")) + sorted(folder.rglob("*.json"))
    for path in files:
        text = path.read_text(encoding="utf-8")
        if mentioning is not None and not any(name in text for name in mentioning):
            continue
        data = yaml.load(text, Loader=_FastCaseLoader) or {}
        for outcome in (data.get("expected") or {}).values():
            for crit, status in ((outcome or {}).get("criteria") or {}).items():
                declared.setdefault(str(crit), {}).setdefault(str(status), []).append(str(path))
    return Coverage(len(files), declared)
