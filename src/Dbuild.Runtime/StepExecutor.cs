using System.Diagnostics;
using System.Runtime.Versioning;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dbuild.Runtime;

/// <summary>
/// Runs steps through runc/crun on overlay (or copied) snapshots kept under <c>&lt;state root&gt;/runtime</c>.
/// As root it uses the host's namespaces machinery directly; rootless, the process must already run as root of a user
/// namespace with a mount namespace (dbuild enters one itself, see Dbuild.Cli's UserNamespaceEntry; or rootlesskit, or
/// <c>unshare --map-root-user --map-users=auto --map-groups=auto --mount</c>, which map /etc/subuid through newuidmap):
/// overlay is then mounted with <c>userxattr</c>, runc runs with
/// <c>--rootless=true</c>, device nodes in layers are refused.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed partial class StepExecutor : IStepExecutor
{
    private const int FailureTailLines = 20;
    private readonly StepExecutorOptions _options;
    private readonly ILogger<StepExecutor> _logger;
    private readonly string _runtimeRoot;
    private readonly Lock _initLock = new();
    private Task? _initialization;
    private SnapshotStore? _snapshots;
    private OciRuntime? _runtime;
    private bool _overlay;
    private bool _inUserNamespace;

    public StepExecutor(StepExecutorOptions options, ILogger<StepExecutor>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger ?? NullLogger<StepExecutor>.Instance;
        _runtimeRoot = RuntimeLayout.RuntimeRoot(options.StateRoot);
    }

    /// <summary>The OCI runtime in use ("runc" or "crun"), once the first step has run.</summary>
    public string? RuntimeName => _runtime?.Name;

    /// <summary>True when snapshots are overlay mounts; false for the copying fallback. Known after the first step.</summary>
    public bool UsesOverlay => _overlay;

    internal string RuntimeStateDirectory => _runtime?.StateDirectory ?? Path.Combine(_runtimeRoot, "runc");

    internal string WorkDirectory => Path.Combine(_runtimeRoot, "work");

    /// <inheritdoc />
    public async Task<StepResult> RunAsync(StepRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Args.Count == 0) { throw new ArgumentException("A step needs at least one argument.", nameof(request)); }
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        string containerId = "dbuild-" + Guid.NewGuid().ToString("N")[..16];
        var step = new StepContext(Path.Combine(WorkDirectory, containerId));
        string display = request.DisplayName ?? string.Join(' ', request.Args);
        try
        {
            Directory.CreateDirectory(step.Directory);
            await File.WriteAllTextAsync(Path.Combine(step.Directory, "owner.pid"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
            return await RunStepAsync(request, containerId, step, display, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await CleanUpAsync(containerId, step).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whatever happened (success, a failed step, cancellation, an exception while preparing): the container is killed
    /// and deleted, then every mount under the step directory is undone and the directory removed. Runs on its own
    /// short-lived token, never the step's, which may be cancelled already.
    /// </summary>
    private async Task CleanUpAsync(string containerId, StepContext step)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            if (_runtime is not null) { await _runtime.KillAndDeleteAsync(containerId, timeout.Token).ConfigureAwait(false); }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            Log.CleanupFailed(_logger, containerId, e.Message);
        }
        finally
        {
            foreach (string problem in step.Cleanup()) { Log.CleanupFailed(_logger, containerId, problem); }
        }
    }

    /// <inheritdoc />
    public async Task ExportAsync(IReadOnlyList<LayerSource> layers, string destinationDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layers);
        Directory.CreateDirectory(destinationDirectory);
        foreach (LayerSource layer in layers)
        {
            Stream blob = await layer.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (blob.ConfigureAwait(false))
            {
                await LayerExtractor.ExtractAsync(blob, destinationDirectory, new LayerExtractOptions
                {
                    Whiteouts = WhiteoutHandling.Apply,
                    FileSystem = LinuxLayerFileSystem.Instance,
                    PreserveOwnership = HostEnvironment.IsRoot,
                    AllowDeviceNodes = HostEnvironment.IsRoot && !HostEnvironment.InUserNamespace,
                    ExpectedDiffId = layer.DiffId,
                }, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<StepResult> RunStepAsync(StepRequest request, string containerId, StepContext step, string display, CancellationToken cancellationToken)
    {
        // The default network comes up while the rootfs is prepared; slirp4netns is killed and reaped with the step, whatever happens.
        long networkStarted = Stopwatch.GetTimestamp();
        Task<SlirpNetwork>? network = request.Network == StepNetwork.Default ? SlirpNetwork.StartAsync(cancellationToken) : null;
        if (network is not null) { step.Releases.Add(() => SlirpNetwork.DisposeWhenStarted(network)); }
        List<string> lowers = await _snapshots!.PrepareAsync(request.Layers, cancellationToken).ConfigureAwait(false);
        lowers.Reverse(); // newest first, as overlay wants them
        string rootfs = Path.Combine(step.Directory, "rootfs");
        string upper;
        if (_overlay)
        {
            upper = Path.Combine(step.Directory, "upper");
            string work = Path.Combine(step.Directory, "work");
            Directory.CreateDirectory(rootfs);
            Directory.CreateDirectory(upper);
            Directory.CreateDirectory(work);
            await MountOverlayAsync(lowers.Count == 0 ? [_snapshots.EmptyDirectory] : lowers, upper, work, rootfs, step, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            upper = rootfs;
            if (lowers.Count > 0) { await CopyTree.CopyAsync(lowers[0], rootfs, cancellationToken).ConfigureAwait(false); }
            else { Directory.CreateDirectory(rootfs); }
        }

        List<string> env = SpecBuilder.WithDefaultPath(request.Env);
        List<SpecMount> mounts = await PrepareMountsAsync(request, step, env, cancellationToken).ConfigureAwait(false);
        // As BuildKit's runc executor: stubs are recorded first, then the user is resolved and the working directory made.
        var stubs = MountStubs.Record(rootfs, mounts.Select(m => m.Destination));
        ResolvedUser user = UserResolver.Resolve(rootfs, request.User);
        string cwd = string.IsNullOrEmpty(request.WorkingDirectory) ? "/" : request.WorkingDirectory;
        RootPath.CreateDirectories(rootfs, cwd, 0, 0);
        string? netns = network is null ? null : (await network.ConfigureAwait(false)).NamespacePath;
        if (network is not null) { Log.NetworkReady(_logger, containerId, Stopwatch.GetElapsedTime(networkStarted)); }
        var spec = new SpecInput
        {
            RootfsPath = rootfs,
            Args = request.Args,
            Env = env,
            Cwd = cwd,
            User = user,
            Hostname = request.Hostname,
            Network = request.Network,
            NetworkNamespacePath = netns,
            InUserNamespace = _inUserNamespace,
            ExtraMounts = mounts,
            Insecure = request.Security == StepSecurity.Insecure,
            Host = SpecHost.Current(request.Security == StepSecurity.Insecure),
        };
        MountStubs.CreateMountPoints(rootfs, SpecBuilder.DefaultMounts(spec).Where(m => m.Destination.LastIndexOf('/') == 0).Concat(mounts));
        string bundle = Path.Combine(step.Directory, "bundle");
        Directory.CreateDirectory(bundle);
        FileStream config = File.Create(Path.Combine(bundle, "config.json"));
        await using (config.ConfigureAwait(false)) { SpecBuilder.Write(config, spec); }

        var tail = new Queue<string>(FailureTailLines);
        void OnLine(StepOutputLine line)
        {
            lock (tail)
            {
                if (tail.Count == FailureTailLines) { tail.Dequeue(); }
                tail.Enqueue(line.Text);
            }
            request.Output?.Invoke(line);
        }

        Log.StepStarting(_logger, containerId, _runtime!.Name, display);
        var stopwatch = Stopwatch.StartNew();
        int exitCode = await _runtime.RunAsync(bundle, containerId, OnLine, cancellationToken).ConfigureAwait(false);
        stopwatch.Stop();
        Log.StepExited(_logger, containerId, exitCode, stopwatch.Elapsed);
        if (exitCode != 0)
        {
            string[] lines;
            lock (tail) { lines = [.. tail]; }
            throw new StepFailedException(display, exitCode, lines);
        }

        foreach (string problem in stubs.Remove()) { Log.CleanupFailed(_logger, containerId, problem); }
        foreach (string problem in step.UnmountAll()) { Log.CleanupFailed(_logger, containerId, problem); } // the rootfs and the step's mounts; the upper dir stays
        if (request.KeepSnapshot is { } keep && _overlay)
        {
            // BuildKit's way: the changed tree is the result; a layer tar is written only if an exported image needs it.
            await _snapshots!.CommitAsync(keep, upper, cancellationToken).ConfigureAwait(false);
            return new StepResult { Snapshot = keep, Duration = stopwatch.Elapsed };
        }
        return await CreateLayerAsync(request, containerId, upper, lowers, step, stopwatch.Elapsed, cancellationToken).ConfigureAwait(false);
    }

    private async Task<StepResult> CreateLayerAsync(StepRequest request, string containerId, string upper, List<string> lowers, StepContext step,
        TimeSpan duration, CancellationToken cancellationToken)
    {
        var diff = new UpperDiff(upper, lowers);
        var entries = new List<LayerEntry>(DirectoryLayerScanner.Scan(upper, new DirectoryScanOptions
        {
            FileSystem = LinuxLayerFileSystem.Instance,
            OverlayWhiteouts = _overlay,
            Include = (path, _) => diff.IsChanged(path),
        }));
        if (!_overlay && lowers.Count > 0) { UpperDiff.AddDeletions(entries, lowers[0], upper); }
        if (entries.Count == 0) { return new StepResult { Duration = duration }; }

        string tmp = Path.Combine(_runtimeRoot, "tmp");
        Directory.CreateDirectory(tmp);
        string layerPath = Path.Combine(tmp, containerId + ".layer");
        LayerWriteResult layer;
        try
        {
            FileStream output = new(layerPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            await using (output.ConfigureAwait(false))
            {
                layer = await LayerWriter.WriteAsync(entries, output, new LayerWriterOptions
                {
                    Compression = request.Compression ?? _options.Compression,
                    CompressionLevel = _options.CompressionLevel,
                    SourceDateEpoch = request.SourceDateEpoch,
                    Parallelism = Environment.ProcessorCount,
                }, cancellationToken).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
            }
        }
        catch
        {
            File.Delete(layerPath);
            throw;
        }
        Log.LayerCreated(_logger, containerId, layer.Digest, layer.Size);

        // The changed tree is exactly the snapshot of the new chain: keep it instead of unpacking the layer again later.
        Digest chainId = SnapshotStore.ChainIds(request.Layers.Select(l => l.DiffId).Append(layer.DiffId))[^1];
        try { await _snapshots!.CommitAsync(chainId, upper, cancellationToken).ConfigureAwait(false); }
        catch (IOException) { /* keeping the tree only saves an unpack later; the step dir (and the tree) is deleted */ }
        catch
        {
            File.Delete(layerPath); // cancelled (or worse): the caller never sees it
            throw;
        }
        return new StepResult { Layer = layer, LayerPath = layerPath, Duration = duration };
    }

    private Task InitializeAsync(CancellationToken cancellationToken)
    {
        lock (_initLock)
        {
            if (_initialization is null || _initialization.IsFaulted || _initialization.IsCanceled) { _initialization = InitializeCoreAsync(cancellationToken); }
            return _initialization.WaitAsync(cancellationToken);
        }
    }

    private async Task InitializeCoreAsync(CancellationToken cancellationToken)
    {
        InitializeStorage();
        _runtime = await OciRuntime.SelectAsync(_options, _runtimeRoot, _inUserNamespace, WorkDirectory, _logger, cancellationToken).ConfigureAwait(false);
        await RecoverAbandonedStepsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The state directories and the snapshot store (overlay probed once); what snapshots need without an OCI runtime.</summary>
    private void InitializeStorage()
    {
        lock (_initLock)
        {
            if (_snapshots is not null) { return; }
            if (!HostEnvironment.IsRoot)
            {
                throw new InvalidOperationException(RootlessSetup.Advice());
            }
            _inUserNamespace = _options.Rootless ?? HostEnvironment.InUserNamespace;
            Directory.CreateDirectory(_runtimeRoot);
            Directory.CreateDirectory(WorkDirectory);
            _ = Interop.TryMarkTopDirectory(WorkDirectory); // each step's upper directory in a block group of its own
            _overlay = _options.Snapshotter switch
            {
                SnapshotterKind.Native => false,
                SnapshotterKind.Overlay => true,
                _ => ProbeOverlay(),
            };
            _snapshots = new SnapshotStore(RuntimeLayout.SnapshotDirectory(_options.StateRoot, _overlay), _overlay, _inUserNamespace, _logger);
        }
    }

    /// <summary>
    /// A dbuild that was killed (SIGKILL, power loss) leaves its step's container, mounts and directory behind. Each
    /// step dir records its process id; dirs whose process is gone are cleaned up by the next executor.
    /// </summary>
    private async Task RecoverAbandonedStepsAsync(CancellationToken cancellationToken)
    {
        foreach (string directory in Directory.EnumerateDirectories(WorkDirectory, "dbuild-*"))
        {
            string pidFile = Path.Combine(directory, "owner.pid");
            if (!File.Exists(pidFile) || !int.TryParse(await File.ReadAllTextAsync(pidFile, cancellationToken).ConfigureAwait(false),
                    System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)) { continue; }
            if (pid == Environment.ProcessId || Directory.Exists($"/proc/{pid}")) { continue; }
            var abandoned = new StepContext(directory);
            string viewTarget = Path.Combine(directory, ViewTargetFile);
            if (File.Exists(viewTarget) && await File.ReadAllTextAsync(viewTarget, cancellationToken).ConfigureAwait(false) is { Length: > 0 } target)
            {
                abandoned.Unmounts.AddRange(MountTable.MountPointsUnder(target)); // a read-only view, mounted outside its directory
            }
            await CleanUpAsync(Path.GetFileName(directory), abandoned).ConfigureAwait(false); // its mounts are found in the mount table
        }
    }

    private bool ProbeOverlay()
    {
        string probe = Path.Combine(WorkDirectory, "overlay-probe-" + Guid.NewGuid().ToString("N")[..8]);
        string[] dirs = ["lower", "upper", "work", "merged"];
        try
        {
            foreach (string dir in dirs) { Directory.CreateDirectory(Path.Combine(probe, dir)); }
            Interop.Mount("overlay", Path.Combine(probe, "merged"), "overlay", Interop.MountFlags.None,
                $"lowerdir={probe}/lower,upperdir={probe}/upper,workdir={probe}/work" + (_inUserNamespace ? ",userxattr" : ""));
            Interop.Unmount(Path.Combine(probe, "merged"));
            return true;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Log.OverlayUnavailable(_logger, e.Message);
            return false;
        }
        finally
        {
            SnapshotStore.TryDelete(probe);
        }
    }
}
