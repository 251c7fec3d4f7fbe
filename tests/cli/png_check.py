#!/usr/bin/env python3
"""Checks a screenshot: png_check.py FILE WIDTH HEIGHT. Decodes the PNG (8-bit RGB or RGBA, as
chromium writes them) with zlib alone, checks the size, and that the page is not blank: at
least 2% of the pixels are not the background and there are at least 20 distinct colours.
Prints the numbers; exits 1 when a check fails."""
import struct
import sys
import zlib


def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            if depth != 8 or color not in (2, 6):
                sys.exit(f"{path}: unexpected PNG depth {depth} colour type {color}")
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def main():
    path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    w, h, ch, rows = decode(path)
    if (w, h) != (want_w, want_h):
        sys.exit(f"{path}: {w}x{h}, expected {want_w}x{want_h}")
    colours, ink, total = set(), 0, 0
    background = rows[0][:3]
    for row in rows[::4]:
        for x in range(0, w * ch, ch * 4):
            px = row[x:x + 3]
            colours.add(px)
            ink += px != background
            total += 1
    share = ink / total
    print(f"{path}: {w}x{h}, {len(colours)} colours, {share:.1%} of pixels not background")
    if share < 0.02 or len(colours) < 20:
        sys.exit(f"{path}: looks blank")


main()
