"""Run the mutation corpus (tests/fuzzcorpus.py) through ``mtus evaluate`` and ``mtus batch``'s
fast rounds, in this process, and report (``make fuzz``; a sample runs in tests/test_fuzz.py).

For each case file it checks:
- crash: ``mtus evaluate`` exits with anything but 0 or 2, prints a traceback, or batch reports
  an internal error;
- hang: a case takes more than ``--timeout`` seconds;
- echo: a refusal's message quotes :data:`tests.fuzzcorpus.MARKER` (a value of the case);
- disagreement: ``mtus evaluate`` and ``mtus batch`` do not accept the same cases with the same
  decisions, or refuse them with the same message (and, on every ``--reference-every``-th case,
  the reference path);
- leak: a connection reached the listener on 127.0.0.1, or a probed file was opened;
- missed: a case the corpus expects refused was accepted (or an output file was written for a
  refused case).

Usage: python -m tests.fuzz [--count 1050] [--seed 16] [--timeout 20] [--reference-every 10]
Exit status 0 when every count but the totals is 0.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from reasoner import batch, caseformat, cli, engines, rulebase
from reasoner.errors import MtusError

from . import fuzzcorpus

PROBED_FILES = ("/etc/passwd", "/context.jsonld")


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        """Stop accepting, wait for the thread (its accept times out within 0.2 s), then close the
        socket: closed under a thread still in accept(), its descriptor number could be reused by
        a file the next test opens."""
        self._stop = True
        self._thread.join()
        self.sock.close()


class _Opens:
    """An audit hook recording every file open of a probed path (installed once per process)."""

    paths: ClassVar[list[str]] = []
    active = False
    installed = False

    @classmethod
    def install(cls) -> None:
        if cls.installed:
            return

        def hook(event: str, args: tuple[Any, ...]) -> None:
            if cls.active and event == "open" and args and isinstance(args[0], (str, bytes)):
                name = args[0] if isinstance(args[0], str) else args[0].decode("utf-8", "replace")
                if any(name.endswith(p) for p in PROBED_FILES) or name == "context.jsonld":
                    cls.paths.append(name)
            if cls.active and event == "socket.connect":
                cls.paths.append(f"connect {args[1]!r}")

        sys.addaudithook(hook)
        cls.installed = True


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Timeout()


@dataclass
class Report:
    total: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    problems: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    seconds: float = 0.0
    slowest: tuple[float, str] = (0.0, "")
    connections: int = 0
    peak_rss_mb: float = 0.0

    def bad(self) -> int:
        return sum(len(v) for v in self.problems.values())

    def text(self) -> str:
        lines = [(f"fuzz: {self.total} case files in {len(self.by_category)} categories, {self.seconds:.1f} s "
                  f"(slowest {self.slowest[0]:.2f} s: {self.slowest[1]}), peak memory {self.peak_rss_mb:.0f} MB")]
        for kind in ("crash", "hang", "echo", "disagreement", "leak", "missed"):
            lines.append(f"  {kind}: {len(self.problems[kind])}")
        lines.append(f"  connections to the listener: {self.connections}")
        lines.append("  by category (files: accepted / refused):")
        for category in sorted(self.by_category):
            lines.append(f"    {category:22} {self.by_category[category]:5}: {self.accepted[category]:4} / "
                         f"{self.rejected[category]:4}")
        for kind, items in sorted(self.problems.items()):
            for item in items[:20]:
                lines.append(f"  {kind}: {item}")
        return "\n".join(lines) + "\n"


def _cli(path: Path, out: Path) -> tuple[int, str, dict[str, str] | None]:
    """``mtus evaluate PATH --format json --output OUT``: exit code, stderr, decisions by request id."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["evaluate", str(path), "--format", "json", "--output", str(out)])
    decided = None
    if code == 0 and out.exists():
        data = json.loads(out.read_text(encoding="utf-8"))
        decided = {item["request"]: item["decision"] for det in data for item in det["items"]}
        out.unlink()
    return code, err.getvalue(), decided


def _batch(paths: list[Path], rb: Any) -> dict[str, tuple[str, Any]]:
    """What ``mtus batch`` (its fast rounds) makes of each file: ("ok", decisions) or ("error", text)."""
    refs = [batch.CaseRef(str(p)) for p in paths]
    out: dict[str, tuple[str, Any]] = {}
    for i in range(0, len(refs), batch.CHUNK):
        for ref, record, error in batch._work_fast(refs[i:i + batch.CHUNK], rb):
            if record is not None:
                out[ref.path] = ("ok", {rid: decision for rid, _, decision in record.decisions})
            else:
                out[ref.path] = ("error", error or "")
    return out


def run(count: int = 1050, seed: int = 16, timeout: float = 20.0, reference_every: int = 10,
        sample: int | None = None) -> Report:
    rb = rulebase.get()
    listener = Listener()
    _Opens.install()
    report = Report()
    mutants = fuzzcorpus.generate(seed, count, listener.port)
    if sample is not None:
        mutants = mutants[::max(1, len(mutants) // sample)][:sample]
    previous = signal.signal(signal.SIGALRM, _alarm)
    clock = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="mtus-fuzz-") as tmp:
            folder = Path(tmp) / "cases"
            paths = fuzzcorpus.write(mutants, folder)
            out = Path(tmp) / "out.json"
            evaluated: dict[str, tuple[int, str, dict[str, str] | None]] = {}
            _Opens.active = True
            for mutant, path in zip(mutants, paths, strict=True):
                report.total += 1
                report.by_category[mutant.category] += 1
                start = time.perf_counter()
                signal.setitimer(signal.ITIMER_REAL, timeout)
                try:
                    code, err, decided = _cli(path, out)
                except Timeout:
                    report.problems["hang"].append(mutant.name)
                    continue
                except BaseException as exc:  # noqa: BLE001 - a crash is what is counted
                    report.problems["crash"].append(f"{mutant.name}: {type(exc).__name__}")
                    continue
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                took = time.perf_counter() - start
                report.slowest = max(report.slowest, (took, mutant.name))
                evaluated[str(path)] = (code, err, decided)
                if code not in (0, 2) or "Traceback" in err or "internal error" in err:
                    report.problems["crash"].append(f"{mutant.name}: exit {code}")
                if fuzzcorpus.MARKER in err or fuzzcorpus.MARKER[:12] in err:
                    report.problems["echo"].append(mutant.name)
                if code == 0:
                    report.accepted[mutant.category] += 1
                    if mutant.expect == "reject":
                        report.problems["missed"].append(mutant.name)
                else:
                    report.rejected[mutant.category] += 1
                    if out.exists():
                        report.problems["missed"].append(f"{mutant.name}: output written")
                        out.unlink()
            signal.setitimer(signal.ITIMER_REAL, timeout * 10)
            try:
                batched = _batch(paths, rb)
            except Timeout:
                batched = {}
                report.problems["hang"].append("batch")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            for index, (mutant, path) in enumerate(zip(mutants, paths, strict=True)):
                got = evaluated.get(str(path))
                done = batched.get(str(path))
                if got is None or done is None:
                    continue
                code, err, decided = got
                kind, what = done
                if kind == "error" and "internal error" in what:
                    report.problems["crash"].append(f"{mutant.name}: batch internal error")
                if kind == "error" and fuzzcorpus.MARKER in what:
                    report.problems["echo"].append(f"{mutant.name} (batch)")
                same = (code == 0 and kind == "ok" and decided == what) or \
                       (code == 2 and kind == "error" and f"mtus: {what}" in err)
                if not same:
                    report.problems["disagreement"].append(f"{mutant.name}: evaluate exit {code}, batch {kind}")
                if reference_every and index % reference_every == 0:
                    signal.setitimer(signal.ITIMER_REAL, timeout)
                    try:
                        ref = engines.evaluate(path, rb, engine="reference")
                        ref_kind, ref_what = "ok", {i.request_id: i.decision for i in ref.items}
                    except MtusError as exc:
                        ref_kind, ref_what = "error", str(exc)
                    except Timeout:
                        report.problems["hang"].append(f"{mutant.name} (reference)")
                        continue
                    except Exception as exc:  # noqa: BLE001
                        report.problems["crash"].append(f"{mutant.name} (reference): {type(exc).__name__}")
                        continue
                    finally:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                    if (ref_kind, ref_what) != (kind, what) and not (ref_kind == kind == "error" and
                                                                     isinstance(ref_what, str)
                                                                     and ref_what == what):
                        report.problems["disagreement"].append(f"{mutant.name}: reference {ref_kind}, batch {kind}")
            _Opens.active = False
    finally:
        signal.signal(signal.SIGALRM, previous)
        listener.close()
    report.seconds = time.perf_counter() - clock
    report.connections = listener.connections
    if listener.connections:
        report.problems["leak"].append(f"{listener.connections} connection(s) to the listener")
    report.problems["leak"] += _Opens.paths
    _Opens.paths = []
    report.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return report


def largest_accepted(tmp: Path, requests: int) -> tuple[float, float, int]:
    """Seconds and peak memory (MB) of ``mtus evaluate`` on a case of ``requests`` requests, in
    a process of its own, and the file's size in bytes."""
    import copy
    import random

    import yaml

    base = fuzzcorpus.bases(random.Random(1), 0)[0]
    template = base["requests"][0]
    base["requests"] = [{**copy.deepcopy(template), "id": str(i)} for i in range(1, requests + 1)]
    text = yaml.safe_dump(base, sort_keys=False)
    # a note on each request, to bring the file near the size limit
    room = caseformat.LIMITS.file_bytes - len(text.encode()) - 64 * requests
    if room > 0:
        for request in base["requests"]:
            request["note"] = "n" * min(caseformat.LIMITS.text_chars, room // requests)
        text = yaml.safe_dump(base, sort_keys=False, width=10**6)
    path = tmp / f"largest-{requests}.yaml"
    path.write_text(text, encoding="utf-8")
    # a small wrapper process starts mtus evaluate and reads its peak memory (a child forked from
    # this big process would report this process's memory)
    wrapper = ("import resource, subprocess, sys, time\n"
               "start = time.perf_counter()\n"
               "subprocess.run(sys.argv[1:], check=True)\n"
               "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    done = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "reasoner.cli", "evaluate", str(path),
                           "--format", "json", "--output", str(tmp / "largest.json")],
                          check=True, capture_output=True, text=True)
    took, peak = done.stdout.split()
    return float(took), int(peak) / 1024, path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1050)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--reference-every", type=int, default=10)
    parser.add_argument("--largest", type=int, default=1000, help="requests of the largest case measured (0: none)")
    args = parser.parse_args(argv)
    report = run(args.count, args.seed, args.timeout, args.reference_every)
    sys.stdout.write(report.text())
    if args.largest:
        with tempfile.TemporaryDirectory(prefix="mtus-fuzz-") as tmp:
            took, peak, size = largest_accepted(Path(tmp), args.largest)
        sys.stdout.write(f"largest accepted case: {args.largest} requests ({size} bytes): mtus evaluate "
                         f"{took:.1f} s, peak memory {peak:.0f} MB\n")
    return 1 if report.bad() else 0


if __name__ == "__main__":
    sys.exit(main())
