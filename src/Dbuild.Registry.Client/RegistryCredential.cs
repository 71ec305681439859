namespace Dbuild.Registry.Client;

/// <summary>
/// What a client presents to a registry: a user name and password (sent as Basic, or to the token server),
/// or an identity token (an OAuth2 refresh token, as <c>docker login</c> stores for <c>&lt;token&gt;</c> users).
/// </summary>
/// <remarks>https://distribution.github.io/distribution/spec/auth/oauth/</remarks>
public sealed record RegistryCredential(string? Username, string? Password, string? IdentityToken = null)
{
    /// <summary>Credential sources return this for "no credentials": anonymous access.</summary>
    public static RegistryCredential Anonymous { get; } = new(null, null);

    /// <summary>True when there is nothing to present.</summary>
    public bool IsAnonymous => string.IsNullOrEmpty(Username) && string.IsNullOrEmpty(Password) && string.IsNullOrEmpty(IdentityToken);

    /// <inheritdoc />
    public override string ToString() => IsAnonymous ? "anonymous" : $"user {Username}"; // never the secret
}

/// <summary>Where the client looks up credentials for a registry host.</summary>
public interface IRegistryCredentialSource
{
    /// <summary>The credential for a registry host (<c>docker.io</c>, <c>ghcr.io</c>, <c>127.0.0.1:5000</c>), or <see cref="RegistryCredential.Anonymous"/>.</summary>
    Task<RegistryCredential> GetAsync(string registry, CancellationToken cancellationToken = default);
}

/// <summary>A fixed set of credentials by registry host, for tests and for callers that already hold a token.</summary>
public sealed class StaticCredentialSource(IReadOnlyDictionary<string, RegistryCredential> credentials) : IRegistryCredentialSource
{
    /// <inheritdoc />
    public Task<RegistryCredential> GetAsync(string registry, CancellationToken cancellationToken = default) =>
        Task.FromResult(credentials.TryGetValue(registry, out RegistryCredential? credential) ? credential : RegistryCredential.Anonymous);
}
