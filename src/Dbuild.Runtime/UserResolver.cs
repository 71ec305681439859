using System.Globalization;
using System.Runtime.Versioning;

namespace Dbuild.Runtime;

/// <summary>The numeric identity a step runs as.</summary>
internal sealed record ResolvedUser(int Uid, int Gid, IReadOnlyList<int> AdditionalGids, string? Home);

/// <summary>
/// Resolves USER as BuildKit's executors do (executor/oci/user.go <c>GetUser</c>, which calls moby/sys/user's
/// <c>GetExecUser</c>, then <c>WithUIDGID</c>; read in BuildKit's source, v0.8 to v0.2x, and run against a buildkitd v0.11.6):
/// <list type="bullet">
/// <item><c>uid:gid</c> with both numeric (or <c>root</c>) is taken as is: the image's files are not read, no groups are added.</item>
/// <item>Otherwise <c>user[:group]</c> goes through the rootfs's /etc/passwd: a name, or a uid, found there gives uid, gid
/// and home; a numeric uid that is not there runs with gid 0; a name that is not there is an error.</item>
/// <item>An explicit group (a name from /etc/group, or a numeric gid) replaces the gid and adds no supplementary groups.
/// Without one, the user found in passwd gets every group of /etc/group whose member list names it, in file order.</item>
/// <item>No USER is <c>0</c> resolved the same way, so root gets the groups that list <c>root</c> (BuildKit v0.10+); any
/// error then means plain 0:0.</item>
/// <item>The primary gid leads the additional gids unless already among them (BuildKit v0.11.4+ and v0.12+, as containerd
/// does), so <c>id</c> prints <c>groups=</c> for every user. BuildKit 0.8 (docker 20.10) set no groups for <c>uid:gid</c>,
/// an unset USER or a user in no group.</item>
/// </list>
/// </summary>
[SupportedOSPlatform("linux")]
internal static class UserResolver
{
    private const int MaxId = int.MaxValue; // moby/sys/user: 1<<31 - 1, for 32-bit systems
    private const long MaxUserFileBytes = 10 << 20;

    public static ResolvedUser Resolve(string rootfs, string? user)
    {
        bool isDefault = string.IsNullOrEmpty(user);
        string spec = isDefault ? "0" : user!;
        if (TryParseUidGid(spec, out int fastUid, out int fastGid)) { return WithPrimaryGroup(fastUid, fastGid, [], null); }
        try
        {
            return Resolve(spec, ReadUserFile(rootfs, "/etc/passwd"), ReadUserFile(rootfs, "/etc/group"));
        }
        catch (InvalidOperationException) when (isDefault)
        {
            return WithPrimaryGroup(0, 0, [], null);
        }
    }

    /// <summary>Resolves through the given files' lines; null stands for a file that is missing or not a regular file.</summary>
    internal static ResolvedUser Resolve(string spec, IReadOnlyList<string>? passwd, IReadOnlyList<string>? group)
    {
        if (TryParseUidGid(spec, out int fastUid, out int fastGid)) { return WithPrimaryGroup(fastUid, fastGid, [], null); }
        string[] parts = spec.Split(':');
        string userArg = parts[0];
        string groupArg = parts.Length > 1 ? parts[1] : "";
        bool isUid = TryParseId(userArg, out int uidArg);
        bool isGid = TryParseId(groupArg, out int gidArg);

        int uid = 0, gid = 0;
        string? home = null;
        string? matchedName = null;
        string[]? entry = passwd?.Select(l => l.Trim()).Where(l => l.Length > 0).Select(l => l.Split(':'))
            .FirstOrDefault(f => userArg.Length == 0 ? Field(f, 2) == 0 : isUid ? Field(f, 2) == uidArg : f[0] == userArg);
        if (entry is not null)
        {
            (matchedName, uid, gid, home) = (entry[0], Field(entry, 2), Field(entry, 3), entry.Length > 5 ? entry[5] : "");
        }
        else if (userArg.Length > 0)
        {
            uid = isUid ? uidArg : throw new InvalidOperationException($"unable to find user {userArg}: no matching entries in passwd file");
        }

        var additional = new List<int>();
        if (groupArg.Length > 0 || matchedName is not null)
        {
            var groups = (group ?? []).Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split(':'))
                .Where(f => groupArg.Length == 0 ? Members(f).Contains(matchedName!) : isGid ? Field(f, 2) == gidArg : f[0] == groupArg)
                .ToList();
            if (groupArg.Length > 0)
            {
                gid = groups.Count > 0 ? Field(groups[0], 2)
                    : isGid ? gidArg : throw new InvalidOperationException($"unable to find group {groupArg}: no matching entries in group file");
            }
            else
            {
                additional.AddRange(groups.Select(f => Field(f, 2)));
            }
        }
        return WithPrimaryGroup(uid, gid, additional, home);
    }

    private static ResolvedUser WithPrimaryGroup(int uid, int gid, List<int> additional, string? home)
    {
        if (!additional.Contains(gid)) { additional.Insert(0, gid); }
        return new ResolvedUser(uid, gid, additional, home);
    }

    /// <summary>BuildKit's fast path: exactly <c>a:b</c>, each a 32-bit unsigned number or <c>root</c>.</summary>
    private static bool TryParseUidGid(string spec, out int uid, out int gid)
    {
        uid = gid = 0;
        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        return colon >= 0 && TryParseFastId(spec[..colon], out uid) && TryParseFastId(spec[(colon + 1)..], out gid);
    }

    private static bool TryParseFastId(string value, out int id)
    {
        id = 0;
        if (value == "root") { return true; }
        if (!uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out uint parsed)) { return false; }
        id = unchecked((int)parsed); // the runtime spec's uid is a uint32
        return true;
    }

    /// <summary>A decimal (Go's Atoi: optional sign, digits) is an id and must lie in 0..2^31-1; anything else is a name.</summary>
    private static bool TryParseId(string value, out int id)
    {
        id = 0;
        ReadOnlySpan<char> digits = value.AsSpan(value.StartsWith('+') || value.StartsWith('-') ? 1 : 0);
        if (digits.Length == 0 || digits.ContainsAnyExceptInRange('0', '9')) { return false; }
        if (value.StartsWith('-') && digits.ContainsAnyExcept('0') || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out id))
        {
            throw new InvalidOperationException($"{value}: uids and gids must be in range 0-{MaxId}");
        }
        return true;
    }

    /// <summary>A numeric field as Go's <c>strconv.Atoi</c> with the error ignored: 0 when missing or not a number.</summary>
    private static int Field(string[] fields, int index) =>
        fields.Length > index && int.TryParse(fields[index], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) ? value : 0;

    private static string[] Members(string[] fields) => fields.Length > 3 && fields[3].Length > 0 ? fields[3].Split(',') : [];

    private static string[]? ReadUserFile(string rootfs, string path)
    {
        string host = RootPath.Resolve(rootfs, path);
        if (Interop.TryLStat(host) is not { IsRegular: true } status) { return null; }
        return status.Size > MaxUserFileBytes
            ? throw new InvalidOperationException($"{path} exceeds {MaxUserFileBytes} bytes")
            : File.ReadAllLines(host);
    }
}
