using Dbuild.Testing;

namespace Dbuild.Runtime.Tests;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RootPathTests
{
    [Fact]
    public void Resolve_AbsoluteSymlink_StaysInsideRoot()
    {
        using var root = new TempDirectory();
        Directory.CreateDirectory(root.Combine("real", "etc"));
        File.CreateSymbolicLink(root.Combine("etc"), "/real/etc");
        Assert.Equal(root.Combine("real", "etc", "passwd"), RootPath.Resolve(root.Path, "/etc/passwd"));
    }

    [Fact]
    public void Resolve_DotDotBeyondRoot_ClampsAtRoot()
    {
        using var root = new TempDirectory();
        Directory.CreateDirectory(root.Combine("a"));
        File.CreateSymbolicLink(root.Combine("a", "up"), "../../../../etc");
        Assert.Equal(root.Combine("etc", "passwd"), RootPath.Resolve(root.Path, "/a/up/passwd"));
        Assert.Equal(root.Combine("x"), RootPath.Resolve(root.Path, "/../../x"));
    }

    [Fact]
    public void CreateDirectories_ThroughSymlink_CreatesInsideRootAndReportsCreated()
    {
        using var root = new TempDirectory();
        File.CreateSymbolicLink(root.Combine("w"), "/tmp"); // /tmp of the rootfs, not the host's
        List<string> created = RootPath.CreateDirectories(root.Path, "/w/app/src", 0, 0);
        Assert.Equal([root.Combine("tmp"), root.Combine("tmp", "app"), root.Combine("tmp", "app", "src")], created);
        Assert.True(Directory.Exists(root.Combine("tmp", "app", "src")));
    }
}
