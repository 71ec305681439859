namespace Dbuild.Dockerfile.Tests;

/// <summary>Tests that measure time run alone, after the parallel ones.</summary>
[CollectionDefinition(nameof(TimingGroup), DisableParallelization = true)]
public sealed class TimingGroup;
