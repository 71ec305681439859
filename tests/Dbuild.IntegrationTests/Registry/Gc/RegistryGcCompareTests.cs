using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dbuild.Oci;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry.Gc;

/// <summary>
/// <c>dbuild registry garbage-collect</c> and registry:2's (distribution 2.8.2) <c>registry garbage-collect</c> on copies
/// of one data directory that registry:2 itself wrote: what each deletes. They agree on blobs and revisions, except
/// where docs/registry-gc.md says dbuild differs: it also removes layer links to the blobs it deletes, and with
/// <c>--delete-untagged</c> it keeps the children of a tagged index (registry:2 2.8 deletes them and their blobs).
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryGcCompareTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GarbageCollect_SameDataAsRegistry2_DeletesTheSameBlobsAndRevisions_AndTheLinksToThem()
    {
        using var work = new TempDirectory();
        Fixture data = await BuildDataAsync(work);
        Layout registry2 = await CollectAsync(work, data, "r2", dbuild: false, deleteUntagged: false);
        Layout dbuild = await CollectAsync(work, data, "db", dbuild: true, deleteUntagged: false);

        Assert.Equal(registry2.Blobs, dbuild.Blobs);
        Assert.Equal(registry2.Revisions, dbuild.Revisions);
        Assert.DoesNotContain(Blob(data.Gone.Layer), dbuild.Blobs); // the deleted manifest's own layer went in both
        Assert.Contains(Blob(data.Untagged.Layer), dbuild.Blobs); // without --delete-untagged an untagged revision is kept
        // registry:2 2.8 leaves the links to blobs it deleted; dbuild removes exactly those.
        Assert.Equal(new[] { $"team/gone/{data.Gone.Layer.Encoded}", $"team/gone/{data.Gone.Config.Encoded}" }.Order(StringComparer.Ordinal), registry2.LayerLinks.Except(dbuild.LayerLinks).Order(StringComparer.Ordinal));
        Assert.Empty(dbuild.LayerLinks.Except(registry2.LayerLinks));
        Assert.Equal(registry2.Summary, dbuild.Summary); // "N blobs marked, M blobs and K manifests eligible for deletion"
    }

    [Fact]
    public async Task GarbageCollect_DeleteUntagged_KeepsTheChildrenOfATaggedIndexWhereRegistry2DeletesThem()
    {
        using var work = new TempDirectory();
        Fixture data = await BuildDataAsync(work);
        Layout registry2 = await CollectAsync(work, data, "r2", dbuild: false, deleteUntagged: true);
        Layout dbuild = await CollectAsync(work, data, "db", dbuild: true, deleteUntagged: true);

        // Both delete the revision the tag moved away from, and its own layer.
        Assert.DoesNotContain($"team/untagged/{data.Untagged.Digest.Encoded}", dbuild.Revisions);
        Assert.DoesNotContain($"team/untagged/{data.Untagged.Digest.Encoded}", registry2.Revisions);
        Assert.DoesNotContain(Blob(data.Untagged.Layer), dbuild.Blobs);
        Assert.DoesNotContain(Blob(data.Untagged.Layer), registry2.Blobs);
        // registry:2 2.8 deletes the index's children (untagged by themselves) and the arm64 child's config and layer,
        // leaving team/multi:1 unpullable; dbuild keeps them. Nothing else differs.
        string[] children = [.. data.Children.Select(c => $"team/multi/{c.Encoded}").Order(StringComparer.Ordinal)];
        Assert.Equal(children, dbuild.Revisions.Except(registry2.Revisions).Order(StringComparer.Ordinal));
        Assert.Empty(registry2.Revisions.Except(dbuild.Revisions));
        Assert.Equal(data.Arm64Blobs.Select(Blob).Order(StringComparer.Ordinal), dbuild.Blobs.Except(registry2.Blobs).Order(StringComparer.Ordinal));
        Assert.Empty(registry2.Blobs.Except(dbuild.Blobs));
    }

    [Fact]
    public async Task GarbageCollect_DryRun_DeletesNothing()
    {
        using var work = new TempDirectory();
        Fixture data = await BuildDataAsync(work);
        Layout before = Layout.Read(data.Root, "");
        Layout after = await CollectAsync(work, data, "dry", dbuild: true, deleteUntagged: true, dryRun: true);
        Assert.Equal(before.Blobs, after.Blobs);
        Assert.Equal(before.Revisions, after.Revisions);
        Assert.Equal(before.LayerLinks, after.LayerLinks);
        Assert.Contains("blob eligible for deletion: ", after.Output, StringComparison.Ordinal);
    }

    private static string Blob(Digest digest) => digest.Encoded;

    /// <summary>
    /// registry:2 serves and receives: busybox (library/busybox:1), a two-platform index over busybox and a tiny arm64
    /// image (team/multi:1), an image deleted by digest (team/gone), and a tag moved to a second image (team/untagged).
    /// </summary>
    private static async Task<Fixture> BuildDataAsync(TempDirectory work)
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        (string multi, Digest index) = TestImages.MakeMultiArchLayout(busybox, work.Combine("multi"));
        string root = work.Combine("data");
        await using RegistryServer registry = await RegistryServer.StartRegistry2Async(work.Path, root, Ct);
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/library/busybox:1");
        await Tools.SkopeoAsync(Ct, "copy", "--all", "--dest-tls-verify=false", $"oci:{multi}:multi", $"docker://{registry.Host}/team/multi:1");
        using var client = new HttpClient();
        (byte[] indexBytes, _, _) = await Tools.GetManifestAsync(client, registry.BaseUrl, "team/multi", "1", Ct);
        Assert.Equal(index, Digest.Compute(indexBytes));
        using var document = System.Text.Json.JsonDocument.Parse(indexBytes);
        Digest[] children = [.. document.RootElement.GetProperty("manifests").EnumerateArray().Select(m => Digest.Parse(m.GetProperty("digest").GetString()!))];
        (byte[] arm64, _, _) = await Tools.GetManifestAsync(client, registry.BaseUrl, "team/multi", children[1].ToString(), Ct);
        using var arm64Document = System.Text.Json.JsonDocument.Parse(arm64);
        Digest[] arm64Blobs = [Digest.Parse(arm64Document.RootElement.GetProperty("config").GetProperty("digest").GetString()!),
            Digest.Parse(arm64Document.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!)];

        Pushed gone = await PushAsync(client, registry.BaseUrl, "team/gone", "1", "gone");
        using (HttpResponseMessage deleted = await client.DeleteAsync($"{registry.BaseUrl}/v2/team/gone/manifests/{gone.Digest}", Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        }
        await PushAsync(client, registry.BaseUrl, "team/gone", "2", "kept in team/gone"); // the repository keeps a tag
        Pushed untagged = await PushAsync(client, registry.BaseUrl, "team/untagged", "1", "first");
        await PushAsync(client, registry.BaseUrl, "team/untagged", "1", "second"); // the tag moves: the first is untagged
        await registry.StopAsync(Ct);
        return new Fixture(root, gone, untagged, children, arm64Blobs);
    }

    private static async Task<Layout> CollectAsync(TempDirectory work, Fixture data, string name, bool dbuild, bool deleteUntagged, bool dryRun = false)
    {
        string root = work.Combine(name);
        TestImages.CopyDirectory(data.Root, root);
        string config = work.Combine($"{name}.yml");
        await File.WriteAllTextAsync(config, $"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root}\n", Ct);
        List<string> flags = [.. deleteUntagged ? ["--delete-untagged"] : Array.Empty<string>(), .. dryRun ? ["--dry-run"] : Array.Empty<string>()];
        ProcessResult result = dbuild
            ? await DbuildCli.RunAsync(["registry", "garbage-collect", config, .. flags], Ct, timeout: TimeSpan.FromMinutes(2))
            : await ProcessRunner.RunAsync(RegistryServer.DockerRegistry, ["garbage-collect", .. flags, config], Ct, timeout: TimeSpan.FromMinutes(2));
        result.EnsureSuccess();
        return Layout.Read(root, result.StandardOutput);
    }

    private static async Task<Pushed> PushAsync(HttpClient client, string baseUrl, string repository, string tag, string text)
    {
        byte[] config = Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"comment\":\"{text}\"}}");
        byte[] layer = Encoding.UTF8.GetBytes($"layer of {text}");
        foreach (byte[] blob in new[] { config, layer })
        {
            using HttpResponseMessage start = await client.PostAsync($"{baseUrl}/v2/{repository}/blobs/uploads/", null, Ct);
            Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
            string location = start.Headers.Location!.IsAbsoluteUri ? start.Headers.Location.ToString() : baseUrl + start.Headers.Location;
            using var body = new ByteArrayContent(blob);
            body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using HttpResponseMessage put = await client.PutAsync($"{location}{(location.Contains('?', StringComparison.Ordinal) ? '&' : '?')}digest={Digest.Compute(blob)}", body, Ct);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }
        string manifest = $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{Digest.Compute(config)}\",\"size\":{config.Length}}},"
            + $"\"layers\":[{{\"mediaType\":\"{MediaTypes.OciLayerGzip}\",\"digest\":\"{Digest.Compute(layer)}\",\"size\":{layer.Length}}}]}}";
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(manifest));
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        using HttpResponseMessage response = await client.PutAsync($"{baseUrl}/v2/{repository}/manifests/{tag}", content, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return new Pushed(Digest.Compute(Encoding.UTF8.GetBytes(manifest)), Digest.Compute(config), Digest.Compute(layer));
    }

    private sealed record Pushed(Digest Digest, Digest Config, Digest Layer);

    private sealed record Fixture(string Root, Pushed Gone, Pushed Untagged, Digest[] Children, Digest[] Arm64Blobs);

    /// <summary>Blob data (by hex), layer links and revision links (as <c>repository/hex</c>) left in a data directory.</summary>
    private sealed record Layout(SortedSet<string> Blobs, SortedSet<string> LayerLinks, SortedSet<string> Revisions, string Output, string Summary)
    {
        public static Layout Read(string root, string output)
        {
            string v2 = Path.Combine(root, "docker", "registry", "v2");
            var layout = new Layout(new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal), output,
                output.Split('\n').FirstOrDefault(l => l.Contains("eligible for deletion", StringComparison.Ordinal) && l.Contains("marked", StringComparison.Ordinal))?.Trim() ?? "");
            foreach (string file in Directory.EnumerateFiles(Path.Combine(v2, "blobs"), "data", SearchOption.AllDirectories))
            {
                layout.Blobs.Add(Path.GetFileName(Path.GetDirectoryName(file))!);
            }
            string repositories = Path.Combine(v2, "repositories");
            foreach (string file in Directory.EnumerateFiles(repositories, "link", SearchOption.AllDirectories))
            {
                string[] parts = Path.GetRelativePath(repositories, file).Split(Path.DirectorySeparatorChar);
                int layers = Array.IndexOf(parts, "_layers");
                int manifests = Array.IndexOf(parts, "_manifests");
                if (layers > 0) { layout.LayerLinks.Add($"{string.Join('/', parts[..layers])}/{parts[^2]}"); }
                else if (manifests > 0 && parts[manifests + 1] == "revisions") { layout.Revisions.Add($"{string.Join('/', parts[..manifests])}/{parts[^2]}"); }
            }
            return layout;
        }
    }
}
