using Dbuild.Oci;
using Dbuild.Solver.Attestations;

namespace Dbuild.Solver;

/// <summary>Everything one <c>dbuild build</c> needs, parsed and validated by the CLI.</summary>
public sealed record BuildRequest
{
    /// <summary>The context directory (a stdin tar is unpacked to a directory first).</summary>
    public required string ContextDirectory { get; init; }

    /// <summary>
    /// The context was fetched or unpacked (git, URL, stdin tar) into a throwaway directory: as in BuildKit, its
    /// .dockerignore does not apply (docker 20.10 sends such a context whole), and its file hashes are not kept.
    /// </summary>
    public bool ContextIsRemote { get; init; }

    /// <summary>The Dockerfile text (read from <c>-f</c>, stdin or CONTEXT/Dockerfile).</summary>
    public required string DockerfileText { get; init; }

    /// <summary>Shown in errors and progress.</summary>
    public string DockerfileName { get; init; } = "Dockerfile";

    /// <summary>Image names to tag (and push with <see cref="Push"/>).</summary>
    public IReadOnlyList<Reference> Tags { get; init; } = [];

    /// <summary><c>--build-arg</c> values.</summary>
    public IReadOnlyDictionary<string, string> BuildArgs { get; init; } = new Dictionary<string, string>();

    /// <summary>The stage to build; the last one when null.</summary>
    public string? Target { get; init; }

    /// <summary>Push the tags after building.</summary>
    public bool Push { get; init; }

    /// <summary>Where results go besides the local store.</summary>
    public IReadOnlyList<BuildOutput> Outputs { get; init; } = [];

    /// <summary>Ignore the build cache entirely.</summary>
    public bool NoCache { get; init; }

    /// <summary>Stages never taken from the cache.</summary>
    public IReadOnlyList<string> NoCacheFilter { get; init; } = [];

    /// <summary><c>--cache-from</c>: caches consulted after the local one, in order (the first hit wins).</summary>
    public IReadOnlyList<Cache.CacheImport> CacheFrom { get; init; } = [];

    /// <summary><c>--cache-to</c>: where the build's step results are exported after the image.</summary>
    public IReadOnlyList<Cache.CacheExport> CacheTo { get; init; } = [];

    /// <summary>Always resolve base images from their registry, even when the local store has them.</summary>
    public bool Pull { get; init; }

    /// <summary><c>--label</c> values added to the final image.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary><c>--allow</c>: the granted <see cref="Entitlements"/> (<c>network.host</c>, <c>security.insecure</c>).</summary>
    public IReadOnlySet<string> Entitlements { get; init; } = new HashSet<string>();

    /// <summary>Secrets by id for RUN --mount=type=secret.</summary>
    public IReadOnlyDictionary<string, ReadOnlyMemory<byte>> Secrets { get; init; } = new Dictionary<string, ReadOnlyMemory<byte>>();

    /// <summary>SSH agent sockets by id (<c>--ssh default=$SSH_AUTH_SOCK</c>) for RUN --mount=type=ssh.</summary>
    public IReadOnlyDictionary<string, string> SshSockets { get; init; } = new Dictionary<string, string>();

    /// <summary>Named contexts (<c>--build-context name=dir|docker-image://ref</c>).</summary>
    public IReadOnlyDictionary<string, string> NamedContexts { get; init; } = new Dictionary<string, string>();

    /// <summary>The platform built for (TARGETPLATFORM); ignored when <see cref="Platforms"/> names more than one.</summary>
    public Platform Platform { get; init; } = Platform.Current;

    /// <summary>
    /// <see cref="Platform"/> was asked for (buildx <c>--platform</c>) rather than defaulted to this machine's: the image
    /// config then names that platform whatever a single-platform base image said, as BuildKit does; otherwise it keeps
    /// the base image's platform. A platform other than this machine's counts as asked for either way.
    /// </summary>
    public bool PlatformRequested { get; init; }

    /// <summary>
    /// <c>--platform a,b</c>: with two or more, the Dockerfile is built once per platform and the images are exported under
    /// one index (a Docker manifest list, or an OCI index with <see cref="OciMediaTypes"/>), as buildx does. Empty, or a
    /// single entry, builds one image for <see cref="Platform"/> (or that entry).
    /// </summary>
    public IReadOnlyList<Platform> Platforms { get; init; } = [];

    /// <summary>SOURCE_DATE_EPOCH: clamps timestamps in layers, config and history for reproducible images.</summary>
    public DateTimeOffset? SourceDateEpoch { get; init; }

    /// <summary>Provenance and SBOM attached to the image as OCI referrers (<c>--provenance</c>, <c>--sbom</c>, <c>--attest</c>).</summary>
    public AttestationRequest Attestations { get; init; } = AttestationRequest.None;

    /// <summary>Layer compression for new layers.</summary>
    public LayerCompression Compression { get; init; } = LayerCompression.Gzip;

    /// <summary>Compression level; null for the codec default.</summary>
    public int? CompressionLevel { get; init; }

    /// <summary>Use OCI media types instead of Docker schema 2.</summary>
    public bool OciMediaTypes { get; init; }

    /// <summary>True when the image goes to a registry (<c>--push</c> or <c>type=image,push=true</c>).</summary>
    public bool PushesImage => Push || Outputs.Any(o => o.Type == BuildOutputType.Image && o.Push);

    /// <summary>
    /// Steps run at once; defaults to the core count, and at least 2: a step mostly waits (on a download, a compiler
    /// in another process, a sleep), so one core still runs two side by side. Never changes what a build produces.
    /// </summary>
    public int MaxParallelism { get; init; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary><c>--network</c>: default, none or host; the network of RUN steps that name none (part of their cache key).</summary>
    public string DefaultNetwork { get; init; } = "default";

    /// <summary><c>--add-host</c>: host name to address, written to /etc/hosts in every RUN after the localhost lines (part of the cache key).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ExtraHosts { get; init; } = [];
}

/// <summary>The kinds of <c>--output</c>.</summary>
public enum BuildOutputType
{
    /// <summary>The local store (and a registry with push=true).</summary>
    Image,
    /// <summary>An OCI image layout tar.</summary>
    Oci,
    /// <summary>A <c>docker load</c> tar.</summary>
    Docker,
    /// <summary>The final filesystem in a directory.</summary>
    Local,
    /// <summary>The final filesystem as a tar.</summary>
    Tar,
}

/// <summary>One parsed <c>--output</c>.</summary>
public sealed record BuildOutput(BuildOutputType Type, string? Destination)
{
    /// <summary>push=true on type=image.</summary>
    public bool Push { get; init; }

    /// <summary>Overrides the request's compression.</summary>
    public LayerCompression? Compression { get; init; }

    /// <summary>Overrides the request's compression level.</summary>
    public int? CompressionLevel { get; init; }

    /// <summary>Overrides the request's media types.</summary>
    public bool? OciMediaTypes { get; init; }

    /// <summary>Image names for this output (type=image,name=…).</summary>
    public IReadOnlyList<string> Names { get; init; } = [];

    /// <summary>type=local of a multi-platform build: one subdirectory per platform (<c>linux_amd64/</c>…); true unless platform-split=false.</summary>
    public bool PlatformSplit { get; init; } = true;

    /// <summary>Parses buildx's <c>type=oci,dest=x.tar,compression=zstd</c> (a bare path means type=local,dest=PATH).</summary>
    public static BuildOutput Parse(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        if (!value.Contains('=', StringComparison.Ordinal)) { return value == "-" ? new BuildOutput(BuildOutputType.Tar, "-") : new BuildOutput(BuildOutputType.Local, value); }
        BuildOutputType? type = null;
        string? dest = null;
        bool push = false;
        LayerCompression? compression = null;
        int? level = null;
        bool? oci = null;
        bool split = true;
        var names = new List<string>();
        foreach (string part in value.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string key = (eq < 0 ? part : part[..eq]).Trim().ToLowerInvariant();
            string v = eq < 0 ? "true" : part[(eq + 1)..].Trim();
            switch (key)
            {
                case "type":
                    type = v.ToLowerInvariant() switch
                    {
                        "image" or "registry" => BuildOutputType.Image,
                        "oci" => BuildOutputType.Oci,
                        "docker" => BuildOutputType.Docker,
                        "local" => BuildOutputType.Local,
                        "tar" => BuildOutputType.Tar,
                        _ => throw new FormatException($"--output type '{v}' is not one of image, registry, oci, docker, local, tar."),
                    };
                    if (v.Equals("registry", StringComparison.OrdinalIgnoreCase)) { push = true; }
                    break;
                case "dest": dest = v; break;
                case "push": push = FlagValues.Bool("--output", key, v); break;
                case "name": names.AddRange(v.Split(';', StringSplitOptions.RemoveEmptyEntries)); break;
                case "compression": compression = FlagValues.Compression("--output", v); break;
                case "compression-level":
                    level = int.TryParse(v, System.Globalization.CultureInfo.InvariantCulture, out int n) ? n : throw new FormatException($"--output compression-level '{v}' is not a number.");
                    break;
                case "oci-mediatypes": oci = FlagValues.Bool("--output", key, v); break;
                case "platform-split": split = FlagValues.Bool("--output", key, v); break;
                case "force-compression" or "store" or "unpack" or "annotation": break; // accepted, no effect here
                default: throw new FormatException($"--output attribute '{key}' is not known (type, dest, name, push, compression, compression-level, oci-mediatypes, platform-split).");
            }
        }
        BuildOutputType t = type ?? throw new FormatException($"--output '{value}' needs type=image|oci|docker|local|tar.");
        if (t is BuildOutputType.Oci or BuildOutputType.Docker or BuildOutputType.Local or BuildOutputType.Tar && dest is null && t is not BuildOutputType.Docker)
        {
            throw new FormatException($"--output type={t.ToString().ToLowerInvariant()} needs dest=PATH.");
        }
        return new BuildOutput(t, dest) { Push = push, Compression = compression, CompressionLevel = level, OciMediaTypes = oci, Names = names, PlatformSplit = split };
    }
}

/// <summary>What a build produced.</summary>
public sealed record BuildResult
{
    /// <summary>The image config digest (the image ID); for a multi-platform build, the index digest (buildx's iidfile).</summary>
    public required Digest ImageId { get; init; }

    /// <summary>The image manifest; for a multi-platform build, the index (manifest list).</summary>
    public required Descriptor Manifest { get; init; }

    /// <summary>A multi-platform build's images, in <c>--platform</c> order; empty for a single-platform build.</summary>
    public IReadOnlyList<PlatformImage> Images { get; init; } = [];

    /// <summary>Digest pushed under each tag, when pushed.</summary>
    public IReadOnlyDictionary<string, Digest> Pushed { get; init; } = new Dictionary<string, Digest>();

    /// <summary>Per step, in Dockerfile order (stages in the order lowering met them): cached or not, and why not.</summary>
    public IReadOnlyList<StepReport> Steps { get; init; } = [];
}

/// <summary>One platform's image in a multi-platform build: its manifest (with its platform) and config digest.</summary>
public sealed record PlatformImage(Platform Platform, Descriptor Manifest, Digest ConfigDigest);

/// <summary>The outcome of one step, for <c>--metadata-file</c>.</summary>
public sealed record StepReport(int Vertex, string Name, bool Cached, string? MissReason, TimeSpan Duration);
