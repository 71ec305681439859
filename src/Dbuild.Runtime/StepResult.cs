using Dbuild.Oci.Layers;

namespace Dbuild.Runtime;

/// <summary>The outcome of a successful step.</summary>
public sealed record StepResult
{
    /// <summary>The new layer's digest, diffID, size and media type; null when the step changed nothing.</summary>
    public LayerWriteResult? Layer { get; init; }

    /// <summary>
    /// The layer blob on disk (under the state root's tmp dir); null when <see cref="Layer"/> is null. The caller owns
    /// the file: ingest it into the content store (e.g. by rename on the same filesystem) or delete it.
    /// </summary>
    public string? LayerPath { get; init; }

    /// <summary>True when the step changed nothing, so the image gets no layer (history <c>empty_layer</c>).</summary>
    public bool IsEmptyLayer => Layer is null && Snapshot is null;

    /// <summary>With <see cref="StepRequest.KeepSnapshot"/>: the snapshot holding what the step changed (possibly nothing).</summary>
    public Oci.Digest? Snapshot { get; init; }

    /// <summary>How long the process ran.</summary>
    public TimeSpan Duration { get; init; }
}
