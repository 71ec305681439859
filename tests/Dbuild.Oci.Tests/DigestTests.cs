namespace Dbuild.Oci.Tests;

public sealed class DigestTests
{
    private const string EmptySha256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private const string EmptyObjectSha256 = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    private const string AbcSha512 = "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

    [Fact]
    public void Compute_Empty_IsKnownVector() => Assert.Equal(EmptySha256, Digest.Compute([]).ToString());

    [Fact]
    public void Compute_EmptyJsonObject_IsKnownVector() => Assert.Equal(EmptyObjectSha256, Digest.Compute("{}"u8).ToString());

    [Fact]
    public void Compute_Sha512Abc_IsKnownVector() => Assert.Equal(AbcSha512, Digest.Compute("abc"u8, Digest.Sha512Algorithm).ToString());

    [Fact]
    public async Task ComputeAsync_Stream_MatchesSpanHash()
    {
        byte[] data = new byte[300_000];
        new Random(7).NextBytes(data);
        using var stream = new MemoryStream(data);
        Assert.Equal(Digest.Compute(data), await Digest.ComputeAsync(stream, TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData(EmptySha256)]
    [InlineData(AbcSha512)]
    public void TryParse_Valid_RoundTrips(string value)
    {
        Assert.True(Digest.TryParse(value, out Digest digest));
        Assert.Equal(value, digest.ToString());
    }

    [Theory]
    [InlineData("")] // empty
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // no algorithm
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")] // uppercase hex
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85")] // 63 chars
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555")] // 65 chars
    [InlineData("sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // non-hex
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")] // unknown algorithm
    [InlineData("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // sha512 needs 128 chars
    [InlineData(":e3b0")] // empty algorithm
    [InlineData("sha256:../../etc/passwd")] // path traversal
    public void TryParse_Invalid_ReturnsFalseWithReason(string value)
    {
        Assert.False(Digest.TryParse(value, out _, out string? error));
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.Throws<FormatException>(() => Digest.Parse(value));
    }
}
