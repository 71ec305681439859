using System.Globalization;
using System.Text;
using Dbuild.Dockerfile;
using Dbuild.Oci;

namespace Dbuild.Solver.Frontend;

/// <summary>
/// The instructions that only change the image config (ENV, LABEL, USER, EXPOSE, VOLUME, STOPSIGNAL, MAINTAINER,
/// SHELL, CMD, ENTRYPOINT, HEALTHCHECK, ONBUILD, ARG), applied to a stage's config with the history line BuildKit
/// writes for each.
/// </summary>
internal static class ConfigInstructions
{
    /// <summary>Applies <paramref name="instruction"/> (already expanded); returns its history line, or null when BuildKit writes none (ONBUILD).</summary>
    public static string? Apply(StageState state, Instruction instruction)
    {
        switch (instruction)
        {
            case EnvInstruction env:
                foreach (KeyValue pair in env.Pairs) { state.SetEnv(pair.Key, pair.Value); }
                return "ENV " + string.Join(' ', env.Pairs.Select(p => $"{p.Key}={p.Value}"));
            case ArgInstruction arg:
                return "ARG " + string.Join(' ', arg.Args.Select(a => a.DefaultValue is null ? a.Name : $"{a.Name}={a.DefaultValue}"));
            case LabelInstruction label:
                foreach (KeyValue pair in label.Pairs) { state.Labels[pair.Key] = pair.Value; }
                return "LABEL " + string.Join(' ', label.Pairs.Select(p => $"{p.Key}={p.Value}"));
            case UserInstruction user:
                state.User = user.User;
                return "USER " + user.User;
            case ExposeInstruction expose:
                {
                    var ports = new SortedSet<string>(StringComparer.Ordinal);
                    foreach (string port in expose.Ports.SelectMany(Ports))
                    {
                        ports.Add(port);
                        state.ExposedPorts[port] = EmptyObject.Instance;
                    }
                    return "EXPOSE map[" + string.Join(' ', ports.Select(p => p + ":{}")) + "]";
                }
            case VolumeInstruction volume:
                {
                    var volumes = volume.Volumes.Where(v => v.Length > 0).ToList();
                    foreach (string v in volumes) { state.Volumes[v] = EmptyObject.Instance; }
                    return "VOLUME " + GoSlice(volumes);
                }
            case StopSignalInstruction stop:
                state.StopSignal = stop.Signal;
                return "STOPSIGNAL " + stop.Signal;
            case MaintainerInstruction maintainer:
                state.Author = maintainer.Maintainer;
                return "MAINTAINER " + maintainer.Maintainer;
            case ShellInstruction shell:
                state.Shell = [.. shell.Shell];
                return "SHELL " + GoSlice(shell.Shell);
            case CmdInstruction cmd:
                state.Cmd = CommandLine(cmd.Command, state);
                state.CmdSet = true;
                if (state.Cmd.Count == 0) { state.Cmd = null; } // CMD [] leaves Cmd out of the config
                state.ArgsEscaped = true;
                return "CMD " + GoQuoted(state.Cmd ?? []);
            case EntrypointInstruction entrypoint:
                state.Entrypoint = CommandLine(entrypoint.Command, state);
                if (!state.CmdSet) { state.Cmd = null; }
                state.ArgsEscaped = true;
                return "ENTRYPOINT " + GoQuoted(state.Entrypoint);
            case HealthcheckInstruction health:
                return Healthcheck(state, health);
            case OnbuildInstruction onbuild:
                {
                    string trigger = onbuild.Expression.Trim();
                    int space = trigger.IndexOf(' ', StringComparison.Ordinal);
                    state.OnBuild.Add(space < 0 ? trigger.ToUpperInvariant() : trigger[..space].ToUpperInvariant() + trigger[space..]);
                    return null; // BuildKit writes no history entry for ONBUILD
                }
            default:
                throw new InvalidOperationException($"{instruction.Keyword} is not a config instruction.");
        }
    }

    /// <summary>The command as the config holds it: exec form as written, shell form wrapped in the stage's SHELL.</summary>
    public static List<string> CommandLine(Dbuild.Dockerfile.CommandLine command, StageState state) =>
        command.PrependShell ? [.. state.Shell ?? ["/bin/sh", "-c"], string.Join(' ', command.Arguments)] : [.. command.Arguments];

    /// <summary>One EXPOSE word as ports: <c>80</c> is 80/tcp, <c>8000-8002/udp</c> one port each, as BuildKit.</summary>
    private static IEnumerable<string> Ports(string word)
    {
        string spec = word.Contains('/', StringComparison.Ordinal) ? word.ToLowerInvariant() : word + "/tcp";
        int slash = spec.IndexOf('/', StringComparison.Ordinal);
        string proto = spec[(slash + 1)..];
        string range = spec[..slash];
        int dash = range.IndexOf('-', StringComparison.Ordinal);
        return dash > 0
            && int.TryParse(range[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int low)
            && int.TryParse(range[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int high) && high >= low
            ? Enumerable.Range(low, high - low + 1).Select(p => $"{p.ToString(CultureInfo.InvariantCulture)}/{proto}")
            : [spec];
    }

    private static string Healthcheck(StageState state, HealthcheckInstruction health)
    {
        state.Healthcheck = health.Test is ["NONE"] ? new HealthConfig { Test = ["NONE"] } : new HealthConfig
        {
            Test = [.. health.Test],
            Interval = Nanoseconds(health.Interval),
            Timeout = Nanoseconds(health.Timeout),
            StartPeriod = Nanoseconds(health.StartPeriod),
            StartInterval = Nanoseconds(health.StartInterval),
            Retries = health.Retries,
        };
        HealthConfig h = state.Healthcheck;
        return $"HEALTHCHECK &{{[{string.Join(' ', (h.Test ?? []).Select(t => "\"" + t + "\""))}] \"{GoDuration(h.Interval)}\" \"{GoDuration(h.Timeout)}\" \"{GoDuration(h.StartPeriod)}\" '\\x{h.Retries:x2}'}}";
    }

    private static long Nanoseconds(TimeSpan value) => value.Ticks * 100;

    private static string GoDuration(long nanoseconds)
    {
        if (nanoseconds == 0) { return "0s"; }
        var t = TimeSpan.FromTicks(nanoseconds / 100);
        string s = "";
        if (t.TotalHours >= 1) { s += $"{(int)t.TotalHours}h"; }
        if (t.TotalMinutes >= 1) { s += $"{t.Minutes}m"; }
        double seconds = t.Seconds + t.Milliseconds / 1000.0;
        return s + seconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
    }

    /// <summary>Go's %v of a string slice: <c>[a b]</c>.</summary>
    public static string GoSlice(IEnumerable<string> values) => "[" + string.Join(' ', values) + "]";

    /// <summary>Go's %q of a string slice: <c>["a" "b c"]</c>.</summary>
    public static string GoQuoted(IEnumerable<string> values)
    {
        var sb = new StringBuilder("[");
        bool first = true;
        foreach (string v in values)
        {
            if (!first) { sb.Append(' '); }
            first = false;
            sb.Append('"');
            foreach (char c in v)
            {
                sb.Append(c switch { '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\t' => "\\t", '\r' => "\\r", _ => c.ToString() });
            }
            sb.Append('"');
        }
        return sb.Append(']').ToString();
    }
}
