namespace Dbuild.Registry.Observability;

/// <summary>Requests <c>policies.*</c> refused, by policy (preallocated slots: immutable, quota).</summary>
internal sealed class PolicyMetrics
{
    public const int Immutable = 0, Quota = 1;
    private readonly CounterSeries _denied = new(2);

    public void Denied(int policy) => _denied.Add(policy);

    public void Write(PrometheusText text)
    {
        text.Header("registry_policy_denied_total", "counter", "Requests refused with DENIED by a policy (policies.immutable, policies.quota).");
        text.Sample("registry_policy_denied_total", "policy=\"immutable\"", _denied[Immutable]);
        text.Sample("registry_policy_denied_total", "policy=\"quota\"", _denied[Quota]);
    }
}
