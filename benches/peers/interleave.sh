#!/usr/bin/env bash
# mlp and its peers in turn on one two-thread workload, N rounds: each round
# runs the bench binary, then PyTorch, numpy and JAX, one after the other, and
# the summary gives each one's median, min and max, and mlp's ratio to each
# peer within a round. On a machine whose speed swings from minute to minute,
# this is the fair way to read a ratio: both sides of it come from the same
# minute, and the median over rounds is not one lucky or unlucky minute.
#
#   bash benches/peers/interleave.sh W4 10     # W4 784-512-512-10, batch 256
#   bash benches/peers/interleave.sh W3 10     # W3 784-128-10, batch 64
#
# Needs the peers that run.sh installs (run it once first).
set -euo pipefail
cd "$(dirname "$0")/../.."
workload=${1:?W3 or W4} rounds=${2:-10}
case $workload in
W3) filter="W3 784-128-10, batch 64, 60k epoch, 2" ;;
W4) filter="W4 784-512-512-10, batch 256, 2" ;;
*) echo "workload must be W3 or W4" >&2; exit 2 ;;
esac
python3 -c "import numpy, jax, torch" 2>/dev/null || {
    echo "interleave.sh needs numpy, JAX and PyTorch: run benches/peers/run.sh once, which installs them" >&2
    exit 1
}
bin=$(cargo bench --bench train --no-run 2>&1 | grep -o 'target/release/deps/train-[0-9a-f]*' | head -1)
peers=benches/peers/peers.py
# As in run.sh: glibc's malloc keeps freed memory for the peers too.
export GLIBC_TUNABLES=glibc.malloc.trim_threshold=2147483647:glibc.malloc.mmap_threshold=33554432
pick() { grep -F "2 thread(s) " | grep -oE '[0-9]+ samples/s' | head -1 | cut -d' ' -f1; }
for _ in $(seq "$rounds"); do
    m=$("$bin" "$filter" | pick)
    t=$(PEER_THREADS=2 python3 "$peers" torch "$workload" 2>/dev/null | pick)
    n=$(OPENBLAS_NUM_THREADS=2 PEER_THREADS=2 python3 "$peers" numpy "$workload" 2>/dev/null | pick)
    j=$(PEER_THREADS=2 python3 "$peers" jax "$workload" 2>/dev/null | pick)
    echo "${m:?} ${t:?} ${n:?} ${j:?}"
done | python3 -c '
import sys, statistics as st
rounds = [tuple(map(float, line.split())) for line in sys.stdin]
names = ["mlp", "PyTorch", "numpy", "JAX"]
print(f"'"$workload"', two threads, samples/s over {len(rounds)} interleaved rounds")
for i, name in enumerate(names):
    v = [r[i] for r in rounds]
    print(f"  {name:<8} median {st.median(v):>9.0f}  min {min(v):>9.0f}  max {max(v):>9.0f}")
for i, name in enumerate(names[1:], 1):
    q = [r[0] / r[i] for r in rounds]
    print(f"  mlp / {name:<8} per round: median {st.median(q):.2f}x  min {min(q):.2f}x  max {max(q):.2f}x")
'
