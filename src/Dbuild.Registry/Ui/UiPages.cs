namespace Dbuild.Registry.Ui;

/// <summary>The UI's three pages as HTML: repositories (search and pages), a repository's tags, one manifest or index.</summary>
internal static class UiPages
{
    public static UiHtml Repositories(UiPage<string> page, string query)
    {
        var html = new UiHtml().Raw("<h1>Repositories</h1><form class=\"search\" method=\"get\" action=\"").Raw(UiEndpoints.Root)
            .Raw("\"><input type=\"search\" name=\"q\" placeholder=\"Search repositories\" value=\"").Raw(UiHtml.Attribute(query))
            .Raw("\" aria-label=\"Search repositories\"> <button type=\"submit\">Search</button></form>")
            .Raw($"<p class=\"muted\" id=\"count\">{page.Total} repositor{(page.Total == 1 ? "y" : "ies")}</p>");
        if (page.Items.Count > 0)
        {
            html.Raw("<table id=\"repositories\"><thead><tr><th>Name</th></tr></thead><tbody>");
            foreach (string name in page.Items) { html.Raw("<tr><td>").Link($"{UiEndpoints.Root}r/{UiHtml.PathOf(name)}", name).Raw("</td></tr>"); }
            html.Raw("</tbody></table>");
        }
        return Pager(html, page, $"{UiEndpoints.Root}?q={Uri.EscapeDataString(query)}&");
    }

    public static UiHtml Tags(string name, string host, UiPage<UiTag> page)
    {
        var html = new UiHtml().Raw("<h1>").Text(name).Raw("</h1>").Raw($"<p class=\"muted\">{page.Total} tag{(page.Total == 1 ? "" : "s")}</p>");
        if (page.Items.Count > 0) { html.PullLine($"docker pull {host}/{name}:{page.Items[0].Name}"); }
        html.Raw("<table id=\"tags\"><thead><tr><th>Tag</th><th>Digest</th><th>Type</th><th>Size</th><th>Pushed</th></tr></thead><tbody>");
        foreach (UiTag tag in page.Items)
        {
            html.Raw("<tr><td>").Link(ManifestPath(name, tag.Name), tag.Name).Raw("</td><td><code>").Text(UiHtml.Short(tag.Digest.ToString()))
                .Raw("</code></td><td>").Text(tag.Platforms > 0 ? $"index · {tag.Platforms} platforms" : "image")
                .Raw("</td><td class=\"n\">").Text(UiHtml.Size(tag.Size)).Raw("</td><td>").Text(UiHtml.Date(tag.Pushed)).Raw("</td></tr>");
        }
        html.Raw("</tbody></table>");
        return Pager(html, page, $"{UiEndpoints.Root}r/{UiHtml.PathOf(name)}?");
    }

    public static UiHtml Manifest(UiManifest manifest, string host)
    {
        bool byDigest = manifest.Reference == manifest.Digest.ToString();
        var html = new UiHtml().Raw("<h1>").Link($"{UiEndpoints.Root}r/{UiHtml.PathOf(manifest.Name)}", manifest.Name)
            .Raw(byDigest ? "@" : ":").Text(byDigest ? UiHtml.Short(manifest.Reference) : manifest.Reference).Raw("</h1>");
        if (!byDigest) { html.PullLine($"docker pull {host}/{manifest.Name}:{manifest.Reference}"); }
        html.PullLine($"docker pull {host}/{manifest.Name}@{manifest.Digest}");
        html.Raw("<table id=\"summary\"><tbody>");
        Row(html, "Digest", manifest.Digest.ToString());
        Row(html, "Media type", manifest.MediaType);
        if (manifest.ArtifactType is { } artifactType) { Row(html, "Artifact type", artifactType); }
        if (manifest.Platform is { } platform) { Row(html, "Platform", platform); }
        if (manifest.Created is { } created) { Row(html, "Created", UiHtml.Date(created)); }
        Row(html, "Size", manifest.IsIndex ? UiHtml.Size(manifest.ManifestSize) : $"{UiHtml.Size(manifest.ImageSize)} (config and layers)");
        if (manifest.Subject is { } subject)
        {
            html.Raw("<tr><th>Subject</th><td>").Link(ManifestPath(manifest.Name, subject), subject).Raw("</td></tr>");
        }
        html.Raw("</tbody></table>");
        if (manifest.IsIndex)
        {
            html.Raw("<h2>Platforms</h2><table id=\"platforms\"><thead><tr><th>Platform</th><th>Digest</th><th>Size</th></tr></thead><tbody>");
            foreach (UiDescriptor child in manifest.Children)
            {
                html.Raw("<tr><td>").Link(ManifestPath(manifest.Name, child.Digest), child.Platform ?? child.ArtifactType ?? "unknown").Raw("</td><td><code>")
                    .Text(child.Digest).Raw("</code></td><td class=\"n\">").Text(UiHtml.Size(child.Size)).Raw("</td></tr>");
            }
            html.Raw("</tbody></table>");
        }
        else { Layers(html, manifest); }
        if (manifest.History.Count > 0)
        {
            html.Raw("<h2>History</h2><table id=\"history\"><thead><tr><th>Created</th><th>Created by</th></tr></thead><tbody>");
            foreach (UiHistory entry in manifest.History)
            {
                html.Raw("<tr><td>").Text(UiHtml.Date(entry.Created)).Raw("</td><td><code>").Text(entry.CreatedBy).Raw("</code>")
                    .Raw(entry.EmptyLayer ? " <span class=\"muted\">(no layer)</span>" : "").Raw("</td></tr>");
            }
            html.Raw("</tbody></table>");
        }
        Referrers(html, manifest);
        Annotations(html, manifest.Annotations);
        return html;
    }

    private static void Layers(UiHtml html, UiManifest manifest)
    {
        html.Raw($"<h2>Layers ({manifest.Layers.Count})</h2><table id=\"layers\"><thead><tr><th>#</th><th>Digest</th><th>Media type</th><th>Size</th></tr></thead><tbody>");
        int number = 0;
        foreach (UiDescriptor layer in manifest.Layers)
        {
            html.Raw($"<tr><td>{++number}</td><td><code>").Text(layer.Digest).Raw("</code></td><td>").Text(layer.MediaType)
                .Raw("</td><td class=\"n\">").Text(UiHtml.Size(layer.Size)).Raw("</td></tr>");
        }
        html.Raw("</tbody></table>");
        if (manifest.Config is { } config)
        {
            html.Raw("<p class=\"muted\">Config <code>").Text(config.Digest).Raw("</code> (").Text(config.MediaType).Raw(", ").Text(UiHtml.Size(config.Size)).Raw(")</p>");
        }
    }

    private static void Referrers(UiHtml html, UiManifest manifest)
    {
        html.Raw("<h2>Referrers</h2>");
        if (manifest.Referrers.Count == 0) { html.Raw("<p class=\"muted\">No signatures, SBOMs or attestations refer to this manifest.</p>"); return; }
        html.Raw("<table id=\"referrers\"><thead><tr><th>Artifact type</th><th>Digest</th><th>Annotations</th></tr></thead><tbody>");
        foreach (UiDescriptor referrer in manifest.Referrers)
        {
            html.Raw("<tr><td>").Text(referrer.ArtifactType ?? referrer.MediaType).Raw("</td><td>").Link(ManifestPath(manifest.Name, referrer.Digest), UiHtml.Short(referrer.Digest))
                .Raw("</td><td>");
            foreach ((string key, string value) in referrer.Annotations ?? new Dictionary<string, string>())
            {
                html.Raw("<div><code>").Text(key).Raw("</code>: ").Text(value).Raw("</div>");
            }
            html.Raw("</td></tr>");
        }
        html.Raw("</tbody></table>");
    }

    private static void Annotations(UiHtml html, IReadOnlyDictionary<string, string>? annotations)
    {
        if (annotations is not { Count: > 0 }) { return; }
        html.Raw("<h2>Annotations</h2><table id=\"annotations\"><tbody>");
        foreach ((string key, string value) in annotations) { Row(html, key, value); }
        html.Raw("</tbody></table>");
    }

    public static UiHtml NotFound(string what) =>
        new UiHtml().Raw("<h1>Not found</h1><p>").Text(what).Raw(" does not exist, or you may not pull it.</p>");

    private static void Row(UiHtml html, string name, string value) => html.Raw("<tr><th>").Text(name).Raw("</th><td><code>").Text(value).Raw("</code></td></tr>");

    private static string ManifestPath(string name, string reference) => $"{UiEndpoints.Root}r/{UiHtml.PathOf(name)}/m/{Uri.EscapeDataString(reference)}";

    private static UiHtml Pager<T>(UiHtml html, UiPage<T> page, string prefix)
    {
        if (page.Page == 1 && !page.HasMore) { return html; }
        html.Raw("<nav class=\"pager\">");
        if (page.Page > 1) { html.Link($"{prefix}page={page.Page - 1}", "← Previous"); }
        html.Raw($"<span>page {page.Page}</span>");
        if (page.HasMore) { html.Link($"{prefix}page={page.Page + 1}", "Next →"); }
        return html.Raw("</nav>");
    }
}
