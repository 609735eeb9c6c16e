#!/usr/bin/env bash
# Side by side on this machine, in one run: the bench binary (benches/train.rs),
# then the same workloads in numpy (+ the OpenBLAS its wheel ships), in JAX and
# in PyTorch, on one thread (pinned to one core with taskset) and on two.
#
#   bash benches/peers/run.sh                  # one round
#   ROUNDS=3 bash benches/peers/run.sh         # three rounds, interleaved, for the spread
#   PEERS="numpy jax" bash benches/peers/run.sh  # leave PyTorch out
#
# Installs the pinned peers with pip when they are missing. PyPI's PyTorch
# wheel for Linux brings the CUDA libraries as dependencies (about 3 GB; it
# runs on the CPU all the same). Not part of the test suite: timings are noisy
# on a shared machine, so compare lines of the same round.
set -euo pipefail
cd "$(dirname "$0")/../.."
PEERS=${PEERS:-numpy jax torch}
NUMPY_VERSION=2.4.6
JAX_VERSION=0.10.2
TORCH_VERSION=2.15.0
python3 -c "import numpy" 2>/dev/null || pip install "numpy==$NUMPY_VERSION"
has() { [[ " $PEERS " == *" $1 "* ]]; }
if has jax; then python3 -c "import jax" 2>/dev/null || pip install "jax[cpu]==$JAX_VERSION"; fi
if has torch; then python3 -c "import torch" 2>/dev/null || pip install "torch==$TORCH_VERSION"; fi

bin=$(cargo bench --bench train --no-run 2>&1 | grep -o 'target/release/deps/train-[0-9a-f]*' | head -1)
peers=benches/peers/peers.py
# glibc's malloc keeps freed memory, as the bench binary sets it with mallopt
# (see keep_freed_memory in benches/train.rs): otherwise each step's large
# temporaries may be unmapped and faulted back in, which slows a loop that
# allocates them by up to 2x depending on the heap's history.
export GLIBC_TUNABLES=glibc.malloc.trim_threshold=2147483647:glibc.malloc.mmap_threshold=33554432
for round in $(seq "${ROUNDS:-1}"); do
    echo "== round $round (load: $(cut -d' ' -f1-3 /proc/loadavg))"
    "$bin" W1 W2 W3 W4 sgemm plain peak
    OPENBLAS_NUM_THREADS=1 PEER_THREADS=1 taskset -c 0 python3 "$peers" numpy
    OPENBLAS_NUM_THREADS=2 PEER_THREADS=2 python3 "$peers" numpy W3 W4 sgemm
    if has jax; then
        PEER_THREADS=1 taskset -c 0 python3 "$peers" jax 2>/dev/null
        PEER_THREADS=2 python3 "$peers" jax W3 W4 sgemm 2>/dev/null
    fi
    if has torch; then
        PEER_THREADS=1 taskset -c 0 python3 "$peers" torch
        PEER_THREADS=2 python3 "$peers" torch W3 W4 sgemm
    fi
done
