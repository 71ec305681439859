#!/usr/bin/env bash
# Installs and starts every test prerequisite on a fresh Debian 12 machine (root). Idempotent.
# Exports nothing itself: source testdata/ci/env.sh afterwards for the variables tests read.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"

packages=(docker.io skopeo podman runc crun uidmap umoci busybox-static qemu-user-static binfmt-support
  docker-registry jq apache2-utils zstd xz-utils bzip2 openssl curl iproute2 procps python3 debootstrap wrk nginx-light prometheus chromium afl++ slirp4netns)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Azurite (npm, global) for the Azure storage driver's tests; the tests start their own instances.
if ! command -v azurite-blob >/dev/null 2>&1; then
  if ! command -v npm >/dev/null 2>&1; then apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null; fi
  echo "setup: installing azurite"
  npm install -g --no-audit --no-fund azurite >/dev/null
fi

# binfmt_misc for multi-arch (qemu-user-static registers its handlers through binfmt-support).
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || true; fi
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true

# An unprivileged user for rootless tests, with a subordinate id range.
if ! id dbuildtest >/dev/null 2>&1; then useradd -m -s /bin/bash dbuildtest; fi
grep -q '^dbuildtest:' /etc/subuid || echo 'dbuildtest:200000:65536' >> /etc/subuid
grep -q '^dbuildtest:' /etc/subgid || echo 'dbuildtest:200000:65536' >> /etc/subgid
# And one without: a rootless build with RUN steps says what to add (useradd may give a range itself: take it back).
if ! id dbuildnosub >/dev/null 2>&1; then useradd -m -s /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 dbuildnosub; fi
if grep -q '^dbuildnosub:' /etc/subuid /etc/subgid 2>/dev/null; then sed -i '/^dbuildnosub:/d' /etc/subuid /etc/subgid; fi

# A private dockerd (BuildKit is the reference builder, docker a registry client).
mkdir -p "$DBUILD_TEST_STATE"
if ! DOCKER_HOST="$DBUILD_TEST_DOCKER_HOST" /usr/bin/docker version >/dev/null 2>&1; then
  echo "setup: starting dockerd on $DBUILD_TEST_DOCKER_HOST"
  mkdir -p "$DBUILD_TEST_STATE/docker-data" "$DBUILD_TEST_STATE/docker-exec"
  # A dockerd that died leaves its containerd's pid file behind; once that pid belongs to another process (pid_max is
  # 32768 here), the new dockerd waits for a containerd that never comes ("timeout waiting for containerd to start").
  containerd_pid=$DBUILD_TEST_STATE/docker-exec/containerd/containerd.pid
  if [ -f "$containerd_pid" ] && [ "$(cat "/proc/$(cat "$containerd_pid")/comm" 2>/dev/null)" != containerd ]; then rm -f "$containerd_pid"; fi
  # From /: its working directory is its children's (BuildKit runs git there), and a checkout may be deleted under it.
  (cd / && nohup /usr/sbin/dockerd --data-root "$DBUILD_TEST_STATE/docker-data" --exec-root "$DBUILD_TEST_STATE/docker-exec" \
    -H "$DBUILD_TEST_DOCKER_HOST" --pidfile "$DBUILD_TEST_STATE/dockerd.pid" --iptables=false --bridge=none \
    >"$DBUILD_TEST_STATE/dockerd.log" 2>&1 &)
  for _ in $(seq 1 120); do
    DOCKER_HOST="$DBUILD_TEST_DOCKER_HOST" /usr/bin/docker version >/dev/null 2>&1 && break
    sleep 0.5
  done
  DOCKER_HOST="$DBUILD_TEST_DOCKER_HOST" /usr/bin/docker version >/dev/null || { tail -30 "$DBUILD_TEST_STATE/dockerd.log"; exit 1; }
fi

# The offline busybox base image (an OCI layout) every end-to-end test builds on.
"$here/../images/make-busybox-layout.sh" "$DBUILD_TEST_STATE/busybox-oci" >/dev/null
# A linux/amd64 + linux/arm64 busybox base (an OCI layout whose "latest" is an index) for multi-platform builds, whose
# arm64 RUN steps run under qemu-user through the binfmt_misc handler above. The arm64 binary comes from Debian's
# busybox-static:arm64, downloaded once (adding arm64 to dpkg only for that download) and kept under the state dir.
multiarch=${DBUILD_TEST_BUSYBOX_MULTIARCH_OCI:-$DBUILD_TEST_STATE/busybox-multiarch-oci}
debs="$DBUILD_TEST_STATE/debs"
arm64_busybox=$debs/busybox-arm64/bin/busybox
if [ ! -f "$multiarch/index.json" ] || [ ! -x "$arm64_busybox" ]; then
  mkdir -p "$debs"
  if ! ls "$debs"/busybox-static_*_arm64.deb >/dev/null 2>&1; then
    echo "setup: downloading busybox-static:arm64"
    added=
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then dpkg --add-architecture arm64; added=1; fi
    apt-get update -qq
    (cd "$debs" && apt-get download -qq busybox-static:arm64)
    if [ -n "$added" ]; then dpkg --remove-architecture arm64 || true; fi
  fi
  rm -rf "$debs/busybox-arm64"
  dpkg-deb -x "$(ls "$debs"/busybox-static_*_arm64.deb | head -1)" "$debs/busybox-arm64"
  "$here/../images/make-busybox-multiarch-layout.sh" "$multiarch" "$arm64_busybox" >/dev/null
fi
# The foreign bases of the ForeignBases matrix: the busybox tree as umoci, docker, BuildKit, podman, skopeo and
# hand-packed tars write it, in a registry:2 storage root (cached: remade only when its scripts change).
"$here/../images/make-foreign-bases.sh" "$DBUILD_TEST_FOREIGN_BASES" "$arm64_busybox" >/dev/null
"$here/../images/make-debian-base.sh" "$DBUILD_TEST_DEBIAN_OCI" >/dev/null # debootstrap minbase, for the SBOM tests
# Area-specific setup (registry, runtime, builder) lives in setup.d/, one script per area, run in name order.
for script in "$here"/setup.d/*.sh; do
  [ -e "$script" ] || continue
  bash "$script"
done
echo "setup: ready"
