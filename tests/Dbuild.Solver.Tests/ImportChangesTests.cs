using Dbuild.Oci;
using Dbuild.Solver.Store;

namespace Dbuild.Solver.Tests;

public sealed class ImportChangesTests
{
    [Fact]
    public void Changes_AppliedInOrder_ShellFormAndDefaults()
    {
        ContainerConfig config = ImageImporter.ApplyChanges(["ENV A=1 B=\"two words\"", "ENV A=3", "CMD echo hi", "EXPOSE 80 53/udp", "LABEL k=v", "VOLUME [\"/a\", \"/b\"]", "USER app", "WORKDIR /w"]);

        Assert.Equal(["B=two words", "A=3"], config.Env);
        Assert.Equal(["/bin/sh", "-c", "echo hi"], config.Cmd);
        Assert.Equal(["53/udp", "80/tcp"], config.ExposedPorts!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("v", config.Labels!["k"]);
        Assert.Equal(["/a", "/b"], config.Volumes!.Keys);
        Assert.Equal(("app", "/w"), (config.User, config.WorkingDir));
    }

    [Theory]
    [InlineData("RUN echo no")] // only config instructions, as docker import
    [InlineData("FROM scratch")]
    [InlineData("COPY a b")]
    public void Changes_NotAllowed_Named(string change) =>
        Assert.EndsWith("is not a valid change command", Assert.Throws<FormatException>(() => ImageImporter.ApplyChanges([change])).Message, StringComparison.Ordinal);
}
