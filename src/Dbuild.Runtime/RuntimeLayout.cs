using System.Runtime.Versioning;
using Dbuild.Oci;

namespace Dbuild.Runtime;

/// <summary>
/// Where the runtime keeps its state under a state root: unpacked layers and step results (<c>runtime/snapshots</c>,
/// or <c>runtime/snapshots-native</c> for the copying snapshotter) and <c>RUN --mount=type=cache</c> directories
/// (<c>runtime/cache/&lt;id hash&gt;</c>). The build cache's usage and pruning read the same places.
/// </summary>
[SupportedOSPlatform("linux")]
public static class RuntimeLayout
{
    /// <summary>The runtime's directory under the state root.</summary>
    public static string RuntimeRoot(string stateRoot) => Path.Combine(Path.GetFullPath(stateRoot), "runtime");

    /// <summary>The snapshot directory of one snapshotter (overlay or native).</summary>
    public static string SnapshotDirectory(string stateRoot, bool overlay) => Path.Combine(RuntimeRoot(stateRoot), overlay ? "snapshots" : "snapshots-native");

    /// <summary>Both snapshotters' directories (a root may hold either or both).</summary>
    public static IReadOnlyList<string> SnapshotDirectories(string stateRoot) => [SnapshotDirectory(stateRoot, true), SnapshotDirectory(stateRoot, false)];

    /// <summary>The directory holding one subdirectory per cache mount.</summary>
    public static string CacheMountDirectory(string stateRoot) => Path.Combine(RuntimeRoot(stateRoot), "cache");

    /// <summary>Names inside a snapshot directory that are not snapshots: the always-empty lowerdir and staging trees.</summary>
    public static bool IsSnapshotName(string name) => name != "empty" && !name.StartsWith("tmp-", StringComparison.Ordinal);

    /// <summary>
    /// The lock file of one cache mount (<c>STATE/locks/cache-&lt;id hash&gt;.lock</c>): <c>sharing=locked</c> steps hold it
    /// exclusively while they run, <c>sharing=private</c> ones take it if free (else use a private copy), in every process.
    /// </summary>
    public static string CacheMountLock(string stateRoot, string key) => Path.Combine(Path.GetFullPath(stateRoot), "locks", $"cache-{key}.lock");

    /// <summary>Names inside the cache mount directory that are not cache mounts: half-seeded staging copies.</summary>
    public static bool IsCacheMountName(string name) => !name.Contains(".tmp-", StringComparison.Ordinal) && !name.StartsWith("tmp-", StringComparison.Ordinal);

    /// <summary>The snapshot IDs of a layer chain: the chain IDs of its diffIDs, base first (unpacked layers are stored under them).</summary>
    public static IReadOnlyList<Digest> ChainIds(IEnumerable<Digest> diffIds) => SnapshotStore.ChainIds(diffIds);

    /// <summary>The directory name a snapshot has inside its snapshot directory.</summary>
    public static string SnapshotName(Digest id) => id.Encoded[..16];

    /// <summary>
    /// Marks a snapshot or cache mount directory as used now (its mtime is its last use for pruning). Best effort: a
    /// directory that is gone or not ours to touch is left alone.
    /// </summary>
    public static void MarkUsed(string directory)
    {
        try { Directory.SetLastWriteTimeUtc(directory, DateTime.UtcNow); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
