"""The benchmark's table, and the figures block of README.md's "Performance" section."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- bench:begin (written by `make bench`; do not edit by hand) -->", "<!-- bench:end -->"


def _rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    naive = r["naive"]["cases_per_s"]
    floor = r["floor"]["cases_per_s"]
    lat = r["latency"]
    cli = r["cold_cli"]
    rows = [
        ("floor: parse to RDF only (Oxigraph JSON-LD), 1 process",
         f"{floor:,.0f} cases/s ({r['floor']['ms_per_case']:.2f} ms/case)", f"{floor / naive:,.0f}x", "1"),
        (f"naive baseline (pySHACL, whole shapes graph, OWL-RL), {r['naive']['cases']} cases",
         f"{r['naive']['s_per_case']:.2f} s/case", "1", f"1/{floor / naive:,.0f}"),
        ("warm latency, reference path (p50 / p95)",
         f"{lat['reference']['p50_ms']:.0f} / {lat['reference']['p95_ms']:.0f} ms",
         f"{1000 * r['naive']['s_per_case'] / lat['reference']['p50_ms']:,.0f}x", ""),
        ("warm latency, fast path (p50 / p95)", f"{lat['fast']['p50_ms']:.1f} / {lat['fast']['p95_ms']:.1f} ms",
         f"{1000 * r['naive']['s_per_case'] / lat['fast']['p50_ms']:,.0f}x",
         f"{r['floor']['ms_per_case'] / lat['fast']['p50_ms']:.2f}"),
        ("cold CLI `mtus evaluate` one case (reference / fast path)",
         f"{cli['reference_s']:.2f} / {cli['fast_s']:.2f} s", "", ""),
        ("cold CLI with an empty rule-base cache (reference)", f"{cli['empty_cache_s']:.2f} s", "", ""),
    ]
    for t in r["throughput"]:
        rows.append((f"batch N={t['cases']:,}, {t['workers']} worker(s), fast path",
                     f"{t['cases_per_s']:,.0f} cases/s, peak {t['peak_rss_mib']:,.0f} MiB",
                     f"{t['cases_per_s'] / naive:,.0f}x", f"{t['cases_per_s'] / floor:.2f}"))
    d = r["differential"]
    rows.append((f"differential check, {d['cases']:,} generated cases ({d['items']:,} items)",
                 f"{d['identical']:,} identical, {d['decisions_identical']:,} same decisions", "", ""))
    return rows


def table(r: dict[str, Any]) -> str:
    m = r["machine"]
    head = (f"MTUS reasoner benchmark, {r['when']}: {m['cpus']} CPUs, load average "
            f"{m['load_before'][0]:.1f} before / {m['load_after'][0]:.1f} after; rule base "
            f"{r['rulebase']['version']} ({r['rulebase']['sections']} sections, {r['rulebase']['rules']} rules)")
    rows = [("measure", "result", "vs naive", "vs floor"), *_rows(r)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [head, ""]
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    phases = r["latency"]["fast"].get("phases_ms", {})
    if phases:
        lines.append("")
        lines.append("fast path, one case at a time, ms per case by phase: "
                     + ", ".join(f"{k} {v:.2f}" for k, v in sorted(phases.items(), key=lambda kv: -kv[1])))
    batch = [t for t in r["throughput"] if t.get("phases_ms")]
    if batch:
        t = max(batch, key=lambda row: row["cases"])
        lines.append(f"fast path, batches of 128 (N={t['cases']:,}, 1 worker), ms per case by phase: "
                     + ", ".join(f"{k} {v:.2f}" for k, v in sorted(t["phases_ms"].items(), key=lambda kv: -kv[1])))
    prof = r.get("profile")
    if prof:
        lines.append(f"profile ({prof['tool']}) of the pool's batches, share of samples by engine step:")
        lines += [f"  {share:5.1f}%  {name}" for name, share in prof.get("engine_step", prof["own"])[:8]]
    return "\n".join(lines)


def markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    intro = (f"Latest run: {r['when'][:10]}, {m['cpus']} CPUs (load average {m['load_before'][0]:.1f} at the "
             f"start, {m['load_after'][0]:.1f} at the end), rule base {r['rulebase']['version']} with "
             f"{r['rulebase']['sections']} sections and {r['rulebase']['rules']} rules. "
             "\"vs naive\" is how many times faster than the naive baseline; \"vs floor\" is the share "
             "of the floor's rate (parsing the same cases into RDF and nothing else).")
    lines = [intro, "",
             "| measure | result | vs naive | vs floor |", "|---|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in _rows(r)]
    return "\n".join(lines)


def update_readme(path: Path, r: dict[str, Any]) -> None:
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        return
    path.write_text(pattern.sub(lambda _: f"{BEGIN}\n{markdown(r)}\n{END}", text), encoding="utf-8")
