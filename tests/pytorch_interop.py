#!/usr/bin/python3
"""Loads an sws checkpoint into the equivalent PyTorch module and checks test accuracy agrees.

    tests/pytorch_interop.py runs/lenet5/model.safetensors [--data data/mnist] [--expect 0.9929]

Needs torch and the safetensors package (Debian: python3-torch; pip: safetensors). The module
below is the PyTorch twin of nn/models.cpp: same names, same layouts, so safetensors.torch's
load_file + load_state_dict(strict=True) work unchanged.
"""
import argparse, gzip, json, struct
from collections import OrderedDict

import torch
import torch.nn as nn
from safetensors.torch import load_file


def build(name):
    if name == "lenet300":
        layers = [("flatten", nn.Flatten()), ("fc1", nn.Linear(784, 300)), ("relu1", nn.ReLU()),
                  ("fc2", nn.Linear(300, 100)), ("relu2", nn.ReLU()), ("fc3", nn.Linear(100, 10))]
    elif name == "lenet5":
        layers = [("conv1", nn.Conv2d(1, 20, 5)), ("pool1", nn.MaxPool2d(2)), ("conv2", nn.Conv2d(20, 50, 5)),
                  ("pool2", nn.MaxPool2d(2)), ("flatten", nn.Flatten()), ("fc1", nn.Linear(800, 500)),
                  ("relu1", nn.ReLU()), ("fc2", nn.Linear(500, 10))]
    elif name == "tutorial":
        layers = [("conv1", nn.Conv2d(1, 25, 5, stride=2)), ("relu1", nn.ReLU()),
                  ("conv2", nn.Conv2d(25, 50, 3, stride=2)), ("relu2", nn.ReLU()), ("flatten", nn.Flatten()),
                  ("fc1", nn.Linear(1250, 500)), ("relu3", nn.ReLU()), ("fc2", nn.Linear(500, 10))]
    else:
        raise SystemExit(f"unknown model {name}")
    return nn.Sequential(OrderedDict(layers))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--expect", type=float, help="accuracy sws reported; must agree to 1e-4")
    args = ap.parse_args()
    with open(args.checkpoint, "rb") as f:
        header_len, = struct.unpack("<Q", f.read(8))
        meta = json.loads(f.read(header_len)).get("__metadata__", {})
    model = build(meta["sws.model"])
    model.load_state_dict(load_file(args.checkpoint), strict=True)
    x = read_idx(f"{args.data}/t10k-images-idx3-ubyte.gz").float().div(255).unsqueeze(1)
    y = read_idx(f"{args.data}/t10k-labels-idx1-ubyte.gz").long()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    print(f"PyTorch {torch.__version__}: {meta['sws.model']} loaded strictly from {args.checkpoint}; "
          f"test accuracy {accuracy:.4f}")
    if args.expect is not None and abs(accuracy - args.expect) > 1e-4:
        raise SystemExit(f"accuracy differs from sws's {args.expect}")


if __name__ == "__main__":
    main()
