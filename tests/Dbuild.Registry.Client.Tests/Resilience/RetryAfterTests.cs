using System.Net;
using System.Net.Http.Headers;
using Dbuild.Registry.Client.Resilience;
using Microsoft.Extensions.Time.Testing;

namespace Dbuild.Registry.Client.Tests.Resilience;

public sealed class RetryAfterTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(60);

    private static HttpResponseMessage Answer(HttpStatusCode status, RetryConditionHeaderValue? retryAfter) =>
        new(status) { Headers = { RetryAfter = retryAfter } };

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public void Of_Seconds_IsThatLong(HttpStatusCode status)
    {
        using HttpResponseMessage response = Answer(status, new RetryConditionHeaderValue(TimeSpan.FromSeconds(3)));

        Assert.Equal(TimeSpan.FromSeconds(3), RetryAfter.Of(response, Cap, new FakeTimeProvider(Now)));
    }

    [Fact]
    public void Of_HttpDate_IsTheTimeUntilThen()
    {
        using HttpResponseMessage response = Answer(HttpStatusCode.ServiceUnavailable, new RetryConditionHeaderValue(Now.AddSeconds(7)));

        Assert.Equal(TimeSpan.FromSeconds(7), RetryAfter.Of(response, Cap, new FakeTimeProvider(Now)));
    }

    [Fact]
    public void Of_HttpDateInThePast_IsNoWait()
    {
        using HttpResponseMessage response = Answer(HttpStatusCode.TooManyRequests, new RetryConditionHeaderValue(Now.AddSeconds(-7)));

        Assert.Equal(TimeSpan.Zero, RetryAfter.Of(response, Cap, new FakeTimeProvider(Now)));
    }

    [Fact]
    public void Of_LongerThanTheCap_IsTheCap()
    {
        using HttpResponseMessage response = Answer(HttpStatusCode.ServiceUnavailable, new RetryConditionHeaderValue(TimeSpan.FromHours(1)));

        Assert.Equal(Cap, RetryAfter.Of(response, Cap, new FakeTimeProvider(Now)));
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)] // Retry-After means something only on 429 and 503 here
    [InlineData(HttpStatusCode.MovedPermanently)]
    public void Of_OtherStatus_IsNull(HttpStatusCode status)
    {
        using HttpResponseMessage response = Answer(status, new RetryConditionHeaderValue(TimeSpan.FromSeconds(3)));

        Assert.Null(RetryAfter.Of(response, Cap, new FakeTimeProvider(Now)));
    }

    [Fact]
    public void Of_NoHeader_IsNull_TheBackoffDecides()
    {
        using HttpResponseMessage response = Answer(HttpStatusCode.ServiceUnavailable, null);

        Assert.Null(RetryAfter.Of(response, Cap, new FakeTimeProvider(Now)));
    }
}
