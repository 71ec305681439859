using System.Diagnostics;

namespace Dbuild.Runtime;

/// <summary>Copies a tree with everything (owners, modes, xattrs, hard links, devices) through <c>cp -a</c>.</summary>
internal static class CopyTree
{
    public static async Task CopyAsync(string source, string destination, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(destination);
        var startInfo = new ProcessStartInfo("cp") { ArgumentList = { "-a", "--reflink=auto", source + "/.", destination }, RedirectStandardError = true };
        using Process process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start 'cp'.");
        Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new IOException($"Copying {source} to {destination} failed: cp exited {process.ExitCode}: {(await stderr.ConfigureAwait(false)).Trim()}");
        }
    }
}
