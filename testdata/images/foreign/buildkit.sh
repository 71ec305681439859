#!/usr/bin/env bash
# BuildKit's bases (dockerd 20.10's BuildKit 0.8, `DOCKER_BUILDKIT=1 docker build`, then `docker push`):
#   buildkit-scratch    FROM scratch + COPY of the tree from the context (no /dev /proc /sys; /srv a symlink)
#   buildkit-twostage   FROM scratch + ADD rootfs.tar as a first stage, then a stage FROM it whose RUN deletes a file
#                       and replaces a directory: its last layer holds a whiteout and an opaque directory
. "$(dirname "$0")/lib.sh"
w=$FOREIGN_WORK/buildkit
rm -rf "$w"; mkdir -p "$w/scratch" "$w/twostage"
env='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
build_push() {
  local ref=$FOREIGN_REGISTRY/$1:latest
  DOCKER_BUILDKIT=1 "$docker" build --network none -q -t "$ref" "$2" >/dev/null
  "$docker" push -q "$ref" >/dev/null
  "$docker" rmi -f "$ref" >/dev/null
}

rootfs "$w/scratch/rootfs" --name buildkit-scratch --no-dev --srv-link
printf 'FROM scratch\nCOPY rootfs/ /\n%s\nCMD ["sh"]\n' "$env" > "$w/scratch/Dockerfile"
build_push buildkit-scratch "$w/scratch"

rootfs "$w/tree" --name buildkit-twostage --old-tree --usr-merge
pack_rootfs "$w/tree" "$w/twostage/rootfs.tar"
cat > "$w/twostage/Dockerfile" <<DF
FROM scratch AS tree
ADD rootfs.tar /
FROM tree
RUN rm /opt/old/a.txt && rm -rf /opt/old/inner && mkdir /opt/old/inner && echo replaced > /opt/old/inner/c.txt
$env
CMD ["sh"]
DF
build_push buildkit-twostage "$w/twostage"
rm -rf "$w"
