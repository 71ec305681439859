using Dbuild.Testing;
using Xunit.Sdk;

namespace Dbuild.Dockerfile.Tests;

/// <summary>The skip-or-fail decision behind <see cref="SharedData"/>'s <c>Require…</c> methods.</summary>
public sealed class RequireSharedTests
{
    [Fact]
    public void RequireShared_Present_ReturnsFullPath()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp.Combine("cases"));
        Assert.Equal(temp.Combine("cases"), Prerequisites.RequireShared(temp.Path, "cases", "some cases", ci: true));
        Assert.Equal(temp.Combine("cases"), Prerequisites.RequireShared(temp.Path, "cases", "some cases", ci: false));
    }

    [Fact]
    public void RequireShared_AbsentOutsideCi_SkipsNamingPathAndWhat()
    {
        using var temp = new TempDirectory();
        // Assert.Throws passes a SkipException on (the test would be reported skipped), so catch it by hand.
        SkipException? ex = null;
        try { _ = Prerequisites.RequireShared(temp.Path, "corpus", "the corpus", ci: false); }
        catch (SkipException caught) { ex = caught; }
        Assert.NotNull(ex);
        Assert.Contains($"{temp.Combine("corpus")} is missing (the corpus)", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void RequireShared_AbsentUnderCi_FailsNamingPathAndWhat()
    {
        using var temp = new TempDirectory();
        var ex = Assert.Throws<FailException>(() => Prerequisites.RequireShared(temp.Path, "corpus", "the corpus", ci: true));
        Assert.Contains($"{temp.Combine("corpus")} is missing (the corpus)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rows_Absent_ReturnsPlaceholderWithoutReading()
    {
        using var temp = new TempDirectory();
        TheoryData<string> rows = SharedData.Rows(temp.Combine("absent"), _ => throw new InvalidOperationException("read"), new TheoryData<string>(SharedData.MissingRow));
        Assert.Equal(SharedData.MissingRow, Assert.Single(rows).Data);
    }
}
