#!/usr/bin/env bash
# Interleaved comparison of bench binaries: runs each binary in turn, N rounds,
# on one workload, and prints the max, median and min of its samples/s (or
# GFLOP/s). Alternating the binaries spreads a noisy machine's slow minutes
# over all of them, so the medians can be compared where single runs cannot.
#
#   bash benches/peers/ab.sh FILTER LINE N BIN...
#
#   FILTER  the bench binary's filter, e.g. "W3 784-128-10, batch 64, 60k epoch, 1"
#   LINE    text that picks the output line to read, e.g. "W3"
#   N       rounds
#   BIN     bench binaries built from the commits to compare
#           (`cargo bench --bench train --no-run` prints the path)
#
# Example, the tree against a worktree of an older commit:
#   git worktree add /tmp/old <commit>
#   (cd /tmp/old && CARGO_TARGET_DIR=/tmp/old-target cargo bench --bench train --no-run)
#   bash benches/peers/ab.sh "W4 784-512-512-10, batch 256, 1" "1 thread(s) " 8 \
#       /tmp/old-target/release/deps/train-* target/release/deps/train-*
set -euo pipefail
filter=$1 line=$2 rounds=$3
shift 3
for _ in $(seq "$rounds"); do
    for bin in "$@"; do
        v=$("$bin" --bench "$filter" 2>&1 | grep -v '^\[' | grep -F -- "$line" |
            grep -oE '[0-9.]+ (samples/s|GFLOP/s)' | head -1 | cut -d' ' -f1)
        echo "$bin ${v:?no figure in the output of $bin}"
    done
done | python3 -c '
import sys, collections, statistics
runs = collections.defaultdict(list)
for line in sys.stdin:
    b, v = line.split()
    runs[b].append(float(v))
for b, v in runs.items():
    print(f"{b}: max {max(v):.1f} median {statistics.median(v):.1f} min {min(v):.1f}  n={len(v)}")
'
