using Dbuild.IntegrationTests.Registry;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// The debootstrap Debian base (testdata/images/make-debian-base.sh, at $DBUILD_TEST_DEBIAN_OCI) in the shared build
/// registry as <see cref="Image"/>, and one state root for a test class, so the base is unpacked once.
/// </summary>
public sealed class DebianBuildFixture : IAsyncLifetime
{
    public TempDirectory Temp { get; } = new("dbuild-debian-");

    public string Root => Temp.Combine("root");

    /// <summary><c>127.0.0.1:PORT/debian:bookworm</c>.</summary>
    public string Image { get; private set; } = "";

    /// <summary>The layout directory; with CI=true its absence fails the test.</summary>
    public static string Layout()
    {
        string layout = Environment.GetEnvironmentVariable("DBUILD_TEST_DEBIAN_OCI") ?? Path.Combine(Prerequisites.StateDirectory, "debian-oci");
        Prerequisites.Require(File.Exists(Path.Combine(layout, "index.json")) && File.Exists(Path.Combine(layout, "dpkg-status")),
            $"no Debian base layout at {layout}; run 'testdata/images/make-debian-base.sh {layout}' (testdata/ci/setup.sh does)");
        return layout;
    }

    public async ValueTask InitializeAsync()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string layout = Layout();
        BuildEnvironment environment = await BuildEnvironment.GetAsync(ct);
        Image = $"{environment.RegistryHost}/debian:bookworm";
        await Tools.SkopeoAsync(ct, "copy", "--dest-tls-verify=false", $"oci:{layout}:bookworm", $"docker://{Image}");
    }

    public ValueTask DisposeAsync()
    {
        Temp.Dispose();
        return ValueTask.CompletedTask;
    }
}
