using Dbuild.Dockerfile;
using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Frontend;

/// <summary>
/// RUN to an exec op: the command (exec form, or the shell form in the stage's SHELL, with heredocs), the environment
/// (ENV, then the ARGs in scope), user, working directory, network, and each <c>--mount</c> checked here: targets,
/// sources (the context, a named context, a stage, an image), and secrets and ssh keys that are required.
/// </summary>
internal sealed class RunLowering(LoweringScope scope, StagePlan plan, IReadOnlyList<StagePlan> plans)
{
    /// <returns>The stage's filesystem op after the RUN.</returns>
    public OpNode Lower(RunInstruction raw, RunInstruction i, StageScope stageScope, StageState config, OpNode rootfs, string name, StepOrigin origin)
    {
        RequireEntitlements(i);
        List<string> args = Args(i, config);
        var buildArgs = stageScope.Args.Where(a => a.Value is not null).Select(a => new KeyValuePair<string, string>(a.Key, a.Value!)).ToList();
        var proxies = scope.Model.Options.BuildArgs
            .Where(kv => BuildOptions.ProxyArgs.Contains(kv.Key) && !buildArgs.Any(b => b.Key == kv.Key)).OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var mounts = new List<ExecMount>();
        for (int k = 0; k < i.Mounts.Count; k++)
        {
            string? from = k < raw.Mounts.Count && raw.Mounts[k].From is { } f ? scope.ExpandGlobal(i, f) : i.Mounts[k].From;
            mounts.Add(Mount(i.Mounts[k], from, i, config));
        }
        ExecOp exec = scope.Graph.Add(new ExecOp
        {
            Parent = rootfs,
            Args = args,
            ImageEnv = [.. config.Env],
            BuildArgs = buildArgs,
            ProxyEnv = proxies,
            User = config.User,
            WorkingDirectory = config.WorkingDir,
            Network = i.Network switch { NetworkMode.None => "none", NetworkMode.Host => "host", _ => scope.Request.DefaultNetwork },
            ExtraHosts = scope.Request.ExtraHosts,
            Security = i.Security,
            MountSpecs = string.Join(' ', raw.MountSpecs),
            Mounts = mounts,
            Name = name,
            Origin = origin,
        });
        string prefix = buildArgs.Count > 0 ? $"|{buildArgs.Count} {string.Join(' ', buildArgs.Select(a => $"{a.Key}={a.Value}"))} " : "";
        config.AddHistory($"RUN {prefix}{string.Join(' ', args)} # buildkit", scope.Now, exec);
        return exec;
    }

    /// <summary>A step that needs a privilege the build was not granted (<c>--allow</c>) stops the build before anything runs.</summary>
    private void RequireEntitlements(RunInstruction i)
    {
        if (i.Network == NetworkMode.Host && !scope.Request.Entitlements.Contains(Entitlements.NetworkHost))
        {
            throw scope.Error(i, $"{Entitlements.NetworkHost} is not allowed", "network");
        }
        if (i.Security == SecurityMode.Insecure && !scope.Request.Entitlements.Contains(Entitlements.SecurityInsecure))
        {
            throw scope.Error(i, $"{Entitlements.SecurityInsecure} is not allowed", "security");
        }
    }

    /// <summary>The process arguments: exec form as written; shell form (a heredoc script, or a command feeding heredocs) in the stage's SHELL.</summary>
    private static List<string> Args(RunInstruction i, StageState config)
    {
        if (!i.Command.PrependShell) { return [.. i.Command.Arguments]; }
        string command = string.Join(' ', i.Command.Arguments);
        if (i.Heredocs.Count > 0)
        {
            Heredoc first = i.Heredocs[0];
            bool scriptOnly = command.TrimStart().StartsWith("<<", StringComparison.Ordinal) && i.Heredocs.Count == 1;
            command = scriptOnly ? first.EffectiveContent : command + "\n" + string.Concat(i.Heredocs.Select(h => h.Content + h.Name + "\n"));
        }
        return [.. config.Shell ?? ["/bin/sh", "-c"], command];
    }

    private ExecMount Mount(RunMount m, string? from, RunInstruction i, StageState config)
    {
        string? target = Target(m.Target, config, i);
        string sub = RelativeSubPath(m.Source);
        switch (m.Type)
        {
            case MountType.Bind or MountType.Cache:
                {
                    if (target is null) { throw scope.Error(i, $"--mount=type={m.Type.ToString().ToLowerInvariant()} needs target=", "mount"); }
                    if (from is null)
                    {
                        return m.Type == MountType.Bind ? new ExecMount(m, target) { Source = scope.MainContext, SubPath = sub, SourceDescription = "context" } : new ExecMount(m, target);
                    }
                    (OpNode source, string description) = scope.SourceOp(from, plan, plans, i);
                    return new ExecMount(m, target) { Source = source, SubPath = sub, SourceDescription = description };
                }
            case MountType.Tmpfs:
                return new ExecMount(m, target ?? throw scope.Error(i, "--mount=type=tmpfs needs target=", "mount"));
            case MountType.Secret:
                {
                    string id = m.Id ?? "";
                    if (m.Required && !scope.Request.Secrets.ContainsKey(id)) { throw scope.Error(i, $"secret {id} not found; pass --secret id={id},src=FILE", "mount"); }
                    return new ExecMount(m, target);
                }
            case MountType.Ssh:
                {
                    string id = m.Id ?? "default";
                    if (m.Required && !scope.Request.SshSockets.ContainsKey(id)) { throw scope.Error(i, $"no SSH key {id} forwarded; pass --ssh {id}[=SOCKET]", "mount"); }
                    return new ExecMount(m, target);
                }
            default:
                throw scope.Error(i, $"RUN --mount=type={m.Type.ToString().ToLowerInvariant()} is not supported.", "mount");
        }
    }

    /// <summary>BuildKit: a relative target is under WORKDIR; the root itself cannot be a mount target.</summary>
    private string? Target(string? target, StageState config, RunInstruction i)
    {
        if (target is null) { return null; }
        string path = "/" + RelativeSubPath(target.StartsWith('/') ? target : config.WorkingDir.TrimEnd('/') + "/" + target);
        return path == "/" ? throw scope.Error(i, $"invalid mount target \"{target}\"", "mount") : path;
    }

    /// <summary>A clean path relative to a root: no leading slash, no <c>.</c>, <c>..</c> never above the root.</summary>
    private static string RelativeSubPath(string? path)
    {
        var parts = new List<string>();
        foreach (string part in (path ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") { continue; }
            if (part == "..") { if (parts.Count > 0) { parts.RemoveAt(parts.Count - 1); } continue; }
            parts.Add(part);
        }
        return string.Join('/', parts);
    }
}
