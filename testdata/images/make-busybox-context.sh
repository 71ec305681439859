#!/usr/bin/env bash
# Makes a build context at $1 whose Dockerfile builds a busybox base image FROM scratch, offline, from Debian's
# busybox-static: `dbuild build -t REG/busybox:1 --push OUT` gives the base image the examples build on.
set -euo pipefail
out=${1:?usage: make-busybox-context.sh OUT_DIR}
mkdir -p "$out/rootfs"/{bin,etc,tmp,root,home/app,var,usr/bin,usr/sbin,sbin,proc,sys,dev}
chmod 1777 "$out/rootfs/tmp"
cp /bin/busybox "$out/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$out/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n' > "$out/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\n' > "$out/rootfs/etc/group"
cat > "$out/Dockerfile" <<'DF'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["sh"]
DF
echo "$out"
