using System.Text.Json;

namespace Dbuild.Runtime;

/// <summary>One argument condition of a seccomp rule, kept as the profile states it.</summary>
internal readonly record struct SeccompArg(uint Index, ulong Value, ulong ValueTwo, string Op);

/// <summary>A rule's <c>includes</c> or <c>excludes</c>: capabilities, architectures (libseccomp's native names) and a minimum kernel.</summary>
internal sealed record SeccompFilter(IReadOnlyList<string> Caps, IReadOnlyList<string> Arches, Version? MinKernel)
{
    public static readonly SeccompFilter None = new([], [], null);
}

/// <summary>One rule of a profile: its syscalls, action, errno and argument conditions, and when it applies.</summary>
internal sealed record SeccompRule(IReadOnlyList<string> Names, string Action, uint? ErrnoRet, IReadOnlyList<SeccompArg> Args,
    SeccompFilter Includes, SeccompFilter Excludes);

/// <summary>The architectures a native architecture filters for (an <c>archMap</c> entry).</summary>
internal sealed record SeccompArchMap(string Architecture, IReadOnlyList<string> SubArchitectures);

/// <summary>
/// A seccomp profile in Docker's format (<c>profiles/seccomp/default.json</c>): rules that apply depending on the
/// container's capabilities, the host's architecture and kernel. <see cref="Default"/> is Docker's own profile, which
/// BuildKit applies to every sandboxed RUN; <see cref="Resolve"/> turns it into the runtime spec's <c>linux.seccomp</c>
/// for one step the way moby's <c>setupSeccomp</c> does.
/// </summary>
internal sealed record SeccompProfile(string DefaultAction, uint? DefaultErrnoRet, IReadOnlyList<SeccompArchMap> ArchMap, IReadOnlyList<SeccompRule> Rules)
{
    private const string ResourceName = "Dbuild.Runtime.Seccomp.default.json";

    private static readonly Lazy<SeccompProfile> DefaultProfile = new(() =>
    {
        using Stream json = typeof(SeccompProfile).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The resource {ResourceName} is missing from Dbuild.Runtime.");
        return Parse(json);
    });

    /// <summary>Docker's default profile (see Seccomp/README.md for its origin and licence).</summary>
    public static SeccompProfile Default => DefaultProfile.Value;

    /// <summary>
    /// The rules for a step with the bounding set <paramref name="capabilities"/> on a host of architecture
    /// <paramref name="architecture"/> (libseccomp's native name: amd64, arm64, …) running kernel <paramref name="kernel"/>:
    /// a rule is dropped when an excluded arch or capability is present or the kernel reaches an excluded minimum, or when
    /// an included arch is not the host's, an included capability is missing or the kernel is older than the included minimum.
    /// Rules keep the profile's order, so the output depends only on the inputs.
    /// </summary>
    public LinuxSeccomp Resolve(IReadOnlyCollection<string> capabilities, string architecture, Version kernel)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        List<string> architectures = [];
        if (SeccompArchitectures.ToSeccomp(architecture) is { } native && ArchMap.FirstOrDefault(a => a.Architecture == native) is { } entry)
        {
            architectures.Add(entry.Architecture);
            architectures.AddRange(entry.SubArchitectures);
        }
        var syscalls = Rules.Where(rule => Applies(rule, capabilities, architecture, kernel)).ToList();
        return new LinuxSeccomp(DefaultAction, DefaultErrnoRet, architectures, syscalls);
    }

    private static bool Applies(SeccompRule rule, IReadOnlyCollection<string> capabilities, string architecture, Version kernel)
    {
        SeccompFilter ex = rule.Excludes, inc = rule.Includes;
        if (ex.Arches.Contains(architecture) || ex.Caps.Any(capabilities.Contains) || ex.MinKernel is { } exMin && kernel >= exMin) { return false; }
        if (inc.Arches.Count > 0 && !inc.Arches.Contains(architecture)) { return false; }
        return inc.Caps.All(capabilities.Contains) && (inc.MinKernel is not { } incMin || kernel >= incMin);
    }

    /// <summary>Reads a profile in Docker's JSON format; a malformed one fails naming the rule.</summary>
    public static SeccompProfile Parse(Stream json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        var archMap = new List<SeccompArchMap>();
        if (root.TryGetProperty("archMap", out JsonElement map))
        {
            foreach (JsonElement arch in map.EnumerateArray())
            {
                archMap.Add(new SeccompArchMap(arch.GetProperty("architecture").GetString()!, Strings(arch, "subArchitectures")));
            }
        }
        var rules = new List<SeccompRule>();
        foreach (JsonElement rule in root.GetProperty("syscalls").EnumerateArray())
        {
            try
            {
                rules.Add(new SeccompRule(
                    Strings(rule, "names"), rule.GetProperty("action").GetString()!, OptionalUInt(rule, "errnoRet"),
                    rule.TryGetProperty("args", out JsonElement args) && args.ValueKind == JsonValueKind.Array
                        ? [.. args.EnumerateArray().Select(a => new SeccompArg(a.GetProperty("index").GetUInt32(), a.GetProperty("value").GetUInt64(),
                            a.TryGetProperty("valueTwo", out JsonElement two) ? two.GetUInt64() : 0, a.GetProperty("op").GetString()!))]
                        : [],
                    Filter(rule, "includes"), Filter(rule, "excludes")));
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
            {
                throw new FormatException($"seccomp profile: syscalls[{rules.Count}] is malformed: {e.Message}", e);
            }
        }
        return new SeccompProfile(root.GetProperty("defaultAction").GetString()!, OptionalUInt(root, "defaultErrnoRet"), archMap, rules);
    }

    private static SeccompFilter Filter(JsonElement rule, string name)
    {
        if (!rule.TryGetProperty(name, out JsonElement filter) || filter.ValueKind != JsonValueKind.Object) { return SeccompFilter.None; }
        Version? minKernel = filter.TryGetProperty("minKernel", out JsonElement min) && min.GetString() is { Length: > 0 } text
            ? Version.Parse(text.Contains('.', StringComparison.Ordinal) ? text : text + ".0") : null;
        return new SeccompFilter(Strings(filter, "caps"), Strings(filter, "arches"), minKernel);
    }

    private static uint? OptionalUInt(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetUInt32() : null;

    private static string[] Strings(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement array) && array.ValueKind == JsonValueKind.Array ? [.. array.EnumerateArray().Select(e => e.GetString()!)] : [];
}
