using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>Real clients (skopeo, docker, podman) with bounded runs and isolated state.</summary>
internal static class Tools
{
    public const string Docker = "/usr/bin/docker";

    public static async Task<string> SkopeoAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        string skopeo = Prerequisites.RequireTool("skopeo", "skopeo");
        ProcessResult result = await ProcessRunner.RunAsync(skopeo, ["--insecure-policy", .. arguments], cancellationToken, timeout: TimeSpan.FromMinutes(5));
        return result.EnsureSuccess().StandardOutput;
    }

    public static async Task<ProcessResult> DockerAsync(string dockerHost, string dockerConfig, string? standardInput, CancellationToken cancellationToken, params string[] arguments)
    {
        Prerequisites.RequireTool(Docker, "docker.io");
        return await ProcessRunner.RunAsync(Docker, ["--config", dockerConfig, .. arguments], cancellationToken,
            environment: new Dictionary<string, string?> { ["DOCKER_HOST"] = dockerHost }, standardInput: standardInput, timeout: TimeSpan.FromMinutes(5));
    }

    public static async Task<ProcessResult> PodmanAsync(string state, CancellationToken cancellationToken, params string[] arguments)
    {
        string podman = Prerequisites.RequireTool("podman", "podman");
        return await ProcessRunner.RunAsync(podman,
            ["--root", Path.Combine(state, "root"), "--runroot", Path.Combine(state, "run"), "--storage-driver", "vfs",
             "--cgroup-manager", "cgroupfs", "--events-backend", "file", .. arguments],
            cancellationToken, timeout: TimeSpan.FromMinutes(5));
    }

    /// <summary>GETs a manifest with every manifest type accepted; returns its bytes and the digest of those bytes.</summary>
    public static async Task<(byte[] Content, string Digest, string MediaType)> GetManifestAsync(HttpClient client, string baseUrl, string name, string reference, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{baseUrl}/v2/{name}/manifests/{reference}");
        foreach (string type in Dbuild.Oci.MediaTypes.AllManifestTypes) { request.Headers.Accept.ParseAdd(type); }
        using HttpResponseMessage response = await client.SendAsync(request, cancellationToken);
        byte[] content = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET {name}:{reference} gave {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(content)}");
        return (content, Dbuild.Oci.Digest.Compute(content).ToString(), response.Content.Headers.ContentType?.MediaType ?? "");
    }
}
