using System.Text.Json.Serialization;

namespace Dbuild.Oci;

/// <summary>The platform an image runs on: <c>os/architecture[/variant]</c>, normalised as containerd does.</summary>
/// <remarks>https://github.com/opencontainers/image-spec/blob/v1.1.0/image-index.md#image-index-property-descriptions</remarks>
public sealed record Platform
{
    private static readonly System.Buffers.SearchValues<char> ComponentCharacters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    /// <summary>Creates a platform; values are normalised (<c>x86_64</c> → <c>amd64</c>, <c>aarch64</c> → <c>arm64</c>, …).</summary>
    public Platform(string os, string architecture, string? variant = null)
    {
        (Os, Architecture, Variant) = Normalize(os, architecture, variant);
    }

    /// <summary>The operating system, e.g. <c>linux</c>.</summary>
    [JsonPropertyName("os")]
    public string Os { get; init; }

    /// <summary>The CPU architecture in Go's GOARCH terms, e.g. <c>amd64</c>.</summary>
    [JsonPropertyName("architecture")]
    public string Architecture { get; init; }

    /// <summary>The CPU variant, e.g. <c>v7</c> for <c>arm</c>; null when there is none.</summary>
    [JsonPropertyName("variant")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Variant { get; init; }

    /// <summary>The OS version (Windows images).</summary>
    [JsonPropertyName("os.version")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? OsVersion { get; init; }

    /// <summary>Required OS features (Windows images).</summary>
    [JsonPropertyName("os.features")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? OsFeatures { get; init; }

    /// <summary>linux/amd64.</summary>
    public static Platform LinuxAmd64 { get; } = new("linux", "amd64");

    /// <summary>linux/arm64.</summary>
    public static Platform LinuxArm64 { get; } = new("linux", "arm64");

    /// <summary>The platform of this process, as BuildKit's BUILDPLATFORM would name it.</summary>
    public static Platform Current { get; } = new("linux", System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        System.Runtime.InteropServices.Architecture.X86 => "386",
        System.Runtime.InteropServices.Architecture.S390x => "s390x",
        System.Runtime.InteropServices.Architecture.Ppc64le => "ppc64le",
        System.Runtime.InteropServices.Architecture.RiscV64 => "riscv64",
        var other => other.ToString().ToLowerInvariant(),
    });

    /// <summary>
    /// Parses <c>os/arch[/variant]</c> (or a lone OS or architecture) and normalises it, with containerd's rules and
    /// messages: every part matches <c>[A-Za-z0-9_-]+</c>; a lone word must be a known OS (then this machine's
    /// architecture) or a known architecture (then linux); at most three parts; and here also a known OS.
    /// </summary>
    /// <remarks>https://github.com/containerd/platforms/blob/main/platforms.go (Parse)</remarks>
    public static bool TryParse(string? value, out Platform? platform, out string? error)
    {
        platform = null;
        if (string.IsNullOrWhiteSpace(value)) { error = "platform is empty"; return false; }
        string specifier = value.Trim();
        string[] parts = specifier.Split('/');
        if (parts.FirstOrDefault(p => p.Length == 0 || p.AsSpan().ContainsAnyExcept(ComponentCharacters)) is { } bad)
        {
            error = $"\"{bad}\" is an invalid component of \"{specifier}\": platform specifier component must match \"^[A-Za-z0-9_-]+$\"";
            return false;
        }
        switch (parts.Length)
        {
            case 1 when IsKnownOs(parts[0]):
                platform = new Platform(parts[0], Current.Architecture, Current.Variant);
                break;
            case 1:
                var candidate = new Platform("linux", parts[0]);
                if (!IsKnownArchitecture(candidate.Architecture))
                {
                    error = $"\"{specifier}\": unknown operating system or architecture";
                    return false;
                }
                platform = candidate;
                break;
            case 2 or 3:
                platform = new Platform(parts[0], parts[1], parts.Length == 3 ? parts[2] : null);
                if (!IsKnownOs(platform.Os)) { error = $"\"{specifier}\": unknown operating system \"{parts[0]}\""; platform = null; return false; }
                break;
            default:
                error = $"\"{specifier}\": cannot parse platform specifier";
                return false;
        }
        error = null;
        return true;
    }

    /// <summary>Parses or throws <see cref="FormatException"/> naming the problem.</summary>
    public static Platform Parse(string value) =>
        TryParse(value, out Platform? platform, out string? error) ? platform! : throw new FormatException($"Invalid platform: {error}.");

    /// <summary>Formats as <c>os/arch[/variant]</c>.</summary>
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    /// <summary>
    /// The platforms a host of this platform can run, best first: itself, then older variants
    /// (<c>arm/v7</c> runs <c>v6</c> and <c>v5</c>; <c>arm64</c> runs <c>arm/v8</c>…<c>v5</c>; <c>amd64</c> runs <c>386</c>).
    /// </summary>
    public IReadOnlyList<Platform> CompatibleWith()
    {
        var result = new List<Platform> { this };
        switch (Architecture)
        {
            case "arm64":
                foreach (string v in new[] { "v8", "v7", "v6", "v5" }) { result.Add(new Platform(Os, "arm", v)); }
                break;
            case "arm":
                int level = Variant is { Length: > 1 } && int.TryParse(Variant.AsSpan(1), out int n) ? n : 7;
                for (int v = level - 1; v >= 5; v--) { result.Add(new Platform(Os, "arm", $"v{v}")); }
                break;
            case "amd64":
                int amd = Variant is { Length: > 1 } && int.TryParse(Variant.AsSpan(1), out int m) ? m : 1;
                for (int v = amd - 1; v >= 2; v--) { result.Add(new Platform(Os, "amd64", $"v{v}")); }
                if (amd > 1) { result.Add(new Platform(Os, "amd64")); }
                result.Add(new Platform(Os, "386"));
                break;
        }
        return result;
    }

    /// <summary>True when an image for <paramref name="candidate"/> runs on this platform (OS, architecture and variant compatibility).</summary>
    public bool CanRun(Platform candidate) => Rank(candidate) >= 0;

    /// <summary>Picks the best manifest of an index for this platform, or null when none can run here.</summary>
    public Descriptor? PickBest(IEnumerable<Descriptor> manifests)
    {
        ArgumentNullException.ThrowIfNull(manifests);
        Descriptor? best = null;
        int bestRank = int.MaxValue;
        foreach (Descriptor descriptor in manifests)
        {
            if (descriptor.Platform is not { } candidate) { continue; }
            int rank = Rank(candidate);
            if (rank >= 0 && rank < bestRank) { (best, bestRank) = (descriptor, rank); }
        }
        return best;
    }

    private int Rank(Platform candidate)
    {
        if (!string.Equals(candidate.Os, Os, StringComparison.Ordinal)) { return -1; }
        var normalized = new Platform(candidate.Os, candidate.Architecture, candidate.Variant);
        IReadOnlyList<Platform> compatible = CompatibleWith();
        for (int i = 0; i < compatible.Count; i++)
        {
            Platform c = compatible[i];
            if (c.Architecture == normalized.Architecture && c.Variant == normalized.Variant) { return i; }
        }
        // A candidate without a variant runs where the architecture matches (e.g. plain "arm" on arm/v7).
        if (normalized.Variant is null && normalized.Architecture == Architecture) { return compatible.Count; }
        return -1;
    }

    private static bool IsKnownOs(string os) => os.ToLowerInvariant() is "linux" or "windows" or "darwin" or "macos" or "freebsd" or "netbsd" or "openbsd"
        or "solaris" or "illumos" or "android" or "ios" or "plan9" or "aix" or "js" or "wasip1" or "dragonfly" or "hurd" or "nacl" or "zos";

    // Go's GOARCH values, as containerd knows them (after normalisation: x86_64 is amd64 by then).
    private static bool IsKnownArchitecture(string architecture) => architecture is "386" or "amd64" or "amd64p32" or "arm" or "armbe" or "arm64"
        or "arm64be" or "ppc64" or "ppc64le" or "loong64" or "mips" or "mipsle" or "mips64" or "mips64le" or "mips64p32" or "mips64p32le" or "ppc"
        or "riscv" or "riscv64" or "s390" or "s390x" or "sparc" or "sparc64" or "wasm";

    private static (string Os, string Architecture, string? Variant) Normalize(string os, string architecture, string? variant)
    {
        ArgumentNullException.ThrowIfNull(os);
        ArgumentNullException.ThrowIfNull(architecture);
        string o = os.ToLowerInvariant();
        if (o == "macos") { o = "darwin"; }
        string a = architecture.ToLowerInvariant();
        string? v = string.IsNullOrEmpty(variant) ? null : variant.ToLowerInvariant();
        switch (a)
        {
            case "i386": a = "386"; v = null; break;
            case "x86_64" or "x86-64" or "amd64":
                a = "amd64";
                if (v == "v1") { v = null; }
                break;
            case "aarch64" or "arm64":
                a = "arm64";
                if (v is "8" or "v8") { v = null; }
                break;
            case "armhf": a = "arm"; v = "v7"; break;
            case "armel": a = "arm"; v = "v6"; break;
            case "arm":
                v = v switch { null or "7" => "v7", "5" or "6" or "8" => "v" + v, _ => v };
                break;
        }
        return (o, a, v);
    }
}
