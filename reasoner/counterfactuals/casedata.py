"""The case as plain data in the case format, and a copy of it with changes applied."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import yaml

from .. import intake
from ..errors import IntakeError, Problem
from .model import Change


def case_data(case: str | Path | dict[str, Any]) -> dict[str, Any]:
    """The case as a plain mapping in the case format (a YAML or JSON path, or a mapping)."""
    if isinstance(case, dict):
        return copy.deepcopy(case)
    path = Path(case)
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise IntakeError(str(path), [Problem("(file)", "counterfactuals change the case data: give the case "
                                              "as YAML or JSON in the case format")])
    raw = path.read_text(encoding="utf-8")
    data = yaml.load(raw, Loader=intake._CaseLoader) if path.suffix.lower() != ".json" else json.loads(raw)
    if not isinstance(data, dict):
        raise IntakeError(str(path), [Problem("(top level)", "expected a mapping of case fields")])
    return data


_INDEXED = re.compile(r"^(\w+)\[(\d+)\](?:\.(\w+))?$")


def apply(data: dict[str, Any], changes: tuple[Change, ...] | list[Change]) -> dict[str, Any]:
    """A copy of the case data with the changes applied (removals last, highest index first)."""
    out = copy.deepcopy(data)
    out.pop("expected", None)
    removals = []
    for change in changes:
        if change.action == "add":
            out.setdefault(change.path, []).append(change.value)
            continue
        m = _INDEXED.match(change.path)
        if m is None:
            raise ValueError(f"not a case-format path: {change.path}")
        name, index, key = m.group(1), int(m.group(2)), m.group(3)
        if change.action == "remove":
            removals.append((name, index))
        elif key is None:
            out[name][index] = change.value
        else:
            out[name][index][key] = change.value
    for name, index in sorted(removals, key=lambda r: -r[1]):
        del out[name][index]
    return out
