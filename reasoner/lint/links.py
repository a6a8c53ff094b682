"""Structure and links: the rule base has something in it; every shape is linked to a criterion
of kb/; every criterion is listed exactly once, by a section or as a branch; every threshold and
kb node cited is defined. A broken link here changes decisions without any error at run time
(a shape that decides nothing, a criterion missing from every letter)."""

from __future__ import annotations

from collections import defaultdict

from rdflib import URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from ..fastpath.rules import iris
from ..namespaces import DCTERMS, KB, MTUS, qname
from ..rulebase import RuleBase
from .problems import Problem, at, check, in_rule
from .reading import owners
from .scope import THRESHOLD_ANNOTATIONS, Scope


def criteria(rb: RuleBase) -> set[URIRef]:
    """The criteria of kb/: typed mtus:Criterion, or given a mtus:criterionKind."""
    found = set(rb.kb.subjects(RDF.type, MTUS.Criterion)) | set(rb.kb.subjects(MTUS.criterionKind, None))
    return {c for c in found if isinstance(c, URIRef)}


@check("structure", whole=True)
def structure(rb: RuleBase, scope: Scope) -> list[Problem]:
    """Something is loaded: sections, criteria, shapes and rules. Fix: run from the folder that
    holds ontology/, kb/ and shapes/ (or pass --rules)."""
    problems = []
    for empty, where, what in ((not rb.catalog.sections, "kb/", "no guideline section loaded"),
                               (not rb.catalog.criteria, "kb/", "no criterion loaded"),
                               (len(rb.shapes) == 0, "shapes/", "no shapes loaded"),
                               (not rb.rules, "kb/rules/", "no derivation rule loaded")):
        if empty:
            problems.append(Problem(where, "(folder)", what))
    return problems


@check("shape links")
def shape_links(rb: RuleBase, scope: Scope) -> list[Problem]:
    """Every mtus:criterion of a shape names a criterion of kb/ (a typo leaves the criterion
    without that shape: its decision changes, and nothing else says so). Fix: correct the
    shape's mtus:criterion to the criterion's kb local name."""
    known = criteria(rb)
    problems = []
    for shape, target in rb.shapes.subject_objects(MTUS.criterion):
        if scope.covers(rb, shape) and target not in known:
            problems.append(at(rb, shape, f"mtus:criterion {qname(target)} is not a criterion of kb/ (no "
                                          "`a mtus:Criterion` or mtus:criterionKind there): correct the link"))
    return problems


@check("criterion lists")
def criterion_lists(rb: RuleBase, scope: Scope) -> list[Problem]:
    """Every criterion is listed once: by a section (mtus:criterion) or as a branch of an
    alternatives criterion (mtus:branch). An unlisted criterion is in no letter; one listed as a
    criterion and as a branch is decided twice. A criterion may be listed by several sections
    only when its dcterms:source names each of them (it is the sections' shared text). Fix: list
    the criterion once, where the guideline states it, or cite every section that lists it."""
    sections = set(rb.kb.subjects(RDF.type, MTUS.GuidelineSection))
    by_section: dict[Node, list[Node]] = defaultdict(list)
    as_branch: dict[Node, list[Node]] = defaultdict(list)
    for holder, item in rb.kb.subject_objects(MTUS.criterion):
        by_section[item].append(holder)
    for holder, item in rb.kb.subject_objects(MTUS.branch):
        as_branch[item].append(holder)
    problems = []
    for criterion in sorted(criteria(rb)):
        if not scope.covers(rb, criterion):
            continue
        listed, branches = sorted(by_section[criterion], key=str), sorted(as_branch[criterion], key=str)
        names = ", ".join(qname(n) for n in listed + branches)
        if not listed and not branches:
            problems.append(at(rb, criterion, "no section lists it (mtus:criterion) and no alternatives "
                                              "criterion lists it as a branch (mtus:branch): it is in no "
                                              "decision; list it where it belongs"))
        elif listed and branches or len(branches) > 1:
            problems.append(at(rb, criterion, f"listed more than once ({names}): it would be decided "
                                              "twice; keep one listing"))
        elif len(listed) > 1:
            cited = set(rb.kb.objects(criterion, DCTERMS.source))
            uncited = [s for s in listed if s not in cited]
            if uncited or any(s not in sections for s in listed):
                problems.append(at(rb, criterion, f"listed by {names}: a criterion shared by sections must "
                                                  "name each in its dcterms:source (missing: "
                                                  f"{', '.join(qname(s) for s in uncited) or 'none'}); "
                                                  "otherwise keep one listing"))
    return problems


@check("thresholds")
def thresholds(rb: RuleBase, scope: Scope) -> list[Problem]:
    """Every threshold a shape annotation (mtus:minInclusiveFrom ...) or a criterion
    (mtus:threshold) cites is defined in kb/ (``kb:x a mtus:Threshold``). Fix: correct the name,
    or define the threshold with its unit, dated values and source."""
    defined = set(rb.kb.subjects(RDF.type, MTUS.Threshold))
    problems = []
    shape_owner = owners(rb.shapes)
    for annotation in THRESHOLD_ANNOTATIONS:
        for node, threshold in rb.shapes.subject_objects(annotation):
            shape = shape_owner.get(node, node)
            if threshold not in defined and scope.covers(rb, shape):
                problems.append(at(rb, shape, f"{qname(annotation)} {qname(threshold)}: no such threshold in kb/ "
                                              f"(define `{qname(threshold)} a mtus:Threshold`, or correct the name)"))
    for criterion, threshold in rb.kb.subject_objects(MTUS.threshold):
        if threshold not in defined and scope.covers(rb, criterion):
            problems.append(at(rb, criterion, f"mtus:threshold {qname(threshold)}: no such threshold in kb/ "
                                              f"(define `{qname(threshold)} a mtus:Threshold`, or correct the name)"))
    return problems


@check("rule kb terms")
def rule_kb_terms(rb: RuleBase, scope: Scope) -> list[Problem]:
    """Every kb: node a derivation rule names (a threshold, a conversion factor ...) is a
    subject in kb/: a misspelt one matches nothing, and the rule derives nothing. Fix: correct
    the name in the rule, or define the node in kb/."""
    subjects = set(rb.kb.subjects())
    problems = []
    for rule in rb.rules:
        if not scope.covers_rule(rule):
            continue
        for iri in sorted(iris(rule.query.algebra)):
            if iri.startswith(str(KB)) and URIRef(iri) not in subjects:
                problems.append(in_rule(rb, rule, f"names {qname(URIRef(iri))}, which kb/ does not define "
                                                  "(correct the name, or define it in kb/)"))
    return problems
