namespace Dbuild.Runtime;

/// <summary>
/// Runs one build step (a Dockerfile RUN) on top of a parent layer chain and turns what it changed into one layer.
/// The solver calls this; <see cref="StepExecutor"/> is the real implementation (overlay snapshots + runc/crun).
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
}
