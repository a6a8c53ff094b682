"""``reasoner.evaluate``: the public entry point, on the fast path by default.

Two engines give the same determinations (the differential test checks it case by case): the
fast path (reasoner.fastpath: pyoxigraph, shapes compiled to SPARQL; about ten times faster) and
the reference path (reasoner.api: rdflib and pySHACL, the executable specification). The fast
path owns one store per rule base; a lock per engine lets threads share it, so ``evaluate`` is
safe to call from several threads (each call holds the engine for its few milliseconds).
"""

from __future__ import annotations

import datetime as dt
import threading
from enum import StrEnum
from pathlib import Path
from typing import Any

from rdflib import Graph

from . import api
from . import rulebase as rulebase_module
from .determination import Determination
from .rulebase import RuleBase


class EngineName(StrEnum):
    FAST = "fast"
    REFERENCE = "reference"


_ENGINES: dict[tuple[Path, int], tuple[Any, threading.Lock]] = {}
_GUARD = threading.Lock()


def fast_engine(rb: RuleBase) -> tuple[Any, threading.Lock]:
    """The fast-path engine of this rule base (built once per process) and its lock."""
    key = (rb.root, id(rb))
    with _GUARD:
        found = _ENGINES.get(key)
        if found is None or found[0].rb is not rb:
            from .fastpath.engine import Engine

            found = _ENGINES[key] = (Engine(rb), threading.Lock())
    return found


def evaluate(case: str | Path | dict[str, Any] | Graph, rules: RuleBase | Path | None = None,
             *, engine: EngineName | str = EngineName.FAST, as_of: dt.date | None = None) -> Determination:
    """Evaluate every requested item of a case (a path to YAML, JSON, JSON-LD or Turtle, a
    mapping in the case format, or an RDF graph) against the rule base (default: the bundled
    one). ``engine="reference"`` runs the reference path. With ``as_of``, the case is decided
    under the rules in force on that date (durations still end on the review date), on the
    reference path. Raises IntakeError for a bad case."""
    name = EngineName(engine)
    rb = rules if isinstance(rules, RuleBase) else rulebase_module.get(rules)
    if name is EngineName.REFERENCE or as_of is not None:
        return api.evaluate(case, rb, as_of=as_of)
    fast, lock = fast_engine(rb)
    with lock:
        result: Determination = fast.evaluate(case)
    return result


def evaluate_many(cases: list[Any], rules: RuleBase | Path | None = None) -> list[Any]:
    """Several cases on the fast path in one round: each a Determination or the MtusError the
    reference path raises for it (in the order given)."""
    rb = rules if isinstance(rules, RuleBase) else rulebase_module.get(rules)
    fast, lock = fast_engine(rb)
    with lock:
        return list(fast.evaluate_batch(cases))
