using Dbuild.Oci;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary>
/// A name pointing at an index of which only one platform's content is stored (what <c>pull --platform</c> leaves, as
/// containerd does): every local-store operation reads the stored platform, and verify tells a pulled-for-one-platform
/// index from one that lost a blob.
/// </summary>
public sealed class PartialIndexTests
{
    private const string Name = "docker.io/example/multi:1";
    private static readonly Platform S390x = Platform.Parse("linux/s390x");
    private static readonly Platform Ppc64le = Platform.Parse("linux/ppc64le");

    /// <summary>Builds a two-platform index (s390x and ppc64le: neither is this machine's), then drops ppc64le's manifest, config and layer.</summary>
    private static async Task<(TempDirectory Temp, ContentStore Store, Descriptor Top, StoredManifest Kept)> MakeAsync(CancellationToken ct)
    {
        var temp = new TempDirectory("dbuild-partial-");
        Directory.CreateDirectory(temp.Combine("ctx"));
        File.WriteAllText(temp.Combine("ctx", "s390x.txt"), "s390x\n");
        File.WriteAllText(temp.Combine("ctx", "ppc64le.txt"), "ppc64le\n");
        await new ImageBuilder(new BuilderOptions { StateRoot = temp.Combine("root") }).BuildAsync(new BuildRequest
        {
            ContextDirectory = temp.Combine("ctx"),
            DockerfileText = "FROM scratch\nARG TARGETARCH\nCOPY ${TARGETARCH}.txt /arch.txt\n",
            Tags = [Reference.Parse(Name)],
            Platforms = [S390x, Ppc64le],
        }, cancellationToken: ct);
        ContentStore store = ContentStore.ForStateRoot(temp.Combine("root"));
        Descriptor top = (await store.ResolveAsync(Name, ct))!;
        StoredImage full = await StoredImage.ReadAsync(store, top, ct);
        StoredManifest dropped = full.Manifests.Single(m => m.Platform == Ppc64le);
        foreach (Descriptor blob in StoredManifest.BlobsOf(dropped.Manifest!).Append(dropped.Descriptor)) { store.DeleteBlob(blob.Digest); }
        return (temp, store, top, full.Manifests.Single(m => m.Platform == S390x));
    }

    [Fact]
    public async Task Read_OnePlatformStored_UsableButNotComplete()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        (TempDirectory temp, ContentStore store, Descriptor top, StoredManifest kept) = await MakeAsync(ct);
        using (temp)
        {
            StoredImage image = await StoredImage.ReadAsync(store, top, ct);

            Assert.False(image.IsComplete);
            Assert.Equal(kept.Descriptor, Assert.Single(image.Usable).Descriptor);
            Assert.Equal(kept.Descriptor, image.Default?.Descriptor); // not this machine's platform, but the one stored
            Assert.Empty(image.MissingContent()); // a platform never pulled is not missing
            Assert.Null(image.EntryFor(Platform.LinuxArm64)); // the index has nothing for it
            Assert.False(image.EntryFor(Ppc64le)!.IsPresent);
        }
    }

    [Fact]
    public async Task LocalImages_OnePlatformStored_ListInspectTagRemovePrune()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        (TempDirectory temp, ContentStore store, Descriptor top, StoredManifest kept) = await MakeAsync(ct);
        using (temp)
        {
            var images = new LocalImages(temp.Combine("root"));

            LocalImage listed = Assert.Single(await images.ListAsync(ct));
            (ImageManifest manifest, ImageConfig config) = await images.ReadImageAsync(listed.Manifest, ct);
            await images.TagAsync(Name, Reference.Parse("example/other:2"), ct);
            await images.PruneAsync(all: true, ct);
            IReadOnlyList<string> removed = await images.RemoveAsync("example/other:2", ct);

            Assert.Equal(top.Digest, listed.Manifest.Digest);
            Assert.Equal(kept.Manifest!.Config.Digest, listed.ImageId);
            Assert.Equal(S390x, listed.Platform);
            Assert.Equal("s390x", config.Architecture);
            Assert.Equal(kept.Descriptor.Digest, manifest.ComputeDigest());
            Assert.Equal(["docker.io/example/other:2"], removed);
            Assert.True((await StoredImage.ReadAsync(store, top, ct)).Default?.IsPresent); // prune kept the stored platform
        }
    }

    [Fact]
    public async Task MissingContent_LayerOfStoredPlatformDeleted_NamesItAndNameStaysRemovable()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        (TempDirectory temp, ContentStore store, Descriptor top, StoredManifest kept) = await MakeAsync(ct);
        using (temp)
        {
            Digest layer = kept.Manifest!.Layers[0].Digest;
            store.DeleteBlob(layer);
            var images = new LocalImages(temp.Combine("root"));

            (Digest digest, string what) = Assert.Single((await StoredImage.ReadAsync(store, top, ct)).MissingContent());
            Assert.Equal(layer, digest);
            Assert.Equal("layer 1 of linux/s390x", what);
            Assert.Empty(await images.ListAsync(ct)); // nothing usable to list
            Assert.Equal([Name], await images.RemoveAsync("example/multi:1", ct));
        }
    }

    [Fact]
    public async Task Find_LayerOfStoredPlatformDeleted_SaysWhatIsMissing()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        (TempDirectory temp, ContentStore store, _, StoredManifest kept) = await MakeAsync(ct);
        using (temp)
        {
            Digest layer = kept.Manifest!.Layers[0].Digest;
            store.DeleteBlob(layer);

            BuildException ex = await Assert.ThrowsAsync<BuildException>(() => new LocalImages(temp.Combine("root")).FindAsync("example/multi:1", ct));

            Assert.Equal($"example/multi:1 is in the local store but not usable: it lacks layer 1 of linux/s390x {layer}. " +
                "Pull it again or remove it ('dbuild verify' checks the store).", ex.Message);
        }
    }

    [Fact]
    public async Task MissingContent_NoManifestOfTheIndexStored_NamesThem()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        (TempDirectory temp, ContentStore store, Descriptor top, StoredManifest kept) = await MakeAsync(ct);
        using (temp)
        {
            store.DeleteBlob(kept.Descriptor.Digest);

            IReadOnlyList<(Digest Digest, string What)> missing = (await StoredImage.ReadAsync(store, top, ct)).MissingContent();

            Assert.Equal(["manifest for linux/s390x", "manifest for linux/ppc64le"], missing.Select(m => m.What));
            Assert.Contains((kept.Descriptor.Digest, "manifest for linux/s390x"), missing);
        }
    }

    [Fact]
    public async Task MissingContent_IndexDeleted_NamesTheIndex()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        (TempDirectory temp, ContentStore store, Descriptor top, _) = await MakeAsync(ct);
        using (temp)
        {
            store.DeleteBlob(top.Digest);

            Assert.Equal([(top.Digest, "index")], (await StoredImage.ReadAsync(store, top, ct)).MissingContent());
        }
    }
}
