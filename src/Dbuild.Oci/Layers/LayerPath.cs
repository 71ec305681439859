namespace Dbuild.Oci.Layers;

/// <summary>How a tar name becomes a layer path: the one rule every reader in dbuild applies.</summary>
internal static class LayerPath
{
    /// <summary>
    /// Cleans a name lexically (as Go's path.Clean: repeated <c>/</c>, <c>.</c> and inner <c>..</c> removed) and
    /// makes it relative to the root: <c>./a</c>, <c>/a</c>, <c>//a/</c> and <c>/../a</c> are all <c>a</c>, and
    /// <c>.</c> or <c>/</c> is <c>""</c> (the root). Null when a <c>..</c> would climb above the root (<c>../a</c>,
    /// <c>a/../../b</c>): such names are refused, never clamped.
    /// </summary>
    public static string? Clean(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (IsClean(name)) { return name; }
        bool rooted = name.StartsWith('/');
        var parts = new List<string>();
        foreach (string part in name.Split('/'))
        {
            if (part is "" or ".") { continue; }
            if (part == "..")
            {
                if (parts.Count > 0) { parts.RemoveAt(parts.Count - 1); }
                else if (!rooted) { return null; }
                continue;
            }
            parts.Add(part);
        }
        return string.Join('/', parts);
    }

    /// <summary>Already relative and clean (what dbuild and most writers store, apart from a trailing slash on directories).</summary>
    private static bool IsClean(string name) =>
        name.Length > 0 && name[0] != '/' && name[^1] != '/' && !name.Contains("//", StringComparison.Ordinal)
        && !name.StartsWith("./", StringComparison.Ordinal) && !name.Contains("/./", StringComparison.Ordinal) && !name.EndsWith("/.", StringComparison.Ordinal)
        && !name.Contains("..", StringComparison.Ordinal) && name != ".";
}
