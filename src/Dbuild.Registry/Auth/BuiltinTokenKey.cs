using System.Security.Cryptography;
using Dbuild.Registry.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Auth;

/// <summary>
/// The built-in issuer's signing key, loaded (or generated into storage) once at startup, so a storage problem stops
/// startup instead of failing the first login.
/// </summary>
internal sealed class BuiltinTokenKey(IOptions<RegistryOptions> options, IStorageDriver storage) : IHostedService, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ECDsa? _key;
    private string _keyId = "";

    public bool Enabled => options.Value.TokenBuiltinHtpasswd is not null;

    /// <summary>The key and its libtrust id (the <c>kid</c> header of every token the built-in issuer signs).</summary>
    public async ValueTask<(ECDsa Key, string KeyId)> GetAsync(CancellationToken cancellationToken)
    {
        if (_key is { } key) { return (key, _keyId); }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_key is null)
            {
                ECDsa loaded = await TokenSigningKey.LoadAsync(options.Value.TokenBuiltinKey, storage, cancellationToken).ConfigureAwait(false);
                _keyId = TokenSigningKey.KeyId(loaded);
                _key = loaded;
            }
            return (_key, _keyId);
        }
        finally { _gate.Release(); }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Enabled) { await GetAsync(cancellationToken).ConfigureAwait(false); }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _key?.Dispose();
        _gate.Dispose();
    }
}
