using Dbuild.IntegrationTests.Differential;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.ForeignBases;

/// <summary>
/// Every foreign base (umoci, docker's legacy builder, docker import/commit/save, BuildKit, podman, skopeo re-encodings,
/// hand-packed GNU tar and Python tarfile layers, multi-arch indexes; testdata/images/foreign/bases.txt) built on with
/// one Dockerfile of <see cref="ForeignBaseCases"/> by BuildKit (dockerd 20.10, the oracle; then <c>docker save</c>) and
/// by dbuild (<c>-o type=docker</c>), compared as the differential suite does (<see cref="ImageSnapshot.Compare"/>:
/// config fields, history, layer count, the final tree, then each layer's entries).
/// BuildKit 0.8 reads the bases as made (uncompressed layers, layers without end blocks, indexes with attestation
/// manifests included), except zstd layers ("archive/tar: invalid tar header" from dockerd 20.10): for skopeo-oci-zstd
/// BuildKit builds on skopeo-oci-gzip, the same image (same config, same diffIDs) recompressed to gzip, while dbuild
/// builds on the zstd image itself (bases.txt's oracle=, <see cref="ForeignBaseCases.OracleOf"/>). A hardlink to a file
/// of a lower layer, which dockerd 20.10 refuses to register, is left out of hand-whiteouts for the same reason.
/// BuildKit's cache stays on: each base's /srv/work is unique (base.txt), so no row can reuse another base's result.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public abstract class ForeignBaseMatrix(ForeignBaseEnvironment environment, string dockerfile)
{
    public static TheoryData<string> Rows => ForeignBaseCases.Rows();

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Build_OnForeignBase_MatchesBuildKit(string baseName)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await environment.EnsureStartedAsync(ct);
        using var temp = new TempDirectory("dbuild-foreign-");

        // BuildKit first: when dbuild fails, the oracle is known to have built the row.
        string oracle = environment.Reference(ForeignBaseCases.OracleOf(baseName));
        string tag = $"dbuild-foreign/{baseName}-{dockerfile}:latest";
        string buildKitContext = await ForeignBaseCases.WriteContextAsync(temp.Combine("buildkit-context"), dockerfile, oracle, ct);
        ProcessResult buildKit = await environment.DockerAsync(
            ["build", "--network", "none", "--progress", "plain", "--build-arg", "BASE=" + oracle, "-t", tag, buildKitContext], ct);
        Assert.True(buildKit.ExitCode == 0, $"{baseName}/{dockerfile}: BuildKit (the oracle) failed on {oracle}, so the base is unusable as made:\n{Tail(buildKit.StandardError)}");
        (await environment.DockerAsync(["save", "-o", temp.Combine("buildkit.tar"), tag], ct)).EnsureSuccess();
        ImageSnapshot expected = await ImageSnapshot.LoadAsync(temp.Combine("buildkit.tar"), temp.Combine("buildkit"), ct);

        string reference = environment.Reference(baseName);
        string dbuildContext = await ForeignBaseCases.WriteContextAsync(temp.Combine("dbuild-context"), dockerfile, reference, ct);
        ProcessResult dbuild = await environment.DbuildAsync(
            ["build", "--progress", "plain", "--build-arg", "BASE=" + reference, "-o", "type=docker,dest=" + temp.Combine("dbuild.tar"), dbuildContext], ct);
        Assert.True(dbuild.ExitCode == 0, $"{baseName}/{dockerfile}: dbuild build failed (exit {dbuild.ExitCode}):\n{Tail(dbuild.StandardError + dbuild.StandardOutput)}");
        ImageSnapshot actual = await ImageSnapshot.LoadAsync(temp.Combine("dbuild.tar"), temp.Combine("dbuild"), ct);

        List<string> differences = ImageSnapshot.Compare(expected, actual);
        Assert.True(differences.Count == 0,
            $"{baseName}/{dockerfile}: dbuild differs from BuildKit in {differences.Count} places:\n" + string.Join('\n', differences.Take(60)));
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : "…" + text[^4000..];
}
