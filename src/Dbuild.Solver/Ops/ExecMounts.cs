using Dbuild.Dockerfile;
using Dbuild.Oci.Layers;
using Dbuild.Runtime;
using Dbuild.Solver.Cache;
using Dbuild.Solver.Graph;
using CacheSharing = Dbuild.Runtime.CacheSharing;

namespace Dbuild.Solver.Ops;

/// <summary>
/// RUN's mounts while solving: what a bind or cache source adds to the step's key, and the runtime mount made when
/// the step runs (a context bind in place, a stage's layers, a cache dir seeded from a stage, tmpfs, secret, ssh).
/// </summary>
internal sealed class ExecMounts(SolveContext context)
{
    /// <summary>The key part of a mount with a source: the bound context files' hashes, or the source stage's or image's key.</summary>
    public static async Task<string> KeyAsync(ExecMount mount, OpResult source, CancellationToken cancellationToken)
    {
        RunMount m = mount.Mount;
        if (source.Context is { } tree)
        {
            var files = await CopyPlanner.KeyComponentsAsync(
                new CopySpec { Sources = [mount.SubPath.Length == 0 ? "." : mount.SubPath], Destination = "/", Keyword = "RUN --mount" }, tree, cancellationToken).ConfigureAwait(false);
            return $"bind {m.From ?? "context"} {mount.SubPath} " + new CacheKeyBuilder().Add("files", string.Join('\n', files.Select(c => c.Name + "=" + c.Value))).Build();
        }
        string sourceKey = SourceKey(source);
        return m.Type == MountType.Cache ? $"cache from {mount.SubPath} " + sourceKey : $"bind {mount.SubPath} " + sourceKey;
    }

    private static string SourceKey(OpResult source) => source.SourceKey.FirstOrDefault(p => p.Name == "source")?.Value ?? "stage " + source.Key;

    /// <summary>The runtime's mount, or null for an optional secret or ssh key that was not given.</summary>
    /// <param name="mount">The mount.</param>
    /// <param name="source">What a bind or cache mount reads, solved.</param>
    /// <param name="env">The process environment (an ENV SSH_AUTH_SOCK wins over the ssh mount's).</param>
    /// <param name="sshIndex">How many ssh mounts came before.</param>
    /// <param name="views">Collects read-only views to unmount once the step has run.</param>
    /// <param name="cancellationToken">Cancels preparing.</param>
    public async Task<StepMount?> CreateAsync(ExecMount mount, OpResult? source, IReadOnlyList<string> env, int sshIndex, List<IAsyncDisposable> views,
        CancellationToken cancellationToken)
    {
        RunMount m = mount.Mount;
        switch (m.Type)
        {
            case MountType.Bind:
                {
                    string target = mount.Target!;
                    if (source?.Context is { } tree) { return ContextBind(tree, mount.SubPath, target, !m.ReadOnly); }
                    return new BindMount
                    {
                        Target = target,
                        SourceLayers = [.. source!.Layers.Select(l => l.ToSource(context.Lazy))],
                        SubPath = mount.SubPath,
                        ReadWrite = !m.ReadOnly,
                    };
                }
            case MountType.Cache:
                {
                    string id = m.Id ?? mount.Target!;
                    string? seed = null;
                    if (source is not null)
                    {
                        // BuildKit keys a seeded cache by its id and its source, so another source is another cache.
                        id = id + "\0" + SourceKey(source) + "\0" + mount.SubPath;
                        seed = await SeedAsync(mount, source, views, cancellationToken).ConfigureAwait(false);
                        if (!Directory.Exists(seed)) { throw new BuildException($"--mount=type=cache: source {mount.SubPath} is not a directory in {mount.SourceDescription}"); }
                    }
                    return new CacheMount
                    {
                        Target = mount.Target!,
                        Id = id,
                        Sharing = m.Sharing switch
                        {
                            Dockerfile.CacheSharing.Locked => CacheSharing.Locked,
                            Dockerfile.CacheSharing.Private => CacheSharing.Private,
                            _ => CacheSharing.Shared,
                        },
                        Mode = (UnixFileMode)m.EffectiveMode,
                        Uid = (int)(m.Uid ?? 0),
                        Gid = (int)(m.Gid ?? 0),
                        ReadOnly = m.ReadOnly,
                        SeedDirectory = seed,
                    };
                }
            case MountType.Tmpfs:
                return new TmpfsMount { Target = mount.Target!, SizeBytes = m.SizeLimit > 0 ? m.SizeLimit : null };
            case MountType.Secret:
                {
                    string id = m.Id ?? "";
                    if (!context.Request.Secrets.TryGetValue(id, out ReadOnlyMemory<byte> value)) { return null; }
                    return new SecretMount
                    {
                        Id = id,
                        Value = value,
                        Target = mount.Target ?? "/run/secrets/" + id,
                        FileMount = mount.Target is not null,
                        EnvironmentVariable = m.Env,
                        Mode = (UnixFileMode)m.EffectiveMode,
                        Uid = (int)(m.Uid ?? 0),
                        Gid = (int)(m.Gid ?? 0),
                    };
                }
            case MountType.Ssh:
                {
                    string id = m.Id ?? "default";
                    if (!context.Request.SshSockets.TryGetValue(id, out string? socket)) { return null; }
                    // BuildKit: /run/buildkit/ssh_agent.N by default; SSH_AUTH_SOCK points at the first unless ENV set it.
                    return new SshMount
                    {
                        Id = id,
                        SocketPath = socket,
                        Target = mount.Target ?? $"/run/buildkit/ssh_agent.{sshIndex}",
                        Mode = (UnixFileMode)m.EffectiveMode,
                        Uid = (int)(m.Uid ?? 0),
                        Gid = (int)(m.Gid ?? 0),
                        SetAuthSock = sshIndex == 0 && !env.Any(e => e.StartsWith("SSH_AUTH_SOCK=", StringComparison.Ordinal)),
                    };
                }
            default:
                throw new BuildException($"RUN --mount=type={m.Type.ToString().ToLowerInvariant()} is not supported yet.");
        }
    }

    /// <summary>Where a cache's first contents come from: a context directory, or the source stage's or image's tree (mounted read-only, or read from its layer tars).</summary>
    private async Task<string> SeedAsync(ExecMount mount, OpResult source, List<IAsyncDisposable> views, CancellationToken cancellationToken)
    {
        if (source.Context is { } contextTree) { return mount.SubPath.Length == 0 ? contextTree.Root : Path.Combine(contextTree.Root, mount.SubPath); }
        string dir = Path.Combine(context.Tmp, "from-" + Guid.NewGuid().ToString("N"));
        string root;
        if (await context.UsesSnapshotsAsync().ConfigureAwait(false))
        {
            views.Add(await context.Executor!.MountReadOnlyAsync([.. source.Layers.Select(l => l.ToSource(context.Lazy))], dir, cancellationToken).ConfigureAwait(false));
            root = dir;
        }
        else
        {
            IReadOnlyList<LayerRef> blobs = [.. source.Layers.Select(l => l.Blob ?? throw new InvalidOperationException("A kept snapshot where the build keeps none."))];
            root = (await LayerIndexTree.BuildAsync(context.Store, blobs, [mount.SubPath], dir, mount.SourceDescription, cancellationToken).ConfigureAwait(false)).Root;
        }
        return mount.SubPath.Length == 0 ? root : Path.Combine(root, mount.SubPath);
    }

    /// <summary>A bind of a context: the directory itself when nothing is ignored, else a copy of what .dockerignore lets through.</summary>
    private BindMount ContextBind(ContextTree tree, string sub, string target, bool readWrite)
    {
        SourceFile root = tree.Stat(sub) ?? throw new BuildException($"RUN --mount: {sub} not found in the build {tree.Description}");
        bool filtered = !tree.Ignore.IsEmpty;
        if (!filtered && (root.Type == LayerEntryType.Directory || !readWrite))
        {
            return new BindMount { Target = target, Source = tree.Root, SubPath = sub, ReadWrite = readWrite };
        }
        // A copy: the context minus ignored files, or a single file bound read-write (whose writes must not reach the context).
        string copy = Path.Combine(context.Tmp, "bind-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(copy);
        if (root.Type != LayerEntryType.Directory)
        {
            string file = Path.Combine(copy, Path.GetFileName(root.FullPath));
            File.Copy(root.FullPath, file);
            return new BindMount { Target = target, Source = file, ReadWrite = readWrite };
        }
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
}
