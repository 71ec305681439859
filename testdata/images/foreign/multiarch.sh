#!/usr/bin/env bash
# Two-platform bases (linux/amd64 and linux/arm64, the arm64 busybox of FOREIGN_ARM64_BUSYBOX) made by hand and skopeo
# (podman's is in podman.sh):
#   skopeo-multiarch-list   a Docker manifest list written by hand (arm64 first, with variant v8) over two images
#                           that skopeo converted to Docker media types (--format v2s2)
#   hand-multiarch-attest   an OCI index as BuildKit 0.11+ writes one with provenance: the two images, then an
#                           attestation manifest (platform unknown/unknown, an in-toto layer) that refers to amd64
. "$(dirname "$0")/lib.sh"
: "${FOREIGN_ARM64_BUSYBOX:?}"
w=$FOREIGN_WORK/multiarch
rm -rf "$w"; mkdir -p "$w"
layout=$w/layout
reg=$FOREIGN_REGISTRY
# arch_image NAME ARCH [rootfs options]: a one-layer image in the layout, tagged NAME-ARCH; prints "sha256:HEX SIZE".
arch_image() {
  local name=$1 arch=$2 busybox=/bin/busybox
  shift 2
  [ "$arch" = arm64 ] && busybox=$FOREIGN_ARM64_BUSYBOX
  rootfs "$w/$name-$arch" --name "$name" --busybox "$busybox" "$@"
  pack_rootfs "$w/$name-$arch" "$w/$name-$arch.tar"
  gzip -n "$w/$name-$arch.tar"
  oci_image "$layout" "$name-$arch" "$arch" "$busybox_config" "$w/$name-$arch.tar.gz"
}
# entry MEDIA_TYPE "sha256:HEX SIZE" PLATFORM_JSON [ANNOTATIONS_JSON]: one manifests[] element.
entry() {
  local digest size
  read -r digest size <<<"$2"
  jq -nc --arg m "$1" --arg d "$digest" --argjson s "$size" --argjson p "$3" --argjson a "${4:-null}" \
    '{mediaType:$m,digest:$d,size:$s,platform:$p} + (if $a then {annotations:$a} else {} end)'
}

# skopeo-multiarch-list
arch_image skopeo-multiarch-list amd64 --usr-merge >/dev/null
arch_image skopeo-multiarch-list arm64 --usr-merge >/dev/null
children=()
for arch in arm64 amd64; do
  skopeo_copy --format v2s2 "oci:$layout:skopeo-multiarch-list-$arch" "docker://$reg/skopeo-multiarch-list:$arch"
  curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$reg/v2/skopeo-multiarch-list/manifests/$arch" -o "$w/list-$arch.json"
  platform=$(jq -nc --arg a "$arch" '{architecture:$a,os:"linux"} + (if $a == "arm64" then {variant:"v8"} else {} end)')
  children+=("$(entry application/vnd.docker.distribution.manifest.v2+json \
    "sha256:$(sha256sum "$w/list-$arch.json" | cut -d' ' -f1) $(stat -c %s "$w/list-$arch.json")" "$platform")")
done
printf '%s\n' "${children[@]}" | jq -s '{schemaVersion:2,mediaType:"application/vnd.docker.distribution.manifest.list.v2+json",manifests:.}' \
  > "$w/list.json"
push_manifest skopeo-multiarch-list latest "$w/list.json"

# hand-multiarch-attest
amd64=$(arch_image hand-multiarch-attest amd64 --user --no-dev)
arm64=$(arch_image hand-multiarch-attest arm64 --user --no-dev)
printf '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","subject":[{"name":"hand","digest":{"sha256":"%s"}}],"predicate":{"builder":{"id":"hand.sh"}}}' \
  "$(cut -d' ' -f1 <<<"${amd64#sha256:}")" > "$w/provenance.json"
provenance=$(add_blob "$layout" "$w/provenance.json")
jq -nc --arg d "${provenance% *}" '{architecture:"unknown",os:"unknown",config:{},rootfs:{type:"layers",diff_ids:[$d]}}' > "$w/att-config.json"
att_config=$(add_blob "$layout" "$w/att-config.json")
jq -nc --arg cd "${att_config% *}" --argjson cs "${att_config#* }" --arg ld "${provenance% *}" --argjson ls "${provenance#* }" \
  '{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
    config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$cd,size:$cs},
    layers:[{mediaType:"application/vnd.in-toto+json",digest:$ld,size:$ls,annotations:{"in-toto.io/predicate-type":"https://slsa.dev/provenance/v0.2"}}]}' \
  > "$w/att-manifest.json"
attestation=$(add_blob "$layout" "$w/att-manifest.json")
oci=application/vnd.oci.image.manifest.v1+json
{
  entry $oci "$amd64" '{"architecture":"amd64","os":"linux"}'
  entry $oci "$arm64" '{"architecture":"arm64","os":"linux"}'
  entry $oci "$attestation" '{"architecture":"unknown","os":"unknown"}' \
    "$(jq -nc --arg d "${amd64% *}" '{"vnd.docker.reference.digest":$d,"vnd.docker.reference.type":"attestation-manifest"}')"
} | jq -sc '{schemaVersion:2,mediaType:"application/vnd.oci.image.index.v1+json",manifests:.}' > "$w/index.json"
index=$(add_blob "$layout" "$w/index.json")
tag_manifest "$layout" hand-multiarch-attest application/vnd.oci.image.index.v1+json "$index"
push_layout "$layout" hand-multiarch-attest hand-multiarch-attest
rm -rf "$w"
