using Dbuild.Testing;

namespace Dbuild.Dockerfile.Tests;

/// <summary>
/// Every published official image (and every modern file) builds upstream, so its instructions (flags, mounts,
/// durations) must be valid for dbuild too. Other builders' test inputs include deliberately bad files: those may
/// fail, but only with a <see cref="DockerfileSyntaxException"/>. The model and the checks run over every file that
/// parses; a FROM that needs a build arg may fail there with a syntax error, nothing else.
/// </summary>
public sealed class CorpusInstructionTests
{
    [Fact]
    public void Instructions_WholeCorpus_ValidOrSyntaxError()
    {
        string corpus = SharedData.RequireCorpus();
        var failures = new List<string>();
        int tolerated = 0, checkedFiles = 0;
        foreach (string relative in SharedData.CorpusFiles())
        {
            ParsedDockerfile parsed = DockerfileParser.ParseFile(Path.Combine(corpus, relative));
            bool strict = !relative.StartsWith("builder-testdata/", StringComparison.Ordinal);
            try
            {
                _ = InstructionParser.ParseAll(parsed);
            }
            catch (DockerfileSyntaxException ex)
            {
                if (strict) { failures.Add($"{relative}: {ex.Message}"); } else { tolerated++; }
                continue;
            }
            try
            {
                DockerfileModel model = DockerfileModel.Create(parsed);
                foreach (Stage stage in model.Stages) { _ = model.Evaluate(stage); }
                _ = BuildChecker.Run(parsed);
                checkedFiles++;
            }
            catch (DockerfileSyntaxException ex) when (ex.Reason.Contains("should not be blank", StringComparison.Ordinal) || !strict)
            {
                tolerated++;
            }
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{checkedFiles} files modelled and checked, {tolerated} builder test inputs rejected as BuildKit would");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.True(checkedFiles > 1100);
    }
}
