using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>The same data directory served by Debian's docker-registry (distribution 2.8.2) and by dbuild, both ways.</summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryLayoutCompatTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task PushBothAsync(RegistryServer registry, string busybox, string multiLayout)
    {
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/library/busybox:1");
        await Tools.SkopeoAsync(Ct, "copy", "--all", "--dest-tls-verify=false", $"oci:{multiLayout}:multi", $"docker://{registry.Host}/team/multi:1");
    }

    private static async Task<Dictionary<string, string>> ReadBackAsync(RegistryServer registry, string work)
    {
        Directory.CreateDirectory(work);
        using var client = new HttpClient();
        var digests = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string name, string tag) in new[] { ("library/busybox", "1"), ("team/multi", "1") })
        {
            (_, string digest, _) = await Tools.GetManifestAsync(client, registry.BaseUrl, name, tag, Ct);
            digests[name] = digest;
            // Every blob is readable too: copy the whole thing out.
            await Tools.SkopeoAsync(Ct, "copy", "--all", "--src-tls-verify=false", $"docker://{registry.Host}/{name}:{tag}",
                $"oci:{Path.Combine(work, "out-" + name.Replace('/', '-'))}:x");
        }
        string tags = await client.GetStringAsync($"{registry.BaseUrl}/v2/team/multi/tags/list", Ct);
        Assert.Contains("\"1\"", tags, StringComparison.Ordinal);
        return digests;
    }

    [Fact]
    public async Task Registry2Data_IsServedByDbuild()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        (string multi, Dbuild.Oci.Digest index) = TestImages.MakeMultiArchLayout(busybox, work.Combine("multi"));
        string data = work.Combine("data");
        await using (RegistryServer registry2 = await RegistryServer.StartRegistry2Async(work.Path, data, Ct))
        {
            await PushBothAsync(registry2, busybox, multi);
            await registry2.StopAsync(Ct);
        }
        await using RegistryServer dbuild = await RegistryServer.StartDbuildAsync(work.Path, data, Ct);
        Dictionary<string, string> digests = await ReadBackAsync(dbuild, work.Combine("read"));
        Assert.Equal(index.ToString(), digests["team/multi"]);
        using var client = new HttpClient();
        Assert.Equal("{\"repositories\":[\"library/busybox\",\"team/multi\"]}", await client.GetStringAsync($"{dbuild.BaseUrl}/v2/_catalog", Ct));
    }

    [Fact]
    public async Task DbuildData_IsServedByRegistry2()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        (string multi, Dbuild.Oci.Digest index) = TestImages.MakeMultiArchLayout(busybox, work.Combine("multi"));
        string data = work.Combine("data");
        await using (RegistryServer dbuild = await RegistryServer.StartDbuildAsync(work.Path, data, Ct))
        {
            await PushBothAsync(dbuild, busybox, multi);
            await dbuild.StopAsync(Ct);
        }
        await using RegistryServer registry2 = await RegistryServer.StartRegistry2Async(work.Path, data, Ct);
        Dictionary<string, string> digests = await ReadBackAsync(registry2, work.Combine("read"));
        Assert.Equal(index.ToString(), digests["team/multi"]);
        using var client = new HttpClient();
        Assert.Equal("{\"repositories\":[\"library/busybox\",\"team/multi\"]}\n", await client.GetStringAsync($"{registry2.BaseUrl}/v2/_catalog", Ct));
    }
}
