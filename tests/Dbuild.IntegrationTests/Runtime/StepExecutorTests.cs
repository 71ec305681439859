using Dbuild.Oci.Layers;
using Dbuild.Runtime;

namespace Dbuild.IntegrationTests.Runtime;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StepExecutorTests(RuntimeFixture fixture) : IClassFixture<RuntimeFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private async Task<(StepResult Result, List<string> Output)> RunAsync(IReadOnlyList<Dbuild.Runtime.LayerSource> layers, string script, Func<StepRequest, StepRequest>? customize = null)
    {
        RuntimeFixture.RequireRuntime();
        var output = new List<string>();
        StepRequest request = RuntimeFixture.Shell(layers, script, output);
        if (customize is not null) { request = customize(request); }
        StepResult result = await fixture.CreateExecutor().RunAsync(request, Token);
        Assert.Empty(fixture.LeftoverMounts());
        return (result, output);
    }

    [Fact]
    public async Task Run_WriteAndDelete_LayerHasFileAndWhiteouts()
    {
        var busybox = RuntimeFixture.BusyboxLayers();
        (StepResult result, _) = await RunAsync(busybox, "echo hello > /hello && rm /etc/group && rm -rf /home");
        Dictionary<string, LayerEntry> layer = await RuntimeFixture.ReadLayerAsync(result, Token);
        Assert.Equal(LayerEntryType.File, layer["hello"].Type);
        Assert.Equal(6, layer["hello"].Size);
        Assert.True(layer["etc/.wh.group"].IsWhiteout);
        Assert.True(layer[".wh.home"].IsWhiteout);
        Assert.DoesNotContain("etc/passwd", layer.Keys); // copied-up-or-not, unchanged files stay out
        Assert.DoesNotContain("etc/hosts", layer.Keys); // mount stubs are removed
        Assert.DoesNotContain("etc/resolv.conf", layer.Keys);
    }

    [Fact]
    public async Task Run_ReplaceDirectory_OpaqueMarker()
    {
        var busybox = RuntimeFixture.BusyboxLayers();
        (StepResult first, _) = await RunAsync(busybox, "mkdir -p /d/sub && echo 1 > /d/a && echo 2 > /d/sub/b");
        var parent = RuntimeFixture.Append(busybox, first);
        (StepResult second, _) = await RunAsync(parent, "rm -rf /d && mkdir /d && echo new > /d/new");
        Dictionary<string, LayerEntry> layer = await RuntimeFixture.ReadLayerAsync(second, Token);
        Assert.Contains("d/.wh..wh..opq", layer.Keys);
        Assert.Contains("d/new", layer.Keys);
        Assert.DoesNotContain("d/a", layer.Keys);

        // and the next step sees only the new content
        var chain = RuntimeFixture.Append(parent, second);
        (StepResult third, List<string> output) = await RunAsync(chain, "ls -A /d");
        Assert.True(third.IsEmptyLayer);
        Assert.Equal(["new"], output);
    }

    [Fact]
    public async Task Run_LinksModesAndOwners_KeptInLayer()
    {
        var busybox = RuntimeFixture.BusyboxLayers();
        (StepResult result, _) = await RunAsync(busybox,
            "echo data > /f && ln /f /hard && ln -s f /soft && cp /f /suid && chmod 4755 /suid && mkdir -m 1777 /sticky && " +
            "touch /owned && chown 1000:2000 /owned && mkfifo /fifo");
        Dictionary<string, LayerEntry> layer = await RuntimeFixture.ReadLayerAsync(result, Token);
        Assert.True(layer["f"].Type == LayerEntryType.HardLink || layer["hard"].Type == LayerEntryType.HardLink);
        Assert.Equal("f", layer["hard"].LinkTarget);
        Assert.Equal(LayerEntryType.Symlink, layer["soft"].Type);
        Assert.Equal("f", layer["soft"].LinkTarget);
        Assert.Equal((UnixFileMode)0x9ED, layer["suid"].Mode); // 04755
        Assert.Equal((UnixFileMode)0x3FF, layer["sticky"].Mode); // 01777
        Assert.Equal((1000, 2000), (layer["owned"].Uid, layer["owned"].Gid));
        Assert.Equal(LayerEntryType.Fifo, layer["fifo"].Type);
    }

    [Fact]
    public async Task Run_HardLinkToLowerFile_LayerHoldsCopiedUpFileAndLinkAsOnePair()
    {
        // overlay copies /etc/group up for link(2); its content is unchanged, but BuildKit's layer holds both names
        var busybox = RuntimeFixture.BusyboxLayers();
        (StepResult result, _) = await RunAsync(busybox, "mkdir /sp && ln /etc/group /sp/group-link");
        Dictionary<string, LayerEntry> layer = await RuntimeFixture.ReadLayerAsync(result, Token);
        Assert.Equal(LayerEntryType.File, layer["etc/group"].Type);
        Assert.True(layer["etc/group"].Size > 0);
        Assert.Equal((LayerEntryType.HardLink, "etc/group"), (layer["sp/group-link"].Type, layer["sp/group-link"].LinkTarget));
        Assert.DoesNotContain("etc/passwd", layer.Keys); // copied up or not, unlinked unchanged files stay out

        // and the next step sees one inode under both names
        (_, List<string> output) = await RunAsync(RuntimeFixture.Append(busybox, result), "stat -c %h /etc/group; [ /etc/group -ef /sp/group-link ] && echo same");
        Assert.Equal(["2", "same"], output);
    }

    [Fact]
    public async Task Run_UserByNameAndByIds_ResolvedFromRootfs()
    {
        var busybox = RuntimeFixture.BusyboxLayers();
        (StepResult first, _) = await RunAsync(busybox,
            "echo 'dev:x:1234:1234::/home/dev:/bin/sh' >> /etc/passwd && echo 'dev:x:1234:' >> /etc/group && echo 'extra:x:4321:dev' >> /etc/group");
        var chain = RuntimeFixture.Append(busybox, first);
        (_, List<string> byName) = await RunAsync(chain, "id -u; id -g; id -G", r => r with { User = "dev" });
        Assert.Equal(["1234", "1234", "1234 4321"], byName);
        (_, List<string> byIds) = await RunAsync(chain, "id -u; id -g", r => r with { User = "42:43" });
        Assert.Equal(["42", "43"], byIds);
        await Assert.ThrowsAsync<InvalidOperationException>(() => fixture.CreateExecutor().RunAsync(RuntimeFixture.Shell(chain, "true") with { User = "nobody-here" }, Token));
    }

    [Fact]
    public async Task Run_MissingWorkingDirectory_IsCreated()
    {
        var busybox = RuntimeFixture.BusyboxLayers();
        (StepResult result, List<string> output) = await RunAsync(busybox, "pwd", r => r with { WorkingDirectory = "/work/dir" });
        Assert.Equal(["/work/dir"], output);
        Dictionary<string, LayerEntry> layer = await RuntimeFixture.ReadLayerAsync(result, Token);
        Assert.Equal(LayerEntryType.Directory, layer["work/dir"].Type);
    }

    [Fact]
    public async Task Run_NothingChanged_EmptyLayer()
    {
        var busybox = RuntimeFixture.BusyboxLayers();
        (StepResult result, List<string> output) = await RunAsync(busybox, "chmod 755 /etc && cat /etc/passwd >/dev/null && echo ok");
        Assert.True(result.IsEmptyLayer);
        Assert.Equal(["ok"], output);
    }

    [Fact]
    public async Task Run_NonZeroExit_ReportsCommandCodeAndLastLines()
    {
        RuntimeFixture.RequireRuntime();
        var busybox = RuntimeFixture.BusyboxLayers();
        var error = await Assert.ThrowsAsync<StepFailedException>(() => fixture.CreateExecutor().RunAsync(
            RuntimeFixture.Shell(busybox, "for i in $(seq 1 30); do echo line$i; done; sleep 0.5; echo oops >&2; exit 3") with { DisplayName = "RUN failing" }, Token));
        Assert.Equal(3, error.ExitCode);
        Assert.Equal("RUN failing", error.Command);
        Assert.Equal(20, error.LastLines.Count);
        Assert.Contains("oops", error.LastLines); // stdout and stderr are separate pipes: their relative order is not fixed
        Assert.Contains("line30", error.LastLines);
        Assert.DoesNotContain("line5", error.LastLines);
        Assert.Contains("exit code: 3", error.Message, StringComparison.Ordinal);
        Assert.Empty(fixture.LeftoverMounts());
    }

    [Fact]
    public async Task Run_AfterACrashedProcess_CleansItsStepUp()
    {
        RuntimeFixture.RequireRuntime();
        StepExecutor executor = fixture.CreateExecutor();
        string abandoned = Path.Combine(executor.WorkDirectory, "dbuild-" + Guid.NewGuid().ToString("N")[..16]);
        Directory.CreateDirectory(Path.Combine(abandoned, "rootfs"));
        int deadPid = Enumerable.Range(4_000_000, 1000).First(p => !Directory.Exists($"/proc/{p}"));
        await File.WriteAllTextAsync(Path.Combine(abandoned, "owner.pid"), deadPid.ToString(System.Globalization.CultureInfo.InvariantCulture), Token);
        await Dbuild.Testing.ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "tmpfs", Path.Combine(abandoned, "rootfs")], Token);
        Assert.NotEmpty(fixture.LeftoverMounts());

        await executor.RunAsync(RuntimeFixture.Shell(RuntimeFixture.BusyboxLayers(), "true"), Token);
        Assert.False(Directory.Exists(abandoned));
        Assert.Empty(fixture.LeftoverMounts());
    }

    [Fact]
    public async Task Run_Output_StreamsStdoutAndStderr()
    {
        var busybox = RuntimeFixture.BusyboxLayers();
        (_, List<string> output) = await RunAsync(busybox, "echo out; echo err >&2; hostname");
        Assert.Contains("out", output);
        Assert.Contains("err", output);
        Assert.Contains("buildkitsandbox", output);
    }

    [Fact]
    public async Task Run_HostsAndResolvConf_ProvidedLikeBuildKit()
    {
        var busybox = RuntimeFixture.BusyboxLayers();
        (StepResult result, List<string> output) = await RunAsync(busybox, "cat /etc/hosts; grep -c nameserver /etc/resolv.conf; grep -c 127.0.0 /etc/resolv.conf || true",
            r => r with { Network = StepNetwork.None, ExtraHosts = [new("db.internal", "10.1.2.3")] });
        Assert.Equal("127.0.0.1\tlocalhost buildkitsandbox", output[0]);
        Assert.Contains("10.1.2.3\tdb.internal", output);
        Assert.NotEqual("0", output[^2]); // some nameserver
        Assert.Equal("0", output[^1]); // no loopback resolver inside a private network namespace
        Assert.True(result.IsEmptyLayer); // the bind-mount stubs never reach the layer
    }

    [Fact]
    public async Task Run_NetworkNone_OnlyLoopback()
    {
        var busybox = RuntimeFixture.BusyboxLayers();
        (_, List<string> output) = await RunAsync(busybox, "ls /sys/class/net; cat /sys/class/net/lo/operstate", r => r with { Network = StepNetwork.None });
        Assert.Equal("lo", output[0]);
        Assert.Equal(2, output.Count);
    }

    [Fact]
    public async Task Run_NetworkHost_SeesHostInterfaces()
    {
        var busybox = RuntimeFixture.BusyboxLayers();
        (_, List<string> output) = await RunAsync(busybox, "ls /sys/class/net", r => r with { Network = StepNetwork.Host });
        Assert.Equal(Directory.GetFileSystemEntries("/sys/class/net").Select(Path.GetFileName).Order(StringComparer.Ordinal), output.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Export_AppliesWhiteouts()
    {
        var busybox = RuntimeFixture.BusyboxLayers();
        (StepResult result, _) = await RunAsync(busybox, "rm /etc/group && echo x > /new");
        using var target = new Dbuild.Testing.TempDirectory();
        await fixture.CreateExecutor().ExportAsync(RuntimeFixture.Append(busybox, result), target.Path, Token);
        Assert.False(File.Exists(target.Combine("etc", "group")));
        Assert.True(File.Exists(target.Combine("etc", "passwd")));
        Assert.Equal("x\n", await File.ReadAllTextAsync(target.Combine("new"), Token));
    }
}
