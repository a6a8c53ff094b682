"""``mtus lint``: the rule-base checks a guideline author runs before committing.

Shapes against SHACL-SHACL; house style (shapes/house-style/) over ontology, kb and shapes;
a criterion without shapes or a section without criteria; arithmetic in the derivation rules
that both SPARQL engines compute alike (docs/rule-arithmetic.md); test-case coverage (every
criterion met in one case and failed in another); ontology consistency with HermiT (owlready2,
Java).
Each finding names the file and the node. A check with nothing to check fails.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pyshacl
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, XSD
from rdflib.plugins.sparql.parserutils import CompValue

from . import coverage
from .catalog import TEXTS
from .errors import EXIT_LINT, EXIT_OK
from .namespaces import SH, qname
from .thresholds import stated_numbers

HOUSE = Namespace("https://w3id.org/mtus/shapes/house-style/")
from .rulebase import Rule, RuleBase


def _where(rb: RuleBase, node: object) -> str:
    return rb.source_files.get(node, "(rule base)") if isinstance(node, URIRef) else "(rule base)"


def _report_lines(rb: RuleBase, report: Graph, label: str) -> list[str]:
    lines = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        message = report.value(result, SH.resultMessage)
        path = report.value(result, SH.resultPath)
        lines.append(f"{_where(rb, focus)}: {focus}: [{label}] {message}" + (f" ({path})" if path else ""))
    return sorted(set(lines))


def shacl_shacl(rb: RuleBase) -> list[str]:
    meta = Graph().parse(Path(pyshacl.__file__).parent / "assets" / "shacl-shacl.ttl", format="turtle")
    problems = []
    for label, graph in (("shapes", rb.shapes), ("intake shapes", rb.intake_shapes),
                         ("house-style shapes", rb.house_style_shapes)):
        conforms, report, _ = pyshacl.validate(graph, shacl_graph=meta)
        if not conforms:
            problems += _report_lines(rb, report, f"SHACL-SHACL, {label}")
    return problems


def house_style(rb: RuleBase) -> list[str]:
    if len(rb.house_style_shapes) == 0:
        return ["shapes/house-style/: no house-style shapes loaded"]
    data = Graph()
    data += rb.ontology
    data += rb.kb
    data += rb.shapes
    conforms, report, _ = pyshacl.validate(data, shacl_graph=rb.house_style_shapes)
    return [] if conforms else _report_lines(rb, report, "house style")


def structure(rb: RuleBase) -> list[str]:
    problems = []
    if not rb.catalog.sections:
        problems.append("kb/: no guideline section loaded")
    if not rb.catalog.criteria:
        problems.append("kb/: no criterion loaded")
    if len(rb.shapes) == 0:
        problems.append("shapes/: no shapes loaded")
    if not rb.rules:
        problems.append("kb/rules/: no derivation rule loaded")
    return problems


def _divisions(node: object, guarded: tuple[bool, bool] = (False, False)) -> list[tuple[object, bool, bool]]:
    """Every division of an algebra node: (divisor, inside ROUND, inside IF)."""
    found: list[tuple[object, bool, bool]] = []
    if isinstance(node, CompValue):
        rounded, conditional = guarded
        if node.name == "Builtin_ROUND":
            rounded = True
        elif node.name == "Builtin_IF":
            conditional = True
        if node.name == "MultiplicativeExpression":
            found += [(other, rounded, conditional) for op, other in zip(node.op, node.other) if op == "/"]
        for value in node.values():
            found += _divisions(value, (rounded, conditional))
    elif isinstance(node, (list, tuple)):
        for value in node:
            found += _divisions(value, guarded)
    return found


def rule_arithmetic(rules: list[Rule]) -> list[str]:
    """A division by anything but a whole number is written IF(x = 0, 0, ROUND(x * 10000 / d) / 10000):
    rounded, so that a later product stays within Oxigraph's 18 decimal places, and never of a
    zero (Oxigraph gives an error for 0 divided by a non-integer decimal)."""
    problems = []
    for rule in rules:
        for divisor, rounded, conditional in _divisions(rule.query.algebra):
            whole = isinstance(divisor, Literal) and divisor.datatype == XSD.integer
            if not whole and not (rounded and conditional):
                what = f"?{divisor}" if not isinstance(divisor, (CompValue, Literal)) else str(divisor)[:40]
                problems.append(f"{Path(*rule.path.parts[-3:])}: a division by {what} that is not written "
                                "IF(x = 0, 0, ROUND(x * 10000 / d) / 10000): the SPARQL engines would derive "
                                "different values (docs/rule-arithmetic.md)")
    return problems


def numbers_in_texts(rb: RuleBase) -> list[str]:
    """A number in a criterion's texts or a section's summary that is not a threshold
    placeholder (nor allowed by shapes/house-style/numbers.ttl) would not change with its
    threshold: the words would contradict the decision."""
    allowed = [re.compile(str(p)) for p in rb.house_style_shapes.objects(None, HOUSE.pattern)]
    if not allowed:
        return ["shapes/house-style/numbers.ttl: no allowed number patterns loaded"]
    problems = []
    for section in rb.catalog.sections.values():
        texts = [(section.iri, "mtus:summary", section.summary)]
        for crit in section.all_criteria():
            texts += [(crit.iri, f"mtus:{TEXTS[name].split('#')[-1]}", getattr(crit, name)) for name in TEXTS]
        for node, prop, text in texts:
            found = stated_numbers(text, allowed)
            if found:
                problems.append(f"{_where(rb, node)}: {qname(node)}: {prop} states {', '.join(repr(n) for n in found)}: "
                                "name the threshold ({threshold-name}) or, if it is no threshold, allow it in "
                                "shapes/house-style/numbers.ttl")
    return problems


def hermit(rb: RuleBase) -> list[str]:
    """Ontology consistency with HermiT (owlready2 runs it on the JVM)."""
    import owlready2

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mtus-ontology.nt"
        merged = Graph()
        merged += rb.ontology
        merged.remove((None, OWL.imports, None))  # the modules are all here; nothing is fetched
        merged.serialize(path, format="nt", encoding="utf-8")
        world = owlready2.World()
        onto = world.get_ontology(path.as_uri()).load()
        try:
            with onto:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            return ["ontology/: HermiT finds the ontology inconsistent"]
        unsatisfiable = list(world.inconsistent_classes())
    return [f"{_where(rb, URIRef(c.iri))}: {c.iri}: unsatisfiable class (HermiT)" for c in unsatisfiable]


def case_coverage(rb: RuleBase, cases: Path) -> list[str]:
    if not cases.is_dir():
        return [f"{cases}: no test cases folder: coverage cannot be checked"]
    cov = coverage.collect(cases)
    if cov.cases == 0:
        return [f"{cases}: no case files found"]
    return cov.misdeclared() + cov.gaps(rb)


def run(rb: RuleBase, hermit_check: bool = True, cases: Path | None = None) -> int:
    checks: list[tuple[str, Callable[[], list[str]]]] = [("structure", lambda: structure(rb)), ("SHACL-SHACL", lambda: shacl_shacl(rb)),
              ("house style", lambda: house_style(rb)), ("rule arithmetic", lambda: rule_arithmetic(rb.rules)),
              ("numbers in texts", lambda: numbers_in_texts(rb)),
              ("test-case coverage", lambda: case_coverage(rb, cases or rb.root / "tests" / "cases"))]
    if hermit_check:
        checks.append(("HermiT consistency", lambda: hermit(rb)))
    failed = 0
    for name, check in checks:
        problems = check()
        print(f"{name}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        for problem in problems:
            print(f"  {problem}", file=sys.stdout)
        failed += bool(problems)
    return EXIT_LINT if failed else EXIT_OK
