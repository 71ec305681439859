using Dbuild.Oci;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary>
/// A single-platform base image used for another platform, as BuildKit does it (checked against BuildKit 0.8 in
/// docker 20.10): a platform asked for goes into the config, otherwise the base's platform stays; the store labels the
/// image with its config's platform either way; the resolver says BuildKit's InvalidBaseImagePlatform warning.
/// </summary>
public sealed class BasePlatformTests
{
    private const string BaseName = "docker.io/example/s390x-only:1";
    private static readonly Platform S390x = Platform.Parse("linux/s390x");

    private static async Task<TempDirectory> MakeBaseAsync(CancellationToken ct)
    {
        var temp = new TempDirectory("dbuild-baseplatform-");
        Directory.CreateDirectory(temp.Combine("ctx"));
        File.WriteAllText(temp.Combine("ctx", "a.txt"), "a\n");
        await BuildAsync(temp, "FROM scratch\nCOPY a.txt /a.txt\n", r => r with { Platform = S390x, Tags = [Reference.Parse(BaseName)] }, ct);
        return temp;
    }

    private static Task<BuildResult> BuildAsync(TempDirectory temp, string dockerfile, Func<BuildRequest, BuildRequest> shape, CancellationToken ct) =>
        new ImageBuilder(new BuilderOptions { StateRoot = temp.Combine("root") }).BuildAsync(shape(new BuildRequest
        {
            ContextDirectory = temp.Combine("ctx"),
            DockerfileText = dockerfile,
            Tags = [Reference.Parse("example/app:1")],
        }), cancellationToken: ct);

    private static async Task<(Platform Config, Platform? Label)> PlatformsAsync(TempDirectory temp, CancellationToken ct)
    {
        ContentStore store = ContentStore.ForStateRoot(temp.Combine("root"));
        Descriptor named = (await store.ResolveAsync("docker.io/example/app:1", ct))!;
        ImageManifest manifest = ImageManifest.Parse(await store.ReadBlobBytesAsync(named.Digest, cancellationToken: ct));
        ImageConfig config = ImageConfig.Parse(await store.ReadBlobBytesAsync(manifest.Config.Digest, cancellationToken: ct));
        return (config.Platform, named.Platform);
    }

    [Fact]
    public async Task Build_OtherPlatformAskedFor_ConfigAndLabelSayIt()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = await MakeBaseAsync(ct);

        await BuildAsync(temp, $"FROM {BaseName}\nLABEL x=1\n", r => r with { Platform = Platform.Parse("linux/arm/v7") }, ct);

        (Platform config, Platform? label) = await PlatformsAsync(temp, ct);
        Assert.Equal("linux/arm/v7", config.ToString());
        Assert.Equal(config, label);
    }

    [Fact]
    public async Task Build_NoPlatformAskedFor_KeepsTheBasesPlatformAndLabelsIt()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = await MakeBaseAsync(ct);

        await BuildAsync(temp, $"FROM {BaseName}\nLABEL x=1\n", r => r, ct);

        (Platform config, Platform? label) = await PlatformsAsync(temp, ct);
        Assert.Equal(S390x, config);
        Assert.Equal(config, label);
    }

    [Fact]
    public async Task Build_ThisMachinesPlatformAskedFor_ConfigSaysIt()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = await MakeBaseAsync(ct);

        await BuildAsync(temp, $"FROM {BaseName}\nLABEL x=1\n", r => r with { Platform = Platform.Current, PlatformRequested = true }, ct);

        (Platform config, Platform? label) = await PlatformsAsync(temp, ct);
        Assert.Equal(Platform.Current, config);
        Assert.Equal(config, label);
    }

    [Fact]
    public async Task Resolve_SinglePlatformBaseOfAnotherArchitecture_WarnsLikeBuildKit()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = await MakeBaseAsync(ct);
        var resolver = new ImageResolver(ContentStore.ForStateRoot(temp.Combine("root")), null, Platform.Parse("linux/arm/v7"));

        BaseImage image = await resolver.ResolveAsync(Reference.Parse(BaseName), pull: false, ct);

        Assert.Equal("Base image example/s390x-only:1 was pulled with platform \"linux/s390x\", expected \"linux/arm/v7\" for current build", image.Warning);
    }

    [Fact]
    public async Task Resolve_SamePlatform_NoWarning()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = await MakeBaseAsync(ct);
        var resolver = new ImageResolver(ContentStore.ForStateRoot(temp.Combine("root")), null, S390x);

        Assert.Null((await resolver.ResolveAsync(Reference.Parse(BaseName), pull: false, ct)).Warning);
    }

    [Fact]
    public async Task Resolve_IndexWithoutThePlatform_NamesWhatItHas()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-baseplatform-");
        Directory.CreateDirectory(temp.Combine("ctx"));
        await BuildAsync(temp, "FROM scratch\nLABEL a=1\n", r => r with { Platforms = [S390x, Platform.LinuxArm64], Tags = [Reference.Parse("example/multi:1")] }, ct);
        ContentStore store = ContentStore.ForStateRoot(temp.Combine("root"));
        Digest index = (await store.ResolveAsync("docker.io/example/multi:1", ct))!.Digest;
        var resolver = new ImageResolver(store, null, Platform.Parse("linux/ppc64le"));

        BuildException ex = await Assert.ThrowsAsync<BuildException>(() => resolver.ResolveAsync(Reference.Parse("example/multi:1"), pull: false, ct));

        Assert.Equal($"docker.io/example/multi:1: no match for platform linux/ppc64le in manifest {index}: not found; the index has linux/s390x, linux/arm64.", ex.Message);
    }
}
