using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Dbuild.Oci;
using Dbuild.Registry.Client;
using Dbuild.Runtime;
using Dbuild.Solver;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild build [flags] CONTEXT</c>: buildx's flags, BuildKit's results, no daemon.</summary>
internal static class BuildCommand
{
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };
    private static readonly Option<string[]> BuildArgsOption = new("--build-arg") { Description = "Build-time variable K=V, or K to take it from the environment." };
    private static readonly Option<string?> TargetOption = new("--target") { Description = "Stage to build." };

    public static Command Create()
    {
        Argument<string> context = new("context") { Description = "Build context: a directory, a git URL (#ref:subdir), an http(s) URL of a tar or Dockerfile, or '-' for a tar or Dockerfile on stdin." };
        Option<string[]> tags = new("--tag", "-t") { Description = "Name the result, e.g. registry.example/app:1.2 (repeatable).", AllowMultipleArgumentsPerToken = false };
        Option<string?> file = new("--file", "-f") { Description = "Dockerfile path (default CONTEXT/Dockerfile); '-' reads it from stdin." };
        Option<string[]> buildArgs = BuildArgsOption;
        Option<string?> target = TargetOption;
        Option<bool> push = new("--push") { Description = "Push the tags after building (shorthand for --output type=image,push=true)." };
        Option<string[]> outputs = new("--output", "-o") { Description = "type=image|oci|docker|local|tar[,dest=…][,compression=gzip|zstd|uncompressed][,compression-level=N][,oci-mediatypes=true|false]" };
        Option<bool> noCache = new("--no-cache") { Description = "Do not use the build cache." };
        Option<string[]> noCacheFilter = new("--no-cache-filter") { Description = "Stages not taken from the cache." };
        Option<bool> pull = new("--pull") { Description = "Always resolve base images from their registry." };
        Option<string[]> cacheTo = new("--cache-to") { Description = "Export the build cache: type=registry,ref=REF[,mode=min|max][,compression=gzip|zstd][,ignore-error=true], type=local,dest=DIR, type=inline." };
        Option<string[]> cacheFrom = new("--cache-from") { Description = "Import a build cache: type=registry,ref=REF, type=local,src=DIR, or an image reference (repeatable; the first hit wins)." };
        Option<string[]> labels = new("--label") { Description = "Image label K=V (repeatable)." };
        Option<string[]> secrets = new("--secret") { Description = "id=ID,src=FILE or id=ID,env=VAR for RUN --mount=type=secret." };
        Option<string[]> ssh = new("--ssh") { Description = "default|ID[=SOCKET]: forward an SSH agent socket (default $SSH_AUTH_SOCK) for RUN --mount=type=ssh." };
        Option<string?> iidfile = new("--iidfile") { Description = "Write the image ID to this file." };
        Option<string?> metadataFile = new("--metadata-file") { Description = "Write build metadata (digests, cache misses and why) as JSON." };
        Option<string?> progress = new("--progress") { Description = "auto|plain|tty|quiet|rawjson." };
        Option<bool> quiet = new("--quiet", "-q") { Description = "Print only the image ID." };
        Option<string[]> buildContexts = new("--build-context") { Description = "Extra named context name=DIR or name=docker-image://REF." };
        Option<string[]> platform = new("--platform")
        {
            Description = "Target platform(s), e.g. linux/amd64,linux/arm64 (repeatable; default: this machine's). Several build one image each, exported as one index.",
        };
        Option<bool> check = new("--check") { Description = "Run the build checks and report instead of building." };
        Option<bool> load = new("--load") { Description = "Load the image into the local docker daemon (DOCKER_HOST, else /var/run/docker.sock) after building." };
        Option<string[]> allow = new("--allow") { Description = "Grant an entitlement: network.host (RUN --network=host), security.insecure (RUN --security=insecure). Repeatable." };
        Option<string?> print = new("--print") { Description = "graph|dot: print the build graph after lowering (text, or Graphviz DOT) instead of building; nothing runs." };
        var command = new Command("build", "Build an image from a Dockerfile.")
        {
            context, tags, file, buildArgs, target, push, load, outputs, noCache, noCacheFilter, pull, cacheTo, cacheFrom, labels, secrets, ssh, iidfile, metadataFile, progress, quiet,
            buildContexts, platform, check, print, allow,
        };
        BuildAttestOptions.AddTo(command);
        BuildNetworkOptions.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            string root = GlobalOptions.ResolveRoot(parseResult);
            string contextArg = parseResult.GetRequiredValue(context);
            string? fileArg = parseResult.GetValue(file);
            if (parseResult.GetValue(check))
            {
                return await RunCheckAsync(parseResult, contextArg, fileArg, token);
            }
            IReadOnlySet<string> entitlements = ParseEntitlements(parseResult.GetValue(allow));
            if (contextArg == "-" && fileArg == "-") { throw new UsageException("invalid argument: can't use stdin for both build context and dockerfile"); }
            using HttpClient http = CreateHttpClient();
            using PreparedContext prepared = await BuildContextLoader.PrepareAsync(contextArg, Console.OpenStandardInput, http, token);
            string contextDir = prepared.Directory;
            string dockerfilePath = fileArg is null or "-" ? Path.Combine(contextDir, "Dockerfile")
                : prepared.IsRemote ? Path.Combine(contextDir, fileArg) // docker: -f names a file inside a remote context
                : Path.IsPathRooted(fileArg) || File.Exists(fileArg) ? fileArg : Path.Combine(contextDir, fileArg);
            string dockerfileText = fileArg == "-" ? await Console.In.ReadToEndAsync(token)
                : prepared.DockerfileText is { } given ? given
                : File.Exists(dockerfilePath) ? await File.ReadAllTextAsync(dockerfilePath, token)
                : throw new UsageException($"failed to read dockerfile: open {dockerfilePath}: no such file or directory");
            var outs = (parseResult.GetValue(outputs) ?? []).Select(BuildOutput.Parse).ToList();
            IReadOnlyList<Platform> platforms = ParsePlatforms(parseResult.GetValue(platform));
            if (platforms.Count > 1 && (parseResult.GetValue(load) || outs.Any(o => o.Type == BuildOutputType.Docker)))
            {
                throw new UsageException("docker exporter does not currently support exporting manifest lists; use type=oci, or build one --platform at a time");
            }
            BuildOutput? first = outs.FirstOrDefault(o => o.Compression is not null || o.OciMediaTypes is not null || o.CompressionLevel is not null);
            var request = new BuildRequest
            {
                ContextDirectory = contextDir,
                ContextIsRemote = prepared.IsRemote,
                DockerfileText = dockerfileText,
                DockerfileName = fileArg == "-" || prepared.DockerfileText is not null ? "Dockerfile" : Path.GetFileName(dockerfilePath),
                Tags = [.. (parseResult.GetValue(tags) ?? []).Concat(outs.SelectMany(o => o.Names)).Select(ParseReference).Distinct()],
                BuildArgs = ParsePairs(parseResult.GetValue(buildArgs), "--build-arg", fromEnvironment: true),
                Target = parseResult.GetValue(target),
                Push = parseResult.GetValue(push),
                Outputs = outs,
                NoCache = parseResult.GetValue(noCache),
                NoCacheFilter = parseResult.GetValue(noCacheFilter) ?? [],
                Pull = parseResult.GetValue(pull),
                CacheTo = [.. (parseResult.GetValue(cacheTo) ?? []).Select(Dbuild.Solver.Cache.CacheExport.Parse)],
                CacheFrom = [.. (parseResult.GetValue(cacheFrom) ?? []).Select(Dbuild.Solver.Cache.CacheImport.Parse)],
                Labels = ParsePairs(parseResult.GetValue(labels), "--label", fromEnvironment: false),
                Entitlements = entitlements,
                Secrets = ParseSecrets(parseResult.GetValue(secrets)),
                SshSockets = ParseSsh(parseResult.GetValue(ssh)),
                NamedContexts = ParsePairs(parseResult.GetValue(buildContexts), "--build-context", fromEnvironment: false),
                Platform = platforms.Count == 1 ? platforms[0] : Platform.Current,
                Platforms = platforms.Count > 1 ? platforms : [],
                PlatformRequested = platforms.Count > 0,
                SourceDateEpoch = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH") is { Length: > 0 } epoch
                    ? DateTimeOffset.FromUnixTimeSeconds(long.Parse(epoch, System.Globalization.CultureInfo.InvariantCulture)) : null,
                Compression = first?.Compression ?? LayerCompression.Gzip,
                CompressionLevel = first?.CompressionLevel,
                OciMediaTypes = outs.FirstOrDefault(o => o.Type == BuildOutputType.Image)?.OciMediaTypes ?? false,
            };
            if (request.Push && request.Tags.Count == 0) { throw new UsageException("--push needs at least one --tag."); }
            request = BuildNetworkOptions.Apply(parseResult, request);
            request = request with { Attestations = BuildAttestOptions.Parse(parseResult, request) };
            using ProgressRenderer renderer = ProgressRenderer.Create(parseResult.GetValue(progress), parseResult.GetValue(quiet));
            // --debug: the solver's and runtime's own log (cache keys, snapshots, containers, timings) on stderr.
            using ILoggerFactory logging = parseResult.GetValue(GlobalOptions.Debug)
                ? LoggerFactory.Create(b => b.AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "HH:mm:ss.fff "; })
                    .AddFilter(level => level >= LogLevel.Debug).SetMinimumLevel(LogLevel.Debug))
                : NullLoggerFactory.Instance;
            var builder = new ImageBuilder(new BuilderOptions
            {
                StateRoot = root,
                Registry = CreateRegistryClient(http),
                Http = http,
                Executor = new StepExecutor(new StepExecutorOptions { StateRoot = root }, logging.CreateLogger<StepExecutor>()),
                FileSystem = LinuxLayerFileSystem.Instance,
                Logger = logging.CreateLogger("Dbuild.Solver"),
            });
            if (parseResult.GetValue(print) is { } printed)
            {
                bool dot = printed switch { "graph" => false, "dot" => true, _ => throw new UsageException($"--print '{printed}' is not one of graph, dot.") };
                Console.Write(await builder.PrintGraphAsync(request, dot, token));
                return ExitCodes.Ok;
            }
            var clock = Stopwatch.StartNew();
            BuildResult result;
            try
            {
                result = await builder.BuildAsync(request, renderer, token);
            }
            finally
            {
                renderer.Summary(clock.Elapsed);
            }
            if (parseResult.GetValue(load)) { await BuildLoad.RunAsync(root, request, result, token); }
            if (parseResult.GetValue(quiet) || parseResult.GetValue(progress) == "quiet") { Console.WriteLine(result.ImageId); }
            if (parseResult.GetValue(iidfile) is { } iid) { await File.WriteAllTextAsync(iid, result.ImageId.ToString(), token); }
            if (parseResult.GetValue(metadataFile) is { } meta)
            {
                var metadata = new Dictionary<string, object?>
                {
                    ["containerimage.config.digest"] = result.ImageId.ToString(),
                    ["containerimage.digest"] = result.Manifest.Digest.ToString(),
                    ["image.name"] = string.Join(',', request.Tags.Select(t => t.ToString())),
                    ["dbuild.steps"] = result.Steps.Select(s => new { vertex = s.Vertex, name = s.Name, cached = s.Cached, reason = s.MissReason, seconds = s.Duration.TotalSeconds }),
                };
                // A multi-platform build has no one config: buildx then gives the index digest only.
                if (result.Images.Count > 0) { metadata.Remove("containerimage.config.digest"); }
                await File.WriteAllTextAsync(meta, JsonSerializer.Serialize(metadata, IndentedJson), token);
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static async Task<int> RunCheckAsync(ParseResult parseResult, string contextArg, string? fileArg, CancellationToken token)
    {
        string contextDir = contextArg == "-" ? Directory.GetCurrentDirectory() : contextArg;
        string dockerfile = fileArg is null ? Path.Combine(contextDir, "Dockerfile") : Path.IsPathRooted(fileArg) || File.Exists(fileArg) ? fileArg : Path.Combine(contextDir, fileArg);
        return await BuildChecksReporter.ReportAsync(dockerfile, ParsePairs(parseResult.GetValue(BuildArgsOption), "--build-arg", fromEnvironment: true),
            parseResult.GetValue(TargetOption), Console.Out, token);
    }

    /// <summary>buildx's <c>--platform</c>: comma-separated, repeatable, duplicates dropped; empty for none given.</summary>
    internal static IReadOnlyList<Platform> ParsePlatforms(string[]? values) =>
        [.. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(Platform.Parse).Distinct()];

    internal static Reference ParseReference(string value) =>
        Reference.TryParse(value, out Reference? reference, out string? error) ? reference : throw new UsageException($"invalid reference format '{value}': {error}");

    private static Dictionary<string, string> ParsePairs(string[]? values, string flag, bool fromEnvironment)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string value in values ?? [])
        {
            int eq = value.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0) { result[value[..eq]] = value[(eq + 1)..]; }
            else if (fromEnvironment && Environment.GetEnvironmentVariable(value) is { } env) { result[value] = env; }
            else if (!fromEnvironment) { throw new UsageException($"{flag} '{value}' is not KEY=VALUE."); }
        }
        return result;
    }

    private static IReadOnlySet<string> ParseEntitlements(string[]? values)
    {
        try { return Entitlements.Parse(values ?? []); }
        catch (FormatException ex) { throw new UsageException(ex.Message); }
    }

    private static Dictionary<string, ReadOnlyMemory<byte>> ParseSecrets(string[]? values)
    {
        var result = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        foreach (string value in values ?? [])
        {
            var fields = value.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            string id = fields.GetValueOrDefault("id") ?? throw new UsageException($"--secret '{value}' needs id=.");
            if (fields.TryGetValue("src", out string? src) || fields.TryGetValue("source", out src)) { result[id] = File.ReadAllBytes(src); }
            else if (fields.TryGetValue("env", out string? env)) { result[id] = System.Text.Encoding.UTF8.GetBytes(Environment.GetEnvironmentVariable(env) ?? ""); }
            else { result[id] = System.Text.Encoding.UTF8.GetBytes(Environment.GetEnvironmentVariable(id) ?? ""); }
        }
        return result;
    }

    /// <summary>buildx's <c>--ssh default|ID[=SOCKET]</c>; no socket means $SSH_AUTH_SOCK. Key files (buildx loads them into an agent) are not supported.</summary>
    private static Dictionary<string, string> ParseSsh(string[]? values)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string value in values ?? [])
        {
            int eq = value.IndexOf('=', StringComparison.Ordinal);
            string id = eq < 0 ? value : value[..eq];
            if (id.Length == 0) { throw new UsageException($"--ssh '{value}' needs an id, e.g. default=$SSH_AUTH_SOCK."); }
            string[] paths = eq < 0 ? [] : value[(eq + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries);
            if (paths.Length > 1) { throw new UsageException($"--ssh '{value}': give one agent socket per id (key files are not supported)."); }
            string socket = paths.Length == 1 ? paths[0] : Environment.GetEnvironmentVariable("SSH_AUTH_SOCK") is { Length: > 0 } agent ? agent
                : throw new UsageException($"--ssh {id}: SSH_AUTH_SOCK is not set; start an agent or pass --ssh {id}=SOCKET.");
            result[id] = Path.GetFullPath(socket);
        }
        return result;
    }

    /// <summary>The process's one handler (STYLE.md 6); verbs share it through this factory.</summary>
    internal static HttpClient CreateHttpClient() =>
        new(new RegistryHttpHandler(RegistrySetup.Hosts) { ConnectTimeout = RegistryResilienceSettings.ConnectTimeout }) { Timeout = Timeout.InfiniteTimeSpan };

    internal static string DockerConfigPath() =>
        Path.Combine(Environment.GetEnvironmentVariable("DOCKER_CONFIG") is { Length: > 0 } dir ? dir
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker"), "config.json");

    internal static RegistryClient CreateRegistryClient(HttpClient http) =>
        new(http, RegistryResilienceSettings.Apply(new RegistryClientOptions { Hosts = RegistrySetup.Hosts }), new DockerConfigCredentials(DockerConfigPath()));
}
