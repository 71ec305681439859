using System.Text;
using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Graph;

/// <summary><c>dbuild build --print graph|dot</c>: the lowered graph as text (one op a line, inputs first) or as Graphviz DOT.</summary>
internal static class GraphPrinter
{
    public static string Text(IReadOnlyList<OpNode> nodes, IReadOnlyList<(string Name, OpNode Root)> targets)
    {
        var text = new StringBuilder();
        var numbers = Number(nodes);
        foreach (OpNode node in nodes)
        {
            text.Append('%').Append(numbers[node]).Append(' ').Append(node.Kind).Append(' ').Append(Short(node)).Append("  ").Append(node.Summary);
            if (node.Inputs.Count > 0) { text.Append("  <- ").Append(string.Join(", ", node.Inputs.Select(i => "%" + numbers[i]))); }
            text.Append('\n');
            foreach (KeyComponent part in node.Definition.Where(p => p.Value.Length > 0))
            {
                text.Append("    ").Append(part.Name).Append(": ").Append(OneLine(part.Value)).Append('\n');
            }
        }
        foreach ((string name, OpNode root) in targets) { text.Append("target ").Append(name).Append(" = %").Append(numbers[root]).Append('\n'); }
        return text.ToString();
    }

    public static string Dot(IReadOnlyList<OpNode> nodes, IReadOnlyList<(string Name, OpNode Root)> targets)
    {
        var dot = new StringBuilder("digraph build {\n  rankdir=BT;\n  node [shape=box, fontname=monospace];\n");
        var numbers = Number(nodes);
        foreach (OpNode node in nodes)
        {
            string shape = node.Kind is "image" or "scratch" or "context" or "git" or "http" ? "ellipse" : "box";
            dot.Append("  op").Append(numbers[node]).Append(" [shape=").Append(shape).Append(", label=\"").Append(Escape($"{node.Kind} {Short(node)}\n{node.Summary}")).Append("\"];\n");
        }
        foreach (OpNode node in nodes)
        {
            foreach (OpNode input in node.Inputs) { dot.Append("  op").Append(numbers[input]).Append(" -> op").Append(numbers[node]).Append(";\n"); }
        }
        foreach ((string name, OpNode root) in targets)
        {
            dot.Append("  \"").Append(Escape(name)).Append("\" [shape=note];\n  op").Append(numbers[root]).Append(" -> \"").Append(Escape(name)).Append("\";\n");
        }
        return dot.Append("}\n").ToString();
    }

    private static Dictionary<OpNode, int> Number(IReadOnlyList<OpNode> nodes) =>
        nodes.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i, ReferenceEqualityComparer.Instance as IEqualityComparer<OpNode>);

    private static string Short(OpNode node) => node.Digest.Encoded[..12];

    private static string OneLine(string value) => value.Replace("\0", " ", StringComparison.Ordinal).ReplaceLineEndings("\\n");

    private static string Escape(string value) =>
        OneLine(value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal));
}
