using System.Security.Cryptography;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Runtime;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Runtime;

/// <summary>
/// What a step's layer and identity look like next to BuildKit's runc executor: mount stubs (executor/stubs.go, v0.11+)
/// and supplementary groups (executor/oci/user.go, v0.11.4+). The expected values were also checked against a buildkitd
/// v0.11.6 built from source, running the same steps through its Dockerfile frontend on the same busybox image.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class BuildKitParityTests(RuntimeFixture fixture) : IClassFixture<RuntimeFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private async Task<(StepResult Result, List<string> Output)> RunAsync(StepRequest request)
    {
        var output = new List<string>();
        StepResult result = await fixture.CreateExecutor().RunAsync(request with { Output = line => { lock (output) { output.Add(line.Text); } } }, Token);
        Assert.Empty(fixture.LeftoverMounts());
        return (result, output);
    }

    /// <summary>A base with nothing but /bin (busybox), packed by GNU tar: no /dev, /proc, /sys, /etc.</summary>
    private static async Task<IReadOnlyList<Dbuild.Runtime.LayerSource>> BareBusyboxAsync(TempDirectory temp)
    {
        string busybox = Prerequisites.RequireTool("busybox", "busybox-static");
        string root = temp.Combine("bare");
        Directory.CreateDirectory(Path.Combine(root, "bin"));
        File.Copy(busybox, Path.Combine(root, "bin", "busybox"));
        File.CreateSymbolicLink(Path.Combine(root, "bin", "sh"), "busybox");
        string tar = temp.Combine("bare.tar");
        (await ProcessRunner.RunAsync("tar", ["--numeric-owner", "--owner=0", "--group=0", "-C", root, "-cf", tar, "."], Token)).EnsureSuccess();
        Digest diffId;
        await using (FileStream stream = File.OpenRead(tar)) { diffId = Digest.FromSha256(await SHA256.HashDataAsync(stream, Token)); }
        return [new Dbuild.Runtime.LayerSource(diffId, _ => Task.FromResult<Stream>(File.OpenRead(tar)))];
    }

    [Theory]
    [InlineData(OciRuntimeKind.Runc)]
    [InlineData(OciRuntimeKind.Crun)] // crun would make /dev 01755; the executor makes the mount points as runc does
    public async Task Run_BaseWithoutDevProcSys_LayerKeepsThemAndDropsTheEtcStubs(OciRuntimeKind runtime)
    {
        RuntimeFixture.RequireRuntime();
        if (runtime == OciRuntimeKind.Crun) { Prerequisites.RequireTool("crun", "crun"); }
        using var temp = new TempDirectory();
        StepResult result = await fixture.CreateExecutor(runtime).RunAsync(RuntimeFixture.Shell(await BareBusyboxAsync(temp), "echo hi > /out"), Token);
        Assert.Empty(fixture.LeftoverMounts());
        Dictionary<string, LayerEntry> layer = await RuntimeFixture.ReadLayerAsync(result, Token);
        foreach (string kept in new[] { "dev", "proc", "sys" })
        {
            Assert.Equal(LayerEntryType.Directory, layer[kept].Type);
            Assert.Equal((UnixFileMode)0x1ED, layer[kept].Mode); // 0755, made by the runtime
            Assert.Equal((0, 0), (layer[kept].Uid, layer[kept].Gid));
        }
        Assert.Equal(["dev", "out", "proc", "sys"], layer.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Run_MountTargetsThatDidNotExist_StubsAndTheirParentsRemoved()
    {
        RuntimeFixture.RequireRuntime();
        using var context = new TempDirectory();
        await File.WriteAllTextAsync(context.Combine("b.txt"), "b\n", Token);
        (StepResult result, _) = await RunAsync(RuntimeFixture.Shell(RuntimeFixture.BusyboxLayers(), "cat /stub/ctx/b.txt > /copied") with
        {
            Mounts =
            [
                new BindMount { Target = "/stub/ctx", Source = context.Path },
                new TmpfsMount { Target = "/stub2/deeper" },
                new CacheMount { Target = "/etc/cache-stub", Id = "parity-" + Guid.NewGuid().ToString("N") },
            ],
        });
        Dictionary<string, LayerEntry> layer = await RuntimeFixture.ReadLayerAsync(result, Token);
        Assert.Equal(["copied"], layer.Keys); // no /stub, /stub2, /etc/cache-stub, /etc/hosts, and no /etc for its mtime alone
    }

    [Fact]
    public async Task Run_StepSetsTheTimesOfAStubParent_TheyReachTheLayer()
    {
        // BuildKit issue 3148: the stub's removal must not undo a timestamp the step set on its parent
        RuntimeFixture.RequireRuntime();
        (StepResult result, _) = await RunAsync(RuntimeFixture.Shell(RuntimeFixture.BusyboxLayers(), "echo >> /etc/passwd && touch -d @1234567890 /etc"));
        Dictionary<string, LayerEntry> layer = await RuntimeFixture.ReadLayerAsync(result, Token);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1234567890), layer["etc"].ModificationTime);
        Assert.Equal(["etc", "etc/passwd"], layer.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Run_SupplementaryGroups_IdShowsThemForEveryFormOfUser()
    {
        RuntimeFixture.RequireRuntime();
        var busybox = RuntimeFixture.BusyboxLayers();
        (StepResult setup, _) = await RunAsync(RuntimeFixture.Shell(busybox,
            "echo 'dev:x:1234:1234::/home/dev:/bin/sh' >> /etc/passwd && echo 'dev:x:1234:' >> /etc/group && " +
            "echo 'extra:x:4321:app,dev' >> /etc/group && echo 'wheel:x:10:root' >> /etc/group && echo 'more:x:77:dev' >> /etc/group"));
        var chain = RuntimeFixture.Append(busybox, setup);

        // the kernel keeps supplementary groups sorted, so `id` lists them by number; `id -G` puts the gid first
        async Task<string> IdAsync(string? user) => string.Join('|', (await RunAsync(RuntimeFixture.Shell(chain, "id; id -G") with { User = user })).Output);
        Assert.Equal("uid=1234(dev) gid=1234(dev) groups=77(more),1234(dev),4321(extra)|1234 77 4321", await IdAsync("dev"));
        Assert.Equal("uid=1234(dev) gid=1234(dev) groups=77(more),1234(dev),4321(extra)|1234 77 4321", await IdAsync("1234"));
        Assert.Equal("uid=1234(dev) gid=4321(extra) groups=4321(extra)|4321", await IdAsync("dev:extra")); // an explicit group: only that one
        Assert.Equal("uid=42 gid=43 groups=43|43", await IdAsync("42:43")); // uid:gid: the primary gid only
        Assert.Equal("uid=1000(app) gid=1000(app) groups=1000(app),4321(extra)|1000 4321", await IdAsync("app"));
        Assert.Equal("uid=0(root) gid=0(root) groups=0(root),10(wheel)|0 10", await IdAsync(null)); // unset USER: root's groups
        Assert.Equal("uid=0(root) gid=0(root) groups=0(root),10(wheel)|0 10", await IdAsync("root"));
    }
}
