#!/usr/bin/python3
"""Cross-check: a nettrain model.safetensors read with numpy only (8-byte little-endian header
length, JSON header, raw little-endian float32 tensors), rebuilt as a PyTorch module for the
stack-of-layers subset (affine, relu, leaky_relu, sigmoid, tanh, dropout, batchnorm in eval mode),
run on the model's test images and compared with `nettrain predict --probs` on the same images.

usage: bench/torch_load_check.py NETTRAIN RUN_DIR
Exits 0 when every predicted class agrees and the probabilities agree to 1e-4.
"""
import csv
import gzip
import io
import json
import struct
import subprocess
import sys

import numpy as np
import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n :]
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", t
        b, e = t["data_offsets"]
        tensors[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(t["shape"])
    return tensors, meta


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    assert raw[2] == 0x08, "u8 images expected"
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    return np.frombuffer(raw[4 + 4 * ndim :], dtype=np.uint8).reshape(dims[0], -1)


def build(config, tensors):
    layers = []
    for i, spec in enumerate(config["model"]["layers"]):
        name = spec.get("name", f"layers.{i}")
        kind = spec["type"]
        if kind == "affine":
            w = torch.from_numpy(tensors[name + ".weight"].copy())  # [in, out]: y = x W + b
            lin = torch.nn.Linear(w.shape[0], w.shape[1], bias=name + ".bias" in tensors)
            with torch.no_grad():
                lin.weight.copy_(w.T)
                if lin.bias is not None:
                    lin.bias.copy_(torch.from_numpy(tensors[name + ".bias"].copy()))
            layers.append(lin)
        elif kind == "relu":
            layers.append(torch.nn.ReLU())
        elif kind == "leaky_relu":
            layers.append(torch.nn.LeakyReLU(spec.get("slope", 0.01)))
        elif kind == "sigmoid":
            layers.append(torch.nn.Sigmoid())
        elif kind == "tanh":
            layers.append(torch.nn.Tanh())
        elif kind == "dropout":
            layers.append(torch.nn.Identity())
        elif kind == "batchnorm":
            g = tensors[name + ".weight"]
            bn = torch.nn.BatchNorm1d(g.shape[0], eps=spec.get("epsilon", 1e-5))
            with torch.no_grad():
                bn.weight.copy_(torch.from_numpy(g.copy()))
                bn.bias.copy_(torch.from_numpy(tensors[name + ".bias"].copy()))
                bn.running_mean.copy_(torch.from_numpy(tensors[name + ".running_mean"].copy()))
                bn.running_var.copy_(torch.from_numpy(tensors[name + ".running_var"].copy()))
            layers.append(bn)
        else:
            sys.exit(f"torch_load_check: layer type {kind} is outside this check's subset")
    return torch.nn.Sequential(*layers).eval()


def main():
    nettrain, run = sys.argv[1], sys.argv[2]
    tensors, meta = read_safetensors(run + "/model.safetensors")
    config = json.loads(meta["config"])
    pre = json.loads(meta["preprocess"])
    test = config["data"]["test"]
    x = read_idx(test["images"]).astype(np.float32) * np.float32(pre["scale"])
    if pre.get("standardize"):
        x = (x - np.array(pre["mean"], np.float32)) / np.array(pre["std"], np.float32)
    model = build(config, tensors)
    with torch.no_grad():
        probs = torch.softmax(model(torch.from_numpy(x)), dim=1).numpy()
    out = subprocess.run([nettrain, "predict", run, "--input", test["images"], "--probs"],
                         check=True, capture_output=True, text=True).stdout
    rows = list(csv.reader(io.StringIO(out)))
    ours = np.array([[float(v) for v in r[2:]] for r in rows[1:]], dtype=np.float32)
    names = json.loads(meta["class_names"]) or [str(i) for i in range(probs.shape[1])]
    ours_class = [r[1] for r in rows[1:]]
    torch_class = [names[i] for i in probs.argmax(axis=1)]
    agree = sum(a == b for a, b in zip(ours_class, torch_class))
    diff = float(np.abs(ours - probs).max())
    print(f"{len(rows) - 1} samples: classes agree on {agree}, max |p_nettrain - p_torch| = {diff:.2e}")
    sys.exit(0 if agree == len(torch_class) and diff < 1e-4 else 1)


if __name__ == "__main__":
    main()
