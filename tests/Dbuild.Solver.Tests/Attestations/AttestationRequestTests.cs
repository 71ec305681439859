using Dbuild.Solver.Attestations;

namespace Dbuild.Solver.Tests.Attestations;

public sealed class AttestationRequestTests
{
    [Fact]
    public void Parse_PushWithoutFlags_AttachesMinProvenance()
    {
        AttestationRequest request = AttestationRequest.Parse(null, null, [], pushes: true, noDefaults: false);

        Assert.Equal(ProvenanceMode.Min, request.Provenance);
        Assert.False(request.Sbom);
    }

    [Fact]
    public void Parse_LocalBuildWithoutFlags_AttachesNothing()
    {
        Assert.False(AttestationRequest.Parse(null, null, [], pushes: false, noDefaults: false).Any);
    }

    [Fact]
    public void Parse_NoDefaultAttestations_PushAttachesNothing()
    {
        Assert.False(AttestationRequest.Parse(null, null, [], pushes: true, noDefaults: true).Any);
    }

    [Theory]
    [InlineData("true", ProvenanceMode.Min)]
    [InlineData("mode=max", ProvenanceMode.Max)]
    [InlineData("mode=min", ProvenanceMode.Min)]
    [InlineData("false", ProvenanceMode.None)]
    public void Parse_ProvenanceShorthand_SetsMode(string value, ProvenanceMode expected)
    {
        Assert.Equal(expected, AttestationRequest.Parse(value, null, [], pushes: true, noDefaults: false).Provenance);
    }

    [Fact]
    public void Parse_AttestGeneralForm_SetsBothAndBuilderId()
    {
        AttestationRequest request = AttestationRequest.Parse(null, null, ["type=provenance,mode=max,builder-id=https://ci.example/run/7", "type=sbom"],
            pushes: false, noDefaults: false);

        Assert.Equal(ProvenanceMode.Max, request.Provenance);
        Assert.True(request.Sbom);
        Assert.Equal("https://ci.example/run/7", request.BuilderId);
    }

    [Fact]
    public void Parse_ShorthandAfterAttest_Wins()
    {
        AttestationRequest request = AttestationRequest.Parse("false", "true", ["type=provenance,mode=max"], pushes: true, noDefaults: false);

        Assert.Equal(ProvenanceMode.None, request.Provenance);
        Assert.True(request.Sbom);
    }

    [Theory]
    [InlineData("type=vex")] // unknown type
    [InlineData("mode=max")] // no type
    [InlineData("type=provenance,mode=full")] // unknown mode
    [InlineData("type=sbom,generator=docker/scout-sbom-indexer")] // generator images are not run
    [InlineData("type=provenance,oci-artifact=false")] // buildx's in-index form is not written
    public void Parse_Unsupported_Throws(string value)
    {
        Assert.Throws<FormatException>(() => AttestationRequest.Parse(null, null, [value], pushes: true, noDefaults: false));
    }
}
