namespace Dbuild.Dockerfile;

/// <summary>One build stage: its FROM (expanded with the global ARGs) and the instructions after it.</summary>
public sealed class Stage
{
    internal Stage(int index, FromInstruction from, string baseName, string? platform, IReadOnlyList<Instruction> instructions, Stage? baseStage)
    {
        Index = index;
        From = from;
        BaseName = baseName;
        Platform = platform;
        Instructions = instructions;
        BaseStage = baseStage;
    }

    /// <summary>0-based position (usable as <c>COPY --from=0</c>).</summary>
    public int Index { get; }

    /// <summary>The stage name (lower case), or null.</summary>
    public string? Name => From.StageName;

    /// <summary>The FROM instruction as written.</summary>
    public FromInstruction From { get; }

    /// <summary>The base image reference or stage name after global-ARG expansion.</summary>
    public string BaseName { get; }

    /// <summary>The expanded <c>--platform</c>, or null.</summary>
    public string? Platform { get; }

    /// <summary>The earlier stage this one builds on, or null when <see cref="BaseName"/> is an image (or scratch).</summary>
    public Stage? BaseStage { get; }

    /// <summary>True for <c>FROM scratch</c>.</summary>
    public bool IsScratch => BaseStage is null && string.Equals(BaseName, "scratch", StringComparison.OrdinalIgnoreCase);

    /// <summary>The instructions after FROM, up to the next FROM.</summary>
    public IReadOnlyList<Instruction> Instructions { get; }

    /// <inheritdoc/>
    public override string ToString() => Name is null ? $"stage {Index} ({BaseName})" : $"stage {Index} '{Name}' ({BaseName})";
}
