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


@dataclass(frozen=True)
class Coverage:
    cases: int
    #: criterion id -> state -> the case files that declare it
    declared: dict[str, dict[str, list[str]]]

    def gaps(self, rulebase: RuleBase) -> list[str]:
        out = []
        for iri, crit in sorted(rulebase.catalog.criteria.items()):
            name = local_name(iri)
            where = rulebase.source_files.get(iri, "kb/")
            kind = rulebase.catalog.kinds[crit.kind]
            states = self.declared.get(name, {})
            for state in sorted(reachable(crit, rulebase.catalog.kinds)):
                if not states.get(state):
                    out.append(f"{where}: {name} ({kind.label}) has no case in which it is {state.replace('_', ' ')}")
        return out

    def misdeclared(self) -> list[str]:
        """Declarations of a state that does not exist."""
        return [f"{path}: {name}: {state!r} is not a state (one of {', '.join(sorted(DECLARABLE))})"
                for name, states in sorted(self.declared.items()) for state, paths in sorted(states.items())
                if state not in DECLARABLE for path in paths]


def reachable(crit: Criterion, kinds: dict[URIRef, Kind]) -> frozenset[str]:
    """The states a criterion can reach, by its kind, its shapes' roles and its branches."""
    roles = frozenset(r for r in crit.shapes if r != MTUS.Evidence)
    return kinds[crit.kind].states(roles, tuple(reachable(b, kinds) for b in crit.branches))


def collect(folder: Path) -> Coverage:
    declared: dict[str, dict[str, list[str]]] = {}
    files = sorted(folder.rglob("*.yaml")) + sorted(folder.rglob("*.json"))
    for path in files:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CaseLoader) or {}
        for outcome in (data.get("expected") or {}).values():
            for crit, status in ((outcome or {}).get("criteria") or {}).items():
                declared.setdefault(str(crit), {}).setdefault(str(status), []).append(str(path))
    return Coverage(len(files), declared)
