"""``python -m reasoner.fastpath evaluate CASE...``: ``mtus evaluate`` decided on the fast path.

The same arguments, output and exit codes as ``mtus`` (this process only swaps the function
``mtus evaluate`` calls); a preview of the CLI with the fast path, measured by ``make bench``.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from rdflib import Graph

from .. import api, cli
from ..determination import Determination
from ..rulebase import RuleBase
from .engine import evaluate

_reference = api.evaluate


def _evaluate(case: str | Path | dict[str, Any] | Graph, rules: RuleBase | Path | None = None, *,
              as_of: dt.date | None = None) -> Determination:
    """The fast path; ``--as-of`` goes to the reference path (the same decisions)."""
    return evaluate(case, rules) if as_of is None else _reference(case, rules, as_of=as_of)


def main(argv: list[str] | None = None) -> int:
    api.evaluate = _evaluate
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
