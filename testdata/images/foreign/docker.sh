#!/usr/bin/env bash
# dockerd 20.10's own bases, each pushed with `docker push`:
#   docker-legacy       the legacy builder (DOCKER_BUILDKIT=0): FROM scratch + ADD rootfs.tar, USER app, WORKDIR
#   docker-legacy-run   the legacy builder FROM docker-legacy: a RUN that deletes a file and replaces a directory
#                       (overlay2's whiteout and opaque directory, as the legacy builder exports them)
#   docker-import       `docker import rootfs.tar` (paths and link targets over 100 characters, no /dev /proc /sys)
#   docker-commit       `docker run` on docker-import deleting and adding files, then `docker commit`
#   docker-archive      `docker save` of docker-legacy-run, then `skopeo copy docker-archive:… docker://…`
. "$(dirname "$0")/lib.sh"
w=$FOREIGN_WORK/docker
rm -rf "$w"; mkdir -p "$w/legacy" "$w/legacy-run"
reg=$FOREIGN_REGISTRY
path='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
tags=()
push() { "$docker" push -q "$reg/$1:latest" >/dev/null; tags+=("$reg/$1:latest"); }

rootfs "$w/tree" --name docker-legacy --user --usr-merge --old-tree
pack_rootfs "$w/tree" "$w/legacy/rootfs.tar"
printf 'FROM scratch\nADD rootfs.tar /\nENV %s\nUSER app\nWORKDIR /srv/work\nCMD ["sh"]\n' "$path" > "$w/legacy/Dockerfile"
DOCKER_BUILDKIT=0 "$docker" build -q -t "$reg/docker-legacy:latest" "$w/legacy" >/dev/null
push docker-legacy

cat > "$w/legacy-run/Dockerfile" <<DF
FROM $reg/docker-legacy:latest
USER root
RUN rm /opt/old/a.txt && rm -rf /opt/old/inner && mkdir /opt/old/inner && echo replaced > /opt/old/inner/c.txt \
    && echo "docker-legacy-run $FOREIGN_KEY" > /srv/work/base.txt
USER app
DF
DOCKER_BUILDKIT=0 "$docker" build --network none -q -t "$reg/docker-legacy-run:latest" "$w/legacy-run" >/dev/null
push docker-legacy-run

rootfs "$w/import" --name docker-import --no-dev --long-links --old-tree
pack_rootfs "$w/import" "$w/import.tar"
"$docker" import --change "ENV $path" --change 'CMD ["sh"]' "$w/import.tar" "$reg/docker-import:latest" >/dev/null
push docker-import

container=foreign-docker-commit-$$
"$docker" rm -f "$container" >/dev/null 2>&1 || true
"$docker" run --network none --name "$container" "$reg/docker-import:latest" \
  sh -c "rm -rf /opt/old && mkdir -p /opt/new && echo new > /opt/new/n.txt && chmod 0750 /srv/work/sub && echo 'docker-commit $FOREIGN_KEY' > /srv/work/base.txt" >/dev/null
"$docker" commit --change 'CMD ["sh"]' "$container" "$reg/docker-commit:latest" >/dev/null
"$docker" rm -f "$container" >/dev/null
push docker-commit

"$docker" save -o "$w/archive.tar" "$reg/docker-legacy-run:latest"
skopeo_copy "docker-archive:$w/archive.tar" "docker://$reg/docker-archive:latest"

"$docker" rmi -f "${tags[@]}" >/dev/null
rm -rf "$w"
