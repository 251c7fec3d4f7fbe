#!/usr/bin/env python3
"""Writes the small datasets that ship in data/ (standard library only, seeded: the output is
the same on every run). Usage: python3 data/make_toy.py [OUT_DIR]   (default: this folder)"""
import math
import os
import random
import sys


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(x if isinstance(x, str) else f"{x:.5f}" for x in r) + "\n")


def spirals(rng, n=1000):
    """Two interleaved spirals, 2 features, label 0/1."""
    rows = []
    for i in range(n):
        k = i % 2
        t = 0.25 + 3.5 * math.pi * rng.random()
        r = t / (4 * math.pi)
        a = t + k * math.pi
        rows.append((r * math.cos(a) + rng.gauss(0, 0.01), r * math.sin(a) + rng.gauss(0, 0.01), str(k)))
    return rows


def blobs(rng, n=900):
    """Three Gaussian blobs with string labels (sorted class names: blue, green, red)."""
    centres = {"red": (-2.0, 0.0), "green": (2.0, 0.0), "blue": (0.0, 2.5)}
    names = list(centres)
    rows = []
    for i in range(n):
        c = names[i % 3]
        cx, cy = centres[c]
        rows.append((rng.gauss(cx, 0.8), rng.gauss(cy, 0.8), c))
    return rows


def xor(rng, n=800):
    """Points in [-1, 1]^2, label 1 when x and y have opposite signs."""
    rows = []
    for _ in range(n):
        x, y = rng.uniform(-1, 1), rng.uniform(-1, 1)
        rows.append((x, y, str(int((x > 0) != (y > 0)))))
    return rows


def sine(rng, n=1000):
    """Regression, 1 feature -> 2 targets: sin(x) and cos(x), plus noise (sd 0.05)."""
    rows = []
    for _ in range(n):
        x = rng.uniform(-math.pi, math.pi)
        rows.append((x, math.sin(x) + rng.gauss(0, 0.05), math.cos(x) + rng.gauss(0, 0.05)))
    return rows


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = random.Random(20240601)
    write(os.path.join(out, "spirals.csv"), ["x", "y", "label"], spirals(rng))
    write(os.path.join(out, "blobs.csv"), ["x", "y", "color"], blobs(rng))
    write(os.path.join(out, "xor.csv"), ["x", "y", "label"], xor(rng))
    write(os.path.join(out, "sine.csv"), ["x", "sin", "cos"], sine(rng))


if __name__ == "__main__":
    main()
