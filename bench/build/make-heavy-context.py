"""Writes the RUN-heavy scenario's source tree at argv[1] (~600 MB, deterministic, seed 7), like a big repository:
4,000 mid-size files (48-144 KiB), half source-like text that gzip shrinks about 4x, half random bytes; and four big
files (two 64 MiB random, two 48 MiB of text). Prints the total size in bytes."""
import os
import random
import sys

root = sys.argv[1]
rnd = random.Random(7)
words = [bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz_") for _ in range(rnd.randrange(2, 12))) for _ in range(2000)]
lines = []
size = 0
while size < 8 << 20:  # an 8 MiB pool of text lines; files are slices of it at random offsets
    line = b"    " * rnd.randrange(0, 4) + b" ".join(rnd.choice(words) for _ in range(rnd.randrange(3, 14))) + b";\n"
    lines.append(line)
    size += len(line)
pool = b"".join(lines)


def text(n):
    out = bytearray()
    while len(out) < n:
        start = rnd.randrange(0, len(pool) - (1 << 20))
        out += pool[start:start + min(n - len(out), 1 << 20)]
    return bytes(out)


total = 0
for i in range(4000):
    sub = os.path.join(root, f"pkg{i % 40:02d}", f"mod{i % 7}")
    os.makedirs(sub, exist_ok=True)
    n = rnd.randrange(48 << 10, 144 << 10)
    data = text(n) if i % 2 == 0 else rnd.randbytes(n)
    with open(os.path.join(sub, f"file{i:04d}.{'c' if i % 2 == 0 else 'bin'}"), "wb") as f:
        f.write(data)
    total += n
os.makedirs(os.path.join(root, "big"), exist_ok=True)
for name, n, random_bytes in (("blob0.bin", 64 << 20, True), ("blob1.bin", 64 << 20, True),
                              ("corpus0.txt", 48 << 20, False), ("corpus1.txt", 48 << 20, False)):
    with open(os.path.join(root, "big", name), "wb") as f:
        for _ in range(n >> 20):
            f.write(rnd.randbytes(1 << 20) if random_bytes else text(1 << 20))
    total += n
print(total)
