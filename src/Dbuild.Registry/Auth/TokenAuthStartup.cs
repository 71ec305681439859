using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Auth;

/// <summary>
/// With the built-in issuer, loads the signing key (generating it into storage the first time) and the rules at
/// startup, so a storage problem or a malformed rules file stops startup instead of failing the first request.
/// </summary>
internal sealed class TokenAuthStartup(IOptions<RegistryOptions> options, IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.TokenBuiltinHtpasswd is null) { return; }
        await services.GetRequiredService<BuiltinTokenKey>().GetAsync(cancellationToken).ConfigureAwait(false);
        _ = services.GetRequiredService<IAccessRules>();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
