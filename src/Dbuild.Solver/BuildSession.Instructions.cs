using System.Globalization;
using Dbuild.Oci;
using Dbuild.Oci.Layers;

namespace Dbuild.Solver;

internal sealed partial class BuildSession
{
    private async Task<string?> DispatchAsync(StagePlan stage, StageState state, Instruction i, string name, Digest stepId, string? pendingReason,
        CancellationToken cancellationToken)
    {
        switch (i.Keyword)
        {
            case "env":
                {
                    var parts = new List<string>();
                    Dictionary<string, string> before = state.ExpansionEnvironment(); // every word sees the values from before this ENV
                    for (int k = 0; k + 1 < i.Args.Count; k += 3) // the parser gives (key, value, separator) triples
                    {
                        string key = _lexer.ProcessWord(i.Args[k], before);
                        string value = _lexer.ProcessWord(i.Args[k + 1], before);
                        state.SetEnv(key, value);
                        parts.Add($"{key}={value}");
                    }
                    AddHistory(state, "ENV " + string.Join(' ', parts));
                    return pendingReason;
                }
            case "arg":
                foreach (string word in i.Args)
                {
                    int eq = word.IndexOf('=', StringComparison.Ordinal);
                    string argName = eq < 0 ? word : word[..eq];
                    string? value = _request.BuildArgs.TryGetValue(argName, out string? given) ? given
                        : eq >= 0 ? Expand(word[(eq + 1)..], state)
                        : _metaArgs.TryGetValue(argName, out string? meta) ? meta : null;
                    state.Args.RemoveAll(a => a.Key == argName);
                    state.Args.Add(new(argName, value));
                }
                AddHistory(state, "ARG " + string.Join(' ', i.Args));
                return pendingReason;
            case "label":
                {
                    var parts = new List<string>();
                    Dictionary<string, string> before = state.ExpansionEnvironment();
                    for (int k = 0; k + 1 < i.Args.Count; k += 3)
                    {
                        string key = _lexer.ProcessWord(i.Args[k], before);
                        string value = _lexer.ProcessWord(i.Args[k + 1], before);
                        state.Labels[key] = value;
                        parts.Add($"{key}={value}");
                    }
                    AddHistory(state, "LABEL " + string.Join(' ', parts));
                    return pendingReason;
                }
            case "user":
                state.User = Expand(i.Args[0], state);
                AddHistory(state, "USER " + state.User);
                return pendingReason;
            case "expose":
                {
                    var ports = new SortedSet<string>(StringComparer.Ordinal);
                    foreach (string raw in i.Args)
                    {
                        foreach (string word in _lexer.ProcessWords(raw, state.ExpansionEnvironment()))
                        {
                            string spec = word.Contains('/', StringComparison.Ordinal) ? word.ToLowerInvariant() : word + "/tcp";
                            string proto = spec[(spec.IndexOf('/', StringComparison.Ordinal) + 1)..];
                            string range = spec[..spec.IndexOf('/', StringComparison.Ordinal)];
                            int dash = range.IndexOf('-', StringComparison.Ordinal);
                            IEnumerable<string> expanded = dash > 0
                                && int.TryParse(range[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int low)
                                && int.TryParse(range[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int high) && high >= low
                                ? Enumerable.Range(low, high - low + 1).Select(p => $"{p.ToString(CultureInfo.InvariantCulture)}/{proto}") // 8000-8002/tcp: one port each, as BuildKit
                                : [spec];
                            foreach (string port in expanded)
                            {
                                ports.Add(port);
                                state.ExposedPorts[port] = EmptyObject.Instance;
                            }
                        }
                    }
                    AddHistory(state, "EXPOSE map[" + string.Join(' ', ports.Select(p => p + ":{}")) + "]");
                    return pendingReason;
                }
            case "volume":
                {
                    var volumes = i.Args.Select(a => Expand(a, state)).Where(v => v.Length > 0).ToList();
                    foreach (string v in volumes) { state.Volumes[v] = EmptyObject.Instance; }
                    AddHistory(state, "VOLUME " + GoSlice(volumes));
                    return pendingReason;
                }
            case "stopsignal":
                state.StopSignal = Expand(i.Args[0], state);
                AddHistory(state, "STOPSIGNAL " + state.StopSignal);
                return pendingReason;
            case "maintainer":
                state.Author = string.Join(' ', i.Args);
                AddHistory(state, "MAINTAINER " + state.Author);
                return pendingReason;
            case "shell":
                state.Shell = [.. i.Args];
                AddHistory(state, "SHELL " + GoSlice(i.Args));
                return pendingReason;
            case "cmd":
                state.Cmd = CommandLine(i, state);
                state.CmdSet = true;
                if (state.Cmd.Count == 0) { state.Cmd = null; } // CMD [] leaves Cmd out of the config
                state.ArgsEscaped = true;
                AddHistory(state, "CMD " + GoQuoted(state.Cmd ?? []));
                return pendingReason;
            case "entrypoint":
                state.Entrypoint = CommandLine(i, state);
                if (!state.CmdSet) { state.Cmd = null; }
                state.ArgsEscaped = true;
                AddHistory(state, "ENTRYPOINT " + GoQuoted(state.Entrypoint));
                return pendingReason;
            case "healthcheck":
                Healthcheck(i, state);
                return pendingReason;
            case "onbuild":
                {
                    string original = i.Original.Trim();
                    string trigger = original[(original.IndexOf(' ', StringComparison.Ordinal) + 1)..].Trim();
                    int space = trigger.IndexOf(' ', StringComparison.Ordinal);
                    trigger = space < 0 ? trigger.ToUpperInvariant() : trigger[..space].ToUpperInvariant() + trigger[space..];
                    state.OnBuild.Add(trigger); // BuildKit writes no history entry for ONBUILD
                    return pendingReason;
                }
            case "workdir":
                return await WorkdirAsync(stage, state, i, name, stepId, pendingReason, cancellationToken).ConfigureAwait(false);
            case "copy" or "add":
                return await CopyAsync(stage, state, i, name, stepId, pendingReason, cancellationToken).ConfigureAwait(false);
            case "run":
                return await RunAsync(stage, state, i, name, stepId, pendingReason, cancellationToken).ConfigureAwait(false);
            default:
                throw new BuildException($"{_request.DockerfileName}:{i.Line}: unknown instruction: {i.Keyword.ToUpperInvariant()}");
        }
    }

    private static List<string> CommandLine(Instruction i, StageState state)
    {
        if (i.IsJson) { return [.. i.Args]; }
        List<string> shell = [.. state.Shell ?? ["/bin/sh", "-c"]];
        shell.Add(string.Join(' ', i.Args));
        return shell;
    }

    private void Healthcheck(Instruction i, StageState state)
    {
        string kind = i.Args.Count > 0 ? i.Args[0].ToUpperInvariant() : "NONE";
        if (kind == "NONE")
        {
            state.Healthcheck = new HealthConfig { Test = ["NONE"] };
        }
        else
        {
            List<string> test = i.IsJson ? ["CMD", .. i.Args.Skip(1)] : ["CMD-SHELL", string.Join(' ', i.Args.Skip(1))];
            state.Healthcheck = new HealthConfig
            {
                Test = test,
                Interval = Duration(i.Flag("interval")),
                Timeout = Duration(i.Flag("timeout")),
                StartPeriod = Duration(i.Flag("start-period")),
                StartInterval = Duration(i.Flag("start-interval")),
                Retries = i.Flag("retries") is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : 0,
            };
        }
        HealthConfig h = state.Healthcheck;
        AddHistory(state, $"HEALTHCHECK &{{[{string.Join(' ', (h.Test ?? []).Select(t => "\"" + t + "\""))}] \"{GoDuration(h.Interval)}\" \"{GoDuration(h.Timeout)}\" \"{GoDuration(h.StartPeriod)}\" '\\x{h.Retries:x2}'}}");
    }

    /// <summary>A Go duration string ("30s", "1m30s", "500ms") to nanoseconds.</summary>
    internal static long Duration(string? value)
    {
        if (string.IsNullOrEmpty(value)) { return 0; }
        double total = 0;
        int i = 0;
        while (i < value.Length)
        {
            int start = i;
            while (i < value.Length && (char.IsDigit(value[i]) || value[i] == '.')) { i++; }
            double n = double.Parse(value[start..i], CultureInfo.InvariantCulture);
            int unitStart = i;
            while (i < value.Length && char.IsLetter(value[i]) && !(value[i] is 'h' && unitStart != i)) { i++; }
            string unit = value[unitStart..i];
            total += unit switch
            {
                "ns" => n,
                "us" or "µs" => n * 1e3,
                "ms" => n * 1e6,
                "s" => n * 1e9,
                "m" => n * 60e9,
                "h" => n * 3600e9,
                _ => throw new BuildException($"invalid duration '{value}'"),
            };
        }
        return (long)total;
    }

    private static string GoDuration(long nanoseconds)
    {
        if (nanoseconds == 0) { return "0s"; }
        var t = TimeSpan.FromTicks(nanoseconds / 100);
        string s = "";
        if (t.TotalHours >= 1) { s += $"{(int)t.TotalHours}h"; }
        if (t.TotalMinutes >= 1) { s += $"{t.Minutes}m"; }
        double seconds = t.Seconds + t.Milliseconds / 1000.0;
        return s + seconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
    }

    private async Task<string?> WorkdirAsync(StagePlan stage, StageState state, Instruction i, string name, Digest stepId, string? pendingReason,
        CancellationToken cancellationToken)
    {
        string path = Expand(i.Args[0], state);
        string absolute = "/" + CopyPlanner.Clean(path.StartsWith('/') ? path : state.WorkingDir.TrimEnd('/') + "/" + path);
        state.WorkingDir = absolute;
        if (absolute == "/")
        {
            AddHistory(state, "WORKDIR " + absolute);
            return pendingReason;
        }
        string? user = state.User;
        var key = new CacheKeyBuilder().Add("parent", state.Key.ToString()).Add("instruction", "WORKDIR " + absolute).Add("user", user ?? "");
        IReadOnlyList<LayerEntry>? written = null;
        FsTree? plannedOn = null;
        return await RunCachedStepAsync(stage, state, name, stepId, key, pendingReason, async (_, ct) =>
        {
            // Directories WORKDIR creates belong to the current USER, as in BuildKit.
            (int uid, int gid) = string.IsNullOrEmpty(user) ? (0, 0) : await ResolveOwnerAsync(state, user, ct).ConfigureAwait(false);
            FsTree tree = await TreeAsync(state, ct).ConfigureAwait(false);
            string rel = tree.Resolve(CopyPlanner.Clean(absolute));
            var entries = new List<LayerEntry>();
            string[] parts = rel.Split('/', StringSplitOptions.RemoveEmptyEntries);
            for (int k = 0; k < parts.Length; k++)
            {
                string p = string.Join('/', parts[..(k + 1)]);
                FsNode? existing = tree.Get(p);
                if (existing is null)
                {
                    entries.Add(new LayerEntry { Path = p, Type = LayerEntryType.Directory, Mode = (UnixFileMode)0b111_101_101, Uid = uid, Gid = gid, ModificationTime = _now });
                }
                else if (k == parts.Length - 1)
                {
                    // BuildKit's mkdir on an existing directory still makes a layer holding that directory.
                    entries.Add(new LayerEntry { Path = p, Type = existing.Type, Mode = existing.Mode, Uid = existing.Uid, Gid = existing.Gid, ModificationTime = _now });
                }
            }
            (written, plannedOn) = (entries, tree);
            return await WriteLayerAsync(entries, ct).ConfigureAwait(false);
        }, _ => ApplyOrForget(state, written, plannedOn), "WORKDIR " + absolute, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string?> CopyAsync(StagePlan stage, StageState state, Instruction i, string name, Digest stepId, string? pendingReason,
        CancellationToken cancellationToken)
    {
        string keyword = i.Keyword.ToUpperInvariant();
        if (i.Args.Count < 2) { throw new BuildException($"{_request.DockerfileName}:{i.Line}: {keyword} requires at least two arguments"); }
        Dictionary<string, string> env = state.ExpansionEnvironment();
        var words = i.Args.Select(a => a.StartsWith("<<", StringComparison.Ordinal) ? a : _lexer.ProcessWord(a, env)).ToList();
        var heredocs = i.Heredocs.ToDictionary(h => h.Name, h => h.Expand ? _lexer.ProcessWord(h.EffectiveContent, env) : h.EffectiveContent, StringComparer.Ordinal);
        string? chown = i.Flag("chown") is { } c ? _lexer.ProcessWord(c, env) : null;
        CopySpec spec = new()
        {
            Sources = words.Take(words.Count - 1).ToList(),
            Destination = words[^1],
            Chmod = i.Flag("chmod"),
            Excludes = [.. i.FlagValues("exclude")],
            Parents = i.Flag("parents") is "true",
            Heredocs = heredocs,
            Keyword = keyword,
        };
        bool unpack = keyword == "ADD" && i.Flag("unpack") is not "false";
        // --link: an independent layer keyed without the parent (BuildKit keeps the plain copy when --chmod is given).
        bool link = string.Equals(i.Flag("link"), "true", StringComparison.OrdinalIgnoreCase) && spec.Chmod is null;
        (GitRef Ref, bool KeepGitDir)? git = keyword == "ADD" && i.Flag("from") is null ? Git(i, spec.Sources) : null;
        string sources = git is { } g ? $"git {GitRef.Redact(g.Ref.Remote)} subdir={g.Ref.SubDir} keep-git-dir={g.KeepGitDir}" : string.Join(' ', spec.Sources);
        string instruction = $"{keyword} chown={chown} chmod={spec.Chmod} parents={spec.Parents} exclude={string.Join(',', spec.Excludes)} unpack={unpack} " + sources;
        CacheKeyBuilder key;
        if (link)
        {
            key = new CacheKeyBuilder().Add("instruction", $"{instruction} --link -> {LinkDestination(spec.Destination, state.WorkingDir)}");
            if (chown is not null) { spec = spec with { Owner = LinkOwner(chown, i, keyword) }; }
        }
        else
        {
            key = new CacheKeyBuilder().Add("parent", state.Key.ToString()).Add("instruction", $"{instruction} -> {spec.Destination} in {state.WorkingDir}");
        }
        string? resolveChown = link ? null : chown; // a --link owner is numeric, resolved above without reading the stage
        Func<CancellationToken, Task<(SourceTree Tree, string Key)>> openSource;
        if (i.Flag("from") is { } fromRaw)
        {
            // Another stage or image: its chain key covers its whole filesystem, so nothing is unpacked unless the step runs.
            string from = _lexer.ProcessWord(fromRaw, _metaArgs);
            string sourceKey = await SourceKeyAsync(stage, from, cancellationToken).ConfigureAwait(false);
            key.Add("source", sourceKey);
            openSource = ct => SourceFromAsync(stage, from, spec.Sources, ct);
        }
        else
        {
            if (git is { } repository)
            {
                return await AddGitAsync(stage, state, name, stepId, key, pendingReason, spec, resolveChown, link, repository, i.Flag("checksum"),
                    $"{keyword} {string.Join(' ', words)} # buildkit", cancellationToken).ConfigureAwait(false);
            }
            if (keyword == "ADD" && spec.Sources.Any(IsUrl))
            {
                if (spec.Sources.Count != 1) { throw new BuildException($"{_request.DockerfileName}:{i.Line}: ADD with a URL takes exactly one source."); }
                (SourceTree downloaded, string digest) = await DownloadAsync(spec.Sources[0], i.Flag("checksum"), cancellationToken).ConfigureAwait(false);
                key.Add("source", "url " + spec.Sources[0]).Add("file " + spec.Sources[0], digest);
                spec = spec with { Sources = [((UrlTree)downloaded).FileName] };
                unpack = false; // BuildKit never unpacks a downloaded archive
                openSource = _ => Task.FromResult<(SourceTree, string)>((downloaded, "url"));
                return await FinishCopyAsync(stage, state, name, stepId, key, pendingReason, spec, resolveChown, unpack, link, openSource, $"{keyword} {string.Join(' ', words)} # buildkit", cancellationToken).ConfigureAwait(false);
            }
            ContextTree context = _context.Value;
            key.Add("source", "context");
            foreach (KeyComponent file in await CopyPlanner.KeyComponentsAsync(spec, context, cancellationToken).ConfigureAwait(false)) { key.Add(file.Name, file.Value); }
            openSource = _ => Task.FromResult<(SourceTree, string)>((context, "context"));
        }
        return await FinishCopyAsync(stage, state, name, stepId, key, pendingReason, spec, resolveChown, unpack, link, openSource, $"{keyword} {string.Join(' ', words)} # buildkit", cancellationToken).ConfigureAwait(false);
    }

    private static bool IsUrl(string source) => source.StartsWith("http://", StringComparison.Ordinal) || source.StartsWith("https://", StringComparison.Ordinal);

    private async Task<string?> FinishCopyAsync(StagePlan stage, StageState state, string name, Digest stepId, CacheKeyBuilder key, string? pendingReason, CopySpec spec,
        string? chown, bool unpack, bool link, Func<CancellationToken, Task<(SourceTree Tree, string Key)>> openSource, string history, CancellationToken cancellationToken)
    {
        IReadOnlyList<LayerEntry>? written = null;
        FsTree? plannedOn = null;
        Digest parentKey = state.Key;
        // A --link step's own miss reason never comes from earlier steps: they are not part of its key.
        string? next = await RunCachedStepAsync(stage, state, name, stepId, key, link ? null : pendingReason, async (vertex, ct) =>
        {
            SourceTree source = (await openSource(ct).ConfigureAwait(false)).Tree;
            CopySpec owned = chown is null ? spec : spec with { Owner = await ResolveOwnerAsync(state, chown, ct).ConfigureAwait(false) };
            // --link plans on an empty tree, as BuildKit copies onto scratch before merging: nothing of the stage is read,
            // no symlink in the destination is followed, and every parent directory is created afresh.
            FsTree tree = link ? new FsTree() : await TreeAsync(state, ct).ConfigureAwait(false);
            CopyPlan plan = await CopyPlanner.PlanAsync(owned, source, tree, state.WorkingDir, ct).ConfigureAwait(false);
            string destination = owned.Destination.StartsWith('/') ? owned.Destination : state.WorkingDir.TrimEnd('/') + "/" + owned.Destination;
            string destinationPath = owned.Destination.EndsWith('/') ? "\0" : tree.Resolve(CopyPlanner.Clean(destination));
            IReadOnlyList<LayerEntry> entries = unpack ? await ArchiveExpander.ExpandAsync(plan.Entries, destinationPath, _tmp, ct).ConfigureAwait(false) : plan.Entries;
            (written, plannedOn) = (entries, tree);
            return await WriteLayerAsync(entries, ct).ConfigureAwait(false);
        }, _ => ApplyOrForget(state, written, link ? state.Tree : plannedOn), history, cancellationToken).ConfigureAwait(false);
        if (!link) { return next; }
        // Later steps still depend on everything before: the stage's key chains the parent with the link layer's key.
        state.Key = LinkedKey(parentKey, state.Key);
        return next ?? pendingReason;
    }

    /// <summary>After a layer step: keep the stage's tree current when this build planned the entries on it, else drop it (rebuilt on demand).</summary>
    private static void ApplyOrForget(StageState state, IReadOnlyList<LayerEntry>? entries, FsTree? plannedOn)
    {
        if (entries is not null && plannedOn is not null && ReferenceEquals(state.Tree, plannedOn)) { plannedOn.Apply(entries, state.Layers.Count - 1); }
        else { state.Tree = null; }
    }
}
