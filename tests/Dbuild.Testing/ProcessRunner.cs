using System.Diagnostics;
using System.Text;

namespace Dbuild.Testing;

/// <summary>The outcome of a finished process.</summary>
public sealed record ProcessResult(string FileName, IReadOnlyList<string> Arguments, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Throws with the command line, exit code and both outputs unless the process exited 0.</summary>
    public ProcessResult EnsureSuccess() => ExitCode == 0 ? this :
        throw new InvalidOperationException($"'{FileName} {string.Join(' ', Arguments)}' exited {ExitCode}\nstdout: {StandardOutput}\nstderr: {StandardError}");
}

/// <summary>Runs real tools (docker, skopeo, umoci, runc, dbuild) from tests, with a bounded wait.</summary>
public static class ProcessRunner
{
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null, string? standardInput = null,
        TimeSpan? timeout = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) { startInfo.ArgumentList.Add(argument); }
        if (workingDirectory is not null) { startInfo.WorkingDirectory = workingDirectory; }
        if (environment is not null)
        {
            foreach ((string key, string? value) in environment)
            {
                if (value is null) { startInfo.Environment.Remove(key); } else { startInfo.Environment[key] = value; }
            }
        }
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start '{fileName}'.");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput.AsMemory(), cancellationToken);
            process.StandardInput.Close();
        }
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout ?? TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{fileName} {string.Join(' ', startInfo.ArgumentList)}' did not finish in time.\nstdout: {stdout}\nstderr: {stderr}");
        }
        process.WaitForExit(); // drains the async readers
        return new ProcessResult(fileName, [.. startInfo.ArgumentList], process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
