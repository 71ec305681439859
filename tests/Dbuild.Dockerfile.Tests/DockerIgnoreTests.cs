using Dbuild.Testing;

namespace Dbuild.Dockerfile.Tests;

public sealed class DockerIgnoreTests
{
    /// <summary>patterns (one per line), path, excluded?</summary>
    public static TheoryData<string, string, bool> Table() => new()
    {
        { "*.md", "README.md", true },
        { "*.md", "docs/README.md", false },                 // * does not cross '/'
        { "**/*.md", "docs/deep/README.md", true },
        { "**/*.md", "README.md", true },
        { "docs", "docs/a/b.txt", true },                    // a parent directory match excludes its contents
        { "docs/", "docs/a.txt", true },                     // cleaned to "docs"
        { "/docs", "docs/a.txt", true },                     // leading '/' is the context root
        { "./docs/../src", "src/x", true },                  // path cleaning
        { "*\n!keep.md", "keep.md", false },                  // re-include
        { "*\n!keep.md", "other.md", true },
        { "!keep.md\n*", "keep.md", true },                   // last match wins
        { "dir\n!dir/keep", "dir/keep", false },
        { "dir\n!dir/keep", "dir/other", true },
        { "?.txt", "a.txt", true },
        { "?.txt", "ab.txt", false },
        { "[a-c].txt", "b.txt", true },
        { "[a-c].txt", "d.txt", false },
        { "[^a-c].txt", "d.txt", true },
        { "a\\*b", "a*b", true },                             // escaped star is literal
        { "a\\*b", "axb", false },
        { "node_modules/**", "node_modules/x/y", true },
        { "**", "anything/at/all", true },
        { "# comment\nfoo", "# comment", false },
        { "  spaced.txt  ", "spaced.txt", true },
        { "a/**/b", "a/b", true },
        { "a/**/b", "a/x/y/b", true },
        { "a/**/b", "a/x/y/c", false },
        { ".git", ".git/HEAD", true },
        { "*.log", "./x.log", true },                         // input path cleaned too
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void IsExcluded_Table(string patterns, string path, bool excluded) =>
        Assert.Equal(excluded, DockerIgnore.Parse(patterns).IsExcluded(path));

    [Fact]
    public void Parse_BangAlone_Throws() => Assert.Throws<FormatException>(() => DockerIgnore.Parse("!\n"));

    [Fact]
    public void Parse_UnclosedClass_Throws() => Assert.Throws<FormatException>(() => DockerIgnore.Parse("[abc\n"));

    [Theory]
    [InlineData("node_modules", "node_modules", true)]
    [InlineData("node_modules\n!node_modules/keep", "node_modules", false)]
    [InlineData("node_modules\n!other/keep", "node_modules", true)]
    [InlineData("node_modules\n!**/keep", "node_modules", false)]
    [InlineData("a\n!a/b/c", "a/b", false)]
    [InlineData("!node_modules/keep\nnode_modules", "node_modules", true)]   // an earlier '!' cannot re-include
    public void CanSkipDirectory_OnlyWhenNoExclusionReachesInside(string patterns, string dir, bool skip) =>
        Assert.Equal(skip, DockerIgnore.Parse(patterns).CanSkipDirectory(dir));

    [Fact]
    public void Load_DockerfileSpecificIgnoreWins()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine(".dockerignore"), "a\n");
        File.WriteAllText(temp.Combine("app.Dockerfile"), "FROM scratch\n");
        File.WriteAllText(temp.Combine("app.Dockerfile.dockerignore"), "b\n");
        Assert.Equal(["b"], DockerIgnore.Load(temp.Path, "app.Dockerfile").Patterns);
        Assert.Equal(["a"], DockerIgnore.Load(temp.Path, "Dockerfile").Patterns);
        Assert.Empty(DockerIgnore.Load(temp.Combine("nowhere-" + Guid.NewGuid())).Patterns);
    }

    [Fact]
    public void Walk_ListsIncludedFilesAndParentsOfReincluded()
    {
        using var temp = new TempDirectory();
        foreach (string f in new[] { "Dockerfile", "src/a.cs", "src/b.md", "node_modules/x/y.js", "logs/keep.log", "logs/drop.log" })
        {
            string path = temp.Combine(f.Split('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, f);
        }
        DockerIgnore ignore = DockerIgnore.Parse("node_modules\n**/*.md\nlogs\n!logs/keep.log\n");
        Assert.Equal(["Dockerfile", "logs/", "logs/keep.log", "src/", "src/a.cs"],
            ignore.Walk(temp.Path).Select(e => e.IsDirectory ? e.RelativePath + "/" : e.RelativePath));
    }

    [Fact]
    public void Walk_LargeContext_PrunesExcludedDirectoryQuickly()
    {
        using var temp = new TempDirectory();
        for (int d = 0; d < 20; d++)
        {
            string dir = temp.Combine("node_modules", "pkg" + d);
            Directory.CreateDirectory(dir);
            for (int f = 0; f < 20; f++) { File.WriteAllText(Path.Combine(dir, $"f{f}.js"), ""); }
        }
        File.WriteAllText(temp.Combine("app.js"), "");
        DockerIgnore ignore = DockerIgnore.Parse("node_modules\n");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(["app.js"], ignore.Walk(temp.Path).Select(e => e.RelativePath));
        Assert.True(watch.ElapsedMilliseconds < 1000);
    }

    [Fact]
    public void IsExcluded_HundredThousandPaths_Fast()
    {
        DockerIgnore ignore = DockerIgnore.Parse("**/*.log\nbuild/\n!build/keep/**\n*.tmp\n");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int excluded = 0;
        for (int i = 0; i < 100_000; i++)
        {
            if (ignore.IsExcluded($"src/module{i % 100}/sub{i % 7}/file{i}.{(i % 3 == 0 ? "log" : "cs")}")) { excluded++; }
        }
        Assert.Equal(33_334, excluded);
        Assert.True(watch.ElapsedMilliseconds < 5000, $"{watch.ElapsedMilliseconds} ms");
    }
}
