using Dbuild.Oci;
using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Graph;

/// <summary>
/// One op of the build graph (BuildKit's LLB vertex): what it does, as a normalised definition, and the ops it reads.
/// Its <see cref="Digest"/> hashes the definition and the inputs' digests, so two stages (or two platforms) that ask
/// for the same op get one node, which runs once. The cache key is a different thing: it is computed while solving,
/// from the inputs' cache keys and the content the op reads (context files, a commit, a download).
/// </summary>
internal abstract class OpNode
{
    private Digest? _digest;

    /// <summary>The kind of op: image, scratch, context, git, http, file, exec, merge.</summary>
    public abstract string Kind { get; }

    /// <summary>The ops whose results this one reads, in a fixed order.</summary>
    public abstract IReadOnlyList<OpNode> Inputs { get; }

    /// <summary>The progress vertex shown while it runs (<c>[build 2/4] RUN make</c>); null for an op that shows none.</summary>
    public string? Name { get; init; }

    /// <summary>Where the op came from in the Dockerfile (for miss reasons and <c>--no-cache-filter</c>); null for sources.</summary>
    public StepOrigin? Origin { get; init; }

    /// <summary>The op's place in the graph (lowering order: Dockerfile order within a stage); set when added.</summary>
    public int Sequence { get; set; } = -1;

    /// <summary>Set after lowering when the op's layer ends up in an exported image (so it is compressed early).</summary>
    public bool InImage { get; set; }

    /// <summary>The op's definition without its inputs, as named parts (their names explain a cache miss).</summary>
    public abstract IReadOnlyList<KeyComponent> Definition { get; }

    /// <summary>The digest of the normalised definition and the inputs' digests.</summary>
    public Digest Digest => _digest ??= ComputeDigest();

    private Digest ComputeDigest()
    {
        var key = new CacheKeyBuilder().Add("kind", Kind);
        foreach (KeyComponent part in Definition) { key.Add(part.Name, part.Value); }
        foreach (OpNode input in Inputs) { key.Add("input", input.Digest.ToString()); }
        return key.Build();
    }

    /// <summary>A one-line summary for <c>--print graph</c>.</summary>
    public virtual string Summary => Name ?? Kind;
}

/// <summary>
/// The Dockerfile step an op was lowered from: its identity across builds (context, Dockerfile, stage, position,
/// platform), whose last cache-key parts explain the next miss, and the stage name for <c>--no-cache-filter</c>.
/// </summary>
internal sealed record StepOrigin(Digest StepId, string Stage);
