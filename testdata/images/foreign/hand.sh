#!/usr/bin/env bash
# Hand-packed bases: layers written by GNU tar and by Python's tarfile (tarpack.py) in the ways image scripts do,
# assembled into an OCI layout (lib.sh's oci_image) and pushed byte for byte (push_layout):
#   hand-dotslash     GNU tar, members "./bin/…", USER "1000:1000" (numeric)
#   hand-absolute     GNU tar -P, members "/bin/…" (and hardlink targets "/srv/…")
#   hand-pax-long     GNU tar --format=pax: paths and link targets over 100 characters as PAX records
#   hand-gnu-long     GNU tar --format=gnu: the same as ././@LongLink members, stored uncompressed (media type …tar)
#   hand-ustar        GNU tar --format=ustar: a long path split into the ustar prefix field
#   hand-truncated    GNU tar with 512-byte records, cut before its two end blocks, then gzipped
#   hand-python       Python tarfile (GNU format): no member for plain parent directories, no "./"
#   hand-whiteouts    three layers: GNU tar; tarfile with a whiteout, an opaque directory and a hardlink; tarfile with
#                     a whiteout of a directory recreated in the same layer (no hardlink to a file of a lower layer:
#                     dockerd 20.10 cannot register such a layer, so BuildKit could not be the oracle)
. "$(dirname "$0")/lib.sh"
w=$FOREIGN_WORK/hand
rm -rf "$w"; mkdir -p "$w"
layout=$w/layout
gnutar=(tar --sort=name --numeric-owner --mtime=@0)
pax=(--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
gz() { gzip -n -6 "$1"; echo "$1.gz"; }
tarpack() { python3 "$foreign_dir/tarpack.py" "$@"; }
# image NAME CONFIG LAYER...: tags the layers as NAME in the layout and pushes it as NAME:latest.
image() { local name=$1 config=$2; shift 2; oci_image "$layout" "$name" amd64 "$config" "$@" >/dev/null; push_layout "$layout" "$name" "$name"; }

rootfs "$w/dotslash" --name hand-dotslash --user --no-dev
"${gnutar[@]}" -C "$w/dotslash" -cf "$w/dotslash.tar" .
image hand-dotslash "$(jq -c '.User = "1000:1000"' <<<"$busybox_config")" "$(gz "$w/dotslash.tar")"

rootfs "$w/absolute" --name hand-absolute --usr-merge
"${gnutar[@]}" -P --transform='flags=rh;s,^\./,/,;s,^\.$,/,' -C "$w/absolute" -cf "$w/absolute.tar" .
image hand-absolute "$busybox_config" "$(gz "$w/absolute.tar")"

rootfs "$w/pax" --name hand-pax-long --long-links
"${gnutar[@]}" --format=pax "${pax[@]}" -C "$w/pax" -cf "$w/pax.tar" .
image hand-pax-long "$busybox_config" "$(gz "$w/pax.tar")"

rootfs "$w/gnu" --name hand-gnu-long --long-links --srv-link
"${gnutar[@]}" --format=gnu -C "$w/gnu" -cf "$w/gnu.tar" .
image hand-gnu-long "$busybox_config" "$w/gnu.tar"

rootfs "$w/ustar" --name hand-ustar --long-paths --no-dev
"${gnutar[@]}" --format=ustar -C "$w/ustar" -cf "$w/ustar.tar" .
image hand-ustar "$busybox_config" "$(gz "$w/ustar.tar")"

rootfs "$w/truncated" --name hand-truncated --usr-merge --user
"${gnutar[@]}" -b1 -C "$w/truncated" -cf "$w/truncated.tar" .
[ "$(tail -c 1024 "$w/truncated.tar" | tr -d '\0' | wc -c)" = 0 ] || { echo "hand.sh: no end blocks to cut" >&2; exit 1; }
truncate -s -1024 "$w/truncated.tar"
image hand-truncated "$(jq -c '.User = "app" | .WorkingDir = "/srv/work"' <<<"$busybox_config")" "$(gz "$w/truncated.tar")"

rootfs "$w/python" --name hand-python --srv-link --long-links
tarpack "$w/python.tar" --root "$w/python" --format gnu --implied-parents
image hand-python "$busybox_config" "$(gz "$w/python.tar")"

rootfs "$w/whiteouts" --name hand-whiteouts --old-tree
"${gnutar[@]}" -C "$w/whiteouts" -cf "$w/whiteouts1.tar" .
mkdir -p "$w/layer2/opt/old/inner" "$w/layer3/opt/old"
printf 'replaced\n' > "$w/layer2/opt/old/inner/c.txt"
ln "$w/layer2/opt/old/inner/c.txt" "$w/layer2/opt/old/inner/d.txt"
printf 'again\n' > "$w/layer3/opt/old/again.txt"
find "$w/layer2" "$w/layer3" -exec touch -h -d @0 {} +
tarpack "$w/whiteouts2.tar" --root "$w/layer2" --whiteout opt/old/a.txt --opaque opt/old/inner
tarpack "$w/whiteouts3.tar" --root "$w/layer3" --whiteout opt/old --prefix ./
image hand-whiteouts "$busybox_config" "$(gz "$w/whiteouts1.tar")" "$(gz "$w/whiteouts2.tar")" "$(gz "$w/whiteouts3.tar")"
rm -rf "$w"
