using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Dbuild.Runtime;

namespace Dbuild.Cli.Rootless;

/// <summary>
/// Rootless without a wrapper, as podman and buildah do it: a plain user with /etc/subuid and /etc/subgid ranges who runs
/// a verb that needs root of a user namespace (RUN steps, or reading and deleting snapshots whose files belong to
/// mapped ids) gets one. The process replaces itself (execve: same process id, descriptors, environment, so the caller
/// sees the same stdin/stdout/stderr, exit code and signals) with util-linux's <c>unshare</c>, which makes a user and a
/// mount namespace, maps the user to 0 and the first subordinate range to 1… through newuidmap/newgidmap (podman's
/// layout), and runs the same command line again inside. A probe with the same mapping comes first: where user
/// namespaces are refused, the command goes on unmapped (a build without RUN steps still works) and a RUN says why.
/// <see cref="GuardVariable"/> keeps the inner dbuild from entering again.
/// </summary>
internal static class UserNamespaceEntry
{
    /// <summary>Set in the inner dbuild's environment: it is in the namespace its parent made.</summary>
    internal const string GuardVariable = "_DBUILD_USERNS";

    /// <summary>The verbs that run steps or touch snapshots (files owned by mapped ids).</summary>
    private static readonly string[] Verbs = ["build", "builder prune", "system df", "info"];

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Enters the namespace when <paramref name="parsed"/>'s verb needs it; returns only when it does not (or cannot).</summary>
    public static void EnterIfNeeded(ParseResult parsed)
    {
        if (!OperatingSystem.IsLinux() || !NeedsNamespace(parsed) || Environment.GetEnvironmentVariable(GuardVariable) is not null) { return; }
        Enter();
    }

    /// <summary>The verb path (<c>builder prune</c>) is one that runs steps or touches snapshots.</summary>
    internal static bool NeedsNamespace(ParseResult parsed)
    {
        if (parsed.Action is HelpAction) { return false; }
        var names = new List<string>();
        for (CommandResult? command = parsed.CommandResult; command?.Parent is not null; command = command.Parent as CommandResult)
        {
            names.Insert(0, command.Command.Name);
        }
        return Verbs.Contains(string.Join(' ', names), StringComparer.Ordinal);
    }

    [SupportedOSPlatform("linux")]
    private static void Enter()
    {
        if (!RootlessSetup.IsHostUser) { return; } // root, or already root of a user namespace (rootlesskit, unshare)
        IReadOnlyList<SubordinateRange> uids = RootlessSetup.ForCurrentUser(RootlessSetup.SubuidFile);
        IReadOnlyList<SubordinateRange> gids = RootlessSetup.ForCurrentUser(RootlessSetup.SubgidFile);
        // Without ranges or helpers, go on as a plain user: a RUN step says what to add or install.
        if (uids.Count == 0 || gids.Count == 0 || RootlessSetup.FindHelper("newuidmap") is null || RootlessSetup.FindHelper("newgidmap") is null) { return; }
        if (RootlessSetup.FindHelper("unshare") is not { } unshare) { return; }
        string[] flags = ["--map-root-user", $"--map-users={uids[0].Start},1,{uids[0].Count}", $"--map-groups={gids[0].Start},1,{gids[0].Count}",
            "--mount", "--propagation", "private"];
        if (Probe(unshare, flags) is { } failure)
        {
            RootlessSetup.EntryFailure = failure;
            return;
        }
        string? path = Environment.ProcessPath;
        string[] argv = ServerTiering.ReadOwnCommandLine();
        if (path is null || argv.Length == 0) { return; }
        var environment = new List<string>();
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables()) { environment.Add($"{entry.Key}={entry.Value}"); }
        environment.Add($"{GuardVariable}=1");
        // Inside, the user is root, whose passwd home is not theirs: the state root must resolve as it does out here.
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("HOME"))) { environment.Add("HOME=" + Environment.GetFolderPath(Environment.SpecialFolder.UserProfile)); }
        ServerTiering.Execve(unshare, [unshare, .. flags, "--", path, .. argv.Skip(1), null], [.. environment, null]);
        RootlessSetup.EntryFailure = $"execve {unshare} failed (errno {Marshal.GetLastPInvokeError()})"; // only reached on failure
    }

    /// <summary>Runs <c>unshare FLAGS -- true</c>: null when the mapping works here, else unshare's (or newuidmap's) complaint.</summary>
    private static string? Probe(string unshare, string[] flags)
    {
        var start = new ProcessStartInfo(unshare) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (string flag in flags) { start.ArgumentList.Add(flag); }
        start.ArgumentList.Add("--");
        start.ArgumentList.Add("true");
        try
        {
            using Process process = Process.Start(start)!;
            process.StandardInput.Close();
            Task<string> error = process.StandardError.ReadToEndAsync();
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(ProbeTimeout))
            {
                process.Kill();
                return $"{unshare} did not finish in {ProbeTimeout.TotalSeconds:0} s";
            }
            process.WaitForExit();
            string message = string.Join(' ', (error.Result + output.Result).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            return process.ExitCode == 0 ? null : message.Length > 0 ? message : $"{unshare} exited with {process.ExitCode}";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"{unshare}: {ex.Message}";
        }
    }
}
