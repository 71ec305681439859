using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Dbuild.Runtime;

internal static partial class Interop
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;
    private const int ENODATA = 61;
    private const int ENOTSUP = 95;

    /// <summary>The fields of <c>struct statx</c> layers need (the struct is the same on every architecture).</summary>
    internal readonly record struct FileStatus(uint Mode, uint Uid, uint Gid, ulong Size, long MtimeSeconds, uint MtimeNanoseconds,
        ulong Inode, uint LinkCount, uint DeviceMajor, uint DeviceMinor, uint RdevMajor, uint RdevMinor)
    {
        /// <summary>Status change time (stx_ctime): moves on every content or metadata change and cannot be set back.</summary>
        public long CtimeSeconds { get; init; }

        public uint CtimeNanoseconds { get; init; }

        /// <summary>Access time (stx_atime).</summary>
        public long AtimeSeconds { get; init; }

        public uint AtimeNanoseconds { get; init; }

        public uint Type => Mode & 0xF000;
        public bool IsDirectory => Type == 0x4000;
        public bool IsRegular => Type == 0x8000;
        public bool IsSymlink => Type == 0xA000;
        public bool IsCharDevice => Type == 0x2000;
        public bool IsBlockDevice => Type == 0x6000;
        public bool IsFifo => Type == 0x1000;
        public bool IsSocket => Type == 0xC000;
    }

    [LibraryImport(Libc, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int StatxNative(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport(Libc, EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LchownNative(string path, uint uid, uint gid);

    [LibraryImport(Libc, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LinkNative(string existing, string newPath);

    [LibraryImport(Libc, EntryPoint = "mknod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MknodNative(string path, uint mode, ulong dev);

    [LibraryImport(Libc, EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int LsetxattrNative(string path, string name, byte* value, nuint size, int flags);

    [LibraryImport(Libc, EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial nint LgetxattrNative(string path, string name, byte* value, nuint size);

    [LibraryImport(Libc, EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial nint LlistxattrNative(string path, byte* list, nuint size);

    [LibraryImport(Libc, EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int UtimensatNative(int dirfd, string path, long* times, int flags);

    internal static unsafe FileStatus LStat(string path)
    {
        byte* buffer = stackalloc byte[256];
        if (StatxNative(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0) { throw Error($"statx {path}"); }
        var span = new ReadOnlySpan<byte>(buffer, 256);
        return new FileStatus(
            Mode: BinaryPrimitives.ReadUInt16LittleEndian(span[28..]),
            Uid: BinaryPrimitives.ReadUInt32LittleEndian(span[20..]),
            Gid: BinaryPrimitives.ReadUInt32LittleEndian(span[24..]),
            Size: BinaryPrimitives.ReadUInt64LittleEndian(span[40..]),
            MtimeSeconds: BinaryPrimitives.ReadInt64LittleEndian(span[112..]),
            MtimeNanoseconds: BinaryPrimitives.ReadUInt32LittleEndian(span[120..]),
            Inode: BinaryPrimitives.ReadUInt64LittleEndian(span[32..]),
            LinkCount: BinaryPrimitives.ReadUInt32LittleEndian(span[16..]),
            DeviceMajor: BinaryPrimitives.ReadUInt32LittleEndian(span[136..]),
            DeviceMinor: BinaryPrimitives.ReadUInt32LittleEndian(span[140..]),
            RdevMajor: BinaryPrimitives.ReadUInt32LittleEndian(span[128..]),
            RdevMinor: BinaryPrimitives.ReadUInt32LittleEndian(span[132..]))
        {
            CtimeSeconds = BinaryPrimitives.ReadInt64LittleEndian(span[96..]),
            CtimeNanoseconds = BinaryPrimitives.ReadUInt32LittleEndian(span[104..]),
            AtimeSeconds = BinaryPrimitives.ReadInt64LittleEndian(span[64..]),
            AtimeNanoseconds = BinaryPrimitives.ReadUInt32LittleEndian(span[72..]),
        };
    }

    internal static unsafe FileStatus? TryLStat(string path)
    {
        byte* buffer = stackalloc byte[256];
        if (StatxNative(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is 2 or 20) { return null; } // ENOENT, ENOTDIR
            throw new System.ComponentModel.Win32Exception(errno, $"statx {path} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        return LStat(path);
    }

    internal static void LChown(string path, int uid, int gid)
    {
        if (LchownNative(path, (uint)uid, (uint)gid) != 0) { throw Error($"lchown {path} to {uid}:{gid}"); }
    }

    internal static void Link(string existing, string newPath)
    {
        if (LinkNative(existing, newPath) != 0) { throw Error($"link {newPath} to {existing}"); }
    }

    internal static void Mknod(string path, uint mode, uint major, uint minor)
    {
        // glibc's makedev encoding
        ulong dev = ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) | ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);
        if (MknodNative(path, mode, dev) != 0) { throw Error($"mknod {path} ({major}:{minor})"); }
    }

    internal static unsafe void LSetXattr(string path, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* pointer = value)
        {
            if (LsetxattrNative(path, name, pointer, (nuint)value.Length, 0) != 0) { throw Error($"lsetxattr {name} on {path}"); }
        }
    }

    internal static unsafe byte[]? LGetXattr(string path, string name)
    {
        nint size = LgetxattrNative(path, name, null, 0);
        if (size < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is ENODATA or ENOTSUP) { return null; }
            throw new System.ComponentModel.Win32Exception(errno, $"lgetxattr {name} on {path} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        byte[] value = new byte[size];
        fixed (byte* pointer = value)
        {
            size = LgetxattrNative(path, name, pointer, (nuint)value.Length);
        }
        return size < 0 ? throw Error($"lgetxattr {name} on {path}") : value.AsSpan(0, (int)size).ToArray();
    }

    internal static unsafe List<string> LListXattr(string path)
    {
        nint size = LlistxattrNative(path, null, 0);
        if (size < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == ENOTSUP) { return []; }
            throw new System.ComponentModel.Win32Exception(errno, $"llistxattr {path} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        if (size == 0) { return []; }
        byte[] list = new byte[size];
        fixed (byte* pointer = list)
        {
            size = LlistxattrNative(path, pointer, (nuint)list.Length);
        }
        if (size < 0) { throw Error($"llistxattr {path}"); }
        var names = new List<string>();
        foreach (Range range in list.AsSpan(0, (int)size).TrimEnd((byte)0).Split((byte)0))
        {
            names.Add(Encoding.UTF8.GetString(list.AsSpan(0, (int)size)[range]));
        }
        return names;
    }

    /// <summary>Sets atime and mtime both to the given time (deterministic), not following a symlink.</summary>
    internal static void LUtimes(string path, long seconds, long nanoseconds) => LUtimes(path, seconds, nanoseconds, seconds, nanoseconds);

    internal static unsafe void LUtimes(string path, long atimeSeconds, long atimeNanoseconds, long mtimeSeconds, long mtimeNanoseconds)
    {
        long* times = stackalloc long[4];
        times[0] = atimeSeconds;
        times[1] = atimeNanoseconds;
        times[2] = mtimeSeconds;
        times[3] = mtimeNanoseconds;
        if (UtimensatNative(AtFdCwd, path, times, AtSymlinkNoFollow) != 0) { throw Error($"utimensat {path}"); }
    }
}
