using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Dbuild.Oci.Layers;
using FileMode = Dbuild.Dockerfile.FileMode;

using Dbuild.Solver.Cache;

namespace Dbuild.Solver;

/// <summary>What a COPY/ADD asks for, after ARG/ENV expansion.</summary>
internal sealed record CopySpec
{
    public required IReadOnlyList<string> Sources { get; init; }
    public required string Destination { get; init; }
    public (int Uid, int Gid)? Owner { get; init; }
    public string? Chmod { get; init; }
    public IReadOnlyList<string> Excludes { get; init; } = [];
    public bool Parents { get; init; }
    /// <summary>Heredoc sources by name: (content, mode).</summary>
    public IReadOnlyDictionary<string, string> Heredocs { get; init; } = new Dictionary<string, string>();
    public string Keyword { get; init; } = "COPY";
}

/// <summary>The layer a COPY makes and the inputs its cache key covers.</summary>
internal sealed record CopyPlan(IReadOnlyList<LayerEntry> Entries);

/// <summary>
/// Turns a COPY/ADD into layer entries with Docker's rules: a directory source copies its contents, several sources
/// (or a wildcard matching several) need a directory destination ending in '/', a destination that exists as a
/// directory receives files by name, a top-level symlink source is followed, and missing parent directories are
/// created (0755, owned by --chown when given).
/// </summary>
internal static class CopyPlanner
{
    private static readonly DateTimeOffset CreatedDirectoryTime = DateTimeOffset.UnixEpoch;

    public static async Task<CopyPlan> PlanAsync(CopySpec spec, SourceTree source, FsTree destination, string workingDirectory,
        CancellationToken cancellationToken)
    {
        string destinationText = spec.Destination;
        string absolute = destinationText.StartsWith('/') ? destinationText : workingDirectory.TrimEnd('/') + "/" + destinationText;
        bool endsWithSlash = destinationText.EndsWith('/') || destinationText is "." or ".." || destinationText.EndsWith("/.", StringComparison.Ordinal);
        string destRel = destination.Resolve(Clean(absolute));

        (List<SourceFile> matches, List<(string Name, string Content)> heredocs) = Select(spec, source);
        int count = matches.Count + heredocs.Count;
        if (count == 0) { return new CopyPlan([]); } // only empty wildcards: BuildKit copies nothing, not even the destination
        bool destExistsAsDir = destination.IsDirectory(destRel) && destination.Get(destRel) is not null || destRel.Length == 0;
        bool destIsDir = endsWithSlash || destExistsAsDir || (count == 1 && matches.Count == 1 && matches[0].Type == LayerEntryType.Directory);
        if (count > 1 && !endsWithSlash && !destExistsAsDir)
        {
            throw new BuildException($"When using {spec.Keyword} with more than one source file, the destination must be a directory and end with a /");
        }

        var entries = new Dictionary<string, LayerEntry>(StringComparer.Ordinal);
        FileMode? chmod = spec.Chmod is null ? null : ParseFileMode(spec.Chmod);
        int uid = spec.Owner?.Uid ?? -1;
        int gid = spec.Owner?.Gid ?? -1;
        string targetDir = destIsDir ? destRel : FsTree.Parent(destRel);
        AddDirectoryChain(entries, destination, targetDir, spec.Owner);

        var files = new List<(SourceFile File, string Target)>();
        foreach (SourceFile match in matches)
        {
            if (match.Type == LayerEntryType.Directory)
            {
                string root = spec.Parents ? FsTree.Combine(targetDir, KeptParents(match)) : destRel;
                if (spec.Parents) { AddDirectoryChain(entries, destination, root, spec.Owner); }
                foreach (SourceFile child in source.Walk(match.RelativePath))
                {
                    string under = match.RelativePath.Length == 0 ? child.RelativePath : child.RelativePath[(match.RelativePath.Length + 1)..];
                    if (spec.Excludes.Any(x => CopyGlob.Match(Clean(x), under) || CopyGlob.Match(Clean(x), child.RelativePath))) { continue; }
                    files.Add((child, FsTree.Combine(root, under)));
                }
            }
            else
            {
                string target = spec.Parents ? FsTree.Combine(targetDir, KeptParents(match)) : destIsDir ? FsTree.Combine(destRel, Path.GetFileName(match.RelativePath)) : destRel;
                if (spec.Parents) { AddDirectoryChain(entries, destination, FsTree.Parent(target), spec.Owner); }
                files.Add((match, target));
            }
        }

        // Hard-linked source files stay one inode in the layer (BuildKit keeps links within one COPY): the first name
        // holds the data, the others link to it (LayerWriter moves the data to whichever name sorts first).
        // Content names let the layer writer recognise a layer it made before without reading the files again.
        var contentIds = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach ((SourceFile file, _) in files.Where(f => f.File.Type == LayerEntryType.File))
        {
            contentIds[file.RelativePath] = await source.ContentIdAsync(file, cancellationToken).ConfigureAwait(false);
        }
        var linkGroups = new Dictionary<(ulong Device, ulong Inode), string>();
        foreach ((SourceFile file, string target) in files)
        {
            UnixFileMode mode = chmod is null ? file.Mode : (UnixFileMode)chmod.Apply((uint)file.Mode, file.Type == LayerEntryType.Directory);
            int u = uid >= 0 ? uid : file.Uid;
            int g = gid >= 0 ? gid : file.Gid;
            SourceFile captured = file;
            string? linkedTo = null;
            if (file.Type == LayerEntryType.File && file.LinkCount > 1 && file.Inode != 0
                && !linkGroups.TryGetValue((file.Device, file.Inode), out linkedTo))
            {
                linkGroups[(file.Device, file.Inode)] = target;
            }
            entries[target] = linkedTo is not null && linkedTo != target && entries.ContainsKey(linkedTo)
                ? new LayerEntry
                {
                    Path = target, Type = LayerEntryType.HardLink, Mode = mode, Uid = u, Gid = g, LinkTarget = linkedTo, ModificationTime = file.ModificationTime,
                }
                : new LayerEntry
                {
                    Path = target,
                    Type = file.Type,
                    Mode = mode,
                    Uid = u,
                    Gid = g,
                    Size = file.Type == LayerEntryType.File ? file.Size : 0,
                    LinkTarget = file.LinkTarget,
                    ModificationTime = file.ModificationTime,
                    OpenContent = file.Type == LayerEntryType.File ? () => source.OpenContent(captured) : null,
                    ContentId = file.Type == LayerEntryType.File ? contentIds[file.RelativePath] : null,
                    // Unchanged owner and mode: the snapshot's file can be linked instead of copied.
                    LinkSource = file.Type == LayerEntryType.File && mode == file.Mode && u == file.Uid && g == file.Gid ? file.LinkSource : null,
                };
        }
        foreach ((string name, string content) in heredocs)
        {
            string target = destIsDir ? FsTree.Combine(destRel, name) : destRel;
            byte[] bytes = Encoding.UTF8.GetBytes(content);
            UnixFileMode mode = (UnixFileMode)(chmod?.Apply(0b110_100_100, isDirectory: false) ?? 0b110_100_100);
            entries[target] = new LayerEntry
            {
                Path = target,
                Type = LayerEntryType.File,
                Mode = mode,
                Uid = Math.Max(uid, 0),
                Gid = Math.Max(gid, 0),
                Size = bytes.Length,
                ModificationTime = CreatedDirectoryTime,
                OpenContent = () => new MemoryStream(bytes, writable: false),
            };
        }
        return new CopyPlan([.. entries.Values]);
    }

    private static (List<SourceFile> Matches, List<(string Name, string Content)> Heredocs) Select(CopySpec spec, SourceTree source)
    {
        var matches = new List<SourceFile>();
        var heredocs = new List<(string Name, string Content)>();
        foreach (string raw in spec.Sources)
        {
            if (raw.StartsWith("<<", StringComparison.Ordinal) && spec.Heredocs.TryGetValue(raw.TrimStart('<').TrimStart('-').Trim('"', '\''), out string? content))
            {
                heredocs.Add((raw.TrimStart('<').TrimStart('-').Trim('"', '\''), content));
                continue;
            }
            string rel = Clean(raw);
            // --parents keeps the directories after a "/./" pivot (src/./app/l.txt → DEST/app/l.txt), all of them without one.
            int pivot = spec.Parents ? raw.IndexOf("/./", StringComparison.Ordinal) : -1;
            string parentsBase = pivot >= 0 ? Clean(raw[..pivot]) : "";
            if (CopyGlob.HasWildcard(rel))
            {
                // A wildcard may match nothing (BuildKit copies nothing for it); matched symlinks are followed like named sources.
                matches.AddRange(source.AllPaths().Where(p => CopyGlob.Match(rel, p)).Select(source.Stat).OfType<SourceFile>()
                    .Select(f => Follow(source, f) with { ParentsBase = parentsBase }));
            }
            else
            {
                SourceFile file = source.Stat(rel) ?? throw new BuildException(
                    $"{spec.Keyword} failed: file not found in build {source.Description}: stat {raw}: file does not exist" +
                    (source is ContextTree ? " (or excluded by .dockerignore)." : "."));
                matches.Add(Follow(source, file) with { ParentsBase = parentsBase });
            }
        }
        // --exclude drops named and matched sources too, not only files found below a directory.
        matches.RemoveAll(m => spec.Excludes.Any(x => CopyGlob.Match(Clean(x), m.RelativePath) || CopyGlob.Match(Clean(x), Path.GetFileName(m.RelativePath))));
        return (matches, heredocs);
    }

    /// <summary>
    /// The cache-key inputs of a COPY from the context without planning targets: every selected file's path, type,
    /// mode, size, content hash and link target (targets follow from the instruction and the parent key).
    /// </summary>
    public static async Task<IReadOnlyList<KeyComponent>> KeyComponentsAsync(CopySpec spec, SourceTree source, CancellationToken cancellationToken)
    {
        (List<SourceFile> matches, List<(string Name, string Content)> heredocs) = Select(spec, source);
        var files = new List<SourceFile>();
        foreach (SourceFile match in matches)
        {
            files.Add(match);
            if (match.Type != LayerEntryType.Directory) { continue; }
            foreach (SourceFile child in source.Walk(match.RelativePath))
            {
                string under = match.RelativePath.Length == 0 ? child.RelativePath : child.RelativePath[(match.RelativePath.Length + 1)..];
                if (spec.Excludes.Any(x => CopyGlob.Match(Clean(x), under) || CopyGlob.Match(Clean(x), child.RelativePath))) { continue; }
                files.Add(child);
            }
        }
        // Hard links survive into the layer (one inode per group), so the key names each file's group by its first
        // path: linking two files, or breaking a link, changes the layer and must change the key.
        var groups = new Dictionary<(ulong Device, ulong Inode), string>();
        foreach (SourceFile file in files.DistinctBy(f => f.RelativePath).OrderBy(f => f.RelativePath, StringComparer.Ordinal))
        {
            if (file.Type == LayerEntryType.File && file.LinkCount > 1 && file.Inode != 0) { groups.TryAdd((file.Device, file.Inode), file.RelativePath); }
        }
        var components = new ConcurrentBag<KeyComponent>();
        await Parallel.ForEachAsync(files.DistinctBy(f => f.RelativePath), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            async (file, token) =>
            {
                string content = file.Type switch
                {
                    LayerEntryType.File => await source.HashAsync(file, token).ConfigureAwait(false),
                    LayerEntryType.Symlink => "link:" + file.LinkTarget,
                    _ => "",
                };
                string linkGroup = file.Type == LayerEntryType.File && groups.TryGetValue((file.Device, file.Inode), out string? first) ? "|hardlink:" + first : "";
                components.Add(new KeyComponent("file " + file.RelativePath,
                    string.Create(CultureInfo.InvariantCulture, $"{file.Type}|{Convert.ToString((int)file.Mode, 8)}|{file.Uid}:{file.Gid}|{file.Size}|{content}{linkGroup}")));
            }).ConfigureAwait(false);
        foreach ((string name, string content) in heredocs) { components.Add(new KeyComponent("heredoc " + name, Oci.Digest.Compute(Encoding.UTF8.GetBytes(content)).ToString())); }
        return [.. components.OrderBy(c => c.Name, StringComparer.Ordinal)];
    }

    /// <summary>The source path --parents recreates under the destination: its path after the "/./" pivot, if any.</summary>
    private static string KeptParents(SourceFile match) =>
        match.ParentsBase.Length == 0 ? match.RelativePath
        : match.RelativePath == match.ParentsBase ? ""
        : match.RelativePath.StartsWith(match.ParentsBase + "/", StringComparison.Ordinal) ? match.RelativePath[(match.ParentsBase.Length + 1)..]
        : match.RelativePath;

    private static SourceFile Follow(SourceTree source, SourceFile file)
    {
        for (int hops = 0; file.Type == LayerEntryType.Symlink && file.LinkTarget is { } target && hops < 40; hops++)
        {
            string next = target.StartsWith('/') ? Clean(target) : Clean(FsTree.Combine(FsTree.Parent(file.RelativePath), target));
            SourceFile? resolved = source.Stat(next);
            if (resolved is null) { break; }
            file = resolved with { RelativePath = file.RelativePath };
            if (resolved.Type == LayerEntryType.Directory) { return resolved; }
        }
        return file;
    }

    private static void AddDirectoryChain(Dictionary<string, LayerEntry> entries, FsTree destination, string dir, (int Uid, int Gid)? owner)
    {
        if (dir.Length == 0) { return; }
        string[] parts = dir.Split('/');
        for (int i = 0; i < parts.Length; i++)
        {
            string path = string.Join('/', parts[..(i + 1)]);
            bool last = i == parts.Length - 1;
            FsNode? existing = destination.Get(path);
            if (existing is not null)
            {
                if (last && !entries.ContainsKey(path))
                {
                    entries[path] = new LayerEntry
                    {
                        Path = path, Type = LayerEntryType.Directory, Mode = existing.Mode, Uid = existing.Uid, Gid = existing.Gid, ModificationTime = CreatedDirectoryTime,
                    };
                }
                continue;
            }
            if (!entries.ContainsKey(path))
            {
                entries[path] = new LayerEntry
                {
                    Path = path,
                    Type = LayerEntryType.Directory,
                    Mode = (UnixFileMode)0b111_101_101,
                    Uid = owner?.Uid ?? 0, // BuildKit gives every directory it creates the --chown owner
                    Gid = owner?.Gid ?? 0,
                    ModificationTime = CreatedDirectoryTime,
                };
            }
        }
    }

    /// <summary>Cleans a path to a slash-separated relative form without '.', '..' or a leading '/'.</summary>
    public static string Clean(string path)
    {
        var parts = new List<string>();
        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") { continue; }
            if (part == "..") { if (parts.Count > 0) { parts.RemoveAt(parts.Count - 1); } continue; }
            parts.Add(part);
        }
        return string.Join('/', parts);
    }

    /// <summary>Octal (<c>755</c>, <c>0640</c>) or symbolic (<c>u+x,go-w</c>) modes, as applied to a 0644 file.</summary>
    public static UnixFileMode ParseChmod(string value) => (UnixFileMode)ParseFileMode(value).Apply(0b110_100_100, isDirectory: false);

    /// <summary>A <c>--chmod</c> value; symbolic modes (with chmod(1)'s <c>X</c>) apply to each copied file's own mode.</summary>
    private static FileMode ParseFileMode(string value) =>
        FileMode.TryParse(value, out FileMode? mode) ? mode : throw new BuildException($"--chmod={value} is not an octal or symbolic mode.");
}

/// <summary>COPY source wildcards, like Go's filepath.Match: <c>*</c> <c>?</c> <c>[…]</c> within one path segment.</summary>
internal static class CopyGlob
{
    /// <summary>True when <paramref name="path"/> (slash-separated, relative) matches the cleaned <paramref name="pattern"/>.</summary>
    public static bool Match(string pattern, string path) => Regex.IsMatch(path, ToRegex(pattern), RegexOptions.CultureInvariant);

    public static bool HasWildcard(string path) => path.AsSpan().IndexOfAny("*?[") >= 0;

    private static string ToRegex(string pattern)
    {
        var sb = new StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '*')
            {
                if (i + 1 < pattern.Length && pattern[i + 1] == '*')
                {
                    i++;
                    if (i + 1 < pattern.Length && pattern[i + 1] == '/') { i++; sb.Append("(.*/)?"); }
                    else { sb.Append(".*"); }
                }
                else { sb.Append("[^/]*"); }
            }
            else if (c == '?') { sb.Append("[^/]"); }
            else if (c == '[')
            {
                int end = pattern.IndexOf(']', i + 1);
                if (end < 0) { sb.Append(@"\["); continue; }
                string set = pattern[(i + 1)..end];
                if (set.StartsWith('^') || set.StartsWith('!')) { set = "^" + set[1..]; }
                sb.Append('[').Append(set.Replace(@"\", @"\\", StringComparison.Ordinal)).Append(']');
                i = end;
            }
            else if (c == '\\' && i + 1 < pattern.Length) { sb.Append(Regex.Escape(pattern[++i].ToString())); }
            else { sb.Append(Regex.Escape(c.ToString())); }
        }
        return sb.Append('$').ToString();
    }
}

/// <summary>A build failed for a reason the user can fix (bad source, missing stage, step error).</summary>
public sealed class BuildException(string message, Exception? innerException = null) : Exception(message, innerException);
