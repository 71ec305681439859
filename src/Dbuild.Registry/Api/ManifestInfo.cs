using System.Text.Json;
using Dbuild.Oci;

namespace Dbuild.Registry.Api;

/// <summary>
/// What the registry needs to know about a pushed manifest or index: its media type, the blobs and child manifests it
/// references, its subject and artifact type. Parsed with <see cref="JsonDocument"/>; the bytes are stored as pushed.
/// </summary>
internal sealed record ManifestInfo(
    string MediaType,
    IReadOnlyList<Digest> Blobs,
    IReadOnlyList<Digest> Children,
    Digest? Subject,
    string? ArtifactType,
    IReadOnlyDictionary<string, string>? Annotations)
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    /// <summary>Parses pushed bytes; throws MANIFEST_INVALID naming the problem.</summary>
    public static ManifestInfo Parse(ReadOnlyMemory<byte> content, string? contentType)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(content, DocumentOptions);
            return Parse(document.RootElement, BareMediaType(contentType));
        }
        catch (JsonException ex) { throw DistributionErrors.ManifestInvalidError($"not valid JSON: {ex.Message}"); }
    }

    /// <summary>The media type of stored bytes (for GET), falling back to the shape when the field is absent.</summary>
    public static string DetectMediaType(ReadOnlyMemory<byte> content)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(content, DocumentOptions);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) { return MediaTypes.OciManifest; }
            if (root.TryGetProperty("mediaType", out JsonElement mediaType) && TryReadText(mediaType) is { } declared) { return declared; }
            if (root.TryGetProperty("schemaVersion", out JsonElement version) && version.ValueKind == JsonValueKind.Number
                && version.TryGetInt32(out int schemaVersion) && schemaVersion == 1)
            {
                return root.TryGetProperty("signatures", out _) ? MediaTypes.DockerManifestSchema1Signed : "application/vnd.docker.distribution.manifest.v1+json";
            }
            return root.TryGetProperty("manifests", out _) ? MediaTypes.OciIndex : MediaTypes.OciManifest;
        }
        catch (JsonException) { return MediaTypes.OciManifest; }
    }

    internal static string? BareMediaType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) { return null; }
        int semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim();
    }

    private static ManifestInfo Parse(JsonElement root, string? contentType)
    {
        if (root.ValueKind != JsonValueKind.Object) { throw DistributionErrors.ManifestInvalidError("the document is not a JSON object"); }
        if (!root.TryGetProperty("schemaVersion", out JsonElement version) || version.ValueKind != JsonValueKind.Number
            || !version.TryGetInt32(out int schemaVersion))
        {
            throw DistributionErrors.ManifestInvalidError("schemaVersion is missing");
        }
        if (schemaVersion != 2) { throw DistributionErrors.ManifestInvalidError($"schemaVersion {schemaVersion} is not supported (only 2)"); }
        string? declared = OptionalString(root, "mediaType");
        if (declared is not null && contentType is not null && contentType != declared && contentType != "application/json")
        {
            throw DistributionErrors.ManifestInvalidError($"Content-Type '{contentType}' does not match the manifest's mediaType '{declared}'");
        }
        bool hasManifests = root.TryGetProperty("manifests", out JsonElement manifests);
        bool hasConfig = root.TryGetProperty("config", out JsonElement config);
        string mediaType = declared
            ?? (contentType is not null && (MediaTypes.IsManifest(contentType) || MediaTypes.IsIndex(contentType)) ? contentType : null)
            ?? (hasManifests ? MediaTypes.OciIndex : MediaTypes.OciManifest);
        var blobs = new List<Digest>();
        var children = new List<Digest>();
        string? artifactType = OptionalString(root, "artifactType");
        if (MediaTypes.IsIndex(mediaType))
        {
            if (!hasManifests || manifests.ValueKind != JsonValueKind.Array) { throw DistributionErrors.ManifestInvalidError("an index needs a manifests array"); }
            foreach (JsonElement child in manifests.EnumerateArray()) { children.Add(ReadDescriptor(child, "manifests[]").Digest); }
        }
        else if (MediaTypes.IsManifest(mediaType))
        {
            if (!hasConfig) { throw DistributionErrors.ManifestInvalidError("an image manifest needs a config descriptor"); }
            (Digest configDigest, string? configType, _) = ReadDescriptor(config, "config");
            blobs.Add(configDigest);
            if (mediaType == MediaTypes.OciManifest && artifactType is null && configType is not null) { artifactType = configType; }
            if (root.TryGetProperty("layers", out JsonElement layers))
            {
                if (layers.ValueKind != JsonValueKind.Array) { throw DistributionErrors.ManifestInvalidError("layers is not an array"); }
                foreach (JsonElement layer in layers.EnumerateArray())
                {
                    (Digest digest, _, bool foreign) = ReadDescriptor(layer, "layers[]");
                    if (!foreign) { blobs.Add(digest); }
                }
            }
            else if (mediaType == MediaTypes.DockerManifest)
            {
                throw DistributionErrors.ManifestInvalidError("a Docker schema 2 manifest needs a layers array");
            }
        }
        else
        {
            throw DistributionErrors.ManifestInvalidError($"media type '{mediaType}' is not an OCI or Docker schema 2 manifest or index");
        }
        Digest? subject = root.TryGetProperty("subject", out JsonElement subjectElement) ? ReadDescriptor(subjectElement, "subject").Digest : null;
        return new ManifestInfo(mediaType, blobs, children, subject, artifactType, ReadAnnotations(root));
    }

    private static (Digest Digest, string? MediaType, bool Foreign) ReadDescriptor(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Object) { throw DistributionErrors.ManifestInvalidError($"{where} is not a descriptor object"); }
        string? digestText = OptionalString(element, "digest");
        if (!Digest.TryParse(digestText, out Digest digest, out string? error)) { throw DistributionErrors.ManifestInvalidError($"{where}.digest: {error}"); }
        if (!element.TryGetProperty("size", out JsonElement size) || size.ValueKind != JsonValueKind.Number || !size.TryGetInt64(out long sizeValue) || sizeValue < 0)
        {
            throw DistributionErrors.ManifestInvalidError($"{where}.size must be a non-negative integer");
        }
        bool hasUrls = element.TryGetProperty("urls", out JsonElement urls) && urls.ValueKind == JsonValueKind.Array && urls.GetArrayLength() > 0;
        string? mediaType = OptionalString(element, "mediaType");
        return (digest, mediaType, hasUrls && MediaTypes.IsForeignLayer(mediaType));
    }

    private static string? OptionalString(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null) { return null; }
        return value.ValueKind == JsonValueKind.String ? ReadText(value, name) : throw DistributionErrors.ManifestInvalidError($"{name} must be a string");
    }

    private static Dictionary<string, string>? ReadAnnotations(JsonElement root)
    {
        if (!root.TryGetProperty("annotations", out JsonElement annotations) || annotations.ValueKind == JsonValueKind.Null) { return null; }
        if (annotations.ValueKind != JsonValueKind.Object) { throw DistributionErrors.ManifestInvalidError("annotations must be an object"); }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonProperty property in annotations.EnumerateObject())
        {
            string key = TryReadText(property) ?? throw DistributionErrors.ManifestInvalidError(NotText("an annotation key"));
            result[key] = property.Value.ValueKind == JsonValueKind.String
                ? ReadText(property.Value, $"annotation '{key}'")
                : throw DistributionErrors.ManifestInvalidError($"annotation '{key}' must be a string");
        }
        return result;
    }

    // JSON strings are decoded only when read: invalid UTF-8 or an escaped lone surrogate (\ud800) throws
    // InvalidOperationException there, after JsonDocument.Parse accepted the document. That is bad content (400), not a
    // server error; registry:2 would store U+FFFD in its place.
    private static string ReadText(JsonElement value, string name) =>
        TryReadText(value) ?? throw DistributionErrors.ManifestInvalidError(NotText(name));

    private static string? TryReadText(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String) { return null; }
        try { return value.GetString(); }
        catch (InvalidOperationException) { return null; }
    }

    private static string? TryReadText(JsonProperty property)
    {
        try { return property.Name; }
        catch (InvalidOperationException) { return null; }
    }

    private static string NotText(string name) => $"{name} is not valid UTF-8 text (invalid bytes or a lone surrogate escape)";
}
