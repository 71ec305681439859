using System.Globalization;
using System.Text.Json.Nodes;
using Dbuild.Cli.Formatting;

namespace Dbuild.Cli.Commands;

/// <summary>One row of <c>dbuild images</c> as docker's <c>formatter.imageContext</c> offers it to <c>--format</c>.</summary>
internal sealed class ImageRowContext(ImageSummary image, string repository, string tag, string digest, bool truncate, DateTimeOffset now) : ITemplateObject
{
    /// <summary>docker's header row names for the fields.</summary>
    public static GoMap Header { get; } = new([
        new("ID", "IMAGE ID"), new("Repository", "REPOSITORY"), new("Tag", "TAG"), new("Digest", "DIGEST"),
        new("CreatedSince", "CREATED"), new("CreatedAt", "CREATED AT"), new("Size", "SIZE"), new("Containers", "CONTAINERS"),
        new("VirtualSize", "VIRTUAL SIZE"), new("SharedSize", "SHARED SIZE"), new("UniqueSize", "UNIQUE SIZE"),
    ]);

    public string TypeName => "*formatter.imageContext";

    public bool TryGetField(string name, out object? value)
    {
        value = name switch
        {
            "ID" => truncate ? image.Id.Encoded[..12] : image.Id.ToString(),
            "Repository" => repository,
            "Tag" => tag,
            "Digest" => digest,
            "CreatedSince" => HumanUnits.Duration(now - DateTimeOffset.FromUnixTimeSeconds(image.CreatedUnix)) + " ago",
            "CreatedAt" => GoTime(DateTimeOffset.FromUnixTimeSeconds(image.CreatedUnix)),
            "Size" => HumanUnits.SizeThreeDigits(image.Size),
            "VirtualSize" => HumanUnits.Size(image.Size),
            "Containers" or "SharedSize" or "UniqueSize" => "N/A",
            _ => null,
        };
        return value is not null;
    }

    /// <summary>docker marshals the context's methods as a map: keys sorted, HTML characters escaped.</summary>
    public JsonNode ToJson()
    {
        var json = new JsonObject();
        foreach (KeyValuePair<string, object?> field in Header.Sorted)
        {
            TryGetField(field.Key, out object? value);
            json[field.Key] = (string)value!;
        }
        return json;
    }

    /// <summary>Go's <c>time.Time.String()</c> in this machine's zone: <c>2026-12-02 21:25:40 +0000 UTC</c>.</summary>
    internal static string GoTime(DateTimeOffset time)
    {
        DateTimeOffset local = TimeZoneInfo.ConvertTime(time, TimeZoneInfo.Local);
        string offset = local.ToString("zzz", CultureInfo.InvariantCulture).Replace(":", "", StringComparison.Ordinal);
        string zone = local.Offset == TimeSpan.Zero && TimeZoneInfo.Local.BaseUtcOffset == TimeSpan.Zero ? "UTC" : offset[..3];
        return local.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " " + offset + " " + zone;
    }
}
