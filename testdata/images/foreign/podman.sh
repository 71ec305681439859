#!/usr/bin/env bash
# podman/buildah's bases (`podman build`, then `podman push --tls-verify=false`; storage of its own, vfs driver):
#   podman-oci       --format oci: FROM scratch + COPY of the tree (long paths, /lib a symlink to usr/lib)
#   podman-docker    --format docker: FROM podman-oci, a RUN (through runc) deleting a file and replacing a directory
#                    (buildah writes one whiteout per deleted file, and /etc/hostname, /run), /srv/work given to USER app
#   podman-multiarch `podman build --platform linux/amd64,linux/arm64 --manifest` (the arm64 busybox of
#                    FOREIGN_ARM64_BUSYBOX; no RUN, so no emulation), then `podman manifest push --all`
. "$(dirname "$0")/lib.sh"
: "${FOREIGN_ARM64_BUSYBOX:?}"
w=$FOREIGN_WORK/podman
rm -rf "$w"; mkdir -p "$w/oci" "$w/docker" "$w/multi"
reg=$FOREIGN_REGISTRY
env='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
podman() {
  command podman --root "$w/storage" --runroot "$w/run" --storage-driver vfs --cgroup-manager cgroupfs --events-backend file "$@"
}
build() { podman build -q --runtime runc --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 --network none --tls-verify=false "$@" >/dev/null; }

rootfs "$w/oci/rootfs" --name podman-oci --usr-merge --long-paths --old-tree
printf 'FROM scratch\nCOPY rootfs/ /\n%s\nCMD ["sh"]\n' "$env" > "$w/oci/Dockerfile"
build --format oci -t "$reg/podman-oci:latest" "$w/oci"
podman push -q --tls-verify=false "$reg/podman-oci:latest"

cat > "$w/docker/Dockerfile" <<DF
FROM $reg/podman-oci:latest
RUN rm /opt/old/a.txt && rm -rf /opt/old/inner && mkdir /opt/old/inner && echo replaced > /opt/old/inner/c.txt \
    && echo "podman-docker $FOREIGN_KEY" > /srv/work/base.txt && chown -R app:app /srv/work
USER app
DF
build --format docker -t "$reg/podman-docker:latest" "$w/docker"
podman push -q --tls-verify=false "$reg/podman-docker:latest"

rootfs "$w/multi/rootfs-amd64" --name podman-multiarch --no-dev
rootfs "$w/multi/rootfs-arm64" --name podman-multiarch --no-dev --busybox "$FOREIGN_ARM64_BUSYBOX"
printf 'FROM scratch\nARG TARGETARCH\nCOPY rootfs-$TARGETARCH/ /\n%s\nCMD ["sh"]\n' "$env" > "$w/multi/Dockerfile"
build --format oci --platform linux/amd64,linux/arm64 --manifest "$reg/podman-multiarch:latest" "$w/multi"
podman manifest push -q --all --tls-verify=false "$reg/podman-multiarch:latest" "docker://$reg/podman-multiarch:latest"

podman system reset -f >/dev/null 2>&1 || true
rm -rf "$w"
