using Dbuild.Testing;

namespace Dbuild.Oci.Tests;

/// <summary>Documents written by real tools (testdata/oci/capture.sh) parse and come back byte for byte.</summary>
public sealed class ManifestRoundTripTests
{
    private static string Real(string name) => Path.Combine(RepositoryPaths.TestData, "oci", "real", name);

    [Theory]
    [InlineData("skopeo-oci-manifest.json", MediaTypes.OciManifest)]
    [InlineData("skopeo-docker-manifest.json", MediaTypes.DockerManifest)]
    [InlineData("skopeo-copied-docker-manifest.json", MediaTypes.DockerManifest)]
    [InlineData("buildkit-docker-manifest.json", MediaTypes.DockerManifest)]
    public void Manifest_FromRealTool_RoundTripsByteForByte(string file, string mediaType)
    {
        byte[] original = File.ReadAllBytes(Real(file));
        ImageManifest manifest = ImageManifest.Parse(original);
        Assert.Equal(mediaType, manifest.MediaType);
        Assert.NotEmpty(manifest.Layers);
        Assert.Equal(original, manifest.ToJsonBytes());
        Assert.Equal(Digest.Compute(original), manifest.ToDescriptor().Digest);
    }

    [Theory]
    [InlineData("podman-oci-index.json")]
    [InlineData("podman-docker-list.json")]
    [InlineData("layout-index.json")]
    public void Index_FromRealTool_RoundTripsByteForByte(string file)
    {
        byte[] original = File.ReadAllBytes(Real(file));
        ImageIndex index = ImageIndex.Parse(original);
        Assert.NotEmpty(index.Manifests);
        Assert.Equal(original, index.ToJsonBytes());
        Assert.Equal(Platform.LinuxAmd64, index.Manifests[0].Platform);
    }

    [Theory]
    [InlineData("skopeo-docker-config.json")]
    [InlineData("buildkit-docker-config.json")]
    public void Config_FromRealTool_RoundTripsByteForByte(string file)
    {
        byte[] original = File.ReadAllBytes(Real(file));
        ImageConfig config = ImageConfig.Parse(original);
        Assert.Equal(original, config.ToJsonBytes());
        Assert.Equal(Digest.Compute(original), config.ComputeDigest());
    }

    [Fact]
    public void Config_FromBuildKit_ReadsDockerExtensions()
    {
        ImageConfig config = ImageConfig.Parse(File.ReadAllBytes(Real("buildkit-docker-config.json")));
        ContainerConfig c = Assert.IsType<ContainerConfig>(config.Config);
        Assert.Equal("1000:1000", c.User);
        Assert.Equal(["/bin/sh", "-c"], c.Shell);
        Assert.Equal(["RUN echo onbuild"], c.OnBuild);
        Assert.True(c.ArgsEscaped);
        Assert.Equal("SIGTERM", c.StopSignal);
        Assert.Equal(30_000_000_000, c.Healthcheck!.Interval);
        Assert.Equal(2, c.Healthcheck.Retries);
        Assert.Contains("8080/tcp", c.ExposedPorts!.Keys);
        Assert.Contains(config.History!, h => h.EmptyLayer && h.CreatedBy == "USER 1000:1000");
        Assert.Equal(config.History!.Count(h => !h.EmptyLayer), config.RootFs.DiffIds.Count);
    }

    [Fact]
    public void Config_Changed_IsReserializedWithUnknownFieldsKept()
    {
        byte[] original = """{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Env":["A=1"],"Custom":true},"x-extra":{"k":1}}"""u8.ToArray();
        ImageConfig config = ImageConfig.Parse(original);
        ImageConfig changed = config with { Config = config.Config! with { User = "app" } };
        string json = System.Text.Encoding.UTF8.GetString(changed.ToJsonBytes());
        Assert.Contains("\"User\":\"app\"", json, StringComparison.Ordinal);
        Assert.Contains("\"Custom\":true", json, StringComparison.Ordinal);
        Assert.Contains("\"x-extra\":{\"k\":1}", json, StringComparison.Ordinal);
        Assert.NotEqual(original, changed.ToJsonBytes());
        Assert.Equal(original, config.ToJsonBytes()); // the original is untouched
    }

    [Fact]
    public void Manifest_Built_SerializesInSpecOrderWithoutNulls()
    {
        var config = new Descriptor(MediaTypes.OciConfig, Digest.Compute("{}"u8), 2);
        var layer = new Descriptor(MediaTypes.OciLayerGzip, Digest.EmptySha256, 0);
        var manifest = new ImageManifest(MediaTypes.OciManifest, config, [layer]);
        string json = System.Text.Encoding.UTF8.GetString(manifest.ToJsonBytes());
        Assert.Equal(
            """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0}]}""",
            json);
        Assert.Equal(manifest.ToJsonBytes(), ImageManifest.Parse(manifest.ToJsonBytes()).ToJsonBytes());
    }

    [Theory]
    [InlineData("{", "image manifest")] // truncated JSON
    [InlineData("""{"schemaVersion":1,"config":{"mediaType":"a","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0},"layers":[]}""", "schemaVersion")] // schema 1
    [InlineData("""{"schemaVersion":2,"layers":[]}""", "config")] // no config
    [InlineData("""{"schemaVersion":2,"config":{"mediaType":"a","digest":"sha256:E3B0","size":0},"layers":[]}""", "digest")] // bad digest
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","config":{"mediaType":"a","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0},"layers":[]}""", "mediaType")] // an index type
    [InlineData("""{"schemaVersion":2,"config":{"mediaType":"a","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":-1},"layers":[]}""", "size")] // negative size
    public void Manifest_Invalid_ThrowsNamingTheProblem(string json, string word)
    {
        InvalidContentException ex = Assert.Throws<InvalidContentException>(() => ImageManifest.Parse(System.Text.Encoding.UTF8.GetBytes(json)));
        Assert.Contains(word, ex.Message, StringComparison.OrdinalIgnoreCase);
    }
}
