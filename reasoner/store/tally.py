"""The analysts' tally: the counts the library's counting queries read, pre-aggregated.

The summary graph (summary.py) holds one node per item decision; a query that counts over it
still visits every item (Oxigraph's cost per solution, bench/NOTES.md). The tally graph
``<https://w3id.org/mtus/store/tally>`` holds those counts grouped by the keys of each counting
query of queries/ (per version and edition; per service, region, review date and decision; per
section and criterion; per service, version and criterion; per formulary rule), so that the
query reads tens of rows. Its rows are computed from the summary graph by one SPARQL update,
``queries/tally/refresh.ru``; its terms are declared in ``ontology/guideline.ttl``.

Freshness: every write of determinations (``records.put_cases``, ``summary.rebuild``) adds one
to the store generation (``mtus:storeGeneration`` of ``<https://w3id.org/mtus/store>`` in the
graph ``<https://w3id.org/mtus/store/state>``) in the same transaction; the tally is stamped
with the generation it was computed at. ``ensure`` (one ASK) recomputes it when the stamps
differ; ``mtus batch`` calls it at the end of a batch, ``mtus query``, ``querylib.run`` and the
service's Analysts page before every query, so a named query never reads stale counts.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from .. import rulebase
from .errors import StoreError

if TYPE_CHECKING:
    from .records import Backend

GRAPH = "https://w3id.org/mtus/store/tally"
STATE = "https://w3id.org/mtus/store/state"
STORE = "https://w3id.org/mtus/store"
_GENERATION = "<https://w3id.org/mtus/ontology#storeGeneration>"


@cache
def refresh_update() -> str:
    """The SPARQL update that recomputes the tally graph (queries/tally/refresh.ru)."""
    return (rulebase.default_root() / "queries" / "tally" / "refresh.ru").read_text(encoding="utf-8")


def bump_update() -> str:
    """A SPARQL update operation adding one to the store generation (written with every change
    of the stored determinations, in the same update or before the load that changes them)."""
    return (f"DELETE {{ GRAPH <{STATE}> {{ <{STORE}> {_GENERATION} ?g }} }} "
            f"INSERT {{ GRAPH <{STATE}> {{ <{STORE}> {_GENERATION} ?next }} }} "
            f"WHERE {{ OPTIONAL {{ GRAPH <{STATE}> {{ <{STORE}> {_GENERATION} ?g }} }} BIND(COALESCE(?g + 1, 1) AS ?next) }}")


def fresh(store: Backend) -> bool:
    """True if the tally was computed at the store's current generation."""
    return bool(store.select(
        f"ASK {{ GRAPH <{GRAPH}> {{ <{GRAPH}> {_GENERATION} ?t }} "
        f"OPTIONAL {{ GRAPH <{STATE}> {{ <{STORE}> {_GENERATION} ?s }} }} FILTER(?t = COALESCE(?s, 0)) }}").boolean)


def refresh(store: Backend) -> None:
    """Recompute the tally from the summary graph (one update, one transaction)."""
    store.update(refresh_update())


def ensure(store: Backend) -> bool:
    """Recompute the tally if the store changed since it was computed; True if it was."""
    if fresh(store):
        return False
    try:
        refresh(store)
    except StoreError as exc:  # a read-only endpoint: no stale counts, a clear error instead
        raise StoreError(f"the store changed since its tally (the counts the analysts' queries read) was "
                         f"computed, and recomputing it failed: {exc}; give an update endpoint "
                         "(--update-endpoint) or run `mtus batch` or a named query on a writable store first") from None
    return True
