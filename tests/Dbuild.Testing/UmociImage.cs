using System.Text.Json;

namespace Dbuild.Testing;

/// <summary>
/// An OCI layout built and unpacked by umoci (Go's archive/tar and umoci's own whiteout handling): layers added verbatim
/// with <c>umoci raw add-layer</c> or made by <c>umoci repack</c>, and <c>umoci unpack</c>'s rootfs as the reference tree.
/// </summary>
public sealed class UmociImage
{
    private readonly string _umoci;
    private readonly string _layout;
    private readonly string _image;

    private UmociImage(string umoci, string layout)
    {
        _umoci = umoci;
        _layout = layout;
        _image = layout + ":t";
    }

    /// <summary>A new empty image (no layers) in <paramref name="layout"/>.</summary>
    public static async Task<UmociImage> CreateAsync(string layout, CancellationToken cancellationToken)
    {
        string umoci = Prerequisites.RequireTool("umoci", "umoci");
        var image = new UmociImage(umoci, layout);
        await image.RunAsync(cancellationToken, "init", "--layout", layout);
        await image.RunAsync(cancellationToken, "new", "--image", image._image);
        return image;
    }

    /// <summary>
    /// An image of <see cref="RealTars.WhiteoutBaseLayerAsync"/> plus the layer umoci repack writes after <c>a/b</c> and
    /// <c>d/</c> are deleted, <c>o/</c> replaced by a new directory, <c>a/c</c> changed and <c>keep</c> chmodded: whiteouts
    /// and changes as umoci writes them.
    /// </summary>
    public static async Task<UmociImage> WithRepackedChangesAsync(string dir, CancellationToken cancellationToken)
    {
        UmociImage image = await CreateAsync(Path.Combine(dir, "layout"), cancellationToken);
        await image.AddLayerAsync(await RealTars.WhiteoutBaseLayerAsync(dir, cancellationToken), cancellationToken);
        string bundle = Path.Combine(dir, "bundle");
        string rootfs = await image.UnpackAsync(bundle, cancellationToken);
        File.Delete(Path.Combine(rootfs, "a", "b"));
        Directory.Delete(Path.Combine(rootfs, "d"), recursive: true);
        Directory.Delete(Path.Combine(rootfs, "o"), recursive: true);
        Directory.CreateDirectory(Path.Combine(rootfs, "o"));
        await File.WriteAllTextAsync(Path.Combine(rootfs, "o", "fresh"), "fresh", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(rootfs, "a", "c"), "changed", cancellationToken);
        File.SetUnixFileMode(Path.Combine(rootfs, "keep"), (UnixFileMode)0b111_000_000);
        await image.RepackAsync(bundle, cancellationToken);
        return image;
    }

    /// <summary>Appends an uncompressed layer tar as is.</summary>
    public Task AddLayerAsync(string tar, CancellationToken cancellationToken) => RunAsync(cancellationToken, "raw", "add-layer", "--image", _image, tar);

    /// <summary>umoci unpack into <paramref name="bundle"/>; returns the rootfs.</summary>
    public async Task<string> UnpackAsync(string bundle, CancellationToken cancellationToken)
    {
        await RunAsync(cancellationToken, ["unpack", .. Rootless, "--image", _image, bundle]);
        return Path.Combine(bundle, "rootfs");
    }

    /// <summary>umoci repack of a bundle (after its rootfs was changed): a new layer of the differences, whiteouts included.</summary>
    public Task RepackAsync(string bundle, CancellationToken cancellationToken) => RunAsync(cancellationToken, ["repack", .. Rootless, "--image", _image, bundle]);

    /// <summary>The layer blobs of the image, base first.</summary>
    public async Task<IReadOnlyList<string>> LayerPathsAsync(CancellationToken cancellationToken)
    {
        string blobs = Path.Combine(_layout, "blobs", "sha256");
        using JsonDocument index = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_layout, "index.json"), cancellationToken));
        string manifest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!["sha256:".Length..];
        using JsonDocument doc = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(blobs, manifest), cancellationToken));
        return [.. doc.RootElement.GetProperty("layers").EnumerateArray().Select(l => Path.Combine(blobs, l.GetProperty("digest").GetString()!["sha256:".Length..]))];
    }

    private static string[] Rootless => Prerequisites.IsRoot ? [] : ["--rootless"];

    private async Task RunAsync(CancellationToken cancellationToken, params string[] arguments) =>
        (await ProcessRunner.RunAsync(_umoci, arguments, cancellationToken)).EnsureSuccess();
}
