using System.Runtime.InteropServices;

namespace Dbuild.Runtime;

internal static partial class Interop
{
    [Flags]
    internal enum MountFlags : ulong
    {
        None = 0,
        ReadOnly = 1,
        NoSuid = 2,
        NoDev = 4,
        NoExec = 8,
        Remount = 32,
        Bind = 4096,
        Recursive = 16384,
        Private = 1 << 18,
    }

    internal const int DetachUnmount = 2; // MNT_DETACH

    [LibraryImport(Libc, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MountNative(string source, string target, string? fsType, ulong flags, string? data);

    [LibraryImport(Libc, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2Native(string target, int flags);

    internal static void Mount(string source, string target, string? fsType, MountFlags flags, string? data = null)
    {
        if (MountNative(source, target, fsType, (ulong)flags, data) != 0) { throw Error($"mount {source} on {target} ({fsType}, {data})"); }
    }

    /// <summary>Unmounts; false when nothing was mounted there (EINVAL) or it is gone (ENOENT).</summary>
    internal static bool Unmount(string target, bool detach = false)
    {
        if (Umount2Native(target, detach ? DetachUnmount : 0) == 0) { return true; }
        int errno = Marshal.GetLastPInvokeError();
        if (errno is 22 or 2) { return false; }
        throw new System.ComponentModel.Win32Exception(errno, $"umount {target} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
    }
}
