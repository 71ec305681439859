using System.Diagnostics;
using System.Globalization;
using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// <c>git daemon</c> on 127.0.0.1 serving repositories made here: <c>repo.git</c> (annotated tag v1 on the first
/// commit, lightweight tag v2 and branch main on the second; Dockerfile and Dockerfile.sub at the top so BuildKit can build
/// the repository and its sub/ from a git context) and <c>moving.git</c>, whose main a test moves.
/// </summary>
public sealed class AddGitDaemon : IAsyncLifetime
{
    private readonly TempDirectory _root = new("dbuild-addgit-");
    private Process? _daemon;

    public int Port { get; private set; }

    public string Url(string repository) => $"git://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/{repository}";

    public string Served(string repository) => _root.Combine("srv", repository);

    public async ValueTask InitializeAsync()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Prerequisites.RequireTool("git", "git");
        string work = _root.Combine("work");
        Directory.CreateDirectory(Path.Combine(work, "sub", "deeper"));
        await GitAsync(work, ct, "init", "-q", "-b", "main");
        await File.WriteAllTextAsync(Path.Combine(work, "Dockerfile"), "FROM scratch\nCOPY . /src/\n", ct);
        await File.WriteAllTextAsync(Path.Combine(work, "a.txt"), "first\n", ct);
        await GitAsync(work, ct, "add", ".");
        await GitAsync(work, ct, "commit", "-q", "-m", "first");
        await GitAsync(work, ct, "tag", "-a", "v1", "-m", "version 1");
        await File.WriteAllTextAsync(Path.Combine(work, "a.txt"), "second\n", ct);
        await File.WriteAllTextAsync(Path.Combine(work, "run.sh"), "#!/bin/sh\necho run\n", ct);
        File.SetUnixFileMode(Path.Combine(work, "run.sh"), (UnixFileMode)0b111_101_101);
        File.CreateSymbolicLink(Path.Combine(work, "link.txt"), "a.txt");
        await File.WriteAllTextAsync(Path.Combine(work, "Dockerfile.sub"), "FROM scratch\nCOPY sub/ /sub/\n", ct);
        await File.WriteAllTextAsync(Path.Combine(work, "sub", "b.txt"), "b\n", ct);
        await File.WriteAllTextAsync(Path.Combine(work, "sub", "deeper", "c.txt"), "c\n", ct);
        await GitAsync(work, ct, "add", ".");
        await GitAsync(work, ct, "commit", "-q", "-m", "second");
        await GitAsync(work, ct, "tag", "v2");
        Directory.CreateDirectory(_root.Combine("srv"));
        await GitAsync(_root.Path, ct, "clone", "-q", "--bare", work, Served("repo.git"));
        await GitAsync(_root.Path, ct, "clone", "-q", "--bare", work, Served("moving.git"));

        Port = DistributionRegistry.FreePort();
        var start = new ProcessStartInfo("git")
        {
            ArgumentList = { "daemon", "--export-all", "--reuseaddr", "--listen=127.0.0.1", $"--port={Port.ToString(CultureInfo.InvariantCulture)}",
                $"--base-path={_root.Combine("srv")}", _root.Combine("srv") },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        _daemon = Process.Start(start) ?? throw new InvalidOperationException("Could not start git daemon.");
        _daemon.BeginErrorReadLine();
        _daemon.BeginOutputReadLine();
        for (int attempt = 0; ; attempt++)
        {
            ProcessResult listed = await ProcessRunner.RunAsync("git", ["ls-remote", Url("repo.git")], ct, timeout: TimeSpan.FromSeconds(10));
            if (listed.ExitCode == 0) { break; }
            if (attempt == 50) { listed.EnsureSuccess(); }
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Adds a commit to moving.git's main; returns its sha.</summary>
    public async Task<string> MoveMainAsync(string content, CancellationToken ct)
    {
        string work = _root.Combine($"move-{Guid.NewGuid():N}");
        await GitAsync(_root.Path, ct, "clone", "-q", Served("moving.git"), work);
        await File.WriteAllTextAsync(Path.Combine(work, "a.txt"), content, ct);
        await GitAsync(work, ct, "commit", "-q", "-am", "move");
        await GitAsync(work, ct, "push", "-q", "origin", "main");
        return await RevParseAsync("moving.git", "main", ct);
    }

    /// <summary>Serves a new repository <paramref name="name"/> whose one commit (on main, tagged <paramref name="tag"/>) is the tree in <paramref name="tree"/>.</summary>
    public async Task CreateRepositoryAsync(string name, string tree, string tag, CancellationToken ct)
    {
        await GitAsync(tree, ct, "init", "-q", "-b", "main");
        await GitAsync(tree, ct, "add", "-A");
        await GitAsync(tree, ct, "commit", "-q", "-m", "content");
        await GitAsync(tree, ct, "tag", tag);
        await GitAsync(_root.Path, ct, "clone", "-q", "--bare", tree, Served(name));
        Directory.Delete(Path.Combine(tree, ".git"), recursive: true);
    }

    public async Task<string> RevParseAsync(string repository, string revision, CancellationToken ct) =>
        (await ProcessRunner.RunAsync("git", ["--git-dir", Served(repository), "rev-parse", revision], ct)).EnsureSuccess().StandardOutput.Trim();

    private static async Task GitAsync(string directory, CancellationToken ct, params string[] arguments) =>
        (await ProcessRunner.RunAsync("git", ["-c", "user.name=dbuild", "-c", "user.email=dbuild@example.invalid", "-c", "init.defaultBranch=main", .. arguments], ct,
            workingDirectory: directory)).EnsureSuccess();

    public async ValueTask DisposeAsync()
    {
        if (_daemon is not null)
        {
            if (!_daemon.HasExited) { _daemon.Kill(entireProcessTree: true); }
            await _daemon.WaitForExitAsync();
            _daemon.Dispose();
        }
        _root.Dispose();
    }
}
