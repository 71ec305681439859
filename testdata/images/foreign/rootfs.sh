#!/usr/bin/env bash
# Makes the root filesystem of one foreign base at $1: make-busybox-context.sh's busybox tree (/bin/busybox and its
# applet links, /etc/passwd, /etc/group) plus /srv/work, the folder every matrix Dockerfile reads and changes (keep.txt,
# hard.txt a hardlink to it, link.txt a symlink to it, victim.txt to delete, sub/ to change), and /etc/foreign-base
# naming the base. /srv/work/base.txt holds the name and FOREIGN_KEY (make-foreign-bases.sh's hash of its scripts), and a
# base made FROM another rewrites it, so no two bases, nor two versions of one, have the same /srv/work (re-encodings
# such as skopeo's hold the very same files, owners included): BuildKit 0.8 keys a COPY --from by the files' content
# without their owners, and would otherwise hand one base's result (root's files) to another (app's files).
# Options vary the tree per producer:
#   --name NAME     written to /etc/foreign-base
#   --busybox FILE  another busybox binary (the arm64 one for multi-arch bases); the applet links stay the same
#   --no-dev        no /dev, /proc, /sys (the runtime must make its mount points itself)
#   --user          /srv/work and /home/app owned by app (1000:1000), for bases whose config says USER app
#   --usr-merge     /lib is a symlink to usr/lib (a symlinked directory), /usr/lib holds a file
#   --srv-link      /srv is a symlink to var/srv, so /srv/work is reached through a symlinked directory
#   --long-paths    /srv/work/deep/…: a file whose path is over 155 characters (ustar prefix, GNU LongLink, PAX path)
#   --long-links    a symlink and a hardlink whose targets are that long path (GNU LongLink 'K', PAX linkpath)
#   --old-tree      /opt/old/…, a tree a later layer deletes
# Deterministic: fixed mtimes and modes; owners are set with chown, so run it as root. FOREIGN_BUSYBOX_TREE may name a
# rootfs make-busybox-context.sh made already (copied instead of linking 400 applets again).
set -euo pipefail
umask 022
out=${1:?usage: rootfs.sh OUT_DIR [options]}
shift
name=base busybox=/bin/busybox nodev='' user='' usrmerge='' srvlink='' longpaths='' longlinks='' oldtree=''
while [ $# -gt 0 ]; do
  case $1 in
    --name) name=$2; shift ;;
    --busybox) busybox=$2; shift ;;
    --no-dev) nodev=1 ;;
    --user) user=1 ;;
    --usr-merge) usrmerge=1 ;;
    --srv-link) srvlink=1 ;;
    --long-paths) longpaths=1 ;;
    --long-links) longpaths=1; longlinks=1 ;;
    --old-tree) oldtree=1 ;;
    *) echo "rootfs.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
rm -rf "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [ -n "${FOREIGN_BUSYBOX_TREE:-}" ]; then
  cp -a "$FOREIGN_BUSYBOX_TREE" "$out"
else
  "$(dirname "$0")/../make-busybox-context.sh" "$tmp/context" >/dev/null
  mv "$tmp/context/rootfs" "$out"
fi
root=$out
cp "$busybox" "$root/bin/busybox"
chmod 0755 "$root" "$root/bin/busybox"
chmod 0700 "$root/root"
if [ -n "$nodev" ]; then rmdir "$root/dev" "$root/proc" "$root/sys"; fi
printf '%s\n' "$name" > "$root/etc/foreign-base"

work=$root/srv/work
if [ -n "$srvlink" ]; then
  mkdir -p "$root/var/srv"
  ln -s var/srv "$root/srv"
  work=$root/var/srv/work
fi
mkdir -p "$work/sub"
printf 'keep\n' > "$work/keep.txt"
ln "$work/keep.txt" "$work/hard.txt"
ln -s keep.txt "$work/link.txt"
printf 'victim\n' > "$work/victim.txt"
printf '%s %s\n' "$name" "${FOREIGN_KEY:-}" > "$work/base.txt"
printf 'nested\n' > "$work/sub/nested.txt"
chmod 0640 "$work/sub/nested.txt"
if [ -n "$longpaths" ]; then
  deep=deep/directory-with-a-name-of-thirty/another-directory-of-thirty-/a-third-directory-of-thirty--
  mkdir -p "$work/$deep"
  long=$deep/a-file-whose-name-alone-is-sixty-characters-long-0123456.txt
  printf 'long\n' > "$work/$long"
  if [ -n "$longlinks" ]; then
    ln -s "/srv/work/$long" "$work/z-long-symlink"
    ln "$work/$long" "$work/z-long-hardlink.txt" # sorts after deep/, so a tar stores it as the link
  fi
fi
if [ -n "$usrmerge" ]; then
  mkdir -p "$root/usr/lib"
  printf 'ID=busybox\n' > "$root/usr/lib/os-release"
  ln -s usr/lib "$root/lib"
fi
if [ -n "$oldtree" ]; then
  mkdir -p "$root/opt/old/inner"
  printf 'old\n' > "$root/opt/old/a.txt"
  printf 'old\n' > "$root/opt/old/inner/b.txt"
fi
if [ -n "$user" ]; then chown -R 1000:1000 "$work" "$root/home/app"; fi
find "$root" -exec touch -h -d @0 {} +
echo "$out"
