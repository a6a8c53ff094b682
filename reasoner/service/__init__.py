"""``mtus serve``: the HTTP service, the SPARQL endpoint and the web UI (FastAPI + uvicorn).

May import everything of the reasoner; nothing imports it but the CLI (lazily) and the tests.
"""

from __future__ import annotations

from .command import add_parser

__all__ = ["add_parser"]
