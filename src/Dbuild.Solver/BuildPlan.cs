using Dbuild.Dockerfile;

namespace Dbuild.Solver;

/// <summary>One FROM … section of a Dockerfile.</summary>
internal sealed record StagePlan(int Index, string? Name, string BaseExpression, string? PlatformFlag, IReadOnlyList<Instruction> Instructions, int Line)
{
    public string DisplayName => Name ?? $"stage-{Index}";
}

/// <summary>The Dockerfile split into stages, with the ARGs declared before the first FROM.</summary>
internal sealed record BuildPlan(IReadOnlyList<Instruction> MetaArgs, IReadOnlyList<StagePlan> Stages, ParsedDockerfile Source)
{
    public static BuildPlan From(ParsedDockerfile dockerfile)
    {
        var meta = new List<Instruction>();
        var stages = new List<StagePlan>();
        Instruction? from = null;
        var body = new List<Instruction>();
        void Flush()
        {
            if (from is null) { return; }
            string image = from.Args.Count > 0 ? from.Args[0] : throw dockerfile.Error(from.Line, 1, "FROM requires an image");
            string? name = from.Args.Count >= 3 && string.Equals(from.Args[1], "as", StringComparison.OrdinalIgnoreCase) ? from.Args[2].ToLowerInvariant() : null;
            stages.Add(new StagePlan(stages.Count, name, image, from.Flag("platform"), [.. body], from.Line));
            body.Clear();
        }
        foreach (Node node in dockerfile.Instructions)
        {
            Instruction instruction = Instruction.FromNode(node);
            if (instruction.Keyword == "from")
            {
                Flush();
                from = instruction;
            }
            else if (from is null)
            {
                if (instruction.Keyword != "arg") { throw dockerfile.Error(instruction.Line, 1, $"{instruction.Keyword.ToUpperInvariant()} before the first FROM; only ARG may come first"); }
                meta.Add(instruction);
            }
            else { body.Add(instruction); }
        }
        Flush();
        if (stages.Count == 0) { throw dockerfile.Error(1, 1, "the Dockerfile has no FROM instruction"); }
        return new BuildPlan(meta, stages, dockerfile);
    }

    /// <summary>The stage a name or index refers to, or null when it names an image instead.</summary>
    public StagePlan? FindStage(string nameOrIndex, int before)
    {
        string lower = nameOrIndex.ToLowerInvariant();
        for (int i = 0; i < before && i < Stages.Count; i++)
        {
            if (Stages[i].Name == lower) { return Stages[i]; }
        }
        return int.TryParse(nameOrIndex, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index) && index < before
            ? Stages[index] : null;
    }
}
