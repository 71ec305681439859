namespace Dbuild.Runtime;

/// <summary>
/// <c>--mount=type=bind</c>: a directory (or file) the caller supplies, e.g. a prepared build-context dir, or the
/// file tree of a layer chain (<c>from=</c> a stage or image). Read-only unless <see cref="ReadWrite"/>; writes to a
/// read-write bind are discarded after the step (the source is never changed).
/// </summary>
public sealed record BindMount : StepMount
{
    /// <summary>Host path to mount; exactly one of <see cref="Source"/> and <see cref="SourceLayers"/> is set.</summary>
    public string? Source { get; init; }

    /// <summary>A layer chain whose file tree is mounted (base first); exactly one of this and <see cref="Source"/>.</summary>
    public IReadOnlyList<LayerSource>? SourceLayers { get; init; }

    /// <summary>Sub-path inside the source (<c>source=</c>), relative; empty = the whole tree.</summary>
    public string SubPath { get; init; } = "";

    /// <summary><c>rw</c>: writable, but the writes are thrown away afterwards.</summary>
    public bool ReadWrite { get; init; }
}
