using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Dbuild.Oci;

namespace Dbuild.Solver.Cache;

/// <summary>
/// A step's cache key: sha256 over a length-prefixed canonical encoding of named components (parent key,
/// instruction, inputs). The components are kept too, so a miss can say which one changed.
/// </summary>
internal sealed class CacheKeyBuilder
{
    private readonly List<KeyComponent> _components = [];

    public CacheKeyBuilder Add(string name, string value)
    {
        _components.Add(new KeyComponent(name, value.Length <= 256 ? value : Digest.Compute(Encoding.UTF8.GetBytes(value)).ToString()));
        return this;
    }

    public IReadOnlyList<KeyComponent> Components => _components;

    public Digest Build()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, _components.Count);
        hash.AppendData(length);
        foreach (KeyComponent component in _components)
        {
            Append(hash, component.Name, length);
            Append(hash, component.Value, length);
        }
        return Digest.FromSha256(hash.GetHashAndReset());
    }

    private static void Append(IncrementalHash hash, string value, Span<byte> length)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteInt64LittleEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }
}

/// <summary>One named input of a cache key, e.g. ("build-arg VERSION", "1.2") or ("file src/app.cs", "sha256:…").</summary>
internal sealed record KeyComponent(string Name, string Value);

/// <summary>Explains a miss by comparing a step's components with those it had last time.</summary>
internal static class MissReason
{
    public static string Explain(IReadOnlyList<KeyComponent>? previous, IReadOnlyList<KeyComponent> current)
    {
        if (previous is null) { return "no earlier build of this step"; }
        var before = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyComponent c in previous) { before[c.Name] = c.Value; }
        var now = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyComponent c in current) { now[c.Name] = c.Value; }
        var reasons = new List<string>();
        foreach (KeyComponent c in current)
        {
            if (c.Name == "parent") { continue; }
            if (!before.TryGetValue(c.Name, out string? old)) { reasons.Add(Describe(c.Name, "added")); }
            else if (old != c.Value) { reasons.Add(Describe(c.Name, "changed")); }
        }
        foreach (KeyComponent c in previous)
        {
            if (c.Name != "parent" && !now.ContainsKey(c.Name)) { reasons.Add(Describe(c.Name, "removed")); }
        }
        if (reasons.Count == 0)
        {
            return before.GetValueOrDefault("parent") != now.GetValueOrDefault("parent") ? "previous step changed" : "cache entry missing";
        }
        return reasons.Count <= 3 ? string.Join(", ", reasons) : string.Join(", ", reasons.Take(3)) + $" and {reasons.Count - 3} more";
    }

    private static string Describe(string name, string what) => name switch
    {
        _ when name.StartsWith("file ", StringComparison.Ordinal) => $"{name[5..]} {what}",
        "base image" => what == "changed" ? "base image digest changed" : $"base image {what}",
        _ => $"{name} {what}",
    };
}
