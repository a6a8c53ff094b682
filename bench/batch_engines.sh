#!/bin/bash
# `mtus batch` with the fast and the reference engine, side by side in one run: N generated cases
# (JSON Lines, seed 3) into fresh embedded stores, 2 workers; the reference engine on the first M.
#   bench/batch_engines.sh [N=2000] [M=300]      (from the repository root, after `make test`)
set -euo pipefail
N=${1:-2000}
M=${2:-300}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
.venv/bin/mtus generate --count "$N" --seed 3 --out "$WORK/all.jsonl" > /dev/null
head -n "$M" "$WORK/all.jsonl" > "$WORK/first.jsonl"
run() {  # engine, file
  local start end count
  start=$(date +%s.%N)
  .venv/bin/mtus batch "$WORK/$2.jsonl" --store "$WORK/store-$1-$2" --jobs 2 --engine "$1" --quiet \
    | sed -n 2p > "$WORK/summary.txt" || true
  end=$(date +%s.%N)
  count=$(wc -l < "$WORK/$2.jsonl")
  awk -v e="$1" -v n="$count" -v s="$start" -v t="$end" -v line="$(cat "$WORK/summary.txt")" \
    'BEGIN { printf "%-9s %6d cases  %6.1f s  %6.0f cases/s %s\n", e, n, t - s, n / (t - s), line }'
}
run fast first
run reference first
run fast all
