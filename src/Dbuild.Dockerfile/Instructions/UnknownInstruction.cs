namespace Dbuild.Dockerfile;

/// <summary>A keyword BuildKit does not know. Only produced when <see cref="InstructionParser"/> is lenient.</summary>
public sealed record UnknownInstruction : Instruction;
