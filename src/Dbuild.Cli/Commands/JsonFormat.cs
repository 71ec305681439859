namespace Dbuild.Cli.Commands;

/// <summary>The one Go template <c>version</c> and <c>info</c> take: <c>{{json .}}</c>; anything else is a usage error.</summary>
internal static class JsonFormat
{
    public static bool Requested(string? format) => format switch
    {
        null or "" => false,
        _ when format.Replace(" ", "", StringComparison.Ordinal) == "{{json.}}" => true,
        _ => throw new UsageException($"--format '{format}': only '{{{{json .}}}}' is supported here."),
    };
}
