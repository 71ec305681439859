using System.Collections.Concurrent;
using System.Globalization;
using Dbuild.Oci;
using Dbuild.Registry.Api;
using Dbuild.Registry.Observability;
using Dbuild.Registry.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Policies;

/// <summary>
/// <c>policies.quota</c>: a repository's stored bytes are the sizes of the distinct blobs it holds (its layer links and
/// its manifest revisions); a rule's usage is the distinct blobs of every repository it matches, so a blob shared by two
/// repositories of one namespace counts once. Usage is read from storage at each check (replicas share nothing else);
/// blob sizes are cached by digest, which is safe because content-addressed sizes never change. A check refuses, before
/// anything is stored, a blob or manifest that would take a rule over its limit.
/// </summary>
internal sealed class QuotaEnforcer(RegistryStorage storage, IOptions<RegistryOptions> options, PolicyMetrics metrics, ILogger<QuotaEnforcer> logger)
{
    private const int MaxCachedSizes = 100_000;
    private readonly List<QuotaRule> _rules = options.Value.Policies.Quota;
    private readonly ConcurrentDictionary<Digest, long> _sizes = new();

    /// <summary>Whether any rule counts <paramref name="repository"/>.</summary>
    public bool Applies(string repository) => _rules.Exists(r => r.Repository.IsMatch(repository, null));

    /// <summary>
    /// Throws 403 <c>DENIED</c> when storing <paramref name="digest"/> (<paramref name="size"/> bytes) in
    /// <paramref name="repository"/> would exceed a rule. A blob the rule's repositories already hold adds nothing.
    /// </summary>
    public async Task CheckAsync(string repository, Digest digest, long size, CancellationToken cancellationToken)
    {
        foreach (QuotaRule rule in _rules)
        {
            if (!rule.Repository.IsMatch(repository, null)) { continue; }
            (long used, bool held) = await UsageAsync(rule, digest, cancellationToken).ConfigureAwait(false);
            if (held || used + size <= rule.Size) { continue; }
            Log.QuotaRefused(logger, repository, digest, size, rule.Key, rule.Size, used);
            metrics.Denied(PolicyMetrics.Quota);
            throw new DistributionException(DistributionErrors.Denied,
                $"quota exceeded for {repository}: {rule.Key} ({rule.Repository.Text}) allows {Format(rule.Size)}, {Format(used)} used, "
                + $"this push adds {Format(size)}; delete tags or images, or raise the quota", 403,
                new { repository, rule = rule.Key, limit = rule.Size, used, size });
        }
    }

    /// <summary>The rule's stored bytes, and whether <paramref name="probe"/> is among its blobs.</summary>
    internal async Task<(long Used, bool Held)> UsageAsync(QuotaRule rule, Digest? probe, CancellationToken cancellationToken)
    {
        var seen = new HashSet<Digest>();
        long used = 0;
        foreach (string repository in await RepositoriesAsync(rule, cancellationToken).ConfigureAwait(false))
        {
            foreach (Digest digest in await HeldAsync(repository, cancellationToken).ConfigureAwait(false))
            {
                if (seen.Add(digest)) { used += await SizeAsync(digest, cancellationToken).ConfigureAwait(false); }
            }
        }
        return (used, probe is { } p && seen.Contains(p));
    }

    /// <summary>A literal pattern names its one repository; a glob lists every repository that holds manifests or layers.</summary>
    private async Task<IEnumerable<string>> RepositoriesAsync(QuotaRule rule, CancellationToken cancellationToken)
    {
        string text = rule.Repository.Text;
        if (!text.Contains('*', StringComparison.Ordinal)) { return [text]; }
        var names = new SortedSet<string>(await storage.ListRepositoriesAsync(cancellationToken).ConfigureAwait(false), StringComparer.Ordinal);
        names.UnionWith(await storage.ListRepositoryFoldersAsync("_layers", cancellationToken).ConfigureAwait(false));
        return names.Where(n => rule.Repository.IsMatch(n, null));
    }

    private async Task<List<Digest>> HeldAsync(string repository, CancellationToken cancellationToken)
    {
        var held = new List<Digest>();
        string layers = $"{RegistryStorage.RepositoryPath(repository)}/_layers";
        foreach (string algorithm in await storage.ListAllAsync(layers, cancellationToken).ConfigureAwait(false))
        {
            foreach (string encoded in await storage.ListAllAsync($"{layers}/{algorithm}", cancellationToken).ConfigureAwait(false))
            {
                if (Digest.TryParse($"{algorithm}:{encoded}", out Digest digest)) { held.Add(digest); }
            }
        }
        held.AddRange(await storage.ListRevisionsAsync(repository, cancellationToken).ConfigureAwait(false));
        return held;
    }

    /// <summary>A blob's size (0 when it is not stored: a link left behind by a sweep holds no bytes).</summary>
    private async Task<long> SizeAsync(Digest digest, CancellationToken cancellationToken)
    {
        if (_sizes.TryGetValue(digest, out long cached)) { return cached; }
        if (await storage.StatBlobAsync(digest, cancellationToken).ConfigureAwait(false) is not { } size) { return 0; }
        if (_sizes.Count >= MaxCachedSizes) { _sizes.Clear(); }
        _sizes[digest] = size;
        return size;
    }

    internal static string Format(long bytes)
    {
        string[] units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
        return unit == 0 ? $"{bytes} bytes" : string.Create(CultureInfo.InvariantCulture, $"{value:0.##} {units[unit]} ({bytes} bytes)");
    }
}
