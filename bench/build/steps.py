"""Per-step seconds from a `--progress plain` log (BuildKit's format, which dbuild prints too): a vertex is named by its
first line (`#7 [compile 2/3] COPY src/ /src/`) and timed by its `#7 DONE 2.7s` line (`#7 CACHED` counts 0).
usage: steps.py LOG NAME=REGEX...  prints one NAME=SECONDS per step, the sum over the vertices whose name matches
REGEX, or NAME=- when none matched; a `bench: docker push DONE 1.2s` line (run.sh writes it) is the vertex `docker push`."""
import re
import sys

names, seconds = {}, {}
with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
    for line in log:
        line = line.rstrip("\n")
        m = re.match(r"^bench: (.+) DONE ([0-9.]+)s$", line)
        if m:
            names[m[1]] = m[1]
            seconds[m[1]] = float(m[2])
            continue
        m = re.match(r"^#(\d+) (.*)$", line)
        if not m:
            continue
        vid, text = m[1], m[2]
        done = re.match(r"^DONE ([0-9.]+)s$", text)
        if done:
            seconds[vid] = float(done[1])
        elif text == "CACHED":
            seconds[vid] = 0.0
        elif vid not in names:
            names[vid] = text
for arg in sys.argv[2:]:
    step, pattern = arg.split("=", 1)
    hits = [seconds[v] for v, n in names.items() if re.search(pattern, n) and v in seconds]
    print(f"{step}={sum(hits):.2f}" if hits else f"{step}=-")
