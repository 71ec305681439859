#!/usr/bin/env bash
# Makes the benchmark's two OCI layouts under $1 (idempotent):
#   big/   one ~1 GiB gzip layer (random data, gzip -1, so skopeo neither recompresses nor decompresses it)
#   small/ 200 layers of ~32 KiB each
#   warm/  one 8 MiB and 40 4 KiB layers, pushed and pulled once before measuring (JIT tiering, caches)
set -euo pipefail
out=${1:?usage: make-images.sh OUT_DIR}
mkdir -p "$out"

blob() { # file -> prints "digest size" and moves it into the layout's blobs
  local layout=$1 file=$2 d s
  d=$(sha256sum "$file" | cut -d' ' -f1); s=$(stat -c %s "$file")
  mkdir -p "$layout/blobs/sha256"; mv "$file" "$layout/blobs/sha256/$d"
  echo "$d $s"
}

layout() { # layout-dir layer-files... : writes config, manifest, index.json
  local dir=$1; shift
  local layers="" diffids="" first=1 d s
  for f in "$@"; do
    read -r d s < <(blob "$dir" "$f")
    [ $first = 1 ] || { layers+=","; diffids+=","; }
    first=0
    layers+="{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$d\",\"size\":$s}"
    diffids+="\"sha256:$d\""
  done
  printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$diffids" > "$dir/config.json"
  read -r d s < <(blob "$dir" "$dir/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' "$d" "$s" "$layers" > "$dir/manifest.json"
  read -r d s < <(blob "$dir" "$dir/manifest.json")
  printf '{"imageLayoutVersion":"1.0.0"}' > "$dir/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' "$d" "$s" > "$dir/index.json"
}

if [ ! -f "$out/big/index.json" ]; then
  rm -rf "$out/big"; mkdir -p "$out/big"
  echo "make-images: 1 GiB layer (one-off, ~1 min)" >&2
  head -c $((1024 * 1024 * 1024)) /dev/urandom | gzip -1 > "$out/big/layer.gz"
  layout "$out/big" "$out/big/layer.gz"
fi
if [ ! -f "$out/small/index.json" ]; then
  rm -rf "$out/small"; mkdir -p "$out/small/tmp"
  files=()
  for i in $(seq 1 200); do
    head -c $((32 * 1024)) /dev/urandom | gzip -1 > "$out/small/tmp/$i.gz"
    files+=("$out/small/tmp/$i.gz")
  done
  layout "$out/small" "${files[@]}"
  rmdir "$out/small/tmp"
fi
if [ ! -f "$out/warm/index.json" ] || [ "$(ls "$out/warm/blobs/sha256" | wc -l)" -lt 43 ]; then
  rm -rf "$out/warm"; mkdir -p "$out/warm/tmp"
  head -c $((8 * 1024 * 1024)) /dev/urandom | gzip -1 > "$out/warm/tmp/0.gz"
  files=("$out/warm/tmp/0.gz")
  for i in $(seq 1 40); do head -c 4096 /dev/urandom | gzip -1 > "$out/warm/tmp/$i.gz"; files+=("$out/warm/tmp/$i.gz"); done
  layout "$out/warm" "${files[@]}"
  rmdir "$out/warm/tmp"
fi
