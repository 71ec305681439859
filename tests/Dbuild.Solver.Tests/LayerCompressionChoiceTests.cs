using System.Text;
using Dbuild.Oci.Layers;

namespace Dbuild.Solver.Tests;

public sealed class LayerCompressionChoiceTests
{
    private static LayerEntry File(string path, byte[] content) => new()
    {
        Path = path, Type = LayerEntryType.File, Mode = (UnixFileMode)0b110_100_100, Size = content.Length, OpenContent = () => new MemoryStream(content),
    };

    [Fact]
    public void MostlyIncompressible_RandomBytes_True()
    {
        byte[] noise = new byte[10 * 1024 * 1024];
        new Random(1).NextBytes(noise);

        Assert.True(BuildSession.MostlyIncompressible([File("big.bin", noise)]));
    }

    [Fact]
    public void MostlyIncompressible_SourceText_False()
    {
        byte[] text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("public sealed class Example { int Value; }\n", 250_000)));

        Assert.False(BuildSession.MostlyIncompressible([File("src.cs", text)]));
    }

    [Fact]
    public void MostlyIncompressible_SmallLayer_False() =>
        Assert.False(BuildSession.MostlyIncompressible([File("a", new byte[1024])])); // not worth sampling
}
