using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dbuild.Oci;

namespace Dbuild.Solver.Attestations;

/// <summary>
/// An in-toto statement (v0.1, as BuildKit v0.11 writes them): the image it speaks about (its manifest digest, named by
/// a package URL per image name, or <c>_</c> when the image has none), the predicate type and the predicate.
/// </summary>
/// <remarks>https://github.com/in-toto/attestation/blob/v0.1.0/spec/README.md#statement</remarks>
internal static class InTotoStatement
{
    public const string MediaType = "application/vnd.in-toto+json";
    public const string PredicateTypeAnnotation = "in-toto.io/predicate-type";
    public const string StatementType = "https://in-toto.io/Statement/v0.1";

    /// <summary>Relaxed escaping keeps purls and URLs readable (<c>+</c>, <c>&amp;</c> as they are), as Go's encoder does with SetEscapeHTML(false).</summary>
    public static JsonSerializerOptions Json { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Serialize(string predicateType, IReadOnlyList<Reference> names, Descriptor image, JsonNode predicate)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(image);
        IEnumerable<string> subjectNames = names.Count == 0 ? ["_"] : names.Select(n => Purl.ForImage(n, image.Platform)).Distinct(StringComparer.Ordinal);
        var subjects = new JsonArray([.. subjectNames.Select(n => (JsonNode)new JsonObject
        {
            ["name"] = n,
            ["digest"] = new JsonObject { [image.Digest.Algorithm] = image.Digest.Encoded },
        })]);
        var statement = new JsonObject
        {
            ["_type"] = StatementType,
            ["predicateType"] = predicateType,
            ["subject"] = subjects,
            ["predicate"] = predicate,
        };
        return JsonSerializer.SerializeToUtf8Bytes(statement, Json);
    }
}
