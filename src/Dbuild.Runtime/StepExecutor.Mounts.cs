using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dbuild.Oci;
using Dbuild.Oci.Locking;

namespace Dbuild.Runtime;

public sealed partial class StepExecutor
{
    private const int MaxMountDataLength = 4000; // the mount(2) data page is 4096 bytes

    private async Task<List<SpecMount>> PrepareMountsAsync(StepRequest request, StepContext step, List<string> env, CancellationToken cancellationToken)
    {
        var mounts = new List<SpecMount>();
        string hosts = Path.Combine(step.Directory, "hosts");
        await File.WriteAllTextAsync(hosts, NetworkFiles.Hosts(request.Hostname, request.ExtraHosts), cancellationToken).ConfigureAwait(false);
        string resolv = Path.Combine(step.Directory, "resolv.conf");
        await File.WriteAllTextAsync(resolv, NetworkFiles.ResolvConf(request.Network), cancellationToken).ConfigureAwait(false);
        mounts.Add(new SpecMount("/etc/hosts", "bind", hosts, ["rbind", "ro"]));
        mounts.Add(new SpecMount("/etc/resolv.conf", "bind", resolv, ["rbind", "ro"]));

        string? secretsDir = null;
        int index = 0;
        foreach (StepMount mount in request.Mounts)
        {
            index++;
            if (!mount.Target.StartsWith('/')) { throw new ArgumentException($"Mount target '{mount.Target}' must be absolute.", nameof(request)); }
            switch (mount)
            {
                case BindMount bind:
                    mounts.Add(await PrepareBindAsync(bind, step, index, cancellationToken).ConfigureAwait(false));
                    break;
                case CacheMount cache:
                    mounts.Add(await PrepareCacheAsync(cache, request, step, cancellationToken).ConfigureAwait(false));
                    break;
                case TmpfsMount tmpfs:
                    var options = new List<string> { "nosuid", "nodev" };
                    if (tmpfs.SizeBytes is { } size) { options.Add(string.Create(CultureInfo.InvariantCulture, $"size={size}")); }
                    mounts.Add(new SpecMount(tmpfs.Target, "tmpfs", "tmpfs", options));
                    break;
                case SecretMount secret:
                    if (secret.EnvironmentVariable is { } name) { env.Add(name + "=" + Encoding.UTF8.GetString(secret.Value.Span)); }
                    if (!secret.FileMount) { break; }
                    if (secretsDir is null)
                    {
                        // Secrets live on a private tmpfs: never on disk, never in the upper dir.
                        secretsDir = Path.Combine(step.Directory, "secrets");
                        Directory.CreateDirectory(secretsDir);
                        step.Unmounts.Add(secretsDir);
                        Interop.Mount("tmpfs", secretsDir, "tmpfs", Interop.MountFlags.NoExec | Interop.MountFlags.NoDev | Interop.MountFlags.NoSuid, "mode=0700,size=16m");
                    }
                    string secretFile = Path.Combine(secretsDir, index.ToString(CultureInfo.InvariantCulture));
                    await File.WriteAllBytesAsync(secretFile, secret.Value, cancellationToken).ConfigureAwait(false);
                    Interop.LChown(secretFile, secret.Uid, secret.Gid);
                    File.SetUnixFileMode(secretFile, secret.Mode);
                    mounts.Add(new SpecMount(secret.Target, "bind", secretFile, ["rbind", "ro", "nosuid", "nodev", "noexec"]));
                    break;
                case SshMount ssh:
                    if (!File.Exists(ssh.SocketPath) && Interop.TryLStat(ssh.SocketPath) is not { IsSocket: true })
                    {
                        throw new InvalidOperationException($"SSH agent socket '{ssh.SocketPath}' (--ssh {ssh.Id}) does not exist.");
                    }
                    mounts.Add(new SpecMount(ssh.Target, "bind", ssh.SocketPath, ["rbind"]));
                    if (ssh.SetAuthSock) { env.Add("SSH_AUTH_SOCK=" + ssh.Target); }
                    break;
                default:
                    throw new ArgumentException($"Unknown mount type {mount.GetType().Name}.", nameof(request));
            }
        }
        return mounts;
    }

    private async Task<SpecMount> PrepareBindAsync(BindMount bind, StepContext step, int index, CancellationToken cancellationToken)
    {
        if ((bind.Source is null) == (bind.SourceLayers is null)) { throw new ArgumentException($"Bind mount at {bind.Target} needs exactly one of Source and SourceLayers."); }
        string mountRoot = Path.Combine(step.Directory, "mounts", index.ToString(CultureInfo.InvariantCulture));
        string source;
        if (bind.SourceLayers is { } layers)
        {
            List<string> lowers = await _snapshots!.PrepareAsync(layers, cancellationToken).ConfigureAwait(false);
            lowers.Reverse();
            lowers.Add(_snapshots.EmptyDirectory);
            string merged = Path.Combine(mountRoot, "merged");
            Directory.CreateDirectory(merged);
            if (_overlay && bind.ReadWrite)
            {
                Directory.CreateDirectory(Path.Combine(mountRoot, "upper"));
                Directory.CreateDirectory(Path.Combine(mountRoot, "work"));
                await MountOverlayAsync(lowers, Path.Combine(mountRoot, "upper"), Path.Combine(mountRoot, "work"), merged, step, cancellationToken).ConfigureAwait(false);
            }
            else if (_overlay)
            {
                await MountOverlayAsync(lowers, null, null, merged, step, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await CopyTree.CopyAsync(lowers[0], merged, cancellationToken).ConfigureAwait(false);
            }
            source = RootPath.Resolve(merged, bind.SubPath.Length == 0 ? "/" : bind.SubPath);
        }
        else
        {
            source = bind.SubPath.Length == 0 ? bind.Source! : RootPath.Resolve(bind.Source!, bind.SubPath);
            if (bind.ReadWrite && Directory.Exists(source))
            {
                // Writes to a rw bind are thrown away: mount an overlay over the source and bind that.
                string merged = Path.Combine(mountRoot, "merged");
                Directory.CreateDirectory(merged);
                if (_overlay)
                {
                    Directory.CreateDirectory(Path.Combine(mountRoot, "upper"));
                    Directory.CreateDirectory(Path.Combine(mountRoot, "work"));
                    await MountOverlayAsync([source], Path.Combine(mountRoot, "upper"), Path.Combine(mountRoot, "work"), merged, step, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await CopyTree.CopyAsync(source, merged, cancellationToken).ConfigureAwait(false);
                }
                source = merged;
            }
        }
        if (Interop.TryLStat(source) is null) { throw new InvalidOperationException($"Bind mount source '{bind.SubPath}' for {bind.Target} does not exist."); }
        return new SpecMount(bind.Target, "bind", source, bind.ReadWrite ? ["rbind", "rw"] : ["rbind", "ro"]);
    }

    private async Task<SpecMount> PrepareCacheAsync(CacheMount cache, StepRequest request, StepContext step, CancellationToken cancellationToken)
    {
        string key = Digest.Compute(Encoding.UTF8.GetBytes(cache.Id)).Encoded[..32];
        string directory = Path.Combine(RuntimeLayout.CacheMountDirectory(_options.StateRoot), key);
        // A lock file per cache id under STATE/locks, flock(2)ed: it excludes steps of this and of every other dbuild process.
        string lockPath = RuntimeLayout.CacheMountLock(_options.StateRoot, key);
        switch (cache.Sharing)
        {
            case CacheSharing.Locked:
                FileLock held = await FileLock.AcquireAsync(lockPath, FileLockMode.Exclusive, () =>
                {
                    Log.CacheMountWaiting(_logger, cache.Id, cache.Target);
                    request.Output?.Invoke(new StepOutputLine(StepOutputKind.Stderr, $"waiting for cache mount '{cache.Id}' (sharing=locked): another step holds it"));
                }, cancellationToken).ConfigureAwait(false);
                step.Releases.Add(held.Dispose);
                break;
            case CacheSharing.Private:
                if (FileLock.TryAcquire(lockPath) is { } own) { step.Releases.Add(own.Dispose); }
                else
                {
                    directory = Path.Combine(RuntimeLayout.CacheMountDirectory(_options.StateRoot), key + "-" + Guid.NewGuid().ToString("N")[..8]);
                    string privateDirectory = directory;
                    step.Releases.Add(() => SnapshotStore.TryDelete(privateDirectory));
                }
                break;
        }
        if (!Directory.Exists(directory))
        {
            string staging = directory + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
            try
            {
                if (cache.SeedDirectory is { } seed) { await CopyTree.CopyAsync(seed, staging, cancellationToken).ConfigureAwait(false); }
                else { Directory.CreateDirectory(staging); }
                File.SetUnixFileMode(staging, cache.Mode);
                Interop.LChown(staging, cache.Uid, cache.Gid);
                Directory.Move(staging, directory);
            }
            catch (IOException) when (Directory.Exists(directory)) { } // created concurrently
            finally { SnapshotStore.TryDelete(staging); } // gone after the move; a half-seeded copy after a cancellation
        }
        RuntimeLayout.MarkUsed(directory); // last use, for pruning
        return new SpecMount(cache.Target, "bind", directory, cache.ReadOnly ? ["rbind", "ro"] : ["rbind", "rw"]);
    }

    /// <summary>
    /// Mounts overlay. When the lowerdir list would overflow mount(2)'s one-page data limit (100+ layers), mount(8)
    /// runs with its working directory in the snapshot store and the lowerdirs given relative to it.
    /// </summary>
    private static bool s_noVolatile;

    private async Task MountOverlayAsync(List<string> lowers, string? upper, string? work, string target, StepContext step, CancellationToken cancellationToken)
    {
        step.Unmounts.Add(target); // before mounting: whatever happens next, the step's cleanup unmounts it
        // volatile (Linux 5.10+): unmounting a writable overlay otherwise syncs the whole upper file system, which after a
        // RUN that wrote a GB is seconds of waiting for writeback. Snapshots are not fsynced anyway (a crash loses the cache,
        // as a crash of BuildKit's daemon does), so nothing is lost by not waiting here.
        string suffix = (upper is null ? "" : $",upperdir={upper},workdir={work}" + (s_noVolatile ? "" : ",volatile")) + (_inUserNamespace ? ",userxattr" : "");
        string data = "lowerdir=" + string.Join(':', lowers) + suffix;
        if (data.Length <= MaxMountDataLength)
        {
            try { Interop.Mount("overlay", target, "overlay", Interop.MountFlags.None, data); }
            catch (System.ComponentModel.Win32Exception) when (upper is not null && !s_noVolatile)
            {
                s_noVolatile = true; // an older kernel: mount as before
                Interop.Mount("overlay", target, "overlay", Interop.MountFlags.None, data.Replace(",volatile", "", StringComparison.Ordinal));
            }
            return;
        }
        string root = _snapshots!.Root;
        string relative = "lowerdir=" + string.Join(':', lowers.Select(l => Path.GetRelativePath(root, l))) + suffix;
        if (relative.Length > MaxMountDataLength) { throw new InvalidOperationException($"{lowers.Count} layers exceed the overlay mount option limit even with relative paths."); }
        var startInfo = new ProcessStartInfo("mount")
        {
            ArgumentList = { "-t", "overlay", "overlay", "-o", relative, target },
            WorkingDirectory = root,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start 'mount'.");
        Task<string> stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // mount(8) may still complete the mount: stop it and wait, so the cleanup finds the mount (or its absence) for certain.
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            if (!process.HasExited) { process.Kill(); }
            try { await process.WaitForExitAsync(grace.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            throw;
        }
        if (process.ExitCode != 0)
        {
            throw new IOException($"Mounting overlay of {lowers.Count} layers on {target} failed: {(await stderr.ConfigureAwait(false)).Trim()}");
        }
    }
}
