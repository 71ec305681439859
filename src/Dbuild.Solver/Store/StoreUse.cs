using Dbuild.Oci.Locking;

namespace Dbuild.Solver.Store;

/// <summary>
/// The state root's use lock, <c>STATE/locks/store.lock</c> (a <see cref="FileLock"/>): everything that writes blobs and
/// then names them or records them in the build cache (a build, a pull, a load, an import) holds it shared from start
/// to end, and a prune (<c>image prune</c>, <c>prune</c>, <c>builder prune</c>, a build's GC) holds it exclusively, so
/// a prune never deletes a blob or snapshot between its writing and its naming by another process. Like containerd's GC
/// lock, but across processes: a prune waits for the builds and pulls running on the root, and they wait for it.
/// </summary>
public static class StoreUse
{
    /// <summary>The lock file of a state root.</summary>
    public static string LockPath(string stateRoot) => Path.Combine(Path.GetFullPath(stateRoot), "locks", "store.lock");

    /// <summary>Held by a build, pull, load or import for its whole run; waits only while a prune runs.</summary>
    public static Task<FileLock> ForWritingAsync(string stateRoot, Action? waiting, CancellationToken cancellationToken) =>
        FileLock.AcquireAsync(LockPath(stateRoot), FileLockMode.Shared, waiting, cancellationToken);

    /// <summary>Held by a prune; waits for the builds, pulls, loads and imports running on the root to finish.</summary>
    public static Task<FileLock> ForPruningAsync(string stateRoot, Action? waiting, CancellationToken cancellationToken) =>
        FileLock.AcquireAsync(LockPath(stateRoot), FileLockMode.Exclusive, waiting, cancellationToken);
}
