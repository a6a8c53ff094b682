"""What a lint run looks at: the whole rule base, or one guideline section (``--section ID``):
the section, its criteria and branches, their shapes and the helper shapes these use, the
thresholds they cite, everything else defined in the same files, the rules whose output the
section's shapes may read, and the test cases."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from rdflib import URIRef
from rdflib.term import Node

from ..errors import MtusError
from ..fastpath.rules import demanded
from ..namespaces import KB, MTUS, local_name
from ..rulebase import Rule, RuleBase
from ..shapes import BOUNDS, bounded_by
from .reading import flows, named_shapes, shape_paths

#: shape annotations that take their bound from a threshold (reasoner/shapes.py compiles them)
THRESHOLD_ANNOTATIONS = tuple(BOUNDS)


@dataclass(frozen=True)
class Scope:
    """The whole rule base (``section`` None), or one section's part of it."""

    cases: Path
    section: URIRef | None = None
    nodes: frozenset[Node] = frozenset()
    files: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()

    @property
    def whole(self) -> bool:
        return self.section is None

    def covers(self, rb: RuleBase, node: Node | None) -> bool:
        """Whether a named node is in scope (itself, or defined in one of the scope's files)."""
        if self.whole:
            return True
        return node in self.nodes or (isinstance(node, URIRef) and rb.source_files.get(node) in self.files)

    def covers_rule(self, rule: Rule) -> bool:
        return self.whole or rule.name in self.rules


class UnknownSection(MtusError):
    """``--section`` names no section of kb/ (exit code 2, a bad argument)."""


def whole(rb: RuleBase, cases: Path | None = None) -> Scope:
    return Scope(cases or rb.root / "tests" / "cases")


def criteria_of(rb: RuleBase, section_iri: URIRef) -> list[URIRef]:
    """The criteria a section lists, and their branches."""
    out: list[URIRef] = []
    todo = [c for c in rb.kb.objects(section_iri, MTUS.criterion) if isinstance(c, URIRef)]
    while todo:
        item = todo.pop()
        if item not in out:
            out.append(item)
            todo += [b for b in rb.kb.objects(item, MTUS.branch) if isinstance(b, URIRef)]
    return out


def section(rb: RuleBase, name: str, cases: Path | None = None) -> Scope:
    """The scope of the section whose kb local name is ``name`` (e.g. ``cpmtg-2009-tpi``)."""
    iri = KB[name]
    if iri not in rb.catalog.sections:
        near = difflib.get_close_matches(name, sorted(local_name(s) for s in rb.catalog.sections), n=3)
        hint = f"did you mean: {', '.join(near)}?" if near else "`mtus sections` lists them"
        raise UnknownSection(f"--section {name}: kb/ has no guideline section kb:{name} ({hint})")
    criteria = criteria_of(rb, iri)
    shapes = {s for c in criteria for p in (MTUS.criterion, MTUS.evidenceFor) for s in rb.shapes.subjects(p, c)}
    thresholds = {t for c in criteria for t in rb.kb.objects(c, MTUS.threshold)}
    thresholds |= bounded_by(rb.shapes, shapes)
    own: set[Node] = {iri, *criteria, *shapes, *thresholds}
    files = frozenset(f for f in (rb.source_files.get(n) for n in own if isinstance(n, URIRef)) if f)
    helpers = {h for s in shapes for h in named_shapes(rb.shapes, s)}
    read = {str(p) for s in shapes for p in shape_paths(rb.shapes, s)}
    rules = flows(rb.rules)
    wanted = demanded(rules, read)
    return Scope(cases or rb.root / "tests" / "cases", iri, frozenset(own | helpers), files,
                 frozenset(rule.name for rule, used in zip(rules, wanted) if used))
