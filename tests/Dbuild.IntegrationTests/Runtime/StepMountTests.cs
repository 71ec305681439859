using System.Net.Sockets;
using Dbuild.Oci.Layers;
using Dbuild.Runtime;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Runtime;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StepMountTests(RuntimeFixture fixture) : IClassFixture<RuntimeFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private Task<(StepResult Result, List<string> Output)> RunAsync(string script, params StepMount[] mounts) => RunAsync(script, true, mounts);

    private async Task<(StepResult Result, List<string> Output)> RunAsync(string script, bool checkMounts, params StepMount[] mounts)
    {
        RuntimeFixture.RequireRuntime();
        var output = new List<string>();
        StepRequest request = RuntimeFixture.Shell(RuntimeFixture.BusyboxLayers(), script, output) with { Mounts = mounts };
        StepResult result = await fixture.CreateExecutor().RunAsync(request, Token);
        if (checkMounts) { Assert.Empty(fixture.LeftoverMounts()); }
        return (result, output);
    }

    [Fact]
    public async Task Bind_ReadOnlyByDefault_AndNotInLayer()
    {
        using var context = new TempDirectory();
        await File.WriteAllTextAsync(context.Combine("input.txt"), "from context\n", Token);
        (StepResult result, List<string> output) = await RunAsync("cat /ctx/input.txt; touch /ctx/x 2>/dev/null || echo readonly",
            new BindMount { Target = "/ctx", Source = context.Path });
        Assert.Equal(["from context", "readonly"], output);
        Assert.True(result.IsEmptyLayer); // the mount point stub is removed again
    }

    [Fact]
    public async Task Bind_ReadWrite_WritesDiscarded()
    {
        using var context = new TempDirectory();
        await File.WriteAllTextAsync(context.Combine("input.txt"), "original", Token);
        (_, List<string> output) = await RunAsync("echo changed > /ctx/input.txt && echo new > /ctx/new && cat /ctx/input.txt",
            new BindMount { Target = "/ctx", Source = context.Path, ReadWrite = true });
        Assert.Equal(["changed"], output);
        Assert.Equal("original", await File.ReadAllTextAsync(context.Combine("input.txt"), Token));
        Assert.False(File.Exists(context.Combine("new")));
    }

    [Fact]
    public async Task Bind_FromLayers_SeesThatTree()
    {
        (_, List<string> output) = await RunAsync("cat /other/etc/group | head -1; ls /other/bin/busybox",
            new BindMount { Target = "/other", SourceLayers = RuntimeFixture.BusyboxLayers() });
        Assert.Equal(["root:x:0:", "/other/bin/busybox"], output);
    }

    [Fact]
    public async Task Cache_PersistsBetweenSteps_WithModeAndOwner()
    {
        string id = "cache-" + Guid.NewGuid().ToString("N");
        var cache = new CacheMount { Target = "/var/cache/app", Id = id, Uid = 1000, Gid = 1000, Mode = (UnixFileMode)0x1C0 };
        (StepResult first, _) = await RunAsync("echo 1 >> /var/cache/app/count", cache);
        (StepResult second, List<string> output) = await RunAsync("echo 1 >> /var/cache/app/count; wc -l < /var/cache/app/count; stat -c '%u:%g %a' /var/cache/app", cache);
        Assert.Equal(["2", "1000:1000 700"], output);
        Assert.True(first.IsEmptyLayer);
        Assert.True(second.IsEmptyLayer);
    }

    [Fact]
    public async Task Cache_Locked_StepsTakeTurns()
    {
        string id = "locked-" + Guid.NewGuid().ToString("N");
        var cache = new CacheMount { Target = "/c", Id = id, Sharing = CacheSharing.Locked };
        const string Script = "if [ -e /c/busy ]; then echo overlap; fi; touch /c/busy; sleep 1; rm /c/busy";
        var runs = await Task.WhenAll(RunAsync(Script, false, cache), RunAsync(Script, false, cache));
        Assert.All(runs, r => Assert.DoesNotContain("overlap", r.Output));
        // The step that waited said so in its output (the progress), once.
        Assert.Equal([$"waiting for cache mount '{id}' (sharing=locked): another step holds it"], runs.SelectMany(r => r.Output));
        Assert.Empty(fixture.LeftoverMounts());
    }

    [Fact]
    public async Task Tmpfs_IsTmpfsWithSize()
    {
        (StepResult result, List<string> output) = await RunAsync("grep ' /scratch ' /proc/mounts | cut -d' ' -f3,4; echo x > /scratch/f",
            new TmpfsMount { Target = "/scratch", SizeBytes = 8 * 1024 * 1024 });
        Assert.StartsWith("tmpfs ", output[0], StringComparison.Ordinal);
        Assert.Contains("size=8192k", output[0], StringComparison.Ordinal);
        Assert.True(result.IsEmptyLayer);
    }

    [Fact]
    public async Task Secret_AsFileAndEnv_NeverInLayer()
    {
        (StepResult result, List<string> output) = await RunAsync(
            "cat /run/secrets/token; echo; echo $TOKEN_ENV; stat -c '%a' /run/secrets/token; echo done > /out",
            new SecretMount { Target = "/run/secrets/token", Id = "token", Value = "s3cr3t"u8.ToArray(), EnvironmentVariable = "TOKEN_ENV" });
        Assert.Equal(["s3cr3t", "s3cr3t", "400"], output);
        Dictionary<string, LayerEntry> layer = await RuntimeFixture.ReadLayerAsync(result, Token);
        Assert.Equal(["out"], layer.Keys);
    }

    [Fact]
    public async Task Ssh_SocketForwarded()
    {
        using var temp = new TempDirectory();
        string socketPath = temp.Combine("agent.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);
        (_, List<string> output) = await RunAsync("echo $SSH_AUTH_SOCK; test -S /run/buildkit/ssh_agent.0 && echo socket",
            new SshMount { Target = "/run/buildkit/ssh_agent.0", SocketPath = socketPath });
        Assert.Equal(["/run/buildkit/ssh_agent.0", "socket"], output);
    }
}
