using Dbuild.Dockerfile;

namespace Dbuild.Solver;

/// <summary>One Dockerfile instruction as the solver needs it: the only type that reads the parser's AST.</summary>
internal sealed record Instruction(string Keyword, IReadOnlyList<string> Args, IReadOnlyList<string> Flags, bool IsJson, string Original, int Line,
    IReadOnlyList<Heredoc> Heredocs)
{
    /// <summary>ONBUILD's trigger, parsed.</summary>
    public Instruction? Trigger { get; init; }

    public static Instruction FromNode(Node node)
    {
        var args = new List<string>();
        Instruction? trigger = null;
        for (Node? n = node.Next; n is not null; n = n.Next)
        {
            args.Add(n.Value);
            if (node.Value == "onbuild" && n.Children.Count > 0) { trigger = FromNode(n.Children[0]); }
        }
        return new Instruction(node.Value, args, node.Flags, node.IsJson, node.Original, node.StartLine, node.Heredocs) { Trigger = trigger };
    }

    /// <summary>The value of <c>--name=value</c>, or null; <c>--name</c> alone gives "true".</summary>
    public string? Flag(string name)
    {
        string? found = null;
        foreach (string flag in Flags)
        {
            string body = flag.StartsWith("--", StringComparison.Ordinal) ? flag[2..] : flag;
            int eq = body.IndexOf('=', StringComparison.Ordinal);
            string key = eq < 0 ? body : body[..eq];
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase)) { found = eq < 0 ? "true" : body[(eq + 1)..]; }
        }
        return found;
    }

    public IEnumerable<string> FlagValues(string name)
    {
        foreach (string flag in Flags)
        {
            string body = flag.StartsWith("--", StringComparison.Ordinal) ? flag[2..] : flag;
            int eq = body.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && string.Equals(body[..eq], name, StringComparison.OrdinalIgnoreCase)) { yield return body[(eq + 1)..]; }
        }
    }

    public string Location(string fileName) => $"{fileName}:{Line}";
}
