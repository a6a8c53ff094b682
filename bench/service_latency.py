"""Latency of ``POST /evaluate`` for one case (the seed IMR case, five items) on ``mtus serve``
at 127.0.0.1: a load generator (httpx, keep-alive) sends the case N times after a warm-up, from
1 and from 2 clients at once, and reports p50/p95/max in milliseconds and requests per second.
Not part of the tests; target p50 <= 25 ms warm (issue 13).

    .venv/bin/python bench/service_latency.py [--requests 500] [--case FILE] [--accept application/json]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start() -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    process = subprocess.Popen([sys.executable, "-m", "reasoner.cli", "serve", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "MTUS_SERVICE_TOKEN": "bench"})
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.25)
    process.kill()
    raise SystemExit("mtus serve did not start")


def _run(url: str, body: bytes, media: str, accept: str, count: int) -> list[float]:
    times = []
    with httpx.Client(base_url=url, headers={"Content-Type": media, "Accept": accept}, timeout=60) as client:
        for _ in range(count):
            start = time.perf_counter()
            response = client.post("/evaluate", content=body)
            times.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"POST /evaluate -> {response.status_code}")
    return times


def _line(label: str, times: list[float], seconds: float) -> str:
    ordered = sorted(times)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (f"{label}: {len(times)} requests, p50 {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms, "
            f"max {ordered[-1]:.1f} ms, {len(times) / seconds:.0f} req/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--case", type=Path, default=ROOT / "examples" / "seed-imr-case.yaml")
    parser.add_argument("--accept", default="application/json")
    args = parser.parse_args()
    body = args.case.read_bytes()
    media = "application/json" if args.case.suffix == ".json" else "application/yaml"
    process, url = _start()
    try:
        _run(url, body, media, args.accept, 50)  # warm-up
        start = time.perf_counter()
        one = _run(url, body, media, args.accept, args.requests)
        print(_line("1 client ", one, time.perf_counter() - start))
        start = time.perf_counter()
        with cf.ThreadPoolExecutor(2) as pool:
            both = [t for part in pool.map(lambda _: _run(url, body, media, args.accept, args.requests // 2), range(2))
                    for t in part]
        print(_line("2 clients", both, time.perf_counter() - start))
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
