using System.Text;

namespace Dbuild.Dockerfile;

/// <summary>Go's encoding/csv for one record (used by <c>--mount</c>).</summary>
internal static class Csv
{
    public static List<string> ReadRecord(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        int i = 0;
        while (true)
        {
            field.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length) { throw new FormatException("failed to parse csv mounts: extraneous or missing \" in quoted-field"); }
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    field.Append(line[i++]);
                }
                if (i < line.Length && line[i] != ',') { throw new FormatException("failed to parse csv mounts: extraneous or missing \" in quoted-field"); }
            }
            else
            {
                while (i < line.Length && line[i] != ',')
                {
                    if (line[i] == '"') { throw new FormatException("failed to parse csv mounts: bare \" in non-quoted-field"); }
                    field.Append(line[i++]);
                }
            }
            fields.Add(field.ToString());
            if (i >= line.Length) { break; }
            i++; // ','
        }
        return fields;
    }
}
