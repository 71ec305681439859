using Dbuild.Oci;
using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Graph;

/// <summary>
/// What an op gave: its cache key, and either a filesystem (the layers of an image or of a stage so far, with the layer
/// this op added) or a tree of files to copy from (a context, a git checkout, a download).
/// </summary>
internal sealed class OpResult
{
    private readonly Lock _lock = new();
    private Task<FsTree>? _tree;

    /// <summary>The op's cache key: its definition, its inputs' keys and the content it read.</summary>
    public required Digest Key { get; init; }

    /// <summary>The filesystem's layers, base first (empty for scratch and for file sources).</summary>
    public IReadOnlyList<ChainLayer> Layers { get; init; } = [];

    /// <summary>The layer this op added, or null (a step that added none, a source).</summary>
    public ChainLayer? Layer { get; init; }

    /// <summary>
    /// Why a step reading this result (and otherwise unchanged) misses: "previous step changed" after a miss, the base
    /// image's change after a FROM; null when nothing before changed.
    /// </summary>
    public string? ChainReason { get; init; }

    /// <summary>For file sources: the files (opened on first use: a git checkout happens only when a step must copy).</summary>
    public Func<CancellationToken, Task<SourceTree>>? OpenTree { get; init; }

    /// <summary>For the build context or a named context: the tree whose selected files' hashes go into a reader's key.</summary>
    public ContextTree? Context { get; init; }

    /// <summary>What a step copying from this result adds to its key (<c>source</c>: <c>stage …</c>, <c>git …</c>, <c>url …</c>).</summary>
    public IReadOnlyList<KeyComponent> SourceKey { get; init; } = [];

    /// <summary>Builds the filesystem's metadata tree on first use (null for file sources).</summary>
    public Func<CancellationToken, Task<FsTree>>? TreeFactory { get; init; }

    /// <summary>The filesystem's merged metadata (paths, types, owners, which layer holds each), built once.</summary>
    public Task<FsTree> TreeAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_tree is null || _tree.IsFaulted || _tree.IsCanceled)
            {
                _tree = (TreeFactory ?? throw new InvalidOperationException("A file source has no filesystem tree."))(cancellationToken);
            }
            return _tree;
        }
    }
}
