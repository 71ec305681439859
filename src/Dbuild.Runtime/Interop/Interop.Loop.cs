using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Dbuild.Runtime;

internal static partial class Interop
{
    private const uint LoopControlGetFree = 0x4C82; // LOOP_CTL_GET_FREE, linux/loop.h

    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlNative(SafeFileHandle fd, nuint request, nint argument);

    /// <summary>The index of the first free loop device (the kernel creates it if needed), or null when /dev/loop-control cannot be used.</summary>
    [SupportedOSPlatform("linux")]
    internal static int? FreeLoopDevice()
    {
        try
        {
            using SafeFileHandle control = File.OpenHandle("/dev/loop-control", FileMode.Open, FileAccess.ReadWrite);
            int index = IoctlNative(control, LoopControlGetFree, 0);
            return index >= 0 ? index : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
