using Dbuild.Oci;
using Dbuild.Solver.Ops;
using Dbuild.Solver.Progress;

namespace Dbuild.Solver.Cache;

/// <summary>
/// Loads every <c>--cache-from</c> at the start of a build (side by side with lowering), each under its own vertex as
/// BuildKit shows them (<c>importing cache manifest from REF</c>). One that is missing or unreadable is a warning in
/// that vertex and the build goes on without it.
/// </summary>
internal static class CacheImports
{
    public static async Task<IReadOnlyList<ImportedCache>> LoadAsync(SolveContext context, Platform platform, CancellationToken cancellationToken)
    {
        if (context.Request.CacheFrom.Count == 0 || context.Request.NoCache) { return []; }
        var loads = context.Request.CacheFrom.Select(async import =>
        {
            Vertex vertex = context.Tracker.Start($"importing cache manifest from {import.Description}");
            ImportedCache? cache = await CacheImporter.LoadAsync(import, context.Options.Registry, context.Lazy, platform, warning =>
            {
                vertex.Log("WARNING: " + warning);
                Log.CacheWarning(context.Options.Logger, import.Description, warning);
            }, cancellationToken).ConfigureAwait(false);
            if (cache is not null) { vertex.Log($"{cache.Count} records"); }
            vertex.Done();
            return cache;
        }).ToList();
        return [.. (await Task.WhenAll(loads).ConfigureAwait(false)).OfType<ImportedCache>()];
    }
}
