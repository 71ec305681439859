namespace Dbuild.Runtime;

/// <summary>How confined a step runs (<c>RUN --security=…</c>).</summary>
public enum StepSecurity
{
    /// <summary>Docker's default capabilities, seccomp filter, masked and read-only paths.</summary>
    Sandbox,

    /// <summary>Every capability, no seccomp filter, nothing masked (granted by <c>--allow security.insecure</c>).</summary>
    Insecure,
}
