using System.Text.Json;
using Dbuild.Oci;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Oci;

/// <summary>The local store is an OCI layout that real tools (skopeo, umoci) read as is.</summary>
public sealed class OciLayoutToolsTests : IDisposable
{
    private const string Name = "localhost/dbuild/busybox:1";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Copies the offline busybox image into a fresh store with a config and manifest dbuild writes itself.</summary>
    private async Task<(ContentStore Store, Descriptor Manifest, ImageConfig Config)> WriteImageAsync()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        ContentStore source = ContentStore.OpenExisting(Prerequisites.RequireBusyboxLayout());
        Descriptor sourceManifest = (await source.ListNamesAsync(ct)).Single(n => n.Name == "latest").Descriptor;
        ImageManifest manifest = ImageManifest.Parse(await source.ReadBlobBytesAsync(sourceManifest.Digest, cancellationToken: ct));
        ImageConfig sourceConfig = ImageConfig.Parse(await source.ReadBlobBytesAsync(manifest.Config.Digest, cancellationToken: ct));

        ContentStore store = ContentStore.ForStateRoot(_dir.Path);
        var layers = new List<Descriptor>();
        foreach (Descriptor layer in manifest.Layers)
        {
            await using Stream blob = source.OpenBlob(layer.Digest);
            layers.Add(await store.WriteBlobAsync(blob, layer.MediaType, layer.Digest, layer.Size, ct));
        }
        ImageConfig config = new ImageConfig(Platform.LinuxAmd64)
        {
            Created = DateTimeOffset.UnixEpoch,
            Config = new ContainerConfig { Cmd = ["sh"], Env = ["PATH=/bin"], Labels = new Dictionary<string, string> { ["org.example"] = "dbuild" } },
            RootFs = sourceConfig.RootFs,
            History = [new HistoryEntry { Created = DateTimeOffset.UnixEpoch, CreatedBy = "dbuild test" }],
        };
        Descriptor configDescriptor = await store.WriteBlobAsync(config.ToJsonBytes(), MediaTypes.OciConfig, ct);
        var newManifest = new ImageManifest(MediaTypes.OciManifest, configDescriptor, layers);
        Descriptor manifestDescriptor = await store.WriteBlobAsync(newManifest.ToJsonBytes(), MediaTypes.OciManifest, ct);
        await store.TagAsync(Name, manifestDescriptor with { Platform = Platform.LinuxAmd64 }, ct);
        return (store, manifestDescriptor, config);
    }

    [Fact]
    public async Task Store_InspectedBySkopeo_ShowsDigestLayersAndLabels()
    {
        string skopeo = Prerequisites.RequireTool("skopeo", "skopeo");
        (ContentStore store, Descriptor manifest, _) = await WriteImageAsync();
        ProcessResult result = (await ProcessRunner.RunAsync(skopeo, ["inspect", $"oci:{store.Root}:{Name}"], TestContext.Current.CancellationToken)).EnsureSuccess();
        using JsonDocument doc = JsonDocument.Parse(result.StandardOutput);
        Assert.Equal(manifest.Digest.ToString(), doc.RootElement.GetProperty("Digest").GetString());
        Assert.Equal("dbuild", doc.RootElement.GetProperty("Labels").GetProperty("org.example").GetString());
        Assert.Equal("amd64", doc.RootElement.GetProperty("Architecture").GetString());
        Assert.Single(doc.RootElement.GetProperty("Layers").EnumerateArray());
    }

    [Fact]
    public async Task Store_ReadByUmoci_ListsAndUnpacks()
    {
        string umoci = Prerequisites.RequireTool("umoci", "umoci");
        Prerequisites.RequireRoot("umoci unpack keeps file owners");
        (ContentStore store, _, _) = await WriteImageAsync();
        ProcessResult list = (await ProcessRunner.RunAsync(umoci, ["ls", "--layout", store.Root], TestContext.Current.CancellationToken)).EnsureSuccess();
        Assert.Equal(Name, list.StandardOutput.Trim());

        string bundle = _dir.Combine("bundle");
        (await ProcessRunner.RunAsync(umoci, ["unpack", "--image", $"{store.Root}:{Name}", bundle], TestContext.Current.CancellationToken)).EnsureSuccess();
        Assert.True(File.Exists(Path.Combine(bundle, "rootfs", "bin", "busybox")));
        using JsonDocument spec = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(bundle, "config.json"), TestContext.Current.CancellationToken));
        Assert.Equal("sh", spec.RootElement.GetProperty("process").GetProperty("args")[0].GetString());
    }

    [Fact]
    public async Task Store_CopiedBySkopeoIntoAnotherLayout_KeepsManifestDigest()
    {
        string skopeo = Prerequisites.RequireTool("skopeo", "skopeo");
        (ContentStore store, Descriptor manifest, _) = await WriteImageAsync();
        string copy = _dir.Combine("copy");
        (await ProcessRunner.RunAsync(skopeo, ["copy", "--preserve-digests", $"oci:{store.Root}:{Name}", $"oci:{copy}:again"], TestContext.Current.CancellationToken)).EnsureSuccess();
        ContentStore copied = ContentStore.OpenExisting(copy);
        Descriptor? again = await copied.ResolveAsync("again", TestContext.Current.CancellationToken);
        Assert.Equal(manifest.Digest, again?.Digest);
        Assert.True(await copied.VerifyBlobAsync(manifest.Digest, TestContext.Current.CancellationToken));
    }
}
