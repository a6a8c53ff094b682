"""The words a reader sees that are not tied to one criterion (letter headings, conclusions,
fact phrasing) live in kb/presentation.ttl as ``kb:text-<key>`` nodes; this module looks them up
and fills their named placeholders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, getcontext

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS
from rdflib.term import Node

from .errors import RuleBaseError
from .namespaces import KB, MTUS, local_name
from .thresholds import Writer, named


class Texts:
    def __init__(self, kb: Graph, labels: Graph, writer: Writer | None = None) -> None:
        self._kb = kb
        self._labels = labels
        self._writer = writer
        self._templates: dict[str, str] = {}  # the rule base does not change under a Texts
        self._names: dict[Node, str] = {}

    def __call__(self, key: str, **fields: object) -> str:
        template = self._templates.get(key)
        if template is None:
            value = self._kb.value(KB[f"text-{key}"], RDF.value)
            if value is None:
                raise RuleBaseError("kb/presentation.ttl", f"no text kb:text-{key}")
            template = self._templates[key] = str(value)
        try:
            return template.format(**fields)
        except (KeyError, IndexError) as exc:
            raise RuleBaseError("kb/presentation.ttl", f"kb:text-{key} uses an unknown placeholder {exc}") from None

    def kb_text(self, node: Node, prop: URIRef, day: dt.date) -> str:
        """A kb text of ``node`` (e.g. a formulary rule's mtus:why), its threshold placeholders
        filled with the values in force on ``day``, or with a threshold's first value when
        ``day`` is before it (a date the text names as not yet reached)."""
        text = str(self._kb.value(node, prop) or "")
        if self._writer is None:
            return text
        for name in named(text):
            threshold = self._writer.thresholds.get(name)
            if threshold is not None and threshold.values and threshold.on(day) is None:
                day = max(day, threshold.values[0].start)
        return self._writer.fill(text, day, f"kb/: {local_name(node)}")

    def value(self, node: Node, prop: URIRef) -> Node | None:
        """A value of a kb or ontology term (not of the case)."""
        value = self._kb.value(node, prop)
        return value if value is not None else self._labels.value(node, prop)

    def value_text(self, node: Node, prop: URIRef) -> str:
        value = self.value(node, prop)
        return str(value) if value is not None else local_name(node)

    def notation(self, node: Node | None) -> str:
        """The skos:notation of a term (the code a JSON output writes), else its local name."""
        if node is None:
            return ""
        value = self._labels.value(node, SKOS.notation) or self._kb.value(node, SKOS.notation)
        return str(value) if value is not None else local_name(node)

    def label(self, node: Node | None, bounds: tuple[object, ...] = ()) -> str:
        """The rdfs:label of a term, else its code string; a literal as written, a decimal to
        one place or as many more as it takes not to round onto or across a bound it was
        compared with (92 days are 3.02 months against "more than 3 months", not 3)."""
        if node is None:
            return ""
        if isinstance(node, Literal):
            value = node.toPython()
            if isinstance(value, (float, Decimal)):
                return number(Decimal(str(value)), bounds)
            return str(node)
        name = self._names.get(node)
        if name is None:
            label = self._labels.value(node, RDFS.label) or self._kb.value(node, RDFS.label)
            name = self._names[node] = str(label) if label is not None else local_name(node)
        return name

    def describe(self, graph: Graph, node: Node | None, path: Node | None, bounds: tuple[object, ...] = ()) -> str:
        """A case fact in a reader's words, from the labels of its codes; a number is written
        so that it keeps its side of every bound in ``bounds``."""
        if isinstance(node, URIRef) and (node, RDF.type, MTUS.Finding) in graph:
            region = graph.value(node, MTUS.region)
            key = "fact-finding-absent" if (node, MTUS.present, Literal(False)) in graph else "fact-finding"
            return self(key, source=self.label(graph.value(node, MTUS.source)) or self("unknown-source"),
                        code=self.label(graph.value(node, MTUS.code)),
                        where=self("fact-region", region=self.label(region)) if region else "")
        if isinstance(node, URIRef) and (node, RDF.type, MTUS.Treatment) in graph:
            what = graph.value(node, MTUS.drug) or graph.value(node, MTUS.service)
            region = graph.value(node, MTUS.region)
            status = graph.value(node, MTUS.status)
            return self("fact-treatment", what=self.label(what),
                        where=self("fact-region", region=self.label(region)) if region else "",
                        status=self.label(status) if status else self("unknown-status"))
        if isinstance(node, URIRef) and (node, RDF.type, MTUS.Diagnosis) in graph:
            region = graph.value(node, MTUS.region)
            code = graph.value(node, MTUS.code)
            return self("fact-diagnosis", code=self.label(code) if code else str(graph.value(node, MTUS.icd10)),
                        where=self("fact-region", region=self.label(region)) if region else "")
        if isinstance(node, URIRef) and (node, RDF.type, MTUS.Study) in graph:
            return self("fact-study", kind=self.label(graph.value(node, MTUS.kind)),
                        region=self.label(graph.value(node, MTUS.region)),
                        date=self.label(graph.value(node, MTUS.date)))
        return self("fact-value", property=self.label(path), value=self.label(node, bounds))


def _side(value: Decimal, bound: Decimal) -> int:
    return (value > bound) - (value < bound)


def number(value: Decimal, bounds: tuple[object, ...] = ()) -> str:
    """``value`` to one decimal place, or to the fewest more that keep it on its own side of
    (or on) each bound."""
    limits = [Decimal(str(b)) for b in bounds if isinstance(b, (int, float, Decimal)) and not isinstance(b, bool)]
    exponent = value.as_tuple().exponent
    places = max(1, -exponent if isinstance(exponent, int) else 1)
    if value.adjusted() + places + 1 > getcontext().prec:  # too many digits to round: as written
        return f"{value:f}"
    for digits in range(1, places + 1):
        shown = round(value, digits)
        if all(_side(shown, b) == _side(value, b) for b in limits):
            break
    text = f"{shown:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
