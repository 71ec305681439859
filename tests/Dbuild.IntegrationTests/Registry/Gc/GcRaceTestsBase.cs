using System.Text.RegularExpressions;
using Dbuild.Oci;
using Dbuild.Registry.Storage;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry.Gc;

/// <summary>
/// The online GC's safety property against a real <c>dbuild registry serve</c> process: pushers (HEAD, skip on 200)
/// sharing a small pool of layers, and a deleter orphaning them, for tens of seconds while GC runs every second with a
/// 3 s grace. Afterwards no acknowledged image is broken, and one grace period and a pass later nothing else is stored.
/// A driver's variant says how its storage is configured and read (<see cref="StorageYamlAsync"/>, <see cref="OpenStorageAsync"/>); an Azurite variant starts Azurite in the
/// first and disposes it with the test class..
/// </summary>
public abstract partial class GcRaceTestsBase
{
    private const int Pushers = 10;
    private const int Deleters = 3;
    private static readonly TimeSpan RaceLength = TimeSpan.FromSeconds(25);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The driver's keys under <c>storage:</c>, indented by two spaces (e.g. <c>  filesystem:\n    rootdirectory: …</c>).</summary>
    protected abstract Task<string> StorageYamlAsync(string work);

    /// <summary>The same storage, for the test to walk what is stored.</summary>
    protected abstract Task<IStorageDriver> OpenStorageAsync(string work);

    /// <summary>The filesystem root handed to the server helper (a driver without one returns any scratch directory).</summary>
    protected virtual string StorageRoot(string work) => Path.Combine(work, "data");

    [Fact]
    public async Task OnlineGc_PushersAndDeleterRacingGc_NoAcknowledgedImageBrokenAndNoGarbageLeft()
    {
        using var work = new TempDirectory();
        int port = RegistryServer.FreePort();
        string config = work.Combine("config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: info
            storage:
            {await StorageYamlAsync(work.Path)}
              delete:
                enabled: true
              maintenance:
                uploadpurging:
                  enabled: false
                gc:
                  enabled: true
                  interval: {(int)Interval.TotalSeconds}s
                  grace: {(int)Grace.TotalSeconds}s
                  untagged: delete
            http:
              addr: 127.0.0.1:{port}
            """, Ct);
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(config, port, StorageRoot(work.Path), Ct);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var log = new RaceLog();
        DateTimeOffset start = DateTimeOffset.UtcNow, until = start + RaceLength;
        List<Task> clients = [.. Enumerable.Range(0, Pushers).Select(i => new GcRacePusher(client, registry.BaseUrl, log, i, start).RunAsync(until, Ct))];
        clients.AddRange(Enumerable.Range(0, Deleters).Select(i => GcRacePusher.DeleteAsync(client, registry.BaseUrl, log, 4242 + i, until, Ct)));
        try { await Task.WhenAll(clients); }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"{ex.Message}\nserver errors:\n{ServerErrors(registry.Output)}", ex);
        }
        DateTimeOffset quiet = DateTimeOffset.UtcNow;

        List<string> broken = [.. log.Broken, .. await FindBrokenAsync(client, registry.BaseUrl, log.Alive.Values, Ct)];
        string report = $"{log}; {Summarize(registry.Output)}";
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        Assert.True(broken.Count == 0, $"{broken.Count} problem(s) in acknowledged images (checked before each delete and at the end) ({report}):\n{string.Join("\n", broken.Take(20))}");
        Assert.True(log.Unexpected.IsEmpty, $"unexpected answers ({report}):\n{string.Join("\n", log.Unexpected.Take(20))}");
        Assert.True(log.Pushed > 50 && log.Deleted > 20, $"the race did too little to prove anything: {report}");
        Assert.True(log.Reuploaded > 0, $"no layer was swept and then pushed again: {report}");
        Assert.DoesNotContain("GC pass failed", registry.Output, StringComparison.Ordinal);

        // Grace plus one pass after the last write, whatever no surviving image references is gone.
        HashSet<Digest> referenced = [.. log.Alive.Values.SelectMany(i => (IEnumerable<Digest>)[i.Digest, .. i.Children, .. i.Blobs])];
        IStorageDriver storage = await OpenStorageAsync(work.Path);
        TimeSpan wait = Grace + 2 * Interval + TimeSpan.FromSeconds(1) - (DateTimeOffset.UtcNow - quiet);
        if (wait > TimeSpan.Zero) { await Task.Delay(wait, Ct); }
        StoredState stored = await StoredState.ReadAsync(storage, Ct);
        for (int attempt = 0; attempt < 20 && !stored.OnlyHolds(referenced); attempt++)
        {
            await Task.Delay(Interval, Ct); // a pass that was still running when the wait ended
            stored = await StoredState.ReadAsync(storage, Ct);
        }
        Assert.True(stored.Blobs.SetEquals(referenced),
            $"stored blobs differ from what surviving images reference: {stored.Blobs.Except(referenced).Count()} extra, {referenced.Except(stored.Blobs).Count()} missing");
        Assert.Empty(stored.LayerLinks.Except(referenced));
        Assert.Empty(stored.Revisions.Except(referenced));
        Assert.Empty(stored.Uploads);
    }

    private static async Task<List<string>> FindBrokenAsync(HttpClient client, string baseUrl, IEnumerable<PushedImage> images, CancellationToken cancellationToken)
    {
        var broken = new List<string>();
        foreach (PushedImage image in images) { broken.AddRange(await ImageChecker.FindProblemsAsync(client, baseUrl, image, cancellationToken)); }
        return broken;
    }

    private static string ServerErrors(string output) => string.Join("\n", output.Split('\n')
        .Where(l => l.Contains("fail", StringComparison.OrdinalIgnoreCase) || l.Contains("Exception", StringComparison.Ordinal) || l.StartsWith("   at ", StringComparison.Ordinal)).Take(60));

    /// <summary>The server's GC summary lines, condensed: passes, what they swept, the slowest pass.</summary>
    private static string Summarize(string output)
    {
        var passes = GcPassLine().Matches(output);
        long blobs = 0, manifests = 0, links = 0, slowest = 0;
        foreach (Match pass in passes)
        {
            blobs += long.Parse(pass.Groups["blobs"].Value, System.Globalization.CultureInfo.InvariantCulture);
            manifests += long.Parse(pass.Groups["manifests"].Value, System.Globalization.CultureInfo.InvariantCulture);
            links += long.Parse(pass.Groups["links"].Value, System.Globalization.CultureInfo.InvariantCulture);
            slowest = Math.Max(slowest, long.Parse(pass.Groups["ms"].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        return $"GC: {passes.Count} passes swept {blobs} blobs, {manifests} manifests, {links} links; slowest pass {slowest}ms";
    }

    [GeneratedRegex(@"GC pass: \d+ marked; swept (?<blobs>\d+) blob\(s\) \(\d+ bytes\), (?<manifests>\d+) manifest\(s\), (?<links>\d+) layer link\(s\), \d+ upload\(s\) in (?<ms>\d+)ms")]
    private static partial Regex GcPassLine();
}
