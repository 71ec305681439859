using System.Globalization;
using Dbuild.Oci;
using Dbuild.Oci.Layers;

namespace Dbuild.Runtime;

/// <summary>The snapshots a build keeps as its layers (overlay only): importing, viewing and exporting them.</summary>
public sealed partial class StepExecutor
{
    /// <inheritdoc />
    public Task WarmUpAsync(CancellationToken cancellationToken = default) => HostEnvironment.IsRoot ? InitializeAsync(cancellationToken) : Task.CompletedTask;

    /// <inheritdoc />
    public string? WhyStepsCannotRun() => HostEnvironment.IsRoot ? null : RootlessSetup.Advice();

    /// <inheritdoc />
    public async Task<bool> UsesSnapshotsAsync(CancellationToken cancellationToken = default)
    {
        if (!HostEnvironment.IsRoot) { return false; } // RUN itself says what to do; COPY then keeps layers as tars
        await Task.Run(InitializeStorage, cancellationToken).ConfigureAwait(false);
        return _overlay;
    }

    /// <inheritdoc />
    public string? SnapshotDirectory(Digest id) => _snapshots is { } store && store.Exists(id) ? store.FsOf(id) : null;

    /// <inheritdoc />
    public async Task ImportSnapshotAsync(Digest id, Func<Stream, CancellationToken, Task> writeTar, IReadOnlyCollection<string> paths,
        IReadOnlyList<KeyValuePair<string, string>> links, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writeTar);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(links);
        InitializeStorage();
        await _snapshots!.ImportAsync(id, writeTar, paths, links, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IMountedView> MountReadOnlyAsync(IReadOnlyList<LayerSource> layers, string target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layers);
        InitializeStorage();
        // A step directory like a RUN's: the next executor recovers it if this process dies with the view mounted.
        var view = new StepContext(Path.Combine(WorkDirectory, "dbuild-view-" + Guid.NewGuid().ToString("N")[..16]));
        Directory.CreateDirectory(view.Directory);
        var handle = new SnapshotView(this, view);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(view.Directory, "owner.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
            List<string> lowers = await _snapshots!.PrepareAsync(layers, cancellationToken).ConfigureAwait(false);
            lowers.Reverse();
            // A read-only overlay needs two lowers; the empty directory under a single layer also hides its whiteouts.
            if (lowers.Count < 2) { lowers.Add(_snapshots.EmptyDirectory); }
            if (lowers.Count < 2) { lowers.Insert(0, Path.Combine(view.Directory, "empty")); Directory.CreateDirectory(lowers[0]); }
            Directory.CreateDirectory(target);
            handle.Target = target;
            handle.LayerDirectories = [.. lowers];
            await MountOverlayAsync(lowers, null, null, target, view, cancellationToken).ConfigureAwait(false);
            return handle;
        }
        catch
        {
            await handle.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<LayerWriteResult> WriteLayerAsync(IReadOnlyList<LayerSource> layers, bool onlyChanges, Stream output, LayerWriterOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0 || layers[^1].Snapshot is not { } id) { throw new ArgumentException("The last layer must be a kept snapshot.", nameof(layers)); }
        InitializeStorage();
        List<string> lowers = await _snapshots!.PrepareAsync(layers.Take(layers.Count - 1).ToList(), cancellationToken).ConfigureAwait(false);
        lowers.Reverse(); // newest first, as the diff compares them
        string upper = _snapshots.Exists(id) ? _snapshots.FsOf(id) : throw new InvalidOperationException($"The snapshot {id} is no longer stored.");
        var diff = new UpperDiff(upper, lowers);
        // An imported snapshot's layer is the entries its tar had, not the parent directories unpacking had to make.
        HashSet<string>? exact = onlyChanges ? null : _snapshots.ImportedPaths(id);
        var entries = DirectoryLayerScanner.Scan(upper, new DirectoryScanOptions
        {
            FileSystem = LinuxLayerFileSystem.Instance,
            OverlayWhiteouts = true,
            Include = onlyChanges ? (path, _) => diff.IsChanged(path) : exact is null ? null : (_, entry) => exact.Contains(entry.Path),
            KeepParentsOfIncluded = exact is null,
        });
        return await LayerWriter.WriteAsync(entries, output, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A mounted read-only view; disposing unmounts it and removes its directory.</summary>
    private sealed class SnapshotView(StepExecutor executor, StepContext view) : IMountedView
    {
        private int _disposed;

        public string? Target { get; set; }

        public IReadOnlyList<string> LayerDirectories { get; set; } = [];

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                foreach (string problem in view.Cleanup()) { Log.CleanupFailed(executor._logger, Path.GetFileName(view.Directory), problem); }
                if (Target is not null)
                {
                    try { Directory.Delete(Target); } catch (IOException) { } // the mount point, once empty
                }
            }
            return ValueTask.CompletedTask;
        }
    }
}
