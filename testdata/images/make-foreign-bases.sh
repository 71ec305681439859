#!/usr/bin/env bash
# Makes the foreign base images of the ForeignBases test matrix (tests/Dbuild.IntegrationTests/ForeignBases), offline,
# from Debian's busybox-static, each written by the tool named in foreign/bases.txt (umoci, docker's legacy builder,
# docker import/commit/save, BuildKit, podman/buildah, skopeo, GNU tar and Python's tarfile by hand), pushed by that
# tool into a registry:2 (Debian's docker-registry) started here on 127.0.0.1. The result is that registry's storage
# root, OUT_DIR/KEY/registry, whose folder OUT_DIR/KEY is the one line this script prints: a test serves a copy of it
# with its own docker-registry and finds each base at REGISTRY/NAME:latest, exactly as its producer pushed it.
#
# usage: make-foreign-bases.sh OUT_DIR ARM64_BUSYBOX   (as root; DBUILD_TEST_DOCKER_HOST names the private dockerd)
# Idempotent and cached: KEY is the hash of these scripts and of both busybox binaries; when OUT_DIR/KEY is complete,
# nothing is made again. Checkouts with other versions of the scripts keep their own KEY beside it (one not used for a
# day is removed). Timestamps written by docker, podman and umoci make the digests differ from run to run; the trees
# and configs do not.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: make-foreign-bases.sh OUT_DIR ARM64_BUSYBOX}
arm64=${2:?usage: make-foreign-bases.sh OUT_DIR ARM64_BUSYBOX}
: "${DBUILD_TEST_DOCKER_HOST:?source testdata/ci/env.sh first (the private dockerd)}"
[ -x "$arm64" ] || { echo "make-foreign-bases.sh: no arm64 busybox at $arm64 (testdata/ci/setup.sh unpacks it)" >&2; exit 1; }
key=$(cat "$here/make-foreign-bases.sh" "$here/make-busybox-context.sh" "$here"/foreign/* /bin/busybox "$arm64" | sha256sum | cut -d' ' -f1)
mkdir -p "$out"
exec 9>"$out/.lock"
flock -w 600 9 || { echo "make-foreign-bases.sh: $out stayed locked by another run for 10 minutes" >&2; exit 1; }
if [ -f "$out/$key/complete" ]; then touch "$out/$key/complete"; echo "$out/$key"; exit 0; fi
find "$out" -mindepth 2 -maxdepth 2 -name complete -mtime +0 -printf '%h\n' | xargs -r rm -rf
rm -rf "${out:?}/$key" "$out/work"
work=$out/work
mkdir -p "$work/registry" "$work/logs"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/registry.yml" > "$work/logs/registry.log" 2>&1 &
registry_pid=$!
trap 'kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
curl -sf -o /dev/null "http://127.0.0.1:$port/v2/" || { cat "$work/logs/registry.log" >&2; exit 1; }

export FOREIGN_REGISTRY=127.0.0.1:$port FOREIGN_WORK=$work FOREIGN_ARM64_BUSYBOX=$arm64 FOREIGN_KEY=$key DOCKER_HOST=$DBUILD_TEST_DOCKER_HOST
"$here/make-busybox-context.sh" "$work/busybox-context" >/dev/null
export FOREIGN_BUSYBOX_TREE=$work/busybox-context/rootfs

# Three independent groups in parallel: dockerd (skopeo re-encodes a BuildKit base), podman, and the rest.
started=$(date +%s)
pids=() groups=(dockerd podman hand)
(bash "$here/foreign/buildkit.sh" && bash "$here/foreign/docker.sh" && bash "$here/foreign/skopeo.sh") > "$work/logs/dockerd.log" 2>&1 & pids+=($!)
bash "$here/foreign/podman.sh" > "$work/logs/podman.log" 2>&1 & pids+=($!)
(bash "$here/foreign/umoci.sh" && bash "$here/foreign/hand.sh" && bash "$here/foreign/multiarch.sh") > "$work/logs/hand.log" 2>&1 & pids+=($!)
failed=
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    failed=1
    echo "make-foreign-bases.sh: the ${groups[$i]} producers failed:" >&2
    tail -40 "$work/logs/${groups[$i]}.log" >&2
  fi
done
[ -z "$failed" ] || exit 1

# Every base foreign/bases.txt lists (the test's rows) is there, and nothing else.
listed=$(grep -v '^#' "$here/foreign/bases.txt" | awk 'NF {print $1}' | sort)
made=$(curl -sf "http://127.0.0.1:$port/v2/_catalog?n=1000" | jq -r '.repositories[]' | sort)
if [ "$listed" != "$made" ]; then
  echo "make-foreign-bases.sh: foreign/bases.txt and the bases made differ (< listed, > made):" >&2
  diff <(echo "$listed") <(echo "$made") >&2 || true
  exit 1
fi
for name in $listed; do
  curl -sf -o /dev/null -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://127.0.0.1:$port/v2/$name/manifests/latest" || { echo "make-foreign-bases.sh: $name has no tag latest" >&2; exit 1; }
done

kill "$registry_pid"; wait "$registry_pid" 2>/dev/null || true
trap - EXIT
mkdir -p "$out/$key"
mv "$work/registry" "$out/$key/registry"
rm -rf "$work"
touch "$out/$key/complete" # last: its presence says the bases are all there
echo "make-foreign-bases.sh: $(wc -w <<<"$listed") bases in $(( $(date +%s) - started ))s" >&2
echo "$out/$key"
