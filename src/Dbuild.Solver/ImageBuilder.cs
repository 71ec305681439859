using Dbuild.Dockerfile;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Registry.Client;
using Dbuild.Runtime;
using Dbuild.Solver.Attestations;
using Dbuild.Solver.Cache;
using Dbuild.Solver.Export;
using Dbuild.Solver.Frontend;
using Dbuild.Solver.Graph;
using Dbuild.Solver.Ops;
using Dbuild.Solver.Progress;
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
/// Builds a Dockerfile into an image in the local store, in BuildKit's three steps: lowering (the Dockerfile, checked
/// as a whole, becomes a graph of ops; nothing runs before it is valid), solving (each op once, independent ops side
/// by side, cached ops skipped with the reason a miss missed), exporting (the image, its index for several platforms,
/// and the outputs asked for).
/// </summary>
public sealed class ImageBuilder(BuilderOptions options)
{
    /// <summary>Runs one build to the end, reporting progress; throws <see cref="BuildException"/> for a failed step, <see cref="DockerfileSyntaxException"/> for bad input.</summary>
    public async Task<BuildResult> BuildAsync(BuildRequest request, IBuildProgress? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        (request, IReadOnlyList<Platform> platforms) = Normalise(request);
        var tracker = new VertexTracker(progress ?? NullBuildProgress.Instance, options.TimeProvider);
        ParsedDockerfile dockerfile = Load(request, platforms, tracker);
        using var context = new SolveContext(options, request, tracker);
        try
        {
            var graph = new BuildGraph();
            WarmUpPush(request, cancellationToken);
            Task<IReadOnlyList<ImportedCache>> imports = CacheImports.LoadAsync(context, platforms[0], cancellationToken);
            IReadOnlyList<LoweredImage> targets = await DockerfileFrontend.LowerAsync(dockerfile, context, platforms, graph, cancellationToken).ConfigureAwait(false);
            context.UseImports(await imports.ConfigureAwait(false));
            context.RunsSteps = graph.Nodes.Any(n => n is ExecOp);
            // Refused before anything runs, rather than at the first RUN after the steps before it.
            if (context.RunsSteps && options.Executor?.WhyStepsCannotRun() is { } missing) { throw new InvalidOperationException(missing); }
            var solver = new GraphSolver(new OpExecutors(context));
            OpResult[] results = await solver.SolveAsync([.. targets.Select(t => t.Rootfs)], cancellationToken).ConfigureAwait(false);
            await context.SaveContextsAsync(cancellationToken).ConfigureAwait(false);
            var images = new List<(Platform Platform, StageState Final)>();
            for (int i = 0; i < targets.Count; i++)
            {
                var withLayer = new HashSet<OpNode>(ReferenceEqualityComparer.Instance);
                foreach (OpNode op in targets[i].Config.History.Select(h => h.LayerOp).OfType<OpNode>())
                {
                    if ((await solver.ResultAsync(op).ConfigureAwait(false)).Layer is not null) { withLayer.Add(op); }
                }
                StageState final = targets[i].Config.ForExport(results[i].Layers, withLayer.Contains);
                foreach (var label in request.Labels) { final.Labels[label.Key] = label.Value; }
                images.Add((targets[i].Platform, final));
            }
            var caches = new CacheExporter(context, tracker);
            var exporter = new ImageExporter(context.Store, options, request, tracker, context.Tmp, context.Compressor, context.EarlyPush, context.Lazy,
                request.CacheTo.Any(c => c.Type == CacheSpecType.Inline) && platforms.Count == 1 ? caches : null,
                Attestor.For(context.Store, options, request, context.Now, targets.Select(t => t.Rootfs)));
            BuildResult result = platforms.Count > 1
                ? await exporter.ExportIndexAsync(images, context.Now, cancellationToken).ConfigureAwait(false)
                : await exporter.ExportAsync(images[0].Final, context.Now, cancellationToken).ConfigureAwait(false);
            if (platforms.Count > 1 && request.CacheTo.Any(c => c.Type == CacheSpecType.Inline))
            {
                Vertex skipped = tracker.Start("exporting cache inline");
                skipped.Log("WARNING: type=inline writes into one image config; a multi-platform build has several: use type=registry");
                skipped.Done();
            }
            IReadOnlyList<Reference> pushedTo = request.PushesImage ? request.Tags : [];
            foreach (CacheExport cacheTo in request.CacheTo.Where(c => c.Type != CacheSpecType.Inline))
            {
                await caches.ExportAsync(cacheTo, pushedTo, cancellationToken).ConfigureAwait(false);
            }
            await CacheGarbageCollector.CollectAfterBuildAsync(options, result.Manifest, cancellationToken).ConfigureAwait(false); // the GC policy (config.json)
            // In Dockerfile order (lowering order), whatever order parallel steps started in.
            return result with { Steps = [.. context.Reports.OrderBy(r => r.Sequence).ThenBy(r => r.Report.Vertex).Select(r => r.Report)] };
        }
        finally
        {
            await context.CleanupAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The graph a build would solve, without running anything (<c>dbuild build --print graph|dot</c>): lowering resolves
    /// the base images' metadata, as it does for a build.
    /// </summary>
    public async Task<string> PrintGraphAsync(BuildRequest request, bool dot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        (request, IReadOnlyList<Platform> platforms) = Normalise(request);
        var tracker = new VertexTracker(NullBuildProgress.Instance, options.TimeProvider);
        ParsedDockerfile dockerfile = Load(request, platforms, tracker);
        using var context = new SolveContext(options, request, tracker);
        try
        {
            var graph = new BuildGraph();
            IReadOnlyList<LoweredImage> targets = await DockerfileFrontend.LowerAsync(dockerfile, context, platforms, graph, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<OpNode> nodes = BuildGraph.Reachable(targets.Select(t => t.Rootfs));
            var roots = targets.Select(t => (t.Platform.ToString(), t.Rootfs)).ToList();
            return dot ? GraphPrinter.Dot(nodes, roots) : GraphPrinter.Text(nodes, roots);
        }
        finally
        {
            await context.CleanupAsync().ConfigureAwait(false);
        }
    }

    private static (BuildRequest Request, IReadOnlyList<Platform> Platforms) Normalise(BuildRequest request)
    {
        IReadOnlyList<Platform> platforms = request.Platforms.Count > 0 ? [.. request.Platforms.Distinct()] : [request.Platform];
        if (platforms.Count == 1) { return (request with { Platform = platforms[0], Platforms = [], PlatformRequested = request.PlatformRequested || request.Platforms.Count > 0 }, platforms); }
        if (request.Outputs.Any(o => o.Type == BuildOutputType.Docker))
        {
            // buildx's words: a docker-load tar holds one image per name, not an index.
            throw new BuildException("docker exporter does not currently support exporting manifest lists; use type=oci, or build one --platform at a time");
        }
        return (request, platforms);
    }

    /// <summary>Reads and checks the Dockerfile as a whole (every instruction and flag, the target) under its vertex.</summary>
    private static ParsedDockerfile Load(BuildRequest request, IReadOnlyList<Platform> platforms, VertexTracker tracker)
    {
        Vertex load = tracker.Start($"[internal] load build definition from {Path.GetFileName(request.DockerfileName)}");
        try
        {
            ParsedDockerfile dockerfile = DockerfileParser.Parse(request.DockerfileText, request.DockerfileName);
            _ = DockerfileFrontend.Model(dockerfile, request, platforms[0]);
            load.Log($"transferring dockerfile: {request.DockerfileText.Length}B done");
            load.Done();
            return dockerfile;
        }
        catch (Exception ex)
        {
            load.Fail(ex.Message);
            throw;
        }
    }

    /// <summary>A push at the end: connect to its registries now, alongside the build.</summary>
    private void WarmUpPush(BuildRequest request, CancellationToken cancellationToken)
    {
        if (request.PushesImage && options.Registry is { } registry)
        {
            foreach (string host in request.Tags.Select(t => t.Registry).Distinct(StringComparer.Ordinal)) { _ = registry.WarmUpAsync(host, cancellationToken); }
        }
    }
}
