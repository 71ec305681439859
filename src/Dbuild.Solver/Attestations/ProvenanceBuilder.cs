using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Dbuild.Oci;
using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Attestations;

/// <summary>What one image's provenance describes: the build's request, the ops that made the image, its layers, when.</summary>
internal sealed record ProvenanceInput
{
    public required BuildRequest Request { get; init; }

    /// <summary>The ops the image's filesystem needed, inputs first (<see cref="BuildGraph.Reachable"/>); the last is its root.</summary>
    public required IReadOnlyList<OpNode> Steps { get; init; }

    /// <summary>The image's layers, base first.</summary>
    public required IReadOnlyList<Descriptor> Layers { get; init; }

    public required DateTimeOffset StartedOn { get; init; }

    public required DateTimeOffset FinishedOn { get; init; }

    /// <summary>Shared by every platform of one build; null leaves it out (a SOURCE_DATE_EPOCH build, to stay deterministic).</summary>
    public string? InvocationId { get; init; }
}

/// <summary>
/// SLSA provenance v0.2 as BuildKit v0.11 writes it for a Dockerfile build (buildType https://mobyproject.org/buildkit@v1):
/// <c>invocation.parameters</c> with the frontend's args (<c>build-arg:X</c>, <c>label:X</c>, <c>target</c>; host-specific
/// ones such as <c>platform</c> left out, as BuildKit's FilterArgs does), the base images as <c>pkg:docker</c> materials
/// with their digests, and metadata with the build's times. <c>mode=min</c> drops build-arg and label values (and marks
/// the parameters incomplete); <c>mode=max</c> adds secret and ssh ids, the Dockerfile, the build steps and the layers.
/// </summary>
/// <remarks>https://github.com/moby/buildkit/blob/v0.11.0/docs/attestations/slsa-definitions.md</remarks>
internal static class ProvenanceBuilder
{
    public const string PredicateType = "https://slsa.dev/provenance/v0.2";
    public const string BuildType = "https://mobyproject.org/buildkit@v1";
    private const string MetadataKey = "https://mobyproject.org/buildkit@v1#metadata";

    public static JsonObject Build(ProvenanceInput input, AttestationRequest attest)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(attest);
        bool max = attest.Provenance == ProvenanceMode.Max;
        BuildRequest request = input.Request;
        (JsonObject args, bool complete) = Args(request, max);
        var parameters = new JsonObject { ["frontend"] = "dockerfile.v0", ["args"] = args };
        if (max && request.Secrets.Count > 0) { parameters["secrets"] = Ids(request.Secrets.Keys); }
        if (max && request.SshSockets.Count > 0) { parameters["ssh"] = Ids(request.SshSockets.Keys); }
        parameters["locals"] = new JsonArray(new JsonObject { ["name"] = "context" }, new JsonObject { ["name"] = "dockerfile" });
        var metadata = new JsonObject();
        if (input.InvocationId is { } id) { metadata["buildInvocationID"] = id; }
        metadata["buildStartedOn"] = Time(input.StartedOn);
        metadata["buildFinishedOn"] = Time(input.FinishedOn);
        // A local context is not a material BuildKit can pin: materials are incomplete, and the build is not hermetic.
        metadata["completeness"] = new JsonObject { ["parameters"] = complete, ["environment"] = true, ["materials"] = false };
        metadata["reproducible"] = attest.Reproducible;
        metadata[MetadataKey] = max ? BuildKitMetadata(input) : new JsonObject();
        var predicate = new JsonObject
        {
            ["builder"] = new JsonObject { ["id"] = attest.BuilderId ?? "" },
            ["buildType"] = BuildType,
            ["materials"] = Materials(input.Steps),
            ["invocation"] = new JsonObject
            {
                ["configSource"] = new JsonObject { ["entryPoint"] = request.DockerfileName },
                ["parameters"] = parameters,
                ["environment"] = new JsonObject { ["platform"] = Platform.Current.ToString() },
            },
        };
        if (max) { predicate["buildConfig"] = BuildConfig(input.Steps); }
        predicate["metadata"] = metadata;
        return predicate;
    }

    /// <summary>Go's time.RFC3339Nano in UTC: <c>2024-01-02T03:04:05.123Z</c>, no trailing zeros.</summary>
    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>A BuildKit-style build id: 25 lowercase base-36 characters.</summary>
    public static string NewInvocationId()
    {
        const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
        Span<byte> random = stackalloc byte[25];
        System.Security.Cryptography.RandomNumberGenerator.Fill(random);
        var id = new StringBuilder(25);
        foreach (byte b in random) { id.Append(Alphabet[b % Alphabet.Length]); }
        return id.ToString();
    }

    /// <summary>The frontend args as buildx sends them, sorted (Go marshals maps by key); min mode drops build-arg and label values.</summary>
    private static (JsonObject Args, bool Complete) Args(BuildRequest request, bool max)
    {
        var all = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach ((string key, string value) in request.BuildArgs) { all["build-arg:" + key] = value; }
        foreach ((string key, string value) in request.Labels) { all["label:" + key] = value; }
        if (request.Target is { Length: > 0 } target) { all["target"] = target; }
        if (request.NoCache) { all["no-cache"] = ""; }
        foreach ((string name, string value) in request.NamedContexts)
        {
            if (value.StartsWith("docker-image://", StringComparison.Ordinal)) { all["context:" + name] = value; }
        }
        bool complete = true;
        var args = new JsonObject();
        foreach ((string key, string value) in all)
        {
            if (!max && (key.StartsWith("build-arg:", StringComparison.Ordinal) || key.StartsWith("label:", StringComparison.Ordinal)))
            {
                complete = false;
                continue;
            }
            args[key] = value;
        }
        return (args, complete);
    }

    private static JsonArray Ids(IEnumerable<string> ids) => new([.. ids.Order(StringComparer.Ordinal).Select(id => (JsonNode)new JsonObject { ["id"] = id })]);

    /// <summary>Each base image once, as <c>pkg:docker/NAME@TAG?platform=…</c> with its manifest digest, sorted by URI.</summary>
    private static JsonArray Materials(IReadOnlyList<OpNode> steps) =>
        new([.. steps.OfType<ImageSourceOp>()
            .Select(op => (Uri: Purl.ForImage(op.Image.Reference, op.Platform), op.Image.ManifestDigest))
            .DistinctBy(m => m.Uri)
            .OrderBy(m => m.Uri, StringComparer.Ordinal)
            .Select(m => (JsonNode)new JsonObject
            {
                ["uri"] = m.Uri,
                ["digest"] = new JsonObject { [m.ManifestDigest.Algorithm] = m.ManifestDigest.Encoded },
            })]);

    /// <summary>mode=max's steps: each op with its definition and inputs (<c>stepN:0</c>), as BuildKit lists its LLB vertices.</summary>
    private static JsonObject BuildConfig(IReadOnlyList<OpNode> steps)
    {
        var index = new Dictionary<OpNode, int>(ReferenceEqualityComparer.Instance);
        var definition = new JsonArray();
        foreach (OpNode step in steps)
        {
            index[step] = index.Count;
            var op = new JsonObject { ["kind"] = step.Kind, ["summary"] = step.Summary };
            // A context's host directory stays out: BuildKit names locals, never their paths on the client.
            op["definition"] = new JsonArray([.. step.Definition.Where(d => !(step is ContextSourceOp && d.Name == "directory")).Select(d => (JsonNode)new JsonObject { ["name"] = d.Name, ["value"] = d.Value })]);
            var entry = new JsonObject { ["id"] = StepId(index[step]), ["op"] = op };
            if (step.Inputs.Count > 0) { entry["inputs"] = new JsonArray([.. step.Inputs.Select(i => (JsonNode)(StepId(index[i]) + ":0"))]); }
            definition.Add(entry);
        }
        return new JsonObject { ["llbDefinition"] = definition };
    }

    /// <summary>mode=max's BuildKit metadata: the Dockerfile (source) and the image's layers as the last step's output.</summary>
    private static JsonObject BuildKitMetadata(ProvenanceInput input)
    {
        var info = new JsonObject
        {
            ["filename"] = input.Request.DockerfileName,
            ["language"] = "Dockerfile",
            ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(input.Request.DockerfileText)),
        };
        var layers = new JsonArray([.. input.Layers.Select(l => (JsonNode)new JsonObject { ["mediaType"] = l.MediaType, ["digest"] = l.Digest.ToString(), ["size"] = l.Size })]);
        return new JsonObject
        {
            ["source"] = new JsonObject { ["infos"] = new JsonArray(info) },
            ["layers"] = new JsonObject { [StepId(input.Steps.Count - 1) + ":0"] = new JsonArray(layers) },
        };
    }

    private static string StepId(int index) => "step" + index.ToString(CultureInfo.InvariantCulture);
}
