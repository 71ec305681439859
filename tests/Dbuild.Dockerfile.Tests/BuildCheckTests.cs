namespace Dbuild.Dockerfile.Tests;

public sealed class BuildCheckTests
{
    private static readonly DockerIgnore Ignore = DockerIgnore.Parse("secret.txt\n*.log\n");

    private static BuildCheckReport Run(string text, Dictionary<string, string>? buildArgs = null) =>
        BuildChecker.Run(DockerfileParser.Parse(text), new BuildCheckOptions
        {
            Build = new BuildOptions { BuildArgs = buildArgs ?? [], TargetPlatform = "linux/amd64", BuildPlatform = "linux/amd64" },
            Ignore = Ignore,
            ImagePlatform = image => image == "arm-only" ? "linux/arm64" : null,
            ImageEnvironment = image => image == "debian" ? new Dictionary<string, string> { ["PATH"] = "/usr/bin" } : null,
        });

    /// <summary>rule, Dockerfile that fires it (expected message), Dockerfile that does not.</summary>
    public static TheoryData<string, string, string, string> Cases() => new()
    {
        { "StageNameCasing", "FROM scratch AS Build\n", "Stage name 'Build' should be lowercase", "FROM scratch AS build\n" },
        { "FromAsCasing", "FROM scratch as build\n", "'as' and 'FROM' keywords' casing do not match", "FROM scratch AS build\n" },
        { "NoEmptyContinuation", "FROM scratch\nRUN a \\\n\n b\n", "Empty continuation line", "FROM scratch\nRUN a \\\n b\n" },
        { "ConsistentInstructionCasing", "FROM scratch\nRUN a\nrun b\n", "Command 'run' should match the case of the command majority (uppercase)", "FROM scratch\nRUN a\n" },
        { "DuplicateStageName", "FROM scratch AS a\nFROM scratch AS a\n", "Duplicate stage name \"a\", stage names should be unique", "FROM scratch AS a\nFROM scratch AS b\n" },
        { "ReservedStageName", "FROM scratch AS context\n", "Stage name should not use the same name as reserved stage \"context\"", "FROM scratch AS ctx\n" },
        { "JSONArgsRecommended", "FROM scratch\nCMD run.sh\n", "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals", "FROM scratch\nSHELL [\"/bin/bash\", \"-c\"]\nCMD run.sh\n" },
        { "MaintainerDeprecated", "FROM scratch\nMAINTAINER me\n", "Maintainer instruction is deprecated in favor of using label", "FROM scratch\nLABEL org.opencontainers.image.authors=me\n" },
        { "UndefinedArgInFrom", "ARG VERSION=1\nFROM alpine:$VERSON\n", "FROM argument 'VERSON' is not declared (did you mean VERSION?)", "ARG VERSION=1\nFROM alpine:$VERSION\n" },
        { "WorkdirRelativePath", "FROM scratch\nWORKDIR app\n", "Relative workdir \"app\" can have unexpected results if the base image changes", "FROM scratch\nWORKDIR /srv\nWORKDIR app\n" },
        { "UndefinedVar", "FROM scratch\nENV PATHS=/x\nCOPY a $PATH/\n", "Usage of undefined variable '$PATH' (did you mean $PATHS?)", "FROM debian\nCOPY a $PATH/\n" },
        { "MultipleInstructionsDisallowed", "FROM scratch\nCMD [\"a\"]\nCMD [\"b\"]\n", "Multiple CMD instructions should not be used in the same stage because only the last one will be used", "FROM scratch\nCMD [\"a\"]\nFROM scratch\nCMD [\"b\"]\n" },
        { "LegacyKeyValueFormat", "FROM scratch\nENV A 1\n", "\"ENV key=value\" should be used instead of legacy \"ENV key value\" format", "FROM scratch\nENV A=1\n" },
        { "InvalidBaseImagePlatform", "FROM arm-only\n", "Base image arm-only was pulled with platform \"linux/arm64\", expected \"linux/amd64\" for current build", "FROM debian\n" },
        { "RedundantTargetPlatform", "FROM --platform=$TARGETPLATFORM debian\n", "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior", "FROM --platform=$BUILDPLATFORM debian\n" },
        { "SecretsUsedInArgOrEnv", "FROM scratch\nARG GITHUB_TOKEN\n", "Do not use ARG or ENV instructions for sensitive data (ARG \"GITHUB_TOKEN\")", "FROM scratch\nARG PUBLIC_KEY\nARG KEYCLOAK_VERSION\n" },
        { "InvalidDefaultArgInFrom", "ARG TAG\nFROM busybox:$TAG\n", "Default value for ARG busybox:$TAG results in empty or invalid base image name", "ARG TAG=latest\nFROM busybox:$TAG\n" },
        { "FromPlatformFlagConstDisallowed", "FROM --platform=linux/amd64 debian\n", "FROM --platform flag should not use constant value \"linux/amd64\"", "FROM --platform=linux/amd64 debian AS build_amd64\n" },
        { "CopyIgnoredFile", "FROM scratch\nCOPY secret.txt /\n", "Attempting to Copy file \"secret.txt\" that is excluded by .dockerignore", "FROM scratch AS a\nFROM scratch\nCOPY public.txt /\nCOPY --from=a secret.txt /\n" },
        { "InvalidDefinitionDescription", "# check=experimental=InvalidDefinitionDescription\n\n# the base stage\nFROM scratch AS base\n", "Comment for build stage should follow the format: \"# base <description>\"", "# check=experimental=InvalidDefinitionDescription\n\n# base is the base stage\nFROM scratch AS base\n" },
        { "ExposeProtoCasing", "FROM scratch\nEXPOSE 80/TCP\n", "Defined protocol '80/TCP' in EXPOSE instruction should be lowercase", "FROM scratch\nEXPOSE 80/tcp\n" },
        { "ExposeInvalidFormat", "FROM scratch\nEXPOSE 127.0.0.1:80:80\n", "EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'", "FROM scratch\nEXPOSE 80\n" },
    };

    [Fact]
    public void Rules_AreTheTwentyTwoOfBuildKit()
    {
        Assert.Equal(22, BuildCheckRule.All.Count);
        Assert.Equal(BuildCheckRule.All.Select(r => r.Name).Order(StringComparer.Ordinal), Cases().Select(r => r.Data.Item1).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rule_Fires_OnlyOnItsCase(string rule, string firing, string message, string quiet)
    {
        BuildCheck check = Assert.Single(Run(firing).Checks, c => c.RuleName == rule);
        Assert.Equal(message, check.Message);
        Assert.Equal("Dockerfile", check.File);
        Assert.True(check.Line >= 1);
        Assert.DoesNotContain(Run(quiet).Checks, c => c.RuleName == rule);
    }

    [Fact]
    public void CheckDirective_SkipsRules()
    {
        BuildCheckReport report = Run("# check=skip=JSONArgsRecommended,StageNameCasing\nFROM scratch AS Build\nCMD a\n");
        Assert.Empty(report.Checks);
        Assert.False(report.Failed);
    }

    [Fact]
    public void CheckDirective_SkipAll()
    {
        Assert.Empty(Run("# check=skip=all\nFROM scratch AS Build\nCMD a\n").Checks);
    }

    [Fact]
    public void CheckDirective_ErrorTrue_FailsWhenAnyFires()
    {
        Assert.True(Run("# check=error=true\nFROM scratch\nCMD a\n").Failed);
        Assert.False(Run("# check=error=true\nFROM scratch\nCMD [\"a\"]\n").Failed);
    }

    [Fact]
    public void BuildArgCheckOverridesDirective()
    {
        BuildCheckReport report = Run("# check=error=true\nFROM scratch\nCMD a\n", new() { ["BUILDKIT_DOCKERFILE_CHECK"] = "skip=all" });
        Assert.Empty(report.Checks);
    }

    [Fact]
    public void ExperimentalRule_OffByDefault()
    {
        Assert.Empty(Run("# the base stage\nFROM scratch AS base\n").Checks);
    }

    [Fact]
    public void Check_ToString_BuildKitLike()
    {
        BuildCheck check = Run("FROM scratch\nCMD a\n").Checks[0];
        Assert.Equal("Dockerfile:2 JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals", check.ToString());
    }
}
