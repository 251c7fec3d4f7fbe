#!/usr/bin/python3
"""The nettrain Fashion-MNIST CNNs in PyTorch, for seconds per epoch and test accuracy.

Reads the IDX .gz files with gzip + numpy, scales pixels by 1/255, holds out 10% for validation
(not evaluated: the split only makes the training set the same size as nettrain's, 54,000), and
trains with Adam (and a per-epoch cosine schedule for fashion-cnn) at the configs' batch sizes.

  /usr/bin/python3 bench/torch_cnn.py --net fashion-cnn --epochs 1 --threads 2
  /usr/bin/python3 bench/torch_cnn.py --net textbook-cnn --epochs 1 --threads 1
  /usr/bin/python3 bench/torch_cnn.py --net fashion-cnn --epochs 2 --json   # as bench/run.sh (W4)

Prints one line per epoch: seconds (training steps only, as nettrain's metrics.csv) and the
training loss, then the test accuracy; with --json, one JSON object on the last line (the
fields bench/run.sh reads), the rest on stderr.
"""
import argparse
import gzip
import json
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn

FM = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split):
    x = read_idx(f"{FM}/{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    y = read_idx(f"{FM}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


def fashion_cnn():
    """configs/fashion-cnn.json."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))


def fashion_cnn4():
    """The four-conv net first tried for configs/fashion-cnn.json (too slow on this machine)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))


def textbook_cnn():
    return nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(30 * 12 * 12, 100), nn.ReLU(), nn.Linear(100, 10))


NETS = {"fashion-cnn": (fashion_cnn, 128, True), "fashion-cnn4": (fashion_cnn4, 128, True),
        "textbook-cnn": (textbook_cnn, 100, False)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--net", choices=NETS, default="fashion-cnn")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    log = sys.stderr if args.json else sys.stdout
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    make, batch, cosine = NETS[args.net]
    x, y = load("train")
    xt, yt = load("t10k")
    perm = torch.randperm(len(x))
    train = perm[: len(x) - len(x) // 10]
    x, y = x[train].contiguous(), y[train].contiguous()
    net = make()
    opt = torch.optim.Adam(net.parameters(), lr=0.001)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs) if cosine else None
    loss_fn = nn.CrossEntropyLoss()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, net {args.net}, batch {batch}, "
          f"{len(x)} training samples", file=log)
    secs = []
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(x))
        total, t0 = 0.0, time.perf_counter()
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        seconds = time.perf_counter() - t0
        secs.append(seconds)
        if sched:
            sched.step()
        print(f"epoch {epoch + 1}: {seconds:.2f} s, train loss {total / len(x):.4f}", file=log, flush=True)
    net.eval()
    t0 = time.perf_counter()
    with torch.no_grad():
        correct = sum((net(xt[i:i + 1000]).argmax(1) == yt[i:i + 1000]).sum().item() for i in range(0, len(xt), 1000))
    eval_s = time.perf_counter() - t0
    print(f"test accuracy {correct / len(xt):.4f}", file=log)
    if args.json:
        print(json.dumps({"workload": "w4-cnn", "threads": args.threads, "epoch_seconds": secs,
                          "test_accuracy": correct / len(xt), "eval_seconds": eval_s,
                          "eval_samples_per_second": len(xt) / eval_s,
                          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


if __name__ == "__main__":
    main()
