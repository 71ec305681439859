using System.Globalization;

namespace Dbuild.Dockerfile;

/// <summary>
/// One parsed <c>RUN --mount=…</c> value with BuildKit's defaults applied: bind is read-only; cache and tmpfs are
/// read-write; cache sharing is shared; secret and ssh are read-only and not required; a secret's id defaults to the
/// target's base name and its target to <c>/run/secrets/&lt;id&gt;</c>; ssh's id defaults to <c>default</c>.
/// </summary>
public sealed record RunMount
{
    private static readonly string[] AllKeys =
        ["type", "from", "source", "target", "readonly", "id", "sharing", "required", "size", "mode", "uid", "gid", "src", "dst", "destination", "dest", "ro", "rw", "readwrite", "env"];

    /// <summary>The type (default bind).</summary>
    public MountType Type { get; init; } = MountType.Bind;

    /// <summary>The stage or image to mount from (bind, cache), or null for the context / an empty cache.</summary>
    public string? From { get; init; }

    /// <summary>The path inside <see cref="From"/> (bind, cache) or the secret's source, or null.</summary>
    public string? Source { get; init; }

    /// <summary>Where it appears in the container (relative: under WORKDIR; empty: the WORKDIR itself); null for an env-only secret or a default ssh socket.</summary>
    public string? Target { get; init; }

    /// <summary>Read-only.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>The cache, secret or ssh id.</summary>
    public string? Id { get; init; }

    /// <summary>Cache sharing (cache mounts only).</summary>
    public CacheSharing Sharing { get; init; } = CacheSharing.Shared;

    /// <summary>Fail when the secret or ssh key is not provided.</summary>
    public bool Required { get; init; }

    /// <summary>tmpfs size in bytes, 0 for unlimited.</summary>
    public long SizeLimit { get; init; }

    /// <summary>File mode (cache, secret, ssh), or null for the type's default.</summary>
    public uint? Mode { get; init; }

    /// <summary>Owner uid (cache, secret, ssh), or null for 0.</summary>
    public uint? Uid { get; init; }

    /// <summary>Owner gid (cache, secret, ssh), or null for 0.</summary>
    public uint? Gid { get; init; }

    /// <summary>Secret exposed as this environment variable (secret mounts only).</summary>
    public string? Env { get; init; }

    /// <summary>The mode used when none was given: 0755 for cache, 0400 for secret, 0600 for ssh.</summary>
    public uint EffectiveMode => Mode ?? Type switch { MountType.Cache => 0x1ED, MountType.Secret => 0x100, MountType.Ssh => 0x180, _ => 0 };

    /// <summary>
    /// Parses one <c>--mount</c> CSV value. <paramref name="expander"/> expands each value (pass null to keep them
    /// as written; <c>from</c> then must not use variables).
    /// </summary>
    /// <exception cref="FormatException">The value is invalid; the message says why.</exception>
    public static RunMount Parse(string value, Func<string, string>? expander = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        List<string> fields = Csv.ReadRecord(value);
        MountType type = MountType.Bind;
        foreach (string field in fields)
        {
            int eq = field.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0 && field[..eq].Equals("type", StringComparison.OrdinalIgnoreCase))
            {
                string t = field[(eq + 1)..];
                type = t.ToLowerInvariant() switch
                {
                    "bind" => MountType.Bind,
                    "cache" => MountType.Cache,
                    "tmpfs" => MountType.Tmpfs,
                    "secret" => MountType.Secret,
                    "ssh" => MountType.Ssh,
                    _ => throw new FormatException(Suggest.WithSuggestion($"unsupported mount type {GoText.Quote(t)}", t, ["bind", "cache", "tmpfs", "secret", "ssh"], false)),
                };
            }
        }
        bool readOnly = type is MountType.Secret or MountType.Ssh;
        bool roAuto = true;
        bool required = false;
        string? from = null, source = null, target = null, id = null, env = null;
        CacheSharing? sharing = null;
        long size = 0;
        uint? mode = null, uid = null, gid = null;
        foreach (string field in fields)
        {
            int eq = field.IndexOf('=', StringComparison.Ordinal);
            string key = (eq < 0 ? field : field[..eq]).ToLowerInvariant();
            if (eq < 0)
            {
                switch (key)
                {
                    case "readonly" or "ro": readOnly = true; roAuto = false; continue;
                    case "readwrite" or "rw": readOnly = false; roAuto = false; continue;
                    case "required" when type is MountType.Secret or MountType.Ssh: required = true; continue;
                    case "required": throw new FormatException($"unexpected key '{key}' for mount type '{Name(type)}'");
                    default: throw new FormatException($"invalid field '{field}' must be a key=value pair");
                }
            }
            string v = field[(eq + 1)..];
            if (expander is not null)
            {
                v = expander(v);
            }
            else if (key != "from" && v.Contains('$', StringComparison.Ordinal))
            {
                // Without an expander a value with a variable is kept as written and checked once it is expanded.
                switch (key)
                {
                    case "target" or "dst" or "destination" or "dest": target = v; break;
                    case "src" or "source": source = v; break;
                    case "id": id = v; break;
                    case "env": env = v; break;
                }
                continue;
            }
            else if (key == "from")
            {
                int dollar = v.IndexOf('$', StringComparison.Ordinal);
                if (dollar >= 0 && dollar != v.Length - 1)
                {
                    throw new FormatException($"'{key}' doesn't support variable expansion, define alias stage instead");
                }
            }
            switch (key)
            {
                case "type": break;
                case "target" or "dst" or "destination" or "dest": target = v; break;
                case "src" or "source": source = v; break;
                case "readonly" or "ro": readOnly = ParseBool(key, v); roAuto = false; break;
                case "readwrite" or "rw": readOnly = !ParseBool(key, v); roAuto = false; break;
                case "required":
                    if (type is not (MountType.Secret or MountType.Ssh)) { throw new FormatException($"unexpected key '{key}' for mount type '{Name(type)}'"); }
                    required = ParseBool(key, v);
                    break;
                case "size":
                    if (type != MountType.Tmpfs) { throw new FormatException($"unexpected key '{key}' for mount type '{Name(type)}'"); }
                    size = RamInBytes(v);
                    break;
                case "id": id = v; break;
                case "sharing":
                    if (type != MountType.Cache) { throw new FormatException($"invalid cache sharing set for {Name(type)} mount"); }
                    sharing = v.ToLowerInvariant() switch
                    {
                        "shared" => CacheSharing.Shared,
                        "private" => CacheSharing.Private,
                        "locked" => CacheSharing.Locked,
                        _ => throw new FormatException($"unsupported sharing value \"{v}\""),
                    };
                    break;
                case "from": from = v; break;
                case "mode":
                    try { mode = Convert.ToUInt32(v, 8); }
                    catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException) { throw new FormatException($"invalid value {v} for mode"); }
                    break;
                case "uid": uid = ParseId(key, v); break;
                case "gid": gid = ParseId(key, v); break;
                case "env":
                    if (type != MountType.Secret) { throw new FormatException($"unexpected key '{key}' for mount type '{Name(type)}'"); }
                    env = v;
                    break;
                default:
                    throw new FormatException(Suggest.WithSuggestion($"unexpected key '{key}' in '{field}'", key, AllKeys, true));
            }
        }
        bool fileInfoAllowed = type is MountType.Secret or MountType.Ssh or MountType.Cache;
        if (!fileInfoAllowed)
        {
            if (mode is not null) { throw new FormatException($"mode not allowed for \"{Name(type)}\" type mounts"); }
            if (uid is not null) { throw new FormatException($"uid not allowed for \"{Name(type)}\" type mounts"); }
            if (gid is not null) { throw new FormatException($"gid not allowed for \"{Name(type)}\" type mounts"); }
        }
        if (roAuto) { readOnly = type is not (MountType.Cache or MountType.Tmpfs); }
        if (type == MountType.Secret)
        {
            if (from is not null) { throw new FormatException("secret mount should not have a from"); }
            if (string.IsNullOrEmpty(source) && string.IsNullOrEmpty(target) && string.IsNullOrEmpty(id) && string.IsNullOrEmpty(env))
            {
                throw new FormatException("invalid secret mount. one of source, target required");
            }
            if (!string.IsNullOrEmpty(source) && !string.IsNullOrEmpty(id))
            {
                throw new FormatException("both source and id can't be set");
            }
            id = !string.IsNullOrEmpty(id) ? id : !string.IsNullOrEmpty(source) ? source : !string.IsNullOrEmpty(target) ? target!.TrimEnd('/').Split('/')[^1] : env;
            if (string.IsNullOrEmpty(target) && env is null) { target = "/run/secrets/" + id; }
        }
        if (type == MountType.Ssh)
        {
            if (from is not null) { throw new FormatException("ssh mount should not have a from"); }
            id = string.IsNullOrEmpty(id) ? "default" : id;
        }
        if (type == MountType.Cache && string.IsNullOrEmpty(id)) { id = target; }
        return new RunMount
        {
            Type = type,
            From = from,
            Source = source,
            Target = target,
            ReadOnly = readOnly,
            Id = id,
            Sharing = sharing ?? CacheSharing.Shared,
            Required = required,
            SizeLimit = size,
            Mode = mode,
            Uid = uid,
            Gid = gid,
            Env = env,
        };
    }

    private static string Name(MountType type) => type.ToString().ToLowerInvariant();

    private static bool ParseBool(string key, string value) => value.ToLowerInvariant() switch
    {
        "1" or "t" or "true" => true,
        "0" or "f" or "false" => false,
        _ => throw new FormatException($"invalid value for {key}: {value}"),
    };

    private static uint ParseId(string key, string value) =>
        uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out uint id) ? id : throw new FormatException($"invalid value for {key}: {value}");

    /// <summary>docker/go-units RAMInBytes: "64m", "1g", "512kb", binary multiples.</summary>
    internal static long RamInBytes(string value)
    {
        string s = value.Trim();
        int i = 0;
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) { i++; }
        if (i == 0 || !double.TryParse(s[..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
        {
            throw new FormatException($"invalid size: '{value}'");
        }
        string unit = s[i..].Trim().ToLowerInvariant();
        if (unit.EndsWith('b')) { unit = unit[..^1]; }
        if (unit.EndsWith('i')) { unit = unit[..^1]; }
        double multiplier = unit switch
        {
            "" => 1,
            "k" => 1024d,
            "m" => 1024d * 1024,
            "g" => 1024d * 1024 * 1024,
            "t" => 1024d * 1024 * 1024 * 1024,
            "p" => 1024d * 1024 * 1024 * 1024 * 1024,
            _ => throw new FormatException($"invalid size: '{value}'"),
        };
        return (long)(number * multiplier);
    }
}
