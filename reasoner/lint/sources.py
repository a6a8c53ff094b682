"""Sources: every dcterms:source resolves to something a reader can open. A source is an IRI,
never a string: a node of kb/ with an rdfs:label (a guideline section or document), a public
http(s) URL, or a project document ``<https://w3id.org/mtus/docs/sources/FILE.md#ANCHOR>``,
which is ``docs/sources/FILE.md`` of the repository, ANCHOR being the GitHub-style slug of
one of its headings or an explicit ``<a id="ANCHOR"></a>``."""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from functools import lru_cache
from pathlib import Path

from rdflib import Literal
from rdflib.namespace import RDFS
from rdflib.term import Node

from ..namespaces import DCTERMS, KB, qname
from ..rulebase import RuleBase
from .problems import Problem, at, check
from .reading import owners
from .scope import Scope

PROJECT = "https://w3id.org/mtus/"
DOCS = PROJECT + "docs/sources/"
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_ANCHOR = re.compile(r"""<a\s+(?:id|name)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"<[^>]+>")


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text (link targets and HTML tags left out) in
    lower case, without punctuation or symbols, each space a hyphen."""
    text = _TAG.sub("", _LINK.sub(r"\1", heading)).strip().lower()
    kept = "".join(c for c in text if c.isalnum() or c in " -_" or unicodedata.category(c).startswith("M"))
    return kept.replace(" ", "-")


@lru_cache(maxsize=64)
def anchors(path: Path) -> frozenset[str]:
    """The anchors of a Markdown file: its headings' slugs (a repeated one numbered -1, -2 ...
    as GitHub does) and its explicit ``<a id="...">`` anchors."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        found |= set(_ANCHOR.findall(line))
        heading = _HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            seen = counts.get(base, 0)
            counts[base] = seen + 1
            found.add(base if seen == 0 else f"{base}-{seen}")
    return frozenset(found)


def unresolved(rb: RuleBase, source: Node) -> str | None:
    """Why a source does not resolve (None: it does)."""
    if isinstance(source, Literal):
        quoted = str(source) if len(str(source)) <= 60 else str(source)[:57] + "..."
        return (f'"{quoted}" is a string, not an IRI: cite a kb node, a public http(s) URL or '
                f"<{DOCS}FILE.md#ANCHOR> (a file of docs/sources/)")
    text = str(source)
    if text.startswith(str(KB)):
        if rb.kb.value(source, RDFS.label) is None:
            return f"{qname(source)} is not a node of kb/ with an rdfs:label"
        return None
    if text.startswith(DOCS):
        name, _, anchor = text[len(DOCS):].partition("#")
        path = rb.root / "docs" / "sources" / name
        if "/" in name or not name.endswith(".md") or not path.is_file():
            return f"<{text}>: docs/sources/{name} is not a file of the repository"
        if not anchor:
            return f"<{text}>: name the part of docs/sources/{name} (#ANCHOR: a heading's slug or an <a id>)"
        if anchor not in anchors(path):
            return (f"<{text}>: docs/sources/{name} has no heading or <a id> with the anchor #{anchor} "
                    "(GitHub's slug of a heading: lower case, punctuation left out, spaces as hyphens)")
        return None
    if text.startswith(PROJECT):
        return f"<{text}> is a project IRI but neither a kb node nor a file of docs/sources/"
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or "." not in parts.netloc or re.search(r"\s", text):
        return f"<{text}> is not a public http(s) URL"
    return None


@check("sources")
def sources(rb: RuleBase, scope: Scope) -> list[Problem]:
    """Every dcterms:source of the ontology, kb and shapes resolves: a kb node with an
    rdfs:label, a public http(s) URL, or ``<https://w3id.org/mtus/docs/sources/FILE.md#ANCHOR>``
    (ANCHOR a heading's GitHub slug or an ``<a id>`` of that file). Fix: replace a string by such
    an IRI (record the detail in docs/sources/ and cite its anchor), or correct the anchor."""
    problems = []
    for graph in (rb.ontology, rb.kb, rb.shapes):
        owner = owners(graph)
        for subject, source in graph.subject_objects(DCTERMS.source):
            node = owner.get(subject, subject)
            if not scope.covers(rb, node):
                continue
            why = unresolved(rb, source)
            if why is not None:
                problems.append(at(rb, node, f"dcterms:source {why}"))
    return sorted(set(problems))
