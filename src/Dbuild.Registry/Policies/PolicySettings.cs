namespace Dbuild.Registry.Policies;

/// <summary>
/// The <c>policies</c> section of config.yml (dbuild's own keys; registry:2 has none): <c>immutable</c>, <c>retention</c>
/// and <c>quota</c>, read by <see cref="PolicyConfigReader"/>. Empty lists mean no policy.
/// </summary>
public sealed class PolicySettings
{
    internal List<ImmutableTagRule> Immutable { get; } = [];

    internal List<RetentionRule> Retention { get; } = [];

    internal List<QuotaRule> Quota { get; } = [];

    /// <summary>Copies every rule from <paramref name="other"/>.</summary>
    public void CopyFrom(PolicySettings other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Immutable.Clear();
        Immutable.AddRange(other.Immutable);
        Retention.Clear();
        Retention.AddRange(other.Retention);
        Quota.Clear();
        Quota.AddRange(other.Quota);
    }
}
