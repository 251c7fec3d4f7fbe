#!/usr/bin/env python3
"""Writes a large u8 IDX image file [N, 28, 28] and its u8 label file, fast: one 4096-sample
block of seeded random bytes repeated, with byte 0 of each sample set to its index in the block
and byte 1 to the block's number, so no two samples (up to 1M of them) are the same.

Usage: make_big_idx.py IMAGES LABELS BYTES   (N = BYTES // 784, rounded down to whole blocks)
Exits non-zero with the OS error if a file cannot be written (a full disk)."""
import random
import struct
import sys

images, labels, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
S, B = 784, 4096
blocks = max(1, want // (S * B))
n = blocks * B
base = bytearray(random.Random(1).randbytes(S * B))
base[0::S] = bytes(i & 255 for i in range(B))
lab_block = bytes((i * 7 + (i >> 8)) % 10 for i in range(B))
try:
    with open(images, "wb") as f:
        f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, n, 28, 28))
        for b in range(blocks):
            base[1::S] = bytes([b & 255]) * B
            base[2::S] = bytes([(b >> 8) & 255]) * B
            f.write(base)
    with open(labels, "wb") as f:
        f.write(struct.pack(">BBBBI", 0, 0, 8, 1, n))
        for b in range(blocks):
            f.write(lab_block)
except OSError as e:
    sys.exit(f"make_big_idx.py: cannot write: {e}")
print(n)
