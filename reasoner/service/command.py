"""``mtus serve [--host 127.0.0.1] [--port 8000] [--store DIR] [--token TOKEN]``."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
from pathlib import Path

from ..errors import EXIT_OK

TOKEN_VARIABLE = "MTUS_SERVICE_TOKEN"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("serve", help="run the HTTP service, SPARQL endpoint and web UI (FastAPI + uvicorn)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--store", type=Path, default=None,
                        help="embedded store folder kept across runs (default: in memory, lost at exit)")
    parser.add_argument("--token", default=None,
                        help=f"bearer token of the routes that write (POST /batch, POST /evaluate?store=true); "
                             f"default ${TOKEN_VARIABLE}, else a random one printed at start")
    parser.add_argument("--sparql-timeout", type=float, default=10.0, metavar="SECONDS")
    parser.add_argument("--row-limit", type=int, default=10_000)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    import uvicorn

    from .. import engines, rulebase
    from .app import Settings, create_app

    token = args.token or os.environ.get(TOKEN_VARIABLE) or ""
    if not token:
        token = secrets.token_urlsafe(24)
        print(f"mtus serve: token for the routes that write: {token}", file=sys.stderr)
    rb = rulebase.get(args.rules)
    engines.fast_engine(rb)  # compile before the first request
    app = create_app(Settings(token=token, store=args.store, sparql_timeout=args.sparql_timeout,
                              row_limit=args.row_limit), rb)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(f"mtus serve: http://{args.host}:{args.port}/ (API: /openapi.json)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
    return EXIT_OK
