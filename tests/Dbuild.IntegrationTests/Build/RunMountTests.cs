using System.Formats.Tar;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Dbuild.Oci.Layers;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// <c>RUN --mount</c> end to end through <c>dbuild build</c>: every mount type is visible inside the step, and what is
/// mounted never reaches the image (checked on the exported filesystem, the layers and the history).
/// </summary>
public sealed class RunMountTests
{
    private static async Task<string> ContextAsync(TempDirectory temp, string dockerfile, CancellationToken ct, params (string Path, string Content)[] files)
    {
        string context = temp.Combine("ctx");
        Directory.CreateDirectory(context);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), dockerfile, ct);
        foreach ((string path, string content) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(context, path))!);
            await File.WriteAllTextAsync(Path.Combine(context, path), content, ct);
        }
        return context;
    }

    /// <summary>Builds with its own state root and returns the result; the final filesystem goes to <c>temp/out-N</c>.</summary>
    private static async Task<ProcessResult> BuildAsync(BuildEnvironment env, TempDirectory temp, string context, string output, CancellationToken ct,
        IReadOnlyDictionary<string, string?>? environment = null, params string[] extra) =>
        await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "plain", "--build-arg", "BASE=" + env.BaseImage,
            "-o", output, .. extra, context], ct, environment);

    private static string Read(string outDir, string path) => File.ReadAllText(Path.Combine(outDir, path)).Trim();

    [Fact]
    public async Task Bind_Context_ReadOnlyByDefault_RwWritesDiscarded_ContentInCacheKey()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-mount-");
        string context = await ContextAsync(temp, """
            ARG BASE
            FROM ${BASE}
            RUN --mount=type=bind,target=/ctx cat /ctx/data.txt > /copied && if touch /ctx/new 2>/dev/null; then echo writable > /ro; else echo read-only > /ro; fi
            RUN --mount=type=bind,source=sub,target=/sub,rw echo changed > /sub/s.txt && echo x > /sub/made && cat /sub/s.txt > /rw-seen
            """, ct, ("data.txt", "hello"), ("sub/s.txt", "original"));

        string out1 = temp.Combine("out1");
        (await BuildAsync(env, temp, context, "type=local,dest=" + out1, ct)).EnsureSuccess();
        Assert.Equal("hello", Read(out1, "copied"));
        Assert.Equal("read-only", Read(out1, "ro"));
        Assert.Equal("changed", Read(out1, "rw-seen"));
        Assert.False(File.Exists(Path.Combine(out1, "ctx", "data.txt")), "the bound context is not in the image");
        Assert.False(File.Exists(Path.Combine(out1, "sub", "made")), "rw writes are discarded");
        Assert.False(File.Exists(Path.Combine(out1, "sub", "s.txt")));
        Assert.Equal("original", await File.ReadAllTextAsync(Path.Combine(context, "sub", "s.txt"), ct));

        // The bound files are part of the RUN's key: a changed context file reruns the step.
        await File.WriteAllTextAsync(Path.Combine(context, "data.txt"), "hello again", ct);
        string out2 = temp.Combine("out2");
        (await BuildAsync(env, temp, context, "type=local,dest=" + out2, ct)).EnsureSuccess();
        Assert.Equal("hello again", Read(out2, "copied"));
    }

    [Fact]
    public async Task Bind_Context_HonoursDockerignore()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-mount-");
        string context = await ContextAsync(temp, """
            ARG BASE
            FROM ${BASE}
            RUN --mount=type=bind,target=/ctx ls -a /ctx /ctx/dir > /listing
            """, ct, (".dockerignore", "*.secret\ndir/skip\n"), ("keep.txt", "k"), ("token.secret", "t"), ("dir/a", "a"), ("dir/skip", "s"));

        string output = temp.Combine("out");
        (await BuildAsync(env, temp, context, "type=local,dest=" + output, ct)).EnsureSuccess();
        string listing = Read(output, "listing");
        Assert.Contains("keep.txt", listing, StringComparison.Ordinal);
        Assert.Contains("a", listing.Split('\n'));
        Assert.DoesNotContain("token.secret", listing, StringComparison.Ordinal);
        Assert.DoesNotContain("skip", listing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bind_FromStageAndImage_MountsTheirFiles()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-mount-");
        // from= takes no variables, so the image reference is written out.
        string context = await ContextAsync(temp, $$"""
            ARG BASE
            FROM ${BASE} AS data
            RUN mkdir /data && echo staged > /data/s
            FROM ${BASE}
            RUN --mount=type=bind,from=data,source=/data,target=/m cat /m/s > /from-stage
            RUN --mount=type=bind,from={{env.BaseImage}},source=/bin,target=/img test -x /img/busybox && echo ok > /from-image
            """, ct);

        string output = temp.Combine("out");
        (await BuildAsync(env, temp, context, "type=local,dest=" + output, ct)).EnsureSuccess();
        Assert.Equal("staged", Read(output, "from-stage"));
        Assert.Equal("ok", Read(output, "from-image"));
        Assert.False(Directory.Exists(Path.Combine(output, "img", "busybox")));
        Assert.False(File.Exists(Path.Combine(output, "m", "s")));
        Assert.False(Directory.Exists(Path.Combine(output, "data")));
    }

    [Fact]
    public async Task Cache_PersistsBetweenBuilds_LockedAndOwned()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-mount-");
        string context = await ContextAsync(temp, """
            ARG BASE
            FROM ${BASE}
            RUN --mount=type=cache,target=/cache,sharing=locked echo run >> /cache/log && wc -l < /cache/log > /count
            RUN --mount=type=cache,target=/owned,id=owned,uid=1234,gid=2345,mode=0700 stat -c '%u:%g:%a' /owned > /owned-stat
            """, ct);

        string out1 = temp.Combine("out1");
        (await BuildAsync(env, temp, context, "type=local,dest=" + out1, ct, null, "--no-cache")).EnsureSuccess();
        string out2 = temp.Combine("out2");
        (await BuildAsync(env, temp, context, "type=local,dest=" + out2, ct, null, "--no-cache")).EnsureSuccess();

        Assert.Equal("1", Read(out1, "count"));
        Assert.Equal("2", Read(out2, "count"));
        Assert.Equal("1234:2345:700", Read(out2, "owned-stat"));
        Assert.False(File.Exists(Path.Combine(out2, "cache", "log")), "cache contents are not in the image");
    }

    [Fact]
    public async Task Tmpfs_IsATmpfs_NotInImage()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-mount-");
        string context = await ContextAsync(temp, """
            ARG BASE
            FROM ${BASE}
            RUN --mount=type=tmpfs,target=/t,size=1m echo x > /t/f && grep ' /t ' /proc/mounts | cut -d' ' -f3 > /t-type && cat /t/f > /t-read
            """, ct);

        string output = temp.Combine("out");
        (await BuildAsync(env, temp, context, "type=local,dest=" + output, ct)).EnsureSuccess();
        Assert.Equal("tmpfs", Read(output, "t-type"));
        Assert.Equal("x", Read(output, "t-read"));
        Assert.False(File.Exists(Path.Combine(output, "t", "f")));
    }

    [Fact]
    public async Task Secret_FileAndEnv_NeverInImageHistoryOrLog()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-mount-");
        const string FileSecret = "s3cr3t-from-file-7c1e";
        const string EnvSecret = "s3cr3t-from-env-95ab";
        // The Dockerfile compares digests, so the secrets themselves appear only in their sources.
        string context = await ContextAsync(temp, $$"""
            ARG BASE
            FROM ${BASE}
            RUN --mount=type=secret,id=tok test "$(sha256sum < /run/secrets/tok | cut -c1-64)" = "{{Sha256(FileSecret)}}" && stat -c '%a %u' /run/secrets/tok > /default-stat
            RUN --mount=type=secret,id=tok,target=/custom,mode=0440,uid=5 stat -c '%a %u' /custom > /custom-stat
            RUN --mount=type=secret,id=envtok,env=TOKEN test "$(printf %s "$TOKEN" | sha256sum | cut -c1-64)" = "{{Sha256(EnvSecret)}}" && test ! -e /run/secrets/envtok && echo ok > /env-ok
            RUN --mount=type=secret,id=absent echo optional > /absent-ok
            """, ct);
        string secretFile = temp.Combine("secret.txt");
        await File.WriteAllTextAsync(secretFile, FileSecret, ct);
        string tar = temp.Combine("image.tar");
        ProcessResult build = await BuildAsync(env, temp, context, "type=docker,dest=" + tar, ct, new Dictionary<string, string?> { ["MY_SECRET"] = EnvSecret },
            "-t", "mount-secret:test", "--secret", "id=tok,src=" + secretFile, "--secret", "id=envtok,env=MY_SECRET");
        build.EnsureSuccess();
        Assert.DoesNotContain(FileSecret, build.StandardOutput + build.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(EnvSecret, build.StandardOutput + build.StandardError, StringComparison.Ordinal);

        // Layers: the step's results are there, the secrets are not.
        string layers = await LayerTextAsync(tar, temp.Combine("unpacked"), ct);
        Assert.Contains("400 0", layers, StringComparison.Ordinal);
        Assert.Contains("440 5", layers, StringComparison.Ordinal);
        Assert.Contains("optional", layers, StringComparison.Ordinal);
        Assert.DoesNotContain(FileSecret, layers, StringComparison.Ordinal);
        Assert.DoesNotContain(EnvSecret, layers, StringComparison.Ordinal);
        Assert.DoesNotContain("run/secrets/tok", layers, StringComparison.Ordinal);

        ProcessResult history = await BuildEnvironment.DbuildAsync(["history", "--root", temp.Combine("root"), "--no-trunc", "mount-secret:test"], ct);
        history.EnsureSuccess();
        Assert.DoesNotContain(FileSecret, history.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(EnvSecret, history.StandardOutput, StringComparison.Ordinal);

        // required=true without the secret fails the build.
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), "ARG BASE\nFROM ${BASE}\nRUN --mount=type=secret,id=missing,required=true true\n", ct);
        ProcessResult failed = await BuildAsync(env, temp, context, "type=local,dest=" + temp.Combine("out-missing"), ct);
        Assert.NotEqual(0, failed.ExitCode);
        Assert.Contains("secret missing not found", failed.StandardOutput + failed.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ssh_ForwardsTheAgentSocket()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-mount-");
        string socketPath = temp.Combine("agent.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(4);
        string context = await ContextAsync(temp, """
            ARG BASE
            FROM ${BASE}
            RUN --mount=type=ssh test -S /run/buildkit/ssh_agent.0 && test "$SSH_AUTH_SOCK" = /run/buildkit/ssh_agent.0 && echo ok > /ssh-default
            RUN --mount=type=ssh,id=other,target=/agent.sock test -S /agent.sock && echo ok > /ssh-other
            """, ct);

        string output = temp.Combine("out");
        // --ssh default takes $SSH_AUTH_SOCK, --ssh ID=SOCKET a path.
        (await BuildAsync(env, temp, context, "type=local,dest=" + output, ct, new Dictionary<string, string?> { ["SSH_AUTH_SOCK"] = socketPath },
            "--ssh", "default", "--ssh", "other=" + socketPath)).EnsureSuccess();
        Assert.Equal("ok", Read(output, "ssh-default"));
        Assert.Equal("ok", Read(output, "ssh-other"));

        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), "ARG BASE\nFROM ${BASE}\nRUN --mount=type=ssh,required=true true\n", ct);
        ProcessResult failed = await BuildAsync(env, temp, context, "type=local,dest=" + temp.Combine("out-missing"), ct);
        Assert.NotEqual(0, failed.ExitCode);
        Assert.Contains("--ssh default", failed.StandardOutput + failed.StandardError, StringComparison.Ordinal);
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>Every layer of a docker-format tar, decompressed and concatenated as text (names and contents).</summary>
    private static async Task<string> LayerTextAsync(string dockerTar, string scratch, CancellationToken ct)
    {
        Directory.CreateDirectory(scratch);
        await TarFile.ExtractToDirectoryAsync(dockerTar, scratch, overwriteFiles: true, ct);
        using JsonDocument manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(scratch, "manifest.json"), ct));
        var text = new StringBuilder();
        foreach (JsonElement layer in manifest.RootElement[0].GetProperty("Layers").EnumerateArray())
        {
            await using FileStream blob = File.OpenRead(Path.Combine(scratch, layer.GetString()!));
            await using Stream tar = await LayerReader.OpenDecompressedAsync(blob, cancellationToken: ct);
            using var reader = new StreamReader(tar, Encoding.Latin1);
            text.Append(await reader.ReadToEndAsync(ct));
        }
        return text.ToString();
    }
}
