using System.Security.Cryptography;
using Dbuild.Registry.Storage;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Auth;

/// <summary>The built-in issuer's signing key, loaded (or generated into storage) once; <see cref="TokenAuthStartup"/> does it at startup.</summary>
internal sealed class BuiltinTokenKey(IOptions<RegistryOptions> options, IStorageDriver storage) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Loaded? _loaded;

    public bool Enabled => options.Value.TokenBuiltinHtpasswd is not null;

    /// <summary>The key and its libtrust id (the <c>kid</c> header of every token the built-in issuer signs).</summary>
    public async ValueTask<(ECDsa Key, string KeyId)> GetAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _loaded) is { } loaded) { return (loaded.Key, loaded.KeyId); }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_loaded is null)
            {
                ECDsa key = await TokenSigningKey.LoadAsync(options.Value.TokenBuiltinKey, storage, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _loaded, new Loaded(key, TokenSigningKey.KeyId(key)));
            }
            return (_loaded!.Key, _loaded.KeyId);
        }
        finally { _gate.Release(); }
    }

    public void Dispose()
    {
        _loaded?.Key.Dispose();
        _gate.Dispose();
    }

    private sealed record Loaded(ECDsa Key, string KeyId);
}
