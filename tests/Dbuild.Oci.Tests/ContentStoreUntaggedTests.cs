using Dbuild.Testing;

namespace Dbuild.Oci.Tests;

/// <summary>The local store's docker semantics for moved names: the image left behind stays in the index without a name.</summary>
public sealed class ContentStoreUntaggedTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static async Task<Descriptor> ManifestAsync(ContentStore store, string text) =>
        await store.WriteBlobAsync(System.Text.Encoding.UTF8.GetBytes(text), MediaTypes.OciManifest, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Tag_MovedNameInStateRoot_OldTargetStaysUnnamed()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        ContentStore store = ContentStore.ForStateRoot(_dir.Path);
        Descriptor first = await ManifestAsync(store, "one");
        Descriptor second = await ManifestAsync(store, "two");
        await store.TagAsync("docker.io/library/app:1", first, ct);

        await store.TagAsync("docker.io/library/app:1", second, ct);

        Assert.Equal(second.Digest, (await store.ResolveAsync("docker.io/library/app:1", ct))!.Digest);
        Descriptor dangling = Assert.Single(await store.ListUnnamedAsync(ct));
        Assert.Equal(first.Digest, dangling.Digest);
        Assert.Null(dangling.Annotations); // neither ref.name nor containerd's image name
    }

    [Fact]
    public async Task Tag_OldTargetStillNamedElsewhere_NotKept()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        ContentStore store = ContentStore.ForStateRoot(_dir.Path);
        Descriptor first = await ManifestAsync(store, "one");
        await store.TagAsync("docker.io/library/app:1", first, ct);
        await store.TagAsync("docker.io/library/app:2", first, ct);

        await store.TagAsync("docker.io/library/app:1", await ManifestAsync(store, "two"), ct);

        Assert.Empty(await store.ListUnnamedAsync(ct));
    }

    [Fact]
    public async Task Tag_DanglingImageGetsAName_NoLongerUnnamed()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        ContentStore store = ContentStore.ForStateRoot(_dir.Path);
        Descriptor first = await ManifestAsync(store, "one");
        Assert.True(await store.AddUnnamedAsync(first, ct));
        Assert.False(await store.AddUnnamedAsync(first, ct)); // once

        await store.TagAsync("docker.io/library/app:1", first, ct);

        Assert.Empty(await store.ListUnnamedAsync(ct));
        Assert.Single(await store.ListNamesAsync(ct));
    }

    [Fact]
    public async Task Tag_PlainLayout_MovedNameLeavesNothing()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        ContentStore store = ContentStore.Open(_dir.Combine("layout")); // an OCI output or cache layout: no docker semantics
        await store.TagAsync("latest", await ManifestAsync(store, "one"), ct);

        await store.TagAsync("latest", await ManifestAsync(store, "two"), ct);

        Assert.Empty(await store.ListUnnamedAsync(ct));
        Assert.Single((await store.ReadIndexAsync(ct)).Manifests);
    }

    [Fact]
    public async Task RemoveEntries_NamesChangedMeanwhile_RemovesNothing()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        ContentStore store = ContentStore.ForStateRoot(_dir.Path);
        Descriptor first = await ManifestAsync(store, "one");
        await store.TagAsync("docker.io/library/app:1", first, ct);
        await store.TagAsync("docker.io/library/app:2", first, ct); // another process tagged it after the caller looked

        Assert.False(await store.RemoveEntriesAsync(first.Digest, ["docker.io/library/app:1"], ct));
        Assert.Equal(2, (await store.ListNamesAsync(ct)).Count);
        Assert.True(await store.RemoveEntriesAsync(first.Digest, ["docker.io/library/app:1", "docker.io/library/app:2"], ct));
        Assert.Empty((await store.ReadIndexAsync(ct)).Manifests);
    }
}
