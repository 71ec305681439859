using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Dbuild.Oci;

/// <summary>JSON settings shared by every OCI/Docker document dbuild writes or reads.</summary>
public static class OciJson
{
    /// <summary>
    /// Compact output, nulls left out, properties in declaration order (the order the Go structs use),
    /// and no HTML escaping of <c>+</c> in media types.
    /// </summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>Serializes a document to UTF-8 JSON bytes with <see cref="Options"/>.</summary>
    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    /// <summary>Deserializes a document, turning any JSON or digest error into an <see cref="InvalidContentException"/> that names the kind.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> json, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options) ?? throw new InvalidContentException($"Invalid {what}: the document is JSON null.");
        }
        catch (JsonException ex)
        {
            string where = ex.Path is { Length: > 1 } path ? $" at {path}" : "";
            throw new InvalidContentException($"Invalid {what}{where}: {ex.InnerException?.Message ?? ex.Message}", ex);
        }
        catch (ArgumentException ex)
        {
            // Constructors validate (e.g. a negative descriptor size); report it as bad content, not a bug.
            throw new InvalidContentException($"Invalid {what}: {ex.Message}", ex);
        }
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            PropertyNameCaseInsensitive = false,
            AllowTrailingCommas = false,
            ReadCommentHandling = JsonCommentHandling.Disallow,
        };
        options.Converters.Add(new DigestJsonConverter());
        // Generated metadata for the OCI documents (no reflection or emitted accessors at first use: tens of milliseconds
        // of a short CLI run), with reflection as the fallback for anything else.
        options.TypeInfoResolver = JsonTypeInfoResolver.Combine(OciJsonContext.Default, new DefaultJsonTypeInfoResolver());
        options.MakeReadOnly();
        return options;
    }
}

/// <summary>Source-generated serialization metadata for the documents <see cref="OciJson"/> reads and writes.</summary>
[JsonSerializable(typeof(ImageManifest))]
[JsonSerializable(typeof(ImageIndex))]
[JsonSerializable(typeof(ImageConfig))]
internal sealed partial class OciJsonContext : JsonSerializerContext;

/// <summary>Reads and writes <see cref="Digest"/> as its string form, strictly.</summary>
public sealed class DigestJsonConverter : JsonConverter<Digest>
{
    /// <inheritdoc />
    public override Digest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) { throw new JsonException("a digest must be a string"); }
        string? value = reader.GetString();
        return Digest.TryParse(value, out Digest digest, out string? error) ? digest : throw new JsonException($"invalid digest: {error}");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, Digest value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToString());
    }
}
