"""Reference numbers for the activity penalties of autoencoders.

An independent numpy implementation of a 3-2-3 sigmoid autoencoder with the
halved squared error and each penalty of mlp-core's `penalty.rs`, written out
from the chain rule and confirmed here by central differences. The printed
numbers are pinned by `tests/autoencoder.rs`.

    python3 scripts/autoencoder_reference.py
"""

import numpy as np

X = np.array([[0.9, 0.1, 0.4], [0.2, 0.8, 0.6], [0.5, 0.5, 0.0], [0.0, 0.3, 1.0]])
W1 = np.array([[0.5, -0.3, 0.8], [-0.6, 0.4, 0.2]])
B1 = np.array([0.1, -0.2])
W2 = np.array([[0.7, -0.5], [-0.2, 0.9], [0.4, 0.3]])
B2 = np.array([0.05, -0.1, 0.0])

PENALTIES = {
    "l1": {"lambda": 0.3},
    "kl": {"rho": 0.2, "beta": 1.5},
    "contractive": {"lambda": 0.4},
}


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def objective(w1, b1, w2, b2, kind):
    """J = mean_i 1/2 ||h2_i - x_i||^2 + P, computed directly."""
    h1 = sig(X @ w1.T + b1)
    h2 = sig(h1 @ w2.T + b2)
    n = X.shape[0]
    loss = 0.5 * np.sum((h2 - X) ** 2) / n
    p = PENALTIES[kind]
    if kind == "l1":
        pen = p["lambda"] * np.sum(np.abs(h1)) / n
    elif kind == "kl":
        rho, q = p["rho"], h1.mean(axis=0)
        pen = p["beta"] * np.sum(rho * np.log(rho / q) + (1 - rho) * np.log((1 - rho) / (1 - q)))
    else:
        s = h1 * (1 - h1)
        pen = p["lambda"] * np.sum((s**2) * np.sum(w1**2, axis=1)) / n
    return loss + pen


def gradients(kind):
    """Backprop by hand: the chain rule, term by term."""
    n = X.shape[0]
    h1 = sig(X @ W1.T + B1)
    h2 = sig(h1 @ W2.T + B2)
    d2 = (h2 - X) * h2 * (1 - h2) / n
    g_w2, g_b2 = d2.T @ h1, d2.sum(axis=0)
    g_h1 = d2 @ W2
    p = PENALTIES[kind]
    s = h1 * (1 - h1)
    w2n = np.sum(W1**2, axis=1)
    direct = np.zeros_like(W1)
    if kind == "l1":
        g_h1 = g_h1 + p["lambda"] * np.sign(h1) / n
    elif kind == "kl":
        rho, q = p["rho"], h1.mean(axis=0)
        g_h1 = g_h1 + p["beta"] * (-rho / q + (1 - rho) / (1 - q)) / n
    else:
        g_h1 = g_h1 + p["lambda"] * 2 * s * (1 - 2 * h1) * w2n / n
        direct = p["lambda"] * 2 * W1 * (s**2).sum(axis=0)[:, None] / n
    d1 = g_h1 * s
    return d1.T @ X + direct, d1.sum(axis=0), g_w2, g_b2


def central(kind):
    params = [W1.copy(), B1.copy(), W2.copy(), B2.copy()]
    grads = []
    for k, p in enumerate(params):
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + 1e-6
            up = objective(*params, kind)
            p[idx] = old - 1e-6
            down = objective(*params, kind)
            p[idx] = old
            g[idx] = (up - down) / 2e-6
        grads.append(g)
    return grads


for kind in PENALTIES:
    analytic = gradients(kind)
    numeric = central(kind)
    worst = max(np.max(np.abs(a - b)) for a, b in zip(analytic, numeric))
    assert worst < 1e-8, (kind, worst)
    print(f"{kind}: J = {objective(W1, B1, W2, B2, kind):.15f}  (max |analytic - central| = {worst:.1e})")
    for name, g in zip(["grad_w1", "grad_b1", "grad_w2", "grad_b2"], analytic):
        print(f"  {name} = {np.array2string(g, precision=15, separator=', ', max_line_width=200)}")
