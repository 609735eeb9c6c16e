#!/usr/bin/env python3
"""The PyTorch side of the round trip (needs torch and safetensors).

    cargo run --example save_load                  # writes DIR/xor.safetensors, DIR/xor.csv
    python3 scripts/torch_roundtrip.py target/roundtrip
    cargo run --example save_load -- --check target/roundtrip/torch_xor.safetensors target/roundtrip/torch_xor.csv

1. Builds the torch.nn.Sequential that a file saved by mlp describes (its
   metadata key mlp.layers), loads the tensors with strict=True, and checks
   that its outputs equal the ones mlp printed (DIR/xor.csv) to 1e-6.
2. Takes one SGD step in PyTorch (BCELoss, learning rate 0.5, the four XOR
   samples), so that the weights are PyTorch's own, and saves the state_dict
   with the same metadata as DIR/torch_xor.safetensors, with PyTorch's
   outputs in DIR/torch_xor.csv, for mlp to load and compare.

The files in tests/data (torch_xor.*) were written by this script; the Rust
test suite checks them without needing PyTorch.
"""
import csv
import json
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

ACTIVATIONS = {
    "identity": lambda: torch.nn.Identity(),
    "sigmoid": lambda: torch.nn.Sigmoid(),
    "tanh": lambda: torch.nn.Tanh(),
    "relu": lambda: torch.nn.ReLU(),
    "selu": lambda: torch.nn.SELU(),
    "softplus": lambda: torch.nn.Softplus(),
    "softsign": lambda: torch.nn.Softsign(),
    "swish": lambda: torch.nn.SiLU(),
    "mish": lambda: torch.nn.Mish(),
    "softmax": lambda: torch.nn.Softmax(dim=1),
}


def activation(name):
    if name.startswith("leaky_relu(") and name.endswith(")"):
        return torch.nn.LeakyReLU(float(name[len("leaky_relu("):-1]))
    if name.startswith("elu(") and name.endswith(")"):
        return torch.nn.ELU(float(name[len("elu("):-1]))
    if name in ACTIVATIONS:
        return ACTIVATIONS[name]()
    sys.exit(f"no PyTorch module for the activation {name!r}")


def build(metadata):
    """The torch.nn.Sequential of an mlp file, with its dtype."""
    dtype = {"f32": torch.float32, "f64": torch.float64}[metadata["mlp.dtype"]]
    modules = []
    for layer in json.loads(metadata["mlp.layers"]):
        if layer["type"] == "dense":
            assert layer["name"] == f"layers.{len(modules)}", layer
            modules += [torch.nn.Linear(layer["in"], layer["out"]), activation(layer["activation"])]
        elif layer["type"] == "dropout":
            modules.append(torch.nn.Dropout(layer["p"]))
        elif layer["type"] == "noise":
            # Corruption acts only while training; at inference it is the identity.
            modules.append(torch.nn.Identity())
        else:
            sys.exit(f"no PyTorch module for the layer {layer!r}")
    return torch.nn.Sequential(*modules).to(dtype), dtype


def main(directory):
    directory = Path(directory)
    with safe_open(directory / "xor.safetensors", framework="pt") as f:
        metadata = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    print("mlp saved:", metadata["mlp.network"])
    model, dtype = build(metadata)
    state = {k[len("layers."):]: v for k, v in tensors.items()}
    model.load_state_dict(state, strict=True)
    model.eval()

    rows = list(csv.DictReader(open(directory / "xor.csv")))
    x = torch.tensor([[float(r["x1"]), float(r["x2"])] for r in rows], dtype=dtype)
    expected = torch.tensor([[float(r["y_hat"])] for r in rows], dtype=dtype)
    with torch.no_grad():
        out = model(x)
    diff = (out - expected).abs().max().item()
    print(f"PyTorch's outputs {out.flatten().tolist()}")
    print(f"largest difference from mlp's: {diff:.2e}")
    assert diff <= 1e-6, diff

    # One step of PyTorch's own training, then back to mlp.
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=dtype)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    model.train()
    loss = torch.nn.BCELoss()(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    model.eval()
    with torch.no_grad():
        out = model(x)
    state = {f"layers.{k}": v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, directory / "torch_xor.safetensors", metadata=metadata)
    with open(directory / "torch_xor.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x1", "x2", "y_hat"])
        for xi, oi in zip(x.tolist(), out.flatten().tolist()):
            w.writerow([f"{xi[0]:g}", f"{xi[1]:g}", f"{oi:.9f}"])
    print(f"saved PyTorch's weights after one SGD step to {directory / 'torch_xor.safetensors'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/roundtrip")
