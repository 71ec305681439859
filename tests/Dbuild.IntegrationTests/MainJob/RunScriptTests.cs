using Dbuild.Testing;

namespace Dbuild.IntegrationTests.MainJob;

/// <summary>The README's first command (run.sh) does the main job end to end on this machine.</summary>
public sealed class RunScriptTests
{
    [Fact]
    public async Task RunScript_BuildsPushesPullsAndRunsTheExample()
    {
        Prerequisites.RequireRoot("run.sh sets up dockerd and runs RUN steps through runc as root");
        Prerequisites.RequireDocker();
        ProcessResult result = await ProcessRunner.RunAsync("bash", [Path.Combine(RepositoryPaths.Root, "run.sh")], TestContext.Current.CancellationToken,
            environment: new Dictionary<string, string?> { ["ArtifactsPath"] = Path.Combine(Path.GetTempPath(), "dbuild-runsh-artifacts") },
            workingDirectory: RepositoryPaths.Root, timeout: TimeSpan.FromMinutes(8));
        result.EnsureSuccess();
        Assert.Contains("hello from a dbuild multi-stage build", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("pushing 127.0.0.1:", result.StandardError, StringComparison.Ordinal); // progress goes to stderr, as with buildx
        Assert.Contains("== done", result.StandardOutput, StringComparison.Ordinal);
    }
}
