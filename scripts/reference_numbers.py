"""Independent reference numbers for tests/reference.rs, in plain numpy.

A 2-3-2 network (tanh hidden, then either sigmoid + BCE or softmax +
cross-entropy), one batch of 3 samples. Backprop is written out from the
chain rule here, independently of the Rust code: the loss is differentiated
symbolically per element (no fused shortcut), and the results are also
confirmed by central differences. Run: python3 scripts/reference_numbers.py
"""
import numpy as np

np.set_printoptions(precision=17, floatmode="unique")
W1 = np.array([[0.2, -0.4], [0.7, 0.1], [-0.5, 0.3]])
b1 = np.array([0.1, -0.2, 0.05])
W2 = np.array([[0.6, -0.3, 0.8], [-0.1, 0.5, 0.2]])
b2 = np.array([0.0, 0.1])
X = np.array([[1.0, 2.0], [-0.5, 0.3], [0.0, -1.0]])
Y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])


def forward(params, out):
    W1, b1, W2, b2 = params
    a1 = X @ W1.T + b1
    h1 = np.tanh(a1)
    a2 = h1 @ W2.T + b2
    if out == "sigmoid":
        h2 = 1 / (1 + np.exp(-a2))
        L = -(Y * np.log(h2) + (1 - Y) * np.log(1 - h2)).sum(axis=1).mean()
    else:
        e = np.exp(a2 - a2.max(axis=1, keepdims=True))
        h2 = e / e.sum(axis=1, keepdims=True)
        L = -(Y * np.log(h2)).sum(axis=1).mean()
    return a1, h1, a2, h2, L


for out in ["sigmoid", "softmax"]:
    params = [W1, b1, W2, b2]
    a1, h1, a2, h2, L = forward(params, out)
    if out == "sigmoid":
        dL_dh2 = -(Y / h2 - (1 - Y) / (1 - h2))
        delta2 = dL_dh2 * h2 * (1 - h2)
    else:
        dL_dh2 = -Y / h2
        # softmax Jacobian J[i, j] = h_i (1[i=j] - h_j), applied per sample
        delta2 = np.stack([(np.diag(h) - np.outer(h, h)).T @ g for h, g in zip(h2, dL_dh2)])
    delta1 = (1 - h1**2) * (delta2 @ W2)
    n = X.shape[0]
    gW2, gb2 = delta2.T @ h1 / n, delta2.mean(axis=0)
    gW1, gb1 = delta1.T @ X / n, delta1.mean(axis=0)
    # confirm with central differences
    for P, G in zip(params, [gW1, gb1, gW2, gb2]):
        num = np.zeros_like(P)
        for idx in np.ndindex(P.shape):
            old = P[idx]
            P[idx] = old + 1e-6; Lp = forward(params, out)[4]
            P[idx] = old - 1e-6; Lm = forward(params, out)[4]
            P[idx] = old
            num[idx] = (Lp - Lm) / 2e-6
        assert np.abs(num - G).max() < 1e-8
    print(f"== {out}")
    for name, v in [("loss", L), ("a1", a1), ("h1", h1), ("a2", a2), ("h2", h2),
                    ("delta2", delta2), ("delta1", delta1),
                    ("grad_w2", gW2), ("grad_b2", gb2), ("grad_w1", gW1), ("grad_b1", gb1),
                    ("w1_after_sgd_0.5", W1 - 0.5 * gW1)]:
        print(name, repr(np.asarray(v).tolist()))
