#!/usr/bin/python3
"""The bench/ workloads in PyTorch, the reference nettrain is measured against.

Same recipe as bench/wN-*.json: Fashion-MNIST from the same IDX .gz files (gzip + numpy),
x = u8 / 255, He-normal hidden weights and Xavier-uniform output weights with zero biases,
SGD (PyTorch's momentum formulation, as nettrain's), mean softmax cross-entropy, a fresh
shuffled permutation every epoch with the last partial batch kept, no validation split.
Like nettrain's `seconds`, an epoch's time covers the training steps only (batch gather,
forward, loss, backward, update); evaluation on the 10k test images is timed apart.

By default the loop is PyTorch at its best, as a user who wants speed writes it (and as
../shared/reference/torch_mlp.py, the twin the speed bar is judged against, does): the training
set scaled once into one float32 tensor, `zero_grad(set_to_none=True)`, one `loss.item()` per
step and nothing else per step. `--same-work` is the other variant, labelled as such in
bench/run.sh: it does per step what nettrain does (gathers u8 rows and converts them per batch,
counts correct predictions with an arg-max), so it is slower than PyTorch at its best.

  /usr/bin/python3 bench/torch_mlp.py bench/w2-standard.json --epochs 3 --threads 1 [--same-work] [--json]

Prints one line per epoch and, with --json, one JSON object on the last line. Threads: set
OMP_NUM_THREADS / MKL_NUM_THREADS / OPENBLAS_NUM_THREADS in the environment too (run.sh does).
"""
import argparse
import gzip
import json
import resource
import sys
import time

import numpy as np
import torch


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    assert data[2] == 0x08, "u8 IDX expected"
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def build(cfg):
    layers, width = [], int(np.prod(cfg["model"]["input_shape"]))
    for spec in cfg["model"]["layers"]:
        if spec["type"] == "affine":
            lin = torch.nn.Linear(width, spec["units"])
            if spec.get("init", "xavier_uniform") == "he_normal":
                torch.nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")  # N(0, 2/fan_in)
            else:
                torch.nn.init.xavier_uniform_(lin.weight)
            torch.nn.init.zeros_(lin.bias)
            layers.append(lin)
            width = spec["units"]
        elif spec["type"] == "relu":
            layers.append(torch.nn.ReLU())
        else:
            raise SystemExit(f"unsupported layer {spec['type']}")
    return torch.nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--same-work", action="store_true",
                    help="u8 batches converted per step and an arg-max per step, as nettrain does")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = json.load(open(args.config))
    seed = cfg.get("seed", 42)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)

    d = cfg["data"]
    scale = float(d["preprocess"]["scale"])
    # --same-work keeps the images as u8 like nettrain (47 MB) and converts each batch on the fly;
    # at its best PyTorch holds them as one float32 tensor, scaled once (188 MB).
    xtr = torch.from_numpy(read_idx(d["train"]["images"]).reshape(-1, 784).copy())
    ytr = torch.from_numpy(read_idx(d["train"]["labels"]).astype(np.int64))
    xte = torch.from_numpy(read_idx(d["test"]["images"]).reshape(-1, 784).copy())
    yte = torch.from_numpy(read_idx(d["test"]["labels"]).astype(np.int64))
    if not args.same_work:
        xtr = xtr.float().mul_(scale)
        xte = xte.float().mul_(scale)

    net = build(cfg)
    tr = cfg["training"]
    o = tr["optimizer"]
    opt = torch.optim.SGD(net.parameters(), lr=o["lr"], momentum=o.get("momentum", 0.0),
                          nesterov=o.get("nesterov", False), weight_decay=o.get("weight_decay", 0.0))
    loss_fn = torch.nn.CrossEntropyLoss()
    epochs = args.epochs or tr["epochs"]
    bs = tr["batch_size"]
    n = xtr.shape[0]

    secs = []
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(n, generator=gen)
        loss_sum, correct = 0.0, 0
        t0 = time.perf_counter()
        for start in range(0, n, bs):
            idx = order[start:start + bs]
            y = ytr[idx]
            if args.same_work:
                x = xtr[idx].float().mul_(scale)
                z = net(x)
                loss = loss_fn(z, y)
                opt.zero_grad(set_to_none=False)
                loss.backward()
                opt.step()
                correct += int((z.argmax(1) == y).sum())
            else:
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(net(xtr[idx]), y)
                loss.backward()
                opt.step()
            loss_sum += loss.item() * len(idx)
        secs.append(time.perf_counter() - t0)
        print(f"epoch {epoch + 1}: {secs[-1]:.3f} s, {n / secs[-1]:.0f} samples/s, "
              f"train loss {loss_sum / n:.4f}" + (f" acc {correct / n:.4f}" if args.same_work else ""),
              file=sys.stderr)

    net.eval()
    t0 = time.perf_counter()
    with torch.no_grad():
        correct = 0
        for start in range(0, xte.shape[0], 1000):
            z = net(xte[start:start + 1000].float().mul_(scale) if args.same_work else xte[start:start + 1000])
            correct += int((z.argmax(1) == yte[start:start + 1000]).sum())
    eval_s = time.perf_counter() - t0
    acc = correct / xte.shape[0]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    out = {"workload": cfg["name"], "threads": args.threads, "same_work": args.same_work, "epoch_seconds": secs, "test_accuracy": acc,
           "eval_seconds": eval_s, "eval_samples_per_second": xte.shape[0] / eval_s, "peak_rss_mb": rss_mb}
    print(f"test accuracy {acc:.4f}; eval {eval_s:.3f} s; peak RSS {rss_mb:.0f} MB", file=sys.stderr)
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
