namespace Dbuild.IntegrationTests.ForeignBases;

/// <summary><see cref="ForeignBaseCases.CopyFromImage"/> on every foreign base.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CopyFromImageOnForeignBaseTests(ForeignBaseEnvironment environment)
    : ForeignBaseMatrix(environment, ForeignBaseCases.CopyFromImage), IClassFixture<ForeignBaseEnvironment>;
