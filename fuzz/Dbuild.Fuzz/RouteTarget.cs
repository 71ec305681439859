using System.Text;
using Dbuild.Oci;
using Dbuild.Registry.Api;

namespace Dbuild.Fuzz;

/// <summary>
/// The registry's <c>/v2/…</c> router without a server: the path parser, then the checks the handlers make on what it
/// returns (name, tag or digest). It answers with a bool; any exception is a crash.
/// </summary>
internal static class RouteTarget
{
    public static void Run(byte[] input)
    {
        string path = Encoding.UTF8.GetString(input);
        if (!DistributionPath.TryParse(path, out DistributionPath route)) { return; }
        if (DistributionPath.IsValidName(route.Name) && !Reference.IsValidRepository(route.Name))
        {
            throw new FuzzPropertyException($"'{path}': the router and the reference grammar disagree on '{route.Name}'");
        }
        if (route.Route is DistributionRoute.Manifest && !DistributionPath.IsValidTag(route.Reference))
        {
            _ = Digest.TryParse(route.Reference, out _, out _);
        }
        if (route.Route is DistributionRoute.Blob or DistributionRoute.Referrers) { _ = Digest.TryParse(route.Reference, out _, out _); }
    }
}
