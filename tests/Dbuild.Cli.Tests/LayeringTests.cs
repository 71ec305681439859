using System.Reflection;

namespace Dbuild.Cli.Tests;

/// <summary>Dependencies point down (DESIGN.md "Parts"): nothing below references anything above it.</summary>
public sealed class LayeringTests
{
    public static TheoryData<string, string[]> Allowed => new()
    {
        { "Dbuild.Oci", [] },
        { "Dbuild.Dockerfile", [] },
        { "Dbuild.Registry.Client", ["Dbuild.Oci"] },
        { "Dbuild.Runtime", ["Dbuild.Oci"] },
        { "Dbuild.Registry", ["Dbuild.Oci", "Dbuild.Registry.Client"] }, // the pull-through cache's upstream client
        { "Dbuild.Registry.AzureBlob", ["Dbuild.Oci", "Dbuild.Registry"] },
        { "Dbuild.Solver", ["Dbuild.Oci", "Dbuild.Dockerfile", "Dbuild.Registry.Client", "Dbuild.Runtime"] },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public void Assembly_ReferencesOnlyPartsBelowIt(string assemblyName, string[] allowed)
    {
        Assembly assembly = Assembly.Load(assemblyName);
        string[] references = [.. assembly.GetReferencedAssemblies()
            .Select(a => a.Name!)
            .Where(n => n.StartsWith("Dbuild.", StringComparison.Ordinal) || n == "dbuild")
            .Order(StringComparer.Ordinal)];
        Assert.All(references, r => Assert.Contains(r, allowed));
    }

    [Fact]
    public void Oci_ReferencesNoOtherPart() =>
        Assert.DoesNotContain(typeof(Dbuild.Oci.Digest).Assembly.GetReferencedAssemblies(), a => a.Name!.StartsWith("Dbuild.", StringComparison.Ordinal));

    [Fact]
    public void Dockerfile_IsBclOnly() =>
        Assert.All(Assembly.Load("Dbuild.Dockerfile").GetReferencedAssemblies(),
            a => Assert.True(a.Name!.StartsWith("System", StringComparison.Ordinal) || a.Name == "netstandard", $"Dbuild.Dockerfile references {a.Name}"));

    [Theory]
    [InlineData("Dbuild.Oci")]
    [InlineData("Dbuild.Registry")]
    [InlineData("Dbuild.Solver")]
    [InlineData("dbuild")]
    public void AzureSdk_IsReferencedOnlyByTheAzureDriver(string assemblyName) =>
        Assert.DoesNotContain(Assembly.Load(assemblyName).GetReferencedAssemblies(), a => a.Name!.StartsWith("Azure.", StringComparison.Ordinal));
}
