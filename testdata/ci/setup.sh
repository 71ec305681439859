#!/usr/bin/env bash
# Installs and starts every test prerequisite on a fresh Debian 12 machine (root). Idempotent.
# Exports nothing itself: source testdata/ci/env.sh afterwards for the variables tests read.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"

packages=(docker.io skopeo podman runc crun uidmap umoci busybox-static qemu-user-static binfmt-support
  docker-registry jq apache2-utils zstd xz-utils bzip2 openssl curl iproute2 procps)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# binfmt_misc for multi-arch (qemu-user-static registers its handlers through binfmt-support).
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || true; fi
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true

# An unprivileged user for rootless tests, with a subordinate id range.
if ! id dbuildtest >/dev/null 2>&1; then useradd -m -s /bin/bash dbuildtest; fi
grep -q '^dbuildtest:' /etc/subuid || echo 'dbuildtest:200000:65536' >> /etc/subuid
grep -q '^dbuildtest:' /etc/subgid || echo 'dbuildtest:200000:65536' >> /etc/subgid

# A private dockerd (BuildKit is the reference builder, docker a registry client).
mkdir -p "$DBUILD_TEST_STATE"
if ! DOCKER_HOST="$DBUILD_TEST_DOCKER_HOST" /usr/bin/docker version >/dev/null 2>&1; then
  echo "setup: starting dockerd on $DBUILD_TEST_DOCKER_HOST"
  mkdir -p "$DBUILD_TEST_STATE/docker-data" "$DBUILD_TEST_STATE/docker-exec"
  nohup /usr/sbin/dockerd --data-root "$DBUILD_TEST_STATE/docker-data" --exec-root "$DBUILD_TEST_STATE/docker-exec" \
    -H "$DBUILD_TEST_DOCKER_HOST" --pidfile "$DBUILD_TEST_STATE/dockerd.pid" --iptables=false --bridge=none \
    >"$DBUILD_TEST_STATE/dockerd.log" 2>&1 &
  for _ in $(seq 1 120); do
    DOCKER_HOST="$DBUILD_TEST_DOCKER_HOST" /usr/bin/docker version >/dev/null 2>&1 && break
    sleep 0.5
  done
  DOCKER_HOST="$DBUILD_TEST_DOCKER_HOST" /usr/bin/docker version >/dev/null || { tail -30 "$DBUILD_TEST_STATE/dockerd.log"; exit 1; }
fi

# The offline busybox base image (an OCI layout) every end-to-end test builds on.
"$here/../images/make-busybox-layout.sh" "$DBUILD_TEST_STATE/busybox-oci" >/dev/null
# Area-specific setup (registry, runtime, builder) lives in setup.d/, one script per area, run in name order.
for script in "$here"/setup.d/*.sh; do
  [ -e "$script" ] || continue
  bash "$script"
done
echo "setup: ready"
