namespace Dbuild.Oci.Tests;

public sealed class DigestingReadStreamTests
{
    private static readonly byte[] Content = "layer bytes"u8.ToArray();

    [Fact]
    public async Task Read_ToEnd_MatchingDigestAndSize_ReportsDigest()
    {
        using var stream = new DigestingReadStream(new MemoryStream(Content), Digest.Compute(Content)) { ExpectedSize = Content.Length };
        Assert.Equal(Digest.Compute(Content), await stream.DrainAsync(TestContext.Current.CancellationToken));
        Assert.Equal(Content.Length, stream.BytesRead);
    }

    [Fact]
    public async Task Read_ToEnd_WrongDigest_ThrowsMismatch()
    {
        Digest promised = Digest.Compute("something else"u8);
        using var stream = new DigestingReadStream(new MemoryStream(Content), promised);
        var ex = await Assert.ThrowsAsync<DigestMismatchException>(() => stream.CopyToAsync(Stream.Null, TestContext.Current.CancellationToken));
        Assert.Equal(promised, ex.Expected);
    }

    [Theory]
    [InlineData(5)] // the source is longer than its descriptor says
    [InlineData(50)] // the source ends before the size its descriptor says
    public async Task Read_SizeDiffersFromExpected_ThrowsInvalidContent(long expectedSize)
    {
        using var stream = new DigestingReadStream(new MemoryStream(Content)) { ExpectedSize = expectedSize };
        await Assert.ThrowsAsync<InvalidContentException>(() => stream.CopyToAsync(Stream.Null, TestContext.Current.CancellationToken));
    }
}
