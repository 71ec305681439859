using System.CommandLine;
using Dbuild.Solver;
using Dbuild.Solver.Attestations;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild build</c>'s attestation flags, buildx's names: <c>--provenance</c>, <c>--sbom</c>, <c>--attest</c>.</summary>
internal static class BuildAttestOptions
{
    private static readonly Option<string?> Provenance = new("--provenance")
    {
        Description = "SLSA provenance: true|false|mode=min|mode=max (shorthand for --attest type=provenance,…). Pushed images get mode=min unless false.",
    };

    private static readonly Option<string?> Sbom = new("--sbom") { Description = "true|false: attach an SPDX SBOM of the packages (dpkg, apk) in the image." };

    private static readonly Option<string[]> Attest = new("--attest")
    {
        Description = "type=provenance[,mode=min|max][,builder-id=URL][,disabled=true] or type=sbom[,disabled=true] (repeatable), attached as OCI referrers.",
    };

    public static void AddTo(Command command)
    {
        command.Options.Add(Provenance);
        command.Options.Add(Sbom);
        command.Options.Add(Attest);
    }

    /// <summary>The attestations asked for; BUILDX_NO_DEFAULT_ATTESTATIONS turns off the default provenance of a push, as in buildx.</summary>
    public static AttestationRequest Parse(ParseResult parseResult, BuildRequest request)
    {
        AttestationRequest attestations = AttestationRequest.Parse(parseResult.GetValue(Provenance), parseResult.GetValue(Sbom), parseResult.GetValue(Attest) ?? [],
            request.PushesImage,
            noDefaults: Environment.GetEnvironmentVariable("BUILDX_NO_DEFAULT_ATTESTATIONS") is { Length: > 0 } v && v != "0" && !v.Equals("false", StringComparison.OrdinalIgnoreCase));
        if (attestations.Any && !request.PushesImage && !request.Outputs.Any(o => o.Type == BuildOutputType.Oci))
        {
            Console.Error.WriteLine("WARNING: attestations are attached to pushed images (--push) and OCI layouts (--output type=oci) only; the local image store keeps none.");
        }
        return attestations;
    }
}
