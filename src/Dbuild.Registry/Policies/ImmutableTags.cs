using Dbuild.Oci;
using Dbuild.Registry.Api;
using Dbuild.Registry.Observability;
using Dbuild.Registry.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Policies;

/// <summary>
/// <c>policies.immutable</c> on the request path: once a covered tag exists, a manifest PUT that would point it at
/// another digest, a DELETE of the tag, and a DELETE of the manifest it points at are refused with 403 <c>DENIED</c>
/// naming the rule. Pushing the same digest again is allowed (an idempotent re-push), and so is creating the tag.
/// </summary>
internal sealed class ImmutableTags(RegistryStorage storage, IOptions<RegistryOptions> options, PolicyMetrics metrics, ILogger<ImmutableTags> logger)
{
    private readonly List<ImmutableTagRule> _rules = options.Value.Policies.Immutable;

    public bool Enabled => _rules.Count > 0;

    /// <summary>The first rule covering the tag, or null.</summary>
    public ImmutableTagRule? Find(string repository, string tag) => _rules.Find(r => r.Covers(repository, tag));

    public async Task CheckPutAsync(string repository, string tag, Digest digest, CancellationToken cancellationToken)
    {
        if (Find(repository, tag) is not { } rule) { return; }
        if (await storage.ResolveTagAsync(repository, tag, cancellationToken).ConfigureAwait(false) is { } current && current != digest)
        {
            throw Refused("push", repository, tag, current, rule);
        }
    }

    public async Task CheckDeleteTagAsync(string repository, string tag, CancellationToken cancellationToken)
    {
        if (Find(repository, tag) is not { } rule) { return; }
        if (await storage.ResolveTagAsync(repository, tag, cancellationToken).ConfigureAwait(false) is { } current)
        {
            throw Refused("delete", repository, tag, current, rule);
        }
    }

    /// <summary>Deleting a manifest deletes every tag pointing at it (registry:2), so an immutable one among them refuses it.</summary>
    public async Task CheckDeleteManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        if (!Enabled) { return; }
        foreach (string tag in await storage.ListTagsAsync(repository, cancellationToken).ConfigureAwait(false) ?? [])
        {
            if (Find(repository, tag) is { } rule && await storage.ResolveTagAsync(repository, tag, cancellationToken).ConfigureAwait(false) == digest)
            {
                throw Refused("delete", repository, tag, digest, rule);
            }
        }
    }

    private DistributionException Refused(string action, string repository, string tag, Digest current, ImmutableTagRule rule)
    {
        string described = rule.Describe();
        Log.ImmutableTagRefused(logger, action, repository, tag, described);
        metrics.Denied(PolicyMetrics.Immutable);
        return new DistributionException(DistributionErrors.Denied,
            $"tag {tag} of {repository} is immutable by {described}: it stays on {current}; push under a new tag", 403,
            new { repository, tag, digest = current.ToString(), rule = rule.Key });
    }
}
