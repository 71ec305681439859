#!/usr/bin/env bash
# Makes a two-platform busybox base image offline, as an OCI image layout at $1 whose tag "latest" is an image index
# of linux/amd64 (this machine's /bin/busybox, from Debian's busybox-static) and linux/arm64 ($2: the busybox binary of
# busybox-static:arm64, e.g. unpacked with dpkg-deb -x). Same rootfs and packing as make-busybox-layout.sh, so it is
# deterministic too. Push it with `skopeo copy --all oci:$1:latest docker://REG/busybox:latest`.
set -euo pipefail
out=${1:?usage: make-busybox-multiarch-layout.sh OUT_DIR ARM64_BUSYBOX}
arm64_busybox=${2:?usage: make-busybox-multiarch-layout.sh OUT_DIR ARM64_BUSYBOX}
[ -f "$out/index.json" ] && exit 0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/blobs/sha256"

# blob FILE MEDIATYPE: moves FILE into the layout, prints "digest size".
blob() {
  local dig size
  dig=$(sha256sum "$1" | cut -d' ' -f1); size=$(stat -c %s "$1")
  mv "$1" "$tmp/blobs/sha256/$dig"
  echo "$dig $size"
}

# image ARCH BUSYBOX: packs the rootfs with that busybox binary; prints the manifest's "digest size".
image() {
  local arch=$1 busybox=$2 dir=$tmp/$1
  # The applet list of the arm64 build is the same (one Debian source, one config); the links are made with this
  # machine's binary, which can run here without emulation.
  "$(dirname "$0")/make-busybox-context.sh" "$dir/context" >/dev/null
  cp "$busybox" "$dir/context/rootfs/bin/busybox"
  chmod 0755 "$dir/context/rootfs/bin/busybox"
  find "$dir/context/rootfs" -exec touch -h -d @0 {} +
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$dir/context/rootfs" -cf "$dir/layer.tar" .
  local diffid layer config
  diffid=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
  gzip -n -9 -c "$dir/layer.tar" > "$dir/layer.tar.gz"
  read -r -a layer <<<"$(blob "$dir/layer.tar.gz")"
  printf '{"architecture":"%s","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"created":"1970-01-01T00:00:00Z","history":[{"created":"1970-01-01T00:00:00Z","created_by":"make-busybox-multiarch-layout.sh"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$arch" "$diffid" > "$dir/config.json"
  read -r -a config <<<"$(blob "$dir/config.json")"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "${config[0]}" "${config[1]}" "${layer[0]}" "${layer[1]}" > "$dir/manifest.json"
  blob "$dir/manifest.json"
}

read -r -a amd64 <<<"$(image amd64 /bin/busybox)"
read -r -a arm64 <<<"$(image arm64 "$arm64_busybox")"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"arm64","os":"linux"}}]}' \
  "${amd64[0]}" "${amd64[1]}" "${arm64[0]}" "${arm64[1]}" > "$tmp/index-blob.json"
read -r -a index <<<"$(blob "$tmp/index-blob.json")"
printf '{"imageLayoutVersion":"1.0.0"}' > "$tmp/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
  "${index[0]}" "${index[1]}" > "$tmp/index.json"
mkdir -p "$out"
cp -r "$tmp/blobs" "$tmp/oci-layout" "$out/"
cp "$tmp/index.json" "$out/index.json" # last: its presence says the layout is complete
echo "$out"
