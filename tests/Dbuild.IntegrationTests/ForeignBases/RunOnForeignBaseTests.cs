namespace Dbuild.IntegrationTests.ForeignBases;

/// <summary><see cref="ForeignBaseCases.Run"/> on every foreign base.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RunOnForeignBaseTests(ForeignBaseEnvironment environment)
    : ForeignBaseMatrix(environment, ForeignBaseCases.Run), IClassFixture<ForeignBaseEnvironment>;
