#!/usr/bin/env bash
# umoci's bases: umoci-insert (init/new, then `umoci insert` of the tree, of a whiteout and of an opaque directory:
# umoci writes layers without the tar end blocks) and umoci-repack (`umoci unpack` of an empty image, the tree copied
# in, `umoci repack`, then a second unpack/repack that deletes and replaces files; USER app, WORKDIR /srv/work).
. "$(dirname "$0")/lib.sh"
w=$FOREIGN_WORK/umoci
rm -rf "$w"; mkdir -p "$w"
layout=$w/layout
history=(--history.created 1970-01-01T00:00:00Z)
umoci init --layout "$layout"

rootfs "$w/insert" --name umoci-insert --no-dev --usr-merge --old-tree
umoci new --image "$layout:insert"
umoci insert "${history[@]}" --image "$layout:insert" "$w/insert" /
umoci insert "${history[@]}" --image "$layout:insert" --whiteout /opt/old/a.txt
mkdir -p "$w/inner"; printf 'replaced\n' > "$w/inner/c.txt"; touch -d @0 "$w/inner" "$w/inner/c.txt"
umoci insert "${history[@]}" --image "$layout:insert" --opaque "$w/inner" /opt/old/inner
umoci config "${history[@]}" --image "$layout:insert" --created 1970-01-01T00:00:00Z \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.cmd sh
push_layout "$layout" insert umoci-insert

rootfs "$w/repack" --name umoci-repack --user --srv-link --old-tree
umoci new --image "$layout:repack"
umoci unpack --image "$layout:repack" "$w/bundle" >/dev/null
rmdir "$w/bundle/rootfs" && cp -a "$w/repack" "$w/bundle/rootfs"
umoci repack "${history[@]}" --image "$layout:repack" "$w/bundle"
rm -rf "$w/bundle"
umoci unpack --image "$layout:repack" "$w/bundle" >/dev/null
rm "$w/bundle/rootfs/opt/old/a.txt"
rm -rf "$w/bundle/rootfs/opt/old/inner" && mkdir "$w/bundle/rootfs/opt/old/inner" && printf 'replaced\n' > "$w/bundle/rootfs/opt/old/inner/c.txt"
printf 'hello\n' > "$w/bundle/rootfs/etc/motd"
umoci repack "${history[@]}" --image "$layout:repack" "$w/bundle"
umoci config "${history[@]}" --image "$layout:repack" --created 1970-01-01T00:00:00Z \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.cmd sh \
  --config.user app --config.workingdir /srv/work
push_layout "$layout" repack umoci-repack
rm -rf "$w"
