using System.Runtime.InteropServices;

namespace Dbuild.Cli;

/// <summary>
/// dbuild runs with tiered compilation off (Dbuild.Cli.csproj): a build lives a few seconds, and re-compiling its hot
/// ReadyToRun methods at tier 1 cost a cold build ~15% of its CPU on two cores. A server lives for days, and tier 1
/// serves a manifest GET for ~15% less CPU than ReadyToRun code. So <c>dbuild registry serve</c> replaces itself, before
/// anything else runs, with the same command line and <c>DOTNET_TieredCompilation=1</c> (execve: same process id, same
/// descriptors, so signals, systemd and the caller's wait see no difference). A user's own DOTNET_TieredCompilation wins.
/// Two more settings come with it, each only when the user has not set it: dynamic PGO (<c>DOTNET_TieredPGO=1</c>, ~5%
/// more manifest GETs per second under bench/registry/load.sh) and a 32 MiB gen0 budget (<c>DOTNET_GCgen0size</c>, which
/// only an environment variable sets: ~8% more, for ~35 MB more peak RSS; the default budget here collected so often
/// that the GC was a tenth of a manifest GET's CPU).
/// </summary>
internal static partial class ServerTiering
{
    private const string Variable = "DOTNET_TieredCompilation";
    private static readonly (string Name, string Value)[] ServerSettings = [("DOTNET_TieredPGO", "1"), ("DOTNET_GCgen0size", "0x2000000")];

    public static void ReExecIfServing(string[] args)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(Variable) is not null || !IsServe(args)) { return; }
        if (AppContext.GetData("System.Runtime.TieredCompilation") is not (false or "false")) { return; }
        string? path = Environment.ProcessPath;
        string[] argv = ReadOwnCommandLine();
        if (path is null || argv.Length == 0) { return; }
        var environment = new List<string>();
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables()) { environment.Add($"{entry.Key}={entry.Value}"); }
        environment.Add($"{Variable}=1");
        foreach ((string name, string value) in ServerSettings)
        {
            if (Environment.GetEnvironmentVariable(name) is null) { environment.Add($"{name}={value}"); }
        }
        Execve(path, [.. argv, null], [.. environment, null]);
        // Only reached when execve failed: serve as is, a little slower.
    }

    /// <summary><c>registry serve</c> after any global options (<c>--root DIR</c>, <c>--debug</c>).</summary>
    internal static bool IsServe(string[] args)
    {
        int i = 0;
        while (i < args.Length && args[i].StartsWith('-'))
        {
            i += args[i] == "--root" ? 2 : 1;
        }
        return i + 1 < args.Length && args[i] == "registry" && args[i + 1] == "serve";
    }

    internal static string[] ReadOwnCommandLine()
    {
        try
        {
            string text = File.ReadAllText("/proc/self/cmdline");
            return text.TrimEnd('\0').Split('\0');
        }
        catch (IOException) { return []; }
    }

    [LibraryImport("libc", EntryPoint = "execve", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Execve(string path, string?[] argv, string?[] envp);
}
