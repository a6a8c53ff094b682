"""What the case reader accepts at most, and the small rules about field paths and texts that
reading and checking share."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

#: a field name the messages may show (any other is shown as "(a field name)")
FIELD_NAME = re.compile(r"^@?[A-Za-z0-9_\-]{1,64}$")


@dataclass(frozen=True)
class Limits:
    """What the reader accepts at most (documented in the README, "Case files: limits")."""

    #: bytes in a case file (a 1,000-request case in YAML is about 0.2 MB)
    file_bytes: int = 2 * 1024 * 1024
    #: requested items in one case (the largest case `mtus evaluate` is measured on)
    requests: int = 1000
    #: entries in any other list (findings, diagnoses, medications, treatments, studies, ...)
    list_items: int = 500
    #: characters in one text (a free-text note included)
    text_chars: int = 20000
    #: characters in one field name
    key_chars: int = 64
    #: nesting of mappings and lists (the case format's deepest field is at depth 4)
    depth: int = 12
    #: problems reported for one case (the rest are counted)
    problems: int = 50


LIMITS = Limits()


LIMITS = Limits()


def limits_table() -> dict[str, int]:
    """The limits as data (for the docs and the tests)."""
    return asdict(LIMITS)


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    shown = key if FIELD_NAME.match(key) else "(a field name)"
    return f"{path}.{shown}" if path else shown


def list_limit(path: str) -> int:
    return LIMITS.requests if path == "requests" else LIMITS.list_items


def bad_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
