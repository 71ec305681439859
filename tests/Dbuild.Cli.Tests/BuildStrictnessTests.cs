using Dbuild.Testing;

namespace Dbuild.Cli.Tests;

/// <summary>
/// Bad input stops a build while lowering, before anything runs, as BuildKit refuses it: one error line naming
/// file:line:column (the flag's column for a flag), exit 2, and no trace of the RUN placed before the error (no
/// step vertex, no cache record, no runtime state).
/// </summary>
public sealed class BuildStrictnessTests : IDisposable
{
    private readonly TempDirectory _dir = new("dbuild-strict-");

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, string, string, string> Cases => new()
    {
        // Dockerfile, extra arguments (space separated), expected location, expected message part
        { "FROM scratch\nRUN [\"/bin/true\"]\nCOPY --lnk a /a\n", "", "Dockerfile:3:6:", "unknown flag: lnk (did you mean link?)" },               // misspelt flag
        { "FROM scratch\nRUN [\"/bin/true\"]\nCOPY --chmood=777 a /a\n", "", "Dockerfile:3:6:", "unknown flag: chmood" },                        // misspelt flag with a value
        { "FROM scratch\nRUN [\"/bin/true\"]\nCOPY --chmod=999 a /a\n", "", "Dockerfile:3:6:", "invalid chmod parameter \"999\"" },              // bad flag value
        { "FROM scratch\nRUN [\"/bin/true\"]\nCOPY --link=maybe a /a\n", "", "Dockerfile:3:6:", "expecting boolean value for flag link" },       // bad boolean
        { "FROM scratch\nRUN [\"/bin/true\"]\nRUN --network=bogus true\n", "", "Dockerfile:3:5:", "unsupported network mode \"bogus\"" },        // bad enum value
        { "FROM scratch\nRUN [\"/bin/true\"]\nENV\n", "", "Dockerfile:3:1:", "ENV requires at least one argument" },                               // bare ENV
        { "FROM scratch\nRUN [\"/bin/true\"]\nRUNN x\n", "", "Dockerfile:3:1:", "unknown instruction: RUNN (did you mean RUN?)" },                // unknown instruction after a RUN
        { "FROM scratch AS build\nRUN [\"/bin/true\"]\nFROM scratch\nCOPY --from=Buidl /a /a\n", "", "Dockerfile:4:6:", "no stage named \"Buidl\" (did you mean build?)" }, // missing stage
        { "FROM scratch AS build\nRUN [\"/bin/true\"]\nFROM scratch\nCOPY --from=127.0.0.1:1/nosuch /a /a\n", "", "Dockerfile:4:6:", "no stage named \"127.0.0.1:1/nosuch\"" }, // neither stage nor image
        { "FROM scratch AS build\nRUN [\"/bin/true\"]\nFROM build\nRUN --mount=from=nosuch!,target=/x true\n", "", "Dockerfile:4:13:", "no stage named \"nosuch!\"" }, // mount from a missing stage
        { "FROM scratch AS build\nRUN [\"/bin/true\"]\n", "--target nosuch", "Dockerfile:", "target stage \"nosuch\" could not be found" },            // unknown target
        { "FROM --platform=bogus scratch\nRUN [\"/bin/true\"]\n", "", "Dockerfile:1:6:", "FROM --platform=bogus" },                                // malformed platform
        { "FROM scratch\nRUN [\"/bin/true\"]\nRUN --mount=type=secret,id=token,required=true true\n", "", "Dockerfile:3:5:", "secret token not found" }, // required secret missing
        { "FROM scratch\nRUN [\"/bin/true\"]\nCOPY --link --chown=app a /a\n", "", "Dockerfile:3:13:", "--chown=app" },                        // --link with a named owner
        { "FROM scratch\nRUN [\"/bin/true\"]\nADD a b https://127.0.0.1:1/x /d/\n", "", "Dockerfile:3:1:", "ADD with a URL takes exactly one source" }, // ADD url with more sources
        { "FROM scratch\nRUN [\"/bin/true\"]\nRUN --network=host true\n", "", "Dockerfile:3:5:", "network.host is not allowed" },           // entitlement not granted
        { "FROM scratch\nRUN [\"/bin/true\"]\nRUN --security=insecure true\n", "--allow network.host", "Dockerfile:3:5:", "security.insecure is not allowed" }, // another one granted
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Build_BadInput_ExitsTwoNamingThePlaceBeforeAnythingRuns(string dockerfile, string extra, string location, string message)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string context = _dir.Combine("ctx");
        Directory.CreateDirectory(context);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), dockerfile, ct);
        await File.WriteAllTextAsync(Path.Combine(context, "a"), "a", ct);
        string root = _dir.Combine("root");

        ProcessResult result = await CliShellTests.RunAsync(["--root", root, "build", "--progress", "plain", .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries), context]);

        Assert.Equal(2, result.ExitCode);
        string error = Assert.Single(result.StandardError.Split('\n'), l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.StartsWith("error: " + location, error, StringComparison.Ordinal);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain(result.StandardError.Split('\n'), l => l.Contains("] RUN", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(root, "runtime")), "a step ran: the runtime's state directory exists");
        string keys = Path.Combine(root, "buildcache", "keys");
        Assert.True(!Directory.Exists(keys) || !Directory.EnumerateFiles(keys).Any(), "a step ran: the build cache has a record");
    }

    [Theory]
    [InlineData("--cache-to", "type=registry,ref=127.0.0.1:1/a:c,mode=maximum", "--cache-to mode 'maximum' is not min or max.")]
    [InlineData("--cache-to", "type=gha", "--cache-to type 'gha' is not supported (registry, local, inline).")]
    [InlineData("--cache-from", "type=local", "--cache-from 'type=local' needs src=DIR.")]
    [InlineData("--allow", "network.hots", "invalid entitlement: network.hots")]
    public async Task Build_BadCacheFlag_ExitsTwoNamingTheAttribute(string flag, string value, string message)
    {
        string context = _dir.Combine("ctx3");
        Directory.CreateDirectory(context);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), "FROM scratch\nRUN [\"/bin/true\"]\n", TestContext.Current.CancellationToken);

        ProcessResult result = await CliShellTests.RunAsync("--root", _dir.Combine("root3"), "build", flag, value, context);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("error: " + message, result.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Combine("root3"), "runtime")));
    }

    [Fact]
    public async Task Build_MalformedPlatformFlag_ExitsTwo()
    {
        string context = _dir.Combine("ctx2");
        Directory.CreateDirectory(context);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), "FROM scratch\nRUN [\"/bin/true\"]\n", TestContext.Current.CancellationToken);

        ProcessResult result = await CliShellTests.RunAsync("--root", _dir.Combine("root2"), "build", "--platform", "bogus", context);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("bogus", result.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Combine("root2"), "runtime")));
    }
}
