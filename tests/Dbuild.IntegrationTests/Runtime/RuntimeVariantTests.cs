using Dbuild.Oci.Layers;
using Dbuild.Runtime;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Runtime;

/// <summary>crun, the copying snapshotter and very long layer chains.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RuntimeVariantTests(RuntimeFixture fixture) : IClassFixture<RuntimeFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Crun_RunsStep()
    {
        RuntimeFixture.RequireRuntime();
        Prerequisites.RequireTool("crun", "crun");
        var output = new List<string>();
        StepExecutor executor = fixture.CreateExecutor(OciRuntimeKind.Crun);
        StepResult result = await executor.RunAsync(RuntimeFixture.Shell(RuntimeFixture.BusyboxLayers(), "echo via-crun > /f; cat /f", output), Token);
        Assert.Equal(["via-crun"], output);
        Assert.Equal("crun", executor.RuntimeName);
        Assert.Contains("f", (await RuntimeFixture.ReadLayerAsync(result, Token)).Keys);
        Assert.Empty(fixture.LeftoverMounts());
    }

    [Fact]
    public async Task Auto_PicksAWorkingRuntime()
    {
        RuntimeFixture.RequireRuntime();
        var output = new List<string>();
        StepExecutor executor = fixture.CreateExecutor(OciRuntimeKind.Auto);
        await executor.RunAsync(RuntimeFixture.Shell(RuntimeFixture.BusyboxLayers(), "echo ok", output), Token);
        Assert.Equal(["ok"], output);
        Assert.Contains(executor.RuntimeName, new[] { "crun", "runc" });
    }

    [Fact]
    public async Task NativeSnapshotter_SameLayerContent()
    {
        RuntimeFixture.RequireRuntime();
        var busybox = RuntimeFixture.BusyboxLayers();
        StepExecutor executor = fixture.CreateExecutor(snapshotter: SnapshotterKind.Native);
        StepResult first = await executor.RunAsync(RuntimeFixture.Shell(busybox, "mkdir -p /d && echo 1 > /d/a && echo keep > /k"), Token);
        Assert.False(executor.UsesOverlay);
        var chain = RuntimeFixture.Append(busybox, first);
        StepResult second = await executor.RunAsync(RuntimeFixture.Shell(chain, "rm -rf /d && rm /etc/group && echo 2 > /k2"), Token);
        Dictionary<string, LayerEntry> layer = await RuntimeFixture.ReadLayerAsync(second, Token);
        Assert.Equal([".wh.d", "etc", "etc/.wh.group", "k2"], layer.Keys.Order(StringComparer.Ordinal));
        var output = new List<string>();
        await executor.RunAsync(RuntimeFixture.Shell(RuntimeFixture.Append(chain, second), "ls /d 2>&1; cat /k /k2", output), Token);
        Assert.Equal(["ls: /d: No such file or directory", "keep", "2"], output);
    }

    [Fact]
    public async Task NativeSnapshotter_HardLinkToParentFile_OnePairInLayer_ParentLinksLeftOut()
    {
        RuntimeFixture.RequireRuntime();
        var busybox = RuntimeFixture.BusyboxLayers();
        StepExecutor executor = fixture.CreateExecutor(snapshotter: SnapshotterKind.Native);
        StepResult first = await executor.RunAsync(RuntimeFixture.Shell(busybox, "echo data > /a && ln /a /b"), Token);
        var chain = RuntimeFixture.Append(busybox, first);
        // the copied tree keeps /a + /b linked as in the parent: no change; /etc/group linked to a new name is one
        StepResult second = await executor.RunAsync(RuntimeFixture.Shell(chain, "mkdir /sp && ln /etc/group /sp/group-link"), Token);
        Dictionary<string, LayerEntry> layer = await RuntimeFixture.ReadLayerAsync(second, Token);
        Assert.Equal(["etc", "etc/group", "sp", "sp/group-link"], layer.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(LayerEntryType.File, layer["etc/group"].Type);
        Assert.Equal((LayerEntryType.HardLink, "etc/group"), (layer["sp/group-link"].Type, layer["sp/group-link"].LinkTarget));
    }

    [Fact]
    public async Task LongChain_150Layers_Mounts()
    {
        RuntimeFixture.RequireRuntime();
        using var blobs = new TempDirectory();
        var layers = new List<LayerSource>(RuntimeFixture.BusyboxLayers());
        for (int i = 0; i < 150; i++)
        {
            string path = blobs.Combine($"layer{i}.tar.gz");
            LayerWriteResult written;
            await using (FileStream file = File.Create(path))
            {
                byte[] content = System.Text.Encoding.ASCII.GetBytes($"{i}\n");
                written = await LayerWriter.WriteAsync(
                    [new LayerEntry { Path = $"layers/{i:D3}", Type = LayerEntryType.File, Mode = (UnixFileMode)0x1A4, Size = content.Length, OpenContent = () => new MemoryStream(content) }],
                    file, cancellationToken: Token);
            }
            layers.Add(new LayerSource(written.DiffId, _ => Task.FromResult<Stream>(File.OpenRead(path))));
        }
        var output = new List<string>();
        await fixture.CreateExecutor().RunAsync(RuntimeFixture.Shell(layers, "ls /layers | wc -l; cat /layers/149", output), Token);
        Assert.Equal(["150", "149"], output);
        Assert.Empty(fixture.LeftoverMounts());
    }
}
