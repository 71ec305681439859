using Dbuild.Oci.Layers;

namespace Dbuild.Solver.Tests;

public sealed class FsTreeTests
{
    private static LayerEntry Dir(string path) => new() { Path = path, Type = LayerEntryType.Directory, Mode = (UnixFileMode)0b111_101_101 };
    private static LayerEntry File(string path) => new() { Path = path, Type = LayerEntryType.File, Mode = (UnixFileMode)0b110_100_100 };

    [Fact]
    public void Apply_Whiteout_RemovesPathAndChildren()
    {
        var tree = new FsTree();
        tree.Apply([Dir("a"), File("a/x"), File("b")], 0);

        tree.Apply([LayerEntry.Whiteout("a")], 1);

        Assert.Null(tree.Get("a"));
        Assert.Null(tree.Get("a/x"));
        Assert.NotNull(tree.Get("b"));
    }

    [Fact]
    public void Apply_OpaqueWhiteout_HidesLowerChildren()
    {
        var tree = new FsTree();
        tree.Apply([Dir("a"), File("a/x")], 0);

        tree.Apply([LayerEntry.OpaqueWhiteout("a"), File("a/y")], 1);

        Assert.Null(tree.Get("a/x"));
        Assert.NotNull(tree.Get("a/y"));
    }

    [Fact]
    public void Apply_EntryWithoutParentEntries_ParentsAre0755RootDirectoriesAsContainerdCreatesThem()
    {
        var tree = new FsTree();
        tree.Apply([File("x/d/f")], 0); // as umoci insert writes: no entry for x/ or x/d/

        Assert.Equal((LayerEntryType.Directory, (UnixFileMode)0b111_101_101, 0), (tree.Get("x")!.Type, tree.Get("x")!.Mode, tree.Get("x")!.Uid));
        Assert.Equal(LayerEntryType.Directory, tree.Get("x/d")!.Type);
        Assert.True(tree.IsDirectory("x/d"));
    }

    [Fact]
    public void Apply_EntryBelowASymlinkedDirectory_LandsInTheSymlinksTarget()
    {
        var tree = new FsTree();
        tree.Apply([Dir("usr"), Dir("usr/lib"), new LayerEntry { Path = "lib", Type = LayerEntryType.Symlink, LinkTarget = "/usr/lib" }], 0);

        tree.Apply([File("lib/libc.so")], 1);

        Assert.NotNull(tree.Get("usr/lib/libc.so"));
        Assert.Equal(LayerEntryType.Symlink, tree.Get("lib")!.Type);
    }

    [Fact]
    public void Apply_EntryBelowAFile_Throws()
    {
        var tree = new FsTree();
        tree.Apply([File("f")], 0);

        Assert.Throws<InvalidDataException>(() => tree.Apply([File("f/x")], 1));
    }

    [Fact]
    public void IsDirectory_FollowsSymlinks()
    {
        var tree = new FsTree();
        tree.Apply([Dir("usr"), Dir("usr/lib"), new LayerEntry { Path = "lib", Type = LayerEntryType.Symlink, LinkTarget = "usr/lib" }], 0);

        Assert.True(tree.IsDirectory("lib"));
        Assert.Equal("usr/lib/x", tree.Resolve("lib/x"));
    }
}
