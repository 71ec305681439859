namespace Dbuild.Dockerfile;

/// <summary>Expands one stage's instructions in order while tracking ARG and ENV (see <see cref="DockerfileModel.Evaluate"/>).</summary>
internal sealed class StageEvaluator(DockerfileModel model, Stage stage, Dictionary<string, string> env)
{
    public IReadOnlyList<EvaluatedInstruction> Run()
    {
        var scope = new StageScope(model, env);
        var result = new List<EvaluatedInstruction>(stage.Instructions.Count);
        foreach (Instruction instruction in stage.Instructions)
        {
            Instruction expanded = scope.Expand(instruction);
            result.Add(new EvaluatedInstruction(expanded, new Dictionary<string, string>(scope.Environment, StringComparer.Ordinal), scope.BuildArgs(), scope.UndefinedVariables));
        }
        return result;
    }
}
