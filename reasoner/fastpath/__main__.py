"""``python -m reasoner.fastpath evaluate CASE...``: ``mtus evaluate`` decided on the fast path.

The same arguments, output and exit codes as ``mtus`` (this process only swaps the function
``mtus evaluate`` calls); a preview of the CLI with the fast path, measured by ``make bench``.
"""

from __future__ import annotations

import sys

from .. import api, cli
from .engine import evaluate


def main(argv: list[str] | None = None) -> int:
    api.evaluate = evaluate
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
