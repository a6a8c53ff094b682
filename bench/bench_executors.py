"""Dask distributed or Ray for ``mtus batch --executor``: the measurement that chose one.

    python bench/bench_executors.py [--rounds 100] [--size 128] [--repeat 3] [--only dask,ray]

For each engine, in this one run: the start-up of a local cluster of 2 worker processes on
127.0.0.1 (each worker holding a state object set up once, as the batch's warm engine is: a
Dask worker plugin, a Ray actor), then ``--rounds`` rounds of ``--size`` small payloads (a
generated-case-sized mapping each) sent to the workers and their small results brought back:
one round at a time (latency) and with every round in flight (throughput), then the shutdown;
and the resident memory of the cluster's processes once started.
Each figure is the median of ``--repeat`` runs (a fresh cluster each time). Needs both
packages installed (``pip install 'dask[distributed]' ray``); the project installs only the one
chosen. The machine is shared: compare the two engines of one run, with its load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any


def payloads(rounds: int, size: int) -> list[list[dict[str, Any]]]:
    return [[{"id": f"case-{r}-{i}", "review_date": "2024-01-15", "injury_date": "2023-03-02",
              "requests": [{"id": "1", "service": "physical-therapy", "region": "lumbar", "visits": 6}]}
             for i in range(size)] for r in range(rounds)]


def cluster_mib() -> float:
    """Resident memory of this process's descendants (the cluster's processes), in MiB."""
    import psutil

    total = 0
    for child in psutil.Process().children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


class State:
    """What a worker holds between rounds (stands for the warm engine)."""

    def __init__(self) -> None:
        self.calls = 0

    def run(self, cases: list[dict[str, Any]]) -> list[tuple[str, int]]:
        self.calls += 1
        return [(c["id"], len(c["requests"])) for c in cases]


# -- Dask distributed ---------------------------------------------------------------------------

def _dask_round(cases: list[dict[str, Any]]) -> list[tuple[str, int]]:
    from distributed import get_worker

    state: State = get_worker().data_state  # type: ignore[attr-defined]
    return state.run(cases)


def dask(data: list[list[dict[str, Any]]]) -> dict[str, float]:
    from distributed import Client, LocalCluster, WorkerPlugin

    class Warm(WorkerPlugin):
        def setup(self, worker: Any) -> None:
            worker.data_state = State()

    out: dict[str, float] = {}
    start = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=":0", silence_logs=50)
    client = Client(cluster)
    client.register_plugin(Warm())
    out["start"] = time.perf_counter() - start
    out["memory"] = cluster_mib()
    start = time.perf_counter()
    for chunk in data:
        client.submit(_dask_round, chunk, pure=False).result()
    out["serial"] = time.perf_counter() - start
    start = time.perf_counter()
    futures = [client.submit(_dask_round, chunk, pure=False) for chunk in data]
    results = client.gather(futures)
    out["parallel"] = time.perf_counter() - start
    assert len(results) == len(data)
    start = time.perf_counter()
    client.close()
    cluster.close()
    out["stop"] = time.perf_counter() - start
    return out


# -- Ray ----------------------------------------------------------------------------------------

def ray(data: list[list[dict[str, Any]]]) -> dict[str, float]:
    import ray as ray_module

    actor_class = ray_module.remote(num_cpus=1)(State)
    out: dict[str, float] = {}
    start = time.perf_counter()
    ray_module.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                    _node_ip_address="127.0.0.1")
    actors = [actor_class.remote() for _ in range(2)]
    ray_module.get([a.run.remote([]) for a in actors])
    out["start"] = time.perf_counter() - start
    out["memory"] = cluster_mib()
    start = time.perf_counter()
    for index, chunk in enumerate(data):
        ray_module.get(actors[index % 2].run.remote(chunk))
    out["serial"] = time.perf_counter() - start
    start = time.perf_counter()
    refs = [actors[index % 2].run.remote(chunk) for index, chunk in enumerate(data)]
    results = ray_module.get(refs)
    out["parallel"] = time.perf_counter() - start
    assert len(results) == len(data)
    start = time.perf_counter()
    ray_module.shutdown()
    out["stop"] = time.perf_counter() - start
    return out


ENGINES = {"dask": dask, "ray": ray}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="dask,ray")
    args = parser.parse_args()
    data = payloads(args.rounds, args.size)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{args.rounds} rounds of {args.size} payloads, median of {args.repeat} (fresh cluster each)")
    print(f"| engine | start 2 workers (s) | {args.rounds} rounds one at a time (ms/round) "
          f"| {args.rounds} rounds in flight (ms/round) | shutdown (s) | cluster memory (MiB) |")
    print("|---|---|---|---|---|---|")
    for name in args.only.split(","):
        runs = [ENGINES[name](data) for _ in range(args.repeat)]
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(f"| {name} | {median['start']:.2f} | {1000 * median['serial'] / args.rounds:.2f} "
              f"| {1000 * median['parallel'] / args.rounds:.2f} | {median['stop']:.2f} "
              f"| {median['memory']:.0f} |", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
