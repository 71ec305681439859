using System.Text.Json;

namespace Dbuild.Solver.Cache;

/// <summary>
/// The automatic build cache GC, read from the state root's <c>config.json</c> (<c>{"gc": {"enabled": true,
/// "keepStorage": "10%", "keepDuration": "1440h"}}</c>, every key optional). Its steps are BuildKit's default GC
/// policy: cache mounts unused for 48h once the cache passes 512MB; then entries unused for
/// <see cref="KeepDuration"/>, then any unshared entry, then anything (least recently used first) until the cache
/// fits in <see cref="KeepStorage"/>: by default 10% of the state root's disk, rounded up as BuildKit does.
/// </summary>
public sealed record GcPolicy
{
    /// <summary>The config file's name in the state root.</summary>
    public const string FileName = "config.json";

    private const long CacheMountThreshold = 512 * 1_000_000;

    /// <summary>False turns the GC after a build off (<c>"enabled": false</c>).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The cache's size limit in bytes; null when <see cref="KeepStoragePercent"/> sets it.</summary>
    public long? KeepStorage { get; init; }

    /// <summary>The cache's size limit as a share of the state root's disk (BuildKit's default: 10).</summary>
    public int KeepStoragePercent { get; init; } = 10;

    /// <summary>Entries unused this long go first once the cache is over its limit (BuildKit: 60 days).</summary>
    public TimeSpan KeepDuration { get; init; } = TimeSpan.FromDays(60);

    /// <summary>Reads <c>STATEROOT/config.json</c>; the defaults when there is none.</summary>
    /// <exception cref="FormatException">The file is not JSON or a value has the wrong form; the message names the file and the key.</exception>
    public static GcPolicy Load(string stateRoot)
    {
        string path = Path.Combine(stateRoot, FileName);
        if (!File.Exists(path)) { return new GcPolicy(); }
        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
            return document.RootElement.TryGetProperty("gc", out JsonElement gc) ? Parse(gc, path) : new GcPolicy();
        }
        catch (JsonException ex) { throw new FormatException($"{path} is not valid JSON: {ex.Message}", ex); }
        catch (InvalidOperationException ex) { throw new FormatException($"{path}: {ex.Message}", ex); } // a value of the wrong JSON type
    }

    /// <summary>Parses the <c>gc</c> object.</summary>
    internal static GcPolicy Parse(JsonElement gc, string path)
    {
        var policy = new GcPolicy();
        if (gc.TryGetProperty("enabled", out JsonElement enabled)) { policy = policy with { Enabled = enabled.GetBoolean() }; }
        if (gc.TryGetProperty("keepStorage", out JsonElement keep))
        {
            string text = keep.ValueKind == JsonValueKind.Number ? keep.GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture) : keep.GetString() ?? "";
            policy = ByteSize.TryParseOrPercent(text, out long bytes, out int percent)
                ? policy with { KeepStorage = percent == 0 ? bytes : null, KeepStoragePercent = percent }
                : throw new FormatException($"{path}: gc.keepStorage '{text}' is neither a size (e.g. 10GB) nor a share of the disk (e.g. 10%).");
        }
        if (gc.TryGetProperty("keepDuration", out JsonElement duration))
        {
            policy = policy with { KeepDuration = CachePruneOptions.ParseDuration(duration.GetString() ?? "", $"{path}: gc.keepDuration expects a duration (e.g. 1440h)") };
        }
        return policy;
    }

    /// <summary>The size limit in bytes: <see cref="KeepStorage"/>, or the percentage of a disk of <paramref name="diskSize"/> bytes rounded up to whole GB per GiB (BuildKit's arithmetic).</summary>
    public long LimitBytes(long diskSize) => KeepStorage ?? (diskSize * KeepStoragePercent / 100 / (1L << 30) + 1) * 1_000_000_000;

    /// <summary>BuildKit's default policy, as prune steps applied in order.</summary>
    public IReadOnlyList<CachePruneOptions> Steps(long limit) =>
    [
        new CachePruneOptions { Types = ["exec.cachemount"], Until = TimeSpan.FromHours(48), KeepStorage = CacheMountThreshold },
        new CachePruneOptions { Until = KeepDuration, KeepStorage = limit },
        new CachePruneOptions { KeepStorage = limit },
        new CachePruneOptions { All = true, KeepStorage = limit },
    ];
}
