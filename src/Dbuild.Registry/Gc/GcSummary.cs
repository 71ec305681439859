namespace Dbuild.Registry.Gc;

/// <summary>
/// What one garbage collection pass marked and deleted (or, in a dry run, would have deleted); <see cref="TagsRemoved"/>
/// counts the tags <c>policies.retention</c> removed before the mark.
/// </summary>
public sealed record GcSummary(
    int Marked,
    int BlobsSwept,
    long BytesFreed,
    int ManifestsSwept,
    int LinksSwept,
    int UploadsSwept,
    TimeSpan Duration,
    bool DryRun,
    int TagsRemoved = 0);

/// <summary>How a pass runs: online (grace, markers, condemnations) or offline (registry:2's command: grace 0, no markers).</summary>
internal sealed record GcSettings(TimeSpan Grace, bool DeleteUntagged, bool DryRun, bool Online);
