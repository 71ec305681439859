namespace Dbuild.Dockerfile;

/// <summary><c>ONBUILD instruction</c>: the trigger is stored as text and validated as an instruction.</summary>
public sealed record OnbuildInstruction : Instruction
{
    /// <summary>The trigger's text, e.g. <c>RUN make</c>.</summary>
    public required string Expression { get; init; }

    /// <summary>The trigger, parsed.</summary>
    public required Instruction Trigger { get; init; }
}
