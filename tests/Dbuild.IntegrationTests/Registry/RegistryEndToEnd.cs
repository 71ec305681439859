namespace Dbuild.IntegrationTests.Registry;

/// <summary>Registry end-to-end classes run one at a time: each starts real servers and heavy clients.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RegistryEndToEnd
{
    public const string Name = "Registry end to end";
}
