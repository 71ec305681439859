using Dbuild.Dockerfile;

namespace Dbuild.Cli.Commands;

/// <summary>Runs the Dockerfile build checks and prints them BuildKit-style for <c>dbuild build --check</c>.</summary>
internal static class BuildChecksReporter
{
    /// <summary>
    /// Prints one <c>Dockerfile:LINE RuleName: message</c> line per fired check to <paramref name="output"/> and
    /// returns 1 when any fired, else 0. The .dockerignore is looked up beside the Dockerfile
    /// (<c>&lt;name&gt;.dockerignore</c> first). A Dockerfile syntax error propagates as <see cref="DockerfileSyntaxException"/>.
    /// </summary>
    public static async Task<int> ReportAsync(string dockerfilePath, IReadOnlyDictionary<string, string> buildArgs, string? target,
        TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dockerfilePath);
        ArgumentNullException.ThrowIfNull(buildArgs);
        ArgumentNullException.ThrowIfNull(output);
        byte[] bytes = await File.ReadAllBytesAsync(dockerfilePath, cancellationToken);
        ParsedDockerfile parsed = DockerfileParser.Parse(bytes, Path.GetFileName(dockerfilePath));
        string contextDirectory = Path.GetDirectoryName(Path.GetFullPath(dockerfilePath)) ?? ".";
        var options = new BuildCheckOptions
        {
            Build = new BuildOptions { BuildArgs = buildArgs, Target = target },
            Ignore = DockerIgnore.Load(contextDirectory, Path.GetFullPath(dockerfilePath)),
        };
        BuildCheckReport report = BuildChecker.Run(parsed, options);
        foreach (BuildCheck check in report.Checks)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await output.WriteLineAsync($"{check.File}:{check.Line} {check.RuleName}: {check.Message}");
        }
        return report.Checks.Count > 0 ? ExitCodes.Failed : ExitCodes.Ok;
    }
}
