using System.Runtime.InteropServices;

namespace Dbuild.Registry.Storage;

/// <summary>
/// Create-if-absent for files: <c>link(2)</c> fails with EEXIST when the name exists, atomically. .NET's
/// <see cref="File.Move(string, string, bool)"/> without overwrite checks for the destination and then renames, so two
/// racing movers can both "win".
/// </summary>
internal static partial class PosixLink
{
    private const int EEXIST = 17;
    private const int ENOENT = 2;

    /// <summary>Gives <paramref name="source"/>'s file the name <paramref name="destination"/> too; false when that name exists.</summary>
    public static bool TryLink(string source, string destination)
    {
        if (Link(source, destination) == 0) { return true; }
        int errno = Marshal.GetLastPInvokeError();
        if (errno == EEXIST) { return false; }
        if (errno == ENOENT && !File.Exists(source)) { throw new FileNotFoundException($"'{source}' does not exist.", source); }
        if (errno == ENOENT) { throw new DirectoryNotFoundException($"The folder of '{destination}' does not exist."); }
        throw new IOException($"link '{source}' → '{destination}': {Marshal.GetPInvokeErrorMessage(errno)}", errno);
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string source, string destination);
}
