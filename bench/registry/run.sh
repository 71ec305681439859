#!/usr/bin/env bash
# Registry benchmark: skopeo pushes and pulls a 1 GiB single-layer image and a 200-small-layer image against
# `dbuild registry serve` (Release build) and Debian's docker-registry (distribution 2.8.2) in the same run.
# Prints MB/s, blobs/s, the ratio dbuild/registry:2, each server's and the client's CPU seconds, and dbuild's peak RSS
# (VmHWM). skopeo hashes every byte it sends or receives on one core, so it can bound the skopeo rows (its CPU shows
# it); the two curl rows move the same 1 GiB layer with a client that costs almost nothing, so they show the servers.
# The machine's other load skews wall times; rounds alternate between the servers, and CPU seconds are load-independent.
# No goal is attached to these rows any more: issue 12 retired the earlier registry issue's skopeo 1 GiB goal (skopeo's
# own CPU is the whole wall time there). The server-bound load benchmark with goals is load.sh; see README.md.
#
#   bench/registry/run.sh [WORK_DIR]        (default /var/tmp/dbuild-bench; needs ~5 GiB free; runs as any user)
#   ROUNDS=3 bench/registry/run.sh          (best of N rounds per measurement; default 2)
#   ArtifactsPath=/somewhere bench/registry/run.sh   (where the Release build goes; default <repo>/artifacts)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/registry/lib.sh
. "$here/lib.sh"
repo=$(cd "$here/../.." && pwd)
work=${1:-/var/tmp/dbuild-bench}
rounds=${ROUNDS:-2}
artifacts=${ArtifactsPath:-$repo/artifacts}
mkdir -p "$work"

for tool in skopeo /usr/bin/docker-registry dotnet; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (bash testdata/ci/setup.sh installs it)" >&2; exit 1; }
done

echo "bench: building dbuild (Release) into $artifacts" >&2
(cd "$repo" && ArtifactsPath="$artifacts" dotnet build src/Dbuild.Cli -c Release -v q -nologo >/dev/null)
dbuild_dll="$artifacts/bin/Dbuild.Cli/release/dbuild.dll"
[ -f "$dbuild_dll" ] || { echo "bench: $dbuild_dll not built" >&2; exit 1; }

"$here/make-images.sh" "$work/images"
big_bytes=$(du -sb "$work/images/big/blobs" | cut -f1)
small_bytes=$(du -sb "$work/images/small/blobs" | cut -f1)
small_blobs=$(( $(ls "$work/images/small/blobs/sha256" | wc -l) - 1 ))  # layers + config; the manifest is not a blob upload


declare -A pids ports
cleanup() {
  local k
  for k in "${!pids[@]}"; do
    if kill -0 "${pids[$k]}" 2>/dev/null; then kill -TERM "${pids[$k]}"; wait "${pids[$k]}" 2>/dev/null || true; fi
    unset "pids[$k]"
  done
}
stop_server() { if kill -0 "${pids[$1]}" 2>/dev/null; then kill -TERM "${pids[$1]}"; wait "${pids[$1]}" 2>/dev/null || true; fi; unset "pids[$1]"; }
trap cleanup EXIT

start_server() { # kind -> sets pids[kind], ports[kind]
  local kind=$1 data="$work/data-$1" port
  rm -rf "$data"; mkdir -p "$data"
  port=$(free_port)
  cat > "$work/$kind.yml" <<YML
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
  if [ "$kind" = dbuild ]; then
    dotnet "$dbuild_dll" registry serve --config "$work/$kind.yml" > "$work/$kind.log" 2>&1 &
  else
    /usr/bin/docker-registry serve "$work/$kind.yml" > "$work/$kind.log" 2>&1 &
  fi
  pids[$kind]=$!
  ports[$kind]=$port
  local up=0
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && { up=1; break; }; sleep 0.1; done
  [ $up = 1 ] || { echo "bench: $kind did not start"; cat "$work/$kind.log"; exit 1; }
  # The same warm-up for both servers, so the first measured request does not pay for JIT or cold caches.
  skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$work/images/warm:latest" "docker://127.0.0.1:$port/warm:1" >/dev/null
  rm -rf "/dev/shm/dbuild-bench-warm-$kind"
  skopeo --insecure-policy copy -q --src-tls-verify=false "docker://127.0.0.1:$port/warm:1" "oci:/dev/shm/dbuild-bench-warm-$kind:x" >/dev/null
  rm -rf "/dev/shm/dbuild-bench-warm-$kind"
}

measure() { # kind command... : runs it; records wall seconds in $wall, the server's CPU seconds in $cpu, the client's in $ccpu
  local kind=$1; shift
  local t0 t1 c0 c1
  c0=$(cpu_seconds "${pids[$kind]}")
  t0=$(now); /usr/bin/time -f '%U %S' -o "$work/client-time" "$@" >/dev/null; t1=$(now)
  c1=$(cpu_seconds "${pids[$kind]}")
  wall=$(echo "$t1 - $t0" | bc -l); cpu=$(echo "$c1 - $c0" | bc -l)
  ccpu=$(awk '{printf "%.2f", $1 + $2}' "$work/client-time")
}
keep_best() { # key : keeps the shortest wall time (and the CPU of that round)
  if [ -z "${result[$1]:-}" ] || (( $(echo "$wall < ${result[$1]}" | bc -l) )); then result[$1]=$wall; cpu_of[$1]=$cpu; client_of[$1]=$ccpu; fi
}
big_layer=$(ls -S "$work/images/big/blobs/sha256" | head -1)
# raw-push.sh PORT REPO FILE HEX: the 1 GiB layer in one monolithic PUT with curl (a client that is never the bottleneck)
cat > "$work/raw-push.sh" <<'SH'
loc=$(curl -fsS -D - -o /dev/null -X POST "http://127.0.0.1:$1/v2/$2/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
case $loc in http*) ;; *) loc="http://127.0.0.1:$1$loc" ;; esac
case $loc in *\?*) loc="$loc&" ;; *) loc="$loc?" ;; esac
exec curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T "$3" "${loc}digest=sha256:$4"
SH


# Rounds alternate between the two servers so both see the same background load. Each push round gets a fresh
# server (new port, empty storage): skopeo's blob-info cache would otherwise turn later rounds into cross-repository
# mounts. Pulls then run against the last pair of servers, alternating too. Best of $rounds rounds per measurement.
declare -A result cpu_of client_of
rss_kb=0
for image in big small; do
  for r in $(seq 1 "$rounds"); do
    for kind in registry2 dbuild; do
      start_server "$kind"
      measure "$kind" skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$work/images/$image:latest" "docker://127.0.0.1:${ports[$kind]}/$image:1"
      keep_best "$kind,$image,push"
      if [ "$r" -lt "$rounds" ]; then stop_server "$kind"; fi
    done
  done
  for r in $(seq 1 "$rounds"); do
    for kind in registry2 dbuild; do
      rm -rf /dev/shm/dbuild-bench-pull
      measure "$kind" skopeo --insecure-policy copy -q --src-tls-verify=false "docker://127.0.0.1:${ports[$kind]}/$image:1" "oci:/dev/shm/dbuild-bench-pull:x"
      keep_best "$kind,$image,pull"
    done
  done
  rm -rf /dev/shm/dbuild-bench-pull
  if [ "$image" = big ]; then
    for r in $(seq 1 "$rounds"); do
      for kind in registry2 dbuild; do
        measure "$kind" bash "$work/raw-push.sh" "${ports[$kind]}" "raw$r" "$work/images/big/blobs/sha256/$big_layer" "$big_layer"; keep_best "$kind,raw,push"
        measure "$kind" curl -fsS -o /dev/null "http://127.0.0.1:${ports[$kind]}/v2/raw$r/blobs/sha256:$big_layer"; keep_best "$kind,raw,pull"
      done
    done
  fi
  hwm=$(awk '/VmHWM/{print $2}' "/proc/${pids[dbuild]}/status")
  [ "$hwm" -gt "$rss_kb" ] && rss_kb=$hwm
  cleanup
done

printf '\n%-22s %17s %17s %7s\n' "measurement" "registry:2" "dbuild" "ratio"
row() { # label image dir unit
  local label=$1 image=$2 dir=$3 unit=$4 a b ra rb
  a=${result[registry2,$image,$dir]}; b=${result[dbuild,$image,$dir]}
  if [ "$unit" = MB/s ]; then
    ra=$(echo "$big_bytes / 1000000 / $a" | bc -l); rb=$(echo "$big_bytes / 1000000 / $b" | bc -l)
  else
    ra=$(echo "$small_blobs / $a" | bc -l); rb=$(echo "$small_blobs / $b" | bc -l)
  fi
  printf '%-22s %9.1f %-7s %9.1f %-7s %6.2fx   wall %.2fs vs %.2fs, server CPU %.2fs vs %.2fs, client CPU %.2fs vs %.2fs\n' "$label" "$ra" "$unit" "$rb" "$unit" \
    "$(echo "$rb / $ra" | bc -l)" "$a" "$b" "${cpu_of[registry2,$image,$dir]}" "${cpu_of[dbuild,$image,$dir]}" "${client_of[registry2,$image,$dir]}" "${client_of[dbuild,$image,$dir]}"
}
row "1 GiB push" big push MB/s
row "1 GiB pull" big pull MB/s
row "200 layers push" small push blobs/s
row "200 layers pull" small pull blobs/s
row "1 GiB PUT, curl" raw push MB/s
row "1 GiB GET, curl" raw pull MB/s
printf '\ndbuild peak RSS (VmHWM): %d MB\n' $((rss_kb / 1024))
printf 'sizes: big %d bytes, small %d bytes in %d blobs; best of %d rounds after a warm-up; %s\n' "$big_bytes" "$small_bytes" "$small_blobs" "$rounds" "$(date -u +%FT%TZ)"
