using Dbuild.Registry.Auth.Rules;
using Dbuild.Registry.Configuration;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry.Auth;

/// <summary>The rules in force: those of <c>auth.token.builtin.acl</c> when it is set, else <see cref="SignedInMayDoAnything"/>.</summary>
internal static class AccessRulesFactory
{
    public const string Key = "auth.token.builtin.acl";

    /// <summary>
    /// Parses the rules file while the configuration is loaded, so a malformed one stops startup with its one line
    /// (the rules themselves are made later, by <see cref="Create"/>, when the registry's services are).
    /// </summary>
    public static void Check(string? aclPath)
    {
        if (aclPath is null) { return; }
        try { AccessRulesParser.Parse(aclPath, File.ReadAllText(aclPath)); }
        catch (Exception ex) when (ex is AccessRulesSyntaxException or IOException or UnauthorizedAccessException)
        {
            throw new RegistryConfigurationException(Key, ex.Message);
        }
    }

    /// <summary>Reads the rules file once; a missing, unreadable or malformed file stops startup naming the key and the place.</summary>
    public static IAccessRules Create(string? aclPath, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        if (aclPath is null) { return new SignedInMayDoAnything(); }
        try { return AccessRulesFile.Load(aclPath, timeProvider, loggerFactory.CreateLogger<AccessRulesFile>()); }
        catch (Exception ex) when (ex is AccessRulesSyntaxException or IOException or UnauthorizedAccessException)
        {
            throw new RegistryConfigurationException(Key, ex.Message);
        }
    }
}
