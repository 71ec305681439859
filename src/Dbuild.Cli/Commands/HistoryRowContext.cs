using System.Globalization;
using System.Text.Json.Nodes;
using Dbuild.Cli.Formatting;

namespace Dbuild.Cli.Commands;

/// <summary>One row of <c>dbuild history</c> as docker's <c>historyContext</c> offers it to <c>--format</c>.</summary>
internal sealed class HistoryRowContext(string id, long createdUnix, string createdBy, long size, string comment, bool truncate, bool human, DateTimeOffset now) : ITemplateObject
{
    public static GoMap Header { get; } = new([
        new("ID", "IMAGE"), new("CreatedSince", "CREATED"), new("CreatedAt", "CREATED AT"), new("CreatedBy", "CREATED BY"),
        new("Size", "SIZE"), new("Comment", "COMMENT"),
    ]);

    public string TypeName => "*image.historyContext";

    public long SizeBytes => size;

    public bool TryGetField(string name, out object? value)
    {
        value = name switch
        {
            "ID" => truncate && id.StartsWith("sha256:", StringComparison.Ordinal) ? id[7..19] : id,
            "CreatedAt" => CreatedAt,
            "CreatedSince" => !human ? CreatedAt : HumanUnits.Duration(now - DateTimeOffset.FromUnixTimeSeconds(createdUnix)) + " ago", // 20.10: "56 years ago" for 1970 too
            "CreatedBy" => CreatedBy,
            "Size" => human ? HumanUnits.SizeThreeDigits(size) : size.ToString(CultureInfo.InvariantCulture),
            "Comment" => comment,
            _ => null,
        };
        return value is not null;
    }

    private string CreatedAt
    {
        get
        {
            DateTimeOffset local = TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeSeconds(createdUnix), TimeZoneInfo.Local);
            return local.Offset == TimeSpan.Zero ? local.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : local.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Tabs become spaces; truncated, docker's <c>Ellipsis(…, 45)</c>: 44 characters and <c>…</c>.</summary>
    private string CreatedBy
    {
        get
        {
            string by = createdBy.Replace('\t', ' ');
            int[] runes = [.. by.EnumerateRunes().Select(r => r.Value)];
            return !truncate || runes.Length <= 45 ? by : string.Concat(runes.Take(44).Select(char.ConvertFromUtf32)) + "…";
        }
    }

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
}
