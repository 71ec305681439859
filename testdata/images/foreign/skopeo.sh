#!/usr/bin/env bash
# skopeo's re-encodings of buildkit-twostage (run after buildkit.sh; same files, configs and history):
#   skopeo-oci-zstd     --format oci with zstd layers
#   skopeo-oci-gzip     skopeo-oci-zstd recompressed to gzip by skopeo (new gzip bytes, OCI media types)
#   skopeo-v2s2-gzip    skopeo-oci-gzip converted to Docker media types (--format v2s2)
#   skopeo-oci-tar      --dest-decompress into a dir: (OCI, uncompressed layers), pushed as written
#   skopeo-v2s2-tar     --dest-decompress into a dir: (Docker media types, uncompressed layers), pushed as written
# (a registry destination makes skopeo recompress, so the uncompressed ones go through dir: and lib.sh's push_tree).
. "$(dirname "$0")/lib.sh"
w=$FOREIGN_WORK/skopeo
rm -rf "$w"; mkdir -p "$w"
r=docker://$FOREIGN_REGISTRY
skopeo_copy --format oci --dest-compress --dest-compress-format zstd "$r/buildkit-twostage:latest" "$r/skopeo-oci-zstd:latest"
skopeo_copy --format oci --dest-compress --dest-compress-format gzip "$r/skopeo-oci-zstd:latest" "$r/skopeo-oci-gzip:latest"
skopeo_copy --format v2s2 "$r/skopeo-oci-gzip:latest" "$r/skopeo-v2s2-gzip:latest"
skopeo_copy --format oci --dest-decompress "$r/buildkit-twostage:latest" "dir:$w/oci-tar"
push_tree skopeo-oci-tar latest "$w/oci-tar/manifest.json" "$w/oci-tar"
skopeo_copy --dest-decompress "$r/buildkit-twostage:latest" "dir:$w/v2s2-tar"
push_tree skopeo-v2s2-tar latest "$w/v2s2-tar/manifest.json" "$w/v2s2-tar"
rm -rf "$w"
