"""Test-case coverage of the rule base: every criterion (and branch) must be met in at least one
case file and not met or not documented in at least one other, as the case files declare in
``expected.<request>.criteria``. The case tests check that each declaration is true."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .intake import _CaseLoader
from .namespaces import local_name
from .rulebase import RuleBase


class _FastCaseLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """intake's safe YAML (dates stay text), parsed by libyaml when PyYAML has it (ten times faster)."""


_FastCaseLoader.yaml_implicit_resolvers = _CaseLoader.yaml_implicit_resolvers


@dataclass(frozen=True)
class Coverage:
    cases: int
    met: dict[str, list[str]]
    failed: dict[str, list[str]]

    def gaps(self, rulebase: RuleBase) -> list[str]:
        out = []
        for iri, crit in sorted(rulebase.catalog.criteria.items()):
            name = local_name(iri)
            where = rulebase.source_files.get(iri, "kb/")
            if not self.met.get(name):
                out.append(f"{where}: {name} has no case in which it is met")
            if not self.failed.get(name):
                out.append(f"{where}: {name} has no case in which it is not met or not documented")
        return out


def collect(folder: Path, mentioning: frozenset[str] | None = None) -> Coverage:
    """What the case files under ``folder`` expect of each criterion; with ``mentioning``, only
    the files whose text names one of these criteria are read (``cases`` counts every file)."""
    met: dict[str, list[str]] = {}
    failed: dict[str, list[str]] = {}
    files = sorted(folder.rglob("*.yaml")) + sorted(folder.rglob("*.json"))
    for path in files:
        text = path.read_text(encoding="utf-8")
        if mentioning is not None and not any(name in text for name in mentioning):
            continue
        data = yaml.load(text, Loader=_FastCaseLoader) or {}
        for outcome in (data.get("expected") or {}).values():
            for crit, status in ((outcome or {}).get("criteria") or {}).items():
                (met if status == "met" else failed).setdefault(str(crit), []).append(str(path))
    return Coverage(len(files), met, failed)
