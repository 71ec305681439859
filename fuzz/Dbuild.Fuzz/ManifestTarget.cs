using Dbuild.Oci;
using Dbuild.Registry.Api;

namespace Dbuild.Fuzz;

/// <summary>
/// The same bytes as an image manifest, an image index and an image config, as a pull meets them (documented refusal:
/// <see cref="InvalidContentException"/>; whatever parses must serialize and parse again), and as the registry meets a
/// pushed manifest (refusal: MANIFEST_INVALID) and a stored one, whose media type it detects without ever failing.
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
        try
        {
            _ = ManifestInfo.Parse(input, null);
        }
        catch (DistributionException ex) when (ex.Code == DistributionErrors.ManifestInvalid)
        {
        }
        _ = ManifestInfo.DetectMediaType(input);
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
