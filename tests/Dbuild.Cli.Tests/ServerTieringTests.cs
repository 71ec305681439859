namespace Dbuild.Cli.Tests;

public sealed class ServerTieringTests
{
    [Theory]
    [InlineData(new[] { "registry", "serve" }, true)]
    [InlineData(new[] { "registry", "serve", "--config", "x.yml" }, true)]
    [InlineData(new[] { "--root", "/r", "--debug", "registry", "serve" }, true)]
    [InlineData(new[] { "--root", "registry", "build", "." }, false)] // "registry" is --root's value here
    [InlineData(new[] { "registry", "garbage-collect", "c.yml" }, false)]
    [InlineData(new[] { "build", "registry", "serve" }, false)]
    [InlineData(new[] { "registry" }, false)]
    [InlineData(new string[0], false)]
    public void IsServe_FindsTheVerbAfterGlobalOptionsOnly(string[] args, bool expected) =>
        Assert.Equal(expected, ServerTiering.IsServe(args));
}
