using Dbuild.Oci;

namespace Dbuild.Solver.Graph;

/// <summary>
/// The ops of one build, each once: adding an op whose digest is already there gives back the node already there, so
/// identical steps of several stages or platforms share one node (and run once).
/// </summary>
internal sealed class BuildGraph
{
    private readonly Dictionary<Digest, OpNode> _nodes = [];
    private readonly List<OpNode> _order = [];
    private readonly Lock _lock = new();

    /// <summary>The node for <paramref name="node"/>'s digest: the one added before, or this one.</summary>
    public T Add<T>(T node) where T : OpNode
    {
        lock (_lock)
        {
            if (_nodes.TryGetValue(node.Digest, out OpNode? known)) { return (T)known; }
            foreach (OpNode input in node.Inputs)
            {
                if (!_nodes.ContainsKey(input.Digest)) { throw new InvalidOperationException($"Op {node.Kind} reads an op that is not in the graph ({input.Kind})."); }
            }
            _nodes[node.Digest] = node;
            node.Sequence = _order.Count;
            _order.Add(node);
            return node;
        }
    }

    /// <summary>Every node, inputs before the ops that read them.</summary>
    public IReadOnlyList<OpNode> Nodes
    {
        get { lock (_lock) { return [.. _order]; } }
    }

    /// <summary>The nodes <paramref name="roots"/> need, inputs first.</summary>
    public static IReadOnlyList<OpNode> Reachable(IEnumerable<OpNode> roots)
    {
        var seen = new HashSet<Digest>();
        var order = new List<OpNode>();
        void Visit(OpNode node)
        {
            if (!seen.Add(node.Digest)) { return; }
            foreach (OpNode input in node.Inputs) { Visit(input); }
            order.Add(node);
        }
        foreach (OpNode root in roots) { Visit(root); }
        return order;
    }
}
