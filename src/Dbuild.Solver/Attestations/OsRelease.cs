using System.Text;

namespace Dbuild.Solver.Attestations;

/// <summary>The distribution an image says it is (<c>/etc/os-release</c>, else <c>/usr/lib/os-release</c>): ID and VERSION_ID.</summary>
/// <remarks>https://www.freedesktop.org/software/systemd/man/latest/os-release.html</remarks>
internal sealed record OsRelease(string Id, string? VersionId)
{
    public static readonly string[] Paths = ["etc/os-release", "usr/lib/os-release"];

    /// <summary>syft's <c>distro</c> qualifier: <c>debian-12</c>, <c>alpine-3.19.1</c>.</summary>
    public string Distro => VersionId is null ? Id : $"{Id}-{VersionId}";

    public static OsRelease? Parse(ReadOnlySpan<byte> content)
    {
        string? id = null, version = null;
        foreach (string raw in Encoding.UTF8.GetString(content).Split('\n'))
        {
            int eq = raw.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) { continue; }
            string key = raw[..eq].Trim();
            string value = raw[(eq + 1)..].Trim().Trim('"', '\'');
            if (key == "ID") { id = value; }
            else if (key == "VERSION_ID") { version = value; }
        }
        return id is null ? null : new OsRelease(id, version);
    }
}
