using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using Dbuild.Oci;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild version [-f '{{json .}}']</c>: docker version's Client block (version, git commit, runtime, OS/Arch).</summary>
internal static class VersionCommand
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public static Command Create()
    {
        Option<string?> format = new("--format", "-f") { Description = "'{{json .}}' prints the information as JSON." };
        var command = new Command("version", "Show the dbuild version information.") { format };
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(parseResult, token =>
        {
            (string version, string? commit) = ClientVersion();
            var client = new Dictionary<string, string?>
            {
                ["Version"] = version,
                ["GitCommit"] = commit,
                ["DotnetVersion"] = RuntimeInformation.FrameworkDescription,
                ["Os"] = Platform.Current.Os,
                ["Arch"] = Platform.Current.Architecture,
            };
            if (JsonFormat.Requested(parseResult.GetValue(format)))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["Client"] = client }, Json));
                return Task.FromResult(ExitCodes.Ok);
            }
            Console.Write($"""
                Client:
                 Version:           {version}
                 Git commit:        {commit ?? "unknown"}
                 .NET version:      {RuntimeInformation.FrameworkDescription}
                 OS/Arch:           {Platform.Current.Os}/{Platform.Current.Architecture}

                """);
            return Task.FromResult(ExitCodes.Ok);
        }, cancellationToken));
        return command;
    }

    /// <summary>The version, and the commit the build recorded after '+' in the informational version (docker's 7 characters).</summary>
    internal static (string Version, string? Commit) ClientVersion()
    {
        string informational = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? (informational, null) : (informational[..plus], informational[(plus + 1)..] is { Length: >= 7 } sha ? sha[..7] : null);
    }
}
