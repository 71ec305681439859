using System.Text;
using System.Text.Json.Nodes;
using Dbuild.Oci;
using Dbuild.Solver.Attestations;
using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Tests.Attestations;

public sealed class ProvenanceBuilderTests
{
    private const string BaseDigest = "sha256:de3fd33339fbdc0adab368b434fbbca4d22b4f72121ac96637c04fbf3a7aa493";
    private static readonly DateTimeOffset Epoch = DateTimeOffset.FromUnixTimeSeconds(1700000000);

    [Fact]
    public void Build_BaseImage_IsAMaterialWithPurlAndDigest()
    {
        JsonObject predicate = ProvenanceBuilder.Build(Input(), new AttestationRequest { Provenance = ProvenanceMode.Min });

        JsonNode material = Assert.Single(predicate["materials"]!.AsArray())!;
        Assert.Equal("pkg:docker/127.0.0.1:5000/debian@bookworm?platform=linux%2Famd64", (string?)material["uri"]);
        Assert.Equal(BaseDigest["sha256:".Length..], (string?)material["digest"]!["sha256"]);
        Assert.Equal("https://mobyproject.org/buildkit@v1", (string?)predicate["buildType"]);
    }

    [Fact]
    public void Build_MinMode_LeavesOutBuildArgValuesAndMarksParametersIncomplete()
    {
        JsonObject predicate = ProvenanceBuilder.Build(Input(), new AttestationRequest { Provenance = ProvenanceMode.Min });

        JsonObject parameters = predicate["invocation"]!["parameters"]!.AsObject();
        Assert.Equal("dockerfile.v0", (string?)parameters["frontend"]);
        Assert.Equal("""{"target":"final"}""", parameters["args"]!.ToJsonString());
        Assert.False((bool)predicate["metadata"]!["completeness"]!["parameters"]!);
        Assert.Null(predicate["buildConfig"]);
        Assert.Null(parameters["secrets"]);
    }

    [Fact]
    public void Build_MaxMode_HasArgsSecretsDockerfileAndSteps()
    {
        JsonObject predicate = ProvenanceBuilder.Build(Input(), new AttestationRequest { Provenance = ProvenanceMode.Max });

        JsonObject parameters = predicate["invocation"]!["parameters"]!.AsObject();
        Assert.Equal("""{"build-arg:GREETING":"yo","label:team":"core","target":"final"}""", parameters["args"]!.ToJsonString());
        Assert.Equal("""[{"id":"npm"}]""", parameters["secrets"]!.ToJsonString());
        Assert.True((bool)predicate["metadata"]!["completeness"]!["parameters"]!);
        JsonObject buildkit = predicate["metadata"]!["https://mobyproject.org/buildkit@v1#metadata"]!.AsObject();
        Assert.Equal("FROM x\n", Encoding.UTF8.GetString(Convert.FromBase64String((string)buildkit["source"]!["infos"]![0]!["data"]!)));
        JsonArray steps = predicate["buildConfig"]!["llbDefinition"]!.AsArray();
        Assert.Equal(["step0", "step1"], steps.Select(s => (string)s!["id"]!));
        Assert.Equal("""["step0:0"]""", steps[1]!["inputs"]!.ToJsonString());
        Assert.NotNull(buildkit["layers"]!["step1:0"]);
    }

    [Fact]
    public void Build_Timestamps_AreRfc3339InUtc()
    {
        JsonObject predicate = ProvenanceBuilder.Build(Input(), new AttestationRequest { Provenance = ProvenanceMode.Min });

        Assert.Equal("2023-11-14T22:13:20Z", (string?)predicate["metadata"]!["buildStartedOn"]);
        Assert.Equal("2023-11-14T22:13:20.5Z", (string?)predicate["metadata"]!["buildFinishedOn"]);
        Assert.Null(predicate["metadata"]!["buildInvocationID"]); // none under SOURCE_DATE_EPOCH
    }

    [Fact]
    public void Statement_NamesTheImageByPurlAndManifestDigest()
    {
        var image = new Descriptor(MediaTypes.OciManifest, Digest.Parse(BaseDigest), 588) { Platform = Platform.Parse("linux/arm64") };

        byte[] statement = InTotoStatement.Serialize(ProvenanceBuilder.PredicateType, [Reference.Parse("127.0.0.1:5000/app:1")], image, new JsonObject());

        JsonNode parsed = JsonNode.Parse(statement)!;
        Assert.Equal("https://in-toto.io/Statement/v0.1", (string?)parsed["_type"]);
        Assert.Equal("pkg:docker/127.0.0.1:5000/app@1?platform=linux%2Farm64", (string?)parsed["subject"]![0]!["name"]);
        Assert.Equal(BaseDigest["sha256:".Length..], (string?)parsed["subject"]![0]!["digest"]!["sha256"]);
    }

    private static ProvenanceInput Input()
    {
        var platform = Platform.Parse("linux/amd64");
        var image = new BaseImage(Reference.Parse("127.0.0.1:5000/debian:bookworm"), Digest.Parse(BaseDigest), new ImageConfig(platform), []);
        var source = new ImageSourceOp(image, platform);
        var request = new BuildRequest
        {
            ContextDirectory = "/ctx",
            DockerfileText = "FROM x\n",
            BuildArgs = new Dictionary<string, string> { ["GREETING"] = "yo" },
            Labels = new Dictionary<string, string> { ["team"] = "core" },
            Target = "final",
            Secrets = new Dictionary<string, ReadOnlyMemory<byte>> { ["npm"] = "token"u8.ToArray() },
            SourceDateEpoch = Epoch,
        };
        return new ProvenanceInput
        {
            Request = request,
            Steps = [source, new MergeStub(source)],
            Layers = [new Descriptor(MediaTypes.OciLayerGzip, Digest.Parse(BaseDigest), 10)],
            StartedOn = Epoch,
            FinishedOn = Epoch.AddMilliseconds(500),
        };
    }

    /// <summary>A step reading the base image, standing in for the COPY or RUN on top of it.</summary>
    private sealed class MergeStub(OpNode input) : OpNode
    {
        public override string Kind => "file";
        public override IReadOnlyList<OpNode> Inputs => [input];
        public override IReadOnlyList<Cache.KeyComponent> Definition => [new("instruction", "COPY a /a")];
    }
}
