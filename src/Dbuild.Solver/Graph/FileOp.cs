using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Graph;

/// <summary>
/// A file op: one action on the filesystem of <see cref="Parent"/> (or, for <c>COPY --link</c>, on an empty one),
/// whose changes become one layer. COPY and ADD copy from a source op; WORKDIR makes a directory.
/// </summary>
internal sealed class FileOp(OpNode? parent, FileAction action) : OpNode
{
    /// <summary>The filesystem acted on; null for a <c>--link</c> copy, which starts from an empty one.</summary>
    public OpNode? Parent { get; } = parent;

    public FileAction Action { get; } = action;

    public override string Kind => "file";

    public override IReadOnlyList<OpNode> Inputs =>
        [.. Parent is null ? [] : new[] { Parent }, .. Action is CopyAction { Source: { } source } ? new[] { source } : []];

    public override IReadOnlyList<KeyComponent> Definition => Action.Definition;
}

/// <summary>What a <see cref="FileOp"/> does.</summary>
internal abstract record FileAction
{
    /// <summary>The action as named parts: the op's identity without its inputs.</summary>
    public abstract IReadOnlyList<KeyComponent> Definition { get; }
}

/// <summary>
/// COPY or ADD of <see cref="Spec"/>'s sources out of <see cref="Source"/> (the context, a named context, a git
/// checkout, a download, or another stage's or image's filesystem). <see cref="KeyText"/> is the normalised
/// instruction that goes into the cache key.
/// </summary>
internal sealed record CopyAction(OpNode Source, CopySpec Spec, string KeyText) : FileAction
{
    /// <summary><c>--chown</c> by name or id, resolved against the parent's /etc/passwd when the op runs; null for none (or for --link, whose owner is in the spec).</summary>
    public string? Chown { get; init; }

    /// <summary>ADD of a local archive: unpack it.</summary>
    public bool Unpack { get; init; }

    /// <summary>COPY --link: planned on an empty tree and merged onto the stage afterwards.</summary>
    public bool Link { get; init; }

    /// <summary>The stage's working directory (a relative destination is below it).</summary>
    public required string WorkingDirectory { get; init; }

    /// <summary>What the source is, for messages (<c>context</c>, <c>stage build</c>, <c>image alpine</c>).</summary>
    public required string SourceDescription { get; init; }

    public override IReadOnlyList<KeyComponent> Definition =>
    [
        new("instruction", KeyText),
        .. Spec.Heredocs.OrderBy(h => h.Key, StringComparer.Ordinal)
            .Select(h => new KeyComponent("heredoc " + h.Key, Oci.Digest.Compute(System.Text.Encoding.UTF8.GetBytes(h.Value)).ToString())),
    ];
}

/// <summary>WORKDIR: the directory and its missing parents, owned by the stage's USER at the time.</summary>
internal sealed record MkdirAction(string Path, string? User) : FileAction
{
    public override IReadOnlyList<KeyComponent> Definition => [new("instruction", "WORKDIR " + Path), new("user", User ?? "")];
}
