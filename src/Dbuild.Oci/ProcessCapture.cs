using System.ComponentModel;
using System.Diagnostics;

namespace Dbuild.Oci;

/// <summary>What a finished helper program printed, and how it exited.</summary>
public sealed record CapturedProcess(int ExitCode, string StandardOutput, string StandardError);

/// <summary>
/// Runs a helper program (git, a docker credential helper) to completion: optional text on stdin, stdout and stderr
/// read concurrently, the process tree killed when cancelled.
/// </summary>
public static class ProcessCapture
{
    /// <exception cref="Win32Exception">The program could not be started (not installed, not executable).</exception>
    public static async Task<CapturedProcess> RunAsync(ProcessStartInfo startInfo, string? input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(startInfo);
        startInfo.RedirectStandardInput = true;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.UseShellExecute = false;
        using Process process = Process.Start(startInfo) ?? throw new Win32Exception($"'{startInfo.FileName}' did not start.");
        if (input is not null) { await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken).ConfigureAwait(false); }
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try { await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return new CapturedProcess(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
