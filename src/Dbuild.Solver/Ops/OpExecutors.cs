using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Ops;

/// <summary>Runs one node of the graph once its inputs are solved: the op kind decides which executor.</summary>
internal sealed class OpExecutors(SolveContext context)
{
    private readonly SourceOps _sources = new(context);
    private readonly FileOps _files = new(context);
    private readonly ExecOps _execs = new(context);

    public async Task<OpResult> ExecuteAsync(OpNode node, OpResult[] inputs, CancellationToken cancellationToken)
    {
        OpResult result = await RunAsync(node, inputs, cancellationToken).ConfigureAwait(false);
        if (node is FileOp or ExecOp && node.Origin is not null) { context.Solved.Add((node, result)); }
        return result;
    }

    private Task<OpResult> RunAsync(OpNode node, OpResult[] inputs, CancellationToken cancellationToken) => node switch
    {
        ImageSourceOp image => _sources.ImageAsync(image, cancellationToken),
        ScratchOp scratch => Task.FromResult(SourceOps.Scratch(scratch)),
        ContextSourceOp contextSource => Task.FromResult(_sources.Context(contextSource)),
        GitSourceOp git => _sources.GitAsync(git, cancellationToken),
        HttpSourceOp http => _sources.HttpAsync(http, cancellationToken),
        FileOp file => _files.ExecuteAsync(file, inputs, cancellationToken),
        ExecOp exec => _execs.ExecuteAsync(exec, inputs, cancellationToken),
        MergeOp => Task.FromResult(Merge(inputs[0], inputs[1])),
        _ => throw new InvalidOperationException($"No executor for {node.Kind} ops."),
    };

    /// <summary>
    /// --link: the copied layer on top of the stage. The stage's key chains the parent's with the link layer's, so later
    /// steps still depend on everything before; a miss of the link step itself is what later steps report.
    /// </summary>
    private OpResult Merge(OpResult lower, OpResult upper) => new()
    {
        Key = new Cache.CacheKeyBuilder().Add("parent", lower.Key.ToString()).Add("link", upper.Key.ToString()).Build(),
        Layers = [.. lower.Layers, .. upper.Layers],
        Layer = upper.Layer,
        ChainReason = upper.ChainReason ?? lower.ChainReason,
        TreeFactory = async ct =>
        {
            FsTree tree = (await lower.TreeAsync(ct).ConfigureAwait(false)).Clone();
            if (upper.Layer is { } layer) { await RootfsReader.ApplyLayerAsync(context, tree, layer, lower.Layers.Count, ct).ConfigureAwait(false); }
            return tree;
        },
    };
}
