#!/usr/bin/env bash
# CI-shaped build benchmark (not a timed test): a 4-stage Dockerfile over a 5,000-file, ~100 MB context, build + push,
# dbuild vs BuildKit (docker build + docker push) in the same run, four scenarios:
#   cold          empty caches (fresh dbuild state root; docker builder prune + rmi)
#   no-op         same inputs again
#   one-file      one source file changed
#   big-file      a 512 MiB incompressible file added to the context
# Usage: bash bench/build/run.sh [DBUILD_DLL]   (root; needs testdata/ci/setup.sh done). Prints a table.
# Without DBUILD_DLL it publishes dbuild as the README does (self-contained, ReadyToRun composite). ROUNDS=N (default 3) repeats the whole
# sequence, each round from scratch (new registry, fresh dbuild state root, BuildKit cache pruned); the table gives the
# median of each scenario and every sample.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/testdata/ci/env.sh"
export DOCKER_HOST=$DBUILD_TEST_DOCKER_HOST DOCKER_BUILDKIT=1
work=${BENCH_WORK:-/var/tmp/dbuild-bench}
rm -rf "$work"; mkdir -p "$work"
# dbuild as the README installs it (self-contained, ReadyToRun composite), unless a dbuild.dll is given.
dbuild_dll=${1:-}
if [ -z "$dbuild_dll" ]; then
  dotnet publish "$repo/src/Dbuild.Cli" -c Release -r linux-x64 --self-contained -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true \
    -o "$work/dbuild-bin" --nologo -v quiet
  dbuild_cmd=("$work/dbuild-bin/dbuild")
else
  dbuild_cmd=(dotnet "$dbuild_dll")
fi
rounds=${ROUNDS:-3}
regpid=""
cleanup() { [ -n "$regpid" ] && kill "$regpid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

start_registry() { # a fresh registry:2 on a new port, with the busybox base pushed: sets reg
  cleanup; regpid=""
  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  reg=127.0.0.1:$port
  rm -rf "$work/registry"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: %s\n' "$work" "$reg" > "$work/registry.yml"
  /usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  regpid=$!
  for _ in $(seq 1 100); do curl -fs "http://$reg/v2/" >/dev/null && break; sleep 0.1; done
  skopeo copy -q --dest-tls-verify=false "oci:$DBUILD_TEST_BUSYBOX_OCI:latest" "docker://$reg/bench/busybox:latest"
}

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
du -sh "$ctx" | sed 's/^/context: /'; find "$ctx" -type f | wc -l | sed 's/^/files: /'

state=$work/dbuild-state
t() { local s e; s=$(date +%s.%N); "$@" >>"$work/log.txt" 2>&1; e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.2f}')"; }
dbuild_run() { "${dbuild_cmd[@]}" --root "$state" build --progress plain --build-arg BASE="$reg/bench/busybox:latest" -t "$reg/bench/dbuild:latest" --push "$ctx"; }
buildkit_run() { /usr/bin/docker build --network none --build-arg BASE="$reg/bench/busybox:latest" -t "$reg/bench/buildkit:latest" "$ctx" && /usr/bin/docker push "$reg/bench/buildkit:latest"; }

declare -A samples_d samples_b
scenario() {
  local name=$1 d b
  d=$(t dbuild_run); b=$(t buildkit_run)
  samples_d[$name]="${samples_d[$name]:-} $d"; samples_b[$name]="${samples_b[$name]:-} $b"
  echo "round $round: $name dbuild ${d}s buildkit ${b}s" >&2
}
for round in $(seq 1 "$rounds"); do
  start_registry
  rm -rf "$state" "$ctx/assets/big.bin" "$ctx/src/m07/f7.dat"
  /usr/bin/docker builder prune -af >/dev/null 2>&1 || true
  /usr/bin/docker image ls --format '{{.Repository}}:{{.Tag}}' | grep '/bench/' | xargs -r /usr/bin/docker rmi -f >/dev/null 2>&1 || true
  scenario cold
  scenario no-op
  echo "// changed $(date +%s%N)" >> "$ctx/src/m07/f7.dat"
  scenario one-file
  head -c $((512 * 1024 * 1024)) /dev/urandom > "$ctx/assets/big.bin"
  scenario big-file
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
printf '%-10s %9s %9s %7s   %s\n' scenario dbuild buildkit ratio "samples (dbuild | buildkit), seconds"
for name in cold no-op one-file big-file; do
  d=$(echo "${samples_d[$name]}" | median); b=$(echo "${samples_b[$name]}" | median)
  printf '%-10s %8.2fs %8.2fs %6.2fx   %s |%s\n' "$name" "$d" "$b" "$(python3 -c "print($d/$b)")" "${samples_d[$name]}" "${samples_b[$name]}"
done
printf 'medians of %d rounds; %s; load average %s\n' "$rounds" "$(date -u +%FT%TZ)" "$(cut -d' ' -f1-3 /proc/loadavg)"
