using Dbuild.Oci;

namespace Dbuild.Solver.Cache;

/// <summary>
/// The caches a build consults, in order: the local cache, then each <c>--cache-from</c> (the first hit wins). Results
/// are recorded in the local cache only.
/// </summary>
internal sealed class CacheChain(IBuildCache local, IReadOnlyList<ImportedCache> imports) : IBuildCache
{
    public string Description => imports.Count == 0 ? local.Description : $"{local.Description} and {string.Join(", ", imports.Select(i => i.Description))}";

    public IReadOnlyList<ImportedCache> Imports => imports;

    public async Task<CacheRecord?> TryGetAsync(Digest key, CancellationToken cancellationToken)
    {
        if (await local.TryGetAsync(key, cancellationToken).ConfigureAwait(false) is { } hit) { return hit; }
        foreach (ImportedCache import in imports)
        {
            if (await import.TryGetAsync(key, cancellationToken).ConfigureAwait(false) is { } imported) { return imported; }
        }
        return null;
    }

    public Task PutAsync(Digest key, CacheRecord record, CancellationToken cancellationToken) => local.PutAsync(key, record, cancellationToken);

    /// <summary>
    /// Why a step missed: with imported caches and no local history of the step, the first cache that knows the step
    /// says what changed since it was exported (<c>not in REF (src/app.cs changed)</c>); otherwise the local history's
    /// explanation. A step that only inherits a change (<paramref name="pending"/>) says that change instead.
    /// </summary>
    public string ExplainMiss(Digest stepId, IReadOnlyList<KeyComponent>? localHistory, IReadOnlyList<KeyComponent> current, string? pending)
    {
        IReadOnlyList<KeyComponent>? history = localHistory;
        string? where = null;
        if (history is null && imports.Count > 0)
        {
            ImportedCache? knows = imports.FirstOrDefault(i => i.StepHistory(stepId) is not null);
            history = knows?.StepHistory(stepId);
            where = knows?.Description ?? string.Join(", ", imports.Select(i => i.Description));
        }
        string reason = MissReason.Explain(history, current);
        if (reason is "previous step changed" or "no earlier build of this step" && pending is not null) { reason = pending; }
        return where is null || reason.StartsWith("not in ", StringComparison.Ordinal) ? reason : $"not in {where} ({reason})";
    }
}
