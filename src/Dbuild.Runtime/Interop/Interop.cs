using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Dbuild.Runtime;

/// <summary>libc calls the BCL does not offer. Each wrapper turns errno into a <see cref="Win32Exception"/> naming the path.</summary>
[SupportedOSPlatform("linux")]
internal static partial class Interop
{
    private const string Libc = "libc";

    private static Win32Exception Error(string what)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new Win32Exception(errno, $"{what} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    [LibraryImport(Libc, EntryPoint = "geteuid")]
    internal static partial uint GetEffectiveUserId();
}
