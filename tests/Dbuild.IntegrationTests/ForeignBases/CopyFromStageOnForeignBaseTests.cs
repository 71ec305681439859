namespace Dbuild.IntegrationTests.ForeignBases;

/// <summary><see cref="ForeignBaseCases.CopyFromStage"/> on every foreign base.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CopyFromStageOnForeignBaseTests(ForeignBaseEnvironment environment)
    : ForeignBaseMatrix(environment, ForeignBaseCases.CopyFromStage), IClassFixture<ForeignBaseEnvironment>;
