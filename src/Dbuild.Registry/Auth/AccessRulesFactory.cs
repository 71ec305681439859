using Microsoft.Extensions.Logging;

namespace Dbuild.Registry.Auth;

/// <summary>The rules in force: those of <c>auth.token.builtin.acl</c> when it is set, else <see cref="SignedInMayDoAnything"/>.</summary>
internal static class AccessRulesFactory
{
    public static IAccessRules Create(string? aclPath, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        _ = (timeProvider, loggerFactory);
        return aclPath is null ? new SignedInMayDoAnything() : throw new NotSupportedException("auth.token.builtin.acl is not read yet");
    }
}
