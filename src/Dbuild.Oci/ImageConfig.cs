using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dbuild.Oci;

/// <summary>
/// An image config as Docker and BuildKit write it: the OCI fields plus Docker's extensions
/// (<c>Healthcheck</c>, <c>OnBuild</c>, <c>Shell</c>, <c>ArgsEscaped</c>, <c>empty_layer</c> in history).
/// Unknown fields are kept, so a base image's config passes through a build intact.
/// </summary>
/// <remarks>https://github.com/opencontainers/image-spec/blob/v1.1.0/config.md</remarks>
public sealed record ImageConfig
{
    private readonly byte[]? _raw;

    /// <summary>Creates an empty config for a platform.</summary>
    public ImageConfig(Platform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        (Architecture, Os, Variant) = (platform.Architecture, platform.Os, platform.Variant);
        RootFs = new RootFs();
    }

    [JsonConstructor]
    internal ImageConfig() { Architecture = ""; Os = ""; RootFs = new RootFs(); }

    private ImageConfig(ImageConfig original)
    {
        Created = original.Created;
        Author = original.Author;
        Architecture = original.Architecture;
        Variant = original.Variant;
        Os = original.Os;
        OsVersion = original.OsVersion;
        OsFeatures = original.OsFeatures;
        Config = original.Config;
        RootFs = original.RootFs;
        History = original.History;
        Extra = original.Extra;
    }

    private ImageConfig(ImageConfig parsed, byte[] raw) : this(parsed) => _raw = raw;

    /// <summary>When the image was created (RFC 3339).</summary>
    [JsonPropertyName("created")]
    public DateTimeOffset? Created { get; init; }

    /// <summary>The author (MAINTAINER).</summary>
    [JsonPropertyName("author")]
    public string? Author { get; init; }

    /// <summary>CPU architecture.</summary>
    [JsonPropertyName("architecture")]
    public string Architecture { get; init; }

    /// <summary>CPU variant.</summary>
    [JsonPropertyName("variant")]
    public string? Variant { get; init; }

    /// <summary>Operating system.</summary>
    [JsonPropertyName("os")]
    public string Os { get; init; }

    /// <summary>OS version (Windows).</summary>
    [JsonPropertyName("os.version")]
    public string? OsVersion { get; init; }

    /// <summary>OS features (Windows).</summary>
    [JsonPropertyName("os.features")]
    public IReadOnlyList<string>? OsFeatures { get; init; }

    /// <summary>The runtime defaults for containers of this image.</summary>
    [JsonPropertyName("config")]
    public ContainerConfig? Config { get; init; }

    /// <summary>The layers' diffIDs, base first.</summary>
    [JsonPropertyName("rootfs")]
    public RootFs RootFs { get; init; }

    /// <summary>One entry per instruction, including those that made no layer (<c>empty_layer</c>).</summary>
    [JsonPropertyName("history")]
    public IReadOnlyList<HistoryEntry>? History { get; init; }

    /// <summary>Fields this model does not know (kept for round trips).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; } // settable: generated metadata cannot bind extension data through init

    /// <summary>The platform this config is for.</summary>
    [JsonIgnore]
    public Platform Platform => new(Os, Architecture, Variant) { OsVersion = OsVersion, OsFeatures = OsFeatures };

    /// <summary>Parses a config, keeping its bytes so <see cref="ToJsonBytes"/> returns them unchanged.</summary>
    /// <exception cref="InvalidContentException">Malformed JSON or a missing architecture/os.</exception>
    public static ImageConfig Parse(ReadOnlySpan<byte> json)
    {
        ImageConfig parsed = OciJson.Deserialize<ImageConfig>(json, "image config");
        if (string.IsNullOrEmpty(parsed.Os)) { throw new InvalidContentException("Invalid image config: 'os' is missing."); }
        if (string.IsNullOrEmpty(parsed.Architecture)) { throw new InvalidContentException("Invalid image config: 'architecture' is missing."); }
        return new ImageConfig(parsed, json.ToArray()) { };
    }

    /// <summary>The bytes this config was parsed from, or its serialisation when it was built or changed.</summary>
    public byte[] ToJsonBytes() => _raw is not null ? (byte[])_raw.Clone() : OciJson.Serialize(this);

    /// <summary>The image ID: the digest of <see cref="ToJsonBytes"/>.</summary>
    public Digest ComputeDigest() => Digest.Compute(_raw ?? OciJson.Serialize(this));
}

/// <summary>The <c>rootfs</c> object of an image config.</summary>
public sealed record RootFs
{
    /// <summary>Always <c>layers</c>.</summary>
    [JsonPropertyName("type")]
    public string Type { get; init; } = "layers";

    /// <summary>Digests of the uncompressed layer tars, base first.</summary>
    [JsonPropertyName("diff_ids")]
    public IReadOnlyList<Digest> DiffIds { get; init; } = [];
}

/// <summary>One entry of an image's history.</summary>
public sealed record HistoryEntry
{
    /// <summary>When the step ran.</summary>
    [JsonPropertyName("created")]
    public DateTimeOffset? Created { get; init; }

    /// <summary>The instruction, e.g. <c>RUN /bin/sh -c make # buildkit</c>.</summary>
    [JsonPropertyName("created_by")]
    public string? CreatedBy { get; init; }

    /// <summary>The author.</summary>
    [JsonPropertyName("author")]
    public string? Author { get; init; }

    /// <summary>A comment, e.g. <c>buildkit.dockerfile.v0</c>.</summary>
    [JsonPropertyName("comment")]
    public string? Comment { get; init; }

    /// <summary>True when the step made no layer.</summary>
    [JsonPropertyName("empty_layer")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool EmptyLayer { get; init; }
}

/// <summary>The <c>config</c> object of an image config, with Docker's field names.</summary>
public sealed record ContainerConfig
{
    /// <summary>USER.</summary>
    [JsonPropertyName("User")] public string? User { get; init; }
    /// <summary>EXPOSE: keys like <c>80/tcp</c> mapped to empty objects.</summary>
    [JsonPropertyName("ExposedPorts")] public IReadOnlyDictionary<string, EmptyObject>? ExposedPorts { get; init; }
    /// <summary>ENV as <c>KEY=value</c>.</summary>
    [JsonPropertyName("Env")] public IReadOnlyList<string>? Env { get; init; }
    /// <summary>ENTRYPOINT.</summary>
    [JsonPropertyName("Entrypoint")] public IReadOnlyList<string>? Entrypoint { get; init; }
    /// <summary>CMD.</summary>
    [JsonPropertyName("Cmd")] public IReadOnlyList<string>? Cmd { get; init; }
    /// <summary>VOLUME: paths mapped to empty objects.</summary>
    [JsonPropertyName("Volumes")] public IReadOnlyDictionary<string, EmptyObject>? Volumes { get; init; }
    /// <summary>WORKDIR.</summary>
    [JsonPropertyName("WorkingDir")] public string? WorkingDir { get; init; }
    /// <summary>LABEL.</summary>
    [JsonPropertyName("Labels")] public IReadOnlyDictionary<string, string>? Labels { get; init; }
    /// <summary>STOPSIGNAL.</summary>
    [JsonPropertyName("StopSignal")] public string? StopSignal { get; init; }
    /// <summary>Docker extension: true when CMD/ENTRYPOINT were written in shell form on Windows.</summary>
    [JsonPropertyName("ArgsEscaped")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool ArgsEscaped { get; init; }
    /// <summary>Docker extension: HEALTHCHECK.</summary>
    [JsonPropertyName("Healthcheck")] public HealthConfig? Healthcheck { get; init; }
    /// <summary>Docker extension: ONBUILD triggers.</summary>
    [JsonPropertyName("OnBuild")] public IReadOnlyList<string>? OnBuild { get; init; }
    /// <summary>Docker extension: SHELL.</summary>
    [JsonPropertyName("Shell")] public IReadOnlyList<string>? Shell { get; init; }
    /// <summary>Fields this model does not know (kept for round trips).</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; } // settable: generated metadata cannot bind extension data through init
}

/// <summary>HEALTHCHECK settings; durations in nanoseconds as Docker stores them.</summary>
public sealed record HealthConfig
{
    /// <summary><c>["NONE"]</c>, <c>["CMD", args…]</c> or <c>["CMD-SHELL", command]</c>.</summary>
    [JsonPropertyName("Test")] public IReadOnlyList<string>? Test { get; init; }
    /// <summary>Interval in nanoseconds.</summary>
    [JsonPropertyName("Interval")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long Interval { get; init; }
    /// <summary>Timeout in nanoseconds.</summary>
    [JsonPropertyName("Timeout")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long Timeout { get; init; }
    /// <summary>Start period in nanoseconds.</summary>
    [JsonPropertyName("StartPeriod")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long StartPeriod { get; init; }
    /// <summary>Start interval in nanoseconds.</summary>
    [JsonPropertyName("StartInterval")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long StartInterval { get; init; }
    /// <summary>Retries before unhealthy.</summary>
    [JsonPropertyName("Retries")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public int Retries { get; init; }
}

/// <summary>The <c>{}</c> value of Docker's set-like maps (ExposedPorts, Volumes).</summary>
public sealed record EmptyObject
{
    /// <summary>The one instance.</summary>
    public static EmptyObject Instance { get; } = new();
}
