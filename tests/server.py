"""A running ``mtus serve`` for the service's tests: started on 127.0.0.1 at a free port in a
process of its own, stopped when the tests end; its log is kept to check nothing of a case
reaches it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

TOKEN = "test-token-" + os.urandom(6).hex()
ROW_LIMIT = 40


@dataclass
class Server:
    url: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(startup_seconds: float = 240.0) -> Server:
    port = _free_port()
    log = Path(tempfile.mkdtemp(prefix="mtus-serve-")) / "serve.log"
    env = {**os.environ, "MTUS_SERVICE_TOKEN": TOKEN}
    with log.open("wb") as handle:  # the child keeps its own descriptor
        process = subprocess.Popen([sys.executable, "-m", "reasoner.cli", "serve", "--port", str(port),
                                    "--row-limit", str(ROW_LIMIT)], stdout=handle, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + startup_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mtus serve exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return Server(url, TOKEN, process, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop(Server(url, TOKEN, process, log))
    raise RuntimeError(f"mtus serve did not answer within {startup_seconds:g} s")


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
