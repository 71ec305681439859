#!/usr/bin/env python3
"""Packs a layer tar with Python's tarfile, the way hand-written image tools do (hand.sh).

tarpack.py OUT [--root DIR] [--format pax|gnu|ustar] [--prefix P] [--implied-parents] [--no-end-blocks]
               [--whiteout PATH]... [--opaque DIR]...

Members are sorted by name and carry the tree's modes, numeric owners and mtimes (no user or group names).
--prefix P          names start with P ("", "./" or "/"); hardlink targets too
--implied-parents   no member for directories other than those whose mode or owner is not 0755 root: an extractor
                    has to make the parents itself
--no-end-blocks     stop after the last member, without the two zero blocks (and record padding) that end a tar
--whiteout PATH     a whiteout member PATH's parent/.wh.NAME (the OCI spec's deletion marker)
--opaque DIR        DIR/.wh..wh..opq (the OCI spec's "hide everything below from lower layers")
"""
import argparse
import os
import stat
import tarfile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--root")
    parser.add_argument("--format", choices=["pax", "gnu", "ustar"], default="pax")
    parser.add_argument("--prefix", default="")
    parser.add_argument("--implied-parents", action="store_true")
    parser.add_argument("--no-end-blocks", action="store_true")
    parser.add_argument("--whiteout", action="append", default=[])
    parser.add_argument("--opaque", action="append", default=[])
    args = parser.parse_args()
    formats = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT, "ustar": tarfile.USTAR_FORMAT}

    members = []  # (name, TarInfo, path to read or None)
    seen = {}  # (dev, inode) -> first name, for hardlinks inside the tree
    paths = []
    if args.root:
        for directory, dirs, files in os.walk(args.root):
            paths += [os.path.join(directory, entry) for entry in dirs + files]
    # Sorted by name before hardlinks are found, so a link always follows the member it names.
    for path in sorted(paths, key=lambda p: os.path.relpath(p, args.root)):
        name = os.path.relpath(path, args.root)
        st = os.lstat(path)
        info = tarfile.TarInfo(name)
        info.mode, info.uid, info.gid, info.mtime = stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, int(st.st_mtime)
        if stat.S_ISDIR(st.st_mode):
            if args.implied_parents and (info.mode, info.uid, info.gid) == (0o755, 0, 0):
                continue
            info.type = tarfile.DIRTYPE
        elif stat.S_ISLNK(st.st_mode):
            info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
        elif (st.st_dev, st.st_ino) in seen:
            info.type, info.linkname = tarfile.LNKTYPE, args.prefix + seen[(st.st_dev, st.st_ino)]
        else:
            if st.st_nlink > 1:
                seen[(st.st_dev, st.st_ino)] = name
            info.size = st.st_size
            members.append((name, info, path))
            continue
        members.append((name, info, None))
    for path in args.whiteout:
        parent, leaf = os.path.split(path)
        members.append((os.path.join(parent, ".wh." + leaf), marker(os.path.join(parent, ".wh." + leaf)), None))
    for directory in args.opaque:
        name = os.path.join(directory, ".wh..wh..opq")
        members.append((name, marker(name), None))
    members.sort(key=lambda m: m[0])  # stable, and a tree's hardlink already follows its target

    with open(args.out, "wb") as out:
        tar = tarfile.open(fileobj=out, mode="w", format=formats[args.format])
        for name, info, path in members:
            info.name = args.prefix + name
            info.uname = info.gname = ""
            if path is None:
                tar.addfile(info)
            else:
                with open(path, "rb") as data:
                    tar.addfile(info, data)
        if args.no_end_blocks:
            out.truncate(tar.offset)
            tar.closed = True  # close() would write the end blocks
        else:
            tar.close()


def marker(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode, info.mtime = 0o644, 0
    return info


if __name__ == "__main__":
    main()
