using Dbuild.Oci;

namespace Dbuild.Solver;

/// <summary>Values of buildx's <c>key=value,…</c> flag attributes (<c>--output</c>, <c>--cache-to</c>, <c>--attest</c>), with errors naming the flag.</summary>
internal static class FlagValues
{
    public static bool Bool(string flag, string key, string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => throw new FormatException($"{flag} {key}='{value}' is not true or false."),
    };

    public static LayerCompression Compression(string flag, string value) => value.ToLowerInvariant() switch
    {
        "gzip" => LayerCompression.Gzip,
        "zstd" => LayerCompression.Zstd,
        "uncompressed" => LayerCompression.None,
        _ => throw new FormatException($"{flag} compression '{value}' is not one of gzip, zstd, uncompressed."),
    };
}
