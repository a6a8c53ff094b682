"""pySHACL with its shapes read once: the reference path's validator.

``pyshacl.validate`` wraps the shapes graph in a new ``ShapesGraph`` on every call and reads
every node shape it uses from the graph again (for one section's item, about a third of the
time its validation takes). Here the wrapper, with the shapes it has read, is kept per shapes
graph and list of shapes and reused for every data graph: the same ``Validator``, options and
report as ``pyshacl.validate`` gives; only the reading of the shapes is not repeated (a pySHACL
shape holds nothing of the data graph it last validated).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rdflib import Graph, URIRef

if TYPE_CHECKING:  # pySHACL loads when the reference path first validates (not on the fast path)
    from pyshacl.shapes_graph import ShapesGraph

_LOCK = threading.Lock()
#: per shapes graph (by id; the graph is held here, so its id is not reused) and list of shapes
_PREPARED: dict[tuple[int, tuple[URIRef, ...]], tuple[Graph, ShapesGraph]] = {}


def _shapes_graph(shapes: Graph, use: tuple[URIRef, ...]) -> ShapesGraph:
    """The shapes graph wrapper with the shapes of ``use`` (all when empty) already read."""
    key = (id(shapes), use)
    with _LOCK:
        found = _PREPARED.get(key)
        if found is None:
            from pyshacl.shapes_graph import ShapesGraph

            prepared = ShapesGraph(shapes)
            if use:
                prepared.shapes_from_uris(list(use))
            else:
                list(prepared.shapes)
            found = _PREPARED[key] = (shapes, prepared)
    return found[1]


def validate(data: Graph, shapes: Graph, *, use_shapes: Sequence[URIRef] = (),
             focus_nodes: Sequence[URIRef] = (), advanced: bool = False,
             allow_infos: bool = False) -> tuple[bool, Graph]:
    """What ``pyshacl.validate(data, shacl_graph=shapes, ...)`` gives with these options:
    whether the data conforms, and the report graph."""
    options = {"advanced": advanced, "allow_infos": allow_infos,
               "use_shapes": list(use_shapes) or None, "focus_nodes": list(focus_nodes) or None}
    from pyshacl import Validator
    from pyshacl.graph_abstraction import DataGraph
    from pyshacl.rdfutil.load import load_from_source

    loaded = load_from_source(data, multigraph=True, do_owl_imports=False)
    validator = Validator(DataGraph.from_rdflib(loaded), shacl_graph=Graph(), options=options)
    validator.shacl_graph = _shapes_graph(shapes, tuple(use_shapes))
    conforms, report, _ = validator.run()  # type: ignore[no-untyped-call]
    return bool(conforms), report
