"""``mtus docs``: the generated blocks of the documentation, rewritten in place from the rule
base (``mtus docs``) or checked (``mtus docs --check``: exit 1 when one is stale, naming it).

A block is the text between ``<!-- NAME:begin ... -->`` and ``<!-- NAME:end -->`` in a file of
the checkout (:mod:`.markers`). The blocks:

- README.md ``sections``: the encoded sections (:mod:`reasoner.sections`);
- docs/case-format.md ``codes``: the codes each field of the case format accepts (:mod:`.codes`);
- docs/authoring.md ``kinds``: shape roles, criterion states and kinds (:mod:`.criterion_kinds`),
  ``formats``: the placeholder formats of kb/ texts, filled (:mod:`.placeholders`), ``derived``:
  the derived facts a shape may read (:mod:`.derived`), and ``checks``: what ``mtus lint``
  checks (:mod:`.checks`);
- docs/coverage.md ``coverage``: every service of issue 11 decided on the dates of
  docs/coverage-probes.yaml, or not addressed and why (:mod:`.coverage`).

Every word of a block comes from the rule base (labels, definitions, docstrings of the checks);
the Python only lays them out.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import rulebase as rulebase_module
from ..errors import EXIT_LINT, EXIT_OK
from ..rulebase import RuleBase
from . import markers


# The generators import what they read (the lint checks, the fast path's rule reading) only
# when a block is made, so that loading the command line stays cheap.
def _sections(rb: RuleBase) -> str:
    from .. import sections

    return sections.table(rb)


def _codes(rb: RuleBase) -> str:
    from . import codes

    return codes.table(rb)


def _kinds(rb: RuleBase) -> str:
    from . import criterion_kinds

    return criterion_kinds.table(rb)


def _formats(rb: RuleBase) -> str:
    from . import placeholders

    return placeholders.table(rb)


def _derived(rb: RuleBase) -> str:
    from . import derived

    return derived.listing(rb)


def _checks(rb: RuleBase) -> str:
    from . import checks

    return checks.table(rb)


def _coverage(rb: RuleBase) -> str:
    from . import coverage

    return coverage.table(rb)


def _determination(rb: RuleBase) -> str:
    from .. import schemas

    return schemas.field_table(schemas.load("determination"))


@dataclass(frozen=True)
class Block:
    """A generated block: the file that holds it (from the checkout's root), its name, and how
    its content is made."""

    file: str
    name: str
    render: Callable[[RuleBase], str]


BLOCKS = (
    Block("README.md", "sections", _sections),
    Block("docs/case-format.md", "codes", _codes),
    Block("docs/case-format.md", "determination", _determination),
    Block("docs/authoring.md", "kinds", _kinds),
    Block("docs/authoring.md", "formats", _formats),
    Block("docs/authoring.md", "derived", _derived),
    Block("docs/authoring.md", "checks", _checks),
    Block("docs/coverage.md", "coverage", _coverage),
)


@dataclass(frozen=True)
class Outcome:
    """What one block is in its file: current, stale (with the new content), or missing."""

    block: Block
    state: str  # "current", "stale", "missing" (no markers), "no file"
    content: str

    def line(self) -> str:
        where = f"{self.block.file}: {self.block.name}"
        if self.state == "no file":
            return f"{where}: no such file here (`mtus docs` works in a checkout of the repository)"
        if self.state == "missing":
            return (f"{where}: no block (add {markers.begin(self.block.name)} and {markers.end(self.block.name)} "
                    "where it belongs)")
        return f"{where}: {self.state}"


def _content(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def outcomes(rb: RuleBase, root: Path) -> list[Outcome]:
    """Every block, compared with what its file holds."""
    out = []
    for block in BLOCKS:
        path = root / block.file
        if not path.is_file():
            out.append(Outcome(block, "no file", ""))
            continue
        found = markers.current(path.read_text(encoding="utf-8"), block.name)
        content = _content(block.render(rb))
        state = "missing" if found is None else "current" if found == content else "stale"
        out.append(Outcome(block, state, content))
    return out


def rewrite(root: Path, results: list[Outcome]) -> None:
    """Write every stale block's new content into its file."""
    for file in dict.fromkeys(r.block.file for r in results if r.state == "stale"):
        path = root / file
        text = path.read_text(encoding="utf-8")
        for result in results:
            if result.block.file == file and result.state == "stale":
                text = markers.replace(text, result.block.name, result.content)
        path.write_text(text, encoding="utf-8")


def run(rb: RuleBase, root: Path, check: bool) -> int:
    """Rewrite (or, with ``check``, only compare) every block and the JSON Schemas
    (reasoner.schemas); print one line per block or schema.
    EXIT_LINT when a block is missing, or stale under ``check``."""
    from .. import schemas

    schema_lines = schemas.run(rb, root, check)  # first: a block lists the determination's fields
    for line in schema_lines:
        print(line.lstrip("!"))
    results = outcomes(rb, root)
    if not check:
        rewrite(root, results)
    for result in results:
        line = result.line()
        if result.state == "stale" and not check:
            line = f"{result.block.file}: {result.block.name}: rewritten"
        print(line)
    bad = [r for r in results if r.state in ("missing", "no file") or (check and r.state == "stale")]
    bad += [line for line in schema_lines if line.startswith("!")]  # type: ignore[misc]
    if bad:
        print(f"mtus docs: {len(bad)} block(s) to fix" + ("; run `mtus docs` to rewrite them" if check else ""),
              file=sys.stderr)
        return EXIT_LINT
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("docs", help="rewrite the generated blocks of README.md and docs/ from the rule base "
                                         "(--check: only say which are stale)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a block is stale or missing, naming it")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    rb = rulebase_module.get(args.rules)
    return run(rb, rb.root, args.check)
