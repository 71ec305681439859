#!/usr/bin/env bash
# Captures manifests, indexes and configs exactly as real tools write them (skopeo, docker/BuildKit,
# registry:2), into real/. Run by hand once (needs testdata/ci/setup.sh's dockerd); the output is committed
# and the round-trip tests read it. Not run in CI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../ci/env.sh"
out=$here/real; mkdir -p "$out"
tmp=$(mktemp -d); trap 'kill $regpid 2>/dev/null; rm -rf "$tmp"' EXIT
port=$((20000 + RANDOM % 10000))
cat > "$tmp/config.yml" <<YML
version: 0.1
storage: { filesystem: { rootdirectory: $tmp/data } }
http: { addr: 127.0.0.1:$port }
YML
/usr/bin/docker-registry serve "$tmp/config.yml" >"$tmp/reg.log" 2>&1 & regpid=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.2; done
reg=127.0.0.1:$port
export DOCKER_HOST=$DBUILD_TEST_DOCKER_HOST
fetch() { # repo ref accept name
  curl -fs -H "Accept: $3" "http://$reg/v2/$1/manifests/$2" > "$out/$4"
}
blob() { curl -fs "http://$reg/v2/$1/blobs/$2" > "$out/$3"; }
# skopeo: OCI and Docker schema 2 conversions of the offline busybox image
skopeo copy -q --dest-tls-verify=false "oci:$DBUILD_TEST_BUSYBOX_OCI:latest" "docker://$reg/skopeo/oci:1"
skopeo copy -q --dest-tls-verify=false --format v2s2 "oci:$DBUILD_TEST_BUSYBOX_OCI:latest" "docker://$reg/skopeo/v2s2:1"
fetch skopeo/oci 1 application/vnd.oci.image.manifest.v1+json skopeo-oci-manifest.json
fetch skopeo/v2s2 1 application/vnd.docker.distribution.manifest.v2+json skopeo-docker-manifest.json
blob skopeo/v2s2 "$(jq -r .config.digest "$out/skopeo-docker-manifest.json")" skopeo-docker-config.json
# docker (BuildKit) build with every metadata instruction, pushed by docker
# (skopeo's docker-daemon: transport fails against Debian's dockerd 20.10 here; go through docker load)
skopeo copy -q "oci:$DBUILD_TEST_BUSYBOX_OCI:latest" "docker-archive:$tmp/bb.tar:dbuild-capture/busybox:latest"
/usr/bin/docker load -q -i "$tmp/bb.tar" >/dev/null
mkdir -p "$tmp/ctx"; printf 'hello\n' > "$tmp/ctx/a.txt"
cat > "$tmp/ctx/Dockerfile" <<'DF'
FROM dbuild-capture/busybox:latest
LABEL org.example.title="capture" maintainer="dbuild"
ENV A=1 B="two words"
ARG V=3
WORKDIR /app
COPY a.txt ./
RUN echo "$V" > v.txt
USER 1000:1000
EXPOSE 8080/tcp 53/udp
VOLUME ["/data"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --retries=2 CMD ["true"]
SHELL ["/bin/sh", "-c"]
ONBUILD RUN echo onbuild
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
DF
DOCKER_BUILDKIT=1 /usr/bin/docker build -q --network none -t "$reg/buildkit/app:1" "$tmp/ctx" >/dev/null
/usr/bin/docker push -q "$reg/buildkit/app:1" >/dev/null
fetch buildkit/app 1 application/vnd.docker.distribution.manifest.v2+json buildkit-docker-manifest.json
blob buildkit/app "$(jq -r .config.digest "$out/buildkit-docker-manifest.json")" buildkit-docker-config.json
# a multi-arch index made by skopeo from two single-platform images
# a multi-platform index and a Docker manifest list as podman writes them
podman manifest rm localhost/dbuild-capture-list >/dev/null 2>&1 || true
podman manifest create localhost/dbuild-capture-list >/dev/null
podman manifest add --tls-verify=false --os linux --arch amd64 localhost/dbuild-capture-list "docker://$reg/skopeo/oci:1" >/dev/null
podman manifest add --tls-verify=false --os linux --arch arm64 --variant v8 localhost/dbuild-capture-list "docker://$reg/skopeo/v2s2:1" >/dev/null
podman manifest push -q --tls-verify=false --all --format oci localhost/dbuild-capture-list "docker://$reg/podman/oci-index:1"
podman manifest push -q --tls-verify=false --all --format v2s2 localhost/dbuild-capture-list "docker://$reg/podman/docker-list:1"
podman manifest rm localhost/dbuild-capture-list >/dev/null
fetch podman/oci-index 1 application/vnd.oci.image.index.v1+json podman-oci-index.json
fetch podman/docker-list 1 application/vnd.docker.distribution.manifest.list.v2+json podman-docker-list.json
# a docker manifest list, as `docker manifest` would push it, is written by registry clients only; keep skopeo's conversion
skopeo copy -q --src-tls-verify=false --dest-tls-verify=false --format v2s2 "docker://$reg/skopeo/v2s2:1" "docker://$reg/skopeo/copied:1"
fetch skopeo/copied 1 application/vnd.docker.distribution.manifest.v2+json skopeo-copied-docker-manifest.json
cp "$DBUILD_TEST_BUSYBOX_OCI/index.json" "$out/layout-index.json"
ls -l "$out"
