namespace Dbuild.Solver.Attestations;

/// <summary>How much SLSA provenance a build attaches (BuildKit's <c>mode</c>).</summary>
public enum ProvenanceMode
{
    /// <summary>No provenance.</summary>
    None,
    /// <summary>Timestamps, frontend, materials; no build-arg or label values, secrets or steps.</summary>
    Min,
    /// <summary>Everything min has, plus build-arg and label values, secret and ssh ids, the Dockerfile and the build steps.</summary>
    Max,
}

/// <summary>
/// The attestations a build attaches to its image, parsed from buildx's flags: <c>--provenance</c>, <c>--sbom</c> (the
/// shorthands) and <c>--attest type=provenance|sbom[,…]</c>. A pushed image gets <c>mode=min</c> provenance unless told
/// otherwise, as buildx does.
/// </summary>
public sealed record AttestationRequest
{
    /// <summary>No attestations.</summary>
    public static AttestationRequest None { get; } = new();

    /// <summary>The provenance to attach.</summary>
    public ProvenanceMode Provenance { get; init; }

    /// <summary>Attach an SPDX SBOM of the packages found in the image.</summary>
    public bool Sbom { get; init; }

    /// <summary><c>builder-id=</c>: the provenance's <c>builder.id</c> (e.g. the CI run's URL).</summary>
    public string? BuilderId { get; init; }

    /// <summary><c>reproducible=true</c>: the provenance says the build is meant to be byte-for-byte reproducible.</summary>
    public bool Reproducible { get; init; }

    /// <summary>True when anything is attached.</summary>
    public bool Any => Provenance != ProvenanceMode.None || Sbom;

    /// <summary>
    /// Combines the flags as buildx does: <paramref name="attest"/> entries in order, then the shorthands (which win);
    /// provenance not mentioned at all becomes <c>mode=min</c> for a pushed image unless <paramref name="noDefaults"/>
    /// (buildx's <c>BUILDX_NO_DEFAULT_ATTESTATIONS</c>).
    /// </summary>
    /// <exception cref="FormatException">An unknown type or attribute, or a form dbuild does not write (<c>oci-artifact=false</c>).</exception>
    public static AttestationRequest Parse(string? provenance, string? sbom, IReadOnlyList<string> attest, bool pushes, bool noDefaults)
    {
        ArgumentNullException.ThrowIfNull(attest);
        var result = new AttestationRequest();
        bool provenanceSet = false;
        IEnumerable<string> all = attest.Concat(Shorthand("provenance", provenance)).Concat(Shorthand("sbom", sbom));
        foreach (string value in all)
        {
            Dictionary<string, string> fields = Fields(value);
            string type = fields.GetValueOrDefault("type") ?? throw new FormatException($"--attest '{value}' needs type=provenance or type=sbom.");
            bool enabled = !(fields.TryGetValue("disabled", out string? disabled) && FlagValues.Bool("--attest", "disabled", disabled));
            if (fields.TryGetValue("oci-artifact", out string? artifact) && !FlagValues.Bool("--attest", "oci-artifact", artifact))
            {
                throw new FormatException("--attest oci-artifact=false (attestation manifests inside the image index) is not supported: dbuild attaches attestations as OCI referrers of the image manifest.");
            }
            switch (type)
            {
                case "provenance":
                    provenanceSet = true;
                    ProvenanceMode mode = fields.GetValueOrDefault("mode") switch
                    {
                        null or "min" => ProvenanceMode.Min,
                        "max" => ProvenanceMode.Max,
                        { } other => throw new FormatException($"--attest type=provenance mode '{other}' is not min or max."),
                    };
                    Check(fields, value, "type", "disabled", "mode", "builder-id", "reproducible", "oci-artifact");
                    result = result with
                    {
                        Provenance = enabled ? mode : ProvenanceMode.None,
                        BuilderId = fields.GetValueOrDefault("builder-id") ?? result.BuilderId,
                        Reproducible = fields.TryGetValue("reproducible", out string? r) ? FlagValues.Bool("--attest", "reproducible", r) : result.Reproducible,
                    };
                    break;
                case "sbom":
                    Check(fields, value, "type", "disabled", "oci-artifact");
                    result = result with { Sbom = enabled };
                    break;
                default:
                    throw new FormatException($"--attest type '{type}' is not provenance or sbom.");
            }
        }
        return !provenanceSet && pushes && !noDefaults ? result with { Provenance = ProvenanceMode.Min } : result;
    }

    /// <summary>buildx's shorthand: a boolean enables or disables; anything else is that type's attributes.</summary>
    private static IEnumerable<string> Shorthand(string type, string? value)
    {
        if (value is null) { yield break; }
        string trimmed = value.Trim().ToLowerInvariant();
        yield return trimmed switch
        {
            "" or "true" or "1" => $"type={type}",
            "false" or "0" => $"type={type},disabled=true",
            _ => $"type={type},{value}",
        };
    }

    private static Dictionary<string, string> Fields(string value)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            fields[(eq < 0 ? part : part[..eq]).ToLowerInvariant()] = eq < 0 ? "true" : part[(eq + 1)..];
        }
        return fields;
    }

    private static void Check(Dictionary<string, string> fields, string value, params string[] known)
    {
        if (fields.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown)
        {
            throw new FormatException($"--attest '{value}': attribute '{unknown}' is not known (known: {string.Join(", ", known)}).");
        }
    }
}
