"""The fast path: the reference pipeline's decisions, on pyoxigraph with shapes compiled to SPARQL.

``reasoner.fastpath.evaluate(case)`` returns what ``reasoner.evaluate(case)`` returns; the
differential test (tests/test_fastpath.py, and in full ``make bench``) checks that it does, case
by case. ``reasoner.fastpath.pool.evaluate_many`` streams many cases through a process pool.
"""

from __future__ import annotations

from .compile import Unsupported
from .engine import Engine, evaluate

__all__ = ["Engine", "Unsupported", "evaluate"]
