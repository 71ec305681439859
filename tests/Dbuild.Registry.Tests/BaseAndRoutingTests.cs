using System.Net;

namespace Dbuild.Registry.Tests;

public sealed class BaseAndRoutingTests
{
    [Theory]
    [InlineData("/v2/")]
    [InlineData("/v2")]
    public async Task GetBase_Anonymous_Returns200WithApiVersion(string path)
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage response = await registry.Client.GetAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("registry/2.0", response.Headers.GetValues("Docker-Distribution-Api-Version").Single());
        Assert.Equal("{}", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Get_UnknownEndpoint_Returns404WithErrorBody()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage response = await registry.Client.GetAsync("/v2/a/b", TestContext.Current.CancellationToken);
        await ErrorBody.AssertAsync(response, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Fact]
    public async Task Post_OnManifests_Returns405Unsupported()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage response = await registry.Client.PostAsync("/v2/a/manifests/latest", null, TestContext.Current.CancellationToken);
        await ErrorBody.AssertAsync(response, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
    }

    [Theory]
    [InlineData("GET", "/v2/Upper/manifests/latest")] // uppercase
    [InlineData("GET", "/v2/a/../b/manifests/latest")] // path traversal (normalised by the client, still rejected if sent)
    [InlineData("GET", "/v2/a%2F..%2Fb/tags/list")] // encoded traversal
    [InlineData("GET", "/v2/a__/blobs/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // trailing separator
    [InlineData("POST", "/v2/UP/blobs/uploads/")] // uppercase
    [InlineData("GET", "/v2/-x/referrers/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // leading dash
    public async Task Request_InvalidName_Returns400NameInvalid(string method, string path)
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        using HttpResponseMessage response = await registry.Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{response.StatusCode}");
        if (response.StatusCode == HttpStatusCode.BadRequest) { await ErrorBody.AssertAsync(response, HttpStatusCode.BadRequest, "NAME_INVALID"); }
    }

    [Fact]
    public async Task Get_NameWithUppercase_Returns400NameInvalid()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage response = await registry.Client.GetAsync("/v2/Library/busybox/tags/list", TestContext.Current.CancellationToken);
        await ErrorBody.AssertAsync(response, HttpStatusCode.BadRequest, "NAME_INVALID");
    }

    [Theory]
    [InlineData("GET", "/v2/a/manifests/sha256:xyz")] // malformed digest
    [InlineData("GET", "/v2/a/manifests/SHA256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")] // uppercase digest
    [InlineData("GET", "/v2/a/manifests/-bad-tag")] // malformed tag
    [InlineData("GET", "/v2/a/blobs/not-a-digest")] // malformed digest
    [InlineData("HEAD", "/v2/a/blobs/md5:d41d8cd98f00b204e9800998ecf8427e")] // unsupported algorithm
    [InlineData("DELETE", "/v2/a/blobs/sha256:short")] // short digest
    [InlineData("PUT", "/v2/a/manifests/sha256:short")] // short digest
    [InlineData("GET", "/v2/a/referrers/sha256:")] // empty hex
    [InlineData("POST", "/v2/a/blobs/uploads/?digest=sha256:bad")] // malformed digest
    [InlineData("POST", "/v2/a/blobs/uploads/?mount=bad&from=b")] // malformed mount
    [InlineData("POST", "/v2/a/blobs/uploads/?mount=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855&from=B")] // bad from
    [InlineData("PATCH", "/v2/a/blobs/uploads/not-a-uuid")] // unknown upload
    [InlineData("PUT", "/v2/a/blobs/uploads/../../x?digest=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // traversal
    [InlineData("GET", "/v2/a/tags/list?n=-1")] // negative n
    [InlineData("GET", "/v2/_catalog?n=abc")] // non-numeric n
    [InlineData("GET", "/v2/a/tags/list?n=99999999999999999999")] // overflowing n
    public async Task Request_BadInput_IsAClientErrorNeverA500(string method, string path)
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        using HttpResponseMessage response = await registry.Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.InRange((int)response.StatusCode, 400, 499);
        Assert.True(response.Headers.Contains("Docker-Distribution-Api-Version"));
    }
}
