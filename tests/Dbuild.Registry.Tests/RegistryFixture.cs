using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Dbuild.Oci;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Dbuild.Registry.Tests;

/// <summary>
/// The registry in process: <c>AddDbuildRegistry()</c> + <c>MapDistributionApi()</c> on a TestServer over a fresh
/// temporary storage root (deletes enabled unless a test says otherwise).
/// </summary>
public sealed class RegistryFixture : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RegistryFixture(WebApplication app, string root, FakeTimeProvider time)
    {
        _app = app;
        StorageRoot = root;
        Time = time;
        Client = app.GetTestClient();
    }

    public HttpClient Client { get; }

    public string StorageRoot { get; }

    public FakeTimeProvider Time { get; }

    public IServiceProvider Services => _app.Services;

    public FakeLogCollector Logs => _app.Services.GetRequiredService<FakeLogCollector>();

    public string V2 => Path.Combine(StorageRoot, "docker", "registry", "v2");

    /// <param name="configure">Changes the options.</param>
    /// <param name="services">Registers services before the registry's own (e.g. an <c>IAccessRules</c> for a test).</param>
    public static async Task<RegistryFixture> StartAsync(Action<RegistryOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        string root = Directory.CreateTempSubdirectory("dbuild-registry-test-").FullName;
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddFakeLogging();
        builder.Services.AddSingleton<TimeProvider>(time);
        services?.Invoke(builder.Services);
        builder.Services.AddDbuildRegistry(options =>
        {
            options.StorageRoot = root;
            options.DeleteEnabled = true;
            options.UploadPurgingEnabled = false;
            configure?.Invoke(options);
        });
        WebApplication app = builder.Build();
        app.MapDistributionApi();
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new RegistryFixture(app, root, time);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        try { Directory.Delete(StorageRoot, recursive: true); } catch (IOException) { }
    }

    // ---- helpers shared by the endpoint tests ----

    public static Digest DigestOf(byte[] content) => Digest.Compute(content);

    /// <summary>POST + PUT with the whole body: the monolithic-in-two-steps flow docker uses for small blobs.</summary>
    public async Task<Digest> PushBlobAsync(string name, byte[] content)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Digest digest = DigestOf(content);
        using HttpResponseMessage start = await Client.PostAsync($"/v2/{name}/blobs/uploads/", null, ct);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, start.StatusCode);
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using HttpResponseMessage put = await Client.PutAsync($"{start.Headers.Location}?digest={digest}", body, ct);
        Assert.Equal(System.Net.HttpStatusCode.Created, put.StatusCode);
        return digest;
    }

    public async Task<HttpResponseMessage> PutManifestAsync(string name, string reference, string json, string mediaType = MediaTypes.OciManifest)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return await Client.PutAsync($"/v2/{name}/manifests/{reference}", content, TestContext.Current.CancellationToken);
    }

    /// <summary>Pushes a config and one layer and returns an OCI manifest JSON referencing them.</summary>
    public async Task<string> PushImageBlobsAsync(string name, string? subject = null, string? artifactType = null)
    {
        byte[] config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\"}");
        byte[] layer = RandomNumberGenerator.GetBytes(1000);
        Digest configDigest = await PushBlobAsync(name, config);
        Digest layerDigest = await PushBlobAsync(name, layer);
        string subjectJson = subject is null ? "" : $",\"subject\":{subject}";
        string artifactJson = artifactType is null ? "" : $",\"artifactType\":\"{artifactType}\"";
        return $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\"{artifactJson},\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},"
            + $"\"layers\":[{{\"mediaType\":\"{MediaTypes.OciLayerGzip}\",\"digest\":\"{layerDigest}\",\"size\":{layer.Length}}}]{subjectJson}}}";
    }

    public static string DescriptorJson(string mediaType, Digest digest, long size) =>
        $"{{\"mediaType\":\"{mediaType}\",\"digest\":\"{digest}\",\"size\":{size}}}";
}
