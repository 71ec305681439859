using Dbuild.Testing;

namespace Dbuild.Runtime.Tests;

/// <summary>Expected values follow BuildKit's executor/oci/user.go (GetUser, WithUIDGID) and moby/sys/user's GetExecUser.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class UserResolverTests
{
    private static readonly string[] Passwd =
    [
        "root:x:0:0:root:/root:/bin/sh",
        "app:x:1000:1000:app:/home/app:/bin/sh",
        "svc:x:1001:50::/srv:/bin/false",
        "  ",
        "dup:x:1000:1:shadowed by app, which comes first:/x:/bin/sh",
    ];

    private static readonly string[] Group =
    [
        "root:x:0:",
        "# staff:x:51:svc",
        "staff:x:50:app",
        "app:x:1000:",
        "docker:x:999:app,svc",
        "wheel:x:10:root",
    ];

    [Theory]
    [InlineData("0", 0, 0, "0,10")] // what an unset USER resolves as: root with the groups listing root (BuildKit 0.10+)
    [InlineData("root", 0, 0, "0,10")]
    [InlineData("app", 1000, 1000, "1000,50,999")] // supplementary groups listing the user, primary gid first (BuildKit 0.11.4+)
    [InlineData("1000", 1000, 1000, "1000,50,999")] // a uid found in passwd is that user, groups included
    [InlineData("4242", 4242, 0, "0")] // a uid not in passwd: gid 0, no groups
    [InlineData("app:staff", 1000, 50, "50")] // an explicit group: no supplementary groups
    [InlineData("app:77", 1000, 77, "77")] // a numeric group not in the file
    [InlineData("app:999", 1000, 999, "999")] // a numeric group in the file
    [InlineData("1000:docker", 1000, 999, "999")]
    [InlineData("5:6", 5, 6, "6")] // uid:gid, the files are not read
    [InlineData("root:root", 0, 0, "0")] // "root" counts as 0 in the uid:gid fast path
    [InlineData("svc", 1001, 50, "50,999")] // the primary group is added first when no group lists the user in it
    [InlineData(":50", 0, 50, "50")] // no user part: uid 0's entry
    [InlineData("app:staff:ignored", 1000, 50, "50")] // fields past the group are ignored
    [InlineData("+1001", 1001, 50, "50,999")] // Go's Atoi takes a sign
    public void Resolve_Table(string user, int uid, int gid, string additional)
    {
        ResolvedUser resolved = UserResolver.Resolve(user, Passwd, Group);
        Assert.Equal((uid, gid), (resolved.Uid, resolved.Gid));
        Assert.Equal(additional, string.Join(',', resolved.AdditionalGids));
    }

    [Fact]
    public void Resolve_UserListedInItsOwnPrimaryGroup_KeepsFileOrder()
    {
        ResolvedUser resolved = UserResolver.Resolve("u", ["u:x:7:5::/:/bin/sh"], ["other:x:9:u", "prim:x:5:u"]);
        Assert.Equal([9, 5], resolved.AdditionalGids);
    }

    [Fact]
    public void Resolve_NoGroupFile_OnlyThePrimaryGroup()
    {
        ResolvedUser resolved = UserResolver.Resolve("app", Passwd, null);
        Assert.Equal((1000, 1000), (resolved.Uid, resolved.Gid));
        Assert.Equal([1000], resolved.AdditionalGids);
    }

    [Fact]
    public void Resolve_NoPasswdFile_NumericUidRunsWithGidZero()
    {
        ResolvedUser resolved = UserResolver.Resolve("1234", null, null);
        Assert.Equal((1234, 0), (resolved.Uid, resolved.Gid));
        Assert.Equal([0], resolved.AdditionalGids);
    }

    [Theory]
    [InlineData("nobody-here")] // unknown name
    [InlineData("app:nogroup")] // unknown group name
    [InlineData("#app")] // passwd comments are not skipped, but nothing is named like that either
    [InlineData("-5")] // negative uid
    [InlineData("app:-1")] // negative gid
    [InlineData("3000000000")] // beyond 2^31-1
    public void Resolve_Invalid_Throws(string user) =>
        Assert.Throws<InvalidOperationException>(() => UserResolver.Resolve(user, Passwd, Group));

    [Fact]
    public void Resolve_UnsetUserOnEmptyRootfs_IsRootWithGroupZero()
    {
        using var root = new TempDirectory();
        ResolvedUser resolved = UserResolver.Resolve(root.Path, null);
        Assert.Equal((0, 0), (resolved.Uid, resolved.Gid));
        Assert.Equal([0], resolved.AdditionalGids);
    }

    [Fact]
    public void Resolve_UnsetUser_ReadsRootsGroupsFromTheRootfs()
    {
        using var root = new TempDirectory();
        Directory.CreateDirectory(root.Combine("etc"));
        File.WriteAllLines(root.Combine("etc", "passwd"), Passwd);
        File.WriteAllLines(root.Combine("etc", "group"), Group);
        Assert.Equal([0, 10], UserResolver.Resolve(root.Path, "").AdditionalGids);
    }

    [Fact]
    public void Resolve_NameOnEmptyRootfs_Throws()
    {
        using var root = new TempDirectory();
        var error = Assert.Throws<InvalidOperationException>(() => UserResolver.Resolve(root.Path, "app"));
        Assert.Equal("unable to find user app: no matching entries in passwd file", error.Message);
    }
}
