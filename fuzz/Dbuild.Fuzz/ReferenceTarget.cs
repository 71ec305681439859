using System.Text;
using Dbuild.Oci;

namespace Dbuild.Fuzz;

/// <summary>
/// Image references, digests and platforms from one line of text each. Their parsers promise a bool (TryParse) or a
/// <see cref="FormatException"/> (Parse), never anything else, and round trips: what parses, printed, parses to itself.
/// </summary>
internal static class ReferenceTarget
{
    public static void Run(byte[] input)
    {
        string text = Encoding.UTF8.GetString(input);
        if (Reference.TryParse(text, out Reference? reference, out string? error))
        {
            Same(reference, Reference.Parse(reference.ToString()), text, "ToString");
            // docker's familiar form of docker.io/a.b/c is a.b/c, which names registry a.b: docker promises the round
            // trip only when the first path component cannot be read as a host.
            string first = reference.Repository.Split('/')[0];
            if (reference.Registry != Reference.DefaultRegistry || !(first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost"))
            {
                Same(reference, Reference.Parse(reference.FamiliarName), text, "FamiliarName");
            }
        }
        else if (string.IsNullOrEmpty(error))
        {
            throw new FuzzPropertyException($"reference '{text}' refused without a reason");
        }
        if (Digest.TryParse(text, out Digest digest) && Digest.Parse(digest.ToString()) != digest)
        {
            throw new FuzzPropertyException($"digest '{text}' does not round-trip");
        }
        if (Platform.TryParse(text, out Platform? platform, out _) && Platform.Parse(platform!.ToString()).ToString() != platform.ToString())
        {
            throw new FuzzPropertyException($"platform '{text}' does not round-trip");
        }
    }

    private static void Same(Reference expected, Reference actual, string text, string form)
    {
        if (expected != actual) { throw new FuzzPropertyException($"reference '{text}' does not round-trip through {form}: {actual}"); }
    }
}
