#!/usr/bin/env bash
# Runtime benchmark (not a test): per-RUN-step overhead of dbuild vs BuildKit, in the same run.
# Builds a Dockerfile with N trivial RUN steps (RUN echo i > /fi) and one with none, both with --no-cache, with
# dbuild and with BuildKit (dockerd 20.10, DOCKER_BUILDKIT=1 /usr/bin/docker build --network none); per-step
# overhead = (time with N steps - time with 0 steps) / N, best of REPEAT runs. Goal: dbuild <= 1.2x BuildKit.
# Needs root, runc, skopeo, docker-registry and the private dockerd (bash testdata/ci/setup.sh).
# Env: STEPS (50), REPEAT (3), DBUILD_DLL (default: built into /work/.art/bench-runtime), DOCKER_HOST.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/testdata/ci/env.sh"
steps=${STEPS:-50}
repeat=${REPEAT:-3}
export DOCKER_HOST=${DOCKER_HOST:-$DBUILD_TEST_DOCKER_HOST}
docker=/usr/bin/docker

if [ -z "${DBUILD_DLL:-}" ]; then
  art=${ArtifactsPath:-/work/.art/bench-runtime}
  ArtifactsPath="$art" dotnet build "$repo/src/Dbuild.Cli" -c Release -v q -nologo >/dev/null
  DBUILD_DLL="$art/bin/Dbuild.Cli/release/dbuild.dll"
fi

work=$(mktemp -d /tmp/dbuild-bench-runtime.XXXXXX)
registry_pid=""
cleanup() {
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# registry:2 on a free 127.0.0.1 port with the offline busybox image: the base both builders pull.
port=""
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 30000))
  if ! ss -Hltn "sport = :$candidate" | grep -q .; then port=$candidate; break; fi
done
[ -n "$port" ] || { echo "no free port" >&2; exit 1; }
cat > "$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YAML
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
skopeo copy -q --dest-tls-verify=false "oci:$DBUILD_TEST_BUSYBOX_OCI:latest" "docker://127.0.0.1:$port/busybox:latest"
base="127.0.0.1:$port/busybox:latest"

mkdir -p "$work/ctx0" "$work/ctxN"
printf 'ARG BASE\nFROM $BASE\nCMD ["sh"]\n' > "$work/ctx0/Dockerfile"
{ printf 'ARG BASE\nFROM $BASE\n'; for i in $(seq 1 "$steps"); do echo "RUN echo $i > /f$i"; done; printf 'CMD ["sh"]\n'; } > "$work/ctxN/Dockerfile"

now() { date +%s.%N; }
# best (minimum) wall time of $repeat runs of "$@"
best() {
  local b="" t0 t1 d
  for _ in $(seq 1 "$repeat"); do
    t0=$(now); "$@" >"$work/last.log" 2>&1 || { tail -20 "$work/last.log" >&2; exit 1; }; t1=$(now)
    d=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    if [ -z "$b" ] || awk -v d="$d" -v b="$b" 'BEGIN { exit !(d < b) }'; then b=$d; fi
  done
  echo "$b"
}
dbuild_build() { dotnet "$DBUILD_DLL" --root "$work/dbuild-root" build --no-cache --progress quiet --build-arg "BASE=$base" -o "type=oci,dest=$work/out.tar" "$1"; }
buildkit_build() { DOCKER_BUILDKIT=1 $docker build --no-cache --network none -q --build-arg "BASE=$base" -t dbuild-bench/runtime:latest "$1"; }

# warm up: pull the base into both, JIT/disk caches
dbuild_build "$work/ctx0" >/dev/null 2>&1 || true
buildkit_build "$work/ctx0" >/dev/null 2>&1 || true

db0=$(best dbuild_build "$work/ctx0");   dbN=$(best dbuild_build "$work/ctxN")
bk0=$(best buildkit_build "$work/ctx0"); bkN=$(best buildkit_build "$work/ctxN")
calc() { awk "BEGIN { printf \"%.4f\", $1 }"; }
db_step=$(calc "($dbN - $db0) / $steps * 1000")
bk_step=$(calc "($bkN - $bk0) / $steps * 1000")
ratio=$(calc "$db_step / $bk_step")
printf '%-9s %12s %14s %16s\n' builder "0 steps (s)" "$steps steps (s)" "per step (ms)"
printf '%-9s %12.2f %14.2f %16.1f\n' dbuild "$db0" "$dbN" "$db_step"
printf '%-9s %12.2f %14.2f %16.1f\n' BuildKit "$bk0" "$bkN" "$bk_step"
printf 'ratio dbuild/BuildKit per step: %.2fx (goal <= 1.2x)\n' "$ratio"
