"""Measuring helpers: percentiles, the peak memory of a process tree, whole-process timings of
the command line, and where the fast path's time goes (py-spy, else cProfile)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Self


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                tree.setdefault(int(fields[1]), []).append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return tree


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mib(root: int | None = None) -> float:
    """Resident memory of a process and all its descendants, in MiB."""
    root = root or os.getpid()
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_kib(pid)
        todo += tree.get(pid, [])
    return total / 1024


class PeakMemory:
    """Samples the resident memory of a process tree in the background; ``peak`` in MiB."""

    def __init__(self, interval: float = 0.25, root: int | None = None) -> None:
        self.interval = interval
        self.root = root  # the process whose tree is measured (default: this one)
        self.peak = 0.0
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            value = tree_rss_mib(self.root)
            self.samples.append(value)
            self.peak = max(self.peak, value)
            self._stop.wait(self.interval)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed_runs(argv: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    """Wall-clock seconds of ``runs`` whole-process runs of a command (output discarded)."""
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
        out.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return out


def profile(script: list[str], top: int = 15) -> dict[str, Any]:
    """Where the time of a Python command goes: py-spy's samples by innermost function (own
    time) and by the innermost step of the engine (total time); cProfile if py-spy cannot
    attach."""
    spy = Path(sys.executable).with_name("py-spy")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "profile.txt"
        if spy.is_file():
            done = subprocess.run([str(spy), "record", "--format", "raw", "--rate", "250", "--nonblocking",
                                   "-o", str(raw), "--", sys.executable, *script],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
            if done.returncode == 0 and raw.is_file():
                return {"tool": "py-spy", **_collapse(raw.read_text(), top)}
        stats = Path(tmp) / "profile.pstats"
        subprocess.run([sys.executable, "-m", "cProfile", "-o", str(stats), *script],
                       stdout=subprocess.DEVNULL, check=True)
        import pstats

        table = pstats.Stats(str(stats)).stats  # type: ignore[attr-defined]
        own = Counter({f"{fn} ({Path(file).name}:{line})": tt for (file, line, fn), (_, _, tt, _, _) in table.items()})
        total = sum(own.values()) or 1.0
        return {"tool": "cProfile", "own": [(name, round(100 * t / total, 1)) for name, t in own.most_common(top)]}


def _collapse(text: str, top: int) -> dict[str, Any]:
    own: Counter[str] = Counter()
    phase: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[_frame(frames[-1])] += n
        steps = [f for f in frames if "fastpath/engine.py" in f]
        phase[_frame(steps[-1]).split(" (")[0] if steps else "(outside the engine)"] += n
    total = total or 1
    return {"samples": total,
            "own": [(name, round(100 * n / total, 1)) for name, n in own.most_common(top)],
            "engine_step": [(name, round(100 * n / total, 1)) for name, n in phase.most_common(top)]}


def _frame(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    file, _, line = where.rpartition(":")
    return f"{name} ({Path(file).name}:{line})" if file else name


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
