using System.Runtime.Versioning;
using System.Text;

namespace Dbuild.Runtime;

/// <summary>This process's mount table (/proc/self/mountinfo): which mount points lie under a directory.</summary>
[SupportedOSPlatform("linux")]
internal static class MountTable
{
    /// <summary>Mount points at or under <paramref name="directory"/>, deepest (last mounted) first, so they can be unmounted in that order.</summary>
    public static List<string> MountPointsUnder(string directory)
    {
        string root = Path.TrimEndingDirectorySeparator(directory);
        var points = new List<string>();
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            string[] fields = line.Split(' ');
            if (fields.Length < 5) { continue; }
            string point = Unescape(fields[4]);
            if (point == root || point.StartsWith(root + "/", StringComparison.Ordinal)) { points.Add(point); }
        }
        points.Reverse(); // mountinfo lists mounts in mount order
        return points;
    }

    /// <summary>mountinfo writes space, tab, newline and backslash in paths as octal escapes (<c>\040</c>).</summary>
    internal static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal)) { return field; }
        var text = new StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && field.AsSpan(i + 1, 3).IndexOfAnyExceptInRange('0', '7') < 0)
            {
                text.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
                continue;
            }
            text.Append(field[i]);
        }
        return text.ToString();
    }
}
