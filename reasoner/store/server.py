"""A local Oxigraph server (the ``oxigraph`` command of the PyPI package of that name), bound
to 127.0.0.1 on a free port, for the tests and the benchmark; stopped on leaving the block."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import StoreError


def oxigraph_binary() -> str:
    """The ``oxigraph`` command beside this Python (a virtual environment), else on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file():
        return str(beside)
    found = shutil.which("oxigraph")
    if found is None:
        raise StoreError("the oxigraph command is not installed: pip install oxigraph (the server, "
                         "not pyoxigraph)")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}?query=ASK%7B%7D", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def local_server(location: Path | None = None, startup_seconds: float = 30.0) -> Iterator[str]:
    """Start ``oxigraph serve`` (data in ``location``, else in memory); yield its query URL."""
    binary = oxigraph_binary()
    for _attempt in range(3):
        port = free_port()
        command = [binary, "serve", "--bind", f"127.0.0.1:{port}"]
        if location is not None:
            command += ["--location", str(location)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/query"
        deadline = time.monotonic() + startup_seconds
        while process.poll() is None and time.monotonic() < deadline and not _ready(url):
            time.sleep(0.05)
        if process.poll() is None and _ready(url):
            break
        process.kill()
        process.wait()
    else:
        raise StoreError(f"the Oxigraph server ({binary}) did not start on 127.0.0.1")
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
