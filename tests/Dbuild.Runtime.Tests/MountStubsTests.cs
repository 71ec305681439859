using Dbuild.Testing;

namespace Dbuild.Runtime.Tests;

/// <summary>Expected behaviour: BuildKit's executor/stubs.go (v0.11+, recursive mode, which its LLB client always requests).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class MountStubsTests
{
    [Fact]
    public void Record_MissingDestinations_WithTheirMissingParentsUpToTheRoot()
    {
        using var root = new TempDirectory();
        Directory.CreateDirectory(root.Combine("etc"));
        File.WriteAllText(root.Combine("etc", "hosts"), "exists");
        var stubs = MountStubs.Record(root.Path, ["/etc/resolv.conf", "/etc/hosts", "/a/b/c", "/", "/d/../e"]);
        Assert.Equal([root.Combine("etc", "resolv.conf"), root.Combine("a", "b", "c"), root.Combine("a", "b"), root.Combine("a"), root.Combine("e")], stubs.Paths);
    }

    [Fact]
    public void Remove_EmptyStubsAndTheirParents_Removed_WrittenOnesKept()
    {
        using var root = new TempDirectory();
        Directory.CreateDirectory(root.Combine("etc"));
        var stubs = MountStubs.Record(root.Path, ["/etc/hosts", "/cache/dir", "/data/sub", "/run/secrets/token"]);
        // what the runtime creates for the mounts, and what the step writes
        File.WriteAllText(root.Combine("etc", "hosts"), "");
        Directory.CreateDirectory(root.Combine("cache", "dir"));
        Directory.CreateDirectory(root.Combine("data", "sub"));
        File.WriteAllText(root.Combine("data", "written"), "by the step");
        Directory.CreateDirectory(root.Combine("run", "secrets"));
        File.WriteAllText(root.Combine("run", "secrets", "token"), "");

        Assert.Empty(stubs.Remove());
        Assert.False(File.Exists(root.Combine("etc", "hosts")));
        Assert.True(Directory.Exists(root.Combine("etc"))); // existed before
        Assert.False(Directory.Exists(root.Combine("cache")));
        Assert.False(Directory.Exists(root.Combine("data", "sub")));
        Assert.True(File.Exists(root.Combine("data", "written")));
        Assert.False(Directory.Exists(root.Combine("run")));
    }

    [Fact]
    public void Remove_NonEmptyDirectoryOrFile_Kept()
    {
        using var root = new TempDirectory();
        var stubs = MountStubs.Record(root.Path, ["/dir", "/file"]);
        Directory.CreateDirectory(root.Combine("dir", "child")); // only empty directories go, not empty trees
        File.WriteAllText(root.Combine("file"), "x");
        stubs.Remove();
        Assert.True(Directory.Exists(root.Combine("dir", "child")));
        Assert.True(File.Exists(root.Combine("file")));
    }

    [Fact]
    public void Remove_NestedDestinations_InnerFirstThenOuter()
    {
        using var root = new TempDirectory();
        var stubs = MountStubs.Record(root.Path, ["/a", "/a/b"]);
        Directory.CreateDirectory(root.Combine("a", "b"));
        stubs.Remove();
        Assert.False(Directory.Exists(root.Combine("a")));
    }

    [Fact]
    public void Remove_ParentKeepsTheTimesItHadAfterTheStep()
    {
        using var root = new TempDirectory();
        Directory.CreateDirectory(root.Combine("etc"));
        var stubs = MountStubs.Record(root.Path, ["/etc/hosts"]);
        File.WriteAllText(root.Combine("etc", "hosts"), "");
        // the step set the directory's times (BuildKit issue 3148: touch --date=@1234567890 /etc must survive)
        Interop.LUtimes(root.Combine("etc"), 1_000_000_000, 5, 1_234_567_890, 7);
        stubs.Remove();
        Interop.FileStatus etc = Interop.LStat(root.Combine("etc"));
        Assert.Equal((1_234_567_890L, 7u), (etc.MtimeSeconds, etc.MtimeNanoseconds));
        Assert.Equal((1_000_000_000L, 5u), (etc.AtimeSeconds, etc.AtimeNanoseconds));
    }
}
