"""Short names of a case's nodes for ``mtus explain``: ``case``, ``request 1``, ``finding 2``,
``treatment 1 outcome``, made of the labels of the ontology's terms (the class of the case, the
property that links a part to the case) and the request ids; values are shown as their labels
(codes) or as written (literals)."""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from .intake import CaseInput
from .namespaces import MTUS
from .texts import Texts

Triple = tuple[Node, Node, Node]


def _position(node: Node) -> tuple[int, str]:
    """A list element's place (its IRI ends in its index, as intake makes it), else its IRI."""
    tail = str(node).rstrip("/").rsplit("/", 1)[-1]
    return (int(tail), "") if tail.isdigit() else (1 << 30, str(node))


class Names:
    def __init__(self, case: CaseInput, texts: Texts) -> None:
        self._texts = texts
        self._graph = case.graph
        self._names: dict[Node, str] = {case.root: texts.label(MTUS.Case)}
        self._order: dict[Node, int] = {case.root: 0}
        self._requests: list[Node] = []
        todo: list[Node] = [case.root]
        while todo:
            parent = todo.pop(0)
            children: dict[Node, list[Node]] = {}
            for predicate, child in case.graph.predicate_objects(parent):
                if isinstance(child, (URIRef, BNode)) and child not in self._names \
                        and (child, None, None) in case.graph:
                    children.setdefault(predicate, []).append(child)
            for predicate in sorted(children, key=lambda p: texts.label(p)):
                group = sorted(set(children[predicate]), key=_position)
                numbered = len(group) > 1 or any(_position(c)[0] < 1 << 30 for c in group)
                for index, child in enumerate(group, start=1):
                    self._names[child] = self._child_name(parent, predicate, child, index if numbered else None)
                    self._order[child] = len(self._order)
                    if predicate == MTUS.request:
                        self._requests.append(child)
                    todo.append(child)

    def _child_name(self, parent: Node, predicate: Node, child: Node, index: int | None) -> str:
        label = self._texts.label(predicate)
        ident = self._graph.value(child, MTUS.identifier) if predicate == MTUS.request else None
        own = f"{label} {ident}" if ident is not None else f"{label} {index}" if index is not None else label
        return own if self._order[parent] == 0 else f"{self._names[parent]} {own}"

    def is_case_node(self, node: Node | None) -> bool:
        return node is not None and node in self._names

    def node(self, node: Node) -> str:
        """A case node's short name; a term's label or code; a literal as written."""
        if isinstance(node, Literal):
            return str(node)
        name = self._names.get(node)
        if name is not None:
            return name
        text = str(node)  # a node a rule made, named after the case node its IRI extends
        owners = [n for n in self._names if isinstance(n, URIRef) and text.startswith(f"{n}/")]
        if owners:
            owner = max(owners, key=lambda n: len(str(n)))
            return f"{self._names[owner]} {text[len(str(owner)) + 1:].replace('/', ' ')}"
        return self._texts.label(node)

    def ordered(self, triples: Iterable[Triple]) -> list[Triple]:
        """Triples by subject (case order: the case, then its parts as named), then predicate."""
        def key(triple: Triple) -> tuple[int, str, str, str]:
            s, p, o = triple
            return (self._order.get(s, len(self._order)), self.node(s), self._texts.label(p), self.node(o))
        return sorted(triples, key=key)

    def _reachable(self, starts: Iterable[Node]) -> set[Node]:
        seen: set[Node] = set()
        todo = list(starts)
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            todo += [o for o in self._graph.objects(node) if o in self._names]
        return seen

    def owned_by_other_requests(self, kept: set[URIRef]) -> set[Node]:
        """The case nodes of the requests not kept (a request, its utilization review, ...),
        that no kept request shares."""
        others = [r for r in self._requests if r not in kept]
        return self._reachable(others) - self._reachable(kept) if others else set()
