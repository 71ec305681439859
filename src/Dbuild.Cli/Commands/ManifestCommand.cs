using System.CommandLine;
using System.Text.Json;
using Dbuild.Cli.Manifests;
using Dbuild.Oci;
using Dbuild.Solver;
using Dbuild.Registry.Client;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild manifest create/annotate/push/rm/inspect</c>, as docker's: a list is made locally from images already in
/// a registry, annotated, then pushed as a Docker manifest list (an OCI index when any image is OCI).
/// </summary>
internal static class ManifestCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create() => new("manifest", "Manage Docker image manifests and manifest lists.")
    {
        CreateCommand(), AnnotateCommand(), PushCommand(), RemoveCommand(), InspectCommand(),
    };

    private static Option<bool> InsecureOption() => new("--insecure") { Description = "Allow communication with an insecure registry." };

    private static Command CreateCommand()
    {
        Argument<string> list = new("MANIFEST_LIST") { Description = "The list to create, e.g. 127.0.0.1:5000/app:1." };
        Argument<string[]> images = new("MANIFEST") { Description = "Images in a registry to list.", Arity = ArgumentArity.OneOrMore };
        Option<bool> amend = new("--amend", "-a") { Description = "Amend an existing manifest list." };
        Option<bool> insecure = InsecureOption();
        var command = new Command("create", "Create a local manifest list for annotating and pushing to a registry.") { list, images, amend, insecure };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            Reference target = BuildCommand.ParseReference(parseResult.GetRequiredValue(list));
            Reference[] sources = [.. parseResult.GetRequiredValue(images).Select(BuildCommand.ParseReference)];
            var store = new LocalManifestLists(GlobalOptions.ResolveRoot(parseResult));
            if (store.Exists(target) && !parseResult.GetValue(amend)) { throw new BuildException("refusing to amend an existing manifest list with no --amend flag"); }
            if (sources.FirstOrDefault(s => s.Registry != target.Registry) is { } foreign)
            {
                throw new UsageException($"cannot use source images from a different registry than the target image: {foreign.Registry} != {target.Registry}");
            }
            if (parseResult.GetValue(insecure)) { RegistrySetup.Hosts.AllowInsecure(target.Registry); }
            using HttpClient http = BuildCommand.CreateHttpClient();
            var remote = new RemoteImages(BuildCommand.CreateRegistryClient(http));
            foreach (Reference source in sources) { store.Write(target, await remote.FetchImageAsync(source, token)); }
            Console.WriteLine($"Created manifest list {target}");
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static Command AnnotateCommand()
    {
        Argument<string> list = new("MANIFEST_LIST") { Description = "The local list." };
        Argument<string> image = new("MANIFEST") { Description = "The image of the list to annotate." };
        Option<string?> os = new("--os") { Description = "Set operating system." };
        Option<string?> arch = new("--arch") { Description = "Set architecture." };
        Option<string?> variant = new("--variant") { Description = "Set architecture variant." };
        Option<string?> osVersion = new("--os-version") { Description = "Set operating system version." };
        Option<string[]> osFeatures = new("--os-features") { Description = "Set operating system feature (comma separated).", AllowMultipleArgumentsPerToken = false };
        var command = new Command("annotate", "Add additional information to a local image manifest.") { list, image, os, arch, variant, osVersion, osFeatures };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, _ =>
        {
            Reference target = BuildCommand.ParseReference(parseResult.GetRequiredValue(list));
            Reference source = BuildCommand.ParseReference(parseResult.GetRequiredValue(image));
            var store = new LocalManifestLists(GlobalOptions.ResolveRoot(parseResult));
            ManifestListEntry entry = store.Read(target).FirstOrDefault(e => e.Source == source)
                ?? throw new BuildException($"manifest for image {source} does not exist in {target}");
            ListPlatform platform = entry.Platform;
            if (parseResult.GetValue(os) is { } o) { platform = platform with { Os = o }; }
            if (parseResult.GetValue(arch) is { } a) { platform = platform with { Architecture = a }; }
            if (parseResult.GetValue(variant) is { } v) { platform = platform with { Variant = v }; }
            if (parseResult.GetValue(osVersion) is { } version) { platform = platform with { OsVersion = version }; }
            if (parseResult.GetValue(osFeatures) is { Length: > 0 } features)
            {
                platform = platform with { OsFeatures = [.. features.SelectMany(f => f.Split(',', StringSplitOptions.RemoveEmptyEntries))] };
            }
            if (!ValidPlatforms.IsValid(platform.Os, platform.Architecture))
            {
                throw new UsageException($"manifest entry for image has unsupported os/arch combination: {platform.Os}/{platform.Architecture}");
            }
            store.Write(target, entry with { Platform = platform });
            return Task.FromResult(ExitCodes.Ok);
        }, cancellationToken));
        return command;
    }

    private static Command PushCommand()
    {
        Argument<string> list = new("MANIFEST_LIST") { Description = "The local list to push." };
        Option<bool> purge = new("--purge", "-p") { Description = "Remove the local manifest list after push." };
        Option<bool> insecure = InsecureOption();
        var command = new Command("push", "Push a manifest list to a repository.") { list, purge, insecure };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            Reference target = BuildCommand.ParseReference(parseResult.GetRequiredValue(list));
            var store = new LocalManifestLists(GlobalOptions.ResolveRoot(parseResult));
            IReadOnlyList<ManifestListEntry> entries = store.Read(target);
            if (parseResult.GetValue(insecure)) { RegistrySetup.Hosts.AllowInsecure(target.Registry); }
            using HttpClient http = BuildCommand.CreateHttpClient();
            RegistryClient client = BuildCommand.CreateRegistryClient(http);
            var remote = new RemoteImages(client);
            foreach (ManifestListEntry entry in entries)
            {
                if (await remote.CopyManifestAsync(entry.Source, entry.MediaType, entry.Raw, target, token))
                {
                    Console.WriteLine($"Pushed ref {target.Name}@{entry.Digest} with digest: {entry.Digest}");
                }
            }
            (string mediaType, byte[] content) = ManifestListJson.Write(entries);
            Digest digest = await client.PushManifestAsync(target.Registry, target.Repository, target.ManifestReference, new ManifestUpload(mediaType, content), token);
            Console.WriteLine(digest);
            if (parseResult.GetValue(purge)) { store.Remove(target); }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static Command RemoveCommand()
    {
        Argument<string[]> lists = new("MANIFEST_LIST") { Description = "Local lists to delete.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("rm", "Delete one or more manifest lists from local storage.") { lists };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, _ =>
        {
            var store = new LocalManifestLists(GlobalOptions.ResolveRoot(parseResult));
            Reference[] names = [.. parseResult.GetRequiredValue(lists).Select(BuildCommand.ParseReference)];
            Reference[] missing = [.. names.Where(n => !store.Remove(n))];
            return missing.Length == 0 ? Task.FromResult(ExitCodes.Ok) : throw new BuildException(string.Join("; ", missing.Select(m => $"No such manifest: {m}")));
        }, cancellationToken));
        return command;
    }

    private static Command InspectCommand()
    {
        Argument<string> reference = new("reference") { Description = "A local manifest list or an image reference, e.g. 127.0.0.1:5000/app:1." };
        Option<bool> verbose = new("--verbose", "-v") { Description = "Output additional info including layers and platform." };
        Option<bool> insecure = InsecureOption();
        var inspect = new Command("inspect", "Display an image manifest, or manifest list: a local one, else the registry's.") { reference, verbose, insecure };
        inspect.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            Reference r = BuildCommand.ParseReference(parseResult.GetRequiredValue(reference));
            var store = new LocalManifestLists(GlobalOptions.ResolveRoot(parseResult));
            if (store.Exists(r))
            {
                IReadOnlyList<ManifestListEntry> entries = store.Read(r);
                Console.WriteLine(parseResult.GetValue(verbose) ? Verbose(entries) : System.Text.Encoding.UTF8.GetString(ManifestListJson.Write(entries).Content));
                return ExitCodes.Ok;
            }
            if (parseResult.GetValue(insecure)) { RegistrySetup.Hosts.AllowInsecure(r.Registry); }
            using HttpClient http = BuildCommand.CreateHttpClient();
            ManifestResponse manifest = await BuildCommand.CreateRegistryClient(http).GetManifestAsync(r.Registry, r.Repository, r.ManifestReference, token);
            using JsonDocument document = JsonDocument.Parse(manifest.Content);
            Console.WriteLine(JsonSerializer.Serialize(document.RootElement, Indented));
            Console.Error.WriteLine($"{manifest.MediaType} {manifest.Digest} ({manifest.Size} bytes)");
            return ExitCodes.Ok;
        }, cancellationToken));
        return inspect;
    }

    /// <summary>docker's <c>--verbose</c> shape: per image its reference, descriptor with platform, and manifest.</summary>
    private static string Verbose(IReadOnlyList<ManifestListEntry> entries)
    {
        var array = new System.Text.Json.Nodes.JsonArray();
        foreach (ManifestListEntry entry in entries)
        {
            var platform = new System.Text.Json.Nodes.JsonObject { ["architecture"] = entry.Platform.Architecture, ["os"] = entry.Platform.Os };
            if (entry.Platform.OsVersion is { Length: > 0 } version) { platform["os.version"] = version; }
            if (entry.Platform.OsFeatures.Count > 0) { platform["os.features"] = new System.Text.Json.Nodes.JsonArray([.. entry.Platform.OsFeatures.Select(f => System.Text.Json.Nodes.JsonValue.Create(f))]); }
            if (entry.Platform.Variant is { Length: > 0 } variant) { platform["variant"] = variant; }
            array.Add(new System.Text.Json.Nodes.JsonObject
            {
                ["Ref"] = entry.Source.ToString(),
                ["Descriptor"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["mediaType"] = entry.MediaType, ["digest"] = entry.Digest.ToString(), ["size"] = entry.Size, ["platform"] = platform,
                },
                [entry.MediaType == MediaTypes.OciManifest ? "OCIManifest" : "SchemaV2Manifest"] = System.Text.Json.Nodes.JsonNode.Parse(entry.Raw),
            });
        }
        return array.ToJsonString(Indented);
    }
}
