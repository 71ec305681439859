using System.Runtime.Versioning;

namespace Dbuild.Runtime;

/// <summary>
/// The facts about the host a step's security settings depend on: the architecture and kernel the seccomp rules are
/// resolved for (null <see cref="Seccomp"/> where the kernel has none), the capabilities an insecure step may have, and
/// how many loop devices it gets. <see cref="Current"/> reads this machine; tests pass their own.
/// </summary>
internal sealed record SpecHost(string Architecture, Version Kernel, SeccompProfile? Seccomp, IReadOnlyList<string> Capabilities, int LoopDevices)
{
    /// <summary>This machine, read when a step is prepared; loop devices (which come and go) are looked up for insecure steps only.</summary>
    [SupportedOSPlatform("linux")]
    public static SpecHost Current(bool insecure) => new(SeccompArchitectures.Native, HostSecurity.Kernel,
        HostSecurity.SeccompAvailable ? SeccompProfile.Default : null, HostSecurity.EffectiveCapabilities, insecure ? HostSecurity.InsecureLoopDevices() : 0);
}
