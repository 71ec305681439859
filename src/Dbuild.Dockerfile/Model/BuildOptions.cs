namespace Dbuild.Dockerfile;

/// <summary>What the build was asked for: build args, target stage, platforms.</summary>
public sealed record BuildOptions
{
    /// <summary><c>--build-arg</c> values.</summary>
    public IReadOnlyDictionary<string, string> BuildArgs { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary><c>--target</c>, or null for the last stage.</summary>
    public string? Target { get; init; }

    /// <summary>The platform being built for (os/arch[/variant]).</summary>
    public string TargetPlatform { get; init; } = DefaultPlatform;

    /// <summary>The platform the build runs on.</summary>
    public string BuildPlatform { get; init; } = DefaultPlatform;

    /// <summary>The platform of this process, e.g. linux/amd64.</summary>
    public static string DefaultPlatform { get; } = "linux/" + System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Arm => "arm/v7",
        System.Runtime.InteropServices.Architecture.X86 => "386",
        System.Runtime.InteropServices.Architecture.S390x => "s390x",
        System.Runtime.InteropServices.Architecture.Ppc64le => "ppc64le",
        System.Runtime.InteropServices.Architecture.RiscV64 => "riscv64",
        System.Runtime.InteropServices.Architecture.LoongArch64 => "loong64",
        _ => "amd64",
    };

    /// <summary>Build args that need no ARG declaration and are never reported as unused.</summary>
    public static IReadOnlySet<string> ProxyArgs { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
    };

    /// <summary>The automatic platform ARGs (BUILDPLATFORM, BUILDOS, BUILDARCH, BUILDVARIANT, TARGET…) for these platforms.</summary>
    public IReadOnlyDictionary<string, string> PlatformArgs()
    {
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        Add(args, "BUILD", BuildPlatform);
        Add(args, "TARGET", TargetPlatform);
        return args;

        static void Add(Dictionary<string, string> args, string prefix, string platform)
        {
            string[] parts = platform.Split('/');
            args[prefix + "PLATFORM"] = platform;
            args[prefix + "OS"] = parts[0];
            args[prefix + "ARCH"] = parts.Length > 1 ? parts[1] : "";
            args[prefix + "VARIANT"] = parts.Length > 2 ? parts[2] : "";
        }
    }
}
