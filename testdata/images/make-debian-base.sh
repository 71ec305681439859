#!/usr/bin/env bash
# Makes a Debian bookworm base image offline (no registry pulls) with `debootstrap --variant=minbase` from the Debian
# mirror this machine's apt uses, packed as an OCI image layout at $1 (tag "bookworm", linux/amd64, one gzip layer).
# Made once per machine: an existing layout is kept. Times are clamped to 0 and entries sorted, so the layer depends
# only on the installed files. Tests read its dpkg status (the SBOM must list these packages).
set -euo pipefail
out=${1:?usage: make-debian-base.sh OUT_DIR}
[ -f "$out/index.json" ] && exit 0
command -v debootstrap >/dev/null || { echo "make-debian-base.sh: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  # deb822 (*.sources, "URIs: …") first, then one-line sources ("deb URL bookworm main").
  mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v -- '-security' | head -1 || true)
  [ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v -- '-security' | head -1 || true)
fi
[ -n "$mirror" ] || { echo "make-debian-base.sh: no Debian mirror found in /etc/apt/sources.list*; set DEBIAN_MIRROR" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/debian-base.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
rm -rf "$out.tmp"
root=$tmp/rootfs
debootstrap --variant=minbase --arch=amd64 bookworm "$root" "$mirror" >"$tmp/debootstrap.log" 2>&1 \
  || { tail -30 "$tmp/debootstrap.log" >&2; exit 1; }
# What a container image does not carry: downloaded .debs, apt lists, device nodes, logs with build-time dates.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/dev/* "$root"/proc/* "$root"/sys/* \
  "$root"/var/log/* "$root"/debootstrap
find "$root" -exec touch -h -d @0 {} +
tar --sort=name --numeric-owner --mtime=@0 --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$root" -cf "$tmp/layer.tar" .
diffid=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
gzip -n -6 -c "$tmp/layer.tar" > "$tmp/layer.tar.gz"
mkdir -p "$out.tmp/blobs/sha256"
ldig=$(sha256sum "$tmp/layer.tar.gz" | cut -d' ' -f1); lsize=$(stat -c %s "$tmp/layer.tar.gz")
mv "$tmp/layer.tar.gz" "$out.tmp/blobs/sha256/$ldig"
printf '{"architecture":"amd64","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["bash"]},"created":"1970-01-01T00:00:00Z","history":[{"created":"1970-01-01T00:00:00Z","created_by":"debootstrap --variant=minbase bookworm"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diffid" > "$tmp/config.json"
cdig=$(sha256sum "$tmp/config.json" | cut -d' ' -f1); csize=$(stat -c %s "$tmp/config.json")
mv "$tmp/config.json" "$out.tmp/blobs/sha256/$cdig"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' "$cdig" "$csize" "$ldig" "$lsize" > "$tmp/manifest.json"
mdig=$(sha256sum "$tmp/manifest.json" | cut -d' ' -f1); msize=$(stat -c %s "$tmp/manifest.json")
mv "$tmp/manifest.json" "$out.tmp/blobs/sha256/$mdig"
# The base's dpkg status beside the layout: tests compare the SBOM with it without unpacking the layer.
cp "$root/var/lib/dpkg/status" "$out.tmp/dpkg-status"
printf '{"imageLayoutVersion":"1.0.0"}' > "$out.tmp/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"bookworm"},"platform":{"architecture":"amd64","os":"linux"}}]}' "$mdig" "$msize" > "$out.tmp/index.json"
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out"
