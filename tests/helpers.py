"""Shared helpers for the unit tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from reasoner.intake import _CaseLoader

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed-imr-case.yaml"


def seed() -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(SEED.read_text(encoding="utf-8"), Loader=_CaseLoader)
    return copy.deepcopy(data)


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
