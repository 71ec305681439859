using System.Text;
using Dbuild.Oci;
using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Tests;

/// <summary>buildx's <c>--cache-to</c>/<c>--cache-from</c> syntax, the cache index reader, and miss reasons naming an imported cache.</summary>
public sealed class CacheSpecTests
{
    [Fact]
    public void CacheTo_Registry_ReadsEveryAttribute()
    {
        CacheExport export = CacheExport.Parse("type=registry,ref=127.0.0.1:5000/app:cache,mode=max,compression=zstd,oci-mediatypes=true,image-manifest=true,ignore-error=true");

        Assert.Equal(CacheSpecType.Registry, export.Type);
        Assert.Equal("127.0.0.1:5000/app:cache", export.Ref!.ToString());
        Assert.True(export.MaxMode);
        Assert.Equal(LayerCompression.Zstd, export.Compression);
        Assert.True(export.IgnoreError);
    }

    [Fact]
    public void CacheTo_Defaults_ModeMin_NoIgnoreError()
    {
        CacheExport export = CacheExport.Parse("type=local,dest=cache-dir");

        Assert.Equal(CacheSpecType.Local, export.Type);
        Assert.Equal(Path.GetFullPath("cache-dir"), export.Destination);
        Assert.False(export.MaxMode);
        Assert.False(export.IgnoreError);
        Assert.Equal(CacheSpecType.Inline, CacheExport.Parse("type=inline").Type);
    }

    [Theory]
    [InlineData("type=registry", "needs ref=")]
    [InlineData("type=local", "needs dest=")]
    [InlineData("type=s3,bucket=x", "type 's3' is not supported")]
    [InlineData("type=registry,ref=r/a:c,mode=all", "mode 'all' is not min or max")]
    [InlineData("type=registry,ref=r/a:c,image-manifest=false", "image-manifest=false is not supported")]
    [InlineData("type=registry,ref=r/a:c,colour=blue", "attribute 'colour' is not known")]
    [InlineData("ref=r/a:c", "needs type=")]
    [InlineData("type=registry,ref=r/App:c", "is not a valid reference")]
    public void CacheTo_BadValue_NamesWhatIsWrong(string value, string message)
    {
        FormatException error = Assert.Throws<FormatException>(() => CacheExport.Parse(value));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("--cache-to", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CacheFrom_PlainReference_IsARegistryImport()
    {
        CacheImport import = CacheImport.Parse("registry.example/app:latest");

        Assert.Equal(CacheSpecType.Registry, import.Type);
        Assert.Equal("registry.example/app:latest", import.Description);
        Assert.Equal(CacheSpecType.Local, CacheImport.Parse("type=local,src=dir").Type);
        Assert.Contains("type 'inline' is not supported", Assert.Throws<FormatException>(() => CacheImport.Parse("type=inline")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Index_RoundTrips_AndRejectsMalformedRecords()
    {
        var index = new CacheIndex
        {
            Records = [new CacheIndexRecord(Key(1).ToString(), new CachedLayer("application/vnd.oci.image.layer.v1.tar+gzip", Key(2).ToString(), 42, Key(3).ToString()), Key(4).ToString())],
            Steps = [new CacheIndexStep(Key(4).ToString(), [new KeyComponent("file a.txt", "sha256:x")])],
        };
        CacheIndex? read = CacheIndex.TryParse(index.ToJsonBytes(), out string? error);

        Assert.Null(error);
        Assert.Equal(index.Records, read!.Records);
        Assert.Equal("file a.txt", read.Steps[0].Components[0].Name);
        Assert.Null(CacheIndex.TryParse("""{"schemaVersion":1,"records":[{"key":"sha256:00","layer":null}]}"""u8, out error));
        Assert.Contains("is not a digest", error, StringComparison.Ordinal);
        Assert.Null(CacheIndex.TryParse("[1,2]"u8, out error));
        Assert.NotNull(error);
    }

    [Fact]
    public void MissReason_NamesTheImportedCache_AndWhatChangedSinceItWasExported()
    {
        Digest step = Key(9);
        var exported = new CacheIndex
        {
            Steps = [new CacheIndexStep(step.ToString(), [new KeyComponent("parent", "p"), new KeyComponent("file src/app.cs", "sha256:old")])],
        };
        var import = new ImportedCache("127.0.0.1:5000/app:cache", exported, [], new BlobPlace(null, null), null!);
        var chain = new CacheChain(new NoCache(), [import]);
        KeyComponent[] now = [new("parent", "p"), new("file src/app.cs", "sha256:new")];

        Assert.Equal("not in 127.0.0.1:5000/app:cache (src/app.cs changed)", chain.ExplainMiss(step, null, now, null));
        Assert.Equal("not in 127.0.0.1:5000/app:cache (previous step changed)", chain.ExplainMiss(step, null, [new("parent", "q"), now[1] with { Value = "sha256:old" }], "previous step changed"));
        Assert.Equal("not in 127.0.0.1:5000/app:cache (no earlier build of this step)", chain.ExplainMiss(Key(10), null, now, null));
        Assert.Equal("src/app.cs changed", chain.ExplainMiss(step, [new("parent", "p"), new("file src/app.cs", "sha256:x")], now, null)); // local history first
    }

    private static Digest Key(int n) => Digest.Compute(Encoding.UTF8.GetBytes(n.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private sealed class NoCache : IBuildCache
    {
        public string Description => "local cache";
        public Task<CacheRecord?> TryGetAsync(Digest key, CancellationToken cancellationToken) => Task.FromResult<CacheRecord?>(null);
        public Task PutAsync(Digest key, CacheRecord record, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
