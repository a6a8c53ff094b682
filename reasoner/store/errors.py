"""The error of a store that cannot be opened, reached or asked."""

from __future__ import annotations

from ..errors import EXIT_INPUT, MtusError


class StoreError(MtusError):
    """A store or endpoint problem the user can fix: a locked folder, an unreachable URL, bad SPARQL."""

    exit_code = EXIT_INPUT
