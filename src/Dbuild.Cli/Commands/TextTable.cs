using System.Text;

namespace Dbuild.Cli.Commands;

/// <summary>Aligned columns as Go's <c>text/tabwriter</c> makes them, which docker and buildx print tables with.</summary>
internal static class TextTable
{
    /// <summary>docker's tables (<c>docker system df</c>): columns at least 10 wide, padded with 3 spaces.</summary>
    public static string Spaces(IEnumerable<IReadOnlyList<string>> rows) => Format(rows, minWidth: 10, padding: 3, tabs: false);

    /// <summary>buildx's tables (<c>docker buildx prune</c>, <c>du</c>): padded with tabs to multiples of 8.</summary>
    public static string Tabs(IEnumerable<IReadOnlyList<string>> rows) => Format(rows, minWidth: 1, padding: 1, tabs: true);

    private static string Format(IEnumerable<IReadOnlyList<string>> rows, int minWidth, int padding, bool tabs)
    {
        List<IReadOnlyList<string>> all = [.. rows];
        int columns = all.Count == 0 ? 0 : all.Max(r => r.Count);
        var widths = new int[columns];
        for (int c = 0; c < columns; c++)
        {
            int width = Math.Max(minWidth, all.Where(r => c < r.Count - 1).Select(r => r[c].Length + padding).DefaultIfEmpty(0).Max());
            widths[c] = tabs ? (width + 7) / 8 * 8 : width;
        }
        var text = new StringBuilder();
        foreach (IReadOnlyList<string> row in all)
        {
            for (int c = 0; c < row.Count; c++)
            {
                text.Append(row[c]);
                if (c == row.Count - 1) { break; }
                int gap = widths[c] - row[c].Length;
                text.Append(tabs ? new string('\t', (gap + 7) / 8) : new string(' ', gap));
            }
            text.Append('\n');
        }
        return text.ToString();
    }
}
