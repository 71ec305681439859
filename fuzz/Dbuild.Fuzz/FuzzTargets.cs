namespace Dbuild.Fuzz;

/// <summary>The harnesses by the name fuzz/run.sh, the CI test and testdata/fuzz/&lt;name&gt;/ use.</summary>
internal static class FuzzTargets
{
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["dockerfile"] = DockerfileTarget.Run,
        ["tar"] = TarTarget.Run,
        ["manifest"] = ManifestTarget.Run,
        ["reference"] = ReferenceTarget.Run,
        ["route"] = RouteTarget.Run,
    };
}
