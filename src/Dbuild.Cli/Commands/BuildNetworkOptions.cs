using System.CommandLine;
using System.Net;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild build</c>'s network flags, buildx's names: <c>--network</c> (the network of RUN steps that name none) and
/// <c>--add-host HOST:IP</c> (extra /etc/hosts lines in every RUN). Both change RUN steps' cache keys.
/// </summary>
internal static class BuildNetworkOptions
{
    private static readonly Option<string?> Network = new("--network")
    {
        Description = "default|none|host: the network of RUN steps without --network (host grants network.host, as buildx does).",
    };

    private static readonly Option<string[]> AddHost = new("--add-host") { Description = "Add a custom host-to-IP mapping (HOST:IP) to /etc/hosts in RUN steps (repeatable)." };

    public static void AddTo(Command command)
    {
        command.Options.Add(Network);
        command.Options.Add(AddHost);
    }

    /// <summary>
    /// The flags into the request. <c>--network host</c> grants the <c>network.host</c> entitlement, as buildx's and
    /// docker's build do for that flag: choosing the host's network on the command line is the grant.
    /// </summary>
    public static BuildRequest Apply(ParseResult parseResult, BuildRequest request)
    {
        string network = ParseNetwork(parseResult.GetValue(Network));
        IReadOnlySet<string> entitlements = network == "host" ? new SortedSet<string>(request.Entitlements, StringComparer.Ordinal) { Entitlements.NetworkHost } : request.Entitlements;
        return request with
        {
            DefaultNetwork = network,
            Entitlements = entitlements,
            ExtraHosts = [.. (parseResult.GetValue(AddHost) ?? []).Select(ParseHost)],
        };
    }

    internal static string ParseNetwork(string? value) => value switch
    {
        null or "" or "default" => "default",
        "none" or "host" => value,
        _ => throw new UsageException($"invalid argument \"{value}\" for \"--network\" flag: network mode \"{value}\" not supported (default, none or host)"),
    };

    /// <summary>docker's <c>HOST:IP</c>: split at the first colon (the address may be IPv6); the address written as Go prints it.</summary>
    internal static KeyValuePair<string, string> ParseHost(string value)
    {
        int colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || value[..colon].Any(c => char.IsWhiteSpace(c)))
        {
            throw new UsageException($"invalid argument \"{value}\" for \"--add-host\" flag: bad format for add-host: \"{value}\"");
        }
        string address = value[(colon + 1)..];
        if (!IPAddress.TryParse(address, out IPAddress? ip) || address.Contains('%', StringComparison.Ordinal) || ip.ToString().Contains('%', StringComparison.Ordinal)
            || (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && address.Count(c => c == '.') != 3))
        {
            throw new UsageException($"invalid argument \"{value}\" for \"--add-host\" flag: invalid IP address in add-host: \"{address}\"");
        }
        return new(value[..colon], ip.ToString());
    }
}
