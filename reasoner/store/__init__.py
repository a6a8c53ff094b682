"""Stores of rule base, cases and determinations: the embedded one (pyoxigraph, the default)
and any SPARQL 1.1 endpoint. Both answer the same queries with the same rows (tested against a
real Oxigraph server)."""

from __future__ import annotations

import re
from pathlib import Path

from .embedded import EmbeddedStore
from .endpoint import EndpointStore
from .errors import StoreError
from .records import Backend, CaseRecord
from .terms import QueryResult

DEFAULT_STORE = Path("mtus-store")

Store = EmbeddedStore | EndpointStore


def open_store(path: Path | None = None, endpoint: str | None = None,
               update_endpoint: str | None = None, create: bool = True) -> Store:
    """The endpoint if one is given (also as ``--store http://...``), else the embedded store at
    ``path`` (default ./mtus-store); ``create=False`` refuses a folder that holds no store yet."""
    if endpoint is None and path is not None and re.match(r"https?:/", str(path)):
        endpoint = re.sub(r"^(https?):/+", r"\1://", str(path))  # a Path folds the URL's "//"
    if endpoint is not None:
        return EndpointStore(endpoint, update_endpoint)
    path = path if path is not None else DEFAULT_STORE
    if not create and not path.is_dir():
        raise StoreError(f"--store {path}: no store there; `mtus batch CASES --store {path}` creates one")
    return EmbeddedStore(path)


__all__ = ["DEFAULT_STORE", "Backend", "CaseRecord", "EmbeddedStore", "EndpointStore", "QueryResult",
           "Store", "StoreError", "open_store"]
