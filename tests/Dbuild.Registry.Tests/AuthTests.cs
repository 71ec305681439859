using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Dbuild.Registry.Tests;

public sealed class AuthTests : IDisposable
{
    // Written by `htpasswd -nbB alice s3cret` (cost 5, $2y$ prefix as Apache writes it).
    private const string AliceLine = "alice:$2y$05$8WZONiaiUM8ej.z4JaXGw.53CHsIM4s/eyVqpsDv8N.7cJDsjv7wy";
    private readonly Dbuild.Testing.TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    private Task<RegistryFixture> StartAsync()
    {
        string path = _dir.Combine("htpasswd");
        File.WriteAllText(path, $"# comment\n{AliceLine}\nbob:$apr1$notbcrypt$xxxxxxxxxxxxxxxxxxxxxx\n");
        return RegistryFixture.StartAsync(o => { o.HtpasswdPath = path; o.HtpasswdRealm = "test-realm"; });
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static async Task<HttpResponseMessage> GetAsync(RegistryFixture registry, string path, AuthenticationHeaderValue? auth)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = auth;
        return await registry.Client.SendAsync(request, Ct);
    }

    [Fact]
    public async Task Anonymous_Gets401WithBasicChallengeAndApiVersion()
    {
        await using RegistryFixture registry = await StartAsync();
        using HttpResponseMessage response = await GetAsync(registry, "/v2/", null);
        await ErrorBody.AssertAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal("Basic realm=\"test-realm\"", response.Headers.WwwAuthenticate.Single().ToString());
    }

    [Fact]
    public async Task ValidBcryptCredentials_Get200()
    {
        await using RegistryFixture registry = await StartAsync();
        using HttpResponseMessage first = await GetAsync(registry, "/v2/", Basic("alice", "s3cret"));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using HttpResponseMessage cached = await GetAsync(registry, "/v2/_catalog", Basic("alice", "s3cret"));
        Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
    }

    [Fact]
    public async Task WrongPasswordAndUnknownUser_GetTheSameAnswer()
    {
        await using RegistryFixture registry = await StartAsync();
        using HttpResponseMessage wrongPassword = await GetAsync(registry, "/v2/", Basic("alice", "wrong"));
        using HttpResponseMessage unknownUser = await GetAsync(registry, "/v2/", Basic("mallory", "s3cret"));
        using HttpResponseMessage nonBcryptUser = await GetAsync(registry, "/v2/", Basic("bob", "whatever"));
        using HttpResponseMessage garbage = await GetAsync(registry, "/v2/", new AuthenticationHeaderValue("Basic", "!!!"));
        string expected = await wrongPassword.Content.ReadAsStringAsync(Ct);
        foreach (HttpResponseMessage response in new[] { wrongPassword, unknownUser, nonBcryptUser, garbage })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(expected, await response.Content.ReadAsStringAsync(Ct));
            Assert.Equal("Basic realm=\"test-realm\"", response.Headers.WwwAuthenticate.Single().ToString());
        }
    }

    [Fact]
    public async Task PasswordChangedInTheFile_OldPasswordStopsWorking()
    {
        await using RegistryFixture registry = await StartAsync();
        using HttpResponseMessage before = await GetAsync(registry, "/v2/", Basic("alice", "s3cret"));
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        string path = _dir.Combine("htpasswd");
        File.WriteAllText(path, $"alice:{BCrypt.Net.BCrypt.HashPassword("new-password", 4)}\n");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        registry.Time.Advance(TimeSpan.FromSeconds(2));
        using HttpResponseMessage after = await GetAsync(registry, "/v2/", Basic("alice", "s3cret"));
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        using HttpResponseMessage updated = await GetAsync(registry, "/v2/", Basic("alice", "new-password"));
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
    }
}
