using System.Net;
using System.Text.Json.Nodes;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry.Notifications;

/// <summary>
/// Differential: Debian's registry:2 (distribution 2.8) and dbuild send to the same receiver for the same skopeo push,
/// pull and delete; the envelopes must have the same events with the same fields and values (hosts and ids aside).
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryNotificationsCompatTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SameSkopeoPushPullDelete_Registry2AndDbuild_SendTheSameEnvelopes()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync(RegistryServer.FreePort(), Ct);
        int r2Port = RegistryServer.FreePort();
        string r2Root = work.Combine("r2");
        string r2Config = RegistryServer.WriteConfig(work.Path, r2Root, r2Port,
            extra: RegistryNotificationsTests.Notifications(("test", receiver.Url("/r2"), "")));
        await using RegistryServer registry2 = await RegistryServer.StartRegistry2Async(r2Config, r2Port, r2Root, Ct);
        await using RegistryServer dbuild = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("dbuild"), Ct,
            extra: RegistryNotificationsTests.Notifications(("test", receiver.Url("/dbuild"), "")));

        using var client = new HttpClient();
        foreach (RegistryServer registry in new[] { registry2, dbuild })
        {
            await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/library/busybox:1");
            await Tools.SkopeoAsync(Ct, "copy", "--src-tls-verify=false", $"docker://{registry.Host}/library/busybox:1", $"oci:{work.Combine($"back-{registry.Port}")}:copy");
            (_, string digest, _) = await Tools.GetManifestAsync(client, registry.BaseUrl, "library/busybox", "1", Ct);
            using HttpResponseMessage deleted = await client.DeleteAsync($"{registry.BaseUrl}/v2/library/busybox/manifests/{digest}", Ct);
            Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        }
        // push 3, pull 3 (skopeo) + 1 (the GET above), delete 2 (the manifest and its tag)
        await receiver.WaitForAsync(r => r.Events("/r2").Count >= 9 && r.Events("/dbuild").Count >= r.Events("/r2").Count, "as many events from dbuild as from registry:2", Ct);

        List<string> expected = Normalize(receiver.Events("/r2"), registry2);
        List<string> actual = Normalize(receiver.Events("/dbuild"), dbuild);
        Assert.Equal(expected, actual);
        Assert.Equal(Shape(receiver.Events("/r2")[0]), Shape(receiver.Events("/dbuild")[0]));
    }

    /// <summary>Each event without what differs by nature (ids, times, ports, instance), sorted: blobs are pushed in parallel.</summary>
    private static List<string> Normalize(IReadOnlyList<JsonObject> events, RegistryServer registry) => events.Select(e =>
    {
        var copy = (JsonObject)e.DeepClone();
        copy.Remove("id");
        copy.Remove("timestamp");
        copy.Remove("source");
        copy["request"]!.AsObject().Remove("id");
        copy["request"]!.AsObject().Remove("addr");
        copy["request"]!["host"] = "HOST";
        if (copy["target"]!["url"] is { } url) { copy["target"]!["url"] = ((string)url!).Replace(registry.Host, "HOST", StringComparison.Ordinal); }
        return copy.ToJsonString();
    }).Order(StringComparer.Ordinal).ToList();

    /// <summary>The field names at every level, in order.</summary>
    private static string Shape(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.Select(p => $"{p.Key}:{Shape(p.Value)}")) + "}",
        _ => "v",
    };
}
