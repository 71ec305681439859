using System.Text.RegularExpressions;
using Dbuild.IntegrationTests.Build;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Store;

/// <summary>
/// One test's dbuild state root beside the shared private dockerd: the same Dockerfile built by both, names under a
/// prefix of this test's own (the dockerd is shared), and every docker image this test made removed at the end.
/// </summary>
internal sealed partial class StoreScenario : IAsyncDisposable
{
    private readonly TempDirectory _temp = new("dbuild-store-");
    private readonly List<string> _dockerImages = [];

    private StoreScenario(BuildEnvironment env) => Env = env;

    public BuildEnvironment Env { get; }

    /// <summary>A unique repository prefix, e.g. <c>dbuild-store-1a2b3c4d</c>; also the value of the <see cref="Label"/> on every image built.</summary>
    public string Prefix { get; } = "dbuild-store-" + Guid.NewGuid().ToString("N")[..8];

    public string Label => "dbuild.store.test=" + Prefix;

    public string Root => _temp.Combine("root");

    public static async Task<StoreScenario> StartAsync(CancellationToken ct) => new(await BuildEnvironment.GetAsync(ct));

    public string Combine(string name) => _temp.Combine(name);

    /// <summary>A context with <paramref name="dockerfileBody"/> after <c>ARG BASE / FROM ${BASE}</c>, labelled with <see cref="Label"/>.</summary>
    public async Task<string> ContextAsync(string name, string dockerfileBody, CancellationToken ct)
    {
        string context = _temp.Combine("ctx-" + name);
        Directory.CreateDirectory(context);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), $"ARG BASE\nFROM ${{BASE}}\nLABEL {Label}\n{dockerfileBody}\n", ct);
        return context;
    }

    public Task<ProcessResult> DbuildAsync(IEnumerable<string> arguments, CancellationToken ct, string? standardInput = null,
        IReadOnlyDictionary<string, string?>? environment = null) =>
        BuildEnvironment.DbuildAsync(["--root", Root, .. arguments], ct, environment, standardInput);

    public Task<ProcessResult> DockerAsync(IEnumerable<string> arguments, CancellationToken ct, string? standardInput = null) =>
        ProcessRunner.RunAsync(BuildEnvironment.Docker, arguments, ct, Env.DockerEnvironment, standardInput: standardInput, timeout: TimeSpan.FromMinutes(5));

    /// <summary>Builds <paramref name="context"/> as <paramref name="tag"/> with dbuild; returns the image ID.</summary>
    public async Task<string> DbuildBuildAsync(string context, string tag, CancellationToken ct) =>
        (await DbuildAsync(["build", "-q", "--build-arg", "BASE=" + Env.BaseImage, "-t", tag, context], ct)).EnsureSuccess().StandardOutput.Trim();

    /// <summary>Builds <paramref name="context"/> as <paramref name="tag"/> with docker (BuildKit); returns the image ID.</summary>
    public async Task<string> DockerBuildAsync(string context, string tag, CancellationToken ct)
    {
        Track(tag);
        string id = (await DockerAsync(["build", "-q", "--network", "none", "--build-arg", "BASE=" + Env.BaseImage, "-t", tag, context], ct)).EnsureSuccess().StandardOutput.Trim();
        Track(id);
        return id;
    }

    /// <summary>Removes <paramref name="image"/> from the shared dockerd when the test ends.</summary>
    public void Track(string image) => _dockerImages.Add(image);

    /// <summary>Image rows of <c>dbuild images</c> as (repository, tag, short ID).</summary>
    public async Task<List<(string Repository, string Tag, string Id)>> DbuildImagesAsync(CancellationToken ct)
    {
        ProcessResult images = (await DbuildAsync(["images"], ct)).EnsureSuccess();
        return [.. images.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(p => (p[0], p[1], p[2]))];
    }

    /// <summary>Image rows of <c>docker images -a</c> for this test's label, as (repository, tag, short ID).</summary>
    public async Task<List<(string Repository, string Tag, string Id)>> DockerImagesAsync(CancellationToken ct)
    {
        ProcessResult images = (await DockerAsync(["images", "-a", "--filter", "label=" + Label, "--format", "{{.Repository}} {{.Tag}} {{.ID}}"], ct)).EnsureSuccess();
        return [.. images.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).Select(p => (p[0], p[1], p[2]))];
    }

    /// <summary>Output with every image ID (full or short) in <paramref name="ids"/> replaced by its placeholder, so dbuild's and docker's lines compare.</summary>
    public static string Normalise(string output, IReadOnlyDictionary<string, string> ids)
    {
        foreach ((string id, string placeholder) in ids)
        {
            string hex = id.StartsWith("sha256:", StringComparison.Ordinal) ? id[7..] : id;
            output = output.Replace(hex, placeholder, StringComparison.Ordinal).Replace(hex[..12], placeholder, StringComparison.Ordinal);
        }
        return Hex().Replace(output, "<other>");
    }

    public async ValueTask DisposeAsync()
    {
        if (_dockerImages.Count > 0) { await DockerAsync(["rmi", "-f", .. _dockerImages], CancellationToken.None); }
        _temp.Dispose();
    }

    [GeneratedRegex("[0-9a-f]{64}")]
    private static partial Regex Hex();
}
