#!/usr/bin/env bash
# Makes a busybox base image offline from Debian's busybox-static, as an OCI image layout at $1
# (tag "latest", linux/amd64). Deterministic: fixed mtimes and owners, so its digest never changes.
set -euo pipefail
out=${1:?usage: make-busybox-layout.sh OUT_DIR}
[ -f "$out/index.json" ] && exit 0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# The same rootfs the FROM-scratch build context uses (make-busybox-context.sh), packed here without a builder.
"$(dirname "$0")/make-busybox-context.sh" "$tmp/context" >/dev/null
root=$tmp/context/rootfs
find "$root" -exec touch -h -d @0 {} +
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$root" -cf "$tmp/layer.tar" .
diffid=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
gzip -n -9 -c "$tmp/layer.tar" > "$tmp/layer.tar.gz"
mkdir -p "$out/blobs/sha256"
ldig=$(sha256sum "$tmp/layer.tar.gz" | cut -d' ' -f1); lsize=$(stat -c %s "$tmp/layer.tar.gz")
mv "$tmp/layer.tar.gz" "$out/blobs/sha256/$ldig"
printf '{"architecture":"amd64","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"created":"1970-01-01T00:00:00Z","history":[{"created":"1970-01-01T00:00:00Z","created_by":"make-busybox-layout.sh"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diffid" > "$tmp/config.json"
cdig=$(sha256sum "$tmp/config.json" | cut -d' ' -f1); csize=$(stat -c %s "$tmp/config.json")
mv "$tmp/config.json" "$out/blobs/sha256/$cdig"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' "$cdig" "$csize" "$ldig" "$lsize" > "$tmp/manifest.json"
mdig=$(sha256sum "$tmp/manifest.json" | cut -d' ' -f1); msize=$(stat -c %s "$tmp/manifest.json")
mv "$tmp/manifest.json" "$out/blobs/sha256/$mdig"
printf '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"},"platform":{"architecture":"amd64","os":"linux"}}]}' "$mdig" "$msize" > "$out/index.json"
echo "$out"
