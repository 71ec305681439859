using Dbuild.Dockerfile;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
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
        // Resolved before the cache lookup: bind sources add their content (or their stage's key) to the key.
        List<Func<CancellationToken, Task<StepMount>>> mounts = await PrepareMountsAsync(stage, state, i, env, key, cancellationToken).ConfigureAwait(false);
        foreach (var a in argsInScope) { key.Add("build-arg " + a.Key, a.Value!); }
        string prefix = argsInScope.Count > 0 ? $"|{argsInScope.Count} {string.Join(' ', argsInScope.Select(a => $"{a.Key}={a.Value}"))} " : "";
        string history = $"RUN {prefix}{string.Join(' ', args)} # buildkit";
        IReadOnlyList<LayerRef> layers = [.. state.Layers];
        return await RunCachedStepAsync(stage, state, name, stepId, key, pendingReason, async (vertex, ct) =>
        {
            IStepExecutor executor = _options.Executor ?? throw new BuildException(
                $"{_request.DockerfileName}:{i.Line}: RUN needs a container runtime, and none is configured (install runc or crun).");
            var stepMounts = new List<StepMount>();
            foreach (var create in mounts) { stepMounts.Add(await create(ct).ConfigureAwait(false)); }
            var request = new StepRequest
            {
                Layers = [.. layers.Select(l => new LayerSource(l.DiffId, _ => Task.FromResult(_store.OpenBlob(l.Blob.Digest))))],
                Args = args,
                Env = env,
                WorkingDirectory = state.WorkingDir,
                User = state.User,
                Network = network switch { "none" => StepNetwork.None, "host" => StepNetwork.Host, _ => StepNetwork.Default },
                Mounts = stepMounts,
                Output = line => vertex.Log(line.Text),
                DisplayName = name,
                Compression = LayerCompression.None, // compressed at export, if the image needs it
                SourceDateEpoch = _request.SourceDateEpoch,
            };
            StepResult result;
            try { result = await executor.RunAsync(request, ct).ConfigureAwait(false); }
            catch (StepFailedException ex)
            {
                throw new BuildException($"process \"{string.Join(' ', args)}\" did not complete successfully: exit code: {ex.ExitCode}" +
                    (ex.LastLines.Count > 0 ? "\n" + string.Join('\n', ex.LastLines.TakeLast(10)) : ""), ex);
            }
            if (result.Layer is not { } layer || result.LayerPath is null) { return null; }
            return await IngestAsync(result.LayerPath, layer, ct).ConfigureAwait(false);
        }, layer => { if (layer is not null) { state.Tree = null; } }, history, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Parses the RUN's <c>--mount</c>s (BuildKit's defaults) and adds what they contribute to the step's key: a bind of
    /// the context adds the checksum of the bound files, a bind or cache <c>from=</c> adds that stage's or image's key.
    /// Secret values never enter the key. Returns one factory per mount, run only when the step executes.
    /// </summary>
    private async Task<List<Func<CancellationToken, Task<StepMount>>>> PrepareMountsAsync(StagePlan stage, StageState state, Instruction i,
        List<string> env, CacheKeyBuilder key, CancellationToken cancellationToken)
    {
        var mounts = new List<Func<CancellationToken, Task<StepMount>>>();
        Dictionary<string, string> expansion = state.ExpansionEnvironment();
        int sshCount = 0;
        foreach (string spec in i.FlagValues("mount"))
        {
            RunMount m;
            try { m = RunMount.Parse(spec, v => _lexer.ProcessWord(v, expansion)); }
            catch (FormatException ex) { throw new BuildException($"{_request.DockerfileName}:{i.Line}: --mount={spec}: {ex.Message}", ex); }
            string? target = MountTarget(m.Target, state, i);
            string sub = RelativeSubPath(m.Source);
            switch (m.Type)
            {
                case MountType.Bind:
                    {
                        string to = target ?? throw new BuildException($"{_request.DockerfileName}:{i.Line}: --mount=type=bind needs target=");
                        bool rw = !m.ReadOnly;
                        if (m.From is null || (_request.NamedContexts.TryGetValue(m.From, out string? dir) && !dir.StartsWith("docker-image://", StringComparison.Ordinal)))
                        {
                            ContextTree tree = m.From is null ? _context.Value
                                : new ContextTree(_request.NamedContexts[m.From], _fs, DockerIgnore.Load(_request.NamedContexts[m.From]), _options.StateRoot);
                            var files = await CopyPlanner.KeyComponentsAsync(
                                new CopySpec { Sources = [sub.Length == 0 ? "." : sub], Destination = "/", Keyword = "RUN --mount" }, tree, cancellationToken).ConfigureAwait(false);
                            if (m.From is not null) { await tree.SaveAsync(cancellationToken).ConfigureAwait(false); }
                            key.Add("mount " + to, $"bind {m.From ?? "context"} {sub} " + new CacheKeyBuilder().Add("files", string.Join('\n', files.Select(c => c.Name + "=" + c.Value))).Build());
                            mounts.Add(ct => Task.FromResult<StepMount>(ContextBind(tree, sub, to, rw)));
                        }
                        else
                        {
                            string from = m.From;
                            key.Add("mount " + to, $"bind {sub} " + await SourceKeyAsync(stage, from, cancellationToken).ConfigureAwait(false));
                            mounts.Add(async ct => new BindMount
                            {
                                Target = to,
                                SourceLayers = [.. (await MountLayersAsync(stage, from, ct).ConfigureAwait(false)).Select(l => new LayerSource(l.DiffId, _ => Task.FromResult(_store.OpenBlob(l.Blob.Digest))))],
                                SubPath = sub,
                                ReadWrite = rw,
                            });
                        }
                        break;
                    }
                case MountType.Cache:
                    {
                        string to = target ?? throw new BuildException($"{_request.DockerfileName}:{i.Line}: --mount=type=cache needs target=");
                        string id = m.Id ?? to;
                        string? from = m.From;
                        if (from is not null)
                        {
                            // BuildKit keys a seeded cache by its id and its source, so another source is another cache.
                            string sourceKey = await SourceKeyAsync(stage, from, cancellationToken).ConfigureAwait(false);
                            key.Add("mount " + to, $"cache from {sub} " + sourceKey);
                            id = id + "\0" + sourceKey + "\0" + sub;
                        }
                        CacheMount cache = new()
                        {
                            Target = to,
                            Id = id,
                            Sharing = m.Sharing switch
                            {
                                Dbuild.Dockerfile.CacheSharing.Locked => Dbuild.Runtime.CacheSharing.Locked,
                                Dbuild.Dockerfile.CacheSharing.Private => Dbuild.Runtime.CacheSharing.Private,
                                _ => Dbuild.Runtime.CacheSharing.Shared,
                            },
                            Mode = (UnixFileMode)m.EffectiveMode,
                            Uid = (int)(m.Uid ?? 0),
                            Gid = (int)(m.Gid ?? 0),
                            ReadOnly = m.ReadOnly,
                        };
                        mounts.Add(async ct =>
                        {
                            if (from is null) { return cache; }
                            (SourceTree tree, _) = await SourceFromAsync(stage, from, [sub.Length == 0 ? "." : sub], ct).ConfigureAwait(false);
                            string seed = sub.Length == 0 ? tree.Root : Path.Combine(tree.Root, sub);
                            return Directory.Exists(seed) ? cache with { SeedDirectory = seed }
                                : throw new BuildException($"{_request.DockerfileName}:{i.Line}: --mount=type=cache: source {sub} is not a directory in {from}");
                        });
                        break;
                    }
                case MountType.Tmpfs:
                    {
                        var tmpfs = new TmpfsMount
                        {
                            Target = target ?? throw new BuildException($"{_request.DockerfileName}:{i.Line}: --mount=type=tmpfs needs target="),
                            SizeBytes = m.SizeLimit > 0 ? m.SizeLimit : null,
                        };
                        mounts.Add(_ => Task.FromResult<StepMount>(tmpfs));
                        break;
                    }
                case MountType.Secret:
                    {
                        string id = m.Id ?? "";
                        if (!_request.Secrets.TryGetValue(id, out ReadOnlyMemory<byte> value))
                        {
                            if (m.Required) { throw new BuildException($"{_request.DockerfileName}:{i.Line}: secret {id} not found; pass --secret id={id},src=FILE"); }
                            continue;
                        }
                        var secret = new SecretMount
                        {
                            Id = id,
                            Value = value,
                            Target = target ?? "/run/secrets/" + id,
                            FileMount = target is not null,
                            EnvironmentVariable = m.Env,
                            Mode = (UnixFileMode)m.EffectiveMode,
                            Uid = (int)(m.Uid ?? 0),
                            Gid = (int)(m.Gid ?? 0),
                        };
                        mounts.Add(_ => Task.FromResult<StepMount>(secret));
                        break;
                    }
                case MountType.Ssh:
                    {
                        string id = m.Id ?? "default";
                        if (!_request.SshSockets.TryGetValue(id, out string? socket))
                        {
                            if (m.Required) { throw new BuildException($"{_request.DockerfileName}:{i.Line}: no SSH key {id} forwarded; pass --ssh {id}[=SOCKET]"); }
                            continue;
                        }
                        // BuildKit: /run/buildkit/ssh_agent.N by default; SSH_AUTH_SOCK points at the first unless ENV set it.
                        var ssh = new SshMount
                        {
                            Id = id,
                            SocketPath = socket,
                            Target = target ?? $"/run/buildkit/ssh_agent.{sshCount}",
                            Mode = (UnixFileMode)m.EffectiveMode,
                            Uid = (int)(m.Uid ?? 0),
                            Gid = (int)(m.Gid ?? 0),
                            SetAuthSock = sshCount == 0 && !env.Any(e => e.StartsWith("SSH_AUTH_SOCK=", StringComparison.Ordinal)),
                        };
                        sshCount++;
                        mounts.Add(_ => Task.FromResult<StepMount>(ssh));
                        break;
                    }
                default:
                    throw new BuildException($"{_request.DockerfileName}:{i.Line}: RUN --mount=type={m.Type.ToString().ToLowerInvariant()} is not supported yet.");
            }
        }
        return mounts;
    }

    /// <summary>A bind of the context (or a named context directory): the directory itself when nothing is ignored, else a copy of what .dockerignore lets through.</summary>
    private BindMount ContextBind(ContextTree tree, string sub, string target, bool readWrite)
    {
        SourceFile root = tree.Stat(sub) ?? throw new BuildException($"RUN --mount: {sub} not found in the build {tree.Description}");
        bool filtered = !DockerIgnore.Load(tree.Root).IsEmpty;
        if (!filtered && (root.Type == LayerEntryType.Directory || !readWrite))
        {
            return new BindMount { Target = target, Source = tree.Root, SubPath = sub, ReadWrite = readWrite };
        }
        // A copy: the context minus ignored files, or a single file bound read-write (whose writes must not reach the context).
        string copy = Path.Combine(_tmp, "bind-" + Guid.NewGuid().ToString("N"));
        if (root.Type != LayerEntryType.Directory)
        {
            Directory.CreateDirectory(copy);
            string file = Path.Combine(copy, Path.GetFileName(root.FullPath));
            File.Copy(root.FullPath, file);
            return new BindMount { Target = target, Source = file, ReadWrite = readWrite };
        }
        Directory.CreateDirectory(copy);
        foreach (SourceFile f in tree.Walk(sub))
        {
            string path = Path.Combine(copy, sub.Length == 0 ? f.RelativePath : f.RelativePath[(sub.Length + 1)..]);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            switch (f.Type)
            {
                case LayerEntryType.Directory: Directory.CreateDirectory(path); break;
                case LayerEntryType.Symlink: File.CreateSymbolicLink(path, f.LinkTarget ?? ""); break;
                case LayerEntryType.File: File.Copy(f.FullPath, path); File.SetUnixFileMode(path, f.Mode); break;
            }
        }
        return new BindMount { Target = target, Source = copy, ReadWrite = readWrite };
    }

    /// <summary>The layers of a <c>from=</c> stage or image (a named context may point at an image).</summary>
    private async Task<IReadOnlyList<LayerRef>> MountLayersAsync(StagePlan stage, string from, CancellationToken cancellationToken)
    {
        if (_request.NamedContexts.TryGetValue(from, out string? named)) { from = named["docker-image://".Length..]; }
        if (_plan.FindStage(from, stage.Index) is { } other) { return [.. (await StageAsync(other, cancellationToken).ConfigureAwait(false)).Layers]; }
        return (await ResolveImageAsync(from, cancellationToken).ConfigureAwait(false)).Layers;
    }

    /// <summary>BuildKit: a relative target is under WORKDIR; the root itself cannot be a mount target.</summary>
    private string? MountTarget(string? target, StageState state, Instruction i)
    {
        if (target is null) { return null; }
        string path = "/" + RelativeSubPath(target.StartsWith('/') ? target : state.WorkingDir.TrimEnd('/') + "/" + target);
        return path == "/" ? throw new BuildException($"{_request.DockerfileName}:{i.Line}: invalid mount target \"{target}\"") : path;
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
