# Sourced by the producer scripts of make-foreign-bases.sh. Reads FOREIGN_REGISTRY (127.0.0.1:PORT of the registry:2
# being filled), FOREIGN_WORK (scratch folder) and FOREIGN_ARM64_BUSYBOX; tools are Debian's, docker is /usr/bin/docker.
set -euo pipefail
: "${FOREIGN_REGISTRY:?} ${FOREIGN_WORK:?}"
foreign_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
docker=/usr/bin/docker

# rootfs OUT_DIR [rootfs.sh options]: a busybox tree varied per base.
rootfs() { bash "$foreign_dir/rootfs.sh" "$@" >/dev/null; }

# pack_rootfs ROOT OUT_TAR: GNU tar, sorted, numeric owners, members named "./…" (what `docker import` and ADD get).
pack_rootfs() { tar --sort=name --numeric-owner --mtime=@0 -C "$1" -cf "$2" .; }

# skopeo_copy ARGS...: `skopeo copy` with a private, empty blob-info cache (a tmpfs over root's cache folder in a mount
# namespace of its own): with the machine's cache, skopeo reuses blobs it saw earlier instead of re-encoding them, so
# what it writes would depend on what ran before.
skopeo_copy() {
  unshare -m sh -c 'mkdir -p /var/lib/containers/cache && mount -t tmpfs -o size=64m skopeo-cache /var/lib/containers/cache &&
    exec skopeo --insecure-policy copy -q --src-tls-verify=false --dest-tls-verify=false "$@"' skopeo "$@"
}

# push_blob REPO FILE: a monolithic upload (POST then PUT ?digest=) of the file's exact bytes.
push_blob() {
  local repo=$1 file=$2 digest location
  digest=sha256:$(sha256sum "$file" | cut -d' ' -f1)
  if curl -sf -o /dev/null -I "http://$FOREIGN_REGISTRY/v2/$repo/blobs/$digest"; then return 0; fi
  location=$(curl -sf -X POST -D - -o /dev/null "http://$FOREIGN_REGISTRY/v2/$repo/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  case $location in http*) ;; *) location=http://$FOREIGN_REGISTRY$location ;; esac
  case $location in *\?*) location=$location\&digest=$digest ;; *) location=$location\?digest=$digest ;; esac
  curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$file" -o /dev/null "$location"
}

# push_manifest REPO REFERENCE FILE: PUTs the exact bytes with the media type the document names.
push_manifest() {
  local repo=$1 reference=$2 file=$3 media
  media=$(jq -r '.mediaType // "application/vnd.oci.image.manifest.v1+json"' "$file")
  curl -sf -X PUT -H "Content-Type: $media" --data-binary "@$file" -o /dev/null "http://$FOREIGN_REGISTRY/v2/$repo/manifests/$reference"
}

# push_tree REPO REFERENCE MANIFEST BLOB_DIR: pushes a manifest (or an index and its children) and every blob it
# names, byte for byte, reading blobs as BLOB_DIR/<hex> (an OCI layout's blobs/sha256, or a skopeo dir: folder).
# skopeo and podman would recompress uncompressed or truncated layers; this keeps the producer's bytes.
push_tree() {
  local repo=$1 reference=$2 manifest=$3 blobs=$4 child
  if jq -e '.manifests' "$manifest" >/dev/null; then
    for child in $(jq -r '.manifests[].digest' "$manifest"); do
      push_tree "$repo" "$child" "$blobs/${child#sha256:}" "$blobs"
    done
  else
    for child in $(jq -r '.config.digest, .layers[].digest' "$manifest"); do push_blob "$repo" "$blobs/${child#sha256:}"; done
  fi
  push_manifest "$repo" "$reference" "$manifest"
}

# push_layout LAYOUT TAG REPO: pushes the layout's tag as REPO:latest with push_tree.
push_layout() {
  local layout=$1 tag=$2 repo=$3 digest
  digest=$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$layout/index.json")
  push_tree "$repo" latest "$layout/blobs/sha256/${digest#sha256:}" "$layout/blobs/sha256"
}

# add_blob LAYOUT FILE: moves FILE into the layout's blobs; prints "sha256:HEX SIZE".
add_blob() {
  local layout=$1 file=$2 hex size
  hex=$(sha256sum "$file" | cut -d' ' -f1); size=$(stat -c %s "$file")
  mkdir -p "$layout/blobs/sha256"
  mv "$file" "$layout/blobs/sha256/$hex"
  echo "sha256:$hex $size"
}

# oci_image LAYOUT TAG ARCH CONFIG_JSON LAYER...: writes an image from layer files (NAME.tar, NAME.tar.gz or NAME.tar.zst;
# the diffID is the sha256 of the decompressed stream, so a truncated layer keeps its own digest) and tags it.
# CONFIG_JSON is the "config" object. Prints the manifest's "sha256:HEX SIZE".
oci_image() {
  local layout=$1 tag=$2 arch=$3 config=$4 layer diffids=() layers=() blob media manifest
  shift 4
  for layer in "$@"; do
    case $layer in
      *.tar.gz) media=application/vnd.oci.image.layer.v1.tar+gzip; diffids+=("sha256:$(gzip -dc "$layer" | sha256sum | cut -d' ' -f1)") ;;
      *.tar.zst) media=application/vnd.oci.image.layer.v1.tar+zstd; diffids+=("sha256:$(zstd -qdc "$layer" | sha256sum | cut -d' ' -f1)") ;;
      *) media=application/vnd.oci.image.layer.v1.tar; diffids+=("sha256:$(sha256sum "$layer" | cut -d' ' -f1)") ;;
    esac
    read -r -a blob <<<"$(add_blob "$layout" "$layer")"
    layers+=("$(jq -nc --arg m "$media" --arg d "${blob[0]}" --argjson s "${blob[1]}" '{mediaType:$m,digest:$d,size:$s}')")
  done
  jq -nc --arg arch "$arch" --argjson config "$config" --args '{architecture:$arch,os:"linux",config:$config,
      created:"1970-01-01T00:00:00Z",rootfs:{type:"layers",diff_ids:$ARGS.positional},
      history:[$ARGS.positional[] | {created:"1970-01-01T00:00:00Z",created_by:"testdata/images/foreign/hand.sh"}]}' \
    "${diffids[@]}" > "$FOREIGN_WORK/config.$$.json"
  read -r -a blob <<<"$(add_blob "$layout" "$FOREIGN_WORK/config.$$.json")"
  printf '%s\n' "${layers[@]}" | jq -sc --arg d "${blob[0]}" --argjson s "${blob[1]}" '{schemaVersion:2,
      mediaType:"application/vnd.oci.image.manifest.v1+json",config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$d,size:$s},layers:.}' \
    > "$FOREIGN_WORK/manifest.$$.json"
  manifest=$(add_blob "$layout" "$FOREIGN_WORK/manifest.$$.json")
  tag_manifest "$layout" "$tag" application/vnd.oci.image.manifest.v1+json "$manifest"
  echo "$manifest"
}

# tag_manifest LAYOUT TAG MEDIA_TYPE "sha256:HEX SIZE": adds (or replaces) the tag in index.json.
tag_manifest() {
  local layout=$1 tag=$2 media=$3 digest size
  read -r digest size <<<"$4"
  [ -f "$layout/index.json" ] || printf '{"schemaVersion":2,"manifests":[]}' > "$layout/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
  jq -c --arg t "$tag" --arg m "$media" --arg d "$digest" --argjson s "$size" \
    '.manifests |= [(.[] | select(.annotations["org.opencontainers.image.ref.name"] != $t)),
      {mediaType:$m,digest:$d,size:$s,annotations:{"org.opencontainers.image.ref.name":$t}}]' \
    "$layout/index.json" > "$layout/index.json.new"
  mv "$layout/index.json.new" "$layout/index.json"
}

# The config every hand-made base carries (umoci and the builders write their own).
busybox_config='{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]}'
