namespace Dbuild.Runtime;

/// <summary>The network a step sees (<c>RUN --network=…</c>).</summary>
public enum StepNetwork
{
    /// <summary>The build default: a network namespace of its own with outbound NAT through slirp4netns; the host's loopback is out of reach.</summary>
    Default,

    /// <summary>A fresh network namespace with only loopback up.</summary>
    None,

    /// <summary>The host's network namespace.</summary>
    Host,
}
