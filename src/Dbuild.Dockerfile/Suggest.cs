namespace Dbuild.Dockerfile;

/// <summary>"did you mean" suggestions by edit distance, like BuildKit's suggest package.</summary>
public static class Suggest
{
    public static string? Closest(string value, IEnumerable<string> options, bool caseSensitive)
    {
        if (value.Length == 0) { return null; }
        string v = caseSensitive ? value : value.ToLowerInvariant();
        int limit = Math.Max(1, Math.Min(2, v.Length / 2));
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string option in options)
        {
            string o = caseSensitive ? option : option.ToLowerInvariant();
            int d = Levenshtein(v, o);
            if (d <= limit && d < bestDistance)
            {
                best = option;
                bestDistance = d;
            }
        }
        return best;
    }

    public static string WithSuggestion(string message, string value, IEnumerable<string> options, bool caseSensitive, Func<string, string>? format = null)
    {
        string? match = Closest(value, options, caseSensitive);
        return match is null ? message : $"{message} (did you mean {(format is null ? match : format(match))}?)";
    }

    private static int Levenshtein(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) { previous[j] = j; }
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
