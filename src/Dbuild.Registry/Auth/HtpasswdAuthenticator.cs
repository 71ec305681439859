using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Auth;

/// <summary>
/// Basic auth against a bcrypt htpasswd file as written by <c>htpasswd -B</c> (registry:2 accepts only bcrypt entries).
/// The file is re-read when it changes. Verified credentials are remembered by a hash of the password, so a client that
/// sends them with every request does not pay a bcrypt round each time; unknown users cost a bcrypt round too, so the
/// answer (and its timing) does not reveal whether a user exists.
/// </summary>
internal sealed class HtpasswdAuthenticator(IOptions<RegistryOptions> options, TimeProvider timeProvider, ILogger<HtpasswdAuthenticator> logger)
{
    private const int MaxCachedLogins = 1024;
    // A bcrypt hash of a random password, verified against when the user is unknown.
    private static readonly string DummyHash = BCrypt.Net.BCrypt.HashPassword(Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), 5);

    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, string> _verified = new(StringComparer.Ordinal);
    private Dictionary<string, string> _users = new(StringComparer.Ordinal);
    private DateTime _loadedWriteTime;
    private long _lastCheckTicks;
    private bool _loaded;

    public bool Enabled => options.Value.HtpasswdPath is not null;

    public string Realm => options.Value.HtpasswdRealm;

    /// <summary>The same checks on another file: the built-in token issuer's <c>auth.token.builtin.htpasswd</c>.</summary>
    internal static HtpasswdAuthenticator ForFile(string path, TimeProvider timeProvider, ILogger<HtpasswdAuthenticator> logger) =>
        new(Options.Create(new RegistryOptions { HtpasswdPath = path }), timeProvider, logger);

    /// <summary>Whether the file (as last read) still has the user: refresh tokens of removed users are refused.</summary>
    public bool HasUser(string name) => Users().ContainsKey(name);

    /// <summary>Checks an <c>Authorization</c> header value; returns the user name on success.</summary>
    public bool TryAuthenticate(string? authorization, out string user)
    {
        user = "";
        if (authorization is null || !authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) { return false; }
        string decoded;
        try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim())); }
        catch (FormatException) { return false; }
        int colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0) { return false; }
        string name = decoded[..colon];
        string password = decoded[(colon + 1)..];
        Dictionary<string, string> users = Users();
        string cacheKey = $"{name}\0{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(password)))}";
        if (users.TryGetValue(name, out string? hash) && _verified.TryGetValue(cacheKey, out string? verifiedHash) && verifiedHash == hash)
        {
            user = name;
            return true;
        }
        bool ok;
        try { ok = BCrypt.Net.BCrypt.Verify(password, hash ?? DummyHash) && hash is not null; }
        catch (BCrypt.Net.SaltParseException) { ok = false; }
        if (!ok) { return false; }
        if (_verified.Count >= MaxCachedLogins) { _verified.Clear(); }
        _verified[cacheKey] = hash!;
        user = name;
        return true;
    }

    private Dictionary<string, string> Users()
    {
        string path = options.Value.HtpasswdPath!;
        long now = timeProvider.GetTimestamp();
        if (_loaded && now - _lastCheckTicks < timeProvider.TimestampFrequency) { return _users; }
        lock (_gate)
        {
            _lastCheckTicks = now;
            _loaded = true;
            try
            {
                DateTime writeTime = File.GetLastWriteTimeUtc(path);
                if (writeTime == _loadedWriteTime) { return _users; }
                _users = Parse(File.ReadAllLines(path));
                _loadedWriteTime = writeTime;
                _verified.Clear();
            }
            catch (IOException ex)
            {
                Log.HtpasswdUnreadable(logger, ex, path);
                _users = new(StringComparer.Ordinal);
            }
            catch (UnauthorizedAccessException ex)
            {
                Log.HtpasswdUnreadable(logger, ex, path);
                _users = new(StringComparer.Ordinal);
            }
            return _users;
        }
    }

    internal static Dictionary<string, string> Parse(IEnumerable<string> lines)
    {
        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string raw in lines)
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) { continue; }
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) { continue; }
            string hash = line[(colon + 1)..];
            if (hash.StartsWith("$2a$", StringComparison.Ordinal) || hash.StartsWith("$2b$", StringComparison.Ordinal)
                || hash.StartsWith("$2y$", StringComparison.Ordinal) || hash.StartsWith("$2x$", StringComparison.Ordinal))
            {
                users[line[..colon]] = hash;
            }
        }
        return users;
    }
}
