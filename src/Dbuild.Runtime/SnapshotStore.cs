using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Microsoft.Extensions.Logging;

namespace Dbuild.Runtime;

/// <summary>
/// Unpacked layers, keyed by chain ID, each unpacked once. Overlay mode: one directory per layer holding just that
/// layer, whiteouts in overlay form (0/0 character devices, opaque xattr), stacked as lowerdirs. Native mode: one
/// directory per chain holding the whole flattened tree.
/// Directory names are the first 16 hex digits of the chain ID (short, so long chains fit the mount options);
/// a <c>chainid</c> file inside records the full ID.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class SnapshotStore
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new(StringComparer.Ordinal);
    private readonly string _directory;
    private readonly bool _overlay;
    private readonly bool _inUserNamespace;
    private readonly ILogger _logger;

    public SnapshotStore(string directory, bool overlay, bool inUserNamespace, ILogger logger)
    {
        _directory = directory;
        _overlay = overlay;
        _inUserNamespace = inUserNamespace;
        _logger = logger;
        Directory.CreateDirectory(directory);
        _ = Interop.TryMarkTopDirectory(directory); // each snapshot's tree in a block group of its own
        Directory.CreateDirectory(EmptyDirectory);
        RemoveAbandonedStaging();
    }

    /// <summary>The directory snapshots live in (lowerdir paths are relative to it when the option string is long).</summary>
    public string Root => _directory;

    /// <summary>An always-empty directory: the lowerdir of a FROM-scratch step.</summary>
    public string EmptyDirectory => Path.Combine(_directory, "empty");

    public string OpaqueXattr => _inUserNamespace ? "user.overlay.opaque" : "trusted.overlay.opaque";

    /// <summary>chain[0] = diffID[0]; chain[n] = sha256(chain[n-1] + " " + diffID[n]).</summary>
    /// <remarks>https://github.com/opencontainers/image-spec/blob/v1.1.0/config.md#layer-chainid</remarks>
    public static List<Digest> ChainIds(IEnumerable<Digest> diffIds)
    {
        var chain = new List<Digest>();
        foreach (Digest diffId in diffIds)
        {
            chain.Add(chain.Count == 0 ? diffId : Digest.Compute(Encoding.ASCII.GetBytes($"{chain[^1]} {diffId}")));
        }
        return chain;
    }

    public string PathOf(Digest chainId) => Path.Combine(_directory, RuntimeLayout.SnapshotName(chainId));

    public string FsOf(Digest chainId) => Path.Combine(PathOf(chainId), "fs");

    public bool Exists(Digest chainId)
    {
        string marker = Path.Combine(PathOf(chainId), "chainid");
        return File.Exists(marker) && File.ReadAllText(marker) == chainId.ToString();
    }

    /// <summary>
    /// Makes sure every prefix of the chain is unpacked; returns the snapshot fs dirs, base first. A layer kept as a
    /// snapshot (<see cref="LayerSource.Snapshot"/>) is used as it is (overlay only: its directory holds just that layer).
    /// </summary>
    public async Task<List<string>> PrepareAsync(IReadOnlyList<LayerSource> layers, CancellationToken cancellationToken)
    {
        List<Digest> chain = ChainIds(layers.Select(l => l.Snapshot ?? l.DiffId));
        var result = new List<string>(chain.Count);
        for (int i = 0; i < chain.Count; i++)
        {
            if (layers[i].Snapshot is { } kept)
            {
                if (!_overlay) { throw new InvalidOperationException("Kept snapshots need overlay snapshots."); }
                result.Add(Exists(kept) ? FsOf(kept) : throw new InvalidOperationException($"The snapshot {kept} is no longer stored; build again (its cache record is dropped)."));
                RuntimeLayout.MarkUsed(PathOf(kept)); // last use, for pruning
                continue;
            }
            Digest chainId = chain[i];
            if (!Exists(chainId))
            {
                SemaphoreSlim gate = Locks.GetOrAdd(chainId.ToString(), _ => new SemaphoreSlim(1, 1));
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    if (!Exists(chainId))
                    {
                        LayerSource layer = layers[i];
                        await UnpackAsync(layer.OpenAsync, layer.DiffId, chainId, i == 0 ? null : FsOf(chain[i - 1]), cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    gate.Release();
                }
            }
            RuntimeLayout.MarkUsed(PathOf(chainId));
            result.Add(FsOf(chainId));
        }
        return result;
    }

    /// <summary>Unpacks a layer tar that <paramref name="writeTar"/> writes (through a pipe, never to disk) as the snapshot <paramref name="id"/>.</summary>
    public async Task ImportAsync(Digest id, Func<Stream, CancellationToken, Task> writeTar, IReadOnlyCollection<string> paths,
        IReadOnlyList<KeyValuePair<string, string>> links, CancellationToken cancellationToken)
    {
        if (Exists(id)) { return; }
        SemaphoreSlim gate = Locks.GetOrAdd(id.ToString(), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Exists(id)) { return; }
            var pipe = new System.IO.Pipelines.Pipe(new System.IO.Pipelines.PipeOptions(pauseWriterThreshold: 4 << 20, resumeWriterThreshold: 2 << 20, minimumSegmentSize: 128 << 10));
            using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            async Task WriteAsync()
            {
                // Batched: every write to the pipe wakes the unpacking side, and a tar is written in 512-byte headers and small files.
                // 128 KiB segments: 4 KiB ones (the default) outnumbered the shared array pool, so every flush allocated fresh arrays.
                var writer = new BufferedStream(pipe.Writer.AsStream(leaveOpen: true), 1 << 20);
                try
                {
                    await writeTar(writer, failed.Token).ConfigureAwait(false);
                    await writer.FlushAsync(failed.Token).ConfigureAwait(false);
                    await pipe.Writer.CompleteAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    await pipe.Writer.CompleteAsync(ex).ConfigureAwait(false);
                    await failed.CancelAsync().ConfigureAwait(false);
                    throw;
                }
            }
            Task writing = Task.Run(WriteAsync, CancellationToken.None);
            try
            {
                await UnpackAsync(_ => Task.FromResult(pipe.Reader.AsStream()), null, id, null, failed.Token, paths, links).ConfigureAwait(false);
            }
            catch
            {
                await failed.CancelAsync().ConfigureAwait(false);
                await pipe.Reader.CompleteAsync().ConfigureAwait(false);
                await writing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                throw;
            }
            await writing.ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Moves a finished tree (an overlay upper dir, or a native rootfs) into place as the snapshot of
    /// <paramref name="chainId"/>, unless that snapshot exists already (another step made the same layer, or unpacked
    /// it): then the tree stays where it is, for its step to delete. Serialised with unpacks and commits of the same chain.
    /// </summary>
    public async Task CommitAsync(Digest chainId, string tree, CancellationToken cancellationToken)
    {
        if (Exists(chainId)) { return; }
        SemaphoreSlim gate = Locks.GetOrAdd(chainId.ToString(), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        string staging = NewStagingPath();
        try
        {
            if (Exists(chainId)) { return; }
            Directory.CreateDirectory(staging);
            Directory.Move(tree, Path.Combine(staging, "fs"));
            File.WriteAllText(Path.Combine(staging, "chainid"), chainId.ToString());
            Publish(staging, chainId);
        }
        finally
        {
            TryDelete(staging); // gone once published; what is left after a failure
            gate.Release();
        }
    }

    private static string CleanPath(string path)
    {
        while (path.StartsWith("./", StringComparison.Ordinal)) { path = path[2..]; }
        return path.Trim('/');
    }

    /// <summary>
    /// Hard-links files a COPY takes unchanged from other snapshots (immutable, like this one) instead of copying their
    /// bytes: no new inode, no data written. Done before the tar unpacks, so its directory entries still get their
    /// metadata last. A source outside the snapshot store, or not a regular file, is refused.
    /// </summary>
    private void LinkUnchangedFiles(string fs, IReadOnlyList<KeyValuePair<string, string>> links)
    {
        string root = Path.GetFullPath(_directory) + "/";
        foreach ((string path, string source) in links)
        {
            string clean = CleanPath(path);
            if (!Path.GetFullPath(source).StartsWith(root, StringComparison.Ordinal) || Interop.TryLStat(source) is not { IsRegular: true })
            {
                throw new InvalidOperationException($"'{source}' is not a file of the snapshot store; it cannot be linked as '{clean}'.");
            }
            if (clean.Length == 0 || clean.Split('/').Any(p => p is "." or "..")) { throw new InvalidOperationException($"'{path}' is not a clean layer path."); }
            string target = Path.Combine(fs, clean);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            LinuxLayerFileSystem.Instance.CreateHardLink(source, target);
        }
    }

    /// <summary>The entry paths an imported snapshot's tar had (its layer is exactly these), or null for other snapshots.</summary>
    public HashSet<string>? ImportedPaths(Digest id)
    {
        string file = Path.Combine(PathOf(id), "paths");
        return File.Exists(file) ? new HashSet<string>(File.ReadAllLines(file).Where(l => l.Length > 0).Select(CleanPath), StringComparer.Ordinal) : null;
    }

    private async Task UnpackAsync(Func<CancellationToken, Task<Stream>> open, Digest? diffId, Digest chainId, string? parentFs, CancellationToken cancellationToken,
        IReadOnlyCollection<string>? paths = null, IReadOnlyList<KeyValuePair<string, string>>? links = null)
    {
        string staging = NewStagingPath();
        string fs = Path.Combine(staging, "fs");
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            Directory.CreateDirectory(staging);
            if (!_overlay && parentFs is not null) { await CopyTree.CopyAsync(parentFs, fs, cancellationToken).ConfigureAwait(false); }
            if (links is { Count: > 0 }) { LinkUnchangedFiles(fs, links); }
            Stream blob = await open(cancellationToken).ConfigureAwait(false);
            await using (blob.ConfigureAwait(false))
            {
                await LayerExtractor.ExtractAsync(blob, fs, new LayerExtractOptions
                {
                    Whiteouts = _overlay ? WhiteoutHandling.Overlay : WhiteoutHandling.Apply,
                    OverlayOpaqueXattr = OpaqueXattr,
                    AllowDeviceNodes = !_inUserNamespace,
                    FileSystem = LinuxLayerFileSystem.Instance,
                    ExpectedDiffId = diffId,
                }, cancellationToken).ConfigureAwait(false);
            }
            if (paths is not null) { await File.WriteAllLinesAsync(Path.Combine(staging, "paths"), paths.Select(CleanPath), cancellationToken).ConfigureAwait(false); }
            await File.WriteAllTextAsync(Path.Combine(staging, "chainid"), chainId.ToString(), cancellationToken).ConfigureAwait(false);
            Publish(staging, chainId);
            Log.SnapshotUnpacked(_logger, diffId ?? chainId, chainId, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }
        catch
        {
            TryDelete(staging);
            throw;
        }
    }

    private void Publish(string staging, Digest chainId)
    {
        string final = PathOf(chainId);
        // A snapshot directory appears complete (one rename of a directory holding its chainid file), so checking that
        // the directory exists before checking its chainid closes the window where another step's snapshot would be
        // taken for a broken one.
        if (Directory.Exists(final))
        {
            if (Exists(chainId))
            {
                // Another step or process published the same snapshot first (and may have it mounted): keep theirs.
                TryDelete(staging);
                return;
            }
            // A broken leftover or a colliding prefix; ours is complete, so replace it.
            string old = NewStagingPath();
            Directory.Move(final, old);
            TryDelete(old);
        }
        try { Directory.Move(staging, final); }
        catch (IOException) when (Exists(chainId))
        {
            // Another process (or build) published the same snapshot between the check and the move: keep theirs.
            TryDelete(staging);
        }
    }

    /// <summary>Staging directories carry the owning process id, so a later store can remove those a killed process left.</summary>
    private string NewStagingPath() =>
        Path.Combine(_directory, string.Create(CultureInfo.InvariantCulture, $"tmp-{Environment.ProcessId}-{Guid.NewGuid():N}"));

    private void RemoveAbandonedStaging()
    {
        foreach (string staging in Directory.EnumerateDirectories(_directory, "tmp-*"))
        {
            string[] parts = Path.GetFileName(staging).Split('-');
            if (parts.Length == 3 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                TryDelete(staging);
            }
        }
    }

    internal static void TryDelete(string directory)
    {
        try { if (Directory.Exists(directory)) { Directory.Delete(directory, recursive: true); } }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
