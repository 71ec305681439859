using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dbuild.Runtime;
using Dbuild.Solver.Cache;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild info [-f '{{json .}}']</c>, in docker info's spirit: the client, then what the builder has (images, store
/// and build cache sizes, state root, runtimes) and the machine and registry settings it works with.
/// </summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        Option<string?> format = new("--format", "-f") { Description = "'{{json .}}' prints the information as JSON." };
        var command = new Command("info", "Display system-wide information.") { format };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            bool json = JsonFormat.Requested(parseResult.GetValue(format));
            string root = GlobalOptions.ResolveRoot(parseResult);
            CacheUsageReport usage = Directory.Exists(root) ? await CacheUsage.ScanAsync(root, exact: false, token) : new CacheUsageReport(0, 0, []);
            string configPath = BuildCommand.DockerConfigPath();
            var info = new JsonObject
            {
                ["ClientVersion"] = VersionCommand.ClientVersion().Version,
                ["DebugMode"] = parseResult.GetValue(GlobalOptions.Debug),
                ["Images"] = usage.ImageCount,
                ["StoreSize"] = usage.ImagesSize,
                ["BuildCacheSize"] = usage.Entries.Sum(e => e.Size),
                ["DbuildRootDir"] = root,
                ["Runtimes"] = new JsonArray([.. InstalledRuntimes.Find().Select(r => (JsonNode)r.Name)]),
                ["DefaultRuntime"] = Environment.GetEnvironmentVariable("DBUILD_RUNTIME") is { Length: > 0 } chosen ? chosen : "auto",
                ["OperatingSystem"] = OsName(),
                ["OSType"] = "linux",
                ["Architecture"] = Machine(),
                ["NCPU"] = Environment.ProcessorCount,
                ["MemTotal"] = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
                ["CredentialsFile"] = configPath,
                ["LoggedInRegistries"] = new JsonArray([.. await LoggedInAsync(configPath, token)]),
                ["InsecureRegistries"] = new JsonArray([.. InsecureRegistries().Select(r => (JsonNode)r)]),
            };
            Console.Write(json ? info.ToJsonString() + "\n" : Text(info));
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static string Text(JsonObject info)
    {
        string S(string key) => info[key]?.ToString() ?? "";
        long L(string key) => info[key]!.GetValue<long>();
        IEnumerable<string> List(string key) => info[key]!.AsArray().Select(n => n!.ToString());
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Client:\n Version:    {S("ClientVersion")}\n Debug Mode: {S("DebugMode").ToLowerInvariant()}\n\n");
        text.Append(CultureInfo.InvariantCulture, $"""
            Builder:
             Images: {S("Images")}
             Store Size: {HumanUnits.Size(L("StoreSize"))}
             Build Cache Size: {HumanUnits.Size(L("BuildCacheSize"))}
             Dbuild Root Dir: {S("DbuildRootDir")}
             Runtimes: {string.Join(' ', List("Runtimes"))}
             Default Runtime: {S("DefaultRuntime")}
             Operating System: {S("OperatingSystem")}
             OSType: {S("OSType")}
             Architecture: {S("Architecture")}
             CPUs: {S("NCPU")}
             Total Memory: {HumanUnits.Size(L("MemTotal"))}
             Credentials File: {S("CredentialsFile")}

            """);
        text.Append(" Logged In Registries:\n");
        foreach (string registry in List("LoggedInRegistries")) { text.Append("  ").Append(registry).Append('\n'); }
        text.Append(" Insecure Registries:\n");
        foreach (string registry in List("InsecureRegistries")) { text.Append("  ").Append(registry).Append('\n'); }
        return text.ToString();
    }

    /// <summary>Loopback is always plain HTTP (docker's default 127.0.0.0/8), plus DBUILD_INSECURE_REGISTRIES.</summary>
    private static IEnumerable<string> InsecureRegistries() =>
        ["127.0.0.0/8", .. (Environment.GetEnvironmentVariable("DBUILD_INSECURE_REGISTRIES") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static async Task<IEnumerable<JsonNode>> LoggedInAsync(string configPath, CancellationToken token)
    {
        if (!File.Exists(configPath)) { return []; }
        try
        {
            JsonNode? config = JsonNode.Parse(await File.ReadAllTextAsync(configPath, token));
            return config?["auths"] is JsonObject auths ? [.. auths.Select(a => (JsonNode)a.Key).Order()] : [];
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{configPath} is not valid JSON: {ex.Message}", ex);
        }
    }

    private static string OsName()
    {
        const string OsRelease = "/etc/os-release";
        string? pretty = File.Exists(OsRelease)
            ? File.ReadLines(OsRelease).FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"')
            : null;
        return pretty ?? RuntimeInformation.OSDescription;
    }

    /// <summary>uname's machine name, as docker info prints it.</summary>
    private static string Machine() => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "x86_64",
        Architecture.Arm64 => "aarch64",
        Architecture.Arm => "armv7l",
        Architecture.S390x => "s390x",
        Architecture.Ppc64le => "ppc64le",
        Architecture.RiscV64 => "riscv64",
        var other => other.ToString().ToLowerInvariant(),
    };
}
