using System.Text;

namespace Dbuild.Cli.Formatting;

/// <summary>
/// Go's <c>text/tabwriter</c> (no flags, space padding), which docker's table formats go through: tab-terminated cells
/// form columns, each column block as wide as its widest cell plus the padding, at least the minimum width.
/// </summary>
internal sealed class GoTabWriter(int minWidth, int padding)
{
    private readonly List<int> _widths = [];
    private List<string[]> _lines = [];
    private StringBuilder _output = new();

    /// <summary>docker's tables: <c>tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)</c>.</summary>
    public static string Docker(string text) => new GoTabWriter(10, 3).Format(text);

    public string Format(string text)
    {
        string[] lines = text.Split('\n');
        _lines = [.. lines.Select(l => l.Split('\t'))];
        _output = new StringBuilder();
        _widths.Clear();
        Block(0, _lines.Count);
        string result = _output.ToString();
        // Split gives one more (empty) line than there are newlines; it was written with a newline it never had.
        return result[..^1] + (lines[^1].Length > 0 ? lines[^1] : "");
    }

    private void Block(int line0, int line1)
    {
        int column = _widths.Count;
        for (int current = line0; current < line1; current++)
        {
            if (column >= _lines[current].Length - 1) { continue; }
            WriteLines(line0, current);
            line0 = current;
            int width = minWidth;
            for (; current < line1; current++)
            {
                string[] cells = _lines[current];
                if (column >= cells.Length - 1) { break; }
                width = Math.Max(width, Width(cells[column]) + padding);
            }
            _widths.Add(width);
            Block(line0, current);
            _widths.RemoveAt(_widths.Count - 1);
            line0 = current;
            current--;
        }
        WriteLines(line0, line1);
    }

    private void WriteLines(int line0, int line1)
    {
        for (int i = line0; i < line1; i++)
        {
            string[] cells = _lines[i];
            for (int j = 0; j < cells.Length; j++)
            {
                _output.Append(cells[j]);
                if (j < _widths.Count && j < cells.Length - 1) { _output.Append(' ', Math.Max(0, _widths[j] - Width(cells[j]))); }
            }
            _output.Append('\n');
        }
    }

    private static int Width(string cell) => cell.EnumerateRunes().Count();
}
