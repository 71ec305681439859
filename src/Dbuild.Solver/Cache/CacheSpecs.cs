using Dbuild.Oci;

namespace Dbuild.Solver.Cache;

/// <summary>Where a build cache is exported to or imported from (buildx's <c>type=</c>).</summary>
public enum CacheSpecType
{
    /// <summary>A cache manifest in a registry repository (<c>ref=</c>).</summary>
    Registry,
    /// <summary>An OCI layout directory (<c>dest=</c> / <c>src=</c>).</summary>
    Local,
    /// <summary>The cache index inside the pushed image's config.</summary>
    Inline,
}

/// <summary>buildx's <c>--cache-to</c>: <c>type=registry,ref=REF[,mode=min|max][,compression=gzip|zstd][,ignore-error=true]</c>, <c>type=local,dest=DIR</c>, <c>type=inline</c>.</summary>
public sealed record CacheExport(CacheSpecType Type)
{
    /// <summary>type=registry: the repository and tag the cache manifest is pushed to.</summary>
    public Reference? Ref { get; init; }

    /// <summary>type=local: the OCI layout directory written.</summary>
    public string? Destination { get; init; }

    /// <summary>mode=max: every stage's steps; mode=min (the default): the steps of the exported image's layers.</summary>
    public bool MaxMode { get; init; }

    /// <summary>Compression of layers written only for the cache; null follows the image's.</summary>
    public LayerCompression? Compression { get; init; }

    /// <summary>ignore-error=true: a failed export is a warning, not a failed build.</summary>
    public bool IgnoreError { get; init; }

    /// <summary>What progress and errors call it: the ref, the directory, or "inline".</summary>
    public string Description => Type switch { CacheSpecType.Registry => Ref!.ToString(), CacheSpecType.Local => Destination!, _ => "inline" };

    /// <summary>Parses one <c>--cache-to</c> value; a bad attribute throws <see cref="FormatException"/> naming it.</summary>
    public static CacheExport Parse(string value)
    {
        Dictionary<string, string> fields = CacheSpecFields.Split(value, "--cache-to");
        CacheSpecType type = CacheSpecFields.TypeOf(fields, value, "--cache-to", allowInline: true);
        var export = new CacheExport(type);
        foreach ((string key, string v) in fields)
        {
            export = key switch
            {
                "type" => export,
                "ref" when type == CacheSpecType.Registry => export with { Ref = CacheSpecFields.ParseRef(v, "--cache-to") },
                "dest" when type == CacheSpecType.Local => export with { Destination = Path.GetFullPath(v) },
                "mode" => export with
                {
                    MaxMode = v switch { "max" => true, "min" => false, _ => throw new FormatException($"--cache-to mode '{v}' is not min or max.") },
                },
                "compression" => export with { Compression = FlagValues.Compression("--cache-to", v) },
                "ignore-error" => export with { IgnoreError = FlagValues.Bool("--cache-to", key, v) },
                // dbuild always writes an OCI image manifest with OCI media types: both are what buildx's true means.
                "oci-mediatypes" or "image-manifest" => FlagValues.Bool("--cache-to", key, v) ? export
                    : throw new FormatException($"--cache-to {key}=false is not supported: dbuild's cache is always an OCI image manifest with OCI media types."),
                "compression-level" or "force-compression" => export,
                _ => throw new FormatException($"--cache-to attribute '{key}' is not known for type={type.ToString().ToLowerInvariant()}."),
            };
        }
        if (type == CacheSpecType.Registry && export.Ref is null) { throw new FormatException($"--cache-to '{value}' needs ref=REGISTRY/REPOSITORY:TAG."); }
        if (type == CacheSpecType.Local && export.Destination is null) { throw new FormatException($"--cache-to '{value}' needs dest=DIR."); }
        return export;
    }
}

/// <summary>buildx's <c>--cache-from</c>: <c>type=registry,ref=REF</c>, <c>type=local,src=DIR</c>, or a plain image reference.</summary>
public sealed record CacheImport(CacheSpecType Type)
{
    /// <summary>type=registry: the cache manifest's (or an image with an inline cache's) reference.</summary>
    public Reference? Ref { get; init; }

    /// <summary>type=local: the OCI layout directory read.</summary>
    public string? Source { get; init; }

    /// <summary>What miss reasons and warnings call it.</summary>
    public string Description => Type == CacheSpecType.Registry ? Ref!.ToString() : Source!;

    /// <summary>Parses one <c>--cache-from</c> value; a bad attribute throws <see cref="FormatException"/> naming it.</summary>
    public static CacheImport Parse(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        if (!value.Contains('=', StringComparison.Ordinal)) { return new CacheImport(CacheSpecType.Registry) { Ref = CacheSpecFields.ParseRef(value, "--cache-from") }; }
        Dictionary<string, string> fields = CacheSpecFields.Split(value, "--cache-from");
        CacheSpecType type = CacheSpecFields.TypeOf(fields, value, "--cache-from", allowInline: false);
        var import = new CacheImport(type);
        foreach ((string key, string v) in fields)
        {
            import = key switch
            {
                "type" => import,
                "ref" when type == CacheSpecType.Registry => import with { Ref = CacheSpecFields.ParseRef(v, "--cache-from") },
                "src" when type == CacheSpecType.Local => import with { Source = Path.GetFullPath(v) },
                "digest" or "tag" => import, // buildx's local-cache selectors: the layout holds one cache manifest here
                _ => throw new FormatException($"--cache-from attribute '{key}' is not known for type={type.ToString().ToLowerInvariant()}."),
            };
        }
        if (type == CacheSpecType.Registry && import.Ref is null) { throw new FormatException($"--cache-from '{value}' needs ref=REGISTRY/REPOSITORY:TAG."); }
        if (type == CacheSpecType.Local && import.Source is null) { throw new FormatException($"--cache-from '{value}' needs src=DIR."); }
        return import;
    }
}

/// <summary>The <c>key=value,…</c> syntax both flags share.</summary>
internal static class CacheSpecFields
{
    public static Dictionary<string, string> Split(string value, string flag)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) { throw new FormatException($"{flag} '{value}': '{part}' is not KEY=VALUE."); }
            fields[part[..eq].Trim().ToLowerInvariant()] = part[(eq + 1)..].Trim();
        }
        return fields;
    }

    public static CacheSpecType TypeOf(Dictionary<string, string> fields, string value, string flag, bool allowInline) =>
        (fields.GetValueOrDefault("type") ?? throw new FormatException($"{flag} '{value}' needs type=registry|local{(allowInline ? "|inline" : "")}.")) switch
        {
            "registry" => CacheSpecType.Registry,
            "local" => CacheSpecType.Local,
            "inline" when allowInline => CacheSpecType.Inline,
            string other => throw new FormatException($"{flag} type '{other}' is not supported (registry, local{(allowInline ? ", inline" : "")})."),
        };

    public static Reference ParseRef(string value, string flag) =>
        Reference.TryParse(value, out Reference? reference, out string? error) ? reference : throw new FormatException($"{flag} ref '{value}' is not a valid reference: {error}");
}
