using Dbuild.IntegrationTests.Build;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Images;

/// <summary>
/// The same two images in dockerd and in a dbuild store: built by dbuild (labels, ENV, CMD, two layers, history, fixed
/// creation times through SOURCE_DATE_EPOCH), pushed to the registry:2 of <see cref="BuildEnvironment"/>, then pulled
/// by <c>docker pull</c> and by <c>dbuild pull</c>, and <c>a:1</c> tagged <c>a:extra</c> on both sides.
/// </summary>
public sealed class ImageListingEnvironment : IAsyncLifetime
{
    private readonly TempDirectory _temp = new("dbuild-imagelist-");
    private BuildEnvironment? _env;

    /// <summary>The repositories' common prefix, unique per run: <c>127.0.0.1:PORT/h1img-XXXXXXXX</c>.</summary>
    public string Prefix { get; private set; } = "";

    public string A => $"{Prefix}/a:1";
    public string AExtra => $"{Prefix}/a:extra";
    public string B => $"{Prefix}/b:latest";

    /// <summary>Every image of this fixture and no other (docker's daemon is shared), as docker's REPOSITORY argument.</summary>
    public string All => $"{Prefix}/*";

    public string PulledRoot => _temp.Combine("pulled");

    public async ValueTask InitializeAsync()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        _env = await BuildEnvironment.GetAsync(ct);
        Prefix = $"{_env.RegistryHost}/h1img-{Guid.NewGuid():N}"[..^24];
        string a = _temp.Combine("a"), b = _temp.Combine("b");
        Directory.CreateDirectory(a);
        Directory.CreateDirectory(b);
        await File.WriteAllTextAsync(Path.Combine(a, "f.txt"), Prefix + "\n", ct); // image IDs of their own: dockerd is shared
        await File.WriteAllTextAsync(Path.Combine(a, "Dockerfile"), $"FROM {_env.BaseImage}\nLABEL a=1 b=two\nENV X=1\nCOPY f.txt /f.txt\nCMD [\"sh\"]\n", ct);
        await File.WriteAllTextAsync(Path.Combine(b, "g.txt"), Prefix + "!\n", ct);
        File.CreateSymbolicLink(Path.Combine(b, "link"), "g.txt");
        await File.WriteAllTextAsync(Path.Combine(b, "Dockerfile"), $"FROM {_env.BaseImage}\nLABEL b=x\nCOPY g.txt link /\n", ct);
        string built = _temp.Combine("built");
        (await BuildEnvironment.DbuildAsync(["--root", built, "build", "-t", A, a], ct, new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = "1600000000" })).EnsureSuccess();
        (await BuildEnvironment.DbuildAsync(["--root", built, "build", "-t", B, b], ct, new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = "1650000000" })).EnsureSuccess();
        foreach (string image in new[] { A, B })
        {
            (await BuildEnvironment.DbuildAsync(["--root", built, "push", image], ct)).EnsureSuccess();
            (await _env.DockerAsync(["pull", image], ct)).EnsureSuccess();
            (await BuildEnvironment.DbuildAsync(["--root", PulledRoot, "pull", image], ct)).EnsureSuccess();
        }
        (await _env.DockerAsync(["tag", A, AExtra], ct)).EnsureSuccess();
        (await DbuildAsync(["tag", A, AExtra], ct)).EnsureSuccess();
    }

    /// <summary><c>docker ARGS</c> (20.10) against the private dockerd.</summary>
    public Task<ProcessResult> DockerAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) => _env!.DockerAsync(arguments, cancellationToken);

    /// <summary><c>dbuild --root PULLED ARGS</c>.</summary>
    public Task<ProcessResult> DbuildAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        BuildEnvironment.DbuildAsync(["--root", PulledRoot, .. arguments], cancellationToken);

    /// <summary>Replaces <c>{a}</c>, <c>{b}</c>, <c>{extra}</c>, <c>{all}</c> and <c>{prefix}</c> in a test's argument.</summary>
    public string Expand(string argument) => argument.Replace("{a}", A, StringComparison.Ordinal).Replace("{b}", B, StringComparison.Ordinal)
        .Replace("{extra}", AExtra, StringComparison.Ordinal).Replace("{all}", All, StringComparison.Ordinal).Replace("{prefix}", Prefix, StringComparison.Ordinal);

    public async ValueTask DisposeAsync()
    {
        if (_env is not null && Prefix.Length > 0) { await _env.DockerAsync(["rmi", A, AExtra, B], CancellationToken.None); }
        _temp.Dispose();
    }
}
