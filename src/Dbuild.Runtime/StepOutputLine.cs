namespace Dbuild.Runtime;

/// <summary>Which stream of the step a line came from.</summary>
public enum StepOutputKind
{
    /// <summary>The step's standard output.</summary>
    Stdout,

    /// <summary>The step's standard error.</summary>
    Stderr,
}

/// <summary>One line the step printed, delivered live while it runs.</summary>
public readonly record struct StepOutputLine(StepOutputKind Kind, string Text);
