"""Errors a user can act on: intake problems name the field path; rule-base problems name the file and node.

Exit codes of the ``mtus`` command (fixed, documented in the README):
0 success (for ``evaluate``: every case was evaluated, whatever the decisions), 1 ``lint`` found
problems, 2 the input could not be loaded (intake error, bad arguments), 3 the rule base is broken
or an internal error (its message names no case content).
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_LINT = 1
EXIT_INPUT = 2
EXIT_RULEBASE = 3
EXIT_INTERNAL = 3


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a case: where, what was expected, and the nearest valid values."""

    path: str
    message: str
    suggestions: tuple[str, ...] = ()
    #: the value found, shown only to a user who asks (``mtus evaluate --verbose``), never in a
    #: message, a batch summary or a log: a case is health information
    found: str | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}"
        if self.suggestions:
            text += f" (did you mean: {', '.join(self.suggestions)}?)"
        return text

    def verbose(self) -> str:
        """The message and, when known, the value found (for the user who asked)."""
        return f"{self} [found: {self.found}]" if self.found is not None else str(self)


class MtusError(Exception):
    """Base class of the errors this package raises on purpose."""

    exit_code = EXIT_INPUT


class IntakeError(MtusError):
    """A case that cannot be evaluated; carries one problem per thing to fix."""

    exit_code = EXIT_INPUT

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem(s) in the case"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))

    def verbose(self) -> str:
        """The error with the values found (``mtus evaluate --verbose``)."""
        lines = [f"{self.source}: {len(self.problems)} problem(s) in the case"]
        return "\n".join(lines + [f"  - {p.verbose()}" for p in self.problems])


class RuleBaseError(MtusError):
    """A malformed rule file: names the file and the node to fix."""

    exit_code = EXIT_RULEBASE

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        super().__init__(f"{where}: {message}")
