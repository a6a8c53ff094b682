"""The rule base: ontology, knowledge base, shapes and rules, loaded once and compiled.

The files live in ``ontology/``, ``kb/`` and ``shapes/`` of a checkout, or inside the installed
package under ``reasoner/rulebase/``. Loading parses every Turtle file (a parse error names the
file), closes the ontology (class membership, part-of and broader codes made explicit, so that
no OWL reasoner runs per case), reads the thresholds with their dated values and the criterion
kinds, compiles the shapes (:meth:`RuleBase.shapes_on` gives them with the bounds in force on a
rule date) and indexes the guideline sections and criteria of kb/.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, XSD
from rdflib.term import Node

from . import catalog, kinds, ruleterms, shapes, thresholds
from .errors import RuleBaseError
from .namespaces import KB, PREFIXES

if TYPE_CHECKING:
    from rdflib.plugins.sparql.sparql import Query

_CLOSURE = """
CONSTRUCT { ?x a ?super . ?c rdfs:subClassOf ?super . ?a mtus:partOf ?b . ?m mtus:broader ?n . }
WHERE {
  { ?x a ?c0 . ?c0 rdfs:subClassOf* ?super . FILTER(isIRI(?super) && isIRI(?x)) }
  UNION { ?c rdfs:subClassOf+ ?super . FILTER(isIRI(?super)) }
  UNION { ?a mtus:partOf+ ?b }
  UNION { ?m mtus:broader+ ?n }
}
"""


def default_root() -> Path:
    """The folder holding ontology/, kb/ and shapes/: the installed copy, else the checkout."""
    packaged = Path(__file__).resolve().parent / "rulebase"
    if (packaged / "kb").is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Rule:
    """A derivation rule of kb/rules/: a SPARQL CONSTRUCT query kept as a file."""

    name: str
    path: Path
    query: Query


#: The parts of a rule base that a pickle (the on-disk cache) carries as pickles of their own,
#: read back when first used: the fast path's evaluation of a case never reads most of them.
DEFERRED = ("ontology", "kb", "closure", "shapes", "intake_shapes", "house_style_shapes", "rules",
            "source_files", "reference")
_DEFERRED_LOCK = threading.Lock()


#: What :func:`derived` makes from a rule base that the rule-base cache keeps with it (made when
#: the cache file is written; a cold start reads it back instead of making it again).
KEPT = ("case-schema",)


def _restore(state: dict[str, Any], deferred: dict[str, bytes], kept: dict[str, Any] | None = None) -> RuleBase:
    """A rule base read back from a pickle: the parts in ``deferred`` stay pickled until used;
    ``kept`` holds values of :func:`derived` made from it."""
    rb = RuleBase.__new__(RuleBase)
    rb.__dict__.update(state)
    rb.__dict__["_deferred"] = dict(deferred)
    for name, value in (kept or {}).items():
        _DERIVED.setdefault((rb.build_id, name), value)
    return rb


@dataclass
class RuleBase:
    root: Path
    ontology: Graph
    kb: Graph
    closure: Graph
    shapes: Graph
    intake_shapes: Graph
    house_style_shapes: Graph
    rules: list[Rule]
    context: dict[str, Any]
    catalog: catalog.Catalog
    version: str
    digest: str
    source_files: dict[URIRef, str] = field(default_factory=dict)
    parents: dict[Node, Node] = field(default_factory=dict)
    helper_shapes: tuple[URIRef, ...] = ()

    reference: Graph = field(default_factory=Graph)
    #: this load's identity: what is compiled from it (the fast path's queries name its shapes'
    #: blank nodes) is cached under it, so that a cache never pairs two different loads
    build_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: shapes with bounds, by the dated values in force (see :meth:`shapes_on`)
    _bounded: dict[frozenset[tuple[URIRef, dt.date]], Graph] = field(default_factory=dict, repr=False)

    def __getattr__(self, name: str) -> Any:
        # only called for an attribute not set: a part still pickled (see DEFERRED)
        deferred = self.__dict__.get("_deferred")
        if not deferred or name not in DEFERRED:
            raise AttributeError(name)
        with _DEFERRED_LOCK:
            if name not in self.__dict__:
                self.__dict__[name] = pickle.loads(deferred[name])
                del deferred[name]
        return self.__dict__[name]

    def __reduce__(self) -> tuple[Any, ...]:
        from .rulebase_cache import dumps

        state = {k: v for k, v in self.__dict__.items() if k not in ("_deferred", "_bounded", *DEFERRED)}
        state["_bounded"] = {}
        deferred = dict(self.__dict__.get("_deferred") or {})
        for name in DEFERRED:
            if name in self.__dict__:
                deferred[name] = dumps(self.__dict__[name])
        kept = {name: _DERIVED[(self.build_id, name)] for name in KEPT if (self.build_id, name) in _DERIVED}
        return _restore, (state, deferred, kept)

    def values_on(self, day: dt.date) -> dict[URIRef, thresholds.DatedValue]:
        """Every threshold's value in force on ``day``."""
        out = {}
        for iri, threshold in self.catalog.thresholds.items():
            value = threshold.on(day)
            if value is not None:
                out[iri] = value
        return out

    def shapes_on(self, day: dt.date) -> Graph:
        """The guideline shapes with the threshold values in force on ``day`` as their bounds
        (one graph per set of values in force, kept)."""
        values = self.values_on(day)
        key = frozenset((iri, value.start) for iri, value in values.items())
        graph = self._bounded.get(key)
        if graph is None:
            graph = self._bounded[key] = shapes.with_bounds(self.shapes, {i: v.value for i, v in values.items()})
        return graph

    @property
    def reference_graph(self) -> Graph:
        """A fresh copy of what every case is evaluated against (see ``_reference``)."""
        graph = Graph()
        graph += self.reference
        return graph


def _parse_tree(folder: Path, files: dict[URIRef, str], skip: tuple[str, ...] = ()) -> Graph:
    graph = Graph()
    if not folder.is_dir():
        return graph
    for path in sorted(folder.rglob("*.ttl")):
        rel = path.relative_to(folder)
        if rel.parts and rel.parts[0] in skip:
            continue
        part = Graph()
        try:
            part.parse(path, format="turtle")
        except Exception as exc:  # noqa: BLE001 - rdflib raises several parser exception types
            raise RuleBaseError(str(path), f"not valid Turtle: {exc}") from None
        for subject in set(part.subjects()):
            if isinstance(subject, URIRef):
                files.setdefault(subject, str(path))
        graph += part
    return graph


def _digest(root: Path) -> str:
    """SHA-256 over every file of ontology/, kb/ and shapes/: its path under ``root`` and its
    bytes, in the order of the paths' parts (os.walk and plain strings: pathlib's rglob and
    relative_to took most of a cold start's time for it)."""
    sha = hashlib.sha256()
    for top in ("ontology", "kb", "shapes"):
        files: list[tuple[tuple[str, ...], str]] = []
        for folder, _, names in os.walk(root / top):
            parts = tuple(Path(folder).relative_to(root).parts)
            for name in names:
                full = os.path.join(folder, name)
                if os.path.isfile(full):
                    files.append(((*parts, name), full))
        for parts, full in sorted(files):
            sha.update("/".join(parts).encode())
            with open(full, "rb") as handle:
                sha.update(handle.read())
    return sha.hexdigest()


def _load_rules(folder: Path) -> list[Rule]:
    from rdflib.plugins.sparql import prepareQuery

    rules = []
    for path in sorted(folder.glob("*.rq")):
        try:
            query = prepareQuery(path.read_text(encoding="utf-8"), initNs=dict(PREFIXES))
        except Exception as exc:  # noqa: BLE001 - pyparsing and rdflib errors alike
            raise RuleBaseError(str(path), f"not a valid SPARQL query: {exc}") from None
        rules.append(Rule(path.stem, path, query))
    return rules


def _reference(closure: Graph, kb: Graph) -> Graph:
    """The closed ontology and kb without their prose: every triple whose object is a string
    (labels, definitions, criterion texts) is left out, since rules and shapes never read prose;
    numbers, dates and links stay. Copying it per case is then cheap."""
    graph = Graph()
    for source in (closure, kb):
        for s, p, o in source:
            if isinstance(o, Literal) and (o.language is not None or o.datatype in (None, XSD.string)):
                continue
            graph.add((s, p, o))
    return graph


def _bind(graph: Graph) -> Graph:
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    return graph


def load(root: Path | None = None) -> RuleBase:
    """Load and compile the rule base under ``root`` (default: the packaged or checked-out one)."""
    root = (root or default_root()).resolve()
    if not (root / "kb").is_dir():
        raise RuleBaseError(str(root), "no kb/ folder here: not a rule base")
    files: dict[URIRef, str] = {}
    ontology = _bind(_parse_tree(root / "ontology", files))
    kb = _bind(_parse_tree(root / "kb", files))
    guideline_shapes = _bind(_parse_tree(root / "shapes", files, skip=("intake", "house-style")))
    intake_shapes = _bind(_parse_tree(root / "shapes" / "intake", files))
    house_style = _bind(_parse_tree(root / "shapes" / "house-style", files))
    closure = _bind(Graph())
    closure += ontology
    closure += ontology.query(_CLOSURE, initNs=dict(PREFIXES)).graph or Graph()
    for rule in _load_rules(root / "kb" / "rules" / "reference"):  # over the closure and kb
        closure += (closure + kb).query(rule.query).graph or Graph()
    rules = _load_rules(root / "kb" / "rules")
    closure += ruleterms.request_amounts(closure, rules)
    context_path = root / "ontology" / "case-context.jsonld"
    context = json.loads(context_path.read_text(encoding="utf-8"))
    version = kb.value(KB.rulebase, OWL.versionInfo)
    if version is None:
        raise RuleBaseError(str(root / "kb"), "kb:rulebase has no owl:versionInfo")
    limits = thresholds.read(kb, files)  # before _reference: it adds the implied end dates
    compiled = shapes.compile_shapes(guideline_shapes, limits, files)
    cat = catalog.build(kb, compiled, files, kinds.read(ontology), limits, thresholds.Writer(limits, ontology))
    return RuleBase(
        root=root,
        ontology=ontology,
        kb=kb,
        closure=closure,
        shapes=compiled,
        intake_shapes=intake_shapes,
        house_style_shapes=house_style,
        rules=rules,
        context=context,
        catalog=cat,
        version=str(version),
        digest=_digest(root),
        source_files=files,
        parents=shapes.parent_shapes(compiled),
        reference=_reference(closure, kb),
        helper_shapes=shapes.helper_shapes(compiled),
    )


@lru_cache(maxsize=4)
def _cached(root: Path) -> RuleBase:
    # also cached on disk, between processes, keyed by the digest (rulebase_cache.py)
    from . import rulebase_cache

    if not (root / "kb").is_dir():
        return load(root)
    rb: RuleBase = rulebase_cache.load_or_build(root, _digest(root), lambda: _keeping(load(root)))
    return rb


def _keeping(rb: RuleBase) -> RuleBase:
    """The rule base with what the cache keeps of it made (see KEPT)."""
    from . import schemas

    schemas.case_schema(rb)
    return rb


_T = TypeVar("_T")
_DERIVED: dict[tuple[str, str], Any] = {}


def derived(rb: RuleBase, name: str, build: Callable[[RuleBase], _T]) -> _T:
    """What ``build`` makes from this rule-base load, made once per load (keyed by its build id)
    and shared: e.g. the FHIR code map, the counterfactual vocabulary, the docs' coverage table."""
    key = (rb.build_id, name)
    if key not in _DERIVED:
        _DERIVED[key] = build(rb)
    found: _T = _DERIVED[key]
    return found


@lru_cache(maxsize=1)
def _default_resolved() -> Path:
    return default_root().resolve()


def get(root: Path | None = None) -> RuleBase:
    """The rule base, loaded once per process and root."""
    return _cached(root.resolve() if root is not None else _default_resolved())
