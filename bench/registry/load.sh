#!/usr/bin/env bash
# Registry load benchmark (issue 12 (a)): many cheap clients at once against `dbuild registry serve` (Release) and
# Debian's docker-registry (registry:2, distribution 2.8.2), both on the filesystem driver, in the same run:
#   pull      64 connections GET an image's manifest (by tag, with a pull's Accept), its config and its 4 layers
#             (~96 MiB), cycling through those 6 paths; latency percentiles are over every request of that mix
#   manifest  128 connections GET one small image's manifest by tag, with the Accept header
# The GET loads run httpload (httpload.c, compiled here with gcc): epoll keep-alive connections that discard bodies in
# the kernel (recv MSG_TRUNC), so the client costs little per byte; CLIENT=wrk runs wrk with cycle.lua instead.
#   upload    16 curl clients in parallel, each POST + monolithic PUT of its own distinct 32 MiB blobs
# Each round starts both servers fresh (new ports, empty data dirs), seeds them with curl, warms them up (JIT, caches)
# with the same short loads, then alternates them measurement by measurement, so both see the same background load.
# Prints per-round lines, then the best round of each server (by throughput) with p50/p99, server CPU seconds
# (utime+stime from /proc/PID/stat), client CPU seconds, peak RSS (VmHWM) and the goals, met or MISSED.
#
#   bench/registry/load.sh [WORK_DIR [DBUILD]]   WORK_DIR default /var/tmp/dbuild-load (~2.5 GiB); DBUILD: a published
#                                                 dbuild binary, or a dbuild.dll; default: a Release build of src/Dbuild.Cli
#   ROUNDS=2 DURATION=10 WARMUP=5 THREADS=2 UPLOAD_BLOBS=2 LOG_LEVEL=info CLIENT=httpload bench/registry/load.sh
#   CEILING=1 bench/registry/load.sh   also GETs /v2/ (no storage) with the manifest load's 128 connections: what the
#                                       HTTP stack alone answers, next to what a manifest GET costs on top of it; and
#                                       runs the pull against sendfile-server.c, the least any server can do for it
# Needs gcc (or wrk with CLIENT=wrk), curl, /usr/bin/docker-registry, dotnet. Talks to 127.0.0.1 only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/registry/lib.sh
. "$here/lib.sh"
repo=$(cd "$here/../.." && pwd)
work=${1:-/var/tmp/dbuild-load}
dbuild=${2:-}
rounds=${ROUNDS:-2}
duration=${DURATION:-10}
warmup=${WARMUP:-5}                # seconds of each wrk load before measuring: dbuild's JIT tiering needs a few
threads=${THREADS:-2}
client=${CLIENT:-httpload}         # httpload (cheap per byte) or wrk
upload_blobs=${UPLOAD_BLOBS:-2}    # per client
log_level=${LOG_LEVEL:-info}       # the same for both servers; info = one access-log line per request on both
ceiling=${CEILING:-0}
pull_conns=64 manifest_conns=128 upload_clients=16 upload_mib=32
app_layers_mib=(2 10 24 60)        # the pulled image's layers, largest last, as a typical app image on a distro base
mkdir -p "$work"

case $client in httpload) need=gcc ;; wrk) need=wrk ;; *) echo "load: CLIENT is httpload or wrk, not $client" >&2; exit 2 ;; esac
for tool in "$need" curl /usr/bin/docker-registry /usr/bin/time sha256sum; do
  command -v "$tool" >/dev/null || { echo "load: $tool is missing (bash testdata/ci/setup.sh installs it)" >&2; exit 1; }
done
if [ "$client" = httpload ]; then
  gcc -O2 -Wall -Werror -o "$work/httpload" "$here/httpload.c" -lpthread || { echo "load: httpload.c did not compile" >&2; exit 1; }
fi
if [ "$ceiling" = 1 ]; then
  gcc -O2 -Wall -Werror -o "$work/sendfile-server" "$here/sendfile-server.c" -lpthread || { echo "load: sendfile-server.c did not compile" >&2; exit 1; }
fi
if [ -z "$dbuild" ]; then
  command -v dotnet >/dev/null || { echo "load: dotnet is missing" >&2; exit 1; }
  artifacts=${ArtifactsPath:-$repo/artifacts}
  echo "load: building dbuild (Release) into $artifacts" >&2
  (cd "$repo" && ArtifactsPath="$artifacts" dotnet build src/Dbuild.Cli -c Release -v q -nologo >/dev/null)
  dbuild="$artifacts/bin/Dbuild.Cli/release/dbuild.dll"
fi
[ -f "$dbuild" ] || { echo "load: $dbuild does not exist" >&2; exit 1; }
case $dbuild in *.dll) dbuild_cmd=(dotnet "$dbuild") ;; *) dbuild_cmd=("$dbuild") ;; esac

calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }  # calc EXPR [DECIMALS]; EXPR holds only numbers this script made

# ---- content: random blobs named by their sha256, made once per parameter set ----
content=$work/content
blob() { # DIR BYTES : a new random blob in DIR; prints its hex
  local tmp="$1/.tmp.$$" hex
  head -c "$2" /dev/urandom > "$tmp"
  hex=$(sha256sum "$tmp" | cut -d' ' -f1)
  mv "$tmp" "$1/$hex"
  echo "$hex"
}
image() { # DIR LAYER_BYTES... : layers, config and manifest.json (OCI) in DIR
  local dir=$1 layers="" diffids="" hex cfg
  shift
  mkdir -p "$dir/blobs"
  for bytes in "$@"; do
    hex=$(blob "$dir/blobs" "$bytes")
    layers+="${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$hex\",\"size\":$bytes}"
    diffids+="${diffids:+,}\"sha256:$hex\""
  done
  printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/app"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$diffids" > "$dir/config.tmp"
  cfg=$(sha256sum "$dir/config.tmp" | cut -d' ' -f1)
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[%s]}' \
    "$cfg" "$(stat -c %s "$dir/config.tmp")" "$layers" > "$dir/manifest.json"
  mv "$dir/config.tmp" "$dir/blobs/$cfg"
  echo "$cfg" > "$dir/config"
  grep -o 'sha256:[0-9a-f]*' "$dir/manifest.json" | tail -n +2 | cut -c8- > "$dir/layers"  # in manifest order
}
params="layers=${app_layers_mib[*]} uploads=$upload_clients*$upload_blobs*$upload_mib"
if [ "$(cat "$content/params" 2>/dev/null)" != "$params" ]; then
  echo "load: making content in $content ($params MiB)" >&2
  rm -rf "$content"; mkdir -p "$content"
  image "$content/app" $(for m in "${app_layers_mib[@]}"; do echo $((m * 1024 * 1024)); done)
  image "$content/small" 4096
  for i in $(seq 1 "$upload_clients"); do
    mkdir -p "$content/up/$i" "$content/warm/$i"
    for _ in $(seq 1 "$upload_blobs"); do blob "$content/up/$i" $((upload_mib * 1024 * 1024)) >/dev/null; done
    blob "$content/warm/$i" $((1024 * 1024)) >/dev/null
  done
  echo "$params" > "$content/params"
fi
app_paths=(/v2/app/manifests/1 "/v2/app/blobs/sha256:$(cat "$content/app/config")")
while read -r hex; do app_paths+=("/v2/app/blobs/sha256:$hex"); done < "$content/app/layers"

# ---- servers ----
declare -A spid sport
server_pid="" port=""              # the server the functions below talk to, set by use()
use() { server_pid=${spid[$1]} port=${sport[$1]}; }
stop_server() { # KIND
  local pid=${spid[$1]:-}
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; fi
  unset "spid[$1]"
}
stop_all() { local kind; for kind in "${!spid[@]}"; do stop_server "$kind"; done; }
trap stop_all EXIT

start_server() { # KIND : a fresh server with empty storage, then use KIND
  local kind=$1 data="$work/data-$1" p
  rm -rf "$data"; mkdir -p "$data"
  p=$(free_port)
  # registry:2's shipped config (Debian's /etc/docker/registry/config.yml) enables the in-memory blob descriptor
  # cache, so it is on here; dbuild reads the key and ignores it.
  cat > "$work/$kind.yml" <<YML
version: 0.1
log:
  level: $log_level
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$p
YML
  if [ "$kind" = dbuild ]; then
    "${dbuild_cmd[@]}" registry serve --config "$work/$kind.yml" > "$work/$kind.log" 2>&1 &
  else
    /usr/bin/docker-registry serve "$work/$kind.yml" > "$work/$kind.log" 2>&1 &
  fi
  spid[$kind]=$! sport[$kind]=$p
  use "$kind"
  for _ in $(seq 1 150); do
    curl -fsS --max-time 5 "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && return 0
    kill -0 "${spid[$kind]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "load: $kind did not start" >&2; tail -20 "$work/$kind.log" >&2; exit 1
}

start_sendfile_server() { # the pull ceiling (CEILING=1): serves the content dir as it is, then use it
  local p
  p=$(free_port)
  "$work/sendfile-server" "$p" "$content" > "$work/sendfile-server.log" 2>&1 &
  spid[sendfile]=$! sport[sendfile]=$p
  use sendfile
  for _ in $(seq 1 50); do
    curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$port/v2/app/manifests/1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "load: sendfile-server did not start" >&2; cat "$work/sendfile-server.log" >&2; exit 1
}

seed() { # REPO DIR : uploads DIR's blobs and puts its manifest under tag 1
  local name=$1 dir=$2
  "$here/upload.sh" "$port" "$name" "$dir"/blobs/*
  curl -fsS --max-time 60 -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary "@$dir/manifest.json" "http://127.0.0.1:$port/v2/$name/manifests/1"
}

# ---- measurements; each leaves its figures in the array m ----
declare -A m
run_wrk() { # CONNS SECONDS PATH... : sets m[rps] m[mbps] m[p50] m[p99] (ms) m[cpu] m[ccpu] m[errors] m[requests] m[bytes]
  local conns=$1 seconds=$2 line c0 c1 key
  shift 2
  c0=$(cpu_seconds "$server_pid")
  if [ "$client" = httpload ]; then
    /usr/bin/time -f '%U %S' -o "$work/client-time" "$work/httpload" -t "$threads" -c "$conns" -d "$seconds" -T 60 \
      127.0.0.1 "$port" "$@" > "$work/wrk.out" 2>&1 || { cat "$work/wrk.out" >&2; exit 1; }
  else
    /usr/bin/time -f '%U %S' -o "$work/client-time" wrk -t "$threads" -c "$conns" -d "${seconds}s" --timeout 60s --latency \
      -s "$here/cycle.lua" "http://127.0.0.1:$port" -- "$@" > "$work/wrk.out" 2>&1 || { cat "$work/wrk.out" >&2; exit 1; }
  fi
  c1=$(cpu_seconds "$server_pid")
  line=$(grep '^WRK ' "$work/wrk.out") || { cat "$work/wrk.out" >&2; exit 1; }
  declare -A w
  for kv in ${line#WRK }; do w[${kv%%=*}]=${kv#*=}; done
  m[rps]=$(calc "${w[requests]} / (${w[duration_us]} / 1e6)" 1)
  m[mbps]=$(calc "${w[bytes]} / ${w[duration_us]}" 1)   # bytes per microsecond = MB/s
  m[p50]=$(calc "${w[p50_us]} / 1000" 2); m[p99]=$(calc "${w[p99_us]} / 1000" 2)
  m[cpu]=$(calc "$c1 - $c0"); m[ccpu]=$(awk '{ printf "%.2f", $1 + $2 }' "$work/client-time")
  m[requests]=${w[requests]} m[bytes]=${w[bytes]} m[errors]=0
  for key in status_errors connect_errors read_errors write_errors timeouts; do m[errors]=$((m[errors] + w[$key])); done
}

run_uploads() { # DIR : every client dir under DIR uploads its blobs at once; sets m[mbps] m[wall] m[cpu] m[ccpu] m[bytes]
  local c0 c1 t0 t1
  c0=$(cpu_seconds "$server_pid"); t0=$(now)
  /usr/bin/time -f '%U %S' -o "$work/client-time" bash -c '
    pids=(); for d in "$3"/*/; do "$1" "$2" "up$(basename "$d")" "$d"* & pids+=($!); done
    rc=0; for p in "${pids[@]}"; do wait "$p" || rc=1; done; exit $rc' _ "$here/upload.sh" "$port" "$1"
  t1=$(now); c1=$(cpu_seconds "$server_pid")
  m[wall]=$(calc "$t1 - $t0"); m[cpu]=$(calc "$c1 - $c0"); m[ccpu]=$(awk '{ printf "%.2f", $1 + $2 }' "$work/client-time")
  m[bytes]=$(stat -c %s "$1"/*/* | awk '{ s += $1 } END { print s }')
  m[mbps]=$(calc "${m[bytes]} / 1e6 / ${m[wall]}" 1)
}

# ---- rounds ----
declare -A best rss
measure() { # ROUND SCENARIO KIND : one measurement against KIND; prints it and keeps the best per server
  local r=$1 scenario=$2 kind=$3 key
  use "$kind"
  case $scenario in
    manifest|ceiling)
      if [ "$scenario" = manifest ]; then run_wrk "$manifest_conns" "$duration" /v2/small/manifests/1; else run_wrk "$manifest_conns" "$duration" /v2/; fi
      printf 'round %d %-9s %-13s %9s req/s  p50 %7s ms  p99 %7s ms  server CPU %6ss  client CPU %6ss  errors %s\n' "$r" "$kind" \
        "$([ "$scenario" = manifest ] && echo "manifest GET" || echo "GET /v2/")" "${m[rps]}" "${m[p50]}" "${m[p99]}" "${m[cpu]}" "${m[ccpu]}" "${m[errors]}"
      if [ "${m[errors]}" = 0 ] && awk "BEGIN { exit !(${m[rps]} > ${best[$kind,$scenario,rps]:-0}) }"; then
        for key in rps p50 p99 cpu ccpu; do best[$kind,$scenario,$key]=${m[$key]}; done
        best[$kind,$scenario,unit]=$(calc "${m[cpu]} * 1e6 / ${m[requests]}" 1)    # server CPU us per request
      fi ;;
    pull)
      run_wrk "$pull_conns" "$duration" "${app_paths[@]}"
      printf 'round %d %-9s pull          %9s MB/s   %7s req/s  p50 %7s ms  p99 %7s ms  server CPU %6ss  client CPU %6ss  errors %s\n' \
        "$r" "$kind" "${m[mbps]}" "${m[rps]}" "${m[p50]}" "${m[p99]}" "${m[cpu]}" "${m[ccpu]}" "${m[errors]}"
      if [ "${m[errors]}" = 0 ] && awk "BEGIN { exit !(${m[mbps]} > ${best[$kind,pull,mbps]:-0}) }"; then
        for key in mbps rps p50 p99 cpu ccpu; do best[$kind,pull,$key]=${m[$key]}; done
        best[$kind,pull,unit]=$(calc "${m[cpu]} * 1e9 / ${m[bytes]}" 2)         # server CPU s per GB
      fi ;;
    upload)
      run_uploads "$content/up"
      printf 'round %d %-9s 16 uploads    %9s MB/s   wall %6ss  server CPU %6ss  curl CPU %6ss\n' \
        "$r" "$kind" "${m[mbps]}" "${m[wall]}" "${m[cpu]}" "${m[ccpu]}"
      if awk "BEGIN { exit !(${m[mbps]} > ${best[$kind,upload,mbps]:-0}) }"; then
        for key in mbps wall cpu ccpu; do best[$kind,upload,$key]=${m[$key]}; done
        best[$kind,upload,unit]=$(calc "${m[cpu]} * 1e9 / ${m[bytes]}" 2)
      fi ;;
  esac
}

# Each round starts both servers fresh and seeds and warms both, then alternates them measurement by measurement
# (which one goes first flips every round), so the two figures of a pair are seconds apart under the same load.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
scenarios=(manifest); [ "$ceiling" = 1 ] && scenarios+=(ceiling)
scenarios+=(pull upload)
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) = 1 ]; then order=(registry2 dbuild); else order=(dbuild registry2); fi
  for kind in "${order[@]}"; do start_server "$kind"; seed app "$content/app"; seed small "$content/small"; done
  for kind in "${order[@]}"; do
    # The same warm-up for both: a burst of each load (JIT tiering, page cache, connection pools), not measured.
    use "$kind"
    run_wrk "$pull_conns" "$warmup" "${app_paths[@]}"; run_wrk "$manifest_conns" "$warmup" /v2/small/manifests/1
    run_uploads "$content/warm"
  done
  for scenario in "${scenarios[@]}"; do
    for kind in "${order[@]}"; do measure "$r" "$scenario" "$kind"; done
  done
  if [ "$ceiling" = 1 ]; then
    start_sendfile_server
    run_wrk "$pull_conns" "$warmup" "${app_paths[@]}"
    measure "$r" pull sendfile
    stop_server sendfile
  fi
  for kind in "${order[@]}"; do
    hwm=$(awk '/VmHWM/ { print $2 }' "/proc/${spid[$kind]}/status")
    [ "$hwm" -gt "${rss[$kind]:-0}" ] && rss[$kind]=$hwm
    stop_server "$kind"
    rm -rf "$work/data-$kind"
  done
done

# ---- summary ----
for kind in registry2 dbuild; do
  for s in manifest pull; do
    [ -n "${best[$kind,$s,rps]:-}" ] || { echo "load: every $s round of $kind had errors; see the lines above" >&2; exit 1; }
  done
done
verdict() { awk "BEGIN { exit !($1) }" && echo met || echo MISSED; }
ratio() { calc "${best[dbuild,$1]} / ${best[registry2,$1]}"; }
pull_ratio=$(ratio pull,mbps) manifest_ratio=$(ratio manifest,rps) p99_ratio=$(ratio pull,p99) upload_ratio=$(ratio upload,mbps)
rss_mb=$((rss[dbuild] / 1024))
echo
printf '%-30s %14s %14s %8s   %-8s %s\n' measurement registry:2 dbuild ratio goal verdict
printf '%-30s %9s MB/s %9s MB/s %7sx   %-8s %s\n' "pull, $pull_conns connections" "${best[registry2,pull,mbps]}" "${best[dbuild,pull,mbps]}" \
  "$pull_ratio" ">= 5x" "$(verdict "$pull_ratio >= 5")"
printf '%-30s %11s ms %11s ms %7sx   %-8s %s\n' "pull p99 (all requests)" "${best[registry2,pull,p99]}" "${best[dbuild,pull,p99]}" \
  "$p99_ratio" "<= 0.2x" "$(verdict "$p99_ratio <= 0.2")"
printf '%-30s %11s ms %11s ms\n' "pull p50" "${best[registry2,pull,p50]}" "${best[dbuild,pull,p50]}"
printf '%-30s %8s req/s %8s req/s %7sx   %-8s %s\n' "manifest GET, $manifest_conns conns" "${best[registry2,manifest,rps]}" "${best[dbuild,manifest,rps]}" \
  "$manifest_ratio" ">= 20x" "$(verdict "$manifest_ratio >= 20")"
printf '%-30s %11s ms %11s ms\n' "manifest GET p50" "${best[registry2,manifest,p50]}" "${best[dbuild,manifest,p50]}"
printf '%-30s %11s ms %11s ms\n' "manifest GET p99" "${best[registry2,manifest,p99]}" "${best[dbuild,manifest,p99]}"
printf '%-30s %9s MB/s %9s MB/s %7sx   %-8s %s\n' "$upload_clients uploads x $upload_blobs x $upload_mib MiB" \
  "${best[registry2,upload,mbps]}" "${best[dbuild,upload,mbps]}" "$upload_ratio" "-" "-"
printf '%-30s %12s MB %12s MB %8s   %-8s %s\n' "peak RSS (VmHWM)" "$((rss[registry2] / 1024))" "$rss_mb" "" "< 256 MB" "$(verdict "$rss_mb < 256")"
echo
# Server CPU per unit of work does not depend on what else runs on the machine (the clients, other jobs): it shows
# the servers themselves where the clients' share of 2 cores caps the throughput rows.
echo "CPU in the best rounds: seconds server / client; server CPU per unit of work and registry:2's multiple of dbuild's"
for s in pull manifest upload; do
  case $s in manifest) unit="us/request" ;; *) unit="s/GB" ;; esac
  printf '  %-9s registry:2 %6ss / %6ss   dbuild %6ss / %6ss   server %8s vs %8s %-10s  %6sx\n' "$s" \
    "${best[registry2,$s,cpu]}" "${best[registry2,$s,ccpu]}" "${best[dbuild,$s,cpu]}" "${best[dbuild,$s,ccpu]}" \
    "${best[registry2,$s,unit]}" "${best[dbuild,$s,unit]}" "$unit" "$(calc "${best[registry2,$s,unit]} / ${best[dbuild,$s,unit]}" 1)"
done
if [ "$ceiling" = 1 ]; then
  printf '%-30s %9s MB/s %7sx registry:2, %sx dbuild   (sendfile-server.c: the pull ceiling here; server CPU %s s/GB)\n' "pull, sendfile-server.c" \
    "${best[sendfile,pull,mbps]}" "$(calc "${best[sendfile,pull,mbps]} / ${best[registry2,pull,mbps]}")" \
    "$(calc "${best[sendfile,pull,mbps]} / ${best[dbuild,pull,mbps]}")" "${best[sendfile,pull,unit]}"
  printf '%-30s %8s req/s %8s req/s %7sx   (no storage: the HTTP stack alone; server CPU %s vs %s us/request)\n' "GET /v2/, $manifest_conns conns" \
    "${best[registry2,ceiling,rps]}" "${best[dbuild,ceiling,rps]}" "$(ratio ceiling,rps)" "${best[registry2,ceiling,unit]}" "${best[dbuild,ceiling,unit]}"
fi
printf 'best of %d rounds of %ds after %ds warm-ups; client %s; pull image %s MiB layers + config; log level %s; %d cores; load average %s at start, %s at end; %s\n' \
  "$rounds" "$duration" "$warmup" "$client" "${app_layers_mib[*]}" "$log_level" "$(nproc)" "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(date -u +%FT%TZ)"
