using System.Runtime.InteropServices;

namespace Dbuild.Runtime;

/// <summary>Architecture names as seccomp profiles use them: libseccomp's native names (amd64, arm64) and SCMP_ARCH_* constants.</summary>
internal static class SeccompArchitectures
{
    /// <summary>This process's architecture by libseccomp's native name (what profile <c>arches</c> filters name).</summary>
    public static string Native { get; } = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.X86 => "x86",
        Architecture.Arm64 => "arm64",
        Architecture.Arm or Architecture.Armv6 => "arm",
        Architecture.S390x => "s390x",
        Architecture.Ppc64le => "ppc64le",
        Architecture.RiscV64 => "riscv64",
        Architecture.LoongArch64 => "loong64",
        Architecture other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>The SCMP_ARCH_* constant of a native name, or null when profiles have none for it.</summary>
    public static string? ToSeccomp(string native) => native switch
    {
        "amd64" => "SCMP_ARCH_X86_64",
        "x86" => "SCMP_ARCH_X86",
        "arm64" => "SCMP_ARCH_AARCH64",
        "arm" => "SCMP_ARCH_ARM",
        "s390x" => "SCMP_ARCH_S390X",
        "s390" => "SCMP_ARCH_S390",
        "ppc64le" => "SCMP_ARCH_PPC64LE",
        "ppc64" => "SCMP_ARCH_PPC64",
        "riscv64" => "SCMP_ARCH_RISCV64",
        "mips64" => "SCMP_ARCH_MIPS64",
        "mipsel64" => "SCMP_ARCH_MIPSEL64",
        _ => null,
    };
}
