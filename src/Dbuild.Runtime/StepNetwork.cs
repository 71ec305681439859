namespace Dbuild.Runtime;

/// <summary>The network a step sees (<c>RUN --network=…</c>).</summary>
public enum StepNetwork
{
    /// <summary>The build default: the host's network (as BuildKit's default without a CNI config).</summary>
    Default,

    /// <summary>A fresh network namespace with only loopback up.</summary>
    None,

    /// <summary>The host's network namespace.</summary>
    Host,
}
