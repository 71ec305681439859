using System.Text;
using Dbuild.Oci;
using Dbuild.Registry.Api;
using Dbuild.Testing;

namespace Dbuild.Registry.Tests;

/// <summary>
/// Inputs afl-fuzz found crashing the registry's manifest parsing (testdata/fuzz/manifest/regressions/, replayed by
/// fuzz/run.sh as seeds too): a push is refused with MANIFEST_INVALID naming the field, never a 500, and the media type
/// of stored bytes is detected without throwing.
/// </summary>
public sealed class ManifestInfoFuzzRegressionTests
{
    private static readonly string Regressions = Path.Combine(RepositoryPaths.TestData, "fuzz", "manifest", "regressions");

    public static TheoryData<string> Files() => [.. Directory.EnumerateFiles(Regressions).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Files))]
    public void Parse_FuzzRegression_RefusedAsManifestInvalid(string file)
    {
        byte[] content = File.ReadAllBytes(Path.Combine(Regressions, file));

        var refused = Assert.IsType<DistributionException>(Record.Exception(() => ManifestInfo.Parse(content, null)));

        Assert.Equal(DistributionErrors.ManifestInvalid, refused.Code);
        Assert.Equal(400, refused.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void DetectMediaType_FuzzRegression_NeverThrows(string file)
    {
        byte[] content = File.ReadAllBytes(Path.Combine(Regressions, file));

        Assert.StartsWith("application/", ManifestInfo.DetectMediaType(content), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("invalid-utf8-media-type", "mediaType is not valid UTF-8 text")]
    [InlineData("invalid-utf8-child-digest", "digest is not valid UTF-8 text")]
    [InlineData("lone-surrogate-annotation-key", "an annotation key is not valid UTF-8 text")]
    public void Parse_UndecodableString_NamesTheField(string file, string reason)
    {
        byte[] content = File.ReadAllBytes(Path.Combine(Regressions, file));

        var refused = Assert.IsType<DistributionException>(Record.Exception(() => ManifestInfo.Parse(content, null)));

        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DetectMediaType_FractionalSchemaVersion_FallsBackToTheShape() =>
        Assert.Equal(MediaTypes.OciManifest, ManifestInfo.DetectMediaType(Encoding.UTF8.GetBytes("""{"schemaVersion":1.5}""")));
}
