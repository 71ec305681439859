using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;

namespace Dbuild.Registry.Ui;

/// <summary>
/// A page being written: the shared layout (a small inline style sheet and one tiny copy script, nothing fetched from
/// elsewhere) and helpers that HTML-encode every value, since names, tags and annotations come from clients.
/// </summary>
internal sealed class UiHtml
{
    private const string Style = """
        body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
        header{background:#1f3a5f;color:#fff;padding:10px 24px;display:flex;gap:16px;align-items:center}
        header a{color:#fff;text-decoration:none;font-weight:600}header .who{margin-left:auto;font-size:13px}
        main{max-width:1100px;margin:16px auto;padding:0 24px}
        h1{font-size:20px;word-break:break-all}h2{font-size:16px;margin-top:24px}
        table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d0d7de}
        th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #d0d7de;vertical-align:top}
        th{background:#eaeef2}td.n{text-align:right;white-space:nowrap}code{font-size:12px;word-break:break-all}
        a{color:#0b5cad}.pull{display:flex;gap:6px;margin:6px 0}.pull input{flex:1;font:12px monospace;padding:4px}
        form.search{margin:8px 0 12px}form.search input{padding:5px;width:320px}
        .pager{margin:10px 0;display:flex;gap:12px}.muted{color:#57606a}.tag{background:#ddf4ff;border-radius:8px;padding:0 6px}
        """;

    private const string Script = """
        document.addEventListener('click',e=>{const b=e.target.closest('button[data-copy]');if(!b)return;
        const i=document.getElementById(b.dataset.copy);i.select();navigator.clipboard?.writeText(i.value);b.textContent='Copied';});
        """;

    /// <summary>Only this page's own inline style and script (by hash), forms and links to this origin.</summary>
    public static readonly string ContentSecurityPolicy =
        $"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Script)))}'; "
        + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    private readonly StringBuilder _body = new();
    private int _inputs;

    /// <summary>Appends markup written by this class's callers (no values from storage: use <see cref="Text"/>).</summary>
    public UiHtml Raw(string markup)
    {
        _body.Append(markup);
        return this;
    }

    /// <summary>Appends a value HTML-encoded.</summary>
    public UiHtml Text(string? value)
    {
        _body.Append(HtmlEncoder.Default.Encode(value ?? ""));
        return this;
    }

    public UiHtml Link(string href, string text) => Raw("<a href=\"").Raw(Attribute(href)).Raw("\">").Text(text).Raw("</a>");

    /// <summary>A read-only field holding a pull command and a button that copies it.</summary>
    public UiHtml PullLine(string command)
    {
        string id = $"pull{++_inputs}";
        return Raw($"<div class=\"pull\"><input readonly id=\"{id}\" value=\"").Raw(Attribute(command))
            .Raw($"\" aria-label=\"pull command\"><button type=\"button\" data-copy=\"{id}\">Copy</button></div>");
    }

    /// <summary>The whole document around the body written so far.</summary>
    public string Document(string title, UiViewer viewer, string signInPath)
    {
        var page = new StringBuilder(_body.Length + 2048);
        page.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>")
            .Append(HtmlEncoder.Default.Encode(title)).Append(" · dbuild registry</title><style>").Append(Style).Append("</style></head><body><header>")
            .Append("<a href=\"").Append(UiEndpoints.Root).Append("\">dbuild registry</a><span class=\"who\">");
        if (viewer.Account is { } account) { page.Append("signed in as ").Append(HtmlEncoder.Default.Encode(account)); }
        else if (viewer.SignInOffered) { page.Append("<a href=\"").Append(signInPath).Append("\">Sign in</a>"); }
        page.Append("</span></header><main>").Append(_body).Append("</main><script>").Append(Script).Append("</script></body></html>");
        return page.ToString();
    }

    /// <summary>An attribute value: encoded, so quotes and angle brackets cannot leave it.</summary>
    public static string Attribute(string value) => HtmlEncoder.Default.Encode(value);

    /// <summary>A path segment or a repository name (its <c>/</c> kept) for a URL.</summary>
    public static string PathOf(string name) => string.Join('/', name.Split('/').Select(Uri.EscapeDataString));

    public static string Size(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    public static string Date(DateTimeOffset? when) =>
        when is { } w ? w.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) : "";

    /// <summary>An RFC 3339 time from an image config shown like <see cref="Date(DateTimeOffset?)"/>, or as given when it does not parse.</summary>
    public static string Date(string? rfc3339) =>
        rfc3339 is null ? "" : DateTimeOffset.TryParse(rfc3339, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset parsed) ? Date(parsed) : rfc3339;

    public static string Short(string digest) => digest.Length > 19 && digest.StartsWith("sha256:", StringComparison.Ordinal) ? digest[..19] : digest;
}
