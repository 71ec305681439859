#!/usr/bin/env bash
# CI-shaped build benchmark (not a timed test): dbuild vs BuildKit (docker 20.10's: `docker build --network none` +
# `docker push`, the private dockerd) on this machine in the same run, build + push to a local registry:2, four scenarios:
#   cold      a 4-stage Dockerfile over a 5,000-file, ~100 MB context; empty caches (fresh dbuild state root, docker
#             builder prune + rmi, a fresh registry holding only the base)
#   no-op     same inputs again
#   one-file  one source file changed
#   big-layer a 512 MiB incompressible file added to the first context (its final image gets a 512 MiB layer to
#             compress and push; no goal; off by default, BIG_LAYER=1 runs it)
#   big-file  RUN-heavy: another context, ~600 MB of mixed source (4,000 mid-size files and four big ones, half text,
#             half random): COPY src/, a RUN that archives it, copies the archive and checksums it, and a final stage that
#             COPYs --from that stage the one small output file. Per-step times (COPY, RUN, COPY --from, ...) are parsed
#             from both tools' `--progress plain` output (steps.py).
#   ci        runner B of two CI runners sharing a cache through the registry, after a one-file change (see ci_scenario;
#             CI_SCENARIO=0 leaves it out, ONLY_CI=1 runs it alone)
# The base image both builders use is made by another tool (BASE_TOOL): docker-legacy (default: docker's legacy builder,
# DOCKER_BUILDKIT=0, FROM scratch + COPY of testdata/images/make-busybox-context.sh's busybox rootfs, `docker push`ed)
# or umoci (init/new/insert/config, pushed by skopeo). It is pushed once into a seed registry whose storage each round's
# registry starts from, so both builders pull the producer's exact bytes, and dockerd holds no local copy of it.
# Usage: bash bench/build/run.sh [DBUILD]   (root; needs testdata/ci/setup.sh done). DBUILD: a dbuild.dll (run with
# dotnet) or a published dbuild executable; without it dbuild is published as the README installs it (self-contained,
# ReadyToRun composite). ROUNDS=N (default 3) repeats the sequence, each round from scratch; the table gives medians and
# every sample. STEP_TIMEOUT (default 900 s) bounds every build and push. Logs: $BENCH_WORK/logs (default /var/tmp/dbuild-bench).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/testdata/ci/env.sh"
export DOCKER_HOST=$DBUILD_TEST_DOCKER_HOST
docker=/usr/bin/docker
work=${BENCH_WORK:-/var/tmp/dbuild-bench}
rounds=${ROUNDS:-3}
base_tool=${BASE_TOOL:-docker-legacy}
step_timeout=${STEP_TIMEOUT:-900}
started=$(date +%s)
rm -rf "$work"; mkdir -p "$work/logs"

regpid=""
stop_registry() { if [ -n "$regpid" ]; then kill "$regpid" 2>/dev/null || true; wait "$regpid" 2>/dev/null || true; regpid=""; fi; }
# The ids of the images this bench tagged in dockerd (a re-tag leaves the older ones untagged, under the same name).
bench_images() { "$docker" image ls --format '{{.Repository}} {{.ID}}' | awk '$1 ~ /\/bench\// {print $2}' | sort -u; }
cleanup() {
  stop_registry
  bench_images | xargs -r "$docker" rmi -f >/dev/null 2>&1 || true
  "$docker" builder prune -af >/dev/null 2>&1 || true # the GBs of the RUN-heavy stage
  rm -rf "$work/dbuild-state" "$work/registry" "$work/heavy" "$work/ctx"
}
trap cleanup EXIT
bounded() { timeout -k 10 "$step_timeout" "$@"; }
# The private dockerd is shared (testdata/ci/setup.sh restarts it): wait up to 2 minutes for it to answer.
wait_dockerd() {
  for _ in $(seq 1 120); do timeout 10 "$docker" info >/dev/null 2>&1 && return 0; sleep 1; done
  echo "run.sh: the dockerd at $DOCKER_HOST did not answer for 2 minutes" >&2; exit 1
}

# start_registry ROOT: a registry:2 (Debian's docker-registry) on a free 127.0.0.1 port over storage ROOT; sets reg.
start_registry() {
  stop_registry
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  reg=127.0.0.1:$port
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' "$1" "$reg" > "$work/registry.yml"
  /usr/bin/docker-registry serve "$work/registry.yml" >>"$work/logs/registry.log" 2>&1 &
  regpid=$!
  for _ in $(seq 1 100); do curl -fs -o /dev/null "http://$reg/v2/" && return 0; sleep 0.1; done
  echo "run.sh: registry:2 did not answer on $reg in 10 s" >&2; exit 1
}

# The base, pushed by its producer into $work/seed (a registry storage root), once.
make_base() {
  local ctx=$work/base-context
  "$repo/testdata/images/make-busybox-context.sh" "$ctx" >/dev/null
  start_registry "$work/seed"
  wait_dockerd
  case $base_tool in
    docker-legacy)
      DOCKER_BUILDKIT=0 bounded "$docker" build -q -t "$reg/bench/busybox:latest" "$ctx" >/dev/null
      bounded "$docker" push -q "$reg/bench/busybox:latest" >/dev/null
      "$docker" rmi "$reg/bench/busybox:latest" >/dev/null ;;
    umoci)
      local layout=$work/base-layout
      umoci init --layout "$layout"
      umoci new --image "$layout:latest"
      umoci insert --image "$layout:latest" --history.created 1970-01-01T00:00:00Z "$ctx/rootfs" /
      umoci config --image "$layout:latest" --created 1970-01-01T00:00:00Z --os linux --architecture amd64 \
        --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.cmd sh
      bounded skopeo copy -q --dest-tls-verify=false "oci:$layout:latest" "docker://$reg/bench/busybox:latest" ;;
    *) echo "run.sh: BASE_TOOL is docker-legacy or umoci, not $base_tool" >&2; exit 2 ;;
  esac
  stop_registry
}

# dbuild as the README installs it (self-contained, ReadyToRun composite), unless one is given.
dbuild_arg=${1:-}
case $dbuild_arg in
  "") dotnet publish "$repo/src/Dbuild.Cli" -c Release -r linux-x64 --self-contained -p:PublishReadyToRun=true \
        -p:PublishReadyToRunComposite=true -o "$work/dbuild-bin" --nologo -v quiet
      dbuild_cmd=("$work/dbuild-bin/dbuild") ;;
  *.dll) dbuild_cmd=(dotnet "$(realpath "$dbuild_arg")") ;;
  *) dbuild_cmd=("$(realpath "$dbuild_arg")") ;;
esac
make_base

ctx=$work/ctx
mkdir -p "$ctx/src" "$ctx/deps" "$ctx/assets"
python3 - "$ctx" <<'PY'
import os, random, sys, base64
root = sys.argv[1]; rnd = random.Random(42)
# 5,000 files, ~100 MB: source-like text (compressible) in src/ and deps/, binary-ish assets.
for i in range(5000):
    d = ("src", "deps", "assets")[i % 3]
    sub = os.path.join(root, d, f"m{i % 50:02d}")
    os.makedirs(sub, exist_ok=True)
    size = 20000 + rnd.randrange(0, 2000)
    if d == "assets":
        data = rnd.randbytes(size)
    else:
        data = base64.b64encode(rnd.randbytes(size * 3 // 4))[:size]
    with open(os.path.join(sub, f"f{i}.dat"), "wb") as f:
        f.write(data)
PY
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
ARG BASE
FROM ${BASE} AS deps
WORKDIR /deps
COPY deps/ ./
RUN find . -type f | wc -l > /deps.count

FROM ${BASE} AS build
WORKDIR /src
COPY src/ ./
RUN find . -type f | wc -l > /build.count

FROM ${BASE} AS assets
COPY assets/ /assets/

FROM ${BASE}
COPY --from=deps /deps.count /app/
COPY --from=build /build.count /app/
COPY --from=build /src /app/src
COPY --from=assets /assets /app/assets
CMD ["ls", "/app"]
DOCKERFILE
heavy=$work/heavy
python3 "$here/make-heavy-context.py" "$heavy/src" >/dev/null
cat > "$heavy/Dockerfile" <<'DOCKERFILE'
ARG BASE
FROM ${BASE} AS compile
COPY src/ /src/
RUN mkdir -p /out && tar -cf /out/src.tar -C /src . && cp /out/src.tar /out/copy.tar && cat /out/src.tar | md5sum > /out/sum

FROM ${BASE}
COPY --from=compile /out/sum /app/sum
CMD ["cat", "/app/sum"]
DOCKERFILE
for c in "$ctx" "$heavy"; do echo "context $(basename "$c"): $(du -sh "$c" | cut -f1), $(find "$c" -type f | wc -l) files" >&2; done

state=$work/dbuild-state
dbuild_run() { # CONTEXT IMAGE
  bounded "${dbuild_cmd[@]}" --root "$state" build --progress plain --build-arg BASE="$reg/bench/busybox:latest" -t "$reg/bench/$2:latest" --push "$1"
}
buildkit_run() { # CONTEXT IMAGE; the push's time goes into the log as a step of its own (steps.py reads it)
  local s
  DOCKER_BUILDKIT=1 bounded "$docker" build --progress plain --network none --build-arg BASE="$reg/bench/busybox:latest" -t "$reg/bench/$2:latest" "$1" &&
    s=$(date +%s.%N) && bounded "$docker" push "$reg/bench/$2:latest" &&
    echo "bench: docker push DONE $(python3 -c "print(f'{$(date +%s.%N)-$s:.2f}')")s"
}
# timed LOG CMD...: the wall seconds CMD took (its output in LOG), or "fail". Dirty pages of what ran before (the
# contexts just generated, the other tool's build) are written back first, so neither tool pays for the other's.
timed() {
  local log=$1 s e; shift
  sync
  s=$(date +%s.%N)
  if "$@" >"$log" 2>&1; then e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.2f}')"; else echo fail; fi
}
# check_sum IMAGE: the RUN-heavy image's /app/sum, read from its last layer in the registry, is an md5sum line.
check_sum() {
  local accept=application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json layer
  layer=$(curl -fsS -H "Accept: $accept" "http://$reg/v2/bench/$1/manifests/latest" | jq -r '.layers[-1].digest')
  curl -fsS "http://$reg/v2/bench/$1/blobs/$layer" | tar -xzOf - app/sum | grep -Eq '^[0-9a-f]{32}  -$'
}

# One line per sample ("SCENARIO TOOL ROUND SECONDS|fail") and per RUN-heavy build ("TOOL ROUND STEP=SECONDS..."): report.py reads them.
step_args=('context=^\[internal\] load build context$' 'copy=\] COPY src/' 'run=\] RUN ' 'copy-from=\] COPY --from='
  'export=^exporting to image$' 'push=^docker push$')
scenario() { # NAME CONTEXT IMAGE
  local name=$1 tool secs log
  for tool in dbuild buildkit; do
    log=$work/logs/round$round-$name-$tool.log
    secs=$(timed "$log" "${tool}_run" "$2" "$3-$tool")
    if [ "$secs" = fail ]; then echo "round $round: $name: $tool FAILED; the end of $log:" >&2; tail -15 "$log" >&2; fi
    echo "$name $tool $round $secs" >> "$work/samples.txt"
    echo "round $round: $name: $tool ${secs}s" >&2
    if [ "$name" = big-file ] && [ "$secs" != fail ]; then
      check_sum "$3-$tool" || echo "round $round: $tool's RUN-heavy image has no md5sum line in /app/sum" >&2
      echo "$tool $round $(python3 "$here/steps.py" "$log" "${step_args[@]}" | tr '\n' ' ')" >> "$work/steps.txt"
    fi
  done
}
# The CI scenario: two runners with empty local state share a cache through the registry. Runner A (untimed) builds
# and pushes, exporting its cache: dbuild --cache-to type=registry,mode=max; BuildKit the inline cache
# (BUILDKIT_INLINE_CACHE=1, docker 20.10 has no other). One source file changes. Runner B (timed) starts empty
# (dbuild: a new state root; BuildKit: builder prune + rmi, nothing local) and builds with --cache-from, exporting
# its cache again as a CI job does, then pushes.
ci_dbuild() { # ROOT EXTRA...
  local root=$1; shift
  bounded "${dbuild_cmd[@]}" --root "$root" build --progress plain --build-arg BASE="$reg/bench/busybox:latest" -t "$reg/bench/ci-dbuild:latest" --push \
    --cache-to "type=registry,ref=$reg/bench/ci-dbuild:cache,mode=max" "$@" "$ctx"
}
ci_buildkit() { # EXTRA...
  bench_images | xargs -r "$docker" rmi -f >/dev/null 2>&1 || true
  "$docker" builder prune -af >/dev/null 2>&1 || true
  DOCKER_BUILDKIT=1 bounded "$docker" build --progress plain --network none --build-arg BUILDKIT_INLINE_CACHE=1 --build-arg BASE="$reg/bench/busybox:latest" \
    -t "$reg/bench/ci-buildkit:latest" "$@" "$ctx" && bounded "$docker" push "$reg/bench/ci-buildkit:latest"
}
ci_scenario() {
  local secs log
  rm -rf "$work/ci-a" "$work/ci-b"
  timed "$work/logs/round$round-ci-a-dbuild.log" ci_dbuild "$work/ci-a" >/dev/null
  timed "$work/logs/round$round-ci-a-buildkit.log" ci_buildkit >/dev/null
  echo "// ci change $(date +%s%N)" >> "$changed"
  # Runner B's fresh BuildKit state is made before the clock starts, as a new CI machine has it.
  bench_images | xargs -r "$docker" rmi -f >/dev/null 2>&1 || true
  "$docker" builder prune -af >/dev/null 2>&1 || true
  log=$work/logs/round$round-ci-dbuild.log
  secs=$(timed "$log" ci_dbuild "$work/ci-b" --cache-from "type=registry,ref=$reg/bench/ci-dbuild:cache")
  echo "ci dbuild $round $secs" >> "$work/samples.txt"; echo "round $round: ci: dbuild ${secs}s" >&2
  log=$work/logs/round$round-ci-buildkit.log
  secs=$(timed "$log" ci_buildkit --cache-from "$reg/bench/ci-buildkit:latest")
  echo "ci buildkit $round $secs" >> "$work/samples.txt"; echo "round $round: ci: buildkit ${secs}s" >&2
  rm -rf "$work/ci-a" "$work/ci-b"
}
changed=$ctx/src/m07/f57.dat
cp "$changed" "$work/f57.dat.orig"
for round in $(seq 1 "$rounds"); do
  rm -rf "$work/registry" "$state" "$ctx/assets/big.bin"
  cp "$work/f57.dat.orig" "$changed"
  cp -a "$work/seed" "$work/registry"
  start_registry "$work/registry"
  wait_dockerd
  bench_images | xargs -r "$docker" rmi -f >/dev/null 2>&1 || true
  "$docker" builder prune -af >/dev/null 2>&1 || true
  echo "$round $(cut -d' ' -f1-3 /proc/loadavg)" >> "$work/loads.txt"
  if [ "${ONLY_CI:-0}" != 1 ]; then
    scenario cold "$ctx" app
    scenario no-op "$ctx" app
    echo "// changed $(date +%s%N)" >> "$changed"
    scenario one-file "$ctx" app
    if [ "${BIG_LAYER:-0}" = 1 ]; then
      head -c $((512 * 1024 * 1024)) /dev/urandom > "$ctx/assets/big.bin"
      scenario big-layer "$ctx" app
    fi
    scenario big-file "$heavy" heavy
  fi
  [ "${CI_SCENARIO:-1}" = 1 ] && ci_scenario
done
stop_registry
echo "end $(cut -d' ' -f1-3 /proc/loadavg)" >> "$work/loads.txt"
python3 "$here/report.py" "$work/samples.txt" "$work/steps.txt" "$rounds" "$base_tool" "$(( $(date +%s) - started ))" "$work/loads.txt" | tee "$work/report.txt"
