"""Command-line argument types shared by the subcommands."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def at_least_one(what: str) -> Callable[[str], int]:
    """An argparse type: a whole number of ``what``, at least 1 (else a usage error naming it)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise argparse.ArgumentTypeError(f"expected a whole number of {what}, at least 1; got {text!r}")
        return value

    return parse
