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


def collect(folder: Path) -> Coverage:
    met: dict[str, list[str]] = {}
    failed: dict[str, list[str]] = {}
    files = sorted(folder.rglob("*.yaml")) + sorted(folder.rglob("*.json"))
    for path in files:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CaseLoader) or {}
        for outcome in (data.get("expected") or {}).values():
            for crit, status in ((outcome or {}).get("criteria") or {}).items():
                (met if status == "met" else failed).setdefault(str(crit), []).append(str(path))
    return Coverage(len(files), met, failed)
