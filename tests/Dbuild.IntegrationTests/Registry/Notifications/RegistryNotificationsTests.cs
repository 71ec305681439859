using System.Net;
using System.Text.Json.Nodes;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry.Notifications;

/// <summary>
/// registry:2's <c>notifications.endpoints</c> on a real <c>dbuild registry serve</c>: skopeo pushes, pulls and
/// deletes, a real HTTP receiver (<see cref="WebhookReceiver"/>) gets registry:2's envelope; it answers 500 and the
/// events still arrive; the registry stops with undelivered events and sends them after a restart; ignored actions and
/// media types are filtered.
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryNotificationsTests
{
    private const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A <c>notifications:</c> block with one endpoint per (name, url, extra lines) given.</summary>
    internal static string Notifications(params (string Name, string Url, string Extra)[] endpoints) =>
        "notifications:\n  endpoints:\n" + string.Concat(endpoints.Select(e =>
            $"    - name: {e.Name}\n      url: {e.Url}\n      timeout: 5s\n      threshold: 3\n      backoff: 200ms\n{e.Extra}"));

    private static int Count(WebhookReceiver r, string action, string path = "/hook") => r.Events(path).Count(e => (string?)e["action"] == action);

    private static long BlobSize(string layout, string digest) => new FileInfo(Path.Combine(layout, "blobs", "sha256", digest["sha256:".Length..])).Length;

    [Fact]
    public async Task SkopeoPushPullDelete_ReceiverGetsRegistry2Events()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync(RegistryServer.FreePort(), Ct);
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct,
            extra: Notifications(("test", receiver.Url(), "      headers:\n        X-Test: [one]\n")));

        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/library/busybox:1");
        await receiver.WaitForAsync(r => Count(r, "push") == 3, "3 push events", Ct);
        List<JsonObject> pushes = receiver.Events().ToList();
        JsonObject manifest = Assert.Single(pushes, e => (string?)e["target"]!["mediaType"] == OciManifest);
        string digest = (string)manifest["target"]!["digest"]!;
        Assert.Equal("1", (string?)manifest["target"]!["tag"]);
        Assert.Equal($"{registry.BaseUrl}/v2/library/busybox/manifests/{digest}", (string?)manifest["target"]!["url"]);
        Assert.Equal(BlobSize(busybox, digest), (long)manifest["target"]!["size"]!);
        foreach (JsonObject blob in pushes.Where(e => e != manifest))
        {
            JsonNode target = blob["target"]!;
            string blobDigest = (string)target["digest"]!;
            Assert.Equal("application/octet-stream", (string?)target["mediaType"]);
            Assert.Equal(BlobSize(busybox, blobDigest), (long)target["size"]!);
            Assert.Equal((long)target["size"]!, (long)target["length"]!);
            Assert.Equal("library/busybox", (string?)target["repository"]);
            Assert.Equal($"{registry.BaseUrl}/v2/library/busybox/blobs/{blobDigest}", (string?)target["url"]);
            Assert.Null(target["tag"]);
        }
        foreach (JsonObject e in pushes)
        {
            Assert.True(Guid.TryParse((string?)e["id"], out _));
            Assert.True(DateTimeOffset.TryParse((string?)e["timestamp"], out _));
            Assert.Equal("PUT", (string?)e["request"]!["method"]);
            Assert.Equal(registry.Host, (string?)e["request"]!["host"]);
            Assert.StartsWith("127.0.0.1:", (string?)e["request"]!["addr"], StringComparison.Ordinal);
            Assert.StartsWith("skopeo/", (string?)e["request"]!["useragent"], StringComparison.Ordinal);
            Assert.Empty(e["actor"]!.AsObject()); // anonymous: registry:2 sends {}
            Assert.EndsWith($":{registry.Port}", (string?)e["source"]!["addr"], StringComparison.Ordinal);
            Assert.False(string.IsNullOrEmpty((string?)e["source"]!["instanceID"]));
        }
        ReceivedPost post = receiver.Posts[0];
        Assert.Equal("application/vnd.docker.distribution.events.v1+json", post.ContentType);
        Assert.Equal(["one"], post.Headers["X-Test"]);
        Assert.Single(post.Events); // one event per POST, as registry:2 sends them

        await Tools.SkopeoAsync(Ct, "copy", "--src-tls-verify=false", $"docker://{registry.Host}/library/busybox:1", $"oci:{work.Combine("back")}:copy");
        await receiver.WaitForAsync(r => Count(r, "pull") == 3, "3 pull events", Ct);
        JsonObject pulled = Assert.Single(receiver.Events(), e => (string?)e["action"] == "pull" && (string?)e["target"]!["mediaType"] == OciManifest);
        Assert.Equal((digest, "1", "GET"), ((string?)pulled["target"]!["digest"], (string?)pulled["target"]!["tag"], (string?)pulled["request"]!["method"]));

        using var client = new HttpClient();
        using HttpResponseMessage deleted = await client.DeleteAsync($"{registry.BaseUrl}/v2/library/busybox/manifests/{digest}", Ct);
        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        await receiver.WaitForAsync(r => Count(r, "delete") == 2, "2 delete events (the manifest and its tag)", Ct);
        List<JsonObject> deletes = receiver.Events().Where(e => (string?)e["action"] == "delete").ToList();
        Assert.Equal(new JsonObject { ["digest"] = digest, ["repository"] = "library/busybox" }.ToJsonString(), deletes[0]["target"]!.ToJsonString());
        Assert.Equal(new JsonObject { ["repository"] = "library/busybox", ["tag"] = "1" }.ToJsonString(), deletes[1]["target"]!.ToJsonString());
    }

    [Fact]
    public async Task ReceiverAnswers500Twice_EventsArriveAfterRetries_AndMetricsCountTheFailures()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync(RegistryServer.FreePort(), Ct);
        receiver.FailNext = 2;
        (RegistryServer started, int debugPort) = await RegistryMetricsTests.StartAsync(work, Notifications(("test", receiver.Url(), "")));
        await using RegistryServer registry = started;

        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/library/busybox:1");
        await receiver.WaitForAsync(r => Count(r, "push") == 3, "3 push events after two 500 answers", Ct);
        Assert.Equal(2, receiver.Refused);
        Assert.Equal(3, receiver.Events().Select(e => (string?)e["id"]).Distinct().Count());

        using var client = new HttpClient();
        (_, Dictionary<string, double> samples) = await RegistryMetricsTests.ScrapeAndCheckAsync(client, debugPort, work.Path);
        Assert.Equal(3, samples.ValueOrZero("registry_notifications_events_total{endpoint=\"test\",type=\"Events\"}"));
        Assert.Equal(3, samples.ValueOrZero("registry_notifications_events_total{endpoint=\"test\",type=\"Successes\"}"));
        Assert.Equal(2, samples.ValueOrZero("registry_notifications_events_total{endpoint=\"test\",type=\"Failures\"}"));
        Assert.Equal(0, samples.ValueOrZero("registry_notifications_events_total{endpoint=\"test\",type=\"Errors\"}"));
        Assert.Equal(0, samples.ValueOrZero("registry_notifications_pending{endpoint=\"test\"}"));
    }

    [Fact]
    public async Task RegistryStoppedWithUndeliveredEvents_SendsThemAfterRestart()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        int receiverPort = RegistryServer.FreePort(), port = RegistryServer.FreePort();
        string root = work.Combine("data");
        string config = RegistryServer.WriteConfig(work.Path, root, port, extra: Notifications(("test", $"http://127.0.0.1:{receiverPort}/hook", "")));
        string queue = Path.Combine(root, "dbuild", "notifications", "test", "events");

        await using (RegistryServer first = await RegistryServer.StartDbuildAsync(config, port, root, Ct))
        {
            // The receiver is down: the events wait in storage.
            await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{first.Host}/library/busybox:1");
            for (int i = 0; i < 100 && (!Directory.Exists(queue) || Directory.GetFiles(queue).Length < 3); i++) { await Task.Delay(100, Ct); }
            Assert.Equal(0, await first.StopAsync(Ct));
        }
        Assert.Equal(3, Directory.GetFiles(queue).Length);

        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync(receiverPort, Ct);
        await using RegistryServer second = await RegistryServer.StartDbuildAsync(config, port, root, Ct);
        await receiver.WaitForAsync(r => Count(r, "push") == 3, "the 3 push events queued before the restart", Ct);
        string[] actions = receiver.Events().Select(e => $"{e["target"]!["mediaType"]}").ToArray();
        Assert.Equal(OciManifest, actions[^1]); // oldest first: the manifest was pushed after its blobs
        for (int i = 0; i < 100 && Directory.GetFiles(queue).Length > 0; i++) { await Task.Delay(100, Ct); }
        Assert.Empty(Directory.GetFiles(queue));
    }

    [Fact]
    public async Task IgnoredActionsAndMediaTypes_AreNotSentThere_OtherEndpointsGetEverything()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync(RegistryServer.FreePort(), Ct);
        string filters = "      ignoredmediatypes: [application/octet-stream]\n      ignore:\n        actions: [pull]\n";
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct,
            extra: Notifications(("filtered", receiver.Url(), filters), ("all", receiver.Url("/all"), "")));

        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/library/busybox:1");
        await Tools.SkopeoAsync(Ct, "copy", "--src-tls-verify=false", $"docker://{registry.Host}/library/busybox:1", $"oci:{work.Combine("back")}:copy");
        using var client = new HttpClient();
        using HttpResponseMessage deleted = await client.DeleteAsync($"{registry.BaseUrl}/v2/library/busybox/manifests/1", Ct);
        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);

        // Each endpoint's events arrive in order, so once the tag delete arrived everything before it has.
        await receiver.WaitForAsync(r => Count(r, "delete") == 1 && Count(r, "delete", "/all") == 1, "the tag delete on both endpoints", Ct);
        Assert.Equal(["push " + OciManifest, "delete "], receiver.Events().Select(e => $"{e["action"]} {e["target"]!["mediaType"]}"));
        Assert.Equal(3, Count(receiver, "push", "/all"));
        Assert.Equal(3, Count(receiver, "pull", "/all"));
    }

    [Fact]
    public async Task TwoReplicasOnOneStorage_EachEventIsSentOnce()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        await using WebhookReceiver receiver = await WebhookReceiver.StartAsync(RegistryServer.FreePort(), Ct);
        string root = work.Combine("data"), extra = Notifications(("test", receiver.Url(), ""));
        await using RegistryServer a = await RegistryServer.StartDbuildAsync(work.Path, root, Ct, extra: extra);
        await using RegistryServer b = await RegistryServer.StartDbuildAsync(work.Path, root, Ct, extra: extra);

        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{a.Host}/library/busybox:1");
        await Tools.SkopeoAsync(Ct, "copy", "--src-tls-verify=false", $"docker://{b.Host}/library/busybox:1", $"oci:{work.Combine("back")}:copy");
        using var client = new HttpClient();
        using HttpResponseMessage deleted = await client.DeleteAsync($"{a.BaseUrl}/v2/library/busybox/manifests/1", Ct);
        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);

        await receiver.WaitForAsync(r => Count(r, "push") >= 3 && Count(r, "pull") >= 3 && Count(r, "delete") >= 1, "every event of both replicas", Ct);
        // Both replicas poll the shared queue; a further round of polling must not send anything twice.
        using (HttpResponseMessage again = await client.DeleteAsync($"{b.BaseUrl}/v2/library/busybox/blobs/{receiver.Events()[0]["target"]!["digest"]}", Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        }
        await receiver.WaitForAsync(r => Count(r, "delete") >= 2, "the blob delete", Ct);
        List<string?> ids = receiver.Events().Select(e => (string?)e["id"]).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal((3, 3, 2), (Count(receiver, "push"), Count(receiver, "pull"), Count(receiver, "delete")));
        Assert.Equal(2, receiver.Events().Select(e => (string?)e["source"]!["instanceID"]).Distinct().Count());
    }
}
