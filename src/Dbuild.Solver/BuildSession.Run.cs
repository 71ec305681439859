using Dbuild.Oci;
using Dbuild.Runtime;

namespace Dbuild.Solver;

internal sealed partial class BuildSession
{
    private async Task<string?> RunAsync(StagePlan stage, StageState state, Instruction i, string name, Digest stepId, string? pendingReason,
        CancellationToken cancellationToken)
    {
        List<string> args;
        if (i.IsJson) { args = [.. i.Args]; }
        else
        {
            string command = string.Join(' ', i.Args);
            if (i.Heredocs.Count > 0)
            {
                Dbuild.Dockerfile.Heredoc first = i.Heredocs[0];
                bool scriptOnly = command.TrimStart().StartsWith("<<", StringComparison.Ordinal) && i.Heredocs.Count == 1;
                command = scriptOnly ? first.EffectiveContent
                    : command + "\n" + string.Concat(i.Heredocs.Select(h => h.Content + h.Name + "\n"));
            }
            args = [.. state.Shell ?? ["/bin/sh", "-c"], command];
        }
        var argsInScope = state.Args.Where(a => a.Value is not null).ToList();
        var env = new List<string>(state.Env);
        foreach (var a in argsInScope)
        {
            if (state.GetEnv(a.Key) is null) { env.Add($"{a.Key}={a.Value}"); }
        }
        string network = i.Flag("network") ?? "default";
        var key = new CacheKeyBuilder()
            .Add("parent", state.Key.ToString())
            .Add("command", string.Join('\0', args))
            .Add("env", string.Join('\0', state.Env))
            .Add("user", state.User ?? "")
            .Add("workdir", state.WorkingDir)
            .Add("network", network)
            .Add("mounts", string.Join(' ', i.FlagValues("mount")));
        foreach (var a in argsInScope) { key.Add("build-arg " + a.Key, a.Value!); }
        string prefix = argsInScope.Count > 0 ? $"|{argsInScope.Count} {string.Join(' ', argsInScope.Select(a => $"{a.Key}={a.Value}"))} " : "";
        string history = $"RUN {prefix}{string.Join(' ', args)} # buildkit";
        IReadOnlyList<LayerRef> layers = [.. state.Layers];
        return await RunCachedStepAsync(stage, state, name, stepId, key, pendingReason, async (vertex, ct) =>
        {
            IStepExecutor executor = _options.Executor ?? throw new BuildException(
                $"{_request.DockerfileName}:{i.Line}: RUN needs a container runtime, and none is configured (install runc or crun).");
            var request = new StepRequest
            {
                Layers = [.. layers.Select(l => new LayerSource(l.DiffId, _ => Task.FromResult(_store.OpenBlob(l.Blob.Digest))))],
                Args = args,
                Env = env,
                WorkingDirectory = state.WorkingDir,
                User = state.User,
                Network = network switch { "none" => StepNetwork.None, "host" => StepNetwork.Host, _ => StepNetwork.Default },
                Mounts = Mounts(i, state),
                Output = line => vertex.Log(line.Text),
                DisplayName = name,
                Compression = _request.Compression,
                SourceDateEpoch = _request.SourceDateEpoch,
            };
            StepResult result;
            // The runtime's snapshot store is not safe for concurrent use by several builds on one state root yet:
            // RUN steps take a root-wide lock (file ops and other stages still run in parallel).
            FileStream runLock = await RootLock.AcquireAsync(Path.Combine(_options.StateRoot, "locks", "run.lock"), ct).ConfigureAwait(false);
            try { result = await executor.RunAsync(request, ct).ConfigureAwait(false); }
            catch (StepFailedException ex)
            {
                throw new BuildException($"process \"{string.Join(' ', args)}\" did not complete successfully: exit code: {ex.ExitCode}" +
                    (ex.LastLines.Count > 0 ? "\n" + string.Join('\n', ex.LastLines.TakeLast(10)) : ""), ex);
            }
            finally { await runLock.DisposeAsync().ConfigureAwait(false); }
            if (result.Layer is not { } layer || result.LayerPath is null) { return null; }
            return await IngestAsync(result.LayerPath, layer, ct).ConfigureAwait(false);
        }, layer => { if (layer is not null) { state.Tree = null; } }, history, cancellationToken).ConfigureAwait(false);
    }

    private List<StepMount> Mounts(Instruction i, StageState state)
    {
        var mounts = new List<StepMount>();
        foreach (string spec in i.FlagValues("mount"))
        {
            var fields = spec.Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p.Length > 1 ? p[1] : "true", StringComparer.Ordinal);
            string type = fields.GetValueOrDefault("type", "bind");
            string? target = fields.GetValueOrDefault("target") ?? fields.GetValueOrDefault("dst") ?? fields.GetValueOrDefault("destination");
            switch (type)
            {
                case "secret":
                    {
                        string id = fields.GetValueOrDefault("id") ?? Path.GetFileName(target ?? "");
                        if (!_request.Secrets.TryGetValue(id, out ReadOnlyMemory<byte> value))
                        {
                            if (fields.GetValueOrDefault("required") == "true") { throw new BuildException($"secret {id} not found; pass --secret id={id},src=FILE"); }
                            continue;
                        }
                        mounts.Add(new SecretMount { Id = id, Value = value, Target = target ?? "/run/secrets/" + id, EnvironmentVariable = fields.GetValueOrDefault("env"), FileMount = fields.ContainsKey("env") ? target is not null : true });
                        break;
                    }
                case "cache":
                    mounts.Add(new CacheMount { Id = fields.GetValueOrDefault("id") ?? target ?? "", Target = target ?? throw new BuildException("--mount=type=cache needs target=") });
                    break;
                case "tmpfs":
                    mounts.Add(new TmpfsMount { Target = target ?? throw new BuildException("--mount=type=tmpfs needs target=") });
                    break;
                default:
                    throw new BuildException($"RUN --mount=type={type} is not supported yet.");
            }
        }
        _ = state;
        return mounts;
    }
}
