namespace Dbuild.Dockerfile;

/// <summary>An instruction after ARG/ENV expansion, with the environment it runs in.</summary>
/// <param name="Instruction">The instruction, expanded where BuildKit expands it (ADD, COPY, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ARG defaults, RUN --mount values).</param>
/// <param name="Environment">The image environment (base image + ENV) after this instruction.</param>
/// <param name="BuildArgs">ARG values in scope (and proxy build args), to pass to RUN as environment without persisting them.</param>
/// <param name="UndefinedVariables">Variables the expansion used that nothing defined.</param>
public sealed record EvaluatedInstruction(
    Instruction Instruction,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyDictionary<string, string> BuildArgs,
    IReadOnlyList<string> UndefinedVariables);
