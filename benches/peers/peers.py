"""The performance issue's workloads in numpy (+ its OpenBLAS), JAX and
PyTorch, for a side-by-side run on the machine at hand.

    python3 benches/peers/peers.py numpy [W1 W2 W3 W4 sgemm]
    python3 benches/peers/peers.py jax [W1 W2 W3 W4 sgemm]
    python3 benches/peers/peers.py torch [W1 W2 W3 W4 sgemm]

The threads are set from outside (see `run.sh`): `OPENBLAS_NUM_THREADS` for
numpy, and `taskset -c 0` for one thread in any of them; PyTorch also takes
`PEER_THREADS` as its `torch.set_num_threads`, and for the others it only
labels the output.

Same networks, data shapes and optimiser as `benches/train.rs` (f32, plain SGD,
sigmoid/bce XOR 2-4-1 with eta 0.5, relu/softmax cross-entropy MNIST shapes
with eta 0.01), written the way each library's users write them: the textbook
loop in numpy, one `jax.jit`-compiled update in JAX, and `nn.Sequential` with
`torch.optim.SGD` and the usual zero_grad / backward / step in PyTorch. Each
figure is the median of several timed samples after a warm-up sample; lines
use the bench binary's format so the two outputs read side by side. `run.sh`
runs everything.
"""

import os
import sys
import time

import numpy as np

F32 = np.float32
PARTS = sys.argv[2:] or ["W1", "W2", "W3", "W4", "sgemm"]


def want(part):
    return part in PARTS


def median_secs(samples, iters, f):
    times = []
    for s in range(samples + 1):
        t = time.perf_counter()
        for _ in range(iters):
            f()
        if s > 0:
            times.append((time.perf_counter() - t) / iters)
    times.sort()
    return times[len(times) // 2]


def calibrate(f, target=0.2):
    iters = 1
    while True:
        t = time.perf_counter()
        for _ in range(iters):
            f()
        if time.perf_counter() - t >= target / 4 or iters >= 1 << 24:
            return max(iters * 4, 1)
        iters *= 2


def report(name, secs, samples_per_step):
    print(f"{name:<52} {secs * 1e6:>12.3f} us/step {samples_per_step / secs:>14.0f} samples/s",
          flush=True)


def xor():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=F32)
    y = np.array([[0], [1], [1], [0]], dtype=F32)
    return x, y


def synthetic(rows, cols, classes):
    i = np.arange(rows)[:, None]
    j = np.arange(cols)[None, :]
    x = (((i * 31 + j * 17) % 256).astype(F32) / F32(255.0))
    y = np.zeros((rows, classes), dtype=F32)
    y[np.arange(rows), (np.arange(rows) * 7) % classes] = 1.0
    return x, y


def init(sizes, seed=0):
    """He-normal weights (out x in) and zero biases."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        w = (rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)).astype(F32)
        params.append([w, np.zeros(n_out, dtype=F32)])
    return params


# ----------------------------------------------------------------- numpy


def np_sigmoid(a):
    return F32(1.0) / (F32(1.0) + np.exp(-a))


def np_xor_step(p, x, y, lr):
    """Sigmoid hidden, sigmoid + bce out (delta = h - y), mean over the batch."""
    (w1, b1), (w2, b2) = p
    n = F32(x.shape[0])
    h1 = np_sigmoid(x @ w1.T + b1)
    h2 = np_sigmoid(h1 @ w2.T + b2)
    d2 = (h2 - y) / n
    d1 = (d2 @ w2) * h1 * (F32(1.0) - h1)
    w2 -= lr * (d2.T @ h1)
    b2 -= lr * d2.sum(0)
    w1 -= lr * (d1.T @ x)
    b1 -= lr * d1.sum(0)


def np_mlp_step(p, x, y, lr):
    """Relu hidden layers, softmax + cross-entropy out (delta = h - y)."""
    hs = [x]
    for w, b in p[:-1]:
        hs.append(np.maximum(hs[-1] @ w.T + b, F32(0.0)))
    w, b = p[-1]
    a = hs[-1] @ w.T + b
    e = np.exp(a - a.max(1, keepdims=True))
    out = e / e.sum(1, keepdims=True)
    d = (out - y) / F32(x.shape[0])
    for k in range(len(p) - 1, -1, -1):
        w, b = p[k]
        h = hs[k]
        d_below = (d @ w) * (h > 0) if k > 0 else None
        w -= lr * (d.T @ h)
        b -= lr * d.sum(0)
        d = d_below


def run_numpy(threads):
    tag = f"numpy {np.__version__}"
    x, y = xor()
    p = init([2, 4, 1])
    f = lambda: np_xor_step(p, x, y, F32(0.5))
    if want("W1"):
        report(f"{tag} W1 XOR 2-4-1 sigmoid full batch", median_secs(7, calibrate(f), f), 4)

    rows = [(x[r:r + 1], y[r:r + 1]) for r in range(4)]

    def online():
        for xr, yr in rows:
            np_xor_step(p, xr, yr, F32(0.5))

    if want("W2"):
        report(f"{tag} W2 XOR 2-4-1 sigmoid stochastic",
               median_secs(7, calibrate(online), online) / 4, 1)

    if want("W3"):
        epoch_mlp(tag, "W3 784-128-10, batch 64", [784, 128, 10], 60_000, 64, threads,
                  lambda p, xb, yb: np_mlp_step(p, xb, yb, F32(0.01)), lambda p: p)
    if want("W4"):
        epoch_mlp(tag, "W4 784-512-512-10, batch 256", [784, 512, 512, 10], 8_192, 256, threads,
                  lambda p, xb, yb: np_mlp_step(p, xb, yb, F32(0.01)), lambda p: p)
    if not want("sgemm"):
        return
    n = 1024
    a = ((np.add.outer(np.arange(n), np.arange(n)) % 7) * 0.1).astype(F32)
    b = ((np.multiply.outer(np.arange(n), np.arange(n)) % 5) * 0.1).astype(F32)
    secs = median_secs(5, 1, lambda: a @ b)
    print(f"{tag + f' sgemm 1024^3, {threads} thread(s)':<52} "
          f"{2 * n ** 3 / secs / 1e9:>12.2f} GFLOP/s ({secs * 1e3:.1f} ms)", flush=True)


def epoch_mlp(tag, label, sizes, rows, batch, threads, step, finish):
    """One shuffled epoch of mini-batch SGD, as in the bench binary."""
    x, y = synthetic(rows, sizes[0], sizes[-1])
    p = init(sizes)
    rng = np.random.default_rng(0)

    def epoch():
        nonlocal p
        order = rng.permutation(rows)
        for s in range(0, rows, batch):
            idx = order[s:s + batch]
            p = step(p, x[idx], y[idx]) or p
        finish(p)

    secs = median_secs(3, 1, epoch)
    step_secs = secs / (rows / batch)
    report(f"{tag} {label}, {threads} thread(s)", step_secs, batch)
    if sizes == [784, 512, 512, 10]:
        params = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
        print(f"{tag + f' W4 achieved, {threads} thread(s)':<52} "
              f"{6 * params * batch / step_secs / 1e9:>12.2f} GFLOP/s (6 x params x samples)",
              flush=True)


# ------------------------------------------------------------------- JAX


def run_jax(threads):
    import jax
    import jax.numpy as jnp

    tag = f"jax {jax.__version__}"

    def xor_loss(p, x, y):
        (w1, b1), (w2, b2) = p
        h1 = jax.nn.sigmoid(x @ w1.T + b1)
        a2 = h1 @ w2.T + b2
        # bce on logits: the stable form of -y log h - (1 - y) log(1 - h).
        return jnp.mean(jnp.sum(jax.nn.softplus(a2) - y * a2, axis=1))

    def sgd(loss, lr):
        @jax.jit
        def step(p, x, y):
            g = jax.grad(loss)(p, x, y)
            return jax.tree_util.tree_map(lambda w, gw: w - lr * gw, p, g)
        return step

    x, y = xor()
    p = jax.tree_util.tree_map(jnp.asarray, init([2, 4, 1]))
    step = sgd(xor_loss, 0.5)
    state = [p]

    def w1():
        state[0] = step(state[0], x, y)
        state[0][0][0].block_until_ready()

    if want("W1"):
        report(f"{tag} W1 XOR 2-4-1 sigmoid full batch (jit)", median_secs(7, calibrate(w1), w1), 4)
    rows = [(jnp.asarray(x[r:r + 1]), jnp.asarray(y[r:r + 1])) for r in range(4)]

    def w2():
        for xr, yr in rows:
            state[0] = step(state[0], xr, yr)
        state[0][0][0].block_until_ready()

    if want("W2"):
        report(f"{tag} W2 XOR 2-4-1 sigmoid stochastic (jit)",
               median_secs(7, calibrate(w2), w2) / 4, 1)

    def mlp_loss(p, x, y):
        h = x
        for w, b in p[:-1]:
            h = jax.nn.relu(h @ w.T + b)
        w, b = p[-1]
        return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(h @ w.T + b), axis=1))

    mlp_step = sgd(mlp_loss, 0.01)

    def as_jax(p):
        return jax.tree_util.tree_map(jnp.asarray, p)

    def finish(p):
        p[0][0].block_until_ready()

    for label, sizes, rows_, batch in [("W3 784-128-10, batch 64", [784, 128, 10], 60_000, 64),
                                       ("W4 784-512-512-10, batch 256", [784, 512, 512, 10], 8_192, 256)]:
        if not want(label[:2]):
            continue
        holder = {}

        def jstep(p, xb, yb, holder=holder):
            if "p" not in holder:
                holder["p"] = as_jax(p)
            holder["p"] = mlp_step(holder["p"], xb, yb)
            return None

        def jfinish(p, holder=holder):
            finish(holder["p"])

        epoch_mlp(tag + " (jit)", label, sizes, rows_, batch, threads, jstep, jfinish)

    if not want("sgemm"):
        return
    n = 1024
    a = jnp.asarray(((np.add.outer(np.arange(n), np.arange(n)) % 7) * 0.1).astype(F32))
    b = jnp.asarray(((np.multiply.outer(np.arange(n), np.arange(n)) % 5) * 0.1).astype(F32))
    mm = jax.jit(lambda a, b: a @ b)
    mm(a, b).block_until_ready()
    secs = median_secs(5, 1, lambda: mm(a, b).block_until_ready())
    print(f"{tag + f' sgemm 1024^3, {threads} thread(s)':<52} "
          f"{2 * n ** 3 / secs / 1e9:>12.2f} GFLOP/s ({secs * 1e3:.1f} ms)", flush=True)


# --------------------------------------------------------------- PyTorch


def run_torch(threads):
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    tag = f"torch {torch.__version__.split('+')[0]}"

    def model(sizes, hidden, out=None):
        """nn.Sequential of Linear layers with our init's weights copied in."""
        layers = []
        for k, (w, b) in enumerate(init(sizes)):
            lin = nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if k < len(sizes) - 2:
                layers.append(hidden())
        if out is not None:
            layers.append(out())
        return nn.Sequential(*layers)

    def trainer(net, loss_fn, lr):
        opt = torch.optim.SGD(net.parameters(), lr=lr)

        def step(xb, yb):
            opt.zero_grad()
            loss_fn(net(xb), yb).backward()
            opt.step()
        return step

    x, y = (torch.from_numpy(a) for a in xor())
    step = trainer(model([2, 4, 1], nn.Sigmoid, nn.Sigmoid), nn.BCELoss(), 0.5)
    f = lambda: step(x, y)
    if want("W1"):
        report(f"{tag} W1 XOR 2-4-1 sigmoid full batch", median_secs(7, calibrate(f), f), 4)
    rows = [(x[r:r + 1], y[r:r + 1]) for r in range(4)]

    def online():
        for xr, yr in rows:
            step(xr, yr)

    if want("W2"):
        report(f"{tag} W2 XOR 2-4-1 sigmoid stochastic",
               median_secs(7, calibrate(online), online) / 4, 1)

    for label, sizes, rows_, batch in [("W3 784-128-10, batch 64", [784, 128, 10], 60_000, 64),
                                       ("W4 784-512-512-10, batch 256", [784, 512, 512, 10], 8_192, 256)]:
        if not want(label[:2]):
            continue
        # CrossEntropyLoss takes the logits and class indices: softmax + cross-entropy in one.
        tstep = trainer(model(sizes, nn.ReLU), nn.CrossEntropyLoss(), 0.01)

        def step_tensors(p, xb, yb, tstep=tstep):
            tstep(torch.from_numpy(xb), torch.from_numpy(yb.argmax(1)))

        epoch_mlp(tag, label, sizes, rows_, batch, threads, step_tensors, lambda p: p)

    if not want("sgemm"):
        return
    n = 1024
    a = torch.from_numpy(((np.add.outer(np.arange(n), np.arange(n)) % 7) * 0.1).astype(F32))
    b = torch.from_numpy(((np.multiply.outer(np.arange(n), np.arange(n)) % 5) * 0.1).astype(F32))
    secs = median_secs(5, 1, lambda: a @ b)
    print(f"{tag + f' sgemm 1024^3, {threads} thread(s)':<52} "
          f"{2 * n ** 3 / secs / 1e9:>12.2f} GFLOP/s ({secs * 1e3:.1f} ms)", flush=True)


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "numpy"
    threads = int(os.environ.get("PEER_THREADS", "1"))
    {"numpy": run_numpy, "jax": run_jax, "torch": run_torch}[which](threads)
