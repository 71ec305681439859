using System.Runtime.InteropServices;

namespace Dbuild.Runtime;

internal static partial class Interop
{
    private const int ORdOnly = 0, ODirectory = 0x10000, OCloExec = 0x80000;
    private const nuint FsIocGetFlags = 0x80086601, FsIocSetFlags = 0x40086602; // _IOR/_IOW('f', 1/2, long)
    private const int FsTopDirFlag = 0x00020000; // FS_TOPDIR_FL, chattr +T

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags);

    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int IoctlNative(int fd, nuint request, int* argument);

    [LibraryImport(Libc, EntryPoint = "close")]
    private static partial int CloseNative(int fd);

    /// <summary>
    /// Marks <paramref name="directory"/> as the top of directory hierarchies (<c>chattr +T</c>, FS_TOPDIR_FL), so ext4's
    /// Orlov allocator puts each new directory below it in a block group of its own, away from the inodes earlier
    /// snapshots freed. Without a journal, ext4 skips over every recently freed inode when it allocates one: a tree
    /// unpacked next to one just deleted pays for each of its files a scan of all of them (measured here: 1,700 files in
    /// 0.7–1.0 s instead of 0.06 s). Only placement changes; false where the filesystem has no such flag.
    /// </summary>
    internal static unsafe bool TryMarkTopDirectory(string directory)
    {
        int fd = OpenNative(directory, ORdOnly | ODirectory | OCloExec);
        if (fd < 0) { return false; }
        try
        {
            int flags = 0;
            if (IoctlNative(fd, FsIocGetFlags, &flags) != 0) { return false; }
            if ((flags & FsTopDirFlag) != 0) { return true; }
            flags |= FsTopDirFlag;
            return IoctlNative(fd, FsIocSetFlags, &flags) == 0;
        }
        finally
        {
            _ = CloseNative(fd);
        }
    }
}
