#!/usr/bin/env python3
"""Draws Latchkey's app and tray icons (a keyhole on a rounded square) as PNGs.

Standard library only, so it runs anywhere: `python3 icons/generate.py`. The PNGs are committed;
rerun this after changing the drawing.
"""
import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def png(path, size, pixels):
    raw = b"".join(b"\x00" + bytes(pixels[y * size * 4:(y + 1) * size * 4]) for y in range(size))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def inside_rounded_square(x, y, r):
    # Unit coordinates in [0, 1]; corner radius r.
    m = 0.04
    if x < m or y < m or x > 1 - m or y > 1 - m:
        return False
    cx = min(max(x, m + r), 1 - m - r)
    cy = min(max(y, m + r), 1 - m - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def inside_keyhole(x, y):
    if (x - 0.5) ** 2 + (y - 0.40) ** 2 <= 0.14 ** 2:
        return True
    # A tapering slot below the circle.
    if 0.44 <= y <= 0.74:
        half = 0.055 + (y - 0.44) * 0.16
        return abs(x - 0.5) <= half
    return False


def draw(size, top, bottom, hole=(255, 255, 255)):
    ss = 4  # supersampling for smooth edges
    pixels = bytearray(size * size * 4)
    for py in range(size):
        for px in range(size):
            acc = [0.0, 0.0, 0.0, 0.0]
            for sy in range(ss):
                for sx in range(ss):
                    x = (px + (sx + 0.5) / ss) / size
                    y = (py + (sy + 0.5) / ss) / size
                    if not inside_rounded_square(x, y, 0.2):
                        continue
                    if inside_keyhole(x, y):
                        c = hole
                    else:
                        t = y
                        c = tuple(top[i] * (1 - t) + bottom[i] * t for i in range(3))
                    for i in range(3):
                        acc[i] += c[i]
                    acc[3] += 255
            n = ss * ss
            a = acc[3] / n
            o = (py * size + px) * 4
            if a > 0:
                covered = acc[3] / 255
                pixels[o:o + 4] = bytes([round(acc[0] / covered), round(acc[1] / covered), round(acc[2] / covered), round(a)])
    return pixels


TEAL = ((20, 148, 136), (15, 94, 89))
SLATE = ((100, 116, 139), (51, 65, 85))

for name, size, colors in [
    ("icon.png", 512, TEAL),
    ("128x128@2x.png", 256, TEAL),
    ("128x128.png", 128, TEAL),
    ("32x32.png", 32, TEAL),
    ("tray-running.png", 32, TEAL),
    ("tray-locked.png", 32, SLATE),
]:
    png(os.path.join(HERE, name), size, draw(size, *colors))
    print("wrote", name)
