using System.Globalization;
using System.Runtime.Versioning;

namespace Dbuild.Runtime;

/// <summary>The numeric identity a step runs as.</summary>
internal sealed record ResolvedUser(int Uid, int Gid, IReadOnlyList<int> AdditionalGids, string? Home);

/// <summary>Resolves USER (<c>name</c>, <c>uid</c>, <c>name:group</c>, <c>uid:gid</c>) through the rootfs's /etc/passwd and /etc/group, as Docker and BuildKit do.</summary>
[SupportedOSPlatform("linux")]
internal static class UserResolver
{
    public static ResolvedUser Resolve(string rootfs, string? user)
    {
        if (string.IsNullOrEmpty(user)) { user = "0"; }
        string[] passwd = ReadLines(rootfs, "/etc/passwd");
        string[] group = ReadLines(rootfs, "/etc/group");
        return Resolve(user, passwd, group);
    }

    internal static ResolvedUser Resolve(string user, string[] passwd, string[] group)
    {
        int colon = user.IndexOf(':', StringComparison.Ordinal);
        string userPart = colon < 0 ? user : user[..colon];
        string? groupPart = colon < 0 ? null : user[(colon + 1)..];

        string[]? entry = null;
        bool numericUser = int.TryParse(userPart, NumberStyles.None, CultureInfo.InvariantCulture, out int uid);
        foreach (string line in passwd)
        {
            string[] fields = line.Split(':');
            if (fields.Length < 4) { continue; }
            if (numericUser ? fields[2] == userPart : fields[0] == userPart) { entry = fields; break; }
        }
        if (entry is null && !numericUser)
        {
            throw new InvalidOperationException($"unable to find user {userPart}: no matching entries in passwd file");
        }
        int gid = 0;
        if (entry is not null)
        {
            uid = int.Parse(entry[2], CultureInfo.InvariantCulture);
            gid = int.Parse(entry[3], CultureInfo.InvariantCulture);
        }

        var additional = new List<int>();
        if (groupPart is not null)
        {
            if (int.TryParse(groupPart, NumberStyles.None, CultureInfo.InvariantCulture, out int numericGroup)) { gid = numericGroup; }
            else
            {
                string[]? groupEntry = group.Select(l => l.Split(':')).FirstOrDefault(f => f.Length >= 3 && f[0] == groupPart);
                gid = groupEntry is null
                    ? throw new InvalidOperationException($"unable to find group {groupPart}: no matching entries in group file")
                    : int.Parse(groupEntry[2], CultureInfo.InvariantCulture);
            }
        }
        else if (entry is not null)
        {
            foreach (string line in group)
            {
                string[] fields = line.Split(':');
                if (fields.Length < 4 || !int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out int member)) { continue; }
                if (member != gid && fields[3].Split(',').Contains(entry[0]) && !additional.Contains(member)) { additional.Add(member); }
            }
        }
        return new ResolvedUser(uid, gid, additional, entry is { Length: >= 6 } ? entry[5] : null);
    }

    private static string[] ReadLines(string rootfs, string path)
    {
        string host = RootPath.Resolve(rootfs, path);
        if (Interop.TryLStat(host) is not { IsRegular: true }) { return []; }
        return File.ReadAllLines(host).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
    }
}
