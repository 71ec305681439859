using Dbuild.Oci;

namespace Dbuild.Fuzz;

/// <summary>
/// The same bytes as an image manifest, an image index and an image config, as a pull or a push meets them. Documented
/// refusal: <see cref="InvalidContentException"/>. Whatever parses must serialize and parse again.
/// </summary>
internal static class ManifestTarget
{
    public static void Run(byte[] input)
    {
        Try(() =>
        {
            ImageManifest manifest = ImageManifest.Parse(input);
            _ = manifest.ComputeDigest();
            _ = ImageManifest.Parse(manifest.ToJsonBytes());
            _ = manifest.ToDescriptor();
        });
        Try(() =>
        {
            ImageIndex index = ImageIndex.Parse(input);
            _ = ImageIndex.Parse(index.ToJsonBytes());
            _ = index.ToDescriptor();
        });
        Try(() =>
        {
            ImageConfig config = ImageConfig.Parse(input);
            _ = config.ComputeDigest();
            _ = ImageConfig.Parse(config.ToJsonBytes());
            _ = config.Platform.ToString();
        });
    }

    private static void Try(Action parse)
    {
        try
        {
            parse();
        }
        catch (InvalidContentException)
        {
        }
    }
}
