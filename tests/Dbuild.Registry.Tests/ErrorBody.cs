using System.Net;
using System.Text.Json;

namespace Dbuild.Registry.Tests;

/// <summary>Asserts on the spec's error body.</summary>
internal static class ErrorBody
{
    public static async Task AssertAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        using JsonDocument document = JsonDocument.Parse(body);
        JsonElement first = document.RootElement.GetProperty("errors")[0];
        Assert.Equal(code, first.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(first.GetProperty("message").GetString()));
        Assert.Equal("registry/2.0", response.Headers.GetValues("Docker-Distribution-Api-Version").Single());
    }
}
