using Dbuild.Oci;

namespace Dbuild.Solver.Tests;

public sealed class BuildOutputTests
{
    [Fact]
    public void Parse_OciWithCompression_ReadsEveryAttribute()
    {
        BuildOutput output = BuildOutput.Parse("type=oci,dest=out.tar,compression=zstd,compression-level=3,oci-mediatypes=true");

        Assert.Equal(BuildOutputType.Oci, output.Type);
        Assert.Equal("out.tar", output.Destination);
        Assert.Equal(LayerCompression.Zstd, output.Compression);
        Assert.Equal(3, output.CompressionLevel);
        Assert.True(output.OciMediaTypes);
    }

    [Fact]
    public void Parse_BarePath_IsLocal()
    {
        BuildOutput output = BuildOutput.Parse("./out");

        Assert.Equal(BuildOutputType.Local, output.Type);
        Assert.Equal("./out", output.Destination);
    }

    [Fact]
    public void Parse_Registry_MeansImagePush()
    {
        BuildOutput output = BuildOutput.Parse("type=registry,name=127.0.0.1:5000/app");

        Assert.Equal(BuildOutputType.Image, output.Type);
        Assert.True(output.Push);
        Assert.Equal(["127.0.0.1:5000/app"], output.Names);
    }

    [Theory]
    [InlineData("type=floppy")] // unknown type
    [InlineData("type=local")] // needs dest
    [InlineData("type=oci,dest=x,compression=lz4")] // unknown compression
    public void Parse_Invalid_Throws(string value) => Assert.Throws<FormatException>(() => BuildOutput.Parse(value));
}
