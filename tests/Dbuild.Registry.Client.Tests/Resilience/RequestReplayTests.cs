using Dbuild.Registry.Client.Resilience;

namespace Dbuild.Registry.Client.Tests.Resilience;

public sealed class RequestReplayTests
{
    private static readonly Uri Somewhere = new("http://registry.test/v2/app/blobs/uploads/1");

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    [InlineData("DELETE")]
    public void CanReplay_IdempotentWithoutBody_True(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), Somewhere);

        Assert.True(RequestReplay.CanReplay(request));
    }

    [Fact]
    public void CanReplay_PutWithBodyInMemory_True()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, Somewhere) { Content = new ReadOnlyMemoryContent(new byte[] { 1, 2, 3 }) };

        Assert.True(RequestReplay.CanReplay(request));
    }

    [Fact]
    public void CanReplay_PutWithStreamedBody_False()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, Somewhere) { Content = new StreamContent(new MemoryStream([1, 2, 3])) };

        Assert.False(RequestReplay.CanReplay(request)); // a registry may have appended part of it already
    }

    [Theory]
    [InlineData("POST")] // starts an upload (or mounts): sent twice it makes two
    [InlineData("PATCH")] // appends a chunk
    public void CanReplay_NotIdempotent_False(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), Somewhere) { Content = new ByteArrayContent([]) };

        Assert.False(RequestReplay.CanReplay(request));
    }
}
