
namespace Dbuild.Runtime.Tests;

public sealed class UserResolverTests
{
    private static readonly string[] Passwd =
    [
        "root:x:0:0:root:/root:/bin/sh",
        "app:x:1000:1000:app:/home/app:/bin/sh",
        "svc:x:1001:50::/srv:/bin/false",
    ];

    private static readonly string[] Group =
    [
        "root:x:0:",
        "staff:x:50:app",
        "app:x:1000:",
        "docker:x:999:app,svc",
    ];

    [Theory]
    [InlineData("", 0, 0, "")] // empty = root
    [InlineData("root", 0, 0, "")]
    [InlineData("app", 1000, 1000, "50,999")] // supplementary groups listing the user
    [InlineData("1000", 1000, 1000, "50,999")] // uid found in passwd
    [InlineData("4242", 4242, 0, "")] // unknown uid: gid 0
    [InlineData("app:staff", 1000, 50, "")] // explicit group: no supplementary groups
    [InlineData("app:77", 1000, 77, "")]
    [InlineData("5:6", 5, 6, "")]
    [InlineData("svc", 1001, 50, "999")] // primary group is not repeated
    public void Resolve_Table(string user, int uid, int gid, string additional)
    {
        ResolvedUser resolved = UserResolver.Resolve(user.Length == 0 ? "0" : user, Passwd, Group);
        Assert.Equal(uid, resolved.Uid);
        Assert.Equal(gid, resolved.Gid);
        Assert.Equal(additional, string.Join(',', resolved.AdditionalGids));
    }

    [Theory]
    [InlineData("nobody-here")] // unknown name
    [InlineData("app:nogroup")] // unknown group
    public void Resolve_Unknown_Throws(string user) =>
        Assert.Throws<InvalidOperationException>(() => UserResolver.Resolve(user, Passwd, Group));
}
