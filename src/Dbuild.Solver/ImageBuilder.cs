using System.Runtime.CompilerServices;
using Dbuild.Dockerfile;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Registry.Client;
using Dbuild.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dbuild.Solver;

/// <summary>What an <see cref="ImageBuilder"/> works with: the state root and the parts it drives.</summary>
public sealed record BuilderOptions
{
    /// <summary>The state root: content store, build cache and temp files live below it.</summary>
    public required string StateRoot { get; init; }

    /// <summary>For FROM images not in the store and for pushes; null builds offline.</summary>
    public RegistryClient? Registry { get; init; }

    /// <summary>Downloads ADD's http(s) sources; null makes such an ADD fail with a clear message.</summary>
    public HttpClient? Http { get; init; }

    /// <summary>Runs RUN steps; null makes a RUN fail with a clear message.</summary>
    public IStepExecutor? Executor { get; init; }

    /// <summary>lstat with inodes and owners for the context; <see cref="BclLayerFileSystem"/> when null.</summary>
    public ILayerFileSystem? FileSystem { get; init; }

    /// <summary>Clock for history timestamps and step durations.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Diagnostics.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;
}

/// <summary>
/// Builds a Dockerfile into an image in the local store: splits it into stages, runs the needed stages in parallel,
/// skips steps whose content-hash key is cached (and says why when it is not), then exports. With several platforms
/// (<see cref="BuildRequest.Platforms"/>) it builds once per platform and exports one index, as buildx does.
/// </summary>
public sealed class ImageBuilder(BuilderOptions options)
{
    /// <summary>Runs one build to the end, reporting progress; throws <see cref="BuildException"/> for user errors.</summary>
    public async Task<BuildResult> BuildAsync(BuildRequest request, IBuildProgress? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        IReadOnlyList<Platform> platforms = [.. request.Platforms.Distinct()];
        if (platforms.Count == 1) { request = request with { Platform = platforms[0], Platforms = [] }; }
        bool multi = platforms.Count > 1;
        if (multi && request.Outputs.Any(o => o.Type == BuildOutputType.Docker))
        {
            // buildx's words: a docker-load tar holds one image per name, not an index.
            throw new BuildException("docker exporter does not currently support exporting manifest lists; use type=oci, or build one --platform at a time");
        }
        IBuildProgress sink = progress ?? NullBuildProgress.Instance;
        var numbering = new StrongBox<int>();
        var tracker = new VertexTracker(multi ? new PlatformProgress(sink, numbering, null) : sink, options.TimeProvider);
        Vertex load = tracker.Start($"[internal] load build definition from {Path.GetFileName(request.DockerfileName)}");
        ParsedDockerfile dockerfile;
        try
        {
            dockerfile = DockerfileParser.Parse(request.DockerfileText, request.DockerfileName);
        }
        catch (Exception ex)
        {
            load.Fail(ex.Message);
            throw;
        }
        load.Log($"transferring dockerfile: {request.DockerfileText.Length}B done");
        load.Done();
        BuildPlan plan = BuildPlan.From(dockerfile);
        if (multi)
        {
            return await new MultiPlatformBuild(options, request, platforms, plan, tracker, sink, numbering).RunAsync(cancellationToken).ConfigureAwait(false);
        }
        using var session = new BuildSession(options, request, plan, tracker);
        try
        {
            return await session.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await session.CleanupAsync().ConfigureAwait(false);
        }
    }
}
