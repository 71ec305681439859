#!/usr/bin/env bash
# Registry on Azure Blob Storage (Azurite) against its limit: the Azure SDK moving the same bytes to and from the same
# Azurite directly (bench/Dbuild.Registry.AzureBench: 8 MiB blocks, 8 in flight). dbuild's rows use curl, a client that
# costs almost nothing: one monolithic PUT of a fresh random blob per round (push), one GET of it (pull). Goal: dbuild's
# push reaches ≥ 70 % of the SDK's direct upload rate. Prints MB/s, the ratio, dbuild's and Azurite's CPU seconds and
# dbuild's peak RSS. Rounds alternate between the two clients; best of N.
#
#   bench/registry/azure.sh [DBUILD] [WORK_DIR]   (DBUILD: a published dbuild binary; default: Release build of the repo)
#   ROUNDS=3 SIZE_MB=512 bench/registry/azure.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/registry/lib.sh
. "$here/lib.sh"
repo=$(cd "$here/../.." && pwd)
dbuild=${1:-}
work=${2:-/var/tmp/dbuild-bench-azure}
rounds=${ROUNDS:-3}
size_mb=${SIZE_MB:-512}
artifacts=${ArtifactsPath:-$repo/artifacts}
account=devstoreaccount1
key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='  # Azurite's well-known key
rm -rf "$work"; mkdir -p "$work"

for tool in azurite-blob curl dotnet bc; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (bash testdata/ci/setup.sh installs it)" >&2; exit 1; }
done
echo "bench: building (Release) into $artifacts" >&2
(cd "$repo" && ArtifactsPath="$artifacts" dotnet build bench/Dbuild.Registry.AzureBench -c Release -v q -nologo >/dev/null)
sdk=(dotnet "$artifacts/bin/Dbuild.Registry.AzureBench/release/Dbuild.Registry.AzureBench.dll")
if [ -z "$dbuild" ]; then
  (cd "$repo" && ArtifactsPath="$artifacts" dotnet build src/Dbuild.Cli -c Release -v q -nologo >/dev/null)
  dbuild_cmd=(dotnet "$artifacts/bin/Dbuild.Cli/release/dbuild.dll")
else
  dbuild_cmd=("$dbuild")
fi

pids=()
cleanup() { local p; for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

azport=$(free_port)
azurite-blob --blobHost 127.0.0.1 --blobPort "$azport" --location "$work/azurite" --skipApiVersionCheck --disableTelemetry --loose \
  > "$work/azurite.log" 2>&1 &
azpid=$!; pids+=("$azpid")
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$azport") 2>/dev/null && break; sleep 0.1; done
service="http://127.0.0.1:$azport/$account"

port=$(free_port)
cat > "$work/azure.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  azure:
    accountname: $account
    accountkey: "$key"
    container: registry
    serviceurl: $service
http:
  addr: 127.0.0.1:$port
YML
"${dbuild_cmd[@]}" registry serve --config "$work/azure.yml" > "$work/dbuild.log" 2>&1 &
dpid=$!; pids+=("$dpid")
up=0
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && { up=1; break; }; sleep 0.1; done
[ $up = 1 ] || { echo "bench: dbuild did not start"; cat "$work/dbuild.log"; exit 1; }

push_dbuild() { # FILE HEX REPO
  local loc
  loc=$(curl -fsS -D - -o /dev/null -X POST "http://127.0.0.1:$port/v2/$3/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
  case $loc in http*) ;; *) loc="http://127.0.0.1:$port$loc" ;; esac
  case $loc in *\?*) loc="$loc&" ;; *) loc="$loc?" ;; esac
  curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T "$1" "${loc}digest=sha256:$2"
}

declare -A best cpu_d cpu_a
keep() { # key wall dbuild-cpu azurite-cpu
  if [ -z "${best[$1]:-}" ] || (( $(echo "$2 < ${best[$1]}" | bc -l) )); then best[$1]=$2; cpu_d[$1]=$3; cpu_a[$1]=$4; fi
}
timed() { # key command...
  local key=$1; shift
  local t0 t1 d0 d1 a0 a1
  d0=$(cpu_seconds "$dpid"); a0=$(cpu_seconds "$azpid"); t0=$(now)
  "$@" >/dev/null
  t1=$(now); d1=$(cpu_seconds "$dpid"); a1=$(cpu_seconds "$azpid")
  keep "$key" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$d1 - $d0" | bc -l)" "$(echo "$a1 - $a0" | bc -l)"
}
sdk_timed() { # key command... (the SDK client times its own transfer, without its process start)
  local key=$1; shift
  local d0 d1 a0 a1 secs
  d0=$(cpu_seconds "$dpid"); a0=$(cpu_seconds "$azpid")
  secs=$("$@")
  d1=$(cpu_seconds "$dpid"); a1=$(cpu_seconds "$azpid")
  keep "$key" "$secs" "$(echo "$d1 - $d0" | bc -l)" "$(echo "$a1 - $a0" | bc -l)"
}

# Warm-up: one small blob each way through both paths (JIT, connection pools, container creation).
head -c 1048576 /dev/urandom > "$work/warm"
hex=$(sha256sum "$work/warm" | cut -d' ' -f1)
push_dbuild "$work/warm" "$hex" warm
curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/warm/blobs/sha256:$hex"
"${sdk[@]}" push "$service" "$account" "$key" registry "$work/warm" >/dev/null

bytes=$((size_mb * 1048576))
for r in $(seq 1 "$rounds"); do
  head -c "$bytes" /dev/urandom > "$work/blob"   # fresh content: a stored digest would make the push a no-op
  hex=$(sha256sum "$work/blob" | cut -d' ' -f1)
  sdk_timed sdk,push "${sdk[@]}" push "$service" "$account" "$key" registry "$work/blob"
  timed dbuild,push push_dbuild "$work/blob" "$hex" "bench$r"
  sdk_timed sdk,pull "${sdk[@]}" pull "$service" "$account" "$key" registry "docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
  timed dbuild,pull curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/bench$r/blobs/sha256:$hex"
done
rm -f "$work/blob"

rate() { echo "$bytes / 1000000 / $1" | bc -l; }
printf '\n%-10s %16s %16s %7s %6s\n' "" "SDK direct" "dbuild" "ratio" "goal"
for dir in push pull; do
  a=$(rate "${best[sdk,$dir]}"); b=$(rate "${best[dbuild,$dir]}"); ratio=$(echo "$b / $a" | bc -l)
  goal=""; if [ "$dir" = push ]; then goal=$( (( $(echo "$ratio >= 0.7" | bc -l) )) && echo met || echo MISSED); fi
  printf '%-10s %10.1f MB/s %10.1f MB/s %6.2f  %-6s  CPU during dbuild row: dbuild %.2fs, azurite %.2fs; during SDK row: azurite %.2fs\n' \
    "$dir" "$a" "$b" "$ratio" "$goal" "${cpu_d[dbuild,$dir]}" "${cpu_a[dbuild,$dir]}" "${cpu_a[sdk,$dir]}"
done
printf '\ndbuild peak RSS (VmHWM): %d MB; %d MiB blob, best of %d rounds; %s\n' \
  "$(( $(awk '/VmHWM/{print $2}' "/proc/$dpid/status") / 1024 ))" "$size_mb" "$rounds" "$(date -u +%FT%TZ)"
