"""Prints run.sh's table. usage: report.py SAMPLES STEPS ROUNDS BASE_TOOL ELAPSED LOADS
SAMPLES: "SCENARIO TOOL ROUND SECONDS|fail" lines; STEPS: "TOOL ROUND STEP=SECONDS|- ..." lines (the RUN-heavy builds);
LOADS: "ROUND LOAD1 LOAD5 LOAD15" lines, /proc/loadavg at the start of each round and at the end."""
import os
import statistics
import sys
import time

samples_file, steps_file, rounds, base_tool, elapsed, loads_file = sys.argv[1:7]
# Goals (issue: builder core): dbuild time / BuildKit time, measured in the same run.
# ci (issue: CI cache): runner B after a one-file change, cache imported from the registry.
goals = {"cold": 0.4, "no-op": 0.6, "one-file": 0.4, "big-layer": None, "big-file": 0.5, "ci": 0.5}
labels = {"big-layer": "big-layer (512 MiB)", "big-file": "big-file (RUN-heavy)", "ci": "ci (runner B)"}


def read(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [line.split() for line in f if line.strip()]


def median(values):
    numbers = [v for v in values if v is not None]
    return statistics.median(numbers) if numbers else None


def number(text):
    return None if text in ("fail", "-") else float(text)


def cell(value, unit="s"):
    return "fail" if value is None else f"{value:.2f}{unit}"


def ratio(d, b):
    return None if d is None or b is None or b == 0 else d / b


samples = {}
for scenario, tool, _, seconds in read(samples_file):
    samples.setdefault((scenario, tool), []).append(seconds)
print(f"{'scenario':<21} {'dbuild':>8} {'buildkit':>8} {'ratio':>7}  {'goal':<16} samples (dbuild | buildkit), seconds")
for scenario, goal in goals.items():
    d_samples, b_samples = samples.get((scenario, "dbuild"), []), samples.get((scenario, "buildkit"), [])
    if not d_samples and not b_samples:
        continue
    d, b = median(map(number, d_samples)), median(map(number, b_samples))
    r = ratio(d, b)
    verdict = "" if goal is None else "?" if r is None else ("met" if r <= goal else "missed")
    target = "(no goal)" if goal is None else f"<= {goal:.1f}x"
    print(f"{labels.get(scenario, scenario):<21} {cell(d):>8} {cell(b):>8} {cell(r, 'x'):>7}  {target:<9} {verdict:<6} "
          f"{' '.join(d_samples)} | {' '.join(b_samples)}")

steps = {}
for tool, _, *pairs in read(steps_file):
    for pair in pairs:
        step, seconds = pair.split("=", 1)
        steps.setdefault((step, tool), []).append(number(seconds))
names = {"context": "context transfer", "copy": "COPY src/", "run": "RUN (tar, cp, md5sum)", "copy-from": "COPY --from",
         "export": "exporting to image", "push": "docker push"}
print()
print("big-file (RUN-heavy) per step, seconds, from --progress plain (context transfer: BuildKit's own step, dbuild reads")
print("the context inside COPY; dbuild's exporting to image includes its push):")
print(f"{'step':<23} {'dbuild':>8} {'buildkit':>8} {'ratio':>7}  samples (dbuild | buildkit)")
for step, name in names.items():
    d_values, b_values = steps.get((step, "dbuild"), []), steps.get((step, "buildkit"), [])
    d, b = median(d_values), median(b_values)
    show = lambda values: " ".join("-" if v is None else f"{v:.2f}" for v in values)
    print(f"{name:<23} {'-' if d is None else f'{d:.2f}s':>8} {'-' if b is None else f'{b:.2f}s':>8} "
          f"{'-' if ratio(d, b) is None else f'{ratio(d, b):.2f}x':>7}  {show(d_values)} | {show(b_values)}")
loads = "; ".join(f"{'end' if r == 'end' else 'round ' + r}: {' '.join(v)}" for r, *v in read(loads_file))
print()
print(f"medians of {rounds} round(s); base image by {base_tool}; {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}; "
      f"bench took {elapsed}s; {os.cpu_count()} cores")
print(f"load average (1/5/15 min) {loads}. The machine is shared: other engineers' builds and tests run meanwhile.")
