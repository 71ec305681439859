using System.Formats.Tar;
using System.Net.Http.Headers;
using System.Text.Json;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// Same Dockerfile, same context, <c>SOURCE_DATE_EPOCH</c> set: the image digest does not depend on the machine. Built
/// once on one CPU (<c>taskset -c 0</c>, <c>DOTNET_PROCESSOR_COUNT=1</c>) and once on two, each in a clean state root,
/// exported as an OCI archive and pushed to registry:2: the manifests and every layer are byte for byte the same.
/// </summary>
public sealed class DeterminismTests
{
    private const string Dockerfile = """
        ARG BASE
        FROM $BASE
        COPY data/ /data/
        RUN mkdir /out && cat /data/text.txt /data/base64.txt > /out/joined && head -c 1500000 /data/random.bin > /out/random.part \
            && sha256sum /data/* > /out/sums
        """;

    [Fact]
    public async Task Build_OneCpuAndTwoCpus_SameManifestAndLayers()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        string taskset = Prerequisites.RequireTool("taskset", "util-linux");
        Prerequisites.Require(Environment.ProcessorCount >= 2, $"needs 2 CPUs to compare with 1, this machine has {Environment.ProcessorCount}");
        Assert.Equal("1", (await ProcessRunner.RunAsync(taskset, ["-c", "0", "nproc"], ct)).EnsureSuccess().StandardOutput.Trim());
        using var temp = new TempDirectory("dbuild-determinism-");
        string context = await ContextAsync(temp, ct);
        string repository = $"{env.RegistryHost}/determinism/{Guid.NewGuid():N}";

        var built = new List<(string Metadata, string Archive, string Pushed)>();
        foreach ((string name, string cpus, string? count) in new[] { ("one", "0", "1"), ("two", "0,1", (string?)null) })
        {
            var environment = new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = "1700000000", ["DOTNET_PROCESSOR_COUNT"] = count };
            (await DbuildCli.RunUnderAsync([taskset, "-c", cpus], ["build", "--root", temp.Combine("root-" + name), "--progress", "plain",
                "--build-arg", "BASE=" + env.BaseImage, "-t", $"{repository}:{name}", "--push", "-o", "type=oci,dest=" + temp.Combine(name + ".tar"),
                "--metadata-file", temp.Combine(name + ".json"), context], ct, environment, TimeSpan.FromMinutes(5))).EnsureSuccess();
            using JsonDocument metadata = JsonDocument.Parse(await File.ReadAllTextAsync(temp.Combine(name + ".json"), ct));
            built.Add((metadata.RootElement.GetProperty("containerimage.digest").GetString()!, temp.Combine(name + ".tar"), $"{repository}:{name}"));
        }

        (string oneManifest, IReadOnlyList<string> oneLayers) = await ArchiveManifestAsync(built[0].Archive, ct);
        (string twoManifest, IReadOnlyList<string> twoLayers) = await ArchiveManifestAsync(built[1].Archive, ct);
        Assert.Equal(built[0].Metadata, built[1].Metadata);
        Assert.Equal(oneManifest, twoManifest);
        Assert.Equal(oneLayers, twoLayers);
        Assert.True(oneLayers.Count >= 3, "the base, COPY and RUN layers");
        // The pushed image has Docker media types (BuildKit's image exporter default), the OCI archive OCI ones: the
        // manifests differ, their layers do not.
        (string pushedOne, IReadOnlyList<string> pushedOneLayers) = await PushedManifestAsync(built[0].Pushed, ct);
        (string pushedTwo, IReadOnlyList<string> pushedTwoLayers) = await PushedManifestAsync(built[1].Pushed, ct);
        Assert.Equal(pushedOne, pushedTwo);
        Assert.Equal(built[0].Metadata, pushedOne);
        Assert.Equal(pushedOneLayers, pushedTwoLayers);
        Assert.Equal(oneLayers, pushedOneLayers);
    }

    /// <summary>A context with a few MiB that cross many 1 MiB compression blocks: random bytes, text and base64-like text.</summary>
    private static async Task<string> ContextAsync(TempDirectory temp, CancellationToken ct)
    {
        string context = temp.Combine("context");
        Directory.CreateDirectory(Path.Combine(context, "data"));
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), Dockerfile, ct);
        await File.WriteAllBytesAsync(Path.Combine(context, "data", "random.bin"), RealTars.Bytes(2 * 1024 * 1024 + 333, 11), ct);
        await File.WriteAllTextAsync(Path.Combine(context, "data", "text.txt"),
            string.Concat(Enumerable.Range(0, 40_000).Select(i => $"line {i % 1013}: the layer bytes must not depend on the machine\n")), ct);
        await File.WriteAllTextAsync(Path.Combine(context, "data", "base64.txt"), Convert.ToBase64String(RealTars.Bytes(1_200_000, 12), Base64FormattingOptions.InsertLineBreaks), ct);
        return context;
    }

    /// <summary>The manifest digest in an OCI archive's index.json, and its layers' digests.</summary>
    private static async Task<(string Manifest, IReadOnlyList<string> Layers)> ArchiveManifestAsync(string archive, CancellationToken ct)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        await using (FileStream stream = File.OpenRead(archive))
        {
            using var reader = new TarReader(stream);
            while (await reader.GetNextEntryAsync(cancellationToken: ct) is { } entry)
            {
                if (entry.DataStream is null || entry.Length > 1024 * 1024) { continue; }
                using var buffer = new MemoryStream();
                await entry.DataStream.CopyToAsync(buffer, ct);
                files[entry.Name.TrimStart('.', '/')] = buffer.ToArray();
            }
        }
        using JsonDocument index = JsonDocument.Parse(files["index.json"]);
        string manifest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        return (manifest, Layers(files["blobs/sha256/" + manifest["sha256:".Length..]]));
    }

    /// <summary>The digest registry:2 gives the pushed tag, and the layers of the manifest it serves.</summary>
    private static async Task<(string Manifest, IReadOnlyList<string> Layers)> PushedManifestAsync(string reference, CancellationToken ct)
    {
        int colon = reference.LastIndexOf(':');
        int slash = reference.IndexOf('/', StringComparison.Ordinal);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{reference[..slash]}/v2/{reference[(slash + 1)..colon]}/manifests/{reference[(colon + 1)..]}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.docker.distribution.manifest.v2+json"));
        using HttpResponseMessage response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        return (response.Headers.GetValues("Docker-Content-Digest").Single(), Layers(await response.Content.ReadAsByteArrayAsync(ct)));
    }

    private static List<string> Layers(byte[] manifest)
    {
        using JsonDocument doc = JsonDocument.Parse(manifest);
        return [.. doc.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!)];
    }
}
