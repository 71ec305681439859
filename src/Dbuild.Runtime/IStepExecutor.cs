using Dbuild.Oci;
using Dbuild.Oci.Layers;

namespace Dbuild.Runtime;

/// <summary>
/// Runs one build step (a Dockerfile RUN) on top of a parent layer chain and turns what it changed into one layer.
/// The solver calls this; <see cref="StepExecutor"/> is the real implementation (overlay snapshots + runc/crun).
/// With overlay snapshots, a build keeps its own layers as snapshot directories (as BuildKit does): a step's changes,
/// and files COPY writes, stay there until an exported image needs them as a tar.
/// </summary>
public interface IStepExecutor
{
    /// <summary>
    /// Runs the step. Returns the new layer (or <see cref="StepResult.IsEmptyLayer"/> when nothing changed).
    /// A non-zero exit throws <see cref="StepFailedException"/>; cancellation kills the container, cleans up and
    /// throws <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<StepResult> RunAsync(StepRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the file tree of a layer chain (whiteouts applied, owners and modes kept where permitted) into
    /// <paramref name="destinationDirectory"/>, e.g. for <c>--output type=local</c>. The directory is created if missing.
    /// </summary>
    Task ExportAsync(IReadOnlyList<LayerSource> layers, string destinationDirectory, CancellationToken cancellationToken = default);

    /// <summary>Gets ready to run steps (state directories, the snapshot store, the OCI runtime chosen) before the first step needs it.</summary>
    Task WarmUpAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <summary>Null when RUN steps can run here; otherwise the one line that says what the machine lacks (rootless: /etc/subuid ranges, uidmap).</summary>
    string? WhyStepsCannotRun() => null;

    /// <summary>True when layers can be kept as snapshots (overlay, with the privileges to keep owners); false otherwise, never throwing.</summary>
    Task<bool> UsesSnapshotsAsync(CancellationToken cancellationToken = default) => Task.FromResult(false);

    /// <summary>The directory of a kept snapshot (one layer's files, overlay whiteouts), or null when it is not stored.</summary>
    string? SnapshotDirectory(Digest id) => null;

    /// <summary>
    /// Makes the snapshot <paramref name="id"/> from the layer tar <paramref name="writeTar"/> writes (never stored as a tar); nothing when it
    /// exists. Its layer, when written later, holds just <paramref name="paths"/> (the tar's entries, not the parents unpacking made).
    /// </summary>
    /// <param name="id">The new snapshot's id.</param>
    /// <param name="writeTar">Writes the layer tar (the entries not linked).</param>
    /// <param name="paths">Every entry of the layer.</param>
    /// <param name="links">Entries hard-linked to identical files of other snapshots instead of written (path, existing file).</param>
    /// <param name="cancellationToken">Cancels the import.</param>
    Task ImportSnapshotAsync(Digest id, Func<Stream, CancellationToken, Task> writeTar, IReadOnlyCollection<string> paths,
        IReadOnlyList<KeyValuePair<string, string>> links, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This executor keeps no snapshots.");

    /// <summary>The merged, read-only file tree of a layer chain at <paramref name="target"/> (created); disposing unmounts it.</summary>
    Task<IMountedView> MountReadOnlyAsync(IReadOnlyList<LayerSource> layers, string target, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This executor keeps no snapshots.");

    /// <summary>
    /// Writes the last layer of <paramref name="layers"/> (a snapshot) as a layer tar, compressed as <paramref name="options"/> say. With
    /// <paramref name="onlyChanges"/> (a RUN's snapshot) files the step only copied up unchanged are left out, as they were when it ran.
    /// </summary>
    Task<LayerWriteResult> WriteLayerAsync(IReadOnlyList<LayerSource> layers, bool onlyChanges, Stream output, LayerWriterOptions options,
        CancellationToken cancellationToken = default) => throw new NotSupportedException("This executor keeps no snapshots.");
}

/// <summary>A layer chain mounted read-only; disposing unmounts it.</summary>
public interface IMountedView : IAsyncDisposable
{
    /// <summary>The chain's layer directories, newest first (a file's own directory, for hard-linking it elsewhere in the snapshot store).</summary>
    IReadOnlyList<string> LayerDirectories { get; }
}
