using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>
/// A helper server the tests start (Azurite, nginx): its output captured, ready once 127.0.0.1:PORT accepts a
/// connection (bounded wait), killed with its children on dispose.
/// </summary>
internal sealed class ListeningProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ListeningProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_output) { _output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_output) { _output.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output { get { lock (_output) { return _output.ToString(); } } }

    /// <summary>
    /// Starts <paramref name="fileName"/> and waits up to <paramref name="attempts"/> × 100 ms for the port. On failure
    /// the process is stopped and the exception carries its output and <paramref name="diagnostics"/>' text.
    /// </summary>
    public static async Task<ListeningProcess> StartAsync(string fileName, IEnumerable<string> arguments, int port, int attempts,
        CancellationToken cancellationToken, Func<string>? diagnostics = null)
    {
        var startInfo = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments) { startInfo.ArgumentList.Add(argument); }
        var started = new ListeningProcess(Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}."));
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            if (started._process.HasExited) { break; }
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port, cancellationToken);
                return started;
            }
            catch (SocketException) { }
            await Task.Delay(100, cancellationToken);
        }
        string output = started.Output + (diagnostics?.Invoke() ?? "");
        await started.DisposeAsync();
        throw new InvalidOperationException($"{Path.GetFileName(fileName)} did not start listening on port {port}.\n{output}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await _process.WaitForExitAsync(timeout.Token);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException) { }
        _process.Dispose();
    }
}
