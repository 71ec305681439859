using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Dbuild.Oci;

namespace Dbuild.Solver;

/// <summary>
/// <c>--platform a,b</c>: the Dockerfile built once per target platform, all at once (steps share the slots, so the
/// machine's cores bound the work), with TARGETPLATFORM and friends per build; stages that run on the build platform
/// share their steps across the builds where their keys agree. The images are then exported under one index.
/// </summary>
internal sealed class MultiPlatformBuild(BuilderOptions options, BuildRequest request, IReadOnlyList<Platform> platforms, BuildPlan plan, VertexTracker tracker,
    IBuildProgress sink, StrongBox<int> numbering)
{
    private readonly ConcurrentDictionary<Platform, (VertexTracker Tracker, PlatformProgress Progress)> _trackers = new();

    public async Task<BuildResult> RunAsync(CancellationToken cancellationToken)
    {
        var shared = new SharedBuildState(options, request) { TrackerFor = p => TrackerFor(p).Tracker };
        var sessions = new List<BuildSession>();
        // Cancelled when one platform's build fails; disposed only after cleanup, when no stage can still be using it.
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            foreach (Platform platform in platforms)
            {
                sessions.Add(new BuildSession(options, request with { Platform = platform, Platforms = [] }, plan, TrackerFor(platform).Tracker, shared));
            }
            BuildSession.WarmUpPush(options, request, cancellationToken);
            StageState[] finals = await BuildAllAsync(sessions, failed).ConfigureAwait(false);
            if (shared.Context.IsValueCreated) { await shared.Context.Value.SaveAsync(cancellationToken).ConfigureAwait(false); }
            foreach (StageState final in finals)
            {
                foreach (var label in request.Labels) { final.Labels[label.Key] = label.Value; }
            }
            var exporter = new ImageExporter(shared.Store, options, request, tracker, shared.Tmp, shared.Compressor);
            BuildResult result = await exporter.ExportIndexAsync([.. platforms.Zip(finals)], shared.Now, cancellationToken).ConfigureAwait(false);
            return result with { Steps = [.. sessions.SelectMany(s => s.Reports()).Select(Global).OrderBy(r => r.Vertex)] };
        }
        finally
        {
            foreach (BuildSession session in sessions)
            {
                await session.CleanupAsync().ConfigureAwait(false);
                session.Dispose();
            }
        }
    }

    /// <summary>Every platform's build at once; the first to fail cancels the others, and its error is the one thrown.</summary>
    private static async Task<StageState[]> BuildAllAsync(List<BuildSession> sessions, CancellationTokenSource failed)
    {
        async Task<StageState> BuildOneAsync(BuildSession session)
        {
            try
            {
                return await session.BuildFinalStageAsync(failed.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await failed.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }
        // One task per platform (a handful); the steps inside are bounded by the shared slots.
        return await Task.WhenAll(sessions.Select(BuildOneAsync)).ConfigureAwait(false);
    }

    private (VertexTracker Tracker, PlatformProgress Progress) TrackerFor(Platform platform) => _trackers.GetOrAdd(platform, p =>
    {
        var progress = new PlatformProgress(sink, numbering, p);
        return (new VertexTracker(progress, options.TimeProvider), progress);
    });

    /// <summary>A session's report with the build-wide vertex number and the platform-prefixed name.</summary>
    private StepReport Global((Platform Platform, StepReport Report) entry)
    {
        PlatformProgress progress = TrackerFor(entry.Platform).Progress;
        return entry.Report with { Vertex = progress.Id(entry.Report.Vertex), Name = progress.Name(entry.Report.Name) };
    }
}
