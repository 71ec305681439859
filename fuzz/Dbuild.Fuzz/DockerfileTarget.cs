using Dbuild.Dockerfile;

namespace Dbuild.Fuzz;

/// <summary>
/// What <c>dbuild build --check</c> does with a Dockerfile: parse, parse every instruction, run the build checks (which
/// build the stage model), then evaluate every stage (ARG/ENV expansion) as lowering does. The only documented outcome
/// for bad input is <see cref="DockerfileSyntaxException"/> naming the line.
/// </summary>
internal static class DockerfileTarget
{
    public static void Run(byte[] input)
    {
        try
        {
            ParsedDockerfile parsed = DockerfileParser.Parse(input);
            _ = InstructionParser.ParseAll(parsed);
            _ = BuildChecker.Run(parsed);
            DockerfileModel model = DockerfileModel.Create(parsed);
            foreach (Stage stage in model.Stages) { _ = model.Evaluate(stage); }
        }
        catch (DockerfileSyntaxException ex) when (ex.Message.StartsWith("Dockerfile", StringComparison.Ordinal))
        {
            // the documented refusal, naming the file (and line when there is one)
        }
    }
}
