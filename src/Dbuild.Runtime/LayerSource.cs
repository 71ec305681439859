using Dbuild.Oci;

namespace Dbuild.Runtime;

/// <summary>
/// One layer of a parent chain: its diffID (the snapshot key is the chain ID computed from these) and a way to open
/// the layer blob (gzip, zstd or plain tar; detected from the bytes). The blob is opened only when the snapshot for
/// the chain does not exist yet. A layer a build made and kept as a snapshot (<see cref="Snapshot"/>) has no blob yet:
/// its directory is used as it is.
/// </summary>
public sealed record LayerSource(Digest DiffId, Func<CancellationToken, Task<Stream>> OpenAsync)
{
    /// <summary>The id of the snapshot holding this layer (<see cref="IStepExecutor.ImportSnapshotAsync"/>, or a step's <see cref="StepRequest.KeepSnapshot"/>); null for a blob layer.</summary>
    public Digest? Snapshot { get; init; }

    /// <summary>A layer kept as the snapshot <paramref name="id"/>.</summary>
    public static LayerSource ForSnapshot(Digest id) =>
        new(id, _ => throw new InvalidOperationException($"Snapshot {id} has no blob to open.")) { Snapshot = id };
}
