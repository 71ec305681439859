using System.Diagnostics;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;

namespace Dbuild.Runtime;

/// <summary>
/// runc or crun as a child process: <c>run --bundle</c> with stdout/stderr pumped line by line, <c>kill</c> and
/// <c>delete --force</c> on cancellation. crun on a hybrid cgroup layout runs inside a private mount namespace that
/// hides /sys/fs/cgroup/unified (Debian's crun refuses the hybrid layout otherwise).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class OciRuntime
{
    private const string HybridCgroupDir = "/sys/fs/cgroup/unified";
    private static readonly SemaphoreSlim ProbeGate = new(1, 1);
    private static bool? _crunWorks;
    private static bool _crunNeedsWrapper;

    private readonly string _path;
    private readonly string _stateDirectory;
    private readonly bool _rootless;
    private readonly bool _wrap;

    private OciRuntime(string name, string path, string stateDirectory, bool rootless, bool wrap)
    {
        Name = name;
        _path = path;
        _stateDirectory = stateDirectory;
        _rootless = rootless;
        _wrap = wrap;
        Directory.CreateDirectory(stateDirectory);
    }

    public string Name { get; }

    /// <summary>The directory the runtime keeps container state in (its <c>--root</c>).</summary>
    public string StateDirectory => _stateDirectory;

    public static async Task<OciRuntime> SelectAsync(StepExecutorOptions options, string runtimeRoot, bool inUserNamespace,
        string probeBundleParent, ILogger logger, CancellationToken cancellationToken)
    {
        string? crun = options.Runtime == OciRuntimeKind.Runc ? null : options.RuntimePath is { } explicitCrun && options.Runtime == OciRuntimeKind.Crun ? explicitCrun : FindTool("crun");
        string? runc = options.Runtime == OciRuntimeKind.Crun ? null : options.RuntimePath is { } explicitRunc && options.Runtime == OciRuntimeKind.Runc ? explicitRunc : FindTool("runc");
        if (options.Runtime == OciRuntimeKind.Crun)
        {
            if (crun is null) { throw new InvalidOperationException("crun was requested (--runtime/DBUILD_RUNTIME) but is not on PATH; install Debian's 'crun'."); }
            bool wrap = Directory.Exists(HybridCgroupDir) && (await ProbeCrunAsync(crun, probeBundleParent, cancellationToken).ConfigureAwait(false)).NeedsWrapper;
            return new OciRuntime("crun", crun, Path.Combine(runtimeRoot, "crun"), inUserNamespace, wrap);
        }
        if (options.Runtime == OciRuntimeKind.Auto && crun is not null)
        {
            (bool works, bool needsWrapper) = await ProbeCrunAsync(crun, probeBundleParent, cancellationToken).ConfigureAwait(false);
            if (works)
            {
                Log.RuntimeChosen(logger, "crun", needsWrapper ? "works in a private mount namespace on this hybrid cgroup layout" : "preferred");
                return new OciRuntime("crun", crun, Path.Combine(runtimeRoot, "crun"), inUserNamespace, needsWrapper);
            }
            Log.RuntimeChosen(logger, "runc", "crun does not work here");
        }
        return runc is null
            ? throw new InvalidOperationException("No OCI runtime: install Debian's 'runc' (or 'crun').")
            : new OciRuntime("runc", runc, Path.Combine(runtimeRoot, "runc"), inUserNamespace, wrap: false);
    }

    /// <summary>Runs the bundle to completion; returns the exit code (128+N for signal N).</summary>
    public async Task<int> RunAsync(string bundle, string containerId, Action<StepOutputLine> onLine, CancellationToken cancellationToken)
    {
        ProcessStartInfo startInfo = CreateStartInfo(["run", "--bundle", bundle, containerId]);
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.RedirectStandardInput = true;
        using Process process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start '{_path}'.");
        process.StandardInput.Close(); // the step reads EOF, like BuildKit's /dev/null stdin
        Task stdout = PumpAsync(process.StandardOutput, StepOutputKind.Stdout, onLine);
        Task stderr = PumpAsync(process.StandardError, StepOutputKind.Stderr, onLine);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The container must not outlive the build: kill it, stop the runtime itself (it may still be creating the
            // container), then delete whatever state it left. Cleanup runs on its own token: the step's is cancelled.
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                if (Directory.Exists(Path.Combine(_stateDirectory, containerId))) { await RunQuietAsync(["kill", containerId, "KILL"], grace.Token).ConfigureAwait(false); }
                if (!process.HasExited) { process.Kill(entireProcessTree: true); }
                await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
            using var deleteGrace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try { await KillAndDeleteAsync(containerId, deleteGrace.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
            throw;
        }
        await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
        return process.ExitCode;
    }

    /// <summary>
    /// Kills and force-deletes a container if the runtime still knows it; quiet when it does not. A state directory the
    /// runtime cannot delete (it was killed between creating the directory and writing its state) is removed too, so
    /// <c>runc list</c> is empty afterwards.
    /// </summary>
    public async Task KillAndDeleteAsync(string containerId, CancellationToken cancellationToken)
    {
        string state = Path.Combine(_stateDirectory, containerId);
        if (!Directory.Exists(state)) { return; }
        await RunQuietAsync(["kill", containerId, "KILL"], cancellationToken).ConfigureAwait(false);
        await RunQuietAsync(["delete", "--force", containerId], cancellationToken).ConfigureAwait(false);
        if (Directory.Exists(state) && await RunQuietAsync(["state", containerId], cancellationToken).ConfigureAwait(false) != 0)
        {
            Directory.Delete(state, recursive: true); // the runtime does not know it (no state written): nothing runs there
        }
    }

    private async Task<int> RunQuietAsync(string[] arguments, CancellationToken cancellationToken)
    {
        ProcessStartInfo startInfo = CreateStartInfo(arguments);
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        using Process process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start '{_path}'.");
        Task<string> drainOut = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> drainErr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(drainOut, drainErr).ConfigureAwait(false);
        return process.ExitCode;
    }

    private ProcessStartInfo CreateStartInfo(IEnumerable<string> arguments)
    {
        ProcessStartInfo startInfo;
        if (_wrap)
        {
            startInfo = new ProcessStartInfo("unshare")
            {
                ArgumentList = { "--mount", "--propagation", "private", "--", "sh", "-c", $"mount -t tmpfs tmpfs {HybridCgroupDir} && exec \"$0\" \"$@\"", _path },
            };
        }
        else
        {
            startInfo = new ProcessStartInfo(_path);
        }
        startInfo.ArgumentList.Add("--root");
        startInfo.ArgumentList.Add(_stateDirectory);
        if (_rootless && Name == "runc") { startInfo.ArgumentList.Add("--rootless=true"); }
        foreach (string argument in arguments) { startInfo.ArgumentList.Add(argument); }
        startInfo.UseShellExecute = false;
        return startInfo;
    }

    private static async Task PumpAsync(StreamReader reader, StepOutputKind kind, Action<StepOutputLine> onLine)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line) { onLine(new StepOutputLine(kind, line)); }
    }

    /// <summary>Starts a container that execs a directory: a working crun gets as far as exec and fails there.</summary>
    private static async Task<(bool Works, bool NeedsWrapper)> ProbeCrunAsync(string crun, string bundleParent, CancellationToken cancellationToken)
    {
        await ProbeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_crunWorks is { } known) { return (known, _crunNeedsWrapper); }
            if (CrunProbeRecord.TryRead(crun) is { } recorded)
            {
                (_crunWorks, _crunNeedsWrapper) = recorded;
                return recorded;
            }
            string bundle = Path.Combine(bundleParent, "crun-probe-" + Guid.NewGuid().ToString("N")[..8]);
            string rootfs = Path.Combine(bundle, "rootfs");
            Directory.CreateDirectory(rootfs);
            try
            {
                FileStream config = File.Create(Path.Combine(bundle, "config.json"));
                await using (config.ConfigureAwait(false))
                {
                    SpecBuilder.Write(config, new SpecInput
                    {
                        RootfsPath = rootfs, Args = ["/"], Env = [SpecBuilder.DefaultPath], Cwd = "/", User = new ResolvedUser(0, 0, [], null),
                        Hostname = "probe", Network = StepNetwork.Host, InUserNamespace = false, Host = SpecHost.Current(insecure: false),
                    });
                }
                foreach (bool wrap in new[] { false, true })
                {
                    if (wrap && !Directory.Exists(HybridCgroupDir)) { break; }
                    var runtime = new OciRuntime("crun", crun, Path.Combine(bundle, "state"), rootless: false, wrap);
                    var lines = new List<string>();
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(TimeSpan.FromSeconds(20));
                    string id = "probe-" + Guid.NewGuid().ToString("N")[..8];
                    await runtime.RunAsync(bundle, id, l => { lock (lines) { lines.Add(l.Text); } }, timeout.Token).ConfigureAwait(false);
                    await runtime.KillAndDeleteAsync(id, timeout.Token).ConfigureAwait(false);
                    if (lines.Any(l => l.Contains("executable", StringComparison.OrdinalIgnoreCase) || l.Contains("exec", StringComparison.Ordinal) && !l.Contains("cgroup", StringComparison.Ordinal)))
                    {
                        _crunWorks = true;
                        _crunNeedsWrapper = wrap;
                        CrunProbeRecord.TryWrite(crun, works: true, wrap);
                        return (true, wrap);
                    }
                }
                _crunWorks = false;
                CrunProbeRecord.TryWrite(crun, works: false, needsWrapper: false);
                return (false, false);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                _crunWorks = false;
                return (false, false);
            }
            finally
            {
                SnapshotStore.TryDelete(bundle);
            }
        }
        finally
        {
            ProbeGate.Release();
        }
    }

    internal static string? FindTool(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"]))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) { return candidate; }
        }
        return null;
    }
}
