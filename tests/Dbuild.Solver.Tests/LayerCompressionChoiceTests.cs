using System.Text;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

public sealed class LayerCompressionChoiceTests
{
    private static bool Check(byte[] content)
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "layer.tar");
        File.WriteAllBytes(path, content);
        return LayerCompressor.MostlyIncompressible(path);
    }

    [Fact]
    public void MostlyIncompressible_RandomBytes_True()
    {
        byte[] noise = new byte[10 * 1024 * 1024];
        new Random(1).NextBytes(noise);

        Assert.True(Check(noise));
    }

    [Fact]
    public void MostlyIncompressible_SourceText_False()
    {
        byte[] text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("public sealed class Example { int Value; }\n", 250_000)));

        Assert.False(Check(text));
    }

    [Fact]
    public void MostlyIncompressible_SmallLayer_False() =>
        Assert.False(Check(new byte[1024])); // not worth sampling
}
