namespace Dbuild.Registry.Auth;

/// <summary>
/// What an account may do where: the one question the token issuer and the catalog ask. An account is a user name
/// from the htpasswd file, or null for an anonymous client. Actions are <c>pull</c>, <c>push</c>, <c>delete</c>
/// (on a repository) and <c>catalog</c> (listing <c>/v2/_catalog</c>).
/// </summary>
internal interface IAccessRules
{
    /// <summary>The actions among <paramref name="requested"/> that <paramref name="account"/> may take on <paramref name="repository"/>.</summary>
    IReadOnlySet<string> Grant(string? account, string repository, IReadOnlyCollection<string> requested);

    /// <summary>Whether <paramref name="account"/> may list the catalog (whose entries are then those it may pull).</summary>
    bool MayListCatalog(string? account);
}

/// <summary>Without a rules file, registry:2's behaviour: a signed-in account may do anything, an anonymous one nothing.</summary>
internal sealed class SignedInMayDoAnything : IAccessRules
{
    public IReadOnlySet<string> Grant(string? account, string repository, IReadOnlyCollection<string> requested) =>
        account is null ? new HashSet<string>() : new HashSet<string>(requested, StringComparer.Ordinal);

    public bool MayListCatalog(string? account) => account is not null;
}
