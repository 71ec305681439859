namespace Dbuild.Solver.Tests;

/// <summary>Which ADD sources are git repositories, and their remote, ref and subdir, as BuildKit's dfgitutil.ParseGitRef reads them.</summary>
public sealed class AddGitRefTests
{
    [Theory]
    [InlineData("https://example.com/org/repo.git", "https://example.com/org/repo.git", "", "")]
    [InlineData("https://example.com/org/repo.git#v1.2:docs/api", "https://example.com/org/repo.git", "v1.2", "docs/api")]
    [InlineData("git://127.0.0.1:9418/repo.git#main", "git://127.0.0.1:9418/repo.git", "main", "")]
    [InlineData("git@github.com:org/repo.git#dev:sub", "git@github.com:org/repo.git", "dev", "sub")]
    [InlineData("ssh://git@host/srv/repo.git#:only/subdir", "ssh://git@host/srv/repo.git", "", "only/subdir")]
    [InlineData("https://example.com/repo.git##ref=v2,subdir=lib", "https://example.com/repo.git", "v2", "lib")]
    [InlineData("https://example.com/repo.git?tag=v3&subdir=x", "https://example.com/repo.git", "refs/tags/v3", "x")]
    [InlineData("https://example.com/repo.git?branch=feature", "https://example.com/repo.git", "refs/heads/feature", "")]
    [InlineData("https://example.com/repo.git?commit=0123abcd", "https://example.com/repo.git", "0123abcd", "")] // a commit alone is also the ref
    public void TryParse_GitUrl_RemoteRefAndSubdir(string source, string remote, string reference, string subdir)
    {
        Assert.True(GitRef.TryParse(source, out GitRef? git));

        Assert.Equal((remote, reference, subdir), (git.Remote, git.Ref, git.SubDir));
    }

    [Theory]
    [InlineData("https://example.com/archive.tar.gz")] // http(s) needs a path ending in .git
    [InlineData("https://example.com/repo.git/file.txt")] // .git not at the end
    [InlineData("ftp://example.com/repo.git")] // not a git transport
    [InlineData("src/app.git")] // a context path
    [InlineData("app.tar")]
    public void TryParse_NotGit_False(string source) => Assert.False(GitRef.TryParse(source, out _));

    [Theory]
    [InlineData("https://example.com/repo.git?color=red")] // unknown query key
    [InlineData("https://example.com/repo.git?tag=a&branch=b")] // branch conflicts with tag
    [InlineData("https://example.com/repo.git?keep-git-dir=maybe")] // not a boolean
    [InlineData("https://example.com/repo.git##ref=v1,depth=1")] // unknown fragment key
    public void TryParse_BadQuery_ThrowsNamingTheSource(string source)
    {
        BuildException ex = Assert.Throws<BuildException>(() => GitRef.TryParse(source, out _));

        Assert.Contains(source, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_RefConflictsWithQuery_Throws()
    {
        BuildException ex = Assert.Throws<BuildException>(() => GitRef.TryParse("https://example.com/repo.git?ref=v2#v1", out _));

        Assert.Contains("ref conflicts", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_KeepGitDirQuery_Read()
    {
        Assert.True(GitRef.TryParse("https://example.com/repo.git?keep-git-dir=true#v1", out GitRef? git));

        Assert.True(git.KeepGitDir);
    }

    [Fact]
    public void TryParse_PasswordInUrl_RedactedInOriginal()
    {
        Assert.True(GitRef.TryParse("https://user:s3cret@example.com/repo.git#v1", out GitRef? git));

        Assert.Equal("https://user:xxxxx@example.com/repo.git#v1", git.Original);
        Assert.Equal("https://user:s3cret@example.com/repo.git", git.Remote); // git itself still gets the credentials
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef01234567", true)]
    [InlineData("0123456789abcdef0123456789abcdef0123456", false)] // 39 digits
    [InlineData("0123456789ABCDEF0123456789ABCDEF01234567", false)] // uppercase: a ref name, not a sha
    [InlineData("v1", false)]
    public void IsCommitSha_FullLowercaseHexOnly(string value, bool expected) => Assert.Equal(expected, GitSource.IsCommitSha(value));
}
